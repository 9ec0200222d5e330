/* libswco: a process pool.
 *
 * swco_pool_start() turns the calling process into a manager that keeps N
 * worker processes running: a worker that exits or crashes is started
 * again with the same worker id.  Workers receive messages from a System V
 * message queue, from a unix socket pair per worker id (swco_pool_send()),
 * or from a TCP or unix socket the manager listens on (the workers accept
 * from it; each connection carries one length-prefixed message and may get
 * one reply; a worker reads the messages of the connections it accepted
 * without blocking and runs the callback only for a complete one, so idle
 * or slow clients do not occupy it, and a message must arrive whole within
 * the message timeout, see swco_pool_set_message_timeout()).  SIGTERM to the manager stops every
 * worker after its current message; SIGUSR1 restarts the workers one at a
 * time, so messages keep flowing and none is lost.  A worker may run
 * coroutines (call swco_run() in its callbacks).
 *
 * Manager and workers run on the libswco event loop and sleep there until
 * something happens: a message wakes its worker at once, and an idle pool
 * does not wake up at all.  A worker's loop is not running while its
 * callbacks run; what they leave on it (a coroutine started with
 * swco_coroutine_create(), a timer) runs while the worker waits for its
 * next message.  In message queue mode a worker blocks in msgrcv() (a
 * System V queue cannot be watched by the loop), which a message or the
 * stop signal ends.
 */
#ifndef SWCO_POOL_H
#define SWCO_POOL_H

#include <stddef.h>

#include <swco/export.h>
#include <swco/types.h>

SWCO_BEGIN_DECLS

typedef struct swco_pool swco_pool_t;

/* In a worker: its start, or its stop just before it exits. */
typedef void (*swco_pool_worker_fn)(swco_pool_t *pool, int worker_id, void *arg);
/* In a worker: one message. */
typedef void (*swco_pool_message_fn)(swco_pool_t *pool, int worker_id, const void *data,
                                     size_t len, void *arg);

/* How messages reach the workers. */
enum swco_pool_ipc {
    SWCO_POOL_IPC_NONE = 0,     /* none: the start callback is the worker's body */
    SWCO_POOL_IPC_MSGQUEUE = 1, /* a System V message queue */
    SWCO_POOL_IPC_SOCKET = 2,   /* a listening TCP or unix socket */
    SWCO_POOL_IPC_UNIXSOCK = 3  /* one unix datagram socket pair per worker id */
};

/* Largest message in socket mode (the 4-byte length header excluded). */
#define SWCO_POOL_MSG_MAX (8 * 1024 * 1024)

/**
 * swco_pool_new - create a pool of worker processes
 *
 * ipc is a SWCO_POOL_IPC_* mode.  For SWCO_POOL_IPC_UNIXSOCK the socket
 * pairs are made here, so messages sent before start wait for the
 * workers.  For SWCO_POOL_IPC_MSGQUEUE, queue_key 0
 * creates a private queue (removed by swco_pool_free() in the creating
 * process); another key opens or creates that queue so other programs can
 * push to it.  Returns the pool, or NULL with swco_last_error() set to
 * -EINVAL (workers outside 1..1024, bad mode), -ENOMEM or -errno from
 * msgget().
 */
SWCO_API swco_pool_t *swco_pool_new(int workers, int ipc, long queue_key);

/**
 * swco_pool_free - free the pool
 *
 * Releases the callbacks' args, closes the listening socket, removes a
 * private queue.  Call it in the process that created the pool, after
 * swco_pool_start() returned.  NULL is ignored.
 */
SWCO_API void swco_pool_free(swco_pool_t *pool);

/**
 * swco_pool_on_worker_start - set the callback run when a worker starts
 *
 * fn(pool, worker_id, arg) runs first in every new worker.  With
 * SWCO_POOL_IPC_NONE it is the worker's whole job: loop until
 * swco_pool_is_stopping(); when it returns the worker exits and is
 * started again.  arg_free(arg) runs at swco_pool_free() or when replaced.
 * Returns 0 or -EINVAL.
 */
