/* The coroutine WebSocket client: ws:// and wss:// over swco sockets.
 *
 * connect sends the upgrade request and checks the 101 (accept key,
 * subprotocol, permessage-deflate answer); the bytes that came after the
 * answer's head are the first frames.  recv feeds what the socket gives
 * to the shared frame reader (frame.c), which queues whole messages;
 * pings are answered on the spot.  Writes (send, ping, the automatic
 * pong, close) take a coroutine mutex so a reader coroutine and a writer
 * coroutine can share a client. */
#include "websocket/ws_int.h"

#include <swco/socket.h>
#include <swco/ssl.h>
#include <swco/sync.h>

#include <arpa/inet.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <strings.h>
#include <sys/socket.h>

enum { RBUF = 65536 };

static double now_s(void) { return (double)swco__now_ns() / 1e9; }

typedef struct msg {
    struct msg *next;
    int opcode;
    char *p;
    size_t len;
} msg_t;

struct swco_ws_client {
    /* options */
    int compress;
    swco__ws_pmd_t want;
    size_t max_frame;
    char *subprotocols, *origin, *ssl_ca_file, *ssl_host_name;
    int ssl_verify_peer;
    swco__kvlist_t headers;
    swco__arena_t arena;
    /* connection */
    swco_socket_t *sock;
    swco_mutex_t *wlock;
    int status;
    swco__kvlist_t resp_headers;
    char *subprotocol;
    swco__ws_pmd_t pmd;
    swco__ws_zip_t tx, rx;
    swco__ws_reader_t rd;
    swco__hbuf_t out, ztmp;
    char *rbuf;              /* socket reads (RBUF bytes) */
    msg_t *head, *tail;
    char *data;              /* the last message recv returned */
    size_t data_len;
    int open;                /* handshake done, no close yet */
    int close_sent, close_code;
    char *close_reason;
    int failed;              /* the reader's close code */
};

swco_ws_client_t *swco_ws_client_new(void)
{
    swco_ws_client_t *c = calloc(1, sizeof *c);
    if (!c) {
        swco__fail(-ENOMEM);
        return NULL;
    }
    c->max_frame = 2 * 1024 * 1024;
    c->ssl_verify_peer = 1;
    return c;
}

static void drop_conn(swco_ws_client_t *c)
{
    if (c->sock) {
        swco_socket_free(c->sock);
        c->sock = NULL;
    }
    c->open = 0;
}

static void clear_conn(swco_ws_client_t *c)
{
    drop_conn(c);
    while (c->head) {
        msg_t *m = c->head;
        c->head = m->next;
        free(m->p);
        free(m);
    }
    c->tail = NULL;
    free(c->data);
    c->data = NULL;
    c->data_len = 0;
    for (size_t i = 0; i < c->resp_headers.n; i++) {
        free((char *)c->resp_headers.v[i].name);
        free((char *)c->resp_headers.v[i].value);
    }
    swco__kv_free(&c->resp_headers);
    free(c->subprotocol);
    c->subprotocol = NULL;
    free(c->close_reason);
    c->close_reason = NULL;
    swco__ws_zip_free(&c->tx);
    swco__ws_zip_free(&c->rx);
    swco__ws_reader_free(&c->rd);
    swco__hbuf_free(&c->out);
    swco__hbuf_free(&c->ztmp);
    free(c->rbuf);
    c->rbuf = NULL;
    c->status = 0;
    c->close_sent = c->close_code = c->failed = 0;
    memset(&c->pmd, 0, sizeof c->pmd);
}

void swco_ws_client_free(swco_ws_client_t *c)
{
    if (!c)
        return;
    clear_conn(c);
    if (c->wlock)
        swco_mutex_free(c->wlock);
    swco__kv_free(&c->headers);
    swco__arena_free(&c->arena);
    free(c->subprotocols);
    free(c->origin);
    free(c->ssl_ca_file);
    free(c->ssl_host_name);
    free(c);
}

