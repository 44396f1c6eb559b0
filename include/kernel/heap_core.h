/*
 * heap_core.h - the kernel heap's allocator, as pure logic.
 *
 * The heap owns one range of virtual addresses [base, base + size) and
 * asks a page source to back pages with memory (the kernel maps fresh
 * frames; a host test uses a plain arena).  Nothing here touches a page
 * table, a linker symbol or a fixed address, so the same code runs in the
 * kernel, in host tests under ASan/UBSan, in a fuzzer and in the benchmark.
 *
 * Layout of the range (every unit is a 4 KiB page):
 *
 *   base                                                        base + size
 *   | page map | slab | slab | run ........ | free | slab | ... |  (unused) |
 *   |<-- grows with the heap -->|                                ^ top: pages
 *                                                                  past it were
 *                                                                  never used
 *
 *   - the page map: one 32-bit entry per page of the range, kept at the
 *     start of the range itself and backed only as far as the heap has
 *     grown.  It says what each page is: part of the map, the head or a
 *     later page of a slab (with the slab's size class) or of a run (a
 *     large block), or free (and whether it is still backed);
 *   - slabs: one or more pages cut into equal slots of one size class
 *     (16 bytes up to HEAP_SMALL_MAX), with the slab's header at the END of
 *     its last page, so that slots start at the slab's first byte and
 *     power-of-two classes are naturally aligned;
 *   - runs: blocks larger than HEAP_SMALL_MAX get whole pages of their own
 *     (and, with debug off, those of the 4096 and 8192 classes: a run of
 *     them wastes nothing, while a slab of them would give a slot per slab
 *     to its header);
 *   - free pages: runs of pages no one uses, merged with free neighbours.
 *     A few stay backed for reuse (HEAP_RETAIN_PAGES); the rest are handed
 *     back to the page source at once.
 *
 * Size classes: 16, 32, 48, ..., 128 (steps of 16), then four per doubling
 * (160, 192, 224, 256, 320, ...) up to HEAP_SMALL_MAX.  A request is
 * rounded up to its class: at most 25% (and on average about 10%) is lost
 * to rounding.  Each class's slab size (1 to 16 pages) is chosen at init to
 * waste the least of its pages.
 *
 * Tags: each allocation carries a tag (a static string such as "shell" or
 * "vfs"; NULL means "kmalloc").  Slabs hold one tag each (a slab for each
 * class and tag in use), so a tag costs no bytes per object.  At most
 * HEAP_TAGS_MAX distinct tags; past that, new tags share the slot "other"
 * (the table's last entry: 31 names, "kmalloc" included, keep their own).
 *
 * Debug checks (struct heap_config.debug): each slot then carries a
 * 16-byte header in front of the object and at least 4 bytes of red zone
 * after it:
 *
 *     | canary | size | site | check |  object (size bytes)  | red zone ... |
 *       u32      u32    u32    u32                            0xfd bytes to the slot's end
 *
 * canary = HEAP_CANARY, check = canary ^ size ^ site ^ slot address; the
 * red zone is verified on free and by heap_check (an overflow, even of one
 * byte, is reported with the block it came from).  A run has the same
 * header, and its red zone goes to the end of its last page.  An aligned
 * block (align > 16) starts at the first `align` boundary at least 16
 * bytes into its slot; the padding before its header holds HEAP_PAD_MAGIC
 * and that distance, then red zone bytes.  Freed slots are filled with
 * HEAP_POISON (all of it: free slots are tracked by a bitmap in the slab
 * header, not linked through their memory) and verified when they are
 * handed out again (a write after free is reported).  With debug off
 * there is no header: slots are exactly the class size.
 *
 * Checks that are always on (they cost a bit test): freeing a pointer the
 * heap never returned (outside the range, in a free page, inside a slot or
 * a run rather than at its start), and freeing a slot or run twice.  A
 * refused free changes nothing.
 *
 * Every result is at least 16-byte aligned (8 in the contract of heap.h);
 * heap_alloc_aligned gives power-of-two alignments up to 4096.
 */
