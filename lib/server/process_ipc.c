/* PROCESS mode: the sockets between the master and the workers, the
 * messages on them (chunked, queued, reassembled) and the choice of worker
 * (dispatch_mode).  Nothing here knows about loops or engines, so it is
 * tested on its own (tests/check_server_process.c, unit cases). */
#include "server/process_int.h"

#include <sys/socket.h>
#include <sys/uio.h>
#include <fcntl.h>
#include <unistd.h>

/* ------------------------------------------------------------- sockets */

/* Payload per packet: a packet must fit the sender's buffer whole, and
 * several should fit, so the writer rarely waits for one to go. */
static size_t chunk_for(int fd)
{
    int sb = 0;
    socklen_t sl = sizeof sb;
    size_t chunk = 64 * 1024;
    if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sb, &sl) == 0 && sb > 0) {
        size_t quarter = (size_t)sb / 4;
        if (quarter < chunk)
            chunk = quarter;
    }
    if (chunk < 1024 + sizeof(swco__pmsg_hdr_t))
        chunk = 1024 + sizeof(swco__pmsg_hdr_t);
    return chunk - sizeof(swco__pmsg_hdr_t);
}

static int make_pair(int sv[2], size_t sockbuf)
{
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
        return -errno;
    int sz = sockbuf > (size_t)(1 << 30) ? 1 << 30 : (int)sockbuf;
    if (sz > 0) {
        for (int i = 0; i < 2; i++) {
            /* The kernel caps these at wmem_max / rmem_max: best effort. */
            (void)setsockopt(sv[i], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
            (void)setsockopt(sv[i], SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
        }
    }
    return 0;
}

swco__proc_shared_t *swco__proc_shared_new(int nworkers, int ntask, int nreactors,
                                           size_t sockbuf, int *err)
{
    *err = -EINVAL;
    if (nworkers < 1 || nreactors < 1 || ntask < 0 || nworkers + ntask > 32767 ||
        nreactors > 32767)
        return NULL;
    *err = -ENOMEM;
    swco__proc_shared_t *ps = calloc(1, sizeof *ps);
    if (!ps)
        return NULL;
    size_t n = (size_t)(nworkers + ntask) * (size_t)nreactors;
    ps->nworkers = nworkers;
    ps->nsenders = nworkers + ntask;
    ps->nreactors = nreactors;
    ps->sockbuf = sockbuf;
    ps->ev_m = malloc(n * sizeof(int));
    ps->ev_w = malloc(n * sizeof(int));
    ps->rq_m = malloc(n * sizeof(int));
    ps->rq_w = malloc(n * sizeof(int));
    ps->cnt_size = sizeof(swco__proc_counters_t) + (size_t)nworkers * sizeof ps->cnt->w[0];
    void *m = mmap(NULL, ps->cnt_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ps->cnt = m == MAP_FAILED ? NULL : m;
    if (!ps->ev_m || !ps->ev_w || !ps->rq_m || !ps->rq_w || !ps->cnt) {
        swco__proc_shared_free(ps);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        ps->ev_m[i] = ps->ev_w[i] = ps->rq_m[i] = ps->rq_w[i] = -1;
    for (size_t i = 0; i < n; i++) {
        /* task workers only send requests: no event socket */
        int a[2] = {-1, -1}, b[2];
        int rc = i / (size_t)nreactors < (size_t)nworkers ? make_pair(a, sockbuf) : 0;
        if (rc == 0 && (rc = make_pair(b, sockbuf)) != 0 && a[0] >= 0) {
            close(a[0]);
            close(a[1]);
        }
        if (rc) {
            *err = rc;
            swco__proc_shared_free(ps);
            return NULL;
        }
        ps->ev_m[i] = a[0];
        ps->ev_w[i] = a[1];
        ps->rq_m[i] = b[0];
        ps->rq_w[i] = b[1];
    }
    ps->chunk = chunk_for(ps->rq_m[0]);
    *err = 0;
    return ps;
}

static void close_all(int *fds, size_t n)
{
    for (size_t i = 0; fds && i < n; i++) {
        if (fds[i] >= 0)
            close(fds[i]);
        fds[i] = -1;
    }
}

void swco__proc_shared_close(swco__proc_shared_t *ps, int master)
{
    size_t n = (size_t)ps->nsenders * (size_t)ps->nreactors;
    close_all(master ? ps->ev_m : ps->ev_w, n);
    close_all(master ? ps->rq_m : ps->rq_w, n);
}

/* Move the master's ends down into the lowest free descriptors, in order.
 * The pairs were made interleaved (master end, worker end, ...), so once
 * the master closed the workers' ends every other descriptor would be a
 * hole, and the connections accepted next would fill them all with one
 * parity: fd mod would send them all to the same worker. */
void swco__proc_shared_compact(swco__proc_shared_t *ps)
{
    size_t n = (size_t)ps->nsenders * (size_t)ps->nreactors;
    /* Ascending order: each goes to the lowest hole below it, if any. */
    int last = -1;
    for (;;) {
        int *next = NULL;
        for (size_t i = 0; i < 2 * n; i++) {
            int *p = i < n ? &ps->ev_m[i] : &ps->rq_m[i - n];
            if (*p > last && (!next || *p < *next))
                next = p;
        }
        if (!next)
            break;
        int nfd = fcntl(*next, F_DUPFD_CLOEXEC, 0);
        if (nfd >= 0 && nfd < *next) {
            close(*next);
            *next = nfd;
        } else if (nfd >= 0) {
            close(nfd);
        }
        last = *next;
    }
}

void swco__proc_shared_free(swco__proc_shared_t *ps)
{
    if (!ps)
        return;
    swco__proc_shared_close(ps, 1);
    swco__proc_shared_close(ps, 0);
    free(ps->ev_m);
    free(ps->ev_w);
    free(ps->rq_m);
    free(ps->rq_w);
    if (ps->cnt)
        munmap(ps->cnt, ps->cnt_size);
    free(ps);
}

/* -------------------------------------------------------------- outbox */

void swco__outbox_init(swco__outbox_t *o, int fd, size_t chunk)
{
    memset(o, 0, sizeof *o);
    o->fd = fd;
    o->chunk = chunk ? chunk : 1024;
}

/* One packet straight to the socket: 1 sent, 0 full, -errno. */
static int put_packet(int fd, const swco__pmsg_hdr_t *h, const char *data, size_t len)
{
    struct iovec iov[2] = {{(void *)h, sizeof *h}, {(void *)data, len}};
    struct msghdr mh = {.msg_iov = iov, .msg_iovlen = len ? 2 : 1};
    for (;;) {
        ssize_t n = sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n >= 0)
            return 1;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
            return 0;
        return -errno;
    }
}

int swco__outbox_send(swco__outbox_t *o, const swco__pmsg_hdr_t *h, const void *data,
                      size_t len)
{
    swco__pmsg_hdr_t ph = *h;
    const char *p = data;
    size_t off = 0;
    ph.seq = ++o->seq;
    if (ph.seq == 0)
        ph.seq = ++o->seq;
    ph.total = len;
    /* Straight to the socket while nothing waits before us. */
    while (!o->head) {
        size_t n = len - off < o->chunk ? len - off : o->chunk;
        ph.flags = (off == 0 ? SWCO__PMF_FIRST : 0) | (off + n == len ? SWCO__PMF_LAST : 0);
        int rc = put_packet(o->fd, &ph, p + off, n);
        if (rc < 0)
            return rc;
        if (rc == 0)
            break;
        off += n;
        if (off == len)
            return 0;
    }
    /* The rest goes to the queue, built apart and linked at once, so a
     * failed allocation leaves no half message queued (the packets already
     * sent are dropped by the reader when no LAST follows). */
    swco__pbuf_t *first = NULL, *last = NULL;
    size_t bytes = 0;
    long packets = 0;
    do {
        size_t n = len - off < o->chunk ? len - off : o->chunk;
        ph.flags = (off == 0 ? SWCO__PMF_FIRST : 0) | (off + n == len ? SWCO__PMF_LAST : 0);
        swco__pbuf_t *b = malloc(sizeof *b + sizeof ph + n);
        if (!b) {
            while (first) {
                swco__pbuf_t *next = first->next;
                free(first);
                first = next;
            }
            return -ENOMEM;
        }
        b->next = NULL;
        b->len = sizeof ph + n;
        memcpy(b->data, &ph, sizeof ph);
        if (n)
            memcpy(b->data + sizeof ph, p + off, n);
        if (last)
            last->next = b;
        else
            first = b;
        last = b;
        bytes += b->len;
        packets++;
        off += n;
    } while (off < len);
    if (o->tail)
        o->tail->next = first;
    else
        o->head = first;
    o->tail = last;
    o->bytes += bytes;
    o->packets += packets;
    return 0;
}

int swco__outbox_flush(swco__outbox_t *o)
{
    while (o->head) {
        swco__pbuf_t *b = o->head;
        ssize_t n = send(o->fd, b->data, b->len, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
                return 0;
            int rc = -errno;
            swco__outbox_clear(o);
            return rc;
        }
        o->head = b->next;
        if (!o->head)
            o->tail = NULL;
        o->bytes -= b->len;
        o->packets--;
        free(b);
    }
    return 1;
}

void swco__outbox_clear(swco__outbox_t *o)
{
    while (o->head) {
        swco__pbuf_t *next = o->head->next;
        free(o->head);
        o->head = next;
    }
    o->tail = NULL;
    o->bytes = 0;
    o->packets = 0;
}

/* ---------------------------------------------------------- reassembly */

static void reasm_drop(swco__reasm_t *r)
{
    if (r->active)
        r->dropped++;
    r->active = 0;
    r->len = 0;
}

int swco__reasm_feed(swco__reasm_t *r, const char *pkt, size_t n, swco__pmsg_hdr_t *h,
                     const char **data, size_t *len)
{
    swco__pmsg_hdr_t ph;
    if (n < sizeof ph) {
        r->dropped++;
        return 0;
    }
    memcpy(&ph, pkt, sizeof ph);
    const char *body = pkt + sizeof ph;
    size_t blen = n - sizeof ph;
    int first = (ph.flags & SWCO__PMF_FIRST) != 0, last = (ph.flags & SWCO__PMF_LAST) != 0;
    if (first && last) {
        /* A whole message in one packet: handed out in place.  It leaves a
         * message in progress alone only if its writer could interleave
         * (it cannot here: one writer per socket), so a stray one ends it. */
        if (blen != ph.total) {
            r->dropped++;
            return 0;
        }
        reasm_drop(r);
        *h = ph;
        *data = body;
        *len = blen;
        return 1;
    }
    if (first) {
        reasm_drop(r); /* the writer of the one in progress gave up on it */
        if (ph.total > SWCO__PMSG_MAX || blen > ph.total) {
            r->dropped++;
            return 0;
        }
        if (r->cap < ph.total) {
            /* Grown to the whole message at once: its size is known. */
            char *nb = malloc(ph.total);
            if (!nb) {
                r->dropped++;
                return 0;
            }
            free(r->buf);
            r->buf = nb;
            r->cap = ph.total;
        }
        r->active = 1;
        r->hdr = ph;
        memcpy(r->buf, body, blen);
        r->len = blen;
        return 0;
    }
    /* A later chunk: must continue the message in progress. */
    if (!r->active || ph.seq != r->hdr.seq || ph.type != r->hdr.type || ph.total != r->hdr.total ||
        r->len + blen > r->hdr.total || (last && r->len + blen != r->hdr.total)) {
        reasm_drop(r);
        r->dropped++;
        return 0;
    }
    memcpy(r->buf + r->len, body, blen);
    r->len += blen;
    if (!last)
        return 0;
    r->active = 0;
    *h = r->hdr;
    *data = r->buf;
    *len = r->len;
    return 1;
}

void swco__reasm_free(swco__reasm_t *r)
{
    free(r->buf);
    r->buf = NULL;
    r->cap = r->len = 0;
    r->active = 0;
}

/* ------------------------------------------------------------ dispatch */

int swco__proc_conn_events(const swco_server_t *srv)
{
    if (srv->cb[SWCO__CB_DISPATCH].fn)
        return 1;
    return srv->opt.dispatch_mode != SWCO_DISPATCH_ROUND_ROBIN &&
           srv->opt.dispatch_mode != SWCO_DISPATCH_IDLE_WORKER;
}

int swco__proc_pinned(const swco_server_t *srv, const swco__conn_t *c)
{
    return c && c->listener < srv->nlisteners && srv->listeners &&
           srv->listeners[c->listener] && srv->listeners[c->listener]->proto;
}

int swco__proc_conn_events_of(const swco_server_t *srv, const swco__conn_t *c)
{
    return swco__proc_conn_events(srv) || swco__proc_pinned(srv, c);
}

static int round_robin(swco__proc_shared_t *ps)
{
    uint64_t n = __atomic_fetch_add(&ps->cnt->rr, 1, __ATOMIC_RELAXED);
    return (int)(n % (uint64_t)ps->nworkers);
}

/* The worker with the least work: events queued to it and not yet read,
 * plus its handlers running (the busy figure in shm).  Among workers with
 * nothing, round robin, so an idle server spreads its requests; among
 * equally loaded ones, the one that took an event most recently: a
 * handler that is only finishing looks as busy as one that is stuck, but
 * the stuck one's worker has not read anything since. */
static int idle_worker(swco_server_t *srv, swco__proc_shared_t *ps)
{
    int start = round_robin(ps), best = start;
    long long best_load = -1;
    uint64_t best_progress = 0;
    for (int i = 0; i < ps->nworkers; i++) {
        int w = (start + i) % ps->nworkers;
        uint64_t sent = __atomic_load_n(&ps->cnt->w[w].dispatched, __ATOMIC_RELAXED);
        uint64_t taken = __atomic_load_n(&ps->cnt->w[w].taken, __ATOMIC_RELAXED);
        if (taken != __atomic_load_n(&ps->cnt->w[w].seen, __ATOMIC_RELAXED)) {
            __atomic_store_n(&ps->cnt->w[w].seen, taken, __ATOMIC_RELAXED);
            __atomic_store_n(&ps->cnt->w[w].progress,
                             __atomic_add_fetch(&ps->cnt->clock, 1, __ATOMIC_RELAXED),
                             __ATOMIC_RELAXED);
        }
        uint64_t progress = __atomic_load_n(&ps->cnt->w[w].progress, __ATOMIC_RELAXED);
        long long load = sent > taken ? (long long)(sent - taken) : 0;
        if (srv->shm) {
            int32_t busy = __atomic_load_n(&srv->shm->workers[w].busy, __ATOMIC_RELAXED);
            if (busy > 0)
                load += busy;
        }
        if (best_load < 0 || load < best_load || (load == best_load && progress > best_progress)) {
            best = w;
            best_load = load;
            best_progress = progress;
        }
        if (best_load == 0)
            break;
    }
    return best;
}

static uint32_t hash_text(const char *s, uint32_t extra)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    h = (h ^ extra) * 16777619u;
    return h;
}

int swco__proc_pick(swco_server_t *srv, swco__proc_shared_t *ps, swco__conn_t *c, long long id,
                    int event, const char *data, size_t len)
{
    int n = ps->nworkers, w = -1;
    int fd = c->fd >= 0 ? c->fd : (int)(id & (SWCO__CONN_FD_MAX - 1));
    if (event != SWCO_SERVER_EV_CONNECT && c->worker_id >= 0 && c->worker_id < n &&
        swco__proc_pinned(srv, c))
        return c->worker_id;
    const swco__srv_cb_t *cb = &srv->cb[SWCO__CB_DISPATCH];
    if (cb->fn) {
        w = ((swco_server_dispatch_fn)cb->fn)(srv, id, event, data, len, cb->arg);
        if (w < 0 || w >= n)
            w = fd % n;
    } else {
        switch (srv->opt.dispatch_mode) {
        case SWCO_DISPATCH_ROUND_ROBIN:
            w = round_robin(ps);
            break;
        case SWCO_DISPATCH_IDLE_WORKER:
            w = idle_worker(srv, ps);
            break;
        case SWCO_DISPATCH_IP_MOD:
            w = c->addr[0] && c->port > 0 ? (int)(hash_text(c->addr, 0) % (uint32_t)n) : fd % n;
            break;
        case SWCO_DISPATCH_UID_MOD:
            w = c->uid > 0 ? (int)(c->uid % n) : fd % n;
            break;
        default: /* FD_MOD */
            w = fd % n;
            break;
        }
    }
    c->worker_id = (int16_t)w;
    return w;
}

int swco__proc_pick_packet(swco_server_t *srv, swco__proc_shared_t *ps, const char *addr,
                           int port)
{
    switch (srv->opt.dispatch_mode) {
    case SWCO_DISPATCH_ROUND_ROBIN:
        return round_robin(ps);
    case SWCO_DISPATCH_IDLE_WORKER:
        return idle_worker(srv, ps);
    default: /* a client's datagrams to one worker */
        return (int)(hash_text(addr ? addr : "", (uint32_t)port) % (uint32_t)ps->nworkers);
    }
}
