/*
 * paging.h - the kernel's page tables: building them, turning the MMU on,
 * and mapping pages afterwards.
 *
 * The kernel's virtual address space (4 KiB pages, two-level tables):
 *
 *   0x00000000  +---------------------------+  page 0: never mapped (NULL faults)
 *               |  (unmapped)               |  VGA text memory 0xb8000 mapped
 *   0x00100000  +---------------------------+  <- identity-mapped: virtual = physical
 *               |  kernel .text   read-only |
 *               |  kernel .rodata read-only |
 *               |  .data .bss     read-write|  (a guard page below the boot stack
 *               +---------------------------+   is left unmapped)
 *               |  frame bitmap, boot       |  identity, wherever they lie in RAM
 *               |  structures               |
 *               |  (free for `map`)         |
 *   0xd0000000  +---------------------------+  KV_HEAP_START: the heap grows up
 *   0xe0000000  +---------------------------+  KV_GUARDED_START: guarded ranges
 *   0xf0000000  +---------------------------+  (kernel stacks, guarded kmalloc)
 *               |  (unmapped)               |
 *   0xff800000  +---------------------------+  temporary mappings (one page used)
 *   0xffc00000  +---------------------------+  page-table window: directory entry
 *               |  table of PDE i at        |  1023 points at the directory itself,
 *               |  0xffc00000 + i * 4096    |  so the table behind entry i appears
 *   0xfffff000  |  the directory itself     |  here and the directory at the top
 *               +---------------------------+
 *
 * Why the recursive slot: once paging is on, the kernel can only touch
 * memory through virtual addresses, and page tables come from anywhere in
 * RAM.  With the directory mapped into itself every table is reachable at
 * a fixed address, at the cost of the top 4 MiB of address space and
 * without mapping each new table somewhere first.
 */
#ifndef KERNEL_PAGING_H
#define KERNEL_PAGING_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/pagetable.h"
#include "kernel/types.h"
#include "kernel/vmregion.h"

/*
 * paging_init - build the kernel's tables (frames tagged PAGETABLE),
 * identity-map the kernel (text and rodata read-only), VGA memory, the
 * frame bitmap and the boot structures still read, leave page 0 and the
 * boot stack's guard page unmapped, then load CR3 and set CR0.PG and
 * CR0.WP (so that even the kernel cannot write to read-only pages).
 * Panics if any of that fails: there is no kernel without it.
 */
void paging_init(void);

bool paging_enabled(void);
paddr_t paging_directory(void);

/*
 * paging_map / paging_unmap / paging_protect - pt_map, pt_unmap and
 * pt_protect (pagetable.h) on the kernel's tables, with interrupts held
 * off, and the operation logged when the paging trace switch is on.  They
 * return the error (and log nothing on error): the caller reports it.
 * paging_unmap hands back the frame address in *old; it does not free it.
 */
enum pt_error paging_map(vaddr_t va, paddr_t pa, uint32_t flags);
enum pt_error paging_unmap(vaddr_t va, paddr_t *old);
enum pt_error paging_protect(vaddr_t va, uint32_t flags);

/* paging_map_new - a fresh frame (tag) mapped at va; PT_ERR_NO_MEMORY
 * when no frame is free.  paging_unmap_release - unmap va and drop the
 * mapping's reference on its frame (freeing it when it was the last one;
 * reserved frames, such as device memory, are left alone). */
enum pt_error paging_map_new(vaddr_t va, uint32_t flags, uint8_t tag);
enum pt_error paging_unmap_release(vaddr_t va);

/* paging_walk / paging_translate - see pt_walk, pt_translate. */
bool paging_walk(vaddr_t va, struct pt_walk *w);
bool paging_translate(vaddr_t va, paddr_t *pa);

/* Reading the tables, for `pt` and the visualizer. */
pte_t paging_dir_entry(uint32_t index);
pte_t paging_table_entry(uint32_t dir_index, uint32_t index);
uint32_t paging_table_present(uint32_t dir_index);

/* The named regions of the kernel's address space (vmregion.h). */
const struct vm_regions *paging_regions(void);
const struct vm_region *paging_region_of(vaddr_t va);
bool paging_region_add(vaddr_t start, vaddr_t last, uint8_t kind, const char *name);
bool paging_region_remove(vaddr_t start, uint8_t kind);

/* Counters since boot, for `pt` and the status line. */
struct paging_stats {
    uint32_t tables;        /* page tables present (directory not counted) */
    uint32_t maps, unmaps;  /* successful calls */
};
void paging_get_stats(struct paging_stats *out);

void paging_selftests_register(void);

#endif
