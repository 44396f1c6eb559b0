/*
 * cmd_paging.c - page tables from the keyboard: pt, map, unmap, and the
 * commands that fault on purpose (pf, stackoverflow, tlbtest) or list the
 * faults (faults).
 *
 * The commands that change mappings refuse the kernel's own regions
 * (kernel image, bitmap, heap area, guarded ranges, page-table window):
 * a typo must not unmap the kernel.  Everywhere else is the student's.
 */
#include "kernel/console.h"
#include "kernel/fault.h"
#include "kernel/format.h"
#include "kernel/interrupts.h"
#include "kernel/kstring.h"
#include "kernel/paging.h"
#include "kernel/pmm.h"
#include "kernel/recover.h"
#include "kernel/shell.h"
#include "kernel/symbols.h"

/* ---- pt ------------------------------------------------------------------------ */

/* The names of the regions in directory entry i's 4 MiB, as many as fit
 * in size bytes, then "+N more". */
static void regions_in(uint32_t i, char *buf, size_t size)
{
    const struct vm_regions *t = paging_regions();
    vaddr_t lo = i << 22, hi = lo + 0x3fffff;
    size_t used = 0;
    unsigned left_out = 0;
    buf[0] = '\0';
    for (size_t k = 0; k < t->count; k++) {
        const struct vm_region *r = &t->r[k];
        if (r->last < lo || r->start > hi || r->kind == VM_GUARDED_AREA)
            continue;
        size_t need = strlen(r->name) + (used ? 2 : 0);
        if (left_out || used + need + 10 >= size) {
            left_out++;
            continue;
        }
        used += (size_t)ksnprintf(buf + used, size - used, "%s%s", used ? ", " : "", r->name);
    }
    if (left_out)
        ksnprintf(buf + used, size - used, ", +%u more", left_out);
}

static void pt_summary(void)
{
    struct paging_stats st;
    paging_get_stats(&st);
    kprintf("page directory at 0x%08x (CR3); %u page tables; each entry covers 4 MiB\n",
            paging_directory(), st.tables);
    uint32_t pages = 0;
    for (uint32_t i = 0; i < PT_ENTRIES; i++) {
        pte_t e = paging_dir_entry(i);
        if (!(e & PTE_PRESENT))
            continue;
        if (i == PT_RECURSIVE_SLOT) {
            kprintf("  PDE[%4u] 0x%08x-0xffffffff  -> the directory itself (recursive slot: "
                    "tables at 0x%08x + i*4096)\n",
                    i, i << 22, PT_WINDOW);
            continue;
        }
        char names[66];
        uint32_t n = paging_table_present(i);
        pages += n;
        regions_in(i, names, sizeof(names));
        kprintf("  PDE[%4u] 0x%08x-0x%08x  table at 0x%08x, %u of 1024 pages present\n", i,
                i << 22, (i << 22) + 0x3fffff, pte_frame(e), n);
        kprintf("             %s\n", names[0] ? names : "(pages you mapped)");
    }
    kprintf("%u pages mapped (%u KiB); %u map%s and %u unmap%s since boot. `pt <addr>` "
            "shows one walk.\n",
            pages, pages * 4, st.maps, st.maps == 1 ? "" : "s", st.unmaps,
            st.unmaps == 1 ? "" : "s");
}

/* Every bit of a directory or table entry, named (for a present one: the
 * CPU ignores the rest of an entry whose P bit is 0). */
