/*
 * demo.c - `demo`: a guided tour of memory for a class, one page per key.
 *
 * Each page clears the console, says in a few plain lines what the class
 * is about to see and why it matters, then runs real shell commands (each
 * shown as typed, "kv> alloc 410"), so everything below the text is the
 * kernel's own output.  Split mode is on meanwhile: the live mini-map of
 * physical memory above shows frames change as the commands run.
 *
 *   rows 0-3   the mini-map (split mode)
 *   row  4     Step 3 of 8: frames flip as they are allocated      yellow
 *   rows 5-8   what to watch, in plain words                        white
 *   rows 9..   kv> alloc 410                        prompt green, as typed
 *              alloc: 410 frames 0x00192000-0x0032bfff, tag user   the
 *              ...                                    kernel's own output
 *   last row   -- step 3/8: Enter or Space for the next step, Esc to leave --
 *
 * Keys: Enter or Space goes on, Esc (or Ctrl-C) leaves; any other key only
 * turns the last row into a yellow hint.
 *
 * Eight steps; some take two pages (alloc, then free a key later, so the
 * mini-map is seen changing and changing back).  Every page fits the 21
 * rows split mode leaves, except the guard-page step, whose fault report
 * needs the whole screen: split mode steps aside for that one page.
 *
 * Whatever the tour takes (frames, a mapping, heap blocks) is recorded as
 * it is taken and given back with the matching real command (free, unmap,
 * kfree), whether the tour ends or Esc leaves it at any page; split mode
 * is put back as it was.  `heap guard` keeps its guarded block until the
 * next `heap guard` (that command's own rule), so heap counts may differ.
 */
#include <stdarg.h>

#include "kernel/config.h"
#include "kernel/console.h"
#include "kernel/format.h"
#include "kernel/args.h"
#include "kernel/heap.h"
#include "kernel/input.h"
#include "kernel/kstring.h"
#include "kernel/pmm.h"
#include "kernel/shell.h"
#include "kernel/vga.h"
#include "kernel/viz.h"

#define STEPS 8
/* `alloc N`: two cells of the mini-map's worth of frames, so that whole
 * cells turn the user colour whatever the size of memory. */
static unsigned run_frames(void)
{
    return (unsigned)(2 * viz_minimap_cell_bytes() / FRAME_SIZE);
}
#define MAP_ADDR "0x50000000"      /* free virtual space: nothing of the kernel's */
#define FAULT_ADDR "0x60000000"    /* never mapped unless someone maps it */
#define BLOCKS_MAX 3

#define TITLE_ATTR vga_attr(VGA_YELLOW, VGA_BLACK)
#define TEXT_ATTR vga_attr(VGA_WHITE, VGA_BLACK)
#define PROMPT_ATTR vga_attr(VGA_LIGHT_GREEN, VGA_BLACK) /* as the shell's */
#define FOOTER_ATTR vga_attr(VGA_LIGHT_CYAN, VGA_BLACK)
#define HINT_ATTR vga_attr(VGA_YELLOW, VGA_BLACK)

/* What the tour holds right now, so that leaving gives back exactly that. */
struct tour {
    paddr_t frames;                 /* first of the run_frames() frames; 0: none */
    bool mapped;                    /* MAP_ADDR was mapped by the tour */
    uintptr_t blocks[BLOCKS_MAX];   /* heap blocks `kmalloc` made for the tour */
    unsigned nblocks;
};

/* ---- Running commands as if typed ------------------------------------------------ */

/* Show "kv> line" as the shell shows a typed line, run it, redraw the
 * mini-map (the shell does so after each command; we are inside one).
 * Returns the command's result (enum cmd_result). */
static int PRINTF_LIKE(1, 2) run(const char *fmt, ...)
{
    char line[SHELL_LINE_MAX + 1];
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    uint8_t saved = console_attr();
    console_set_attr(PROMPT_ATTR);
    kprintf("%s", SHELL_PROMPT);
    console_set_attr(saved);
    kprintf("%s\n", line);
    int result = shell_execute(line); /* splits line in place: printed first */
    viz_minimap_draw();
    return result;
}

static void say(uint8_t attr, const char *text)
{
    uint8_t saved = console_attr();
    console_set_attr(attr);
    kprintf("%s", text);
    console_set_attr(saved);
}

/*
 * `alloc` tells where its run is only by printing it, and the allocator
 * keeps no "last run" to ask: a frame's record (owner, age) cannot tell
 * this run from frames `stress` took in the same second.  So read back the
 * line just printed ("alloc: 410 frames 0x00192000-..."), then believe it
 * only if the allocator agrees that all run_frames() frames there are
 * allocated and tagged user.
 */
