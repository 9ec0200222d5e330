/* Signals: the handled ones are blocked in the loop's thread and read
 * from a signalfd the loop watches. */
#include "reactor_int.h"

#include <sys/signalfd.h>
#include <unistd.h>

static void signal_read(int fd, int events, void *arg);

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

void swco__signals_run(swco__reactor_t *r)
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
