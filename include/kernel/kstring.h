/*
 * kstring.h - memory and string functions for code built three ways.
 *
 * Pure logic includes this instead of <string.h>.  In a hosted build (unit
 * tests, fuzz targets) it is the C library's <string.h>; in the freestanding
 * kernel the same names are implemented in src/lib/string.c.  GCC may also
 * emit calls to memcpy/memset/memmove/memcmp on its own, so the kernel must
 * provide them under exactly these names.
 */
#ifndef KERNEL_KSTRING_H
#define KERNEL_KSTRING_H

#include <stddef.h>

#if __STDC_HOSTED__
#include <string.h>
#else
void *memset(void *dst, int c, size_t n);
void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
char *strstr(const char *hay, const char *needle);
#endif

/* kstrlcpy - copy src into dst (size bytes), always NUL-terminated when
 * size > 0.  Returns strlen(src), so truncation is (result >= size). */
size_t kstrlcpy(char *dst, const char *src, size_t size);

#endif
