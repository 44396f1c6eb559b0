/*
 * test_heap.c - the heap's allocator core (heap_core.h) on a fake page
 * source.
 *
 * The range is a 16 MiB arena of host memory (32 MiB for the trace test).
 * The page source records which pages are backed and complains (a
 * "contract broken" failure) about a back() of a page already backed or
 * outside the range, or a release() of one that is not backed; it can be
 * told to refuse after a budget of pages.  A page it backs is filled with
 * junk (a kernel frame is not zeroed); a page it takes back is poisoned
 * for ASan, so a heap that touches a page it gave away is stopped there.
 *
 * Each test builds a fresh heap, with debug checks off or on, and most run
 * both ways.  A misuse must be reported with the right problem and change
 * nothing: the counters (but bad_frees), the page source, heap_check.
 *
 *     test_heap [classes]     ("classes" prints the size-class table)
 */
#include <stdlib.h>

#include "check.h"
#define HEAP_CORE_PRIVATE /* the corruption tests poke at the structures */
#include "kernel/heap_core.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define TEST_ASAN 1
#endif
#ifdef TEST_ASAN
#include <sanitizer/asan_interface.h>
#else
#define ASAN_POISON_MEMORY_REGION(a, n) ((void)(a), (void)(n))
#define ASAN_UNPOISON_MEMORY_REGION(a, n) ((void)(a), (void)(n))
#endif

#define MAX_PAGES 8192u /* 32 MiB */
#define RANGE (16u << 20)
#define JUNK 0xa5

static struct {
    uint8_t *base;
    size_t bytes;
    bool backed[MAX_PAGES];
    uint32_t count;       /* pages backed now */
    long budget;          /* pages it may still back; < 0: no limit */
    unsigned long calls, refusals, misuse;
} src;

static struct heap H;
static struct heap_report R;

static void misuse(const char *what, uintptr_t va, uint32_t n)
{
    src.misuse++;
    if (src.misuse <= 10)
        fprintf(stderr, "    contract broken: %s (0x%lx, %u pages)\n", what, (unsigned long)va, n);
}

static bool pages_ok(uintptr_t va, uint32_t n, bool want_backed, const char *what)
{
    uintptr_t base = (uintptr_t)src.base;
    if ((va & (HEAP_PAGE - 1)) || va < base || n == 0 || va - base + (size_t)n * HEAP_PAGE > src.bytes) {
        misuse(what, va, n);
        return false;
    }
    for (uint32_t i = 0; i < n; i++) {
        if (src.backed[(va - base) / HEAP_PAGE + i] != want_backed) {
            misuse(what, va, n);
            return false;
        }
    }
    return true;
}

static bool src_back(void *ctx, uintptr_t va, uint32_t n)
{
    (void)ctx;
    src.calls++;
    if (!pages_ok(va, n, false, "back() of pages outside the range or backed already"))
        return false;
    if (src.budget >= 0 && (long)n > src.budget) {
        src.refusals++;
        return false;
    }
    if (src.budget >= 0)
        src.budget -= n;
    for (uint32_t i = 0; i < n; i++)
        src.backed[(va - (uintptr_t)src.base) / HEAP_PAGE + i] = true;
    src.count += n;
    ASAN_UNPOISON_MEMORY_REGION((void *)va, (size_t)n * HEAP_PAGE);
    memset((void *)va, JUNK, (size_t)n * HEAP_PAGE);
    return true;
}

static void src_release(void *ctx, uintptr_t va, uint32_t n)
{
    (void)ctx;
    src.calls++;
    if (!pages_ok(va, n, true, "release() of pages not backed"))
        return;
    for (uint32_t i = 0; i < n; i++)
        src.backed[(va - (uintptr_t)src.base) / HEAP_PAGE + i] = false;
    src.count -= n;
    memset((void *)va, 0xcc, (size_t)n * HEAP_PAGE);
    ASAN_POISON_MEMORY_REGION((void *)va, (size_t)n * HEAP_PAGE);
}

static const struct heap_pages source = {src_back, src_release, NULL};

/* A fresh heap over the first `bytes` of the arena. */
static void setup_size(bool debug, size_t bytes)
{
    ASAN_UNPOISON_MEMORY_REGION(src.base, (size_t)MAX_PAGES * HEAP_PAGE);
    memset(src.backed, 0, sizeof src.backed);
    src.count = 0;
    src.budget = -1;
    src.bytes = bytes;
    ASAN_POISON_MEMORY_REGION(src.base, (size_t)MAX_PAGES * HEAP_PAGE);
    struct heap_config cfg = {.debug = debug};
    CHECK(heap_init(&H, (uintptr_t)src.base, bytes, &source, &cfg));
    CHECK_EQ_U64(src.count, 1);
}

static void setup(bool debug)
{
    setup_size(debug, RANGE);
}

static struct heap_stats stats(void)
{
    struct heap_stats s;
    heap_get_stats(&H, &s);
    return s;
}

/* heap_check must pass; a failure prints what it found. */
#define CHECK_HEAP()                                                              \
    do {                                                                          \
        struct heap_report r_;                                                    \
        bool ok_ = heap_check(&H, &r_);                                           \
        CHECK(ok_);                                                               \
        if (!ok_)                                                                 \
            fprintf(stderr, "    heap_check: %s at 0x%lx: %s\n",                  \
                    heap_problem_str(r_.problem), (unsigned long)r_.pointer, r_.detail); \
    } while (0)

/* Pages the heap holds with nothing allocated: the map, the retained free
 * pages, and the cached empty slabs. */
static size_t idle_pages(void)
{
    size_t n = H.map_pages_backed + H.retained;
    for (uint32_t c = 0; c < H.class_count; c++)
        n += H.empty[c] ? H.classes[c].pages : 0;
    return n;
}

/* Everything freed: no block, and no page but the idle ones. */
static void check_empty(void)
{
    struct heap_stats s = stats();
    CHECK_EQ_U64(s.live_blocks, 0);
    CHECK_EQ_U64(s.live_bytes, 0);
    CHECK_EQ_U64(s.slot_bytes, 0);
    CHECK_EQ_U64(s.runs, 0);
    CHECK_EQ_U64(s.backed_pages, src.count);
    CHECK_EQ_U64(s.backed_pages, idle_pages());
    CHECK(H.retained <= HEAP_RETAIN_PAGES);
    CHECK_HEAP();
}

/* A snapshot, to show that a refused call changed nothing. */
struct snap {
    struct heap_stats s;
    uint32_t count;
    unsigned long calls;
};

static struct snap snap(void)
{
    return (struct snap){stats(), src.count, src.calls};
}

