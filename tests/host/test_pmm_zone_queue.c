/*
 * test_pmm_zone_queue.c - the queue of freed frames in front of the frame
 * zone's bitmap.
 *
 * A single free (pmm_zone_free, free_run of one frame, the unref of the
 * last reference) clears the frame's `used` bit and appends it to a ring
 * of PMM_QUEUE_FRAMES; a single allocation takes the oldest queued frame
 * (first in, first out), and only an empty queue sends it to the bitmap.
 * The summaries learn of queued frames when they are drained: the older
 * half when a free finds the queue full, all of them before anything
 * else reads or changes the bitmap through the summaries.  These tests
 * pin down the order, the half drain, what drains and what does not, and
 * that a queued frame is free for every other reader; then the case that
 * shaped the summary rule: a half drain recomputing a word that still has
 * queued frames.  The check's view of all this is test_pmm_zone_check.c.
 */
#include "pmm_zone_fixture.h"

/* ---- the queue -------------------------------------------------------------------------- */

/* A single free queues the frame; the next single allocation takes the
 * oldest queued frame back, whatever the hint says. */
static void test_queue_fifo(void)
{
    struct tz t;
    struct frame_info fi;
    tz_make(&t, 200, ALL);
    pmm_zone_release(&t.z, 0, 200);
    for (uint32_t i = 0; i < 100; i++)
        CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_HEAP, 0x100), i);
    CHECK_EQ_U64(t.z.hint, 3);
    CHECK_EQ_U64(t.z.queue_count, 0);

    /* Free then allocate: the same frame, tagged and owned anew. */
    t.z.epoch = 9;
    CHECK_EQ_U64(pmm_zone_free(&t.z, 50), PMM_OK);
    CHECK(queue_is(&t.z, (const uint32_t[]){50}, 1));
    CHECK_OK(&t);
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_STACK, 0x200), 50);
    CHECK_EQ_U64(t.z.queue_count, 0);
    CHECK_EQ_U64(t.z.hint, 3); /* taking from the queue leaves the hint */
    pmm_zone_query(&t.z, 50, &fi);
    CHECK_EQ_U64(fi.state, FRAME_ALLOCATED);
    CHECK_EQ_U64(fi.tag, TAG_STACK);
    CHECK_EQ_U64(fi.owner, 0x200);
    CHECK_EQ_U64(fi.refs, 1);
    CHECK_EQ_U64(fi.age, 0);
    CHECK_OK(&t);

    /* Several frees come back oldest first, across words. */
    CHECK_EQ_U64(pmm_zone_free(&t.z, 10), PMM_OK);
    CHECK_EQ_U64(pmm_zone_free(&t.z, 70), PMM_OK);
    CHECK_EQ_U64(pmm_zone_free(&t.z, 30), PMM_OK);
    CHECK_EQ_U64(pmm_zone_free(&t.z, 99), PMM_OK);
    CHECK(queue_is(&t.z, (const uint32_t[]){10, 70, 30, 99}, 4));
    CHECK_EQ_U64(pmm_zone_free_count(&t.z), 104);
    CHECK_EQ_U64(t.z.frees, 5);
    CHECK_OK(&t);
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_USER, 0), 10);
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_USER, 0), 70);
    CHECK(queue_is(&t.z, (const uint32_t[]){30, 99}, 2));
    CHECK_OK(&t);
    /* Interleaved: a free goes behind what is left. */
    CHECK_EQ_U64(pmm_zone_free(&t.z, 31), PMM_OK);
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_USER, 0), 30);
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_USER, 0), 99);
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_USER, 0), 31);
    /* The queue is empty: the bitmap path, from the hint's word. */
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_USER, 0), 100);
    CHECK_EQ_U64(t.z.allocs, 100 + 1 + 5 + 1);
    CHECK_OK(&t);

    /* free_run of one frame and an unref of the last reference are frees
     * too; a refused allocation takes nothing out of the queue. */
    uint32_t bad = 0;
    bool freed = false;
    CHECK_EQ_U64(pmm_zone_free_run(&t.z, 20, 1, &bad), PMM_OK);
    CHECK_EQ_U64(pmm_zone_ref(&t.z, 21), PMM_OK);
    CHECK_EQ_U64(pmm_zone_unref(&t.z, 21, &freed), PMM_OK);
    CHECK(!freed);
    CHECK_EQ_U64(pmm_zone_unref(&t.z, 21, &freed), PMM_OK);
    CHECK(freed);
    CHECK(queue_is(&t.z, (const uint32_t[]){20, 21}, 2));
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_FREE, 0), PMM_NO_FRAME);
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_COUNT, 0), PMM_NO_FRAME);
    CHECK_EQ_U64(t.z.queue_count, 2);
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_USER, 0), 20);
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_USER, 0), 21);
    CHECK_OK(&t);

    /* Round the ring many times: three frames in flight, each freed again
     * as soon as it comes back, keep their order (the head wraps from
     * PMM_QUEUE_FRAMES - 1 to 0 on the way). */
    for (uint32_t f = 40; f < 43; f++)
        CHECK_EQ_U64(pmm_zone_free(&t.z, f), PMM_OK);
    uint32_t wrong = 0;
    for (uint32_t i = 0; i < 3 * PMM_QUEUE_FRAMES + 1; i++) {
        uint32_t f = pmm_zone_alloc(&t.z, TAG_USER, 0);
        wrong += f != 40 + i % 3;
        wrong += pmm_zone_free(&t.z, f) != PMM_OK;
        wrong += t.z.queue_count != 3 || t.z.queue_head >= PMM_QUEUE_FRAMES;
    }
    CHECK_EQ_U64(wrong, 0);
    CHECK(queue_is(&t.z, (const uint32_t[]){41, 42, 40}, 3));
    CHECK_OK(&t);
    tz_done(&t);

    /* Without features, and the last free frame: it is queued, the zone
     * is not out of memory, and the allocation takes it. */
    tz_make(&t, 40, 0);
    pmm_zone_release(&t.z, 0, 40);
    fill(&t.z);
    CHECK_EQ_U64(pmm_zone_free(&t.z, 33), PMM_OK);
    CHECK_EQ_U64(pmm_zone_free_count(&t.z), 1);
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_USER, 0x55), 33);
    pmm_zone_query(&t.z, 33, &fi);
    CHECK_EQ_U64(fi.owner, 0);
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_USER, 0), PMM_NO_FRAME);
    CHECK_OK(&t);
    tz_done(&t);
}

