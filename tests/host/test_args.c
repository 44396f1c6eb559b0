/*
 * test_args.c - number and size parsing, error text, word splitting.
 */
#include "check.h"
#include "kernel/args.h"
#include "kernel/types.h"

#define ANY 0, UINT64_MAX

/* Parses with arg_parse_u64 and expects success with `value`. */
#define U64_OK(s, value)                                                   \
    do {                                                                   \
        uint64_t v_ = 0xabababab;                                          \
        CHECK_EQ_U64(arg_parse_u64(s, ANY, &v_), ARG_OK);                  \
        CHECK_EQ_U64(v_, value);                                           \
    } while (0)

/* Expects an error and checks *out was not written. */
#define U64_ERR(s, lo, hi, err)                                            \
    do {                                                                   \
        uint64_t v_ = 0xabababab;                                          \
        CHECK_EQ_U64(arg_parse_u64(s, lo, hi, &v_), err);                  \
        CHECK_EQ_U64(v_, 0xabababab);                                      \
    } while (0)

#define SIZE_OK(s, value)                                                  \
    do {                                                                   \
        uint64_t v_ = 0xabababab;                                          \
        CHECK_EQ_U64(arg_parse_size(s, ANY, &v_), ARG_OK);                 \
        CHECK_EQ_U64(v_, value);                                           \
    } while (0)

#define SIZE_ERR(s, lo, hi, err)                                           \
    do {                                                                   \
        uint64_t v_ = 0xabababab;                                          \
        CHECK_EQ_U64(arg_parse_size(s, lo, hi, &v_), err);                 \
        CHECK_EQ_U64(v_, 0xabababab);                                      \
    } while (0)

static void test_u64(void)
{
    U64_OK("0", 0);
    U64_OK("42", 42);
    U64_OK("007", 7); /* decimal, not octal */
    U64_OK("0x0", 0);
    U64_OK("0x1f", 0x1f);
    U64_OK("0X1F", 0x1f);
    U64_OK("0xDeadBeef", 0xdeadbeef);
    U64_OK("18446744073709551615", UINT64_MAX);
    U64_OK("0xffffffffffffffff", UINT64_MAX);
    U64_OK("0x0000000000000000000000001", 1);

    U64_ERR("", 0, UINT64_MAX, ARG_EMPTY);
    U64_ERR(NULL, 0, UINT64_MAX, ARG_EMPTY);
    U64_ERR("abc", 0, UINT64_MAX, ARG_NOT_NUMBER);
    U64_ERR("0x", 0, UINT64_MAX, ARG_NOT_NUMBER);
    U64_ERR("12z", 0, UINT64_MAX, ARG_NOT_NUMBER);
    U64_ERR("-5", 0, UINT64_MAX, ARG_NOT_NUMBER);
    U64_ERR("+5", 0, UINT64_MAX, ARG_NOT_NUMBER);
    U64_ERR("0x1g", 0, UINT64_MAX, ARG_NOT_NUMBER);
    U64_ERR(" 5", 0, UINT64_MAX, ARG_NOT_NUMBER);
    U64_ERR("5 ", 0, UINT64_MAX, ARG_NOT_NUMBER);
    U64_ERR("4K", 0, UINT64_MAX, ARG_NOT_NUMBER); /* no suffixes here */
    U64_ERR("x10", 0, UINT64_MAX, ARG_NOT_NUMBER);
    U64_ERR("0xx1", 0, UINT64_MAX, ARG_NOT_NUMBER);
    U64_ERR("1x10", 0, UINT64_MAX, ARG_NOT_NUMBER);

    U64_ERR("18446744073709551616", 0, UINT64_MAX, ARG_OVERFLOW); /* 2^64 */
    U64_ERR("99999999999999999999999", 0, UINT64_MAX, ARG_OVERFLOW);
    U64_ERR("0x10000000000000000", 0, UINT64_MAX, ARG_OVERFLOW);
    /* the form is checked before the value */
    U64_ERR("99999999999999999999999z", 0, UINT64_MAX, ARG_NOT_NUMBER);

    U64_ERR("0", 1, 4096, ARG_BELOW_MIN);
    U64_ERR("4097", 1, 4096, ARG_ABOVE_MAX);
    uint64_t v;
    CHECK_EQ_U64(arg_parse_u64("1", 1, 4096, &v), ARG_OK);
    CHECK_EQ_U64(arg_parse_u64("4096", 1, 4096, &v), ARG_OK);
    CHECK_EQ_U64(v, 4096);
    CHECK_EQ_U64(arg_parse_u64("7", 7, 7, &v), ARG_OK);
}

