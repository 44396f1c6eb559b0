/*
 * fault.c - the page-fault handler, the double-fault task and the report
 * both print (see fault.h).
 *
 * Every fault goes the same way:
 *   1. gather what happened into a `struct fault_view` (registers, CR2,
 *      error code, call chain) - from the trap frame, or for a double
 *      fault from the TSS the CPU saved the broken task into;
 *   2. record it in the fault log;
 *   3. if the running shell command raised it from plain code with
 *      interrupts on, print the report on the console and abandon the
 *      command (recover_abort); otherwise print the same report on the
 *      panic screen and stop.
 * A fault while a report is being printed is always a panic: the report
 * code itself is broken.
 */
#include "kernel/fault.h"
#include "kernel/console.h"
#include "kernel/format.h"
#include "kernel/guard.h"
#include "kernel/heap.h"
#include "kernel/interrupts.h"
#include "kernel/kstring.h"
#include "kernel/memmap.h"
#include "kernel/paging.h"
#include "kernel/panic.h"
#include "kernel/pmm.h"
#include "kernel/recover.h"
#include "kernel/stacktrace.h"
#include "kernel/symbols.h"
#include "kernel/timer.h"
#include "kernel/tss.h"
#include "kernel/vga.h"
#include "kernel/x86.h"

/* What a report needs, whichever way the fault arrived. */
struct fault_view {
    unsigned vector;
    uint32_t error_code, cr2, eip, eflags, esp, ebp;
    uint32_t eax, ebx, ecx, edx, esi, edi;
    bool stack_overflow;
    bool fetch; /* an instruction fetch (see infer_fetch) */
};

static struct fault_log log;
static const char *running_command = "";
static bool reporting;

void fault_set_command(const char *name)
{
    running_command = name ? name : "";
}

const struct fault_log *fault_log_global(void)
{
    return &log;
}

/* ---- output: the console, or the panic screen ------------------------------ */

enum tone { TONE_TITLE, TONE_TEXT, TONE_NOTE };
static bool to_panic;

static void PRINTF_LIKE(2, 3) out(enum tone tone, const char *fmt, ...)
{
    char buf[160];
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (to_panic) {
        panic_line("%s", buf);
        return;
    }
    static const uint8_t colours[] = {
        [TONE_TITLE] = 0x4f, /* white on red */
        [TONE_TEXT] = 0x07,  /* light grey on black */
        [TONE_NOTE] = 0x0a,  /* light green on black */
    };
    uint8_t saved = console_attr();
    console_set_attr(colours[tone]);
    kprintf("%s", buf);
    console_set_attr(saved);
    kprintf("\n");
}

/* A long line broken at spaces to fit 80 columns, later lines indented
 * under the first one's text. */
static void out_wrapped(const char *prefix, const char *text)
{
    size_t indent = strlen(prefix), width = 79 - indent, len = strlen(text);
    bool first = true;
    while (len > 0) {
        size_t n = len;
        if (n > width) {
            n = width;
            while (n > 0 && text[n] != ' ')
                n--;
            if (n == 0)
                n = width;
        }
        out(TONE_TEXT, "%s%.*s", first ? prefix : "         ", (int)n, text);
        first = false;
        text += n;
        len -= n;
        while (*text == ' ') {
            text++;
            len--;
        }
    }
}

/* ---- the report ---------------------------------------------------------------- */

static const char *sym(uint32_t addr, char *buf, size_t size)
{
    symbols_format(addr, buf, size);
    return buf;
}

static void describe_walk(const struct fault_view *v)
{
    struct pt_walk w;
    char a[64], b[64];
    paging_walk(v->cr2, &w);
    if (!(w.pde & PTE_PRESENT)) {
        out(TONE_TEXT, "  walk: PDE[%u] = 0x%08x not present: no page table covers "
                       "0x%08x-0x%08x",
            w.pde_index, w.pde, w.pde_index << 22, (w.pde_index << 22) + 0x3fffff);
        return;
    }
    out(TONE_TEXT, "  walk: PDE[%u] = 0x%08x %s", w.pde_index, w.pde,
        pt_flags_str(w.pde, true, a, sizeof(a)));
    if (w.large)
        return;
    out(TONE_TEXT, "        PTE[%u] = 0x%08x %s", w.pte_index, w.pte,
        pt_flags_str(w.pte, false, b, sizeof(b)));
}

