/*
 * shell.h - the keyboard shell: a command table every module adds to.
 *
 * A module describes its commands in a static array and calls
 * shell_register() from its init code.  The shell splits each line into
 * words, checks the argument count against the command's min/max, and
 * calls run(argc, argv) with argv[0] the command's name.
 */
#ifndef KERNEL_SHELL_H
#define KERNEL_SHELL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/types.h"

/* What run() returns. */
enum cmd_result {
    CMD_OK = 0,
    CMD_USAGE,  /* the arguments were wrong: the shell prints the usage */
    CMD_FAILED, /* the command ran and failed; it has said why */
};

struct shell_command {
    const char *name;
    const char *usage; /* arguments only, e.g. "<addr> [count]" ("" for none) */
    const char *help;  /* one line for `help` */
    uint8_t min_args;  /* words after the name */
    uint8_t max_args;  /* SHELL_ARGS_ANY for no limit */
    int (*run)(int argc, char **argv);
};

#define SHELL_ARGS_ANY 0xff

/* shell_register - add commands.  A full table or a name that is already
 * taken is reported on the console and that command is skipped. */
void shell_register(const struct shell_command *cmds, size_t count);

const struct shell_command *shell_find(const char *name);
size_t shell_command_count(void);
/* shell_command_at - the i-th command in alphabetical order. */
const struct shell_command *shell_command_at(size_t i);

/* shell_execute - run one line (modified in place).  Returns the command's
 * result, CMD_OK for a blank line, CMD_FAILED for unknown commands. */
int shell_execute(char *line);

/* shell_print_usage - "usage: name args" for cmd. */
void shell_print_usage(const struct shell_command *cmd);

/* shell_error - "<command>: <message>" in red, for the running command. */
void shell_error(const char *fmt, ...) PRINTF_LIKE(1, 2);

/*
 * shell_arg_u64 / shell_arg_size - parse a numeric argument (see args.h);
 * on failure print one line naming the argument and what is wrong, and
 * return false (the command then returns CMD_USAGE).
 */
bool shell_arg_u64(const char *arg, const char *what, uint64_t min, uint64_t max, uint64_t *out);
bool shell_arg_size(const char *arg, const char *what, uint64_t min, uint64_t max, uint64_t *out);

/* shell_run - the prompt loop; never returns. */
NORETURN void shell_run(void);

/* The shell's own commands (help, clear, echo, ...), src/shell/builtins.c
 * and src/shell/cmd_system.c. */
void builtins_register(void);
void system_commands_register(void);
/* Commands of the memory subsystem's views (src/shell/cmd_*.c). */
void memmap_commands_register(void);
void frame_commands_register(void);
void paging_commands_register(void);
void heap_commands_register(void);

#endif
