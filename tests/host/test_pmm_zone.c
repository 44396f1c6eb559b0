/*
 * test_pmm_zone.c - the frame allocator's pure core, function by function:
 * building a zone, single frames and the hint, the hot list of freed frames
 * (newest first, drained by everything else), runs and the negative cache,
 * frees and their errors, references, the owner table, records, scans, and
 * the consistency check catching corruption planted in a copy of a zone.
 *
 * Every zone's storage is a heap block of exactly pmm_zone_storage_bytes,
 * so ASan reports any write past it.  After most steps pmm_zone_check must
 * pass.  (The random model test is test_pmm_model.c.)
 */
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "kernel/pmm_zone.h"

#define ALL (PMM_FEAT_REFS | PMM_FEAT_OWNERS)

struct tz {
    struct pmm_zone z;
    uint8_t *mem;
    size_t bytes;
};

static void tz_make(struct tz *t, uint32_t frames, unsigned features)
{
    t->bytes = pmm_zone_storage_bytes(frames, features);
    t->mem = malloc(t->bytes ? t->bytes : 1);
    if (!t->mem)
        abort();
    memset(t->mem, 0xa5, t->bytes);
    pmm_zone_init(&t->z, t->mem, frames, features);
}

static void tz_done(struct tz *t)
{
    free(t->mem);
    t->mem = NULL;
}

/* A copy of the zone in its own storage, every pointer moved with it. */
static void tz_clone(struct tz *dst, const struct tz *src)
{
    dst->bytes = src->bytes;
    dst->mem = malloc(src->bytes ? src->bytes : 1);
    if (!dst->mem)
        abort();
    memcpy(dst->mem, src->mem, src->bytes);
    dst->z = src->z;
#define REBASE(field)                                                                  \
    do {                                                                               \
        if (src->z.field)                                                              \
            dst->z.field = (void *)(dst->mem + ((uint8_t *)src->z.field - src->mem));  \
    } while (0)
    REBASE(used);
    REBASE(reserved);
    REBASE(pinned);
    REBASE(avail_l1);
    REBASE(avail_l2);
    REBASE(half_l1);
    REBASE(half_l2);
    REBASE(empty_l1);
    REBASE(empty_l2);
    REBASE(owners);
    REBASE(records);
    REBASE(refs);
    REBASE(epochs);
#undef REBASE
}

/* A record's two fields, as pmm_zone.h lays them out (the zone's own
 * helpers are private to src/memory). */
static uint8_t rec_tag(frame_record_t r)
{
    return (uint8_t)(r & ((1u << RECORD_TAG_BITS) - 1));
}

static uint32_t rec_slot(frame_record_t r)
{
    return (uint32_t)r >> RECORD_TAG_BITS;
}

static frame_record_t rec_make(uint8_t tag, uint32_t slot)
{
    return (frame_record_t)(tag | slot << RECORD_TAG_BITS);
}

#define CHECK_OK(t) CHECK_STR_EQ(pmm_zone_check(&(t)->z), NULL)

/* A clone of t with one thing broken must fail the check with `want`. */
#define BROKEN(t, want, corruption)                                                  \
    do {                                                                             \
        struct tz c_;                                                                \
        tz_clone(&c_, (t));                                                          \
        struct pmm_zone *z = &c_.z;                                                  \
        corruption;                                                                  \
        const char *got_ = pmm_zone_check(z);                                        \
        CHECK(got_ != NULL && strstr(got_, (want)) != NULL);                         \
        if (!got_ || !strstr(got_, (want)))                                          \
            fprintf(stderr, "    got \"%s\", wanted \"%s\"\n", got_ ? got_ : "(NULL)", \
                    (want));                                                         \
        tz_done(&c_);                                                                \
    } while (0)

static enum frame_state state_of(const struct pmm_zone *z, uint32_t f)
{
    struct frame_info fi;
    pmm_zone_query(z, f, &fi);
    return fi.state;
}

static uint8_t tag_of(const struct pmm_zone *z, uint32_t f)
{
    struct frame_info fi;
    pmm_zone_query(z, f, &fi);
    return fi.tag;
}

