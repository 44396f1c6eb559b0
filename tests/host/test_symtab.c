/*
 * test_symtab.c - naming addresses from an ELF symbol table and from the
 * built-in sorted table (src/lib/symtab.c).
 *
 * Every table is copied into a heap block of exactly its size (the ELF
 * symbols one byte into theirs, so they are misaligned), so AddressSanitizer
 * reports any read past a table's end: the malformed entries here (names
 * past the string table, a last name with no NUL, a partial last symbol)
 * must be skipped without being read beyond.
 */
#include <stdlib.h>

#include "check.h"
#include "kernel/symbols.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define SHN_ABS 0xfff1

/* ---- helpers ------------------------------------------------------------- */

/* A string table under construction: names appended with their NULs. */
static char strbuf[512];
static uint32_t strlen_used = 1; /* offset 0 is the empty name */

static uint32_t str(const char *s)
{
    uint32_t at = strlen_used;
    size_t n = strlen(s) + 1;
    memcpy(strbuf + at, s, n);
    strlen_used += (uint32_t)n;
    return at;
}

static void *exact_copy(const void *src, size_t n)
{
    void *p = malloc(n ? n : 1);
    memcpy(p, src, n);
    return p;
}

static struct elf32_sym sym(uint32_t name, uint32_t value, uint32_t size, unsigned bind,
                            unsigned type, uint16_t shndx)
{
    struct elf32_sym s = {name, value, size, (uint8_t)(bind << 4 | type), 0, shndx};
    return s;
}

/* Expects addr to be name+offset. */
#define CHECK_AT(t, addr, want_name, want_off)                             \
    do {                                                                   \
        const char *n_ = "(unset)";                                        \
        uint32_t o_ = 0xdeadbeef;                                          \
        CHECK(symtab_lookup((t), (addr), &n_, &o_));                       \
        CHECK_STR_EQ(n_, (want_name));                                     \
        CHECK_EQ_U64(o_, (want_off));                                      \
    } while (0)

/* Expects no function at addr, and the out values left alone. */
#define CHECK_NONE(t, addr)                                                \
    do {                                                                   \
        const char *n_ = "(unset)";                                        \
        uint32_t o_ = 0xdeadbeef;                                          \
        CHECK(!symtab_lookup((t), (addr), &n_, &o_));                      \
        CHECK_STR_EQ(n_, "(unset)");                                       \
        CHECK_EQ_U64(o_, 0xdeadbeef);                                      \
    } while (0)

#define CHECK_FIND(t, name, want)                                          \
    do {                                                                   \
        uint32_t a_ = 0x5a5a5a5a;                                          \
        CHECK(symtab_find((t), (name), &a_));                              \
        CHECK_EQ_U64(a_, (want));                                          \
    } while (0)

#define CHECK_NO_FIND(t, name)                                             \
    do {                                                                   \
        uint32_t a_ = 0x5a5a5a5a;                                          \
        CHECK(!symtab_find((t), (name), &a_));                             \
        CHECK_EQ_U64(a_, 0x5a5a5a5a);                                      \
    } while (0)

/* ---- an ELF symbol table ------------------------------------------------- */

