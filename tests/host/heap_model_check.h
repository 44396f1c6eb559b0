/*
 * heap_model_check.h - the checks that hold the heap (heap_core.h) to the
 * model of heap_model.h, for test_heap_model.c and tests/fuzz/fuzz_heap.c.
 *
 * A new block: heap_block_size and heap_describe name it (start, size,
 * slot, site, tag).  After every operation: the heap's counters equal the
 * model's and the page source's.  A refused call changes nothing (but the
 * failure counters).  A full check: heap_check passes and
 * heap_for_each_block walks exactly the model's blocks, in address order.
 * A refused free names the problem and, inside a live block, the block.
 * An empty heap holds no page but the map, the retained free pages and
 * the cached empty slabs': zero pages lost.
 */
#ifndef TESTS_HEAP_MODEL_CHECK_H
#define TESTS_HEAP_MODEL_CHECK_H

#include "heap_model.h"

/* A new (or resized: not `fresh`) block as the heap describes it. */
static inline void check_block(struct heap_model *m, uint32_t i, bool fresh)
{
    const struct block *b = &m->blocks[i];
    struct heap_report r;
    memset(&r, 0, sizeof(r));
    size_t bs = heap_block_size(&m->heap, (void *)b->p, &r);
    if (m->debug) {
        EXPECT(bs == b->size, "heap_block_size(0x%llx) = %zu, requested %zu", (ull)b->p, bs,
               b->size);
    } else {
        EXPECT(bs >= b->size, "heap_block_size(0x%llx) = %zu < %zu", (ull)b->p, bs, b->size);
        /* the rounding the header promises (for blocks without alignment) */
        size_t most = b->size <= 128 ? (b->size + 15) / 16 * 16 + 16 * (b->size == 0)
                    : b->size <= HEAP_SMALL_MAX ? b->size + b->size / 4
                    : (b->size + HEAP_PAGE - 1) / HEAP_PAGE * HEAP_PAGE;
        EXPECT(!fresh || b->align > HEAP_MIN_ALIGN || bs <= most,
               "a %zu-byte request got %zu usable bytes (at most %zu expected)", b->size, bs,
               most);
    }
    struct heap_block_info bi;
    heap_describe(&m->heap, b->p, &bi);
    EXPECT(bi.in_heap && bi.live && bi.block == b->p && bi.size == bs && bi.slot >= bs,
           "describe(0x%llx): in_heap %d live %d block 0x%llx size %zu slot %zu; "
           "want block 0x%llx size %zu", (ull)b->p, bi.in_heap, bi.live, (ull)bi.block,
           bi.size, bi.slot, (ull)b->p, bs);
    EXPECT(!m->debug || bi.slot >= b->size + HEAP_DEBUG_HEADER + HEAP_DEBUG_TAIL_MIN,
           "debug: a %zu-byte block takes only %zu bytes", b->size, bi.slot);
    EXPECT(!m->debug || !b->site || bi.site == b->site, "describe: site 0x%x, allocated at "
           "0x%x", bi.site, b->site);
    check_tag(m, b->tag, bi.tag, "describe");
    if (b->size > 1) {
        uintptr_t end = b->p + b->size - 1;
        heap_describe(&m->heap, end, &bi);
        EXPECT(bi.live && bi.block == b->p && bi.size == bs, "describe(0x%llx), the last byte "
               "of 0x%llx: live %d block 0x%llx size %zu", (ull)end, (ull)b->p, bi.live,
               (ull)bi.block, bi.size);
    }
}

/* ---- the counters ------------------------------------------------------------------ */

struct snap {
    struct heap_stats st;
    uint32_t backed;
    uint64_t calls, refusals;
};

static inline struct snap take_snap(struct heap_model *m)
{
    struct snap s;
    heap_get_stats(&m->heap, &s.st);
    s.backed = m->src.count;
    s.calls = m->src.calls;
    s.refusals = m->src.refusals;
    return s;
}

/* Nothing changed since `a` but the failure counters (+dfail, +dbad);
 * calls: whether the page source may have been asked (and refused). */
