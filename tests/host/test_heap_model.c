/*
 * test_heap_model.c - the kernel heap (heap_core.h) against a model:
 * seeded random operations, 1,000,000 with debug checks off, then 300,000
 * with them on (about 50 s under ASan on two cores).
 *
 * The page source is a 64 MiB arena (heap_arena.h): it checks back() and
 * release() (whole pages of the range, not backed twice, not released while
 * the model has a live block there), fills what it backs with junk and
 * poisons what it takes back.  In two phases of each run it refuses: past
 * a budget of pages, then at random; an allocation may fail with
 * HEAP_NO_MEMORY only when the source refused during that call, and must
 * then change nothing.
 *
 * The model of the live blocks (heap_model.h) and the checks after each
 * operation (heap_model_check.h) are shared with the fuzz target: each new
 * block is aligned, inside the range, on backed pages and overlaps no live
 * block; heap_block_size and heap_describe name it (start, size, tag,
 * site); a block's pattern is intact when it is freed or reallocated
 * (realloc keeps min(old, new) bytes); the heap's counters equal the
 * model's and the source's.  Misuse (double, interior, stale and wild
 * frees, frees outside the range, sizes that wrap, bad alignments, and in
 * debug mode overflows, smashed headers and writes after free) must be
 * refused with the right problem and change nothing.  heap_check and a
 * walk of heap_for_each_block against the model: with debug off after each
 * of the first 20,000 operations, then after every 200th; with debug on
 * after each of the first 5,000, then every 500th (see CHECK_EVERY).  At
 * the middle and the end of each run every block is freed and every page
 * the heap still holds must be the page map, one of the HEAP_RETAIN_PAGES
 * kept for reuse, or an empty cached slab: zero pages lost.  Every check
 * is counted, the page source's of its contract too.
 *
 *     test_heap_model [seed [ops_debug_off [ops_debug_on]]]
 *
 * prints the seed; a failure prints the operation and aborts.
 */
#include <time.h>

#include "heap_model.h"
#include "heap_model_check.h"

#define RANGE_PAGES 16384u /* 64 MiB */
#define RANGE_BYTES ((size_t)RANGE_PAGES * HEAP_PAGE)
#define MAX_LIVE 20000u
/* heap_check (and a walk of every block) after each of the first
 * CHECK_ALL_OPS operations of a run, then after every CHECK_EVERY-th.  With
 * debug on, heap_check also reads every header, red zone and poisoned free
 * slot, so it costs time in proportion to the heap (a few ms under ASan):
 * there the first DEBUG_CHECK_ALL_OPS, then every DEBUG_CHECK_EVERY-th. */
#define CHECK_ALL_OPS 20000ul
#define CHECK_EVERY 200ul
#define DEBUG_CHECK_ALL_OPS 5000ul
#define DEBUG_CHECK_EVERY 500ul

static struct heap_model the_model;
static struct heap_model *const m = &the_model;

/* ---- randomness, failure reports ------------------------------------------------ */

static uint64_t rng, seed;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)((rng * 0x2545f4914f6cdd1dull) >> 32);
}

static uint32_t below(uint32_t n) /* [0, n) */
{
    return (uint32_t)(((uint64_t)rnd() * n) >> 32);
}

static void print_seed(FILE *f)
{
    fprintf(f, ", seed 0x%llx", (ull)seed);
}

/* ---- tags, and pointers freed earlier ------------------------------------------- */

static const char *const tag_names[] = {
    NULL, "a", "b", "c", "shell", "vfs", "net", "tty", "proc", "sched", "irq", "dma", "blk",
    "fs", "ipc", "usb", "pci", "acpi", "elf", "page", "task", "pipe", "sock", "timer", "kbd",
    "vga", "serial", "viz", "log", "sym", "cmd", "env", "ramfs", "cache", "buf", "trace",
    "test", "x", "y", "z",
};
#define TAGS (sizeof(tag_names) / sizeof(tag_names[0]))
_Static_assert(TAGS > HEAP_TAGS_MAX + 1, "the run must use more tags than the heap has");
static uint32_t tags_in_use; /* allocations draw tags from [0, tags_in_use) */

static uint8_t pick_tag(void)
{
    return model_tag(m, (uint8_t)below(tags_in_use));
}

struct grave {
    uintptr_t p;
}; /* recently freed pointers, for stale frees */
static struct grave graves[64];
static uint32_t ngraves;

