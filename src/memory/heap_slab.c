/*
 * heap_slab.c - size classes and slabs (pure).
 *
 * A slab is 1 to 16 pages cut into slots of one class, its header at the
 * end of its last page:
 *
 *   start                                              start + pages * 4096
 *   | slot 0 | slot 1 | ... | slot n-1 | (slack) | header | alloc bitmap |
 *                                                ^ start + fast[class].hdr_off
 *
 * so slot i starts at start + i * slot, and a power-of-two slot size is
 * naturally aligned.  The header's bitmap has a bit per slot, set while
 * the slot is handed out.  It is the record of free slots: alloc takes
 * the lowest clear bit (from a hint: the words below it are full), free
 * clears the bit after testing it, so a slot freed twice, or a pointer
 * into a slot that is not handed out, is caught for the price of the load
 * free needs anyway.  (A slot parked in its class's magazine, heap_core.c,
 * is free with its bit still set: the slab counts it as handed out until
 * it is handed out again, or taken back by mag_unpark.)  Neither ever touches a slot's memory: on a
 * big heap the slots are cold, and a free list threaded through them
 * costs a cache miss on each alloc and free (measured: about a third of
 * the time of a pair).
 *
 * Each class's slab size is chosen here, at init: the fewest pages whose
 * waste (slack plus header, as a share of the slab) is within 2% of the
 * best that 1..16 pages can do.  Fewer pages matter too: every (class,
 * tag) in use keeps a partly filled slab, and a big one holds more idle
 * memory.
 *
 * Slabs with free slots sit on their (class, tag) partial list; new slots
 * come from the head.  A slab that fills up leaves the list; one that gets
 * a slot back joins it at the head, so nearly full slabs are filled first
 * and the emptier ones get the chance to drain.  An empty slab gives its
 * pages back, but for one small one per class (became_empty).
 */
#include "kernel/format.h"
#include "kernel/kstring.h"
#include "heap_internal.h"

#define SLAB_PAGES_MAX 16u
#define WASTE_SLACK_PERMILLE 20u /* "within 2% of the best" */
#define SLAB_KEEP_PAGES 4u       /* an empty slab this small may be kept */

/* heap_slab_header_bytes - a slab header with a bitmap for `slots`,
 * rounded so that the header (at the slab's end) is pointer-aligned. */
uint32_t heap_slab_header_bytes(uint32_t slots)
{
    uint32_t bytes = (uint32_t)sizeof(struct heap_slab) + 4u * ((slots + 31) / 32);
    return (bytes + 7u) & ~7u;
}

/* Slots of `slot` bytes that fit in `pages` pages beside the header. */
static uint32_t slots_in(uint32_t slot, uint32_t pages)
{
    uint32_t bytes = pages * HEAP_PAGE;
    uint32_t n = bytes / slot;
    while (n > 0 && n * slot + heap_slab_header_bytes(n) > bytes)
        n--;
    return n;
}

static uint32_t waste_permille(uint32_t slot, uint32_t pages)
{
    uint32_t bytes = pages * HEAP_PAGE;
    return (bytes - slots_in(slot, pages) * slot) * 1000u / bytes;
}

/* Append the class of `nominal` bytes (the largest request it serves).
 * false if the slot-index multiply would not be exact for it. */