static bool frames_just_allocated(paddr_t *first)
{
    unsigned row, col;
    console_get_cursor(&row, &col);
    if (row == 0 || row - 1 < console_top())
        return false;
    char text[VGA_COLS + 1];
    for (unsigned c = 0; c < VGA_COLS; c++)
        text[c] = (char)(vga_get(row - 1, c) & 0xff);
    text[VGA_COLS] = '\0';
    char *at = strstr(text, "frames 0x");
    if (!at)
        return false;
    at += strlen("frames ");
    at[10] = '\0'; /* "0x" and 8 digits */
    uint64_t addr;
    if (arg_parse_u64(at, FRAME_SIZE, 0xffffffffu, &addr) != ARG_OK)
        return false;
    for (unsigned i = 0, n = run_frames(); i < n; i++) {
        struct frame_info fi;
        pmm_query((paddr_t)addr + i * FRAME_SIZE, &fi);
        if (fi.state != FRAME_ALLOCATED || fi.tag != TAG_USER)
            return false;
    }
    *first = (paddr_t)addr;
    return true;
}

/* Heap blocks tagged "demo" of one size, noted before `kmalloc` runs: the
 * block it made is then the one live block not noted (no text is read). */
struct block_search {
    size_t size;
    bool noting;
    uintptr_t seen[32];
    unsigned nseen;
    unsigned fresh; /* blocks met that were not noted */
    uintptr_t found;
};

static void visit_block(void *ctx, const struct heap_block_info *b)
{
    struct block_search *s = ctx;
    if (b->size != s->size || !b->tag || strcmp(b->tag, "demo") != 0)
        return;
    for (unsigned i = 0; i < s->nseen; i++)
        if (s->seen[i] == b->block)
            return;
    if (s->noting && s->nseen < ARRAY_SIZE(s->seen)) {
        s->seen[s->nseen++] = b->block;
        return;
    }
    s->found = b->block;
    s->fresh++;
}

/* `kmalloc <size> demo`, remembering the block it made. */
static void kmalloc_demo(struct tour *t, size_t size)
{
    struct block_search s = {.size = size, .noting = true};
    kheap_for_each_block(visit_block, &s);
    bool too_many = s.fresh > 0; /* more than `seen` holds: cannot tell */
    s.noting = false;
    s.fresh = 0;
    if (run("kmalloc %u demo", (unsigned)size) != CMD_OK)
        return;
    kheap_for_each_block(visit_block, &s);
    if (too_many || s.fresh != 1 || t->nblocks == BLOCKS_MAX) {
        say(HINT_ATTR, "demo: cannot tell which block that was; it stays (see `heap blocks`)\n");
        return;
    }
    t->blocks[t->nblocks++] = s.found;
}

/* ---- Giving back ------------------------------------------------------------------- */

static void free_frames(struct tour *t)
{
    if (t->frames && run("free 0x%08x %u", t->frames, run_frames()) == CMD_OK)
        t->frames = 0;
}

static void free_blocks(struct tour *t)
{
    for (unsigned i = 0; i < t->nblocks; i++)
        run("kfree 0x%08x", (unsigned)t->blocks[i]);
    t->nblocks = 0; /* a refused kfree has been reported; trying again cannot help */
}

static void unmap_page(struct tour *t)
{
    if (t->mapped)
        run("unmap " MAP_ADDR);
    t->mapped = false;
}

static bool holds_anything(const struct tour *t)
{
    return t->frames || t->mapped || t->nblocks;
}

static void give_back(struct tour *t)
{
    free_frames(t);
    free_blocks(t);
    unmap_page(t);
}

/* ---- The steps ---------------------------------------------------------------------- */

/* Where the run shows in the mini-map (two rows of VGA_COLS cells). */
static void point_at_cells(paddr_t first)
{
    uint64_t per = viz_minimap_cell_bytes();
    unsigned from = (unsigned)(first / per);
    unsigned to = (unsigned)((first + (uint64_t)run_frames() * FRAME_SIZE - 1) / per);
    char cell[16], cols[16], line[VGA_COLS + 16];
    format_size(cell, sizeof(cell), per);
    if (to > from)
        ksnprintf(cols, sizeof(cols), "columns %u-%u", from % VGA_COLS + 1, to % VGA_COLS + 1);
    else
        ksnprintf(cols, sizeof(cols), "column %u", from % VGA_COLS + 1);
    ksnprintf(line, sizeof(line), "(in the map: cell line %u, %s; a cell is %s of RAM)\n",
              from / VGA_COLS + 1, cols, cell);
    say(TEXT_ATTR, line);
}

