/* HTTP/1.x on a listener's connections (swco__http1_proto), on llhttp.
 *
 * protocol.c hands each connection's bytes to h1_receive on the worker's
 * loop.  They go through llhttp (strict: no lenient flag) with callbacks
 * that only note where the request line and fields are; once a request's
 * head is in, it is checked (limits, framing, smuggling), built into a
 * request whose strings live in one arena, and its handler starts in a
 * coroutine.  Body bytes llhttp decodes (Content-Length or chunked) queue
 * for the handler's reads (req->src); past BODY_BOUND unread bytes the
 * connection is paused until the handler catches up.  llhttp pauses at the
 * end of each message: bytes after it (pipelined requests) wait until the
 * handler returned and its response ended, so responses go out in order.
 *
 * Output: response.c drives the backend below (head, body, sendfile,
 * finish), which writes HTTP/1: a status line and fields with the Date
 * and framing (Content-Length, or chunked with trailers, or until close
 * for HTTP/1.0), headers and a small body in one send.
 *
 * Refused requests (the handler never sees them) get a status and
 * "Connection: close", and the connection closes once it is written.
 *
 * One timer per connection, lazily re-armed: it carries a deadline that
 * moves with the connection's phase (idle: keep-alive, head: header
 * timeout, discarding a body: body timeout), so a keep-alive request
 * costs no timer operation. */
#include "http/http_int.h"

#include <llhttp.h>

#include <errno.h>
#include <stdio.h>
#include <strings.h>

enum {
    P_IDLE,    /* between requests */
    P_HEAD,    /* a request's head is coming */
    P_BODY,    /* its handler runs (body may still come) */
    P_DISCARD, /* its handler returned: the rest of its body is dropped */
    P_CLOSING  /* refused or closing: input is ignored */
};

/* Unread body bytes (and queued pipelined bytes) past which reading
 * pauses. */
#define BODY_BOUND (64 * 1024)
/* A body left unread by the handler is read and dropped when at most this
 * much of it is still to come; past it the connection closes. */
#define DISCARD_MAX (256 * 1024)
/* Bodies up to this size go in the same buffer as the head. */
#define INLINE_MAX (16 * 1024)

typedef struct span {
    uint32_t off, len;
} span_t;

struct swco__http1_sim {
    swco__hbuf_t out;
    int closed;
    swco_http_handler_fn fn;
    void *arg;
    swco__http_lopts_t o;
    struct h1conn *c;
};

typedef struct h1req h1req_t;

typedef struct h1conn {
    swco_server_t *srv;
    long long fd;
    int listener;
    const swco__http_lopts_t *o;
    size_t max_body;         /* package_max_length (0: none) */
    llhttp_t p;
    int refs;                /* the connection, a running request, a created response */
    int phase;
    unsigned closed : 1;     /* the socket is gone */
    unsigned in_feed : 1;    /* feed() is on the stack */
    unsigned begun : 1;      /* the current head's first byte was seen */
    unsigned hc : 1;         /* llhttp paused at headers complete */
    unsigned mc : 1;         /* the current message is complete */
    unsigned el_open : 1;    /* a url/field/value span is being extended */
    unsigned pending : 1;    /* a built request waits to start */
    unsigned running : 1;    /* its handler coroutine runs */
    unsigned paused : 1;     /* swco_server_pause is in force */
    unsigned cont_sent : 1;  /* 100 Continue went out */
    unsigned head_timed : 1; /* the header timeout is armed for this head */
    unsigned deferred : 1;   /* a deferred feed of `in` is posted */
    unsigned det_ended : 1;  /* the created response of a detached request ended */
    unsigned det_pending : 1;/* the handler returned, its detached request open */
    unsigned named : 1;      /* the field being parsed has name bytes */
    int refuse;              /* status a callback refused the request with */
    /* the head being parsed */
    swco__arena_t arena;     /* becomes the request's */
    span_t *sp;              /* [0] target, then name, value pairs */
    uint32_t nsp, spcap;
    size_t hlen;             /* head bytes in earlier buffers */
    const char *base;        /* where the head is in the current buffer */
    size_t hdr_bytes, url_bytes;
    swco__hbuf_t hd;         /* earlier buffers' head bytes */
    /* the request */
    h1req_t *r;
    int cur_version, cur_head, cur_keep; /* of the last request (created responses) */
    swco_http_response_t *created;
    /* the response's framing */
    int o_chunked, o_nobody;
    /* body */
    swco__hbuf_t bq;         /* decoded, unread */
    size_t bq_off;
    long long body_got;
    int body_err;
    swco__waiter_t *reader;
    /* input waiting for the running request to end */
    swco__hbuf_t in;
    /* the timer */
    long timer;
    long long deadline;      /* ms (swco__now_ms), 0: none */
    char addr[46];
    int port;
    swco__http1_sim_t *sim;
} h1conn_t;

struct h1req {
    swco_http_request_t req;
    swco_http_response_t resp;
    h1conn_t *c;
};

static void feed(h1conn_t *c, const char *data, size_t len);
static void go_on(h1conn_t *c, int keep);

/* ------------------------------------------------------------- output */

static long c_send(h1conn_t *c, const void *d, size_t n)
{
    if (c->sim) {
        if (c->sim->closed)
            return SWCO_ENOCONN;
        return swco__hbuf_add(&c->sim->out, d, n) < 0 ? -ENOMEM : (long)n;
    }
    if (c->closed)
        return SWCO_ENOCONN;
    return c->srv->impl->ops->send(c->srv, c->fd, d, n,
                                   swco__co_can_wait() == 0 ? SWCO__SEND_YIELD : 0);
}

/* Close once what is queued is written. */
static void c_close(h1conn_t *c)
{
    c->phase = P_CLOSING;
    if (c->sim)
        c->sim->closed = 1;
    else if (!c->closed)
        swco_server_close(c->srv, c->fd, 0);
}

/* Reading stops while the running request's unread body, or the input
 * waiting for it, passes BODY_BOUND. */
static void check_pause(h1conn_t *c);

static void c_pause(h1conn_t *c, int on)
{
    if (c->paused == (unsigned)!!on || c->closed)
        return;
    c->paused = !!on;
    if (c->sim)
        return;
    if (on)
        swco_server_pause(c->srv, c->fd);
    else
        swco_server_resume(c->srv, c->fd);
}

