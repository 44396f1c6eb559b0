/*
 * test_pmm_zone_check.c - the frame zone's consistency check:
 * pmm_zone_check catching each corruption planted in a copy of a zone
 * (BROKEN) and passing what the invariants allow (ALLOWED), the queue of
 * freed frames, the summary rule it relaxes and the owner table included.
 *
 * Building, single frames and runs are test_pmm_zone.c; what a zone
 * records about frames is test_pmm_zone_records.c; the queue's behaviour
 * is test_pmm_zone_queue.c.
 */
#include "pmm_zone_fixture.h"
#include "../../src/memory/pmm_zone_bits.h" /* owner_probe: where an owner goes */

/* ---- the consistency check --------------------------------------------------------- */

/* Where the zone's probe puts an owner (0 when a full table has no room):
 * the allocator's own owner_probe. */
static uint32_t probe_slot(const struct pmm_zone *z, uint32_t owner)
{
    return owner_probe(z, owner);
}

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
    /* The counters: reserved_frames, and bitmap_free (the free count is
     * it plus the queued frames; the allocated count is the rest). */
    BROKEN(&t, "reserved counter", z->reserved_frames--);
    BROKEN(&t, "free count", z->bitmap_free++);
    BROKEN(&t, "free count", z->bitmap_free = 0);
    BROKEN(&t, "neither allocated", z->used[4] |= 1u << 3); /* a free frame marked used */
    BROKEN(&t, "free count", { z->used[4] |= 1u << 3; z->freeable[4] |= 1u << 3; });
    BROKEN(&t, "not marked used", z->reserved[8] |= 1u << 20);
    BROKEN(&t, "past the zone", { z->used[9] &= ~(1u << 31); z->reserved[9] &= ~(1u << 31);
                                  z->pinned[9] &= ~(1u << 31); });
    BROKEN(&t, "past the zone", { z->reserved[9] &= ~(1u << 12); z->pinned[9] &= ~(1u << 12); });
    BROKEN(&t, "past the zone", z->freeable[9] |= 1u << 12);
    BROKEN(&t, "not marked used", z->used[9] &= ~(1u << 12));
    /* The four bitmaps against each other (pmm_zone.h). */
    BROKEN(&t, "not marked used", z->used[0] &= ~(1u << 15));  /* allocated */
    BROKEN(&t, "not marked used", z->used[0] &= ~(1u << 3));   /* reserved */
    BROKEN(&t, "both freeable and pinned", z->pinned[0] |= 1u << 15);
    BROKEN(&t, "both freeable and pinned", z->freeable[0] |= 1u << 12); /* shared */
    BROKEN(&t, "both freeable and pinned", z->freeable[0] |= 1u << 3);  /* reserved */
    /* Records: the tag (4 bits), the owner's slot (12 bits), the epoch
     * (8 bits) and 8 bits that stay 0. */
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
    BROKEN(&t, "recorded for a reserved", z->records[5] = rec_make(TAG_RESERVED, 1));
    BROKEN(&t, "recorded for a reserved",
           z->records[295] = rec_make(TAG_RESERVED, RECORD_SLOT_UNKNOWN));
    BROKEN(&t, "recorded for a reserved", z->records[5] |= 7u << 16); /* an epoch */
    BROKEN(&t, "above its epoch", z->records[20] |= 1u << 24);
    BROKEN(&t, "above its epoch", z->records[5] |= 1u << 31);
    BROKEN(&t, "owner slot is empty", z->records[20] = rec_make(TAG_HEAP, empty_slot));
    BROKEN(&t, "owner slot is empty", z->records[70] = rec_make(TAG_DMA, PMM_OWNER_SLOTS));
    /* Refcounts: kept in refs[] only while the frame is pinned. */
    BROKEN(&t, "fewer than two references", z->refs[12] = 1);
    BROKEN(&t, "fewer than two references", z->refs[12] = 0);
    BROKEN(&t, "fewer than two references",
           { z->pinned[0] |= 1u << 21; z->freeable[0] &= ~(1u << 21); z->refs[21] = 1; });
    BROKEN(&t, "not marked used", z->pinned[1] |= 1u << (61 - 32)); /* free */
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
    BROKEN(&t, "owner count differs", z->owners[heap_slot] = 0);
    /* A new owner where the probe finds it is one too many for the count;
     * in any other empty slot (the probe stops at the first), or an owner
     * moved out of its slot, the lookup would never find it. */
    uint32_t at300 = probe_slot(&t.z, 0x300), far = 1;
    while (far == at300 || t.z.owners[far] != 0)
        far++;
    CHECK(at300 != 0 && t.z.owners[at300] == 0);
    BROKEN(&t, "owner count differs", z->owners[at300] = 0x300);
    BROKEN(&t, "owner its probe does not reach", z->owners[far] = 0x300);
    BROKEN(&t, "owner its probe does not reach",
           { z->owners[far] = 0x300; z->owner_count++; });
    BROKEN(&t, "owner its probe does not reach",
           { z->owners[far] = 0x100; z->owners[heap_slot] = 0; });
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
        c.z.records[250] |= 99u << 16; /* its epoch */
        CHECK_STR_EQ(pmm_zone_check(&c.z), NULL);
        pmm_zone_query(&c.z, 20, &fi);
        CHECK_EQ_U64(fi.refs, 1);
        pmm_zone_query(&c.z, 70, &fi);
        CHECK_EQ_U64(fi.refs, 1);
        CHECK_FRAME(&c.z, 250, FRAME_FREE, TAG_FREE, 0, 0);
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

