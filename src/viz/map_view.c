/*
 * map_view.c - F1: the physical memory map, full screen.
 *
 * The shell's `memmap` and `memmap bar` print the map once; this view keeps
 * it on screen, lets a person walk the regions one by one and says, for the
 * one selected, what the firmware calls it and what the kernel does with it.
 *
 *   row 1        RAM, usable below 4G, firmware entries -> clean regions
 *   rows 2..     up to three bars of three rows each:
 *                  0       The first MiB, a cell is 12.8 KiB       1M
 *                  ###################################%...........%#####
 *                                                  ^^^^^^^^^^^^ (selected)
 *                (# one type, % two mixed, . a hole, ^ a triangle on
 *                screen.)  The bars: the first MiB; where the RAM is, when
 *                the 0..4G bar would show it as a sliver; 0..4G; above 4G
 *                when the map has anything there.
 *   next row     legend: the colour of each type
 *   next row     the table's heading, then the regions and the holes
 *                between them, one a row (Up/Down, scrolled to fit)
 *   rows 20-22   the selected row: where it is, what e820 says it is, and
 *                what the frame allocator holds there (pmm_summarize)
 *
 * The map never changes after boot, so the table is built when the view
 * opens; a redraw classifies 240 bar cells and summarizes one region.
 */
#include "kernel/format.h"
#include "kernel/kstring.h"
#include "kernel/memmap.h"
#include "kernel/pmm.h"
#include "kernel/timer.h"
#include "kernel/vga.h"
#include "kernel/viz.h"

#define FOUR_GIB 0x100000000ull
#define HEADER_ROW 1
#define BAR_TOP 2
#define BAR_ROWS 3 /* title, cells, marker */
#define MAX_BARS 3
#define INFO_TOP 20
#define MARKER 0x1e /* CP437 triangle pointing up */
#define MESSAGE_MS 3000

#define TEXT_ATTR vga_attr(VGA_LIGHT_GREY, VGA_BLACK)
#define HEAD_ATTR vga_attr(VGA_YELLOW, VGA_BLACK)
#define DIM_ATTR vga_attr(VGA_DARK_GREY, VGA_BLACK)
#define SELECTED_ATTR vga_attr(VGA_BLACK, VGA_LIGHT_GREY)
#define MARKER_ATTR vga_attr(VGA_WHITE, VGA_BLACK)
#define FAR_ATTR vga_attr(VGA_LIGHT_CYAN, VGA_BLACK) /* above 4G, as `memmap` shows it */
#define MESSAGE_ATTR vga_attr(VGA_BLACK, VGA_YELLOW)

/* One row of the table: a region of the clean map, or a hole (type 0)
 * between two of them.  `last` is inclusive (a region may end at 2^64). */
struct entry {
    uint64_t base, last;
    uint32_t type;
};

/* One bar: [start, end) split into 80 cells. */
struct bar {
    uint64_t start, end;
    const char *title;
};

static struct entry entries[2 * MEMMAP_MAX + 1];
static size_t entry_count;
static size_t selected, scroll;
static char message[VGA_COLS + 1];
static uint64_t message_until;

static void say(const char *text)
{
    kstrlcpy(message, text, sizeof(message));
    message_until = timer_uptime_ms() + MESSAGE_MS;
}

/* The clean map with its holes, as `memmap` lists them. */
static void build_entries(void)
{
    size_t n;
    const struct mem_region *r = memmap_regions(&n);
    uint64_t next = 0; /* first address not yet listed */
    bool wrapped = false; /* a region ended at 2^64: nothing can follow */
    entry_count = 0;
    for (size_t i = 0; i < n && !wrapped; i++) {
        if (r[i].base > next)
            entries[entry_count++] = (struct entry){next, r[i].base - 1, 0};
        uint64_t last = r[i].base + (r[i].length - 1);
        entries[entry_count++] = (struct entry){r[i].base, last, r[i].type};
        next = last + 1;
        wrapped = next == 0;
    }
}

static void open_map(void)
{
    build_entries();
    if (selected >= entry_count)
        selected = 0;
    message[0] = '\0';
}

/* The smallest tidy bar end at or above v: a power of two up to 1 GiB,
 * whole GiB above that; v itself when rounding would pass 2^64. */
static uint64_t round_bar_end(uint64_t v)
{
    if (v <= GIB(1)) {
        uint64_t p = MIB(1);
        while (p < v)
            p <<= 1;
        return p;
    }
    uint64_t up;
    return align_up_u64(v, GIB(1), &up) ? up : v;
}

