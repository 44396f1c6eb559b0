/*
 * test_memmap.c - the memory map: sanitizing, parsing the Multiboot
 * buffer, summaries, lookups and explanations.
 *
 * Maps are written by hand as arrays of {base, length, type}; the two real
 * maps QEMU gives (-m 128M and -m 5G, pc machine) are regression cases.  A
 * small model-based test at the end compares sanitize against a byte-by-
 * byte reference on random maps over a few dozen addresses.
 */
#include <stdlib.h>

#include "check.h"
#include "kernel/memmap.h"

#define AV MEM_AVAILABLE
#define RS MEM_RESERVED
#define AR MEM_ACPI_RECLAIMABLE
#define AN MEM_ACPI_NVS
#define UN MEM_UNUSABLE

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define MAX64 UINT64_MAX
#define G4 0x100000000ull

/* Field by field: the padding after `type` (on a 64-bit host) is not
 * part of a region's value. */
static bool same_regions(const struct mem_region *a, const struct mem_region *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i].base != b[i].base || a[i].length != b[i].length || a[i].type != b[i].type)
            return false;
    return true;
}

static struct mem_region work[300];
static size_t work_n;
static struct memmap_sanitize_report rep;

/* Copies in[] to work[] and sanitizes it with the given capacity. */
static int sanitize(const struct mem_region *in, size_t n, size_t cap)
{
    memset(work, 0x5a, sizeof(work));
    memcpy(work, in, n * sizeof(in[0]));
    work_n = n;
    memset(&rep, 0x5a, sizeof(rep));
    return memmap_sanitize_report(work, &work_n, cap, &rep);
}

/* Checks work[0, work_n) against want[] entry by entry. */
#define CHECK_MAP(want)                                                    \
    do {                                                                   \
        CHECK_EQ_U64(work_n, N(want));                                     \
        for (size_t i_ = 0; i_ < N(want) && i_ < work_n; i_++) {           \
            CHECK_EQ_U64(work[i_].base, (want)[i_].base);                  \
            CHECK_EQ_U64(work[i_].length, (want)[i_].length);              \
            CHECK_EQ_U64(work[i_].type, (want)[i_].type);                  \
        }                                                                  \
    } while (0)

/* Sanitizes in[] (capacity 300) and expects want[]; then checks that a
 * second run changes nothing. */
#define EXPECT(in, want)                                                   \
    do {                                                                   \
        CHECK_EQ_U64(sanitize(in, N(in), N(work)), 0);                     \
        CHECK_MAP(want);                                                   \
        struct mem_region again_[300];                                     \
        size_t again_n_ = work_n;                                          \
        memcpy(again_, work, sizeof(work));                                \
        CHECK_EQ_U64(memmap_sanitize(again_, &again_n_, N(again_)), 0);    \
        CHECK_EQ_U64(again_n_, work_n);                                    \
        CHECK(same_regions(again_, work, work_n));                         \
    } while (0)

/* ---- type helpers -------------------------------------------------------- */

static void test_types(void)
{
    CHECK_EQ_U64(memmap_type_priority(AV), 0);
    CHECK_EQ_U64(memmap_type_priority(AR), 1);
    CHECK_EQ_U64(memmap_type_priority(AN), 2);
    CHECK_EQ_U64(memmap_type_priority(RS), 3);
    CHECK_EQ_U64(memmap_type_priority(UN), 4);
    CHECK_EQ_U64(memmap_type_priority(0), 3);
    CHECK_EQ_U64(memmap_type_priority(6), 3);
    CHECK_EQ_U64(memmap_type_priority(0xffffffff), 3);
    for (uint32_t t = 1; t <= 5; t++)
        CHECK_EQ_U64(memmap_normal_type(t), t);
    CHECK_EQ_U64(memmap_normal_type(0), RS);
    CHECK_EQ_U64(memmap_normal_type(12), RS);
    CHECK_STR_EQ(memmap_type_name(AV), "available");
    CHECK_STR_EQ(memmap_type_name(RS), "reserved");
    CHECK_STR_EQ(memmap_type_name(AR), "ACPI reclaimable");
    CHECK_STR_EQ(memmap_type_name(AN), "ACPI NVS");
    CHECK_STR_EQ(memmap_type_name(UN), "unusable");
    CHECK_STR_EQ(memmap_type_name(0), "unknown");
    CHECK_STR_EQ(memmap_type_name(7), "unknown");
}

/* ---- sanitize: hand-made maps ------------------------------------------- */

