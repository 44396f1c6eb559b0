/*
 * pmm_zone.c - the frame allocator's bitmap: building it, and taking and
 * giving back single frames (pure).
 *
 * The storage block is carved, in this order, into 4-byte-aligned arrays:
 *
 *     used | freeable | reserved | pinned | avail l1 l2 | half l1 l2 | empty l1 l2 |
 *     ---------- 1 bit a frame -----------   ------ 1 bit a word of used (+ l2) ----
 *
 *     owners | records | refs
 *     4 KiB    4 B and 2 B a frame
 *
 * Frames past the end of the zone in the last word are marked used,
 * reserved and pinned, so no search ever sees them as free; they are not
 * counted.
 *
 * The single-frame paths are the hot ones, and each touches as few cache
 * lines as it can: a free reads and writes one word of `freeable` (the
 * only bitmap that says whether a plain free is right), queues the frame
 * and asks for its record's line; an allocation takes the oldest queued
 * frame, sets its `freeable` bit again (a line the free brought in) and
 * writes its record (the line the free asked for).  Neither touches
 * `used`, whose summaries would otherwise need updating: a queued frame
 * stays in `used` until it is drained, so for the bitmap search it is
 * still taken.  A double free of a queued frame is caught: its `freeable`
 * bit is clear.  Oldest first rather than newest first (a stack) because
 * the record's line takes longer to come from memory than one free and
 * allocation take: a frame freed and handed out again at once waits for
 * it, one that has waited in the queue finds it there.  A freed frame is
 * also not reused at once, which gives a stale pointer's writes a while to
 * land in a free (and, in debug builds, poisoned) frame.
 *
 * Behind the queue, the bitmap search: when no frame is queued,
 * pmm_zone_alloc reads the word the hint names; only when that word is
 * full does it ask the avail summary for the next word with a free frame
 * (a find-first-set in l1, then in l2: a few instructions, never a scan of
 * `used`).  It then changes one word of `used` and recomputes just that
 * word's three summary bits (an l2 word is touched only when an l1 word
 * turns zero or non-zero).  The summaries are exact over `used` at all
 * times.  Draining queued frames (the older half when the queue is full,
 * all of them before a run, a reservation, a release or the search)
 * clears their `used` bits and updates the summaries like any free.
 * "Out of memory" is the free count being 0: nothing queued and nothing
 * clear in `used`, one test at the top of pmm_zone_alloc.
 *
 * Frame 0 is an ordinary frame here: the kernel glue reserves it (so that
 * a NULL frame address never means a real frame); the zone stays general.
 *
 * A frame's record (tag, owner slot and epoch, 4 bytes) is written when it
 * is allocated or reserved and only read while it is: a free leaves it as
 * it was, so a free never touches the megabytes of records at a random
 * address.  An allocation does, at the frame it hands out; that is a
 * cache miss when the array does not fit in the cache, which is why the
 * record is small and one store (an 8-byte record a frame made a churn of
 * random frees and allocations four times slower;
 * docs/frame-allocator.md).  The owner is an address, so the record keeps
 * its slot in a small table of owners (owner_slot_find).  Refcounts are
 * written only by ref/unref; a frame with more than one is `pinned` and
 * not `freeable`, as is a reserved one; `reserved` tells the two apart
 * once a free is refused.  pmm_zone_query reports a free frame as
 * TAG_FREE with no refs or owner.
 *
 * The statistics count frames: `allocs` frames handed out, `frees` frames
 * given back; `bad_frees` counts refused frees.  Refused allocations are
 * counted by the caller, which logs them too (`failed_allocs`, pmm.c): a
 * zone out of memory only answers, as a free-list stack does.  The
 * counters of states are `reserved_frames` and `bitmap_free` (the frames
 * clear in `used`); the queued frames are the rest of the free ones.
 */
#include "kernel/kstring.h"
#include "kernel/pmm_zone.h"
#include "pmm_zone_bits.h"

_Static_assert(TAG_COUNT <= 1u << RECORD_TAG_BITS, "a tag must fit in a record");
_Static_assert(PMM_OWNER_SLOTS < RECORD_SLOT_UNKNOWN, "a slot must fit in a record");
_Static_assert(PMM_OWNERS_MAX < PMM_OWNER_SLOTS - 1, "the owner table keeps empty slots");

/* ---- storage ----------------------------------------------------------- */

/* Sizes in bytes of each array, in the order they are carved. */
struct layout {
    uint64_t used, summary_l1, summary_l2, owners, records, refs;
};

