/* permessage-deflate (RFC 7692): the Sec-WebSocket-Extensions offer and
 * answer, and the raw deflate streams.
 *
 * A message is compressed with a sync flush and sent without the
 * 00 00 ff ff its empty stored block ends with; the receiver puts the tail
 * back before inflating.  With context takeover (the default) a side's
 * stream carries its window from message to message; *_no_context_takeover
 * resets it after each.  *_max_window_bits bounds a side's window; zlib's
 * raw deflate has no 8-bit window, so a side held to 8 bits sends its
 * messages uncompressed (RFC 7692 lets any message go uncompressed). */
#include "websocket/ws_int.h"

#include <ctype.h>
#include <strings.h>

static const uint8_t tail[4] = {0x00, 0x00, 0xff, 0xff};

void swco__ws_zip_init(swco__ws_zip_t *zp, int inflate, int bits, int no_takeover, int level)
{
    memset(zp, 0, sizeof *zp);
    zp->inflate = inflate;
    zp->bits = bits < 8 || bits > 15 ? 15 : bits;
    zp->no_takeover = no_takeover;
    zp->level = level < 0 || level > 9 ? Z_DEFAULT_COMPRESSION : level;
}

int swco__ws_zip_usable(const swco__ws_zip_t *zp) { return zp->inflate || zp->bits > 8; }

static int zip_ready(swco__ws_zip_t *zp)
{
    if (zp->ready)
        return 0;
    int rc;
    if (zp->inflate)
        rc = inflateInit2(&zp->z, -15); /* any window the peer uses fits in 15 bits */
    else
        rc = deflateInit2(&zp->z, zp->level, Z_DEFLATED, -zp->bits, 8, Z_DEFAULT_STRATEGY);
    if (rc != Z_OK)
        return rc == Z_MEM_ERROR ? -ENOMEM : -EINVAL;
    zp->ready = 1;
    return 0;
}

void swco__ws_zip_free(swco__ws_zip_t *zp)
{
    if (!zp->ready)
        return;
    if (zp->inflate)
        inflateEnd(&zp->z);
    else
        deflateEnd(&zp->z);
    zp->ready = 0;
}

int swco__ws_deflate(swco__ws_zip_t *zp, const void *in, size_t n, swco__hbuf_t *out)
{
    if (n == 0) {
        /* An empty message is the one byte 0x00 (with the tail: an empty
         * stored block).  Asking zlib would give nothing at all after a
         * flush (it refuses a second flush in a row), which the peer would
         * complete into a broken block. */
        return swco__hbuf_add(out, "", 1);
    }
    int rc = zip_ready(zp);
    if (rc < 0)
        return rc;
    z_stream *z = &zp->z;
    z->next_in = (Bytef *)(uintptr_t)in;
    size_t start = out->len;
    size_t left = n;
    do {
        uInt chunk = left > (1u << 30) ? (1u << 30) : (uInt)left;
        int flush = left == chunk ? Z_SYNC_FLUSH : Z_NO_FLUSH;
        z->avail_in = chunk;
        do {
            size_t room = deflateBound(z, chunk) + 16;
            if (room > (1u << 30))
                room = 1u << 30;
            if (swco__hbuf_reserve(out, room) < 0)
                return -ENOMEM;
            z->next_out = (Bytef *)out->p + out->len;
            z->avail_out = (uInt)room;
            rc = deflate(z, flush);
            if (rc == Z_STREAM_ERROR)
                return -EPROTO;
            out->len += room - z->avail_out;
        } while (z->avail_out == 0);
        left -= chunk; /* output had room left: all of the chunk was taken */
    } while (left > 0);
    /* drop the 00 00 ff ff of the sync flush */
    if (out->len - start >= 4 && memcmp(out->p + out->len - 4, tail, 4) == 0)
        out->len -= 4;
    out->p[out->len] = 0;
    if (zp->no_takeover)
        deflateReset(z);
    return 0;
}

