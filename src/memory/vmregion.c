/*
 * vmregion.c - the table of named virtual ranges (see vmregion.h).  A
 * small sorted array: there are a few dozen regions, and lookups happen
 * when a fault is reported or `pt` runs, never on a hot path.
 */
#include "kernel/vmregion.h"

static const char *const kind_names[VM_KIND_COUNT] = {
    [VM_NULL_PAGE] = "NULL page",
    [VM_KERNEL_TEXT] = "kernel text",
    [VM_KERNEL_RODATA] = "kernel read-only data",
    [VM_KERNEL_DATA] = "kernel data",
    [VM_STACK] = "stack",
    [VM_GUARD] = "guard page",
    [VM_DEVICE] = "device memory",
    [VM_BITMAP] = "frame bitmap",
    [VM_BOOT] = "boot structures",
    [VM_HEAP] = "heap area",
    [VM_GUARDED_AREA] = "guarded area",
    [VM_TEMP] = "temporary mappings",
    [VM_PAGE_TABLES] = "page-table window",
};

const char *vm_kind_name(unsigned kind)
{
    return kind < VM_KIND_COUNT ? kind_names[kind] : "?";
}

bool vm_regions_add(struct vm_regions *t, vaddr_t start, vaddr_t last, uint8_t kind,
                    const char *name)
{
    if (t->count == VM_REGIONS_MAX || start > last)
        return false;
    size_t i = t->count;
    while (i > 0 && t->r[i - 1].start > start) {
        t->r[i] = t->r[i - 1];
        i--;
    }
    t->r[i] = (struct vm_region){start, last, kind, name};
    t->count++;
    return true;
}

bool vm_regions_remove(struct vm_regions *t, vaddr_t start, uint8_t kind)
{
    for (size_t i = 0; i < t->count; i++) {
        if (t->r[i].start != start || t->r[i].kind != kind)
            continue;
        for (; i + 1 < t->count; i++)
            t->r[i] = t->r[i + 1];
        t->count--;
        return true;
    }
    return false;
}

const struct vm_region *vm_regions_find(const struct vm_regions *t, vaddr_t va)
{
    const struct vm_region *best = NULL;
    for (size_t i = 0; i < t->count && t->r[i].start <= va; i++) {
        const struct vm_region *r = &t->r[i];
        if (va <= r->last && (!best || r->last - r->start < best->last - best->start))
            best = r;
    }
    return best;
}

const struct vm_region *vm_regions_overlapping(const struct vm_regions *t, vaddr_t start,
                                               vaddr_t last)
{
    for (size_t i = 0; i < t->count && t->r[i].start <= last; i++)
        if (t->r[i].last >= start)
            return &t->r[i];
    return NULL;
}