static void check_unchanged(const struct snap *a, uint64_t dfailed, uint64_t dbad)
{
    struct heap_stats b = stats();
    CHECK_EQ_U64(b.live_blocks, a->s.live_blocks);
    CHECK_EQ_U64(b.live_bytes, a->s.live_bytes);
    CHECK_EQ_U64(b.slot_bytes, a->s.slot_bytes);
    CHECK_EQ_U64(b.backed_pages, a->s.backed_pages);
    CHECK_EQ_U64(b.free_slot_bytes, a->s.free_slot_bytes);
    CHECK_EQ_U64(b.slabs, a->s.slabs);
    CHECK_EQ_U64(b.runs, a->s.runs);
    CHECK_EQ_U64(b.allocs, a->s.allocs);
    CHECK_EQ_U64(b.frees, a->s.frees);
    CHECK_EQ_U64(b.failed_allocs, a->s.failed_allocs + dfailed);
    CHECK_EQ_U64(b.bad_frees, a->s.bad_frees + dbad);
    CHECK_EQ_U64(src.count, a->count);
    CHECK_EQ_U64(src.calls, a->calls);
    CHECK_HEAP();
}

/* A refused free of p: the problem, the pointer, nothing changed. */
static void refuse_free(void *p, enum heap_problem want, uintptr_t block, size_t offset)
{
    struct snap before = snap();
    memset(&R, 0, sizeof R);
    CHECK(!heap_free(&H, p, &R));
    CHECK_STR_EQ(heap_problem_str(R.problem), heap_problem_str(want));
    CHECK_EQ_U64(R.pointer, (uintptr_t)p);
    if (block) {
        CHECK_EQ_U64(R.block, block);
        CHECK_EQ_U64(R.offset, offset);
    }
    check_unchanged(&before, 0, 1);
    memset(&R, 0, sizeof R);
    CHECK_EQ_U64(heap_block_size(&H, p, &R), 0);
    CHECK(R.problem != HEAP_OK);
}

static void fill(void *p, size_t n, uint8_t seed)
{
    for (size_t i = 0; i < n; i++)
        ((uint8_t *)p)[i] = (uint8_t)(seed + i * 7);
}

static bool filled(const void *p, size_t n, uint8_t seed)
{
    for (size_t i = 0; i < n; i++) {
        if (((const uint8_t *)p)[i] != (uint8_t)(seed + i * 7))
            return false;
    }
    return true;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}


/* ---- the size classes ----------------------------------------------------- */

static void print_classes(void)
{
    for (int debug = 0; debug <= 1; debug++) {
        setup(debug);
        printf("debug %s: class  size  slot  pages  slots  waste\n", debug ? "on" : "off");
        for (uint32_t c = 0; c < H.class_count; c++) {
            const struct heap_class *k = &H.classes[c];
            uint32_t bytes = k->pages * HEAP_PAGE, waste = bytes - k->slots * k->slot;
            printf("          %5u %5u %5u %6u %6u %5u.%u%%%s\n", c, k->size, k->slot, k->pages,
                   k->slots, waste * 100 / bytes, waste * 1000 / bytes % 10,
                   k->slot % HEAP_PAGE ? "" : "  (served by runs)");
        }
    }
}

static void test_classes(void)
{
    for (int debug = 0; debug <= 1; debug++) {
        setup(debug);
        CHECK_EQ_U64(H.class_count, 32);
        static const uint32_t sizes[] = {16, 32, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256,
                                         320, 384, 448, 512, 640, 768, 896, 1024, 1280, 1536,
                                         1792, 2048, 2560, 3072, 3584, 4096, 5120, 6144, 7168,
                                         8192};
        for (uint32_t c = 0; c < H.class_count && c < 32; c++) {
            const struct heap_class *k = &H.classes[c];
            CHECK_EQ_U64(k->size, sizes[c]);
            CHECK_EQ_U64(k->slot % HEAP_MIN_ALIGN, 0);
            CHECK(debug ? k->slot >= k->size + HEAP_DEBUG_HEADER + HEAP_DEBUG_TAIL_MIN
                        : k->slot == k->size);
            CHECK(k->pages >= 1 && k->pages <= 16 && k->slots >= 1);
            /* the slots and the header fit, and little is wasted */
            CHECK((size_t)k->slots * k->slot <= H.fast[c].hdr_off);
            CHECK(H.fast[c].hdr_off + heap_slab_header_bytes(k->slots) <= k->pages * HEAP_PAGE);
            CHECK((k->pages * HEAP_PAGE - k->slots * k->slot) * 100 <= 10 * k->pages * HEAP_PAGE);
        }
        /* every request size maps to the smallest class that holds it */
        for (uint32_t size = 0; size <= HEAP_SMALL_MAX; size++) {
            uint32_t c = H.class_of_size[(size + 15) / 16];
            CHECK(H.classes[c].size >= size && (c == 0 || H.classes[c - 1].size < size));
            if (!(H.classes[c].size >= size && (c == 0 || H.classes[c - 1].size < size)))
                break;
        }
    }
}

static void test_init(void)
{
    struct heap_config cfg = {.debug = false};
    uintptr_t base = (uintptr_t)src.base;
    src.bytes = RANGE;
    src.budget = -1;
    uint32_t before = src.count;
    CHECK(!heap_init(&H, base + 8, RANGE, &source, &cfg));             /* unaligned base */
    CHECK(!heap_init(&H, base, RANGE + 100, &source, &cfg));           /* unaligned size */
    CHECK(!heap_init(&H, base, 15 * HEAP_PAGE, &source, &cfg));        /* under 64 KiB */
    CHECK(!heap_init(&H, base, (size_t)(HEAP_MAX_PAGES + 1) * HEAP_PAGE, &source, &cfg));
    CHECK(!heap_init(&H, 0, RANGE, &source, &cfg));
    struct heap_pages none = {NULL, src_release, NULL};
    CHECK(!heap_init(&H, base, RANGE, &none, &cfg));
    src.budget = 0; /* the first map page cannot be backed */
    CHECK(!heap_init(&H, base, RANGE, &source, &cfg));
    CHECK_EQ_U64(src.count, before);
    setup(false);
    CHECK_HEAP();
    struct heap_stats s = stats();
    CHECK_EQ_U64(s.backed_pages, 1);
    CHECK_EQ_U64(s.map_pages, 1);
    CHECK_EQ_U64(s.live_blocks, 0);
    CHECK(H.map_pages_total == 4); /* 4096 pages, 4 bytes each */
    /* the smallest heap: 64 KiB */
    setup_size(false, 16 * HEAP_PAGE);
    void *p = heap_alloc(&H, 10000, NULL, 0, &R);
    CHECK(p != NULL);
    CHECK(heap_free(&H, p, &R));
    CHECK_HEAP();
}

/* ---- sizes, alignment, zero ------------------------------------------------ */

struct blk {
    uint8_t *p;
    size_t size, slot;
};

static int by_address(const void *a, const void *b)
{
    const struct blk *x = a, *y = b;
    return x->p < y->p ? -1 : x->p > y->p;
}

