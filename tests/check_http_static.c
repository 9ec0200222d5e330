/* HTTP compression and static files (lib/http/compress.c, static.c).
 *
 * Unit level: Accept-Encoding negotiation (q-values, q=0, "*", the br >
 * gzip > deflate preference, compressible types, compression_min_length,
 * http_compression off); the gzip, deflate (zlib format) and br encoders
 * round-trip through zlib's and libbrotli's own decoders at every level,
 * and a streamed body's pieces decode as soon as each put returns (sync
 * flush); MIME types by extension.
 *
 * The encoders and the static handler are internal: this suite links
 * libswco_core.la. */
#include "testutil.h"

#include <brotli/decode.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "http/http_int.h"

/* ---------------------------------------------------------------- helpers */

/* Options as options.c sets them by default. */
static swco__http_lopts_t default_opts(void)
{
    swco__http_lopts_t o;
    memset(&o, 0, sizeof o);
    o.enabled = 1;
    o.compression = 1;
    o.compression_level = 1;
    o.compression_min_length = 20;
    return o;
}

/* Text that compresses like real pages do: words, not one byte repeated. */
static char *make_text(size_t n)
{
    static const char *const words[] = {"<div class=\"item\">", "hello", "world", "swco",
                                        "coroutine", "</div>\n", "lorem", "ipsum",
                                        "reactor", "{\"id\": ", "}, ", "server"};
    char *p = malloc(n + 1);
    ck_assert_ptr_nonnull(p);
    unsigned r = 12345;
    size_t i = 0;
    while (i < n) {
        r = r * 1103515245u + 12345u;
        const char *w = words[(r >> 16) % (sizeof words / sizeof words[0])];
        for (size_t k = 0; w[k] && i < n; k++)
            p[i++] = w[k];
        if (i < n)
            p[i++] = (r >> 8) & 1 ? ' ' : (char)('a' + (r >> 10) % 26);
    }
    p[n] = 0;
    return p;
}

/* A streaming decoder for whichever encoding. */
typedef struct dec {
    int enc;
    z_stream z;
    BrotliDecoderState *br;
    int ended;
    swco__hbuf_t out;
} dec_t;

static void dec_init(dec_t *d, int enc)
{
    memset(d, 0, sizeof *d);
    d->enc = enc;
    if (enc == SWCO__ENC_BR) {
        d->br = BrotliDecoderCreateInstance(NULL, NULL, NULL);
        ck_assert_ptr_nonnull(d->br);
    } else {
        /* gzip only as gzip, deflate only as the zlib format */
        ck_assert_int_eq(inflateInit2(&d->z, enc == SWCO__ENC_GZIP ? 16 + 15 : 15), Z_OK);
    }
}

/* Decode in[0..n) appending to d->out; fails the test on corrupt input. */
static void dec_feed(dec_t *d, const void *in, size_t n)
{
    unsigned char tmp[16384];
    if (d->enc == SWCO__ENC_BR) {
        const uint8_t *next_in = in;
        size_t avail_in = n;
        for (;;) {
            uint8_t *next_out = tmp;
            size_t avail_out = sizeof tmp;
            BrotliDecoderResult r = BrotliDecoderDecompressStream(
                d->br, &avail_in, &next_in, &avail_out, &next_out, NULL);
            ck_assert_int_ne(r, BROTLI_DECODER_RESULT_ERROR);
            swco__hbuf_add(&d->out, tmp, sizeof tmp - avail_out);
            if (r == BROTLI_DECODER_RESULT_SUCCESS) {
                d->ended = 1;
                ck_assert_uint_eq(avail_in, 0);
                return;
            }
            /* it may hold decoded bytes back even when it wants input */
            if (r == BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT && !BrotliDecoderHasMoreOutput(d->br))
                return;
        }
    }
    d->z.next_in = (unsigned char *)in;
    d->z.avail_in = (uInt)n;
    for (;;) {
        d->z.next_out = tmp;
        d->z.avail_out = sizeof tmp;
        int rc = inflate(&d->z, Z_SYNC_FLUSH);
        ck_assert_msg(rc == Z_OK || rc == Z_STREAM_END || rc == Z_BUF_ERROR, "inflate: %d %s",
                      rc, d->z.msg ? d->z.msg : "");
        swco__hbuf_add(&d->out, tmp, sizeof tmp - d->z.avail_out);
        if (rc == Z_STREAM_END) {
            d->ended = 1;
            ck_assert_uint_eq(d->z.avail_in, 0);
            return;
        }
        if (d->z.avail_out != 0)
            return;
    }
}

static void dec_free(dec_t *d)
{
    if (d->enc == SWCO__ENC_BR)
        BrotliDecoderDestroyInstance(d->br);
    else
        inflateEnd(&d->z);
    swco__hbuf_free(&d->out);
}

/* Compress data whole (one put, last = 1) and decode it back. */
static size_t round_trip(int enc, int level, const char *data, size_t n)
{
    swco__http_enc_t *e = swco__http_enc_new(enc, level);
    ck_assert_ptr_nonnull(e);
    swco__hbuf_t out = {0};
    ck_assert_int_eq(swco__http_enc_put(e, data, n, 1, &out), 0);
    swco__http_enc_free(e);
    dec_t d;
    dec_init(&d, enc);
    dec_feed(&d, out.p, out.len);
    ck_assert_msg(d.ended, "%s level %d: stream not ended", swco__http_encoding_name(enc), level);
    ck_assert_uint_eq(d.out.len, n);
    ck_assert(n == 0 || memcmp(d.out.p, data, n) == 0);
    size_t clen = out.len;
    dec_free(&d);
    swco__hbuf_free(&out);
    return clen;
}

static const int all_encs[] = {SWCO__ENC_GZIP, SWCO__ENC_DEFLATE, SWCO__ENC_BR};

/* ---------------------------------------------------- Accept-Encoding */

static int pick(const char *ae, const char *ct, long long len)
{
    swco__http_lopts_t o = default_opts();
    return swco__http_pick_encoding(ae, ct, len, &o);
}

START_TEST(test_pick_accept_encoding)
{
    static const struct {
        const char *ae;
        int want;
    } cases[] = {
        {"gzip", SWCO__ENC_GZIP},
        {"deflate", SWCO__ENC_DEFLATE},
        {"br", SWCO__ENC_BR},
        {"gzip, deflate, br", SWCO__ENC_BR},         /* the preference, not the order */
        {"deflate, gzip", SWCO__ENC_GZIP},
        {"GZIP", SWCO__ENC_GZIP},                     /* codings are case-insensitive */
        {"x-gzip", SWCO__ENC_GZIP},
        {"gzip;q=0.5, br;q=0.4", SWCO__ENC_GZIP},     /* highest q wins */
        {"gzip;q=0.5, deflate;q=0.9, br;q=0.4", SWCO__ENC_DEFLATE},
        {"gzip ; q=0.5 , br ; q=0.5", SWCO__ENC_BR},  /* a tie: preference; OWS allowed */
        {"br;q=0, gzip", SWCO__ENC_GZIP},             /* q=0: not acceptable */
        {"br;q=0.000, gzip;q=0.001", SWCO__ENC_GZIP},
        {"gzip;q=0", SWCO__ENC_NONE},
        {"*", SWCO__ENC_BR},
        {"*;q=0", SWCO__ENC_NONE},
        {"*;q=0, gzip", SWCO__ENC_GZIP},
        {"br;q=0, *", SWCO__ENC_GZIP},                /* named beats the wildcard */
        {"br;q=0, gzip;q=0, *;q=0.3", SWCO__ENC_DEFLATE},
        {"gzip;q=0.2, *;q=0.5", SWCO__ENC_BR},
        {"identity", SWCO__ENC_NONE},
        {"compress, zstd", SWCO__ENC_NONE},
        {"", SWCO__ENC_NONE},
        {",,, ,", SWCO__ENC_NONE},
        {"gzip;q=2", SWCO__ENC_NONE},                 /* malformed q: element ignored */
        {"gzip;q=0.5x, deflate", SWCO__ENC_DEFLATE},
        {"gzip;q=1.0", SWCO__ENC_GZIP},
        {"gzip;q=1.001", SWCO__ENC_NONE},
        {"gzip;q=0.1234", SWCO__ENC_NONE},            /* at most three decimals */
        {"gzip;level=9;q=0.7, br;q=0.6", SWCO__ENC_GZIP}, /* other parameters skipped */
        {"gzip;q", SWCO__ENC_NONE},
        {"gzip, gzip;q=0", SWCO__ENC_GZIP},           /* named twice: the best q */
        {"brotli, gzipx, gzip", SWCO__ENC_GZIP},      /* whole tokens only */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int got = pick(cases[i].ae, "text/html", 1000);
        ck_assert_msg(got == cases[i].want, "Accept-Encoding \"%s\": got %s, want %s",
                      cases[i].ae, swco__http_encoding_name(got),
                      swco__http_encoding_name(cases[i].want));
    }
    ck_assert_int_eq(pick(NULL, "text/html", 1000), SWCO__ENC_NONE);
}
END_TEST

