/*
 * stacktrace.h - walking the saved frame pointers.
 *
 * The kernel is built with -fno-omit-frame-pointer, so every function
 * starts with "push ebp; mov ebp, esp": each frame holds the caller's EBP
 * at [ebp] and the return address at [ebp + 4].
 *
 *     higher addresses
 *     | return address   |  [ebp + 4]  -> where the caller resumes
 *     | caller's EBP     |  [ebp]      -> next frame up
 *     | locals ...       |
 *     lower addresses (the stack grows down)
 *
 * boot/entry.asm zeroes EBP before calling kmain, which ends the chain.
 */
#ifndef KERNEL_STACKTRACE_H
#define KERNEL_STACKTRACE_H

#include <stddef.h>
#include <stdint.h>

/*
 * stacktrace_collect - follow the chain from ebp, storing up to max return
 * addresses in out.  Stops at a zero, misaligned or out-of-stack frame
 * pointer, or one that does not move up the stack (a corrupted chain must
 * not send the panic screen into a loop or a fault).  Returns the count.
 */
size_t stacktrace_collect(uint32_t ebp, uint32_t *out, size_t max);

#endif
