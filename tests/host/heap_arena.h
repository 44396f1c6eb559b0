/*
 * heap_arena.h - the page source the heap's tests run on, and the pattern
 * they fill blocks with.
 *
 * Shared by the unit tests (test_heap*.c), the model test
 * (test_heap_model.c) and the fuzz target (tests/fuzz/fuzz_heap.c).
 *
 * The arena is host memory: a guard page, max_pages pages, a guard page.
 * The heap gets a range of `pages` of it (arena_reset) and a struct
 * heap_pages (arena_source) whose back() and release() hold the heap to
 * the contract of heap_core.h:
 *
 *   - every page is tracked, backed or not; back() of a page outside the
 *     range or already backed, release() of one that is not backed, breaks
 *     the contract: counted in `broken`, and told to `complain` (the model
 *     test and the fuzzer abort there) or else printed (the first ten);
 *   - a page it backs is filled with junk (a kernel frame is not zeroed);
 *     a page it takes back is filled with other junk and poisoned for ASan,
 *     so a heap that touches a page it gave away is stopped at that
 *     instruction (so are the pages never backed, and the guard pages);
 *   - it can be told to refuse: after a budget of pages backed, past a
 *     number backed at once, every k-th back(), or one in n at random.
 *
 * A test that keeps a model of the live blocks hooks `releasing` to check
 * that no live block sits on pages handed back.
 */
#ifndef TESTS_HEAP_ARENA_H
#define TESTS_HEAP_ARENA_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/heap_core.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ARENA_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define ARENA_ASAN 1
#endif
#ifdef ARENA_ASAN
#include <sanitizer/asan_interface.h>
#else
#define ASAN_POISON_MEMORY_REGION(a, n) ((void)(a), (void)(n))
#define ASAN_UNPOISON_MEMORY_REGION(a, n) ((void)(a), (void)(n))
#endif

#define ARENA_JUNK_FRESH 0xa5 /* a page just backed */
#define ARENA_JUNK_GONE 0xcc  /* a page handed back */

struct arena {
    uint8_t *mem;            /* a guard page, max_pages pages, a guard page */
    uintptr_t base;          /* the first page of the range */
    uint32_t max_pages;
    uint32_t pages;          /* the range the heap may use now */
    uint8_t *backed;         /* a byte a page: 1 = backed */
    uint32_t count, peak;    /* pages backed now, and the most at once */

    /* When to refuse a back() (arena_reset turns all of them off).  The
     * unit tests spend a budget; the model test and the fuzzer cap the
     * pages backed at once, so that pages given back can be backed again. */
    long budget;             /* pages it may still back; < 0: no limit */
    uint32_t limit;          /* the most pages backed at once */
    uint32_t fail_every;     /* refuse every k-th back() (0: never) */
    uint32_t back_calls;     /* back()s since the reset, for fail_every */
    uint32_t fail_one_in;    /* refuse one back() in n at random (0: never) */
    uint32_t (*rand_below)(uint32_t n); /* a number in [0, n), for fail_one_in */

    /* Never reset: tests compare them before and after a call. */
    uint64_t calls, refusals;
    unsigned long checks;    /* contract checks made (the model test counts them) */
    unsigned long broken;    /* contract breaches */

    void (*complain)(void *ctx, const char *what); /* a breach; NULL: print it */
    void (*releasing)(void *ctx, uintptr_t va, uint32_t pages); /* NULL: no hook */
    void *ctx;
};

/* An arena of max_pages pages, all poisoned, none backed, no range yet;
 * aborts when the host has no memory for it. */
static inline void arena_open(struct arena *a, uint32_t max_pages)
{
    memset(a, 0, sizeof(*a));
    void *mem = NULL;
    size_t bytes = ((size_t)max_pages + 2) * HEAP_PAGE;
    if (posix_memalign(&mem, HEAP_PAGE, bytes) != 0)
        abort();
    a->backed = calloc(max_pages, 1);
    if (!a->backed)
        abort();
    a->mem = mem;
    a->base = (uintptr_t)mem + HEAP_PAGE;
    a->max_pages = max_pages;
    a->budget = -1;
    a->limit = UINT32_MAX;
    ASAN_POISON_MEMORY_REGION(a->mem, bytes);
}

static inline void arena_close(struct arena *a)
{
    ASAN_UNPOISON_MEMORY_REGION(a->mem, ((size_t)a->max_pages + 2) * HEAP_PAGE);
    free(a->mem);
    free(a->backed);
    a->mem = a->backed = NULL;
}

/* A new range of `pages` for a new heap: no page backed (the last heap's
 * pages are forgotten and poisoned again), no refusals. */
static inline void arena_reset(struct arena *a, uint32_t pages)
{
    if (pages > a->max_pages)
        abort();
    uint32_t dirty = pages > a->pages ? pages : a->pages;
    memset(a->backed, 0, dirty);
    ASAN_POISON_MEMORY_REGION((void *)a->base, (size_t)dirty * HEAP_PAGE);
    a->pages = pages;
    a->count = a->peak = 0;
    a->budget = -1;
    a->limit = UINT32_MAX;
    a->fail_every = a->back_calls = a->fail_one_in = 0;
}

static inline size_t arena_bytes(const struct arena *a)
{
    return (size_t)a->pages * HEAP_PAGE;
}

static inline bool arena_backed(const struct arena *a, uint32_t page)
{
    return a->backed[page] != 0;
}

