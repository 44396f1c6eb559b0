/*
 * pmm_zone_bits.h - bit helpers the pmm_zone*.c files share (not public).
 *
 * A summary is a pair of bitmaps over the words of `used`:
 *
 *     used     word 0   word 1   ...  word 31 | word 32 ...      1 bit a frame
 *     l1       bit 0    bit 1    ...  bit 31  | bit 32  ...      1 bit a word of used
 *     l2       bit 0 = (l1 word 0 != 0)       | bit 1 ...        1 bit a word of l1
 *
 * An l1 bit says "this word of `used` has the property"; an l2 bit says
 * "this word of l1 is not zero".  Bits past the last word are always 0.
 * For 4 GiB (2^20 frames): used 32768 words, l1 1024 words, l2 32 words.
 *
 * Everything here is static inline, and the summary updates are forced
 * inline: the single-frame paths in pmm_zone.c must not pay for calls.
 */
#ifndef PMM_ZONE_BITS_H
#define PMM_ZONE_BITS_H

#include "kernel/pmm_zone.h"

#define ALL_ONES 0xffffffffu
#define HOT static inline __attribute__((always_inline))

/* A function kept out of the fast paths.  GCC's noipa also stops callers
 * from relying on what it returns (summaries_lost_then returns its last
 * argument, say), which would otherwise turn their tail calls into calls
 * and make them save registers on entry. */
#if defined(__clang__)
#define OUT_OF_LINE __attribute__((noinline))
#else
#define OUT_OF_LINE __attribute__((noinline, noipa))
#endif

/* Words needed for n bits, without the overflow of (n + 31) / 32. */
static inline uint32_t words_for(uint32_t n)
{
    return (n >> 5) + ((n & 31) != 0);
}

/* Lowest set bit (x != 0) and number of trailing/leading one bits. */
static inline uint32_t lowest_bit(uint32_t x)
{
    return (uint32_t)__builtin_ctz(x);
}

static inline uint32_t trailing_ones(uint32_t x)
{
    return x == ALL_ONES ? 32 : (uint32_t)__builtin_ctz(~x);
}

static inline uint32_t leading_ones(uint32_t x)
{
    return x == ALL_ONES ? 32 : (uint32_t)__builtin_clz(~x);
}

/* The frames of word w that are allocated or reserved (1 bits); free
 * frames, queued or not, are 0.  `used` also has the queued ones. */
static inline uint32_t occupied(const struct pmm_zone *z, uint32_t w)
{
    return z->freeable[w] | z->pinned[w];
}

/* Why the frame at `bit` of word w cannot be given back by a plain free:
 * PMM_OK if it can.  Bitmaps only: no record is read. */
static inline enum pmm_error free_refusal(const struct pmm_zone *z, uint32_t w, uint32_t bit)
{
    if (z->freeable[w] & bit)
        return PMM_OK;
    if (z->pinned[w] & bit)
        return (z->reserved[w] & bit) ? PMM_ERR_RESERVED : PMM_ERR_SHARED;
    return PMM_ERR_NOT_ALLOCATED; /* free, queued or not */
}

/* ---- records (see pmm_zone.h) ---- */

/* A record without an epoch (a reserved frame's) and with one. */
static inline frame_record_t make_record(uint8_t tag, uint32_t slot)
{
    return (frame_record_t)(tag | slot << RECORD_TAG_BITS);
}

static inline frame_record_t make_dated_record(uint8_t tag, uint32_t slot, uint8_t epoch)
{
    return make_record(tag, slot) | (frame_record_t)epoch << RECORD_EPOCH_SHIFT;
}

static inline uint8_t record_tag(frame_record_t r)
{
    return (uint8_t)(r & ((1u << RECORD_TAG_BITS) - 1));
}

static inline uint32_t record_slot(frame_record_t r)
{
    return (r >> RECORD_TAG_BITS) & RECORD_SLOT_UNKNOWN;
}

static inline uint8_t record_epoch(frame_record_t r)
{
    return (uint8_t)(r >> RECORD_EPOCH_SHIFT);
}

/* Where owner (not 0) is in the owner table, or the empty slot where it
 * would go: open addressing from a multiplicative hash, skipping slot 0
 * ("no owner").  The table is never more than 3/4 full, so the probe ends
 * soon; 0 only if a damaged table has neither. */
static inline uint32_t owner_probe(const struct pmm_zone *z, uint32_t owner)
{
    uint32_t s = (owner * 2654435761u) >> 22; /* 10 bits: PMM_OWNER_SLOTS */
    for (uint32_t i = 0; i < PMM_OWNER_SLOTS; i++) {
        if (s != 0 && (z->owners[s] == owner || z->owners[s] == 0))
            return s;
        s = (s + 1) & (PMM_OWNER_SLOTS - 1);
    }
    return 0;
}

