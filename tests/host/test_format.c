/*
 * test_format.c - kvsnprintf against the C library, plus what is ours alone.
 *
 * Where C defines the output, the C library is the oracle: SAME() formats
 * with both and compares text and return value.  The wrappers below are
 * deliberately not marked printf-like so that a test may pass out-of-range
 * values to %hhd and friends without warnings (the values are still of the
 * right promoted type, so there is no undefined behaviour).
 */
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

#include "check.h"
#include "kernel/format.h"

static char mine_buf[512], libc_buf[512];

static int mine(size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = kvsnprintf(mine_buf, size, fmt, ap);
    va_end(ap);
    return n;
}

static int libc(size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(libc_buf, size, fmt, ap);
    va_end(ap);
    return n;
}

/* Formats with both into full-size buffers and compares. */
#define SAME(...)                                                          \
    do {                                                                   \
        int n_mine_ = mine(sizeof(mine_buf), __VA_ARGS__);                 \
        int n_libc_ = libc(sizeof(libc_buf), __VA_ARGS__);                 \
        CHECK_STR_EQ(mine_buf, libc_buf);                                  \
        CHECK_EQ_U64(n_mine_, n_libc_);                                    \
    } while (0)

/* Formats with ours only and checks the text and the return value. */
#define GIVES(expected, ...)                                               \
    do {                                                                   \
        int n_mine_ = mine(sizeof(mine_buf), __VA_ARGS__);                 \
        CHECK_STR_EQ(mine_buf, expected);                                  \
        CHECK_EQ_U64(n_mine_, strlen(expected));                           \
    } while (0)

static void test_signed(void)
{
    SAME("%d", 0);
    SAME("%d", 42);
    SAME("%d", -42);
    SAME("%i", -7);
    SAME("%d", INT_MIN);
    SAME("%d", INT_MAX);
    SAME("[%5d]", -42);
    SAME("[%-5d]", -42);
    SAME("[%05d]", -42);
    SAME("[%+d]", 5);
    SAME("[% d]", 5);
    SAME("[%+ d]", 5);
    SAME("[% d]", -5);
    SAME("[%.3d]", 7);
    SAME("[%.0d]", 0);
    SAME("[%+.0d]", 0);
    SAME("[% .0d]", 0);
    SAME("[%5.0d]", 0);
    SAME("[%8.3d]", -7);
    SAME("[%-8.3d]", -7);
    SAME("[%08.3d]", 7);
    SAME("[%-05d]", 3);
    SAME("[%0-5d]", 3);
    SAME("[%+08d]", 123);
    SAME("[% 08d]", -123);
    SAME("[%.10d]", INT_MIN);
    SAME("[%1d]", 12345);
}

static void test_unsigned(void)
{
    SAME("%u", 0u);
    SAME("%u", UINT_MAX);
    SAME("%x", 0xdeadbeefu);
    SAME("%X", 0xdeadbeefu);
    SAME("[%#x]", 0u);
    SAME("[%#x]", 255u);
    SAME("[%#X]", 255u);
    SAME("[%#10x]", 255u);
    SAME("[%#010x]", 255u);
    SAME("[%-#10x]", 255u);
    SAME("[%#5.3x]", 1u);
    SAME("[%#.0x]", 0u);
    SAME("%o", 8u);
    SAME("[%#o]", 0u);
    SAME("[%#o]", 8u);
    SAME("[%#.3o]", 8u);
    SAME("[%#.0o]", 0u);
    SAME("[%#5o]", 7u);
    SAME("[%08x]", 0xabcu);
    SAME("[%.8x]", 0xabcu);
    SAME("[%+u]", 5u);   /* '+' and ' ' mean nothing for unsigned */
    SAME("[% x]", 5u);
}

