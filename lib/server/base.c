/* BASE and THREAD modes: a worker is an engine on its own loop, which
 * accepts and owns its connections.
 *
 * BASE: worker processes share the listening sockets (or, with
 * enable_reuse_port, each has its own in one SO_REUSEPORT group).  One
 * worker and no task workers: the calling process is the worker, with no
 * manager; else the calling process runs the manager, which forks them.
 *
 * THREAD: worker_num threads in this process, each an engine on its own
 * loop; thread 0 serves the sockets made by swco_server_new(), the others
 * sockets of their own bound to the same addresses with SO_REUSEPORT
 * (Unix sockets are shared: they have no port group).  The connection
 * table is one for all; a call on a connection another thread owns is
 * posted to that thread's loop, and a coroutine that made it waits for the
 * answer. */
#include "server/server_int.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* ------------------------------------------------- engine into deliver */

static void h_connect(void *ud, swco__engine_t *e, swco__conn_t *c)
{
    swco_server_t *srv = ud;
    (void)e;
    swco__srv_deliver_connect(srv, swco__conn_id(&srv->conns, c), c->reactor_id, c->listener);
}

static void h_receive(void *ud, swco__engine_t *e, swco__conn_t *c, const char *data, size_t len)
{
    swco_server_t *srv = ud;
    (void)e;
    swco__srv_deliver_receive(srv, swco__conn_id(&srv->conns, c), c->reactor_id, c->listener,
                              data, len);
}

static void h_close(void *ud, swco__engine_t *e, swco__conn_t *c)
{
    swco_server_t *srv = ud;
    (void)e;
    swco__srv_deliver_close(srv, swco__conn_id(&srv->conns, c), c->reactor_id, c->listener);
}

static void h_packet(void *ud, swco__engine_t *e, swco__listener_t *l, const char *data,
                     size_t len, const swco__addr_t *from)
{
    (void)e;
    swco__srv_deliver_packet(ud, l->index, data, len, from ? from->text : "",
                             from ? from->port : 0);
}

static void h_buffer(void *ud, swco__engine_t *e, swco__conn_t *c, int full)
{
    swco_server_t *srv = ud;
    (void)e;
    swco__srv_deliver_buffer(srv, swco__conn_id(&srv->conns, c), c->reactor_id, full);
}

static const swco__engine_hooks_t hooks = {h_connect, h_receive, h_close, h_packet, h_buffer};

/* ------------------------------------------------------ a worker's engine */

/* A BASE or THREAD worker's serving state (self->mode_state). */
typedef struct bworker {
    swco__engine_t *e;
    int *own_fds;        /* per listener: a socket of this worker's, or -1 */
    int nfds;
} bworker_t;

static int own_socket_wanted(const swco_server_t *srv, const swco__listener_t *l, int id)
{
    if (id == 0 || l->family == AF_UNIX || l->activated)
        return 0;
    if (srv->mode == SWCO_SERVER_THREAD)
        return 1;
    return l->stream && srv->opt.enable_reuse_port;
}

static void bworker_free(bworker_t *b)
{
    if (!b)
        return;
    if (b->e)
        swco__engine_free(b->e);
    for (int i = 0; i < b->nfds; i++)
        if (b->own_fds[i] >= 0)
            close(b->own_fds[i]);
    free(b->own_fds);
    free(b);
}

