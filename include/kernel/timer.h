/*
 * timer.h - the PIT (8253/8254) channel 0 as the kernel's clock.
 *
 * It interrupts PIT_HZ times a second (config.h); uptime is counted in
 * those ticks.  Reading is lock-free: a 64-bit counter is read twice until
 * both reads agree, since the IRQ may update it between the two halves.
 */
#ifndef KERNEL_TIMER_H
#define KERNEL_TIMER_H

#include <stdint.h>

/* timer_init - program channel 0 and install the IRQ 0 handler. */
void timer_init(void);
uint64_t timer_ticks(void);
uint64_t timer_uptime_ms(void);
/* timer_sleep_ms - halt until at least ms milliseconds pass (interrupts on). */
void timer_sleep_ms(uint32_t ms);
/* timer_every - run fn inside the tick interrupt every `ms` milliseconds
 * (rounded to ticks; one slot: a new call replaces the old; NULL stops).
 * fn runs with interrupts off and must be short. */
void timer_every(void (*fn)(void), uint32_t ms);
/* timer_call_once - run fn once, inside the next tick's interrupt handler
 * (for showing what a fault in an interrupt handler does). */
void timer_call_once(void (*fn)(void));

#endif
