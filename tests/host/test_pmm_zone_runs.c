/*
 * test_pmm_zone_runs.c - the frame allocator's contiguous runs: the three
 * searches (the half summary with the hint's word first, the empty
 * summary, the exact search), runs below a limit (DMA), runs across word
 * boundaries and at the end of a zone, the negative cache of refusals,
 * bad arguments, and frees of runs with their errors.  After most steps
 * pmm_zone_check must pass.
 */
#include "pmm_zone_fixture.h"

/* Does the zone hold count free frames from a multiple of align?  (By
 * brute force, through pmm_zone_query.) */
static bool run_exists(const struct pmm_zone *z, uint32_t count, uint32_t align)
{
    for (uint64_t p = 0; p + count <= z->frames; p += align) {
        uint32_t k = 0;
        while (k < count && state_of(z, (uint32_t)p + k) == FRAME_FREE)
            k++;
        if (k == count)
            return true;
    }
    return false;
}

/* A run the zone handed out: inside, aligned, allocated, tagged. */
static bool run_good(const struct pmm_zone *z, uint32_t p, uint32_t count, uint32_t align,
                     uint8_t tag)
{
    if (p == PMM_NO_FRAME || p % align || (uint64_t)p + count > z->frames)
        return false;
    for (uint32_t k = 0; k < count; k++) {
        struct frame_info fi;
        pmm_zone_query(z, p + k, &fi);
        if (fi.state != FRAME_ALLOCATED || fi.tag != tag || fi.refs != 1)
            return false;
    }
    return true;
}

static void test_runs_basic(void)
{
    struct tz t;
    tz_make(&t, 256, ALL);
    pmm_zone_release(&t.z, 0, 256);
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 8, 8, TAG_DMA, 5), 0);
    CHECK(run_good(&t.z, 0, 8, 8, TAG_DMA));
    struct frame_info fi;
    pmm_zone_query(&t.z, 7, &fi);
    CHECK_EQ_U64(fi.owner, 5);
    CHECK_EQ_U64(state_of(&t.z, 8), FRAME_FREE);
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 4, 4, TAG_DMA, 5), 8);
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 3, 16, TAG_DMA, 5), 16);
    /* No aligned 16 left in word 0: the half summary names word 1. */
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 16, 16, TAG_HEAP, 5), 32);
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 16, 1, TAG_HEAP, 5), 48);
    CHECK_EQ_U64(pmm_zone_allocated_count(&t.z), 8 + 4 + 3 + 16 + 16);
    CHECK_EQ_U64(t.z.allocs, 47);
    CHECK_OK(&t);
    /* Count 1, align 1 is a single allocation: the lowest frame at the hint. */
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 1, 1, TAG_USER, 0), 64);
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 2, 1, TAG_USER, 0), 65);
    uint32_t bad = 0;
    CHECK_EQ_U64(pmm_zone_free_run(&t.z, 0, 8, &bad), PMM_OK);
    CHECK_EQ_U64(pmm_zone_free_run(&t.z, 32, 32, &bad), PMM_OK);
    CHECK_EQ_U64(pmm_zone_count_tag(&t.z, TAG_HEAP), 0);
    CHECK_EQ_U64(t.z.frees, 40);
    CHECK_OK(&t);
    tz_done(&t);
}