static void test_empty(void)
{
    work_n = 0;
    CHECK_EQ_U64(memmap_sanitize(NULL, &work_n, 0), 0);
    CHECK_EQ_U64(work_n, 0);
    static const struct mem_region only_zero[] = { { 0x1000, 0, AV }, { 0, 0, RS } };
    CHECK_EQ_U64(sanitize(only_zero, 2, 0), 0);
    CHECK_EQ_U64(work_n, 0);
    CHECK_EQ_U64(rep.zero_length, 2);
    CHECK_EQ_U64(rep.wrapped, 0);
}

static void test_overlap_orders(void)
{
    static const struct mem_region a[] = { { 0, 0x2000, AV }, { 0x1000, 0x2000, RS } };
    static const struct mem_region b[] = { { 0x1000, 0x2000, RS }, { 0, 0x2000, AV } };
    static const struct mem_region want[] = { { 0, 0x1000, AV }, { 0x1000, 0x2000, RS } };
    EXPECT(a, want);
    EXPECT(b, want);
    /* The reserved one first in memory, the available one overlapping its end. */
    static const struct mem_region c[] = { { 0x1800, 0x1000, AV }, { 0x1000, 0x1000, RS } };
    static const struct mem_region want_c[] = { { 0x1000, 0x1000, RS }, { 0x2000, 0x800, AV } };
    EXPECT(c, want_c);
}

static void test_unsorted_and_touching(void)
{
    static const struct mem_region in[] = {
        { 0x5000, 0x1000, RS }, { 0x3000, 0x1000, AV }, { 0x0, 0x1000, AV },
        { 0x1000, 0x1000, AV }, /* touches the one at 0: merged */
        { 0x4000, 0x1000, AR }, /* touches 0x3000 available: a different type */
    };
    static const struct mem_region want[] = {
        { 0x0, 0x2000, AV }, { 0x3000, 0x1000, AV }, /* the hole at 0x2000 stays */
        { 0x4000, 0x1000, AR }, { 0x5000, 0x1000, RS },
    };
    EXPECT(in, want);
    CHECK(memmap_find(work, work_n, 0x2000) == NULL);
    CHECK(memmap_find(work, work_n, 0x2fff) == NULL);
}

static void test_zero_length(void)
{
    static const struct mem_region in[] = {
        { 0x1000, 0, RS }, { 0, 0x1000, AV }, { 0x800, 0, UN }, { 0x2000, 0x1000, AV },
        { 0x0, 0, AV }, /* the last entry */
    };
    static const struct mem_region want[] = { { 0, 0x1000, AV }, { 0x2000, 0x1000, AV } };
    EXPECT(in, want);
    CHECK_EQ_U64(sanitize(in, N(in), 300), 0);
    CHECK_EQ_U64(rep.zero_length, 3);
    CHECK_EQ_U64(rep.wrapped, 0);
}

static void test_wrapping(void)
{
    static const struct mem_region in[] = {
        { 0xfffffffffffff000ull, 0x2000, RS }, /* ends past 2^64: dropped */
        { 0x1000, MAX64, UN },                 /* so does this */
        { MAX64, 2, AV },
        { 0, 0x1000, AV },
        { 0xffffffffffffe000ull, 0x2000, AV }, /* ends exactly at 2^64: kept */
        { MAX64, 1, AR },                      /* the very last byte */
    };
    static const struct mem_region want[] = {
        { 0, 0x1000, AV }, { 0xffffffffffffe000ull, 0x1fff, AV }, { MAX64, 1, AR },
    };
    EXPECT(in, want);
    CHECK_EQ_U64(sanitize(in, N(in), 300), 0);
    CHECK_EQ_U64(rep.wrapped, 3);
    CHECK_EQ_U64(rep.zero_length, 0);
}

static void test_whole_space(void)
{
    /* One run over all 2^64 bytes has no 64-bit length: two regions. */
    static const struct mem_region in[] = { { 0, MAX64, AV }, { 1, MAX64, AV } };
    static const struct mem_region want[] = { { 0, MAX64, AV }, { MAX64, 1, AV } };
    EXPECT(in, want);
    CHECK_EQ_U64(sanitize(in, N(in), 1), MEMMAP_ERR_CAPACITY);
    CHECK(memcmp(work, in, sizeof(in)) == 0);
    CHECK_EQ_U64(work_n, 2);
    /* With a different type in the middle it is three ordinary regions. */
    static const struct mem_region mid[] = { { 0, MAX64, AV }, { 1, MAX64, AV },
                                             { 0x1000, 0x1000, RS } };
    static const struct mem_region want_mid[] = { { 0, 0x1000, AV }, { 0x1000, 0x1000, RS },
                                                  { 0x2000, MAX64 - 0x1fff, AV } };
    EXPECT(mid, want_mid);
    struct memmap_summary s;
    memmap_summarize(want, 2, &s);
    CHECK_EQ_U64(s.total_bytes, MAX64); /* 2^64, saturated */
    CHECK_EQ_U64(s.usable_bytes, MAX64);
    CHECK_EQ_U64(s.above_4g_bytes, MAX64 - G4 + 1);
    CHECK_EQ_U64(s.usable_end_below_4g, G4);
}

