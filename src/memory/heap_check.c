/*
 * heap_check.c - the heap's invariants checked (pure).
 *
 * heap_check reads everything and changes nothing.  It walks the page map
 * once, in address order, and for each page checks that its entry agrees
 * with the bitmaps; each slab's pages, header and slot bitmap; each
 * run's pages; in debug mode every live block's header and red zone and
 * every free slot's poison.  It recounts as it goes (a parked slot,
 * heap_core.c, counts as free), then checks the partial lists, the
 * empty-slab cache and the magazines against what it found, and the
 * statistics against the recount.  It never follows a pointer it has not
 * first placed inside a backed slab page, so a damaged heap is reported,
 * not crashed into.  The first problem found is the one reported.
 * (Describing and listing blocks, which read the same structures for
 * people rather than to judge them, is heap_walk.c.)
 */
#include "kernel/format.h"
#include "kernel/kstring.h"
#include "heap_internal.h"

struct recount {
    size_t live_blocks, live_bytes, slot_bytes, free_slot_bytes;
    size_t slabs, runs, retained, with_free;
    size_t parked;                   /* slots in the magazines, found in their slabs */
};

static bool corrupt(struct heap_report *r, uintptr_t at, const char *fmt, ...) PRINTF_LIKE(3, 4);
static bool corrupt(struct heap_report *r, uintptr_t at, const char *fmt, ...)
{
    if (r) {
        heap_report_set(r, HEAP_CORRUPT, at, 0, 0, NULL, 0, 0, NULL);
        va_list ap;
        va_start(ap, fmt);
        kvsnprintf(r->detail, sizeof r->detail, fmt, ap);
        va_end(ap);
    }
    return false;
}

/* Is p the header of a slab, as the page map says? (Safe on any p.) */
static bool is_slab(const struct heap *h, const struct heap_slab *p)
{
    uintptr_t off = (uintptr_t)p - h->base;
    if (off >= h->size || (off >> 12) >= h->top)
        return false;
    uint32_t page = (uint32_t)(off >> 12), e = h->map[page];
    return HEAP_MAP_KIND(e) == HEAP_MAP_SLAB && HEAP_MAP_CLASS(e) < h->class_count &&
           heap_slab_of(h, page, e) == p;
}

static bool check_geometry(const struct heap *h, struct heap_report *r)
{
    if ((uintptr_t)h->map != h->base || h->total_pages != h->size / HEAP_PAGE)
        return corrupt(r, h->base, "map or range size wrong");
    if (h->map_pages_total != (h->total_pages + 1023) / 1024 || h->map_pages_backed == 0 ||
            h->map_pages_backed > h->map_pages_total)
        return corrupt(r, h->base, "map pages: %u backed of %u", h->map_pages_backed,
                       h->map_pages_total);
    if (h->top < h->map_pages_total || h->top > h->total_pages ||
            h->top > h->map_pages_backed * 1024u)
        return corrupt(r, h->base, "top %u outside the backed map", h->top);
    if (h->fast_limit != (h->config.debug ? 0 : (uintptr_t)h->top << 12))
        return corrupt(r, h->base, "fast-path limit does not match top");
    for (uint32_t c = 0; c < h->class_count && c < HEAP_CLASSES_MAX; c++) {
        if (h->fast[c].slot != h->classes[c].slot || h->fast[c].slots != h->classes[c].slots)
            return corrupt(r, h->base, "class %u: the fast table differs", c);
    }
    if (h->retained > HEAP_RETAIN_PAGES ||
            h->tag_count == 0 || h->tag_count > HEAP_TAGS_MAX || h->class_count == 0 ||
            h->class_count > HEAP_CLASSES_MAX)
        return corrupt(r, h->base, "a counter is out of bounds");
    return true;
}

/* Debug mode: a live block's header and red zone (l without obj); its
 * requested size is added to the recount. */
static bool check_live_debug(struct heap *h, struct heap_loc *l, struct recount *rc,
                             struct heap_report *r)
{
    uint32_t lead = heap_debug_lead(l->slot, l->bytes), size, site;
    l->obj = l->slot + (lead ? lead : 16);
    if (!heap_debug_verify(h, l, l->obj, r))
        return false;
    heap_debug_header(l->slot, l->obj, l->bytes, &size, &site);
    rc->live_bytes += size;
    return true;
}

/* Debug mode: every slot's header, red zone or poison. */
static bool check_slots_debug(struct heap *h, struct heap_slab *s, struct recount *rc,
                              struct heap_report *r)
{
    uint32_t bytes = h->classes[s->cls].slot;
    for (uint32_t i = 0; i < s->slots; i++) {
        uintptr_t slot = heap_slab_start(h, s) + (uintptr_t)i * bytes;
        struct heap_loc l = {.slab = s, .index = i, .slot = slot, .bytes = bytes, .tag = s->tag};
        if (heap_bit(s->bits, i) ? !check_live_debug(h, &l, rc, r)
                                 : !heap_debug_poison_ok(slot, bytes, heap_tag_name(h, s->tag), r))
            return false;
    }
    return true;
}

