/*
 * pmm_zone_info.c - reading a zone: names, one frame's record, counts, the
 * longest free run, and the full consistency check (pure).
 *
 * Nothing here changes a zone.  The scans are O(frames) and meant for
 * people (the `frames` command, the usage views) and for tests; the
 * allocator's own paths never call them.
 */
#include "kernel/kstring.h"
#include "kernel/pmm_zone.h"
#include "pmm_zone_bits.h"

/* ---- names ------------------------------------------------------------------ */

static const char *const tag_names[TAG_COUNT] = {
    [TAG_FREE] = "free",         [TAG_RESERVED] = "reserved", [TAG_ACPI] = "ACPI",
    [TAG_KERNEL] = "kernel",     [TAG_BOOT] = "boot",         [TAG_BITMAP] = "bitmap",
    [TAG_PAGETABLE] = "pagetable", [TAG_HEAP] = "heap",       [TAG_STACK] = "stack",
    [TAG_DMA] = "DMA",           [TAG_DEVICE] = "device",     [TAG_USER] = "user",
    [TAG_GUARD] = "guard",
};

/* pmm_tag_name - see pmm_zone.h. */
const char *pmm_tag_name(unsigned tag)
{
    return tag < TAG_COUNT ? tag_names[tag] : "?";
}

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static bool same_name(const char *a, const char *b)
{
    while (*a && lower(*a) == lower(*b)) {
        a++;
        b++;
    }
    return *a == '\0' && *b == '\0';
}

/* pmm_tag_parse - see pmm_zone.h. */
int pmm_tag_parse(const char *name)
{
    if (!name)
        return -1;
    for (int t = 0; t < TAG_COUNT; t++)
        if (same_name(name, tag_names[t]))
            return t;
    return -1;
}

/* pmm_error_str - see pmm_zone.h. */
const char *pmm_error_str(enum pmm_error e)
{
    switch (e) {
    case PMM_OK:                return "ok";
    case PMM_ERR_RANGE:         return "out of range";
    case PMM_ERR_RESERVED:      return "reserved";
    case PMM_ERR_NOT_ALLOCATED: return "not allocated (already free)";
    case PMM_ERR_SHARED:        return "still shared";
    case PMM_ERR_REF_OVERFLOW:  return "reference count overflow";
    case PMM_ERR_BAD_ARG:       return "bad argument";
    default:                    return "unknown error";
    }
}

/* ---- one frame, counts ----------------------------------------------------------- */

/* pmm_zone_query - see pmm_zone.h.  Past the zone: FRAME_OUT_OF_RANGE
 * and zeros.  An allocated frame of a zone without refs has 1 reference. */
void pmm_zone_query(const struct pmm_zone *z, uint32_t frame, struct frame_info *out)
{
    memset(out, 0, sizeof(*out));
    if (frame >= z->frames) {
        out->state = FRAME_OUT_OF_RANGE;
        return;
    }
    uint32_t bit = 1u << (frame & 31);
    if (z->reserved[frame >> 5] & bit)
        out->state = FRAME_RESERVED;
    else if (occupied(z, frame >> 5) & bit)
        out->state = FRAME_ALLOCATED;
    else
        out->state = FRAME_FREE;
    if (out->state == FRAME_FREE) {
        for (uint32_t i = 0; i < z->queue_count; i++)
            if (queued(z, i) == frame)
                out->queued = (uint8_t)(i + 1);
        return; /* its records are stale: see pmm_zone.c */
    }
    frame_record_t r = z->records[frame];
    out->tag = record_tag(r);
    if (out->state == FRAME_ALLOCATED) {
        uint32_t slot = record_slot(r);
        out->refs = (uint16_t)refs_of(z, frame);
        out->owner = slot == 0 ? 0 : slot == RECORD_SLOT_UNKNOWN ? PMM_OWNER_UNKNOWN
                                                                 : z->owners[slot];
        out->age = (uint8_t)(z->epoch - record_epoch(r));
    }
}

