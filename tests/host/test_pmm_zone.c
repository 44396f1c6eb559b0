/*
 * test_pmm_zone.c - the frame allocator's pure core, the bitmap's side:
 * tag and error names, building a zone (storage, init, release, reserve),
 * single frames and the hint, frees and their errors.
 *
 * Contiguous runs are test_pmm_zone_runs.c.  The queue of freed frames in front of the bitmap is test_pmm_zone_queue.c;
 * here it is drained by hand where a test needs the bitmap's own order.
 * What frames record and the readers are test_pmm_zone_records.c; the
 * consistency check catching corruption is test_pmm_zone_check.c; the
 * random model test is test_pmm_model.c.  After most steps pmm_zone_check
 * must pass.
 */
#include "pmm_zone_fixture.h"

/* ---- names -------------------------------------------------------------------- */

static void test_names(void)
{
    static const char *const want[TAG_COUNT] = {
        "free", "reserved", "ACPI", "kernel", "boot", "bitmap", "pagetable",
        "heap", "stack", "DMA", "device", "user", "guard",
    };
    for (unsigned t = 0; t < TAG_COUNT; t++) {
        CHECK_STR_EQ(pmm_tag_name(t), want[t]);
        CHECK_EQ_U64(pmm_tag_parse(want[t]), t);
    }
    CHECK_STR_EQ(pmm_tag_name(TAG_COUNT), "?");
    CHECK_STR_EQ(pmm_tag_name(255), "?");
    CHECK_STR_EQ(pmm_tag_name(UINT32_MAX), "?");
    CHECK_EQ_U64(pmm_tag_parse("dma"), TAG_DMA);
    CHECK_EQ_U64(pmm_tag_parse("Acpi"), TAG_ACPI);
    CHECK_EQ_U64(pmm_tag_parse("PAGETABLE"), TAG_PAGETABLE);
    CHECK(pmm_tag_parse("") == -1);
    CHECK(pmm_tag_parse("use") == -1);
    CHECK(pmm_tag_parse("users") == -1);
    CHECK(pmm_tag_parse("?") == -1);
    CHECK(pmm_tag_parse(NULL) == -1);

    CHECK_STR_EQ(pmm_error_str(PMM_OK), "ok");
    CHECK_STR_EQ(pmm_error_str(PMM_ERR_RANGE), "out of range");
    CHECK_STR_EQ(pmm_error_str(PMM_ERR_RESERVED), "reserved");
    CHECK_STR_EQ(pmm_error_str(PMM_ERR_NOT_ALLOCATED), "not allocated (already free)");
    CHECK_STR_EQ(pmm_error_str(PMM_ERR_SHARED), "still shared");
    CHECK_STR_EQ(pmm_error_str(PMM_ERR_REF_OVERFLOW), "reference count overflow");
    CHECK_STR_EQ(pmm_error_str(PMM_ERR_BAD_ARG), "bad argument");
    CHECK_STR_EQ(pmm_error_str((enum pmm_error)99), "unknown error");
}

/* ---- building --------------------------------------------------------------------- */

