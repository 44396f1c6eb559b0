/*
 * heap_core.c - the heap's entry points: allocating, freeing and resizing
 * blocks, and the counters (pure).
 *
 * The fast paths are written out here, not in heap_slab.c, because they
 * are the whole cost of kmalloc/kfree.  With debug off:
 *
 *   alloc: class from class_of_size; the (class, tag) partial list's head;
 *          its lowest clear bit (from the slab's hint) set; the slab off
 *          the list if that was its last free slot; counters.  Taken
 *          whenever the list has a slab.
 *   free:  the page's map entry says "slab, class c, page k"; slot index
 *          by multiply (class table); the pointer must be the slot's start
 *          (else an interior pointer) and its bit set (else a double
 *          free); clear it; the slab onto its list if it was full;
 *          counters.  Taken unless the slab empties (it may be given back).
 *
 * Neither touches the block's own memory: on a big heap it is cold, and
 * its cache miss would be most of the cost.  The counters they keep are
 * allocs, frees and slot_bytes; heap_get_stats derives the rest.
 *
 * Everything else (debug mode, aligned blocks, runs, a slab empty or to
 * be made, every misuse) goes through the general paths below, which
 * locate the block from the pointer (heap_locate, heap_debug.c) and
 * report what is wrong.
 *
 * Large blocks (above HEAP_SMALL_MAX, and with debug off the whole-page
 * classes 4096 and 8192) are runs of whole pages.  With debug on they
 * carry the same header as a slot, and their red zone goes from the
 * object's end to the end of the run's last page (so a run's red zone is
 * HEAP_DEBUG_TAIL_MIN bytes or more).
 *
 * realloc keeps a block in place whenever it can: a slot while the new
 * size fits it, a run shrunk by giving back its tail pages or grown into
 * free pages right after it; only otherwise does it move.
 */
#define HEAP_CORE_PRIVATE
#include "kernel/heap_core.h"
#include "kernel/kstring.h"

#define HOT static inline __attribute__((always_inline))
#define COLD static __attribute__((noinline)) /* off the fast path: no frame there */

/* ---- init ------------------------------------------------------------- */

bool heap_init(struct heap *h, uintptr_t base, size_t size, const struct heap_pages *pages,
               const struct heap_config *config)
{
    if (!h || !pages || !pages->back || !pages->release || base == 0 ||
            (base & (HEAP_PAGE - 1)) != 0 || (size & (HEAP_PAGE - 1)) != 0 ||
            size < 16 * HEAP_PAGE || size / HEAP_PAGE > HEAP_MAX_PAGES ||
            size - 1 > UINTPTR_MAX - base)
        return false;
    memset(h, 0, sizeof *h);
    h->base = base;
    h->size = size;
    h->pages = *pages;
    if (config)
        h->config = *config;
    h->total_pages = (uint32_t)(size / HEAP_PAGE);
    h->tags[0] = "kmalloc";
    h->tag_count = 1;
    if (!heap_classes_init(h) || !heap_pages_init(h)) {
        memset(h, 0, sizeof *h);
        return false;
    }
    return true;
}

/* ---- allocating --------------------------------------------------------- */

/* The class for a request, or -1 for a run.  An aligned block (align > 16)
 * needs a slot that places it: with debug off a power-of-two class at
 * least max(size, align) (its slots are naturally aligned); with debug on
 * any slot of align + size + tail bytes, which has an aligned point at
 * least 16 bytes (the header) and at most align bytes in. */
static int pick_class(const struct heap *h, size_t size, size_t align)
{
    int c = -1;
    if (size > HEAP_SMALL_MAX)
        return -1;
    if (align <= HEAP_MIN_ALIGN) {
        c = h->class_of_size[(size + 15) >> 4];
    } else {
        size_t need = h->config.debug ? align + size + HEAP_DEBUG_TAIL_MIN
                                      : (size > align ? size : align);
        for (uint32_t k = 0; k < h->class_count && c < 0; k++) {
            const struct heap_class *hc = &h->classes[k];
            if (h->config.debug ? hc->slot >= need
                                : hc->size >= need && (hc->size & (hc->size - 1)) == 0)
                c = (int)k;
        }
    }
    /* A class of whole pages (4096 and 8192 with debug off) is served by
     * runs: the same bytes, but a slab of them would lose a slot's worth
     * of each slab to its header (7.7%), and keep its emptied slots. */
    if (c >= 0 && h->classes[c].slot % HEAP_PAGE == 0)
        return -1;
    return c;
}

