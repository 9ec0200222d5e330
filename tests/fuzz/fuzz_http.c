/* Fuzz target for the HTTP/1 glue (lib/http/h1.c over llhttp): request
 * building, limits, smuggling refusals, chunked decoding, pipelining,
 * body reads and response framing, without sockets (swco__http1_sim).
 *
 * With libFuzzer: tools/fuzz http SECONDS.  Without it (make check) main()
 * runs the corpus files given on the command line and a fixed number of
 * pseudo-random inputs made from them.
 *
 * The input's first byte chooses how the rest is cut into reads; the rest
 * is what a client sent on one connection.  It is fed twice: whole, and cut
 * into reads.  Every request's handler reads its whole body and answers
 * with what it saw (method, path, body length, field counts), streaming
 * for paths with "stream" in them.  Checked: no crash or leak (sanitizers),
 * every response starts with a status line, and the server says the same
 * thing however the bytes were cut (once "100 Continue" lines, sent only
 * when the client waits for the body, and Date fields are set aside, and
 * a final refusal's 400/413/414/431 counted as one: which fault of a
 * request that has several shows first depends on the cut).
 *
 * fuzz-sources: libswco   (read by tools/fuzz) */
#include "fuzz_main.h"
#include "http/http_int.h"

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

static void handler(swco_server_t *srv, swco_http_request_t *req, swco_http_response_t *resp,
                    void *arg)
{
    (void)srv;
    (void)arg;
    char buf[700];
    long long total = 0;
    long n;
    size_t step = 1;
    while ((n = swco_http_request_read(req, buf, step, 0)) > 0) {
        total += n;
        step = step * 3 % 691 + 1;
    }
    const char *m = swco_http_request_method(req), *u = swco_http_request_uri(req);
    const char *p = swco_http_request_path(req), *q = swco_http_request_query_string(req);
    if (!m || !u || !p || !q)
        FAIL("request without method, uri, path or query");
    size_t nh = swco_http_request_param_count(req, SWCO_HTTP_HEADER);
    for (size_t i = 0; i < nh; i++) {
        const char *name = swco_http_request_param_name(req, SWCO_HTTP_HEADER, i);
        const char *value = swco_http_request_param_value(req, SWCO_HTTP_HEADER, i);
        if (!name || !*name || !value)
            FAIL("header %zu without a name or value", i);
        if (strchr(value, '\r') || strchr(value, '\n'))
            FAIL("header value with CR or LF: %s", value);
        if (swco_http_request_param(req, SWCO_HTTP_HEADER, name) == NULL)
            FAIL("header %s not found by name", name);
    }
    size_t ng = swco_http_request_param_count(req, SWCO_HTTP_GET);
    for (size_t i = 0; i < ng; i++)
        if (!swco_http_request_param_name(req, SWCO_HTTP_GET, i))
            FAIL("query field without a name");
    size_t nc = swco_http_request_param_count(req, SWCO_HTTP_COOKIE);
    size_t rl;
    const char *raw = swco_http_request_raw_header(req, &rl);
    if (!raw || rl < 4 || memcmp(raw + rl - 4, "\r\n\r\n", 4) ||
        strncmp(raw, m, strlen(m)))
        FAIL("raw header does not frame the head");
    long long cl = swco_http_request_content_length(req);
    if (n == 0 && cl >= 0 && total != cl)
        FAIL("body of %lld bytes read as %lld", cl, total);
    char out[512];
    int len = snprintf(out, sizeof out, "%s %.200s %lld %zu %zu %zu %ld v%d", m, p, total, nh,
                       ng, nc, n, swco_http_request_version(req));
    if (strstr(p, "stream")) {
        swco_http_response_trailer(resp, "X-Total", "1");
        swco_http_response_write(resp, out, (size_t)len / 2);
        swco_http_response_write(resp, "", 0);
        swco_http_response_end(resp, out + len / 2, (size_t)len - (size_t)len / 2);
    } else {
        swco_http_response_header(resp, "X-Seen", "1");
        swco_http_response_end(resp, out, (size_t)len);
    }
}

/* What the server sent, without Date fields and 100 Continue lines. */
static char *normalise(const char *s, size_t n, size_t *out_len)
{
    char *o = malloc(n + 1);
    size_t j = 0;
    static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
    for (size_t i = 0; i < n;) {
        if (n - i >= sizeof cont - 1 && !memcmp(s + i, cont, sizeof cont - 1)) {
            i += sizeof cont - 1;
            continue;
        }
        if (n - i >= 6 && !memcmp(s + i, "Date: ", 6) && i > 0 && s[i - 1] == '\n') {
            const char *nl = memchr(s + i, '\n', n - i);
            i = nl ? (size_t)(nl - s) + 1 : n;
            continue;
        }
        o[j++] = s[i++];
    }
    o[j] = 0;
    *out_len = j;
    return o;
}

