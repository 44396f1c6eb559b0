/*
 * test_pmm_zone_records.c - what the frame zone remembers about each frame
 * and reports: reference counts (kept only while a frame is pinned), the
 * features that turn refcounts and owners off, tags that are not tags,
 * pmm_zone_query and the counts, the longest free run, the frame grid's
 * summaries and ages, and the owner table (the 768th owner, the one after
 * it, which allocations register an owner).
 *
 * Building, single frames and runs are test_pmm_zone.c; the queue of freed
 * frames is test_pmm_zone_queue.c; pmm_zone_check is test_pmm_zone_check.c.
 */
#include "pmm_zone_fixture.h"

/* ---- what frames record: references, features, tags ---------------------------------- */

static void test_refs(void)
{
    struct tz t;
    tz_make(&t, 40, ALL);
    pmm_zone_release(&t.z, 1, 38);
    uint32_t a = pmm_zone_alloc(&t.z, TAG_USER, 1);
    bool freed = true;
    CHECK_EQ_U64(pmm_zone_ref(&t.z, 0), PMM_ERR_RESERVED);
    CHECK_EQ_U64(pmm_zone_ref(&t.z, 40), PMM_ERR_RANGE);
    CHECK_EQ_U64(pmm_zone_ref(&t.z, 20), PMM_ERR_NOT_ALLOCATED);
    CHECK_EQ_U64(pmm_zone_unref(&t.z, 0, &freed), PMM_ERR_RESERVED);
    CHECK(!freed);
    CHECK_EQ_U64(pmm_zone_unref(&t.z, 40, &freed), PMM_ERR_RANGE);
    CHECK_EQ_U64(pmm_zone_unref(&t.z, 20, NULL), PMM_ERR_NOT_ALLOCATED);
    CHECK_EQ_U64(t.z.bad_frees, 3);

    /* Up to the maximum, one more overflows, down again to zero. */
    uint32_t ok = 0;
    for (uint32_t i = 1; i < PMM_REF_MAX; i++)
        ok += pmm_zone_ref(&t.z, a) == PMM_OK;
    CHECK_EQ_U64(ok, PMM_REF_MAX - 1);
    struct frame_info fi;
    pmm_zone_query(&t.z, a, &fi);
    CHECK_EQ_U64(fi.refs, PMM_REF_MAX);
    CHECK_EQ_U64(pmm_zone_ref(&t.z, a), PMM_ERR_REF_OVERFLOW);
    pmm_zone_query(&t.z, a, &fi);
    CHECK_EQ_U64(fi.refs, PMM_REF_MAX);
    CHECK_EQ_U64(pmm_zone_free(&t.z, a), PMM_ERR_SHARED);
    CHECK_OK(&t);
    ok = 0;
    for (uint32_t i = 1; i < PMM_REF_MAX; i++) {
        ok += pmm_zone_unref(&t.z, a, &freed) == PMM_OK && !freed;
    }
    CHECK_EQ_U64(ok, PMM_REF_MAX - 1);
    CHECK_EQ_U64(state_of(&t.z, a), FRAME_ALLOCATED);
    CHECK_EQ_U64(pmm_zone_unref(&t.z, a, &freed), PMM_OK);
    CHECK(freed);
    CHECK_EQ_U64(state_of(&t.z, a), FRAME_FREE);
    CHECK_EQ_U64(pmm_zone_free_count(&t.z), 38);
    CHECK_EQ_U64(t.z.frees, 1);
    CHECK_EQ_U64(pmm_zone_unref(&t.z, a, &freed), PMM_ERR_NOT_ALLOCATED);
    CHECK(!freed);
    CHECK_OK(&t);
    tz_done(&t);
}