SWCO_API int swco_pool_on_worker_start(swco_pool_t *pool, swco_pool_worker_fn fn, void *arg,
                                       swco_free_fn arg_free);

/**
 * swco_pool_on_worker_stop - set the callback run when a worker stops
 *
 * fn(pool, worker_id, arg) runs in a worker that leaves cleanly (stop or
 * reload), not in one that crashed.  Returns 0 or -EINVAL.
 */
SWCO_API int swco_pool_on_worker_stop(swco_pool_t *pool, swco_pool_worker_fn fn, void *arg,
                                      swco_free_fn arg_free);

/**
 * swco_pool_on_message - set the callback for each message
 *
 * fn(pool, worker_id, data, len, arg) runs in the worker that received the
 * message; data is valid during the call.  Needed by the message queue and
 * socket modes.  Returns 0 or -EINVAL.
 */
SWCO_API int swco_pool_on_message(swco_pool_t *pool, swco_pool_message_fn fn, void *arg,
                                  swco_free_fn arg_free);

/**
 * swco_pool_listen - listen on a TCP address (socket mode)
 *
 * host is a numeric IPv4 or IPv6 address; port 0 picks a free port (see
 * swco_pool_port()).  Call before swco_pool_start().  Returns 0, -EINVAL
 * (not socket mode, bad address, already listening) or -errno.
 */
SWCO_API int swco_pool_listen(swco_pool_t *pool, const char *host, int port, int backlog);

/**
 * swco_pool_listen_unix - listen on a unix socket path (socket mode)
 *
 * An existing socket file at path is replaced.  Returns as
 * swco_pool_listen().
 */
SWCO_API int swco_pool_listen_unix(swco_pool_t *pool, const char *path, int backlog);

/**
 * swco_pool_port - the TCP port the pool listens on
 *
 * Returns the port, or -ENOTCONN when not listening on TCP, -EINVAL.
 */
SWCO_API int swco_pool_port(const swco_pool_t *pool);

/**
 * swco_pool_set_max_wait - limit how long a stop or reload waits per worker
 *
 * A worker still running seconds after SIGTERM is killed with SIGKILL
 * (default 30 s).  Returns 0 or -EINVAL.
 */
SWCO_API int swco_pool_set_max_wait(swco_pool_t *pool, double seconds);

/**
 * swco_pool_set_message_timeout - bound how long a socket-mode client may take
 *
 * In socket mode each connection must deliver its whole message (length
 * header and data) within seconds of being accepted, else the worker
 * closes it unanswered; and swco_pool_reply() gives up with -ETIMEDOUT
 * when the client has not taken the whole reply within seconds.  Default
 * 5 s.  A stopping or reloading worker accepts no new connection but
 * finishes the ones it holds, so it may take up to this long to exit.
 * Call before swco_pool_start().  Returns 0 or -EINVAL (seconds not in
 * (0, 1e6]).
 */
SWCO_API int swco_pool_set_message_timeout(swco_pool_t *pool, double seconds);

/**
 * swco_pool_start - run the manager in the calling process
 *
 * Starts the workers and keeps them running until SIGTERM (or
 * swco_pool_shutdown()); SIGUSR1 (or swco_pool_reload()) restarts them one
 * by one.  A worker that dies within 100 ms of its start five times in a
 * row is restarted after a delay growing from 50 ms to 1 s.  Blocks the
 * calling thread (do not call it in a coroutine) and
 * returns 0 once every worker has exited, or -EINVAL (socket mode without
 * listen, missing message callback, already started), SWCO_ECOSTATE
 * inside a coroutine or a callback of the thread's event loop, or -errno.
 * The manager runs the calling thread's event loop meanwhile, handling
 * SIGCHLD, SIGTERM and SIGUSR1 on it (handlers set there with
 * swco_event_signal() for them are replaced, and removed at the end; the
 * thread's signal mask is restored).  Anything else registered on that
 * loop runs too.
 */