/* Set up worker id's engine on the calling thread's loop. */
static int engine_up(swco_server_t *srv, int id, const int *given_fds)
{
    swco__srv_self_t *me = swco__srv_me();
    bworker_t *b = calloc(1, sizeof *b);
    if (!b)
        return -ENOMEM;
    b->nfds = srv->nlisteners;
    b->own_fds = malloc(sizeof *b->own_fds * (size_t)b->nfds);
    if (!b->own_fds) {
        free(b);
        return -ENOMEM;
    }
    for (int i = 0; i < b->nfds; i++)
        b->own_fds[i] = -1;
    int rc = 0;
    b->e = swco__engine_new(srv, &srv->conns, id, &hooks, srv);
    if (!b->e)
        rc = swco_last_error() < 0 ? swco_last_error() : -ENOMEM;
    for (int i = 0; rc == 0 && i < srv->nlisteners; i++) {
        swco__listener_t *l = srv->listeners[i];
        int fd = l->fd;
        if (given_fds && given_fds[i] >= 0) {
            fd = given_fds[i];
        } else if (own_socket_wanted(srv, l, id)) {
            fd = swco__srv_listener_socket(srv, l, 1);
            if (fd < 0) {
                rc = fd;
                break;
            }
            b->own_fds[i] = fd;
        }
        rc = swco__engine_listen(b->e, l, fd);
    }
    if (rc < 0) {
        bworker_free(b);
        return rc;
    }
    me->engine = b->e;
    me->mode_state = b;
    return 0;
}

static void stop_accepting(swco_server_t *srv)
{
    (void)srv;
    swco__srv_self_t *me = swco__srv_me();
    if (me->engine)
        swco__engine_stop_accepting(me->engine);
}

/* The worker's end: close its connections, their queued output written
 * first (waiting up to max_wait_time for that), then free the engine. */
static void engine_down(swco_server_t *srv)
{
    swco__srv_self_t *me = swco__srv_me();
    bworker_t *b = me->mode_state;
    if (!b)
        return;
    if (b->e) {
        swco__engine_close_all(b->e, 0);
        double deadline = swco_event_now() + (srv->opt.max_wait_time > 0 ? srv->opt.max_wait_time : 1);
        while (swco__engine_count(b->e) > 0) {
            double left = deadline - swco_event_now();
            if (left <= 0 || swco__srv_wait_change(left) < 0)
                break;
        }
    }
    me->engine = NULL;
    me->mode_state = NULL;
    bworker_free(b);
}

/* ----------------------------------------------------------- BASE mode */

static int base_start(swco_server_t *srv)
{
    if (srv->opt.worker_num == 1 && srv->opt.task_worker_num == 0) {
        /* This process is the one worker. */
        int code = swco__srv_worker_run(srv, 0);
        return code == 0 ? 0 : (swco__srv_worker_error < 0 ? swco__srv_worker_error : -EIO);
    }
    return swco__srv_manager_run(srv);
}

static int base_worker_body(swco_server_t *srv, int worker_id)
{
    /* Ids made here carry this worker's number (the table is this
     * process's own copy). */
    srv->conns.owner = worker_id;
    int rc = engine_up(srv, worker_id, NULL);
    /* Without manager this process is the whole server: serving now. */
    if (rc == 0 && srv->shm && __atomic_load_n(&srv->shm->manager_pid, __ATOMIC_ACQUIRE) <= 0)
        swco__srv_notify_ready();
    return rc;
}

/* The caller's engine and the connection fd names in it. */
static swco__conn_t *local_conn(swco_server_t *srv, long long fd, swco__engine_t **e, int *err)
{
    swco__srv_self_t *me = swco__srv_me();
    *e = me->engine;
    int owner = swco__conn_id_owner(fd);
    if (!*e || owner != srv->conns.owner) {
        *err = owner >= 0 && owner < srv->opt.worker_num ? SWCO_ENOTLOCAL : SWCO_ENOCONN;
        return NULL;
    }
    swco__conn_t *c = swco__conn_lookup(&srv->conns, fd);
    if (!c)
        *err = SWCO_ENOCONN;
    return c;
}

static int send_flags(const swco_server_t *srv, int flags)
{
    if (srv->opt.send_yield && swco__co_can_wait() == 0)
        flags |= SWCO__SEND_YIELD;
    return flags;
}

static long base_send(swco_server_t *srv, long long fd, const void *data, size_t len, int flags)
{
    swco__engine_t *e;
    int err;
    swco__conn_t *c = local_conn(srv, fd, &e, &err);
    if (!c)
        return err;
    return swco__engine_send(e, c, data, len, send_flags(srv, flags));
}

