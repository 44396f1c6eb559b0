/*
 * fault_log.c - the ring of the last FAULT_LOG_SIZE faults (pure; see
 * fault.h).  `total` counts every fault since boot; the slot of fault n
 * (1-based) is (n - 1) % FAULT_LOG_SIZE, so the ring needs no head index.
 */
#include "kernel/fault.h"

const struct fault_record *fault_log_add(struct fault_log *log, const struct fault_record *r)
{
    struct fault_record *slot = &log->ring[log->total % FAULT_LOG_SIZE];
    *slot = *r;
    slot->seq = ++log->total;
    slot->command[sizeof(slot->command) - 1] = '\0';
    if (slot->depth > FAULT_TRACE_DEPTH)
        slot->depth = FAULT_TRACE_DEPTH;
    return slot;
}

size_t fault_log_count(const struct fault_log *log)
{
    return log->total < FAULT_LOG_SIZE ? log->total : FAULT_LOG_SIZE;
}

const struct fault_record *fault_log_get(const struct fault_log *log, size_t i)
{
    size_t n = fault_log_count(log);
    if (i >= n)
        return NULL;
    uint32_t oldest = log->total - (uint32_t)n;
    return &log->ring[(oldest + i) % FAULT_LOG_SIZE];
}