/* Allocates every free frame (in whatever order the zone picks). */
static void fill(struct pmm_zone *z)
{
    while (pmm_zone_alloc(z, TAG_USER, 0) != PMM_NO_FRAME) {
    }
}

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
     *   3 bitmaps (used, reserved, pinned)       3 * 4 * words
     *   3 summaries (avail, half, empty)         3 * 4 * (l1 + l2)
     *   the owner table                          4 * PMM_OWNER_SLOTS = 4096
     *   records, refs (2 bytes a frame each)     2 * round4(2 * frames)
     *   epochs (1 byte a frame)                  round4(frames)
     * Features change what is kept, never the size.
     */
    CHECK_EQ_U64(pmm_zone_storage_bytes(0, 0), 4096);
    CHECK_EQ_U64(pmm_zone_storage_bytes(1, 0), 3 * 4 + 3 * 8 + 4096 + 4 + 4 + 4);
    CHECK_EQ_U64(pmm_zone_storage_bytes(1, ALL), 3 * 4 + 3 * 8 + 4096 + 4 + 4 + 4);
    CHECK_EQ_U64(pmm_zone_storage_bytes(3, 0), 3 * 4 + 3 * 8 + 4096 + 8 + 8 + 4);
    CHECK_EQ_U64(pmm_zone_storage_bytes(32, PMM_FEAT_REFS), 3 * 4 + 3 * 8 + 4096 + 64 + 64 + 32);
    CHECK_EQ_U64(pmm_zone_storage_bytes(33, PMM_FEAT_OWNERS),
                 3 * 8 + 3 * 8 + 4096 + 68 + 68 + 36);
    /* 1025 words: l1 needs 33 words, l2 two. */
    CHECK_EQ_U64(pmm_zone_storage_bytes(32 * 1025, ALL),
                 3 * 4 * 1025 + 3 * 4 * (33 + 2) + 4096 + 2 * 65600 + 32800);
    /* 4 GiB: 128 KiB x 3 bitmaps, 3 x (4 KiB + 128 B), the owner table,
     * 2 + 2 + 1 MiB of records, refs and epochs. */
    CHECK_EQ_U64(pmm_zone_storage_bytes(1u << 20, ALL),
                 3 * 131072 + 3 * (4096 + 128) + 4096 + 5 * 1048576);
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
            CHECK_EQ_U64(t.z.free_frames, 0);
            CHECK_EQ_U64(t.z.allocated_frames, 0);
            CHECK_EQ_U64(t.z.features, feat);
            for (uint32_t f = 0; f < sizes[i]; f += 7) {
                CHECK_EQ_U64(state_of(&t.z, f), FRAME_RESERVED);
                CHECK_EQ_U64(tag_of(&t.z, f), TAG_RESERVED);
            }
            CHECK_EQ_U64(state_of(&t.z, sizes[i]), FRAME_OUT_OF_RANGE);
            CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_USER, 0), PMM_NO_FRAME);
            CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 2, 1, TAG_USER, 0), PMM_NO_FRAME);
            CHECK_EQ_U64(t.z.failed_allocs, 2);
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
    CHECK_EQ_U64(t.z.free_frames, 35);
    CHECK_EQ_U64(t.z.reserved_frames, 65);
    CHECK_EQ_U64(state_of(&t.z, 4), FRAME_RESERVED);
    CHECK_EQ_U64(state_of(&t.z, 5), FRAME_FREE);
    CHECK_EQ_U64(state_of(&t.z, 39), FRAME_FREE);
    CHECK_EQ_U64(state_of(&t.z, 40), FRAME_RESERVED);
    CHECK_EQ_U64(tag_of(&t.z, 5), TAG_FREE);
    CHECK_EQ_U64(tag_of(&t.z, 40), TAG_RESERVED);

    pmm_zone_release(&t.z, 90, 1000); /* past the end: clipped */
    CHECK_EQ_U64(t.z.free_frames, 45);
    pmm_zone_release(&t.z, 95, UINT32_MAX); /* already free: nothing */
    CHECK_EQ_U64(t.z.free_frames, 45);
    pmm_zone_release(&t.z, 100, 5);
    pmm_zone_release(&t.z, UINT32_MAX, UINT32_MAX);
    pmm_zone_release(&t.z, 50, 0);
    CHECK_EQ_U64(t.z.free_frames, 45);
    CHECK_OK(&t);

    /* An allocated frame is left alone by release. */
    uint32_t a = pmm_zone_alloc(&t.z, TAG_HEAP, 7);
    CHECK_EQ_U64(a, 5);
    pmm_zone_release(&t.z, 0, 100);
    CHECK_EQ_U64(state_of(&t.z, a), FRAME_ALLOCATED);
    CHECK_EQ_U64(t.z.free_frames, 99);
    CHECK_EQ_U64(t.z.allocated_frames, 1);
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
    CHECK_EQ_U64(t.z.allocated_frames, 0);
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
    CHECK_EQ_U64(t.z.free_frames, 0);
    CHECK_EQ_U64(pmm_zone_count_tag(&t.z, TAG_DEVICE), 100);
    CHECK_OK(&t);
    pmm_zone_release(&t.z, 0, 64);
    CHECK_EQ_U64(t.z.free_frames, 64);
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
    struct frame_info fi;
    pmm_zone_query(&t.z, 7, &fi);
    CHECK_EQ_U64(fi.state, FRAME_ALLOCATED);
    CHECK_EQ_U64(fi.tag, TAG_HEAP);
    CHECK_EQ_U64(fi.refs, 1);
    CHECK_EQ_U64(fi.owner, 0x1007);
    CHECK_EQ_U64(t.z.allocs, 40);
    CHECK_EQ_U64(t.z.hint, 1);

    /* The bitmap path, with the hot list drained (else the two frees would
     * come straight back, newest first: test_hot_list).  Frame 35 is in
     * the hint's word: it comes back first.  Frame 2 is below the hint: it
     * waits until the search wraps around. */
    CHECK_EQ_U64(pmm_zone_free(&t.z, 35), PMM_OK);
    CHECK_EQ_U64(pmm_zone_free(&t.z, 2), PMM_OK);
    CHECK_EQ_U64(t.z.frees, 2);
    CHECK_EQ_U64(t.z.hot_count, 2);
    CHECK_OK(&t);
    pmm_zone_drain_hot(&t.z);
    CHECK_EQ_U64(t.z.hot_count, 0);
    CHECK_OK(&t);
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_STACK, 0), 35);
    for (uint32_t i = 40; i < 100; i++)
        CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_STACK, 0), i);
    CHECK_EQ_U64(t.z.hint, 3);
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_STACK, 0), 2); /* wrapped */
    CHECK_EQ_U64(t.z.hint, 0);
    CHECK_EQ_U64(t.z.free_frames, 0);
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_STACK, 0), PMM_NO_FRAME);
    CHECK_EQ_U64(t.z.failed_allocs, 1);
    CHECK_OK(&t);

    /* The lowest free frame of the hint's word, then onward (drained
     * again: without that they would come back as 20, 10, 70). */
    CHECK_EQ_U64(pmm_zone_free(&t.z, 70), PMM_OK);
    CHECK_EQ_U64(pmm_zone_free(&t.z, 10), PMM_OK);
    CHECK_EQ_U64(pmm_zone_free(&t.z, 20), PMM_OK);
    pmm_zone_drain_hot(&t.z);
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_USER, 0), 10);
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_USER, 0), 20);
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_USER, 0), 70);
    CHECK_EQ_U64(t.z.hint, 2);
    /* TAG_FREE, and a tag that is not one (even one that would fit in a
     * record's 4 bits), are refused with frames free; the refusal leaves
     * the hot list alone. */
    CHECK_EQ_U64(pmm_zone_free(&t.z, 99), PMM_OK);
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_FREE, 0), PMM_NO_FRAME);
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_COUNT, 0), PMM_NO_FRAME);
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, 15, 0), PMM_NO_FRAME);
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, 200, 0), PMM_NO_FRAME);
    CHECK_EQ_U64(t.z.failed_allocs, 5);
    CHECK_EQ_U64(t.z.hot_count, 1);
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
    /* Two frames far apart, the hint at the end, the hot list drained:
     * found through l2 (the wrap finds 5 first). */
    CHECK_EQ_U64(pmm_zone_free(&t.z, 5), PMM_OK);
    CHECK_EQ_U64(pmm_zone_free(&t.z, 40000), PMM_OK);
    pmm_zone_drain_hot(&t.z);
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
    CHECK(memcmp(t.z.epochs, before.z.epochs, 64) == 0);
    CHECK_EQ_U64(t.z.refs[a], 2);
    CHECK_EQ_U64(t.z.pinned[0], before.z.pinned[0] | 1u << a);
    CHECK_EQ_U64(t.z.free_frames, before.z.free_frames);
    CHECK_EQ_U64(t.z.hot_count, 0);
    CHECK_OK(&t);
    bool freed = true;
    CHECK_EQ_U64(pmm_zone_unref(&t.z, a, &freed), PMM_OK);
    CHECK(!freed);
    CHECK_EQ_U64(pmm_zone_free(&t.z, a), PMM_OK);
    CHECK_EQ_U64(t.z.hot_count, 1);
    CHECK_EQ_U64(pmm_zone_free(&t.z, a), PMM_ERR_NOT_ALLOCATED); /* double free */
    CHECK_EQ_U64(t.z.hot_count, 1);
    struct frame_info fi;
    pmm_zone_query(&t.z, a, &fi);
    CHECK_EQ_U64(fi.owner, 0);
    CHECK_EQ_U64(t.z.free_frames, 48);
    CHECK_EQ_U64(t.z.frees, 1);
    CHECK_EQ_U64(t.z.bad_frees, 7);
    CHECK_OK(&t);
    tz_done(&before);
    tz_done(&t);
}

