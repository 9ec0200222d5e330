/* Fuzz target for the packet framing parser (lib/io/framing.c).
 *
 * With libFuzzer: clang -fsanitize=fuzzer,address -DSWCO_FUZZ_LIBFUZZER ...
 * Without it (make check) main() runs the corpus files given on the
 * command line and a fixed number of pseudo-random inputs.
 *
 * The first bytes of an input choose the framing settings; the rest is the
 * stream.  Length mode: [mode] [max] [size/endian] [len offset] [body
 * offset] stream.  EOF mode: [mode] [max] [delimiter length 1..8] delimiter
 * stream.  Invariant: the parser returns 0, SWCO_EPKGTOOBIG, -EPROTO,
 * or a packet size within both the input and package_max_length, an EOF
 * packet ends at the first delimiter, and an incremental scan (byte by
 * byte) agrees with a single scan.
 *
 * fuzz-sources: lib/io/framing.c   (read by tools/fuzz) */
#include "fuzz_main.h"
#include "io/io_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


static void check(long n, const char *buf, size_t len, const swco__framing_t *f)
{
    if (n == 0 || n == SWCO_EPKGTOOBIG || n == -EPROTO)
        return;
    if (n < 0 || (size_t)n > len || (size_t)n > f->max_len) {
        fprintf(stderr, "framing returned %ld for %zu bytes (max %zu)\n", n, len, f->max_len);
        abort();
    }
    if (f->mode == SWCO__FRAME_EOF) {
        /* The packet ends with the delimiter, at its first occurrence. */
        size_t e = f->eof_len;
        if ((size_t)n < e || memcmp(buf + n - e, f->eof, e) != 0 ||
            memmem(buf, (size_t)n - 1, f->eof, e) != NULL) {
            fprintf(stderr, "EOF packet of %ld bytes does not end at the first delimiter\n", n);
            abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 6)
        return 0;
    swco__framing_t f;
    memset(&f, 0, sizeof f);
    f.mode = data[0] % 2 ? SWCO__FRAME_EOF : SWCO__FRAME_LENGTH;
    f.max_len = 1 + (size_t)data[1] * 4;
    size_t hdr = 5;
    if (f.mode == SWCO__FRAME_EOF) {
        f.eof_len = 1 + data[2] % 8; /* the API allows 1 to 8 bytes */
        if (size < 4 + f.eof_len)
            return 0;
        memcpy(f.eof, data + 3, f.eof_len);
        hdr = 3 + f.eof_len;
    } else {
        static const int sizes[] = {1, 2, 4, 4};
        f.len_size = sizes[data[2] % 4];
        f.big_endian = data[2] / 4 % 2;
        f.len_offset = data[3] % 8;
        f.body_offset = data[4] % 16;
    }
    const char *buf = (const char *)data + hdr;
    size_t len = size - hdr;
    size_t scanned = 0;
    long whole = swco__framing_check(&f, buf, len, &scanned);
    check(whole, buf, len, &f);
    /* Feed the same bytes one at a time: the first answer that is not
     * "need more" must match a fresh scan of that prefix. */
    scanned = 0;
    for (size_t i = 1; i <= len; i++) {
        long n = swco__framing_check(&f, buf, i, &scanned);
        check(n, buf, i, &f);
        if (n != 0) {
            size_t fresh_scan = 0;
            long fresh = swco__framing_check(&f, buf, i, &fresh_scan);
            if (fresh != n) {
                fprintf(stderr, "incremental %ld != fresh %ld at %zu\n", n, fresh, i);
                abort();
            }
            break;
        }
    }
    return 0;
}

#ifndef SWCO_FUZZ_LIBFUZZER
int main(int argc, char **argv)
{
    if (fuzz_run_files(argc, argv))
        return 1;
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int round = 0; round < 20000; round++) {
        uint8_t buf[256];
        size_t n = 12 + (size_t)(x % 200);
        for (size_t i = 0; i < n; i++) {
            fuzz_next(&x);
            buf[i] = (uint8_t)(x % 7 == 0 ? '\n' : x % 5 == 0 ? 0 : x >> 24);
        }
        if (buf[0] % 2) { /* EOF mode: copy the delimiter into the stream, whole or cut */
            size_t e = 1 + buf[2] % 8, hdr = 3 + e;
            for (size_t at = hdr + (size_t)(x % 17); at + e <= n; at += 9 + (size_t)(x % 23))
                memcpy(buf + at, buf + 3, at % 3 ? e : e - 1);
        }
        LLVMFuzzerTestOneInput(buf, n);
    }
    return 0;
}
#endif
