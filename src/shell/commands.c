/*
 * commands.c - the command table, and running one command line.
 *
 * The table is kept sorted by name as commands are registered, so `help`
 * lists them alphabetically and lookup can stop early.
 */
#include "kernel/args.h"
#include "kernel/config.h"
#include "kernel/console.h"
#include "kernel/format.h"
#include "kernel/kstring.h"
#include "kernel/log.h"
#include "kernel/shell.h"
#include "kernel/fault.h"
#include "kernel/recover.h"
#include "kernel/vga.h"

static const struct shell_command *table[SHELL_MAX_COMMANDS];
static size_t table_count;
static const struct shell_command *running;

void shell_register(const struct shell_command *cmds, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        const struct shell_command *c = &cmds[i];
        if (shell_find(c->name)) {
            log_error("shell", "command '%s' registered twice; keeping the first", c->name);
            continue;
        }
        if (table_count == SHELL_MAX_COMMANDS) {
            log_error("shell", "command table full (%d); ignoring '%s'", SHELL_MAX_COMMANDS,
                      c->name);
            continue;
        }
        size_t at = table_count;
        while (at > 0 && strcmp(table[at - 1]->name, c->name) > 0) {
            table[at] = table[at - 1];
            at--;
        }
        table[at] = c;
        table_count++;
    }
}

const struct shell_command *shell_find(const char *name)
{
    for (size_t i = 0; i < table_count; i++)
        if (strcmp(table[i]->name, name) == 0)
            return table[i];
    return NULL;
}

size_t shell_command_count(void)
{
    return table_count;
}

const struct shell_command *shell_command_at(size_t i)
{
    return i < table_count ? table[i] : NULL;
}

static void print_red(const char *text)
{
    uint8_t saved = console_attr();
    console_set_attr(vga_attr(VGA_LIGHT_RED, VGA_BLACK));
    console_puts(text);
    console_set_attr(saved);
}

void shell_print_usage(const struct shell_command *cmd)
{
    kprintf("usage: %s%s%s\n", cmd->name, cmd->usage[0] ? " " : "", cmd->usage);
}

void shell_error(const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    int n = ksnprintf(msg, sizeof(msg), "%s: ", running ? running->name : "shell");
    kvsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
    va_end(ap);
    print_red(msg);
    console_putc('\n');
}

static bool report_arg(const char *arg, const char *what, enum arg_error e, uint64_t min,
                       uint64_t max)
{
    char why[120];
    arg_describe(why, sizeof(why), arg, e, min, max);
    shell_error("bad %s: %s", what, why);
    return false;
}

bool shell_arg_u64(const char *arg, const char *what, uint64_t min, uint64_t max, uint64_t *out)
{
    enum arg_error e = arg_parse_u64(arg, min, max, out);
    return e == ARG_OK || report_arg(arg, what, e, min, max);
}

bool shell_arg_size(const char *arg, const char *what, uint64_t min, uint64_t max, uint64_t *out)
{
    enum arg_error e = arg_parse_size(arg, min, max, out);
    return e == ARG_OK || report_arg(arg, what, e, min, max);
}

struct invocation {
    const struct shell_command *cmd;
    int argc;
    char **argv;
};

static int invoke(void *arg)
{
    struct invocation *call = arg;
    return call->cmd->run(call->argc, call->argv);
}

/* Run a command under a recovery point: when it faults, the fault handler
 * reports and comes back here, and the shell carries on (recover.h). */
static int run_recoverable(const struct shell_command *cmd, int argc, char **argv)
{
    struct invocation call = {cmd, argc, argv};
    int result = CMD_FAILED;
    fault_set_command(cmd->name);
    enum recover_reason why = recover_run(invoke, &call, &result);
    fault_set_command(NULL);
    if (why != RECOVER_NONE)
        TRACE(TRACE_SHELL, "'%s' abandoned after a %s", cmd->name,
              why == RECOVER_STACK_OVERFLOW ? "stack overflow" : "fault");
    return why == RECOVER_NONE ? result : CMD_FAILED;
}

int shell_execute(char *line)
{
    char *argv[SHELL_MAX_ARGS + 1];
    int argc = arg_split(line, argv, SHELL_MAX_ARGS);
    running = NULL;
    if (argc == ARGS_TOO_MANY) {
        shell_error("too many words (at most %d)", SHELL_MAX_ARGS);
        return CMD_FAILED;
    }
    if (argc == ARGS_OPEN_QUOTE) {
        shell_error("a '\"' is not closed");
        return CMD_FAILED;
    }
    if (argc == 0)
        return CMD_OK;

    const struct shell_command *cmd = shell_find(argv[0]);
    if (!cmd) {
        char msg[120];
        ksnprintf(msg, sizeof(msg), "unknown command '%s'; type 'help' for the list\n", argv[0]);
        print_red(msg);
        return CMD_FAILED;
    }
    running = cmd;
    TRACE(TRACE_SHELL, "run '%s' with %d argument(s)", cmd->name, argc - 1);
    int nargs = argc - 1;
    int result;
    if (nargs < cmd->min_args) {
        shell_error("missing argument%s", cmd->min_args - nargs > 1 ? "s" : "");
        result = CMD_USAGE;
    } else if (cmd->max_args != SHELL_ARGS_ANY && nargs > cmd->max_args) {
        shell_error("too many arguments");
        result = CMD_USAGE;
    } else {
        result = run_recoverable(cmd, argc, argv);
    }
    if (result == CMD_USAGE)
        shell_print_usage(cmd);
    running = NULL;
    return result;
}
