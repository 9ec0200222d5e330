/* Shell commands with piped output: spawn, read the pipe through the loop,
 * reap the child through a pidfd (or by polling waitpid()). */
#include "io/io_int.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* Wait for fd to be readable until deadline, in or out of a coroutine. */
static int wait_readable(int fd, swco__deadline_t deadline)
{
    int rc = swco__wait_fd_until(fd, SWCO_EVENT_READ | SWCO__WAIT_BLOCK, deadline);
    return rc < 0 ? rc : 0;
}

static int pause_short(swco__deadline_t deadline)
{
    if (swco__deadline_passed(deadline))
        return -ETIMEDOUT;
    if (swco__co_current())
        return swco_sleep(0.005);
    usleep(5000);
    return 0;
}

static int spawn_shell(const char *cmd, int outfd, pid_t *pid)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_adddup2(&fa, outfd, STDOUT_FILENO);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    /* The loop's thread may block signals for signalfd: give the child a
     * clean mask and default SIGPIPE. */
    sigset_t none, def;
    sigemptyset(&none);
    sigemptyset(&def);
    sigaddset(&def, SIGPIPE);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &def);
    /* Its own process group, so a timeout or cancel can kill whatever the
     * command started too, not only the shell. */
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr,
                             POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
    char *argv[] = {"sh", "-c", (char *)cmd, NULL};
    int rc = posix_spawn(pid, "/bin/sh", &fa, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    return -rc;
}

static void fd_close(int fd)
{
    if (fd < 0)
        return;
    if (swco__reactor_peek())
        swco_event_del(fd);
    close(fd);
}

/* Reap pid until deadline; *wstatus gets the raw status. */
static int reap(pid_t pid, swco__deadline_t deadline, int *wstatus)
{
    /* SWCO_EXEC_NO_PIDFD (any value) forces the waitpid() polling path,
     * as on kernels before 5.3; the tests use it. */
    int pidfd = getenv("SWCO_EXEC_NO_PIDFD") ? -1 : (int)syscall(SYS_pidfd_open, pid, 0);
    int rc = 0;
    for (;;) {
        pid_t r = waitpid(pid, wstatus, WNOHANG);
        if (r == pid)
            break;
        if (r < 0 && errno != EINTR) {
            rc = -errno;
            break;
        }
        rc = pidfd >= 0 ? wait_readable(pidfd, deadline) : pause_short(deadline);
        if (rc != 0)
            break;
    }
    fd_close(pidfd);
    return rc;
}

int swco_exec_run(const char *cmd, char **out, size_t *out_len, int *status, double timeout)
{
    if (!cmd)
        return swco__fail(-EINVAL);
    if (out)
        *out = NULL;
    if (out_len)
        *out_len = 0;
    swco__deadline_t deadline = swco__deadline_from_timeout(timeout);
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0)
        return swco__fail(-errno);
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    pid_t pid;
    int rc = spawn_shell(cmd, p[1], &pid);
    close(p[1]);
    if (rc != 0) {
        close(p[0]);
        return swco__fail(rc);
    }
    size_t len = 0, cap = 4096;
    char *buf = malloc(cap);
    if (!buf)
        rc = -ENOMEM;
    while (rc == 0) {
        if (cap - len < 1024) {
            char *b = realloc(buf, cap * 2);
            if (!b) {
                rc = -ENOMEM;
                break;
            }
            buf = b;
            cap *= 2;
        }
        ssize_t n = read(p[0], buf + len, cap - len - 1);
        if (n > 0) {
            len += (size_t)n;
            continue;
        }
        if (n == 0)
            break;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN) {
            rc = -errno;
            break;
        }
        rc = wait_readable(p[0], deadline);
    }
    fd_close(p[0]);
    int ws = 0;
    if (rc == 0)
        rc = reap(pid, deadline, &ws);
    if (rc != 0) {
        /* Timed out, cancelled or failed: kill the command's whole process
         * group (the shell is its leader and, not reaped yet, keeps the
         * group id from being reused) and reap the shell synchronously
         * (SIGKILL makes that immediate). */
        if (kill(-pid, SIGKILL) < 0)
            kill(pid, SIGKILL);
        while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
            ;
        free(buf);
        return swco__fail(rc);
    }
    if (status)
        *status = WIFEXITED(ws) ? WEXITSTATUS(ws) : WIFSIGNALED(ws) ? 128 + WTERMSIG(ws) : -1;
    buf[len] = 0;
    if (out) {
        *out = buf;
        if (out_len)
            *out_len = len;
    } else {
        free(buf);
    }
    return 0;
}
