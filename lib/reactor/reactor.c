/* The per-thread event loop.  loop_once() shows one turn's phases in the
 * order they run: poll, signals, defers, timers, fd events, cycle. */
#include "reactor_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

static SWCO__TLS swco__reactor_t *tls_reactor;
static SWCO__TLS int tls_backend = -1;

static void wakeup_read(int fd, int events, void *arg);
static void signal_read(int fd, int events, void *arg);

/* ------------------------------------------------------------ lifecycle */

static int backend_default(void)
{
    if (tls_backend >= 0)
        return tls_backend;
    const char *env = getenv("SWCO_BACKEND");
    if (env && strcasecmp(env, "poll") == 0)
        return SWCO_BACKEND_POLL;
    return SWCO_BACKEND_EPOLL;
}

swco__reactor_t *swco__reactor_peek(void) { return tls_reactor; }

/* A forked child gets a fresh loop (and scheduler), as in Swoole: the epoll
 * instance, signalfd, timers and waiting coroutines are the parent's.
 * Close the child's copies of the loop's own fds, give back the signals the
 * loop blocked, and drop the rest (its memory stays as the parent left it). */
static swco__reactor_t *forgotten; /* kept reachable, never used again */

static void forget_after_fork(void)
{
    swco__reactor_t *r = tls_reactor;
    if (r) {
        r->forgotten_next = forgotten;
        forgotten = r;
        if (r->sfd >= 0) {
            pthread_sigmask(SIG_UNBLOCK, &r->sigmask, NULL);
            close(r->sfd);
        }
        if (r->efd >= 0)
            close(r->efd);
        if (r->bfd >= 0)
            close(r->bfd);
        tls_reactor = NULL;
    }
}

static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static void atfork_register(void) { pthread_atfork(NULL, NULL, forget_after_fork); }

swco__reactor_t *swco__reactor_get(void)
{
    swco__reactor_t *r = tls_reactor;
    if (SWCO__LIKELY(r != NULL))
        return r;
    pthread_once(&atfork_once, atfork_register);
    r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->backend = backend_default();
    r->ops = r->backend == SWCO_BACKEND_POLL ? &swco__poll_ops : &swco__epoll_ops;
    r->maxfd = -1;
    r->bfd = -1;
    r->sfd = -1;
    r->efd = -1;
    r->now = swco__now_ms();
    sigemptyset(&r->sigmask);
    pthread_mutex_init(&r->post_lock, NULL);
    r->posted_tail = &r->posted;
    if (r->ops->init(r) != 0) {
        free(r);
        return NULL;
    }
    tls_reactor = r;
    r->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (r->efd < 0 ||
        swco_event_add(r->efd, SWCO_EVENT_READ | SWCO_EVENT_NOREF, wakeup_read, r, NULL) != 0) {
        swco__log(SWCO_LOG_ERROR, "event loop: cannot create its eventfd");
        if (r->efd >= 0)
            close(r->efd);
        r->ops->destroy(r);
        free(r);
        tls_reactor = NULL;
        return NULL;
    }
    return r;
}

/* The args the loop still owns go back to their arg_free when it is
 * released: pending defers, the cycle callback, signal handlers and fds
 * still registered (NOREF ones, which do not keep it alive). */
static void release_args(swco__reactor_t *r)
{
    for (size_t i = 0; i < r->ndefers; i++)
        if (r->defers[i].arg_free)
            r->defers[i].arg_free(r->defers[i].arg);
    r->ndefers = 0;
    if (r->cycle_free)
        r->cycle_free(r->cycle_arg);
    r->cycle_fn = NULL;
    r->cycle_free = NULL;
    for (int i = 0; i < 65; i++) {
        if (r->sig[i].arg_free)
            r->sig[i].arg_free(r->sig[i].arg);
        r->sig[i].arg_free = NULL;
    }
    for (size_t c = 0; c < r->nfdchunks; c++) {
        if (!r->fdchunks[c])
            continue;
        for (size_t i = 0; i < SWCO__FD_CHUNK; i++) {
            fd_slot_t *fs = &r->fdchunks[c][i];
            if (fs->registered && fs->arg_free) {
                swco_free_fn f = fs->arg_free;
                fs->arg_free = NULL;
                f(fs->arg);
            }
        }
    }
}

