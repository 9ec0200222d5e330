/* WebSocket servers: the upgrade (swco__ws_server_accept, in the HTTP
 * request's coroutine) and the protocol the connection is switched to
 * (swco__ws_proto, on the worker's loop).
 *
 * receive feeds the connection's bytes to the frame reader (frame.c) on
 * the loop: pings are answered there, a close is answered and the
 * connection closed there, and messages are queued.  One coroutine per
 * connection at a time (the runner) takes the queue in order and calls
 * the message callback, then, once the socket is gone, the close callback,
 * and frees the state.  Reads pause while more than a bound of messages
 * waits, so a slow handler costs bounded memory.
 *
 * The worker that serves a connection owns its compression state; a push
 * from another worker (PROCESS, THREAD) builds a plain frame itself and
 * sends it with swco_server_send, which works from any worker.  Whether a
 * connection is a WebSocket is kept in the connection table (conn->ws),
 * which every worker of those modes can read. */
#include "websocket/ws_int.h"

#include <swco/sync.h>
#include <swco/timer.h>

#include <openssl/evp.h>
#include <strings.h>

enum { EV_MESSAGE = 1, EV_CLOSE = 2 };

typedef struct ev {
    struct ev *next;
    int kind;
    int opcode;
    char *p;
    size_t len;
} ev_t;

typedef struct wsconn {
    swco_server_t *srv;
    long long fd;
    int listener;
    const swco__http_lopts_t *opt;
    swco__ws_reader_t rd;
    swco__ws_zip_t rx, tx;
    int pmd;                 /* permessage-deflate in use */
    int tx_usable;           /* our deflater can honour its window */
    swco_mutex_t *txlock;    /* compressed sends from coroutines */
    int tx_inflight;
    swco__hbuf_t zout;       /* a compressed message on its way out */
    ev_t *head, *tail;
    size_t queued;           /* bytes of messages waiting */
    int paused;
    int running;             /* the runner coroutine exists */
    int gone;                /* the socket closed */
    int close_sent;
    int close_code;
    char *close_reason;
    int feeding;             /* in ws_receive: the reader is in use */
    int dead;                /* closed and done while feeding: free after */
    long close_timer;        /* close_soon's timer, cleared when the socket closes */
} wsconn_t;

static size_t queue_limit(const wsconn_t *w)
{
    size_t m = w->opt && w->opt->ws_max_frame_size ? w->opt->ws_max_frame_size : 2u << 20;
    return m < (1u << 20) ? (2u << 20) : 2 * m;
}

static swco__conn_t *conn_of(swco_server_t *srv, long long fd)
{
    return srv ? swco__conn_lookup(&srv->conns, fd) : NULL;
}

static void mark(swco_server_t *srv, long long fd, int state)
{
    swco__conn_t *c = conn_of(srv, fd);
    if (c)
        __atomic_store_n(&c->ws, (uint8_t)state, __ATOMIC_RELEASE);
}

static int ws_state(swco_server_t *srv, long long fd)
{
    swco__conn_t *c = conn_of(srv, fd);
    return c ? __atomic_load_n(&c->ws, __ATOMIC_ACQUIRE) : 0;
}

/* ------------------------------------------------------------ sending */

/* Send one frame (built here) to fd.  Small frames are built on the stack:
 * no allocation per message. */
static int send_frame(swco_server_t *srv, long long fd, int opcode, int more, int compressed,
                      const void *data, size_t len)
{
    char stack[4096 + 16];
    swco__hbuf_t b = {0};
    if (len <= 4096) {
        b.p = stack;
        b.cap = sizeof stack;
    }
    int rc = swco__ws_frame_build(&b, opcode, more, compressed, data, len, 0);
    if (rc == 0) {
        long n = swco_server_send(srv, fd, b.p, b.len);
        rc = n < 0 ? (int)n : 0;
    }
    if (b.p != stack)
        swco__hbuf_free(&b);
    return rc;
}


