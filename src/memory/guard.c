/*
 * guard.c - guarded virtual ranges (see guard.h).
 *
 * A small table of live ranges; a new one takes the first gap in the
 * guarded area that fits (first fit over the table).  Each live range also
 * names its three parts in the kernel's region table, so a fault report
 * says what a guard page protects.
 */
#include "kernel/guard.h"
#include "kernel/config.h"
#include "kernel/format.h"
#include "kernel/log.h"
#include "kernel/paging.h"
#include "kernel/pmm.h"
#include "kernel/x86.h"

struct guarded {
    bool used;
    vaddr_t base;   /* the lower guard page */
    uint32_t pages; /* body pages */
    uint8_t kind;
    const char *name;
    char below[48], above[48]; /* region names of the two guards */
};

static struct guarded ranges[GUARDED_RANGES_MAX];

static uint32_t span(uint32_t pages)
{
    return (pages + 2) * PAGE_SIZE;
}

/* The lowest base in the area where `bytes` fit without touching a live
 * range; 0 if none. */
static vaddr_t find_gap(uint32_t bytes)
{
    vaddr_t at = KV_GUARDED_START;
    for (;;) {
        if (bytes > KV_GUARDED_END - at)
            return 0;
        bool moved = false;
        for (unsigned i = 0; i < GUARDED_RANGES_MAX; i++) {
            const struct guarded *g = &ranges[i];
            if (g->used && g->base < at + bytes && at < g->base + span(g->pages)) {
                at = g->base + span(g->pages);
                moved = true;
            }
        }
        if (!moved)
            return at;
    }
}

static void unmap_body(vaddr_t body, uint32_t pages)
{
    for (uint32_t i = 0; i < pages; i++)
        paging_unmap_release(body + i * PAGE_SIZE);
}

static void name_parts(struct guarded *g, bool add)
{
    vaddr_t body = g->base + PAGE_SIZE, top = body + g->pages * PAGE_SIZE;
    if (!add) {
        paging_region_remove(g->base, VM_GUARD);
        paging_region_remove(body, g->kind);
        paging_region_remove(top, VM_GUARD);
        return;
    }
    ksnprintf(g->below, sizeof(g->below), "guard page below %s", g->name);
    ksnprintf(g->above, sizeof(g->above), "guard page above %s", g->name);
    bool ok = paging_region_add(g->base, body - 1, VM_GUARD, g->below) &&
              paging_region_add(body, top - 1, g->kind, g->name) &&
              paging_region_add(top, top + PAGE_SIZE - 1, VM_GUARD, g->above);
    if (!ok)
        log_warn("guard", "region table full: faults in %s will not be named", g->name);
}

vaddr_t guard_alloc(uint32_t pages, uint8_t tag, uint8_t kind, const char *name)
{
    if (pages == 0 || pages > (KV_GUARDED_END - KV_GUARDED_START) / PAGE_SIZE - 2) {
        log_error("guard", "%s: %u pages is not a size a guarded range can have", name, pages);
        return 0;
    }
    struct guarded *g = NULL;
    for (unsigned i = 0; i < GUARDED_RANGES_MAX && !g; i++)
        if (!ranges[i].used)
            g = &ranges[i];
    vaddr_t base = find_gap(span(pages));
    if (!g || !base) {
        log_error("guard", "%s: %s", name,
                  !g ? "all guarded ranges are in use" : "no room left in the guarded area");
        return 0;
    }
    vaddr_t body = base + PAGE_SIZE;
    for (uint32_t i = 0; i < pages; i++) {
        enum pt_error e = paging_map_new(body + i * PAGE_SIZE, PTE_WRITABLE, tag);
        if (e != PT_OK) {
            log_error("guard", "%s: page %u of %u: %s", name, i + 1, pages, pt_error_str(e));
            unmap_body(body, i);
            return 0;
        }
    }
    *g = (struct guarded){.used = true, .base = base, .pages = pages, .kind = kind, .name = name};
    name_parts(g, true);
    return body;
}

bool guard_free(vaddr_t start)
{
    for (unsigned i = 0; i < GUARDED_RANGES_MAX; i++) {
        struct guarded *g = &ranges[i];
        if (g->used && g->base + PAGE_SIZE == start) {
            name_parts(g, false);
            unmap_body(start, g->pages);
            g->used = false;
            return true;
        }
    }
    log_error("guard", "free of 0x%08x from %p: not a guarded range", start,
              __builtin_return_address(0));
    return false;
}