static void test_elf(void)
{
    struct elf32_sym s[24];
    size_t n = 0;
    s[n++] = sym(0, 0, 0, 0, 0, 0); /* the null symbol every table starts with */
    s[n++] = sym(str("memset"), 0x1000, 0x30, STB_GLOBAL, STT_FUNC, 1);
    s[n++] = sym(str("__memset_local"), 0x1000, 0x30, STB_LOCAL, STT_FUNC, 1);
    s[n++] = sym(str("memset_label"), 0x1000, 0, STB_GLOBAL, STT_NOTYPE, 1);
    s[n++] = sym(str("shell_execute"), 0x1040, 0x40, STB_GLOBAL, STT_FUNC, 1);
    uint32_t helper = str("helper");
    s[n++] = sym(helper, 0x1080, 0x10, STB_LOCAL, STT_FUNC, 1);
    s[n++] = sym(str("some_data"), 0x1090, 0x100, STB_GLOBAL, 1 /* OBJECT */, 2);
    s[n++] = sym(str("undefined_fn"), 0x1098, 0x10, STB_GLOBAL, STT_FUNC, 0);
    s[n++] = sym(str("abs_fn"), 0x1098, 0x10, STB_GLOBAL, STT_FUNC, SHN_ABS);
    s[n++] = sym(0xffffff00u, 0x10a0, 0x10, STB_GLOBAL, STT_FUNC, 1); /* name way past */
    s[n++] = sym(0, 0x10b0, 0x10, STB_GLOBAL, STT_FUNC, 1);           /* empty name */
    s[n++] = sym(str("isr_common"), 0x1100, 0, STB_GLOBAL, STT_NOTYPE, 1);
    s[n++] = sym(str("isr_common.loop"), 0x1110, 0, STB_LOCAL, STT_NOTYPE, 1);
    s[n++] = sym(str("after_label"), 0x1120, 0x20, STB_GLOBAL, STT_FUNC, 1);
    s[n++] = sym(helper, 0x1200, 0x10, STB_GLOBAL, STT_FUNC, 1); /* global twin */
    s[n++] = sym(str("tail_label"), 0x1400, 0, STB_GLOBAL, STT_NOTYPE, 1);
    s[n++] = sym(str("final_fn"), 0x1500, 0x10, STB_GLOBAL, STT_FUNC, 1);
    uint32_t top = str("top_fn");
    s[n++] = sym(top, 0xfffffff0u, 0x20, STB_GLOBAL, STT_FUNC, 1); /* ends past 4 GiB */
    /* Last in the string table, a name with no NUL before its end. */
    uint32_t unterminated = strlen_used;
    memcpy(strbuf + unterminated, "unter", 5);
    strlen_used += 5;
    s[n++] = sym(unterminated, 0x1300, 0x10, STB_GLOBAL, STT_FUNC, 1);
    s[n++] = sym(strlen_used, 0x1000, 0x10, STB_GLOBAL, STT_FUNC, 1); /* just past the end */

    /* A partial symbol (7 bytes) after the last whole one is ignored. */
    size_t sym_bytes = n * sizeof(s[0]) + 7;
    char *block = malloc(sym_bytes + 1);
    memset(block, 0xee, sym_bytes + 1);
    memcpy(block + 1, s, n * sizeof(s[0]));
    char *strs = exact_copy(strbuf, strlen_used);

    struct symtab t;
    symtab_init_elf(&t, block + 1, (uint32_t)sym_bytes, strs, strlen_used);
    CHECK_EQ_U64(t.count, n);
    /* memset, __memset_local, memset_label, shell_execute, helper x2,
     * isr_common, isr_common.loop, after_label, tail_label, final_fn, top_fn */
    CHECK_EQ_U64(symtab_count(&t), 12);

    CHECK_NONE(&t, 0);
    CHECK_NONE(&t, 0x0fff);              /* before the first symbol */
    CHECK_AT(&t, 0x1000, "memset", 0);   /* sized global beats local and label */
    CHECK_AT(&t, 0x101c, "memset", 0x1c);
    CHECK_AT(&t, 0x102f, "memset", 0x2f); /* last byte */
    CHECK_NONE(&t, 0x1030);              /* padding: memset_label ends with memset */
    CHECK_NONE(&t, 0x103f);
    CHECK_AT(&t, 0x1040, "shell_execute", 0);
    CHECK_AT(&t, 0x105c, "shell_execute", 0x1c);
    CHECK_AT(&t, 0x107f, "shell_execute", 0x3f);
    CHECK_AT(&t, 0x1085, "helper", 5);
    CHECK_NONE(&t, 0x1090);              /* an object is not a function */
    CHECK_NONE(&t, 0x1098);              /* undefined and absolute symbols */
    CHECK_NONE(&t, 0x10a4);              /* bad name offset */
    CHECK_NONE(&t, 0x10b4);              /* empty name */
    CHECK_AT(&t, 0x1100, "isr_common", 0);
    CHECK_AT(&t, 0x110f, "isr_common", 0xf);
    CHECK_AT(&t, 0x1110, "isr_common.loop", 0); /* the inner label wins */
    CHECK_AT(&t, 0x111f, "isr_common.loop", 0xf);
    CHECK_AT(&t, 0x1120, "after_label", 0);
    CHECK_AT(&t, 0x113f, "after_label", 0x1f);
    CHECK_NONE(&t, 0x1140);
    CHECK_AT(&t, 0x1200, "helper", 0);
    CHECK_NONE(&t, 0x1305);              /* unterminated name */
    CHECK_AT(&t, 0x1400, "tail_label", 0);
    CHECK_AT(&t, 0x14ff, "tail_label", 0xff); /* a label runs to the next symbol */
    CHECK_AT(&t, 0x150f, "final_fn", 0xf);
    CHECK_NONE(&t, 0x1510);              /* ... not past a later function */
    CHECK_NONE(&t, 0xffffffef);
    CHECK_AT(&t, 0xfffffff0, "top_fn", 0);
    CHECK_AT(&t, 0xffffffff, "top_fn", 0xf); /* no wrap at 4 GiB */

    /* Out pointers may be NULL. */
    CHECK(symtab_lookup(&t, 0x1001, NULL, NULL));
    uint32_t off = 0;
    CHECK(symtab_lookup(&t, 0x1001, NULL, &off));
    CHECK_EQ_U64(off, 1);

    CHECK_FIND(&t, "memset", 0x1000);
    CHECK_FIND(&t, "helper", 0x1200);    /* the global one */
    CHECK_FIND(&t, "isr_common.loop", 0x1110);
    CHECK_FIND(&t, "top_fn", 0xfffffff0);
    CHECK_NO_FIND(&t, "some_data");
    CHECK_NO_FIND(&t, "undefined_fn");
    CHECK_NO_FIND(&t, "abs_fn");
    CHECK_NO_FIND(&t, "unter");
    CHECK_NO_FIND(&t, "");
    CHECK_NO_FIND(&t, "nosuch");
    CHECK_NO_FIND(&t, "memse");

    /* The string table cut short: now "top_fn" runs off its end too. */
    symtab_init_elf(&t, block + 1, (uint32_t)sym_bytes, strs, top + 6);
    CHECK_EQ_U64(symtab_count(&t), 11);
    CHECK_NONE(&t, 0xfffffff8);
    CHECK_NO_FIND(&t, "top_fn");
    free(block);
    free(strs);
}