SWCO_API int swco_pool_start(swco_pool_t *pool);

/**
 * swco_pool_shutdown - ask the manager to stop (SIGTERM to it)
 *
 * Works from the manager, a worker, or the process that forked the
 * manager.  Returns 0, -ESRCH when no manager runs, -EINVAL.
 */
SWCO_API int swco_pool_shutdown(swco_pool_t *pool);

/**
 * swco_pool_reload - ask the manager to restart the workers (SIGUSR1)
 *
 * Returns as swco_pool_shutdown().
 */
SWCO_API int swco_pool_reload(swco_pool_t *pool);

/**
 * swco_pool_is_stopping - whether this worker has been asked to stop
 *
 * Returns 1 in a worker that got SIGTERM (stop or reload), else 0.
 */
SWCO_API int swco_pool_is_stopping(const swco_pool_t *pool);

/**
 * swco_pool_worker_id - the calling worker's id
 *
 * Returns 0..workers-1 in a worker, SWCO_ENOTWORKER in the manager or any
 * other process, -EINVAL for NULL.
 */
SWCO_API int swco_pool_worker_id(const swco_pool_t *pool);

/**
 * swco_pool_worker_pid - pid of worker id, as the manager last started it
 *
 * Readable from any process that shares the pool (it lives in shared
 * memory).  Returns the pid, 0 when that worker is not running, -EINVAL.
 */
SWCO_API int swco_pool_worker_pid(const swco_pool_t *pool, int worker_id);

/**
 * swco_pool_manager_pid - pid of the running manager
 *
 * Returns the pid, 0 when none runs, -EINVAL.
 */
SWCO_API int swco_pool_manager_pid(const swco_pool_t *pool);

/**
 * swco_pool_reply - answer the message being handled
 *
 * Call it in the message callback.  In socket mode the client reads a
 * 4-byte big-endian length and the data; in unix socket mode the reply is
 * one datagram for swco_pool_recv().  Returns len, -EINVAL when no message is being
 * handled or len exceeds SWCO_POOL_MSG_MAX, -ETIMEDOUT (socket mode: the
 * client did not read the reply within the message timeout) or -errno
 * (-EPIPE: client gone).
 */
SWCO_API long swco_pool_reply(swco_pool_t *pool, const void *data, size_t len);

/**
 * swco_pool_send - send one message to worker id (unix socket mode)
 *
 * Any process sharing the pool may call it, before or after start; the
 * message waits in the worker's socket until that worker (or its
 * replacement after a crash or reload) reads it.  Blocks while the socket
 * is full.  Returns len, -EINVAL (other mode, bad id, len 0 or over the
 * socket's limit: -EMSGSIZE) or -errno.
 */
SWCO_API long swco_pool_send(swco_pool_t *pool, int worker_id, const void *data, size_t len);

/**
 * swco_pool_recv - read one reply that worker id sent (unix socket mode)
 *
 * Replies are what the worker passed to swco_pool_reply().  Waits up to
 * timeout seconds (<= 0: for ever), blocking the thread.  A reply longer
 * than cap is cut.  Returns the bytes copied, -ETIMEDOUT, -EINVAL, -errno.
 */
SWCO_API long swco_pool_recv(swco_pool_t *pool, int worker_id, void *buf, size_t cap,
                             double timeout);

/**
 * swco_pool_push - put a message on the pool's queue (message queue mode)
 *
 * Any process sharing the pool may call it; it blocks while the queue is
 * full.  len is 1..SWCO_PROCESS_MSG_MAX.  Returns len, -EINVAL (other
 * mode, bad length) or -errno.
 */
SWCO_API long swco_pool_push(swco_pool_t *pool, const void *data, size_t len);

SWCO_END_DECLS

#endif /* SWCO_POOL_H */
