/*
 * elf.h - the few ELF32 structures the kernel reads: section headers.
 *
 * GRUB passes the kernel's section header table in the Multiboot
 * information (flags bit 5) and loads the symbol and string tables into
 * memory, filling in each loaded section's sh_addr.  The frame allocator
 * must not hand those bytes out; later, the fault handler reads the symbol
 * table to name functions.  Layout from the System V ABI, ELF chapter.
 */
#ifndef KERNEL_ELF_H
#define KERNEL_ELF_H

#include <stdint.h>

struct elf32_shdr {
    uint32_t sh_name;
    uint32_t sh_type;
    uint32_t sh_flags;
    uint32_t sh_addr;   /* where the section is in memory, 0 if not loaded */
    uint32_t sh_offset;
    uint32_t sh_size;
    uint32_t sh_link;
    uint32_t sh_info;
    uint32_t sh_addralign;
    uint32_t sh_entsize;
};
_Static_assert(sizeof(struct elf32_shdr) == 40, "an ELF32 section header is 40 bytes");

#define SHT_NULL   0
#define SHT_SYMTAB 2
#define SHT_STRTAB 3
#define SHT_NOBITS 8

#endif
