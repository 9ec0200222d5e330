/* Events into the program's callbacks, and an event worker's life.
 *
 * A worker (a process, or a thread in THREAD mode) runs one loop: it calls
 * worker start, lets the mode set up its serving (worker_body) and serves
 * until asked to stop.  Every event becomes a callback, in a coroutine of
 * its own when enable_coroutine is on (the data copied first, since the
 * engine's buffer is reused), else straight from the loop.  A graceful
 * stop stops accepting, waits up to max_wait_time for the handlers in
 * progress (calling worker exit while they run), closes the connections
 * (their queued output written first), calls worker stop and leaves the
 * loop. */
#include "server/server_int.h"

#include <sys/ioctl.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

SWCO__TLS swco__srv_self_t *swco__srv_self;
SWCO__TLS int swco__srv_worker_error;

static swco__srv_self_t master_self = {.role = SWCO__ROLE_MASTER, .worker_id = -1};

swco__srv_self_t *swco__srv_me(void) { return swco__srv_self ? swco__srv_self : &master_self; }

/* The calling thread's worker. */
typedef struct wrt {
    swco_server_t *srv;
    swco__srv_self_t self;
    swco__srv_wshm_t *w;     /* its figures in shared memory, or NULL */
    long inflight;           /* handlers running */
    long requests;           /* this incarnation's, for max_request */
    int stopping;
    int exit_code;
    swco__waiter_t *waiter;  /* the stop sequence waiting for a change */
    int wake_posted;
} wrt_t;

static SWCO__TLS wrt_t *rt;

/* ------------------------------------------------------ waiting for work */

static void do_wake(void *arg)
{
    (void)arg;
    wrt_t *r = rt;
    if (!r)
        return;
    r->wake_posted = 0;
    swco__waiter_t *w = r->waiter;
    if (!w)
        return;
    r->waiter = NULL;
    if (w->timer) {
        swco__timer_del(w->timer);
        w->timer = 0;
    }
    swco__co_wake(w, 0);
}

/* Something the stop sequence waits for changed (a handler ended, a
 * connection closed): wake it on the next turn. */
static void notify(wrt_t *r)
{
    if (!r || !r->waiter || r->wake_posted)
        return;
    if (swco_event_defer(do_wake, NULL, NULL) == 0)
        r->wake_posted = 1;
}

static void wait_cancel(swco__waiter_t *w)
{
    wrt_t *r = w->data;
    if (r->waiter == w)
        r->waiter = NULL;
}

/* In the stop sequence's coroutine: wait until notify() or timeout
 * seconds; 0, -ETIMEDOUT or -ECANCELED. */
int swco__srv_wait_change(double timeout)
{
    wrt_t *r = rt;
    if (!r || swco__co_can_wait() != 0)
        return -EINVAL;
    if (timeout <= 0)
        return -ETIMEDOUT;
    swco__waiter_t w;
    memset(&w, 0, sizeof w);
    w.what = "server worker stop";
    w.cancel = wait_cancel;
    w.data = r;
    r->waiter = &w;
    int rc = swco__wait(&w, timeout);
    if (r->waiter == &w)
        r->waiter = NULL;
    return rc;
}

/* ------------------------------------------------------------ callbacks */

enum { K_CONNECT, K_RECEIVE, K_CLOSE, K_PACKET, K_BUFFER, K_WORKER_START };

typedef struct job {
    swco_server_t *srv;
    int kind;
    swco__srv_cb_t cb;
    long long fd;
    int reactor_id;
    int listener;
    int port;            /* packet: the sender's */
    int full;            /* buffer */
    size_t len;
    char addr[108];      /* packet: the sender's */
    char *data;          /* points into the job (copy) or at the caller's data */
    char copy[];
} job_t;

static void refresh_coroutines(wrt_t *r, long adjust)
{
    if (r && r->w)
        __atomic_store_n(&r->w->coroutine_num, (int64_t)(swco_coroutine_count() + adjust),
                         __ATOMIC_RELAXED);
}

static void call(job_t *j)
{
    swco_server_t *srv = j->srv;
    void *arg = j->cb.arg;
    switch (j->kind) {
    case K_CONNECT:
    case K_CLOSE:
    case K_BUFFER:
        ((swco_server_conn_fn)j->cb.fn)(srv, j->fd, j->reactor_id, arg);
        break;
    case K_RECEIVE:
        ((swco_server_receive_fn)j->cb.fn)(srv, j->fd, j->reactor_id, j->data, j->len, arg);
        break;
    case K_PACKET:
        ((swco_server_packet_fn)j->cb.fn)(srv, j->data, j->len, j->addr, j->port, j->listener,
                                          arg);
        break;
    case K_WORKER_START:
        ((swco_server_worker_fn)j->cb.fn)(srv, j->reactor_id, arg);
        break;
    }
}

