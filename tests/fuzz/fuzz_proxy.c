/* Fuzz target for the PROXY protocol header parser (lib/server/proxy.c).
 *
 * With libFuzzer: tools/fuzz proxy SECONDS.  Without it (make check) main()
 * runs the corpus files given on the command line and a fixed number of
 * pseudo-random inputs, most of them mutations of real headers.
 *
 * The input is what a connection's first bytes were.  The parser, given
 * them (in an allocation of exactly that size, so a read past the end is a
 * sanitizer error) and then every prefix of them, must be consistent: a
 * header of r bytes reads as r from r bytes on and as "more" before; a
 * refusal stays a refusal with more bytes; and what it fills in is a
 * well-formed address that, written back as a v1 line, parses again to the
 * same address.
 *
 * fuzz-sources: libswco   (read by tools/fuzz) */
#include "fuzz_main.h"
#include "server/server_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define FAIL(...)                                                                             \
    do {                                                                                      \
        fprintf(stderr, __VA_ARGS__);                                                         \
        fputc('\n', stderr);                                                                  \
        abort();                                                                              \
    } while (0)

static long parse_exact(const uint8_t *data, size_t n, swco__proxy_hdr_t *h)
{
    char *copy = calloc(1, n ? n : 1);
    if (!copy)
        abort();
    if (n)
        memcpy(copy, data, n);
    long r = swco__proxy_parse(copy, n, h);
    free(copy);
    return r;
}