/* Which bars to draw: returns how many went into out. */
static unsigned plan_bars(struct bar *out)
{
    const struct memmap_summary *s = memmap_get_summary();
    unsigned n = 0;
    out[n++] = (struct bar){0, MIB(1), "The first MiB"};
    uint64_t ram_end = round_bar_end(s->usable_end_below_4g);
    bool far = entry_count && entries[entry_count - 1].last >= FOUR_GIB;
    /* Where the RAM is, unless the 0..4G bar already shows it at half
     * width or more, or the bar above 4G needs the room. */
    if (!far && s->usable_end_below_4g > MIB(1) && ram_end <= GIB(2))
        out[n++] = (struct bar){0, ram_end, "Where the RAM is"};
    out[n++] = (struct bar){0, FOUR_GIB, "All of 0..4 GiB (a 32-bit address reaches this far)"};
    if (far) {
        uint64_t last = entries[entry_count - 1].last;
        uint64_t end = last == UINT64_MAX ? last : round_bar_end(last + 1);
        out[n++] = (struct bar){FOUR_GIB, end, "Above 4 GiB: out of reach without PAE"};
    }
    return n;
}

static void draw_bar(unsigned row, const struct bar *b)
{
    size_t n;
    const struct mem_region *r = memmap_regions(&n);
    struct viz_cell cells[VGA_COLS];
    viz_bar_cells(r, n, b->start, b->end, VGA_COLS, cells);
    uint64_t width = (b->end - b->start + VGA_COLS - 1) / VGA_COLS;

    char from[16], to[16], cell[16], title[VGA_COLS + 1];
    viz_short_addr(from, sizeof(from), b->start);
    viz_short_addr(to, sizeof(to), b->end);
    format_size(cell, sizeof(cell), width);
    ksnprintf(title, sizeof(title), "%s, a cell is %s", b->title, cell);
    viz_text(row, 0, TEXT_ATTR, from);
    viz_text(row, (VGA_COLS - (unsigned)strlen(title)) / 2, HEAD_ATTR, title);
    viz_text(row, VGA_COLS - (unsigned)strlen(to), TEXT_ATTR, to);

    /* Cells as `memmap bar` draws them: a block of one type, a shade in
     * two colours where types mix, a light shade for a hole. */
    for (unsigned i = 0; i < VGA_COLS; i++) {
        const struct viz_cell *c = &cells[i];
        uint8_t ch = c->mixed ? VIZ_SHADE_MEDIUM : c->major ? VIZ_BLOCK : VIZ_SHADE_LIGHT;
        uint8_t bg = c->mixed ? viz_type_color(c->minor) : VGA_BLACK;
        viz_put(row + 1, i, ch, vga_attr(viz_type_color(c->major), bg));
    }

    /* The selected row's cells, marked underneath. */
    const struct entry *e = &entries[selected];
    if (entry_count == 0 || e->last < b->start || e->base >= b->end)
        return;
    uint64_t lo = e->base > b->start ? e->base : b->start;
    uint64_t hi = e->last < b->end - 1 ? e->last : b->end - 1;
    for (uint64_t i = (lo - b->start) / width; i <= (hi - b->start) / width && i < VGA_COLS; i++)
        viz_put(row + 2, (unsigned)i, MARKER, MARKER_ATTR);
}

static void header(void)
{
    if (message[0] && timer_uptime_ms() < message_until) {
        viz_fill(HEADER_ROW, 0, VGA_COLS, ' ', MESSAGE_ATTR);
        viz_text(HEADER_ROW, 1, MESSAGE_ATTR, message);
        return;
    }
    const struct memmap_summary *s = memmap_get_summary();
    size_t raw, clean;
    memmap_raw_entries(&raw);
    memmap_regions(&clean);
    char ram[16], low[16];
    format_size(ram, sizeof(ram), s->usable_bytes);
    format_size(low, sizeof(low), s->usable_bytes - s->above_4g_usable);
    viz_printf(HEADER_ROW, 1, TEXT_ATTR, "RAM %s, usable below 4G %s | firmware: %u entries -> "
               "%u regions", ram, low, (unsigned)raw, (unsigned)clean);
}

