/*
 * fuzz_heap.c - the kernel heap (heap_core.h) driven by the fuzzer's bytes.
 *
 * The first byte sets the heap up: bit 0 turns the debug checks on, bits
 * 1-2 pick the range (16 MiB, or 64 KiB, 256 KiB, 1 MiB: small enough to
 * fill up).  Then each byte is an operation, followed by its arguments,
 * until the bytes run out (at most MAX_OPS operations):
 *
 *   0-3  alloc (size, tag)          4  alloc_aligned (good and bad alignments)
 *   5-6  realloc (grow, shrink, 0)  7-9  free of a live block
 *   10   free, then a double free   11  free of an interior pointer
 *   12   free of an address in the range or outside it
 *   13   the page source: a budget of pages, or refuse every k-th back
 *   14   debug on: an overflow, a smashed header or a write after free, which
 *        heap_check and heap_free must name; then repaired.  Off: queries
 *   15   sizes that cannot be served (wrap, > range)
 *
 * The model is the live blocks (at most MAX_LIVE, in an array): each new
 * block must be aligned, inside the range, on backed pages and overlap no
 * other; its pattern must be intact when it is freed or reallocated.  A
 * misuse must be refused with the right problem and change nothing (the
 * counters are compared).  HEAP_NO_MEMORY only when the source refused,
 * or in a small range (16 MiB never fills with MAX_LIVE blocks of at most
 * ~72 KiB).  heap_check every CHECK_EVERY operations (with debug on every
 * DEBUG_CHECK_EVERY: it then reads every free slot, and more often costs
 * the fuzzer most of its speed), after each corruption, and at the end,
 * when everything is freed and every page still backed must be the page
 * map, a retained page or an empty cached slab.  Any failure aborts.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/heap_core.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#include <sanitizer/asan_interface.h>
#define KV_ASAN 1
#endif
#endif
#ifndef KV_ASAN
#define ASAN_POISON_MEMORY_REGION(a, n) ((void)(a), (void)(n))
#define ASAN_UNPOISON_MEMORY_REGION(a, n) ((void)(a), (void)(n))
#endif

#define MAX_OPS 2000
#define MAX_LIVE 48
#define CHECK_EVERY 8        /* debug off */
#define DEBUG_CHECK_EVERY 32 /* debug on */
#define BIG_PAGES 4096u /* 16 MiB: 48 blocks of at most ~72 KiB can never fill it */
#define BIT(p) (1u << (p))
#define MISUSE (BIT(HEAP_DOUBLE_FREE) | BIT(HEAP_BAD_POINTER) | BIT(HEAP_INTERIOR))

typedef unsigned long long ull;

static const uint8_t *in;
static size_t in_len, in_at;

static uint32_t byte(void)
{
    return in_at < in_len ? in[in_at++] : 0;
}

static uint32_t word(void)
{
    uint32_t lo = byte();
    return lo | byte() << 8;
}

static unsigned long op_no;

static void fail(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "fuzz_heap: FAILED at operation %lu (input byte %zu)\n  ", op_no, in_at);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    abort();
}

#define EXPECT(cond, ...)                                                        \
    do {                                                                         \
        if (!(cond))                                                             \
            fail(__VA_ARGS__);                                                   \
    } while (0)

static const char *pname(enum heap_problem p)
{
    const char *s = (unsigned)p <= HEAP_CORRUPT ? heap_problem_str(p) : NULL;
    return s ? s : "(no name)";
}

/* ---- the page source ---------------------------------------------------------- */

static uint8_t *arena; /* a page each side of the biggest range */
static uintptr_t base;
static uint32_t range_pages;
static uint8_t is_backed[BIG_PAGES];
static uint32_t backed_count, backed_peak, budget, fail_every, back_calls;
static uint64_t refusals, src_calls;

struct live {
    uintptr_t p;
    size_t size, align;
    uint32_t id, site;
    uint8_t tag;
};
static struct live lv[MAX_LIVE];
static uint32_t nl, next_id;
static int freeing = -1; /* the block being freed or reallocated: its pages may go */
static bool debug;
static struct heap heap;

