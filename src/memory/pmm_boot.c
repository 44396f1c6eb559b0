/*
 * pmm_boot.c - building the frame allocator from what the machine has.
 *
 * Default deny: the zone starts with every frame reserved.  Frames lying
 * wholly inside available RAM are opened; then everything that must never
 * be handed out is reserved again, each with the tag that says why:
 *
 *   first MiB          RESERVED  real-mode IVT, BIOS data, EBDA, VGA, ROM
 *   kernel image       KERNEL    __kernel_start .. __kernel_end, plus every
 *                                ELF section GRUB loaded elsewhere (the
 *                                symbol and string tables land past the end)
 *   boot stack         STACK     inside .bss, tagged on its own
 *   Multiboot data     BOOT      the info block, memory map, command line,
 *                                modules, section headers, loader name
 *   the zone's storage BITMAP    placed in the lowest free RAM above 1 MiB
 *                                that none of the above touches
 *   ACPI regions       ACPI      (already unavailable; tagged for display)
 *
 * The list is kept so that `frames boot` can show it.
 */
#include "kernel/config.h"
#include "kernel/elf.h"
#include "kernel/kstring.h"
#include "kernel/log.h"
#include "kernel/memmap.h"
#include "kernel/multiboot.h"
#include "kernel/panic.h"
#include "kernel/pmm.h"
#include "pmm_internal.h"

extern char __kernel_start[], __kernel_end[];
extern char boot_stack_guard[], boot_stack_bottom[], boot_stack_top[];

static struct pmm_boot_range ranges[PMM_BOOT_RANGES_MAX];
static size_t range_count;

/* Remember [start, start+len) (physical, clipped to 4 GiB) with its tag. */
static void add_range(uint64_t start, uint64_t len, uint8_t tag, const char *what)
{
    if (len == 0 || start >= GIB(4))
        return;
    uint64_t end = start + len > GIB(4) ? GIB(4) : start + len;
    if (range_count == PMM_BOOT_RANGES_MAX) {
        log_warn("pmm", "too many boot reservations; not tracking %s", what);
        return;
    }
    ranges[range_count++] = (struct pmm_boot_range){start, end, tag, what};
}

static void add_string(uint32_t addr, uint8_t tag, const char *what)
{
    if (addr)
        add_range(addr, strlen((const char *)addr) + 1, tag, what);
}

/* The kernel image, and the sections GRUB loaded outside it. */
static void add_kernel(const struct multiboot_info *mbi, struct pmm_layout *layout)
{
    uint64_t start = (uint32_t)__kernel_start, end = (uint32_t)__kernel_end;
    add_range(start, end - start, TAG_KERNEL, "kernel image");
    if (mbi->flags & MB_INFO_ELF_SHDR && mbi->shdr_size >= sizeof(struct elf32_shdr)) {
        add_range(mbi->shdr_addr, (uint64_t)mbi->shdr_num * mbi->shdr_size, TAG_BOOT,
                  "ELF section headers");
        for (uint32_t i = 0; i < mbi->shdr_num; i++) {
            const struct elf32_shdr *sh =
                (const struct elf32_shdr *)(mbi->shdr_addr + i * mbi->shdr_size);
            if (sh->sh_addr == 0 || sh->sh_size == 0 || sh->sh_type == SHT_NULL)
                continue;
            uint64_t s = sh->sh_addr, e = s + sh->sh_size;
            if (s >= (uint32_t)__kernel_start && e <= (uint32_t)__kernel_end)
                continue; /* inside the image already */
            add_range(s, e - s, TAG_KERNEL, "ELF section loaded by GRUB");
            if (e > end)
                end = e;
        }
    }
    layout->kernel_start = (paddr_t)start;
    layout->kernel_end = (paddr_t)(end > GIB(4) - 1 ? GIB(4) - 1 : end);
}

static void add_multiboot(const struct multiboot_info *mbi)
{
    add_range((uint32_t)mbi, sizeof(*mbi), TAG_BOOT, "Multiboot information");
    if (mbi->flags & MB_INFO_MEM_MAP)
        add_range(mbi->mmap_addr, mbi->mmap_length, TAG_BOOT, "memory map");
    if (mbi->flags & MB_INFO_CMDLINE)
        add_string(mbi->cmdline, TAG_BOOT, "command line");
    if (mbi->flags & MB_INFO_LOADER)
        add_string(mbi->boot_loader_name, TAG_BOOT, "boot loader name");
    if (mbi->flags & MB_INFO_MODS && mbi->mods_count) {
        add_range(mbi->mods_addr, (uint64_t)mbi->mods_count * sizeof(struct multiboot_module),
                  TAG_BOOT, "module list");
        const struct multiboot_module *mods = (const struct multiboot_module *)mbi->mods_addr;
        for (uint32_t i = 0; i < mbi->mods_count; i++) {
            if (mods[i].mod_end > mods[i].mod_start)
                add_range(mods[i].mod_start, mods[i].mod_end - mods[i].mod_start, TAG_BOOT,
                          "boot module");
            add_string(mods[i].string, TAG_BOOT, "module name");
        }
    }
}

