/* Coroutine sockets: non-blocking calls that wait on the loop when they
 * would block, Swoole's three-level timeouts, and a read-ahead buffer for
 * packet framing.  TLS sockets route their bytes through ssl.c. */
#include "io/io_int.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define READ_CHUNK 65536
#define DEFAULT_MAX_PACKET (2u * 1024 * 1024)

/* Global defaults: connect, read, write. */
static double default_timeout[3] = {1.0, -1, -1};

static int kind_index(int kind)
{
    switch (kind) {
    case SWCO_TIMEOUT_CONNECT:
        return 0;
    case SWCO_TIMEOUT_READ:
        return 1;
    case SWCO_TIMEOUT_WRITE:
        return 2;
    default:
        return -1;
    }
}

static double effective(const swco_socket_t *s, int idx, double call)
{
    if (call != 0)
        return call;
    if (s->timeout[idx] != 0)
        return s->timeout[idx];
    return default_timeout[idx];
}

int swco__sock_wait(swco_socket_t *s, int events, swco__deadline_t deadline)
{
    int rc = swco__wait_fd_until(s->fd, events, deadline);
    if (s->fd < 0)
        return -ECANCELED; /* closed by another coroutine while we waited */
    return rc < 0 ? rc : 0;
}

/* ------------------------------------------------------------ lifecycle */

static swco_socket_t *sock_alloc(int fd, int domain, int type)
{
    swco_socket_t *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->fd = fd;
    s->domain = domain;
    s->type = type;
    s->frame.max_len = DEFAULT_MAX_PACKET;
    return s;
}

swco_socket_t *swco_socket_new(int domain, int type, int protocol)
{
    if (domain != AF_INET && domain != AF_INET6 && domain != AF_UNIX) {
        swco__fail(-EAFNOSUPPORT);
        return NULL;
    }
    int fd = socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
    if (fd < 0) {
        swco__fail(-errno);
        return NULL;
    }
    swco_socket_t *s = sock_alloc(fd, domain, type);
    if (!s) {
        close(fd);
        swco__fail(-ENOMEM);
    }
    return s;
}

swco_socket_t *swco_socket_new_fd(int fd)
{
    int domain = 0, type = 0;
    socklen_t l = sizeof domain;
    if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &l) != 0) {
        swco__fail(-EBADF);
        return NULL;
    }
    l = sizeof type;
    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &l);
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0 && !(fl & O_NONBLOCK))
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    swco_socket_t *s = sock_alloc(fd, domain, type);
    if (!s)
        swco__fail(-ENOMEM);
    return s;
}

static void sock_destroy(swco_socket_t *s)
{
    if (s->ssl_ctx)
        swco__ssl_ctx_unref(s->ssl_ctx);
    free(s->ssl_host);
    free(s->ssl_key);
    free(s->rbuf);
    free(s);
}

void swco__sock_hold(swco_socket_t *s) { s->calls++; }

int swco__sock_release(swco_socket_t *s)
{
    if (--s->calls > 0 || !s->freed)
        return 0;
    sock_destroy(s);
    return 1;
}

/* Wake the coroutines inside a name lookup for s with -ECANCELED.  Each
 * runs before the next is taken, and may unlink others (their lookups
 * ended) or begin a new lookup (after a cancel), which this wake leaves
 * alone; the caller holds s. */
static void wake_lookups(swco_socket_t *s)
{
    unsigned gen = ++s->lookup_gen;
    for (;;) {
        swco__sock_lookup_t **pl = &s->lookups, *l;
        while ((l = *pl) != NULL && l->gen == gen)
            pl = &l->next;
        if (!l)
            return;
        *pl = l->next;
        l->next = NULL;
        l->woken = 1;
        swco__waiter_t *w = l->co->waiter; /* the AIO job's wait */
        if (w) {
            if (w->cancel)
                w->cancel(w);
            swco__co_wake(w, -ECANCELED);
        }
    }
}