/* The serving worker's push: compress when negotiated and allowed. */
static int push_local(wsconn_t *w, int opcode, int more, int compress, const void *data,
                      size_t len)
{
    if (!compress || !w->pmd || !w->tx_usable)
        return send_frame(w->srv, w->fd, opcode, more, 0, data, len);
    int in_co = swco_coroutine_id() > 0;
    if (in_co) {
        if (!w->txlock && !(w->txlock = swco_mutex_new()))
            return -ENOMEM;
        int rc = swco_mutex_lock(w->txlock, -1);
        if (rc < 0)
            return rc;
    } else if (w->tx_inflight) {
        /* a coroutine's compressed message waits for room: this one goes
         * plain rather than out of order in the compression stream */
        return send_frame(w->srv, w->fd, opcode, more, 0, data, len);
    }
    w->tx_inflight++;
    w->zout.len = 0;
    int rc = swco__ws_deflate(&w->tx, data, len, &w->zout);
    if (rc == 0)
        rc = send_frame(w->srv, w->fd, opcode, 0, 1, w->zout.p, w->zout.len);
    else
        rc = send_frame(w->srv, w->fd, opcode, more, 0, data, len);
    if (w->zout.cap > 8192)
        swco__hbuf_free(&w->zout); /* an idle connection keeps little */
    w->tx_inflight--;
    if (in_co)
        swco_mutex_unlock(w->txlock);
    return rc;
}

static int valid_send_opcode(int opcode, size_t len, int more)
{
    switch (opcode) {
    case SWCO_WS_TEXT:
    case SWCO_WS_BINARY:
    case SWCO_WS_CONTINUATION:
        return 1;
    case SWCO_WS_PING:
    case SWCO_WS_PONG:
        return len <= 125 && !more;
    default:
        return 0;
    }
}

int swco_ws_push(swco_server_t *srv, long long fd, const void *data, size_t len, int opcode,
                 int flags)
{
    int more = (flags & SWCO_WS_FLAG_MORE) != 0;
    if (!srv || (!data && len) || !valid_send_opcode(opcode, len, more))
        return swco__fail(-EINVAL);
    wsconn_t *w = swco__srv_proto_state(fd, &swco__ws_proto);
    int rc;
    if (w) {
        if (w->gone || w->close_sent)
            return swco__fail(SWCO_ENOCONN);
        int compress = !more && !(flags & SWCO_WS_FLAG_NO_COMPRESS) &&
                       (opcode == SWCO_WS_TEXT || opcode == SWCO_WS_BINARY);
        rc = push_local(w, opcode, more, compress, data, len);
    } else {
        if (ws_state(srv, fd) != 1) {
            int owner = swco__conn_id_owner(fd);
            if (srv->mode == SWCO_SERVER_BASE && owner != srv->conns.owner && owner >= 0 &&
                owner < srv->opt.worker_num)
                return swco__fail(SWCO_ENOTLOCAL);
            return swco__fail(SWCO_ENOCONN);
        }
        rc = send_frame(srv, fd, opcode, more, 0, data, len);
    }
    return rc < 0 ? swco__fail(rc) : 0;
}

long swco_ws_broadcast(swco_server_t *srv, const void *data, size_t len, int opcode,
                       long long exclude_fd)
{
    if (!srv || (!data && len) || (opcode != SWCO_WS_TEXT && opcode != SWCO_WS_BINARY))
        return swco__fail(-EINVAL);
    long long fds[256];
    long long from = 0;
    long sent = 0;
    for (;;) {
        long n = swco_server_connections(srv, from, fds, 256);
        if (n <= 0)
            break;
        for (long i = 0; i < n; i++) {
            if (fds[i] != exclude_fd && swco_ws_is_established(srv, fds[i]) &&
                swco_ws_push(srv, fds[i], data, len, opcode, 0) == 0)
                sent++;
        }
        from = fds[n - 1];
        if (n < 256)
            break;
    }
    return sent;
}

static void close_soon(wsconn_t *w);

int swco_ws_disconnect(swco_server_t *srv, long long fd, int code, const char *reason)
{
    if (!srv)
        return swco__fail(-EINVAL);
    if (code == 0)
        code = SWCO_WS_CLOSE_NORMAL;
    if (!swco__ws_close_code_valid(code) || (reason && strlen(reason) > 123))
        return swco__fail(-EINVAL);
    char pl[125];
    size_t n = swco__ws_close_payload(pl, code, reason);
    wsconn_t *w = swco__srv_proto_state(fd, &swco__ws_proto);
    if (w) {
        if (w->gone || w->close_sent)
            return swco__fail(SWCO_ENOCONN);
        w->close_sent = 1;
        w->close_code = code;
        free(w->close_reason);
        w->close_reason = strdup(reason ? reason : "");
    } else if (ws_state(srv, fd) != 1) {
        return swco__fail(SWCO_ENOCONN);
    }
    mark(srv, fd, 2);
    send_frame(srv, fd, SWCO_WS_CLOSE, 0, 0, pl, n);
    if (w)
        close_soon(w); /* closed when the peer's close frame comes */
    else
        swco_server_close(srv, fd, 0);
    return 0;
}

