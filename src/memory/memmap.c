/*
 * memmap.c - cleaning the firmware's memory map, in place (pure).
 *
 * The rule memmap_sanitize implements is a function of the address: the
 * type of a byte is the type of the highest-priority valid entry covering
 * it, or "hole" when none does.  The clean map is the list of maximal runs
 * of equal type, in address order.
 *
 * The hard part is doing that inside the caller's array (no heap, a 16 KiB
 * boot stack) and leaving the array untouched when the result does not
 * fit.  So it runs in two halves:
 *
 *   1. Count, reading only.  A run can only start at a boundary point, the
 *      base of an entry or the byte after its last.  For each distinct
 *      boundary point p (2n at most) the type at p and at p - 1 is worked
 *      out by scanning all entries: O(n^2), and `runs` is the size of the
 *      result.  If it exceeds capacity: return the error, nothing written.
 *
 *   2. Build, now that the result is known to fit.
 *      a. drop zero-length and wrapping entries, normalise the types;
 *      b. insertion-sort by (priority descending, base ascending): O(n^2);
 *      c. in each type's group, join entries that overlap or touch;
 *      d. drop each joined interval that higher-priority intervals cover
 *         completely (binary search in each higher group: O(n^2 log n)
 *         worst case, much less for real maps);
 *      e. paint: take the intervals from the highest priority down and add
 *         the parts of each not yet covered to a sorted clean list at the
 *         front of the array (binary search, then memmove: O(runs^2)).
 *      Why it fits: every interval left after (d) keeps at least one byte,
 *      and different intervals of one type keep bytes of different runs
 *      (a run lies inside one joined interval), so those intervals are at
 *      most `runs` in number.  They are moved to the end of the first
 *      `runs` slots; painting one interval frees its slot and adds exactly
 *      the runs of its type inside it, which are final (nothing painted
 *      later has a higher priority, and no later interval of the same type
 *      touches it).  So clean list + intervals still waiting never exceed
 *      `runs` slots.  Only the slots [0, runs) and the caller's own
 *      [0, *count) are ever written (*count may exceed capacity: what
 *      matters is whether the result fits).
 *
 * For n entries: about 6n^2 entry tests to count (n = 256: ~1 ms on a
 * desktop, a real map of 6-20 entries: microseconds), under 200 bytes of
 * stack (176 measured on i686), no recursion.  The report is filled in
 * even when the capacity error is returned.
 *
 * While building, an entry's `length` field holds its LAST byte instead
 * (inclusive end): a run may cover the whole 64-bit space, whose length,
 * 2^64, does not fit in 64 bits.  That one case cannot be stored as one
 * region either, so a map that is a single run over every address comes
 * out as two regions of the same type, [0, 2^64 - 2] and [2^64 - 1] (the
 * only touching neighbours of one type the result ever has; counted in
 * `runs` beforehand).
 */
#include "kernel/memmap.h"

#include "kernel/kstring.h"

#define PRIORITY_COUNT 5 /* 0 (available) .. 4 (unusable) */

/* ---- half 1: count, reading only ----------------------------------------- */

static bool is_zero(const struct mem_region *r)
{
    return r->length == 0;
}

/* base + length > 2^64, written so that nothing overflows. */
static bool wraps(const struct mem_region *r)
{
    return r->length != 0 && r->length - 1 > UINT64_MAX - r->base;
}

static bool is_valid(const struct mem_region *r)
{
    return !is_zero(r) && !wraps(r);
}

static uint64_t last_byte(const struct mem_region *r)
{
    return r->base + (r->length - 1);
}

/* Normalised type at addr by the rule above (0: a hole). */
static uint32_t type_at(const struct mem_region *r, size_t n, uint64_t addr)
{
    int best = -1;
    uint32_t type = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_valid(&r[i]) || addr < r[i].base || addr - r[i].base >= r[i].length)
            continue;
        int p = memmap_type_priority(r[i].type);
        if (p > best) {
            best = p;
            type = memmap_normal_type(r[i].type);
        }
    }
    return type;
}

/* Boundary point k (0: base, 1: byte after the last) of valid entry r;
 * false when there is none (the entry ends at 2^64). */
static bool boundary(const struct mem_region *r, int k, uint64_t *p)
{
    if (k == 0) {
        *p = r->base;
        return true;
    }
    if (last_byte(r) == UINT64_MAX)
        return false;
    *p = last_byte(r) + 1;
    return true;
}