static uint32_t check_pages(uintptr_t va, uint32_t pages, const char *who)
{
    EXPECT(va % HEAP_PAGE == 0 && va >= base && pages >= 1 && pages <= range_pages &&
               (va - base) / HEAP_PAGE + pages <= range_pages,
           "%s(0x%llx, %u): not whole pages of the range", who, (ull)va, pages);
    return (uint32_t)((va - base) / HEAP_PAGE);
}

static bool back(void *ctx, uintptr_t va, uint32_t pages)
{
    (void)ctx;
    src_calls++;
    uint32_t first = check_pages(va, pages, "back");
    for (uint32_t p = first; p < first + pages; p++)
        EXPECT(!is_backed[p], "back: page %u is backed already", p);
    if (backed_count + pages > budget || (fail_every && ++back_calls % fail_every == 0)) {
        refusals++;
        return false;
    }
    memset(is_backed + first, 1, pages);
    backed_count += pages;
    backed_peak = backed_count > backed_peak ? backed_count : backed_peak;
    ASAN_UNPOISON_MEMORY_REGION((void *)va, (size_t)pages * HEAP_PAGE);
    memset((void *)va, 0xa5, (size_t)pages * HEAP_PAGE);
    return true;
}

static void release(void *ctx, uintptr_t va, uint32_t pages)
{
    (void)ctx;
    src_calls++;
    uint32_t first = check_pages(va, pages, "release");
    for (uint32_t p = first; p < first + pages; p++)
        EXPECT(is_backed[p], "release: page %u is not backed", p);
    for (uint32_t i = 0; i < nl; i++)
        EXPECT((int)i == freeing || lv[i].p + lv[i].size <= va ||
                   lv[i].p >= va + (size_t)pages * HEAP_PAGE,
               "release(0x%llx, %u): live block 0x%llx is there", (ull)va, pages,
               (ull)lv[i].p);
    memset((void *)va, 0xcc, (size_t)pages * HEAP_PAGE);
    ASAN_POISON_MEMORY_REGION((void *)va, (size_t)pages * HEAP_PAGE);
    memset(is_backed + first, 0, pages);
    backed_count -= pages;
}

static const struct heap_pages source = {back, release, NULL};

__attribute__((no_sanitize("address"))) static uint8_t poke(uintptr_t a, uint8_t v)
{
    volatile uint8_t *q = (volatile uint8_t *)a;
    uint8_t old = *q;
    *q = v;
    return old;
}

/* ---- tags, patterns, the model ------------------------------------------------ */

static const char *const tags[40] = {
    NULL, "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p",
    "q", "r", "s", "t", "u", "v", "w", "x", "y", "z", "0", "1", "2", "3", "4", "5", "6",
    "7", "8", "9", "shell", "vfs", "net",
};
static uint32_t tag_order[40], tags_tried;
static const char *tag_seen[40];

static uint8_t pick_tag(uint32_t b)
{
    uint8_t t = (uint8_t)(b % 40);
    if (t && tag_order[t] == UINT32_MAX)
        tag_order[t] = tags_tried++;
    return t;
}

/* Its own name ("kmalloc" for NULL), or "other" past the heap's slots;
 * always the same. */
static void check_tag(uint8_t t, const char *name)
{
    const char *want = t ? tags[t] : "kmalloc";
    EXPECT(name, "tag of a \"%s\" block is NULL", want);
    if (!tag_seen[t]) {
        EXPECT(!strcmp(name, want) ||
                   (t && !strcmp(name, "other") && tag_order[t] >= HEAP_TAGS_MAX - 2),
               "tag \"%s\" is called \"%s\"", want, name);
        tag_seen[t] = name;
    }
    EXPECT(!strcmp(name, tag_seen[t]), "tag \"%s\": \"%s\", then \"%s\"", want, tag_seen[t],
           name);
}

/* The pattern's loops are not instrumented for coverage: their compares
 * tell the fuzzer nothing about the heap, and cost most of its time. */
#define NO_COVERAGE __attribute__((no_sanitize("coverage")))

/* Byte i of block id's pattern: byte i % 8 of word i / 8. */
static NO_COVERAGE uint64_t pat_word(uint32_t id, size_t w)
{
    return ((uint64_t)id * 0x9e3779b97f4a7c15ull) ^ ((uint64_t)w * 0xbf58476d1ce4e5b9ull);
}