static void reactor_free(swco__reactor_t *r)
{
    release_args(r);
    swco__timers_destroy(r);
    if (r->sfd >= 0) {
        pthread_sigmask(SIG_UNBLOCK, &r->sigmask, NULL);
        close(r->sfd);
    }
    if (r->efd >= 0)
        close(r->efd);
    for (posted_call_t *p = r->posted, *n; p; p = n) {
        n = p->next;
        free(p);
    }
    pthread_mutex_destroy(&r->post_lock);
    r->ops->destroy(r);
    for (size_t i = 0; i < r->nfdchunks; i++)
        free(r->fdchunks[i]);
    free(r->fdchunks);
    free(r->ready);
    free(r->defers);
    free(r);
    tls_reactor = NULL;
}

/* ------------------------------------------------------------ fd events */

fd_slot_t *swco__fd_slot(swco__reactor_t *r, int fd)
{
    size_t c = (size_t)fd >> SWCO__FD_CHUNK_BITS;
    if (fd < 0 || c >= r->nfdchunks || !r->fdchunks[c])
        return NULL;
    return &r->fdchunks[c][fd & (SWCO__FD_CHUNK - 1)];
}

/* The process's descriptor limit as last seen by this thread: fds below
 * it need no system call. */
static SWCO__TLS int tls_fd_limit;

/* 0 when fd can be an open descriptor, else -EBADF: it is at or above
 * RLIMIT_NOFILE (fetched again when fd passes the last value seen) and
 * not open (the limit may have been lowered under an open fd). */
static int fd_plausible(int fd)
{
    if (fd < tls_fd_limit)
        return 0;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        tls_fd_limit = rl.rlim_cur > (rlim_t)INT_MAX ? INT_MAX : (int)rl.rlim_cur;
    if (fd < tls_fd_limit || fcntl(fd, F_GETFD) != -1)
        return 0;
    return -EBADF;
}

/* fd's slot, its chunk allocated as needed: 0, -EBADF or -ENOMEM. */
static int slot_get(swco__reactor_t *r, int fd, fd_slot_t **sp)
{
    if ((*sp = swco__fd_slot(r, fd)) != NULL)
        return 0;
    int rc = fd_plausible(fd);
    if (rc != 0)
        return rc;
    size_t c = (size_t)fd >> SWCO__FD_CHUNK_BITS;
    if (c >= r->nfdchunks) {
        size_t n = r->nfdchunks ? r->nfdchunks * 2 : 8;
        if (n <= c)
            n = c + 1;
        fd_slot_t **t = realloc(r->fdchunks, sizeof *t * n);
        if (!t)
            return -ENOMEM;
        memset(t + r->nfdchunks, 0, sizeof *t * (n - r->nfdchunks));
        r->fdchunks = t;
        r->nfdchunks = n;
    }
    if (!(r->fdchunks[c] = calloc(SWCO__FD_CHUNK, sizeof(fd_slot_t))))
        return -ENOMEM;
    *sp = &r->fdchunks[c][fd & (SWCO__FD_CHUNK - 1)];
    return 0;
}

/* The calling thread's loop and fd's slot in it, created as needed. */
static int slot_acquire(int fd, swco__reactor_t **rp, fd_slot_t **sp)
{
    swco__reactor_t *r = swco__reactor_get();
    if (!r)
        return -ENOMEM;
    int rc = slot_get(r, fd, sp);
    if (rc == 0)
        *rp = r;
    return rc;
}

static fd_slot_t *slot_find(swco__reactor_t *r, int fd)
{
    fd_slot_t *s = r ? swco__fd_slot(r, fd) : NULL;
    return s && s->registered ? s : NULL;
}

/* Lower maxfd past slots no longer registered, a missing chunk at a time. */
static void trim_maxfd(swco__reactor_t *r)
{
    while (r->maxfd >= 0) {
        fd_slot_t *s = swco__fd_slot(r, r->maxfd);
        if (s && s->registered)
            return;
        if (s)
            r->maxfd--;
        else
            r->maxfd = (r->maxfd & ~(SWCO__FD_CHUNK - 1)) - 1;
    }
}

/* Bring the backend in line with the slot's interest. */
static int sync_backend(swco__reactor_t *r, int fd, fd_slot_t *s, int events)
{
    int rc = 0;
    if (events && !s->in_backend)
        rc = r->ops->add(r, fd, events);
    else if (events && s->in_backend)
        rc = r->ops->modify(r, fd, events);
    else if (!events && s->in_backend)
        rc = r->ops->del(r, fd);
    if (rc == 0) {
        s->in_backend = events != 0;
        s->events = events & (SWCO_EVENT_READ | SWCO_EVENT_WRITE);
    }
    return rc;
}