/* The slab whose first page is `page`; *pages gets its length. */
static bool check_slab(struct heap *h, uint32_t page, uint32_t e, uint32_t *pages,
                       struct recount *rc, struct heap_report *r)
{
    uintptr_t at = heap_page_addr(h, page);
    uint32_t c = HEAP_MAP_CLASS(e);
    if (c >= h->class_count)
        return corrupt(r, at, "slab of class %u (there are %u)", c, h->class_count);
    const struct heap_class *k = &h->classes[c];
    *pages = k->pages;
    if (k->pages > h->top - page)
        return corrupt(r, at, "slab passes top");
    for (uint32_t i = 0; i < k->pages; i++) {
        uint32_t e_i = h->map[page + i] & (i == 0 ? ~HEAP_MAP_PREV_MASK : ~0u);
        if (e_i != HEAP_MAP_MAKE(HEAP_MAP_SLAB, c | i << 8))
            return corrupt(r, at, "page %u: not page %u of its slab", page + i, i);
    }
    struct heap_slab *s = heap_slab_of(h, page, e);
    if (s->magic != HEAP_SLAB_MAGIC || s->cls != c || s->slots != k->slots ||
            s->tag >= h->tag_count || s->free_count > s->slots)
        return corrupt(r, at, "slab header damaged");

    /* The bitmap: bits past the slots set, the count of clear bits equal
     * to free_count, and no clear bit below the hint's word. */
    uint32_t words = heap_slab_words(s->slots), clear = 0;
    if ((s->slots & 31) && (s->bits[words - 1] >> (s->slots & 31)) !=
                                   0xffffffffu >> (s->slots & 31))
        return corrupt(r, at, "slab bitmap: bits past the slots are not set");
    if (s->hint > words)
        return corrupt(r, at, "slab hint %u past the bitmap", s->hint);
    for (uint32_t w = 0; w < words; w++) {
        clear += (uint32_t)__builtin_popcount(~s->bits[w]);
        if (w < s->hint && s->bits[w] != 0xffffffffu)
            return corrupt(r, at, "slab has a free slot below its hint");
    }
    if (clear != s->free_count)
        return corrupt(r, at, "slab: %u free slots in the bitmap, free count %u of %u", clear,
                       s->free_count, s->slots);
    /* Its parked slots (marked handed out, but free): only an untagged
     * slab has them, and it keeps a live slot besides (heap_core.c). */
    uint32_t parked = heap_mag_in(h, c, (uint32_t)(at - h->base), k->pages);
    uint32_t out = s->slots - s->free_count, used = out - parked;
    if (parked > out || (parked && (used == 0 || s->tag != 0)))
        return corrupt(r, at, "slab: %u slots parked, %u handed out, tag %u", parked, out,
                       s->tag);
    if (s->free_count == 0 && (s->next || HEAP_MAP_PREV(e)))
        return corrupt(r, at, "a full slab has partial-list links");
    if (s->free_count == s->slots && h->empty[c] != s)
        return corrupt(r, at, "a second empty slab of class %u", c);

    rc->slabs++;
    rc->with_free += s->free_count > 0;
    rc->live_blocks += used;
    rc->parked += parked;
    rc->slot_bytes += (size_t)used * k->slot;
    rc->free_slot_bytes += (size_t)(s->free_count + parked) * k->slot;
    if (!h->config.debug) {
        rc->live_bytes += (size_t)used * k->slot;
        return true;
    }
    return check_slots_debug(h, s, rc, r);
}

/* The run whose first page is `page`; *pages gets its length. */
static bool check_run(struct heap *h, uint32_t page, uint32_t e, uint32_t *pages,
                      struct recount *rc, struct heap_report *r)
{
    uintptr_t at = heap_page_addr(h, page);
    uint32_t n = HEAP_MAP_PAGES(e), tag = HEAP_MAP_TAG(e);
    *pages = n;
    if (n == 0 || n > h->top - page || tag >= h->tag_count ||
            (e & ~(0x1ffffu | 31u << 20)) != HEAP_MAP_MAKE(HEAP_MAP_RUN, 0))
        return corrupt(r, at, "run entry 0x%x damaged", e);
    for (uint32_t k = 1; k < n; k++) {
        if (h->map[page + k] != HEAP_MAP_MAKE(HEAP_MAP_RUN_TAIL, k))
            return corrupt(r, at, "page %u: not page %u of its run", page + k, k);
    }
    size_t bytes = (size_t)n * HEAP_PAGE;
    struct heap_loc l = {.first = page, .pages = n, .slot = at, .bytes = bytes, .tag = tag};
    if (!h->config.debug)
        rc->live_bytes += bytes;
    else if (!check_live_debug(h, &l, rc, r))
        return false;
    rc->runs++;
    rc->live_blocks++;
    rc->slot_bytes += bytes;
    return true;
}

