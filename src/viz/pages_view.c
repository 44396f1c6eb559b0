/*
 * pages_view.c - F3: the page tables as grids, and the walk of one address.
 *
 * Directory mode shows the 1024 directory entries, table mode the 1024
 * entries of one page table; either way 16 rows of 64 cells, a cell per
 * entry, with each row's first virtual address on the left:
 *
 *   row 1      CR3 0x0018a000 | 7 of 1024 PDEs present | cell 4 MiB, row 256 MiB
 *   rows 2-17  0x00000000 #...............................................
 *              0x10000000 ................................................
 *              ...                                        (16 x 64 cells)
 *              0xf0000000 ..............................................#@
 *   row 18     legend: what each colour and shape means
 *   rows 19-21 the entry under the cursor, or the walk of an address:
 *              virtual 0x50000123 = directory index 320 | table index 0 | ...
 *              CR3 0x0018a000 -> PDE[320] = 0x0019b027 (table at 0x0019b000)
 *                -> PTE[0] = 0x00123063 -> frame 0x00123000 + 0x123 = ...
 *   row 22     a message (what a key did or why it did nothing), or the
 *              address being typed after `t`
 *
 * Colour says who may use an entry (kernel or user) and how (read-write
 * or read-only); in a table, the shape says whether the CPU has touched
 * the page (dirty, accessed, neither).  The cursor is a black square on
 * the cell's colour; the entry a walk went through is lit red; the
 * recursive slot (@ above) is an infinity sign on cyan.
 *
 * Each frame reads 1024 entries (the grid) and counts the entries of one
 * table (the cursor's), never all the tables: draw() runs four times a
 * second.  Everything is read through paging.h; the view changes nothing.
 */
#include <stdarg.h>

#include "kernel/format.h"
#include "kernel/kstring.h"
#include "kernel/paging.h"
#include "kernel/vga.h"
#include "kernel/viz.h"
#include "addr_input.h"
#include "pages_view.h"

#define GRID_TOP 2
#define GRID_ROWS 16
#define GRID_COLS 64
#define LABEL_COL 1
#define GRID_LEFT 12
#define LEGEND_ROW 18

#define HEAD_ATTR vga_attr(VGA_YELLOW, VGA_BLACK)
#define LABEL_ATTR vga_attr(VGA_LIGHT_GREY, VGA_BLACK)
#define LABEL_CURSOR_ATTR vga_attr(VGA_WHITE, VGA_BLACK)
#define TEXT_ATTR vga_attr(VGA_LIGHT_GREY, VGA_BLACK)
#define HINT_ATTR vga_attr(VGA_DARK_GREY, VGA_BLACK)
#define NOTE_ATTR vga_attr(VGA_YELLOW, VGA_BLACK)
#define ERROR_ATTR vga_attr(VGA_LIGHT_RED, VGA_BLACK)
#define INPUT_ATTR vga_attr(VGA_WHITE, VGA_BLUE)
#define LIT_BG VGA_LIGHT_RED

enum pages_mode { MODE_DIRECTORY, MODE_TABLE };

static struct {
    enum pages_mode mode;
    uint32_t dir_cursor;  /* directory entry under the cursor */
    uint32_t table;       /* table mode: the directory entry of the table */
    uint32_t pte_cursor;  /* table mode: the entry under the cursor */
    struct viz_addr_input typed; /* after `t`: the address being typed */
    bool walk_lit;        /* walk_va's entries are lit in the grids */
    bool walk_shown;      /* the lower rows show the walk (until a move) */
    vaddr_t walk_va;
    const char *walk_from; /* "the address typed", "the last fault's address", ... */
    char message[VGA_COLS];
    bool message_is_error;
} st;

/* How a cell looks: its character in its colour, or (inverse) a black
 * character on a background of that colour. */
struct cell_look {
    uint8_t ch, color;
    bool inverse;
};

