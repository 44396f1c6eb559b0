/*
 * viz_internal.h - what the visualizer's own files share (not public).
 */
#ifndef VIZ_INTERNAL_H
#define VIZ_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "kernel/viz.h"

/* Redraw figures since boot (viz.c counts, `viz bench` prints). */
struct viz_timing {
    uint64_t frames, cycles, max_cycles, cells;
};
extern struct viz_timing viz_timing;

/* A full-screen view is open: the split-mode map must not draw (viz.c). */
extern volatile bool viz_view_open;

/* viz_draw_frame - one whole frame of v (title, body, status, keys) into
 * the canvas, flushed; returns the cells written, *cycles the TSC cycles
 * it took. */
unsigned viz_draw_frame(const struct viz_view *v, uint64_t *cycles);

/* viz_view_at - the i-th view in F-key order (NULL for a gap or past the
 * end: views are optional at link time). */
const struct viz_view *viz_view_at(size_t i);
#define VIZ_VIEWS 5

/* viz_inject_from_view - a hotkey pressed in a view: the shell's screen
 * comes back for the fault's report, a key returns to the view. */
void viz_inject_from_view(const struct viz_hotkey *h);

/* stress.c: the background load `stress on` runs from the timer. */
void viz_stress_tick(void);

#endif
