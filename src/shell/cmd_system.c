/*
 * cmd_system.c - commands about the machine itself: reboot, halt, trace,
 * and crash (deliberate exceptions, to see the panic screen).
 */
#include "kernel/console.h"
#include "kernel/keyboard.h"
#include "kernel/kstring.h"
#include "kernel/log.h"
#include "kernel/fault.h"
#include "kernel/panic.h"
#include "kernel/recover.h"
#include "kernel/shell.h"
#include "kernel/timer.h"
#include "kernel/x86.h"

static int cmd_reboot(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    kprintf("Rebooting...\n");
    keyboard_reset_cpu();
    /* The 8042 did not reset us: an empty IDT makes the next interrupt a
     * triple fault, which resets every PC. */
    struct dtr empty = {0, 0};
    lidt(&empty);
    cpu_int3();
    return CMD_FAILED;
}

static int cmd_halt(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    kprintf("System halted. You can close QEMU now (in a terminal: Alt-2, then 'quit').\n");
    cpu_halt_forever();
}

static void print_trace_switches(void)
{
    kprintf("trace switches (lines go to serial):");
    for (uint32_t bit = 1; bit & TRACE_ALL; bit <<= 1)
        kprintf("  %s=%s", trace_name(bit), (trace_mask & bit) ? "on" : "off");
    kprintf("\n");
}

static int cmd_trace(int argc, char **argv)
{
    if (argc == 1) {
        print_trace_switches();
        return CMD_OK;
    }
    if (argc != 3) {
        shell_error("say on or off after '%s'", argv[1]);
        return CMD_USAGE;
    }
    bool on = strcmp(argv[2], "on") == 0;
    if (!on && strcmp(argv[2], "off") != 0) {
        shell_error("say 'on' or 'off', not '%s'", argv[2]);
        return CMD_USAGE;
    }
    uint32_t mask;
    const char *bad;
    if (!trace_parse(argv[1], &mask, &bad)) {
        shell_error("no subsystem '%s'", bad);
        return CMD_USAGE;
    }
    trace_mask = on ? (trace_mask | mask) : (trace_mask & ~mask);
    print_trace_switches();
    return CMD_OK;
}

/* Volatile so the compiler cannot see the values: with a constant 1 as the
 * dividend GCC turns 1 / x into a compare, and no division happens. */
static volatile int zero, one = 1;

/* Runs inside the timer interrupt: a page fault there cannot be
 * survived (the interrupted code could be anywhere), so it panics. */
static void fault_in_irq(void)
{
    volatile uint32_t *null = (volatile uint32_t *)0;
    (void)*null;
}

static int cmd_crash(int argc, char **argv)
{
    (void)argc;
    const char *kind = argv[1];
    /* This command is for the panic screen: no recovery.  Except for
     * reportfault, whose first fault must be one the kernel would survive,
     * so that the second one happens inside that fault's report. */
    if (strcmp(kind, "reportfault") != 0)
        recover_forgo();
    if (strcmp(kind, "ud2") == 0) {
        cpu_ud2();
    } else if (strcmp(kind, "div0") == 0) {
        volatile int r = one / zero;
        (void)r;
    } else if (strcmp(kind, "gpf") == 0) {
        load_ds(0x1234); /* a selector past the end of the GDT */
    } else if (strcmp(kind, "int3") == 0) {
        cpu_int3();
    } else if (strcmp(kind, "reportfault") == 0) {
        fault_break_next_report();
        volatile uint32_t *null = (volatile uint32_t *)0;
        (void)*null;
    } else if (strcmp(kind, "irqfault") == 0) {
        timer_call_once(fault_in_irq);
        timer_sleep_ms(100);
    } else if (strcmp(kind, "panic") == 0) {
        panic("panic requested from the shell (crash panic)");
    } else if (strcmp(kind, "assert") == 0) {
        kassert(zero == 1);
    } else {
        shell_error("no crash kind '%s'", kind);
        return CMD_USAGE;
    }
    shell_error("'%s' did not stop the kernel", kind);
    return CMD_FAILED;
}

static const struct shell_command system_commands[] = {
    {"reboot", "", "restart the machine", 0, 0, cmd_reboot},
    {"halt", "", "stop the CPU", 0, 0, cmd_halt},
    {"trace", "[pmm|paging|heap|memmap|shell|all on|off]",
     "show or set the trace switches (memory flow logged to serial)", 0, 2, cmd_trace},
    {"crash", "ud2|div0|gpf|int3|irqfault|reportfault|panic|assert",
     "raise an exception on purpose and see the panic screen", 1, 1, cmd_crash},
};

void system_commands_register(void)
{
    shell_register(system_commands, ARRAY_SIZE(system_commands));
}
