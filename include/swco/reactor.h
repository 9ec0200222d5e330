/* libswco: the per-thread event loop.
 *
 * Each thread has one loop (epoll, or poll when chosen), created when first
 * used.  One turn of the loop runs, in this order: signal handlers, deferred
 * calls, coroutines an unbuffered channel made runnable (swco/channel.h),
 * expired timers, fd events, the cycle callback.  swco_run() and
 * swco_event_wait() turn it until nothing keeps it alive.
 */
#ifndef SWCO_REACTOR_H
#define SWCO_REACTOR_H

#include <swco/export.h>
#include <swco/types.h>

SWCO_BEGIN_DECLS

/* Interest and event bits. */
enum swco_event_flag {
    SWCO_EVENT_READ = 1,
    SWCO_EVENT_WRITE = 2,
    SWCO_EVENT_ERROR = 4,   /* reported only: hang-up or error on the fd */
    SWCO_EVENT_NOREF = 8    /* at add: this fd alone does not keep the loop alive */
};

/* Poll backends. */
enum swco_backend {
    SWCO_BACKEND_EPOLL = 0,
    SWCO_BACKEND_POLL = 1
};

/* Called on the loop's own stack (not in a coroutine) with the events seen. */
typedef void (*swco_event_fn)(int fd, int events, void *arg);

/**
 * swco_event_add - watch an fd for readiness
 *
 * Registers fd with the calling thread's loop for events (SWCO_EVENT_READ,
 * SWCO_EVENT_WRITE, or both; SWCO_EVENT_NOREF so it does not keep the loop
 * alive by itself).  fn(fd, seen, arg) is called on every turn the fd is
 * ready, level-triggered, until the fd is modified or deleted.
 * arg_free(arg), when not NULL, is called once the registration ends:
 * by swco_event_del(), or when the thread's loop is released with fd still
 * registered.  When the call fails it is not called and arg stays the
 * caller's.  Returns 0, -EBADF for a negative fd or one at or above the
 * process's RLIMIT_NOFILE that is not open, -EEXIST when fd is already
 * registered, -EINVAL for fn NULL or no events, -ENOMEM, or the backend's
 * -errno.
 */
SWCO_API int swco_event_add(int fd, int events, swco_event_fn fn, void *arg,
                            swco_free_fn arg_free);

/**
 * swco_event_modify - change the events watched on a registered fd
 *
 * events may be 0 to keep the registration but watch nothing for now.
 * Returns 0, -ENOENT when fd is not registered, or the backend's -errno.
 */
SWCO_API int swco_event_modify(int fd, int events);

/**
 * swco_event_del - stop watching an fd
 *
 * Call it before closing the fd.  Coroutines waiting on fd in
 * swco_event_wait_fd() wake with -ECANCELED.  The arg_free given to
 * swco_event_add() is called with its arg before this returns.  Returns 0
 * or -ENOENT.
 */
SWCO_API int swco_event_del(int fd);

/**
 * swco_event_isset - whether fd is registered, and for what
 *
 * Returns the events fd is watched for (possibly 0), or -ENOENT.
 */
SWCO_API int swco_event_isset(int fd);

/**
 * swco_event_wait_fd - wait in a coroutine until an fd is ready
 *
 * Suspends the calling coroutine until fd is readable (events
 * SWCO_EVENT_READ) or writable (SWCO_EVENT_WRITE), or timeout seconds pass
 * (<= 0: no limit).  The fd should be non-blocking: try the operation first
 * and wait only on EAGAIN, since readiness may be reported once per change
 * (edge-triggered) and a wait may also return early.  One coroutine may wait
 * for reading and another for writing the same fd at once.  Call
 * swco_event_del(fd) before closing the fd: it cancels the waiters.
 *
 * Returns the events seen (SWCO_EVENT_READ or SWCO_EVENT_WRITE, with
 * SWCO_EVENT_ERROR on hang-up or error), -ETIMEDOUT, -ECANCELED,
 * -EBUSY when another coroutine already waits on fd in that direction,
 * -EEXIST when fd is registered with swco_event_add(), SWCO_ENOTCO outside a
 * coroutine, -EINVAL, -ENOMEM, or -EBADF (fd negative, or at or above
 * RLIMIT_NOFILE and not open).
 */
