/*
 * tss.h - task state segments: the one the kernel runs in, and the
 * double-fault task.
 *
 * Kernel-V does not switch tasks.  It needs two TSSs only for the double
 * fault: when the kernel stack overflows into its guard page, the CPU
 * cannot push the page fault's frame (the stack is the problem), which is
 * a double fault; an interrupt gate would push onto the same bad stack and
 * the CPU would reset (a triple fault).  A task gate instead makes the CPU
 * save every register of the running task in its TSS and load the
 * double-fault task's, stack included, from another.  The handler then
 * reads what the broken task was doing from `tss_main`, may rewrite where
 * it resumes, and returns with iret, which switches back.
 */
#ifndef KERNEL_TSS_H
#define KERNEL_TSS_H

#include <stdint.h>

/* The 32-bit TSS (Intel SDM vol. 3, 8.2.1). */
struct tss {
    uint16_t link, reserved0;
    uint32_t esp0;
    uint16_t ss0, reserved1;
    uint32_t esp1;
    uint16_t ss1, reserved2;
    uint32_t esp2;
    uint16_t ss2, reserved3;
    uint32_t cr3, eip, eflags, eax, ecx, edx, ebx, esp, ebp, esi, edi;
    uint16_t es, reserved4, cs, reserved5, ss, reserved6, ds, reserved7;
    uint16_t fs, reserved8, gs, reserved9, ldt, reserved10;
    uint16_t trap, iomap_base;
} __attribute__((packed));
_Static_assert(sizeof(struct tss) == 104, "the 32-bit TSS is 104 bytes");

/* What the double-fault task calls, with the interrupted task's saved
 * state (registers as they were when the fault could not be delivered).
 * It either panics or changes interrupted->eip/esp/ebp/eflags so that the
 * task resumes somewhere safe. */
typedef void (*double_fault_fn)(struct tss *interrupted, uint32_t error_code);

/*
 * tss_init - load the main TSS (ltr) and route vector 8 through a task
 * gate to a task that runs handler on the stack [stack_top - n, stack_top)
 * with page directory cr3.  Until this runs, a double fault goes through
 * the ordinary interrupt gate (and a stack overflow resets the machine).
 */
void tss_init(uint32_t cr3, uint32_t stack_top, double_fault_fn handler);

/* The double-fault task's entry (src/cpu/task_entry.asm) and the C
 * function it calls. */
void double_fault_task_entry(void);
void double_fault_task_main(uint32_t error_code);

#endif
