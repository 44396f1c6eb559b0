/*
 * fuzz_heap.c - the kernel heap (heap_core.h) driven by the fuzzer's bytes.
 *
 * The first byte sets the heap up: bit 0 turns the debug checks on, bits
 * 1-2 pick the range (16 MiB, or 64 KiB, 256 KiB, 1 MiB: small enough to
 * fill up).  Then each byte is an operation, followed by its arguments,
 * until the bytes run out (at most MAX_OPS operations):
 *
 *   0-3  alloc (size, tag)          4  alloc_aligned (good and bad alignments)
 *   5-6  realloc (grow, shrink, 0)  7-9  free of a live block
 *   10   free, then a double free   11  free of an interior pointer
 *   12   free of an address in the range or outside it
 *   13   the page source: a budget of pages, or refuse every k-th back
 *   14   debug on: an overflow, a smashed header or a write after free, which
 *        heap_check and heap_free must name; then repaired.  Off: queries
 *   15   sizes that cannot be served (wrap, > range)
 *
 * A block is named by its place in the model's list of live blocks (a free
 * moves the last one into its place), so the bytes of an input always mean
 * the same operations on the same blocks.
 *
 * The model of the live blocks (at most MAX_LIVE; heap_model.h) and its
 * checks (heap_model_check.h) are shared with test_heap_model.c: each new
 * block must be aligned, inside the range, on backed pages and overlap no
 * other; its pattern must be intact when it is freed or reallocated.  A
 * misuse must be refused with the right problem and change nothing (the
 * counters are compared).  HEAP_NO_MEMORY only when the source refused,
 * or in a small range (16 MiB never fills with MAX_LIVE blocks of at most
 * ~72 KiB).  heap_check every CHECK_EVERY operations (with debug on every
 * DEBUG_CHECK_EVERY: it then reads every free slot, and more often costs
 * the fuzzer most of its speed), after each corruption, and at the end,
 * when everything is freed and every page still backed must be the page
 * map, a retained page or an empty cached slab.  Any failure aborts.
 */
#include "../host/heap_model.h"
#include "../host/heap_model_check.h"

#define MAX_OPS 2000
#define MAX_LIVE 48
#define CHECK_EVERY 8        /* debug off */
#define DEBUG_CHECK_EVERY 32 /* debug on */
#define BIG_PAGES 4096u /* 16 MiB: 48 blocks of at most ~72 KiB can never fill it */

static struct heap_model the_model;
static struct heap_model *const m = &the_model;

static const uint8_t *in;
static size_t in_len, in_at;

static uint32_t byte(void)
{
    return in_at < in_len ? in[in_at++] : 0;
}

static uint32_t word(void)
{
    uint32_t lo = byte();
    return lo | byte() << 8;
}

static void print_input_byte(FILE *f)
{
    fprintf(f, ", input byte %zu", in_at);
}

static const char *const tags[40] = {
    NULL, "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p",
    "q", "r", "s", "t", "u", "v", "w", "x", "y", "z", "0", "1", "2", "3", "4", "5", "6",
    "7", "8", "9", "shell", "vfs", "net",
};

static uint8_t pick_tag(uint32_t b)
{
    return model_tag(m, (uint8_t)(b % 40));
}

/* ---- operations --------------------------------------------------------------- */

static size_t get_size(void)
{
    static const size_t edges[] = {0, 1, 16, 17, 128, 129, 4095, 4096, 4097, 8191, 8192,
                                   8193, 12288, 65536};
    uint32_t k = byte();
    switch (k & 7) {
    case 0: case 1: case 2: return byte();
    case 3: return word() & 0xfff;
    case 4: return word() & 0x3fff;
    case 5: return word();
    case 6: return edges[(k >> 3) % (sizeof(edges) / sizeof(edges[0]))];
    default: return 1 + (k >> 3);
    }
}

/* An allocation's result: a new block, or a failure that changed nothing. */
static void result(void *p, size_t size, size_t align, uint8_t tag, uint32_t site,
                   const struct heap_report *r, const struct snap *s)
{
    size_t range = arena_bytes(&m->src);
    if (!p) {
        bool small = m->src.pages < BIG_PAGES;
        /* > range: too large; nearly the range: either; else no memory, when
         * the source refused or a small range may be full */
        unsigned ok = size > range ? BIT(HEAP_TOO_LARGE)
                    : BIT(HEAP_NO_MEMORY) * (m->src.refusals > s->refusals || small) |
                          BIT(HEAP_TOO_LARGE) * (size > range - 2 * HEAP_PAGE);
        EXPECT(ok & BIT(r->problem), "alloc(%zu, align %zu) failed: %s (source refused %llu)",
               size, align, pname(r->problem), (ull)(m->src.refusals - s->refusals));
        expect_unchanged(m, s, 1, 0, true, "a failed allocation");
        return;
    }
    EXPECT(r->problem == HEAP_OK && size <= range, "alloc(%zu) succeeded with %s", size,
           pname(r->problem));
    uint32_t i = model_add(m, (uintptr_t)p, size, align < 16 ? 16 : align, tag, site,
                           m->next_id++);
    pattern_fill(p, 0, size, m->blocks[i].id);
    check_block(m, i, true);
}

