/* Packet framing: where the first complete packet of a byte stream ends.
 * Pure (no I/O, no allocation) so it can be fuzzed on its own. */
#include "io/io_int.h"

#include <string.h>

static long check_eof(const swco__framing_t *f, const char *buf, size_t len, size_t *scanned)
{
    size_t from = scanned ? *scanned : 0;
    if (from > len)
        from = 0;
    /* Resume a little before where the last search stopped, in case the
     * delimiter straddles the boundary. */
    from = from >= f->eof_len ? from - (f->eof_len - 1) : 0;
    if (len >= f->eof_len) {
        const char *hit = memmem(buf + from, len - from, f->eof, f->eof_len);
        if (hit) {
            size_t n = (size_t)(hit - buf) + f->eof_len;
            if (scanned)
                *scanned = 0;
            return n > f->max_len ? SWCO_EPKGTOOBIG : (long)n;
        }
    }
    if (scanned)
        *scanned = len;
    return len >= f->max_len ? SWCO_EPKGTOOBIG : 0;
}

static long check_length(const swco__framing_t *f, const char *buf, size_t len)
{
    size_t hdr = f->len_offset + (size_t)f->len_size;
    if (len < hdr)
        return 0;
    const unsigned char *p = (const unsigned char *)buf + f->len_offset;
    uint64_t v = 0;
    for (int i = 0; i < f->len_size; i++) {
        int k = f->big_endian ? i : f->len_size - 1 - i;
        v = (v << 8) | p[k];
    }
    uint64_t total = (uint64_t)f->body_offset + v;
    if (total > f->max_len)
        return SWCO_EPKGTOOBIG;
    if (total < hdr || total == 0)
        return -EPROTO; /* the length cannot even cover its own header */
    return len >= total ? (long)total : 0;
}

long swco__framing_check(const swco__framing_t *f, const char *buf, size_t len, size_t *scanned)
{
    switch (f->mode) {
    case SWCO__FRAME_EOF:
        return check_eof(f, buf, len, scanned);
    case SWCO__FRAME_LENGTH:
        return check_length(f, buf, len);
    default:
        return len > 0 ? (long)(len > f->max_len ? f->max_len : len) : 0;
    }
}