/* Blocks in b[0..n): aligned, in the range, apart, live; their counters. */
static void check_blocks(struct blk *b, size_t n, size_t align, bool debug)
{
    size_t live = 0, slots = 0;
    for (size_t i = 0; i < n; i++) {
        CHECK(b[i].p != NULL);
        if (!b[i].p)
            return;
        CHECK_EQ_U64((uintptr_t)b[i].p % align, 0);
        CHECK((uintptr_t)b[i].p - H.base < H.size);
        size_t usable = heap_block_size(&H, b[i].p, &R);
        CHECK(debug ? usable == b[i].size : usable >= b[i].size);
        struct heap_block_info bi;
        heap_describe(&H, (uintptr_t)b[i].p, &bi);
        CHECK(bi.in_heap && bi.live);
        CHECK_EQ_U64(bi.block, (uintptr_t)b[i].p);
        CHECK_EQ_U64(bi.size, usable);
        b[i].slot = bi.slot;
        live += usable;
        slots += bi.slot;
        CHECK(filled(b[i].p, b[i].size, (uint8_t)i));
    }
    qsort(b, n, sizeof *b, by_address);
    for (size_t i = 1; i < n; i++) {
        size_t len = b[i - 1].size ? b[i - 1].size : 1;
        CHECK(b[i - 1].p + len <= b[i].p);
    }
    struct heap_stats s = stats();
    CHECK_EQ_U64(s.live_blocks, n);
    CHECK_EQ_U64(s.live_bytes, live);
    CHECK_EQ_U64(s.slot_bytes, slots);
    CHECK_EQ_U64(s.backed_pages, src.count);
    CHECK_HEAP();
}

static void free_blocks(struct blk *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        bool ok = heap_free(&H, b[i].p, &R);
        CHECK(ok);
        if (!ok)
            fprintf(stderr, "    free(%p): %s\n", (void *)b[i].p, heap_problem_str(R.problem));
    }
}

static void test_sizes_mode(bool debug)
{
    setup(debug);
    static struct blk b[400];
    size_t n = 0;
    static const size_t extra[] = {0, 1, 15, 17, HEAP_SMALL_MAX, HEAP_SMALL_MAX + 1, 64 << 10,
                                   1 << 20};
    for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++)
        b[n++].size = extra[i];
    for (uint32_t c = 0; c < H.class_count; c++) { /* each class's edges */
        b[n++].size = H.classes[c].size - 1;
        b[n++].size = H.classes[c].size;
        b[n++].size = H.classes[c].size + 1;
    }
    for (size_t i = 0; i < n; i++) {
        b[i].p = heap_alloc(&H, b[i].size, NULL, (uint32_t)i, &R);
        if (b[i].p)
            fill(b[i].p, b[i].size, (uint8_t)i);
    }
    check_blocks(b, n, HEAP_MIN_ALIGN, debug);
    free_blocks(b, n);
    check_empty();
}

static void test_zero_mode(bool debug)
{
    setup(debug);
    static struct blk b[100];
    for (size_t i = 0; i < 100; i++) {
        b[i].p = heap_alloc(&H, 0, NULL, 0, &R);
        b[i].size = 0;
    }
    check_blocks(b, 100, HEAP_MIN_ALIGN, debug); /* all different */
    free_blocks(b, 100);
    check_empty();
}

static void test_aligned_mode(bool debug)
{
    setup(debug);
    static const size_t sizes[] = {0, 1, 24, 100, 1000, 4000, 5000, 20000};
    static struct blk b[13 * 8];
    size_t n = 0;
    for (size_t align = 1; align <= HEAP_PAGE; align *= 2) {
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++, n++) {
            b[n].size = sizes[i];
            b[n].p = heap_alloc_aligned(&H, sizes[i], align, "aligned", 0, &R);
            if (b[n].p)
                fill(b[n].p, b[n].size, (uint8_t)n);
            CHECK_EQ_U64((uintptr_t)b[n].p % (align < 16 ? 16 : align), 0);
        }
    }
    check_blocks(b, n, HEAP_MIN_ALIGN, debug);
    static const size_t bad[] = {0, 3, 48, 8192, 1u << 20};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct snap before = snap();
        memset(&R, 0, sizeof R);
        CHECK(heap_alloc_aligned(&H, 64, bad[i], NULL, 0, &R) == NULL);
        CHECK_EQ_U64(R.problem, HEAP_BAD_ALIGN);
        check_unchanged(&before, 1, 0);
    }
    free_blocks(b, n);
    check_empty();
}

/* ---- realloc ---------------------------------------------------------------- */

static void test_realloc_mode(bool debug)
{
    setup(debug);
    uint8_t *p = heap_realloc(&H, NULL, 20, 1, &R); /* NULL: an allocation */
    CHECK(p != NULL);
    fill(p, 20, 1);
    CHECK(heap_realloc(&H, p, 28, 2, &R) == p); /* still fits its slot */
    CHECK(filled(p, 20, 1));
    CHECK(heap_block_size(&H, p, &R) >= 28);
    uint8_t *q = heap_realloc(&H, p, 300, 3, &R); /* another class */
    CHECK(q != NULL && q != p);
    CHECK(filled(q, 20, 1));
    fill(q, 300, 3);
    CHECK(heap_realloc(&H, q, 100, 4, &R) == q); /* shrinks in place */
    CHECK(filled(q, 100, 3));
    if (debug)
        CHECK_EQ_U64(heap_block_size(&H, q, &R), 100);

    uint8_t *big = heap_realloc(&H, q, 100000, 5, &R); /* small to large */
    CHECK(big != NULL && big != q);
    CHECK(filled(big, 100, 3));
    fill(big, 100000, 5);
    /* nothing after it yet: a run grows in place */
    uint8_t *bigger = heap_realloc(&H, big, 200000, 6, &R);
    CHECK(bigger == big);
    CHECK(filled(bigger, 100000, 5));
    struct heap_block_info bi;
    heap_describe(&H, (uintptr_t)bigger, &bi);
    CHECK_EQ_U64(bi.slot, (200000 + (debug ? 20 : 0) + HEAP_PAGE - 1) / HEAP_PAGE * HEAP_PAGE);
    /* and shrinks in place, its tail pages given back */
    uint8_t *smaller = heap_realloc(&H, bigger, 5000, 7, &R);
    CHECK(smaller == bigger);
    CHECK(filled(smaller, 5000, 5));
    heap_describe(&H, (uintptr_t)smaller, &bi);
    CHECK_EQ_U64(bi.slot, 2 * HEAP_PAGE);
    CHECK_HEAP();
    /* a run that cannot grow in place moves */
    void *wall = heap_alloc(&H, 3 * HEAP_PAGE, NULL, 0, &R);
    CHECK(wall != NULL);
    uint8_t *moved = heap_realloc(&H, smaller, 50000, 8, &R);
    CHECK(moved != NULL);
    CHECK(filled(moved, 5000, 5));
    /* large to small: in place (the contract keeps what fits) */
    CHECK(heap_realloc(&H, moved, 100, 9, &R) == moved);
    CHECK(filled(moved, 100, 5));
    /* a realloc that cannot get memory leaves the block alone */
    src.budget = 0;
    struct snap before = snap();
    memset(&R, 0, sizeof R);
    CHECK(heap_realloc(&H, moved, 1 << 20, 10, &R) == NULL);
    CHECK_EQ_U64(R.problem, HEAP_NO_MEMORY);
    CHECK(filled(moved, 100, 5));
    CHECK_EQ_U64(stats().failed_allocs, before.s.failed_allocs + 1);
    CHECK_EQ_U64(stats().live_blocks, before.s.live_blocks);
    CHECK_HEAP();
    src.budget = -1;
    memset(&R, 0, sizeof R);
    CHECK(heap_realloc(&H, moved, SIZE_MAX, 10, &R) == NULL);
    CHECK_EQ_U64(R.problem, HEAP_TOO_LARGE);
    /* a bad pointer is refused */
    before = snap();
    memset(&R, 0, sizeof R);
    CHECK(heap_realloc(&H, moved + 16, 10, 11, &R) == NULL);
    CHECK_EQ_U64(R.problem, HEAP_INTERIOR);
    check_unchanged(&before, 0, 1);
    /* size 0 frees */
    memset(&R, 0, sizeof R);
    CHECK(heap_realloc(&H, moved, 0, 12, &R) == NULL);
    CHECK_EQ_U64(R.problem, HEAP_OK);
    CHECK(heap_free(&H, wall, &R));
    check_empty();
}

