/* HTTP response compression: Accept-Encoding negotiation and streaming
 * gzip / deflate (zlib) and br (libbrotli) encoders.
 *
 * An encoder is fed the body as the handler produces it.  Each put with
 * last = 0 flushes what it has (a zlib sync flush, a brotli FLUSH), so a
 * streamed response's chunks can be decoded as they arrive; put with
 * last = 1 ends the stream.  A whole body given at once with last = 1
 * costs no flush at all. */
#include "http/http_int.h"

#include <brotli/encode.h>
#include <ctype.h>
#include <strings.h>
#include <zlib.h>

/* ------------------------------------------------------------ negotiation */

const char *swco__http_encoding_name(int enc)
{
    switch (enc) {
    case SWCO__ENC_NONE:
        return "identity";
    case SWCO__ENC_GZIP:
        return "gzip";
    case SWCO__ENC_DEFLATE:
        return "deflate";
    case SWCO__ENC_BR:
        return "br";
    }
    return NULL;
}

static int is_ows(char c) { return c == ' ' || c == '\t'; }

/* Whether the media type s[0..n) (no parameters) is worth compressing:
 * text, JSON, JavaScript, XML and SVG.  Images, video, archives and fonts
 * are compressed already. */
static int compressible(const char *s, size_t n)
{
    static const char *const types[] = {
        "application/json", "application/javascript", "application/x-javascript",
        "application/ecmascript", "application/xml", "application/xhtml+xml",
        "application/rss+xml", "application/atom+xml", "application/wasm",
        "application/manifest+json", "application/ld+json", "image/svg+xml",
        "image/x-icon", "image/vnd.microsoft.icon", "font/ttf", "font/otf",
        "application/x-font-ttf", "application/vnd.ms-fontobject",
    };
    if (n > 5 && strncasecmp(s, "text/", 5) == 0)
        return 1;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strlen(types[i]) == n && strncasecmp(s, types[i], n) == 0)
            return 1;
    /* structured syntax suffixes (RFC 6839) */
    if (n > 5 && (strncasecmp(s + n - 5, "+json", 5) == 0 || strncasecmp(s + n - 4, "+xml", 4) == 0))
        return 1;
    return 0;
}

/* A qvalue (RFC 9110 12.4.2: "0" ["." 0*3DIGIT] / "1" ["." 0*3("0")]) in
 * thousandths, or -1 when malformed. */
static int parse_q(const char *s, size_t n)
{
    if (n == 0 || n > 5 || (s[0] != '0' && s[0] != '1'))
        return -1;
    int q = (s[0] - '0') * 1000;
    if (n == 1)
        return q;
    if (s[1] != '.')
        return -1;
    int scale = 100;
    for (size_t i = 2; i < n; i++, scale /= 10) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        q += (s[i] - '0') * scale;
    }
    return q > 1000 ? -1 : q;
}

/* Fill q[enc] (thousandths, -1 when not named) from an Accept-Encoding
 * value; *star gets the q of "*" (-1 when absent).  Malformed elements are
 * ignored; a coding named twice keeps its highest q. */