/* ---- the hot list ----------------------------------------------------------------------- */

/* The hot list as it stands, newest last, compared with want[0..n). */
static bool hot_is(const struct pmm_zone *z, const uint32_t *want, uint32_t n)
{
    if (z->hot_count != n)
        return false;
    for (uint32_t i = 0; i < n; i++)
        if (z->hot[i] != want[i])
            return false;
    return true;
}

/* A single free puts the frame on the hot list; the next single
 * allocation takes the newest back, whatever the hint says. */
static void test_hot_list_lifo(void)
{
    struct tz t;
    struct frame_info fi;
    tz_make(&t, 200, ALL);
    pmm_zone_release(&t.z, 0, 200);
    for (uint32_t i = 0; i < 100; i++)
        CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_HEAP, 0x100), i);
    CHECK_EQ_U64(t.z.hint, 3);
    CHECK_EQ_U64(t.z.hot_count, 0);

    /* Free then allocate: the same frame, tagged and owned anew. */
    t.z.epoch = 9;
    CHECK_EQ_U64(pmm_zone_free(&t.z, 50), PMM_OK);
    CHECK(hot_is(&t.z, (const uint32_t[]){50}, 1));
    CHECK_OK(&t);
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_STACK, 0x200), 50);
    CHECK_EQ_U64(t.z.hot_count, 0);
    CHECK_EQ_U64(t.z.hint, 3); /* a pop does not move the hint */
    pmm_zone_query(&t.z, 50, &fi);
    CHECK_EQ_U64(fi.state, FRAME_ALLOCATED);
    CHECK_EQ_U64(fi.tag, TAG_STACK);
    CHECK_EQ_U64(fi.owner, 0x200);
    CHECK_EQ_U64(fi.refs, 1);
    CHECK_EQ_U64(fi.age, 0);
    CHECK_OK(&t);

    /* Several frees come back newest first, across words. */
    CHECK_EQ_U64(pmm_zone_free(&t.z, 10), PMM_OK);
    CHECK_EQ_U64(pmm_zone_free(&t.z, 70), PMM_OK);
    CHECK_EQ_U64(pmm_zone_free(&t.z, 30), PMM_OK);
    CHECK_EQ_U64(pmm_zone_free(&t.z, 99), PMM_OK);
    CHECK(hot_is(&t.z, (const uint32_t[]){10, 70, 30, 99}, 4));
    CHECK_EQ_U64(t.z.free_frames, 104);
    CHECK_EQ_U64(t.z.frees, 5);
    CHECK_OK(&t);
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_USER, 0), 99);
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_USER, 0), 30);
    CHECK(hot_is(&t.z, (const uint32_t[]){10, 70}, 2));
    CHECK_OK(&t);
    /* Interleaved: a free goes on top of what is left. */
    CHECK_EQ_U64(pmm_zone_free(&t.z, 31), PMM_OK);
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_USER, 0), 31);
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_USER, 0), 70);
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_USER, 0), 10);
    /* The list is empty: the bitmap path, from the hint's word. */
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_USER, 0), 100);
    CHECK_EQ_U64(t.z.allocs, 100 + 1 + 5 + 1);
    CHECK_OK(&t);

    /* free_run of one frame and an unref of the last reference are frees
     * too; a refused allocation does not pop. */
    uint32_t bad = 0;
    bool freed = false;
    CHECK_EQ_U64(pmm_zone_free_run(&t.z, 20, 1, &bad), PMM_OK);
    CHECK_EQ_U64(pmm_zone_ref(&t.z, 21), PMM_OK);
    CHECK_EQ_U64(pmm_zone_unref(&t.z, 21, &freed), PMM_OK);
    CHECK(!freed);
    CHECK_EQ_U64(pmm_zone_unref(&t.z, 21, &freed), PMM_OK);
    CHECK(freed);
    CHECK(hot_is(&t.z, (const uint32_t[]){20, 21}, 2));
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_FREE, 0), PMM_NO_FRAME);
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_COUNT, 0), PMM_NO_FRAME);
    CHECK_EQ_U64(t.z.hot_count, 2);
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_USER, 0), 21);
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_USER, 0), 20);
    CHECK_OK(&t);
    tz_done(&t);

    /* Without features, and the last free frame: it is on the list, the
     * zone is not out of memory, and the pop takes it. */
    tz_make(&t, 40, 0);
    pmm_zone_release(&t.z, 0, 40);
    fill(&t.z);
    CHECK_EQ_U64(pmm_zone_free(&t.z, 33), PMM_OK);
    CHECK_EQ_U64(t.z.free_frames, 1);
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_USER, 0x55), 33);
    pmm_zone_query(&t.z, 33, &fi);
    CHECK_EQ_U64(fi.owner, 0);
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_USER, 0), PMM_NO_FRAME);
    CHECK_OK(&t);
    tz_done(&t);
}

