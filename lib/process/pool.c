/* Process pool: a manager that keeps N workers alive, restarts crashed
 * ones under the same id, reloads them one at a time on SIGUSR1 and stops
 * them gracefully on SIGTERM.
 *
 * Both sides run on the libswco event loop and sleep in it between events,
 * with no polling tick.  The manager takes SIGCHLD, SIGTERM and SIGUSR1
 * through the loop's signalfd and keeps its delays on loop timers; it forks
 * the workers from the loop's callbacks, and a forked child starts with a
 * fresh loop, so workers may run their own with swco_run().  Workers wait on
 * the loop for their socket, the listening socket or their connections
 * (message queue mode blocks in msgrcv(), see serve_queue_once()), and take
 * messages straight from the queue or the socket the manager opened, so a
 * message waiting there is never lost while a worker is replaced (a
 * stopping worker first finishes the connections it accepted).
 */
#include "process/process_int.h"
#include "process/pool_msg.h"

#include <sys/prctl.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/msg.h>
#include <sys/resource.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct cb {
    void *fn;
    void *arg;
    swco_free_fn arg_free;
} cb_t;

/* In shared memory: what every process sharing the pool may read. */
typedef struct pool_shm {
    int32_t manager;
    int32_t pids[];
} pool_shm_t;

struct swco_pool {
    int workers;
    int ipc;
    int msqid;
    int own_queue;        /* created with IPC_PRIVATE by this pool */
    pid_t creator;
    int listen_fd;
    int port;
    char unix_path[108];
    double max_wait;
    double msg_timeout;   /* socket mode: whole message, then whole reply */
    cb_t on_start, on_stop, on_message;
    int *pair;            /* UNIXSOCK: 2 fds per worker: [2i] outer, [2i+1] worker's */
    pool_shm_t *shm;
    size_t shm_size;
    int running;          /* start() in progress in this process */
    /* worker side */
    int worker_id;
    int conn_fd;          /* connection of the message being handled */
};

/* A socket-mode connection a worker accepted, its message partly read. */
typedef struct conn {
    int fd;
    uint64_t deadline; /* ns: the whole message must be in by then */
    swco__pool_msg_t msg;
} conn_t;

/* Most connections one worker holds while their messages arrive. */
#define SWCO_POOL_CONN_MAX 1024
/* Default whole-message deadline in socket mode. */
#define SWCO_POOL_MSG_TIMEOUT 5.0

/* Largest datagram a UNIXSOCK worker reads. */
#define SWCO_POOL_DGRAM_MAX (256 * 1024)

/* Set by the worker's SIGTERM handler. */
static volatile sig_atomic_t worker_stopping;

/* ------------------------------------------------------------- creation */

swco_pool_t *swco_pool_new(int workers, int ipc, long queue_key)
{
    if (workers < 1 || workers > 1024 || ipc < SWCO_POOL_IPC_NONE || ipc > SWCO_POOL_IPC_UNIXSOCK) {
        swco__fail(-EINVAL);
        return NULL;
    }
    swco_pool_t *p = calloc(1, sizeof *p);
    if (!p) {
        swco__fail(-ENOMEM);
        return NULL;
    }
    p->workers = workers;
    p->ipc = ipc;
    p->msqid = -1;
    p->listen_fd = -1;
    p->conn_fd = -1;
    p->worker_id = -1;
    p->max_wait = 30;
    p->msg_timeout = SWCO_POOL_MSG_TIMEOUT;
    p->creator = getpid();
    p->shm_size = sizeof(pool_shm_t) + sizeof(int32_t) * (size_t)workers;
    p->shm = swco__shm_alloc(p->shm_size);
    if (!p->shm) {
        free(p);
        swco__fail(-ENOMEM);
        return NULL;
    }
    if (ipc == SWCO_POOL_IPC_MSGQUEUE) {
        p->msqid = msgget(queue_key ? (key_t)queue_key : IPC_PRIVATE, IPC_CREAT | 0600);
        if (p->msqid < 0) {
            int e = errno;
            swco__shm_free(p->shm, p->shm_size);
            free(p);
            swco__fail(-e);
            return NULL;
        }
        p->own_queue = queue_key == 0;
    }
    if (ipc == SWCO_POOL_IPC_UNIXSOCK) {
        p->pair = malloc(sizeof *p->pair * 2 * (size_t)workers);
        int rc = p->pair ? 0 : -ENOMEM;
        for (int i = 0; i < workers && !rc; i++)
            if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, p->pair + 2 * i) < 0) {
                rc = -errno;
                for (int j = 0; j < i; j++) {
                    close(p->pair[2 * j]);
                    close(p->pair[2 * j + 1]);
                }
            }
        if (rc) {
            free(p->pair);
            swco__shm_free(p->shm, p->shm_size);
            free(p);
            swco__fail(rc);
            return NULL;
        }
    }
    return p;
}

static void cb_set(cb_t *c, void *fn, void *arg, swco_free_fn arg_free)
{
    if (c->arg_free)
        c->arg_free(c->arg);
    c->fn = fn;
    c->arg = arg;
    c->arg_free = arg_free;
}

