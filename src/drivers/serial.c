/*
 * serial.c - the COM1 UART: polled output, interrupt-driven input.
 *
 * Registers at 0x3F8 + n (16550 datasheet):
 *   +0 data (DLAB=0) / divisor low (DLAB=1)   +1 IER / divisor high
 *   +2 FIFO control                           +3 line control (DLAB bit 7)
 *   +4 modem control (OUT2 gates the IRQ)     +5 line status
 *   +7 scratch
 */
#include "kernel/serial.h"
#include "kernel/config.h"
#include "kernel/input.h"
#include "kernel/interrupts.h"
#include "kernel/keys.h"
#include "kernel/x86.h"

#define COM1 0x3f8
#define REG_DATA  0
#define REG_IER   1
#define REG_FIFO  2
#define REG_LCR   3
#define REG_MCR   4
#define REG_LSR   5
#define REG_SCRATCH 7
#define LCR_DLAB  0x80
#define LCR_8N1   0x03
#define LSR_DATA_READY 0x01
#define LSR_THR_EMPTY  0x20
#define MCR_DTR_RTS_OUT2 0x0b
#define IER_RX_AVAILABLE 0x01
/* How long to wait for the transmitter before dropping a byte: a missing
 * or stuck UART must not hang the kernel (each inb is ~1 us on hardware). */
#define TX_SPIN_LIMIT 100000

static bool present;
static bool rx_paused;
static struct serial_decoder decoder;

bool serial_init(void)
{
    outb(COM1 + REG_SCRATCH, 0x5a);
    if (inb(COM1 + REG_SCRATCH) != 0x5a)
        return present = false;
    uint16_t divisor = 115200 / SERIAL_BAUD;
    outb(COM1 + REG_IER, 0);
    outb(COM1 + REG_LCR, LCR_DLAB);
    outb(COM1 + REG_DATA, divisor & 0xff);
    outb(COM1 + REG_IER, divisor >> 8);
    outb(COM1 + REG_LCR, LCR_8N1);
    outb(COM1 + REG_FIFO, 0xc7); /* enable, clear both, 14-byte threshold */
    outb(COM1 + REG_MCR, MCR_DTR_RTS_OUT2);
    serial_decoder_init(&decoder);
    return present = true;
}

/*
 * Flow control: a byte is read only when the key queue has room for its
 * event.  When it has none, the receive interrupt is switched off and the
 * bytes wait in the UART (whose sender then waits too: QEMU feeds the FIFO
 * only as it empties); the queue's consumer switches it back on once it
 * has emptied the queue to half.  So a pasted line is never cut short.
 */
static bool serial_irq(struct trap_frame *f)
{
    (void)f;
    while (inb(COM1 + REG_LSR) & LSR_DATA_READY) {
        if (input_free_slots() == 0) {
            outb(COM1 + REG_IER, 0);
            rx_paused = true;
            break;
        }
        struct key_event ev;
        if (serial_decode(&decoder, inb(COM1 + REG_DATA), &ev))
            input_push(&ev);
    }
    return true;
}

/* Called by the input queue, interrupts off, when it has room again.
 * Writing IER with bytes waiting raises the interrupt at once. */
static void serial_resume_input(void)
{
    if (rx_paused) {
        rx_paused = false;
        outb(COM1 + REG_IER, IER_RX_AVAILABLE);
    }
}

void serial_enable_input(void)
{
    if (!present)
        return;
    irq_set_handler(4, serial_irq);
    input_on_space(serial_resume_input);
    outb(COM1 + REG_IER, IER_RX_AVAILABLE);
}

void serial_putc(char c)
{
    if (!present)
        return;
    for (int spin = 0; spin < TX_SPIN_LIMIT; spin++) {
        if (inb(COM1 + REG_LSR) & LSR_THR_EMPTY) {
            outb(COM1 + REG_DATA, (uint8_t)c);
            return;
        }
    }
}

void serial_write(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n')
            serial_putc('\r');
        serial_putc(s[i]);
    }
}
