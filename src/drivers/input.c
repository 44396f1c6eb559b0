/*
 * input.c - the key-event ring shared by the keyboard and serial drivers.
 *
 * Single producer side (IRQ handlers, which never nest: all gates are
 * interrupt gates) and a single consumer (the kernel's main loop), so the
 * consumer only needs interrupts off around the index update.
 */
#include "kernel/input.h"
#include "kernel/x86.h"

static struct key_event queue[INPUT_QUEUE_SIZE];
static volatile uint32_t head; /* next slot to write */
static volatile uint32_t tail; /* next slot to read */
static uint32_t dropped;
static void (*space_hook)(void);

static uint32_t used_slots(void)
{
    return (head + INPUT_QUEUE_SIZE - tail) % INPUT_QUEUE_SIZE;
}

void input_push(const struct key_event *ev)
{
    uint32_t next = (head + 1) % INPUT_QUEUE_SIZE;
    if (next == tail) {
        dropped++;
        return;
    }
    queue[head] = *ev;
    head = next;
}

bool input_poll(struct key_event *out)
{
    uint32_t flags = irq_save();
    bool have = head != tail;
    if (have) {
        *out = queue[tail];
        tail = (tail + 1) % INPUT_QUEUE_SIZE;
        if (space_hook && used_slots() <= INPUT_QUEUE_SIZE / 2)
            space_hook();
    }
    irq_restore(flags);
    return have;
}

struct key_event input_wait(void)
{
    struct key_event ev;
    for (;;) {
        cli();
        if (input_poll(&ev)) {
            sti();
            return ev;
        }
        /* sti; hlt is atomic: an IRQ that arrives now wakes the hlt. */
        sti_hlt();
    }
}

uint32_t input_dropped(void)
{
    return dropped;
}

uint32_t input_free_slots(void)
{
    return INPUT_QUEUE_SIZE - 1 - used_slots();
}

void input_on_space(void (*fn)(void))
{
    space_hook = fn;
}