static void grave_push(uintptr_t p)
{
    graves[ngraves < 64 ? ngraves++ : below(64)].p = p;
}

/* A new run: the model, the arena and the graves empty. */
static void reset(bool debug)
{
    model_reset(m, debug, RANGE_PAGES);
    ngraves = 0;
}

/* ---- sizes ------------------------------------------------------------------------ */

static size_t rand_size(void)
{
    static const size_t edges[] = {1, 15, 16, 17, 127, 128, 129, 256, 257, 4095, 4096, 4097,
                                   8191, 8192, 8193, 12288, 12289};
    uint32_t r = below(1000);
    if (r < 10) return 0;
    if (r < 600) return 1 + below(128);
    if (r < 780) return 129 + below(1024 - 128);
    if (r < 900) return 1024 + below(3073);              /* 1-4 KiB */
    if (r < 960) return 4097 + below(HEAP_SMALL_MAX + 2048 - 4096);
    if (r < 985) return edges[below(sizeof(edges) / sizeof(edges[0]))];
    return 16384 + below(49153);                         /* 16-64 KiB */
}

static const size_t huge_sizes[] = {
    SIZE_MAX, SIZE_MAX - 10, SIZE_MAX - HEAP_PAGE + 1, SIZE_MAX - 2 * HEAP_PAGE,
    SIZE_MAX / 2 + 1, (size_t)HEAP_MAX_PAGES * HEAP_PAGE + 1, RANGE_BYTES + 1,
    RANGE_BYTES + HEAP_PAGE,
};
#define HUGE_SIZES (sizeof(huge_sizes) / sizeof(huge_sizes[0]))

/* ---- what happened, counted ---------------------------------------------------------- */

enum {
    N_ALLOC, N_ALIGNED, N_NOMEM, N_FREE, N_REALLOC_SAME, N_REALLOC_MOVED, N_REALLOC_FAIL,
    N_DOUBLE, N_INTERIOR, N_STALE, N_WILD, N_OUTSIDE, N_HUGE, N_BADALIGN, N_OVERFLOW,
    N_SMASH, N_UAF, N_UAF_ON_ALLOC, N_KINDS
};
static const char *const n_names[N_KINDS] = {
    "alloc", "aligned", "no-memory", "free", "realloc-in-place", "realloc-moved",
    "realloc-failed", "double-free", "interior", "stale", "wild", "outside", "too-large",
    "bad-align", "overflow", "header-smash", "use-after-free", "uaf-reported-on-alloc",
};
static unsigned long counts[N_KINDS];

static uint32_t next_site(void)
{
    return 0x100000u + (uint32_t)(m->ops & 0xfffff);
}

/* ---- operations ------------------------------------------------------------------- */

/* A successful allocation: into the model, filled, checked. */
static uint32_t took(void *p, size_t size, size_t align, uint8_t tag, uint32_t site,
                     const struct heap_report *r)
{
    EXPECT(r->problem == HEAP_OK, "a successful allocation reported %s", pname(r->problem));
    uint32_t i = model_add(m, (uintptr_t)p, size, align, tag, site, m->next_id++);
    pattern_fill(p, 0, size, m->blocks[i].id);
    check_block(m, i, true);
    return i;
}

/* A failed allocation: HEAP_NO_MEMORY only when the source refused. */
static void refused(const struct snap *s, const struct heap_report *r, size_t size)
{
    EXPECT(r->problem == HEAP_NO_MEMORY && m->src.refusals > s->refusals,
           "alloc of %zu bytes failed with %s (the page source refused %llu times)", size,
           pname(r->problem), (ull)(m->src.refusals - s->refusals));
    expect_unchanged(m, s, 1, 0, true, "a failed allocation");
    counts[N_NOMEM]++;
}

static void op_alloc(bool aligned)
{
    size_t size = rand_size(), align = aligned ? (size_t)1 << below(13) : HEAP_MIN_ALIGN;
    uint8_t t = pick_tag();
    uint32_t site = next_site();
    MODEL_NOTE(m, "alloc(%zu, align %zu, tag %s)", size, align, t ? tag_names[t] : "NULL");
    struct snap s = take_snap(m);
    struct heap_report r;
    memset(&r, 0, sizeof(r));
    void *p = aligned ? heap_alloc_aligned(&m->heap, size, align, tag_names[t], site, &r)
                      : heap_alloc(&m->heap, size, tag_names[t], site, &r);
    if (!p) {
        refused(&s, &r, size);
        return;
    }
    counts[aligned ? N_ALIGNED : N_ALLOC]++;
    took(p, size, align, t, site, &r);
}

