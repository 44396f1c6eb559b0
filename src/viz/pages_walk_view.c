/*
 * pages_walk_view.c - the words under the page-tables grid (F3): the
 * legend, the entry under the cursor, and the walk of one address spelled
 * out.
 *
 *   row 18  · none █ kernel rw █ kernel ro █ user rw █ user ro 4 4MiB page ...
 *   row 19  PDE[320] 0x50000000-0x503fffff = 0x0019b027: present writable ...
 *   row 20    -> page table at 0x0019b000 (frame tag page table), 1 of 1024 ...
 *   row 21    regions: kernel heap area
 *
 * or, for a walk (the MMU's two reads, then the frame and the offset):
 *
 *   row 19  virtual 0x50000123 = directory index 320 | table index 0 | offset 0x123
 *   row 20  CR3 0x0018a000 -> PDE[320] = 0x0019b027 (table at 0x0019b000)
 *   row 21    -> PTE[0] = 0x00123063 -> frame 0x00123000 + 0x123 = physical ...
 *
 * A walk that stops says where, in red: the entry that is not present is
 * the one whose absence makes an access page-fault.  Every line is cut to
 * the screen's 80 columns; none is longer than that in the usual cases.
 */
#include "kernel/format.h"
#include "kernel/kstring.h"
#include "kernel/paging.h"
#include "kernel/pmm.h"
#include "kernel/symbols.h"
#include "kernel/vga.h"
#include "kernel/viz.h"
#include "pages_view.h"

#define TEXT_ATTR vga_attr(VGA_LIGHT_GREY, VGA_BLACK)
#define VALUE_ATTR vga_attr(VGA_WHITE, VGA_BLACK)
#define STOP_ATTR vga_attr(VGA_LIGHT_RED, VGA_BLACK)
#define GOOD_ATTR vga_attr(VGA_LIGHT_GREEN, VGA_BLACK)

#define MIB4 0x400000u

/* One legend item: its symbol in its colours, then its words; returns
 * the column for the next. */
static unsigned legend_item(unsigned row, unsigned col, uint8_t ch, uint8_t attr,
                            const char *words)
{
    viz_put(row, col, ch, attr);
    return viz_text(row, col + 2, TEXT_ATTR, words) + 1;
}

void viz_pages_legend(unsigned row, bool table)
{
    static const struct {
        uint8_t color;
        const char *words;
    } access[] = {
        {PAGES_NONE, "none"},         {PAGES_KERNEL_RW, "kernel rw"},
        {PAGES_KERNEL_RO, "kernel ro"}, {PAGES_USER_RW, "user rw"},
        {PAGES_USER_RO, "user ro"},
    };
    unsigned col = 1;
    for (unsigned i = 0; i < ARRAY_SIZE(access); i++)
        col = legend_item(row, col, i == 0 ? VIZ_DOT : VIZ_BLOCK,
                          vga_attr(access[i].color, VGA_BLACK), access[i].words);
    if (table) {
        /* The shapes, in grey: any colour takes any shape. */
        col = legend_item(row, col, VIZ_BLOCK, TEXT_ATTR, "dirty");
        col = legend_item(row, col, VIZ_SHADE_DARK, TEXT_ATTR, "accessed");
        legend_item(row, col, VIZ_SHADE_LIGHT, TEXT_ATTR, "unused");
    } else {
        col = legend_item(row, col, PAGES_CH_LARGE, vga_attr(PAGES_LARGE, VGA_BLACK),
                          "4MiB page");
        legend_item(row, col, PAGES_CH_RECURSIVE, vga_attr(VGA_BLACK, PAGES_RECURSIVE),
                    "recursive");
    }
}

static const char *state_name(enum frame_state s)
{
    switch (s) {
    case FRAME_FREE: return "free (mapped yet free!)";
    case FRAME_ALLOCATED: return "allocated";
    case FRAME_RESERVED: return "reserved";
    default: return "outside managed RAM (device?)";
    }
}

/* The kernel image's own regions are named first: in the first 4 MiB
 * they are what a reader looks for among a dozen small boot ranges. */
static bool is_kernel_image(const struct vm_region *r)
{
    return r->kind == VM_KERNEL_TEXT || r->kind == VM_KERNEL_RODATA ||
           r->kind == VM_KERNEL_DATA;
}

/* The names of the kernel's regions that overlap [lo, last] (the kernel
 * image's first, then the rest in address order), as many as fit in
 * `size` bytes, then "+N more". */
static void regions_between(vaddr_t lo, vaddr_t last, char *buf, size_t size)
{
    const struct vm_regions *t = paging_regions();
    size_t used = 0;
    unsigned more = 0;
    buf[0] = '\0';
    for (int pass = 0; pass < 2; pass++) {
        for (size_t k = 0; k < t->count; k++) {
            const struct vm_region *r = &t->r[k];
            if (r->last < lo || r->start > last || is_kernel_image(r) != (pass == 0))
                continue;
            /* Room for ", name" and a later ", +NN more". */
            size_t need = strlen(r->name) + (used ? 2 : 0);
            if (more || used + need + 10 > size) {
                more++;
                continue;
            }
            used += (size_t)ksnprintf(buf + used, size - used, "%s%s", used ? ", " : "",
                                      r->name);
        }
    }
    if (more)
        ksnprintf(buf + used, size - used, ", +%u more", more);
}

/* An entry's flags in words (pagetable.h names the bits that are set);
 * a present entry without the writable bit also says so, since a missing
 * word is easy to miss. */
static void flag_words(pte_t e, bool is_pde, char *buf, size_t size)
{
    pt_flags_str(e, is_pde, buf, size);
    if ((e & PTE_PRESENT) && !(e & PTE_WRITABLE)) {
        size_t n = strlen(buf);
        ksnprintf(buf + n, size - n, " (read-only)");
    }
}