static void test_unaligned(void)
{
    static const struct mem_region in[] = {
        { 0x123, 0x456, AV }, { 0x400, 0x7, RS },
        { 0x577, 0x10, AV }, /* overlaps the first's end */
    };
    static const struct mem_region want[] = {
        { 0x123, 0x2dd, AV }, { 0x400, 0x7, RS }, { 0x407, 0x180, AV },
    };
    EXPECT(in, want);
}

static void test_above_4g(void)
{
    static const struct mem_region in[] = {
        { 0x200000000ull, 0x1000, RS }, { 0xf0000000, 0x20000000, AV }, /* crosses 4 GiB */
        { G4, 0x1000, UN }, { 0x180000000ull, 0x100000000ull, AV },
    };
    static const struct mem_region want[] = {
        { 0xf0000000, 0x10000000, AV }, { G4, 0x1000, UN },
        { G4 + 0x1000, 0x10000000 - 0x1000, AV }, { 0x180000000ull, 0x80000000, AV },
        { 0x200000000ull, 0x1000, RS }, { 0x200001000ull, 0x7ffff000, AV },
    };
    EXPECT(in, want);
}

static void test_unknown_types(void)
{
    static const struct mem_region in[] = {
        { 0, 0x1000, 0 }, { 0x1000, 0x1000, 7 }, { 0x2000, 0x1000, RS },
        { 0x2800, 0x1000, 0xffffffff }, { 0x800, 0x100, AN }, { 0x3000, 0x2000, AV },
    };
    static const struct mem_region want[] = { { 0, 0x3800, RS }, { 0x3800, 0x1800, AV } };
    EXPECT(in, want);
}

static void test_inside_and_duplicates(void)
{
    static const struct mem_region in[] = { { 0, 0x10000, AV }, { 0x4000, 0x1000, RS } };
    static const struct mem_region want[] = {
        { 0, 0x4000, AV }, { 0x4000, 0x1000, RS }, { 0x5000, 0xb000, AV },
    };
    EXPECT(in, want);
    static const struct mem_region dup[] = {
        { 0x1000, 0x1000, AN }, { 0x1000, 0x1000, AN }, { 0x1000, 0x1000, AN },
    };
    static const struct mem_region want_dup[] = { { 0x1000, 0x1000, AN } };
    EXPECT(dup, want_dup);
    /* Lower priority inside higher: disappears. */
    static const struct mem_region under[] = { { 0, 0x10000, RS }, { 0x4000, 0x1000, AV } };
    static const struct mem_region want_under[] = { { 0, 0x10000, RS } };
    EXPECT(under, want_under);
    /* Covered by two higher entries of different types together. */
    static const struct mem_region two[] = {
        { 0x1000, 0x1000, RS }, { 0x2000, 0x1000, UN }, { 0x1800, 0x1000, AV },
    };
    static const struct mem_region want_two[] = { { 0x1000, 0x1000, RS }, { 0x2000, 0x1000, UN } };
    EXPECT(two, want_two);
}

static void test_acpi(void)
{
    static const struct mem_region in[] = {
        { 0, 0x10000, AV }, { 0x8000, 0x4000, AR }, { 0xa000, 0x4000, AN },
        { 0xe000, 0x1000, AR }, /* touches NVS: stays its own */
    };
    static const struct mem_region want[] = {
        { 0, 0x8000, AV }, { 0x8000, 0x2000, AR }, { 0xa000, 0x4000, AN },
        { 0xe000, 0x1000, AR }, { 0xf000, 0x1000, AV },
    };
    EXPECT(in, want);
}

/* For every ordered pair of types (and an unknown one): the overlap takes
 * the higher priority, each end keeps its own type. */
static void test_priority_pairs(void)
{
    static const uint32_t types[] = { AV, AR, AN, RS, UN, 9 };
    for (size_t i = 0; i < N(types); i++) {
        for (size_t j = 0; j < N(types); j++) {
            struct mem_region in[2] = { { 0, 0x3000, types[i] }, { 0x2000, 0x3000, types[j] } };
            uint32_t a = memmap_normal_type(types[i]), b = memmap_normal_type(types[j]);
            uint32_t win = memmap_type_priority(a) >= memmap_type_priority(b) ? a : b;
            CHECK_EQ_U64(sanitize(in, 2, 10), 0);
            const struct mem_region *r;
            CHECK((r = memmap_find(work, work_n, 0x1fff)) && r->type == a);
            CHECK((r = memmap_find(work, work_n, 0x2000)) && r->type == win);
            CHECK((r = memmap_find(work, work_n, 0x2fff)) && r->type == win);
            CHECK((r = memmap_find(work, work_n, 0x3000)) && r->type == b);
            CHECK_EQ_U64(work_n, a == b ? 1 : 2);
            CHECK(memmap_find(work, work_n, 0x5000) == NULL);
        }
    }
}

