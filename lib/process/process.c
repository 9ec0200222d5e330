/* Process: fork a function with a socket-pair channel and/or a System V
 * message queue; waits yield inside a coroutine. */
#include "process/process_int.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/msg.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct swco_process {
    swco_process_fn fn;
    void *arg;
    swco_free_fn arg_free;
    int ipc;
    int redirect;
    int fd;        /* this side's end of the channel, -1 none */
    pid_t pid;
    int in_child;
    int reaped;
    int status;
    int msqid;     /* -1 none */
};

/* ------------------------------------------------------- waiting on fds */

/* Wait until fd is ready for events (SWCO_EVENT_READ/WRITE) or deadline
 * passes: on the loop in a coroutine, else blocking the thread.  The fd is
 * not left registered in the loop.  Returns > 0, -ETIMEDOUT, -ECANCELED. */
static int wait_fd(int fd, int events, swco__deadline_t deadline)
{
    return swco__wait_fd_until(fd, events | SWCO__WAIT_BLOCK | SWCO__WAIT_ONCE, deadline);
}

/* Sleep a little: yields inside a coroutine. */
static int nap(double seconds)
{
    return swco_sleep(seconds);
}

/* ------------------------------------------------------------- lifecycle */

swco_process_t *swco_process_new(swco_process_fn fn, void *arg, swco_free_fn arg_free, int ipc,
                                  int redirect_stdio)
{
    if (!fn || ipc < SWCO_PROCESS_IPC_NONE || ipc > SWCO_PROCESS_IPC_DGRAM ||
        (redirect_stdio && ipc == SWCO_PROCESS_IPC_NONE)) {
        swco__fail(-EINVAL);
        return NULL;
    }
    swco_process_t *p = calloc(1, sizeof *p);
    if (!p) {
        swco__fail(-ENOMEM);
        return NULL;
    }
    p->fn = fn;
    p->arg = arg;
    p->arg_free = arg_free;
    p->ipc = ipc;
    p->redirect = redirect_stdio != 0;
    p->fd = -1;
    p->msqid = -1;
    return p;
}

void swco_process_free(swco_process_t *p)
{
    if (!p)
        return;
    if (p->fd >= 0)
        close(p->fd);
    if (p->arg_free && !p->in_child)
        p->arg_free(p->arg);
    free(p);
}

static void reseed(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    unsigned seed = (unsigned)getpid() * 2654435761u ^ (unsigned)ts.tv_nsec;
    srand(seed);
    srandom(seed ^ 0x5bd1e995u);
}

/* The child starts with default handlers (ignored signals stay ignored)
 * and nothing blocked: the parent's handlers and the signals its event
 * loop blocked for signalfd belong to the parent. */
static void reset_signals(const sigset_t *blocked)
{
    for (int sig = 1; sig < NSIG; sig++) {
        struct sigaction sa;
        if (sig == SIGKILL || sig == SIGSTOP || sigaction(sig, NULL, &sa) < 0)
            continue;
        if (sa.sa_handler != SIG_IGN && sa.sa_handler != SIG_DFL) {
            signal(sig, SIG_DFL);
        }
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, blocked ? blocked : &none, NULL);
}

pid_t swco__process_fork_term(void (*on_term)(int))
{
    fflush(NULL);
    sigset_t term, old;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &term, &old);
    struct sigaction sa, old_sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_term;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, &old_sa);
    pid_t pid = fork();
    if (pid == 0)
        return 0;
    int e = errno;
    sigaction(SIGTERM, &old_sa, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    errno = e;
    return pid;
}

void swco__process_child_init(const sigset_t *blocked)
{
    reset_signals(blocked);
    reseed();
}

int swco_process_start(swco_process_t *p)
{
    if (!p)
        return swco__fail(-EINVAL);
    if (p->pid)
        return swco__fail(-EBUSY);
    int sv[2] = {-1, -1};
    if (p->ipc != SWCO_PROCESS_IPC_NONE) {
        int type = p->ipc == SWCO_PROCESS_IPC_STREAM ? SOCK_STREAM : SOCK_DGRAM;
        if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv) < 0)
            return swco__fail(-errno);
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        if (sv[0] >= 0) {
            close(sv[0]);
            close(sv[1]);
        }
        return swco__fail(-e);
    }
    if (pid == 0) {
        p->in_child = 1;
        p->pid = getpid();
        swco__process_child_init(NULL);
        if (sv[0] >= 0) {
            close(sv[0]);
            p->fd = sv[1];
            if (p->redirect) {
                dup2(p->fd, STDIN_FILENO);
                dup2(p->fd, STDOUT_FILENO);
                setvbuf(stdout, NULL, _IOLBF, 0);
            }
        }
        p->fn(p, p->arg);
        fflush(NULL);
        _exit(0);
    }
    if (sv[0] >= 0) {
        close(sv[1]);
        p->fd = sv[0];
    }
    p->pid = pid;
    return pid;
}