/* Runs below a limit (DMA): the lowest run that fits, never one past it. */
static void test_runs_below(void)
{
    struct tz t;
    tz_make(&t, 4096, ALL);
    pmm_zone_release(&t.z, 0, 4096);
    /* Move the hint high: an ordinary run would now come from up there. */
    for (int i = 0; i < 100; i++)
        CHECK(pmm_zone_alloc_run(&t.z, 32, 32, TAG_HEAP, 0) != PMM_NO_FRAME);
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 5, 1, TAG_HEAP, 0), 3200);
    CHECK_EQ_U64(pmm_zone_alloc_run_below(&t.z, 5, 1, 4000, TAG_DMA, 9), 3205);
    uint32_t bad;
    CHECK_EQ_U64(pmm_zone_free_run(&t.z, 0, 64, &bad), PMM_OK); /* a hole at the bottom */
    CHECK_EQ_U64(pmm_zone_alloc_run_below(&t.z, 16, 16, 1000, TAG_DMA, 9), 0);
    CHECK(run_good(&t.z, 0, 16, 16, TAG_DMA));
    CHECK_EQ_U64(pmm_zone_alloc_run_below(&t.z, 48, 1, 1000, TAG_DMA, 9), 16);
    /* Nothing free below 3210 now: refused, though room exists above. */
    CHECK_EQ_U64(pmm_zone_alloc_run_below(&t.z, 1, 1, 3210, TAG_DMA, 9), PMM_NO_FRAME);
    CHECK_EQ_U64(pmm_zone_alloc_run_below(&t.z, 8, 1, 3216, TAG_DMA, 9), PMM_NO_FRAME);
    CHECK_EQ_U64(pmm_zone_alloc_run_below(&t.z, 6, 1, 3216, TAG_DMA, 9), 3210);
    CHECK_EQ_U64(pmm_zone_alloc_run_below(&t.z, 0, 1, 3216, TAG_DMA, 9), PMM_NO_FRAME);
    CHECK_EQ_U64(pmm_zone_alloc_run_below(&t.z, 1, 3, 3216, TAG_DMA, 9), PMM_NO_FRAME);
    /* A limit at or past the end is an ordinary run. */
    CHECK(pmm_zone_alloc_run_below(&t.z, 7, 1, 4096, TAG_DMA, 9) >= 3216);
    CHECK_OK(&t);
    tz_done(&t);
}

static void test_runs_all_sizes(void)
{
    for (int pass = 0; pass < 3; pass++) {
        struct tz t;
        tz_make(&t, 1000, ALL);
        pmm_zone_release(&t.z, 0, 1000);
        /* pass 1: a frame in use every 37; pass 2: every 37, and 5..9 of 64 */
        for (uint32_t f = 0; pass && f < 1000; f++)
            if (f % 37 == 0 || (pass == 2 && f % 64 >= 5 && f % 64 < 10))
                pmm_zone_reserve(&t.z, f, 1, TAG_GUARD);
        uint32_t wrong = 0, found = 0;
        for (uint32_t count = 1; count <= 100; count++) {
            for (uint32_t align = 1; align <= 64; align *= 2) {
                bool exists = run_exists(&t.z, count, align);
                uint32_t p = pmm_zone_alloc_run(&t.z, count, align, TAG_DMA, count);
                if (!exists) {
                    wrong += p != PMM_NO_FRAME;
                    continue;
                }
                found++;
                if (!run_good(&t.z, p, count, align, TAG_DMA)) {
                    wrong++;
                    fprintf(stderr, "    run %u/%u at %u\n", count, align, p);
                    continue;
                }
                uint32_t bad;
                wrong += pmm_zone_free_run(&t.z, p, count, &bad) != PMM_OK;
                wrong += pmm_zone_check(&t.z) != NULL;
            }
        }
        CHECK_EQ_U64(wrong, 0);
        CHECK(found > 0);
        if (pass == 0)
            CHECK_EQ_U64(found, 700);
        CHECK_OK(&t);
        tz_done(&t);
    }
}