static int parse_bool(const char *v, int *out)
{
    if (!strcmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcasecmp(v, "on"))
        return *out = 1, 0;
    if (!strcmp(v, "0") || !strcasecmp(v, "false") || !strcasecmp(v, "no") || !strcasecmp(v, "off"))
        return *out = 0, 0;
    return SWCO_EOPTVALUE;
}

static int set_str(char **slot, const char *v)
{
    char *d = strdup(v);
    if (!d)
        return -ENOMEM;
    free(*slot);
    *slot = d;
    return 0;
}

int swco_ws_client_set(swco_ws_client_t *c, const char *name, const char *value)
{
    if (!c || !name || !value)
        return swco__fail(-EINVAL);
    int rc = 0;
    if (!strcmp(name, "compression")) {
        rc = parse_bool(value, &c->compress);
    } else if (!strcmp(name, "client_no_context_takeover")) {
        rc = parse_bool(value, &c->want.client_no_context_takeover);
    } else if (!strcmp(name, "server_no_context_takeover")) {
        rc = parse_bool(value, &c->want.server_no_context_takeover);
    } else if (!strcmp(name, "client_max_window_bits") || !strcmp(name, "server_max_window_bits")) {
        char *end;
        long v = strtol(value, &end, 10);
        if (*end || end == value || v < 8 || v > 15)
            return swco__fail(SWCO_EOPTVALUE);
        if (name[0] == 'c')
            c->want.client_max_window_bits = (int)v;
        else
            c->want.server_max_window_bits = (int)v;
    } else if (!strcmp(name, "max_frame_size")) {
        char *end;
        unsigned long long v = strtoull(value, &end, 10);
        if (*end || end == value || v == 0 || value[0] == '-')
            return swco__fail(SWCO_EOPTVALUE);
        c->max_frame = (size_t)v;
    } else if (!strcmp(name, "subprotocols")) {
        if (strpbrk(value, "\r\n"))
            return swco__fail(SWCO_EOPTVALUE);
        rc = set_str(&c->subprotocols, value);
    } else if (!strcmp(name, "origin")) {
        if (strpbrk(value, "\r\n"))
            return swco__fail(SWCO_EOPTVALUE);
        rc = set_str(&c->origin, value);
    } else if (!strcmp(name, "ssl_verify_peer")) {
        rc = parse_bool(value, &c->ssl_verify_peer);
    } else if (!strcmp(name, "ssl_ca_file")) {
        rc = set_str(&c->ssl_ca_file, value);
    } else if (!strcmp(name, "ssl_host_name")) {
        rc = set_str(&c->ssl_host_name, value);
    } else {
        rc = SWCO_EOPTION;
    }
    return rc < 0 ? swco__fail(rc) : 0;
}

static int bad_text(const char *s) { return !s || strpbrk(s, "\r\n") != NULL; }

int swco_ws_client_add_header(swco_ws_client_t *c, const char *name, const char *value)
{
    if (!c || bad_text(name) || bad_text(value) || !*name || strpbrk(name, ": \t"))
        return swco__fail(-EINVAL);
    char *n = swco__arena_strndup(&c->arena, name, strlen(name));
    char *v = swco__arena_strndup(&c->arena, value, strlen(value));
    if (!n || !v || swco__kv_add(&c->headers, n, strlen(n), v, strlen(v)) < 0)
        return swco__fail(-ENOMEM);
    return 0;
}

/* ------------------------------------------------------------- URL */

typedef struct url {
    int tls;
    char host[256];
    int port;
    char path[2048];
} url_t;