static NO_COVERAGE uint8_t pat(uint32_t id, size_t i)
{
    return (uint8_t)(pat_word(id, i / 8) >> (i % 8 * 8));
}

static NO_COVERAGE void fill(uintptr_t p, size_t from, size_t to, uint32_t id)
{
    uint8_t *q = (uint8_t *)p;
    size_t i = from;
    for (; i < to && i % 8; i++)
        q[i] = pat(id, i);
    for (; i + 8 <= to; i += 8) {
        uint64_t w = pat_word(id, i / 8);
        memcpy(q + i, &w, 8); /* x86: little-endian, as pat() reads it */
    }
    for (; i < to; i++)
        q[i] = pat(id, i);
}

/* The differences are or-ed a word at a time; only a damaged block is
 * searched for its first bad byte. */
static NO_COVERAGE void intact(const struct live *b, uintptr_t at, size_t n, const char *when)
{
    const uint8_t *q = (const uint8_t *)at;
    uint64_t diff = 0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, q + i, 8);
        diff |= w ^ pat_word(b->id, i / 8);
    }
    for (; i < n; i++)
        diff |= q[i] ^ pat(b->id, i);
    if (!diff)
        return;
    for (i = 0; q[i] == pat(b->id, i);)
        i++;
    fail("%s: block 0x%llx (%zu bytes) lost its contents at offset %zu", when, (ull)b->p,
         b->size, i);
}

/* The live block covering a, or -1. */
static int block_at(uintptr_t a)
{
    for (uint32_t i = 0; i < nl; i++)
        if (a >= lv[i].p && a < lv[i].p + (lv[i].size ? lv[i].size : 1))
            return (int)i;
    return -1;
}

static void model_add(struct live b)
{
    uintptr_t end = b.p + (b.size ? b.size : 1);
    EXPECT(b.p % HEAP_MIN_ALIGN == 0 && b.p % b.align == 0, "0x%llx not %zu-aligned", (ull)b.p,
           b.align);
    EXPECT(b.p >= base && b.size < (size_t)range_pages * HEAP_PAGE &&
               end <= base + (size_t)range_pages * HEAP_PAGE,
           "0x%llx (%zu bytes) is not inside the range", (ull)b.p, b.size);
    for (uintptr_t pg = (b.p - base) / HEAP_PAGE; pg <= (end - 1 - base) / HEAP_PAGE; pg++)
        EXPECT(is_backed[pg], "0x%llx (%zu bytes): page %u not backed", (ull)b.p, b.size,
               (unsigned)pg);
    for (uint32_t i = 0; i < nl; i++)
        EXPECT(end <= lv[i].p || b.p >= lv[i].p + (lv[i].size ? lv[i].size : 1),
               "0x%llx (%zu bytes) overlaps 0x%llx (%zu bytes)", (ull)b.p, b.size,
               (ull)lv[i].p, lv[i].size);
    lv[nl++] = b;
}

static void model_del(uint32_t i)
{
    lv[i] = lv[--nl];
}

/* ---- checks ------------------------------------------------------------------- */

static void describe_block(const struct live *b, bool fresh)
{
    struct heap_report r;
    memset(&r, 0, sizeof(r));
    size_t bs = heap_block_size(&heap, (void *)b->p, &r);
    EXPECT(debug ? bs == b->size : bs >= b->size, "heap_block_size(0x%llx) = %zu for %zu",
           (ull)b->p, bs, b->size);
    if (!debug && fresh && b->align <= HEAP_MIN_ALIGN) {
        size_t most = b->size <= 128 ? (b->size + 15) / 16 * 16 + 16 * (b->size == 0)
                    : b->size <= HEAP_SMALL_MAX ? b->size + b->size / 4
                    : (b->size + HEAP_PAGE - 1) / HEAP_PAGE * HEAP_PAGE;
        EXPECT(bs <= most, "a %zu-byte request got %zu usable bytes", b->size, bs);
    }
    struct heap_block_info bi;
    heap_describe(&heap, b->p + (b->size ? b->size - 1 : 0), &bi);
    EXPECT(bi.in_heap && bi.live && bi.block == b->p && bi.size == bs,
           "describe(last byte of 0x%llx): live %d block 0x%llx size %zu", (ull)b->p, bi.live,
           (ull)bi.block, bi.size);
    EXPECT(!debug || !b->site || bi.site == b->site, "describe: site 0x%x, want 0x%x", bi.site,
           b->site);
    check_tag(b->tag, bi.tag);
}