static void test_runs_word_boundaries(void)
{
    struct tz t;
    uint32_t bad;
    tz_make(&t, 128, ALL);
    pmm_zone_release(&t.z, 0, 128);
    fill(&t.z);
    CHECK_EQ_U64(pmm_zone_free_run(&t.z, 28, 8, &bad), PMM_OK); /* 28..35 */
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 8, 1, TAG_USER, 0), 28);
    CHECK_EQ_U64(pmm_zone_free_run(&t.z, 28, 8, &bad), PMM_OK);
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 8, 4, TAG_USER, 0), 28);
    CHECK_EQ_U64(pmm_zone_free_run(&t.z, 28, 8, &bad), PMM_OK);
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 8, 8, TAG_USER, 0), PMM_NO_FRAME);
    CHECK_EQ_U64(t.z.no_run_below, 15); /* no free run of 8 + 8 - 1 */
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 4, 8, TAG_USER, 0), 32);
    CHECK_EQ_U64(pmm_zone_free_run(&t.z, 32, 4, &bad), PMM_OK);
    CHECK_EQ_U64(t.z.no_run_below, 15); /* the 8 frames cannot make 15 */
    CHECK_OK(&t);

    /* A run over three words: 20..75. */
    fill(&t.z);
    CHECK_EQ_U64(pmm_zone_free_run(&t.z, 20, 56, &bad), PMM_OK);
    CHECK_EQ_U64(t.z.no_run_below, 0);
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 50, 1, TAG_USER, 0), 20);
    CHECK_EQ_U64(pmm_zone_free_run(&t.z, 20, 50, &bad), PMM_OK);
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 50, 32, TAG_USER, 0), PMM_NO_FRAME);
    CHECK_EQ_U64(t.z.no_run_below, 81);
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 40, 32, TAG_USER, 0), 32);
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 12, 4, TAG_USER, 0), 20);
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 4, 1, TAG_USER, 0), 72);
    CHECK_EQ_U64(pmm_zone_free_count(&t.z), 0);
    CHECK_OK(&t);

    /* The last frames of a zone that ends inside a word. */
    tz_done(&t);
    tz_make(&t, 100, 0);
    pmm_zone_release(&t.z, 0, 100);
    fill(&t.z);
    CHECK_EQ_U64(pmm_zone_free_run(&t.z, 90, 10, &bad), PMM_OK);
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 11, 1, TAG_USER, 0), PMM_NO_FRAME);
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 10, 2, TAG_USER, 0), 90);
    CHECK_EQ_U64(pmm_zone_free_run(&t.z, 90, 10, &bad), PMM_OK);
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 4, 4, TAG_USER, 0), 96); /* the hint's word */
    CHECK_OK(&t);
    tz_done(&t);
}

static void test_runs_large(void)
{
    struct tz t;
    uint32_t bad;
    tz_make(&t, 4096, 0);
    pmm_zone_release(&t.z, 0, 4096);
    /* Through the empty summary: 4 whole words from an even word. */
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 100, 64, TAG_DMA, 0), 0);
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 100, 64, TAG_DMA, 0), 128);
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 1000, 1, TAG_DMA, 0), 256);
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 1, 1024, TAG_DMA, 0), 2048);
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 33, 1, TAG_DMA, 0), 2080);
    CHECK_OK(&t);
    CHECK_EQ_U64(pmm_zone_free_run(&t.z, 0, 100, &bad), PMM_OK);
    /* From the hint (word 66) on: the next 1024-aligned empty word. */
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 1, 1024, TAG_DMA, 0), 3072);
    CHECK_EQ_U64(pmm_zone_free_run(&t.z, 3072, 1, &bad), PMM_OK);
    CHECK_EQ_U64(pmm_zone_free_run(&t.z, 128, 100, &bad), PMM_OK);
    CHECK_EQ_U64(pmm_zone_free_run(&t.z, 256, 1000, &bad), PMM_OK);
    CHECK_EQ_U64(pmm_zone_free_run(&t.z, 2048, 1, &bad), PMM_OK);
    CHECK_EQ_U64(pmm_zone_free_run(&t.z, 2080, 33, &bad), PMM_OK);
    CHECK_EQ_U64(pmm_zone_free_count(&t.z), 4096);
    /* The whole zone, then one frame too many. */
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 4097, 1, TAG_DMA, 0), PMM_NO_FRAME);
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 4096, 4096, TAG_DMA, 0), 0);
    CHECK_EQ_U64(pmm_zone_free_run(&t.z, 0, 4096, &bad), PMM_OK);
    CHECK_OK(&t);

    /* Only the exact search sees a run that covers no 4 whole words. */
    fill(&t.z);
    CHECK_EQ_U64(pmm_zone_free_run(&t.z, 40, 100, &bad), PMM_OK);
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 100, 1, TAG_HEAP, 0), 40);
    CHECK_EQ_U64(pmm_zone_free_run(&t.z, 40, 100, &bad), PMM_OK);
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 64, 64, TAG_HEAP, 0), 64);
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 20, 2, TAG_HEAP, 0), 40);
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 12, 4, TAG_HEAP, 0), 128);
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 4, 1, TAG_HEAP, 0), 60);
    CHECK_EQ_U64(pmm_zone_free_count(&t.z), 0);
    CHECK_OK(&t);
    tz_done(&t);
}

