/*
 * console.h - the text console: the VGA screen plus its serial mirror.
 *
 * Everything printed with kprintf appears on screen and, line by line, on
 * COM1, so a test or a teacher can capture it.  The console owns the text
 * cursor; the shell's line editor positions it while a line is edited.
 * Rows above `top` (console_set_top) belong to someone else (the live
 * mini-map of a later issue) and are never scrolled or written.
 */
#ifndef KERNEL_CONSOLE_H
#define KERNEL_CONSOLE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/types.h"

/* Where output goes: either or both. */
#define CONSOLE_TO_VGA    0x1
#define CONSOLE_TO_SERIAL 0x2
#define CONSOLE_TO_ALL    0x3

/* console_init - clear the screen (BIOS and GRUB text must not remain). */
void console_init(void);
void console_clear(void);

void console_putc(char c);
void console_write(const char *s, size_t n);
void console_puts(const char *s);
/* console_write_to - like console_write, to CONSOLE_TO_* targets only. */
void console_write_to(unsigned targets, const char *s, size_t n);

int kprintf(const char *fmt, ...) PRINTF_LIKE(1, 2);
int kvprintf(const char *fmt, va_list ap);
/* kprintf_to - kprintf to CONSOLE_TO_* targets only. */
int kprintf_to(unsigned targets, const char *fmt, ...) PRINTF_LIKE(2, 3);

/* The colour of what is printed next (vga_attr(fg, bg)). */
void console_set_attr(uint8_t attr);
uint8_t console_attr(void);

void console_get_cursor(unsigned *row, unsigned *col);
void console_set_cursor(unsigned row, unsigned col);
/* console_scroll - scroll the console rows up one line. */
void console_scroll(void);
/* console_set_top - first row the console may use (0..VGA_ROWS-2). */
void console_set_top(unsigned top);
unsigned console_top(void);

#endif