/* A full list is drained before the 65th frame goes on it. */
static void test_hot_list_full(void)
{
    struct tz t;
    tz_make(&t, 200, ALL);
    pmm_zone_release(&t.z, 0, 200);
    for (uint32_t i = 0; i < 100; i++)
        pmm_zone_alloc(&t.z, TAG_HEAP, 0);
    for (uint32_t f = 0; f < PMM_HOT_FRAMES; f++)
        CHECK_EQ_U64(pmm_zone_free(&t.z, f), PMM_OK);
    CHECK_EQ_U64(t.z.hot_count, PMM_HOT_FRAMES);
    /* Frames 0..63 are free, but the summaries still count them used. */
    CHECK_EQ_U64(t.z.used[0] | t.z.used[1], 0);
    CHECK_EQ_U64(t.z.avail_l1[0] & 7, 0);
    CHECK_EQ_U64(t.z.empty_l1[0] & 7, 0);
    CHECK_OK(&t);

    CHECK_EQ_U64(pmm_zone_free(&t.z, 64), PMM_OK);
    CHECK(hot_is(&t.z, (const uint32_t[]){64}, 1));
    /* Exact for words 0 and 1; word 2 still has frame 64 on the list. */
    CHECK_EQ_U64(t.z.avail_l1[0] & 7, 3);
    CHECK_EQ_U64(t.z.half_l1[0] & 7, 3);
    CHECK_EQ_U64(t.z.empty_l1[0] & 7, 3);
    CHECK_EQ_U64(t.z.avail_l2[0] & 1, 1);
    CHECK_EQ_U64(t.z.free_frames, 100 + 65);
    CHECK_EQ_U64(t.z.frees, 65);
    CHECK_OK(&t);
    /* The pop takes 64; the drained ones are the bitmap's now, found from
     * the hint's word (3) on, so frame 100 comes before frame 0. */
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_USER, 0), 64);
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_USER, 0), 100);
    CHECK_OK(&t);
    /* Draining by hand: the summaries are exact, nothing else changes. */
    CHECK_EQ_U64(pmm_zone_free(&t.z, 65), PMM_OK);
    uint32_t free_before = t.z.free_frames;
    pmm_zone_drain_hot(&t.z);
    CHECK_EQ_U64(t.z.hot_count, 0);
    CHECK_EQ_U64(t.z.free_frames, free_before);
    CHECK_EQ_U64(t.z.avail_l1[0] & 4, 4);
    pmm_zone_drain_hot(&t.z); /* an empty list: nothing to do */
    CHECK_EQ_U64(t.z.hot_count, 0);
    CHECK_OK(&t);
    tz_done(&t);
}

/* A listed frame is free for everyone who asks: double frees, references
 * and queries see a free frame; scans count it free. */
static void test_hot_list_is_free(void)
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
    /* Nothing changed: the list, the bitmaps, the counters. */
    CHECK(hot_is(&t.z, (const uint32_t[]){40, 41, 7}, 3));
    CHECK(memcmp(t.z.used, before.z.used, 16) == 0);
    CHECK(memcmp(t.z.pinned, before.z.pinned, 16) == 0);
    CHECK(memcmp(t.z.avail_l1, before.z.avail_l1, 4) == 0);
    CHECK_EQ_U64(t.z.free_frames, 3);
    CHECK_EQ_U64(t.z.frees, before.z.frees);
    CHECK_OK(&t);

    pmm_zone_query(&t.z, 41, &fi);
    CHECK_EQ_U64(fi.state, FRAME_FREE);
    CHECK_EQ_U64(fi.tag, TAG_FREE);
    CHECK_EQ_U64(fi.refs, 0);
    CHECK_EQ_U64(fi.owner, 0);
    CHECK_EQ_U64(fi.age, 0);
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
    /* Ages: a listed frame is not clamped (its epoch is stale). */
    t.z.epoch = 3 + 100;
    pmm_zone_clamp_ages(&t.z, 10);
    CHECK_EQ_U64(t.z.epochs[41], 3);
    CHECK_EQ_U64(t.z.epochs[42], 3 + 100 - 10);
    CHECK_OK(&t);
    /* Popped, it has one reference, whatever refs[] held. */
    t.z.refs[41] = 77;
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_USER, 0), 7);
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_USER, 0), 41);
    pmm_zone_query(&t.z, 41, &fi);
    CHECK_EQ_U64(fi.refs, 1);
    CHECK_EQ_U64(fi.age, 0);
    CHECK_EQ_U64(pmm_zone_free(&t.z, 41), PMM_OK);
    CHECK_OK(&t);
    tz_done(&before);
    tz_done(&t);
}

/* Every path but single frames drains the list first (the summaries must
 * be exact for it), even when it then refuses its arguments. */
