/*
 * pmm_zone.c - the frame allocator's bitmap: building it, and taking and
 * giving back single frames (pure).
 *
 * The storage block is carved, in this order, into 4-byte-aligned arrays:
 *
 *     used | reserved | pinned | avail l1 l2 | half l1 l2 | empty l1 l2 | records
 *     ------ 1 bit a frame ------  ------ 1 bit a word of used (+ l2) ----  8 B a frame
 *
 * Frames past the end of the zone in the last word are marked used and
 * reserved, so no search ever sees them as free; they are not counted.
 *
 * The single-frame paths are the hot ones.  pmm_zone_alloc reads the word
 * the hint names; only when that word is full does it ask the avail
 * summary for the next word with a free frame (a find-first-set in l1,
 * then in l2: a few instructions, never a scan of `used`).  Either path
 * then changes one word of `used` and recomputes just that word's three
 * summary bits (an l2 word is touched only when an l1 word turns zero or
 * non-zero).  "Out of memory" is the free counter being 0.
 *
 * Frame 0 is an ordinary frame here: the kernel glue reserves it (so that
 * a NULL frame address never means a real frame); the zone stays general.
 *
 * A frame's record (owner, refcount, tag: 8 bytes, one store) is written
 * when it is allocated or reserved and only read while it is: a free
 * leaves it as it was, so the hot free path touches two bitmap words and
 * never the megabytes of records at a random address (that cache miss was
 * most of its cost), and an allocation touches one cache line of records,
 * not three.  What a plain free must refuse is one bitmap, `pinned`:
 * reserved frames, and allocated ones with more than one reference (kept
 * by ref/unref); `reserved` tells the two apart once a free is refused.
 * pmm_zone_query reports a free frame as TAG_FREE with no refs or owner.
 *
 * The statistics count frames: `allocs` frames handed out, `frees` frames
 * given back; `failed_allocs` and `bad_frees` count refused calls.
 */
#include "kernel/kstring.h"
#include "kernel/pmm_zone.h"
#include "pmm_zone_bits.h"

/* ---- storage ----------------------------------------------------------- */

/* Sizes in bytes of each array, in the order they are carved. */
struct layout {
    uint64_t used, summary_l1, summary_l2, records;
};

static void layout_of(uint32_t frames, unsigned features, struct layout *l)
{
    uint32_t words = words_for(frames);
    uint32_t l1 = words_for(words);
    l->used = (uint64_t)words * 4;
    l->summary_l1 = (uint64_t)l1 * 4;
    l->summary_l2 = (uint64_t)words_for(l1) * 4;
    l->records = (uint64_t)frames * sizeof(struct frame_record);
    (void)features; /* they change what is kept, not the space */
}

/* pmm_zone_storage_bytes - see pmm_zone.h.  (SIZE_MAX if it does not fit
 * in a size_t, which no caller can provide anyway.) */
size_t pmm_zone_storage_bytes(uint32_t frames, unsigned features)
{
    struct layout l;
    layout_of(frames, features, &l);
    uint64_t total = 3 * l.used + 3 * (l.summary_l1 + l.summary_l2) + l.records;
    return total > SIZE_MAX ? SIZE_MAX : (size_t)total;
}

static void *carve(uint8_t **at, uint64_t bytes)
{
    void *p = *at;
    *at += bytes;
    return p;
}

/* pmm_zone_init - see pmm_zone.h. */
void pmm_zone_init(struct pmm_zone *z, void *storage, uint32_t frames, unsigned features)
{
    struct layout l;
    uint8_t *at = storage;
    layout_of(frames, features, &l);
    memset(z, 0, sizeof(*z));
    z->frames = frames;
    z->words = words_for(frames);
    z->features = features & (PMM_FEAT_REFS | PMM_FEAT_OWNERS);
    z->used = carve(&at, l.used);
    z->reserved = carve(&at, l.used);
    z->pinned = carve(&at, l.used);
    z->avail_l1 = carve(&at, l.summary_l1);
    z->avail_l2 = carve(&at, l.summary_l2);
    z->half_l1 = carve(&at, l.summary_l1);
    z->half_l2 = carve(&at, l.summary_l2);
    z->empty_l1 = carve(&at, l.summary_l1);
    z->empty_l2 = carve(&at, l.summary_l2);
    z->records = carve(&at, l.records);

    /* Everything reserved (tail bits included), no summary bit set. */
    memset(z->used, 0xff, (size_t)l.used);
    memset(z->reserved, 0xff, (size_t)l.used);
    memset(z->pinned, 0xff, (size_t)l.used);
    memset(z->avail_l1, 0, (size_t)(3 * (l.summary_l1 + l.summary_l2)));
    for (uint32_t f = 0; f < frames; f++)
        z->records[f] = (struct frame_record){.tag = TAG_RESERVED};
    z->reserved_frames = frames;
}