/* ---- tags ------------------------------------------------------------------- */

static int tag_blocks;
static uintptr_t last_block;
static void count_block(void *ctx, const struct heap_block_info *b)
{
    (void)ctx;
    if (b->live && b->tag)
        tag_blocks++;
    CHECK(b->block > last_block); /* in address order */
    last_block = b->block;
}

static void test_tags_mode(bool debug)
{
    setup(debug);
    static const char *names[40] = {
        "t00", "t01", "t02", "t03", "t04", "t05", "t06", "t07", "t08", "t09",
        "t10", "t11", "t12", "t13", "t14", "t15", "t16", "t17", "t18", "t19",
        "t20", "t21", "t22", "t23", "t24", "t25", "t26", "t27", "t28", "t29",
        "t30", "t31", "t32", "t33", "t34", "t35", "t36", "t37", "t38", "t39"};
    void *plain = heap_alloc(&H, 50, NULL, 0, &R);
    void *shell = heap_alloc(&H, 50, "shell", 0, &R);
    char copy[] = "shell"; /* the same name at another address */
    void *shell2 = heap_alloc(&H, 50, copy, 0, &R);
    void *run = heap_alloc(&H, 50000, "vfs", 0, &R);
    struct heap_block_info bi;
    heap_describe(&H, (uintptr_t)plain, &bi);
    CHECK_STR_EQ(bi.tag, "kmalloc");
    heap_describe(&H, (uintptr_t)shell, &bi);
    CHECK_STR_EQ(bi.tag, "shell");
    heap_describe(&H, (uintptr_t)shell2, &bi);
    CHECK_STR_EQ(bi.tag, "shell");
    CHECK(bi.tag != copy); /* the table keeps the first pointer */
    heap_describe(&H, (uintptr_t)run, &bi);
    CHECK_STR_EQ(bi.tag, "vfs");
    CHECK_STR_EQ(bi.what, "run of 13 pages");
    /* a slab holds one tag: blocks of one size and two tags are apart */
    CHECK((uintptr_t)plain >> 12 != (uintptr_t)shell >> 12);
    /* 3 tags are in use ("kmalloc", "shell", "vfs"); 28 more fit, the
     * rest share "other" */
    void *t[40];
    for (int i = 0; i < 40; i++)
        t[i] = heap_alloc(&H, 24, names[i], 0, &R);
    for (int i = 0; i < 40; i++) {
        heap_describe(&H, (uintptr_t)t[i], &bi);
        CHECK_STR_EQ(bi.tag, i < HEAP_TAGS_MAX - 4 ? names[i] : "other");
    }
    CHECK_EQ_U64(H.tag_count, HEAP_TAGS_MAX);
    CHECK_EQ_U64(H.tag_overflows, 40 - (HEAP_TAGS_MAX - 4));
    /* a realloc that moves keeps the tag */
    void *moved = heap_realloc(&H, shell, 500, 0, &R);
    heap_describe(&H, (uintptr_t)moved, &bi);
    CHECK_STR_EQ(bi.tag, "shell");
    void *moved2 = heap_realloc(&H, t[39], 500, 0, &R);
    heap_describe(&H, (uintptr_t)moved2, &bi);
    CHECK_STR_EQ(bi.tag, "other");
    tag_blocks = 0;
    last_block = 0;
    heap_for_each_block(&H, count_block, NULL);
    CHECK_EQ_U64(tag_blocks, 44);
    CHECK_HEAP();
    heap_free(&H, plain, &R);
    heap_free(&H, moved, &R);
    heap_free(&H, shell2, &R);
    heap_free(&H, run, &R);
    t[39] = moved2;
    for (int i = 0; i < 40; i++)
        CHECK(heap_free(&H, t[i], &R));
    check_empty();
}

/* ---- misuse ------------------------------------------------------------------ */