/* Sizes that cannot be served, and alignments that are not allowed. */
static void op_cannot(bool bad_align)
{
    static const size_t bad[] = {3, 5, 6, 12, 24, 48, 100, 4097, 6144, 8192, 16384,
                                 (size_t)1 << 20, SIZE_MAX};
    size_t size = bad_align ? 1 + below(200) : huge_sizes[below(HUGE_SIZES)];
    size_t align = bad_align ? bad[below(sizeof(bad) / sizeof(bad[0]))]
                             : (size_t)HEAP_MIN_ALIGN << below(9);
    int how = bad_align ? 1 : (int)below(3); /* 0 alloc, 1 aligned, 2 realloc(NULL) */
    MODEL_NOTE(m, "%s(%zu, align %zu)",
               how == 0 ? "alloc" : how == 1 ? "alloc_aligned" : "realloc(NULL)", size, align);
    if (how == 0 || (how == 1 && !bad_align)) /* the heap takes "a" or "b" into its */
        model_tag(m, (uint8_t)how + 1);         /* table, though the size is refused */
    struct snap s = take_snap(m);
    struct heap_report r;
    memset(&r, 0, sizeof(r));
    void *p = how == 0 ? heap_alloc(&m->heap, size, "a", 1, &r)
            : how == 1 ? heap_alloc_aligned(&m->heap, size, align, "b", 1, &r)
                       : heap_realloc(&m->heap, NULL, size, 1, &r);
    enum heap_problem want = bad_align ? HEAP_BAD_ALIGN : HEAP_TOO_LARGE;
    EXPECT(p == NULL && r.problem == want, "got %p and %s, want NULL and %s", p,
           pname(r.problem), pname(want));
    expect_unchanged(m, &s, 1, 0, false, "a refused allocation");
    counts[bad_align ? N_BADALIGN : N_HUGE]++;
}

/* Frees block i (it must succeed); returns the stats from before. */
static struct snap free_block(uint32_t i)
{
    struct block b = m->blocks[i];
    MODEL_NOTE(m, "free(0x%llx) of %zu bytes", (ull)b.p, b.size);
    expect_intact(m, i, b.p, b.size, "free");
    struct snap s = take_snap(m);
    struct heap_report r;
    memset(&r, 0, sizeof(r));
    m->freeing = i;
    bool ok = heap_free(&m->heap, (void *)b.p, &r);
    m->freeing = 0;
    EXPECT(ok, "free of live block 0x%llx (%zu bytes) refused: %s", (ull)b.p, b.size,
           pname(r.problem));
    model_remove(m, i);
    grave_push(b.p);
    struct heap_stats after;
    heap_get_stats(&m->heap, &after);
    EXPECT(after.live_blocks + 1 == s.st.live_blocks && after.frees == s.st.frees + 1 &&
               after.bad_frees == s.st.bad_frees,
           "after a free: live %zu -> %zu, frees %llu -> %llu", s.st.live_blocks,
           after.live_blocks, (ull)s.st.frees, (ull)after.frees);
    counts[N_FREE]++;
    return s;
}

/* A free, then (with `twice`) the same pointer again at once. */
static void op_free(bool twice)
{
    if (!m->nlive)
        return;
    uint32_t i = m->live[below(m->nlive)];
    uintptr_t p = m->blocks[i].p;
    struct snap before = free_block(i);
    if (!twice)
        return;
    MODEL_NOTE(m, "double free(0x%llx)", (ull)p);
    struct snap s = take_snap(m);
    bool run = s.st.runs < before.st.runs, slab_gone = s.st.slabs < before.st.slabs;
    struct heap_report r;
    memset(&r, 0, sizeof(r));
    bool ok = heap_free(&m->heap, (void *)p, &r);
    /* "freeing a slot or run twice" is always caught (heap_core.h), even
     * when the run's or the slab's pages went back */
    EXPECT(!ok && r.problem == HEAP_DOUBLE_FREE && r.pointer == p,
           "double free of 0x%llx (%s): ok %d, %s, pointer 0x%llx", (ull)p,
           run ? "a run" : slab_gone ? "its slab is gone" : "a slot", ok, pname(r.problem),
           (ull)r.pointer);
    expect_unchanged(m, &s, 0, 1, false, "a double free");
    counts[N_DOUBLE]++;
}

