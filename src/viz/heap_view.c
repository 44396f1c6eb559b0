/*
 * heap_view.c - F4: the kernel heap, page by page and byte range by byte
 * range.
 *
 *   rows 1-2    totals: live blocks and bytes, pages backed, overhead,
 *               fragmentation (what `heap` prints)
 *   row 3       the strip's heading: its range, pages per cell
 *   rows 4-8    the strip: the heap's pages from its start to the last one
 *               ever used, 64 cells a row, one page a cell (or N when there
 *               are more than 320); the cursor's row is lit at both ends
 *                 d0000000 #%..:#####,,,,,,,     (# used, : partly, . free,
 *                                                 , never used: as shades)
 *                 d0040000 ...                                        <
 *   row 9       a triangle under the cursor's column
 *   rows 10-12  zoom: the cursor's page in 64 cells of 64 bytes each, and
 *               the offsets +0 .. +4K under them
 *   rows 13-14  the block that owns most of that page (kheap_describe)
 *   rows 15-17  guarded blocks: | guard | body pages | guard | and where
 *   rows 18-19  blocks by tag, each tag in its colour
 *   rows 20-21  what the colours and shades mean
 *   row 22      a message after a key that does nothing here
 *
 * Every page is classified by heap_describe (its `what`), so this view
 * relies only on the heap's public API.  The strip, the tag totals and the
 * guarded list change only when the heap does: they are rebuilt when its
 * counters move, and a redraw otherwise costs one zoom (256 look-ups).
 */
#include "kernel/format.h"
#include "kernel/heap.h"
#include "kernel/kstring.h"
#include "kernel/timer.h"
#include "kernel/vga.h"
#include "kernel/viz.h"

#define STRIP_COLS 64
#define STRIP_ROWS 5
#define STRIP_CELLS (STRIP_COLS * STRIP_ROWS)
#define STRIP_LEFT 9 /* after an 8-digit address and a space */
#define STRIP_TOP 4
#define ZOOM_ROW 11
#define GRANULE 16 /* every slot, block start and run starts on one */
#define CHUNK (HEAP_PAGE / STRIP_COLS)
#define MAX_TAGS 16
#define MAX_GUARDED 32
#define MESSAGE_MS 3000

#define TEXT_ATTR vga_attr(VGA_LIGHT_GREY, VGA_BLACK)
#define HEAD_ATTR vga_attr(VGA_YELLOW, VGA_BLACK)
#define DIM_ATTR vga_attr(VGA_DARK_GREY, VGA_BLACK)
#define LIT_ATTR vga_attr(VGA_BLACK, VGA_LIGHT_GREY)
#define MESSAGE_ATTR vga_attr(VGA_BLACK, VGA_YELLOW)
#define FREE_COLOR VGA_DARK_GREY
#define MAP_COLOR VGA_BLUE
#define DEBUG_COLOR VGA_LIGHT_RED /* headers and red zones; guard pages */
#define SLAB_HEADER_COLOR VGA_LIGHT_GREY

/* What a page is, as heap_describe names it. */
enum page_kind { PAGE_NEVER, PAGE_FREE, PAGE_FREE_BACKED, PAGE_MAP, PAGE_SLAB, PAGE_RUN,
                 PAGE_DAMAGED };

/* What a 16-byte granule holds (the zoom row). */
enum byte_kind { BYTES_NEVER, BYTES_FREE, BYTES_MAP, BYTES_SLAB_HEADER, BYTES_DEBUG,
                 BYTES_OBJECT, BYTES_DAMAGED, BYTES_KINDS };

struct strip_cell {
    uint8_t kind, ch, attr;
};

