/*
 * bench_heap.c - how fast and how lean is Kernel-V's heap on a kernel-like
 * load, next to the host's glibc malloc?
 *
 *   heap        Kernel-V's heap (src/memory/heap_*.c, compiled into this
 *               program at -O2, no sanitizers) with debug checks off;
 *   heap-debug  the same with headers, red zones and poison (the kernel's
 *               default, HEAP_DEBUG in config.h);
 *   glibc       the C library's malloc and free.
 *
 * The trace is generated once, from a fixed seed, before anything is
 * timed: about TRACE_OPS operations, allocations and frees of random live
 * blocks.  Sizes: 88% uniform in 16-256 bytes, 11.5% in 1-4 KiB, 0.5% in
 * 16-64 KiB (a kernel's mix: many small objects, some buffers, a few big
 * tables).  It ramps up (4 allocations to 1 free) until PEAK_LIVE bytes are
 * live, stays there with random allocations and frees (a step up only
 * while under PEAK_LIVE), then ramps down (4 frees to 1 allocation) until
 * nothing is live.
 *
 * Each allocator replays the whole trace REPS times; the fastest replay is
 * shown, as nanoseconds per kmalloc+kfree pair (the replay's time divided
 * by the number of allocations; every block is freed).  Memory is
 * measured in the first replay at the moment the most bytes are live:
 * the heap's backed pages (page map included) times 4 KiB; glibc's
 * mallinfo2() arena + hblkhd, less what it held before the replay.  The
 * page source of the heap is a pre-touched arena whose back and release
 * only count; glibc is told not to trim or mmap, so neither pays for page
 * faults or system calls after the first replay: the times are the
 * allocators' own work (a kernel's page source also maps frames).
 *
 * Then the goals, as ratios in this run, PASS or MISS for the heap with
 * debug off (a MISS is reported, not a failure: as bench_pmm).  The
 * program fails only when an allocator misbehaves (NULL, heap_check).
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernel/heap_core.h"

#define TRACE_OPS 1000000u
#define PEAK_LIVE (8u << 20)
#define MAX_LIVE (1u << 16)
#define REPS 5
#define RANGE_BYTES ((size_t)64 << 20)

enum kind { HEAP, HEAP_DEBUG, GLIBC, KINDS };
static const char *const kind_names[KINDS] = {"heap", "heap-debug", "glibc"};

static void die(const char *what)
{
    fprintf(stderr, "bench_heap: %s\n", what);
    exit(1);
}

static double now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static uint64_t rng = 0x6b65726e656c2d76ull;
static uint32_t rnd(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return (uint32_t)((rng * 0x2545f4914f6cdd1dull) >> 32);
}

static uint32_t below(uint32_t n)
{
    return (uint32_t)(((uint64_t)rnd() * n) >> 32);
}

/* ---- the trace ------------------------------------------------------------------- */

struct op {
    uint32_t slot; /* which live block: ptrs[slot] */
    uint32_t size; /* bytes to allocate; 0: free ptrs[slot] */
};

static struct op *trace;
static uint32_t nops, nallocs, peak_at, peak_blocks; /* peak_at: ops [0, peak_at) reach it */
static size_t peak_live;

static uint32_t trace_size(void)
{
    uint32_t r = below(1000);
    if (r < 880)
        return 16 + below(256 - 16 + 1);
    if (r < 995)
        return 1024 + below(4096 - 1024 + 1);
    return 16384 + below(65536 - 16384 + 1);
}

