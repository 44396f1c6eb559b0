/*
 * main.c - kmain: from the boot loader's hand-over to the shell prompt.
 *
 * Order matters: serial first (so everything after is mirrored), the
 * screen cleared (BIOS and GRUB text must not remain), then anything the
 * boot loader left in memory we do not own is copied (the command line)
 * before later code can overwrite it, then interrupts, drivers, and the
 * shell (or the self-tests).
 */
#include "kernel/cmdline.h"
#include "kernel/config.h"
#include "kernel/console.h"
#include "kernel/format.h"
#include "kernel/interrupts.h"
#include "kernel/keyboard.h"
#include "kernel/kstring.h"
#include "kernel/log.h"
#include "kernel/memmap.h"
#include "kernel/multiboot.h"
#include "kernel/fault.h"
#include "kernel/heap.h"
#include "kernel/paging.h"
#include "kernel/panic.h"
#include "kernel/pmm.h"
#include "kernel/selftest.h"
#include "kernel/serial.h"
#include "kernel/shell.h"
#include "kernel/symbols.h"
#include "kernel/timer.h"
#include "kernel/vga.h"
#include "kernel/viz.h"
#include "kernel/x86.h"

#define CMDLINE_MAX 256

static char cmdline[CMDLINE_MAX];

void core_selftests_register(void);
NORETURN void kmain(uint32_t magic, const struct multiboot_info *mbi);

/* A full-width title bar on row 0, which then stays put: the console
 * scrolls and clears only the rows below it.  One plain line on serial. */
static void banner(void)
{
    char title[VGA_COLS + 1];
    int n = ksnprintf(title, sizeof(title), " Kernel-V %s   a kernel about memory", KV_VERSION);
    uint8_t saved = console_attr();
    console_set_attr(vga_attr(VGA_WHITE, VGA_BLUE));
    kprintf_to(CONSOLE_TO_VGA, "%s%*s", title, VGA_COLS - n, "");
    console_set_attr(saved);
    console_set_top(1);
    kprintf_to(CONSOLE_TO_SERIAL, "%s\n", title + 1);
}

/* Copy the command line out of boot-loader memory (it lies wherever the
 * loader put it: QEMU -kernel puts it just past the image).  A line longer
 * than our buffer is cut, and we say so. */
static void save_cmdline(const struct multiboot_info *mbi)
{
    if (!(mbi->flags & MB_INFO_CMDLINE) || mbi->cmdline == 0)
        return;
    size_t len = kstrlcpy(cmdline, (const char *)mbi->cmdline, sizeof(cmdline));
    if (len >= sizeof(cmdline))
        log_warn("boot", "command line is %u bytes; only the first %u are used",
                 (unsigned)len, (unsigned)sizeof(cmdline) - 1);
}

static void apply_trace_option(void)
{
    char list[64];
    if (!cmdline_get(cmdline, "trace", list, sizeof(list)))
        return;
    uint32_t mask;
    const char *bad;
    if (trace_parse(list, &mask, &bad))
        trace_mask = mask;
    else
        log_warn("boot", "trace=%s: no subsystem '%s'; trace switches unchanged", list, bad);
}

void kmain(uint32_t magic, const struct multiboot_info *mbi)
{
    serial_init();
    console_init();
    banner();
    if (magic != MULTIBOOT_BOOTLOADER_MAGIC)
        panic("not started by a Multiboot boot loader (EAX=0x%08x, expected 0x%08x)", magic,
              MULTIBOOT_BOOTLOADER_MAGIC);
    save_cmdline(mbi);
    memmap_init(mbi); /* copies the map out of boot-loader memory */

    interrupts_init();
    timer_init();
    keyboard_init();
    serial_enable_input();
    sti();

    if (mbi->flags & MB_INFO_LOADER)
        log_info("boot", "loaded by %s", (const char *)mbi->boot_loader_name);
    log_info("boot", "command line: \"%s\"", cmdline);
    if (mbi->flags & MB_INFO_MEMORY)
        klog_serial("boot", "memory: %u KiB below 1 MiB, %u KiB above", mbi->mem_lower,
                 mbi->mem_upper);
    symbols_init(mbi); /* GRUB's symbol table if it gave us one; before paging */
    apply_trace_option();
    viz_memmap_table();
    pmm_init(mbi);
    paging_init(); /* from here on, memory is reached through the page tables */
    fault_init();
    kheap_init();
    klog_serial("cpu", "GDT, IDT (32 exceptions, 16 IRQs), PIC remapped to 32-47, "
                    "timer at %u Hz",
             PIT_HZ);

    builtins_register();
    system_commands_register();
    memmap_commands_register();
    frame_commands_register();
    paging_commands_register();
    heap_commands_register();
    viz_commands_register();
    core_selftests_register();
    memmap_selftests_register();
    pmm_selftests_register();
    paging_selftests_register();
    heap_selftests_register();

    if (cmdline_has_flag(cmdline, "selftest")) {
        selftest_run_all();
        log_error("selftest", "QEMU did not exit (no isa-debug-exit device); halting");
        cpu_halt_forever();
    }
    shell_run();
}