START_TEST(test_pick_types_and_lengths)
{
    static const struct {
        const char *ct;
        int yes;
    } types[] = {
        {"text/html", 1},
        {"text/plain; charset=utf-8", 1},
        {"TEXT/CSS", 1},
        {"text/javascript", 1},
        {"application/json", 1},
        {"application/json;charset=utf-8", 1},
        {"application/javascript", 1},
        {"application/xml", 1},
        {"application/problem+json", 1},
        {"application/atom+xml", 1},
        {"application/vnd.api+json", 1},
        {"image/svg+xml", 1},
        {" text/html", 1},
        {"image/png", 0},
        {"image/jpeg", 0},
        {"video/mp4", 0},
        {"application/octet-stream", 0},
        {"application/zip", 0},
        {"application/gzip", 0},
        {"font/woff2", 0},
        {"text/", 0},
        {"", 0},
        {"application/jsonx", 0},
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        int got = pick("gzip", types[i].ct, 1000);
        ck_assert_msg(got == (types[i].yes ? SWCO__ENC_GZIP : SWCO__ENC_NONE),
                      "Content-Type \"%s\": got %s", types[i].ct, swco__http_encoding_name(got));
    }
    ck_assert_int_eq(pick("gzip", NULL, 1000), SWCO__ENC_NONE);

    /* compression_min_length: shorter known lengths are sent as they are;
     * streamed bodies (-1) are compressed */
    swco__http_lopts_t o = default_opts();
    ck_assert_int_eq(swco__http_pick_encoding("gzip", "text/html", 19, &o), SWCO__ENC_NONE);
    ck_assert_int_eq(swco__http_pick_encoding("gzip", "text/html", 20, &o), SWCO__ENC_GZIP);
    ck_assert_int_eq(swco__http_pick_encoding("gzip", "text/html", -1, &o), SWCO__ENC_GZIP);
    o.compression_min_length = 4096;
    ck_assert_int_eq(swco__http_pick_encoding("br", "text/html", 4095, &o), SWCO__ENC_NONE);
    ck_assert_int_eq(swco__http_pick_encoding("br", "text/html", 4096, &o), SWCO__ENC_BR);
    o.compression_min_length = 0;
    ck_assert_int_eq(swco__http_pick_encoding("br", "text/html", 0, &o), SWCO__ENC_BR);
    /* http_compression off */
    o = default_opts();
    o.compression = 0;
    ck_assert_int_eq(swco__http_pick_encoding("gzip, br", "text/html", 1000, &o),
                     SWCO__ENC_NONE);
    /* no options: the defaults */
    ck_assert_int_eq(swco__http_pick_encoding("gzip", "text/html", 1000, NULL), SWCO__ENC_GZIP);
    ck_assert_int_eq(swco__http_pick_encoding("gzip", "text/html", 10, NULL), SWCO__ENC_NONE);

    ck_assert_str_eq(swco__http_encoding_name(SWCO__ENC_GZIP), "gzip");
    ck_assert_str_eq(swco__http_encoding_name(SWCO__ENC_DEFLATE), "deflate");
    ck_assert_str_eq(swco__http_encoding_name(SWCO__ENC_BR), "br");
    ck_assert_ptr_null(swco__http_encoding_name(42));
}
END_TEST

/* ----------------------------------------------------------- encoders */

START_TEST(test_round_trip_levels)
{
    size_t n = 200000;
    char *text = make_text(n);
    for (size_t i = 0; i < 3; i++) {
        size_t prev = 0;
        for (int level = 1; level <= 9; level++) {
            size_t clen = round_trip(all_encs[i], level, text, n);
            /* it compresses, and a higher level never does much worse */
            ck_assert_msg(clen < n / 3, "%s level %d: %zu of %zu",
                          swco__http_encoding_name(all_encs[i]), level, clen, n);
            if (prev)
                ck_assert_msg(clen <= prev + prev / 10, "%s level %d: %zu after %zu",
                              swco__http_encoding_name(all_encs[i]), level, clen, prev);
            if (level == 1 || level == 9)
                prev = clen;
        }
        /* edge inputs: empty, one byte, incompressible */
        round_trip(all_encs[i], 1, "", 0);
        round_trip(all_encs[i], 5, "x", 1);
        char rnd[5000];
        unsigned r = 7;
        for (size_t k = 0; k < sizeof rnd; k++)
            rnd[k] = (char)((r = r * 1103515245u + 12345u) >> 16);
        round_trip(all_encs[i], 9, rnd, sizeof rnd);
        /* out-of-range levels are clamped, not refused */
        round_trip(all_encs[i], 0, text, 1000);
        round_trip(all_encs[i], 42, text, 1000);
    }
    free(text);
}
END_TEST

/* The gzip output is a gzip member and deflate's the zlib format (what
 * browsers take for "deflate"), not raw deflate. */
START_TEST(test_formats)
{
    const char *s = "hello hello hello hello hello";
    swco__hbuf_t out = {0};
    swco__http_enc_t *e = swco__http_enc_new(SWCO__ENC_GZIP, 1);
    ck_assert_int_eq(swco__http_enc_put(e, s, strlen(s), 1, &out), 0);
    ck_assert_int_eq((unsigned char)out.p[0], 0x1f);
    ck_assert_int_eq((unsigned char)out.p[1], 0x8b);
    swco__http_enc_free(e);
    out.len = 0;
    e = swco__http_enc_new(SWCO__ENC_DEFLATE, 6);
    ck_assert_int_eq(swco__http_enc_put(e, s, strlen(s), 1, &out), 0);
    ck_assert_int_eq((unsigned char)out.p[0] & 0x0f, 8); /* CM = deflate */
    ck_assert_int_eq((((unsigned char)out.p[0] << 8) | (unsigned char)out.p[1]) % 31, 0);
    /* uncompress() takes only the zlib format */
    char back[64];
    uLongf blen = sizeof back;
    ck_assert_int_eq(uncompress((Bytef *)back, &blen, (Bytef *)out.p, out.len), Z_OK);
    ck_assert_uint_eq(blen, strlen(s));
    swco__http_enc_free(e);
    swco__hbuf_free(&out);
}
END_TEST

/* A streamed body: every put with last = 0 makes everything given so far
 * decodable at once, so a client sees each chunk when it arrives. */
START_TEST(test_streaming_flush)
{
    char *text = make_text(100000);
    for (size_t i = 0; i < 3; i++) {
        int enc = all_encs[i];
        swco__http_enc_t *e = swco__http_enc_new(enc, 6);
        ck_assert_ptr_nonnull(e);
        dec_t d;
        dec_init(&d, enc);
        swco__hbuf_t out = {0};
        size_t fed = 0;
        static const size_t pieces[] = {1, 13, 0, 700, 4096, 30000, 1, 65189};
        for (size_t k = 0; k < sizeof pieces / sizeof pieces[0]; k++) {
            out.len = 0;
            ck_assert_int_eq(swco__http_enc_put(e, text + fed, pieces[k], 0, &out), 0);
            fed += pieces[k];
            if (pieces[k] == 0) {
                ck_assert_uint_eq(out.len, 0); /* nothing new: no empty block */
                continue;
            }
            ck_assert_uint_gt(out.len, 0);
            dec_feed(&d, out.p, out.len);
            ck_assert_msg(!d.ended, "%s: ended early", swco__http_encoding_name(enc));
            ck_assert_msg(d.out.len == fed, "%s: %zu of %zu bytes decodable after put %zu",
                          swco__http_encoding_name(enc), d.out.len, fed, k);
            ck_assert(memcmp(d.out.p, text, fed) == 0);
        }
        ck_assert_uint_eq(fed, 100000);
        out.len = 0;
        ck_assert_int_eq(swco__http_enc_put(e, NULL, 0, 1, &out), 0);
        dec_feed(&d, out.p, out.len);
        ck_assert(d.ended);
        ck_assert_uint_eq(d.out.len, fed);
        /* after the end: nothing more */
        out.len = 0;
        ck_assert_int_eq(swco__http_enc_put(e, "x", 1, 0, &out), -EALREADY);
        ck_assert_int_eq(swco__http_enc_put(e, "x", 1, 1, &out), -EALREADY);
        ck_assert_int_eq(swco__http_enc_put(e, NULL, 0, 1, &out), 0);
        ck_assert_uint_eq(out.len, 0);
        swco__http_enc_free(e);
        dec_free(&d);
        swco__hbuf_free(&out);
    }
    free(text);
}
END_TEST

/* A big body in many puts with the end in the last one. */
START_TEST(test_many_puts)
{
    size_t n = 1 << 20;
    char *text = make_text(n);
    for (size_t i = 0; i < 3; i++) {
        swco__http_enc_t *e = swco__http_enc_new(all_encs[i], 1);
        swco__hbuf_t out = {0};
        for (size_t off = 0; off < n; off += 65536)
            ck_assert_int_eq(swco__http_enc_put(e, text + off, 65536, off + 65536 >= n, &out),
                             0);
        dec_t d;
        dec_init(&d, all_encs[i]);
        dec_feed(&d, out.p, out.len);
        ck_assert(d.ended);
        ck_assert_uint_eq(d.out.len, n);
        ck_assert(memcmp(d.out.p, text, n) == 0);
        dec_free(&d);
        swco__hbuf_free(&out);
        swco__http_enc_free(e);
    }
    free(text);
}
END_TEST

