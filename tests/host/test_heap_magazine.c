/*
 * test_heap_magazine.c - the magazines (heap_internal.h): recently freed
 * slots of full slabs kept per class for quick reuse, with debug off and
 * untagged slabs only.  A kept slot must still be caught when freed twice,
 * be treated as free by size/realloc/describe/walk/check, never exceed 16
 * a class, go back when its slab empties, and any damage to a magazine
 * must be found by heap_check.  Reaches into private fields on purpose.
 */
#define HEAP_CORE_PRIVATE
#include "kernel/heap_core.h"
#include <stdlib.h>

#include "check.h"

static uint8_t *arena;
static size_t backed;
static bool back(void *ctx, uintptr_t va, uint32_t n) { (void)ctx; (void)va; backed += n; return true; }
static void rel(void *ctx, uintptr_t va, uint32_t n) { (void)ctx; (void)va; backed -= n; }
static struct heap H;
static struct heap_report R;

static void setup(bool debug)
{
    static const struct heap_pages src = {back, rel, NULL};
    struct heap_config cfg = {.debug = debug};
    backed = 0;
    memset(arena, 0xa5, 16 << 20);
    CHECK(heap_init(&H, (uintptr_t)arena, 16 << 20, &src, &cfg));
}

static bool ok(void) { return heap_check(&H, &R); }

static void count_cb(void *ctx, const struct heap_block_info *b) { (void)b; (*(int *)ctx)++; }
static int blocks(void) { int n = 0; heap_for_each_block(&H, count_cb, &n); return n; }

static struct heap_stats st(void) { struct heap_stats s; heap_get_stats(&H, &s); return s; }

static void empty_check(void)
{
    struct heap_stats s = st();
    CHECK(s.live_blocks == 0 && s.slot_bytes == 0 && s.live_bytes == 0);
    size_t idle = H.map_pages_backed + H.retained;
    for (uint32_t c = 0; c < H.class_count; c++)
        idle += H.empty[c] ? H.classes[c].pages : 0;
    CHECK(s.backed_pages == idle);
    CHECK(backed == idle);
    CHECK(ok());
}

