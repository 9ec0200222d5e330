/* PROXY protocol v1 (text) and v2 (binary) header parser.
 *
 * A load balancer (HAProxy, nginx stream, a cloud balancer) that speaks the
 * PROXY protocol writes one header before the client's first byte, naming
 * the client's real address.  swco__proxy_parse() reads it from the start
 * of a connection's input: it is a pure function of the bytes it is given,
 * so the engine calls it again with more bytes until it has a verdict:
 *
 *   > 0     a whole header of that many bytes (*out filled);
 *   0       every byte so far may begin a header: read more;
 *   -EPROTO no header can begin with these bytes.
 *
 * The syntax is the one HAProxy's proxy-protocol.txt describes, read
 * strictly: v1 is "PROXY TCP4|TCP6 src dst sport dport\r\n" (single spaces,
 * numeric addresses of the named family, decimal ports without leading
 * zeros, at most 107 bytes with the CRLF) or "PROXY UNKNOWN...\r\n"; v2 is
 * the 12-byte signature, version 2, command LOCAL or PROXY, a family and
 * transport, a big-endian length and that many bytes of addresses followed
 * by TLVs, each of which must fit (their contents are skipped; a LOCAL
 * header's block is not read).  Incomplete input is refused as soon as it
 * can no longer become a header, so garbage is rejected after its first
 * wrong byte rather than after 107 of them.  *out is written only when a
 * whole header was read (out may be NULL).
 */
#include "server/server_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

/* ------------------------------------------------------------------ v1 */

#define V1_MAX 107 /* the longest line, CRLF included (TCP6 with all digits) */

static const char v1_prefix[] = "PROXY ";

enum { TOK_ADDR4, TOK_ADDR6, TOK_PORT };

/* Whether tok[0..n) may begin (complete 0) or is (complete 1) a token of
 * kind; a complete address or port is stored in *addr / *port. */
static int v1_token(const char *tok, size_t n, int kind, int complete, char *addr, int *port)
{
    if (n == 0)
        return !complete; /* an empty field: two spaces or a space at the end */
    if (kind == TOK_PORT) {
        if (n > 5 || (tok[0] == '0' && n > 1))
            return 0;
        long v = 0;
        for (size_t i = 0; i < n; i++) {
            if (tok[i] < '0' || tok[i] > '9')
                return 0;
            v = v * 10 + (tok[i] - '0');
        }
        if (complete && v > 65535)
            return 0;
        *port = (int)v;
        return 1;
    }
    size_t max = kind == TOK_ADDR4 ? INET_ADDRSTRLEN - 1 : INET6_ADDRSTRLEN - 1;
    if (n > max)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = tok[i];
        int ok = (ch >= '0' && ch <= '9') || ch == '.';
        if (kind == TOK_ADDR6)
            ok = ok || ch == ':' || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
        if (!ok)
            return 0;
    }
    if (!complete)
        return 1;
    unsigned char bin[sizeof(struct in6_addr)];
    memcpy(addr, tok, n);
    addr[n] = 0;
    return inet_pton(kind == TOK_ADDR4 ? AF_INET : AF_INET6, addr, bin) == 1;
}

static long v1_parse(const char *b, size_t len, swco__proxy_hdr_t *out)
{
    size_t lim = len < V1_MAX ? len : V1_MAX;
    const char *lf = memchr(b, '\n', lim);
    /* complete: the line's end is known.  When only its LF is missing,
     * the line is judged whole but the answer is "more" (consumed 0). */
    int complete = lf != NULL;
    size_t n; /* the line without its CRLF (or what has come of it) */
    if (complete) {
        if (lf == b || lf[-1] != '\r')
            return -EPROTO;
        n = (size_t)(lf - b) - 1;
    } else {
        if (len >= V1_MAX)
            return -EPROTO;
        n = len;
        if (b[n - 1] == '\r') {
            n--;
            complete = 1;
        }
    }
    if (memchr(b, '\r', n))
        return -EPROTO;
    size_t consumed = lf ? n + 2 : 0;

    size_t plen = sizeof v1_prefix - 1;
    if (memcmp(b, v1_prefix, n < plen ? n : plen) != 0)
        return -EPROTO;
    if (n < plen)
        return complete ? -EPROTO : 0;

    /* The protocol word. */
    size_t pos = plen;
    const char *sp = memchr(b + pos, ' ', n - pos);
    size_t wlen = sp ? (size_t)(sp - (b + pos)) : n - pos;
    static const char *const words[] = {"TCP4", "TCP6", "UNKNOWN"};
    int word = -1;
    for (int i = 0; i < 3; i++) {
        size_t k = strlen(words[i]);
        if (!sp && !complete) {
            if (wlen <= k && memcmp(b + pos, words[i], wlen) == 0)
                return 0;
        } else if (wlen == k && memcmp(b + pos, words[i], k) == 0) {
            word = i;
        }
    }
    if (word < 0)
        return -EPROTO;
    if (word == 2) {
        /* UNKNOWN: whatever follows on the line is ignored. */
        if (out && consumed) {
            memset(out, 0, sizeof *out);
            out->local = 1;
        }
        return (long)consumed;
    }
    if (!sp)
        return -EPROTO; /* "PROXY TCP4\r\n": the addresses are missing */
    pos += wlen + 1;

    int kinds[4] = {word == 0 ? TOK_ADDR4 : TOK_ADDR6, word == 0 ? TOK_ADDR4 : TOK_ADDR6,
                    TOK_PORT, TOK_PORT};
    char addr[2][INET6_ADDRSTRLEN];
    int port[2] = {0, 0};
    for (int f = 0; f < 4; f++) {
        sp = memchr(b + pos, ' ', n - pos);
        size_t tlen = sp ? (size_t)(sp - (b + pos)) : n - pos;
        int last = !sp; /* this field runs to the end of what we have */
        int tok_complete = !last || complete;
        if (!v1_token(b + pos, tlen, kinds[f], tok_complete, f < 2 ? addr[f] : NULL,
                      f < 2 ? NULL : &port[f - 2]))
            return -EPROTO;
        if (last) {
            if (!complete)
                return 0;
            if (f < 3)
                return -EPROTO; /* the line ended early */
        } else if (f == 3) {
            return -EPROTO; /* a fifth field */
        }
        pos += tlen + 1;
    }
    if (out && consumed) {
        memset(out, 0, sizeof *out);
        int family = word == 0 ? AF_INET : AF_INET6;
        if (swco__addr_numeric(&out->src, addr[0], port[0], family) != 0 ||
            swco__addr_numeric(&out->dst, addr[1], port[1], family) != 0)
            return -EPROTO; /* not reached: v1_token checked both */
    }
    return (long)consumed;
}