static void check_pause(h1conn_t *c)
{
    /* resumes once below half the bound: no pause and resume per read */
    size_t held = c->in.len + (c->r ? c->bq.len - c->bq_off : 0);
    int want = held > (c->paused ? BODY_BOUND / 2 : BODY_BOUND);
    if (want != (int)c->paused)
        c_pause(c, want);
}

/* A refusal: status, Connection: close, then close. */
static void refuse(h1conn_t *c, int status)
{
    if (c->phase == P_CLOSING)
        return;
    char buf[256];
    size_t dl;
    const char *date = swco__http_date_header(&dl);
    int n = snprintf(buf, sizeof buf,
                     "HTTP/1.1 %d %s\r\n%.*sContent-Length: 0\r\nConnection: close\r\n\r\n",
                     status, swco__http_reason(status), (int)dl, date);
    c_send(c, buf, (size_t)n);
    c_close(c);
}

/* -------------------------------------------------------------- timer */

static void on_timer(long id, void *arg);

static void arm(h1conn_t *c, double seconds)
{
    if (seconds <= 0 || c->sim || c->closed) {
        c->deadline = 0;
        return;
    }
    long long ms = (long long)(seconds * 1000);
    if (ms < 1)
        ms = 1;
    c->deadline = swco__now_ms() + ms;
    if (!c->timer) {
        long id = swco__timer_add((long)ms, on_timer, c);
        c->timer = id > 0 ? id : 0;
    }
}

static void on_timer(long id, void *arg)
{
    (void)id;
    h1conn_t *c = arg;
    c->timer = 0;
    if (!c->deadline || c->closed)
        return;
    long long left = c->deadline - swco__now_ms();
    if (left > 0) {
        long nid = swco__timer_add((long)left, on_timer, c);
        c->timer = nid > 0 ? nid : 0;
        return;
    }
    c->deadline = 0;
    switch (c->phase) {
    case P_IDLE:
    case P_DISCARD:
        c_close(c);
        break;
    case P_HEAD:
        refuse(c, 408);
        break;
    default:
        break;
    }
}

/* ------------------------------------------------------ llhttp glue */

#define CONN(p) ((h1conn_t *)(p)->data)
#define OFF(c, at) ((c)->hlen + (size_t)((at) - (c)->base))

static int fail(h1conn_t *c, int status)
{
    c->refuse = status;
    return HPE_USER;
}

static int span_new(h1conn_t *c, uint32_t off, uint32_t len)
{
    if (c->nsp == c->spcap) {
        uint32_t cap = c->spcap ? c->spcap * 2 : 32;
        span_t *n = swco__arena_alloc(&c->arena, cap * sizeof *n);
        if (!n)
            return -1;
        if (c->nsp)
            memcpy(n, c->sp, c->nsp * sizeof *n);
        c->sp = n;
        c->spcap = cap;
    }
    c->sp[c->nsp].off = off;
    c->sp[c->nsp].len = len;
    c->nsp++;
    return 0;
}

/* Extend the last span with the bytes at off (the element goes on in a
 * later buffer); anything but a direct continuation is a fold. */
static int span_extend(h1conn_t *c, size_t off, size_t n)
{
    span_t *s = &c->sp[c->nsp - 1];
    if (s->len && s->off + s->len != off)
        return -1;
    if (!s->len)
        s->off = (uint32_t)off;
    s->len += (uint32_t)n;
    return 0;
}

static int cb_message_begin(llhttp_t *p)
{
    h1conn_t *c = CONN(p);
    c->phase = P_HEAD;
    c->begun = 0;
    c->nsp = c->spcap = 0;
    c->sp = NULL;
    c->hlen = c->hdr_bytes = c->url_bytes = 0;
    c->el_open = 0;
    c->body_got = 0;
    c->body_err = 0;
    c->cont_sent = 0;
    c->mc = 0;
    return 0;
}

static int cb_method(llhttp_t *p, const char *at, size_t n)
{
    h1conn_t *c = CONN(p);
    (void)n;
    if (!c->begun) {
        c->begun = 1;
        c->base = at;
        c->hlen = 0;
    }
    return 0;
}

static int cb_url(llhttp_t *p, const char *at, size_t n)
{
    h1conn_t *c = CONN(p);
    c->url_bytes += n;
    if (c->o->max_uri_length && c->url_bytes > c->o->max_uri_length)
        return fail(c, 414);
    if (!c->nsp)
        return span_new(c, (uint32_t)OFF(c, at), (uint32_t)n) < 0 ? fail(c, 500) : 0;
    return span_extend(c, OFF(c, at), n) < 0 ? fail(c, 400) : 0;
}

static int cb_header_field(llhttp_t *p, const char *at, size_t n)
{
    h1conn_t *c = CONN(p);
    c->hdr_bytes += n + (c->el_open ? 0 : 4);
    if (c->o->max_header_size && c->hdr_bytes > c->o->max_header_size)
        return fail(c, 431);
    if (c->phase != P_HEAD) {
        c->el_open = 1; /* a trailer field of a chunked body: counted, not kept */
        return 0;
    }
    if (n)
        c->named = 1;
    if (!c->nsp && span_new(c, 0, 0) < 0) /* no target span?  cannot be */
        return fail(c, 500);
    if (!c->el_open) {
        if (span_new(c, (uint32_t)OFF(c, at), (uint32_t)n) < 0 || span_new(c, 0, 0) < 0)
            return fail(c, 500);
        c->el_open = 1;
        return 0;
    }
    /* the name goes on from the previous buffer */
    span_t *s = &c->sp[c->nsp - 2];
    if (s->off + s->len != OFF(c, at))
        return fail(c, 400);
    s->len += (uint32_t)n;
    return 0;
}

static int cb_header_value(llhttp_t *p, const char *at, size_t n)
{
    h1conn_t *c = CONN(p);
    c->hdr_bytes += n;
    if (c->o->max_header_size && c->hdr_bytes > c->o->max_header_size)
        return fail(c, 431);
    if (c->phase != P_HEAD)
        return 0;
    if (c->nsp < 3 || (c->nsp & 1) == 0)
        return fail(c, 400);
    span_t *s = &c->sp[c->nsp - 1];
    if (!c->el_open && s->len)
        return fail(c, 400); /* a second piece of a finished value: obs-fold */
    c->el_open = 1;
    return span_extend(c, OFF(c, at), n) < 0 ? fail(c, 400) : 0;
}

