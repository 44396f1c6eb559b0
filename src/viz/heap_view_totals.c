/*
 * heap_view_totals.c - the heap view's (F4) numbers and lists: the totals
 * at the top, and under the zoom the guarded blocks, the blocks by tag and
 * the legend.
 *
 *   row 1   Live 3 blocks, 23.0 KiB asked for, 27.2 KiB taken | backed 15 ...
 *   row 2   Overhead 37.0 KiB (61%) | fragmentation 100% | 2 slabs, 1 runs ...
 *   row 15  Guarded blocks: 1, each between two unmapped guard pages
 *   row 16   ▒█▒   0xe0005f9c 100 B tag demo; guard pages 0xe0004000, ...
 *   row 18  By tag: █ net 1 (100 B) █ fs 1 (2.9 KiB) █ video 1 (20 KiB) ...
 *   row 19          (more tags, when they do not fit on one row)
 *   row 20  █░ page map (backed, not)  ░ free  ▒ free, kept backed  · never ...
 *   row 21  Slab live slots: █▓▒░ all..none  Zoom: █ header/red zone  █ ...
 *
 * The tag totals and the guarded list come from one walk over every live
 * block (viz_heap_count_blocks), made only when the heap has changed;
 * drawing them costs no look-up.
 */
#include "kernel/format.h"
#include "kernel/heap.h"
#include "kernel/kstring.h"
#include "kernel/vga.h"
#include "kernel/viz.h"
#include "heap_view.h"

#define MAX_TAGS 16
#define MAX_GUARDED 32

struct tag_total {
    const char *tag;
    unsigned blocks;
    size_t bytes;
};

static struct tag_total tags[MAX_TAGS];
static unsigned tag_count, tags_dropped;
static struct heap_block_info guarded[MAX_GUARDED];
static unsigned guarded_count;

/* ---- counting (one walk over every live block) ---------------------------- */

static void count_block(void *ctx, const struct heap_block_info *b)
{
    (void)ctx;
    if (strncmp(b->what, "guarded", 7) == 0 && guarded_count < MAX_GUARDED)
        guarded[guarded_count++] = *b;
    const char *tag = b->tag ? b->tag : "?";
    for (unsigned i = 0; i < tag_count; i++) {
        if (strcmp(tags[i].tag, tag) == 0) {
            tags[i].blocks++;
            tags[i].bytes += b->size;
            return;
        }
    }
    if (tag_count == MAX_TAGS) {
        tags_dropped++;
        return;
    }
    tags[tag_count++] = (struct tag_total){tag, 1, b->size};
}

/* viz_heap_count_blocks - see heap_view.h. */
void viz_heap_count_blocks(void)
{
    tag_count = tags_dropped = guarded_count = 0;
    kheap_for_each_block(count_block, NULL);
}

/* ---- drawing ----------------------------------------------------------------- */

/* viz_heap_draw_totals - see heap_view.h. */
void viz_heap_draw_totals(const struct kheap_stats *s)
{
    const struct heap_stats *c = &s->core;
    char live[16], over[16], taken[16];
    size_t held = c->backed_pages * HEAP_PAGE;
    size_t overhead = held > c->live_bytes ? held - c->live_bytes : 0;
    format_size(live, sizeof(live), c->live_bytes);
    format_size(over, sizeof(over), overhead);
    format_size(taken, sizeof(taken), c->slot_bytes);
    viz_printf(HEAP_VIEW_TOTALS_ROW, 1, HEAP_VIEW_TEXT, "Live %u blocks, %s asked for, %s taken | "
               "backed %u pages (map %u)", (unsigned)c->live_blocks, live, taken,
               (unsigned)c->backed_pages, (unsigned)c->map_pages);
    viz_printf(HEAP_VIEW_TOTALS_ROW + 1, 1, HEAP_VIEW_TEXT, "Overhead %s (%u%%) | fragmentation "
               "%u%% | %u slabs, %u runs | debug %s", over,
               held ? (unsigned)(overhead * 100 / held) : 0, heap_fragmentation(c),
               (unsigned)c->slabs, (unsigned)c->runs, kheap_core()->config.debug ? "on" : "off");
}