void swco_pool_free(swco_pool_t *p)
{
    if (!p)
        return;
    cb_set(&p->on_start, NULL, NULL, NULL);
    cb_set(&p->on_stop, NULL, NULL, NULL);
    cb_set(&p->on_message, NULL, NULL, NULL);
    if (p->listen_fd >= 0)
        close(p->listen_fd);
    if (p->pair) {
        for (int i = 0; i < 2 * p->workers; i++)
            close(p->pair[i]);
        free(p->pair);
    }
    if (p->unix_path[0] && getpid() == p->creator)
        unlink(p->unix_path);
    if (p->own_queue && p->msqid >= 0 && getpid() == p->creator)
        msgctl(p->msqid, IPC_RMID, NULL);
    swco__shm_free(p->shm, p->shm_size);
    free(p);
}

int swco_pool_on_worker_start(swco_pool_t *p, swco_pool_worker_fn fn, void *arg,
                              swco_free_fn arg_free)
{
    if (!p)
        return swco__fail(-EINVAL);
    cb_set(&p->on_start, (void *)fn, arg, arg_free);
    return 0;
}

int swco_pool_on_worker_stop(swco_pool_t *p, swco_pool_worker_fn fn, void *arg,
                             swco_free_fn arg_free)
{
    if (!p)
        return swco__fail(-EINVAL);
    cb_set(&p->on_stop, (void *)fn, arg, arg_free);
    return 0;
}

int swco_pool_on_message(swco_pool_t *p, swco_pool_message_fn fn, void *arg, swco_free_fn arg_free)
{
    if (!p)
        return swco__fail(-EINVAL);
    cb_set(&p->on_message, (void *)fn, arg, arg_free);
    return 0;
}

int swco_pool_set_max_wait(swco_pool_t *p, double seconds)
{
    if (!p || !(seconds > 0))
        return swco__fail(-EINVAL);
    p->max_wait = seconds;
    return 0;
}

int swco_pool_set_message_timeout(swco_pool_t *p, double seconds)
{
    if (!p || !(seconds > 0) || seconds > 1e6)
        return swco__fail(-EINVAL);
    p->msg_timeout = seconds;
    return 0;
}

static int listen_on(swco_pool_t *p, int fd, const struct sockaddr *sa, socklen_t len, int backlog)
{
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    /* Workers poll, then accept: a worker that loses the race must not block. */
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    if (bind(fd, sa, len) < 0 || listen(fd, backlog > 0 ? backlog : 128) < 0) {
        int e = errno;
        close(fd);
        return swco__fail(-e);
    }
    p->listen_fd = fd;
    return 0;
}

int swco_pool_listen(swco_pool_t *p, const char *host, int port, int backlog)
{
    if (!p || !host || p->ipc != SWCO_POOL_IPC_SOCKET || p->listen_fd >= 0 || port < 0 ||
        port > 65535)
        return swco__fail(-EINVAL);
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t len;
    struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        len = sizeof *a4;
    } else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        len = sizeof *a6;
    } else {
        return swco__fail(-EINVAL);
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return swco__fail(-errno);
    int rc = listen_on(p, fd, (struct sockaddr *)&ss, len, backlog);
    if (rc)
        return rc;
    len = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &len);
    p->port = ntohs(ss.ss_family == AF_INET ? a4->sin_port : a6->sin6_port);
    return 0;
}

