/*
 * pagetable.h - two-level 32-bit x86 page tables, as pure logic.
 *
 * The tables are ordinary memory; what differs between the kernel and a
 * host test is only how a table's physical address becomes a pointer the
 * code can use.  Before paging is on, that is the address itself; after,
 * the kernel reaches tables through the recursive slot (see paging.h); a
 * host test hands out pointers into a fake "physical" arena.  So every
 * operation takes a `struct pt_space` that carries those answers as
 * function pointers, and this file never touches a CR register, a linker
 * symbol or a fixed address.
 *
 * A virtual address is split 10 / 10 / 12:
 *
 *     31          22 21          12 11            0
 *    +--------------+--------------+---------------+
 *    |  directory   |    table     |    offset     |
 *    |  index (PDE) | index (PTE)  |  in the page  |
 *    +--------------+--------------+---------------+
 *
 * and a directory or table entry is:
 *
 *     31                    12 11  9 8 7 6 5 4 3 2 1 0
 *    +------------------------+-----+-+-+-+-+-+-+-+-+-+
 *    |  frame (physical >> 12)| avl |G|S|D|A|C|W|U|R|P|
 *    +------------------------+-----+-+-+-+-+-+-+-+-+-+
 *      P present   R writable   U user   W write-through   C cache off
 *      A accessed  D dirty (PTE)   S page size (PDE: 4 MiB page; PTE: PAT)
 *      G global    avl: three bits the CPU ignores
 *
 * Kernel-V uses 4 KiB pages only.  A directory entry with S set (made by
 * someone else) is reported by the walk as a 4 MiB page, never followed.
 */
#ifndef KERNEL_PAGETABLE_H
#define KERNEL_PAGETABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/types.h"

#define PAGE_SIZE 4096u
#define PAGE_SHIFT 12
#define PT_ENTRIES 1024u

typedef uint32_t pte_t; /* a directory entry (PDE) or a table entry (PTE) */

#define PTE_PRESENT  0x001u
#define PTE_WRITABLE 0x002u
#define PTE_USER     0x004u
#define PTE_PWT      0x008u /* write-through */
#define PTE_PCD      0x010u /* cache disabled */
#define PTE_ACCESSED 0x020u
#define PTE_DIRTY    0x040u
#define PTE_PS       0x080u /* in a PDE: 4 MiB page */
#define PTE_GLOBAL   0x100u
#define PTE_AVL_MASK 0xe00u
#define PTE_FRAME_MASK 0xfffff000u

/* The flags a caller may ask for when mapping or changing a page. */
#define PT_MAP_FLAGS (PTE_WRITABLE | PTE_USER | PTE_PWT | PTE_PCD | PTE_GLOBAL | PTE_AVL_MASK)

/* The entry layout as the CPU defines it (Intel SDM vol. 3, 4.3).  Only
 * used to pin the layout: the code uses the masks above. */
struct pte_bits {
    uint32_t present : 1, writable : 1, user : 1, pwt : 1, pcd : 1, accessed : 1, dirty : 1,
        ps : 1, global : 1, avl : 3, frame : 20;
};
_Static_assert(sizeof(struct pte_bits) == 4, "a page table entry is 32 bits");
_Static_assert(sizeof(pte_t) == 4, "a page table entry is 32 bits");

static inline uint32_t pde_index(vaddr_t va) { return va >> 22; }
static inline uint32_t pte_index(vaddr_t va) { return (va >> 12) & 0x3ffu; }
static inline paddr_t pte_frame(pte_t e) { return e & PTE_FRAME_MASK; }

/*
 * The recursive slot: directory entry 1023 points at the directory itself,
 * so the table behind directory entry i appears at PT_WINDOW + i * 4096
 * and the directory at PT_WINDOW + 1023 * 4096.  The top 4 MiB of the
 * address space is therefore never available to pt_map.  A pt_space made
 * with `recursive` set installs the slot in pt_create.
 */
#define PT_RECURSIVE_SLOT 1023u
#define PT_WINDOW 0xffc00000u

/* The directory's own "index" when pt_space.table asks for a pointer. */
#define PT_DIRECTORY PT_ENTRIES

struct pt_space {
    paddr_t directory; /* physical address of the page directory */
    bool recursive;    /* install and protect the recursive slot */
    /* A pointer through which the table of directory entry `index`
     * (physical address `phys`) can be read and written now; for the
     * directory itself index is PT_DIRECTORY.  Never NULL. */
    pte_t *(*table)(struct pt_space *s, uint32_t index, paddr_t phys);
    /* A page-aligned frame for a new table, or 0 when there is none.  The
     * pt code zeroes it (through `table`) after installing it. */
    paddr_t (*alloc_table)(struct pt_space *s);
    /* A table that became empty was taken out of directory entry `index`
     * (the entry is already 0); give its frame back. */
    void (*free_table)(struct pt_space *s, uint32_t index, paddr_t phys);
    /* The entry for va changed: drop any cached translation (invlpg). */
    void (*invalidate)(struct pt_space *s, vaddr_t va);
    void *ctx; /* for the callbacks */
};

