/*
 * fuzz_format.c - kvsnprintf against the C library's vsnprintf.
 *
 * The input bytes are read as a little program that builds format strings
 * from a restricted grammar, together with the argument values, so that
 * every format is one whose output C defines exactly:
 *   - '#' only with x X o; '0' and precision never with c or s;
 *     length modifiers never with c or s (those would be wide characters);
 *   - no %p, no %n, no unknown or floating-point conversions (ours prints
 *     those differently by design);
 *   - %s never gets NULL; widths and precisions stay below 100 so a run
 *     stays fast.
 * Two modes:
 *   typed: one conversion of any integer type or %s, with optional '*'
 *          width/precision, between literal text;
 *   multi: up to 8 int-sized conversions in one format, fed from an array
 *          of int arguments (extra arguments are ignored by both sides).
 * Each format is run with a buffer size taken from the input; text, return
 * value and the untouched bytes past the size must all agree.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/format.h"

#define BUF 1024

struct input {
    const uint8_t *p;
    size_t left;
};

static uint8_t take(struct input *in)
{
    if (in->left == 0)
        return 0;
    in->left--;
    return *in->p++;
}

static uint64_t take64(struct input *in)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | take(in);
    return v;
}

static char mine_buf[BUF + 16], libc_buf[BUF + 16];
static int mine_n, libc_n;

static void run_mine(size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    mine_n = kvsnprintf(mine_buf, size, fmt, ap);
    va_end(ap);
}

static void run_libc(size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    libc_n = vsnprintf(libc_buf, size, fmt, ap);
    va_end(ap);
}

#define BOTH(size, ...)                                                    \
    do {                                                                   \
        memset(mine_buf, 0xA5, sizeof(mine_buf));                          \
        memset(libc_buf, 0xA5, sizeof(libc_buf));                          \
        run_mine(size, __VA_ARGS__);                                       \
        run_libc(size, __VA_ARGS__);                                       \
        compare(size, fmt);                                                \
    } while (0)

static void compare(size_t size, const char *fmt)
{
    if (mine_n != libc_n || memcmp(mine_buf, libc_buf, sizeof(mine_buf)) != 0) {
        fprintf(stderr, "format \"%s\" size %zu: mine %d, libc %d\n", fmt, size,
                mine_n, libc_n);
        fprintf(stderr, "mine: \"%.*s\"\nlibc: \"%.*s\"\n", (int)sizeof(mine_buf),
                mine_buf, (int)sizeof(libc_buf), libc_buf);
        abort();
    }
}

/* Appends literal text (no '%' except as "%%"). */
static void add_literal(struct input *in, char *fmt, size_t *n)
{
    unsigned count = take(in) % 4;
    for (unsigned i = 0; i < count; i++) {
        uint8_t c = take(in);
        if (c == '%' || c == 0) {
            fmt[(*n)++] = '%';
            fmt[(*n)++] = '%';
        } else {
            fmt[(*n)++] = (char)c;
        }
    }
}

/* Conversion kinds of the typed mode and their length modifiers. */
enum kind { K_INT, K_LONG, K_LLONG, K_SIZE, K_PTRDIFF, K_INTMAX, K_CHAR, K_SHORT,
            K_STR, K_CHR, K_COUNT };
static const char *const kind_len[K_COUNT] = { "", "l", "ll", "z", "t", "j", "hh", "h",
                                               "", "" };

/*
 * Appends one conversion.  `star_ok` allows '*' (typed mode reports what
 * it used through *stars: bit 0 width, bit 1 precision).
 */
static void add_conversion(struct input *in, char *fmt, size_t *n, enum kind k,
                           unsigned *stars, char *conv_out)
{
    static const char int_convs[] = "diuxXo";
    uint8_t flags = take(in), shape = take(in);
    char conv = (k == K_STR) ? 's' : (k == K_CHR) ? 'c'
                                                  : int_convs[take(in) % 6];
    bool text = (conv == 's' || conv == 'c');

    fmt[(*n)++] = '%';
    if (flags & 1)
        fmt[(*n)++] = '-';
    if ((flags & 2) && !text)
        fmt[(*n)++] = '0';
    if (flags & 4)
        fmt[(*n)++] = '+';
    if (flags & 8)
        fmt[(*n)++] = ' ';
    if ((flags & 16) && (conv == 'x' || conv == 'X' || conv == 'o'))
        fmt[(*n)++] = '#';

    *stars = 0;
    switch (shape & 3) {
    case 1: *n += (size_t)sprintf(fmt + *n, "%u", take(in) % 100); break;
    case 2: fmt[(*n)++] = '*'; *stars |= 1; break;
    default: break;
    }
    if (conv != 'c') {
        switch ((shape >> 2) & 3) {
        case 1: *n += (size_t)sprintf(fmt + *n, ".%u", take(in) % 100); break;
        case 2: fmt[(*n)++] = '.'; break; /* "." alone: precision 0 */
        case 3: fmt[(*n)++] = '.'; fmt[(*n)++] = '*'; *stars |= 2; break;
        default: break;
        }
    }
    for (const char *l = kind_len[k]; *l; l++)
        fmt[(*n)++] = *l;
    fmt[(*n)++] = conv;
    fmt[*n] = '\0';
    *conv_out = conv;
}