static void test_capacity(void)
{
    /* Needs 3 regions. */
    static const struct mem_region in[] = { { 0, 0x10000, AV }, { 0x4000, 0x1000, RS } };
    CHECK_EQ_U64(sanitize(in, N(in), 2), MEMMAP_ERR_CAPACITY);
    CHECK_EQ_U64(work_n, 2);
    CHECK(memcmp(work, in, sizeof(in)) == 0);
    CHECK_EQ_U64(sanitize(in, N(in), 3), 0);
    CHECK_EQ_U64(work_n, 3);

    /* More entries than capacity, but the result fits: fine. */
    static const struct mem_region many[] = {
        { 0, 0x1000, AV }, { 0x1000, 0x1000, AV }, { 0x2000, 0x1000, AV }, { 0, 0x3000, AV },
    };
    CHECK_EQ_U64(sanitize(many, N(many), 1), 0);
    CHECK_EQ_U64(work_n, 1);
    CHECK_EQ_U64(work[0].length, 0x3000);

    /* The worst case: 128 entries become 255 regions. */
    static struct mem_region big[128];
    big[0] = (struct mem_region){ 0, 0x10000000000ull, AV };
    for (size_t i = 1; i < 128; i++)
        big[i] = (struct mem_region){ 0x100000 * (128 - i), 0x1000, i % 2 ? RS : UN };
    CHECK_EQ_U64(sanitize(big, 128, 254), MEMMAP_ERR_CAPACITY);
    CHECK_EQ_U64(work_n, 128);
    CHECK(memcmp(work, big, sizeof(big)) == 0);
    CHECK_EQ_U64(sanitize(big, 128, 255), 0);
    CHECK_EQ_U64(work_n, 255);
    for (size_t i = 0; i < work_n; i++) {
        CHECK_EQ_U64(work[i].type, i % 2 == 0 ? AV : ((i + 1) / 2) % 2 ? RS : UN);
        if (i > 0)
            CHECK_EQ_U64(work[i].base, work[i - 1].base + work[i - 1].length);
    }
    CHECK_EQ_U64(work[254].base + work[254].length, 0x10000000000ull);
}

/* ---- the maps QEMU really gives ------------------------------------------ */

static const struct mem_region qemu_128m[] = {
    { 0x0, 0x9fc00, AV },       { 0x9fc00, 0x400, RS },     { 0xf0000, 0x10000, RS },
    { 0x100000, 0x7ee0000, AV }, { 0x7fe0000, 0x20000, RS }, { 0xfffc0000, 0x40000, RS },
};

static const struct mem_region qemu_5g[] = {
    { 0x0, 0x9fc00, AV },          { 0x9fc00, 0x400, RS },        { 0xf0000, 0x10000, RS },
    { 0x100000, 0xbfee0000, AV },  { 0xbffe0000, 0x20000, RS },   { 0xfffc0000, 0x40000, RS },
    { 0x100000000ull, 0x80000000, AV },
};

