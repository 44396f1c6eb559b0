/*
 * fuzz_memmap.c - the memory-map parser and sanitizer against a brute-force
 * reference.
 *
 * Every input is used twice:
 *   raw:        the bytes are a Multiboot memory-map buffer as a boot loader
 *               would leave it: memmap_parse_multiboot (checked against a
 *               reference walk that reads whole packed structs), then the
 *               entries it found go through the oracle below.
 *   decoded:    each 4 bytes make one entry whose base and length are
 *               picked mostly from "interesting" values (0, 0x9fc00, 4 GiB,
 *               2^64 - 1, ...) plus a small offset, so overlaps, touching
 *               neighbours, duplicates and wrapping entries are common.
 *               The entries are encoded as a Multiboot buffer (size 20 or
 *               24), parsed back (must round-trip), and go through the
 *               oracle.
 * The oracle, for a list of raw entries:
 *   1. shape: sorted, disjoint, no empty region, no touching neighbours of
 *      one type (except the 2^64-byte run, stored as two), types 1..5, and
 *      the report counts what it should;
 *   2. meaning: at sampled addresses (each entry's base, last byte, base - 1,
 *      last + 1, fixed and pseudo-random ones), "highest priority among the
 *      raw entries covering it, none: a hole" equals memmap_find;
 *   3. idempotence: sanitizing the result again changes nothing;
 *   4. capacity: with one slot too few, MEMMAP_ERR_CAPACITY and the array
 *      byte-identical; with exactly enough (and with a capacity from the
 *      input), the same result; the array is a heap block of exactly
 *      max(count, capacity) entries, so ASan sees any write past it;
 *   5. explain and summarize agree with the clean map (kept bytes and pieces
 *      recounted by walking each entry through memmap_find; totals in
 *      128-bit arithmetic).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/memmap.h"
#include "kernel/multiboot.h"

#define FAIL(...)                                                          \
    do {                                                                   \
        fprintf(stderr, "fuzz_memmap: " __VA_ARGS__);                      \
        fputc('\n', stderr);                                               \
        dump_last();                                                       \
        abort();                                                           \
    } while (0)

#define MAX_ENTRIES 128 /* MEMMAP_RAW_MAX */
#define MAX64 UINT64_MAX
#define G4 0x100000000ull

typedef unsigned __int128 u128;

static const struct mem_region *cur_in;
static size_t cur_n;

static void dump_last(void)
{
    for (size_t i = 0; cur_in && i < cur_n; i++)
        fprintf(stderr, "  raw %zu: base 0x%llx length 0x%llx type %u\n", i,
                (unsigned long long)cur_in[i].base, (unsigned long long)cur_in[i].length,
                cur_in[i].type);
}

/* ---- the reference -------------------------------------------------------- */

static bool valid(const struct mem_region *r)
{
    return r->length != 0 && r->length - 1 <= MAX64 - r->base;
}

static bool covers(const struct mem_region *r, uint64_t addr)
{
    return valid(r) && addr >= r->base && addr - r->base <= r->length - 1;
}

/* The priority table again, written out independently of memmap.c:
 * UNUSABLE > RESERVED = unknown > ACPI NVS > ACPI reclaimable > available. */
static int ref_priority(uint32_t type)
{
    static const int prio[6] = { 3, 0, 3, 1, 2, 4 };
    return type <= 5 ? prio[type] : 3;
}

static uint32_t ref_normal(uint32_t type)
{
    return type >= 1 && type <= 5 ? type : 2;
}

static uint32_t ref_type(const struct mem_region *in, size_t n, uint64_t addr)
{
    int best = -1;
    uint32_t t = 0;
    for (size_t i = 0; i < n; i++) {
        if (covers(&in[i], addr) && ref_priority(in[i].type) > best) {
            best = ref_priority(in[i].type);
            t = ref_normal(in[i].type);
        }
    }
    return t;
}

static uint32_t clean_type(const struct mem_region *c, size_t n, uint64_t addr)
{
    const struct mem_region *r = memmap_find(c, n, addr);
    if (r && (addr < r->base || addr - r->base >= r->length))
        FAIL("memmap_find(0x%llx) returned a region not holding it", (unsigned long long)addr);
    return r ? r->type : 0;
}

/* Field by field: the padding after `type` is not part of the value. */
static bool same_regions(const struct mem_region *a, const struct mem_region *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i].base != b[i].base || a[i].length != b[i].length || a[i].type != b[i].type)
            return false;
    return true;
}

