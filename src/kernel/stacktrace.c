/*
 * stacktrace.c - the EBP chain walk used by the panic screen.
 */
#include "kernel/stacktrace.h"

/* The only kernel stack for now is the boot stack, inside the image. */
extern char __kernel_start[], __kernel_end[];

static int frame_ok(uint32_t ebp)
{
    return ebp != 0 && (ebp & 3) == 0 && ebp >= (uint32_t)__kernel_start &&
           ebp + 8 <= (uint32_t)__kernel_end;
}

size_t stacktrace_collect(uint32_t ebp, uint32_t *out, size_t max)
{
    size_t n = 0;
    while (n < max && frame_ok(ebp)) {
        const uint32_t *frame = (const uint32_t *)ebp;
        uint32_t ret = frame[1];
        if (ret == 0)
            break;
        out[n++] = ret;
        if (frame[0] <= ebp)
            break;
        ebp = frame[0];
    }
    return n;
}
