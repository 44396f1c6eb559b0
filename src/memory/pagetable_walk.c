/*
 * pagetable_walk.c - reading two-level x86 page tables: what the MMU would
 * do with an address, single entries, and entries and errors as words
 * (pure; never changes a table).
 *
 * The walk follows the CPU (Intel SDM vol. 3, 4.3): a present directory
 * entry with PS set is itself the translation of a 4 MiB page, whose frame
 * is bits 31..22 (bits 21..13 would be PSE-36 address bits above 4 GiB,
 * which Kernel-V does not use; bit 12 is PAT):
 *
 *     4 KiB page:  phys = PTE[31..12] | va[11..0]
 *     4 MiB page:  phys = PDE[31..22] | va[21..0]
 *
 * A page is writable or user only when both levels say so; every other
 * flag is the last entry's.
 */
#include "kernel/kstring.h"
#include "kernel/pagetable.h"

#define LARGE_FRAME_MASK 0xffc00000u
#define ENTRY_FLAGS 0xfffu

static pte_t *directory(struct pt_space *s)
{
    return s->table(s, PT_DIRECTORY, s->directory);
}

/* pt_error_str - see pagetable.h. */
const char *pt_error_str(enum pt_error e)
{
    switch (e) {
    case PT_OK: return "ok";
    case PT_ERR_UNALIGNED: return "address not page-aligned";
    case PT_ERR_EXISTS: return "already mapped";
    case PT_ERR_NOT_MAPPED: return "not mapped";
    case PT_ERR_NO_MEMORY: return "no frame for a page table";
    case PT_ERR_WINDOW: return "inside the recursive window";
    case PT_ERR_BAD_FLAGS: return "flags not allowed";
    case PT_ERR_LARGE_PAGE: return "inside a 4 MiB page";
    case PT_ERR_WRAP: return "range passes 4 GiB";
    }
    return "unknown page table error";
}

/* pt_dir_entry - see pagetable.h; 0 for an index past the directory. */
pte_t pt_dir_entry(struct pt_space *s, uint32_t index)
{
    if (index >= PT_ENTRIES)
        return 0;
    return directory(s)[index];
}

/* The table behind directory entry i, or NULL when there is none (not
 * present, or a 4 MiB page, which has no table to read). */
static const pte_t *table_of(struct pt_space *s, uint32_t i)
{
    pte_t pde = pt_dir_entry(s, i);
    if (!(pde & PTE_PRESENT) || (pde & PTE_PS))
        return NULL;
    return s->table(s, i, pte_frame(pde));
}

/* pt_table_entry - see pagetable.h; 0 for an index out of range and for a
 * 4 MiB directory entry. */
pte_t pt_table_entry(struct pt_space *s, uint32_t dir_index, uint32_t index)
{
    const pte_t *t = table_of(s, dir_index);
    if (t == NULL || index >= PT_ENTRIES)
        return 0;
    return t[index];
}

/* pt_table_present - see pagetable.h. */
uint32_t pt_table_present(struct pt_space *s, uint32_t dir_index)
{
    const pte_t *t = table_of(s, dir_index);
    uint32_t n = 0;
    if (t == NULL)
        return 0;
    for (uint32_t k = 0; k < PT_ENTRIES; k++)
        n += (t[k] & PTE_PRESENT) != 0;
    return n;
}

/* pt_walk - see pagetable.h.  Unmapped: phys and flags are 0. */
bool pt_walk(struct pt_space *s, vaddr_t va, struct pt_walk *w)
{
    memset(w, 0, sizeof(*w));
    w->va = va;
    w->pde_index = pde_index(va);
    w->pte_index = pte_index(va);
    w->pde = pt_dir_entry(s, w->pde_index);
    if (!(w->pde & PTE_PRESENT))
        return false;

    pte_t leaf;
    if (w->pde & PTE_PS) {
        w->large = true;
        leaf = w->pde;
        w->phys = (w->pde & LARGE_FRAME_MASK) | (va & ~LARGE_FRAME_MASK);
    } else {
        w->pte = s->table(s, w->pde_index, pte_frame(w->pde))[w->pte_index];
        if (!(w->pte & PTE_PRESENT))
            return false;
        leaf = w->pte;
        w->phys = pte_frame(w->pte) | (va & (PAGE_SIZE - 1));
    }
    uint32_t both = PTE_WRITABLE | PTE_USER;
    w->flags = (leaf & ENTRY_FLAGS & ~both) | (leaf & w->pde & both);
    w->mapped = true;
    return true;
}

/* pt_translate - see pagetable.h.  *pa is left alone when not mapped. */
bool pt_translate(struct pt_space *s, vaddr_t va, paddr_t *pa)
{
    struct pt_walk w;
    if (!pt_walk(s, va, &w))
        return false;
    *pa = w.phys;
    return true;
}

/* A bounded writer: keeps one byte for the NUL, drops what does not fit,
 * and remembers whether a word was written, for the separating space
 * (which must not depend on how much of the previous word fitted). */
struct words {
    char *buf;
    size_t size, len;
    bool any;
};

static void put_char(struct words *o, char c)
{
    if (o->len + 1 < o->size)
        o->buf[o->len++] = c;
}

static void put_word(struct words *o, const char *word)
{
    if (o->any)
        put_char(o, ' ');
    o->any = true;
    while (*word)
        put_char(o, *word++);
}

/* pt_flags_str - see pagetable.h.  A not-present entry is "not present"
 * followed by any other bits (the CPU ignores them, but the kernel may
 * keep something there).  The available bits print as "avl=N". */
char *pt_flags_str(pte_t e, bool is_pde, char *buf, size_t size)
{
    struct words o = {buf, size, 0, false};
    put_word(&o, (e & PTE_PRESENT) ? "present" : "not present");
    if (e & PTE_WRITABLE)
        put_word(&o, "writable");
    if (e & PTE_USER)
        put_word(&o, "user");
    if (e & PTE_PWT)
        put_word(&o, "write-through");
    if (e & PTE_PCD)
        put_word(&o, "cache-off");
    if (e & PTE_ACCESSED)
        put_word(&o, "accessed");
    /* A PDE's bit 6 means something only when the PDE is the page. */
    if ((e & PTE_DIRTY) && (!is_pde || (e & PTE_PS)))
        put_word(&o, "dirty");
    if (e & PTE_PS)
        put_word(&o, is_pde ? "4MiB" : "PAT");
    if (e & PTE_GLOBAL)
        put_word(&o, "global");
    if (e & PTE_AVL_MASK) {
        char avl[] = "avl=0";
        avl[4] = (char)('0' + ((e & PTE_AVL_MASK) >> 9));
        put_word(&o, avl);
    }
    if (size > 0)
        buf[o.len] = '\0';
    return buf;
}
