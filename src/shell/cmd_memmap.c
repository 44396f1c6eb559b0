/*
 * cmd_memmap.c - the `memmap` command: the firmware's memory map as a
 * table, as raw entries with what cleaning did, or as colour bars.
 */
#include "kernel/kstring.h"
#include "kernel/shell.h"
#include "kernel/viz.h"

static int cmd_memmap(int argc, char **argv)
{
    if (argc == 1)
        viz_memmap_table();
    else if (strcmp(argv[1], "raw") == 0)
        viz_memmap_raw();
    else if (strcmp(argv[1], "bar") == 0)
        viz_memmap_bar();
    else {
        shell_error("no view '%s' (say raw or bar, or nothing for the table)", argv[1]);
        return CMD_USAGE;
    }
    return CMD_OK;
}

static const struct shell_command memmap_commands[] = {
    {"memmap", "[raw|bar]",
     "the firmware's memory map: table, raw entries explained, or colour bars", 0, 1,
     cmd_memmap},
};

void memmap_commands_register(void)
{
    shell_register(memmap_commands, ARRAY_SIZE(memmap_commands));
}
