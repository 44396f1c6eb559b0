/*
 * console.c - a teletype on the VGA screen, mirrored to COM1.
 *
 * Handles '\n' (new line), '\r' (start of line), '\t' (next multiple of 8)
 * and '\b' (one cell back), wraps at column 80 and scrolls at the bottom.
 * Output is serialised against interrupt handlers by disabling interrupts
 * for each write: a log line from an IRQ must not tear a line in half.
 */
#include "kernel/console.h"
#include "kernel/config.h"
#include "kernel/format.h"
#include "kernel/kstring.h"
#include "kernel/serial.h"
#include "kernel/vga.h"
#include "kernel/x86.h"

static unsigned cur_row, cur_col;
/* Set after a character lands in the last column: the line wraps only when
 * another printable character follows (as VT100 terminals do), so a line
 * of exactly 80 characters followed by '\n' leaves no blank row. */
static bool wrap_pending;
static unsigned top_row;
static uint8_t attr = VGA_DEFAULT_ATTR;

void console_init(void)
{
    vga_init();
    console_clear();
}

void console_clear(void)
{
    for (unsigned r = top_row; r < VGA_ROWS; r++)
        vga_fill_row(r, 0, attr);
    cur_row = top_row;
    cur_col = 0;
    wrap_pending = false;
    vga_set_cursor(cur_row, cur_col);
}

void console_scroll(void)
{
    vga_scroll(top_row, attr);
}

static void newline(void)
{
    wrap_pending = false;
    cur_col = 0;
    if (++cur_row >= VGA_ROWS) {
        console_scroll();
        cur_row = VGA_ROWS - 1;
    }
}

static void vga_putc(char c)
{
    switch (c) {
    case '\n':
        newline();
        break;
    case '\r':
        wrap_pending = false;
        cur_col = 0;
        break;
    case '\t':
        if (wrap_pending)
            newline();
        do
            vga_put(cur_row, cur_col++, ' ', attr);
        while (cur_col % 8 && cur_col < VGA_COLS);
        if (cur_col >= VGA_COLS) {
            cur_col = VGA_COLS - 1;
            wrap_pending = true;
        }
        break;
    case '\b':
        if (wrap_pending)
            wrap_pending = false;
        else if (cur_col > 0)
            cur_col--;
        break;
    default:
        if (wrap_pending)
            newline();
        vga_put(cur_row, cur_col, c, attr);
        if (cur_col + 1 < VGA_COLS)
            cur_col++;
        else
            wrap_pending = true;
    }
}

void console_write_to(unsigned targets, const char *s, size_t n)
{
    uint32_t flags = irq_save();
    if (targets & CONSOLE_TO_VGA) {
        for (size_t i = 0; i < n; i++)
            vga_putc(s[i]);
        vga_set_cursor(cur_row, cur_col);
    }
    if (CONSOLE_MIRROR_SERIAL && (targets & CONSOLE_TO_SERIAL))
        serial_write(s, n);
    irq_restore(flags);
}

void console_write(const char *s, size_t n)
{
    console_write_to(CONSOLE_TO_ALL, s, n);
}

void console_putc(char c)
{
    console_write(&c, 1);
}

void console_puts(const char *s)
{
    console_write(s, strlen(s));
}

/* kvformat hands us one character at a time; batch them so the console
 * takes its lock once per chunk, not once per character. */
struct print_buffer {
    unsigned targets;
    size_t used;
    char data[128];
};

static void print_emit(char c, void *ctx)
{
    struct print_buffer *pb = ctx;
    pb->data[pb->used++] = c;
    if (pb->used == sizeof(pb->data)) {
        console_write_to(pb->targets, pb->data, pb->used);
        pb->used = 0;
    }
}

static int vprint_to(unsigned targets, const char *fmt, va_list ap)
{
    struct print_buffer pb = {.targets = targets, .used = 0};
    int n = kvformat(print_emit, &pb, fmt, ap);
    console_write_to(targets, pb.data, pb.used);
    return n;
}

int kvprintf(const char *fmt, va_list ap)
{
    return vprint_to(CONSOLE_TO_ALL, fmt, ap);
}

int kprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vprint_to(CONSOLE_TO_ALL, fmt, ap);
    va_end(ap);
    return n;
}

int kprintf_to(unsigned targets, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vprint_to(targets, fmt, ap);
    va_end(ap);
    return n;
}

void console_set_attr(uint8_t a)
{
    attr = a;
}

uint8_t console_attr(void)
{
    return attr;
}

/* Where the next character will go (the row below when a wrap is
 * pending; it may be VGA_ROWS, past the bottom, until something scrolls). */
void console_get_cursor(unsigned *row, unsigned *col)
{
    *row = wrap_pending ? cur_row + 1 : cur_row;
    *col = wrap_pending ? 0 : cur_col;
}

void console_set_cursor(unsigned row, unsigned col)
{
    wrap_pending = false;
    cur_row = row < top_row ? top_row : row >= VGA_ROWS ? VGA_ROWS - 1 : row;
    cur_col = col >= VGA_COLS ? VGA_COLS - 1 : col;
    vga_set_cursor(cur_row, cur_col);
}

void console_set_top(unsigned top)
{
    if (top > VGA_ROWS - 2)
        top = VGA_ROWS - 2;
    top_row = top;
    if (cur_row < top_row)
        console_set_cursor(top_row, 0);
}

unsigned console_top(void)
{
    return top_row;
}