int swco_event_add(int fd, int events, swco_event_fn fn, void *arg, swco_free_fn arg_free)
{
    if (fd < 0)
        return swco__fail(-EBADF);
    int interest = events & (SWCO_EVENT_READ | SWCO_EVENT_WRITE);
    if (!fn || !interest)
        return swco__fail(-EINVAL);
    swco__reactor_t *r;
    fd_slot_t *s;
    int rc = slot_acquire(fd, &r, &s);
    if (rc != 0)
        return swco__fail(rc);
    if (s->registered)
        return swco__fail(-EEXIST);
    s->in_backend = 0;
    s->waitmode = 0;
    rc = sync_backend(r, fd, s, interest);
    if (rc != 0)
        return swco__fail(rc);
    s->fn = fn;
    s->arg = arg;
    s->arg_free = arg_free;
    s->registered = 1;
    s->noref = (events & SWCO_EVENT_NOREF) != 0;
    s->gen++;
    if (!s->noref)
        r->nref_fds++;
    if (fd > r->maxfd)
        r->maxfd = fd;
    return 0;
}

int swco_event_modify(int fd, int events)
{
    swco__reactor_t *r = tls_reactor;
    fd_slot_t *s = slot_find(r, fd);
    if (!s || s->waitmode)
        return swco__fail(-ENOENT);
    int interest = events & (SWCO_EVENT_READ | SWCO_EVENT_WRITE);
    if (interest == s->events)
        return 0;
    int rc = sync_backend(r, fd, s, interest);
    return rc ? swco__fail(rc) : 0;
}

static void fd_wait_wake(fd_slot_t *s, swco__waiter_t **pw, int result);

int swco_event_del(int fd)
{
    swco__reactor_t *r = tls_reactor;
    fd_slot_t *s = slot_find(r, fd);
    if (!s)
        return swco__fail(-ENOENT);
    if (s->waitmode) {
        /* Waiters on an fd being forgotten (closed) are cancelled. */
        if (s->rd)
            fd_wait_wake(s, &s->rd, -ECANCELED);
        s = slot_find(r, fd);
        if (s && s->waitmode && s->wr)
            fd_wait_wake(s, &s->wr, -ECANCELED);
        s = slot_find(r, fd);
        if (!s)
            return 0;
        s->waitmode = 0;
        s->ready = 0;
    }
    if (s->in_backend)
        r->ops->del(r, fd); /* fails harmlessly when fd was closed already */
    s->in_backend = 0;
    s->events = 0;
    s->registered = 0;
    s->fn = NULL;
    swco_free_fn arg_free = s->arg_free;
    void *arg = s->arg;
    s->arg_free = NULL;
    s->arg = NULL;
    if (!s->noref)
        r->nref_fds--;
    trim_maxfd(r);
    if (arg_free)
        arg_free(arg);
    return 0;
}

int swco_event_isset(int fd)
{
    fd_slot_t *s = slot_find(tls_reactor, fd);
    return s ? s->events : swco__fail(-ENOENT);
}

/* ------------------------------------------------------- fd waits */

typedef struct fd_waiter {
    swco__waiter_t w;
    int fd;
    int dir;
} fd_waiter_t;

static int fd_wait_interest(swco__reactor_t *r, fd_slot_t *s)
{
    if (r->ops->edge)
        return SWCO_EVENT_READ | SWCO_EVENT_WRITE | SWCO__EVENT_EDGE;
    return (s->rd ? SWCO_EVENT_READ : 0) | (s->wr ? SWCO_EVENT_WRITE : 0);
}

/* Detach *pw from the slot and resume it with result. */
static void fd_wait_wake(fd_slot_t *s, swco__waiter_t **pw, int result)
{
    swco__reactor_t *r = tls_reactor;
    swco__waiter_t *w = *pw;
    *pw = NULL;
    r->nref_fds--;
    if (!r->ops->edge) {
        fd_waiter_t *fw = SWCO__CONTAINER(w, fd_waiter_t, w);
        sync_backend(r, fw->fd, s, fd_wait_interest(r, s));
    }
    swco__co_wake(w, result);
}

