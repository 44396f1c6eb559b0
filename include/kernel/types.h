/*
 * types.h - the kernel's basic types and overflow-safe rounding.
 *
 * Physical and virtual addresses are different types so that the compiler
 * (and the reader) can tell which address space a number lives in.  They are
 * plain integers, not pointers: a physical address is not something C may
 * dereference.  Ranges in this kernel always say whether their end is
 * inclusive ("last") or exclusive ("end").
 */
#ifndef KERNEL_TYPES_H
#define KERNEL_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint32_t paddr_t; /* physical address below 4 GiB (no PAE) */
typedef uint32_t vaddr_t; /* virtual address in the 32-bit space     */

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define KIB(n) ((uint64_t)(n) << 10)
#define MIB(n) ((uint64_t)(n) << 20)
#define GIB(n) ((uint64_t)(n) << 30)

/* Alignment must be a power of two.  ALIGN_DOWN never wraps. */
#define IS_POWER_OF_TWO(x) ((x) != 0 && (((x) & ((x) - 1)) == 0))
#define ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a) - 1))
#define IS_ALIGNED(x, a) (((x) & ((__typeof__(x))(a) - 1)) == 0)

/*
 * align_up_u32 - round x up to a multiple of a (a power of two).
 * Returns false, and leaves *out alone, when the result would pass 2^32:
 * near 4 GiB the naive (x + a - 1) & ~(a - 1) wraps to a small number.
 */
static inline bool align_up_u32(uint32_t x, uint32_t a, uint32_t *out)
{
    uint32_t rem = x & (a - 1);
    if (rem == 0) {
        *out = x;
        return true;
    }
    if (x > UINT32_MAX - (a - rem))
        return false;
    *out = x + (a - rem);
    return true;
}

/* The same for 64-bit quantities (Multiboot's fields stay 64-bit). */
static inline bool align_up_u64(uint64_t x, uint64_t a, uint64_t *out)
{
    uint64_t rem = x & (a - 1);
    if (rem == 0) {
        *out = x;
        return true;
    }
    if (x > UINT64_MAX - (a - rem))
        return false;
    *out = x + (a - rem);
    return true;
}

#define UNUSED(x) ((void)(x))
#define NORETURN __attribute__((noreturn))
#define PACKED __attribute__((packed))
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))

#endif
