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