static void test_features_off(void)
{
    struct tz t;
    tz_make(&t, 40, 0);
    pmm_zone_release(&t.z, 0, 40);
    uint32_t a = pmm_zone_alloc(&t.z, TAG_DMA, 0x1234);
    bool freed = true;
    CHECK_EQ_U64(pmm_zone_ref(&t.z, a), PMM_ERR_BAD_ARG);
    CHECK_EQ_U64(pmm_zone_unref(&t.z, a, &freed), PMM_ERR_BAD_ARG);
    CHECK(!freed);
    struct frame_info fi;
    CHECK_FRAME(&t.z, a, FRAME_ALLOCATED, TAG_DMA, 1, 0);
    CHECK_EQ_U64(pmm_zone_free(&t.z, a), PMM_OK);
    CHECK_OK(&t);
    tz_done(&t);

    /* Owners without refs, and refs without owners. */
    tz_make(&t, 40, PMM_FEAT_OWNERS);
    pmm_zone_release(&t.z, 0, 40);
    a = pmm_zone_alloc(&t.z, TAG_DMA, 0x1234);
    pmm_zone_query(&t.z, a, &fi);
    CHECK_EQ_U64(fi.owner, 0x1234);
    CHECK_EQ_U64(fi.refs, 1);
    CHECK_EQ_U64(pmm_zone_ref(&t.z, a), PMM_ERR_BAD_ARG);
    CHECK_OK(&t);
    tz_done(&t);
    tz_make(&t, 40, PMM_FEAT_REFS);
    pmm_zone_release(&t.z, 0, 40);
    a = pmm_zone_alloc(&t.z, TAG_DMA, 0x1234);
    CHECK_EQ_U64(pmm_zone_ref(&t.z, a), PMM_OK);
    pmm_zone_query(&t.z, a, &fi);
    CHECK_EQ_U64(fi.owner, 0);
    CHECK_EQ_U64(fi.refs, 2);
    CHECK_OK(&t);
    tz_done(&t);
}

/* refs[] counts only while a frame is pinned: back to one reference, the
 * pin goes and whatever refs[] holds is no longer read. */
static void test_refs_pinned(void)
{
    struct tz t;
    struct frame_info fi;
    bool freed = true;
    tz_make(&t, 64, ALL);
    pmm_zone_release(&t.z, 0, 64);
    uint32_t a = pmm_zone_alloc(&t.z, TAG_USER, 0);
    CHECK_EQ_U64(t.z.pinned[0] & 1u << a, 0);
    CHECK_EQ_U64(pmm_zone_ref(&t.z, a), PMM_OK);
    CHECK_EQ_U64(t.z.pinned[0] & 1u << a, 1u << a);
    CHECK_EQ_U64(t.z.refs[a], 2);
    CHECK_EQ_U64(pmm_zone_ref(&t.z, a), PMM_OK);
    pmm_zone_query(&t.z, a, &fi);
    CHECK_EQ_U64(fi.refs, 3);
    CHECK_EQ_U64(pmm_zone_unref(&t.z, a, &freed), PMM_OK);
    CHECK(!freed);
    CHECK_EQ_U64(t.z.pinned[0] & 1u << a, 1u << a);
    CHECK_EQ_U64(pmm_zone_unref(&t.z, a, &freed), PMM_OK);
    CHECK(!freed);
    CHECK_EQ_U64(t.z.pinned[0] & 1u << a, 0); /* unpinned: a plain free works */
    CHECK_OK(&t);
    /* refs[] is stale now, and not read. */
    t.z.refs[a] = 40000;
    pmm_zone_query(&t.z, a, &fi);
    CHECK_EQ_U64(fi.refs, 1);
    CHECK_OK(&t);
    CHECK_EQ_U64(pmm_zone_ref(&t.z, a), PMM_OK); /* 1 + 1, not 40000 + 1 */
    pmm_zone_query(&t.z, a, &fi);
    CHECK_EQ_U64(fi.refs, 2);
    CHECK_EQ_U64(pmm_zone_unref(&t.z, a, NULL), PMM_OK);
    t.z.refs[a] = 0;
    CHECK_EQ_U64(pmm_zone_unref(&t.z, a, &freed), PMM_OK);
    CHECK(freed);
    CHECK_OK(&t);

    /* A fresh allocation writes no refcount: 1, whatever refs[] held. */
    t.z.refs[a] = 9;
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_USER, 0), a);
    pmm_zone_query(&t.z, a, &fi);
    CHECK_EQ_U64(fi.refs, 1);
    CHECK_EQ_U64(pmm_zone_free(&t.z, a), PMM_OK);

    /* A shared frame reserved over stays pinned (as reserved), and is
     * neither shared nor counted once released and allocated again. */
    uint32_t b = pmm_zone_alloc_run(&t.z, 2, 2, TAG_USER, 0);
    CHECK_EQ_U64(pmm_zone_ref(&t.z, b + 1), PMM_OK);
    CHECK_EQ_U64(pmm_zone_reserve(&t.z, b, 2, TAG_KERNEL), 2);
    pmm_zone_query(&t.z, b + 1, &fi);
    CHECK_EQ_U64(fi.state, FRAME_RESERVED);
    CHECK_EQ_U64(fi.refs, 0);
    CHECK_EQ_U64(pmm_zone_ref(&t.z, b + 1), PMM_ERR_RESERVED);
    CHECK_OK(&t);
    pmm_zone_release(&t.z, b, 2);
    CHECK_EQ_U64(t.z.pinned[0] & 3u << b, 0);
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 2, 2, TAG_USER, 0), b);
    pmm_zone_query(&t.z, b + 1, &fi);
    CHECK_EQ_U64(fi.refs, 1);
    CHECK_EQ_U64(pmm_zone_free(&t.z, b + 1), PMM_OK);
    CHECK_OK(&t);
    tz_done(&t);
}

