/*
 * frames_view.c - F2: every physical frame the allocator knows, as a grid.
 *
 *   row 1       a cell = 64 frames (256 KiB) | all of memory (32736 frames)  mode: tag
 *   rows 2-17   0x00100000 ################ ################ ################ ...
 *               16 rows of 64 cells (groups of 16), each row's first address
 *               at the left; the cursor is the cell on a blue background
 *   rows 18-19  the legend: what this mode's colours mean, and the shades
 *   rows 20-21  the cell under the cursor: its range and counts, or for a
 *               cell of one frame its state, tag, references, age and the
 *               function that allocated it
 *   row 22      the go-to prompt, a message about the last key, or a hint
 *
 * A cell covers 2^shift frames; shift runs from 0 (one frame a cell) up to
 * the smallest value that puts every frame on one screen (1024 cells: a
 * 4 GiB zone needs 1024 frames a cell).  The grid scrolls to follow the
 * cursor, and zooming keeps the frame under the cursor in view.
 *
 * Every draw reads the allocator afresh through pmm_summarize (exact
 * counts from the bitmaps, plus the records of SAMPLES frames a cell for
 * the tag, refcount and age), so `stress on` is watched live.  Refcounts
 * and ages of a cell of many frames are therefore from samples; at one
 * frame a cell they are exact.
 */
#include "kernel/format.h"
#include "kernel/kstring.h"
#include "kernel/pmm.h"
#include "kernel/symbols.h"
#include "kernel/vga.h"
#include "kernel/viz.h"
#include "addr_input.h"
#include "frames_view.h"

#define HEADER_ROW 1
#define GRID_TOP 2
#define GRID_ROWS 16
#define GRID_COLS 64
#define GRID_CELLS (GRID_ROWS * GRID_COLS)
#define GROUP 16          /* cells between the gaps of a grid row */
#define LABEL_COL 1
#define CELL_COL 12       /* "0x00100000 " comes first */
#define LEGEND_ROW 18     /* and the row below */
#define INFO_ROW 20       /* and the row below */
#define PROMPT_ROW 22
#define SAMPLES 8         /* frame records read per cell */

#define TEXT_ATTR vga_attr(VGA_LIGHT_GREY, VGA_BLACK)
#define HEAD_ATTR vga_attr(VGA_WHITE, VGA_BLACK)
#define LABEL_ATTR vga_attr(VGA_DARK_GREY, VGA_BLACK)
#define CURSOR_LABEL_ATTR vga_attr(VGA_YELLOW, VGA_BLACK)
#define HINT_ATTR vga_attr(VGA_DARK_GREY, VGA_BLACK)
#define PROMPT_ATTR vga_attr(VGA_YELLOW, VGA_BLACK)
#define ERROR_ATTR vga_attr(VGA_LIGHT_RED, VGA_BLACK)
#define CURSOR_BG VGA_BLUE
#define CURSOR_SQUARE 0xfe /* CP437 small square */

/* Kept between visits, so F2 comes back to the same place. */
static struct {
    bool placed;       /* set up once the zone is known */
    unsigned shift;    /* a cell = 1 << shift frames */
    uint32_t cursor;   /* the frame under the cursor */
    uint32_t top;      /* the first grid row on screen */
    enum frames_mode mode;
    struct viz_addr_input go_to; /* after `g`: the address being typed */
    char message[VGA_COLS];
} st;

static uint32_t zone_frames(void)
{
    return pmm_get_zone()->frames;
}

static uint32_t cell_count(unsigned shift)
{
    return (uint32_t)(((uint64_t)zone_frames() + (1u << shift) - 1) >> shift);
}

static uint32_t row_count(unsigned shift)
{
    return (cell_count(shift) + GRID_COLS - 1) / GRID_COLS;
}

/* The smallest shift that shows all of memory on one screen. */
static unsigned max_shift(void)
{
    unsigned shift = 0;
    while (cell_count(shift) > GRID_CELLS)
        shift++;
    return shift;
}

static uint32_t cursor_cell(void)
{
    return st.cursor >> st.shift;
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(st.message, sizeof(st.message), fmt, ap);
    va_end(ap);
}

