/* Shell commands with collected output, many at once, with timeouts. */
#include "testutil.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void basic(void *arg)
{
    (void)arg;
    char *out;
    size_t len;
    int status = -1;
    ck_assert_int_eq(swco_exec_run("echo hello; echo world", &out, &len, &status, 5), 0);
    ck_assert_str_eq(out, "hello\nworld\n");
    ck_assert_uint_eq(len, 12);
    ck_assert_int_eq(status, 0);
    free(out);
    ck_assert_int_eq(swco_exec_run("exit 3", NULL, NULL, &status, 5), 0);
    ck_assert_int_eq(status, 3);
    ck_assert_int_eq(swco_exec_run("kill -TERM $$", NULL, NULL, &status, 5), 0);
    ck_assert_int_eq(status, 128 + SIGTERM);
    ck_assert_int_eq(swco_exec_run("no-such-command-xyz 2>/dev/null", NULL, NULL, &status, 5), 0);
    ck_assert_int_eq(status, 127);
    /* large output */
    ck_assert_int_eq(swco_exec_run("head -c 1000000 /dev/zero", &out, &len, &status, 5), 0);
    ck_assert_uint_eq(len, 1000000);
    free(out);
    /* timeout kills the child */
    double t0 = now_s();
    ck_assert_int_eq(swco_exec_run("echo partial; sleep 60", &out, &len, &status, 0.2), -ETIMEDOUT);
    ck_assert(now_s() - t0 < 10 * slow()); /* not the 60 s sleep */
    ck_assert_ptr_null(out);
    /* a child that closes stdout but keeps running */
    t0 = now_s();
    ck_assert_int_eq(swco_exec_run("exec >&-; sleep 60", NULL, NULL, &status, 0.2), -ETIMEDOUT);
    ck_assert(now_s() - t0 < 10 * slow());
    ck_assert_int_eq(swco_exec_run(NULL, NULL, NULL, NULL, 1), -EINVAL);
}

START_TEST(exec_basic)
{
    ck_assert_int_eq(swco_run(basic, NULL), 0);
}
END_TEST

START_TEST(exec_outside_coroutine)
{
    char *out;
    int status;
    ck_assert_int_eq(swco_exec_run("echo x", &out, NULL, &status, 5), 0);
    ck_assert_str_eq(out, "x\n");
    free(out);
}
END_TEST

#define N 100
static int finished;
static char gate_dir[64];

/* A barrier through two FIFOs: each command says it has started on one,
 * then blocks reading a line from the other; the test opens the gate only
 * once all N have started.  Run one after another, the first would never
 * pass the gate (its exec would time out), so finishing at all proves the
 * N commands ran at the same time, whatever the machine's load. */
static void one(void *arg)
{
    long n = (long)arg;
    char cmd[512], expect[32], *out = NULL;
    int status = -1;
    snprintf(cmd, sizeof cmd, "echo >%s/started; read x <%s/gate; echo %ld", gate_dir, gate_dir,
             n);
    snprintf(expect, sizeof expect, "%ld\n", n);
    int rc = swco_exec_run(cmd, &out, NULL, &status, 60 * slow());
    ck_assert_msg(rc == 0, "command %ld: %d (the commands did not all run at once)", n, rc);
    ck_assert_str_eq(out, expect);
    ck_assert_int_eq(status, 0);
    free(out);
    finished++;
}

static void hundred(void *arg)
{
    (void)arg;
    char path[128];
    snprintf(path, sizeof path, "%s/started", gate_dir);
    ck_assert_int_eq(mkfifo(path, 0600), 0);
    /* O_RDWR: neither open blocks, and the FIFOs stay open (with their
     * unread lines) until every command is done. */
    int started = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    snprintf(path, sizeof path, "%s/gate", gate_dir);
    ck_assert_int_eq(mkfifo(path, 0600), 0);
    int gate = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    ck_assert_int_ge(started, 0);
    ck_assert_int_ge(gate, 0);

    for (long i = 0; i < N; i++)
        swco_coroutine_create(one, (void *)i);

    int seen = 0;
    while (seen < N) {
        char buf[N];
        ssize_t r = read(started, buf, sizeof buf);
        if (r > 0)
            seen += (int)r;
        else
            ck_assert_int_gt(swco_event_wait_fd(started, SWCO_EVENT_READ, 60 * slow()), 0);
    }
    ck_assert_int_eq(finished, 0);
    char lines[2 * N];
    memset(lines, '\n', N);
    ck_assert_int_eq(write(gate, lines, N), N);
    while (finished < N)
        swco_sleep(0.01);
    close(started);
    close(gate);
}