/* A full queue drains its older half before the 65th frame joins it. */
static void test_queue_full(void)
{
    struct tz t;
    tz_make(&t, 200, ALL);
    pmm_zone_release(&t.z, 0, 200);
    for (uint32_t i = 0; i < 100; i++)
        pmm_zone_alloc(&t.z, TAG_HEAP, 0);
    uint32_t wrong = 0;
    for (uint32_t f = 0; f < PMM_QUEUE_FRAMES; f++) {
        wrong += pmm_zone_free(&t.z, f) != PMM_OK;
        wrong += t.z.queue_count != f + 1;
        wrong += pmm_zone_check(&t.z) != NULL;
    }
    CHECK_EQ_U64(wrong, 0);
    CHECK_EQ_U64(t.z.queue_count, PMM_QUEUE_FRAMES);
    /* Frames 0..63 are free (not freeable), but still in `used` while
     * queued, so the summaries count them used. */
    CHECK_EQ_U64(t.z.freeable[0] | t.z.freeable[1], 0);
    CHECK_EQ_U64(t.z.used[0] & t.z.used[1], 0xffffffffu);
    CHECK_EQ_U64(t.z.avail_l1[0] & 7, 0);
    CHECK_EQ_U64(t.z.empty_l1[0] & 7, 0);
    CHECK_OK(&t);

    /* The 65th free drains frees #1..#32 (frames 0..31, word 0) and
     * queues frame 64 behind #33..#64. */
    CHECK_EQ_U64(pmm_zone_free(&t.z, 64), PMM_OK);
    CHECK_EQ_U64(t.z.queue_count, PMM_QUEUE_FRAMES / 2 + 1);
    uint32_t want[PMM_QUEUE_FRAMES / 2 + 1];
    for (uint32_t i = 0; i <= PMM_QUEUE_FRAMES / 2; i++)
        want[i] = PMM_QUEUE_FRAMES / 2 + i;
    CHECK(queue_is(&t.z, want, PMM_QUEUE_FRAMES / 2 + 1));
    /* Word 0 (all drained) says free in all three summaries; word 1
     * (frames 32..63, all still queued) and word 2 (64 queued, the rest
     * allocated) still count them used. */
    CHECK_EQ_U64(t.z.avail_l1[0] & 7, 1);
    CHECK_EQ_U64(t.z.half_l1[0] & 7, 1);
    CHECK_EQ_U64(t.z.empty_l1[0] & 7, 1);
    CHECK_EQ_U64(t.z.avail_l2[0] & 1, 1);
    CHECK_EQ_U64(pmm_zone_free_count(&t.z), 100 + 65);
    CHECK_EQ_U64(t.z.frees, 65);
    CHECK_OK(&t);

    /* Allocating: the 33 still queued, oldest first; then the bitmap from
     * the hint's word (3) on: 100..199, and only then, wrapping, the
     * drained frames 0..31, found through the summary the drain set. */
    wrong = 0;
    for (uint32_t i = 0; i < 33 + 100 + 32; i++) {
        uint32_t want_f = i < 33 ? 32 + i : i < 133 ? 100 + (i - 33) : i - 133;
        uint32_t f = pmm_zone_alloc(&t.z, TAG_USER, 0);
        if (f != want_f) {
            wrong++;
            fprintf(stderr, "    allocation %u: frame %u, wanted %u\n", i, f, want_f);
        }
        wrong += pmm_zone_check(&t.z) != NULL;
    }
    CHECK_EQ_U64(wrong, 0);
    CHECK_EQ_U64(pmm_zone_free_count(&t.z), 0);
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_USER, 0), PMM_NO_FRAME);
    CHECK_OK(&t);

    /* Draining by hand: the summaries are exact, nothing else changes. */
    CHECK_EQ_U64(pmm_zone_free(&t.z, 65), PMM_OK);
    uint32_t free_before = pmm_zone_free_count(&t.z);
    CHECK_EQ_U64(t.z.avail_l1[0] & 4, 0);
    pmm_zone_drain_queue(&t.z);
    CHECK_EQ_U64(t.z.queue_count, 0);
    CHECK_EQ_U64(pmm_zone_free_count(&t.z), free_before);
    CHECK_EQ_U64(t.z.avail_l1[0] & 4, 4);
    pmm_zone_drain_queue(&t.z); /* an empty queue: nothing to do */
    CHECK_EQ_U64(t.z.queue_count, 0);
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_USER, 0), 65);
    CHECK_OK(&t);
    tz_done(&t);
}