/* One page's entry against the bitmaps; slabs and runs whole. */
static bool check_page(struct heap *h, uint32_t page, uint32_t *len, struct recount *rc,
                       struct heap_report *r)
{
    uintptr_t at = heap_page_addr(h, page);
    bool free = heap_bit(h->free_bits, page), backed = heap_bit(h->backed_bits, page);
    uint32_t e = h->map[page], kind = HEAP_MAP_KIND(e);
    *len = 1;
    if ((page < h->map_pages_total) != (kind == HEAP_MAP_MAP))
        return corrupt(r, at, "page %u: map entry 0x%x where the map is (not)", page, e);
    switch (kind) {
    case HEAP_MAP_MAP:
        if (free || backed != (page < h->map_pages_backed) ||
                e != HEAP_MAP_MAKE(HEAP_MAP_MAP, backed ? HEAP_MAP_BACKED : 0))
            return corrupt(r, at, "map page %u: entry or bits wrong", page);
        return true;
    case HEAP_MAP_FREE:
        if (!free || backed != (bool)(e & HEAP_MAP_BACKED) ||
                (e & ~(HEAP_MAP_BACKED | HEAP_MAP_FREED | 0xff0u)) != 0 ||
                (!(e & HEAP_MAP_FREED) && (e & 0xff0u)))
            return corrupt(r, at, "free page %u: entry 0x%x or bits wrong", page, e);
        rc->retained += backed;
        return true;
    case HEAP_MAP_SLAB:
    case HEAP_MAP_RUN:
        break;
    default:
        return corrupt(r, at, "page %u: map entry 0x%x has no first page", page, e);
    }
    if (kind == HEAP_MAP_SLAB && HEAP_MAP_SLAB_PAGE(e) != 0)
        return corrupt(r, at, "page %u: a slab page with no first page", page);
    bool ok = kind == HEAP_MAP_SLAB ? check_slab(h, page, e, len, rc, r)
                                    : check_run(h, page, e, len, rc, r);
    if (!ok)
        return false;
    if (heap_pages_count(h->free_bits, page, *len) != 0 ||
            heap_pages_count(h->backed_bits, page, *len) != *len)
        return corrupt(r, at, "pages %u..%u in use but free or not backed", page, page + *len - 1);
    return true;
}

/* Every free run (s, length L) against the search hints: run_hint[k] <= s
 * for each k <= L. */
static bool check_hints(const struct heap *h, struct heap_report *r)
{
    uint32_t start = 0, len = 0;
    for (uint32_t k = 1; k <= HEAP_RUN_HINTS; k++) {
        if (h->run_hint[k] < h->run_hint[k - 1] || h->run_hint[k - 1] < h->map_pages_total)
            return corrupt(r, h->base, "search hints fall at %u pages", k);
    }
    for (uint32_t page = h->map_pages_total; page <= h->total_pages; page++) {
        if (page < h->total_pages && heap_bit(h->free_bits, page)) {
            if (len++ == 0)
                start = page;
            continue;
        }
        for (uint32_t k = 1; k <= len && k <= HEAP_RUN_HINTS; k++) {
            if (h->run_hint[k] > start)
                return corrupt(r, heap_page_addr(h, start),
                               "a free run of %u pages at page %u, below the hint for %u", len,
                               start, k);
        }
        len = 0;
    }
    return true;
}

static bool check_lists(struct heap *h, const struct recount *rc, struct heap_report *r)
{
    size_t listed = 0;
    for (uint32_t c = 0; c < HEAP_CLASSES_MAX; c++) {
        for (uint32_t t = 0, prev = 0; t < HEAP_TAGS_MAX; t++, prev = 0) {
            for (struct heap_slab *s = h->partial[c][t]; s; s = s->next) {
                if (!is_slab(h, s))
                    return corrupt(r, (uintptr_t)s, "partial list %u/%u holds %p, no slab", c, t,
                                   (void *)s);
                uint32_t page = heap_slab_page(h, s, c);
                if (s->cls != c || s->tag != t || s->free_count == 0)
                    return corrupt(r, (uintptr_t)s, "slab on the wrong partial list, or full");
                if (HEAP_MAP_PREV(h->map[page]) != prev)
                    return corrupt(r, (uintptr_t)s, "slab's back link %u, not %u",
                                   HEAP_MAP_PREV(h->map[page]), prev);
                prev = page;
                if (++listed > rc->with_free)
                    return corrupt(r, (uintptr_t)s, "partial lists longer than the slabs (a cycle?)");
            }
        }
    }
    for (uint32_t c = 0; c < HEAP_CLASSES_MAX; c++) {
        struct heap_slab *e = h->empty[c];
        if (e && (!is_slab(h, e) || e->cls != c || e->free_count != e->slots))
            return corrupt(r, (uintptr_t)e, "class %u's cached empty slab is not one", c);
    }
    if (listed != rc->with_free)
        return corrupt(r, h->base, "%zu slabs have free slots, %zu are on lists", rc->with_free,
                       listed);
    return true;
}