int swco_ws_is_established(swco_server_t *srv, long long fd)
{
    wsconn_t *w = swco__srv_proto_state(fd, &swco__ws_proto);
    if (w)
        return !w->gone && !w->close_sent;
    return ws_state(srv, fd) == 1;
}

/* ------------------------------------------------------------ runner */

static const swco__srv_cb_t *cb(const wsconn_t *w, int which) { return &w->srv->cb[which]; }

static void conn_free(wsconn_t *w)
{
    while (w->head) {
        ev_t *e = w->head;
        w->head = e->next;
        free(e->p);
        free(e);
    }
    swco__ws_reader_free(&w->rd);
    swco__ws_zip_free(&w->rx);
    swco__ws_zip_free(&w->tx);
    swco__hbuf_free(&w->zout);
    if (w->txlock)
        swco_mutex_free(w->txlock);
    free(w->close_reason);
    free(w);
}

static void runner(void *arg)
{
    wsconn_t *w = arg;
    for (;;) {
        ev_t *e = w->head;
        if (!e)
            break;
        w->head = e->next;
        if (!w->head)
            w->tail = NULL;
        if (e->kind == EV_MESSAGE) {
            w->queued -= e->len;
            if (w->paused && !w->gone && w->queued < queue_limit(w) / 2) {
                w->paused = 0;
                swco_server_resume(w->srv, w->fd);
            }
            const swco__srv_cb_t *m = cb(w, SWCO__CB_WS_MESSAGE);
            if (m->fn)
                ((swco_ws_message_fn)m->fn)(w->srv, w->fd, e->opcode, e->p, e->len, m->arg);
            free(e->p);
            free(e);
            continue;
        }
        /* EV_CLOSE: the last event */
        free(e);
        const swco__srv_cb_t *c = cb(w, SWCO__CB_WS_CLOSE);
        if (c->fn)
            ((swco_ws_close_fn)c->fn)(w->srv, w->fd, w->close_code,
                                      w->close_reason ? w->close_reason : "", c->arg);
        swco_server_t *srv = w->srv;
        if (w->feeding)
            w->dead = 1; /* a callback closed it from inside ws_receive's feed */
        else
            conn_free(w);
        swco__srv_work_end(srv);
        return;
    }
    w->running = 0;
    swco__srv_work_end(w->srv);
}

static void kick(wsconn_t *w)
{
    if (w->running || !w->head)
        return;
    w->running = 1;
    swco__srv_work_begin(w->srv);
    if (swco_coroutine_create(runner, w) < 0) {
        swco__log(SWCO_LOG_ERROR, "websocket: no coroutine for connection %lld: %s", w->fd,
                  swco_strerror(swco_last_error()));
        w->running = 0;
        swco__srv_work_end(w->srv);
    }
}

static int enqueue(wsconn_t *w, int kind, int opcode, swco__hbuf_t *buf)
{
    ev_t *e = calloc(1, sizeof *e);
    if (!e)
        return -ENOMEM;
    e->kind = kind;
    e->opcode = opcode;
    if (buf) {
        if (buf->cap > 4 * buf->len + 256) {
            /* a small message in a big buffer: copy it, keep the buffer */
            e->p = malloc(buf->len + 1);
            if (!e->p) {
                free(e);
                return -ENOMEM;
            }
            memcpy(e->p, buf->p, buf->len + 1);
        } else {
            e->p = buf->p;
            buf->p = NULL;
            buf->cap = 0;
        }
        e->len = buf->len;
        buf->len = 0;
        w->queued += e->len;
    }
    if (w->tail)
        w->tail->next = e;
    else
        w->head = e;
    w->tail = e;
    return 0;
}

/* ----------------------------------------------------------- protocol */

/* How long a connection that was sent a close frame may take to answer
 * it (or, after a protocol error, to hang up) before it is closed. */
#define CLOSE_WAIT 3.0

typedef struct late_close {
    swco_server_t *srv;
    long long fd;
} late_close_t;

static void close_late(long timer_id, void *arg)
{
    (void)timer_id;
    late_close_t *lc = arg;
    swco_server_close(lc->srv, lc->fd, 0);
}

