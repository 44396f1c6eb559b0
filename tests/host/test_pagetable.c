/*
 * test_pagetable.c - the page-table logic on a fake physical memory.
 *
 * "Physical" memory is a 4 MiB arena of host memory: physical address P
 * is arena + (P - ARENA_BASE), and ARENA_BASE is 4 MiB, so 0 (the
 * allocator's "no frame") is never a real frame.  The fake allocator hands
 * out arena frames and can be told to fail after a number of allocations;
 * the callbacks log every invalidation and every freed table, and complain
 * (as a "contract broken" failure) when asked for a frame that is not
 * allocated, for a table that is not in the directory entry named, or to
 * free a table whose directory entry is still set.
 *
 * Free frames hold a fill pattern and a freed table gets it back, so
 * "nothing changed" is one byte comparison of the whole arena, even after
 * an error that made tables and took them back; and a new table that was
 * not zeroed shows up as garbage entries.
 *
 * The last test is a model test: seeded random map / map_range / unmap /
 * protect / translate operations (and the CPU setting accessed and dirty)
 * against an array of expected entries, including the exact invalidations
 * each operation must make.
 *
 *     test_pagetable [seed [operations]]
 *
 * prints the seed, so a failure can be replayed.
 */
#include <stdlib.h>

#include "check.h"
#include "kernel/pagetable.h"

#define ARENA_BASE 0x00400000u
#define ARENA_FRAMES 1024u
#define ARENA_BYTES (ARENA_FRAMES * PAGE_SIZE)
#define FREE_FILL 0xa5
#define LOG_MAX 64

#define P PTE_PRESENT
#define W PTE_WRITABLE
#define U PTE_USER

static uint8_t *arena, *saved;
static _Alignas(4096) pte_t scratch[PT_ENTRIES]; /* handed out after a misuse */

static struct {
    uint32_t stack[ARENA_FRAMES]; /* free frame numbers; the top is next */
    uint32_t stack_n;
    bool used[ARENA_FRAMES];
    uint32_t in_use;      /* frames handed out and not given back */
    long budget;          /* allocations left before failing; < 0: no limit */
    unsigned long misuse; /* callback calls the contract does not allow */
    vaddr_t inval[LOG_MAX];
    uint32_t inval_n;     /* counts past LOG_MAX too */
    uint32_t freed_index[LOG_MAX];
    paddr_t freed_phys[LOG_MAX];
    uint32_t freed_n;
    uint32_t saved_in_use;
} fake;

static pte_t *mem(paddr_t p)
{
    return (pte_t *)(arena + (p - ARENA_BASE));
}

static bool frame_ok(paddr_t p)
{
    return p >= ARENA_BASE && p - ARENA_BASE < ARENA_BYTES && (p & (PAGE_SIZE - 1)) == 0 &&
           fake.used[(p - ARENA_BASE) / PAGE_SIZE];
}

static void misuse(const char *what, uint32_t a, uint32_t b)
{
    fake.misuse++;
    if (fake.misuse <= 10)
        fprintf(stderr, "    contract broken: %s (0x%x, 0x%x)\n", what, a, b);
}

static pte_t *fake_table(struct pt_space *s, uint32_t index, paddr_t phys)
{
    if (!frame_ok(phys)) {
        misuse("table() of a frame that is not allocated", index, phys);
        return scratch;
    }
    if (index == PT_DIRECTORY) {
        if (phys != s->directory)
            misuse("table(PT_DIRECTORY) of another frame", index, phys);
    } else if (index >= PT_ENTRIES) {
        misuse("table() index past the directory", index, phys);
    } else {
        pte_t pde = mem(s->directory)[index];
        if (!(pde & P) || pte_frame(pde) != phys)
            misuse("table() of a table not installed in that entry", index, phys);
    }
    return mem(phys);
}

static paddr_t fake_alloc(struct pt_space *s)
{
    UNUSED(s);
    if (fake.budget == 0 || fake.stack_n == 0)
        return 0;
    if (fake.budget > 0)
        fake.budget--;
    uint32_t f = fake.stack[--fake.stack_n];
    fake.used[f] = true;
    fake.in_use++;
    return ARENA_BASE + f * PAGE_SIZE;
}

static void fake_free(struct pt_space *s, uint32_t index, paddr_t phys)
{
    if (!frame_ok(phys) || phys == s->directory) {
        misuse("free_table() of a frame that is not a table", index, phys);
        return;
    }
    if (index >= PT_ENTRIES || mem(s->directory)[index] != 0)
        misuse("free_table() while the directory entry is set", index, phys);
    if (fake.freed_n < LOG_MAX) {
        fake.freed_index[fake.freed_n] = index;
        fake.freed_phys[fake.freed_n] = phys;
    }
    fake.freed_n++;
    memset(mem(phys), FREE_FILL, PAGE_SIZE);
    uint32_t f = (phys - ARENA_BASE) / PAGE_SIZE;
    fake.used[f] = false;
    fake.in_use--;
    fake.stack[fake.stack_n++] = f;
}

static void fake_invalidate(struct pt_space *s, vaddr_t va)
{
    UNUSED(s);
    if (fake.inval_n < LOG_MAX)
        fake.inval[fake.inval_n] = va;
    fake.inval_n++;
}

/* A space with no directory yet, over an arena of free (filled) frames. */
static struct pt_space fresh(bool recursive)
{
    memset(&fake, 0, sizeof(fake));
    memset(arena, FREE_FILL, ARENA_BYTES);
    for (uint32_t f = 0; f < ARENA_FRAMES; f++)
        fake.stack[f] = ARENA_FRAMES - 1 - f; /* frame 0 first */
    fake.stack_n = ARENA_FRAMES;
    fake.budget = -1;
    return (struct pt_space){0, recursive, fake_table, fake_alloc, fake_free,
                             fake_invalidate, NULL};
}

static struct pt_space made(bool recursive)
{
    struct pt_space s = fresh(recursive);
    CHECK(pt_create(&s) == PT_OK);
    return s;
}

static void clear_logs(void)
{
    fake.inval_n = 0;
    fake.freed_n = 0;
}

static void snapshot(void)
{
    memcpy(saved, arena, ARENA_BYTES);
    fake.saved_in_use = fake.in_use;
    clear_logs();
}

/* Same bytes and frames as at snapshot(); invalidations and tables made
 * and given back are allowed. */
static bool same_as_saved(void)
{
    return memcmp(saved, arena, ARENA_BYTES) == 0 && fake.in_use == fake.saved_in_use;
}