static void test_qemu_maps(void)
{
    EXPECT(qemu_128m, qemu_128m); /* already clean: unchanged */
    struct memmap_summary s;
    memmap_summarize(work, work_n, &s);
    CHECK_EQ_U64(s.usable_bytes, 0x9fc00 + 0x7ee0000);
    CHECK_EQ_U64(s.bytes_by_type[AV], 0x9fc00 + 0x7ee0000);
    CHECK_EQ_U64(s.bytes_by_type[RS], 0x400 + 0x10000 + 0x20000 + 0x40000);
    CHECK_EQ_U64(s.total_bytes, 0x9fc00 + 0x7ee0000 + 0x400 + 0x10000 + 0x20000 + 0x40000);
    CHECK_EQ_U64(s.usable_end_below_4g, 0x7fe0000);
    CHECK_EQ_U64(s.above_4g_bytes, 0);
    CHECK_EQ_U64(s.regions_above_4g, 0);

    EXPECT(qemu_5g, qemu_5g);
    memmap_summarize(work, work_n, &s);
    CHECK_EQ_U64(s.usable_end_below_4g, 0xbffe0000);
    CHECK_EQ_U64(s.usable_bytes, 0x9fc00 + 0xbfee0000 + 0x80000000ull);
    CHECK_EQ_U64(s.above_4g_bytes, 0x80000000);
    CHECK_EQ_U64(s.above_4g_usable, 0x80000000);
    CHECK_EQ_U64(s.regions_above_4g, 1);

    /* The same entries shuffled, duplicated and with junk still give it. */
    struct mem_region mixed[12];
    for (size_t i = 0; i < N(qemu_5g); i++)
        mixed[i] = qemu_5g[N(qemu_5g) - 1 - i];
    mixed[7] = qemu_5g[3];
    mixed[8] = (struct mem_region){ 0x500, 0, RS };
    mixed[9] = (struct mem_region){ 0x200000, 0x1000, AV };
    mixed[10] = (struct mem_region){ MAX64 - 5, 10, UN };
    mixed[11] = (struct mem_region){ 0xf8000, 0x100, AV };
    CHECK_EQ_U64(sanitize(mixed, 12, 300), 0);
    CHECK_MAP(qemu_5g);
    CHECK_EQ_U64(rep.zero_length, 1);
    CHECK_EQ_U64(rep.wrapped, 1);
}

/* ---- summarize and find --------------------------------------------------- */

static void test_summarize(void)
{
    static const struct mem_region m[] = {
        { 0x1000, 0x1000, AR }, { 0x2000, 0x1000, AN }, { 0x3000, 0x1000, UN },
        { 0xf0000000, 0x20000000, AV }, { 0x180000000ull, 0x1000, RS },
    };
    struct memmap_summary s;
    memset(&s, 0x5a, sizeof(s));
    memmap_summarize(m, N(m), &s);
    CHECK_EQ_U64(s.usable_end_below_4g, G4); /* exactly 4 GiB */
    CHECK_EQ_U64(s.usable_bytes, 0x20000000);
    CHECK_EQ_U64(s.above_4g_bytes, 0x10000000 + 0x1000);
    CHECK_EQ_U64(s.above_4g_usable, 0x10000000);
    CHECK_EQ_U64(s.regions_above_4g, 2);
    CHECK_EQ_U64(s.bytes_by_type[0], 0);
    CHECK_EQ_U64(s.bytes_by_type[AR], 0x1000);
    CHECK_EQ_U64(s.bytes_by_type[AN], 0x1000);
    CHECK_EQ_U64(s.bytes_by_type[UN], 0x1000);
    CHECK_EQ_U64(s.bytes_by_type[RS], 0x1000);
    CHECK_EQ_U64(s.total_bytes, 0x20000000 + 0x4000);

    /* Available only above 4 GiB; one ending exactly at 4 GiB. */
    static const struct mem_region hi[] = { { G4, 0x1000, AV } };
    memmap_summarize(hi, 1, &s);
    CHECK_EQ_U64(s.usable_end_below_4g, 0);
    CHECK_EQ_U64(s.above_4g_usable, 0x1000);
    static const struct mem_region edge[] = { { 0xfffff000, 0x1000, AV } };
    memmap_summarize(edge, 1, &s);
    CHECK_EQ_U64(s.usable_end_below_4g, G4);
    CHECK_EQ_U64(s.regions_above_4g, 0);
    memmap_summarize(NULL, 0, &s);
    CHECK_EQ_U64(s.total_bytes, 0);
}

static void test_find(void)
{
    static const struct mem_region m[] = {
        { 0x1000, 0x1000, AV }, { 0x3000, 0x1000, RS }, { 0x4000, 0x10, AN },
        { MAX64 - 0xf, 0x10, UN },
    };
    CHECK(memmap_find(m, N(m), 0) == NULL);
    CHECK(memmap_find(m, N(m), 0xfff) == NULL);
    CHECK(memmap_find(m, N(m), 0x1000) == &m[0]);
    CHECK(memmap_find(m, N(m), 0x1fff) == &m[0]);
    CHECK(memmap_find(m, N(m), 0x2000) == NULL);
    CHECK(memmap_find(m, N(m), 0x3000) == &m[1]);
    CHECK(memmap_find(m, N(m), 0x3fff) == &m[1]);
    CHECK(memmap_find(m, N(m), 0x4000) == &m[2]);
    CHECK(memmap_find(m, N(m), 0x400f) == &m[2]);
    CHECK(memmap_find(m, N(m), 0x4010) == NULL);
    CHECK(memmap_find(m, N(m), MAX64 - 0x10) == NULL);
    CHECK(memmap_find(m, N(m), MAX64 - 0xf) == &m[3]);
    CHECK(memmap_find(m, N(m), MAX64) == &m[3]);
    CHECK(memmap_find(m, 0, 0x1000) == NULL);
    CHECK(memmap_find(m, 1, 0x1000) == &m[0]);
}

