/*
 * args.c - argument parsing shared by every shell command, pure.
 *
 * Grammar (case-insensitive letters):
 *
 *     number := "0x" hexdigit+ | digit+          (leading zeros are decimal)
 *     size   := number [ ("K" | "M" | "G") [ "iB" | "B" ] ]
 *
 * Nothing else is accepted: no sign, no spaces, no octal.  When a string is
 * wrong in more than one way, the error about its form wins over the error
 * about its value: "99999999999999999999z" is ARG_NOT_NUMBER, not
 * ARG_OVERFLOW, because no value was ever meant.  The range check comes
 * last.
 *
 * A hex number's digits include 'b', so "0x1B" is 27, never "1 byte"; a
 * bare "B" suffix is not part of the grammar for that reason.
 */
#include "kernel/args.h"

#include "kernel/format.h"
#include "kernel/kstring.h"
#include "kernel/types.h"

/* arg_error_str - see args.h. */
const char *arg_error_str(enum arg_error e)
{
    switch (e) {
    case ARG_OK:         return "ok";
    case ARG_EMPTY:      return "missing";
    case ARG_NOT_NUMBER: return "not a number";
    case ARG_OVERFLOW:   return "too large for 64 bits";
    case ARG_BELOW_MIN:  return "too small";
    case ARG_ABOVE_MAX:  return "too large";
    case ARG_BAD_SUFFIX: return "bad size suffix";
    default:             return "unknown error";
    }
}

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Value of a digit in `base` (10 or 16), or -1. */
static int digit_value(char c, unsigned base)
{
    c = lower(c);
    if (c >= '0' && c <= '9')
        return c - '0';
    if (base == 16 && c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/*
 * Reads the number at the start of s.  Sets *end just past its digits and
 * *overflow if the value passed 2^64 - 1 (the digits are still consumed).
 * Returns false when there are no digits at all.
 */
static bool scan_number(const char *s, const char **end, uint64_t *value, bool *overflow)
{
    unsigned base = 10;
    uint64_t v = 0;
    bool ovf = false;
    const char *p = s;

    if (p[0] == '0' && lower(p[1]) == 'x') {
        base = 16;
        p += 2;
    }
    const char *digits = p;
    for (int d; (d = digit_value(*p, base)) >= 0; p++) {
        if (v > (UINT64_MAX - (uint64_t)d) / base)
            ovf = true;
        else
            v = v * base + (uint64_t)d;
    }
    if (p == digits)
        return false;
    *end = p;
    *value = v;
    *overflow = ovf;
    return true;
}

static enum arg_error check_range(uint64_t v, uint64_t min, uint64_t max, uint64_t *out)
{
    if (v < min)
        return ARG_BELOW_MIN;
    if (v > max)
        return ARG_ABOVE_MAX;
    *out = v;
    return ARG_OK;
}

/* arg_parse_u64 - see args.h.  A NULL s counts as empty. */
enum arg_error arg_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    const char *end;
    uint64_t v;
    bool overflow;

    if (s == NULL || *s == '\0')
        return ARG_EMPTY;
    if (!scan_number(s, &end, &v, &overflow) || *end != '\0')
        return ARG_NOT_NUMBER;
    if (overflow)
        return ARG_OVERFLOW;
    return check_range(v, min, max, out);
}

/* Reads a size suffix; returns the shift it stands for, or -1. */
static int parse_suffix(const char *p)
{
    int shift;

    switch (lower(*p)) {
    case '\0': return 0;
    case 'k':  shift = 10; break;
    case 'm':  shift = 20; break;
    case 'g':  shift = 30; break;
    default:   return -1;
    }
    p++;
    if (lower(p[0]) == 'i' && lower(p[1]) == 'b')
        p += 2;
    else if (lower(p[0]) == 'b')
        p++;
    return *p == '\0' ? shift : -1;
}

/* arg_parse_size - see args.h.  A NULL s counts as empty. */
enum arg_error arg_parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    const char *end;
    uint64_t v;
    bool overflow;

    if (s == NULL || *s == '\0')
        return ARG_EMPTY;
    if (!scan_number(s, &end, &v, &overflow))
        return ARG_NOT_NUMBER;
    int shift = parse_suffix(end);
    if (shift < 0)
        return ARG_BAD_SUFFIX;
    if (overflow || (shift > 0 && (v >> (64 - shift)) != 0))
        return ARG_OVERFLOW;
    return check_range(v << shift, min, max, out);
}

/* arg_describe - see args.h.  A NULL s is shown as empty. */
void arg_describe(char *buf, size_t size, const char *s, enum arg_error e,
                  uint64_t min, uint64_t max)
{
    unsigned long long lo = min, hi = max;

    if (s == NULL)
        s = "";
    switch (e) {
    case ARG_OK:
        ksnprintf(buf, size, "'%s' is fine", s);
        break;
    case ARG_EMPTY:
        ksnprintf(buf, size, "a value is missing (decimal or 0x-hex)");
        break;
    case ARG_NOT_NUMBER:
        ksnprintf(buf, size, "'%s' is not a number (decimal or 0x-hex)", s);
        break;
    case ARG_OVERFLOW:
        ksnprintf(buf, size, "'%s' is too large (more than 64 bits)", s);
        break;
    case ARG_BELOW_MIN:
    case ARG_ABOVE_MAX:
        /* Addresses and sizes read best in hex, counts in decimal: a
         * large or page-multiple limit is taken for the former. */
        if (max >= 0x1000000u || (max > 0xffff && max % 0x1000 == 0))
            ksnprintf(buf, size, "'%s' is out of range (0x%llx..0x%llx)", s, lo, hi);
        else
            ksnprintf(buf, size, "'%s' is out of range (%llu..%llu)", s, lo, hi);
        break;
    case ARG_BAD_SUFFIX:
        ksnprintf(buf, size, "'%s' has a bad size suffix (K, M or G)", s);
        break;
    default:
        ksnprintf(buf, size, "'%s': unknown error %d", s, (int)e);
        break;
    }
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

/*
 * arg_split - see args.h.  Quotes may appear anywhere in a word and only
 * group: a"b c"d is the one word "ab cd", and "" is an empty word.  The
 * words are compacted in place (the removed quotes make them shorter than
 * the text they came from, never longer), so each ends with its own NUL.
 * On an error argv[0] is NULL; the line is left partly split.
 */
int arg_split(char *line, char **argv, int max_args)
{
    size_t r = 0, w = 0; /* read and write positions; always w <= r */
    int n = 0;

    if (max_args < 0)
        max_args = 0;
    for (;;) {
        while (is_space(line[r]))
            r++;
        if (line[r] == '\0')
            break;
        if (n == max_args) {
            argv[0] = NULL;
            return ARGS_TOO_MANY;
        }
        argv[n++] = line + w;

        bool quoted = false;
        while (line[r] != '\0' && (quoted || !is_space(line[r]))) {
            if (line[r] == '"')
                quoted = !quoted;
            else
                line[w++] = line[r];
            r++;
        }
        if (quoted) {
            argv[0] = NULL;
            return ARGS_OPEN_QUOTE;
        }
        /* Step past the separator before it is overwritten by the NUL. */
        bool at_end = (line[r] == '\0');
        if (!at_end)
            r++;
        line[w++] = '\0';
        if (at_end)
            break;
    }
    argv[n] = NULL;
    return n;
}
