/*
 * heap.c - the kernel's heap: heap_core over the heap area, backed by
 * mapped frames, locked, and loud about misuse (see heap.h).
 *
 * Every entry point takes the caller's return address as the allocation
 * site (named with the kernel's symbols in reports) and holds interrupts
 * off around the allocator: an interrupt handler may allocate too.
 *
 * Guarded blocks (kmalloc_guarded) do not come from the heap area but
 * from guarded ranges (guard.h); a small table here remembers them, so that
 * kfree can give them back and a fault in a guard page can name the block.
 */
#include "kernel/heap.h"
#include "kernel/config.h"
#include "kernel/format.h"
#include "kernel/guard.h"
#include "kernel/kstring.h"
#include "kernel/log.h"
#include "kernel/paging.h"
#include "kernel/panic.h"
#include "kernel/pmm.h"
#include "kernel/symbols.h"
#include "kernel/x86.h"

static struct heap heap;
static uint64_t misuse_reports;

/* ---- the page source: frames mapped into the heap area ----------------------- */

static bool back_pages(void *ctx, uintptr_t va, uint32_t pages)
{
    UNUSED(ctx);
    for (uint32_t i = 0; i < pages; i++) {
        if (paging_map_new(va + i * PAGE_SIZE, PTE_WRITABLE, TAG_HEAP) != PT_OK) {
            while (i-- > 0)
                paging_unmap_release(va + i * PAGE_SIZE);
            return false;
        }
    }
    return true;
}

static void release_pages(void *ctx, uintptr_t va, uint32_t pages)
{
    UNUSED(ctx);
    for (uint32_t i = 0; i < pages; i++)
        paging_unmap_release(va + i * PAGE_SIZE);
}

void kheap_init(void)
{
    static const struct heap_pages source = {back_pages, release_pages, NULL};
    struct heap_config config = {.debug = HEAP_DEBUG};
    if (!heap_init(&heap, KV_HEAP_START, KV_HEAP_END - KV_HEAP_START, &source, &config))
        panic("heap: cannot set up the heap at 0x%08x", KV_HEAP_START);
    log_info("heap", "at 0x%08x, up to %u MiB, %u size classes; debug checks %s",
             KV_HEAP_START, (KV_HEAP_END - KV_HEAP_START) >> 20, heap.class_count,
             HEAP_DEBUG ? "on" : "off");
}

const struct heap *kheap_core(void)
{
    return &heap;
}

/* ---- reports ------------------------------------------------------------------- */

static const char *site_name(uint32_t site, char *buf, size_t size)
{
    if (!site)
        return "an unknown caller (HEAP_DEBUG off)";
    symbols_format_return(site, buf, size);
    return buf;
}

/* One misuse, in two lines: what was done, from where; then the block. */
static void report_misuse(const char *what, uintptr_t ptr, const void *caller,
                          const struct heap_report *r)
{
    char who[48], site[48];
    misuse_reports++;
    symbols_format_return((uint32_t)caller, who, sizeof(who));
    if (strcmp(what, "kmalloc") == 0) /* found while handing out a slot */
        log_error("heap", "kmalloc from %s: %s, in the next slot", who,
                  heap_problem_str(r->problem));
    else
        log_error("heap", "%s(%p) from %s: %s", what, (void *)ptr, who,
                  heap_problem_str(r->problem));
    if (r->block) {
        const char *where = r->problem == HEAP_OVERFLOW || r->problem == HEAP_USE_AFTER_FREE
                                ? " at offset +"
                                : r->problem == HEAP_INTERIOR ? " (pointer is +" : NULL;
        char off[32] = "";
        if (where)
            ksnprintf(off, sizeof(off), "%s%u%s", where, (unsigned)r->offset,
                      r->problem == HEAP_INTERIOR ? " into it)" : "");
        if (r->site)
            log_error("heap", "  block 0x%08x%s: %u bytes, tag \"%s\", allocated by %s",
                      (unsigned)r->block, off, (unsigned)r->size, r->tag ? r->tag : "?",
                      site_name(r->site, site, sizeof(site)));
        else /* a free slot keeps no header; or debug is off */
            log_error("heap", "  block 0x%08x%s: %u-byte slot, tag \"%s\"%s", (unsigned)r->block,
                      off, (unsigned)r->size, r->tag ? r->tag : "?",
                      r->problem == HEAP_DOUBLE_FREE ? ", already freed" : "");
    }
    /* The detail adds to the problem's name, unless it only repeats it. */
    if (r->detail[0] && r->problem != HEAP_DOUBLE_FREE &&
        !strstr(heap_problem_str(r->problem), r->detail))
        log_error("heap", "  %s", r->detail);
    if (strcmp(what, "kmalloc") == 0)
        log_error("heap", "  (the slot was cleaned and handed out all the same)");
    if (strcmp(what, "kfree") == 0 || strcmp(what, "krealloc") == 0)
        log_error("heap", "  nothing was freed");
}