static void test_storage(void)
{
    /*
     * words = ceil(frames / 32), l1 = ceil(words / 32), l2 = ceil(l1 / 32):
     *   4 bitmaps (used, freeable, reserved,     4 * 4 * words
     *   pinned)
     *   3 summaries (avail, half, empty)         3 * 4 * (l1 + l2)
     *   the owner table                          4 * PMM_OWNER_SLOTS = 4096
     *   records (4 bytes a frame)                4 * frames
     *   refs (2 bytes a frame)                   round4(2 * frames)
     * Features change what is kept, never the size.
     */
    CHECK_EQ_U64(pmm_zone_storage_bytes(0, 0), 4096);
    CHECK_EQ_U64(pmm_zone_storage_bytes(1, 0), 4 * 4 + 3 * 8 + 4096 + 4 + 4);
    CHECK_EQ_U64(pmm_zone_storage_bytes(1, ALL), 4 * 4 + 3 * 8 + 4096 + 4 + 4);
    CHECK_EQ_U64(pmm_zone_storage_bytes(3, 0), 4 * 4 + 3 * 8 + 4096 + 12 + 8);
    CHECK_EQ_U64(pmm_zone_storage_bytes(32, PMM_FEAT_REFS), 4 * 4 + 3 * 8 + 4096 + 128 + 64);
    CHECK_EQ_U64(pmm_zone_storage_bytes(33, PMM_FEAT_OWNERS),
                 4 * 8 + 3 * 8 + 4096 + 132 + 68);
    /* 1025 words: l1 needs 33 words, l2 two. */
    CHECK_EQ_U64(pmm_zone_storage_bytes(32 * 1025, ALL),
                 4 * 4 * 1025 + 3 * 4 * (33 + 2) + 4096 + 4 * 32800 + 2 * 32800);
    /* 4 GiB: 128 KiB x 4 bitmaps, 3 x (4 KiB + 128 B), the owner table,
     * 4 + 2 MiB of records and refs. */
    CHECK_EQ_U64(pmm_zone_storage_bytes(1u << 20, ALL),
                 4 * 131072 + 3 * (4096 + 128) + 4096 + 6 * 1048576);
    for (uint32_t f = 0; f < 200; f++)
        for (unsigned feat = 0; feat < 4; feat++)
            CHECK_EQ_U64(pmm_zone_storage_bytes(f, feat) % 4, 0);
}

static void test_init(void)
{
    static const uint32_t sizes[] = {0, 1, 31, 32, 33, 100, 1024, 1025, 33000};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        for (unsigned feat = 0; feat < 4; feat++) {
            struct tz t;
            tz_make(&t, sizes[i], feat);
            CHECK_OK(&t);
            CHECK_EQ_U64(t.z.frames, sizes[i]);
            CHECK_EQ_U64(t.z.reserved_frames, sizes[i]);
            CHECK_EQ_U64(pmm_zone_free_count(&t.z), 0);
            CHECK_EQ_U64(pmm_zone_allocated_count(&t.z), 0);
            CHECK_EQ_U64(t.z.features, feat);
            for (uint32_t f = 0; f < sizes[i]; f += 7) {
                CHECK_EQ_U64(state_of(&t.z, f), FRAME_RESERVED);
                CHECK_EQ_U64(tag_of(&t.z, f), TAG_RESERVED);
            }
            CHECK_EQ_U64(state_of(&t.z, sizes[i]), FRAME_OUT_OF_RANGE);
            CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_USER, 0), PMM_NO_FRAME);
            CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 2, 1, TAG_USER, 0), PMM_NO_FRAME);
            CHECK_EQ_U64(t.z.failed_allocs, 0); /* refusals: counted by the caller (pmm.c) */
            CHECK_EQ_U64(pmm_zone_count_tag(&t.z, TAG_RESERVED), sizes[i]);
            uint32_t first = 0;
            CHECK_EQ_U64(pmm_zone_largest_free_run(&t.z, &first), 0);
            CHECK_EQ_U64(first, PMM_NO_FRAME);
            CHECK_OK(&t);
            tz_done(&t);
        }
    }
}