static void fd_wait_event(int fd, int events, void *arg)
{
    swco__reactor_t *r = tls_reactor;
    fd_slot_t *s = swco__fd_slot(r, fd); /* registered: the loop called us */
    unsigned gen = s->gen;
    int err = events & SWCO_EVENT_ERROR;
    if (events & (SWCO_EVENT_READ | SWCO_EVENT_ERROR)) {
        if (s->rd)
            fd_wait_wake(s, &s->rd, SWCO_EVENT_READ | err);
        else
            s->ready |= SWCO_EVENT_READ;
    }
    s = slot_find(r, fd); /* the woken coroutine may have closed it */
    if (!s || s->gen != gen || !s->waitmode)
        return;
    if (events & (SWCO_EVENT_WRITE | SWCO_EVENT_ERROR)) {
        if (s->wr)
            fd_wait_wake(s, &s->wr, SWCO_EVENT_WRITE | err);
        else
            s->ready |= SWCO_EVENT_WRITE;
    }
}

static void fd_wait_cancel(swco__waiter_t *w)
{
    swco__reactor_t *r = tls_reactor;
    fd_waiter_t *fw = SWCO__CONTAINER(w, fd_waiter_t, w);
    fd_slot_t *s = slot_find(r, fw->fd);
    if (!s)
        return;
    swco__waiter_t **pw = fw->dir == SWCO_EVENT_READ ? &s->rd : &s->wr;
    if (*pw != w)
        return;
    *pw = NULL;
    r->nref_fds--;
    if (!r->ops->edge)
        sync_backend(r, fw->fd, s, fd_wait_interest(r, s));
}

void swco__fd_cancel_waits(int fd)
{
    swco__reactor_t *r = tls_reactor;
    fd_slot_t *s = slot_find(r, fd);
    if (!s || !s->waitmode)
        return;
    unsigned gen = s->gen;
    swco__waiter_t *wr = s->wr; /* a writer that waits again later is not this one */
    if (s->rd)
        fd_wait_wake(s, &s->rd, -ECANCELED);
    s = slot_find(r, fd); /* the woken coroutine may have closed it */
    if (s && s->gen == gen && s->waitmode && s->wr && s->wr == wr)
        fd_wait_wake(s, &s->wr, -ECANCELED);
}

int swco_event_wait_fd(int fd, int events, double timeout)
{
    if (fd < 0)
        return swco__fail(-EBADF);
    if (events != SWCO_EVENT_READ && events != SWCO_EVENT_WRITE)
        return swco__fail(-EINVAL);
    swco__reactor_t *r;
    fd_slot_t *s;
    int rc = swco__co_can_wait();
    if (rc == 0)
        rc = slot_acquire(fd, &r, &s);
    if (rc != 0)
        return swco__fail(rc);
    if (s->registered && !s->waitmode)
        return swco__fail(-EEXIST);
    if (!s->registered) {
        s->in_backend = 0;
        s->fn = fd_wait_event;
        s->arg = NULL;
        s->registered = 1;
        s->noref = 1; /* only a waiting coroutine keeps the loop alive */
        s->waitmode = 1;
        s->ready = 0;
        s->rd = s->wr = NULL;
        s->gen++;
        if (fd > r->maxfd)
            r->maxfd = fd;
        if (r->ops->edge) {
            rc = sync_backend(r, fd, s, fd_wait_interest(r, s));
            if (rc != 0) {
                s->registered = 0;
                s->waitmode = 0;
                return swco__fail(rc);
            }
        }
    }
    if (s->ready & events) {
        s->ready &= ~events;
        return events;
    }
    swco__waiter_t **pw = events == SWCO_EVENT_READ ? &s->rd : &s->wr;
    if (*pw)
        return swco__fail(-EBUSY);
    fd_waiter_t fw = {.fd = fd, .dir = events};
    fw.w.what = events == SWCO_EVENT_READ ? "fd read" : "fd write";
    fw.w.cancel = fd_wait_cancel;
    *pw = &fw.w;
    r->nref_fds++;
    if (!r->ops->edge) {
        rc = sync_backend(r, fd, s, fd_wait_interest(r, s));
        if (rc != 0) {
            *pw = NULL;
            r->nref_fds--;
            return swco__fail(rc);
        }
    }
    rc = swco__wait(&fw.w, timeout);
    /* If the wait failed before it began (no timer could be had), the slot
     * still holds fw: unregister it.  A no-op after a wake or a cancel. */
    fd_wait_cancel(&fw.w);
    return rc < 0 ? swco__fail(rc) : rc;
}