static void counters(void)
{
    struct heap_stats s;
    heap_get_stats(&heap, &s);
    /* a failed allocation gives back what it backed, and the peak too */
    EXPECT(s.live_blocks == nl && s.backed_pages == backed_count &&
               s.peak_backed_pages >= s.backed_pages && s.peak_backed_pages <= backed_peak,
           "stats: %zu blocks, %zu backed (peak %zu); model %u, %u (peak %u)", s.live_blocks,
           s.backed_pages, s.peak_backed_pages, nl, backed_count, backed_peak);
    size_t bytes = 0;
    for (uint32_t i = 0; i < nl; i++)
        bytes += lv[i].size;
    EXPECT(debug ? s.live_bytes == bytes : s.live_bytes >= bytes, "live_bytes %zu, model %zu",
           s.live_bytes, bytes);
    EXPECT(s.free_backed_pages <= HEAP_RETAIN_PAGES && s.slot_bytes >= s.live_bytes,
           "stats: %zu retained pages, slot_bytes %zu", s.free_backed_pages, s.slot_bytes);
}

static void walk_fn(void *ctx, const struct heap_block_info *b)
{
    uint32_t *n = ctx;
    int i = block_at(b->block);
    EXPECT(i >= 0 && lv[i].p == b->block, "heap_for_each_block: 0x%llx is not live",
           (ull)b->block);
    (*n)++;
}

static void check(void)
{
    struct heap_report r;
    memset(&r, 0, sizeof(r));
    EXPECT(heap_check(&heap, &r), "heap_check: %s at 0x%llx: %s", pname(r.problem),
           (ull)r.block, r.detail);
    uint32_t n = 0;
    heap_for_each_block(&heap, walk_fn, &n);
    EXPECT(n == nl, "heap_for_each_block: %u blocks, model %u", n, nl);
}

/* Nothing but the failure counters changed since s. */
static void unchanged(const struct heap_stats *s, uint64_t dfail, uint64_t dbad,
                      uint32_t backed_before, const char *what)
{
    struct heap_stats a;
    heap_get_stats(&heap, &a);
    struct heap_stats want = *s;
    want.failed_allocs += dfail;
    want.bad_frees += dbad;
    EXPECT(memcmp(&a, &want, sizeof(a)) == 0 && backed_count == backed_before,
           "%s changed the heap (blocks %zu -> %zu, backed %zu -> %zu, failed %llu -> %llu, "
           "bad frees %llu -> %llu)", what, s->live_blocks, a.live_blocks, s->backed_pages,
           a.backed_pages, (ull)s->failed_allocs, (ull)a.failed_allocs, (ull)s->bad_frees,
           (ull)a.bad_frees);
}

/* ---- operations --------------------------------------------------------------- */

static size_t get_size(void)
{
    static const size_t edges[] = {0, 1, 16, 17, 128, 129, 4095, 4096, 4097, 8191, 8192,
                                   8193, 12288, 65536};
    uint32_t k = byte();
    switch (k & 7) {
    case 0: case 1: case 2: return byte();
    case 3: return word() & 0xfff;
    case 4: return word() & 0x3fff;
    case 5: return word();
    case 6: return edges[(k >> 3) % (sizeof(edges) / sizeof(edges[0]))];
    default: return 1 + (k >> 3);
    }
}