static void entry_bits(pte_t e, bool is_pde)
{
    if (!(e & PTE_PRESENT)) {
        kprintf("    P=0 not present: the CPU looks at no other bit of this entry\n");
        return;
    }
    kprintf("    P=%u %-11s R/W=%u %-10s U/S=%u %-11s PWT=%u PCD=%u\n", e & 1,
            (e & PTE_PRESENT) ? "present" : "not present", (e >> 1) & 1,
            (e & PTE_WRITABLE) ? "writable" : "read-only", (e >> 2) & 1,
            (e & PTE_USER) ? "user" : "kernel only", (e >> 3) & 1, (e >> 4) & 1);
    kprintf("    A=%u %-11s D=%u %-12s %s=%u %-12s G=%u  avail=%u\n", (e >> 5) & 1,
            (e & PTE_ACCESSED) ? "accessed" : "not used yet", (e >> 6) & 1,
            is_pde ? "(ignored)" : (e & PTE_DIRTY) ? "written" : "not written",
            is_pde ? "PS" : "PAT", (e >> 7) & 1,
            is_pde ? ((e & PTE_PS) ? "4 MiB page" : "4 KiB pages") : "",
            (e >> 8) & 1, (e >> 9) & 7);
}

static void pt_one(vaddr_t va)
{
    struct pt_walk w;
    paging_walk(va, &w);
    kprintf("0x%08x = directory index %u | table index %u | offset 0x%03x\n", va, w.pde_index,
            w.pte_index, va & 0xfff);
    kprintf("  PDE[%u] at 0x%08x = 0x%08x -> %s 0x%08x\n", w.pde_index,
            PT_WINDOW + PT_RECURSIVE_SLOT * PAGE_SIZE + w.pde_index * 4, w.pde,
            w.pde_index == PT_RECURSIVE_SLOT ? "the directory" : "table", pte_frame(w.pde));
    entry_bits(w.pde, true);
    if ((w.pde & PTE_PRESENT) && !w.large) {
        kprintf("  PTE[%u] at 0x%08x = 0x%08x -> frame 0x%08x\n", w.pte_index,
                PT_WINDOW + w.pde_index * PAGE_SIZE + w.pte_index * 4, w.pte, pte_frame(w.pte));
        entry_bits(w.pte, false);
    }
    const struct vm_region *r = paging_region_of(va);
    if (w.mapped) {
        struct frame_info fi;
        pmm_query(w.phys, &fi);
        kprintf("  => physical 0x%08x (frame tag %s), %s%s\n", w.phys, pmm_tag_name(fi.tag),
                (w.flags & PTE_WRITABLE) ? "writable" : "read-only",
                (w.flags & PTE_USER) ? ", user" : ", kernel only");
    } else {
        kprintf("  => not mapped: touching it is a page fault\n");
    }
    kprintf("  region: %s\n", r ? r->name : "none (free virtual space)");
}

static bool arg_vaddr(const char *arg, const char *what, vaddr_t *out)
{
    uint64_t v;
    if (!shell_arg_u64(arg, what, 0, 0xffffffffu, &v))
        return false;
    *out = (vaddr_t)v;
    return true;
}

static int cmd_pt(int argc, char **argv)
{
    vaddr_t va;
    if (argc == 1) {
        pt_summary();
        return CMD_OK;
    }
    if (!arg_vaddr(argv[1], "address", &va))
        return CMD_FAILED;
    pt_one(va);
    return CMD_OK;
}

/* ---- map / unmap ------------------------------------------------------------------ */

/* An address the student may map or unmap: page-aligned and outside the
 * kernel's regions. */
static bool user_page(vaddr_t va)
{
    if (va & (PAGE_SIZE - 1)) {
        shell_error("0x%08x is not page-aligned (a multiple of 4096); did you mean 0x%08x?", va,
                    va & ~(PAGE_SIZE - 1));
        return false;
    }
    const struct vm_region *r = paging_region_of(va);
    if (r) {
        shell_error("0x%08x is in a kernel region (%s); try an address such as 0x40000000", va,
                    r->name);
        return false;
    }
    return true;
}

static bool parse_flags(const char *s, uint32_t *flags)
{
    if (strcmp(s, "rw") == 0)
        *flags = PTE_WRITABLE;
    else if (strcmp(s, "ro") == 0)
        *flags = 0;
    else if (strcmp(s, "rw,user") == 0 || strcmp(s, "user,rw") == 0)
        *flags = PTE_WRITABLE | PTE_USER;
    else if (strcmp(s, "ro,user") == 0 || strcmp(s, "user") == 0 || strcmp(s, "user,ro") == 0)
        *flags = PTE_USER;
    else {
        shell_error("'%s' is not a flag set (say rw, ro, rw,user or ro,user)", s);
        return false;
    }
    return true;
}