int swco_socket_close(swco_socket_t *s)
{
    if (!s)
        return swco__fail(-EINVAL);
    if (s->fd < 0)
        return swco__fail(SWCO_ECLOSED);
    int fd = s->fd;
    s->fd = -1; /* waiters see it when they wake */
    if (s->ssl)
        swco__ssl_detach(s);
    s->rlen = s->roff = s->pkt_len = s->scanned = 0;
    /* Wake waiters with -ECANCELED: on the fd, then in a name lookup.  They
     * run before this returns and may free s: the hold keeps the memory
     * until this call is done with it. */
    swco__sock_hold(s);
    swco_event_del(fd);
    wake_lookups(s);
    close(fd);
    swco__sock_release(s);
    return 0;
}

void swco_socket_free(swco_socket_t *s)
{
    if (!s || s->freed)
        return;
    s->freed = 1;
    swco__sock_hold(s);
    if (s->fd >= 0)
        swco_socket_close(s);
    /* Released now, or by the last call still using s (the one whose wake
     * led here, e.g. recv_packet closing on a bad packet). */
    swco__sock_release(s);
}

int swco_socket_fd(const swco_socket_t *s)
{
    if (!s)
        return swco__fail(-EINVAL);
    return s->fd >= 0 ? s->fd : swco__fail(SWCO_ECLOSED);
}

int swco_socket_cancel(swco_socket_t *s)
{
    if (!s)
        return swco__fail(-EINVAL);
    if (s->fd < 0)
        return swco__fail(SWCO_ECLOSED);
    swco__sock_hold(s);
    swco__fd_cancel_waits(s->fd); /* not swco_event_del(): a new wait must stay */
    wake_lookups(s);
    swco__sock_release(s);
    return 0;
}

/* ------------------------------------------------------------ addresses */

static int unix_addr(swco__addr_t *a, const char *path)
{
    struct sockaddr_un *un = (struct sockaddr_un *)&a->ss;
    memset(a, 0, sizeof *a);
    size_t n = path ? strlen(path) : 0;
    if (n == 0 || n >= sizeof un->sun_path)
        return -EINVAL;
    un->sun_family = AF_UNIX;
    memcpy(un->sun_path, path, n);
    a->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
    a->family = AF_UNIX;
    return 0;
}

/* Resolve host:port for s (names through the AIO pool).  Only a local
 * address (bind) may be "" or "*" for any address.  The caller holds s;
 * close, cancel and free wake a lookup with -ECANCELED. */
static int sock_resolve(swco_socket_t *s, swco__addr_t *a, const char *host, int port,
                        double timeout, int local)
{
    if (s->domain == AF_UNIX)
        return unix_addr(a, host);
    if (port < 0 || port > 65535)
        return -EINVAL;
    if (!host || !*host || strcmp(host, "*") == 0) {
        if (!local)
            return -EINVAL;
        host = s->domain == AF_INET6 ? "::" : "0.0.0.0";
    }
    if (swco__addr_numeric(a, host, port, s->domain) == 0)
        return 0;
    swco__sock_lookup_t me = {.next = s->lookups, .co = swco__co_current(), .gen = s->lookup_gen};
    if (me.co)
        s->lookups = &me;
    swco_addrinfo_t *ai = swco_dns_getaddrinfo(host, NULL, s->domain, s->type, timeout);
    if (me.co && !me.woken) {
        swco__sock_lookup_t **pl = &s->lookups;
        while (*pl != &me)
            pl = &(*pl)->next;
        *pl = me.next;
    }
    if (me.woken || s->fd < 0) {
        swco_addrinfo_free(ai);
        return -ECANCELED;
    }
    if (!ai)
        return swco_last_error();
    *a = ai->addrs[0];
    swco_addrinfo_free(ai);
    if (a->family == AF_INET)
        ((struct sockaddr_in *)&a->ss)->sin_port = htons((uint16_t)port);
    else
        ((struct sockaddr_in6 *)&a->ss)->sin6_port = htons((uint16_t)port);
    a->port = port;
    return 0;
}