/* ---- the oracle ------------------------------------------------------------ */

static uint64_t rng;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Sanitizes a copy of in[] in a heap block of exactly max(n, cap) entries. */
static int sanitize_copy(const struct mem_region *in, size_t n, size_t cap,
                         struct mem_region *out, size_t *out_n,
                         struct memmap_sanitize_report *rep)
{
    size_t slots = n > cap ? n : cap;
    struct mem_region *a = malloc((slots ? slots : 1) * sizeof(*a));
    if (!a)
        abort();
    memset(a, 0xa5, (slots ? slots : 1) * sizeof(*a));
    if (n)
        memcpy(a, in, n * sizeof(*a));
    size_t count = n;
    int rc = memmap_sanitize_report(a, &count, cap, rep);
    if (rc == 0) {
        if (count > cap)
            FAIL("%zu regions in a capacity of %zu", count, cap);
        memcpy(out, a, count * sizeof(*a));
        *out_n = count;
    } else {
        if (rc != MEMMAP_ERR_CAPACITY)
            FAIL("sanitize returned %d", rc);
        if (count != n)
            FAIL("count changed on error: %zu -> %zu", n, count);
        if (n && memcmp(a, in, n * sizeof(*a)) != 0)
            FAIL("array changed on error (capacity %zu)", cap);
        *out_n = 0;
    }
    free(a);
    return rc;
}

static void check_shape(const struct mem_region *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (c[i].length == 0)
            FAIL("region %zu is empty", i);
        if (c[i].type < 1 || c[i].type > 5)
            FAIL("region %zu has type %u", i, c[i].type);
        if (c[i].length - 1 > MAX64 - c[i].base)
            FAIL("region %zu wraps", i);
        if (i == 0)
            continue;
        uint64_t prev_last = c[i - 1].base + (c[i - 1].length - 1);
        if (c[i].base <= prev_last)
            FAIL("regions %zu and %zu overlap or are unsorted", i - 1, i);
        if (c[i].base == prev_last + 1 && c[i].type == c[i - 1].type) {
            bool whole = n == 2 && c[0].base == 0 && c[0].length == MAX64 &&
                         c[1].base == MAX64 && c[1].length == 1;
            if (!whole)
                FAIL("regions %zu and %zu touch with one type", i - 1, i);
        }
    }
}

static void check_meaning(const struct mem_region *in, size_t n, const struct mem_region *c,
                          size_t cn)
{
    uint64_t fixed[] = { 0, 1, 0x9fc00, 0xfffff, 0x100000, G4 - 1, G4, MAX64 - 1, MAX64 };
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        if (ref_type(in, n, fixed[i]) != clean_type(c, cn, fixed[i]))
            FAIL("type at 0x%llx", (unsigned long long)fixed[i]);
    for (size_t i = 0; i < n; i++) {
        uint64_t last = in[i].base + in[i].length - 1; /* may wrap: still an address */
        uint64_t a[6] = { in[i].base, in[i].base - 1, last, last + 1, in[i].base + 1, last - 1 };
        for (int k = 0; k < 6; k++) {
            uint32_t want = ref_type(in, n, a[k]), got = clean_type(c, cn, a[k]);
            if (want != got)
                FAIL("type at 0x%llx: %u, reference %u", (unsigned long long)a[k], got, want);
        }
    }
    for (int k = 0; k < 24; k++) {
        uint64_t r = next_rand();
        uint64_t addr = r;
        if (n && (k & 1)) /* near an entry */
            addr = in[r % n].base + ((uint64_t)(int64_t)(int8_t)(r >> 40) << ((r >> 56) % 20));
        if (ref_type(in, n, addr) != clean_type(c, cn, addr))
            FAIL("type at 0x%llx", (unsigned long long)addr);
    }
}

/* Kept bytes and pieces of e, walking it segment by segment: a segment is
 * the part of a clean region (found with memmap_find) or of a hole (up to
 * the next region, found by a linear scan) inside e. */
static void walk_entry(const struct mem_region *e, const struct mem_region *c, size_t cn,
                       uint64_t *kept, size_t *pieces)
{
    uint32_t t = ref_normal(e->type);
    uint64_t a = e->base, last = e->base + (e->length - 1);
    bool in_run = false;
    *kept = 0;
    *pieces = 0;
    for (;;) {
        const struct mem_region *r = memmap_find(c, cn, a);
        uint64_t seg_last = last;
        bool mine = false;
        if (r) {
            uint64_t r_last = r->base + (r->length - 1);
            seg_last = r_last < last ? r_last : last;
            mine = r->type == t;
        } else {
            for (size_t k = 0; k < cn; k++)
                if (c[k].base > a && c[k].base - 1 < seg_last)
                    seg_last = c[k].base - 1;
        }
        if (mine) {
            *kept += seg_last - a + 1;
            if (!in_run)
                (*pieces)++;
        }
        in_run = mine;
        if (seg_last >= last)
            return;
        a = seg_last + 1;
    }
}

