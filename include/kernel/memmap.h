/*
 * memmap.h - the firmware's memory map: read, cleaned, explained.
 *
 * The BIOS describes physical memory as a list of (base, length, type)
 * ranges, the "e820 map" after the BIOS call that returns it; the boot
 * loader hands it over in the Multiboot information.  The list may be
 * unsorted, overlapping, hold zero-length or wrapping entries and types
 * nobody knows.  This module keeps the list exactly as given (for the
 * `memmap raw` view), cleans a copy (memmap_sanitize), and computes the
 * facts the rest of the kernel needs (memmap_summarize).
 *
 * Ranges here are (base, length): the last byte is base + length - 1.
 * Everything stays 64-bit: a 32-bit kernel still sees RAM above 4 GiB in
 * the map, and must say that it cannot reach it (no PAE).
 *
 * Pure: memmap_sanitize, memmap_parse_multiboot, memmap_summarize,
 * memmap_explain and the name/priority helpers take all their state as
 * parameters (host-tested, fuzzed).  memmap_init and the accessors below it
 * are the kernel's glue (src/memory/memmap_boot.c).
 */
#ifndef KERNEL_MEMMAP_H
#define KERNEL_MEMMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mem_region {
    uint64_t base;
    uint64_t length;
    uint32_t type;
};

/* The Multiboot / e820 numbering.  Any other number is treated as
 * reserved. */
enum mem_type {
    MEM_AVAILABLE = 1,
    MEM_RESERVED = 2,
    MEM_ACPI_RECLAIMABLE = 3,
    MEM_ACPI_NVS = 4,
    MEM_UNUSABLE = 5,
};
#define MEM_TYPE_COUNT 6 /* index 0 unused, 1..5 as above */

/* Error of memmap_sanitize. */
#define MEMMAP_ERR_CAPACITY (-1)

/* memmap_type_priority - who wins where entries overlap:
 * UNUSABLE 4 > RESERVED and unknown 3 > ACPI_NVS 2 > ACPI_RECLAIMABLE 1 >
 * AVAILABLE 0. */
int memmap_type_priority(uint32_t type);

/* memmap_normal_type - type itself for 1..5, MEM_RESERVED for anything
 * else. */
uint32_t memmap_normal_type(uint32_t type);

/* memmap_type_name - "available", "reserved", "ACPI reclaimable",
 * "ACPI NVS", "unusable" (bad RAM), "unknown" for other numbers. */
const char *memmap_type_name(uint32_t type);

/* What sanitizing dropped, for the caller to report. */
struct memmap_sanitize_report {
    size_t zero_length; /* entries with length 0 */
    size_t wrapped;     /* entries whose end passes 2^64 */
};

/*
 * memmap_sanitize - clean the map in place.  After it: no zero-length
 * region; regions sorted by base, none overlapping; neighbours of the same
 * type that touch are merged; every byte the input covered has the
 * (normalised) type of the highest-priority entry covering it (unknown
 * types become MEM_RESERVED); bytes no entry covered stay uncovered.  An
 * entry whose end passes 2^64 (base + length > 2^64) is dropped and
 * counted.  (One exception to "merged": a map covering all 2^64 bytes with
 * one type comes out as two touching regions, since a length of 2^64 does
 * not fit in 64 bits.)  Returns 0, or MEMMAP_ERR_CAPACITY if the result needs more
 * than `capacity` entries (then regions and *count are left as they
 * were).  Running it twice changes nothing.  report may be NULL.
 */
int memmap_sanitize(struct mem_region *regions, size_t *count, size_t capacity);
int memmap_sanitize_report(struct mem_region *regions, size_t *count, size_t capacity,
                           struct memmap_sanitize_report *report);

/* What walking a Multiboot memory-map buffer found. */
struct memmap_parse_result {
    size_t stored;        /* entries written to out */
    size_t ignored;       /* well-formed entries past capacity: counted only */
    bool bad_size;        /* the walk stopped at an entry whose size < 20 */
    bool cut_short;       /* the buffer ended inside an entry */
    uint32_t stop_offset; /* offset of the entry where the walk stopped */
    uint32_t stop_size;   /* its size field (when bad_size) */
};

