/*
 * shell.c - the prompt loop: read keys, edit the line, run it.
 *
 * The line editor (lineedit.c) keeps the text; this file draws it.  The
 * input starts right after the prompt at (start_row, start_col) and may
 * wrap over several rows; when it would run past the bottom, the console
 * scrolls and start_row moves up with it.  Editing is drawn on the screen
 * only; the serial log gets the finished line ("kv> help") once, on Enter,
 * so that it reads like a transcript rather than a stream of redraws.
 */
#include "kernel/config.h"
#include "kernel/console.h"
#include "kernel/input.h"
#include "kernel/kstring.h"
#include "kernel/lineedit.h"
#include "kernel/shell.h"
#include "kernel/vga.h"
#include "kernel/viz.h"

#define PROMPT_ATTR vga_attr(VGA_LIGHT_GREEN, VGA_BLACK)

static struct line_editor editor;
static unsigned start_row, start_col;
static size_t drawn; /* characters currently drawn after the prompt */

static void cell_of(size_t index, unsigned *row, unsigned *col)
{
    size_t abs = start_col + index;
    *row = start_row + (unsigned)(abs / VGA_COLS);
    *col = (unsigned)(abs % VGA_COLS);
}

static void prompt(void)
{
    le_new_line(&editor);
    uint8_t saved = console_attr();
    console_set_attr(PROMPT_ATTR);
    console_write_to(CONSOLE_TO_VGA, SHELL_PROMPT, sizeof(SHELL_PROMPT) - 1);
    console_set_attr(saved);
    console_get_cursor(&start_row, &start_col);
    drawn = 0;
}

static void redraw(void)
{
    unsigned row, col;
    /* The cell after the last character must be on screen too: the
     * cursor may sit there. */
    cell_of(editor.len, &row, &col);
    while (row >= VGA_ROWS && start_row > console_top()) {
        console_scroll();
        start_row--;
        row--;
    }
    uint8_t attr = console_attr();
    size_t span = editor.len > drawn ? editor.len : drawn;
    for (size_t i = 0; i < span; i++) {
        cell_of(i, &row, &col);
        vga_put(row, col, i < editor.len ? editor.buf[i] : ' ', attr);
    }
    drawn = editor.len;
    cell_of(editor.cursor, &row, &col);
    console_set_cursor(row, col);
}

/* Leave the edited line (text, as drawn): cursor after its end, suffix,
 * a new line; the serial log gets the whole line once. */
static void finish_line(const char *text, const char *suffix)
{
    unsigned row, col;
    cell_of(strlen(text), &row, &col);
    console_set_cursor(row, col);
    console_write_to(CONSOLE_TO_VGA, suffix, strlen(suffix));
    console_write_to(CONSOLE_TO_VGA, "\n", 1);
    kprintf_to(CONSOLE_TO_SERIAL, "%s%s%s\n", SHELL_PROMPT, text, suffix);
}

void shell_run(void)
{
    le_init(&editor);
    kprintf("Type 'help' for the list of commands.\n");
    prompt();
    for (;;) {
        struct key_event key = input_wait();
        /* F-keys open a view over the shell (which comes back as it was);
         * Alt+digit injects a fault, as if its command had been typed. */
        const struct viz_view *view = key.mods ? NULL : viz_view_for_key(key.code);
        if (view) {
            if (viz_open(view)) { /* faults were reported: a fresh prompt */
                viz_minimap_draw();
                prompt();
            }
            continue;
        }
        const struct viz_hotkey *hot = viz_hotkey_pressed(&key);
        if (hot) {
            finish_line(editor.buf, "");
            viz_inject(hot);
            viz_minimap_draw();
            prompt();
            continue;
        }
        /* Ctrl-C empties the editor's buffer; keep what was on screen. */
        char shown[SHELL_LINE_MAX + 1];
        memcpy(shown, editor.buf, sizeof(shown));
        switch (le_handle_key(&editor, &key)) {
        case LE_CONTINUE:
            redraw();
            break;
        case LE_SUBMIT:
            finish_line(editor.buf, "");
            /* shell_execute splits its argument in place. */
            memcpy(shown, editor.buf, sizeof(shown));
            shell_execute(shown);
            viz_minimap_draw();
            prompt();
            break;
        case LE_CANCEL:
            finish_line(shown, "^C");
            prompt();
            break;
        case LE_IGNORED:
            break;
        }
    }
}