/* ---- guarded blocks ---------------------------------------------------------------- */

struct guarded_block {
    uintptr_t ptr, body;   /* the object; the first mapped byte */
    size_t size;
    uint32_t pages;
    const char *tag;
    uint32_t site;
};

static struct guarded_block guarded[GUARDED_RANGES_MAX];

static struct guarded_block *guarded_at(uintptr_t ptr)
{
    for (unsigned i = 0; i < GUARDED_RANGES_MAX; i++)
        if (guarded[i].ptr == ptr && guarded[i].body)
            return &guarded[i];
    return NULL;
}

void *kmalloc_guarded(size_t size, const char *tag)
{
    const void *caller = __builtin_return_address(0);
    if (size == 0 || size > (size_t)64 * PAGE_SIZE) {
        log_error("heap", "kmalloc_guarded(%u) from %p: guarded blocks are 1 byte to 256 KiB",
                  (unsigned)size, caller);
        return NULL;
    }
    uint32_t flags = irq_save();
    struct guarded_block *g = guarded_at(0);
    for (unsigned i = 0; i < GUARDED_RANGES_MAX && !g; i++)
        if (!guarded[i].body)
            g = &guarded[i];
    uint32_t pages = (uint32_t)((size + PAGE_SIZE - 1) / PAGE_SIZE);
    vaddr_t body = g ? guard_alloc(pages, TAG_HEAP, VM_HEAP, "a kmalloc_guarded block") : 0;
    if (body) {
        /* The object ends exactly where the upper guard page begins. */
        *g = (struct guarded_block){body + pages * PAGE_SIZE - size, body, size, pages,
                                    tag ? tag : "kmalloc", (uint32_t)caller};
        memset((void *)body, HEAP_REDZONE, pages * PAGE_SIZE - size);
    }
    irq_restore(flags);
    if (!body) {
        log_error("heap", "kmalloc_guarded(%u) from %p: %s", (unsigned)size, caller,
                  g ? "no guarded range (see the guard log line)" : "too many guarded blocks");
        return NULL;
    }
    return (void *)g->ptr;
}

/* Free a guarded block; false when ptr is not one. */
static bool free_guarded(uintptr_t ptr, const void *caller)
{
    if (ptr < KV_GUARDED_START || ptr >= KV_GUARDED_END)
        return false;
    struct guarded_block *g = guarded_at(ptr);
    if (!g) {
        struct heap_report r = {.problem = HEAP_BAD_POINTER, .pointer = ptr};
        ksnprintf(r.detail, sizeof(r.detail), "not a live kmalloc_guarded block (freed twice, or "
                                              "never one)");
        report_misuse("kfree", ptr, caller, &r);
        return true;
    }
    /* The bytes below the object on its first page must be untouched. */
    const uint8_t *p = (const uint8_t *)g->body;
    for (size_t i = 0; i < g->ptr - g->body; i++) {
        if (p[i] != HEAP_REDZONE) {
            struct heap_report r = {.problem = HEAP_OVERFLOW, .pointer = ptr, .block = g->ptr,
                                    .size = g->size, .tag = g->tag, .site = g->site};
            r.offset = (size_t)(g->body + i - g->ptr); /* negative: an underflow */
            ksnprintf(r.detail, sizeof(r.detail), "the padding before the block was written "
                                                  "(an underflow, %d bytes before it)",
                      (int)(g->body + i) - (int)g->ptr);
            report_misuse("kfree", ptr, caller, &r);
            break;
        }
    }
    guard_free(g->body);
    g->body = 0;
    g->ptr = 0;
    return true;
}

/* ---- the contract and its friends ------------------------------------------------- */

static void *alloc(size_t size, size_t align, const char *tag, const void *caller)
{
    struct heap_report r = {0};
    uint32_t flags = irq_save();
    void *p = align ? heap_alloc_aligned(&heap, size, align, tag, (uint32_t)caller, &r)
                    : heap_alloc(&heap, size, tag, (uint32_t)caller, &r);
    irq_restore(flags);
    if (r.problem == HEAP_USE_AFTER_FREE)
        report_misuse("kmalloc", (uintptr_t)p, caller, &r);
    else if (!p) {
        char who[48];
        symbols_format_return((uint32_t)caller, who, sizeof(who));
        log_error("heap", "kmalloc(%u%s) from %s: %s", (unsigned)size, align ? ", aligned" : "",
                  who, heap_problem_str(r.problem));
    }
    else
        TRACE_FROM(TRACE_HEAP, caller, "kmalloc %u -> %p tag %s", (unsigned)size, p,
                   tag ? tag : "kmalloc");
    return p;
}

void *kmalloc(size_t size)
{
    return alloc(size, 0, NULL, __builtin_return_address(0));
}

void *kmalloc_tagged(size_t size, const char *tag)
{
    return alloc(size, 0, tag, __builtin_return_address(0));
}

