/*
 * inject.c - fault injection from the keyboard.
 *
 * Alt+1 .. Alt+0 (anywhere) and 1 .. 0 (in the faults view) run one real
 * fault or misuse each, through the same shell commands a person could
 * type, so each is reported, logged and survived exactly as the typed
 * command would be: the hotkey only saves typing in front of a class.
 */
#include "kernel/config.h"
#include "kernel/console.h"
#include "kernel/format.h"
#include "kernel/kstring.h"
#include "kernel/shell.h"
#include "kernel/viz.h"

/* An address that is never mapped: 1 GiB, below the heap, above any
 * identity-mapped RAM the kernel uses. */
#define UNMAPPED "0x40000000"

static const struct viz_hotkey hotkeys[] = {
    {'1', "NULL dereference (read address 0)", "pf 0 r"},
    {'2', "write to read-only kernel code", NULL}, /* address filled in below */
    {'3', "touch an unmapped page", "pf " UNMAPPED " r"},
    {'4', "jump to an unmapped page", "pf " UNMAPPED " x"},
    {'5', "stack overflow into its guard page", "stackoverflow"},
    {'6', "heap overflow into a red zone", "heap redzone"},
    {'7', "heap overflow into a guard page", "heap guard"},
    {'8', "use after free", "heap uaf"},
    {'9', "double free", "heap doublefree"},
    {'0', "out-of-memory storm", "stress oom"},
};

const struct viz_hotkey *viz_hotkeys(size_t *count)
{
    *count = ARRAY_SIZE(hotkeys);
    return hotkeys;
}

const struct viz_hotkey *viz_hotkey_for(char key)
{
    for (size_t i = 0; i < ARRAY_SIZE(hotkeys); i++)
        if (hotkeys[i].key == key)
            return &hotkeys[i];
    return NULL;
}

const struct viz_hotkey *viz_hotkey_pressed(const struct key_event *k)
{
    return k->code == KEY_CHAR && (k->mods & KMOD_ALT) ? viz_hotkey_for(k->ch) : NULL;
}

void viz_inject(const struct viz_hotkey *h)
{
    char line[SHELL_LINE_MAX + 1];
    if (h->command)
        ksnprintf(line, sizeof(line), "%s", h->command);
    else /* the kernel's own code: this very function */
        ksnprintf(line, sizeof(line), "pf 0x%08x w", (unsigned)(uintptr_t)&viz_inject);
    kprintf("Alt+%c: %s\n", h->key, h->what);
    kprintf_to(CONSOLE_TO_ALL, "kv> %s\n", line);
    shell_execute(line);
}