/* Tags past the last one: refused by allocations (they would not mean
 * anything, and 16 and up would not fit in a record), stored as
 * TAG_RESERVED by reservations. */
static void test_bad_tags(void)
{
    struct tz t;
    tz_make(&t, 64, ALL);
    pmm_zone_release(&t.z, 0, 64);
    static const uint8_t bad[] = {TAG_COUNT, 14, 15, 16, 17, 200, 255};
    for (size_t i = 0; i < sizeof(bad); i++) {
        CHECK_EQ_U64(pmm_zone_alloc(&t.z, bad[i], 1), PMM_NO_FRAME);
        CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 1, 1, bad[i], 1), PMM_NO_FRAME);
        CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 3, 2, bad[i], 1), PMM_NO_FRAME);
        CHECK_EQ_U64(pmm_zone_alloc_run_below(&t.z, 2, 1, 32, bad[i], 1), PMM_NO_FRAME);
    }
    CHECK_EQ_U64(t.z.failed_allocs, 0); /* refusals: counted by the caller (pmm.c) */
    CHECK_EQ_U64(pmm_zone_allocated_count(&t.z), 0);
    CHECK_EQ_U64(t.z.owner_count, 0);
    CHECK_EQ_U64(t.z.no_run_below, 0);
    CHECK_OK(&t);
    /* The last tag there is still works. */
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_COUNT - 1, 1), 0);
    CHECK_EQ_U64(tag_of(&t.z, 0), TAG_COUNT - 1);
    /* Reservations: a tag that is not one becomes TAG_RESERVED. */
    for (size_t i = 0; i < sizeof(bad); i++) {
        CHECK_EQ_U64(pmm_zone_reserve(&t.z, 10 + (uint32_t)i, 1, bad[i]), 0);
        CHECK_EQ_U64(tag_of(&t.z, 10 + (uint32_t)i), TAG_RESERVED);
        CHECK_EQ_U64(rec_tag(t.z.records[10 + i]), TAG_RESERVED);
    }
    CHECK_EQ_U64(pmm_zone_reserve(&t.z, 20, 1, TAG_GUARD), 0);
    CHECK_EQ_U64(tag_of(&t.z, 20), TAG_GUARD);
    CHECK_EQ_U64(pmm_zone_count_tag(&t.z, TAG_RESERVED), sizeof(bad));
    CHECK_OK(&t);
    tz_done(&t);
}

