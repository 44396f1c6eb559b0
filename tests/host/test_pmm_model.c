/*
 * test_pmm_model.c - the frame zone against a reference model, a million
 * seeded random operations (see pmm_model.h for what is checked).
 *
 * The operations are spread over rounds, each a new zone: a random size
 * (a few frames up to ~6000, a quarter of them whole words), random
 * features, and a memory-map-like layout.  Owners come from a small pool,
 * except in one small zone of eight, where a quarter of the allocations
 * bring a new owner and fill the owner table.  pmm_zone_check and a frame-by-
 * frame comparison with the model run every FULL_EVERY operations and at
 * the end of each round; the counters are compared after every operation.
 * The last BIG_ROUNDS zones are large (70,000 .. 200,000 frames, so the
 * second summary level has several words) and start nearly full, so that
 * searches cross them; there the full comparison runs every BIG_FULL_EVERY
 * operations.
 *
 *     test_pmm_model [seed [operations [full_every]]]
 *
 * prints the seed, so a failure can be replayed.
 */
#include <stdlib.h>
#include <time.h>

#include "pmm_model.h"

#define ROUNDS 40 /* small zones */
#define FULL_EVERY 8
#define BIG_ROUNDS 2
#define BIG_OPS 25000
#define BIG_FULL_EVERY 500

int main(int argc, char **argv)
{
    uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 0) : 0x6b65726e656c2d76ull;
    unsigned long total = argc > 2 ? strtoul(argv[2], NULL, 0) : 1000000ul;
    unsigned long full_every = argc > 3 ? strtoul(argv[3], NULL, 0) : FULL_EVERY;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    printf("pmm_model: seed 0x%llx, %lu operations in %d zones\n", (unsigned long long)seed,
           total, ROUNDS + BIG_ROUNDS);

    unsigned long ops = 0, checks = 0, full = 0;
    unsigned long big_ops = total >= 4 * BIG_ROUNDS * BIG_OPS ? BIG_ROUNDS * BIG_OPS : 0;
    struct op_source s = {NULL, 0, 0, seed | 1};
    for (int round = 0; round < ROUNDS + BIG_ROUNDS; round++) {
        bool big = round >= ROUNDS;
        uint32_t frames;
        unsigned long n, every = big ? BIG_FULL_EVERY : full_every;
        if (big) {
            frames = 70000 + src_below(&s, 130000);
            n = big_ops / BIG_ROUNDS;
        } else {
            switch (src_bits(&s, 2)) {
            case 0:  frames = 1 + src_bits(&s, 7); break;        /* tiny: 1..128 */
            case 1:  frames = 32 * (1 + src_bits(&s, 7)); break; /* whole words */
            default: frames = 1000 + src_bits(&s, 12) + src_bits(&s, 10); break;
            }
            n = (total - big_ops) / ROUNDS + (round < (int)((total - big_ops) % ROUNDS));
        }
        unsigned features = src_bits(&s, 2);
        /* One small zone in eight (and keeping owners) has a fresh owner in
         * a quarter of its allocations: its table fills, and frames with
         * PMM_OWNER_UNKNOWN appear.  Elsewhere fresh owners are rare (a
         * full table makes pmm_zone_check's owner scan the slowest part). */
        bool many_owners = !big && round % 8 == 3;
        if (many_owners)
            features |= PMM_FEAT_OWNERS;
        struct model m;
        model_open(&m, frames, features, "pmm_model");
        m.fresh_owners = many_owners ? 64 : big ? 16 : 1;
        model_layout(&m, &s);
        while (big && m.nfree > m.frames / 128)
            op_alloc(&m, &s); /* nearly full: searches must cross the summaries */
        for (unsigned long i = 0; i < n; i++) {
            model_step(&m, &s);
            if (every && i % every == every - 1) {
                model_check_full(&m);
                full++;
            }
        }
        model_finish(&m);
        ops += m.ops;
        checks += m.checks;
        model_close(&m);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("pmm_model: %lu operations, %lu full checks, %.1f s\n", ops, full, secs);
    printf("pmm_model:");
    for (int i = 0; i < ST_COUNT; i++)
        printf(" %s %lu", stat_names[i], model_stats[i]);
    printf("\n");
    /* A full-length run must have gone down the new paths: frames taken
     * from the queue, queues half drained when full and drained by other
     * operations,
     * owners the full table had no room for, tags refused.  (A short
     * replay by hand may not reach them all.) */
    unsigned long failed = 0;
    if (total >= 1000000ul) {
        static const int must[] = {ST_QUEUE_POP, ST_DRAIN_FULL, ST_DRAIN, ST_DRAIN_HAND,
                                   ST_OWNER_UNKNOWN, ST_TAG_BAD, ST_UNREF_FREED};
        for (size_t i = 0; i < sizeof(must) / sizeof(must[0]); i++) {
            checks++;
            if (model_stats[must[i]] == 0) {
                fprintf(stderr, "pmm_model: FAILED: no %s in %lu operations\n",
                        stat_names[must[i]], ops);
                failed++;
            }
        }
    }
    printf("pmm_model: %lu checks, %lu failed\n", checks, failed);
    return failed ? 1 : 0;
}
