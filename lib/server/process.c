/* PROCESS mode: a master whose reactor threads own the connections and
 * worker processes that run the callbacks.
 *
 *   master main thread   makes the sockets (process_ipc.c), forks the
 *                        manager, starts the reactor threads, then waits
 *                        for SIGTERM/SIGINT (graceful shutdown), SIGUSR1/2
 *                        (passed to the manager) or the manager's end;
 *   reactor thread r     an engine on every listener: accepts, reads,
 *                        frames, and forwards each event to the worker
 *                        dispatch_mode picks over ev[w][r]; performs the
 *                        workers' requests (rq[w][r]) on its connections;
 *   worker w             reads ev[w][*], hands the events to deliver.c, and
 *                        sends requests for a connection to the reactor
 *                        thread that owns it (the slot's reactor_id in the
 *                        shared table), so any worker reaches any
 *                        connection.
 *
 * Backpressure: a reactor thread queues what a worker's socket cannot take
 * and, while that queue is over socket_buffer_size, stops reading the
 * connections whose data went there; they are read again once it drained
 * to half.  Nothing is dropped and the master's memory stays bounded.
 *
 * Replies: a send that must wait (sendwait, send_yield) carries a request
 * id; the reactor thread runs it in a coroutine of its own (the engine
 * waits there for the socket to drain) and replies with its result, which
 * wakes the worker's coroutine.  Plain sends, close and pause need no
 * reply: the worker checks the connection in the shared table and returns.
 */
#include "server/process_int.h"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Packets read from one socket per readiness callback: the others get
 * their turn. */
#define BATCH 64

/* ================================================= master: reactor threads */

/* Per connection slot, in the master (the slot's reactor thread only). */
enum {
    CF_BP = 1,        /* paused: its worker's event queue is too long */
    CF_USER = 2,      /* paused by a worker (swco_server_pause) */
    CF_QUEUE = 4,     /* sends wait in an squeue */
    CF_EOF = 8,       /* the client's EOF: close event sent, acks awaited */
    CF_EOF_CLOSE = 16 /* all acked: close once the squeue ends */
};

/* A half-closed connection whose workers never acknowledged its close
 * (one died with the event read) is closed after this long. */
#define EOF_ACK_TIMEOUT_MS 60000

typedef struct idlist {
    long long *ids;
    size_t n, cap;
} idlist_t;

typedef struct rthread rthread_t;
typedef struct squeue squeue_t;

typedef struct fdarg {
    rthread_t *rt;
    int w;
} fdarg_t;

typedef struct master {
    swco_server_t *srv;
    swco__proc_shared_t *ps;
    uint8_t *cflags;         /* CF_*, per kernel fd */
    uint16_t *acks;          /* per kernel fd: close acks still awaited (CF_EOF) */
    uint64_t *seen;          /* per kernel fd: workers (bit w % 64) it sent data to */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int nstarted;
} master_t;

struct rthread {
    master_t *m;
    swco_server_t *srv;
    swco__proc_shared_t *ps;
    int id;
    pthread_t tid;
    int joinable;
    int status;              /* 1 running, < 0 could not start */
    swco__reactor_t *loop;
    swco__engine_t *engine;
    swco__outbox_t *ev;      /* [W] events to worker w */
    swco__outbox_t *rp;      /* [W] replies to worker w */
    swco__reasm_t *rq;       /* [W] requests from worker w */
    idlist_t *bp;            /* [W] connections paused for ev[w] */
    fdarg_t *fa;             /* [W] */
    char *rbuf;
    size_t rbuf_size;
    char *pkt;               /* packet payload being built */
    size_t pkt_cap;
    squeue_t *squeues;       /* connections with a send waiting for room */
    int finishing, finished;
    long safety_timer;
    struct eofent {          /* half-closed connections, oldest first */
        long long id, deadline;
    } *eofq;
    size_t eof_head, eof_n, eof_cap;
    long eof_timer;
};

static int idx(const swco__proc_shared_t *ps, int w, int r) { return w * ps->nreactors + r; }

static void want_events(int fd, int events)
{
    (void)swco_event_modify(fd, events);
}

/* ---------------------------------------------------- events to workers */

static void bp_pause(rthread_t *rt, int w, swco__conn_t *c, long long id)
{
    uint8_t *f = &rt->m->cflags[c->fd];
    if (*f & CF_BP)
        return;
    idlist_t *l = &rt->bp[w];
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        long long *ids = realloc(l->ids, cap * sizeof *ids);
        if (!ids)
            return; /* not paused: the queue grows a little more instead */
        l->ids = ids;
        l->cap = cap;
    }
    l->ids[l->n++] = id;
    *f |= CF_BP;
    if (!(*f & CF_USER))
        swco__engine_pause(rt->engine, c, 1);
}

static void bp_resume(rthread_t *rt, int w)
{
    idlist_t *l = &rt->bp[w];
    for (size_t i = 0; i < l->n; i++) {
        swco__conn_t *c = swco__conn_lookup(&rt->srv->conns, l->ids[i]);
        if (!c || c->reactor_id != rt->id || !(rt->m->cflags[c->fd] & CF_BP))
            continue;
        rt->m->cflags[c->fd] &= (uint8_t)~CF_BP;
        if (!(rt->m->cflags[c->fd] & CF_USER) && rt->engine)
            swco__engine_pause(rt->engine, c, 0);
    }
    l->n = 0;
    if (l->cap > 1024) {
        free(l->ids);
        l->ids = NULL;
        l->cap = 0;
    }
}

static int forward(rthread_t *rt, int w, int type, long long conn, int listener, int arg,
                   const char *data, size_t len)
{
    swco__pmsg_hdr_t h;
    memset(&h, 0, sizeof h);
    h.type = (uint8_t)type;
    h.reactor = (uint16_t)rt->id;
    h.listener = (int16_t)listener;
    h.arg = (int16_t)arg;
    h.conn = conn;
    swco__outbox_t *o = &rt->ev[w];
    int had = o->head != NULL;
    int rc = swco__outbox_send(o, &h, data, len);
    if (rc < 0) {
        /* -EPIPE: no process holds the worker's end any more (the manager
         * is gone, at shutdown): nobody is left to tell. */
        swco__log(rc == -EPIPE ? SWCO_LOG_DEBUG : SWCO_LOG_WARNING,
                  "server: event for worker %d lost: %s", w, swco_strerror(rc));
        return rc;
    }
    if (!had && o->head)
        want_events(o->fd, SWCO_EVENT_WRITE);
    return 0;
}

static void on_ev(int fd, int events, void *arg)
{
    fdarg_t *fa = arg;
    rthread_t *rt = fa->rt;
    (void)events;
    swco__outbox_t *o = &rt->ev[fa->w];
    int rc = swco__outbox_flush(o);
    if (rc != 0)
        want_events(fd, 0);
    if (o->bytes <= rt->ps->sockbuf / 2 && rt->bp[fa->w].n)
        bp_resume(rt, fa->w);
}

/* ---------------------------------------------------------- engine hooks */

static void h_connect(void *ud, swco__engine_t *e, swco__conn_t *c)
{
    rthread_t *rt = ud;
    (void)e;
    rt->m->cflags[c->fd] = 0;
    rt->m->acks[c->fd] = 0;
    rt->m->seen[c->fd] = 0;
    if (!swco__proc_conn_events_of(rt->srv, c))
        return;
    long long id = swco__conn_id(&rt->srv->conns, c);
    int w = swco__proc_pick(rt->srv, rt->ps, c, id, SWCO_SERVER_EV_CONNECT, NULL, 0);
    forward(rt, w, SWCO__PM_CONNECT, id, c->listener, 0, NULL, 0);
}

