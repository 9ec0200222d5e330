/* The loop's fd registry: fds watched with a callback (swco_event_add)
 * and coroutines waiting on an fd (swco__wait_fd_until,
 * swco_event_wait_fd). */
#include "reactor_int.h"

#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

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

fd_slot_t *swco__fd_find(swco__reactor_t *r, int fd)
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
    swco__reactor_t *r = swco__tls_reactor;
    fd_slot_t *s = swco__fd_find(r, fd);
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
    swco__reactor_t *r = swco__tls_reactor;
    fd_slot_t *s = swco__fd_find(r, fd);
    if (!s)
        return swco__fail(-ENOENT);
    if (s->waitmode) {
        /* Waiters on an fd being forgotten (closed) are cancelled. */
        if (s->rd)
            fd_wait_wake(s, &s->rd, -ECANCELED);
        s = swco__fd_find(r, fd);
        if (s && s->waitmode && s->wr)
            fd_wait_wake(s, &s->wr, -ECANCELED);
        s = swco__fd_find(r, fd);
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
    fd_slot_t *s = swco__fd_find(swco__tls_reactor, fd);
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
    swco__reactor_t *r = swco__tls_reactor;
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
    swco__reactor_t *r = swco__tls_reactor;
    fd_slot_t *s = swco__fd_slot(r, fd); /* registered: the loop called us */
    unsigned gen = s->gen;
    int err = events & SWCO_EVENT_ERROR;
    if (events & (SWCO_EVENT_READ | SWCO_EVENT_ERROR)) {
        if (s->rd)
            fd_wait_wake(s, &s->rd, SWCO_EVENT_READ | err);
        else
            s->ready |= SWCO_EVENT_READ;
    }
    s = swco__fd_find(r, fd); /* the woken coroutine may have closed it */
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
    swco__reactor_t *r = swco__tls_reactor;
    fd_waiter_t *fw = SWCO__CONTAINER(w, fd_waiter_t, w);
    fd_slot_t *s = swco__fd_find(r, fw->fd);
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
    swco__reactor_t *r = swco__tls_reactor;
    fd_slot_t *s = swco__fd_find(r, fd);
    if (!s || !s->waitmode)
        return;
    unsigned gen = s->gen;
    swco__waiter_t *wr = s->wr; /* a writer that waits again later is not this one */
    if (s->rd)
        fd_wait_wake(s, &s->rd, -ECANCELED);
    s = swco__fd_find(r, fd); /* the woken coroutine may have closed it */
    if (s && s->gen == gen && s->waitmode && s->wr && s->wr == wr)
        fd_wait_wake(s, &s->wr, -ECANCELED);
}

/* swco__wait_fd_until() outside a coroutine, with SWCO__WAIT_BLOCK: block
 * the thread in poll().  EINTR is an early return (the caller retries). */
static int fd_wait_block(int fd, int dir, swco__deadline_t deadline)
{
    for (;;) {
        int ms = swco__deadline_poll_ms(deadline);
        if (ms == 0)
            return -ETIMEDOUT;
        struct pollfd p = {.fd = fd, .events = dir == SWCO_EVENT_READ ? POLLIN : POLLOUT};
        int n = poll(&p, 1, ms);
        if (n < 0)
            return errno == EINTR ? dir : -errno;
        if (n > 0)
            return dir | ((p.revents & (POLLERR | POLLHUP | POLLNVAL)) ? SWCO_EVENT_ERROR : 0);
        /* nothing within ms: the deadline passed, or ms was capped */
    }
}

/* SWCO__WAIT_ONCE: forget fd when its wait slot has no waiter left. */
static void fd_wait_forget(int fd)
{
    fd_slot_t *s = swco__fd_find(swco__tls_reactor, fd);
    if (s && s->waitmode && !s->rd && !s->wr) {
        int saved = swco_last_error();
        swco_event_del(fd);
        swco_set_last_error(saved);
    }
}

int swco__wait_fd_until(int fd, int events, swco__deadline_t deadline)
{
    int flags = events & (SWCO__WAIT_BLOCK | SWCO__WAIT_ONCE);
    events &= ~flags;
    if (fd < 0)
        return -EBADF;
    if (events != SWCO_EVENT_READ && events != SWCO_EVENT_WRITE)
        return -EINVAL;
    if ((flags & SWCO__WAIT_BLOCK) && !swco__co_current())
        return fd_wait_block(fd, events, deadline);
    swco__reactor_t *r;
    fd_slot_t *s;
    int rc = swco__co_can_wait();
    if (rc == 0)
        rc = slot_acquire(fd, &r, &s);
    if (rc != 0)
        return rc;
    if (s->registered && !s->waitmode)
        return -EEXIST;
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
                return rc;
            }
        }
    }
    if (s->ready & events) {
        s->ready &= ~events;
        if (flags & SWCO__WAIT_ONCE)
            fd_wait_forget(fd);
        return events;
    }
    swco__waiter_t **pw = events == SWCO_EVENT_READ ? &s->rd : &s->wr;
    if (*pw)
        return -EBUSY;
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
            return rc;
        }
    }
    rc = swco__wait_until(&fw.w, deadline);
    /* If the wait failed before it began (deadline passed, or no timer
     * could be had), the slot still holds fw: unregister it.  A no-op after
     * a wake or a cancel. */
    fd_wait_cancel(&fw.w);
    if (flags & SWCO__WAIT_ONCE)
        fd_wait_forget(fd);
    return rc;
}

int swco_event_wait_fd(int fd, int events, double timeout)
{
    /* Only the public event bits: the internal flags are not for users. */
    if (fd >= 0 && events != SWCO_EVENT_READ && events != SWCO_EVENT_WRITE)
        return swco__fail(-EINVAL);
    int rc = swco__wait_fd_until(fd, events, swco__deadline_from_timeout(timeout));
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