/* An allocation's result: a new block, or a failure that changed nothing. */
static void result(void *p, size_t size, size_t align, uint8_t tag, uint32_t site,
                   const struct heap_report *r, const struct heap_stats *s,
                   uint32_t backed_before, uint64_t refused_before)
{
    size_t range = (size_t)range_pages * HEAP_PAGE;
    if (!p) {
        bool small = range_pages < BIG_PAGES;
        /* > range: too large; nearly the range: either; else no memory, when
         * the source refused or a small range may be full */
        unsigned ok = size > range ? BIT(HEAP_TOO_LARGE)
                    : BIT(HEAP_NO_MEMORY) * (refusals > refused_before || small) |
                          BIT(HEAP_TOO_LARGE) * (size > range - 2 * HEAP_PAGE);
        EXPECT(ok & BIT(r->problem), "alloc(%zu, align %zu) failed: %s (source refused %llu)",
               size, align, pname(r->problem), (ull)(refusals - refused_before));
        unchanged(s, 1, 0, backed_before, "a failed allocation");
        return;
    }
    EXPECT(r->problem == HEAP_OK && size <= range, "alloc(%zu) succeeded with %s", size,
           pname(r->problem));
    struct live b = {(uintptr_t)p, size, align < 16 ? 16 : align, next_id++, site, tag};
    model_add(b);
    fill(b.p, 0, size, b.id);
    describe_block(&b, true);
}

static void op_alloc(uint32_t op, bool aligned)
{
    size_t size = get_size(), align = 16;
    if (aligned) {
        uint32_t a = byte();
        align = a & 0x80 ? (a & 0x7f ? a & 0x7f : 3) : (size_t)1 << (a % 14);
    }
    if (nl == MAX_LIVE)
        return;
    uint8_t t = pick_tag(op >> 4 | byte() << 4);
    uint32_t site = 0x1000 + (uint32_t)op_no;
    struct heap_stats s;
    heap_get_stats(&heap, &s);
    uint32_t bb = backed_count;
    uint64_t rf = refusals;
    struct heap_report r;
    memset(&r, 0, sizeof(r));
    void *p = aligned ? heap_alloc_aligned(&heap, size, align, tags[t], site, &r)
                      : heap_alloc(&heap, size, tags[t], site, &r);
    if (aligned && (align & (align - 1) || align > HEAP_PAGE)) {
        bool big = size > (size_t)(range_pages - 2) * HEAP_PAGE; /* which is checked first? */
        EXPECT(!p && (r.problem == HEAP_BAD_ALIGN || (big && r.problem == HEAP_TOO_LARGE)),
               "alignment %zu: %p, %s", align, p, pname(r.problem));
        unchanged(&s, 1, 0, bb, "a bad alignment");
        return;
    }
    result(p, size, align, t, site, &r, &s, bb, rf);
}

static void op_free(uint32_t i, bool twice)
{
    struct live b = lv[i];
    intact(&b, b.p, b.size, "free");
    struct heap_stats s, mid;
    heap_get_stats(&heap, &s);
    struct heap_report r;
    memset(&r, 0, sizeof(r));
    freeing = (int)i;
    bool ok = heap_free(&heap, (void *)b.p, &r);
    freeing = -1;
    EXPECT(ok, "free of live 0x%llx refused: %s", (ull)b.p, pname(r.problem));
    model_del(i);
    if (!twice)
        return;
    heap_get_stats(&heap, &mid);
    uint32_t bb = backed_count;
    /* a slot or run freed twice is always caught, its pages gone or not */
    memset(&r, 0, sizeof(r));
    EXPECT(!heap_free(&heap, (void *)b.p, &r) && r.problem == HEAP_DOUBLE_FREE && r.pointer == b.p,
           "double free of 0x%llx: %s", (ull)b.p, pname(r.problem));
    unchanged(&mid, 0, 1, bb, "a double free");
}

static void bad_free(uintptr_t a, unsigned want, const char *what)
{
    struct heap_stats s;
    heap_get_stats(&heap, &s);
    uint32_t bb = backed_count;
    uint64_t calls = src_calls;
    int i = block_at(a);
    struct heap_report r;
    memset(&r, 0, sizeof(r));
    EXPECT(!heap_free(&heap, (void *)a, &r) && (want & BIT(r.problem)) && r.pointer == a,
           "%s free of 0x%llx: %s", what, (ull)a, pname(r.problem));
    if (i >= 0 && lv[i].p != a) {
        EXPECT(r.problem == HEAP_INTERIOR && r.block == lv[i].p && r.offset == a - lv[i].p,
               "%s free of 0x%llx inside 0x%llx: %s block 0x%llx offset %zu", what, (ull)a,
               (ull)lv[i].p, pname(r.problem), (ull)r.block, r.offset);
        intact(&lv[i], lv[i].p, lv[i].size, "after an interior free");
        EXPECT(heap_block_size(&heap, (void *)a, &r) == 0, "block_size(interior) != 0");
    }
    unchanged(&s, 0, 1, bb, what);
    EXPECT(src_calls == calls, "a refused free called the page source");
}