/* Scroll so that the cursor's row is on screen (in the middle: after a
 * zoom or a jump, where the eye has to find it again). */
static void follow_cursor(bool center)
{
    uint32_t row = cursor_cell() / GRID_COLS, rows = row_count(st.shift);
    uint32_t last_top = rows > GRID_ROWS ? rows - GRID_ROWS : 0;
    if (center)
        st.top = row > GRID_ROWS / 2 ? row - GRID_ROWS / 2 : 0;
    else if (row < st.top)
        st.top = row;
    else if (row >= st.top + GRID_ROWS)
        st.top = row - GRID_ROWS + 1;
    if (st.top > last_top)
        st.top = last_top;
}

static void open_frames(void)
{
    if (!st.placed || st.shift > max_shift()) {
        st.shift = max_shift();
        st.cursor = 0;
        st.placed = true;
    }
    if (st.cursor >= zone_frames())
        st.cursor = zone_frames() - 1;
    st.go_to.active = false;
    st.message[0] = '\0';
    follow_cursor(false);
}

/* The cursor: the cell on a blue background, in its own colour.  A full
 * block would hide the background, so it becomes a square inside it. */
static void with_cursor(uint8_t *ch, uint8_t *attr)
{
    uint8_t fg = *attr & 0x0f;
    if (*ch == VIZ_BLOCK)
        *ch = CURSOR_SQUARE;
    *attr = vga_attr(fg == CURSOR_BG ? VGA_BLACK : fg, CURSOR_BG);
}

/* ---- Drawing --------------------------------------------------------------- */

static void header(void)
{
    char size[16];
    format_size(size, sizeof(size), (uint64_t)FRAME_SIZE << st.shift);
    unsigned col = viz_printf(HEADER_ROW, 1, HEAD_ATTR, "a cell = %u frame%s (%s)",
                              1u << st.shift, st.shift ? "s" : "", size);
    if (row_count(st.shift) <= GRID_ROWS) {
        viz_printf(HEADER_ROW, col, HEAD_ATTR, " | all of memory (%u frames)", zone_frames());
    } else {
        uint64_t first = (uint64_t)st.top * GRID_COLS << st.shift;
        uint64_t end = (uint64_t)(st.top + GRID_ROWS) * GRID_COLS << st.shift;
        if (end > zone_frames())
            end = zone_frames();
        viz_printf(HEADER_ROW, col, HEAD_ATTR, " | 0x%08llx-0x%08llx of 0x%08llx",
                   first * FRAME_SIZE, end * FRAME_SIZE - 1,
                   (uint64_t)zone_frames() * FRAME_SIZE);
    }
    char mode[16];
    int len = ksnprintf(mode, sizeof(mode), "mode: %s", frames_mode_name(st.mode));
    viz_text(HEADER_ROW, VGA_COLS - 1 - (unsigned)len, HEAD_ATTR, mode);
}

static unsigned cell_column(unsigned c)
{
    return CELL_COL + c + c / GROUP;
}

static void grid(void)
{
    uint32_t cells = cell_count(st.shift), cursor = cursor_cell();
    for (unsigned r = 0; r < GRID_ROWS; r++) {
        uint32_t row_first = (st.top + r) * GRID_COLS;
        if (row_first >= cells)
            break; /* rows past the last frame stay blank */
        uint64_t addr = ((uint64_t)row_first << st.shift) * FRAME_SIZE;
        bool cursor_row = cursor / GRID_COLS == st.top + r;
        viz_printf(GRID_TOP + r, LABEL_COL, cursor_row ? CURSOR_LABEL_ATTR : LABEL_ATTR,
                   "0x%08llx", addr);
        for (unsigned c = 0; c < GRID_COLS; c++) {
            uint32_t cell = row_first + c;
            uint8_t ch = ' ', attr = TEXT_ATTR;
            if (cell < cells) {
                struct frame_summary s;
                pmm_summarize((paddr_t)(cell << st.shift) * FRAME_SIZE,
                              (uint64_t)FRAME_SIZE << st.shift, SAMPLES, &s);
                frames_cell_look(st.mode, &s, &ch, &attr);
            }
            if (cell == cursor)
                with_cursor(&ch, &attr);
            viz_put(GRID_TOP + r, cell_column(c), ch, attr);
        }
    }
}

