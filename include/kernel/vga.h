/*
 * vga.h - the VGA text screen: 80x25 cells of {character, colour}.
 *
 * Each cell in the buffer at physical 0xB8000 is two bytes: the code page
 * 437 character, then the attribute (background << 4 | foreground).  This
 * driver owns the buffer and the hardware cursor; the console and the
 * panic screen draw through it.
 */
#ifndef KERNEL_VGA_H
#define KERNEL_VGA_H

#include <stdint.h>

#define VGA_COLS 80
#define VGA_ROWS 25

enum vga_color {
    VGA_BLACK = 0, VGA_BLUE, VGA_GREEN, VGA_CYAN, VGA_RED, VGA_MAGENTA,
    VGA_BROWN, VGA_LIGHT_GREY, VGA_DARK_GREY, VGA_LIGHT_BLUE,
    VGA_LIGHT_GREEN, VGA_LIGHT_CYAN, VGA_LIGHT_RED, VGA_LIGHT_MAGENTA,
    VGA_YELLOW, VGA_WHITE,
};

static inline uint8_t vga_attr(enum vga_color fg, enum vga_color bg)
{
    return (uint8_t)((bg << 4) | fg);
}

#define VGA_DEFAULT_ATTR ((VGA_BLACK << 4) | VGA_LIGHT_GREY)

/* vga_init - turn on bright backgrounds (no blinking), show the cursor. */
void vga_init(void);
/* vga_clear - every cell blank with attribute attr. */
void vga_clear(uint8_t attr);
/* vga_put - write one cell; out-of-screen positions are ignored. */
void vga_put(unsigned row, unsigned col, char ch, uint8_t attr);
/* vga_get - read one cell back as (attr << 8 | ch). */
uint16_t vga_get(unsigned row, unsigned col);
/* vga_fill_row - cells [col, 80) of row blank with attr. */
void vga_fill_row(unsigned row, unsigned col, uint8_t attr);
/* vga_scroll - move rows [top, 25) up by one, blank the last row. */
void vga_scroll(unsigned top, uint8_t attr);
/* vga_set_cursor - move the blinking hardware cursor. */
void vga_set_cursor(unsigned row, unsigned col);

#endif