/* A queue kept busy holds 33 to 64 frames: freeing 200 frames in a row,
 * every 32nd free past the 64th drains the older half again, and the
 * queue is always the newest frees in order. */
static void test_queue_busy(void)
{
    struct tz t;
    tz_make(&t, 200, 0);
    pmm_zone_release(&t.z, 0, 200);
    fill(&t.z);
    uint32_t wrong = 0;
    for (uint32_t k = 1; k <= 200; k++) {
        uint32_t want = k <= PMM_QUEUE_FRAMES ? k : 33 + (k - 65) % 32;
        wrong += pmm_zone_free(&t.z, k - 1) != PMM_OK;
        wrong += t.z.queue_count != want;
        for (uint32_t i = 0; i < t.z.queue_count; i++)
            wrong += queue_at(&t.z, i) != k - t.z.queue_count + i;
        wrong += pmm_zone_check(&t.z) != NULL;
    }
    CHECK_EQ_U64(wrong, 0);
    CHECK_EQ_U64(t.z.queue_count, 40); /* 200 = 64 + 4 * 32 + 8 */
    CHECK_EQ_U64(pmm_zone_free_count(&t.z), 200);
    CHECK_OK(&t);
    tz_done(&t);
}

/* A queued frame is free for everyone who asks: double frees, references
 * and queries see a free frame; scans count it free. */
