/*
 * addr_input.h - typing a hex address inside a view (private to src/viz/).
 *
 * The frames view (`g`, go to) and the page-tables view (`t`, translate)
 * both let a person type an address.  addr_input.c owns the typing: which
 * keys go into the text, which are refused and why, what Enter and
 * Backspace do.  The views own the rest: where the text is drawn, the
 * hints around it, and what Enter means.
 */
#ifndef VIZ_ADDR_INPUT_H
#define VIZ_ADDR_INPUT_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/keys.h"

#define VIZ_ADDR_DIGITS 8 /* a 32-bit address */

struct viz_addr_input {
    bool active;                     /* keys go to the input */
    char text[VIZ_ADDR_DIGITS + 3];  /* "0x", 8 hex digits, NUL */
    char why[64];                    /* the last refusal, *why points here */
};

enum viz_addr_result {
    VIZ_ADDR_EDITING,   /* the key was taken: draw the text again */
    VIZ_ADDR_ENTER,     /* Enter: the input closed; text is the address or "" */
    VIZ_ADDR_CANCELLED, /* the input closed, nothing to do; the key is used up */
    VIZ_ADDR_REFUSED,   /* the key was not taken; *why says why, what to type */
};

/* viz_addr_input_start - open the input with empty text. */
void viz_addr_input_start(struct viz_addr_input *in);

/* viz_addr_input_key - one key for an open input.  Hex digits (upper or
 * lower case, at most 8) and an "x" after a leading "0" go into the text;
 * Backspace takes the last character off, or on empty text cancels;
 * Enter closes the input (VIZ_ADDR_ENTER) unless the text is a bare "0x";
 * any other plain character is refused; a key that is not text at all
 * (an arrow, Tab, Ctrl+C) cancels.  *why is set for REFUSED (a message
 * for the view's message row, under 64 characters), and for CANCELLED
 * either to a note or to NULL (Backspace on nothing: nothing to say);
 * NULL for the other results.  The view must not act on the key itself
 * after any result: each one has used it up. */
enum viz_addr_result viz_addr_input_key(struct viz_addr_input *in, const struct key_event *k,
                                        const char **why);

/* viz_addr_parse - an address as typed: an optional 0x or 0X, then 1 to 8
 * hex digits in either case.  True and *addr set; false (and *addr left
 * alone) for empty text, a bare prefix, more than 8 digits or anything
 * that is not a hex digit. */
bool viz_addr_parse(const char *text, uint32_t *addr);

#endif
