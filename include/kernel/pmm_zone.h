/*
 * pmm_zone.h - the frame allocator's logic, pure: a bitmap with summaries.
 *
 * A zone covers frames 0 .. frames-1 (frame n is the 4 KiB of physical
 * memory at n * 4096).  It owns no memory: pmm_zone_init is handed a block
 * of `pmm_zone_storage_bytes(frames)` bytes and carves every array out of
 * it, so the kernel can place that block in RAM it found in the memory map
 * and the host tests can use malloc.  The kernel glue (src/memory/pmm.c)
 * wraps one zone with locking, logging and the caller's address.
 *
 * Each frame is in one of three states:
 *   free       - handed out by no one (possibly waiting in the queue, below)
 *   allocated  - handed out by an alloc call; refcount >= 1
 *   reserved   - never handed out: firmware, the kernel, the bitmap itself
 * and carries a tag saying what it is for (enum frame_tag).  Four bitmaps,
 * one bit a frame, say which:
 *   freeable   allocated with one reference: what a plain free accepts
 *   pinned     reserved, or allocated with more than one reference
 *   reserved   reserved
 *   used       not available to the bitmap search: allocated, reserved, or
 *              free but waiting in the queue
 * so a frame is allocated or reserved when freeable | pinned, free when
 * neither, and queued when used but neither.
 *
 * Speed (see docs/frame-allocator.md): summary bitmaps have one bit per
 * word of `used`:
 *   avail   - the word has at least one free frame   (single frames)
 *   half    - one of its two 16-frame halves is free  (runs of up to 16)
 *   empty   - all 32 frames are free                  (longer runs)
 * and each summary has a second level with one bit per summary word, so
 * finding a word with the property takes three find-first-set steps, not
 * a scan.  A hint remembers where the last allocation found room.
 *
 * The queue: a single frame that is freed joins a queue of up to 64 (its
 * `freeable` bit cleared, so it is free for every reader, and its record
 * asked for from memory), and single allocations take the oldest queued
 * frame first (setting the bit again).  Neither call touches `used` or a
 * summary, so each changes one word of one bitmap, and by the time a frame
 * leaves the queue its record is in the cache: a free and an allocation in
 * turn cost a few times a free-list stack.  Queued frames leave `used`
 * ("draining" them, which keeps the summaries exact) when the queue is
 * full (its older half) and before anything else that searches the bitmap
 * (all of it).
 */
#ifndef KERNEL_PMM_ZONE_H
#define KERNEL_PMM_ZONE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FRAME_SIZE 4096u
#define FRAME_SHIFT 12

/* What a frame is for.  RESERVED..ACPI (and KERNEL, BOOT, BITMAP) are
 * given by reservations; the others by allocations. */
enum frame_tag {
    TAG_FREE = 0,
    TAG_RESERVED,  /* firmware, holes, the first MiB */
    TAG_ACPI,      /* ACPI tables and NVS */
    TAG_KERNEL,    /* the kernel image and its symbol tables */
    TAG_BOOT,      /* Multiboot structures the kernel still reads */
    TAG_BITMAP,    /* this allocator's own storage */
    TAG_PAGETABLE,
    TAG_HEAP,
    TAG_STACK,
    TAG_DMA,       /* contiguous buffers below 16 MiB */
    TAG_DEVICE,
    TAG_USER,      /* allocated from the shell */
    TAG_GUARD,
    TAG_COUNT
};

/* pmm_tag_name - "free", "reserved", "ACPI", "kernel", ... ; "?" past the
 * end.  pmm_tag_parse - the tag with that name (case-insensitive), or -1. */
const char *pmm_tag_name(unsigned tag);
int pmm_tag_parse(const char *name);

enum frame_state { FRAME_FREE, FRAME_ALLOCATED, FRAME_RESERVED, FRAME_OUT_OF_RANGE };

