/*
 * test_keys.c - scancode and serial byte sequences to key events.
 *
 * Each case feeds a byte sequence to a fresh (or a continuing) decoder and
 * collects the events, then compares them with the expected list.
 */
#include <stdint.h>

#include "check.h"
#include "kernel/keys.h"

#define MAX_EVENTS 32

struct events {
    int n;
    struct key_event ev[MAX_EVENTS];
};

static struct events feed_kbd(struct kbd_decoder *d, const uint8_t *bytes, size_t n)
{
    struct events e = { 0 };
    for (size_t i = 0; i < n; i++) {
        struct key_event k;
        if (kbd_decode(d, bytes[i], &k) && e.n < MAX_EVENTS)
            e.ev[e.n++] = k;
    }
    return e;
}

static struct events feed_serial(struct serial_decoder *d, const uint8_t *bytes, size_t n)
{
    struct events e = { 0 };
    for (size_t i = 0; i < n; i++) {
        struct key_event k;
        if (serial_decode(d, bytes[i], &k) && e.n < MAX_EVENTS)
            e.ev[e.n++] = k;
    }
    return e;
}

/* Fresh-decoder helpers taking a byte list. */
#define KBD(...)                                                           \
    ({                                                                     \
        static const uint8_t b_[] = { __VA_ARGS__ };                       \
        struct kbd_decoder d_;                                             \
        kbd_decoder_init(&d_);                                             \
        feed_kbd(&d_, b_, sizeof(b_));                                     \
    })
#define SER(...)                                                           \
    ({                                                                     \
        static const uint8_t b_[] = { __VA_ARGS__ };                       \
        struct serial_decoder d_;                                          \
        serial_decoder_init(&d_);                                          \
        feed_serial(&d_, b_, sizeof(b_));                                  \
    })

#define CHECK_EVENT(e, i, code_, ch_, mods_)                               \
    do {                                                                   \
        CHECK((i) < (e).n);                                                \
        if ((i) < (e).n) {                                                 \
            CHECK_EQ_U64((e).ev[i].code, (code_));                         \
            CHECK_EQ_U64((uint8_t)(e).ev[i].ch, (uint8_t)(ch_));           \
            CHECK_EQ_U64((e).ev[i].mods, (mods_));                         \
        }                                                                  \
    } while (0)

/* Checks that e holds exactly the characters of s, with modifiers mods. */
static void check_text(struct events e, const char *s, uint8_t mods)
{
    CHECK_EQ_U64(e.n, strlen(s));
    for (int i = 0; i < e.n && s[i]; i++)
        CHECK_EVENT(e, i, KEY_CHAR, s[i], mods);
}

static void test_letters(void)
{
    /* h i, each pressed and released */
    check_text(KBD(0x23, 0xA3, 0x17, 0x97), "hi", 0);
    /* whole rows */
    check_text(KBD(0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19),
               "qwertyuiop", 0);
    check_text(KBD(0x1E, 0x1F, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26),
               "asdfghjkl", 0);
    check_text(KBD(0x2C, 0x2D, 0x2E, 0x2F, 0x30, 0x31, 0x32), "zxcvbnm", 0);
    check_text(KBD(0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B,
                   0x0C, 0x0D), "1234567890-=", 0);
    check_text(KBD(0x1A, 0x1B, 0x27, 0x28, 0x29, 0x2B, 0x33, 0x34, 0x35, 0x39),
               "[];'`\\,./ ", 0);
    /* Typematic repeat: three make codes, three events. */
    check_text(KBD(0x1E, 0x1E, 0x1E, 0x9E), "aaa", 0);
}