/* ---- reading a zone ------------------------------------------------------------------ */

static void test_query_and_counts(void)
{
    struct tz t;
    tz_make(&t, 50, ALL);
    pmm_zone_release(&t.z, 10, 30);
    pmm_zone_reserve(&t.z, 45, 5, TAG_KERNEL);
    uint32_t a = pmm_zone_alloc_run(&t.z, 3, 1, TAG_PAGETABLE, 0xc0de);
    CHECK_EQ_U64(a, 10);
    struct frame_info fi;
    CHECK_FRAME(&t.z, 11, FRAME_ALLOCATED, TAG_PAGETABLE, 1, 0xc0de);
    CHECK_FRAME(&t.z, 13, FRAME_FREE, TAG_FREE, 0, 0);
    pmm_zone_query(&t.z, 46, &fi);
    CHECK_EQ_U64(fi.state, FRAME_RESERVED);
    CHECK_EQ_U64(fi.tag, TAG_KERNEL);
    CHECK_EQ_U64(fi.refs, 0);
    memset(&fi, 0x77, sizeof(fi));
    CHECK_FRAME(&t.z, 50, FRAME_OUT_OF_RANGE, 0, 0, 0);
    pmm_zone_query(&t.z, UINT32_MAX, &fi);
    CHECK_EQ_U64(fi.state, FRAME_OUT_OF_RANGE);

    CHECK_EQ_U64(pmm_zone_count_tag(&t.z, TAG_PAGETABLE), 3);
    CHECK_EQ_U64(pmm_zone_count_tag(&t.z, TAG_FREE), 27);
    CHECK_EQ_U64(pmm_zone_count_tag(&t.z, TAG_KERNEL), 5);
    CHECK_EQ_U64(pmm_zone_count_tag(&t.z, TAG_RESERVED), 15);
    CHECK_EQ_U64(pmm_zone_count_tag(&t.z, TAG_GUARD), 0);
    CHECK_EQ_U64(pmm_zone_count_tag(&t.z, 200), 0);
    tz_done(&t);
}

static void test_largest_free_run(void)
{
    struct tz t;
    uint32_t first = 0;
    tz_make(&t, 200, 0);
    pmm_zone_release(&t.z, 0, 200);
    CHECK_EQ_U64(pmm_zone_largest_free_run(&t.z, &first), 200);
    CHECK_EQ_U64(first, 0);
    fill(&t.z);
    CHECK_EQ_U64(pmm_zone_largest_free_run(&t.z, &first), 0);
    CHECK_EQ_U64(first, PMM_NO_FRAME);
    uint32_t bad;
    /* Runs: 3..5 (3), 30..40 (11, crossing a word), 100..106 (7),
     * 190..199 (10, at the end), 64..95 (one whole word, 32). */
    CHECK_EQ_U64(pmm_zone_free_run(&t.z, 3, 3, &bad), PMM_OK);
    CHECK_EQ_U64(pmm_zone_free_run(&t.z, 30, 11, &bad), PMM_OK);
    CHECK_EQ_U64(pmm_zone_free_run(&t.z, 100, 7, &bad), PMM_OK);
    CHECK_EQ_U64(pmm_zone_free_run(&t.z, 190, 10, &bad), PMM_OK);
    CHECK_EQ_U64(pmm_zone_largest_free_run(&t.z, &first), 11);
    CHECK_EQ_U64(first, 30);
    CHECK_EQ_U64(pmm_zone_free_run(&t.z, 64, 32, &bad), PMM_OK);
    CHECK_EQ_U64(pmm_zone_largest_free_run(&t.z, NULL), 32);
    CHECK_EQ_U64(pmm_zone_free(&t.z, 96), PMM_OK);
    CHECK_EQ_U64(pmm_zone_free(&t.z, 63), PMM_OK);
    CHECK_EQ_U64(pmm_zone_largest_free_run(&t.z, &first), 34);
    CHECK_EQ_U64(first, 63);
    /* Runs in the middle of a word. */
    CHECK_EQ_U64(pmm_zone_free_run(&t.z, 140, 20, &bad), PMM_OK); /* 140..159: 4 + 16 */
    CHECK_EQ_U64(pmm_zone_largest_free_run(&t.z, &first), 34);
    CHECK_EQ_U64(pmm_zone_free_run(&t.z, 161, 30, &bad), PMM_ERR_NOT_ALLOCATED);
    CHECK_EQ_U64(bad, 190);
    CHECK_EQ_U64(pmm_zone_free_run(&t.z, 161, 29, &bad), PMM_OK);
    CHECK_EQ_U64(pmm_zone_largest_free_run(&t.z, &first), 39);
    CHECK_EQ_U64(first, 161);
    CHECK_OK(&t);
    tz_done(&t);

    /* Inside one word: 4..9 and 20..29. */
    tz_make(&t, 32, 0);
    pmm_zone_release(&t.z, 4, 6);
    pmm_zone_release(&t.z, 20, 10);
    CHECK_EQ_U64(pmm_zone_largest_free_run(&t.z, &first), 10);
    CHECK_EQ_U64(first, 20);
    tz_done(&t);
}


