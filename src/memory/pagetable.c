/*
 * pagetable.c - changing two-level x86 page tables: making a directory,
 * mapping, unmapping and re-protecting 4 KiB pages (pure).
 *
 * Every table is reached through s->table, every new table comes from
 * s->alloc_table and every emptied one goes back through s->free_table, so
 * the same code runs on the real directory in the kernel and on a fake
 * "physical" arena in the host tests.  Reading and printing the tables is
 * in pagetable_walk.c.
 *
 * Mapping is done in three passes, which makes "all or nothing" easy to
 * keep (pt_map is the same with a single page):
 *
 *    1. check   read only: no page may be present (EXISTS) and no
 *               directory entry a 4 MiB page (LARGE_PAGE);
 *    2. tables  put a new zeroed table in each missing directory entry;
 *               when frames run out, take those tables out again and
 *               give them back (NO_MEMORY): no page was mapped yet;
 *    3. pages   write the entries; nothing can fail any more.
 *
 * Invalidation.  The CPU caches translations (the TLB) and directory
 * entries (the paging-structure caches), and may fill both speculatively
 * from any present entry.  So when a present entry changes or goes away,
 * the address it covers is invalidated; an entry that goes from not present
 * to present needs nothing, since nothing can be cached for it.  With the
 * recursive slot a directory entry is also the table entry of its window
 * page, so taking a table out invalidates that window page as well.
 *
 * A pointer from s->table is used only until the next s->table call, so a
 * kernel that reaches tables through one temporary mapping would work too.
 */
#include "kernel/kstring.h"
#include "kernel/pagetable.h"

/* The flags of a directory entry that points at a table this file made:
 * always writable (the table entries decide), user added on demand. */
#define PDE_TABLE (PTE_PRESENT | PTE_WRITABLE)

/* Directory entries one page range can touch: one bit each. */
#define DIR_WORDS (PT_ENTRIES / 32)

static pte_t *directory(struct pt_space *s)
{
    return s->table(s, PT_DIRECTORY, s->directory);
}

static vaddr_t window_page(uint32_t index)
{
    return PT_WINDOW + index * PAGE_SIZE;
}

/* The top 4 MiB is the directory seen as a table; mapping there would
 * overwrite directory entries, so it is off limits with the slot. */
static bool in_window(const struct pt_space *s, vaddr_t va)
{
    return s->recursive && va >= PT_WINDOW;
}

/* How many of `left` pages starting at table index j fit in that table. */
static uint32_t run_in_table(uint32_t j, uint32_t left)
{
    uint32_t room = PT_ENTRIES - j;
    return left < room ? left : room;
}

static bool table_is_empty(const pte_t *t)
{
    for (uint32_t k = 0; k < PT_ENTRIES; k++)
        if (t[k] & PTE_PRESENT)
            return false;
    return true;
}

/* pt_create - see pagetable.h.  s->directory is only set on success. */
enum pt_error pt_create(struct pt_space *s)
{
    paddr_t frame = s->alloc_table(s);
    if (frame == 0)
        return PT_ERR_NO_MEMORY;
    s->directory = frame;
    pte_t *dir = directory(s);
    memset(dir, 0, PAGE_SIZE);
    /* Not user: user code must never see (let alone write) the tables. */
    if (s->recursive)
        dir[PT_RECURSIVE_SLOT] = frame | PDE_TABLE;
    return PT_OK;
}

/* Puts the fresh frame into directory entry i as an empty table.  The
 * window page is dropped before the zeroing writes through it: a table
 * that used to sit in entry i may still be cached there. */
static void install_table(struct pt_space *s, uint32_t i, paddr_t frame, uint32_t user)
{
    directory(s)[i] = frame | PDE_TABLE | user;
    if (s->recursive)
        s->invalidate(s, window_page(i));
    memset(s->table(s, i, frame), 0, PAGE_SIZE);
}

/* Takes the (empty) table out of directory entry i and gives its frame
 * back.  va is any address the entry covers: invalidating it drops the
 * cached directory entry. */