/* Nothing at all happened since snapshot(). */
static bool untouched(void)
{
    bool ok = memcmp(saved, arena, ARENA_BYTES) == 0 && fake.in_use == fake.saved_in_use &&
              fake.inval_n == 0 && fake.freed_n == 0;
    clear_logs();
    return ok;
}

static vaddr_t window(uint32_t i)
{
    return PT_WINDOW + i * PAGE_SIZE;
}

/* The invalidation log is exactly the n addresses given. */
static bool inval_is(uint32_t n, const vaddr_t *want)
{
    if (fake.inval_n != n)
        return false;
    for (uint32_t k = 0; k < n; k++)
        if (fake.inval[k] != want[k])
            return false;
    return true;
}
#define INVAL_IS(...)                                                      \
    inval_is(sizeof((vaddr_t[]){__VA_ARGS__}) / sizeof(vaddr_t), (vaddr_t[]){__VA_ARGS__})

/* ---- unit tests ---------------------------------------------------------- */

static void test_create(void)
{
    struct pt_space s = fresh(false);
    CHECK(pt_create(&s) == PT_OK);
    CHECK(frame_ok(s.directory));
    CHECK_EQ_U64(fake.in_use, 1);
    CHECK_EQ_U64(fake.inval_n, 0);
    uint32_t nonzero = 0;
    for (uint32_t k = 0; k < PT_ENTRIES; k++)
        nonzero += pt_dir_entry(&s, k) != 0;
    CHECK_EQ_U64(nonzero, 0);
    CHECK_EQ_U64(pt_dir_entry(&s, PT_ENTRIES), 0); /* past the end */

    s = fresh(true);
    CHECK(pt_create(&s) == PT_OK);
    CHECK_EQ_U64(pt_dir_entry(&s, PT_RECURSIVE_SLOT), s.directory | P | W);
    nonzero = 0;
    for (uint32_t k = 0; k < PT_RECURSIVE_SLOT; k++)
        nonzero += pt_dir_entry(&s, k) != 0;
    CHECK_EQ_U64(nonzero, 0);
    /* Through the slot the directory is a page of the window. */
    struct pt_walk w;
    CHECK(pt_walk(&s, window(PT_RECURSIVE_SLOT) + 8, &w));
    CHECK_EQ_U64(w.phys, s.directory + 8);
    CHECK_EQ_U64(w.flags, P | W);
    CHECK_EQ_U64(pt_table_present(&s, PT_RECURSIVE_SLOT), 1);

    s = fresh(true);
    s.directory = 0x1234000;
    fake.budget = 0;
    CHECK(pt_create(&s) == PT_ERR_NO_MEMORY);
    CHECK_EQ_U64(s.directory, 0x1234000);
    CHECK_EQ_U64(fake.in_use, 0);
    CHECK_EQ_U64(fake.misuse, 0);
}

static void test_map_and_walk(void)
{
    struct pt_space s = made(false);
    clear_logs();
    CHECK(pt_map(&s, 0x00801000, 0x12345000, W) == PT_OK);
    CHECK_EQ_U64(fake.in_use, 2);
    CHECK_EQ_U64(fake.inval_n, 0); /* not present before: nothing cached */
    pte_t pde = pt_dir_entry(&s, 2);
    CHECK(frame_ok(pte_frame(pde)));
    CHECK_EQ_U64(pde & ~PTE_FRAME_MASK, P | W);
    CHECK_EQ_U64(pt_table_entry(&s, 2, 1), 0x12345000 | P | W);
    CHECK_EQ_U64(pt_table_present(&s, 2), 1); /* so the new table was zeroed */
    CHECK_EQ_U64(pt_table_entry(&s, 2, PT_ENTRIES), 0);

    struct pt_walk w;
    CHECK(pt_walk(&s, 0x00801abc, &w));
    CHECK(w.mapped && !w.large);
    CHECK_EQ_U64(w.va, 0x00801abc);
    CHECK_EQ_U64(w.pde_index, 2);
    CHECK_EQ_U64(w.pte_index, 1);
    CHECK_EQ_U64(w.pde, pde);
    CHECK_EQ_U64(w.pte, 0x12345000 | P | W);
    CHECK_EQ_U64(w.phys, 0x12345abc);
    CHECK_EQ_U64(w.flags, P | W);

    paddr_t pa = 77;
    CHECK(pt_translate(&s, 0x00801fff, &pa));
    CHECK_EQ_U64(pa, 0x12345fff);
    pa = 77;
    CHECK(!pt_translate(&s, 0x00800fff, &pa));
    CHECK(!pt_translate(&s, 0x00802000, &pa));
    CHECK_EQ_U64(pa, 77);

    CHECK(!pt_walk(&s, 0x00c00010, &w)); /* no table */
    CHECK(!w.mapped && !w.large);
    CHECK_EQ_U64(w.pde, 0);
    CHECK_EQ_U64(w.pte, 0);
    CHECK_EQ_U64(w.phys, 0);
    CHECK_EQ_U64(w.pde_index, 3);
    CHECK(!pt_walk(&s, 0x00800000, &w)); /* table, no page */
    CHECK_EQ_U64(w.pde, pde);
    CHECK_EQ_U64(w.pte, 0);

    /* A second page in the same table needs no frame; frame 0 is fine. */
    CHECK(pt_map(&s, 0x00bff000, 0, 0) == PT_OK);
    CHECK_EQ_U64(fake.in_use, 2);
    CHECK(pt_translate(&s, 0x00bff123, &pa));
    CHECK_EQ_U64(pa, 0x123);
    CHECK_EQ_U64(pt_table_present(&s, 2), 2);

    /* Without the recursive slot, entry 1023 is an ordinary one. */
    CHECK(pt_map(&s, 0xfffff000, 0x7000, W) == PT_OK);
    CHECK(pt_translate(&s, 0xffffffff, &pa));
    CHECK_EQ_U64(pa, 0x7fff);
    CHECK(pt_map(&s, PT_WINDOW, 0x8000, W) == PT_OK);

    /* With it, a new table's window page is invalidated (once). */
    s = made(true);
    clear_logs();
    CHECK(pt_map(&s, 0x00c00000, 0x9000, W) == PT_OK);
    CHECK(INVAL_IS(window(3)));
    clear_logs();
    CHECK(pt_map(&s, 0x00c01000, 0xa000, W) == PT_OK);
    CHECK_EQ_U64(fake.inval_n, 0);
    /* ... and the table itself can be seen through the window. */
    CHECK(pt_walk(&s, window(3) + 4, &w));
    CHECK_EQ_U64(w.phys, pte_frame(pt_dir_entry(&s, 3)) + 4);
    CHECK_EQ_U64(fake.misuse, 0);
}

