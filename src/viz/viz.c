/*
 * viz.c - the full-screen views: the frame around them and their loop.
 *
 * viz_open draws the title row, the view's body, the status row and the
 * keys row into the canvas and flushes it; then it waits for a key or for
 * VIZ_REFRESH_MS to pass, and draws again.  Keys that work everywhere:
 * F1..F5 switch views, Esc goes back to the shell, Alt+digit injects a
 * fault (the shell's screen comes back for the report; any key returns to
 * the view, which then shows the fault).  Every other key goes to the view.
 *
 * Each redraw is timed with the TSC; `viz bench` prints the figures.
 */
#include "kernel/config.h"
#include "kernel/console.h"
#include "kernel/fault.h"
#include "kernel/format.h"
#include "kernel/heap.h"
#include "kernel/input.h"
#include "kernel/kstring.h"
#include "kernel/pmm.h"
#include "kernel/recover.h"
#include "kernel/timer.h"
#include "kernel/vga.h"
#include "kernel/viz.h"
#include "kernel/x86.h"
#include "viz_internal.h"

#define TITLE_ATTR vga_attr(VGA_BLACK, VGA_LIGHT_GREY)
#define TAB_ATTR vga_attr(VGA_WHITE, VGA_BLUE)
#define STATUS_ATTR vga_attr(VGA_WHITE, VGA_BLUE)
#define KEYS_ATTR vga_attr(VGA_BLACK, VGA_CYAN)

/* In F-key order; a view that is not built in is skipped (weak). */
extern const struct viz_view viz_view_map __attribute__((weak));
extern const struct viz_view viz_view_frames __attribute__((weak));
extern const struct viz_view viz_view_pages __attribute__((weak));
extern const struct viz_view viz_view_heap __attribute__((weak));
extern const struct viz_view viz_view_faults __attribute__((weak));

static const struct viz_view *const all_views[] = {
    &viz_view_map, &viz_view_frames, &viz_view_pages, &viz_view_heap, &viz_view_faults,
};

struct viz_timing viz_timing;

const struct viz_view *viz_view_at(size_t i)
{
    return i < ARRAY_SIZE(all_views) ? all_views[i] : NULL;
}

const struct viz_view *viz_find(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(all_views); i++)
        if (all_views[i] && strcmp(all_views[i]->name, name) == 0)
            return all_views[i];
    return NULL;
}

const struct viz_view *viz_view_for_key(uint8_t code)
{
    for (size_t i = 0; i < ARRAY_SIZE(all_views); i++)
        if (all_views[i] && all_views[i]->fkey == code)
            return all_views[i];
    return NULL;
}

bool viz_last_fault(uint32_t *addr, uint32_t *seq)
{
    const struct fault_log *log = fault_log_global();
    size_t n = fault_log_count(log);
    if (n == 0)
        return false;
    const struct fault_record *r = fault_log_get(log, n - 1);
    *addr = r->vector == 14 ? r->cr2 : r->eip;
    *seq = r->seq;
    return true;
}

/* Row 0: the open view's title, then every view with its key at the
 * right, the open one lit. */
static void title_row(const struct viz_view *v)
{
    size_t len = 0;
    viz_fill(0, 0, VGA_COLS, ' ', TITLE_ATTR);
    viz_printf(0, 0, TITLE_ATTR, " %s", v->title);
    for (size_t i = 0; i < ARRAY_SIZE(all_views); i++)
        if (all_views[i])
            len += strlen(all_views[i]->name) + 5; /* " F1 map " */
    unsigned col = len < VGA_COLS ? VGA_COLS - (unsigned)len : 0;
    for (size_t i = 0; i < ARRAY_SIZE(all_views); i++) {
        const struct viz_view *w = all_views[i];
        if (!w)
            continue;
        uint8_t attr = w == v ? TAB_ATTR : TITLE_ATTR;
        col = viz_printf(0, col, attr, " F%u %s ", (unsigned)(w->fkey - KEY_F1 + 1), w->name);
    }
}

/* Row 24: the view's own keys, then the ones that work everywhere. */
static void keys_row(const struct viz_view *v)
{
    viz_fill(VIZ_KEYS_ROW, 0, VGA_COLS, ' ', KEYS_ATTR);
    unsigned col = viz_text(VIZ_KEYS_ROW, 1, KEYS_ATTR, v->keys ? v->keys : "");
    static const char global[] = "Alt+0-9 faults  Esc shell";
    unsigned at = VGA_COLS - 1 - (unsigned)(sizeof(global) - 1);
    if (col < at)
        viz_text(VIZ_KEYS_ROW, at, KEYS_ATTR, global);
}

