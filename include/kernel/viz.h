/*
 * viz.h - the visualizer: memory drawn on the text screen.
 *
 * The visualizer only reads the memory subsystem through its public
 * headers.  Colours are shared by every view so that "available" looks the
 * same in the map table, the address bar and (later) the frame grid.
 *
 * viz_bar_cells is pure (host-tested); the views print through the console.
 */
#ifndef KERNEL_VIZ_H
#define KERNEL_VIZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/memmap.h"

/* viz_type_color - the VGA colour (0..15) of a memory type; 0 (a hole)
 * and unknown types have colours too. */
uint8_t viz_type_color(uint32_t type);

/* viz_type_letter - the serial (ASCII) form of a bar cell:
 * A available, R reserved, C ACPI reclaimable, N ACPI NVS, U unusable,
 * '.' hole. */
char viz_type_letter(uint32_t type);

/* viz_tag_color - the VGA colour of a frame tag (enum frame_tag); every
 * tag has its own. */
uint8_t viz_tag_color(unsigned tag);

/* One cell of an address bar: the type covering most of its bytes, the
 * runner-up, and whether it mixes types (holes count as type 0). */
struct viz_cell {
    uint8_t major;
    uint8_t minor; /* == major when the cell is one type */
    bool mixed;
};

/*
 * viz_bar_cells - split [start, end) into `cells` equal slices (the last
 * may be shorter; end > start) and classify each against a sanitized map.
 * A slice is `mixed` when more than one type (or a hole) shares it.
 */
void viz_bar_cells(const struct mem_region *regions, size_t count, uint64_t start, uint64_t end,
                   unsigned cells, struct viz_cell *out);

/* viz_short_addr - "0", "640K", "1M", "128M", "4G", "1.5G" style labels
 * for tick marks (exact multiples shown plainly, others in hex). */
void viz_short_addr(char *buf, size_t size, uint64_t addr);

/* ---- Views (print on the console) --------------------------------------- */

/* viz_memmap_table - one line per region with gaps, totals by class. */
void viz_memmap_table(void);
/* viz_memmap_raw - the firmware's entries and what sanitizing did. */
void viz_memmap_raw(void);
/* viz_memmap_bar - the address space as colour bars with ticks, legend. */
void viz_memmap_bar(void);

#endif