/* What lives at the address: the kernel's name for the region, and for a
 * mapped page the frame behind it. */
static void describe_address(uint32_t va)
{
    /* Guard pages are regions too, named for what they protect. */
    const struct vm_region *r = paging_region_of(va);
    if (r)
        out(TONE_TEXT, "  what:  %s, 0x%08x-0x%08x", r->name, r->start, r->last);
    else
        out(TONE_TEXT, "  what:  nothing the kernel has put there (unused virtual space)");
    char heap[112];
    if (kheap_describe(va, heap, sizeof(heap)))
        out_wrapped("  heap:  ", heap);
    paddr_t pa;
    if (!paging_translate(va, &pa)) {
        if (r)
            return; /* a region the kernel keeps unmapped on purpose */
        /* Virtual is not physical: the same number as a physical address
         * may well be RAM, just not mapped here.  Saying so heads off the
         * usual confusion. */
        uint32_t type = memmap_type_at(va);
        if (type && va >= PAGE_SIZE)
            out(TONE_TEXT, "  (physical 0x%08x is %s RAM, but no page maps it at this "
                           "address)",
                va, memmap_type_name(type));
        return;
    }
    {
        struct frame_info fi;
        char owner[48];
        pmm_query(pa, &fi);
        out(TONE_TEXT, "  frame: 0x%08x, %s, tag %s, refs %u%s%s; RAM type: %s", pa & ~0xfffu,
            fi.state == FRAME_ALLOCATED  ? "allocated"
            : fi.state == FRAME_RESERVED ? "reserved"
            : fi.state == FRAME_FREE     ? "free"
                                         : "outside the frame allocator",
            pmm_tag_name(fi.tag), fi.refs, fi.owner ? ", by " : "",
            fi.owner ? (pmm_owner_format(fi.owner, owner, sizeof(owner)), owner) : "",
            memmap_type_name(memmap_type_at(pa)));
    }
}

static void registers(const struct fault_view *v)
{
    out(TONE_TEXT, "  EAX=%08x EBX=%08x ECX=%08x EDX=%08x ESI=%08x EDI=%08x", v->eax, v->ebx,
        v->ecx, v->edx, v->esi, v->edi);
    out(TONE_TEXT, "  EBP=%08x ESP=%08x EFLAGS=%08x CR0=%08x CR3=%08x", v->ebp, v->esp,
        v->eflags, read_cr0(), read_cr3());
}

/* Entry 0 is where the fault happened; the others are return addresses,
 * named by the call they follow (symbols_format_return). */
static const char *trace_name(const struct fault_record *r, unsigned i, char *buf, size_t size)
{
    if (i == 0)
        symbols_format(r->trace[i], buf, size);
    else
        symbols_format_return(r->trace[i], buf, size);
    return buf;
}

static void trace(const struct fault_record *r)
{
    char a[48], b[48];
    for (unsigned i = 0; i < r->depth; i += 2) {
        if (i + 1 < r->depth)
            out(TONE_TEXT, "  #%u %08x %-26s #%u %08x %s", i, r->trace[i],
                trace_name(r, i, a, sizeof(a)), i + 1, r->trace[i + 1],
                trace_name(r, i + 1, b, sizeof(b)));
        else
            out(TONE_TEXT, "  #%u %08x %s", i, r->trace[i], trace_name(r, i, a, sizeof(a)));
    }
}

static bool break_next_report;

void fault_break_next_report(void)
{
    break_next_report = true;
}

