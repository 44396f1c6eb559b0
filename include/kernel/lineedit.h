/*
 * lineedit.h - the shell's line editor, pure.
 *
 * Holds one line being typed and a history of submitted lines.  It knows
 * nothing about the screen: after each key the shell redraws the prompt and
 * buf[0..len) and puts the cursor at `cursor`.
 */
#ifndef KERNEL_LINEEDIT_H
#define KERNEL_LINEEDIT_H

#include <stddef.h>

#include "kernel/config.h"
#include "kernel/keys.h"

struct line_editor {
    char buf[SHELL_LINE_MAX + 1]; /* always NUL-terminated */
    size_t len;                   /* characters in buf */
    size_t cursor;                /* 0..len: insertion point */

    /* History: a ring of the last SHELL_HISTORY lines, oldest overwritten. */
    char history[SHELL_HISTORY][SHELL_LINE_MAX + 1];
    size_t hist_count;    /* lines stored, <= SHELL_HISTORY */
    size_t hist_next;     /* ring slot the next line goes into */
    size_t hist_browse;   /* 0 = editing a new line; k = showing the k-th
                             most recent history entry */
    char draft[SHELL_LINE_MAX + 1]; /* the new line, kept while browsing */
};

enum le_result {
    LE_CONTINUE, /* keep editing (the line may have changed: redraw) */
    LE_SUBMIT,   /* Enter: buf holds the line, already added to history */
    LE_CANCEL,   /* Ctrl-C: the line was dropped, buf is empty */
    LE_IGNORED,  /* the key means nothing to the editor (F-keys, Esc...) */
};

/* le_init - empty line, empty history. */
void le_init(struct line_editor *le);

/* le_new_line - start a fresh empty line; history is kept. */
void le_new_line(struct line_editor *le);

/*
 * le_handle_key - apply one key.
 *   printable KEY_CHAR: insert at cursor (a full line ignores it: LE_IGNORED)
 *   Backspace / Delete: remove before / at the cursor
 *   Left / Right / Home / End (also Ctrl-A / Ctrl-E): move the cursor
 *   Up / Down: walk the history (Down past the newest restores the draft)
 *   Ctrl-U: delete from line start to cursor
 *   Ctrl-C: LE_CANCEL;  Enter: LE_SUBMIT
 * On submit a non-blank line that differs from the newest history entry
 * is added to history.  The caller calls le_new_line() before the next
 * line.
 */
enum le_result le_handle_key(struct line_editor *le, const struct key_event *key);

/* le_history_get - the k-th most recent history line (k = 1 is newest), or
 * NULL when k is 0 or beyond hist_count. */
const char *le_history_get(const struct line_editor *le, size_t k);

#endif
