/*
 * heap_debug.c - reports, and the debug mode's headers, red zones and
 * poison (pure).
 *
 * A live block in debug mode, in a slot or a run ("slot" below for both):
 *
 *   slot                          obj = slot + lead
 *   | padding (lead > 16 only)   | canary | size | site | check | object | red zone ... |
 *     PAD_MAGIC, lead, 0xfd...     <------ 16-byte header ----->  size B   0xfd to the end
 *
 * lead is 16 for every block but an aligned one (heap_alloc_aligned with
 * align > 16), whose object must start on an `align` boundary: then lead
 * is the distance to the first such boundary at least 16 bytes in, and
 * the padding's first two words (PAD_MAGIC, lead) let the free path find
 * the object from the slot and so tell its start from an interior
 * pointer.  check = canary ^ size ^ site ^ slot address (the low 32
 * bits): a header copied from elsewhere, or half overwritten, fails it.
 *
 * A free slot is HEAP_POISON from end to end (the slab's bitmap, not a
 * link in the slot, records that it is free); a write after free shows as
 * a byte that is not, when the slot is handed out again or at heap_check.
 */
#include "kernel/kstring.h"
#include "heap_internal.h"

struct dbg_header {
    uint32_t canary, size, site, check;
};

static uint32_t header_check(const struct dbg_header *d, uintptr_t slot)
{
    return d->canary ^ d->size ^ d->site ^ (uint32_t)slot;
}

const char *heap_problem_str(enum heap_problem p)
{
    switch (p) {
    case HEAP_OK: return "ok";
    case HEAP_BAD_POINTER: return "bad pointer";
    case HEAP_INTERIOR: return "pointer inside a block";
    case HEAP_DOUBLE_FREE: return "double free";
    case HEAP_OVERFLOW: return "overflow";
    case HEAP_HEADER_SMASHED: return "header smashed";
    case HEAP_USE_AFTER_FREE: return "use after free";
    case HEAP_NO_MEMORY: return "out of memory";
    case HEAP_TOO_LARGE: return "too large";
    case HEAP_BAD_ALIGN: return "bad alignment";
    case HEAP_CORRUPT: return "heap corrupt";
    }
    return "unknown problem";
}

/*
 * heap_report_set - fill *r (if r is not NULL) from scratch; `detail`
 * (may be NULL) is copied, truncated to fit.
 */
void heap_report_set(struct heap_report *r, enum heap_problem p, uintptr_t pointer,
                     uintptr_t block, size_t size, const char *tag, uint32_t site,
                     size_t offset, const char *detail)
{
    if (!r)
        return;
    memset(r, 0, sizeof *r);
    r->problem = p;
    r->pointer = pointer;
    r->block = block;
    r->size = size;
    r->tag = tag;
    r->site = site;
    r->offset = offset;
    if (detail)
        kstrlcpy(r->detail, detail, sizeof r->detail);
}

/* The first byte of [from, from + n) that is not `v` (its offset), or n.
 * Word at a time where it can: heap_check reads every free byte. */
static size_t first_not(uintptr_t from, size_t n, uint8_t v)
{
    const uint8_t *b = (const uint8_t *)from;
    const size_t w = sizeof(uintptr_t);
    uintptr_t word = (uintptr_t)-1 / 0xff * v; /* v in every byte */
    size_t i = 0;
    while (i < n && ((from + i) & (w - 1)) != 0) {
        if (b[i] != v)
            return i;
        i++;
    }
    /* four words a step while they all match, then one */
    while (n - i >= 4 * w) {
        const uintptr_t *q = (const uintptr_t *)(b + i);
        if (((q[0] ^ word) | (q[1] ^ word) | (q[2] ^ word) | (q[3] ^ word)) != 0)
            break;
        i += 4 * w;
    }
    while (n - i >= w && *(const uintptr_t *)(b + i) == word)
        i += w;
    for (; i < n; i++) {
        if (b[i] != v)
            return i;
    }
    return n;
}

/*
 * heap_debug_lead - where the object of the live block in this slot (or
 * run) of `bytes` bytes starts: 16, an aligned block's lead, or 0 when
 * the slot's first word is neither a header nor the padding's (smashed).
 */