static void test_shift(void)
{
    /* LShift down, a, LShift up, a */
    struct events e = KBD(0x2A, 0x1E, 0x9E, 0xAA, 0x1E);
    CHECK_EVENT(e, 0, KEY_CHAR, 'A', KMOD_SHIFT);
    CHECK_EVENT(e, 1, KEY_CHAR, 'a', 0);
    CHECK_EQ_U64(e.n, 2);
    /* RShift and the digit row symbols */
    check_text(KBD(0x36, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A,
                   0x0B, 0x0C, 0x0D), "!@#$%^&*()_+", KMOD_SHIFT);
    check_text(KBD(0x36, 0x1A, 0x1B, 0x27, 0x28, 0x29, 0x2B, 0x33, 0x34, 0x35),
               "{}:\"~|<>?", KMOD_SHIFT);
    /* Both shifts down, one released: still shifted. */
    e = KBD(0x2A, 0x36, 0xAA, 0x10, 0xB6, 0x10);
    CHECK_EVENT(e, 0, KEY_CHAR, 'Q', KMOD_SHIFT);
    CHECK_EVENT(e, 1, KEY_CHAR, 'q', 0);
    /* Fake shifts around an extended key do not touch the real Shift. */
    e = KBD(0x2A, 0xE0, 0xAA, 0xE0, 0x48, 0xE0, 0xC8, 0xE0, 0x2A, 0x1E);
    CHECK_EQ_U64(e.n, 2);
    CHECK_EVENT(e, 0, KEY_UP, 0, KMOD_SHIFT);
    CHECK_EVENT(e, 1, KEY_CHAR, 'A', KMOD_SHIFT);
    e = KBD(0xE0, 0x2A, 0x1E);
    CHECK_EVENT(e, 0, KEY_CHAR, 'a', 0);
}

static void test_caps_lock(void)
{
    /* Caps on: letters upper, digits untouched. */
    struct events e = KBD(0x3A, 0xBA, 0x1E, 0x02);
    CHECK_EVENT(e, 0, KEY_CHAR, 'A', KMOD_CAPS);
    CHECK_EVENT(e, 1, KEY_CHAR, '1', KMOD_CAPS);
    /* Caps + Shift: letters lower again, digits shifted. */
    e = KBD(0x3A, 0xBA, 0x2A, 0x1E, 0x02);
    CHECK_EVENT(e, 0, KEY_CHAR, 'a', KMOD_CAPS | KMOD_SHIFT);
    CHECK_EVENT(e, 1, KEY_CHAR, '!', KMOD_CAPS | KMOD_SHIFT);
    /* Second press turns it off. */
    e = KBD(0x3A, 0xBA, 0x3A, 0xBA, 0x1E);
    CHECK_EVENT(e, 0, KEY_CHAR, 'a', 0);
    /* Held Caps Lock repeats its make code: toggles once only. */
    e = KBD(0x3A, 0x3A, 0x3A, 0x3A, 0xBA, 0x1E);
    CHECK_EVENT(e, 0, KEY_CHAR, 'A', KMOD_CAPS);
    CHECK_EQ_U64(e.n, 1);
}

static void test_ctrl_alt(void)
{
    /* Ctrl-C, left Ctrl */
    struct events e = KBD(0x1D, 0x2E, 0xAE, 0x9D, 0x2E);
    CHECK_EVENT(e, 0, KEY_CHAR, 'c', KMOD_CTRL);
    CHECK_EVENT(e, 1, KEY_CHAR, 'c', 0);
    /* Right Ctrl (E0 1D) with Shift and Caps: still plain 'c'. */
    e = KBD(0x3A, 0xBA, 0x2A, 0xE0, 0x1D, 0x2E, 0xE0, 0x9D, 0x2E);
    CHECK_EVENT(e, 0, KEY_CHAR, 'c', KMOD_CTRL | KMOD_SHIFT | KMOD_CAPS);
    CHECK_EVENT(e, 1, KEY_CHAR, 'c', KMOD_SHIFT | KMOD_CAPS);
    /* Alt, left and right */
    e = KBD(0x38, 0x20, 0xB8, 0xE0, 0x38, 0x20, 0xE0, 0xB8, 0x20);
    CHECK_EVENT(e, 0, KEY_CHAR, 'd', KMOD_ALT);
    CHECK_EVENT(e, 1, KEY_CHAR, 'd', KMOD_ALT);
    CHECK_EVENT(e, 2, KEY_CHAR, 'd', 0);
    /* Modifiers alone make no events. */
    e = KBD(0x2A, 0xAA, 0x36, 0xB6, 0x1D, 0x9D, 0x38, 0xB8, 0xE0, 0x1D, 0xE0, 0x9D);
    CHECK_EQ_U64(e.n, 0);
}

