/*
 * bar.c - the arithmetic behind address bars, pure.
 *
 * An address bar draws a range of physical addresses as a row of cells.
 * A cell usually covers many regions' worth of bytes, so it shows the type
 * that owns most of its bytes, and says when others share it (the views
 * draw such a cell with a shade character in both colours).
 */
#include "kernel/format.h"
#include "kernel/viz.h"

/* Bytes of each type (index 0: holes) in [lo, hi). */
static void cell_mix(const struct mem_region *regions, size_t count, uint64_t lo, uint64_t hi,
                     uint64_t bytes[MEM_TYPE_COUNT])
{
    uint64_t covered = 0;
    for (unsigned t = 0; t < MEM_TYPE_COUNT; t++)
        bytes[t] = 0;
    for (size_t i = 0; i < count; i++) {
        uint64_t r_lo = regions[i].base;
        uint64_t r_last = regions[i].base + (regions[i].length - 1);
        if (r_last < lo || r_lo >= hi)
            continue;
        uint64_t a = r_lo > lo ? r_lo : lo;
        uint64_t b_last = r_last < hi - 1 ? r_last : hi - 1;
        uint64_t n = b_last - a + 1;
        bytes[memmap_normal_type(regions[i].type)] += n;
        covered += n;
    }
    bytes[0] = (hi - lo) - covered;
}

void viz_bar_cells(const struct mem_region *regions, size_t count, uint64_t start, uint64_t end,
                   unsigned cells, struct viz_cell *out)
{
    uint64_t span = end - start;
    uint64_t width = span / cells + (span % cells != 0);
    for (unsigned i = 0; i < cells; i++) {
        uint64_t offset = (uint64_t)i * width;
        out[i] = (struct viz_cell){0, 0, false};
        if (offset >= span)
            continue; /* past the end: an empty cell */
        uint64_t lo = start + offset;
        uint64_t hi = span - offset < width ? end : lo + width;
        uint64_t bytes[MEM_TYPE_COUNT];
        cell_mix(regions, count, lo, hi, bytes);
        unsigned major = 0, kinds = 0;
        for (unsigned t = 0; t < MEM_TYPE_COUNT; t++) {
            kinds += bytes[t] != 0;
            if (bytes[t] > bytes[major])
                major = t;
        }
        unsigned minor = major;
        for (unsigned t = 0; t < MEM_TYPE_COUNT; t++)
            if (t != major && bytes[t] != 0 && (minor == major || bytes[t] > bytes[minor]))
                minor = t;
        out[i].major = (uint8_t)major;
        out[i].minor = (uint8_t)minor;
        out[i].mixed = kinds > 1;
    }
}

void viz_short_addr(char *buf, size_t size, uint64_t addr)
{
    unsigned long long a = addr; /* %llu on every host */
    if (a == 0)
        ksnprintf(buf, size, "0");
    else if (a % GIB(1) == 0)
        ksnprintf(buf, size, "%lluG", a / GIB(1));
    else if (a > GIB(1) && a % (GIB(1) / 4) == 0) /* 1.25G, 1.5G, 2.75G */
        ksnprintf(buf, size, "%llu.%lluG", a / GIB(1),
                  (a % GIB(1)) / (GIB(1) / 4) == 2 ? 5ull : (a % GIB(1)) / (GIB(1) / 4) * 25);
    else if (a % MIB(1) == 0)
        ksnprintf(buf, size, "%lluM", a / MIB(1));
    else if (a % 1024 == 0)
        ksnprintf(buf, size, "%lluK", a / 1024);
    else
        ksnprintf(buf, size, "0x%llx", a);
}