/* Adds frame f (used) to the tallies of a summary. */
static void look_at(const struct pmm_zone *z, uint32_t f, uint32_t *tally,
                    struct frame_summary *out)
{
    uint32_t bit = 1u << (f & 31);
    tally[record_tag(z->records[f])]++; /* 4 bits: below TAG_COUNT */
    if (z->reserved[f >> 5] & bit)
        return;
    uint8_t age = (uint8_t)(z->epoch - record_epoch(z->records[f]));
    uint32_t refs = refs_of(z, f);
    if (refs > out->max_refs)
        out->max_refs = (uint16_t)refs;
    if (age < out->youngest)
        out->youngest = age;
}

/* pmm_zone_summarize - see pmm_zone.h. */
void pmm_zone_summarize(const struct pmm_zone *z, uint32_t first, uint32_t count,
                        uint32_t samples, struct frame_summary *out)
{
    memset(out, 0, sizeof(*out));
    out->youngest = 0xff;
    if (first >= z->frames || count == 0)
        return;
    uint32_t end = count > z->frames - first ? z->frames : first + count;
    uint32_t first_used = PMM_NO_FRAME;
    for (uint32_t w = first >> 5; w <= (end - 1) >> 5; w++) {
        uint32_t mask = word_range_mask(w, first, end);
        uint32_t used = occupied(z, w) & mask, reserved = z->reserved[w] & mask;
        out->reserved += (uint32_t)__builtin_popcount(reserved);
        out->allocated += (uint32_t)__builtin_popcount(used & ~reserved);
        out->free += (uint32_t)__builtin_popcount(mask & ~used);
        if (used && first_used == PMM_NO_FRAME)
            first_used = (w << 5) + lowest_bit(used);
    }
    out->frames = end - first;
    if (first_used == PMM_NO_FRAME)
        return;
    uint32_t tally[TAG_COUNT] = {0}, seen = 0;
    uint32_t step = samples && (end - first) / samples > 1 ? (end - first) / samples : 1;
    for (uint32_t f = first; f < end && seen < samples; f += step, seen++)
        if (occupied(z, f >> 5) & (1u << (f & 31)))
            look_at(z, f, tally, out);
    uint32_t best = 0;
    for (uint32_t t = 1; t < TAG_COUNT; t++)
        if (tally[t] > tally[best])
            best = t;
    if (tally[best] == 0) { /* the samples all fell on free frames */
        look_at(z, first_used, tally, out);
        best = record_tag(z->records[first_used]);
    }
    out->tag = (uint8_t)best;
}

/* pmm_zone_clamp_ages - see pmm_zone.h. */
void pmm_zone_clamp_ages(struct pmm_zone *z, uint8_t max_age)
{
    for (uint32_t w = 0; w < z->words; w++) {
        uint32_t allocated = occupied(z, w) & ~z->reserved[w];
        while (allocated) {
            frame_record_t *r = &z->records[(w << 5) + lowest_bit(allocated)];
            if ((uint8_t)(z->epoch - record_epoch(*r)) > max_age)
                *r = make_dated_record(record_tag(*r), record_slot(*r),
                                       (uint8_t)(z->epoch - max_age));
            allocated &= allocated - 1;
        }
    }
}

/* pmm_zone_count_tag - see pmm_zone.h. */
uint32_t pmm_zone_count_tag(const struct pmm_zone *z, uint8_t tag)
{
    if (tag == TAG_FREE)
        return pmm_zone_free_count(z);
    uint32_t n = 0;
    for (uint32_t f = 0; f < z->frames; f++)
        n += record_tag(z->records[f]) == tag && (occupied(z, f >> 5) & (1u << (f & 31)));
    return n;
}

/* pmm_zone_largest_free_run - see pmm_zone.h.  Word by word: the run that
 * reaches the end of a word is carried into the next.  With no free frame:
 * 0, and *first is PMM_NO_FRAME. */