static void test_misuse_mode(bool debug)
{
    setup(debug);
    uint8_t *a = heap_alloc(&H, 100, NULL, 0, &R);
    uint8_t *b = heap_alloc(&H, 100, NULL, 0, &R);
    uint8_t *run = heap_alloc(&H, 20000, NULL, 0, &R);
    uint8_t *gone = heap_alloc(&H, 30000, NULL, 0, &R);
    CHECK(a && b && run && gone);
    CHECK(heap_free(&H, gone, &R));

    struct snap before = snap();
    CHECK(heap_free(&H, NULL, &R)); /* NULL: nothing, and fine */
    check_unchanged(&before, 0, 0);

    int local;
    refuse_free(&local, HEAP_BAD_POINTER, 0, 0);             /* not the heap's */
    refuse_free((void *)(H.base + 64), HEAP_BAD_POINTER, 0, 0); /* the page map */
    refuse_free((void *)(H.base + H.size - 16), HEAP_BAD_POINTER, 0, 0); /* never used */
    refuse_free(gone + HEAP_PAGE + 32, HEAP_BAD_POINTER, 0, 0); /* a free page */
    refuse_free(gone, HEAP_DOUBLE_FREE, 0, 0);                 /* a run, twice */
    refuse_free(a + 16, HEAP_INTERIOR, (uintptr_t)a, 16);      /* inside a slot */
    refuse_free(a + 1, HEAP_INTERIOR, (uintptr_t)a, 1);
    refuse_free(a + 99, HEAP_INTERIOR, (uintptr_t)a, 99);
    refuse_free(run + 1, HEAP_INTERIOR, (uintptr_t)run, 1);    /* inside a run */
    refuse_free(run + 2 * HEAP_PAGE, HEAP_INTERIOR, (uintptr_t)run, 2 * HEAP_PAGE);
    CHECK(heap_free(&H, a, &R));
    refuse_free(a, HEAP_DOUBLE_FREE, 0, 0);                    /* a slot, twice */
    refuse_free(a + 33, HEAP_BAD_POINTER, 0, 0);               /* inside a free slot */
    /* the slab's header */
    struct heap_block_info bi;
    uintptr_t page = (uintptr_t)b & ~(uintptr_t)(HEAP_PAGE - 1);
    uint32_t e = H.map[(page - H.base) >> 12];
    uintptr_t hdr = (uintptr_t)heap_slab_of(&H, (uint32_t)((page - H.base) >> 12), e);
    refuse_free((void *)hdr, HEAP_BAD_POINTER, 0, 0);
    heap_describe(&H, hdr, &bi);
    CHECK_STR_EQ(bi.what, "slab header");
    /* realloc and block_size of a freed block */
    before = snap();
    memset(&R, 0, sizeof R);
    CHECK(heap_realloc(&H, a, 10, 0, &R) == NULL);
    CHECK_EQ_U64(R.problem, HEAP_DOUBLE_FREE);
    check_unchanged(&before, 0, 1);
    /* sizes that cannot be served */
    static const size_t huge[] = {SIZE_MAX, SIZE_MAX - 4096, RANGE, RANGE - 4096};
    for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
        before = snap();
        memset(&R, 0, sizeof R);
        CHECK(heap_alloc(&H, huge[i], NULL, 0, &R) == NULL);
        CHECK_EQ_U64(R.problem, HEAP_TOO_LARGE);
        memset(&R, 0, sizeof R);
        CHECK(heap_alloc_aligned(&H, huge[i], 64, NULL, 0, &R) == NULL);
        CHECK_EQ_U64(R.problem, HEAP_TOO_LARGE);
        check_unchanged(&before, 2, 0);
    }
    CHECK(heap_free(&H, b, &R));
    CHECK(heap_free(&H, run, &R));
    check_empty();
}

static void test_describe_mode(bool debug)
{
    setup(debug);
    struct heap_block_info bi;
    heap_describe(&H, H.base - 1, &bi);
    CHECK(!bi.in_heap);
    heap_describe(&H, H.base, &bi);
    CHECK(bi.in_heap && !bi.live);
    CHECK_STR_EQ(bi.what, "page map");
    heap_describe(&H, H.base + H.size - 1, &bi);
    CHECK_STR_EQ(bi.what, "never used");
    uint8_t *p = heap_alloc(&H, 40, "desc", 77, &R);
    heap_describe(&H, (uintptr_t)p + 39, &bi);
    CHECK(bi.live);
    CHECK_EQ_U64(bi.block, (uintptr_t)p);
    CHECK_EQ_U64(bi.size, debug ? 40 : 48);
    CHECK_EQ_U64(bi.site, debug ? 77 : 0);
    CHECK_STR_EQ(bi.what, debug ? "slab of 80-byte slots" : "slab of 48-byte slots");
    heap_describe(&H, (uintptr_t)p + bi.slot + (debug ? 16 : 0), &bi);
    CHECK(!bi.live);
    CHECK_STR_EQ(bi.what, "free slot");
    uint8_t *run = heap_alloc(&H, 3 * HEAP_PAGE, NULL, 0, &R);
    heap_describe(&H, (uintptr_t)run + 2 * HEAP_PAGE, &bi);
    CHECK(bi.live);
    CHECK_EQ_U64(bi.block, (uintptr_t)run);
    CHECK_STR_EQ(bi.what, debug ? "run of 4 pages" : "run of 3 pages");
    heap_free(&H, run, &R);
    heap_describe(&H, (uintptr_t)run, &bi);
    CHECK(!bi.live);
    CHECK(strncmp(bi.what, "free page", 9) == 0);
    /* with debug off, the whole-page classes are runs (no slab slack) */
    uint8_t *page = heap_alloc(&H, 4000, NULL, 0, &R);
    heap_describe(&H, (uintptr_t)page, &bi);
    CHECK_STR_EQ(bi.what, debug ? "slab of 4128-byte slots" : "run of 1 page");
    CHECK_EQ_U64(heap_block_size(&H, page, &R), debug ? 4000 : 4096);
    heap_free(&H, page, &R);
    heap_free(&H, p, &R);
    check_empty();
}

/* ---- out of memory ---------------------------------------------------------- */

static void test_no_memory_mode(bool debug)
{
    /* the page source runs dry: allocations fail cleanly, and everything
     * comes back */
    for (long budget = 0; budget < 60; budget += 7) {
        setup(debug);
        src.budget = budget;
        static void *p[4000];
        size_t n = 0;
        for (;;) {
            struct snap before = snap();
            size_t size = rnd() % 7 == 0 ? 5000 + rnd() % 30000 : 1 + rnd() % 3000;
            memset(&R, 0, sizeof R);
            void *q = heap_alloc(&H, size, rnd() % 2 ? "a" : NULL, 0, &R);
            if (!q) {
                CHECK_EQ_U64(R.problem, HEAP_NO_MEMORY);
                CHECK_EQ_U64(stats().failed_allocs, before.s.failed_allocs + 1);
                CHECK_EQ_U64(stats().live_blocks, before.s.live_blocks);
                CHECK_EQ_U64(src.count, before.count);
                CHECK_HEAP();
                if (src.refusals > 3 || n == 4000)
                    break;
                src.refusals++;
                continue;
            }
            p[n++] = q;
        }
        src.refusals = 0;
        CHECK_EQ_U64(stats().backed_pages, src.count);
        for (size_t i = 0; i < n; i++)
            CHECK(heap_free(&H, p[i], &R));
        check_empty();
    }

    /* the range fills up: "no memory" too, though the source has plenty */
    setup(debug);
    static void *big[32];
    size_t n = 0;
    while (n < 32 && (big[n] = heap_alloc(&H, 1 << 20, NULL, 0, &R)) != NULL)
        n++;
    CHECK_EQ_U64(n, 15); /* 16 MiB, less the map, less a header each */
    CHECK_EQ_U64(R.problem, HEAP_NO_MEMORY);
    CHECK_EQ_U64(src.refusals, 0);
    for (size_t i = 0; i < n; i++)
        CHECK(heap_free(&H, big[i], &R));
    check_empty();

    /* the map must grow (past 4 MiB) and cannot: nothing changes; or it
     * can, and the pages after it cannot: the map page goes back too */
    setup(debug);
    void *fill = heap_alloc(&H, (1000 << 12) - (debug ? 20 : 0), NULL, 0, &R);
    CHECK(fill != NULL);
    for (long budget = 0; budget <= 1; budget++) {
        src.budget = budget;
        struct snap before = snap();
        memset(&R, 0, sizeof R);
        CHECK(heap_alloc(&H, 200 << 12, NULL, 0, &R) == NULL);
        CHECK_EQ_U64(R.problem, HEAP_NO_MEMORY);
        CHECK_EQ_U64(src.count, before.count);
        CHECK_EQ_U64(H.map_pages_backed, 1);
        CHECK_EQ_U64(stats().peak_backed_pages, before.s.peak_backed_pages);
        CHECK_HEAP();
    }
    src.budget = -1;
    void *more = heap_alloc(&H, 200 << 12, NULL, 0, &R);
    CHECK(more != NULL);
    CHECK_EQ_U64(H.map_pages_backed, 2);
    CHECK(heap_free(&H, more, &R));
    CHECK(heap_free(&H, fill, &R));
    check_empty();
}