/* Is p also a boundary point of a valid entry before i? */
static bool seen_before(const struct mem_region *r, size_t i, uint64_t p)
{
    for (size_t j = 0; j < i; j++) {
        uint64_t q;
        if (!is_valid(&r[j]))
            continue;
        for (int k = 0; k < 2; k++)
            if (boundary(&r[j], k, &q) && q == p)
                return true;
    }
    return false;
}

/* Number of runs of the result; *whole: it is one run over all 2^64 bytes. */
static size_t count_runs(const struct mem_region *r, size_t n, bool *whole)
{
    size_t runs = 0;
    uint32_t type0 = type_at(r, n, 0);
    bool changes = false; /* some boundary point differs in type from 0 */

    for (size_t i = 0; i < n; i++) {
        if (!is_valid(&r[i]))
            continue;
        for (int k = 0; k < 2; k++) {
            uint64_t p;
            if (!boundary(&r[i], k, &p) || seen_before(r, i, p))
                continue;
            uint32_t t = type_at(r, n, p);
            if (t != type0)
                changes = true;
            if (t != 0 && (p == 0 || type_at(r, n, p - 1) != t))
                runs++;
        }
    }
    *whole = runs == 1 && type0 != 0 && !changes;
    return runs;
}

/* ---- half 2: build (length fields hold last bytes from here on) ---------- */

/* An internal inconsistency: this file has a bug.  Trap (a kernel panic
 * with a stack trace, a crash report in a fuzzer) rather than write out of
 * bounds. */
#define BUG_IF(cond)                                                       \
    do {                                                                   \
        if (cond)                                                          \
            __builtin_trap();                                              \
    } while (0)

#define LAST(r) ((r)->length)

/* a. Keep valid entries, normalised, in (base, last) form.  Returns count. */
static size_t keep_valid(struct mem_region *r, size_t n)
{
    size_t out = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_valid(&r[i]))
            continue;
        struct mem_region e = { r[i].base, last_byte(&r[i]), memmap_normal_type(r[i].type) };
        r[out++] = e;
    }
    return out;
}

/* Sort order of step b: does a come before b? */
static bool before(const struct mem_region *a, const struct mem_region *b)
{
    int pa = memmap_type_priority(a->type), pb = memmap_type_priority(b->type);
    return pa != pb ? pa > pb : a->base < b->base;
}

/* b. Insertion sort: n is small, and no recursion, no extra memory. */
static void sort_entries(struct mem_region *r, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        struct mem_region e = r[i];
        size_t j = i;
        for (; j > 0 && before(&e, &r[j - 1]); j--)
            r[j] = r[j - 1];
        r[j] = e;
    }
}

/* c. Join overlapping or touching intervals of one type.  Returns count. */
static size_t join_same_type(struct mem_region *r, size_t n)
{
    size_t out = 0;
    for (size_t i = 0; i < n; i++) {
        struct mem_region *cur = out ? &r[out - 1] : NULL;
        if (cur && cur->type == r[i].type &&
            (LAST(cur) == UINT64_MAX || r[i].base <= LAST(cur) + 1)) {
            if (LAST(&r[i]) > LAST(cur))
                LAST(cur) = LAST(&r[i]);
        } else {
            r[out++] = r[i];
        }
    }
    return out;
}

/* Index of the interval in r[lo, hi) (sorted, disjoint) holding addr, or hi. */
static size_t holding(const struct mem_region *r, size_t lo, size_t hi, uint64_t addr)
{
    size_t a = lo, b = hi; /* find the first base above addr */
    while (a < b) {
        size_t mid = a + (b - a) / 2;
        if (r[mid].base <= addr)
            a = mid + 1;
        else
            b = mid;
    }
    return (a > lo && LAST(&r[a - 1]) >= addr) ? a - 1 : hi;
}

struct group {
    size_t begin, end; /* r[begin, end): the intervals of one priority */
};

/* Do the groups above priority prio cover every byte of [base, last]? */
static bool covered_above(const struct mem_region *r, const struct group *g, int prio,
                          uint64_t base, uint64_t last)
{
    uint64_t q = base; /* every byte before q is covered */
    for (;;) {
        bool found = false;
        uint64_t reach = 0;
        for (int p = prio + 1; p < PRIORITY_COUNT; p++) {
            size_t k = holding(r, g[p].begin, g[p].end, q);
            if (k != g[p].end && (!found || LAST(&r[k]) > reach)) {
                reach = LAST(&r[k]);
                found = true;
            }
        }
        if (!found)
            return false;
        if (reach >= last)
            return true;
        q = reach + 1; /* reach < last: no overflow */
    }
}

