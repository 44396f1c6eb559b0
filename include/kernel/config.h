/*
 * config.h - every build-time setting of Kernel-V in one place.
 *
 * Each setting says what it costs and what it buys.  Meson options may
 * override the ones guarded by #ifndef (see meson_options.txt); the kernel
 * command line can override the trace switches at boot (trace=pmm,heap).
 */
#ifndef KERNEL_CONFIG_H
#define KERNEL_CONFIG_H

/* ---- Timer ---------------------------------------------------------------
 * PIT interrupts per second.  100 Hz gives 10 ms uptime resolution for a
 * negligible interrupt load under QEMU's TCG; 1000 Hz would cost ten times
 * the interrupts for finer timing nobody here needs. */
#define PIT_HZ 100

/* ---- Console ------------------------------------------------------------
 * Serial mirroring: every console line is copied to COM1 so tests and
 * teachers can capture it.  Costs ~90 us per character at 115200 baud on
 * real hardware (nothing measurable in QEMU).  Turning it off loses the log. */
#define CONSOLE_MIRROR_SERIAL 1
#define SERIAL_BAUD 115200

/* ---- Shell ----------------------------------------------------------------
 * Longest input line (characters) and number of history entries.  The
 * history costs SHELL_HISTORY * (SHELL_LINE_MAX + 1) bytes of .bss. */
#define SHELL_LINE_MAX 240
#define SHELL_HISTORY 32
#define SHELL_MAX_ARGS 16
/* How many commands the table holds; registering more is reported. */
#define SHELL_MAX_COMMANDS 96
#define SHELL_PROMPT "kv> "

/* ---- Logging --------------------------------------------------------------
 * Lowest level printed: 0 debug, 1 info, 2 warn, 3 error.  Debug lines cost
 * screen space, not correctness. */
#ifndef LOG_MIN_LEVEL
#define LOG_MIN_LEVEL 1
#endif

/* ---- Trace switches -------------------------------------------------------
 * When a switch is on, every operation of that subsystem (allocation, free,
 * map, unmap) is logged to serial only, with its caller's address.  Each
 * line costs a few microseconds of serial output, so leave them off unless
 * following memory flow.  Meson: -Dtrace=pmm,heap; command line: trace=...;
 * shell: trace <subsystem> on|off.  Bits: see enum trace_subsystem in log.h. */
#ifndef TRACE_DEFAULT_MASK
#define TRACE_DEFAULT_MASK 0u
#endif

/* ---- Frame allocator --------------------------------------------------------
 * Reference counts: 2 bytes a frame (2 MiB for 4 GiB of RAM); buys sharing
 * a frame safely (pmm_ref/pmm_unref) and overflow/underflow reports.
 * Owners: 4 bytes a frame; buys "who allocated this frame" in `frame` and
 * in fault reports.  Poisoning freed frames costs a 4 KiB write per free
 * and catches use after free by filling the frame with 0xDB bytes. */
#define PMM_REFCOUNTS 1
#define PMM_TRACK_OWNERS 1
#ifndef PMM_POISON_FREED
#define PMM_POISON_FREED 1
#endif
#define PMM_POISON_BYTE 0xdb

/* ---- Virtual memory (the map is drawn in include/kernel/paging.h) -----------
 * The kernel, its bitmap, VGA memory and the boot structures are mapped
 * where they are in physical memory (identity).  The rest of the space is
 * carved up here; the heap grows from KV_HEAP_START up to KV_HEAP_END
 * (exclusive), guarded ranges (kernel stacks, kmalloc_guarded) come from
 * the guarded area, one page of the temporary-mapping area is where the
 * kernel looks at a frame it has not mapped (to poison it on free). */
#define KV_HEAP_START 0xd0000000u
#define KV_HEAP_END 0xe0000000u
#define KV_GUARDED_START 0xe0000000u
#define KV_GUARDED_END 0xf0000000u
#define KV_TEMP_AREA 0xff800000u /* 4 MiB, one table that is never freed */
#define KV_TEMP_PAGE 0xffbff000u
/* Pages of the double-fault handler's stack (in the guarded area). */
#define DOUBLE_FAULT_STACK_PAGES 2

/* ---- Heap -------------------------------------------------------------------
 * HEAP_DEBUG: every block gets a 16-byte header (canary, size, allocation
 * site, check word) and at least 4 bytes of red zone after it, and freed
 * blocks are filled with 0x6b.  Costs those bytes per block (a 16-byte
 * block takes a 48-byte slot), a write of every freed byte and a check of
 * every reused one; buys reports of overflows (even by one byte),
 * overwritten headers, use after free, and the allocation site of every
 * block named in reports and `heap leaks`.  Bad, interior and double frees
 * are caught either way. */
#ifndef HEAP_DEBUG
#define HEAP_DEBUG 1
#endif

/* ---- Faults -----------------------------------------------------------------
 * The fault log keeps the last FAULT_LOG_SIZE faults (about 80 bytes each)
 * for `faults`; each keeps FAULT_TRACE_DEPTH return addresses. */
#define FAULT_LOG_SIZE 16
#define FAULT_TRACE_DEPTH 8

/* ---- Debugging ------------------------------------------------------------
 * Frames walked by the panic screen's stack trace (EBP chain). */
#define PANIC_TRACE_DEPTH 12

#endif
