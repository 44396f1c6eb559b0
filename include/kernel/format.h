/*
 * format.h - printf-style formatting, pure (no output device).
 *
 * One formatter serves kprintf (console), ksnprintf (buffers) and the logs.
 * It writes through a callback so that the console can print a line of any
 * length without a buffer.
 *
 * Supported: %d %i %u %x %X %o %c %s %p %% ; flags '-' '0' '+' ' ' '#';
 * width and precision (numbers or '*'); length modifiers hh h l ll z t j.
 * %p prints "0x" and 8 hex digits (the kernel is 32-bit).  %s of NULL
 * prints "(null)".  An unknown conversion is printed as-is ("%q" -> "%q"),
 * never skipped silently.  Floating point is not supported (the kernel is
 * built without SSE/x87 use): %f %e %g print as-is too.
 */
#ifndef KERNEL_FORMAT_H
#define KERNEL_FORMAT_H

#include <stdarg.h>
#include <stddef.h>

#include "kernel/types.h"

typedef void (*format_emit_fn)(char c, void *ctx);

/*
 * kvformat - format fmt with ap, handing each output character to emit.
 * Returns the number of characters emitted.
 */
int kvformat(format_emit_fn emit, void *ctx, const char *fmt, va_list ap);

/*
 * kvsnprintf / ksnprintf - C99 snprintf semantics: at most size-1
 * characters plus a NUL are stored (nothing when size is 0); the return
 * value is the length the full output would have had.
 */
int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int ksnprintf(char *buf, size_t size, const char *fmt, ...) PRINTF_LIKE(3, 4);

/*
 * format_size - write a byte count for people: "512 B", "4 KiB",
 * "127.9 MiB", "3.0 GiB" (one decimal place above KiB when not exact, no
 * floating point).  Returns what ksnprintf returns.
 */
int format_size(char *buf, size_t size, uint64_t bytes);

#endif
