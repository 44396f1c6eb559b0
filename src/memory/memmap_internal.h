/*
 * memmap_internal.h - what memmap_boot.c lends its self-test (not public).
 */
#ifndef MEMMAP_INTERNAL_H
#define MEMMAP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "kernel/memmap.h"

struct multiboot_info;

struct memmap_boot_read {
    size_t count;       /* entries written */
    size_t ignored;     /* entries past capacity */
    const char *source; /* what the map came from, for people */
};

/*
 * memmap_boot_read - read the boot loader's map (flags bit 6) into out, or
 * build one from mem_lower/mem_upper (bit 0), reporting on the console
 * everything odd (too many entries, a size field below 20, a buffer that
 * ends inside an entry, an empty map, no map at all).  Returns false when
 * the information has neither.  memmap_init is this plus the kernel's
 * tables, cleaning and the summary.
 */
bool memmap_boot_read(const struct multiboot_info *mbi, struct mem_region *out,
                      size_t capacity, struct memmap_boot_read *r);

#endif