START_TEST(test_bad_arguments)
{
    ck_assert_ptr_null(swco__http_enc_new(SWCO__ENC_NONE, 1));
    ck_assert_ptr_null(swco__http_enc_new(99, 1));
    swco__hbuf_t out = {0};
    ck_assert_int_eq(swco__http_enc_put(NULL, "x", 1, 1, &out), -EINVAL);
    swco__http_enc_t *e = swco__http_enc_new(SWCO__ENC_GZIP, 1);
    ck_assert_int_eq(swco__http_enc_put(e, NULL, 1, 1, &out), -EINVAL);
    ck_assert_int_eq(swco__http_enc_put(e, "x", 1, 1, NULL), -EINVAL);
    swco__http_enc_free(e);
    swco__http_enc_free(NULL);
    /* freed without an end: no leak (ASan / valgrind say) */
    e = swco__http_enc_new(SWCO__ENC_BR, 3);
    ck_assert_int_eq(swco__http_enc_put(e, "abc", 3, 0, &out), 0);
    swco__http_enc_free(e);
    swco__hbuf_free(&out);
}
END_TEST

/* This thread's CPU time: throughput on a shared machine. */
static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Throughput of the encoders on 1 MiB of text (CPU time), whole (one
 * put) and in flushed 4 KiB writes, at the default level 1 and a few
 * others.  Printed; asserted only to work.  SWCO_TEST_BENCH=1: 20 rounds;
 * SWCO_TEST_BENCH_FILE: a file's first MiB instead of generated text. */
START_TEST(test_throughput)
{
    size_t n = 1 << 20;
    char *text = make_text(n);
    /* SWCO_TEST_BENCH_FILE: measure on (the first MiB of) a real file */
    const char *bf = getenv("SWCO_TEST_BENCH_FILE");
    FILE *f = bf ? fopen(bf, "rb") : NULL;
    if (f) {
        n = fread(text, 1, n, f);
        fclose(f);
    }
    static const struct {
        int enc, level;
    } runs[] = {{SWCO__ENC_GZIP, 1}, {SWCO__ENC_DEFLATE, 1}, {SWCO__ENC_BR, 1},
                {SWCO__ENC_BR, 4},   {SWCO__ENC_GZIP, 6},    {SWCO__ENC_BR, 6}};
    int rounds = getenv("SWCO_TEST_BENCH") ? 20 : 1;
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        swco__hbuf_t out = {0};
        double t0 = cpu_s();
        for (int r = 0; r < rounds; r++) {
            swco__http_enc_t *e = swco__http_enc_new(runs[i].enc, runs[i].level);
            out.len = 0;
            ck_assert_int_eq(swco__http_enc_put(e, text, n, 1, &out), 0);
            swco__http_enc_free(e);
        }
        double dt = (cpu_s() - t0) / rounds;
        /* streamed: 4 KiB writes, each flushed */
        swco__hbuf_t sout = {0};
        double t1 = cpu_s();
        for (int r = 0; r < rounds; r++) {
            swco__http_enc_t *e = swco__http_enc_new(runs[i].enc, runs[i].level);
            sout.len = 0;
            for (size_t off = 0; off < n; off += 4096)
                ck_assert_int_eq(swco__http_enc_put(e, text + off, n - off < 4096 ? n - off : 4096,
                                                    0, &sout),
                                 0);
            ck_assert_int_eq(swco__http_enc_put(e, NULL, 0, 1, &sout), 0);
            swco__http_enc_free(e);
        }
        double dt1 = (cpu_s() - t1) / rounds;
        fprintf(stderr,
                "compress %-7s level %d: %zu -> %zu bytes (%.1f%%), %.1f MB/s; "
                "4 KiB flushed writes: %zu bytes, %.1f MB/s (CPU time)\n",
                swco__http_encoding_name(runs[i].enc), runs[i].level, n, out.len,
                100.0 * (double)out.len / (double)n, (double)n / 1e6 / dt, sout.len,
                (double)n / 1e6 / dt1);
        swco__hbuf_free(&out);
        swco__hbuf_free(&sout);
    }
    free(text);
}
END_TEST

/* ------------------------------------------------------------ MIME types */

START_TEST(test_mime_types)
{
    static const struct {
        const char *path, *type;
    } cases[] = {
        {"/index.html", "text/html"},
        {"a.htm", "text/html"},
        {"/x/style.css", "text/css"},
        {"app.js", "text/javascript"},
        {"mod.mjs", "text/javascript"},
        {"data.json", "application/json"},
        {"logo.svg", "image/svg+xml"},
        {"p.png", "image/png"},
        {"p.jpg", "image/jpeg"},
        {"p.JPEG", "image/jpeg"},
        {"p.gif", "image/gif"},
        {"p.webp", "image/webp"},
        {"p.avif", "image/avif"},
        {"favicon.ico", "image/x-icon"},
        {"readme.txt", "text/plain"},
        {"feed.xml", "application/xml"},
        {"doc.pdf", "application/pdf"},
        {"m.wasm", "application/wasm"},
        {"f.woff2", "font/woff2"},
        {"f.woff", "font/woff"},
        {"v.mp4", "video/mp4"},
        {"v.webm", "video/webm"},
        {"a.mp3", "audio/mpeg"},
        {"a.zip", "application/zip"},
        {"x.tar.gz", "application/gzip"},
        {"Makefile", "application/octet-stream"},
        {"/dir.d/noext", "application/octet-stream"},
        {".html", "application/octet-stream"}, /* a dot file, no extension */
        {"a.unknownext", "application/octet-stream"},
        {"a.", "application/octet-stream"},
        {"", "application/octet-stream"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        ck_assert_msg(strcmp(swco__http_mime_type(cases[i].path), cases[i].type) == 0,
                      "%s: %s, want %s", cases[i].path, swco__http_mime_type(cases[i].path),
                      cases[i].type);
    ck_assert_str_eq(swco__http_mime_type(NULL), "application/octet-stream");
}
END_TEST

/* ------------------------------------------------------------ end to end
 *
 * A server in a child process on loopback (listening before the fork, so
 * no wait is needed), curl as the client.  Three listeners:
 *   0: static files from the whole tree (a miss goes to the handler),
 *      http_compression_level 1, compression_min_length 20 (defaults);
 *   1: static only under /static and /assets/ (a miss is a 404),
 *      http_index_files "home.html", level 9, compression_min_length 1000;
 *   2: no static files, http_compression off.
 * The handler answers /gen/text?n=N&type=T with N bytes of text (end),
 * /gen/stream?n=N with N writes of text, and anything else with
 * "handler METHOD PATH". */

typedef struct e2e {
    pid_t pid;
    int port[3];
    char dir[64];   /* holds root/ and files outside it */
    char root[80];
    char *big;      /* root/big.txt's content */
    size_t big_len;
} e2e_t;

static e2e_t E;

static int have_peer(const char *cmd, const char *what)
{
    char c[256];
    snprintf(c, sizeof c, "%s >/dev/null 2>&1", cmd);
    if (system(c) == 0)
        return 1;
    if (getenv("CI") && strcmp(getenv("CI"), "true") == 0)
        ck_abort_msg("%s missing (CI)", what);
    fprintf(stderr, "SKIP: %s missing\n", what);
    return 0;
}

static void write_file(const char *rel, const void *data, size_t n)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", E.root, rel);
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "%s", path);
    ck_assert_uint_eq(fwrite(data, 1, n, f), n);
    fclose(f);
}

static void write_str(const char *rel, const char *s) { write_file(rel, s, strlen(s)); }

#define GATE_ONE "part one of a streamed response, "
#define GATE_TWO "and part two, sent once the client saw part one"
static swco_channel_t *gate; /* the server's */

/* The handler's text for n bytes: the same generator as the unit tests. */
static void gen_handler(swco_server_t *srv, swco_http_request_t *req, swco_http_response_t *resp,
                        void *arg)
{
    (void)srv;
    (void)arg;
    const char *path = swco_http_request_path(req);
    const char *n_s = swco_http_request_param(req, SWCO_HTTP_GET, "n");
    const char *type = swco_http_request_param(req, SWCO_HTTP_GET, "type");
    if (strcmp(path, "/gen/text") == 0 && n_s) {
        size_t n = (size_t)atol(n_s);
        char *t = make_text(n);
        swco_http_response_header(resp, "Content-Type", type ? type : "text/html");
        swco_http_response_end(resp, t, n);
        free(t);
    } else if (strcmp(path, "/gen/stream") == 0 && n_s) {
        int n = atoi(n_s);
        char *t = make_text(4000 * (size_t)n);
        swco_http_response_header(resp, "Content-Type", type ? type : "text/plain");
        for (int i = 0; i < n; i++)
            swco_http_response_write(resp, t + 4000 * (size_t)i, 4000);
        swco_http_response_end(resp, NULL, 0);
        free(t);
    } else if (strcmp(path, "/gen/gate") == 0) {
        /* part one, then wait for /gen/open, then part two */
        if (!gate)
            gate = swco_channel_new(1);
        swco_http_response_header(resp, "Content-Type", "text/plain");
        swco_http_response_write(resp, GATE_ONE, strlen(GATE_ONE));
        void *v;
        swco_channel_pop(gate, &v, 60 * slow());
        swco_http_response_write(resp, GATE_TWO, strlen(GATE_TWO));
        swco_http_response_end(resp, NULL, 0);
    } else if (strcmp(path, "/gen/open") == 0) {
        if (!gate)
            gate = swco_channel_new(1);
        swco_channel_push(gate, (void *)1, 1);
        swco_http_response_end(resp, "opened", 6);
    } else {
        char b[512];
        int k = snprintf(b, sizeof b, "handler %s %s", swco_http_request_method(req), path);
        swco_http_response_header(resp, "Content-Type", "text/plain");
        swco_http_response_end(resp, b, (size_t)k);
    }
}