static void op_alloc(uint32_t op, bool aligned)
{
    size_t size = get_size(), align = 16;
    if (aligned) {
        uint32_t a = byte();
        align = a & 0x80 ? (a & 0x7f ? a & 0x7f : 3) : (size_t)1 << (a % 14);
    }
    if (m->nlive == MAX_LIVE)
        return;
    bool bad_align = aligned && (align & (align - 1) || align > HEAP_PAGE);
    uint32_t tag_byte = op >> 4 | byte() << 4;
    /* a bad alignment is refused before the heap looks at the tag */
    uint8_t t = bad_align ? (uint8_t)(tag_byte % 40) : pick_tag(tag_byte);
    uint32_t site = 0x1000 + (uint32_t)m->ops;
    struct snap s = take_snap(m);
    struct heap_report r;
    memset(&r, 0, sizeof(r));
    void *p = aligned ? heap_alloc_aligned(&m->heap, size, align, tags[t], site, &r)
                      : heap_alloc(&m->heap, size, tags[t], site, &r);
    if (bad_align) {
        bool big = size > (size_t)(m->src.pages - 2) * HEAP_PAGE; /* which is checked first? */
        EXPECT(!p && (r.problem == HEAP_BAD_ALIGN || (big && r.problem == HEAP_TOO_LARGE)),
               "alignment %zu: %p, %s", align, p, pname(r.problem));
        expect_unchanged(m, &s, 1, 0, true, "a bad alignment");
        return;
    }
    result(p, size, align, t, site, &r, &s);
}

/* Frees block i (blocks[] index); with `twice`, frees it again at once. */
static void op_free(uint32_t i, bool twice)
{
    struct block b = m->blocks[i];
    expect_intact(m, i, b.p, b.size, "free");
    struct heap_report r;
    memset(&r, 0, sizeof(r));
    m->freeing = i;
    bool ok = heap_free(&m->heap, (void *)b.p, &r);
    m->freeing = 0;
    EXPECT(ok, "free of live 0x%llx refused: %s", (ull)b.p, pname(r.problem));
    model_remove(m, i);
    if (!twice)
        return;
    struct snap mid = take_snap(m);
    /* a slot or run freed twice is always caught, its pages gone or not */
    memset(&r, 0, sizeof(r));
    EXPECT(!heap_free(&m->heap, (void *)b.p, &r) && r.problem == HEAP_DOUBLE_FREE &&
               r.pointer == b.p,
           "double free of 0x%llx: %s", (ull)b.p, pname(r.problem));
    expect_unchanged(m, &mid, 0, 1, true, "a double free");
}

/* A refused free (heap_model.h); inside a block, its size is refused too. */
static void bad_free(uintptr_t a, unsigned want, const char *what)
{
    refuse_free(m, a, want, what);
    uint32_t i = block_at(m, a);
    if (i && m->blocks[i].p != a) {
        struct heap_report r;
        memset(&r, 0, sizeof(r));
        EXPECT(heap_block_size(&m->heap, (void *)a, &r) == 0, "block_size(interior) != 0");
    }
}

