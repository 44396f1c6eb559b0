/*
 * cmd_frames.c - the frame allocator from the keyboard: frames, alloc,
 * free, frame, refs.
 */
#include "kernel/console.h"
#include "kernel/format.h"
#include "kernel/kstring.h"
#include "kernel/memmap.h"
#include "kernel/pmm.h"
#include "kernel/shell.h"
#include "kernel/symbols.h"
#include "kernel/vga.h"
#include "kernel/viz.h"

static void print_colored(uint8_t fg, const char *text)
{
    uint8_t saved = console_attr();
    console_set_attr(vga_attr(fg, VGA_BLACK));
    console_puts(text);
    console_set_attr(saved);
}

static void frames_line(const char *what, uint32_t frames, uint8_t fg, const char *note)
{
    char size[16], text[24];
    format_size(size, sizeof(size), (uint64_t)frames * FRAME_SIZE);
    ksnprintf(text, sizeof(text), "  %-10s", what);
    print_colored(fg, text);
    kprintf("%8u  %10s%s\n", frames, size, note);
}

static void frames_summary(void)
{
    const struct pmm_zone *z = pmm_get_zone();
    char size[16];
    format_size(size, sizeof(size), (uint64_t)z->frames * FRAME_SIZE);
    kprintf("frames: %u frames of 4 KiB (%s), every frame below 0x%08x\n", z->frames, size,
            z->frames << FRAME_SHIFT);
    /* The queue: frames freed one at a time, handed out again first. */
    char queued[48];
    ksnprintf(queued, sizeof(queued), "  (%u queued: the next out)", z->queue_count);
    frames_line("free", pmm_zone_free_count(z), viz_tag_color(TAG_FREE),
                z->queue_count ? queued : "");
    frames_line("allocated", pmm_zone_allocated_count(z), VGA_WHITE, "");
    frames_line("reserved", z->reserved_frames, viz_tag_color(TAG_RESERVED), "");
    kprintf("by tag:");
    unsigned col = 7;
    for (unsigned t = 1; t < TAG_COUNT; t++) {
        uint32_t n = pmm_zone_count_tag(z, (uint8_t)t);
        if (n == 0)
            continue;
        char item[32];
        int len = ksnprintf(item, sizeof(item), " %s %u", pmm_tag_name(t), n);
        if (col + (unsigned)len >= VGA_COLS) {
            kprintf("\n      ");
            col = 6;
        }
        print_colored(viz_tag_color(t), item);
        col += (unsigned)len;
    }
    kprintf("\n");
    uint32_t first = 0;
    uint32_t run = pmm_zone_largest_free_run(z, &first);
    format_size(size, sizeof(size), (uint64_t)run * FRAME_SIZE);
    /* Fragmentation: how much of the free memory lies outside the largest
     * free run (0% = all in one piece), in tenths of a percent. */
    uint32_t free_frames = pmm_zone_free_count(z);
    unsigned frag = free_frames ? (unsigned)(1000 - (uint64_t)run * 1000 / free_frames) : 0;
    kprintf("largest free run: %u frames (%s) at 0x%08x; fragmentation %u.%u%%\n", run, size,
            first << FRAME_SHIFT, frag / 10, frag % 10);
    kprintf("since boot: %llu frames allocated, %llu freed; %llu failed allocations, "
            "%llu bad frees\n",
            z->allocs, z->frees, z->failed_allocs, z->bad_frees);
}

static void frames_boot(void)
{
    size_t n;
    const struct pmm_boot_range *r = pmm_boot_ranges(&n);
    kprintf("frames: reserved at boot (on top of everything that is not available RAM):\n");
    for (size_t i = 0; i < n; i++) {
        char size[16], tag[12];
        format_size(size, sizeof(size), r[i].end - r[i].start);
        kprintf("  [0x%08llx-0x%08llx] ", r[i].start, r[i].end - 1);
        ksnprintf(tag, sizeof(tag), "%-8s", pmm_tag_name(r[i].tag));
        print_colored(viz_tag_color(r[i].tag), tag);
        kprintf(" %9s  %s\n", size, r[i].what);
    }
}

/* The usage history as a table: one row per second in which frames were
 * allocated or freed (the data the live usage graph is drawn from). */
static void frames_history(void)
{
    struct pmm_sample samples[PMM_HISTORY];
    size_t n = pmm_history(samples, PMM_HISTORY);
    kprintf("frames: activity by second (the last %u seconds with any)\n", PMM_HISTORY);
    kprintf("  uptime s   free frames   allocated   freed\n");
    for (size_t i = 0; i < n; i++) {
        uint32_t allocs = samples[i].allocs - (i ? samples[i - 1].allocs : 0);
        uint32_t frees = samples[i].frees - (i ? samples[i - 1].frees : 0);
        kprintf("  %8u   %11u   %9s%u   %5s%u\n", samples[i].second, samples[i].free_frames,
                i ? "+" : " ", allocs, i ? "+" : " ", frees);
    }
}

static int cmd_frames(int argc, char **argv)
{
    if (argc == 1) {
        frames_summary();
    } else if (strcmp(argv[1], "boot") == 0) {
        frames_boot();
    } else if (strcmp(argv[1], "history") == 0) {
        frames_history();
    } else if (strcmp(argv[1], "check") == 0) {
        const char *broken = pmm_zone_check(pmm_get_zone());
        if (broken) {
            shell_error("invariant broken: %s", broken);
            return CMD_FAILED;
        }
        kprintf("frames: every invariant holds (counters, summaries, tags, references)\n");
    } else {
        shell_error("no view '%s' (say boot, history or check, or nothing for the totals)",
                    argv[1]);
        return CMD_USAGE;
    }
    return CMD_OK;
}