/* Close fd once the peer hung up or CLOSE_WAIT passed: closing now, with
 * its frames still coming, would answer them with a reset that can
 * overtake our close frame. */
static void close_soon(wsconn_t *w)
{
    late_close_t *lc = malloc(sizeof *lc);
    if (lc) {
        lc->srv = w->srv;
        lc->fd = w->fd;
        long t = swco_timer_after(CLOSE_WAIT, close_late, lc, free);
        if (t > 0) {
            w->close_timer = t;
            return;
        }
    }
    swco_server_close(w->srv, w->fd, 0);
}

static void fail_conn(wsconn_t *w, int code)
{
    mark(w->srv, w->fd, 2);
    if (w->close_sent) {
        swco_server_close(w->srv, w->fd, 0);
        return;
    }
    char pl[125];
    size_t n = swco__ws_close_payload(pl, code, NULL);
    w->close_sent = 1;
    w->close_code = code;
    send_frame(w->srv, w->fd, SWCO_WS_CLOSE, 0, 0, pl, n);
    close_soon(w);
}

static int on_frame(void *arg, int opcode, swco__hbuf_t *buf)
{
    wsconn_t *w = arg;
    const swco__http_lopts_t *o = w->opt;
    if (w->gone)
        return 1; /* closed meanwhile: the rest is not read */
    switch (opcode) {
    case SWCO_WS_TEXT:
    case SWCO_WS_BINARY:
        if (w->close_sent)
            return 0;
        if (enqueue(w, EV_MESSAGE, opcode, buf) < 0)
            return SWCO_WS_CLOSE_SERVER_ERROR;
        if (!w->paused && w->queued > queue_limit(w)) {
            w->paused = 1;
            swco_server_pause(w->srv, w->fd);
        }
        kick(w);
        return 0;
    case SWCO_WS_PING:
        if (o->ws_ping_frame) {
            if (enqueue(w, EV_MESSAGE, opcode, buf) < 0)
                return SWCO_WS_CLOSE_SERVER_ERROR;
            kick(w);
        } else if (!w->close_sent) {
            send_frame(w->srv, w->fd, SWCO_WS_PONG, 0, 0, buf->p, buf->len);
        }
        return 0;
    case SWCO_WS_PONG:
        if (o->ws_pong_frame) {
            if (enqueue(w, EV_MESSAGE, opcode, buf) < 0)
                return SWCO_WS_CLOSE_SERVER_ERROR;
            kick(w);
        }
        return 0;
    case SWCO_WS_CLOSE: {
        int code = SWCO_WS_CLOSE_NO_STATUS;
        const char *reason = "";
        if (buf->len >= 2) {
            code = (uint8_t)buf->p[0] << 8 | (uint8_t)buf->p[1];
            reason = buf->p + 2;
        }
        if (!w->close_sent) {
            /* the peer closed first: its code goes to the close callback,
             * and back to it (1000 for a close without one) */
            free(w->close_reason);
            w->close_reason = strdup(reason);
            w->close_code = code;
            char pl[125];
            size_t n = swco__ws_close_payload(
                pl, code == SWCO_WS_CLOSE_NO_STATUS ? SWCO_WS_CLOSE_NORMAL : code, NULL);
            w->close_sent = 1;
            send_frame(w->srv, w->fd, SWCO_WS_CLOSE, 0, 0, pl, n);
        }
        if (o->ws_close_frame && enqueue(w, EV_MESSAGE, opcode, buf) == 0)
            kick(w);
        mark(w->srv, w->fd, 2);
        swco_server_close(w->srv, w->fd, 0);
        return 1; /* nothing after a close is read */
    }
    default:
        return 0;
    }
}

static void *ws_open(swco_server_t *srv, long long fd, int listener)
{
    /* A connection reaches this protocol only through an upgrade. */
    (void)srv, (void)fd, (void)listener;
    return NULL;
}

static void ws_receive(void *cs, const char *data, size_t len)
{
    wsconn_t *w = cs;
    if (w->gone || !len)
        return;
    if (w->rd.failed)
        return; /* after a protocol error: wait for the hang-up */
    /* Coroutines start at once: a message callback may close the
     * connection (and its close callback run) before the feed returns. */
    w->feeding = 1;
    int rc = swco__ws_reader_feed(&w->rd, data, len, on_frame, w);
    w->feeding = 0;
    if (w->dead) {
        conn_free(w);
        return;
    }
    if (rc >= 1000 && !w->gone)
        fail_conn(w, rc);
}