/* Tables with nothing usable in them. */
static void test_elf_empty(void)
{
    struct symtab t;
    symtab_init_elf(&t, NULL, 0, NULL, 0);
    CHECK_EQ_U64(symtab_count(&t), 0);
    CHECK_NONE(&t, 0x1000);
    CHECK_NO_FIND(&t, "memset");

    struct elf32_sym one = sym(1, 0x1000, 0x10, STB_GLOBAL, STT_FUNC, 1);
    void *syms = exact_copy(&one, sizeof(one));
    char *strs = exact_copy("\0f", 3);
    symtab_init_elf(&t, syms, sizeof(one) - 1, strs, 3); /* less than one symbol */
    CHECK_EQ_U64(t.count, 0);
    CHECK_NONE(&t, 0x1000);
    symtab_init_elf(&t, syms, sizeof(one), NULL, 3);     /* no strings at all */
    CHECK_EQ_U64(symtab_count(&t), 0);
    CHECK_NONE(&t, 0x1000);
    symtab_init_elf(&t, syms, sizeof(one), strs, 0);     /* an empty string table */
    CHECK_EQ_U64(symtab_count(&t), 0);
    CHECK_NO_FIND(&t, "f");
    symtab_init_elf(&t, syms, sizeof(one), strs, 2);     /* "f" without its NUL */
    CHECK_EQ_U64(symtab_count(&t), 0);
    symtab_init_elf(&t, syms, sizeof(one), strs, 3);     /* and with it */
    CHECK_EQ_U64(symtab_count(&t), 1);
    CHECK_AT(&t, 0x100f, "f", 0xf);
    free(syms);
    free(strs);

    static const struct symtab zero; /* never initialized: kind NONE */
    CHECK_NONE(&zero, 0x1000);
    CHECK_NO_FIND(&zero, "f");
    CHECK_EQ_U64(symtab_count(&zero), 0);
}

/* ---- the built-in sorted table ------------------------------------------- */

