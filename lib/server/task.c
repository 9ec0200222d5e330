/* Task workers, tasks and messages between workers.
 *
 * Before any fork the master makes one AF_UNIX datagram socketpair per
 * worker id (event workers 0 .. worker_num-1, then the task workers):
 * every process sends to worker i through end [2i] and only worker i reads
 * end [2i+1], so a worker that is restarted (same id) finds what was sent
 * to it while it was down.  A message is one datagram: a header and, up to
 * INLINE_MAX bytes, the data; bigger data goes into an anonymous file
 * (memfd) passed with the datagram (SCM_RIGHTS), so a sender never waits
 * for its reader to take the pieces of a big message.  A datagram the
 * socket cannot take now waits in the sender's queue for that worker,
 * flushed when the socket is writable again: swco_server_task() never
 * blocks.
 *
 * Tasks carry the sender's id, pid and a task id unique per sending worker;
 * the task worker's swco_server_finish() sends the result back to exactly
 * that worker (and incarnation: a restarted worker drops results meant for
 * its predecessor), where it goes to the finish callback, to the coroutine
 * (or blocked worker) in swco_server_taskwait(), or is kept for
 * swco_server_task_result().  A result that comes after its waiter gave up
 * finds no one and is dropped.
 *
 * A task worker runs an event loop: tasks run straight from it (one at a
 * time, Swoole's synchronous task worker) or each in its own coroutine when
 * task_enable_coroutine is on.  SIGTERM (or a STOP message in THREAD mode)
 * stops it taking tasks: what is queued stays in its socket for the next
 * one with its id, the running tasks finish (up to max_wait_time), then the
 * worker stop callback runs and it returns.
 */
#include "server/server_int.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

/* Data up to this size travels in the datagram itself. */
#define INLINE_MAX (32 * 1024)
/* Datagrams one read callback takes before letting the loop turn. */
#define READ_BATCH 64
/* What each message socket may hold in flight (best effort: the kernel
 * caps it at net.core.wmem_max). */
#define SOCK_BUF (1024 * 1024)
/* taskwait / task_result with timeout 0: Swoole's default. */
#define TASKWAIT_DEFAULT 0.5

#define MSG_MAGIC 0x5357434bu /* "SWCK" */

enum { M_TASK = 1, M_FINISH = 2, M_MESSAGE = 3, M_STOP = 4 };
/* How the sender of a task wants its result. */
enum { T_CALLBACK = 0, T_WAIT = 1, T_COLLECT = 2 };
/* msg_hdr_t.flags */
enum { F_FD = 1 };

typedef struct msg_hdr {
    uint32_t magic;
    uint16_t type;
    uint16_t flags;
    int32_t src;  /* sending worker id */
    int32_t pid;  /* M_TASK: the sender's pid; M_FINISH: the pid it goes to */
    int32_t mode; /* T_*: kept by the task worker, sent back with the result */
    int32_t reserved;
    int64_t task_id;
    uint64_t len; /* data bytes (in the datagram or the passed file) */
} msg_hdr_t;

/* Made by the master before the forks (srv->task_shared). */
typedef struct ipc_shared {
    int n;   /* worker ids */
    int *fd; /* 2 per id: [2i] send end, [2i+1] worker i's read end */
} ipc_shared_t;

/* A message waiting in this process to be sent to one worker. */
typedef struct outmsg {
    struct outmsg *next;
    msg_hdr_t h;
    int fd;     /* F_FD: the file with the data, else -1 */
    size_t len; /* inline bytes that follow */
    char data[];
} outmsg_t;

typedef struct outq {
    outmsg_t *head, *tail;
    int watching; /* the send end is on this loop for writability */
} outq_t;

/* A result this worker waits for or keeps (taskwait, task_start). */
typedef struct pending {
    struct pending *next;
    long id;
    int mode; /* T_WAIT, T_COLLECT */
    int done;
    char *data;
    size_t len;
    swco__waiter_t *w; /* a coroutine waits for it */
} pending_t;

/* A task running in this task worker. */
typedef struct running {
    struct running *next;
    long id;
    int src;
    int32_t pid;
    int mode;
    long cid; /* its coroutine (0: run from the loop) */
    int finished;
    int counted; /* in tasking_num / task_count as done */
} running_t;

/* A message received, before or while it is handled. */
typedef struct inmsg {
    struct inmsg *next;
    struct tstate *st;
    msg_hdr_t h;
    char *data;
    size_t len;
} inmsg_t;

/* The calling worker's side (swco__srv_self->task_state). */
typedef struct tstate {
    swco_server_t *srv;
    ipc_shared_t *ipc;
    int id;
    int is_task;
    int attached; /* reader on the loop */
    long next_task_id;
    unsigned rr; /* task worker choice */
    pending_t *pending;
    running_t *running;
    long nrunning;
    outq_t *outq;                 /* one per worker id */
    inmsg_t *stash, **stash_tail; /* read during a blocking wait */
    int stash_deferred;
    char *rbuf;
    /* task worker */
    int stopping;
    int stopped;
    long stop_timer;
} tstate_t;

static int co_enabled(const tstate_t *st)
{
    return st->is_task ? st->srv->opt.task_enable_coroutine : st->srv->opt.enable_coroutine;
}