static void ws_close(void *cs)
{
    wsconn_t *w = cs;
    w->gone = 1;
    /* a pending close_soon timer would keep a stopping worker's loop
     * alive (and its reactor unfreed) for nothing */
    if (w->close_timer > 0) {
        swco_timer_clear(w->close_timer);
        w->close_timer = 0;
    }
    if (!w->close_code) {
        w->close_code = SWCO_WS_CLOSE_ABNORMAL;
    }
    if (enqueue(w, EV_CLOSE, 0, NULL) < 0) {
        /* no memory for the event: the close callback is skipped */
        if (!w->running) {
            conn_free(w);
            return;
        }
    }
    kick(w);
}

const swco__srv_proto_t swco__ws_proto = {"websocket", ws_open, ws_receive, ws_close, NULL};

/* ------------------------------------------------------------ upgrade */

/* All fields named name joined with ", " (NULL when none). */
static const char *header_join(swco_http_request_t *req, const char *name, swco__hbuf_t *b)
{
    size_t n = swco_http_request_param_count(req, SWCO_HTTP_HEADER);
    int found = 0;
    for (size_t i = 0; i < n; i++) {
        const char *k = swco_http_request_param_name(req, SWCO_HTTP_HEADER, i);
        if (!k || strcasecmp(k, name))
            continue;
        if (found++ && swco__hbuf_adds(b, ", ") < 0)
            return NULL;
        if (swco__hbuf_adds(b, swco_http_request_param_value(req, SWCO_HTTP_HEADER, i)) < 0)
            return NULL;
    }
    if (!found)
        return NULL;
    if (!b->p && swco__hbuf_reserve(b, 0) < 0)
        return NULL;
    return b->p;
}

static int has_token(const char *list, const char *word)
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

/* A key is the base64 of 16 bytes: 22 characters and "==". */
static int key_valid(const char *k)
{
    if (!k || strlen(k) != 24 || strcmp(k + 22, "==") != 0)
        return 0;
    unsigned char out[24];
    return EVP_DecodeBlock(out, (const unsigned char *)k, 24) == 18;
}

static void *refuse(swco_http_response_t *resp, int status, const char *why)
{
    if (swco_http_response_is_writable(resp)) {
        swco_http_response_status(resp, status, NULL);
        if (status == 426)
            swco_http_response_header(resp, "Sec-WebSocket-Version", "13");
        swco_http_response_end(resp, why, why ? strlen(why) : 0);
    }
    return NULL;
}

