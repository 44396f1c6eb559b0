/*
 * check.h - a very small unit-test framework for the host tests.
 *
 * A failed check prints its file, line, expression and the values involved,
 * counts the failure, and lets the test go on, so one run shows every
 * broken case rather than the first.  Each test program is:
 *
 *     #include "check.h"
 *     static void test_something(void) { CHECK(1 + 1 == 2); }
 *     int main(void)
 *     {
 *         RUN(test_something);
 *         return check_summary("format");
 *     }
 *
 * check_summary prints "N checks, M failed" and returns the exit status
 * (non-zero on any failure), which is what Meson's test() looks at.
 */
#ifndef TESTS_CHECK_H
#define TESTS_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Counters shared by the macros; static is fine: one file per program. */
static unsigned long check_total;
static unsigned long check_failed;

static inline void check_report(const char *file, int line, const char *what)
{
    check_failed++;
    fprintf(stderr, "%s:%d: FAILED: %s\n", file, line, what);
}

#define CHECK(expr)                                                        \
    do {                                                                   \
        check_total++;                                                     \
        if (!(expr))                                                       \
            check_report(__FILE__, __LINE__, #expr);                       \
    } while (0)

/* Compares two unsigned values (any integer type up to 64 bits). */
#define CHECK_EQ_U64(actual, expected)                                     \
    do {                                                                   \
        uint64_t check_a_ = (uint64_t)(actual);                            \
        uint64_t check_e_ = (uint64_t)(expected);                          \
        check_total++;                                                     \
        if (check_a_ != check_e_) {                                        \
            check_report(__FILE__, __LINE__, #actual " == " #expected);    \
            fprintf(stderr, "    got      %llu (0x%llx)\n"                 \
                            "    expected %llu (0x%llx)\n",                \
                    (unsigned long long)check_a_, (unsigned long long)check_a_, \
                    (unsigned long long)check_e_, (unsigned long long)check_e_); \
        }                                                                  \
    } while (0)

/* Compares two strings; NULL is allowed on either side and shown. */
#define CHECK_STR_EQ(actual, expected)                                     \
    do {                                                                   \
        const char *check_a_ = (actual);                                   \
        const char *check_e_ = (expected);                                 \
        check_total++;                                                     \
        if (check_a_ == NULL || check_e_ == NULL                           \
                ? check_a_ != check_e_                                     \
                : strcmp(check_a_, check_e_) != 0) {                       \
            check_report(__FILE__, __LINE__, #actual " == " #expected);    \
            fprintf(stderr, "    got      \"%s\"\n    expected \"%s\"\n",  \
                    check_a_ ? check_a_ : "(NULL)",                        \
                    check_e_ ? check_e_ : "(NULL)");                       \
        }                                                                  \
    } while (0)

/* Runs one test function, naming it if it added failures. */
#define RUN(fn)                                                            \
    do {                                                                   \
        unsigned long check_before_ = check_failed;                        \
        fn();                                                              \
        if (check_failed != check_before_)                                 \
            fprintf(stderr, "  in %s\n", #fn);                             \
    } while (0)

static inline int check_summary(const char *suite)
{
    printf("%s: %lu checks, %lu failed\n", suite, check_total, check_failed);
    return check_failed == 0 ? 0 : 1;
}

#endif