int swco_pool_listen_unix(swco_pool_t *p, const char *path, int backlog)
{
    struct sockaddr_un sun;
    if (!p || !path || !*path || p->ipc != SWCO_POOL_IPC_SOCKET || p->listen_fd >= 0 ||
        strlen(path) >= sizeof sun.sun_path)
        return swco__fail(-EINVAL);
    memset(&sun, 0, sizeof sun);
    sun.sun_family = AF_UNIX;
    strcpy(sun.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return swco__fail(-errno);
    unlink(path);
    int rc = listen_on(p, fd, (struct sockaddr *)&sun, sizeof sun, backlog);
    if (rc)
        return rc;
    strcpy(p->unix_path, path);
    return 0;
}

int swco_pool_port(const swco_pool_t *p)
{
    if (!p)
        return swco__fail(-EINVAL);
    return p->port ? p->port : swco__fail(-ENOTCONN);
}

/* ---------------------------------------------------------------- worker */

/* A worker waits on its thread's event loop for the fds it reads (its
 * socket pair, the listening socket, the connections it holds) and for
 * wake_fd, an eventfd the SIGTERM handler writes, so a message or a stop
 * wakes it at once and an idle worker sleeps in the loop without a tick
 * (see worker_wait()).  The loop does not run while a callback runs, so a
 * callback may run its own with swco_run(); what a callback leaves on the
 * loop (a timer, a coroutine) runs while the worker waits.  SIGTERM
 * keeps a plain handler rather than the loop's signalfd because it must
 * also reach a callback in the middle of its work: it sets the flag
 * swco_pool_is_stopping() reads and interrupts a blocking call (no
 * SA_RESTART), as before. */
static int wake_fd = -1;

static void on_sigterm(int signo)
{
    int e = errno;
    (void)signo;
    worker_stopping = 1;
    if (wake_fd >= 0) {
        uint64_t one = 1;
        ssize_t n = write(wake_fd, &one, sizeof one);
        (void)n; /* EAGAIN: already readable */
    }
    errno = e;
}

static void wait_ready(int fd, int events, void *arg)
{
    struct pollfd *pfd = arg;
    (void)fd;
    pfd->revents = (short)((events & SWCO_EVENT_READ ? POLLIN : 0) |
                           (events & SWCO_EVENT_ERROR ? POLLERR : 0));
    swco_event_exit();
}

static void wait_timeout(long id, void *arg)
{
    (void)id;
    *(long *)arg = 0; /* fired: nothing to clear */
    swco_event_exit();
}

/* The worker's fixed fds, wake_fd and its socket (pair or listening), stay
 * registered with the loop between waits, without keeping it alive
 * (SWCO_EVENT_NOREF), so a message costs no registration.  If one fires in
 * a loop a callback runs, it is quieted until the next wait; if that loop
 * was released, the next wait registers them again. */
typedef struct watch {
    int fd;
    int ready; /* fired since the last wait */
} watch_t;

static watch_t watch_wake = {-1, 0}, watch_main = {-1, 0};
static int in_wait; /* the loop turns in worker_wait() */

static void watch_fired(int fd, int events, void *arg)
{
    watch_t *w = arg;
    (void)events;
    w->ready = 1;
    if (in_wait)
        swco_event_exit();
    else
        swco_event_modify(fd, 0); /* not our loop to stop: quiet until our wait */
}

/* Have the loop watch fd for reading (want 1) or keep it quiet (0). */
static int watch_set(watch_t *w, int fd, int want)
{
    w->ready = 0;
    w->fd = fd;
    if (fd < 0)
        return 0;
    int cur = swco_event_isset(fd);
    if (cur < 0)
        return want ? swco_event_add(fd, SWCO_EVENT_READ | SWCO_EVENT_NOREF, watch_fired, w, NULL) : 0;
    if (!(cur & SWCO_EVENT_READ) != !want)
        return swco_event_modify(fd, want ? SWCO_EVENT_READ : 0);
    return 0;
}

/* poll(2) on the event loop: wait until fixed (the worker's socket or the
 * listening socket, NULL: none; events 0: keep it quiet) or one of
 * pfd[0..n) (fd < 0: skipped) is readable, the worker is told to stop, or deadline (ns, 0:
 * none) passes; revents says which are ready.  Not in a coroutine, and not
 * while the loop runs (the worker's own code between callbacks).  If the
 * loop cannot take the fds, a plain poll() does the same wait. */
static void worker_wait(struct pollfd *fixed, struct pollfd *pfd, int n, uint64_t deadline)
{
    swco__reactor_t *r = swco__reactor_get();
    int added = 0, ok = r != NULL;
    long timer = 0;
    for (int i = 0; i < n; i++)
        pfd[i].revents = 0;
    if (fixed)
        fixed->revents = 0;
    if (ok)
        ok = watch_set(&watch_wake, wake_fd, 1) == 0 && /* a stop may be under way: always */
             watch_set(&watch_main, fixed ? fixed->fd : watch_main.fd,
                       fixed && (fixed->events & POLLIN)) == 0;
    for (; ok && added < n; added++)
        if (pfd[added].fd >= 0 && swco_event_add(pfd[added].fd, SWCO_EVENT_READ, wait_ready,
                                                 &pfd[added], NULL) != 0)
            ok = 0;
    if (ok && deadline) {
        uint64_t now = swco__now_ns();
        long ms = now >= deadline ? 0 : (long)((deadline - now + 999999) / 1000000);
        timer = swco__timer_add(ms, wait_timeout, &timer);
        ok = timer > 0;
    }
    if (ok) {
        swco__reactor_ref(r); /* the fixed fds do not keep it alive */
        in_wait = 1;
        swco_event_wait();
        in_wait = 0;
        swco__reactor_unref(r);
    }
    if (timer > 0)
        swco__timer_del(timer);
    for (int i = 0; i < added; i++)
        if (pfd[i].fd >= 0)
            swco_event_del(pfd[i].fd);
    if (watch_wake.ready) {
        uint64_t v;
        if (read(wake_fd, &v, sizeof v) < 0)
            v = 0; /* drained already */
    }
    if (fixed && watch_main.ready)
        fixed->revents = POLLIN;
    if (ok)
        return;
    /* The loop could not take them (out of memory, say): wait with poll(),
     * which SIGTERM interrupts. */
    int ms = -1;
    if (deadline) {
        uint64_t now = swco__now_ns();
        uint64_t left = now >= deadline ? 0 : (deadline - now + 999999) / 1000000;
        ms = left > INT_MAX ? INT_MAX : (int)left;
    }
    if (fixed && fixed->events && poll(fixed, 1, 0) > 0)
        return;
    if (!worker_stopping || n > 0)
        poll(pfd, (nfds_t)n, ms);
}

/* Write all of buf to a non-blocking socket by the deadline (ns). */
static int write_full(int fd, const void *buf, size_t len, swco__deadline_t deadline)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = send(fd, (const char *)buf + done, len - done, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n >= 0) {
            done += (size_t)n;
            continue;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return -errno;
        /* yields in a coroutine, else blocks the thread */
        int rc = swco__wait_fd_until(fd, SWCO_EVENT_WRITE | SWCO__WAIT_BLOCK | SWCO__WAIT_ONCE,
                                     deadline);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Socket mode.  A worker holds the connections it accepted while their
 * messages arrive, reading whatever is there without blocking, and runs
 * the callback only for a complete message: a client that sends nothing,
 * or one byte at a time, costs a slot in that list, not the worker.  Each
 * message must be complete within msg_timeout of the accept, or the
 * connection is closed unanswered.  A connection stays with the worker
 * that accepted it (its fd exists only there): a message that arrives
 * while that worker runs another callback waits for it, as one in the
 * listen queue waits for a free worker.  Workers accept one connection
 * per round so that a burst spreads over them. */
typedef struct conns {
    conn_t *v;
    struct pollfd *pfd; /* [0] the listening socket, then one per conn */
    int n, cap;
    uint64_t accept_again; /* ns: accept paused (fd limit) until then */
} conns_t;

static void conn_drop(conns_t *cs, int i)
{
    close(cs->v[i].fd);
    swco__pool_msg_free(&cs->v[i].msg);
    cs->v[i] = cs->v[--cs->n];
}

/* Run the callback for conn i's complete message, then drop it. */
static void conn_handle(swco_pool_t *p, conns_t *cs, int i)
{
    conn_t *c = &cs->v[i];
    p->conn_fd = c->fd;
    ((swco_pool_message_fn)p->on_message.fn)(p, p->worker_id, c->msg.buf, c->msg.len,
                                             p->on_message.arg);
    p->conn_fd = -1;
    conn_drop(cs, i);
}

/* Read what conn i has.  Returns 1 when its message is complete, 0 for
 * more later, -1 when it was dropped (closed, error, too large). */
static int conn_read(conns_t *cs, int i)
{
    conn_t *c = &cs->v[i];
    for (;;) {
        size_t room;
        void *dst = swco__pool_msg_space(&c->msg, &room);
        if (!dst)
            break;
        ssize_t n = recv(c->fd, dst, room, MSG_DONTWAIT);
        if (n > 0) {
            int rc = swco__pool_msg_commit(&c->msg, (size_t)n);
            if (rc == 1)
                return 1;
            if (rc < 0)
                break;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        break; /* closed before the end of its message, or an error */
    }
    conn_drop(cs, i);
    return -1;
}

/* Take one connection (one per round, so a burst spreads over the
 * workers instead of piling up in the first one awake). */
static void conns_accept(swco_pool_t *p, conns_t *cs)
{
    if (cs->n >= cs->cap)
        return;
    int fd = accept4(p->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) {
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
            cs->accept_again = swco__now_ns() + 100000000ULL; /* do not spin */
        return; /* EAGAIN: another worker took it; EINTR; a dead client */
    }
    conn_t *c = &cs->v[cs->n++];
    c->fd = fd;
    c->deadline = swco__now_ns() + (uint64_t)(p->msg_timeout * 1e9);
    swco__pool_msg_init(&c->msg, SWCO_POOL_MSG_MAX);
    /* Often the message is already there. */
    if (conn_read(cs, cs->n - 1) == 1)
        conn_handle(p, cs, cs->n - 1);
}

/* One round: wait on the loop for a new connection, data, the stop or the
 * first deadline; handle what is complete, drop what is late.  Once
 * stopping, accept nothing more and finish the connections already held
 * (each is bounded by its deadline).  Returns how many are held. */
static int serve_socket_once(swco_pool_t *p, conns_t *cs)
{
    uint64_t now = swco__now_ns();
    int listening = !worker_stopping && cs->n < cs->cap && now >= cs->accept_again;
    uint64_t deadline = 0;
    if (!worker_stopping && cs->n < cs->cap && !listening)
        deadline = cs->accept_again; /* accepting again then */
    for (int i = 0; i < cs->n; i++)
        if (!deadline || cs->v[i].deadline < deadline)
            deadline = cs->v[i].deadline;
    cs->pfd[0] = (struct pollfd){.fd = p->listen_fd, .events = listening ? POLLIN : 0};
    for (int i = 0; i < cs->n; i++)
        cs->pfd[1 + i] = (struct pollfd){.fd = cs->v[i].fd, .events = POLLIN};
    int nconn = cs->n;
    worker_wait(&cs->pfd[0], cs->pfd + 1, nconn, deadline);
    /* Backwards: dropping conn i moves the last one into slot i. */
    for (int i = nconn - 1; i >= 0; i--) {
        if (!cs->pfd[1 + i].revents)
            continue;
        if (conn_read(cs, i) == 1)
            conn_handle(p, cs, i);
    }
    if (cs->pfd[0].revents && !worker_stopping)
        conns_accept(p, cs);
    /* Past its deadline: a silent or trickling client is dropped; but a
     * message that came in whole while the worker was busy is served. */
    for (int i = cs->n - 1; i >= 0; i--) {
        if (i >= cs->n || swco__now_ns() < cs->v[i].deadline)
            continue;
        int rc = conn_read(cs, i);
        if (rc == 1)
            conn_handle(p, cs, i);
        else if (rc == 0)
            conn_drop(cs, i);
    }
    return cs->n;
}

static void serve_socket(swco_pool_t *p)
{
    conns_t cs = {.cap = SWCO_POOL_CONN_MAX};
    struct rlimit rl;
    /* Leave room under the fd limit for what the callbacks open. */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        rl.rlim_cur < (rlim_t)cs.cap * 2)
        cs.cap = rl.rlim_cur > 64 ? (int)(rl.rlim_cur / 2) : 1;
    cs.v = malloc(sizeof *cs.v * (size_t)cs.cap);
    cs.pfd = malloc(sizeof *cs.pfd * (size_t)(cs.cap + 1));
    if (!cs.v || !cs.pfd)
        cs.cap = 0;
    while (cs.cap && (!worker_stopping || cs.n > 0))
        serve_socket_once(p, &cs);
    while (cs.n > 0)
        conn_drop(&cs, cs.n - 1);
    free(cs.v);
    free(cs.pfd);
}

/* Handle the datagram waiting on this worker's socket, or wait on the
 * loop until one comes or the worker is told to stop. */
static void serve_unixsock_once(swco_pool_t *p, char *buf, size_t cap)
{
    int fd = p->pair[2 * p->worker_id + 1];
    ssize_t n = recv(fd, buf, cap, MSG_DONTWAIT);
    if (n < 0) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            worker_wait(&pfd, NULL, 0, 0);
        else if (errno != EINTR)
            worker_wait(NULL, NULL, 0, 0); /* broken: nothing more comes, wait for the stop */
        return;
    }
    p->conn_fd = fd;
    ((swco_pool_message_fn)p->on_message.fn)(p, p->worker_id, buf, (size_t)n, p->on_message.arg);
    p->conn_fd = -1;
}

/* Message queue mode.  A System V queue has no fd to give the loop, so the
 * worker blocks in msgrcv(): the kernel wakes it the moment a message is
 * queued, and SIGTERM interrupts the call (EINTR).  A SIGTERM that lands
 * between the stop-flag check and msgrcv() is not lost for good: the
 * manager reminds a stopping worker (see chase()). */
static void serve_queue_once(swco_pool_t *p, struct qmsg *m)
{
    ssize_t n = msgrcv(p->msqid, m, SWCO_PROCESS_MSG_MAX, 0, MSG_NOERROR);
    if (n < 0) {
        if (errno != EINTR && errno != ENOMSG)
            worker_wait(NULL, NULL, 0, 0); /* queue removed or similar: wait for the stop */
        return;
    }
    ((swco_pool_message_fn)p->on_message.fn)(p, p->worker_id, m->mtext, (size_t)n,
                                             p->on_message.arg);
}

static void worker_main(swco_pool_t *p, int id, pid_t manager)
{
    /* A stop sent right after the fork is handled like any other, not by
     * the default action: spawn() forked with on_sigterm in place, and the
     * loop the child forgets at fork unblocked the manager's signals, so
     * SIGTERM is blocked again first, while the handlers are reset. */
    sigset_t term;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigprocmask(SIG_BLOCK, &term, NULL);
    swco__process_child_init(&term);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigterm; /* no SA_RESTART: blocking calls return EINTR */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    if (p->ipc == SWCO_POOL_IPC_SOCKET || p->ipc == SWCO_POOL_IPC_UNIXSOCK ||
        p->ipc == SWCO_POOL_IPC_MSGQUEUE)
        wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK); /* -1: worker_wait() polls */
    /* A worker stops with its manager instead of living on as an orphan. */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != manager)
        worker_stopping = 1;
    sigprocmask(SIG_UNBLOCK, &term, NULL);
    /* The manager records it too, but maybe only after our start callback. */
    __atomic_store_n(&p->shm->pids[id], (int32_t)getpid(), __ATOMIC_RELEASE);
    p->worker_id = id;
    p->running = 0;
    if (p->on_start.fn)
        ((swco_pool_worker_fn)p->on_start.fn)(p, id, p->on_start.arg);
    if (p->ipc == SWCO_POOL_IPC_MSGQUEUE) {
        struct qmsg *m = malloc(sizeof *m);
        while (m && !worker_stopping)
            serve_queue_once(p, m);
        free(m);
    } else if (p->ipc == SWCO_POOL_IPC_SOCKET) {
        serve_socket(p);
    } else if (p->ipc == SWCO_POOL_IPC_UNIXSOCK) {
        char *buf = malloc(SWCO_POOL_DGRAM_MAX);
        while (buf && !worker_stopping)
            serve_unixsock_once(p, buf, SWCO_POOL_DGRAM_MAX);
        free(buf);
    }
    if (p->on_stop.fn)
        ((swco_pool_worker_fn)p->on_stop.fn)(p, id, p->on_stop.arg);
    fflush(NULL);
    _exit(0);
}