static void op_wild(void)
{
    uint32_t k = byte(), off = word() | byte() << 16;
    size_t range = (size_t)range_pages * HEAP_PAGE;
    uintptr_t a;
    if (k & 1) { /* outside */
        const uintptr_t out[] = {base - 1, base - 16, base + range, base + range + 16,
                                 (uintptr_t)&heap, 16, UINTPTR_MAX & ~15ull};
        bad_free(out[(k >> 1) % 7], BIT(HEAP_BAD_POINTER), "outside");
        struct heap_block_info bi;
        heap_describe(&heap, out[(k >> 1) % 7], &bi);
        EXPECT(!bi.in_heap && !bi.live, "describe outside: in_heap");
        return;
    }
    if (k & 2 && nl) /* near a live block */
        a = lv[(k >> 2) % nl].p + (off & 0x3fff) - 0x2000;
    else
        a = base + off % range;
    if (k & 4)
        a &= ~(uintptr_t)15;
    if (a < base || a >= base + range)
        return;
    int i = block_at(a);
    if (i >= 0 && lv[i].p == a)
        return;
    struct heap_stats s;
    heap_get_stats(&heap, &s);
    uint32_t pg = (uint32_t)((a - base) / HEAP_PAGE);
    /* a free page may remember a block freed there: a double free then */
    bad_free(a, pg < s.map_pages ? BIT(HEAP_BAD_POINTER)
                : !is_backed[pg] ? BIT(HEAP_BAD_POINTER) | BIT(HEAP_DOUBLE_FREE)
                : i >= 0         ? BIT(HEAP_INTERIOR)
                                 : MISUSE, "wild");
    /* outside the requested bytes, "live" may name the block whose slot
     * (slack, padding, header, red zone) holds it: within a slot of it */
    struct heap_block_info bi;
    heap_describe(&heap, a, &bi);
    int named = bi.live ? block_at(bi.block) : -1;
    EXPECT(bi.in_heap && (i >= 0 ? bi.live && bi.block == lv[i].p
                                 : !bi.live || (named >= 0 && lv[named].p == bi.block &&
                                                a + bi.slot > bi.block && a < bi.block + bi.slot)),
           "describe(0x%llx): live %d block 0x%llx slot %zu", (ull)a, bi.live, (ull)bi.block,
           bi.slot);
}

static void op_realloc(uint32_t op)
{
    uint32_t k = byte();
    size_t n = get_size();
    struct heap_stats s;
    heap_get_stats(&heap, &s);
    uint32_t bb = backed_count, site = 0x2000 + (uint32_t)op_no;
    uint64_t rf = refusals;
    struct heap_report r;
    memset(&r, 0, sizeof(r));
    if (!nl || (op & 0x80)) { /* from NULL */
        if (nl == MAX_LIVE || n == 0)
            return;
        result(heap_realloc(&heap, NULL, n, site, &r), n, 16, 0, site, &r, &s, bb, rf);
        return;
    }
    uint32_t i = k % nl;
    struct live b = lv[i];
    if (op & 0x40)
        n = b.size + n; /* grow */
    intact(&b, b.p, b.size, "realloc");
    size_t usable = heap_block_size(&heap, (void *)b.p, &r);
    freeing = (int)i;
    void *q = heap_realloc(&heap, (void *)b.p, n, site, &r);
    freeing = -1;
    if (n == 0) {
        EXPECT(!q && r.problem == HEAP_OK, "realloc(p, 0): %p %s", q, pname(r.problem));
        model_del(i);
        return;
    }
    if (!q) {
        result(NULL, n, 16, b.tag, site, &r, &s, bb, rf);
        intact(&b, b.p, b.size, "after a failed realloc");
        return;
    }
    EXPECT(debug || n > usable || q == (void *)b.p, "realloc within the usable size moved");
    size_t keep = n < b.size ? n : b.size;
    intact(&b, (uintptr_t)q, keep, "the block of a realloc");
    model_del(i);
    bool moved = q != (void *)b.p;
    struct live nb = {(uintptr_t)q, n, moved ? 16 : b.align, b.id, moved ? site : 0, b.tag};
    model_add(nb);
    fill(nb.p, keep, n, nb.id);
    describe_block(&nb, false);
    EXPECT(r.problem == HEAP_OK, "realloc succeeded with %s", pname(r.problem));
}

