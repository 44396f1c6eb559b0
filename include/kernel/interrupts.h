/*
 * interrupts.h - the CPU's view of interrupts: GDT, IDT, trap frames.
 *
 * Vectors 0-31 are CPU exceptions, 32-47 the 16 legacy IRQs after the PIC
 * has been remapped (IRQ n arrives as vector 32 + n).  Every vector enters
 * through a NASM stub (src/cpu/isr_stubs.asm) that saves the registers as
 * a struct trap_frame and calls interrupt_dispatch().
 */
#ifndef KERNEL_INTERRUPTS_H
#define KERNEL_INTERRUPTS_H

#include <stdbool.h>
#include <stdint.h>

#define EXCEPTION_COUNT 32
#define IRQ_BASE 32
#define IRQ_COUNT 16

/* Exception vectors the kernel names or handles specially. */
enum {
    VEC_DIVIDE = 0, VEC_DEBUG = 1, VEC_NMI = 2, VEC_BREAKPOINT = 3,
    VEC_OVERFLOW = 4, VEC_BOUND = 5, VEC_INVALID_OPCODE = 6,
    VEC_DEVICE_NA = 7, VEC_DOUBLE_FAULT = 8, VEC_INVALID_TSS = 10,
    VEC_SEGMENT_NP = 11, VEC_STACK_FAULT = 12, VEC_GPF = 13,
    VEC_PAGE_FAULT = 14, VEC_X87 = 16, VEC_ALIGNMENT = 17,
    VEC_MACHINE_CHECK = 18, VEC_SIMD = 19,
};

/* Segment selectors of the flat GDT (src/cpu/gdt.c). */
#define SEL_KERNEL_CODE 0x08
#define SEL_KERNEL_DATA 0x10
#define SEL_USER_CODE   0x1b
#define SEL_USER_DATA   0x23
#define SEL_TSS_MAIN    0x28 /* the task everything runs in */
#define SEL_TSS_DOUBLE_FAULT 0x30 /* the double-fault handler's own task */

void gdt_set_tss(uint16_t selector, uint32_t base, uint32_t limit);
void idt_set_task_gate(unsigned vector, uint16_t tss_selector);

/*
 * What the stub leaves on the stack, lowest address first.  The CPU pushed
 * eip/cs/eflags (and an error code for some exceptions; the stub pushes a
 * 0 for the others so every frame has the same shape).  user_esp/user_ss
 * exist only for traps from ring 3; for a kernel trap the interrupted
 * code's ESP is the address of user_esp (see trap_frame_esp).
 */
struct trap_frame {
    uint32_t gs, fs, es, ds;
    uint32_t edi, esi, ebp, esp_at_pusha, ebx, edx, ecx, eax;
    uint32_t vector;
    uint32_t error_code;
    uint32_t eip, cs, eflags;
    uint32_t user_esp, user_ss;
};
_Static_assert(sizeof(struct trap_frame) == 19 * 4, "trap frame matches isr_stubs.asm");

/* The stack pointer of the interrupted code (kernel traps). */
static inline uint32_t trap_frame_esp(const struct trap_frame *f)
{
    return (uint32_t)&f->user_esp;
}

/*
 * A handler returns true when it dealt with the event and the interrupted
 * code may resume (possibly at a changed f->eip); an exception handler that
 * returns false sends the kernel to the panic screen.
 */
typedef bool (*trap_handler_fn)(struct trap_frame *f);

/* interrupts_init - GDT, IDT with all 48 stubs, PIC remapped and masked.
 * Interrupts stay disabled; call sti() when the drivers are ready. */
void interrupts_init(void);

/* exception_set_handler - route CPU exception `vector` (0..31) to h; NULL
 * restores the default (panic). */
void exception_set_handler(unsigned vector, trap_handler_fn h);

/* irq_set_handler - route IRQ line `irq` (0..15) to h and unmask it. */
void irq_set_handler(unsigned irq, trap_handler_fn h);

/* exception_name - "Page Fault", "General Protection Fault", ... */
const char *exception_name(unsigned vector);

/* exception_mnemonic - "#PF", "#GP", ... ("#??" for reserved vectors). */
const char *exception_mnemonic(unsigned vector);

/* Counters for the curious (and for tests). */
uint64_t irq_count(unsigned irq);
uint32_t irq_spurious_count(void);

/*
 * trap_expect - the next exception `vector` raised by kernel code is
 * expected (a self-test provoking it on purpose): instead of panicking,
 * the handler records it, moves EIP past an instruction of `skip` bytes
 * and resumes.  trap_expect_hits() returns how many expected traps fired
 * and clears the expectation.
 */
void trap_expect(unsigned vector, unsigned skip);
unsigned trap_expect_hits(void);

/* Called from the assembly stubs only. */
void interrupt_dispatch(struct trap_frame *f);

/* interrupt_depth - interrupt_dispatch calls now running (0 in plain code,
 * 1 in a handler of an exception raised by plain code, 2 for an exception
 * inside an IRQ handler, ...).  interrupts_unwind - set it back to 0, for
 * recover_abort, which leaves the handlers without returning. */
unsigned interrupt_depth(void);
void interrupts_unwind(void);

#endif
