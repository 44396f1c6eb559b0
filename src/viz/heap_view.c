/*
 * heap_view.c - F4: the kernel heap, page by page and byte range by byte
 * range.  This file owns the view: the strip of the heap's pages, the
 * cursor on it and the keys that move it, and the helpers every part uses
 * to read the heap (heap_view.h).  The totals, guarded blocks, tags and
 * legend are heap_view_totals.c; the zoom on the cursor's page is
 * heap_view_zoom.c.
 *
 *   row 3       the strip's heading: its range, pages per cell
 *   rows 4-8    the strip: the heap's pages from its start to the last one
 *               ever used, 64 cells a row, one page a cell (or N when there
 *               are more than 320); the cursor's row is lit at both ends
 *                 d0000000 #%..:#####,,,,,,,     (# used, : partly, . free,
 *                                                 , never used: as shades)
 *                 d0040000 ...                                        <
 *   row 9       a triangle under the cursor's column
 *   row 22      a message after a key that does nothing here
 *
 * Every page is classified by heap_describe (its `what`), so this view
 * relies only on the heap's public API.  The strip, the tag totals and the
 * guarded list change only when the heap does: they are rebuilt when its
 * counters move, and a redraw otherwise costs one zoom (256 look-ups).
 */
#include "kernel/heap.h"
#include "kernel/kstring.h"
#include "kernel/timer.h"
#include "kernel/types.h"
#include "kernel/vga.h"
#include "kernel/viz.h"
#include "heap_view.h"

#define STRIP_COLS HEAP_VIEW_STRIP_COLS /* (the zoom lines up with them) */
#define STRIP_LEFT HEAP_VIEW_STRIP_LEFT
#define STRIP_ROWS 5
#define STRIP_CELLS (STRIP_COLS * STRIP_ROWS)
#define STRIP_TOP 4
#define MESSAGE_ROW 22
#define MESSAGE_MS 3000

#define LIT_ATTR vga_attr(VGA_BLACK, VGA_LIGHT_GREY)
#define MESSAGE_ATTR vga_attr(VGA_BLACK, VGA_YELLOW)

struct strip_cell {
    uint8_t kind, ch, attr;
};

/* What the cached pictures were made from; rebuilt when it changes. */
struct heap_signature {
    uint64_t allocs, frees;
    size_t backed_pages, guarded_blocks, guarded_bytes;
};

static struct heap_signature seen;
static bool seen_valid;
static struct strip_cell strip[STRIP_CELLS];
static unsigned strip_cells, pages_per_cell, top_page, map_backed;
static unsigned cursor; /* a strip cell */
static char message[VGA_COLS + 1];
static uint64_t message_until;

static void say(const char *text)
{
    kstrlcpy(message, text, sizeof(message));
    message_until = timer_uptime_ms() + MESSAGE_MS;
}

/* ---- reading the heap (heap_view.h) -------------------------------------- */

/* viz_heap_describe - see heap_view.h. */
void viz_heap_describe(uintptr_t addr, struct heap_block_info *b)
{
    kheap_block_info(addr, b);
}

/* viz_heap_page_addr - see heap_view.h. */
uintptr_t viz_heap_page_addr(unsigned page)
{
    return kheap_core()->base + (uintptr_t)page * HEAP_PAGE;
}

/* viz_heap_tag_color - see heap_view.h.  A stable colour for a tag: its
 * place in the heap's tag table (tags are never removed from it, so eight
 * tags get eight different colours), or a small hash of its name for a
 * tag the table lacks (a guarded block's). */
uint8_t viz_heap_tag_color(const char *tag)
{
    static const uint8_t palette[] = {VGA_LIGHT_GREEN, VGA_LIGHT_CYAN,    VGA_YELLOW,
                                      VGA_LIGHT_MAGENTA, VGA_LIGHT_BLUE,  VGA_GREEN,
                                      VGA_CYAN,          VGA_MAGENTA};
    const struct heap *h = kheap_core();
    if (!tag)
        tag = "?";
    for (uint32_t i = 0; i < h->tag_count && i < HEAP_TAGS_MAX; i++)
        if (h->tags[i] == tag || strcmp(h->tags[i], tag) == 0)
            return palette[i % ARRAY_SIZE(palette)];
    uint32_t hash = 2166136261u; /* FNV-1a */
    for (const char *s = tag; *s; s++)
        hash = (hash ^ (uint8_t)*s) * 16777619u;
    return palette[(hash >> 24) % ARRAY_SIZE(palette)]; /* (FNV's low bits mix poorly) */
}

