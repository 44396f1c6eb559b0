/*
 * pmm_model.h - a reference model of a frame zone, and a driver that turns
 * a stream of numbers into zone operations checked against it.
 *
 * Shared by the model-based random test (tests/host/test_pmm_model.c,
 * numbers from a seeded PRNG) and the fuzz target (tests/fuzz/fuzz_pmm.c,
 * numbers from the fuzzer's bytes).  The model is the obvious one: an
 * array with each frame's state, tag, references and owner, plus the two
 * things the zone remembers besides: its queue of frames freed one at a
 * time and its table of owners.  Every operation's result is
 * predicted from it and compared:
 *
 *   alloc       the oldest frame in the queue; when that is empty, the
 *               lowest free frame at or after the hint's word, else the
 *               lowest free frame (exactly); PMM_NO_FRAME when none is free
 *               or the tag is TAG_FREE or not a tag
 *   alloc_run   a run inside the zone, aligned, all free; PMM_NO_FRAME only
 *               when the model has no such run (brute force); one frame at
 *               alignment 1 is a single allocation (exactly)
 *   free, free_run, ref, unref   the exact error (and bad frame), or success
 *   reserve, release             the count returned, the new states
 *
 * The queue, as pmm_zone.c keeps it: a frame freed alone (pmm_zone_free,
 * free_run of one frame, the unref that drops the last reference) joins
 * its tail, after the older half of a full queue has left it ("drained");
 * a single allocation takes the oldest.  Everything else that changes the
 * bitmap drains the whole queue first: alloc_run and alloc_run_below at
 * their entry (even when they then refuse), reserve and release (even over
 * nothing), free_run of more frames once its checks have passed.  ref, unref that keeps the frame, queries
 * and scans leave it alone.
 *
 * Owners: a zone with PMM_FEAT_OWNERS registers the owner (not 0) of each
 * successful allocation while it has fewer than PMM_OWNERS_MAX; a frame
 * allocated by an owner that found no room is reported PMM_OWNER_UNKNOWN.
 * Owners are drawn mostly from a small pool (call sites) and now and then
 * fresh, so a long run fills the table.
 *
 * After every operation the counters, the queue and the number of
 * owners must equal the model's; every `full_every` operations (and at the
 * end) pmm_zone_check must pass and every frame's query must equal the
 * model's record.  Everything is freed at the end: no frame may be lost.
 *
 * A failure prints what happened and aborts (the fuzzer wants a crash; the
 * random test then exits non-zero).
 */
#ifndef TESTS_PMM_MODEL_H
#define TESTS_PMM_MODEL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/pmm_zone.h"
#include "model_expect.h"

/* ---- where the numbers come from -------------------------------------------- */

struct op_source {
    const uint8_t *data; /* bytes to read (fuzzer), or NULL: use rng */
    size_t len, at;
    uint64_t rng;
};

/* n (<= 32) bits; a byte source that has run out gives zeros. */
static uint32_t src_bits(struct op_source *s, unsigned n)
{
    uint64_t v = 0;
    if (!s->data) {
        s->rng ^= s->rng << 13;
        s->rng ^= s->rng >> 7;
        s->rng ^= s->rng << 17;
        v = (s->rng * 0x2545f4914f6cdd1dull) >> 32;
    } else {
        for (unsigned got = 0; got < n; got += 8)
            v |= (uint64_t)(s->at < s->len ? s->data[s->at++] : 0) << got;
    }
    return n >= 32 ? (uint32_t)v : (uint32_t)(v & ((1ull << n) - 1));
}

static inline bool src_done(const struct op_source *s)
{
    return s->data && s->at >= s->len;
}

/* A number in [0, n). */
static uint32_t src_below(struct op_source *s, uint32_t n)
{
    return n ? src_bits(s, 32) % n : 0;
}

/* ---- the model ------------------------------------------------------------------ */

enum { M_FREE, M_ALLOC, M_RES };

struct held {
    uint32_t first, count;
};