#ifndef KERNEL_HEAP_CORE_H
#define KERNEL_HEAP_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HEAP_PAGE 4096u
#define HEAP_MAX_PAGES 65536u     /* the largest range: 256 MiB */
#define HEAP_MIN_ALIGN 16u
#define HEAP_SMALL_MAX 8192u      /* larger requests get runs of pages */
#define HEAP_CLASSES_MAX 40
#define HEAP_TAGS_MAX 32
#define HEAP_RETAIN_PAGES 16      /* free pages kept backed for reuse */
#define HEAP_CANARY 0xc0ffee11u
#define HEAP_PAD_MAGIC 0xa119a119u /* debug: an aligned block's padding starts so */
#define HEAP_POISON 0x6b          /* freed memory, debug on */
#define HEAP_REDZONE 0xfd         /* after each object, debug on */
#define HEAP_DEBUG_HEADER 16u
#define HEAP_DEBUG_TAIL_MIN 4u
#define HEAP_RUN_HINTS 32         /* private: see struct heap's run_hint */

/* The page source: what backs the heap's pages with memory. */
struct heap_pages {
    /* Back [va, va + pages * 4096) with memory (page-aligned, inside the
     * range, not backed now).  false when there is no memory: the heap
     * then changes nothing and fails the allocation. */
    bool (*back)(void *ctx, uintptr_t va, uint32_t pages);
    /* Hand [va, va + pages * 4096) back (it is backed, and nothing in it
     * is used any more). */
    void (*release)(void *ctx, uintptr_t va, uint32_t pages);
    void *ctx;
};

struct heap_config {
    bool debug;          /* headers, red zones, poison (see above) */
};

/* What a misuse or a broken invariant was. */
enum heap_problem {
    HEAP_OK = 0,
    HEAP_BAD_POINTER,    /* not a pointer the heap returned (outside, free page, ...) */
    HEAP_INTERIOR,       /* inside a block, not at its start */
    HEAP_DOUBLE_FREE,    /* the block is already free */
    HEAP_OVERFLOW,       /* red zone after the block was written */
    HEAP_HEADER_SMASHED, /* the block's header was overwritten (by the block before it) */
    HEAP_USE_AFTER_FREE, /* a free block was written while free */
    HEAP_NO_MEMORY,      /* the page source is out of memory, or the range is full */
    HEAP_TOO_LARGE,      /* the size cannot be served (rounding would wrap, > range) */
    HEAP_BAD_ALIGN,      /* alignment not a power of two, or > 4096 */
    HEAP_CORRUPT,        /* heap_check: an internal structure is inconsistent */
};
const char *heap_problem_str(enum heap_problem p);

/* A report: what went wrong and the block concerned.  Filled by the call
 * that noticed (and left as it was by a call that found nothing wrong);
 * `block` is 0 when no block could be named. */
struct heap_report {
    enum heap_problem problem;
    uintptr_t pointer;   /* what the caller passed (or the address checked) */
    uintptr_t block;     /* the start of the block concerned */
    size_t size;         /* its requested size (debug) or slot/run size */
    const char *tag;
    uint32_t site;       /* where it was allocated (debug; 0 if unknown) */
    size_t offset;       /* overflow / use after free: the first bad byte's offset
                            from block; interior: pointer - block */
    char detail[80];     /* heap_check: which invariant */
};

/* One size class. */
struct heap_class {
    uint32_t slot;       /* bytes per slot (the class size, plus debug extras) */
    uint32_t size;       /* the largest request it serves */
    uint16_t pages;      /* pages per slab */
    uint16_t slots;      /* slots per slab */
};

struct heap_slab; /* private: the header at the end of a slab */

