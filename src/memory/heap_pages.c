/*
 * heap_pages.c - the heap's page map and runs of pages (pure).
 *
 * Every page of the range has a 32-bit entry in the page map, which lives
 * in the range's first pages (format in heap_core.h, private part).  Two
 * bitmaps go with it, one bit a page:
 *
 *     free_bits    1 = nobody uses the page (pages at or past `top` too)
 *     backed_bits  1 = the page source backs it now
 *
 * A free page that is still backed is "retained": at most
 * HEAP_RETAIN_PAGES of them, so that a slab that dies and is reborn does
 * not cost the page source a round trip, while a burst of frees still
 * hands memory back at once.
 *
 * Runs are found first fit over free_bits, a stretch of equal bits at a
 * time (count trailing ones/zeros).  A search for n pages starts at
 * run_hint[n]: no run of n free pages or more starts below it (so the
 * hints never fall as n grows, and updates stop early).  A search
 * that finds its run at p moves the hints of n and longer up to p (first
 * fit saw no such run before p); freeing pages moves the hints of the
 * lengths that their free run can serve down to its start.  So a slab (1
 * to 16 pages) or a block of a few pages does not rescan the crumbs of a
 * fragmented heap each time.  Freed pages need no merging: neighbouring
 * free bits are a longer run already.
 *
 * The map is backed only as far as the heap has grown: map page k holds
 * the entries of pages [k * 1024, (k + 1) * 1024), and it is backed (and
 * zeroed, which reads "free, not backed") before `top` passes into it.
 * The map's own entries all fit in its first page (65536 pages need 64
 * map pages), so they are always readable.
 */
#include "kernel/kstring.h"
#include "heap_internal.h"

#define ENTRIES_PER_MAP_PAGE (HEAP_PAGE / 4u)

/* Set or clear bits [first, first + n), a word at a time. */
static void bits_fill(uint32_t *bits, uint32_t first, uint32_t n, bool on)
{
    while (n > 0) {
        uint32_t shift = first & 31, take = 32 - shift;
        if (take > n)
            take = n;
        uint32_t mask = (take == 32 ? 0xffffffffu : ((1u << take) - 1)) << shift;
        if (on)
            bits[first >> 5] |= mask;
        else
            bits[first >> 5] &= ~mask;
        first += take;
        n -= take;
    }
}

/* How many of bits [first, first + n) are set. */
static uint32_t bits_count(const uint32_t *bits, uint32_t first, uint32_t n)
{
    uint32_t count = 0;
    while (n > 0) {
        uint32_t shift = first & 31, take = 32 - shift;
        if (take > n)
            take = n;
        uint32_t mask = (take == 32 ? 0xffffffffu : ((1u << take) - 1)) << shift;
        count += (uint32_t)__builtin_popcount(bits[first >> 5] & mask);
        first += take;
        n -= take;
    }
    return count;
}

/*
 * The stretch of equal bits that starts at bit i, within i's word and
 * clipped to `to`: *len gets its length, the result is the bits' value.
 * Loops walk a bitmap a stretch at a time with it.
 */
static bool stretch(const uint32_t *bits, uint32_t i, uint32_t to, uint32_t *len)
{
    uint32_t shift = i & 31, left = 32 - shift;
    uint32_t w = bits[i >> 5] >> shift; /* bit 0 = page i; the top `shift` bits are 0 */
    bool on = w & 1;
    uint32_t n;
    if (on)
        n = ~w == 0 ? 32 : (uint32_t)__builtin_ctz(~w);
    else
        n = w == 0 ? 32 : (uint32_t)__builtin_ctz(w);
    if (n > left)
        n = left;
    if (n > to - i)
        n = to - i;
    *len = n;
    return on;
}

/* The first run of n free pages, or 0 (page 0 is the map: never free). */
/* The first run of n free pages that starts at `from` or later, or 0;
 * a word of free_bits (32 pages) at a time, however broken up the free
 * pages are.  `carry` is the length of the free run that reaches the top
 * of the words seen so far (bits past the range are 0: no run passes its
 * end); a run inside one word is found by folding the word onto itself,
 * so that bit p stays set when pages p .. p + n - 1 are all free. */
static uint32_t first_fit(const uint32_t *free_bits, uint32_t pages, uint32_t from, uint32_t n)
{
    uint32_t carry = 0, words = (pages + 31) / 32;
    for (uint32_t w = from >> 5; w < words; w++) {
        uint32_t x = free_bits[w] & (w == from >> 5 ? 0xffffffffu << (from & 31) : 0xffffffffu);
        if (x == 0) { /* (most words of a full heap) */
            carry = 0;
            continue;
        }
        uint32_t low = ~x ? (uint32_t)__builtin_ctz(~x) : 32; /* free pages at its bottom */
        if (carry + low >= n)
            return w * 32 - carry;
        uint32_t m = n <= 32 ? x : 0;
        for (uint32_t len = 1; len < n && m; ) { /* bit p: pages p .. p + len - 1 free */
            uint32_t step = n - len < len ? n - len : len;
            m &= m >> step;
            len += step;
        }
        if (m)
            return w * 32 + (uint32_t)__builtin_ctz(m);
        carry = ~x ? (uint32_t)__builtin_clz(~x) : carry + 32;
    }
    return 0;
}