static void test_user_directory_entries(void)
{
    struct pt_space s = made(false);
    struct pt_walk w;
    CHECK(pt_map(&s, 0x00400000, 0x1000, W) == PT_OK);
    CHECK_EQ_U64(pt_dir_entry(&s, 1) & ~PTE_FRAME_MASK, P | W);
    CHECK(pt_map(&s, 0x00800000, 0x2000, W | U) == PT_OK);
    CHECK_EQ_U64(pt_dir_entry(&s, 2) & ~PTE_FRAME_MASK, P | W | U);
    CHECK_EQ_U64(pt_table_entry(&s, 2, 0), 0x2000 | P | W | U);
    CHECK(pt_walk(&s, 0x00800000, &w));
    CHECK_EQ_U64(w.flags, P | W | U);

    /* A read-only user page in the kernel's table: the entry becomes user,
     * the kernel page beside it stays kernel-only. */
    clear_logs();
    CHECK(pt_map(&s, 0x00401000, 0x3000, U) == PT_OK);
    CHECK_EQ_U64(pt_dir_entry(&s, 1) & ~PTE_FRAME_MASK, P | W | U);
    CHECK(INVAL_IS(0x00401000));
    CHECK(pt_walk(&s, 0x00401000, &w));
    CHECK_EQ_U64(w.flags, P | U);
    CHECK(pt_walk(&s, 0x00400000, &w));
    CHECK_EQ_U64(w.flags, P | W);

    /* Effective flags need both levels: a read-only directory entry. */
    mem(s.directory)[2] &= ~W;
    CHECK(pt_walk(&s, 0x00800000, &w));
    CHECK_EQ_U64(w.flags, P | U);
    mem(s.directory)[2] &= ~U;
    CHECK(pt_walk(&s, 0x00800000, &w));
    CHECK_EQ_U64(w.flags, P);
    CHECK_EQ_U64(fake.misuse, 0);
}

static void test_errors_change_nothing(void)
{
    struct pt_space s = made(true);
    CHECK(pt_map(&s, 0x00400000, 0x2000, W) == PT_OK);
    mem(s.directory)[5] = 0x40000000 | P | W | PTE_PS; /* 0x01400000, 4 MiB */
    paddr_t old = 0xdead000;
    snapshot();

    CHECK(pt_map(&s, 0x00400000, 0x5000, W) == PT_ERR_EXISTS);
    CHECK(untouched());
    CHECK(pt_map(&s, 0x00400800, 0x5000, 0) == PT_ERR_UNALIGNED);
    CHECK(pt_map(&s, 0x00402000, 0x5001, 0) == PT_ERR_UNALIGNED);
    CHECK(pt_map(&s, 0x00402001, 0x5000, PTE_DIRTY) == PT_ERR_UNALIGNED); /* first */
    CHECK(untouched());
    uint32_t bad[] = {P, PTE_ACCESSED, PTE_DIRTY, PTE_PS, 0x1000, 0x80000000u};
    for (size_t k = 0; k < ARRAY_SIZE(bad); k++) {
        CHECK(pt_map(&s, 0x00402000, 0x5000, W | bad[k]) == PT_ERR_BAD_FLAGS);
        CHECK(pt_protect(&s, 0x00400000, bad[k]) == PT_ERR_BAD_FLAGS);
    }
    CHECK(pt_map(&s, PT_WINDOW, 0x5000, P) == PT_ERR_BAD_FLAGS); /* before WINDOW */
    CHECK(untouched());
    CHECK(pt_map(&s, PT_WINDOW, 0x5000, W) == PT_ERR_WINDOW);
    CHECK(pt_map(&s, window(5), 0x5000, W) == PT_ERR_WINDOW);
    CHECK(pt_map(&s, 0xfffff000, 0x5000, 0) == PT_ERR_WINDOW);
    CHECK(untouched());
    CHECK(pt_map(&s, 0x01403000, 0x5000, W) == PT_ERR_LARGE_PAGE);
    CHECK(untouched());
    fake.budget = 0;
    CHECK(pt_map(&s, 0x02000000, 0x5000, W) == PT_ERR_NO_MEMORY);
    fake.budget = -1;
    CHECK(untouched());

    CHECK(pt_unmap(&s, 0x00400004, &old) == PT_ERR_UNALIGNED);
    CHECK(pt_unmap(&s, window(PT_RECURSIVE_SLOT), &old) == PT_ERR_WINDOW);
    CHECK(pt_unmap(&s, window(1), &old) == PT_ERR_WINDOW);
    CHECK(pt_unmap(&s, 0x00401000, &old) == PT_ERR_NOT_MAPPED); /* table, no page */
    CHECK(pt_unmap(&s, 0x03000000, &old) == PT_ERR_NOT_MAPPED); /* no table */
    CHECK(pt_unmap(&s, 0x01400000, &old) == PT_ERR_LARGE_PAGE);
    CHECK_EQ_U64(old, 0xdead000);
    CHECK(untouched());

    CHECK(pt_protect(&s, 0x00400010, W) == PT_ERR_UNALIGNED);
    CHECK(pt_protect(&s, window(1), W) == PT_ERR_WINDOW);
    CHECK(pt_protect(&s, 0x00401000, W) == PT_ERR_NOT_MAPPED);
    CHECK(pt_protect(&s, 0x03000000, W) == PT_ERR_NOT_MAPPED);
    CHECK(pt_protect(&s, 0x017ff000, W) == PT_ERR_LARGE_PAGE);
    CHECK(untouched());

    /* A range is checked whole before anything is made: a present page at
     * its end means no table is made for its start. */
    CHECK(pt_map_range(&s, 0x003fe000, 0x5000, 0x3000, W) == PT_ERR_EXISTS);
    CHECK(pt_map_range(&s, 0x013ff000, 0x5000, 0x2000, W) == PT_ERR_LARGE_PAGE);
    CHECK(pt_map_range(&s, 0xffbff000, 0x5000, 0x2000, W) == PT_ERR_WINDOW);
    CHECK(pt_map_range(&s, 0xfffff000, 0x5000, 0x2000, W) == PT_ERR_WRAP);
    CHECK(pt_map_range(&s, 0x1000, 0x5000, 0x1, PTE_GLOBAL | P) == PT_ERR_BAD_FLAGS);
    CHECK(pt_map_range(&s, 0x1000, 0x5800, 0x1, W) == PT_ERR_UNALIGNED);
    CHECK(untouched());
    CHECK_EQ_U64(fake.misuse, 0);
}