static long long base_sendfile(swco_server_t *srv, long long fd, const char *path,
                               long long offset, long long length)
{
    swco__engine_t *e;
    int err;
    swco__conn_t *c = local_conn(srv, fd, &e, &err);
    if (!c)
        return err;
    return swco__engine_sendfile(e, c, path, offset, length);
}

static int base_close(swco_server_t *srv, long long fd, int reset)
{
    swco__engine_t *e;
    int err;
    swco__conn_t *c = local_conn(srv, fd, &e, &err);
    if (!c)
        return err;
    return swco__engine_close(e, c, reset);
}

static int base_pause(swco_server_t *srv, long long fd, int pause)
{
    swco__engine_t *e;
    int err;
    swco__conn_t *c = local_conn(srv, fd, &e, &err);
    if (!c)
        return err;
    return swco__engine_pause(e, c, pause);
}

/* The datagram listener for addr: the one asked for, else the first of
 * addr's family (a path: Unix; a ':' in it: IPv6; else IPv4). */
static swco__listener_t *dgram_listener(swco_server_t *srv, int listener, const char *addr)
{
    if (listener >= 0) {
        swco__listener_t *l = srv->listeners[listener];
        return l->stream ? NULL : l;
    }
    int family = strchr(addr, '/') || addr[0] == '@' ? AF_UNIX
                 : strchr(addr, ':')                 ? AF_INET6
                                                     : AF_INET;
    for (int i = 0; i < srv->nlisteners; i++)
        if (!srv->listeners[i]->stream && srv->listeners[i]->family == family)
            return srv->listeners[i];
    return NULL;
}

static long any_sendto(swco_server_t *srv, int listener, const char *addr, int port,
                       const void *data, size_t len)
{
    swco__listener_t *l = dgram_listener(srv, listener, addr);
    if (!l)
        return -EINVAL;
    swco__srv_self_t *me = swco__srv_me();
    if (me->engine)
        return swco__engine_sendto(me->engine, l, addr, port, data, len);
    /* Not a worker with an engine (a task worker, the master): straight
     * through the listener's socket. */
    struct sockaddr_storage ss;
    socklen_t slen;
    if (swco__srv_dest_addr(l->family, addr, port, &ss, &slen) < 0)
        return -EINVAL;
    ssize_t n = sendto(l->fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&ss, slen);
    return n < 0 ? -errno : (long)n;
}

static long base_heartbeat(swco_server_t *srv, int close_them, long long *fds, long max)
{
    (void)srv;
    swco__srv_self_t *me = swco__srv_me();
    if (!me->engine)
        return 0;
    return swco__engine_heartbeat(me->engine, close_them, fds, max);
}

static const swco__srv_ops_t base_ops = {base_send,   base_sendfile, base_close,
                                         base_pause,  any_sendto,    base_heartbeat};

const swco__srv_mode_t swco__srv_mode_base = {base_start, base_worker_body, stop_accepting,
                                              &base_ops};

/* --------------------------------------------------------- THREAD mode */

typedef struct tworker {
    swco_server_t *srv;
    struct tstate *st;
    int id;
    pthread_t th;
    int created;
    int *fds;                /* per listener: this thread's socket or -1 */
    pthread_mutex_t lock;    /* guards alive and reactor against posts */
    int alive;               /* its loop takes posted calls */
    swco__reactor_t *reactor;
    int exit_code, error;
} tworker_t;

typedef struct tstate {
    int n;
    tworker_t *w;
    swco__reactor_t *main_reactor;
    int left;                /* threads still running (main thread only) */
    int error;
} tstate_t;

static tworker_t *tworker(const swco_server_t *srv, int id)
{
    tstate_t *st = srv->mode_shared;
    return st && id >= 0 && id < st->n ? &st->w[id] : NULL;
}