/* A PDE's second row: what it points at. */
static void pde_target(unsigned row, uint32_t index, pte_t e)
{
    if (!(e & PTE_PRESENT)) {
        viz_text(row, 3, STOP_ATTR, "no page table: any access in these 4 MiB page-faults");
        return;
    }
    if (e & PTE_PS) {
        viz_printf(row, 3, TEXT_ATTR, "-> one 4 MiB page at physical 0x%08x (no table)",
                   e & 0xffc00000u);
        return;
    }
    uint32_t n = paging_table_present(index); /* one table: 1024 reads */
    if (index == PT_RECURSIVE_SLOT) {
        viz_printf(row, 3, TEXT_ATTR, "-> the directory itself (%u entries): table i is at "
                   "0x%08x + i*4096", n, PT_WINDOW);
        return;
    }
    struct frame_info fi;
    pmm_query(pte_frame(e), &fi);
    viz_printf(row, 3, TEXT_ATTR, "-> page table at 0x%08x (frame tag %s), %u of 1024 PTEs "
               "present", pte_frame(e), pmm_tag_name(fi.tag), n);
}

void viz_pages_pde_info(unsigned top, uint32_t index)
{
    pte_t e = paging_dir_entry(index);
    vaddr_t lo = index << 22;
    char flags[64], names[72];
    flag_words(e, true, flags, sizeof(flags));
    unsigned col = viz_printf(top, 1, VALUE_ATTR, "PDE[%u] 0x%08x-0x%08x = 0x%08x: ", index, lo,
                              lo + (MIB4 - 1), e);
    viz_text(top, col, (e & PTE_PRESENT) ? GOOD_ATTR : STOP_ATTR, flags);
    pde_target(top + 1, index, e);
    regions_between(lo, lo + (MIB4 - 1), names, sizeof(names));
    viz_printf(top + 2, 3, TEXT_ATTR, "regions: %s",
               names[0] ? names : "none (free virtual space: `map` puts pages here)");
}

void viz_pages_pte_info(unsigned top, uint32_t dir_index, uint32_t index)
{
    pte_t e = paging_table_entry(dir_index, index);
    vaddr_t va = dir_index << 22 | index << 12;
    char flags[64];
    flag_words(e, false, flags, sizeof(flags));
    unsigned col = viz_printf(top, 1, VALUE_ATTR, "PTE[%u] page 0x%08x = 0x%08x: ", index, va, e);
    viz_text(top, col, (e & PTE_PRESENT) ? GOOD_ATTR : STOP_ATTR, flags);
    if (e & PTE_PRESENT) {
        struct frame_info fi;
        char owner[28] = "";
        pmm_query(pte_frame(e), &fi);
        if (fi.state == FRAME_ALLOCATED && fi.owner)
            pmm_owner_format(fi.owner, owner, sizeof(owner));
        col = viz_printf(top + 1, 3, TEXT_ATTR, "-> frame 0x%08x: %s, tag %s", pte_frame(e),
                         state_name(fi.state), pmm_tag_name(fi.tag));
        if (fi.state == FRAME_ALLOCATED)
            col = viz_printf(top + 1, col, TEXT_ATTR, ", %u ref%s", fi.refs,
                             fi.refs == 1 ? "" : "s");
        if (owner[0])
            viz_printf(top + 1, col, TEXT_ATTR, ", by %s", owner);
    } else {
        viz_printf(top + 1, 3, STOP_ATTR, "not present: an access to 0x%08x-0x%08x page-faults",
                   va, va + (PAGE_SIZE - 1));
    }
    const struct vm_region *r = paging_region_of(va);
    viz_printf(top + 2, 3, TEXT_ATTR, "region: %s", r ? r->name : "none (free virtual space)");
}

bool viz_pages_walk(unsigned top, vaddr_t va)
{
    struct pt_walk w;
    paging_walk(va, &w);
    viz_printf(top, 1, VALUE_ATTR, "virtual 0x%08x = directory index %u | table index %u | "
               "offset 0x%03x", va, w.pde_index, w.pte_index, va & 0xfffu);
    unsigned col = viz_printf(top + 1, 1, TEXT_ATTR, "CR3 0x%08x -> PDE[%u] = 0x%08x",
                              paging_directory(), w.pde_index, w.pde);
    if (!(w.pde & PTE_PRESENT)) {
        viz_text(top + 1, col, STOP_ATTR, ": not present");
        viz_printf(top + 2, 3, STOP_ATTR, "no table covers 0x%08x-0x%08x: an access here "
                   "page-faults", va & 0xffc00000u, (va & 0xffc00000u) + (MIB4 - 1));
        return false;
    }
    if (w.large) {
        viz_text(top + 1, col, TEXT_ATTR, " (4 MiB page)");
        viz_printf(top + 2, 3, GOOD_ATTR, "-> frame 0x%08x + 0x%06x = physical 0x%08x",
                   w.pde & 0xffc00000u, va & (MIB4 - 1), w.phys);
        return false;
    }
    viz_printf(top + 1, col, TEXT_ATTR, " (%s at 0x%08x)",
               w.pde_index == PT_RECURSIVE_SLOT ? "the directory" : "table", pte_frame(w.pde));
    col = viz_printf(top + 2, 3, TEXT_ATTR, "-> PTE[%u] = 0x%08x", w.pte_index, w.pte);
    if (!(w.pte & PTE_PRESENT))
        viz_text(top + 2, col, STOP_ATTR, ": not present: an access here page-faults");
    else
        viz_printf(top + 2, col, GOOD_ATTR, " -> frame 0x%08x + 0x%03x = physical 0x%08x",
                   pte_frame(w.pte), va & 0xfffu, w.phys);
    return true;
}