static void test_lengths(void)
{
    SAME("%016llx", 0x0000000100000000ull);
    SAME("%llx", 0xffffffffffffffffull);
    SAME("%llu", (unsigned long long)UINT64_MAX);
    SAME("%lld", (long long)INT64_MIN);
    SAME("%lld", (long long)INT64_MAX);
    SAME("%llo", (unsigned long long)UINT64_MAX);
    SAME("%#llo", (unsigned long long)UINT64_MAX);
    SAME("%#llX", 0x123456789abcdefull);
    SAME("%ld", LONG_MIN);
    SAME("%lu", ULONG_MAX);
    SAME("%lx", 0x12345678ul);
    SAME("%hd", 70000);     /* narrowed to short */
    SAME("%hu", 70000);
    SAME("%hhd", 200);      /* narrowed to signed char: -56 */
    SAME("%hhu", 0x1ff);
    SAME("%hhx", 0x1ff);
    SAME("%zu", (size_t)SIZE_MAX);
    SAME("%zx", (size_t)0x1234);
    SAME("%zd", (ptrdiff_t)-3);
    SAME("%td", (ptrdiff_t)-123456);
    SAME("%tu", (ptrdiff_t)77);
    SAME("%jd", (intmax_t)INT64_MIN);
    SAME("%ju", (uintmax_t)UINT64_MAX);
    SAME("%ji", (intmax_t)-1);
    SAME("%jx", (uintmax_t)0xfeedface12345678ull);
}

static void test_text(void)
{
    SAME("%c", 'A');
    SAME("[%3c]", 'A');
    SAME("[%-3c]", 'A');
    SAME("%s", "hello");
    SAME("[%10s]", "hello");
    SAME("[%-10s]", "hello");
    SAME("[%.2s]", "hello");
    SAME("[%.0s]", "hello");
    SAME("[%7.2s]", "hello");
    SAME("[%-7.2s]", "hello");
    SAME("[%s]", "");
    SAME("[%3s]", "");
    SAME("%%");
    SAME("100%% sure");
    SAME("a=%d b=%s c=%#x d=%c %%", 1, "two", 3u, '4');
    SAME("no conversions at all");
    SAME("");

    /* A precision lets the string lack a NUL within it. */
    static const char not_terminated[3] = { 'a', 'b', 'c' };
    SAME("[%.3s]", not_terminated);
}

static void test_star(void)
{
    SAME("[%*d]", 5, 42);
    SAME("[%-*d]", 5, 42);
    SAME("[%*d]", -5, 42);   /* negative width: '-' flag */
    SAME("[%.*d]", 3, 7);
    SAME("[%.*d]", -1, 7);   /* negative precision: none */
    SAME("[%.*d]", -1, 0);
    SAME("[%.*s]", 3, "abcdef");
    SAME("[%*.*s]", 6, 2, "abcdef");
    SAME("[%0*d]", 6, -5);
}

static void test_ours(void)
{
    GIVES("0x00000000", "%p", (void *)NULL);
    GIVES("0x00001234", "%p", (void *)0x1234);
    GIVES("0xdeadbeef", "%p", (void *)(uintptr_t)0xdeadbeefu);
    GIVES("0x00001234", "%10p", (void *)0x1234);
    GIVES("[  0x00001234]", "[%12p]", (void *)0x1234);
    GIVES("[0x00001234  ]", "[%-12p]", (void *)0x1234);
    GIVES("(null)", "%s", (char *)NULL);
    GIVES("[  (null)]", "[%8s]", (char *)NULL);
    GIVES("(nu", "%.3s", (char *)NULL);

    /* Unknown conversions print as written and consume nothing. */
    GIVES("%q", "%q");
    GIVES("[%-5q]", "[%-5q]");
    GIVES("%f 7", "%f %d", 7);
    GIVES("%e%g", "%e%g");
    GIVES("%n", "%n");
    GIVES("%lc", "%lc");
    GIVES("%ls", "%ls");
    GIVES("%lp", "%lp");
    GIVES("abc%", "abc%");
    GIVES("abc%l", "abc%l");
    GIVES("%-08.3", "%-08.3");
    GIVES("%", "%5%");
    /* A '*' before an unknown conversion has consumed its int. */
    GIVES("%*q 9", "%*q %d", 5, 9);

    /* Output longer than the buffer is still counted in full. */
    char b[4];
    CHECK_EQ_U64(ksnprintf(b, sizeof(b), "%.1000d", 0), 1000);
    CHECK_STR_EQ(b, "000");
}