static void job_done(wrt_t *r)
{
    if (!r)
        return;
    r->inflight--;
    if (r->w)
        __atomic_sub_fetch(&r->w->busy, 1, __ATOMIC_RELAXED);
    if (r->stopping)
        notify(r);
}

static void job_main(void *arg)
{
    job_t *j = arg;
    wrt_t *r = rt;
    call(j);
    free(j);
    job_done(r);
    refresh_coroutines(r, -1);
}

/* Run cb for the event j describes (data: len bytes the caller owns). */
static void run(const swco__srv_cb_t *cb, job_t *tmpl, const char *data, size_t len)
{
    if (!cb->fn)
        return;
    wrt_t *r = rt;
    swco_server_t *srv = tmpl->srv;
    tmpl->cb = *cb;
    tmpl->len = len;
    if (r) {
        r->inflight++;
        if (r->w)
            __atomic_add_fetch(&r->w->busy, 1, __ATOMIC_RELAXED);
    }
    if (srv->opt.enable_coroutine) {
        job_t *j = malloc(sizeof *j + len);
        if (j) {
            *j = *tmpl;
            if (len)
                memcpy(j->copy, data, len);
            j->data = j->copy;
            long cid = swco_coroutine_create(job_main, j);
            if (cid > 0) {
                refresh_coroutines(r, 0);
                return;
            }
            free(j);
            swco__log(SWCO_LOG_WARNING,
                      "server: no coroutine for a callback (%ld); running it in the loop", cid);
        }
    }
    tmpl->data = (char *)data;
    call(tmpl);
    job_done(r);
}

static const swco__srv_cb_t *pick(const swco__srv_cb_t *own, const swco__srv_cb_t *server)
{
    return own && own->fn ? own : server;
}

static const swco__listener_t *listener_of(const swco_server_t *srv, int listener)
{
    return listener >= 0 && listener < srv->nlisteners ? srv->listeners[listener] : NULL;
}

static void count_request(swco_server_t *srv)
{
    wrt_t *r = rt;
    if (srv->shm)
        __atomic_add_fetch(&srv->shm->request_count, 1, __ATOMIC_RELAXED);
    if (!r)
        return;
    r->requests++;
    if (r->w) {
        __atomic_add_fetch(&r->w->request_count, 1, __ATOMIC_RELAXED);
        __atomic_add_fetch(&r->w->total_requests, 1, __ATOMIC_RELAXED);
    }
}

/* max_request recycles a worker only where a manager starts it again. */
static void check_max_request(swco_server_t *srv)
{
    wrt_t *r = rt;
    if (!r || r->stopping || srv->opt.max_request <= 0 || r->requests < srv->opt.max_request)
        return;
    if (srv->mode == SWCO_SERVER_THREAD)
        return;
    if (srv->mode == SWCO_SERVER_BASE &&
        (!srv->shm || __atomic_load_n(&srv->shm->manager_pid, __ATOMIC_ACQUIRE) <= 0))
        return;
    swco__srv_worker_stop(srv);
}

static job_t tmpl_of(swco_server_t *srv, int kind, long long fd, int reactor_id, int listener)
{
    job_t j;
    memset(&j, 0, sizeof j);
    j.srv = srv;
    j.kind = kind;
    j.fd = fd;
    j.reactor_id = reactor_id;
    j.listener = listener;
    return j;
}

void swco__srv_deliver_connect(swco_server_t *srv, long long fd, int reactor_id, int listener)
{
    wrt_t *r = rt;
    if (r && r->w)
        __atomic_add_fetch(&r->w->connection_num, 1, __ATOMIC_RELAXED);
    const swco__listener_t *l = listener_of(srv, listener);
    swco__srv_proto_open(srv, l, fd);
    job_t j = tmpl_of(srv, K_CONNECT, fd, reactor_id, listener);
    run(pick(l ? &l->cb_connect : NULL, &srv->cb[SWCO__CB_CONNECT]), &j, NULL, 0);
}

void swco__srv_deliver_receive(swco_server_t *srv, long long fd, int reactor_id, int listener,
                               const char *data, size_t len)
{
    const swco__listener_t *l = listener_of(srv, listener);
    if (swco__srv_proto_receive(srv, l, fd, data, len))
        return;
    job_t j = tmpl_of(srv, K_RECEIVE, fd, reactor_id, listener);
    count_request(srv);
    run(pick(l ? &l->cb_receive : NULL, &srv->cb[SWCO__CB_RECEIVE]), &j, data, len);
    check_max_request(srv);
}