/* May the student map this existing frame?  Allocated frames get a
 * reference (so unmap gives it back); reserved firmware and device frames
 * map as they are; the kernel's own frames only read-only. */
static bool frame_mappable(paddr_t pa, uint32_t flags, bool *take_ref)
{
    struct frame_info fi;
    pmm_query(pa, &fi);
    *take_ref = fi.state == FRAME_ALLOCATED;
    if (fi.state == FRAME_FREE) {
        shell_error("frame 0x%08x is free: allocate it first (alloc) or leave out the address "
                    "to get a new frame",
                    pa);
        return false;
    }
    bool kernels = fi.tag == TAG_KERNEL || fi.tag == TAG_BITMAP || fi.tag == TAG_PAGETABLE ||
                   fi.tag == TAG_BOOT || fi.tag == TAG_STACK || fi.tag == TAG_GUARD ||
                   fi.tag == TAG_HEAP;
    if (kernels && (flags & PTE_WRITABLE)) {
        shell_error("frame 0x%08x is one of the kernel's (tag %s): a writable alias could "
                    "corrupt it; map it ro",
                    pa, pmm_tag_name(fi.tag));
        return false;
    }
    return true;
}

static int cmd_map(int argc, char **argv)
{
    vaddr_t va;
    uint32_t flags = PTE_WRITABLE;
    if (!arg_vaddr(argv[1], "virtual address", &va) || !user_page(va))
        return CMD_FAILED;
    if (argc == 4 && !parse_flags(argv[3], &flags))
        return CMD_FAILED;
    if (argc == 3 && !(argv[2][0] >= '0' && argv[2][0] <= '9')) {
        if (!parse_flags(argv[2], &flags))
            return CMD_FAILED;
        argc = 2;
    }
    enum pt_error e;
    paddr_t pa = 0;
    const char *how;
    if (argc == 2) {
        e = paging_map_new(va, flags, TAG_USER);
        how = "a new frame, tagged user";
        if (e == PT_OK)
            paging_translate(va, &pa);
    } else {
        vaddr_t v;
        bool ref;
        if (!arg_vaddr(argv[2], "physical address", &v))
            return CMD_FAILED;
        pa = v;
        if (pa & (PAGE_SIZE - 1)) {
            shell_error("physical 0x%08x is not frame-aligned; did you mean 0x%08x?", pa,
                        pa & ~(PAGE_SIZE - 1));
            return CMD_FAILED;
        }
        if (!frame_mappable(pa, flags, &ref))
            return CMD_FAILED;
        if (ref && pmm_ref((void *)pa) != PMM_OK)
            return CMD_FAILED;
        e = paging_map(va, pa, flags);
        if (e != PT_OK && ref)
            pmm_unref((void *)pa);
        struct frame_info fi;
        pmm_query(pa, &fi);
        how = ref                                  ? "an allocated frame, one more reference"
              : fi.state == FRAME_OUT_OF_RANGE ? "not RAM the kernel manages: device memory, or "
                                                 "nothing"
                                               : "a reserved frame, no reference";
    }
    if (e != PT_OK) {
        shell_error("cannot map 0x%08x: %s", va, pt_error_str(e));
        return CMD_FAILED;
    }
    kprintf("mapped 0x%08x -> 0x%08x (%s), %s%s\n", va, pa, how,
            (flags & PTE_WRITABLE) ? "read-write" : "read-only", (flags & PTE_USER) ? ", user" : "");
    return CMD_OK;
}

