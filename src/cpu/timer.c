/*
 * timer.c - PIT channel 0 ticking at PIT_HZ: the kernel's uptime.
 *
 * The PIT counts down from a divisor at 1.193182 MHz and raises IRQ 0 each
 * time it reaches zero.  Mode 3 (square wave) with divisor 1193182 / PIT_HZ
 * (rounded) gives PIT_HZ interrupts a second; at 100 Hz the rounding error
 * is 15 ppm.
 */
#include "kernel/timer.h"
#include "kernel/config.h"
#include "kernel/interrupts.h"
#include "kernel/x86.h"

#define PIT_INPUT_HZ 1193182u
#define PIT_CH0_DATA 0x40
#define PIT_COMMAND  0x43
#define PIT_CH0_LOBYTE_HIBYTE_MODE3 0x36

_Static_assert(PIT_HZ >= 19 && PIT_HZ <= 10000, "PIT divisor must fit in 16 bits");

static volatile uint64_t ticks;

static void (*volatile once)(void);
static void (*volatile every)(void);
static volatile uint32_t every_ticks;

static bool timer_irq(struct trap_frame *f)
{
    (void)f;
    ticks++;
    void (*fn)(void) = once;
    if (fn) {
        once = 0;
        fn();
    }
    fn = every;
    if (fn && every_ticks && ticks % every_ticks == 0)
        fn();
    return true;
}

void timer_every(void (*fn)(void), uint32_t ms)
{
    uint32_t n = ms * PIT_HZ / 1000;
    uint32_t flags = irq_save();
    every_ticks = n ? n : 1;
    every = fn;
    irq_restore(flags);
}

void timer_call_once(void (*fn)(void))
{
    once = fn;
}

void timer_init(void)
{
    uint32_t divisor = (PIT_INPUT_HZ + PIT_HZ / 2) / PIT_HZ;
    outb(PIT_COMMAND, PIT_CH0_LOBYTE_HIBYTE_MODE3);
    outb(PIT_CH0_DATA, divisor & 0xff);
    outb(PIT_CH0_DATA, divisor >> 8);
    irq_set_handler(0, timer_irq);
}

uint64_t timer_ticks(void)
{
    uint64_t a, b;
    do {
        a = ticks;
        b = ticks;
    } while (a != b);
    return a;
}

uint64_t timer_uptime_ms(void)
{
    return timer_ticks() * 1000u / PIT_HZ;
}

void timer_sleep_ms(uint32_t ms)
{
    uint64_t until = timer_ticks() + ((uint64_t)ms * PIT_HZ + 999) / 1000;
    while (timer_ticks() < until)
        sti_hlt();
}