static void *run_alloc(struct heap *h, size_t size, size_t align, uint32_t t, uint32_t site,
                       struct heap_report *r)
{
    bool dbg = h->config.debug;
    size_t lead = dbg ? (align > 16 ? align : 16) : 0;
    size_t tail = dbg ? HEAP_DEBUG_TAIL_MIN : 0;
    size_t room = (size_t)(h->total_pages - h->map_pages_total) * HEAP_PAGE - lead - tail;
    if (size > room) {
        heap_report_set(r, HEAP_TOO_LARGE, 0, 0, size, heap_tag_name(h, t), site, 0,
                        "larger than the heap's range");
        h->stats.failed_allocs++;
        return NULL;
    }
    uint32_t pages = (uint32_t)((lead + size + tail + HEAP_PAGE - 1) / HEAP_PAGE);
    if (pages == 0) /* size 0 (aligned, debug off) is a block too */
        pages = 1;
    uint32_t first = heap_pages_take(h, pages, r);
    if (first == 0) {
        if (r)
            r->tag = heap_tag_name(h, t);
        h->stats.failed_allocs++;
        return NULL;
    }
    h->map[first] = HEAP_MAP_MAKE(HEAP_MAP_RUN, pages | t << 20);
    for (uint32_t k = 1; k < pages; k++)
        h->map[first + k] = HEAP_MAP_MAKE(HEAP_MAP_RUN_TAIL, k);
    uintptr_t run = heap_page_addr(h, first), obj = run;
    size_t bytes = (size_t)pages * HEAP_PAGE;
    if (dbg)
        obj = heap_debug_lay(run, bytes, lead, size, site);
    h->stats.allocs++;
    h->stats.runs++;
    h->stats.live_bytes += dbg ? size : 0;
    h->stats.slot_bytes += bytes;
    h->run_bytes += bytes;
    return (void *)obj;
}

/* Every allocation but the fast path's. */
COLD void *alloc_any(struct heap *h, size_t size, size_t align, uint32_t t, uint32_t site,
                     struct heap_report *r)
{
    int c = pick_class(h, size, align);
    if (c < 0)
        return run_alloc(h, size, align, t, site, r);
    uintptr_t slot = heap_slab_take(h, (uint32_t)c, t, r);
    if (slot == 0) {
        h->stats.failed_allocs++;
        return NULL;
    }
    size_t bytes = h->classes[c].slot;
    uintptr_t obj = slot;
    if (h->config.debug) {
        if (!heap_debug_poison_ok(slot, bytes, heap_tag_name(h, t), r))
            heap_debug_poison(slot, bytes); /* handed out clean all the same */
        size_t lead = 16;
        if (align > 16)
            lead = ((slot + 16 + align - 1) & ~(uintptr_t)(align - 1)) - slot;
        obj = heap_debug_lay(slot, bytes, lead, size, site);
    }
    h->stats.allocs++;
    h->stats.live_bytes += h->config.debug ? size : 0;
    h->stats.slot_bytes += bytes;
    return (void *)obj;
}

/* The fast path for tag index t (see the top of the file). */
HOT void *alloc_fast(struct heap *h, size_t size, uint32_t t, uint32_t site,
                     struct heap_report *r)
{
    if (size <= HEAP_SMALL_MAX && !h->config.debug) {
        uint32_t c = h->class_of_size[(size + 15) >> 4];
        struct heap_slab *s = h->partial[c][t];
        if (s && s != h->empty[c]) {
            uint32_t i = heap_slab_pop(s, heap_slab_words(h->fast[c].slots));
            if (i != UINT32_MAX) {
                if (s->free_count == 0) { /* full: the head leaves its list */
                    struct heap_slab *next = s->next;
                    h->partial[c][t] = next;
                    s->next = NULL;
                    if (next) { /* the new head: no back link; wanted soon */
                        h->map[heap_slab_page(h, next, c)] &= ~HEAP_MAP_PREV_MASK;
                        __builtin_prefetch(next, 1);
                    }
                }
                uint32_t slot = h->fast[c].slot;
                h->stats.allocs++;
                h->stats.slot_bytes += slot;
                return (void *)((uintptr_t)s - h->fast[c].hdr_off + (uintptr_t)i * slot);
            }
        }
    }
    return alloc_any(h, size, HEAP_MIN_ALIGN, t, site, r);
}