static void h_receive(void *ud, swco__engine_t *e, swco__conn_t *c, const char *data, size_t len)
{
    rthread_t *rt = ud;
    (void)e;
    long long id = swco__conn_id(&rt->srv->conns, c);
    int w = swco__proc_pick(rt->srv, rt->ps, c, id, SWCO_SERVER_EV_RECEIVE, data, len);
    __atomic_add_fetch(&rt->ps->cnt->w[w].dispatched, 1, __ATOMIC_RELAXED);
    rt->m->seen[c->fd] |= (uint64_t)1 << (w & 63);
    forward(rt, w, SWCO__PM_RECEIVE, id, c->listener, 0, data, len);
    if (rt->ev[w].bytes > rt->ps->sockbuf)
        bp_pause(rt, w, c, id);
}

static void rt_check_done(void *arg);

static void h_close(void *ud, swco__engine_t *e, swco__conn_t *c)
{
    rthread_t *rt = ud;
    (void)e;
    /* after the client's EOF the close event went out then */
    int sent = (rt->m->cflags[c->fd] & CF_EOF) != 0;
    rt->m->cflags[c->fd] = 0;
    rt->m->acks[c->fd] = 0;
    rt->m->seen[c->fd] = 0;
    if (!sent && swco__proc_conn_events_of(rt->srv, c)) {
        long long id = swco__conn_id(&rt->srv->conns, c);
        int w = swco__proc_pick(rt->srv, rt->ps, c, id, SWCO_SERVER_EV_CLOSE, NULL, 0);
        forward(rt, w, SWCO__PM_CLOSE, id, c->listener, 0, NULL, 0);
    }
    if (rt->finishing)
        swco_event_defer(rt_check_done, rt, NULL);
}

static void eof_timeout(long tid, void *arg);

static void eof_arm(rthread_t *rt)
{
    if (rt->eof_timer || rt->eof_head == rt->eof_n || rt->finished)
        return;
    long long left = rt->eofq[rt->eof_head].deadline - swco__now_ms();
    long id = swco__timer_add(left > 1 ? left : 1, eof_timeout, rt);
    rt->eof_timer = id > 0 ? id : 0;
}

/* Connections whose close acks did not all come in time: closed. */
static void eof_timeout(long tid, void *arg)
{
    rthread_t *rt = arg;
    (void)tid;
    rt->eof_timer = 0;
    long long now = swco__now_ms();
    while (rt->eof_head < rt->eof_n && rt->eofq[rt->eof_head].deadline <= now) {
        long long id = rt->eofq[rt->eof_head++].id;
        swco__conn_t *c = rt->engine ? swco__conn_lookup(&rt->srv->conns, id) : NULL;
        if (c && c->reactor_id == rt->id && (rt->m->cflags[c->fd] & CF_EOF)) {
            swco__log(SWCO_LOG_WARNING,
                      "server: connection %lld: no worker acknowledged its close; closing", id);
            swco__engine_close(rt->engine, c, 0);
        }
    }
    if (rt->eof_head == rt->eof_n)
        rt->eof_head = rt->eof_n = 0;
    eof_arm(rt);
}

static void eof_track(rthread_t *rt, long long id)
{
    if (rt->eof_head > 0 && rt->eof_head * 2 >= rt->eof_n) {
        memmove(rt->eofq, rt->eofq + rt->eof_head,
                (rt->eof_n - rt->eof_head) * sizeof *rt->eofq);
        rt->eof_n -= rt->eof_head;
        rt->eof_head = 0;
    }
    if (rt->eof_n == rt->eof_cap) {
        size_t cap = rt->eof_cap ? rt->eof_cap * 2 : 16;
        struct eofent *q = realloc(rt->eofq, cap * sizeof *q);
        if (!q)
            return; /* no deadline: the acks (or a heartbeat) end it */
        rt->eofq = q;
        rt->eof_cap = cap;
    }
    rt->eofq[rt->eof_n].id = id;
    rt->eofq[rt->eof_n].deadline = swco__now_ms() + EOF_ACK_TIMEOUT_MS;
    rt->eof_n++;
    eof_arm(rt);
}

/* The client shut its side: the workers that have its data answer first
 * (see SWCO__PMC_ACK).  0 when none has any: closed at once. */
static int h_eof(void *ud, swco__engine_t *e, swco__conn_t *c)
{
    rthread_t *rt = ud;
    (void)e;
    if (rt->finishing)
        return 0;
    long long id = swco__conn_id(&rt->srv->conns, c);
    int cw = -1, n = 0;
    if (swco__proc_conn_events_of(rt->srv, c)) {
        cw = swco__proc_pick(rt->srv, rt->ps, c, id, SWCO_SERVER_EV_CLOSE, NULL, 0);
        if (forward(rt, cw, SWCO__PM_CLOSE, id, c->listener, SWCO__PMC_ACK, NULL, 0) == 0)
            n++;
    }
    uint64_t seen = rt->m->seen[c->fd];
    for (int w = 0; seen && w < rt->ps->nworkers; w++) {
        if (w == cw || !(seen & ((uint64_t)1 << (w & 63))))
            continue;
        if (forward(rt, w, SWCO__PM_CLOSE, id, c->listener, SWCO__PMC_ACK | SWCO__PMC_SILENT,
                    NULL, 0) == 0)
            n++;
    }
    rt->m->cflags[c->fd] |= CF_EOF; /* the close event is out (or nobody to tell) */
    if (n == 0)
        return 0;
    rt->m->acks[c->fd] = (uint16_t)n;
    eof_track(rt, id);
    return 1;
}

/* A worker handled the close event of a half-closed connection. */
static void eof_acked(rthread_t *rt, swco__conn_t *c)
{
    uint8_t *cf = &rt->m->cflags[c->fd];
    if (!(*cf & CF_EOF) || rt->m->acks[c->fd] == 0 || --rt->m->acks[c->fd] > 0)
        return;
    if (*cf & CF_QUEUE) {
        *cf |= CF_EOF_CLOSE; /* after the sends waiting for room */
        return;
    }
    swco__engine_close(rt->engine, c, 0);
}

static void h_packet(void *ud, swco__engine_t *e, swco__listener_t *l, const char *data,
                     size_t len, const swco__addr_t *from)
{
    rthread_t *rt = ud;
    (void)e;
    const char *addr = from ? from->text : "";
    int port = from ? from->port : 0;
    size_t al = strlen(addr);
    if (rt->pkt_cap < al + 1 + len) {
        char *nb = realloc(rt->pkt, al + 1 + len);
        if (!nb)
            return;
        rt->pkt = nb;
        rt->pkt_cap = al + 1 + len;
    }
    memcpy(rt->pkt, addr, al + 1);
    if (len)
        memcpy(rt->pkt + al + 1, data, len);
    int w = swco__proc_pick_packet(rt->srv, rt->ps, addr, port);
    __atomic_add_fetch(&rt->ps->cnt->w[w].dispatched, 1, __ATOMIC_RELAXED);
    forward(rt, w, SWCO__PM_PACKET, port, l->index, 0, rt->pkt, al + 1 + len);
    if (rt->pkt_cap > 256 * 1024) {
        free(rt->pkt);
        rt->pkt = NULL;
        rt->pkt_cap = 0;
    }
}

static void h_buffer(void *ud, swco__engine_t *e, swco__conn_t *c, int full)
{
    rthread_t *rt = ud;
    (void)e;
    long long id = swco__conn_id(&rt->srv->conns, c);
    int w = c->worker_id;
    if (w < 0 || w >= rt->ps->nworkers)
        w = c->fd % rt->ps->nworkers;
    forward(rt, w, SWCO__PM_BUFFER, id, c->listener, full ? 1 : 0, NULL, 0);
}

static const swco__engine_hooks_t hooks = {h_connect, h_receive, h_close, h_packet, h_buffer};

/* ----------------------------------------------------- workers' requests */

static void reply(rthread_t *rt, int w, uint64_t req, long long result)
{
    if (rt->finished)
        return;
    swco__pmsg_hdr_t h;
    memset(&h, 0, sizeof h);
    h.type = SWCO__PM_REPLY;
    h.reactor = (uint16_t)rt->id;
    h.req = req;
    h.conn = result;
    swco__outbox_t *o = &rt->rp[w];
    int had = o->head != NULL;
    if (swco__outbox_send(o, &h, NULL, 0) == 0 && !had && o->head)
        want_events(o->fd, SWCO_EVENT_READ | SWCO_EVENT_WRITE);
}

