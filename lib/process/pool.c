/* Process pool: a manager that keeps N workers alive, restarts crashed
 * ones under the same id, reloads them one at a time on SIGUSR1 and stops
 * them gracefully on SIGTERM.
 *
 * The manager blocks SIGCHLD, SIGTERM and SIGUSR1 and reads them from a
 * signalfd; it never uses the event loop, so workers may start their own
 * with swco_run().  Workers take messages straight from the message queue
 * or accept them from the listening socket the manager opened, so a
 * message waiting there is never lost while a worker is replaced (a
 * stopping worker first finishes the connections it accepted).
 */
#include "process/process_int.h"
#include "process/pool_msg.h"

#include <sys/prctl.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/msg.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
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
    int sfd;              /* the manager's signalfd, -1 elsewhere */
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
    p->sfd = -1;
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

static void on_sigterm(int signo) { worker_stopping = 1; }

/* Write all of buf to a non-blocking socket by the deadline (ns). */
static int write_full(int fd, const void *buf, size_t len, uint64_t deadline)
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
        uint64_t now = swco__now_ns();
        if (now >= deadline)
            return -ETIMEDOUT;
        struct pollfd pfd = {.fd = fd, .events = POLLOUT};
        uint64_t ms = (deadline - now) / 1000000 + 1;
        poll(&pfd, 1, ms > 1000 ? 1000 : (int)ms);
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

/* One round: wait (at most 100 ms, to see the stop flag) for a new
 * connection or data, handle what is complete, drop what is late.  Once
 * stopping, accept nothing more and finish the connections already held
 * (each is bounded by its deadline).  Returns how many are held. */
