/* Runtime hooks: libc's blocking calls, made coroutine-aware.
 *
 * libswco_hook defines sleep, usleep, nanosleep, connect, accept, accept4,
 * read, write, readv, writev, recv, send, recvfrom, sendto, recvmsg,
 * sendmsg, poll, close, getaddrinfo and curl_easy_perform.  Linked into a
 * program (or preloaded) they come before libc's, and each one first asks
 * whether it should act: the flag for its kind is on, the caller runs in a
 * coroutine, and for fd calls the fd is a socket of an enabled kind that the
 * caller left blocking.  When not, it is the libc call, reached through
 * dlsym(RTLD_NEXT).
 *
 * Blocking sockets are never switched to non-blocking for data transfers:
 * each attempt passes MSG_DONTWAIT (read and write become recv and send,
 * readv and writev become recvmsg and sendmsg, which are the same calls on a
 * socket), so other threads sharing the fd see no change.  connect and
 * accept have no such flag and set O_NONBLOCK around the one attempt.  On
 * EAGAIN the coroutine waits on the loop until the deadline SO_RCVTIMEO or
 * SO_SNDTIMEO sets, and expiry gives EAGAIN as a blocking socket would.
 * Writes on stream sockets finish the whole buffer, as blocking ones do.
 *
 * close forgets the fd in the thread's loop first, so a later fd with the
 * same number starts clean.  poll on several fds waits on a private epoll
 * fd holding them.  getaddrinfo, and read/write/readv/writev on regular
 * files (SWCO_HOOK_FILE), run on libswco's AIO thread pool (swco_aio_run())
 * while the coroutine waits: the one thread pool of the process. */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <swco.h>
#include <swco/hook.h>

#include "core/deadline.h"

#define HOOK_API __attribute__((visibility("default")))

static int g_flags;

