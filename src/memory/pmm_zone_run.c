/*
 * pmm_zone_run.c - contiguous runs of frames: finding, taking, giving back
 * (pure).
 *
 * A request is `count` frames starting at a multiple of `align`.  Three
 * searches, cheapest first; the first that finds a run wins:
 *
 *   1. count <= 16, align <= 16: for a run shorter than 16, the word the
 *      hint names; then the half summary.  A word with a free 16-frame half
 *      holds the run at the half's start (a multiple of 16, so of align),
 *      so the first word the summary names always fits; the lowest aligned
 *      spot in it is taken.  Such a run lies in one word, and the usual
 *      request (queue empty, the last owner) is served inline, with no
 *      call (docs/frame-allocator.md has what that saved).
 *   2. otherwise: the empty summary, read as a bitmap of whole free words.
 *      ceil(count / 32) consecutive empty words, the first at a multiple of
 *      align / 32 words, hold the run at their first frame.
 *   3. the exact search: every word of `used` with a free frame (full words
 *      are skipped through the avail summary), keeping the free run that
 *      reaches the end of the previous word, so runs that cross words and
 *      sit at any offset are seen.  It finds the lowest run there is.
 *
 * Every entry drains the queue first (pmm_zone.c; the inline path runs
 * only when it is empty): the searches read `used` and its summaries,
 * where queued frames still count as taken.
 *
 * When 3 fails, no free run of count + align - 1 frames exists (any such
 * run holds an aligned run of count), and `no_run_below` remembers it: a
 * later request for that many frames or more is refused at once.  A free
 * forgets it only if the run it grows reaches that length (see
 * cache_after_free), so a refusal stays O(1) while memory stays fragmented.
 *
 * Positions in the exact search are 64-bit: with a zone near 2^32 frames,
 * "start + count" may pass 2^32 without meaning anything wrong.
 */
#include "kernel/kstring.h"
#include "kernel/pmm_zone.h"
#include "pmm_zone_bits.h"

#define NOT_FOUND UINT64_MAX

/* Bits of a word at which a run aligned to `align` frames may start when
 * the word's first frame is frame `base` (a multiple of 32). */
static uint32_t aligned_starts(uint64_t base, uint32_t align)
{
    static const uint32_t pattern[5] = {ALL_ONES, 0x55555555u, 0x11111111u, 0x01010101u,
                                        0x00010001u};
    if (align < 32)
        return pattern[lowest_bit(align)];
    return (base & (align - 1)) == 0 ? 1u : 0u;
}

/* Bits p of `ones` such that bits p .. p + count - 1 are all set
 * (1 <= count <= 32); the top of the word counts as a clear bit. */
HOT uint32_t run_starts(uint32_t ones, uint32_t count)
{
    /* After each step, bit p set means bits p .. p + have - 1 are set;
     * the steps are written out (searches call this twice a run). */
    uint32_t have = 1;
    if (count >= 2) {
        ones &= ones >> 1;
        have = 2;
    }
    if (count >= 4) {
        ones &= ones >> 2;
        have = 4;
    }
    if (count >= 8) {
        ones &= ones >> 4;
        have = 8;
    }
    if (count >= 16) {
        ones &= ones >> 8;
        have = 16;
    }
    if (count >= 32) {
        ones &= ones >> 16;
        have = 32;
    }
    if (have < count)
        ones &= ones >> (count - have);
    return ones;
}

/*
 * The lowest start p >= 32 * from_word, p a multiple of align, such that
 * bits p .. p + count - 1 of the bitmap (word w read as bits[w] ^ flip)
 * are all set; NOT_FOUND if none.  Words that read as zero are skipped
 * through `skip` (one bit per word, set when the word is not zero) and its
 * own summary skip2 (NULL: read skip word by word).  Bits past the end must
 * read as zero.
 */
