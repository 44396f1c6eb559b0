/*
 * test_heap_model.c - the kernel heap (heap_core.h) against a model:
 * seeded random operations, 1,000,000 with debug checks off, then 300,000
 * with them on (about 50 s under ASan on two cores).
 *
 * The page source is a 64 MiB arena with a bitmap of backed pages.  A page
 * it backs is filled with junk (a kernel frame is not zeroed); a page it
 * takes back is filled with other junk and poisoned for ASan, so a heap
 * that touches a page it gave away is stopped at that instruction.  back()
 * and release() check their arguments (page-aligned, inside the range, not
 * backed twice, not released while the model has a live block there).  In
 * two phases of each run the source refuses: past a budget of pages, then
 * at random; an allocation may fail with HEAP_NO_MEMORY only when the
 * source refused during that call, and must then change nothing.
 *
 * The model is the set of live blocks: address, size, alignment, tag, site
 * and a pattern (from the block's id) that fills the block.  A map with an
 * entry per 16-byte granule of the range names the block covering it, so
 * overlap and "which block is at this address" cost O(size / 16).
 *
 * Checked after every operation: each new block is aligned, inside the
 * range, on backed pages and overlaps no live block; heap_block_size and
 * heap_describe name it (start, size, tag, site); a block's pattern is
 * intact when it is freed or reallocated (realloc keeps min(old, new)
 * bytes); the heap's counters equal the model's and the source's.  Misuse
 * (double, interior, stale and wild frees, frees outside the range, sizes
 * that wrap, bad alignments, and in debug mode overflows, smashed headers
 * and writes after free) must be refused with the right problem and change
 * nothing.  heap_check and a walk of heap_for_each_block against the model:
 * with debug off after each of the first 20,000 operations, then after
 * every 200th; with debug on after each of the first 5,000, then every
 * 500th (see CHECK_EVERY).  At the middle and the end of each run every
 * block is freed and every page the heap still holds must be the page map,
 * one of the HEAP_RETAIN_PAGES kept for reuse, or an empty cached slab:
 * zero pages lost.
 *
 *     test_heap_model [seed [ops_debug_off [ops_debug_on]]]
 *
 * prints the seed; a failure prints the operation and aborts.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernel/heap_core.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KV_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define KV_ASAN 1
#endif
#ifdef KV_ASAN
#include <sanitizer/asan_interface.h>
#else
#define ASAN_POISON_MEMORY_REGION(a, n) ((void)(a), (void)(n))
#define ASAN_UNPOISON_MEMORY_REGION(a, n) ((void)(a), (void)(n))
#endif

#define RANGE_PAGES 16384u /* 64 MiB */
#define RANGE_BYTES ((size_t)RANGE_PAGES * HEAP_PAGE)
#define GRANULE 16u
#define GRANULES (RANGE_BYTES / GRANULE)
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
#define JUNK_FRESH 0xa5       /* a page just backed */
#define JUNK_GONE 0xcc        /* a page handed back */
#define BIT(p) (1u << (p))
#define MISUSE (BIT(HEAP_DOUBLE_FREE) | BIT(HEAP_BAD_POINTER) | BIT(HEAP_INTERIOR))
#define GONE (BIT(HEAP_BAD_POINTER) | BIT(HEAP_DOUBLE_FREE)) /* a page not backed */

typedef unsigned long long ull;

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

static bool debug_on;
static unsigned long ops, checks;
static char last_op[256];

static void note(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_op, sizeof(last_op), fmt, ap);
    va_end(ap);
}

static void fail(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "heap_model: FAILED at operation %lu (debug %s, seed 0x%llx)\n  ", ops,
            debug_on ? "on" : "off", (ull)seed);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n  operation: %s\n", last_op);
    abort();
}

#define EXPECT(cond, ...)                                                        \
    do {                                                                         \
        checks++;                                                                \
        if (!(cond))                                                             \
            fail(__VA_ARGS__);                                                   \
    } while (0)

static const char *pname(enum heap_problem p)
{
    const char *s = (unsigned)p <= HEAP_CORRUPT ? heap_problem_str(p) : NULL;
    return s ? s : "(no name)";
}

/* ---- the page source -------------------------------------------------------------- */

/* A live block of the model (the model itself is further down). */
struct block {
    uintptr_t p;
    size_t size, align;
    uint32_t id, site, pos;
    uint8_t tag;
};
static struct block blocks[MAX_LIVE + 1]; /* [0] unused: 0 means "none" in owner[] */


static struct {
    uint8_t *arena;          /* a page below the range, the range, a page above */
    uintptr_t base;
    uint64_t bits[RANGE_PAGES / 64]; /* 1 = backed */
    uint32_t count, peak;
    uint32_t budget;         /* refuse to back past this many pages */
    uint32_t fail_one_in;    /* refuse one back in this many at random (0: never) */
    uint64_t calls, refusals;
} src;

static uint32_t *owner;  /* per granule of the range: the live block there, 0 = none */
static uint32_t freeing; /* the block being freed or reallocated: its pages may go */

static bool backed(uint32_t page)
{
    return src.bits[page / 64] >> (page % 64) & 1;
}

static uint32_t src_page(uintptr_t va, uint32_t pages, const char *who)
{
    EXPECT(va % HEAP_PAGE == 0 && va >= src.base && pages >= 1 && pages <= RANGE_PAGES &&
               (va - src.base) / HEAP_PAGE + pages <= RANGE_PAGES,
           "%s(0x%llx, %u pages): not whole pages of the range", who, (ull)va, pages);
    return (uint32_t)((va - src.base) / HEAP_PAGE);
}