static void test_runs_none_and_cache(void)
{
    struct tz t;
    uint32_t bad;
    tz_make(&t, 96, ALL);
    pmm_zone_release(&t.z, 0, 96);
    fill(&t.z);
    for (uint32_t f = 0; f < 96; f += 3)
        CHECK_EQ_U64(pmm_zone_free(&t.z, f), PMM_OK); /* free runs of 1 */
    uint64_t failed = t.z.failed_allocs;
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 2, 1, TAG_USER, 0), PMM_NO_FRAME);
    CHECK_EQ_U64(t.z.no_run_below, 2);
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 5, 1, TAG_USER, 0), PMM_NO_FRAME);
    CHECK_EQ_U64(t.z.failed_allocs, failed); /* the caller counts refusals */
    CHECK_OK(&t);
    /* Single frames still come; their free keeps the cache (runs of 1). */
    uint32_t p = pmm_zone_alloc_run(&t.z, 1, 2, TAG_USER, 0);
    CHECK(p != PMM_NO_FRAME && p % 6 == 0);
    CHECK_EQ_U64(pmm_zone_free(&t.z, p), PMM_OK);
    CHECK_EQ_U64(t.z.no_run_below, 2);
    /* Freeing frame 1 makes 0..1: forgotten, and the run is found. */
    CHECK_EQ_U64(pmm_zone_free(&t.z, 1), PMM_OK);
    CHECK_EQ_U64(t.z.no_run_below, 0);
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 2, 1, TAG_USER, 0), 0);
    CHECK_OK(&t);
    tz_done(&t);

    /* Runs of 3: a free that makes 2 keeps the cache, one that makes 4
     * clears it. */
    tz_make(&t, 96, ALL);
    pmm_zone_release(&t.z, 0, 96);
    fill(&t.z);
    for (uint32_t f = 0; f < 96; f += 3)
        pmm_zone_free(&t.z, f);
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 3, 1, TAG_USER, 0), PMM_NO_FRAME);
    CHECK_EQ_U64(t.z.no_run_below, 3);
    CHECK_EQ_U64(pmm_zone_free(&t.z, 1), PMM_OK);
    CHECK_EQ_U64(t.z.no_run_below, 3);
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 3, 1, TAG_USER, 0), PMM_NO_FRAME);
    CHECK_OK(&t);
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 2, 1, TAG_USER, 0), 0);
    CHECK_EQ_U64(pmm_zone_free_run(&t.z, 0, 2, &bad), PMM_OK);
    CHECK_EQ_U64(t.z.no_run_below, 3);
    CHECK_EQ_U64(pmm_zone_free(&t.z, 2), PMM_OK);
    CHECK_EQ_U64(t.z.no_run_below, 0);
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 3, 1, TAG_USER, 0), 0);
    /* An aligned failure, then unref-to-zero and release clear it. */
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 4, 4, TAG_USER, 0), PMM_NO_FRAME);
    CHECK_EQ_U64(t.z.no_run_below, 7);
    CHECK_OK(&t);
    bool freed = false;
    CHECK_EQ_U64(pmm_zone_free_run(&t.z, 0, 3, &bad), PMM_OK);
    CHECK_EQ_U64(t.z.no_run_below, 7); /* 0..3: 4 frames */
    CHECK_EQ_U64(pmm_zone_unref(&t.z, 4, &freed), PMM_OK);
    CHECK(freed);
    CHECK_EQ_U64(t.z.no_run_below, 7); /* 0..4: 5 frames */
    CHECK_EQ_U64(pmm_zone_free(&t.z, 5), PMM_OK);
    CHECK_EQ_U64(t.z.no_run_below, 0); /* 0..6: 7 frames */
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 4, 4, TAG_USER, 0), 0);
    CHECK_OK(&t);
    tz_done(&t);

    tz_make(&t, 64, 0);
    pmm_zone_release(&t.z, 0, 8);
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 9, 1, TAG_USER, 0), PMM_NO_FRAME); /* 9 > free */
    CHECK_EQ_U64(t.z.no_run_below, 0);
    pmm_zone_release(&t.z, 16, 8);
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 9, 1, TAG_USER, 0), PMM_NO_FRAME);
    CHECK_EQ_U64(t.z.no_run_below, 9);
    pmm_zone_release(&t.z, 8, 8);
    CHECK_EQ_U64(t.z.no_run_below, 0);
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 24, 1, TAG_USER, 0), 0);
    CHECK_OK(&t);
    tz_done(&t);
}

