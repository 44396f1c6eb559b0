/*
 * format.c - printf-style formatting without an output device.
 *
 * Every conversion is parsed into a `struct spec` and then laid out in the
 * same order C99 describes, which is also the order the output appears in:
 *
 *     [spaces] [sign or 0x] [zeros] [digits] [spaces]
 *      ^ width, right-aligned       ^ precision / '0' flag     ^ '-' flag
 *
 * The output goes through an emit callback one character at a time, so the
 * console can print lines of any length and kvsnprintf can count what it had
 * to drop (snprintf returns the length the full output would have had).
 *
 * Integer conversions work on uint64_t.  On i686 the divisions by 10 become
 * calls to libgcc's __udivdi3, which the kernel links; octal and hex use
 * shifts.  There is no floating point anywhere: the kernel is built with
 * -mno-80387 -mno-sse; format_size.c computes its one decimal with
 * integers.
 *
 * Where this formatter deliberately differs from a C library:
 *   - %p is "0x" plus at least 8 hex digits, also for NULL (glibc prints
 *     "(nil)").  On a 64-bit host a wider pointer shows all its digits.
 *   - An unknown conversion, %n, a floating-point conversion, or a length
 *     modifier on %c/%s/%p is printed as written, e.g. "%-5q".  Its
 *     argument is not consumed (a '*' width before it was, though).
 *   - %s of NULL is the string "(null)", then cut by the precision as any
 *     string would be (glibc prints nothing when the precision is < 6).
 */
#include "kernel/format.h"

#include "kernel/kstring.h"

/* The compiler's own constants: <limits.h> of a cross GCC pulls in the C
 * library's header, which a freestanding build must not need. */
#define INT_MAX __INT_MAX__
#define INT_MIN (-__INT_MAX__ - 1)

/* Output sink with a running count; the count is unsigned so that even an
 * absurd width cannot overflow a signed int (kvformat clamps on return). */
struct out {
    format_emit_fn emit;
    void *ctx;
    size_t count;
};

static void put(struct out *o, char c)
{
    o->emit(c, o->ctx);
    o->count++;
}

static void put_repeat(struct out *o, char c, int n)
{
    for (; n > 0; n--)
        put(o, c);
}

/* One parsed conversion specification. */
enum { LEN_NONE, LEN_HH, LEN_H, LEN_L, LEN_LL, LEN_Z, LEN_T, LEN_J };

struct spec {
    bool left;      /* '-' */
    bool zero;      /* '0' */
    bool plus;      /* '+' */
    bool space;     /* ' ' */
    bool alt;       /* '#' */
    int width;      /* 0 when absent */
    int prec;       /* -1 when absent */
    int length;     /* LEN_* */
};

/* Reads a decimal number of a width or precision, saturating at INT_MAX
 * rather than overflowing (C makes such a width an error anyway). */
static int parse_decimal(const char **p)
{
    int v = 0;
    while (**p >= '0' && **p <= '9') {
        int d = **p - '0';
        v = (v > (INT_MAX - d) / 10) ? INT_MAX : v * 10 + d;
        (*p)++;
    }
    return v;
}

/*
 * Pull the next integer argument with the type its length modifier names.
 * Types narrower than int arrive promoted to int and are narrowed back here,
 * so "%hhx" of 0x1ff prints "ff" as in C.
 */
static uint64_t fetch_unsigned(int length, va_list *ap)
{
    switch (length) {
    case LEN_HH: return (unsigned char)va_arg(*ap, unsigned int);
    case LEN_H:  return (unsigned short)va_arg(*ap, unsigned int);
    case LEN_L:  return va_arg(*ap, unsigned long);
    case LEN_LL: return va_arg(*ap, unsigned long long);
    case LEN_Z:  return va_arg(*ap, size_t);
    /* ptrdiff_t's unsigned twin has the same size as size_t on every
     * target this code is built for (i686, x86-64). */
    case LEN_T:  return (size_t)va_arg(*ap, ptrdiff_t);
    case LEN_J:  return va_arg(*ap, uintmax_t);
    default:     return va_arg(*ap, unsigned int);
    }
}