static void test_release_reserve(void)
{
    struct tz t;
    tz_make(&t, 100, ALL);
    pmm_zone_release(&t.z, 5, 35); /* 5..39: partial words at both ends */
    CHECK_OK(&t);
    CHECK_EQ_U64(pmm_zone_free_count(&t.z), 35);
    CHECK_EQ_U64(t.z.reserved_frames, 65);
    CHECK_EQ_U64(state_of(&t.z, 4), FRAME_RESERVED);
    CHECK_EQ_U64(state_of(&t.z, 5), FRAME_FREE);
    CHECK_EQ_U64(state_of(&t.z, 39), FRAME_FREE);
    CHECK_EQ_U64(state_of(&t.z, 40), FRAME_RESERVED);
    CHECK_EQ_U64(tag_of(&t.z, 5), TAG_FREE);
    CHECK_EQ_U64(tag_of(&t.z, 40), TAG_RESERVED);

    pmm_zone_release(&t.z, 90, 1000); /* past the end: clipped */
    CHECK_EQ_U64(pmm_zone_free_count(&t.z), 45);
    pmm_zone_release(&t.z, 95, UINT32_MAX); /* already free: nothing */
    CHECK_EQ_U64(pmm_zone_free_count(&t.z), 45);
    pmm_zone_release(&t.z, 100, 5);
    pmm_zone_release(&t.z, UINT32_MAX, UINT32_MAX);
    pmm_zone_release(&t.z, 50, 0);
    CHECK_EQ_U64(pmm_zone_free_count(&t.z), 45);
    CHECK_OK(&t);

    /* An allocated frame is left alone by release. */
    uint32_t a = pmm_zone_alloc(&t.z, TAG_HEAP, 7);
    CHECK_EQ_U64(a, 5);
    pmm_zone_release(&t.z, 0, 100);
    CHECK_EQ_U64(state_of(&t.z, a), FRAME_ALLOCATED);
    CHECK_EQ_U64(pmm_zone_free_count(&t.z), 99);
    CHECK_EQ_U64(pmm_zone_allocated_count(&t.z), 1);
    CHECK_EQ_U64(t.z.reserved_frames, 0);
    CHECK_OK(&t);

    /* Reserve free frames (partial words), then over the allocated one. */
    CHECK_EQ_U64(pmm_zone_reserve(&t.z, 30, 4, TAG_KERNEL), 0);
    CHECK_EQ_U64(t.z.reserved_frames, 4);
    CHECK_EQ_U64(tag_of(&t.z, 30), TAG_KERNEL);
    CHECK_EQ_U64(tag_of(&t.z, 33), TAG_KERNEL);
    CHECK_EQ_U64(state_of(&t.z, 34), FRAME_FREE);
    CHECK_EQ_U64(pmm_zone_reserve(&t.z, 0, 10, TAG_ACPI), 1); /* frame 5 was allocated */
    CHECK_EQ_U64(state_of(&t.z, 5), FRAME_RESERVED);
    struct frame_info fi;
    pmm_zone_query(&t.z, 5, &fi);
    CHECK_EQ_U64(fi.refs, 0);
    CHECK_EQ_U64(fi.owner, 0);
    CHECK_EQ_U64(fi.tag, TAG_ACPI);
    CHECK_EQ_U64(pmm_zone_allocated_count(&t.z), 0);
    CHECK_EQ_U64(t.z.reserved_frames, 14);
    CHECK_OK(&t);
    /* Again over reserved frames: only the tag changes; TAG_FREE is not
     * a reservation's tag. */
    CHECK_EQ_U64(pmm_zone_reserve(&t.z, 0, 2, TAG_BOOT), 0);
    CHECK_EQ_U64(tag_of(&t.z, 1), TAG_BOOT);
    CHECK_EQ_U64(t.z.reserved_frames, 14);
    CHECK_EQ_U64(pmm_zone_reserve(&t.z, 98, 50, TAG_FREE), 0);
    CHECK_EQ_U64(tag_of(&t.z, 99), TAG_RESERVED);
    CHECK_EQ_U64(t.z.reserved_frames, 16);
    CHECK_EQ_U64(pmm_zone_reserve(&t.z, 100, 10, TAG_KERNEL), 0);
    CHECK_EQ_U64(pmm_zone_reserve(&t.z, 10, 0, TAG_KERNEL), 0);
    CHECK_EQ_U64(t.z.reserved_frames, 16);
    CHECK_OK(&t);
    /* Whole words at once, and released again. */
    CHECK_EQ_U64(pmm_zone_reserve(&t.z, 0, 100, TAG_DEVICE), 0);
    CHECK_EQ_U64(pmm_zone_free_count(&t.z), 0);
    CHECK_EQ_U64(pmm_zone_count_tag(&t.z, TAG_DEVICE), 100);
    CHECK_OK(&t);
    pmm_zone_release(&t.z, 0, 64);
    CHECK_EQ_U64(pmm_zone_free_count(&t.z), 64);
    CHECK_EQ_U64(pmm_zone_count_tag(&t.z, TAG_FREE), 64);
    CHECK_OK(&t);
    tz_done(&t);
}