/* No run of n free pages or more starts below `to` (the first fit for n
 * found none there): the hints of exactly n and longer may rise to it.
 * (A search for HEAP_RUN_HINTS or more pages only says so for its own
 * n, which has no hint.) */
static void hints_raise(struct heap *h, uint32_t n, uint32_t to)
{
    if (n >= HEAP_RUN_HINTS)
        return;
    for (uint32_t j = n; j <= HEAP_RUN_HINTS && h->run_hint[j] < to; j++)
        h->run_hint[j] = to; /* (the hints rise with j: stop at one high enough) */
}

/* How many free pages follow `page` (itself included), counted up to
 * `enough`. */
static uint32_t run_length(const struct heap *h, uint32_t page, uint32_t enough)
{
    uint32_t n = 0, len;
    while (n < enough && page < h->total_pages &&
           stretch(h->free_bits, page, h->total_pages, &len)) {
        n += len;
        page += len;
    }
    return n;
}

/* The first page of the free run that page `page` (free) belongs to. */
static uint32_t run_start(const struct heap *h, uint32_t page)
{
    while (page > 0) {
        uint32_t below = page - 1, bit = below & 31;
        uint32_t used = ~h->free_bits[below >> 5] & (0xffffffffu >> (31 - bit));
        if (used)
            return (below & ~31u) + 32 - (uint32_t)__builtin_clz(used);
        page = below & ~31u;
    }
    return 0;
}

/* Hand back the pages of [first, first + n) whose backed bit is clear:
 * undoes a back_range that failed half-way (the bits are not set yet). */
static void unback_new(struct heap *h, uint32_t first, uint32_t n)
{
    uint32_t i = first, end = first + n, len;
    for (; i < end; i += len) {
        if (!stretch(h->backed_bits, i, end, &len))
            h->pages.release(h->pages.ctx, heap_page_addr(h, i), len);
    }
}

/*
 * Make free pages [first, first + n) the caller's: back the map as far as
 * they need, back every page of them not backed yet, clear their free
 * bits and move `top`.  Their map entries are the caller's to write.  On
 * a refusal of the page source, everything backed here is handed back and
 * the heap is as it was.
 */
static bool back_range(struct heap *h, uint32_t first, uint32_t n)
{
    uint32_t end = first + n;
    uint32_t map_old = h->map_pages_backed;
    uint32_t map_need = (end + ENTRIES_PER_MAP_PAGE - 1) / ENTRIES_PER_MAP_PAGE;
    if (map_need > map_old &&
            !h->pages.back(h->pages.ctx, heap_page_addr(h, map_old), map_need - map_old))
        return false;

    uint32_t i = first, len;
    for (; i < end; i += len) {
        if (stretch(h->backed_bits, i, end, &len))
            continue;
        if (!h->pages.back(h->pages.ctx, heap_page_addr(h, i), len)) {
            unback_new(h, first, i - first);
            if (map_need > map_old)
                h->pages.release(h->pages.ctx, heap_page_addr(h, map_old),
                                 map_need - map_old);
            return false;
        }
    }

    /* Committed from here on. */
    if (map_need > map_old) {
        /* New map pages hold only entries past `top`: zero is "free,
         * not backed", which is what those pages are. */
        memset((void *)heap_page_addr(h, map_old), 0, (map_need - map_old) * HEAP_PAGE);
        for (uint32_t k = map_old; k < map_need; k++)
            h->map[k] = HEAP_MAP_MAKE(HEAP_MAP_MAP, HEAP_MAP_BACKED);
        bits_fill(h->backed_bits, map_old, map_need - map_old, true);
        h->map_pages_backed = map_need;
        h->stats.backed_pages += map_need - map_old;
    }
    uint32_t were_backed = bits_count(h->backed_bits, first, n);
    h->retained -= were_backed;
    h->stats.backed_pages += n - were_backed;
    if (h->stats.backed_pages > h->stats.peak_backed_pages)
        h->stats.peak_backed_pages = h->stats.backed_pages;
    bits_fill(h->backed_bits, first, n, true);
    bits_fill(h->free_bits, first, n, false);
    if (end > h->top) {
        h->top = end;
        h->fast_limit = h->config.debug ? 0 : (uintptr_t)end << 12;
    }
    return true;
}

/*
 * heap_pages_init - back the first map page and mark the map's pages.
 * Takes h with base, size, total_pages and pages set (the rest zero).
 * false, with nothing backed, if the page source refuses.
 */
