/*
 * fuzz_args.c - the argument parsers against independent references.
 *
 * First input byte: low bits choose the operation, the rest is the text.
 *   split:  arg_split must never write outside argv[0..max_args], every
 *           word must lie inside the line buffer, and the words (or the
 *           error) must equal those of a reference tokenizer that copies
 *           characters into separate storage.
 *   parse:  arg_parse_u64 / arg_parse_size must agree with a reference
 *           that accumulates in unsigned __int128 (no overflow tricks) and
 *           recognises suffixes by comparing against a list of spellings.
 *           arg_describe must produce a NUL-terminated line in any buffer.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kernel/args.h"

#define FAIL(...)                                                          \
    do {                                                                   \
        fprintf(stderr, "fuzz_args: " __VA_ARGS__);                        \
        fputc('\n', stderr);                                               \
        abort();                                                           \
    } while (0)

#define MAX_LINE 512
#define MAX_WORDS 20
#define GUARD 4

/* ---- split --------------------------------------------------------------- */

/* The reference keeps each word in its own row of `words`. */
static int ref_split(const char *line, int max, char words[][MAX_LINE + 1])
{
    int count = 0;
    bool in_word = false, quoted = false;
    size_t wlen = 0;

    for (size_t i = 0;; i++) {
        char c = line[i];
        bool sep = (c == ' ' || c == '\t') && !quoted;
        if (c == '\0' || sep) {
            if (c == '\0' && quoted)
                return ARGS_OPEN_QUOTE;
            if (in_word) {
                words[count - 1][wlen] = '\0';
                in_word = false;
            }
            if (c == '\0')
                return count;
            continue;
        }
        if (!in_word) {
            if (count == max)
                return ARGS_TOO_MANY;
            in_word = true;
            wlen = 0;
            count++;
        }
        if (c == '"')
            quoted = !quoted;
        else
            words[count - 1][wlen++] = c;
    }
}

static void fuzz_split(const uint8_t *data, size_t len, int max)
{
    static char line[MAX_LINE + 1];
    static char words[MAX_WORDS][MAX_LINE + 1];
    char *argv[MAX_WORDS + 1 + GUARD];
    char *const sentinel = (char *)&argv; /* any pointer outside line */

    if (len > MAX_LINE)
        len = MAX_LINE;
    memcpy(line, data, len);
    line[len] = '\0';
    len = strlen(line); /* the line ends at the first NUL of the input */
    int want = ref_split(line, max, words);

    for (size_t i = 0; i < MAX_WORDS + 1 + GUARD; i++)
        argv[i] = sentinel;
    int got = arg_split(line, argv, max);

    for (size_t i = (size_t)max + 1; i < MAX_WORDS + 1 + GUARD; i++)
        if (argv[i] != sentinel)
            FAIL("argv[%zu] written with max_args %d", i, max);
    if (got != want)
        FAIL("count %d, reference %d", got, want);
    if (got < 0) {
        if (argv[0] != NULL)
            FAIL("argv[0] not NULL on error");
        return;
    }
    if (argv[got] != NULL)
        FAIL("argv[%d] not NULL", got);
    for (int i = 0; i < got; i++) {
        if (argv[i] < line || argv[i] > line + len)
            FAIL("word %d outside the line", i);
        size_t wl = strnlen(argv[i], (size_t)(line + len + 1 - argv[i]));
        if (argv[i] + wl > line + len)
            FAIL("word %d runs past the line", i);
        if (strcmp(argv[i], words[i]) != 0)
            FAIL("word %d \"%s\", reference \"%s\"", i, argv[i], words[i]);
        if (i > 0 && argv[i] <= argv[i - 1] + strlen(argv[i - 1]))
            FAIL("word %d overlaps word %d", i, i - 1);
    }
}

/* ---- parse --------------------------------------------------------------- */

typedef unsigned __int128 u128;