static void check_addr(const swco__addr_t *a, const char *which)
{
    if (memchr(a->text, 0, sizeof a->text) == NULL)
        FAIL("%s: address text not terminated", which);
    if (a->family != a->ss.ss_family)
        FAIL("%s: family %d but sockaddr family %d", which, a->family, a->ss.ss_family);
    if (a->family == AF_INET || a->family == AF_INET6) {
        if (a->port < 0 || a->port > 65535)
            FAIL("%s: port %d", which, a->port);
        unsigned char bin[16];
        if (inet_pton(a->family, a->text, bin) != 1)
            FAIL("%s: text '%s' is not an address", which, a->text);
    } else if (a->family == AF_UNIX) {
        if (a->port != 0)
            FAIL("%s: unix address with port %d", which, a->port);
    } else {
        FAIL("%s: family %d", which, a->family);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    swco__proxy_hdr_t h;
    memset(&h, 0, sizeof h);
    long r = parse_exact(data, size, &h);
    if (r != 0 && r != -EPROTO && (r < 0 || (size_t)r > size))
        FAIL("verdict %ld for %zu bytes", r, size);
    if (r > 0 && data[0] == 'P' && r > 107)
        FAIL("v1 header of %ld bytes", r);
    if (r > 0 && data[0] != 'P' && r < 16)
        FAIL("v2 header of %ld bytes", r);

    /* Every prefix: "more" before a header's end, the header after it;
     * once refused, refused for good. */
    int refused = 0;
    size_t step = size > 4096 ? size / 512 : 1;
    for (size_t k = 0; k <= size; k += step) {
        long rk = swco__proxy_parse((const char *)data, k, NULL);
        if (r > 0) {
            long want = k < (size_t)r ? 0 : r;
            if (rk != want)
                FAIL("prefix %zu of a %ld-byte header gave %ld", k, r, rk);
        } else if (r == 0) {
            if (rk != 0)
                FAIL("prefix %zu gave %ld, the whole %zu bytes need more", k, rk, size);
        } else {
            if (rk != 0 && rk != -EPROTO)
                FAIL("prefix %zu of a refused input gave %ld", k, rk);
            if (refused && rk != -EPROTO)
                FAIL("refused, then %ld at %zu bytes", rk, k);
            refused |= rk == -EPROTO;
        }
    }

    if (r <= 0)
        return 0;
    if (h.local)
        return 0;
    check_addr(&h.src, "src");
    check_addr(&h.dst, "dst");
    if (h.src.family != h.dst.family)
        FAIL("src family %d, dst family %d", h.src.family, h.dst.family);
    if (h.src.family == AF_UNIX)
        return 0;

    /* Written back as v1, the addresses read the same. */
    char line[160];
    int n = snprintf(line, sizeof line, "PROXY %s %s %s %d %d\r\n",
                     h.src.family == AF_INET ? "TCP4" : "TCP6", h.src.text, h.dst.text,
                     h.src.port, h.dst.port);
    swco__proxy_hdr_t again;
    long r2 = swco__proxy_parse(line, (size_t)n, &again);
    if (n > 107) {
        if (r2 != -EPROTO)
            FAIL("%d-byte line '%s' gave %ld", n, line, r2);
        return 0;
    }
    if (r2 != n)
        FAIL("'%s' (from a %ld-byte header) gave %ld", line, r, r2);
    if (again.local || again.src.family != h.src.family || again.src.port != h.src.port ||
        again.dst.port != h.dst.port || strcmp(again.src.text, h.src.text) != 0 ||
        strcmp(again.dst.text, h.dst.text) != 0)
        FAIL("'%s' read back differently", line);
    return 0;
}

#ifndef SWCO_FUZZ_LIBFUZZER
/* Seeds the random rounds mutate. */
static const char *const v1_seeds[] = {
    "PROXY TCP4 192.168.0.1 10.0.0.1 56324 443\r\n",
    "PROXY TCP6 2001:db8::1 ::ffff:1.2.3.4 1 65535\r\n",
    "PROXY UNKNOWN\r\n",
    "PROXY UNKNOWN a b c\r\n",
};

static size_t v2_seed(uint8_t *buf, uint64_t *x)
{
    static const uint8_t sig[12] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
                                    0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};
    static const uint8_t fams[] = {0x00, 0x11, 0x12, 0x21, 0x22, 0x31, 0x32};
    static const size_t alen[] = {0, 12, 12, 36, 36, 216, 216};
    size_t f = fuzz_next(x) % sizeof fams;
    memcpy(buf, sig, 12);
    buf[12] = fuzz_next(x) % 4 ? 0x21 : 0x20;
    buf[13] = fams[f];
    size_t body = alen[f];
    fuzz_fill(buf + 16, body, x);
    /* some TLVs, well-formed */
    int ntlv = (int)(fuzz_next(x) % 3);
    for (int i = 0; i < ntlv; i++) {
        size_t v = fuzz_next(x) % 20;
        buf[16 + body] = (uint8_t)fuzz_next(x);
        buf[16 + body + 1] = 0;
        buf[16 + body + 2] = (uint8_t)v;
        fuzz_fill(buf + 16 + body + 3, v, x);
        body += 3 + v;
    }
    buf[14] = (uint8_t)(body >> 8);
    buf[15] = (uint8_t)body;
    return 16 + body;
}

int main(int argc, char **argv)
{
    if (fuzz_run_files(argc, argv))
        return 1;
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int round = 0; round < 20000; round++) {
        uint8_t buf[600];
        size_t n;
        switch (round % 4) {
        case 0: /* random bytes, starting like one version or the other */
            n = 1 + (size_t)(fuzz_next(&x) % 120);
            fuzz_fill(buf, n, &x);
            buf[0] = fuzz_next(&x) % 2 ? 'P' : 0x0d;
            break;
        case 1:
        case 2: { /* a real header, one or two bytes changed, data after it */
            if (round % 4 == 1) {
                const char *s = v1_seeds[fuzz_next(&x) % 4];
                n = strlen(s);
                memcpy(buf, s, n);
            } else {
                n = v2_seed(buf, &x);
            }
            int edits = (int)(fuzz_next(&x) % 3);
            for (int e = 0; e < edits; e++)
                buf[fuzz_next(&x) % n] = (uint8_t)fuzz_next(&x);
            size_t tail = (size_t)(fuzz_next(&x) % 8);
            fuzz_fill(buf + n, tail, &x);
            n += tail;
            break;
        }
        default: /* a real header cut short */
            n = v2_seed(buf, &x);
            n = (size_t)(fuzz_next(&x) % (n + 1));
            break;
        }
        LLVMFuzzerTestOneInput(buf, n);
    }
    return 0;
}
#endif
