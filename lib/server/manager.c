/* The server's manager: forks the event workers and the task workers,
 * restarts any that exits under the same worker id, reloads them one at a
 * time (SIGUSR1: all, SIGUSR2: task workers only), and on SIGTERM (what
 * swco_server_shutdown() sends) stops them all gracefully and returns.
 *
 * It works as the Process Pool's manager does (lib/process/pool.c): it runs
 * on the calling thread's event loop and sleeps there between events, with
 * SIGCHLD, SIGTERM, SIGUSR1 and SIGUSR2 read from the loop's signalfd and
 * its delays (throttled restarts, the SIGKILL of a worker that outlived
 * max_wait_time) on loop timers.  Workers are forked from the loop's
 * callbacks; a forked child starts with a fresh loop.
 *
 * Also here: systemd socket activation (LISTEN_FDS, claimed by the
 * listeners swco_server_new() makes) and swco_server_hot_restart(), which
 * passes the listening sockets to a new program the same way.
 */
#include "process/process_int.h"
#include "server/server_int.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* A worker that keeps dying right after it starts is restarted with a
 * growing delay (50 ms doubling to 1 s) instead of in a tight fork loop. */
#define FAST_EXIT_NS 100000000ULL
#define FAST_EXIT_FREE 5
/* A stopping worker may take max_wait_time for its handlers and as long
 * again to flush and close its connections; it gets that and this much
 * more to exit before the manager kills it. */
#define KILL_GRACE_NS 1000000000ULL

typedef struct mgr mgr_t;

typedef struct mgr_slot {
    mgr_t *m;
    int id;
    pid_t pid;           /* also in srv->shm; this copy is the manager's own */
    uint64_t started_at; /* ns */
    uint64_t term_at;    /* when it was asked to stop (ns), 0: not asked */
    unsigned fast_fails; /* exits in a row within FAST_EXIT_NS of the start */
    long restart_timer;  /* a throttled restart is due, 0: none */
    int ever_started;
} mgr_slot_t;

struct mgr {
    swco_server_t *srv;
    int nworkers; /* event workers: ids 0 .. nworkers-1 */
    int n;        /* event + task workers */
    int stopping;
    int alive;
    /* Reload: ids reload_next .. reload_end-1 are restarted one at a time;
     * reload_id is the one stopping now (-1: none).  A reload asked for
     * while one runs is kept in reload_pending (1: task workers, 2: all). */
    int reload_next, reload_end, reload_id, reload_pending;
    long kill_timer; /* next SIGKILL due, 0: none */
    mgr_slot_t *slot;
    swco__srv_self_t self;
};

/* The socket of SWCO_READY_FD (swco_server_hot_restart), taken from the
 * environment once (-2: not yet looked at, -1: none or used). */
static pthread_mutex_t ready_lock = PTHREAD_MUTEX_INITIALIZER;
static int ready_fd = -2;
#define ENV_READY_FD "SWCO_READY_FD"
static void ready_claim(void);

/* Set by the SIGTERM handler a child has between its fork and its own
 * handling of SIGTERM (see spawn()). */
static volatile sig_atomic_t early_term;

static void on_early_term(int signo)
{
    (void)signo;
    early_term = 1;
}

static swco__srv_wshm_t *wshm(mgr_t *m, int id)
{
    return &m->srv->shm->workers[id];
}

/* In the child: become worker id and never return. */
static void __attribute__((noreturn)) child_main(mgr_t *m, int id, pid_t manager)
{
    /* Default handlers, SIGTERM blocked: the worker takes it from its
     * loop's signalfd (swco_event_signal) or unblocks it; one that came
     * before is pending again. */
    sigset_t term;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    swco__process_child_init(&term);
    if (early_term)
        raise(SIGTERM);
    /* A manager that dies takes its workers along (gracefully). */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != manager)
        raise(SIGTERM);
    if (ready_fd >= 0) { /* the manager's to use */
        close(ready_fd);
        ready_fd = -1;
    }
    swco_server_t *srv = m->srv;
    int rc = id < m->nworkers ? swco__srv_worker_run(srv, id) : swco__srv_task_worker_run(srv, id);
    if (srv->mode == SWCO_SERVER_PROCESS)
        swco__proc_worker_end(); /* its state, left by worker_run */
    fflush(NULL);
    _exit(rc < 0 || rc > 255 ? 1 : rc);
}