static void remove_table(struct pt_space *s, uint32_t i, vaddr_t va)
{
    pte_t *dir = directory(s);
    paddr_t frame = pte_frame(dir[i]);
    dir[i] = 0;
    s->invalidate(s, va);
    if (s->recursive)
        s->invalidate(s, window_page(i));
    s->free_table(s, i, frame);
}

/* Pass 1: EXISTS or LARGE_PAGE for the first page (in address order) that
 * cannot be mapped; reads only. */
static enum pt_error check_free(struct pt_space *s, vaddr_t va, uint32_t pages)
{
    for (uint32_t n = 0; n < pages;) {
        vaddr_t at = va + n * PAGE_SIZE;
        uint32_t i = pde_index(at), j = pte_index(at);
        uint32_t run = run_in_table(j, pages - n);
        pte_t pde = directory(s)[i];
        if ((pde & PTE_PRESENT) && (pde & PTE_PS))
            return PT_ERR_LARGE_PAGE;
        if (pde & PTE_PRESENT) {
            const pte_t *t = s->table(s, i, pte_frame(pde));
            for (uint32_t k = j; k < j + run; k++)
                if (t[k] & PTE_PRESENT)
                    return PT_ERR_EXISTS;
        }
        n += run;
    }
    return PT_OK;
}

/* Pass 2: a table for every directory entry in [first, last] that has
 * none.  On NO_MEMORY the tables made here are taken out again, and only
 * those: a table that was present but empty before stays. */
static enum pt_error add_tables(struct pt_space *s, uint32_t first, uint32_t last, uint32_t user)
{
    uint32_t made[DIR_WORDS] = {0};
    for (uint32_t i = first; i <= last; i++) {
        if (directory(s)[i] & PTE_PRESENT)
            continue;
        paddr_t frame = s->alloc_table(s);
        if (frame == 0) {
            for (uint32_t k = first; k < i; k++)
                if (made[k / 32] & (1u << (k % 32)))
                    remove_table(s, k, k << 22);
            return PT_ERR_NO_MEMORY;
        }
        install_table(s, i, frame, user);
        made[i / 32] |= 1u << (i % 32);
    }
    return PT_OK;
}

/* Pass 3: the entries themselves.  A user page in a table whose directory
 * entry is not user would be unreachable from user mode, so the entry is
 * widened (the table entries still decide page by page); the cached old
 * directory entry is then dropped, or the first user access could fault. */
static void write_pages(struct pt_space *s, vaddr_t va, paddr_t pa, uint32_t pages,
                        uint32_t flags)
{
    for (uint32_t n = 0; n < pages;) {
        vaddr_t at = va + n * PAGE_SIZE;
        uint32_t i = pde_index(at), j = pte_index(at);
        uint32_t run = run_in_table(j, pages - n);
        pte_t *dir = directory(s);
        bool widened = (flags & PTE_USER) && !(dir[i] & PTE_USER);
        if (widened)
            dir[i] |= PTE_USER;
        pte_t *t = s->table(s, i, pte_frame(dir[i]));
        for (uint32_t k = 0; k < run; k++)
            t[j + k] = (pa + (n + k) * PAGE_SIZE) | PTE_PRESENT | flags;
        if (widened)
            s->invalidate(s, at);
        n += run;
    }
}

/* pt_map_range - see pagetable.h.  Arguments are checked in the order
 * UNALIGNED, BAD_FLAGS, WRAP, WINDOW; then pages in address order.  An
 * empty range (bytes 0) maps nothing and succeeds. */
