/*
 * pic.h - the two cascaded 8259A programmable interrupt controllers.
 *
 * At power-on they deliver IRQ 0-7 on vectors 8-15, which collide with CPU
 * exceptions, so pic_init() moves IRQ 0-15 to vectors 32-47.
 */
#ifndef KERNEL_PIC_H
#define KERNEL_PIC_H

#include <stdbool.h>
#include <stdint.h>

/* pic_init - remap to vector_base (master) and vector_base + 8 (slave),
 * every line masked except the cascade (IRQ 2). */
void pic_init(uint8_t vector_base);
void pic_unmask(unsigned irq);
void pic_mask(unsigned irq);
/* pic_eoi - acknowledge irq (both chips for IRQ 8-15). */
void pic_eoi(unsigned irq);
/* pic_is_spurious - IRQ 7/15 raised without its in-service bit: a glitch
 * that must not be acknowledged (IRQ 15 still needs the master's EOI, which
 * this function sends). */
bool pic_is_spurious(unsigned irq);

#endif
