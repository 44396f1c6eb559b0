/*
 * input.h - one queue of key events from every input device.
 *
 * The keyboard and serial interrupt handlers push; the shell (and later
 * the visualizer) pops.  When the queue is full new events are dropped and
 * counted, never written over unread ones.
 */
#ifndef KERNEL_INPUT_H
#define KERNEL_INPUT_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/keys.h"

#define INPUT_QUEUE_SIZE 128

/* input_push - called with interrupts off (from an IRQ handler). */
void input_push(const struct key_event *ev);
/* input_poll - take the oldest event if there is one. */
bool input_poll(struct key_event *out);
/* input_wait - halt until an event arrives, then take it. */
struct key_event input_wait(void);
/* input_dropped - events lost to a full queue since boot. */
uint32_t input_dropped(void);

/* input_free_slots - events the queue can still take (for a producer that
 * can wait, like the UART, whose FIFO holds bytes until there is room). */
uint32_t input_free_slots(void);

/* input_on_space - fn is called (interrupts off) whenever the consumer has
 * emptied the queue to half or less, so a paused producer can resume. */
void input_on_space(void (*fn)(void));

#endif