static void check_explain(const struct mem_region *in, size_t n, const struct mem_region *c,
                          size_t cn, const struct memmap_summary *s)
{
    u128 kept_total = 0;
    bool claimed[2 * MAX_ENTRIES + 2] = { false };
    for (size_t i = 0; i < n; i++) {
        struct memmap_explanation x;
        memmap_explain(in, i, c, cn, &x);
        const struct mem_region *e = &in[i];
        if (e->length == 0) {
            if (x.fate != MEMMAP_DROPPED_ZERO)
                FAIL("entry %zu: empty but fate %d", i, x.fate);
            continue;
        }
        if (!valid(e)) {
            if (x.fate != MEMMAP_DROPPED_WRAP)
                FAIL("entry %zu: wraps but fate %d", i, x.fate);
            continue;
        }
        uint32_t t = ref_normal(e->type);
        if (x.kept_bytes > e->length)
            FAIL("entry %zu: kept %llu of %llu", i, (unsigned long long)x.kept_bytes,
                 (unsigned long long)e->length);
        if ((x.fate == MEMMAP_DROPPED_COVERED) != (x.kept_bytes == 0))
            FAIL("entry %zu: fate %d with %llu kept", i, x.fate,
                 (unsigned long long)x.kept_bytes);
        if ((x.fate == MEMMAP_TRIMMED) != (x.kept_bytes > 0 && x.kept_bytes < e->length))
            FAIL("entry %zu: fate %d with %llu kept", i, x.fate,
                 (unsigned long long)x.kept_bytes);
        if ((x.pieces == 0) != (x.kept_bytes == 0) || x.pieces > x.kept_bytes)
            FAIL("entry %zu: %zu pieces, %llu kept", i, x.pieces,
                 (unsigned long long)x.kept_bytes);
        if (x.fate == MEMMAP_TRIMMED || x.fate == MEMMAP_DROPPED_COVERED) {
            if (x.by_type < 1 || x.by_type > 5 ||
                ref_priority(x.by_type) <= ref_priority(t))
                FAIL("entry %zu (type %u) lost bytes to type %u", i, t, x.by_type);
        }
        if (x.fate == MEMMAP_KEPT || x.fate == MEMMAP_MERGED) {
            if (x.clean_index >= cn)
                FAIL("entry %zu: clean index %zu of %zu", i, x.clean_index, cn);
            const struct mem_region *h = &c[x.clean_index];
            if (h->type != t || e->base < h->base || e->base - h->base >= h->length)
                FAIL("entry %zu: region %zu does not hold its base", i, x.clean_index);
            bool exact = h->base == e->base && h->length == e->length;
            if (exact != (x.fate == MEMMAP_KEPT))
                FAIL("entry %zu: fate %d, exact %d", i, x.fate, exact);
            if (x.fate == MEMMAP_KEPT && !claimed[x.clean_index]) {
                claimed[x.clean_index] = true;
                kept_total += h->length;
            }
        }
        /* The sampled bytes of the entry agree with kept_bytes. */
        uint64_t probe[3] = { e->base, e->base + (e->length - 1), e->base + e->length / 2 };
        for (int k = 0; k < 3; k++) {
            bool mine = clean_type(c, cn, probe[k]) == t;
            if (mine && x.kept_bytes == 0)
                FAIL("entry %zu: byte 0x%llx kept but kept_bytes 0", i,
                     (unsigned long long)probe[k]);
            if (!mine && x.kept_bytes == e->length)
                FAIL("entry %zu: byte 0x%llx lost but all kept", i, (unsigned long long)probe[k]);
        }
        uint64_t kept;
        size_t pieces;
        walk_entry(e, c, cn, &kept, &pieces);
        if (kept != x.kept_bytes || pieces != x.pieces)
            FAIL("entry %zu: kept %llu in %zu, walk %llu in %zu", i,
                 (unsigned long long)x.kept_bytes, x.pieces, (unsigned long long)kept, pieces);
    }
    if (kept_total > (u128)s->total_bytes + (s->total_bytes == MAX64 ? 1 : 0))
        FAIL("kept regions add up to more than the map");
}

