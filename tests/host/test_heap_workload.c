/*
 * test_heap_workload.c - the heap (heap_core.h) under load: a page source
 * that runs dry, a range that fills up and a page map that cannot grow
 * (allocations fail cleanly and everything comes back); a random mix of
 * allocations, reallocs and frees of every size, alignment and tag; and a
 * kernel-like trace, whose peak of pages held must stay near its peak of
 * live bytes.
 *
 * Each test runs on a fresh heap (heap_fixture.h), the first two with the
 * debug checks off and on.  The random numbers come from one fixed
 * xorshift stream, in the order the tests run.
 */
#include "check.h"
#include "heap_fixture.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

/* ---- out of memory ---------------------------------------------------------- */

static void test_no_memory_mode(bool debug)
{
    /* the page source runs dry: allocations fail cleanly, and everything
     * comes back (src.refusals counts this round's failures: the round
     * stops after a few) */
    src.refusals = 0;
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
    void *bulk = heap_alloc(&H, (1000 << 12) - (debug ? 20 : 0), NULL, 0, &R);
    CHECK(bulk != NULL);
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
    CHECK(heap_free(&H, bulk, &R));
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
    printf("heap_workload: trace peak %zu KiB live, %zu KiB held: %.3f\n", peak_live >> 10,
           held_at_peak >> 10, ratio);
    CHECK(ratio < 1.3);
    for (uint32_t i = 0; i < N; i++) {
        if (p[i])
            CHECK(heap_free(&H, p[i], &R));
    }
    check_empty();
}

#define test_no_memory(d) RUN_MODE(test_no_memory, d)
#define test_random(d) RUN_MODE(test_random, d)

int main(void)
{
    fixture_open();
    for (int debug = 0; debug <= 1; debug++) {
        printf("heap_workload: debug %s\n", debug ? "on" : "off");
        test_no_memory(debug);
        test_random(debug);
    }
    RUN(test_trace);
    return fixture_close("heap_workload");
}