static const struct {
    const char *text;
    unsigned shift;
} suffixes[] = {
    { "", 0 },
    { "k", 10 }, { "kb", 10 }, { "kib", 10 },
    { "m", 20 }, { "mb", 20 }, { "mib", 20 },
    { "g", 30 }, { "gb", 30 }, { "gib", 30 },
};

static enum arg_error ref_parse(const char *s, bool size, uint64_t min, uint64_t max,
                                uint64_t *out)
{
    if (*s == '\0')
        return ARG_EMPTY;
    bool hex = (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'));
    const char *p = hex ? s + 2 : s;
    const char *digits = hex ? "0123456789abcdefABCDEF" : "0123456789";
    size_t nd = strspn(p, digits);
    if (nd == 0)
        return ARG_NOT_NUMBER;

    u128 v = 0;
    bool big = false;
    for (size_t i = 0; i < nd; i++) {
        char c = p[i];
        unsigned d = (c <= '9') ? (unsigned)(c - '0') : (unsigned)((c | 0x20) - 'a' + 10);
        v = v * (hex ? 16 : 10) + d;
        if (v > UINT64_MAX) {
            big = true;
            v = (u128)UINT64_MAX + 1; /* stays above, never overflows */
        }
    }

    const char *rest = p + nd;
    unsigned shift = 0;
    if (!size) {
        if (*rest != '\0')
            return ARG_NOT_NUMBER;
    } else {
        bool found = false;
        for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
            if (strcasecmp(rest, suffixes[i].text) == 0) {
                shift = suffixes[i].shift;
                found = true;
            }
        }
        if (!found)
            return ARG_BAD_SUFFIX;
    }
    if (big || (v << shift) > UINT64_MAX)
        return ARG_OVERFLOW;
    v <<= shift;
    if (v < min)
        return ARG_BELOW_MIN;
    if (v > max)
        return ARG_ABOVE_MAX;
    *out = (uint64_t)v;
    return ARG_OK;
}

static uint64_t take64(const uint8_t **data, size_t *len)
{
    uint64_t v = 0;
    for (int i = 0; i < 8 && *len > 0; i++, (*data)++, (*len)--)
        v = (v << 8) | **data;
    return v;
}

static void fuzz_parse(const uint8_t *data, size_t len, bool size)
{
    uint64_t min = take64(&data, &len), max = take64(&data, &len);
    char s[128];
    if (len > sizeof(s) - 1)
        len = sizeof(s) - 1;
    memcpy(s, data, len);
    s[len] = '\0';

    uint64_t got_v = 0x5a5a5a5a, want_v = 0x5a5a5a5a;
    enum arg_error got = size ? arg_parse_size(s, min, max, &got_v)
                              : arg_parse_u64(s, min, max, &got_v);
    enum arg_error want = ref_parse(s, size, min, max, &want_v);
    if (got != want || got_v != want_v)
        FAIL("\"%s\" (%s, %llu..%llu): %d %llu, reference %d %llu", s, size ? "size" : "u64",
             (unsigned long long)min, (unsigned long long)max, got,
             (unsigned long long)got_v, want, (unsigned long long)want_v);

    /* The message fits any buffer and is always terminated. */
    char msg[200];
    size_t cap = (size_t)(min % sizeof(msg));
    memset(msg, 0x7f, sizeof(msg));
    arg_describe(msg, cap, s, got, min, max);
    if (cap > 0 && memchr(msg, '\0', cap) == NULL)
        FAIL("arg_describe left the buffer unterminated");
    for (size_t i = cap; i < sizeof(msg); i++)
        if (msg[i] != 0x7f)
            FAIL("arg_describe wrote past its buffer");
    if (arg_error_str(got) == NULL)
        FAIL("no error string");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    if (len == 0)
        return 0;
    uint8_t op = data[0];
    data++;
    len--;
    switch (op % 3) {
    case 0:
        fuzz_split(data, len, (int)((op >> 2) % (MAX_WORDS + 1)));
        break;
    case 1:
        fuzz_parse(data, len, false);
        break;
    default:
        fuzz_parse(data, len, true);
        break;
    }
    return 0;
}
