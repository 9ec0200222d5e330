/* libswco: run a shell command and collect its output without blocking.
 */
#ifndef SWCO_EXEC_H
#define SWCO_EXEC_H

#include <stddef.h>

#include <swco/export.h>

SWCO_BEGIN_DECLS

/**
 * swco_exec_run - run a shell command and collect its standard output
 *
 * Runs cmd with /bin/sh -c (stdin from /dev/null, stderr inherited), reads
 * its standard output through a pipe watched by the loop and reaps the
 * child through a pidfd (or by polling waitpid() on kernels without
 * pidfd_open), so the thread never blocks and many commands can run at
 * once.  Outside a coroutine it blocks the calling thread instead.
 *
 * When out is not NULL, *out receives a malloc'd, NUL-terminated copy of
 * the output (free it with free()) and *out_len, when not NULL, its length.
 * *status, when status is not NULL, receives the exit code, or 128 plus the
 * signal number when the command was killed by a signal.  timeout (< 0
 * never, 0 no limit either, > 0 seconds) bounds the whole run: on expiry
 * (or when the coroutine is cancelled) the command's process group is
 * killed with SIGKILL and the shell reaped.  The command runs in a process
 * group of its own, so this also kills what it started in the background
 * (unless that moved to another group, e.g. with setsid), and a terminal's
 * Ctrl-C does not reach it.
 *
 * Returns 0 (whatever the exit code), -ETIMEDOUT, -ECANCELED, -EINVAL,
 * -ENOMEM, or -errno when the command cannot be started.
 */
SWCO_API int swco_exec_run(const char *cmd, char **out, size_t *out_len, int *status, double timeout);

SWCO_END_DECLS

#endif /* SWCO_EXEC_H */
