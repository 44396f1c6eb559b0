/*
 * model_expect.h - what the random model tests (pmm_model.h, heap_model.h)
 * share: every expectation is counted, and one that fails ends the run
 * through the model's own model_fail, which says the operation under way.
 *
 * A model is a struct with `unsigned long checks` and `char last[]` (the
 * operation under way, for the failure report), and a function
 *   static void model_fail(struct <model> *m, const char *fmt, ...);
 * that does not return.
 */
#ifndef TESTS_MODEL_EXPECT_H
#define TESTS_MODEL_EXPECT_H

#include <stdio.h>

#define MODEL_EXPECT(m, cond, ...)                                                 \
    do {                                                                           \
        (m)->checks++;                                                             \
        if (!(cond))                                                               \
            model_fail((m), __VA_ARGS__);                                          \
    } while (0)

/* Says what the operation under way is, for a failure report. */
#define MODEL_NOTE(m, ...) snprintf((m)->last, sizeof((m)->last), __VA_ARGS__)

#endif