/* ------------------------------------------------------------ master side */

int swco__srv_ipc_prepare(swco_server_t *srv)
{
    if (!srv)
        return -EINVAL;
    if (srv->task_shared)
        return 0;
    int n = (srv->opt.worker_num > 0 ? srv->opt.worker_num : 1) +
            (srv->opt.task_worker_num > 0 ? srv->opt.task_worker_num : 0);
    ipc_shared_t *ipc = calloc(1, sizeof *ipc);
    int *fd = malloc(sizeof *fd * 2 * (size_t)n);
    if (!ipc || !fd) {
        free(ipc);
        free(fd);
        return -ENOMEM;
    }
    for (int i = 0; i < n; i++) {
        if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, fd + 2 * i) < 0) {
            int e = errno;
            for (int j = 0; j < 2 * i; j++)
                close(fd[j]);
            free(fd);
            free(ipc);
            return -e;
        }
        int sz = SOCK_BUF;
        setsockopt(fd[2 * i], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
        setsockopt(fd[2 * i + 1], SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
    }
    ipc->n = n;
    ipc->fd = fd;
    srv->task_shared = ipc;
    return 0;
}

void swco__srv_ipc_free(swco_server_t *srv)
{
    if (!srv || !srv->task_shared)
        return;
    ipc_shared_t *ipc = srv->task_shared;
    for (int i = 0; i < 2 * ipc->n; i++)
        close(ipc->fd[i]);
    free(ipc->fd);
    free(ipc);
    srv->task_shared = NULL;
}

/* --------------------------------------------------------------- state */

static void state_free(void *arg)
{
    tstate_t *st = arg;
    if (!st)
        return;
    for (pending_t *p = st->pending, *next; p; p = next) {
        next = p->next;
        free(p->data);
        free(p);
    }
    for (running_t *r = st->running, *next; r; r = next) {
        next = r->next;
        free(r);
    }
    for (int i = 0; st->outq && i < st->ipc->n; i++)
        for (outmsg_t *o = st->outq[i].head, *next; o; o = next) {
            next = o->next;
            if (o->fd >= 0)
                close(o->fd);
            free(o);
        }
    for (inmsg_t *m = st->stash, *next; m; m = next) {
        next = m->next;
        free(m->data);
        free(m);
    }
    free(st->outq);
    free(st->rbuf);
    free(st);
}

/* The calling worker's state, made on first use; NULL in the master, the
 * manager, or before start. */
static tstate_t *state_get(swco_server_t *srv)
{
    swco__srv_self_t *self = swco__srv_me();
    if (self->task_state)
        return self->task_state;
    if ((self->role != SWCO__ROLE_WORKER && self->role != SWCO__ROLE_TASK) || self->worker_id < 0 ||
        !srv || !srv->task_shared || self->worker_id >= ((ipc_shared_t *)srv->task_shared)->n)
        return NULL;
    tstate_t *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    st->srv = srv;
    st->ipc = srv->task_shared;
    st->id = self->worker_id;
    st->is_task = self->role == SWCO__ROLE_TASK;
    st->outq = calloc((size_t)st->ipc->n, sizeof *st->outq);
    st->rbuf = malloc(sizeof(msg_hdr_t) + INLINE_MAX);
    st->stash_tail = &st->stash;
    if (!st->outq || !st->rbuf) {
        state_free(st);
        return NULL;
    }
    self->task_state = st;
    return st;
}

/* ------------------------------------------------------------- sending */

/* One datagram to dst now; -EAGAIN when its socket is full. */
static int send_now(tstate_t *st, int dst, const msg_hdr_t *h, int fd, const void *data, size_t len)
{
    struct iovec iov[2] = {{(void *)h, sizeof *h}, {(void *)data, len}};
    struct msghdr mh;
    memset(&mh, 0, sizeof mh);
    mh.msg_iov = iov;
    mh.msg_iovlen = len ? 2 : 1;
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } cm;
    if (fd >= 0) {
        memset(&cm, 0, sizeof cm);
        mh.msg_control = cm.buf;
        mh.msg_controllen = sizeof cm.buf;
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof fd);
    }
    ssize_t n;
    while ((n = sendmsg(st->ipc->fd[2 * dst], &mh, MSG_DONTWAIT | MSG_NOSIGNAL)) < 0 &&
           errno == EINTR)
        ;
    if (n >= 0)
        return 0;
    return errno == EWOULDBLOCK ? -EAGAIN : -errno;
}

static void outq_flush(tstate_t *st, int dst);

static void outq_writable(int fd, int events, void *arg)
{
    tstate_t *st = arg;
    (void)events;
    for (int i = 0; i < st->ipc->n; i++)
        if (st->ipc->fd[2 * i] == fd) {
            outq_flush(st, i);
            return;
        }
}

/* Send what waits for dst, as far as its socket takes it; watch the
 * socket for room when something is left. */
