/*
 * serial_decode.c - serial line bytes to key events, pure.
 *
 * A terminal on the serial line sends plain ASCII for ordinary keys, control
 * codes for Ctrl+letter (Ctrl-C is 0x03), and escape sequences for the keys
 * ASCII has no code for.  Terminals disagree on which sequences they send,
 * so the common ones are all accepted:
 *
 *     ESC [ A..D       arrows            (xterm, VT100 normal mode)
 *     ESC O A..D       arrows            (VT100 application mode)
 *     ESC [ H / F      Home / End        (xterm)
 *     ESC O H / F      Home / End        (xterm application mode)
 *     ESC [ n ~        Home, Insert, Delete, End, PgUp, PgDn, F1-F12 (VT220)
 *     ESC O P..S       F1-F4             (VT100)
 *
 * Modifier parameters (ESC [ 1 ; 5 A is Ctrl-Up in xterm) are accepted and
 * dropped: only the first parameter counts.
 *
 * The state lives in struct serial_decoder (keys.h): `state` is where we
 * are in a sequence, `param` collects the first CSI number (bit 7 set once
 * a ';' ended it), `last_was_cr` lets CR LF count as one Enter while a lone
 * CR or a lone LF still counts as Enter.
 */
#include "kernel/keys.h"

#include "kernel/types.h"

enum { ST_PLAIN = 0, ST_ESC = 1, ST_CSI = 2, ST_SS3 = 3 };

#define ASCII_ESC 0x1B
#define ASCII_DEL 0x7F
#define PARAM_DONE 0x80  /* a ';' ended the first parameter */
#define PARAM_CAP 100    /* a parameter this large, or a sequence with
                            bytes we do not read, means no key */

/* serial_decoder_init - plain state, no CR pending. */
void serial_decoder_init(struct serial_decoder *d)
{
    *d = (struct serial_decoder){ 0 };
}

static bool emit(struct key_event *out, uint8_t code, char ch, uint8_t mods)
{
    *out = (struct key_event){ .code = code, .ch = ch, .mods = mods };
    return true;
}

/* VT220 "ESC [ n ~" numbers; KEY_NONE for the unused ones. */
static uint8_t tilde_key(unsigned n)
{
    static const uint8_t keys[25] = {
        [1] = KEY_HOME, [2] = KEY_INSERT, [3] = KEY_DELETE, [4] = KEY_END,
        [5] = KEY_PGUP, [6] = KEY_PGDN,   [7] = KEY_HOME,   [8] = KEY_END,
        [11] = KEY_F1, KEY_F2, KEY_F3, KEY_F4, KEY_F5,
        [17] = KEY_F6, KEY_F7, KEY_F8, KEY_F9, KEY_F10,
        [23] = KEY_F11, KEY_F12,
    };
    return n < ARRAY_SIZE(keys) ? keys[n] : KEY_NONE;
}

/* Final letters shared by ESC [ x and ESC O x. */
static uint8_t letter_key(uint8_t byte)
{
    switch (byte) {
    case 'A': return KEY_UP;
    case 'B': return KEY_DOWN;
    case 'C': return KEY_RIGHT;
    case 'D': return KEY_LEFT;
    case 'H': return KEY_HOME;
    case 'F': return KEY_END;
    default:  return KEY_NONE;
    }
}

static bool decode_plain(struct serial_decoder *d, uint8_t byte, struct key_event *out)
{
    bool after_cr = d->last_was_cr;
    d->last_was_cr = (byte == '\r');

    if (byte == ASCII_ESC) {
        d->state = ST_ESC;
        return false;
    }
    if (byte == '\r')
        return emit(out, KEY_ENTER, 0, 0);
    if (byte == '\n')
        return after_cr ? false : emit(out, KEY_ENTER, 0, 0);
    if (byte == 0x08 || byte == ASCII_DEL)
        return emit(out, KEY_BACKSPACE, 0, 0);
    if (byte == '\t')
        return emit(out, KEY_TAB, 0, 0);
    if (byte >= 0x01 && byte <= 0x1A)
        return emit(out, KEY_CHAR, (char)('a' + byte - 1), KMOD_CTRL);
    if (byte >= 0x20 && byte < ASCII_DEL)
        return emit(out, KEY_CHAR, (char)byte, 0);
    return false; /* NUL, 0x1C-0x1F, and everything >= 0x80 */
}

/* serial_decode - see keys.h. */
bool serial_decode(struct serial_decoder *d, uint8_t byte, struct key_event *out)
{
    uint8_t code;

    if (d->state == ST_PLAIN)
        return decode_plain(d, byte, out);

    d->last_was_cr = false;
    if (byte >= 0x80) {
        d->state = ST_PLAIN; /* not part of any sequence we know */
        return false;
    }

    switch (d->state) {
    case ST_ESC:
        if (byte == '[') {
            d->state = ST_CSI;
            d->param = 0;
            return false;
        }
        if (byte == 'O') {
            d->state = ST_SS3;
            return false;
        }
        /* Anything else means the Esc key itself was pressed.  Only one
         * event fits per byte, so this byte is lost, except a second ESC,
         * which may start a sequence of its own. */
        d->state = (byte == ASCII_ESC) ? ST_ESC : ST_PLAIN;
        return emit(out, KEY_ESC, 0, 0);

    case ST_CSI:
        if (byte >= '0' && byte <= '9') {
            if (!(d->param & PARAM_DONE)) {
                unsigned p = d->param * 10u + (byte - '0');
                d->param = (uint8_t)(p > PARAM_CAP ? PARAM_CAP : p);
            }
            return false;
        }
        if (byte == ';') {
            d->param |= PARAM_DONE;
            return false;
        }
        if (byte >= 0x20 && byte <= 0x3F) {
            /* Other parameter or intermediate bytes ("ESC [ ? 1 h"): read
             * on to the final byte so that the sequence does not leak out
             * as typed text, but let it produce nothing. */
            d->param = PARAM_CAP | PARAM_DONE;
            return false;
        }
        d->state = ST_PLAIN;
        if (byte < 0x20) {
            /* A control code cuts the sequence short; no event came of the
             * sequence, so the byte can be decoded on its own. */
            return decode_plain(d, byte, out);
        }
        if ((d->param & (uint8_t)~PARAM_DONE) == PARAM_CAP)
            return false;
        code = (byte == '~') ? tilde_key(d->param & (uint8_t)~PARAM_DONE)
                             : letter_key(byte);
        return code != KEY_NONE && emit(out, code, 0, 0);

    case ST_SS3:
        d->state = ST_PLAIN;
        if (byte < 0x20)
            return decode_plain(d, byte, out);
        if (byte >= 'P' && byte <= 'S')
            return emit(out, (uint8_t)(KEY_F1 + (byte - 'P')), 0, 0);
        code = letter_key(byte);
        return code != KEY_NONE && emit(out, code, 0, 0);

    default:
        /* A corrupted state (never produced here): start over. */
        d->state = ST_PLAIN;
        return false;
    }
}