static bool src_back(void *ctx, uintptr_t va, uint32_t pages)
{
    (void)ctx;
    src.calls++;
    uint32_t first = src_page(va, pages, "back");
    for (uint32_t p = first; p < first + pages; p++)
        EXPECT(!backed(p), "back(0x%llx, %u): page %u is backed already", (ull)va, pages, p);
    if (src.count + pages > src.budget || (src.fail_one_in && below(src.fail_one_in) == 0)) {
        src.refusals++;
        return false;
    }
    for (uint32_t p = first; p < first + pages; p++)
        src.bits[p / 64] |= 1ull << (p % 64);
    src.count += pages;
    src.peak = src.count > src.peak ? src.count : src.peak;
    ASAN_UNPOISON_MEMORY_REGION((void *)va, (size_t)pages * HEAP_PAGE);
    memset((void *)va, JUNK_FRESH, (size_t)pages * HEAP_PAGE);
    return true;
}

static void src_release(void *ctx, uintptr_t va, uint32_t pages)
{
    (void)ctx;
    src.calls++;
    uint32_t first = src_page(va, pages, "release");
    for (uint32_t p = first; p < first + pages; p++)
        EXPECT(backed(p), "release(0x%llx, %u): page %u is not backed", (ull)va, pages, p);
    const uint32_t *o = owner + (va - src.base) / GRANULE;
    for (size_t g = 0; g < (size_t)pages * (HEAP_PAGE / GRANULE); g++)
        EXPECT(o[g] == 0 || o[g] == freeing,
               "release(0x%llx, %u): live block 0x%llx (%zu bytes) is on those pages", (ull)va,
               pages, (ull)blocks[o[g]].p, blocks[o[g]].size);
    memset((void *)va, JUNK_GONE, (size_t)pages * HEAP_PAGE);
    ASAN_POISON_MEMORY_REGION((void *)va, (size_t)pages * HEAP_PAGE);
    for (uint32_t p = first; p < first + pages; p++)
        src.bits[p / 64] &= ~(1ull << (p % 64));
    src.count -= pages;
}

static const struct heap_pages source = {src_back, src_release, NULL};

/* Every page unbacked and poisoned: a new heap starts from nothing. */
static void src_reset(void)
{
    memset(src.bits, 0, sizeof(src.bits));
    src.count = src.peak = 0;
    src.budget = UINT32_MAX;
    src.fail_one_in = 0;
    ASAN_POISON_MEMORY_REGION((void *)src.base, RANGE_BYTES);
}

/* Writes one byte past ASan: the debug checks are tested by breaking them. */
__attribute__((no_sanitize("address"))) static uint8_t poke(uintptr_t a, uint8_t v)
{
    volatile uint8_t *q = (volatile uint8_t *)a;
    uint8_t old = *q;
    *q = v;
    return old;
}

/* ---- the model -------------------------------------------------------------------- */

static const char *const tag_names[] = {
    NULL, "a", "b", "c", "shell", "vfs", "net", "tty", "proc", "sched", "irq", "dma", "blk",
    "fs", "ipc", "usb", "pci", "acpi", "elf", "page", "task", "pipe", "sock", "timer", "kbd",
    "vga", "serial", "viz", "log", "sym", "cmd", "env", "ramfs", "cache", "buf", "trace",
    "test", "x", "y", "z",
};
#define TAGS (sizeof(tag_names) / sizeof(tag_names[0]))
_Static_assert(TAGS > HEAP_TAGS_MAX + 1, "the run must use more tags than the heap has");
static uint32_t tags_in_use;            /* allocations draw tags from [0, tags_in_use) */
static uint32_t tag_order[TAGS];        /* distinct tags tried before this one, or ~0 */
static uint32_t tags_tried;
static const char *tag_seen[TAGS];      /* the name the heap gave each tag */

static uint32_t free_ids[MAX_LIVE], nfree_ids;
static uint32_t live[MAX_LIVE], nlive;
static size_t model_bytes;
static uint32_t next_id = 1;

struct grave {
    uintptr_t p;
}; /* recently freed pointers, for stale frees */
static struct grave graves[64];
static uint32_t ngraves;

static void model_reset(void)
{
    memset(owner, 0, GRANULES * sizeof(uint32_t));
    nlive = 0;
    model_bytes = 0;
    nfree_ids = 0;
    for (uint32_t i = MAX_LIVE; i >= 1; i--)
        free_ids[nfree_ids++] = i;
    ngraves = 0;
    tags_tried = 0;
    for (uint32_t t = 0; t < TAGS; t++) {
        tag_order[t] = UINT32_MAX;
        tag_seen[t] = NULL;
    }
}

static size_t gran_first(const struct block *b)
{
    return (b->p - src.base) / GRANULE;
}

static size_t gran_end(const struct block *b) /* a size-0 block holds one granule */
{
    return (b->p + (b->size ? b->size : 1) - 1 - src.base) / GRANULE + 1;
}

/* The live block covering byte a, or 0. */
static uint32_t block_at(uintptr_t a)
{
    if (a < src.base || a >= src.base + RANGE_BYTES)
        return 0;
    uint32_t i = owner[(a - src.base) / GRANULE];
    return i && a < blocks[i].p + (blocks[i].size ? blocks[i].size : 1) ? i : 0;
}

static void grave_push(uintptr_t p)
{
    graves[ngraves < 64 ? ngraves++ : below(64)].p = p;
}

/* The byte at offset i of block `id`'s pattern. */
static inline uint64_t pat_word(uint32_t id, size_t w)
{
    return ((uint64_t)id * 0x9e3779b97f4a7c15ull) ^ ((uint64_t)w * 0xbf58476d1ce4e5b9ull);
}

static inline uint8_t pat_byte(uint32_t id, size_t i)
{
    return (uint8_t)(pat_word(id, i / 8) >> (i % 8 * 8));
}

static void pattern_fill(uintptr_t p, size_t from, size_t to, uint32_t id)
{
    uint8_t *q = (uint8_t *)p;
    size_t i = from;
    for (; i < to && i % 8; i++)
        q[i] = pat_byte(id, i);
    for (; i + 8 <= to; i += 8) {
        uint64_t w = pat_word(id, i / 8);
        for (int k = 0; k < 8; k++)
            q[i + k] = (uint8_t)(w >> (k * 8)); /* the compiler makes this one store */
    }
    for (; i < to; i++)
        q[i] = pat_byte(id, i);
}