static void addr_out(const struct sockaddr_storage *ss, socklen_t len, char *addr, size_t addr_len,
                     int *port)
{
    swco__addr_t a = {0};
    memcpy(&a.ss, ss, len < sizeof a.ss ? len : sizeof a.ss);
    a.len = len;
    const char *text = "";
    if (ss->ss_family == AF_UNIX) {
        const struct sockaddr_un *un = (const struct sockaddr_un *)ss;
        if (len > offsetof(struct sockaddr_un, sun_path))
            text = un->sun_path; /* NUL-terminated by recvfrom's room */
        a.port = 0;
    } else {
        swco__addr_describe(&a);
        text = a.text;
    }
    if (addr && addr_len) {
        size_t n = strnlen(text, addr_len - 1);
        memcpy(addr, text, n);
        addr[n] = 0;
    }
    if (port)
        *port = a.port;
}

/* getsockname or getpeername into the caller's text address and port. */
static int socket_name(swco_socket_t *s, int (*get)(int, struct sockaddr *, socklen_t *),
                       char *addr, size_t addr_len, int *port)
{
    if (!s)
        return swco__fail(-EINVAL);
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t len = sizeof ss - 1;
    if (s->fd < 0)
        return swco__fail(SWCO_ECLOSED);
    if (get(s->fd, (struct sockaddr *)&ss, &len) != 0)
        return swco__fail(-errno);
    addr_out(&ss, len, addr, addr_len, port);
    return 0;
}

int swco_socket_getsockname(swco_socket_t *s, char *addr, size_t addr_len, int *port)
{
    return socket_name(s, getsockname, addr, addr_len, port);
}

int swco_socket_getpeername(swco_socket_t *s, char *addr, size_t addr_len, int *port)
{
    return socket_name(s, getpeername, addr, addr_len, port);
}

/* ------------------------------------------------------- connection setup */

int swco_socket_bind(swco_socket_t *s, const char *host, int port)
{
    if (!s)
        return swco__fail(-EINVAL);
    if (s->fd < 0)
        return swco__fail(SWCO_ECLOSED);
    swco__addr_t a;
    swco__sock_hold(s);
    int rc = sock_resolve(s, &a, host, port, -1, 1);
    if (rc == 0 && bind(s->fd, (struct sockaddr *)&a.ss, a.len) != 0)
        rc = -errno;
    swco__sock_release(s);
    return rc ? swco__fail(rc) : 0;
}

int swco_socket_listen(swco_socket_t *s, int backlog)
{
    if (!s)
        return swco__fail(-EINVAL);
    if (s->fd < 0)
        return swco__fail(SWCO_ECLOSED);
    if (s->ssl_ctx && !s->ssl_server) /* accepted sockets would be TLS servers */
        return swco__fail(-EINVAL);
    if (listen(s->fd, backlog > 0 ? backlog : 512) != 0)
        return swco__fail(-errno);
    return 0;
}

int swco_socket_connect(swco_socket_t *s, const char *host, int port, double timeout)
{
    if (!s || !host)
        return swco__fail(-EINVAL);
    if (s->fd < 0)
        return swco__fail(SWCO_ECLOSED);
    if (s->ssl_ctx && s->ssl_server) /* not plaintext in TLS's place */
        return swco__fail(-EINVAL);
    double t = effective(s, 0, timeout);
    swco__deadline_t deadline = swco__deadline_from_timeout(t);
    swco__addr_t a;
    swco__sock_hold(s);
    int rc = sock_resolve(s, &a, host, port, t, 0);
    if (rc == 0 && s->writing)
        rc = -EBUSY;
    if (rc != 0) {
        swco__sock_release(s);
        return swco__fail(rc);
    }
    s->writing = 1;
    while (connect(s->fd, (struct sockaddr *)&a.ss, a.len) != 0) {
        if (errno == EINTR)
            continue;
        if (errno != EINPROGRESS && errno != EAGAIN) {
            rc = -errno;
            break;
        }
        rc = swco__sock_wait(s, SWCO_EVENT_WRITE, deadline);
        if (rc == 0) {
            int err = 0;
            socklen_t l = sizeof err;
            getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &l);
            rc = -err;
        }
        break;
    }
    s->writing = 0;
    if (rc == 0 && s->ssl_ctx && !s->ssl_server) {
        if (!s->ssl_host && s->domain != AF_UNIX)
            s->ssl_host = strdup(host);
        free(s->ssl_key);
        s->ssl_key = malloc(strlen(host) + 16);
        if (s->ssl_key)
            sprintf(s->ssl_key, "%s:%d", host, port);
        rc = swco__ssl_attach(s, s->ssl_ctx, 0);
        if (rc == 0)
            rc = swco__ssl_handshake(s, deadline);
    }
    swco__sock_release(s);
    return rc ? swco__fail(rc) : 0;
}

