/*
 * fuzz_lineedit.c - input bytes through the decoders into the line editor.
 *
 * The first byte picks where the rest goes: the serial decoder, the PS/2
 * decoder, or (mixed) each following pair of bytes picks one of the two
 * for its second byte.  Every key event then goes to le_handle_key, and
 * after each one the editor's invariants are checked and its state is
 * compared with a reference model written differently: the line is kept as
 * a string edited with whole-string rebuilds, and the history as a plain
 * list, newest last, whose oldest entry is shifted out when full.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/keys.h"
#include "kernel/lineedit.h"

#define FAIL(...)                                                          \
    do {                                                                   \
        fprintf(stderr, "fuzz_lineedit: " __VA_ARGS__);                    \
        fputc('\n', stderr);                                               \
        abort();                                                           \
    } while (0)

#define LINE SHELL_LINE_MAX

struct model {
    char line[LINE + 1];
    size_t cursor;
    char hist[SHELL_HISTORY][LINE + 1]; /* hist[0] oldest, hist[n-1] newest */
    size_t n;
    size_t browse;
    char draft[LINE + 1];
};

static struct line_editor le;
static struct model m;

/* Rebuilds m.line as line[0..at) + ins + line[at + del ..). */
static void splice(size_t at, size_t del, const char *ins)
{
    char tmp[2 * LINE + 2];
    snprintf(tmp, sizeof(tmp), "%.*s%s%s", (int)at, m.line, ins, m.line + at + del);
    if (strlen(tmp) > LINE)
        FAIL("model line overflow");
    strcpy(m.line, tmp);
}

static void load(const char *s)
{
    strcpy(m.line, s);
    m.cursor = strlen(s);
}

static enum le_result model_key(const struct key_event *k)
{
    size_t len = strlen(m.line);

    switch (k->code) {
    case KEY_CHAR:
        if (k->mods & KMOD_CTRL) {
            if (k->ch == 'a') {
                m.cursor = 0;
            } else if (k->ch == 'e') {
                m.cursor = len;
            } else if (k->ch == 'u') {
                splice(0, m.cursor, "");
                m.cursor = 0;
            } else if (k->ch == 'c') {
                m.line[0] = '\0';
                m.cursor = 0;
                m.browse = 0;
                return LE_CANCEL;
            } else {
                return LE_IGNORED;
            }
            return LE_CONTINUE;
        }
        if ((k->mods & KMOD_ALT) || k->ch < ' ' || k->ch > '~' || len == LINE)
            return LE_IGNORED;
        {
            char one[2] = { k->ch, '\0' };
            splice(m.cursor, 0, one);
            m.cursor++;
        }
        return LE_CONTINUE;
    case KEY_ENTER: {
        bool blank = strspn(m.line, " \t") == len;
        bool dup = m.n > 0 && strcmp(m.hist[m.n - 1], m.line) == 0;
        if (!blank && !dup) {
            if (m.n == SHELL_HISTORY) {
                memmove(m.hist[0], m.hist[1], sizeof(m.hist[0]) * (SHELL_HISTORY - 1));
                m.n--;
            }
            strcpy(m.hist[m.n++], m.line);
        }
        m.browse = 0;
        return LE_SUBMIT;
    }
    case KEY_BACKSPACE:
        if (m.cursor > 0) {
            splice(m.cursor - 1, 1, "");
            m.cursor--;
        }
        return LE_CONTINUE;
    case KEY_DELETE:
        if (m.cursor < len)
            splice(m.cursor, 1, "");
        return LE_CONTINUE;
    case KEY_LEFT:  m.cursor -= (m.cursor > 0); return LE_CONTINUE;
    case KEY_RIGHT: m.cursor += (m.cursor < len); return LE_CONTINUE;
    case KEY_HOME:  m.cursor = 0; return LE_CONTINUE;
    case KEY_END:   m.cursor = len; return LE_CONTINUE;
    case KEY_UP:
        if (m.browse < m.n) {
            if (m.browse == 0)
                strcpy(m.draft, m.line);
            m.browse++;
            load(m.hist[m.n - m.browse]);
        }
        return LE_CONTINUE;
    case KEY_DOWN:
        if (m.browse > 0) {
            m.browse--;
            load(m.browse == 0 ? m.draft : m.hist[m.n - m.browse]);
        }
        return LE_CONTINUE;
    default:
        return LE_IGNORED;
    }
}

static void check_state(void)
{
    if (le.len > SHELL_LINE_MAX || le.cursor > le.len)
        FAIL("len %zu cursor %zu", le.len, le.cursor);
    if (le.buf[le.len] != '\0' || memchr(le.buf, '\0', le.len) != NULL)
        FAIL("buf not a string of len %zu", le.len);
    if (le.hist_count > SHELL_HISTORY || le.hist_next >= SHELL_HISTORY ||
        le.hist_browse > le.hist_count)
        FAIL("history counters %zu %zu %zu", le.hist_count, le.hist_next, le.hist_browse);
    for (size_t i = 0; i < SHELL_HISTORY; i++)
        if (memchr(le.history[i], '\0', sizeof(le.history[i])) == NULL)
            FAIL("history slot %zu unterminated", i);
    if (memchr(le.draft, '\0', sizeof(le.draft)) == NULL)
        FAIL("draft unterminated");

    if (strcmp(le.buf, m.line) != 0 || le.cursor != m.cursor)
        FAIL("line \"%s\"@%zu, model \"%s\"@%zu", le.buf, le.cursor, m.line, m.cursor);
    if (le.hist_count != m.n || le.hist_browse != m.browse)
        FAIL("history %zu/%zu, model %zu/%zu", le.hist_count, le.hist_browse, m.n, m.browse);
    for (size_t k = 1; k <= m.n; k++) {
        const char *h = le_history_get(&le, k);
        if (h == NULL || strcmp(h, m.hist[m.n - k]) != 0)
            FAIL("history entry %zu differs", k);
    }
    if (le_history_get(&le, 0) != NULL || le_history_get(&le, m.n + 1) != NULL)
        FAIL("history_get out of range not NULL");
}

static void apply(const struct key_event *k)
{
    if (k->code >= KEY_CODE_COUNT)
        FAIL("decoder produced code %u", k->code);
    enum le_result got = le_handle_key(&le, k);
    enum le_result want = model_key(k);
    if (got != want)
        FAIL("key %s ch %d mods %x: result %d, model %d", key_name(k->code), k->ch,
             k->mods, got, want);
    check_state();
    /* The shell starts a fresh line after a submitted or cancelled one. */
    if (got == LE_SUBMIT || got == LE_CANCEL) {
        le_new_line(&le);
        m.line[0] = '\0';
        m.cursor = 0;
        m.browse = 0;
        m.draft[0] = '\0';
        check_state();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    struct serial_decoder sd;
    struct kbd_decoder kd;
    struct key_event k;

    if (len == 0)
        return 0;
    le_init(&le);
    memset(&m, 0, sizeof(m));
    serial_decoder_init(&sd);
    kbd_decoder_init(&kd);
    uint8_t mode = data[0] % 3;

    for (size_t i = 1; i < len; i++) {
        bool serial = (mode == 0);
        if (mode == 2) {
            if (i + 1 >= len)
                break;
            serial = data[i++] & 1;
        }
        bool got = serial ? serial_decode(&sd, data[i], &k) : kbd_decode(&kd, data[i], &k);
        if (got)
            apply(&k);
    }
    return 0;
}
