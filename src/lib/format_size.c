/*
 * format_size.c - byte counts for people ("127.9 MiB"), with integer
 * arithmetic only (the kernel has no floating point).
 */
#include "kernel/format.h"

/*
 * format_size - picks the largest binary unit the value reaches, then adds
 * one decimal rounded to nearest (halves round up).  The remainder below
 * the unit is < 2^40, so remainder * 10 stays far below 2^64 even for
 * 2^64 - 1.  Rounding may carry into the whole part ("1023.96 KiB"); when
 * that reaches 1024 the next unit up is used ("1.0 MiB").
 */
int format_size(char *buf, size_t size, uint64_t bytes)
{
    static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
    unsigned u = 0;

    while (u + 1 < ARRAY_SIZE(units) && (bytes >> (10 * (u + 1))) != 0)
        u++;
    if (u == 0)
        return ksnprintf(buf, size, "%u B", (unsigned)bytes);

    unsigned shift = 10 * u;
    uint64_t whole = bytes >> shift;
    uint64_t rem = bytes & (((uint64_t)1 << shift) - 1);
    if (rem == 0)
        return ksnprintf(buf, size, "%llu %s", (unsigned long long)whole, units[u]);

    unsigned tenth = (unsigned)((rem * 10 + ((uint64_t)1 << (shift - 1))) >> shift);
    if (tenth == 10) {
        whole++;
        tenth = 0;
        if (whole == 1024 && u + 1 < ARRAY_SIZE(units)) {
            whole = 1;
            u++;
        }
    }
    return ksnprintf(buf, size, "%llu.%u %s", (unsigned long long)whole, tenth, units[u]);
}
