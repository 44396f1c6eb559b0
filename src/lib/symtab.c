/*
 * symtab.c - find the function that contains an address, by name or back.
 *
 * Pure: the tables come in as pointers and byte counts (see symbols.h), so
 * the host tests run this file unchanged on tables they build by hand.
 * Both kinds of table are read through one accessor, entry(), which hands
 * back {start, size, name, global} for entry i or says that entry i does
 * not name a function.  Every name is checked before it is returned: its
 * offset lies inside the string table and a NUL comes before the table
 * ends.  A symbol table written by a boot loader (or corrupted since) is
 * data, not a promise.
 *
 * An ELF symbol table is not sorted, so its lookups are a linear scan (a
 * few hundred entries, only when something is being named).  The built-in
 * table is sorted by address, so a binary search finds the entries that
 * start highest at or below the address; the generator clips every entry
 * to end where the next one starts, so no other entry can cover it.
 */
#include "kernel/kstring.h"
#include "kernel/symbols.h"

struct sym_view {
    uint32_t start;
    uint32_t size; /* 0: a label, covering up to the next symbol */
    const char *name;
    bool global;
};

/* The NUL-terminated name at offset off, or NULL if it is empty or runs
 * off the end of the string table (or starts past it). */
static const char *name_at(const struct symtab *t, uint32_t off)
{
    if (off >= t->str_bytes)
        return NULL;
    const char *s = t->strs + off;
    uint32_t room = t->str_bytes - off;
    if (s[0] == '\0' || strnlen(s, room) == room)
        return NULL;
    return s;
}

/* Entry i as a function symbol; false if it is not one or its name is bad.
 * ELF entries are copied out byte by byte: GRUB's table need not be
 * aligned for our struct, and reading it through a cast would be UB. */
static bool entry(const struct symtab *t, uint32_t i, struct sym_view *v)
{
    if (t->kind == SYMTAB_ELF) {
        struct elf32_sym s;
        memcpy(&s, (const char *)t->syms + (size_t)i * sizeof(s), sizeof(s));
        unsigned type = ELF32_ST_TYPE(s.st_info);
        if ((type != STT_FUNC && type != STT_NOTYPE) || s.st_shndx == SHN_UNDEF ||
            s.st_shndx >= SHN_LORESERVE)
            return false;
        v->start = s.st_value;
        v->size = s.st_size;
        v->global = ELF32_ST_BIND(s.st_info) != STB_LOCAL; /* global or weak */
        v->name = name_at(t, s.st_name);
    } else if (t->kind == SYMTAB_SORTED) {
        const struct ksym *k = (const struct ksym *)t->syms + i;
        v->start = k->addr;
        v->size = k->size;
        v->global = true; /* the generator kept one name per address */
        v->name = name_at(t, k->name);
    } else {
        return false;
    }
    return v->name != NULL;
}

/* The highest start of any function symbol at or below an address, and
 * whether a symbol with a size starts there. */
struct top {
    uint32_t start;
    bool sized;
};

/* Does v cover addr?  A label covers addr only if nothing starts between
 * it and addr, and no symbol with a size starts where it does (that one
 * says where the code ends; the padding after it belongs to nobody). */
static bool covers(const struct sym_view *v, uint32_t addr, const struct top *top)
{
    if (v->start > addr)
        return false;
    if (v->size == 0)
        return v->start == top->start && !top->sized;
    return addr - v->start < v->size; /* no overflow near 4 GiB */
}

/* The tie rules of symtab_lookup: higher start, then sized, then global. */
static bool better(const struct sym_view *a, const struct sym_view *b)
{
    if (a->start != b->start)
        return a->start > b->start;
    if ((a->size != 0) != (b->size != 0))
        return a->size != 0;
    return a->global && !b->global;
}

static void init(struct symtab *t, enum symtab_kind kind, const void *syms, uint32_t count,
                 const char *strs, uint32_t str_bytes)
{
    t->kind = kind;
    t->syms = syms;
    t->count = syms ? count : 0;
    t->strs = strs;
    t->str_bytes = strs ? str_bytes : 0;
    t->functions = 0;
    struct sym_view v;
    for (uint32_t i = 0; i < t->count; i++)
        if (entry(t, i, &v))
            t->functions++;
}

void symtab_init_elf(struct symtab *t, const void *syms, uint32_t sym_bytes, const char *strs,
                     uint32_t str_bytes)
{
    init(t, SYMTAB_ELF, syms, sym_bytes / (uint32_t)sizeof(struct elf32_sym), strs, str_bytes);
}

void symtab_init_sorted(struct symtab *t, const struct ksym *table, uint32_t count,
                        const char *names, uint32_t names_bytes)
{
    init(t, SYMTAB_SORTED, table, count, names, names_bytes);
}

uint32_t symtab_count(const struct symtab *t)
{
    return t->functions;
}

/* Among entries [lo, hi), the best one covering addr. */
static bool best_in(const struct symtab *t, uint32_t lo, uint32_t hi, uint32_t addr,
                    const struct top *top, struct sym_view *best)
{
    bool found = false;
    struct sym_view v;
    for (uint32_t i = lo; i < hi; i++)
        if (entry(t, i, &v) && covers(&v, addr, top) && (!found || better(&v, best))) {
            *best = v;
            found = true;
        }
    return found;
}

/* ELF: one pass for the highest start at or below addr, one for the best
 * symbol covering addr. */
static bool lookup_elf(const struct symtab *t, uint32_t addr, struct sym_view *best)
{
    bool any = false;
    struct top top = {0, false};
    struct sym_view v;
    for (uint32_t i = 0; i < t->count; i++) {
        if (!entry(t, i, &v) || v.start > addr)
            continue;
        if (!any || v.start > top.start)
            top = (struct top){v.start, false};
        top.sized |= v.start == top.start && v.size != 0;
        any = true;
    }
    return any && best_in(t, 0, t->count, addr, &top, best);
}

/* Sorted: the run of entries sharing the highest start <= addr.  Entries
 * with bad names are skipped over, as the ELF scan skips them. */
static bool lookup_sorted(const struct symtab *t, uint32_t addr, struct sym_view *best)
{
    const struct ksym *k = t->syms;
    uint32_t lo = 0, hi = t->count; /* first entry starting above addr */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (k[mid].addr <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    struct sym_view v;
    while (lo > 0) {
        uint32_t end = lo;
        struct top top = {k[lo - 1].addr, false};
        while (lo > 0 && k[lo - 1].addr == top.start)
            lo--;
        bool named = false;
        for (uint32_t i = lo; i < end; i++)
            if (entry(t, i, &v)) {
                named = true;
                top.sized |= v.size != 0;
            }
        if (named)
            return best_in(t, lo, end, addr, &top, best);
    }
    return false;
}

bool symtab_lookup(const struct symtab *t, uint32_t addr, const char **name, uint32_t *offset)
{
    struct sym_view best;
    bool found = t->kind == SYMTAB_ELF      ? lookup_elf(t, addr, &best)
                 : t->kind == SYMTAB_SORTED ? lookup_sorted(t, addr, &best)
                                            : false;
    if (!found)
        return false;
    if (name)
        *name = best.name;
    if (offset)
        *offset = addr - best.start;
    return true;
}

bool symtab_find(const struct symtab *t, const char *name, uint32_t *addr)
{
    bool found = false;
    struct sym_view v;
    for (uint32_t i = 0; i < t->count; i++) {
        if (!entry(t, i, &v) || strcmp(v.name, name) != 0)
            continue;
        if (!found || v.global) {
            *addr = v.start;
            found = true;
        }
        if (v.global)
            return true;
    }
    return found;
}