static void test_queue_is_free(void)
{
    struct tz t, before;
    struct frame_info fi;
    struct frame_summary s;
    bool freed = true;
    uint32_t bad = 0;
    tz_make(&t, 100, ALL);
    pmm_zone_release(&t.z, 0, 96); /* 96..99 reserved */
    t.z.epoch = 3;
    fill(&t.z);
    CHECK_EQ_U64(pmm_zone_ref(&t.z, 41), PMM_OK);
    CHECK_EQ_U64(pmm_zone_unref(&t.z, 41, NULL), PMM_OK); /* one reference again */
    CHECK_EQ_U64(pmm_zone_free(&t.z, 40), PMM_OK);
    CHECK_EQ_U64(pmm_zone_free(&t.z, 41), PMM_OK);
    CHECK_EQ_U64(pmm_zone_free(&t.z, 7), PMM_OK);
    tz_clone(&before, &t);

    CHECK_EQ_U64(pmm_zone_free(&t.z, 41), PMM_ERR_NOT_ALLOCATED);
    CHECK_EQ_U64(pmm_zone_free_run(&t.z, 7, 1, &bad), PMM_ERR_NOT_ALLOCATED);
    CHECK_EQ_U64(bad, 7);
    CHECK_EQ_U64(pmm_zone_free_run(&t.z, 39, 3, &bad), PMM_ERR_NOT_ALLOCATED);
    CHECK_EQ_U64(bad, 40);
    CHECK_EQ_U64(pmm_zone_ref(&t.z, 40), PMM_ERR_NOT_ALLOCATED);
    CHECK_EQ_U64(pmm_zone_unref(&t.z, 41, &freed), PMM_ERR_NOT_ALLOCATED);
    CHECK(!freed);
    CHECK_EQ_U64(t.z.bad_frees, before.z.bad_frees + 4);
    /* Nothing changed: the queue, the bitmaps, the counters. */
    CHECK(queue_is(&t.z, (const uint32_t[]){40, 41, 7}, 3));
    CHECK(memcmp(t.z.used, before.z.used, 16) == 0);
    CHECK(memcmp(t.z.pinned, before.z.pinned, 16) == 0);
    CHECK(memcmp(t.z.avail_l1, before.z.avail_l1, 4) == 0);
    CHECK_EQ_U64(pmm_zone_free_count(&t.z), 3);
    CHECK_EQ_U64(t.z.frees, before.z.frees);
    CHECK_OK(&t);

    pmm_zone_query(&t.z, 41, &fi);
    CHECK_EQ_U64(fi.state, FRAME_FREE);
    CHECK_EQ_U64(fi.tag, TAG_FREE);
    CHECK_EQ_U64(fi.refs, 0);
    CHECK_EQ_U64(fi.owner, 0);
    CHECK_EQ_U64(fi.age, 0);
    CHECK_EQ_U64(fi.queued, 2); /* its place in the queue: 40, 41, 7 */
    pmm_zone_query(&t.z, 40, &fi);
    CHECK_EQ_U64(fi.queued, 1);
    pmm_zone_query(&t.z, 7, &fi);
    CHECK_EQ_U64(fi.queued, 3);
    pmm_zone_query(&t.z, 42, &fi); /* allocated */
    CHECK_EQ_U64(fi.queued, 0);
    pmm_zone_summarize(&t.z, 0, 100, 100, &s);
    CHECK_EQ_U64(s.free, 3);
    CHECK_EQ_U64(s.allocated, 93);
    CHECK_EQ_U64(s.reserved, 4);
    CHECK_EQ_U64(s.max_refs, 1);
    pmm_zone_summarize(&t.z, 40, 2, 2, &s);
    CHECK_EQ_U64(s.free, 2);
    CHECK_EQ_U64(s.tag, TAG_FREE);
    CHECK_EQ_U64(s.youngest, 0xff);
    CHECK_EQ_U64(pmm_zone_count_tag(&t.z, TAG_USER), 93);
    CHECK_EQ_U64(pmm_zone_count_tag(&t.z, TAG_FREE), 3);
    uint32_t first = 0;
    CHECK_EQ_U64(pmm_zone_largest_free_run(&t.z, &first), 2);
    CHECK_EQ_U64(first, 40);
    /* Ages: a queued frame is not clamped (its epoch is stale). */
    t.z.epoch = 3 + 100;
    pmm_zone_clamp_ages(&t.z, 10);
    CHECK_EQ_U64(rec_epoch(t.z.records[41]), 3);
    CHECK_EQ_U64(rec_epoch(t.z.records[42]), 3 + 100 - 10);
    CHECK_OK(&t);
    /* Taken out of the queue, it has one reference, whatever refs[]
     * held. */
    t.z.refs[41] = 77;
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_USER, 0), 40);
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_USER, 0), 41);
    pmm_zone_query(&t.z, 41, &fi);
    CHECK_EQ_U64(fi.refs, 1);
    CHECK_EQ_U64(fi.age, 0);
    CHECK_EQ_U64(pmm_zone_free(&t.z, 41), PMM_OK);
    CHECK_OK(&t);
    tz_done(&before);
    tz_done(&t);
}