int swco__ws_inflate(swco__ws_zip_t *zp, const void *in, size_t n, swco__hbuf_t *out, size_t max)
{
    if (n == 0) {
        /* Nothing compressed: an empty message (some deflaters send that
         * for a message after an empty one); the stream is untouched. */
        return swco__hbuf_reserve(out, 0) < 0 ? -ENOMEM : (out->p[out->len] = 0, 0);
    }
    int rc = zip_ready(zp);
    if (rc < 0)
        return rc;
    z_stream *z = &zp->z;
    size_t start = out->len;
    for (int part = 0; part < 2; part++) {
        const Bytef *src = part ? tail : (const Bytef *)in;
        size_t left = part ? 4 : n;
        while (left > 0) {
            uInt chunk = left > (1u << 30) ? (1u << 30) : (uInt)left;
            z->next_in = (Bytef *)(uintptr_t)src;
            z->avail_in = chunk;
            do {
                size_t want = chunk * 2 + 256;
                if (want > 256 * 1024)
                    want = 256 * 1024;
                if (swco__hbuf_reserve(out, want) < 0)
                    return -ENOMEM;
                z->next_out = (Bytef *)out->p + out->len;
                size_t room = out->cap - out->len - 1;
                if (room > (1u << 30))
                    room = 1u << 30;
                z->avail_out = (uInt)room;
                rc = inflate(z, Z_SYNC_FLUSH);
                out->len += room - z->avail_out;
                if (max && out->len - start > max) {
                    inflateReset(z);
                    return -EMSGSIZE;
                }
                if (rc == Z_STREAM_END) {
                    /* the peer ended its stream (BFINAL): what follows in
                     * this message is not ours to read; start afresh */
                    inflateReset(z);
                    out->p[out->len] = 0;
                    return 0;
                }
                if (rc == Z_BUF_ERROR && z->avail_in == 0)
                    break;
                if (rc != Z_OK && rc != Z_BUF_ERROR) {
                    inflateReset(z);
                    return -EPROTO;
                }
            } while (z->avail_in > 0 || z->avail_out == 0);
            src += chunk;
            left -= chunk;
        }
    }
    out->p[out->len] = 0;
    if (zp->no_takeover)
        inflateReset(z);
    return 0;
}

/* ------------------------------------------------ the extension header */

/* One parameter of an offer: name[=value]; value may be quoted. */
typedef struct param {
    const char *name, *value;
    size_t name_len, value_len;
} param_t;

