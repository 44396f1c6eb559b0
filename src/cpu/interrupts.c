/*
 * interrupts.c - where every interrupt and exception lands.
 *
 * interrupt_dispatch() gets the trap frame from the assembly stubs and
 * decides: a CPU exception goes to its registered handler (or, with none,
 * or when the handler gives up, to the panic screen); an IRQ goes to its
 * driver's handler and is acknowledged at the PIC.  Spurious IRQ 7/15 are
 * counted and otherwise ignored, as the 8259A datasheet advises.
 */
#include "kernel/interrupts.h"
#include "kernel/panic.h"
#include "kernel/pic.h"

void gdt_init(void);
void idt_init(void);

static trap_handler_fn exception_handlers[EXCEPTION_COUNT];
static trap_handler_fn irq_handlers[IRQ_COUNT];
static uint64_t irq_counts[IRQ_COUNT];
static uint32_t spurious_irqs;

static struct {
    unsigned vector;
    unsigned skip;
    unsigned hits;
    bool armed;
} expected_trap;

static const struct {
    const char *name;
    const char *mnemonic;
} exceptions[EXCEPTION_COUNT] = {
    [0] = {"Divide Error", "#DE"},
    [1] = {"Debug", "#DB"},
    [2] = {"Non-Maskable Interrupt", "NMI"},
    [3] = {"Breakpoint", "#BP"},
    [4] = {"Overflow", "#OF"},
    [5] = {"BOUND Range Exceeded", "#BR"},
    [6] = {"Invalid Opcode", "#UD"},
    [7] = {"Device Not Available", "#NM"},
    [8] = {"Double Fault", "#DF"},
    [9] = {"Coprocessor Segment Overrun", "#MF"},
    [10] = {"Invalid TSS", "#TS"},
    [11] = {"Segment Not Present", "#NP"},
    [12] = {"Stack-Segment Fault", "#SS"},
    [13] = {"General Protection Fault", "#GP"},
    [14] = {"Page Fault", "#PF"},
    [16] = {"x87 Floating-Point Error", "#MF"},
    [17] = {"Alignment Check", "#AC"},
    [18] = {"Machine Check", "#MC"},
    [19] = {"SIMD Floating-Point Exception", "#XM"},
    [20] = {"Virtualization Exception", "#VE"},
    [21] = {"Control Protection Exception", "#CP"},
    [28] = {"Hypervisor Injection Exception", "#HV"},
    [29] = {"VMM Communication Exception", "#VC"},
    [30] = {"Security Exception", "#SX"},
};

const char *exception_name(unsigned vector)
{
    if (vector < EXCEPTION_COUNT && exceptions[vector].name)
        return exceptions[vector].name;
    return "Reserved Exception";
}

const char *exception_mnemonic(unsigned vector)
{
    if (vector < EXCEPTION_COUNT && exceptions[vector].mnemonic)
        return exceptions[vector].mnemonic;
    return "#??";
}

void interrupts_init(void)
{
    gdt_init();
    idt_init();
    pic_init(IRQ_BASE);
}

void exception_set_handler(unsigned vector, trap_handler_fn h)
{
    kassert(vector < EXCEPTION_COUNT);
    exception_handlers[vector] = h;
}

void irq_set_handler(unsigned irq, trap_handler_fn h)
{
    kassert(irq < IRQ_COUNT);
    irq_handlers[irq] = h;
    if (h)
        pic_unmask(irq);
    else
        pic_mask(irq);
}

uint64_t irq_count(unsigned irq)
{
    return irq < IRQ_COUNT ? irq_counts[irq] : 0;
}

uint32_t irq_spurious_count(void)
{
    return spurious_irqs;
}

void trap_expect(unsigned vector, unsigned skip)
{
    expected_trap.vector = vector;
    expected_trap.skip = skip;
    expected_trap.hits = 0;
    expected_trap.armed = true;
}

unsigned trap_expect_hits(void)
{
    unsigned hits = expected_trap.hits;
    expected_trap.armed = false;
    expected_trap.hits = 0;
    return hits;
}

static void handle_exception(struct trap_frame *f)
{
    if (expected_trap.armed && f->vector == expected_trap.vector) {
        expected_trap.armed = false;
        expected_trap.hits++;
        f->eip += expected_trap.skip;
        return;
    }
    trap_handler_fn h = exception_handlers[f->vector];
    if (h && h(f))
        return;
    panic_trap(f);
}

static void handle_irq(struct trap_frame *f)
{
    unsigned irq = f->vector - IRQ_BASE;
    if (pic_is_spurious(irq)) {
        spurious_irqs++;
        return;
    }
    irq_counts[irq]++;
    if (irq_handlers[irq])
        irq_handlers[irq](f);
    pic_eoi(irq);
}

/* How many interrupt_dispatch calls are running (an exception inside an
 * IRQ handler makes 2).  A fault handler uses it to tell a fault in plain
 * code (depth 1) from one inside a handler. */
static unsigned depth;

unsigned interrupt_depth(void)
{
    return depth;
}

void interrupts_unwind(void)
{
    depth = 0;
}

void interrupt_dispatch(struct trap_frame *f)
{
    depth++;
    if (f->vector < EXCEPTION_COUNT)
        handle_exception(f);
    else if (f->vector < IRQ_BASE + IRQ_COUNT)
        handle_irq(f);
    else
        panic("interrupt on vector %u, which has no stub", f->vector);
    depth--;
}