static void test_special_keys(void)
{
    struct events e = KBD(0x01, 0x0E, 0x0F, 0x1C, 0xE0, 0x1C);
    CHECK_EQ_U64(e.n, 5);
    CHECK_EVENT(e, 0, KEY_ESC, 0, 0);
    CHECK_EVENT(e, 1, KEY_BACKSPACE, 0, 0);
    CHECK_EVENT(e, 2, KEY_TAB, 0, 0);
    CHECK_EVENT(e, 3, KEY_ENTER, 0, 0);
    CHECK_EVENT(e, 4, KEY_ENTER, 0, 0); /* keypad Enter */

    /* F1..F10 are 3B..44, F11 57, F12 58 */
    e = KBD(0x3B, 0x3C, 0x3D, 0x3E, 0x3F, 0x40, 0x41, 0x42, 0x43, 0x44, 0x57, 0x58);
    CHECK_EQ_U64(e.n, 12);
    for (int i = 0; i < 12; i++)
        CHECK_EVENT(e, i, KEY_F1 + i, 0, 0);
}

static void test_extended_and_keypad(void)
{
    static const uint8_t codes[] = { 0x47, 0x48, 0x49, 0x4B, 0x4D, 0x4F, 0x50, 0x51, 0x52, 0x53 };
    static const uint8_t keys[] = { KEY_HOME, KEY_UP, KEY_PGUP, KEY_LEFT, KEY_RIGHT,
                                    KEY_END, KEY_DOWN, KEY_PGDN, KEY_INSERT, KEY_DELETE };
    for (size_t i = 0; i < sizeof(codes); i++) {
        struct kbd_decoder d;
        kbd_decoder_init(&d);
        /* grey key (E0 xx), release, then the keypad key (Num Lock off) */
        const uint8_t seq[] = { 0xE0, codes[i], 0xE0, (uint8_t)(codes[i] | 0x80),
                                codes[i], (uint8_t)(codes[i] | 0x80) };
        struct events e = feed_kbd(&d, seq, sizeof(seq));
        CHECK_EQ_U64(e.n, 2);
        CHECK_EVENT(e, 0, keys[i], 0, 0);
        CHECK_EVENT(e, 1, keys[i], 0, 0);
    }
    /* keypad 5 does nothing; keypad - + * and E0 / are characters */
    struct events e = KBD(0x4C, 0xCC, 0x4A, 0x4E, 0x37, 0xE0, 0x35);
    check_text(e, "-+*/", 0);
    /* PrtSc, Windows keys, Num/Scroll Lock, Ctrl+Break: nothing */
    e = KBD(0xE0, 0x2A, 0xE0, 0x37, 0xE0, 0xB7, 0xE0, 0xAA, 0xE0, 0x5B, 0xE0, 0xDB,
            0x45, 0xC5, 0x46, 0xC6, 0xE0, 0x46, 0xE0, 0xC6, 0xE0, 0x5D);
    CHECK_EQ_U64(e.n, 0);
}

static void test_pause_and_junk(void)
{
    /* Pause is skipped entirely; the key after it decodes normally.
     * Its 0x45 and 0xC5 must not be taken for Num Lock, nor 1D for Ctrl. */
    struct events e = KBD(0xE1, 0x1D, 0x45, 0xE1, 0x9D, 0xC5, 0x1E);
    CHECK_EQ_U64(e.n, 1);
    CHECK_EVENT(e, 0, KEY_CHAR, 'a', 0);
    /* Releases alone produce nothing; controller replies (ACK FA, self
     * test AA, errors 00/FF) produce nothing. */
    e = KBD(0x9E, 0xA3, 0xC8, 0xFA, 0xAA, 0x00, 0xFF, 0xFE, 0xEE);
    CHECK_EQ_U64(e.n, 0);
    /* unknown codes */
    e = KBD(0x54, 0x55, 0x56, 0x59, 0x7F, 0xE0, 0x10);
    CHECK_EQ_U64(e.n, 0);
}