static inline void expect_unchanged(struct heap_model *m, const struct snap *a, uint64_t dfail,
                                    uint64_t dbad, bool calls, const char *what)
{
    struct heap_stats b;
    heap_get_stats(&m->heap, &b);
#define SAME(f)                                                                          \
    EXPECT(b.f == a->st.f, "%s changed the heap: " #f " %llu -> %llu", what, (ull)a->st.f, \
           (ull)b.f)
    SAME(live_blocks); SAME(live_bytes); SAME(slot_bytes); SAME(backed_pages);
    SAME(peak_backed_pages); SAME(map_pages); SAME(free_slot_bytes);
    SAME(free_backed_pages); SAME(largest_free_run); SAME(allocs); SAME(frees);
    SAME(slabs); SAME(runs);
#undef SAME
    EXPECT(b.failed_allocs == a->st.failed_allocs + dfail && b.bad_frees == a->st.bad_frees + dbad,
           "%s: failed_allocs %llu -> %llu, bad_frees %llu -> %llu (want +%llu, +%llu)", what,
           (ull)a->st.failed_allocs, (ull)b.failed_allocs, (ull)a->st.bad_frees,
           (ull)b.bad_frees, (ull)dfail, (ull)dbad);
    EXPECT(m->src.count == a->backed, "%s: backed pages %u -> %u", what, a->backed,
           m->src.count);
    EXPECT(calls || m->src.calls == a->calls, "%s called the page source", what);
}

/* After every operation: the heap's counters against the model's. */
static inline void check_counters(struct heap_model *m)
{
    struct heap_stats s;
    heap_get_stats(&m->heap, &s);
    EXPECT(s.live_blocks == m->nlive, "stats: %zu live blocks, model %u", s.live_blocks,
           m->nlive);
    /* a failed allocation gives back the pages it backed and keeps the old
     * peak (it "changes nothing"): the heap's peak may be below the source's */
    EXPECT(s.backed_pages == m->src.count && s.peak_backed_pages >= s.backed_pages &&
               s.peak_backed_pages <= m->src.peak,
           "stats: %zu pages backed (peak %zu), the source counts %u (peak %u)", s.backed_pages,
           s.peak_backed_pages, m->src.count, m->src.peak);
    EXPECT(m->debug ? s.live_bytes == m->bytes : s.live_bytes >= m->bytes,
           "stats: live_bytes %zu, model %zu", s.live_bytes, m->bytes);
    EXPECT(s.slot_bytes >= s.live_bytes && s.slot_bytes <= s.backed_pages * HEAP_PAGE,
           "stats: slot_bytes %zu, live_bytes %zu, backed %zu pages", s.slot_bytes,
           s.live_bytes, s.backed_pages);
    EXPECT(s.free_backed_pages <= HEAP_RETAIN_PAGES &&
               s.map_pages + s.free_backed_pages <= s.backed_pages,
           "stats: %zu map pages + %zu free backed pages (at most %u) > %zu backed",
           s.map_pages, s.free_backed_pages, HEAP_RETAIN_PAGES, s.backed_pages);
}

struct walk {
    struct heap_model *m;
    uintptr_t last;
    uint32_t count;
};

static inline void walk_fn(void *ctx, const struct heap_block_info *b)
{
    struct walk *w = ctx;
    struct heap_model *m = w->m;
    uint32_t i = block_at(m, b->block);
    EXPECT(i && m->blocks[i].p == b->block, "heap_for_each_block: 0x%llx is not a live block",
           (ull)b->block);
    EXPECT(w->count == 0 || b->block > w->last, "heap_for_each_block: 0x%llx after 0x%llx",
           (ull)b->block, (ull)w->last);
    EXPECT(m->debug ? b->size == m->blocks[i].size : b->size >= m->blocks[i].size,
           "heap_for_each_block: 0x%llx has size %zu, model %zu", (ull)b->block, b->size,
           m->blocks[i].size);
    check_tag(m, m->blocks[i].tag, b->tag, "heap_for_each_block");
    w->last = b->block;
    w->count++;
}

/* heap_check, and a walk of every block against the model. */
static inline void full_check(struct heap_model *m)
{
    struct heap_report r;
    memset(&r, 0, sizeof(r));
    EXPECT(heap_check(&m->heap, &r), "heap_check: %s at 0x%llx (block 0x%llx): %s",
           pname(r.problem), (ull)r.pointer, (ull)r.block, r.detail);
    struct walk w = {m, 0, 0};
    heap_for_each_block(&m->heap, walk_fn, &w);
    EXPECT(w.count == m->nlive, "heap_for_each_block: %u blocks, model %u", w.count, m->nlive);
    m->full_checks++;
}