static void test_size(void)
{
    SIZE_OK("0", 0);
    SIZE_OK("4096", 4096);
    SIZE_OK("4K", 4096);
    SIZE_OK("4k", 4096);
    SIZE_OK("4KiB", 4096);
    SIZE_OK("4kib", 4096);
    SIZE_OK("4KB", 4096);
    SIZE_OK("4kb", 4096);
    SIZE_OK("16M", MIB(16));
    SIZE_OK("16MiB", MIB(16));
    SIZE_OK("1G", GIB(1));
    SIZE_OK("3GiB", GIB(3));
    SIZE_OK("0x10K", KIB(16));
    SIZE_OK("0x1g", GIB(1));         /* the hex digits stop at 'g' */
    SIZE_OK("0x1B", 0x1b);           /* B is a hex digit, never a suffix */
    SIZE_OK("0K", 0);
    SIZE_OK("16777215G", GIB(16777215));
    SIZE_OK("17179869183G", GIB(17179869183ull)); /* (2^34 - 1) GiB */
    SIZE_OK("18446744073709551615", UINT64_MAX);

    SIZE_ERR("", 0, UINT64_MAX, ARG_EMPTY);
    SIZE_ERR("K", 0, UINT64_MAX, ARG_NOT_NUMBER);
    SIZE_ERR("abc", 0, UINT64_MAX, ARG_NOT_NUMBER);
    SIZE_ERR("-4K", 0, UINT64_MAX, ARG_NOT_NUMBER);
    SIZE_ERR("0xK", 0, UINT64_MAX, ARG_NOT_NUMBER);
    SIZE_ERR("4X", 0, UINT64_MAX, ARG_BAD_SUFFIX);
    SIZE_ERR("4KB7", 0, UINT64_MAX, ARG_BAD_SUFFIX);
    SIZE_ERR("4B", 0, UINT64_MAX, ARG_BAD_SUFFIX);
    SIZE_ERR("4Ki", 0, UINT64_MAX, ARG_BAD_SUFFIX);
    SIZE_ERR("4KiBB", 0, UINT64_MAX, ARG_BAD_SUFFIX);
    SIZE_ERR("4T", 0, UINT64_MAX, ARG_BAD_SUFFIX);
    SIZE_ERR("4 K", 0, UINT64_MAX, ARG_BAD_SUFFIX);
    SIZE_ERR("4KK", 0, UINT64_MAX, ARG_BAD_SUFFIX);

    SIZE_ERR("17179869184G", 0, UINT64_MAX, ARG_OVERFLOW);  /* 2^34 GiB = 2^64 */
    SIZE_ERR("18014398509481984K", 0, UINT64_MAX, ARG_OVERFLOW); /* 2^54 KiB */
    SIZE_OK("18014398509481983K", KIB(18014398509481983ull));
    SIZE_ERR("18446744073709551616", 0, UINT64_MAX, ARG_OVERFLOW);
    SIZE_ERR("99999999999999999999K", 0, UINT64_MAX, ARG_OVERFLOW);
    SIZE_ERR("99999999999999999999X", 0, UINT64_MAX, ARG_BAD_SUFFIX);

    SIZE_ERR("4K", 0, 4095, ARG_ABOVE_MAX);
    SIZE_ERR("4K", 4097, UINT64_MAX, ARG_BELOW_MIN);
}

static void test_error_text(void)
{
    char buf[96];
    CHECK_STR_EQ(arg_error_str(ARG_NOT_NUMBER), "not a number");
    for (int e = ARG_OK; e <= ARG_BAD_SUFFIX; e++)
        CHECK(arg_error_str(e) != NULL && arg_error_str(e)[0] != '\0');
    CHECK_STR_EQ(arg_error_str((enum arg_error)99), "unknown error");

    arg_describe(buf, sizeof(buf), "0x1g", ARG_NOT_NUMBER, 0, 10);
    CHECK_STR_EQ(buf, "'0x1g' is not a number (decimal or 0x-hex)");
    arg_describe(buf, sizeof(buf), "5000", ARG_ABOVE_MAX, 1, 4096);
    CHECK_STR_EQ(buf, "'5000' is out of range (1..4096)");
    arg_describe(buf, sizeof(buf), "0", ARG_BELOW_MIN, 1, 0xffff);
    CHECK_STR_EQ(buf, "'0' is out of range (1..65535)");
    arg_describe(buf, sizeof(buf), "0", ARG_BELOW_MIN, 0x1000, 0x10000);
    CHECK_STR_EQ(buf, "'0' is out of range (0x1000..0x10000)");
    arg_describe(buf, sizeof(buf), "5", ARG_ABOVE_MAX, 0, UINT64_MAX - 1);
    CHECK_STR_EQ(buf, "'5' is out of range (0x0..0xfffffffffffffffe)");
    arg_describe(buf, sizeof(buf), "99999999999999999999", ARG_OVERFLOW, 0, 1);
    CHECK_STR_EQ(buf, "'99999999999999999999' is too large (more than 64 bits)");
    arg_describe(buf, sizeof(buf), "4X", ARG_BAD_SUFFIX, 0, 1);
    CHECK_STR_EQ(buf, "'4X' has a bad size suffix (K, M or G)");
    arg_describe(buf, sizeof(buf), "", ARG_EMPTY, 0, 1);
    CHECK_STR_EQ(buf, "a value is missing (decimal or 0x-hex)");
    arg_describe(buf, sizeof(buf), NULL, ARG_NOT_NUMBER, 0, 1);
    CHECK_STR_EQ(buf, "'' is not a number (decimal or 0x-hex)");

    /* Long arguments are cut at the buffer, which stays terminated. */
    char small[10];
    arg_describe(small, sizeof(small), "abcdefghijkl", ARG_NOT_NUMBER, 0, 1);
    CHECK_STR_EQ(small, "'abcdefgh");
}