struct tag_total {
    const char *tag;
    unsigned blocks;
    size_t bytes;
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
static struct tag_total tags[MAX_TAGS];
static unsigned tag_count, tags_dropped;
static struct heap_block_info guarded[MAX_GUARDED];
static unsigned guarded_count;
static unsigned cursor; /* a strip cell */
static char message[VGA_COLS + 1];
static uint64_t message_until;

static void say(const char *text)
{
    kstrlcpy(message, text, sizeof(message));
    message_until = timer_uptime_ms() + MESSAGE_MS;
}

/* heap_describe on the kernel heap.  It writes only the heap's own text
 * buffer (a run's `what`), and nothing changes the heap from interrupts,
 * so reading it here is safe. */
static void describe(uintptr_t addr, struct heap_block_info *b)
{
    heap_describe((struct heap *)kheap_core(), addr, b);
}

static uintptr_t page_addr(unsigned page)
{
    return kheap_core()->base + (uintptr_t)page * HEAP_PAGE;
}

/* A stable colour for a tag: its place in the heap's tag table (tags are
 * never removed from it, so eight tags get eight different colours), or a
 * small hash of its name for a tag the table lacks (a guarded block's). */
static uint8_t tag_color(const char *tag)
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

/* ---- the strip ----------------------------------------------------------- */

/* Pages below the first never-used one have all been used, pages past it
 * never: a binary search finds it in 16 look-ups. */
static unsigned find_top(void)
{
    unsigned lo = 0, hi = (unsigned)(kheap_core()->size / HEAP_PAGE);
    struct heap_block_info b;
    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;
        describe(page_addr(mid), &b);
        if (strcmp(b.what, "never used") == 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

static enum page_kind kind_of(const struct heap_block_info *b)
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

/* One page as a strip cell; *weight says how busy it is (the busiest page
 * looked at speaks for a cell of several). */
static struct strip_cell look_at_page(unsigned page, unsigned *weight)
{
    struct heap_block_info b;
    uintptr_t at = page_addr(page);
    describe(at, &b);
    struct strip_cell c = {(uint8_t)kind_of(&b), ' ', DIM_ATTR};
    *weight = c.kind;
    switch (c.kind) {
    case PAGE_NEVER:
        c.ch = VIZ_DOT;
        break;
    case PAGE_FREE:
    case PAGE_FREE_BACKED:
        c.ch = c.kind == PAGE_FREE ? VIZ_SHADE_LIGHT : VIZ_SHADE_MEDIUM;
        c.attr = vga_attr(FREE_COLOR, VGA_BLACK);
        break;
    case PAGE_MAP: /* backed from its start as far as the heap has grown */
        c.ch = page < map_backed ? VIZ_BLOCK : VIZ_SHADE_LIGHT;
        c.attr = vga_attr(MAP_COLOR, VGA_BLACK);
        break;
    case PAGE_RUN:
        c.ch = VIZ_BLOCK;
        c.attr = vga_attr(tag_color(b.tag), VGA_BLACK);
        *weight = 10;
        break;
    case PAGE_SLAB: {
        /* How full: four probes, one a KiB. */
        const char *tag = b.tag;
        unsigned live = b.live;
        for (unsigned k = 1; k < 4; k++) {
            describe(at + k * 1024, &b);
            live += b.live;
            if (!tag)
                tag = b.tag;
        }
        static const uint8_t shade[] = {VIZ_SHADE_LIGHT, VIZ_SHADE_MEDIUM, VIZ_SHADE_MEDIUM,
                                        VIZ_SHADE_DARK, VIZ_BLOCK};
        c.ch = shade[live];
        c.attr = vga_attr(tag_color(tag), VGA_BLACK);
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
    top_page = find_top();
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

/* ---- tags and guarded blocks (one walk over every live block) ------------ */

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
    tag_count = tags_dropped = guarded_count = 0;
    kheap_for_each_block(count_block, NULL);
}

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

/* ---- drawing ---------------------------------------------------------------- */

static void totals(const struct kheap_stats *s)
{
    const struct heap_stats *c = &s->core;
    char live[16], over[16], taken[16];
    size_t held = c->backed_pages * HEAP_PAGE;
    size_t overhead = held > c->live_bytes ? held - c->live_bytes : 0;
    format_size(live, sizeof(live), c->live_bytes);
    format_size(over, sizeof(over), overhead);
    format_size(taken, sizeof(taken), c->slot_bytes);
    viz_printf(1, 1, TEXT_ATTR, "Live %u blocks, %s asked for, %s taken | backed %u pages "
               "(map %u)", (unsigned)c->live_blocks, live, taken,
               (unsigned)c->backed_pages, (unsigned)c->map_pages);
    viz_printf(2, 1, TEXT_ATTR, "Overhead %s (%u%%) | fragmentation %u%% | %u slabs, "
               "%u runs | debug %s", over, held ? (unsigned)(overhead * 100 / held) : 0,
               heap_fragmentation(c),
               (unsigned)c->slabs, (unsigned)c->runs, kheap_core()->config.debug ? "on" : "off");
}

static void draw_strip(void)
{
    uintptr_t base = kheap_core()->base;
    viz_printf(3, 1, HEAD_ATTR, "Heap pages 0x%08x-0x%08x (%u used so far), %u page%s a cell",
               (unsigned)base, (unsigned)(page_addr(top_page) - 1), top_page, pages_per_cell,
               pages_per_cell == 1 ? "" : "s");
    unsigned rows = (strip_cells + STRIP_COLS - 1) / STRIP_COLS;
    for (unsigned r = 0; r < rows; r++) {
        bool lit = cursor / STRIP_COLS == r;
        viz_printf(STRIP_TOP + r, 0, lit ? LIT_ATTR : DIM_ATTR, "%08x",
                   (unsigned)page_addr(r * STRIP_COLS * pages_per_cell));
        for (unsigned col = 0; col < STRIP_COLS; col++) {
            unsigned i = r * STRIP_COLS + col;
            if (i < strip_cells)
                viz_put(STRIP_TOP + r, STRIP_LEFT + col, strip[i].ch, strip[i].attr);
            else /* past the top: never used */
                viz_put(STRIP_TOP + r, STRIP_LEFT + col, VIZ_DOT, DIM_ATTR);
        }
        if (lit)
            viz_put(STRIP_TOP + r, STRIP_LEFT + STRIP_COLS + 1, 0x11, LIT_ATTR); /* < */
    }
    viz_put(STRIP_TOP + STRIP_ROWS, STRIP_LEFT + cursor % STRIP_COLS, 0x1e,
            vga_attr(VGA_WHITE, VGA_BLACK)); /* ^ */
}

/* The zoom's findings: the live block with most bytes on the page. */
struct zoom_result {
    uintptr_t main_block, block, free_slot; /* the best, the current one, the last free slot */
    size_t main_bytes, bytes;
    unsigned live_blocks, free_slots;
};

/* The current block is done (blocks come in address order). */
static void block_done(struct zoom_result *z)
{
    if (z->block && z->bytes > z->main_bytes) {
        z->main_block = z->block;
        z->main_bytes = z->bytes;
    }
}

/* One 16-byte granule at g: how many of its bytes are of which kind. */
static void granule(uintptr_t g, unsigned bytes[BYTES_KINDS], const char **tag,
                    struct zoom_result *z)
{
    struct heap_block_info b;
    describe(g, &b);
    enum page_kind k = kind_of(&b);
    if (!b.live) {
        unsigned kind = k == PAGE_NEVER ? BYTES_NEVER : k == PAGE_MAP ? BYTES_MAP
                        : k == PAGE_DAMAGED ? BYTES_DAMAGED
                        : strcmp(b.what, "slab header") == 0 ? BYTES_SLAB_HEADER : BYTES_FREE;
        bytes[kind] += GRANULE;
        if (strcmp(b.what, "free slot") == 0 && b.block != z->free_slot) {
            z->free_slots++;
            z->free_slot = b.block;
        }
        return;
    }
    /* Live: header and padding before the object, red zone after it. */
    uintptr_t lo = g > b.block ? g : b.block, end = b.block + b.size;
    uintptr_t hi = g + GRANULE < end ? g + GRANULE : end;
    unsigned object = hi > lo ? (unsigned)(hi - lo) : 0;
    bytes[BYTES_OBJECT] += object;
    bytes[BYTES_DEBUG] += GRANULE - object;
    *tag = b.tag;
    if (b.block != z->block) {
        block_done(z);
        z->block = b.block;
        z->bytes = 0;
        z->live_blocks++;
    }
    z->bytes += object;
}

static uint8_t byte_color(unsigned kind, const char *tag)
{
    static const uint8_t colors[BYTES_KINDS] = {
        [BYTES_NEVER] = VGA_BLACK, [BYTES_FREE] = FREE_COLOR, [BYTES_MAP] = MAP_COLOR,
        [BYTES_SLAB_HEADER] = SLAB_HEADER_COLOR, [BYTES_DEBUG] = DEBUG_COLOR,
        [BYTES_DAMAGED] = VGA_RED,
    };
    return kind == BYTES_OBJECT ? tag_color(tag) : colors[kind];
}

static void draw_zoom(struct zoom_result *z)
{
    unsigned page = cursor * pages_per_cell;
    uintptr_t at = page_addr(page);
    struct heap_block_info b;
    describe(at, &b);
    memset(z, 0, sizeof(*z));
    for (unsigned col = 0; col < STRIP_COLS; col++) {
        unsigned bytes[BYTES_KINDS] = {0};
        const char *tag = NULL;
        for (unsigned g = 0; g < CHUNK; g += GRANULE)
            granule(at + col * CHUNK + g, bytes, &tag, z);
        /* The kind with most bytes colours the cell; a second one, if
         * any, shows through as the background of a shade. */
        unsigned major = 0, minor = BYTES_KINDS;
        for (unsigned k = 1; k < BYTES_KINDS; k++)
            if (bytes[k] > bytes[major])
                major = k;
        for (unsigned k = 0; k < BYTES_KINDS; k++)
            if (k != major && bytes[k] && (minor == BYTES_KINDS || bytes[k] > bytes[minor]))
                minor = k;
        uint8_t ch = major == BYTES_NEVER ? ' ' : major == BYTES_FREE ? VIZ_SHADE_LIGHT
                                                                     : VIZ_BLOCK;
        uint8_t bg = VGA_BLACK;
        if (minor != BYTES_KINDS) {
            ch = bytes[major] >= CHUNK * 3 / 4 ? VIZ_SHADE_DARK : VIZ_SHADE_MEDIUM;
            bg = byte_color(minor, tag);
        }
        viz_put(ZOOM_ROW, STRIP_LEFT + col, ch, vga_attr(byte_color(major, tag), bg));
    }
    block_done(z);
    if (kind_of(&b) == PAGE_SLAB)
        viz_printf(ZOOM_ROW - 1, 1, HEAD_ATTR, "Page 0x%08x, 64 B a cell: slab of tag %s, "
                   "%u live block%s, %u free slot%s", (unsigned)at, b.tag ? b.tag : "?",
                   z->live_blocks, z->live_blocks == 1 ? "" : "s", z->free_slots,
                   z->free_slots == 1 ? "" : "s");
    else
        viz_printf(ZOOM_ROW - 1, 1, HEAD_ATTR, "Page 0x%08x, 64 B a cell: %s%s%s", (unsigned)at,
                   b.what, b.live ? ", tag " : "", b.live ? b.tag : "");
    viz_printf(ZOOM_ROW, 0, DIM_ATTR, "%08x", (unsigned)at);
    for (unsigned k = 0; k <= 4; k++)
        viz_printf(ZOOM_ROW + 1, STRIP_LEFT + k * 16, DIM_ATTR, k ? "+%uK" : "+0", k);
}

/* text on up to two rows, broken at a space. */
static void two_rows(unsigned row, uint8_t attr, const char *text)
{
    size_t n = strlen(text), width = VGA_COLS - 2, cut = n;
    if (n > width) {
        for (cut = width; cut > 0 && text[cut] != ' '; cut--)
            ;
        if (cut == 0)
            cut = width;
    }
    char first[VGA_COLS];
    kstrlcpy(first, text, cut + 1 < sizeof(first) ? cut + 1 : sizeof(first));
    viz_text(row, 1, attr, first);
    if (cut < n)
        viz_text(row + 1, 3, attr, text + cut + (text[cut] == ' '));
}

static void draw_info(const struct zoom_result *z)
{
    char text[160];
    if (!z->main_block) {
        viz_text(13, 1, TEXT_ATTR, "No live block on this page (arrows move, Tab finds the "
                                   "next page with blocks).");
        return;
    }
    if (!kheap_describe(z->main_block, text, sizeof(text)))
        ksnprintf(text, sizeof(text), "0x%08x: not a heap address", (unsigned)z->main_block);
    text[0] = text[0] == 'i' ? 'I' : text[0];
    two_rows(13, TEXT_ATTR, text);
}

/* One guarded block a row: | guard | body pages | guard |, and where. */
static void draw_guarded(void)
{
    viz_printf(15, 1, HEAD_ATTR, "Guarded blocks: %u%s, each between two unmapped guard pages",
               guarded_count, guarded_count > 2 ? " (2 shown)" : "");
    if (guarded_count == 0) {
        viz_text(16, 3, DIM_ATTR, "none (`heap guard` makes one and runs off its end)");
        return;
    }
    uint8_t guard = vga_attr(DEBUG_COLOR, VGA_BLACK);
    for (unsigned i = 0; i < guarded_count && i < 2; i++) {
        const struct heap_block_info *g = &guarded[i];
        unsigned row = 16 + i, col = 1, pages = (unsigned)(g->slot / HEAP_PAGE);
        uintptr_t body = g->block + g->size - g->slot; /* the block ends at the upper guard */
        viz_put(row, col++, VIZ_SHADE_MEDIUM, guard);
        for (unsigned p = 0; p < pages && p < 4; p++)
            viz_put(row, col++, VIZ_BLOCK, vga_attr(tag_color(g->tag), VGA_BLACK));
        viz_put(row, col++, VIZ_SHADE_MEDIUM, guard);
        viz_printf(row, 7, TEXT_ATTR, "0x%08x %u B tag %.10s; guard pages 0x%08x, 0x%08x",
                   (unsigned)g->block, (unsigned)g->size, g->tag ? g->tag : "?",
                   (unsigned)(body - HEAP_PAGE), (unsigned)(body + g->slot));
    }
}

static void draw_tags(void)
{
    unsigned row = 18, col = viz_text(row, 1, HEAD_ATTR, "By tag:");
    for (unsigned i = 0; i < tag_count; i++) {
        char size[16], item[48];
        format_size(size, sizeof(size), tags[i].bytes);
        ksnprintf(item, sizeof(item), "%s %u (%s)", tags[i].tag, tags[i].blocks, size);
        unsigned need = 3 + (unsigned)strlen(item);
        if (col + need >= VGA_COLS) {
            if (row == 19)
                break;
            row = 19;
            col = 8;
        }
        viz_put(row, col + 1, VIZ_BLOCK, vga_attr(tag_color(tags[i].tag), VGA_BLACK));
        col = viz_text(row, col + 3, TEXT_ATTR, item);
    }
    if (tag_count == 0)
        viz_text(row, col + 1, DIM_ATTR, "no live blocks");
    if (tags_dropped) /* more tags than the table holds */
        viz_printf(19, 64, DIM_ATTR, "+%u blocks", tags_dropped);
}

/* A legend item: a character in its colour, then the words. */
static unsigned item(unsigned row, unsigned col, uint8_t ch, uint8_t fg, const char *words)
{
    viz_put(row, col, ch, vga_attr(fg, VGA_BLACK));
    return viz_text(row, col + 2, TEXT_ATTR, words) + 2;
}

static void draw_legend(void)
{
    viz_put(20, 1, VIZ_BLOCK, vga_attr(MAP_COLOR, VGA_BLACK));
    unsigned col = item(20, 2, VIZ_SHADE_LIGHT, MAP_COLOR, "page map (backed, not)");
    col = item(20, col, VIZ_SHADE_LIGHT, FREE_COLOR, "free");
    col = item(20, col, VIZ_SHADE_MEDIUM, FREE_COLOR, "free, kept backed");
    col = item(20, col, VIZ_DOT, FREE_COLOR, "never used");
    item(20, col, VIZ_BLOCK, VGA_LIGHT_GREY, "run");
    col = viz_text(21, 1, DIM_ATTR, "Slab live slots:") + 1;
    viz_put(21, col, VIZ_BLOCK, TEXT_ATTR);
    viz_put(21, col + 1, VIZ_SHADE_DARK, TEXT_ATTR);
    viz_put(21, col + 2, VIZ_SHADE_MEDIUM, TEXT_ATTR);
    viz_put(21, col + 3, VIZ_SHADE_LIGHT, TEXT_ATTR);
    col = viz_text(21, col + 5, TEXT_ATTR, "all..none") + 2;
    col = viz_text(21, col, DIM_ATTR, "Zoom:") + 1;
    col = item(21, col, VIZ_BLOCK, DEBUG_COLOR, "header/red zone");
    item(21, col, VIZ_BLOCK, SLAB_HEADER_COLOR, "slab header");
}

static void draw_heap(void)
{
    struct kheap_stats s;
    kheap_get_stats(&s);
    refresh(&s);
    if (cursor >= strip_cells)
        cursor = strip_cells - 1;
    totals(&s);
    draw_strip();
    struct zoom_result z;
    draw_zoom(&z);
    draw_info(&z);
    draw_guarded();
    draw_tags();
    draw_legend();
    if (message[0] && timer_uptime_ms() < message_until)
        viz_text(22, 1, MESSAGE_ATTR, message);
}

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
