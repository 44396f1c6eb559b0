/*
 * test_pmm_model.c - the frame zone against a reference model, a million
 * seeded random operations (see pmm_model.h for what is checked).
 *
 * The operations are spread over rounds, each a new zone: a random size
 * (a few frames up to ~6000, rarely a multiple of 32), random features,
 * and a memory-map-like layout.  pmm_zone_check and a frame-by-frame
 * comparison with the model run every FULL_EVERY operations and at the end
 * of each round; the counters are compared after every operation.
 *
 *     test_pmm_model [seed [operations [full_every]]]
 *
 * prints the seed, so a failure can be replayed.
 */
#include <stdlib.h>
#include <time.h>

#include "pmm_model.h"

#define ROUNDS 40
#define FULL_EVERY 8

int main(int argc, char **argv)
{
    uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 0) : 0x6b65726e656c2d76ull;
    unsigned long total = argc > 2 ? strtoul(argv[2], NULL, 0) : 1000000ul;
    unsigned long full_every = argc > 3 ? strtoul(argv[3], NULL, 0) : FULL_EVERY;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    printf("pmm_model: seed 0x%llx, %lu operations in %d zones\n", (unsigned long long)seed,
           total, ROUNDS);

    unsigned long ops = 0, checks = 0, full = 0;
    struct op_source s = {NULL, 0, 0, seed | 1};
    for (int round = 0; round < ROUNDS; round++) {
        uint32_t frames;
        switch (src_bits(&s, 2)) {
        case 0:  frames = 1 + src_bits(&s, 7); break;          /* tiny: 1..128 */
        case 1:  frames = 32 * (1 + src_bits(&s, 7)); break;   /* whole words */
        default: frames = 1000 + src_bits(&s, 12) + src_bits(&s, 10); break;
        }
        unsigned features = src_bits(&s, 2);
        struct model m;
        model_open(&m, frames, features, "pmm_model");
        model_layout(&m, &s);
        unsigned long n = total / ROUNDS + (round < (int)(total % ROUNDS));
        for (unsigned long i = 0; i < n; i++) {
            model_step(&m, &s);
            if (full_every && i % full_every == full_every - 1) {
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
    printf("\npmm_model: %lu checks, 0 failed\n", checks);
    return 0;
}
