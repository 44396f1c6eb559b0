/*
 * keyboard.c - PS/2 keyboard driver glue: port 0x60 bytes to key events.
 */
#include "kernel/keyboard.h"
#include "kernel/input.h"
#include "kernel/interrupts.h"
#include "kernel/keys.h"
#include "kernel/x86.h"

#define KBD_DATA   0x60
#define KBD_STATUS 0x64
#define KBD_CMD    0x64
#define STATUS_OUTPUT_FULL 0x01
#define STATUS_INPUT_FULL  0x02
#define CMD_PULSE_RESET    0xfe

static struct kbd_decoder decoder;

static bool keyboard_irq(struct trap_frame *f)
{
    (void)f;
    struct key_event ev;
    uint8_t scancode = inb(KBD_DATA);
    if (kbd_decode(&decoder, scancode, &ev))
        input_push(&ev);
    return true;
}

void keyboard_init(void)
{
    kbd_decoder_init(&decoder);
    /* Bytes left from the boot loader's typing would decode as garbage. */
    for (int i = 0; i < 64 && (inb(KBD_STATUS) & STATUS_OUTPUT_FULL); i++)
        inb(KBD_DATA);
    irq_set_handler(1, keyboard_irq);
}

void keyboard_reset_cpu(void)
{
    for (int i = 0; i < 100000 && (inb(KBD_STATUS) & STATUS_INPUT_FULL); i++)
        ;
    outb(KBD_CMD, CMD_PULSE_RESET);
}