static void op_interior(void)
{
    uint32_t i = m->nlive ? m->live[below(m->nlive)] : 0;
    if (!i || m->blocks[i].size < 2)
        return;
    const struct block *b = &m->blocks[i];
    uintptr_t a = b->p + 1 + below((uint32_t)b->size - 1);
    refuse_free(m, a, BIT(HEAP_INTERIOR), "interior");
    struct heap_report r;
    memset(&r, 0, sizeof(r));
    EXPECT(heap_block_size(&m->heap, (void *)a, &r) == 0 && r.problem != HEAP_OK,
           "heap_block_size(interior 0x%llx) = nonzero or no problem (%s)", (ull)a,
           pname(r.problem));
    struct heap_block_info bi;
    heap_describe(&m->heap, a, &bi);
    EXPECT(bi.in_heap && bi.live && bi.block == b->p, "describe(0x%llx): live %d block 0x%llx, "
           "want 0x%llx", (ull)a, bi.live, (ull)bi.block, (ull)b->p);
    if (below(4) == 0) { /* realloc of an interior pointer fails too */
        struct snap s = take_snap(m);
        memset(&r, 0, sizeof(r));
        void *q = heap_realloc(&m->heap, (void *)a, 1 + below(100), 1, &r);
        struct heap_stats now;
        heap_get_stats(&m->heap, &now);
        /* counted as a failed allocation or a bad free (or neither) */
        uint64_t dfail = now.failed_allocs - s.st.failed_allocs;
        uint64_t dbad = now.bad_frees - s.st.bad_frees;
        EXPECT(q == NULL && r.problem == HEAP_INTERIOR && dfail <= 1 && dbad <= 1,
               "realloc(interior 0x%llx): %p, %s, failed_allocs +%llu, bad_frees +%llu",
               (ull)a, q, pname(r.problem), (ull)dfail, (ull)dbad);
        expect_unchanged(m, &s, dfail, dbad, false, "a realloc of an interior pointer");
        expect_intact(m, i, b->p, b->size, "after a realloc of an interior pointer");
    }
    counts[N_INTERIOR]++;
}

/* A pointer freed earlier: now inside a live block (interior), or in a
 * free slot or page. */
static void op_stale(void)
{
    if (!ngraves)
        return;
    uintptr_t a = graves[below(ngraves)].p;
    uint32_t i = block_at(m, a);
    if (i && m->blocks[i].p == a)
        return; /* a live block starts there again */
    /* a free page may remember where a block was freed: a double free then */
    bool gone = !arena_backed(&m->src, (uint32_t)((a - m->src.base) / HEAP_PAGE));
    refuse_free(m, a, i ? BIT(HEAP_INTERIOR) : gone ? GONE : MISUSE, "stale");
    counts[N_STALE]++;
}

/* An address in the range: the page map, a page never backed, near a live
 * block, or anywhere. */
static void op_wild(void)
{
    uintptr_t a;
    struct heap_stats st;
    heap_get_stats(&m->heap, &st);
    uint32_t how = below(4);
    if (how == 0)
        a = m->src.base + below((uint32_t)(st.map_pages * HEAP_PAGE));
    else if (how == 1 || !m->nlive)
        a = m->src.base + below((uint32_t)RANGE_BYTES);
    else {
        int64_t off = (int64_t)below(16384) - 8192;
        a = m->blocks[m->live[below(m->nlive)]].p + (uintptr_t)off;
        if (how == 2)
            a &= ~(uintptr_t)(HEAP_MIN_ALIGN - 1);
        if (a < m->src.base || a >= m->src.base + RANGE_BYTES)
            return;
    }
    uint32_t i = block_at(m, a), page = (uint32_t)((a - m->src.base) / HEAP_PAGE);
    if (i && m->blocks[i].p == a)
        return;
    unsigned want = page < st.map_pages ? BIT(HEAP_BAD_POINTER)
                  : !arena_backed(&m->src, page)       ? GONE
                  : i                   ? BIT(HEAP_INTERIOR)
                                        : MISUSE;
    refuse_free(m, a, want, "wild");
    /* outside the requested bytes, "live" may still name the block whose
     * slot (slack, alignment padding, header, red zone) holds the address:
     * within one slot of the block's start */
    struct heap_block_info bi;
    heap_describe(&m->heap, a, &bi);
    uint32_t named = bi.live ? block_at(m, bi.block) : 0;
    EXPECT(bi.in_heap && (i ? bi.live && bi.block == m->blocks[i].p
                            : !bi.live || (named && m->blocks[named].p == bi.block &&
                                           a + bi.slot > bi.block && a < bi.block + bi.slot)),
           "describe(0x%llx): in_heap %d live %d block 0x%llx slot %zu (model: %s)", (ull)a,
           bi.in_heap, bi.live, (ull)bi.block, bi.slot, i ? "live" : "none");
    counts[N_WILD]++;
}