static void op_wild(void)
{
    uint32_t k = byte(), off = word() | byte() << 16;
    uintptr_t base = m->src.base, a;
    size_t range = arena_bytes(&m->src);
    if (k & 1) { /* outside */
        const uintptr_t out[] = {base - 1, base - 16, base + range, base + range + 16,
                                 (uintptr_t)&m->heap, 16, UINTPTR_MAX & ~15ull};
        bad_free(out[(k >> 1) % 7], BIT(HEAP_BAD_POINTER), "outside");
        struct heap_block_info bi;
        heap_describe(&m->heap, out[(k >> 1) % 7], &bi);
        EXPECT(!bi.in_heap && !bi.live, "describe outside: in_heap");
        return;
    }
    if (k & 2 && m->nlive) /* near a live block */
        a = m->blocks[m->live[(k >> 2) % m->nlive]].p + (off & 0x3fff) - 0x2000;
    else
        a = base + off % range;
    if (k & 4)
        a &= ~(uintptr_t)15;
    if (a < base || a >= base + range)
        return;
    uint32_t i = block_at(m, a);
    if (i && m->blocks[i].p == a)
        return;
    struct heap_stats s;
    heap_get_stats(&m->heap, &s);
    uint32_t pg = (uint32_t)((a - base) / HEAP_PAGE);
    /* a free page may remember a block freed there: a double free then */
    bad_free(a, pg < s.map_pages               ? BIT(HEAP_BAD_POINTER)
                : !arena_backed(&m->src, pg) ? GONE
                : i                          ? BIT(HEAP_INTERIOR)
                                             : MISUSE, "wild");
    /* outside the requested bytes, "live" may name the block whose slot
     * (slack, padding, header, red zone) holds it: within a slot of it */
    struct heap_block_info bi;
    heap_describe(&m->heap, a, &bi);
    uint32_t named = bi.live ? block_at(m, bi.block) : 0;
    EXPECT(bi.in_heap && (i ? bi.live && bi.block == m->blocks[i].p
                            : !bi.live || (named && m->blocks[named].p == bi.block &&
                                           a + bi.slot > bi.block && a < bi.block + bi.slot)),
           "describe(0x%llx): live %d block 0x%llx slot %zu", (ull)a, bi.live, (ull)bi.block,
           bi.slot);
}

static void op_realloc(uint32_t op)
{
    uint32_t k = byte();
    size_t n = get_size();
    struct snap s = take_snap(m);
    uint32_t site = 0x2000 + (uint32_t)m->ops;
    struct heap_report r;
    memset(&r, 0, sizeof(r));
    if (!m->nlive || (op & 0x80)) { /* from NULL */
        if (m->nlive == MAX_LIVE || n == 0)
            return;
        result(heap_realloc(&m->heap, NULL, n, site, &r), n, 16, 0, site, &r, &s);
        return;
    }
    uint32_t i = m->live[k % m->nlive];
    struct block b = m->blocks[i];
    if (op & 0x40)
        n = b.size + n; /* grow */
    expect_intact(m, i, b.p, b.size, "realloc");
    size_t usable = heap_block_size(&m->heap, (void *)b.p, &r);
    m->freeing = i;
    void *q = heap_realloc(&m->heap, (void *)b.p, n, site, &r);
    m->freeing = 0;
    if (n == 0) {
        EXPECT(!q && r.problem == HEAP_OK, "realloc(p, 0): %p %s", q, pname(r.problem));
        model_remove(m, i);
        return;
    }
    if (!q) {
        result(NULL, n, 16, b.tag, site, &r, &s);
        expect_intact(m, i, b.p, b.size, "after a failed realloc");
        return;
    }
    EXPECT(m->debug || n > usable || q == (void *)b.p, "realloc within the usable size moved");
    size_t keep = n < b.size ? n : b.size;
    expect_intact(m, i, (uintptr_t)q, keep, "the block of a realloc");
    model_remove(m, i);
    bool moved = q != (void *)b.p;
    uint32_t j = model_add(m, (uintptr_t)q, n, moved ? 16 : b.align, b.tag, moved ? site : 0,
                           b.id);
    pattern_fill(q, keep, n, b.id);
    check_block(m, j, false);
    EXPECT(r.problem == HEAP_OK, "realloc succeeded with %s", pname(r.problem));
}

/* Debug: break a red zone, a header or a free slot, then repair it. */
static void op_corrupt(uint32_t k)
{
    if (!m->nlive)
        return;
    uint32_t i = m->live[(k >> 2) % m->nlive];
    struct block b = m->blocks[i];
    if (b.size > 2048 || b.align > 16)
        return;
    struct heap_report r;
    memset(&r, 0, sizeof(r));
    if ((k & 3) < 2) {
        bool over = (k & 3) == 0;
        size_t off = over ? b.size + (k >> 5) % HEAP_DEBUG_TAIL_MIN : (k >> 4) % 16;
        uintptr_t a = over ? b.p + off : b.p - HEAP_DEBUG_HEADER + off;
        enum heap_problem want = over ? HEAP_OVERFLOW : HEAP_HEADER_SMASHED;
        uint8_t old = poke(a, 0);
        EXPECT(!over || old == HEAP_REDZONE, "red zone byte is 0x%02x", old);
        if (old == 0)
            poke(a, 0x55);
        EXPECT(!heap_check(&m->heap, &r) && r.problem == want && r.block == b.p &&
                   (!over || r.offset == off),
               "heap_check after a %s: %s block 0x%llx offset %zu", pname(want),
               pname(r.problem), (ull)r.block, r.offset);
        bad_free(b.p, BIT(want), "broken block");
        poke(a, old);
    } else {
        struct heap_stats s, after;
        heap_get_stats(&m->heap, &s);
        op_free(i, false);
        heap_get_stats(&m->heap, &after);
        if (!b.size || after.slabs != s.slabs || after.runs != s.runs)
            return;
        uintptr_t a = b.p + (k >> 2) % b.size;
        uint8_t old = poke(a, 0);
        EXPECT(old == HEAP_POISON, "a freed byte is 0x%02x", old);
        EXPECT(!heap_check(&m->heap, &r) && r.problem == HEAP_USE_AFTER_FREE &&
                   r.block + r.offset == a,
               "heap_check after a write after free: %s block 0x%llx + %zu", pname(r.problem),
               (ull)r.block, r.offset);
        poke(a, old);
    }
    EXPECT(heap_check(&m->heap, &r), "heap_check after the repair: %s", pname(r.problem));
}

