/*
 * heap_selftest.c - the kernel heap tested in the running kernel: on
 * mapped frames, with the real page source, and with the MMU catching what
 * the guard pages promise.  (The allocator's logic is tested on the host:
 * tests/host/test_heap*.c.)
 */
#include "kernel/config.h"
#include "kernel/heap.h"
#include "kernel/kstring.h"
#include "kernel/paging.h"
#include "kernel/pmm.h"
#include "kernel/recover.h"
#include "kernel/selftest.h"

/* Many blocks of many sizes, written, checked, freed: the frames come back. */
static void test_round_trip(void)
{
    static void *blocks[600];
    static const size_t sizes[] = {0, 1, 16, 24, 100, 256, 1000, 3000, 4096, 9000, 40000};
    struct kheap_stats before, during, after;
    kheap_get_stats(&before);
    uint32_t free_before = pmm_zone_free_count(pmm_get_zone());
    for (unsigned i = 0; i < ARRAY_SIZE(blocks); i++) {
        size_t n = sizes[i % ARRAY_SIZE(sizes)];
        blocks[i] = kmalloc_tagged(n, "selftest");
        if (!ST_CHECK(blocks[i] != NULL))
            return;
        ST_CHECK(((uintptr_t)blocks[i] & 15) == 0);
        memset(blocks[i], (int)i, n);
    }
    kheap_get_stats(&during);
    ST_CHECK(during.core.live_blocks == before.core.live_blocks + ARRAY_SIZE(blocks));
    ST_CHECK(pmm_zone_free_count(pmm_get_zone()) < free_before); /* the heap took frames */
    struct heap_report r;
    ST_CHECK(kheap_check(&r));
    for (unsigned i = 0; i < ARRAY_SIZE(blocks); i++) {
        size_t n = sizes[i % ARRAY_SIZE(sizes)];
        const uint8_t *p = blocks[i];
        bool intact = true;
        for (size_t k = 0; k < n; k++)
            intact &= p[k] == (uint8_t)i;
        ST_CHECK(intact);
        kfree(blocks[i]);
    }
    kheap_get_stats(&after);
    ST_CHECK(after.core.live_blocks == before.core.live_blocks);
    ST_CHECK(after.misuse_reports == before.misuse_reports);
    ST_CHECK(kheap_check(&r));
    /* Whole free pages went back: at most the retained ones and a cached
     * empty slab per class stay mapped beyond what was there before. */
    ST_CHECK(after.core.backed_pages <= before.core.backed_pages + HEAP_RETAIN_PAGES +
                                           kheap_core()->class_count * 16);
}

static void test_calloc_realloc_aligned(void)
{
    ST_CHECK(kcalloc((size_t)-1 / 2, 4) == NULL); /* the product overflows */
    uint8_t *z = kcalloc(100, 3);
    if (!ST_CHECK(z != NULL))
        return;
    bool zero = true;
    for (int i = 0; i < 300; i++)
        zero &= z[i] == 0;
    ST_CHECK(zero);
    z[299] = 7;
    uint8_t *g = krealloc(z, 5000);
    if (ST_CHECK(g != NULL))
        ST_CHECK(g[0] == 0 && g[299] == 7);
    kfree(g);
    for (size_t align = 16; align <= 4096; align *= 2) {
        void *a = kmalloc_aligned(100, align);
        ST_CHECK(a && ((uintptr_t)a & (align - 1)) == 0);
        kfree(a);
    }
    ST_CHECK(kmalloc((size_t)-1) == NULL); /* refused, logged, nothing changes */
    struct heap_report r;
    ST_CHECK(kheap_check(&r));
}

/* Misuse is reported, counted, and changes nothing. */
static void test_misuse_reported(void)
{
    struct kheap_stats a, b;
    char *p = kmalloc_tagged(32, "selftest");
    if (!ST_CHECK(p != NULL))
        return;
    kheap_get_stats(&a);
    kfree(p + 8);                       /* interior */
    kfree((void *)(KV_HEAP_END - 4096)); /* a page the heap never used */
    kheap_get_stats(&b);
    ST_CHECK(b.misuse_reports == a.misuse_reports + 2);
    ST_CHECK(b.core.live_blocks == a.core.live_blocks); /* still allocated */
    kfree(p);
    kheap_get_stats(&a);
    kfree(p);                           /* double */
    kheap_get_stats(&b);
    ST_CHECK(b.misuse_reports == a.misuse_reports + 1);
    ST_CHECK(b.core.frees == a.core.frees);
    struct heap_report r;
    ST_CHECK(kheap_check(&r));
}

/* A guarded block ends at an unmapped page: one byte past it faults. */
static void test_guarded(void)
{
    uint32_t free_before = pmm_zone_free_count(pmm_get_zone());
    uint8_t *p = kmalloc_guarded(100, "selftest");
    if (!ST_CHECK(p != NULL))
        return;
    uintptr_t end = (uintptr_t)p + 100;
    ST_CHECK((end & (PAGE_SIZE - 1)) == 0);
    ST_CHECK(probe_write32((uintptr_t)p + 96, 0x12345678));
    ST_CHECK(!probe_write32(end, 1));          /* the guard page */
    char what[112];
    ST_CHECK(kheap_describe(end, what, sizeof(what)));
    kfree(p);
    uint32_t v;
    ST_CHECK(!probe_read32((uintptr_t)p, &v)); /* unmapped again */
    ST_CHECK(pmm_zone_free_count(pmm_get_zone()) == free_before);
}

static const struct selftest heap_tests[] = {
    {"heap-round-trip", test_round_trip},
    {"heap-calloc-realloc-aligned", test_calloc_realloc_aligned},
    {"heap-misuse-reported", test_misuse_reported},
    {"heap-guarded", test_guarded},
};

void heap_selftests_register(void)
{
    selftest_register(heap_tests, ARRAY_SIZE(heap_tests));
}