uint32_t pmm_zone_largest_free_run(const struct pmm_zone *z, uint32_t *first)
{
    uint32_t best = 0, best_first = PMM_NO_FRAME;
    uint32_t start = 0, len = 0; /* run reaching the end of the previous word */
    for (uint32_t w = 0; w < z->words; w++) {
        uint32_t ones = ~occupied(z, w), base = w << 5; /* queued: free */
        if (len == 0)
            start = base;
        uint32_t low = trailing_ones(ones);
        len += low;
        if (len > best) {
            best = len;
            best_first = start;
        }
        if (low == 32)
            continue;
        /* Runs strictly inside the word: shorter than 32, walked one by one. */
        uint32_t rest = ones & (ALL_ONES << low);
        while (rest) {
            uint32_t at = lowest_bit(rest);
            uint32_t n = trailing_ones(rest >> at);
            if (n > 32 - at)
                n = 32 - at;
            if (n > best) {
                best = n;
                best_first = base + at;
            }
            rest &= at + n >= 32 ? 0 : ALL_ONES << (at + n);
        }
        len = leading_ones(ones);
        start = base + 32 - len;
    }
    if (first)
        *first = best_first;
    return best;
}

/* ---- the consistency check ------------------------------------------------------- */

/* Bits of the last word of `used` that lie past the zone. */
static uint32_t tail_bits(const struct pmm_zone *z)
{
    return (z->frames & 31) ? ALL_ONES << (z->frames & 31) : 0;
}

/* One summary against the words of `used`, and its l2 against its l1. */
static bool summary_ok(const struct pmm_zone *z, const uint32_t *l1, const uint32_t *l2,
                       bool (*property)(uint32_t))
{
    uint32_t n1 = words_for(z->words), n2 = words_for(n1);
    for (uint32_t i = 0; i < n1; i++) {
        for (uint32_t b = 0; b < 32 && (i << 5) + b < z->words; b++) {
            uint32_t w = (i << 5) + b;
            bool bit = l1[i] & (1u << b);
            if (bit != property(z->used[w]))
                return false;
        }
        if (z->words - (i << 5) < 32 && (l1[i] >> (z->words - (i << 5))) != 0)
            return false; /* bits past the last word */
    }
    for (uint32_t k = 0; k < n2; k++) {
        uint32_t want = 0;
        for (uint32_t b = 0; b < 32 && (k << 5) + b < n1; b++)
            if (l1[(k << 5) + b])
                want |= 1u << b;
        if (l2[k] != want)
            return false;
    }
    return true;
}

/* The per-frame records and refcounts against the frame's state (a free
 * frame's record is stale and not checked). */
static const char *records_check(const struct pmm_zone *z)
{
    bool refs = z->features & PMM_FEAT_REFS, owners = z->features & PMM_FEAT_OWNERS;
    for (uint32_t f = 0; f < z->frames; f++) {
        uint32_t bit = 1u << (f & 31);
        bool reserved = z->reserved[f >> 5] & bit, used = occupied(z, f >> 5) & bit;
        bool allocated = used && !reserved, pinned = z->pinned[f >> 5] & bit;
        frame_record_t r = z->records[f];
        uint32_t slot = record_slot(r);
        if (used && (record_tag(r) == TAG_FREE || record_tag(r) >= TAG_COUNT))
            return "a used frame with TAG_FREE or no tag";
        if (used && (r >> 24) != 0)
            return "a used frame's record has bits set above its epoch";
        if (reserved && (slot != 0 || record_epoch(r) != 0))
            return "an owner or an epoch recorded for a reserved frame";
        if (allocated && slot != 0 && slot != RECORD_SLOT_UNKNOWN &&
            (slot >= PMM_OWNER_SLOTS || z->owners[slot] == 0))
            return "an allocated frame's owner slot is empty";
        if (allocated && !owners && slot != 0)
            return "an owner recorded with owners off";
        if (pinned && !reserved && (!refs || z->refs[f] < 2))
            return "a shared frame with fewer than two references (or refcounts off)";
    }
    return NULL;
}

/* The owner table: as many owners as owner_count says, none in slot 0,
 * and each found by owner_slot_find's probe at its own slot (which also
 * rules out an owner in two slots: the probe stops at the first). */