/* What happened, counted (to show the operations reach every case). */
enum {
    ST_ALLOC, ST_ALLOC_FULL, ST_RUN, ST_RUN_REFUSED, ST_RUN_BAD, ST_FREE, ST_FREE_ERR,
    ST_REF, ST_REF_ERR, ST_UNREF_FREED, ST_RESERVE, ST_RELEASE, ST_LOOK,
    ST_QUEUE_POP,     /* single allocations answered from the queue */
    ST_DRAIN_FULL,    /* a free found the queue full and drained its older half */
    ST_DRAIN,         /* another operation drained a queue that was not empty */
    ST_DRAIN_HAND,    /* pmm_zone_drain_queue called on a queue that was not empty */
    ST_OWNER_UNKNOWN, /* frames allocated by an owner the full table had no room for */
    ST_TAG_BAD,       /* allocations refused for a tag past the last one */
    ST_COUNT
};
static const char *const stat_names[ST_COUNT] __attribute__((unused)) = {
    "alloc", "alloc-full", "run", "run-none", "run-badarg", "free", "free-refused",
    "ref/unref", "ref-refused", "unref-freed", "reserve", "release", "look",
    "queue-pop", "drain-half", "drain", "drain-hand", "owner-unknown", "tag-refused",
};
static unsigned long model_stats[ST_COUNT];

/* The owners a model draws from: a few call sites, and 0 (none). */
#define MODEL_OWNER_POOL 40
#define MODEL_OWNER_SET 2048 /* open addressing, at most PMM_OWNERS_MAX in it */

struct model {
    struct pmm_zone z;
    void *storage;
    uint32_t frames;
    unsigned features;
    uint8_t *state, *tag;
    uint16_t *refs;
    uint32_t *owner; /* as pmm_zone_query should report it */
    uint32_t nfree, nalloc, nres;
    uint32_t queue[PMM_QUEUE_FRAMES], nqueue; /* the zone's queue, oldest first */
    uint32_t owners[MODEL_OWNER_SET], nowners; /* the owners registered (0: empty) */
    uint32_t pool[MODEL_OWNER_POOL];
    uint32_t fresh_owners; /* in 256 allocations, how many by a fresh owner */
    struct held *held; /* what was handed out, to pick frees from */
    size_t nheld;
    unsigned long ops, checks;
    char last[160]; /* the operation being checked, for failure reports */
    const char *who;
};

static void model_fail(struct model *m, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: FAILED after %lu operations (%u frames, features %u)\n  ", m->who,
            m->ops, m->frames, m->features);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n  operation: %s\n", m->last);
    abort();
}

static void model_set(struct model *m, uint32_t f, int state, uint8_t tag, uint16_t refs,
                      uint32_t owner)
{
    int was = m->state[f];
    m->nfree -= was == M_FREE;
    m->nalloc -= was == M_ALLOC;
    m->nres -= was == M_RES;
    m->state[f] = (uint8_t)state;
    m->nfree += state == M_FREE;
    m->nalloc += state == M_ALLOC;
    m->nres += state == M_RES;
    m->tag[f] = tag;
    m->refs[f] = refs;
    m->owner[f] = owner;
}

static void model_open(struct model *m, uint32_t frames, unsigned features, const char *who)
{
    memset(m, 0, sizeof(*m));
    m->who = who;
    m->frames = frames;
    m->features = features;
    size_t bytes = pmm_zone_storage_bytes(frames, features);
    m->storage = malloc(bytes ? bytes : 1);
    m->state = malloc(frames + 1);
    m->tag = malloc(frames + 1);
    m->refs = malloc((frames + 1) * sizeof(uint16_t));
    m->owner = malloc((frames + 1) * sizeof(uint32_t));
    m->held = malloc((frames + 1) * sizeof(struct held));
    if (!m->storage || !m->state || !m->tag || !m->refs || !m->owner || !m->held)
        abort();
    memset(m->storage, 0x5a, bytes);
    pmm_zone_init(&m->z, m->storage, frames, features);
    memset(m->state, M_RES, frames);
    memset(m->tag, TAG_RESERVED, frames);
    memset(m->refs, 0, frames * sizeof(uint16_t));
    memset(m->owner, 0, frames * sizeof(uint32_t));
    m->nres = frames;
    for (uint32_t i = 0; i < MODEL_OWNER_POOL; i++)
        m->pool[i] = 0xc0100000u + 0x1c4u * i; /* addresses in a kernel's text */
    m->fresh_owners = 16;
}

static void model_close(struct model *m)
{
    free(m->storage);
    free(m->state);
    free(m->tag);
    free(m->refs);
    free(m->owner);
    free(m->held);
}

/* ---- the queue and the owners ----------------------------------------------------------- */

/* The zone empties its queue (the frames stay free); `why` counts it when
 * there was something to drain. */
static void model_drain(struct model *m, int why)
{
    if (m->nqueue)
        model_stats[why]++;
    m->nqueue = 0;
}

/* Frame f was freed alone: to the tail, after the older half of a full
 * queue has left it. */