/* The slot of owner in the owner table, found or added (pmm_zone.c; out
 * of line: inlined, its loop would make every allocation save registers,
 * even one refused for want of a frame). */
uint32_t owner_slot_find(struct pmm_zone *z, uint32_t owner);

/* The same, answered at once when it is the last owner asked about (an
 * allocation's caller is usually the previous one's). */
HOT uint32_t owner_slot(struct pmm_zone *z, uint32_t owner)
{
    if (owner == z->last_owner)
        return z->last_slot;
    return owner_slot_find(z, owner);
}

/* Frame f has just been allocated with tag by the owner in slot. */
HOT void write_record(struct pmm_zone *z, uint32_t f, uint8_t tag, uint32_t slot)
{
    z->records[f] = make_dated_record(tag, slot, z->epoch);
}

/* The references of allocated frame f: counted only while it is shared. */
static inline uint32_t refs_of(const struct pmm_zone *z, uint32_t f)
{
    return (z->pinned[f >> 5] & (1u << (f & 31))) ? z->refs[f] : 1;
}

/* Frames [first, first + count) were just freed: their records are not
 * written (see pmm_zone.c), but the next allocation will write them, and
 * freed frames are what is taken when little is free.  Ask the cache for
 * their lines now, without waiting for them (at most 16 lines: enough for
 * the short runs that matter). */
HOT void warm_records(const struct pmm_zone *z, uint32_t first, uint32_t count)
{
    const uint32_t per_line = 64 / sizeof(frame_record_t);
    uint32_t lines = count / per_line + 1;
    if (lines > 16)
        lines = 16;
    for (uint32_t i = 0; i < lines; i++)
        __builtin_prefetch(&z->records[first + i * per_line], 1);
}

/* word_range_mask - the bits of word w that frames [first, end) cover
 * (end exclusive; w holds at least one of them). */
static inline uint32_t word_range_mask(uint32_t w, uint32_t first, uint32_t end)
{
    uint32_t lo = w << 5;
    uint32_t from = first > lo ? first - lo : 0;
    uint32_t to = end - lo >= 32 ? 32 : end - lo; /* end > lo: w is in the range */
    uint32_t mask = ALL_ONES << from;
    return to < 32 ? mask & ~(ALL_ONES << to) : mask;
}

/* The three properties of a word of `used` the summaries record. */
static inline bool word_avail(uint32_t used)
{
    return used != ALL_ONES;
}

static inline bool word_half(uint32_t used)
{
    return (used & 0xffffu) == 0 || (used >> 16) == 0;
}

static inline bool word_empty(uint32_t used)
{
    return used == 0;
}

/* Turn the l1 bit of word w off (it is on) / on (it is off), keeping l2
 * right: l2 changes only when the l1 word goes between zero and non-zero. */
HOT void summary_off(uint32_t *l1, uint32_t *l2, uint32_t w)
{
    uint32_t i = w >> 5;
    uint32_t x = l1[i] & ~(1u << (w & 31));
    l1[i] = x;
    if (x == 0)
        l2[i >> 5] &= ~(1u << (i & 31));
}

HOT void summary_on(uint32_t *l1, uint32_t *l2, uint32_t w)
{
    uint32_t i = w >> 5;
    uint32_t x = l1[i];
    if (x == 0)
        l2[i >> 5] |= 1u << (i & 31);
    l1[i] = x | (1u << (w & 31));
}

/* Word w of `used` went from old to new by setting bits only: a property
 * can only be lost.  Words with a free half are rare in a busy zone, so
 * one test usually settles both half and empty.  (Inline: for runs, whose
 * words always had a free half; summaries_after_set for single frames.) */
HOT void summaries_lose(struct pmm_zone *z, uint32_t w, uint32_t old, uint32_t new)
{
    if (!word_avail(new))
        summary_off(z->avail_l1, z->avail_l2, w);
    if (word_half(old)) { /* (an empty word has free halves too) */
        if (!word_half(new))
            summary_off(z->half_l1, z->half_l2, w);
        if (word_empty(old) && !word_empty(new))
            summary_off(z->empty_l1, z->empty_l2, w);
    }
}

__attribute__((noinline)) static void summaries_lost(struct pmm_zone *z, uint32_t w,
                                                     uint32_t old, uint32_t new)
{
    summaries_lose(z, w, old, new);
}

/* Setting bits that took word w from old to new lost no property: it
 * keeps a free frame and had no free half to lose (the usual case). */
static inline bool summaries_unchanged(uint32_t old, uint32_t new)
{
    return __builtin_expect(word_avail(new) && !word_half(old), 1);
}

/* The same, with the usual case settled inline and the rest out of line,
 * so that a caller does not save registers for it. */
HOT void summaries_after_set(struct pmm_zone *z, uint32_t w, uint32_t old, uint32_t new)
{
    if (!summaries_unchanged(old, new))
        summaries_lost(z, w, old, new);
}