static void outq_flush(tstate_t *st, int dst)
{
    outq_t *q = &st->outq[dst];
    while (q->head) {
        outmsg_t *o = q->head;
        int rc = send_now(st, dst, &o->h, o->fd, o->data, o->len);
        if (rc == -EAGAIN)
            break;
        if (rc < 0)
            swco__log(SWCO_LOG_ERROR, "server: message to worker %d lost: %s", dst,
                      swco_strerror(rc));
        q->head = o->next;
        if (!q->head)
            q->tail = NULL;
        if (o->fd >= 0)
            close(o->fd);
        free(o);
    }
    int fd = st->ipc->fd[2 * dst];
    if (q->head && !q->watching) {
        if (swco_event_add(fd, SWCO_EVENT_WRITE, outq_writable, st, NULL) == 0)
            q->watching = 1;
    } else if (!q->head && q->watching) {
        swco_event_del(fd);
        q->watching = 0;
    }
}

/* Put data in an anonymous file; returns its fd or a negative code. */
static int spill(const void *data, size_t len)
{
    int fd = memfd_create("swco-task", MFD_CLOEXEC);
    if (fd < 0) {
        char path[] = "/tmp/swco-task-XXXXXX";
        const char *dir = getenv("TMPDIR");
        char *p = NULL;
        if (dir && *dir && asprintf(&p, "%s/swco-task-XXXXXX", dir) > 0) {
            fd = mkostemp(p, O_CLOEXEC);
            if (fd >= 0)
                unlink(p);
            free(p);
        }
        if (fd < 0) {
            fd = mkostemp(path, O_CLOEXEC);
            if (fd < 0)
                return -errno;
            unlink(path);
        }
    }
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, (const char *)data + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = n < 0 ? errno : ENOSPC;
            close(fd);
            return -e;
        }
        done += (size_t)n;
    }
    return fd;
}

/* Send a message to worker dst: now, or queued until its socket takes it. */
static int send_msg(tstate_t *st, int dst, msg_hdr_t *h, const void *data, size_t len)
{
    h->magic = MSG_MAGIC;
    h->src = st->id;
    h->len = len;
    int fd = -1;
    if (len > INLINE_MAX) {
        fd = spill(data, len);
        if (fd < 0)
            return fd;
        h->flags |= F_FD;
        data = NULL;
        len = 0;
    }
    outq_t *q = &st->outq[dst];
    if (!q->head) {
        int rc = send_now(st, dst, h, fd, data, len);
        if (rc != -EAGAIN) {
            if (fd >= 0)
                close(fd);
            return rc;
        }
    }
    outmsg_t *o = malloc(sizeof *o + len);
    if (!o) {
        if (fd >= 0)
            close(fd);
        return -ENOMEM;
    }
    o->next = NULL;
    o->h = *h;
    o->fd = fd;
    o->len = len;
    if (len)
        memcpy(o->data, data, len);
    if (q->tail)
        q->tail->next = o;
    else
        q->head = o;
    q->tail = o;
    outq_flush(st, dst);
    return 0;
}

/* Outside the loop (a blocking taskwait): send everything queued, waiting
 * for room, until deadline. */
static int outq_drain_blocking(tstate_t *st, swco__deadline_t deadline)
{
    for (int dst = 0; dst < st->ipc->n; dst++) {
        while (st->outq[dst].head) {
            outq_flush(st, dst);
            if (!st->outq[dst].head)
                break;
            long long ms = swco__deadline_left_ms(deadline);
            if (ms == 0)
                return -ETIMEDOUT;
            struct pollfd pfd = {.fd = st->ipc->fd[2 * dst], .events = POLLOUT};
            poll(&pfd, 1, ms < 0 || ms > 1000 ? 1000 : (int)ms);
        }
    }
    return 0;
}

/* ----------------------------------------------------------- receiving */

static void handle(tstate_t *st, inmsg_t *m);

/* Read one datagram from our socket: 1 with *out filled, 0 when none is
 * waiting, < 0 on error.  Malformed ones are dropped (and read past). */
static int recv_one(tstate_t *st, inmsg_t **out)
{
    *out = NULL;
    struct iovec iov = {st->rbuf, sizeof(msg_hdr_t) + INLINE_MAX};
    union {
        char buf[CMSG_SPACE(sizeof(int) * 4)];
        struct cmsghdr align;
    } cm;
    struct msghdr mh;
    memset(&mh, 0, sizeof mh);
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = cm.buf;
    mh.msg_controllen = sizeof cm.buf;
    ssize_t n;
    while ((n = recvmsg(st->ipc->fd[2 * st->id + 1], &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC)) < 0 &&
           errno == EINTR)
        ;
    if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
    int fd = -1;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            int nfd = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
            for (int i = 0; i < nfd; i++) {
                int f;
                memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof f);
                if (fd < 0)
                    fd = f;
                else
                    close(f);
            }
        }
    msg_hdr_t h;
    if ((size_t)n < sizeof h || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)))
        goto drop;
    memcpy(&h, st->rbuf, sizeof h);
    size_t inl = (size_t)n - sizeof h;
    if (h.magic != MSG_MAGIC || ((h.flags & F_FD) ? (fd < 0 || inl) : h.len != inl))
        goto drop;
    inmsg_t *m = malloc(sizeof *m);
    char *data = malloc(h.len ? h.len : 1);
    if (!m || !data) {
        free(m);
        free(data);
        swco__log(SWCO_LOG_ERROR, "server: no memory for a %llu-byte message: dropped",
                  (unsigned long long)h.len);
        goto drop_quiet;
    }
    if (h.flags & F_FD) {
        size_t done = 0;
        while (done < h.len) {
            ssize_t r = pread(fd, data + done, h.len - done, (off_t)done);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                break;
            done += (size_t)r;
        }
        close(fd);
        fd = -1;
        if (done < h.len) {
            free(m);
            free(data);
            goto drop;
        }
    } else {
        memcpy(data, st->rbuf + sizeof h, inl);
    }
    if (fd >= 0)
        close(fd);
    m->next = NULL;
    m->st = st;
    m->h = h;
    m->data = data;
    m->len = h.len;
    *out = m;
    return 1;
