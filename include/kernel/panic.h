/*
 * panic.h - stopping the kernel loudly: panic(), kassert(), the panic screen.
 *
 * The panic screen is red and says what happened (the message, or the
 * exception's name, number and error code), where (EIP, file and line),
 * the registers, and the call chain through the saved frame pointers.  It
 * goes to the screen and to serial, and then the CPU halts.  When the kernel
 * runs its self-tests, a panic also exits QEMU with QEMU_EXIT_PANIC so that
 * a test run never hangs.
 */
#ifndef KERNEL_PANIC_H
#define KERNEL_PANIC_H

#include <stdbool.h>

#include "kernel/types.h"

struct trap_frame;

NORETURN void panic(const char *fmt, ...) PRINTF_LIKE(1, 2);
/* panic_trap - the panic screen for an exception nobody handled. */
NORETURN void panic_trap(const struct trap_frame *f);
/* panic_begin / panic_line / panic_end - a panic screen whose body the
 * caller writes line by line (the fault report).  panic_end halts. */
void panic_begin(const char *why);
void panic_line(const char *fmt, ...) PRINTF_LIKE(1, 2);
NORETURN void panic_end(void);
NORETURN void kassert_fail(const char *expr, const char *file, int line, const char *func);

/* kassert(e) - an invariant: when e is false, panic naming the expression,
 * the file, the line and the function. */
#define kassert(e) ((e) ? (void)0 : kassert_fail(#e, __FILE__, __LINE__, __func__))

/* panic_exit_to_qemu - when set, a panic ends with qemu_debug_exit(). */
void panic_set_qemu_exit(bool on);

#endif
