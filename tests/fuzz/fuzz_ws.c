/* Fuzz target for the WebSocket frame reader (lib/websocket/frame.c) and
 * permessage-deflate's inflater (deflate.c).
 *
 * With libFuzzer: tools/fuzz ws SECONDS.  Without it (make check) main()
 * runs the corpus files given on the command line and a fixed number of
 * pseudo-random inputs: frame sequences our own builder made (server and
 * client side, compressed or not), then mutated.
 *
 * Input: byte 0 picks the side (bit 0: server, frames must be masked),
 * permessage-deflate (bit 1, with context takeover unless bit 2) and the
 * size limit (bits 4-7); byte 1 seeds how the rest is cut into reads.
 * The rest is what the peer sent.  Fed whole and fed in pieces, the reader
 * must hand over the same messages and reach the same verdict; what it
 * hands over must respect the limit, control frames at most 125 bytes,
 * text valid UTF-8, close payloads well formed.
 *
 * fuzz-sources: libswco   (read by tools/fuzz)
 * fuzz-libs: -lz -lcrypto */
#include "fuzz_main.h"
#include "websocket/ws_int.h"

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

typedef struct trace {
    int n;
    uint64_t h;              /* hash of every event */
    size_t max;
} trace_t;

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
    const uint8_t *s = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 0x100000001b3ull;
    return h;
}