#define REAL_DECL(ret, name, args) \
    typedef ret(*name##_fn) args;  \
    static name##_fn real_##name;

REAL_DECL(unsigned, sleep, (unsigned))
REAL_DECL(int, usleep, (useconds_t))
REAL_DECL(int, nanosleep, (const struct timespec *, struct timespec *))
REAL_DECL(int, connect, (int, const struct sockaddr *, socklen_t))
REAL_DECL(int, accept, (int, struct sockaddr *, socklen_t *))
REAL_DECL(int, accept4, (int, struct sockaddr *, socklen_t *, int))
REAL_DECL(ssize_t, read, (int, void *, size_t))
REAL_DECL(ssize_t, write, (int, const void *, size_t))
REAL_DECL(ssize_t, readv, (int, const struct iovec *, int))
REAL_DECL(ssize_t, writev, (int, const struct iovec *, int))
REAL_DECL(ssize_t, recv, (int, void *, size_t, int))
REAL_DECL(ssize_t, send, (int, const void *, size_t, int))
REAL_DECL(ssize_t, recvfrom, (int, void *, size_t, int, struct sockaddr *, socklen_t *))
REAL_DECL(ssize_t, sendto, (int, const void *, size_t, int, const struct sockaddr *, socklen_t))
REAL_DECL(ssize_t, recvmsg, (int, struct msghdr *, int))
REAL_DECL(ssize_t, sendmsg, (int, const struct msghdr *, int))
REAL_DECL(int, poll, (struct pollfd *, nfds_t, int))
REAL_DECL(int, close, (int))
REAL_DECL(int, getaddrinfo, (const char *, const char *, const struct addrinfo *, struct addrinfo **))
REAL_DECL(void, freeaddrinfo, (struct addrinfo *))
REAL_DECL(CURLcode, curl_easy_perform, (CURL *))

/* The next definition after ours; resolved once, on first use. */
#define REAL(name)                                                                 \
    (__atomic_load_n(&real_##name, __ATOMIC_RELAXED)                               \
         ? real_##name                                                             \
         : (__atomic_store_n(&real_##name, (name##_fn)dlsym(RTLD_NEXT, #name),     \
                             __ATOMIC_RELAXED),                                    \
            real_##name))

/* ------------------------------------------------------------ switches */

int swco_hook_enable(int flags)
{
    if (flags & ~SWCO_HOOK_ALL)
        return -EINVAL;
    __atomic_store_n(&g_flags, flags, __ATOMIC_SEQ_CST);
    return 0;
}

int swco_hook_disable(void)
{
    __atomic_store_n(&g_flags, 0, __ATOMIC_SEQ_CST);
    return 0;
}

int swco_hook_get_flags(void) { return __atomic_load_n(&g_flags, __ATOMIC_RELAXED); }

__attribute__((constructor)) static void hook_from_env(void)
{
    const char *e = getenv("SWCO_HOOK");
    if (!e || !*e)
        return;
    if (strcmp(e, "all") == 0)
        swco_hook_enable(SWCO_HOOK_ALL);
    else
        swco_hook_enable((int)strtol(e, NULL, 0) & SWCO_HOOK_ALL);
}

/* Whether a call of kind flag should yield: flag on and inside a coroutine. */
static int active(int flag)
{
    return (__atomic_load_n(&g_flags, __ATOMIC_RELAXED) & flag) && swco_coroutine_id() > 0;
}

/* The hook flag an fd's kind falls under, 0 for non-sockets. */
static int sock_kind(int fd)
{
    int domain, type;
    socklen_t len = sizeof domain;
    if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0)
        return 0;
    if (domain == AF_UNIX)
        return SWCO_HOOK_UNIX;
    if (domain != AF_INET && domain != AF_INET6)
        return 0;
    len = sizeof type;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0)
        return 0;
    return type == SOCK_STREAM ? SWCO_HOOK_TCP : type == SOCK_DGRAM ? SWCO_HOOK_UDP : 0;
}

#define SOCK_FLAGS (SWCO_HOOK_TCP | SWCO_HOOK_UDP | SWCO_HOOK_UNIX)

/* An fd call should yield: in a coroutine, on a blocking socket whose kind
 * is enabled.  *stream tells whether it is a stream socket. */
static int fd_active(int fd, int *stream)
{
    int flags = __atomic_load_n(&g_flags, __ATOMIC_RELAXED);
    if (!(flags & SOCK_FLAGS) || fd < 0 || swco_coroutine_id() <= 0)
        return 0;
    int fl = fcntl(fd, F_GETFL); /* first: non-blocking fds cost one syscall */
    if (fl < 0 || (fl & O_NONBLOCK))
        return 0;
    int kind = sock_kind(fd);
    if (!(kind & flags))
        return 0;
    if (stream) {
        int type = 0;
        socklen_t len = sizeof type;
        getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len);
        *stream = type == SOCK_STREAM;
    }
    return 1;
}

/* The loop's fd wait until deadline.  This library sees only libswco's
 * public symbols, so the wait goes through swco_event_wait_fd() with the
 * time left (a passed deadline times out here, without a wait). */
static int wait_fd_until(int fd, int dir, swco__deadline_t deadline)
{
    if (swco__deadline_passed(deadline))
        return -ETIMEDOUT;
    return swco_event_wait_fd(fd, dir, swco__deadline_left_seconds(deadline));
}

/* Wait until fd is ready for dir, within the socket's timeout.  0, or -1
 * with errno (EAGAIN on timeout, EINTR when the coroutine was cancelled). */
static int fd_wait(int fd, int dir)
{
    struct timeval tv = {0, 0};
    socklen_t len = sizeof tv;
    getsockopt(fd, SOL_SOCKET, dir == SWCO_EVENT_READ ? SO_RCVTIMEO : SO_SNDTIMEO, &tv, &len);
    swco__deadline_t deadline =
        swco__deadline_from_timeout((double)tv.tv_sec + (double)tv.tv_usec / 1e6);
    for (;;) {
        int rc = wait_fd_until(fd, dir, deadline);
        if (rc >= 0)
            return 0;
        if (rc == -EBUSY) { /* another coroutine waits that way: take turns */
            swco_sleep(0.001);
            continue;
        }
        if (rc == -EEXIST) { /* registered with swco_event_add: block the thread */
            struct pollfd p = {fd, (short)(dir == SWCO_EVENT_READ ? POLLIN : POLLOUT), 0};
            int n = REAL(poll)(&p, 1, swco__deadline_poll_ms(deadline));
            if (n > 0)
                return 0;
            if (n == 0)
                errno = EAGAIN;
            return -1;
        }
        errno = rc == -ETIMEDOUT ? EAGAIN : rc == -ECANCELED ? EINTR : rc < 0 && rc > -4000 ? -rc : EIO;
        return -1;
    }
}

static int again(void) { return errno == EAGAIN || errno == EWOULDBLOCK; }

/* Regular-file calls on the AIO pool (below). */
enum { OP_READ, OP_WRITE, OP_READV, OP_WRITEV };
static int file_active(int fd);
static ssize_t file_call(int op, int fd, void *buf, const struct iovec *iov, size_t n, int cnt);

/* ------------------------------------------------------------- sleeps */

HOOK_API unsigned sleep(unsigned seconds)
{
    if (!active(SWCO_HOOK_SLEEP))
        return REAL(sleep)(seconds);
    swco__deadline_t end = swco__deadline_from_timeout((double)seconds);
    if (swco_sleep((double)seconds) != 0) {
        int64_t left = swco__deadline_left_ns(end);
        return left > 0 ? (unsigned)((left + 999999999) / 1000000000) : 0;
    }
    return 0;
}

HOOK_API int usleep(useconds_t usec)
{
    if (!active(SWCO_HOOK_SLEEP))
        return REAL(usleep)(usec);
    if (swco_sleep((double)usec / 1e6) != 0) {
        errno = EINTR;
        return -1;
    }
    return 0;
}

HOOK_API int nanosleep(const struct timespec *req, struct timespec *rem)
{
    if (!active(SWCO_HOOK_SLEEP) || !req || req->tv_nsec < 0 || req->tv_nsec >= 1000000000L ||
        req->tv_sec < 0)
        return REAL(nanosleep)(req, rem);
    if (swco_sleep((double)req->tv_sec + (double)req->tv_nsec / 1e9) != 0) {
        if (rem)
            *rem = *req; /* an upper bound is allowed */
        errno = EINTR;
        return -1;
    }
    if (rem)
        rem->tv_sec = rem->tv_nsec = 0;
    return 0;
}

/* ---------------------------------------------------- connect, accept */

HOOK_API int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
    if (!fd_active(fd, NULL))
        return REAL(connect)(fd, addr, len);
    for (;;) {
        int fl = fcntl(fd, F_GETFL);
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
        int rc = REAL(connect)(fd, addr, len);
        int e = errno;
        fcntl(fd, F_SETFL, fl);
        if (rc == 0)
            return 0;
        if (e == EAGAIN) { /* Unix socket backlog full: retry shortly */
            if (swco_sleep(0.001) != 0) {
                errno = EINTR;
                return -1;
            }
            continue;
        }
        if (e != EINPROGRESS) {
            errno = e;
            return -1;
        }
        if (fd_wait(fd, SWCO_EVENT_WRITE) != 0) {
            if (errno == EAGAIN)
                errno = EINPROGRESS; /* what Linux gives when SO_SNDTIMEO expires */
            return -1;
        }
        int err = 0;
        socklen_t elen = sizeof err;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen);
        if (err) {
            errno = err;
            return -1;
        }
        return 0;
    }
}

