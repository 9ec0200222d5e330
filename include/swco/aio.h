/* libswco: the AIO thread pool.
 *
 * Work that cannot be made non-blocking (getaddrinfo, regular files, any
 * blocking library call) runs on a process-wide pool of threads while the
 * calling coroutine yields.  The pool starts empty, grows on demand up to a
 * maximum, and threads that stay idle for a while exit.  A finished job
 * reaches the thread that queued it through that thread's event loop.
 */
#ifndef SWCO_AIO_H
#define SWCO_AIO_H

#include <swco/export.h>
#include <swco/types.h>

SWCO_BEGIN_DECLS

/**
 * swco_aio_run - run fn(arg) on the AIO thread pool and wait for it
 *
 * Queues fn(arg) on a pool thread and suspends the calling coroutine until
 * fn returns or timeout seconds pass (<= 0: no limit).  Outside a
 * coroutine fn(arg) simply runs in the calling thread.
 *
 * Ownership of arg: when swco_aio_run() returns 0, fn has run and arg is
 * still the caller's.  When it returns an error, arg belongs to the
 * library: fn may still be running (after a timeout or a cancel), and
 * arg_free(arg), when not NULL, is called on the calling thread's loop once
 * fn can no longer touch it.  A job no pool thread has started yet when
 * the caller gives up is taken off the queue: fn never runs, arg_free(arg)
 * is called at once, and the jobs queued after it do not wait for it.  So pass heap
 * memory and an arg_free whenever a timeout or cancel is possible; the
 * loop stays alive until abandoned jobs have finished.
 *
 * Returns 0, -ETIMEDOUT, -ECANCELED (the coroutine was cancelled), -EINVAL
 * (fn NULL), -ENOMEM, or -EAGAIN when no pool thread could be started.
 */
SWCO_API int swco_aio_run(swco_fn fn, void *arg, swco_free_fn arg_free, double timeout);

/**
 * swco_aio_set_max_threads - set the pool's maximum number of threads
 *
 * The pool starts threads on demand up to n (default 64); jobs beyond that
 * wait in a queue.  Lowering the maximum lets extra threads exit when they
 * next become idle.  Returns 0 or -EINVAL for n < 1.
 */
SWCO_API int swco_aio_set_max_threads(int n);

/**
 * swco_aio_get_max_threads - the pool's maximum number of threads
 */
SWCO_API int swco_aio_get_max_threads(void);

/**
 * swco_aio_set_idle_timeout - how long an idle pool thread lives
 *
 * A pool thread with nothing to do for seconds (default 1.0) exits.
 * Returns 0 or -EINVAL for seconds <= 0.
 */
SWCO_API int swco_aio_set_idle_timeout(double seconds);

/**
 * swco_aio_thread_count - number of pool threads alive now
 */
SWCO_API int swco_aio_thread_count(void);

/**
 * swco_aio_pending - number of jobs queued or running in the pool
 */
SWCO_API int swco_aio_pending(void);

SWCO_END_DECLS

#endif /* SWCO_AIO_H */
