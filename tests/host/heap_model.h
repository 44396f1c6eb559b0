/*
 * heap_model.h - a model of the heap's live blocks, for the tests that
 * drive the heap (heap_core.h) with long sequences of operations.
 *
 * Shared by the model-based random test (test_heap_model.c: operations
 * from a seeded PRNG) and the fuzz target (tests/fuzz/fuzz_heap.c: from
 * the fuzzer's bytes); each keeps its own operations and their mix.  The
 * checks of the heap against this model are heap_model_check.h.
 *
 * The model is the set of live blocks: address, size, alignment, tag,
 * site and a pattern id (heap_arena.h) for the bytes that fill it.  A map
 * with an entry per 16-byte granule of the arena names the block covering
 * it, so overlap and "which block is at this address" cost O(size / 16).
 * live[] lists the blocks in the order the operations pick them from (a
 * free moves the last one into the hole: the fuzzer's inputs depend on
 * that order).  The page source is the arena, hooked so that a page handed
 * back while a live block is on it (but the one being freed) is an error.
 *
 * Every check is counted; a failure prints what happened and aborts (the
 * fuzzer wants a crash).
 */
#ifndef TESTS_HEAP_MODEL_H
#define TESTS_HEAP_MODEL_H

#include "heap_arena.h"
#include "model_expect.h"

#define GRANULE 16u
#define MODEL_TAGS_MAX 64u
#define BIT(p) (1u << (p))
#define MISUSE (BIT(HEAP_DOUBLE_FREE) | BIT(HEAP_BAD_POINTER) | BIT(HEAP_INTERIOR))
#define GONE (BIT(HEAP_BAD_POINTER) | BIT(HEAP_DOUBLE_FREE)) /* a page not backed */

typedef unsigned long long ull;

struct block {
    uintptr_t p;
    size_t size, align;
    uint32_t id, site, pos; /* pos: its index in live[] */
    uint8_t tag;
};

struct heap_model {
    struct heap heap;
    struct arena src;
    bool debug;
    const char *who;              /* names the program in a failure */
    void (*context)(FILE *f);     /* more of where a failure happened (NULL: none) */
    unsigned long ops, checks, full_checks;
    char last[256];               /* the operation being checked */

    struct block *blocks;         /* [1, max_live]: 0 means "none" in owner[] */
    uint32_t max_live;
    uint32_t *live, nlive;
    uint32_t *free_ids, nfree_ids;
    uint32_t *owner;              /* per granule of the arena: the live block there */
    uint32_t freeing;             /* the block being freed or reallocated: its pages may go */
    size_t bytes;                 /* requested bytes of the live blocks */
    uint32_t next_id;

    const char *const *tag_names; /* [0] is NULL ("kmalloc") */
    uint32_t tag_order[MODEL_TAGS_MAX]; /* distinct tags the heap saw before this one, or ~0 */
    uint32_t tags_tried;
    const char *tag_seen[MODEL_TAGS_MAX]; /* the name the heap gave each tag */
};