/* Is `off` (from base) the start of a handed-out slot of a tag-0 slab
 * of class c?  (The slabs were checked already.) */
static bool parkable(const struct heap *h, uint32_t c, uint32_t off)
{
    uint32_t page = off >> 12, e = page < h->top ? h->map[page] : 0;
    if (page < h->map_pages_total || HEAP_MAP_KIND(e) != HEAP_MAP_SLAB || HEAP_MAP_CLASS(e) != c)
        return false;
    struct heap_slab *s = heap_slab_of(h, page, e);
    uint32_t rel = (uint32_t)(h->base + off - heap_slab_start(h, s));
    uint32_t i = heap_slot_index(rel, h->fast[c].recip);
    return s->tag == 0 && i < s->slots && i * h->classes[c].slot == rel && heap_bit(s->bits, i);
}

/* The magazines: at most HEAP_MAG entries (none with debug on), unused
 * ones 0, each one a handed-out slot of a tag-0 slab of its class, none
 * twice, and as many as the slabs hold. */
static bool check_mags(const struct heap *h, const struct recount *rc, struct heap_report *r)
{
    size_t total = 0;
    for (uint32_t c = 0; c < HEAP_CLASSES_MAX; c++) {
        uint32_t n = h->mag_n[c];
        if (n > (c < h->class_count && !h->config.debug ? HEAP_MAG : 0))
            return corrupt(r, h->base, "class %u's magazine holds %u slots", c, n);
        for (uint32_t k = 0; k < HEAP_MAG; k++) {
            uint32_t off = h->mag[c][k];
            if (k >= n ? off != 0 : !parkable(h, c, off))
                return corrupt(r, h->base + off, "class %u's magazine: entry %u (0x%x) wrong", c,
                               k, off);
            for (uint32_t j = 0; j < k && k < n; j++) {
                if (h->mag[c][j] == off)
                    return corrupt(r, h->base + off, "class %u's magazine: a slot twice", c);
            }
        }
        total += n;
    }
    if (total != rc->parked)
        return corrupt(r, h->base, "%zu slots parked, %zu of them in slabs", total, rc->parked);
    return true;
}

static bool check_stats(const struct heap *h, const struct recount *rc, size_t backed,
                        struct heap_report *r)
{
    struct heap_stats now;
    const struct heap_stats *s = &now;
    heap_stats_now(h, &now);
    if (s->live_blocks != rc->live_blocks || s->live_bytes != rc->live_bytes ||
            s->slot_bytes != rc->slot_bytes || s->free_slot_bytes != rc->free_slot_bytes)
        return corrupt(r, h->base, "block counts: stats %zu/%zu/%zu, found %zu/%zu/%zu",
                       s->live_blocks, s->live_bytes, s->slot_bytes, rc->live_blocks,
                       rc->live_bytes, rc->slot_bytes);
    if (s->slabs != rc->slabs || s->runs != rc->runs || s->backed_pages != backed ||
            s->peak_backed_pages < backed || h->retained != rc->retained ||
            s->allocs - s->frees != rc->live_blocks)
        return corrupt(r, h->base, "page or slab counts differ from a recount");
    return true;
}

bool heap_check(struct heap *h, struct heap_report *r)
{
    struct recount rc;
    memset(&rc, 0, sizeof rc);
    if (!check_geometry(h, r))
        return false;
    uint32_t len;
    for (uint32_t page = 0; page < h->top; page += len) {
        if (!check_page(h, page, &len, &rc, r))
            return false;
    }
    uint32_t beyond = h->total_pages - h->top;
    if (heap_pages_count(h->free_bits, h->top, beyond) != beyond ||
            heap_pages_count(h->backed_bits, h->top, beyond) != 0)
        return corrupt(r, heap_page_addr(h, h->top), "pages past top not free, or backed");
    uint32_t tail = h->total_pages & 31, last = h->total_pages >> 5;
    if (tail && ((h->free_bits[last] | h->backed_bits[last]) >> tail) != 0)
        return corrupt(r, h->base, "bitmap bits past the range");
    size_t backed = heap_pages_count(h->backed_bits, 0, h->total_pages);
    return check_hints(h, r) && check_lists(h, &rc, r) && check_mags(h, &rc, r) &&
           check_stats(h, &rc, backed, r);
}
