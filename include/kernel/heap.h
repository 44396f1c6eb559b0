/*
 * heap.h - the kernel heap: kmalloc and kfree, and the debugging that
 * catches their misuse.
 *
 * The allocator itself is pure logic (heap_core.h: size-class slabs for
 * small blocks, runs of pages for large ones); this is the kernel's
 * instance of it over [KV_HEAP_START, KV_HEAP_END), with pages mapped from
 * fresh frames (tagged HEAP) as it grows and unmapped when whole pages
 * fall free, interrupts held off around every call, and misuse reported
 * on screen and serial with the caller's and the block's allocation site.
 *
 * Alignment: every pointer returned is at least 16-byte aligned (8 is the
 * contract), except kmalloc_guarded's, which ends exactly at a guard page
 * and so is only as aligned as its size allows (8-byte aligned when the
 * size is a multiple of 8).
 *
 * kmalloc(0) returns a unique block of size 0: it must be freed like any
 * other and must not be written (with HEAP_DEBUG, a write to it is caught
 * as an overflow).  A size that cannot be served (larger than the heap
 * area, or so large that rounding it would wrap) returns NULL and logs
 * why.  When frames run out, kmalloc returns NULL and the heap stays
 * consistent.
 */
#ifndef KERNEL_HEAP_H
#define KERNEL_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/heap_core.h"

/* The contract (DESIGN.md). kfree(NULL) does nothing. */
void *kmalloc(size_t size);
void kfree(void *ptr);

/* kcalloc - n * size zeroed bytes; NULL (and a log line) when n * size
 * overflows. */
void *kcalloc(size_t n, size_t size);

/* krealloc - heap_realloc's rules: NULL ptr allocates, size 0 frees and
 * returns NULL, failure leaves the old block untouched. */
void *krealloc(void *ptr, size_t size);

/* kmalloc_aligned - align a power of two up to 4096. */
void *kmalloc_aligned(size_t size, size_t align);

/* kmalloc_tagged - a block carrying `tag` (a static string), shown by
 * `heap`, `heap blocks`, `heap leaks` and the visualizer. */
void *kmalloc_tagged(size_t size, const char *tag);

/*
 * kmalloc_guarded - a block on pages of its own whose last byte is the
 * last byte before an unmapped guard page (and with a guard page below):
 * a one-byte overflow faults at once, and the fault report names this
 * block (the idea of Electric Fence and Linux's KFENCE).  Costs at least
 * two pages of address space and one frame per 4 KiB; at most
 * GUARDED_RANGES_MAX at a time.  Freed with kfree.
 */
void *kmalloc_guarded(size_t size, const char *tag);

/* kheap_init - set the heap up (after paging).  Panics if it cannot. */
void kheap_init(void);

/* kheap_check - heap_check on the kernel heap (with interrupts off). */
bool kheap_check(struct heap_report *r);

/* kheap_stats - the counters; guarded blocks are counted apart. */
struct kheap_stats {
    struct heap_stats core;
    size_t guarded_blocks, guarded_bytes, guarded_pages;
    uint64_t misuse_reports;  /* bad frees, overflows, use after free seen */
};
void kheap_get_stats(struct kheap_stats *out);

/* kheap_describe - what a heap address is, in a sentence, for fault
 * reports ("inside the 64-byte block at 0x... (tag shell, allocated by
 * cmd_kmalloc+0x4c)", "guard page right after the guarded 100-byte block
 * at ..."); false when addr is neither in the heap area nor a guarded
 * block's page. */
bool kheap_describe(uintptr_t addr, char *buf, size_t size);

/* kheap_block_info - heap_describe on the kernel heap: what the heap
 * address addr is (the live block holding it, or the kind of page).  The
 * `what` text may live in a buffer the next call rewrites. */
void kheap_block_info(uintptr_t addr, struct heap_block_info *out);

/* kheap_for_each_block - every live block, guarded ones included
 * (heap_block_info.what says "guarded" for those). */
void kheap_for_each_block(void (*fn)(void *ctx, const struct heap_block_info *b), void *ctx);

/* kheap_core - the allocator's state, read-only, for views. */
const struct heap *kheap_core(void);

void heap_selftests_register(void);

#endif