/* ---- misuse ---------------------------------------------------------------------- */

/* A free the heap must refuse with a problem in `want`; nothing changes.
 * Inside a live block (not at its start), the report names the block. */
static inline void refuse_free(struct heap_model *m, uintptr_t a, unsigned want,
                               const char *what)
{
    MODEL_NOTE(m, "%s free(0x%llx)", what, (ull)a);
    uint32_t inside = block_at(m, a);
    if (inside && m->blocks[inside].p == a)
        inside = 0;
    struct snap s = take_snap(m);
    struct heap_report r;
    memset(&r, 0, sizeof(r));
    bool ok = heap_free(&m->heap, (void *)a, &r);
    EXPECT(!ok && (want & BIT(r.problem)), "%s free of 0x%llx: ok %d, %s", what, (ull)a, ok,
           pname(r.problem));
    EXPECT(r.pointer == a, "%s free: report names 0x%llx", what, (ull)r.pointer);
    if (inside) {
        const struct block *b = &m->blocks[inside];
        EXPECT(r.block == b->p && r.offset == a - b->p,
               "interior free of 0x%llx: report block 0x%llx offset %zu, want 0x%llx + %zu",
               (ull)a, (ull)r.block, r.offset, (ull)b->p, (size_t)(a - b->p));
        EXPECT(!m->debug || (r.size == b->size && (!b->site || r.site == b->site)),
               "interior: report size %zu site 0x%x, block %zu bytes from 0x%x", r.size,
               r.site, b->size, b->site);
        check_tag(m, b->tag, r.tag, "interior free report");
        expect_intact(m, inside, b->p, b->size, "after an interior free");
    }
    expect_unchanged(m, &s, 0, 1, false, what);
}

/* ---- zero pages lost ------------------------------------------------------------- */

struct page_tally {
    uint32_t map, kept, slab; /* backed pages: the map, retained free pages, slabs' */
    size_t slabs;             /* cached empty slabs */
};

/* Everything freed: heap_check passes, no block is left, and every page
 * still backed is the map, a retained free page or a cached empty slab's. */
static inline struct page_tally expect_empty(struct heap_model *m)
{
    full_check(m);
    struct heap_stats s;
    heap_get_stats(&m->heap, &s);
    EXPECT(s.live_blocks == 0 && s.live_bytes == 0 && s.slot_bytes == 0 && s.runs == 0,
           "empty heap: %zu blocks, %zu bytes, %zu slot bytes, %zu runs", s.live_blocks,
           s.live_bytes, s.slot_bytes, s.runs);
    struct page_tally t = {0, 0, 0, s.slabs};
    for (uint32_t pg = 0; pg < m->src.pages; pg++) {
        if (!arena_backed(&m->src, pg))
            continue;
        struct heap_block_info bi;
        heap_describe(&m->heap, m->src.base + (uintptr_t)pg * HEAP_PAGE, &bi);
        const char *w = bi.what ? bi.what : "(null)";
        EXPECT(bi.in_heap && !bi.live, "empty heap: page %u is live (%s)", pg, w);
        /* "page map", "free page (kept backed)", and a slab's pages: "free
         * slot", "slab header", "slab of 64-byte slots" */
        if (strstr(w, "free page"))
            t.kept++;
        else if (strstr(w, "map"))
            t.map++;
        else if (strstr(w, "slot") || strstr(w, "slab"))
            t.slab++;
        else
            model_fail(m, "empty heap: backed page %u is \"%s\"", pg, w);
    }
    EXPECT(t.map == s.map_pages && t.kept == s.free_backed_pages &&
               t.kept <= HEAP_RETAIN_PAGES && s.slabs <= m->heap.class_count &&
               t.slab <= 16 * s.slabs && t.map + t.kept + t.slab == m->src.count,
           "pages lost: backed %u = map %u (stats %zu) + retained %u (stats %zu) + slabs %u "
           "(%zu slabs, at most one a class: %u)?", m->src.count, t.map, s.map_pages, t.kept,
           s.free_backed_pages, t.slab, s.slabs, m->heap.class_count);
    return t;
}

#endif