static void test_unmap(void)
{
    for (int rec = 0; rec < 2; rec++) {
        struct pt_space s = made(rec);
        CHECK(pt_map(&s, 0x00800000, 0x11111000, W) == PT_OK);
        CHECK(pt_map(&s, 0x00801000, 0x22222000, W | U) == PT_OK);
        pte_t pde = pt_dir_entry(&s, 2);
        paddr_t old = 0, pa;
        clear_logs();
        CHECK(pt_unmap(&s, 0x00801000, &old) == PT_OK);
        CHECK_EQ_U64(old, 0x22222000);
        CHECK(INVAL_IS(0x00801000));
        CHECK_EQ_U64(fake.freed_n, 0);
        CHECK_EQ_U64(pt_table_present(&s, 2), 1);
        CHECK(!pt_translate(&s, 0x00801000, &pa));
        CHECK(pt_translate(&s, 0x00800000, &pa));

        /* The last page: the table goes back. */
        clear_logs();
        CHECK(pt_unmap(&s, 0x00800000, NULL) == PT_OK);
        if (rec)
            CHECK(INVAL_IS(0x00800000, 0x00800000, window(2)));
        else
            CHECK(INVAL_IS(0x00800000, 0x00800000));
        CHECK_EQ_U64(fake.freed_n, 1);
        CHECK_EQ_U64(fake.freed_index[0], 2);
        CHECK_EQ_U64(fake.freed_phys[0], pte_frame(pde));
        CHECK_EQ_U64(pt_dir_entry(&s, 2), 0);
        CHECK_EQ_U64(fake.in_use, 1);
        CHECK(pt_unmap(&s, 0x00800000, &old) == PT_ERR_NOT_MAPPED);
        if (rec)
            CHECK_EQ_U64(pt_dir_entry(&s, PT_RECURSIVE_SLOT), s.directory | P | W);
        CHECK_EQ_U64(fake.misuse, 0);
    }
    /* Without the slot, entry 1023's table is freed like any other. */
    struct pt_space s = made(false);
    CHECK(pt_map(&s, 0xffffe000, 0x1000, 0) == PT_OK);
    clear_logs();
    CHECK(pt_unmap(&s, 0xffffe000, NULL) == PT_OK);
    CHECK_EQ_U64(fake.freed_n, 1);
    CHECK_EQ_U64(fake.freed_index[0], 1023);
    CHECK_EQ_U64(fake.in_use, 1);
}

static void test_protect(void)
{
    struct pt_space s = made(false);
    struct pt_walk w;
    CHECK(pt_map(&s, 0x00800000, 0x33333000, W | PTE_PCD) == PT_OK);
    pte_t *t = mem(pte_frame(pt_dir_entry(&s, 2)));
    t[0] |= PTE_ACCESSED | PTE_DIRTY; /* as the CPU would */
    clear_logs();
    CHECK(pt_protect(&s, 0x00800000, U | PTE_GLOBAL) == PT_OK);
    CHECK_EQ_U64(t[0], 0x33333000 | P | PTE_ACCESSED | PTE_DIRTY | U | PTE_GLOBAL);
    CHECK(INVAL_IS(0x00800000));
    CHECK_EQ_U64(pt_dir_entry(&s, 2) & U, U);
    CHECK(pt_walk(&s, 0x00800000, &w));
    CHECK_EQ_U64(w.flags, P | U | PTE_ACCESSED | PTE_DIRTY | PTE_GLOBAL);

    /* Back to kernel-only: the directory entry stays user, the PTE decides. */
    clear_logs();
    CHECK(pt_protect(&s, 0x00800000, 0) == PT_OK);
    CHECK_EQ_U64(t[0], 0x33333000 | P | PTE_ACCESSED | PTE_DIRTY);
    CHECK(INVAL_IS(0x00800000));
    CHECK(pt_walk(&s, 0x00800000, &w));
    CHECK_EQ_U64(w.flags & (W | U), 0);

    /* Bits outside the map flags other than A/D (PAT) are not kept. */
    t[0] = 0x33333000 | P | PTE_PS;
    CHECK(pt_protect(&s, 0x00800000, W | PTE_AVL_MASK) == PT_OK);
    CHECK_EQ_U64(t[0], 0x33333000 | P | W | PTE_AVL_MASK);
    CHECK_EQ_U64(fake.misuse, 0);
}

static void test_large_page(void)
{
    struct pt_space s = made(false);
    struct pt_walk w;
    paddr_t pa;
    mem(s.directory)[5] = 0x40000000 | P | W | PTE_PS | PTE_ACCESSED;
    CHECK(pt_walk(&s, 0x01456789, &w));
    CHECK(w.large && w.mapped);
    CHECK_EQ_U64(w.pde_index, 5);
    CHECK_EQ_U64(w.pte, 0);
    CHECK_EQ_U64(w.phys, 0x40056789);
    CHECK_EQ_U64(w.flags, P | W | PTE_PS | PTE_ACCESSED);
    CHECK(pt_translate(&s, 0x017fffff, &pa));
    CHECK_EQ_U64(pa, 0x403fffff);
    CHECK(pt_translate(&s, 0x01400000, &pa));
    CHECK_EQ_U64(pa, 0x40000000);
    CHECK_EQ_U64(pt_table_entry(&s, 5, 0), 0);
    CHECK_EQ_U64(pt_table_present(&s, 5), 0);

    snapshot();
    CHECK(pt_map(&s, 0x01400000, 0x1000, W) == PT_ERR_LARGE_PAGE);
    CHECK(pt_unmap(&s, 0x01401000, NULL) == PT_ERR_LARGE_PAGE);
    CHECK(pt_protect(&s, 0x017ff000, 0) == PT_ERR_LARGE_PAGE);
    CHECK(untouched());

    char buf[64];
    CHECK_STR_EQ(pt_flags_str(pt_dir_entry(&s, 5), true, buf, sizeof(buf)),
                 "present writable accessed 4MiB");
    CHECK_EQ_U64(fake.misuse, 0);
}

