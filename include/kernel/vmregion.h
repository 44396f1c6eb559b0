/*
 * vmregion.h - named ranges of the kernel's virtual address space.
 *
 * Paging registers what it maps at boot (kernel text, the boot stack, VGA
 * memory, the frame bitmap, ...) and the areas it keeps for later (the
 * heap, guarded ranges, the page-table window); guard.c registers each
 * guard page with what it protects.  The page-fault report and `pt` ask
 * this table "what is at this address?".  Pure: the table is a parameter.
 */
#ifndef KERNEL_VMREGION_H
#define KERNEL_VMREGION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/types.h"

enum vm_kind {
    VM_NULL_PAGE,   /* page 0: never mapped, so NULL faults */
    VM_KERNEL_TEXT, /* read-only, executable */
    VM_KERNEL_RODATA,
    VM_KERNEL_DATA, /* .data and .bss */
    VM_STACK,
    VM_GUARD,       /* never mapped: touching it is an overflow */
    VM_DEVICE,      /* VGA text memory */
    VM_BITMAP,      /* the frame allocator's records */
    VM_BOOT,        /* Multiboot structures, GRUB's symbol tables */
    VM_HEAP,        /* the kernel heap's area */
    VM_GUARDED_AREA,/* where guarded ranges are carved */
    VM_TEMP,        /* temporary mappings */
    VM_PAGE_TABLES, /* the recursive window */
    VM_KIND_COUNT
};

/* vm_kind_name - "kernel text", "guard page", ... */
const char *vm_kind_name(unsigned kind);

struct vm_region {
    vaddr_t start, last; /* inclusive: last is the region's final byte */
    uint8_t kind;
    const char *name;     /* e.g. "boot stack" (static string) */
};

#define VM_REGIONS_MAX 64

struct vm_regions {
    struct vm_region r[VM_REGIONS_MAX];
    size_t count;
};

/* vm_regions_add - record [start, last].  false when the table is full or
 * start > last (nothing recorded).  Regions may nest (a guard page inside
 * the guarded area); they are kept sorted by start. */
bool vm_regions_add(struct vm_regions *t, vaddr_t start, vaddr_t last, uint8_t kind,
                    const char *name);

/* vm_regions_remove - drop the region that starts at start with this kind;
 * false if there is none. */
bool vm_regions_remove(struct vm_regions *t, vaddr_t start, uint8_t kind);

/* vm_regions_find - the smallest region containing va (the most specific:
 * a guard page rather than the area around it), or NULL. */
const struct vm_region *vm_regions_find(const struct vm_regions *t, vaddr_t va);

/* vm_regions_overlapping - the first region (in start order) that overlaps
 * [start, last], or NULL. */
const struct vm_region *vm_regions_overlapping(const struct vm_regions *t, vaddr_t start,
                                               vaddr_t last);

#endif
