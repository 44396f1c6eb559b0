/*
 * keys.h - key events, and the pure decoders that make them.
 *
 * Everything the shell reads is a struct key_event, whether it came from
 * the PS/2 keyboard (scancode set 1) or from the serial line (bytes, with
 * ANSI/VT100 escape sequences for arrows and friends).  The decoders are
 * pure state machines: the drivers feed them bytes from the ports, the host
 * tests feed them arrays.
 */
#ifndef KERNEL_KEYS_H
#define KERNEL_KEYS_H

#include <stdbool.h>
#include <stdint.h>

enum key_code {
    KEY_NONE = 0,
    KEY_CHAR,      /* a printable character (or Ctrl+letter): see .ch */
    KEY_ENTER,
    KEY_BACKSPACE,
    KEY_TAB,
    KEY_ESC,
    KEY_INSERT,
    KEY_DELETE,
    KEY_HOME,
    KEY_END,
    KEY_PGUP,
    KEY_PGDN,
    KEY_UP,
    KEY_DOWN,
    KEY_LEFT,
    KEY_RIGHT,
    KEY_F1, KEY_F2, KEY_F3, KEY_F4, KEY_F5, KEY_F6,
    KEY_F7, KEY_F8, KEY_F9, KEY_F10, KEY_F11, KEY_F12,
    KEY_CODE_COUNT
};

/* Modifier bits held when the key went down. */
#define KMOD_SHIFT 0x01
#define KMOD_CTRL  0x02
#define KMOD_ALT   0x04
#define KMOD_CAPS  0x08 /* Caps Lock was on */

struct key_event {
    uint8_t code; /* enum key_code */
    char ch;      /* for KEY_CHAR: the character after Shift/Caps Lock;
                     with Ctrl held it is the plain lower-case letter and
                     mods has KMOD_CTRL (Ctrl-C is {KEY_CHAR, 'c', CTRL}) */
    uint8_t mods; /* KMOD_* */
};

/* key_name - "F1", "Up", "PgDn", ... for messages; "char" for KEY_CHAR. */
const char *key_name(enum key_code code);

/* ---- PS/2 scancode set 1 ---------------------------------------------- */

struct kbd_decoder {
    bool extended;     /* saw 0xE0, the next byte is an extended key */
    uint8_t skip;      /* bytes left of a multi-byte sequence to ignore
                          (Pause/Break sends E1 1D 45 E1 9D C5) */
    bool lshift, rshift, lctrl, rctrl, lalt, ralt;
    bool caps_lock;
    bool caps_held;    /* Caps Lock is down: its typematic repeats must not
                          toggle caps_lock again */
};

void kbd_decoder_init(struct kbd_decoder *d);

/*
 * kbd_decode - feed one byte read from port 0x60.
 * Returns true and fills *out when the byte completes a key press (make
 * code) that the shell should see.  Key releases, modifier presses, the
 * E0 prefix and unknown codes return false (modifier state is updated).
 * Typematic repeats of a held key arrive as further make codes and so as
 * further events.  Caps Lock toggles on press; it affects letters only.
 * Shift+digit gives the US-layout symbols.  The keypad's extended keys
 * (E0-prefixed arrows, Home, End, PgUp, PgDn, Insert, Delete, keypad
 * Enter and '/') decode to the same events as their main-block twins.
 */
bool kbd_decode(struct kbd_decoder *d, uint8_t scancode, struct key_event *out);

/* ---- Serial line bytes -------------------------------------------------- */

struct serial_decoder {
    uint8_t state;     /* 0 plain, 1 after ESC, 2 in CSI (ESC [), 3 after ESC O */
    uint8_t param;     /* numeric parameter of a CSI sequence so far */
    bool last_was_cr;  /* swallow the LF of a CR LF pair */
};

void serial_decoder_init(struct serial_decoder *d);

/*
 * serial_decode - feed one byte received on the serial line.
 * Returns true and fills *out when the byte completes an event:
 *   printable ASCII 0x20..0x7e    -> KEY_CHAR
 *   CR, LF, or CR LF              -> one KEY_ENTER
 *   0x08 and 0x7f                 -> KEY_BACKSPACE
 *   0x09                          -> KEY_TAB
 *   0x01..0x1a (other than above) -> KEY_CHAR 'a'..'z' with KMOD_CTRL
 *   ESC [ A/B/C/D                 -> Up/Down/Right/Left
 *   ESC [ H, ESC [ F, ESC O H/F   -> Home/End
 *   ESC [ n ~  (1/7 Home, 2 Insert, 3 Delete, 4/8 End, 5 PgUp, 6 PgDn,
 *               11-15 F1-F5, 17-21 F6-F10, 23-24 F11-F12)
 *   ESC O P/Q/R/S                 -> F1-F4
 *   ESC followed by anything else -> KEY_ESC, and that byte is lost
 *                                    (documented limitation: a lone Esc is
 *                                    seen when the next byte arrives); a
 *                                    second ESC starts a sequence anew
 * Bytes >= 0x80 and malformed sequences return false.
 */
bool serial_decode(struct serial_decoder *d, uint8_t byte, struct key_event *out);

#endif
