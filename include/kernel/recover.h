/*
 * recover.h - surviving a fault: abort the running shell command, keep the
 * kernel.
 *
 * The shell runs each command through recover_run.  If the command faults
 * (a page fault, a general protection fault, a kernel stack overflow that
 * becomes a double fault), the fault handler prints its diagnostic and
 * calls recover_abort, which unwinds straight back into recover_run:
 * the command is abandoned mid-way, its stack frames discarded, and the
 * shell prints the next prompt.  That is only safe when the fault happened
 * in the command's own code with interrupts on, not inside an interrupt
 * handler or a section that holds interrupts off (its data could be half
 * changed); the handlers check recover_can_abort first and panic otherwise.
 *
 * jump_save / jump_to (src/cpu/jump.asm) are setjmp / longjmp for the
 * kernel; the probes read or write a word that may be unmapped and return
 * 0 instead of faulting.
 */
#ifndef KERNEL_RECOVER_H
#define KERNEL_RECOVER_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/types.h"

struct jump_buf {
    uint32_t ebx, esi, edi, ebp, esp, eip, eflags;
};
_Static_assert(sizeof(struct jump_buf) == 28, "matches src/cpu/jump.asm");

/* jump_save - remember this point; returns 0, and later the value given to
 * jump_to (never 0) when execution resumes here. */
int jump_save(struct jump_buf *b) __attribute__((returns_twice));
/* jump_to - resume at b (whose jump_save caller must not have returned). */
NORETURN void jump_to(const struct jump_buf *b, int value);

/* probe_read32 / probe_write32 - 1 when the access worked, 0 when it
 * faulted (nothing is logged or printed: the page-fault handler sends such
 * faults back here, see recover_probe_fixup). */
int probe_read32(uintptr_t addr, uint32_t *out);
int probe_write32(uintptr_t addr, uint32_t value);

/* Why a command was abandoned (what recover_run reports). */
enum recover_reason { RECOVER_NONE = 0, RECOVER_FAULT, RECOVER_STACK_OVERFLOW };

/*
 * recover_run - fn(arg) under a recovery point.  Returns RECOVER_NONE with
 * *result set when fn returned, or why it was abandoned.  Calls nest: a
 * fault goes back to the innermost one.
 */
enum recover_reason recover_run(int (*fn)(void *arg), void *arg, int *result);

/* recover_can_abort - a recover_run is active, and the fault came from
 * code running with interrupts on and at `depth` levels of interrupt
 * handling (1 for an exception taken straight from the command, 0 when
 * asked from the double-fault task).  recover_forgo makes the innermost
 * point refuse (for `crash`, whose purpose is the panic screen). */
bool recover_can_abort(uint32_t eflags, unsigned depth, unsigned expected_depth);
void recover_forgo(void);
/* recover_refusal - NULL when recover_can_abort would say yes, else why
 * not, in a few words for the panic screen. */
const char *recover_refusal(uint32_t eflags, unsigned depth, unsigned expected_depth);

/* recover_abort - go back to the innermost recover_run, which returns
 * `why`.  Only after recover_can_abort said yes. */
NORETURN void recover_abort(enum recover_reason why);

/* recover_stack_pointer - the stack pointer of the innermost recovery
 * point (for the double-fault task, which must resume the interrupted
 * task somewhere safe before jumping back); 0 when there is none. */
uint32_t recover_stack_pointer(void);

/* recover_probe_fixup - if eip is one of the probes' memory accesses,
 * the address where the probe reports failure (else 0). */
uint32_t recover_probe_fixup(uint32_t eip);

#endif
