/*
 * idt.c - the Interrupt Descriptor Table.
 *
 * 256 gates; the first 48 point at the stubs of src/cpu/isr_stubs.asm, the
 * rest stay not-present (an `int 0x80` would raise #GP, which panics with
 * a clear name rather than vanishing).  All gates are 32-bit interrupt
 * gates, so the CPU clears IF on entry: handlers never nest.
 *
 *   63            48 47 46 45 44   40 39   32 31          16 15           0
 *  +----------------+--+-----+-------+-------+--------------+--------------+
 *  | handler 31:16  | P| DPL |0 1110 | 0     |  selector    | handler 15:0 |
 *  +----------------+--+-----+-------+-------+--------------+--------------+
 */
#include "kernel/interrupts.h"
#include "kernel/x86.h"

struct idt_gate {
    uint16_t offset_low;
    uint16_t selector;
    uint8_t zero;
    uint8_t type_attr;
    uint16_t offset_high;
} __attribute__((packed));
_Static_assert(sizeof(struct idt_gate) == 8, "an IDT gate is 8 bytes");

#define GATE_INTERRUPT_32 0x8e /* present, DPL 0, 32-bit interrupt gate */

extern const uint32_t isr_stub_table[IRQ_BASE + IRQ_COUNT];

static struct idt_gate idt[256];

#define GATE_TASK 0x85 /* present, DPL 0, task gate */

/* idt_set_task_gate - vector switches to the task whose TSS selector is
 * given (used for the double fault: a fresh stack even when ESP is bad). */
void idt_set_task_gate(unsigned vector, uint16_t tss_selector)
{
    idt[vector] = (struct idt_gate){
        .offset_low = 0,
        .selector = tss_selector,
        .zero = 0,
        .type_attr = GATE_TASK,
        .offset_high = 0,
    };
}

void idt_init(void)
{
    for (unsigned v = 0; v < IRQ_BASE + IRQ_COUNT; v++) {
        uint32_t handler = isr_stub_table[v];
        idt[v] = (struct idt_gate){
            .offset_low = handler & 0xffff,
            .selector = SEL_KERNEL_CODE,
            .zero = 0,
            .type_attr = GATE_INTERRUPT_32,
            .offset_high = handler >> 16,
        };
    }
    struct dtr d = {.limit = sizeof(idt) - 1, .base = (uint32_t)idt};
    lidt(&d);
}