static void check_summary(const struct mem_region *c, size_t cn, const struct memmap_summary *s)
{
    u128 total = 0, by[MEM_TYPE_COUNT] = { 0 }, above = 0, above_usable = 0;
    uint64_t end = 0;
    size_t regions_above = 0;
    for (size_t i = 0; i < cn; i++) {
        u128 last = (u128)c[i].base + c[i].length - 1;
        total += c[i].length;
        by[c[i].type] += c[i].length;
        if (c[i].type == MEM_AVAILABLE && c[i].base < G4) {
            u128 e = last < G4 ? last + 1 : G4;
            if (e > end)
                end = (uint64_t)e;
        }
        if (last >= G4) {
            u128 from = c[i].base > G4 ? c[i].base : G4;
            above += last - from + 1;
            if (c[i].type == MEM_AVAILABLE)
                above_usable += last - from + 1;
            regions_above++;
        }
    }
#define SAT(v) ((v) > MAX64 ? MAX64 : (uint64_t)(v))
    if (s->total_bytes != SAT(total))
        FAIL("total %llu", (unsigned long long)s->total_bytes);
    for (int t = 0; t < MEM_TYPE_COUNT; t++)
        if (s->bytes_by_type[t] != SAT(by[t]))
            FAIL("bytes of type %d", t);
    if (s->usable_bytes != SAT(by[MEM_AVAILABLE]))
        FAIL("usable bytes");
    if (s->usable_end_below_4g != end)
        FAIL("usable end 0x%llx, reference 0x%llx", (unsigned long long)s->usable_end_below_4g,
             (unsigned long long)end);
    if (s->above_4g_bytes != SAT(above) || s->above_4g_usable != SAT(above_usable) ||
        s->regions_above_4g != regions_above)
        FAIL("above 4 GiB");
}

static void oracle(const struct mem_region *in, size_t n, size_t extra_cap)
{
    static struct mem_region clean[2 * MAX_ENTRIES + 2], again[2 * MAX_ENTRIES + 2];
    size_t cn, an;
    struct memmap_sanitize_report rep;
    cur_in = in;
    cur_n = n;

    /* 2n - 1 runs at most; the 2^64-byte run needs 2 slots for 1 entry. */
    size_t roomy = 2 * n + 1;
    if (sanitize_copy(in, n, roomy, clean, &cn, &rep) != 0)
        FAIL("sanitize failed with capacity %zu", roomy);
    size_t zero = 0, wrapped = 0;
    for (size_t i = 0; i < n; i++) {
        zero += in[i].length == 0;
        wrapped += in[i].length != 0 && !valid(&in[i]);
    }
    if (rep.zero_length != zero || rep.wrapped != wrapped)
        FAIL("report %zu zero %zu wrapped, reference %zu %zu", rep.zero_length, rep.wrapped,
             zero, wrapped);

    check_shape(clean, cn);
    check_meaning(in, n, clean, cn);

    /* Idempotence. */
    if (sanitize_copy(clean, cn, cn, again, &an, &rep) != 0 || an != cn ||
        !same_regions(again, clean, cn))
        FAIL("a second sanitize changed the map");
    if (rep.zero_length || rep.wrapped)
        FAIL("a clean map has empty or wrapping regions");

    /* Capacity: one too few, exactly enough, and one from the input. */
    if (cn > 0 && sanitize_copy(in, n, cn - 1, again, &an, NULL) != MEMMAP_ERR_CAPACITY)
        FAIL("capacity %zu accepted for %zu regions", cn - 1, cn);
    if (sanitize_copy(in, n, cn, again, &an, NULL) != 0 || an != cn ||
        !same_regions(again, clean, cn))
        FAIL("capacity %zu gave another result", cn);
    int rc = sanitize_copy(in, n, extra_cap, again, &an, NULL);
    if ((rc == 0) != (extra_cap >= cn) ||
        (rc == 0 && (an != cn || !same_regions(again, clean, cn))))
        FAIL("capacity %zu: rc %d", extra_cap, rc);

    struct memmap_summary s;
    memmap_summarize(clean, cn, &s);
    check_summary(clean, cn, &s);
    check_explain(in, n, clean, cn, &s);
}

/* ---- the two inputs ---------------------------------------------------------- */