struct heap_stats {
    size_t live_blocks, live_bytes;  /* requested bytes of live blocks (debug; with
                                        debug off no request size is kept: usable
                                        bytes, == slot_bytes) */
    size_t slot_bytes;               /* bytes of slots and runs in use (>= live_bytes) */
    size_t backed_pages;             /* pages backed by the page source now */
    size_t peak_backed_pages;
    size_t map_pages;                /* of which the page map */
    size_t free_slot_bytes;          /* free slots inside slabs */
    size_t free_backed_pages;        /* free pages still backed */
    size_t largest_free_run;         /* pages, backed or not, below top */
    uint64_t allocs, frees, failed_allocs, bad_frees;
    size_t slabs, runs;
};

struct heap {
    uintptr_t base;
    size_t size;                     /* bytes of the range */
    struct heap_pages pages;
    struct heap_config config;
    uint32_t *map;                   /* == base */
    uint32_t map_pages_total;        /* pages the whole map needs */
    uint32_t map_pages_backed;
    uint32_t top;                    /* pages ever used, map included */
    struct heap_class classes[HEAP_CLASSES_MAX];
    uint32_t class_count;
    uint8_t class_of_size[HEAP_SMALL_MAX / HEAP_MIN_ALIGN + 1]; /* (size+15)/16 -> class */
    const char *tags[HEAP_TAGS_MAX]; /* tags[0] is "kmalloc" */
    uint32_t tag_count;
    /* Slabs with free slots, one list per class and tag. */
    struct heap_slab *partial[HEAP_CLASSES_MAX][HEAP_TAGS_MAX];
    /* One bit per page of the range: free (not a slab, run or the map;
     * pages at or past `top` count as free), and backed.  First fit over
     * the free bitmap, a word at a time, finds page runs; merging free
     * neighbours is then implicit. */
    uint32_t free_bits[HEAP_MAX_PAGES / 32];
    uint32_t backed_bits[HEAP_MAX_PAGES / 32];
    uint32_t retained;               /* free pages still backed */
    /* The counters; read them with heap_get_stats, which derives some:
     * live_blocks (allocs - frees), free_slot_bytes, and with debug off
     * live_bytes (== slot_bytes: no requested size is kept). */
    struct heap_stats stats;
    /* Private details (src/memory/heap_*.c). */
    uint32_t total_pages;            /* pages of the range */
    /* Search hints: no run of k or more free pages starts below
     * run_hint[k] (k < HEAP_RUN_HINTS; the last covers all longer ones). */
    uint32_t run_hint[HEAP_RUN_HINTS + 1];
    uint32_t tag_overflows;          /* allocations whose tag fell into "other" */
    uintptr_t fast_limit;            /* debug off: top in bytes; debug on: 0 (no fast free) */
    size_t slab_bytes, run_bytes;    /* slots in all slabs; bytes of all runs */
    struct {                         /* per class, what the fast paths need */
        uint32_t recip;              /* ceil(2^32 / slot): slot index by multiply */
        uint32_t slot;
        uint16_t slots;
        uint16_t hdr_off;            /* slab start -> its header */
    } fast[HEAP_CLASSES_MAX];
    struct heap_slab *empty[HEAP_CLASSES_MAX]; /* the one empty slab kept per class */
    char class_what[HEAP_CLASSES_MAX][32];      /* "slab of 64-byte slots" */
    char what[40];                   /* heap_describe's text for runs */
};

/*
 * heap_init - set up a heap over [base, base + size) (both page-aligned,
 * size from 64 KiB to HEAP_MAX_PAGES pages) with pages from `pages`.  Backs
 * the first page of the page map.  false (and nothing backed) when the
 * arguments are wrong or that page cannot be backed.
 */
bool heap_init(struct heap *h, uintptr_t base, size_t size, const struct heap_pages *pages,
               const struct heap_config *config);

/*
 * heap_alloc - a block of at least `size` bytes, HEAP_MIN_ALIGN-aligned,
 * tagged (NULL: "kmalloc"), with `site` recorded (debug).  size 0 gives a
 * unique block of size 0 (which must not be written, and is freed like any
 * other).  Returns NULL, with the reason in *r when r is not NULL
 * (HEAP_NO_MEMORY, HEAP_TOO_LARGE), and the heap unchanged.
 * In debug mode a slot handed out again is first checked for writes made
 * while it was free (HEAP_USE_AFTER_FREE in *r; the allocation still
 * succeeds, with a clean slot).
 */