static void make_trace(void)
{
    static uint32_t live[MAX_LIVE], free_slots[MAX_LIVE], sizes[MAX_LIVE];
    uint32_t nlive = 0, nfree = 0;
    size_t bytes = 0;
    for (uint32_t s = MAX_LIVE; s-- > 0;)
        free_slots[nfree++] = s;
    trace = malloc((TRACE_OPS + TRACE_OPS / 8) * sizeof(*trace));
    if (!trace)
        die("out of memory");
    enum { UP, PLATEAU, DOWN } phase = UP;
    uint32_t next = trace_size();
    while (phase != DOWN || nlive) {
        bool alloc;
        if (phase == UP && bytes + next > PEAK_LIVE)
            phase = PLATEAU;
        if (phase == UP) {
            alloc = below(5) != 0;
        } else if (phase == PLATEAU) {
            alloc = bytes + next <= PEAK_LIVE && below(100) < 52;
            /* leave room for the ramp down: about 1.7 operations a block */
            if (nops + nlive * 17 / 10 >= TRACE_OPS)
                phase = DOWN;
        } else {
            alloc = below(5) == 0;
        }
        if (alloc && nfree == 0)
            die("trace: too many live blocks");
        if (nlive == 0)
            alloc = true;
        if (alloc) {
            uint32_t slot = free_slots[--nfree];
            sizes[slot] = next;
            live[nlive++] = slot;
            bytes += next;
            trace[nops++] = (struct op){slot, next};
            nallocs++;
            next = trace_size();
            if (bytes > peak_live) {
                peak_live = bytes;
                peak_at = nops;
                peak_blocks = nlive;
            }
        } else {
            uint32_t i = below(nlive), slot = live[i];
            live[i] = live[--nlive];
            free_slots[nfree++] = slot;
            bytes -= sizes[slot];
            trace[nops++] = (struct op){slot, 0};
        }
        if (nops >= TRACE_OPS + TRACE_OPS / 8)
            die("trace: too long");
    }
}

/* ---- the allocators ---------------------------------------------------------------- */

static struct heap heap;
static void *arena;
static size_t backs, releases;

static bool bench_back(void *ctx, uintptr_t va, uint32_t pages)
{
    (void)ctx, (void)va;
    backs += pages;
    return true;
}

static void bench_release(void *ctx, uintptr_t va, uint32_t pages)
{
    (void)ctx, (void)va;
    releases += pages;
}

static const struct heap_pages source = {bench_back, bench_release, NULL};
static struct heap_report report;
static void **ptrs;

static inline __attribute__((always_inline)) void *do_alloc(enum kind k, size_t size)
{
    return k == GLIBC ? malloc(size) : heap_alloc(&heap, size, NULL, 0x1234, &report);
}

static inline __attribute__((always_inline)) void do_free(enum kind k, void *p)
{
    if (k == GLIBC)
        free(p);
    else if (!heap_free(&heap, p, &report))
        die("the heap refused a free");
}

static size_t glibc_held(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.arena + mi.hblkhd;
}

/* Ops [from, to) of the trace; returns their time.  The constant k makes
 * one copy of the loop per allocator. */
static inline __attribute__((always_inline)) double play(enum kind k, uint32_t from,
                                                         uint32_t to)
{
    double t0 = now_ns();
    for (uint32_t i = from; i < to; i++) {
        const struct op *o = &trace[i];
        if (o->size) {
            void *p = do_alloc(k, o->size);
            if (!p)
                die("an allocation failed");
            ptrs[o->slot] = p;
        } else {
            do_free(k, ptrs[o->slot]);
        }
    }
    return now_ns() - t0;
}

/* One replay; *held gets the memory held at the live peak. */
static inline __attribute__((always_inline)) double replay(enum kind k, size_t *held)
{
    size_t before = 0;
    if (k == GLIBC) {
        before = glibc_held();
    } else {
        struct heap_config cfg = {.debug = k == HEAP_DEBUG};
        if (!heap_init(&heap, (uintptr_t)arena, RANGE_BYTES, &source, &cfg))
            die("heap_init failed");
    }
    double t = play(k, 0, peak_at);
    if (k == GLIBC) {
        *held = glibc_held() - before;
    } else {
        struct heap_stats s;
        heap_get_stats(&heap, &s);
        *held = s.backed_pages * HEAP_PAGE;
    }
    t += play(k, peak_at, nops);
    if (k != GLIBC) {
        struct heap_stats s;
        heap_get_stats(&heap, &s);
        if (!heap_check(&heap, &report) || s.live_blocks || s.live_bytes)
            die("the heap is not empty and whole after the trace");
    }
    return t;
}