drop:
    swco__log(SWCO_LOG_ERROR, "server: worker %d: malformed message dropped", st->id);
drop_quiet:
    if (fd >= 0)
        close(fd);
    return 1;
}

static void reader(int fd, int events, void *arg)
{
    tstate_t *st = arg;
    (void)fd;
    (void)events;
    for (int i = 0; i < READ_BATCH && st->attached; i++) {
        inmsg_t *m;
        int rc = recv_one(st, &m);
        if (rc <= 0)
            break;
        if (m)
            handle(st, m);
    }
}

static void stash_run(void *arg)
{
    tstate_t *st = arg;
    st->stash_deferred = 0;
    while (st->stash) {
        inmsg_t *m = st->stash;
        st->stash = m->next;
        if (!st->stash)
            st->stash_tail = &st->stash;
        handle(st, m);
    }
}

/* Keep m for the loop (it came during a blocking wait). */
static void stash_push(tstate_t *st, inmsg_t *m)
{
    m->next = NULL;
    *st->stash_tail = m;
    st->stash_tail = &m->next;
    if (!st->stash_deferred && swco_event_defer(stash_run, st, NULL) == 0)
        st->stash_deferred = 1;
}

/* An event worker's loop was released with the reader on it (a THREAD
 * mode worker ended): its state goes with it. */
static void reader_release(void *arg)
{
    tstate_t *st = arg;
    swco__srv_self_t *self = swco__srv_me();
    if (self->task_state == st)
        self->task_state = NULL;
    state_free(st);
}

int swco__srv_ipc_attach(swco_server_t *srv, int worker_id)
{
    tstate_t *st = state_get(srv);
    if (!st || st->id != worker_id)
        return -EINVAL;
    if (st->attached)
        return 0;
    /* A task worker deletes its reader when it stops and frees its state
     * itself (swco__srv_task_worker_run). */
    int rc = swco_event_add(st->ipc->fd[2 * st->id + 1], SWCO_EVENT_READ | SWCO_EVENT_NOREF, reader,
                            st, st->is_task ? NULL : reader_release);
    if (rc < 0)
        return rc;
    st->attached = 1;
    /* An event worker reading its messages serves: a program that handed
     * us its sockets (hot restart) may go.  A manager said so already
     * and took the variable before forking; this is for a server without
     * one (BASE with one worker, THREAD). */
    if (!st->is_task)
        swco__srv_notify_ready();
    return 0;
}

void swco__srv_ipc_detach(swco_server_t *srv)
{
    (void)srv;
    swco__srv_self_t *self = swco__srv_me();
    tstate_t *st = self->task_state;
    if (!st)
        return;
    /* Our loop may be gone already (then reader_release freed the state of
     * an event worker); deleting unknown fds is harmless. */
    for (int i = 0; st->outq && i < st->ipc->n; i++)
        if (st->outq[i].watching) {
            st->outq[i].watching = 0;
            if (swco__reactor_peek())
                swco_event_del(st->ipc->fd[2 * i]);
        }
    if (st->attached && swco__reactor_peek()) {
        st->attached = 0;
        /* An event worker's reader_release frees the state here. */
        swco_event_del(st->ipc->fd[2 * st->id + 1]);
    }
    if (self->task_state == st) {
        self->task_state = NULL;
        state_free(st);
    }
}

/* ----------------------------------------------------- running callbacks */

static void inmsg_free(void *arg)
{
    inmsg_t *m = arg;
    free(m->data);
    free(m);
}

static void task_worker_check_stop(tstate_t *st);

static running_t *running_find(tstate_t *st, long id)
{
    long cid = swco_coroutine_id();
    running_t *any = NULL;
    for (running_t *r = st->running; r; r = r->next)
        if (r->id == id && !r->finished) {
            if (r->cid == cid)
                return r;
            if (!any)
                any = r;
        }
    return any;
}

/* A task is done (+1) or not after all (-1): the shared figures. */
static void count_done(swco_server_t *srv, int n)
{
    __atomic_sub_fetch(&srv->shm->tasking_num, n, __ATOMIC_RELAXED);
    __atomic_add_fetch(&srv->shm->task_count, n, __ATOMIC_RELAXED);
}