/* ---- single frames ------------------------------------------------------------------ */

static void test_alloc_order_and_hint(void)
{
    struct tz t;
    tz_make(&t, 100, ALL);
    pmm_zone_release(&t.z, 0, 100);
    for (uint32_t i = 0; i < 40; i++)
        CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_HEAP, 0x1000 + i), i);
    CHECK_OK(&t);
    CHECK_FRAME(&t.z, 7, FRAME_ALLOCATED, TAG_HEAP, 1, 0x1007);
    CHECK_EQ_U64(t.z.allocs, 40);
    CHECK_EQ_U64(t.z.hint, 1);

    /* The bitmap path, with the queue drained (else the two frees would
     * come straight back, oldest first: test_pmm_zone_queue.c).  Frame 35
     * is in the hint's word: it comes back first.  Frame 2 is below the
     * hint: it waits until the search wraps around. */
    CHECK_EQ_U64(pmm_zone_free(&t.z, 35), PMM_OK);
    CHECK_EQ_U64(pmm_zone_free(&t.z, 2), PMM_OK);
    CHECK_EQ_U64(t.z.frees, 2);
    CHECK_EQ_U64(t.z.queue_count, 2);
    CHECK_OK(&t);
    pmm_zone_drain_queue(&t.z);
    CHECK_EQ_U64(t.z.queue_count, 0);
    CHECK_OK(&t);
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_STACK, 0), 35);
    for (uint32_t i = 40; i < 100; i++)
        CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_STACK, 0), i);
    CHECK_EQ_U64(t.z.hint, 3);
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_STACK, 0), 2); /* wrapped */
    CHECK_EQ_U64(t.z.hint, 0);
    CHECK_EQ_U64(pmm_zone_free_count(&t.z), 0);
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_STACK, 0), PMM_NO_FRAME);
    CHECK_EQ_U64(t.z.failed_allocs, 0);
    CHECK_OK(&t);

    /* The lowest free frame of the hint's word, then onward (drained
     * again: without that they would come back as 70, 10, 20). */
    CHECK_EQ_U64(pmm_zone_free(&t.z, 70), PMM_OK);
    CHECK_EQ_U64(pmm_zone_free(&t.z, 10), PMM_OK);
    CHECK_EQ_U64(pmm_zone_free(&t.z, 20), PMM_OK);
    pmm_zone_drain_queue(&t.z);
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_USER, 0), 10);
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_USER, 0), 20);
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_USER, 0), 70);
    CHECK_EQ_U64(t.z.hint, 2);
    /* TAG_FREE, and a tag that is not one (even one that would fit in a
     * record's 4 bits), are refused with frames free; the refusal leaves
     * the queue alone. */
    CHECK_EQ_U64(pmm_zone_free(&t.z, 99), PMM_OK);
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_FREE, 0), PMM_NO_FRAME);
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_COUNT, 0), PMM_NO_FRAME);
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, 15, 0), PMM_NO_FRAME);
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, 200, 0), PMM_NO_FRAME);
    CHECK_EQ_U64(t.z.failed_allocs, 0);
    CHECK_EQ_U64(t.z.queue_count, 1);
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_GUARD, 0), 99);
    CHECK_OK(&t);
    tz_done(&t);

    /* A big zone: the hint walks through the summaries to the end. */
    tz_make(&t, 70000, 0);
    pmm_zone_release(&t.z, 1, 69998); /* frames 0 and 69999 stay reserved */
    uint32_t n = 0, prev = 0;
    bool ascending = true;
    for (uint32_t f; (f = pmm_zone_alloc(&t.z, TAG_USER, 0)) != PMM_NO_FRAME; n++) {
        ascending &= n == 0 || f == prev + 1;
        prev = f;
    }
    CHECK(ascending);
    CHECK_EQ_U64(n, 69998);
    CHECK_EQ_U64(prev, 69998);
    CHECK_OK(&t);
    /* Two frames far apart, the hint at the end, the queue drained:
     * found through l2 (the wrap finds 5 first). */
    CHECK_EQ_U64(pmm_zone_free(&t.z, 5), PMM_OK);
    CHECK_EQ_U64(pmm_zone_free(&t.z, 40000), PMM_OK);
    pmm_zone_drain_queue(&t.z);
    CHECK_OK(&t);
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_USER, 0), 5);
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_USER, 0), 40000);
    CHECK_OK(&t);
    tz_done(&t);
}

