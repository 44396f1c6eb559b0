/*
 * cmdline.h - reading the kernel command line, pure.
 *
 * QEMU -kernel hands over "IMAGE-PATH arg arg ...", GRUB 2 only "arg arg
 * ..." (measured: GRUB 2.06 passes "" when there are no arguments).  So a
 * first word that is a path (holds a '/' and no '=') is skipped; any other
 * first word is an argument.  Arguments are words
 * ("selftest") or key=value pairs ("trace=pmm,heap").
 */
#ifndef KERNEL_CMDLINE_H
#define KERNEL_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>

/* cmdline_has_flag - true when the word `flag` appears (exactly, as a whole
 * word, not as a key of key=value). NULL cmdline -> false. */
bool cmdline_has_flag(const char *cmdline, const char *flag);

/*
 * cmdline_get - find key=value; copy value (NUL-terminated, truncated to
 * size-1) into out.  Returns true when the key is present (value may be
 * empty: "key=").  The last occurrence wins.
 */
bool cmdline_get(const char *cmdline, const char *key, char *out, size_t size);

/*
 * cmdline_next_item - iterate a comma-separated list ("pmm,heap").
 * *cursor starts at the list; each call copies the next item into out
 * and returns true, false when the list is exhausted.  Empty items are
 * skipped.
 */
bool cmdline_next_item(const char **cursor, char *out, size_t size);

#endif
