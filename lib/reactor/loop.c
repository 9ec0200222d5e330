/* The per-thread event loop.  loop_once() shows one turn's phases in the
 * order they run: poll, signals, defers, timers, fd events, cycle.  The fd
 * registry is fdreg.c, signals signal.c, cross-thread posts post.c, timers
 * timer.c and the backends epoll.c and poll.c. */
#include "reactor_int.h"

#include <stdlib.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <unistd.h>

SWCO__TLS swco__reactor_t *swco__tls_reactor;
static SWCO__TLS int tls_backend = -1;

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

swco__reactor_t *swco__reactor_peek(void) { return swco__tls_reactor; }

/* A forked child gets a fresh loop (and scheduler), as in Swoole: the epoll
 * instance, signalfd, timers and waiting coroutines are the parent's.
 * Close the child's copies of the loop's own fds, give back the signals the
 * loop blocked, and drop the rest (its memory stays as the parent left it). */
static swco__reactor_t *forgotten; /* kept reachable, never used again */

static void forget_after_fork(void)
{
    swco__reactor_t *r = swco__tls_reactor;
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
        swco__tls_reactor = NULL;
    }
}

static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static void atfork_register(void) { pthread_atfork(NULL, NULL, forget_after_fork); }

swco__reactor_t *swco__reactor_get(void)
{
    swco__reactor_t *r = swco__tls_reactor;
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
    swco__tls_reactor = r;
    r->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (r->efd < 0 ||
        swco_event_add(r->efd, SWCO_EVENT_READ | SWCO_EVENT_NOREF,
                                      swco__reactor_wakeup_read, r, NULL) != 0) {
        swco__log(SWCO_LOG_ERROR, "event loop: cannot create its eventfd");
        if (r->efd >= 0)
            close(r->efd);
        r->ops->destroy(r);
        free(r);
        swco__tls_reactor = NULL;
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
    swco__tls_reactor = NULL;
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
        fd_slot_t *s = swco__fd_find(r, e->fd);
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
    swco__signals_run(r);
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

int swco__loop_running(void) { return swco__tls_reactor && swco__tls_reactor->running; }

int swco_event_wait(void) { return swco__loop_run(); }

int swco_event_exit(void)
{
    swco__reactor_t *r = swco__tls_reactor;
    if (!r)
        return swco__fail(-ENOENT);
    r->stop = 1;
    return 0;
}

int swco_event_set_backend(int backend)
{
    if (backend != SWCO_BACKEND_EPOLL && backend != SWCO_BACKEND_POLL)
        return swco__fail(-EINVAL);
    if (swco__tls_reactor)
        return swco__fail(SWCO_ECOSTATE);
    tls_backend = backend;
    return 0;
}

int swco_event_get_backend(void)
{
    return swco__tls_reactor ? swco__tls_reactor->backend : backend_default();
}

double swco_event_now(void)
{
    return (double)(swco__tls_reactor ? swco__tls_reactor->now : swco__now_ms()) / 1000.0;
}