static void layout_of(uint32_t frames, unsigned features, struct layout *l)
{
    uint32_t words = words_for(frames);
    uint32_t l1 = words_for(words);
    l->used = (uint64_t)words * 4;
    l->summary_l1 = (uint64_t)l1 * 4;
    l->summary_l2 = (uint64_t)words_for(l1) * 4;
    l->owners = PMM_OWNER_SLOTS * sizeof(uint32_t);
    l->records = (uint64_t)frames * sizeof(frame_record_t);
    l->refs = ((uint64_t)frames * sizeof(uint16_t) + 3) & ~(uint64_t)3;
    (void)features; /* they change what is kept, not the space */
}

/* pmm_zone_storage_bytes - see pmm_zone.h.  (SIZE_MAX if it does not fit
 * in a size_t, which no caller can provide anyway.) */
size_t pmm_zone_storage_bytes(uint32_t frames, unsigned features)
{
    struct layout l;
    layout_of(frames, features, &l);
    uint64_t total = 4 * l.used + 3 * (l.summary_l1 + l.summary_l2) + l.owners + l.records +
                     l.refs;
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
    z->freeable = carve(&at, l.used);
    z->reserved = carve(&at, l.used);
    z->pinned = carve(&at, l.used);
    z->avail_l1 = carve(&at, l.summary_l1);
    z->avail_l2 = carve(&at, l.summary_l2);
    z->half_l1 = carve(&at, l.summary_l1);
    z->half_l2 = carve(&at, l.summary_l2);
    z->empty_l1 = carve(&at, l.summary_l1);
    z->empty_l2 = carve(&at, l.summary_l2);
    z->owners = carve(&at, l.owners);
    z->records = carve(&at, l.records);
    z->refs = carve(&at, l.refs);

    /* Everything reserved (tail bits included), no summary bit set. */
    memset(z->used, 0xff, (size_t)l.used);
    memset(z->freeable, 0, (size_t)l.used);
    memset(z->reserved, 0xff, (size_t)l.used);
    memset(z->pinned, 0xff, (size_t)l.used);
    memset(z->avail_l1, 0, (size_t)(3 * (l.summary_l1 + l.summary_l2)));
    memset(z->owners, 0, (size_t)l.owners);
    for (uint32_t f = 0; f < frames; f++)
        z->records[f] = make_record(TAG_RESERVED, 0);
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
        z->records[(w << 5) + lowest_bit(bits)] = make_record(tag, 0);
        bits &= bits - 1;
    }
}

/* pmm_zone_release - see pmm_zone.h.  Word by word: 32 frames a step. */
void pmm_zone_release(struct pmm_zone *z, uint32_t first, uint32_t count)
{
    uint32_t end;
    drain_queue(z);
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
        z->bitmap_free += n;
    }
    z->no_run_below = 0;
}

/* pmm_zone_reserve - see pmm_zone.h.  TAG_FREE would make a reserved
 * frame look free, so it is stored as TAG_RESERVED (as is a tag past the
 * last one). */
uint32_t pmm_zone_reserve(struct pmm_zone *z, uint32_t first, uint32_t count, uint8_t tag)
{
    uint32_t end, hit = 0;
    drain_queue(z);
    if (!clip(z, first, count, &end))
        return 0;
    if (tag == TAG_FREE || tag >= TAG_COUNT)
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
        z->freeable[w] &= ~mask;
        set_reserved_records(z, w, mask, tag);
        uint32_t a = (uint32_t)__builtin_popcount(was_allocated);
        uint32_t f = (uint32_t)__builtin_popcount(was_free);
        z->bitmap_free -= f;
        z->reserved_frames += a + f;
        hit += a;
    }
    return hit;
}

/* ---- single frames --------------------------------------------------------- */

/* Frame f has just been taken for the owner in slot: its record, the
 * statistic. */
HOT void took(struct pmm_zone *z, uint32_t f, uint8_t tag, uint32_t slot)
{
    write_record(z, f, tag, slot);
    z->allocs++;
}

/* The hint's word is full: move the hint to the next word with a free
 * frame (there is one: the free counter is not 0).  Out of line, so that
 * the fast path needs few registers. */
OUT_OF_LINE static uint32_t move_hint(struct pmm_zone *z)
{
    z->hint = next_set_wrap(z->avail_l1, z->avail_l2, z->words, z->hint + 1);
    return z->hint;
}

/* Takes the lowest free frame of the hint's word, or of the next word
 * with one (a frame is free: the caller checked the counters). */
