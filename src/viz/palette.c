/*
 * palette.c - the colours (and serial letters) every view shares, pure.
 *
 * One colour per memory type and per frame tag, so that "available" or
 * "heap" looks the same in the map table, the address bars, the frame grid
 * and the shell's listings.
 */
#include "kernel/pmm_zone.h"
#include "kernel/vga.h"
#include "kernel/viz.h"

uint8_t viz_type_color(uint32_t type)
{
    switch (type) {
    case 0:
        return VGA_DARK_GREY; /* hole: nothing there */
    case MEM_AVAILABLE:
        return VGA_LIGHT_GREEN;
    case MEM_ACPI_RECLAIMABLE:
        return VGA_YELLOW;
    case MEM_ACPI_NVS:
        return VGA_BROWN;
    case MEM_UNUSABLE:
        return VGA_LIGHT_MAGENTA;
    default:
        return VGA_LIGHT_RED; /* reserved and unknown */
    }
}

char viz_type_letter(uint32_t type)
{
    switch (type) {
    case 0:
        return '.';
    case MEM_AVAILABLE:
        return 'A';
    case MEM_ACPI_RECLAIMABLE:
        return 'C';
    case MEM_ACPI_NVS:
        return 'N';
    case MEM_UNUSABLE:
        return 'U';
    default:
        return 'R';
    }
}

uint8_t viz_tag_color(unsigned tag)
{
    static const uint8_t colors[TAG_COUNT] = {
        [TAG_FREE] = VGA_LIGHT_GREEN,   [TAG_RESERVED] = VGA_LIGHT_RED,
        [TAG_ACPI] = VGA_YELLOW,        [TAG_KERNEL] = VGA_LIGHT_BLUE,
        [TAG_BOOT] = VGA_CYAN,          [TAG_BITMAP] = VGA_LIGHT_CYAN,
        [TAG_PAGETABLE] = VGA_MAGENTA,  [TAG_HEAP] = VGA_BROWN,
        [TAG_STACK] = VGA_BLUE,         [TAG_DMA] = VGA_GREEN,
        [TAG_DEVICE] = VGA_RED,         [TAG_USER] = VGA_WHITE,
        [TAG_GUARD] = VGA_LIGHT_MAGENTA,
    };
    return tag < TAG_COUNT ? colors[tag] : VGA_DARK_GREY;
}

/* viz_summary_cell - see viz.h.  The shade says how full the cell is. */
void viz_summary_cell(const struct frame_summary *s, uint8_t *ch, uint8_t *attr)
{
    uint64_t used = (uint64_t)s->allocated + s->reserved, all = s->frames;
    uint8_t fg = viz_tag_color(s->tag);
    if (all == 0) {
        *ch = ' ';
        fg = VGA_BLACK;
    } else if (used == 0) {
        *ch = VIZ_DOT;
        fg = VGA_GREEN;
    } else if (used * 8 >= all * 7) {
        *ch = VIZ_BLOCK;
    } else if (used * 2 >= all) {
        *ch = VIZ_SHADE_DARK;
    } else if (used * 8 >= all) {
        *ch = VIZ_SHADE_MEDIUM;
    } else {
        *ch = VIZ_SHADE_LIGHT;
    }
    *attr = vga_attr(fg, VGA_BLACK);
}