int swco_process_pid(const swco_process_t *p) { return p ? (int)p->pid : swco__fail(-EINVAL); }

int swco_process_fd(const swco_process_t *p)
{
    if (!p)
        return swco__fail(-EINVAL);
    return p->fd >= 0 ? p->fd : swco__fail(-EBADF);
}

int swco_process_close(swco_process_t *p)
{
    if (!p)
        return swco__fail(-EINVAL);
    if (p->fd < 0)
        return swco__fail(-ENOTCONN);
    if (p->in_child && p->redirect) {
        /* stdio shares the socket: shut it down so the parent sees EOF. */
        fflush(stdout);
        shutdown(p->fd, SHUT_WR);
    }
    close(p->fd);
    p->fd = -1;
    return 0;
}

/* ------------------------------------------------------------------ I/O */

long swco_process_write(swco_process_t *p, const void *buf, size_t len, double timeout)
{
    if (!p || (!buf && len))
        return swco__fail(-EINVAL);
    if (p->fd < 0)
        return swco__fail(-ENOTCONN);
    swco__deadline_t deadline = swco__deadline_from_timeout(timeout);
    size_t done = 0;
    for (;;) {
        ssize_t n = send(p->fd, (const char *)buf + done, len - done, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n >= 0) {
            done += (size_t)n;
            if (done == len || p->ipc == SWCO_PROCESS_IPC_DGRAM)
                return (long)done;
            continue;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS)
            return swco__fail(-errno);
        int rc = wait_fd(p->fd, SWCO_EVENT_WRITE, deadline);
        if (rc < 0)
            return swco__fail(rc);
    }
}

long swco_process_read(swco_process_t *p, void *buf, size_t cap, double timeout)
{
    if (!p || !buf || !cap)
        return swco__fail(-EINVAL);
    if (p->fd < 0)
        return swco__fail(-ENOTCONN);
    swco__deadline_t deadline = swco__deadline_from_timeout(timeout);
    for (;;) {
        ssize_t n = recv(p->fd, buf, cap, MSG_DONTWAIT);
        if (n >= 0)
            return (long)n;
        if (errno == EINTR)
            continue;
        if (errno == ECONNRESET)
            return 0;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return swco__fail(-errno);
        int rc = wait_fd(p->fd, SWCO_EVENT_READ, deadline);
        if (rc < 0)
            return swco__fail(rc);
    }
}

int swco_process_exec(swco_process_t *p, const char *path, char *const argv[])
{
    if (!path || !argv || !argv[0])
        return swco__fail(-EINVAL);
    if (p && p->fd >= 0 && p->redirect) {
        /* dup2'ed stdio do not carry FD_CLOEXEC; the original does. */
        fflush(stdout);
    }
    execvp(path, argv);
    return swco__fail(-errno);
}

/* ---------------------------------------------------------------- waits */

static void record(swco_process_t *p, int status)
{
    p->reaped = 1;
    p->status = status;
}

int swco_process_wait(swco_process_t *p, double timeout)
{
    if (!p || p->pid <= 0 || p->in_child)
        return swco__fail(-EINVAL);
    if (p->reaped)
        return swco__fail(SWCO_EEXITED);
    swco__deadline_t deadline = swco__deadline_from_timeout(timeout);
    int pidfd = -1;
#ifdef SYS_pidfd_open
    if (swco__co_current())
        pidfd = (int)syscall(SYS_pidfd_open, p->pid, 0);
#endif
    double pause = 0.001;
    for (;;) {
        int st;
        pid_t r = waitpid(p->pid, &st, WNOHANG);
        if (r == p->pid) {
            record(p, st);
            break;
        }
        if (r < 0 && errno != EINTR) {
            int e = errno;
            if (pidfd >= 0)
                close(pidfd);
            return swco__fail(-e);
        }
        if (r < 0)
            continue;
        if (!swco__co_current()) {
            /* Blocking wait: waitpid with a deadline needs polling. */
            if (deadline == SWCO__DEADLINE_NONE) {
                r = waitpid(p->pid, &st, 0);
                if (r == p->pid) {
                    record(p, st);
                    break;
                }
                continue;
            }
        }
        int rc;
        if (pidfd >= 0) {
            rc = wait_fd(pidfd, SWCO_EVENT_READ, deadline);
        } else {
            if (swco__deadline_passed(deadline))
                rc = -ETIMEDOUT;
            else
                rc = nap(pause);
            if (pause < 0.02)
                pause *= 2;
        }
        if (rc < 0) {
            if (pidfd >= 0)
                close(pidfd);
            return swco__fail(rc);
        }
    }
    if (pidfd >= 0)
        close(pidfd);
    return 0;
}

