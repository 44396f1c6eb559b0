/*
 * cmdline.c - reading the kernel command line, pure.
 *
 * The command line is read in place, word by word, every time it is asked
 * about; it is short and asked about a handful of times at boot, so there is
 * nothing to gain from copying or indexing it.  Words are separated by
 * spaces and tabs.  QEMU -kernel puts the kernel image path first, GRUB 2
 * does not, so the first word is skipped only when it is a path:
 *
 *     "/boot/kernel-v.elf selftest trace=pmm,heap"
 *      ^ skipped          ^ flag   ^ key=value, value is a comma list
 *     "selftest trace=pmm"           (GRUB 2: nothing skipped)
 *
 * Quotes have no meaning here (GRUB passes them through unchanged and no
 * option of this kernel needs a space in its value).
 */
#include "kernel/cmdline.h"

#include "kernel/kstring.h"

static bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

/*
 * Moves *p to the next word and returns its length (0: no more words).
 * The caller advances *p by that length to continue.
 */
static size_t next_word(const char **p)
{
    const char *s = *p;
    while (is_space(*s))
        s++;
    size_t n = 0;
    while (s[n] != '\0' && !is_space(s[n]))
        n++;
    *p = s;
    return n;
}

/* Points at the first argument: past the first word when that word is an
 * image path (has a '/', no '='). */
static const char *first_arg(const char *cmdline)
{
    const char *p = cmdline;
    size_t n = next_word(&p);
    bool slash = false, equals = false;
    for (size_t i = 0; i < n; i++) {
        slash |= p[i] == '/';
        equals |= p[i] == '=';
    }
    return slash && !equals ? p + n : p;
}

/* Copies n characters of src into out as a string cut to size - 1. */
static void copy_cut(char *out, size_t size, const char *src, size_t n)
{
    if (size == 0)
        return;
    if (n > size - 1)
        n = size - 1;
    memcpy(out, src, n);
    out[n] = '\0';
}

/* cmdline_has_flag - see cmdline.h.  An empty flag is never present. */
bool cmdline_has_flag(const char *cmdline, const char *flag)
{
    if (cmdline == NULL || flag == NULL || *flag == '\0')
        return false;
    size_t flen = strlen(flag);
    const char *p = first_arg(cmdline);
    for (size_t n; (n = next_word(&p)) != 0; p += n) {
        if (n == flen && memcmp(p, flag, n) == 0)
            return true;
    }
    return false;
}

/*
 * cmdline_get - see cmdline.h.  NULL cmdline or key, or an empty key, is
 * never present.  When the key is absent `out` is left unchanged; with
 * size 0 nothing is ever written.
 */
bool cmdline_get(const char *cmdline, const char *key, char *out, size_t size)
{
    if (cmdline == NULL || key == NULL || *key == '\0')
        return false;
    size_t klen = strlen(key);
    const char *value = NULL;
    size_t vlen = 0;
    const char *p = first_arg(cmdline);
    for (size_t n; (n = next_word(&p)) != 0; p += n) {
        if (n > klen && p[klen] == '=' && memcmp(p, key, klen) == 0) {
            value = p + klen + 1; /* keep looking: the last one wins */
            vlen = n - klen - 1;
        }
    }
    if (value == NULL)
        return false;
    copy_cut(out, size, value, vlen);
    return true;
}

/*
 * cmdline_next_item - see cmdline.h.  A NULL *cursor is an empty list.
 * Items longer than size - 1 are cut; the cursor still moves past all of
 * the item, so the next call returns the next item.
 */
bool cmdline_next_item(const char **cursor, char *out, size_t size)
{
    const char *p = *cursor;
    if (p == NULL)
        return false;
    while (*p == ',')
        p++;
    if (*p == '\0') {
        *cursor = p;
        return false;
    }
    size_t n = 0;
    while (p[n] != '\0' && p[n] != ',')
        n++;
    copy_cut(out, size, p, n);
    *cursor = p + n;
    return true;
}
