/*
 * heap_view.h - what the three parts of the heap view (F4) share: its
 * rows, its colours, and the few functions one part calls in another.
 *
 *   row 0       title (viz.c)
 *   rows 1-2    totals                          heap_view_totals.c
 *   row 3       the strip's heading             heap_view.c
 *   rows 4-8    the strip, one page a cell      heap_view.c
 *   row 9       a triangle under the cursor     heap_view.c
 *   rows 10-12  zoom of the cursor's page       heap_view_zoom.c
 *   rows 13-14  the block that owns most of it  heap_view_zoom.c
 *   rows 15-17  guarded blocks                  heap_view_totals.c
 *   rows 18-19  blocks by tag                   heap_view_totals.c
 *   rows 20-21  what the colours mean           heap_view_totals.c
 *   row 22      a message after a key           heap_view.c
 *   rows 23-24  status and keys (viz.c)
 *
 * heap_view.c owns the view: the strip, the cursor, the keys, and the
 * helpers below that read the heap.  Not public: only these three files
 * include it.
 */
#ifndef VIZ_HEAP_VIEW_H
#define VIZ_HEAP_VIEW_H

#include <stdint.h>

#include "kernel/heap.h"
#include "kernel/vga.h"

/* The strip's columns: the zoom's cells line up under them. */
#define HEAP_VIEW_STRIP_COLS 64
#define HEAP_VIEW_STRIP_LEFT 9 /* after an 8-digit address and a space */

/* The rows of the parts outside heap_view.c (see the picture above). */
#define HEAP_VIEW_TOTALS_ROW 1
#define HEAP_VIEW_ZOOM_ROW 11 /* its heading is the row above, offsets below */
#define HEAP_VIEW_INFO_ROW 13
#define HEAP_VIEW_GUARDED_ROW 15
#define HEAP_VIEW_TAGS_ROW 18
#define HEAP_VIEW_LEGEND_ROW 20

/* Text, and the colours the legend explains (strip, zoom and legend must
 * agree on them). */
#define HEAP_VIEW_TEXT vga_attr(VGA_LIGHT_GREY, VGA_BLACK)
#define HEAP_VIEW_HEAD vga_attr(VGA_YELLOW, VGA_BLACK)
#define HEAP_VIEW_DIM vga_attr(VGA_DARK_GREY, VGA_BLACK)
#define HEAP_VIEW_FREE_COLOR VGA_DARK_GREY
#define HEAP_VIEW_MAP_COLOR VGA_BLUE
#define HEAP_VIEW_DEBUG_COLOR VGA_LIGHT_RED /* headers and red zones; guard pages */
#define HEAP_VIEW_SLAB_HEADER_COLOR VGA_LIGHT_GREY

/* What a page is, as heap_describe names it. */
enum heap_view_page_kind { PAGE_NEVER, PAGE_FREE, PAGE_FREE_BACKED, PAGE_MAP, PAGE_SLAB,
                           PAGE_RUN, PAGE_DAMAGED };

/* ---- heap_view.c: reading the heap ---------------------------------------- */

/* viz_heap_describe - heap_describe on the kernel heap: what is at addr,
 * into *b.  b->what may point into the heap's text buffer, valid until
 * the next describe or block walk. */
void viz_heap_describe(uintptr_t addr, struct heap_block_info *b);

/* viz_heap_page_addr - the address of the heap's page number `page`
 * (0 is the heap's first). */
uintptr_t viz_heap_page_addr(unsigned page);

/* viz_heap_page_kind - what a described address's page is, from its
 * `what` (PAGE_DAMAGED for any text the view does not know). */
enum heap_view_page_kind viz_heap_page_kind(const struct heap_block_info *b);

/* viz_heap_tag_color - a tag's colour (a VGA foreground), the same in
 * every part of the view; NULL is taken as "?". */
uint8_t viz_heap_tag_color(const char *tag);

/* ---- heap_view_zoom.c ------------------------------------------------------- */

/* viz_heap_draw_zoom - rows 10-14: page number `page` of the heap in 64
 * cells of 64 bytes, its heading and offsets, then the live block with the
 * most bytes on it (or a line saying there is none). */
void viz_heap_draw_zoom(unsigned page);

/* ---- heap_view_totals.c ----------------------------------------------------- */

/* viz_heap_count_blocks - walk every live block again: the tag totals and
 * the guarded blocks that viz_heap_draw_lower_panel shows.  Call it when
 * the heap has changed (it costs one walk over all blocks). */
void viz_heap_count_blocks(void);

/* viz_heap_draw_totals - rows 1-2: the heap's counters from *s. */
void viz_heap_draw_totals(const struct kheap_stats *s);

/* viz_heap_draw_lower_panel - rows 15-21: the guarded blocks and the
 * blocks by tag (as the last viz_heap_count_blocks found them), then what
 * the colours and shades mean. */
void viz_heap_draw_lower_panel(void);

#endif
