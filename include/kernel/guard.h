/*
 * guard.h - guarded virtual ranges: mapped pages between two pages that
 * are never mapped.
 *
 *     | guard (unmapped) |  page  |  page  | ... | guard (unmapped) |
 *                        ^ returned address              ^ end of the range
 *
 * Running off either end touches a guard page and faults at once, and the
 * fault report names the range ("guard page above <name>").  Kernel
 * stacks use them (an overflow runs down into the lower guard), and the
 * heap's kmalloc_guarded places an object so that it ends exactly at the
 * upper guard.  The ranges come from [KV_GUARDED_START, KV_GUARDED_END).
 */
#ifndef KERNEL_GUARD_H
#define KERNEL_GUARD_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/types.h"
#include "kernel/vmregion.h"

#define GUARDED_RANGES_MAX 32

/*
 * guard_alloc - map `pages` fresh frames (tag) read-write with a guard
 * page on each side; kind is the vm_kind the body is named as (VM_STACK,
 * VM_HEAP).  name must be a static string.  Returns the first byte of the
 * body, or 0 (and logs why) when the area, the range table or the frames
 * run out; nothing is left half done.
 */
vaddr_t guard_alloc(uint32_t pages, uint8_t tag, uint8_t kind, const char *name);

/* guard_free - unmap a range guard_alloc returned and free its frames.
 * false (and a log line) when start is not such a range. */
bool guard_free(vaddr_t start);

#endif
