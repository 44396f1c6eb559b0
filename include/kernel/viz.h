/*
 * viz.h - the visualizer: memory drawn on the text screen.
 *
 * The visualizer only reads the memory subsystem through its public
 * headers.  Colours are shared by every view so that "available" looks the
 * same in the map table, the address bar and (later) the frame grid.
 *
 * viz_bar_cells is pure (host-tested); the views print through the console.
 */
#ifndef KERNEL_VIZ_H
#define KERNEL_VIZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/memmap.h"

/* viz_type_color - the VGA colour (0..15) of a memory type; 0 (a hole)
 * and unknown types have colours too. */
uint8_t viz_type_color(uint32_t type);

/* viz_type_letter - the serial (ASCII) form of a bar cell:
 * A available, R reserved, C ACPI reclaimable, N ACPI NVS, U unusable,
 * '.' hole. */
char viz_type_letter(uint32_t type);

/* viz_tag_color - the VGA colour of a frame tag (enum frame_tag); every
 * tag has its own. */
uint8_t viz_tag_color(unsigned tag);

/* viz_summary_cell - how one cell of a frame grid looks: a dot (dark
 * green) when every frame is free, else the dominant tag's colour with a
 * block for 7/8 used or more, and dark, medium, light shades for at least
 * 1/2, 1/8, and less; blank for a range past the zone. */
struct frame_summary;
void viz_summary_cell(const struct frame_summary *s, uint8_t *ch, uint8_t *attr);

/* One cell of an address bar: the type covering most of its bytes, the
 * runner-up, and whether it mixes types (holes count as type 0). */
struct viz_cell {
    uint8_t major;
    uint8_t minor; /* == major when the cell is one type */
    bool mixed;
};

/*
 * viz_bar_cells - split [start, end) into `cells` equal slices (the last
 * may be shorter; end > start) and classify each against a sanitized map.
 * A slice is `mixed` when more than one type (or a hole) shares it.
 */
void viz_bar_cells(const struct mem_region *regions, size_t count, uint64_t start, uint64_t end,
                   unsigned cells, struct viz_cell *out);

/* viz_short_addr - "0", "640K", "1M", "128M", "4G", "1.5G" style labels
 * for tick marks (exact multiples shown plainly, others in hex). */
void viz_short_addr(char *buf, size_t size, uint64_t addr);

/* ---- Views (print on the console) --------------------------------------- */

/* viz_memmap_table - one line per region with gaps, totals by class. */
void viz_memmap_table(void);
/* viz_memmap_raw - the firmware's entries and what sanitizing did. */
void viz_memmap_raw(void);
/* viz_memmap_bar - the address space as colour bars with ticks, legend. */
void viz_memmap_bar(void);

/* ---- The full-screen visualizer (src/viz/screen.c, src/viz/viz.c) -------
 *
 *   row 0       title: "Kernel-V", the views with their keys, this one lit
 *   rows 1..22  the view's body (its picture, its legend)
 *   row 23      status: frames free/used, heap in use, uptime, faults
 *   row 24      keys: what works in this view, then the global keys
 *
 * A view draws its whole body into an off-screen canvas every frame
 * (viz_put and friends); viz_flush then writes only the cells that differ
 * from what the screen shows, so a redraw that changes nothing writes
 * nothing and nothing flickers.  While a view is open it is redrawn every
 * VIZ_REFRESH_MS and after every key, so allocations made elsewhere (the
 * timer, `stress`) show up without a key press.
 */
#include "kernel/keys.h"

#define VIZ_BODY_TOP 1
#define VIZ_BODY_ROWS 22
#define VIZ_STATUS_ROW 23
#define VIZ_KEYS_ROW 24
#define VIZ_REFRESH_MS 250

/* Code page 437 characters the views use. */
#define VIZ_BLOCK 0xdb        /* full block */
#define VIZ_SHADE_LIGHT 0xb0
#define VIZ_SHADE_MEDIUM 0xb1
#define VIZ_SHADE_DARK 0xb2
#define VIZ_HALF_LOWER 0xdc
#define VIZ_HALF_UPPER 0xdf
#define VIZ_HLINE 0xc4
#define VIZ_VLINE 0xb3
#define VIZ_CORNER_TL 0xda
#define VIZ_CORNER_TR 0xbf
#define VIZ_CORNER_BL 0xc0
#define VIZ_CORNER_BR 0xd9
#define VIZ_ARROW_RIGHT 0x1a
#define VIZ_ARROW_DOWN 0x19
#define VIZ_DOT 0xfa          /* middle dot */

/* Drawing into the canvas (clipped to the screen; nothing reaches VGA
 * before viz_flush).  viz_text and viz_printf return the column after the
 * last character written. */
