/*
 * cmd_heap.c - the kernel heap from the keyboard: kmalloc, kfree, heap
 * (totals, blocks, check, leaks) and demonstrations of each misuse the
 * heap catches (heap overflow, uaf, doublefree, guard).
 *
 * Blocks allocated here are real kernel heap blocks; the demonstrations
 * misuse them on purpose and then show the report the heap prints.
 */
#include "kernel/console.h"
#include "kernel/format.h"
#include "kernel/heap.h"
#include "kernel/kstring.h"
#include "kernel/shell.h"
#include "kernel/symbols.h"

/* Tags typed at the shell need a static home (the heap keeps the pointer). */
#define SHELL_TAGS 12
static char tag_store[SHELL_TAGS][16];

static const char *intern_tag(const char *name)
{
    for (unsigned i = 0; i < SHELL_TAGS; i++)
        if (strcmp(tag_store[i], name) == 0)
            return tag_store[i];
    for (unsigned i = 0; i < SHELL_TAGS; i++) {
        if (tag_store[i][0] == '\0') {
            kstrlcpy(tag_store[i], name, sizeof(tag_store[i]));
            return tag_store[i];
        }
    }
    return NULL;
}

static bool arg_tag(const char *arg, const char **tag)
{
    size_t n = strlen(arg);
    if (n == 0 || n >= sizeof(tag_store[0])) {
        shell_error("a tag is 1 to %u characters", (unsigned)sizeof(tag_store[0]) - 1);
        return false;
    }
    *tag = intern_tag(arg);
    if (!*tag) {
        shell_error("the shell keeps at most %u tags; reuse one", SHELL_TAGS);
        return false;
    }
    return true;
}

static bool arg_block(const char *arg, uintptr_t *out)
{
    uint64_t v;
    if (!shell_arg_u64(arg, "address", 0, 0xffffffffu, &v))
        return false;
    *out = (uintptr_t)v;
    return true;
}

/* Describes the live block holding addr, or says there is none. */
static bool live_block(uintptr_t addr, struct heap_block_info *b)
{
    kheap_block_info(addr, b);
    return b->live;
}

/* ---- kmalloc / kfree ------------------------------------------------------------ */

static int cmd_kmalloc(int argc, char **argv)
{
    uint64_t size;
    const char *tag = "shell";
    if (!shell_arg_size(argv[1], "size", 0, 64ull << 20, &size))
        return CMD_FAILED;
    if (argc == 3 && !arg_tag(argv[2], &tag))
        return CMD_FAILED;
    void *p = kmalloc_tagged((size_t)size, tag);
    if (!p)
        return CMD_FAILED; /* the heap said why */
    struct heap_block_info b;
    live_block((uintptr_t)p, &b);
    kprintf("kmalloc: %u bytes at %p (tag %s), %u taken: %s\n", (unsigned)size, p, tag,
            (unsigned)b.slot, b.what);
    return CMD_OK;
}

static int cmd_kfree(int argc, char **argv)
{
    UNUSED(argc);
    uintptr_t addr;
    if (!arg_block(argv[1], &addr))
        return CMD_FAILED;
    struct kheap_stats before, after;
    kheap_get_stats(&before);
    kfree((void *)addr);
    kheap_get_stats(&after);
    if (after.misuse_reports != before.misuse_reports)
        return CMD_FAILED; /* the heap reported it */
    kprintf("kfree: 0x%08x freed\n", (unsigned)addr);
    return CMD_OK;
}

/* ---- heap: totals, blocks, check, leaks ----------------------------------------- */

struct tag_total {
    const char *tag;
    uint32_t blocks;
    size_t bytes;
    uint32_t site; /* for leaks: one site per row */
};

struct totals {
    struct tag_total rows[24];
    unsigned count, dropped;
    bool by_site;
};