static int cb_el_complete(llhttp_t *p)
{
    CONN(p)->el_open = 0;
    return 0;
}

static int cb_field_complete(llhttp_t *p)
{
    h1conn_t *c = CONN(p);
    c->el_open = 0;
    if (c->phase == P_HEAD && !c->named)
        return fail(c, 400); /* llhttp lets ": value" through */
    c->named = 0;
    return 0;
}

static int cb_headers_complete(llhttp_t *p)
{
    h1conn_t *c = CONN(p);
    if (c->phase != P_HEAD)
        return 0;
    c->hc = 1;
    return HPE_PAUSED;
}

static int cb_body(llhttp_t *p, const char *at, size_t n)
{
    h1conn_t *c = CONN(p);
    c->body_got += (long long)n;
    if (c->max_body && (unsigned long long)c->body_got > c->max_body) {
        c->body_err = -EMSGSIZE;
        return fail(c, 413);
    }
    if (c->phase == P_DISCARD || !c->r)
        return 0;
    if (swco__hbuf_add(&c->bq, at, n) < 0) {
        c->body_err = -ENOMEM;
        return fail(c, 500);
    }
    return 0;
}

static int cb_message_complete(llhttp_t *p)
{
    h1conn_t *c = CONN(p);
    c->mc = 1;
    return HPE_PAUSED;
}

/* llhttp_settings_init only zeroes the struct: a constant does the same. */
static const llhttp_settings_t h1_settings = {
    .on_message_begin = cb_message_begin,
    .on_method = cb_method,
    .on_url = cb_url,
    .on_url_complete = cb_el_complete,
    .on_header_field = cb_header_field,
    .on_header_field_complete = cb_field_complete,
    .on_header_value = cb_header_value,
    .on_header_value_complete = cb_el_complete,
    .on_headers_complete = cb_headers_complete,
    .on_body = cb_body,
    .on_message_complete = cb_message_complete,
};

/* The status a parse error earns. */
static int status_of(h1conn_t *c, llhttp_errno_t e)
{
    if (e == HPE_USER && c->refuse)
        return c->refuse;
    if (e == HPE_INVALID_VERSION) {
        const char *why = llhttp_get_error_reason(&c->p);
        if (why && !strcmp(why, "Invalid HTTP version"))
            return 505;
    }
    if (e == HPE_INVALID_TRANSFER_ENCODING) {
        const char *why = llhttp_get_error_reason(&c->p);
        if (why && strstr(why, "Request has invalid"))
            return 501; /* a coding other than chunked, alone */
    }
    return 400;
}

/* ---------------------------------------------------------- the head */

static int is_ows(char ch) { return ch == ' ' || ch == '\t'; }

/* Line ends are CRLF only: no bare CR, no bare LF, no obs-fold. */
static int lines_ok(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\r') {
            if (i + 1 >= n || s[i + 1] != '\n')
                return 0;
            i++;
            if (i + 1 < n && is_ows(s[i + 1]))
                return 0;
        } else if (s[i] == '\n') {
            return 0;
        }
    }
    return 1;
}

/* Transfer-Encoding values: 0 when only chunked (once, last), 501 for a
 * coding we do not decode, 400 when malformed. */
static int check_te(const swco__kvlist_t *h)
{
    int n = 0;
    for (size_t i = 0; i < h->n; i++) {
        if (h->v[i].name_len != 17 || strncasecmp(h->v[i].name, "Transfer-Encoding", 17))
            continue;
        const char *s = h->v[i].value, *end = s + h->v[i].value_len;
        while (s < end) {
            const char *comma = memchr(s, ',', (size_t)(end - s));
            const char *e = comma ? comma : end;
            const char *a = s, *b = e;
            while (a < b && is_ows(*a))
                a++;
            while (b > a && is_ows(b[-1]))
                b--;
            if (b > a) {
                if (b - a == 7 && !strncasecmp(a, "chunked", 7)) {
                    if (n++)
                        return 400;
                } else {
                    return n ? 400 : 501; /* after chunked: 400; else unknown: 501 */
                }
            }
            s = e + (comma ? 1 : 0);
        }
    }
    return 0;
}


static const swco__http_out_t h1_out;
static const swco__http_body_src_t h1_src;

/* The head ended at `end` in the current buffer: build the request.
 * 0, or a status to refuse it with. */