static void op_outside(void)
{
    int local = 0;
    uintptr_t end = m->src.base + RANGE_BYTES;
    const uintptr_t choices[] = {
        m->src.base - 1, m->src.base - HEAP_MIN_ALIGN, m->src.base - HEAP_PAGE, end, end + 16,
        end + HEAP_PAGE - 16, (uintptr_t)&local, (uintptr_t)&m->heap, 16, UINTPTR_MAX & ~15ull,
    };
    uintptr_t a = choices[below(sizeof(choices) / sizeof(choices[0]))];
    refuse_free(m, a, BIT(HEAP_BAD_POINTER), "outside");
    struct heap_block_info bi;
    heap_describe(&m->heap, a, &bi);
    EXPECT(!bi.in_heap && !bi.live, "describe(0x%llx), outside: in_heap %d live %d", (ull)a,
           bi.in_heap, bi.live);
    counts[N_OUTSIDE]++;
}

static void op_realloc(void)
{
    uint32_t sel = below(100);
    if (sel < 8 || !m->nlive) { /* from NULL: an allocation tagged "kmalloc" */
        size_t n = 1 + below(2000);
        MODEL_NOTE(m, "realloc(NULL, %zu)", n);
        struct snap s = take_snap(m);
        struct heap_report r;
        memset(&r, 0, sizeof(r));
        uint32_t site = next_site();
        void *q = heap_realloc(&m->heap, NULL, n, site, &r);
        if (q)
            took(q, n, HEAP_MIN_ALIGN, 0, site, &r);
        else
            refused(&s, &r, n);
        return;
    }
    uint32_t i = m->live[below(m->nlive)];
    struct block b = m->blocks[i];
    size_t n = sel < 12 ? 0
             : sel < 14 ? huge_sizes[below(HUGE_SIZES)]
             : sel < 30 ? rand_size()
             : sel < 65 ? b.size + 1 + below(b.size < HEAP_PAGE ? 256 : 8192)
                        : below((uint32_t)b.size + 1);
    MODEL_NOTE(m, "realloc(0x%llx of %zu bytes, %zu)", (ull)b.p, b.size, n);
    expect_intact(m, i, b.p, b.size, "realloc");
    struct heap_report r;
    memset(&r, 0, sizeof(r));
    size_t usable = heap_block_size(&m->heap, (void *)b.p, &r);
    struct heap_block_info bi;
    heap_describe(&m->heap, b.p, &bi);
    struct snap s = take_snap(m);
    uint32_t site = next_site();
    m->freeing = i;
    void *q = heap_realloc(&m->heap, (void *)b.p, n, site, &r);
    m->freeing = 0;
    if (n == 0) {
        EXPECT(q == NULL && r.problem == HEAP_OK, "realloc(p, 0): %p, %s", q, pname(r.problem));
        model_remove(m, i);
        grave_push(b.p);
        counts[N_FREE]++;
        return;
    }
    if (!q) {
        bool huge = n > RANGE_BYTES;
        EXPECT(r.problem == (huge ? HEAP_TOO_LARGE : HEAP_NO_MEMORY) &&
                   (huge || m->src.refusals > s.refusals),
               "realloc to %zu failed: %s (the source refused %llu times)", n, pname(r.problem),
               (ull)(m->src.refusals - s.refusals));
        expect_unchanged(m, &s, 1, 0, !huge, "a failed realloc");
        expect_intact(m, i, b.p, b.size, "after a failed realloc");
        counts[N_REALLOC_FAIL]++;
        return;
    }
    bool fits = m->debug ? n <= b.size || (b.align <= HEAP_MIN_ALIGN &&
                                           n + HEAP_DEBUG_HEADER + HEAP_DEBUG_TAIL_MIN <= bi.slot)
                         : n <= usable;
    EXPECT(!fits || q == (void *)b.p, "realloc of %zu bytes (usable %zu, slot %zu) to %zu "
           "moved it to %p, though it fits", b.size, usable, bi.slot, n, q);
    size_t keep = n < b.size ? n : b.size;
    expect_intact(m, i, (uintptr_t)q, keep, "the new block of a realloc");
    model_remove(m, i);
    if (q != (void *)b.p)
        grave_push(b.p);
    bool moved = q != (void *)b.p; /* the site of a block resized in place is not defined */
    uint32_t j = model_add(m, (uintptr_t)q, n, moved ? HEAP_MIN_ALIGN : b.align, b.tag,
                           moved ? site : 0, b.id);
    EXPECT(r.problem == HEAP_OK, "a successful realloc reported %s", pname(r.problem));
    pattern_fill(q, keep, n, b.id);
    check_block(m, j, q != (void *)b.p);
    counts[q == (void *)b.p ? N_REALLOC_SAME : N_REALLOC_MOVED]++;
}

