/*
 * pmm.h - the physical memory manager: 4 KiB frames for the whole kernel.
 *
 * The frame allocator tracks every frame below the end of usable RAM under
 * 4 GiB (from the memory map) in a bitmap with summaries (pmm_zone.h).  It
 * starts by denying everything, opens the frames that lie wholly inside
 * available RAM, then reserves what must never be handed out: the first
 * MiB, the kernel image and the symbol tables GRUB loaded past it, the
 * Multiboot structures, and its own bitmap.
 *
 * Addresses here are physical.  Every entry point takes interrupts off
 * around the bitmap, so IRQ handlers may allocate too.
 */
#ifndef KERNEL_PMM_H
#define KERNEL_PMM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/pmm_zone.h"
#include "kernel/types.h"

struct multiboot_info;

/* pmm_init - build the zone from the sanitized memory map (memmap_init
 * first) and the Multiboot information; panics when no usable RAM exists
 * or the bitmap fits nowhere. */
void pmm_init(const struct multiboot_info *mbi);

/*
 * pmm_alloc_frame - one free frame (tagged TAG_KERNEL).  Returns its
 * 4 KiB-aligned physical address, or NULL when none is free (logged).
 * Frame 0 is never handed out, so NULL is unambiguous.
 */
void *pmm_alloc_frame(void);
void *pmm_alloc_frame_tagged(uint8_t tag);

/*
 * pmm_free_frame - give a frame back.  An unaligned, out-of-range,
 * reserved, already-free or still-shared frame is reported on the console
 * with the caller's address, counted, and changes nothing.
 */
void pmm_free_frame(void *frame);

/*
 * pmm_alloc_frames - `count` physically contiguous frames starting at an
 * address that is a multiple of `align` bytes (a power of two, at least
 * 4096); NULL when no such run exists.  TAG_DMA runs are taken from below
 * 16 MiB (ISA DMA reaches no further), the lowest that fits.
 */
void *pmm_alloc_frames(size_t count, size_t align);
void *pmm_alloc_frames_tagged(size_t count, size_t align, uint8_t tag);
void pmm_free_frames(void *first, size_t count);

/* pmm_try_free - what pmm_free_frames does, returning the error (PMM_OK,
 * or why nothing was freed; an unaligned address is PMM_ERR_BAD_ARG). */
enum pmm_error pmm_try_free(paddr_t first, size_t count);

/* pmm_ref / pmm_unref - share a frame / drop a share; the last unref frees
 * it.  Errors are reported and change nothing (no wrap-around). */
enum pmm_error pmm_ref(void *frame);
enum pmm_error pmm_unref(void *frame);

/* pmm_query - state, tag, refcount and owner of the frame holding addr
 * (FRAME_OUT_OF_RANGE past the zone). */
void pmm_query(paddr_t addr, struct frame_info *out);

/* pmm_owner_format - name an allocation's owner (frame_info.owner, a
 * return address) for people: its function, "nobody recorded" for 0,
 * "unknown: the owner table was full" for PMM_OWNER_UNKNOWN.  Returns
 * what ksnprintf returns. */
int pmm_owner_format(uint32_t owner, char *buf, size_t size);

/* pmm_summarize - the states of the frames in [first, first + bytes) and
 * the records of up to `samples` of them (pmm_zone_summarize): one cell of
 * the frame grid.  Safe from an interrupt handler. */
void pmm_summarize(paddr_t first, uint64_t bytes, uint32_t samples, struct frame_summary *out);

/* The zone itself, read-only, for the shell and the visualizer. */
const struct pmm_zone *pmm_get_zone(void);

/* How the free-frame count moved: one sample per second of activity. */
struct pmm_sample {
    uint32_t second;  /* uptime when taken */
    uint32_t free_frames;
    uint32_t allocs, frees; /* totals since boot at that moment */
};
#define PMM_HISTORY 60
/* pmm_history - the samples, oldest first; returns how many. */
size_t pmm_history(struct pmm_sample *out, size_t max);

/* Where the allocator's own structures are (for `frames` and the tests). */
struct pmm_layout {
    paddr_t bitmap_base;   /* the zone's storage block */
    size_t bitmap_bytes;
    paddr_t kernel_start, kernel_end;  /* image incl. loaded ELF sections */
};
const struct pmm_layout *pmm_get_layout(void);

/* What was reserved at boot, and why (physical [start, end)). */
struct pmm_boot_range {
    uint64_t start, end;
    uint8_t tag;
    const char *what;
};
#define PMM_BOOT_RANGES_MAX 32
const struct pmm_boot_range *pmm_boot_ranges(size_t *count);

/* pmm_selftests_register - add the allocator's in-kernel tests. */
/* pmm_set_frame_filler - how freed frames are poisoned (fill every byte
 * of the frame at `frame` with `byte`); NULL: write at the physical
 * address, which only works while paging is off.  Paging sets it. */
void pmm_set_frame_filler(void (*fill)(paddr_t frame, uint8_t byte));

void pmm_selftests_register(void);

#endif