static void model_push(struct model *m, uint32_t f)
{
    if (m->nqueue == PMM_QUEUE_FRAMES) {
        uint32_t half = PMM_QUEUE_FRAMES / 2;
        memmove(m->queue, m->queue + half, (PMM_QUEUE_FRAMES - half) * sizeof(m->queue[0]));
        m->nqueue -= half;
        model_stats[ST_DRAIN_FULL]++;
    }
    m->queue[m->nqueue++] = f;
}

/* The frame a single allocation must return (some frame is free, the tag
 * is good): the newest listed, or the bitmap's lowest free frame from the
 * hint's word on, else from frame 0.  A listed frame leaves the list. */
static uint32_t model_next_single(struct model *m, uint32_t hint)
{
    if (m->nqueue) {
        uint32_t f = m->queue[0];
        memmove(m->queue, m->queue + 1, --m->nqueue * sizeof(m->queue[0]));
        model_stats[ST_QUEUE_POP]++;
        return f;
    }
    for (uint64_t g = (uint64_t)hint * 32; g < m->frames; g++)
        if (m->state[g] == M_FREE)
            return (uint32_t)g;
    for (uint32_t g = 0; g < m->frames; g++)
        if (m->state[g] == M_FREE)
            return g;
    return PMM_NO_FRAME;
}

/* The model's set of registered owners: is owner in it (*at: where it is,
 * or the empty place it would go)? */
static bool model_owner_known(const struct model *m, uint32_t owner, uint32_t *at)
{
    uint32_t i = (owner ^ owner >> 13) * 0x9e3779b1u % MODEL_OWNER_SET;
    while (m->owners[i] != 0 && m->owners[i] != owner)
        i = (i + 1) % MODEL_OWNER_SET;
    *at = i;
    return m->owners[i] == owner;
}

/* A successful allocation by owner: registered if the zone keeps owners
 * and has room; returns what a query will report for its frames. */
static uint32_t model_owner_alloc(struct model *m, uint32_t owner)
{
    uint32_t at;
    if (!(m->features & PMM_FEAT_OWNERS))
        return 0;
    if (owner == 0)
        return 0;
    if (model_owner_known(m, owner, &at))
        return owner;
    if (m->nowners < PMM_OWNERS_MAX) {
        m->owners[at] = owner;
        m->nowners++;
        return owner;
    }
    return PMM_OWNER_UNKNOWN;
}

/* ---- checks ---------------------------------------------------------------------- */

/* After every operation: the counters, the queue, the owner count. */
static void model_check_counters(struct model *m)
{
    uint32_t nfree = pmm_zone_free_count(&m->z), nalloc = pmm_zone_allocated_count(&m->z);
    MODEL_EXPECT(m, nfree == m->nfree && nalloc == m->nalloc && m->z.reserved_frames == m->nres,
                 "counters free %u allocated %u reserved %u, model %u %u %u", nfree, nalloc,
                 m->z.reserved_frames, m->nfree, m->nalloc, m->nres);
    MODEL_EXPECT(m, m->z.queue_count <= PMM_QUEUE_FRAMES && m->z.queue_count == m->nqueue,
                 "queue of %u frames, model %u", m->z.queue_count, m->nqueue);
    for (uint32_t i = 0; i < m->nqueue; i++) {
        uint32_t f = m->z.queue[(m->z.queue_head + i) & (PMM_QUEUE_FRAMES - 1)];
        MODEL_EXPECT(m, f == m->queue[i], "queue [%u] is frame %u, model %u", i, f,
                     m->queue[i]);
    }
    MODEL_EXPECT(m, m->z.owner_count == m->nowners, "%u owners registered, model %u",
                 m->z.owner_count, m->nowners);
}

static void model_check_full(struct model *m)
{
    const char *broken = pmm_zone_check(&m->z);
    MODEL_EXPECT(m, broken == NULL, "pmm_zone_check: %s", broken);
    static const enum frame_state states[3] = {FRAME_FREE, FRAME_ALLOCATED, FRAME_RESERVED};
    for (uint32_t f = 0; f < m->frames; f++) {
        struct frame_info fi;
        pmm_zone_query(&m->z, f, &fi);
        uint16_t refs = m->state[f] == M_ALLOC && !(m->z.features & PMM_FEAT_REFS) ? 1
                                                                                    : m->refs[f];
        uint32_t owner = m->owner[f];
        MODEL_EXPECT(m, fi.state == states[m->state[f]] && fi.tag == m->tag[f] &&
                            fi.refs == refs && fi.owner == owner,
                     "frame %u: state %d tag %u refs %u owner %u; model %d %u %u %u", f,
                     fi.state, fi.tag, fi.refs, fi.owner, m->state[f], m->tag[f], refs, owner);
    }
    struct frame_info fi;
    pmm_zone_query(&m->z, m->frames, &fi);
    MODEL_EXPECT(m, fi.state == FRAME_OUT_OF_RANGE, "frame past the end: state %d", fi.state);
}