enum pt_error {
    PT_OK = 0,
    PT_ERR_UNALIGNED,   /* an address is not a multiple of 4096 */
    PT_ERR_EXISTS,      /* map over a present page */
    PT_ERR_NOT_MAPPED,  /* unmap / protect / translate of a page that is not present */
    PT_ERR_NO_MEMORY,   /* no frame for a new table */
    PT_ERR_WINDOW,      /* the address lies in the recursive window */
    PT_ERR_BAD_FLAGS,   /* flags outside PT_MAP_FLAGS */
    PT_ERR_LARGE_PAGE,  /* the directory entry is a 4 MiB page */
    PT_ERR_WRAP,        /* a range would pass the end of the address space */
};

/* pt_error_str - a few words for each error ("already mapped", ...). */
const char *pt_error_str(enum pt_error e);

/*
 * pt_create - allocate and zero a directory through s->alloc_table and
 * store its address in s->directory; with s->recursive, point entry 1023
 * at it (present, writable, not user).  PT_ERR_NO_MEMORY if no frame.
 */
enum pt_error pt_create(struct pt_space *s);

/*
 * pt_map - make the page at va (aligned) translate to the frame at pa
 * (aligned) with PTE_PRESENT | flags.  A missing table is allocated and
 * zeroed; its directory entry is present and writable, and user when flags
 * has PTE_USER (the PTE then decides).  A user page in an existing table
 * whose entry is not user makes that entry user (else the page could not be
 * reached from user mode) and invalidates va.  Errors, with nothing changed:
 * UNALIGNED, BAD_FLAGS, WINDOW, EXISTS (va already present), LARGE_PAGE,
 * NO_MEMORY.  Mapping a not-present page needs no invalidation; but with
 * s->recursive, after a new table is installed in entry i the window page
 * PT_WINDOW + i * 4096 is invalidated before the table is zeroed through
 * s->table (an old table's translation may still be cached there).
 */
enum pt_error pt_map(struct pt_space *s, vaddr_t va, paddr_t pa, uint32_t flags);

/*
 * pt_map_range - pt_map for each page of [va, va + bytes) onto
 * [pa, pa + bytes), bytes rounded up to pages.  On an error the pages this
 * call mapped are unmapped again (and tables it created freed): all or
 * nothing.  WRAP when either range passes 4 GiB.
 */
enum pt_error pt_map_range(struct pt_space *s, vaddr_t va, paddr_t pa, uint32_t bytes,
                           uint32_t flags);

/*
 * pt_unmap - remove the page at va (aligned); *old (when not NULL) gets the
 * frame it mapped.  Invalidates va.  A table left with no present entry is
 * taken out of the directory and handed to free_table (after the directory
 * entry is cleared and va invalidated again; with s->recursive the window
 * page of that table is invalidated too).  Errors: UNALIGNED, WINDOW,
 * NOT_MAPPED, LARGE_PAGE.
 */
enum pt_error pt_unmap(struct pt_space *s, vaddr_t va, paddr_t *old);

/*
 * pt_protect - replace the flags of the present page at va with flags
 * (PT_MAP_FLAGS only; the frame, present, accessed and dirty bits stay);
 * with PTE_USER the directory entry is made user as in pt_map.
 * Invalidates va.  Errors: UNALIGNED, BAD_FLAGS, WINDOW, NOT_MAPPED,
 * LARGE_PAGE.
 */
enum pt_error pt_protect(struct pt_space *s, vaddr_t va, uint32_t flags);

/* What the MMU would do with one virtual address. */
struct pt_walk {
    vaddr_t va;
    uint32_t pde_index, pte_index;
    pte_t pde;        /* the directory entry read */
    pte_t pte;        /* the table entry read (0 when the PDE is not present
                         or is a 4 MiB page) */
    bool large;       /* the PDE is a 4 MiB page */
    bool mapped;      /* the walk ends at a frame */
    paddr_t phys;     /* the physical address va translates to, if mapped */
    uint32_t flags;   /* effective: PTE_WRITABLE / PTE_USER only if both levels allow */
};

/* pt_walk - walk va through the tables (any va, aligned or not).  Returns
 * w->mapped.  Never changes anything. */
bool pt_walk(struct pt_space *s, vaddr_t va, struct pt_walk *w);

/* pt_translate - the physical address of va, or false when not mapped. */
bool pt_translate(struct pt_space *s, vaddr_t va, paddr_t *pa);

/* pt_dir_entry / pt_table_entry - read one entry (0 when the table is not
 * present).  pt_table_present - how many of a table's entries are present
 * (0 if the directory entry is not present or a 4 MiB page). */
pte_t pt_dir_entry(struct pt_space *s, uint32_t index);
pte_t pt_table_entry(struct pt_space *s, uint32_t dir_index, uint32_t index);
uint32_t pt_table_present(struct pt_space *s, uint32_t dir_index);

/*
 * pt_flags_str - the set bits of an entry as short words, e.g.
 * "present writable user accessed" or "not present"; for a PDE (is_pde)
 * bit 7 is "4MiB", for a PTE "PAT", bit 6 of a PDE is ignored by the CPU
 * and not named (unless bit 7 is set: a 4 MiB page has a dirty bit).
 * Writes at most size bytes (NUL-terminated); returns buf.
 */
char *pt_flags_str(pte_t e, bool is_pde, char *buf, size_t size);

#endif