/* Why an operation was refused.  Nothing changes when one is returned. */
enum pmm_error {
    PMM_OK = 0,
    PMM_ERR_RANGE,      /* frame (or part of the run) is past the zone */
    PMM_ERR_RESERVED,   /* frame is reserved: never freed, never counted */
    PMM_ERR_NOT_ALLOCATED, /* frame is already free (double free, unref) */
    PMM_ERR_SHARED,     /* free of a frame that still has other references */
    PMM_ERR_REF_OVERFLOW,  /* refcount at its maximum */
    PMM_ERR_BAD_ARG,    /* count 0, alignment not a power of two, ... */
};
const char *pmm_error_str(enum pmm_error e);

/* What the per-frame records keep besides the tag (config.h toggles them
 * in the kernel; the arrays are the same size either way): */
#define PMM_FEAT_REFS   0x1 /* reference counts (without: always 1) */
#define PMM_FEAT_OWNERS 0x2 /* who allocated the frame (without: 0) */

#define PMM_NO_FRAME ((uint32_t)-1)
#define PMM_QUEUE_FRAMES 64 /* freed frames the queue holds (a power of 2) */
#define PMM_REF_MAX 0xffffu

/* Owners: a frame's record keeps the slot of its owner (the caller's
 * address) in a table of PMM_OWNER_SLOTS; a zone remembers at most
 * PMM_OWNERS_MAX distinct owners (a kernel has a few dozen call sites).
 * A frame allocated by one more is reported with owner PMM_OWNER_UNKNOWN. */
#define PMM_OWNER_SLOTS 1024u
#define PMM_OWNERS_MAX 768u
#define PMM_OWNER_UNKNOWN 0xffffffffu

struct frame_info {
    enum frame_state state;
    uint8_t tag;
    uint16_t refs;     /* 0 unless allocated */
    uint32_t owner;    /* caller address of the allocation, 0 if none */
    uint8_t age;       /* epochs since it was allocated (0 unless allocated) */
    uint8_t queued;    /* a free frame in the queue of freed frames: its place
                          (1 = the next single allocation takes it); else 0 */
};

/* What a range of frames holds: one cell of the visualizer's frame grid. */
struct frame_summary {
    uint32_t frames;           /* frames of the range inside the zone */
    uint32_t free, allocated, reserved;
    uint8_t tag;               /* the most common tag among the used frames
                                  looked at (TAG_FREE when all are free) */
    uint16_t max_refs;         /* the highest refcount seen (allocated) */
    uint8_t youngest;          /* the smallest age seen (allocated frames;
                                  0xff when none was seen) */
};

/*
 * Per frame, in two arrays (a 4 GiB zone has 4 + 2 MiB of them):
 *   records  4 bytes, written by an allocation with one store (one cache
 *            line: see docs/frame-allocator.md):
 *              bits  0-3   the tag
 *              bits  4-15  the owner's slot (0 none, RECORD_SLOT_UNKNOWN
 *                          when the table was full)
 *              bits 16-23  the zone's epoch when the frame was allocated
 *              bits 24-31  0
 *   refs     its reference count, kept only while it is shared (pinned and
 *            not reserved); any other allocated frame has one reference
 * A record means something only while its frame is allocated (reserved
 * frames: the tag alone); a free leaves it as it was.
 */
typedef uint32_t frame_record_t;
#define RECORD_TAG_BITS 4
#define RECORD_SLOT_UNKNOWN 0xfffu
#define RECORD_EPOCH_SHIFT 16