/* viz_heap_page_kind - see heap_view.h. */
enum heap_view_page_kind viz_heap_page_kind(const struct heap_block_info *b)
{
    if (strcmp(b->what, "never used") == 0 || !b->in_heap)
        return PAGE_NEVER;
    if (strcmp(b->what, "page map") == 0)
        return PAGE_MAP;
    if (strcmp(b->what, "free page (kept backed)") == 0)
        return PAGE_FREE_BACKED;
    if (strcmp(b->what, "free page") == 0)
        return PAGE_FREE;
    if (strncmp(b->what, "run of", 6) == 0)
        return PAGE_RUN;
    if (strncmp(b->what, "slab of", 7) == 0 || strcmp(b->what, "free slot") == 0 ||
            strcmp(b->what, "slab header") == 0)
        return PAGE_SLAB;
    return PAGE_DAMAGED;
}

/* ---- the strip ----------------------------------------------------------- */

/* One page as a strip cell; *weight says how busy it is (the busiest page
 * looked at speaks for a cell of several). */
static struct strip_cell look_at_page(unsigned page, unsigned *weight)
{
    struct heap_block_info b;
    uintptr_t at = viz_heap_page_addr(page);
    viz_heap_describe(at, &b);
    struct strip_cell c = {(uint8_t)viz_heap_page_kind(&b), ' ', HEAP_VIEW_DIM};
    *weight = c.kind;
    switch (c.kind) {
    case PAGE_NEVER:
        c.ch = VIZ_DOT;
        break;
    case PAGE_FREE:
    case PAGE_FREE_BACKED:
        c.ch = c.kind == PAGE_FREE ? VIZ_SHADE_LIGHT : VIZ_SHADE_MEDIUM;
        c.attr = vga_attr(HEAP_VIEW_FREE_COLOR, VGA_BLACK);
        break;
    case PAGE_MAP: /* backed from its start as far as the heap has grown */
        c.ch = page < map_backed ? VIZ_BLOCK : VIZ_SHADE_LIGHT;
        c.attr = vga_attr(HEAP_VIEW_MAP_COLOR, VGA_BLACK);
        break;
    case PAGE_RUN:
        c.ch = VIZ_BLOCK;
        c.attr = vga_attr(viz_heap_tag_color(b.tag), VGA_BLACK);
        *weight = 10;
        break;
    case PAGE_SLAB: {
        /* How full: four probes, one a KiB. */
        const char *tag = b.tag;
        unsigned live = b.live;
        for (unsigned k = 1; k < 4; k++) {
            viz_heap_describe(at + k * 1024, &b);
            live += b.live;
            if (!tag)
                tag = b.tag;
        }
        static const uint8_t shade[] = {VIZ_SHADE_LIGHT, VIZ_SHADE_MEDIUM, VIZ_SHADE_MEDIUM,
                                        VIZ_SHADE_DARK, VIZ_BLOCK};
        c.ch = shade[live];
        c.attr = vga_attr(viz_heap_tag_color(tag), VGA_BLACK);
        *weight = 5 + live;
        break;
    }
    default:
        c.ch = '!';
        c.attr = vga_attr(VGA_LIGHT_RED, VGA_BLACK);
        *weight = 11;
        break;
    }
    return c;
}

static void build_strip(void)
{
    top_page = heap_top_page(kheap_core()); /* pages past it: never used */
    pages_per_cell = (top_page + STRIP_CELLS - 1) / STRIP_CELLS;
    if (pages_per_cell == 0)
        pages_per_cell = 1;
    strip_cells = (top_page + pages_per_cell - 1) / pages_per_cell;
    if (strip_cells == 0)
        strip_cells = 1;
    for (unsigned i = 0; i < strip_cells; i++) {
        /* Up to two pages a cell looked at: its first and its middle one. */
        unsigned first = i * pages_per_cell, best = 0, w;
        strip[i] = look_at_page(first, &best);
        if (pages_per_cell > 1 && first + pages_per_cell / 2 < top_page) {
            struct strip_cell other = look_at_page(first + pages_per_cell / 2, &w);
            if (w > best)
                strip[i] = other;
        }
    }
}

/* The strip and the block counts again, when the heap's counters moved. */
static void refresh(const struct kheap_stats *s)
{
    struct heap_signature now = {s->core.allocs, s->core.frees, s->core.backed_pages,
                                 s->guarded_blocks, s->guarded_bytes};
    if (seen_valid && now.allocs == seen.allocs && now.frees == seen.frees &&
            now.backed_pages == seen.backed_pages && now.guarded_blocks == seen.guarded_blocks &&
            now.guarded_bytes == seen.guarded_bytes)
        return;
    seen = now;
    seen_valid = true;
    map_backed = (unsigned)s->core.map_pages;
    build_strip();
    viz_heap_count_blocks();
}