/* Debug: break a red zone, a header or a free slot, then repair it. */
static void op_corrupt(uint32_t k)
{
    if (!nl)
        return;
    uint32_t i = (k >> 2) % nl;
    struct live b = lv[i];
    if (b.size > 2048 || b.align > 16)
        return;
    struct heap_report r;
    memset(&r, 0, sizeof(r));
    if ((k & 3) < 2) {
        bool over = (k & 3) == 0;
        size_t off = over ? b.size + (k >> 5) % HEAP_DEBUG_TAIL_MIN : (k >> 4) % 16;
        uintptr_t a = over ? b.p + off : b.p - HEAP_DEBUG_HEADER + off;
        enum heap_problem want = over ? HEAP_OVERFLOW : HEAP_HEADER_SMASHED;
        uint8_t old = poke(a, 0);
        EXPECT(!over || old == HEAP_REDZONE, "red zone byte is 0x%02x", old);
        if (old == 0)
            poke(a, 0x55);
        EXPECT(!heap_check(&heap, &r) && r.problem == want && r.block == b.p &&
                   (!over || r.offset == off),
               "heap_check after a %s: %s block 0x%llx offset %zu", pname(want),
               pname(r.problem), (ull)r.block, r.offset);
        bad_free(b.p, BIT(want), "broken block");
        poke(a, old);
    } else {
        struct heap_stats s, after;
        heap_get_stats(&heap, &s);
        op_free(i, false);
        heap_get_stats(&heap, &after);
        if (!b.size || after.slabs != s.slabs || after.runs != s.runs)
            return;
        uintptr_t a = b.p + (k >> 2) % b.size;
        uint8_t old = poke(a, 0);
        EXPECT(old == HEAP_POISON, "a freed byte is 0x%02x", old);
        EXPECT(!heap_check(&heap, &r) && r.problem == HEAP_USE_AFTER_FREE &&
                   r.block + r.offset == a,
               "heap_check after a write after free: %s block 0x%llx + %zu", pname(r.problem),
               (ull)r.block, r.offset);
        poke(a, old);
    }
    EXPECT(heap_check(&heap, &r), "heap_check after the repair: %s", pname(r.problem));
}

static void op_huge(uint32_t k)
{
    size_t range = (size_t)range_pages * HEAP_PAGE;
    const size_t huge[] = {SIZE_MAX, SIZE_MAX - 10, SIZE_MAX - HEAP_PAGE + 1, SIZE_MAX / 2 + 1,
                           range + 1, (size_t)HEAP_MAX_PAGES * HEAP_PAGE + 1};
    size_t size = huge[(k >> 2) % 6];
    struct heap_stats s;
    heap_get_stats(&heap, &s);
    uint32_t bb = backed_count;
    struct heap_report r;
    memset(&r, 0, sizeof(r));
    void *p = (k & 3) == 0 ? heap_alloc(&heap, size, NULL, 1, &r)
            : (k & 3) == 1 ? heap_alloc_aligned(&heap, size, 64, "a", 1, &r)
            : (k & 3) == 2 || !nl ? heap_realloc(&heap, NULL, size, 1, &r)
                                  : heap_realloc(&heap, (void *)lv[k % nl].p, size, 1, &r);
    EXPECT(!p && r.problem == HEAP_TOO_LARGE, "%zu bytes: %p, %s", size, p, pname(r.problem));
    unchanged(&s, 1, 0, bb, "a size too large");
}