/* d. Drop the intervals covered by higher ones.  They are marked (type 0)
 * first and removed afterwards, so the groups stay put while checking;
 * a marked interval still counts as cover, which changes nothing, since
 * what it covered was covered anyway.  Returns count. */
static size_t drop_covered(struct mem_region *r, size_t n)
{
    struct group g[PRIORITY_COUNT];
    for (int p = 0; p < PRIORITY_COUNT; p++)
        g[p].begin = g[p].end = 0;
    for (size_t i = 0; i < n; i++) {
        int p = memmap_type_priority(r[i].type);
        if (g[p].end == 0)
            g[p].begin = i;
        g[p].end = i + 1;
    }
    for (size_t i = 0; i < n; i++)
        if (covered_above(r, g, memmap_type_priority(r[i].type), r[i].base, LAST(&r[i])))
            r[i].type = 0;
    size_t out = 0;
    for (size_t i = 0; i < n; i++)
        if (r[i].type != 0)
            r[out++] = r[i];
    return out;
}

/* Insert [base, last] at index j of the clean list r[0, *c); slot *c must
 * lie below limit (it is free: see the file comment). */
static void insert_run(struct mem_region *r, size_t *c, size_t limit, size_t j, uint64_t base,
                       uint64_t last, uint32_t type)
{
    BUG_IF(*c >= limit || j > *c);
    memmove(&r[j + 1], &r[j], (*c - j) * sizeof(r[0]));
    r[j] = (struct mem_region){ base, last, type };
    (*c)++;
}

/* e. Add the bytes of e that the clean list r[0, *c) does not cover yet. */
static void paint(struct mem_region *r, size_t *c, size_t limit, const struct mem_region *e)
{
    size_t a = 0, b = *c; /* first clean run ending at or after e's base */
    while (a < b) {
        size_t mid = a + (b - a) / 2;
        if (LAST(&r[mid]) < e->base)
            a = mid + 1;
        else
            b = mid;
    }
    size_t j = a;
    uint64_t q = e->base; /* bytes of e before q are done */
    for (; j < *c && r[j].base <= LAST(e); j++) {
        if (r[j].base > q) {
            insert_run(r, c, limit, j, q, r[j].base - 1, e->type);
            j++;
        }
        if (LAST(&r[j]) >= LAST(e))
            return;
        q = LAST(&r[j]) + 1;
    }
    insert_run(r, c, limit, j, q, LAST(e), e->type);
}

/* memmap_sanitize_report - see memmap.h and the comment at the top. */
int memmap_sanitize_report(struct mem_region *regions, size_t *count, size_t capacity,
                           struct memmap_sanitize_report *report)
{
    size_t n = *count;
    struct memmap_sanitize_report rep = { 0, 0 };
    for (size_t i = 0; i < n; i++) {
        if (is_zero(&regions[i]))
            rep.zero_length++;
        else if (wraps(&regions[i]))
            rep.wrapped++;
    }
    if (report)
        *report = rep;

    bool whole;
    size_t runs = count_runs(regions, n, &whole);
    size_t need = runs + (whole ? 1 : 0);
    if (need > capacity)
        return MEMMAP_ERR_CAPACITY;

    n = keep_valid(regions, n);
    sort_entries(regions, n);
    n = join_same_type(regions, n);
    n = drop_covered(regions, n);
    BUG_IF(n > runs);

    /* Waiting intervals go to the end of the first `runs` slots. */
    if (n > 0)
        memmove(&regions[runs - n], &regions[0], n * sizeof(regions[0]));
    size_t c = 0;
    for (size_t k = runs - n; k < runs; k++) {
        struct mem_region e = regions[k]; /* slot k is free from here on */
        paint(regions, &c, k + 1, &e);
    }
    BUG_IF(c != runs);

    for (size_t i = 0; i < c; i++)
        regions[i].length = LAST(&regions[i]) - regions[i].base + 1;
    if (whole) {
        regions[0].length = UINT64_MAX; /* [0, 2^64 - 2] */
        regions[1] = (struct mem_region){ UINT64_MAX, 1, regions[0].type };
    }
    *count = need;
    return 0;
}

/* memmap_sanitize - see memmap.h. */
int memmap_sanitize(struct mem_region *regions, size_t *count, size_t capacity)
{
    return memmap_sanitize_report(regions, count, capacity, NULL);
}