static swco__http_lopts_t opts(void)
{
    swco__http_lopts_t o;
    memset(&o, 0, sizeof o);
    o.enabled = 1;
    o.parse_post = o.parse_cookie = o.parse_files = 1;
    o.max_uri_length = 200;
    o.max_header_size = 1024;
    return o;
}

/* Feed s[0..n) cut as mode says; the normalised output and whether the
 * server closed. */
static char *run(const uint8_t *s, size_t n, unsigned mode, size_t *out_len, int *closed)
{
    swco__http_lopts_t o = opts();
    swco__http1_sim_t *sim = swco__http1_sim_new(&o, 4096, handler, NULL);
    if (!sim)
        FAIL("no sim");
    size_t i = 0;
    uint64_t x = 0x9e3779b97f4a7c15ull ^ mode;
    int c = 0;
    while (i < n && !c) {
        size_t k;
        if (mode == 0)
            k = n - i;
        else if (mode < 8)
            k = mode;
        else
            k = 1 + (size_t)(fuzz_next(&x) % (mode * 2));
        if (k > n - i)
            k = n - i;
        /* an exact-size copy: a read past the end is a sanitizer error */
        char *piece = malloc(k);
        memcpy(piece, s + i, k);
        c = swco__http1_sim_feed(sim, piece, k);
        free(piece);
        i += k;
    }
    size_t len;
    const char *out = swco__http1_sim_output(sim, &len);
    if (len && strncmp(out, "HTTP/1.1 ", 9))
        FAIL("output does not start with a status line");
    char *norm = normalise(out, len, out_len);
    *closed = c;
    if (c) {
        /* A request that is both too long and malformed may be refused
         * for either, depending on where a read ended (llhttp reports a
         * span's bad byte only when the span ends; the length limits
         * count as bytes come): the last refusal's 4xx is one class. */
        char *last = NULL;
        for (char *q = norm; (q = strstr(q, "HTTP/1.1 ")); q++)
            last = q;
        if (last && (!strncmp(last + 9, "400 ", 4) || !strncmp(last + 9, "413 ", 4) ||
                     !strncmp(last + 9, "414 ", 4) || !strncmp(last + 9, "431 ", 4))) {
            char *eol = strstr(last, "\r\n");
            if (eol) {
                static const char cls[] = "HTTP/1.1 4xx refused";
                size_t tail = *out_len - (size_t)(eol - norm);
                memmove(last + sizeof cls - 1, eol, tail + 1);
                memcpy(last, cls, sizeof cls - 1);
                *out_len = (size_t)(last - norm) + sizeof cls - 1 + tail;
            }
        }
    }
    swco__http1_sim_free(sim);
    return norm;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536)
        return 0;
    unsigned mode = data[0] % 40;
    size_t la, lb;
    int ca, cb;
    char *a = run(data + 1, size - 1, 0, &la, &ca);
    char *b = run(data + 1, size - 1, mode ? mode : 1, &lb, &cb);
    if (la != lb || memcmp(a, b, la) || ca != cb) {
        fprintf(stderr, "whole (%zu bytes, closed %d):\n%s\n---- cut by mode %u (%zu bytes, "
                        "closed %d):\n%s\n",
                la, ca, a, mode, lb, cb, b);
        FAIL("the answer depends on how the request was cut");
    }
    free(a);
    free(b);
    return 0;
}

#ifndef SWCO_FUZZ_LIBFUZZER
static const char *const seeds[] = {
    "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
    "POST /x?a=1&b=%41 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
    "POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
    "3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nT: 1\r\n\r\n",
    "GET /stream HTTP/1.1\r\nHost: a\r\nCookie: a=1; b=2\r\n\r\nGET /2 HTTP/1.0\r\n\r\n",
};

int main(int argc, char **argv)
{
    if (fuzz_run_files(argc, argv))
        return 1;
    uint64_t x = 0x243f6a8885a308d3ull;
    uint8_t buf[1024];
    for (int round = 0; round < 3000; round++) {
        const char *s = seeds[fuzz_next(&x) % (sizeof seeds / sizeof *seeds)];
        size_t n = strlen(s);
        buf[0] = (uint8_t)fuzz_next(&x);
        memcpy(buf + 1, s, n);
        n++;
        int edits = (int)(fuzz_next(&x) % 4);
        for (int e = 0; e < edits && n > 1; e++) {
            size_t at = 1 + (size_t)(fuzz_next(&x) % (n - 1));
            switch (fuzz_next(&x) % 3) {
            case 0: /* change a byte */
                buf[at] = (uint8_t)fuzz_next(&x);
                break;
            case 1: /* a CR, LF, space or colon somewhere */
                buf[at] = (uint8_t)"\r\n :"[fuzz_next(&x) % 4];
                break;
            default: /* cut it short */
                n = at;
                break;
            }
        }
        if (fuzz_next(&x) % 4 == 0 && n > 1 && n + (n - 1) < sizeof buf) {
            /* pipelined twice */
            memcpy(buf + n, buf + 1, n - 1);
            n += n - 1;
        }
        LLVMFuzzerTestOneInput(buf, n);
    }
    return 0;
}
#endif