/* The check and the queue.  Queued frames are free in `used`; a word's
 * summary bits may count them as free or as used, but every other frame
 * exactly.  The zone: 0..9 reserved, 10..59 heap, 60..63 free, 64..95 a
 * DMA run, 96..289 free, 290..299 reserved; then 20, 45 and 11 are freed,
 * after the ring was turned so that they sit across its end. */
static void queue_fixture(struct tz *t)
{
    tz_make(t, 300, ALL);
    pmm_zone_release(&t->z, 10, 280); /* 10..289 */
    for (int i = 0; i < 50; i++)
        pmm_zone_alloc(&t->z, TAG_HEAP, 0x100);
    CHECK_EQ_U64(pmm_zone_alloc_run(&t->z, 32, 32, TAG_DMA, 0x200), 64);
    for (uint32_t i = 0; i < PMM_QUEUE_FRAMES - 2; i++) {
        CHECK_EQ_U64(pmm_zone_free(&t->z, 59), PMM_OK);
        CHECK_EQ_U64(pmm_zone_alloc(&t->z, TAG_HEAP, 0x100), 59);
    }
    CHECK_EQ_U64(t->z.queue_head, PMM_QUEUE_FRAMES - 2);
    CHECK_EQ_U64(pmm_zone_free(&t->z, 20), PMM_OK);
    CHECK_EQ_U64(pmm_zone_free(&t->z, 45), PMM_OK);
    CHECK_EQ_U64(pmm_zone_free(&t->z, 11), PMM_OK);
    CHECK(queue_is(&t->z, (const uint32_t[]){20, 45, 11}, 3));
    CHECK_EQ_U64(t->z.queue[0], 11); /* the ring wrapped */
    CHECK_OK(t);
}

/* A queue that is not a set of free frames, still marked in `used`,
 * inside its array is caught. */
