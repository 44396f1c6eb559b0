/*
 * kbd_decode.c - PS/2 scancode set 1 to key events (US layout), pure.
 *
 * The keyboard controller translates whatever the keyboard speaks into set
 * 1, where a key press sends its "make" code and a release sends the same
 * code with bit 7 set (the "break" code):
 *
 *     'A' down: 1E      'A' up: 9E
 *     Up  down: E0 48   Up  up: E0 C8      (E0: an extended key follows)
 *     Pause:    E1 1D 45 E1 9D C5          (press only, no release)
 *     PrtSc:    E0 2A E0 37 / E0 B7 E0 AA
 *
 * Keys added to the keyboard after the original 84-key design share codes
 * with older keys and are told apart by the E0 prefix: the grey arrows are
 * E0 + the keypad-arrow codes.  To keep software that only knew the old
 * keys happy, the keyboard also sends "fake shifts" (E0 2A, E0 AA, E0 36,
 * E0 B6) around extended keys; they are not the real Shift keys and must
 * be ignored, or Shift would appear released while it is held.
 *
 * Keypad keys without E0 (0x47-0x53) are decoded as if Num Lock were off:
 * 7 = Home, 8 = Up, 9 = PgUp, 4 = Left, 6 = Right, 1 = End, 2 = Down,
 * 3 = PgDn, 0 = Insert, . = Delete, and 5 does nothing.  The shell uses the
 * keypad for moving about far more than for digits, and this kernel does
 * not drive the keyboard LEDs that would show a Num Lock state.  Keypad
 * '-', '+' and '*' (and E0 '/') are characters either way.
 */
#include "kernel/keys.h"

#include "kernel/types.h"

/* Set 1 make codes this file names. */
enum {
    SC_ESC = 0x01,
    SC_BACKSPACE = 0x0E,
    SC_TAB = 0x0F,
    SC_ENTER = 0x1C,
    SC_CTRL = 0x1D,    /* E0 1D: right Ctrl */
    SC_LSHIFT = 0x2A,
    SC_KP_SLASH = 0x35, /* only with E0; plain 0x35 is '/' as well */
    SC_RSHIFT = 0x36,
    SC_ALT = 0x38,     /* E0 38: right Alt */
    SC_CAPS = 0x3A,
    SC_F1 = 0x3B,      /* F1..F10 are 0x3B..0x44 */
    SC_F10 = 0x44,
    SC_KP_FIRST = 0x47, /* keypad block 0x47..0x53 */
    SC_KP_LAST = 0x53,
    SC_F11 = 0x57,
    SC_F12 = 0x58,
    SC_EXTENDED = 0xE0,
    SC_PAUSE = 0xE1,
    SC_BREAK_BIT = 0x80,
};

/* Bytes of the Pause sequence after its leading E1. */
#define PAUSE_TAIL_BYTES 5

/* Printable characters by make code, without and with Shift; 0 = not a
 * character key.  Index = make code (0x00..0x39). */
static const char plain_map[0x3A] = {
    [0x02] = '1', '2', '3', '4', '5', '6', '7', '8', '9', '0', '-', '=',
    [0x10] = 'q', 'w', 'e', 'r', 't', 'y', 'u', 'i', 'o', 'p', '[', ']',
    [0x1E] = 'a', 's', 'd', 'f', 'g', 'h', 'j', 'k', 'l', ';', '\'', '`',
    [0x2B] = '\\', 'z', 'x', 'c', 'v', 'b', 'n', 'm', ',', '.', '/',
    [0x37] = '*', /* keypad '*' */
    [0x39] = ' ',
};

static const char shift_map[0x3A] = {
    [0x02] = '!', '@', '#', '$', '%', '^', '&', '*', '(', ')', '_', '+',
    [0x10] = 'Q', 'W', 'E', 'R', 'T', 'Y', 'U', 'I', 'O', 'P', '{', '}',
    [0x1E] = 'A', 'S', 'D', 'F', 'G', 'H', 'J', 'K', 'L', ':', '"', '~',
    [0x2B] = '|', 'Z', 'X', 'C', 'V', 'B', 'N', 'M', '<', '>', '?',
    [0x37] = '*',
    [0x39] = ' ',
};

/* The keypad block with Num Lock off (see the top of the file); a
 * character entry uses KEY_CHAR. */
static const struct {
    uint8_t code;
    char ch;
} keypad_map[SC_KP_LAST - SC_KP_FIRST + 1] = {
    { KEY_HOME, 0 },  { KEY_UP, 0 },   { KEY_PGUP, 0 },   /* 47 48 49 */
    { KEY_CHAR, '-' },                                   /* 4A       */
    { KEY_LEFT, 0 },  { KEY_NONE, 0 }, { KEY_RIGHT, 0 },  /* 4B 4C 4D */
    { KEY_CHAR, '+' },                                   /* 4E       */
    { KEY_END, 0 },   { KEY_DOWN, 0 }, { KEY_PGDN, 0 },   /* 4F 50 51 */
    { KEY_INSERT, 0 }, { KEY_DELETE, 0 },                 /* 52 53    */
};

