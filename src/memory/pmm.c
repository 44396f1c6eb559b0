/*
 * pmm.c - the frame allocator's public face: locking, checks on
 * addresses, reports of misuse, tracing, poisoning and the usage history.
 *
 * The logic lives in pmm_zone.c (pure, host-tested); this file turns
 * physical addresses into frame numbers and back, takes interrupts off
 * around the zone, names the caller of every operation, and says aloud
 * whatever goes wrong.
 */
#include "kernel/config.h"
#include "kernel/format.h"
#include "kernel/kstring.h"
#include "kernel/log.h"
#include "kernel/panic.h"
#include "kernel/pmm.h"
#include "kernel/symbols.h"
#include "kernel/timer.h"
#include "kernel/x86.h"
#include "pmm_internal.h"

#define DMA_LIMIT MIB(16)

static struct pmm_zone zone;
static struct pmm_layout layout;
static struct pmm_sample history[PMM_HISTORY];
static size_t history_count, history_next;

static uint32_t frame_of(paddr_t addr)
{
    return addr >> FRAME_SHIFT;
}

static void *address_of(uint32_t frame)
{
    return (void *)(frame << FRAME_SHIFT);
}

/* The zone's epoch is the uptime in seconds (mod 256): allocations record
 * it, the visualizer shows ages.  Every 64 s the ages over 128 s are
 * clamped to 128, so that none reaches 256 and wraps to look new (a walk
 * over the records: a few milliseconds, once a minute at most). */
static void advance_epoch(uint32_t second)
{
    static uint32_t clamped_at;
    zone.epoch = (uint8_t)second;
    if (second - clamped_at >= 64) {
        pmm_zone_clamp_ages(&zone, 128);
        clamped_at = second;
    }
}

/* One sample per second in which something happened (called with
 * interrupts off). */
static void sample(void)
{
    uint32_t now = (uint32_t)(timer_uptime_ms() / 1000);
    size_t newest = (history_next + PMM_HISTORY - 1) % PMM_HISTORY;
    if (history_count == 0 || history[newest].second != now) {
        /* A new second: take a new slot (else refresh this second's). */
        newest = history_next;
        history_next = (history_next + 1) % PMM_HISTORY;
        if (history_count < PMM_HISTORY)
            history_count++;
    }
    history[newest] = (struct pmm_sample){now, pmm_zone_free_count(&zone), (uint32_t)zone.allocs,
                                          (uint32_t)zone.frees};
    advance_epoch(now);
}

void pmm_init(const struct multiboot_info *mbi)
{
    pmm_boot_build(mbi, &zone, &layout);
    const char *broken = pmm_zone_check(&zone);
    if (broken)
        panic("pmm: the new zone is inconsistent: %s", broken);
    char total[16], bitmap[16];
    format_size(total, sizeof(total), (uint64_t)zone.frames * FRAME_SIZE);
    format_size(bitmap, sizeof(bitmap), layout.bitmap_bytes);
    log_info("pmm", "%u frames of 4 KiB (%s): %u free, %u reserved", zone.frames, total,
             pmm_zone_free_count(&zone), zone.reserved_frames);
    klog_serial("pmm", "bitmap and frame records: %s at 0x%08x", bitmap, layout.bitmap_base);
    sample();
}

/* How a freed frame is filled.  Until paging is on, every frame is
 * reachable at its physical address; after, only frames the kernel maps
 * are, so paging installs a filler that maps each frame for a moment
 * (the frame allocator itself must not call into paging: data flows one
 * way, pmm -> paging). */
static void fill_physical(paddr_t frame, uint8_t byte)
{
    memset((void *)frame, byte, FRAME_SIZE);
}

static void (*fill_frame)(paddr_t frame, uint8_t byte) = fill_physical;

void pmm_set_frame_filler(void (*fill)(paddr_t frame, uint8_t byte))
{
    fill_frame = fill ? fill : fill_physical;
}