HOOK_API int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
    if (!fd_active(fd, NULL))
        return REAL(accept4)(fd, addr, len, flags);
    for (;;) {
        int fl = fcntl(fd, F_GETFL);
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
        int rc = REAL(accept4)(fd, addr, len, flags);
        int e = errno;
        fcntl(fd, F_SETFL, fl);
        if (rc >= 0)
            return rc;
        errno = e;
        if (!again() || fd_wait(fd, SWCO_EVENT_READ) != 0)
            return -1;
    }
}

HOOK_API int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
    if (!fd_active(fd, NULL))
        return REAL(accept)(fd, addr, len);
    return accept4(fd, addr, len, 0);
}

/* ------------------------------------------------------------- input */

HOOK_API ssize_t recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *addr,
                          socklen_t *alen)
{
    if ((flags & MSG_DONTWAIT) || !fd_active(fd, NULL))
        return REAL(recvfrom)(fd, buf, n, flags, addr, alen);
    for (;;) {
        ssize_t r = REAL(recvfrom)(fd, buf, n, flags | MSG_DONTWAIT, addr, alen);
        if (r >= 0 || !again() || fd_wait(fd, SWCO_EVENT_READ) != 0)
            return r >= 0 ? r : -1;
    }
}

HOOK_API ssize_t recv(int fd, void *buf, size_t n, int flags)
{
    if ((flags & MSG_DONTWAIT) || !fd_active(fd, NULL))
        return REAL(recv)(fd, buf, n, flags);
    return recvfrom(fd, buf, n, flags, NULL, NULL);
}