typedef struct sendjob {
    rthread_t *rt;
    int w;
    int flags;
    uint64_t req;
    long long id;
    size_t len;
    char data[];
} sendjob_t;

/* sendwait: waits here until the bytes reached the socket. */
static void send_job(void *arg)
{
    sendjob_t *j = arg;
    rthread_t *rt = j->rt;
    swco__conn_t *c = rt->engine ? swco__conn_lookup(&rt->srv->conns, j->id) : NULL;
    long rc = SWCO_ENOCONN;
    if (c && c->reactor_id == rt->id)
        rc = swco__engine_send(rt->engine, c, j->data, j->len, j->flags);
    reply(rt, j->w, j->req, rc);
}

/* Sends that wait for room in a connection's output buffer (send_yield),
 * one connection's in order: while the first waits, the later sends to
 * that connection (yielding or not) queue behind it, since the engine
 * would refuse them meanwhile and they must not pass it either. */
typedef struct sjob {
    struct sjob *next;
    int w;
    int flags;
    uint64_t req;
    size_t len;
    char data[];
} sjob_t;

struct squeue {
    struct squeue *next;
    rthread_t *rt;
    long long id;
    sjob_t *head, *tail;
};

static sjob_t *sjob_new(int w, const swco__pmsg_hdr_t *h, const char *data, size_t len)
{
    sjob_t *j = malloc(sizeof *j + len);
    if (!j)
        return NULL;
    j->next = NULL;
    j->w = w;
    j->flags = h->arg & (SWCO__SEND_YIELD | SWCO__SEND_WAIT);
    j->req = h->req;
    j->len = len;
    if (len)
        memcpy(j->data, data, len);
    return j;
}

static void squeue_run(void *arg)
{
    squeue_t *q = arg;
    rthread_t *rt = q->rt;
    while (q->head) {
        sjob_t *j = q->head;
        swco__conn_t *c = rt->engine ? swco__conn_lookup(&rt->srv->conns, q->id) : NULL;
        long rc = SWCO_ENOCONN;
        if (c && c->reactor_id == rt->id)
            rc = swco__engine_send(rt->engine, c, j->data, j->len, j->flags | SWCO__SEND_YIELD);
        if (j->req)
            reply(rt, j->w, j->req, rc);
        else if (rc < 0 && rc != SWCO_ENOCONN)
            swco__log(SWCO_LOG_WARNING, "server: send of %zu bytes to %lld failed: %s", j->len,
                      q->id, swco_strerror((int)rc));
        q->head = j->next;
        if (!q->head)
            q->tail = NULL;
        free(j);
    }
    swco__conn_t *c = swco__conn_lookup(&rt->srv->conns, q->id);
    if (c && c->reactor_id == rt->id) {
        rt->m->cflags[c->fd] &= (uint8_t)~CF_QUEUE;
        if (rt->m->cflags[c->fd] & CF_EOF_CLOSE)
            swco__engine_close(rt->engine, c, 0);
    }
    for (squeue_t **pp = &rt->squeues; *pp; pp = &(*pp)->next) {
        if (*pp == q) {
            *pp = q->next;
            break;
        }
    }
    free(q);
}

static squeue_t *squeue_find(rthread_t *rt, long long id)
{
    for (squeue_t *q = rt->squeues; q; q = q->next)
        if (q->id == id)
            return q;
    return NULL;
}

static void handle_send(rthread_t *rt, int w, swco__conn_t *c, const swco__pmsg_hdr_t *h,
                        const char *data, size_t len)
{
    int flags = h->arg & (SWCO__SEND_YIELD | SWCO__SEND_WAIT);
    uint8_t *cf = &rt->m->cflags[c->fd];
    if (*cf & CF_QUEUE) {
        squeue_t *q = squeue_find(rt, h->conn);
        if (q) {
            sjob_t *j = sjob_new(w, h, data, len);
            if (!j) {
                if (h->req)
                    reply(rt, w, h->req, -ENOMEM);
                return;
            }
            q->tail->next = j;
            q->tail = j;
            return;
        }
        *cf &= (uint8_t)~CF_QUEUE;
    }
    if (!(flags & SWCO__SEND_YIELD)) {
        if (flags & SWCO__SEND_WAIT) {
            sendjob_t *j = malloc(sizeof *j + len);
            if (!j) {
                reply(rt, w, h->req, -ENOMEM);
                return;
            }
            j->rt = rt;
            j->w = w;
            j->flags = flags;
            j->req = h->req;
            j->id = h->conn;
            j->len = len;
            memcpy(j->data, data, len);
            long cid = swco_coroutine_create_ex(send_job, j, free, 0);
            if (cid < 0) { /* not started: j is still ours */
                reply(rt, w, h->req, cid);
                free(j);
            }
            return;
        }
        long rc = swco__engine_send(rt->engine, c, data, len, 0);
        if (rc < 0)
            swco__log(SWCO_LOG_WARNING, "server: send of %zu bytes to %lld failed: %s", len,
                      (long long)h->conn, swco_strerror((int)rc));
        if (h->req)
            reply(rt, w, h->req, rc);
        return;
    }
    if (!(flags & SWCO__SEND_WAIT)) {
        long rc = swco__engine_send(rt->engine, c, data, len, 0);
        if (rc != -ENOBUFS) {
            if (h->req)
                reply(rt, w, h->req, rc);
            return;
        }
    }
    /* Wait for room in a coroutine, the sends after it queued behind. */
    squeue_t *q = calloc(1, sizeof *q);
    sjob_t *j = sjob_new(w, h, data, len);
    if (!q || !j) {
        free(q);
        free(j);
        if (h->req)
            reply(rt, w, h->req, -ENOMEM);
        return;
    }
    q->rt = rt;
    q->id = h->conn;
    q->head = q->tail = j;
    q->next = rt->squeues;
    rt->squeues = q;
    *cf |= CF_QUEUE;
    long cid = swco_coroutine_create(squeue_run, q); /* may finish at once */
    if (cid < 0) {
        rt->squeues = q->next;
        *cf &= (uint8_t)~CF_QUEUE;
        if (h->req)
            reply(rt, w, h->req, cid);
        free(j);
        free(q);
    }
}

static void handle_request(rthread_t *rt, int w, const swco__pmsg_hdr_t *h, const char *data,
                           size_t len)
{
    swco__conn_t *c = swco__conn_lookup(&rt->srv->conns, h->conn);
    if (c && c->reactor_id != rt->id)
        c = NULL;
    switch (h->type) {
    case SWCO__PM_SEND:
        if (c)
            handle_send(rt, w, c, h, data, len);
        else if (h->req)
            reply(rt, w, h->req, SWCO_ENOCONN);
        break;
    case SWCO__PM_SENDFILE: {
        int64_t off, count;
        long long rc = SWCO_ENOCONN;
        if (len > 2 * sizeof(int64_t) && data[len - 1] == 0 && c) {
            memcpy(&off, data, sizeof off);
            memcpy(&count, data + sizeof off, sizeof count);
            rc = swco__engine_sendfile(rt->engine, c, data + 2 * sizeof off, off, count);
        }
        if (h->req)
            reply(rt, w, h->req, rc);
        else if (rc < 0 && c)
            swco__log(SWCO_LOG_WARNING, "server: sendfile to %lld failed: %s",
                      (long long)h->conn, swco_strerror((int)rc));
        break;
    }
    case SWCO__PM_CLOSE_REQ:
        if (c)
            swco__engine_close(rt->engine, c, h->arg);
        break;
    case SWCO__PM_CLOSE_ACK:
        if (c)
            eof_acked(rt, c);
        break;
    case SWCO__PM_PAUSE:
        if (!c)
            break;
        if (h->arg) {
            rt->m->cflags[c->fd] |= CF_USER;
            swco__engine_pause(rt->engine, c, 1);
        } else {
            rt->m->cflags[c->fd] &= (uint8_t)~CF_USER;
            if (!(rt->m->cflags[c->fd] & CF_BP))
                swco__engine_pause(rt->engine, c, 0);
        }
        break;
    default:
        break;
    }
}

