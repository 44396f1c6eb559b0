/*
 * screen.c - the visualizer's off-screen canvas and its flush to VGA.
 *
 * Views draw a whole frame into `canvas` every time; `shown` remembers what
 * the VGA buffer holds.  viz_flush writes only the cells where the two
 * differ: a live view that redraws four times a second touches the screen
 * only where memory changed, so it never flickers and costs little.
 *
 * The shell's screen (every cell and the cursor) is saved when a view
 * opens and put back when it closes.
 */
#include <stdarg.h>

#include "kernel/console.h"
#include "kernel/format.h"
#include "kernel/vga.h"
#include "kernel/viz.h"

static uint16_t canvas[VGA_ROWS][VGA_COLS];
static uint16_t shown[VGA_ROWS][VGA_COLS];
static bool shown_valid;

static uint16_t saved[VGA_ROWS][VGA_COLS];
static unsigned saved_row, saved_col;

static inline uint16_t cell(uint8_t ch, uint8_t attr)
{
    return (uint16_t)(attr << 8 | ch);
}

void viz_put(unsigned row, unsigned col, uint8_t ch, uint8_t attr)
{
    if (row < VGA_ROWS && col < VGA_COLS)
        canvas[row][col] = cell(ch, attr);
}

uint16_t viz_canvas_get(unsigned row, unsigned col)
{
    return row < VGA_ROWS && col < VGA_COLS ? canvas[row][col] : 0;
}

unsigned viz_text(unsigned row, unsigned col, uint8_t attr, const char *s)
{
    for (; *s && col < VGA_COLS; s++, col++)
        viz_put(row, col, (uint8_t)*s, attr);
    return col;
}

unsigned viz_printf(unsigned row, unsigned col, uint8_t attr, const char *fmt, ...)
{
    char buf[VGA_COLS + 1];
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    return viz_text(row, col, attr, buf);
}

void viz_fill(unsigned row, unsigned col, unsigned n, uint8_t ch, uint8_t attr)
{
    for (unsigned i = 0; i < n; i++)
        viz_put(row, col + i, ch, attr);
}

void viz_box(unsigned top, unsigned left, unsigned bottom, unsigned right, uint8_t attr)
{
    if (bottom <= top || right <= left)
        return;
    viz_fill(top, left + 1, right - left - 1, VIZ_HLINE, attr);
    viz_fill(bottom, left + 1, right - left - 1, VIZ_HLINE, attr);
    for (unsigned r = top + 1; r < bottom; r++) {
        viz_put(r, left, VIZ_VLINE, attr);
        viz_put(r, right, VIZ_VLINE, attr);
    }
    viz_put(top, left, VIZ_CORNER_TL, attr);
    viz_put(top, right, VIZ_CORNER_TR, attr);
    viz_put(bottom, left, VIZ_CORNER_BL, attr);
    viz_put(bottom, right, VIZ_CORNER_BR, attr);
}

void viz_canvas_clear(uint8_t attr)
{
    for (unsigned r = 0; r < VGA_ROWS; r++)
        for (unsigned c = 0; c < VGA_COLS; c++)
            canvas[r][c] = cell(' ', attr);
}

void viz_invalidate(void)
{
    shown_valid = false;
}

unsigned viz_flush(void)
{
    unsigned written = 0;
    for (unsigned r = 0; r < VGA_ROWS; r++) {
        for (unsigned c = 0; c < VGA_COLS; c++) {
            uint16_t v = canvas[r][c];
            if (shown_valid && shown[r][c] == v)
                continue;
            vga_put(r, c, (char)(v & 0xff), (uint8_t)(v >> 8));
            shown[r][c] = v;
            written++;
        }
    }
    shown_valid = true;
    return written;
}

void viz_screen_save(void)
{
    for (unsigned r = 0; r < VGA_ROWS; r++)
        for (unsigned c = 0; c < VGA_COLS; c++)
            saved[r][c] = vga_get(r, c);
    console_get_cursor(&saved_row, &saved_col);
    vga_set_cursor(VGA_ROWS, 0); /* off screen: hidden */
    shown_valid = false;
}

void viz_screen_restore(void)
{
    for (unsigned r = 0; r < VGA_ROWS; r++)
        for (unsigned c = 0; c < VGA_COLS; c++)
            vga_put(r, c, (char)(saved[r][c] & 0xff), (uint8_t)(saved[r][c] >> 8));
    console_set_cursor(saved_row, saved_col);
    shown_valid = false;
}