/* Post fn(arg) to worker id's loop: 0, or SWCO_ENOCONN when it no longer
 * takes calls. */
static int post_to(const swco_server_t *srv, int id, swco_fn fn, void *arg)
{
    tworker_t *tw = tworker(srv, id);
    if (!tw)
        return SWCO_ENOCONN;
    pthread_mutex_lock(&tw->lock);
    int rc = tw->alive ? swco__reactor_post(tw->reactor, fn, arg) : SWCO_ENOCONN;
    pthread_mutex_unlock(&tw->lock);
    return rc;
}

static void thread_stop_posted(void *arg) { swco__srv_worker_stop(arg); }

static int thread_worker_body(swco_server_t *srv, int id)
{
    tworker_t *tw = tworker(srv, id);
    if (!tw)
        return -EINVAL;
    int rc = engine_up(srv, id, tw->fds);
    if (rc < 0)
        return rc;
    pthread_mutex_lock(&tw->lock);
    tw->reactor = swco__reactor_get();
    tw->alive = tw->reactor != NULL;
    pthread_mutex_unlock(&tw->lock);
    /* A shutdown that came before this thread could take calls. */
    if (srv->shm && __atomic_load_n(&srv->shm->shutting_down, __ATOMIC_ACQUIRE))
        swco__srv_worker_stop(srv);
    return 0;
}

static void thread_worker_end(swco_server_t *srv)
{
    swco__srv_self_t *me = swco__srv_me();
    tworker_t *tw = tworker(srv, me->worker_id);
    /* Calls from other threads stop here (their connections are closing);
     * those already posted run in the turns engine_down still makes. */
    if (tw) {
        pthread_mutex_lock(&tw->lock);
        tw->alive = 0;
        pthread_mutex_unlock(&tw->lock);
    }
    engine_down(srv);
}

static void thread_done(void *arg)
{
    tstate_t *st = arg;
    if (--st->left == 0)
        swco_event_signal(SIGTERM, NULL, NULL, NULL);
    swco__reactor_unref(st->main_reactor);
}

static void *thread_main(void *arg)
{
    tworker_t *tw = arg;
    if (tw->id >= tw->srv->opt.worker_num)
        tw->exit_code = swco__srv_task_worker_run(tw->srv, tw->id);
    else
        tw->exit_code = swco__srv_worker_run(tw->srv, tw->id);
    tw->error = swco__srv_worker_error;
    swco__reactor_post(tw->st->main_reactor, thread_done, tw->st);
    return NULL;
}

static void on_main_term(int signo, void *arg)
{
    (void)signo;
    swco_server_shutdown(arg);
}

static void thread_master(void *arg)
{
    swco_server_t *srv = arg;
    tstate_t *st = srv->mode_shared;
    st->main_reactor = swco__reactor_get();
    /* Blocked here before the threads start, so they inherit the mask and
     * the signal comes to this loop only. */
    swco_event_signal(SIGTERM, on_main_term, srv, NULL);
    for (int i = 0; i < st->n; i++) {
        tworker_t *tw = &st->w[i];
        swco__reactor_ref(st->main_reactor);
        st->left++;
        if (pthread_create(&tw->th, NULL, thread_main, tw) != 0) {
            swco__reactor_unref(st->main_reactor);
            st->left--;
            st->error = -EAGAIN;
            break;
        }
        tw->created = 1;
    }
    if (st->error < 0) {
        __atomic_store_n(&srv->shm->shutting_down, 1, __ATOMIC_RELEASE);
        swco__srv_local_stop(srv, -1);
    }
    if (st->left == 0)
        swco_event_signal(SIGTERM, NULL, NULL, NULL);
    else
        swco__srv_notify_ready();
}