static int64_t fetch_signed(int length, va_list *ap)
{
    switch (length) {
    case LEN_HH: return (signed char)va_arg(*ap, int);
    case LEN_H:  return (short)va_arg(*ap, int);
    case LEN_L:  return va_arg(*ap, long);
    case LEN_LL: return va_arg(*ap, long long);
    /* %zd takes the signed type of size_t's width: ptrdiff_t on i686 and
     * x86-64 alike. */
    case LEN_Z:  return va_arg(*ap, ptrdiff_t);
    case LEN_T:  return va_arg(*ap, ptrdiff_t);
    case LEN_J:  return va_arg(*ap, intmax_t);
    default:     return va_arg(*ap, int);
    }
}

/*
 * Lays out one integer (its magnitude; any sign is in `prefix`, which is
 * "-", "+", " ", "0x", "0X" or empty).
 */
static void emit_integer(struct out *o, const struct spec *s, uint64_t value,
                         unsigned base, bool upper, const char *prefix)
{
    const char *digit_set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char digits[24]; /* 2^64-1 in octal is 22 digits */
    int nd = 0;

    /* A zero value with an explicit precision of 0 prints no digits. */
    if (!(value == 0 && s->prec == 0)) {
        do {
            unsigned d;
            if (base == 10) {
                d = (unsigned)(value % 10);
                value /= 10;
            } else {
                unsigned shift = (base == 16) ? 4 : 3;
                d = (unsigned)(value & (base - 1));
                value >>= shift;
            }
            digits[nd++] = digit_set[d];
        } while (value != 0);
    }

    int zeros = (s->prec > nd) ? s->prec - nd : 0;
    /* '#' with %o forces the first digit to be 0, by raising the precision
     * only when the digits do not already start with one. */
    if (base == 8 && s->alt && zeros == 0 && (nd == 0 || digits[nd - 1] != '0'))
        zeros = 1;

    int plen = (int)strlen(prefix);
    int64_t total = (int64_t)plen + zeros + nd; /* prec near INT_MAX: no wrap */
    int pad = (s->width > total) ? (int)(s->width - total) : 0;

    /* The '0' flag turns padding into leading zeros, unless '-' is given or
     * a precision already fixes the digit count (C99 7.19.6.1). */
    if (s->zero && !s->left && s->prec < 0) {
        zeros += pad;
        pad = 0;
    }
    if (!s->left)
        put_repeat(o, ' ', pad);
    for (int i = 0; i < plen; i++)
        put(o, prefix[i]);
    put_repeat(o, '0', zeros);
    while (nd > 0)
        put(o, digits[--nd]);
    if (s->left)
        put_repeat(o, ' ', pad);
}

/* Lays out `len` characters of str with the width; '0' pads with spaces
 * here, as glibc does (C leaves '0' with %s/%c undefined). */
static void emit_text(struct out *o, const struct spec *s, const char *str, size_t len)
{
    int pad = 0;
    if (s->width > 0 && (size_t)s->width > len)
        pad = s->width - (int)len;
    if (!s->left)
        put_repeat(o, ' ', pad);
    for (size_t i = 0; i < len; i++)
        put(o, str[i]);
    if (s->left)
        put_repeat(o, ' ', pad);
}

/* Reads the length modifier, if any ("hh" and "ll" are two letters). */
static int parse_length(const char **p)
{
    const char *q = *p;
    int len;

    switch (*q) {
    case 'h': len = (q[1] == 'h') ? LEN_HH : LEN_H; break;
    case 'l': len = (q[1] == 'l') ? LEN_LL : LEN_L; break;
    case 'z': len = LEN_Z; break;
    case 't': len = LEN_T; break;
    case 'j': len = LEN_J; break;
    default:  return LEN_NONE;
    }
    *p = q + ((len == LEN_HH || len == LEN_LL) ? 2 : 1);
    return len;
}

/*
 * Formats one conversion starting just after its '%'.  Returns the position
 * after the conversion; on an unknown one prints it as written, from the '%'
 * (at `start`) to and including the offending character.
 */
