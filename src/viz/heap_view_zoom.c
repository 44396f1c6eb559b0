/*
 * heap_view_zoom.c - the heap view's (F4) close-up: the page under the
 * cursor, 64 bytes a cell, and the block that owns most of it.
 *
 *   row 10  Page 0xd0040000, 64 B a cell: slab of tag net, 1 live block, 27 ...
 *   row 11  d0040000 ▓▓▓░░░░░░░░░░░░░░░░ ... ░░░░░░░░░░░░░░░░░░░░░█   (64 cells)
 *   row 12           +0              +1K   ...         +3K             +4K
 *   row 13  Inside the 100-byte heap block at 0xd0040010 (+0; tag net, ...
 *   row 14    cmd_kmalloc+0x4a)          (the sentence's end, when it is long)
 *
 * Each cell is four 16-byte granules (every slot, block start and run
 * starts on one), each looked up with heap_describe: a redraw costs 256
 * look-ups.  The kind with most bytes in a cell colours it; a second kind,
 * if any, shows through as the background of a shade, so a block's header
 * or red zone is seen even when it is smaller than a cell.
 */
#include "kernel/format.h"
#include "kernel/heap.h"
#include "kernel/kstring.h"
#include "kernel/vga.h"
#include "kernel/viz.h"
#include "heap_view.h"

#define GRANULE 16 /* every slot, block start and run starts on one */
#define CHUNK (HEAP_PAGE / HEAP_VIEW_STRIP_COLS)

/* What a 16-byte granule holds. */
enum byte_kind { BYTES_NEVER, BYTES_FREE, BYTES_MAP, BYTES_SLAB_HEADER, BYTES_DEBUG,
                 BYTES_OBJECT, BYTES_DAMAGED, BYTES_KINDS };

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
    viz_heap_describe(g, &b);
    enum heap_view_page_kind k = viz_heap_page_kind(&b);
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
        [BYTES_NEVER] = VGA_BLACK,
        [BYTES_FREE] = HEAP_VIEW_FREE_COLOR,
        [BYTES_MAP] = HEAP_VIEW_MAP_COLOR,
        [BYTES_SLAB_HEADER] = HEAP_VIEW_SLAB_HEADER_COLOR,
        [BYTES_DEBUG] = HEAP_VIEW_DEBUG_COLOR,
        [BYTES_DAMAGED] = VGA_RED,
    };
    return kind == BYTES_OBJECT ? viz_heap_tag_color(tag) : colors[kind];
}

/* Rows 10-12: the heading, the 64 cells, the offsets under them. */
static void draw_cells(unsigned page, struct zoom_result *z)
{
    const unsigned row = HEAP_VIEW_ZOOM_ROW, left = HEAP_VIEW_STRIP_LEFT;
    uintptr_t at = viz_heap_page_addr(page);
    struct heap_block_info b;
    viz_heap_describe(at, &b);
    memset(z, 0, sizeof(*z));
    for (unsigned col = 0; col < HEAP_VIEW_STRIP_COLS; col++) {
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
        viz_put(row, left + col, ch, vga_attr(byte_color(major, tag), bg));
    }
    block_done(z);
    /* (b was described before the granules: a run's `what` lives in the
     * heap's one text buffer, and every granule of this page rewrites it
     * with the same run's words.) */
    if (viz_heap_page_kind(&b) == PAGE_SLAB)
        viz_printf(row - 1, 1, HEAP_VIEW_HEAD, "Page 0x%08x, 64 B a cell: slab of tag %s, "
                   "%u live block%s, %u free slot%s", (unsigned)at, b.tag ? b.tag : "?",
                   z->live_blocks, z->live_blocks == 1 ? "" : "s", z->free_slots,
                   z->free_slots == 1 ? "" : "s");
    else
        viz_printf(row - 1, 1, HEAP_VIEW_HEAD, "Page 0x%08x, 64 B a cell: %s%s%s",
                   (unsigned)at, b.what, b.live ? ", tag " : "", b.live ? b.tag : "");
    viz_printf(row, 0, HEAP_VIEW_DIM, "%08x", (unsigned)at);
    for (unsigned k = 0; k <= 4; k++)
        viz_printf(row + 1, left + k * 16, HEAP_VIEW_DIM, k ? "+%uK" : "+0", k);
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

/* Rows 13-14: the block with most bytes on the page, in a sentence. */
static void draw_main_block(const struct zoom_result *z)
{
    char text[160];
    if (!z->main_block) {
        viz_text(HEAP_VIEW_INFO_ROW, 1, HEAP_VIEW_TEXT, "No live block on this page (arrows "
                 "move, Tab finds the next page with blocks).");
        return;
    }
    if (!kheap_describe(z->main_block, text, sizeof(text)))
        ksnprintf(text, sizeof(text), "0x%08x: not a heap address", (unsigned)z->main_block);
    text[0] = text[0] == 'i' ? 'I' : text[0];
    two_rows(HEAP_VIEW_INFO_ROW, HEAP_VIEW_TEXT, text);
}

/* viz_heap_draw_zoom - see heap_view.h. */
void viz_heap_draw_zoom(unsigned page)
{
    struct zoom_result z;
    draw_cells(page, &z);
    draw_main_block(&z);
}