static void legend(unsigned row)
{
    static const uint32_t types[] = {MEM_AVAILABLE, MEM_RESERVED, MEM_ACPI_RECLAIMABLE,
                                     MEM_ACPI_NVS, MEM_UNUSABLE, 0};
    unsigned col = 0;
    for (unsigned i = 0; i < ARRAY_SIZE(types); i++) {
        uint32_t t = types[i];
        viz_put(row, col, t ? VIZ_BLOCK : VIZ_SHADE_LIGHT, vga_attr(viz_type_color(t), VGA_BLACK));
        col = viz_text(row, col + 2, TEXT_ATTR, t ? memmap_type_name(t) : "hole") + 1;
    }
    viz_put(row, col, VIZ_SHADE_MEDIUM, vga_attr(VGA_LIGHT_GREEN, VGA_LIGHT_RED));
    viz_text(row, col + 2, TEXT_ATTR, "mixed");
}

static void table_row(unsigned row, size_t i)
{
    const struct entry *e = &entries[i];
    bool lit = i == selected;
    uint8_t attr = lit ? SELECTED_ATTR : e->type ? TEXT_ATTR : DIM_ATTR;
    char size[16];
    format_size(size, sizeof(size), e->last - e->base + 1);
    viz_fill(row, 0, VGA_COLS, ' ', attr);
    viz_put(row, 0, lit ? VIZ_ARROW_RIGHT : ' ', attr);
    uint8_t swatch = e->type ? VIZ_BLOCK : VIZ_SHADE_LIGHT;
    viz_put(row, 1, swatch, vga_attr(viz_type_color(e->type), VGA_BLACK));
    viz_put(row, 2, swatch, vga_attr(viz_type_color(e->type), VGA_BLACK));
    viz_printf(row, 4, attr, "0x%016llx 0x%016llx %10s  %-16s", e->base, e->last, size,
               e->type ? memmap_type_name(e->type) : "(not in the map)");
    if (e->base >= FOUR_GIB)
        viz_text(row, 72, lit ? attr : FAR_ATTR, "above 4G");
    else if (e->last >= FOUR_GIB)
        viz_text(row, 71, lit ? attr : FAR_ATTR, "across 4G");
}

static void table(unsigned top, unsigned rows)
{
    viz_printf(top, 0, HEAD_ATTR, "    %-18s %-18s %10s  %-16s", "start", "last byte", "size",
               "type");
    top++;
    rows--;
    if (selected < scroll)
        scroll = selected;
    else if (selected >= scroll + rows)
        scroll = selected - rows + 1;
    if (entry_count > rows)
        viz_printf(top - 1, 70, DIM_ATTR, "%u-%u of %u", (unsigned)scroll + 1,
                   (unsigned)(scroll + rows < entry_count ? scroll + rows : entry_count),
                   (unsigned)entry_count);
    for (unsigned k = 0; k < rows && scroll + k < entry_count; k++)
        table_row(top + k, scroll + k);
}

/* ---- the selected row in words --------------------------------------------- */

static const char *type_words(uint32_t type)
{
    switch (type) {
    case 0:
        return "No e820 entry covers it: not RAM. A device window, or nothing, answers here.";
    case MEM_AVAILABLE:
        return "e820 type 1, available: RAM the firmware leaves to the OS for any use.";
    case MEM_ACPI_RECLAIMABLE:
        return "e820 type 3: ACPI tables. Read them, and the RAM may be used again.";
    case MEM_ACPI_NVS:
        return "e820 type 4: ACPI non-volatile storage, firmware state kept over sleep.";
    case MEM_UNUSABLE:
        return "e820 type 5: RAM the firmware found faulty. Never to be used.";
    default:
        return "e820 type 2, reserved: firmware, ROM or device memory. Hands off.";
    }
}

/* What usually lives at well-known PC addresses (the first that overlaps
 * the row is named). */
struct landmark {
    uint64_t base, last;
    const char *what;
};

static const struct landmark landmarks[] = {
    {0x0, 0x4ff, "real-mode interrupt table and BIOS data area"},
    {0x9fc00, 0x9ffff, "usually the extended BIOS data area (EBDA)"},
    {0xa0000, 0xbffff, "VGA memory (the text screen is at 0xB8000)"},
    {0xc0000, 0xeffff, "option ROMs (the video BIOS at 0xC0000)"},
    {0xf0000, 0xfffff, "the BIOS ROM"},
    {0xfec00000, 0xfec00fff, "I/O APIC registers (0xFEC00000), PCI windows"},
    {0xfee00000, 0xfee00fff, "local APIC registers (0xFEE00000)"},
    {0xfffc0000, 0xffffffff, "BIOS flash: the CPU starts at 0xFFFFFFF0"},
    {FOUR_GIB, UINT64_MAX, "above 4G, past the PCI hole"},
};