static int head_done(h1conn_t *c, const char *end)
{
    const char *raw;
    size_t rawlen;
    if (!c->begun)
        return 400;
    if (c->hd.len || c->hlen) {
        if (swco__hbuf_add(&c->hd, c->base, (size_t)(end - c->base)) < 0)
            return 500;
        raw = c->hd.p;
        rawlen = c->hd.len;
    } else {
        raw = c->base;
        rawlen = (size_t)(end - c->base);
    }
    if (!lines_ok(raw, rawlen))
        return 400;
    int major = c->p.http_major, minor = c->p.http_minor;
    if (major != 1 || minor > 1)
        return 505;
    if (c->nsp < 1)
        return 400;

    h1req_t *r = swco__arena_alloc(&c->arena, sizeof *r);
    char *rh = r ? swco__arena_strndup(&c->arena, raw, rawlen) : NULL;
    if (!rh)
        return 500;
    memset(r, 0, sizeof *r);
    swco_http_request_t *q = &r->req;
    r->c = c;
    q->raw_header = rh;
    q->raw_header_len = rawlen;
    q->version = major * 10 + minor;
    q->method_id = c->p.method;
    q->method = llhttp_method_name((llhttp_method_t)c->p.method);
    q->uri = swco__arena_strndup(&c->arena, rh + c->sp[0].off, c->sp[0].len);
    if (!q->uri)
        return 500;

    /* fields */
    size_t nh = (c->nsp - 1) / 2;
    swco__kvlist_t *h = &q->lists[SWCO_HTTP_HEADER];
    if (nh) {
        h->v = swco__arena_alloc(&c->arena, nh * sizeof *h->v);
        if (!h->v)
            return 500;
        h->cap = nh;
    }
    int hosts = 0;
    for (size_t i = 0; i < nh; i++) {
        span_t *ns = &c->sp[1 + 2 * i], *vs = &c->sp[2 + 2 * i];
        /* RFC 9112 5.1: no whitespace between name and colon */
        if (ns->off + ns->len >= rawlen || rh[ns->off + ns->len] != ':')
            return 400;
        for (uint32_t k = 0; k < ns->len; k++)
            if (is_ows(rh[ns->off + k]))
                return 400;
        size_t vl = vs->len;
        while (vl && is_ows(rh[vs->off + vl - 1]))
            vl--;
        char *name = swco__arena_strndup(&c->arena, rh + ns->off, ns->len);
        char *value = swco__arena_strndup(&c->arena, rh + vs->off, vl);
        if (!name || !value)
            return 500;
        swco__kv_t *kv = &h->v[h->n++];
        kv->name = name;
        kv->name_len = ns->len;
        kv->value = value;
        kv->value_len = vl;
        if (ns->len == 4 && !strncasecmp(name, "Host", 4))
            hosts++;
    }
    q->parsed = 1u << SWCO_HTTP_HEADER;
    /* RFC 9112 3.2: exactly one Host in HTTP/1.1 */
    if ((q->version == 11 && hosts != 1) || hosts > 1)
        return 400;

    /* framing */
    unsigned flags = c->p.flags;
    if (flags & F_TRANSFER_ENCODING) {
        if (q->version == 10)
            return 400; /* RFC 9112 6.1: faulty framing */
        int st = check_te(h);
        if (st)
            return st;
    }
    q->chunked = (flags & F_CHUNKED) != 0;
    if (q->method_id == HTTP_CONNECT) {
        /* RFC 9110 9.3.6: no content (llhttp reads none; what follows is
         * the tunnel's, and the connection closes after the answer) */
        q->chunked = 0;
        q->content_length = 0;
    } else if (q->chunked)
        q->content_length = -1;
    else if (flags & F_CONTENT_LENGTH)
        q->content_length = (long long)c->p.content_length;
    else
        q->content_length = 0;
    if (c->max_body && q->content_length > 0 &&
        (unsigned long long)q->content_length > c->max_body)
        return 413;

    /* target: path (decoded) and query */
    const char *u = q->uri;
    if (q->method_id != HTTP_CONNECT && *u != '/' && *u != '*') {
        /* absolute-form: skip scheme and authority */
        const char *ss = strstr(u, "://");
        if (ss) {
            const char *sl = strchr(ss + 3, '/');
            u = sl ? sl : "/";
        }
    }
    const char *qm = strchr(u, '?');
    size_t plen = qm ? (size_t)(qm - u) : strlen(u);
    size_t dl;
    char *path = swco__arena_alloc(&c->arena, plen + 1);
    if (!path)
        return 500;
    {
        /* %XX decoding ('+' stays) */
        size_t j = 0;
        for (size_t i = 0; i < plen; i++) {
            int hi, lo;
            if (u[i] == '%' && i + 2 < plen + 1 && i + 2 <= plen &&
                (hi = u[i + 1] >= '0' && u[i + 1] <= '9'   ? u[i + 1] - '0'
                      : (u[i + 1] | 32) >= 'a' && (u[i + 1] | 32) <= 'f' ? (u[i + 1] | 32) - 'a' + 10
                                                                        : -1) >= 0 &&
                (lo = u[i + 2] >= '0' && u[i + 2] <= '9'   ? u[i + 2] - '0'
                      : (u[i + 2] | 32) >= 'a' && (u[i + 2] | 32) <= 'f' ? (u[i + 2] | 32) - 'a' + 10
                                                                        : -1) >= 0) {
                path[j++] = (char)(hi << 4 | lo);
                i += 2;
            } else {
                path[j++] = u[i];
            }
        }
        path[j] = 0;
        dl = j;
    }
    (void)dl;
    q->path = path;
    q->query = qm ? qm + 1 : "";

    /* connection semantics */
    if (q->version == 11)
        q->keep_alive = !(flags & F_CONNECTION_CLOSE);
    else
        q->keep_alive = (flags & F_CONNECTION_KEEP_ALIVE) != 0;
    if (q->method_id == HTTP_CONNECT)
        q->keep_alive = 0;
    q->head = q->method_id == HTTP_HEAD;
    q->upgrade = (flags & F_UPGRADE) != 0;
    const swco__kv_t *ex = swco__kv_find(h, "Expect", 1);
    q->expect_continue = ex && q->version == 11 && !strcasecmp(ex->value, "100-continue") &&
                         (q->chunked || q->content_length > 0);

    q->srv = c->srv;
    q->fd = c->fd;
    q->listener = c->listener;
    q->opt = c->o;
    memcpy(q->remote_addr, c->addr, sizeof q->remote_addr);
    q->remote_port = c->port;
    q->src = &h1_src;
    q->src_ctx = c;
    q->backend = c;
    /* the arena (holding r) is the request's from now on */
    q->arena = c->arena;
    c->arena.head = NULL;
    c->sp = NULL;
    c->nsp = c->spcap = 0;
    swco__hbuf_free(&c->hd);
    c->hlen = 0;
    c->begun = 0;
    swco__http_response_init(&r->resp, q, &h1_out, c);
    c->cur_version = q->version;
    c->cur_head = q->head;
    c->cur_keep = q->keep_alive;
    c->r = r;
    c->phase = P_BODY;
    c->pending = 1;
    c->det_ended = 0;
    c->bq_off = 0;
    c->deadline = 0;
    return 0;
}

/* ------------------------------------------------------- the request */

static void unref(h1conn_t *c)
{
    if (--c->refs > 0)
        return;
    if (c->timer)
        swco__timer_del(c->timer);
    swco__arena_free(&c->arena);
    swco__hbuf_free(&c->hd);
    swco__hbuf_free(&c->bq);
    swco__hbuf_free(&c->in);
    free(c);
}

/* Wake the handler waiting in a body read. */
static void wake_reader(h1conn_t *c, int rc)
{
    swco__waiter_t *w = c->reader;
    if (!w)
        return;
    c->reader = NULL;
    if (w->timer) {
        swco__timer_del(w->timer);
        w->timer = 0;
    }
    swco__co_wake(w, rc);
}