uint32_t heap_debug_lead(uintptr_t slot, size_t bytes)
{
    const uint32_t *w = (const uint32_t *)slot;
    if (w[0] == HEAP_CANARY)
        return 16;
    if (w[0] == HEAP_PAD_MAGIC && w[1] > 16 && w[1] <= HEAP_PAGE && (w[1] & 15) == 0 &&
            w[1] + HEAP_DEBUG_TAIL_MIN <= bytes)
        return w[1];
    return 0;
}

/*
 * heap_debug_lay - write a live block's padding, header and red zone into
 * a slot (or run) of `bytes` bytes, the object `lead` bytes in (16, or
 * more for an aligned block: the caller makes sure lead + size +
 * HEAP_DEBUG_TAIL_MIN fit).  The object's bytes are left as they are.
 * Returns the object's address.
 */
uintptr_t heap_debug_lay(uintptr_t slot, size_t bytes, size_t lead, size_t size, uint32_t site)
{
    uintptr_t obj = slot + lead;
    if (lead > 16) {
        memset((void *)slot, HEAP_REDZONE, lead - 16);
        ((uint32_t *)slot)[0] = HEAP_PAD_MAGIC;
        ((uint32_t *)slot)[1] = (uint32_t)lead;
    }
    struct dbg_header *d = (struct dbg_header *)(obj - 16);
    d->canary = HEAP_CANARY;
    d->size = (uint32_t)size;
    d->site = site;
    d->check = header_check(d, slot);
    memset((void *)(obj + size), HEAP_REDZONE, slot + bytes - (obj + size));
    return obj;
}

/*
 * heap_debug_header - read and verify the header (and an aligned block's
 * padding) of the block at obj in this slot: true with *size and *site
 * when intact.
 */
bool heap_debug_header(uintptr_t slot, uintptr_t obj, size_t bytes, uint32_t *size,
                       uint32_t *site)
{
    size_t lead = obj - slot;
    if (lead < 16 || lead + HEAP_DEBUG_TAIL_MIN > bytes)
        return false;
    if (lead > 16) {
        const uint32_t *w = (const uint32_t *)slot;
        if (w[0] != HEAP_PAD_MAGIC || w[1] != lead ||
                first_not(slot + 8, lead - 24, HEAP_REDZONE) != lead - 24)
            return false;
    }
    const struct dbg_header *d = (const struct dbg_header *)(obj - 16);
    if (d->canary != HEAP_CANARY || d->check != header_check(d, slot) ||
            d->size > bytes - lead - HEAP_DEBUG_TAIL_MIN)
        return false;
    *size = d->size;
    *site = d->site;
    return true;
}

/* Whether the red zone (object end to slot end) is intact; if not, *bad
 * is the first damaged byte's offset from obj. */
static bool red_zone_ok(uintptr_t slot, size_t bytes, uintptr_t obj, uint32_t size,
                        size_t *bad)
{
    size_t n = slot + bytes - (obj + size);
    size_t i = first_not(obj + size, n, HEAP_REDZONE);
    *bad = size + i;
    return i == n;
}

/* When a slot's header is smashed, the block that did it is most likely
 * the live one just before it in the slab, if its red zone is damaged
 * too.  Fills *r naming it and returns true; false if it is not so. */
static bool blame_previous(struct heap *h, const struct heap_loc *l, uintptr_t pointer,
                           struct heap_report *r)
{
    if (!l->slab || l->index == 0 || !heap_bit(l->slab->bits, l->index - 1))
        return false;
    uintptr_t prev = l->slot - l->bytes;
    uint32_t lead = heap_debug_lead(prev, l->bytes), size, site;
    size_t bad;
    if (lead == 0 || !heap_debug_header(prev, prev + lead, l->bytes, &size, &site) ||
            red_zone_ok(prev, l->bytes, prev + lead, size, &bad))
        return false;
    heap_report_set(r, HEAP_HEADER_SMASHED, pointer, prev + lead, size,
                    heap_tag_name(h, l->slab->tag), site, bad,
                    "the block before it overflowed into its header");
    return true;
}

/*
 * heap_debug_verify - the header and the red zone of the live block l.
 * true when intact; else false with *r: HEAP_HEADER_SMASHED (naming the
 * block before it when that one overflowed, else the block itself) or
 * HEAP_OVERFLOW (offset: the first damaged byte, from the object).
 */
