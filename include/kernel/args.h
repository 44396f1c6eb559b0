/*
 * args.h - argument parsing shared by every shell command, pure.
 *
 * Numbers are decimal or 0x-prefixed hexadecimal; sizes may carry a binary
 * suffix K, M or G (case-insensitive, optionally followed by "iB" or "B":
 * "4K", "4k", "4KiB", "16M", "1G").  Every parser checks the range it is
 * given and says precisely what was wrong, so that commands print one
 * clear line and do nothing else.
 */
#ifndef KERNEL_ARGS_H
#define KERNEL_ARGS_H

#include <stddef.h>
#include <stdint.h>

enum arg_error {
    ARG_OK = 0,
    ARG_EMPTY,        /* "" */
    ARG_NOT_NUMBER,   /* "abc", "0x", "12z", "-5", "0x1g" */
    ARG_OVERFLOW,     /* does not fit in 64 bits (also after the suffix) */
    ARG_BELOW_MIN,    /* parsed, but less than min */
    ARG_ABOVE_MAX,    /* parsed, but greater than max */
    ARG_BAD_SUFFIX,   /* "4X", "4KB7" */
};

/* arg_error_str - a short phrase: "not a number", "too large", ... */
const char *arg_error_str(enum arg_error e);

/*
 * arg_parse_u64 - parse s as decimal or 0x hex into *out, check
 * min <= value <= max.  *out is written only on ARG_OK.
 */
enum arg_error arg_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* arg_parse_size - like arg_parse_u64, with an optional K/M/G suffix. */
enum arg_error arg_parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/*
 * arg_describe - write one line explaining why `s` was rejected, e.g.
 *   "'0x1g' is not a number (decimal or 0x-hex)"
 *   "'5000' is out of range (1..4096)"
 * Ranges are shown in hex when max > 0xffff, else in decimal.
 */
void arg_describe(char *buf, size_t size, const char *s, enum arg_error e,
                  uint64_t min, uint64_t max);

/* Errors of arg_split. */
#define ARGS_TOO_MANY   (-1) /* more than max_args words */
#define ARGS_OPEN_QUOTE (-2) /* a '"' with no closing '"' */

/*
 * arg_split - split line in place into words separated by spaces/tabs;
 * "double quoted" words may hold spaces (the quotes are removed).
 * Returns the word count (0 for a blank line) with argv[0..count) set and
 * argv[count] = NULL (argv must hold max_args + 1 pointers), or one of the
 * negative ARGS_* errors.
 */
int arg_split(char *line, char **argv, int max_args);

#endif