/* Whether the model holds an aligned free run lying wholly below `limit`. */
static bool model_run_exists_below(const struct model *m, uint32_t count, uint32_t align,
                                   uint64_t limit)
{
    uint64_t start = 0;
    if (limit > m->frames)
        limit = m->frames;
    for (uint64_t f = 0; f <= limit; f++) {
        if (f < limit && m->state[f] == M_FREE)
            continue;
        /* [start, f) is a free run (maybe empty) */
        uint64_t a = (start + align - 1) & ~(uint64_t)(align - 1);
        if (a + count <= f)
            return true;
        start = f + 1;
    }
    return false;
}

static uint32_t model_longest(const struct model *m, uint32_t *first)
{
    uint32_t best = 0, run = 0;
    *first = PMM_NO_FRAME;
    for (uint32_t f = 0; f < m->frames; f++) {
        run = m->state[f] == M_FREE ? run + 1 : 0;
        if (run > best) {
            best = run;
            *first = f + 1 - run;
        }
    }
    return best;
}

/* The error a free of frame f should give (the model's view). */
static enum pmm_error model_free_error(const struct model *m, uint64_t f)
{
    if (f >= m->frames)
        return PMM_ERR_RANGE;
    if (m->state[f] == M_FREE)
        return PMM_ERR_NOT_ALLOCATED;
    if (m->state[f] == M_RES)
        return PMM_ERR_RESERVED;
    if ((m->z.features & PMM_FEAT_REFS) && m->refs[f] > 1)
        return PMM_ERR_SHARED;
    return PMM_OK;
}

static enum pmm_error model_ref_error(const struct model *m, uint32_t f)
{
    if (!(m->z.features & PMM_FEAT_REFS))
        return PMM_ERR_BAD_ARG;
    if (f >= m->frames)
        return PMM_ERR_RANGE;
    if (m->state[f] == M_RES)
        return PMM_ERR_RESERVED;
    if (m->state[f] == M_FREE)
        return PMM_ERR_NOT_ALLOCATED;
    return PMM_OK;
}

/* ---- operations ------------------------------------------------------------------ */

static void held_push(struct model *m, uint32_t first, uint32_t count)
{
    if (m->nheld <= m->frames) {
        m->held[m->nheld++] = (struct held){first, count};
        return;
    }
    m->held[m->ops % m->nheld] = (struct held){first, count}; /* full: replace one */
}

/* Takes out a random item (count 0: none). */
static struct held held_take(struct model *m, struct op_source *s)
{
    if (m->nheld == 0)
        return (struct held){0, 0};
    size_t i = src_below(s, (uint32_t)m->nheld);
    struct held h = m->held[i];
    m->held[i] = m->held[--m->nheld];
    return h;
}

/* Mostly allocation tags; now and then one to refuse: TAG_FREE, or one
 * past the last (some would still fit in a record's 4 bits, some not). */
static uint8_t pick_tag(struct op_source *s)
{
    uint32_t r = src_bits(s, 5);
    if (r == 0)
        return TAG_FREE;
    if (r == 1)
        return (uint8_t)(TAG_COUNT + src_bits(s, 2));
    if (r == 2)
        return (uint8_t)(255 - src_bits(s, 6));
    return (uint8_t)(TAG_PAGETABLE + r % (TAG_COUNT - TAG_PAGETABLE));
}

/* Mostly an owner of the pool; now and then none, or a fresh one (which
 * fills the zone's table, as fast as m->fresh_owners says: a full table
 * makes pmm_zone_check slower, so the random test fills it in a few
 * zones only). */
static uint32_t pick_owner(struct model *m, struct op_source *s)
{
    if (src_bits(s, 8) < m->fresh_owners)
        return src_bits(s, 32);
    uint32_t r = src_bits(s, 4);
    return r == 0 ? 0 : m->pool[src_below(s, MODEL_OWNER_POOL)];
}

/* Mostly a frame of the zone; now and then one just past it or near 2^32. */
static uint32_t pick_frame(struct model *m, struct op_source *s)
{
    uint32_t r = src_bits(s, 4);
    if (r == 0)
        return m->frames + src_bits(s, 3);
    if (r == 1)
        return UINT32_MAX - src_bits(s, 2);
    return src_below(s, m->frames);
}

/* A frame of a held item, else any frame. */
static uint32_t pick_held_frame(struct model *m, struct op_source *s)
{
    if (m->nheld == 0)
        return pick_frame(m, s);
    struct held h = m->held[src_below(s, (uint32_t)m->nheld)];
    return h.first + src_below(s, h.count);
}

