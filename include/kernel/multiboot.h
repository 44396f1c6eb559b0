/*
 * multiboot.h - the Multiboot (version 1) information structure.
 *
 * GRUB and QEMU's -kernel loader leave EAX = MULTIBOOT_BOOTLOADER_MAGIC and
 * EBX = the physical address of struct multiboot_info.  Each field is valid
 * only when its bit in `flags` is set.  The memory map entries are walked
 * by their own `size` field (+4, since size does not count itself): never
 * assume sizeof(struct multiboot_mmap_entry).
 *
 * Layout from the Multiboot Specification 0.6.96, section 3.3.
 */
#ifndef KERNEL_MULTIBOOT_H
#define KERNEL_MULTIBOOT_H

#include <stdint.h>

#define MULTIBOOT_BOOTLOADER_MAGIC 0x2BADB002u

#define MB_INFO_MEMORY     (1u << 0)  /* mem_lower / mem_upper */
#define MB_INFO_BOOTDEV    (1u << 1)
#define MB_INFO_CMDLINE    (1u << 2)
#define MB_INFO_MODS       (1u << 3)
#define MB_INFO_AOUT_SYMS  (1u << 4)
#define MB_INFO_ELF_SHDR   (1u << 5)  /* ELF section headers (symbols!) */
#define MB_INFO_MEM_MAP    (1u << 6)  /* mmap_addr / mmap_length */
#define MB_INFO_DRIVES     (1u << 7)
#define MB_INFO_CONFIG     (1u << 8)
#define MB_INFO_LOADER     (1u << 9)  /* boot_loader_name */
#define MB_INFO_APM        (1u << 10)
#define MB_INFO_VBE        (1u << 11)
#define MB_INFO_FRAMEBUF   (1u << 12)

struct multiboot_info {
    uint32_t flags;
    uint32_t mem_lower;    /* KiB below 1 MiB */
    uint32_t mem_upper;    /* KiB above 1 MiB, up to the first hole */
    uint32_t boot_device;
    uint32_t cmdline;      /* physical address of a C string */
    uint32_t mods_count;
    uint32_t mods_addr;
    uint32_t shdr_num;     /* ELF section headers (flags bit 5) */
    uint32_t shdr_size;
    uint32_t shdr_addr;
    uint32_t shdr_shndx;
    uint32_t mmap_length;  /* bytes */
    uint32_t mmap_addr;
    uint32_t drives_length;
    uint32_t drives_addr;
    uint32_t config_table;
    uint32_t boot_loader_name;
    uint32_t apm_table;
    uint32_t vbe_control_info;
    uint32_t vbe_mode_info;
    uint16_t vbe_mode;
    uint16_t vbe_interface_seg;
    uint16_t vbe_interface_off;
    uint16_t vbe_interface_len;
    uint64_t framebuffer_addr;
    uint32_t framebuffer_pitch;
    uint32_t framebuffer_width;
    uint32_t framebuffer_height;
    uint8_t framebuffer_bpp;
    uint8_t framebuffer_type;
    uint8_t color_info[6];
} __attribute__((packed));
_Static_assert(sizeof(struct multiboot_info) == 116, "Multiboot info is 116 bytes");

/* One memory-map entry.  `size` is the size of the rest of the entry (20 in
 * practice, but a loader may make entries longer). */
struct multiboot_mmap_entry {
    uint32_t size;
    uint64_t addr;
    uint64_t len;
    uint32_t type;
} __attribute__((packed));
_Static_assert(sizeof(struct multiboot_mmap_entry) == 24, "mmap entry is 24 bytes");

struct multiboot_module {
    uint32_t mod_start;
    uint32_t mod_end;
    uint32_t string;
    uint32_t reserved;
} __attribute__((packed));
_Static_assert(sizeof(struct multiboot_module) == 16, "module entry is 16 bytes");

#endif
