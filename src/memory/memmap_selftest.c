/*
 * memmap_selftest.c - reading boot-loader memory maps that QEMU never
 * hands over: none at all, a size field below 20, entries longer than 20
 * bytes, a buffer that ends inside an entry, more entries than the table.
 * Each case is a fake Multiboot block built here; the reports it causes
 * appear on the console as they would at boot.
 */
#include "kernel/log.h"
#include "kernel/memmap.h"
#include "kernel/multiboot.h"
#include "kernel/selftest.h"
#include "kernel/types.h"
#include "memmap_internal.h"

/* Writes one entry {size, base, length, type} at `at`, padded to size + 4
 * bytes when size says it is longer than 20.  Returns where the next entry
 * goes: at + size + 4 (or past the 24 bytes written, for a size field
 * below 20, which only ever ends a test's map). */
static size_t put_entry(uint8_t *buf, size_t at, uint32_t size, uint64_t base, uint64_t len,
                        uint32_t type)
{
    struct multiboot_mmap_entry e = {size, base, len, type};
    size_t end = (size_t)size + 4 > sizeof(e) ? (size_t)size + 4 : sizeof(e);
    const uint8_t *p = (const uint8_t *)&e;
    for (size_t i = 0; i < end; i++)
        buf[at + i] = i < sizeof(e) ? p[i] : 0xee;
    return at + end;
}

static struct multiboot_info fake_with_map(const uint8_t *buf, size_t len)
{
    struct multiboot_info mbi = {0};
    mbi.flags = MB_INFO_MEM_MAP;
    mbi.mmap_addr = (uint32_t)buf;
    mbi.mmap_length = (uint32_t)len;
    return mbi;
}

static void test_no_map(void)
{
    struct mem_region out[4];
    struct memmap_boot_read r;
    struct multiboot_info mbi = {0};
    mbi.flags = MB_INFO_MEMORY;
    mbi.mem_lower = 639;
    mbi.mem_upper = 15360;
    log_info("selftest", "a boot loader without a memory map, on purpose:");
    ST_CHECK(memmap_boot_read(&mbi, out, 4, &r));
    ST_CHECK(r.count == 2 && out[0].base == 0 && out[0].length == 639 * 1024);
    ST_CHECK(out[1].base == MIB(1) && out[1].length == MIB(15) && out[1].type == MEM_AVAILABLE);
    mbi.flags = 0;
    ST_CHECK(!memmap_boot_read(&mbi, out, 4, &r)); /* memmap_init panics on this */
}

static void test_malformed_maps(void)
{
    static uint8_t buf[160];
    struct mem_region out[4];
    struct memmap_boot_read r;
    log_info("selftest", "malformed memory maps follow, on purpose:");

    /* 20- and 24-byte entries, then a size field of 16: the walk stops. */
    size_t n = put_entry(buf, 0, 20, 0, 0x9fc00, MEM_AVAILABLE);
    n = put_entry(buf, n, 24, MIB(1), MIB(7), MEM_AVAILABLE);
    n = put_entry(buf, n, 16, MIB(8), MIB(8), MEM_AVAILABLE);
    struct multiboot_info mbi = fake_with_map(buf, n);
    ST_CHECK(memmap_boot_read(&mbi, out, 4, &r));
    ST_CHECK(r.count == 2 && out[1].base == MIB(1) && out[1].length == MIB(7));

    /* The buffer ends inside the second entry. */
    n = put_entry(buf, 0, 20, 0, 0x9fc00, MEM_AVAILABLE);
    n = put_entry(buf, n, 20, MIB(1), MIB(7), MEM_AVAILABLE);
    mbi = fake_with_map(buf, n - 5);
    ST_CHECK(memmap_boot_read(&mbi, out, 4, &r));
    ST_CHECK(r.count == 1);

    /* Three entries for a table of two: one ignored, counted. */
    n = put_entry(buf, 0, 20, 0, 0x9fc00, MEM_AVAILABLE);
    n = put_entry(buf, n, 20, MIB(1), MIB(7), MEM_AVAILABLE);
    n = put_entry(buf, n, 20, MIB(8), MIB(1), 7); /* unknown type: kept as given */
    mbi = fake_with_map(buf, n);
    ST_CHECK(memmap_boot_read(&mbi, out, 2, &r));
    ST_CHECK(r.count == 2 && r.ignored == 1);
    ST_CHECK(memmap_boot_read(&mbi, out, 4, &r) && r.count == 3 && out[2].type == 7);

    /* An empty map is read (and reported), not invented. */
    mbi = fake_with_map(buf, 0);
    ST_CHECK(memmap_boot_read(&mbi, out, 4, &r) && r.count == 0);
}

static const struct selftest memmap_tests[] = {
    {"memmap-no-map-fallback", test_no_map},
    {"memmap-malformed-maps", test_malformed_maps},
};

void memmap_selftests_register(void)
{
    selftest_register(memmap_tests, ARRAY_SIZE(memmap_tests));
}