static void e2e_files(void)
{
    char p[256];
    snprintf(E.dir, sizeof E.dir, "/tmp/swco-static-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(E.dir));
    snprintf(E.root, sizeof E.root, "%s/root", E.dir);
    ck_assert_int_eq(mkdir(E.root, 0755), 0);
    snprintf(p, sizeof p, "%s/secret.txt", E.dir);
    FILE *f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    fputs("TOP SECRET outside the root\n", f);
    fclose(f);

    write_str("a.txt", "0123456789abcdefghijklmnopqrstuvwxyz");
    write_str("index.html", "<h1>home</h1>\n");
    write_str("style.css", "body { color: red }\n");
    write_str("app.js", "console.log(1)\n");
    write_str("mod.mjs", "export {}\n");
    write_str("data.json", "{\"a\": 1}\n");
    write_str("logo.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\"/>\n");
    write_file("pic.png", "\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16);
    write_file("mod.wasm", "\0asm\1\0\0\0", 8);
    write_str("font.woff2", "wOF2");
    write_str("clip.mp4", "....ftypisom");
    write_str("noext", "no extension");
    write_str("has space.txt", "spaced out");
    write_file("empty.txt", "", 0);
    E.big_len = 300000;
    E.big = make_text(E.big_len);
    write_file("big.txt", E.big, E.big_len);
    snprintf(p, sizeof p, "%s/sub", E.root);
    ck_assert_int_eq(mkdir(p, 0755), 0);
    write_str("sub/index.htm", "sub index\n");
    write_str("sub/home.html", "sub home\n");
    snprintf(p, sizeof p, "%s/nodex", E.root);
    ck_assert_int_eq(mkdir(p, 0755), 0);
    snprintf(p, sizeof p, "%s/static", E.root);
    ck_assert_int_eq(mkdir(p, 0755), 0);
    write_str("static/s.txt", "static s\n");
    snprintf(p, sizeof p, "%s/static/d", E.root);
    ck_assert_int_eq(mkdir(p, 0755), 0);
    write_str("static/d/home.html", "static d home\n");
    write_str("static/d/index.html", "not the index here\n");
    snprintf(p, sizeof p, "%s/assets", E.root);
    ck_assert_int_eq(mkdir(p, 0755), 0);
    write_str("assets/x.js", "var x;\n");
    write_str("staticky.txt", "not under /static\n");

    /* links: inside (served), out of the root (refused) */
    snprintf(p, sizeof p, "%s/in.txt", E.root);
    ck_assert_int_eq(symlink("a.txt", p), 0);
    snprintf(p, sizeof p, "%s/secret-link.txt", E.root);
    ck_assert_int_eq(symlink("../secret.txt", p), 0);
    snprintf(p, sizeof p, "%s/abs-link.txt", E.root);
    char target[128];
    snprintf(target, sizeof target, "%s/secret.txt", E.dir);
    ck_assert_int_eq(symlink(target, p), 0);
    snprintf(p, sizeof p, "%s/up", E.root);
    ck_assert_int_eq(symlink("..", p), 0);
    snprintf(p, sizeof p, "%s/etc", E.root);
    ck_assert_int_eq(symlink("/etc", p), 0);
    snprintf(p, sizeof p, "%s/fifo", E.root);
    ck_assert_int_eq(mkfifo(p, 0644), 0);

    /* a known modification time */
    struct timeval tv[2] = {{1700000000, 0}, {1700000000, 0}};
    snprintf(p, sizeof p, "%s/a.txt", E.root);
    ck_assert_int_eq(utimes(p, tv), 0);
}

static void e2e_start(int mode)
{
    e2e_files();
    swco_server_t *srv = swco_http_server_new("127.0.0.1", 0, mode, SWCO_SOCK_TCP);
    ck_assert_ptr_nonnull(srv);
    ck_assert_int_eq(swco_server_set(srv, "worker_num", "1"), 0);
    ck_assert_int_eq(swco_server_add_listener(srv, "127.0.0.1", 0, SWCO_SOCK_TCP), 1);
    ck_assert_int_eq(swco_server_add_listener(srv, "127.0.0.1", 0, SWCO_SOCK_TCP), 2);
    for (int l = 0; l < 3; l++) {
        ck_assert_int_eq(swco_server_listener_set(srv, l, "open_http_protocol", "1"), 0);
        ck_assert_int_eq(swco_server_listener_set(srv, l, "document_root", E.root), 0);
        ck_assert_int_eq(
            swco_server_listener_set(srv, l, "enable_static_handler", l == 2 ? "0" : "1"), 0);
    }
    ck_assert_int_eq(swco_server_listener_set(srv, 1, "static_handler_locations",
                                              "/static, /assets/"),
                     0);
    ck_assert_int_eq(swco_server_listener_set(srv, 1, "http_index_files", "home.html"), 0);
    ck_assert_int_eq(swco_server_listener_set(srv, 1, "http_compression_level", "9"), 0);
    ck_assert_int_eq(swco_server_listener_set(srv, 1, "compression_min_length", "1000"), 0);
    ck_assert_int_eq(swco_server_listener_set(srv, 2, "http_compression", "0"), 0);
    ck_assert_int_eq(swco_http_on_request(srv, gen_handler, NULL, NULL), 0);
    for (int l = 0; l < 3; l++) {
        E.port[l] = swco_server_listener_port(srv, l);
        ck_assert_int_gt(E.port[l], 0);
    }
    E.pid = fork();
    ck_assert_int_ge(E.pid, 0);
    if (E.pid == 0) {
        int rc = swco_server_start(srv);
        swco_server_free(srv);
        _exit(rc == 0 ? 0 : 1);
    }
    swco_server_free(srv); /* the parent's copy of the sockets */
}

static void e2e_stop(void)
{
    ck_assert_int_eq(kill(E.pid, SIGTERM), 0);
    int status;
    ck_assert_int_eq(waitpid(E.pid, &status, 0), E.pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "server status %d", status);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", E.dir);
    ck_assert_int_eq(system(cmd), 0);
    free(E.big);
}

/* One curl run: the last response's status, headers and body. */
typedef struct res {
    int status;
    char hdr[8192];
    char *body;
    size_t len;
} res_t;

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "%s", path);
    swco__hbuf_t b = {0};
    char tmp[65536];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
        ck_assert_int_eq(swco__hbuf_add(&b, tmp, n), 0);
    fclose(f);
    if (!b.p)
        ck_assert_int_eq(swco__hbuf_add(&b, "", 0), 0);
    *len = b.len;
    return b.p;
}

/* curl [args] http://127.0.0.1:PORT<target> */
__attribute__((format(printf, 3, 4))) static void curl(res_t *r, int listener, const char *fmt,
                                                       ...)
{
    char args[1024], cmd[2048], hp[128], bp[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(hp, sizeof hp, "%s/hdr", E.dir);
    snprintf(bp, sizeof bp, "%s/body", E.dir);
    unlink(bp);
    snprintf(cmd, sizeof cmd, "curl -sS --max-time %d -D '%s' -o '%s' %s", (int)(30 * slow()),
             hp, bp, args);
    /* the URL: "PATH" in args is replaced by the listener's base */
    char *u = strstr(cmd, "URL");
    ck_assert_ptr_nonnull(u);
    char tail[1024];
    snprintf(tail, sizeof tail, "%s", u + 3);
    snprintf(u, sizeof cmd - (size_t)(u - cmd), "http://127.0.0.1:%d%s", E.port[listener], tail);
    int rc = system(cmd);
    ck_assert_msg(rc == 0, "%s: exit %d", cmd, rc);
    size_t hl;
    char *h = slurp(hp, &hl);
    /* the last response's head (a 100 Continue may come first) */
    char *last = h, *q = h;
    while ((q = strstr(q, "HTTP/")) != NULL) {
        if (q == h || q[-1] == '\n')
            last = q;
        q++;
    }
    snprintf(r->hdr, sizeof r->hdr, "%s", last);
    free(h);
    ck_assert_msg(sscanf(r->hdr, "HTTP/%*s %d", &r->status) == 1, "%s: no status in %s", cmd,
                  r->hdr);
    if (access(bp, F_OK) == 0) {
        r->body = slurp(bp, &r->len);
    } else {
        r->body = strdup("");
        r->len = 0;
    }
}

static void res_free(res_t *r)
{
    free(r->body);
    r->body = NULL;
}

/* A header's value (case-insensitive name) into a static buffer, or NULL. */
static const char *hget(const res_t *r, const char *name)
{
    static char v[1024];
    size_t nl = strlen(name);
    const char *p = r->hdr;
    while ((p = strchr(p, '\n')) != NULL) {
        p++;
        if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *s = p + nl + 1;
            while (*s == ' ')
                s++;
            size_t n = strcspn(s, "\r\n");
            snprintf(v, sizeof v, "%.*s", (int)n, s);
            return v;
        }
    }
    return NULL;
}

