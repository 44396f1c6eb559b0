/*
 * symbols.h - naming kernel code: "0x00101234" becomes "shell_execute+0x1c".
 *
 * Two places hold the kernel's function names, and which one exists
 * depends on who booted us:
 *
 *   GRUB (Multiboot flag bit 5)   hands over the ELF section headers and
 *                                 loads .symtab and .strtab into memory:
 *                                 an unsorted array of struct elf32_sym
 *                                 whose st_name fields index the strings.
 *   QEMU -kernel (no bit 5)       hands over nothing, so the build links a
 *                                 table of its own into the image (section
 *                                 .ksyms, made by tools/gensyms.py from a
 *                                 first link of the same objects): struct
 *                                 ksym entries sorted by address.
 *
 * `struct symtab` describes either source, and symtab_* (src/lib/symtab.c)
 * looks names up in it.  That code is pure: it takes the tables as
 * arguments, never trusts them (a bad st_name offset, a name with no NUL
 * before the end of the string table, a zero count are all skipped), and
 * never reads outside the byte counts it is given.  symbols_* is the kernel
 * glue (src/kernel/symbols.c) that picks the source at boot.
 *
 * What counts as a function: an ELF symbol of type FUNC, or of type NOTYPE
 * (an assembly label such as isr_common), defined in a real section.  A
 * symbol with a size covers [value, value + size); a label without one
 * covers everything up to the next such symbol, unless a symbol with a
 * size starts at the same address (that one says where the code ends).
 * The built-in table follows the same rules (the generator has already
 * given labels sizes, up to the next symbol or the end of their section).
 */
#ifndef KERNEL_SYMBOLS_H
#define KERNEL_SYMBOLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct multiboot_info;

/* One ELF32 symbol table entry (System V ABI, "Symbol Table"). */
struct elf32_sym {
    uint32_t st_name;  /* offset of the name in the linked string table */
    uint32_t st_value; /* the address, in an executable */
    uint32_t st_size;  /* bytes covered; 0 for a plain label */
    uint8_t st_info;   /* binding << 4 | type */
    uint8_t st_other;
    uint16_t st_shndx; /* section index; 0 = undefined, >= 0xff00 special */
};
_Static_assert(sizeof(struct elf32_sym) == 16, "an ELF32 symbol is 16 bytes");

#define ELF32_ST_BIND(info) ((info) >> 4)
#define ELF32_ST_TYPE(info) ((info) & 0xf)
#define STB_LOCAL     0
#define STB_GLOBAL    1
#define STT_NOTYPE    0
#define STT_FUNC      2
#define SHN_UNDEF     0
#define SHN_LORESERVE 0xff00

/* One entry of the built-in table: name is an offset into the names blob. */
struct ksym {
    uint32_t addr;
    uint32_t size; /* 0: up to the next entry */
    uint32_t name;
};
_Static_assert(sizeof(struct ksym) == 12, "tools/gensyms.py writes 12-byte entries");

/* The header the generator puts first in .ksyms (so the kernel finds it at
 * __ksyms_start); the magic tells it apart from an empty section. */
#define KSYM_MAGIC 0x4d59534bu /* "KSYM" */
struct ksym_table {
    uint32_t magic;
    uint32_t count;       /* entries in syms, sorted by addr */
    uint32_t names_bytes; /* bytes in names, the last one a NUL */
    const struct ksym *syms;
    const char *names;
};

enum symtab_kind { SYMTAB_NONE, SYMTAB_ELF, SYMTAB_SORTED };

/* One source of names.  Fill it with a symtab_init_* call; the tables it
 * points to must stay where they are while it is used. */
struct symtab {
    enum symtab_kind kind;
    const void *syms;   /* struct elf32_sym[] or struct ksym[] */
    uint32_t count;     /* entries in syms */
    const char *strs;   /* string table / names blob */
    uint32_t str_bytes; /* its size: no name is read past this */
    uint32_t functions; /* entries that pass as functions (symtab_count) */
};

