/* libswco: runtime hooks.  Link libswco_hook (or LD_PRELOAD it) and
 * unmodified blocking calls made inside a coroutine yield instead of
 * blocking the thread.  Not included by <swco.h>: only programs that want
 * the hooks link this library. */
#ifndef SWCO_HOOK_H
#define SWCO_HOOK_H

#include <swco/export.h>

SWCO_BEGIN_DECLS

/* What swco_hook_enable() makes coroutine-aware (Swoole's SWOOLE_HOOK_*). */
enum swco_hook_flag {
    SWCO_HOOK_SLEEP = 1 << 0, /* sleep, usleep, nanosleep */
    SWCO_HOOK_TCP = 1 << 1,   /* connect, accept, read/write/recv/send... and poll on TCP sockets */
    SWCO_HOOK_UDP = 1 << 2,   /* the same on UDP sockets */
    SWCO_HOOK_UNIX = 1 << 3,  /* the same on Unix-domain sockets (stream and datagram) */
    SWCO_HOOK_FILE = 1 << 4,  /* read, write, readv, writev on regular files (AIO pool) */
    SWCO_HOOK_DNS = 1 << 5,   /* getaddrinfo */
    SWCO_HOOK_CURL = 1 << 6,  /* curl_easy_perform becomes swco_curl_perform */
    SWCO_HOOK_ALL = 0x7f
};

/**
 * swco_hook_enable - make blocking libc calls yield inside coroutines
 *
 * Replaces the process's hook flags with flags (SWCO_HOOK_* bits).  From
 * then on, in any thread, the hooked calls made inside a coroutine wait
 * through the thread's event loop instead of blocking it: the sleep family
 * sleeps the coroutine; connect, accept, read, write, recv, send, their
 * vector and msg forms and poll on a blocking socket of an enabled kind
 * wait for readiness (SO_RCVTIMEO and SO_SNDTIMEO are the wait limits, and
 * expiry gives EAGAIN as usual); getaddrinfo, and with SWCO_HOOK_FILE
 * read, write, readv and writev on regular files, run on the AIO thread
 * pool (aio.h: the process's one pool, with its limits) while the coroutine
 * waits; curl_easy_perform is swco_curl_perform().  Outside coroutines, for
 * sockets the caller made non-blocking, for other fds and for flags left
 * off, the calls are the plain libc ones.  The setting can also be given
 * at load time in the environment: SWCO_HOOK=all, or a number.
 *
 * Returns 0, or -EINVAL for unknown bits.
 */
SWCO_API int swco_hook_enable(int flags);

/**
 * swco_hook_disable - make every hooked call the plain libc call again
 *
 * Clears all hook flags.  Calls already waiting finish as they started.
 * Returns 0.
 */
SWCO_API int swco_hook_disable(void);

/**
 * swco_hook_get_flags - the hook flags in effect
 *
 * Returns the SWCO_HOOK_* bits set by swco_hook_enable(), 0 when disabled.
 */
SWCO_API int swco_hook_get_flags(void);

SWCO_END_DECLS

#endif /* SWCO_HOOK_H */