static uint32_t take_one(struct pmm_zone *z, uint8_t tag, uint32_t slot)
{
    uint32_t w = z->hint;
    uint32_t old = z->used[w];
    if (__builtin_expect(old == ALL_ONES, 0)) {
        w = move_hint(z);
        old = z->used[w];
    }
    uint32_t new = old | (old + 1); /* sets the lowest clear bit */
    z->used[w] = new;
    z->freeable[w] |= new & ~old;
    z->bitmap_free--;
    summaries_after_set(z, w, old, new);
    uint32_t f = (w << 5) + lowest_bit(~old);
    took(z, f, tag, slot);
    return f;
}

/* owner_slot_find - the slot of owner in the owner table (0 for owner 0,
 * and for every owner when the zone keeps none), added if it is new and
 * the table has room, else RECORD_SLOT_UNKNOWN.
 * Open addressing from a multiplicative hash; at most 3/4 of the slots
 * are ever filled, so a probe ends at an empty slot soon.  Owners are
 * never removed: they are call sites, and there are few of them. */
__attribute__((noinline)) uint32_t owner_slot_find(struct pmm_zone *z, uint32_t owner)
{
    uint32_t slot = 0;
    if (owner != 0 && (z->features & PMM_FEAT_OWNERS)) {
        uint32_t s = owner_probe(z, owner);
        slot = RECORD_SLOT_UNKNOWN;
        if (z->owners[s] == owner) {
            slot = s;
        } else if (s != 0 && z->owner_count < PMM_OWNERS_MAX) { /* s is empty */
            z->owners[s] = owner;
            z->owner_count++;
            slot = s;
        }
    }
    z->last_owner = owner;
    z->last_slot = slot;
    return slot;
}

/*
 * How pmm_zone_alloc and pmm_zone_free are laid out: each settles a
 * refusal or its common case in a few instructions of its own (a refused
 * allocation returns at once; a refused free jumps to free_refused), and
 * hands every other case to a function of its own with a tail call (a
 * jump), so that neither saves registers on entry and the common cases do
 * not pay for the loops of the rare ones.
 */

/* The oldest queued frame, allocated (a frame is queued).  It is still in
 * `used`, so only its freeable bit changes: no summary does. */
HOT uint32_t take_queued(struct pmm_zone *z, uint8_t tag, uint32_t slot)
{
    uint32_t f = z->queue[z->queue_head];
    z->queue_head = (z->queue_head + 1) & (PMM_QUEUE_FRAMES - 1);
    z->queue_count--;
    z->freeable[f >> 5] |= 1u << (f & 31);
    took(z, f, tag, slot);
    return f;
}

/* An allocation by another owner than the last one, with a frame queued:
 * the owner's slot first. */
OUT_OF_LINE static uint32_t alloc_new_owner(struct pmm_zone *z, uint8_t tag, uint32_t owner)
{
    return take_queued(z, tag, owner_slot_find(z, owner));
}

/* The bitmap's next free frame for owner (one is free, none is queued). */
OUT_OF_LINE static uint32_t alloc_from_bitmap(struct pmm_zone *z, uint8_t tag, uint32_t owner)
{
    return take_one(z, tag, owner_slot(z, owner));
}

/* pmm_zone_alloc - see pmm_zone.h.  Out of memory is settled first, with
 * one test of two counters side by side: nothing queued and nothing clear
 * in `used` (a refused allocation then takes no place in the owner table,
 * saves no registers and writes nothing: the caller counts it).  An
 * allocation tagged TAG_FREE
 * would look free to everyone reading the tags: it is refused
 * (PMM_NO_FRAME), as is a tag that is not one (it would not fit in the
 * record). */
uint32_t pmm_zone_alloc(struct pmm_zone *z, uint8_t tag, uint32_t owner)
{
    uint32_t queued_frames = z->queue_count;
    bool bad_tag = (uint8_t)(tag - 1) >= TAG_COUNT - 1; /* TAG_FREE, or past the last */
    if (__builtin_expect((queued_frames | z->bitmap_free) == 0 || bad_tag, 0))
        return PMM_NO_FRAME;
    if (__builtin_expect(queued_frames == 0, 0))
        return alloc_from_bitmap(z, tag, owner);
    if (owner != z->last_owner)
        return alloc_new_owner(z, tag, owner);
    return take_queued(z, tag, z->last_slot);
}

/* The oldest n queued frames leave the queue, and `used`: the bitmap
 * search may take them now. */
