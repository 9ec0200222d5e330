/* The WebSocket frame codec (RFC 6455 section 5), shared by the server and
 * the client: frames built in one buffer, and a streaming reader.
 *
 * The reader never keeps the input: it reads a frame's header (2 to 14
 * bytes) into a small array, then unmasks the payload straight into the
 * message being assembled (or a control frame's own buffer), so a
 * message costs one copy whatever the reads cut it into.  Control frames
 * may come between the fragments of a message, as section 5.4 allows. */
#include "websocket/ws_int.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

int swco__ws_accept_key(const char *key, size_t key_len, char out[32])
{
    if (!key || key_len == 0 || key_len > 64)
        return -EINVAL;
    char buf[64 + sizeof SWCO__WS_GUID];
    memcpy(buf, key, key_len);
    memcpy(buf + key_len, SWCO__WS_GUID, sizeof SWCO__WS_GUID - 1);
    unsigned char md[SHA_DIGEST_LENGTH];
    SHA1((const unsigned char *)buf, key_len + sizeof SWCO__WS_GUID - 1, md);
    EVP_EncodeBlock((unsigned char *)out, md, SHA_DIGEST_LENGTH); /* 28 chars + NUL */
    return 0;
}

/* Masking keys come from the CSPRNG (RFC 6455 section 10.3), fetched a
 * page at a time: one RAND_bytes call per 1024 frames. */
static SWCO__TLS uint8_t key_pool[4096];
static SWCO__TLS unsigned key_left;

static void mask_key(uint8_t key[4])
{
    if (key_left < 4) {
        if (RAND_bytes(key_pool, sizeof key_pool) != 1) {
            for (size_t i = 0; i < sizeof key_pool; i++)
                key_pool[i] = (uint8_t)rand();
        }
        key_left = sizeof key_pool;
    }
    key_left -= 4;
    memcpy(key, key_pool + key_left, 4);
}

void swco__ws_mask(uint8_t *dst, const uint8_t *src, size_t n, const uint8_t key[4], unsigned pos)
{
    size_t i = 0;
    if (n >= 16) {
        /* 8 bytes at a time with the key rotated to where we start */
        uint8_t k8[8];
        for (int j = 0; j < 8; j++)
            k8[j] = key[(pos + j) & 3];
        uint64_t k;
        memcpy(&k, k8, 8);
        for (; i + 8 <= n; i += 8) {
            uint64_t w;
            memcpy(&w, src + i, 8);
            w ^= k;
            memcpy(dst + i, &w, 8);
        }
    }
    for (; i < n; i++)
        dst[i] = src[i] ^ key[(pos + i) & 3];
}