/* ---- explain ------------------------------------------------------------- */

static void test_explain(void)
{
    static const struct mem_region raw[] = {
        /* 0 */ { 0x0, 0x1000, AV },        /* kept (a clean region is exactly it) */
        /* 1 */ { 0x10000, 0x4000, AV },    /* trimmed by 2 and 3: 3 pieces */
        /* 2 */ { 0x11000, 0x1000, RS },    /* kept */
        /* 3 */ { 0x12800, 0x400, UN },     /* kept */
        /* 4 */ { 0x11800, 0x100, AV },     /* dropped: under 2 */
        /* 5 */ { 0x20000, 0x1000, AN },    /* merged with 6 */
        /* 6 */ { 0x21000, 0x1000, AN },    /* merged with 5 */
        /* 7 */ { 0x5000, 0, RS },          /* zero */
        /* 8 */ { MAX64, 2, RS },           /* wraps */
        /* 9 */ { 0x0, 0x1000, AV },        /* a duplicate of 0: kept too */
        /* 10 */ { 0x30000, 0x1000, 77 },   /* unknown, kept as reserved */
        /* 11 */ { 0x30800, 0x1000, AR },   /* trimmed by the unknown one */
    };
    struct mem_region clean[32];
    size_t n = N(raw);
    memcpy(clean, raw, sizeof(raw));
    CHECK_EQ_U64(memmap_sanitize(clean, &n, N(clean)), 0);
    struct memmap_explanation x;

    memmap_explain(raw, 0, clean, n, &x);
    CHECK_EQ_U64(x.fate, MEMMAP_KEPT);
    CHECK_EQ_U64(x.kept_bytes, 0x1000);
    CHECK_EQ_U64(x.pieces, 1);
    CHECK_EQ_U64(x.clean_index, 0);
    memmap_explain(raw, 9, clean, n, &x);
    CHECK_EQ_U64(x.fate, MEMMAP_KEPT);
    CHECK_EQ_U64(x.clean_index, 0);

    memmap_explain(raw, 1, clean, n, &x);
    CHECK_EQ_U64(x.fate, MEMMAP_TRIMMED);
    CHECK_EQ_U64(x.kept_bytes, 0x4000 - 0x1000 - 0x400);
    CHECK_EQ_U64(x.pieces, 3);
    CHECK_EQ_U64(x.by_type, UN);

    memmap_explain(raw, 2, clean, n, &x);
    CHECK_EQ_U64(x.fate, MEMMAP_KEPT);
    CHECK_EQ_U64(clean[x.clean_index].base, 0x11000);
    CHECK_EQ_U64(x.kept_bytes, 0x1000);
    CHECK_EQ_U64(x.by_type, 0);

    memmap_explain(raw, 3, clean, n, &x);
    CHECK_EQ_U64(x.fate, MEMMAP_KEPT);
    CHECK_EQ_U64(clean[x.clean_index].base, 0x12800);

    memmap_explain(raw, 4, clean, n, &x);
    CHECK_EQ_U64(x.fate, MEMMAP_DROPPED_COVERED);
    CHECK_EQ_U64(x.by_type, RS);
    CHECK_EQ_U64(x.kept_bytes, 0);
    CHECK_EQ_U64(x.pieces, 0);

    memmap_explain(raw, 5, clean, n, &x);
    CHECK_EQ_U64(x.fate, MEMMAP_MERGED);
    CHECK_EQ_U64(clean[x.clean_index].base, 0x20000);
    CHECK_EQ_U64(clean[x.clean_index].length, 0x2000);
    memmap_explain(raw, 6, clean, n, &x);
    CHECK_EQ_U64(x.fate, MEMMAP_MERGED);
    CHECK_EQ_U64(clean[x.clean_index].base, 0x20000);

    memmap_explain(raw, 7, clean, n, &x);
    CHECK_EQ_U64(x.fate, MEMMAP_DROPPED_ZERO);
    CHECK_EQ_U64(x.kept_bytes, 0);
    memmap_explain(raw, 8, clean, n, &x);
    CHECK_EQ_U64(x.fate, MEMMAP_DROPPED_WRAP);

    memmap_explain(raw, 10, clean, n, &x);
    CHECK_EQ_U64(x.fate, MEMMAP_KEPT);
    CHECK_EQ_U64(clean[x.clean_index].type, RS);
    memmap_explain(raw, 11, clean, n, &x);
    CHECK_EQ_U64(x.fate, MEMMAP_TRIMMED);
    CHECK_EQ_U64(x.by_type, RS);
    CHECK_EQ_U64(x.kept_bytes, 0x800);
    CHECK_EQ_U64(x.pieces, 1);

    /* The whole 64-bit space: one run in two regions, still one piece. */
    static const struct mem_region all[] = { { 0, MAX64, AV }, { 1, MAX64, AV } };
    n = 2;
    memcpy(clean, all, sizeof(all));
    CHECK_EQ_U64(memmap_sanitize(clean, &n, N(clean)), 0);
    memmap_explain(all, 0, clean, n, &x);
    CHECK_EQ_U64(x.fate, MEMMAP_KEPT);
    memmap_explain(all, 1, clean, n, &x);
    CHECK_EQ_U64(x.fate, MEMMAP_MERGED);
    CHECK_EQ_U64(x.pieces, 1);
    CHECK_EQ_U64(x.kept_bytes, MAX64);
    CHECK_EQ_U64(x.clean_index, 0);
}