static void test_map_range(void)
{
    struct pt_space s = made(true);
    paddr_t pa;
    clear_logs();
    /* 0x3001 bytes round up to four pages, across tables 0 and 1. */
    CHECK(pt_map_range(&s, 0x003fe000, 0x50000000, 0x3001, W) == PT_OK);
    for (uint32_t k = 0; k < 4; k++) {
        CHECK(pt_translate(&s, 0x003fe000 + k * PAGE_SIZE + 5, &pa));
        CHECK_EQ_U64(pa, 0x50000000 + k * PAGE_SIZE + 5);
    }
    CHECK(!pt_translate(&s, 0x003fd000, &pa));
    CHECK(!pt_translate(&s, 0x00402000, &pa));
    CHECK_EQ_U64(fake.in_use, 3);
    CHECK(INVAL_IS(window(0), window(1)));
    snapshot();
    CHECK(pt_map_range(&s, 0x00800000, 0x1000, 0, W) == PT_OK); /* empty */
    CHECK(untouched());

    /* All or nothing.  Table 8 exists with a page; 9 and 11 are missing;
     * 10 is present but empty (someone else's) and must stay so. */
    s = made(true);
    CHECK(pt_map(&s, 0x02000000, 0x1000, W) == PT_OK);
    paddr_t ten = fake_alloc(&s);
    memset(mem(ten), 0, PAGE_SIZE);
    mem(s.directory)[10] = ten | P | W;
    pte_t pde8 = pt_dir_entry(&s, 8);
    snapshot();
    fake.budget = 1; /* table 9 yes, table 11 no */
    CHECK(pt_map_range(&s, 0x02001000, 0x60000000, 0x00fff000, W | U) == PT_ERR_NO_MEMORY);
    CHECK(same_as_saved());
    CHECK_EQ_U64(fake.freed_n, 1);
    CHECK_EQ_U64(fake.freed_index[0], 9);
    CHECK(INVAL_IS(window(9), 9u << 22, window(9)));
    CHECK_EQ_U64(pt_dir_entry(&s, 8), pde8); /* not widened */
    CHECK_EQ_U64(pt_dir_entry(&s, 10), ten | P | W);

    fake.budget = -1;
    clear_logs();
    CHECK(pt_map_range(&s, 0x02001000, 0x60000000, 0x00fff000, W | U) == PT_OK);
    CHECK(INVAL_IS(window(9), window(11), 0x02001000, 0x02800000));
    for (uint32_t i = 8; i < 12; i++)
        CHECK_EQ_U64(pt_table_present(&s, i), PT_ENTRIES);
    CHECK_EQ_U64(pt_dir_entry(&s, 10), ten | P | W | U);
    CHECK_EQ_U64(pt_dir_entry(&s, 8), pde8 | U);
    CHECK(pt_translate(&s, 0x02fffabc, &pa));
    CHECK_EQ_U64(pa, 0x60ffeabc);
    CHECK_EQ_U64(fake.in_use, 5);
    for (vaddr_t va = 0x02000000; va < 0x03000000; va += PAGE_SIZE)
        CHECK(pt_unmap(&s, va, NULL) == PT_OK);
    CHECK_EQ_U64(fake.in_use, 1);

    /* Up to exactly 4 GiB is fine; one page more wraps. */
    s = made(false);
    CHECK(pt_map_range(&s, 0xffffe000, 0x1000, 0x2000, 0) == PT_OK);
    CHECK(pt_translate(&s, 0xffffffff, &pa));
    CHECK_EQ_U64(pa, 0x2fff);
    snapshot();
    CHECK(pt_map_range(&s, 0xfffff000, 0x1000, 0x1001, 0) == PT_ERR_WRAP);
    CHECK(pt_map_range(&s, 0x1000, 0xfffff000, 0x2000, 0) == PT_ERR_WRAP);
    CHECK(pt_map_range(&s, 0x1000, 0, 0xffffffff, 0) == PT_ERR_WRAP);
    CHECK(pt_map_range(&s, 0, 0x1000, 0xffffffff, 0) == PT_ERR_WRAP); /* pa side */
    CHECK(untouched());

    /* The whole space: 1024 tables wanted, the arena has 1022 left. */
    CHECK(pt_map_range(&s, 0, 0, 0xffffffff, W) == PT_ERR_EXISTS);
    CHECK(pt_unmap(&s, 0xffffe000, NULL) == PT_OK);
    CHECK(pt_unmap(&s, 0xfffff000, NULL) == PT_OK);
    snapshot();
    CHECK(pt_map_range(&s, 0, 0, 0xffffffff, W) == PT_ERR_NO_MEMORY);
    CHECK(same_as_saved());
    CHECK_EQ_U64(fake.freed_n, ARENA_FRAMES - 1);
    CHECK_EQ_U64(fake.in_use, 1);
    CHECK_EQ_U64(fake.misuse, 0);
}

static void test_flags_str(void)
{
    char buf[128];
    CHECK(pt_flags_str(0, false, buf, sizeof(buf)) == buf);
    CHECK_STR_EQ(buf, "not present");
    CHECK_STR_EQ(pt_flags_str(P | W | U | PTE_ACCESSED, false, buf, sizeof(buf)),
                 "present writable user accessed");
    CHECK_STR_EQ(pt_flags_str(0x12345000 | P | PTE_PWT | PTE_PCD | PTE_DIRTY | PTE_PS |
                                  PTE_GLOBAL | PTE_AVL_MASK,
                              false, buf, sizeof(buf)),
                 "present write-through cache-off dirty PAT global avl=7");
    CHECK_STR_EQ(pt_flags_str(0x12345000 | P | W | PTE_DIRTY, true, buf, sizeof(buf)),
                 "present writable");
    CHECK_STR_EQ(pt_flags_str(P | PTE_DIRTY | PTE_PS, true, buf, sizeof(buf)),
                 "present dirty 4MiB");
    CHECK_STR_EQ(pt_flags_str(0x200 | W, false, buf, sizeof(buf)), "not present writable avl=1");

    /* Short buffers: cut, always terminated, nothing written past size. */
    memset(buf, 'X', sizeof(buf));
    CHECK_STR_EQ(pt_flags_str(P | W, false, buf, 5), "pres");
    CHECK_EQ_U64(buf[5], 'X');
    memset(buf, 'X', sizeof(buf));
    CHECK_STR_EQ(pt_flags_str(P | W, false, buf, 17), "present writable");
    CHECK_EQ_U64(buf[17], 'X');
    CHECK_STR_EQ(pt_flags_str(P | W, false, buf, 16), "present writabl");
    CHECK_STR_EQ(pt_flags_str(P | W, false, buf, 8), "present");
    memset(buf, 'X', sizeof(buf));
    CHECK_STR_EQ(pt_flags_str(P | W, false, buf, 1), "");
    CHECK_EQ_U64(buf[1], 'X');
    memset(buf, 'X', sizeof(buf));
    CHECK(pt_flags_str(P | W, false, buf, 0) == buf);
    CHECK_EQ_U64(buf[0], 'X');
}

