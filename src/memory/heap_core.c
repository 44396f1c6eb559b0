/*
 * heap_core.c - the heap's entry points: allocating and freeing blocks,
 * and the counters (pure).  (A block's size and realloc: heap_resize.c.)
 *
 * The fast paths are written out here, not in heap_slab.c, because they
 * are the whole cost of kmalloc/kfree.  With debug off:
 *
 *   free:  the page's map entry says "slab, class c, page k"; slot index
 *          by multiply (class table); the pointer must be the slot's start
 *          (else an interior pointer), its bit set and the slot not parked
 *          (else a double free).  A slot of a full untagged slab is then
 *          parked in the class's magazine, and the slab left as it is:
 *          full, off its list, its header only read; any other slot has
 *          its bit cleared.  Taken unless the slab might empty.
 *   alloc: untagged, the class's last parked slot if there is one, the
 *          slab not touched at all; else the (class, tag) partial list's
 *          head: its lowest clear bit (from the slab's hint) set, the
 *          slab off the list if that was its last free slot.
 *
 * Why park: most frees hit a full slab (slabs fill from the head of their
 * list); each such free put its slab on the list and the next alloc took
 * it off again, writing two slabs' links, the map and the header.  A
 * parked slot keeps its bit set, so only the magazine knows it is free:
 * the fast free looks there too (16 compares, vector instructions where
 * the compiler may), as do heap_locate, heap_check and heap_walk.  No
 * slab may be left with no live slot while some of its slots are parked:
 * the fast free counts every parked slot of the class as the slab's,
 * free_rare counts exactly, and heap_slab_put takes a slab's parked slots
 * back before it may empty it.  Only full slabs park: others keep
 * draining (parking any slot held 0.5% more at bench_heap's peak).
 *
 * Neither touches the block's own memory: on a big heap it is cold, and
 * its cache miss would be most of the cost.  They count allocs, frees
 * and slot_bytes, and per class the slots parked and taken back;
 * heap_stats_now derives the rest.
 *
 * Everything else (debug mode, aligned blocks, runs, a slab empty or to
 * be made, every misuse) goes through the general paths below, which
 * locate the block from the pointer (heap_locate, heap_debug.c) and
 * report what is wrong.
 *
 * Large blocks (above HEAP_SMALL_MAX, and with debug off the whole-page
 * classes 4096 and 8192) are runs of whole pages; with debug on they carry
 * a slot's header, and their red zone runs to the end of their last page.
 */
#include "kernel/kstring.h"
#include "heap_internal.h"

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

/* The slab path for tag index t (see the top of the file); runs, and
 * whatever cannot be done here, go to alloc_any. */