int swco__ws_frame_build(swco__hbuf_t *b, int opcode, int more, int compressed, const void *data,
                         size_t len, int masked)
{
    uint8_t h[14];
    size_t n = 2;
    h[0] = (uint8_t)((more ? 0 : 0x80) | (compressed ? 0x40 : 0) | (opcode & 0x0f));
    if (len < 126) {
        h[1] = (uint8_t)len;
    } else if (len <= 0xffff) {
        h[1] = 126;
        h[2] = (uint8_t)(len >> 8);
        h[3] = (uint8_t)len;
        n = 4;
    } else {
        h[1] = 127;
        for (int i = 0; i < 8; i++)
            h[2 + i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
        n = 10;
    }
    uint8_t key[4] = {0, 0, 0, 0};
    if (masked) {
        h[1] |= 0x80;
        mask_key(key);
        memcpy(h + n, key, 4);
        n += 4;
    }
    if (swco__hbuf_reserve(b, n + len) < 0)
        return -ENOMEM;
    memcpy(b->p + b->len, h, n);
    b->len += n;
    char *dst = b->p + b->len;
    if (len)
        memcpy(dst, data, len);
    if (masked)
        swco__ws_mask((uint8_t *)dst, (const uint8_t *)dst, len, key, 0);
    b->len += len;
    b->p[b->len] = 0;
    return 0;
}

int swco__ws_close_code_valid(int code)
{
    if (code >= 1000 && code <= 1003)
        return 1;
    if (code >= 1007 && code <= 1014)
        return 1;
    return code >= 3000 && code <= 4999;
}

size_t swco__ws_close_payload(char out[125], int code, const char *reason)
{
    if (code == 0)
        return 0;
    out[0] = (char)(code >> 8);
    out[1] = (char)code;
    size_t n = reason ? strlen(reason) : 0;
    if (n > 123) {
        n = 123;
        /* do not cut a character in two */
        while (n > 0 && ((uint8_t)reason[n] & 0xc0) == 0x80)
            n--;
    }
    if (n)
        memcpy(out + 2, reason, n);
    return n + 2;
}

/* ---------------------------------------------------------------- UTF-8 */

/* state: bits 0-7 continuation bytes still expected, 8-15 and 16-23 the
 * range the next one must be in (the first continuation of E0, ED, F0, F4
 * is narrower: no overlong forms, no surrogates, nothing past U+10FFFF). */
int swco__ws_utf8(uint32_t *state, const uint8_t *s, size_t n)
{
    uint32_t st = *state;
    if (st == 0xffffffffu)
        return -1;
    unsigned need = st & 0xff, lo = (st >> 8) & 0xff, hi = (st >> 16) & 0xff;
    size_t i = 0;
    while (i < n) {
        if (need == 0) {
            /* fast path: ASCII runs, 8 bytes at a time */
            while (i + 8 <= n) {
                uint64_t w;
                memcpy(&w, s + i, 8);
                if (w & 0x8080808080808080ull)
                    break;
                i += 8;
            }
            if (i >= n)
                break;
            uint8_t c = s[i++];
            if (c < 0x80)
                continue;
            lo = 0x80, hi = 0xbf;
            if (c >= 0xc2 && c <= 0xdf) {
                need = 1;
            } else if (c >= 0xe0 && c <= 0xef) {
                need = 2;
                if (c == 0xe0)
                    lo = 0xa0;
                else if (c == 0xed)
                    hi = 0x9f;
            } else if (c >= 0xf0 && c <= 0xf4) {
                need = 3;
                if (c == 0xf0)
                    lo = 0x90;
                else if (c == 0xf4)
                    hi = 0x8f;
            } else {
                *state = 0xffffffffu;
                return -1;
            }
        } else {
            uint8_t c = s[i++];
            if (c < lo || c > hi) {
                *state = 0xffffffffu;
                return -1;
            }
            need--;
            lo = 0x80, hi = 0xbf;
        }
    }
    *state = need ? (need | lo << 8 | hi << 16) : 0;
    return (int)(*state != 0);
}

/* --------------------------------------------------------------- reader */

void swco__ws_reader_init(swco__ws_reader_t *r, int server, size_t max_size,
                          swco__ws_zip_t *inflater)
{
    memset(r, 0, sizeof *r);
    r->server = server;
    r->max_size = max_size;
    r->inflater = inflater;
    r->hdr_need = 2;
}

void swco__ws_reader_free(swco__ws_reader_t *r)
{
    swco__hbuf_free(&r->msg);
    swco__hbuf_free(&r->ctl);
    swco__hbuf_free(&r->tmp);
}

static int fail(swco__ws_reader_t *r, int code)
{
    r->failed = code;
    return code;
}

/* The header is complete in r->hdr: check it.  0 or a close code. */
static int header_done(swco__ws_reader_t *r)
{
    const uint8_t *h = r->hdr;
    r->fin = h[0] >> 7;
    r->rsv1 = (h[0] >> 6) & 1;
    r->opcode = h[0] & 0x0f;
    int masked = h[1] >> 7;
    uint64_t len = h[1] & 0x7f;
    unsigned at = 2;
    if (len == 126) {
        len = (uint64_t)h[2] << 8 | h[3];
        at = 4;
    } else if (len == 127) {
        len = 0;
        for (int i = 0; i < 8; i++)
            len = len << 8 | h[2 + i];
        at = 10;
        if (len >> 63)
            return fail(r, SWCO_WS_CLOSE_PROTOCOL_ERROR);
    }
    if (masked)
        memcpy(r->mask, h + at, 4);
    r->mask_pos = 0;
    if (h[0] & 0x30) /* RSV2, RSV3: no extension of ours uses them */
        return fail(r, SWCO_WS_CLOSE_PROTOCOL_ERROR);
    if (masked != r->server)
        return fail(r, SWCO_WS_CLOSE_PROTOCOL_ERROR);
    int op = r->opcode;
    if (op >= 8) {
        if (op > SWCO_WS_PONG || !r->fin || len > 125 || r->rsv1)
            return fail(r, SWCO_WS_CLOSE_PROTOCOL_ERROR);
        r->ctl.len = 0;
        if (swco__hbuf_reserve(&r->ctl, 125) < 0)
            return fail(r, SWCO_WS_CLOSE_SERVER_ERROR);
    } else if (op == SWCO_WS_CONTINUATION) {
        if (!r->msg_opcode || r->rsv1)
            return fail(r, SWCO_WS_CLOSE_PROTOCOL_ERROR);
    } else if (op == SWCO_WS_TEXT || op == SWCO_WS_BINARY) {
        if (r->msg_opcode)
            return fail(r, SWCO_WS_CLOSE_PROTOCOL_ERROR);
        if (r->rsv1 && !r->inflater)
            return fail(r, SWCO_WS_CLOSE_PROTOCOL_ERROR);
        r->msg_opcode = op;
        r->msg_compressed = r->rsv1;
        r->utf8 = 0;
        r->msg.len = 0;
    } else {
        return fail(r, SWCO_WS_CLOSE_PROTOCOL_ERROR);
    }
    if (op < 8 && r->max_size && (len > r->max_size || r->msg.len + len > r->max_size))
        return fail(r, SWCO_WS_CLOSE_TOO_BIG);
    /* Room for the payload grows as it comes: a header alone never
     * makes us allocate what it announces. */
    if (op < 8 && len && swco__hbuf_reserve(&r->msg, len < 65536 ? (size_t)len : 65536) < 0)
        return fail(r, SWCO_WS_CLOSE_SERVER_ERROR);
    r->left = len;
    r->in_payload = 1;
    return 0;
}

static int control_done(swco__ws_reader_t *r, swco__ws_emit_fn emit, void *arg)
{
    swco__hbuf_t *c = &r->ctl;
    if (!c->p && swco__hbuf_reserve(c, 0) < 0)
        return fail(r, SWCO_WS_CLOSE_SERVER_ERROR);
    c->p[c->len] = 0;
    if (r->opcode == SWCO_WS_CLOSE && c->len > 0) {
        if (c->len == 1)
            return fail(r, SWCO_WS_CLOSE_PROTOCOL_ERROR);
        int code = (uint8_t)c->p[0] << 8 | (uint8_t)c->p[1];
        if (!swco__ws_close_code_valid(code))
            return fail(r, SWCO_WS_CLOSE_PROTOCOL_ERROR);
        uint32_t st = 0;
        if (swco__ws_utf8(&st, (const uint8_t *)c->p + 2, c->len - 2) != 0)
            return fail(r, SWCO_WS_CLOSE_INVALID_PAYLOAD);
    }
    return emit(arg, r->opcode, c);
}

static int message_done(swco__ws_reader_t *r, swco__ws_emit_fn emit, void *arg)
{
    swco__hbuf_t *m = &r->msg;
    int op = r->msg_opcode;
    r->msg_opcode = 0;
    if (r->msg_compressed) {
        r->tmp.len = 0;
        int rc = swco__ws_inflate(r->inflater, m->p, m->len, &r->tmp, r->max_size);
        if (rc == -EMSGSIZE)
            return fail(r, SWCO_WS_CLOSE_TOO_BIG);
        if (rc == -ENOMEM)
            return fail(r, SWCO_WS_CLOSE_SERVER_ERROR);
        if (rc < 0)
            return fail(r, SWCO_WS_CLOSE_INVALID_PAYLOAD);
        m = &r->tmp;
        if (op == SWCO_WS_TEXT) {
            uint32_t st = 0;
            if (swco__ws_utf8(&st, (const uint8_t *)m->p, m->len) != 0)
                return fail(r, SWCO_WS_CLOSE_INVALID_PAYLOAD);
        }
    } else if (op == SWCO_WS_TEXT && r->utf8 != 0) {
        return fail(r, SWCO_WS_CLOSE_INVALID_PAYLOAD); /* ends inside a character */
    }
    if (!m->p && swco__hbuf_reserve(m, 0) < 0)
        return fail(r, SWCO_WS_CLOSE_SERVER_ERROR);
    m->p[m->len] = 0;
    int rc = emit(arg, op, m);
    m->len = 0;
    return rc;
}

int swco__ws_reader_feed(swco__ws_reader_t *r, const char *data, size_t len,
                         swco__ws_emit_fn emit, void *arg)
{
    const uint8_t *p = (const uint8_t *)data;
    size_t i = 0;
    if (r->failed)
        return r->failed;
    while (i < len || (r->in_payload && r->left == 0)) {
        if (!r->in_payload) {
            /* header: 2 bytes, then as many as they announce */
            while (r->hdr_have < r->hdr_need && i < len)
                r->hdr[r->hdr_have++] = p[i++];
            if (r->hdr_have < r->hdr_need)
                return 0;
            if (r->hdr_need == 2) {
                unsigned l7 = r->hdr[1] & 0x7f;
                unsigned need = 2 + (l7 == 126 ? 2 : l7 == 127 ? 8 : 0) + ((r->hdr[1] >> 7) ? 4 : 0);
                if (need > 2) {
                    r->hdr_need = need;
                    continue;
                }
            }
            r->hdr_have = 0;
            r->hdr_need = 2;
            int rc = header_done(r);
            if (rc)
                return rc;
        }
        /* payload */
        size_t take = len - i;
        if ((uint64_t)take > r->left)
            take = (size_t)r->left;
        int control = r->opcode >= 8;
        swco__hbuf_t *dst = control ? &r->ctl : &r->msg;
        if (take) {
            if (!control && swco__hbuf_reserve(dst, take) < 0)
                return fail(r, SWCO_WS_CLOSE_SERVER_ERROR);
            char *o = dst->p + dst->len;
            if (r->server) {
                swco__ws_mask((uint8_t *)o, p + i, take, r->mask, r->mask_pos);
                r->mask_pos = (unsigned)((r->mask_pos + take) & 3);
            } else {
                memcpy(o, p + i, take);
            }
            if (!control && r->msg_opcode == SWCO_WS_TEXT && !r->msg_compressed &&
                swco__ws_utf8(&r->utf8, (const uint8_t *)o, take) < 0)
                return fail(r, SWCO_WS_CLOSE_INVALID_PAYLOAD);
            dst->len += take;
            i += take;
            r->left -= take;
        }
        if (r->left)
            return 0;
        r->in_payload = 0;
        int rc = 0;
        if (control)
            rc = control_done(r, emit, arg);
        else if (r->fin)
            rc = message_done(r, emit, arg);
        if (rc)
            return rc;
    }
    return 0;
}