static bool overlaps_a_range(uint64_t start, uint64_t end)
{
    for (size_t i = 0; i < range_count; i++)
        if (start < ranges[i].end && ranges[i].start < end)
            return true;
    return false;
}

/* Is [start, end) wholly inside one available region of the clean map? */
static bool inside_ram(const struct mem_region *r, size_t n, uint64_t start, uint64_t end)
{
    for (size_t i = 0; i < n; i++)
        if (r[i].type == MEM_AVAILABLE && start >= r[i].base &&
            end - 1 <= r[i].base + (r[i].length - 1))
            return true;
    return false;
}

/*
 * The lowest 4 KiB-aligned place of `bytes` in available RAM at or above
 * 1 MiB and below `limit` that no reservation touches.  The only places
 * worth trying are the starts of regions and the ends of reservations.
 */
static uint64_t place_storage(uint64_t bytes, uint64_t limit)
{
    size_t n;
    const struct mem_region *r = memmap_regions(&n);
    uint64_t best = 0;
    for (size_t i = 0; i < n + range_count; i++) {
        uint64_t at = i < n ? r[i].base : ranges[i - n].end;
        if (at < MIB(1))
            at = MIB(1);
        if (!align_up_u64(at, FRAME_SIZE, &at) || at + bytes > limit)
            continue;
        if (inside_ram(r, n, at, at + bytes) && !overlaps_a_range(at, at + bytes) &&
            (best == 0 || at < best))
            best = at;
    }
    return best;
}

static uint32_t first_frame(uint64_t addr)
{
    return (uint32_t)(addr >> FRAME_SHIFT);
}

/* Frames touched by [start, end): rounded outward. */
static uint32_t frames_touched(uint64_t start, uint64_t end)
{
    uint64_t last = (end - 1) >> FRAME_SHIFT;
    return (uint32_t)(last - (start >> FRAME_SHIFT) + 1);
}

void pmm_boot_build(const struct multiboot_info *mbi, struct pmm_zone *zone,
                    struct pmm_layout *layout)
{
    const struct memmap_summary *sum = memmap_get_summary();
    uint32_t frames = (uint32_t)(sum->usable_end_below_4g >> FRAME_SHIFT);
    if (frames <= first_frame(MIB(1)))
        panic("pmm: no usable RAM above 1 MiB (usable RAM below 4 GiB ends at 0x%llx)",
              sum->usable_end_below_4g);

    add_range(0, MIB(1), TAG_RESERVED, "first MiB (IVT, BIOS data, EBDA, VGA, ROM)");
    add_kernel(mbi, layout);
    add_range((uint32_t)boot_stack_bottom, boot_stack_top - boot_stack_bottom, TAG_STACK,
              "boot stack");
    add_range((uint32_t)boot_stack_guard, boot_stack_bottom - boot_stack_guard, TAG_GUARD,
              "guard page below the boot stack (never mapped)");
    add_multiboot(mbi);

    unsigned features = (PMM_REFCOUNTS ? PMM_FEAT_REFS : 0) |
                        (PMM_TRACK_OWNERS ? PMM_FEAT_OWNERS : 0);
    uint64_t bytes = pmm_zone_storage_bytes(frames, features);
    uint64_t storage = place_storage(bytes, (uint64_t)frames << FRAME_SHIFT);
    if (storage == 0)
        panic("pmm: no free RAM for the bitmap (%llu bytes for %u frames)", bytes, frames);
    add_range(storage, bytes, TAG_BITMAP, "frame bitmap and records");
    layout->bitmap_base = (paddr_t)storage;
    layout->bitmap_bytes = (size_t)bytes;

    pmm_zone_init(zone, (void *)(uint32_t)storage, frames, features);
    size_t n;
    const struct mem_region *r = memmap_regions(&n);
    for (size_t i = 0; i < n; i++) {
        uint64_t lo = r[i].base, end = r[i].base + r[i].length;
        if (r[i].type == MEM_AVAILABLE) {
            /* Only frames lying wholly inside: round the start up and the
             * end down. */
            uint64_t a;
            if (!align_up_u64(lo, FRAME_SIZE, &a) || end < a + FRAME_SIZE)
                continue;
            pmm_zone_release(zone, first_frame(a),
                             first_frame(ALIGN_DOWN(end, FRAME_SIZE)) - first_frame(a));
        } else if (r[i].type == MEM_ACPI_RECLAIMABLE || r[i].type == MEM_ACPI_NVS) {
            if (lo < ((uint64_t)frames << FRAME_SHIFT))
                pmm_zone_reserve(zone, first_frame(lo), frames_touched(lo, end), TAG_ACPI);
        }
    }
    for (size_t i = 0; i < range_count; i++)
        pmm_zone_reserve(zone, first_frame(ranges[i].start),
                         frames_touched(ranges[i].start, ranges[i].end), ranges[i].tag);
}

const struct pmm_boot_range *pmm_boot_ranges(size_t *count)
{
    *count = range_count;
    return ranges;
}