static void test_hot_list_drains(void)
{
    struct tz t;
    uint32_t bad = 0;
    tz_make(&t, 128, ALL);
    pmm_zone_release(&t.z, 0, 128);

    /* Everything allocated, then 40, 90 and 41 freed: listed, newest 41. */
#define HOT3()                                                                        \
    do {                                                                              \
        fill(&t.z);                                                                   \
        CHECK_EQ_U64(pmm_zone_free(&t.z, 40), PMM_OK);                                \
        CHECK_EQ_U64(pmm_zone_free(&t.z, 90), PMM_OK);                                \
        CHECK_EQ_U64(pmm_zone_free(&t.z, 41), PMM_OK);                                \
        CHECK(hot_is(&t.z, (const uint32_t[]){40, 90, 41}, 3));                       \
    } while (0)
#define DRAINED()                                                                     \
    do {                                                                              \
        CHECK_EQ_U64(t.z.hot_count, 0);                                               \
        CHECK_OK(&t);                                                                 \
    } while (0)

    /* alloc_run finds a run made of just-freed frames (40..41). */
    HOT3();
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 2, 2, TAG_DMA, 0), 40);
    DRAINED();
    /* A refused one drains too: bad arguments, more frames than are free. */
    HOT3();
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 0, 1, TAG_DMA, 0), PMM_NO_FRAME);
    DRAINED();
    HOT3();
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 2, 1, TAG_COUNT, 0), PMM_NO_FRAME);
    DRAINED();
    HOT3();
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 4, 1, TAG_DMA, 0), PMM_NO_FRAME);
    DRAINED();
    /* One frame, alignment 1, is a single allocation, but after the
     * drain: the bitmap's lowest frame from the hint's word on, not the
     * newest freed (41). */
    HOT3();
    CHECK_EQ_U64(t.z.hint, 1);
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 1, 1, TAG_DMA, 0), 40);
    DRAINED();
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 1, 1, TAG_DMA, 0), 41);
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 1, 1, TAG_DMA, 0), 90);
    CHECK_EQ_U64(t.z.free_frames, 0);
    /* alloc_run_below, with a limit inside the zone and past it (there it
     * is alloc_run, whose single frame comes from the hint's word, 2). */
    HOT3();
    CHECK_EQ_U64(pmm_zone_alloc_run_below(&t.z, 2, 1, 64, TAG_DMA, 0), 40);
    DRAINED();
    HOT3();
    CHECK_EQ_U64(pmm_zone_alloc_run_below(&t.z, 1, 1, 40, TAG_DMA, 0), PMM_NO_FRAME);
    DRAINED();
    HOT3();
    CHECK_EQ_U64(pmm_zone_alloc_run_below(&t.z, 0, 1, 64, TAG_DMA, 0), PMM_NO_FRAME);
    DRAINED();
    HOT3();
    CHECK_EQ_U64(t.z.hint, 2);
    CHECK_EQ_U64(pmm_zone_alloc_run_below(&t.z, 1, 1, 128, TAG_DMA, 0), 90);
    DRAINED();
    HOT3();
    CHECK_EQ_U64(pmm_zone_alloc_run_below(&t.z, 2, 2, 1000, TAG_DMA, 0), 40);
    DRAINED();
    /* reserve and release, even over nothing, past the zone, or count 0. */
    HOT3();
    CHECK_EQ_U64(pmm_zone_reserve(&t.z, 40, 1, TAG_KERNEL), 0);
    DRAINED();
    CHECK_EQ_U64(t.z.free_frames, 2);
    fill(&t.z);
    CHECK_EQ_U64(pmm_zone_free(&t.z, 90), PMM_OK);
    pmm_zone_release(&t.z, 40, 1);
    DRAINED();
    CHECK_EQ_U64(t.z.free_frames, 2);
    HOT3();
    CHECK_EQ_U64(pmm_zone_reserve(&t.z, 500, 10, TAG_KERNEL), 0);
    DRAINED();
    HOT3();
    CHECK_EQ_U64(pmm_zone_reserve(&t.z, 10, 0, TAG_KERNEL), 0);
    DRAINED();
    HOT3();
    pmm_zone_release(&t.z, 0, 0);
    DRAINED();
    HOT3();
    pmm_zone_release(&t.z, UINT32_MAX, 1);
    DRAINED();
    /* free_run of more than one frame drains once its checks pass; a
     * refused one (or count 0) leaves the list alone. */
    HOT3();
    CHECK_EQ_U64(pmm_zone_free_run(&t.z, 100, 4, &bad), PMM_OK);
    DRAINED();
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 4, 4, TAG_USER, 0), 100);
    HOT3();
    CHECK_EQ_U64(pmm_zone_free_run(&t.z, 88, 4, &bad), PMM_ERR_NOT_ALLOCATED);
    CHECK_EQ_U64(bad, 90);
    CHECK_EQ_U64(pmm_zone_free_run(&t.z, 120, 10, &bad), PMM_ERR_RANGE);
    CHECK_EQ_U64(bad, 128);
    CHECK_EQ_U64(pmm_zone_free_run(&t.z, 50, 0, &bad), PMM_ERR_BAD_ARG);
    CHECK(hot_is(&t.z, (const uint32_t[]){40, 90, 41}, 3));
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
    CHECK_EQ_U64(t.z.hot_count, 3);
    CHECK_OK(&t);
#undef HOT3
#undef DRAINED
    tz_done(&t);
}

/* The negative run cache counts listed frames as free. */
static void test_hot_list_and_cache(void)
{
    struct tz t;
    tz_make(&t, 64, 0);
    pmm_zone_release(&t.z, 0, 64);
    fill(&t.z);
    for (uint32_t f = 0; f < 64; f += 4)
        CHECK_EQ_U64(pmm_zone_free(&t.z, f), PMM_OK);
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 3, 1, TAG_USER, 0), PMM_NO_FRAME);
    CHECK_EQ_U64(t.z.no_run_below, 3);
    CHECK_EQ_U64(t.z.hot_count, 0);
    CHECK_EQ_U64(pmm_zone_free(&t.z, 9), PMM_OK); /* 8..9: 2 */
    CHECK_EQ_U64(t.z.no_run_below, 3);
    CHECK_EQ_U64(pmm_zone_free(&t.z, 10), PMM_OK); /* 8..10: 3, 9 still listed */
    CHECK_EQ_U64(t.z.no_run_below, 0);
    CHECK_EQ_U64(t.z.hot_count, 2);
    CHECK_OK(&t);
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 3, 1, TAG_USER, 0), 8);
    CHECK_OK(&t);
    tz_done(&t);
}