/* --------------------------------------------------------------- manager */

/* The manager runs on the calling thread's event loop: SIGCHLD, SIGTERM and
 * SIGUSR1 come through the loop's signalfd (swco_event_signal()), a worker that
 * exits is reaped and restarted from the SIGCHLD handler, and the throttled
 * restarts and the reminders to stopping workers are loop timers.  Between
 * signals the manager sleeps in the loop without a tick. */
typedef struct mgr mgr_t;

typedef struct mgr_slot {
    mgr_t *m;
    int id;
    long restart_timer;   /* a throttled restart is due, 0: none */
} mgr_slot_t;

struct mgr {
    swco_pool_t *p;
    int stopping;
    int reload_next;      /* next worker id to restart in a reload, -1: none */
    int reload_id;        /* worker being restarted now, -1: none */
    uint64_t *term_at;    /* when each worker got SIGTERM (ns), 0: not asked */
    uint64_t *remind_at;  /* when to send that worker SIGTERM again (ns) */
    uint64_t *started_at; /* when each worker was forked (ns) */
    uint64_t *fast_fails; /* exits in a row within FAST_EXIT_NS of the start */
    mgr_slot_t *slot;
    long chase_timer;     /* next reminder or kill, 0: none */
    int alive;
};

/* A worker that keeps dying right after it starts is restarted with a
 * growing delay (50 ms doubling to 1 s) instead of in a tight fork loop. */
