/*
 * heap_resize.c - a block's size, and resizing it (pure).
 *
 * Both start where every slow path does: heap_locate_checked finds the
 * block from the pointer and refuses what is not a live block's start
 * (heap_debug.c).  realloc keeps a block in place whenever it can: a slot
 * while the new size fits it, a run shrunk by giving back its tail pages
 * or grown into free pages right after it; only otherwise does it move
 * (a new block of the same tag, the old contents, the old block freed).
 */
#include "kernel/kstring.h"
#include "heap_internal.h"

size_t heap_block_size(struct heap *h, const void *p, struct heap_report *r)
{
    struct heap_loc l;
    if (!heap_locate_checked(h, (uintptr_t)p, &l, r))
        return 0;
    uint32_t site;
    return heap_block_requested(h, &l, &site);
}

/* Resize the verified block l in place if it can be: true if done. */
static bool resize_in_place(struct heap *h, const struct heap_loc *l, size_t old, size_t size,
                            uint32_t site)
{
    bool dbg = h->config.debug;
    size_t lead = l->obj - l->slot, tail = dbg ? HEAP_DEBUG_TAIL_MIN : 0;
    if (size > h->size)
        return false;
    if (l->slab) {
        if (lead + size + tail > l->bytes)
            return false;
        if (dbg) {
            heap_debug_lay(l->slot, l->bytes, lead, size, site);
            h->stats.live_bytes = h->stats.live_bytes - old + size;
        }
        return true;
    }
    uint32_t need = (uint32_t)((lead + size + tail + HEAP_PAGE - 1) / HEAP_PAGE);
    if (need < l->pages)
        heap_pages_give(h, l->first + need, l->pages - need);
    else if (need > l->pages && !heap_pages_grow(h, l->first, l->pages, need - l->pages))
        return false;
    h->map[l->first] = HEAP_MAP_MAKE(HEAP_MAP_RUN, need | l->tag << 20);
    for (uint32_t k = l->pages; k < need; k++)
        h->map[l->first + k] = HEAP_MAP_MAKE(HEAP_MAP_RUN_TAIL, k);
    size_t bytes = (size_t)need * HEAP_PAGE;
    h->stats.slot_bytes = h->stats.slot_bytes - l->bytes + bytes;
    h->run_bytes = h->run_bytes - l->bytes + bytes;
    if (dbg) {
        h->stats.live_bytes = h->stats.live_bytes - old + size;
        heap_debug_lay(l->slot, bytes, lead, size, site);
    }
    return true;
}

void *heap_realloc(struct heap *h, void *p, size_t size, uint32_t site, struct heap_report *r)
{
    if (!p)
        return heap_alloc(h, size, NULL, site, r);
    if (size == 0) {
        heap_free(h, p, r);
        return NULL;
    }
    struct heap_loc l;
    if (!heap_locate_checked(h, (uintptr_t)p, &l, r)) {
        h->stats.bad_frees++;
        return NULL;
    }
    uint32_t old_site;
    size_t old = heap_block_requested(h, &l, &old_site);
    if (resize_in_place(h, &l, old, size, site))
        return p;
    void *q = heap_alloc(h, size, heap_tag_name(h, l.tag), site, r);
    if (!q)
        return NULL;
    memcpy(q, p, old < size ? old : size);
    heap_release(h, &l, old);
    return q;
}