static void test_error_str(void)
{
    CHECK_STR_EQ(pt_error_str(PT_ERR_EXISTS), "already mapped");
    CHECK_STR_EQ(pt_error_str(PT_ERR_NOT_MAPPED), "not mapped");
    for (int a = PT_OK; a <= PT_ERR_WRAP; a++)
        for (int b = PT_OK; b < a; b++)
            CHECK(strcmp(pt_error_str(a), pt_error_str(b)) != 0);
    CHECK(pt_error_str((enum pt_error)99) != NULL);
}

/* ---- the model test ------------------------------------------------------ */

/* The directory entries the model uses: neighbours in runs, so that ranges
 * cross from one table into the next, and both edges (1023 only without
 * the recursive slot).  At an even position a table offers its first and
 * last RUN_PAGES pages; at an odd one only three pages, so that those
 * tables empty and refill (and their frames go and come back) often. */
static const uint16_t model_dirs[] = {0,   1,   2,   7,   63,  64,  100, 200, 201, 202,
                                      255, 256, 300, 384, 385, 511, 512, 600, 700, 701,
                                      767, 768, 800, 900, 950, 951, 1000, 1021, 1022, 1023};
#define MODEL_DIRS ARRAY_SIZE(model_dirs)
#define RUN_PAGES 96u
#define SLOTS_PER_DIR (2 * RUN_PAGES)
#define MODEL_SLOTS (MODEL_DIRS * SLOTS_PER_DIR)
#define FULL_EVERY 1000

static struct {
    pte_t entry[MODEL_SLOTS];   /* the expected PTE; 0: not mapped */
    uint32_t count[MODEL_DIRS]; /* mapped pages per table */
    bool user[MODEL_DIRS];      /* the directory entry is user */
    int16_t pos[PT_ENTRIES];    /* directory index -> position, or -1 */
    uint32_t dirs;              /* positions in use */
    uint32_t tables;            /* positions with count > 0 */
    uint64_t rng;
    unsigned long op, bad;
    const char *name;
    bool recursive;
} m;

static vaddr_t exp_inval[LOG_MAX];
static uint32_t exp_n;

static uint32_t rnd(void)
{
    m.rng ^= m.rng << 13;
    m.rng ^= m.rng >> 7;
    m.rng ^= m.rng << 17;
    return (uint32_t)(m.rng >> 16);
}

static uint32_t below(uint32_t n)
{
    return rnd() % n;
}

static void model_bad(const char *what, vaddr_t va, uint64_t got, uint64_t want)
{
    m.bad++;
    if (m.bad <= 10)
        fprintf(stderr, "    model (%s): op %lu %s va 0x%08x: %s: got 0x%llx, want 0x%llx\n",
                m.recursive ? "recursive" : "plain", m.op, m.name, va, what,
                (unsigned long long)got, (unsigned long long)want);
}

#define EXPECT(what, got, want)                                            \
    do {                                                                   \
        uint64_t got_ = (got), want_ = (want);                             \
        if (got_ != want_)                                                 \
            model_bad(what, va, got_, want_);                              \
    } while (0)

static bool slot_allowed(uint32_t p, uint32_t r)
{
    return p % 2 == 0 || r == 0 || r == RUN_PAGES - 1 || r == SLOTS_PER_DIR - 1;
}

static vaddr_t slot_va(uint32_t slot)
{
    uint32_t p = slot / SLOTS_PER_DIR, r = slot % SLOTS_PER_DIR;
    uint32_t j = r < RUN_PAGES ? r : PT_ENTRIES - SLOTS_PER_DIR + r;
    return ((vaddr_t)model_dirs[p] << 22) | (j << PAGE_SHIFT);
}

/* The slot of a page, or -1 if the model does not use it. */
static int32_t slot_of(vaddr_t va)
{
    int32_t p = m.pos[pde_index(va)];
    uint32_t j = pte_index(va), r;
    if (p < 0)
        return -1;
    if (j < RUN_PAGES)
        r = j;
    else if (j >= PT_ENTRIES - RUN_PAGES)
        r = j - (PT_ENTRIES - SLOTS_PER_DIR);
    else
        return -1;
    return slot_allowed((uint32_t)p, r) ? (int32_t)(p * SLOTS_PER_DIR + r) : -1;
}

static uint32_t pick_slot(void)
{
    uint32_t p = below(m.dirs);
    static const uint32_t few[] = {0, RUN_PAGES - 1, SLOTS_PER_DIR - 1};
    uint32_t r = p % 2 == 0 ? below(SLOTS_PER_DIR) : few[below(3)];
    return p * SLOTS_PER_DIR + r;
}

static void expect_inval(vaddr_t va)
{
    if (exp_n < LOG_MAX)
        exp_inval[exp_n] = va;
    exp_n++;
}

static void check_slot(struct pt_space *s, uint32_t slot)
{
    vaddr_t va = slot_va(slot);
    EXPECT("entry", pt_table_entry(s, pde_index(va), pte_index(va)), m.entry[slot]);
}

static void check_dir(struct pt_space *s, uint32_t p)
{
    vaddr_t va = (vaddr_t)model_dirs[p] << 22;
    pte_t pde = pt_dir_entry(s, model_dirs[p]);
    if (m.count[p] == 0) {
        EXPECT("directory entry", pde, 0);
        return;
    }
    EXPECT("directory flags", pde & ~PTE_FRAME_MASK, P | W | (m.user[p] ? U : 0));
    EXPECT("pages in table", pt_table_present(s, model_dirs[p]), m.count[p]);
}

/* After every operation: the invalidations, the frames, the directory
 * entries and the pages it touched. */
static void check_after(struct pt_space *s, vaddr_t va, uint32_t first, uint32_t n)
{
    if (!inval_is(exp_n, exp_inval))
        EXPECT("invalidations", fake.inval_n, exp_n);
    EXPECT("frames in use", fake.in_use, 1 + m.tables);
    for (uint32_t k = 0; k < n; k++) {
        int32_t slot = slot_of(slot_va(first) + k * PAGE_SIZE);
        check_slot(s, (uint32_t)slot);
        if (k == 0 || pte_index(slot_va((uint32_t)slot)) == 0)
            check_dir(s, (uint32_t)slot / SLOTS_PER_DIR);
    }
}

