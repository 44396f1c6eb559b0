/*
 * test_fault.c - the pure parts of fault handling: the page-fault error
 * code in words (src/memory/fault_decode.c), the fault log ring
 * (src/memory/fault_log.c) and the table of named virtual regions
 * (src/memory/vmregion.c).
 */
#include "check.h"
#include "kernel/fault.h"
#include "kernel/vmregion.h"

static void test_decode_every_code(void)
{
    char buf[128];
    CHECK_STR_EQ(fault_decode_error(0x0, buf, sizeof(buf)), "not-present page, read, kernel mode");
    CHECK_STR_EQ(fault_decode_error(0x3, buf, sizeof(buf)),
                 "protection violation, write, kernel mode");
    CHECK_STR_EQ(fault_decode_error(0x4, buf, sizeof(buf)), "not-present page, read, user mode");
    CHECK_STR_EQ(fault_decode_error(0x10, buf, sizeof(buf)),
                 "not-present page, instruction fetch, kernel mode");
    CHECK_STR_EQ(fault_decode_error(0x9, buf, sizeof(buf)),
                 "protection violation, read, kernel mode, reserved bit set in a table entry");
    /* Every one of the 32 codes decodes to something that names all three
     * parts, and none overflows a small buffer. */
    for (uint32_t code = 0; code < 32; code++) {
        fault_decode_error(code, buf, sizeof(buf));
        CHECK(strstr(buf, (code & PF_PRESENT) ? "protection" : "not-present") != NULL);
        CHECK(strstr(buf, (code & PF_USER) ? "user mode" : "kernel mode") != NULL);
        char small[12];
        memset(small, 'x', sizeof(small));
        fault_decode_error(code, small, 8);
        CHECK(small[7] == '\0' && small[8] == 'x');
        fault_summary(code, small, 8);
        CHECK(small[7] == '\0' && small[8] == 'x');
    }
}

static void test_summaries(void)
{
    char buf[128];
    CHECK_STR_EQ(fault_summary(0x0, buf, sizeof(buf)), "read from a page that is not mapped");
    CHECK_STR_EQ(fault_summary(0x2, buf, sizeof(buf)), "write to a page that is not mapped");
    CHECK_STR_EQ(fault_summary(0x3, buf, sizeof(buf)), "write to a read-only page");
    CHECK_STR_EQ(fault_summary(0x10, buf, sizeof(buf)),
                 "jump to (instruction fetch from) a page that is not mapped");
    CHECK_STR_EQ(fault_summary(0x5, buf, sizeof(buf)),
                 "read from a page it may not read (a user-mode access to a kernel page)");
    CHECK(strstr(fault_summary(0x8, buf, sizeof(buf)), "reserved bit") != NULL);
}

static struct fault_record fault_at(uint32_t cr2)
{
    struct fault_record r;
    memset(&r, 0, sizeof(r));
    r.vector = 14;
    r.cr2 = cr2;
    r.depth = 200; /* more than FAULT_TRACE_DEPTH: must be clipped */
    memset(r.command, 'c', sizeof(r.command)); /* no NUL: must be cut */
    return r;
}

static void test_log_ring(void)
{
    static struct fault_log log;
    CHECK_EQ_U64(fault_log_count(&log), 0);
    CHECK(fault_log_get(&log, 0) == NULL);
    for (uint32_t i = 1; i <= 3; i++) {
        struct fault_record r = fault_at(i * 0x1000);
        const struct fault_record *s = fault_log_add(&log, &r);
        CHECK_EQ_U64(s->seq, i);
        CHECK_EQ_U64(s->depth, FAULT_TRACE_DEPTH);
        CHECK_EQ_U64(strlen(s->command), sizeof(s->command) - 1);
    }
    CHECK_EQ_U64(fault_log_count(&log), 3);
    CHECK_EQ_U64(fault_log_get(&log, 0)->cr2, 0x1000);
    CHECK_EQ_U64(fault_log_get(&log, 2)->cr2, 0x3000);
    /* Past the ring's size the oldest go, in order. */
    for (uint32_t i = 4; i <= FAULT_LOG_SIZE + 5; i++) {
        struct fault_record r = fault_at(i * 0x1000);
        fault_log_add(&log, &r);
    }
    CHECK_EQ_U64(log.total, FAULT_LOG_SIZE + 5);
    CHECK_EQ_U64(fault_log_count(&log), FAULT_LOG_SIZE);
    for (size_t i = 0; i < FAULT_LOG_SIZE; i++) {
        CHECK_EQ_U64(fault_log_get(&log, i)->seq, 6 + i);
        CHECK_EQ_U64(fault_log_get(&log, i)->cr2, (6 + i) * 0x1000);
    }
    CHECK(fault_log_get(&log, FAULT_LOG_SIZE) == NULL);
}

static void test_regions(void)
{
    static struct vm_regions t;
    CHECK(vm_regions_find(&t, 0) == NULL);
    CHECK(vm_regions_add(&t, 0xe0000000u, 0xefffffffu, VM_GUARDED_AREA, "area"));
    CHECK(vm_regions_add(&t, 0x0, 0xfff, VM_NULL_PAGE, "null"));
    CHECK(vm_regions_add(&t, 0xe0001000u, 0xe0001fffu, VM_GUARD, "guard"));
    CHECK(vm_regions_add(&t, 0xffc00000u, 0xffffffffu, VM_PAGE_TABLES, "window"));
    CHECK(!vm_regions_add(&t, 10, 5, VM_HEAP, "backwards"));
    /* Sorted by start. */
    for (size_t i = 1; i < t.count; i++)
        CHECK(t.r[i - 1].start <= t.r[i].start);
    CHECK_STR_EQ(vm_regions_find(&t, 0x123)->name, "null");
    CHECK(vm_regions_find(&t, 0x1000) == NULL);
    CHECK_STR_EQ(vm_regions_find(&t, 0xe0001800u)->name, "guard"); /* the most specific */
    CHECK_STR_EQ(vm_regions_find(&t, 0xe0002000u)->name, "area");
    CHECK_STR_EQ(vm_regions_find(&t, 0xffffffffu)->name, "window");
    CHECK_STR_EQ(vm_regions_overlapping(&t, 0xdffff000u, 0xe0000000u)->name, "area");
    CHECK(vm_regions_overlapping(&t, 0x1000, 0xdfffffffu) == NULL);
    CHECK(vm_regions_remove(&t, 0xe0001000u, VM_GUARD));
    CHECK(!vm_regions_remove(&t, 0xe0001000u, VM_GUARD));
    CHECK_STR_EQ(vm_regions_find(&t, 0xe0001800u)->name, "area");
    /* A full table says so and keeps what it has. */
    size_t before = t.count;
    for (size_t i = before; i < VM_REGIONS_MAX; i++)
        CHECK(vm_regions_add(&t, 0x10000000u + (uint32_t)i * 0x1000, 0x10000fffu + (uint32_t)i * 0x1000,
                             VM_HEAP, "h"));
    CHECK(!vm_regions_add(&t, 0x30000000u, 0x30000fffu, VM_HEAP, "one too many"));
    CHECK_EQ_U64(t.count, VM_REGIONS_MAX);
    CHECK_STR_EQ(vm_kind_name(VM_GUARD), "guard page");
    CHECK_STR_EQ(vm_kind_name(999), "?");
}

int main(void)
{
    RUN(test_decode_every_code);
    RUN(test_summaries);
    RUN(test_log_ring);
    RUN(test_regions);
    return check_summary("fault");
}