static const char *convert(struct out *o, const char *start, va_list *ap)
{
    const char *p = start + 1;
    struct spec s = { .prec = -1 };

    for (bool flag = true; flag; p += flag) {
        switch (*p) {
        case '-': s.left = true; break;
        case '0': s.zero = true; break;
        case '+': s.plus = true; break;
        case ' ': s.space = true; break;
        case '#': s.alt = true; break;
        default:  flag = false; break;
        }
    }

    if (*p == '*') {
        int w = va_arg(*ap, int);
        p++;
        /* A negative '*' width means '-' and its magnitude. */
        if (w < 0) {
            s.left = true;
            w = (w == INT_MIN) ? INT_MAX : -w;
        }
        s.width = w;
    } else {
        s.width = parse_decimal(&p);
    }

    if (*p == '.') {
        p++;
        if (*p == '*') {
            int pr = va_arg(*ap, int);
            p++;
            s.prec = (pr < 0) ? -1 : pr; /* negative: as if omitted */
        } else {
            s.prec = parse_decimal(&p); /* "." alone means 0 */
        }
    }

    s.length = parse_length(&p);
    char conv = *p;

    switch (conv) {
    case 'd':
    case 'i': {
        int64_t v = fetch_signed(s.length, ap);
        /* Negate in unsigned arithmetic: -INT64_MIN does not fit. */
        uint64_t mag = (v < 0) ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
        const char *sign = (v < 0) ? "-" : s.plus ? "+" : s.space ? " " : "";
        emit_integer(o, &s, mag, 10, false, sign);
        return p + 1;
    }
    case 'u':
    case 'x':
    case 'X':
    case 'o': {
        uint64_t v = fetch_unsigned(s.length, ap);
        const char *prefix = "";
        if (s.alt && v != 0 && conv == 'x')
            prefix = "0x";
        else if (s.alt && v != 0 && conv == 'X')
            prefix = "0X";
        unsigned base = (conv == 'u') ? 10 : (conv == 'o') ? 8 : 16;
        emit_integer(o, &s, v, base, conv == 'X', prefix);
        return p + 1;
    }
    case 'p':
    case 'c':
    case 's':
        if (s.length != LEN_NONE)
            break; /* %lc and %ls are wide characters: not supported */
        if (conv == 'p') {
            uintptr_t v = (uintptr_t)va_arg(*ap, void *);
            struct spec ps = { .left = s.left, .width = s.width, .prec = 8 };
            emit_integer(o, &ps, v, 16, false, "0x");
        } else if (conv == 'c') {
            char c = (char)va_arg(*ap, int);
            emit_text(o, &s, &c, 1);
        } else {
            const char *str = va_arg(*ap, const char *);
            if (str == NULL)
                str = "(null)";
            /* With a precision the string need not be NUL-terminated
             * within it, so never read past the precision. */
            emit_text(o, &s, str, (s.prec >= 0) ? strnlen(str, (size_t)s.prec) : strlen(str));
        }
        return p + 1;
    case '%':
        put(o, '%');
        return p + 1;
    default:
        break;
    }

    /* Unknown: show it as written.  A '%' at the very end of fmt (conv is
     * the NUL) prints just what came before the NUL. */
    for (const char *q = start; q < p; q++)
        put(o, *q);
    if (conv == '\0')
        return p;
    put(o, conv);
    return p + 1;
}

int kvformat(format_emit_fn emit, void *ctx, const char *fmt, va_list ap)
{
    struct out o = { .emit = emit, .ctx = ctx, .count = 0 };
    va_list aq;

    /* Work on a copy so that helpers can take a va_list pointer portably
     * (va_list is an array type on x86-64). */
    va_copy(aq, ap);
    while (*fmt != '\0') {
        if (*fmt != '%') {
            put(&o, *fmt++);
            continue;
        }
        fmt = convert(&o, fmt, &aq);
    }
    va_end(aq);
    return (o.count > INT_MAX) ? INT_MAX : (int)o.count;
}

/* kvsnprintf's sink: stores while there is room, always keeping one byte
 * for the NUL, and lets kvformat count the rest. */
struct buf_sink {
    char *buf;
    size_t size;
    size_t pos;
};

static void buf_emit(char c, void *ctx)
{
    struct buf_sink *b = ctx;
    if (b->size > 0 && b->pos < b->size - 1)
        b->buf[b->pos++] = c;
}

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct buf_sink b = { .buf = buf, .size = size, .pos = 0 };
    int n = kvformat(buf_emit, &b, fmt, ap);
    if (size > 0)
        buf[b.pos] = '\0';
    return n;
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = kvsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
