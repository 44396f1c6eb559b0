/*
 * symbols.c - which symbol table the kernel names its functions from.
 *
 * GRUB gives us the real one: the kernel's own .symtab and .strtab, loaded
 * into memory next to the image, found through the ELF section headers in
 * the Multiboot information (flag bit 5).  QEMU -kernel gives nothing, so
 * the build links a table into the image (section .ksyms, see
 * tools/gensyms.py and boot/linker.ld), whose header sits at __ksyms_start.
 * GRUB's table is preferred when it is there: it is the linker's own
 * output, where the built-in one is a copy made from the first link.
 *
 * Until symbols_init runs (and whenever GRUB's table turns out unusable)
 * lookups use the built-in table, so an early panic is named too.
 */
#include "kernel/elf.h"
#include "kernel/format.h"
#include "kernel/log.h"
#include "kernel/multiboot.h"
#include "kernel/symbols.h"

extern char __kernel_start[], __text_end[];
extern char __ksyms_start[], __ksyms_end[];

static struct symtab active;
static bool chosen;       /* active has been set up */
static bool from_grub;    /* ... from GRUB's tables */
static uint32_t grub_symtab[2], grub_strtab[2]; /* [start, end) */
static char source[64];

/* The built-in table, or an empty one if this image has none (the first
 * link of the build, or a header that does not check out). */
static void use_builtin(void)
{
    const struct ksym_table *h = (const struct ksym_table *)__ksyms_start;
    uint32_t lo = (uint32_t)__ksyms_start, hi = (uint32_t)__ksyms_end;
    bool ok = hi - lo >= sizeof(*h) && h->magic == KSYM_MAGIC;
    /* The entries and names must lie inside the section, where the
     * generator put them: checked with subtractions, which cannot wrap. */
    uint32_t syms = ok ? (uint32_t)h->syms : 0, names = ok ? (uint32_t)h->names : 0;
    ok = ok && syms >= lo && syms <= hi && h->count <= (hi - syms) / sizeof(struct ksym) &&
         names >= lo && names <= hi && h->names_bytes <= hi - names;
    if (ok)
        symtab_init_sorted(&active, h->syms, h->count, h->names, h->names_bytes);
    else
        symtab_init_sorted(&active, NULL, 0, NULL, 0);
    from_grub = false;
    chosen = true;
    ksnprintf(source, sizeof(source), "built-in table (%u symbols)",
              (unsigned)symtab_count(&active));
}

/* Section header i, or NULL if there is no such header. */
static const struct elf32_shdr *section(const struct multiboot_info *mbi, uint32_t i)
{
    if (i >= mbi->shdr_num)
        return NULL;
    return (const struct elf32_shdr *)(mbi->shdr_addr + i * mbi->shdr_size);
}

/* A section GRUB loaded (sh_addr set), of the given type, that does not
 * wrap past 4 GiB. */
static bool loaded(const struct elf32_shdr *sh, uint32_t type)
{
    return sh && sh->sh_type == type && sh->sh_addr != 0 && sh->sh_size != 0 &&
           sh->sh_addr + sh->sh_size > sh->sh_addr;
}

/* Try GRUB's symbol table; true if it names at least one function. */
static bool use_grub(const struct multiboot_info *mbi)
{
    if (!(mbi->flags & MB_INFO_ELF_SHDR) || mbi->shdr_size < sizeof(struct elf32_shdr) ||
        mbi->shdr_addr == 0)
        return false;
    for (uint32_t i = 0; i < mbi->shdr_num; i++) {
        const struct elf32_shdr *sym = section(mbi, i);
        if (!loaded(sym, SHT_SYMTAB) || sym->sh_entsize != sizeof(struct elf32_sym))
            continue;
        const struct elf32_shdr *str = section(mbi, sym->sh_link);
        if (!loaded(str, SHT_STRTAB))
            continue;
        symtab_init_elf(&active, (const void *)sym->sh_addr, sym->sh_size,
                        (const char *)str->sh_addr, str->sh_size);
        if (symtab_count(&active) == 0)
            continue;
        grub_symtab[0] = sym->sh_addr;
        grub_symtab[1] = sym->sh_addr + sym->sh_size;
        grub_strtab[0] = str->sh_addr;
        grub_strtab[1] = str->sh_addr + str->sh_size;
        from_grub = true;
        chosen = true;
        ksnprintf(source, sizeof(source), "GRUB ELF symtab (%u symbols)",
                  (unsigned)symtab_count(&active));
        return true;
    }
    return false;
}

void symbols_init(const struct multiboot_info *mbi)
{
    if (!use_grub(mbi)) {
        if (mbi->flags & MB_INFO_ELF_SHDR)
            log_warn("symbols", "the boot loader's ELF sections hold no usable symbol "
                                "table; using the built-in one");
        use_builtin();
    }
    klog_serial("symbols", "%s", source);
}

const char *symbols_source(void)
{
    if (!chosen)
        use_builtin();
    return source;
}

bool symbols_lookup(uint32_t addr, const char **name, uint32_t *offset)
{
    if (!chosen)
        use_builtin();
    if (addr < (uint32_t)__kernel_start || addr >= (uint32_t)__text_end)
        return false;
    return symtab_lookup(&active, addr, name, offset);
}

int symbols_format(uint32_t addr, char *buf, size_t size)
{
    const char *name;
    uint32_t offset;
    if (!symbols_lookup(addr, &name, &offset))
        return ksnprintf(buf, size, "?");
    return ksnprintf(buf, size, "%s+0x%x", name, offset);
}

int symbols_format_return(uint32_t ret, char *buf, size_t size)
{
    const char *name;
    uint32_t offset;
    if (ret == 0 || !symbols_lookup(ret - 1, &name, &offset))
        return ksnprintf(buf, size, "?");
    return ksnprintf(buf, size, "%s+0x%x", name, offset + 1);
}

void symbols_boot_ranges(void (*fn)(uint32_t start, uint32_t end_exclusive, const char *what))
{
    if (!from_grub)
        return;
    fn(grub_symtab[0], grub_symtab[1], "ELF symbol table (loaded by GRUB)");
    fn(grub_strtab[0], grub_strtab[1], "ELF string table (loaded by GRUB)");
}