int swco_process_exit_code(const swco_process_t *p)
{
    if (!p)
        return swco__fail(-EINVAL);
    if (!p->reaped)
        return swco__fail(-EAGAIN);
    if (WIFSIGNALED(p->status))
        return 128 + WTERMSIG(p->status);
    return WEXITSTATUS(p->status);
}

int swco_process_exit_signal(const swco_process_t *p)
{
    return p && p->reaped && WIFSIGNALED(p->status) ? WTERMSIG(p->status) : 0;
}

int swco_process_kill(int pid, int signo)
{
    return kill((pid_t)pid, signo) < 0 ? swco__fail(-errno) : 0;
}

int swco_process_wait_any(int blocking, int *pid, int *status)
{
    int st;
    pid_t r = waitpid(-1, &st, blocking ? 0 : WNOHANG);
    if (r < 0)
        return swco__fail(-errno);
    if (r == 0)
        return 0;
    if (pid)
        *pid = (int)r;
    if (status)
        *status = st;
    return 1;
}


int swco_process_set_name(const char *name)
{
    if (!name || !*name)
        return swco__fail(-EINVAL);
    return prctl(PR_SET_NAME, name, 0, 0, 0) < 0 ? swco__fail(-errno) : 0;
}

int swco_process_daemon(int nochdir, int noclose)
{
    return daemon(nochdir, noclose) < 0 ? swco__fail(-errno) : 0;
}

/* ------------------------------------------------------- message queue */

long swco__msgq_send(int msqid, const void *data, size_t len)
{
    struct qmsg *m = malloc(sizeof(long) + len);
    if (!m)
        return -ENOMEM;
    m->mtype = 1;
    memcpy(m->mtext, data, len);
    int rc;
    while ((rc = msgsnd(msqid, m, len, 0)) < 0 && errno == EINTR)
        ;
    int e = errno;
    free(m);
    return rc < 0 ? -e : (long)len;
}

int swco_process_use_queue(swco_process_t *p, long key)
{
    if (!p)
        return swco__fail(-EINVAL);
    if (p->msqid >= 0)
        return swco__fail(-EBUSY);
    int id = msgget(key ? (key_t)key : IPC_PRIVATE, IPC_CREAT | 0600);
    if (id < 0)
        return swco__fail(-errno);
    p->msqid = id;
    return 0;
}

long swco_process_push(swco_process_t *p, const void *data, size_t len)
{
    if (!p || !data || !len)
        return swco__fail(-EINVAL);
    if (p->msqid < 0)
        return swco__fail(-ENOTCONN);
    if (len > SWCO_PROCESS_MSG_MAX)
        return swco__fail(-EMSGSIZE);
    long rc = swco__msgq_send(p->msqid, data, len);
    return rc < 0 ? swco__fail((int)rc) : rc;
}

long swco_process_pop(swco_process_t *p, void *buf, size_t cap, double timeout)
{
    if (!p || !buf || !cap)
        return swco__fail(-EINVAL);
    if (p->msqid < 0)
        return swco__fail(-ENOTCONN);
    struct qmsg *m = malloc(sizeof *m);
    if (!m)
        return swco__fail(-ENOMEM);
    swco__deadline_t deadline = swco__deadline_from_timeout(timeout);
    int co = swco__co_current() != NULL;
    double pause = 0.0005;
    long rc;
    for (;;) {
        int flags = MSG_NOERROR | ((co || deadline != SWCO__DEADLINE_NONE) ? IPC_NOWAIT : 0);
        ssize_t n = msgrcv(p->msqid, m, SWCO_PROCESS_MSG_MAX, 0, flags);
        if (n >= 0) {
            size_t c = (size_t)n < cap ? (size_t)n : cap;
            memcpy(buf, m->mtext, c);
            rc = (long)c;
            break;
        }
        if (errno == EINTR)
            continue;
        if (errno != ENOMSG) {
            rc = -errno;
            break;
        }
        if (swco__deadline_passed(deadline)) {
            rc = -ETIMEDOUT;
            break;
        }
        int s = nap(pause);
        if (s < 0) {
            rc = s;
            break;
        }
        if (pause < 0.01)
            pause *= 2;
    }
    free(m);
    return rc < 0 ? swco__fail((int)rc) : rc;
}

int swco_process_queue_remove(swco_process_t *p)
{
    if (!p)
        return swco__fail(-EINVAL);
    if (p->msqid < 0)
        return swco__fail(-ENOTCONN);
    int rc = msgctl(p->msqid, IPC_RMID, NULL);
    p->msqid = -1;
    return rc < 0 ? swco__fail(-errno) : 0;
}
