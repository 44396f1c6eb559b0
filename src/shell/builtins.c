/*
 * builtins.c - the shell's own everyday commands: help, clear, echo,
 * uptime, keys.
 */
#include "kernel/config.h"
#include "kernel/console.h"
#include "kernel/input.h"
#include "kernel/interrupts.h"
#include "kernel/keys.h"
#include "kernel/kstring.h"
#include "kernel/shell.h"
#include "kernel/timer.h"
#include "kernel/vga.h"
#include "kernel/viz.h"

#define HELP_COLUMNS 5
#define HELP_COLUMN_WIDTH 15

static int cmd_help(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "all") != 0) {
        const struct shell_command *c = shell_find(argv[1]);
        if (!c) {
            shell_error("no command '%s'; 'help' lists them all", argv[1]);
            return CMD_FAILED;
        }
        kprintf("%s - %s\n", c->name, c->help);
        shell_print_usage(c);
        if (strcmp(argv[1], "keys") == 0) /* the keys command, then the hotkeys */
            viz_print_keys();
        return CMD_OK;
    }
    if (argc == 1) {
        /* Names only, in columns: the list must fit one screen. */
        kprintf("Commands (help <command> explains one; help all gives each a line):\n");
        size_t n = shell_command_count();
        for (size_t i = 0; i < n; i++) {
            const struct shell_command *c = shell_command_at(i);
            uint8_t saved = console_attr();
            if (i % HELP_COLUMNS == 0)
                kprintf("  ");
            console_set_attr(vga_attr(VGA_WHITE, VGA_BLACK));
            kprintf("%s", c->name);
            console_set_attr(saved);
            if (i % HELP_COLUMNS == HELP_COLUMNS - 1 || i + 1 == n)
                kprintf("\n");
            else
                kprintf("%*s", (int)(HELP_COLUMN_WIDTH - strlen(c->name)), "");
        }
        return CMD_OK;
    }
    kprintf("Commands (help <command> for its arguments):\n");
    for (size_t i = 0; i < shell_command_count(); i++) {
        const struct shell_command *c = shell_command_at(i);
        uint8_t saved = console_attr();
        console_set_attr(vga_attr(VGA_WHITE, VGA_BLACK));
        kprintf("  %-13s", c->name);
        console_set_attr(saved);
        kprintf(" %s\n", c->help);
    }
    return CMD_OK;
}

static int cmd_clear(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    console_clear();
    return CMD_OK;
}

static int cmd_echo(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        kprintf("%s%s", argv[i], i + 1 < argc ? " " : "");
    kprintf("\n");
    return CMD_OK;
}

static int cmd_uptime(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    uint64_t ticks = timer_ticks();
    uint64_t ms = ticks * 1000 / PIT_HZ;
    unsigned s = (unsigned)(ms / 1000);
    kprintf("up %u:%02u:%02u.%02u  (%llu timer ticks at %u Hz, %llu keyboard interrupts)\n",
            s / 3600, s / 60 % 60, s % 60, (unsigned)(ms % 1000 / 10), ticks, PIT_HZ,
            irq_count(1));
    return CMD_OK;
}

/* Describe one key event the way a person would say it: "Ctrl+Shift+F5",
 * "'a'", "Shift+'A'". */
static void print_key(const struct key_event *k)
{
    if (k->mods & KMOD_CTRL)
        kprintf("Ctrl+");
    if (k->mods & KMOD_ALT)
        kprintf("Alt+");
    if (k->mods & KMOD_SHIFT)
        kprintf("Shift+");
    if (k->code == KEY_CHAR)
        kprintf("'%c'", k->ch);
    else
        kprintf("%s", key_name(k->code));
    if (k->mods & KMOD_CAPS)
        kprintf("  (Caps Lock on)");
    kprintf("\n");
}

static int cmd_keys(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    kprintf("Press keys to see the events the kernel receives; Esc ends.\n");
    for (;;) {
        struct key_event k = input_wait();
        kprintf("key: ");
        print_key(&k);
        if (k.code == KEY_ESC)
            return CMD_OK;
    }
}

static const struct shell_command builtins[] = {
    {"help", "[command|all|keys]", "list the commands, explain one, or list the keys", 0, 1,
     cmd_help},
    {"clear", "", "clear the screen", 0, 0, cmd_clear},
    {"echo", "[text ...]", "print the arguments", 0, SHELL_ARGS_ANY, cmd_echo},
    {"uptime", "", "time since boot, timer ticks and interrupt counts", 0, 0, cmd_uptime},
    {"keys", "", "show each key event as the kernel decodes it (Esc ends)", 0, 0, cmd_keys},
};

void builtins_register(void)
{
    shell_register(builtins, ARRAY_SIZE(builtins));
}