static void model_fail(struct heap_model *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

static void model_fail(struct heap_model *m, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: FAILED at operation %lu (debug %s", m->who, m->ops,
            m->debug ? "on" : "off");
    if (m->context)
        m->context(stderr);
    fprintf(stderr, ")\n  ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    if (m->last[0])
        fprintf(stderr, "  operation: %s\n", m->last);
    abort();
}

#define EXPECT(cond, ...) MODEL_EXPECT(m, cond, __VA_ARGS__) /* with a `m` in scope */

static inline const char *pname(enum heap_problem p)
{
    const char *s = (unsigned)p <= HEAP_CORRUPT ? heap_problem_str(p) : NULL;
    return s ? s : "(no name)";
}

/* Writes one byte past ASan: the debug checks are tested by breaking them. */
__attribute__((no_sanitize("address"))) static inline uint8_t poke(uintptr_t a, uint8_t v)
{
    volatile uint8_t *q = (volatile uint8_t *)a;
    uint8_t old = *q;
    *q = v;
    return old;
}

/* ---- the model's life -------------------------------------------------------------- */

static inline void model_complain(void *ctx, const char *what)
{
    model_fail(ctx, "the page source's contract: %s", what);
}

/* A page handed back must hold no live block but the one being freed. */
static inline void model_releasing(void *ctx, uintptr_t va, uint32_t pages)
{
    struct heap_model *m = ctx;
    const uint32_t *o = m->owner + (va - m->src.base) / GRANULE;
    for (size_t g = 0; g < (size_t)pages * (HEAP_PAGE / GRANULE); g++)
        EXPECT(o[g] == 0 || o[g] == m->freeing,
               "release(0x%llx, %u): live block 0x%llx (%zu bytes) is on those pages", (ull)va,
               pages, (ull)m->blocks[o[g]].p, m->blocks[o[g]].size);
}

/* An arena of arena_pages, room for max_live blocks, tags from names[]. */
static inline void model_open(struct heap_model *m, const char *who, uint32_t arena_pages,
                              uint32_t max_live, const char *const *names, uint32_t tags)
{
    if (tags > MODEL_TAGS_MAX)
        abort();
    m->who = who;
    arena_open(&m->src, arena_pages);
    m->src.complain = model_complain;
    m->src.releasing = model_releasing;
    m->src.ctx = m;
    m->max_live = max_live;
    m->blocks = calloc(max_live + 1, sizeof(struct block));
    m->live = calloc(max_live, sizeof(uint32_t));
    m->free_ids = calloc(max_live, sizeof(uint32_t));
    m->owner = calloc((size_t)arena_pages * (HEAP_PAGE / GRANULE), sizeof(uint32_t));
    if (!m->blocks || !m->live || !m->free_ids || !m->owner)
        abort();
    m->next_id = 1;
    m->tag_names = names;
}

static inline void model_close(struct heap_model *m)
{
    arena_close(&m->src);
    free(m->blocks);
    free(m->live);
    free(m->free_ids);
    free(m->owner);
}

static inline size_t gran_first(const struct heap_model *m, const struct block *b)
{
    return (b->p - m->src.base) / GRANULE;
}

static inline size_t gran_end(const struct heap_model *m, const struct block *b)
{
    return (b->p + (b->size ? b->size : 1) - 1 - m->src.base) / GRANULE + 1; /* size 0: one */
}

/* No block, no tag seen, a fresh range of `pages` (heap_init is the
 * caller's); the pattern ids go on. */
static inline void model_reset(struct heap_model *m, bool debug, uint32_t pages)
{
    m->debug = debug;
    arena_reset(&m->src, pages);
    for (uint32_t k = 0; k < m->nlive; k++) {
        const struct block *b = &m->blocks[m->live[k]];
        memset(m->owner + gran_first(m, b), 0,
               (gran_end(m, b) - gran_first(m, b)) * sizeof(*m->owner));
    }
    m->nlive = 0;
    m->bytes = 0;
    m->freeing = 0;
    m->nfree_ids = 0;
    for (uint32_t i = m->max_live; i >= 1; i--)
        m->free_ids[m->nfree_ids++] = i;
    m->tags_tried = 0;
    for (uint32_t t = 0; t < MODEL_TAGS_MAX; t++) {
        m->tag_order[t] = UINT32_MAX;
        m->tag_seen[t] = NULL;
    }
}

/* ---- the live blocks --------------------------------------------------------------- */

/* The live block covering byte a, or 0. */
static inline uint32_t block_at(const struct heap_model *m, uintptr_t a)
{
    if (a < m->src.base || a >= m->src.base + arena_bytes(&m->src))
        return 0;
    uint32_t i = m->owner[(a - m->src.base) / GRANULE];
    const struct block *b = &m->blocks[i];
    return i && a < b->p + (b->size ? b->size : 1) ? i : 0;
}

static inline void expect_intact(struct heap_model *m, uint32_t i, uintptr_t at, size_t n,
                                 const char *when)
{
    size_t bad = pattern_bad((const void *)at, n, m->blocks[i].id);
    EXPECT(bad == SIZE_MAX, "%s: block 0x%llx (%zu bytes) lost its contents at offset %zu",
           when, (ull)m->blocks[i].p, m->blocks[i].size, bad);
}

/* Adds a block the heap returned: in the range, on backed pages, overlapping
 * no live block.  Returns its index in blocks[]. */
static inline uint32_t model_add(struct heap_model *m, uintptr_t p, size_t size, size_t align,
                                 uint8_t tag, uint32_t site, uint32_t id)
{
    uintptr_t base = m->src.base, end = base + arena_bytes(&m->src);
    EXPECT(m->nfree_ids > 0, "more than %u live blocks", m->max_live);
    EXPECT(p % HEAP_MIN_ALIGN == 0 && p % align == 0, "0x%llx is not %zu-aligned", (ull)p,
           align < HEAP_MIN_ALIGN ? (size_t)HEAP_MIN_ALIGN : align);
    EXPECT(p >= base && p < end && size <= end - p,
           "block 0x%llx (%zu bytes) is not inside the range", (ull)p, size);
    uint32_t i = m->free_ids[--m->nfree_ids];
    struct block *b = &m->blocks[i];
    *b = (struct block){p, size, align, id, site, m->nlive, tag};
    for (uint32_t pg = (uint32_t)((p - base) / HEAP_PAGE);
         pg <= (p + (size ? size : 1) - 1 - base) / HEAP_PAGE; pg++)
        EXPECT(arena_backed(&m->src, pg),
               "block 0x%llx (%zu bytes) is on page %u, which is not backed", (ull)p, size, pg);
    for (size_t g = gran_first(m, b); g < gran_end(m, b); g++) {
        EXPECT(m->owner[g] == 0, "block 0x%llx (%zu bytes) overlaps live block 0x%llx "
               "(%zu bytes)", (ull)p, size, (ull)m->blocks[m->owner[g]].p,
               m->blocks[m->owner[g]].size);
        m->owner[g] = i;
    }
    m->live[m->nlive++] = i;
    m->bytes += size;
    return i;
}

static inline void model_remove(struct heap_model *m, uint32_t i)
{
    struct block *b = &m->blocks[i];
    for (size_t g = gran_first(m, b); g < gran_end(m, b); g++)
        m->owner[g] = 0;
    uint32_t last = m->live[--m->nlive];
    m->live[b->pos] = last;
    m->blocks[last].pos = b->pos;
    m->bytes -= b->size;
    m->free_ids[m->nfree_ids++] = i;
}

/* ---- tags ------------------------------------------------------------------------- */

/* Tag t is about to be passed to the heap, which takes a new name into its
 * table even when the allocation then fails (but not when it refuses the
 * alignment first): the order in which tags first reach it decides which
 * of them it has room for. */
static inline uint8_t model_tag(struct heap_model *m, uint8_t t)
{
    if (t && m->tag_order[t] == UINT32_MAX)
        m->tag_order[t] = m->tags_tried++;
    return t;
}

/* The heap's name for tag t: its own name, "kmalloc" for NULL, or "other"
 * once HEAP_TAGS_MAX are in use (tags[0] is "kmalloc", so 30 or 31 names
 * fit); and always the same answer. */
static inline void check_tag(struct heap_model *m, uint8_t t, const char *name,
                             const char *where)
{
    const char *want = t ? m->tag_names[t] : "kmalloc";
    EXPECT(name != NULL, "%s: tag of a \"%s\" block is NULL", where, want);
    if (m->tag_seen[t]) {
        EXPECT(strcmp(name, m->tag_seen[t]) == 0, "%s: tag \"%s\" was called \"%s\", now "
               "\"%s\"", where, want, m->tag_seen[t], name);
        return;
    }
    bool other = t && strcmp(name, "other") == 0 && m->tag_order[t] >= HEAP_TAGS_MAX - 2;
    EXPECT(strcmp(name, want) == 0 || other, "%s: tag \"%s\" (the %u-th tried) is called \"%s\"",
           where, want, m->tag_order[t], name);
    m->tag_seen[t] = name;
}

#endif
