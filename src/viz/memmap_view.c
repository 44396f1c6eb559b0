/*
 * memmap_view.c - the memory map for people: a table, the raw entries with
 * what cleaning did to each, and colour bars of the address space.
 *
 * Every line goes to the screen and the serial log.  The bars are drawn
 * with code page 437 block characters on screen; the serial log gets the
 * same bars as letters (A available, R reserved, ...; lower case where a
 * cell mixes types), which a test or a teacher's terminal can read.
 */
#include "kernel/console.h"
#include "kernel/format.h"
#include "kernel/kstring.h"
#include "kernel/memmap.h"
#include "kernel/vga.h"
#include "kernel/viz.h"

#define FOUR_GIB 0x100000000ull
#define CP437_FULL  0xdb /* full block */
#define CP437_MIXED 0xb1 /* medium shade: fg and bg colours mixed */
#define CP437_LIGHT 0xb0 /* light shade: a hole */

static void with_color(uint8_t fg, const char *text)
{
    uint8_t saved = console_attr();
    console_set_attr(vga_attr(fg, VGA_BLACK));
    console_puts(text);
    console_set_attr(saved);
}

/* The type name padded to `width`, in its colour. */
static void type_column(uint32_t type, int width)
{
    char name[24];
    ksnprintf(name, sizeof(name), "%-*s", width, memmap_type_name(type));
    with_color(viz_type_color(type), name);
}

static uint64_t last_byte(const struct mem_region *r)
{
    return r->base + (r->length - 1);
}

static void gap_line(uint64_t from, uint64_t to_last)
{
    char size[16], line[96];
    format_size(size, sizeof(size), to_last - from + 1);
    ksnprintf(line, sizeof(line), "[gap 0x%016llx-0x%016llx] %-16s %9s\n", from, to_last,
              "(not in the map)", size);
    with_color(VGA_DARK_GREY, line);
}

static void region_line(const struct mem_region *r)
{
    char size[16];
    format_size(size, sizeof(size), r->length);
    kprintf("[mem 0x%016llx-0x%016llx] ", r->base, last_byte(r));
    type_column(r->type, 16);
    kprintf(" %9s", size);
    /* Exactly 80 columns at most: the console wraps only when more follows. */
    if (r->base >= FOUR_GIB)
        with_color(VGA_LIGHT_CYAN, "  above 4G");
    else if (last_byte(r) >= FOUR_GIB)
        with_color(VGA_LIGHT_CYAN, " across 4G");
    kprintf("\n");
}

static void totals(const struct memmap_summary *s)
{
    static const uint32_t order[] = {MEM_AVAILABLE, MEM_RESERVED, MEM_ACPI_RECLAIMABLE,
                                     MEM_ACPI_NVS, MEM_UNUSABLE};
    /* Available always; the other classes when the map has them. */
    kprintf("memmap: totals:");
    bool first = true;
    for (unsigned i = 0; i < ARRAY_SIZE(order); i++) {
        if (order[i] != MEM_AVAILABLE && s->bytes_by_type[order[i]] == 0)
            continue;
        char size[16], text[40];
        format_size(size, sizeof(size), s->bytes_by_type[order[i]]);
        ksnprintf(text, sizeof(text), "%s %s %s", first ? "" : ",", memmap_type_name(order[i]),
                  size);
        with_color(viz_type_color(order[i]), text);
        first = false;
    }
    char size[16];
    format_size(size, sizeof(size), s->usable_end_below_4g);
    kprintf("\nmemmap: usable RAM below 4 GiB ends at 0x%08llx (%s)\n", s->usable_end_below_4g,
            size);
    if (s->regions_above_4g) {
        format_size(size, sizeof(size), s->above_4g_bytes);
        char text[120];
        ksnprintf(text, sizeof(text),
                  "memmap: %s in %u region%s above 4 GiB: not addressable without PAE\n", size,
                  (unsigned)s->regions_above_4g, s->regions_above_4g == 1 ? "" : "s");
        with_color(VGA_LIGHT_CYAN, text);
    }
}

void viz_memmap_table(void)
{
    size_t n, raw_n;
    const struct mem_region *r = memmap_regions(&n);
    memmap_raw_entries(&raw_n);
    kprintf("memmap: %s: %u entries, %u regions after cleaning\n", memmap_source(),
            (unsigned)raw_n, (unsigned)n);
    uint64_t next = 0; /* first address not yet printed */
    for (size_t i = 0; i < n; i++) {
        if (r[i].base > next)
            gap_line(next, r[i].base - 1);
        region_line(&r[i]);
        next = last_byte(&r[i]) + 1; /* 0 after a region ending at 2^64: no gap follows */
    }
    totals(memmap_get_summary());
}