/* Everything freed: no block, and every backed page accounted for. */
static void finish(void)
{
    while (nl)
        op_free(nl - 1, false);
    check();
    struct heap_stats s;
    heap_get_stats(&heap, &s);
    EXPECT(!s.live_blocks && !s.live_bytes && !s.slot_bytes && !s.runs,
           "empty heap: %zu blocks %zu bytes %zu slot bytes %zu runs", s.live_blocks,
           s.live_bytes, s.slot_bytes, s.runs);
    uint32_t map = 0, kept = 0, slab = 0;
    for (uint32_t pg = 0; pg < range_pages; pg++) {
        if (!is_backed[pg])
            continue;
        struct heap_block_info bi;
        heap_describe(&heap, base + (uintptr_t)pg * HEAP_PAGE, &bi);
        const char *w = bi.what ? bi.what : "(null)";
        EXPECT(!bi.live, "empty heap: page %u live", pg);
        if (strstr(w, "free page")) /* "free page (kept backed)" */
            kept++;
        else if (strstr(w, "map"))
            map++;
        else if (strstr(w, "slot") || strstr(w, "slab")) /* "free slot", "slab header" */
            slab++;
        else
            fail("empty heap: backed page %u is \"%s\"", pg, w);
    }
    EXPECT(map == s.map_pages && kept == s.free_backed_pages && s.slabs <= heap.class_count &&
               slab <= 16 * s.slabs &&
               map + kept + slab == backed_count,
           "pages lost: %u backed = map %u + retained %u + slab pages %u (%zu slabs)?",
           backed_count, map, kept, slab, s.slabs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    if (!arena) {
        void *p = NULL;
        if (posix_memalign(&p, HEAP_PAGE, (BIG_PAGES + 2) * (size_t)HEAP_PAGE))
            abort();
        arena = p;
        base = (uintptr_t)arena + HEAP_PAGE;
    }
    in = data;
    in_len = len;
    in_at = 0;
    op_no = 0;
    uint32_t setup = byte();
    static const uint32_t ranges[4] = {BIG_PAGES, 16, 64, 256};
    debug = setup & 1;
    range_pages = ranges[setup >> 1 & 3];
    memset(is_backed, 0, sizeof(is_backed));
    backed_count = backed_peak = back_calls = fail_every = 0;
    budget = UINT32_MAX;
    refusals = src_calls = 0;
    nl = 0;
    next_id = 1;
    tags_tried = 0;
    for (int t = 0; t < 40; t++) {
        tag_order[t] = UINT32_MAX;
        tag_seen[t] = NULL;
    }
    ASAN_POISON_MEMORY_REGION((void *)base, (size_t)range_pages * HEAP_PAGE);
    struct heap_config cfg = {.debug = debug};
    EXPECT(heap_init(&heap, base, (size_t)range_pages * HEAP_PAGE, &source, &cfg),
           "heap_init of %u pages failed", range_pages);
    while (in_at < in_len && op_no < MAX_OPS) {
        uint32_t op = byte();
        switch (op & 15) {
        case 0: case 1: case 2: case 3: op_alloc(op, false); break;
        case 4: op_alloc(op, true); break;
        case 5: case 6: op_realloc(op); break;
        case 7: case 8: case 9: case 10:
            if (nl)
                op_free(byte() % nl, (op & 15) == 10);
            break;
        case 11:
            if (nl && lv[op >> 4 < nl ? op >> 4 : 0].size > 1) {
                const struct live *b = &lv[op >> 4 < nl ? op >> 4 : 0];
                bad_free(b->p + 1 + word() % (b->size - 1), BIT(HEAP_INTERIOR), "interior");
            }
            break;
        case 12: op_wild(); break;
        case 13: {
            uint32_t k = byte();
            if (k & 0x80)
                budget = k == 0xff ? UINT32_MAX : backed_count + (k & 0x3f);
            else
                fail_every = k & 7; /* refuse every k-th back (0: never) */
            break;
        }
        case 14:
            if (debug) {
                op_corrupt(byte());
            } else if (nl) {
                describe_block(&lv[byte() % nl], false);
            }
            break;
        default: op_huge(byte()); break;
        }
        op_no++;
        counters();
        if (op_no % (debug ? DEBUG_CHECK_EVERY : CHECK_EVERY) == 0)
            check();
    }
    budget = UINT32_MAX;
    fail_every = 0;
    finish();
    ASAN_UNPOISON_MEMORY_REGION((void *)base, (size_t)range_pages * HEAP_PAGE);
    return 0;
}