HOOK_API ssize_t read(int fd, void *buf, size_t n)
{
    if (!fd_active(fd, NULL))
        return file_active(fd) ? file_call(OP_READ, fd, buf, NULL, n, 0) : REAL(read)(fd, buf, n);
    return recvfrom(fd, buf, n, 0, NULL, NULL);
}

HOOK_API ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
    if ((flags & MSG_DONTWAIT) || !fd_active(fd, NULL))
        return REAL(recvmsg)(fd, msg, flags);
    for (;;) {
        ssize_t r = REAL(recvmsg)(fd, msg, flags | MSG_DONTWAIT);
        if (r >= 0 || !again() || fd_wait(fd, SWCO_EVENT_READ) != 0)
            return r >= 0 ? r : -1;
    }
}

HOOK_API ssize_t readv(int fd, const struct iovec *iov, int cnt)
{
    if (!fd_active(fd, NULL))
        return file_active(fd) ? file_call(OP_READV, fd, NULL, iov, 0, cnt) : REAL(readv)(fd, iov, cnt);
    struct msghdr m = {.msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)cnt};
    return recvmsg(fd, &m, 0);
}

/* ------------------------------------------------------------ output */

/* Send msg; on a stream socket keep going until all of it is sent, as a
 * blocking socket does (a partial count is returned if an error follows). */
static ssize_t send_all(int fd, const struct msghdr *msg, int flags, int stream)
{
    struct iovec local[64], *iov = (struct iovec *)msg->msg_iov;
    struct msghdr m = *msg;
    size_t cnt = m.msg_iovlen;
    ssize_t total = 0;
    for (;;) {
        ssize_t r = REAL(sendmsg)(fd, &m, flags | MSG_DONTWAIT);
        if (r < 0) {
            if (!again() || fd_wait(fd, SWCO_EVENT_WRITE) != 0)
                return total > 0 ? total : -1;
            continue;
        }
        total += r;
        if (!stream)
            return total;
        /* Drop what was sent from the front of the vector. */
        size_t left = (size_t)r;
        while (cnt > 0 && left >= iov->iov_len) {
            left -= iov->iov_len;
            iov++;
            cnt--;
        }
        while (cnt > 0 && iov->iov_len == 0) {
            iov++;
            cnt--;
        }
        if (cnt == 0)
            return total;
        if (cnt > 64) /* too long to copy: a partial write is allowed */
            return total;
        memcpy(local, iov, cnt * sizeof *iov);
        local[0].iov_base = (char *)local[0].iov_base + left;
        local[0].iov_len -= left;
        iov = local;
        m.msg_iov = local;
        m.msg_iovlen = cnt;
        m.msg_control = NULL; /* ancillary data went with the first part */
        m.msg_controllen = 0;
        m.msg_name = NULL;
        m.msg_namelen = 0;
    }
}