/* ---- parse ---------------------------------------------------------------- */

static size_t put_entry(uint8_t *buf, size_t off, uint32_t size, uint64_t base, uint64_t len,
                        uint32_t type)
{
    uint8_t *p = buf + off;
    memset(p, 0xee, size + 4);
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(size >> (8 * i));
    for (int i = 0; i < 8; i++) {
        p[4 + i] = (uint8_t)(base >> (8 * i));
        p[12 + i] = (uint8_t)(len >> (8 * i));
    }
    for (int i = 0; i < 4; i++)
        p[20 + i] = (uint8_t)(type >> (8 * i));
    return off + size + 4;
}

static void test_parse_qemu(void)
{
    uint8_t buf[24 * 8 + 1];
    size_t len = 0;
    for (size_t i = 0; i < N(qemu_5g); i++)
        len = put_entry(buf + 1, len, 20, qemu_5g[i].base, qemu_5g[i].length, qemu_5g[i].type);
    struct mem_region out[8];
    struct memmap_parse_result r;
    /* buf + 1: the fields are nowhere near aligned. */
    memmap_parse_multiboot(buf + 1, len, out, N(out), &r);
    CHECK_EQ_U64(r.stored, N(qemu_5g));
    CHECK_EQ_U64(r.ignored, 0);
    CHECK(!r.bad_size);
    CHECK(!r.cut_short);
    CHECK_EQ_U64(r.stop_offset, len);
    CHECK(same_regions(out, qemu_5g, N(qemu_5g)));

    /* Capacity 4: three more are counted, not stored, not written. */
    memset(out, 0x77, sizeof(out));
    memmap_parse_multiboot(buf + 1, len, out, 4, &r);
    CHECK_EQ_U64(r.stored, 4);
    CHECK_EQ_U64(r.ignored, 3);
    CHECK_EQ_U64(out[4].base, 0x7777777777777777ull);
    CHECK(!r.bad_size && !r.cut_short);

    /* The buffer ends inside the last entry, and inside a size field. */
    memmap_parse_multiboot(buf + 1, len - 1, out, N(out), &r);
    CHECK_EQ_U64(r.stored, 6);
    CHECK(r.cut_short);
    CHECK(!r.bad_size);
    CHECK_EQ_U64(r.stop_offset, 6 * 24);
    CHECK_EQ_U64(r.stop_size, 20);
    memmap_parse_multiboot(buf + 1, 24 + 3, out, N(out), &r);
    CHECK_EQ_U64(r.stored, 1);
    CHECK(r.cut_short);
    CHECK_EQ_U64(r.stop_offset, 24);
    CHECK_EQ_U64(r.stop_size, 0);

    memmap_parse_multiboot(NULL, 0, out, N(out), &r);
    CHECK_EQ_U64(r.stored, 0);
    CHECK(!r.cut_short && !r.bad_size);
}