/* ---- memmap raw ------------------------------------------------------- */

static void fate_text(const struct memmap_explanation *x, char *buf, size_t size)
{
    switch (x->fate) {
    case MEMMAP_KEPT:
        ksnprintf(buf, size, "kept as region %u", (unsigned)x->clean_index);
        break;
    case MEMMAP_MERGED:
        ksnprintf(buf, size, "merged into region %u", (unsigned)x->clean_index);
        break;
    case MEMMAP_TRIMMED: {
        char kept[16];
        format_size(kept, sizeof(kept), x->kept_bytes);
        ksnprintf(buf, size, "trimmed by %s: %s left in %u piece%s",
                  memmap_type_name(x->by_type), kept, (unsigned)x->pieces,
                  x->pieces == 1 ? "" : "s");
        break;
    }
    case MEMMAP_DROPPED_COVERED:
        ksnprintf(buf, size, "dropped: all under %s", memmap_type_name(x->by_type));
        break;
    case MEMMAP_DROPPED_ZERO:
        ksnprintf(buf, size, "dropped: zero length");
        break;
    case MEMMAP_DROPPED_WRAP:
        ksnprintf(buf, size, "dropped: wraps past 2^64");
        break;
    }
}

void viz_memmap_raw(void)
{
    size_t raw_n, clean_n;
    const struct mem_region *raw = memmap_raw_entries(&raw_n);
    const struct mem_region *clean = memmap_regions(&clean_n);
    kprintf("memmap raw: %u entries exactly as the %s gave them\n", (unsigned)raw_n,
            memmap_source());
    kprintf("  # base               length             type          what cleaning did\n");
    for (size_t i = 0; i < raw_n; i++) {
        struct memmap_explanation x;
        char fate[64], type[16];
        memmap_explain(raw, i, clean, clean_n, &x);
        fate_text(&x, fate, sizeof(fate));
        kprintf("%3u 0x%016llx 0x%016llx ", (unsigned)i, raw[i].base, raw[i].length);
        ksnprintf(type, sizeof(type), "%u %s", raw[i].type,
                  raw[i].type == memmap_normal_type(raw[i].type) ? memmap_type_name(raw[i].type)
                                                                  : "unknown");
        char padded[16];
        ksnprintf(padded, sizeof(padded), "%-13s", type);
        with_color(viz_type_color(memmap_normal_type(raw[i].type)), padded);
        bool changed = x.fate != MEMMAP_KEPT;
        kprintf(" ");
        if (changed)
            with_color(VGA_YELLOW, fate);
        else
            kprintf("%s", fate);
        kprintf("\n");
    }
    if (memmap_raw_ignored())
        with_color(VGA_LIGHT_RED, "memmap raw: more entries came than the table holds; "
                                  "the rest were ignored (see the boot log)\n");
    kprintf("Cleaning sorts the entries; where they overlap the higher priority wins:\n"
            "unusable > reserved (and unknown types) > ACPI NVS > ACPI reclaimable > "
            "available.\nNeighbours of one type merge; empty and wrapping entries go; "
            "holes stay holes.\n");
}

/* ---- memmap bar -------------------------------------------------------- */

#define BAR_CELLS VGA_COLS

/* Write the label of addr into ticks at column at (pulled left to fit),
 * unless it would touch a label already there. */
static void place_tick(char *ticks, unsigned at, uint64_t addr)
{
    char label[16];
    viz_short_addr(label, sizeof(label), addr);
    unsigned len = (unsigned)strlen(label);
    if (at + len > BAR_CELLS)
        at = BAR_CELLS - len;
    for (unsigned k = at > 0 ? at - 1 : 0; k < at + len + 1 && k < BAR_CELLS; k++)
        if (ticks[k] != ' ')
            return;
    memcpy(ticks + at, label, len);
}