static void op_huge(uint32_t k)
{
    size_t range = arena_bytes(&m->src);
    const size_t huge[] = {SIZE_MAX, SIZE_MAX - 10, SIZE_MAX - HEAP_PAGE + 1, SIZE_MAX / 2 + 1,
                           range + 1, (size_t)HEAP_MAX_PAGES * HEAP_PAGE + 1};
    size_t size = huge[(k >> 2) % 6];
    struct snap s = take_snap(m);
    struct heap_report r;
    memset(&r, 0, sizeof(r));
    if ((k & 3) == 1)
        pick_tag(1); /* "a": the heap takes it into its table, though the size is refused */
    void *p = (k & 3) == 0 ? heap_alloc(&m->heap, size, NULL, 1, &r)
            : (k & 3) == 1 ? heap_alloc_aligned(&m->heap, size, 64, "a", 1, &r)
            : (k & 3) == 2 || !m->nlive
                ? heap_realloc(&m->heap, NULL, size, 1, &r)
                : heap_realloc(&m->heap, (void *)m->blocks[m->live[k % m->nlive]].p, size, 1,
                               &r);
    EXPECT(!p && r.problem == HEAP_TOO_LARGE, "%zu bytes: %p, %s", size, p, pname(r.problem));
    expect_unchanged(m, &s, 1, 0, true, "a size too large");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    if (!m->blocks) {
        model_open(m, "fuzz_heap", BIG_PAGES, MAX_LIVE, tags, 40);
        m->context = print_input_byte;
    }
    in = data;
    in_len = len;
    in_at = 0;
    m->ops = 0;
    uint32_t setup = byte();
    static const uint32_t ranges[4] = {BIG_PAGES, 16, 64, 256};
    model_reset(m, setup & 1, ranges[setup >> 1 & 3]);
    m->next_id = 1;
    struct heap_config cfg = {.debug = m->debug};
    struct heap_pages source = arena_source(&m->src);
    EXPECT(heap_init(&m->heap, m->src.base, arena_bytes(&m->src), &source, &cfg),
           "heap_init of %u pages failed", m->src.pages);
    while (in_at < in_len && m->ops < MAX_OPS) {
        uint32_t op = byte();
        m->last[0] = 0; /* (only a refused free notes what it was doing) */
        switch (op & 15) {
        case 0: case 1: case 2: case 3: op_alloc(op, false); break;
        case 4: op_alloc(op, true); break;
        case 5: case 6: op_realloc(op); break;
        case 7: case 8: case 9: case 10:
            if (m->nlive)
                op_free(m->live[byte() % m->nlive], (op & 15) == 10);
            break;
        case 11:
            if (m->nlive) {
                const struct block *b = &m->blocks[m->live[op >> 4 < m->nlive ? op >> 4 : 0]];
                if (b->size > 1)
                    bad_free(b->p + 1 + word() % (b->size - 1), BIT(HEAP_INTERIOR), "interior");
            }
            break;
        case 12: op_wild(); break;
        case 13: {
            uint32_t k = byte();
            if (k & 0x80)
                m->src.limit = k == 0xff ? UINT32_MAX : m->src.count + (k & 0x3f);
            else
                m->src.fail_every = k & 7; /* refuse every k-th back (0: never) */
            break;
        }
        case 14:
            if (m->debug)
                op_corrupt(byte());
            else if (m->nlive)
                check_block(m, m->live[byte() % m->nlive], false);
            break;
        default: op_huge(byte()); break;
        }
        m->ops++;
        check_counters(m);
        if (m->ops % (m->debug ? DEBUG_CHECK_EVERY : CHECK_EVERY) == 0)
            full_check(m);
    }
    /* everything freed: no block, and every backed page accounted for */
    m->src.limit = UINT32_MAX;
    m->src.fail_every = 0;
    while (m->nlive)
        op_free(m->live[m->nlive - 1], false);
    expect_empty(m);
    return 0;
}