static void run_handler(h1conn_t *c, h1req_t *r)
{
    swco_http_request_t *q = &r->req;
    swco_http_response_t *resp = &r->resp;
    if (c->sim) {
        c->sim->fn(NULL, q, resp, c->sim->arg);
        return;
    }
    if (q->upgrade && c->o->websocket && q->method_id == HTTP_GET) {
        const swco__kv_t *up = swco__kv_find(&q->lists[SWCO_HTTP_HEADER], "Upgrade", 1);
        if (up && !strcasecmp(up->value, "websocket")) {
            void *ws = swco__ws_server_accept(q, resp);
            if (ws) {
                resp->ended = 1; /* the 101 went out */
                c->phase = P_CLOSING;
                long long fd = c->fd;
                swco__hbuf_t rest = c->in;
                memset(&c->in, 0, sizeof c->in);
                if (swco__srv_proto_switch(fd, &swco__ws_proto, ws) == 0) {
                    c->closed = 1; /* no longer ours: protocol.c won't call h1_close */
                    c->refs--;     /* the connection's own reference */
                    if (rest.len)
                        swco__ws_proto.receive(ws, rest.p, rest.len);
                }
                swco__hbuf_free(&rest);
                return;
            }
            if (!resp->ended) {
                /* refused without an answer: say so */
                swco_http_response_status(resp, 400, NULL);
                swco_http_response_end(resp, NULL, 0);
            }
            return;
        }
    }
    if (c->o->static_handler && swco__http_static_serve(q, resp))
        return;
    const swco__srv_cb_t *cb = swco__http_handler(c->srv, c->listener);
    if (!cb) {
        swco_http_response_status(resp, 404, NULL);
        swco_http_response_end(resp, NULL, 0);
        return;
    }
    ((swco_http_handler_fn)cb->fn)(c->srv, q, resp, cb->arg);
}

/* The request's handler returned: end what it left, clean up, go on. */
static void request_done(h1conn_t *c)
{
    h1req_t *r = c->r;
    if (!r->resp.ended && !r->resp.detached)
        swco_http_response_end(&r->resp, NULL, 0);
    /* a detached request's own response said nothing: its created one
     * (ended or to come) decides, through cur_keep */
    int keep = (r->resp.detached ? c->cur_keep : r->resp.keep_alive) && !c->closed &&
               c->phase != P_CLOSING;
    int detached = r->resp.detached && !c->det_ended;
    if (c->phase == P_BODY && !c->mc) {
        /* body left unread: drop the rest when little of it is to come */
        long long left = r->req.content_length - c->body_got;
        if (keep && !r->req.chunked && left >= 0 && left <= DISCARD_MAX &&
            !(r->req.expect_continue && !c->cont_sent))
            c->phase = P_DISCARD;
        else
            keep = 0;
    }
    c->cur_keep = keep;
    swco__http_response_clear(&r->resp);
    swco__http_request_clear(&r->req); /* frees r */
    c->r = NULL;
    swco__hbuf_free(&c->bq);
    c->bq_off = 0;
    c->running = 0;
    if (detached) {
        c->det_pending = 1;
        return;
    }
    go_on(c, keep);
}

static void deferred_feed(void *arg)
{
    h1conn_t *c = arg;
    c->deferred = 0;
    if (!c->closed && c->phase != P_CLOSING && c->in.len) {
        swco__hbuf_t in = c->in;
        memset(&c->in, 0, sizeof c->in);
        feed(c, in.p, in.len);
        swco__hbuf_free(&in);
    }
    unref(c);
}

/* The connection's current request is over: the next one, or close. */
static void go_on(h1conn_t *c, int keep)
{
    if (!keep || c->closed || (!c->sim && swco__srv_stopping())) {
        c_close(c);
        return;
    }
    if (c->phase == P_DISCARD) {
        arm(c, c->o->body_timeout);
        check_pause(c);
        return;
    }
    c->phase = P_IDLE;
    c->mc = 0;
    if (c->in.len) {
        if (!c->in_feed && !c->deferred) {
            c->deferred = 1;
            c->refs++;
            if (!c->sim && swco_event_defer(deferred_feed, c, NULL) < 0) {
                c->deferred = 0;
                c->refs--;
                c_close(c);
                return;
            }
        }
    } else {
        arm(c, c->o->keepalive_timeout);
    }
    check_pause(c);
}

static void req_main(void *arg)
{
    h1conn_t *c = arg;
    h1req_t *r = c->r;
    run_handler(c, r);
    swco_server_t *srv = c->srv;
    int sim = c->sim != NULL;
    if (c->r == r)
        request_done(c);
    if (!sim)
        swco__srv_work_end(srv);
    unref(c);
}

static void start_request(h1conn_t *c)
{
    c->pending = 0;
    c->running = 1;
    c->refs++;
    if (!c->sim)
        swco__srv_work_begin(c->srv);
    long cid = swco_coroutine_create(req_main, c);
    if (cid <= 0) {
        swco__log(SWCO_LOG_WARNING, "http: no coroutine for a request (%ld)", cid);
        c->running = 0;
        swco__http_response_clear(&c->r->resp);
        c->r->resp.ended = 1;
        swco__http_request_clear(&c->r->req);
        c->r = NULL;
        refuse(c, 503);
        if (!c->sim)
            swco__srv_work_end(c->srv);
        unref(c);
    }
}

/* --------------------------------------------------------------- feed */

static void queue_in(h1conn_t *c, const char *data, size_t len)
{
    if (!len)
        return;
    if (swco__hbuf_add(&c->in, data, len) < 0) {
        c_close(c);
        return;
    }
    check_pause(c);
}

