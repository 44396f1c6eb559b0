/*
 * paging_selftest.c - the page tables tested on the real MMU.
 *
 * The host tests check the table logic; these check what only the CPU can
 * say: that a mapping really translates, that a write through one virtual
 * address shows through another mapping of the same frame, that read-only
 * means read-only, that unmap really removes the translation (no stale
 * TLB entry), and that every frame comes back.  Faults are caught with the
 * probes (recover.h), quietly.
 */
#include "kernel/guard.h"
#include "kernel/paging.h"
#include "kernel/pmm.h"
#include "kernel/recover.h"
#include "kernel/selftest.h"

/* Scratch addresses outside every kernel region. */
#define VA_A 0x41000000u
#define VA_B 0x41001000u
#define VA_FAR 0x7fc00000u /* alone in its 4 MiB: needs a table of its own */

static void test_round_trip(void)
{
    uint32_t free_before = pmm_zone_free_count(pmm_get_zone());
    ST_CHECK(paging_map_new(VA_A, PTE_WRITABLE, TAG_USER) == PT_OK);
    paddr_t pa = 0;
    ST_CHECK(paging_translate(VA_A + 0x123, &pa) && (pa & 0xfff) == 0x123);
    struct frame_info fi;
    pmm_query(pa, &fi);
    ST_CHECK(fi.state == FRAME_ALLOCATED && fi.tag == TAG_USER);

    /* A second mapping of the same frame sees the first one's writes. */
    paddr_t frame = pa & ~0xfffu;
    ST_CHECK(pmm_ref((void *)frame) == PMM_OK);
    ST_CHECK(paging_map(VA_B, frame, PTE_WRITABLE) == PT_OK);
    *(volatile uint32_t *)(VA_A + 8) = 0x5eed1234u;
    ST_CHECK(*(volatile uint32_t *)(VA_B + 8) == 0x5eed1234u);

    /* Errors change nothing. */
    ST_CHECK(paging_map(VA_A, frame, 0) == PT_ERR_EXISTS);
    ST_CHECK(paging_map(VA_A + 4, frame, 0) == PT_ERR_UNALIGNED);
    ST_CHECK(paging_unmap(VA_FAR, NULL) == PT_ERR_NOT_MAPPED);
    ST_CHECK(*(volatile uint32_t *)(VA_A + 8) == 0x5eed1234u);

    ST_CHECK(paging_unmap_release(VA_B) == PT_OK);
    pmm_query(frame, &fi);
    ST_CHECK(fi.state == FRAME_ALLOCATED && fi.refs == 1); /* VA_A still holds it */
    ST_CHECK(paging_unmap_release(VA_A) == PT_OK);
    pmm_query(frame, &fi);
    ST_CHECK(fi.state == FRAME_FREE);
    uint32_t v;
    ST_CHECK(!probe_read32(VA_A, &v) && !probe_read32(VA_B, &v));
    ST_CHECK(pmm_zone_free_count(pmm_get_zone()) == free_before); /* the table came back too */
}

static void test_flags(void)
{
    ST_CHECK(paging_map_new(VA_A, PTE_WRITABLE, TAG_USER) == PT_OK);
    ST_CHECK(probe_write32(VA_A, 1));
    ST_CHECK(paging_protect(VA_A, 0) == PT_OK); /* read-only: CR0.WP applies to us */
    uint32_t v = 0;
    ST_CHECK(probe_read32(VA_A, &v) && v == 1);
    ST_CHECK(!probe_write32(VA_A, 2));
    ST_CHECK(probe_read32(VA_A, &v) && v == 1);
    ST_CHECK(paging_protect(VA_A, PTE_WRITABLE) == PT_OK);
    ST_CHECK(probe_write32(VA_A, 3) && probe_read32(VA_A, &v) && v == 3);
    ST_CHECK(paging_protect(VA_FAR, 0) == PT_ERR_NOT_MAPPED);
    ST_CHECK(paging_unmap_release(VA_A) == PT_OK);
}

/* A stale TLB entry after unmap would let the second touch through. */
static void test_unmap_flushes(void)
{
    uint32_t free_before = pmm_zone_free_count(pmm_get_zone()), leaks = 0;
    for (uint32_t i = 0; i < 200; i++) {
        if (!ST_CHECK(paging_map_new(VA_FAR, PTE_WRITABLE, TAG_USER) == PT_OK))
            return;
        *(volatile uint32_t *)VA_FAR = i;
        paging_unmap_release(VA_FAR);
        uint32_t v;
        if (probe_read32(VA_FAR, &v))
            leaks++;
    }
    ST_CHECK(leaks == 0);
    ST_CHECK(pmm_zone_free_count(pmm_get_zone()) == free_before);
}

/* The kernel's own mappings are what paging_init promised. */
static void test_kernel_layout(void)
{
    extern char __kernel_start[], __ksyms_start[], boot_stack_guard[];
    struct pt_walk w;
    uint32_t v;
    ST_CHECK(!paging_walk(0, &w) && !probe_read32(0, &v));       /* NULL faults */
    ST_CHECK(paging_walk((vaddr_t)__kernel_start, &w) && w.phys == (paddr_t)__kernel_start);
    ST_CHECK(!(w.flags & PTE_WRITABLE));                          /* text read-only */
    ST_CHECK(!probe_write32((uintptr_t)__kernel_start, 0));
    ST_CHECK(paging_walk((vaddr_t)__ksyms_start, &w) && !(w.flags & PTE_WRITABLE));
    /* The symbol table, too (the probe writes back what is there). */
    ST_CHECK(!probe_write32((uintptr_t)__ksyms_start, *(volatile uint32_t *)__ksyms_start));
    ST_CHECK(!paging_walk((vaddr_t)boot_stack_guard, &w));        /* the guard */
    ST_CHECK(paging_walk(0xb8000, &w) && (w.flags & PTE_WRITABLE)); /* VGA */
    /* (the CPU sets A, and D too: through the window the entry also acts as a PTE) */
    ST_CHECK((paging_dir_entry(PT_RECURSIVE_SLOT) & ~(PTE_ACCESSED | PTE_DIRTY)) ==
             (paging_directory() | PTE_PRESENT | PTE_WRITABLE));
}

static void test_guarded_range(void)
{
    uint32_t free_before = pmm_zone_free_count(pmm_get_zone());
    vaddr_t r = guard_alloc(2, TAG_STACK, VM_STACK, "selftest range");
    if (!ST_CHECK(r != 0))
        return;
    uint32_t v;
    ST_CHECK(probe_write32(r, 1) && probe_write32(r + 2 * PAGE_SIZE - 4, 2));
    ST_CHECK(!probe_read32(r - 4, &v));                /* the guard below */
    ST_CHECK(!probe_read32(r + 2 * PAGE_SIZE, &v));    /* and above */
    const struct vm_region *g = paging_region_of(r - 1);
    ST_CHECK(g && g->kind == VM_GUARD);
    ST_CHECK(guard_free(r));
    ST_CHECK(!probe_read32(r, &v));
    ST_CHECK(paging_region_of(r - 1) == NULL || paging_region_of(r - 1)->kind != VM_GUARD);
    ST_CHECK(pmm_zone_free_count(pmm_get_zone()) == free_before);
}

static const struct selftest paging_tests[] = {
    {"paging-round-trip", test_round_trip},
    {"paging-flags", test_flags},
    {"paging-unmap-flushes", test_unmap_flushes},
    {"paging-kernel-layout", test_kernel_layout},
    {"paging-guarded-range", test_guarded_range},
};

void paging_selftests_register(void)
{
    selftest_register(paging_tests, ARRAY_SIZE(paging_tests));
}
