/*
 * test_bar.c - address-bar cells and tick labels (src/viz/bar.c).
 */
#include "check.h"
#include "kernel/types.h"
#include "kernel/viz.h"

/* QEMU -m 128M, sanitized. */
static const struct mem_region qemu128[] = {
    {0x0, 0x9fc00, MEM_AVAILABLE},         {0x9fc00, 0x400, MEM_RESERVED},
    {0xf0000, 0x10000, MEM_RESERVED},      {0x100000, 0x7ee0000, MEM_AVAILABLE},
    {0x7fe0000, 0x20000, MEM_RESERVED},    {0xfffc0000, 0x40000, MEM_RESERVED},
};

static void test_whole_cells(void)
{
    struct viz_cell c[4];
    /* 0-512K: all available, one type per cell. */
    viz_bar_cells(qemu128, ARRAY_SIZE(qemu128), 0, 0x80000, 4, c);
    for (int i = 0; i < 4; i++) {
        CHECK_EQ_U64(c[i].major, MEM_AVAILABLE);
        CHECK(!c[i].mixed);
        CHECK_EQ_U64(c[i].minor, MEM_AVAILABLE);
    }
}

static void test_mixed_cells(void)
{
    struct viz_cell c[4];
    /* First MiB in 4 cells of 256K: [0,256K) available; [256K,512K)
     * available; [512K,768K) available 0x1fc00, reserved 0x400, hole
     * 0x20000 (the VGA window) -> the hole wins by a little; [768K,1M)
     * hole 0x30000 (0xc0000-0xeffff) then reserved 0x10000. */
    viz_bar_cells(qemu128, ARRAY_SIZE(qemu128), 0, MIB(1), 4, c);
    CHECK(!c[0].mixed && c[0].major == MEM_AVAILABLE);
    CHECK(c[2].mixed);
    CHECK_EQ_U64(c[2].major, 0);        /* hole: 0x20000 > 0x1fc00 */
    CHECK_EQ_U64(c[2].minor, MEM_AVAILABLE);
    CHECK(c[3].mixed);
    CHECK_EQ_U64(c[3].major, 0);
    CHECK_EQ_U64(c[3].minor, MEM_RESERVED);
}

static void test_uneven_and_empty_cells(void)
{
    struct viz_cell c[8];
    /* 5 bytes over 8 cells: width 1, cells 5..7 lie past the end. */
    const struct mem_region one[] = {{0, 5, MEM_UNUSABLE}};
    viz_bar_cells(one, 1, 0, 5, 8, c);
    for (int i = 0; i < 5; i++)
        CHECK(c[i].major == MEM_UNUSABLE && !c[i].mixed);
    for (int i = 5; i < 8; i++)
        CHECK(c[i].major == 0 && !c[i].mixed);
    /* 10 bytes over 3 cells: widths 4, 4, 2; the last cell [8,10) is
     * half ACPI NVS, half hole. */
    const struct mem_region two[] = {{0, 9, MEM_ACPI_NVS}};
    viz_bar_cells(two, 1, 0, 10, 3, c);
    CHECK(!c[0].mixed && !c[1].mixed);
    CHECK(c[2].mixed);
    CHECK(c[2].major == MEM_ACPI_NVS || c[2].major == 0); /* a tie */
}

static void test_top_of_space(void)
{
    struct viz_cell c[2];
    /* A region ending at the last byte of the 64-bit space. */
    const struct mem_region top[] = {{UINT64_MAX - 0xfff, 0x1000, MEM_RESERVED}};
    viz_bar_cells(top, 1, UINT64_MAX - 0x1fff, UINT64_MAX, 2, c);
    CHECK(c[0].major == 0 && !c[0].mixed);
    CHECK(c[1].major == MEM_RESERVED); /* the bar's end excludes one byte */
}

static void test_labels(void)
{
    char b[24];
    viz_short_addr(b, sizeof(b), 0);
    CHECK_STR_EQ(b, "0");
    viz_short_addr(b, sizeof(b), 0x100000000ull);
    CHECK_STR_EQ(b, "4G");
    viz_short_addr(b, sizeof(b), 0x60000000ull);
    CHECK_STR_EQ(b, "1.5G");
    viz_short_addr(b, sizeof(b), 0x90000000ull);
    CHECK_STR_EQ(b, "2.25G");
    viz_short_addr(b, sizeof(b), 0xb0000000ull);
    CHECK_STR_EQ(b, "2.75G");
    viz_short_addr(b, sizeof(b), 0x20000000ull);
    CHECK_STR_EQ(b, "512M"); /* not "0.5G" */
    viz_short_addr(b, sizeof(b), 0x8000000);
    CHECK_STR_EQ(b, "128M");
    viz_short_addr(b, sizeof(b), 0xa0000);
    CHECK_STR_EQ(b, "640K");
    viz_short_addr(b, sizeof(b), 0x9fc01);
    CHECK_STR_EQ(b, "0x9fc01");
}

static void test_colors_and_letters(void)
{
    CHECK(viz_type_letter(MEM_AVAILABLE) == 'A');
    CHECK(viz_type_letter(77) == 'R'); /* unknown types are reserved */
    CHECK(viz_type_letter(0) == '.');
    CHECK(viz_type_color(77) == viz_type_color(MEM_RESERVED));
    /* Every type has its own colour. */
    for (uint32_t a = 0; a <= MEM_UNUSABLE; a++)
        for (uint32_t b = a + 1; b <= MEM_UNUSABLE; b++)
            CHECK(viz_type_color(a) != viz_type_color(b));
}

int main(void)
{
    RUN(test_whole_cells);
    RUN(test_mixed_cells);
    RUN(test_uneven_and_empty_cells);
    RUN(test_top_of_space);
    RUN(test_labels);
    RUN(test_colors_and_letters);
    return check_summary("bar");
}