/* Star values: width in -99..99, precision in -3..96. */
static int star_width(struct input *in) { return (int)(take(in) % 199) - 99; }
static int star_prec(struct input *in) { return (int)(take(in) % 100) - 3; }

#define TYPED(T, v)                                                        \
    do {                                                                   \
        T value_ = (T)(v);                                                 \
        switch (stars) {                                                   \
        case 0: BOTH(size, fmt, value_); break;                            \
        case 1: BOTH(size, fmt, sw, value_); break;                        \
        case 2: BOTH(size, fmt, sp, value_); break;                        \
        default: BOTH(size, fmt, sw, sp, value_); break;                   \
        }                                                                  \
    } while (0)

static void typed_mode(struct input *in, size_t size)
{
    char fmt[128];
    size_t n = 0;
    unsigned stars;
    char conv;
    enum kind k = (enum kind)(take(in) % K_COUNT);

    add_literal(in, fmt, &n);
    add_conversion(in, fmt, &n, k, &stars, &conv);
    add_literal(in, fmt, &n);
    fmt[n] = '\0';

    int sw = star_width(in), sp = star_prec(in);
    uint64_t v = take64(in);
    bool is_signed = (conv == 'd' || conv == 'i');

    /* A string from the input: up to 60 bytes, any non-NUL values. */
    char str[64];
    size_t slen = take(in) % 61;
    for (size_t i = 0; i < slen; i++) {
        uint8_t c = take(in);
        str[i] = (char)(c ? c : 'z');
    }
    str[slen] = '\0';

    switch (k) {
    case K_STR: TYPED(const char *, str); break;
    case K_CHR: TYPED(int, (int)(v & 0xff)); break;
    case K_INT:
    case K_CHAR:
    case K_SHORT:
        /* hh and h take an int (promoted); the formatter narrows it. */
        if (is_signed)
            TYPED(int, (int)(uint32_t)v);
        else
            TYPED(unsigned int, (unsigned int)v);
        break;
    case K_LONG:
        if (is_signed)
            TYPED(long, (long)v);
        else
            TYPED(unsigned long, (unsigned long)v);
        break;
    case K_LLONG:
        if (is_signed)
            TYPED(long long, (long long)v);
        else
            TYPED(unsigned long long, (unsigned long long)v);
        break;
    case K_SIZE:
        /* %zd takes the signed type of size_t, %zu size_t itself. */
        if (is_signed)
            TYPED(ptrdiff_t, (ptrdiff_t)v);
        else
            TYPED(size_t, (size_t)v);
        break;
    case K_PTRDIFF:
        /* %tu takes the unsigned type of ptrdiff_t: size_t. */
        if (is_signed)
            TYPED(ptrdiff_t, (ptrdiff_t)v);
        else
            TYPED(size_t, (size_t)v);
        break;
    case K_INTMAX:
        if (is_signed)
            TYPED(intmax_t, (intmax_t)v);
        else
            TYPED(uintmax_t, (uintmax_t)v);
        break;
    default:
        break;
    }
}

static void multi_mode(struct input *in, size_t size)
{
    static const enum kind kinds[3] = { K_INT, K_CHAR, K_SHORT };
    char fmt[512];
    size_t n = 0;
    int args[24];
    unsigned nargs = 0;
    unsigned convs = 1 + take(in) % 8;

    for (unsigned c = 0; c < convs; c++) {
        unsigned stars;
        char conv;
        enum kind k = kinds[take(in) % 3];
        bool chr = (take(in) % 5) == 0;
        add_literal(in, fmt, &n);
        add_conversion(in, fmt, &n, chr ? K_CHR : k, &stars, &conv);
        if (stars & 1)
            args[nargs++] = star_width(in);
        if (stars & 2)
            args[nargs++] = star_prec(in);
        int v = (int)(uint32_t)take64(in);
        /* Unsigned conversions read the int as unsigned int, which C allows
         * only for values both types can hold. */
        if (conv != 'd' && conv != 'i' && v < 0)
            v = -(v + 1);
        args[nargs++] = v;
    }
    add_literal(in, fmt, &n);
    fmt[n] = '\0';
    while (nargs < 24)
        args[nargs++] = 0;

#define A8(i) args[i], args[i + 1], args[i + 2], args[i + 3], args[i + 4], args[i + 5], \
              args[i + 6], args[i + 7]
    BOTH(size, fmt, A8(0), A8(8), A8(16));
#undef A8
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    struct input in = { data, len };
    uint8_t mode = take(&in);
    /* Buffer sizes: mostly large enough, sometimes cutting the output. */
    size_t size = take(&in);
    if (size >= 128)
        size = BUF;
    if (mode & 1)
        multi_mode(&in, size);
    else
        typed_mode(&in, size);
    return 0;
}