static void run_hundred(void)
{
    snprintf(gate_dir, sizeof gate_dir, "/tmp/swco-exec-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(gate_dir));
    finished = 0;
    ck_assert_int_eq(swco_run(hundred, NULL), 0);
    ck_assert_int_eq(finished, N);
    char rm[128];
    snprintf(rm, sizeof rm, "rm -rf %s", gate_dir);
    ck_assert_int_eq(system(rm), 0);
}

START_TEST(exec_many)
{
    run_hundred();
}
END_TEST

START_TEST(exec_without_pidfd)
{
    setenv("SWCO_EXEC_NO_PIDFD", "1", 1);
    run_hundred();
    unsetenv("SWCO_EXEC_NO_PIDFD");
}
END_TEST

/* A timeout or cancel kills what the command started, not only the shell.
 * The command starts a background grandchild and reports its pid through
 * a FIFO.  The test process becomes a child subreaper, so the orphaned
 * grandchild is re-parented to it and its death can be observed (and
 * reaped) with waitpid() even where PID 1 reaps nothing. */
static char gc_dir[64], gc_fifo[128];
static int gc_fd = -1;
static long exec_cid;
static int exec_rc;

static void gc_setup(void)
{
    ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    snprintf(gc_dir, sizeof gc_dir, "/tmp/swco-exec-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(gc_dir));
    snprintf(gc_fifo, sizeof gc_fifo, "%s/pid", gc_dir);
    ck_assert_int_eq(mkfifo(gc_fifo, 0600), 0);
    gc_fd = open(gc_fifo, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    ck_assert_int_ge(gc_fd, 0);
}

static const char *gc_cmd(void)
{
    static char cmd[256];
    snprintf(cmd, sizeof cmd, "sleep 60 & echo $! >%s; exec sleep 60", gc_fifo);
    return cmd;
}

/* The grandchild's pid, once the command has written it. */
static pid_t gc_read_pid(void)
{
    char buf[32];
    ssize_t n = read(gc_fd, buf, sizeof buf - 1);
    ck_assert_msg(n > 0, "the command never reported its grandchild");
    buf[n] = 0;
    return (pid_t)atol(buf);
}

/* Wait (bounded) for the grandchild to die; kill it anyway before
 * asserting so a failure leaves nothing behind. */
static void gc_assert_killed(pid_t gpid)
{
    ck_assert_int_gt(gpid, 1);
    int st = 0, reaped = 0;
    double end = now_s() + 10 * slow();
    while (!reaped && now_s() < end) {
        if (waitpid(gpid, &st, WNOHANG) == gpid)
            reaped = 1;
        else
            usleep(10000); /* the kernel re-parents and kills asynchronously */
    }
    if (!reaped) {
        kill(gpid, SIGKILL);
        waitpid(gpid, NULL, 0);
    }
    ck_assert_msg(reaped, "grandchild %d still running after the exec ended", (int)gpid);
    ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    errno = 0;
    ck_assert_int_eq(kill(gpid, 0), -1);
    ck_assert_int_eq(errno, ESRCH);
    close(gc_fd);
    unlink(gc_fifo);
    rmdir(gc_dir);
}

static void gc_timeout(void *arg)
{
    (void)arg;
    ck_assert_int_eq(swco_exec_run(gc_cmd(), NULL, NULL, NULL, 1 * slow()), -ETIMEDOUT);
}

START_TEST(exec_timeout_kills_group)
{
    gc_setup();
    ck_assert_int_eq(swco_run(gc_timeout, NULL), 0);
    gc_assert_killed(gc_read_pid());
}
END_TEST

START_TEST(exec_timeout_kills_group_outside_coroutine)
{
    gc_setup();
    ck_assert_int_eq(swco_exec_run(gc_cmd(), NULL, NULL, NULL, 1 * slow()), -ETIMEDOUT);
    gc_assert_killed(gc_read_pid());
}
END_TEST

static void gc_victim(void *arg)
{
    (void)arg;
    exec_rc = swco_exec_run(gc_cmd(), NULL, NULL, NULL, 60 * slow());
}

static pid_t gc_cancelled_pid;

static void gc_cancel(void *arg)
{
    (void)arg;
    exec_rc = 1;
    exec_cid = swco_coroutine_create(gc_victim, NULL);
    /* The grandchild exists once its pid arrives: then cancel. */
    ck_assert_int_gt(swco_event_wait_fd(gc_fd, SWCO_EVENT_READ, 30 * slow()), 0);
    swco_event_del(gc_fd);
    gc_cancelled_pid = gc_read_pid();
    ck_assert_int_eq(swco_coroutine_cancel(exec_cid), 0);
}

START_TEST(exec_cancel_kills_group)
{
    gc_setup();
    ck_assert_int_eq(swco_run(gc_cancel, NULL), 0);
    ck_assert_int_eq(exec_rc, -ECANCELED);
    gc_assert_killed(gc_cancelled_pid);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("exec");
    TCase *tc = tcase_create("exec");
    tcase_add_test(tc, exec_basic);
    tcase_add_test(tc, exec_outside_coroutine);
    tcase_add_test(tc, exec_many);
    tcase_add_test(tc, exec_without_pidfd);
    tcase_add_test(tc, exec_timeout_kills_group);
    tcase_add_test(tc, exec_timeout_kills_group_outside_coroutine);
    tcase_add_test(tc, exec_cancel_kills_group);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