#define FAST_EXIT_NS 100000000ULL
#define FAST_EXIT_FREE 5
/* A stopping worker is reminded (SIGTERM again) after 50 ms, then after
 * twice as long each time, up to 1 s apart, until max_wait has passed. */
#define REMIND_FIRST_NS 50000000ULL
#define REMIND_MAX_NS 1000000000ULL

static int spawn(mgr_t *m, int id)
{
    swco_pool_t *p = m->p;
    /* The child's handler from its first instruction (the manager has
     * SIGTERM blocked: it never runs here). */
    pid_t manager = getpid();
    pid_t pid = swco__process_fork_term(on_sigterm);
    if (pid == 0)
        worker_main(p, id, manager);
    int e = errno;
    if (pid < 0)
        return -e;
    __atomic_store_n(&p->shm->pids[id], (int32_t)pid, __ATOMIC_RELEASE);
    m->term_at[id] = 0;
    m->started_at[id] = swco__now_ns();
    m->alive++;
    return 0;
}

static void chase(long timer_id, void *arg);

/* Arm the chase timer for the first reminder or kill due, if any. */
static void chase_arm(mgr_t *m)
{
    uint64_t due = 0;
    uint64_t wait_ns = (uint64_t)(m->p->max_wait * 1e9);
    for (int i = 0; i < m->p->workers; i++) {
        if (!m->term_at[i] || m->p->shm->pids[i] <= 0)
            continue;
        uint64_t t = m->term_at[i] + wait_ns;
        if (m->remind_at[i] < t)
            t = m->remind_at[i];
        if (!due || t < due)
            due = t;
    }
    if (m->chase_timer) {
        swco__timer_del(m->chase_timer);
        m->chase_timer = 0;
    }
    if (!due)
        return;
    uint64_t now = swco__now_ns();
    long ms = due > now ? (long)((due - now + 999999) / 1000000) : 0;
    long id = swco__timer_add(ms, chase, m);
    m->chase_timer = id > 0 ? id : 0;
}

