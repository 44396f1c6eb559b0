/*
 * log.c - subsystem-prefixed log lines and the trace switches.
 */
#include "kernel/log.h"
#include "kernel/cmdline.h"
#include "kernel/config.h"
#include "kernel/console.h"
#include "kernel/format.h"
#include "kernel/kstring.h"
#include "kernel/vga.h"

uint32_t trace_mask = TRACE_DEFAULT_MASK;

static const char *const trace_names[] = {"memmap", "pmm", "paging", "heap", "shell"};
_Static_assert(ARRAY_SIZE(trace_names) == 5 && TRACE_ALL == 0x1f,
               "one name per trace bit");

static uint8_t level_attr(enum log_level level)
{
    switch (level) {
    case LOG_WARN:
        return vga_attr(VGA_YELLOW, VGA_BLACK);
    case LOG_ERROR:
        return vga_attr(VGA_LIGHT_RED, VGA_BLACK);
    case LOG_DEBUG:
        return vga_attr(VGA_DARK_GREY, VGA_BLACK);
    default:
        return console_attr();
    }
}

void klog(enum log_level level, const char *subsys, const char *fmt, ...)
{
    if ((int)level < LOG_MIN_LEVEL)
        return;
    uint8_t saved = console_attr();
    console_set_attr(level_attr(level));
    kprintf("%s: ", subsys);
    if (level == LOG_WARN)
        console_puts("warning: ");
    else if (level == LOG_ERROR)
        console_puts("error: ");
    va_list ap;
    va_start(ap, fmt);
    kvprintf(fmt, ap);
    va_end(ap);
    console_putc('\n');
    console_set_attr(saved);
}

const char *trace_name(uint32_t bit)
{
    for (unsigned i = 0; i < ARRAY_SIZE(trace_names); i++)
        if (bit == (1u << i))
            return trace_names[i];
    return NULL;
}

void trace_emit(uint32_t bit, const void *caller, const char *fmt, ...)
{
    char line[160];
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    const char *name = trace_name(bit);
    kprintf_to(CONSOLE_TO_SERIAL, "trace %s: %s [caller %p]\n", name ? name : "?", line,
               caller);
}

bool trace_parse(const char *list, uint32_t *mask, const char **bad)
{
    static char word[16];
    uint32_t result = 0;
    const char *cursor = list;
    while (cmdline_next_item(&cursor, word, sizeof(word))) {
        if (strcmp(word, "all") == 0) {
            result |= TRACE_ALL;
            continue;
        }
        if (strcmp(word, "none") == 0)
            continue;
        uint32_t bit = 0;
        for (unsigned i = 0; i < ARRAY_SIZE(trace_names); i++)
            if (strcmp(word, trace_names[i]) == 0)
                bit = 1u << i;
        if (bit == 0) {
            *bad = word;
            return false;
        }
        result |= bit;
    }
    *mask = result;
    return true;
}

/* klog_serial - a detail for the serial log only: the boot screen keeps
 * to what fits on one screen, the transcript gets everything. */
void klog_serial(const char *subsys, const char *fmt, ...)
{
    char line[200];
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    kprintf_to(CONSOLE_TO_SERIAL, "%s: %s\n", subsys, line);
}
