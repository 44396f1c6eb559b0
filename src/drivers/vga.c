/*
 * vga.c - VGA text mode 3 (80x25, 16 colours) and the hardware cursor.
 *
 * The CRT controller is reached through an index/data port pair (0x3D4 /
 * 0x3D5); registers 0x0E/0x0F hold the cursor's cell number, 0x0A/0x0B its
 * shape.  The attribute controller's mode register (index 0x10, reached by
 * resetting the flip-flop with a read of 0x3DA and writing 0x3C0) has a bit
 * that turns "blink" into "bright background", which the visualizer wants.
 */
#include "kernel/vga.h"
#include "kernel/x86.h"

#define VGA_BUFFER ((volatile uint16_t *)0xb8000)
#define CRTC_INDEX 0x3d4
#define CRTC_DATA  0x3d5
#define ATTR_FLIPFLOP_RESET 0x3da
#define ATTR_PORT  0x3c0
#define ATTR_READ  0x3c1
#define ATTR_MODE_CONTROL 0x10
#define ATTR_PAS   0x20 /* keep the palette address source set: screen on */
#define ATTR_BLINK 0x08

static inline uint16_t cell(char ch, uint8_t attr)
{
    return (uint16_t)((uint16_t)attr << 8 | (uint8_t)ch);
}

static void crtc_write(uint8_t index, uint8_t value)
{
    outb(CRTC_INDEX, index);
    outb(CRTC_DATA, value);
}

void vga_init(void)
{
    inb(ATTR_FLIPFLOP_RESET);
    outb(ATTR_PORT, ATTR_MODE_CONTROL | ATTR_PAS);
    uint8_t mode = inb(ATTR_READ);
    outb(ATTR_PORT, mode & ~ATTR_BLINK);
    /* Underline-style cursor on scan lines 14-15. */
    crtc_write(0x0a, 14);
    crtc_write(0x0b, 15);
}

void vga_clear(uint8_t attr)
{
    for (unsigned i = 0; i < VGA_COLS * VGA_ROWS; i++)
        VGA_BUFFER[i] = cell(' ', attr);
}

void vga_put(unsigned row, unsigned col, char ch, uint8_t attr)
{
    if (row < VGA_ROWS && col < VGA_COLS)
        VGA_BUFFER[row * VGA_COLS + col] = cell(ch, attr);
}

uint16_t vga_get(unsigned row, unsigned col)
{
    if (row < VGA_ROWS && col < VGA_COLS)
        return VGA_BUFFER[row * VGA_COLS + col];
    return 0;
}

void vga_fill_row(unsigned row, unsigned col, uint8_t attr)
{
    for (; col < VGA_COLS; col++)
        vga_put(row, col, ' ', attr);
}

void vga_scroll(unsigned top, uint8_t attr)
{
    for (unsigned r = top; r + 1 < VGA_ROWS; r++)
        for (unsigned c = 0; c < VGA_COLS; c++)
            VGA_BUFFER[r * VGA_COLS + c] = VGA_BUFFER[(r + 1) * VGA_COLS + c];
    vga_fill_row(VGA_ROWS - 1, 0, attr);
}

void vga_set_cursor(unsigned row, unsigned col)
{
    uint16_t pos = (uint16_t)(row * VGA_COLS + col);
    crtc_write(0x0f, pos & 0xff);
    crtc_write(0x0e, pos >> 8);
}