static void test_check_queue(void)
{
    struct tz t;
    queue_fixture(&t);
    BROKEN(&t, "a queued frame", *queue_slot(z, 0) = 12);            /* allocated */
    BROKEN(&t, "a queued frame", *queue_slot(z, 2) = 5);             /* reserved */
    BROKEN(&t, "a queued frame", *queue_slot(z, 1) = 70);            /* DMA */
    BROKEN(&t, "a queued frame", *queue_slot(z, 1) = 61);            /* free, not in used */
    BROKEN(&t, "a queued frame", *queue_slot(z, z->queue_count++) = 61);
    BROKEN(&t, "a queued frame", z->used[0] &= ~(1u << 20));      /* drained by hand */
    BROKEN(&t, "a queued frame", z->freeable[0] |= 1u << 20);     /* allocated by hand */
    BROKEN(&t, "a frame twice in the queue", *queue_slot(z, 1) = 20);
    BROKEN(&t, "a frame twice in the queue", *queue_slot(z, 2) = 45);
    BROKEN(&t, "a frame twice in the queue", { *queue_slot(z, 3) = 20; z->queue_count = 4; });
    BROKEN(&t, "a frame past the zone in the queue", *queue_slot(z, 2) = 300);
    BROKEN(&t, "a frame past the zone in the queue", *queue_slot(z, 0) = UINT32_MAX);
    BROKEN(&t, "queue head or count past its array", z->queue_count = PMM_QUEUE_FRAMES + 1);
    BROKEN(&t, "queue head or count past its array", z->queue_count = UINT32_MAX);
    BROKEN(&t, "queue head or count past its array", z->queue_head = PMM_QUEUE_FRAMES);
    BROKEN(&t, "queue head or count past its array",
           { z->queue_head = UINT32_MAX; z->queue_count = 0; });
    /* Frames lost from the queue without a drain: still in `used`, but
     * neither allocated nor reserved nor queued, so no one would ever
     * hand them out again.  The newest, the oldest, one between, all. */
    BROKEN(&t, "neither allocated", z->queue_count = 2);
    BROKEN(&t, "neither allocated", { z->queue_head++; z->queue_count--; });
    BROKEN(&t, "neither allocated", { *queue_slot(z, 1) = 11; z->queue_count = 2; });
    BROKEN(&t, "neither allocated", z->queue_count = 0);
    tz_done(&t);
}

/* The summaries are exact over `used`, where queued frames still count:
 * with the queue as the fixture leaves it, then with a whole word of
 * queued frames, then drained. */