/* A tagged allocation: the tag's index first, then the same fast path
 * (apart, so that the untagged path makes no call that would cost it its
 * registers). */
static __attribute__((noinline)) void *alloc_tagged(struct heap *h, size_t size,
                                                    const char *tag, uint32_t site,
                                                    struct heap_report *r)
{
    return alloc_fast(h, size, heap_tag_index(h, tag), site, r);
}

void *heap_alloc(struct heap *h, size_t size, const char *tag, uint32_t site,
                 struct heap_report *r)
{
    if (tag)
        return alloc_tagged(h, size, tag, site, r);
    return alloc_fast(h, size, 0, site, r);
}

void *heap_alloc_aligned(struct heap *h, size_t size, size_t align, const char *tag,
                         uint32_t site, struct heap_report *r)
{
    if (align == 0 || (align & (align - 1)) != 0 || align > HEAP_PAGE) {
        heap_report_set(r, HEAP_BAD_ALIGN, 0, 0, size, tag, site, 0,
                        "alignment not a power of two up to 4096");
        h->stats.failed_allocs++;
        return NULL;
    }
    if (align <= HEAP_MIN_ALIGN)
        return heap_alloc(h, size, tag, site, r);
    return alloc_any(h, size, align, (tag ? heap_tag_index(h, tag) : 0), site, r);
}

/* ---- freeing -------------------------------------------------------------- */

/* Free a located, verified block whose requested size is req. */
static void release(struct heap *h, const struct heap_loc *l, size_t req)
{
    h->stats.frees++;
    h->stats.live_bytes -= h->config.debug ? req : 0;
    h->stats.slot_bytes -= l->bytes;
    if (l->slab) {
        if (h->config.debug)
            heap_debug_poison(l->slot, l->bytes);
        heap_slab_put(h, l->slab, l->index);
    } else {
        h->stats.runs--;
        h->run_bytes -= l->bytes;
        heap_pages_give(h, l->first, l->pages);
    }
    /* If the block's page is free now (a run, or the slab went back),
     * remember where the block started, to name a second free of it. */
    uintptr_t off = l->obj - h->base;
    if (HEAP_MAP_KIND(h->map[off >> 12]) == HEAP_MAP_FREE)
        h->map[off >> 12] |= HEAP_MAP_FREED | (uint32_t)(off & (HEAP_PAGE - 1));
}

COLD bool free_any(struct heap *h, void *p, struct heap_report *r)
{
    struct heap_loc l;
    if (!heap_locate_checked(h, (uintptr_t)p, &l, r)) {
        h->stats.bad_frees++;
        return false;
    }
    uint32_t site;
    release(h, &l, heap_block_requested(h, &l, &site));
    return true;
}

/* The fast free's less common half: slot i of the full slab s (class c,
 * first page `page`) comes back, and the slab joins its list's head.
 * (Apart, so that the common half needs no saved registers.) */
static __attribute__((noinline)) bool free_into_full(struct heap *h, struct heap_slab *s,
                                                     uint32_t c, uint32_t i, uint32_t page)
{
    struct heap_slab **head = &h->partial[c][s->tag], *old = *head;
    s->bits[i >> 5] &= ~(1u << (i & 31));
    s->hint = i >> 5;  /* (every word was full) */
    s->free_count = 1;
    s->next = old;     /* a full slab has no back link, */
    if (old)           /* and the old head had none either */
        h->map[heap_slab_page(h, old, c)] |= page << HEAP_MAP_PREV_SHIFT;
    *head = s;
    h->stats.frees++;
    h->stats.slot_bytes -= h->fast[c].slot;
    return true;
}

bool heap_free(struct heap *h, void *p, struct heap_report *r)
{
    uintptr_t a = (uintptr_t)p, off = a - h->base;
    if (off < h->fast_limit) { /* (0 with debug on) */
        uint32_t e = h->map[off >> 12], c = HEAP_MAP_CLASS(e);
        if (HEAP_MAP_KIND(e) == HEAP_MAP_SLAB) {
            /* The slot from the map entry and the class table alone; the
             * slab header is read once, for the bitmap and the count. */
            uint32_t rel = (uint32_t)(off & (HEAP_PAGE - 1)) + (HEAP_MAP_SLAB_PAGE(e) << 12);
            uint64_t q = (uint64_t)rel * h->fast[c].recip;
            uint32_t i = (uint32_t)(q >> 32), w = i >> 5, m = 1u << (i & 31);
            struct heap_slab *s = (struct heap_slab *)(a - rel + h->fast[c].hdr_off);
            /* (uint32_t)q < recip: rel is a multiple of the slot size */
            if ((uint32_t)q < h->fast[c].recip && i < h->fast[c].slots && (s->bits[w] & m) &&
                    s->free_count + 1u < h->fast[c].slots) { /* (else it empties: slow) */
                if (s->free_count == 0)
                    return free_into_full(h, s, c, i, (uint32_t)((off - rel) >> 12));
                s->bits[w] &= ~m;
                s->hint = w < s->hint ? w : s->hint;
                s->free_count++;
                h->stats.frees++;
                h->stats.slot_bytes -= h->fast[c].slot;
                return true;
            }
        }
    }
    return p ? free_any(h, p, r) : true;
}