/* Every path but single frames drains the whole queue first (the
 * summaries must be exact for it), even when it then refuses its
 * arguments. */
static void test_queue_drains(void)
{
    struct tz t;
    uint32_t bad = 0;
    tz_make(&t, 128, ALL);
    pmm_zone_release(&t.z, 0, 128);

    /* Everything allocated, then 40, 90 and 41 freed: queued, oldest 40. */
#define QUEUE3()                                                                      \
    do {                                                                              \
        fill(&t.z);                                                                   \
        CHECK_EQ_U64(pmm_zone_free(&t.z, 40), PMM_OK);                                \
        CHECK_EQ_U64(pmm_zone_free(&t.z, 90), PMM_OK);                                \
        CHECK_EQ_U64(pmm_zone_free(&t.z, 41), PMM_OK);                                \
        CHECK(queue_is(&t.z, (const uint32_t[]){40, 90, 41}, 3));                     \
    } while (0)
#define DRAINED()                                                                     \
    do {                                                                              \
        CHECK_EQ_U64(t.z.queue_count, 0);                                             \
        CHECK_OK(&t);                                                                 \
    } while (0)

    /* alloc_run finds a run made of just-freed frames (40..41). */
    QUEUE3();
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 2, 2, TAG_DMA, 0), 40);
    DRAINED();
    /* A refused one drains too: bad arguments, more frames than are free. */
    QUEUE3();
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 0, 1, TAG_DMA, 0), PMM_NO_FRAME);
    DRAINED();
    QUEUE3();
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 2, 1, TAG_COUNT, 0), PMM_NO_FRAME);
    DRAINED();
    QUEUE3();
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 4, 1, TAG_DMA, 0), PMM_NO_FRAME);
    DRAINED();
    /* One frame, alignment 1, is a single allocation, but after the
     * drain: the bitmap's lowest frames from the hint's word on (40, 41,
     * 90), not the queue's order (40, 90, 41). */
    QUEUE3();
    CHECK_EQ_U64(t.z.hint, 1);
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 1, 1, TAG_DMA, 0), 40);
    DRAINED();
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 1, 1, TAG_DMA, 0), 41);
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 1, 1, TAG_DMA, 0), 90);
    CHECK_EQ_U64(pmm_zone_free_count(&t.z), 0);
    /* alloc_run_below, with a limit inside the zone and past it (there it
     * is alloc_run, whose single frame comes from the hint's word, 2). */
    QUEUE3();
    CHECK_EQ_U64(pmm_zone_alloc_run_below(&t.z, 2, 1, 64, TAG_DMA, 0), 40);
    DRAINED();
    QUEUE3();
    CHECK_EQ_U64(pmm_zone_alloc_run_below(&t.z, 1, 1, 40, TAG_DMA, 0), PMM_NO_FRAME);
    DRAINED();
    QUEUE3();
    CHECK_EQ_U64(pmm_zone_alloc_run_below(&t.z, 0, 1, 64, TAG_DMA, 0), PMM_NO_FRAME);
    DRAINED();
    QUEUE3();
    CHECK_EQ_U64(t.z.hint, 2);
    CHECK_EQ_U64(pmm_zone_alloc_run_below(&t.z, 1, 1, 128, TAG_DMA, 0), 90);
    DRAINED();
    QUEUE3();
    CHECK_EQ_U64(pmm_zone_alloc_run_below(&t.z, 2, 2, 1000, TAG_DMA, 0), 40);
    DRAINED();
    /* reserve and release, even over nothing, past the zone, or count 0. */
    QUEUE3();
    CHECK_EQ_U64(pmm_zone_reserve(&t.z, 40, 1, TAG_KERNEL), 0);
    DRAINED();
    CHECK_EQ_U64(pmm_zone_free_count(&t.z), 2);
    fill(&t.z);
    CHECK_EQ_U64(pmm_zone_free(&t.z, 90), PMM_OK);
    pmm_zone_release(&t.z, 40, 1);
    DRAINED();
    CHECK_EQ_U64(pmm_zone_free_count(&t.z), 2);
    QUEUE3();
    CHECK_EQ_U64(pmm_zone_reserve(&t.z, 500, 10, TAG_KERNEL), 0);
    DRAINED();
    QUEUE3();
    CHECK_EQ_U64(pmm_zone_reserve(&t.z, 10, 0, TAG_KERNEL), 0);
    DRAINED();
    QUEUE3();
    pmm_zone_release(&t.z, 0, 0);
    DRAINED();
    QUEUE3();
    pmm_zone_release(&t.z, UINT32_MAX, 1);
    DRAINED();
    /* free_run of more than one frame drains once its checks pass; a
     * refused one (or count 0) leaves the queue alone. */
    QUEUE3();
    CHECK_EQ_U64(pmm_zone_free_run(&t.z, 100, 4, &bad), PMM_OK);
    DRAINED();
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 4, 4, TAG_USER, 0), 100);
    QUEUE3();
    CHECK_EQ_U64(pmm_zone_free_run(&t.z, 88, 4, &bad), PMM_ERR_NOT_ALLOCATED);
    CHECK_EQ_U64(bad, 90);
    CHECK_EQ_U64(pmm_zone_free_run(&t.z, 120, 10, &bad), PMM_ERR_RANGE);
    CHECK_EQ_U64(bad, 128);
    CHECK_EQ_U64(pmm_zone_free_run(&t.z, 50, 0, &bad), PMM_ERR_BAD_ARG);
    CHECK(queue_is(&t.z, (const uint32_t[]){40, 90, 41}, 3));
    CHECK_OK(&t);
    /* ref, unref, query, summarize, the scans and the check do not drain. */
    struct frame_info fi;
    struct frame_summary s;
    CHECK_EQ_U64(pmm_zone_ref(&t.z, 50), PMM_OK);
    CHECK_EQ_U64(pmm_zone_unref(&t.z, 50, NULL), PMM_OK);
    pmm_zone_query(&t.z, 40, &fi);
    pmm_zone_summarize(&t.z, 0, 128, 16, &s);
    pmm_zone_largest_free_run(&t.z, NULL);
    pmm_zone_count_tag(&t.z, TAG_USER);
    pmm_zone_clamp_ages(&t.z, 3);
    CHECK_EQ_U64(t.z.queue_count, 3);
    CHECK_OK(&t);
    /* The whole queue, not its older half: 40 frames. */
    fill(&t.z);
    for (uint32_t f = 0; f < 40; f++)
        CHECK_EQ_U64(pmm_zone_free(&t.z, f), PMM_OK);
    CHECK_EQ_U64(t.z.queue_count, 40);
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 40, 1, TAG_DMA, 0), 0);
    DRAINED();