static double best_ns[KINDS];
static size_t held_at_peak[KINDS];

static void measure(enum kind k)
{
    for (int rep = 0; rep < REPS; rep++) {
        size_t held;
        double t;
        switch (k) { /* a constant k in each call of replay */
        case HEAP:       t = replay(HEAP, &held); break;
        case HEAP_DEBUG: t = replay(HEAP_DEBUG, &held); break;
        default:         t = replay(GLIBC, &held); break;
        }
        double per = t / nallocs;
        if (rep == 0 || per < best_ns[k])
            best_ns[k] = per;
        if (rep == 0)
            held_at_peak[k] = held;
    }
}

static bool goal(const char *what, double value, double limit)
{
    bool ok = value <= limit;
    printf("  %-44s %6.2fx   goal <= %gx   %s\n", what, value, limit, ok ? "PASS" : "MISS");
    return ok;
}

int main(void)
{
    double t0 = now_ns();
    make_trace(); /* the big buffers first: glibc maps them, outside its arena */
    ptrs = calloc(MAX_LIVE, sizeof(void *));
    if (posix_memalign(&arena, HEAP_PAGE, RANGE_BYTES) || !ptrs)
        die("out of memory");
    memset(arena, 0, RANGE_BYTES); /* touched once: no page faults in the timing */
    /* glibc keeps what it got (no trim), and a fixed mmap threshold far
     * above the largest block: see the top of the file */
    if (!mallopt(M_TRIM_THRESHOLD, 1 << 30) || !mallopt(M_MMAP_THRESHOLD, 1 << 20) ||
        !mallopt(M_TOP_PAD, 0))
        die("mallopt refused");

    printf("bench_heap: a kernel-like trace of %u operations (%u kmalloc + %u kfree): sizes "
           "88%% 16-256 B, 11.5%% 1-4 KiB, 0.5%% 16-64 KiB\n", nops, nallocs, nallocs);
    printf("live peak %.2f MiB (%u blocks) after operation %u; ns per kmalloc+kfree pair, "
           "best of %d replays\n\n", peak_live / 1048576.0, peak_blocks, peak_at, REPS);
    measure(GLIBC);
    measure(HEAP);
    size_t heap_backs = backs, heap_releases = releases;
    struct heap_stats hs;
    heap_get_stats(&heap, &hs);
    size_t heap_peak_held = hs.peak_backed_pages * HEAP_PAGE;
    measure(HEAP_DEBUG);

    printf("%-12s %10s %14s %16s %10s\n", "", "ns/pair", "live at peak", "held at peak",
           "held/live");
    for (int k = 0; k < KINDS; k++)
        printf("%-12s %10.1f %10.0f KiB %12.0f KiB %10.3f\n", kind_names[k], best_ns[k],
               peak_live / 1024.0, held_at_peak[k] / 1024.0,
               (double)held_at_peak[k] / (double)peak_live);
    printf("(heap: the page map is included; the most it held during a replay was %.0f KiB; "
           "%zu pages backed and %zu released by the page source over %d replays)\n",
           heap_peak_held / 1024.0, heap_backs, heap_releases, REPS);

    printf("\ngoals (the heap with debug off):\n");
    int missed = 0;
    missed += !goal("time per pair: heap / glibc", best_ns[HEAP] / best_ns[GLIBC], 0.5);
    missed += !goal("held / live at the live peak",
                    (double)held_at_peak[HEAP] / (double)peak_live, 1.2);
    printf("(heap-debug / glibc: time %.2fx, held at peak %.2fx)\n",
           best_ns[HEAP_DEBUG] / best_ns[GLIBC],
           (double)held_at_peak[HEAP_DEBUG] / (double)held_at_peak[GLIBC]);
    printf("bench_heap: %d goal%s missed, %.1f s\n", missed, missed == 1 ? "" : "s",
           (now_ns() - t0) / 1e9);
    free(trace);
    free(ptrs);
    free(arena);
    return 0;
}