/* Read up to BATCH packets: 1 when there may be more, 0 when drained. */
static int read_requests(rthread_t *rt, int w)
{
    int fd = rt->ps->rq_m[idx(rt->ps, w, rt->id)];
    for (int i = 0; i < BATCH; i++) {
        ssize_t n = recv(fd, rt->rbuf, rt->rbuf_size, MSG_DONTWAIT | MSG_TRUNC);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return 0;
        }
        if (n == 0) { /* every worker end closed: nothing more comes */
            want_events(fd, 0);
            return 0;
        }
        if ((size_t)n > rt->rbuf_size) {
            rt->rq[w].dropped++;
            continue;
        }
        swco__pmsg_hdr_t h;
        const char *data;
        size_t len;
        if (swco__reasm_feed(&rt->rq[w], rt->rbuf, (size_t)n, &h, &data, &len))
            handle_request(rt, w, &h, data, len);
        if (rt->rq[w].cap > 4 * rt->ps->chunk && !rt->rq[w].active)
            swco__reasm_free(&rt->rq[w]);
        if (!rt->engine)
            return 0;
    }
    return 1;
}

static void on_rq(int fd, int events, void *arg)
{
    fdarg_t *fa = arg;
    rthread_t *rt = fa->rt;
    if (events & SWCO_EVENT_WRITE) {
        if (swco__outbox_flush(&rt->rp[fa->w]) != 0)
            want_events(fd, SWCO_EVENT_READ);
    }
    if (events & (SWCO_EVENT_READ | SWCO_EVENT_ERROR))
        read_requests(rt, fa->w);
}

/* --------------------------------------------------- reactor thread life */

static void rt_unregister(rthread_t *rt)
{
    for (int w = 0; w < rt->ps->nsenders; w++) {
        if (w < rt->ps->nworkers)
            (void)swco_event_del(rt->ps->ev_m[idx(rt->ps, w, rt->id)]);
        (void)swco_event_del(rt->ps->rq_m[idx(rt->ps, w, rt->id)]);
    }
}

static void rt_final(rthread_t *rt)
{
    if (rt->finished)
        return;
    rt->finished = 1;
    if (rt->safety_timer > 0)
        swco__timer_del(rt->safety_timer);
    rt->safety_timer = 0;
    if (rt->eof_timer > 0)
        swco__timer_del(rt->eof_timer);
    rt->eof_timer = 0;
    /* What the workers' last requests queued is written as far as the
     * clients take it within the wait; engine_free closes the rest. */
    swco__engine_t *e = rt->engine;
    rt->engine = NULL;
    swco__engine_free(e);
    rt_unregister(rt);
    swco__reactor_unref(rt->loop);
}

static void rt_check_done(void *arg)
{
    rthread_t *rt = arg;
    if (!rt->finished && rt->engine && swco__engine_count(rt->engine) == 0)
        rt_final(rt);
}

static void rt_safety(long id, void *arg)
{
    rthread_t *rt = arg;
    (void)id;
    rt->safety_timer = 0;
    rt_final(rt);
}

/* Posted by the main thread: stop accepting (graceful shutdown began). */
static void rt_stop_accepting(void *arg)
{
    rthread_t *rt = arg;
    if (rt->engine)
        swco__engine_stop_accepting(rt->engine);
}

/* Posted by the main thread once the workers are gone: do what they asked
 * last, close the connections (their output written first), end. */
static void rt_finish(void *arg)
{
    rthread_t *rt = arg;
    if (rt->finishing)
        return;
    rt->finishing = 1;
    for (int w = 0; w < rt->ps->nsenders; w++)
        while (rt->engine && read_requests(rt, w))
            ;
    if (!rt->engine)
        return;
    swco__engine_close_all(rt->engine, 0);
    double wait = rt->srv->opt.max_wait_time > 0 ? rt->srv->opt.max_wait_time : 3.0;
    long id = swco__timer_add(swco__seconds_to_ms(wait), rt_safety, rt);
    rt->safety_timer = id > 0 ? id : 0;
    swco_event_defer(rt_check_done, rt, NULL);
}

static void rt_report(rthread_t *rt, int status)
{
    pthread_mutex_lock(&rt->m->lock);
    rt->status = status;
    rt->m->nstarted++;
    pthread_cond_broadcast(&rt->m->cond);
    pthread_mutex_unlock(&rt->m->lock);
}

static void reactor_main(void *arg)
{
    rthread_t *rt = arg;
    swco_server_t *srv = rt->srv;
    int rc = 0;
    rt->loop = swco__reactor_get();
    if (!rt->loop) {
        rt_report(rt, -ENOMEM);
        return;
    }
    swco__reactor_ref(rt->loop); /* alive until rt_final, whatever it serves */
    rt->engine = swco__engine_new(srv, &srv->conns, rt->id, &hooks, rt);
    if (!rt->engine)
        rc = swco_last_error() < 0 ? swco_last_error() : -ENOMEM;
    else
        swco__engine_on_eof(rt->engine, h_eof);
    for (int i = 0; rc == 0 && i < srv->nlisteners; i++)
        rc = swco__engine_listen(rt->engine, srv->listeners[i], srv->listeners[i]->fd);
    for (int w = 0; rc == 0 && w < rt->ps->nsenders; w++) {
        if (w < rt->ps->nworkers)
            rc = swco_event_add(rt->ps->ev_m[idx(rt->ps, w, rt->id)],
                                SWCO_EVENT_WRITE | SWCO_EVENT_NOREF, on_ev, &rt->fa[w], NULL);
        if (rc == 0)
            rc = swco_event_add(rt->ps->rq_m[idx(rt->ps, w, rt->id)],
                                SWCO_EVENT_READ | SWCO_EVENT_NOREF, on_rq, &rt->fa[w], NULL);
    }
    if (rc) {
        rt->finished = 1;
        swco__engine_t *e = rt->engine;
        rt->engine = NULL;
        swco__engine_free(e);
        rt_unregister(rt);
        swco__reactor_unref(rt->loop);
        rt_report(rt, rc);
        return;
    }
    rt_report(rt, 1);
}

static void *reactor_thread(void *arg)
{
    rthread_t *rt = arg;
    int rc = swco_run(reactor_main, rt);
    if (rc < 0 && rt->status == 0)
        rt_report(rt, rc);
    return NULL;
}

static void rt_free(rthread_t *rt)
{
    int W = rt->ps->nworkers;
    for (int w = 0; w < rt->ps->nsenders; w++) {
        if (rt->ev && w < W)
            swco__outbox_clear(&rt->ev[w]);
        if (rt->rp)
            swco__outbox_clear(&rt->rp[w]);
        if (rt->rq)
            swco__reasm_free(&rt->rq[w]);
        if (rt->bp && w < W)
            free(rt->bp[w].ids);
    }
    free(rt->ev);
    free(rt->rp);
    free(rt->rq);
    free(rt->bp);
    free(rt->fa);
    free(rt->rbuf);
    free(rt->pkt);
    free(rt->eofq);
}

