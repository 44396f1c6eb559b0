/*
 * selftest.c - the in-kernel test runner.
 */
#include "kernel/selftest.h"
#include "kernel/console.h"
#include "kernel/panic.h"
#include "kernel/types.h"
#include "kernel/vga.h"
#include "kernel/x86.h"

#define MAX_SUITES 32

static struct {
    const struct selftest *tests;
    size_t count;
} suites[MAX_SUITES];
static size_t suite_count;
static unsigned current_failures;

void selftest_register(const struct selftest *tests, size_t count)
{
    kassert(suite_count < MAX_SUITES);
    suites[suite_count].tests = tests;
    suites[suite_count].count = count;
    suite_count++;
}

bool selftest_check(bool ok, const char *expr, const char *file, int line)
{
    if (!ok) {
        current_failures++;
        kprintf("selftest:   check failed: %s (%s:%d)\n", expr, file, line);
    }
    return ok;
}

int selftest_run_all(void)
{
    unsigned passed = 0, failed = 0;
    /* A panic in a test must end the run, not hang it. */
    panic_set_qemu_exit(true);
    kprintf("selftest: running in-kernel tests\n");
    for (size_t s = 0; s < suite_count; s++) {
        for (size_t i = 0; i < suites[s].count; i++) {
            const struct selftest *t = &suites[s].tests[i];
            current_failures = 0;
            t->run();
            uint8_t saved = console_attr();
            console_set_attr(vga_attr(current_failures ? VGA_LIGHT_RED : VGA_LIGHT_GREEN,
                                      VGA_BLACK));
            kprintf("selftest: %s %s\n", current_failures ? "FAIL" : "PASS", t->name);
            console_set_attr(saved);
            if (current_failures)
                failed++;
            else
                passed++;
        }
    }
    kprintf("selftest: %u passed, %u failed\n", passed, failed);
    qemu_debug_exit(failed ? QEMU_EXIT_FAIL : QEMU_EXIT_PASS);
    return (int)failed;
}
