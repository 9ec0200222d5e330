/* poll(2) backend: the pollfd array is rebuilt from the fd table each turn.
 * Slower with many fds; it exists so the loop can be tested on a second
 * backend (SWCO_BACKEND=poll). */
#include "reactor_int.h"

#include <poll.h>
#include <stdlib.h>

static int pl_init(swco__reactor_t *r) { return 0; }

static void pl_destroy(swco__reactor_t *r)
{
    free(r->bdata);
    r->bdata = NULL;
    r->bcap = 0;
}

/* Interest lives in the fd table; nothing to tell the kernel. */
static int pl_add(swco__reactor_t *r, int fd, int events) { return 0; }
static int pl_mod(swco__reactor_t *r, int fd, int events) { return 0; }
static int pl_del(swco__reactor_t *r, int fd) { return 0; }

static int pl_poll(swco__reactor_t *r, int timeout_ms)
{
    size_t need = (size_t)(r->maxfd + 1);
    if (need > r->bcap) {
        struct pollfd *p = realloc(r->bdata, sizeof *p * need);
        if (!p)
            return -ENOMEM;
        r->bdata = p;
        r->bcap = need;
    }
    struct pollfd *pfd = r->bdata;
    nfds_t n = 0;
    for (int fd = 0; fd <= r->maxfd; fd++) {
        fd_slot_t *s = swco__fd_slot(r, fd);
        if (!s) { /* a chunk never used: skip it */
            fd |= SWCO__FD_CHUNK - 1;
            continue;
        }
        if (!s->registered || !s->in_backend)
            continue;
        pfd[n].fd = fd;
        pfd[n].events = (short)(((s->events & SWCO_EVENT_READ) ? POLLIN : 0) |
                                ((s->events & SWCO_EVENT_WRITE) ? POLLOUT : 0));
        pfd[n].revents = 0;
        n++;
    }
    int rc = poll(pfd, n, timeout_ms);
    if (rc < 0)
        return errno == EINTR ? 0 : -errno;
    for (nfds_t i = 0; i < n && rc > 0; i++) {
        short e = pfd[i].revents;
        if (!e)
            continue;
        int events = 0;
        if (e & POLLIN)
            events |= SWCO_EVENT_READ;
        if (e & POLLOUT)
            events |= SWCO_EVENT_WRITE;
        if (e & (POLLERR | POLLHUP | POLLNVAL))
            events |= SWCO_EVENT_ERROR | SWCO_EVENT_READ | SWCO_EVENT_WRITE;
        swco__reactor_ready(r, pfd[i].fd, events);
    }
    return rc;
}

const backend_ops_t swco__poll_ops = {"poll", 0, pl_init, pl_destroy, pl_add, pl_mod, pl_del, pl_poll};