enum pt_error pt_map_range(struct pt_space *s, vaddr_t va, paddr_t pa, uint32_t bytes,
                           uint32_t flags)
{
    if (!IS_ALIGNED(va, PAGE_SIZE) || !IS_ALIGNED(pa, PAGE_SIZE))
        return PT_ERR_UNALIGNED;
    if (flags & ~PT_MAP_FLAGS)
        return PT_ERR_BAD_FLAGS;
    /* 64-bit so that rounding 0xffffffff up, or an end of exactly 4 GiB,
     * cannot wrap. */
    uint64_t len = ((uint64_t)bytes + PAGE_SIZE - 1) & ~(uint64_t)(PAGE_SIZE - 1);
    if ((uint64_t)va + len > GIB(4) || (uint64_t)pa + len > GIB(4))
        return PT_ERR_WRAP;
    if (len == 0)
        return PT_OK;
    if (s->recursive && (uint64_t)va + len > PT_WINDOW)
        return PT_ERR_WINDOW;

    uint32_t pages = (uint32_t)(len >> PAGE_SHIFT);
    vaddr_t last = va + (pages - 1) * PAGE_SIZE;
    enum pt_error e = check_free(s, va, pages);
    if (e == PT_OK)
        e = add_tables(s, pde_index(va), pde_index(last), flags & PTE_USER);
    if (e == PT_OK)
        write_pages(s, va, pa, pages, flags);
    return e;
}

/* pt_map - see pagetable.h: a range of one page (which cannot wrap). */
enum pt_error pt_map(struct pt_space *s, vaddr_t va, paddr_t pa, uint32_t flags)
{
    return pt_map_range(s, va, pa, PAGE_SIZE, flags);
}

/* The table holding the present page at va, or WINDOW (the page-table
 * window is not for callers to change) / LARGE_PAGE / NOT_MAPPED. */
static enum pt_error find_page(struct pt_space *s, vaddr_t va, pte_t **table)
{
    if (in_window(s, va))
        return PT_ERR_WINDOW;
    pte_t pde = directory(s)[pde_index(va)];
    if (!(pde & PTE_PRESENT))
        return PT_ERR_NOT_MAPPED;
    if (pde & PTE_PS)
        return PT_ERR_LARGE_PAGE;
    pte_t *t = s->table(s, pde_index(va), pte_frame(pde));
    if (!(t[pte_index(va)] & PTE_PRESENT))
        return PT_ERR_NOT_MAPPED;
    *table = t;
    return PT_OK;
}

/* pt_unmap - see pagetable.h.  Any table left empty is freed, whoever made
 * it: an empty table costs a frame and buys nothing. */
enum pt_error pt_unmap(struct pt_space *s, vaddr_t va, paddr_t *old)
{
    if (!IS_ALIGNED(va, PAGE_SIZE))
        return PT_ERR_UNALIGNED;
    pte_t *t;
    enum pt_error e = find_page(s, va, &t);
    if (e != PT_OK)
        return e;
    paddr_t frame = pte_frame(t[pte_index(va)]);
    t[pte_index(va)] = 0;
    s->invalidate(s, va);
    bool empty = table_is_empty(t);
    if (empty)
        remove_table(s, pde_index(va), va);
    if (old)
        *old = frame;
    return PT_OK;
}

/* pt_protect - see pagetable.h.  Accessed and dirty are the CPU's record
 * of what happened to the page (a pager needs them), so they survive; any
 * other bit not in PT_MAP_FLAGS (PAT) is dropped.  Making the page user
 * widens its directory entry as pt_map does. */
enum pt_error pt_protect(struct pt_space *s, vaddr_t va, uint32_t flags)
{
    if (!IS_ALIGNED(va, PAGE_SIZE))
        return PT_ERR_UNALIGNED;
    if (flags & ~PT_MAP_FLAGS)
        return PT_ERR_BAD_FLAGS;
    pte_t *t;
    enum pt_error e = find_page(s, va, &t);
    if (e != PT_OK)
        return e;
    pte_t old = t[pte_index(va)];
    t[pte_index(va)] = pte_frame(old) | PTE_PRESENT | (old & (PTE_ACCESSED | PTE_DIRTY)) | flags;
    if (flags & PTE_USER)
        directory(s)[pde_index(va)] |= PTE_USER;
    /* One invalidation drops both the old translation and the cached
     * directory entry. */
    s->invalidate(s, va);
    return PT_OK;
}
