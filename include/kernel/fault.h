/*
 * fault.h - catching, explaining, logging and surviving CPU faults.
 *
 * A page fault (vector 14) or any other exception raised by a shell
 * command is reported on screen and serial with everything a student
 * needs to understand it: the faulting address (CR2) and instruction (EIP,
 * with its function name), the error code in words, the walk through the
 * page directory and table, what lives at that address, the registers and
 * the call chain.  It is recorded in the fault log (`faults`), and the
 * command is abandoned (recover.h); the kernel goes on.  A fault anywhere
 * else is a panic screen with the same report.  A kernel stack overflow
 * into a guard page arrives as a double fault on its own task (tss.h) and
 * is reported as "kernel stack overflow".
 *
 * The pure parts, host-tested: fault_decode_error (the error code in
 * words) and the fault log ring (struct fault_log).
 */
#ifndef KERNEL_FAULT_H
#define KERNEL_FAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/config.h"

/* The page-fault error code (Intel SDM vol. 3, 4.7). */
#define PF_PRESENT  0x01u /* 1: protection violation; 0: page not present */
#define PF_WRITE    0x02u /* 1: write; 0: read */
#define PF_USER     0x04u /* 1: user mode; 0: kernel mode */
#define PF_RESERVED 0x08u /* 1: a reserved bit was set in an entry */
#define PF_FETCH    0x10u /* 1: instruction fetch */

/*
 * fault_decode_error - the error code in words, e.g.
 *   "not-present page, read, kernel mode" or
 *   "protection violation, write, kernel mode" or
 *   "not-present page, instruction fetch, kernel mode, reserved bit set".
 * fault_summary - one sentence of what was attempted, e.g.
 *   "read from a page that is not mapped",
 *   "write to a read-only page",
 *   "jump to (instruction fetch from) a page that is not mapped".
 * Both write at most size bytes, always NUL-terminated; return buf.
 */
char *fault_decode_error(uint32_t code, char *buf, size_t size);
char *fault_summary(uint32_t code, char *buf, size_t size);

/* One logged fault. */
enum fault_outcome { FAULT_RECOVERED, FAULT_FATAL };

struct fault_record {
    uint32_t seq;          /* 1, 2, 3, ... since boot */
    uint32_t uptime_ms;
    uint8_t vector;        /* 14 page fault, 8 double fault, 13 GPF, ... */
    uint8_t outcome;       /* enum fault_outcome */
    bool stack_overflow;   /* hit a guard page below a stack */
    uint32_t error_code;
    uint32_t cr2;          /* page faults: the address touched */
    uint32_t eip;
    uint8_t depth;         /* entries used in trace */
    uint32_t trace[FAULT_TRACE_DEPTH]; /* return addresses, innermost first */
    char command[16];      /* the shell command that was running, or "" */
};

struct fault_log {
    struct fault_record ring[FAULT_LOG_SIZE];
    uint32_t total;        /* faults recorded since boot */
};

/* fault_log_add - record r (its seq is set here); the oldest entry goes
 * when the ring is full.  Returns the stored record. */
const struct fault_record *fault_log_add(struct fault_log *log, const struct fault_record *r);

/* fault_log_count - entries held (at most FAULT_LOG_SIZE).
 * fault_log_get - the i-th held entry, 0 = oldest; NULL past the end. */
size_t fault_log_count(const struct fault_log *log);
const struct fault_record *fault_log_get(const struct fault_log *log, size_t i);

/* ---- the kernel side (src/memory/fault.c) ---- */

/* fault_init - install the handlers: page fault, the other exceptions a
 * command can raise, and the double-fault task (with its own guarded
 * stack; needs paging on). */
void fault_init(void);

/* fault_log_global - the kernel's log, for `faults` and the visualizer. */
const struct fault_log *fault_log_global(void);

/* fault_record_what - what a logged fault was, in words: "stack overflow
 * into guard page", the decoded page-fault error, or the exception's name. */
char *fault_record_what(const struct fault_record *r, char *buf, size_t size);

/* The shell tells the fault handler which command runs (for the log). */
void fault_set_command(const char *name);

/* fault_break_next_report - make the next fault report itself fault (a
 * NULL read), to show that a fault inside the fault handler is a panic
 * screen, not a reset (`crash reportfault`). */
void fault_break_next_report(void);

#endif