HOT void *alloc_slab(struct heap *h, size_t size, uint32_t t, uint32_t site,
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

/* The slab path, apart from heap_alloc (so that taking a parked slot
 * saves no registers and makes no call), untagged or tagged. */
COLD void *alloc_untagged(struct heap *h, size_t size, uint32_t site, struct heap_report *r)
{
    return alloc_slab(h, size, 0, site, r);
}

COLD void *alloc_tagged(struct heap *h, size_t size, const char *tag, uint32_t site,
                        struct heap_report *r)
{
    return alloc_slab(h, size, heap_tag_index(h, tag), site, r);
}

void *heap_alloc(struct heap *h, size_t size, const char *tag, uint32_t site,
                 struct heap_report *r)
{
    if (!tag && size <= HEAP_SMALL_MAX) {
        /* The slot parked last, if any (none with debug on, nor in the
         * run classes): it is marked handed out in its slab already. */
        uint32_t c = h->class_of_size[(size + 15) >> 4], n = h->mag_n[c];
        if (n != 0) {
            uint32_t off = h->mag[c][--n];
            h->mag[c][n] = 0;
            h->mag_n[c] = n;
            h->unparks[c]++;
            return (void *)(h->base + off);
        }
    }
    return tag ? alloc_tagged(h, size, tag, site, r) : alloc_untagged(h, size, site, r);
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

/* heap_release - free the located, verified block l, whose requested
 * size is req: the slot back to its slab or the run's pages back, the
 * counters, and the mark that names a second free of it (heap_core.h). */
void heap_release(struct heap *h, const struct heap_loc *l, size_t req)
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
    heap_release(h, &l, heap_block_requested(h, &l, &site));
    return true;
}

/* The two common ends of a free: the slot at `off` parked as entry n of
 * class c's magazine (n < HEAP_MAG), or slot i's bit cleared in s, which
 * had fc free slots.  (park is inline in heap_free, unset a call: fewer
 * registers for heap_free to save.) */
HOT void park(struct heap *h, uint32_t c, uint32_t n, uint32_t off)
{
    h->mag[c][n] = off;
    h->mag_n[c] = n + 1;
    h->parks[c]++;
}

COLD bool unset(struct heap *h, struct heap_slab *s, uint32_t c, uint32_t i, uint32_t fc)
{
    uint32_t w = i >> 5;
    s->bits[w] &= ~(1u << (i & 31));
    s->hint = w < s->hint ? w : s->hint;
    s->free_count = fc + 1;
    h->stats.frees++;
    h->stats.slot_bytes -= h->fast[c].slot;
    return true;
}

/* The fast free's less common half, for slot i (at `off`) of s, class
 * c: s full and the magazine too (or s tagged), or s so empty that the
 * free might empty it by heap_free's count (every parked slot of the
 * class taken as s's).  Counted exactly here: if s does empty, the slow
 * path gives it back; else the slot is parked, or s joins its list's
 * head if it was full.  (Apart: heap_free then saves fewer registers.) */
COLD bool free_rare(struct heap *h, struct heap_slab *s, uint32_t c, uint32_t i, uint32_t off,
                    struct heap_report *r)
{
    uint32_t n = h->mag_n[c], fc = s->free_count, page = heap_slab_page(h, s, c), k = n;
    if (fc + 1u + k >= h->fast[c].slots) /* (else it came here for a full magazine) */
        k = heap_mag_in(h, c, page << 12, h->classes[c].pages);
    if (fc + 1u + k >= h->fast[c].slots)
        return free_any(h, (void *)(h->base + off), r);
    if (fc != 0) {
        unset(h, s, c, i, fc);
    } else if (n < HEAP_MAG && s->tag == 0) {
        park(h, c, n, off);
    } else { /* full until now: onto its list's head */
        struct heap_slab **head = &h->partial[c][s->tag], *old = *head;
        unset(h, s, c, i, 0);
        s->next = old; /* a full slab has no back link, */
        if (old)       /* and the old head had none either */
            h->map[heap_slab_page(h, old, c)] |= page << HEAP_MAP_PREV_SHIFT;
        *head = s;
    }
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
            uint32_t i = (uint32_t)(q >> 32);
            uint32_t slots = h->fast[c].slots, n = h->mag_n[c];
            struct heap_slab *s = (struct heap_slab *)(a - rel + h->fast[c].hdr_off);
            /* A slot's start ((uint32_t)q < recip: rel is a multiple of
             * the slot size), handed out, and not parked (a double free). */
            if ((uint32_t)q < h->fast[c].recip && i < slots && heap_bit(s->bits, i) &&
                    !heap_mag_has(h, c, (uint32_t)off)) {
                uint32_t fc = s->free_count;
                if (fc + 1u + n < slots) { /* s cannot empty, were all n parked slots its */
                    if (fc != 0)
                        return unset(h, s, c, i, fc);
                    if (n < HEAP_MAG && s->tag == 0) { /* full: park, s stays so */
                        park(h, c, n, (uint32_t)off);
                        return true;
                    }
                }
                return free_rare(h, s, c, i, (uint32_t)off, r);
            }
        }
    }
    return p ? free_any(h, p, r) : true;
}

/* ---- the counters ------------------------------------------------------- */

/* heap_stats_now - the counters with the derived ones filled in (the
 * fast paths keep only allocs, frees and slot_bytes up to date, and the
 * per-class counts of parked slots, folded in here). */
void heap_stats_now(const struct heap *h, struct heap_stats *out)
{
    *out = h->stats;
    for (uint32_t c = 0; c < HEAP_CLASSES_MAX; c++) {
        out->allocs += h->unparks[c];
        out->frees += h->parks[c];
        /* (modulo 2^n: a class may have parked more than it handed out) */
        out->slot_bytes += (size_t)(h->unparks[c] - h->parks[c]) * h->fast[c].slot;
    }
    out->live_blocks = (size_t)(out->allocs - out->frees);
    if (!h->config.debug)
        out->live_bytes = out->slot_bytes;
    out->free_slot_bytes = h->slab_bytes - (out->slot_bytes - h->run_bytes);
    out->map_pages = h->map_pages_backed;
    out->free_backed_pages = h->retained;
}

void heap_get_stats(const struct heap *h, struct heap_stats *out)
{
    heap_stats_now(h, out);
    out->largest_free_run = heap_pages_largest_free(h);
}

/* heap_top_page - see heap_core.h. */
uint32_t heap_top_page(const struct heap *h)
{
    return h->top;
}

/* heap_fragmentation - see heap_core.h. */
unsigned heap_fragmentation(const struct heap_stats *s)
{
    uint64_t free_held =
        (uint64_t)s->free_slot_bytes + (uint64_t)s->free_backed_pages * HEAP_PAGE;
    return free_held ? (unsigned)((uint64_t)s->free_slot_bytes * 100 / free_held) : 0;
}