static void add_block(void *ctx, const struct heap_block_info *b)
{
    struct totals *t = ctx;
    for (unsigned i = 0; i < t->count; i++) {
        struct tag_total *row = &t->rows[i];
        if (strcmp(row->tag, b->tag) == 0 && (!t->by_site || row->site == b->site)) {
            row->blocks++;
            row->bytes += b->size;
            return;
        }
    }
    if (t->count == sizeof(t->rows) / sizeof(t->rows[0])) {
        t->dropped++;
        return;
    }
    t->rows[t->count++] = (struct tag_total){b->tag, 1, b->size, b->site};
}

static void heap_totals(void)
{
    struct kheap_stats s;
    char live[16], held[16], free_slots[16], free_pages[16];
    kheap_get_stats(&s);
    const struct heap_stats *c = &s.core;
    format_size(live, sizeof(live), c->live_bytes);
    format_size(held, sizeof(held), (uint64_t)c->backed_pages * 4096);
    format_size(free_slots, sizeof(free_slots), c->free_slot_bytes);
    format_size(free_pages, sizeof(free_pages), (uint64_t)c->free_backed_pages * 4096);
    kprintf("heap: 0x%08x.., %s held in %u pages (page map %u); debug checks %s\n",
            (unsigned)kheap_core()->base, held, (unsigned)c->backed_pages,
            (unsigned)c->map_pages, kheap_core()->config.debug ? "on" : "off");
    kprintf("  in use    %u blocks, %s requested (%u bytes in slots and runs)\n",
            (unsigned)c->live_blocks, live, (unsigned)c->slot_bytes);
    kprintf("  free      %s in free slots of %u slabs, %s in free pages kept mapped\n",
            free_slots, (unsigned)c->slabs, free_pages);
    size_t overhead = (size_t)c->backed_pages * 4096 - c->live_bytes;
    kprintf("  overhead  %u bytes (%u.%u%% of what is held): rounding, headers, free space\n",
            (unsigned)overhead,
            c->backed_pages ? (unsigned)(overhead * 100 / (c->backed_pages * 4096)) : 0,
            c->backed_pages ? (unsigned)(overhead * 1000 / (c->backed_pages * 4096) % 10) : 0);
    kprintf("  fragmentation %u%%: the share of free memory held in partly used slabs\n",
            heap_fragmentation(c));
    kprintf("  since boot %llu allocations, %llu frees, %llu failed, %llu misuse reports\n",
            c->allocs, c->frees, c->failed_allocs, s.misuse_reports);
    if (s.guarded_blocks)
        kprintf("  guarded   %u blocks, %u bytes on %u pages (between guard pages)\n",
                (unsigned)s.guarded_blocks, (unsigned)s.guarded_bytes,
                (unsigned)s.guarded_pages);
    struct totals t = {.by_site = false};
    kheap_for_each_block(add_block, &t);
    kprintf("  by tag:");
    for (unsigned i = 0; i < t.count; i++)
        kprintf(" %s %u (%u B)", t.rows[i].tag, t.rows[i].blocks, (unsigned)t.rows[i].bytes);
    kprintf(t.count ? "\n" : " (no blocks)\n");
}

struct listing {
    unsigned shown, total;
};

static void list_block(void *ctx, const struct heap_block_info *b)
{
    struct listing *l = ctx;
    char site[48] = "?";
    if (l->total++ >= 18)
        return;
    if (b->site)
        symbols_format_return(b->site, site, sizeof(site));
    kprintf("  0x%08x %8u %-10s %-22s %s\n", (unsigned)b->block, (unsigned)b->size, b->tag,
            b->site ? site : "(no site: debug off)", b->what);
    l->shown++;
}

static void heap_blocks(void)
{
    struct listing l = {0, 0};
    kprintf("  address      size tag        allocated by           kind\n");
    kheap_for_each_block(list_block, &l);
    if (l.total > l.shown)
        kprintf("  ... and %u more (`heap leaks` groups them)\n", l.total - l.shown);
    else if (l.total == 0)
        kprintf("  (no live blocks)\n");
}