static const char *skip_ws(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

/* Read a token (or quoted string) at s; its bounds; where it ends. */
static const char *token(const char *s, const char **t, size_t *n)
{
    s = skip_ws(s);
    if (*s == '"') {
        s++;
        *t = s;
        while (*s && *s != '"')
            s++;
        *n = (size_t)(s - *t);
        if (*s == '"')
            s++;
        return skip_ws(s);
    }
    *t = s;
    while (*s && *s != ';' && *s != ',' && *s != '=' && *s != ' ' && *s != '\t')
        s++;
    *n = (size_t)(s - *t);
    return skip_ws(s);
}

static int is(const char *t, size_t n, const char *word)
{
    return strlen(word) == n && strncasecmp(t, word, n) == 0;
}

/* Window bits value: 8..15, -1 when bad. */
static int bits_value(const param_t *p)
{
    if (!p->value || p->value_len == 0 || p->value_len > 2)
        return -1;
    int v = 0;
    for (size_t i = 0; i < p->value_len; i++) {
        if (!isdigit((unsigned char)p->value[i]))
            return -1;
        v = v * 10 + (p->value[i] - '0');
    }
    if (p->value_len == 2 && p->value[0] == '0')
        return -1;
    return v >= 8 && v <= 15 ? v : -1;
}

/* Parse one extension of a list at *sp: its name and up to 8 params.
 * Returns the number of params, -1 when malformed; *sp moves past it and
 * its comma. */
static int extension(const char **sp, const char **name, size_t *name_len, param_t *ps)
{
    const char *s = token(*sp, name, name_len);
    int np = 0;
    int bad = *name_len == 0;
    while (*s == ';') {
        param_t p = {0};
        s = token(s + 1, &p.name, &p.name_len);
        if (*s == '=') {
            s = token(s + 1, &p.value, &p.value_len);
            if (p.value_len == 0)
                bad = 1;
        }
        if (p.name_len == 0)
            bad = 1;
        if (np < 8)
            ps[np++] = p;
        else
            bad = 1;
    }
    while (*s && *s != ',') {
        bad = 1;
        s++;
    }
    if (*s == ',')
        s++;
    *sp = s;
    return bad ? -1 : np;
}

/* Read an offer's (or answer's) parameters into m.  0, -1 when one is
 * unknown, repeated or has a bad value.  server_side: a
 * client_max_window_bits without value is allowed (an offer). */
static int read_params(const param_t *ps, int np, swco__ws_pmd_t *m, int offer)
{
    memset(m, 0, sizeof *m);
    m->on = 1;
    unsigned seen = 0;
    for (int i = 0; i < np; i++) {
        const param_t *p = &ps[i];
        unsigned bit;
        if (is(p->name, p->name_len, "server_no_context_takeover")) {
            bit = 1;
            if (p->value)
                return -1;
            m->server_no_context_takeover = 1;
        } else if (is(p->name, p->name_len, "client_no_context_takeover")) {
            bit = 2;
            if (p->value)
                return -1;
            m->client_no_context_takeover = 1;
        } else if (is(p->name, p->name_len, "server_max_window_bits")) {
            bit = 4;
            if ((m->server_max_window_bits = bits_value(p)) < 0)
                return -1;
        } else if (is(p->name, p->name_len, "client_max_window_bits")) {
            bit = 8;
            if (!p->value && offer)
                m->client_max_window_bits = -1; /* "any: tell me" */
            else if ((m->client_max_window_bits = bits_value(p)) < 0)
                return -1;
        } else {
            return -1;
        }
        if (seen & bit)
            return -1;
        seen |= bit;
    }
    return 0;
}

int swco__ws_pmd_negotiate(const char *offers, swco__ws_pmd_t *out, swco__hbuf_t *answer)
{
    memset(out, 0, sizeof *out);
    if (!offers)
        return 0;
    const char *s = offers;
    while (*skip_ws(s)) {
        const char *name;
        size_t name_len;
        param_t ps[8];
        int np = extension(&s, &name, &name_len, ps);
        if (np < 0 || !is(name, name_len, "permessage-deflate"))
            continue;
        swco__ws_pmd_t m;
        if (read_params(ps, np, &m, 1) < 0)
            continue; /* declined: try the next offer */
        /* Accepted as offered.  The client's window: we inflate with 15
         * bits whatever it uses, so no need to bound it. */
        if (m.client_max_window_bits < 0)
            m.client_max_window_bits = 0;
        int rc = swco__hbuf_adds(answer, "permessage-deflate");
        if (m.server_no_context_takeover)
            rc |= swco__hbuf_adds(answer, "; server_no_context_takeover");
        if (m.client_no_context_takeover)
            rc |= swco__hbuf_adds(answer, "; client_no_context_takeover");
        if (m.server_max_window_bits) {
            char b[40];
            snprintf(b, sizeof b, "; server_max_window_bits=%d", m.server_max_window_bits);
            rc |= swco__hbuf_adds(answer, b);
        }
        if (rc)
            return -ENOMEM;
        *out = m;
        return 1;
    }
    return 0;
}

int swco__ws_pmd_offer(const swco__ws_pmd_t *want, swco__hbuf_t *b)
{
    char t[64];
    int rc = swco__hbuf_adds(b, "permessage-deflate");
    if (want->server_no_context_takeover)
        rc |= swco__hbuf_adds(b, "; server_no_context_takeover");
    if (want->client_no_context_takeover)
        rc |= swco__hbuf_adds(b, "; client_no_context_takeover");
    if (want->server_max_window_bits) {
        snprintf(t, sizeof t, "; server_max_window_bits=%d", want->server_max_window_bits);
        rc |= swco__hbuf_adds(b, t);
    }
    if (want->client_max_window_bits > 0) {
        snprintf(t, sizeof t, "; client_max_window_bits=%d", want->client_max_window_bits);
        rc |= swco__hbuf_adds(b, t);
    } else {
        rc |= swco__hbuf_adds(b, "; client_max_window_bits");
    }
    return rc ? -ENOMEM : 0;
}

int swco__ws_pmd_check(const char *answer, const swco__ws_pmd_t *offered, swco__ws_pmd_t *out)
{
    memset(out, 0, sizeof *out);
    if (!answer || !*skip_ws(answer))
        return 0;
    const char *s = answer;
    const char *name;
    size_t name_len;
    param_t ps[8];
    int np = extension(&s, &name, &name_len, ps);
    if (np < 0 || !offered->on || !is(name, name_len, "permessage-deflate") || *skip_ws(s))
        return -EPROTO; /* not what we offered, or more than one */
    if (read_params(ps, np, out, 0) < 0)
        return -EPROTO;
    /* The answer may only tighten what was offered. */
    if (offered->server_no_context_takeover && !out->server_no_context_takeover)
        return -EPROTO;
    if (offered->server_max_window_bits &&
        (!out->server_max_window_bits || out->server_max_window_bits > offered->server_max_window_bits))
        return -EPROTO;
    if (offered->client_max_window_bits > 0 && out->client_max_window_bits > offered->client_max_window_bits)
        return -EPROTO;
    if (offered->client_max_window_bits > 0 && !out->client_max_window_bits)
        out->client_max_window_bits = offered->client_max_window_bits;
    if (offered->client_no_context_takeover)
        out->client_no_context_takeover = 1;
    return 0;
}