static int spawn(mgr_t *m, int id)
{
    mgr_slot_t *s = &m->slot[id];
    swco__srv_wshm_t *w = wshm(m, id);
    w->is_task = id >= m->nworkers;
    __atomic_store_n(&w->stopping, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&w->busy, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&w->request_count, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&w->connection_num, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&w->coroutine_num, 0, __ATOMIC_RELAXED);
    w->start_time = swco__wall_time();
    /* The child's SIGTERM handler from its first instruction (the manager
     * has SIGTERM blocked for its signalfd: it never runs here). */
    pid_t manager = getpid();
    pid_t pid = swco__process_fork_term(on_early_term);
    if (pid == 0)
        child_main(m, id, manager);
    int e = errno;
    if (pid < 0)
        return -e;
    s->pid = pid;
    __atomic_store_n(&w->pid, (int32_t)pid, __ATOMIC_RELEASE);
    if (s->ever_started)
        __atomic_add_fetch(&m->srv->shm->worker_restarts, 1, __ATOMIC_RELAXED);
    s->ever_started = 1;
    s->term_at = 0;
    s->started_at = swco__now_ns();
    m->alive++;
    return 0;
}

static void kill_due(long timer_id, void *arg);

/* How long after SIGTERM a worker is killed. */
static uint64_t kill_after_ns(const mgr_t *m)
{
    double w = m->srv->opt.max_wait_time > 0 ? m->srv->opt.max_wait_time : 0;
    return (uint64_t)(2 * w * 1e9) + KILL_GRACE_NS;
}

/* Arm the timer for the first SIGKILL due, if any. */
static void kill_arm(mgr_t *m)
{
    uint64_t wait_ns = kill_after_ns(m);
    uint64_t due = 0;
    for (int i = 0; i < m->n; i++) {
        mgr_slot_t *s = &m->slot[i];
        if (!s->term_at || s->pid <= 0)
            continue;
        uint64_t t = s->term_at + wait_ns;
        if (!due || t < due)
            due = t;
    }
    if (m->kill_timer) {
        swco__timer_del(m->kill_timer);
        m->kill_timer = 0;
    }
    if (!due)
        return;
    uint64_t now = swco__now_ns();
    long ms = due > now ? (long)((due - now + 999999) / 1000000) : 0;
    long id = swco__timer_add(ms, kill_due, m);
    m->kill_timer = id > 0 ? id : 0;
}

/* Workers that outlived max_wait_time after SIGTERM. */
static void kill_due(long timer_id, void *arg)
{
    mgr_t *m = arg;
    (void)timer_id;
    m->kill_timer = 0;
    uint64_t wait_ns = kill_after_ns(m);
    uint64_t now = swco__now_ns();
    for (int i = 0; i < m->n; i++) {
        mgr_slot_t *s = &m->slot[i];
        if (s->term_at && s->pid > 0 && now - s->term_at >= wait_ns) {
            swco__log(SWCO_LOG_WARNING,
                      "server: worker %d (pid %d) still running %.3f s after "
                      "SIGTERM: killing it",
                      i, (int)s->pid, (double)(now - s->term_at) / 1e9);
            kill(s->pid, SIGKILL);
            s->term_at = UINT64_MAX / 2; /* its SIGCHLD comes next; never again */
        }
    }
    kill_arm(m);
}

static void term_worker(mgr_t *m, int id)
{
    mgr_slot_t *s = &m->slot[id];
    if (s->pid <= 0)
        return;
    __atomic_store_n(&wshm(m, id)->stopping, 1, __ATOMIC_RELAXED);
    kill(s->pid, SIGTERM);
    if (!s->term_at)
        s->term_at = swco__now_ns();
}