static void test_sorted(void)
{
    static const char names_src[] = "alpha\0beta\0gamma\0label\0delta\0lbl2\0sized2\0"
                                    "epsilon\0tail";
    uint32_t names_bytes = sizeof(names_src) - 1; /* "tail" has no NUL */
    const struct ksym src[] = {
        {0x2000, 0x10, 0},  /* alpha */
        {0x2010, 0x20, 6},  /* beta */
        {0x2040, 0x10, 11}, /* gamma, after a gap */
        {0x2050, 0, 17},    /* label: up to the next entry */
        {0x2080, 0x8, 9999}, /* a bad name offset */
        {0x2090, 0x10, 23}, /* delta */
        {0x20a0, 0, 29},    /* lbl2, a label ... */
        {0x20a0, 0x10, 34}, /* ... and sized2 at the same address */
        {0x20c0, 0x10, 41}, /* epsilon */
        {0x3000, 0x10, 49}, /* tail: no NUL */
    };
    struct ksym *table = exact_copy(src, sizeof(src));
    char *names = exact_copy(names_src, names_bytes);
    struct symtab t;
    symtab_init_sorted(&t, table, N(src), names, names_bytes);
    CHECK_EQ_U64(symtab_count(&t), 8);

    CHECK_NONE(&t, 0);
    CHECK_NONE(&t, 0x1fff);
    CHECK_AT(&t, 0x2000, "alpha", 0);
    CHECK_AT(&t, 0x200f, "alpha", 0xf);
    CHECK_AT(&t, 0x2010, "beta", 0);
    CHECK_AT(&t, 0x202f, "beta", 0x1f);
    CHECK_NONE(&t, 0x2030);
    CHECK_NONE(&t, 0x203f);
    CHECK_AT(&t, 0x2040, "gamma", 0);
    CHECK_AT(&t, 0x2050, "label", 0);
    CHECK_AT(&t, 0x207f, "label", 0x2f);
    CHECK_AT(&t, 0x2085, "label", 0x35); /* the badly named entry is skipped */
    CHECK_AT(&t, 0x2090, "delta", 0);
    CHECK_AT(&t, 0x20a0, "sized2", 0);   /* sized beats a label */
    CHECK_AT(&t, 0x20af, "sized2", 0xf);
    CHECK_NONE(&t, 0x20b0);              /* sized2 says where the code ends */
    CHECK_AT(&t, 0x20cf, "epsilon", 0xf);
    CHECK_NONE(&t, 0x20d0);
    CHECK_NONE(&t, 0x3005);              /* unterminated name */
    CHECK_NONE(&t, 0xffffffff);

    CHECK_FIND(&t, "alpha", 0x2000);
    CHECK_FIND(&t, "sized2", 0x20a0);
    CHECK_FIND(&t, "epsilon", 0x20c0);
    CHECK_NO_FIND(&t, "tail");
    CHECK_NO_FIND(&t, "");
    CHECK_NO_FIND(&t, "alph");

    symtab_init_sorted(&t, table, 0, names, names_bytes);
    CHECK_EQ_U64(symtab_count(&t), 0);
    CHECK_NONE(&t, 0x2000);
    symtab_init_sorted(&t, table, N(src), names, 0);
    CHECK_EQ_U64(symtab_count(&t), 0);
    CHECK_NONE(&t, 0x2000);
    CHECK_NO_FIND(&t, "alpha");
    symtab_init_sorted(&t, NULL, 5, NULL, 5);
    CHECK_EQ_U64(t.count, 0);
    CHECK_NONE(&t, 0x2000);
    free(table);
    free(names);
}

/* The sorted table against a brute-force reading of the same entries, at
 * every address around them (entries sized and clipped as gensyms makes
 * them: none overlaps the next). */
static void test_sorted_model(void)
{
    enum { ENTRIES = 64 };
    struct ksym table[ENTRIES];
    char names[ENTRIES * 4];
    uint32_t addr = 0x100000;
    srand(7);
    for (uint32_t i = 0; i < ENTRIES; i++) {
        addr += (uint32_t)(rand() % 3) * 4; /* sometimes a gap */
        uint32_t size = 1 + (uint32_t)(rand() % 24);
        table[i] = (struct ksym){addr, size, i * 4};
        names[i * 4] = (char)('A' + i / 26);
        names[i * 4 + 1] = (char)('a' + i % 26);
        names[i * 4 + 2] = '\0';
        names[i * 4 + 3] = '\0';
        addr += size;
    }
    struct symtab t;
    symtab_init_sorted(&t, table, ENTRIES, names, sizeof(names));
    unsigned bad = 0;
    for (uint32_t a = 0x100000 - 8; a < addr + 8; a++) {
        int want = -1;
        for (int i = 0; i < ENTRIES; i++)
            if (a >= table[i].addr && a - table[i].addr < table[i].size)
                want = i;
        const char *name = NULL;
        uint32_t off = 0;
        bool got = symtab_lookup(&t, a, &name, &off);
        if (got != (want >= 0) ||
            (got && (name != names + want * 4 || off != a - table[want].addr)))
            bad++;
    }
    CHECK_EQ_U64(bad, 0);
}

int main(void)
{
    RUN(test_elf);
    RUN(test_elf_empty);
    RUN(test_sorted);
    RUN(test_sorted_model);
    return check_summary("symtab");
}