void viz_put(unsigned row, unsigned col, uint8_t ch, uint8_t attr);
unsigned viz_text(unsigned row, unsigned col, uint8_t attr, const char *s);
unsigned viz_printf(unsigned row, unsigned col, uint8_t attr, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void viz_fill(unsigned row, unsigned col, unsigned n, uint8_t ch, uint8_t attr);
/* viz_box - a single-line frame around rows [top, bottom], cols [left, right]. */
void viz_box(unsigned top, unsigned left, unsigned bottom, unsigned right, uint8_t attr);
/* viz_canvas_get - a canvas cell as (attr << 8 | ch). */
uint16_t viz_canvas_get(unsigned row, unsigned col);
void viz_canvas_clear(uint8_t attr);

/* viz_flush - copy the cells that changed to the screen; returns how many
 * were written.  viz_invalidate forgets what the screen shows (the next
 * flush writes every cell). */
unsigned viz_flush(void);
void viz_invalidate(void);

/* viz_screen_save / viz_screen_restore - keep the shell's screen (cells
 * and cursor) while a view covers it. */
void viz_screen_save(void);
void viz_screen_restore(void);

/* One full-screen view. */
struct viz_view {
    const char *name;   /* for `viz <name>`: "map", "frames", ... */
    const char *title;  /* on the title row */
    uint8_t fkey;       /* KEY_F1.. that opens it from anywhere */
    void (*open)(void); /* optional: called each time the view is entered */
    void (*draw)(void); /* fill the body rows (the whole body, every time) */
    /* optional: a key the view understands; true when it was used */
    bool (*key)(const struct key_event *k);
    const char *keys;   /* its keys for the bottom row, e.g. "arrows move  +/- zoom" */
};

/* The views (each in its own file). */
extern const struct viz_view viz_view_map, viz_view_frames, viz_view_pages, viz_view_heap,
    viz_view_faults;

/* viz_open - show `v` full-screen until Esc (F-keys switch views, the fault
 * hotkeys work); the shell's screen comes back afterwards.  Returns true
 * when faults were injected meanwhile (their reports went to the console,
 * so the shell's last line is no longer its prompt). */
bool viz_open(const struct viz_view *v);
/* viz_find - the view called name, or NULL. */
const struct viz_view *viz_find(const char *name);
/* viz_view_for_key - the view an F-key opens, or NULL. */
const struct viz_view *viz_view_for_key(uint8_t code);

/* viz_status_line - draw the status row into the canvas at `row`;
 * viz_status_format - its text: frames free/used, heap in use, uptime,
 * faults so far. */
void viz_status_line(unsigned row);
void viz_status_format(char *buf, size_t size);

/* The last fault the log holds (for highlighting): its address (CR2 for a
 * page fault, else EIP) and sequence number; false if there is none. */
bool viz_last_fault(uint32_t *addr, uint32_t *seq);

/* ---- Fault injection (src/viz/inject.c) ---------------------------------- */

/* One hotkey: Alt+key anywhere (the shell, every view), or the plain key
 * in the faults view.  `command` is the shell command it runs. */
struct viz_hotkey {
    char key;             /* '1'..'9', '0' */
    const char *what;     /* "NULL dereference" */
    const char *command;  /* "pf 0x0 r" */
};
const struct viz_hotkey *viz_hotkeys(size_t *count);
const struct viz_hotkey *viz_hotkey_for(char key);
/* viz_hotkey_pressed - the hotkey an Alt+digit key event asks for, or NULL. */
const struct viz_hotkey *viz_hotkey_pressed(const struct key_event *k);
/* viz_inject - run a hotkey's fault as a shell command would (reported,
 * logged, survived).  Prints on the console. */
void viz_inject(const struct viz_hotkey *h);

/* ---- Split mode (src/viz/minimap.c) ------------------------------------ */

#define VIZ_MINIMAP_ROWS 4
/* viz_split - on: the live mini-map takes the top rows and the shell runs
 * below it; off: the shell gets the whole screen back. */
void viz_split(bool on);
bool viz_split_on(void);
/* The map's cells: two rows of 80 over every frame, each cell
 * viz_minimap_cell_bytes() of physical memory (whole frames). */
#define VIZ_MINIMAP_CELLS 160
uint64_t viz_minimap_cell_bytes(void);
/* viz_minimap_draw - redraw the mini-map now (changed cells only). */
void viz_minimap_draw(void);

/* viz_commands_register - the `viz`, `stress` and `demo` commands, and
 * the visualizer's timer tick. */
void viz_commands_register(void);
/* viz_print_keys - the keys that work everywhere (`help keys`). */
void viz_print_keys(void);

#endif