/* Workers that ignored SIGTERM: remind them, then kill them. */
static void chase(long timer_id, void *arg)
{
    mgr_t *m = arg;
    (void)timer_id;
    m->chase_timer = 0;
    uint64_t now = swco__now_ns();
    for (int i = 0; i < m->p->workers; i++) {
        pid_t pid = m->p->shm->pids[i];
        if (!m->term_at[i] || pid <= 0)
            continue;
        if ((double)(now - m->term_at[i]) / 1e9 >= m->p->max_wait) {
            kill(pid, SIGKILL);
            m->remind_at[i] = UINT64_MAX; /* its SIGCHLD comes next */
        } else if (now >= m->remind_at[i]) {
            kill(pid, SIGTERM);
            uint64_t gap = (now - m->term_at[i]) * 2;
            if (gap < REMIND_FIRST_NS)
                gap = REMIND_FIRST_NS;
            m->remind_at[i] = now + (gap > REMIND_MAX_NS ? REMIND_MAX_NS : gap);
        }
    }
    chase_arm(m);
}

static void term_worker(mgr_t *m, int id)
{
    pid_t pid = m->p->shm->pids[id];
    if (pid > 0) {
        kill(pid, SIGTERM);
        if (!m->term_at[id]) {
            m->term_at[id] = swco__now_ns();
            m->remind_at[id] = m->term_at[id] + REMIND_FIRST_NS;
        }
    }
}

static void reload_step(mgr_t *m)
{
    while (m->reload_id < 0 && m->reload_next >= 0 && !m->stopping) {
        int id = m->reload_next++;
        if (m->reload_next >= m->p->workers)
            m->reload_next = -1;
        if (m->p->shm->pids[id] > 0) {
            m->reload_id = id;
            term_worker(m, id);
        }
    }
    chase_arm(m);
}

static void restart_due(long timer_id, void *arg)
{
    mgr_slot_t *s = arg;
    mgr_t *m = s->m;
    (void)timer_id;
    s->restart_timer = 0;
    if (m->stopping)
        return;
    if (spawn(m, s->id) < 0) { /* fork failed: retry later */
        long id = swco__timer_add(1000, restart_due, s);
        s->restart_timer = id > 0 ? id : 0;
    }
}

static void stop_all(mgr_t *m)
{
    m->stopping = 1;
    m->reload_next = -1;
    for (int i = 0; i < m->p->workers; i++) {
        if (m->slot[i].restart_timer) {
            swco__timer_del(m->slot[i].restart_timer);
            m->slot[i].restart_timer = 0;
        }
        term_worker(m, i);
    }
    chase_arm(m);
    if (m->alive == 0)
        swco_event_exit();
}

