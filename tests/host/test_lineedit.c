/*
 * test_lineedit.c - the line editor driven key by key.
 */
#include <stdio.h>

#include "check.h"
#include "kernel/lineedit.h"

/* The editor is large (history); one static instance serves all tests. */
static struct line_editor le;

static enum le_result key(uint8_t code)
{
    struct key_event k = { .code = code, .ch = 0, .mods = 0 };
    return le_handle_key(&le, &k);
}

static enum le_result ctrl(char c)
{
    struct key_event k = { .code = KEY_CHAR, .ch = c, .mods = KMOD_CTRL };
    return le_handle_key(&le, &k);
}

static void type(const char *s)
{
    for (; *s; s++) {
        struct key_event k = { .code = KEY_CHAR, .ch = *s, .mods = 0 };
        le_handle_key(&le, &k);
    }
}

/* Types a line and submits it, as the shell would. */
static void submit(const char *s)
{
    le_new_line(&le);
    type(s);
    CHECK_EQ_U64(key(KEY_ENTER), LE_SUBMIT);
    le_new_line(&le);
}

#define CHECK_LINE(text, cur)                                              \
    do {                                                                   \
        CHECK_STR_EQ(le.buf, text);                                        \
        CHECK_EQ_U64(le.len, strlen(text));                                \
        CHECK_EQ_U64(le.cursor, (cur));                                    \
    } while (0)

static void test_insert_and_move(void)
{
    le_init(&le);
    type("hllo");
    CHECK_LINE("hllo", 4);
    key(KEY_HOME);
    CHECK_LINE("hllo", 0);
    key(KEY_RIGHT);
    type("e");
    CHECK_LINE("hello", 2);
    key(KEY_END);
    CHECK_LINE("hello", 5);
    key(KEY_RIGHT); /* at the end: stays */
    CHECK_LINE("hello", 5);
    ctrl('a');
    CHECK_LINE("hello", 0);
    key(KEY_LEFT); /* at the start: stays */
    CHECK_LINE("hello", 0);
    ctrl('e');
    CHECK_LINE("hello", 5);
    key(KEY_LEFT);
    key(KEY_LEFT);
    type(" ");
    CHECK_LINE("hel lo", 4);
}

static void test_delete(void)
{
    le_init(&le);
    CHECK_EQ_U64(key(KEY_BACKSPACE), LE_CONTINUE); /* empty: nothing */
    CHECK_EQ_U64(key(KEY_DELETE), LE_CONTINUE);
    CHECK_LINE("", 0);
    type("abcd");
    key(KEY_DELETE); /* at the end: nothing */
    CHECK_LINE("abcd", 4);
    key(KEY_BACKSPACE);
    CHECK_LINE("abc", 3);
    key(KEY_HOME);
    key(KEY_BACKSPACE); /* at the start: nothing */
    CHECK_LINE("abc", 0);
    key(KEY_DELETE);
    CHECK_LINE("bc", 0);
    key(KEY_RIGHT);
    key(KEY_BACKSPACE);
    CHECK_LINE("c", 0);
    key(KEY_DELETE);
    CHECK_LINE("", 0);
}

static void test_ctrl_u_and_c(void)
{
    le_init(&le);
    type("hello world");
    for (int i = 0; i < 5; i++)
        key(KEY_LEFT);
    CHECK_EQ_U64(ctrl('u'), LE_CONTINUE);
    CHECK_LINE("world", 0);
    ctrl('u'); /* at the start: nothing */
    CHECK_LINE("world", 0);
    CHECK_EQ_U64(ctrl('c'), LE_CANCEL);
    CHECK_LINE("", 0);
    CHECK_EQ_U64(le.hist_count, 0); /* cancelled lines are not history */
    CHECK_EQ_U64(ctrl('z'), LE_IGNORED);
    struct key_event alt = { .code = KEY_CHAR, .ch = 'x', .mods = KMOD_ALT };
    CHECK_EQ_U64(le_handle_key(&le, &alt), LE_IGNORED);
    CHECK_LINE("", 0);
}

static void test_ignored_keys(void)
{
    le_init(&le);
    type("ab");
    static const uint8_t ignored[] = { KEY_TAB, KEY_ESC, KEY_INSERT, KEY_PGUP, KEY_PGDN,
                                       KEY_F1, KEY_F12, KEY_NONE };
    for (size_t i = 0; i < sizeof(ignored); i++)
        CHECK_EQ_U64(key(ignored[i]), LE_IGNORED);
    struct key_event ctl = { .code = KEY_CHAR, .ch = '\n', .mods = 0 };
    CHECK_EQ_U64(le_handle_key(&le, &ctl), LE_IGNORED);
    ctl.ch = (char)0xe9;
    CHECK_EQ_U64(le_handle_key(&le, &ctl), LE_IGNORED);
    CHECK_LINE("ab", 2);
}