/* Backends call this for each ready fd while polling. */
int swco__reactor_ready(swco__reactor_t *r, int fd, int events)
{
    if (fd == r->sfd && r->sfd >= 0) {
        r->signal_pending = 1;
        return 0;
    }
    if (r->nready == r->ready_cap) {
        int n = r->ready_cap ? r->ready_cap * 2 : 64;
        ready_event_t *e = realloc(r->ready, sizeof *e * (size_t)n);
        if (!e)
            return -ENOMEM;
        r->ready = e;
        r->ready_cap = n;
    }
    fd_slot_t *s = swco__fd_slot(r, fd);
    r->ready[r->nready++] = (ready_event_t){fd, events, s ? s->gen : 0};
    return 0;
}

/* ---------------------------------------------------------------- defers */

int swco_event_defer(swco_fn fn, void *arg, swco_free_fn arg_free)
{
    if (!fn)
        return swco__fail(-EINVAL);
    swco__reactor_t *r = swco__reactor_get();
    if (!r)
        return swco__fail(-ENOMEM);
    if (r->ndefers == r->defers_cap) {
        size_t n = r->defers_cap ? r->defers_cap * 2 : 32;
        defer_call_t *d = realloc(r->defers, sizeof *d * n);
        if (!d)
            return swco__fail(-ENOMEM);
        r->defers = d;
        r->defers_cap = n;
    }
    r->defers[r->ndefers++] = (defer_call_t){fn, arg, arg_free};
    return 0;
}

int swco_event_cycle(swco_fn fn, void *arg, swco_free_fn arg_free)
{
    swco__reactor_t *r = swco__reactor_get();
    if (!r)
        return swco__fail(-ENOMEM);
    swco_free_fn old_free = r->cycle_free;
    void *old_arg = r->cycle_arg;
    r->cycle_fn = fn;
    r->cycle_arg = fn ? arg : NULL;
    r->cycle_free = fn ? arg_free : NULL;
    if (old_free)
        old_free(old_arg);
    return 0;
}

/* ------------------------------------------------- cross-thread wakeups */

void swco__reactor_ref(swco__reactor_t *r) { __atomic_add_fetch(&r->refs, 1, __ATOMIC_RELAXED); }
void swco__reactor_unref(swco__reactor_t *r) { __atomic_sub_fetch(&r->refs, 1, __ATOMIC_RELAXED); }

int swco__reactor_post(swco__reactor_t *r, swco_fn fn, void *arg)
{
    posted_call_t *p = malloc(sizeof *p);
    if (!p)
        return -ENOMEM;
    p->fn = fn;
    p->arg = arg;
    p->next = NULL;
    pthread_mutex_lock(&r->post_lock);
    *r->posted_tail = p;
    r->posted_tail = &p->next;
    pthread_mutex_unlock(&r->post_lock);
    uint64_t one = 1;
    ssize_t n = write(r->efd, &one, sizeof one);
    (void)n; /* EAGAIN means the counter is already non-zero: still woken */
    return 0;
}

static void wakeup_read(int fd, int events, void *arg)
{
    swco__reactor_t *r = arg;
    uint64_t v;
    ssize_t n = read(fd, &v, sizeof v);
    (void)n;
    pthread_mutex_lock(&r->post_lock);
    posted_call_t *p = r->posted;
    r->posted = NULL;
    r->posted_tail = &r->posted;
    pthread_mutex_unlock(&r->post_lock);
    while (p) {
        posted_call_t *next = p->next;
        p->fn(p->arg);
        free(p);
        p = next;
    }
}

/* --------------------------------------------------------------- signals */

/* Point the loop's signalfd at mask, creating it (and watching it) when
 * needed.  On failure nothing changes. */