static void tstate_free(swco_server_t *srv)
{
    tstate_t *st = srv->mode_shared;
    if (!st)
        return;
    for (int i = 0; i < st->n; i++) {
        tworker_t *tw = &st->w[i];
        for (int k = 0; tw->fds && k < srv->nlisteners; k++)
            if (tw->fds[k] >= 0)
                close(tw->fds[k]);
        free(tw->fds);
        pthread_mutex_destroy(&tw->lock);
    }
    free(st->w);
    free(st);
    srv->mode_shared = NULL;
}

static int thread_start(swco_server_t *srv)
{
    tstate_t *st = calloc(1, sizeof *st);
    if (!st)
        return -ENOMEM;
    /* event workers, then task workers (threads too) */
    st->n = srv->opt.worker_num + srv->opt.task_worker_num;
    st->w = calloc((size_t)st->n, sizeof *st->w);
    if (!st->w) {
        free(st);
        return -ENOMEM;
    }
    srv->mode_shared = st;
    int rc = 0;
    for (int i = 0; i < st->n; i++) {
        tworker_t *tw = &st->w[i];
        tw->srv = srv;
        tw->st = st;
        tw->id = i;
        pthread_mutex_init(&tw->lock, NULL);
        tw->fds = malloc(sizeof *tw->fds * (size_t)srv->nlisteners);
        if (!tw->fds) {
            rc = -ENOMEM;
            continue;
        }
        for (int k = 0; k < srv->nlisteners; k++) {
            swco__listener_t *l = srv->listeners[k];
            tw->fds[k] = -1;
            /* Bound here, so an address that cannot be shared fails start. */
            if (rc == 0 && i < srv->opt.worker_num && own_socket_wanted(srv, l, i)) {
                int fd = swco__srv_listener_socket(srv, l, 1);
                if (fd < 0)
                    rc = fd;
                else
                    tw->fds[k] = fd;
            }
        }
    }
    if (rc == 0) {
        rc = swco_run(thread_master, srv);
        if (rc == SWCO_EDEADLOCK)
            rc = 0;
        for (int i = 0; i < st->n; i++)
            if (st->w[i].created)
                pthread_join(st->w[i].th, NULL);
        if (rc == 0)
            rc = st->error;
        /* Every thread failed to serve: say why. */
        int served = 0, why = 0;
        for (int i = 0; i < srv->opt.worker_num; i++) {
            served |= st->w[i].exit_code == 0;
            if (st->w[i].error < 0)
                why = st->w[i].error;
        }
        if (rc == 0 && !served)
            rc = why < 0 ? why : -EIO;
    }
    tstate_free(srv);
    return rc;
}

/* Calls on a connection another thread owns. */
enum { X_SEND, X_SENDFILE, X_CLOSE, X_PAUSE };

typedef struct xcall {
    swco_server_t *srv;
    int op, owner, flags, arg;
    long long fd, offset, length;
    char *path;
    swco__reactor_t *reply_to;   /* NULL: nobody waits */
    swco__waiter_t *w;           /* the waiting coroutine; NULL once it gave up */
    long long result;
    size_t len;
    char data[];
} xcall_t;

static void xcall_free(xcall_t *x)
{
    free(x->path);
    free(x);
}

static void xcall_replied(void *arg)
{
    xcall_t *x = arg;
    if (!x->w) {
        xcall_free(x); /* its coroutine was cancelled */
        return;
    }
    swco__waiter_t *w = x->w;
    x->w = NULL;
    swco__co_wake(w, 0);
}

static void xcall_finish(xcall_t *x, long long result)
{
    x->result = result;
    if (!x->reply_to || swco__reactor_post(x->reply_to, xcall_replied, x) < 0)
        xcall_free(x); /* nobody waits (or cannot be told: it stays asleep) */
}

