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
 *     power-of-two classes are naturally aligned.  With debug off, the
 *     last few slots freed from full untagged slabs of each class wait in
 *     a small magazine and are handed out again first (a free and an
 *     alloc then move no slab on or off a list);
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
 * Checks that are always on (they cost a bit test, and a look at the
 * class's magazine): freeing a pointer the heap never returned (outside
 * the range, in a free page, inside a slot or a run rather than at its
 * start), and freeing a slot or run twice.  A refused free changes
 * nothing.
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
#define HEAP_RUN_HINTS 32         /* (private: the size of struct heap's run_hint) */
#define HEAP_MAG 16               /* (private: freed slots parked per class; struct heap's mag) */

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

/*
 * The heap's state.  The caller allocates it (it is large: the page
 * bitmaps cover the biggest range) and passes it to every call; it may
 * read the fields of the first group.  The second group is the heap's own
 * (src/memory/heap_*.c): callers must not write it, and nothing outside
 * the heap and its white-box tests should read it.
 */
struct heap {
    /* ---- read by callers -------------------------------------------- */
    uintptr_t base;
    size_t size;                     /* bytes of the range */
    struct heap_pages pages;
    struct heap_config config;
    struct heap_class classes[HEAP_CLASSES_MAX];
    uint32_t class_count;
    uint8_t class_of_size[HEAP_SMALL_MAX / HEAP_MIN_ALIGN + 1]; /* (size+15)/16 -> class */
    const char *tags[HEAP_TAGS_MAX]; /* tags[0] is "kmalloc" */
    uint32_t tag_count;
    /* The counters; read them with heap_get_stats, which derives some:
     * live_blocks (allocs - frees), free_slot_bytes, with debug off
     * live_bytes (== slot_bytes: no requested size is kept), and adds
     * the magazines' traffic to allocs, frees and slot_bytes. */
    struct heap_stats stats;

    /* ---- private ---------------------------------------------------- */
    /* (The per-class arrays come before the big bitmaps: a damaged map
     * entry names a class up to 63, and the fast paths index with it.) */
    uint32_t *map;                   /* == base */
    uint32_t map_pages_total;        /* pages the whole map needs */
    uint32_t map_pages_backed;
    uint32_t top;                    /* pages ever used, map included */
    uint32_t total_pages;            /* pages of the range */
    uintptr_t fast_limit;            /* debug off: top in bytes; debug on: 0 (no fast free) */
    size_t slab_bytes, run_bytes;    /* slots in all slabs; bytes of all runs */
    struct {                         /* per class, what the fast paths need */
        uint32_t recip;              /* ceil(2^32 / slot): slot index by multiply */
        uint32_t slot;
        uint16_t slots;
        uint16_t hdr_off;            /* slab start -> its header */
    } fast[HEAP_CLASSES_MAX];
    /* The magazines: per class, slots of full tag-0 slabs that were freed
     * and are handed out again first, last in first out (debug off only).
     * A parked slot keeps its bit set in its slab, so the slab stays full
     * and off its list, and neither the free nor the alloc moves it or
     * writes its header.  An entry is the slot's offset from base; unused
     * ones are 0 (the page map's offset: never a slot's).  HEAP_MAG = 16:
     * at bench_heap's live peak, 8 or 24 held more memory (1.193 and 1.198
     * times the live bytes, against 1.187) and were no faster. */
    uint32_t mag_n[HEAP_CLASSES_MAX];
    uint32_t mag[HEAP_CLASSES_MAX][HEAP_MAG];
    /* Per class, the slots parked and the parked slots handed out: those
     * frees and allocations count here alone (one add each), and
     * heap_stats_now folds them into allocs, frees and slot_bytes. */
    uint64_t parks[HEAP_CLASSES_MAX], unparks[HEAP_CLASSES_MAX];
    struct heap_slab *empty[HEAP_CLASSES_MAX]; /* the one empty slab kept per class */
    uint32_t retained;               /* free pages still backed */
    /* Search hints: no run of k or more free pages starts below
     * run_hint[k] (k < HEAP_RUN_HINTS; the last covers all longer ones). */
    uint32_t run_hint[HEAP_RUN_HINTS + 1];
    uint32_t tag_overflows;          /* allocations whose tag fell into "other" */
    /* Slabs with free slots, one list per class and tag. */
    struct heap_slab *partial[HEAP_CLASSES_MAX][HEAP_TAGS_MAX];
    /* One bit per page of the range: free (not a slab, run or the map;
     * pages at or past `top` count as free), and backed.  First fit over
     * the free bitmap, a word at a time, finds page runs; merging free
     * neighbours is then implicit. */
    uint32_t free_bits[HEAP_MAX_PAGES / 32];
    uint32_t backed_bits[HEAP_MAX_PAGES / 32];
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

/* heap_top_page - the heap's high-water mark, in pages from base: the
 * page map (all of it, backed or not) and every page used since lie
 * below it; no page at or past it was ever used (heap_describe calls
 * those "never used").  It never falls, and lies between the map's page
 * count and size / HEAP_PAGE. */
uint32_t heap_top_page(const struct heap *h);

/* heap_fragmentation - of the free memory the heap holds (free slots and
 * free backed pages), the share in percent that lies in slots of partly
 * used slabs, which only blocks of that class can use; 0 when nothing
 * free is held. */
unsigned heap_fragmentation(const struct heap_stats *s);

#ifdef HEAP_CORE_PRIVATE
/*
 * ---- The layout, for white-box tests --------------------------------------
 * Not part of the API.  The heap's own files get this, and the helpers
 * they share, from src/memory/heap_internal.h.  It is here, behind
 * HEAP_CORE_PRIVATE, only so that a test which damages the structures on
 * purpose (to see heap_check catch it) can name them: such a test defines
 * HEAP_CORE_PRIVATE before including this header.
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
 * free list: the bitmap is the record of which slots are free (but for
 * the few parked in a magazine, whose bits stay set: struct heap's mag),
 * so neither alloc nor free touches a slot's memory (and a write after
 * free cannot steer the allocator). */
struct heap_slab {
    uint32_t magic;        /* HEAP_SLAB_MAGIC */
    uint8_t cls, tag;
    uint16_t slots;        /* == classes[cls].slots */
    uint32_t free_count;   /* (32-bit: a 16-bit neighbour store would stall its load) */
    uint32_t hint;         /* every bitmap word below it is full */
    struct heap_slab *next; /* its partial list (the back link is in the map) */
    uint32_t bits[];       /* 1 bit a slot, 1 = handed out; bits past `slots` are 1 */
};

/* heap_slab_header_bytes - a slab header with a bitmap for `slots`,
 * rounded so that the header (at the slab's end) is pointer-aligned. */
uint32_t heap_slab_header_bytes(uint32_t slots);

/* heap_slab_of - the header of the slab that page `page` (map entry
 * `entry`, a SLAB entry) belongs to. */
struct heap_slab *heap_slab_of(const struct heap *h, uint32_t page, uint32_t entry);
#endif /* HEAP_CORE_PRIVATE */

#endif
