/*
 * pmm_internal.h - what pmm.c and pmm_boot.c share (not public).
 */
#ifndef PMM_INTERNAL_H
#define PMM_INTERNAL_H

#include "kernel/pmm.h"

struct multiboot_info;

/* pmm_boot_build - collect the boot reservations, place the zone's storage,
 * and build the zone (pmm_boot.c). */
void pmm_boot_build(const struct multiboot_info *mbi, struct pmm_zone *zone,
                    struct pmm_layout *layout);

#endif