/* ---- references, records -------------------------------------------------------------- */

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
    CHECK_EQ_U64(t.z.free_frames, 38);
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
    pmm_zone_query(&t.z, a, &fi);
    CHECK_EQ_U64(fi.state, FRAME_ALLOCATED);
    CHECK_EQ_U64(fi.refs, 1);
    CHECK_EQ_U64(fi.owner, 0);
    CHECK_EQ_U64(fi.tag, TAG_DMA);
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
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_USER, 0xfeed0000u), n + 7); /* popped */
    pmm_zone_query(&t.z, n + 7, &fi);
    CHECK_EQ_U64(fi.owner, PMM_OWNER_UNKNOWN);
    CHECK_OK(&t);
    /* The check: no more than PMM_OWNERS_MAX owners. */
    {
        uint32_t s = 1;
        while (t.z.owners[s] != 0)
            s++;
        BROKEN(&t, "owner count differs", { z->owners[s] = 0x77; z->owner_count++; });
    }
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
    CHECK_EQ_U64(t.z.failed_allocs, 6);
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

    /* Without PMM_FEAT_OWNERS: slot 0 for everyone, nothing registered. */
    for (unsigned feat = 0; feat <= PMM_FEAT_REFS; feat += PMM_FEAT_REFS) {
        tz_make(&t, 64, feat);
        pmm_zone_release(&t.z, 0, 64);
        CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_USER, 0x1234), 0);
        CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 4, 4, TAG_USER, 0x5678), 4);
        CHECK_EQ_U64(rec_slot(t.z.records[0]), 0);
        CHECK_EQ_U64(rec_slot(t.z.records[5]), 0);
        CHECK_EQ_U64(t.z.owner_count, 0);
        CHECK_EQ_U64(t.z.last_owner, 0);
        pmm_zone_query(&t.z, 5, &fi);
        CHECK_EQ_U64(fi.owner, 0);
        CHECK_OK(&t);
        tz_done(&t);
    }
}

/* ---- compact records: refs, tags ---------------------------------------------------------- */

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
    CHECK_EQ_U64(t.z.failed_allocs, 4 * sizeof(bad));
    CHECK_EQ_U64(t.z.allocated_frames, 0);
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

static void test_query_and_counts(void)
{
    struct tz t;
    tz_make(&t, 50, ALL);
    pmm_zone_release(&t.z, 10, 30);
    pmm_zone_reserve(&t.z, 45, 5, TAG_KERNEL);
    uint32_t a = pmm_zone_alloc_run(&t.z, 3, 1, TAG_PAGETABLE, 0xc0de);
    CHECK_EQ_U64(a, 10);
    struct frame_info fi;
    pmm_zone_query(&t.z, 11, &fi);
    CHECK_EQ_U64(fi.state, FRAME_ALLOCATED);
    CHECK_EQ_U64(fi.tag, TAG_PAGETABLE);
    CHECK_EQ_U64(fi.refs, 1);
    CHECK_EQ_U64(fi.owner, 0xc0de);
    pmm_zone_query(&t.z, 13, &fi);
    CHECK_EQ_U64(fi.state, FRAME_FREE);
    CHECK_EQ_U64(fi.tag, TAG_FREE);
    CHECK_EQ_U64(fi.refs, 0);
    CHECK_EQ_U64(fi.owner, 0);
    pmm_zone_query(&t.z, 46, &fi);
    CHECK_EQ_U64(fi.state, FRAME_RESERVED);
    CHECK_EQ_U64(fi.tag, TAG_KERNEL);
    CHECK_EQ_U64(fi.refs, 0);
    memset(&fi, 0x77, sizeof(fi));
    pmm_zone_query(&t.z, 50, &fi);
    CHECK_EQ_U64(fi.state, FRAME_OUT_OF_RANGE);
    CHECK_EQ_U64(fi.tag, 0);
    CHECK_EQ_U64(fi.refs, 0);
    CHECK_EQ_U64(fi.owner, 0);
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

/* ---- runs -------------------------------------------------------------------------- */

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
    CHECK_EQ_U64(t.z.allocated_frames, 8 + 4 + 3 + 16 + 16);
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
    CHECK_EQ_U64(t.z.free_frames, 0);
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
    CHECK_EQ_U64(t.z.free_frames, 4096);
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
    CHECK_EQ_U64(t.z.free_frames, 0);
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
    CHECK_EQ_U64(t.z.failed_allocs, failed + 2);
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
    CHECK_EQ_U64(t.z.failed_allocs, 8);
    CHECK_EQ_U64(t.z.no_run_below, 1u << 31); /* no free run of 1 + 2^31 - 1 */
    CHECK_EQ_U64(t.z.free_frames, 63);
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
    CHECK(memcmp(t.z.epochs, before.z.epochs, 64) == 0);
    CHECK_EQ_U64(t.z.pinned[0], before.z.pinned[0]); /* ref and unref: back as it was */
    CHECK_EQ_U64(t.z.free_frames, before.z.free_frames);
    CHECK_OK(&t);
    /* A run that leaves the zone after allocated frames. */
    CHECK_EQ_U64(pmm_zone_free_run(&t.z, 8, 12, &bad), PMM_OK);
    CHECK_EQ_U64(t.z.free_frames, 48);
    pmm_zone_release(&t.z, 0, 64);
    fill(&t.z);
    CHECK_EQ_U64(pmm_zone_free_run(&t.z, 60, 10, &bad), PMM_ERR_RANGE);
    CHECK_EQ_U64(bad, 64);
    CHECK_EQ_U64(pmm_zone_free_run(&t.z, 0, 64, &bad), PMM_OK);
    CHECK_EQ_U64(t.z.free_frames, 64);
    CHECK_OK(&t);
    tz_done(&before);
    tz_done(&t);
}

/* ---- the consistency check --------------------------------------------------------- */