static const char *landmark_of(const struct entry *e)
{
    for (unsigned i = 0; i < ARRAY_SIZE(landmarks); i++)
        if (landmarks[i].base <= e->last && landmarks[i].last >= e->base)
            return landmarks[i].what;
    return NULL;
}

/* Row `row`: what the frame allocator holds in the entry (the part below
 * 4 GiB and inside its zone). */
static void kernel_use(unsigned row, const struct entry *e)
{
    uint64_t zone_end = (uint64_t)pmm_get_zone()->frames * FRAME_SIZE;
    if (e->base >= FOUR_GIB) {
        viz_text(row, 1, FAR_ATTR, "Kernel: none. Above 4G is out of reach of this 32-bit "
                                   "kernel without PAE.");
        return;
    }
    if (e->base >= zone_end) {
        viz_printf(row, 1, TEXT_ATTR, "Kernel: past the frames it tracks (they end at 0x%llx): "
                   "never handed out.", zone_end);
        return;
    }
    uint64_t first = e->base & ~(uint64_t)(FRAME_SIZE - 1);
    uint64_t end = e->last >= zone_end ? zone_end : e->last + 1; /* both <= 4G */
    struct frame_summary s;
    pmm_summarize((paddr_t)first, end - first, 32, &s);
    char most[32] = "all free";
    if (s.allocated + s.reserved)
        ksnprintf(most, sizeof(most), "mostly %s", pmm_tag_name(s.tag));
    unsigned col = viz_printf(row, 1, TEXT_ATTR, "Kernel: frames %u free, %u allocated, %u "
                              "reserved (%s)", s.free, s.allocated, s.reserved, most);
    if (e->last >= FOUR_GIB)
        viz_text(row, col, FAR_ATTR, "; above 4G: no");
}

static void info(void)
{
    if (entry_count == 0) {
        viz_text(INFO_TOP, 1, TEXT_ATTR, "The memory map is empty.");
        return;
    }
    const struct entry *e = &entries[selected];
    char size[16];
    format_size(size, sizeof(size), e->last - e->base + 1);
    uint8_t attr = vga_attr(viz_type_color(e->type), VGA_BLACK);
    unsigned col = viz_printf(INFO_TOP, 1, attr, "%s 0x%llx-0x%llx, %s",
                              e->type ? memmap_type_name(e->type) : "hole", e->base, e->last,
                              size);
    const char *where = landmark_of(e);
    if (where)
        viz_printf(INFO_TOP, col, TEXT_ATTR, ": %s", where);
    viz_text(INFO_TOP + 1, 1, TEXT_ATTR, type_words(e->type));
    kernel_use(INFO_TOP + 2, e);
}

static void draw_map(void)
{
    struct bar bars[MAX_BARS];
    unsigned n = plan_bars(bars);
    header();
    for (unsigned i = 0; i < n; i++)
        draw_bar(BAR_TOP + i * BAR_ROWS, &bars[i]);
    unsigned row = BAR_TOP + n * BAR_ROWS;
    legend(row);
    table(row + 1, INFO_TOP - row - 1);
    info();
}

/* Rows the table shows (as draw_map lays it out), for PgUp/PgDn. */
static size_t table_rows(void)
{
    struct bar bars[MAX_BARS];
    return INFO_TOP - (BAR_TOP + plan_bars(bars) * BAR_ROWS) - 2;
}

static bool key_map(const struct key_event *k)
{
    size_t page = table_rows(), last = entry_count ? entry_count - 1 : 0;
    message[0] = '\0';
    switch (k->code) {
    case KEY_UP:
        if (selected == 0)
            say("This is the first row of the map.");
        else
            selected--;
        return true;
    case KEY_DOWN:
        if (selected >= last)
            say("This is the last row of the map.");
        else
            selected++;
        return true;
    case KEY_PGUP:
        selected = selected > page ? selected - page : 0;
        return true;
    case KEY_PGDN:
        selected = selected + page < last ? selected + page : last;
        return true;
    case KEY_HOME:
        selected = 0;
        return true;
    case KEY_END:
        selected = last;
        return true;
    default:
        say("Here: Up/Down select a row, PgUp/PgDn, Home/End. F1-F5 views, Esc leaves.");
        return false;
    }
}

const struct viz_view viz_view_map = {
    .name = "map",
    .title = "Physical memory map",
    .fkey = KEY_F1,
    .open = open_map,
    .draw = draw_map,
    .key = key_map,
    .keys = "Up/Down select  PgUp/PgDn Home/End",
};