static const char *state_name(enum frame_state s)
{
    return s == FRAME_FREE ? "free" : s == FRAME_ALLOCATED ? "allocated" : "reserved";
}

/* One frame, exactly: pmm_query. */
static void frame_details(uint32_t frame)
{
    struct frame_info fi;
    pmm_query((paddr_t)frame * FRAME_SIZE, &fi);
    unsigned col = viz_printf(INFO_ROW, 1, TEXT_ATTR, "frame 0x%08x: %s",
                              frame * FRAME_SIZE, state_name(fi.state));
    if (fi.state == FRAME_FREE && fi.queued) {
        viz_printf(INFO_ROW + 1, 1, TEXT_ATTR,
                   "freed lately, queued: %u of %u to go out before the bitmap is searched",
                   fi.queued, pmm_get_zone()->queue_count);
        return;
    }
    if (fi.state == FRAME_FREE) {
        viz_text(INFO_ROW + 1, 1, TEXT_ATTR, "free: the next allocation may take it");
        return;
    }
    col = viz_text(INFO_ROW, col, TEXT_ATTR, ", tag ");
    col = viz_text(INFO_ROW, col, vga_attr(viz_tag_color(fi.tag), VGA_BLACK),
                   pmm_tag_name(fi.tag));
    if (fi.state == FRAME_RESERVED) {
        viz_text(INFO_ROW + 1, 1, TEXT_ATTR, "reserved at boot: never handed out, never freed");
        return;
    }
    viz_printf(INFO_ROW, col, TEXT_ATTR, ", %u reference%s, age %u s%s", fi.refs,
               fi.refs == 1 ? "" : "s", fi.age, fi.age >= 128 ? " or more" : "");
    /* The owner is a return address: name the function it returns into. */
    char who[48];
    pmm_owner_format(fi.owner, who, sizeof(who));
    viz_printf(INFO_ROW + 1, 1, TEXT_ATTR, "allocated by %s (return address 0x%08x)", who,
               fi.owner);
}

/* A cell of many frames: exact counts, sampled tag/refs/age. */
static void cell_details(uint32_t cell)
{
    uint32_t first = cell << st.shift;
    struct frame_summary s;
    pmm_summarize((paddr_t)first * FRAME_SIZE, (uint64_t)FRAME_SIZE << st.shift, SAMPLES, &s);
    uint64_t end = (uint64_t)(first + s.frames) * FRAME_SIZE - 1;
    viz_printf(INFO_ROW, 1, TEXT_ATTR, "0x%08x-0x%08llx: %u frames, %u free, %u allocated, %u "
               "reserved", first * FRAME_SIZE, end, s.frames, s.free, s.allocated, s.reserved);
    if (s.allocated + s.reserved == 0) {
        viz_text(INFO_ROW + 1, 1, TEXT_ATTR, "all free");
        return;
    }
    unsigned col = viz_text(INFO_ROW + 1, 1, TEXT_ATTR, "mostly ");
    col = viz_text(INFO_ROW + 1, col, vga_attr(viz_tag_color(s.tag), VGA_BLACK),
                   pmm_tag_name(s.tag));
    if (s.youngest == 0xff)
        viz_printf(INFO_ROW + 1, col, TEXT_ATTR, "; no allocated frame among %u sampled",
                   SAMPLES);
    else
        viz_printf(INFO_ROW + 1, col, TEXT_ATTR, "; of %u sampled: max refs %u, youngest %u s",
                   SAMPLES, s.max_refs, s.youngest);
}

static void prompt_row(void)
{
    unsigned col = 1;
    if (st.go_to.active) {
        col = viz_printf(PROMPT_ROW, col, PROMPT_ATTR, "go to address: %s", st.go_to.text);
        viz_put(PROMPT_ROW, col, '_', vga_attr(VGA_BLACK, VGA_YELLOW));
        col += 3;
    }
    if (st.message[0])
        viz_text(PROMPT_ROW, col, ERROR_ATTR, st.message);
    else if (st.go_to.active)
        viz_text(PROMPT_ROW, col, HINT_ATTR, "hex digits, Enter to go, Backspace to edit");
    else
        viz_text(PROMPT_ROW, col, HINT_ATTR,
                 "Home/End first/last cell  t/h/a tag/heat/age mode  q or Esc back");
}