static void check_all(struct pt_space *s)
{
    vaddr_t va = 0;
    for (uint32_t slot = 0; slot < m.dirs * SLOTS_PER_DIR; slot++)
        if (slot_allowed(slot / SLOTS_PER_DIR, slot % SLOTS_PER_DIR))
            check_slot(s, slot);
    for (uint32_t i = 0; i < PT_ENTRIES; i++) {
        va = i << 22;
        if (m.pos[i] >= 0)
            check_dir(s, (uint32_t)m.pos[i]);
        else if (m.recursive && i == PT_RECURSIVE_SLOT)
            EXPECT("recursive slot", pt_dir_entry(s, i), s->directory | P | W);
        else
            EXPECT("unused directory entry", pt_dir_entry(s, i), 0);
    }
}

static void op_map(struct pt_space *s)
{
    uint32_t slot = pick_slot(), p = slot / SLOTS_PER_DIR;
    vaddr_t va = slot_va(slot);
    paddr_t pa = rnd() & PTE_FRAME_MASK;
    uint32_t flags = rnd() & PT_MAP_FLAGS;
    bool starve = below(10) == 0;
    enum pt_error want = PT_OK;
    m.name = "map";
    exp_n = 0;
    if (m.entry[slot]) {
        want = PT_ERR_EXISTS;
    } else if (m.count[p] == 0 && starve) {
        want = PT_ERR_NO_MEMORY;
    } else {
        if (m.count[p] == 0) {
            if (m.recursive)
                expect_inval(window(model_dirs[p]));
            m.user[p] = flags & U;
            m.tables++;
        } else if ((flags & U) && !m.user[p]) {
            m.user[p] = true;
            expect_inval(va);
        }
        m.entry[slot] = pa | P | flags;
        m.count[p]++;
    }
    fake.budget = starve ? 0 : -1;
    clear_logs();
    EXPECT("result", pt_map(s, va, pa, flags), want);
    fake.budget = -1;
    check_after(s, va, slot, 1);
}

static void op_map_range(struct pt_space *s)
{
    uint32_t slot = pick_slot(), n = 1 + below(6), need = 0, made_n = 0;
    vaddr_t va = slot_va(slot);
    for (uint32_t k = 1; k < n; k++) {
        uint64_t at = (uint64_t)va + k * PAGE_SIZE;
        if (at >= GIB(4) || slot_of((vaddr_t)at) < 0 ||
            (m.recursive && pde_index((vaddr_t)at) == PT_RECURSIVE_SLOT)) {
            n = k;
            break;
        }
    }
    paddr_t pa = below(0x100000 - 8) << PAGE_SHIFT;
    uint32_t flags = rnd() & PT_MAP_FLAGS;
    long budget = below(3) == 0 ? (long)below(2) : -1;
    enum pt_error want = PT_OK;
    uint32_t newp[2] = {0, 0};
    m.name = "map_range";
    exp_n = 0;
    for (uint32_t k = 0; k < n; k++) {
        uint32_t sl = (uint32_t)slot_of(va + k * PAGE_SIZE), p = sl / SLOTS_PER_DIR;
        if (m.entry[sl])
            want = PT_ERR_EXISTS;
        if (m.count[p] == 0 && (need == 0 || newp[need - 1] != p))
            newp[need++] = p;
    }
    if (want == PT_OK && budget >= 0 && need > (uint32_t)budget)
        want = PT_ERR_NO_MEMORY;
    if (want == PT_OK) {
        for (uint32_t q = 0; q < need; q++) {
            if (m.recursive)
                expect_inval(window(model_dirs[newp[q]]));
            m.user[newp[q]] = flags & U;
            m.tables++;
        }
        for (uint32_t k = 0; k < n; k++) {
            vaddr_t at = va + k * PAGE_SIZE;
            uint32_t sl = (uint32_t)slot_of(at), p = sl / SLOTS_PER_DIR;
            if ((k == 0 || pte_index(at) == 0) && (flags & U) && !m.user[p]) {
                m.user[p] = true;
                expect_inval(at);
            }
            m.entry[sl] = (pa + k * PAGE_SIZE) | P | flags;
            m.count[p]++;
        }
    }
    fake.budget = budget;
    clear_logs();
    EXPECT("result", pt_map_range(s, va, pa, n * PAGE_SIZE - below(PAGE_SIZE), flags), want);
    fake.budget = -1;
    if (want == PT_ERR_NO_MEMORY) {
        /* The made tables were taken back; which addresses that
         * invalidated is the code's business, as long as they are the
         * tables' own (a window page or an address they cover). */
        made_n = (uint32_t)budget;
        EXPECT("tables taken back", fake.freed_n, made_n);
        for (uint32_t k = 0; k < fake.inval_n && k < LOG_MAX; k++) {
            vaddr_t v = fake.inval[k];
            bool ours = false;
            for (uint32_t q = 0; q < need; q++)
                ours |= v == window(model_dirs[newp[q]]) || pde_index(v) == model_dirs[newp[q]];
            if (!ours)
                EXPECT("undo invalidation", v, 0);
        }
        exp_n = fake.inval_n > LOG_MAX ? LOG_MAX : fake.inval_n;
        memcpy(exp_inval, fake.inval, exp_n * sizeof(vaddr_t));
    }
    check_after(s, va, slot, n);
}

static void op_unmap(struct pt_space *s)
{
    uint32_t slot = pick_slot(), p = slot / SLOTS_PER_DIR;
    vaddr_t va = slot_va(slot);
    pte_t pde = pt_dir_entry(s, model_dirs[p]);
    paddr_t old = 1, want_old = 1;
    enum pt_error want = PT_OK;
    bool emptied = false;
    m.name = "unmap";
    exp_n = 0;
    if (!m.entry[slot]) {
        want = PT_ERR_NOT_MAPPED;
    } else {
        want_old = pte_frame(m.entry[slot]);
        m.entry[slot] = 0;
        expect_inval(va);
        if (--m.count[p] == 0) {
            emptied = true;
            expect_inval(va);
            if (m.recursive)
                expect_inval(window(model_dirs[p]));
            m.user[p] = false;
            m.tables--;
        }
    }
    clear_logs();
    EXPECT("result", pt_unmap(s, va, &old), want);
    EXPECT("old frame", old, want_old);
    EXPECT("tables freed", fake.freed_n, emptied);
    if (emptied && fake.freed_n == 1) {
        EXPECT("freed index", fake.freed_index[0], model_dirs[p]);
        EXPECT("freed frame", fake.freed_phys[0], pte_frame(pde));
    }
    check_after(s, va, slot, 1);
}