static void poison(uint32_t first, uint32_t count)
{
    if (!PMM_POISON_FREED)
        return;
    for (uint32_t i = 0; i < count; i++)
        fill_frame((paddr_t)(first + i) << FRAME_SHIFT, PMM_POISON_BYTE);
}

static void *alloc_run(size_t count, size_t align, uint8_t tag, const void *caller)
{
    uint32_t flags = irq_save();
    if (count == 0 || !IS_POWER_OF_TWO(align) || align < FRAME_SIZE) {
        zone.failed_allocs++; /* refused allocations are counted here, not by the zone */
        irq_restore(flags);
        log_error("pmm", "alloc of %u frames aligned to 0x%x from %p: %s", (unsigned)count,
                  (unsigned)align, caller,
                  count == 0 ? "no frames asked for"
                             : "the alignment is not a power of two of at least 4 KiB");
        return NULL;
    }
    uint32_t first;
    if (tag == TAG_DMA)
        first = pmm_zone_alloc_run_below(&zone, (uint32_t)count, (uint32_t)(align >> FRAME_SHIFT),
                                         DMA_LIMIT >> FRAME_SHIFT, tag, (uint32_t)caller);
    else if (count == 1 && align == FRAME_SIZE)
        first = pmm_zone_alloc(&zone, tag, (uint32_t)caller);
    else
        first = pmm_zone_alloc_run(&zone, (uint32_t)count, (uint32_t)(align >> FRAME_SHIFT), tag,
                                   (uint32_t)caller);
    if (first == PMM_NO_FRAME)
        zone.failed_allocs++;
    sample();
    irq_restore(flags);
    if (first == PMM_NO_FRAME) {
        if (count == 1)
            log_warn("pmm", "out of memory: no free frame (caller %p)", caller);
        else
            log_warn("pmm", "out of memory: no run of %u free frames%s (caller %p, %u free)",
                     (unsigned)count, tag == TAG_DMA ? " below 16 MiB" : "", caller,
                     pmm_zone_free_count(&zone));
        return NULL;
    }
    kassert(first != 0);
    TRACE_FROM(TRACE_PMM, caller, "alloc %u frame%s at 0x%08x tag %s", (unsigned)count,
          count == 1 ? "" : "s", first << FRAME_SHIFT, pmm_tag_name(tag));
    return address_of(first);
}

void *pmm_alloc_frame(void)
{
    return alloc_run(1, FRAME_SIZE, TAG_KERNEL, __builtin_return_address(0));
}

void *pmm_alloc_frame_tagged(uint8_t tag)
{
    return alloc_run(1, FRAME_SIZE, tag, __builtin_return_address(0));
}

void *pmm_alloc_frames(size_t count, size_t align)
{
    return alloc_run(count, align, TAG_KERNEL, __builtin_return_address(0));
}

void *pmm_alloc_frames_tagged(size_t count, size_t align, uint8_t tag)
{
    return alloc_run(count, align, tag, __builtin_return_address(0));
}

static enum pmm_error free_run(paddr_t first, size_t count, const void *caller)
{
    enum pmm_error e;
    uint32_t bad = frame_of(first);
    uint32_t flags = irq_save();
    if (!IS_ALIGNED(first, FRAME_SIZE) || count == 0) {
        /* The zone counts the calls it refuses; this one it never sees. */
        e = PMM_ERR_BAD_ARG;
        zone.bad_frees++;
    } else {
        e = pmm_zone_free_run(&zone, frame_of(first), (uint32_t)count, &bad);
        if (e == PMM_OK)
            poison(frame_of(first), (uint32_t)count);
        sample();
    }
    irq_restore(flags);
    if (e != PMM_OK) {
        log_error("pmm", "bad free of 0x%08x (%u frame%s) from %p: %s; nothing was freed",
                  first, (unsigned)count, count == 1 ? "" : "s", caller,
                  e == PMM_ERR_BAD_ARG ? (count ? "not 4 KiB-aligned" : "zero frames")
                                       : pmm_error_str(e));
        if (e != PMM_ERR_BAD_ARG && count > 1)
            log_error("pmm", "  (the first bad frame is 0x%08x)", bad << FRAME_SHIFT);
        return e;
    }
    TRACE_FROM(TRACE_PMM, caller, "free %u frame%s at 0x%08x", (unsigned)count,
               count == 1 ? "" : "s", first);
    return PMM_OK;
}

