/* Percent-decoding, query strings and urlencoded bodies, Cookie headers,
 * and the percent-encoding of cookie values we send.
 *
 * Input here is whatever a client sent: a bad escape ("%zz", a '%' at the
 * end) is kept literally, as PHP does, and nothing reads past n. */
#include "http/http_int.h"

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

char *swco__http_decode(swco__arena_t *a, const char *s, size_t n, int plus, size_t *out_len)
{
    /* decoding never lengthens */
    char *out = swco__arena_alloc(a, n + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%' && n - i > 2) {
            int hi = hexval((unsigned char)s[i + 1]);
            int lo = hexval((unsigned char)s[i + 2]);
            if (hi >= 0 && lo >= 0) {
                out[o++] = (char)(hi << 4 | lo);
                i += 2;
                continue;
            }
        }
        out[o++] = plus && c == '+' ? ' ' : (char)c;
    }
    out[o] = 0;
    if (out_len)
        *out_len = o;
    return out;
}

int swco__http_parse_query(swco__arena_t *a, swco__kvlist_t *l, const char *s, size_t n)
{
    const char *p = s, *end = s + n;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *e = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(e - p));
        const char *ne = eq ? eq : e;
        if (ne > p) { /* "=x" and "" have no name: skipped, as PHP does */
            size_t nl, vl;
            char *name = swco__http_decode(a, p, (size_t)(ne - p), 1, &nl);
            char *value = eq ? swco__http_decode(a, eq + 1, (size_t)(e - eq - 1), 1, &vl)
                             : swco__arena_strndup(a, "", 0);
            if (!eq)
                vl = 0;
            if (!name || !value || swco__kv_add(l, name, nl, value, vl) < 0)
                return -ENOMEM;
        }
        p = e + (amp ? 1 : 0);
    }
    return 0;
}

static int ows(char c) { return c == ' ' || c == '\t'; }

int swco__http_parse_cookies(swco__arena_t *a, swco__kvlist_t *l, const char *s, size_t n)
{
    const char *p = s, *end = s + n;
    while (p < end) {
        const char *semi = memchr(p, ';', (size_t)(end - p));
        const char *e = semi ? semi : end;
        const char *eq = memchr(p, '=', (size_t)(e - p));
        const char *nb = p, *ne = eq ? eq : e;
        while (nb < ne && ows(*nb))
            nb++;
        while (ne > nb && ows(ne[-1]))
            ne--;
        if (ne > nb) {
            const char *vb = eq ? eq + 1 : e, *ve = e;
            while (vb < ve && ows(*vb))
                vb++;
            while (ve > vb && ows(ve[-1]))
                ve--;
            /* cookie-value may be a DQUOTE-wrapped cookie-octet string */
            if (ve - vb >= 2 && *vb == '"' && ve[-1] == '"')
                vb++, ve--;
            size_t vl;
            /* no '+' -> ' ': base64 values (tokens) stay intact */
            char *name = swco__arena_strndup(a, nb, (size_t)(ne - nb));
            char *value = swco__http_decode(a, vb, (size_t)(ve - vb), 0, &vl);
            if (!name || !value || swco__kv_add(l, name, (size_t)(ne - nb), value, vl) < 0)
                return -ENOMEM;
        }
        p = e + (semi ? 1 : 0);
    }
    return 0;
}

int swco__http_encode_cookie(swco__hbuf_t *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(s);
    /* at most three bytes out per byte in */
    if (n > (SIZE_MAX - 1) / 3 || swco__hbuf_reserve(b, n * 3) < 0)
        return -ENOMEM;
    char *o = b->p + b->len;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            *o++ = (char)c;
        } else {
            *o++ = '%';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
    }
    b->len = (size_t)(o - b->p);
    b->p[b->len] = 0;
    return 0;
}
