/*
 * faults_view.c - F5: the fault log, one fault decoded, and the hotkeys.
 *
 *   rows 1-2    how many faults since boot; the table's heading
 *   rows 3-10   the newest eight faults, newest first (the newest lit)
 *   rows 12-16  the selected fault in words: what, where, the call chain
 *   rows 17-22  the fault hotkeys; here the digit alone injects
 *
 * Colours: the newest fault's address white on red, the selected row
 * inverted.  (A fatal fault would be light red, but it ends in the panic
 * screen, so it is seen here only if the log is ever kept across one.)
 */
#include "kernel/config.h"
#include "kernel/fault.h"
#include "kernel/format.h"
#include "kernel/symbols.h"
#include "kernel/vga.h"
#include "kernel/viz.h"
#include "viz_internal.h"

#define LIST_TOP 3
#define LIST_ROWS 8
#define DETAIL_TOP 12
#define KEYS_TOP 17

#define HEAD_ATTR vga_attr(VGA_YELLOW, VGA_BLACK)
#define TEXT_ATTR vga_attr(VGA_LIGHT_GREY, VGA_BLACK)
#define SELECTED_ATTR vga_attr(VGA_BLACK, VGA_LIGHT_GREY)
#define FATAL_ATTR vga_attr(VGA_LIGHT_RED, VGA_BLACK)
#define ADDR_ATTR vga_attr(VGA_WHITE, VGA_RED)

static unsigned selected; /* 0 = the newest */

static void open_faults(void)
{
    selected = 0;
}

/* The i-th newest record, or NULL. */
static const struct fault_record *newest(size_t i)
{
    const struct fault_log *log = fault_log_global();
    size_t n = fault_log_count(log);
    return i < n ? fault_log_get(log, n - 1 - i) : NULL;
}

static void list(void)
{
    viz_text(LIST_TOP - 1, 1, HEAD_ATTR,
             "  #   time     command  address  where                what");
    for (unsigned i = 0; i < LIST_ROWS; i++) {
        const struct fault_record *r = newest(i);
        if (!r)
            break;
        char sym[21], what[64];
        symbols_format(r->eip, sym, sizeof(sym));
        fault_record_what(r, what, sizeof(what));
        uint8_t attr = i == selected ? SELECTED_ATTR
                       : r->outcome == FAULT_FATAL ? FATAL_ATTR : TEXT_ATTR;
        viz_fill(LIST_TOP + i, 1, VGA_COLS - 2, ' ', attr);
        viz_printf(LIST_TOP + i, 1, attr, "%c%-3u %4u.%03us %-8.8s %08x %-20s %.24s",
                   i == 0 ? VIZ_ARROW_RIGHT : ' ', r->seq, r->uptime_ms / 1000,
                   r->uptime_ms % 1000, r->command[0] ? r->command : "-",
                   r->vector == 14 ? r->cr2 : r->eip, sym, what);
        if (i == 0) /* the newest fault's address (columns 25-32), lit */
            for (unsigned c = 25; c < 33; c++)
                viz_put(LIST_TOP, c, (uint8_t)(viz_canvas_get(LIST_TOP, c) & 0xff), ADDR_ATTR);
    }
}

static void detail(void)
{
    const struct fault_record *r = newest(selected);
    viz_fill(DETAIL_TOP - 1, 1, VGA_COLS - 2, VIZ_HLINE, vga_attr(VGA_DARK_GREY, VGA_BLACK));
    /* The legend of the list's colours, on the rule. */
    unsigned col = viz_text(DETAIL_TOP - 1, 3, TEXT_ATTR, " ");
    col = viz_text(DETAIL_TOP - 1, col, ADDR_ATTR, "00000000");
    col = viz_text(DETAIL_TOP - 1, col, TEXT_ATTR, " the newest fault's address  ");
    col = viz_text(DETAIL_TOP - 1, col, SELECTED_ATTR, " selected: below ");
    viz_text(DETAIL_TOP - 1, col, TEXT_ATTR, " ");
    if (!r) {
        viz_text(DETAIL_TOP, 2, TEXT_ATTR, "No faults yet. Press a digit below to make one,");
        viz_text(DETAIL_TOP + 1, 2, TEXT_ATTR, "or type `pf 0` at the prompt (read address 0).");
        return;
    }
    char what[64], sym[48];
    fault_record_what(r, what, sizeof(what));
    viz_printf(DETAIL_TOP, 2, HEAD_ATTR, "fault #%u: %s%s", r->seq, what,
               r->outcome == FAULT_FATAL ? " (fatal)" : ", recovered");
    if (r->vector == 14)
        viz_printf(DETAIL_TOP + 1, 2, TEXT_ATTR,
                   "address touched (CR2) 0x%08x, error code 0x%x, in command `%s`", r->cr2,
                   r->error_code, r->command[0] ? r->command : "-");
    else
        viz_printf(DETAIL_TOP + 1, 2, TEXT_ATTR, "exception %u, error code 0x%x, in `%s`",
                   r->vector, r->error_code, r->command[0] ? r->command : "-");
    symbols_format(r->eip, sym, sizeof(sym));
    viz_printf(DETAIL_TOP + 2, 2, TEXT_ATTR, "instruction (EIP) 0x%08x %s", r->eip, sym);
    col = viz_text(DETAIL_TOP + 3, 2, TEXT_ATTR, "called from:");
    for (unsigned k = 1; k < r->depth && k < 4; k++) {
        symbols_format_return(r->trace[k], sym, sizeof(sym));
        col = viz_printf(DETAIL_TOP + 3 + (k == 3), k == 3 ? 14 : col, TEXT_ATTR, " %s", sym);
    }
}

static void hotkeys(void)
{
    size_t n;
    const struct viz_hotkey *h = viz_hotkeys(&n);
    viz_fill(KEYS_TOP, 1, VGA_COLS - 2, VIZ_HLINE, vga_attr(VGA_DARK_GREY, VGA_BLACK));
    viz_text(KEYS_TOP, 3, HEAD_ATTR, " inject a fault: the digit here, Alt+digit anywhere ");
    for (size_t i = 0; i < n; i++) {
        unsigned row = KEYS_TOP + 1 + (unsigned)(i % 5), col = i < 5 ? 2 : 41;
        viz_printf(row, col, vga_attr(VGA_WHITE, VGA_BLACK), "%c", h[i].key);
        viz_printf(row, col + 2, TEXT_ATTR, "%.36s", h[i].what);
    }
}

static void draw_faults(void)
{
    const struct fault_log *log = fault_log_global();
    viz_printf(1, 1, TEXT_ATTR, "%u fault%s since boot, every one caught; the log keeps the "
               "last %u.", log->total, log->total == 1 ? "" : "s", FAULT_LOG_SIZE);
    list();
    detail();
    hotkeys();
}

static bool key_faults(const struct key_event *k)
{
    if (k->code == KEY_UP && selected > 0) {
        selected--;
        return true;
    }
    if (k->code == KEY_DOWN && newest(selected + 1) && selected + 1 < LIST_ROWS) {
        selected++;
        return true;
    }
    const struct viz_hotkey *h = k->code == KEY_CHAR ? viz_hotkey_for(k->ch) : NULL;
    if (h) {
        viz_inject_from_view(h);
        selected = 0;
        return true;
    }
    return false;
}

const struct viz_view viz_view_faults = {
    .name = "faults",
    .title = "Faults, caught and decoded",
    .fkey = KEY_F5,
    .open = open_faults,
    .draw = draw_faults,
    .key = key_faults,
    .keys = "Up/Down select  1-9,0 inject a fault",
};
