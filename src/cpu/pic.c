/*
 * pic.c - programming the 8259A pair (master at 0x20, slave at 0xA0).
 *
 * Initialisation is four "ICW" bytes per chip (8259A datasheet):
 *   ICW1 0x11  edge triggered, cascade mode, ICW4 follows
 *   ICW2       vector offset
 *   ICW3       master: slave on line 2 (bit mask 0x04); slave: its id 2
 *   ICW4 0x01  8086 mode
 */
#include "kernel/pic.h"
#include "kernel/x86.h"

#define PIC1_CMD  0x20
#define PIC1_DATA 0x21
#define PIC2_CMD  0xa0
#define PIC2_DATA 0xa1
#define PIC_EOI   0x20
#define OCW3_READ_ISR 0x0b

void pic_init(uint8_t vector_base)
{
    outb(PIC1_CMD, 0x11);
    io_wait();
    outb(PIC2_CMD, 0x11);
    io_wait();
    outb(PIC1_DATA, vector_base);
    io_wait();
    outb(PIC2_DATA, vector_base + 8);
    io_wait();
    outb(PIC1_DATA, 0x04);
    io_wait();
    outb(PIC2_DATA, 0x02);
    io_wait();
    outb(PIC1_DATA, 0x01);
    io_wait();
    outb(PIC2_DATA, 0x01);
    io_wait();
    /* Everything masked but the cascade line; drivers unmask their IRQ. */
    outb(PIC1_DATA, 0xff & ~0x04);
    outb(PIC2_DATA, 0xff);
}

void pic_unmask(unsigned irq)
{
    uint16_t port = irq < 8 ? PIC1_DATA : PIC2_DATA;
    outb(port, inb(port) & ~(1u << (irq & 7)));
}

void pic_mask(unsigned irq)
{
    uint16_t port = irq < 8 ? PIC1_DATA : PIC2_DATA;
    outb(port, inb(port) | (1u << (irq & 7)));
}

void pic_eoi(unsigned irq)
{
    if (irq >= 8)
        outb(PIC2_CMD, PIC_EOI);
    outb(PIC1_CMD, PIC_EOI);
}

bool pic_is_spurious(unsigned irq)
{
    if (irq != 7 && irq != 15)
        return false;
    uint16_t cmd = irq == 7 ? PIC1_CMD : PIC2_CMD;
    outb(cmd, OCW3_READ_ISR);
    if (inb(cmd) & 0x80)
        return false;
    /* A spurious IRQ 15 came through the master's line 2, which did see a
     * real request from the slave: the master still wants its EOI. */
    if (irq == 15)
        outb(PIC1_CMD, PIC_EOI);
    return true;
}