static int rt_init(rthread_t *rt, master_t *m, int id)
{
    swco__proc_shared_t *ps = m->ps;
    int W = ps->nworkers, S = ps->nsenders;
    memset(rt, 0, sizeof *rt);
    rt->m = m;
    rt->srv = m->srv;
    rt->ps = ps;
    rt->id = id;
    rt->ev = calloc((size_t)W, sizeof *rt->ev);
    rt->rp = calloc((size_t)S, sizeof *rt->rp);
    rt->rq = calloc((size_t)S, sizeof *rt->rq);
    rt->bp = calloc((size_t)W, sizeof *rt->bp);
    rt->fa = calloc((size_t)S, sizeof *rt->fa);
    rt->rbuf_size = sizeof(swco__pmsg_hdr_t) + ps->chunk;
    rt->rbuf = malloc(rt->rbuf_size);
    if (!rt->ev || !rt->rp || !rt->rq || !rt->bp || !rt->fa || !rt->rbuf)
        return -ENOMEM;
    for (int w = 0; w < S; w++) {
        if (w < W)
            swco__outbox_init(&rt->ev[w], ps->ev_m[idx(ps, w, id)], ps->chunk);
        swco__outbox_init(&rt->rp[w], ps->rq_m[idx(ps, w, id)], ps->chunk);
        rt->fa[w].rt = rt;
        rt->fa[w].w = w;
    }
    return 0;
}

/* ======================================================= master: main */

/* Wait for a signal of set until deadline (monotonic seconds; <= 0: no
 * limit).  Returns the signal, or 0 when the deadline passed. */
static int wait_signal(const sigset_t *set, double deadline)
{
    for (;;) {
        siginfo_t si;
        int sig;
        if (deadline > 0) {
            double left = deadline - (double)swco__now_ms() / 1000.0;
            if (left <= 0)
                return 0;
            struct timespec ts = {(time_t)left, (long)((left - (double)(time_t)left) * 1e9)};
            sig = sigtimedwait(set, &si, &ts);
        } else {
            sig = sigwaitinfo(set, &si);
        }
        if (sig > 0)
            return sig;
        if (errno == EAGAIN)
            return 0;
        if (errno != EINTR)
            return -errno;
    }
}

static int process_start(swco_server_t *srv)
{
    int W = srv->opt.worker_num > 0 ? srv->opt.worker_num : 1;
    int R = srv->opt.reactor_num > 0 ? srv->opt.reactor_num : 1;
    int err = 0;
    if (!srv->shm || !srv->conns.slots)
        return -EINVAL;
    int T = srv->opt.task_worker_num > 0 ? srv->opt.task_worker_num : 0;
    swco__proc_shared_t *ps = swco__proc_shared_new(W, T, R, srv->opt.socket_buffer_size, &err);
    if (!ps)
        return err;
    master_t m;
    memset(&m, 0, sizeof m);
    m.srv = srv;
    m.ps = ps;
    size_t cap = srv->conns.cap ? srv->conns.cap : 1;
    m.cflags = calloc(cap, 1);
    m.acks = calloc(cap, sizeof *m.acks);
    m.seen = calloc(cap, sizeof *m.seen);
    rthread_t *rts = calloc((size_t)R, sizeof *rts);
    if (!m.cflags || !m.acks || !m.seen || !rts) {
        free(m.cflags);
        free(m.acks);
        free(m.seen);
        free(rts);
        swco__proc_shared_free(ps);
        return -ENOMEM;
    }
    pthread_mutex_init(&m.lock, NULL);
    pthread_cond_init(&m.cond, NULL);
    srv->mode_shared = ps;

    /* The signals the main thread waits for are blocked before the
     * manager forks (it gets the old mask back) and before the reactor
     * threads start (they inherit it: they never see a signal). */
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &set, &old);

    pid_t mgr = fork();
    if (mgr == 0) {
        static swco__srv_self_t self;
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        swco__proc_shared_close(ps, 1);
        self.role = SWCO__ROLE_MANAGER;
        self.worker_id = -1;
        swco__srv_self = &self;
        int rc = swco__srv_manager_run(srv);
        _exit(rc < 0 ? 1 : 0);
    }
    int rc = 0;
    if (mgr < 0)
        rc = -errno;
    else
        __atomic_store_n(&srv->shm->manager_pid, (int32_t)mgr, __ATOMIC_RELAXED);
    /* The manager (and through it each worker) keeps the workers' ends. */
    swco__proc_shared_close(ps, 0);
    swco__proc_shared_compact(ps);

    int nthreads = 0;
    for (int r = 0; rc == 0 && r < R; r++) {
        rc = rt_init(&rts[r], &m, r);
        if (rc == 0) {
            rc = -pthread_create(&rts[r].tid, NULL, reactor_thread, &rts[r]);
            if (rc == 0) {
                rts[r].joinable = 1;
                nthreads++;
            }
        }
    }
    pthread_mutex_lock(&m.lock);
    while (m.nstarted < nthreads)
        pthread_cond_wait(&m.cond, &m.lock);
    pthread_mutex_unlock(&m.lock);
    for (int r = 0; rc == 0 && r < nthreads; r++)
        if (rts[r].status < 0)
            rc = rts[r].status;

    int manager_gone = mgr < 0;
    if (rc == 0) {
        /* Serve until told to stop or the manager ends.  (server.c runs
         * the start and shutdown callbacks around this function.) */
        for (;;) {
            int st;
            if (waitpid(mgr, &st, WNOHANG) == mgr) {
                manager_gone = 1;
                swco__log(SWCO_LOG_ERROR, "server: the manager ended; shutting down");
                break;
            }
            int sig = wait_signal(&set, 0);
            if (sig == SIGCHLD)
                continue;
            if (sig == SIGUSR1 || sig == SIGUSR2) {
                kill(mgr, sig);
                continue;
            }
            break; /* SIGTERM, SIGINT (or the wait failed) */
        }
    }

    /* Graceful stop: no new connection; the workers finish their work
     * (the manager stops them, up to max_wait_time) while the reactor
     * threads still carry what they send; then the connections close. */
    __atomic_store_n(&srv->shm->shutting_down, 1, __ATOMIC_RELAXED);
    for (int r = 0; r < nthreads; r++)
        if (rts[r].status > 0)
            swco__reactor_post(rts[r].loop, rt_stop_accepting, &rts[r]);
    if (!manager_gone) {
        kill(mgr, SIGTERM);
        double wait = srv->opt.max_wait_time > 0 ? srv->opt.max_wait_time : 3.0;
        double deadline = (double)swco__now_ms() / 1000.0 + wait + 5.0;
        int st;
        while (waitpid(mgr, &st, WNOHANG) != mgr) {
            int sig = wait_signal(&set, deadline);
            if (sig == 0) {
                swco__log(SWCO_LOG_ERROR, "server: the manager did not stop; killing it");
                kill(mgr, SIGKILL);
                waitpid(mgr, &st, 0);
                break;
            }
        }
    }
    __atomic_store_n(&srv->shm->manager_pid, 0, __ATOMIC_RELAXED);
    for (int r = 0; r < nthreads; r++)
        if (rts[r].status > 0)
            swco__reactor_post(rts[r].loop, rt_finish, &rts[r]);
    for (int r = 0; r < R; r++)
        if (rts[r].joinable)
            pthread_join(rts[r].tid, NULL);

    for (int r = 0; r < R; r++)
        if (rts[r].m)
            rt_free(&rts[r]);
    free(rts);
    free(m.cflags);
    free(m.acks);
    free(m.seen);
    pthread_mutex_destroy(&m.lock);
    pthread_cond_destroy(&m.cond);
    srv->mode_shared = NULL;
    swco__proc_shared_free(ps);
    /* Signals that came during shutdown are not the caller's business. */
    struct timespec zero = {0, 0};
    while (sigtimedwait(&set, NULL, &zero) > 0)
        ;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

/* ============================================================== worker */

typedef struct wstate wstate_t;

typedef struct wfd {
    wstate_t *ws;
    int r;
} wfd_t;

typedef struct pending {
    swco__list_t link;
    uint64_t req;
    long long result;
    int done;
    swco__waiter_t w;
} pending_t;

struct wstate {
    swco_server_t *srv;
    swco__proc_shared_t *ps;
    int wid, R;
    swco__outbox_t *rq;     /* [R] requests to reactor r */
    swco__reasm_t *evr;     /* [R] events from reactor r */
    swco__reasm_t *rpr;     /* [R] replies from reactor r */
    wfd_t *fa;              /* [R] */
    char *rbuf;
    size_t rbuf_size;
    swco__list_t pending;
    uint64_t next_req;
    int stopping, gone;
    long queued;            /* outboxes with packets waiting */
    swco__reactor_t *loop;
};

