/*
 * x86.h - every x86 instruction the kernel uses that C cannot express.
 *
 * This is the one place with inline assembly (besides boot/ and the ISR
 * stubs).  Drivers and memory code call these; nothing else touches ports
 * or control registers directly, so pure logic stays testable on the host.
 */
#ifndef KERNEL_X86_H
#define KERNEL_X86_H

#include <stdint.h>

static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outw(uint16_t port, uint16_t v)
{
    __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

/* A write to an unused port takes about a microsecond: the classic delay
 * the 8259 PIC needs between initialisation words on old hardware. */
static inline void io_wait(void)
{
    outb(0x80, 0);
}

static inline void cli(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void sti(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void hlt(void) { __asm__ volatile("hlt" ::: "memory"); }

/* Enable interrupts and halt in one step: sti takes effect after the next
 * instruction, so no interrupt can slip in between and be missed. */
static inline void sti_hlt(void) { __asm__ volatile("sti; hlt" ::: "memory"); }

/* Stop this CPU for good: interrupts off, halted (an NMI would wake the
 * hlt, so it loops). */
__attribute__((noreturn)) static inline void cpu_halt_forever(void)
{
    for (;;)
        __asm__ volatile("cli; hlt" ::: "memory");
}

static inline uint32_t read_eflags(void)
{
    uint32_t v;
    __asm__ volatile("pushfl; popl %0" : "=r"(v));
    return v;
}

#define EFLAGS_IF 0x200u

/* Save the interrupt flag and disable; restore with irq_restore. */
static inline uint32_t irq_save(void)
{
    uint32_t flags = read_eflags();
    cli();
    return flags;
}

static inline void irq_restore(uint32_t flags)
{
    if (flags & EFLAGS_IF)
        sti();
}

#define DEFINE_READ_CR(n)                                              \
    static inline uint32_t read_cr##n(void)                            \
    {                                                                  \
        uint32_t v;                                                    \
        __asm__ volatile("mov %%cr" #n ", %0" : "=r"(v));              \
        return v;                                                      \
    }
DEFINE_READ_CR(0)
DEFINE_READ_CR(2)
DEFINE_READ_CR(3)
DEFINE_READ_CR(4)
#undef DEFINE_READ_CR

static inline void write_cr0(uint32_t v) { __asm__ volatile("mov %0, %%cr0" : : "r"(v) : "memory"); }
static inline void write_cr3(uint32_t v) { __asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory"); }
static inline void write_cr4(uint32_t v) { __asm__ volatile("mov %0, %%cr4" : : "r"(v) : "memory"); }

static inline void invlpg(uint32_t vaddr)
{
    __asm__ volatile("invlpg (%0)" : : "r"(vaddr) : "memory");
}

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

static inline uint16_t read_ss(void)
{
    uint16_t v;
    __asm__ volatile("mov %%ss, %0" : "=r"(v));
    return v;
}

static inline uint32_t read_ebp(void)
{
    uint32_t v;
    __asm__ volatile("mov %%ebp, %0" : "=r"(v));
    return v;
}

/* Descriptor-table loads: the operand is a 6-byte {limit, base} pair. */
struct dtr {
    uint16_t limit;
    uint32_t base;
} __attribute__((packed));
_Static_assert(sizeof(struct dtr) == 6, "lgdt/lidt operand is 6 bytes");

static inline void lidt(const struct dtr *d) { __asm__ volatile("lidt (%0)" : : "r"(d) : "memory"); }
static inline void ltr(uint16_t sel) { __asm__ volatile("ltr %0" : : "r"(sel)); }
static inline void clts(void) { __asm__ volatile("clts"); } /* CR0.TS off */
static inline void lldt(uint16_t sel) { __asm__ volatile("lldt %0" : : "r"(sel)); }

/* Deliberate faults, for the shell's `crash` command and the self-tests. */
static inline void cpu_ud2(void) { __asm__ volatile("ud2"); }        /* #UD, 2 bytes */
static inline void cpu_int3(void) { __asm__ volatile("int3"); }      /* #BP, 1 byte  */
static inline void load_ds(uint16_t sel) { __asm__ volatile("mov %0, %%ds" : : "r"(sel) : "memory"); }

/* QEMU's isa-debug-exit device (-device isa-debug-exit,iobase=0xf4):
 * writing v makes QEMU exit with status (v << 1) | 1. */
#define DEBUG_EXIT_PORT 0xf4

/* Exit codes the kernel writes there; QEMU's status is (code << 1) | 1. */
#define QEMU_EXIT_PASS  0x10 /* status 33: self-tests passed */
#define QEMU_EXIT_FAIL  0x11 /* status 35: a self-test failed */
#define QEMU_EXIT_PANIC 0x12 /* status 37: the kernel panicked */

/* qemu_debug_exit - leave QEMU now when the device is present; on real
 * hardware (or without the device) the write does nothing. */
static inline void qemu_debug_exit(uint8_t code)
{
    outb(DEBUG_EXIT_PORT, code);
}

#endif