static int signalfd_update(swco__reactor_t *r, const sigset_t *mask)
{
    int fd = signalfd(r->sfd, mask, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (r->sfd < 0) {
        int rc = swco_event_add(fd, SWCO_EVENT_READ | SWCO_EVENT_NOREF, signal_read, r, NULL);
        if (rc != 0) {
            close(fd);
            return rc;
        }
        r->sfd = fd;
    }
    return 0;
}

int swco_event_signal(int signo, swco_signal_fn fn, void *arg, swco_free_fn arg_free)
{
    if (signo <= 0 || signo >= 65 || signo == SIGKILL || signo == SIGSTOP)
        return swco__fail(-EINVAL);
    swco__reactor_t *r = swco__reactor_get();
    if (!r)
        return swco__fail(-ENOMEM);
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, signo);
    if (fn) {
        /* The signalfd first: if it cannot be had, the handler is not set. */
        sigset_t mask = r->sigmask;
        sigaddset(&mask, signo);
        int rc = signalfd_update(r, &mask);
        if (rc != 0)
            return swco__fail(rc);
        if (!r->sig[signo].fn)
            r->nsignals++;
        swco_free_fn old_free = r->sig[signo].arg_free;
        void *old_arg = r->sig[signo].arg;
        r->sig[signo].fn = fn;
        r->sig[signo].arg = arg;
        r->sig[signo].arg_free = arg_free;
        r->sigmask = mask;
        pthread_sigmask(SIG_BLOCK, &one, NULL);
        if (old_free)
            old_free(old_arg);
        return 0;
    }
    if (!r->sig[signo].fn)
        return 0;
    swco_free_fn old_free = r->sig[signo].arg_free;
    void *old_arg = r->sig[signo].arg;
    r->nsignals--;
    r->sig[signo].fn = NULL;
    r->sig[signo].arg = NULL;
    r->sig[signo].arg_free = NULL;
    sigdelset(&r->sigmask, signo);
    pthread_sigmask(SIG_UNBLOCK, &one, NULL);
    if (r->nsignals == 0) {
        if (r->sfd >= 0) {
            swco_event_del(r->sfd);
            close(r->sfd);
            r->sfd = -1;
        }
    } else {
        signalfd_update(r, &r->sigmask); /* a stale bit only reads a signal nobody handles */
    }
    if (old_free)
        old_free(old_arg);
    return 0;
}

static void signal_read(int fd, int events, void *arg) { (void)fd; (void)events; (void)arg; }

static void run_signals(swco__reactor_t *r)
{
    if (!r->signal_pending)
        return;
    r->signal_pending = 0;
    struct signalfd_siginfo si;
    while (r->sfd >= 0 && read(r->sfd, &si, sizeof si) == (ssize_t)sizeof si) {
        int signo = (int)si.ssi_signo;
        if (signo > 0 && signo < 65 && r->sig[signo].fn)
            r->sig[signo].fn(signo, r->sig[signo].arg);
    }
}

/* ------------------------------------------------------------------ loop */

static int loop_alive(swco__reactor_t *r)
{
    return r->nref_fds > 0 || r->ntimers > 0 || r->ndefers > 0 ||
           __atomic_load_n(&r->refs, __ATOMIC_RELAXED) > 0 || r->nsignals > 0 ||
           swco__co_ready_pending();
}

static int poll_timeout(swco__reactor_t *r)
{
    if (r->ndefers > 0 || r->stop || swco__co_ready_pending())
        return 0;
    long long next = swco__timers_next(r);
    if (next < 0)
        return -1;
    return next > 0x7fffffff ? 0x7fffffff : (int)next;
}

static void run_defers(swco__reactor_t *r)
{
    if (r->ndefers == 0)
        return;
    /* Take this turn's batch; calls it adds run next turn. */
    defer_call_t *batch = r->defers;
    size_t n = r->ndefers;
    r->defers = NULL;
    r->ndefers = r->defers_cap = 0;
    for (size_t i = 0; i < n; i++) {
        batch[i].fn(batch[i].arg);
        if (batch[i].arg_free)
            batch[i].arg_free(batch[i].arg);
    }
    if (r->defers == NULL) { /* keep the buffer for next time */
        r->defers = batch;
        r->defers_cap = n;
    } else {
        free(batch);
    }
}

static void run_io(swco__reactor_t *r)
{
    for (int i = 0; i < r->nready; i++) {
        ready_event_t *e = &r->ready[i];
        fd_slot_t *s = slot_find(r, e->fd);
        if (!s || s->gen != e->gen || !s->fn)
            continue; /* deleted (or replaced) by an earlier callback */
        int ev = e->events & (s->events | SWCO_EVENT_ERROR);
        if (ev)
            s->fn(e->fd, ev, s->arg);
    }
    r->nready = 0;
}

static void run_cycle(swco__reactor_t *r)
{
    if (r->cycle_fn)
        r->cycle_fn(r->cycle_arg);
}

