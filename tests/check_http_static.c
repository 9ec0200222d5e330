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
#include <errno.h>
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

/* Throughput of the encoders on 1 MiB of text, whole (one put), at the
 * default level 1 (and br at 1 and 4).  Printed; asserted only to work. */
START_TEST(test_throughput)
{
    size_t n = 1 << 20;
    char *text = make_text(n);
    static const struct {
        int enc, level;
    } runs[] = {{SWCO__ENC_GZIP, 1}, {SWCO__ENC_DEFLATE, 1}, {SWCO__ENC_BR, 1},
                {SWCO__ENC_BR, 4},   {SWCO__ENC_GZIP, 6},    {SWCO__ENC_BR, 6}};
    int rounds = getenv("SWCO_TEST_BENCH") ? 20 : 1;
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        swco__hbuf_t out = {0};
        double t0 = now_s();
        for (int r = 0; r < rounds; r++) {
            swco__http_enc_t *e = swco__http_enc_new(runs[i].enc, runs[i].level);
            out.len = 0;
            ck_assert_int_eq(swco__http_enc_put(e, text, n, 1, &out), 0);
            swco__http_enc_free(e);
        }
        double dt = (now_s() - t0) / rounds;
        fprintf(stderr, "compress %-7s level %d: 1 MiB -> %zu bytes (%.1f%%), %.1f MB/s\n",
                swco__http_encoding_name(runs[i].enc), runs[i].level, out.len,
                100.0 * (double)out.len / (double)n, (double)n / 1e6 / dt);
        swco__hbuf_free(&out);
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
    return run_suite(s);
}