swco_socket_t *swco_socket_accept(swco_socket_t *s, double timeout)
{
    int rc;
    if (!s) {
        swco__fail(-EINVAL);
        return NULL;
    }
    if (s->fd < 0) {
        swco__fail(SWCO_ECLOSED);
        return NULL;
    }
    if (s->reading) {
        swco__fail(-EBUSY);
        return NULL;
    }
    swco__deadline_t deadline = swco__deadline_from_timeout(effective(s, 1, timeout));
    s->reading = 1;
    swco__sock_hold(s);
    int fd;
    for (;;) {
        fd = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0)
            break;
        if (errno == EINTR || errno == ECONNABORTED)
            continue;
        if (errno != EAGAIN) {
            rc = -errno;
            goto fail;
        }
        rc = swco__sock_wait(s, SWCO_EVENT_READ, deadline);
        if (rc != 0)
            goto fail;
    }
    s->reading = 0;
    swco_socket_t *c = sock_alloc(fd, s->domain, s->type);
    if (!c) {
        close(fd);
        rc = -ENOMEM;
        goto fail_released;
    }
    memcpy(c->timeout, s->timeout, sizeof c->timeout);
    c->frame = s->frame;
    if (s->ssl_ctx) {
        c->ssl_ctx = s->ssl_ctx;
        swco__ssl_ctx_ref(c->ssl_ctx);
        c->ssl_server = 1;
        if ((rc = swco__ssl_attach(c, c->ssl_ctx, 1)) != 0) {
            swco_socket_free(c);
            goto fail_released;
        }
    }
    swco__sock_release(s);
    return c;
fail:
    s->reading = 0;
fail_released:
    swco__sock_release(s);
    swco__fail(rc);
    return NULL;
}

/* ----------------------------------------------------------- raw bytes */

/* Read once, waiting as needed: bytes, 0 at EOF, or a negative code. */
static long raw_recv(swco_socket_t *s, void *buf, size_t len, swco__deadline_t deadline)
{
    for (;;) {
        if (s->fd < 0)
            return SWCO_ECLOSED;
        long n;
        int want = SWCO_EVENT_READ;
        if (s->ssl) {
            n = swco__ssl_read(s, buf, len, &want);
        } else {
            n = recv(s->fd, buf, len, 0);
            if (n < 0)
                n = errno == EWOULDBLOCK ? -EAGAIN : -errno;
        }
        if (n >= 0)
            return n;
        if (n == -EINTR)
            continue;
        if (n != -EAGAIN)
            return n;
        int rc = swco__sock_wait(s, want, deadline);
        if (rc != 0)
            return rc;
    }
}

static long raw_send(swco_socket_t *s, const void *buf, size_t len, swco__deadline_t deadline)
{
    for (;;) {
        if (s->fd < 0)
            return SWCO_ECLOSED;
        long n;
        int want = SWCO_EVENT_WRITE;
        if (s->ssl) {
            n = swco__ssl_write(s, buf, len, &want);
        } else {
            n = send(s->fd, buf, len, MSG_NOSIGNAL);
            if (n < 0)
                n = errno == EWOULDBLOCK ? -EAGAIN : -errno;
        }
        if (n >= 0)
            return n;
        if (n == -EINTR)
            continue;
        if (n != -EAGAIN)
            return n;
        int rc = swco__sock_wait(s, want, deadline);
        if (rc != 0)
            return rc;
    }
}

static int begin(swco_socket_t *s, int *flag)
{
    if (!s)
        return -EINVAL;
    if (s->fd < 0)
        return SWCO_ECLOSED;
    if (*flag)
        return -EBUSY;
    *flag = 1;
    swco__sock_hold(s);
    return 0;
}