static int parse_url(const char *u, url_t *o)
{
    memset(o, 0, sizeof *o);
    if (!strncasecmp(u, "ws://", 5)) {
        u += 5;
    } else if (!strncasecmp(u, "wss://", 6)) {
        u += 6;
        o->tls = 1;
    } else {
        return -EINVAL;
    }
    o->port = o->tls ? 443 : 80;
    const char *h = u, *he;
    if (*u == '[') {
        h = u + 1;
        he = strchr(h, ']');
        if (!he)
            return -EINVAL;
        u = he + 1;
    } else {
        he = u;
        while (*he && *he != ':' && *he != '/' && *he != '?' && *he != '#')
            he++;
        u = he;
    }
    if (he == h || (size_t)(he - h) >= sizeof o->host)
        return -EINVAL;
    memcpy(o->host, h, (size_t)(he - h));
    if (*u == ':') {
        char *end;
        long p = strtol(u + 1, &end, 10);
        if (end == u + 1 || p <= 0 || p > 65535)
            return -EINVAL;
        o->port = (int)p;
        u = end;
    }
    if (*u && *u != '/' && *u != '?')
        return -EINVAL;
    const char *pe = strchr(u, '#');
    size_t plen = pe ? (size_t)(pe - u) : strlen(u);
    if (plen + 2 > sizeof o->path)
        return -EINVAL;
    if (*u != '/')
        o->path[0] = '/';
    strncat(o->path, u, plen);
    for (const char *p = o->path; *p; p++)
        if ((unsigned char)*p <= ' ')
            return -EINVAL;
    return 0;
}

/* ---------------------------------------------------------- handshake */

static int emit(void *arg, int opcode, swco__hbuf_t *buf);

static const char *hdr(const swco__kvlist_t *l, const char *name)
{
    const swco__kv_t *kv = swco__kv_find(l, name, 1);
    return kv ? kv->value : NULL;
}

/* Whether a comma-separated header value holds word (case-insensitive). */
static int has_word(const char *list, const char *word)
{
    size_t wn = strlen(word);
    for (const char *s = list; s && *s;) {
        while (*s == ' ' || *s == '\t' || *s == ',')
            s++;
        const char *e = s;
        while (*e && *e != ',')
            e++;
        const char *t = e;
        while (t > s && (t[-1] == ' ' || t[-1] == '\t'))
            t--;
        if ((size_t)(t - s) == wn && strncasecmp(s, word, wn) == 0)
            return 1;
        s = e;
    }
    return 0;
}

/* Parse the answer's head (status line and fields) at h[0..n). */
static int parse_head(swco_ws_client_t *c, char *h, size_t n)
{
    h[n] = 0;
    char *line = h, *eol = strstr(line, "\r\n");
    if (!eol || strncmp(line, "HTTP/1.", 7) != 0 || eol - line < 12 || line[8] != ' ')
        return -EPROTO;
    c->status = atoi(line + 9);
    for (line = eol + 2; *line && strncmp(line, "\r\n", 2) != 0; line = eol + 2) {
        eol = strstr(line, "\r\n");
        if (!eol)
            return -EPROTO;
        *eol = 0;
        char *colon = strchr(line, ':');
        if (!colon || colon == line)
            return -EPROTO;
        char *v = colon + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        char *ve = eol;
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
            ve--;
        char *nd = strndup(line, (size_t)(colon - line));
        char *vd = strndup(v, (size_t)(ve - v));
        if (!nd || !vd || swco__kv_add(&c->resp_headers, nd, strlen(nd), vd, strlen(vd)) < 0) {
            free(nd);
            free(vd);
            return -ENOMEM;
        }
    }
    return 0;
}

