/*
 * frames_legend.c - the frames view's colours: what a cell looks like in
 * each mode (tag, refcount heat, allocation age), and the legend that says
 * so.  Both read one table of bands, so the legend cannot disagree with
 * the grid.
 */
#include "kernel/kstring.h"
#include "kernel/pmm.h"
#include "kernel/vga.h"
#include "kernel/viz.h"
#include "frames_view.h"

#define TEXT_ATTR vga_attr(VGA_LIGHT_GREY, VGA_BLACK)
#define HEAD_ATTR vga_attr(VGA_WHITE, VGA_BLACK)

/* The colours of the heat and age modes: a value takes the colour of the
 * first band whose bound it does not pass.  The legend reads the same
 * table, so it cannot disagree with the grid. */
struct band {
    uint16_t upto;
    uint8_t fg;
    const char *what;
};
static const struct band heat_bands[] = { /* the highest refcount seen */
    {0, VGA_DARK_GREY, "reserved"}, /* no allocated frame among the samples */
    {1, VGA_LIGHT_BLUE, "1"},
    {2, VGA_LIGHT_GREEN, "2"},
    {4, VGA_YELLOW, "3-4"},
    {PMM_REF_MAX, VGA_LIGHT_RED, "5+"},
};
static const struct band age_bands[] = { /* seconds since the youngest was allocated */
    {1, VGA_WHITE, "<2 s"},
    {9, VGA_YELLOW, "<10 s"},
    {59, VGA_BROWN, "<60 s"},
    {0xfe, VGA_LIGHT_BLUE, "older"},
    {0xff, VGA_DARK_GREY, "reserved"}, /* 0xff: no allocated frame seen */
};

static const struct {
    const char *name, *legend;
    const struct band *bands;
    size_t count;
} modes[FRAMES_MODES] = {
    [FRAMES_TAG] = {"tag", NULL, NULL, 0},
    [FRAMES_HEAT] = {"heat", "refcount heat:", heat_bands, ARRAY_SIZE(heat_bands)},
    [FRAMES_AGE] = {"age", "allocation age:", age_bands, ARRAY_SIZE(age_bands)},
};

/* frames_mode_name - "tag", "heat", "age". */
const char *frames_mode_name(enum frames_mode m)
{
    return m < FRAMES_MODES ? modes[m].name : "?";
}

static uint8_t band_color(enum frames_mode m, unsigned value)
{
    const struct band *b = modes[m].bands;
    size_t i = 0;
    while (i + 1 < modes[m].count && value > b[i].upto)
        i++;
    return b[i].fg;
}

/* frames_cell_look - see frames_view.h.  The shade says how full it is in every mode; the colour is the
 * dominant tag, the highest refcount or the youngest age. */
void frames_cell_look(enum frames_mode m, const struct frame_summary *s, uint8_t *ch,
                      uint8_t *attr)
{
    viz_summary_cell(s, ch, attr);
    if (m == FRAMES_TAG || s->frames == 0)
        return;
    uint8_t fg = VGA_DARK_GREY; /* all free: dim */
    if (s->allocated + s->reserved > 0)
        fg = band_color(m, m == FRAMES_HEAT ? s->max_refs : s->youngest);
    *attr = vga_attr(fg, VGA_BLACK);
}

/* The legend flows over two rows: a sample cell, then what it means. */
struct flow {
    unsigned row, col, last_row;
};

static void legend_item(struct flow *f, uint8_t ch, uint8_t fg, const char *what)
{
    unsigned width = 2 + (unsigned)strlen(what);
    if (f->col + width > VGA_COLS - 1) {
        f->row++;
        f->col = 1;
    }
    if (f->row > f->last_row)
        return; /* never spill into the rows below */
    viz_put(f->row, f->col, ch, vga_attr(fg, VGA_BLACK));
    f->col = viz_text(f->row, f->col + 2, TEXT_ATTR, what) + 2;
}

/* frames_legend - see frames_view.h. */
void frames_legend(enum frames_mode m, unsigned row)
{
    struct flow f = {row, 1, row + 1};
    if (m == FRAMES_TAG) {
        for (unsigned t = TAG_FREE + 1; t < TAG_COUNT; t++)
            legend_item(&f, VIZ_BLOCK, viz_tag_color(t), pmm_tag_name(t));
        legend_item(&f, VIZ_DOT, VGA_GREEN, "free");
    } else {
        f.col = viz_text(f.row, f.col, HEAD_ATTR, modes[m].legend) + 1;
        for (size_t i = 0; i < modes[m].count; i++)
            legend_item(&f, VIZ_BLOCK, modes[m].bands[i].fg, modes[m].bands[i].what);
        legend_item(&f, VIZ_DOT, VGA_DARK_GREY, "free");
    }
    if (f.row == row) { /* the shades start on a row of their own */
        f.row++;
        f.col = 1;
    }
    f.col = viz_text(f.row, f.col, HEAD_ATTR, "used:") + 1;
    legend_item(&f, VIZ_BLOCK, VGA_LIGHT_GREY, "7/8+");
    legend_item(&f, VIZ_SHADE_DARK, VGA_LIGHT_GREY, "1/2+");
    legend_item(&f, VIZ_SHADE_MEDIUM, VGA_LIGHT_GREY, "1/8+");
    legend_item(&f, VIZ_SHADE_LIGHT, VGA_LIGHT_GREY, "less");
}
