/*
 * frames_view.h - what the frames view's two files share (private).
 */
#ifndef VIZ_FRAMES_VIEW_H
#define VIZ_FRAMES_VIEW_H

#include <stdint.h>

#include "kernel/pmm_zone.h"

/* What a cell's colour says. */
enum frames_mode { FRAMES_TAG, FRAMES_HEAT, FRAMES_AGE, FRAMES_MODES };

/* frames_mode_name - "tag", "heat", "age" (for the header). */
const char *frames_mode_name(enum frames_mode m);

/* frames_cell_look - one cell of the grid: the shade says how full it is
 * (viz_summary_cell); the colour is the dominant tag, the highest
 * refcount or the youngest age, by mode. */
void frames_cell_look(enum frames_mode m, const struct frame_summary *s, uint8_t *ch,
                      uint8_t *attr);

/* frames_legend - the legend of mode m on rows `row` and `row + 1`: each
 * colour with its meaning, then the shades. */
void frames_legend(enum frames_mode m, unsigned row);

#endif