static int handshake(swco_ws_client_t *c, const url_t *u, double timeout)
{
    uint8_t rnd[16];
    if (RAND_bytes(rnd, sizeof rnd) != 1)
        return SWCO_ESSL;
    char key[32], expect[32];
    EVP_EncodeBlock((unsigned char *)key, rnd, sizeof rnd);
    swco__ws_accept_key(key, strlen(key), expect);

    swco__hbuf_t rq = {0};
    char line[512];
    int rc = 0;
    rc |= swco__hbuf_adds(&rq, "GET ");
    rc |= swco__hbuf_adds(&rq, u->path);
    rc |= swco__hbuf_adds(&rq, " HTTP/1.1\r\nHost: ");
    int v6 = strchr(u->host, ':') != NULL;
    int dflt = u->port == (u->tls ? 443 : 80);
    snprintf(line, sizeof line, "%s%s%s", v6 ? "[" : "", u->host, v6 ? "]" : "");
    rc |= swco__hbuf_adds(&rq, line);
    if (!dflt) {
        snprintf(line, sizeof line, ":%d", u->port);
        rc |= swco__hbuf_adds(&rq, line);
    }
    snprintf(line, sizeof line,
             "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
             "Sec-WebSocket-Version: 13\r\n",
             key);
    rc |= swco__hbuf_adds(&rq, line);
    if (c->subprotocols) {
        rc |= swco__hbuf_adds(&rq, "Sec-WebSocket-Protocol: ");
        rc |= swco__hbuf_adds(&rq, c->subprotocols);
        rc |= swco__hbuf_adds(&rq, "\r\n");
    }
    if (c->origin) {
        rc |= swco__hbuf_adds(&rq, "Origin: ");
        rc |= swco__hbuf_adds(&rq, c->origin);
        rc |= swco__hbuf_adds(&rq, "\r\n");
    }
    swco__ws_pmd_t offer = c->want;
    offer.on = c->compress;
    if (c->compress) {
        rc |= swco__hbuf_adds(&rq, "Sec-WebSocket-Extensions: ");
        rc |= swco__ws_pmd_offer(&offer, &rq);
        rc |= swco__hbuf_adds(&rq, "\r\n");
    }
    for (size_t i = 0; i < c->headers.n; i++) {
        rc |= swco__hbuf_adds(&rq, c->headers.v[i].name);
        rc |= swco__hbuf_adds(&rq, ": ");
        rc |= swco__hbuf_adds(&rq, c->headers.v[i].value);
        rc |= swco__hbuf_adds(&rq, "\r\n");
    }
    rc |= swco__hbuf_adds(&rq, "\r\n");
    if (rc) {
        swco__hbuf_free(&rq);
        return -ENOMEM;
    }
    long sent = swco_socket_send_all(c->sock, rq.p, rq.len, timeout);
    swco__hbuf_free(&rq);
    if (sent < 0)
        return (int)sent;

    /* The answer's head, up to 16 KiB. */
    enum { HEAD_MAX = 16384 };
    char *buf = malloc(HEAD_MAX + 1);
    if (!buf)
        return -ENOMEM;
    size_t have = 0;
    char *end = NULL;
    while (!end) {
        if (have == HEAD_MAX) {
            free(buf);
            return -EPROTO;
        }
        long n = swco_socket_recv(c->sock, buf + have, HEAD_MAX - have, timeout);
        if (n <= 0) {
            free(buf);
            return n == 0 ? SWCO_ENOCONN : (int)n;
        }
        size_t from = have > 3 ? have - 3 : 0;
        have += (size_t)n;
        buf[have] = 0;
        end = memmem(buf + from, have - from, "\r\n\r\n", 4);
    }
    size_t head_len = (size_t)(end - buf) + 4;
    char saved = buf[head_len];
    rc = parse_head(c, buf, head_len - 2);
    buf[head_len] = saved;
    if (rc == 0 && c->status != 101)
        rc = -EPROTO;
    const char *up = hdr(&c->resp_headers, "Upgrade");
    const char *conn = hdr(&c->resp_headers, "Connection");
    const char *acc = hdr(&c->resp_headers, "Sec-WebSocket-Accept");
    if (rc == 0 && (!up || strcasecmp(up, "websocket") || !conn || !has_word(conn, "upgrade") ||
                    !acc || strcmp(acc, expect)))
        rc = -EPROTO;
    const char *proto = hdr(&c->resp_headers, "Sec-WebSocket-Protocol");
    if (rc == 0 && proto) {
        if (!c->subprotocols || !has_word(c->subprotocols, proto))
            rc = -EPROTO;
        else if (!(c->subprotocol = strdup(proto)))
            rc = -ENOMEM;
    }
    if (rc == 0)
        rc = swco__ws_pmd_check(hdr(&c->resp_headers, "Sec-WebSocket-Extensions"), &offer, &c->pmd);
    if (rc == 0) {
        if (c->pmd.on) {
            swco__ws_zip_init(&c->tx, 0, c->pmd.client_max_window_bits,
                              c->pmd.client_no_context_takeover, 1);
            swco__ws_zip_init(&c->rx, 1, c->pmd.server_max_window_bits,
                              c->pmd.server_no_context_takeover, 0);
        }
        swco__ws_reader_init(&c->rd, 0, c->max_frame, c->pmd.on ? &c->rx : NULL);
        c->open = 1;
        /* frames that came with the answer */
        if (have > head_len) {
            int frc = swco__ws_reader_feed(&c->rd, buf + head_len, have - head_len, emit, c);
            if (frc)
                c->failed = frc;
        }
    }
    free(buf);
    return rc;
}