/* Summaries (the frame grid's cells) and ages. */
static void test_summarize_and_ages(void)
{
    struct tz t;
    struct frame_summary s;
    struct frame_info fi;
    tz_make(&t, 300, ALL);
    pmm_zone_release(&t.z, 10, 280);           /* 0..9 and 290..299 reserved */
    pmm_zone_reserve(&t.z, 0, 10, TAG_KERNEL);
    t.z.epoch = 7;
    for (uint32_t i = 0; i < 40; i++)          /* frames 10..49: heap */
        CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_HEAP, 0x100), 10 + i);
    t.z.epoch = 20;
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 4, 1, TAG_DMA, 0x200), 50); /* 50..53 */
    CHECK_EQ_U64(pmm_zone_ref(&t.z, 51), PMM_OK);
    CHECK_EQ_U64(pmm_zone_ref(&t.z, 51), PMM_OK);
    t.z.epoch = 25;

    /* Exact counts, across word boundaries, clipped at the zone's end. */
    pmm_zone_summarize(&t.z, 0, 300, 1000, &s);
    CHECK_EQ_U64(s.frames, 300);
    CHECK_EQ_U64(s.reserved, 20);
    CHECK_EQ_U64(s.allocated, 44);
    CHECK_EQ_U64(s.free, 236);
    CHECK_EQ_U64(s.tag, TAG_HEAP);             /* 40 heap, 10 kernel, 10 reserved, 4 DMA */
    CHECK_EQ_U64(s.max_refs, 3);
    CHECK_EQ_U64(s.youngest, 5);               /* the DMA run, allocated at 20 */
    pmm_zone_summarize(&t.z, 280, 1000, 8, &s);
    CHECK_EQ_U64(s.frames, 20);
    CHECK_EQ_U64(s.free, 10);
    CHECK_EQ_U64(s.reserved, 10);
    CHECK_EQ_U64(s.tag, TAG_RESERVED);
    CHECK_EQ_U64(s.youngest, 0xff);            /* nothing allocated */
    pmm_zone_summarize(&t.z, 31, 33, 64, &s);  /* 31..63: heap 19, DMA 4, free 10 */
    CHECK_EQ_U64(s.allocated, 23);
    CHECK_EQ_U64(s.free, 10);
    CHECK_EQ_U64(s.tag, TAG_HEAP);
    /* A free range; a range past the zone; an empty one. */
    pmm_zone_summarize(&t.z, 100, 50, 16, &s);
    CHECK_EQ_U64(s.free, 50);
    CHECK_EQ_U64(s.tag, TAG_FREE);
    CHECK_EQ_U64(s.youngest, 0xff);
    pmm_zone_summarize(&t.z, 300, 5, 16, &s);
    CHECK_EQ_U64(s.frames, 0);
    pmm_zone_summarize(&t.z, 5, 0, 16, &s);
    CHECK_EQ_U64(s.frames, 0);
    /* Samples that miss every used frame still find one: one DMA frame
     * among 200 free ones, sampled 2 times. */
    pmm_zone_summarize(&t.z, 52, 1, 1, &s);
    CHECK_EQ_U64(s.tag, TAG_DMA);
    CHECK_EQ_U64(pmm_zone_free(&t.z, 52), PMM_OK);
    pmm_zone_summarize(&t.z, 53, 237, 2, &s);
    CHECK_EQ_U64(s.allocated, 1);
    CHECK_EQ_U64(s.tag, TAG_DMA);

    /* Ages: epochs since allocation; clamping keeps them from wrapping. */
    pmm_zone_query(&t.z, 10, &fi);
    CHECK_EQ_U64(fi.age, 18);
    pmm_zone_query(&t.z, 50, &fi);
    CHECK_EQ_U64(fi.age, 5);
    pmm_zone_query(&t.z, 100, &fi);
    CHECK_EQ_U64(fi.age, 0);                   /* free: no age */
    t.z.epoch = (uint8_t)(7 + 200);
    pmm_zone_clamp_ages(&t.z, 128);
    pmm_zone_query(&t.z, 10, &fi);
    CHECK_EQ_U64(fi.age, 128);
    pmm_zone_query(&t.z, 50, &fi);
    CHECK_EQ_U64(fi.age, 128);
    t.z.epoch = (uint8_t)(t.z.epoch + 100);     /* would wrap without the clamp */
    pmm_zone_query(&t.z, 10, &fi);
    CHECK_EQ_U64(fi.age, 228);
    CHECK_OK(&t);
    tz_done(&t);
}

