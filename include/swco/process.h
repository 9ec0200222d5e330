/* libswco: child processes with an IPC channel.
 *
 * swco_process_new() describes the child (a function, an optional unix
 * socket pair, optional stdin/stdout redirect into it); swco_process_start()
 * forks it.  Reads, writes and waits block the thread outside a coroutine
 * and yield the coroutine inside one.  A System V message queue can be used
 * instead of, or beside, the socket pair.
 */
#ifndef SWCO_PROCESS_H
#define SWCO_PROCESS_H

#include <stddef.h>

#include <swco/export.h>
#include <swco/types.h>

SWCO_BEGIN_DECLS

typedef struct swco_process swco_process_t;

/* Runs in the child; when it returns the child exits with status 0. */
typedef void (*swco_process_fn)(swco_process_t *proc, void *arg);

/* IPC channel kinds for swco_process_new(). */
enum swco_process_ipc {
    SWCO_PROCESS_IPC_NONE = 0,   /* no channel */
    SWCO_PROCESS_IPC_STREAM = 1, /* SOCK_STREAM socket pair */
    SWCO_PROCESS_IPC_DGRAM = 2   /* SOCK_DGRAM socket pair: one write, one read */
};

/* Largest message for swco_process_push()/swco_process_pop(). */
#define SWCO_PROCESS_MSG_MAX 65536

/**
 * swco_process_new - describe a child process
 *
 * fn(proc, arg) runs in the child once started.  ipc is a
 * SWCO_PROCESS_IPC_* kind; redirect_stdio non-zero makes the child's
 * stdin and stdout the channel (needs a channel).  arg_free(arg), when not
 * NULL, runs at swco_process_free() in the parent.  Returns the process, or
 * NULL with swco_last_error() set to -EINVAL or -ENOMEM.
 */
SWCO_API swco_process_t *swco_process_new(swco_process_fn fn, void *arg, swco_free_fn arg_free,
                                          int ipc, int redirect_stdio);

/**
 * swco_process_free - close the channel and free the object
 *
 * The child is neither killed nor waited for.  NULL is ignored.
 */
SWCO_API void swco_process_free(swco_process_t *proc);

/**
 * swco_process_start - fork the child and run its function there
 *
 * In the child the randomness of rand()/random() is re-seeded, so children
 * do not repeat the parent's sequence, signal handlers are reset to the
 * default (ignored signals stay ignored) and no signal is blocked.  Do not use the parent's event loop
 * in the child.  Returns the child's pid to the parent, -EBUSY when already
 * started, or -errno from socketpair()/fork().
 */
SWCO_API int swco_process_start(swco_process_t *proc);

/**
 * swco_process_pid - pid of the child (in the child: its own pid)
 *
 * Returns the pid, 0 before start, -EINVAL for NULL.
 */
SWCO_API int swco_process_pid(const swco_process_t *proc);

/**
 * swco_process_fd - this side's end of the channel
 *
 * Returns the fd, -EBADF when there is none (no channel, or closed),
 * -EINVAL for NULL.
 */
SWCO_API int swco_process_fd(const swco_process_t *proc);

/**
 * swco_process_write - send len bytes over the channel
 *
 * A stream channel sends everything (looping on partial writes); a
 * datagram channel sends one message.  Waits up to timeout seconds
 * (<= 0: for ever) for room, yielding inside a coroutine.  Returns the
 * bytes sent, -EPIPE when the other end is closed, -ETIMEDOUT, -ENOTCONN
 * without a channel, -EINVAL, or another -errno.
 */
SWCO_API long swco_process_write(swco_process_t *proc, const void *buf, size_t len,
                                 double timeout);

/**
 * swco_process_read - receive up to cap bytes from the channel
 *
 * Waits up to timeout seconds (<= 0: for ever), yielding inside a
 * coroutine.  Returns the bytes read (one message for a datagram channel),
 * 0 at end of stream, -ETIMEDOUT, -ENOTCONN, -EINVAL, or another -errno.
 */
SWCO_API long swco_process_read(swco_process_t *proc, void *buf, size_t cap, double timeout);

/**
 * swco_process_close - close this side's end of the channel
 *
 * The other side then reads end of stream.  Returns 0 or -ENOTCONN.
 */
SWCO_API int swco_process_close(swco_process_t *proc);