/* Independent check of UTF-8 (Unicode 3.9 table), unlike the reader's. */
static int utf8_ok(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t k;
        uint32_t cp;
        if (c >= 0xc2 && c <= 0xdf)
            k = 1, cp = c & 0x1f;
        else if (c >= 0xe0 && c <= 0xef)
            k = 2, cp = c & 0x0f;
        else if (c >= 0xf0 && c <= 0xf4)
            k = 3, cp = c & 0x07;
        else
            return 0;
        for (size_t j = 1; j <= k; j++) {
            if (i + j >= n || (s[i + j] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i + j] & 0x3f);
        }
        if ((k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += k + 1;
    }
    return 1;
}

static int on_event(void *arg, int opcode, swco__hbuf_t *b)
{
    trace_t *t = arg;
    if (b->p[b->len] != 0)
        FAIL("payload not NUL-terminated");
    switch (opcode) {
    case SWCO_WS_TEXT:
        if (!utf8_ok((const uint8_t *)b->p, b->len))
            FAIL("text that is not UTF-8 (%zu bytes)", b->len);
        /* fall through */
    case SWCO_WS_BINARY:
        if (t->max && b->len > t->max)
            FAIL("message of %zu bytes past the limit %zu", b->len, t->max);
        break;
    case SWCO_WS_CLOSE:
        if (b->len == 1)
            FAIL("close payload of 1 byte");
        if (b->len >= 2) {
            int code = (uint8_t)b->p[0] << 8 | (uint8_t)b->p[1];
            if (!swco__ws_close_code_valid(code))
                FAIL("close code %d", code);
            if (!utf8_ok((const uint8_t *)b->p + 2, b->len - 2))
                FAIL("close reason not UTF-8");
        }
        /* fall through */
    case SWCO_WS_PING:
    case SWCO_WS_PONG:
        if (b->len > 125)
            FAIL("control frame of %zu bytes", b->len);
        break;
    default:
        FAIL("opcode %d handed over", opcode);
    }
    t->n++;
    t->h = mix(t->h, &opcode, sizeof opcode);
    t->h = mix(t->h, b->p, b->len);
    /* take the buffer sometimes, as the server does */
    if (b->len & 1) {
        free(b->p);
        b->p = NULL;
        b->len = b->cap = 0;
    }
    return 0;
}

static int run(const uint8_t *data, size_t size, int cfg, uint64_t seed, int pieces, trace_t *t)
{
    static const size_t limits[16] = {0, 1, 2, 125, 126, 127, 200, 1000, 4096, 65535, 65536,
                                      100000, 1 << 20, 0, 10, 3};
    size_t max = limits[(cfg >> 4) & 15];
    swco__ws_zip_t zip;
    int deflate = (cfg >> 1) & 1;
    swco__ws_zip_init(&zip, 1, 15, (cfg >> 2) & 1, 0);
    swco__ws_reader_t r;
    swco__ws_reader_init(&r, cfg & 1, max, deflate ? &zip : NULL);
    memset(t, 0, sizeof *t);
    t->h = 1469598103934665603ull;
    t->max = max;
    int rc = 0;
    size_t i = 0;
    while (i < size) {
        size_t n = size - i;
        if (pieces) {
            n = (size_t)(fuzz_next(&seed) % 9) + 1;
            if (fuzz_next(&seed) % 8 == 0)
                n = (size_t)(fuzz_next(&seed) % 300) + 1;
            if (n > size - i)
                n = size - i;
        }
        /* in an allocation of exactly n bytes: reads past it are errors */
        char *chunk = malloc(n);
        memcpy(chunk, data + i, n);
        rc = swco__ws_reader_feed(&r, chunk, n, on_event, t);
        free(chunk);
        i += n;
        if (rc)
            break;
    }
    if (rc != 0 && rc != SWCO_WS_CLOSE_PROTOCOL_ERROR && rc != SWCO_WS_CLOSE_INVALID_PAYLOAD &&
        rc != SWCO_WS_CLOSE_TOO_BIG && rc != SWCO_WS_CLOSE_SERVER_ERROR)
        FAIL("verdict %d", rc);
    swco__ws_reader_free(&r);
    swco__ws_zip_free(&zip);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    int cfg = data[0];
    uint64_t seed = data[1] * 0x9e3779b97f4a7c15ull + 1;
    trace_t a, b;
    int ra = run(data + 2, size - 2, cfg, seed, 0, &a);
    int rb = run(data + 2, size - 2, cfg, seed, 1, &b);
    /* However the bytes are cut, the same events and the same verdict. */
    if (ra != rb)
        FAIL("verdict %d whole, %d in pieces", ra, rb);
    if (a.n != b.n || a.h != b.h)
        FAIL("%d events whole, %d in pieces", a.n, b.n);
    return 0;
}

#ifndef SWCO_FUZZ_LIBFUZZER
/* A generated input: cfg, seed, then frames our builder makes. */
static size_t make_input(uint8_t *out, size_t cap, uint64_t *x)
{
    int cfg = (int)(fuzz_next(x) & 0xff);
    int masked = cfg & 1, deflate = (cfg >> 1) & 1;
    swco__hbuf_t b = {0};
    swco__hbuf_add(&b, (uint8_t[]){(uint8_t)cfg, (uint8_t)fuzz_next(x)}, 2);
    swco__ws_zip_t tx;
    swco__ws_zip_init(&tx, 0, 15, (cfg >> 2) & 1, 1);
    int nframes = (int)(fuzz_next(x) % 6) + 1;
    for (int f = 0; f < nframes; f++) {
        uint8_t pl[300];
        size_t n = (size_t)(fuzz_next(x) % (fuzz_next(x) & 1 ? 8 : 300));
        for (size_t i = 0; i < n; i++)
            pl[i] = (uint8_t)(fuzz_next(x) & 1 ? 'a' + i % 26 : fuzz_next(x));
        static const int ops[] = {1, 2, 0, 8, 9, 10, 1, 2};
        int op = ops[fuzz_next(x) % 8];
        int more = fuzz_next(x) % 4 == 0;
        if (op >= 8 && n > 125)
            n = 125;
        if (op == 8 && n >= 2) {
            pl[0] = 0x03;
            pl[1] = 0xe8;
        }
        if (deflate && (op == 1 || op == 2) && !more && fuzz_next(x) & 1) {
            swco__hbuf_t z = {0};
            swco__ws_deflate(&tx, pl, n, &z);
            swco__ws_frame_build(&b, op, 0, 1, z.p, z.len, masked);
            swco__hbuf_free(&z);
        } else {
            swco__ws_frame_build(&b, op, more, 0, pl, n, masked);
        }
    }
    swco__ws_zip_free(&tx);
    size_t n = b.len < cap ? b.len : cap;
    memcpy(out, b.p, n);
    swco__hbuf_free(&b);
    /* mutate a few bytes (but not cfg) now and then */
    if (n > 2 && fuzz_next(x) % 2) {
        int k = (int)(fuzz_next(x) % 4) + 1;
        for (int i = 0; i < k; i++)
            out[2 + fuzz_next(x) % (n - 2)] ^= (uint8_t)(1u << (fuzz_next(x) % 8));
    }
    return n;
}

int main(int argc, char **argv)
{
    if (fuzz_run_files(argc, argv))
        return 1;
    static uint8_t buf[1 << 16];
    uint64_t x = 0x5eed5eedull;
    for (int i = 0; i < 20000; i++) {
        size_t n = make_input(buf, sizeof buf, &x);
        LLVMFuzzerTestOneInput(buf, n);
    }
    /* pure noise too */
    for (int i = 0; i < 5000; i++) {
        size_t n = (size_t)(fuzz_next(&x) % 200);
        fuzz_fill(buf, n, &x);
        LLVMFuzzerTestOneInput(buf, n);
    }
    return 0;
}
#endif