/* The frames handed out by one allocation are [f, f + count): record them. */
static void model_allocated(struct model *m, uint32_t f, uint32_t count, uint8_t tag,
                            uint32_t owner)
{
    uint32_t shown = model_owner_alloc(m, owner);
    for (uint32_t k = 0; k < count; k++) {
        MODEL_EXPECT(m, m->state[f + k] == M_FREE, "frame %u handed out, but it is not free",
                     f + k);
        model_set(m, f + k, M_ALLOC, tag, 1, shown);
    }
    if (shown == PMM_OWNER_UNKNOWN)
        model_stats[ST_OWNER_UNKNOWN] += count;
    held_push(m, f, count);
}

static void op_alloc(struct model *m, struct op_source *s)
{
    uint8_t tag = pick_tag(s);
    uint32_t owner = pick_owner(m, s), hint = m->z.hint;
    MODEL_NOTE(m, "alloc tag %u owner 0x%x (hint word %u, %u queued)", tag, owner, hint,
               m->nqueue);
    uint32_t f = pmm_zone_alloc(&m->z, tag, owner);
    if (tag == TAG_FREE || tag >= TAG_COUNT || m->nfree == 0) {
        MODEL_EXPECT(m, f == PMM_NO_FRAME, "got frame %u", f);
        model_stats[tag >= TAG_COUNT ? ST_TAG_BAD : ST_ALLOC_FULL]++;
        return;
    }
    uint32_t want = model_next_single(m, hint);
    MODEL_EXPECT(m, f == want, "got frame %u, expected %u", f, want);
    model_allocated(m, f, 1, tag, owner);
    model_stats[ST_ALLOC]++;
}

static void op_alloc_run(struct model *m, struct op_source *s)
{
    uint32_t r = src_bits(s, 3), count, align;
    if (r < 5)
        count = 1 + src_bits(s, 4);
    else if (r < 7)
        count = 1 + src_bits(s, 6);
    else
        count = src_bits(s, 1) ? 1 + src_below(s, 400) : src_bits(s, 1) ? 0 : UINT32_MAX;
    r = src_bits(s, 4);
    if (r < 6)
        align = 1;
    else if (r < 14)
        align = 1u << (r - 5); /* 2 .. 256 */
    else
        align = r == 14 ? 3 + 2 * src_bits(s, 3) : (src_bits(s, 1) ? 0 : 1u << 31);
    uint8_t tag = pick_tag(s);
    uint32_t owner = pick_owner(m, s), hint = m->z.hint;
    /* One run in four must lie below a limit (as DMA runs must). */
    bool below = src_bits(s, 2) == 0;
    uint32_t limit = below ? src_below(s, m->frames + 64) : m->frames;
    MODEL_NOTE(m,
               "alloc_run count %u align %u tag %u limit %u (no_run_below %u, hint %u, %u queued)",
               count, align, tag, limit, m->z.no_run_below, hint, m->nqueue);
    uint32_t p = below ? pmm_zone_alloc_run_below(&m->z, count, align, limit, tag, owner)
                       : pmm_zone_alloc_run(&m->z, count, align, tag, owner);
    model_drain(m, ST_DRAIN); /* first thing, whatever the arguments */
    bool bad = count == 0 || align == 0 || (align & (align - 1)) || tag == TAG_FREE ||
               tag >= TAG_COUNT;
    if (bad) {
        MODEL_EXPECT(m, p == PMM_NO_FRAME, "bad arguments accepted: got %u", p);
        model_stats[tag >= TAG_COUNT ? ST_TAG_BAD : ST_RUN_BAD]++;
        return;
    }
    /* One frame at alignment 1 (and no limit inside the zone) is a single
     * allocation, made with the list just drained: the bitmap's frame. */
    if (count == 1 && align == 1 && limit >= m->frames && m->nfree > 0) {
        uint32_t want = model_next_single(m, hint);
        MODEL_EXPECT(m, p == want, "one frame at %u, expected %u", p, want);
    }
    if (p == PMM_NO_FRAME) {
        MODEL_EXPECT(m, !model_run_exists_below(m, count, align, limit),
                     "refused, but a run exists (below %u)", limit);
        model_stats[ST_RUN_REFUSED]++;
        return;
    }
    if (below && limit < m->frames) {
        MODEL_EXPECT(m, (uint64_t)p + count <= limit, "run at %u passes the limit %u", p,
                     limit);
        MODEL_EXPECT(m, !model_run_exists_below(m, count, align, (uint64_t)p + count - 1),
                     "run at %u below %u is not the lowest", p, limit);
    }
    MODEL_EXPECT(m, p % align == 0 && (uint64_t)p + count <= m->frames,
                 "run at %u: not aligned or not inside", p);
    model_allocated(m, p, count, tag, owner);
    model_stats[ST_RUN]++;
}