/* ---- sizes and resizing --------------------------------------------------- */

size_t heap_block_size(struct heap *h, const void *p, struct heap_report *r)
{
    struct heap_loc l;
    if (!heap_locate_checked(h, (uintptr_t)p, &l, r))
        return 0;
    uint32_t site;
    return heap_block_requested(h, &l, &site);
}

/* Resize the verified block l in place if it can be: true if done. */
static bool resize_in_place(struct heap *h, const struct heap_loc *l, size_t old, size_t size,
                            uint32_t site)
{
    bool dbg = h->config.debug;
    size_t lead = l->obj - l->slot, tail = dbg ? HEAP_DEBUG_TAIL_MIN : 0;
    if (size > h->size)
        return false;
    if (l->slab) {
        if (lead + size + tail > l->bytes)
            return false;
        if (dbg) {
            heap_debug_lay(l->slot, l->bytes, lead, size, site);
            h->stats.live_bytes = h->stats.live_bytes - old + size;
        }
        return true;
    }
    uint32_t need = (uint32_t)((lead + size + tail + HEAP_PAGE - 1) / HEAP_PAGE);
    if (need < l->pages)
        heap_pages_give(h, l->first + need, l->pages - need);
    else if (need > l->pages && !heap_pages_grow(h, l->first, l->pages, need - l->pages))
        return false;
    h->map[l->first] = HEAP_MAP_MAKE(HEAP_MAP_RUN, need | l->tag << 20);
    for (uint32_t k = l->pages; k < need; k++)
        h->map[l->first + k] = HEAP_MAP_MAKE(HEAP_MAP_RUN_TAIL, k);
    size_t bytes = (size_t)need * HEAP_PAGE;
    h->stats.slot_bytes = h->stats.slot_bytes - l->bytes + bytes;
    h->run_bytes = h->run_bytes - l->bytes + bytes;
    if (dbg) {
        h->stats.live_bytes = h->stats.live_bytes - old + size;
        heap_debug_lay(l->slot, bytes, lead, size, site);
    }
    return true;
}

void *heap_realloc(struct heap *h, void *p, size_t size, uint32_t site, struct heap_report *r)
{
    if (!p)
        return heap_alloc(h, size, NULL, site, r);
    if (size == 0) {
        heap_free(h, p, r);
        return NULL;
    }
    struct heap_loc l;
    if (!heap_locate_checked(h, (uintptr_t)p, &l, r)) {
        h->stats.bad_frees++;
        return NULL;
    }
    uint32_t old_site;
    size_t old = heap_block_requested(h, &l, &old_site);
    if (resize_in_place(h, &l, old, size, site))
        return p;
    void *q = heap_alloc(h, size, heap_tag_name(h, l.tag), site, r);
    if (!q)
        return NULL;
    memcpy(q, p, old < size ? old : size);
    release(h, &l, old);
    return q;
}

/* heap_stats_now - the counters with the derived ones filled in (the
 * fast paths keep only allocs, frees and slot_bytes up to date). */
void heap_stats_now(const struct heap *h, struct heap_stats *out)
{
    *out = h->stats;
    out->live_blocks = (size_t)(h->stats.allocs - h->stats.frees);
    if (!h->config.debug)
        out->live_bytes = h->stats.slot_bytes;
    out->free_slot_bytes = h->slab_bytes - (h->stats.slot_bytes - h->run_bytes);
    out->map_pages = h->map_pages_backed;
    out->free_backed_pages = h->retained;
}

void heap_get_stats(const struct heap *h, struct heap_stats *out)
{
    heap_stats_now(h, out);
    out->largest_free_run = heap_pages_largest_free(h);
}