/* ---- a random workload --------------------------------------------------------- */

static void test_random_mode(bool debug)
{
    setup(debug);
    enum { N = 1500 };
    static struct blk b[N];
    static const char *tags[] = {NULL, "net", "fs", "shell"};
    memset(b, 0, sizeof b);
    for (uint32_t op = 0; op < 30000; op++) {
        uint32_t i = rnd() % N;
        if (b[i].p) {
            CHECK(filled(b[i].p, b[i].size, (uint8_t)i));
            if (rnd() % 4 == 0) {
                size_t size = rnd() % 2000;
                uint8_t *q = heap_realloc(&H, b[i].p, size, op, &R);
                CHECK(q != NULL || size == 0);
                if (q) {
                    CHECK(filled(q, size < b[i].size ? size : b[i].size, (uint8_t)i));
                    fill(q, size, (uint8_t)i);
                }
                b[i].p = q;
                b[i].size = size;
            } else {
                CHECK(heap_free(&H, b[i].p, &R));
                b[i].p = NULL;
            }
        } else {
            uint32_t r = rnd() % 100;
            size_t size = r < 85 ? rnd() % 300 : r < 98 ? rnd() % 5000 : rnd() % 70000;
            size_t align = rnd() % 10 == 0 ? (size_t)1 << (rnd() % 13) : 0;
            const char *tag = tags[rnd() % 4];
            b[i].p = align ? heap_alloc_aligned(&H, size, align, tag, op, &R)
                           : heap_alloc(&H, size, tag, op, &R);
            b[i].size = size;
            CHECK(b[i].p != NULL);
            CHECK(!align || (uintptr_t)b[i].p % align == 0);
            if (b[i].p)
                fill(b[i].p, size, (uint8_t)i);
        }
        if (op % 3000 == 0) {
            CHECK_HEAP();
            struct heap_stats s = stats();
            CHECK_EQ_U64(s.backed_pages, src.count);
            if (debug) { /* live_bytes is exactly what was asked for */
                size_t want = 0, n = 0;
                for (uint32_t j = 0; j < N; j++) {
                    want += b[j].p ? b[j].size : 0;
                    n += b[j].p != NULL;
                }
                CHECK_EQ_U64(s.live_bytes, want);
                CHECK_EQ_U64(s.live_blocks, n);
            }
        }
    }
    for (uint32_t i = 0; i < N; i++) {
        if (b[i].p)
            CHECK(heap_free(&H, b[i].p, &R));
    }
    check_empty();
}