static void run_msg(void *arg)
{
    inmsg_t *m = arg;
    tstate_t *st = m->st;
    swco_server_t *srv = st->srv;
    swco__srv_cb_t *cb;
    switch (m->h.type) {
    case M_TASK: {
        swco__srv_wshm_t *w = &srv->shm->workers[st->id];
        running_t *r = calloc(1, sizeof *r);
        cb = &srv->cb[SWCO__CB_TASK];
        if (r) {
            r->id = (long)m->h.task_id;
            r->src = m->h.src;
            r->pid = m->h.pid;
            r->mode = m->h.mode;
            r->cid = swco_coroutine_id() > 0 ? swco_coroutine_id() : 0;
            r->next = st->running;
            st->running = r;
        }
        st->nrunning++;
        __atomic_add_fetch(&w->busy, 1, __ATOMIC_RELAXED);
        __atomic_add_fetch(&w->request_count, 1, __ATOMIC_RELAXED);
        __atomic_add_fetch(&w->total_requests, 1, __ATOMIC_RELAXED);
        if (cb->fn)
            ((swco_server_task_fn)cb->fn)(srv, (long)m->h.task_id, m->h.src, m->data, m->len,
                                          cb->arg);
        else
            swco__log(SWCO_LOG_ERROR, "server: task %lld from worker %d: no task callback",
                      (long long)m->h.task_id, m->h.src);
        int counted = r && r->counted;
        if (r) {
            for (running_t **pp = &st->running; *pp; pp = &(*pp)->next)
                if (*pp == r) {
                    *pp = r->next;
                    break;
                }
            free(r);
        }
        st->nrunning--;
        __atomic_sub_fetch(&w->busy, 1, __ATOMIC_RELAXED);
        if (!counted)
            count_done(srv, 1);
        task_worker_check_stop(st);
        break;
    }
    case M_FINISH:
        cb = &srv->cb[SWCO__CB_FINISH];
        if (cb->fn)
            ((swco_server_finish_fn)cb->fn)(srv, (long)m->h.task_id, m->data, m->len, cb->arg);
        break;
    case M_MESSAGE:
        cb = &srv->cb[SWCO__CB_PIPE_MESSAGE];
        if (cb->fn)
            ((swco_server_message_fn)cb->fn)(srv, m->h.src, m->data, m->len, cb->arg);
        break;
    }
}

static void run_msg_free(void *arg)
{
    run_msg(arg);
    inmsg_free(arg);
}

/* In a new coroutine when the worker runs callbacks in coroutines, else
 * straight from the loop. */
static void run_callback(tstate_t *st, inmsg_t *m)
{
    if (co_enabled(st) && !swco__co_current() &&
        swco_coroutine_create_ex(run_msg, m, inmsg_free, 0) > 0)
        return;
    run_msg_free(m);
}

static pending_t *pending_find(tstate_t *st, long id)
{
    for (pending_t *p = st->pending; p; p = p->next)
        if (p->id == id)
            return p;
    return NULL;
}

static void task_worker_stop(tstate_t *st);

static void handle(tstate_t *st, inmsg_t *m)
{
    switch (m->h.type) {
    case M_TASK:
        if (!st->is_task) {
            swco__log(SWCO_LOG_ERROR, "server: worker %d got a task: dropped", st->id);
            break;
        }
        run_callback(st, m);
        return;
    case M_FINISH: {
        if (m->h.pid != (int32_t)getpid())
            break; /* for the worker this one replaced */
        if (m->h.mode == T_CALLBACK) {
            run_callback(st, m);
            return;
        }
        pending_t *p = pending_find(st, (long)m->h.task_id);
        if (!p || p->done)
            break; /* its waiter gave up: dropped */
        p->done = 1;
        p->data = m->data;
        p->len = m->len;
        m->data = NULL;
        if (p->w) {
            swco__waiter_t *w = p->w;
            p->w = NULL;
            if (w->timer) {
                swco__timer_del(w->timer);
                w->timer = 0;
            }
            swco__co_wake(w, 0);
        }
        break;
    }
    case M_MESSAGE:
        run_callback(st, m);
        return;
    case M_STOP:
        if (st->is_task)
            task_worker_stop(st);
        else
            swco__srv_worker_stop(st->srv);
        break;
    }
    inmsg_free(m);
}

/* ------------------------------------------------------ waiting results */

static void pending_cancel(swco__waiter_t *w)
{
    pending_t *p = w->data;
    p->w = NULL;
}

static void pending_unlink(tstate_t *st, pending_t *p)
{
    for (pending_t **pp = &st->pending; *pp; pp = &(*pp)->next)
        if (*pp == p) {
            *pp = p->next;
            break;
        }
}

/* Wait until p has its result or deadline passes: yield in a coroutine,
 * else block on our socket, keeping what else comes for the loop. */