static void assert_hdr(const res_t *r, const char *name, const char *want)
{
    const char *v = hget(r, name);
    if (!want) {
        ck_assert_msg(v == NULL, "%s: %s, want none\n%s", name, v, r->hdr);
        return;
    }
    ck_assert_msg(v && strcmp(v, want) == 0, "%s: %s, want %s\n%s", name, v ? v : "(none)", want,
                  r->hdr);
}

static void assert_body(const res_t *r, const char *want)
{
    ck_assert_msg(r->len == strlen(want) && memcmp(r->body, want, r->len) == 0,
                  "body \"%.*s\", want \"%s\"", (int)(r->len < 200 ? r->len : 200), r->body, want);
}

/* Send req on a new connection to listener, read until the server
 * closes: what came back (NUL-terminated). */
static char *raw_exchange(int listener, const char *req)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)E.port[listener])};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    struct timeval tv = {(time_t)(30 * slow()), 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    size_t n = strlen(req);
    ck_assert_int_eq(send(fd, req, n, MSG_NOSIGNAL), (ssize_t)n);
    swco__hbuf_t b = {0};
    char tmp[65536];
    ssize_t k;
    while ((k = recv(fd, tmp, sizeof tmp, 0)) > 0)
        ck_assert_int_eq(swco__hbuf_add(&b, tmp, (size_t)k), 0);
    ck_assert_msg(k == 0, "recv: %s", strerror(errno));
    close(fd);
    if (!b.p)
        swco__hbuf_add(&b, "", 0);
    return b.p;
}

static int e2e_peers(void) { return have_peer("curl --version", "curl"); }