void viz_status_format(char *buf, size_t size)
{
    const struct pmm_zone *z = pmm_get_zone();
    struct kheap_stats hs;
    kheap_get_stats(&hs);
    uint32_t s = (uint32_t)(timer_uptime_ms() / 1000);
    ksnprintf(buf, size,
              " frames %u free %u used | heap %u KiB in %u block%s | up %u:%02u:%02u | "
              "faults %u",
              pmm_zone_free_count(z), pmm_zone_allocated_count(z) + z->reserved_frames,
              (unsigned)(hs.core.live_bytes / 1024), (unsigned)hs.core.live_blocks,
              hs.core.live_blocks == 1 ? "" : "s", s / 3600, s / 60 % 60, s % 60,
              fault_log_global()->total);
}

void viz_status_line(unsigned row)
{
    char line[VGA_COLS + 1];
    viz_status_format(line, sizeof(line));
    viz_fill(row, 0, VGA_COLS, ' ', STATUS_ATTR);
    viz_text(row, 0, STATUS_ATTR, line);
}

/* viz_draw_frame - see viz_internal.h. */
unsigned viz_draw_frame(const struct viz_view *v, uint64_t *cycles_out)
{
    uint64_t t0 = rdtsc();
    viz_canvas_clear(VGA_DEFAULT_ATTR);
    title_row(v);
    v->draw();
    viz_status_line(VIZ_STATUS_ROW);
    keys_row(v);
    unsigned written = viz_flush();
    *cycles_out = rdtsc() - t0;
    return written;
}

/* One frame of an open view, counted in the redraw figures. */
static void draw_frame(const struct viz_view *v)
{
    uint64_t cycles;
    unsigned written = viz_draw_frame(v, &cycles);
    viz_timing.frames++;
    viz_timing.cycles += cycles;
    viz_timing.cells += written;
    if (cycles > viz_timing.max_cycles)
        viz_timing.max_cycles = cycles;
}

/* A key, or false after `ms` milliseconds without one. */
static bool wait_key(struct key_event *k, uint32_t ms)
{
    uint64_t until = timer_uptime_ms() + ms;
    while (timer_uptime_ms() < until) {
        if (input_poll(k))
            return true;
        sti_hlt(); /* the next tick (or key) wakes us */
    }
    return input_poll(k);
}

/* Alt+digit: the fault, reported on the shell's screen; back on a key. */
volatile bool viz_view_open;

/* Injections from views so far (a view's own keys may inject too). */
static uint32_t viz_injections;

void viz_inject_from_view(const struct viz_hotkey *h)
{
    viz_injections++;
    viz_screen_restore();
    viz_view_open = false; /* the shell's screen is back: so is its map */
    viz_minimap_draw();
    kprintf("\n");
    viz_inject(h);
    kprintf("-- press any key to return to the view --\n");
    struct key_event k;
    while (!input_poll(&k))
        sti_hlt();
    viz_view_open = true;
    viz_screen_save();
}

/* The loop of an open view, until Esc; arg is the view to start with. */
static int run_views(void *arg)
{
    const struct viz_view *v = arg;
    if (v->open)
        v->open();
    for (;;) {
        draw_frame(v);
        struct key_event k;
        if (!wait_key(&k, VIZ_REFRESH_MS))
            continue;
        if (k.code == KEY_ESC || (k.code == KEY_CHAR && k.ch == 'q' && !k.mods))
            return 0;
        const struct viz_view *next = viz_view_for_key(k.code);
        if (next && !k.mods) {
            v = next;
            if (v->open)
                v->open();
            continue;
        }
        const struct viz_hotkey *h = viz_hotkey_pressed(&k);
        if (h) {
            viz_inject_from_view(h);
            continue;
        }
        if (v->key)
            v->key(&k);
    }
}

/* The views run under a recovery point of their own, as shell commands
 * do: a fault in a view (a bug) is reported and logged, and the shell comes
 * back instead of the kernel stopping. */
bool viz_open(const struct viz_view *v)
{
    uint32_t injections_before = viz_injections;
    int ignored;
    if (!v)
        return false;
    viz_screen_save();
    viz_view_open = true; /* the split-mode map keeps off the screen */
    fault_set_command("viz");
    enum recover_reason why = recover_run(run_views, (void *)v, &ignored);
    fault_set_command(NULL);
    viz_view_open = false;
    viz_screen_restore();
    viz_minimap_draw();
    if (why != RECOVER_NONE) {
        kprintf("\nviz: a view faulted and was closed (`faults` shows where)\n");
        return true;
    }
    return viz_injections != injections_before;
}