int main(void)
{
    arena = aligned_alloc(4096, 16 << 20);
    /* class 3 = 64 bytes, 63 slots a slab */
    setup(false);
    enum { N = 200 };
    void *p[N];
    for (int i = 0; i < N; i++)
        p[i] = heap_alloc(&H, 64, NULL, 0, &R);
    CHECK(ok());
    CHECK(H.mag_n[3] == 0);
    CHECK(heap_free(&H, p[5], &R)); /* slab full: parked */
    CHECK(H.mag_n[3] == 1);
    CHECK(ok());
    struct heap_stats before = st();
    CHECK(before.live_blocks == N - 1);
    /* double free of a parked slot */
    memset(&R, 0, sizeof R);
    CHECK(!heap_free(&H, p[5], &R) && R.problem == HEAP_DOUBLE_FREE);
    CHECK(H.mag_n[3] == 1);
    memset(&R, 0, sizeof R);
    CHECK(!heap_free(&H, (char *)p[5] + 8, &R) && R.problem == HEAP_BAD_POINTER);
    memset(&R, 0, sizeof R);
    CHECK(heap_block_size(&H, p[5], &R) == 0 && R.problem == HEAP_DOUBLE_FREE);
    memset(&R, 0, sizeof R);
    CHECK(heap_realloc(&H, p[5], 10, 0, &R) == NULL && R.problem == HEAP_DOUBLE_FREE);
    struct heap_stats after = st();
    CHECK(after.live_blocks == before.live_blocks && after.slot_bytes == before.slot_bytes &&
          after.bad_frees == before.bad_frees + 3);
    struct heap_block_info bi;
    heap_describe(&H, (uintptr_t)p[5], &bi);
    CHECK(!bi.live && strcmp(bi.what, "free slot") == 0);
    heap_describe(&H, (uintptr_t)p[6], &bi);
    CHECK(bi.live);
    CHECK(blocks() == N - 1);
    CHECK(ok());
    /* LIFO reuse */
    void *q = heap_alloc(&H, 60, NULL, 0, &R);
    CHECK(q == p[5] && H.mag_n[3] == 0);
    CHECK(ok());
    /* tagged: never parked */
    void *t[70];
    for (int i = 0; i < 70; i++)
        t[i] = heap_alloc(&H, 64, "tagged", 0, &R);
    CHECK(heap_free(&H, t[3], &R) && H.mag_n[3] == 0);
    CHECK(ok());
    /* 16 parked, the 17th into its slab */
    for (int i = 10; i < 27; i++)
        CHECK(heap_free(&H, p[i], &R));
    CHECK(H.mag_n[3] == 16);
    CHECK(ok());
    for (int i = 10; i < 27; i++) {
        memset(&R, 0, sizeof R);
        CHECK(!heap_free(&H, p[i], &R) && R.problem == HEAP_DOUBLE_FREE);
    }
    CHECK(ok());
    /* corruption of the magazine is caught */
    uint32_t saved = H.mag[3][2];
    H.mag[3][2] = H.mag[3][3];
    CHECK(!ok() && R.problem == HEAP_CORRUPT);
    H.mag[3][2] = saved + 8;
    CHECK(!ok());
    H.mag[3][2] = 12345;
    CHECK(!ok());
    H.mag[3][2] = saved;
    CHECK(ok());
    H.mag_n[3] = 17;
    CHECK(!ok());
    H.mag_n[3] = 16;
    CHECK(ok());
    H.mag_n[3] = 15;
    CHECK(!ok()); /* entry 15 not 0 */
    H.mag_n[3] = 16;
    H.mag[5][0] = saved; /* a slot of class 3 in class 5's magazine (n = 0) */
    CHECK(!ok());
    H.mag[5][0] = 0;
    CHECK(ok());
    /* a parked slot whose bit got cleared */
    {
        uintptr_t off = H.mag[3][0], page = off >> 12;
        struct heap_slab *s = heap_slab_of(&H, (uint32_t)page, H.map[page]);
        uint32_t i = (uint32_t)((H.base + off - ((uintptr_t)s - H.fast[3].hdr_off)) / 64);
        s->bits[i >> 5] ^= 1u << (i & 31);
        CHECK(!ok());
        s->bits[i >> 5] ^= 1u << (i & 31);
        CHECK(ok());
    }
    /* free everything, in an order that empties slabs with parked slots */
    for (int i = N - 1; i >= 0; i--) {
        if ((i >= 10 && i < 27) || i == 5)
            continue;
        CHECK(heap_free(&H, p[i], &R));
        if (i % 17 == 0)
            CHECK(ok());
    }
    CHECK(heap_free(&H, q, &R));
    for (int i = 0; i < 70; i++)
        if (i != 3)
            CHECK(heap_free(&H, t[i], &R));
    CHECK(H.mag_n[3] == 0);
    empty_check();

    /* a class with few slots a slab: 448 bytes, 9 a slab */
    setup(false);
    void *b[40];
    for (int i = 0; i < 40; i++)
        b[i] = heap_alloc(&H, 448, NULL, 0, &R);
    for (int i = 0; i < 40; i++) {
        CHECK(heap_free(&H, b[i], &R));
        CHECK(ok());
    }
    empty_check();
    /* random churn with checks */
    setup(false);
    srand(3);
    void *live[500] = {0};
    for (int k = 0; k < 200000; k++) {
        int i = rand() % 500;
        if (live[i]) {
            CHECK(heap_free(&H, live[i], &R));
            if (rand() % 4 == 0) {
                memset(&R, 0, sizeof R);
                CHECK(!heap_free(&H, live[i], &R) && R.problem == HEAP_DOUBLE_FREE);
            }
            live[i] = NULL;
        } else {
            size_t sz = rand() % 3 ? 16 + rand() % 500 : rand() % 5000;
            live[i] = heap_alloc(&H, sz, rand() % 10 ? NULL : "tg", 0, &R);
            CHECK(live[i]);
        }
        if (k % 997 == 0)
            CHECK(ok());
    }
    for (int i = 0; i < 500; i++)
        if (live[i])
            CHECK(heap_free(&H, live[i], &R));
    empty_check();
    /* debug: nothing parks */
    setup(true);
    for (int i = 0; i < N; i++)
        p[i] = heap_alloc(&H, 64, NULL, 0, &R);
    CHECK(heap_free(&H, p[5], &R) && H.mag_n[3] == 0);
    for (int i = 0; i < N; i++)
        if (i != 5)
            CHECK(heap_free(&H, p[i], &R));
    empty_check();
    free(arena);
    return check_summary("heap_magazine");
}
