/* epoll backend: level-triggered, one epoll fd per loop. */
#include "reactor_int.h"

#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#define BATCH 256

static uint32_t to_epoll(int events)
{
    return ((events & SWCO_EVENT_READ) ? EPOLLIN | EPOLLRDHUP : 0) |
           ((events & SWCO_EVENT_WRITE) ? EPOLLOUT : 0) |
           ((events & SWCO__EVENT_EDGE) ? EPOLLET : 0);
}

static int ep_init(swco__reactor_t *r)
{
    r->bfd = epoll_create1(EPOLL_CLOEXEC);
    return r->bfd < 0 ? -errno : 0;
}

static void ep_destroy(swco__reactor_t *r)
{
    if (r->bfd >= 0)
        close(r->bfd);
    r->bfd = -1;
}

static int ep_ctl(swco__reactor_t *r, int op, int fd, int events)
{
    struct epoll_event ev = {.events = to_epoll(events), .data.fd = fd};
    return epoll_ctl(r->bfd, op, fd, &ev) == 0 ? 0 : -errno;
}

static int ep_add(swco__reactor_t *r, int fd, int events) { return ep_ctl(r, EPOLL_CTL_ADD, fd, events); }
static int ep_mod(swco__reactor_t *r, int fd, int events) { return ep_ctl(r, EPOLL_CTL_MOD, fd, events); }
static int ep_del(swco__reactor_t *r, int fd) { return ep_ctl(r, EPOLL_CTL_DEL, fd, 0); }

static int ep_poll(swco__reactor_t *r, int timeout_ms)
{
    struct epoll_event evs[BATCH];
    int n = epoll_wait(r->bfd, evs, BATCH, timeout_ms);
    if (n < 0)
        return errno == EINTR ? 0 : -errno;
    for (int i = 0; i < n; i++) {
        uint32_t e = evs[i].events;
        int events = 0;
        if (e & (EPOLLIN | EPOLLRDHUP))
            events |= SWCO_EVENT_READ;
        if (e & EPOLLOUT)
            events |= SWCO_EVENT_WRITE;
        if (e & (EPOLLERR | EPOLLHUP))
            events |= SWCO_EVENT_ERROR | SWCO_EVENT_READ | SWCO_EVENT_WRITE;
        swco__reactor_ready(r, evs[i].data.fd, events);
    }
    return n;
}

const backend_ops_t swco__epoll_ops = {"epoll", 1, ep_init, ep_destroy, ep_add, ep_mod, ep_del, ep_poll};