static void allocate_frames(struct tour *t)
{
    if (run("alloc %u", run_frames()) != CMD_OK)
        return;
    if (!frames_just_allocated(&t->frames)) {
        say(HINT_ATTR, "demo: cannot find the run `alloc` took; free it yourself\n");
        return;
    }
    point_at_cells(t->frames);
    run("frame 0x%08x", t->frames);
}

static void release_frames(struct tour *t)
{
    paddr_t first = t->frames;
    if (!first) {
        say(HINT_ATTR, "(nothing to free: the allocation did not succeed)\n");
        return;
    }
    free_frames(t);
    run("frame 0x%08x", first);
}

static void map_and_walk(struct tour *t)
{
    t->mapped = run("map " MAP_ADDR) == CMD_OK;
    run("pt " MAP_ADDR);
}

static void heap_blocks(struct tour *t)
{
    kmalloc_demo(t, 100);
    kmalloc_demo(t, 100);
    kmalloc_demo(t, 5000);
    run("heap");
}

static void heap_frees(struct tour *t)
{
    if (!t->nblocks)
        say(HINT_ATTR, "(no blocks to free: kmalloc did not succeed)\n");
    free_blocks(t);
    run("heap");
}

static void the_end(struct tour *t)
{
    if (holds_anything(t)) {
        say(TEXT_ATTR, "The tour gives back what it took:\n");
        give_back(t);
    }
    say(TEXT_ATTR, "Try next, at the prompt:\n");
    kprintf("  F1..F5       full-screen views of memory, live (Esc returns)\n"
            "  Alt+1..Alt+0 inject a fault: Alt+3 unmapped page, Alt+7 guard page, ...\n"
            "  help keys    every key;  help all  every command;  help <command>\n"
            "  viz split on the mini-map above the shell;  stress on  frames churning\n");
}

/* One page: its step, title, what to say, then one command to run or a
 * function that runs several and keeps what they take in the tour.
 * full_screen: the page's output does not fit below the mini-map. */
struct page {
    uint8_t step;
    bool full_screen;
    const char *title;
    const char *text;
    const char *command;
    void (*show)(struct tour *t);
};

static const struct page pages[] = {
    {1, false, "the memory map: what the firmware says is RAM",
     "Before the kernel runs, the firmware (the BIOS e820 call) lists the ranges\n"
     "of physical addresses: which are RAM, which are reserved for ROM, devices,\n"
     "ACPI. The list may overlap and come unsorted: the kernel cleans it first.\n"
     "Only 'available' ranges may ever hold the kernel's data.\n",
     "memmap", NULL},
    {2, false, "the bitmap: one bit for every 4 KiB frame",
     "The frame allocator cuts RAM into 4 KiB frames and keeps one bit for each:\n"
     "0 free, 1 in use. Each frame also carries a tag saying what it holds\n"
     "(kernel, page table, heap, user, ...). The map at the top is that bitmap,\n"
     "live: one cell stands for many frames, coloured by their tag.\n",
     "frames", NULL},
    {3, false, "frames flip as they are allocated",
     "`alloc` asks for frames in a row (a device doing DMA needs that): two\n"
     "cells of the map. The allocator finds free bits side by side, sets them.\n"
     "Watch the map at the top (the line below says where). `frame` shows the\n"
     "record of one frame: its state, its tag, and who allocated it.\n",
     NULL, allocate_frames},
    {3, false, "frames flip back when they are freed",
     "Freeing clears the bits again. Every frame is checked first: a double\n"
     "free or a reserved frame is refused and reported, and nothing changes.\n"
     "The cell at the top goes back to what it was.\n",
     NULL, release_frames},
    {4, false, "map a page and follow the walk through the tables",
     "A virtual address is cut in three: the top 10 bits pick an entry in the\n"
     "page directory, the next 10 an entry in a page table, the low 12 the byte\n"
     "in the page. `map` puts a fresh frame into that table entry; `pt` shows\n"
     "the walk the MMU makes, in hardware, on every memory access.\n",
     NULL, map_and_walk},
    {5, false, "a page fault, caught and decoded",
     "Nothing is mapped at 0x60000000. Writing there stops the CPU with a page\n"
     "fault: CR2 holds the address, the error code says why (page not present,\n"
     "a write, in kernel mode). The kernel explains it, stops only the command\n"
     "that faulted, and goes on.\n",
     "pf " FAULT_ADDR " w", NULL},
    {6, false, "the heap: small blocks cut from size classes",
     "kmalloc cuts pages into blocks. A size is rounded up to a class (100\n"
     "bytes take a 144-byte slot) and served from a slab of equal slots: no\n"
     "searching, little waste. `heap` shows the totals and the overhead.\n",
     NULL, heap_blocks},
    {6, false, "kfree gives the blocks back",
     "kfree returns each block to its slab. The blocks are gone from `heap`;\n"
     "some free pages stay mapped, so the next kmalloc is quick.\n",
     NULL, heap_frees},
    {7, true, "a guard page catches an overflow at once",
     "Writing past the end of a block silently damages whatever lies next. A\n"
     "guarded block ends exactly where an unmapped page begins, so the first\n"
     "byte too far faults at once, and the report names the block.\n",
     "heap guard", NULL},
    {8, false, "the end: what we saw, and what to try next",
     "We saw the firmware's memory map, the frame bitmap, frames allocated and\n"
     "freed, a page mapped and its walk, a page fault decoded, heap blocks in\n"
     "size classes, and a guard page catching an overflow.\n",
     NULL, the_end},
};