static void op_protect(struct pt_space *s)
{
    static const uint32_t bad[] = {P, PTE_ACCESSED, PTE_DIRTY, PTE_PS, 0x10000};
    uint32_t slot = pick_slot(), p = slot / SLOTS_PER_DIR;
    vaddr_t va = slot_va(slot);
    uint32_t flags = rnd() & PT_MAP_FLAGS;
    enum pt_error want = PT_OK;
    m.name = "protect";
    exp_n = 0;
    if (below(20) == 0) {
        flags |= bad[below(ARRAY_SIZE(bad))];
        want = PT_ERR_BAD_FLAGS;
    } else if (!m.entry[slot]) {
        want = PT_ERR_NOT_MAPPED;
    } else {
        pte_t e = m.entry[slot];
        m.entry[slot] = pte_frame(e) | P | (e & (PTE_ACCESSED | PTE_DIRTY)) | flags;
        m.user[p] |= (flags & U) != 0;
        expect_inval(va);
    }
    clear_logs();
    EXPECT("result", pt_protect(s, va, flags), want);
    check_after(s, va, slot, 1);
}

/* The CPU marks a page accessed or dirty behind the code's back. */
static void op_touch(struct pt_space *s)
{
    uint32_t slot = pick_slot();
    vaddr_t va = slot_va(slot);
    if (!m.entry[slot])
        return;
    pte_t bits = (below(2) ? PTE_ACCESSED : 0) | (below(2) ? PTE_DIRTY : 0);
    mem(pte_frame(pt_dir_entry(s, pde_index(va))))[pte_index(va)] |= bits;
    m.entry[slot] |= bits;
}

static void op_translate(struct pt_space *s)
{
    uint32_t slot = pick_slot(), p = slot / SLOTS_PER_DIR;
    vaddr_t va = slot_va(slot) | below(PAGE_SIZE);
    pte_t e = m.entry[slot];
    paddr_t pa = 1;
    struct pt_walk w;
    m.name = "translate";
    EXPECT("translated", pt_translate(s, va, &pa), e != 0);
    EXPECT("physical", pa, e ? pte_frame(e) | (va & (PAGE_SIZE - 1)) : 1);
    EXPECT("walk", pt_walk(s, va, &w), e != 0);
    uint32_t flags = e & 0xfff & ~(m.user[p] ? 0 : U);
    EXPECT("walk flags", w.flags, flags);
}

/* Calls that must be refused without a trace. */
static void op_refused(struct pt_space *s)
{
    uint32_t slot = pick_slot();
    vaddr_t va = slot_va(slot) | (1 + below(PAGE_SIZE - 1));
    paddr_t old = 1;
    m.name = "refused";
    exp_n = 0;
    clear_logs();
    EXPECT("map unaligned", pt_map(s, va, 0x1000, 0), PT_ERR_UNALIGNED);
    EXPECT("unmap unaligned", pt_unmap(s, va, &old), PT_ERR_UNALIGNED);
    EXPECT("protect unaligned", pt_protect(s, va, 0), PT_ERR_UNALIGNED);
    if (m.recursive) {
        va = PT_WINDOW + (below(PT_ENTRIES) << PAGE_SHIFT);
        EXPECT("map window", pt_map(s, va, 0x1000, 0), PT_ERR_WINDOW);
        EXPECT("unmap window", pt_unmap(s, va, &old), PT_ERR_WINDOW);
        EXPECT("protect window", pt_protect(s, va, 0), PT_ERR_WINDOW);
    }
    EXPECT("old frame", old, 1);
    check_after(s, va, slot, 1);
}

static void model_run(uint64_t seed, unsigned long ops, bool recursive)
{
    memset(&m, 0, sizeof(m));
    m.rng = seed | 1;
    m.recursive = recursive;
    m.dirs = recursive ? MODEL_DIRS - 1 : MODEL_DIRS;
    for (uint32_t i = 0; i < PT_ENTRIES; i++)
        m.pos[i] = -1;
    for (uint32_t p = 0; p < m.dirs; p++)
        m.pos[model_dirs[p]] = (int16_t)p;
    struct pt_space s = made(recursive);

    for (m.op = 0; m.op < ops; m.op++) {
        uint32_t r = below(100);
        if (r < 28)
            op_map(&s);
        else if (r < 40)
            op_map_range(&s);
        else if (r < 72)
            op_unmap(&s);
        else if (r < 83)
            op_protect(&s);
        else if (r < 87)
            op_touch(&s);
        else if (r < 98)
            op_translate(&s);
        else
            op_refused(&s);
        if (m.op % FULL_EVERY == 0)
            check_all(&s);
    }
    check_all(&s);

    /* Take everything down: every table frame must come back. */
    m.name = "final unmap";
    for (uint32_t slot = 0; slot < m.dirs * SLOTS_PER_DIR; slot++) {
        vaddr_t va = slot_va(slot);
        if (m.entry[slot]) {
            EXPECT("result", pt_unmap(&s, va, NULL), PT_OK);
            m.entry[slot] = 0;
            if (--m.count[slot / SLOTS_PER_DIR] == 0)
                m.tables--;
        }
    }
    check_all(&s);
    CHECK_EQ_U64(m.tables, 0);
    CHECK_EQ_U64(fake.in_use, 1);
    CHECK_EQ_U64(fake.misuse, 0);
    CHECK_EQ_U64(m.bad, 0);
}

int main(int argc, char **argv)
{
    uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 0) : 0x7061676574616231ull;
    unsigned long ops = argc > 2 ? strtoul(argv[2], NULL, 0) : 200000ul;
    arena = aligned_alloc(PAGE_SIZE, ARENA_BYTES);
    saved = malloc(ARENA_BYTES);
    if (arena == NULL || saved == NULL)
        return 2;
    RUN(test_create);
    RUN(test_map_and_walk);
    RUN(test_user_directory_entries);
    RUN(test_errors_change_nothing);
    RUN(test_unmap);
    RUN(test_protect);
    RUN(test_large_page);
    RUN(test_map_range);
    RUN(test_flags_str);
    RUN(test_error_str);
    printf("pagetable: model seed 0x%llx, %lu operations\n", (unsigned long long)seed, ops);
    model_run(seed, ops / 2, true);
    model_run(seed + 1, ops - ops / 2, false);
    free(saved);
    free(arena);
    return check_summary("pagetable");
}