/* ---- owners ---------------------------------------------------------------------------- */

/* The owner table keeps PMM_OWNERS_MAX distinct owners; a frame allocated
 * by one more reports PMM_OWNER_UNKNOWN, and the others keep theirs. */
static void test_owner_table(void)
{
    struct tz t;
    struct frame_info fi;
    const uint32_t n = PMM_OWNERS_MAX;
    tz_make(&t, 2048, ALL);
    pmm_zone_release(&t.z, 0, 2048);
    /* Owners like call sites: close together (so the hash must spread
     * them), each allocating one frame, frame i by owner i. */
    for (uint32_t i = 0; i < n - 1; i++)
        CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_HEAP, 0xc0100000u + 4 * i), i);
    CHECK_EQ_U64(t.z.owner_count, n - 1);
    /* The 768th still finds room. */
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_HEAP, 0xc0100000u + 4 * (n - 1)), n - 1);
    CHECK_EQ_U64(t.z.owner_count, n);
    pmm_zone_query(&t.z, n - 1, &fi);
    CHECK_EQ_U64(fi.owner, 0xc0100000u + 4 * (n - 1));
    CHECK(rec_slot(t.z.records[n - 1]) != RECORD_SLOT_UNKNOWN);
    CHECK_OK(&t);
    /* Owner 769: a frame, no slot. */
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_HEAP, 0xdead0000u), n);
    CHECK_EQ_U64(t.z.owner_count, n);
    CHECK_EQ_U64(rec_slot(t.z.records[n]), RECORD_SLOT_UNKNOWN);
    pmm_zone_query(&t.z, n, &fi);
    CHECK_EQ_U64(fi.state, FRAME_ALLOCATED);
    CHECK_EQ_U64(fi.tag, TAG_HEAP);
    CHECK_EQ_U64(fi.owner, PMM_OWNER_UNKNOWN);
    CHECK_OK(&t);
    /* ... and the same for its runs, and for yet another owner; owner 0
     * is still "none". */
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 3, 1, TAG_DMA, 0xdead0000u), n + 1);
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 2, 2, TAG_DMA, 0xbeef0000u), n + 4);
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_HEAP, 0), n + 6);
    CHECK_EQ_U64(t.z.owner_count, n);
    uint32_t wrong = 0;
    for (uint32_t f = n; f < n + 6; f++) {
        pmm_zone_query(&t.z, f, &fi);
        wrong += fi.owner != PMM_OWNER_UNKNOWN;
    }
    CHECK_EQ_U64(wrong, 0);
    pmm_zone_query(&t.z, n + 6, &fi);
    CHECK_EQ_U64(fi.owner, 0);
    CHECK_EQ_U64(rec_slot(t.z.records[n + 6]), 0);
    /* Every registered owner is still reported, and still registered:
     * its next frame has it too. */
    wrong = 0;
    for (uint32_t i = 0; i < n; i++) {
        pmm_zone_query(&t.z, i, &fi);
        wrong += fi.owner != 0xc0100000u + 4 * i;
    }
    CHECK_EQ_U64(wrong, 0);
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_STACK, 0xc0100000u + 4 * 17), n + 7);
    pmm_zone_query(&t.z, n + 7, &fi);
    CHECK_EQ_U64(fi.owner, 0xc0100000u + 4 * 17);
    CHECK_EQ_U64(rec_slot(t.z.records[n + 7]), rec_slot(t.z.records[17]));
    CHECK_OK(&t);
    /* Freed frames keep nobody: the table never shrinks. */
    CHECK_EQ_U64(pmm_zone_free(&t.z, 17), PMM_OK);
    CHECK_EQ_U64(pmm_zone_free(&t.z, n + 7), PMM_OK);
    CHECK_EQ_U64(t.z.owner_count, n);
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_USER, 0xfeed0000u), 17); /* the oldest */
    pmm_zone_query(&t.z, 17, &fi);
    CHECK_EQ_U64(fi.owner, PMM_OWNER_UNKNOWN);
    CHECK_OK(&t);
    tz_done(&t);
}