static void test_truncation(void)
{
    char buf[16];

    memset(buf, 'X', sizeof(buf));
    CHECK_EQ_U64(ksnprintf(buf, 5, "%d", 123456), 6);
    CHECK_STR_EQ(buf, "1234");
    CHECK(buf[5] == 'X'); /* nothing written past size */

    memset(buf, 'X', sizeof(buf));
    CHECK_EQ_U64(ksnprintf(buf, 1, "abc"), 3);
    CHECK(buf[0] == '\0' && buf[1] == 'X');

    memset(buf, 'X', sizeof(buf));
    CHECK_EQ_U64(ksnprintf(buf, 0, "abc%d", 12), 5);
    CHECK(buf[0] == 'X');
    CHECK_EQ_U64(ksnprintf(NULL, 0, "%s-%s", "ab", "cd"), 5);

    CHECK_EQ_U64(ksnprintf(buf, 4, "%s", "abc"), 3);
    CHECK_STR_EQ(buf, "abc");
    CHECK_EQ_U64(ksnprintf(buf, 4, "%s", "abcd"), 4);
    CHECK_STR_EQ(buf, "abc");

    /* Compare truncation with the C library at every size. */
    for (size_t size = 0; size < 12; size++) {
        memset(mine_buf, 'X', sizeof(mine_buf));
        memset(libc_buf, 'X', sizeof(libc_buf));
        int a = mine(size, "%5d|%-4s|%x", -12, "ab", 0xbeefu);
        int b = libc(size, "%5d|%-4s|%x", -12, "ab", 0xbeefu);
        CHECK_EQ_U64(a, b);
        CHECK(memcmp(mine_buf, libc_buf, 16) == 0);
    }
}

static void count_emit(char c, void *ctx)
{
    unsigned *n = ctx;
    (void)c;
    (*n)++;
}

static int count_format(unsigned *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = kvformat(count_emit, n, fmt, ap);
    va_end(ap);
    return r;
}

static void test_kvformat(void)
{
    unsigned n = 0;
    int r = count_format(&n, "%300d|%s", 1, "xyz");
    CHECK_EQ_U64(r, 304);
    CHECK_EQ_U64(n, 304);
}

#define SIZE_IS(bytes, text)                                               \
    do {                                                                   \
        char b_[32];                                                       \
        int n_ = format_size(b_, sizeof(b_), (bytes));                     \
        CHECK_STR_EQ(b_, text);                                            \
        CHECK_EQ_U64(n_, strlen(text));                                    \
    } while (0)

static void test_format_size(void)
{
    SIZE_IS(0, "0 B");
    SIZE_IS(1, "1 B");
    SIZE_IS(512, "512 B");
    SIZE_IS(1023, "1023 B");
    SIZE_IS(1024, "1 KiB");
    SIZE_IS(1536, "1.5 KiB");
    SIZE_IS(1025, "1.0 KiB");
    SIZE_IS(4096, "4 KiB");
    SIZE_IS(0x7ee0000, "126.9 MiB");
    SIZE_IS(MIB(128), "128 MiB");
    SIZE_IS(MIB(128) - KIB(64), "127.9 MiB");
    SIZE_IS(GIB(3) + 1, "3.0 GiB");
    SIZE_IS(GIB(3) + MIB(50), "3.0 GiB");   /* 3.049 */
    SIZE_IS(GIB(3) + MIB(52), "3.1 GiB");   /* 3.0508 */
    SIZE_IS(KIB(1) + 51, "1.0 KiB");        /* 1.0498 */
    SIZE_IS(KIB(1) + 52, "1.1 KiB");        /* 1.0508 */
    SIZE_IS(KIB(1) + 973, "2.0 KiB");       /* 1.950 rounds up */
    SIZE_IS(MIB(1) - 1, "1.0 MiB");         /* 1023.999 KiB carries */
    SIZE_IS(MIB(1) - 52, "1023.9 KiB");
    SIZE_IS(GIB(4) - 1, "4.0 GiB");
    SIZE_IS(GIB(4), "4 GiB");
    SIZE_IS(GIB(1024), "1 TiB");
    SIZE_IS(GIB(1024) * 1024, "1024 TiB");
    SIZE_IS(UINT64_MAX, "16777216.0 TiB");
    SIZE_IS(UINT64_MAX - GIB(1024) * 3 / 4, "16777215.2 TiB");

    char small[4];
    CHECK_EQ_U64(format_size(small, sizeof(small), 4096), 5);
    CHECK_STR_EQ(small, "4 K");
    CHECK_EQ_U64(format_size(NULL, 0, 1536), 7);
}

int main(void)
{
    RUN(test_signed);
    RUN(test_unsigned);
    RUN(test_lengths);
    RUN(test_text);
    RUN(test_star);
    RUN(test_ours);
    RUN(test_truncation);
    RUN(test_kvformat);
    RUN(test_format_size);
    return check_summary("format");
}