static void draw_bar(const struct mem_region *r, size_t n, uint64_t start, uint64_t end,
                     const char *title)
{
    struct viz_cell cells[BAR_CELLS];
    char from[16], to[16], cell_size[16];
    viz_short_addr(from, sizeof(from), start);
    viz_short_addr(to, sizeof(to), end);
    format_size(cell_size, sizeof(cell_size), (end - start + BAR_CELLS - 1) / BAR_CELLS);
    kprintf("%s, %s - %s (a cell is %s):\n", title, from, to, cell_size);
    viz_bar_cells(r, n, start, end, BAR_CELLS, cells);

    /* Screen: blocks in colour.  Serial: letters. */
    unsigned row, col;
    console_get_cursor(&row, &col);
    for (unsigned i = 0; i < BAR_CELLS; i++) {
        const struct viz_cell *c = &cells[i];
        char ch = c->mixed ? (char)CP437_MIXED : c->major ? (char)CP437_FULL : (char)CP437_LIGHT;
        uint8_t bg = c->mixed ? viz_type_color(c->minor) : VGA_BLACK;
        vga_put(row, i, ch, vga_attr(viz_type_color(c->major), bg));
    }
    console_write_to(CONSOLE_TO_VGA, "\n", 1);
    /* The row was drawn directly: advance past it (the "\n" above may have
     * scrolled, which moves it up with everything else). */
    char letters[BAR_CELLS + 2];
    for (unsigned i = 0; i < BAR_CELLS; i++) {
        char l = viz_type_letter(cells[i].major);
        letters[i] = cells[i].mixed && l >= 'A' && l <= 'Z' ? (char)(l - 'A' + 'a') : l;
    }
    letters[BAR_CELLS] = '\n';
    letters[BAR_CELLS + 1] = '\0';
    console_write_to(CONSOLE_TO_SERIAL, letters, BAR_CELLS + 1);

    /* Ticks: 4G first (where the 32-bit reach ends), then the start, the
     * quarters and the end wherever they do not collide with a label. */
    char ticks[BAR_CELLS + 1];
    for (unsigned i = 0; i < BAR_CELLS; i++)
        ticks[i] = ' ';
    ticks[BAR_CELLS] = '\0';
    uint64_t width = (end - start + BAR_CELLS - 1) / BAR_CELLS;
    if (start < FOUR_GIB && end > FOUR_GIB)
        place_tick(ticks, (unsigned)((FOUR_GIB - start) / width), FOUR_GIB);
    for (unsigned q = 0; q <= 4; q++)
        place_tick(ticks, q * (BAR_CELLS / 4), q == 4 ? end : start + (end - start) / 4 * q);
    kprintf("%s\n", ticks);
}

/* A tidy end for a bar: the next power of two up to 1 GiB, the next whole
 * GiB above (so 5 GiB of map gives a 0-6G bar, not 0-8G); saturates. */
static uint64_t tidy_end(uint64_t v)
{
    uint64_t t;
    if (v > GIB(1))
        return align_up_u64(v, GIB(1), &t) ? t : v;
    for (t = 1; t < v; t <<= 1)
        ;
    return t;
}

void viz_memmap_bar(void)
{
    size_t n;
    const struct mem_region *r = memmap_regions(&n);
    if (n == 0) {
        kprintf("memmap bar: the map is empty\n");
        return;
    }
    const struct memmap_summary *s = memmap_get_summary();
    uint64_t top = last_byte(&r[n - 1]);
    top = top == UINT64_MAX ? top : tidy_end(top + 1);
    draw_bar(r, n, 0, top, "The whole physical address space");
    if (s->usable_end_below_4g > MIB(1))
        draw_bar(r, n, 0, tidy_end(s->usable_end_below_4g), "Where the RAM is");
    draw_bar(r, n, 0, MIB(1), "The first MiB (real-mode memory, VGA, BIOS)");

    static const uint32_t legend[] = {MEM_AVAILABLE, MEM_RESERVED, MEM_ACPI_RECLAIMABLE,
                                      MEM_ACPI_NVS, MEM_UNUSABLE, 0};
    kprintf("legend:");
    for (unsigned i = 0; i < ARRAY_SIZE(legend); i++) {
        uint32_t t = legend[i];
        char block = t ? (char)CP437_FULL : (char)CP437_LIGHT, letter = viz_type_letter(t);
        /* The block in colour on screen, the letter on serial. */
        uint8_t saved = console_attr();
        console_set_attr(vga_attr(viz_type_color(t), VGA_BLACK));
        console_write_to(CONSOLE_TO_ALL, " ", 1);
        console_write_to(CONSOLE_TO_VGA, &block, 1);
        console_write_to(CONSOLE_TO_SERIAL, &letter, 1);
        console_set_attr(saved);
        kprintf(" %s", t ? memmap_type_name(t) : "hole");
    }
    kprintf("\n");
    with_color(VGA_LIGHT_GREY, "        a shaded cell mixes two types (lower-case letter on serial)\n");
    if (top > FOUR_GIB)
        with_color(VGA_LIGHT_CYAN, "        past 4G: present, but not addressable without PAE\n");
}