/* Stop the next worker of the reload, unless one is stopping already. */
static void reload_step(mgr_t *m)
{
    while (m->reload_id < 0 && m->reload_next >= 0 && !m->stopping) {
        int id = m->reload_next++;
        if (m->reload_next >= m->reload_end)
            m->reload_next = -1;
        if (m->slot[id].pid > 0) {
            m->reload_id = id;
            term_worker(m, id);
        }
    }
    if (m->reload_id < 0 && m->reload_next < 0 && m->reload_pending && !m->stopping) {
        int all = m->reload_pending == 2;
        m->reload_pending = 0;
        m->reload_next = all ? 0 : m->nworkers;
        m->reload_end = m->n;
        if (m->reload_next >= m->reload_end)
            m->reload_next = -1;
        reload_step(m);
        return;
    }
    kill_arm(m);
}

static void reload_begin(mgr_t *m, int all)
{
    if (m->stopping)
        return;
    if (m->reload_id >= 0 || m->reload_next >= 0) {
        if (all || !m->reload_pending)
            m->reload_pending = all ? 2 : 1;
        return;
    }
    m->reload_next = all ? 0 : m->nworkers;
    m->reload_end = m->n;
    if (m->reload_next >= m->reload_end)
        m->reload_next = -1;
    reload_step(m);
}

static void restart_due(long timer_id, void *arg)
{
    mgr_slot_t *s = arg;
    mgr_t *m = s->m;
    (void)timer_id;
    s->restart_timer = 0;
    if (m->stopping)
        return;
    int rc = spawn(m, s->id);
    if (rc < 0) { /* fork failed: try again later */
        swco__log(SWCO_LOG_ERROR, "server: cannot restart worker %d: %s", s->id, swco_strerror(rc));
        long id = swco__timer_add(1000, restart_due, s);
        s->restart_timer = id > 0 ? id : 0;
    }
}

static void stop_all(mgr_t *m)
{
    m->stopping = 1;
    m->reload_next = -1;
    m->reload_pending = 0;
    __atomic_store_n(&m->srv->shm->shutting_down, 1, __ATOMIC_RELEASE);
    for (int i = 0; i < m->n; i++) {
        if (m->slot[i].restart_timer) {
            swco__timer_del(m->slot[i].restart_timer);
            m->slot[i].restart_timer = 0;
        }
        term_worker(m, i);
    }
    kill_arm(m);
    if (m->alive == 0)
        swco_event_exit();
}

static void worker_exited(mgr_t *m, int id, int status)
{
    swco_server_t *srv = m->srv;
    mgr_slot_t *s = &m->slot[id];
    pid_t pid = s->pid;
    s->pid = 0;
    s->term_at = 0;
    __atomic_store_n(&wshm(m, id)->pid, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&wshm(m, id)->busy, 0, __ATOMIC_RELAXED);
    m->alive--;
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 0;
    int signo = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    if (code || signo) {
        swco__log(SWCO_LOG_WARNING, "server: worker %d (pid %d) %s %d", id, (int)pid,
                  signo ? "killed by signal" : "exited with code", signo ? signo : code);
        swco__srv_cb_t *cb = &srv->cb[SWCO__CB_WORKER_ERROR];
        if (cb->fn)
            ((swco_server_worker_error_fn)cb->fn)(srv, id, (int)pid, code, signo, cb->arg);
    }
    uint64_t now = swco__now_ns();
    if (now - s->started_at < FAST_EXIT_NS && id != m->reload_id)
        s->fast_fails++;
    else
        s->fast_fails = 0;
    int stop = m->stopping || __atomic_load_n(&srv->shm->shutting_down, __ATOMIC_ACQUIRE);
    int rc = 0;
    if (!stop && s->fast_fails >= FAST_EXIT_FREE) {
        unsigned shift = s->fast_fails - FAST_EXIT_FREE;
        long delay_ms = shift >= 5 ? 1000 : 50L << shift;
        long t = swco__timer_add(delay_ms, restart_due, s);
        if (t > 0)
            s->restart_timer = t;
        else
            rc = spawn(m, id);
    } else if (!stop) {
        rc = spawn(m, id);
    }
    if (rc < 0) {
        swco__log(SWCO_LOG_ERROR, "server: cannot restart worker %d: %s", id, swco_strerror(rc));
        long t = swco__timer_add(1000, restart_due, s);
        s->restart_timer = t > 0 ? t : 0;
    }
    if (id == m->reload_id) {
        m->reload_id = -1;
        reload_step(m);
    }
}