static uint64_t find_run(const uint32_t *bits, uint32_t flip, uint32_t nwords,
                         const uint32_t *skip, const uint32_t *skip2, uint32_t from_word,
                         uint32_t count, uint32_t align)
{
    uint64_t start = 0, len = 0; /* the run reaching the end of the last word read */
    uint32_t w = from_word;
    while (w < nwords) {
        uint32_t ones = bits[w] ^ flip;
        uint64_t base = (uint64_t)w << 5;
        if (ones == 0) {
            len = 0;
            w = next_set(skip, skip2, nwords, w + 1);
            continue;
        }
        /* The run from below grows by the low set bits of this word. */
        uint32_t low = trailing_ones(ones);
        if (len == 0)
            start = base;
        len += low;
        uint64_t first = (start + align - 1) & ~(uint64_t)(align - 1);
        if (first + count <= start + len)
            return first;
        if (low == 32) {
            w++;
            continue;
        }
        /* Runs that fit inside this word. */
        if (count <= 32) {
            uint32_t m = run_starts(ones, count) & aligned_starts(base, align);
            if (m)
                return base + lowest_bit(m);
        }
        /* The run reaching the top of the word carries on. */
        len = leading_ones(ones);
        start = base + 32 - len;
        w++;
    }
    return NOT_FOUND;
}

/* Search 1 (count <= 16, align <= 16).  A run shorter than a half is
 * looked for in the hint's word first, so that small runs fill a word
 * already broken before they break a free half; a run that is not found
 * there, or is a half long, goes to the first word with a free half from
 * the hint on. */
HOT uint64_t search_half(const struct pmm_zone *z, uint32_t count, uint32_t align)
{
    uint32_t starts = aligned_starts(0, align); /* the same in every word */
    uint32_t w = z->hint;
    uint32_t m = count < 16 ? run_starts(~z->used[w], count) & starts : 0;
    if (!m) {
        w = next_set_wrap(z->half_l1, z->half_l2, z->words, w);
        if (w == z->words)
            return NOT_FOUND;
        m = run_starts(~z->used[w], count) & starts;
    }
    return ((uint64_t)w << 5) + lowest_bit(m); /* m != 0: the free half fits */
}

/* Search 2: whole empty words, from the hint on and then from the start.
 * Here find_run reads empty_l1 as the bitmap (a bit is a word of `used`,
 * a word of it is 32 words of `used`) and empty_l2 as its skip summary. */
static uint64_t search_empty(const struct pmm_zone *z, uint32_t count, uint32_t align)
{
    uint32_t need = count / 32 + (count % 32 != 0);
    uint32_t step = align > 32 ? align / 32 : 1; /* alignment in words */
    uint32_t nwords = words_for(z->words), from = z->hint >> 5;
    uint64_t w = find_run(z->empty_l1, 0, nwords, z->empty_l2, NULL, from, need, step);
    if (w == NOT_FOUND && from != 0)
        w = find_run(z->empty_l1, 0, nwords, z->empty_l2, NULL, 0, need, step);
    return w == NOT_FOUND ? NOT_FOUND : w << 5;
}

/* Frames [p, p + count) are free: allocate them for the owner in slot. */
static void take_run(struct pmm_zone *z, uint32_t p, uint32_t count, uint8_t tag,
                     uint32_t slot)
{
    uint32_t end = p + count;
    for (uint32_t w = p >> 5; w <= (end - 1) >> 5; w++) {
        uint32_t mask = word_range_mask(w, p, end);
        uint32_t old = z->used[w];
        z->used[w] = old | mask;
        z->freeable[w] |= mask;
        summaries_lose(z, w, old, old | mask);
    }
    /* Every frame of the run gets the same record: two to a store (8
     * bytes; x86 does not mind them unaligned), eight a loop step. */
    frame_record_t r = make_dated_record(tag, slot, z->epoch);
    uint64_t records2 = r * 0x0000000100000001ull;
    frame_record_t *at = &z->records[p];
    uint32_t i = 0;
    for (; count - i >= 8; i += 8) {
        __builtin_memcpy(&at[i], &records2, 8);
        __builtin_memcpy(&at[i + 2], &records2, 8);
        __builtin_memcpy(&at[i + 4], &records2, 8);
        __builtin_memcpy(&at[i + 6], &records2, 8);
    }
    for (; i < count; i++)
        at[i] = r;
    z->bitmap_free -= count;
    z->allocs += count;
    z->hint = (end - 1) >> 5;
}