static long long xcall_exec(xcall_t *x)
{
    swco__srv_self_t *me = swco__srv_me();
    swco__conn_t *c = swco__conn_lookup(&x->srv->conns, x->fd);
    if (!c || !me->engine || c->reactor_id != me->worker_id)
        return SWCO_ENOCONN;
    switch (x->op) {
    case X_SEND:
        return swco__engine_send(me->engine, c, x->data, x->len, x->flags);
    case X_SENDFILE:
        return swco__engine_sendfile(me->engine, c, x->path, x->offset, x->length);
    case X_CLOSE:
        return swco__engine_close(me->engine, c, x->arg);
    case X_PAUSE:
        return swco__engine_pause(me->engine, c, x->arg);
    }
    return -EINVAL;
}

static void xcall_in_co(void *arg)
{
    xcall_t *x = arg;
    xcall_finish(x, xcall_exec(x));
}

/* On the owner's loop. */
static void xcall_run(void *arg)
{
    xcall_t *x = arg;
    /* Waiting sends need a coroutine on the owner's side. */
    if (x->op == X_SEND && (x->flags & (SWCO__SEND_WAIT | SWCO__SEND_YIELD)) &&
        swco_coroutine_create(xcall_in_co, x) > 0)
        return;
    xcall_finish(x, xcall_exec(x));
}

static void xcall_cancel(swco__waiter_t *w)
{
    xcall_t *x = w->data;
    x->w = NULL;
}

/* Run x on its owner's thread; a coroutine waits for the result, other
 * callers get `queued` back at once. */
static long long xcall_post(xcall_t *x, long long queued)
{
    int in_co = swco__co_can_wait() == 0;
    swco__waiter_t w;
    memset(&w, 0, sizeof w);
    if (in_co) {
        x->reply_to = swco__reactor_get();
        if (!x->reply_to)
            in_co = 0;
    }
    if (in_co) {
        w.what = "server call on another thread's connection";
        w.cancel = xcall_cancel;
        w.data = x;
        x->w = &w;
        swco__reactor_ref(x->reply_to);
    }
    int rc = post_to(x->srv, x->owner, xcall_run, x);
    if (rc < 0) {
        if (in_co)
            swco__reactor_unref(x->reply_to);
        xcall_free(x);
        return rc;
    }
    if (!in_co)
        return queued;
    rc = swco__co_suspend(&w);
    swco__reactor_unref(x->reply_to);
    if (rc < 0) {
        /* Cancelled: the reply frees x when it comes. */
        x->w = NULL;
        return rc;
    }
    long long result = x->result;
    xcall_free(x);
    return result;
}

static xcall_t *xcall_new(swco_server_t *srv, int op, swco__conn_t *c, long long fd, size_t len)
{
    xcall_t *x = calloc(1, sizeof *x + len);
    if (!x)
        return NULL;
    x->srv = srv;
    x->op = op;
    x->owner = c->reactor_id;
    x->fd = fd;
    x->len = len;
    return x;
}

/* The connection fd names and whether the calling thread owns it. */
static swco__conn_t *thread_conn(swco_server_t *srv, long long fd, int *mine)
{
    swco__srv_self_t *me = swco__srv_me();
    swco__conn_t *c = swco__conn_lookup(&srv->conns, fd);
    *mine = c && me->engine && me->role == SWCO__ROLE_WORKER && c->reactor_id == me->worker_id;
    return c;
}

static long thread_send(swco_server_t *srv, long long fd, const void *data, size_t len, int flags)
{
    int mine;
    swco__conn_t *c = thread_conn(srv, fd, &mine);
    if (!c)
        return SWCO_ENOCONN;
    flags = send_flags(srv, flags);
    if (mine)
        return swco__engine_send(swco__srv_me()->engine, c, data, len, flags);
    xcall_t *x = xcall_new(srv, X_SEND, c, fd, len);
    if (!x)
        return -ENOMEM;
    if (len)
        memcpy(x->data, data, len);
    x->flags = flags;
    return (long)xcall_post(x, (long long)len);
}