void *heap_alloc(struct heap *h, size_t size, const char *tag, uint32_t site,
                 struct heap_report *r);

/* heap_alloc_aligned - the same with `align` (a power of two, at most
 * 4096; smaller than 16 is taken as 16).  HEAP_BAD_ALIGN otherwise. */
void *heap_alloc_aligned(struct heap *h, size_t size, size_t align, const char *tag,
                         uint32_t site, struct heap_report *r);

/*
 * heap_free - give a block back.  NULL is a no-op (true).  Any misuse
 * (HEAP_BAD_POINTER, HEAP_INTERIOR, HEAP_DOUBLE_FREE, and in debug mode
 * HEAP_OVERFLOW, HEAP_HEADER_SMASHED) returns false with *r filled and
 * the heap unchanged: the block stays allocated, for the caller to look at.
 */
bool heap_free(struct heap *h, void *p, struct heap_report *r);

/* heap_block_size - the requested size of a live block (debug) or its
 * usable size (slot or run); 0 with *r filled when p is not a live block. */
size_t heap_block_size(struct heap *h, const void *p, struct heap_report *r);

/*
 * heap_realloc - resize: NULL p is heap_alloc; size 0 frees and returns
 * NULL; a block that still fits its slot or run is kept in place (a run
 * also grows into free pages right after it, or gives back its tail);
 * otherwise a new block (same tag, HEAP_MIN_ALIGN-aligned) gets the old
 * contents.  On failure NULL, *r filled, and the old block untouched.
 */
void *heap_realloc(struct heap *h, void *p, size_t size, uint32_t site, struct heap_report *r);

/* What is at an address: for fault reports and the visualizer. */
struct heap_block_info {
    bool in_heap;        /* inside the range */
    bool live;           /* inside a live block */
    uintptr_t block;     /* its start (the object, not the slot) */
    size_t size;         /* requested (debug) or usable size */
    size_t slot;         /* bytes the block takes */
    const char *tag;
    uint32_t site;
    const char *what;    /* "slab of 64-byte slots", "run of 3 pages", "free page", "page map", ... */
};
void heap_describe(struct heap *h, uintptr_t addr, struct heap_block_info *out);

/* heap_check - verify every invariant and, in debug mode, every header,
 * red zone and poisoned free slot.  true when all hold; else *r names the
 * first problem found. */
bool heap_check(struct heap *h, struct heap_report *r);

/* heap_for_each_block - call fn for every live block (in address order). */
void heap_for_each_block(struct heap *h,
                         void (*fn)(void *ctx, const struct heap_block_info *b), void *ctx);

/* heap_get_stats - the counters (struct heap_stats). */
void heap_get_stats(const struct heap *h, struct heap_stats *out);

#ifdef HEAP_CORE_PRIVATE
/*
 * ---- Private to src/memory/heap_*.c -------------------------------------
 * The heap's five files share these; they define HEAP_CORE_PRIVATE before
 * including this header.  Nothing else may use them.
 *
 * A page map entry:
 *
 *    31   29 28                                                      0
 *   +-------+---------------------------------------------------------+
 *   | kind  | what the kind needs                                     |
 *   +-------+---------------------------------------------------------+
 *   FREE      bit 0: backed.  bit 1: a block was freed here; bits 4..11
 *             hold its start's offset in the page / 16, so that freeing
 *             that pointer again is named a double free, not a bad pointer
 *   MAP       bit 0: backed
 *   SLAB      bits 0..5: class; bits 8..11: this page's index in the slab;
 *             on its first page, bits 12..27: the first page of the slab
 *             before it on its partial list (0: none; see heap_list_push)
 *   RUN       (a run's first page) bits 0..16: pages; bits 20..24: tag
 *   RUN_TAIL  bits 0..16: how many pages back the run starts
 */