static int cmd_unmap(int argc, char **argv)
{
    UNUSED(argc);
    vaddr_t va;
    paddr_t pa;
    if (!arg_vaddr(argv[1], "virtual address", &va) || !user_page(va))
        return CMD_FAILED;
    if (!paging_translate(va, &pa)) {
        shell_error("0x%08x is not mapped", va);
        return CMD_FAILED;
    }
    enum pt_error e = paging_unmap_release(va);
    if (e != PT_OK) {
        shell_error("cannot unmap 0x%08x: %s", va, pt_error_str(e));
        return CMD_FAILED;
    }
    struct frame_info fi;
    pmm_query(pa, &fi);
    kprintf("unmapped 0x%08x (TLB entry flushed); frame 0x%08x is now %s\n", va, pa & ~0xfffu,
            fi.state == FRAME_FREE        ? "free"
            : fi.state == FRAME_ALLOCATED ? "still allocated (other references)"
                                          : "reserved, as before");
    return CMD_OK;
}

/* ---- faulting on purpose ------------------------------------------------------------ */

static int cmd_pf(int argc, char **argv)
{
    vaddr_t va;
    char how = argc == 3 ? argv[2][0] : 'r';
    if (!arg_vaddr(argv[1], "address", &va))
        return CMD_FAILED;
    if ((argc == 3 && argv[2][1] != '\0') || (how != 'r' && how != 'w' && how != 'x')) {
        shell_error("'%s' is not an access (say r to read, w to write, x to jump)", argv[2]);
        return CMD_USAGE;
    }
    /* One byte: an access that never spans two pages (a word at
     * 0xffffffff would wrap around to address 0). */
    uint32_t word;
    bool readable = probe_read32(va & ~3u, &word); /* never faults */
    uint8_t value = (uint8_t)(word >> (8 * (va & 3)));
    if (how == 'r') {
        value = *(volatile uint8_t *)va; /* faults when not mapped */
        kprintf("read 0x%02x from 0x%08x: no fault, the page is mapped\n", value, va);
    } else if (how == 'w') {
        /* Write back what is there, so a write that succeeds changes
         * nothing; when the page is not mapped, write 0 (and fault). */
        *(volatile uint8_t *)va = readable ? value : 0;
        kprintf("wrote 0x%02x back to 0x%08x: no fault, the page is writable\n", value, va);
    } else {
        if (readable) {
            shell_error("0x%08x is mapped: jumping there would run whatever bytes it holds; "
                        "pf x only jumps to unmapped addresses",
                        va);
            return CMD_FAILED;
        }
        ((void (*)(void))va)();
        kprintf("came back from 0x%08x?\n", va);
    }
    return CMD_OK;
}

/* Each call keeps 256 bytes on the stack and uses them after the call
 * returns, so the compiler can neither drop the frame nor make a loop. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winfinite-recursion" /* that is the point */
static __attribute__((noinline)) uint32_t recurse(uint32_t depth)
{
    volatile uint8_t pad[256];
    pad[0] = (uint8_t)depth;
    return recurse(depth + 1) + pad[0];
}
#pragma GCC diagnostic pop

static int cmd_stackoverflow(int argc, char **argv)
{
    UNUSED(argc);
    UNUSED(argv);
    kprintf("recursing, 256 bytes a call, until the 16 KiB boot stack hits its guard page\n");
    kprintf("never printed: %u\n", recurse(0));
    return CMD_OK;
}

/* Map, touch, unmap, touch again: the second touch must fault every time
 * (a stale TLB entry would let it through).  Probes catch the faults
 * quietly; no report is printed for them. */