static void test_check_summaries_with_queue(void)
{
    struct tz t;
    queue_fixture(&t);
    /* As the frees left them: word 0 (its free frames, 11 and 20, both
     * queued) counts them used; word 1 (45 queued, 60..63 free) is
     * available; word 2 is full; word 3 all free. */
    CHECK(!summary_bit(t.z.avail_l1, 0));
    CHECK(summary_bit(t.z.avail_l1, 1));
    CHECK(!summary_bit(t.z.avail_l1, 2));
    CHECK(summary_bit(t.z.empty_l1, 3));

    /* A bit on for a word without the property in `used` (word 2 has no
     * free frame; word 0 only queued ones): it promises too much. */
    BROKEN(&t, "avail summary", z->avail_l1[0] |= 1u << 2);
    BROKEN(&t, "avail summary", z->avail_l1[0] |= 1u << 0);
    BROKEN(&t, "half summary", z->half_l1[0] |= 1u << 2);
    BROKEN(&t, "half summary", z->half_l1[0] |= 1u << 0);
    BROKEN(&t, "empty summary", z->empty_l1[0] |= 1u << 0);
    BROKEN(&t, "half summary", z->half_l1[0] |= 1u << 1); /* 48..63: 48..59 heap */
    /* A bit off for a word with the property: it hides frames. */
    BROKEN(&t, "avail summary", z->avail_l1[0] &= ~(1u << 1));
    BROKEN(&t, "avail summary", z->avail_l1[0] &= ~(1u << 3));
    BROKEN(&t, "half summary", z->half_l1[0] &= ~(1u << 3));
    BROKEN(&t, "empty summary", z->empty_l1[0] &= ~(1u << 3));
    CHECK_OK(&t);

    /* The DMA run freed frame by frame: word 2 is all free, all queued,
     * so still full in `used`: its three bits stay off. */
    for (uint32_t f = 64; f < 96; f++)
        CHECK_EQ_U64(pmm_zone_free(&t.z, f), PMM_OK);
    CHECK_EQ_U64(t.z.queue_count, 35);
    CHECK_EQ_U64(t.z.used[2], 0xffffffffu);
    CHECK_EQ_U64(t.z.freeable[2], 0);
    CHECK(!summary_bit(t.z.avail_l1, 2));
    CHECK(!summary_bit(t.z.half_l1, 2));
    CHECK(!summary_bit(t.z.empty_l1, 2));
    CHECK_OK(&t);
    BROKEN(&t, "avail summary", z->avail_l1[0] |= 1u << 2);
    BROKEN(&t, "empty summary", z->empty_l1[0] |= 1u << 2);
    /* Taking frames out of the queue changes no summary. */
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_USER, 0), 20);
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_USER, 0), 45);
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_USER, 0), 11);
    CHECK_EQ_U64(pmm_zone_alloc(&t.z, TAG_USER, 0), 64);
    CHECK(!summary_bit(t.z.avail_l1, 2));
    CHECK_OK(&t);
    /* Draining takes 65..95 out of `used`, and the summaries follow. */
    pmm_zone_drain_queue(&t.z);
    CHECK_OK(&t);
    CHECK_EQ_U64(t.z.used[2], 1);
    CHECK(summary_bit(t.z.avail_l1, 2));
    CHECK(summary_bit(t.z.half_l1, 2));
    CHECK(!summary_bit(t.z.empty_l1, 2));
    CHECK(!summary_bit(t.z.avail_l1, 0));
    BROKEN(&t, "avail summary", z->avail_l1[0] &= ~(1u << 2));
    BROKEN(&t, "half summary", z->half_l1[0] &= ~(1u << 2));
    tz_done(&t);
}

/* A table with PMM_OWNERS_MAX owners: one more, even where the probe
 * finds it, is too many; a damaged table with no empty slot still lets
 * the check and an allocation end. */
static void test_check_owner_table_full(void)
{
    struct tz t;
    tz_make(&t, 1024, ALL);
    pmm_zone_release(&t.z, 0, 1024);
    for (uint32_t i = 0; i < PMM_OWNERS_MAX; i++)
        pmm_zone_alloc(&t.z, TAG_HEAP, 0xc0100000u + 4 * i);
    CHECK_EQ_U64(t.z.owner_count, PMM_OWNERS_MAX);
    CHECK_OK(&t);
    BROKEN(&t, "owner count differs", {
        z->owners[probe_slot(z, 0x77)] = 0x77;
        z->owner_count++;
    });
    {
        struct tz c;
        tz_clone(&c, &t);
        for (uint32_t s = 1, k = 0; s < PMM_OWNER_SLOTS; s++)
            if (c.z.owners[s] == 0)
                c.z.owners[s] = 0xd0000000u + 4 * k++;
        c.z.owner_count = PMM_OWNER_SLOTS - 1;
        CHECK_EQ_U64(probe_slot(&c.z, 0x55), 0);
        CHECK_STR_EQ(pmm_zone_check(&c.z), "owner count differs from the owner table");
        uint32_t f = pmm_zone_alloc(&c.z, TAG_USER, 0x55);
        CHECK_EQ_U64(f, PMM_OWNERS_MAX);
        CHECK_EQ_U64(rec_slot(c.z.records[f]), RECORD_SLOT_UNKNOWN);
        tz_done(&c);
    }
    tz_done(&t);
}

int main(void)
{
    RUN(test_check_catches);
    RUN(test_check_queue);
    RUN(test_check_summaries_with_queue);
    RUN(test_check_owner_table_full);
    return check_summary("pmm_zone_check");
}