HOOK_API ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
    int stream = 0;
    if ((flags & MSG_DONTWAIT) || !fd_active(fd, &stream))
        return REAL(sendmsg)(fd, msg, flags);
    return send_all(fd, msg, flags, stream);
}

HOOK_API ssize_t sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *addr,
                        socklen_t alen)
{
    int stream = 0;
    if ((flags & MSG_DONTWAIT) || !fd_active(fd, &stream))
        return REAL(sendto)(fd, buf, n, flags, addr, alen);
    struct iovec v = {(void *)buf, n};
    struct msghdr m = {.msg_name = (void *)addr, .msg_namelen = alen, .msg_iov = &v, .msg_iovlen = 1};
    return send_all(fd, &m, flags, stream);
}

HOOK_API ssize_t send(int fd, const void *buf, size_t n, int flags)
{
    int stream = 0;
    if ((flags & MSG_DONTWAIT) || !fd_active(fd, &stream))
        return REAL(send)(fd, buf, n, flags);
    struct iovec v = {(void *)buf, n};
    struct msghdr m = {.msg_iov = &v, .msg_iovlen = 1};
    return send_all(fd, &m, flags, stream);
}

HOOK_API ssize_t write(int fd, const void *buf, size_t n)
{
    int stream = 0;
    if (!fd_active(fd, &stream))
        return file_active(fd) ? file_call(OP_WRITE, fd, (void *)buf, NULL, n, 0)
                               : REAL(write)(fd, buf, n);
    struct iovec v = {(void *)buf, n};
    struct msghdr m = {.msg_iov = &v, .msg_iovlen = 1};
    return send_all(fd, &m, 0, stream);
}

HOOK_API ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
    int stream = 0;
    if (!fd_active(fd, &stream))
        return file_active(fd) ? file_call(OP_WRITEV, fd, NULL, iov, 0, cnt)
                               : REAL(writev)(fd, iov, cnt);
    struct msghdr m = {.msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)cnt};
    return send_all(fd, &m, 0, stream);
}

/* ------------------------------------------------------------- close */

HOOK_API int close(int fd)
{
    if (__atomic_load_n(&g_flags, __ATOMIC_RELAXED) && fd >= 0) {
        int saved = swco_last_error();
        if (swco_event_isset(fd) >= 0)
            swco_event_del(fd);
        swco_set_last_error(saved);
    }
    return REAL(close)(fd);
}

/* -------------------------------------------------------------- poll */

/* Wait for any of fds through a private epoll fd until deadline; 1 ready,
 * 0 timeout, -1 error (errno), -2 cannot (an fd epoll does not take). */
static int poll_wait_many(struct pollfd *fds, nfds_t n, swco__deadline_t deadline)
{
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        return -2;
    for (nfds_t i = 0; i < n; i++) {
        if (fds[i].fd < 0)
            continue;
        struct epoll_event ev = {0};
        ev.events = (fds[i].events & POLLIN ? EPOLLIN : 0) | (fds[i].events & POLLOUT ? EPOLLOUT : 0) |
                    (fds[i].events & POLLPRI ? EPOLLPRI : 0) |
                    (fds[i].events & POLLRDHUP ? EPOLLRDHUP : 0);
        ev.data.fd = fds[i].fd;
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fds[i].fd, &ev) != 0 && errno != EEXIST) {
            REAL(close)(ep);
            return -2;
        }
    }
    int rc = wait_fd_until(ep, SWCO_EVENT_READ, deadline);
    swco_event_del(ep);
    REAL(close)(ep);
    if (rc >= 0)
        return 1;
    if (rc == -ETIMEDOUT)
        return 0;
    errno = rc == -ECANCELED ? EINTR : rc < 0 && rc > -4000 ? -rc : EIO;
    return -1;
}