/* One guarded block a row: | guard | body pages | guard |, and where. */
static void draw_guarded(void)
{
    const unsigned top = HEAP_VIEW_GUARDED_ROW;
    viz_printf(top, 1, HEAP_VIEW_HEAD, "Guarded blocks: %u%s, each between two unmapped guard "
               "pages", guarded_count, guarded_count > 2 ? " (2 shown)" : "");
    if (guarded_count == 0) {
        viz_text(top + 1, 3, HEAP_VIEW_DIM, "none (`heap guard` makes one and runs off its end)");
        return;
    }
    uint8_t guard = vga_attr(HEAP_VIEW_DEBUG_COLOR, VGA_BLACK);
    for (unsigned i = 0; i < guarded_count && i < 2; i++) {
        const struct heap_block_info *g = &guarded[i];
        unsigned row = top + 1 + i, col = 1, pages = (unsigned)(g->slot / HEAP_PAGE);
        uintptr_t body = g->block + g->size - g->slot; /* the block ends at the upper guard */
        viz_put(row, col++, VIZ_SHADE_MEDIUM, guard);
        for (unsigned p = 0; p < pages && p < 4; p++)
            viz_put(row, col++, VIZ_BLOCK, vga_attr(viz_heap_tag_color(g->tag), VGA_BLACK));
        viz_put(row, col++, VIZ_SHADE_MEDIUM, guard);
        viz_printf(row, 7, HEAP_VIEW_TEXT, "0x%08x %u B tag %.10s; guard pages 0x%08x, 0x%08x",
                   (unsigned)g->block, (unsigned)g->size, g->tag ? g->tag : "?",
                   (unsigned)(body - HEAP_PAGE), (unsigned)(body + g->slot));
    }
}

/* Each tag in its colour, its blocks and bytes, on up to two rows. */
static void draw_tags(void)
{
    const unsigned second = HEAP_VIEW_TAGS_ROW + 1;
    unsigned row = HEAP_VIEW_TAGS_ROW, col = viz_text(row, 1, HEAP_VIEW_HEAD, "By tag:");
    for (unsigned i = 0; i < tag_count; i++) {
        char size[16], item[48];
        format_size(size, sizeof(size), tags[i].bytes);
        ksnprintf(item, sizeof(item), "%s %u (%s)", tags[i].tag, tags[i].blocks, size);
        unsigned need = 3 + (unsigned)strlen(item);
        if (col + need >= VGA_COLS) {
            if (row == second)
                break;
            row = second;
            col = 8;
        }
        viz_put(row, col + 1, VIZ_BLOCK, vga_attr(viz_heap_tag_color(tags[i].tag), VGA_BLACK));
        col = viz_text(row, col + 3, HEAP_VIEW_TEXT, item);
    }
    if (tag_count == 0)
        viz_text(row, col + 1, HEAP_VIEW_DIM, "no live blocks");
    if (tags_dropped) /* more tags than the table holds */
        viz_printf(second, 64, HEAP_VIEW_DIM, "+%u blocks", tags_dropped);
}

/* A legend item: a character in its colour, then the words. */
static unsigned item(unsigned row, unsigned col, uint8_t ch, uint8_t fg, const char *words)
{
    viz_put(row, col, ch, vga_attr(fg, VGA_BLACK));
    return viz_text(row, col + 2, HEAP_VIEW_TEXT, words) + 2;
}

/* What the strip's and the zoom's colours and shades mean. */
static void draw_legend(void)
{
    const unsigned r = HEAP_VIEW_LEGEND_ROW;
    viz_put(r, 1, VIZ_BLOCK, vga_attr(HEAP_VIEW_MAP_COLOR, VGA_BLACK));
    unsigned col = item(r, 2, VIZ_SHADE_LIGHT, HEAP_VIEW_MAP_COLOR, "page map (backed, not)");
    col = item(r, col, VIZ_SHADE_LIGHT, HEAP_VIEW_FREE_COLOR, "free");
    col = item(r, col, VIZ_SHADE_MEDIUM, HEAP_VIEW_FREE_COLOR, "free, kept backed");
    col = item(r, col, VIZ_DOT, HEAP_VIEW_FREE_COLOR, "never used");
    item(r, col, VIZ_BLOCK, VGA_LIGHT_GREY, "run");
    col = viz_text(r + 1, 1, HEAP_VIEW_DIM, "Slab live slots:") + 1;
    viz_put(r + 1, col, VIZ_BLOCK, HEAP_VIEW_TEXT);
    viz_put(r + 1, col + 1, VIZ_SHADE_DARK, HEAP_VIEW_TEXT);
    viz_put(r + 1, col + 2, VIZ_SHADE_MEDIUM, HEAP_VIEW_TEXT);
    viz_put(r + 1, col + 3, VIZ_SHADE_LIGHT, HEAP_VIEW_TEXT);
    col = viz_text(r + 1, col + 5, HEAP_VIEW_TEXT, "all..none") + 2;
    col = viz_text(r + 1, col, HEAP_VIEW_DIM, "Zoom:") + 1;
    col = item(r + 1, col, VIZ_BLOCK, HEAP_VIEW_DEBUG_COLOR, "header/red zone");
    item(r + 1, col, VIZ_BLOCK, HEAP_VIEW_SLAB_HEADER_COLOR, "slab header");
}

/* viz_heap_draw_lower_panel - see heap_view.h. */
void viz_heap_draw_lower_panel(void)
{
    draw_guarded();
    draw_tags();
    draw_legend();
}