static void draw_frames(void)
{
    if (!st.placed)
        open_frames();
    header();
    grid();
    frames_legend(st.mode, LEGEND_ROW);
    if (st.shift == 0)
        frame_details(st.cursor);
    else
        cell_details(cursor_cell());
    prompt_row();
}

/* ---- Keys ------------------------------------------------------------------ */

static void move_to(int64_t cell)
{
    int64_t last = (int64_t)cell_count(st.shift) - 1;
    cell = cell < 0 ? 0 : cell > last ? last : cell;
    st.cursor = (uint32_t)cell << st.shift;
    follow_cursor(false);
}

/* step -1 zooms in (fewer frames a cell), +1 out. */
static void zoom(int step)
{
    if (step < 0 && st.shift == 0) {
        say("already 1 frame a cell: - zooms out");
        return;
    }
    if (step > 0 && st.shift >= max_shift()) {
        say("all of memory is on the screen already: + zooms in");
        return;
    }
    st.shift = (unsigned)((int)st.shift + step);
    follow_cursor(true);
}

/* Enter after `g`: move the cursor to the frame holding the address. */
static void go(void)
{
    uint32_t addr;
    if (!viz_addr_parse(st.go_to.text, &addr)) { /* only "": addr_input refuses the rest */
        say("no address typed: g, then hex digits, then Enter");
        return;
    }
    uint64_t end = (uint64_t)zone_frames() * FRAME_SIZE;
    if (addr >= end) {
        say("0x%x is past the end of memory: frames end at 0x%08llx", addr, end);
        return;
    }
    st.cursor = addr / FRAME_SIZE;
    follow_cursor(true);
}

/* A key while the address is typed: every key is the input's. */
static bool go_to_key(const struct key_event *k)
{
    const char *why;
    enum viz_addr_result r = viz_addr_input_key(&st.go_to, k, &why);
    if (why)
        say("%s", why);
    if (r == VIZ_ADDR_ENTER)
        go();
    return r != VIZ_ADDR_REFUSED;
}

static bool key_frames(const struct key_event *k)
{
    st.message[0] = '\0'; /* a message answers the key before this one */
    if (st.go_to.active)
        return go_to_key(k);
    int64_t cell = cursor_cell();
    switch (k->code) {
    case KEY_LEFT:  move_to(cell - 1); return true;
    case KEY_RIGHT: move_to(cell + 1); return true;
    case KEY_UP:    move_to(cell - GRID_COLS); return true;
    case KEY_DOWN:  move_to(cell + GRID_COLS); return true;
    case KEY_PGUP:  move_to(cell - GRID_CELLS); return true;
    case KEY_PGDN:  move_to(cell + GRID_CELLS); return true;
    case KEY_HOME:  move_to(0); return true;
    case KEY_END:   move_to(INT64_MAX); return true;
    case KEY_CHAR:
        if (!(k->mods & KMOD_CTRL))
            break;
        say("Ctrl+%c does nothing here", k->ch);
        return false;
    default:
        say("%s does nothing here", key_name((enum key_code)k->code));
        return false;
    }
    switch (k->ch) {
    case '+': case '=': zoom(-1); return true;
    case '-': case '_': zoom(+1); return true;
    case 'm': st.mode = (st.mode + 1) % FRAMES_MODES; return true;
    case 't': st.mode = FRAMES_TAG; return true;
    case 'h': st.mode = FRAMES_HEAT; return true;
    case 'a': st.mode = FRAMES_AGE; return true;
    case 'g':
        viz_addr_input_start(&st.go_to);
        return true;
    default:
        say("'%c' does nothing here", k->ch);
        return false;
    }
}

const struct viz_view viz_view_frames = {
    .name = "frames",
    .title = "Physical frames",
    .fkey = KEY_F2,
    .open = open_frames,
    .draw = draw_frames,
    .key = key_frames,
    .keys = "arrows/PgUp/PgDn move  +/- zoom  g go to  m mode",
};
