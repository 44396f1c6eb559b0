/*
 * test_heap.c - the heap's allocator core (heap_core.h): its size classes,
 * heap_init, every class boundary, size 0, alignment, realloc, tags and
 * the high-water mark (heap_top_page), each on a fresh heap
 * (heap_fixture.h), with the debug checks off and on.
 *
 * Misuse, heap_describe and the debug checks are test_heap_misuse.c;
 * running out of pages and random workloads, test_heap_workload.c.
 *
 *     test_heap [classes]     ("classes" prints the size-class table)
 */
#include <stdlib.h>

#include "check.h"
#define HEAP_CORE_PRIVATE /* the class table's slab headers */
#include "heap_fixture.h"

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
    uintptr_t base = src.base;
    arena_reset(&src, RANGE / HEAP_PAGE);
    uint32_t before = src.count;
    CHECK(!heap_init(&H, base + 8, RANGE, &source, &cfg));             /* unaligned base */
    CHECK(!heap_init(&H, base, RANGE + 100, &source, &cfg));           /* unaligned size */
    CHECK(!heap_init(&H, base, 15 * HEAP_PAGE, &source, &cfg));        /* under 64 KiB */
    CHECK(!heap_init(&H, base, (size_t)(HEAP_MAX_PAGES + 1) * HEAP_PAGE, &source, &cfg));
    CHECK(!heap_init(&H, 0, RANGE, &source, &cfg));
    struct heap_pages none = {NULL, arena_release, &src};
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

/* ---- the high-water mark --------------------------------------------------- */

/* heap_top_page's contract: heap_describe says "never used" for exactly
 * the pages at or past it. */
static void check_never_used_from(uint32_t top)
{
    unsigned wrong = 0;
    for (uint32_t p = 0; p < H.size / HEAP_PAGE; p++) {
        struct heap_block_info bi;
        heap_describe(&H, H.base + (uintptr_t)p * HEAP_PAGE, &bi);
        wrong += (strcmp(bi.what, "never used") == 0) != (p >= top);
    }
    CHECK_EQ_U64(wrong, 0);
}

static void test_top_mode(bool debug)
{
    setup(debug);
    uint32_t top = heap_top_page(&H);
    CHECK_EQ_U64(top, H.map_pages_total); /* the page map alone */
    check_never_used_from(top);
    void *small = heap_alloc(&H, 100, "t", 0, &R);
    CHECK(heap_top_page(&H) > top); /* its slab */
    top = heap_top_page(&H);
    check_never_used_from(top);
    void *run = heap_alloc(&H, 5 * HEAP_PAGE, NULL, 0, &R);
    CHECK(heap_top_page(&H) >= top + 5);
    top = heap_top_page(&H);
    check_never_used_from(top);
    CHECK(heap_free(&H, run, &R));
    CHECK(heap_free(&H, small, &R));
    CHECK_EQ_U64(heap_top_page(&H), top); /* it never falls */
    check_never_used_from(top);
    check_empty();
}

#define test_sizes(d) RUN_MODE(test_sizes, d)
#define test_zero(d) RUN_MODE(test_zero, d)
#define test_aligned(d) RUN_MODE(test_aligned, d)
#define test_realloc(d) RUN_MODE(test_realloc, d)
#define test_tags(d) RUN_MODE(test_tags, d)
#define test_top(d) RUN_MODE(test_top, d)

int main(int argc, char **argv)
{
    fixture_open();
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
        test_top(debug);
    }
    return fixture_close("heap");
}