static bool class_add(struct heap *h, uint32_t nominal)
{
    uint32_t c = h->class_count;
    uint32_t slot = nominal;
    if (h->config.debug) /* header, red zone, and 16-byte slots */
        slot = (nominal + HEAP_DEBUG_HEADER + HEAP_DEBUG_TAIL_MIN + 15u) & ~15u;

    uint32_t best = 1000, pages;
    for (pages = 1; pages <= SLAB_PAGES_MAX; pages++) {
        if (slots_in(slot, pages) > 0 && waste_permille(slot, pages) < best)
            best = waste_permille(slot, pages);
    }
    for (pages = 1; pages <= SLAB_PAGES_MAX; pages++) {
        if (slots_in(slot, pages) > 0 && waste_permille(slot, pages) <= best + WASTE_SLACK_PERMILLE)
            break;
    }
    if (pages > SLAB_PAGES_MAX)
        return false;
    uint32_t slots = slots_in(slot, pages);

    /* ceil(2^32 / slot); slot index = (offset * recip) >> 32.  Exact for
     * every byte iff exact at each slot's first and last byte (the map is
     * monotonic), and the first byte past the slots must not look like a
     * slot. */
    uint32_t recip = 0xffffffffu / slot + 1u;
    for (uint32_t i = 0; i < slots; i++) {
        if (heap_slot_index(i * slot, recip) != i || heap_slot_index(i * slot + slot - 1, recip) != i)
            return false;
        /* and the fraction tells a slot's start from any byte after it:
         * (offset * recip) mod 2^32 < recip exactly at a slot's start */
        if ((uint32_t)((uint64_t)(i * slot) * recip) >= recip ||
                (uint32_t)((uint64_t)(i * slot + 1) * recip) < recip ||
                (uint32_t)((uint64_t)(i * slot + slot - 1) * recip) < recip)
            return false;
    }
    if (heap_slot_index(slots * slot, recip) < slots)
        return false;

    h->classes[c] = (struct heap_class){
        .slot = slot, .size = nominal, .pages = (uint16_t)pages, .slots = (uint16_t)slots};
    h->fast[c].recip = recip;
    h->fast[c].slot = slot;
    h->fast[c].slots = (uint16_t)slots;
    /* The header on a cache line of its own if the slack allows: its
     * counters and (for most classes) the whole bitmap are then one line,
     * the only line of the slab a free touches. */
    uint32_t hdr = pages * HEAP_PAGE - heap_slab_header_bytes(slots);
    if (((hdr & ~63u) >= slots * slot))
        hdr &= ~63u;
    h->fast[c].hdr_off = (uint16_t)hdr;
    ksnprintf(h->class_what[c], sizeof h->class_what[c], "slab of %u-byte slots", slot);
    h->class_count++;
    return true;
}

/*
 * heap_classes_init - the size classes: 16..128 in steps of 16, then four
 * a doubling (x 5/4, 6/4, 7/4, 8/4) up to HEAP_SMALL_MAX; and the table
 * from (size + 15) / 16 to class.  false if a class cannot be built.
 */
bool heap_classes_init(struct heap *h)
{
    h->class_count = 0;
    for (uint32_t size = 16; size <= 128; size += 16) {
        if (!class_add(h, size))
            return false;
    }
    for (uint32_t base = 128; base < HEAP_SMALL_MAX; base *= 2) {
        for (uint32_t q = 5; q <= 8; q++) {
            if (h->class_count >= HEAP_CLASSES_MAX || !class_add(h, base * q / 4))
                return false;
        }
    }
    uint32_t c = 0;
    for (uint32_t i = 0; i <= HEAP_SMALL_MAX / HEAP_MIN_ALIGN; i++) {
        while (h->classes[c].size < i * HEAP_MIN_ALIGN)
            c++;
        h->class_of_size[i] = (uint8_t)c;
    }
    return true;
}

/* heap_slab_of - the header of the slab that page `page` (map entry e, a
 * SLAB entry) belongs to. */
struct heap_slab *heap_slab_of(const struct heap *h, uint32_t page, uint32_t e)
{
    uintptr_t start = heap_page_addr(h, page - HEAP_MAP_SLAB_PAGE(e));
    return (struct heap_slab *)(start + h->fast[HEAP_MAP_CLASS(e)].hdr_off);
}

/* ---- partial lists ------------------------------------------------------- */

/*
 * A slab joins its partial list at the head and leaves from anywhere.  The
 * forward link is in the slab's header, the back link in its first page's
 * map entry (heap_core.h): joining or leaving writes the slab's own header
 * and the small, hot map, never a neighbour's header, which on a big heap
 * would be a cache miss each time.  (heap_core.c's fast paths inline the
 * two common cases: a full slab joining, the head leaving.)
 */
void heap_list_push(struct heap *h, struct heap_slab *s)
{
    uint32_t c = s->cls, page = heap_slab_page(h, s, c);
    struct heap_slab **head = &h->partial[c][s->tag];
    s->next = *head;
    heap_set_prev(h, page, 0);
    if (*head)
        heap_set_prev(h, heap_slab_page(h, *head, c), page);
    *head = s;
}