static void heap_leaks(void)
{
    struct totals t = {.by_site = true};
    kheap_for_each_block(add_block, &t);
    if (t.count == 0) {
        kprintf("no live blocks: nothing leaked\n");
        return;
    }
    kprintf("live blocks by tag and allocation site:\n");
    for (unsigned i = 0; i < t.count; i++) {
        char site[48] = "(unknown: debug off)";
        if (t.rows[i].site)
            symbols_format_return(t.rows[i].site, site, sizeof(site));
        kprintf("  %-10s %-28s %5u blocks %9u bytes\n", t.rows[i].tag, site, t.rows[i].blocks,
                (unsigned)t.rows[i].bytes);
    }
    if (t.dropped)
        kprintf("  (%u more blocks in groups that did not fit the table)\n", t.dropped);
}

static int heap_check_cmd(void)
{
    struct heap_report r;
    memset(&r, 0, sizeof(r));
    if (kheap_check(&r)) {
        struct kheap_stats s;
        kheap_get_stats(&s);
        kprintf("heap check: every invariant holds (%u blocks, %u slabs, %u pages)\n",
                (unsigned)s.core.live_blocks, (unsigned)s.core.slabs,
                (unsigned)s.core.backed_pages);
        return CMD_OK;
    }
    shell_error("%s at 0x%08x%s%s", heap_problem_str(r.problem), (unsigned)r.pointer,
                r.detail[0] ? ": " : "", r.detail);
    if (r.block) {
        char site[48] = "?";
        if (r.site)
            symbols_format_return(r.site, site, sizeof(site));
        kprintf("  block 0x%08x: %u bytes, tag %s, allocated by %s; offset +%u\n",
                (unsigned)r.block, (unsigned)r.size, r.tag ? r.tag : "?", site,
                (unsigned)r.offset);
    }
    return CMD_FAILED;
}

/* ---- the misuse demonstrations ---------------------------------------------------- */
/* (noinline: the reports name the function that misused the heap, and a
 * class should see demo_uaf there, not cmd_heap) */

__attribute__((noinline)) static int demo_overflow(int argc, char **argv)
{
    uintptr_t addr;
    uint64_t n;
    struct heap_block_info b;
    if (argc != 4) {
        shell_error("say which block and how many bytes: heap overflow <addr> <n>");
        return CMD_USAGE;
    }
    if (!arg_block(argv[2], &addr) || !shell_arg_u64(argv[3], "byte count", 1, 64, &n))
        return CMD_FAILED;
    if (!live_block(addr, &b) || b.block != addr) {
        shell_error("0x%08x is not the start of a live heap block (see `heap blocks`)",
                    (unsigned)addr);
        return CMD_FAILED;
    }
    memset((void *)(addr + b.size), 'A', (size_t)n);
    kprintf("wrote %u bytes of 'A' right after the %u-byte block at 0x%08x.\n", (unsigned)n,
            (unsigned)b.size, (unsigned)addr);
    kprintf("`heap check` or `kfree 0x%08x` will report it%s.\n", (unsigned)addr,
            kheap_core()->config.debug ? "" : " (only with HEAP_DEBUG on: it is off)");
    return CMD_OK;
}

__attribute__((noinline)) static int demo_redzone(void)
{
    kprintf("kmalloc(32) (tag demo), write 4 bytes past its end, then kfree it:\n");
    char *p = kmalloc_tagged(32, "demo");
    if (!p)
        return CMD_FAILED;
    memset(p + 32, 'R', 4); /* the bug: into the red zone after the block */
    kprintf("   wrote 'RRRR' at 0x%08x, just past the block at 0x%08x\n",
            (unsigned)(uintptr_t)(p + 32), (unsigned)(uintptr_t)p);
    if (!kheap_core()->config.debug)
        kprintf("   (HEAP_DEBUG is off: no red zones, nothing will notice)\n");
    kfree(p);
    return CMD_OK;
}