static void report(const struct fault_view *v, const struct fault_record *r)
{
    char a[96], b[48];
    if (break_next_report) { /* `crash reportfault`: a bug in this very code */
        break_next_report = false;
        (void)*(volatile uint32_t *)0;
    }
    if (v->stack_overflow) {
        out(TONE_TITLE, " KERNEL STACK OVERFLOW (double fault) in `%s` ", r->command);
        out(TONE_TEXT, "  The stack ran down into its guard page at 0x%08x; the CPU could not",
            v->cr2);
        out(TONE_TEXT, "  push the page fault's frame there, so it switched to the double-fault "
                       "task.");
    } else if (v->vector == VEC_PAGE_FAULT) {
        uint32_t code = v->error_code | (v->fetch ? PF_FETCH : 0);
        out(TONE_TITLE, " PAGE FAULT in `%s`: %s ", r->command, fault_summary(code, a, sizeof(a)));
        out(TONE_TEXT, "  error code 0x%x: %s", v->error_code, fault_decode_error(code, a, sizeof(a)));
        if (v->fetch && !(v->error_code & PF_FETCH))
            out(TONE_TEXT, "  (a fetch: CR2 = EIP. 32-bit paging without NX or SMEP leaves "
                           "bit 4, I/D, at 0)");
    } else {
        out(TONE_TITLE, " %s (%s) in `%s`, error code 0x%x ", exception_name(v->vector),
            exception_mnemonic(v->vector), r->command, v->error_code);
    }
    out(TONE_TEXT, "  CR2=%08x  EIP=%08x %s", v->cr2, v->eip, sym(v->eip, b, sizeof(b)));
    if (v->vector == VEC_PAGE_FAULT || v->stack_overflow) {
        describe_walk(v);
        describe_address(v->cr2);
    }
    registers(v);
    trace(r);
}

/* ---- gathering and deciding ----------------------------------------------------- */

static const struct fault_record *record(const struct fault_view *v, bool fatal)
{
    struct fault_record r = {
        .uptime_ms = (uint32_t)timer_uptime_ms(),
        .vector = (uint8_t)v->vector,
        .outcome = fatal ? FAULT_FATAL : FAULT_RECOVERED,
        .stack_overflow = v->stack_overflow,
        .error_code = v->error_code,
        .cr2 = v->cr2,
        .eip = v->eip,
    };
    r.trace[0] = v->eip;
    unsigned n = 1;
    uint32_t ret;
    /* A jump or call to a bad address faults before the callee pushed
     * EBP: its caller's return address is the word at ESP, not in the
     * EBP chain. */
    if (v->fetch && probe_read32(v->esp, &ret))
        r.trace[n++] = ret;
    r.depth = (uint8_t)(n + stacktrace_collect(v->ebp, r.trace + n, FAULT_TRACE_DEPTH - n));
    kstrlcpy(r.command, running_command, sizeof(r.command));
    return fault_log_add(&log, &r);
}

/* Report, then either give the command up or stop the kernel; refusal
 * (recover_refusal) says why the kernel cannot go on, NULL if it can. */
static void conclude(const struct fault_view *v, const char *refusal, enum recover_reason why)
{
    if (reporting)
        refusal = "it happened while another fault was being reported";
    const struct fault_record *r = record(v, refusal != NULL);
    if (refusal) {
        char title[160];
        ksnprintf(title, sizeof(title), "This fault cannot be survived: %s.", refusal);
        to_panic = true;
        panic_begin(title);
        report(v, r);
        panic_end();
    }
    reporting = true;
    kprintf("\n");
    report(v, r);
    out(TONE_NOTE, "  `%s` was stopped; the kernel goes on (fault #%u, see `faults`).",
        r->command, r->seq);
    reporting = false;
    if (why == RECOVER_STACK_OVERFLOW)
        return; /* the double-fault task resumes the command's task first */
    recover_abort(why);
}

static struct fault_view view_of_frame(const struct trap_frame *f)
{
    return (struct fault_view){
        .vector = f->vector, .error_code = f->error_code, .cr2 = read_cr2(), .eip = f->eip,
        .eflags = f->eflags, .esp = trap_frame_esp(f), .ebp = f->ebp, .eax = f->eax,
        .ebx = f->ebx, .ecx = f->ecx, .edx = f->edx, .esi = f->esi, .edi = f->edi,
    };
}

