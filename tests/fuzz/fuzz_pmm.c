/*
 * fuzz_pmm.c - the frame zone driven by the fuzzer's bytes, against the
 * reference model of tests/host/pmm_model.h.
 *
 * The bytes are read in order as numbers: the zone's size (1..2048 frames,
 * so the tail of the last word varies), its features, a memory-map-like
 * layout (reserved start, available ranges, holes, reservations), then one
 * operation after another until the bytes run out (at most 4096):
 * allocations of frames and of runs (random count, alignment, tag, owner;
 * tags past the last one among them), frees of what was handed out and of
 * anything else (double, reserved, out of range, runs crossing all of
 * these), references, reservations, releases, queries and drains of the
 * queue of freed frames.  Each result is predicted by the model, down to
 * the frame a single allocation takes from the queue.  After EVERY
 * operation the queue must equal the model's, pmm_zone_check must pass and every frame
 * must match the model; at the end everything is freed and no frame may be
 * lost.  (Owners come mostly from the model's pool, so the owner table
 * stays far from full here: 4096 operations could not fill it, and
 * test_pmm_model covers a full one.)
 */
#include <stddef.h>
#include <stdint.h>

#include "../host/pmm_model.h"

#define MAX_OPS 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    struct op_source s = {data, len, 0, 0};
    uint32_t frames = 1 + src_bits(&s, 11);
    unsigned features = src_bits(&s, 2);
    struct model m;
    model_open(&m, frames, features, "fuzz_pmm");
    model_layout(&m, &s);
    while (!src_done(&s) && m.ops < MAX_OPS) {
        model_step(&m, &s);
        model_check_full(&m);
    }
    model_finish(&m);
    model_close(&m);
    return 0;
}