/* The same for a run that lies in one word and is at most 16 frames (what
 * search 1 finds): one mask, no loop over words. */
HOT void take_small_run(struct pmm_zone *z, uint32_t p, uint32_t count, uint8_t tag,
                        uint32_t slot)
{
    uint32_t w = p >> 5;
    uint32_t mask = ((1u << count) - 1) << (p & 31);
    uint32_t old = z->used[w];
    z->used[w] = old | mask;
    z->freeable[w] |= mask;
    summaries_lose(z, w, old, old | mask);
    /* count <= 16: the stores follow the bits of count, 16 bytes at most
     * each: 27 instructions fewer than take_run's loop. */
    frame_record_t r = make_dated_record(tag, slot, z->epoch);
    frame_record_t r4[4] = {r, r, r, r};
    frame_record_t *at = &z->records[p];
    if (count & 16) {
        __builtin_memcpy(at, r4, 16);
        __builtin_memcpy(at + 4, r4, 16);
        __builtin_memcpy(at + 8, r4, 16);
        __builtin_memcpy(at + 12, r4, 16);
        at += 16;
    }
    if (count & 8) {
        __builtin_memcpy(at, r4, 16);
        __builtin_memcpy(at + 4, r4, 16);
        at += 8;
    }
    if (count & 4) {
        __builtin_memcpy(at, r4, 16);
        at += 4;
    }
    if (count & 2) {
        __builtin_memcpy(at, r4, 8);
        at += 2;
    }
    if (count & 1)
        *at = r;
    z->bitmap_free -= count;
    z->allocs += count;
    z->hint = w;
}

/* Arguments no allocation can satisfy. */
static inline bool bad_run_request(uint32_t count, uint32_t align, uint8_t tag)
{
    return count == 0 || align == 0 || (align & (align - 1)) != 0 || tag == TAG_FREE ||
           tag >= TAG_COUNT;
}

/* Every request but the usual small one (see pmm_zone_alloc_run): drain
 * the queue, then the three searches. */
OUT_OF_LINE static uint32_t alloc_run_searching(struct pmm_zone *z, uint32_t count,
                                                uint32_t align, uint8_t tag, uint32_t owner)
{
    drain_queue(z);
    if (bad_run_request(count, align, tag) || count > pmm_zone_free_count(z) ||
        (z->no_run_below && count >= z->no_run_below))
        return PMM_NO_FRAME;
    if (count == 1 && align == 1)
        return pmm_zone_alloc(z, tag, owner);
    uint64_t p = NOT_FOUND;
    if (count <= 16 && align <= 16) {
        p = search_half(z, count, align);
        if (p != NOT_FOUND) {
            take_small_run(z, (uint32_t)p, count, tag, owner_slot(z, owner));
            return (uint32_t)p;
        }
    } else {
        p = search_empty(z, count, align);
    }
    if (p == NOT_FOUND)
        p = find_run(z->used, ALL_ONES, z->words, z->avail_l1, z->avail_l2, 0, count, align);
    if (p == NOT_FOUND) {
        /* No free run of count + align - 1 frames (if that fits in 32 bits). */
        uint64_t longest_missing = (uint64_t)count + align - 1;
        if (longest_missing <= UINT32_MAX &&
            (z->no_run_below == 0 || longest_missing < z->no_run_below))
            z->no_run_below = (uint32_t)longest_missing;
        return PMM_NO_FRAME;
    }
    take_run(z, (uint32_t)p, count, tag, owner_slot(z, owner));
    return (uint32_t)p;
}

