/*
 * fault_decode.c - the page-fault error code in words (pure; see fault.h).
 */
#include "kernel/fault.h"
#include "kernel/format.h"
#include "kernel/kstring.h"

char *fault_decode_error(uint32_t code, char *buf, size_t size)
{
    ksnprintf(buf, size, "%s, %s, %s%s", (code & PF_PRESENT) ? "protection violation" : "not-present page",
              (code & PF_FETCH) ? "instruction fetch" : (code & PF_WRITE) ? "write" : "read",
              (code & PF_USER) ? "user mode" : "kernel mode",
              (code & PF_RESERVED) ? ", reserved bit set in a table entry" : "");
    return buf;
}

char *fault_summary(uint32_t code, char *buf, size_t size)
{
    const char *what = (code & PF_FETCH)   ? "jump to (instruction fetch from)"
                       : (code & PF_WRITE) ? "write to"
                                           : "read from";
    const char *page;
    if (code & PF_RESERVED)
        page = "a page whose table entry has a reserved bit set";
    else if (!(code & PF_PRESENT))
        page = "a page that is not mapped";
    else if (code & PF_FETCH)
        page = "a page that may not be executed";
    else if (code & PF_WRITE)
        page = "a read-only page";
    else
        page = "a page it may not read (a user-mode access to a kernel page)";
    if ((code & PF_PRESENT) && (code & PF_USER) && !(code & PF_RESERVED) && (code & PF_WRITE))
        page = "a page it may not write (read-only, or a kernel page from user mode)";
    ksnprintf(buf, size, "%s %s", what, page);
    return buf;
}