/* GET and HEAD of files, MIME types, validators, index files. */
START_TEST(test_e2e_files)
{
    if (!e2e_peers())
        return;
    e2e_start(SWCO_SERVER_BASE);
    res_t r;
    curl(&r, 0, "URL/a.txt");
    ck_assert_int_eq(r.status, 200);
    assert_body(&r, "0123456789abcdefghijklmnopqrstuvwxyz");
    assert_hdr(&r, "Content-Type", "text/plain");
    assert_hdr(&r, "Content-Length", "36");
    assert_hdr(&r, "Last-Modified", "Tue, 14 Nov 2023 22:13:20 GMT");
    assert_hdr(&r, "Accept-Ranges", "bytes");
    assert_hdr(&r, "Content-Encoding", NULL); /* files go as they are */
    const char *et = hget(&r, "ETag");
    ck_assert_ptr_nonnull(et);
    ck_assert_msg(et[0] == '"' && et[strlen(et) - 1] == '"', "strong ETag: %s", et);
    res_free(&r);

    /* HEAD: the same head, no body (curl -I writes the head as the body) */
    curl(&r, 0, "-I URL/a.txt");
    ck_assert_int_eq(r.status, 200);
    assert_hdr(&r, "Content-Length", "36");
    assert_hdr(&r, "Content-Type", "text/plain");
    ck_assert_uint_eq(r.len, strlen(r.hdr));
    res_free(&r);
    /* ... and nothing after it: the next response on the connection
     * follows the HEAD's head at once */
    char *all = raw_exchange(0, "HEAD /a.txt HTTP/1.1\r\nHost: x\r\n\r\n"
                                "GET /a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    char *end1 = strstr(all, "\r\n\r\n");
    ck_assert_ptr_nonnull(end1);
    ck_assert_msg(strncmp(end1 + 4, "HTTP/1.1 200", 12) == 0, "%s", all);
    ck_assert_msg(strstr(end1 + 4, "\r\n\r\n0123456789abcdefghijklmnopqrstuvwxyz") != NULL, "%s", all);
    size_t total = strlen(all);
    ck_assert_str_eq(all + total - 36, "0123456789abcdefghijklmnopqrstuvwxyz");
    free(all);

    static const struct {
        const char *path, *type;
    } mt[] = {
        {"/index.html", "text/html"},       {"/style.css", "text/css"},
        {"/app.js", "text/javascript"},     {"/mod.mjs", "text/javascript"},
        {"/data.json", "application/json"}, {"/logo.svg", "image/svg+xml"},
        {"/pic.png", "image/png"},          {"/mod.wasm", "application/wasm"},
        {"/font.woff2", "font/woff2"},      {"/clip.mp4", "video/mp4"},
        {"/noext", "application/octet-stream"},
    };
    for (size_t i = 0; i < sizeof mt / sizeof mt[0]; i++) {
        curl(&r, 0, "URL%s", mt[i].path);
        ck_assert_msg(r.status == 200, "%s: %d", mt[i].path, r.status);
        assert_hdr(&r, "Content-Type", mt[i].type);
        res_free(&r);
    }
    /* big, empty, a name with a space, a symlink inside the root */
    curl(&r, 0, "URL/big.txt");
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(r.len, E.big_len);
    ck_assert(memcmp(r.body, E.big, E.big_len) == 0);
    res_free(&r);
    curl(&r, 0, "URL/empty.txt");
    ck_assert_int_eq(r.status, 200);
    assert_hdr(&r, "Content-Length", "0");
    ck_assert_uint_eq(r.len, 0);
    res_free(&r);
    curl(&r, 0, "URL/has%%20space.txt");
    ck_assert_int_eq(r.status, 200);
    assert_body(&r, "spaced out");
    res_free(&r);
    curl(&r, 0, "URL/in.txt");
    ck_assert_int_eq(r.status, 200);
    assert_body(&r, "0123456789abcdefghijklmnopqrstuvwxyz");
    res_free(&r);

    /* index files: index.html, index.htm by default */
    curl(&r, 0, "URL/");
    ck_assert_int_eq(r.status, 200);
    assert_body(&r, "<h1>home</h1>\n");
    assert_hdr(&r, "Content-Type", "text/html");
    res_free(&r);
    curl(&r, 0, "URL/sub/");
    ck_assert_int_eq(r.status, 200);
    assert_body(&r, "sub index\n");
    res_free(&r);
    /* a directory without its '/': redirected (query kept) */
    curl(&r, 0, "'URL/sub?x=1'");
    ck_assert_int_eq(r.status, 301);
    assert_hdr(&r, "Location", "/sub/?x=1");
    res_free(&r);
    /* no index there: the handler */
    curl(&r, 0, "URL/nodex/");
    ck_assert_int_eq(r.status, 200);
    assert_body(&r, "handler GET /nodex/");
    res_free(&r);
    /* a miss and other methods: the handler */
    curl(&r, 0, "URL/missing.txt");
    ck_assert_int_eq(r.status, 200);
    assert_body(&r, "handler GET /missing.txt");
    res_free(&r);
    curl(&r, 0, "-d x=1 URL/a.txt");
    assert_body(&r, "handler POST /a.txt");
    res_free(&r);
    curl(&r, 0, "-X DELETE URL/a.txt");
    assert_body(&r, "handler DELETE /a.txt");
    res_free(&r);
    /* a FIFO is never opened for reading */
    curl(&r, 0, "URL/fifo");
    ck_assert_int_eq(r.status, 403);
    res_free(&r);

    /* listener 1: only /static and /assets/, its own index file */
    curl(&r, 1, "URL/static/s.txt");
    ck_assert_int_eq(r.status, 200);
    assert_body(&r, "static s\n");
    res_free(&r);
    curl(&r, 1, "URL/assets/x.js");
    ck_assert_int_eq(r.status, 200);
    assert_hdr(&r, "Content-Type", "text/javascript");
    res_free(&r);
    curl(&r, 1, "URL/static/d/");
    ck_assert_int_eq(r.status, 200);
    assert_body(&r, "static d home\n");
    res_free(&r);
    curl(&r, 1, "URL/static/nope.txt");
    ck_assert_int_eq(r.status, 404);
    res_free(&r);
    curl(&r, 1, "URL/a.txt"); /* outside the locations: the handler */
    assert_body(&r, "handler GET /a.txt");
    res_free(&r);
    curl(&r, 1, "URL/staticky.txt"); /* "/static" is a whole segment */
    assert_body(&r, "handler GET /staticky.txt");
    res_free(&r);
    /* listener 2: no static files at all */
    curl(&r, 2, "URL/a.txt");
    assert_body(&r, "handler GET /a.txt");
    res_free(&r);
    e2e_stop();
}
END_TEST

/* If-None-Match / If-Modified-Since -> 304; If-Match /
 * If-Unmodified-Since -> 412. */
START_TEST(test_e2e_conditional)
{
    if (!e2e_peers())
        return;
    e2e_start(SWCO_SERVER_BASE);
    res_t r;
    curl(&r, 0, "URL/a.txt");
    char etag[128];
    snprintf(etag, sizeof etag, "%s", hget(&r, "ETag"));
    res_free(&r);

    curl(&r, 0, "-H 'If-None-Match: %s' URL/a.txt", etag);
    ck_assert_int_eq(r.status, 304);
    ck_assert_uint_eq(r.len, 0);
    assert_hdr(&r, "ETag", etag);
    assert_hdr(&r, "Last-Modified", "Tue, 14 Nov 2023 22:13:20 GMT");
    res_free(&r);
    curl(&r, 0, "-H 'If-None-Match: \"other\", W/%s' URL/a.txt", etag); /* weak compare */
    ck_assert_int_eq(r.status, 304);
    res_free(&r);
    curl(&r, 0, "-H 'If-None-Match: *' URL/a.txt");
    ck_assert_int_eq(r.status, 304);
    res_free(&r);
    curl(&r, 0, "-I -H 'If-None-Match: %s' URL/a.txt", etag);
    ck_assert_int_eq(r.status, 304);
    res_free(&r);
    curl(&r, 0, "-H 'If-None-Match: \"nope\"' URL/a.txt");
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(r.len, 36);
    res_free(&r);

    /* curl -z: If-Modified-Since */
    curl(&r, 0, "-z 'Tue, 14 Nov 2023 22:13:20 GMT' URL/a.txt");
    ck_assert_int_eq(r.status, 304);
    res_free(&r);
    curl(&r, 0, "-z 'Wed, 15 Nov 2023 00:00:00 GMT' URL/a.txt");
    ck_assert_int_eq(r.status, 304);
    res_free(&r);
    curl(&r, 0, "-z 'Tue, 14 Nov 2023 22:13:19 GMT' URL/a.txt");
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(r.len, 36);
    res_free(&r);
    /* the obsolete date forms */
    curl(&r, 0, "-H 'If-Modified-Since: Tuesday, 14-Nov-23 22:13:20 GMT' URL/a.txt");
    ck_assert_int_eq(r.status, 304);
    res_free(&r);
    curl(&r, 0, "-H 'If-Modified-Since: Tue Nov 14 22:13:20 2023' URL/a.txt");
    ck_assert_int_eq(r.status, 304);
    res_free(&r);
    curl(&r, 0, "-H 'If-Modified-Since: yesterday' URL/a.txt"); /* invalid: ignored */
    ck_assert_int_eq(r.status, 200);
    res_free(&r);
    /* If-None-Match wins over If-Modified-Since */
    curl(&r, 0, "-H 'If-None-Match: \"nope\"' -z 'Wed, 15 Nov 2023 00:00:00 GMT' URL/a.txt");
    ck_assert_int_eq(r.status, 200);
    res_free(&r);

    /* If-Match, If-Unmodified-Since */
    curl(&r, 0, "-H 'If-Match: %s' URL/a.txt", etag);
    ck_assert_int_eq(r.status, 200);
    res_free(&r);
    curl(&r, 0, "-H 'If-Match: W/%s' URL/a.txt", etag); /* strong compare */
    ck_assert_int_eq(r.status, 412);
    res_free(&r);
    curl(&r, 0, "-H 'If-Unmodified-Since: Mon, 13 Nov 2023 00:00:00 GMT' URL/a.txt");
    ck_assert_int_eq(r.status, 412);
    res_free(&r);
    e2e_stop();
}
END_TEST

/* Range, If-Range, 416. */
START_TEST(test_e2e_ranges)
{
    if (!e2e_peers())
        return;
    e2e_start(SWCO_SERVER_BASE);
    res_t r;
    curl(&r, 0, "URL/a.txt");
    char etag[128];
    snprintf(etag, sizeof etag, "%s", hget(&r, "ETag"));
    res_free(&r);

    static const struct {
        const char *range, *body, *cr;
    } ok[] = {
        {"0-9", "0123456789", "bytes 0-9/36"},
        {"10-", "abcdefghijklmnopqrstuvwxyz", "bytes 10-35/36"},
        {"-5", "vwxyz", "bytes 31-35/36"},
        {"35-35", "z", "bytes 35-35/36"},
        {"30-1000", "uvwxyz", "bytes 30-35/36"}, /* the end clipped */
        {"-100", "0123456789abcdefghijklmnopqrstuvwxyz", "bytes 0-35/36"},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        curl(&r, 0, "-r %s URL/a.txt", ok[i].range);
        ck_assert_msg(r.status == 206, "%s: %d", ok[i].range, r.status);
        assert_body(&r, ok[i].body);
        assert_hdr(&r, "Content-Range", ok[i].cr);
        char cl[24];
        snprintf(cl, sizeof cl, "%zu", strlen(ok[i].body));
        assert_hdr(&r, "Content-Length", cl);
        res_free(&r);
    }
    /* a range of the big file */
    curl(&r, 0, "-r 100000-199999 URL/big.txt");
    ck_assert_int_eq(r.status, 206);
    ck_assert_uint_eq(r.len, 100000);
    ck_assert(memcmp(r.body, E.big + 100000, 100000) == 0);
    res_free(&r);
    /* several ranges: the whole file */
    curl(&r, 0, "-r 0-1,5-6 URL/a.txt");
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(r.len, 36);
    assert_hdr(&r, "Content-Range", NULL);
    res_free(&r);
    /* unsatisfiable: 416 with the size */
    curl(&r, 0, "-r 36- URL/a.txt");
    ck_assert_int_eq(r.status, 416);
    assert_hdr(&r, "Content-Range", "bytes */36");
    res_free(&r);
    curl(&r, 0, "-r 100-200,300- URL/a.txt");
    ck_assert_int_eq(r.status, 416);
    res_free(&r);
    curl(&r, 0, "-r -0 URL/a.txt");
    ck_assert_int_eq(r.status, 416);
    res_free(&r);
    curl(&r, 0, "-r 0- URL/empty.txt");
    ck_assert_int_eq(r.status, 416);
    assert_hdr(&r, "Content-Range", "bytes */0");
    res_free(&r);
    /* malformed or other units: ignored */
    curl(&r, 0, "-H 'Range: bytes=5-2' URL/a.txt");
    ck_assert_int_eq(r.status, 200);
    res_free(&r);
    curl(&r, 0, "-H 'Range: items=0-1' URL/a.txt");
    ck_assert_int_eq(r.status, 200);
    res_free(&r);
    curl(&r, 0, "-H 'Range: bytes=x-1' URL/a.txt");
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(r.len, 36);
    res_free(&r);

    /* If-Range: the same ETag or date -> 206, else the whole file */
    curl(&r, 0, "-r 0-3 -H 'If-Range: %s' URL/a.txt", etag);
    ck_assert_int_eq(r.status, 206);
    assert_body(&r, "0123");
    res_free(&r);
    curl(&r, 0, "-r 0-3 -H 'If-Range: \"old\"' URL/a.txt");
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(r.len, 36);
    res_free(&r);
    curl(&r, 0, "-r 0-3 -H 'If-Range: W/%s' URL/a.txt", etag); /* weak never matches */
    ck_assert_int_eq(r.status, 200);
    res_free(&r);
    curl(&r, 0, "-r 0-3 -H 'If-Range: Tue, 14 Nov 2023 22:13:20 GMT' URL/a.txt");
    ck_assert_int_eq(r.status, 206);
    res_free(&r);
    curl(&r, 0, "-r 0-3 -H 'If-Range: Tue, 14 Nov 2023 22:13:21 GMT' URL/a.txt");
    ck_assert_int_eq(r.status, 200);
    res_free(&r);
    /* a failed If-Range does not make an unsatisfiable range a 416 */
    curl(&r, 0, "-r 99- -H 'If-Range: \"old\"' URL/a.txt");
    ck_assert_int_eq(r.status, 200);
    res_free(&r);
    e2e_stop();
}
END_TEST

/* Traversal: "..", encoded or not, encoded slashes, backslashes, NUL,
 * symlinks out of the root.  Nothing outside the root is ever served. */
START_TEST(test_e2e_traversal)
{
    if (!e2e_peers())
        return;
    e2e_start(SWCO_SERVER_BASE);
    static const struct {
        int listener;
        const char *target;
        int status; /* 0: the handler's answer */
    } cases[] = {
        {0, "/../secret.txt", 403},
        {0, "/../../../../etc/passwd", 403},
        {0, "/sub/../../secret.txt", 403},
        {0, "/%2e%2e/secret.txt", 403},
        {0, "/%2E%2E/%2e%2E/etc/passwd", 403},
        {0, "/.%2e/secret.txt", 403},
        {0, "/sub/..", 403},
        {1, "/static/../secret.txt", 403},
        {1, "/static/%2e%2e/%2e%2e/secret.txt", 403},
        {0, "/..%2fsecret.txt", 0},            /* an encoded '/' names no file */
        {0, "/sub%2f..%2f..%2fsecret.txt", 0},
        {1, "/static/..%2f..%2fsecret.txt", 404},
        {1, "/static/..%5c..%5csecret.txt", 404}, /* backslashes */
        {1, "/static/..\\..\\secret.txt", 404},
        {1, "/static/s.txt%00.png", 404},      /* NUL */
        {0, "/secret-link.txt", 403},          /* symlinks out of the root */
        {0, "/abs-link.txt", 403},
        {0, "/up/secret.txt", 403},
        {0, "/etc/passwd", 403},
        {0, "/etc/hostname", 403},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        res_t r;
        curl(&r, cases[i].listener, "--path-as-is 'URL%s'", cases[i].target);
        int want = cases[i].status ? cases[i].status : 200;
        ck_assert_msg(r.status == want, "%s: %d, want %d", cases[i].target, r.status, want);
        ck_assert_msg(!memmem(r.body, r.len, "SECRET", 6) && !memmem(r.body, r.len, "root:", 5),
                      "%s: leaked", cases[i].target);
        if (!cases[i].status)
            ck_assert_msg(r.len > 8 && memcmp(r.body, "handler ", 8) == 0,
                          "%s: \"%.*s\"", cases[i].target, (int)r.len, r.body);
        res_free(&r);
    }
    /* "." segments and repeated slashes are harmless */
    res_t r;
    curl(&r, 0, "--path-as-is 'URL/./sub/.//index.htm'");
    ck_assert_int_eq(r.status, 200);
    assert_body(&r, "sub index\n");
    res_free(&r);
    /* the raw HTTP/1.1 way, without curl's help: an absolute-form target */
    curl(&r, 0, "--request-target 'http://x/../secret.txt' URL/");
    ck_assert_int_eq(r.status, 403);
    res_free(&r);
    e2e_stop();
}
END_TEST

/* The same, with the fallback for kernels without openat2. */
START_TEST(test_e2e_traversal_no_openat2)
{
    swco__http_static_openat2 = 0;
    test_e2e_traversal_fn(_i);
}
END_TEST

/* ----------------------------------------------------- e2e compression */

/* Decode body (enc) back: gzip and deflate with python3's zlib (deflate
 * must be the zlib format), br with python3's brotli when it is there,
 * else with libbrotlidec here.  A malloc'd buffer, its length in *n. */
static char *decode_body(const res_t *r, int enc, size_t *n)
{
    char in[160], out[160], cmd[1024];
    snprintf(in, sizeof in, "%s/enc.bin", E.dir);
    snprintf(out, sizeof out, "%s/dec.bin", E.dir);
    FILE *f = fopen(in, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(r->body, 1, r->len, f), r->len);
    fclose(f);
    const char *py = NULL;
    if (enc == SWCO__ENC_GZIP)
        py = "import zlib,sys; d=open(sys.argv[1],'rb').read(); "
             "open(sys.argv[2],'wb').write(zlib.decompress(d, 16 + 15))";
    else if (enc == SWCO__ENC_DEFLATE)
        py = "import zlib,sys; d=open(sys.argv[1],'rb').read(); "
             "open(sys.argv[2],'wb').write(zlib.decompress(d, 15))";
    else if (system("python3 -c 'import brotli' >/dev/null 2>&1") == 0)
        py = "import brotli,sys; d=open(sys.argv[1],'rb').read(); "
             "open(sys.argv[2],'wb').write(brotli.decompress(d))";
    if (py) {
        snprintf(cmd, sizeof cmd, "python3 -c \"%s\" '%s' '%s'", py, in, out);
        ck_assert_msg(system(cmd) == 0, "python3 could not decode the %s body",
                      swco__http_encoding_name(enc));
        return slurp(out, n);
    }
    size_t cap = 64u << 20;
    char *buf = malloc(cap);
    ck_assert_ptr_nonnull(buf);
    ck_assert_int_eq(BrotliDecoderDecompress(r->len, (const uint8_t *)r->body, &cap,
                                             (uint8_t *)buf),
                     BROTLI_DECODER_RESULT_SUCCESS);
    *n = cap;
    return buf;
}

static void assert_decodes_to(const res_t *r, int enc, const char *want, size_t wlen)
{
    assert_hdr(r, "Content-Encoding", swco__http_encoding_name(enc));
    size_t n;
    char *got = decode_body(r, enc, &n);
    ck_assert_msg(n == wlen && memcmp(got, want, n) == 0, "%s: decoded %zu bytes, want %zu",
                  swco__http_encoding_name(enc), n, wlen);
    free(got);
}

static int e2e_zpeers(void) { return e2e_peers() && have_peer("python3 -c 'import zlib'", "python3"); }

/* curl --compressed, and each encoding asked for alone, decoded by
 * python3; Vary; types that are not compressed; q-values. */
START_TEST(test_e2e_compression)
{
    if (!e2e_zpeers())
        return;
    e2e_start(SWCO_SERVER_BASE);
    size_t n = 50000;
    char *text = make_text(n);
    res_t r;
    static const int encs[] = {SWCO__ENC_GZIP, SWCO__ENC_DEFLATE, SWCO__ENC_BR};
    for (size_t i = 0; i < 3; i++) {
        curl(&r, 0, "-H 'Accept-Encoding: %s' 'URL/gen/text?n=%zu'",
             swco__http_encoding_name(encs[i]), n);
        ck_assert_int_eq(r.status, 200);
        assert_hdr(&r, "Vary", "Accept-Encoding");
        ck_assert_msg(r.len < n / 2, "%zu bytes: not compressed", r.len);
        char cl[24];
        snprintf(cl, sizeof cl, "%zu", r.len);
        assert_hdr(&r, "Content-Length", cl);
        assert_decodes_to(&r, encs[i], text, n);
        res_free(&r);
    }
    /* curl --compressed decodes it itself (it offers deflate, gzip, br) */
    curl(&r, 0, "--compressed 'URL/gen/text?n=%zu'", n);
    ck_assert_int_eq(r.status, 200);
    assert_hdr(&r, "Content-Encoding", "br");
    ck_assert_uint_eq(r.len, n);
    ck_assert(memcmp(r.body, text, n) == 0);
    res_free(&r);
    curl(&r, 0, "--compressed -H 'Accept-Encoding: gzip;q=0.5, deflate;q=0.8' 'URL/gen/text?n=%zu'",
         n);
    assert_hdr(&r, "Content-Encoding", "deflate");
    ck_assert_uint_eq(r.len, n);
    ck_assert(memcmp(r.body, text, n) == 0);
    res_free(&r);
    /* q-values */
    curl(&r, 0, "-H 'Accept-Encoding: br;q=0, gzip;q=0.1' 'URL/gen/text?n=%zu'", n);
    assert_decodes_to(&r, SWCO__ENC_GZIP, text, n);
    res_free(&r);
    curl(&r, 0, "-H 'Accept-Encoding: *;q=0' 'URL/gen/text?n=%zu'", n);
    assert_hdr(&r, "Content-Encoding", NULL);
    ck_assert_uint_eq(r.len, n);
    res_free(&r);
    curl(&r, 0, "'URL/gen/text?n=%zu'", n); /* no Accept-Encoding */
    assert_hdr(&r, "Content-Encoding", NULL);
    ck_assert_uint_eq(r.len, n);
    res_free(&r);
    /* types: JSON and SVG yes, PNG and octet-stream no */
    curl(&r, 0, "-H 'Accept-Encoding: gzip' 'URL/gen/text?n=%zu&type=application/json'", n);
    assert_decodes_to(&r, SWCO__ENC_GZIP, text, n);
    res_free(&r);
    curl(&r, 0, "-H 'Accept-Encoding: gzip' 'URL/gen/text?n=%zu&type=image/svg%%2Bxml'", n);
    assert_decodes_to(&r, SWCO__ENC_GZIP, text, n);
    res_free(&r);
    curl(&r, 0, "-H 'Accept-Encoding: gzip' 'URL/gen/text?n=%zu&type=image/png'", n);
    assert_hdr(&r, "Content-Encoding", NULL);
    ck_assert_uint_eq(r.len, n);
    res_free(&r);
    curl(&r, 0, "-H 'Accept-Encoding: gzip, br' 'URL/gen/text?n=%zu&type=application/octet-stream'",
         n);
    assert_hdr(&r, "Content-Encoding", NULL);
    res_free(&r);
    /* http_compression off (listener 2) */
    curl(&r, 2, "-H 'Accept-Encoding: gzip, br' 'URL/gen/text?n=%zu'", n);
    assert_hdr(&r, "Content-Encoding", NULL);
    ck_assert_uint_eq(r.len, n);
    res_free(&r);
    free(text);
    e2e_stop();
}
END_TEST

/* http_compression_level and compression_min_length, per listener. */
START_TEST(test_e2e_levels_min_length)
{
    if (!e2e_zpeers())
        return;
    e2e_start(SWCO_SERVER_BASE);
    res_t r;
    /* listener 0: minimum 20 bytes */
    char *t = make_text(2000);
    curl(&r, 0, "-H 'Accept-Encoding: gzip' 'URL/gen/text?n=19'");
    assert_hdr(&r, "Content-Encoding", NULL);
    ck_assert_uint_eq(r.len, 19);
    res_free(&r);
    curl(&r, 0, "-H 'Accept-Encoding: gzip' 'URL/gen/text?n=20'");
    assert_decodes_to(&r, SWCO__ENC_GZIP, t, 20);
    res_free(&r);
    /* listener 1: minimum 1000 bytes */
    curl(&r, 1, "-H 'Accept-Encoding: gzip' 'URL/gen/text?n=999'");
    assert_hdr(&r, "Content-Encoding", NULL);
    ck_assert_uint_eq(r.len, 999);
    res_free(&r);
    curl(&r, 1, "-H 'Accept-Encoding: gzip' 'URL/gen/text?n=1000'");
    assert_decodes_to(&r, SWCO__ENC_GZIP, t, 1000);
    res_free(&r);
    free(t);

    /* level 1 (listener 0) against level 9 (listener 1): the same body
     * comes out smaller at 9, for each encoding */
    size_t n = 300000;
    t = make_text(n);
    static const int encs[] = {SWCO__ENC_GZIP, SWCO__ENC_DEFLATE, SWCO__ENC_BR};
    for (size_t i = 0; i < 3; i++) {
        size_t len[2];
        for (int l = 0; l < 2; l++) {
            curl(&r, l, "-H 'Accept-Encoding: %s' 'URL/gen/text?n=%zu'",
                 swco__http_encoding_name(encs[i]), n);
            assert_decodes_to(&r, encs[i], t, n);
            len[l] = r.len;
            res_free(&r);
        }
        ck_assert_msg(len[1] < len[0] - len[0] / 20, "%s: level 9 %zu bytes, level 1 %zu",
                      swco__http_encoding_name(encs[i]), len[1], len[0]);
        /* and they are what the encoder makes at those levels */
        for (int l = 0; l < 2; l++) {
            swco__http_enc_t *e = swco__http_enc_new(encs[i], l ? 9 : 1);
            swco__hbuf_t out = {0};
            ck_assert_int_eq(swco__http_enc_put(e, t, n, 1, &out), 0);
            ck_assert_uint_eq(out.len, len[l]);
            swco__hbuf_free(&out);
            swco__http_enc_free(e);
        }
    }
    free(t);
    e2e_stop();
}
END_TEST

/* A streamed (write) response, compressed: chunked, decodes to what was
 * written; and each write reaches the client decodable before the
 * handler goes on (it waits for a second request the client makes only
 * once it has decoded the first part). */
START_TEST(test_e2e_streamed)
{
    if (!e2e_zpeers())
        return;
    e2e_start(SWCO_SERVER_BASE);
    res_t r;
    size_t n = 4000 * 50;
    char *t = make_text(n);
    static const int encs[] = {SWCO__ENC_GZIP, SWCO__ENC_DEFLATE, SWCO__ENC_BR};
    for (size_t i = 0; i < 3; i++) {
        curl(&r, 0, "--raw -H 'Accept-Encoding: %s' 'URL/gen/stream?n=50'",
             swco__http_encoding_name(encs[i]));
        ck_assert_int_eq(r.status, 200);
        assert_hdr(&r, "Transfer-Encoding", "chunked");
        assert_hdr(&r, "Vary", "Accept-Encoding");
        /* --raw kept the chunked framing: undo it */
        swco__hbuf_t body = {0};
        const char *p = r.body, *end = r.body + r.len;
        for (;;) {
            char *eol;
            unsigned long sz = strtoul(p, &eol, 16);
            ck_assert(eol[0] == '\r' && eol[1] == '\n');
            p = eol + 2;
            if (sz == 0)
                break;
            ck_assert(p + sz + 2 <= end);
            swco__hbuf_add(&body, p, sz);
            p += sz + 2;
        }
        free(r.body);
        r.body = body.p;
        r.len = body.len;
        assert_decodes_to(&r, encs[i], t, n);
        res_free(&r);
    }
    curl(&r, 0, "--compressed 'URL/gen/stream?n=50'");
    ck_assert_uint_eq(r.len, n);
    ck_assert(memcmp(r.body, t, n) == 0);
    res_free(&r);
    free(t);

    /* progressive: part one decodes before part two is written */
    for (size_t i = 0; i < 3; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)E.port[0])};
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
        struct timeval tv = {(time_t)(30 * slow()), 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        char req[256];
        int k = snprintf(req, sizeof req,
                         "GET /gen/gate HTTP/1.1\r\nHost: x\r\nAccept-Encoding: %s\r\n"
                         "Connection: close\r\n\r\n",
                         swco__http_encoding_name(encs[i]));
        ck_assert_int_eq(send(fd, req, (size_t)k, MSG_NOSIGNAL), k);
        dec_t d;
        dec_init(&d, encs[i]);
        swco__hbuf_t in = {0};
        size_t used = 0;
        int head_done = 0, opened = 0;
        for (;;) {
            char tmp[4096];
            ssize_t got = recv(fd, tmp, sizeof tmp, 0);
            ck_assert_msg(got >= 0, "%s: nothing decodable came (%s)",
                          swco__http_encoding_name(encs[i]), strerror(errno));
            if (got == 0)
                break;
            swco__hbuf_add(&in, tmp, (size_t)got);
            if (!head_done) {
                char *he = strstr(in.p, "\r\n\r\n");
                if (!he)
                    continue;
                ck_assert_msg(strstr(in.p, swco__http_encoding_name(encs[i])) != NULL, "%s",
                              in.p);
                used = (size_t)(he + 4 - in.p);
                head_done = 1;
            }
            /* whole chunks only */
            for (;;) {
                char *crlf = memmem(in.p + used, in.len - used, "\r\n", 2);
                if (!crlf)
                    break;
                unsigned long sz = strtoul(in.p + used, NULL, 16);
                size_t start = (size_t)(crlf + 2 - in.p);
                if (sz == 0 || in.len < start + sz + 2)
                    break;
                dec_feed(&d, in.p + start, sz);
                used = start + sz + 2;
            }
            if (!opened && d.out.len >= strlen(GATE_ONE)) {
                ck_assert(memcmp(d.out.p, GATE_ONE, strlen(GATE_ONE)) == 0);
                ck_assert_uint_eq(d.out.len, strlen(GATE_ONE)); /* not part two yet */
                res_t o;
                curl(&o, 0, "URL/gen/open");
                assert_body(&o, "opened");
                res_free(&o);
                opened = 1;
            }
        }
        close(fd);
        ck_assert(opened);
        ck_assert(d.ended);
        ck_assert_str_eq(d.out.p, GATE_ONE GATE_TWO);
        dec_free(&d);
        swco__hbuf_free(&in);
    }
    e2e_stop();
}
END_TEST