/* The first offset in [0, n) that lost block i's pattern, or SIZE_MAX. */
static size_t pattern_bad(uintptr_t p, size_t n, uint32_t id)
{
    const uint8_t *q = (const uint8_t *)p;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w = pat_word(id, i / 8), got = 0;
        for (int k = 0; k < 8; k++)
            got |= (uint64_t)q[i + k] << (k * 8);
        if (got != w)
            break;
    }
    for (; i < n; i++)
        if (q[i] != pat_byte(id, i))
            return i;
    return SIZE_MAX;
}

static void expect_intact(uint32_t i, uintptr_t at, size_t n, const char *when)
{
    size_t bad = pattern_bad(at, n, blocks[i].id);
    EXPECT(bad == SIZE_MAX, "%s: block 0x%llx (%zu bytes) lost its contents at offset %zu",
           when, (ull)blocks[i].p, blocks[i].size, bad);
}

/* Adds a block the heap returned: in the range, on backed pages, overlapping
 * no live block. */
static uint32_t model_add(uintptr_t p, size_t size, size_t align, uint8_t tag, uint32_t site,
                          uint32_t id)
{
    EXPECT(nfree_ids > 0, "more than %u live blocks", MAX_LIVE);
    EXPECT(p % HEAP_MIN_ALIGN == 0 && p % align == 0, "0x%llx is not %zu-aligned", (ull)p,
           align < HEAP_MIN_ALIGN ? (size_t)HEAP_MIN_ALIGN : align);
    EXPECT(p >= src.base && p < src.base + RANGE_BYTES && size <= src.base + RANGE_BYTES - p,
           "block 0x%llx (%zu bytes) is not inside the range", (ull)p, size);
    uint32_t i = free_ids[--nfree_ids];
    blocks[i] = (struct block){p, size, align, id, site, nlive, tag};
    for (uint32_t pg = (uint32_t)((p - src.base) / HEAP_PAGE);
         pg <= (p + (size ? size : 1) - 1 - src.base) / HEAP_PAGE; pg++)
        EXPECT(backed(pg), "block 0x%llx (%zu bytes) is on page %u, which is not backed",
               (ull)p, size, pg);
    for (size_t g = gran_first(&blocks[i]); g < gran_end(&blocks[i]); g++) {
        EXPECT(owner[g] == 0, "block 0x%llx (%zu bytes) overlaps live block 0x%llx (%zu bytes)",
               (ull)p, size, (ull)blocks[owner[g]].p, blocks[owner[g]].size);
        owner[g] = i;
    }
    live[nlive++] = i;
    model_bytes += size;
    return i;
}

static void model_remove(uint32_t i)
{
    struct block *b = &blocks[i];
    for (size_t g = gran_first(b); g < gran_end(b); g++)
        owner[g] = 0;
    uint32_t last = live[--nlive];
    live[b->pos] = last;
    blocks[last].pos = b->pos;
    model_bytes -= b->size;
    free_ids[nfree_ids++] = i;
}

/* ---- what the heap says about a block ---------------------------------------------- */

static struct heap heap;

static uint8_t pick_tag(void)
{
    uint8_t t = (uint8_t)below(tags_in_use);
    if (t && tag_order[t] == UINT32_MAX)
        tag_order[t] = tags_tried++;
    return t;
}

/* The heap's name for tag t: its own name, "kmalloc" for NULL, or "other"
 * once HEAP_TAGS_MAX are in use (tags[0] is "kmalloc", so 30 or 31 names
 * fit); and always the same answer. */
static void check_tag(uint8_t t, const char *name, const char *where)
{
    const char *want = t ? tag_names[t] : "kmalloc";
    EXPECT(name != NULL, "%s: tag of a \"%s\" block is NULL", where, want);
    if (tag_seen[t]) {
        EXPECT(strcmp(name, tag_seen[t]) == 0, "%s: tag \"%s\" was called \"%s\", now \"%s\"",
               where, want, tag_seen[t], name);
        return;
    }
    bool other = t && strcmp(name, "other") == 0 && tag_order[t] >= HEAP_TAGS_MAX - 2;
    EXPECT(strcmp(name, want) == 0 || other, "%s: tag \"%s\" (the %u-th tried) is called \"%s\"",
           where, want, tag_order[t], name);
    tag_seen[t] = name;
}

