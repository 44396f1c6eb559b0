/*
 * serial.h - COM1, the 16550 UART at I/O port 0x3F8.
 *
 * Output is polled (a console line must reach the log even with
 * interrupts off, as on the panic screen).  Input arrives on IRQ 4 and is
 * decoded into key events (include/kernel/keys.h), so a line typed on the
 * serial port reaches the shell exactly like one typed on the keyboard.
 */
#ifndef KERNEL_SERIAL_H
#define KERNEL_SERIAL_H

#include <stdbool.h>
#include <stddef.h>

/* serial_init - 115200 8N1, FIFOs on.  Returns false when no UART answers
 * (its scratch register does not hold a value); output is then dropped. */
bool serial_init(void);
/* serial_enable_input - install the IRQ 4 handler (after interrupts_init). */
void serial_enable_input(void);
void serial_putc(char c);
/* serial_write - n bytes, with "\n" sent as "\r\n" for terminals. */
void serial_write(const char *s, size_t n);

#endif