static int pending_wait(tstate_t *st, pending_t *p, swco__deadline_t deadline)
{
    if (p->done)
        return 0;
    if (swco__co_can_wait() == 0) {
        swco__waiter_t w;
        memset(&w, 0, sizeof w);
        w.what = "task result";
        w.cancel = pending_cancel;
        w.data = p;
        p->w = &w;
        swco__reactor_t *r = swco__reactor_get();
        if (r)
            swco__reactor_ref(r); /* a result is coming: keep the loop */
        int rc = swco__wait_until(&w, deadline);
        if (r)
            swco__reactor_unref(r);
        p->w = NULL;
        return p->done ? 0 : rc ? rc : -ETIMEDOUT;
    }
    int rc = outq_drain_blocking(st, deadline);
    if (rc < 0)
        return rc;
    while (!p->done) {
        inmsg_t *m;
        rc = recv_one(st, &m);
        if (rc < 0)
            return rc;
        if (rc == 0) {
            long long ms = swco__deadline_left_ms(deadline);
            if (ms == 0)
                return -ETIMEDOUT;
            struct pollfd pfd = {.fd = st->ipc->fd[2 * st->id + 1], .events = POLLIN};
            poll(&pfd, 1, ms < 0 || ms > 1000 ? 1000 : (int)ms);
            continue;
        }
        if (!m)
            continue;
        if (m->h.type == M_FINISH && m->h.mode != T_CALLBACK && m->h.pid == (int32_t)getpid() &&
            (long)m->h.task_id == p->id) {
            p->done = 1;
            p->data = m->data;
            p->len = m->len;
            free(m);
            break;
        }
        stash_push(st, m);
    }
    return 0;
}

static swco__deadline_t wait_deadline(double timeout)
{
    if (timeout < 0)
        return SWCO__DEADLINE_NONE;
    return swco__deadline_from_timeout(timeout == 0 ? TASKWAIT_DEFAULT : timeout);
}

/* ------------------------------------------------------------ public */

/* The task worker for dst_worker_id (-1: an idle one), as a worker id. */
static int task_target(swco_server_t *srv, tstate_t *st, int dst_worker_id)
{
    int nw = srv->opt.worker_num > 0 ? srv->opt.worker_num : 1;
    int nt = srv->opt.task_worker_num;
    if (dst_worker_id >= 0)
        return dst_worker_id < nt ? nw + dst_worker_id : -EINVAL;
    if (dst_worker_id != -1)
        return -EINVAL;
    unsigned start = st->rr++;
    for (int i = 0; i < nt; i++) {
        int id = nw + (int)((start + (unsigned)i) % (unsigned)nt);
        swco__srv_wshm_t *w = &srv->shm->workers[id];
        if (id != st->id && __atomic_load_n(&w->busy, __ATOMIC_RELAXED) == 0 &&
            __atomic_load_n(&w->pid, __ATOMIC_RELAXED) > 0)
            return id;
    }
    return nw + (int)(start % (unsigned)nt);
}

static long task_send(swco_server_t *srv, const void *data, size_t len, int dst_worker_id, int mode,
                      tstate_t **out_st)
{
    if (!srv || (!data && len))
        return -EINVAL;
    if (srv->opt.task_worker_num <= 0)
        return -ENOSYS;
    tstate_t *st = state_get(srv);
    if (!st)
        return SWCO_ENOTWORKER;
    int dst = task_target(srv, st, dst_worker_id);
    if (dst < 0)
        return dst;
    msg_hdr_t h;
    memset(&h, 0, sizeof h);
    h.type = M_TASK;
    h.pid = (int32_t)getpid();
    h.mode = mode;
    long id = st->next_task_id++;
    h.task_id = id;
    __atomic_add_fetch(&srv->shm->tasking_num, 1, __ATOMIC_RELAXED);
    int rc = send_msg(st, dst, &h, data, len);
    if (rc < 0) {
        __atomic_sub_fetch(&srv->shm->tasking_num, 1, __ATOMIC_RELAXED);
        return rc;
    }
    *out_st = st;
    return id;
}

long swco_server_task(swco_server_t *srv, const void *data, size_t len, int dst_worker_id)
{
    tstate_t *st;
    long id = task_send(srv, data, len, dst_worker_id, T_CALLBACK, &st);
    return id < 0 ? swco__fail((int)id) : id;
}

static int collect(tstate_t *st, pending_t *p, swco__deadline_t deadline, char **out,
                   size_t *out_len)
{
    int rc = pending_wait(st, p, deadline);
    pending_unlink(st, p);
    if (rc == 0) {
        *out = p->data ? p->data : malloc(1);
        *out_len = p->len;
        p->data = NULL;
        if (!*out)
            rc = -ENOMEM;
    }
    free(p->data);
    free(p);
    return rc;
}

int swco_server_taskwait(swco_server_t *srv, const void *data, size_t len, double timeout,
                         int dst_worker_id, char **out, size_t *out_len)
{
    if (!out || !out_len)
        return swco__fail(-EINVAL);
    swco__deadline_t deadline = wait_deadline(timeout);
    pending_t *p = calloc(1, sizeof *p);
    if (!p)
        return swco__fail(-ENOMEM);
    tstate_t *st;
    long id = task_send(srv, data, len, dst_worker_id, T_WAIT, &st);
    if (id < 0) {
        free(p);
        return swco__fail((int)id);
    }
    p->id = id;
    p->mode = T_WAIT;
    p->next = st->pending;
    st->pending = p;
    int rc = collect(st, p, deadline, out, out_len);
    return rc < 0 ? swco__fail(rc) : 0;
}