static void test_runs_bad_args(void)
{
    struct tz t;
    tz_make(&t, 64, ALL);
    pmm_zone_release(&t.z, 0, 64);
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 0, 1, TAG_USER, 0), PMM_NO_FRAME);
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 1, 0, TAG_USER, 0), PMM_NO_FRAME);
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 1, 3, TAG_USER, 0), PMM_NO_FRAME);
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 2, 6, TAG_USER, 0), PMM_NO_FRAME);
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 2, 1, TAG_FREE, 0), PMM_NO_FRAME);
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 65, 1, TAG_USER, 0), PMM_NO_FRAME);
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, UINT32_MAX, 1u << 31, TAG_USER, 0), PMM_NO_FRAME);
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 1, 1u << 31, TAG_USER, 0), 0);
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 1, 1u << 31, TAG_USER, 0), PMM_NO_FRAME);
    CHECK_EQ_U64(t.z.failed_allocs, 0);
    CHECK_EQ_U64(t.z.no_run_below, 1u << 31); /* no free run of 1 + 2^31 - 1 */
    CHECK_EQ_U64(pmm_zone_free_count(&t.z), 63);
    CHECK_OK(&t);
    tz_done(&t);
}

static void test_free_run_errors(void)
{
    struct tz t;
    uint32_t bad = 0;
    tz_make(&t, 64, ALL);
    pmm_zone_release(&t.z, 8, 48); /* 0..7 and 56..63 reserved */
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 8, 1, TAG_USER, 0), 8);
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 4, 1, TAG_USER, 0), 16);
    struct tz before;
    tz_clone(&before, &t);

    CHECK_EQ_U64(pmm_zone_free_run(&t.z, 8, 0, &bad), PMM_ERR_BAD_ARG);
    CHECK_EQ_U64(bad, 8);
    CHECK_EQ_U64(pmm_zone_free_run(&t.z, 60, 10, &bad), PMM_ERR_RESERVED);
    CHECK_EQ_U64(bad, 60);
    CHECK_EQ_U64(pmm_zone_free_run(&t.z, 50, 20, &bad), PMM_ERR_NOT_ALLOCATED);
    CHECK_EQ_U64(bad, 50);
    CHECK_EQ_U64(pmm_zone_free_run(&t.z, 16, 8, &bad), PMM_ERR_NOT_ALLOCATED);
    CHECK_EQ_U64(bad, 20);
    CHECK_EQ_U64(pmm_zone_free_run(&t.z, 4, 8, &bad), PMM_ERR_RESERVED);
    CHECK_EQ_U64(bad, 4);
    CHECK_EQ_U64(pmm_zone_free_run(&t.z, UINT32_MAX - 1, 5, &bad), PMM_ERR_RANGE);
    CHECK_EQ_U64(bad, UINT32_MAX - 1);
    CHECK_EQ_U64(pmm_zone_free_run(&t.z, 62, UINT32_MAX, &bad), PMM_ERR_RESERVED);
    CHECK_EQ_U64(bad, 62);
    CHECK_EQ_U64(pmm_zone_free_run(&t.z, 30, 2, NULL), PMM_ERR_NOT_ALLOCATED);
    CHECK_EQ_U64(pmm_zone_free_run(&t.z, 64, 1, &bad), PMM_ERR_RANGE);
    CHECK_EQ_U64(bad, 64);
    CHECK_EQ_U64(pmm_zone_ref(&t.z, 10), PMM_OK);
    CHECK_EQ_U64(pmm_zone_free_run(&t.z, 8, 8, &bad), PMM_ERR_SHARED);
    CHECK_EQ_U64(bad, 10);
    CHECK_EQ_U64(pmm_zone_unref(&t.z, 10, NULL), PMM_OK);
    CHECK_EQ_U64(t.z.bad_frees, 10);
    CHECK(memcmp(t.z.used, before.z.used, 8) == 0);
    CHECK(memcmp(t.z.records, before.z.records, 64 * sizeof(frame_record_t)) == 0);
    CHECK_EQ_U64(t.z.pinned[0], before.z.pinned[0]); /* ref and unref: back as it was */
    CHECK_EQ_U64(pmm_zone_free_count(&t.z), pmm_zone_free_count(&before.z));
    CHECK_OK(&t);
    /* A run that leaves the zone after allocated frames. */
    CHECK_EQ_U64(pmm_zone_free_run(&t.z, 8, 12, &bad), PMM_OK);
    CHECK_EQ_U64(pmm_zone_free_count(&t.z), 48);
    pmm_zone_release(&t.z, 0, 64);
    fill(&t.z);
    CHECK_EQ_U64(pmm_zone_free_run(&t.z, 60, 10, &bad), PMM_ERR_RANGE);
    CHECK_EQ_U64(bad, 64);
    CHECK_EQ_U64(pmm_zone_free_run(&t.z, 0, 64, &bad), PMM_OK);
    CHECK_EQ_U64(pmm_zone_free_count(&t.z), 64);
    CHECK_OK(&t);
    tz_done(&before);
    tz_done(&t);
}