bool heap_debug_verify(struct heap *h, const struct heap_loc *l, uintptr_t pointer,
                       struct heap_report *r)
{
    uint32_t size, site;
    const char *tag = heap_tag_name(h, l->tag);
    if (!heap_debug_header(l->slot, l->obj, l->bytes, &size, &site)) {
        if (!blame_previous(h, l, pointer, r))
            heap_report_set(r, HEAP_HEADER_SMASHED, pointer, l->obj, l->bytes, tag, 0, 0,
                            "the block's header was overwritten");
        return false;
    }
    size_t bad;
    if (!red_zone_ok(l->slot, l->bytes, l->obj, size, &bad)) {
        heap_report_set(r, HEAP_OVERFLOW, pointer, l->obj, size, tag, site, bad,
                        "written past its end");
        return false;
    }
    return true;
}

/* heap_debug_poison - fill a slot being freed with HEAP_POISON. */
void heap_debug_poison(uintptr_t slot, size_t bytes)
{
    memset((void *)slot, HEAP_POISON, bytes);
}

/*
 * heap_debug_poison_ok - a free slot about to be handed out (or looked at
 * by heap_check): true if still all poison.  Else false with
 * HEAP_USE_AFTER_FREE in *r: block is where the object usually starts
 * (slot + 16), offset the first written byte from it (from the slot, with
 * block = slot, when the write hit the header's place).  Changes nothing.
 */
bool heap_debug_poison_ok(uintptr_t slot, size_t bytes, const char *tag, struct heap_report *r)
{
    size_t i = first_not(slot, bytes, HEAP_POISON);
    if (i == bytes)
        return true;
    uintptr_t bad = slot + i;
    uintptr_t block = bad >= slot + 16 ? slot + 16 : slot;
    heap_report_set(r, HEAP_USE_AFTER_FREE, bad, block, bytes, tag, 0, bad - block,
                    "a free slot was written while free");
    return false;
}

/* ---- finding a block from a pointer: the misuse checks ------------------ */

/*
 * Every free and resize starts here (but the fast free, which makes the
 * same checks for a slot in a slab that stays on its list).  Always on:
 * the pointer must be in the range, below top, in a slab or a run; the
 * slot must be handed out (its bit, and not parked in its class's
 * magazine) or the run live (its map entry), else
 * it is a double free when the pointer is where a block could have
 * started, a bad pointer otherwise; and it must be the block's start, not
 * inside it.  A run, or a slab that went back, marks its free page with
 * the freed block's start (heap_core.h), so that a second free of it is
 * still named a double free.
 */

/* Could a pointer `lead` bytes into a free slot have been a block's start? */
static bool was_start(const struct heap *h, size_t lead, size_t bytes)
{
    if (!h->config.debug)
        return lead == 0;
    return (lead & 15) == 0 && lead >= 16 && lead <= HEAP_PAGE &&
           lead + HEAP_DEBUG_TAIL_MIN <= bytes;
}

/* heap_block_requested - the debug header's size (and site) of the block
 * at l->obj, or the slot's bytes (and 0) if it has none or it is smashed:
 * heap_block_size's answer for a verified block. */
size_t heap_block_requested(const struct heap *h, const struct heap_loc *l, uint32_t *site)
{
    uint32_t size;
    if (h->config.debug && heap_debug_header(l->slot, l->obj, l->bytes, &size, site))
        return size;
    *site = 0;
    return l->bytes;
}

/* Fill in the object's place in a live slot or run (l->slot and l->bytes
 * known) and check that a is it. */
static bool at_start(struct heap *h, uintptr_t a, struct heap_loc *l, struct heap_report *r)
{
    l->obj = l->slot;
    if (h->config.debug) {
        uint32_t lead = heap_debug_lead(l->slot, l->bytes);
        if (lead == 0) /* smashed: take a's word if it could be a start */
            lead = was_start(h, a - l->slot, l->bytes) ? (uint32_t)(a - l->slot) : 16;
        l->obj = l->slot + lead;
    }
    if (a == l->obj)
        return true;
    uint32_t site;
    size_t size = heap_block_requested(h, l, &site);
    heap_report_set(r, HEAP_INTERIOR, a, l->obj, size, heap_tag_name(h, l->tag),
                    site, a > l->obj ? a - l->obj : 0,
                    a > l->obj ? "inside a block" : "inside a block's header");
    return false;
}

/*
 * heap_locate - the live block that p is the start of.  true with *l
 * filled; else false with *r: HEAP_BAD_POINTER (outside the range, a page
 * never used, the page map, a free page, a slab header, a free slot),
 * HEAP_DOUBLE_FREE (the start of a block freed already), HEAP_INTERIOR,
 * HEAP_CORRUPT (the map or a slab header is damaged).  Changes nothing.
 */
