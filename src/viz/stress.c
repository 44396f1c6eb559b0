/*
 * stress.c - load to watch: `stress on|off|oom`.
 *
 * `stress on` churns frames in the background, from the timer (every
 * 50 ms: take or give back a few frames, tag user, filling up to a limit and
 * draining again in waves), so an open view or the split-mode map changes
 * while nobody types.  The frame allocator may be called from interrupts;
 * the heap is not, so the background load uses frames only.
 *
 * `stress oom` is the out-of-memory storm, in the foreground: take every
 * free frame until the allocator says no, hold them a second (the map is
 * full), then give every one back and check the free count is where it
 * started.
 */
#include "kernel/config.h"
#include "kernel/console.h"
#include "kernel/heap.h"
#include "kernel/kstring.h"
#include "kernel/pmm.h"
#include "kernel/shell.h"
#include "kernel/timer.h"
#include "kernel/viz.h"
#include "kernel/x86.h"
#include "viz_internal.h"

#define STRESS_MAX 1024 /* frames the background load holds at most */

static void *held[STRESS_MAX];
static volatile uint32_t nheld;
static volatile bool running, filling = true;
static uint32_t seed = 12345;

static uint32_t rnd(void)
{
    seed = seed * 1103515245u + 12345u;
    return seed >> 16;
}

/* Called from the timer interrupt (viz_tick) every 50 ms. */
void viz_stress_tick(void)
{
    if (!running)
        return;
    for (uint32_t n = 1 + rnd() % 8; n; n--) {
        if (filling && nheld < STRESS_MAX) {
            void *f = pmm_alloc_frame_tagged(TAG_USER);
            if (!f) {
                filling = false;
                break;
            }
            held[nheld++] = f;
        } else if (nheld > 0) {
            uint32_t i = rnd() % nheld;
            pmm_free_frame(held[i]);
            held[i] = held[--nheld];
        }
        if (nheld == STRESS_MAX)
            filling = false;
        else if (nheld == 0)
            filling = true;
    }
}

static void stop(void)
{
    uint32_t flags = irq_save();
    running = false;
    uint32_t n = nheld;
    while (nheld)
        pmm_free_frame(held[--nheld]);
    filling = true;
    irq_restore(flags);
    kprintf("stress: stopped; gave back %u frame%s\n", n, n == 1 ? "" : "s");
}

__attribute__((noinline)) static int oom_storm(void)
{
    const struct pmm_zone *z = pmm_get_zone();
    uint32_t start = pmm_zone_free_count(z);
    void **frames = kmalloc_tagged((size_t)start * sizeof(void *), "stress");
    if (!frames) {
        shell_error("no heap for a list of %u frames", start);
        return CMD_FAILED;
    }
    uint32_t before = pmm_zone_free_count(z); /* the list itself took some */
    kprintf("stress oom: taking every free frame (%u)...\n", before);
    uint64_t t0 = timer_uptime_ms();
    uint32_t n = 0;
    while (n < start) {
        void *f = pmm_alloc_frame_tagged(TAG_USER);
        if (!f)
            break;
        frames[n++] = f;
    }
    uint64_t t1 = timer_uptime_ms();
    kprintf("stress oom: took %u frames in %u ms; free frames now %u; one more:\n", n,
            (unsigned)(t1 - t0), pmm_zone_free_count(z));
    void *extra = pmm_alloc_frame_tagged(TAG_USER);
    kprintf("stress oom: %s\n", extra ? "got one?!" : "NULL: out of memory, nothing broke");
    if (extra) /* (cannot happen: nothing frees frames meanwhile) */
        pmm_free_frame(extra);
    viz_minimap_draw();
    timer_sleep_ms(1000); /* hold: the map shows memory full */
    kprintf("stress oom: giving them back (each is poisoned: seconds per GiB)...\n");
    for (uint32_t i = 0; i < n; i++)
        pmm_free_frame(frames[i]);
    uint32_t after = pmm_zone_free_count(z);
    kfree(frames);
    kprintf("stress oom: gave back %u frames in %u ms; free frames %u (before: %u)\n", n,
            (unsigned)(timer_uptime_ms() - t1 - 1000), after, before);
    if (after != before)
        shell_error("%d frames went missing", (int)(before - after));
    return after == before ? CMD_OK : CMD_FAILED;
}

static int cmd_stress(int argc, char **argv)
{
    if (argc == 1) {
        kprintf("stress: %s, holding %u frame%s (`stress on|off|oom`)\n",
                running ? "on" : "off", nheld, nheld == 1 ? "" : "s");
        return CMD_OK;
    }
    if (strcmp(argv[1], "on") == 0) {
        running = true;
        kprintf("stress: on: frames are taken and given back in the background "
                "(up to %u); open a view to watch, `stress off` to stop\n", STRESS_MAX);
        return CMD_OK;
    }
    if (strcmp(argv[1], "off") == 0) {
        stop();
        return CMD_OK;
    }
    if (strcmp(argv[1], "oom") == 0) {
        if (running)
            stop();
        return oom_storm();
    }
    shell_error("unknown '%s': on, off or oom", argv[1]);
    return CMD_USAGE;
}

const struct shell_command viz_stress_command = {
    "stress", "[on|off|oom]", "background frame churn to watch, or an out-of-memory storm", 0,
    1, cmd_stress};