/* The same handler in every server mode: a file, a range, a 304, a
 * refused traversal, an index, a compressed body. */
static void modes_run(int mode)
{
    if (!e2e_zpeers())
        return;
    e2e_start(mode);
    res_t r;
    curl(&r, 0, "URL/big.txt");
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(r.len, E.big_len);
    ck_assert(memcmp(r.body, E.big, E.big_len) == 0);
    char etag[128];
    snprintf(etag, sizeof etag, "%s", hget(&r, "ETag"));
    res_free(&r);
    curl(&r, 0, "-r 250000- URL/big.txt");
    ck_assert_int_eq(r.status, 206);
    ck_assert_uint_eq(r.len, 50000);
    ck_assert(memcmp(r.body, E.big + 250000, 50000) == 0);
    res_free(&r);
    curl(&r, 0, "-H 'If-None-Match: %s' URL/big.txt", etag);
    ck_assert_int_eq(r.status, 304);
    res_free(&r);
    curl(&r, 0, "--path-as-is URL/%%2e%%2e/secret.txt");
    ck_assert_int_eq(r.status, 403);
    res_free(&r);
    curl(&r, 0, "URL/etc/passwd");
    ck_assert_int_eq(r.status, 403);
    res_free(&r);
    curl(&r, 1, "URL/static/d/");
    assert_body(&r, "static d home\n");
    res_free(&r);
    char *t = make_text(40000); /* make_text(n) is a prefix of make_text(n + k) */
    curl(&r, 0, "-H 'Accept-Encoding: gzip' 'URL/gen/text?n=30000'");
    assert_decodes_to(&r, SWCO__ENC_GZIP, t, 30000);
    res_free(&r);
    curl(&r, 0, "--compressed 'URL/gen/stream?n=10'");
    assert_hdr(&r, "Content-Encoding", "br");
    ck_assert_uint_eq(r.len, 40000);
    ck_assert(memcmp(r.body, t, 40000) == 0);
    res_free(&r);
    free(t);
    e2e_stop();
}