SWCO_API int swco_event_wait_fd(int fd, int events, double timeout);

/**
 * swco_event_defer - run fn(arg) on the next turn of the loop
 *
 * The seed's zero-millisecond timer: deferred calls run before timers, in
 * the order they were added, on the loop's stack.  A call added by a
 * deferred call runs on the turn after.  arg_free(arg), when not NULL, is
 * called right after fn(arg) has run (or, for a call still pending when the
 * thread's loop is released, instead of it).  When the call fails it is
 * not called and arg stays the caller's.  Returns 0, -EINVAL, -ENOMEM.
 */
SWCO_API int swco_event_defer(swco_fn fn, void *arg, swco_free_fn arg_free);

/**
 * swco_event_cycle - call fn(arg) at the end of every turn of the loop
 *
 * One cycle callback per thread; fn NULL removes it.  It does not keep the
 * loop alive.  arg_free(arg), when not NULL, is called once this
 * registration is replaced or removed by a later call, or when the thread's
 * loop is released; when the call fails, or fn is NULL, it is not called.  Returns 0, or
 * -ENOMEM when the thread's loop cannot be created.
 */
SWCO_API int swco_event_cycle(swco_fn fn, void *arg, swco_free_fn arg_free);

/**
 * swco_event_wait - run the event loop until nothing keeps it alive
 *
 * For callback-style programs (and after swco_coroutine_create() outside a
 * coroutine): turns the calling thread's loop until no registered fd, timer,
 * deferred call, signal handler or thread-pool job is left, then releases the
 * loop.  Returns 0, SWCO_EDEADLOCK as swco_run() does, or SWCO_ECOSTATE when
 * called from a coroutine.
 */
SWCO_API int swco_event_wait(void);

/**
 * swco_event_exit - make the running loop return after this turn
 *
 * Returns 0, or -ENOENT when the thread has no loop.
 */
SWCO_API int swco_event_exit(void);

/**
 * swco_event_set_backend - choose epoll or poll for this thread's loop
 *
 * Must be called before the thread's loop is created (before any other call
 * that uses it).  The environment variable SWCO_BACKEND=poll does the same
 * for every thread.  Returns 0, -EINVAL for an unknown backend, SWCO_ECOSTATE
 * when the loop exists already.
 */
SWCO_API int swco_event_set_backend(int backend);

/**
 * swco_event_get_backend - the backend this thread's loop uses (or will use)
 */
SWCO_API int swco_event_get_backend(void);

/**
 * swco_event_signal - handle a signal in the event loop
 *
 * Blocks signo in the calling thread and delivers it through signalfd:
 * fn(signo, arg) runs in the loop, first in its turn, never inside an
 * interrupted system call.  A handler keeps the loop alive; fn NULL removes
 * it and unblocks the signal.  arg_free(arg), when not NULL, is called once
 * the handler is replaced or removed by a later call for signo, or when the
 * thread's loop is released; when the call fails, or fn is NULL, it is not
 * called and arg stays the caller's.  Returns 0, -EINVAL for SIGKILL, SIGSTOP or an invalid
 * number, -errno from signalfd.
 */
SWCO_API int swco_event_signal(int signo, swco_signal_fn fn, void *arg, swco_free_fn arg_free);

/**
 * swco_event_now - the loop's cached monotonic time in seconds
 *
 * Updated once per turn (millisecond resolution).  Returns the monotonic
 * clock directly when the thread has no loop.
 */
SWCO_API double swco_event_now(void);

SWCO_END_DECLS

#endif /* SWCO_REACTOR_H */