static void parse_accept_encoding(const char *s, int q[4], int *star)
{
    q[0] = q[1] = q[2] = q[3] = *star = -1;
    while (*s) {
        while (*s == ',' || is_ows(*s))
            s++;
        const char *tok = s;
        while (*s && *s != ',' && *s != ';' && !is_ows(*s))
            s++;
        size_t tlen = (size_t)(s - tok);
        int qv = 1000, bad = 0;
        /* parameters */
        while (*s && *s != ',') {
            while (is_ows(*s))
                s++;
            if (*s != ';') {
                if (*s && *s != ',')
                    bad = 1;
                while (*s && *s != ',' && *s != ';')
                    s++;
                continue;
            }
            s++;
            while (is_ows(*s))
                s++;
            const char *pn = s;
            while (*s && *s != '=' && *s != ',' && *s != ';' && !is_ows(*s))
                s++;
            size_t pnlen = (size_t)(s - pn);
            while (is_ows(*s))
                s++;
            if (*s != '=') {
                bad = 1;
                continue;
            }
            s++;
            while (is_ows(*s))
                s++;
            const char *pv = s;
            while (*s && *s != ',' && *s != ';' && !is_ows(*s))
                s++;
            if (pnlen == 1 && (pn[0] == 'q' || pn[0] == 'Q')) {
                qv = parse_q(pv, (size_t)(s - pv));
                if (qv < 0)
                    bad = 1;
            }
        }
        if (bad || tlen == 0)
            continue;
        int *slot = NULL;
        if (tlen == 1 && tok[0] == '*')
            slot = star;
        else if (tlen == 2 && strncasecmp(tok, "br", 2) == 0)
            slot = &q[SWCO__ENC_BR];
        else if ((tlen == 4 && strncasecmp(tok, "gzip", 4) == 0) ||
                 (tlen == 6 && strncasecmp(tok, "x-gzip", 6) == 0))
            slot = &q[SWCO__ENC_GZIP];
        else if (tlen == 7 && strncasecmp(tok, "deflate", 7) == 0)
            slot = &q[SWCO__ENC_DEFLATE];
        if (slot && qv > *slot)
            *slot = qv;
    }
}

int swco__http_pick_encoding(const char *accept_encoding, const char *content_type,
                             long long length, const swco__http_lopts_t *o)
{
    size_t min_length = o ? o->compression_min_length : 20;
    if (!accept_encoding || !content_type || (o && !o->compression))
        return SWCO__ENC_NONE;
    if (length >= 0 && (unsigned long long)length < min_length)
        return SWCO__ENC_NONE;
    while (is_ows(*content_type))
        content_type++;
    size_t n = strcspn(content_type, "; \t");
    if (!compressible(content_type, n))
        return SWCO__ENC_NONE;

    int q[4], star;
    parse_accept_encoding(accept_encoding, q, &star);
    /* by preference: the first of the best q wins a tie */
    static const int order[] = {SWCO__ENC_BR, SWCO__ENC_GZIP, SWCO__ENC_DEFLATE};
    int best = SWCO__ENC_NONE, bestq = 0;
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        int e = order[i];
        int qe = q[e] >= 0 ? q[e] : star;
        if (qe > bestq) {
            best = e;
            bestq = qe;
        }
    }
    return best;
}

/* --------------------------------------------------------------- encoders */

struct swco__http_enc {
    int enc;
    int done;
    z_stream z;
    BrotliEncoderState *br;
};

/* br quality for an http_compression_level: the same number.  Brotli's
 * 10 and 11 are for offline compression (a few hundred KB/s): level 9
 * stops at quality 9. */
static int br_quality(int level) { return level; }

swco__http_enc_t *swco__http_enc_new(int enc, int level)
{
    if (level < 1)
        level = 1;
    if (level > 9)
        level = 9;
    swco__http_enc_t *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->enc = enc;
    switch (enc) {
    case SWCO__ENC_GZIP:
    case SWCO__ENC_DEFLATE:
        /* 15 + 16: gzip header and trailer; 15: the zlib format, which is
         * what browsers expect of "deflate" (RFC 9110 8.4.1.2) */
        if (deflateInit2(&e->z, level, Z_DEFLATED, enc == SWCO__ENC_GZIP ? 15 + 16 : 15, 8,
                         Z_DEFAULT_STRATEGY) != Z_OK) {
            free(e);
            return NULL;
        }
        return e;
    case SWCO__ENC_BR:
        if (!(e->br = BrotliEncoderCreateInstance(NULL, NULL, NULL))) {
            free(e);
            return NULL;
        }
        BrotliEncoderSetParameter(e->br, BROTLI_PARAM_QUALITY, (uint32_t)br_quality(level));
        /* a 1 MiB window: most of the gain of the default 4 MiB for a
         * quarter of the memory per response */
        BrotliEncoderSetParameter(e->br, BROTLI_PARAM_LGWIN, 20);
        BrotliEncoderSetParameter(e->br, BROTLI_PARAM_MODE, BROTLI_MODE_TEXT);
        return e;
    }
    free(e);
    return NULL;
}