static int cmd_tlbtest(int argc, char **argv)
{
    uint64_t rounds = 1000;
    const vaddr_t va = 0x7ff00000u;
    if (argc == 2 && !shell_arg_u64(argv[1], "rounds", 1, 1000000, &rounds))
        return CMD_FAILED;
    if (paging_region_of(va) || paging_translate(va, &(paddr_t){0})) {
        shell_error("the scratch page 0x%08x is in use; unmap it first", va);
        return CMD_FAILED;
    }
    uint32_t free_before = pmm_zone_free_count(pmm_get_zone()), leaked = 0, failed = 0;
    for (uint32_t i = 0; i < rounds; i++) {
        uint32_t v;
        if (paging_map_new(va, PTE_WRITABLE, TAG_USER) != PT_OK) {
            failed++;
            break;
        }
        *(volatile uint32_t *)va = i; /* loads the translation into the TLB */
        if (*(volatile uint32_t *)va != i)
            failed++;
        paging_unmap_release(va);
        if (probe_read32(va, &v) || probe_write32(va, i))
            leaked++;
    }
    uint32_t free_after = pmm_zone_free_count(pmm_get_zone());
    kprintf("tlbtest: %u rounds of map, write, unmap, touch: %u touch%s after unmap got "
            "through, %u failure%s; free frames %u before, %u after\n",
            (uint32_t)rounds, leaked, leaked == 1 ? "" : "es", failed, failed == 1 ? "" : "s",
            free_before, free_after);
    return leaked || failed || free_before != free_after ? CMD_FAILED : CMD_OK;
}

/* ---- faults --------------------------------------------------------------------------- */

static void fault_line(const struct fault_record *r)
{
    char sym[40], what[64];
    symbols_format(r->eip, sym, sizeof(sym));
    fault_record_what(r, what, sizeof(what));
    kprintf("#%-3u %5u.%03us %-4s CR2 %08x EIP %s  %s%s\n", r->seq, r->uptime_ms / 1000,
            r->uptime_ms % 1000, r->command[0] ? r->command : "-", r->cr2, sym, what,
            r->outcome == FAULT_FATAL ? " (fatal)" : "");
}

static int cmd_faults(int argc, char **argv)
{
    const struct fault_log *log = fault_log_global();
    size_t n = fault_log_count(log);
    if (argc == 2) {
        uint64_t seq;
        if (!shell_arg_u64(argv[1], "fault number", 1, 0xffffffffu, &seq))
            return CMD_FAILED;
        for (size_t i = 0; i < n; i++) {
            const struct fault_record *r = fault_log_get(log, i);
            if (r->seq != seq)
                continue;
            fault_line(r);
            for (unsigned k = 0; k < r->depth; k++) {
                char sym[48];
                if (k == 0)
                    symbols_format(r->trace[k], sym, sizeof(sym));
                else
                    symbols_format_return(r->trace[k], sym, sizeof(sym));
                kprintf("    #%u 0x%08x %s\n", k, r->trace[k], sym);
            }
            return CMD_OK;
        }
        shell_error("fault #%llu is not in the log (it holds the last %u)", seq, FAULT_LOG_SIZE);
        return CMD_FAILED;
    }
    if (n == 0) {
        kprintf("no faults since boot. Try `pf 0` (read address 0) to make one.\n");
        return CMD_OK;
    }
    kprintf("%u fault%s since boot; the last %u (`faults <n>` for one's call chain):\n",
            log->total, log->total == 1 ? "" : "s", (unsigned)n);
    for (size_t i = 0; i < n; i++)
        fault_line(fault_log_get(log, i));
    return CMD_OK;
}

static const struct shell_command paging_commands[] = {
    {"pt", "[addr]", "page tables: the directory, or the walk of one address", 0, 1, cmd_pt},
    {"map", "<virt> [phys] [rw|ro|rw,user|ro,user]",
     "map a page (a new frame, or the frame at phys)", 1, 3, cmd_map},
    {"unmap", "<virt>", "unmap a page and give its frame back", 1, 1, cmd_unmap},
    {"pf", "<addr> [r|w|x]", "touch an address on purpose: read, write or jump", 1, 2, cmd_pf},
    {"stackoverflow", "", "recurse until the stack hits its guard page", 0, 0,
     cmd_stackoverflow},
    {"tlbtest", "[rounds]", "map, touch, unmap, touch: no stale TLB entry may let it through", 0,
     1, cmd_tlbtest},
    {"faults", "[n]", "the last faults, or one fault's call chain", 0, 1, cmd_faults},
};

void paging_commands_register(void)
{
    shell_register(paging_commands, ARRAY_SIZE(paging_commands));
}