HOOK_API int poll(struct pollfd *fds, nfds_t n, int timeout)
{
    if (!active(SOCK_FLAGS) || timeout == 0)
        return REAL(poll)(fds, n, timeout);
    swco__deadline_t deadline = swco__deadline_from_timeout(timeout / 1000.0);
    for (;;) {
        int r = REAL(poll)(fds, n, 0);
        if (r != 0)
            return r;
        if (swco__deadline_passed(deadline))
            return 0;
        int w;
        short ev = n == 1 ? (short)(fds[0].events & (POLLIN | POLLOUT)) : 0;
        if (n == 1 && fds[0].fd >= 0 && (ev == POLLIN || ev == POLLOUT)) {
            int rc = wait_fd_until(fds[0].fd, ev == POLLIN ? SWCO_EVENT_READ : SWCO_EVENT_WRITE,
                                   deadline);
            if (rc == -EEXIST || rc == -EBUSY)
                w = poll_wait_many(fds, n, deadline);
            else if (rc >= 0)
                w = 1;
            else if (rc == -ETIMEDOUT)
                w = 0;
            else {
                errno = rc == -ECANCELED ? EINTR : rc > -4000 ? -rc : EIO;
                w = -1;
            }
        } else {
            w = poll_wait_many(fds, n, deadline);
        }
        if (w == -2)
            return REAL(poll)(fds, n, swco__deadline_poll_ms(deadline));
        if (w < 0)
            return -1;
        if (w == 0)
            return REAL(poll)(fds, n, 0);
    }
}

/* ----------------------------------------------------- the AIO pool */

/* A call that cannot be made non-blocking, run on libswco's AIO pool
 * (swco_aio_run()) while the coroutine waits: one thread pool in the
 * process, with the pool's limits.  Shared by the coroutine and the pool;
 * the last one out frees it. */
typedef struct job job_t;
struct job {
    int refs;           /* the caller's, and the pool's until it lets go */
    int pool_let_go;    /* the pool called job_release() */
    void (*run)(job_t *j);
    /* set when run returned: for a caller that gave up waiting on the loop
     * (cancelled) but must not return while run uses its memory */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int done;
    /* file calls */
    int op, fd, cnt;
    void *buf;
    const struct iovec *iov;
    size_t n;
    ssize_t r;
    int err;
    /* getaddrinfo */
    char *node, *service;
    struct addrinfo hints;
    int has_hints;
    struct addrinfo *res;
    int rc;
};

static job_t *job_new(void (*run)(job_t *j))
{
    job_t *j = calloc(1, sizeof *j);
    if (!j)
        return NULL;
    j->refs = 1;
    j->run = run;
    pthread_mutex_init(&j->lock, NULL);
    pthread_cond_init(&j->cond, NULL);
    return j;
}