/* ... by clearing bits only: a property can only be gained. */
HOT void summaries_after_clear(struct pmm_zone *z, uint32_t w, uint32_t old,
                                         uint32_t new)
{
    if (!word_avail(old) && word_avail(new))
        summary_on(z->avail_l1, z->avail_l2, w);
    if (word_half(new)) {
        if (!word_half(old))
            summary_on(z->half_l1, z->half_l2, w);
        if (word_empty(new) && !word_empty(old))
            summary_on(z->empty_l1, z->empty_l2, w);
    }
}

/* Draining before anything that searches `used` or changes it through
 * the summaries (pmm_zone_drain_queue does the work, out of line). */
HOT void drain_queue(struct pmm_zone *z)
{
    if (z->queue_count)
        pmm_zone_drain_queue(z);
}

/* The i-th oldest frame in the queue. */
static inline uint32_t queued(const struct pmm_zone *z, uint32_t i)
{
    return z->queue[(z->queue_head + i) & (PMM_QUEUE_FRAMES - 1)];
}

/*
 * next_set - the first set bit at or after `from` in a bitmap l1 of nbits
 * bits, or nbits when there is none.  l2 (one bit per word of l1, set when
 * that word is not zero) skips 32 zero words per bit; without it (NULL)
 * the words of l1 are read one by one.
 */
static inline uint32_t next_set(const uint32_t *l1, const uint32_t *l2, uint32_t nbits,
                                uint32_t from)
{
    if (from >= nbits)
        return nbits;
    uint32_t nw = words_for(nbits);
    uint32_t i = from >> 5;
    uint32_t x = l1[i] & (ALL_ONES << (from & 31));
    if (x)
        return (i << 5) + lowest_bit(x);
    i++;
    if (!l2) {
        for (; i < nw; i++)
            if (l1[i])
                return (i << 5) + lowest_bit(l1[i]);
        return nbits;
    }
    uint32_t nw2 = words_for(nw);
    uint32_t k = i >> 5;
    if (k >= nw2)
        return nbits;
    uint32_t y = l2[k] & (ALL_ONES << (i & 31));
    for (;;) {
        if (y) {
            i = (k << 5) + lowest_bit(y);
            return (i << 5) + lowest_bit(l1[i]);
        }
        if (++k >= nw2)
            return nbits;
        y = l2[k];
    }
}

/* The same, starting again from 0 when nothing is found from `from` on. */
static inline uint32_t next_set_wrap(const uint32_t *l1, const uint32_t *l2, uint32_t nbits,
                                     uint32_t from)
{
    uint32_t i = next_set(l1, l2, nbits, from);
    if (i == nbits && from != 0)
        i = next_set(l1, l2, nbits, 0);
    return i;
}

/*
 * Free frames right below frame f (f itself not counted) and from frame f
 * up, counting stops once `limit` is reached.  Queued frames count as free
 * (occupied); the frames past the zone are pinned, so the upward walk
 * stops at the end of the zone by itself.
 */
static inline uint32_t free_below(const struct pmm_zone *z, uint32_t f, uint32_t limit)
{
    uint32_t n = 0;
    while (f > 0 && n < limit) {
        uint32_t top = (f - 1) & 31; /* bit of frame f - 1 in its word */
        uint32_t x = ~occupied(z, (f - 1) >> 5) << (31 - top);
        uint32_t run = leading_ones(x);
        if (run > top + 1)
            run = top + 1;
        n += run;
        if (run < top + 1)
            break;
        f -= run;
    }
    return n;
}

static inline uint32_t free_from(const struct pmm_zone *z, uint32_t f, uint32_t limit)
{
    uint32_t n = 0;
    while (f < z->frames && n < limit) {
        uint32_t b = f & 31;
        uint32_t x = ~occupied(z, f >> 5) >> b;
        uint32_t run = trailing_ones(x);
        if (run > 32 - b)
            run = 32 - b;
        n += run;
        if (run < 32 - b)
            break;
        f += run;
    }
    return n;
}

/*
 * The negative cache after frames [first, first + count) became free:
 * `no_run_below` promises that no free run of that many frames exists.
 * Only the run holding the freed frames has grown, so the promise stands
 * unless that run has now reached the limit (then forget it).  Costs
 * nothing while nothing is cached, two or three words otherwise.
 */
static inline void cache_after_free(struct pmm_zone *z, uint32_t first, uint32_t count)
{
    uint32_t limit = z->no_run_below;
    if (limit == 0)
        return;
    if (count >= limit) {
        z->no_run_below = 0;
        return;
    }
    uint32_t run = count + free_below(z, first, limit - count);
    if (run < limit)
        run += free_from(z, first + count, limit - run);
    if (run >= limit)
        z->no_run_below = 0;
}

#endif