__attribute__((noinline)) static int demo_uaf(void)
{
    kprintf("1. kmalloc(40) (tag demo), 2. kfree it, 3. write to it, 4. kmalloc(40) again:\n");
    char *p = kmalloc_tagged(40, "demo");
    if (!p)
        return CMD_FAILED;
    kfree(p);
    p[8] = 'X'; /* the bug: the block is free */
    kprintf("   wrote 'X' at 0x%08x + 8 after freeing it\n", (unsigned)(uintptr_t)p);
    char *q = kmalloc_tagged(40, "demo");
    kprintf("   the new block: 0x%08x%s\n", (unsigned)(uintptr_t)q,
            q == p ? ", the same slot (checked before it was handed out)" : "");
    kfree(q);
    return CMD_OK;
}

__attribute__((noinline)) static int demo_doublefree(void)
{
    kprintf("kmalloc(24) (tag demo), kfree it, then kfree it again:\n");
    void *p = kmalloc_tagged(24, "demo");
    if (!p)
        return CMD_FAILED;
    kfree(p);
    kfree(p);
    return CMD_OK;
}

static void *guard_demo;

__attribute__((noinline)) static int demo_guard(void)
{
    if (guard_demo) { /* the block of the previous run, which faulted */
        kfree(guard_demo);
        guard_demo = NULL;
    }
    char *p = kmalloc_guarded(100, "demo");
    if (!p)
        return CMD_FAILED;
    guard_demo = p;
    kprintf("kmalloc_guarded(100) = 0x%08x, last byte 0x%08x; the next page is a guard.\n",
            (unsigned)(uintptr_t)p, (unsigned)(uintptr_t)(p + 99));
    memset(p, 'g', 100);
    kprintf("wrote all 100 bytes; now one more, at 0x%08x:\n", (unsigned)(uintptr_t)(p + 100));
    p[100] = 'g'; /* faults: the report names this block */
    kprintf("no fault?\n");
    return CMD_FAILED;
}

static int cmd_heap(int argc, char **argv)
{
    if (argc == 1) {
        heap_totals();
        return CMD_OK;
    }
    const char *what = argv[1];
    if (strcmp(what, "overflow") == 0)
        return demo_overflow(argc, argv);
    if (argc > 2) {
        shell_error("'heap %s' takes no more arguments", what);
        return CMD_USAGE;
    }
    if (strcmp(what, "blocks") == 0)
        heap_blocks();
    else if (strcmp(what, "check") == 0)
        return heap_check_cmd();
    else if (strcmp(what, "leaks") == 0)
        heap_leaks();
    else if (strcmp(what, "uaf") == 0)
        return demo_uaf();
    else if (strcmp(what, "redzone") == 0)
        return demo_redzone();
    else if (strcmp(what, "doublefree") == 0)
        return demo_doublefree();
    else if (strcmp(what, "guard") == 0)
        return demo_guard();
    else {
        shell_error("no view or demonstration '%s' (blocks, check, leaks, overflow, redzone, "
                    "uaf, doublefree, guard)",
                    what);
        return CMD_USAGE;
    }
    return CMD_OK;
}

static const struct shell_command heap_commands[] = {
    {"kmalloc", "<size> [tag]", "allocate a heap block (sizes as 100, 4K, 0x40)", 1, 2,
     cmd_kmalloc},
    {"kfree", "<addr>", "free a heap block", 1, 1, cmd_kfree},
    {"heap", "[blocks|check|leaks|overflow <addr> <n>|redzone|uaf|doublefree|guard]",
     "the heap: totals, blocks, check, leaks, misuse demonstrations", 0, 3, cmd_heap},
};

void heap_commands_register(void)
{
    shell_register(heap_commands, ARRAY_SIZE(heap_commands));
}