#undef QUEUE3
#undef DRAINED
    tz_done(&t);
}

/* The negative run cache counts queued frames as free. */
static void test_queue_and_cache(void)
{
    struct tz t;
    tz_make(&t, 64, 0);
    pmm_zone_release(&t.z, 0, 64);
    fill(&t.z);
    for (uint32_t f = 0; f < 64; f += 4)
        CHECK_EQ_U64(pmm_zone_free(&t.z, f), PMM_OK);
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 3, 1, TAG_USER, 0), PMM_NO_FRAME);
    CHECK_EQ_U64(t.z.no_run_below, 3);
    CHECK_EQ_U64(t.z.queue_count, 0);
    CHECK_EQ_U64(pmm_zone_free(&t.z, 9), PMM_OK); /* 8..9: 2 */
    CHECK_EQ_U64(t.z.no_run_below, 3);
    CHECK_EQ_U64(pmm_zone_free(&t.z, 10), PMM_OK); /* 8..10: 3, 9 still queued */
    CHECK_EQ_U64(t.z.no_run_below, 0);
    CHECK_EQ_U64(t.z.queue_count, 2);
    CHECK_OK(&t);
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 3, 1, TAG_USER, 0), 8);
    CHECK_OK(&t);
    tz_done(&t);
}

/* ---- the half drain and shared words ---------------------------------------------------- */