void *kmalloc_aligned(size_t size, size_t align)
{
    return alloc(size, align, NULL, __builtin_return_address(0));
}

void *kcalloc(size_t n, size_t size)
{
    const void *caller = __builtin_return_address(0);
    if (size && n > SIZE_MAX / size) {
        char who[48];
        symbols_format_return((uint32_t)caller, who, sizeof(who));
        log_error("heap", "kcalloc(%u, %u) from %s: the product overflows", (unsigned)n,
                  (unsigned)size, who);
        return NULL;
    }
    void *p = alloc(n * size, 0, NULL, caller);
    if (p)
        memset(p, 0, n * size);
    return p;
}

void kfree(void *ptr)
{
    const void *caller = __builtin_return_address(0);
    if (!ptr)
        return;
    uint32_t flags = irq_save();
    if (free_guarded((uintptr_t)ptr, caller)) {
        irq_restore(flags);
        return;
    }
    struct heap_report r = {0};
    bool ok = heap_free(&heap, ptr, &r);
    irq_restore(flags);
    if (!ok)
        report_misuse("kfree", (uintptr_t)ptr, caller, &r);
    else
        TRACE_FROM(TRACE_HEAP, caller, "kfree %p", ptr);
}

void *krealloc(void *ptr, size_t size)
{
    const void *caller = __builtin_return_address(0);
    struct heap_report r = {0};
    uint32_t flags = irq_save();
    void *p = heap_realloc(&heap, ptr, size, (uint32_t)caller, &r);
    irq_restore(flags);
    if (!p && r.problem != HEAP_OK)
        report_misuse("krealloc", (uintptr_t)ptr, caller, &r);
    return p;
}

/* ---- looking at it ------------------------------------------------------------------ */

bool kheap_check(struct heap_report *r)
{
    uint32_t flags = irq_save();
    bool ok = heap_check(&heap, r);
    irq_restore(flags);
    return ok;
}

void kheap_get_stats(struct kheap_stats *out)
{
    uint32_t flags = irq_save();
    heap_get_stats(&heap, &out->core);
    out->guarded_blocks = out->guarded_bytes = out->guarded_pages = 0;
    for (unsigned i = 0; i < GUARDED_RANGES_MAX; i++) {
        if (!guarded[i].body)
            continue;
        out->guarded_blocks++;
        out->guarded_bytes += guarded[i].size;
        out->guarded_pages += guarded[i].pages;
    }
    out->misuse_reports = misuse_reports;
    irq_restore(flags);
}

static void guarded_info(const struct guarded_block *g, struct heap_block_info *b)
{
    *b = (struct heap_block_info){.in_heap = false, .live = true, .block = g->ptr,
                                  .size = g->size, .slot = g->pages * PAGE_SIZE, .tag = g->tag,
                                  .site = g->site, .what = "guarded block"};
}

void kheap_for_each_block(void (*fn)(void *ctx, const struct heap_block_info *b), void *ctx)
{
    heap_for_each_block(&heap, fn, ctx);
    for (unsigned i = 0; i < GUARDED_RANGES_MAX; i++) {
        if (!guarded[i].body)
            continue;
        struct heap_block_info b;
        guarded_info(&guarded[i], &b);
        fn(ctx, &b);
    }
}

/* kheap_block_info - see heap.h. */
void kheap_block_info(uintptr_t addr, struct heap_block_info *out)
{
    heap_describe(&heap, addr, out);
}

/* kheap_describe - see heap.h. */
bool kheap_describe(uintptr_t addr, char *buf, size_t size)
{
    char site[48];
    for (unsigned i = 0; i < GUARDED_RANGES_MAX; i++) {
        const struct guarded_block *g = &guarded[i];
        if (!g->body)
            continue;
        uintptr_t end = g->body + g->pages * PAGE_SIZE;
        const char *where = addr >= end && addr < end + PAGE_SIZE ? "the guard page right after"
                            : addr < g->body && addr + PAGE_SIZE >= g->body
                                ? "the guard page right before"
                            : addr >= g->body && addr < end ? "inside"
                                                            : NULL;
        if (!where)
            continue;
        ksnprintf(buf, size, "%s the guarded %u-byte block at 0x%08x (tag %s, allocated by %s)",
                  where, (unsigned)g->size, (unsigned)g->ptr, g->tag,
                  site_name(g->site, site, sizeof(site)));
        return true;
    }
    if (addr < heap.base || addr - heap.base >= heap.size)
        return false;
    struct heap_block_info b;
    heap_describe(&heap, addr, &b);
    if (b.live)
        ksnprintf(buf, size, "inside the %u-byte heap block at 0x%08x (+%u; tag %s, allocated by "
                             "%s)",
                  (unsigned)b.size, (unsigned)b.block, (unsigned)(addr - b.block), b.tag,
                  site_name(b.site, site, sizeof(site)));
    else
        ksnprintf(buf, size, "heap area: %s", b.what ? b.what : "not in use");
    return true;
}