/*
 * symtab_init_elf - describe an ELF symbol table (sym_bytes bytes: the
 * count is sym_bytes / 16, a partial entry at the end is ignored) and the
 * string table it links to.  The symbols may lie at any alignment.
 * Counts the usable function symbols (symtab_count).  Any pointer may be
 * NULL with a zero size: the table is then empty, never an error.
 */
void symtab_init_elf(struct symtab *t, const void *syms, uint32_t sym_bytes, const char *strs,
                     uint32_t str_bytes);

/*
 * symtab_init_sorted - describe a built-in table: count entries sorted by
 * address (ties allowed) naming strings in names[0, names_bytes).  Entries
 * whose name offset is bad are skipped by lookups, as in an ELF table.
 */
void symtab_init_sorted(struct symtab *t, const struct ksym *table, uint32_t count,
                        const char *names, uint32_t names_bytes);

/* symtab_count - how many entries pass as function symbols (with a valid
 * name).  For an ELF table that includes labels outside the code (such as
 * boot_stack_top), which no lookup of a code address ever returns. */
uint32_t symtab_count(const struct symtab *t);

/*
 * symtab_lookup - the function containing addr: among the function
 * symbols that cover addr (see the top of this file), the one that starts
 * highest, so a label inside a function wins over the function; at equal
 * starts one with a size beats a label, and a global a local.  Sets *name
 * (pointing into the string table) and *offset = addr - start, and returns
 * true; returns false, leaving both alone, when no symbol covers addr
 * (before the first one, in the padding between functions, past the end).
 * Either out pointer may be NULL.
 */
bool symtab_lookup(const struct symtab *t, uint32_t addr, const char **name, uint32_t *offset);

/*
 * symtab_find - the address of the function called name (a global one if
 * several share the name, as static functions in different files may).
 * Returns false, leaving *addr alone, when there is none.
 */
bool symtab_find(const struct symtab *t, const char *name, uint32_t *addr);

/* ---- Kernel glue (src/kernel/symbols.c) ---------------------------------- */

/*
 * symbols_init - choose the source: GRUB's .symtab when Multiboot flag bit
 * 5 is set and the section headers hold a loaded SHT_SYMTAB whose linked
 * string table is loaded too (and it names at least one function), else
 * the built-in table.  Logs "symbols: <source>".  Call it once, before
 * paging, while the boot loader's memory is still identity-mapped.
 * Lookups before it use the built-in table.
 */
void symbols_init(const struct multiboot_info *mbi);

/* symbols_source - "GRUB ELF symtab (N symbols)" or "built-in table (N
 * symbols)": which source lookups use. */
const char *symbols_source(void);

/*
 * symbols_lookup - symtab_lookup on the chosen source, for an address in
 * the kernel's code (__kernel_start .. __text_end); anything else is not a
 * function and gives false.
 */
bool symbols_lookup(uint32_t addr, const char **name, uint32_t *offset);

/*
 * symbols_format - write "name+0x1c" for addr into buf (size bytes, always
 * NUL-terminated when size > 0), or "?" when no function covers it.
 * Returns what ksnprintf returns (the length the whole text needs).
 */
int symbols_format(uint32_t addr, char *buf, size_t size);

/*
 * symbols_format_return - the same for a return address (a stack trace's
 * frames, the caller recorded by an allocation): the function is looked up
 * at ret - 1, since a call to a function that never returns may be the
 * last instruction of its caller, and then ret is already past its end.
 * The offset printed is still ret's.
 */
int symbols_format_return(uint32_t ret, char *buf, size_t size);

/*
 * symbols_boot_ranges - call fn(start, end_exclusive, what) for each range
 * of boot-loader memory the chosen source reads (GRUB's symbol and string
 * tables), so that paging can keep them mapped.  Calls nothing for the
 * built-in table, which lies inside the kernel image.
 */
void symbols_boot_ranges(void (*fn)(uint32_t start, uint32_t end_exclusive, const char *what));

#endif