void swco__srv_deliver_close(swco_server_t *srv, long long fd, int reactor_id, int listener)
{
    wrt_t *r = rt;
    if (r && r->w)
        __atomic_sub_fetch(&r->w->connection_num, 1, __ATOMIC_RELAXED);
    const swco__listener_t *l = listener_of(srv, listener);
    swco__srv_proto_close(fd);
    job_t j = tmpl_of(srv, K_CLOSE, fd, reactor_id, listener);
    run(pick(l ? &l->cb_close : NULL, &srv->cb[SWCO__CB_CLOSE]), &j, NULL, 0);
    if (r && r->stopping)
        notify(r);
}

void swco__srv_deliver_packet(swco_server_t *srv, int listener, const char *data, size_t len,
                              const char *addr, int port)
{
    const swco__listener_t *l = listener_of(srv, listener);
    job_t j = tmpl_of(srv, K_PACKET, 0, rt ? rt->self.worker_id : 0, listener);
    snprintf(j.addr, sizeof j.addr, "%s", addr ? addr : "");
    j.port = port;
    count_request(srv);
    run(pick(l ? &l->cb_packet : NULL, &srv->cb[SWCO__CB_PACKET]), &j, data, len);
    check_max_request(srv);
}

void swco__srv_deliver_buffer(swco_server_t *srv, long long fd, int reactor_id, int full)
{
    swco__srv_proto_buffer(fd, full);
    job_t j = tmpl_of(srv, K_BUFFER, fd, reactor_id, -1);
    j.full = full;
    run(&srv->cb[full ? SWCO__CB_BUFFER_FULL : SWCO__CB_BUFFER_EMPTY], &j, NULL, 0);
}

long swco__srv_inflight(void) { return rt ? rt->inflight : 0; }

void swco__srv_work_begin(swco_server_t *srv)
{
    wrt_t *r = rt;
    count_request(srv);
    if (r) {
        r->inflight++;
        if (r->w)
            __atomic_add_fetch(&r->w->busy, 1, __ATOMIC_RELAXED);
    }
}

void swco__srv_work_end(swco_server_t *srv)
{
    job_done(rt);
    check_max_request(srv);
}

int swco__srv_stopping(void) { return rt ? rt->stopping : 0; }

/* ------------------------------------------------------- a worker's life */

static void call_worker_cb(swco_server_t *srv, int which, int worker_id)
{
    swco__srv_cb_t *cb = &srv->cb[which];
    if (cb->fn)
        ((swco_server_worker_fn)cb->fn)(srv, worker_id, cb->arg);
}

/* Whether something the worker does not own may keep its loop turning
 * after it stopped (the program's timers, coroutines still running past
 * max_wait_time): then the loop is left by force.  (task.c's message
 * reader does not hold the loop.) */
static int must_force_exit(const swco_server_t *srv)
{
    (void)srv;
    return swco_timer_count() > 0 || swco_coroutine_count() > 0;
}

static void final_check(void *arg)
{
    swco_server_t *srv = arg;
    if (must_force_exit(srv))
        swco_event_exit();
}

/* BASE: whether a connection of this worker has input not read yet. */
static int unread_input(const swco_server_t *srv)
{
    if (srv->mode != SWCO_SERVER_BASE || !srv->conns.slots)
        return 0;
    for (size_t i = 0; i < srv->conns.cap; i++) {
        const swco__conn_t *c = &srv->conns.slots[i];
        int n = 0;
        if (c->state != SWCO__CONN_OPEN || c->paused)
            continue;
        /* Nothing came yet: its first request is on the way. */
        if (c->recv_bytes == 0 || (ioctl(c->fd, FIONREAD, &n) == 0 && n > 0))
            return 1;
    }
    return 0;
}