enum { HEAP_MAP_FREE, HEAP_MAP_MAP, HEAP_MAP_SLAB, HEAP_MAP_RUN, HEAP_MAP_RUN_TAIL };
#define HEAP_MAP_KIND(e) ((uint32_t)(e) >> 29)
#define HEAP_MAP_MAKE(kind, bits) (((uint32_t)(kind) << 29) | (uint32_t)(bits))
#define HEAP_MAP_BACKED 1u
#define HEAP_MAP_FREED 2u
#define HEAP_MAP_FREED_OFF(e) ((((e) >> 4) & 0xffu) << 4)
#define HEAP_MAP_CLASS(e) ((e) & 63u)
#define HEAP_MAP_SLAB_PAGE(e) (((e) >> 8) & 15u)
#define HEAP_MAP_PAGES(e) ((e) & 0x1ffffu)
#define HEAP_MAP_TAG(e) (((e) >> 20) & 31u)
#define HEAP_MAP_PREV_SHIFT 12
#define HEAP_MAP_PREV_MASK (0xffffu << HEAP_MAP_PREV_SHIFT)
#define HEAP_MAP_PREV(e) (((e) & HEAP_MAP_PREV_MASK) >> HEAP_MAP_PREV_SHIFT)

#define HEAP_SLAB_MAGIC 0x51ab51abu

/* The header at the end of a slab's last page.  A slab is on its
 * (class, tag) partial list exactly when free_count > 0.  There is no
 * free list: the bitmap is the whole record of which slots are free, so
 * neither alloc nor free touches a slot's memory (and a write after free
 * cannot steer the allocator). */
struct heap_slab {
    uint32_t magic;        /* HEAP_SLAB_MAGIC */
    uint8_t cls, tag;
    uint16_t slots;        /* == classes[cls].slots */
    uint32_t free_count;   /* (32-bit: a 16-bit neighbour store would stall its load) */
    uint32_t hint;         /* every bitmap word below it is full */
    struct heap_slab *next; /* its partial list (the back link is in the map) */
    uint32_t bits[];       /* 1 bit a slot, 1 = handed out; bits past `slots` are 1 */
};

static inline uint32_t heap_slab_words(uint32_t slots)
{
    return (slots + 31) / 32;
}

/* The slab's first byte, from its header. */
static inline uintptr_t heap_slab_start(const struct heap *h, const struct heap_slab *s)
{
    return (uintptr_t)s - h->fast[s->cls].hdr_off;
}

/* The index of the first page of the slab whose header is s. */
static inline uint32_t heap_slab_page(const struct heap *h, const struct heap_slab *s,
                                      uint32_t cls)
{
    return (uint32_t)(((uintptr_t)s - h->fast[cls].hdr_off - h->base) >> 12);
}

/* The header of the slab of class cls whose first page is `page`. */
static inline struct heap_slab *heap_slab_at(const struct heap *h, uint32_t page, uint32_t cls)
{
    return (struct heap_slab *)(h->base + ((uintptr_t)page << 12) + h->fast[cls].hdr_off);
}

/* Set the back link (a first page index, 0 for none) in the map entry of
 * a slab's first page. */
static inline void heap_set_prev(struct heap *h, uint32_t page, uint32_t prev)
{
    h->map[page] = (h->map[page] & ~HEAP_MAP_PREV_MASK) | prev << HEAP_MAP_PREV_SHIFT;
}

/* Take the lowest free slot of s (free_count > 0; `words` bitmap words):
 * its index, or UINT32_MAX if the bitmap has no clear bit after all
 * (corrupt). */
static inline uint32_t heap_slab_pop(struct heap_slab *s, uint32_t words)
{
    uint32_t w = s->hint;
    while (w < words && s->bits[w] == 0xffffffffu)
        w++;
    if (w >= words)
        return UINT32_MAX;
    uint32_t b = (uint32_t)__builtin_ctz(~s->bits[w]);
    s->bits[w] |= 1u << b;
    s->hint = w;
    s->free_count--;
    return w * 32 + b;
}