static const char *const key_names[KEY_CODE_COUNT] = {
    [KEY_NONE] = "none",     [KEY_CHAR] = "char",       [KEY_ENTER] = "Enter",
    [KEY_BACKSPACE] = "Backspace", [KEY_TAB] = "Tab",   [KEY_ESC] = "Esc",
    [KEY_INSERT] = "Insert", [KEY_DELETE] = "Delete",   [KEY_HOME] = "Home",
    [KEY_END] = "End",       [KEY_PGUP] = "PgUp",       [KEY_PGDN] = "PgDn",
    [KEY_UP] = "Up",         [KEY_DOWN] = "Down",       [KEY_LEFT] = "Left",
    [KEY_RIGHT] = "Right",
    [KEY_F1] = "F1", "F2", "F3", "F4", "F5", "F6",
    "F7", "F8", "F9", "F10", "F11", "F12",
};

/* key_name - see keys.h; an out-of-range code gives "?". */
const char *key_name(enum key_code code)
{
    if ((unsigned)code >= KEY_CODE_COUNT)
        return "?";
    return key_names[code];
}

/* kbd_decoder_init - no prefix pending, no modifier held, Caps Lock off. */
void kbd_decoder_init(struct kbd_decoder *d)
{
    *d = (struct kbd_decoder){ 0 };
}

static uint8_t current_mods(const struct kbd_decoder *d)
{
    uint8_t m = 0;
    if (d->lshift || d->rshift)
        m |= KMOD_SHIFT;
    if (d->lctrl || d->rctrl)
        m |= KMOD_CTRL;
    if (d->lalt || d->ralt)
        m |= KMOD_ALT;
    if (d->caps_lock)
        m |= KMOD_CAPS;
    return m;
}

/* Tracks the modifier keys.  Returns true when `code` (make code without
 * the break bit) was a modifier, pressed or released. */
static bool update_modifiers(struct kbd_decoder *d, uint8_t code, bool ext, bool down)
{
    switch (code) {
    case SC_LSHIFT:
    case SC_RSHIFT:
        if (ext)
            return true; /* fake shift around an extended key: ignore */
        if (code == SC_LSHIFT)
            d->lshift = down;
        else
            d->rshift = down;
        return true;
    case SC_CTRL:
        if (ext)
            d->rctrl = down;
        else
            d->lctrl = down;
        return true;
    case SC_ALT:
        if (ext)
            d->ralt = down;
        else
            d->lalt = down;
        return true;
    case SC_CAPS:
        /* Toggle on the press only; a held key's typematic repeats are
         * further make codes and must not toggle again. */
        if (down && !d->caps_held)
            d->caps_lock = !d->caps_lock;
        d->caps_held = down;
        return true;
    default:
        return false;
    }
}

/* Decodes a make code to an event; returns false for keys the shell has
 * no use for (Num Lock, Scroll Lock, keypad 5, Windows keys, PrtSc...). */
static bool decode_make(const struct kbd_decoder *d, uint8_t code, bool ext,
                        struct key_event *out)
{
    uint8_t mods = current_mods(d);
    struct key_event ev = { .code = KEY_NONE, .ch = 0, .mods = mods };

    if (code == SC_ESC && !ext)
        ev.code = KEY_ESC;
    else if (code == SC_BACKSPACE && !ext)
        ev.code = KEY_BACKSPACE;
    else if (code == SC_TAB && !ext)
        ev.code = KEY_TAB;
    else if (code == SC_ENTER) /* E0 1C is keypad Enter */
        ev.code = KEY_ENTER;
    else if (code >= SC_F1 && code <= SC_F10 && !ext)
        ev.code = (uint8_t)(KEY_F1 + (code - SC_F1));
    else if (code == SC_F11 && !ext)
        ev.code = KEY_F11;
    else if (code == SC_F12 && !ext)
        ev.code = KEY_F12;
    else if (code >= SC_KP_FIRST && code <= SC_KP_LAST) {
        /* With E0 these are the grey navigation keys, which have no
         * character entries (E0 4A/4E do not exist). */
        ev.code = keypad_map[code - SC_KP_FIRST].code;
        ev.ch = keypad_map[code - SC_KP_FIRST].ch;
        if (ext && ev.code == KEY_CHAR)
            ev.code = KEY_NONE;
    } else if (code == SC_KP_SLASH && ext) {
        ev.code = KEY_CHAR;
        ev.ch = '/';
    } else if (!ext && code < sizeof(plain_map) && plain_map[code] != 0) {
        char c = plain_map[code];
        bool letter = (c >= 'a' && c <= 'z');
        bool shift = (mods & KMOD_SHIFT) != 0;
        if (letter && (mods & KMOD_CTRL))
            shift = false; /* Ctrl-C is reported as 'c' plus KMOD_CTRL */
        else if (letter && (mods & KMOD_CAPS))
            shift = !shift; /* Caps Lock inverts Shift, for letters only */
        ev.code = KEY_CHAR;
        ev.ch = shift ? shift_map[code] : c;
    }
    if (ev.code == KEY_NONE)
        return false;
    *out = ev;
    return true;
}

/* kbd_decode - see keys.h. */
bool kbd_decode(struct kbd_decoder *d, uint8_t scancode, struct key_event *out)
{
    if (d->skip > 0) {
        d->skip--;
        return false;
    }
    if (scancode == SC_EXTENDED) {
        d->extended = true;
        return false;
    }
    if (scancode == SC_PAUSE) {
        /* Pause has no release and no use here: drop the whole sequence. */
        d->extended = false;
        d->skip = PAUSE_TAIL_BYTES;
        return false;
    }

    bool ext = d->extended;
    d->extended = false;
    bool down = (scancode & SC_BREAK_BIT) == 0;
    uint8_t code = scancode & (uint8_t)~SC_BREAK_BIT;

    if (update_modifiers(d, code, ext, down))
        return false;
    if (!down)
        return false;
    return decode_make(d, code, ext, out);
}
