/*
 * viz_cmd.c - the `viz` command, the visualizer's timer tick, and the key
 * list `help keys` prints.
 *
 *   viz                 the views, their keys, split mode, redraw figures
 *   viz <view>          open one (map, frames, pages, heap, faults)
 *   viz split [on|off]  the live mini-map above the shell
 *   viz bench           time every view's redraw (full, and steady)
 */
#include "kernel/config.h"
#include "kernel/console.h"
#include "kernel/kstring.h"
#include "kernel/shell.h"
#include "kernel/timer.h"
#include "kernel/x86.h"
#include "kernel/viz.h"
#include "viz_internal.h"

extern const struct shell_command viz_stress_command;
extern const struct shell_command viz_demo_command __attribute__((weak));

/* Every 50 ms, in the timer interrupt: the background load, and every
 * 250 ms the mini-map. */
static void viz_tick(void)
{
    static unsigned n;
    viz_stress_tick();
    if (++n % 5 == 0)
        viz_minimap_draw();
}

/* TSC cycles in a millisecond, measured once against the PIT. */
static uint64_t cycles_per_ms(void)
{
    static uint64_t cpm;
    if (!cpm) {
        uint64_t t = timer_ticks();
        while (timer_ticks() == t)
            sti_hlt();
        uint64_t c0 = rdtsc(), t0 = timer_ticks();
        while (timer_ticks() < t0 + 10)
            sti_hlt();
        cpm = (rdtsc() - c0) / (10 * 1000 / PIT_HZ);
        if (!cpm)
            cpm = 1;
    }
    return cpm;
}

static unsigned micros(uint64_t cycles)
{
    return (unsigned)(cycles * 1000 / cycles_per_ms());
}

void viz_print_keys(void)
{
    kprintf("Keys that work everywhere (at the prompt and in every view):\n");
    for (size_t i = 0; i < VIZ_VIEWS; i++) {
        const struct viz_view *v = viz_view_at(i);
        if (v)
            kprintf("  F%u       the %s view: %s\n", (unsigned)(v->fkey - KEY_F1 + 1), v->name,
                    v->title);
    }
    kprintf("  Esc      leave a view (back to the shell)\n");
    size_t n;
    const struct viz_hotkey *h = viz_hotkeys(&n);
    kprintf("Fault injection (Alt+digit; in the faults view the digit alone):\n");
    for (size_t i = 0; i < n; i++)
        kprintf("  Alt+%c    %-48s `%s`\n", h[i].key, h[i].what,
                h[i].command ? h[i].command : "pf <kernel code> w");
}

static void list_views(void)
{
    kprintf("views (`viz <name>` or the F-key; Esc returns):\n");
    for (size_t i = 0; i < VIZ_VIEWS; i++) {
        const struct viz_view *v = viz_view_at(i);
        if (v)
            kprintf("  F%u %-7s %s\n", (unsigned)(v->fkey - KEY_F1 + 1), v->name, v->title);
    }
    kprintf("split mode: %s (`viz split on|off`)\n", viz_split_on() ? "on" : "off");
    if (viz_timing.frames)
        kprintf("redraws so far: %u, %u us on average, %u us at most, %u cells written\n",
                (unsigned)viz_timing.frames, micros(viz_timing.cycles / viz_timing.frames),
                micros(viz_timing.max_cycles), (unsigned)viz_timing.cells);
}

/* Each view drawn 20 times: the first after forgetting the screen (every
 * cell written), the rest as a live view redraws (only changes written). */
static void bench(void)
{
    enum { ROUNDS = 20 };
    struct { const struct viz_view *v; uint64_t full, steady; unsigned cells; } r[VIZ_VIEWS];
    size_t n = 0;
    cycles_per_ms();
    viz_screen_save();
    for (size_t i = 0; i < VIZ_VIEWS; i++) {
        const struct viz_view *v = viz_view_at(i);
        if (!v)
            continue;
        if (v->open)
            v->open();
        r[n].v = v;
        r[n].steady = 0;
        r[n].cells = 0;
        for (int k = 0; k < ROUNDS; k++) {
            if (k == 0)
                viz_invalidate();
            uint64_t t;
            unsigned cells = viz_draw_frame(v, &t);
            if (k == 0)
                r[n].full = t;
            else {
                r[n].steady += t;
                r[n].cells += cells;
            }
        }
        n++;
    }
    viz_screen_restore();
    kprintf("viz bench: each view drawn %u times (the first writes every cell)\n", ROUNDS);
    kprintf("  view      full redraw   live redraw   cells written per live redraw\n");
    for (size_t i = 0; i < n; i++)
        kprintf("  %-8s %9u us  %9u us   %u\n", r[i].v->name, micros(r[i].full),
                micros(r[i].steady / (ROUNDS - 1)), r[i].cells / (ROUNDS - 1));
}

static int cmd_viz(int argc, char **argv)
{
    if (argc == 1) {
        list_views();
        return CMD_OK;
    }
    if (strcmp(argv[1], "split") == 0) {
        if (argc == 2 || strcmp(argv[2], "on") == 0)
            viz_split(true);
        else if (strcmp(argv[2], "off") == 0)
            viz_split(false);
        else {
            shell_error("split takes on or off, not '%s'", argv[2]);
            return CMD_USAGE;
        }
        return CMD_OK;
    }
    if (argc > 2) {
        shell_error("'viz %s' takes no more arguments", argv[1]);
        return CMD_USAGE;
    }
    if (strcmp(argv[1], "bench") == 0) {
        bench();
        return CMD_OK;
    }
    const struct viz_view *v = viz_find(argv[1]);
    if (!v) {
        shell_error("no view '%s' (`viz` lists them)", argv[1]);
        return CMD_USAGE;
    }
    viz_open(v);
    return CMD_OK;
}

static const struct shell_command viz_command = {
    "viz", "[<view>|split [on|off]|bench]", "the full-screen views of memory, split mode", 0, 2,
    cmd_viz};

void viz_commands_register(void)
{
    shell_register(&viz_command, 1);
    shell_register(&viz_stress_command, 1);
    if (&viz_demo_command)
        shell_register(&viz_demo_command, 1);
    timer_every(viz_tick, 50);
}