static void say(bool is_error, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(bool is_error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(st.message, sizeof(st.message), fmt, ap);
    va_end(ap);
    st.message_is_error = is_error;
}

static uint8_t access_color(pte_t e)
{
    if (e & PTE_USER)
        return (e & PTE_WRITABLE) ? PAGES_USER_RW : PAGES_USER_RO;
    return (e & PTE_WRITABLE) ? PAGES_KERNEL_RW : PAGES_KERNEL_RO;
}

static struct cell_look pde_look(uint32_t index, pte_t e)
{
    if (!(e & PTE_PRESENT))
        return (struct cell_look){VIZ_DOT, PAGES_NONE, false};
    if (index == PT_RECURSIVE_SLOT)
        return (struct cell_look){PAGES_CH_RECURSIVE, PAGES_RECURSIVE, true};
    if (e & PTE_PS)
        return (struct cell_look){PAGES_CH_LARGE, PAGES_LARGE, false};
    return (struct cell_look){VIZ_BLOCK, access_color(e), false};
}

/* A page's shape says what the CPU did with it since the bits were set
 * clear: written (dirty), only read (accessed), untouched. */
static struct cell_look pte_look(pte_t e)
{
    if (!(e & PTE_PRESENT))
        return (struct cell_look){VIZ_DOT, PAGES_NONE, false};
    uint8_t ch = (e & PTE_DIRTY)      ? VIZ_BLOCK
                 : (e & PTE_ACCESSED) ? VIZ_SHADE_DARK
                                      : VIZ_SHADE_LIGHT;
    return (struct cell_look){ch, access_color(e), false};
}

/* One cell, with the cursor (a black square on the cell's colour) and the
 * walk (lit red) drawn over it.  A filled shape becomes a square when lit,
 * or the red background would not show. */
static void put_cell(unsigned index, struct cell_look look, bool cursor, bool lit)
{
    unsigned row = GRID_TOP + index / GRID_COLS, col = GRID_LEFT + index % GRID_COLS;
    uint8_t ch = look.ch, attr;
    bool filled = ch == VIZ_BLOCK || ch == VIZ_SHADE_DARK || ch == VIZ_SHADE_MEDIUM ||
                  ch == VIZ_SHADE_LIGHT;
    if (lit) {
        attr = vga_attr(cursor ? VGA_BLACK : VGA_WHITE, LIT_BG);
        ch = cursor || filled ? PAGES_CH_SQUARE : ch;
    } else if (cursor) {
        attr = vga_attr(VGA_BLACK, look.color == PAGES_NONE ? VGA_LIGHT_GREY : look.color);
        ch = PAGES_CH_SQUARE;
    } else {
        attr = look.inverse ? vga_attr(VGA_BLACK, look.color) : vga_attr(look.color, VGA_BLACK);
    }
    viz_put(row, col, ch, attr);
}

/* The left labels: each row's first virtual address (the cursor's row in
 * white). */
static void labels(vaddr_t base, uint32_t row_bytes, uint32_t cursor)
{
    for (unsigned r = 0; r < GRID_ROWS; r++) {
        uint8_t attr = r == cursor / GRID_COLS ? LABEL_CURSOR_ATTR : LABEL_ATTR;
        viz_printf(GRID_TOP + r, LABEL_COL, attr, "0x%08x", base + r * row_bytes);
    }
}

static void draw_directory(void)
{
    unsigned present = 0;
    bool lit_here = st.walk_lit;
    for (uint32_t i = 0; i < PT_ENTRIES; i++) {
        pte_t e = paging_dir_entry(i);
        present += (e & PTE_PRESENT) != 0;
        put_cell(i, pde_look(i, e), i == st.dir_cursor,
                 lit_here && i == pde_index(st.walk_va));
    }
    viz_printf(1, 1, HEAD_ATTR, "CR3 0x%08x | %u of 1024 PDEs present | cell 4 MiB, row 256 MiB",
               paging_directory(), present);
    labels(0, 256u << 20, st.dir_cursor);
    viz_pages_legend(LEGEND_ROW, false);
}

static void draw_table(void)
{
    pte_t pde = paging_dir_entry(st.table);
    bool gone = !(pde & PTE_PRESENT) || (pde & PTE_PS);
    bool lit_here = st.walk_lit && pde_index(st.walk_va) == st.table;
    unsigned present = 0;
    for (uint32_t i = 0; i < PT_ENTRIES; i++) {
        pte_t e = gone ? 0 : paging_table_entry(st.table, i);
        present += (e & PTE_PRESENT) != 0;
        put_cell(i, pte_look(e), i == st.pte_cursor, lit_here && i == pte_index(st.walk_va));
    }
    if (gone)
        viz_printf(1, 1, ERROR_ATTR, "PDE[%u] is no longer present: its table was freed "
                   "(Bksp goes back)", st.table);
    else
        viz_printf(1, 1, HEAD_ATTR, "PDE[%u] -> table 0x%08x | %u of 1024 PTEs present | "
                   "cell 4 KiB", st.table, pte_frame(pde), present);
    labels(st.table << 22, 256u << 10, st.pte_cursor);
    viz_pages_legend(LEGEND_ROW, true);
}

/* The address `t` + Enter walks when nothing was typed. */
static vaddr_t cursor_address(void)
{
    if (st.mode == MODE_TABLE)
        return st.table << 22 | st.pte_cursor << 12;
    return st.dir_cursor << 22;
}

static void draw_message_row(void)
{
    unsigned row = PAGES_MESSAGE_ROW;
    if (st.typed.active) {
        uint32_t fault, seq;
        unsigned col = viz_text(row, 1, NOTE_ATTR, "translate: ");
        col = viz_printf(row, col, INPUT_ATTR, "%s_", st.typed.text);
        if (st.message[0]) /* a refused key says why, in place of the hint */
            viz_text(row, col + 1, ERROR_ATTR, st.message);
        else if (viz_last_fault(&fault, &seq))
            viz_printf(row, col + 1, HINT_ATTR, "hex, Enter walks (empty: last fault 0x%08x)",
                       fault);
        else
            viz_printf(row, col + 1, HINT_ATTR, "hex, Enter walks (empty: the cursor 0x%08x)",
                       cursor_address());
    } else if (st.message[0]) {
        viz_text(row, 1, st.message_is_error ? ERROR_ATTR : NOTE_ATTR, st.message);
    }
}

static void draw_pages(void)
{
    if (st.mode == MODE_TABLE)
        draw_table();
    else
        draw_directory();
    if (st.walk_shown)
        viz_pages_walk(PAGES_INFO_TOP, st.walk_va);
    else if (st.mode == MODE_TABLE)
        viz_pages_pte_info(PAGES_INFO_TOP, st.table, st.pte_cursor);
    else
        viz_pages_pde_info(PAGES_INFO_TOP, st.dir_cursor);
    draw_message_row();
}

static void open_pages(void)
{
    memset(&st, 0, sizeof(st));
    st.mode = MODE_DIRECTORY;
}

/* Open the table of directory entry `index` with the cursor on entry
 * `at`; a message instead when there is no table to open. */
static void open_table(uint32_t index, uint32_t at)
{
    pte_t e = paging_dir_entry(index);
    if (!(e & PTE_PRESENT)) {
        say(true, "PDE[%u] (0x%08x-0x%08x) is not present: no table to open", index,
            index << 22, (index << 22) + 0x3fffff);
        return;
    }
    if (e & PTE_PS) {
        say(true, "PDE[%u] maps one 4 MiB page: there is no table behind it", index);
        return;
    }
    st.mode = MODE_TABLE;
    st.table = index;
    st.pte_cursor = at;
    st.walk_shown = false;
    if (index == PT_RECURSIVE_SLOT)
        say(false, "the directory read as a table: PTE[i] here is PDE[i], table i's frame");
}

/* Walk the address typed (or, for empty text, the default) and show it. */
static void finish_typing(void)
{
    vaddr_t va;
    uint32_t fault, seq;
    if (st.typed.text[0] == '\0') {
        bool had_fault = viz_last_fault(&fault, &seq);
        va = had_fault ? fault : cursor_address();
        st.walk_from = had_fault ? "the last fault's address" : "the cursor's address";
    } else if (viz_addr_parse(st.typed.text, &va)) {
        st.walk_from = "the address typed";
    } else { /* addr_input lets no such text through; said in case */
        say(true, "'%s' is not an address: t, then 1 to 8 hex digits", st.typed.text);
        return;
    }
    st.walk_va = va;
    st.walk_lit = st.walk_shown = true;
    st.mode = MODE_DIRECTORY;
    st.dir_cursor = pde_index(va);
    pte_t pde = paging_dir_entry(st.dir_cursor);
    if ((pde & PTE_PRESENT) && !(pde & PTE_PS))
        say(false, "walk of %s; PDE[%u] lit red; Enter opens its table", st.walk_from,
            st.dir_cursor);
    else
        say(false, "walk of %s; PDE[%u] lit red; no table to open", st.walk_from,
            st.dir_cursor);
}

/* A key while the address is typed: every key is the input's. */
static bool typing_key(const struct key_event *k)
{
    const char *why;
    enum viz_addr_result r = viz_addr_input_key(&st.typed, k, &why);
    if (why)
        say(r == VIZ_ADDR_REFUSED, "%s", why);
    if (r == VIZ_ADDR_ENTER)
        finish_typing();
    return r != VIZ_ADDR_REFUSED;
}

/* Arrows, PgUp/PgDn (a quarter of the grid), Home/End: false when k is
 * not a move. */
static bool move(const struct key_event *k, uint32_t *cursor)
{
    uint32_t c = *cursor, col = c % GRID_COLS;
    const uint32_t quarter = GRID_COLS * GRID_ROWS / 4;
    switch (k->code) {
    case KEY_LEFT: c = c > 0 ? c - 1 : c; break;
    case KEY_RIGHT: c = c + 1 < PT_ENTRIES ? c + 1 : c; break;
    case KEY_UP: c = c >= GRID_COLS ? c - GRID_COLS : c; break;
    case KEY_DOWN: c = c + GRID_COLS < PT_ENTRIES ? c + GRID_COLS : c; break;
    case KEY_PGUP: c = c >= quarter ? c - quarter : col; break;
    case KEY_PGDN: c = c + quarter < PT_ENTRIES ? c + quarter : PT_ENTRIES - GRID_COLS + col; break;
    case KEY_HOME: c = 0; break;
    case KEY_END: c = PT_ENTRIES - 1; break;
    default: return false;
    }
    *cursor = c;
    return true;
}

static void back(void)
{
    if (st.mode == MODE_TABLE) {
        st.mode = MODE_DIRECTORY;
        st.dir_cursor = st.table;
    } else {
        say(true, "already at the directory, the top level (Esc leaves)");
    }
}

static void enter(void)
{
    if (st.mode == MODE_TABLE) {
        say(true, "a PTE is the last level: it points at a frame (Bksp goes back)");
        return;
    }
    if (st.walk_shown)
        open_table(pde_index(st.walk_va), pte_index(st.walk_va));
    else
        open_table(st.dir_cursor, 0);
}

static bool key_pages(const struct key_event *k)
{
    st.message[0] = '\0';
    if (st.typed.active)
        return typing_key(k);
    if (move(k, st.mode == MODE_TABLE ? &st.pte_cursor : &st.dir_cursor)) {
        st.walk_shown = false;
        return true;
    }
    bool plain = k->code == KEY_CHAR && !(k->mods & (KMOD_CTRL | KMOD_ALT));
    if (k->code == KEY_ENTER) {
        enter();
    } else if (k->code == KEY_BACKSPACE || (plain && k->ch == 'u')) {
        st.walk_shown = false;
        back();
    } else if (plain && k->ch == 't') {
        viz_addr_input_start(&st.typed);
    } else {
        char what[16];
        if (k->code == KEY_CHAR)
            ksnprintf(what, sizeof(what), "'%c'", k->ch);
        else
            ksnprintf(what, sizeof(what), "%s", key_name(k->code));
        say(true, "%s does nothing here: arrows move, Enter opens, Bksp back, t translate",
            what);
        return false;
    }
    return true;
}

const struct viz_view viz_view_pages = {
    .name = "pages",
    .title = "Page tables",
    .fkey = KEY_F3,
    .open = open_pages,
    .draw = draw_pages,
    .key = key_pages,
    .keys = "arrows move  Enter open  Bksp back  t translate",
};
