/*
 * memmap_boot.c - the memory map, wired to the real boot loader.
 *
 * The Multiboot information and the map it points to live in memory the
 * boot loader chose; nothing stops the frame allocator from handing those
 * bytes out later.  So memmap_init copies the entries into the tables
 * below before anything else allocates, keeps that copy as the firmware
 * gave it (for `memmap raw`), and cleans a second copy for everyone else.
 */
#include "kernel/kstring.h"
#include "kernel/log.h"
#include "kernel/memmap.h"
#include "kernel/multiboot.h"
#include "kernel/panic.h"
#include "kernel/types.h"
#include "memmap_internal.h"

_Static_assert(MEMMAP_MAX >= 2 * MEMMAP_RAW_MAX,
               "n entries can sanitize into 2n - 1 regions: the clean table must hold them");

static struct mem_region raw[MEMMAP_RAW_MAX];
static size_t raw_count;
static size_t raw_ignored;
static struct mem_region clean[MEMMAP_MAX];
static size_t clean_count;
static struct memmap_summary summary;
static const char *source = "none";

static void read_multiboot_map(const struct multiboot_info *mbi, struct mem_region *out,
                               size_t capacity, struct memmap_boot_read *r)
{
    struct memmap_parse_result p;
    memmap_parse_multiboot((const void *)mbi->mmap_addr, mbi->mmap_length, out, capacity, &p);
    r->count = p.stored;
    r->ignored = p.ignored;
    r->source = "BIOS e820 map (via Multiboot)";
    if (p.ignored)
        log_warn("memmap", "too many entries; ignoring %u after the first %u",
                 (unsigned)p.ignored, (unsigned)capacity);
    if (p.bad_size)
        log_warn("memmap", "entry at offset %u has size field %u (below 20); "
                           "ignoring it and everything after it",
                 p.stop_offset, p.stop_size);
    if (p.cut_short)
        log_warn("memmap", "the map (%u bytes) ends inside the entry at offset %u; "
                           "ignoring that entry",
                 mbi->mmap_length, p.stop_offset);
    if (p.stored == 0)
        log_warn("memmap", "the boot loader's memory map is empty");
}

/* Without a map, Multiboot still gives two sizes: KiB of conventional
 * memory from 0, and KiB of contiguous memory from 1 MiB. */
static void read_lower_upper(const struct multiboot_info *mbi, struct mem_region *out,
                             struct memmap_boot_read *r)
{
    out[0] = (struct mem_region){0, (uint64_t)mbi->mem_lower * 1024, MEM_AVAILABLE};
    out[1] = (struct mem_region){MIB(1), (uint64_t)mbi->mem_upper * 1024, MEM_AVAILABLE};
    r->count = 2;
    r->source = "mem_lower/mem_upper only (no map)";
    log_warn("memmap", "the boot loader gave no memory map; assuming %u KiB at 0 and "
                       "%u KiB at 1 MiB (everything else unknown)",
             mbi->mem_lower, mbi->mem_upper);
}

bool memmap_boot_read(const struct multiboot_info *mbi, struct mem_region *out,
                      size_t capacity, struct memmap_boot_read *r)
{
    *r = (struct memmap_boot_read){0, 0, "none"};
    if (mbi->flags & MB_INFO_MEM_MAP)
        read_multiboot_map(mbi, out, capacity, r);
    else if ((mbi->flags & MB_INFO_MEMORY) && capacity >= 2)
        read_lower_upper(mbi, out, r);
    else
        return false;
    return true;
}

static void report_dropped(void)
{
    for (size_t i = 0; i < raw_count; i++) {
        const struct mem_region *e = &raw[i];
        if (e->length != 0 && e->base + (e->length - 1) < e->base)
            log_warn("memmap", "entry %u [0x%016llx +0x%llx] wraps past 2^64; dropped",
                     (unsigned)i, e->base, e->length);
    }
}

void memmap_init(const struct multiboot_info *mbi)
{
    struct memmap_boot_read r;
    if (!memmap_boot_read(mbi, raw, MEMMAP_RAW_MAX, &r))
        panic("no memory map from the boot loader (Multiboot flags 0x%08x: "
              "neither bit 6, the map, nor bit 0, mem_lower/mem_upper)",
              mbi->flags);
    raw_count = r.count;
    raw_ignored = r.ignored;
    source = r.source;

    memcpy(clean, raw, raw_count * sizeof(raw[0]));
    clean_count = raw_count;
    struct memmap_sanitize_report rep;
    /* Cannot fail: see the _Static_assert above. */
    kassert(memmap_sanitize_report(clean, &clean_count, MEMMAP_MAX, &rep) == 0);
    if (rep.wrapped)
        report_dropped();
    if (rep.zero_length)
        log_info("memmap", "%u zero-length entr%s dropped", (unsigned)rep.zero_length,
                 rep.zero_length == 1 ? "y" : "ies");
    memmap_summarize(clean, clean_count, &summary);
    TRACE(TRACE_MEMMAP, "%u raw entries -> %u regions", (unsigned)raw_count,
          (unsigned)clean_count);
}

const struct mem_region *memmap_regions(size_t *count)
{
    *count = clean_count;
    return clean;
}

const struct mem_region *memmap_raw_entries(size_t *count)
{
    *count = raw_count;
    return raw;
}

const struct memmap_summary *memmap_get_summary(void)
{
    return &summary;
}

const char *memmap_source(void)
{
    return source;
}

size_t memmap_raw_ignored(void)
{
    return raw_ignored;
}

uint32_t memmap_type_at(uint64_t addr)
{
    const struct mem_region *r = memmap_find(clean, clean_count, addr);
    return r ? r->type : 0;
}
