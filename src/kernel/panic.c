/*
 * panic.c - the red screen: what went wrong, where, and the call chain.
 *
 * It draws straight into VGA memory and writes straight to the UART: the
 * console may be what broke.  A panic inside a panic just halts.
 */
#include "kernel/panic.h"
#include "kernel/config.h"
#include "kernel/format.h"
#include "kernel/interrupts.h"
#include "kernel/kstring.h"
#include "kernel/serial.h"
#include "kernel/stacktrace.h"
#include "kernel/symbols.h"
#include "kernel/timer.h"
#include "kernel/vga.h"
#include "kernel/x86.h"

#define PANIC_ATTR  vga_attr(VGA_WHITE, VGA_RED)
#define TITLE_ATTR  vga_attr(VGA_RED, VGA_WHITE)
#define DIM_ATTR    vga_attr(VGA_LIGHT_GREY, VGA_RED)

static bool in_panic;
static bool exit_to_qemu;
static unsigned row;

void panic_set_qemu_exit(bool on)
{
    exit_to_qemu = on;
}

/* One line of the panic screen: to VGA (wrapped at 80 columns, so a long
 * assertion keeps its line number on screen) and to serial. */
static void PRINTF_LIKE(2, 3) line(uint8_t attr, const char *fmt, ...)
{
    char buf[200];
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    size_t len = strlen(buf), at = 0;
    do {
        if (row >= VGA_ROWS)
            break;
        vga_fill_row(row, 0, attr);
        for (unsigned c = 0; c < VGA_COLS && at < len; c++)
            vga_put(row, c, buf[at++], attr);
        row++;
    } while (at < len);
    serial_write(buf, len);
    serial_write("\n", 1);
}

static void blank(void)
{
    line(PANIC_ATTR, "%s", "");
}

static void begin(void)
{
    cli();
    if (in_panic)
        cpu_halt_forever();
    in_panic = true;
    vga_clear(PANIC_ATTR);
    vga_set_cursor(VGA_ROWS, 0); /* off screen: hides it */
    row = 0;
    serial_write("\n", 1);
    line(TITLE_ATTR, " KERNEL PANIC %*s", 65, "Kernel-V has stopped ");
}

/* The call chain: the faulting EIP first (for a trap; 0 for a panic call,
 * whose own frame already holds its caller), then the EBP chain, each with
 * the function it lies in.  The chain holds return addresses, which are
 * named by the call before them (symbols_format_return). */
static void trace_from(uint32_t eip, uint32_t ebp)
{
    uint32_t frames[PANIC_TRACE_DEPTH];
    size_t n = stacktrace_collect(ebp, frames, ARRAY_SIZE(frames));
    unsigned k = 0;
    char name[64];
    line(PANIC_ATTR, " Stack trace (most recent call first):");
    if (eip) {
        symbols_format(eip, name, sizeof(name));
        line(PANIC_ATTR, "   #%u  0x%08x  %s", k++, eip, name);
    }
    for (size_t i = 0; i < n; i++) {
        symbols_format_return(frames[i], name, sizeof(name));
        line(PANIC_ATTR, "   #%u  0x%08x  %s", k++, frames[i], name);
    }
}

static NORETURN void finish(void)
{
    uint64_t ms = timer_uptime_ms();
    row = row < VGA_ROWS - 2 ? VGA_ROWS - 2 : row;
    line(DIM_ATTR, " Uptime %u.%03u s. The CPU is halted; restart the machine to go on.",
         (unsigned)(ms / 1000), (unsigned)(ms % 1000));
    if (exit_to_qemu)
        qemu_debug_exit(QEMU_EXIT_PANIC);
    cpu_halt_forever();
}

static void control_registers(void)
{
    line(PANIC_ATTR, " CR0=%08x  CR2=%08x  CR3=%08x  CR4=%08x", read_cr0(), read_cr2(),
         read_cr3(), read_cr4());
}

void panic_trap(const struct trap_frame *f)
{
    begin();
    blank();
    line(PANIC_ATTR, " Unhandled exception %u: %s (%s)", f->vector, exception_name(f->vector),
         exception_mnemonic(f->vector));
    line(PANIC_ATTR, " at EIP 0x%08x   error code 0x%08x", f->eip, f->error_code);
    blank();
    bool from_user = (f->cs & 3) != 0;
    uint32_t esp = from_user ? f->user_esp : trap_frame_esp(f);
    uint32_t ss = from_user ? f->user_ss : read_ss();
    line(PANIC_ATTR, " EAX=%08x  EBX=%08x  ECX=%08x  EDX=%08x", f->eax, f->ebx, f->ecx, f->edx);
    line(PANIC_ATTR, " ESI=%08x  EDI=%08x  EBP=%08x  ESP=%08x", f->esi, f->edi, f->ebp, esp);
    line(PANIC_ATTR, " EIP=%08x  EFLAGS=%08x  CS=%04x  SS=%04x", f->eip, f->eflags,
         f->cs & 0xffff, ss & 0xffff);
    line(PANIC_ATTR, " DS=%04x  ES=%04x  FS=%04x  GS=%04x", f->ds & 0xffff, f->es & 0xffff,
         f->fs & 0xffff, f->gs & 0xffff);
    control_registers();
    blank();
    trace_from(f->eip, f->ebp);
    finish();
}

/* The panic screen for a report someone else composes (the fault
 * handler's): a title, then one panic_line per line, then panic_end. */
void panic_begin(const char *why)
{
    begin();
    blank();
    line(PANIC_ATTR, " %s", why);
    blank();
}

void panic_line(const char *fmt, ...)
{
    char buf[200];
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    line(PANIC_ATTR, "%s", buf);
}

void panic_end(void)
{
    finish();
}

static NORETURN void panic_message(const char *msg, uint32_t ebp)
{
    panic_begin(msg);
    control_registers();
    blank();
    trace_from(0, ebp);
    finish();
}

void panic(const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    panic_message(msg, read_ebp());
}

void kassert_fail(const char *expr, const char *file, int line_no, const char *func)
{
    char msg[200];
    ksnprintf(msg, sizeof(msg), "assertion failed: %s  in %s() at %s:%d", expr, func, file,
              line_no);
    panic_message(msg, read_ebp());
}