/* A block found from a pointer (heap_locate). */
struct heap_loc {
    struct heap_slab *slab; /* NULL: a run */
    uint32_t index;         /* slot index in the slab */
    uint32_t first, pages;  /* a run's pages */
    uintptr_t slot;         /* the slot's or the run's first byte */
    size_t bytes;           /* bytes of the slot or run */
    uintptr_t obj;          /* the block as the caller sees it */
    uint32_t tag;
};

static inline uintptr_t heap_page_addr(const struct heap *h, uint32_t page)
{
    return h->base + ((uintptr_t)page << 12);
}

static inline bool heap_bit(const uint32_t *bits, uint32_t i)
{
    return (bits[i >> 5] >> (i & 31)) & 1u;
}

/* Slot index of a byte `rel` bytes into a slab: floor(rel / slot) by a
 * multiply (exact for every byte of every slab: checked at init). */
static inline uint32_t heap_slot_index(uint32_t rel, uint32_t recip)
{
    return (uint32_t)(((uint64_t)rel * recip) >> 32);
}

/* heap_pages.c: the page map and runs of pages. */
bool heap_pages_init(struct heap *h);
uint32_t heap_pages_take(struct heap *h, uint32_t n, struct heap_report *r);
bool heap_pages_grow(struct heap *h, uint32_t first, uint32_t n, uint32_t extra);
void heap_pages_give(struct heap *h, uint32_t first, uint32_t n);
uint32_t heap_pages_largest_free(const struct heap *h);
uint32_t heap_pages_count(const uint32_t *bits, uint32_t first, uint32_t n);

/* heap_slab.c: size classes and slabs. */
bool heap_classes_init(struct heap *h);
uintptr_t heap_slab_take(struct heap *h, uint32_t cls, uint32_t tag, struct heap_report *r);
void heap_slab_put(struct heap *h, struct heap_slab *s, uint32_t index);
void heap_list_push(struct heap *h, struct heap_slab *s);
void heap_list_unlink(struct heap *h, struct heap_slab *s);
struct heap_slab *heap_slab_of(const struct heap *h, uint32_t page, uint32_t entry);
uint32_t heap_slab_header_bytes(uint32_t slots);
uint32_t heap_tag_index(struct heap *h, const char *tag);
const char *heap_tag_name(const struct heap *h, uint32_t tag);

/* heap_core.c: the derived counters. */
void heap_stats_now(const struct heap *h, struct heap_stats *out);

/* heap_debug.c: reports, finding blocks (misuse checks), headers, red
 * zones, poison. */
bool heap_locate(struct heap *h, uintptr_t p, struct heap_loc *l, struct heap_report *r);
bool heap_locate_checked(struct heap *h, uintptr_t p, struct heap_loc *l, struct heap_report *r);
size_t heap_block_requested(const struct heap *h, const struct heap_loc *l, uint32_t *site);
void heap_report_set(struct heap_report *r, enum heap_problem p, uintptr_t pointer,
                     uintptr_t block, size_t size, const char *tag, uint32_t site,
                     size_t offset, const char *detail);
uint32_t heap_debug_lead(uintptr_t slot, size_t bytes);
uintptr_t heap_debug_lay(uintptr_t slot, size_t bytes, size_t lead, size_t size,
                         uint32_t site);
bool heap_debug_header(uintptr_t slot, uintptr_t obj, size_t bytes, uint32_t *size,
                       uint32_t *site);
bool heap_debug_verify(struct heap *h, const struct heap_loc *l, uintptr_t pointer,
                       struct heap_report *r);
void heap_debug_poison(uintptr_t slot, size_t bytes);
bool heap_debug_poison_ok(uintptr_t slot, size_t bytes, const char *tag, struct heap_report *r);
#endif /* HEAP_CORE_PRIVATE */

#endif