/* pmm_zone_alloc_run - see pmm_zone.h.  The usual request, a small run
 * (2 to 16 frames, aligned to at most 16) with the queue empty, is served
 * here with no call: refused when that is known at once (more than is
 * free, or no_run_below), else, for the last owner, search 1 and the run
 * taken in its word.  Everything else, and a small run search 1 cannot
 * find, goes to alloc_run_searching. */
uint32_t pmm_zone_alloc_run(struct pmm_zone *z, uint32_t count, uint32_t align, uint8_t tag,
                            uint32_t owner)
{
    bool small = !bad_run_request(count, align, tag) && count >= 2 && count <= 16 && align <= 16;
    if (!small || z->queue_count != 0)
        return alloc_run_searching(z, count, align, tag, owner);
    /* With the queue empty, bitmap_free is the free count. */
    if (count > z->bitmap_free || (z->no_run_below && count >= z->no_run_below))
        return PMM_NO_FRAME;
    uint64_t p = owner == z->last_owner ? search_half(z, count, align) : NOT_FOUND;
    if (p == NOT_FOUND)
        return alloc_run_searching(z, count, align, tag, owner);
    take_small_run(z, (uint32_t)p, count, tag, z->last_slot);
    return (uint32_t)p;
}

/* pmm_zone_alloc_run_below - see pmm_zone.h.  Only the exact search can
 * promise the lowest run, so that is the one used; such requests (DMA)
 * are rare and their range small. */
uint32_t pmm_zone_alloc_run_below(struct pmm_zone *z, uint32_t count, uint32_t align,
                                  uint32_t limit, uint8_t tag, uint32_t owner)
{
    if (limit >= z->frames)
        return pmm_zone_alloc_run(z, count, align, tag, owner);
    drain_queue(z);
    uint64_t p = NOT_FOUND;
    if (!bad_run_request(count, align, tag) && count <= limit && count <= pmm_zone_free_count(z))
        p = find_run(z->used, ALL_ONES, words_for(limit), z->avail_l1, z->avail_l2, 0, count,
                     align);
    /* The lowest run is found, so one that ends past the limit means there
     * is none below it. */
    if (p == NOT_FOUND || p + count > limit)
        return PMM_NO_FRAME;
    take_run(z, (uint32_t)p, count, tag, owner_slot(z, owner));
    return (uint32_t)p;
}

/* pmm_zone_free_run - see pmm_zone.h.  Every frame is checked before any
 * changes; a free of one frame is pmm_zone_free. */
enum pmm_error pmm_zone_free_run(struct pmm_zone *z, uint32_t first, uint32_t count,
                                 uint32_t *bad_frame)
{
    uint32_t bad = first;
    enum pmm_error e = PMM_OK;
    if (count == 0) {
        e = PMM_ERR_BAD_ARG;
    } else if (count == 1) {
        e = pmm_zone_free(z, first);
        if (e != PMM_OK && bad_frame)
            *bad_frame = first;
        return e;
    } else {
        for (uint64_t f = first; f < (uint64_t)first + count; f++) {
            bad = (uint32_t)f;
            if (f >= z->frames) {
                e = PMM_ERR_RANGE;
                break;
            }
            e = free_refusal(z, (uint32_t)f >> 5, 1u << (f & 31));
            if (e != PMM_OK)
                break;
        }
    }
    if (e != PMM_OK) {
        if (bad_frame)
            *bad_frame = bad;
        z->bad_frees++;
        return e;
    }
    uint32_t end = first + count;
    drain_queue(z); /* summaries_after_clear needs them exact */
    for (uint32_t w = first >> 5; w <= (end - 1) >> 5; w++) {
        uint32_t mask = word_range_mask(w, first, end);
        uint32_t old = z->used[w];
        z->used[w] = old & ~mask;
        z->freeable[w] &= ~mask;
        summaries_after_clear(z, w, old, old & ~mask);
    }
    z->bitmap_free += count;
    z->frees += count;
    warm_records(z, first, count);
    cache_after_free(z, first, count);
    return PMM_OK;
}