/* Parse what the connection received (or had queued). */
static void feed(h1conn_t *c, const char *data, size_t len)
{
    c->refs++;
    c->in_feed = 1;
    int again = 0;
    while (!c->closed && c->phase != P_CLOSING) {
        if (c->mc) {
            if (!c->r && !c->det_pending) {
                /* a discarded body ended: idle again */
                c->mc = 0;
                c->phase = P_IDLE;
                if (!len)
                    arm(c, c->o->keepalive_timeout);
                continue;
            }
            if (c->pending)
                start_request(c);
            if (c->mc && (c->r || c->det_pending)) {
                queue_in(c, data, len);
                break;
            }
            continue;
        }
        if (!len && !again)
            break;
        again = 0;
        if (c->phase == P_IDLE && len)
            c->phase = P_HEAD;
        if (c->begun)
            c->base = data;
        llhttp_errno_t e = llhttp_execute(&c->p, data, len);
        size_t used = e == HPE_OK ? len : (size_t)(llhttp_get_error_pos(&c->p) - data);
        if (e == HPE_OK) {
            if (c->phase == P_HEAD && c->begun) {
                /* the head goes on in the next buffer */
                size_t part = (size_t)(data + len - c->base);
                if (swco__hbuf_add(&c->hd, c->base, part) < 0) {
                    refuse(c, 500);
                    break;
                }
                c->hlen += part;
                if (!c->head_timed) {
                    c->head_timed = 1;
                    arm(c, c->o->header_timeout);
                }
            } else if (c->phase == P_HEAD && !c->begun && !c->head_timed) {
                c->head_timed = 1;
                arm(c, c->o->header_timeout);
            }
            data += len;
            len = 0;
            if (c->pending)
                start_request(c);
            else if (c->phase == P_DISCARD)
                arm(c, c->o->body_timeout);
            break;
        }
        data += used;
        len -= used;
        if (e == HPE_PAUSED) {
            llhttp_resume(&c->p);
            if (c->hc) {
                c->hc = 0;
                c->head_timed = 0;
                int st = head_done(c, data);
                if (st) {
                    refuse(c, st);
                    break;
                }
                again = 1; /* a body-less request completes with no byte more */
            }
            continue;
        }
        if (e == HPE_PAUSED_UPGRADE) {
            llhttp_resume_after_upgrade(&c->p);
            continue;
        }
        /* a parse error */
        int st = status_of(c, e);
        c->refuse = 0;
        if (c->r) {
            /* mid-body: the handler's reads fail; it answers if it had not */
            if (!c->body_err)
                c->body_err = st == 413 ? -EMSGSIZE : -EPROTO;
            if (c->pending) {
                /* it never started: refuse in its place */
                c->pending = 0;
                h1req_t *r = c->r;
                r->resp.ended = 1;
                swco__http_response_clear(&r->resp);
                swco__http_request_clear(&r->req);
                c->r = NULL;
                refuse(c, st);
            } else if (!c->r->resp.head_sent && !c->r->resp.ended) {
                /* answered now; the handler's own answer is refused */
                swco_http_response_t *resp = &c->r->resp;
                resp->keep_alive = 0;
                c->phase = P_CLOSING; /* input ignored; closes when the handler returns */
                swco__kv_remove(&resp->headers, "Content-Encoding", 1);
                resp->compress = 0;
                swco_http_response_status(resp, st, NULL);
                swco_http_response_end(resp, NULL, 0);
            } else {
                c->phase = P_CLOSING;
            }
        } else {
            refuse(c, st);
        }
        break;
    }
    /* every byte is parsed or queued: a request ending from here on goes
     * on by itself (go_on) */
    c->in_feed = 0;
    /* the handler may wait for what came */
    if (c->reader && (c->bq.len > c->bq_off || c->mc || c->body_err || c->closed ||
                      c->phase == P_CLOSING))
        wake_reader(c, 0);
    check_pause(c);
    unref(c);
}

/* ---------------------------------------------------------- body source */

/* The waiter lives on the reader's stack while c->reader points at it. */
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdangling-pointer"
#endif
static long src_read(void *ctx, void *buf, size_t len, double timeout)
{
    h1conn_t *c = ctx;
    h1req_t *r = c->r;
    if (!r)
        return SWCO_ENOCONN;
    for (;;) {
        size_t have = c->bq.len - c->bq_off;
        if (have) {
            size_t n = have < len ? have : len;
            memcpy(buf, c->bq.p + c->bq_off, n);
            c->bq_off += n;
            if (c->bq_off == c->bq.len) {
                c->bq.len = c->bq_off = 0;
                if (c->bq.cap > 4 * BODY_BOUND)
                    swco__hbuf_free(&c->bq);
            }
            if (c->paused)
                check_pause(c);
            return (long)n;
        }
        if (c->body_err)
            return c->body_err;
        if (c->mc || c->phase != P_BODY)
            return c->closed ? (c->mc ? 0 : SWCO_ENOCONN) : 0;
        if (c->closed)
            return SWCO_ENOCONN;
        if (!len)
            return 0;
        if (r->req.expect_continue && !c->cont_sent) {
            c->cont_sent = 1;
            if (!r->resp.head_sent) {
                static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
                long rc = c_send(c, cont, sizeof cont - 1);
                if (rc < 0)
                    return rc;
            }
        }
        if (c->reader)
            return -EBUSY;
        swco__waiter_t w;
        memset(&w, 0, sizeof w);
        w.what = "http body";
        c->reader = &w;
        double t = timeout > 0 ? timeout : c->o->body_timeout;
        int rc = swco__wait(&w, c->sim ? -1 : t);
        if (c->reader == &w)
            c->reader = NULL;
        if (rc == -ETIMEDOUT) {
            if (timeout <= 0 && c->r == r && !r->resp.head_sent && !r->resp.ended) {
                /* http_body_timeout: the client is told */
                r->resp.keep_alive = 0;
                swco_http_response_status(&r->resp, 408, NULL);
                swco_http_response_end(&r->resp, NULL, 0);
                c->phase = P_CLOSING;
            }
            return -ETIMEDOUT;
        }
        if (rc < 0)
            return rc;
        if (c->r != r)
            return SWCO_ENOCONN;
    }
}

#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#pragma GCC diagnostic pop
#endif

static const swco__http_body_src_t h1_src = {src_read};

/* -------------------------------------------------------- output backend */

static int is_framing(const swco__kv_t *kv, int st)
{
    if (st == 101)
        return 0; /* the upgrade's own Connection: Upgrade */
    return (kv->name_len == 14 && !strncasecmp(kv->name, "Content-Length", 14)) ||
           (kv->name_len == 17 && !strncasecmp(kv->name, "Transfer-Encoding", 17)) ||
           (kv->name_len == 10 && !strncasecmp(kv->name, "Connection", 10));
}