/* ------------------------------------------------------------------ v2 */

static const unsigned char v2_sig[12] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
                                         0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};

enum { V2_LOCAL = 0, V2_PROXY = 1 };
enum { V2_AF_UNSPEC = 0, V2_AF_INET = 1, V2_AF_INET6 = 2, V2_AF_UNIX = 3 };

/* Bytes of addresses each family carries. */
static size_t v2_addr_len(int af)
{
    switch (af) {
    case V2_AF_INET:
        return 12;
    case V2_AF_INET6:
        return 36;
    case V2_AF_UNIX:
        return 216;
    default:
        return 0;
    }
}

static void v2_inet(swco__addr_t *a, int family, const unsigned char *ip, const unsigned char *port)
{
    memset(a, 0, sizeof *a);
    uint16_t p;
    memcpy(&p, port, 2); /* network order already */
    if (family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&a->ss;
        in->sin_family = AF_INET;
        memcpy(&in->sin_addr, ip, 4);
        in->sin_port = p;
        a->len = sizeof *in;
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a->ss;
        in6->sin6_family = AF_INET6;
        memcpy(&in6->sin6_addr, ip, 16);
        in6->sin6_port = p;
        a->len = sizeof *in6;
    }
    swco__addr_describe(a);
}

static void v2_unix(swco__addr_t *a, const unsigned char *path)
{
    memset(a, 0, sizeof *a);
    struct sockaddr_un *un = (struct sockaddr_un *)&a->ss;
    un->sun_family = AF_UNIX;
    size_t n = strnlen((const char *)path, 108);
    if (n > sizeof un->sun_path - 1)
        n = sizeof un->sun_path - 1;
    memcpy(un->sun_path, path, n);
    a->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
    a->family = AF_UNIX;
    a->port = 0;
    size_t t = n < sizeof a->text - 1 ? n : sizeof a->text - 1;
    memcpy(a->text, path, t);
    a->text[t] = 0;
}

static long v2_parse(const unsigned char *b, size_t len, swco__proxy_hdr_t *out)
{
    if (memcmp(b, v2_sig, len < 12 ? len : 12) != 0)
        return -EPROTO;
    if (len < 13)
        return 0;
    int ver = b[12] >> 4, cmd = b[12] & 0x0f;
    if (ver != 2 || (cmd != V2_LOCAL && cmd != V2_PROXY))
        return -EPROTO;
    if (len < 14)
        return 0;
    int af = b[13] >> 4, proto = b[13] & 0x0f;
    if (cmd == V2_PROXY && (af > V2_AF_UNIX || proto > 2))
        return -EPROTO;
    if (len < 16)
        return 0;
    size_t body = (size_t)b[14] << 8 | b[15];
    size_t alen = cmd == V2_PROXY ? v2_addr_len(af) : 0;
    if (body < alen)
        return -EPROTO;
    if (len < 16 + body)
        return 0;

    /* TLVs after the addresses: each type, length and value must fit.  A
     * LOCAL header's block is discarded unread, as the protocol says. */
    const unsigned char *t = b + 16 + alen, *end = b + 16 + body;
    while (cmd == V2_PROXY && t < end) {
        if (end - t < 3)
            return -EPROTO;
        size_t vlen = (size_t)t[1] << 8 | t[2];
        if ((size_t)(end - t - 3) < vlen)
            return -EPROTO;
        t += 3 + vlen;
    }

    if (out) {
        memset(out, 0, sizeof *out);
        const unsigned char *a = b + 16;
        if (cmd == V2_LOCAL || af == V2_AF_UNSPEC) {
            out->local = 1;
        } else if (af == V2_AF_INET) {
            v2_inet(&out->src, AF_INET, a, a + 8);
            v2_inet(&out->dst, AF_INET, a + 4, a + 10);
        } else if (af == V2_AF_INET6) {
            v2_inet(&out->src, AF_INET6, a, a + 32);
            v2_inet(&out->dst, AF_INET6, a + 16, a + 34);
        } else {
            v2_unix(&out->src, a);
            v2_unix(&out->dst, a + 108);
        }
    }
    return (long)(16 + body);
}

long swco__proxy_parse(const char *buf, size_t len, swco__proxy_hdr_t *out)
{
    if (len == 0)
        return 0;
    if (!buf)
        return -EPROTO;
    if ((unsigned char)buf[0] == v2_sig[0])
        return v2_parse((const unsigned char *)buf, len, out);
    if (buf[0] == 'P')
        return v1_parse(buf, len, out);
    return -EPROTO;
}
