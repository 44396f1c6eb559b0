/*
 * pmm_selftest.c - the frame allocator tested on the real machine.
 *
 * "Allocate everything" keeps no list of what it took (a list would need
 * memory, and with paging on the frames themselves are not mapped): the
 * frame allocator's own records say which frames this test owns, since
 * each allocation records its caller.
 */
#include "kernel/log.h"
#include "kernel/pmm.h"
#include "kernel/selftest.h"

static bool inside_a_boot_range(paddr_t frame)
{
    size_t n;
    const struct pmm_boot_range *r = pmm_boot_ranges(&n);
    for (size_t i = 0; i < n; i++)
        if (frame + FRAME_SIZE > r[i].start && frame < r[i].end)
            return true;
    return false;
}

static void test_exhaust_and_return(void)
{
    const struct pmm_zone *z = pmm_get_zone();
    uint32_t free_before = pmm_zone_free_count(z);
    uint32_t trace_before = trace_mask;
    trace_mask &= ~TRACE_PMM; /* one line per frame would take minutes */
    uint32_t count = 0, bad = 0, owner = 0;
    for (;;) {
        void *f = pmm_alloc_frame_tagged(TAG_USER);
        if (!f)
            break;
        if ((uint32_t)f % FRAME_SIZE || (uint32_t)f < MIB(1) || inside_a_boot_range((paddr_t)f))
            bad++;
        struct frame_info fi;
        pmm_query((paddr_t)f, &fi);
        if (owner == 0)
            owner = fi.owner;
        if (fi.state != FRAME_ALLOCATED || fi.tag != TAG_USER || fi.owner != owner ||
            owner == 0)
            bad++;
        count++;
    }
    ST_CHECK(bad == 0);
    ST_CHECK(count == free_before);
    ST_CHECK(pmm_zone_free_count(z) == 0);
    ST_CHECK(pmm_alloc_frame() == NULL); /* and again: still NULL, not frame 0 */
    uint32_t freed = 0;
    for (uint32_t frame = 0; frame < z->frames; frame++) {
        struct frame_info fi;
        pmm_query((paddr_t)frame << FRAME_SHIFT, &fi);
        if (fi.state == FRAME_ALLOCATED && fi.tag == TAG_USER && fi.owner == owner) {
            pmm_free_frame((void *)((paddr_t)frame << FRAME_SHIFT));
            freed++;
        }
    }
    ST_CHECK(freed == count);
    trace_mask = trace_before;
    ST_CHECK(pmm_zone_free_count(z) == free_before);
    ST_CHECK(pmm_zone_check(z) == NULL);
}

static void test_runs(void)
{
    static const struct {
        size_t count, align;
    } cases[] = {{1, 4096}, {3, 4096}, {16, 65536}, {17, 4096}, {64, 262144}, {100, 8192}};
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t *p = pmm_alloc_frames_tagged(cases[i].count, cases[i].align, TAG_DMA);
        if (!ST_CHECK(p != NULL))
            continue;
        ST_CHECK((uint32_t)p % cases[i].align == 0);
        for (size_t k = 0; k < cases[i].count; k++) {
            struct frame_info fi;
            pmm_query((paddr_t)p + k * FRAME_SIZE, &fi);
            ST_CHECK(fi.state == FRAME_ALLOCATED && fi.tag == TAG_DMA);
        }
        ST_CHECK((uint32_t)p + cases[i].count * FRAME_SIZE <= MIB(16)); /* DMA: below 16 MiB */
        pmm_free_frames(p, cases[i].count);
    }
}

static void test_bad_frees_change_nothing(void)
{
    const struct pmm_zone *z = pmm_get_zone();
    uint32_t free_before = pmm_zone_free_count(z);
    uint64_t bad_before = z->bad_frees;
    void *f = pmm_alloc_frame();
    ST_CHECK(f != NULL);
    pmm_free_frame(f);
    log_info("selftest", "four bad frees follow, on purpose:");
    pmm_free_frame(f);                      /* double free */
    pmm_free_frame((uint8_t *)f + 12);      /* unaligned */
    pmm_free_frame((void *)0x1000);         /* reserved: first MiB */
    pmm_free_frame((void *)0xfffff000);     /* past the end of RAM */
    ST_CHECK(pmm_zone_free_count(z) == free_before);
    ST_CHECK(z->bad_frees == bad_before + 4);
    ST_CHECK(pmm_zone_check(z) == NULL);
}

/* Allocations that cannot be served: NULL, a log line, counted in
 * failed_allocs by pmm.c (not by the zone), and nothing else changes. */
static void test_bad_allocs_change_nothing(void)
{
    const struct pmm_zone *z = pmm_get_zone();
    uint32_t free_before = pmm_zone_free_count(z);
    uint64_t failed_before = z->failed_allocs, allocs_before = z->allocs;
    log_info("selftest", "four refused allocations follow, on purpose:");
    ST_CHECK(pmm_alloc_frames(0, FRAME_SIZE) == NULL);         /* no frames */
    ST_CHECK(pmm_alloc_frames(2, 3 * FRAME_SIZE) == NULL);     /* not a power of two */
    ST_CHECK(pmm_alloc_frames(2, FRAME_SIZE / 2) == NULL);     /* below a frame */
    ST_CHECK(pmm_alloc_frames(free_before + 1, FRAME_SIZE) == NULL); /* more than is free */
    ST_CHECK(z->failed_allocs == failed_before + 4);
    ST_CHECK(z->allocs == allocs_before);
    ST_CHECK(pmm_zone_free_count(z) == free_before);
    ST_CHECK(pmm_zone_check(z) == NULL);
}

static void test_refcounts(void)
{
    const struct pmm_zone *z = pmm_get_zone();
    uint32_t free_before = pmm_zone_free_count(z);
    void *f = pmm_alloc_frame();
    ST_CHECK(pmm_ref(f) == PMM_OK);
    struct frame_info fi;
    pmm_query((paddr_t)f, &fi);
    ST_CHECK(fi.refs == 2);
    pmm_free_frame(f); /* refused: still shared */
    pmm_query((paddr_t)f, &fi);
    ST_CHECK(fi.state == FRAME_ALLOCATED);
    ST_CHECK(pmm_unref(f) == PMM_OK && pmm_unref(f) == PMM_OK);
    ST_CHECK(pmm_zone_free_count(z) == free_before);
    ST_CHECK(pmm_unref(f) == PMM_ERR_NOT_ALLOCATED); /* underflow is refused */
}

static const struct selftest pmm_tests[] = {
    {"pmm-exhaust-and-return", test_exhaust_and_return},
    {"pmm-contiguous-runs", test_runs},
    {"pmm-bad-frees", test_bad_frees_change_nothing},
    {"pmm-bad-allocs", test_bad_allocs_change_nothing},
    {"pmm-refcounts", test_refcounts},
};

void pmm_selftests_register(void)
{
    selftest_register(pmm_tests, ARRAY_SIZE(pmm_tests));
}