/* The error (and frame) a free of [first, first + count) should give. */
static enum pmm_error model_run_error(const struct model *m, uint32_t first, uint32_t count,
                                      uint32_t *bad)
{
    *bad = first;
    if (count == 0)
        return PMM_ERR_BAD_ARG;
    for (uint64_t f = first; f < (uint64_t)first + count; f++) {
        enum pmm_error e = model_free_error(m, f);
        if (e != PMM_OK) {
            *bad = (uint32_t)f;
            return e;
        }
    }
    return PMM_OK;
}

static void do_free_run(struct model *m, uint32_t first, uint32_t count)
{
    uint32_t want_bad, got_bad = 0x5a5a5a5a;
    enum pmm_error want = model_run_error(m, first, count, &want_bad);
    enum pmm_error got = count == 1 && (m->ops & 1) ? pmm_zone_free(&m->z, first)
                                                    : pmm_zone_free_run(&m->z, first, count,
                                                                        &got_bad);
    if (count == 1 && (m->ops & 1))
        got_bad = want_bad;
    MODEL_EXPECT(m, got == want && (got == PMM_OK || got_bad == want_bad),
                 "error %d at frame %u, expected %d at %u", got, got_bad, want, want_bad);
    model_stats[got == PMM_OK ? ST_FREE : ST_FREE_ERR]++;
    if (got != PMM_OK)
        return; /* a refused free leaves the list alone */
    if (count == 1)
        model_push(m, first);
    else
        model_drain(m, ST_DRAIN);
    for (uint32_t k = 0; k < count; k++)
        model_set(m, first + k, M_FREE, TAG_FREE, 0, 0);
}

static void op_free_held(struct model *m, struct op_source *s)
{
    struct held h = held_take(m, s);
    if (h.count == 0)
        return;
    MODEL_NOTE(m, "free held %u+%u (no_run_below %u)", h.first, h.count, m->z.no_run_below);
    bool shared = model_free_error(m, h.first) == PMM_ERR_SHARED;
    do_free_run(m, h.first, h.count);
    if (shared)
        held_push(m, h.first, h.count); /* to be unref'd later */
}

static void op_free_random(struct model *m, struct op_source *s)
{
    uint32_t first = pick_frame(m, s), count = 1;
    uint32_t r = src_bits(s, 3);
    if (r == 1)
        count = src_bits(s, 6);
    else if (r == 2)
        count = UINT32_MAX - src_bits(s, 3);
    MODEL_NOTE(m, "free random %u+%u", first, count);
    do_free_run(m, first, count);
}

static void op_ref(struct model *m, struct op_source *s, bool any_frame)
{
    uint32_t f = any_frame ? pick_frame(m, s) : pick_held_frame(m, s);
    bool add = src_bits(s, 2) == 0; /* unref more often: shared frames drain */
    MODEL_NOTE(m, "%s frame %u", add ? "ref" : "unref", f);
    enum pmm_error want = model_ref_error(m, f);
    model_stats[want == PMM_OK ? ST_REF : ST_REF_ERR]++;
    if (add) {
        if (want == PMM_OK && m->refs[f] == PMM_REF_MAX)
            want = PMM_ERR_REF_OVERFLOW;
        enum pmm_error got = pmm_zone_ref(&m->z, f);
        MODEL_EXPECT(m, got == want, "error %d, expected %d", got, want);
        if (got == PMM_OK)
            m->refs[f]++;
        return;
    }
    bool freed = !(m->ops & 2);
    enum pmm_error got = pmm_zone_unref(&m->z, f, (m->ops & 4) ? NULL : &freed);
    MODEL_EXPECT(m, got == want, "error %d, expected %d", got, want);
    if (got != PMM_OK) {
        MODEL_EXPECT(m, (m->ops & 4) || !freed, "refused unref said freed");
        return;
    }
    bool last = m->refs[f] == 1;
    MODEL_EXPECT(m, (m->ops & 4) || freed == last, "freed %d, expected %d", freed, last);
    model_stats[ST_UNREF_FREED] += last;
    if (last) {
        model_push(m, f);
        model_set(m, f, M_FREE, TAG_FREE, 0, 0);
    } else {
        m->refs[f]--;
    }
}