/**
 * swco_process_exec - replace the child's program (call it in the child)
 *
 * argv is a NULL-terminated list whose first item is the program name;
 * path is searched in PATH when it has no slash.  With redirect_stdio the
 * new program's stdin and stdout stay on the channel.  Returns only on
 * failure: -errno from execvp(), or -EINVAL.
 */
SWCO_API int swco_process_exec(swco_process_t *proc, const char *path, char *const argv[]);

/**
 * swco_process_wait - wait for the child to exit and reap it
 *
 * Waits up to timeout seconds (< 0 or 0: for ever); inside a coroutine it
 * yields.  Then swco_process_exit_code() and swco_process_exit_signal()
 * tell how it ended.  Returns 0, -ETIMEDOUT, -ECHILD when it is not (or no
 * longer) a child, SWCO_EEXITED when it was already reaped, -EINVAL.
 */
SWCO_API int swco_process_wait(swco_process_t *proc, double timeout);

/**
 * swco_process_exit_code - exit status of a reaped child
 *
 * Returns the status 0..255 of a child that exited, 128 plus the signal
 * number for one killed by a signal (as a shell reports it;
 * swco_process_exit_signal() tells the two apart), -EAGAIN while the child
 * has not been reaped (see swco_process_wait()), or -EINVAL for NULL.
 */
SWCO_API int swco_process_exit_code(const swco_process_t *proc);

/**
 * swco_process_exit_signal - signal that killed a reaped child
 *
 * Returns the signal number, or 0 when it exited normally or has not been
 * reaped.
 */
SWCO_API int swco_process_exit_signal(const swco_process_t *proc);

/**
 * swco_process_kill - send signo to pid (0 only checks that it exists)
 *
 * Returns 0 or -errno (-ESRCH: no such process).
 */
SWCO_API int swco_process_kill(int pid, int signo);

/**
 * swco_process_wait_any - reap any child that has exited
 *
 * With blocking 0 it returns at once.  *pid gets the pid, *status the
 * waitpid() status (either may be NULL).  Returns 1 when it reaped one, 0
 * when none has exited (non-blocking), -ECHILD when there are no
 * children, or -EINTR.
 */
SWCO_API int swco_process_wait_any(int blocking, int *pid, int *status);

/**
 * swco_process_set_name - set the calling process's name
 *
 * Sets the name shown by ps -o comm and top (up to 15 bytes kept).
 * Returns 0, -EINVAL, or -errno.
 */
SWCO_API int swco_process_set_name(const char *name);

/**
 * swco_process_daemon - detach the calling process from its terminal
 *
 * As daemon(3): forks, the parent exits, the child starts a new session;
 * nochdir 0 changes to "/", noclose 0 sends stdio to /dev/null.  Returns 0
 * in the daemon or -errno.
 */
SWCO_API int swco_process_daemon(int nochdir, int noclose);

/**
 * swco_process_use_queue - give the process a System V message queue
 *
 * Call before swco_process_start(); parent and child then talk through
 * swco_process_push()/swco_process_pop().  key 0 makes a private queue;
 * another key opens (or creates) that queue, which other programs can
 * open too.  Returns 0, -EBUSY when already set, or -errno from msgget().
 */
SWCO_API int swco_process_use_queue(swco_process_t *proc, long key);

/**
 * swco_process_push - put a message on the queue
 *
 * len is 1..SWCO_PROCESS_MSG_MAX.  Blocks while the queue is full.
 * Returns len, -ENOTCONN without a queue, -EMSGSIZE, -EINVAL, or -errno.
 */
SWCO_API long swco_process_push(swco_process_t *proc, const void *data, size_t len);

/**
 * swco_process_pop - take the oldest message from the queue
 *
 * Waits up to timeout seconds (<= 0: for ever; inside a coroutine it
 * yields between polls).  A message larger than cap is cut to cap bytes.
 * Returns the bytes copied, -ETIMEDOUT, -ENOTCONN, -EIDRM when the queue
 * was removed, -EINVAL, or -errno.
 */
SWCO_API long swco_process_pop(swco_process_t *proc, void *buf, size_t cap, double timeout);

/**
 * swco_process_queue_remove - delete the message queue from the system
 *
 * Returns 0, -ENOTCONN without a queue, or -errno.
 */
SWCO_API int swco_process_queue_remove(swco_process_t *proc);

SWCO_END_DECLS

#endif /* SWCO_PROCESS_H */