/* A frame-by-frame picture of the zone kept by the test (true: free), to
 * say what each allocation may return; compared with pmm_zone_query and
 * the free counter before every step. */
struct shadow {
    bool free[256];
    uint32_t free_count;
};

static bool shadow_matches(const struct tz *t, const struct shadow *s)
{
    for (uint32_t f = 0; f < 256; f++)
        if ((state_of(&t->z, f) == FRAME_FREE) != s->free[f])
            return false;
    return pmm_zone_free_count(&t->z) == s->free_count;
}

static void shadow_free(struct shadow *s, uint32_t f)
{
    s->free[f] = true;
    s->free_count++;
}

/* One allocation, checked: the frame it returns was free (and is not
 * now), or it returns none and none was free; the zone passes its check
 * after.  Counts what went wrong into *wrong. */
static uint32_t alloc_checked(struct tz *t, struct shadow *s, uint32_t *wrong)
{
    *wrong += !shadow_matches(t, s);
    uint32_t f = pmm_zone_alloc(&t->z, TAG_USER, 0);
    if (f == PMM_NO_FRAME) {
        *wrong += s->free_count != 0 || pmm_zone_free_count(&t->z) != 0;
    } else if (f >= 256 || !s->free[f]) {
        (*wrong)++;
        fprintf(stderr, "    allocated frame %u, which was not free\n", f);
    } else {
        s->free[f] = false;
        s->free_count--;
    }
    *wrong += pmm_zone_check(&t->z) != NULL;
    return f;
}

/*
 * Frees that share words, in a round robin over 8 words (frame 32 * w + k
 * for k = 0, 1, ... and w = 0..7), so every half drain takes frames out of
 * `used` in words that still have frames queued.  After 129 frees, the
 * third half drain has freed each word's frames 0..11 in `used` while its
 * frames 12..15 are queued: the lower half is free for the allocator's
 * readers but not yet for the bitmap search, and the half summary says
 * so.  Then everything is allocated again: the queue's frames in order,
 * then the bitmap's, each one free until then, the check passing after
 * every step, and the free count reaching 0 with the last free frame.
 */