static void loop_once(swco__reactor_t *r)
{
    r->nready = 0;
    r->ops->poll(r, poll_timeout(r));
    r->now = swco__now_ms();
    run_signals(r);
    run_defers(r);
    swco__co_run_ready(); /* woken by a rendezvous, not yet run */
    swco__timers_run(r);
    run_io(r);
    run_cycle(r);
}

static void report_waiter(swco__co_t *co, void *arg)
{
    const swco__waiter_t *w = swco__co_waiter(co);
    (*(long *)arg)++;
    swco__log(SWCO_LOG_ERROR, "deadlock: coroutine %ld waits on %s", swco__co_cid(co),
              w ? w->what : "nothing (runnable)");
}

int swco__loop_run(void)
{
    if (swco__co_current())
        return swco__fail(SWCO_ECOSTATE);
    swco__reactor_t *r = swco__reactor_get();
    if (!r)
        return swco__fail(-ENOMEM);
    if (r->running)
        return swco__fail(SWCO_ECOSTATE);
    r->running = 1;
    r->stop = 0;
    int rc = 0;
    for (int round = 0; round < 8; round++) {
        while (!r->stop && loop_alive(r))
            loop_once(r);
        if (r->stop || swco__co_live() == 0)
            break;
        /* Coroutines wait, but nothing left can wake them. */
        if (rc == 0) {
            long n = 0;
            swco__co_foreach(report_waiter, &n);
            swco__log(SWCO_LOG_ERROR, "deadlock: %ld coroutine(s) can never be woken; cancelling them", n);
            rc = SWCO_EDEADLOCK;
        }
        swco__co_cancel_all();
    }
    r->running = 0;
    if (r->stop) {
        r->stop = 0;
        return rc;
    }
    if (!loop_alive(r) && swco__co_live() == 0) {
        reactor_free(r);
        swco__sched_release();
    }
    return rc ? swco__fail(rc) : 0;
}

int swco_event_wait(void) { return swco__loop_run(); }

int swco_event_exit(void)
{
    swco__reactor_t *r = tls_reactor;
    if (!r)
        return swco__fail(-ENOENT);
    r->stop = 1;
    return 0;
}

int swco_event_set_backend(int backend)
{
    if (backend != SWCO_BACKEND_EPOLL && backend != SWCO_BACKEND_POLL)
        return swco__fail(-EINVAL);
    if (tls_reactor)
        return swco__fail(SWCO_ECOSTATE);
    tls_backend = backend;
    return 0;
}

int swco_event_get_backend(void)
{
    return tls_reactor ? tls_reactor->backend : backend_default();
}

double swco_event_now(void)
{
    return (double)(tls_reactor ? tls_reactor->now : swco__now_ms()) / 1000.0;
}

/* -------------------------------------------------------- run and sleep */

int swco_run(swco_fn fn, void *arg)
{
    if (!fn)
        return swco__fail(-EINVAL);
    if (swco__co_current() || (tls_reactor && tls_reactor->running))
        return swco__fail(SWCO_ECOSTATE);
    long cid = swco_coroutine_create(fn, arg);
    if (cid < 0)
        return (int)cid;
    return swco__loop_run();
}

void swco__wait_timeout(long id, void *arg)
{
    swco__waiter_t *w = arg;
    w->timer = 0;
    if (w->cancel)
        w->cancel(w);
    swco__co_wake(w, -ETIMEDOUT);
}

static void sleep_done(long id, void *arg)
{
    swco__waiter_t *w = arg;
    w->timer = 0;
    swco__co_wake(w, 0);
}

static void sleep_cancel(swco__waiter_t *w)
{
    if (w->timer) {
        swco__timer_del(w->timer);
        w->timer = 0;
    }
}

int swco_sleep(double seconds)
{
    if (!(seconds >= 0) || seconds > 1e9)
        return swco__fail(-EINVAL);
    if (!swco__co_current()) {
        struct timespec ts;
        ts.tv_sec = (time_t)seconds;
        ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
        return 0;
    }
    swco__waiter_t w = {.what = "sleep", .cancel = sleep_cancel};
    if (swco_coroutine_is_cancelled())
        return swco__fail(-ECANCELED);
    /* sleep(0) still yields: the timer is due on the next loop turn. */
    long id = swco__timer_add(seconds == 0 ? 0 : swco__seconds_to_ms(seconds), sleep_done, &w);
    if (id < 0)
        return swco__fail((int)id);
    w.timer = id;
    int rc = swco__co_suspend(&w);
    sleep_cancel(&w);
    return rc < 0 ? swco__fail(rc) : 0;
}