static void op_reserve_release(struct model *m, struct op_source *s, bool reserve)
{
    uint32_t first = pick_frame(m, s);
    uint32_t count = src_bits(s, 3) ? 1 + src_bits(s, 5) : src_bits(s, 32);
    uint8_t tag = (uint8_t)src_below(s, TAG_BITMAP + 1); /* FREE..BITMAP */
    if (src_bits(s, 3) == 0)
        tag = (uint8_t)(TAG_COUNT + src_below(s, 256 - TAG_COUNT)); /* not a tag */
    uint64_t end = (uint64_t)first + count > m->frames ? m->frames : (uint64_t)first + count;
    model_stats[reserve ? ST_RESERVE : ST_RELEASE]++;
    model_drain(m, ST_DRAIN); /* both drain first, even over nothing */
    if (reserve) {
        MODEL_NOTE(m, "reserve %u+%u tag %u", first, count, tag);
        uint8_t stored = tag == TAG_FREE || tag >= TAG_COUNT ? TAG_RESERVED : tag;
        uint32_t want = 0;
        for (uint64_t f = first; f < end; f++) {
            want += m->state[f] == M_ALLOC;
            model_set(m, (uint32_t)f, M_RES, stored, 0, 0);
        }
        uint32_t got = pmm_zone_reserve(&m->z, first, count, tag);
        MODEL_EXPECT(m, got == want, "returned %u, expected %u", got, want);
    } else {
        MODEL_NOTE(m, "release %u+%u", first, count);
        for (uint64_t f = first; f < end; f++)
            if (m->state[f] == M_RES)
                model_set(m, (uint32_t)f, M_FREE, TAG_FREE, 0, 0);
        pmm_zone_release(&m->z, first, count);
    }
}

static void op_look(struct model *m, struct op_source *s)
{
    uint32_t f = pick_frame(m, s);
    MODEL_NOTE(m, "query %u, largest run, count tags", f);
    model_stats[ST_LOOK]++;
    struct frame_info fi;
    pmm_zone_query(&m->z, f, &fi);
    if (f >= m->frames) {
        MODEL_EXPECT(m, fi.state == FRAME_OUT_OF_RANGE, "state %d", fi.state);
    } else {
        static const enum frame_state states[3] = {FRAME_FREE, FRAME_ALLOCATED,
                                                   FRAME_RESERVED};
        MODEL_EXPECT(m, fi.state == states[m->state[f]] && fi.tag == m->tag[f],
                     "state %d tag %u", fi.state, fi.tag);
    }
    if (src_bits(s, 3))
        return;
    /* Now and then, as the `frames` command does: drain by hand. */
    if (src_bits(s, 2) == 0) {
        pmm_zone_drain_queue(&m->z);
        model_drain(m, ST_DRAIN_HAND);
    }
    /* A cell of the frame grid: exact counts (listed frames are free). */
    uint32_t sf = src_below(s, m->frames + 8), sn = src_below(s, m->frames + 8);
    struct frame_summary sum;
    pmm_zone_summarize(&m->z, sf, sn, 1 + src_bits(s, 5), &sum);
    uint32_t cnt[3] = {0, 0, 0};
    for (uint64_t g = sf; g < (uint64_t)sf + sn && g < m->frames; g++)
        cnt[m->state[g]]++;
    MODEL_EXPECT(m, sum.free == cnt[M_FREE] && sum.allocated == cnt[M_ALLOC] &&
                        sum.reserved == cnt[M_RES] &&
                        sum.frames == cnt[M_FREE] + cnt[M_ALLOC] + cnt[M_RES],
                 "summary of %u+%u: free %u allocated %u reserved %u, model %u %u %u", sf, sn,
                 sum.free, sum.allocated, sum.reserved, cnt[M_FREE], cnt[M_ALLOC], cnt[M_RES]);
    uint32_t want_first, got_first;
    uint32_t want = model_longest(m, &want_first);
    uint32_t got = pmm_zone_largest_free_run(&m->z, &got_first);
    MODEL_EXPECT(m, got == want && got_first == want_first, "largest run %u at %u, model %u at %u",
                 got, got_first, want, want_first);
    uint8_t tag = (uint8_t)src_below(s, TAG_COUNT + 1);
    uint32_t n = 0;
    for (uint32_t g = 0; g < m->frames; g++)
        n += m->tag[g] == tag;
    MODEL_EXPECT(m, pmm_zone_count_tag(&m->z, tag) == n, "count of tag %u", tag);
}

/* One operation, chosen by the source.  Every 2048 operations the mix
 * swings between mostly allocating and mostly freeing, so the zone goes
 * through empty, half full and full. */
