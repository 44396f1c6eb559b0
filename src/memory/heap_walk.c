/*
 * heap_walk.c - what an address in the heap is, and every live block in
 * turn (pure): heap_describe and heap_for_each_block, for fault reports
 * and the shell's `heap`, `heap blocks` and `heap leaks`.
 *
 * Both read a heap that may be damaged (a fault report is written when
 * something already went wrong), so they trust a slab header only after
 * its magic and class agree with the page map, and name what they cannot
 * make sense of ("slab with a damaged header", "damaged run") rather than
 * follow it.  They change nothing but the text buffer h->what.
 */
#include "kernel/format.h"
#include "kernel/kstring.h"
#include "heap_internal.h"

static void describe_slot(struct heap *h, struct heap_slab *s, uint32_t i,
                          struct heap_block_info *out)
{
    uint32_t bytes = h->classes[s->cls].slot;
    uintptr_t slot = heap_slab_start(h, s) + (uintptr_t)i * bytes;
    out->slot = bytes;
    out->tag = heap_tag_name(h, s->tag);
    out->block = slot;
    out->what = h->class_what[s->cls];
    if (!heap_bit(s->bits, i) || heap_mag_has(h, s->cls, (uint32_t)(slot - h->base))) {
        out->what = "free slot";
        return;
    }
    out->live = true;
    out->size = bytes;
    if (h->config.debug) {
        uint32_t lead = heap_debug_lead(slot, bytes), size, site;
        out->block = slot + (lead ? lead : 16);
        if (heap_debug_header(slot, out->block, bytes, &size, &site)) {
            out->size = size;
            out->site = site;
        }
    }
}

static void describe_run(struct heap *h, uint32_t first, struct heap_block_info *out)
{
    uint32_t e = h->map[first], n = HEAP_MAP_PAGES(e);
    uintptr_t run = heap_page_addr(h, first);
    out->live = true;
    out->block = run;
    out->slot = out->size = (size_t)n * HEAP_PAGE;
    out->tag = heap_tag_name(h, HEAP_MAP_TAG(e));
    ksnprintf(h->what, sizeof h->what, "run of %u page%s", n, n == 1 ? "" : "s");
    out->what = h->what;
    if (h->config.debug) {
        uint32_t lead = heap_debug_lead(run, out->slot), size, site;
        out->block = run + (lead ? lead : 16);
        if (heap_debug_header(run, out->block, out->slot, &size, &site)) {
            out->size = size;
            out->site = site;
        }
    }
}

/* heap_describe: `what` for a run is kept in h, valid until the next
 * heap_describe or heap_for_each_block call. */
void heap_describe(struct heap *h, uintptr_t addr, struct heap_block_info *out)
{
    memset(out, 0, sizeof *out);
    uintptr_t off = addr - h->base;
    out->what = "outside the heap";
    if (off >= h->size)
        return;
    out->in_heap = true;
    out->what = "never used";
    uint32_t page = (uint32_t)(off >> 12);
    if (page >= h->top)
        return;
    uint32_t e = h->map[page];
    switch (HEAP_MAP_KIND(e)) {
    case HEAP_MAP_MAP:
        out->what = "page map";
        return;
    case HEAP_MAP_FREE:
        out->what = (e & HEAP_MAP_BACKED) ? "free page (kept backed)" : "free page";
        return;
    case HEAP_MAP_SLAB: {
        struct heap_slab *s = heap_slab_of(h, page, e);
        out->what = "slab with a damaged header";
        if (HEAP_MAP_CLASS(e) >= h->class_count || s->magic != HEAP_SLAB_MAGIC ||
                s->cls != HEAP_MAP_CLASS(e))
            return;
        uint32_t i = heap_slot_index((uint32_t)(addr - heap_slab_start(h, s)),
                                     h->fast[s->cls].recip);
        out->what = "slab header";
        if (i < s->slots)
            describe_slot(h, s, i, out);
        return;
    }
    case HEAP_MAP_RUN:
        describe_run(h, page, out);
        return;
    case HEAP_MAP_RUN_TAIL:
        if (HEAP_MAP_PAGES(e) <= page && HEAP_MAP_KIND(h->map[page - HEAP_MAP_PAGES(e)]) == HEAP_MAP_RUN)
            describe_run(h, page - HEAP_MAP_PAGES(e), out);
        else
            out->what = "damaged run";
        return;
    default:
        out->what = "damaged map entry";
        return;
    }
}

void heap_for_each_block(struct heap *h,
                         void (*fn)(void *ctx, const struct heap_block_info *b), void *ctx)
{
    struct heap_block_info info;
    uint32_t page = h->map_pages_total, step;
    for (; page < h->top; page += step) {
        uint32_t e = h->map[page];
        step = 1;
        if (HEAP_MAP_KIND(e) == HEAP_MAP_RUN) {
            memset(&info, 0, sizeof info);
            info.in_heap = true;
            describe_run(h, page, &info);
            step = HEAP_MAP_PAGES(e) ? HEAP_MAP_PAGES(e) : 1;
            fn(ctx, &info);
        } else if (HEAP_MAP_KIND(e) == HEAP_MAP_SLAB && HEAP_MAP_SLAB_PAGE(e) == 0 &&
                   HEAP_MAP_CLASS(e) < h->class_count) {
            struct heap_slab *s = heap_slab_of(h, page, e);
            step = h->classes[HEAP_MAP_CLASS(e)].pages;
            if (s->magic != HEAP_SLAB_MAGIC || s->cls != HEAP_MAP_CLASS(e))
                continue;
            for (uint32_t i = 0; i < s->slots; i++) {
                if (!heap_bit(s->bits, i))
                    continue;
                memset(&info, 0, sizeof info);
                info.in_heap = true;
                describe_slot(h, s, i, &info);
                if (info.live) /* (not a parked slot) */
                    fn(ctx, &info);
            }
        }
    }
}
