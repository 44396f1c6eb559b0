/*
 * paging.c - the kernel's page tables on the real machine: building them,
 * turning the MMU on, and the locked, traced entry points (paging.h).
 *
 * The table logic is pagetable.c (pure); this file answers its questions
 * for the running kernel:
 *   - where a table can be reached: at its physical address while paging
 *     is off, through the recursive window once it is on;
 *   - where a new table comes from: the frame allocator, tagged PAGETABLE;
 *   - how a stale translation is dropped: invlpg.
 * It also owns the temporary-mapping page, through which the frame
 * allocator poisons frames that are not mapped anywhere.
 */
#include "kernel/paging.h"
#include "kernel/config.h"
#include "kernel/kstring.h"
#include "kernel/log.h"
#include "kernel/panic.h"
#include "kernel/pmm.h"
#include "kernel/x86.h"

#define CR0_WP (1u << 16) /* the kernel, too, obeys read-only pages */
#define CR0_PG (1u << 31)

extern char __kernel_start[], __text_end[], __rodata_end[], __ksyms_start[], __kernel_end[];
extern char boot_stack_guard[], boot_stack_bottom[], boot_stack_top[];

static struct pt_space kspace;
static struct vm_regions regions;
static bool enabled;
static uint32_t maps, unmaps;

/* ---- what pagetable.c needs ------------------------------------------------ */

static pte_t *table_at_physical(struct pt_space *s, uint32_t index, paddr_t phys)
{
    UNUSED(s);
    UNUSED(index);
    return (pte_t *)phys;
}

static pte_t *table_in_window(struct pt_space *s, uint32_t index, paddr_t phys)
{
    UNUSED(s);
    UNUSED(phys);
    if (index == PT_DIRECTORY)
        index = PT_RECURSIVE_SLOT;
    return (pte_t *)(PT_WINDOW + index * PAGE_SIZE);
}

static paddr_t table_alloc(struct pt_space *s)
{
    UNUSED(s);
    return (paddr_t)pmm_alloc_frame_tagged(TAG_PAGETABLE);
}

static void table_free(struct pt_space *s, uint32_t index, paddr_t phys)
{
    UNUSED(s);
    UNUSED(index);
    pmm_free_frame((void *)phys);
}

static void table_invalidate(struct pt_space *s, vaddr_t va)
{
    UNUSED(s);
    if (enabled)
        invlpg(va);
}

/* ---- the temporary page ------------------------------------------------------ */

/* The PTE of KV_TEMP_PAGE, reached through the window; its table is made
 * at boot and never freed (nothing else is mapped in KV_TEMP_AREA). */
static pte_t *temp_pte(void)
{
    return (pte_t *)(PT_WINDOW + pde_index(KV_TEMP_PAGE) * PAGE_SIZE) +
           pte_index(KV_TEMP_PAGE);
}

/* Fill the frame at `frame` through the temporary page.  The PTE is
 * written directly (not with pt_map): this runs inside pmm_free_frame,
 * which paging itself calls while it changes tables. */
static void fill_through_temp(paddr_t frame, uint8_t byte)
{
    uint32_t flags = irq_save();
    pte_t *pte = temp_pte();
    *pte = frame | PTE_PRESENT | PTE_WRITABLE;
    invlpg(KV_TEMP_PAGE);
    memset((void *)KV_TEMP_PAGE, byte, PAGE_SIZE);
    *pte = 0;
    invlpg(KV_TEMP_PAGE);
    irq_restore(flags);
}

/* ---- building the tables ------------------------------------------------------ */

static void must(enum pt_error e, const char *what, uint32_t va)
{
    if (e != PT_OK)
        panic("paging: cannot map %s at 0x%08x: %s", what, va, pt_error_str(e));
}

/* Identity-map [start, end) page by page with flags; pages already mapped
 * are kept as they are (boot ranges overlap each other and the kernel). */
static void identity(uint32_t start, uint32_t end, uint32_t flags, const char *what)
{
    for (uint32_t va = ALIGN_DOWN(start, PAGE_SIZE); va < end && va >= ALIGN_DOWN(start, PAGE_SIZE);
         va += PAGE_SIZE) {
        enum pt_error e = pt_map(&kspace, va, va, flags);
        if (e != PT_ERR_EXISTS)
            must(e, what, va);
    }
}

static void region(uint32_t start, uint32_t end_exclusive, uint8_t kind, const char *name)
{
    if (end_exclusive > start && !vm_regions_add(&regions, start, end_exclusive - 1, kind, name))
        log_warn("paging", "region table full; not naming %s", name);
}

/* The kernel image, section by section.  Pages below the end of .rodata
 * (rounded up: .data starts on a fresh page) are read-only, and so is the
 * built-in symbol table, the image's last section (each starts on a page:
 * boot/linker.ld); the guard page below the boot stack stays unmapped. */