static void model_step(struct model *m, struct op_source *s)
{
    uint32_t r = src_bits(s, 6);
    if (((m->ops >> 11) & 1) && r < 16)
        r = 30 + r; /* the freeing phase: allocations become frees */
    if (r < 22)
        op_alloc(m, s);
    else if (r < 30)
        op_alloc_run(m, s);
    else if (r < 46)
        op_free_held(m, s);
    else if (r < 51)
        op_free_random(m, s);
    else if (r < 59)
        op_ref(m, s, false);
    else if (r < 60)
        op_ref(m, s, true);
    else if (r < 62 && src_bits(s, 3) == 0)
        op_reserve_release(m, s, r == 60); /* rare: they change the layout */
    else
        op_look(m, s);
    m->ops++;
    model_check_counters(m);
}

/* ---- building and finishing -------------------------------------------------------- */

/*
 * A memory-map-like layout: the first part reserved (the "first MiB"),
 * then a few available ranges separated by holes, then reservations inside
 * them (the "kernel", "ACPI tables", the "bitmap").
 */
static void model_layout(struct model *m, struct op_source *s)
{
    uint32_t at = src_below(s, m->frames / 4 + 1);
    MODEL_NOTE(m, "layout");
    int ranges = 1 + (int)src_bits(s, 3);
    for (int i = 0; i < ranges && at < m->frames; i++) {
        uint32_t len = 1 + src_below(s, m->frames / 2 + 1);
        for (uint64_t f = at; f < (uint64_t)at + len && f < m->frames; f++)
            model_set(m, (uint32_t)f, M_FREE, TAG_FREE, 0, 0);
        pmm_zone_release(&m->z, at, len);
        model_drain(m, ST_DRAIN);
        at += len;
        at += src_below(s, m->frames / 8 + 1); /* a hole */
    }
    int reservations = (int)src_bits(s, 2);
    for (int i = 0; i < reservations; i++)
        op_reserve_release(m, s, true);
    model_check_counters(m);
    model_check_full(m);
}

/* Frees everything, checks nothing was lost, allocates every free frame
 * once more (each exactly once) and frees them again. */
static void model_finish(struct model *m)
{
    MODEL_NOTE(m, "finish: free everything");
    for (uint32_t f = 0; f < m->frames; f++) {
        if (m->state[f] != M_ALLOC)
            continue;
        while ((m->z.features & PMM_FEAT_REFS) && m->refs[f] > 1) {
            MODEL_EXPECT(m, pmm_zone_unref(&m->z, f, NULL) == PMM_OK, "unref %u", f);
            m->refs[f]--;
        }
        MODEL_EXPECT(m, pmm_zone_free(&m->z, f) == PMM_OK, "free %u", f);
        model_push(m, f);
        model_set(m, f, M_FREE, TAG_FREE, 0, 0);
    }
    model_check_counters(m);
    MODEL_EXPECT(m, pmm_zone_allocated_count(&m->z) == 0 &&
                        pmm_zone_free_count(&m->z) + m->z.reserved_frames == m->frames,
                 "frames lost: %u free + %u reserved of %u", pmm_zone_free_count(&m->z),
                 m->z.reserved_frames, m->frames);
    model_check_full(m);

    MODEL_NOTE(m, "finish: allocate every free frame");
    uint32_t n = 0, want = m->nfree;
    for (;;) {
        uint32_t hint = m->z.hint;
        uint32_t f = pmm_zone_alloc(&m->z, TAG_USER, 1);
        if (f == PMM_NO_FRAME)
            break;
        MODEL_EXPECT(m, f < m->frames && m->state[f] == M_FREE, "frame %u handed out twice", f);
        uint32_t expect = model_next_single(m, hint);
        MODEL_EXPECT(m, f == expect, "got frame %u, expected %u", f, expect);
        model_set(m, f, M_ALLOC, TAG_USER, 1, model_owner_alloc(m, 1));
        model_check_counters(m);
        n++;
    }
    MODEL_EXPECT(m, n == want, "%u frames allocated of %u free", n, want);
    model_check_counters(m);
    model_check_full(m);
    for (uint32_t f = 0; f < m->frames; f++) {
        if (m->state[f] == M_ALLOC) {
            MODEL_EXPECT(m, pmm_zone_free(&m->z, f) == PMM_OK, "free %u", f);
            model_push(m, f);
            model_set(m, f, M_FREE, TAG_FREE, 0, 0);
        }
    }
    model_check_counters(m);
    MODEL_EXPECT(m, pmm_zone_free_count(&m->z) == want, "free frames %u, expected %u",
                 pmm_zone_free_count(&m->z), want);
    model_check_full(m);
}

#endif