/* A new (or resized: not `fresh`) block as the heap describes it. */
static void check_block(uint32_t i, bool fresh)
{
    const struct block *b = &blocks[i];
    struct heap_report r;
    memset(&r, 0, sizeof(r));
    size_t bs = heap_block_size(&heap, (void *)b->p, &r);
    if (debug_on) {
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
    heap_describe(&heap, b->p, &bi);
    EXPECT(bi.in_heap && bi.live && bi.block == b->p && bi.size == bs && bi.slot >= bs,
           "describe(0x%llx): in_heap %d live %d block 0x%llx size %zu slot %zu; "
           "want block 0x%llx size %zu", (ull)b->p, bi.in_heap, bi.live, (ull)bi.block,
           bi.size, bi.slot, (ull)b->p, bs);
    EXPECT(!debug_on || bi.slot >= b->size + HEAP_DEBUG_HEADER + HEAP_DEBUG_TAIL_MIN,
           "debug: a %zu-byte block takes only %zu bytes", b->size, bi.slot);
    EXPECT(!debug_on || !b->site || bi.site == b->site, "describe: site 0x%x, allocated at 0x%x",
           bi.site, b->site);
    check_tag(b->tag, bi.tag, "describe");
    if (b->size > 1) {
        uintptr_t end = b->p + b->size - 1;
        heap_describe(&heap, end, &bi);
        EXPECT(bi.live && bi.block == b->p, "describe(0x%llx), the last byte of 0x%llx: live %d "
               "block 0x%llx", (ull)end, (ull)b->p, bi.live, (ull)bi.block);
    }
}

/* ---- the counters ----------------------------------------------------------------- */

struct snap {
    struct heap_stats st;
    uint32_t backed;
    uint64_t calls, refusals;
};

static struct snap take_snap(void)
{
    struct snap s;
    heap_get_stats(&heap, &s.st);
    s.backed = src.count;
    s.calls = src.calls;
    s.refusals = src.refusals;
    return s;
}

/* Nothing changed since `a` but the failure counters (+dfail, +dbad);
 * calls: whether the page source may have been asked (and refused). */
static void expect_unchanged(const struct snap *a, uint64_t dfail, uint64_t dbad, bool calls,
                             const char *what)
{
    struct heap_stats b;
    heap_get_stats(&heap, &b);
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
    EXPECT(src.count == a->backed, "%s: backed pages %u -> %u", what, a->backed, src.count);
    EXPECT(calls || src.calls == a->calls, "%s called the page source", what);
}

static void check_counters(void)
{
    struct heap_stats s;
    heap_get_stats(&heap, &s);
    EXPECT(s.live_blocks == nlive, "stats: %zu live blocks, model %u", s.live_blocks, nlive);
    /* a failed allocation gives back the pages it backed and keeps the old
     * peak (it "changes nothing"): the heap's peak may be below the source's */
    EXPECT(s.backed_pages == src.count && s.peak_backed_pages >= s.backed_pages &&
               s.peak_backed_pages <= src.peak,
           "stats: %zu pages backed (peak %zu), the source counts %u (peak %u)", s.backed_pages,
           s.peak_backed_pages, src.count, src.peak);
    EXPECT(debug_on ? s.live_bytes == model_bytes : s.live_bytes >= model_bytes,
           "stats: live_bytes %zu, model %zu", s.live_bytes, model_bytes);
    EXPECT(s.slot_bytes >= s.live_bytes && s.slot_bytes <= s.backed_pages * HEAP_PAGE,
           "stats: slot_bytes %zu, live_bytes %zu, backed %zu pages", s.slot_bytes,
           s.live_bytes, s.backed_pages);
    EXPECT(s.free_backed_pages <= HEAP_RETAIN_PAGES &&
               s.map_pages + s.free_backed_pages <= s.backed_pages,
           "stats: %zu map pages + %zu free backed pages (at most %u) > %zu backed",
           s.map_pages, s.free_backed_pages, HEAP_RETAIN_PAGES, s.backed_pages);
}

struct walk {
    uintptr_t last;
    uint32_t count;
};

static void walk_fn(void *ctx, const struct heap_block_info *b)
{
    struct walk *w = ctx;
    uint32_t i = block_at(b->block);
    EXPECT(i && blocks[i].p == b->block, "heap_for_each_block: 0x%llx is not a live block",
           (ull)b->block);
    EXPECT(w->count == 0 || b->block > w->last, "heap_for_each_block: 0x%llx after 0x%llx",
           (ull)b->block, (ull)w->last);
    EXPECT(debug_on ? b->size == blocks[i].size : b->size >= blocks[i].size,
           "heap_for_each_block: 0x%llx has size %zu, model %zu", (ull)b->block, b->size,
           blocks[i].size);
    check_tag(blocks[i].tag, b->tag, "heap_for_each_block");
    w->last = b->block;
    w->count++;
}

static unsigned long full_checks;

static void full_check(void)
{
    struct heap_report r;
    memset(&r, 0, sizeof(r));
    EXPECT(heap_check(&heap, &r), "heap_check: %s at 0x%llx (block 0x%llx): %s",
           pname(r.problem), (ull)r.pointer, (ull)r.block, r.detail);
    struct walk w = {0, 0};
    heap_for_each_block(&heap, walk_fn, &w);
    EXPECT(w.count == nlive, "heap_for_each_block: %u blocks, model %u", w.count, nlive);
    full_checks++;
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
    return 0x100000u + (uint32_t)(ops & 0xfffff);
}

/* ---- operations ------------------------------------------------------------------- */

/* A successful allocation: into the model, filled, checked. */
static uint32_t took(void *p, size_t size, size_t align, uint8_t tag, uint32_t site,
                     const struct heap_report *r)
{
    EXPECT(r->problem == HEAP_OK, "a successful allocation reported %s", pname(r->problem));
    uint32_t i = model_add((uintptr_t)p, size, align, tag, site, next_id++);
    pattern_fill((uintptr_t)p, 0, size, blocks[i].id);
    check_block(i, true);
    return i;
}

/* A failed allocation: HEAP_NO_MEMORY only when the source refused. */
static void refused(const struct snap *s, const struct heap_report *r, size_t size)
{
    EXPECT(r->problem == HEAP_NO_MEMORY && src.refusals > s->refusals,
           "alloc of %zu bytes failed with %s (the page source refused %llu times)", size,
           pname(r->problem), (ull)(src.refusals - s->refusals));
    expect_unchanged(s, 1, 0, true, "a failed allocation");
    counts[N_NOMEM]++;
}

static void op_alloc(bool aligned)
{
    size_t size = rand_size(), align = aligned ? (size_t)1 << below(13) : HEAP_MIN_ALIGN;
    uint8_t t = pick_tag();
    uint32_t site = next_site();
    note("alloc(%zu, align %zu, tag %s)", size, align, t ? tag_names[t] : "NULL");
    struct snap s = take_snap();
    struct heap_report r;
    memset(&r, 0, sizeof(r));
    void *p = aligned ? heap_alloc_aligned(&heap, size, align, tag_names[t], site, &r)
                      : heap_alloc(&heap, size, tag_names[t], site, &r);
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
    note("%s(%zu, align %zu)", how == 0 ? "alloc" : how == 1 ? "alloc_aligned" : "realloc(NULL)",
         size, align);
    struct snap s = take_snap();
    struct heap_report r;
    memset(&r, 0, sizeof(r));
    void *p = how == 0 ? heap_alloc(&heap, size, "a", 1, &r)
            : how == 1 ? heap_alloc_aligned(&heap, size, align, "b", 1, &r)
                       : heap_realloc(&heap, NULL, size, 1, &r);
    enum heap_problem want = bad_align ? HEAP_BAD_ALIGN : HEAP_TOO_LARGE;
    EXPECT(p == NULL && r.problem == want, "got %p and %s, want NULL and %s", p,
           pname(r.problem), pname(want));
    expect_unchanged(&s, 1, 0, false, "a refused allocation");
    counts[bad_align ? N_BADALIGN : N_HUGE]++;
}

/* Frees block i (it must succeed); returns the stats from before. */
static struct snap free_block(uint32_t i)
{
    struct block b = blocks[i];
    note("free(0x%llx) of %zu bytes", (ull)b.p, b.size);
    expect_intact(i, b.p, b.size, "free");
    struct snap s = take_snap();
    struct heap_report r;
    memset(&r, 0, sizeof(r));
    freeing = i;
    bool ok = heap_free(&heap, (void *)b.p, &r);
    freeing = 0;
    EXPECT(ok, "free of live block 0x%llx (%zu bytes) refused: %s", (ull)b.p, b.size,
           pname(r.problem));
    model_remove(i);
    grave_push(b.p);
    struct heap_stats after;
    heap_get_stats(&heap, &after);
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
    if (!nlive)
        return;
    uint32_t i = live[below(nlive)];
    uintptr_t p = blocks[i].p;
    struct snap before = free_block(i);
    if (!twice)
        return;
    note("double free(0x%llx)", (ull)p);
    struct snap s = take_snap();
    bool run = s.st.runs < before.st.runs, slab_gone = s.st.slabs < before.st.slabs;
    struct heap_report r;
    memset(&r, 0, sizeof(r));
    bool ok = heap_free(&heap, (void *)p, &r);
    /* "freeing a slot or run twice" is always caught (heap_core.h), even
     * when the run's or the slab's pages went back */
    EXPECT(!ok && r.problem == HEAP_DOUBLE_FREE && r.pointer == p,
           "double free of 0x%llx (%s): ok %d, %s, pointer 0x%llx", (ull)p,
           run ? "a run" : slab_gone ? "its slab is gone" : "a slot", ok, pname(r.problem),
           (ull)r.pointer);
    expect_unchanged(&s, 0, 1, false, "a double free");
    counts[N_DOUBLE]++;
}

/* A free the heap must refuse with a problem in `want`; nothing changes. */
static void refuse_free(uintptr_t a, unsigned want, uint32_t inside, const char *what)
{
    note("%s free(0x%llx)", what, (ull)a);
    struct snap s = take_snap();
    struct heap_report r;
    memset(&r, 0, sizeof(r));
    bool ok = heap_free(&heap, (void *)a, &r);
    EXPECT(!ok && (want & BIT(r.problem)), "%s free of 0x%llx: ok %d, %s", what, (ull)a, ok,
           pname(r.problem));
    EXPECT(r.pointer == a, "%s free: report names 0x%llx", what, (ull)r.pointer);
    if (inside) {
        const struct block *b = &blocks[inside];
        EXPECT(r.block == b->p && r.offset == a - b->p,
               "interior free of 0x%llx: report block 0x%llx offset %zu, want 0x%llx + %zu",
               (ull)a, (ull)r.block, r.offset, (ull)b->p, (size_t)(a - b->p));
        EXPECT(!debug_on || (r.size == b->size && (!b->site || r.site == b->site)),
               "interior: report size %zu site 0x%x, block %zu bytes from 0x%x", r.size,
               r.site, b->size, b->site);
        check_tag(b->tag, r.tag, "interior free report");
        expect_intact(inside, b->p, b->size, "after an interior free");
    }
    expect_unchanged(&s, 0, 1, false, what);
}

static void op_interior(void)
{
    uint32_t i = nlive ? live[below(nlive)] : 0;
    if (!i || blocks[i].size < 2)
        return;
    const struct block *b = &blocks[i];
    uintptr_t a = b->p + 1 + below((uint32_t)b->size - 1);
    refuse_free(a, BIT(HEAP_INTERIOR), i, "interior");
    struct heap_report r;
    memset(&r, 0, sizeof(r));
    EXPECT(heap_block_size(&heap, (void *)a, &r) == 0 && r.problem != HEAP_OK,
           "heap_block_size(interior 0x%llx) = nonzero or no problem (%s)", (ull)a,
           pname(r.problem));
    struct heap_block_info bi;
    heap_describe(&heap, a, &bi);
    EXPECT(bi.in_heap && bi.live && bi.block == b->p, "describe(0x%llx): live %d block 0x%llx, "
           "want 0x%llx", (ull)a, bi.live, (ull)bi.block, (ull)b->p);
    if (below(4) == 0) { /* realloc of an interior pointer fails too */
        struct snap s = take_snap();
        memset(&r, 0, sizeof(r));
        void *q = heap_realloc(&heap, (void *)a, 1 + below(100), 1, &r);
        struct heap_stats now;
        heap_get_stats(&heap, &now);
        /* counted as a failed allocation or a bad free (or neither) */
        uint64_t dfail = now.failed_allocs - s.st.failed_allocs;
        uint64_t dbad = now.bad_frees - s.st.bad_frees;
        EXPECT(q == NULL && r.problem == HEAP_INTERIOR && dfail <= 1 && dbad <= 1,
               "realloc(interior 0x%llx): %p, %s, failed_allocs +%llu, bad_frees +%llu",
               (ull)a, q, pname(r.problem), (ull)dfail, (ull)dbad);
        expect_unchanged(&s, dfail, dbad, false, "a realloc of an interior pointer");
        expect_intact(i, b->p, b->size, "after a realloc of an interior pointer");
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
    uint32_t i = block_at(a);
    if (i && blocks[i].p == a)
        return; /* a live block starts there again */
    /* a free page may remember where a block was freed: a double free then */
    bool gone = !backed((uint32_t)((a - src.base) / HEAP_PAGE));
    refuse_free(a, i ? BIT(HEAP_INTERIOR) : gone ? GONE : MISUSE, i, "stale");
    counts[N_STALE]++;
}

/* An address in the range: the page map, a page never backed, near a live
 * block, or anywhere. */
static void op_wild(void)
{
    uintptr_t a;
    struct heap_stats st;
    heap_get_stats(&heap, &st);
    uint32_t how = below(4);
    if (how == 0)
        a = src.base + below((uint32_t)(st.map_pages * HEAP_PAGE));
    else if (how == 1 || !nlive)
        a = src.base + below((uint32_t)RANGE_BYTES);
    else {
        int64_t off = (int64_t)below(16384) - 8192;
        a = blocks[live[below(nlive)]].p + (uintptr_t)off;
        if (how == 2)
            a &= ~(uintptr_t)(HEAP_MIN_ALIGN - 1);
        if (a < src.base || a >= src.base + RANGE_BYTES)
            return;
    }
    uint32_t i = block_at(a), page = (uint32_t)((a - src.base) / HEAP_PAGE);
    if (i && blocks[i].p == a)
        return;
    unsigned want = page < st.map_pages ? BIT(HEAP_BAD_POINTER)
                  : !backed(page)       ? GONE
                  : i                   ? BIT(HEAP_INTERIOR)
                                        : MISUSE;
    refuse_free(a, want, i, "wild");
    /* outside the requested bytes, "live" may still name the block whose
     * slot (slack, alignment padding, header, red zone) holds the address:
     * within one slot of the block's start */
    struct heap_block_info bi;
    heap_describe(&heap, a, &bi);
    uint32_t named = bi.live ? block_at(bi.block) : 0;
    EXPECT(bi.in_heap && (i ? bi.live && bi.block == blocks[i].p
                            : !bi.live || (named && blocks[named].p == bi.block &&
                                           a + bi.slot > bi.block && a < bi.block + bi.slot)),
           "describe(0x%llx): in_heap %d live %d block 0x%llx slot %zu (model: %s)", (ull)a,
           bi.in_heap, bi.live, (ull)bi.block, bi.slot, i ? "live" : "none");
    counts[N_WILD]++;
}

static void op_outside(void)
{
    int local = 0;
    uintptr_t end = src.base + RANGE_BYTES;
    const uintptr_t choices[] = {
        src.base - 1, src.base - HEAP_MIN_ALIGN, src.base - HEAP_PAGE, end, end + 16,
        end + HEAP_PAGE - 16, (uintptr_t)&local, (uintptr_t)&heap, 16, UINTPTR_MAX & ~15ull,
    };
    uintptr_t a = choices[below(sizeof(choices) / sizeof(choices[0]))];
    refuse_free(a, BIT(HEAP_BAD_POINTER), 0, "outside");
    struct heap_block_info bi;
    heap_describe(&heap, a, &bi);
    EXPECT(!bi.in_heap && !bi.live, "describe(0x%llx), outside: in_heap %d live %d", (ull)a,
           bi.in_heap, bi.live);
    counts[N_OUTSIDE]++;
}

static void op_realloc(void)
{
    uint32_t sel = below(100);
    if (sel < 8 || !nlive) { /* from NULL: an allocation tagged "kmalloc" */
        size_t n = 1 + below(2000);
        note("realloc(NULL, %zu)", n);
        struct snap s = take_snap();
        struct heap_report r;
        memset(&r, 0, sizeof(r));
        uint32_t site = next_site();
        void *q = heap_realloc(&heap, NULL, n, site, &r);
        if (q)
            took(q, n, HEAP_MIN_ALIGN, 0, site, &r);
        else
            refused(&s, &r, n);
        return;
    }
    uint32_t i = live[below(nlive)];
    struct block b = blocks[i];
    size_t n = sel < 12 ? 0
             : sel < 14 ? huge_sizes[below(HUGE_SIZES)]
             : sel < 30 ? rand_size()
             : sel < 65 ? b.size + 1 + below(b.size < HEAP_PAGE ? 256 : 8192)
                        : below((uint32_t)b.size + 1);
    note("realloc(0x%llx of %zu bytes, %zu)", (ull)b.p, b.size, n);
    expect_intact(i, b.p, b.size, "realloc");
    struct heap_report r;
    memset(&r, 0, sizeof(r));
    size_t usable = heap_block_size(&heap, (void *)b.p, &r);
    struct heap_block_info bi;
    heap_describe(&heap, b.p, &bi);
    struct snap s = take_snap();
    uint32_t site = next_site();
    freeing = i;
    void *q = heap_realloc(&heap, (void *)b.p, n, site, &r);
    freeing = 0;
    if (n == 0) {
        EXPECT(q == NULL && r.problem == HEAP_OK, "realloc(p, 0): %p, %s", q, pname(r.problem));
        model_remove(i);
        grave_push(b.p);
        counts[N_FREE]++;
        return;
    }
    if (!q) {
        bool huge = n > RANGE_BYTES;
        EXPECT(r.problem == (huge ? HEAP_TOO_LARGE : HEAP_NO_MEMORY) &&
                   (huge || src.refusals > s.refusals),
               "realloc to %zu failed: %s (the source refused %llu times)", n, pname(r.problem),
               (ull)(src.refusals - s.refusals));
        expect_unchanged(&s, 1, 0, !huge, "a failed realloc");
        expect_intact(i, b.p, b.size, "after a failed realloc");
        counts[N_REALLOC_FAIL]++;
        return;
    }
    bool fits = debug_on ? n <= b.size || (b.align <= HEAP_MIN_ALIGN &&
                                           n + HEAP_DEBUG_HEADER + HEAP_DEBUG_TAIL_MIN <= bi.slot)
                         : n <= usable;
    EXPECT(!fits || q == (void *)b.p, "realloc of %zu bytes (usable %zu, slot %zu) to %zu "
           "moved it to %p, though it fits", b.size, usable, bi.slot, n, q);
    size_t keep = n < b.size ? n : b.size;
    expect_intact(i, (uintptr_t)q, keep, "the new block of a realloc");
    model_remove(i);
    if (q != (void *)b.p)
        grave_push(b.p);
    bool moved = q != (void *)b.p; /* the site of a block resized in place is not defined */
    uint32_t j = model_add((uintptr_t)q, n, moved ? HEAP_MIN_ALIGN : b.align, b.tag,
                           moved ? site : 0, b.id);
    EXPECT(r.problem == HEAP_OK, "a successful realloc reported %s", pname(r.problem));
    pattern_fill((uintptr_t)q, keep, n, b.id);
    check_block(j, q != (void *)b.p);
    counts[q == (void *)b.p ? N_REALLOC_SAME : N_REALLOC_MOVED]++;
}

/* Debug mode: break a red zone, a header or a freed slot on purpose; the
 * heap must name it, refuse to free the block, and be whole once it is
 * repaired. */
static void op_corrupt(void)
{
    uint32_t i = 0;
    for (int tries = 0; tries < 8 && nlive && !i; tries++) {
        uint32_t c = live[below(nlive)];
        if (blocks[c].size <= 2048 && blocks[c].align <= HEAP_MIN_ALIGN)
            i = c;
    }
    if (!i)
        return;
    struct block b = blocks[i];
    struct heap_report r;
    uint32_t kind = below(3);
    if (kind < 2) {
        size_t off = kind == 0 ? b.size + below(HEAP_DEBUG_TAIL_MIN) : below(HEAP_DEBUG_HEADER);
        uintptr_t a = kind == 0 ? b.p + off : b.p - HEAP_DEBUG_HEADER + off;
        enum heap_problem want = kind == 0 ? HEAP_OVERFLOW : HEAP_HEADER_SMASHED;
        note("%s of 0x%llx (%zu bytes) at 0x%llx", kind ? "header smash" : "overflow",
             (ull)b.p, b.size, (ull)a);
        uint8_t old = poke(a, 0);
        if (kind == 0)
            EXPECT(old == HEAP_REDZONE, "red zone byte 0x%llx is 0x%02x", (ull)a, old);
        else if (old == 0)
            poke(a, 0x55); /* the byte must change */
        memset(&r, 0, sizeof(r));
        EXPECT(!heap_check(&heap, &r) && r.problem == want && r.block == b.p &&
                   (kind || r.offset == off),
               "heap_check after a %s: %s block 0x%llx offset %zu", pname(want),
               pname(r.problem), (ull)r.block, r.offset);
        struct snap s = take_snap();
        memset(&r, 0, sizeof(r));
        bool ok = heap_free(&heap, (void *)b.p, &r);
        EXPECT(!ok && r.problem == want && r.block == b.p, "free after a %s: ok %d, %s block "
               "0x%llx", pname(want), ok, pname(r.problem), (ull)r.block);
        expect_unchanged(&s, 0, 1, false, "a refused free of a broken block");
        poke(a, old);
        counts[kind ? N_SMASH : N_OVERFLOW]++;
    } else {
        if (!b.size)
            return;
        struct snap before = free_block(i);
        struct snap s = take_snap();
        if (s.st.slabs != before.st.slabs || s.st.runs != before.st.runs)
            return; /* the slot's page went back */
        uintptr_t a = b.p + below((uint32_t)b.size);
        note("write after free of 0x%llx (%zu bytes) at 0x%llx", (ull)b.p, b.size, (ull)a);
        uint8_t old = poke(a, 0);
        EXPECT(old == HEAP_POISON, "freed byte 0x%llx is 0x%02x, not poison", (ull)a, old);
        memset(&r, 0, sizeof(r));
        EXPECT(!heap_check(&heap, &r) && r.problem == HEAP_USE_AFTER_FREE &&
                   r.block + r.offset == a,
               "heap_check after a write to a free slot: %s block 0x%llx offset %zu",
               pname(r.problem), (ull)r.block, r.offset);
        /* the same size and tag: the heap may hand this slot out again,
         * reporting the write (and the block is clean) */
        memset(&r, 0, sizeof(r));
        uint32_t site = next_site();
        struct snap s2 = take_snap();
        void *q = heap_alloc(&heap, b.size, tag_names[b.tag], site, &r);
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
    EXPECT(heap_check(&heap, &r), "heap_check after the repair: %s at 0x%llx: %s",
           pname(r.problem), (ull)r.block, r.detail);
}

/* ---- runs ------------------------------------------------------------------------- */

/* Everything freed; every page still backed must be the map, a retained
 * free page or a cached empty slab. */
static void drain(const char *when)
{
    while (nlive) {
        free_block(live[below(nlive)]);
        ops++;
        check_counters();
    }
    note("drained (%s)", when);
    full_check();
    struct heap_stats s;
    heap_get_stats(&heap, &s);
    EXPECT(s.live_blocks == 0 && s.live_bytes == 0 && s.slot_bytes == 0 && s.runs == 0,
           "empty heap: %zu blocks, %zu bytes, %zu slot bytes, %zu runs", s.live_blocks,
           s.live_bytes, s.slot_bytes, s.runs);
    uint32_t map = 0, kept = 0, slab = 0;
    for (uint32_t pg = 0; pg < RANGE_PAGES; pg++) {
        if (!backed(pg))
            continue;
        struct heap_block_info bi;
        heap_describe(&heap, src.base + (uintptr_t)pg * HEAP_PAGE, &bi);
        const char *w = bi.what ? bi.what : "(null)";
        EXPECT(bi.in_heap && !bi.live, "empty heap: page %u is live (%s)", pg, w);
        /* "page map", "free page (kept backed)", and a slab's pages: "free
         * slot", "slab header", "slab of 64-byte slots" */
        if (strstr(w, "free page"))
            kept++;
        else if (strstr(w, "map"))
            map++;
        else if (strstr(w, "slot") || strstr(w, "slab"))
            slab++;
        else
            fail("empty heap: backed page %u is \"%s\"", pg, w);
    }
    EXPECT(map == s.map_pages && kept == s.free_backed_pages && kept <= HEAP_RETAIN_PAGES &&
               s.slabs <= heap.class_count && slab <= 16 * s.slabs &&
               map + kept + slab == src.count,
           "pages lost: backed %u = map %u (stats %zu) + retained %u (stats %zu) + slabs %u "
           "(%zu slabs, at most one a class: %u)?", src.count, map, s.map_pages, kept,
           s.free_backed_pages, slab, s.slabs, heap.class_count);
    printf("heap_model: %-6s debug %-3s after %7lu ops: backed %u pages = map %u + retained "
           "%u + %zu cached empty slabs of %u pages: zero pages lost\n", when,
           debug_on ? "on" : "off", ops, src.count, map, kept, s.slabs, slab);
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
    else if (r < 40) { if (debug_on) op_corrupt(); }
    else if (r < 140) op_realloc();
    else if (below(2 * target) >= nlive) op_alloc(below(10) == 0);
    else op_free(below(64) == 0);
}

static void run(bool debug, unsigned long n)
{
    debug_on = debug;
    src_reset();
    model_reset();
    tags_in_use = 6;
    struct heap_config cfg = {.debug = debug};
    note("heap_init (debug %d)", debug);
    EXPECT(heap_init(&heap, src.base, RANGE_BYTES, &source, &cfg), "heap_init failed");
    ops = 0;
    unsigned long all = debug ? DEBUG_CHECK_ALL_OPS : CHECK_ALL_OPS;
    unsigned long every = debug ? DEBUG_CHECK_EVERY : CHECK_EVERY;
    uint32_t target = 1000;
    bool drained = false, budgeted = false;
    while (ops < n) {
        /* the phases, by percent of the run: more tags than the heap has
         * from 30%; everything freed at 50%; the source on a budget of 48
         * more pages at 60-65%, refusing one back in 3 at 70-75% */
        unsigned long at = ops * 100 / n;
        tags_in_use = at >= 30 ? TAGS : 6;
        if (at >= 50 && !drained) {
            drain("middle");
            drained = true;
        }
        if (at >= 60 && at < 65 && !budgeted) {
            src.budget = src.count + 48;
            budgeted = true;
        }
        if (at >= 65)
            src.budget = UINT32_MAX;
        src.fail_one_in = at >= 70 && at < 75 ? 3 : 0;
        if (ops % 50000 == 0)
            target = 100 + below(5000);
        step(target);
        ops++;
        check_counters();
        if (ops < all || ops % every == 0)
            full_check();
    }
    src.budget = UINT32_MAX;
    src.fail_one_in = 0;
    drain("end");
}

/* heap_init's refusals, and a 64 KiB heap that fills up. */
static void small_cases(void)
{
    struct heap_config cfg = {.debug = false};
    debug_on = false;
    src_reset();
    model_reset();
    const struct { uintptr_t base; size_t size; const char *what; } bad[] = {
        {src.base + 16, 64 * 1024, "base not page-aligned"},
        {src.base, 64 * 1024 - HEAP_PAGE, "smaller than 64 KiB"},
        {src.base, 64 * 1024 + 100, "size not whole pages"},
        {src.base, ((size_t)HEAP_MAX_PAGES + 1) * HEAP_PAGE, "more than HEAP_MAX_PAGES"},
    };
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        note("heap_init: %s", bad[k].what);
        EXPECT(!heap_init(&heap, bad[k].base, bad[k].size, &source, &cfg) && src.count == 0,
               "heap_init accepted: %s", bad[k].what);
    }
    note("heap_init with a source that has nothing");
    src.budget = 0;
    EXPECT(!heap_init(&heap, src.base, RANGE_BYTES, &source, &cfg) && src.count == 0,
           "heap_init succeeded without memory");
    src.budget = UINT32_MAX;

    note("heap_init of 64 KiB");
    EXPECT(heap_init(&heap, src.base, 64 * 1024, &source, &cfg), "heap_init of 64 KiB failed");
    tags_in_use = 1;
    /* 16 pages: one of page map, then runs of 3 pages (10,000 bytes): 5 fit */
    unsigned got = 0;
    for (;;) {
        note("filling a 64 KiB heap: block %u", got);
        struct snap s = take_snap();
        struct heap_report r;
        memset(&r, 0, sizeof(r));
        void *p = heap_alloc(&heap, 10000, NULL, 7, &r);
        if (!p) {
            EXPECT(r.problem == HEAP_NO_MEMORY && src.refusals == s.refusals,
                   "a full 64 KiB heap: %s", pname(r.problem));
            expect_unchanged(&s, 1, 0, true, "an allocation in a full heap");
            break;
        }
        took(p, 10000, HEAP_MIN_ALIGN, 0, 7, &r);
        got++;
        EXPECT(got <= 5, "a 64 KiB heap gave %u blocks of 10,000 bytes", got);
    }
    EXPECT(got == 5, "a 64 KiB heap gave %u blocks of 10,000 bytes, not 5", got);
    note("too large for a 64 KiB heap");
    struct heap_report r;
    memset(&r, 0, sizeof(r));
    EXPECT(!heap_alloc(&heap, 64 * 1024 + 1, NULL, 7, &r) && r.problem == HEAP_TOO_LARGE,
           "65537 bytes of a 64 KiB heap: %s", pname(r.problem));
    full_check();
    while (nlive)
        free_block(live[0]);
    full_check();
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
    void *arena = NULL;
    if (posix_memalign(&arena, HEAP_PAGE, RANGE_BYTES + 2 * HEAP_PAGE) != 0)
        abort();
    src.arena = arena;
    src.base = (uintptr_t)arena + HEAP_PAGE; /* a page of the arena each side, never the heap's */
    owner = calloc(GRANULES, sizeof(uint32_t));
    if (!owner)
        abort();

    small_cases();
    unsigned long total = 0, fulls = 0;
    run(false, n_off);
    total += ops;
    run(true, n_on);
    total += ops;
    fulls = full_checks;

    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("heap_model: %lu operations, %lu heap_checks with walks, %.1f s\n", total, fulls,
           secs);
    printf("heap_model:");
    for (int k = 0; k < N_KINDS; k++)
        printf(" %s %lu", n_names[k], counts[k]);
    printf("\n");
    ASAN_UNPOISON_MEMORY_REGION((void *)src.base, RANGE_BYTES);
    free(arena);
    free(owner);
    printf("heap_model: %lu checks, 0 failed\n", checks);
    return 0;
}
