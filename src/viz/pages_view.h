/*
 * pages_view.h - what the two halves of the page-tables view (F3) share.
 *
 * pages_view.c owns the view: its state, the grids, the keys.
 * pages_walk_view.c writes the words under the grid: the entry under the
 * cursor and the walk of one address.  Not public: only these two files
 * include it.
 */
#ifndef VIZ_PAGES_VIEW_H
#define VIZ_PAGES_VIEW_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/types.h"
#include "kernel/vga.h"

/* The lower panel: three rows of description, then the message row. */
#define PAGES_INFO_TOP 19
#define PAGES_INFO_ROWS 3
#define PAGES_MESSAGE_ROW 22

/* Colours by access, the same in both grids and in the legend. */
#define PAGES_KERNEL_RW VGA_LIGHT_GREEN
#define PAGES_KERNEL_RO VGA_LIGHT_BLUE
#define PAGES_USER_RW VGA_YELLOW
#define PAGES_USER_RO VGA_BROWN
#define PAGES_NONE VGA_DARK_GREY
#define PAGES_LARGE VGA_LIGHT_MAGENTA     /* a 4 MiB page */
#define PAGES_RECURSIVE VGA_LIGHT_CYAN    /* background of the recursive slot */

#define PAGES_CH_LARGE '4'
#define PAGES_CH_RECURSIVE 0xec /* infinity: the directory maps itself */
#define PAGES_CH_SQUARE 0xfe    /* small square: the cursor, or a lit full cell */

/* viz_pages_legend - what each colour and shape means, on `row`: the
 * directory's symbols, or (table) a page's shapes. */
void viz_pages_legend(unsigned row, bool table);

/* viz_pages_pde_info - rows top..top+2: directory entry `index` (0..1023):
 * its virtual range, raw value and flags, then what it points at (a table
 * and how many of its entries are present, a 4 MiB page, the directory
 * itself), then the kernel's regions in its 4 MiB. */
void viz_pages_pde_info(unsigned top, uint32_t index);

/* viz_pages_pte_info - rows top..top+2: entry `index` of the table behind
 * directory entry `dir_index`: its page, raw value and flags, the frame
 * and what the frame allocator says about it, the region of the page. */
void viz_pages_pte_info(unsigned top, uint32_t dir_index, uint32_t index);

/* viz_pages_walk - rows top..top+2: what the MMU does with `va`, step by
 * step, and where the walk stops when it does.  Returns true when the walk
 * reaches a page table (the table mode can show it). */
bool viz_pages_walk(unsigned top, vaddr_t va);

#endif