/* Reap exited workers (only ours: other children of this process keep
 * their status for whoever waits for them) and restart them. */
static void reap(mgr_t *m)
{
    swco_pool_t *p = m->p;
    for (int id = 0; id < p->workers; id++) {
        pid_t pid = p->shm->pids[id];
        int st;
        if (pid <= 0 || waitpid(pid, &st, WNOHANG) != pid)
            continue;
        __atomic_store_n(&p->shm->pids[id], 0, __ATOMIC_RELEASE);
        m->term_at[id] = 0;
        m->alive--;
        uint64_t now = swco__now_ns();
        if (now - m->started_at[id] < FAST_EXIT_NS && id != m->reload_id)
            m->fast_fails[id]++;
        else
            m->fast_fails[id] = 0;
        int rc = 0;
        if (!m->stopping && m->fast_fails[id] >= FAST_EXIT_FREE) {
            uint64_t shift = m->fast_fails[id] - FAST_EXIT_FREE;
            long delay_ms = shift >= 5 ? 1000 : 50L << shift;
            long t = swco__timer_add(delay_ms, restart_due, &m->slot[id]);
            if (t > 0)
                m->slot[id].restart_timer = t;
            else
                rc = spawn(m, id);
        } else if (!m->stopping) {
            rc = spawn(m, id);
        }
        if (rc < 0)
            swco__log(SWCO_LOG_ERROR, "pool: cannot restart worker %d: %s", id,
                      swco_strerror(rc));
        if (id == m->reload_id) {
            m->reload_id = -1;
            reload_step(m);
        }
    }
    chase_arm(m);
    if (m->stopping && m->alive == 0)
        swco_event_exit();
}

static void on_manager_signal(int signo, void *arg)
{
    mgr_t *m = arg;
    if (signo == SIGCHLD) {
        reap(m);
    } else if (signo == SIGTERM) {
        if (!m->stopping)
            stop_all(m);
    } else if (signo == SIGUSR1 && !m->stopping && m->reload_id < 0 && m->reload_next < 0) {
        m->reload_next = 0;
        reload_step(m);
    }
}

static const int manager_signals[] = {SIGCHLD, SIGTERM, SIGUSR1};

static void probe_done(void *arg)
{
    int *armed = arg;
    if (*armed)
        swco_event_exit();
    free(armed);
}

/* Whether the calling thread may run its loop (it is not inside one of the
 * loop's callbacks): turn it once.  Returns 0, SWCO_ECOSTATE or -ENOMEM. */
static int loop_probe(void)
{
    int *armed = malloc(sizeof *armed);
    if (!armed)
        return -ENOMEM;
    *armed = 1;
    int rc = swco_event_defer(probe_done, armed, NULL);
    if (rc < 0) {
        free(armed);
        return rc;
    }
    rc = swco_event_wait();
    if (rc < 0)
        *armed = 0; /* the running loop frees it */
    return rc < 0 ? rc : 0;
}

