/*
 * test_heap_misuse.c - the heap (heap_core.h) refusing what it must
 * refuse, and its debug checks: frees of pointers it never returned
 * (outside, the page map, free pages, inside a slot or a run), double
 * frees, sizes it cannot serve; what heap_describe says is at an address;
 * in debug mode overflows into red zones, smashed headers and writes after
 * free; and heap_check naming each structure broken on purpose.
 *
 * A misuse must be reported with the right problem and change nothing:
 * the counters (but bad_frees or failed_allocs), the page source,
 * heap_check.  Each test runs on a fresh heap (heap_fixture.h).
 */
#include "check.h"
#define HEAP_CORE_PRIVATE /* the corruption tests poke at the structures */
#include "heap_fixture.h"

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

/* What heap_describe says is at an address: the page map, a slot, a run,
 * a free page, a page never used. */
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
    BREAK("free bit of a used page", H.free_bits[pa >> 5],
          H.free_bits[pa >> 5] ^ (1u << (pa & 31)));
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

#define test_misuse(d) RUN_MODE(test_misuse, d)
#define test_describe(d) RUN_MODE(test_describe, d)

int main(void)
{
    fixture_open();
    for (int debug = 0; debug <= 1; debug++) {
        printf("heap_misuse: debug %s\n", debug ? "on" : "off");
        test_misuse(debug);
        test_describe(debug);
    }
    RUN(test_debug_overflow);
    RUN(test_debug_header);
    RUN(test_debug_use_after_free);
    RUN(test_corruption);
    return fixture_close("heap_misuse");
}
