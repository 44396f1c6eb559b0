/*
 * tss.c - the two task state segments and the double-fault task gate (see
 * tss.h for why a double fault needs a task of its own).
 */
#include "kernel/tss.h"
#include "kernel/interrupts.h"
#include "kernel/kstring.h"
#include "kernel/x86.h"

static struct tss tss_main;          /* the kernel: saved into on a #DF */
static struct tss tss_double_fault;  /* loaded on a #DF */
static double_fault_fn handler;

void tss_init(uint32_t cr3, uint32_t stack_top, double_fault_fn fn)
{
    handler = fn;
    memset(&tss_main, 0, sizeof(tss_main));
    /* A task switch back loads CR3 from here: it must be the kernel's
     * directory, or the return from the double fault would turn paging
     * off under our feet.  No I/O bitmap: the offset points past the end. */
    tss_main.cr3 = cr3;
    tss_main.iomap_base = sizeof(struct tss);

    memset(&tss_double_fault, 0, sizeof(tss_double_fault));
    tss_double_fault.cr3 = cr3;
    tss_double_fault.eip = (uint32_t)double_fault_task_entry;
    tss_double_fault.eflags = 0x2; /* bit 1 is always set; IF off */
    tss_double_fault.esp = stack_top;
    tss_double_fault.cs = SEL_KERNEL_CODE;
    tss_double_fault.ss = tss_double_fault.ds = tss_double_fault.es = SEL_KERNEL_DATA;
    tss_double_fault.fs = tss_double_fault.gs = SEL_KERNEL_DATA;
    tss_double_fault.iomap_base = sizeof(struct tss);

    gdt_set_tss(SEL_TSS_MAIN, (uint32_t)&tss_main, sizeof(struct tss) - 1);
    gdt_set_tss(SEL_TSS_DOUBLE_FAULT, (uint32_t)&tss_double_fault, sizeof(struct tss) - 1);
    ltr(SEL_TSS_MAIN);
    idt_set_task_gate(VEC_DOUBLE_FAULT, SEL_TSS_DOUBLE_FAULT);
}

void double_fault_task_main(uint32_t error_code)
{
    handler(&tss_main, error_code);
}
