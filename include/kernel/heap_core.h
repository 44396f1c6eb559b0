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
 *   - runs: blocks larger than HEAP_SMALL_MAX get whole pages of their own;
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
 * HEAP_TAGS_MAX distinct tags; past that, new tags share the slot "other".
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
 * byte, is reported with the block it came from); freed slots are filled
 * with HEAP_POISON (but their first word, the free-list link) and verified
 * when they are handed out again (a write after free is reported).  With
 * debug off there is no header: slots are exactly the class size.
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
#define HEAP_POISON 0x6b          /* freed memory, debug on */
#define HEAP_REDZONE 0xfd         /* after each object, debug on */
#define HEAP_DEBUG_HEADER 16u
#define HEAP_DEBUG_TAIL_MIN 4u

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
 * that noticed; `block` is 0 when no block could be named. */
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
    size_t live_blocks, live_bytes;  /* requested bytes of live blocks */
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
    struct heap_stats stats;
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
 * NULL; a block that still fits its slot or run is kept in place;
 * otherwise a new block (same tag) gets the old contents.  On failure NULL,
 * *r filled, and the old block untouched.
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

#endif