static void test_check_catches(void)
{
    struct tz t;
    tz_make(&t, 300, ALL);
    pmm_zone_release(&t.z, 10, 280); /* 10..289 */
    for (int i = 0; i < 50; i++)
        pmm_zone_alloc(&t.z, TAG_HEAP, 0x100);
    CHECK_EQ_U64(pmm_zone_alloc_run(&t.z, 40, 32, TAG_DMA, 0x200), 64);
    CHECK_EQ_U64(pmm_zone_ref(&t.z, 12), PMM_OK);
    CHECK_OK(&t);
    /* frames: 10..59 heap, 60..63 free, 64..103 DMA, 104..289 free */

    BROKEN(&t, "avail summary", z->avail_l1[0] ^= 1u << 5);
    BROKEN(&t, "avail summary", z->avail_l1[0] ^= 1u << 1);
    BROKEN(&t, "avail summary", z->avail_l2[0] ^= 1u << 1);
    BROKEN(&t, "half summary", z->half_l1[0] ^= 1u << 4);
    BROKEN(&t, "half summary", z->half_l2[0] ^= 1u);
    BROKEN(&t, "empty summary", z->empty_l1[0] ^= 1u << 5);
    BROKEN(&t, "empty summary", z->empty_l1[0] ^= 1u << 0);
    BROKEN(&t, "empty summary", z->empty_l2[0] ^= 1u << 3);
    BROKEN(&t, "free counter", z->free_frames++);
    BROKEN(&t, "reserved counter", z->reserved_frames--);
    BROKEN(&t, "free + allocated", z->allocated_frames++);
    BROKEN(&t, "free counter", z->used[4] |= 1u << 3);  /* a free frame marked used */
    BROKEN(&t, "not marked used", z->reserved[8] |= 1u << 20);
    BROKEN(&t, "past the zone", { z->used[9] &= ~(1u << 31); z->reserved[9] &= ~(1u << 31); });
    BROKEN(&t, "past the zone", z->reserved[9] &= ~(1u << 12));
    /* Records: the tag (4 bits) and the owner's slot (12 bits). */
    uint32_t heap_slot = rec_slot(t.z.records[10]), empty_slot = 1;
    CHECK(heap_slot != 0 && heap_slot < PMM_OWNER_SLOTS);
    CHECK_EQ_U64(t.z.owners[heap_slot], 0x100);
    while (t.z.owners[empty_slot] != 0)
        empty_slot++;
    BROKEN(&t, "TAG_FREE", z->records[20] = rec_make(TAG_FREE, heap_slot));
    BROKEN(&t, "TAG_FREE", z->records[5] = rec_make(TAG_FREE, 0));
    BROKEN(&t, "no tag", z->records[20] = rec_make(TAG_COUNT, heap_slot));
    BROKEN(&t, "no tag", z->records[70] = rec_make(15, rec_slot(z->records[70])));
    BROKEN(&t, "no tag", z->records[3] = rec_make(14, 0));
    BROKEN(&t, "owner recorded for a reserved", z->records[5] = rec_make(TAG_RESERVED, 1));
    BROKEN(&t, "owner recorded for a reserved",
           z->records[295] = rec_make(TAG_RESERVED, RECORD_SLOT_UNKNOWN));
    BROKEN(&t, "owner slot is empty", z->records[20] = rec_make(TAG_HEAP, empty_slot));
    BROKEN(&t, "owner slot is empty", z->records[70] = rec_make(TAG_DMA, PMM_OWNER_SLOTS));
    /* Refcounts: kept in refs[] only while the frame is pinned. */
    BROKEN(&t, "fewer than two references", z->refs[12] = 1);
    BROKEN(&t, "fewer than two references", z->refs[12] = 0);
    BROKEN(&t, "fewer than two references", { z->pinned[0] |= 1u << 21; z->refs[21] = 1; });
    BROKEN(&t, "fewer than two references", z->pinned[1] |= 1u << (61 - 32)); /* free */
    BROKEN(&t, "pinned differs", z->pinned[0] &= ~(1u << 2));
    BROKEN(&t, "hint", z->hint = z->words);
    BROKEN(&t, "no_run_below", z->no_run_below = 186);
    BROKEN(&t, "words", z->words++);
    BROKEN(&t, "features", z->features = 0x10);
    BROKEN(&t, "owners off", z->features = PMM_FEAT_REFS);
    BROKEN(&t, "refcounts off", z->features = PMM_FEAT_OWNERS);
    /* The owner table and its one-entry cache (the DMA run's owner, 0x200,
     * was the last looked up). */
    CHECK_EQ_U64(t.z.owner_count, 2);
    CHECK_EQ_U64(t.z.last_owner, 0x200);
    BROKEN(&t, "owner in slot 0", z->owners[0] = 0x300);
    BROKEN(&t, "owner in two slots", z->owners[empty_slot] = 0x100);
    BROKEN(&t, "owner in two slots", { z->owners[empty_slot] = 0x200; z->owner_count++; });
    BROKEN(&t, "owner count differs", z->owner_count++);
    BROKEN(&t, "owner count differs", z->owner_count = 0);
    BROKEN(&t, "owner count differs", z->owners[empty_slot] = 0x300);
    BROKEN(&t, "owner count differs", z->owners[heap_slot] = 0);
    BROKEN(&t, "last owner", z->last_owner = 0x100);
    BROKEN(&t, "last owner", z->last_owner = 0);
    BROKEN(&t, "last owner", z->last_slot = empty_slot);
    BROKEN(&t, "last owner", z->last_slot = PMM_OWNER_SLOTS + 5);
    BROKEN(&t, "last owner", { z->last_owner = 0; z->last_slot = heap_slot; });
    /* What the check allows: a cache naming owner 0 with slot 0, or an
     * owner the full table had no room for. */
    {
        struct tz c;
        tz_clone(&c, &t);
        c.z.last_owner = 0;
        c.z.last_slot = 0;
        CHECK_STR_EQ(pmm_zone_check(&c.z), NULL);
        c.z.last_owner = 0x4444;
        c.z.last_slot = RECORD_SLOT_UNKNOWN;
        CHECK_STR_EQ(pmm_zone_check(&c.z), NULL);
        c.z.records[20] = rec_make(TAG_HEAP, RECORD_SLOT_UNKNOWN);
        CHECK_STR_EQ(pmm_zone_check(&c.z), NULL);
        tz_done(&c);
    }
    /* A free frame's records are stale by design: not checked, not shown;
     * an unpinned frame's refs[] is not read. */
    {
        struct tz c;
        struct frame_info fi;
        tz_clone(&c, &t);
        c.z.records[200] = rec_make(TAG_USER, 0);
        c.z.records[61] = rec_make(TAG_FREE, empty_slot);
        c.z.records[250] = rec_make(15, heap_slot);
        c.z.refs[61] = 5;
        c.z.refs[20] = 3;
        c.z.refs[70] = 0;
        c.z.epochs[250] = 99;
        CHECK_STR_EQ(pmm_zone_check(&c.z), NULL);
        pmm_zone_query(&c.z, 20, &fi);
        CHECK_EQ_U64(fi.refs, 1);
        pmm_zone_query(&c.z, 70, &fi);
        CHECK_EQ_U64(fi.refs, 1);
        pmm_zone_query(&c.z, 250, &fi);
        CHECK_EQ_U64(fi.state, FRAME_FREE);
        CHECK_EQ_U64(fi.tag, TAG_FREE);
        CHECK_EQ_U64(fi.refs, 0);
        CHECK_EQ_U64(fi.owner, 0);
        CHECK_EQ_U64(pmm_zone_count_tag(&c.z, TAG_USER), 0);
        tz_done(&c);
    }
    /* A cache that promises less is fine. */
    {
        struct tz c;
        tz_clone(&c, &t);
        c.z.no_run_below = 187;
        CHECK_STR_EQ(pmm_zone_check(&c.z), NULL);
        tz_done(&c);
    }
    tz_done(&t);
}