void heap_list_unlink(struct heap *h, struct heap_slab *s)
{
    uint32_t c = s->cls, page = heap_slab_page(h, s, c);
    uint32_t prev = HEAP_MAP_PREV(h->map[page]);
    struct heap_slab *next = s->next;
    if (prev)
        heap_slab_at(h, prev, c)->next = next;
    else
        h->partial[c][s->tag] = next;
    if (next)
        heap_set_prev(h, heap_slab_page(h, next, c), prev);
    heap_set_prev(h, page, 0);
    s->next = NULL;
}

/* Move s behind the slab after it on its list, if there is one. */
static void list_step_back(struct heap *h, struct heap_slab *s)
{
    struct heap_slab *other = s->next;
    if (!other)
        return;
    uint32_t c = s->cls, page = heap_slab_page(h, s, c);
    heap_list_unlink(h, s);
    s->next = other->next;
    if (other->next)
        heap_set_prev(h, heap_slab_page(h, other->next, c), page);
    other->next = s;
    heap_set_prev(h, page, heap_slab_page(h, other, c));
}

/* ---- making and unmaking slabs ------------------------------------------ */

static struct heap_slab *slab_new(struct heap *h, uint32_t c, uint32_t t, struct heap_report *r)
{
    const struct heap_class *k = &h->classes[c];
    uint32_t first = heap_pages_take(h, k->pages, r);
    if (first == 0)
        return NULL;
    for (uint32_t i = 0; i < k->pages; i++)
        h->map[first + i] = HEAP_MAP_MAKE(HEAP_MAP_SLAB, c | i << 8);

    uintptr_t start = heap_page_addr(h, first);
    struct heap_slab *s = (struct heap_slab *)(start + h->fast[c].hdr_off);
    uint32_t words = heap_slab_words(k->slots);
    memset(s, 0, heap_slab_header_bytes(k->slots));
    s->magic = HEAP_SLAB_MAGIC;
    s->cls = (uint8_t)c;
    s->tag = (uint8_t)t;
    s->slots = k->slots;
    s->free_count = k->slots;
    if (k->slots & 31) /* the bits past the last slot read "in use" */
        s->bits[words - 1] = 0xffffffffu << (k->slots & 31);
    if (h->config.debug) /* every free slot is poisoned, fresh ones too */
        memset((void *)start, HEAP_POISON, (size_t)k->slots * k->slot);
    h->stats.slabs++;
    h->slab_bytes += (size_t)k->slots * k->slot;
    heap_list_push(h, s);
    return s;
}

static void slab_destroy(struct heap *h, struct heap_slab *s)
{
    const struct heap_class *k = &h->classes[s->cls];
    heap_list_unlink(h, s);
    if (h->empty[s->cls] == s)
        h->empty[s->cls] = NULL;
    h->stats.slabs--;
    h->slab_bytes -= (size_t)k->slots * k->slot;
    uint32_t first = (uint32_t)((heap_slab_start(h, s) - h->base) >> 12);
    s->magic = 0; /* a stale pointer to it must not find a slab */
    heap_pages_give(h, first, k->pages);
}

/* A slab's last slot came back.  Keep it as the class's empty slab, if
 * the class has none and its slabs are small (SLAB_KEEP_PAGES): then an
 * alloc/free pair at the edge of a slab does not make and unmake a slab
 * each time.  It stays on its list, behind another slab if there is one
 * (that one is filled first).  Otherwise its pages go back (and may stay
 * backed for a while: HEAP_RETAIN_PAGES). */
static void became_empty(struct heap *h, struct heap_slab *s)
{
    if (h->empty[s->cls] || h->classes[s->cls].pages > SLAB_KEEP_PAGES) {
        slab_destroy(h, s);
        return;
    }
    h->empty[s->cls] = s;
    if (h->partial[s->cls][s->tag] == s)
        list_step_back(h, s);
}

/*
 * heap_slab_take - a free slot of class c for tag t: the lowest free slot
 * of the slab at the head of the (c, t) partial list, else of the class's
 * empty slab (retagged), else of a new slab.  Returns the slot's first
 * byte (the statistics are the caller's), or 0 with *r filled
 * (HEAP_NO_MEMORY; HEAP_CORRUPT if a slab's free count says it has a free
 * slot and its bitmap has none).
 */