static void job_unref(job_t *j)
{
    if (__atomic_sub_fetch(&j->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    if (j->res)
        REAL(freeaddrinfo)(j->res);
    pthread_mutex_destroy(&j->lock);
    pthread_cond_destroy(&j->cond);
    free(j->node);
    free(j->service);
    free(j);
}

/* On a pool thread. */
static void job_main(void *arg)
{
    job_t *j = arg;
    j->run(j);
    pthread_mutex_lock(&j->lock);
    j->done = 1;
    pthread_cond_broadcast(&j->cond);
    pthread_mutex_unlock(&j->lock);
}

/* The pool's arg_free: it is done with j (or never ran it). */
static void job_release(void *arg)
{
    job_t *j = arg;
    j->pool_let_go = 1;
    job_unref(j);
}

/* Run j->run on the AIO pool and wait for it.  Returns 0 when it ran, -1
 * when it never ran and never will (it could not be queued, or a cancel
 * dropped it from the queue): the caller makes the call itself; -2 when
 * the coroutine was cancelled and cancellable allowed to stop waiting (a
 * started call finishes alone).  Without cancellable a cancelled
 * coroutine blocks the thread until the call is done: the call uses the
 * caller's memory. */
static int job_run(job_t *j, int cancellable)
{
    j->refs = 2;
    int rc = swco_aio_run(job_main, j, job_release, -1);
    if (rc == 0) {
        j->refs = 1; /* the pool keeps no reference once it returned 0 */
        return 0;
    }
    /* The pool let go at once when run never started; else it lets go on
     * this thread's loop once run is done, which cannot be before now. */
    if (j->pool_let_go)
        return cancellable && rc == -ECANCELED ? -2 : -1;
    if (cancellable)
        return -2;
    pthread_mutex_lock(&j->lock);
    while (!j->done)
        pthread_cond_wait(&j->cond, &j->lock);
    pthread_mutex_unlock(&j->lock);
    return 0;
}

/* ------------------------------------------------------------- files */

static void file_run(job_t *j)
{
    switch (j->op) {
    case OP_READ: j->r = REAL(read)(j->fd, j->buf, j->n); break;
    case OP_WRITE: j->r = REAL(write)(j->fd, j->buf, j->n); break;
    case OP_READV: j->r = REAL(readv)(j->fd, j->iov, j->cnt); break;
    default: j->r = REAL(writev)(j->fd, j->iov, j->cnt); break;
    }
    j->err = errno;
}

/* Regular files, with SWCO_HOOK_FILE on, in a coroutine. */
static int file_active(int fd)
{
    struct stat st;
    return active(SWCO_HOOK_FILE) && fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

/* The call on the AIO pool; -1 with errno on failure as the call gives. */
static ssize_t file_call(int op, int fd, void *buf, const struct iovec *iov, size_t n, int cnt)
{
    job_t *j = job_new(file_run);
    if (!j)
        goto direct;
    j->op = op;
    j->fd = fd;
    j->buf = buf;
    j->iov = iov;
    j->n = n;
    j->cnt = cnt;
    if (job_run(j, 0) != 0) {
        job_unref(j);
        goto direct;
    }
    ssize_t r = j->r;
    int err = j->err;
    job_unref(j);
    if (r < 0)
        errno = err;
    return r;
direct:
    j = &(job_t){.op = op, .fd = fd, .buf = buf, .iov = iov, .n = n, .cnt = cnt};
    file_run(j);
    errno = j->err;
    return j->r;
}

/* ------------------------------------------------------- getaddrinfo */

static void gai_run(job_t *j)
{
    j->rc = REAL(getaddrinfo)(j->node, j->service, j->has_hints ? &j->hints : NULL, &j->res);
}

HOOK_API int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                         struct addrinfo **res)
{
    if (!active(SWCO_HOOK_DNS))
        return REAL(getaddrinfo)(node, service, hints, res);
    job_t *j = job_new(gai_run);
    if (!j)
        return EAI_MEMORY;
    j->node = node ? strdup(node) : NULL;
    j->service = service ? strdup(service) : NULL;
    if (hints) {
        j->hints.ai_flags = hints->ai_flags;
        j->hints.ai_family = hints->ai_family;
        j->hints.ai_socktype = hints->ai_socktype;
        j->hints.ai_protocol = hints->ai_protocol;
        j->has_hints = 1;
    }
    int rc;
    if ((node && !j->node) || (service && !j->service) || (rc = job_run(j, 1)) == -1) {
        job_unref(j);
        return REAL(getaddrinfo)(node, service, hints, res); /* block instead */
    }
    if (rc == -2) {
        errno = EINTR;
        rc = EAI_SYSTEM;
    } else {
        rc = j->rc;
        *res = j->res;
        j->res = NULL;
    }
    job_unref(j);
    return rc;
}

/* -------------------------------------------------------------- curl */

HOOK_API CURLcode curl_easy_perform(CURL *easy)
{
    if (!active(SWCO_HOOK_CURL))
        return REAL(curl_easy_perform)(easy);
    return swco_curl_perform(easy);
}
