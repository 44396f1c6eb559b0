/*
 * heap_internal.h - what the heap's files (src/memory/heap_*.c) share
 * (not public).
 *
 * The layout itself (page map entries, the slab header) sits in
 * kernel/heap_core.h behind HEAP_CORE_PRIVATE, where the white-box tests
 * can see it too; this header turns that on and adds the helpers and the
 * calls between the heap's files, which nothing else may use.  A heap
 * file includes this header, never kernel/heap_core.h directly (the
 * latter's include guard would then hide the layout).
 */
#ifndef HEAP_INTERNAL_H
#define HEAP_INTERNAL_H

#if defined(KERNEL_HEAP_CORE_H) && !defined(HEAP_CORE_PRIVATE)
#error "include heap_internal.h before kernel/heap_core.h"
#endif
#define HEAP_CORE_PRIVATE
#include "kernel/heap_core.h"

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

/* Whether the slot at `off` bytes from base is parked in class c's
 * magazine.  All HEAP_MAG entries are compared, without a branch (unused
 * ones are 0, which no slot is): the compiler makes it a few vector
 * compares where it may. */
static inline bool heap_mag_has(const struct heap *h, uint32_t c, uint32_t off)
{
    uint32_t hit = 0;
    for (uint32_t k = 0; k < HEAP_MAG; k++)
        hit |= h->mag[c][k] == off;
    return hit != 0;
}

/* How many slots parked in class c's magazine lie in the slab whose
 * first byte is `start` bytes from base (`pages` long). */
static inline uint32_t heap_mag_in(const struct heap *h, uint32_t c, uint32_t start,
                                   uint32_t pages)
{
    uint32_t count = 0;
    for (uint32_t k = 0; k < HEAP_MAG; k++)
        count += h->mag[c][k] - start < pages * HEAP_PAGE;
    return count;
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

/* heap_slab.c: size classes and slabs (and heap_slab_of,
 * heap_slab_header_bytes: kernel/heap_core.h). */
bool heap_classes_init(struct heap *h);
uintptr_t heap_slab_take(struct heap *h, uint32_t cls, uint32_t tag, struct heap_report *r);
void heap_slab_put(struct heap *h, struct heap_slab *s, uint32_t index);
void heap_list_push(struct heap *h, struct heap_slab *s);
void heap_list_unlink(struct heap *h, struct heap_slab *s);
uint32_t heap_tag_index(struct heap *h, const char *tag);
const char *heap_tag_name(const struct heap *h, uint32_t tag);

/* heap_core.c: freeing a located block, and the derived counters. */
void heap_release(struct heap *h, const struct heap_loc *l, size_t req);
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

#endif