static void map_kernel(void)
{
    uint32_t text_end = ALIGN_DOWN((uint32_t)__text_end + PAGE_SIZE - 1, PAGE_SIZE);
    uint32_t ro_end = ALIGN_DOWN((uint32_t)__rodata_end + PAGE_SIZE - 1, PAGE_SIZE);
    uint32_t ksyms = (uint32_t)__ksyms_start, guard = (uint32_t)boot_stack_guard;
    for (uint32_t va = (uint32_t)__kernel_start; va < (uint32_t)__kernel_end; va += PAGE_SIZE) {
        if (va == guard)
            continue;
        bool read_only = va < ro_end || va >= ksyms;
        must(pt_map(&kspace, va, va, read_only ? 0 : PTE_WRITABLE), "the kernel", va);
    }
    region((uint32_t)__kernel_start, text_end, VM_KERNEL_TEXT, "kernel .text");
    region(text_end, ro_end, VM_KERNEL_RODATA, "kernel .rodata");
    region(ro_end, ksyms, VM_KERNEL_DATA, "kernel .data/.bss");
    region(ksyms, (uint32_t)__kernel_end, VM_KERNEL_RODATA, "kernel symbol table");
    region((uint32_t)boot_stack_bottom, (uint32_t)boot_stack_top, VM_STACK, "boot stack");
    region(guard, guard + PAGE_SIZE, VM_GUARD, "guard page below the boot stack");
}

/* Boot structures the kernel still reads (Multiboot information, GRUB's
 * symbol tables, ...), read-only; the parts inside the kernel image are
 * already mapped. */
static void map_boot_ranges(void)
{
    size_t n;
    const struct pmm_boot_range *r = pmm_boot_ranges(&n);
    for (size_t i = 0; i < n; i++) {
        if (r[i].tag != TAG_BOOT && r[i].tag != TAG_KERNEL)
            continue;
        uint32_t start = (uint32_t)r[i].start, end = (uint32_t)r[i].end;
        if (r[i].end > GIB(4) - PAGE_SIZE)
            continue;
        if (start >= (uint32_t)__kernel_start && end <= (uint32_t)__kernel_end)
            continue;
        if (start < (uint32_t)__kernel_end && end > (uint32_t)__kernel_start) {
            /* Straddles the image: only the part past its end. */
            start = (uint32_t)__kernel_end;
        }
        identity(start, end, 0, r[i].what);
        region(ALIGN_DOWN(start, PAGE_SIZE), ALIGN_DOWN(end + PAGE_SIZE - 1, PAGE_SIZE), VM_BOOT,
               r[i].what);
    }
}

void paging_init(void)
{
    kspace = (struct pt_space){
        .recursive = true,
        .table = table_at_physical,
        .alloc_table = table_alloc,
        .free_table = table_free,
        .invalidate = table_invalidate,
    };
    if (pt_create(&kspace) != PT_OK)
        panic("paging: no frame for the page directory");

    region(0, PAGE_SIZE, VM_NULL_PAGE, "NULL page (never mapped)");
    map_kernel();
    identity(0xb8000, 0xc0000, PTE_WRITABLE, "VGA text memory");
    region(0xb8000, 0xc0000, VM_DEVICE, "VGA text memory");
    const struct pmm_layout *l = pmm_get_layout();
    identity(l->bitmap_base, l->bitmap_base + (uint32_t)l->bitmap_bytes, PTE_WRITABLE,
             "the frame bitmap");
    region(l->bitmap_base, ALIGN_DOWN(l->bitmap_base + (uint32_t)l->bitmap_bytes + PAGE_SIZE - 1,
                                      PAGE_SIZE),
           VM_BITMAP, "frame bitmap and records");
    map_boot_ranges();

    /* The temporary page's table: map the page once so that the table
     * exists, then clear its entry by hand (paging is still off, so the
     * table is at its physical address).  pt_unmap would free the table. */
    must(pt_map(&kspace, KV_TEMP_PAGE, l->bitmap_base, 0), "the temporary page", KV_TEMP_PAGE);
    ((pte_t *)pte_frame(pt_dir_entry(&kspace, pde_index(KV_TEMP_PAGE))))[pte_index(KV_TEMP_PAGE)] =
        0;

    region(KV_HEAP_START, KV_HEAP_END, VM_HEAP, "kernel heap area");
    region(KV_GUARDED_START, KV_GUARDED_END, VM_GUARDED_AREA, "guarded ranges");
    region(KV_TEMP_AREA, PT_WINDOW, VM_TEMP, "temporary mappings");
    vm_regions_add(&regions, PT_WINDOW, 0xffffffffu, VM_PAGE_TABLES,
                   "page-table window (recursive slot)");

    write_cr3(kspace.directory);
    write_cr0(read_cr0() | CR0_PG | CR0_WP);
    kspace.table = table_in_window;
    enabled = true;
    pmm_set_frame_filler(fill_through_temp);

    struct paging_stats st;
    paging_get_stats(&st);
    log_info("paging", "MMU on: directory 0x%08x, %u tables; text read-only, page 0 unmapped",
             kspace.directory, st.tables);
}

