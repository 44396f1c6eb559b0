/*
 * log.h - log lines that carry their subsystem, and trace switches.
 *
 * A log line reads "pmm: 32512 frames free" on screen and serial; warnings
 * are yellow and errors red on screen.  Trace lines are different: they go
 * to serial only (one per allocation, free, map or unmap would drown the
 * screen), each with the address of the code that asked for the operation,
 * and they cost nothing but a test of trace_mask when their switch is off.
 */
#ifndef KERNEL_LOG_H
#define KERNEL_LOG_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/types.h"

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

/* klog - print "subsys: message\n" when level >= LOG_MIN_LEVEL. */
void klog(enum log_level level, const char *subsys, const char *fmt, ...) PRINTF_LIKE(3, 4);

/* klog_serial - "subsys: message" on the serial line only (details the
 * boot screen has no room for). */
void klog_serial(const char *subsys, const char *fmt, ...) PRINTF_LIKE(2, 3);

#define log_debug(sub, ...) klog(LOG_DEBUG, sub, __VA_ARGS__)
#define log_info(sub, ...)  klog(LOG_INFO, sub, __VA_ARGS__)
#define log_warn(sub, ...)  klog(LOG_WARN, sub, __VA_ARGS__)
#define log_error(sub, ...) klog(LOG_ERROR, sub, __VA_ARGS__)

/* Trace switches: one bit per subsystem (the Meson option uses the same
 * numbers, see meson.build). */
enum trace_subsystem {
    TRACE_MEMMAP = 1u << 0,
    TRACE_PMM = 1u << 1,
    TRACE_PAGING = 1u << 2,
    TRACE_HEAP = 1u << 3,
    TRACE_SHELL = 1u << 4,
    TRACE_ALL = (1u << 5) - 1,
};

extern uint32_t trace_mask;

/*
 * TRACE(bit, fmt, ...) - inside a function F, log to serial
 * "trace <sub>: <message> [caller 0x...]" where the caller is whoever
 * called F.  Use it in the public entry points of a subsystem.
 */
#define TRACE(bit, ...)                                                     \
    do {                                                                    \
        if (trace_mask & (bit))                                             \
            trace_emit((bit), __builtin_return_address(0), __VA_ARGS__);    \
    } while (0)

/* TRACE_FROM - the same with the caller given (for a static helper that
 * does the work of several public entry points). */
#define TRACE_FROM(bit, caller, ...)                                        \
    do {                                                                    \
        if (trace_mask & (bit))                                             \
            trace_emit((bit), (caller), __VA_ARGS__);                       \
    } while (0)

void trace_emit(uint32_t bit, const void *caller, const char *fmt, ...) PRINTF_LIKE(3, 4);

/* trace_name - "pmm" for TRACE_PMM; NULL for anything that is not one bit
 * of TRACE_ALL. */
const char *trace_name(uint32_t bit);

/*
 * trace_parse - turn "pmm,heap" (or "all", "none") into a mask.  Returns
 * false, and names the offending word in *bad (a static copy), when a word
 * is not a subsystem.
 */
bool trace_parse(const char *list, uint32_t *mask, const char **bad);

#endif