/* The check and the hot list: listed frames are free in `used` and used
 * in the summaries; a list that breaks either is caught. */
static void test_check_catches_hot(void)
{
    struct tz t;
    tz_make(&t, 300, ALL);
    pmm_zone_release(&t.z, 10, 280); /* 10..289 */
    for (int i = 0; i < 50; i++)
        pmm_zone_alloc(&t.z, TAG_HEAP, 0x100);
    CHECK_EQ_U64(pmm_zone_free(&t.z, 20), PMM_OK);
    CHECK_EQ_U64(pmm_zone_free(&t.z, 45), PMM_OK);
    CHECK_EQ_U64(pmm_zone_free(&t.z, 11), PMM_OK);
    CHECK_OK(&t);
    /* word 0: 0..9 reserved, 10..31 heap but 11 and 20 listed: full in the
     * summaries.  word 1: 32..59 heap but 45 listed, 60..63 free. */
    CHECK_EQ_U64(t.z.avail_l1[0] & 3, 2);
    CHECK_EQ_U64(t.z.half_l1[0] & 3, 0);

    BROKEN(&t, "a used frame on the hot list", z->hot[0] = 12);
    BROKEN(&t, "a used frame on the hot list", z->hot[2] = 5); /* reserved */
    BROKEN(&t, "a used frame on the hot list", z->used[0] |= 1u << 20);
    BROKEN(&t, "a frame twice on the hot list", z->hot[1] = 20);
    BROKEN(&t, "a frame twice on the hot list", { z->hot[3] = 45; z->hot_count = 4; });
    BROKEN(&t, "a frame past the zone on the hot list", z->hot[2] = 300);
    BROKEN(&t, "a frame past the zone on the hot list", z->hot[0] = UINT32_MAX);
    BROKEN(&t, "hot list longer than its array", z->hot_count = PMM_HOT_FRAMES + 1);
    /* A listed frame dropped from the list without a drain: free, and the
     * summaries still say its word is full. */
    BROKEN(&t, "avail summary", z->hot_count = 2);
    BROKEN(&t, "avail summary", z->hot_count = 0);
    /* Summaries that say free where a listed frame sits. */
    BROKEN(&t, "avail summary", z->avail_l1[0] |= 1u);
    BROKEN(&t, "half summary", z->half_l1[0] |= 1u << 1);
    /* Draining by hand fixes what a lost list broke: the state is exact. */
    {
        struct tz c;
        tz_clone(&c, &t);
        pmm_zone_drain_hot(&c.z);
        CHECK_STR_EQ(pmm_zone_check(&c.z), NULL);
        CHECK_EQ_U64(c.z.avail_l1[0] & 3, 3);
        tz_done(&c);
    }
    /* A free frame listed once more than it was freed is still free in
     * both views when its word stays available: allowed, and harmless
     * (a pop takes it, a drain refreshes it). */
    {
        struct tz c;
        tz_clone(&c, &t);
        c.z.hot[c.z.hot_count++] = 61;
        CHECK_STR_EQ(pmm_zone_check(&c.z), NULL);
        CHECK_EQ_U64(pmm_zone_alloc(&c.z, TAG_USER, 0), 61);
        CHECK_STR_EQ(pmm_zone_check(&c.z), NULL);
        tz_done(&c);
    }
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

int main(void)
{
    RUN(test_names);
    RUN(test_storage);
    RUN(test_init);
    RUN(test_release_reserve);
    RUN(test_alloc_order_and_hint);
    RUN(test_free_errors);
    RUN(test_hot_list_lifo);
    RUN(test_hot_list_full);
    RUN(test_hot_list_is_free);
    RUN(test_hot_list_drains);
    RUN(test_hot_list_and_cache);
    RUN(test_refs);
    RUN(test_features_off);
    RUN(test_owner_table);
    RUN(test_owner_registration);
    RUN(test_refs_pinned);
    RUN(test_bad_tags);
    RUN(test_query_and_counts);
    RUN(test_largest_free_run);
    RUN(test_runs_basic);
    RUN(test_runs_below);
    RUN(test_runs_all_sizes);
    RUN(test_runs_word_boundaries);
    RUN(test_runs_large);
    RUN(test_runs_none_and_cache);
    RUN(test_runs_bad_args);
    RUN(test_free_run_errors);
    RUN(test_check_catches);
    RUN(test_check_catches_hot);
    RUN(test_summarize_and_ages);
    return check_summary("pmm_zone");
}