/* The worker process's state, for swco__proc_worker_end once its loop
 * (and the self record pointing at it) is gone. */
static wstate_t *worker_state;

static wstate_t *wself(void)
{
    swco__srv_self_t *me = swco__srv_me();
    return me->role == SWCO__ROLE_WORKER ? me->mode_state : NULL;
}

static void master_gone(wstate_t *ws)
{
    if (ws->gone)
        return;
    ws->gone = 1;
    for (int r = 0; r < ws->R; r++) {
        want_events(ws->ps->ev_w[idx(ws->ps, ws->wid, r)], 0);
        want_events(ws->ps->rq_w[idx(ws->ps, ws->wid, r)], 0);
        swco__outbox_clear(&ws->rq[r]);
    }
    if (ws->queued && ws->loop)
        swco__reactor_unref(ws->loop);
    ws->queued = 0;
    while (!swco__list_empty(&ws->pending)) {
        pending_t *p = SWCO__CONTAINER(ws->pending.next, pending_t, link);
        swco__list_unlink(&p->link);
        p->done = 1;
        p->result = -EPIPE;
        swco__co_wake(&p->w, 0);
    }
    swco__srv_worker_stop(ws->srv);
}

static int wsend(wstate_t *ws, int r, swco__pmsg_hdr_t *h, const void *data, size_t len);

static void handle_event(wstate_t *ws, const swco__pmsg_hdr_t *h, const char *data, size_t len)
{
    swco_server_t *srv = ws->srv;
    switch (h->type) {
    case SWCO__PM_CONNECT:
        swco__srv_deliver_connect(srv, h->conn, h->reactor, h->listener);
        break;
    case SWCO__PM_RECEIVE:
        __atomic_add_fetch(&ws->ps->cnt->w[ws->wid].taken, 1, __ATOMIC_RELAXED);
        swco__srv_deliver_receive(srv, h->conn, h->reactor, h->listener, data, len);
        break;
    case SWCO__PM_CLOSE:
        if (!(h->arg & SWCO__PMC_SILENT))
            swco__srv_deliver_close(srv, h->conn, h->reactor, h->listener);
        if ((h->arg & SWCO__PMC_ACK) && h->reactor < ws->R) {
            /* after what the handlers so far sent on this socket: the
             * master closes the connection once it wrote those */
            swco__pmsg_hdr_t a;
            memset(&a, 0, sizeof a);
            a.type = SWCO__PM_CLOSE_ACK;
            a.conn = h->conn;
            (void)wsend(ws, h->reactor, &a, NULL, 0);
        }
        break;
    case SWCO__PM_BUFFER:
        swco__srv_deliver_buffer(srv, h->conn, h->reactor, h->arg);
        break;
    case SWCO__PM_PACKET: {
        __atomic_add_fetch(&ws->ps->cnt->w[ws->wid].taken, 1, __ATOMIC_RELAXED);
        const char *nul = memchr(data, 0, len);
        if (!nul)
            break;
        size_t al = (size_t)(nul - data) + 1;
        swco__srv_deliver_packet(srv, h->listener, data + al, len - al, data, (int)h->conn);
        break;
    }
    default:
        break;
    }
}

static void on_wev(int fd, int events, void *arg)
{
    wfd_t *fa = arg;
    wstate_t *ws = fa->ws;
    swco__reasm_t *ra = &ws->evr[fa->r];
    (void)events;
    for (int i = 0; i < BATCH && !ws->gone; i++) {
        if (ws->stopping && !ra->active) {
            /* What is left is the next worker's with this id. */
            want_events(fd, 0);
            return;
        }
        ssize_t n = recv(fd, ws->rbuf, ws->rbuf_size, MSG_DONTWAIT | MSG_TRUNC);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        if (n == 0) {
            master_gone(ws);
            return;
        }
        if ((size_t)n > ws->rbuf_size) {
            ra->dropped++;
            continue;
        }
        swco__pmsg_hdr_t h;
        const char *data;
        size_t len;
        if (swco__reasm_feed(ra, ws->rbuf, (size_t)n, &h, &data, &len)) {
            handle_event(ws, &h, data, len);
            if (ra->cap > 4 * ws->ps->chunk && !ra->active)
                swco__reasm_free(ra);
        }
    }
}

static void flush_requests(wstate_t *ws, int r)
{
    swco__outbox_t *o = &ws->rq[r];
    if (!o->head)
        return;
    int rc = swco__outbox_flush(o);
    if (rc == 0)
        return;
    want_events(o->fd, SWCO_EVENT_READ);
    if (--ws->queued == 0)
        swco__reactor_unref(ws->loop);
    if (rc < 0)
        master_gone(ws);
}

static void on_wrq(int fd, int events, void *arg)
{
    wfd_t *fa = arg;
    wstate_t *ws = fa->ws;
    if (events & SWCO_EVENT_WRITE)
        flush_requests(ws, fa->r);
    if (!(events & (SWCO_EVENT_READ | SWCO_EVENT_ERROR)))
        return;
    for (int i = 0; i < BATCH && !ws->gone; i++) {
        ssize_t n = recv(fd, ws->rbuf, ws->rbuf_size, MSG_DONTWAIT | MSG_TRUNC);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        if (n == 0) {
            master_gone(ws);
            return;
        }
        swco__pmsg_hdr_t h;
        const char *data;
        size_t len;
        if ((size_t)n > ws->rbuf_size ||
            !swco__reasm_feed(&ws->rpr[fa->r], ws->rbuf, (size_t)n, &h, &data, &len) ||
            h.type != SWCO__PM_REPLY)
            continue;
        for (swco__list_t *l = ws->pending.next; l != &ws->pending; l = l->next) {
            pending_t *p = SWCO__CONTAINER(l, pending_t, link);
            if (p->req != h.req)
                continue;
            swco__list_unlink(&p->link);
            p->done = 1;
            p->result = h.conn;
            swco__co_wake(&p->w, 0);
            break;
        }
    }
}

/* A stopping worker writes what it queued before it goes: its loop may be
 * left as soon as its last handler ended.  Blocks, up to max_wait_time;
 * the reactor threads read these sockets all the time. */
static void flush_now(wstate_t *ws)
{
    double wait = ws->srv->opt.max_wait_time > 0 ? ws->srv->opt.max_wait_time : 3.0;
    long long deadline = swco__now_ms() + swco__seconds_to_ms(wait);
    for (int r = 0; r < ws->R && !ws->gone; r++) {
        while (ws->rq[r].head && !ws->gone) {
            flush_requests(ws, r);
            if (!ws->rq[r].head)
                break;
            long long left = deadline - swco__now_ms();
            if (left <= 0)
                return;
            struct pollfd p = {ws->rq[r].fd, POLLOUT, 0};
            (void)poll(&p, 1, left > 1000 ? 1000 : (int)left);
        }
    }
}

/* Queue a request to reactor r: 0 or a negative code. */
static int wsend(wstate_t *ws, int r, swco__pmsg_hdr_t *h, const void *data, size_t len)
{
    if (ws->gone)
        return -EPIPE;
    swco__outbox_t *o = &ws->rq[r];
    int had = o->head != NULL;
    h->worker = (uint32_t)ws->wid;
    h->reactor = (uint16_t)r;
    int rc = swco__outbox_send(o, h, data, len);
    if (rc == -ENOMEM)
        return rc;
    if (rc < 0) {
        master_gone(ws);
        return -EPIPE;
    }
    if (!had && o->head) {
        /* Keep the loop alive until the queue is written: a worker that
         * ends right after sending must not leave it behind. */
        if (ws->queued++ == 0)
            swco__reactor_ref(ws->loop);
        want_events(o->fd, SWCO_EVENT_READ | SWCO_EVENT_WRITE);
        if (ws->stopping)
            flush_now(ws);
    }
    return 0;
}