/* Splits a copy of `text`; returns the count and leaves words in argv. */
static char split_buf[256];
static char *argv_buf[8];
static int split(const char *text, int max)
{
    strcpy(split_buf, text);
    for (size_t i = 0; i < 8; i++)
        argv_buf[i] = (char *)"untouched";
    return arg_split(split_buf, argv_buf, max);
}

static void test_split(void)
{
    CHECK_EQ_U64(split("", 4), 0);
    CHECK(argv_buf[0] == NULL);
    CHECK_EQ_U64(split("  \t ", 4), 0);
    CHECK(argv_buf[0] == NULL);

    CHECK_EQ_U64(split("alloc 4K", 4), 2);
    CHECK_STR_EQ(argv_buf[0], "alloc");
    CHECK_STR_EQ(argv_buf[1], "4K");
    CHECK(argv_buf[2] == NULL);
    CHECK_STR_EQ(argv_buf[3], "untouched");

    CHECK_EQ_U64(split("\t a  \tb\t c  ", 4), 3);
    CHECK_STR_EQ(argv_buf[0], "a");
    CHECK_STR_EQ(argv_buf[1], "b");
    CHECK_STR_EQ(argv_buf[2], "c");
    CHECK(argv_buf[3] == NULL);

    CHECK_EQ_U64(split("echo \"hello  world\" x", 4), 3);
    CHECK_STR_EQ(argv_buf[0], "echo");
    CHECK_STR_EQ(argv_buf[1], "hello  world");
    CHECK_STR_EQ(argv_buf[2], "x");

    CHECK_EQ_U64(split("a\"b c\"d \"\" e", 4), 3);
    CHECK_STR_EQ(argv_buf[0], "ab cd");
    CHECK_STR_EQ(argv_buf[1], "");
    CHECK_STR_EQ(argv_buf[2], "e");

    CHECK_EQ_U64(split("\"\"\"\"", 4), 1);
    CHECK_STR_EQ(argv_buf[0], "");

    /* Words point into the line. */
    split("one two", 4);
    CHECK(argv_buf[0] == split_buf && argv_buf[1] == split_buf + 4);

    /* Exactly max words is fine, one more is too many. */
    CHECK_EQ_U64(split("a b c", 3), 3);
    CHECK(argv_buf[3] == NULL);
    CHECK_STR_EQ(argv_buf[4], "untouched");
    CHECK_EQ_U64(split("a b c d", 3), (uint64_t)ARGS_TOO_MANY);
    CHECK(argv_buf[0] == NULL);
    CHECK_STR_EQ(argv_buf[4], "untouched");
    CHECK_EQ_U64(split("a b c   ", 3), 3);
    CHECK_EQ_U64(split("a", 0), (uint64_t)ARGS_TOO_MANY);
    CHECK_EQ_U64(split("", 0), 0);

    CHECK_EQ_U64(split("echo \"open", 4), (uint64_t)ARGS_OPEN_QUOTE);
    CHECK(argv_buf[0] == NULL);
    CHECK_EQ_U64(split("\"", 4), (uint64_t)ARGS_OPEN_QUOTE);
    CHECK_EQ_U64(split("a \"b\" \"c", 4), (uint64_t)ARGS_OPEN_QUOTE);
}

int main(void)
{
    RUN(test_u64);
    RUN(test_size);
    RUN(test_error_text);
    RUN(test_split);
    return check_summary("args");
}