void pmm_free_frame(void *frame)
{
    free_run((paddr_t)frame, 1, __builtin_return_address(0));
}

void pmm_free_frames(void *first, size_t count)
{
    free_run((paddr_t)first, count, __builtin_return_address(0));
}

enum pmm_error pmm_try_free(paddr_t first, size_t count)
{
    return free_run(first, count, __builtin_return_address(0));
}

static enum pmm_error change_refs(void *frame, bool add, const void *caller)
{
    paddr_t addr = (paddr_t)frame;
    enum pmm_error e = PMM_ERR_BAD_ARG;
    bool freed = false;
    if (IS_ALIGNED(addr, FRAME_SIZE)) {
        uint32_t flags = irq_save();
        e = add ? pmm_zone_ref(&zone, frame_of(addr))
                : pmm_zone_unref(&zone, frame_of(addr), &freed);
        if (freed)
            poison(frame_of(addr), 1);
        sample();
        irq_restore(flags);
    }
    if (e != PMM_OK) {
        log_error("pmm", "%s of 0x%08x from %p refused: %s", add ? "ref" : "unref", addr, caller,
                  e == PMM_ERR_BAD_ARG && !IS_ALIGNED(addr, FRAME_SIZE) ? "not 4 KiB-aligned"
                                                                         : pmm_error_str(e));
        return e;
    }
    TRACE_FROM(TRACE_PMM, caller, "%s 0x%08x%s", add ? "ref" : "unref", addr,
               freed ? " (freed)" : "");
    return PMM_OK;
}

enum pmm_error pmm_ref(void *frame)
{
    return change_refs(frame, true, __builtin_return_address(0));
}

enum pmm_error pmm_unref(void *frame)
{
    return change_refs(frame, false, __builtin_return_address(0));
}

void pmm_query(paddr_t addr, struct frame_info *out)
{
    uint32_t flags = irq_save();
    pmm_zone_query(&zone, frame_of(addr), out);
    irq_restore(flags);
}

/* pmm_summarize - see pmm.h. */
void pmm_summarize(paddr_t first, uint64_t bytes, uint32_t samples, struct frame_summary *out)
{
    uint64_t frames = (bytes + FRAME_SIZE - 1) >> FRAME_SHIFT;
    uint32_t flags = irq_save();
    pmm_zone_summarize(&zone, frame_of(first), frames > UINT32_MAX ? UINT32_MAX : (uint32_t)frames,
                       samples, out);
    irq_restore(flags);
}

const struct pmm_zone *pmm_get_zone(void)
{
    return &zone;
}

const struct pmm_layout *pmm_get_layout(void)
{
    return &layout;
}

size_t pmm_history(struct pmm_sample *out, size_t max)
{
    uint32_t flags = irq_save();
    size_t n = history_count < max ? history_count : max;
    size_t oldest = (history_next + PMM_HISTORY - history_count) % PMM_HISTORY;
    size_t skip = history_count - n; /* keep the newest n */
    for (size_t i = 0; i < n; i++)
        out[i] = history[(oldest + skip + i) % PMM_HISTORY];
    irq_restore(flags);
    return n;
}

/* pmm_owner_format - see pmm.h. */
int pmm_owner_format(uint32_t owner, char *buf, size_t size)
{
    if (owner == PMM_OWNER_UNKNOWN)
        return ksnprintf(buf, size, "unknown: the owner table was full");
    if (owner == 0)
        return ksnprintf(buf, size, "nobody recorded");
    return symbols_format_return(owner, buf, size);
}