long swco_server_task_start(swco_server_t *srv, const void *data, size_t len, int dst_worker_id)
{
    pending_t *p = calloc(1, sizeof *p);
    if (!p)
        return swco__fail(-ENOMEM);
    tstate_t *st;
    long id = task_send(srv, data, len, dst_worker_id, T_COLLECT, &st);
    if (id < 0) {
        free(p);
        return swco__fail((int)id);
    }
    p->id = id;
    p->mode = T_COLLECT;
    p->next = st->pending;
    st->pending = p;
    return id;
}

int swco_server_task_result(swco_server_t *srv, long task_id, double timeout, char **out,
                            size_t *out_len)
{
    if (!srv || !out || !out_len)
        return swco__fail(-EINVAL);
    tstate_t *st = state_get(srv);
    if (!st)
        return swco__fail(SWCO_ENOTWORKER);
    pending_t *p = pending_find(st, task_id);
    if (!p || p->mode != T_COLLECT)
        return swco__fail(-ENOENT);
    if (p->w)
        return swco__fail(-EBUSY);
    int rc = collect(st, p, wait_deadline(timeout), out, out_len);
    return rc < 0 ? swco__fail(rc) : 0;
}

int swco_server_finish(swco_server_t *srv, long task_id, const void *data, size_t len)
{
    if (!srv || (!data && len))
        return swco__fail(-EINVAL);
    tstate_t *st = state_get(srv);
    if (!st || !st->is_task)
        return swco__fail(-EINVAL);
    running_t *r = running_find(st, task_id);
    if (!r)
        return swco__fail(-ENOENT);
    if (r->src < 0 || r->src >= st->ipc->n)
        return swco__fail(-EINVAL);
    msg_hdr_t h;
    memset(&h, 0, sizeof h);
    h.type = M_FINISH;
    h.pid = r->pid;
    h.mode = r->mode;
    h.task_id = task_id;
    /* Counted before the result leaves: whoever has it sees the figures. */
    if (!r->counted)
        count_done(st->srv, 1);
    int rc = send_msg(st, r->src, &h, data, len);
    if (rc < 0) {
        if (!r->counted)
            count_done(st->srv, -1);
        return swco__fail(rc);
    }
    r->finished = 1;
    r->counted = 1;
    return 0;
}

int swco_server_send_message(swco_server_t *srv, int dst_worker_id, const void *data, size_t len)
{
    if (!srv || (!data && len))
        return swco__fail(-EINVAL);
    tstate_t *st = state_get(srv);
    if (!st)
        return swco__fail(SWCO_ENOTWORKER);
    if (dst_worker_id < 0 || dst_worker_id >= st->ipc->n || dst_worker_id == st->id)
        return swco__fail(-EINVAL);
    msg_hdr_t h;
    memset(&h, 0, sizeof h);
    h.type = M_MESSAGE;
    h.pid = (int32_t)getpid();
    int rc = send_msg(st, dst_worker_id, &h, data, len);
    return rc < 0 ? swco__fail(rc) : 0;
}

int swco__srv_ipc_stop(swco_server_t *srv, int worker_id)
{
    if (!srv || !srv->task_shared)
        return -EINVAL;
    ipc_shared_t *ipc = srv->task_shared;
    if (worker_id < 0 || worker_id >= ipc->n)
        return -EINVAL;
    msg_hdr_t h;
    memset(&h, 0, sizeof h);
    h.magic = MSG_MAGIC;
    h.type = M_STOP;
    h.src = -1;
    h.pid = (int32_t)getpid();
    ssize_t n;
    while ((n = send(ipc->fd[2 * worker_id], &h, sizeof h, MSG_NOSIGNAL | MSG_DONTWAIT)) < 0 &&
           errno == EINTR)
        ;
    return n < 0 ? -errno : 0;
}

/* -------------------------------------------------------- task worker */

typedef struct task_worker {
    swco_server_t *srv;
    int id;
    swco__srv_self_t self;
    tstate_t *st;
    int use_signal;
    int rc;
} task_worker_t;

static SWCO__TLS task_worker_t *tw_current;

static void stop_timeout(long id, void *arg)
{
    tstate_t *st = arg;
    (void)id;
    st->stop_timer = 0;
    swco__log(SWCO_LOG_WARNING,
              "server: task worker %d: %ld task(s) still running after "
              "max_wait_time: leaving them",
              st->id, st->nrunning);
    st->nrunning = 0;
    task_worker_check_stop(st);
}

/* Leave the loop if the program's timers or coroutines would keep it. */
static void final_check(void *arg)
{
    (void)arg;
    if (swco_timer_count() > 0 || swco_coroutine_count() > 0)
        swco_event_exit();
}