/* The parser against a walk that copies whole packed entries. */
static size_t parse_raw(const uint8_t *data, size_t len, struct mem_region *out)
{
    struct memmap_parse_result r;
    memset(out, 0x3c, MAX_ENTRIES * sizeof(*out));
    memmap_parse_multiboot(data, len, out, MAX_ENTRIES, &r);

    size_t off = 0, count = 0;
    bool bad = false, cut = false;
    uint32_t stop_size = 0;
    while (off < len) {
        struct multiboot_mmap_entry e;
        if (len - off < 4) {
            cut = true;
            break;
        }
        memcpy(&e.size, data + off, 4);
        stop_size = e.size;
        if (e.size < 20) {
            bad = true;
            break;
        }
        if ((uint64_t)e.size + 4 > len - off) {
            cut = true;
            break;
        }
        memcpy(&e, data + off, sizeof(e));
        if (count < MAX_ENTRIES) {
            if (out[count].base != e.addr || out[count].length != e.len ||
                out[count].type != e.type)
                FAIL("entry %zu at offset %zu parsed wrong", count, off);
        }
        count++;
        off += (size_t)e.size + 4;
        stop_size = 0;
    }
    size_t stored = count < MAX_ENTRIES ? count : MAX_ENTRIES;
    if (r.stored != stored || r.ignored != count - stored || r.bad_size != bad ||
        r.cut_short != cut || r.stop_offset != off || (bad && r.stop_size != stop_size))
        FAIL("parse result: stored %zu ignored %zu bad %d cut %d at %u; reference %zu %zu %d "
             "%d %zu",
             r.stored, r.ignored, r.bad_size, r.cut_short, r.stop_offset, stored,
             count - stored, bad, cut, off);
    if (stored < MAX_ENTRIES && out[stored].base != 0x3c3c3c3c3c3c3c3cull)
        FAIL("parse wrote past the entries it stored");
    return stored;
}

static const uint64_t bases[16] = {
    0, 0x1000, 0x9fc00, 0xa0000, 0xf0000, 0x100000, 0x7fe0000, 0xbffe0000,
    0xfffc0000, G4 - 1, G4, 0x180000000ull, 1ull << 63, MAX64 - 0xfff, MAX64, 0x40,
};
static const uint64_t lengths[16] = {
    0, 1, 0x10, 0x400, 0x1000, 0x10000, 0x9fc00, 0x100000,
    0x7ee0000, 0x80000000, G4, 1ull << 63, MAX64 - 0xfff, MAX64, 0x20, 0x40,
};

/* 4 bytes -> one entry, encoded into a Multiboot buffer and parsed back. */
static size_t decode(const uint8_t *data, size_t len, struct mem_region *out)
{
    static uint8_t buf[MAX_ENTRIES * 28];
    struct mem_region want[MAX_ENTRIES];
    size_t n = len / 4 < MAX_ENTRIES ? len / 4 : MAX_ENTRIES, at = 0;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *d = data + 4 * i;
        unsigned shift = 6 * ((d[0] >> 4) & 3); /* offset steps of 1, 64, 4 KiB, 256 KiB */
        uint64_t base = bases[d[0] & 15] + ((uint64_t)(int64_t)(int8_t)d[1] << shift);
        uint64_t length = lengths[d[2] & 15] + (uint64_t)(int64_t)((int8_t)d[2] >> 4);
        if (d[0] & 0x80) /* small numbers: lots of overlap in few bytes */
            base = d[1] & 0x7f;
        uint32_t type = d[3] & 7;
        if (d[3] & 0x80)
            type = 0xffffff00u | d[3];
        want[i] = (struct mem_region){ base, length, type };

        struct multiboot_mmap_entry e = { (d[3] & 0x40) ? 24 : 20, base, length, type };
        memset(buf + at, 0xcd, e.size + 4);
        memcpy(buf + at, &e, sizeof(e));
        at += e.size + 4;
    }
    struct memmap_parse_result r;
    memmap_parse_multiboot(buf, at, out, MAX_ENTRIES, &r);
    if (r.stored != n || r.ignored || r.bad_size || r.cut_short || r.stop_offset != at ||
        !same_regions(out, want, n))
        FAIL("an encoded map did not parse back");
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    static struct mem_region in[MAX_ENTRIES];
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a seeds the sampled addresses */
    for (size_t i = 0; i < len; i++)
        h = (h ^ data[i]) * 0x100000001b3ull;
    rng = h | 1;
    size_t extra_cap = len ? data[len - 1] % 64 : 0;

    size_t n = parse_raw(data, len, in);
    oracle(in, n, extra_cap);
    n = decode(data, len, in);
    oracle(in, n, extra_cap);
    return 0;
}