static void test_key_name(void)
{
    CHECK_STR_EQ(key_name(KEY_F1), "F1");
    CHECK_STR_EQ(key_name(KEY_F12), "F12");
    CHECK_STR_EQ(key_name(KEY_UP), "Up");
    CHECK_STR_EQ(key_name(KEY_PGDN), "PgDn");
    CHECK_STR_EQ(key_name(KEY_CHAR), "char");
    CHECK_STR_EQ(key_name(KEY_CODE_COUNT), "?");
    for (int k = 0; k < KEY_CODE_COUNT; k++)
        CHECK(key_name(k) != NULL && key_name(k)[0] != '\0');
}

static void test_serial_plain(void)
{
    check_text(SER('l', 's', ' ', '-', '~'), "ls -~", 0);
    struct events e = SER('a', '\r', '\n', 'b', '\n', 'c', '\r', 'd', '\r', '\r', '\n');
    CHECK_EQ_U64(e.n, 9);
    CHECK_EVENT(e, 1, KEY_ENTER, 0, 0); /* CR LF: one Enter */
    CHECK_EVENT(e, 3, KEY_ENTER, 0, 0); /* lone LF */
    CHECK_EVENT(e, 5, KEY_ENTER, 0, 0); /* lone CR */
    CHECK_EVENT(e, 6, KEY_CHAR, 'd', 0);
    CHECK_EVENT(e, 7, KEY_ENTER, 0, 0); /* CR CR LF: two Enters */
    CHECK_EVENT(e, 8, KEY_ENTER, 0, 0);
    e = SER('\n', '\n');
    CHECK_EQ_U64(e.n, 2);
    e = SER(0x7f, 0x08, 0x09, 0x03, 0x01, 0x1a, 0x15);
    CHECK_EQ_U64(e.n, 7);
    CHECK_EVENT(e, 0, KEY_BACKSPACE, 0, 0);
    CHECK_EVENT(e, 1, KEY_BACKSPACE, 0, 0);
    CHECK_EVENT(e, 2, KEY_TAB, 0, 0);
    CHECK_EVENT(e, 3, KEY_CHAR, 'c', KMOD_CTRL);
    CHECK_EVENT(e, 4, KEY_CHAR, 'a', KMOD_CTRL);
    CHECK_EVENT(e, 5, KEY_CHAR, 'z', KMOD_CTRL);
    CHECK_EVENT(e, 6, KEY_CHAR, 'u', KMOD_CTRL);
    e = SER(0x00, 0x1c, 0x1f, 0x80, 0xff, 0xc3, 0xa9);
    CHECK_EQ_U64(e.n, 0);
}

static void test_serial_escapes(void)
{
    struct events e = SER(0x1b, '[', 'A', 0x1b, '[', 'B', 0x1b, '[', 'C', 0x1b, '[', 'D',
                          0x1b, '[', 'H', 0x1b, '[', 'F', 0x1b, 'O', 'H', 0x1b, 'O', 'F');
    CHECK_EQ_U64(e.n, 8);
    CHECK_EVENT(e, 0, KEY_UP, 0, 0);
    CHECK_EVENT(e, 1, KEY_DOWN, 0, 0);
    CHECK_EVENT(e, 2, KEY_RIGHT, 0, 0);
    CHECK_EVENT(e, 3, KEY_LEFT, 0, 0);
    CHECK_EVENT(e, 4, KEY_HOME, 0, 0);
    CHECK_EVENT(e, 5, KEY_END, 0, 0);
    CHECK_EVENT(e, 6, KEY_HOME, 0, 0);
    CHECK_EVENT(e, 7, KEY_END, 0, 0);

    e = SER(0x1b, '[', '3', '~', 0x1b, '[', '2', '~', 0x1b, '[', '1', '~',
            0x1b, '[', '4', '~', 0x1b, '[', '5', '~', 0x1b, '[', '6', '~',
            0x1b, '[', '7', '~', 0x1b, '[', '8', '~');
    CHECK_EQ_U64(e.n, 8);
    CHECK_EVENT(e, 0, KEY_DELETE, 0, 0);
    CHECK_EVENT(e, 1, KEY_INSERT, 0, 0);
    CHECK_EVENT(e, 2, KEY_HOME, 0, 0);
    CHECK_EVENT(e, 3, KEY_END, 0, 0);
    CHECK_EVENT(e, 4, KEY_PGUP, 0, 0);
    CHECK_EVENT(e, 5, KEY_PGDN, 0, 0);
    CHECK_EVENT(e, 6, KEY_HOME, 0, 0);
    CHECK_EVENT(e, 7, KEY_END, 0, 0);

    e = SER(0x1b, 'O', 'P', 0x1b, 'O', 'Q', 0x1b, 'O', 'R', 0x1b, 'O', 'S');
    CHECK_EQ_U64(e.n, 4);
    for (int i = 0; i < 4; i++)
        CHECK_EVENT(e, i, KEY_F1 + i, 0, 0);

    /* VT220 function keys: 11-15, 17-21, 23-24 */
    static const int nums[12] = { 11, 12, 13, 14, 15, 17, 18, 19, 20, 21, 23, 24 };
    for (int i = 0; i < 12; i++) {
        struct serial_decoder d;
        serial_decoder_init(&d);
        uint8_t seq[] = { 0x1b, '[', (uint8_t)('0' + nums[i] / 10),
                          (uint8_t)('0' + nums[i] % 10), '~' };
        struct events f = feed_serial(&d, seq, sizeof(seq));
        CHECK_EQ_U64(f.n, 1);
        CHECK_EVENT(f, 0, KEY_F1 + i, 0, 0);
    }

    /* xterm modifier parameters are dropped: Ctrl-Up is Up */
    e = SER(0x1b, '[', '1', ';', '5', 'A', 0x1b, '[', '3', ';', '2', '~');
    CHECK_EQ_U64(e.n, 2);
    CHECK_EVENT(e, 0, KEY_UP, 0, 0);
    CHECK_EVENT(e, 1, KEY_DELETE, 0, 0);
}