bool heap_pages_init(struct heap *h)
{
    h->map = (uint32_t *)h->base;
    h->map_pages_total = (h->total_pages + ENTRIES_PER_MAP_PAGE - 1) / ENTRIES_PER_MAP_PAGE;
    if (!h->pages.back(h->pages.ctx, h->base, 1))
        return false;
    memset(h->map, 0, HEAP_PAGE);
    for (uint32_t k = 0; k < h->map_pages_total; k++)
        h->map[k] = HEAP_MAP_MAKE(HEAP_MAP_MAP, k == 0 ? HEAP_MAP_BACKED : 0);
    h->map_pages_backed = 1;
    h->top = h->map_pages_total;
    h->fast_limit = h->config.debug ? 0 : (uintptr_t)h->top << 12;
    for (uint32_t k = 0; k <= HEAP_RUN_HINTS; k++)
        h->run_hint[k] = h->map_pages_total;
    bits_fill(h->free_bits, h->map_pages_total, h->total_pages - h->map_pages_total, true);
    bits_fill(h->backed_bits, 0, 1, true);
    h->stats.backed_pages = h->stats.peak_backed_pages = 1;
    return true;
}

/*
 * heap_pages_take - n free pages (first fit), backed, their free bits
 * clear; returns the first page's index.  0 with HEAP_NO_MEMORY in *r
 * when the range has no such run or the page source refuses (the heap
 * then unchanged).  The caller writes the pages' map entries.
 */
uint32_t heap_pages_take(struct heap *h, uint32_t n, struct heap_report *r)
{
    uint32_t k = n < HEAP_RUN_HINTS ? n : HEAP_RUN_HINTS;
    uint32_t first = n == 0 ? 0 : first_fit(h->free_bits, h->total_pages, h->run_hint[k], n);
    if (first == 0) {
        hints_raise(h, n, h->total_pages);
        heap_report_set(r, HEAP_NO_MEMORY, 0, 0, (size_t)n * HEAP_PAGE, NULL, 0, 0,
                        "no run of free pages that long in the range");
        return 0;
    }
    if (!back_range(h, first, n)) {
        hints_raise(h, n, first);
        heap_report_set(r, HEAP_NO_MEMORY, 0, 0, (size_t)n * HEAP_PAGE, NULL, 0, 0,
                        "the page source is out of memory");
        return 0;
    }
    hints_raise(h, n, first + n); /* (its own pages are used now) */
    return first;
}

/*
 * heap_pages_grow - take the `extra` pages right after [first, first + n)
 * if they are all free and inside the range (a run grown in place).
 * false, and nothing changed, otherwise or if the page source refuses.
 */
bool heap_pages_grow(struct heap *h, uint32_t first, uint32_t n, uint32_t extra)
{
    uint32_t from = first + n;
    if (extra == 0 || from > h->total_pages || extra > h->total_pages - from)
        return false;
    if (bits_count(h->free_bits, from, extra) != extra)
        return false;
    return back_range(h, from, extra);
}

/*
 * heap_pages_give - pages [first, first + n), no longer used, become free:
 * as many as the retain budget allows stay backed, the rest go back to
 * the page source in one call.  Their map entries become "free".
 */
void heap_pages_give(struct heap *h, uint32_t first, uint32_t n)
{
    uint32_t keep = HEAP_RETAIN_PAGES - h->retained;
    if (keep > n)
        keep = n;
    for (uint32_t i = 0; i < n; i++)
        h->map[first + i] = HEAP_MAP_MAKE(HEAP_MAP_FREE, i < keep ? HEAP_MAP_BACKED : 0);
    bits_fill(h->free_bits, first, n, true);
    if (n > keep) {
        h->pages.release(h->pages.ctx, heap_page_addr(h, first + keep), n - keep);
        bits_fill(h->backed_bits, first + keep, n - keep, false);
        h->stats.backed_pages -= n - keep;
    }
    h->retained += keep;
    /* The free run these pages joined: the hints of lengths it can serve
     * come down to its start (a lone page does not make the search for 16
     * pages look at it again). */
    uint32_t from = run_start(h, first);
    uint32_t len = run_length(h, from, HEAP_RUN_HINTS);
    if (len > HEAP_RUN_HINTS)
        len = HEAP_RUN_HINTS;
    for (uint32_t k = len; k >= 1 && h->run_hint[k] > from; k--)
        h->run_hint[k] = from;
}

/* heap_pages_largest_free - the longest run of free pages below `top`. */
uint32_t heap_pages_largest_free(const struct heap *h)
{
    uint32_t best = 0, run = 0, len;
    for (uint32_t i = h->map_pages_total; i < h->top; i += len) {
        if (!stretch(h->free_bits, i, h->top, &len)) {
            run = 0;
            continue;
        }
        run += len;
        if (run > best)
            best = run;
    }
    return best;
}

/* heap_pages_count - how many of bits [first, first + n) are set (for
 * heap_check's recount). */
uint32_t heap_pages_count(const uint32_t *bits, uint32_t first, uint32_t n)
{
    return bits_count(bits, first, n);
}
