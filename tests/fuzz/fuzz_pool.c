/* Fuzz target for the process pool's socket-mode message reader
 * (lib/process/pool_msg.c): a 4-byte big-endian length, then the body.
 *
 * With libFuzzer: clang -fsanitize=fuzzer,address,undefined
 * -DSWCO_FUZZ_LIBFUZZER ...  Without it (make check) main() runs the corpus
 * files given on the command line and a fixed number of pseudo-random
 * inputs.
 *
 * Byte 0 picks the largest accepted body, byte 1 seeds the sizes of the
 * pieces the stream arrives in; the rest is what the client sent.  The
 * reader fed piece by piece (through feed, and through space/commit with
 * short writes, as recv() does) must agree with a plain reading of the
 * whole stream: the same verdict, the same body, and never a byte taken
 * past the end of the message. */
#include "fuzz_main.h"
#include "process/pool_msg.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#define FAIL(...)                                                                             \
    do {                                                                                      \
        fprintf(stderr, __VA_ARGS__);                                                         \
        fputc('\n', stderr);                                                                  \
        abort();                                                                              \
    } while (0)

/* What the stream means: 1 complete (body at s+4, *len), 0 incomplete,
 * -EMSGSIZE; *need is how many bytes the reader may take. */
static int expected(const uint8_t *s, size_t n, size_t max, size_t *len, size_t *need)
{
    if (n < 4) {
        *need = n;
        return 0;
    }
    *len = (size_t)s[0] << 24 | (size_t)s[1] << 16 | (size_t)s[2] << 8 | s[3];
    if (*len > max) {
        *need = 4;
        return -EMSGSIZE;
    }
    if (n - 4 < *len) {
        *need = n;
        return 0;
    }
    *need = 4 + *len;
    return 1;
}

static void verify(const char *how, int rc, size_t used, const swco__pool_msg_t *m,
                   const uint8_t *s, size_t n, size_t max)
{
    size_t len = 0, need = 0;
    int want = expected(s, n, max, &len, &need);
    if (rc != want)
        FAIL("%s: verdict %d, expected %d (%zu bytes, max %zu)", how, rc, want, n, max);
    if (used != need)
        FAIL("%s: took %zu bytes, expected %zu", how, used, need);
    if (rc == 1) {
        if (m->len != len || m->got != len || !m->buf)
            FAIL("%s: body %zu/%zu bytes, expected %zu", how, m->got, m->len, len);
        if (len && memcmp(m->buf, s + 4, len) != 0)
            FAIL("%s: body differs", how);
        if (m->cap < len)
            FAIL("%s: capacity %zu below length %zu", how, m->cap, len);
    }
    if (m->hdr_got > 4 || m->got > m->cap || (m->hdr_got == 4 && m->got > m->len))
        FAIL("%s: state out of bounds", how);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    /* Small limits reach the "too large" verdict; 0 allows only empty
     * messages; 255 means the real limit. */
    size_t max = data[0] == 255 ? (size_t)8 * 1024 * 1024 : (size_t)data[0] * 37;
    uint32_t seed = data[1] * 2654435761u + 1;
    const uint8_t *s = data + 2;
    size_t n = size - 2;

    /* 1: the whole stream at once. */
    swco__pool_msg_t m;
    swco__pool_msg_init(&m, max);
    size_t used = 0;
    int rc = swco__pool_msg_feed(&m, s, n, &used);
    verify("whole", rc, used, &m, s, n, max);
    swco__pool_msg_free(&m);

    /* 2: pieces of pseudo-random sizes through feed. */
    swco__pool_msg_init(&m, max);
    used = 0;
    rc = 0;
    uint32_t x = seed;
    while (used < n && rc == 0) {
        x = x * 1103515245u + 12345u;
        size_t piece = 1 + (x >> 16) % 64;
        if (piece > n - used)
            piece = n - used;
        size_t u = 0;
        rc = swco__pool_msg_feed(&m, s + used, piece, &u);
        if (u > piece)
            FAIL("feed took %zu of %zu bytes", u, piece);
        used += u;
        if (rc == 0 && u != piece)
            FAIL("feed stopped early (%zu of %zu) without a verdict", u, piece);
    }
    if (n == 0 || rc != 0 || used == n)
        verify("pieces", rc, used, &m, s, n, max);
    /* A finished reader keeps its verdict and takes nothing more. */
    if (rc != 0) {
        size_t u = 1;
        int again = swco__pool_msg_feed(&m, s, n, &u);
        if (again != rc || u != 0)
            FAIL("after verdict %d: feed gave %d and took %zu", rc, again, u);
    }
    swco__pool_msg_free(&m);

    /* 3: space/commit with short reads, as recv() into the space does. */
    swco__pool_msg_init(&m, max);
    used = 0;
    rc = 0;
    x = seed ^ 0x5bd1e995u;
    while (rc == 0 && used < n) {
        size_t room = 0;
        void *dst = swco__pool_msg_space(&m, &room);
        if (!dst || room == 0)
            FAIL("no space while the message is incomplete");
        x = x * 1103515245u + 12345u;
        size_t k = 1 + (x >> 16) % 97;
        if (k > room)
            k = room;
        if (k > n - used)
            k = n - used;
        memcpy(dst, s + used, k);
        used += k;
        rc = swco__pool_msg_commit(&m, k);
    }
    verify("commit", rc, used, &m, s, n, max);
    if (rc != 0) {
        size_t room = 1;
        if (swco__pool_msg_space(&m, &room) || room != 0)
            FAIL("space offered after verdict %d", rc);
    } else if (m.hdr_got < 4 && swco__pool_msg_commit(&m, 5) != -EINVAL) {
        FAIL("commit past the header's room accepted");
    }
    swco__pool_msg_free(&m);
    return 0;
}

#ifndef SWCO_FUZZ_LIBFUZZER
int main(int argc, char **argv)
{
    if (fuzz_run_files(argc, argv))
        return 1;
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int round = 0; round < 20000; round++) {
        uint8_t buf[600];
        size_t n = 2 + (size_t)(x % 580);
        fuzz_fill(buf, n, &x);
        /* Mostly plausible headers: a length within the stream. */
        if (round % 2 && n >= 6) {
            size_t len = (size_t)(x % (n - 5));
            buf[2] = 0;
            buf[3] = 0;
            buf[4] = (uint8_t)(len >> 8);
            buf[5] = (uint8_t)len;
        }
        LLVMFuzzerTestOneInput(buf, n);
    }
    return 0;
}
#endif
