/*
 * heap_fixture.h - what the heap's unit tests share (test_heap.c,
 * test_heap_misuse.c, test_heap_workload.c): a fresh heap on the arena of
 * heap_arena.h, and the checks that an empty heap, or a refused call,
 * leaves everything as it was.
 *
 * The arena has room for 32 MiB; a heap gets its first 16 MiB (RANGE)
 * unless a test asks for another size.  The page source never refuses
 * unless a test sets src.budget (pages it may still back).  A breach of the
 * page source's contract is printed where it happens and counted; each
 * program checks at the end that there was none (fixture_close).
 *
 * Each test builds a fresh heap with setup(), with debug checks off or on;
 * most run both ways (RUN_MODE names the mode of a failure).
 */
#ifndef TESTS_HEAP_FIXTURE_H
#define TESTS_HEAP_FIXTURE_H

#include "check.h"
#include "heap_arena.h"

#define MAX_PAGES 8192u /* 32 MiB */
#define RANGE (16u << 20)

static struct arena src;
static struct heap H;
static struct heap_report R;
static struct heap_pages source; /* src's back() and release() */

static inline void fixture_open(void)
{
    arena_open(&src, MAX_PAGES);
    source = arena_source(&src);
}

/* The source's contract kept, the arena freed; the program's summary. */
static inline int fixture_close(const char *name)
{
    if (src.broken)
        fprintf(stderr, "page source contract broken %lu times\n", src.broken);
    CHECK_EQ_U64(src.broken, 0);
    arena_close(&src);
    return check_summary(name);
}

/* A fresh heap over the first `bytes` of the arena. */
static inline void setup_size(bool debug, size_t bytes)
{
    arena_reset(&src, (uint32_t)(bytes / HEAP_PAGE));
    struct heap_config cfg = {.debug = debug};
    CHECK(heap_init(&H, src.base, bytes, &source, &cfg));
    CHECK_EQ_U64(src.count, 1);
}

static inline void setup(bool debug)
{
    setup_size(debug, RANGE);
}

static inline struct heap_stats stats(void)
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
static inline size_t idle_pages(void)
{
    size_t n = H.map_pages_backed + H.retained;
    for (uint32_t c = 0; c < H.class_count; c++)
        n += H.empty[c] ? H.classes[c].pages : 0;
    return n;
}

/* Everything freed: no block, and no page but the idle ones. */
static inline void check_empty(void)
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
    uint64_t calls;
};

static inline struct snap snap(void)
{
    return (struct snap){stats(), src.count, src.calls};
}

static inline void check_unchanged(const struct snap *a, uint64_t dfailed, uint64_t dbad)
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

/* The pattern of heap_arena.h, from the start of a block. */
static inline void fill(void *p, size_t n, uint32_t id)
{
    pattern_fill(p, 0, n, id);
}

static inline bool filled(const void *p, size_t n, uint32_t id)
{
    return pattern_intact(p, n, id);
}

/* A block a test keeps, filled with the pattern of its index. */
struct blk {
    uint8_t *p;
    size_t size, slot;
};

/* A test run with debug off or on, named when it adds failures:
 * `#define test_x(d) RUN_MODE(test_x, d)` runs test_x_mode(d). */
#define RUN_MODE(fn, debug)                                                \
    do {                                                                   \
        unsigned long check_before_ = check_failed;                        \
        fn##_mode(debug);                                                  \
        if (check_failed != check_before_)                                 \
            fprintf(stderr, "  in %s (debug %s)\n", #fn, debug ? "on" : "off"); \
    } while (0)

#endif