static long long thread_sendfile(swco_server_t *srv, long long fd, const char *path,
                                 long long offset, long long length)
{
    int mine;
    swco__conn_t *c = thread_conn(srv, fd, &mine);
    if (!c)
        return SWCO_ENOCONN;
    if (mine)
        return swco__engine_sendfile(swco__srv_me()->engine, c, path, offset, length);
    if (access(path, R_OK) < 0)
        return -errno;
    xcall_t *x = xcall_new(srv, X_SENDFILE, c, fd, 0);
    if (!x || !(x->path = strdup(path))) {
        free(x);
        return -ENOMEM;
    }
    x->offset = offset;
    x->length = length;
    return xcall_post(x, length);
}

static int thread_close_or_pause(swco_server_t *srv, long long fd, int op, int arg)
{
    int mine;
    swco__conn_t *c = thread_conn(srv, fd, &mine);
    if (!c)
        return SWCO_ENOCONN;
    if (mine)
        return op == X_CLOSE ? swco__engine_close(swco__srv_me()->engine, c, arg)
                             : swco__engine_pause(swco__srv_me()->engine, c, arg);
    xcall_t *x = xcall_new(srv, op, c, fd, 0);
    if (!x)
        return -ENOMEM;
    x->arg = arg;
    return (int)xcall_post(x, 0);
}

static int thread_close(swco_server_t *srv, long long fd, int reset)
{
    return thread_close_or_pause(srv, fd, X_CLOSE, reset);
}

static int thread_pause(swco_server_t *srv, long long fd, int pause)
{
    return thread_close_or_pause(srv, fd, X_PAUSE, pause);
}

/* Every thread's connections idle past their listener's
 * heartbeat_idle_time (they share one table). */
static long thread_heartbeat(swco_server_t *srv, int close_them, long long *fds, long max)
{
    double now = swco__wall_time();
    long found = 0;
    for (size_t i = 0; i < srv->conns.cap; i++) {
        swco__conn_t *c = &srv->conns.slots[i];
        if (__atomic_load_n(&c->state, __ATOMIC_ACQUIRE) != SWCO__CONN_OPEN)
            continue;
        if (c->listener >= srv->nlisteners)
            continue;
        double idle = srv->listeners[c->listener]->opt.heartbeat_idle_time;
        double last = c->last_recv_time > 0 ? c->last_recv_time : c->connect_time;
        if (idle <= 0 || now - last <= idle)
            continue;
        long long id = swco__conn_id(&srv->conns, c);
        if (found < max)
            fds[found] = id;
        found++;
        if (close_them)
            thread_close(srv, id, 0);
    }
    return found;
}

static const swco__srv_ops_t thread_ops = {thread_send,  thread_sendfile, thread_close,
                                           thread_pause, any_sendto,      thread_heartbeat};

const swco__srv_mode_t swco__srv_mode_thread = {thread_start, thread_worker_body, stop_accepting,
                                                &thread_ops};

void swco__srv_base_worker_end(swco_server_t *srv)
{
    if (srv->mode == SWCO_SERVER_THREAD)
        thread_worker_end(srv);
    else
        engine_down(srv);
}

/* ------------------------------------------------- stop without manager */

int swco__srv_local_stop(swco_server_t *srv, int worker_id)
{
    swco__srv_self_t *me = swco__srv_me();
    if (srv->mode != SWCO_SERVER_THREAD) {
        /* BASE with one worker: this process is it. */
        if (worker_id > 0)
            return -EINVAL;
        swco__srv_worker_stop(srv);
        return 0;
    }
    tstate_t *st = srv->mode_shared;
    if (!st)
        return 0;
    if (worker_id >= st->n)
        return -EINVAL;
    for (int i = 0; i < st->n; i++) {
        if (worker_id >= 0 && i != worker_id)
            continue;
        if (i >= srv->opt.worker_num)
            swco__srv_ipc_stop(srv, i); /* a task worker: by its message socket */
        else if (me->role == SWCO__ROLE_WORKER && me->worker_id == i)
            swco__srv_worker_stop(srv);
        else
            post_to(srv, i, thread_stop_posted, srv);
    }
    return 0;
}