static void test_free_errors(void)
{
    struct tz t;
    tz_make(&t, 64, ALL);
    pmm_zone_release(&t.z, 8, 48); /* 0..7 and 56..63 reserved */
    uint32_t a = pmm_zone_alloc(&t.z, TAG_USER, 0);
    CHECK_EQ_U64(a, 8);
    struct tz before;
    tz_clone(&before, &t);

    CHECK_EQ_U64(pmm_zone_free(&t.z, 64), PMM_ERR_RANGE);
    CHECK_EQ_U64(pmm_zone_free(&t.z, UINT32_MAX), PMM_ERR_RANGE);
    CHECK_EQ_U64(pmm_zone_free(&t.z, 3), PMM_ERR_RESERVED);
    CHECK_EQ_U64(pmm_zone_free(&t.z, 60), PMM_ERR_RESERVED);
    CHECK_EQ_U64(pmm_zone_free(&t.z, 9), PMM_ERR_NOT_ALLOCATED);
    CHECK_EQ_U64(pmm_zone_ref(&t.z, a), PMM_OK);
    CHECK_EQ_U64(pmm_zone_free(&t.z, a), PMM_ERR_SHARED);
    CHECK_EQ_U64(t.z.bad_frees, 6);
    /* Nothing but the refcount, the pinned bit (and the statistic)
     * changed. */
    CHECK(memcmp(t.z.used, before.z.used, 8) == 0);
    CHECK(memcmp(t.z.records, before.z.records, 64 * sizeof(frame_record_t)) == 0);
    CHECK_EQ_U64(t.z.refs[a], 2);
    CHECK_EQ_U64(t.z.pinned[0], before.z.pinned[0] | 1u << a);
    CHECK_EQ_U64(pmm_zone_free_count(&t.z), pmm_zone_free_count(&before.z));
    CHECK_EQ_U64(t.z.queue_count, 0);
    CHECK_OK(&t);
    bool freed = true;
    CHECK_EQ_U64(pmm_zone_unref(&t.z, a, &freed), PMM_OK);
    CHECK(!freed);
    CHECK_EQ_U64(pmm_zone_free(&t.z, a), PMM_OK);
    CHECK_EQ_U64(t.z.queue_count, 1);
    CHECK_EQ_U64(pmm_zone_free(&t.z, a), PMM_ERR_NOT_ALLOCATED); /* double free */
    CHECK_EQ_U64(t.z.queue_count, 1);
    struct frame_info fi;
    pmm_zone_query(&t.z, a, &fi);
    CHECK_EQ_U64(fi.owner, 0);
    CHECK_EQ_U64(pmm_zone_free_count(&t.z), 48);
    CHECK_EQ_U64(t.z.frees, 1);
    CHECK_EQ_U64(t.z.bad_frees, 7);
    CHECK_OK(&t);
    tz_done(&before);
    tz_done(&t);
}

int main(void)
{
    RUN(test_names);
    RUN(test_storage);
    RUN(test_init);
    RUN(test_release_reserve);
    RUN(test_alloc_order_and_hint);
    RUN(test_free_errors);
    return check_summary("pmm_zone");
}