static void pending_cancel(swco__waiter_t *w)
{
    pending_t *p = SWCO__CONTAINER(w, pending_t, w);
    swco__list_unlink(&p->link);
}

/* Send a request and wait in this coroutine for its reply. */
static long long request_wait(wstate_t *ws, int r, swco__pmsg_hdr_t *h, const void *data,
                              size_t len)
{
    pending_t p;
    memset(&p, 0, sizeof p);
    swco__list_init(&p.link);
    p.req = ws->next_req++;
    h->req = p.req;
    int rc = wsend(ws, r, h, data, len);
    if (rc < 0)
        return rc;
    swco__list_push(&ws->pending, &p.link);
    p.w.what = "server reply";
    p.w.cancel = pending_cancel;
    while (!p.done) {
        int wr = swco__wait_ms(&p.w, -1);
        if (wr < 0 && !p.done) {
            if (!swco__list_empty(&p.link))
                swco__list_unlink(&p.link);
            return wr;
        }
    }
    return p.result;
}

/* The connection fd names and the reactor thread that owns it. */
static swco__conn_t *wconn(const swco_server_t *srv, const wstate_t *ws, long long fd, int *r)
{
    swco__conn_t *c = swco__conn_lookup(&srv->conns, fd);
    if (!c || c->reactor_id < 0 || c->reactor_id >= ws->R)
        return NULL;
    *r = c->reactor_id;
    return c;
}

/* ------------------------------------------------- task workers' sends */

/* A task worker's requests: its own sockets to every reactor thread,
 * written through at once (a task worker waits for nothing else). */
static swco__outbox_t *task_rq;

static long task_request(swco_server_t *srv, int type, long long fd, int arg, const void *data,
                         size_t len)
{
    swco__proc_shared_t *ps = srv->mode_shared;
    swco__srv_self_t *me = swco__srv_me();
    if (!ps || me->role != SWCO__ROLE_TASK || me->worker_id < ps->nworkers ||
        me->worker_id >= ps->nsenders)
        return SWCO_ENOTWORKER;
    swco__conn_t *c = swco__conn_lookup(&srv->conns, fd);
    if (!c || c->reactor_id < 0 || c->reactor_id >= ps->nreactors)
        return SWCO_ENOCONN;
    int r = c->reactor_id;
    if (!task_rq) {
        task_rq = calloc((size_t)ps->nreactors, sizeof *task_rq);
        if (!task_rq)
            return -ENOMEM;
        for (int i = 0; i < ps->nreactors; i++)
            swco__outbox_init(&task_rq[i], ps->rq_w[idx(ps, me->worker_id, i)], ps->chunk);
    }
    swco__pmsg_hdr_t h;
    memset(&h, 0, sizeof h);
    h.type = (uint8_t)type;
    h.conn = fd;
    h.arg = (int16_t)arg;
    h.worker = (uint32_t)me->worker_id;
    h.reactor = (uint16_t)r;
    swco__outbox_t *o = &task_rq[r];
    int rc = swco__outbox_send(o, &h, data, len);
    while (rc == 0 && o->head) {
        struct pollfd p = {o->fd, POLLOUT, 0};
        if (poll(&p, 1, -1) < 0 && errno != EINTR)
            rc = -errno;
        else if ((rc = swco__outbox_flush(o)) > 0)
            rc = 0;
    }
    if (rc < 0)
        swco__outbox_clear(o);
    return rc < 0 ? (rc == -ENOMEM ? rc : -EPIPE) : (long)len;
}

static long op_send(swco_server_t *srv, long long fd, const void *data, size_t len, int flags)
{
    wstate_t *ws = wself();
    int r;
    if (!ws)
        return task_request(srv, SWCO__PM_SEND, fd, 0, data, len);
    swco__conn_t *c = wconn(srv, ws, fd, &r);
    if (!c)
        return SWCO_ENOCONN;
    int can_wait = swco__co_can_wait() == 0;
    flags &= SWCO__SEND_YIELD | SWCO__SEND_WAIT;
    if (srv->opt.send_yield)
        flags |= SWCO__SEND_YIELD;
    if (!can_wait) {
        if (flags & SWCO__SEND_WAIT)
            return SWCO_ENOTCO;
        flags &= ~SWCO__SEND_YIELD;
    }
    swco__pmsg_hdr_t h;
    memset(&h, 0, sizeof h);
    h.type = SWCO__PM_SEND;
    h.conn = fd;
    h.listener = c->listener;
    h.arg = (int16_t)flags;
    /* The engine's rule, from the shared figures: a send that would pass
     * buffer_output_size while output is queued is refused (or waits). */
    size_t limit = srv->opt.buffer_output_size;
    int64_t queued = __atomic_load_n(&c->send_queued, __ATOMIC_RELAXED);
    int full = limit && queued > 0 && (size_t)queued + len > limit;
    if ((flags & SWCO__SEND_WAIT) || (full && (flags & SWCO__SEND_YIELD)))
        return (long)request_wait(ws, r, &h, data, len);
    if (full)
        return -ENOBUFS;
    /* YIELD stays in the flags: if the buffer filled meanwhile the
     * reactor thread waits for room instead of dropping the data. */
    int rc = wsend(ws, r, &h, data, len);
    return rc < 0 ? rc : (long)len;
}

static long long op_sendfile(swco_server_t *srv, long long fd, const char *path,
                             long long offset, long long length)
{
    wstate_t *ws = wself();
    int r;
    if (!ws)
        return SWCO_ENOTWORKER;
    if (!path || offset < 0 || length < 0)
        return -EINVAL;
    swco__conn_t *c = wconn(srv, ws, fd, &r);
    if (!c)
        return SWCO_ENOCONN;
    struct stat st;
    if (stat(path, &st) < 0)
        return -errno;
    if (!S_ISREG(st.st_mode))
        return -EINVAL;
    if (offset > (long long)st.st_size || length > (long long)st.st_size - offset)
        return -EINVAL;
    long long count = length > 0 ? length : (long long)st.st_size - offset;
    size_t pl = strlen(path) + 1;
    size_t len = 2 * sizeof(int64_t) + pl;
    char *buf = malloc(len);
    if (!buf)
        return -ENOMEM;
    int64_t o64 = offset, c64 = count;
    memcpy(buf, &o64, sizeof o64);
    memcpy(buf + sizeof o64, &c64, sizeof c64);
    memcpy(buf + 2 * sizeof o64, path, pl);
    swco__pmsg_hdr_t h;
    memset(&h, 0, sizeof h);
    h.type = SWCO__PM_SENDFILE;
    h.conn = fd;
    int rc = wsend(ws, r, &h, buf, len);
    free(buf);
    return rc < 0 ? rc : count;
}

static int op_close(swco_server_t *srv, long long fd, int reset)
{
    wstate_t *ws = wself();
    int r;
    if (!ws) {
        long rc = task_request(srv, SWCO__PM_CLOSE_REQ, fd, reset ? 1 : 0, NULL, 0);
        return rc < 0 ? (int)rc : 0;
    }
    if (!wconn(srv, ws, fd, &r))
        return SWCO_ENOCONN;
    swco__pmsg_hdr_t h;
    memset(&h, 0, sizeof h);
    h.type = SWCO__PM_CLOSE_REQ;
    h.conn = fd;
    h.arg = reset ? 1 : 0;
    int rc = wsend(ws, r, &h, NULL, 0);
    return rc < 0 ? rc : 0;
}

static int op_pause(swco_server_t *srv, long long fd, int pause)
{
    wstate_t *ws = wself();
    int r;
    if (!ws) {
        long rc = task_request(srv, SWCO__PM_PAUSE, fd, pause ? 1 : 0, NULL, 0);
        return rc < 0 ? (int)rc : 0;
    }
    if (!wconn(srv, ws, fd, &r))
        return SWCO_ENOCONN;
    swco__pmsg_hdr_t h;
    memset(&h, 0, sizeof h);
    h.type = SWCO__PM_PAUSE;
    h.conn = fd;
    h.arg = pause ? 1 : 0;
    int rc = wsend(ws, r, &h, NULL, 0);
    return rc < 0 ? rc : 0;
}