static void test_parse_sizes(void)
{
    uint8_t buf[256];
    size_t len = 0;
    len = put_entry(buf, len, 24, 0x1000, 0x2000, AV); /* 4 bytes of padding */
    len = put_entry(buf, len, 20, 0x5000, 0x100, RS);
    len = put_entry(buf, len, 36, 0xabcdef0123456789ull, 0x1122334455667788ull, 0xdeadbeef);
    size_t bad_at = len;
    len = put_entry(buf, len, 16, 0x9000, 0x1000, AV); /* too small: the walk stops */
    len = put_entry(buf, len, 20, 0xa000, 0x1000, AV);

    struct mem_region out[8];
    struct memmap_parse_result r;
    memmap_parse_multiboot(buf, len, out, N(out), &r);
    CHECK_EQ_U64(r.stored, 3);
    CHECK(r.bad_size);
    CHECK(!r.cut_short);
    CHECK_EQ_U64(r.stop_offset, bad_at);
    CHECK_EQ_U64(r.stop_size, 16);
    CHECK_EQ_U64(out[0].base, 0x1000);
    CHECK_EQ_U64(out[0].length, 0x2000);
    CHECK_EQ_U64(out[0].type, AV);
    CHECK_EQ_U64(out[1].base, 0x5000);
    CHECK_EQ_U64(out[1].type, RS);
    CHECK_EQ_U64(out[2].base, 0xabcdef0123456789ull);
    CHECK_EQ_U64(out[2].length, 0x1122334455667788ull);
    CHECK_EQ_U64(out[2].type, 0xdeadbeef); /* kept as given: no entry is changed here */

    /* A size of 0 in the first entry, and an absurd size. */
    put_entry(buf, 0, 0, 0, 0, 0);
    memmap_parse_multiboot(buf, 24, out, N(out), &r);
    CHECK_EQ_U64(r.stored, 0);
    CHECK(r.bad_size);
    CHECK_EQ_U64(r.stop_offset, 0);
    buf[0] = buf[1] = buf[2] = buf[3] = 0xff;
    memmap_parse_multiboot(buf, 24, out, N(out), &r);
    CHECK_EQ_U64(r.stored, 0);
    CHECK(r.cut_short);
    CHECK_EQ_U64(r.stop_size, 0xffffffff);
}

/* ---- a model-based test ---------------------------------------------------- */

/* Random maps over addresses 0..63 (and a few near 2^64) against a byte-
 * by-byte reference; each clean map is also checked for its shape. */
static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static uint32_t ref_type(const struct mem_region *in, size_t n, uint64_t addr)
{
    int best = -1;
    uint32_t t = 0;
    for (size_t i = 0; i < n; i++) {
        if (in[i].length == 0 || in[i].length - 1 > MAX64 - in[i].base)
            continue;
        if (addr >= in[i].base && addr - in[i].base <= in[i].length - 1 &&
            memmap_type_priority(in[i].type) > best) {
            best = memmap_type_priority(in[i].type);
            t = memmap_normal_type(in[i].type);
        }
    }
    return t;
}

static void test_model(void)
{
    unsigned long bad = 0;
    for (int round = 0; round < 3000; round++) {
        struct mem_region in[12];
        size_t n = next_rand() % 13;
        bool high = round % 4 == 3; /* near 2^64 instead of near 0 */
        for (size_t i = 0; i < n; i++) {
            uint64_t base = next_rand() % 64, len = next_rand() % 24;
            in[i] = (struct mem_region){ high ? MAX64 - 63 + base : base, len,
                                         (uint32_t)(next_rand() % 7) };
        }
        size_t cap = next_rand() % 26, count = n;
        struct mem_region out[26];
        memcpy(out, in, n * sizeof(in[0]));
        int rc = memmap_sanitize(out, &count, cap);
        if (rc != 0) {
            if (rc != MEMMAP_ERR_CAPACITY || count != n || memcmp(out, in, n * sizeof(in[0])))
                bad++;
            continue;
        }
        if (count > cap)
            bad++;
        for (size_t i = 0; i < count; i++) {
            if (out[i].length == 0 || out[i].type < 1 || out[i].type > 5)
                bad++;
            if (i > 0 && out[i].base - out[i - 1].base < out[i - 1].length)
                bad++;
            if (i > 0 && out[i].base == out[i - 1].base + out[i - 1].length &&
                out[i].type == out[i - 1].type)
                bad++;
        }
        for (uint64_t a = 0; a < 90; a++) {
            uint64_t addr = high ? MAX64 - a : a;
            const struct mem_region *r = memmap_find(out, count, addr);
            if ((r ? r->type : 0) != ref_type(in, n, addr))
                bad++;
        }
    }
    CHECK_EQ_U64(bad, 0);
}

int main(void)
{
    RUN(test_types);
    RUN(test_empty);
    RUN(test_overlap_orders);
    RUN(test_unsorted_and_touching);
    RUN(test_zero_length);
    RUN(test_wrapping);
    RUN(test_whole_space);
    RUN(test_unaligned);
    RUN(test_above_4g);
    RUN(test_unknown_types);
    RUN(test_inside_and_duplicates);
    RUN(test_acpi);
    RUN(test_priority_pairs);
    RUN(test_capacity);
    RUN(test_qemu_maps);
    RUN(test_summarize);
    RUN(test_find);
    RUN(test_explain);
    RUN(test_parse_qemu);
    RUN(test_parse_sizes);
    RUN(test_model);
    return check_summary("memmap");
}
