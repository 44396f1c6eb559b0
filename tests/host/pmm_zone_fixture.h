/*
 * pmm_zone_fixture.h - what the frame zone's unit tests share
 * (test_pmm_zone.c, test_pmm_zone_queue.c, test_pmm_zone_check.c): a zone
 * in a heap block of its own, a copy of one to break on purpose, and short
 * ways to ask what a frame is and what the queue holds.
 *
 * Every zone's storage is a heap block of exactly pmm_zone_storage_bytes,
 * filled with a pattern first, so ASan reports any write past it and
 * nothing depends on the block starting out zero.  The record helpers
 * repeat the layout pmm_zone.h documents, because the zone's own helpers
 * (pmm_zone_bits.h) are private to src/memory.
 *
 * Everything here is static inline: each program uses a different part,
 * and an unused static function would fail the -Werror build.
 */
#ifndef TESTS_PMM_ZONE_FIXTURE_H
#define TESTS_PMM_ZONE_FIXTURE_H

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

static inline void tz_make(struct tz *t, uint32_t frames, unsigned features)
{
    t->bytes = pmm_zone_storage_bytes(frames, features);
    t->mem = malloc(t->bytes ? t->bytes : 1);
    if (!t->mem)
        abort();
    memset(t->mem, 0xa5, t->bytes);
    pmm_zone_init(&t->z, t->mem, frames, features);
}

static inline void tz_done(struct tz *t)
{
    free(t->mem);
    t->mem = NULL;
}

/* A copy of the zone in its own storage, every pointer moved with it (the
 * queue is an array inside struct pmm_zone: the struct copy carries it). */
static inline void tz_clone(struct tz *dst, const struct tz *src)
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
    REBASE(freeable);
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
#undef REBASE
}

/* A record's fields, as pmm_zone.h lays them out. */
static inline uint8_t rec_tag(frame_record_t r)
{
    return (uint8_t)(r & ((1u << RECORD_TAG_BITS) - 1));
}

static inline uint32_t rec_slot(frame_record_t r)
{
    return ((uint32_t)r >> RECORD_TAG_BITS) & 0xfffu;
}

static inline uint8_t rec_epoch(frame_record_t r)
{
    return (uint8_t)(r >> 16);
}

static inline frame_record_t rec_make(uint8_t tag, uint32_t slot)
{
    return (frame_record_t)(tag | slot << RECORD_TAG_BITS);
}

#define CHECK_OK(t) CHECK_STR_EQ(pmm_zone_check(&(t)->z), NULL)

/* What a query says of frame f: its state, tag, references and owner,
 * each checked (and reported) on its own. */
#define CHECK_FRAME(z, f, want_state, want_tag, want_refs, want_owner)               \
    do {                                                                             \
        struct frame_info fi_;                                                       \
        pmm_zone_query((z), (f), &fi_);                                              \
        CHECK_EQ_U64(fi_.state, (want_state));                                       \
        CHECK_EQ_U64(fi_.tag, (want_tag));                                           \
        CHECK_EQ_U64(fi_.refs, (want_refs));                                         \
        CHECK_EQ_U64(fi_.owner, (want_owner));                                       \
    } while (0)

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

/* ... and a clone with a change the invariants allow must pass it. */
#define ALLOWED(t, change)                                                           \
    do {                                                                             \
        struct tz c_;                                                                \
        tz_clone(&c_, (t));                                                          \
        struct pmm_zone *z = &c_.z;                                                  \
        change;                                                                      \
        CHECK_STR_EQ(pmm_zone_check(z), NULL);                                       \
        tz_done(&c_);                                                                \
    } while (0)

static inline enum frame_state state_of(const struct pmm_zone *z, uint32_t f)
{
    struct frame_info fi;
    pmm_zone_query(z, f, &fi);
    return fi.state;
}

static inline uint8_t tag_of(const struct pmm_zone *z, uint32_t f)
{
    struct frame_info fi;
    pmm_zone_query(z, f, &fi);
    return fi.tag;
}

/* Allocates every free frame (in whatever order the zone picks: the
 * queue's first, then the bitmap's). */
static inline void fill(struct pmm_zone *z)
{
    while (pmm_zone_alloc(z, TAG_USER, 0) != PMM_NO_FRAME) {
    }
}

/* The queue is a ring: its i-th oldest frame, and where that is kept. */
static inline uint32_t *queue_slot(struct pmm_zone *z, uint32_t i)
{
    return &z->queue[(z->queue_head + i) & (PMM_QUEUE_FRAMES - 1)];
}

static inline uint32_t queue_at(const struct pmm_zone *z, uint32_t i)
{
    return z->queue[(z->queue_head + i) & (PMM_QUEUE_FRAMES - 1)];
}

/* The queue as it stands, oldest first, compared with want[0..n). */
static inline bool queue_is(const struct pmm_zone *z, const uint32_t *want, uint32_t n)
{
    if (z->queue_count != n)
        return false;
    for (uint32_t i = 0; i < n; i++)
        if (queue_at(z, i) != want[i])
            return false;
    return true;
}

/* The l1 bit of word w in a summary. */
static inline bool summary_bit(const uint32_t *l1, uint32_t w)
{
    return (l1[w >> 5] >> (w & 31)) & 1;
}

#endif
