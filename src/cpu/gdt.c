/*
 * gdt.c - the Global Descriptor Table: a flat memory model.
 *
 * Paging, not segmentation, is how Kernel-V separates memory, so every
 * segment covers all 4 GiB.  GRUB leaves a GDT of its own somewhere we do
 * not own; we load ours before anything else.
 *
 *   entry  selector  what
 *   0      0x00      null (required)
 *   1      0x08      kernel code, ring 0
 *   2      0x10      kernel data, ring 0
 *   3      0x1b      user code, ring 3  (RPL 3 in the selector)
 *   4      0x23      user data, ring 3
 *
 * A descriptor scatters base and limit over its 8 bytes (Intel SDM 3A 3.4.5):
 *
 *   63     56 55  52 51   48 47      40 39     32 31        16 15         0
 *  +---------+------+-------+----------+---------+------------+------------+
 *  |base31:24| G DB | lim   |  access  |base23:16| base 15:0  | limit 15:0 |
 *  |         | L AVL| 19:16 | P DPL S T|         |            |            |
 *  +---------+------+-------+----------+---------+------------+------------+
 */
#include "kernel/interrupts.h"
#include "kernel/x86.h"

struct gdt_entry {
    uint16_t limit_low;
    uint16_t base_low;
    uint8_t base_mid;
    uint8_t access;
    uint8_t flags_limit_high; /* G, D/B, L, AVL in the high nibble */
    uint8_t base_high;
} __attribute__((packed));
_Static_assert(sizeof(struct gdt_entry) == 8, "a GDT entry is 8 bytes");

#define ACC_PRESENT   0x80
#define ACC_RING3     0x60
#define ACC_SEGMENT   0x10 /* code/data, not system */
#define ACC_CODE      0x0a /* executable, readable */
#define ACC_DATA      0x02 /* writable */
#define FLAG_4K_32BIT 0xc0 /* granularity 4 KiB, 32-bit default size */

static struct gdt_entry gdt[7]; /* null, 4 flat segments, 2 TSS (src/cpu/tss.c) */

static struct gdt_entry flat_segment(uint8_t access)
{
    return (struct gdt_entry){
        .limit_low = 0xffff,
        .base_low = 0,
        .base_mid = 0,
        .access = access,
        .flags_limit_high = FLAG_4K_32BIT | 0x0f,
        .base_high = 0,
    };
}

/* gdt_load (src/cpu/gdt_load.asm) runs lgdt, then reloads CS with a far
 * jump and the data segments: the CPU keeps using its cached descriptors
 * until a segment register is written. */
void gdt_load(const struct dtr *d, uint16_t code_sel, uint16_t data_sel);

/* gdt_set_tss - a 32-bit available TSS descriptor (type 9, DPL 0, byte
 * granularity) for the TSS at base in GDT slot `selector` / 8. */
void gdt_set_tss(uint16_t selector, uint32_t base, uint32_t limit)
{
    gdt[selector >> 3] = (struct gdt_entry){
        .limit_low = limit & 0xffff,
        .base_low = base & 0xffff,
        .base_mid = (base >> 16) & 0xff,
        .access = ACC_PRESENT | 0x09,
        .flags_limit_high = (limit >> 16) & 0x0f,
        .base_high = base >> 24,
    };
}

void gdt_init(void)
{
    gdt[0] = (struct gdt_entry){0};
    gdt[1] = flat_segment(ACC_PRESENT | ACC_SEGMENT | ACC_CODE);
    gdt[2] = flat_segment(ACC_PRESENT | ACC_SEGMENT | ACC_DATA);
    gdt[3] = flat_segment(ACC_PRESENT | ACC_RING3 | ACC_SEGMENT | ACC_CODE);
    gdt[4] = flat_segment(ACC_PRESENT | ACC_RING3 | ACC_SEGMENT | ACC_DATA);

    struct dtr d = {.limit = sizeof(gdt) - 1, .base = (uint32_t)gdt};
    gdt_load(&d, SEL_KERNEL_CODE, SEL_KERNEL_DATA);
    /* No LDT.  The LDT register still holds what the CPU had at reset
     * (base 0, limit 0xffff): a selector with its table bit set would
     * read "descriptors" from address 0 instead of raising #GP. */
    lldt(0);
}