/* Reap our exited workers (only ours: other children of this process
 * keep their status for whoever waits for them). */
static void reap(mgr_t *m)
{
    for (int id = 0; id < m->n; id++) {
        int st;
        pid_t pid = m->slot[id].pid;
        if (pid > 0 && waitpid(pid, &st, WNOHANG) == pid)
            worker_exited(m, id, st);
    }
    kill_arm(m);
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
    } else if (signo == SIGUSR1 || signo == SIGUSR2) {
        reload_begin(m, signo == SIGUSR1);
    }
}

static const int manager_signals[] = {SIGCHLD, SIGTERM, SIGUSR1, SIGUSR2};
#define NSIGNALS ((int)(sizeof manager_signals / sizeof manager_signals[0]))

static void run_cb(swco_server_t *srv, int which)
{
    swco__srv_cb_t *cb = &srv->cb[which];
    if (cb->fn)
        ((swco_server_fn)cb->fn)(srv, cb->arg);
}

int swco__srv_manager_run(swco_server_t *srv)
{
    if (!srv || !srv->shm)
        return -EINVAL;
    if (swco__co_current())
        return SWCO_ECOSTATE;
    int nworkers = srv->opt.worker_num > 0 ? srv->opt.worker_num : 1;
    int ntask = srv->opt.task_worker_num > 0 ? srv->opt.task_worker_num : 0;
    mgr_t *m = calloc(1, sizeof *m);
    if (!m)
        return -ENOMEM;
    m->srv = srv;
    m->nworkers = nworkers;
    m->n = nworkers + ntask;
    m->reload_next = m->reload_id = -1;
    m->slot = calloc((size_t)m->n, sizeof *m->slot);
    if (!m->slot) {
        free(m);
        return -ENOMEM;
    }
    for (int i = 0; i < m->n; i++)
        m->slot[i] = (mgr_slot_t){.m = m, .id = i};
    sigset_t old;
    pthread_sigmask(SIG_BLOCK, NULL, &old);
    int rc = 0, nsig = 0;
    for (; nsig < NSIGNALS && rc == 0; nsig++)
        rc = swco_event_signal(manager_signals[nsig], on_manager_signal, m, NULL);
    if (rc) {
        while (nsig-- > 0)
            swco_event_signal(manager_signals[nsig], NULL, NULL, NULL);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        free(m->slot);
        free(m);
        return rc;
    }
    swco__srv_self_t *prev_self = swco__srv_self;
    m->self = (swco__srv_self_t){.role = SWCO__ROLE_MANAGER, .worker_id = -1};
    swco__srv_self = &m->self;
    srv->manager = m;
    __atomic_store_n(&srv->shm->manager_pid, (int32_t)getpid(), __ATOMIC_RELEASE);

    run_cb(srv, SWCO__CB_MANAGER_START);
    ready_claim();
    for (int i = 0; i < m->n && rc == 0; i++)
        rc = spawn(m, i);
    if (rc) {
        swco__log(SWCO_LOG_ERROR, "server: cannot start worker: %s", swco_strerror(rc));
        stop_all(m);
    } else if (__atomic_load_n(&srv->shm->shutting_down, __ATOMIC_ACQUIRE)) {
        stop_all(m); /* shutdown was asked before we were up */
    } else {
        swco__srv_notify_ready();
    }
    if (!(m->stopping && m->alive == 0))
        swco_event_wait(); /* until the last worker is reaped after a stop */
    if (m->kill_timer)
        swco__timer_del(m->kill_timer);
    for (int i = 0; i < m->n; i++)
        if (m->slot[i].restart_timer)
            swco__timer_del(m->slot[i].restart_timer);
    run_cb(srv, SWCO__CB_MANAGER_STOP);

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
    for (int i = 0; i < NSIGNALS; i++)
        swco_event_signal(manager_signals[i], NULL, NULL, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    __atomic_store_n(&srv->shm->manager_pid, 0, __ATOMIC_RELEASE);
    swco__srv_self = prev_self;
    srv->manager = NULL;
    free(m->slot);
    free(m);
    return rc;
}

/* ------------------------------------------------- socket activation */

/* The sockets LISTEN_FDS passed (fds 3 .. 3+n-1), read once per process;
 * each is handed to one listener at most. */
static pthread_mutex_t act_lock = PTHREAD_MUTEX_INITIALIZER;
static int act_parsed;
static int act_n;
static unsigned char *act_claimed;

static void act_parse(void)
{
    act_parsed = 1;
    const char *pid_s = getenv("LISTEN_PID");
    const char *n_s = getenv("LISTEN_FDS");
    if (!pid_s || !n_s)
        return;
    char *end;
    errno = 0;
    long pid = strtol(pid_s, &end, 10);
    if (errno || *end || pid != (long)getpid())
        return; /* meant for another process */
    long n = strtol(n_s, &end, 10);
    unsetenv("LISTEN_PID");
    unsetenv("LISTEN_FDS");
    unsetenv("LISTEN_FDNAMES");
    if (errno || *end || n <= 0 || n > 4096)
        return;
    act_claimed = calloc((size_t)n, 1);
    if (!act_claimed)
        return;
    act_n = (int)n;
    for (int i = 0; i < act_n; i++) {
        int fl = fcntl(3 + i, F_GETFD);
        if (fl < 0)
            act_claimed[i] = 1; /* not open: never hand it out */
        else
            fcntl(3 + i, F_SETFD, fl | FD_CLOEXEC);
    }
}

/* Whether the bound address sa is host:port (port 0: any port). */
static int addr_matches(const struct sockaddr *sa, socklen_t salen, const char *host, int port,
                        int family)
{
    if (sa->sa_family != family)
        return 0;
    if (family == AF_UNIX) {
        const struct sockaddr_un *un = (const struct sockaddr_un *)sa;
        size_t plen = salen > offsetof(struct sockaddr_un, sun_path)
                          ? salen - offsetof(struct sockaddr_un, sun_path)
                          : 0;
        return plen > 0 && un->sun_path[0] && strncmp(un->sun_path, host, plen) == 0 &&
               strlen(host) < sizeof un->sun_path;
    }
    int bound_port = family == AF_INET ? ntohs(((const struct sockaddr_in *)sa)->sin_port)
                                       : ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
    if (port != 0 && port != bound_port)
        return 0;
    const void *bound = family == AF_INET
                            ? (const void *)&((const struct sockaddr_in *)sa)->sin_addr
                            : (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr;
    size_t alen = family == AF_INET ? sizeof(struct in_addr) : sizeof(struct in6_addr);
    unsigned char want[sizeof(struct in6_addr)];
    if (!host || !*host)
        host = family == AF_INET ? "0.0.0.0" : "::";
    if (inet_pton(family, host, want) == 1)
        return memcmp(want, bound, alen) == 0;
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = family;
    if (getaddrinfo(host, NULL, &hints, &res) != 0)
        return 0;
    int ok = 0;
    for (struct addrinfo *ai = res; ai && !ok; ai = ai->ai_next) {
        const void *a = family == AF_INET
                            ? (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr
                            : (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;
        ok = memcmp(a, bound, alen) == 0;
    }
    freeaddrinfo(res);
    return ok;
}

int swco__srv_activated_fd(const char *host, int port, int family, int stream)
{
    int found = -ENOENT;
    pthread_mutex_lock(&act_lock);
    if (!act_parsed)
        act_parse();
    for (int i = 0; i < act_n && found < 0; i++) {
        int fd = 3 + i;
        if (act_claimed[i])
            continue;
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        int type = 0;
        socklen_t tlen = sizeof type;
        if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0 ||
            getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) < 0)
            continue;
        if (type != (stream ? SOCK_STREAM : SOCK_DGRAM))
            continue;
        if (!addr_matches((struct sockaddr *)&ss, len, host, port, family))
            continue;
        act_claimed[i] = 1;
        found = fd;
    }
    pthread_mutex_unlock(&act_lock);
    return found;
}

static void ready_claim_locked(void)
{
    if (ready_fd != -2)
        return;
    ready_fd = -1;
    const char *v = getenv(ENV_READY_FD);
    if (!v)
        return;
    char *end;
    long fd = strtol(v, &end, 10);
    int ok = !*end && fd >= 3 && fd <= INT_MAX && fcntl((int)fd, F_GETFD) >= 0;
    unsetenv(ENV_READY_FD);
    if (!ok)
        return;
    ready_fd = (int)fd;
    fcntl(ready_fd, F_SETFD, FD_CLOEXEC);
}

/* Take the variable before forking workers, so that none of them (nor
 * what they run) finds it. */
static void ready_claim(void)
{
    pthread_mutex_lock(&ready_lock);
    ready_claim_locked();
    pthread_mutex_unlock(&ready_lock);
}

void swco__srv_notify_ready(void)
{
    pthread_mutex_lock(&ready_lock);
    ready_claim_locked();
    if (ready_fd >= 0) {
        ssize_t n;
        while ((n = send(ready_fd, "R", 1, MSG_NOSIGNAL)) < 0 && errno == EINTR)
            ;
        close(ready_fd);
        ready_fd = -1;
    }
    pthread_mutex_unlock(&ready_lock);
}

/* ------------------------------------------------------- hot restart */

typedef struct hot {
    swco_server_t *srv;
    pid_t child;
} hot_t;

static int hot_running;

static void hot_ready(int fd, int events, void *arg)
{
    hot_t *h = arg;
    (void)events;
    char c;
    ssize_t n;
    while ((n = read(fd, &c, 1)) < 0 && errno == EINTR)
        ;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return;
    swco_server_t *srv = h->srv;
    pid_t child = h->child;
    swco_event_del(fd); /* frees h */
    close(fd);
    if (n == 1) {
        swco__log(SWCO_LOG_INFO, "server: new program (pid %d) started: shutting down", (int)child);
        swco_server_shutdown(srv);
    } else {
        swco__log(SWCO_LOG_ERROR,
                  "server: hot restart: the new program (pid %d) ended "
                  "before its server started; this one keeps serving",
                  (int)child);
        waitpid(child, NULL, WNOHANG);
        hot_running = 0;
    }
}

/* Write v in decimal at out (room for 20 digits and a NUL); async-signal
 * safe, for the child between fork and exec. */
static void put_long(char *out, long v)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0 && n < 20);
    while (n > 0)
        *out++ = tmp[--n];
    *out = 0;
}