static void stop_sequence(wrt_t *r)
{
    swco_server_t *srv = r->srv;
    int in_co = swco__co_can_wait() == 0;
    double deadline = swco_event_now() + srv->opt.max_wait_time;
    /* Work in progress: up to max_wait_time, worker exit each time
     * something changed. */
    for (;;) {
        while (r->inflight > 0 && in_co) {
            call_worker_cb(srv, SWCO__CB_WORKER_EXIT, r->self.worker_id);
            if (r->inflight == 0)
                break;
            double left = deadline - swco_event_now();
            if (left <= 0 || swco__srv_wait_change(left) == -ECANCELED)
                break;
        }
        /* A request already in a connection's socket was accepted too:
         * let the engine read it (the loop's next turns) and serve it. */
        double left = deadline - swco_event_now();
        if (!in_co || left <= 0 || !unread_input(srv))
            break;
        if (swco__srv_wait_change(left < 0.005 ? left : 0.005) == -ECANCELED)
            break;
    }
    if (r->inflight > 0)
        swco__log(SWCO_LOG_WARNING, "server: worker %d stops with %ld handler(s) still running",
                  r->self.worker_id, r->inflight);
    /* Connections: closed with their output flushed (the mode waits). */
    if (srv->mode != SWCO_SERVER_PROCESS)
        swco__srv_base_worker_end(srv);
    call_worker_cb(srv, SWCO__CB_WORKER_STOP, r->self.worker_id);
    if (srv->mode != SWCO_SERVER_THREAD)
        swco_event_signal(SIGTERM, NULL, NULL, NULL);
    /* Next turn: leave the loop if something else still holds it. */
    swco_event_defer(final_check, srv, NULL);
}

static void stop_main(void *arg) { stop_sequence(arg); }

void swco__srv_worker_stop(swco_server_t *srv)
{
    wrt_t *r = rt;
    if (!r || r->srv != srv || r->stopping)
        return;
    r->stopping = 1;
    r->self.stopping = 1;
    if (r->w)
        __atomic_store_n(&r->w->stopping, 1, __ATOMIC_RELAXED);
    if (srv->impl->worker_stop_accepting)
        srv->impl->worker_stop_accepting(srv);
    if (swco_coroutine_create(stop_main, r) < 0)
        stop_sequence(r); /* no coroutine: without waiting */
}

static void on_sigterm(int signo, void *arg)
{
    (void)signo;
    swco__srv_worker_stop(arg);
}

static void worker_main(void *arg)
{
    wrt_t *r = arg;
    swco_server_t *srv = r->srv;
    int id = r->self.worker_id;
    if (srv->mode != SWCO_SERVER_THREAD)
        swco_event_signal(SIGTERM, on_sigterm, srv, NULL);
    job_t j = tmpl_of(srv, K_WORKER_START, 0, id, -1);
    run(&srv->cb[SWCO__CB_WORKER_START], &j, NULL, 0);
    if (r->stopping)
        return; /* stopped from worker start: nothing to serve */
    int rc = srv->impl->worker_body(srv, id);
    if (rc < 0) {
        swco__log(SWCO_LOG_ERROR, "server: worker %d cannot serve: %s", id, swco_strerror(rc));
        swco__srv_worker_error = rc;
        r->exit_code = 1;
        swco__srv_worker_stop(srv);
        return;
    }
    rc = swco__srv_ipc_attach(srv, id);
    if (rc < 0)
        swco__log(SWCO_LOG_ERROR, "server: worker %d: no message reader: %s", id,
                  swco_strerror(rc));
}

int swco__srv_worker_run(swco_server_t *srv, int worker_id)
{
    wrt_t r;
    memset(&r, 0, sizeof r);
    r.srv = srv;
    r.self.role = SWCO__ROLE_WORKER;
    r.self.worker_id = worker_id;
    if (srv->shm && worker_id >= 0 && worker_id < srv->opt.worker_num + srv->opt.task_worker_num)
        r.w = &srv->shm->workers[worker_id];
    swco__srv_self_t *prev_self = swco__srv_self;
    wrt_t *prev_rt = rt;
    swco__srv_self = &r.self;
    rt = &r;
    swco__srv_worker_error = 0;
    if (r.w) {
        r.w->start_time = swco__wall_time();
        __atomic_store_n(&r.w->request_count, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&r.w->busy, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&r.w->stopping, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&r.w->pid, (int32_t)getpid(), __ATOMIC_RELEASE);
    }
    int rc = swco_run(worker_main, &r);
    if (rc < 0 && rc != SWCO_EDEADLOCK && r.exit_code == 0) {
        swco__log(SWCO_LOG_ERROR, "server: worker %d: loop failed: %s", worker_id,
                  swco_strerror(rc));
        r.exit_code = 1;
        if (!swco__srv_worker_error)
            swco__srv_worker_error = rc;
    }
    if (r.w) {
        __atomic_store_n(&r.w->busy, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&r.w->connection_num, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&r.w->coroutine_num, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&r.w->pid, 0, __ATOMIC_RELEASE);
    }
    /* The message reader's state, whether or not the loop was freed. */
    swco__srv_ipc_detach(srv);
    rt = prev_rt;
    swco__srv_self = prev_self;
    return r.exit_code;
}