/* Owners are registered by successful allocations only, and only when
 * the zone keeps owners. */
static void test_owner_registration(void)
{
    struct tz t;
    struct frame_info fi;
    tz_make(&t, 64, ALL);
    pmm_zone_release(&t.z, 1, 8); /* 1..8: no run of 2 starts at 16 */
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_FREE, 0x10), PMM_NO_FRAME);
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_COUNT, 0x11), PMM_NO_FRAME);
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 9, 1, TAG_USER, 0x12), PMM_NO_FRAME);
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 2, 1, 200, 0x13), PMM_NO_FRAME);
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 2, 16, TAG_USER, 0x14), PMM_NO_FRAME);
    CHECK_EQ_U64(pmm_zone_alloc_run_below(&t.z, 2, 1, 1, TAG_USER, 0x15), PMM_NO_FRAME);
    CHECK_EQ_U64(t.z.owner_count, 0);
    CHECK_EQ_U64(t.z.failed_allocs, 0);
    CHECK_OK(&t);
    /* Owner 0: slot 0, reported as 0. */
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_USER, 0), 1);
    CHECK_EQ_U64(rec_slot(t.z.records[1]), 0);
    CHECK_EQ_U64(t.z.owner_count, 0);
    pmm_zone_query(&t.z, 1, &fi);
    CHECK_EQ_U64(fi.owner, 0);
    /* One owner, many frames: one slot. */
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_USER, 0x20), 2);
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 2, 2, TAG_USER, 0x20), 4);
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_USER, 0x30), 3);
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_USER, 0x20), 6);
    CHECK_EQ_U64(t.z.owner_count, 2);
    CHECK_EQ_U64(rec_slot(t.z.records[6]), rec_slot(t.z.records[2]));
    CHECK_EQ_U64(rec_slot(t.z.records[5]), rec_slot(t.z.records[2]));
    CHECK(rec_slot(t.z.records[3]) != rec_slot(t.z.records[2]));
    pmm_zone_query(&t.z, 3, &fi);
    CHECK_EQ_U64(fi.owner, 0x30);
    pmm_zone_query(&t.z, 5, &fi);
    CHECK_EQ_U64(fi.owner, 0x20);
    CHECK_EQ_U64(t.z.last_owner, 0x20);
    CHECK_OK(&t);
    /* Out of frames: a new owner's refused allocation registers nothing. */
    fill(&t.z);
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_USER, 0x40), PMM_NO_FRAME);
    CHECK_EQ_U64(t.z.owner_count, 2);
    CHECK_OK(&t);
    tz_done(&t);

    /* Without PMM_FEAT_OWNERS: slot 0 for everyone, nothing registered
     * (the one-entry cache keeps the last owner, with slot 0). */
    for (unsigned feat = 0; feat <= PMM_FEAT_REFS; feat += PMM_FEAT_REFS) {
        tz_make(&t, 64, feat);
        pmm_zone_release(&t.z, 0, 64);
        CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_USER, 0x1234), 0);
        CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 4, 4, TAG_USER, 0x5678), 4);
        CHECK_EQ_U64(rec_slot(t.z.records[0]), 0);
        CHECK_EQ_U64(rec_slot(t.z.records[5]), 0);
        CHECK_EQ_U64(t.z.owner_count, 0);
        CHECK_EQ_U64(t.z.last_slot, 0);
        pmm_zone_query(&t.z, 5, &fi);
        CHECK_EQ_U64(fi.owner, 0);
        CHECK_OK(&t);
        tz_done(&t);
    }
}