static inline bool arena_breach(struct arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Counts and reports a broken contract; returns false for the caller. */
static inline bool arena_breach(struct arena *a, const char *fmt, ...)
{
    char what[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    a->broken++;
    if (a->complain)
        a->complain(a->ctx, what);
    else if (a->broken <= 10)
        fprintf(stderr, "    contract broken: %s\n", what);
    return false;
}

/* [va, va + n pages) is whole pages of the range, each backed (or not). */
static inline bool arena_pages_are(struct arena *a, uintptr_t va, uint32_t n, bool backed,
                            const char *who)
{
    a->checks++;
    if (va % HEAP_PAGE || va < a->base || n == 0 || n > a->pages ||
        (va - a->base) / HEAP_PAGE + n > a->pages)
        return arena_breach(a, "%s(0x%llx, %u pages): not whole pages of the range", who,
                            (unsigned long long)va, n);
    uint32_t first = (uint32_t)((va - a->base) / HEAP_PAGE);
    for (uint32_t p = first; p < first + n; p++) {
        a->checks++;
        if (arena_backed(a, p) != backed)
            return arena_breach(a, "%s(0x%llx, %u pages): page %u is %s", who,
                                (unsigned long long)va, n, p,
                                backed ? "not backed" : "backed already");
    }
    return true;
}

static inline bool arena_back(void *ctx, uintptr_t va, uint32_t n)
{
    struct arena *a = ctx;
    a->calls++;
    if (!arena_pages_are(a, va, n, false, "back"))
        return false;
    /* (in this order: the counter and the random numbers are only spent
     * when the earlier rules let the page through) */
    if ((a->budget >= 0 && (long)n > a->budget) || a->count + n > a->limit ||
        (a->fail_every && ++a->back_calls % a->fail_every == 0) ||
        (a->fail_one_in && a->rand_below(a->fail_one_in) == 0)) {
        a->refusals++;
        return false;
    }
    if (a->budget >= 0)
        a->budget -= n;
    memset(a->backed + (va - a->base) / HEAP_PAGE, 1, n);
    a->count += n;
    a->peak = a->count > a->peak ? a->count : a->peak;
    ASAN_UNPOISON_MEMORY_REGION((void *)va, (size_t)n * HEAP_PAGE);
    memset((void *)va, ARENA_JUNK_FRESH, (size_t)n * HEAP_PAGE);
    return true;
}

static inline void arena_release(void *ctx, uintptr_t va, uint32_t n)
{
    struct arena *a = ctx;
    a->calls++;
    if (!arena_pages_are(a, va, n, true, "release"))
        return;
    if (a->releasing)
        a->releasing(a->ctx, va, n);
    memset((void *)va, ARENA_JUNK_GONE, (size_t)n * HEAP_PAGE);
    ASAN_POISON_MEMORY_REGION((void *)va, (size_t)n * HEAP_PAGE);
    memset(a->backed + (va - a->base) / HEAP_PAGE, 0, n);
    a->count -= n;
}

/* The page source to give heap_init. */
static inline struct heap_pages arena_source(struct arena *a)
{
    return (struct heap_pages){arena_back, arena_release, a};
}

/* ---- the fill pattern ------------------------------------------------------------ */

/* A block is filled with a pattern drawn from its id, so a byte that
 * changes (an allocator writing into a live block, two blocks that
 * overlap, a realloc that loses data) is found at its offset.  Byte i is
 * byte i % 8 of word i / 8 (x86 is little-endian: a word is one load).
 *
 * The loops are not instrumented for coverage: their compares tell the
 * fuzzer nothing about the heap, and cost most of its time. */
#if defined(__clang__)
#define PATTERN_NO_COVERAGE __attribute__((no_sanitize("coverage")))
#else
#define PATTERN_NO_COVERAGE
#endif

static inline PATTERN_NO_COVERAGE uint64_t pattern_word(uint32_t id, size_t w)
{
    return ((uint64_t)id * 0x9e3779b97f4a7c15ull) ^ ((uint64_t)w * 0xbf58476d1ce4e5b9ull);
}

static inline PATTERN_NO_COVERAGE uint8_t pattern_byte(uint32_t id, size_t i)
{
    return (uint8_t)(pattern_word(id, i / 8) >> (i % 8 * 8));
}

/* Bytes [from, to) of the block at p. */
static inline PATTERN_NO_COVERAGE void pattern_fill(void *p, size_t from, size_t to, uint32_t id)
{
    uint8_t *q = p;
    size_t i = from;
    for (; i < to && i % 8; i++)
        q[i] = pattern_byte(id, i);
    for (; i + 8 <= to; i += 8) {
        uint64_t w = pattern_word(id, i / 8);
        memcpy(q + i, &w, 8);
    }
    for (; i < to; i++)
        q[i] = pattern_byte(id, i);
}

/* The first offset in [0, n) that lost the pattern, or SIZE_MAX.  The
 * differences are or-ed a word at a time; only a damaged block is
 * searched for its first bad byte. */
static inline PATTERN_NO_COVERAGE size_t pattern_bad(const void *p, size_t n, uint32_t id)
{
    const uint8_t *q = p;
    uint64_t diff = 0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, q + i, 8);
        diff |= w ^ pattern_word(id, i / 8);
    }
    for (; i < n; i++)
        diff |= q[i] ^ pattern_byte(id, i);
    if (!diff)
        return SIZE_MAX;
    for (i = 0; q[i] == pattern_byte(id, i);)
        i++;
    return i;
}

static inline bool pattern_intact(const void *p, size_t n, uint32_t id)
{
    return pattern_bad(p, n, id) == SIZE_MAX;
}

#endif