/* Debug mode: break a red zone, a header or a freed slot on purpose; the
 * heap must name it, refuse to free the block, and be whole once it is
 * repaired. */
static void op_corrupt(void)
{
    uint32_t i = 0;
    for (int tries = 0; tries < 8 && m->nlive && !i; tries++) {
        uint32_t c = m->live[below(m->nlive)];
        if (m->blocks[c].size <= 2048 && m->blocks[c].align <= HEAP_MIN_ALIGN)
            i = c;
    }
    if (!i)
        return;
    struct block b = m->blocks[i];
    struct heap_report r;
    uint32_t kind = below(3);
    if (kind < 2) {
        size_t off = kind == 0 ? b.size + below(HEAP_DEBUG_TAIL_MIN) : below(HEAP_DEBUG_HEADER);
        uintptr_t a = kind == 0 ? b.p + off : b.p - HEAP_DEBUG_HEADER + off;
        enum heap_problem want = kind == 0 ? HEAP_OVERFLOW : HEAP_HEADER_SMASHED;
        MODEL_NOTE(m, "%s of 0x%llx (%zu bytes) at 0x%llx", kind ? "header smash" : "overflow",
             (ull)b.p, b.size, (ull)a);
        uint8_t old = poke(a, 0);
        if (kind == 0)
            EXPECT(old == HEAP_REDZONE, "red zone byte 0x%llx is 0x%02x", (ull)a, old);
        else if (old == 0)
            poke(a, 0x55); /* the byte must change */
        memset(&r, 0, sizeof(r));
        EXPECT(!heap_check(&m->heap, &r) && r.problem == want && r.block == b.p &&
                   (kind || r.offset == off),
               "heap_check after a %s: %s block 0x%llx offset %zu", pname(want),
               pname(r.problem), (ull)r.block, r.offset);
        struct snap s = take_snap(m);
        memset(&r, 0, sizeof(r));
        bool ok = heap_free(&m->heap, (void *)b.p, &r);
        EXPECT(!ok && r.problem == want && r.block == b.p, "free after a %s: ok %d, %s block "
               "0x%llx", pname(want), ok, pname(r.problem), (ull)r.block);
        expect_unchanged(m, &s, 0, 1, false, "a refused free of a broken block");
        poke(a, old);
        counts[kind ? N_SMASH : N_OVERFLOW]++;
    } else {
        if (!b.size)
            return;
        struct snap before = free_block(i);
        struct snap s = take_snap(m);
        if (s.st.slabs != before.st.slabs || s.st.runs != before.st.runs)
            return; /* the slot's page went back */
        uintptr_t a = b.p + below((uint32_t)b.size);
        MODEL_NOTE(m, "write after free of 0x%llx (%zu bytes) at 0x%llx", (ull)b.p, b.size, (ull)a);
        uint8_t old = poke(a, 0);
        EXPECT(old == HEAP_POISON, "freed byte 0x%llx is 0x%02x, not poison", (ull)a, old);
        memset(&r, 0, sizeof(r));
        EXPECT(!heap_check(&m->heap, &r) && r.problem == HEAP_USE_AFTER_FREE &&
                   r.block + r.offset == a,
               "heap_check after a write to a free slot: %s block 0x%llx offset %zu",
               pname(r.problem), (ull)r.block, r.offset);
        /* the same size and tag: the heap may hand this slot out again,
         * reporting the write (and the block is clean) */
        memset(&r, 0, sizeof(r));
        uint32_t site = next_site();
        struct snap s2 = take_snap(m);
        void *q = heap_alloc(&m->heap, b.size, tag_names[b.tag], site, &r);
        if (!q) { /* the page source may be refusing now */
            refused(&s2, &r, b.size);
            poke(a, old);
        } else if (q == (void *)b.p) {
            EXPECT(r.problem == HEAP_USE_AFTER_FREE, "the written slot was handed out with %s",
                   pname(r.problem));
            r.problem = HEAP_OK;
            counts[N_UAF_ON_ALLOC]++;
        } else {
            poke(a, old);
        }
        if (q)
            took(q, b.size, HEAP_MIN_ALIGN, b.tag, site, &r);
        counts[N_UAF]++;
    }
    memset(&r, 0, sizeof(r));
    EXPECT(heap_check(&m->heap, &r), "heap_check after the repair: %s at 0x%llx: %s",
           pname(r.problem), (ull)r.block, r.detail);
}