/* A small run is written with one store for each bit of its length:
 * every length from 2 to 16, at every offset of a word, gets its record on
 * each frame, and the allocated frames around it keep theirs (one of 16
 * not at a half is found by the exact search instead).  Each run is
 * asked for twice: by a new owner (the searching path) and by the last
 * owner (the inline path). */
static void test_small_run_records(void)
{
    struct tz t;
    tz_make(&t, 96, ALL);
    pmm_zone_release(&t.z, 0, 96);
    uint32_t wrong = 0, runs = 0;
    for (uint32_t count = 2; count <= 16; count++) {
        for (uint32_t at = 32; at + count <= 64; at++) {
            for (int last_owner = 0; last_owner < 2; last_owner++) {
                uint32_t bad;
                fill(&t.z); /* by owner 0 */
                wrong += pmm_zone_free_run(&t.z, at, count, &bad) != PMM_OK;
                if (last_owner) { /* frame 0, by way of the queue */
                    wrong += pmm_zone_free(&t.z, 0) != PMM_OK;
                    wrong += pmm_zone_alloc(&t.z, TAG_HEAP, 77) != 0;
                    wrong += t.z.last_owner != 77;
                }
                /* Search 1 starts in the run's word (a run shorter than 16
                 * is looked for there first; one of 16 is a free half). */
                t.z.hint = 1;
                wrong += pmm_zone_alloc_run(&t.z, count, 1, TAG_DMA, 77) != at;
                for (uint32_t f = 31; f <= at + count; f++) {
                    struct frame_info fi;
                    pmm_zone_query(&t.z, f, &fi);
                    bool inside = f >= at && f < at + count;
                    wrong += fi.state != FRAME_ALLOCATED;
                    wrong += fi.tag != (inside ? TAG_DMA : TAG_USER);
                    wrong += fi.owner != (inside ? 77u : 0u);
                }
                wrong += pmm_zone_check(&t.z) != NULL;
                wrong += pmm_zone_free_run(&t.z, 0, 96, &bad) != PMM_OK;
                runs++;
            }
        }
    }
    CHECK_EQ_U64(runs, 2 * 360);
    CHECK_EQ_U64(wrong, 0);
    CHECK_OK(&t);
    tz_done(&t);
}

int main(void)
{
    RUN(test_refs);
    RUN(test_features_off);
    RUN(test_refs_pinned);
    RUN(test_bad_tags);
    RUN(test_query_and_counts);
    RUN(test_largest_free_run);
    RUN(test_summarize_and_ages);
    RUN(test_owner_table);
    RUN(test_owner_registration);
    RUN(test_small_run_records);
    return check_summary("pmm_zone_records");
}