static int env_is(const char *entry, const char *name)
{
    size_t n = strlen(name);
    return strncmp(entry, name, n) == 0 && entry[n] == '=';
}

int swco_server_hot_restart(swco_server_t *srv, char *const argv[])
{
    if (!srv || !argv || !argv[0] || !srv->shm || srv->nlisteners <= 0)
        return swco__fail(-EINVAL);
    if (hot_running || __atomic_load_n(&srv->shm->shutting_down, __ATOMIC_ACQUIRE))
        return swco__fail(-EBUSY);
    /* What exec would say, said now (afterwards only a log line could). */
    if (access(argv[0], X_OK) < 0)
        return swco__fail(-errno);
    int n = srv->nlisteners;
    int rc = 0;
    int ready[2] = {-1, -1};
    hot_t *h = NULL;
    char **envp = NULL;
    char *names = NULL;
    int *fds = NULL;
    char env_fds[32], env_ready[48], env_pid[40];
    size_t nenv = 0;
    while (environ && environ[nenv])
        nenv++;
    envp = calloc(nenv + 5, sizeof *envp);
    names = malloc((size_t)n * 16 + 32);
    h = calloc(1, sizeof *h);
    fds = malloc(sizeof *fds * ((size_t)n + 1));
    if (!envp || !names || !h || !fds) {
        rc = -ENOMEM;
        goto fail;
    }
    /* LISTEN_FDNAMES: listener0:listener1:... in the order of the fds. */
    strcpy(names, "LISTEN_FDNAMES=");
    for (int i = 0; i < n; i++)
        sprintf(names + strlen(names), "%slistener%d", i ? ":" : "", i);
    snprintf(env_fds, sizeof env_fds, "LISTEN_FDS=%d", n);
    snprintf(env_ready, sizeof env_ready, ENV_READY_FD "=%d", 3 + n);
    strcpy(env_pid, "LISTEN_PID=");
    size_t k = 0;
    for (size_t i = 0; i < nenv; i++)
        if (!env_is(environ[i], "LISTEN_PID") && !env_is(environ[i], "LISTEN_FDS") &&
            !env_is(environ[i], "LISTEN_FDNAMES") && !env_is(environ[i], ENV_READY_FD))
            envp[k++] = environ[i];
    envp[k++] = env_fds;
    envp[k++] = names;
    envp[k++] = env_ready;
    envp[k++] = env_pid;
    envp[k] = NULL;
    /* A socket, not a pipe: the new program's write never raises SIGPIPE. */
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ready) < 0) {
        rc = -errno;
        goto fail;
    }
    for (int i = 0; i < n; i++)
        fds[i] = srv->listeners[i]->fd;
    fds[n] = ready[1];
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        rc = -errno;
        goto fail;
    }
    if (pid == 0) {
        swco__process_child_init(NULL);
        /* Move the sockets (and the ready pipe) to 3, 4, ...: first out of
         * the way above every fd involved, then down into place. */
        int top = 3 + n + 1;
        for (int i = 0; i <= n; i++)
            if (fds[i] >= top)
                top = fds[i] + 1;
        for (int i = 0; i <= n; i++)
            if ((fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, top)) < 0)
                _exit(127);
        for (int i = 0; i <= n; i++)
            if (dup2(fds[i], 3 + i) < 0) /* dup2 clears FD_CLOEXEC on 3+i */
                _exit(127);
        put_long(env_pid + strlen("LISTEN_PID="), (long)getpid());
        execve(argv[0], argv, envp);
        _exit(127);
    }
    close(ready[1]);
    ready[1] = -1;
    free(envp);
    free(names);
    free(fds);
    h->srv = srv;
    h->child = pid;
    fcntl(ready[0], F_SETFL, fcntl(ready[0], F_GETFL) | O_NONBLOCK);
    rc = swco_event_add(ready[0], SWCO_EVENT_READ, hot_ready, h, free);
    if (rc < 0) {
        /* Cannot wait for it on the loop: wait here (the new program
         * answers as soon as its server started). */
        free(h);
        char c;
        ssize_t r;
        fcntl(ready[0], F_SETFL, fcntl(ready[0], F_GETFL) & ~O_NONBLOCK);
        while ((r = read(ready[0], &c, 1)) < 0 && errno == EINTR)
            ;
        close(ready[0]);
        if (r == 1)
            swco_server_shutdown(srv);
        return r == 1 ? 0 : swco__fail(-ECHILD);
    }
    hot_running = 1;
    return 0;
fail:
    if (ready[0] >= 0) {
        close(ready[0]);
        close(ready[1]);
    }
    free(envp);
    free(names);
    free(fds);
    free(h);
    return swco__fail(rc);
}