/* ---- runs ------------------------------------------------------------------------- */

/* Everything freed; every page still backed must be the map, a retained
 * free page or a cached empty slab. */
static void drain(const char *when)
{
    while (m->nlive) {
        free_block(m->live[below(m->nlive)]);
        m->ops++;
        check_counters(m);
    }
    MODEL_NOTE(m, "drained (%s)", when);
    struct page_tally t = expect_empty(m);
    printf("heap_model: %-6s debug %-3s after %7lu ops: backed %u pages = map %u + retained "
           "%u + %zu cached empty slabs of %u pages: zero pages lost\n", when,
           m->debug ? "on" : "off", m->ops, m->src.count, t.map, t.kept, t.slabs, t.slab);
}

/* One operation: 3.6% misuse and sizes or alignments that cannot be served,
 * 0.4% deliberate corruption (debug runs only), 10% reallocs, the rest
 * allocations and frees drawn so that about `target` blocks stay live. */
static void step(uint32_t target)
{
    uint32_t r = below(1000);
    if (r < 6) op_cannot(false);
    else if (r < 10) op_cannot(true);
    else if (r < 18) op_interior();
    else if (r < 24) op_stale();
    else if (r < 32) op_wild();
    else if (r < 36) op_outside();
    else if (r < 40) { if (m->debug) op_corrupt(); }
    else if (r < 140) op_realloc();
    else if (below(2 * target) >= m->nlive) op_alloc(below(10) == 0);
    else op_free(below(64) == 0);
}

static void run(bool debug, unsigned long n)
{
    reset(debug);
    tags_in_use = 6;
    struct heap_config cfg = {.debug = debug};
    struct heap_pages source = arena_source(&m->src);
    MODEL_NOTE(m, "heap_init (debug %d)", debug);
    EXPECT(heap_init(&m->heap, m->src.base, RANGE_BYTES, &source, &cfg), "heap_init failed");
    m->ops = 0;
    unsigned long all = debug ? DEBUG_CHECK_ALL_OPS : CHECK_ALL_OPS;
    unsigned long every = debug ? DEBUG_CHECK_EVERY : CHECK_EVERY;
    uint32_t target = 1000;
    bool drained = false, budgeted = false;
    while (m->ops < n) {
        /* the phases, by percent of the run: more tags than the heap has
         * from 30%; everything freed at 50%; the source on a budget of 48
         * more pages at 60-65%, refusing one back in 3 at 70-75% */
        unsigned long at = m->ops * 100 / n;
        tags_in_use = at >= 30 ? TAGS : 6;
        if (at >= 50 && !drained) {
            drain("middle");
            drained = true;
        }
        if (at >= 60 && at < 65 && !budgeted) {
            m->src.limit = m->src.count + 48;
            budgeted = true;
        }
        if (at >= 65)
            m->src.limit = UINT32_MAX;
        m->src.fail_one_in = at >= 70 && at < 75 ? 3 : 0;
        if (m->ops % 50000 == 0)
            target = 100 + below(5000);
        step(target);
        m->ops++;
        check_counters(m);
        if (m->ops < all || m->ops % every == 0)
            full_check(m);
    }
    m->src.limit = UINT32_MAX;
    m->src.fail_one_in = 0;
    drain("end");
}

