/*
 * test_cmdline.c - flags, key=value lookups and comma lists.
 */
#include "check.h"
#include "kernel/cmdline.h"

static const char *const line = "/boot/kernel-v.elf selftest trace=pmm,heap  mem=  "
                                "\tverbose trace=paging log=debug";

static void test_flags(void)
{
    CHECK(cmdline_has_flag(line, "selftest"));
    CHECK(cmdline_has_flag(line, "verbose"));
    CHECK(!cmdline_has_flag(line, "self"));       /* whole words only */
    CHECK(!cmdline_has_flag(line, "selftests"));
    CHECK(!cmdline_has_flag(line, "trace"));      /* a key is not a flag */
    CHECK(!cmdline_has_flag(line, "/boot/kernel-v.elf")); /* image path skipped */
    CHECK(!cmdline_has_flag(line, ""));
    CHECK(!cmdline_has_flag(NULL, "selftest"));
    CHECK(!cmdline_has_flag("", "selftest"));
    /* GRUB 2 passes no image path: the first word is an argument. */
    CHECK(cmdline_has_flag("selftest", "selftest"));
    CHECK(cmdline_has_flag("selftest trace=pmm", "selftest"));
    /* QEMU -kernel: a first word with a '/' is the image path. */
    CHECK(!cmdline_has_flag("build/selftest", "build/selftest"));
    CHECK(!cmdline_has_flag("./selftest", "./selftest"));
    CHECK(cmdline_has_flag("k selftest", "selftest"));
    CHECK(cmdline_has_flag("  k\t\tselftest  ", "selftest"));
    CHECK(cmdline_has_flag(line, "trace=paging")); /* a whole word matches */
}

static void test_get(void)
{
    char out[16];

    memset(out, 'X', sizeof(out));
    CHECK(cmdline_get(line, "trace", out, sizeof(out)));
    CHECK_STR_EQ(out, "paging"); /* last one wins */
    CHECK(cmdline_get(line, "log", out, sizeof(out)));
    CHECK_STR_EQ(out, "debug");
    CHECK(cmdline_get(line, "mem", out, sizeof(out)));
    CHECK_STR_EQ(out, ""); /* present, empty */

    strcpy(out, "keep");
    CHECK(!cmdline_get(line, "selftest", out, sizeof(out))); /* a flag, no value */
    CHECK(!cmdline_get(line, "tra", out, sizeof(out)));
    CHECK(!cmdline_get(line, "missing", out, sizeof(out)));
    CHECK(!cmdline_get(line, "", out, sizeof(out)));
    CHECK(!cmdline_get(NULL, "trace", out, sizeof(out)));
    CHECK(cmdline_get("dir=/boot/x", "dir", out, sizeof(out)));
    CHECK_STR_EQ(out, "/boot/x"); /* a '=' makes the first word an argument */
    strcpy(out, "keep");
    CHECK(!cmdline_get("/boot/kernel.elf", "trace", out, sizeof(out)));
    CHECK_STR_EQ(out, "keep"); /* untouched when absent */
    CHECK(cmdline_get("trace=pmm", "trace", out, sizeof(out))); /* GRUB 2 style */
    CHECK_STR_EQ(out, "pmm");

    /* truncation */
    char small[4];
    CHECK(cmdline_get("k trace=pmm,heap", "trace", small, sizeof(small)));
    CHECK_STR_EQ(small, "pmm");
    CHECK(cmdline_get("k trace=pmm,heap", "trace", small, 1));
    CHECK_STR_EQ(small, "");
    small[0] = 'Z';
    CHECK(cmdline_get("k trace=pmm,heap", "trace", small, 0));
    CHECK(small[0] == 'Z');

    /* values may hold '=' */
    CHECK(cmdline_get("k a=b=c", "a", out, sizeof(out)));
    CHECK_STR_EQ(out, "b=c");
}

static void test_items(void)
{
    char out[8];
    const char *cur = ",pmm,,heap,paging-long-name,";

    CHECK(cmdline_next_item(&cur, out, sizeof(out)));
    CHECK_STR_EQ(out, "pmm");
    CHECK(cmdline_next_item(&cur, out, sizeof(out)));
    CHECK_STR_EQ(out, "heap");
    CHECK(cmdline_next_item(&cur, out, sizeof(out)));
    CHECK_STR_EQ(out, "paging-"); /* cut, and the rest is skipped */
    CHECK(!cmdline_next_item(&cur, out, sizeof(out)));
    CHECK(!cmdline_next_item(&cur, out, sizeof(out)));

    cur = "";
    CHECK(!cmdline_next_item(&cur, out, sizeof(out)));
    cur = ",,,";
    CHECK(!cmdline_next_item(&cur, out, sizeof(out)));
    cur = NULL;
    CHECK(!cmdline_next_item(&cur, out, sizeof(out)));
    cur = "one";
    CHECK(cmdline_next_item(&cur, out, sizeof(out)));
    CHECK_STR_EQ(out, "one");
    CHECK(!cmdline_next_item(&cur, out, sizeof(out)));

    /* Together, as the kernel uses them. */
    char value[32];
    int n = 0;
    CHECK(cmdline_get(line, "trace", value, sizeof(value)));
    cur = value;
    while (cmdline_next_item(&cur, out, sizeof(out)))
        n++;
    CHECK_EQ_U64(n, 1);
}

int main(void)
{
    RUN(test_flags);
    RUN(test_get);
    RUN(test_items);
    return check_summary("cmdline");
}
