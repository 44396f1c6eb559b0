/*
 * memmap_query.c - names and priorities of the types, and questions asked
 * of a clean map (pure): totals, the region holding an address, and what
 * cleaning did to each raw entry.
 *
 * All of these expect a map memmap_sanitize produced (sorted, disjoint, no
 * empty region).  Given anything else they still read only inside the
 * arrays and never divide or overflow in a way C leaves undefined; the
 * answers are then just not meaningful.
 *
 * A clean map can cover the whole 64-bit space (2^64 bytes), which no
 * uint64_t holds: byte totals saturate at 2^64 - 1 instead of wrapping.
 */
#include "kernel/memmap.h"

#include "kernel/kstring.h"

/* ---- types -------------------------------------------------------------- */

/* memmap_type_priority - see memmap.h. */
int memmap_type_priority(uint32_t type)
{
    switch (type) {
    case MEM_AVAILABLE:        return 0;
    case MEM_ACPI_RECLAIMABLE: return 1;
    case MEM_ACPI_NVS:         return 2;
    case MEM_UNUSABLE:         return 4;
    default:                   return 3; /* MEM_RESERVED and unknown numbers */
    }
}

/* memmap_normal_type - see memmap.h. */
uint32_t memmap_normal_type(uint32_t type)
{
    return (type >= MEM_AVAILABLE && type <= MEM_UNUSABLE) ? type : MEM_RESERVED;
}

/* memmap_type_name - see memmap.h. */
const char *memmap_type_name(uint32_t type)
{
    switch (type) {
    case MEM_AVAILABLE:        return "available";
    case MEM_RESERVED:         return "reserved";
    case MEM_ACPI_RECLAIMABLE: return "ACPI reclaimable";
    case MEM_ACPI_NVS:         return "ACPI NVS";
    case MEM_UNUSABLE:         return "unusable";
    default:                   return "unknown";
    }
}

#define FOUR_GIB ((uint64_t)1 << 32)

/* Last byte of r (length > 0), clipped at 2^64 - 1 should r wrap. */
static uint64_t last_byte(const struct mem_region *r)
{
    return r->length - 1 > UINT64_MAX - r->base ? UINT64_MAX : r->base + (r->length - 1);
}

static void add_sat(uint64_t *sum, uint64_t v)
{
    *sum = v > UINT64_MAX - *sum ? UINT64_MAX : *sum + v;
}

/* memmap_summarize - see memmap.h. */
void memmap_summarize(const struct mem_region *regions, size_t count, struct memmap_summary *s)
{
    memset(s, 0, sizeof(*s));
    for (size_t i = 0; i < count; i++) {
        const struct mem_region *r = &regions[i];
        if (r->length == 0)
            continue;
        uint32_t type = memmap_normal_type(r->type);
        uint64_t last = last_byte(r);
        uint64_t bytes = last - r->base + 1; /* the length, clipped at 2^64 */
        bool usable = type == MEM_AVAILABLE;

        add_sat(&s->bytes_by_type[type], bytes);
        add_sat(&s->total_bytes, bytes);
        if (usable && r->base < FOUR_GIB) {
            uint64_t end = (last < FOUR_GIB ? last : FOUR_GIB - 1) + 1;
            if (end > s->usable_end_below_4g)
                s->usable_end_below_4g = end;
        }
        if (last >= FOUR_GIB) {
            uint64_t from = r->base > FOUR_GIB ? r->base : FOUR_GIB;
            add_sat(&s->above_4g_bytes, last - from + 1);
            if (usable)
                add_sat(&s->above_4g_usable, last - from + 1);
            s->regions_above_4g++;
        }
    }
    s->usable_bytes = s->bytes_by_type[MEM_AVAILABLE];
}

/* Index of the last region whose base is <= addr, or count when none. */
static size_t last_at_or_below(const struct mem_region *regions, size_t count, uint64_t addr)
{
    size_t a = 0, b = count; /* find the first base above addr */
    while (a < b) {
        size_t mid = a + (b - a) / 2;
        if (regions[mid].base <= addr)
            a = mid + 1;
        else
            b = mid;
    }
    return a > 0 ? a - 1 : count;
}

/* memmap_find - see memmap.h. */
const struct mem_region *memmap_find(const struct mem_region *regions, size_t count,
                                     uint64_t addr)
{
    size_t i = last_at_or_below(regions, count, addr);
    if (i == count || addr - regions[i].base >= regions[i].length)
        return NULL;
    return &regions[i];
}

/*
 * memmap_explain - see memmap.h.  The clean regions meeting the entry are
 * visited in order: bytes of the entry's own (normalised) type are counted,
 * in runs (two clean regions of that type that touch make one run: only
 * the map covering all 2^64 bytes has them), and the highest-priority other
 * type seen is remembered.  by_type is 0 when no other type meets the
 * entry; clean_index is clean_count except for KEPT and MERGED.
 */
void memmap_explain(const struct mem_region *raw, size_t i, const struct mem_region *clean,
                    size_t clean_count, struct memmap_explanation *out)
{
    const struct mem_region *e = &raw[i];
    struct memmap_explanation x = { MEMMAP_DROPPED_ZERO, 0, 0, 0, clean_count };

    if (e->length == 0) {
        *out = x;
        return;
    }
    if (e->length - 1 > UINT64_MAX - e->base) {
        x.fate = MEMMAP_DROPPED_WRAP;
        *out = x;
        return;
    }

    uint32_t type = memmap_normal_type(e->type);
    uint64_t last = e->base + (e->length - 1);
    bool in_run = false;
    uint64_t run_last = 0;
    int other = -1;

    size_t j = last_at_or_below(clean, clean_count, e->base);
    if (j == clean_count)
        j = 0;
    for (; j < clean_count && clean[j].base <= last; j++) {
        const struct mem_region *c = &clean[j];
        if (c->length == 0 || last_byte(c) < e->base)
            continue;
        uint64_t lo = c->base > e->base ? c->base : e->base;
        uint64_t hi = last_byte(c) < last ? last_byte(c) : last;
        if (memmap_normal_type(c->type) == type) {
            x.kept_bytes += hi - lo + 1; /* <= e->length: no overflow */
            if (!in_run || run_last == UINT64_MAX || run_last + 1 != lo)
                x.pieces++;
            in_run = true;
            run_last = hi;
        } else {
            in_run = false;
            if (memmap_type_priority(c->type) > other) {
                other = memmap_type_priority(c->type);
                x.by_type = memmap_normal_type(c->type);
            }
        }
    }

    if (x.kept_bytes == 0) {
        x.fate = MEMMAP_DROPPED_COVERED;
    } else if (x.kept_bytes < e->length) {
        x.fate = MEMMAP_TRIMMED;
    } else {
        const struct mem_region *home = memmap_find(clean, clean_count, e->base);
        x.fate = MEMMAP_MERGED;
        if (home) {
            x.clean_index = (size_t)(home - clean);
            if (home->base == e->base && home->length == e->length)
                x.fate = MEMMAP_KEPT;
        }
    }
    *out = x;
}
