/*
 * addr_input.c - the "type an address" input the views share.
 *
 * After `g` in the frames view or `t` in the page-tables view a person
 * types a hex address; both views want the same typing rules, so they live
 * here once:
 *
 *   keys         text        result
 *   5 0          "50"        editing
 *   z            "50"        refused: 'z' is not a hex digit: type 0-9 or a-f
 *   0 0 0 0 0 0  "50000000"  editing
 *   1            "50000000"  refused: an address has at most 8 hex digits
 *   Enter        "50000000"  enter: the view parses it and acts
 *
 * A key is checked as it is typed, so the text is always a valid address,
 * empty, or a bare "0x" (which Enter refuses): the person sees at once
 * which key was wrong, not a rejected line after Enter.  The view draws
 * the text and decides what Enter means (go to a frame, walk a table) and
 * what empty text means.
 *
 * Pure: no screen, no kernel state, so the host tests build it too
 * (tests/host/test_viz_input.c).
 */
#include "addr_input.h"

#include "kernel/format.h"
#include "kernel/kstring.h"

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The length of a "0x"/"0X" at the start of text: 2 or 0. */
static size_t prefix_length(const char *text)
{
    return text[0] == '0' && (text[1] == 'x' || text[1] == 'X') ? 2 : 0;
}

bool viz_addr_parse(const char *text, uint32_t *addr)
{
    const char *digits = text + prefix_length(text);
    size_t n = strlen(digits);
    if (n == 0 || n > VIZ_ADDR_DIGITS)
        return false;
    uint32_t value = 0;
    for (size_t i = 0; i < n; i++) {
        int d = hex_value(digits[i]);
        if (d < 0)
            return false;
        value = value << 4 | (uint32_t)d;
    }
    *addr = value;
    return true;
}

void viz_addr_input_start(struct viz_addr_input *in)
{
    in->active = true;
    in->text[0] = '\0';
    in->why[0] = '\0';
}

/* Sets in->why from a format; returns it for *why. */
static const char *because(struct viz_addr_input *in, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static const char *because(struct viz_addr_input *in, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(in->why, sizeof(in->why), fmt, ap);
    va_end(ap);
    return in->why;
}

/* A plain character: into the text, or refused with the reason. */
static enum viz_addr_result add_char(struct viz_addr_input *in, char c, const char **why)
{
    size_t n = strlen(in->text);
    bool is_prefix = (c == 'x' || c == 'X') && n == 1 && in->text[0] == '0';
    if (!is_prefix && hex_value(c) < 0) {
        if (c > ' ' && c < 0x7f)
            *why = because(in, "'%c' is not a hex digit: type 0-9 or a-f", c);
        else
            *why = because(in, "not a hex digit: type 0-9 or a-f");
        return VIZ_ADDR_REFUSED;
    }
    if (!is_prefix && n - prefix_length(in->text) >= VIZ_ADDR_DIGITS) {
        *why = because(in, "an address has at most %u hex digits", VIZ_ADDR_DIGITS);
        return VIZ_ADDR_REFUSED;
    }
    in->text[n] = c;
    in->text[n + 1] = '\0';
    return VIZ_ADDR_EDITING;
}

enum viz_addr_result viz_addr_input_key(struct viz_addr_input *in, const struct key_event *k,
                                        const char **why)
{
    *why = NULL;
    size_t n = strlen(in->text);
    if (k->code == KEY_ENTER) {
        if (n > 0 && n == prefix_length(in->text)) {
            *why = because(in, "type hex digits after 0x, or Backspace");
            return VIZ_ADDR_REFUSED;
        }
        in->active = false;
        return VIZ_ADDR_ENTER;
    }
    if (k->code == KEY_BACKSPACE) {
        if (n == 0) { /* Backspace on nothing: never mind */
            in->active = false;
            return VIZ_ADDR_CANCELLED;
        }
        in->text[n - 1] = '\0';
        return VIZ_ADDR_EDITING;
    }
    if (k->code == KEY_CHAR && !(k->mods & (KMOD_CTRL | KMOD_ALT)))
        return add_char(in, k->ch, why);
    /* Not text: the person wants something else, so stop typing. */
    in->active = false;
    if (k->code == KEY_CHAR)
        *why = because(in, "address cancelled by %s+%c",
                       k->mods & KMOD_CTRL ? "Ctrl" : "Alt", k->ch);
    else
        *why = because(in, "address cancelled by %s", key_name((enum key_code)k->code));
    return VIZ_ADDR_CANCELLED;
}