/* Output room to give the encoder in one step. */
static size_t out_step(size_t in)
{
    size_t step = in / 2 + 64;
    if (step < 1024)
        step = 1024;
    if (step > (256u << 10))
        step = 256u << 10;
    return step;
}

static int put_zlib(swco__http_enc_t *e, const void *in, size_t n, int last, swco__hbuf_t *out)
{
    int flush = last ? Z_FINISH : Z_SYNC_FLUSH;
    const unsigned char *p = in;
    /* avail_in is a uInt: feed huge inputs in slices */
    for (;;) {
        size_t slice = n > (1u << 30) ? (1u << 30) : n;
        int f = slice == n ? flush : Z_NO_FLUSH;
        e->z.next_in = (unsigned char *)p;
        e->z.avail_in = (uInt)slice;
        for (;;) {
            size_t step = out_step(e->z.avail_in);
            if (swco__hbuf_reserve(out, step) < 0)
                return -ENOMEM;
            e->z.next_out = (unsigned char *)out->p + out->len;
            e->z.avail_out = (uInt)step;
            int rc = deflate(&e->z, f);
            out->len += step - e->z.avail_out;
            out->p[out->len] = 0;
            if (rc == Z_STREAM_END)
                break;
            if (rc != Z_OK && rc != Z_BUF_ERROR)
                return rc == Z_MEM_ERROR ? -ENOMEM : -EIO;
            /* done when it left output room and took all the input */
            if (e->z.avail_out != 0 && e->z.avail_in == 0 && f != Z_FINISH)
                break;
        }
        p += slice;
        n -= slice;
        if (n == 0)
            return 0;
    }
}

static int put_br(swco__http_enc_t *e, const void *in, size_t n, int last, swco__hbuf_t *out)
{
    BrotliEncoderOperation op = last ? BROTLI_OPERATION_FINISH : BROTLI_OPERATION_FLUSH;
    const uint8_t *next_in = in;
    size_t avail_in = n;
    for (;;) {
        size_t step = out_step(avail_in);
        if (swco__hbuf_reserve(out, step) < 0)
            return -ENOMEM;
        uint8_t *next_out = (uint8_t *)out->p + out->len;
        size_t avail_out = step;
        if (!BrotliEncoderCompressStream(e->br, op, &avail_in, &next_in, &avail_out, &next_out,
                                         NULL))
            return -EIO;
        out->len += step - avail_out;
        out->p[out->len] = 0;
        if (avail_in == 0 && !BrotliEncoderHasMoreOutput(e->br) &&
            (!last || BrotliEncoderIsFinished(e->br)))
            return 0;
    }
}

int swco__http_enc_put(swco__http_enc_t *e, const void *in, size_t n, int last, swco__hbuf_t *out)
{
    if (!e || !out || (n && !in))
        return -EINVAL;
    if (e->done)
        return n || !last ? -EALREADY : 0;
    /* nothing new and not the end: no empty flush block */
    if (n == 0 && !last)
        return 0;
    int rc = e->enc == SWCO__ENC_BR ? put_br(e, in, n, last, out) : put_zlib(e, in, n, last, out);
    if (rc == 0 && last)
        e->done = 1;
    return rc;
}

void swco__http_enc_free(swco__http_enc_t *e)
{
    if (!e)
        return;
    if (e->enc == SWCO__ENC_BR)
        BrotliEncoderDestroyInstance(e->br);
    else
        deflateEnd(&e->z);
    free(e);
}