START_TEST(test_e2e_mode_process) { modes_run(SWCO_SERVER_PROCESS); }
END_TEST

START_TEST(test_e2e_mode_thread) { modes_run(SWCO_SERVER_THREAD); }
END_TEST

int main(void)
{
    Suite *s = suite_create("http_static");
    TCase *tc = tcase_create("compress");
    tcase_add_test(tc, test_pick_accept_encoding);
    tcase_add_test(tc, test_pick_types_and_lengths);
    tcase_add_test(tc, test_round_trip_levels);
    tcase_add_test(tc, test_formats);
    tcase_add_test(tc, test_streaming_flush);
    tcase_add_test(tc, test_many_puts);
    tcase_add_test(tc, test_bad_arguments);
    tcase_add_test(tc, test_throughput);
    suite_add_tcase(s, tc);
    TCase *mime = tcase_create("mime");
    tcase_add_test(mime, test_mime_types);
    suite_add_tcase(s, mime);
    TCase *e2e = tcase_create("end to end");
    tcase_set_timeout(e2e, 120);
    tcase_add_test(e2e, test_e2e_files);
    tcase_add_test(e2e, test_e2e_conditional);
    tcase_add_test(e2e, test_e2e_ranges);
    tcase_add_test(e2e, test_e2e_traversal);
    tcase_add_test(e2e, test_e2e_compression);
    tcase_add_test(e2e, test_e2e_levels_min_length);
    tcase_add_test(e2e, test_e2e_streamed);
    tcase_add_test(e2e, test_e2e_mode_process);
    tcase_add_test(e2e, test_e2e_mode_thread);
    tcase_add_test(e2e, test_e2e_traversal_no_openat2);
    suite_add_tcase(s, e2e);
    return run_suite(s);
}
