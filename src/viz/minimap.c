/*
 * minimap.c - split mode: a live picture of memory above the shell.
 *
 *   row 0  "memory 127.9 MiB, a cell 820 KiB" and a legend
 *   row 1  \  160 cells over every frame the allocator knows,
 *   row 2  /  coloured by tag, shaded by how full (viz_summary_cell)
 *   row 3  the status line (frames, heap, uptime, faults)
 *
 * The console keeps to the rows below (console_set_top).  The mini-map is
 * redrawn after every shell command and every 250 ms from the timer, so a
 * command that runs for a while (`stress oom`) is watched as it runs.  It
 * writes a cell only when it changed, straight to VGA (the full-screen
 * views' canvas is not involved), and reads the allocator only through
 * pmm_summarize, which is safe inside the timer interrupt.
 */
#include "kernel/format.h"
#include "kernel/kstring.h"
#include "kernel/console.h"
#include "kernel/pmm.h"
#include "kernel/vga.h"
#include "kernel/viz.h"
#include "viz_internal.h"

#define HEAD_ATTR vga_attr(VGA_BLACK, VGA_LIGHT_GREY)
#define STATUS_ATTR vga_attr(VGA_WHITE, VGA_BLUE)

static bool split;

static void put(unsigned row, unsigned col, uint8_t ch, uint8_t attr)
{
    uint16_t want = (uint16_t)(attr << 8 | ch);
    if (vga_get(row, col) != want)
        vga_put(row, col, (char)ch, attr);
}

static void text(unsigned row, unsigned col, uint8_t attr, const char *s, unsigned width)
{
    for (unsigned i = 0; i < width && col + i < VGA_COLS; i++)
        put(row, col + i, *s ? (uint8_t)*s++ : ' ', attr);
}

uint64_t viz_minimap_cell_bytes(void)
{
    uint64_t bytes = (uint64_t)pmm_get_zone()->frames * FRAME_SIZE;
    uint64_t per = (bytes + VIZ_MINIMAP_CELLS - 1) / VIZ_MINIMAP_CELLS;
    return (per + FRAME_SIZE - 1) & ~(uint64_t)(FRAME_SIZE - 1);
}

void viz_minimap_draw(void)
{
    if (!split || viz_view_open)
        return;
    uint64_t bytes = (uint64_t)pmm_get_zone()->frames * FRAME_SIZE;
    uint64_t per = viz_minimap_cell_bytes();
    char line[VGA_COLS + 1], end[16], cell[16];
    format_size(end, sizeof(end), bytes);
    format_size(cell, sizeof(cell), per);
    ksnprintf(line, sizeof(line), " memory %s, a cell %s", end, cell);
    text(0, 0, HEAD_ATTR, line, VGA_COLS - 46);
    /* A small legend at the right: the tags most often seen. */
    static const uint8_t legend[] = {TAG_KERNEL, TAG_PAGETABLE, TAG_HEAP, TAG_USER,
                                     TAG_RESERVED};
    unsigned col = VGA_COLS - 46;
    for (size_t i = 0; i < ARRAY_SIZE(legend); i++) {
        put(0, col++, VIZ_BLOCK, vga_attr(viz_tag_color(legend[i]), VGA_LIGHT_GREY));
        const char *name = pmm_tag_name(legend[i]);
        text(0, col, HEAD_ATTR, name, (unsigned)strlen(name) + 1);
        col += (unsigned)strlen(name) + 1;
    }
    put(0, col++, VIZ_DOT, vga_attr(VGA_GREEN, VGA_LIGHT_GREY));
    text(0, col, HEAD_ATTR, "free", VGA_COLS - col);
    for (unsigned i = 0; i < VIZ_MINIMAP_CELLS; i++) {
        struct frame_summary s;
        uint8_t ch, attr;
        pmm_summarize((paddr_t)(i * per), per, 16, &s);
        viz_summary_cell(&s, &ch, &attr);
        put(1 + i / VGA_COLS, i % VGA_COLS, ch, attr);
    }
    viz_status_format(line, sizeof(line));
    text(3, 0, STATUS_ATTR, line, VGA_COLS);
}

void viz_split(bool on)
{
    if (on == split)
        return;
    split = on;
    if (on) {
        /* The map covers the oldest lines; a cursor among them moves below. */
        unsigned row, col;
        console_get_cursor(&row, &col);
        if (row < VIZ_MINIMAP_ROWS)
            console_set_cursor(VIZ_MINIMAP_ROWS, 0);
        for (unsigned r = 0; r < VIZ_MINIMAP_ROWS; r++)
            vga_fill_row(r, 0, VGA_DEFAULT_ATTR);
        console_set_top(VIZ_MINIMAP_ROWS);
        viz_minimap_draw();
    } else {
        console_set_top(0);
        for (unsigned r = 0; r < VIZ_MINIMAP_ROWS; r++)
            vga_fill_row(r, 0, VGA_DEFAULT_ATTR);
    }
}

bool viz_split_on(void)
{
    return split;
}