static void draw_strip(void)
{
    uintptr_t base = kheap_core()->base;
    viz_printf(STRIP_TOP - 1, 1, HEAP_VIEW_HEAD, "Heap pages 0x%08x-0x%08x (%u used so far), "
               "%u page%s a cell", (unsigned)base, (unsigned)(viz_heap_page_addr(top_page) - 1),
               top_page, pages_per_cell, pages_per_cell == 1 ? "" : "s");
    unsigned rows = (strip_cells + STRIP_COLS - 1) / STRIP_COLS;
    for (unsigned r = 0; r < rows; r++) {
        bool lit = cursor / STRIP_COLS == r;
        viz_printf(STRIP_TOP + r, 0, lit ? LIT_ATTR : HEAP_VIEW_DIM, "%08x",
                   (unsigned)viz_heap_page_addr(r * STRIP_COLS * pages_per_cell));
        for (unsigned col = 0; col < STRIP_COLS; col++) {
            unsigned i = r * STRIP_COLS + col;
            if (i < strip_cells)
                viz_put(STRIP_TOP + r, STRIP_LEFT + col, strip[i].ch, strip[i].attr);
            else /* past the top: never used */
                viz_put(STRIP_TOP + r, STRIP_LEFT + col, VIZ_DOT, HEAP_VIEW_DIM);
        }
        if (lit)
            viz_put(STRIP_TOP + r, STRIP_LEFT + STRIP_COLS + 1, 0x11, LIT_ATTR); /* < */
    }
    viz_put(STRIP_TOP + STRIP_ROWS, STRIP_LEFT + cursor % STRIP_COLS, 0x1e,
            vga_attr(VGA_WHITE, VGA_BLACK)); /* ^ */
}

/* ---- the view ---------------------------------------------------------------- */

static bool next_used(void);

static void open_heap(void)
{
    static bool opened;
    seen_valid = false; /* look again: the heap may have changed meanwhile */
    message[0] = '\0';
    if (!opened) { /* the first time: on the first page with blocks, if any */
        struct kheap_stats s;
        kheap_get_stats(&s);
        refresh(&s);
        cursor = strip_cells - 1;
        next_used();
        opened = true;
    }
}

static void draw_heap(void)
{
    struct kheap_stats s;
    kheap_get_stats(&s);
    refresh(&s);
    if (cursor >= strip_cells)
        cursor = strip_cells - 1;
    viz_heap_draw_totals(&s);
    draw_strip();
    viz_heap_draw_zoom(cursor * pages_per_cell);
    viz_heap_draw_lower_panel();
    if (message[0] && timer_uptime_ms() < message_until)
        viz_text(MESSAGE_ROW, 1, MESSAGE_ATTR, message);
}

/* ---- the cursor and the keys ------------------------------------------------ */

/* The next cell after the cursor (wrapping) whose page holds blocks,
 * past the cells that look like the cursor's (one long run is one step). */
static bool next_used(void)
{
    unsigned k = 1;
    while (k < strip_cells && strip[(cursor + k) % strip_cells].ch == strip[cursor].ch &&
           strip[(cursor + k) % strip_cells].attr == strip[cursor].attr)
        k++;
    for (; k <= strip_cells; k++) {
        unsigned i = (cursor + k) % strip_cells;
        if (strip[i].kind == PAGE_SLAB || strip[i].kind == PAGE_RUN) {
            cursor = i;
            return true;
        }
    }
    return false;
}

static bool move(int delta, const char *refusal)
{
    long to = (long)cursor + delta;
    if (to < 0 || to >= (long)strip_cells) {
        say(refusal);
        return true;
    }
    cursor = (unsigned)to;
    return true;
}

static bool key_heap(const struct key_event *k)
{
    message[0] = '\0';
    switch (k->code) {
    case KEY_LEFT:
        return move(-1, "The cursor is on the heap's first page.");
    case KEY_RIGHT:
        return move(1, "The cursor is on the last page used so far.");
    case KEY_UP:
        return move(-STRIP_COLS, "The cursor is in the strip's first row.");
    case KEY_DOWN: /* into a short last row: to its last page */
        if (cursor / STRIP_COLS < (strip_cells - 1) / STRIP_COLS &&
                cursor + STRIP_COLS >= strip_cells)
            return move((int)(strip_cells - 1 - cursor), "");
        return move(STRIP_COLS, "No row of used pages below this one.");
    case KEY_HOME:
        cursor = 0;
        return true;
    case KEY_END:
        cursor = strip_cells - 1;
        return true;
    case KEY_TAB:
        if (!next_used())
            say("No page holds a block yet: try `kmalloc 100` at the prompt.");
        return true;
    default:
        say("Here: arrows move, Home/End, Tab next page with blocks. Esc leaves.");
        return false;
    }
}

const struct viz_view viz_view_heap = {
    .name = "heap",
    .title = "Kernel heap",
    .fkey = KEY_F4,
    .open = open_heap,
    .draw = draw_heap,
    .key = key_heap,
    .keys = "arrows move  Tab next page with blocks  Home/End",
};