/* Tags the shell may allocate with: the ones that describe a use. */
static bool tag_for_alloc(const char *name, uint8_t *tag)
{
    int t = pmm_tag_parse(name);
    if (t < TAG_PAGETABLE) {
        shell_error("'%s' is not a tag for allocations (pagetable, heap, stack, DMA, device, "
                    "user, guard)",
                    name);
        return false;
    }
    *tag = (uint8_t)t;
    return true;
}

static bool parse_frame_address(const char *arg, paddr_t *addr)
{
    uint64_t v;
    if (!shell_arg_u64(arg, "address", 0, 0xffffffffu, &v))
        return false;
    *addr = (paddr_t)v;
    return true;
}

static int cmd_alloc(int argc, char **argv)
{
    const struct pmm_zone *z = pmm_get_zone();
    uint64_t count = 1;
    uint8_t tag = TAG_USER;
    int next = 1;
    if (argc > next && argv[next][0] >= '0' && argv[next][0] <= '9') {
        if (!shell_arg_u64(argv[next], "frame count", 1, z->frames, &count))
            return CMD_USAGE;
        next++;
    }
    if (argc > next && !tag_for_alloc(argv[next++], &tag))
        return CMD_USAGE;
    if (argc > next)
        return CMD_USAGE;
    void *p = pmm_alloc_frames_tagged((size_t)count, FRAME_SIZE, tag);
    if (!p) {
        shell_error("no run of %llu free frame%s", count, count == 1 ? "" : "s");
        return CMD_FAILED;
    }
    uint32_t base = (uint32_t)p;
    if (count == 1)
        kprintf("alloc: frame 0x%08x, tag %s\n", base, pmm_tag_name(tag));
    else
        kprintf("alloc: %llu frames 0x%08x-0x%08x, tag %s\n", count, base,
                base + (uint32_t)count * FRAME_SIZE - 1, pmm_tag_name(tag));
    return CMD_OK;
}

static int cmd_free(int argc, char **argv)
{
    paddr_t addr;
    uint64_t count = 1;
    if (!parse_frame_address(argv[1], &addr))
        return CMD_USAGE;
    if (argc == 3 && !shell_arg_u64(argv[2], "frame count", 1, pmm_get_zone()->frames, &count))
        return CMD_USAGE;
    if (pmm_try_free(addr, (size_t)count) != PMM_OK)
        return CMD_FAILED; /* the allocator has said why */
    kprintf("free: %llu frame%s at 0x%08x free again\n", count, count == 1 ? "" : "s", addr);
    return CMD_OK;
}

static const char *state_name(enum frame_state s)
{
    switch (s) {
    case FRAME_FREE:
        return "free";
    case FRAME_ALLOCATED:
        return "allocated";
    case FRAME_RESERVED:
        return "reserved";
    default:
        return "not tracked (past the end of usable RAM)";
    }
}

static void describe_frame(paddr_t addr)
{
    struct frame_info fi;
    paddr_t frame = (paddr_t)ALIGN_DOWN(addr, FRAME_SIZE);
    pmm_query(frame, &fi);
    uint32_t type = memmap_type_at(addr);
    kprintf("frame 0x%08x: %s", frame, state_name(fi.state));
    if (fi.queued)
        kprintf(", queued: %u of %u to go out", fi.queued, pmm_get_zone()->queue_count);
    if (fi.state != FRAME_OUT_OF_RANGE) {
        kprintf(", tag ");
        print_colored(viz_tag_color(fi.tag), pmm_tag_name(fi.tag));
    }
    if (fi.state == FRAME_ALLOCATED) {
        char who[64]; /* the owner is a return address: name its caller */
        pmm_owner_format(fi.owner, who, sizeof(who));
        kprintf(", %u reference%s, allocated by 0x%08x (%s)", fi.refs, fi.refs == 1 ? "" : "s",
                fi.owner, who);
    }
    kprintf("\n  memory map: %s\n", type ? memmap_type_name(type) : "a hole (no memory)");
}

static int cmd_frame(int argc, char **argv)
{
    (void)argc;
    paddr_t addr;
    if (!parse_frame_address(argv[1], &addr))
        return CMD_USAGE;
    describe_frame(addr);
    return CMD_OK;
}

static int cmd_refs(int argc, char **argv)
{
    (void)argc;
    paddr_t addr;
    if (!parse_frame_address(argv[1], &addr))
        return CMD_USAGE;
    bool add = strcmp(argv[2], "+") == 0;
    if (!add && strcmp(argv[2], "-") != 0) {
        shell_error("say + or -, not '%s'", argv[2]);
        return CMD_USAGE;
    }
    enum pmm_error e = add ? pmm_ref((void *)addr) : pmm_unref((void *)addr);
    if (e != PMM_OK)
        return CMD_FAILED; /* the allocator has said why */
    describe_frame(addr);
    return CMD_OK;
}

static const struct shell_command frame_commands[] = {
    {"frames", "[boot|history|check]",
     "frame totals by state and tag; boot reservations; activity; invariant check", 0, 1,
     cmd_frames},
    {"alloc", "[count] [tag]", "allocate a frame, or a contiguous run (tag: user, DMA, ...)", 0,
     2, cmd_alloc},
    {"free", "<addr> [count]", "free a frame or a run of frames", 1, 2, cmd_free},
    {"frame", "<addr>", "what the frame holding addr is: state, tag, references, owner", 1, 1,
     cmd_frame},
    {"refs", "<addr> +|-", "add or drop a reference to an allocated frame", 2, 2, cmd_refs},
};

void frame_commands_register(void)
{
    shell_register(frame_commands, ARRAY_SIZE(frame_commands));
}