struct pmm_zone {
    uint32_t frames;  /* frames covered */
    uint32_t words;   /* words of `used` */
    uint32_t *used;                 /* the four bitmaps: see above */
    uint32_t *freeable;
    uint32_t *reserved;
    uint32_t *pinned;
    uint32_t *avail_l1, *avail_l2;  /* summaries, see above */
    uint32_t *half_l1, *half_l2;
    uint32_t *empty_l1, *empty_l2;
    unsigned features;              /* PMM_FEAT_* */
    frame_record_t *records;        /* one per frame (see above) */
    uint16_t *refs;                 /* one per frame, while shared */
    uint32_t *owners;               /* PMM_OWNER_SLOTS: owner of each slot
                                       (0: empty; slot 0 is never used) */
    uint32_t owner_count;           /* slots in use */
    uint32_t last_owner, last_slot; /* the last owner looked up */
    uint32_t hint;                  /* word where the next search starts */
    uint32_t queue_head;            /* index of the oldest queued frame */
    uint32_t queue_count;           /* frames in the queue */
    uint32_t bitmap_free;           /* counter: frames clear in `used` (next
                                       to queue_count: out of memory is one
                                       test of both) */
    uint32_t queue[PMM_QUEUE_FRAMES]; /* freed single frames, a ring: still
                                       marked in `used` (see above) */
    uint8_t epoch;                  /* a clock the owner advances (the kernel:
                                       seconds); allocations record it, and
                                       a frame's age is epoch - its epoch
                                       (mod 256: see pmm_zone_clamp_ages) */
    uint32_t no_run_below;          /* no free run of this many frames
                                       exists, so a run search of at least
                                       this many fails at once; forgotten
                                       when a free could have made one, and
                                       by a release (0: nothing known) */
    /* Counters, exact at all times.  The free frames are those clear in
     * `used` plus the queued ones, so the queue's paths (the hot ones)
     * update no counter of states; the allocated ones are the rest
     * (pmm_zone_free_count, pmm_zone_allocated_count). */
    uint32_t reserved_frames;
    /* Statistics for people (and the usage graph): frames handed out and
     * given back (a run counts its frames), refused frees; and refused
     * allocations, which the zone's caller counts (it logs each one; the
     * zone only answers, so that out of memory costs it no more than a
     * free-list stack). */
    uint64_t allocs, frees, failed_allocs, bad_frees;
};

/* pmm_zone_free_count / pmm_zone_allocated_count - frames free /
 * allocated now, exact, in a few instructions (free + allocated +
 * reserved is always `frames`). */
static inline uint32_t pmm_zone_free_count(const struct pmm_zone *z)
{
    return z->bitmap_free + z->queue_count;
}

static inline uint32_t pmm_zone_allocated_count(const struct pmm_zone *z)
{
    return z->frames - z->reserved_frames - pmm_zone_free_count(z);
}

/* pmm_zone_storage_bytes - how much memory a zone of `frames` with these
 * features needs (a multiple of 4; every array 4-byte aligned when the
 * storage is). */
size_t pmm_zone_storage_bytes(uint32_t frames, unsigned features);

/*
 * pmm_zone_init - carve the arrays out of storage (pmm_zone_storage_bytes
 * bytes, 4-byte aligned) and mark every frame reserved with TAG_RESERVED:
 * the default is to deny, and pmm_zone_release opens what the memory map
 * says is RAM.
 */
void pmm_zone_init(struct pmm_zone *z, void *storage, uint32_t frames, unsigned features);

/* pmm_zone_release - make reserved frames [first, first+count) free (the
 * part past the zone is ignored; frames that are not reserved are left
 * alone).  Used while building the zone from the memory map. */
void pmm_zone_release(struct pmm_zone *z, uint32_t first, uint32_t count);

/* pmm_zone_reserve - mark [first, first+count) reserved with tag (free
 * frames become reserved; allocated ones too, which is a caller's bug and
 * returns the number of such frames; the part past the zone is ignored;
 * TAG_FREE is stored as TAG_RESERVED). */
uint32_t pmm_zone_reserve(struct pmm_zone *z, uint32_t first, uint32_t count, uint8_t tag);

/*
 * pmm_zone_alloc - one free frame: the oldest in the queue, or when that
 * is empty the lowest-addressed free frame from the hint's word on;
 * it becomes allocated with tag, refcount 1 and owner.  Returns its
 * number, or PMM_NO_FRAME when none is free (answered from two counters,
 * with no search) or tag is TAG_FREE; a refusal changes nothing in the
 * zone (the caller counts it in failed_allocs).
 */
uint32_t pmm_zone_alloc(struct pmm_zone *z, uint8_t tag, uint32_t owner);