static const char *owners_check(const struct pmm_zone *z)
{
    uint32_t n = 0;
    if (z->owners[0] != 0)
        return "an owner in slot 0";
    for (uint32_t s = 1; s < PMM_OWNER_SLOTS; s++) {
        uint32_t owner = z->owners[s];
        if (owner == 0)
            continue;
        n++;
        uint32_t at = owner_probe(z, owner);
        if (at != s)
            return z->owners[at] == owner ? "an owner in two slots"
                                          : "an owner its probe does not reach";
    }
    if (n != z->owner_count || n > PMM_OWNERS_MAX)
        return "owner count differs from the owner table";
    if (!(z->features & PMM_FEAT_OWNERS) && z->last_slot != 0)
        return "an owner slot cached with owners off";
    if (z->last_owner == 0 ? z->last_slot != 0
                           : (z->features & PMM_FEAT_OWNERS) &&
                                 z->last_slot != RECORD_SLOT_UNKNOWN &&
                                 (z->last_slot >= PMM_OWNER_SLOTS ||
                                  z->owners[z->last_slot] != z->last_owner))
        return "the last owner looked up is not in its slot";
    return NULL;
}

/* The queue: free frames still marked in `used`, each queued once. */
static const char *queue_check(const struct pmm_zone *z)
{
    if (z->queue_count > PMM_QUEUE_FRAMES || z->queue_head >= PMM_QUEUE_FRAMES)
        return "queue head or count past its array";
    for (uint32_t i = 0; i < z->queue_count; i++) {
        uint32_t f = queued(z, i);
        if (f >= z->frames)
            return "a frame past the zone in the queue";
        uint32_t bit = 1u << (f & 31);
        if (!(z->used[f >> 5] & bit) || (occupied(z, f >> 5) & bit))
            return "a queued frame not in `used`, or allocated or reserved";
        for (uint32_t j = 0; j < i; j++)
            if (queued(z, j) == f)
                return "a frame twice in the queue";
    }
    return NULL;
}

/* pmm_zone_check - see pmm_zone.h. */
const char *pmm_zone_check(const struct pmm_zone *z)
{
    if (z->words != words_for(z->frames))
        return "words does not match frames";
    if (z->features & ~(unsigned)(PMM_FEAT_REFS | PMM_FEAT_OWNERS))
        return "unknown features";
    if (z->words && z->hint >= z->words)
        return "hint past the last word";
    const char *broken = queue_check(z);
    if (!broken)
        broken = owners_check(z);
    if (broken)
        return broken;
    /* The four bitmaps against each other (pmm_zone.h), word by word. */
    uint32_t free = 0, reserved = 0, queued_frames = 0;
    for (uint32_t w = 0; w < z->words; w++) {
        uint32_t u = z->used[w], f = z->freeable[w], r = z->reserved[w], p = z->pinned[w];
        uint32_t inside = ALL_ONES;
        if (w == z->words - 1) {
            uint32_t tail = tail_bits(z);
            if ((u & r & p & tail) != tail || (f & tail) != 0)
                return "frames past the zone are not marked used, reserved and pinned";
            inside = ~tail;
        }
        if ((r | f | p) & ~u)
            return "a reserved, allocated or shared frame is not marked used";
        if (r & ~p)
            return "pinned differs from reserved or shared";
        if (f & p)
            return "a frame both freeable and pinned";
        free += (uint32_t)__builtin_popcount(~(f | p) & inside);
        reserved += (uint32_t)__builtin_popcount(r & inside);
        queued_frames += (uint32_t)__builtin_popcount(u & ~(f | p));
    }
    /* Each queued frame is one of these (queue_check), so equal counts
     * mean the same frames. */
    if (queued_frames != z->queue_count)
        return "a frame in `used` that is neither allocated, reserved nor queued";
    if (z->reserved_frames != reserved)
        return "reserved counter differs from the bitmap";
    if (pmm_zone_free_count(z) != free)
        return "free count (bitmap_free + queued) differs from the bitmaps";
    if (!summary_ok(z, z->avail_l1, z->avail_l2, word_avail))
        return "avail summary differs from the bitmap";
    if (!summary_ok(z, z->half_l1, z->half_l2, word_half))
        return "half summary differs from the bitmap";
    if (!summary_ok(z, z->empty_l1, z->empty_l2, word_empty))
        return "empty summary differs from the bitmap";
    broken = records_check(z);
    if (broken)
        return broken;
    if (z->no_run_below && pmm_zone_largest_free_run(z, NULL) >= z->no_run_below)
        return "a free run as long as no_run_below exists";
    return NULL;
}