/* Leave a call begun by begin(): s may be released here, so the caller
 * touches nothing of s after. */
static long end(swco_socket_t *s, int *flag, long rc)
{
    *flag = 0;
    swco__sock_release(s);
    return rc < 0 ? swco__fail((int)rc) : rc;
}

/* Drop the packet handed out by the last recv_packet. */
static void consume_packet(swco_socket_t *s)
{
    if (s->pkt_len) {
        s->roff += s->pkt_len;
        s->rlen -= s->pkt_len;
        s->pkt_len = 0;
    }
    if (s->rlen == 0)
        s->roff = 0;
}

/* Take up to len read-ahead bytes. */
static size_t take_buffered(swco_socket_t *s, void *buf, size_t len)
{
    consume_packet(s);
    size_t n = s->rlen < len ? s->rlen : len;
    if (n) {
        memcpy(buf, s->rbuf + s->roff, n);
        s->roff += n;
        s->rlen -= n;
        s->scanned = 0;
        if (s->rlen == 0)
            s->roff = 0;
    }
    return n;
}

/* ---------------------------------------------------------- send / recv */

long swco_socket_send(swco_socket_t *s, const void *data, size_t len, double timeout)
{
    int rc = begin(s, s ? &s->writing : NULL);
    if (rc)
        return swco__fail(rc);
    if (!data && len)
        return end(s, &s->writing, -EINVAL);
    return end(s, &s->writing, raw_send(s, data, len, swco__deadline_from_timeout(effective(s, 2, timeout))));
}

long swco_socket_send_all(swco_socket_t *s, const void *data, size_t len, double timeout)
{
    int rc = begin(s, s ? &s->writing : NULL);
    if (rc)
        return swco__fail(rc);
    if (!data && len)
        return end(s, &s->writing, -EINVAL);
    swco__deadline_t deadline = swco__deadline_from_timeout(effective(s, 2, timeout));
    size_t done = 0;
    while (done < len) {
        long n = raw_send(s, (const char *)data + done, len - done, deadline);
        if (n < 0)
            return end(s, &s->writing, n);
        done += (size_t)n;
    }
    return end(s, &s->writing, (long)done);
}

long swco_socket_recv(swco_socket_t *s, void *buf, size_t len, double timeout)
{
    int rc = begin(s, s ? &s->reading : NULL);
    if (rc)
        return swco__fail(rc);
    if (!buf && len)
        return end(s, &s->reading, -EINVAL);
    size_t n = take_buffered(s, buf, len);
    if (n || len == 0)
        return end(s, &s->reading, (long)n);
    return end(s, &s->reading, raw_recv(s, buf, len, swco__deadline_from_timeout(effective(s, 1, timeout))));
}

/* Keep bytes a failed recv_all already took, for the next read. */
static void unread(swco_socket_t *s, const void *data, size_t len)
{
    if (len == 0 || s->fd < 0)
        return;
    char *b = malloc(len > READ_CHUNK ? len : READ_CHUNK);
    if (!b)
        return;
    memcpy(b, data, len);
    free(s->rbuf);
    s->rbuf = b;
    s->rcap = len > READ_CHUNK ? len : READ_CHUNK;
    s->roff = 0;
    s->rlen = len;
    s->scanned = 0;
}

long swco_socket_recv_all(swco_socket_t *s, void *buf, size_t len, double timeout)
{
    int rc = begin(s, s ? &s->reading : NULL);
    if (rc)
        return swco__fail(rc);
    if (!buf && len)
        return end(s, &s->reading, -EINVAL);
    swco__deadline_t deadline = swco__deadline_from_timeout(effective(s, 1, timeout));
    size_t done = take_buffered(s, buf, len);
    while (done < len) {
        long n = raw_recv(s, (char *)buf + done, len - done, deadline);
        if (n == 0)
            break;
        if (n < 0) {
            unread(s, buf, done); /* the buffer was drained: nothing is ahead */
            return end(s, &s->reading, n);
        }
        done += (size_t)n;
    }
    return end(s, &s->reading, (long)done);
}