/*
 * pmm_zone_alloc_run - `count` contiguous free frames whose first frame
 * number is a multiple of `align` (a power of two, in frames).  Returns the
 * first frame or PMM_NO_FRAME.  Runs of up to 16 frames with align <= 16
 * are found through the half summary, longer ones through the empty
 * summary; when those fail, an exact search over words with free frames
 * still finds any run that exists (its failure is remembered until a free
 * could have made such a run, so repeated refusals cost nothing).  Also
 * PMM_NO_FRAME for count 0, an alignment that is not a power of two, or
 * tag TAG_FREE.
 */
uint32_t pmm_zone_alloc_run(struct pmm_zone *z, uint32_t count, uint32_t align, uint8_t tag,
                            uint32_t owner);

/* pmm_zone_alloc_run_below - as pmm_zone_alloc_run, but the whole run
 * must lie below frame `limit` (ISA DMA reaches only the first 16 MiB);
 * the lowest such run is taken. */
uint32_t pmm_zone_alloc_run_below(struct pmm_zone *z, uint32_t count, uint32_t align,
                                  uint32_t limit, uint8_t tag, uint32_t owner);

/* pmm_zone_free - free one allocated frame with refcount 1 (it joins the
 * queue; when that is full, its older half is drained first).  Errors:
 * RANGE, RESERVED, NOT_ALLOCATED (already free), SHARED (refs > 1). */
enum pmm_error pmm_zone_free(struct pmm_zone *z, uint32_t frame);

/* pmm_zone_free_run - free [first, first+count): all frames are checked
 * first; the first bad one's error is returned (and *bad_frame says which)
 * and nothing changes. */
enum pmm_error pmm_zone_free_run(struct pmm_zone *z, uint32_t first, uint32_t count,
                                 uint32_t *bad_frame);

/* pmm_zone_ref / pmm_zone_unref - add or drop a reference to an
 * allocated frame; dropping the last frees it (*freed set).  Errors: RANGE,
 * RESERVED, NOT_ALLOCATED, REF_OVERFLOW (at PMM_REF_MAX), BAD_ARG when the
 * zone has no PMM_FEAT_REFS. */
enum pmm_error pmm_zone_ref(struct pmm_zone *z, uint32_t frame);
enum pmm_error pmm_zone_unref(struct pmm_zone *z, uint32_t frame, bool *freed);

/* pmm_zone_drain_queue - take the queued frames out of `used` (updating
 * the summaries) and empty the queue (they stay free).  The zone does this itself
 * whenever it must; tests call it to see a zone with nothing pending. */
void pmm_zone_drain_queue(struct pmm_zone *z);

/* pmm_zone_query - state, tag, refs, owner of one frame. */
void pmm_zone_query(const struct pmm_zone *z, uint32_t frame, struct frame_info *out);

/*
 * pmm_zone_summarize - count the states of [first, first+count) (the part
 * inside the zone) exactly, from the bitmaps a word at a time, and look at
 * the records of at most `samples` frames spread evenly over the range (at
 * least one used frame, if there is one) for the dominant tag, the highest
 * refcount and the youngest age.  Cost: count/32 words + samples records.
 */
void pmm_zone_summarize(const struct pmm_zone *z, uint32_t first, uint32_t count,
                        uint32_t samples, struct frame_summary *out);

/* pmm_zone_clamp_ages - make every allocated frame older than max_age
 * exactly max_age old.  Ages are 8-bit differences: called at least every
 * 255 - max_age epochs, it keeps an old frame from looking new again. */
void pmm_zone_clamp_ages(struct pmm_zone *z, uint8_t max_age);

/* pmm_zone_count_tag - frames carrying tag (a scan: for `frames`). */
uint32_t pmm_zone_count_tag(const struct pmm_zone *z, uint8_t tag);

/* pmm_zone_largest_free_run - the longest run of free frames (a scan). */
uint32_t pmm_zone_largest_free_run(const struct pmm_zone *z, uint32_t *first);

/* pmm_zone_check - verify every invariant (counters against the bitmaps,
 * each summary against the words it summarises, tags/refs against states).
 * Returns NULL when all hold, else a static description of the first
 * broken one.  O(frames): for tests and `frames check`. */
const char *pmm_zone_check(const struct pmm_zone *z);

#endif