#define RUN_MODE(fn, debug)                                                \
    do {                                                                   \
        unsigned long check_before_ = check_failed;                        \
        fn##_mode(debug);                                                  \
        if (check_failed != check_before_)                                 \
            fprintf(stderr, "  in %s (debug %s)\n", #fn, debug ? "on" : "off"); \
    } while (0)
#define test_sizes(d) RUN_MODE(test_sizes, d)
#define test_zero(d) RUN_MODE(test_zero, d)
#define test_aligned(d) RUN_MODE(test_aligned, d)
#define test_realloc(d) RUN_MODE(test_realloc, d)
#define test_tags(d) RUN_MODE(test_tags, d)
#define test_misuse(d) RUN_MODE(test_misuse, d)
#define test_describe(d) RUN_MODE(test_describe, d)
#define test_no_memory(d) RUN_MODE(test_no_memory, d)
#define test_random(d) RUN_MODE(test_random, d)

/* ---- debug checks ------------------------------------------------------------ */

static void test_debug_overflow(void)
{
    setup(true);
    uint8_t *p = heap_alloc(&H, 24, NULL, 5, &R);
    uint8_t *keep = heap_alloc(&H, 24, NULL, 6, &R);
    CHECK(p && keep);
    p[24] = 'x'; /* one byte past the end */
    struct snap before = snap();
    memset(&R, 0, sizeof R);
    CHECK(!heap_free(&H, p, &R));
    CHECK_EQ_U64(R.problem, HEAP_OVERFLOW);
    CHECK_EQ_U64(R.block, (uintptr_t)p);
    CHECK_EQ_U64(R.offset, 24);
    CHECK_EQ_U64(R.size, 24);
    CHECK_EQ_U64(R.site, 5);
    CHECK_STR_EQ(R.tag, "kmalloc");
    struct heap_stats s = stats();
    CHECK_EQ_U64(s.bad_frees, before.s.bad_frees + 1);
    CHECK_EQ_U64(s.live_blocks, before.s.live_blocks);
    memset(&R, 0, sizeof R);
    CHECK(!heap_check(&H, &R));
    CHECK_EQ_U64(R.problem, HEAP_OVERFLOW);
    CHECK_EQ_U64(R.block, (uintptr_t)p);
    CHECK_EQ_U64(R.offset, 24);
    p[24] = HEAP_REDZONE; /* repaired */
    CHECK_HEAP();
    /* the last byte of the red zone */
    struct heap_block_info bi;
    heap_describe(&H, (uintptr_t)p, &bi);
    size_t last = bi.slot - HEAP_DEBUG_HEADER - 1;
    p[last] = 0;
    memset(&R, 0, sizeof R);
    CHECK(!heap_free(&H, p, &R));
    CHECK_EQ_U64(R.problem, HEAP_OVERFLOW);
    CHECK_EQ_U64(R.offset, last);
    p[last] = HEAP_REDZONE;
    CHECK(heap_free(&H, p, &R));
    /* a run's red zone goes to the end of its last page */
    uint8_t *run = heap_alloc(&H, 10000, NULL, 7, &R);
    run[10000] = 1;
    memset(&R, 0, sizeof R);
    CHECK(!heap_free(&H, run, &R));
    CHECK_EQ_U64(R.problem, HEAP_OVERFLOW);
    CHECK_EQ_U64(R.offset, 10000);
    run[10000] = HEAP_REDZONE;
    run[3 * HEAP_PAGE - 16 - 1] = 1;
    memset(&R, 0, sizeof R);
    CHECK(!heap_check(&H, &R));
    CHECK_EQ_U64(R.problem, HEAP_OVERFLOW);
    CHECK_EQ_U64(R.offset, 3 * HEAP_PAGE - 16 - 1);
    run[3 * HEAP_PAGE - 16 - 1] = HEAP_REDZONE;
    CHECK(heap_free(&H, run, &R));
    /* an aligned block's padding before its header is checked too */
    uint8_t *al = heap_alloc_aligned(&H, 40, 256, NULL, 8, &R);
    CHECK_EQ_U64((uintptr_t)al % 256, 0);
    al[-17] ^= 0xff; /* the byte just before the header */
    memset(&R, 0, sizeof R);
    CHECK(!heap_free(&H, al, &R));
    CHECK_EQ_U64(R.problem, HEAP_HEADER_SMASHED);
    al[-17] ^= 0xff;
    CHECK(heap_free(&H, al, &R));
    CHECK(heap_free(&H, keep, &R));
    check_empty();
}

static void test_debug_header(void)
{
    setup(true);
    /* a fresh slab hands out its slots in address order */
    uint8_t *a = heap_alloc(&H, 40, "a", 1, &R);
    uint8_t *b = heap_alloc(&H, 40, "b", 2, &R);
    uint8_t *c = heap_alloc(&H, 40, "a", 3, &R);
    struct heap_block_info bi;
    heap_describe(&H, (uintptr_t)a, &bi);
    CHECK(c == a + bi.slot);
    /* a overflows through its red zone into c's header */
    uint8_t saved[200];
    memcpy(saved, a, sizeof saved);
    memset(a, 'x', bi.slot + 4);
    memset(&R, 0, sizeof R);
    CHECK(!heap_free(&H, c, &R));
    CHECK_EQ_U64(R.problem, HEAP_HEADER_SMASHED);
    CHECK_EQ_U64(R.pointer, (uintptr_t)c);
    CHECK_EQ_U64(R.block, (uintptr_t)a); /* the block that overflowed */
    CHECK_EQ_U64(R.site, 1);
    CHECK_EQ_U64(R.offset, 40);
    memset(&R, 0, sizeof R);
    CHECK(!heap_check(&H, &R)); /* a comes first */
    CHECK_EQ_U64(R.problem, HEAP_OVERFLOW);
    CHECK_EQ_U64(R.block, (uintptr_t)a);
    memset(&R, 0, sizeof R);
    CHECK(!heap_free(&H, a, &R));
    CHECK_EQ_U64(R.problem, HEAP_OVERFLOW);
    memcpy(a, saved, sizeof saved);
    CHECK_HEAP();
    /* a header smashed with no overflow before it names its own block */
    c[-12] ^= 0x40;
    memset(&R, 0, sizeof R);
    CHECK(!heap_free(&H, c, &R));
    CHECK_EQ_U64(R.problem, HEAP_HEADER_SMASHED);
    CHECK_EQ_U64(R.block, (uintptr_t)c);
    memset(&R, 0, sizeof R);
    CHECK(!heap_check(&H, &R));
    CHECK_EQ_U64(R.problem, HEAP_HEADER_SMASHED);
    CHECK_EQ_U64(R.block, (uintptr_t)c);
    memset(&R, 0, sizeof R);
    CHECK_EQ_U64(heap_block_size(&H, c, &R), 0);
    CHECK_EQ_U64(R.problem, HEAP_HEADER_SMASHED);
    c[-12] ^= 0x40;
    CHECK_EQ_U64(heap_block_size(&H, c, &R), 40);
    CHECK(heap_free(&H, a, &R));
    CHECK(heap_free(&H, b, &R));
    CHECK(heap_free(&H, c, &R));
    check_empty();
}

static void test_debug_use_after_free(void)
{
    setup(true);
    uint8_t *x = heap_alloc(&H, 100, NULL, 0, &R);
    uint8_t *p = heap_alloc(&H, 100, NULL, 0, &R);
    uint8_t *y = heap_alloc(&H, 100, NULL, 0, &R);
    CHECK(heap_free(&H, p, &R));
    CHECK_EQ_U64(p[50], HEAP_POISON);
    p[5] = 1; /* written after free */
    memset(&R, 0, sizeof R);
    CHECK(!heap_check(&H, &R));
    CHECK_EQ_U64(R.problem, HEAP_USE_AFTER_FREE);
    CHECK_EQ_U64(R.block, (uintptr_t)p);
    CHECK_EQ_U64(R.offset, 5);
    /* the next allocation of the size gets the slot (the lowest free
     * one), says so, and is clean */
    memset(&R, 0, sizeof R);
    uint8_t *q = heap_alloc(&H, 100, NULL, 0, &R);
    CHECK(q == p);
    CHECK_EQ_U64(R.problem, HEAP_USE_AFTER_FREE);
    CHECK_EQ_U64(R.block, (uintptr_t)p);
    CHECK_EQ_U64(R.offset, 5);
    CHECK_EQ_U64(q[5], HEAP_POISON);
    CHECK_HEAP();
    /* a successful call leaves the report alone */
    memset(&R, 0, sizeof R);
    void *z = heap_alloc(&H, 100, NULL, 0, &R);
    CHECK_EQ_U64(R.problem, HEAP_OK);
    CHECK(heap_free(&H, z, &R));
    CHECK(heap_free(&H, q, &R));
    q[0] = 0; /* the first byte of a freed block is poisoned too */
    memset(&R, 0, sizeof R);
    CHECK(!heap_check(&H, &R));
    CHECK_EQ_U64(R.problem, HEAP_USE_AFTER_FREE);
    CHECK_EQ_U64(R.block, (uintptr_t)q);
    CHECK_EQ_U64(R.offset, 0);
    q[0] = HEAP_POISON;
    CHECK_HEAP();
    CHECK(heap_free(&H, x, &R));
    CHECK(heap_free(&H, y, &R));
    check_empty();
}

/* ---- heap_check names a broken structure ------------------------------------- */

static void expect_corrupt(const char *what)
{
    memset(&R, 0, sizeof R);
    bool ok = heap_check(&H, &R);
    CHECK(!ok);
    CHECK(R.problem == HEAP_CORRUPT && R.detail[0] != 0);
    if (ok || R.problem != HEAP_CORRUPT)
        fprintf(stderr, "    not caught: %s\n", what);
}

static void test_corruption(void)
{
    setup(false);
    uint8_t *a = heap_alloc(&H, 64, NULL, 0, &R);
    uint8_t *b = heap_alloc(&H, 64, NULL, 0, &R);
    uint8_t *run = heap_alloc(&H, 3 * HEAP_PAGE, NULL, 0, &R);
    CHECK_HEAP();
    uint32_t pa = (uint32_t)(((uintptr_t)a - H.base) >> 12);
    uint32_t pr = (uint32_t)(((uintptr_t)run - H.base) >> 12);
    struct heap_slab *s = heap_slab_of(&H, pa, H.map[pa]);
    uint32_t u32;
    size_t sz;
    void *ptr;

#define BREAK(what, lvalue, value)                                         \
    do {                                                                   \
        __typeof__(lvalue) saved_ = (lvalue);                              \
        (lvalue) = (value);                                                \
        expect_corrupt(what);                                              \
        (lvalue) = saved_;                                                 \
        CHECK_HEAP();                                                      \
    } while (0)

    BREAK("slab page's class", H.map[pa], H.map[pa] ^ 1);
    BREAK("slab page's kind", H.map[pa], HEAP_MAP_MAKE(HEAP_MAP_FREE, 0));
    BREAK("slab magic", s->magic, 0);
    BREAK("slab free count", s->free_count, s->free_count + 1);
    BREAK("slab bitmap", s->bits[0], s->bits[0] ^ 4);
    BREAK("slab hint", s->hint, 99);
    BREAK("slab tag", s->tag, 31);
    BREAK("partial list", H.partial[s->cls][0], NULL);
    ptr = (void *)(H.base + 8);
    BREAK("partial list link", s->next, ptr);
    BREAK("run length", H.map[pr], H.map[pr] + 1);
    BREAK("run tail", H.map[pr + 1], HEAP_MAP_MAKE(HEAP_MAP_RUN_TAIL, 2));
    BREAK("free bit of a used page", H.free_bits[pa >> 5], H.free_bits[pa >> 5] ^ (1u << (pa & 31)));
    BREAK("backed bit of a used page", H.backed_bits[pr >> 5],
          H.backed_bits[pr >> 5] ^ (1u << (pr & 31)));
    BREAK("a page past top backed", H.backed_bits[(H.top + 1) >> 5],
          H.backed_bits[(H.top + 1) >> 5] | (1u << ((H.top + 1) & 31)));
    BREAK("map page entry", H.map[1], HEAP_MAP_MAKE(HEAP_MAP_FREE, 0));
    u32 = H.top;
    BREAK("top", H.top, u32 + 5000);
    BREAK("retained", H.retained, H.retained + 1);
    sz = H.stats.slot_bytes;
    BREAK("slot_bytes", H.stats.slot_bytes, sz + 16);
    BREAK("allocs", H.stats.allocs, H.stats.allocs + 1);
    BREAK("slabs", H.stats.slabs, H.stats.slabs + 1);
    BREAK("backed pages", H.stats.backed_pages, H.stats.backed_pages - 1);
    BREAK("search hint", H.run_hint[1], H.top + 1);
    BREAK("fast-path limit", H.fast_limit, H.fast_limit + HEAP_PAGE);
    BREAK("class table", H.fast[3].slot, 65);
    /* a free page with an entry that says it is used */
    CHECK(heap_free(&H, run, &R));
    BREAK("free page's kind", H.map[pr + 1], HEAP_MAP_MAKE(HEAP_MAP_RUN_TAIL, 1));
    BREAK("cached empty slab", H.empty[0], s);
    CHECK(heap_free(&H, a, &R));
    CHECK(heap_free(&H, b, &R));
    check_empty();
#undef BREAK
}

/* ---- memory on a kernel-like trace -------------------------------------------- */

static void test_trace(void)
{
    /* 88% 16-256 bytes, 11.5% 1-4 KiB, 0.5% 16-64 KiB; up to ~6 MiB live
     * with random frees, then a plateau; the pages held at the peak of
     * live bytes should be at most ~1.2 times those bytes */
    setup_size(false, 32u << 20);
    enum { N = 20000 };
    static void *p[N];
    static uint32_t sz[N];
    memset(p, 0, sizeof p);
    size_t live = 0, peak_live = 0, held_at_peak = 0, limit = 6u << 20;
    for (uint32_t op = 0; op < 150000; op++) {
        uint32_t i = rnd() % N;
        bool grow = op < 40000 ? rnd() % 5 != 0 : rnd() % 100 < 50;
        if (p[i] && !grow) {
            heap_free(&H, p[i], &R);
            live -= sz[i];
            p[i] = NULL;
        } else if (!p[i] && grow) {
            uint32_t r = rnd() % 1000;
            sz[i] = r < 880 ? 16 + rnd() % 241 : r < 995 ? 1024 + rnd() % 3073
                                                          : 16384 + rnd() % 49153;
            if (live + sz[i] > limit)
                continue;
            p[i] = heap_alloc(&H, sz[i], NULL, 0, &R);
            CHECK(p[i] != NULL);
            live += sz[i];
            if (live > peak_live) {
                peak_live = live;
                held_at_peak = stats().backed_pages * HEAP_PAGE;
            }
        }
    }
    CHECK_HEAP();
    double ratio = (double)held_at_peak / (double)peak_live;
    printf("heap: trace peak %zu KiB live, %zu KiB held: %.3f\n", peak_live >> 10,
           held_at_peak >> 10, ratio);
    CHECK(ratio < 1.3);
    for (uint32_t i = 0; i < N; i++) {
        if (p[i])
            CHECK(heap_free(&H, p[i], &R));
    }
    check_empty();
}

int main(int argc, char **argv)
{
    src.base = aligned_alloc(HEAP_PAGE, (size_t)MAX_PAGES * HEAP_PAGE);
    if (!src.base)
        return 1;
    if (argc > 1 && strcmp(argv[1], "classes") == 0) {
        print_classes();
        return 0;
    }
    RUN(test_init);
    RUN(test_classes);
    for (int debug = 0; debug <= 1; debug++) {
        printf("heap: debug %s\n", debug ? "on" : "off");
        test_sizes(debug);
        test_zero(debug);
        test_aligned(debug);
        test_realloc(debug);
        test_tags(debug);
        test_misuse(debug);
        test_describe(debug);
        test_no_memory(debug);
        test_random(debug);
    }
    RUN(test_debug_overflow);
    RUN(test_debug_header);
    RUN(test_debug_use_after_free);
    RUN(test_corruption);
    RUN(test_trace);
    if (src.misuse)
        fprintf(stderr, "page source contract broken %lu times\n", src.misuse);
    CHECK_EQ_U64(src.misuse, 0);
    ASAN_UNPOISON_MEMORY_REGION(src.base, (size_t)MAX_PAGES * HEAP_PAGE);
    free(src.base);
    return check_summary("heap");
}