/* ---- building from the memory map ----------------------------------------- */

/* Clips [first, first + count) to the zone; false when nothing is left. */
static bool clip(const struct pmm_zone *z, uint32_t first, uint32_t count, uint32_t *end)
{
    if (first >= z->frames || count == 0)
        return false;
    *end = count > z->frames - first ? z->frames : first + count;
    return true;
}

/* Reserved frames keep only a tag in their records. */
static void set_reserved_records(struct pmm_zone *z, uint32_t w, uint32_t bits, uint8_t tag)
{
    while (bits) {
        z->records[(w << 5) + lowest_bit(bits)] = (struct frame_record){.tag = tag};
        bits &= bits - 1;
    }
}

/* pmm_zone_release - see pmm_zone.h.  Word by word: 32 frames a step. */
void pmm_zone_release(struct pmm_zone *z, uint32_t first, uint32_t count)
{
    uint32_t end;
    if (!clip(z, first, count, &end))
        return;
    for (uint32_t w = first >> 5; w <= (end - 1) >> 5; w++) {
        uint32_t opened = z->reserved[w] & word_range_mask(w, first, end);
        if (!opened)
            continue;
        uint32_t old = z->used[w];
        z->reserved[w] &= ~opened;
        z->pinned[w] &= ~opened;
        z->used[w] = old & ~opened;
        summaries_after_clear(z, w, old, old & ~opened);
        uint32_t n = (uint32_t)__builtin_popcount(opened);
        z->reserved_frames -= n;
        z->free_frames += n;
    }
    z->no_run_below = 0;
}

/* pmm_zone_reserve - see pmm_zone.h.  TAG_FREE would make a reserved
 * frame look free, so it is stored as TAG_RESERVED. */
uint32_t pmm_zone_reserve(struct pmm_zone *z, uint32_t first, uint32_t count, uint8_t tag)
{
    uint32_t end, hit = 0;
    if (!clip(z, first, count, &end))
        return 0;
    if (tag == TAG_FREE)
        tag = TAG_RESERVED;
    for (uint32_t w = first >> 5; w <= (end - 1) >> 5; w++) {
        uint32_t mask = word_range_mask(w, first, end);
        uint32_t old = z->used[w];
        uint32_t fresh = mask & ~z->reserved[w];
        uint32_t was_allocated = fresh & old, was_free = fresh & ~old;
        z->reserved[w] |= mask;
        z->used[w] = old | mask;
        summaries_after_set(z, w, old, old | mask);
        z->pinned[w] |= mask;
        set_reserved_records(z, w, mask, tag);
        uint32_t a = (uint32_t)__builtin_popcount(was_allocated);
        uint32_t f = (uint32_t)__builtin_popcount(was_free);
        z->allocated_frames -= a;
        z->free_frames -= f;
        z->reserved_frames += a + f;
        hit += a;
    }
    return hit;
}

/* ---- single frames --------------------------------------------------------- */

/* The hint's word is full: move the hint to the next word with a free
 * frame (there is one: the free counter is not 0).  Out of line, so that
 * the fast path needs few registers. */
__attribute__((noinline)) static uint32_t move_hint(struct pmm_zone *z)
{
    z->hint = next_set_wrap(z->avail_l1, z->avail_l2, z->words, z->hint + 1);
    return z->hint;
}

/* Takes the lowest free frame of the hint's word, or of the next word
 * with one (a frame is free: the caller checked the counter).  Kept apart
 * from pmm_zone_alloc so that a refusal does not pay for this function's
 * register saves. */
__attribute__((noinline)) static uint32_t take_one(struct pmm_zone *z, uint8_t tag,
                                                   uint32_t owner)
{
    uint32_t w = z->hint;
    uint32_t old = z->used[w];
    if (__builtin_expect(old == ALL_ONES, 0)) {
        w = move_hint(z);
        old = z->used[w];
    }
    uint32_t new = old | (old + 1); /* sets the lowest clear bit */
    z->used[w] = new;
    summaries_after_set(z, w, old, new);
    uint32_t f = (w << 5) + lowest_bit(~old);
    z->records[f] =
        (struct frame_record){.owner = owner, .refs = 1, .tag = tag, .epoch = z->epoch};
    z->free_frames--;
    z->allocated_frames++;
    z->allocs++;
    return f;
}