/*
 * memmap_parse_multiboot - walk `length` bytes of Multiboot memory-map
 * entries ({u32 size; u64 base; u64 length; u32 type}, each followed by the
 * next at +size+4), copying base/length/type of each into out (up to
 * capacity, in the order given, unchanged: no entry is dropped here).
 * Never reads past buf + length.  Fields are read bytewise (the buffer may
 * be unaligned).
 */
void memmap_parse_multiboot(const void *buf, size_t length, struct mem_region *out,
                            size_t capacity, struct memmap_parse_result *result);

/* Facts about a sanitized map, computed once. */
struct memmap_summary {
    uint64_t bytes_by_type[MEM_TYPE_COUNT]; /* indexed by MEM_* */
    uint64_t total_bytes;          /* bytes covered by any region */
    uint64_t usable_bytes;         /* MEM_AVAILABLE bytes, anywhere */
    uint64_t usable_end_below_4g;  /* exclusive end of the highest
                                      available byte below 4 GiB (0: none);
                                      what the frame allocator must cover */
    uint64_t above_4g_bytes;       /* bytes of any type at or above 4 GiB */
    uint64_t above_4g_usable;      /* available bytes at or above 4 GiB */
    size_t regions_above_4g;       /* regions lying at least partly above */
};

/* memmap_summarize - fill s from a sanitized map. */
void memmap_summarize(const struct mem_region *regions, size_t count,
                      struct memmap_summary *s);

/* memmap_find - the region of a sanitized map holding addr (binary
 * search), or NULL when addr lies in a hole. */
const struct mem_region *memmap_find(const struct mem_region *regions, size_t count,
                                     uint64_t addr);

/* What sanitizing did to one raw entry (for `memmap raw`). */
enum memmap_fate {
    MEMMAP_KEPT,            /* it is one region of the clean map, as given
                               (an identical duplicate is kept too) */
    MEMMAP_MERGED,          /* all its bytes kept its type, inside a larger
                               clean region (touching or overlapping entries
                               of its type joined) */
    MEMMAP_TRIMMED,         /* a higher-priority entry took some of its
                               bytes: `kept_bytes` remain in `pieces` parts */
    MEMMAP_DROPPED_COVERED, /* a higher-priority entry took every byte */
    MEMMAP_DROPPED_ZERO,    /* length 0 */
    MEMMAP_DROPPED_WRAP,    /* end passes 2^64 */
};

struct memmap_explanation {
    enum memmap_fate fate;
    uint32_t by_type;     /* TRIMMED/DROPPED_COVERED: the highest-priority
                             other type found over the entry */
    uint64_t kept_bytes;  /* bytes that kept the entry's type */
    size_t pieces;        /* maximal runs of those bytes */
    size_t clean_index;   /* KEPT/MERGED: the clean region holding it */
};

/* memmap_explain - explain raw[i] against the sanitized map clean. */
void memmap_explain(const struct mem_region *raw, size_t i, const struct mem_region *clean,
                    size_t clean_count, struct memmap_explanation *out);

/* ---- Kernel glue (src/memory/memmap_boot.c) ----------------------------- */

struct multiboot_info;

#define MEMMAP_RAW_MAX 128 /* entries kept as the firmware gave them */
#define MEMMAP_MAX 256     /* regions after sanitizing (splits add some) */

/*
 * memmap_init - read the map from the Multiboot information (flags bit 6),
 * or fall back to mem_lower/mem_upper (bit 0) and say so; with neither,
 * panic ("no memory map from the boot loader").  Copies everything into
 * kernel-owned tables first, sanitizes, summarizes, and reports problems
 * (too many entries, malformed entries, dropped entries) on the console.
 */
void memmap_init(const struct multiboot_info *mbi);

/* The clean map, the raw entries, and the summary (after memmap_init). */
const struct mem_region *memmap_regions(size_t *count);
const struct mem_region *memmap_raw_entries(size_t *count);
const struct memmap_summary *memmap_get_summary(void);
/* memmap_source - "BIOS e820 map (Multiboot)" or "mem_lower/mem_upper
 * only (no map)". */
const char *memmap_source(void);
/* memmap_raw_ignored - entries past MEMMAP_RAW_MAX that were not kept. */
size_t memmap_raw_ignored(void);
/* memmap_type_at - normalised type of the byte at addr, 0 when no region
 * covers it (a hole). */
uint32_t memmap_type_at(uint64_t addr);

/* memmap_selftests_register - add the map reader's in-kernel tests. */
void memmap_selftests_register(void);

#endif