static int serve_socket_once(swco_pool_t *p, conns_t *cs)
{
    uint64_t now = swco__now_ns();
    int listening = !worker_stopping && cs->n < cs->cap && now >= cs->accept_again;
    int ms = 100;
    for (int i = 0; i < cs->n; i++) {
        uint64_t left = cs->v[i].deadline > now ? (cs->v[i].deadline - now) / 1000000 + 1 : 0;
        if (left < (uint64_t)ms)
            ms = (int)left;
    }
    cs->pfd[0] = (struct pollfd){.fd = listening ? p->listen_fd : -1, .events = POLLIN};
    for (int i = 0; i < cs->n; i++)
        cs->pfd[1 + i] = (struct pollfd){.fd = cs->v[i].fd, .events = POLLIN};
    int nconn = cs->n;
    int r = poll(cs->pfd, 1 + (nfds_t)nconn, ms);
    if (r > 0) {
        /* Backwards: dropping conn i moves the last one into slot i. */
        for (int i = nconn - 1; i >= 0; i--) {
            if (!cs->pfd[1 + i].revents)
                continue;
            if (conn_read(cs, i) == 1)
                conn_handle(p, cs, i);
        }
        if (cs->pfd[0].revents && !worker_stopping)
            conns_accept(p, cs);
    }
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

/* Wait a little for a datagram on this worker's socket and handle it. */
static void serve_unixsock_once(swco_pool_t *p, char *buf, size_t cap)
{
    int fd = p->pair[2 * p->worker_id + 1];
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    if (poll(&pfd, 1, 100) <= 0)
        return;
    ssize_t n = recv(fd, buf, cap, MSG_DONTWAIT);
    if (n < 0)
        return;
    p->conn_fd = fd;
    ((swco_pool_message_fn)p->on_message.fn)(p, p->worker_id, buf, (size_t)n, p->on_message.arg);
    p->conn_fd = -1;
}

static void serve_queue_once(swco_pool_t *p, struct qmsg *m)
{
    ssize_t n = msgrcv(p->msqid, m, SWCO_PROCESS_MSG_MAX, 0, MSG_NOERROR);
    if (n < 0) {
        if (errno != EINTR && errno != ENOMSG)
            usleep(10000); /* queue removed or similar: do not spin */
        return;
    }
    ((swco_pool_message_fn)p->on_message.fn)(p, p->worker_id, m->mtext, (size_t)n,
                                             p->on_message.arg);
}

static void worker_main(swco_pool_t *p, int id, pid_t manager)
{
    /* SIGTERM stays blocked (spawn blocked it before fork) until its
     * handler is in place, so a stop sent right after the fork is handled
     * like any other, not by the default action. */
    sigset_t term;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    swco__process_child_init(&term);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigterm; /* no SA_RESTART: blocking calls return EINTR */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    worker_stopping = 0;
    /* A worker stops with its manager instead of living on as an orphan. */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != manager)
        worker_stopping = 1;
    sigprocmask(SIG_UNBLOCK, &term, NULL);
    /* The manager records it too, but maybe only after our start callback. */
    __atomic_store_n(&p->shm->pids[id], (int32_t)getpid(), __ATOMIC_RELEASE);
    p->worker_id = id;
    p->running = 0;
    if (p->sfd >= 0) {
        close(p->sfd);
        p->sfd = -1;
    }
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

typedef struct mgr {
    swco_pool_t *p;
    int stopping;
    int reload_next;      /* next worker id to restart in a reload, -1: none */
    int reload_id;        /* worker being restarted now, -1: none */
    uint64_t *term_at;    /* when each worker got SIGTERM (ns), 0: not asked */
    uint64_t *started_at; /* when each worker was forked (ns) */
    uint64_t *fast_fails; /* exits in a row within FAST_EXIT_NS of the start */
    uint64_t *restart_at; /* a throttled restart is due then (ns), 0: none */
    int alive;
} mgr_t;

/* A worker that keeps dying right after it starts is restarted with a
 * growing delay (50 ms doubling to 1 s) instead of in a tight fork loop. */
#define FAST_EXIT_NS 100000000ULL
#define FAST_EXIT_FREE 5

static int spawn(mgr_t *m, int id)
{
    swco_pool_t *p = m->p;
    fflush(NULL);
    sigset_t term, old;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigprocmask(SIG_BLOCK, &term, &old);
    pid_t manager = getpid();
    pid_t pid = fork();
    if (pid == 0)
        worker_main(p, id, manager);
    int e = errno;
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (pid < 0)
        return -e;
    __atomic_store_n(&p->shm->pids[id], (int32_t)pid, __ATOMIC_RELEASE);
    m->term_at[id] = 0;
    m->started_at[id] = swco__now_ns();
    m->restart_at[id] = 0;
    m->alive++;
    return 0;
}

static void term_worker(mgr_t *m, int id)
{
    pid_t pid = m->p->shm->pids[id];
    if (pid > 0) {
        kill(pid, SIGTERM);
        if (!m->term_at[id])
            m->term_at[id] = swco__now_ns();
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
            uint64_t delay = shift >= 5 ? 1000000000ULL : 50000000ULL << shift;
            m->restart_at[id] = now + delay;
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
}

/* Workers that ignored SIGTERM: remind them, then kill them. */
static void chase(mgr_t *m)
{
    uint64_t now = swco__now_ns();
    for (int i = 0; i < m->p->workers; i++) {
        if (!m->term_at[i] || m->p->shm->pids[i] <= 0)
            continue;
        if ((double)(now - m->term_at[i]) / 1e9 >= m->p->max_wait)
            kill(m->p->shm->pids[i], SIGKILL);
        else
            kill(m->p->shm->pids[i], SIGTERM);
    }
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
    mgr_t m = {.p = p, .reload_next = -1, .reload_id = -1};
    m.term_at = calloc(4 * (size_t)p->workers, sizeof *m.term_at);
    if (!m.term_at)
        return swco__fail(-ENOMEM);
    m.started_at = m.term_at + p->workers;
    m.fast_fails = m.started_at + p->workers;
    m.restart_at = m.fast_fails + p->workers;
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, &old);
    int sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sfd < 0) {
        int e = errno;
        sigprocmask(SIG_SETMASK, &old, NULL);
        free(m.term_at);
        return swco__fail(-e);
    }
    p->running = 1;
    p->sfd = sfd;
    __atomic_store_n(&p->shm->manager, (int32_t)getpid(), __ATOMIC_RELEASE);
    int rc = 0;
    for (int i = 0; i < p->workers && rc == 0; i++)
        rc = spawn(&m, i);
    if (rc) {
        m.stopping = 1;
        for (int i = 0; i < p->workers; i++)
            term_worker(&m, i);
    }
    while (!(m.stopping && m.alive == 0)) {
        struct pollfd pfd = {.fd = sfd, .events = POLLIN};
        int busy = m.stopping || m.reload_id >= 0;
        int ms = busy ? 100 : 1000;
        uint64_t now = swco__now_ns();
        for (int i = 0; i < p->workers; i++)
            if (m.restart_at[i]) {
                int due = m.restart_at[i] > now ? (int)((m.restart_at[i] - now) / 1000000) + 1 : 0;
                if (due < ms)
                    ms = due;
            }
        int n = poll(&pfd, 1, ms);
        if (n == 0 && busy)
            chase(&m);
        struct signalfd_siginfo si;
        while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
            if (si.ssi_signo == SIGTERM && !m.stopping) {
                m.stopping = 1;
                m.reload_next = -1;
                for (int i = 0; i < p->workers; i++)
                    term_worker(&m, i);
            } else if (si.ssi_signo == SIGUSR1 && !m.stopping && m.reload_id < 0 &&
                       m.reload_next < 0) {
                m.reload_next = 0;
                reload_step(&m);
            }
        }
        reap(&m);
        now = swco__now_ns();
        for (int i = 0; i < p->workers; i++)
            if (m.restart_at[i] && now >= m.restart_at[i] && !m.stopping && spawn(&m, i) < 0)
                m.restart_at[i] = now + 1000000000ULL; /* fork failed: retry later */
    }
    close(sfd);
    p->sfd = -1;
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
    sigprocmask(SIG_SETMASK, &old, NULL);
    free(m.term_at);
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
    uint64_t by = swco__now_ns() + (uint64_t)(p->msg_timeout * 1e9);
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
