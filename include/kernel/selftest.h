/*
 * selftest.h - tests that run inside the kernel, on the real machine.
 *
 * Booting with the command-line word `selftest` runs every registered test
 * instead of the shell, prints one line per test on serial and screen
 * ("selftest: PASS name" / "selftest: FAIL name: why"), a closing
 * "selftest: N passed, N failed", and leaves QEMU through isa-debug-exit
 * (QEMU_EXIT_PASS or QEMU_EXIT_FAIL).  Each module adds its tests with
 * selftest_register() from its init code.
 */
#ifndef KERNEL_SELFTEST_H
#define KERNEL_SELFTEST_H

#include <stdbool.h>
#include <stddef.h>

struct selftest {
    const char *name;
    void (*run)(void); /* reports failures with ST_CHECK */
};

/* selftest_register - add tests (the array must live forever). */
void selftest_register(const struct selftest *tests, size_t count);

/* selftest_run_all - run everything, report, exit QEMU.  If QEMU has no
 * isa-debug-exit device the function returns the failure count. */
int selftest_run_all(void);

/* ST_CHECK(cond) - record a failure of the running test (and go on). */
#define ST_CHECK(cond) selftest_check((cond), #cond, __FILE__, __LINE__)
bool selftest_check(bool ok, const char *expr, const char *file, int line);

#endif