static int h1_head(swco_http_response_t *r, long long body_len, const void *data, size_t len)
{
    h1conn_t *c = r->backend;
    int version = r->req ? r->req->version : c->cur_version;
    int headreq = r->req ? r->req->head : c->cur_head;
    if (c->closed || (c->sim && c->sim->closed))
        return SWCO_ENOCONN;
    int st = r->status;
    int nobody = st < 200 || st == 204 || st == 304;
    int keep = r->keep_alive && (c->sim || !swco__srv_stopping());
    const swco__kv_t *conn = swco__kv_find(&r->headers, "Connection", 1);
    if (conn && strcasestr(conn->value, "close"))
        keep = 0;
    int chunked = 0;
    if (body_len < 0 && !nobody) {
        if (version >= 11)
            chunked = 1;
        else
            keep = 0; /* HTTP/1.0: the body ends with the connection */
    }
    r->keep_alive = keep;
    c->o_chunked = chunked;
    c->o_nobody = nobody || headreq;
    const char *reason = r->reason ? r->reason : swco__http_reason(st);
    size_t rl = strlen(reason);
    size_t dl;
    const char *date = swco__http_date_header(&dl);
    int have_date = swco__kv_find(&r->headers, "Date", 1) != NULL;
    size_t need = 8 + 1 + 3 + 1 + rl + 2 + dl + 2;
    for (size_t i = 0; i < r->headers.n; i++)
        need += r->headers.v[i].name_len + r->headers.v[i].value_len + 4;
    need += 40 + 30 + 26; /* Content-Length / Transfer-Encoding, Connection */
    if (chunked)
        for (size_t i = 0; i < r->trailers.n; i++)
            need += r->trailers.v[i].name_len + 12;
    int inline_body = body_len >= 0 && data && (size_t)body_len == len && !c->o_nobody &&
                      len <= INLINE_MAX;
    if (inline_body)
        need += len;
    swco__arena_t *a = r->req ? &r->req->arena : &r->arena;
    char *buf = swco__arena_alloc(a, need);
    if (!buf)
        return -ENOMEM;
    char *p = buf;
    memcpy(p, "HTTP/1.1", 8);
    p += 8;
    *p++ = ' ';
    *p++ = (char)('0' + st / 100);
    *p++ = (char)('0' + st / 10 % 10);
    *p++ = (char)('0' + st % 10);
    *p++ = ' ';
    memcpy(p, reason, rl);
    p += rl;
    *p++ = '\r';
    *p++ = '\n';
    if (!have_date) {
        memcpy(p, date, dl);
        p += dl;
    }
    for (size_t i = 0; i < r->headers.n; i++) {
        const swco__kv_t *kv = &r->headers.v[i];
        if (is_framing(kv, st))
            continue;
        memcpy(p, kv->name, kv->name_len);
        p += kv->name_len;
        *p++ = ':';
        *p++ = ' ';
        memcpy(p, kv->value, kv->value_len);
        p += kv->value_len;
        *p++ = '\r';
        *p++ = '\n';
    }
    if (chunked) {
        memcpy(p, "Transfer-Encoding: chunked\r\n", 28);
        p += 28;
        if (r->trailers.n) {
            memcpy(p, "Trailer: ", 9);
            p += 9;
            for (size_t i = 0; i < r->trailers.n; i++) {
                if (i) {
                    *p++ = ',';
                    *p++ = ' ';
                }
                memcpy(p, r->trailers.v[i].name, r->trailers.v[i].name_len);
                p += r->trailers.v[i].name_len;
            }
            *p++ = '\r';
            *p++ = '\n';
        }
    } else if (body_len >= 0 && !(st < 200 || st == 204)) {
        /* 304 and HEAD keep the length a GET would have had */
        if (!(st == 304)) {
            memcpy(p, "Content-Length: ", 16);
            p += 16;
            char digits[24];
            int nd = 0;
            unsigned long long v = (unsigned long long)body_len;
            do
                digits[nd++] = (char)('0' + v % 10);
            while ((v /= 10) != 0);
            while (nd)
                *p++ = digits[--nd];
            *p++ = '\r';
            *p++ = '\n';
        }
    }
    if (st == 101) {
        /* the upgrade says Connection itself */
    } else if (!keep) {
        memcpy(p, "Connection: close\r\n", 19);
        p += 19;
    } else if (version == 10) {
        memcpy(p, "Connection: keep-alive\r\n", 24);
        p += 24;
    }
    *p++ = '\r';
    *p++ = '\n';
    if (inline_body && len) {
        memcpy(p, data, len);
        p += len;
    }
    long rc = c_send(c, buf, (size_t)(p - buf));
    if (rc < 0)
        return (int)rc;
    if (body_len >= 0 && data && len && !inline_body && !c->o_nobody) {
        rc = c_send(c, data, len);
        if (rc < 0)
            return (int)rc;
    }
    return 0;
}

static long h1_body(swco_http_response_t *r, const void *data, size_t len, int last)
{
    h1conn_t *c = r->backend;
    if (c->o_nobody)
        return (long)len;
    if (!c->o_chunked) {
        long rc = len ? c_send(c, data, len) : 0;
        return rc < 0 ? rc : (long)len;
    }
    char small[4096];
    char pre[24];
    int pl = len ? snprintf(pre, sizeof pre, "%zx\r\n", len) : 0;
    size_t tl = 0;
    if (last) {
        tl = 5;
        for (size_t i = 0; i < r->trailers.n; i++)
            tl += r->trailers.v[i].name_len + r->trailers.v[i].value_len + 4;
    }
    size_t total = (size_t)pl + len + (len ? 2 : 0) + tl;
    char *buf = small;
    swco__hbuf_t big = {0};
    int one = total <= sizeof small;
    if (!one && tl > sizeof small - 8) {
        if (swco__hbuf_reserve(&big, tl) < 0)
            return -ENOMEM;
        buf = big.p;
    }
    char *p = buf;
    long rc = 0;
    if (len) {
        if (one) {
            memcpy(p, pre, (size_t)pl);
            p += pl;
            memcpy(p, data, len);
            p += len;
        } else {
            if ((rc = c_send(c, pre, (size_t)pl)) >= 0)
                rc = c_send(c, data, len);
            if (rc < 0)
                goto out;
        }
        *p++ = '\r';
        *p++ = '\n';
    }
    if (last) {
        *p++ = '0';
        *p++ = '\r';
        *p++ = '\n';
        for (size_t i = 0; i < r->trailers.n; i++) {
            const swco__kv_t *kv = &r->trailers.v[i];
            memcpy(p, kv->name, kv->name_len);
            p += kv->name_len;
            *p++ = ':';
            *p++ = ' ';
            memcpy(p, kv->value, kv->value_len);
            p += kv->value_len;
            *p++ = '\r';
            *p++ = '\n';
        }
        *p++ = '\r';
        *p++ = '\n';
    }
    if (p > buf)
        rc = c_send(c, buf, (size_t)(p - buf));
out:
    swco__hbuf_free(&big);
    return rc < 0 ? rc : (long)len;
}