int swco_pool_start(swco_pool_t *p)
{
    if (!p || p->running || p->worker_id >= 0)
        return swco__fail(-EINVAL);
    if (swco__co_current())
        return swco__fail(SWCO_ECOSTATE);
    if ((p->ipc == SWCO_POOL_IPC_SOCKET && p->listen_fd < 0) ||
        (p->ipc != SWCO_POOL_IPC_NONE && !p->on_message.fn))
        return swco__fail(-EINVAL);
    int rc = loop_probe();
    if (rc < 0)
        return swco__fail(rc);
    mgr_t m = {.p = p, .reload_next = -1, .reload_id = -1};
    m.term_at = calloc(4 * (size_t)p->workers, sizeof *m.term_at);
    m.slot = calloc((size_t)p->workers, sizeof *m.slot);
    if (!m.term_at || !m.slot) {
        free(m.term_at);
        free(m.slot);
        return swco__fail(-ENOMEM);
    }
    m.remind_at = m.term_at + p->workers;
    m.started_at = m.remind_at + p->workers;
    m.fast_fails = m.started_at + p->workers;
    for (int i = 0; i < p->workers; i++)
        m.slot[i] = (mgr_slot_t){.m = &m, .id = i};
    sigset_t old;
    pthread_sigmask(SIG_BLOCK, NULL, &old);
    int nsig = 0;
    for (; nsig < 3 && rc == 0; nsig++)
        rc = swco_event_signal(manager_signals[nsig], on_manager_signal, &m, NULL);
    if (rc) {
        while (nsig-- > 0)
            swco_event_signal(manager_signals[nsig], NULL, NULL, NULL);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        free(m.term_at);
        free(m.slot);
        return rc;
    }
    p->running = 1;
    __atomic_store_n(&p->shm->manager, (int32_t)getpid(), __ATOMIC_RELEASE);
    for (int i = 0; i < p->workers && rc == 0; i++)
        rc = spawn(&m, i);
    if (rc)
        stop_all(&m);
    if (!(m.stopping && m.alive == 0))
        swco_event_wait(); /* until the last worker is reaped after a stop */
    if (m.chase_timer)
        swco__timer_del(m.chase_timer);
    for (int i = 0; i < p->workers; i++)
        if (m.slot[i].restart_timer)
            swco__timer_del(m.slot[i].restart_timer);
    __atomic_store_n(&p->shm->manager, 0, __ATOMIC_RELEASE);
    /* Drop a SIGCHLD still pending for our workers before unblocking it,
     * unless the caller had it blocked (an event loop may want it). */
    if (!sigismember(&old, SIGCHLD)) {
        struct timespec zero = {0, 0};
        sigset_t chld;
        sigemptyset(&chld);
        sigaddset(&chld, SIGCHLD);
        while (sigtimedwait(&chld, NULL, &zero) > 0)
            ;
    }
    for (int i = 0; i < 3; i++)
        swco_event_signal(manager_signals[i], NULL, NULL, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    free(m.term_at);
    free(m.slot);
    p->running = 0;
    return rc ? swco__fail(rc) : 0;
}

/* ---------------------------------------------------------- small calls */

static int signal_manager(const swco_pool_t *p, int signo)
{
    if (!p)
        return swco__fail(-EINVAL);
    pid_t pid = __atomic_load_n(&p->shm->manager, __ATOMIC_ACQUIRE);
    if (pid <= 0)
        return swco__fail(-ESRCH);
    return kill(pid, signo) < 0 ? swco__fail(-errno) : 0;
}

int swco_pool_shutdown(swco_pool_t *p) { return signal_manager(p, SIGTERM); }
int swco_pool_reload(swco_pool_t *p) { return signal_manager(p, SIGUSR1); }

int swco_pool_is_stopping(const swco_pool_t *p)
{
    return p && p->worker_id >= 0 && worker_stopping ? 1 : 0;
}

int swco_pool_worker_id(const swco_pool_t *p)
{
    if (!p)
        return swco__fail(-EINVAL);
    return p->worker_id >= 0 ? p->worker_id : swco__fail(SWCO_ENOTWORKER);
}

int swco_pool_worker_pid(const swco_pool_t *p, int id)
{
    if (!p || id < 0 || id >= p->workers)
        return swco__fail(-EINVAL);
    return __atomic_load_n(&p->shm->pids[id], __ATOMIC_ACQUIRE);
}

int swco_pool_manager_pid(const swco_pool_t *p)
{
    if (!p)
        return swco__fail(-EINVAL);
    return __atomic_load_n(&p->shm->manager, __ATOMIC_ACQUIRE);
}

long swco_pool_reply(swco_pool_t *p, const void *data, size_t len)
{
    if (!p || p->conn_fd < 0 || (!data && len) || len > SWCO_POOL_MSG_MAX)
        return swco__fail(-EINVAL);
    if (p->ipc == SWCO_POOL_IPC_UNIXSOCK) {
        ssize_t n;
        while ((n = send(p->conn_fd, data, len, MSG_NOSIGNAL)) < 0 && errno == EINTR)
            ;
        return n < 0 ? swco__fail(-errno) : (long)n;
    }
    /* A client that does not read its reply cannot hold the worker. */
    swco__deadline_t by = swco__deadline_from_timeout(p->msg_timeout);
    uint32_t be = htonl((uint32_t)len);
    int rc = write_full(p->conn_fd, &be, 4, by);
    if (!rc && len)
        rc = write_full(p->conn_fd, data, len, by);
    return rc ? swco__fail(rc) : (long)len;
}

long swco_pool_push(swco_pool_t *p, const void *data, size_t len)
{
    if (!p || p->ipc != SWCO_POOL_IPC_MSGQUEUE || !data || !len || len > SWCO_PROCESS_MSG_MAX)
        return swco__fail(-EINVAL);
    long rc = swco__msgq_send(p->msqid, data, len);
    return rc < 0 ? swco__fail((int)rc) : rc;
}

long swco_pool_send(swco_pool_t *p, int id, const void *data, size_t len)
{
    if (!p || p->ipc != SWCO_POOL_IPC_UNIXSOCK || id < 0 || id >= p->workers || !data || !len)
        return swco__fail(-EINVAL);
    if (len > SWCO_POOL_DGRAM_MAX)
        return swco__fail(-EMSGSIZE);
    ssize_t n;
    while ((n = send(p->pair[2 * id], data, len, MSG_NOSIGNAL)) < 0 && errno == EINTR)
        ;
    return n < 0 ? swco__fail(-errno) : (long)n;
}

long swco_pool_recv(swco_pool_t *p, int id, void *buf, size_t cap, double timeout)
{
    if (!p || p->ipc != SWCO_POOL_IPC_UNIXSOCK || id < 0 || id >= p->workers || !buf || !cap)
        return swco__fail(-EINVAL);
    int fd = p->pair[2 * id];
    uint64_t deadline = timeout > 0 ? swco__now_ns() + (uint64_t)(timeout * 1e9) : 0;
    for (;;) {
        ssize_t n = recv(fd, buf, cap, MSG_DONTWAIT | MSG_TRUNC);
        if (n >= 0)
            return (long)((size_t)n < cap ? (size_t)n : cap);
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return swco__fail(-errno);
        int ms = -1;
        if (deadline) {
            uint64_t now = swco__now_ns();
            if (now >= deadline)
                return swco__fail(-ETIMEDOUT);
            ms = (int)((deadline - now) / 1000000) + 1;
        }
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        poll(&pfd, 1, ms);
    }
}