bool paging_enabled(void)
{
    return enabled;
}

paddr_t paging_directory(void)
{
    return kspace.directory;
}

/* ---- the entry points ------------------------------------------------------------ */

enum pt_error paging_map(vaddr_t va, paddr_t pa, uint32_t flags)
{
    uint32_t irq = irq_save();
    enum pt_error e = pt_map(&kspace, va, pa, flags);
    if (e == PT_OK)
        maps++;
    irq_restore(irq);
    if (e == PT_OK)
        TRACE(TRACE_PAGING, "map 0x%08x -> 0x%08x flags 0x%03x", va, pa, flags);
    return e;
}

enum pt_error paging_unmap(vaddr_t va, paddr_t *old)
{
    paddr_t pa = 0;
    uint32_t irq = irq_save();
    enum pt_error e = pt_unmap(&kspace, va, &pa);
    if (e == PT_OK)
        unmaps++;
    irq_restore(irq);
    if (e == PT_OK)
        TRACE(TRACE_PAGING, "unmap 0x%08x (was 0x%08x)", va, pa);
    if (old)
        *old = pa;
    return e;
}

enum pt_error paging_protect(vaddr_t va, uint32_t flags)
{
    uint32_t irq = irq_save();
    enum pt_error e = pt_protect(&kspace, va, flags);
    irq_restore(irq);
    if (e == PT_OK)
        TRACE(TRACE_PAGING, "protect 0x%08x flags 0x%03x", va, flags);
    return e;
}

enum pt_error paging_map_new(vaddr_t va, uint32_t flags, uint8_t tag)
{
    void *frame = pmm_alloc_frame_tagged(tag);
    if (!frame)
        return PT_ERR_NO_MEMORY;
    enum pt_error e = paging_map(va, (paddr_t)frame, flags);
    if (e != PT_OK)
        pmm_free_frame(frame);
    return e;
}

enum pt_error paging_unmap_release(vaddr_t va)
{
    paddr_t pa;
    enum pt_error e = paging_unmap(va, &pa);
    if (e != PT_OK)
        return e;
    struct frame_info fi;
    pmm_query(pa, &fi);
    if (fi.state == FRAME_ALLOCATED)
        pmm_unref((void *)pa);
    return PT_OK;
}

bool paging_walk(vaddr_t va, struct pt_walk *w)
{
    uint32_t irq = irq_save();
    bool mapped = pt_walk(&kspace, va, w);
    irq_restore(irq);
    return mapped;
}

bool paging_translate(vaddr_t va, paddr_t *pa)
{
    uint32_t irq = irq_save();
    bool mapped = pt_translate(&kspace, va, pa);
    irq_restore(irq);
    return mapped;
}

pte_t paging_dir_entry(uint32_t index)
{
    return index < PT_ENTRIES ? pt_dir_entry(&kspace, index) : 0;
}

pte_t paging_table_entry(uint32_t dir_index, uint32_t index)
{
    if (dir_index >= PT_ENTRIES || index >= PT_ENTRIES)
        return 0;
    uint32_t irq = irq_save();
    pte_t e = pt_table_entry(&kspace, dir_index, index);
    irq_restore(irq);
    return e;
}

uint32_t paging_table_present(uint32_t dir_index)
{
    if (dir_index >= PT_ENTRIES)
        return 0;
    uint32_t irq = irq_save();
    uint32_t n = pt_table_present(&kspace, dir_index);
    irq_restore(irq);
    return n;
}

const struct vm_regions *paging_regions(void)
{
    return &regions;
}

const struct vm_region *paging_region_of(vaddr_t va)
{
    return vm_regions_find(&regions, va);
}

bool paging_region_add(vaddr_t start, vaddr_t last, uint8_t kind, const char *name)
{
    uint32_t irq = irq_save();
    bool ok = vm_regions_add(&regions, start, last, kind, name);
    irq_restore(irq);
    return ok;
}

bool paging_region_remove(vaddr_t start, uint8_t kind)
{
    uint32_t irq = irq_save();
    bool ok = vm_regions_remove(&regions, start, kind);
    irq_restore(irq);
    return ok;
}

void paging_get_stats(struct paging_stats *out)
{
    uint32_t tables = 0;
    for (uint32_t i = 0; i < PT_ENTRIES; i++)
        if (i != PT_RECURSIVE_SLOT && (paging_dir_entry(i) & PTE_PRESENT))
            tables++;
    *out = (struct paging_stats){tables, maps, unmaps};
}
