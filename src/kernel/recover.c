/*
 * recover.c - recovery points for shell commands (see recover.h).
 *
 * A recovery point is a jump_buf on the stack of recover_run.  They form a
 * chain through `outer`, innermost first, so a command that runs another
 * command (a demo, say) gets the fault back in the inner one.
 */
#include "kernel/recover.h"
#include "kernel/interrupts.h"

#define EFLAGS_IF 0x200u

struct recovery_point {
    struct jump_buf jump;
    struct recovery_point *outer;
    bool forgo; /* this command wants the panic screen, not recovery */
};

static struct recovery_point *innermost;

enum recover_reason recover_run(int (*fn)(void *arg), void *arg, int *result)
{
    struct recovery_point p = {.outer = innermost, .forgo = false};
    /* `volatile`: read again after a jump back, which skips register
     * restores the compiler might otherwise rely on. */
    struct recovery_point *volatile self = &p;
    innermost = &p;
    int why = jump_save(&p.jump);
    if (why == 0) {
        *result = fn(arg);
        innermost = self->outer;
        return RECOVER_NONE;
    }
    innermost = self->outer;
    return (enum recover_reason)why;
}

const char *recover_refusal(uint32_t eflags, unsigned depth, unsigned expected_depth)
{
    if (!innermost)
        return "it happened outside any shell command, so there is nothing to abandon";
    if (depth > expected_depth)
        return "it happened inside an interrupt or exception handler, which could have "
               "interrupted anything";
    if (!(eflags & EFLAGS_IF))
        return "it happened with interrupts off, inside a critical section whose data may "
               "be half changed";
    if (innermost->forgo)
        return "the command asked for the panic screen";
    return NULL;
}

bool recover_can_abort(uint32_t eflags, unsigned depth, unsigned expected_depth)
{
    return recover_refusal(eflags, depth, expected_depth) == NULL;
}

void recover_forgo(void)
{
    if (innermost)
        innermost->forgo = true;
}

void recover_abort(enum recover_reason why)
{
    /* We leave interrupt_dispatch (or the double-fault task's resume
     * path) without returning through it. */
    interrupts_unwind();
    jump_to(&innermost->jump, (int)why);
}

uint32_t recover_stack_pointer(void)
{
    return innermost ? innermost->jump.esp : 0;
}

extern char probe_read_insn[], probe_write_insn[], probe_failed[];

uint32_t recover_probe_fixup(uint32_t eip)
{
    if (eip == (uint32_t)probe_read_insn || eip == (uint32_t)probe_write_insn)
        return (uint32_t)probe_failed;
    return 0;
}