static int h1_sendfile(swco_http_response_t *r, const char *path, long long off, long long len)
{
    h1conn_t *c = r->backend;
    if (c->o_nobody)
        return 0;
    if (c->sim)
        return 0;
    if (c->closed)
        return SWCO_ENOCONN;
    long long rc = swco_server_sendfile(c->srv, c->fd, path, off, len);
    return rc < 0 ? (int)rc : 0;
}

static void h1_finish(swco_http_response_t *r)
{
    h1conn_t *c = r->backend;
    if (!r->created)
        return;
    /* a detached request's response ended: the connection goes on */
    c->det_ended = 1;
    if (c->created == r)
        c->created = NULL;
    c->cur_keep = c->cur_keep && r->keep_alive;
    if (c->det_pending) {
        c->det_pending = 0;
        go_on(c, c->cur_keep);
    }
    unref(c);
}

static const swco__http_out_t h1_out = {h1_head, h1_body, h1_sendfile, h1_finish};

swco_http_response_t *swco__http1_response_create(swco_server_t *srv, long long fd)
{
    h1conn_t *c = swco__srv_proto_state(fd, &swco__http1_proto);
    int waiting = c && !c->closed && !c->created && !c->det_ended &&
                  (c->det_pending || (c->r && c->r->resp.detached));
    if (!waiting) {
        swco__fail(SWCO_ENOCONN);
        return NULL;
    }
    swco_http_response_t *r = malloc(sizeof *r);
    if (!r) {
        swco__fail(-ENOMEM);
        return NULL;
    }
    swco__http_response_init(r, NULL, &h1_out, c);
    r->srv = srv;
    r->fd = fd;
    r->created = 1;
    r->keep_alive = c->cur_keep;
    c->created = r;
    c->refs++;
    return r;
}

/* ------------------------------------------------------------ protocol */

static h1conn_t *conn_new(swco_server_t *srv, long long fd, int listener,
                          const swco__http_lopts_t *o, size_t max_body)
{
    h1conn_t *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->srv = srv;
    c->fd = fd;
    c->listener = listener;
    c->o = o;
    c->max_body = max_body;
    c->refs = 1;
    c->phase = P_IDLE;
    llhttp_init(&c->p, HTTP_REQUEST, &h1_settings);
    c->p.data = c;
    return c;
}

static void *h1_open(swco_server_t *srv, long long fd, int listener)
{
    if (listener < 0 || listener >= srv->nlisteners)
        return NULL;
    const swco__listener_t *l = srv->listeners[listener];
    h1conn_t *c = conn_new(srv, fd, listener, &l->opt.http, l->opt.frame.max_len);
    if (!c)
        return NULL;
    swco_server_client_info_t ci;
    memset(&ci, 0, sizeof ci);
    ci.size = sizeof ci;
    if (swco_server_get_client_info(srv, fd, &ci) == 0) {
        snprintf(c->addr, sizeof c->addr, "%.45s", ci.addr);
        c->port = ci.port;
    }
    arm(c, c->o->keepalive_timeout);
    return c;
}

static void h1_receive(void *cs, const char *data, size_t len)
{
    h1conn_t *c = cs;
    if (c->phase == P_CLOSING || c->closed || !len)
        return;
    if (c->in.len || c->deferred) {
        /* earlier bytes wait for the request in progress: these go after */
        queue_in(c, data, len);
        return;
    }
    feed(c, data, len);
}

static void h1_close(void *cs)
{
    h1conn_t *c = cs;
    c->closed = 1;
    c->deadline = 0;
    if (c->timer) {
        swco__timer_del(c->timer);
        c->timer = 0;
    }
    if (c->pending && c->r) {
        c->pending = 0;
        c->r->resp.ended = 1;
        swco__http_response_clear(&c->r->resp);
        swco__http_request_clear(&c->r->req);
        c->r = NULL;
    }
    wake_reader(c, SWCO_ENOCONN);
    unref(c);
}

static void h1_buffer(void *cs, int full)
{
    (void)cs;
    (void)full;
}

const swco__srv_proto_t swco__http1_proto = {"http/1.1", h1_open, h1_receive, h1_close,
                                             h1_buffer};

const swco__srv_cb_t *swco__http_handler(const swco_server_t *srv, int listener)
{
    const swco__listener_t *l =
        listener >= 0 && listener < srv->nlisteners ? srv->listeners[listener] : NULL;
    if (l && l->cb_request.fn)
        return &l->cb_request;
    return srv->cb[SWCO__CB_REQUEST].fn ? &srv->cb[SWCO__CB_REQUEST] : NULL;
}

/* ------------------------------------------------------- simulation */

swco__http1_sim_t *swco__http1_sim_new(const swco__http_lopts_t *o, size_t max_body,
                                       swco_http_handler_fn fn, void *arg)
{
    swco__http1_sim_t *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    if (o) {
        s->o = *o;
    } else {
        s->o.enabled = 1;
        s->o.parse_post = s->o.parse_cookie = s->o.parse_files = 1;
        s->o.max_uri_length = 8192;
        s->o.max_header_size = 32768;
    }
    s->fn = fn;
    s->arg = arg;
    s->c = conn_new(NULL, 1, 0, &s->o, max_body);
    if (!s->c) {
        free(s);
        return NULL;
    }
    s->c->sim = s;
    snprintf(s->c->addr, sizeof s->c->addr, "127.0.0.1");
    s->c->port = 1;
    return s;
}

int swco__http1_sim_feed(swco__http1_sim_t *s, const char *data, size_t len)
{
    if (!s->closed)
        h1_receive(s->c, data, len);
    /* what a loop turn would run */
    while (!s->closed && s->c->deferred)
        deferred_feed(s->c);
    return s->closed;
}

const char *swco__http1_sim_output(const swco__http1_sim_t *s, size_t *len)
{
    if (len)
        *len = s->out.len;
    return s->out.p ? s->out.p : "";
}

void swco__http1_sim_free(swco__http1_sim_t *s)
{
    if (!s)
        return;
    s->closed = 1;
    h1_close(s->c);
    swco__hbuf_free(&s->out);
    free(s);
}