/* pmm_zone_alloc - see pmm_zone.h.  An allocation tagged TAG_FREE would
 * look free to everyone reading the tags: it is refused (PMM_NO_FRAME). */
uint32_t pmm_zone_alloc(struct pmm_zone *z, uint8_t tag, uint32_t owner)
{
    if (z->free_frames == 0 || tag == TAG_FREE) {
        z->failed_allocs++;
        return PMM_NO_FRAME;
    }
    if (!(z->features & PMM_FEAT_OWNERS))
        owner = 0;
    return take_one(z, tag, owner);
}

/* Why the frame at `bit` of word w (whose `used` value is `old`) cannot be
 * given back by a plain free: PMM_OK if it can.  Bitmaps only: no record
 * is read. */
HOT enum pmm_error free_refusal(const struct pmm_zone *z, uint32_t w, uint32_t bit,
                                uint32_t old)
{
    if (!(old & bit))
        return PMM_ERR_NOT_ALLOCATED;
    if (z->pinned[w] & bit)
        return (z->reserved[w] & bit) ? PMM_ERR_RESERVED : PMM_ERR_SHARED;
    return PMM_OK;
}

/* Frame f (`bit` in word w, whose value is `old`) is allocated with one
 * reference: make it free.  Its records are left as they were. */
HOT void give_back(struct pmm_zone *z, uint32_t f, uint32_t w, uint32_t bit, uint32_t old)
{
    uint32_t new = old & ~bit;
    z->used[w] = new;
    summaries_after_clear(z, w, old, new);
    z->free_frames++;
    z->allocated_frames--;
    z->frees++;
    warm_records(z, f, 1);
    if (z->no_run_below)
        cache_after_free(z, f, 1);
}

/* pmm_zone_free - see pmm_zone.h. */
enum pmm_error pmm_zone_free(struct pmm_zone *z, uint32_t frame)
{
    enum pmm_error e = PMM_ERR_RANGE;
    if (frame < z->frames) {
        uint32_t w = frame >> 5, bit = 1u << (frame & 31), old = z->used[w];
        e = free_refusal(z, w, bit, old);
        if (e == PMM_OK) {
            give_back(z, frame, w, bit, old);
            return PMM_OK;
        }
    }
    z->bad_frees++;
    return e;
}

/* ---- references -------------------------------------------------------------- */

/* Why frame f cannot have its reference count changed (PMM_OK if it can). */
static enum pmm_error ref_refusal(const struct pmm_zone *z, uint32_t f)
{
    if (!(z->features & PMM_FEAT_REFS))
        return PMM_ERR_BAD_ARG;
    if (f >= z->frames)
        return PMM_ERR_RANGE;
    uint32_t bit = 1u << (f & 31);
    if (z->reserved[f >> 5] & bit)
        return PMM_ERR_RESERVED;
    if (!(z->used[f >> 5] & bit))
        return PMM_ERR_NOT_ALLOCATED;
    return PMM_OK;
}

/* pmm_zone_ref - see pmm_zone.h. */
enum pmm_error pmm_zone_ref(struct pmm_zone *z, uint32_t frame)
{
    enum pmm_error e = ref_refusal(z, frame);
    if (e == PMM_OK && z->records[frame].refs == PMM_REF_MAX)
        e = PMM_ERR_REF_OVERFLOW;
    if (e == PMM_OK && ++z->records[frame].refs == 2)
        z->pinned[frame >> 5] |= 1u << (frame & 31);
    return e;
}

/* pmm_zone_unref - see pmm_zone.h.  A refused unref counts as a bad free. */
enum pmm_error pmm_zone_unref(struct pmm_zone *z, uint32_t frame, bool *freed)
{
    enum pmm_error e = ref_refusal(z, frame);
    if (freed)
        *freed = false;
    if (e != PMM_OK) {
        z->bad_frees++;
        return e;
    }
    if (z->records[frame].refs > 1) {
        if (--z->records[frame].refs == 1)
            z->pinned[frame >> 5] &= ~(1u << (frame & 31));
        return PMM_OK;
    }
    uint32_t w = frame >> 5;
    give_back(z, frame, w, 1u << (frame & 31), z->used[w]);
    if (freed)
        *freed = true;
    return PMM_OK;
}