/* Search 1 chooses: a run of 16 is a free half, even when the hint's word
 * holds 16 free frames across its halves; a shorter run fills the hint's
 * word first.  With the queue empty, a refusal is answered inline and
 * changes nothing. */
static void test_runs_search_one(void)
{
    struct tz t;
    uint32_t bad;
    tz_make(&t, 128, ALL);
    pmm_zone_release(&t.z, 0, 128);
    fill(&t.z);
    CHECK_EQ_U64(pmm_zone_free_run(&t.z, 36, 16, &bad), PMM_OK); /* across word 1's halves */
    CHECK_EQ_U64(pmm_zone_free_run(&t.z, 96, 16, &bad), PMM_OK); /* word 3's low half */
    t.z.hint = 1;
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 16, 1, TAG_DMA, 0), 96);
    CHECK_EQ_U64(t.z.hint, 3);
    /* No free half is left: the exact search finds the lowest run. */
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 12, 1, TAG_DMA, 0), 36);
    CHECK_EQ_U64(t.z.hint, 1);
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 4, 4, TAG_DMA, 0), 48); /* the hint's word */
    CHECK_EQ_U64(pmm_zone_free_count(&t.z), 0);
    /* Refused at once: more than is free, then a run known not to exist. */
    CHECK_EQ_U64(pmm_zone_free_run(&t.z, 40, 8, &bad), PMM_OK);
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 9, 1, TAG_DMA, 0), PMM_NO_FRAME);
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 8, 8, TAG_DMA, 0), 40);
    CHECK_EQ_U64(pmm_zone_free_run(&t.z, 42, 6, &bad), PMM_OK);
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 4, 4, TAG_DMA, 0), 44);
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 2, 4, TAG_DMA, 0), PMM_NO_FRAME);
    CHECK_EQ_U64(t.z.no_run_below, 5); /* 2 + 4 - 1 */
    CHECK_EQ_U64(t.z.queue_count, 0);
    uint64_t allocs = t.z.allocs;
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 6, 2, TAG_DMA, 0), PMM_NO_FRAME);
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 2, 1, TAG_DMA, 0), 42);
    CHECK_EQ_U64(t.z.allocs, allocs + 2);
    CHECK_EQ_U64(pmm_zone_free_count(&t.z), 0);
    CHECK_OK(&t);
    tz_done(&t);
}

int main(void)
{
    RUN(test_runs_basic);
    RUN(test_runs_below);
    RUN(test_runs_all_sizes);
    RUN(test_runs_word_boundaries);
    RUN(test_runs_search_one);
    RUN(test_runs_large);
    RUN(test_runs_none_and_cache);
    RUN(test_runs_bad_args);
    RUN(test_free_run_errors);
    return check_summary("pmm_zone_runs");
}