uintptr_t heap_slab_take(struct heap *h, uint32_t c, uint32_t t, struct heap_report *r)
{
    struct heap_slab *s = h->partial[c][t];
    if (!s) {
        s = h->empty[c];
        if (s) {
            heap_list_unlink(h, s);
            s->tag = (uint8_t)t;
            heap_list_push(h, s);
        } else if (!(s = slab_new(h, c, t, r))) {
            return 0;
        }
    }
    uint32_t i = heap_slab_pop(s, heap_slab_words(s->slots));
    if (i == UINT32_MAX) {
        heap_report_set(r, HEAP_CORRUPT, (uintptr_t)s, 0, 0, heap_tag_name(h, t), 0, 0,
                        "a slab with free slots has a full bitmap");
        return 0;
    }
    if (h->empty[c] == s)
        h->empty[c] = NULL;
    if (s->free_count == 0)
        heap_list_unlink(h, s);
    return heap_slab_start(h, s) + (uintptr_t)i * h->classes[c].slot;
}

/* Take the slots of s parked in its class's magazine back into s (they
 * stay free): before a slow free, which may empty s. */
static void mag_unpark(struct heap *h, struct heap_slab *s)
{
    uint32_t c = s->cls, *m = h->mag[c], n = h->mag_n[c], kept = 0;
    uintptr_t start = heap_slab_start(h, s) - h->base;
    uint32_t bytes = h->classes[c].pages * HEAP_PAGE;
    for (uint32_t k = 0; k < n; k++) {
        uint32_t rel = m[k] - (uint32_t)start;
        if (rel >= bytes) {
            m[kept++] = m[k];
            continue;
        }
        uint32_t i = heap_slot_index(rel, h->fast[c].recip);
        s->bits[i >> 5] &= ~(1u << (i & 31));
        if ((i >> 5) < s->hint)
            s->hint = i >> 5;
        if (s->free_count++ == 0)
            heap_list_push(h, s);
    }
    for (uint32_t k = kept; k < n; k++)
        m[k] = 0;
    h->mag_n[c] = kept;
}

/*
 * heap_slab_put - slot `index` of s (handed out now: the caller checked)
 * is free again: its bit cleared, the slab onto its partial list if it
 * was full, kept or destroyed if it is now empty.  Slots of s parked in
 * the magazine go back into it first, so that "empty" is exact.  In
 * debug mode the caller has poisoned the slot already.
 */
void heap_slab_put(struct heap *h, struct heap_slab *s, uint32_t index)
{
    if (h->mag_n[s->cls])
        mag_unpark(h, s);
    s->bits[index >> 5] &= ~(1u << (index & 31));
    if ((index >> 5) < s->hint)
        s->hint = index >> 5;
    if (s->free_count++ == 0)
        heap_list_push(h, s);
    if (s->free_count == s->slots)
        became_empty(h, s);
}

/* ---- tags --------------------------------------------------------------- */

/*
 * Each slab serves one tag (a slab per class and tag in use), so a tag
 * costs no bytes per block.  Tags are found by pointer first (a static
 * string is passed as itself every time), by name only when the pointer is
 * new; the table keeps the first pointer.  "kmalloc" (NULL) is index 0.
 * When the table is full, its last entry becomes "other" and takes every
 * new name (counted in tag_overflows): 31 names keep their own entry.
 */

static uint32_t tag_lookup(struct heap *h, const char *tag)
{
    for (uint32_t i = 0; i < h->tag_count; i++) {
        if (strcmp(h->tags[i], tag) == 0)
            return i;
    }
    if (h->tag_count < HEAP_TAGS_MAX - 1) {
        h->tags[h->tag_count] = tag; /* a static string: kept by pointer */
        return h->tag_count++;
    }
    /* Full: the last slot becomes "other" and takes every new name. */
    if (h->tag_count == HEAP_TAGS_MAX - 1)
        h->tags[h->tag_count++] = "other";
    h->tag_overflows++;
    return HEAP_TAGS_MAX - 1;
}

/* heap_tag_index - the index of a tag (not NULL: the fast path tests
 * that itself), added to the table if new. */
uint32_t heap_tag_index(struct heap *h, const char *tag)
{
    for (uint32_t i = 0; i < h->tag_count; i++) {
        if (h->tags[i] == tag)
            return i;
    }
    return tag_lookup(h, tag);
}

/* heap_tag_name - the name of tag index t. */
const char *heap_tag_name(const struct heap *h, uint32_t t)
{
    return t < h->tag_count ? h->tags[t] : "?";
}