static void task_worker_check_stop(tstate_t *st)
{
    if (!st->stopping || st->stopped)
        return;
    swco_server_t *srv = st->srv;
    if (st->nrunning > 0) {
        swco__srv_cb_t *cb = &srv->cb[SWCO__CB_WORKER_EXIT];
        if (cb->fn)
            ((swco_server_worker_fn)cb->fn)(srv, st->id, cb->arg);
        return;
    }
    st->stopped = 1;
    if (st->stop_timer) {
        swco__timer_del(st->stop_timer);
        st->stop_timer = 0;
    }
    swco__srv_cb_t *cb = &srv->cb[SWCO__CB_WORKER_STOP];
    if (cb->fn)
        ((swco_server_worker_fn)cb->fn)(srv, st->id, cb->arg);
    /* Results still queued go out first (up to max_wait_time). */
    double wait = srv->opt.max_wait_time > 0 ? srv->opt.max_wait_time : 1;
    if (outq_drain_blocking(st, swco__deadline_from_timeout(wait)) < 0)
        swco__log(SWCO_LOG_WARNING, "server: task worker %d: results not delivered", st->id);
    for (int i = 0; i < st->ipc->n; i++)
        if (st->outq[i].watching) {
            swco_event_del(st->ipc->fd[2 * i]);
            st->outq[i].watching = 0;
        }
    swco__reactor_t *r = swco__reactor_peek();
    if (r)
        swco__reactor_unref(r);
    if (srv->mode == SWCO_SERVER_THREAD)
        swco_event_defer(final_check, NULL, NULL); /* a thread's loop ends by itself */
    else
        swco_event_exit();
}

/* Stop taking tasks; end once the running ones are done. */
static void task_worker_stop(tstate_t *st)
{
    if (st->stopping)
        return;
    st->stopping = 1;
    __atomic_store_n(&st->srv->shm->workers[st->id].stopping, 1, __ATOMIC_RELAXED);
    if (st->attached) {
        swco_event_del(st->ipc->fd[2 * st->id + 1]);
        st->attached = 0;
    }
    double wait = st->srv->opt.max_wait_time;
    if (st->nrunning > 0 && wait > 0) {
        long t = swco__timer_add(swco__seconds_to_ms(wait), stop_timeout, st);
        st->stop_timer = t > 0 ? t : 0;
    }
    task_worker_check_stop(st);
}

static void on_sigterm(int signo, void *arg)
{
    (void)signo;
    task_worker_stop(arg);
}

static void task_worker_main(void *arg)
{
    task_worker_t *tw = arg;
    swco_server_t *srv = tw->srv;
    tstate_t *st = state_get(srv);
    if (!st) {
        tw->rc = 1;
        return;
    }
    tw->st = st;
    /* The loop lives until the worker stops (the reader does not keep it). */
    swco__reactor_t *r = swco__reactor_get();
    if (!r) {
        tw->rc = 1;
        return;
    }
    swco__reactor_ref(r);
    if (tw->use_signal && swco_event_signal(SIGTERM, on_sigterm, st, NULL) < 0)
        tw->use_signal = 0;
    int rc = swco__srv_ipc_attach(srv, tw->id);
    if (rc < 0) {
        swco__log(SWCO_LOG_ERROR, "server: task worker %d cannot read its socket: %s", tw->id,
                  swco_strerror(rc));
        tw->rc = 1;
        st->stopping = st->stopped = 1;
        swco__reactor_unref(r);
        if (tw->use_signal)
            swco_event_signal(SIGTERM, NULL, NULL, NULL);
        return;
    }
    swco__srv_cb_t *cb = &srv->cb[SWCO__CB_WORKER_START];
    if (cb->fn)
        ((swco_server_worker_fn)cb->fn)(srv, tw->id, cb->arg);
}

int swco__srv_task_worker_run(swco_server_t *srv, int worker_id)
{
    if (!srv || !srv->shm || !srv->task_shared || worker_id < 0 ||
        worker_id >= ((ipc_shared_t *)srv->task_shared)->n)
        return 1;
    task_worker_t tw;
    memset(&tw, 0, sizeof tw);
    tw.srv = srv;
    tw.id = worker_id;
    tw.self = (swco__srv_self_t){.role = SWCO__ROLE_TASK, .worker_id = worker_id};
    tw.use_signal = srv->mode != SWCO_SERVER_THREAD;
    swco__srv_self_t *prev = swco__srv_self;
    swco__srv_self = &tw.self;
    tw_current = &tw;
    swco__srv_wshm_t *w = &srv->shm->workers[worker_id];
    w->is_task = 1;
    if (srv->mode == SWCO_SERVER_THREAD) {
        __atomic_store_n(&w->pid, (int32_t)getpid(), __ATOMIC_RELEASE);
        w->start_time = swco__wall_time();
    }
    if (tw.use_signal) {
        /* SIGTERM comes from the loop's signalfd from here on (one sent
         * before is pending: the manager's children start with it blocked). */
        sigset_t term;
        sigemptyset(&term);
        sigaddset(&term, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &term, NULL);
    }
    int rc = swco_run(task_worker_main, &tw);
    if (rc < 0 && rc != SWCO_EDEADLOCK)
        swco__log(SWCO_LOG_ERROR, "server: task worker %d: %s", worker_id, swco_strerror(rc));
    int code = tw.rc;
    tstate_t *st = tw.st;
    if (st && !st->stopped) {
        /* The loop ran dry without a stop: nothing could reach us. */
        code = code ? code : 1;
    }
    tw_current = NULL;
    /* Freed in a process too, so that one ending normally owns nothing
     * (valgrind's leak check follows forked workers). */
    swco__srv_ipc_detach(srv);
    swco__srv_self = prev;
    tw.self.task_state = NULL;
    if (srv->mode == SWCO_SERVER_THREAD)
        __atomic_store_n(&w->pid, 0, __ATOMIC_RELEASE);
    return code;
}