static bool on_page_fault(struct trap_frame *f)
{
    uint32_t fixup = recover_probe_fixup(f->eip);
    if (fixup) { /* a probe: it reports the failure itself */
        f->eip = fixup;
        return true;
    }
    struct fault_view v = view_of_frame(f);
    /* 32-bit paging reports an instruction fetch in the error code only
     * with SMEP; a fault whose address is the instruction itself (or lies
     * within the few bytes of an instruction that starts on the page
     * before) is one. */
    v.fetch = (f->error_code & PF_FETCH) || v.cr2 == v.eip ||
              (v.cr2 > v.eip && v.cr2 - v.eip < 16 && (v.cr2 & 0xfff) < 16);
    conclude(&v, recover_refusal(f->eflags, interrupt_depth(), 1), RECOVER_FAULT);
    return true; /* not reached */
}

static bool on_other_exception(struct trap_frame *f)
{
    if (!recover_can_abort(f->eflags, interrupt_depth(), 1) || reporting)
        return false; /* the ordinary panic screen */
    struct fault_view v = view_of_frame(f);
    v.cr2 = 0;
    conclude(&v, NULL, RECOVER_FAULT);
    return true;
}

/* Where the command's task resumes after a double fault: on its own stack
 * again, below the recovery point, from where recover_abort unwinds. */
static NORETURN void resume_after_double_fault(void)
{
    clts(); /* every task switch sets CR0.TS ("FPU state may be stale"); no FPU here */
    recover_abort(RECOVER_STACK_OVERFLOW);
}

static void on_double_fault(struct tss *t, uint32_t error_code)
{
    struct fault_view v = {
        .vector = VEC_DOUBLE_FAULT, .error_code = error_code, .cr2 = read_cr2(),
        .eip = t->eip, .eflags = t->eflags, .esp = t->esp, .ebp = t->ebp, .eax = t->eax,
        .ebx = t->ebx, .ecx = t->ecx, .edx = t->edx, .esi = t->esi, .edi = t->edi,
    };
    const struct vm_region *r = paging_region_of(v.cr2);
    v.stack_overflow = r && r->kind == VM_GUARD;
    const char *refusal = recover_refusal(t->eflags, interrupt_depth(), 0);
    if (!v.stack_overflow)
        refusal = "a double fault that is not a stack overflow means the CPU could not deliver "
                  "an exception at all";
    conclude(&v, refusal, RECOVER_STACK_OVERFLOW);
    /* Recoverable: make the broken task continue at a safe place.  Its
     * stack is the one that overflowed; the recovery point lies near its
     * top, so start a little below that point. */
    t->eip = (uint32_t)resume_after_double_fault;
    t->esp = (recover_stack_pointer() - 256) & ~0xfu;
    t->ebp = 0;
    t->eflags = 0x2;
}

void fault_init(void)
{
    static const unsigned recoverable[] = {VEC_DIVIDE, VEC_OVERFLOW, VEC_BOUND,
                                           VEC_INVALID_OPCODE, VEC_DEVICE_NA, VEC_INVALID_TSS,
                                           VEC_SEGMENT_NP, VEC_STACK_FAULT, VEC_GPF,
                                           VEC_X87, VEC_ALIGNMENT, VEC_SIMD};
    for (unsigned i = 0; i < ARRAY_SIZE(recoverable); i++)
        exception_set_handler(recoverable[i], on_other_exception);
    exception_set_handler(VEC_PAGE_FAULT, on_page_fault);

    vaddr_t stack = guard_alloc(DOUBLE_FAULT_STACK_PAGES, TAG_STACK, VM_STACK,
                                "the double-fault stack");
    if (!stack)
        panic("fault: no memory for the double-fault stack");
    tss_init(paging_directory(), stack + DOUBLE_FAULT_STACK_PAGES * PAGE_SIZE, on_double_fault);
}

/* fault_record_what - see fault.h. */
char *fault_record_what(const struct fault_record *r, char *buf, size_t size)
{
    if (r->stack_overflow)
        ksnprintf(buf, size, "stack overflow into guard page");
    else if (r->vector == 14)
        fault_decode_error(r->error_code, buf, size);
    else
        ksnprintf(buf, size, "%s", exception_name(r->vector));
    return buf;
}