void *swco__ws_server_accept(swco_http_request_t *req, swco_http_response_t *resp)
{
    swco_server_t *srv = req->srv;
    const swco__http_lopts_t *o = req->opt;
    const char *up = swco_http_request_param(req, SWCO_HTTP_HEADER, "Upgrade");
    const char *conn = swco_http_request_param(req, SWCO_HTTP_HEADER, "Connection");
    const char *ver = swco_http_request_param(req, SWCO_HTTP_HEADER, "Sec-WebSocket-Version");
    const char *key = swco_http_request_param(req, SWCO_HTTP_HEADER, "Sec-WebSocket-Key");
    if (strcasecmp(swco_http_request_method(req), "GET") != 0)
        return refuse(resp, 405, NULL);
    if (!up || !has_token(up, "websocket") || !conn || !has_token(conn, "upgrade"))
        return refuse(resp, 400, "not a WebSocket upgrade\n");
    if (!ver || strcmp(ver, "13") != 0)
        return refuse(resp, 426, NULL);
    if (!key_valid(key))
        return refuse(resp, 400, "bad Sec-WebSocket-Key\n");

    const swco__srv_cb_t *hs = &srv->cb[SWCO__CB_WS_HANDSHAKE];
    if (hs->fn) {
        int rc = ((swco_ws_handshake_fn)hs->fn)(srv, req, resp, hs->arg);
        if (!swco_http_response_is_writable(resp))
            return NULL; /* it answered itself */
        if (rc != 0)
            return refuse(resp, rc >= 400 && rc <= 599 ? rc : 403, NULL);
    }

    wsconn_t *w = calloc(1, sizeof *w);
    if (!w)
        return refuse(resp, 503, NULL);
    w->srv = srv;
    w->fd = swco_http_request_fd(req);
    w->listener = swco_http_request_listener(req);
    w->opt = o;

    char accept[32];
    swco__ws_accept_key(key, strlen(key), accept);
    swco__hbuf_t ext = {0}, offers = {0};
    if (o->ws_compression) {
        swco__ws_pmd_t pmd;
        const char *off = header_join(req, "Sec-WebSocket-Extensions", &offers);
        if (swco__ws_pmd_negotiate(off, &pmd, &ext) == 1) {
            w->pmd = 1;
            int level = o->compression_level > 0 ? o->compression_level : 1;
            swco__ws_zip_init(&w->tx, 0, pmd.server_max_window_bits,
                              pmd.server_no_context_takeover, level);
            swco__ws_zip_init(&w->rx, 1, pmd.client_max_window_bits,
                              pmd.client_no_context_takeover, 0);
            w->tx_usable = swco__ws_zip_usable(&w->tx);
        }
    }
    swco__ws_reader_init(&w->rd, 1, o->ws_max_frame_size, w->pmd ? &w->rx : NULL);
    swco_http_response_status(resp, 101, NULL);
    swco_http_response_header(resp, "Upgrade", "websocket");
    swco_http_response_header(resp, "Connection", "Upgrade");
    swco_http_response_header(resp, "Sec-WebSocket-Accept", accept);
    if (w->pmd)
        swco_http_response_header(resp, "Sec-WebSocket-Extensions", ext.p);
    swco__hbuf_free(&ext);
    swco__hbuf_free(&offers);
    swco_http_response_set_compression(resp, 0);
    int rc = swco_http_response_end(resp, NULL, 0);
    if (rc < 0 || !swco_server_exists(srv, w->fd)) {
        conn_free(w);
        return NULL;
    }
    mark(srv, w->fd, 1);

    const swco__srv_cb_t *op = &srv->cb[SWCO__CB_WS_OPEN];
    if (op->fn)
        ((swco_ws_open_fn)op->fn)(srv, w->fd, req, op->arg);
    if (!swco_server_exists(srv, w->fd)) {
        /* it went away during open: it still gets its close callback */
        w->gone = 1;
        w->close_code = w->close_code ? w->close_code : SWCO_WS_CLOSE_ABNORMAL;
        if (enqueue(w, EV_CLOSE, 0, NULL) == 0)
            kick(w);
        else
            conn_free(w);
        return NULL;
    }
    return w;
}

/* ------------------------------------------------------------- setup */

swco_server_t *swco_ws_server_new(const char *host, int port, int mode, int sock_type)
{
    swco_server_t *srv = swco_server_new(host, port, mode, sock_type);
    if (!srv)
        return NULL;
    int rc = swco_server_listener_set(srv, 0, "open_http_protocol", "1");
    if (rc == 0)
        rc = swco_server_listener_set(srv, 0, "open_websocket_protocol", "1");
    if (rc < 0) {
        swco_server_free(srv);
        swco__fail(rc);
        return NULL;
    }
    return srv;
}

static int set_cb(swco_server_t *srv, int which, void *fn, void *arg, swco_free_fn arg_free)
{
    if (!srv)
        return swco__fail(-EINVAL);
    if (srv->running)
        return swco__fail(-EBUSY);
    return swco__srv_cb_set(&srv->cb[which], fn, arg, arg_free);
}

int swco_ws_on_handshake(swco_server_t *srv, swco_ws_handshake_fn fn, void *arg,
                         swco_free_fn arg_free)
{
    return set_cb(srv, SWCO__CB_WS_HANDSHAKE, (void *)fn, arg, arg_free);
}

int swco_ws_on_open(swco_server_t *srv, swco_ws_open_fn fn, void *arg, swco_free_fn arg_free)
{
    return set_cb(srv, SWCO__CB_WS_OPEN, (void *)fn, arg, arg_free);
}

int swco_ws_on_message(swco_server_t *srv, swco_ws_message_fn fn, void *arg,
                       swco_free_fn arg_free)
{
    return set_cb(srv, SWCO__CB_WS_MESSAGE, (void *)fn, arg, arg_free);
}

int swco_ws_on_close(swco_server_t *srv, swco_ws_close_fn fn, void *arg, swco_free_fn arg_free)
{
    return set_cb(srv, SWCO__CB_WS_CLOSE, (void *)fn, arg, arg_free);
}