/* ---- Pages and keys ----------------------------------------------------------------- */

static void draw_title(const struct page *p)
{
    uint8_t saved = console_attr();
    console_set_attr(TITLE_ATTR);
    kprintf("Step %u of %u: %s\n", p->step, STEPS, p->title);
    console_set_attr(saved);
}

/* The last row, left without a new line (a page may fill every row);
 * the serial log gets it as a line. */
static void draw_footer(uint8_t attr, const char *text)
{
    unsigned row, col;
    console_get_cursor(&row, &col);
    console_set_cursor(row, 0);
    char line[VGA_COLS];
    int n = ksnprintf(line, sizeof(line), "%-79s", text);
    uint8_t saved = console_attr();
    console_set_attr(attr);
    console_write_to(CONSOLE_TO_VGA, line, (size_t)n);
    console_set_attr(saved);
    console_set_cursor(row, (unsigned)strlen(text)); /* after the words, as a prompt */
    kprintf_to(CONSOLE_TO_SERIAL, "%s\n", text);
}

enum answer { GO_ON, LEAVE };

/* Wait for Enter or Space (go on) or Esc (leave); other keys get a hint
 * on the footer row and change nothing. */
static enum answer wait_for_key(const struct page *p, bool last_of_step, bool last)
{
    char text[VGA_COLS];
    if (last)
        ksnprintf(text, sizeof(text), "-- step %u/%u: Enter, Space or Esc ends the tour --",
                  p->step, STEPS);
    else
        ksnprintf(text, sizeof(text), "-- step %u/%u: Enter or Space %s, Esc to leave --",
                  p->step, STEPS, last_of_step ? "for the next step" : "to go on");
    draw_footer(FOOTER_ATTR, text);
    for (;;) {
        struct key_event k = input_wait();
        bool plain = !(k.mods & (KMOD_CTRL | KMOD_ALT));
        if (k.code == KEY_ENTER || (k.code == KEY_CHAR && k.ch == ' ' && plain))
            return GO_ON;
        if (k.code == KEY_ESC || (k.code == KEY_CHAR && k.ch == 'c' && (k.mods & KMOD_CTRL)))
            return LEAVE;
        char hint[VGA_COLS];
        ksnprintf(hint, sizeof(hint), "-- step %u/%u: that key does nothing here: Enter or "
                  "Space goes on, Esc leaves --", p->step, STEPS);
        draw_footer(HINT_ATTR, hint);
    }
}

static int cmd_demo(int argc, char **argv)
{
    UNUSED(argc);
    UNUSED(argv);
    bool split_before = viz_split_on();
    struct tour t = {0};
    size_t i;
    for (i = 0; i < ARRAY_SIZE(pages); i++) {
        const struct page *p = &pages[i];
        viz_split(!p->full_screen);
        console_clear();
        draw_title(p);
        say(TEXT_ATTR, p->text);
        if (p->command)
            run("%s", p->command);
        else
            p->show(&t);
        bool last = i + 1 == ARRAY_SIZE(pages);
        if (wait_for_key(p, last || pages[i + 1].step != p->step, last) == LEAVE && !last)
            break;
    }
    kprintf_to(CONSOLE_TO_VGA, "\n");
    if (i < ARRAY_SIZE(pages)) {
        kprintf("demo: left at step %u of %u%s\n", pages[i].step, STEPS,
                holds_anything(&t) ? "; giving back what the tour took:" : ".");
        give_back(&t);
    } else {
        kprintf("demo: that was the tour; `demo` runs it again.\n");
    }
    viz_split(split_before);
    return CMD_OK;
}

const struct shell_command viz_demo_command = {
    "demo", "", "a guided tour of memory, one step per key (Esc leaves)", 0, 0, cmd_demo};