static void test_queue_half_drain_shared_words(void)
{
    struct tz t;
    struct shadow s = {{false}, 0};
    uint32_t wrong = 0;
    tz_make(&t, 256, 0);
    pmm_zone_release(&t.z, 0, 256);
    fill(&t.z);
    for (uint32_t i = 0; i < 132; i++) {
        uint32_t f = (i % 8) * 32 + i / 8;
        wrong += pmm_zone_free(&t.z, f) != PMM_OK;
        shadow_free(&s, f);
        wrong += !shadow_matches(&t, &s);
        wrong += pmm_zone_check(&t.z) != NULL;
    }
    CHECK_EQ_U64(wrong, 0);
    /* Drains at frees #65, #97 and #129: the queue holds #97..#132. */
    CHECK_EQ_U64(t.z.queue_count, 36);
    CHECK_EQ_U64(queue_at(&t.z, 0), 12);      /* #97: word 0, frame 12 */
    CHECK_EQ_U64(queue_at(&t.z, 35), 96 + 16); /* #132: word 3, frame 16 */
    for (uint32_t w = 0; w < 8; w++) {
        CHECK(summary_bit(t.z.avail_l1, w));   /* 0..11 out of `used` */
        CHECK(!summary_bit(t.z.half_l1, w));   /* 12..15 queued: still in it */
        CHECK(!summary_bit(t.z.empty_l1, w));
    }
    CHECK_OK(&t);

    /* The queue's 36 frames come back in order, changing no summary. */
    uint32_t queued_before[36];
    for (uint32_t i = 0; i < 36; i++)
        queued_before[i] = queue_at(&t.z, i);
    for (uint32_t i = 0; i < 36; i++) {
        uint32_t f = alloc_checked(&t, &s, &wrong);
        wrong += f != queued_before[i];
    }
    CHECK_EQ_U64(wrong, 0);
    CHECK_EQ_U64(t.z.queue_count, 0);
    for (uint32_t w = 0; w < 8; w++)
        CHECK(!summary_bit(t.z.half_l1, w));
    /* The bitmap: frames 0..11 of every word (96), then nothing. */
    uint32_t n = 0;
    while (alloc_checked(&t, &s, &wrong) != PMM_NO_FRAME)
        n++;
    CHECK_EQ_U64(n, 96);
    CHECK_EQ_U64(wrong, 0);
    CHECK_EQ_U64(pmm_zone_free_count(&t.z), 0);
    CHECK_EQ_U64(s.free_count, 0);
    CHECK_OK(&t);

    /* The same zone under a seeded mix of single frees (which keep the
     * queue turning and half-draining over shared words), single
     * allocations, and now and then a run of two (which drains all). */
    uint32_t seed = 12345, runs = 0;
    for (uint32_t step = 0; step < 3000; step++) {
        seed = seed * 1103515245u + 12345u;
        uint32_t r = seed >> 8, f = r % 256;
        if (r % 97 == 0) {
            uint32_t p = pmm_zone_alloc_run(&t.z, 2, 1, TAG_DMA, 0);
            if (p != PMM_NO_FRAME) {
                wrong += p >= 255 || !s.free[p] || !s.free[p + 1];
                s.free[p] = s.free[p + 1] = false;
                s.free_count -= 2;
                runs++;
            }
            wrong += pmm_zone_check(&t.z) != NULL;
        } else if ((r >> 12) % 8 < 5 && !s.free[f]) {
            wrong += pmm_zone_free(&t.z, f) != PMM_OK;
            shadow_free(&s, f);
        } else if ((r >> 12) % 8 >= 5) {
            alloc_checked(&t, &s, &wrong);
        }
    }
    CHECK_EQ_U64(wrong, 0);
    CHECK(runs > 0);
    CHECK(shadow_matches(&t, &s));
    CHECK_OK(&t);
    tz_done(&t);
}

int main(void)
{
    RUN(test_queue_fifo);
    RUN(test_queue_full);
    RUN(test_queue_busy);
    RUN(test_queue_is_free);
    RUN(test_queue_drains);
    RUN(test_queue_and_cache);
    RUN(test_queue_half_drain_shared_words);
    return check_summary("pmm_zone_queue");
}