OUT_OF_LINE static void drain_oldest(struct pmm_zone *z, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        uint32_t f = queued(z, i), w = f >> 5, old = z->used[w];
        z->used[w] = old & ~(1u << (f & 31));
        summaries_after_clear(z, w, old, z->used[w]);
    }
    z->bitmap_free += n;
    z->queue_head = (z->queue_head + n) & (PMM_QUEUE_FRAMES - 1);
    z->queue_count -= n;
}

/* cache_after_free for one frame that has been given back. */
OUT_OF_LINE static enum pmm_error cache_after_free_one(struct pmm_zone *z, uint32_t f)
{
    cache_after_free(z, f, 1);
    return PMM_OK;
}

OUT_OF_LINE static enum pmm_error give_back_to_full_queue(struct pmm_zone *z, uint32_t f);

/* pmm_zone_drain_queue - see pmm_zone.h. */
void pmm_zone_drain_queue(struct pmm_zone *z)
{
    drain_oldest(z, z->queue_count);
}

/* Frame f (`bit` in word w) is allocated with one reference: make it free
 * and queue it (the older half of a full queue is drained first, so that
 * a queue kept busy holds 32 to 64 frames).  It stays in `used` until it
 * is drained.  Its record is left as it was, but its line is asked for:
 * the allocation that takes the frame out of the queue writes it. */
HOT enum pmm_error give_back(struct pmm_zone *z, uint32_t f, uint32_t w, uint32_t bit)
{
    if (__builtin_expect(z->queue_count == PMM_QUEUE_FRAMES, 0))
        return give_back_to_full_queue(z, f);
    z->freeable[w] &= ~bit;
    z->queue[(z->queue_head + z->queue_count++) & (PMM_QUEUE_FRAMES - 1)] = f;
    warm_records(z, f, 1);
    z->frees++;
    if (z->no_run_below)
        return cache_after_free_one(z, f);
    return PMM_OK;
}

/* give_back when the queue is full: its older half leaves it first. */
OUT_OF_LINE static enum pmm_error give_back_to_full_queue(struct pmm_zone *z, uint32_t f)
{
    drain_oldest(z, PMM_QUEUE_FRAMES / 2);
    return give_back(z, f, f >> 5, 1u << (f & 31));
}

/* A refused free, counted: why. */
OUT_OF_LINE __attribute__((cold)) static enum pmm_error free_refused(struct pmm_zone *z,
                                                                   uint32_t frame)
{
    enum pmm_error e = PMM_ERR_RANGE;
    if (frame < z->frames)
        e = free_refusal(z, frame >> 5, 1u << (frame & 31));
    z->bad_frees++;
    return e;
}

/* pmm_zone_free - see pmm_zone.h.  One bitmap word says whether the
 * free is right: `freeable`. */
enum pmm_error pmm_zone_free(struct pmm_zone *z, uint32_t frame)
{
    if (frame >= z->frames)
        return free_refused(z, frame);
    uint32_t w = frame >> 5, bit = 1u << (frame & 31);
    if (!(z->freeable[w] & bit)) /* free already, reserved or shared */
        return free_refused(z, frame);
    return give_back(z, frame, w, bit);
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
    if (!(occupied(z, f >> 5) & bit))
        return PMM_ERR_NOT_ALLOCATED;
    return PMM_OK;
}

/* pmm_zone_ref - see pmm_zone.h.  The count is kept from the second
 * reference on; the frame is pinned while it has more than one. */
enum pmm_error pmm_zone_ref(struct pmm_zone *z, uint32_t frame)
{
    enum pmm_error e = ref_refusal(z, frame);
    if (e != PMM_OK)
        return e;
    uint32_t refs = refs_of(z, frame);
    if (refs == PMM_REF_MAX)
        return PMM_ERR_REF_OVERFLOW;
    uint32_t bit = 1u << (frame & 31);
    z->refs[frame] = (uint16_t)(refs + 1);
    z->pinned[frame >> 5] |= bit;
    z->freeable[frame >> 5] &= ~bit;
    return PMM_OK;
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
    uint32_t refs = refs_of(z, frame);
    if (refs > 1) {
        z->refs[frame] = (uint16_t)(refs - 1);
        if (refs == 2) { /* one left: a plain free may take it again */
            z->pinned[frame >> 5] &= ~(1u << (frame & 31));
            z->freeable[frame >> 5] |= 1u << (frame & 31);
        }
        return PMM_OK;
    }
    uint32_t w = frame >> 5;
    give_back(z, frame, w, 1u << (frame & 31));
    if (freed)
        *freed = true;
    return PMM_OK;
}