long swco_socket_peek(swco_socket_t *s, void *buf, size_t len)
{
    if (!s || (!buf && len))
        return swco__fail(-EINVAL);
    if (s->fd < 0)
        return swco__fail(SWCO_ECLOSED);
    consume_packet(s);
    if (s->rlen) {
        size_t n = s->rlen < len ? s->rlen : len;
        memcpy(buf, s->rbuf + s->roff, n);
        return (long)n;
    }
    if (s->ssl) {
        long n = swco__ssl_peek(s, buf, len);
        return n < 0 ? swco__fail((int)n) : n;
    }
    ssize_t n;
    do
        n = recv(s->fd, buf, len, MSG_PEEK | MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return swco__fail(errno == EWOULDBLOCK ? -EAGAIN : -errno);
    return (long)n;
}

long swco_socket_sendto(swco_socket_t *s, const char *host, int port, const void *data, size_t len,
                        double timeout)
{
    int rc = begin(s, s ? &s->writing : NULL);
    if (rc)
        return swco__fail(rc);
    if (!host || (!data && len))
        return end(s, &s->writing, -EINVAL);
    double t = effective(s, 2, timeout);
    swco__deadline_t deadline = swco__deadline_from_timeout(t);
    swco__addr_t a;
    rc = sock_resolve(s, &a, host, port, t, 0);
    if (rc)
        return end(s, &s->writing, rc);
    for (;;) {
        ssize_t n = sendto(s->fd, data, len, MSG_NOSIGNAL, (struct sockaddr *)&a.ss, a.len);
        if (n >= 0)
            return end(s, &s->writing, (long)n);
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return end(s, &s->writing, -errno);
        rc = swco__sock_wait(s, SWCO_EVENT_WRITE, deadline);
        if (rc)
            return end(s, &s->writing, rc);
    }
}

long swco_socket_recvfrom(swco_socket_t *s, void *buf, size_t len, char *addr, size_t addr_len,
                          int *port, double timeout)
{
    int rc = begin(s, s ? &s->reading : NULL);
    if (rc)
        return swco__fail(rc);
    if (!buf && len)
        return end(s, &s->reading, -EINVAL);
    swco__deadline_t deadline = swco__deadline_from_timeout(effective(s, 1, timeout));
    for (;;) {
        struct sockaddr_storage ss;
        memset(&ss, 0, sizeof ss);
        socklen_t sl = sizeof ss - 1;
        ssize_t n = recvfrom(s->fd, buf, len, 0, (struct sockaddr *)&ss, &sl);
        if (n >= 0) {
            addr_out(&ss, sl, addr, addr_len, port);
            return end(s, &s->reading, (long)n);
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return end(s, &s->reading, -errno);
        rc = swco__sock_wait(s, SWCO_EVENT_READ, deadline);
        if (rc)
            return end(s, &s->reading, rc);
    }
}

long swco_socket_sendfile(swco_socket_t *s, const char *path, long long offset, long long length,
                          double timeout)
{
    int rc = begin(s, s ? &s->writing : NULL);
    if (rc)
        return swco__fail(rc);
    if (!path || offset < 0 || length < 0)
        return end(s, &s->writing, -EINVAL);
    int ffd = open(path, O_RDONLY | O_CLOEXEC);
    if (ffd < 0)
        return end(s, &s->writing, -errno);
    struct stat st;
    if (fstat(ffd, &st) != 0) {
        rc = -errno;
        close(ffd);
        return end(s, &s->writing, rc);
    }
    if (length == 0)
        length = st.st_size > offset ? st.st_size - offset : 0;
    swco__deadline_t deadline = swco__deadline_from_timeout(effective(s, 2, timeout));
    off_t off = (off_t)offset;
    long long sent = 0;
    long result = 0;
    if (s->ssl) { /* bytes must pass through TLS: read and send in chunks */
        char *chunk = malloc(READ_CHUNK);
        if (!chunk)
            result = -ENOMEM;
        while (chunk && sent < length) {
            size_t want = length - sent < READ_CHUNK ? (size_t)(length - sent) : READ_CHUNK;
            ssize_t n = pread(ffd, chunk, want, off);
            if (n <= 0) {
                if (n < 0 && errno == EINTR)
                    continue;
                result = n < 0 ? -errno : 0;
                break;
            }
            for (ssize_t done = 0; done < n;) {
                long w = raw_send(s, chunk + done, (size_t)(n - done), deadline);
                if (w < 0) {
                    result = w;
                    break;
                }
                done += w;
            }
            if (result < 0)
                break;
            off += n;
            sent += n;
        }
        free(chunk);
        close(ffd);
        return end(s, &s->writing, result < 0 ? result : (long)sent);
    }
    while (sent < length) {
        ssize_t n = sendfile(s->fd, ffd, &off, (size_t)(length - sent));
        if (n > 0) {
            sent += n;
            continue;
        }
        if (n == 0)
            break; /* file shorter than asked */
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN) {
            result = -errno;
            break;
        }
        if ((rc = swco__sock_wait(s, SWCO_EVENT_WRITE, deadline)) != 0) {
            result = rc;
            break;
        }
    }
    close(ffd);
    return end(s, &s->writing, result < 0 ? result : (long)sent);
}

int swco_socket_shutdown(swco_socket_t *s, int how)
{
    if (!s)
        return swco__fail(-EINVAL);
    if (s->fd < 0)
        return swco__fail(SWCO_ECLOSED);
    if (shutdown(s->fd, how) != 0)
        return swco__fail(-errno);
    return 0;
}

/* --------------------------------------------------------------- options */

static int setopt(swco_socket_t *s, int level, int name, int value)
{
    if (!s)
        return swco__fail(-EINVAL);
    if (s->fd < 0)
        return swco__fail(SWCO_ECLOSED);
    if (setsockopt(s->fd, level, name, &value, sizeof value) != 0)
        return swco__fail(-errno);
    return 0;
}

int swco_socket_set_nodelay(swco_socket_t *s, int on)
{
    return setopt(s, IPPROTO_TCP, TCP_NODELAY, on != 0);
}

int swco_socket_set_keepalive(swco_socket_t *s, int on, int idle, int interval, int count)
{
    int rc = setopt(s, SOL_SOCKET, SO_KEEPALIVE, on != 0);
    if (rc == 0 && on && idle > 0)
        rc = setopt(s, IPPROTO_TCP, TCP_KEEPIDLE, idle);
    if (rc == 0 && on && interval > 0)
        rc = setopt(s, IPPROTO_TCP, TCP_KEEPINTVL, interval);
    if (rc == 0 && on && count > 0)
        rc = setopt(s, IPPROTO_TCP, TCP_KEEPCNT, count);
    return rc;
}

int swco_socket_set_reuseaddr(swco_socket_t *s, int on)
{
    return setopt(s, SOL_SOCKET, SO_REUSEADDR, on != 0);
}

int swco_socket_set_reuseport(swco_socket_t *s, int on)
{
    return setopt(s, SOL_SOCKET, SO_REUSEPORT, on != 0);
}

int swco_socket_set_buffer_size(swco_socket_t *s, int recv_size, int send_size)
{
    if (recv_size < 0 || send_size < 0)
        return swco__fail(-EINVAL);
    int rc = 0;
    if (recv_size > 0)
        rc = setopt(s, SOL_SOCKET, SO_RCVBUF, recv_size);
    if (rc == 0 && send_size > 0)
        rc = setopt(s, SOL_SOCKET, SO_SNDBUF, send_size);
    return rc;
}

/* -------------------------------------------------------------- timeouts */

static int set_timeouts(double *slots, int kinds, double seconds)
{
    if (seconds == INFINITY) /* what the getters return for "never" */
        seconds = -1;
    if (kinds <= 0 || (kinds & ~SWCO_TIMEOUT_ALL) || seconds != seconds || seconds > 1e9)
        return swco__fail(-EINVAL);
    if (seconds == 0)
        return 0;
    for (int i = 0; i < 3; i++)
        if (kinds & (1 << i))
            slots[i] = seconds < 0 ? -1 : seconds;
    return 0;
}

int swco_socket_set_timeout(swco_socket_t *s, int kinds, double seconds)
{
    if (!s)
        return swco__fail(-EINVAL);
    return set_timeouts(s->timeout, kinds, seconds);
}

double swco_socket_get_timeout(const swco_socket_t *s, int kind)
{
    int i = kind_index(kind);
    if (!s || i < 0)
        return swco__fail(-EINVAL);
    double t = effective(s, i, 0);
    return t < 0 ? INFINITY : t;
}

int swco_socket_set_default_timeout(int kinds, double seconds)
{
    return set_timeouts(default_timeout, kinds, seconds);
}

double swco_socket_get_default_timeout(int kind)
{
    int i = kind_index(kind);
    if (i < 0)
        return swco__fail(-EINVAL);
    return default_timeout[i] < 0 ? INFINITY : default_timeout[i];
}

/* --------------------------------------------------------------- framing */

int swco_socket_set_package_eof(swco_socket_t *s, const char *eof, size_t len)
{
    if (!s || len > sizeof s->frame.eof || (len && !eof))
        return swco__fail(-EINVAL);
    s->frame.mode = len ? SWCO__FRAME_EOF : SWCO__FRAME_NONE;
    memcpy(s->frame.eof, eof ? eof : "", len);
    s->frame.eof_len = len;
    s->scanned = 0;
    return 0;
}

int swco_socket_set_package_length(swco_socket_t *s, int length_size, int big_endian,
                                   size_t length_offset, size_t body_offset)
{
    if (!s || (length_size != 1 && length_size != 2 && length_size != 4) ||
        length_offset > 65536 || body_offset > 65536)
        return swco__fail(-EINVAL);
    s->frame.mode = SWCO__FRAME_LENGTH;
    s->frame.len_size = length_size;
    s->frame.big_endian = big_endian != 0;
    s->frame.len_offset = length_offset;
    s->frame.body_offset = body_offset;
    return 0;
}

int swco_socket_set_package_max_length(swco_socket_t *s, size_t max)
{
    if (!s || max == 0 || max > ((size_t)1 << 40))
        return swco__fail(-EINVAL);
    s->frame.max_len = max;
    return 0;
}

static long recv_packet(swco_socket_t *s, const char **data, swco__deadline_t deadline)
{
    consume_packet(s);
    for (;;) {
        if (s->rlen > 0) {
            long n = swco__framing_check(&s->frame, s->rbuf + s->roff, s->rlen, &s->scanned);
            if (n > 0) {
                s->pkt_len = (size_t)n;
                *data = s->rbuf + s->roff;
                return n;
            }
            if (n < 0) {
                swco_socket_close(s); /* the stream cannot be resynchronised */
                return n;
            }
        }
        /* Need more bytes: compact, then make room for a chunk. */
        if (s->roff) {
            memmove(s->rbuf, s->rbuf + s->roff, s->rlen);
            s->roff = 0;
        }
        if (s->rcap - s->rlen < READ_CHUNK / 4) {
            size_t cap = s->rcap ? s->rcap * 2 : READ_CHUNK;
            char *b = realloc(s->rbuf, cap);
            if (!b)
                return -ENOMEM;
            s->rbuf = b;
            s->rcap = cap;
        }
        long n = raw_recv(s, s->rbuf + s->rlen, s->rcap - s->rlen, deadline);
        if (n <= 0) {
            if (n == 0) {
                s->rlen = 0; /* a partial packet at EOF is dropped */
                s->scanned = 0;
            }
            return n;
        }
        s->rlen += (size_t)n;
    }
}

long swco_socket_recv_packet(swco_socket_t *s, const char **data, double timeout)
{
    int rc = begin(s, s ? &s->reading : NULL);
    if (rc)
        return swco__fail(rc);
    if (!data)
        return end(s, &s->reading, -EINVAL);
    *data = NULL;
    return end(s, &s->reading, recv_packet(s, data, swco__deadline_from_timeout(effective(s, 1, timeout))));
}