bool heap_locate(struct heap *h, uintptr_t a, struct heap_loc *l, struct heap_report *r)
{
    uintptr_t off = a - h->base;
    const char *why = NULL;
    memset(l, 0, sizeof *l);
    if (off >= h->size)
        why = "outside the heap";
    else if ((off >> 12) >= h->top)
        why = "in a page the heap never used";
    if (why) {
        heap_report_set(r, HEAP_BAD_POINTER, a, 0, 0, NULL, 0, 0, why);
        return false;
    }
    uint32_t page = (uint32_t)(off >> 12), e = h->map[page];
    switch (HEAP_MAP_KIND(e)) {
    case HEAP_MAP_SLAB: {
        uint32_t c = HEAP_MAP_CLASS(e);
        struct heap_slab *s = c < h->class_count ? heap_slab_of(h, page, e) : NULL;
        if (!s || s->magic != HEAP_SLAB_MAGIC || s->cls != c) {
            heap_report_set(r, HEAP_CORRUPT, a, 0, 0, NULL, 0, 0, "a slab header is damaged");
            return false;
        }
        uintptr_t start = heap_slab_start(h, s);
        uint32_t i = heap_slot_index((uint32_t)(a - start), h->fast[c].recip);
        l->slab = s;
        l->index = i;
        l->tag = s->tag;
        l->bytes = h->classes[c].slot;
        l->slot = start + (uintptr_t)i * l->bytes;
        if (i >= s->slots) {
            heap_report_set(r, HEAP_BAD_POINTER, a, 0, 0, heap_tag_name(h, s->tag), 0, 0,
                            "in a slab's header");
            return false;
        }
        if (!heap_bit(s->bits, i) || heap_mag_has(h, c, (uint32_t)(l->slot - h->base))) {
            bool twice = was_start(h, a - l->slot, l->bytes);
            heap_report_set(r, twice ? HEAP_DOUBLE_FREE : HEAP_BAD_POINTER, a, twice ? a : 0,
                            l->bytes, heap_tag_name(h, s->tag), 0, 0,
                            twice ? "the slot is free already" : "inside a free slot");
            return false;
        }
        return at_start(h, a, l, r);
    }
    case HEAP_MAP_RUN:
    case HEAP_MAP_RUN_TAIL: {
        uint32_t first = page;
        if (HEAP_MAP_KIND(e) == HEAP_MAP_RUN_TAIL)
            first = page >= HEAP_MAP_PAGES(e) ? page - HEAP_MAP_PAGES(e) : 0;
        uint32_t head = h->map[first];
        if (HEAP_MAP_KIND(head) != HEAP_MAP_RUN || first + HEAP_MAP_PAGES(head) <= page) {
            heap_report_set(r, HEAP_CORRUPT, a, 0, 0, NULL, 0, 0, "a run's map entries are damaged");
            return false;
        }
        l->first = first;
        l->pages = HEAP_MAP_PAGES(head);
        l->tag = HEAP_MAP_TAG(head);
        l->slot = heap_page_addr(h, first);
        l->bytes = (size_t)l->pages * HEAP_PAGE;
        return at_start(h, a, l, r);
    }
    case HEAP_MAP_FREE:
        if ((e & HEAP_MAP_FREED) && HEAP_MAP_FREED_OFF(e) == (off & (HEAP_PAGE - 1))) {
            heap_report_set(r, HEAP_DOUBLE_FREE, a, a, 0, NULL, 0, 0,
                            "the block was freed already (its pages are free)");
            return false;
        }
        why = "in a free page";
        break;
    case HEAP_MAP_MAP:
        why = "in the heap's page map";
        break;
    default:
        why = "a page whose map entry is damaged";
        break;
    }
    heap_report_set(r, HEAP_BAD_POINTER, a, 0, 0, NULL, 0, 0, why);
    return false;
}

/* heap_locate_checked - heap_locate, and in debug mode the block's header
 * and red zone (heap_debug_verify). */
bool heap_locate_checked(struct heap *h, uintptr_t a, struct heap_loc *l, struct heap_report *r)
{
    return heap_locate(h, a, l, r) && (!h->config.debug || heap_debug_verify(h, l, a, r));
}
