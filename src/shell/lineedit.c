/*
 * lineedit.c - the shell's line editor, pure.
 *
 * The line is a plain character array with a cursor; every edit keeps
 * buf[len] == '\0' so the shell can print and parse it directly.
 *
 * History is a ring of SHELL_HISTORY lines.  hist_next is the slot the next
 * submitted line goes into, so the k-th most recent line sits k slots
 * before it:
 *
 *     slots:  [ 3 ][ 4 ][ 0 ][ 1 ][ 2 ]      (numbers: submission order)
 *                       ^ hist_next: "0" is the oldest and is overwritten
 *
 * Up/Down browse the history by copying an entry into buf.  The first Up
 * saves the line being typed in `draft`; Down past the newest entry brings
 * it back.  An entry shown while browsing may be edited before Enter; the
 * edit changes buf only, never the stored entry.
 *
 * Alt+key and Ctrl+key combinations other than Ctrl-A/C/E/U are ignored
 * rather than inserted: they are commands in other editors, and inserting
 * their letter would surprise.
 */
#include "kernel/lineedit.h"

#include "kernel/kstring.h"

/* le_init - see lineedit.h. */
void le_init(struct line_editor *le)
{
    memset(le, 0, sizeof(*le));
}

/* le_new_line - see lineedit.h. */
void le_new_line(struct line_editor *le)
{
    le->buf[0] = '\0';
    le->len = 0;
    le->cursor = 0;
    le->hist_browse = 0;
    le->draft[0] = '\0';
}

/* le_history_get - see lineedit.h. */
const char *le_history_get(const struct line_editor *le, size_t k)
{
    if (k == 0 || k > le->hist_count)
        return NULL;
    return le->history[(le->hist_next + SHELL_HISTORY - k) % SHELL_HISTORY];
}

/* Replaces the whole line (history browsing), cursor at the end. */
static void set_line(struct line_editor *le, const char *text)
{
    le->len = kstrlcpy(le->buf, text, sizeof(le->buf));
    if (le->len > SHELL_LINE_MAX)
        le->len = SHELL_LINE_MAX; /* cannot happen: entries came from buf */
    le->cursor = le->len;
}

/* Removes buf[from..to) and closes the gap (the NUL moves with it). */
static void delete_range(struct line_editor *le, size_t from, size_t to)
{
    memmove(le->buf + from, le->buf + to, le->len - to + 1);
    le->len -= to - from;
}

static bool is_blank(const char *s)
{
    for (; *s != '\0'; s++)
        if (*s != ' ' && *s != '\t')
            return false;
    return true;
}

/* On Enter: store the line unless it is blank or repeats the newest one. */
static void remember(struct line_editor *le)
{
    const char *newest = le_history_get(le, 1);
    if (is_blank(le->buf) || (newest != NULL && strcmp(newest, le->buf) == 0))
        return;
    kstrlcpy(le->history[le->hist_next], le->buf, SHELL_LINE_MAX + 1);
    le->hist_next = (le->hist_next + 1) % SHELL_HISTORY;
    if (le->hist_count < SHELL_HISTORY)
        le->hist_count++;
}

static enum le_result history_up(struct line_editor *le)
{
    if (le->hist_browse >= le->hist_count)
        return LE_CONTINUE; /* already at the oldest entry */
    if (le->hist_browse == 0)
        kstrlcpy(le->draft, le->buf, sizeof(le->draft));
    le->hist_browse++;
    set_line(le, le_history_get(le, le->hist_browse));
    return LE_CONTINUE;
}

static enum le_result history_down(struct line_editor *le)
{
    if (le->hist_browse == 0)
        return LE_CONTINUE;
    le->hist_browse--;
    set_line(le, le->hist_browse == 0 ? le->draft : le_history_get(le, le->hist_browse));
    return LE_CONTINUE;
}

/* Ctrl+letter commands. */
static enum le_result control_key(struct line_editor *le, char letter)
{
    switch (letter) {
    case 'a':
        le->cursor = 0;
        return LE_CONTINUE;
    case 'e':
        le->cursor = le->len;
        return LE_CONTINUE;
    case 'u':
        delete_range(le, 0, le->cursor);
        le->cursor = 0;
        return LE_CONTINUE;
    case 'c':
        le->buf[0] = '\0';
        le->len = 0;
        le->cursor = 0;
        le->hist_browse = 0;
        return LE_CANCEL;
    default:
        return LE_IGNORED;
    }
}

static enum le_result insert_char(struct line_editor *le, char c)
{
    if ((unsigned char)c < 0x20 || (unsigned char)c > 0x7e)
        return LE_IGNORED; /* not printable: nothing to show */
    if (le->len >= SHELL_LINE_MAX)
        return LE_IGNORED;
    memmove(le->buf + le->cursor + 1, le->buf + le->cursor, le->len - le->cursor + 1);
    le->buf[le->cursor] = c;
    le->len++;
    le->cursor++;
    return LE_CONTINUE;
}

/* le_handle_key - see lineedit.h. */
enum le_result le_handle_key(struct line_editor *le, const struct key_event *key)
{
    switch (key->code) {
    case KEY_CHAR:
        if (key->mods & KMOD_CTRL)
            return control_key(le, key->ch);
        if (key->mods & KMOD_ALT)
            return LE_IGNORED;
        return insert_char(le, key->ch);
    case KEY_ENTER:
        remember(le);
        le->hist_browse = 0;
        return LE_SUBMIT;
    case KEY_BACKSPACE:
        if (le->cursor > 0) {
            delete_range(le, le->cursor - 1, le->cursor);
            le->cursor--;
        }
        return LE_CONTINUE;
    case KEY_DELETE:
        if (le->cursor < le->len)
            delete_range(le, le->cursor, le->cursor + 1);
        return LE_CONTINUE;
    case KEY_LEFT:
        if (le->cursor > 0)
            le->cursor--;
        return LE_CONTINUE;
    case KEY_RIGHT:
        if (le->cursor < le->len)
            le->cursor++;
        return LE_CONTINUE;
    case KEY_HOME:
        le->cursor = 0;
        return LE_CONTINUE;
    case KEY_END:
        le->cursor = le->len;
        return LE_CONTINUE;
    case KEY_UP:
        return history_up(le);
    case KEY_DOWN:
        return history_down(le);
    default:
        return LE_IGNORED; /* Tab, Esc, Insert, PgUp/PgDn, F-keys */
    }
}