/* Datagrams go straight out of the listener's socket, which every worker
 * has (as in Swoole: no reactor thread in between). */
static long op_sendto(swco_server_t *srv, int listener, const char *addr, int port,
                      const void *data, size_t len)
{
    if (!addr)
        return -EINVAL;
    int family = strchr(addr, '/') ? AF_UNIX : strchr(addr, ':') ? AF_INET6 : AF_INET;
    swco__listener_t *l = NULL;
    for (int i = 0; i < srv->nlisteners; i++) {
        swco__listener_t *x = srv->listeners[i];
        if (listener >= 0 ? x->index == listener : (!x->stream && x->family == family)) {
            l = x;
            break;
        }
    }
    if (!l || l->stream)
        return -EINVAL;
    struct sockaddr_storage ss;
    socklen_t sl;
    memset(&ss, 0, sizeof ss);
    if (l->family == AF_UNIX) {
        struct sockaddr_un *su = (struct sockaddr_un *)&ss;
        size_t n = strlen(addr);
        if (n >= sizeof su->sun_path)
            return -EINVAL;
        su->sun_family = AF_UNIX;
        memcpy(su->sun_path, addr, n + 1);
        sl = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
    } else {
        swco__addr_t a;
        if (swco__addr_numeric(&a, addr, port, l->family) < 0)
            return -EINVAL;
        memcpy(&ss, &a.ss, a.len);
        sl = a.len;
    }
    for (;;) {
        ssize_t n = sendto(l->fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&ss, sl);
        if (n >= 0)
            return (long)n;
        if (errno != EINTR)
            return -errno;
    }
}

/* Idle connections from the shared table; closing goes through their
 * reactor threads like any close. */
static long op_heartbeat(swco_server_t *srv, int close_them, long long *fds, long max)
{
    double now = swco__wall_time();
    long found = 0;
    for (size_t i = 0; i < srv->conns.cap; i++) {
        swco__conn_t *c = &srv->conns.slots[i];
        if (__atomic_load_n(&c->state, __ATOMIC_RELAXED) != SWCO__CONN_OPEN)
            continue;
        double idle = srv->opt.heartbeat_idle_time;
        if (c->listener < srv->nlisteners)
            idle = srv->listeners[c->listener]->opt.heartbeat_idle_time;
        if (idle <= 0)
            continue;
        double last = c->last_recv_time > 0 ? c->last_recv_time : c->connect_time;
        if (now - last <= idle)
            continue;
        long long id = swco__conn_id(&srv->conns, c);
        if (fds && found < max)
            fds[found] = id;
        found++;
        if (close_them)
            (void)op_close(srv, id, 0);
    }
    return found;
}

static int process_worker_body(swco_server_t *srv, int worker_id)
{
    swco__proc_shared_t *ps = srv->mode_shared;
    if (!ps || worker_id < 0 || worker_id >= ps->nworkers)
        return -EINVAL;
    int R = ps->nreactors;
    wstate_t *ws = calloc(1, sizeof *ws);
    if (!ws)
        return -ENOMEM;
    ws->srv = srv;
    ws->ps = ps;
    ws->wid = worker_id;
    ws->R = R;
    ws->loop = swco__reactor_get();
    ws->rq = calloc((size_t)R, sizeof *ws->rq);
    ws->evr = calloc((size_t)R, sizeof *ws->evr);
    ws->rpr = calloc((size_t)R, sizeof *ws->rpr);
    ws->fa = calloc((size_t)R, sizeof *ws->fa);
    ws->rbuf_size = sizeof(swco__pmsg_hdr_t) + ps->chunk;
    ws->rbuf = malloc(ws->rbuf_size);
    swco__list_init(&ws->pending);
    /* Request ids differ between incarnations of a worker id: a reply
     * meant for the one that died finds no waiter in the next. */
    ws->next_req = ((uint64_t)(uint32_t)getpid() << 32) | 1;
    int rc = 0;
    if (!ws->loop || !ws->rq || !ws->evr || !ws->rpr || !ws->fa || !ws->rbuf)
        rc = -ENOMEM;
    int added = 0;
    for (int r = 0; rc == 0 && r < R; r++) {
        ws->fa[r].ws = ws;
        ws->fa[r].r = r;
        swco__outbox_init(&ws->rq[r], ps->rq_w[idx(ps, worker_id, r)], ps->chunk);
        rc = swco_event_add(ps->ev_w[idx(ps, worker_id, r)], SWCO_EVENT_READ | SWCO_EVENT_NOREF,
                            on_wev, &ws->fa[r], NULL);
        if (rc == 0) {
            rc = swco_event_add(ps->rq_w[idx(ps, worker_id, r)],
                                SWCO_EVENT_READ | SWCO_EVENT_NOREF, on_wrq, &ws->fa[r], NULL);
            if (rc)
                (void)swco_event_del(ps->ev_w[idx(ps, worker_id, r)]);
        }
        if (rc == 0)
            added++;
    }
    if (rc) {
        for (int r = 0; r < added; r++) {
            (void)swco_event_del(ps->ev_w[idx(ps, worker_id, r)]);
            (void)swco_event_del(ps->rq_w[idx(ps, worker_id, r)]);
        }
        free(ws->rq);
        free(ws->evr);
        free(ws->rpr);
        free(ws->fa);
        free(ws->rbuf);
        free(ws);
        return rc;
    }
    /* The other workers' ends are the manager's to keep. */
    for (int w = 0; w < ps->nsenders; w++) {
        if (w == worker_id)
            continue;
        for (int r = 0; r < R; r++) {
            if (ps->ev_w[idx(ps, w, r)] >= 0)
                close(ps->ev_w[idx(ps, w, r)]);
            close(ps->rq_w[idx(ps, w, r)]);
            ps->ev_w[idx(ps, w, r)] = ps->rq_w[idx(ps, w, r)] = -1;
        }
    }
    swco__srv_me()->mode_state = ws;
    worker_state = ws;
    return 0;
}

void swco__proc_worker_end(void)
{
    wstate_t *ws = worker_state;
    free(task_rq); /* a task worker's */
    task_rq = NULL;
    if (!ws)
        return;
    worker_state = NULL;
    /* The loop has ended: the reactor (the thread's) still has the
     * sockets, with ws->fa as their argument. */
    for (int r = 0; r < ws->R; r++) {
        if (swco__reactor_peek()) {
            (void)swco_event_del(ws->ps->ev_w[idx(ws->ps, ws->wid, r)]);
            (void)swco_event_del(ws->ps->rq_w[idx(ws->ps, ws->wid, r)]);
        }
        swco__outbox_clear(&ws->rq[r]);
        swco__reasm_free(&ws->evr[r]);
        swco__reasm_free(&ws->rpr[r]);
    }
    free(ws->rq);
    free(ws->evr);
    free(ws->rpr);
    free(ws->fa);
    free(ws->rbuf);
    free(ws);
}

/* Graceful stop began in this worker: read no more events (those not read
 * wait for the next worker with this id), only the replies its handlers
 * still wait for. */
static void process_stop_accepting(swco_server_t *srv)
{
    (void)srv;
    wstate_t *ws = wself();
    if (!ws || ws->stopping)
        return;
    ws->stopping = 1;
    for (int r = 0; r < ws->R; r++)
        if (!ws->evr[r].active && !ws->gone)
            want_events(ws->ps->ev_w[idx(ws->ps, ws->wid, r)], 0);
    flush_now(ws);
}

static const swco__srv_ops_t process_ops = {
    .send = op_send,
    .sendfile = op_sendfile,
    .close = op_close,
    .pause = op_pause,
    .sendto = op_sendto,
    .heartbeat = op_heartbeat,
};

const swco__srv_mode_t swco__srv_mode_process = {
    .start = process_start,
    .worker_body = process_worker_body,
    .worker_stop_accepting = process_stop_accepting,
    .ops = &process_ops,
};