/* heap_init's refusals, and a 64 KiB heap that fills up. */
static void small_cases(void)
{
    struct heap_config cfg = {.debug = false};
    struct heap_pages source = arena_source(&m->src);
    reset(false);
    const struct { uintptr_t base; size_t size; const char *what; } bad[] = {
        {m->src.base + 16, 64 * 1024, "base not page-aligned"},
        {m->src.base, 64 * 1024 - HEAP_PAGE, "smaller than 64 KiB"},
        {m->src.base, 64 * 1024 + 100, "size not whole pages"},
        {m->src.base, ((size_t)HEAP_MAX_PAGES + 1) * HEAP_PAGE, "more than HEAP_MAX_PAGES"},
    };
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        MODEL_NOTE(m, "heap_init: %s", bad[k].what);
        EXPECT(!heap_init(&m->heap, bad[k].base, bad[k].size, &source, &cfg) &&
                   m->src.count == 0, "heap_init accepted: %s", bad[k].what);
    }
    MODEL_NOTE(m, "heap_init with a source that has nothing");
    m->src.limit = 0;
    EXPECT(!heap_init(&m->heap, m->src.base, RANGE_BYTES, &source, &cfg) && m->src.count == 0,
           "heap_init succeeded without memory");
    m->src.limit = UINT32_MAX;

    MODEL_NOTE(m, "heap_init of 64 KiB");
    EXPECT(heap_init(&m->heap, m->src.base, 64 * 1024, &source, &cfg),
           "heap_init of 64 KiB failed");
    tags_in_use = 1;
    /* 16 pages: one of page map, then runs of 3 pages (10,000 bytes): 5 fit */
    unsigned got = 0;
    for (;;) {
        MODEL_NOTE(m, "filling a 64 KiB heap: block %u", got);
        struct snap s = take_snap(m);
        struct heap_report r;
        memset(&r, 0, sizeof(r));
        void *p = heap_alloc(&m->heap, 10000, NULL, 7, &r);
        if (!p) {
            EXPECT(r.problem == HEAP_NO_MEMORY && m->src.refusals == s.refusals,
                   "a full 64 KiB heap: %s", pname(r.problem));
            expect_unchanged(m, &s, 1, 0, true, "an allocation in a full heap");
            break;
        }
        took(p, 10000, HEAP_MIN_ALIGN, 0, 7, &r);
        got++;
        EXPECT(got <= 5, "a 64 KiB heap gave %u blocks of 10,000 bytes", got);
    }
    EXPECT(got == 5, "a 64 KiB heap gave %u blocks of 10,000 bytes, not 5", got);
    MODEL_NOTE(m, "too large for a 64 KiB heap");
    struct heap_report r;
    memset(&r, 0, sizeof(r));
    EXPECT(!heap_alloc(&m->heap, 64 * 1024 + 1, NULL, 7, &r) && r.problem == HEAP_TOO_LARGE,
           "65537 bytes of a 64 KiB heap: %s", pname(r.problem));
    full_check(m);
    while (m->nlive)
        free_block(m->live[0]);
    full_check(m);
    printf("heap_model: a 64 KiB heap held %u blocks of 10,000 bytes, then said no memory\n",
           got);
}

int main(int argc, char **argv)
{
    seed = argc > 1 ? strtoull(argv[1], NULL, 0) : 0x6865617021ull;
    unsigned long n_off = argc > 2 ? strtoul(argv[2], NULL, 0) : 1000000ul;
    unsigned long n_on = argc > 3 ? strtoul(argv[3], NULL, 0) : 300000ul;
    rng = seed + 0x9e3779b97f4a7c15ull; /* splitmix64: every seed its own stream */
    rng = (rng ^ rng >> 30) * 0xbf58476d1ce4e5b9ull;
    rng = (rng ^ rng >> 27) * 0x94d049bb133111ebull;
    rng = (rng ^ rng >> 31) | 1; /* xorshift state must not be 0 */
    printf("heap_model: seed 0x%llx (replay: test_heap_model 0x%llx), %lu operations with "
           "debug off, %lu with debug on\n", (ull)seed, (ull)seed, n_off, n_on);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    model_open(m, "heap_model", RANGE_PAGES, MAX_LIVE, tag_names, TAGS);
    m->context = print_seed;
    m->src.rand_below = below; /* the refusals at random */

    small_cases();
    unsigned long total = 0, fulls = 0;
    run(false, n_off);
    total += m->ops;
    run(true, n_on);
    total += m->ops;
    fulls = m->full_checks;

    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("heap_model: %lu operations, %lu heap_checks with walks, %.1f s\n", total, fulls,
           secs);
    printf("heap_model:");
    for (int k = 0; k < N_KINDS; k++)
        printf(" %s %lu", n_names[k], counts[k]);
    printf("\n");
    /* the page source's checks of its contract count too */
    printf("heap_model: %lu checks, 0 failed\n", m->checks + m->src.checks);
    model_close(m);
    return 0;
}