static void test_serial_malformed(void)
{
    /* unused numbers, unknown finals, huge parameters: nothing, and the
     * decoder is back in plain state afterwards */
    struct events e = SER(0x1b, '[', '9', '~', 0x1b, '[', '1', '6', '~', 0x1b, '[', 'Z',
                          0x1b, '[', '9', '9', '9', '9', '9', '9', '~', 0x1b, 'O', 'x',
                          0x1b, '[', '?', '2', '5', 'h', 0x1b, '[', '2', '0', '0', '~', 'k');
    CHECK_EQ_U64(e.n, 1);
    CHECK_EVENT(e, 0, KEY_CHAR, 'k', 0);
    /* ESC + other byte: Esc, that byte lost */
    e = SER(0x1b, 'x', 'y');
    CHECK_EQ_U64(e.n, 2);
    CHECK_EVENT(e, 0, KEY_ESC, 0, 0);
    CHECK_EVENT(e, 1, KEY_CHAR, 'y', 0);
    /* ESC ESC [ A: Esc, then Up */
    e = SER(0x1b, 0x1b, '[', 'A');
    CHECK_EQ_U64(e.n, 2);
    CHECK_EVENT(e, 0, KEY_ESC, 0, 0);
    CHECK_EVENT(e, 1, KEY_UP, 0, 0);
    /* A control byte inside a sequence ends it and counts on its own. */
    e = SER(0x1b, '[', '3', '\r', 0x1b, 'O', 0x03);
    CHECK_EQ_U64(e.n, 2);
    CHECK_EVENT(e, 0, KEY_ENTER, 0, 0);
    CHECK_EVENT(e, 1, KEY_CHAR, 'c', KMOD_CTRL);
    /* A high byte inside a sequence drops it. */
    e = SER(0x1b, '[', 0xc3, 'A');
    CHECK_EQ_U64(e.n, 1);
    CHECK_EVENT(e, 0, KEY_CHAR, 'A', 0);
    /* CR, ESC sequence, LF: the LF is not part of a CR LF pair */
    e = SER('\r', 0x1b, '[', 'A', '\n');
    CHECK_EQ_U64(e.n, 3);
    CHECK_EVENT(e, 2, KEY_ENTER, 0, 0);
}

int main(void)
{
    RUN(test_letters);
    RUN(test_shift);
    RUN(test_caps_lock);
    RUN(test_ctrl_alt);
    RUN(test_special_keys);
    RUN(test_extended_and_keypad);
    RUN(test_pause_and_junk);
    RUN(test_key_name);
    RUN(test_serial_plain);
    RUN(test_serial_escapes);
    RUN(test_serial_malformed);
    return check_summary("keys");
}
