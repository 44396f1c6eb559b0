/*
 * memmap_parse.c - walking the Multiboot memory-map buffer (pure).
 *
 * The boot loader leaves `mmap_length` bytes of entries at `mmap_addr`:
 *
 *     offset  0   4              12             20       24
 *             +---+--------------+--------------+--------+- - - - -+
 *             |size| base (u64)  | length (u64) | type   | (more)  |
 *             +---+--------------+--------------+--------+- - - - -+
 *                 |<------------- size bytes ------------------->|
 *
 * `size` does not count itself, so the next entry starts at +size+4.  It
 * is 20 in practice, but a loader may make entries longer (the walk then
 * skips the extra bytes); anything below 20 cannot hold the three fields,
 * and after such an entry nobody knows where the next one starts, so the
 * walk stops there and says so.  Nothing guarantees alignment (the fields
 * of a 20-byte entry after a 4-byte size sit at odd multiples of 4), and
 * the buffer may end in the middle of an entry: the fields are assembled
 * from bytes, and no byte at or past buf + length is ever read.
 */
#include "kernel/memmap.h"

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

#define MB_ENTRY_MIN 20 /* base, length, type */

/*
 * memmap_parse_multiboot - see memmap.h.  result->stop_offset is where the
 * walk ended: the bad or cut entry, or `length` when every entry was read;
 * result->stop_size is the size field found there (0 when the buffer
 * ended before one).
 */
void memmap_parse_multiboot(const void *buf, size_t length, struct mem_region *out,
                            size_t capacity, struct memmap_parse_result *result)
{
    const uint8_t *b = buf;
    struct memmap_parse_result r = { 0, 0, false, false, 0, 0 };
    size_t off = 0;

    while (off < length) {
        size_t left = length - off;
        if (left < 4) {
            r.cut_short = true;
            break;
        }
        uint32_t size = get32(b + off);
        if (size < MB_ENTRY_MIN) {
            r.bad_size = true;
            r.stop_size = size;
            break;
        }
        if (size > left - 4) {
            r.cut_short = true;
            r.stop_size = size;
            break;
        }
        if (r.stored < capacity) {
            out[r.stored].base = get64(b + off + 4);
            out[r.stored].length = get64(b + off + 12);
            out[r.stored].type = get32(b + off + 20);
            r.stored++;
        } else {
            r.ignored++;
        }
        off += (size_t)size + 4; /* size + 4 <= left: no overflow */
    }
    r.stop_offset = (uint32_t)off;
    *result = r;
}