static void test_full_line(void)
{
    le_init(&le);
    for (int i = 0; i < SHELL_LINE_MAX; i++)
        type("x");
    CHECK_EQ_U64(le.len, SHELL_LINE_MAX);
    struct key_event k = { .code = KEY_CHAR, .ch = 'y', .mods = 0 };
    CHECK_EQ_U64(le_handle_key(&le, &k), LE_IGNORED);
    key(KEY_HOME);
    CHECK_EQ_U64(le_handle_key(&le, &k), LE_IGNORED);
    CHECK_EQ_U64(le.len, SHELL_LINE_MAX);
    CHECK(le.buf[SHELL_LINE_MAX] == '\0');
    CHECK(le.buf[0] == 'x');
    /* Full lines go into history and come back whole. */
    CHECK_EQ_U64(key(KEY_ENTER), LE_SUBMIT);
    le_new_line(&le);
    key(KEY_UP);
    CHECK_EQ_U64(le.len, SHELL_LINE_MAX);
    CHECK_EQ_U64(le.cursor, SHELL_LINE_MAX);
}

static void test_history(void)
{
    le_init(&le);
    CHECK(le_history_get(&le, 0) == NULL);
    CHECK(le_history_get(&le, 1) == NULL);
    key(KEY_UP); /* no history: nothing */
    CHECK_LINE("", 0);

    submit("one");
    submit("two");
    submit("two");   /* duplicate of the newest: not added */
    submit("");      /* blank: not added */
    submit("   \t"); /* blank: not added */
    submit("three");
    submit("two");   /* not the newest: added */
    CHECK_EQ_U64(le.hist_count, 4);
    CHECK_STR_EQ(le_history_get(&le, 1), "two");
    CHECK_STR_EQ(le_history_get(&le, 2), "three");
    CHECK_STR_EQ(le_history_get(&le, 3), "two");
    CHECK_STR_EQ(le_history_get(&le, 4), "one");
    CHECK(le_history_get(&le, 5) == NULL);

    /* Browse with a draft typed. */
    type("dra");
    key(KEY_LEFT);
    key(KEY_UP);
    CHECK_LINE("two", 3);
    key(KEY_UP);
    CHECK_LINE("three", 5);
    key(KEY_UP);
    key(KEY_UP);
    CHECK_LINE("one", 3);
    key(KEY_UP); /* oldest: stays */
    CHECK_LINE("one", 3);
    key(KEY_DOWN);
    CHECK_LINE("two", 3);
    key(KEY_DOWN);
    key(KEY_DOWN);
    CHECK_LINE("two", 3);
    key(KEY_DOWN); /* past the newest: the draft */
    CHECK_LINE("dra", 3);
    key(KEY_DOWN); /* nothing further */
    CHECK_LINE("dra", 3);

    /* Editing an entry while browsing does not change the stored entry. */
    key(KEY_UP);
    key(KEY_UP);
    type("s");
    CHECK_LINE("threes", 6);
    CHECK_STR_EQ(le_history_get(&le, 2), "three");
    CHECK_EQ_U64(key(KEY_ENTER), LE_SUBMIT);
    CHECK_STR_EQ(le.buf, "threes");
    CHECK_STR_EQ(le_history_get(&le, 1), "threes");
    CHECK_EQ_U64(le.hist_browse, 0);

    /* Ctrl-C while browsing ends browsing. */
    le_new_line(&le);
    key(KEY_UP);
    CHECK_EQ_U64(ctrl('c'), LE_CANCEL);
    CHECK_EQ_U64(le.hist_browse, 0);
    le_new_line(&le);
    key(KEY_DOWN);
    CHECK_LINE("", 0);
}

static void test_history_wrap(void)
{
    char line[32];

    le_init(&le);
    for (int i = 0; i < SHELL_HISTORY * 2 + 3; i++) {
        snprintf(line, sizeof(line), "cmd %d", i);
        submit(line);
    }
    CHECK_EQ_U64(le.hist_count, SHELL_HISTORY);
    for (int k = 1; k <= SHELL_HISTORY; k++) {
        snprintf(line, sizeof(line), "cmd %d", SHELL_HISTORY * 2 + 3 - k);
        CHECK_STR_EQ(le_history_get(&le, (size_t)k), line);
    }
    CHECK(le_history_get(&le, SHELL_HISTORY + 1) == NULL);
    /* Walking up through the whole ring reaches the oldest and stops. */
    for (int k = 0; k < SHELL_HISTORY + 5; k++)
        key(KEY_UP);
    snprintf(line, sizeof(line), "cmd %d", SHELL_HISTORY + 3);
    CHECK_STR_EQ(le.buf, line);
    CHECK_EQ_U64(le.hist_browse, SHELL_HISTORY);
}

static void test_new_line(void)
{
    le_init(&le);
    type("abc");
    key(KEY_UP);
    le_new_line(&le);
    CHECK_LINE("", 0);
    CHECK_EQ_U64(le.hist_browse, 0);
}

int main(void)
{
    RUN(test_insert_and_move);
    RUN(test_delete);
    RUN(test_ctrl_u_and_c);
    RUN(test_ignored_keys);
    RUN(test_full_line);
    RUN(test_history);
    RUN(test_history_wrap);
    RUN(test_new_line);
    return check_summary("lineedit");
}