int swco_ws_client_connect(swco_ws_client_t *c, const char *url, double timeout)
{
    if (!c || !url)
        return swco__fail(-EINVAL);
    url_t u;
    if (parse_url(url, &u) < 0)
        return swco__fail(-EINVAL);
    if (timeout <= 0)
        timeout = 10;
    clear_conn(c);
    if (!c->wlock && !(c->wlock = swco_mutex_new()))
        return swco__fail(-ENOMEM);
    int v6 = strchr(u.host, ':') != NULL;
    c->sock = swco_socket_new(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
    if (!c->sock)
        return swco__fail(swco_last_error());
    int rc = 0;
    if (u.tls) {
        swco_ssl_ctx_t *ctx = swco_ssl_ctx_new(0);
        if (!ctx)
            rc = swco_last_error();
        if (rc == 0 && !c->ssl_verify_peer)
            rc = swco_ssl_ctx_set_verify_peer(ctx, 0);
        if (rc == 0 && c->ssl_ca_file)
            rc = swco_ssl_ctx_set_ca(ctx, c->ssl_ca_file, NULL);
        if (rc == 0)
            rc = swco_socket_enable_ssl(c->sock, ctx, c->ssl_host_name ? c->ssl_host_name : u.host);
        if (ctx)
            swco_ssl_ctx_free(ctx);
    }
    double t0 = now_s();
    if (rc == 0)
        rc = swco_socket_connect(c->sock, u.host, u.port, timeout);
    if (rc == 0) {
        swco_socket_set_nodelay(c->sock, 1);
        double left = timeout - (now_s() - t0);
        rc = handshake(c, &u, left > 0.001 ? left : 0.001);
    }
    if (rc < 0) {
        drop_conn(c);
        return swco__fail(rc);
    }
    return 0;
}

int swco_ws_client_status(const swco_ws_client_t *c) { return c ? c->status : 0; }

const char *swco_ws_client_header(const swco_ws_client_t *c, const char *name)
{
    return c && name ? hdr(&c->resp_headers, name) : NULL;
}

const char *swco_ws_client_subprotocol(const swco_ws_client_t *c)
{
    return c ? c->subprotocol : NULL;
}

int swco_ws_client_compression(const swco_ws_client_t *c) { return c && c->pmd.on; }

/* ------------------------------------------------------------ writing */

/* Build and send one frame under the write lock. */
static int write_frame(swco_ws_client_t *c, int opcode, int more, const void *data, size_t len,
                       int may_compress, double timeout)
{
    if (!c->sock)
        return SWCO_ECLOSED;
    int rc = swco_mutex_lock(c->wlock, -1);
    if (rc < 0)
        return rc;
    c->out.len = 0;
    int compressed = 0;
    if (may_compress && c->pmd.on && swco__ws_zip_usable(&c->tx)) {
        c->ztmp.len = 0;
        rc = swco__ws_deflate(&c->tx, data, len, &c->ztmp);
        if (rc == 0) {
            data = c->ztmp.p;
            len = c->ztmp.len;
            compressed = 1;
        }
    }
    if (rc == 0)
        rc = swco__ws_frame_build(&c->out, opcode, more, compressed, data, len, 1);
    if (rc == 0 && c->sock) {
        long n = swco_socket_send_all(c->sock, c->out.p, c->out.len, timeout > 0 ? timeout : -1);
        rc = n < 0 ? (int)n : 0;
    } else if (rc == 0) {
        rc = SWCO_ECLOSED;
    }
    if (c->out.cap > 65536) {
        swco__hbuf_free(&c->out);
        swco__hbuf_free(&c->ztmp);
    }
    swco_mutex_unlock(c->wlock);
    return rc;
}

int swco_ws_client_send(swco_ws_client_t *c, const void *data, size_t len, int opcode, int flags,
                        double timeout)
{
    if (!c || (!data && len))
        return swco__fail(-EINVAL);
    int more = flags & SWCO_WS_FLAG_MORE;
    if (opcode != SWCO_WS_TEXT && opcode != SWCO_WS_BINARY && opcode != SWCO_WS_CONTINUATION &&
        opcode != SWCO_WS_PING && opcode != SWCO_WS_PONG)
        return swco__fail(-EINVAL);
    if (opcode >= 8 && (len > 125 || more))
        return swco__fail(-EINVAL);
    if (!c->open || c->close_sent)
        return swco__fail(SWCO_ECLOSED);
    int may = !more && !(flags & SWCO_WS_FLAG_NO_COMPRESS) &&
              (opcode == SWCO_WS_TEXT || opcode == SWCO_WS_BINARY);
    int rc = write_frame(c, opcode, more, data, len, may, timeout);
    return rc < 0 ? swco__fail(rc) : 0;
}

int swco_ws_client_ping(swco_ws_client_t *c, const void *data, size_t len)
{
    return swco_ws_client_send(c, data, len, SWCO_WS_PING, 0, 0);
}

static int send_close(swco_ws_client_t *c, int code, const char *reason)
{
    if (c->close_sent)
        return 0;
    c->close_sent = 1;
    char pl[125];
    size_t n = swco__ws_close_payload(pl, code, reason);
    return write_frame(c, SWCO_WS_CLOSE, 0, pl, n, 0, 5);
}

/* ------------------------------------------------------------ reading */

static void set_reason(swco_ws_client_t *c, const char *r, size_t n)
{
    free(c->close_reason);
    c->close_reason = strndup(r, n);
}

static int emit(void *arg, int opcode, swco__hbuf_t *buf)
{
    swco_ws_client_t *c = arg;
    if (opcode == SWCO_WS_PING) {
        if (!c->close_sent)
            write_frame(c, SWCO_WS_PONG, 0, buf->p, buf->len, 0, 5);
        return 0;
    }
    msg_t *m = malloc(sizeof *m);
    if (!m)
        return SWCO_WS_CLOSE_SERVER_ERROR;
    m->next = NULL;
    m->opcode = opcode;
    m->len = buf->len;
    if (opcode < 8) {
        m->p = buf->p; /* take the message buffer */
        buf->p = NULL;
        buf->len = buf->cap = 0;
    } else {
        m->p = malloc(buf->len + 1);
        if (!m->p) {
            free(m);
            return SWCO_WS_CLOSE_SERVER_ERROR;
        }
        memcpy(m->p, buf->p, buf->len + 1);
    }
    if (c->tail)
        c->tail->next = m;
    else
        c->head = m;
    c->tail = m;
    return 0;
}

static int fail_code_to_err(int code)
{
    return code == SWCO_WS_CLOSE_TOO_BIG ? -EMSGSIZE : code == SWCO_WS_CLOSE_SERVER_ERROR ? -ENOMEM : -EPROTO;
}

int swco_ws_client_recv(swco_ws_client_t *c, double timeout)
{
    if (!c)
        return swco__fail(-EINVAL);
    free(c->data);
    c->data = NULL;
    c->data_len = 0;
    double deadline = timeout > 0 ? now_s() + timeout : 0;
    for (;;) {
        if (c->head) {
            msg_t *m = c->head;
            c->head = m->next;
            if (!c->head)
                c->tail = NULL;
            int op = m->opcode;
            c->data = m->p;
            c->data_len = m->len;
            free(m);
            if (op == SWCO_WS_CLOSE) {
                if (c->data_len >= 2) {
                    c->close_code = (uint8_t)c->data[0] << 8 | (uint8_t)c->data[1];
                    set_reason(c, c->data + 2, c->data_len - 2);
                } else {
                    c->close_code = SWCO_WS_CLOSE_NO_STATUS;
                    set_reason(c, "", 0);
                }
                if (!c->close_sent)
                    send_close(c, c->close_code == SWCO_WS_CLOSE_NO_STATUS ? SWCO_WS_CLOSE_NORMAL
                                                                            : c->close_code,
                               NULL);
                drop_conn(c);
            }
            return op;
        }
        if (c->failed) {
            int code = c->failed;
            if (c->sock) {
                send_close(c, code, NULL);
                drop_conn(c);
                if (!c->close_code) {
                    c->close_code = SWCO_WS_CLOSE_ABNORMAL;
                    set_reason(c, "", 0);
                }
                return swco__fail(fail_code_to_err(code));
            }
        }
        if (!c->sock)
            return swco__fail(SWCO_ECLOSED);
        double t = -1;
        if (deadline) {
            t = deadline - now_s();
            if (t <= 0)
                return swco__fail(-ETIMEDOUT);
        }
        if (!c->rbuf && !(c->rbuf = malloc(RBUF)))
            return swco__fail(-ENOMEM);
        long n = swco_socket_recv(c->sock, c->rbuf, RBUF, t);
        if (n == -ETIMEDOUT)
            return swco__fail(-ETIMEDOUT);
        if (n <= 0) {
            drop_conn(c);
            if (!c->close_code) {
                c->close_code = SWCO_WS_CLOSE_ABNORMAL;
                set_reason(c, "", 0);
            }
            return swco__fail(n == 0 || n == -ECONNRESET || n == -EPIPE ? SWCO_ENOCONN : (int)n);
        }
        int rc = swco__ws_reader_feed(&c->rd, c->rbuf, (size_t)n, emit, c);
        if (rc)
            c->failed = rc;
    }
}

const char *swco_ws_client_data(const swco_ws_client_t *c, size_t *len)
{
    if (len)
        *len = c ? c->data_len : 0;
    return c ? c->data : NULL;
}

int swco_ws_client_close(swco_ws_client_t *c, int code, const char *reason, double timeout)
{
    if (!c)
        return swco__fail(-EINVAL);
    if (code == 0)
        code = SWCO_WS_CLOSE_NORMAL;
    if (!swco__ws_close_code_valid(code) || (reason && strlen(reason) > 123))
        return swco__fail(-EINVAL);
    if (!c->sock)
        return 0;
    if (timeout <= 0)
        timeout = 5;
    int rc = send_close(c, code, reason);
    if (rc < 0) {
        drop_conn(c);
        return 0;
    }
    double deadline = now_s() + timeout;
    for (;;) {
        double t = deadline - now_s();
        if (t <= 0) {
            drop_conn(c);
            return swco__fail(-ETIMEDOUT);
        }
        int op = swco_ws_client_recv(c, t);
        if (op == SWCO_WS_CLOSE || (op < 0 && op != -ETIMEDOUT))
            break;
        if (op == -ETIMEDOUT) {
            drop_conn(c);
            return swco__fail(-ETIMEDOUT);
        }
    }
    drop_conn(c);
    return 0;
}

int swco_ws_client_close_code(const swco_ws_client_t *c) { return c ? c->close_code : 0; }

const char *swco_ws_client_close_reason(const swco_ws_client_t *c)
{
    return c && c->close_reason ? c->close_reason : "";
}
