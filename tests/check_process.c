#include "testutil.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static void upper_echo(swco_process_t *p, void *arg)
{
    char buf[64];
    long n = swco_process_read(p, buf, sizeof buf, 5);
    for (long i = 0; i < n; i++)
        buf[i] = (char)toupper((unsigned char)buf[i]);
    swco_process_write(p, buf, (size_t)(n > 0 ? n : 0), 5);
    exit(n > 0 ? 7 : 1);
}

START_TEST(process_stream_echo)
{
    swco_process_t *p = swco_process_new(upper_echo, NULL, NULL, SWCO_PROCESS_IPC_STREAM, 0);
    ck_assert_ptr_nonnull(p);
    int pid = swco_process_start(p);
    ck_assert_int_gt(pid, 0);
    ck_assert_int_eq(swco_process_pid(p), pid);
    ck_assert_int_eq(swco_process_start(p), -EBUSY);
    ck_assert_int_eq(swco_process_write(p, "hello", 5, 1), 5);
    char buf[64];
    ck_assert_int_eq(swco_process_read(p, buf, sizeof buf, 5), 5);
    ck_assert(memcmp(buf, "HELLO", 5) == 0);
    ck_assert_int_eq(swco_process_wait(p, 5), 0);
    ck_assert_int_eq(swco_process_exit_code(p), 7);
    ck_assert_int_eq(swco_process_exit_signal(p), 0);
    ck_assert_int_eq(swco_process_wait(p, 1), SWCO_EEXITED);
    /* The child is gone: reading gives end of stream. */
    ck_assert_int_eq(swco_process_read(p, buf, sizeof buf, 1), 0);
    swco_process_free(p);
}
END_TEST

static void stdio_child(swco_process_t *p, void *arg)
{
    char line[64];
    printf("ready %d\n", 42);
    fflush(stdout);
    if (fgets(line, sizeof line, stdin))
        printf("got %s", line);
}

START_TEST(process_redirect_stdio)
{
    swco_process_t *p = swco_process_new(stdio_child, NULL, NULL, SWCO_PROCESS_IPC_STREAM, 1);
    ck_assert_int_gt(swco_process_start(p), 0);
    char buf[128];
    long n = swco_process_read(p, buf, sizeof buf - 1, 5);
    ck_assert_int_eq(n, 9);
    buf[n] = 0;
    ck_assert_str_eq(buf, "ready 42\n");
    ck_assert_int_eq(swco_process_write(p, "ping\n", 5, 1), 5);
    size_t got = 0;
    while (got < 9) {
        n = swco_process_read(p, buf + got, sizeof buf - 1 - got, 5);
        ck_assert_int_gt(n, 0);
        got += (size_t)n;
    }
    buf[got] = 0;
    ck_assert_str_eq(buf, "got ping\n");
    ck_assert_int_eq(swco_process_wait(p, 5), 0);
    ck_assert_int_eq(swco_process_exit_code(p), 0);
    swco_process_free(p);
}
END_TEST

static void exec_child(swco_process_t *p, void *arg)
{
    char *argv[] = {"echo", "from", "exec", NULL};
    char *bad[] = {"/no/such/program", NULL};
    if (arg)
        exit(swco_process_exec(p, bad[0], bad) == -ENOENT ? 3 : 4);
    swco_process_exec(p, "echo", argv);
    exit(9);
}

START_TEST(process_exec)
{
    swco_process_t *p = swco_process_new(exec_child, NULL, NULL, SWCO_PROCESS_IPC_STREAM, 1);
    ck_assert_int_gt(swco_process_start(p), 0);
    char buf[64] = {0};
    size_t got = 0;
    long n;
    while ((n = swco_process_read(p, buf + got, sizeof buf - 1 - got, 5)) > 0)
        got += (size_t)n;
    ck_assert_str_eq(buf, "from exec\n");
    ck_assert_int_eq(swco_process_wait(p, 5), 0);
    ck_assert_int_eq(swco_process_exit_code(p), 0);
    swco_process_free(p);

    p = swco_process_new(exec_child, (void *)1, NULL, SWCO_PROCESS_IPC_NONE, 0);
    ck_assert_int_gt(swco_process_start(p), 0);
    ck_assert_int_eq(swco_process_wait(p, 5), 0);
    ck_assert_int_eq(swco_process_exit_code(p), 3);
    swco_process_free(p);
}
END_TEST

static void dgram_child(swco_process_t *p, void *arg)
{
    swco_process_write(p, "one", 3, 1);
    swco_process_write(p, "second", 6, 1);
}

START_TEST(process_dgram_keeps_boundaries)
{
    swco_process_t *p = swco_process_new(dgram_child, NULL, NULL, SWCO_PROCESS_IPC_DGRAM, 0);
    ck_assert_int_gt(swco_process_start(p), 0);
    ck_assert_int_eq(swco_process_wait(p, 5), 0);
    char buf[64];
    ck_assert_int_eq(swco_process_read(p, buf, sizeof buf, 1), 3);
    ck_assert_int_eq(swco_process_read(p, buf, sizeof buf, 1), 6);
    ck_assert(memcmp(buf, "second", 6) == 0);
    ck_assert_int_eq(swco_process_read(p, buf, sizeof buf, 0.05), -ETIMEDOUT);
    swco_process_free(p);
}
END_TEST

/* The child answers only after the parent's other coroutine has ticked 5
 * times and told it so through a pipe, and exits only after one more tick:
 * if read or wait blocked the thread, the ticks (and the child) would never
 * come and the 5 s waits would fail. */
static int go_pipe[2];

static void slow_child(swco_process_t *p, void *arg)
{
    char c;
    if (read(go_pipe[0], &c, 1) != 1)
        exit(1);
    swco_process_write(p, "late", 4, 1);
    if (read(go_pipe[0], &c, 1) != 1)
        exit(1);
}

static int ticks;
static void ticker(void *arg)
{
    int n = (int)(long)arg;
    for (int i = 0; i < n; i++) {
        swco_sleep(0.02);
        ticks++;
    }
    ck_assert_int_eq(write(go_pipe[1], "g", 1), 1);
}

static void co_reader(void *arg)
{
    ck_assert_int_eq(pipe(go_pipe), 0);
    swco_process_t *p = swco_process_new(slow_child, NULL, NULL, SWCO_PROCESS_IPC_STREAM, 0);
    ck_assert_int_gt(swco_process_start(p), 0);
    swco_coroutine_create(ticker, (void *)5L);
    char buf[16];
    ck_assert_int_eq(swco_process_read(p, buf, sizeof buf, 0.01), -ETIMEDOUT);
    long n = swco_process_read(p, buf, sizeof buf, 30 * slow());
    ck_assert_int_eq(n, 4);
    out("read %.*s after %d ticks\n", (int)n, buf, ticks);
    swco_coroutine_create(ticker, (void *)1L);
    ck_assert_int_eq(swco_process_wait(p, 30 * slow()), 0);
    out("exit %d after %d ticks\n", swco_process_exit_code(p), ticks);
    swco_process_free(p);
    close(go_pipe[0]);
    close(go_pipe[1]);
}

START_TEST(process_coroutine_read_and_wait_yield)
{
    ticks = 0;
    out_reset();
    ck_assert_int_eq(swco_run(co_reader, NULL), 0);
    ck_assert_str_eq(out_buf, "read late after 5 ticks\nexit 0 after 6 ticks\n");
}
END_TEST

static void sleeper(swco_process_t *p, void *arg)
{
    if (arg)
        swco_process_set_name((const char *)arg);
    for (;;)
        pause();
}

START_TEST(process_kill_and_wait)
{
    swco_process_t *p = swco_process_new(sleeper, "swco-sleeper", NULL, SWCO_PROCESS_IPC_NONE, 0);
    int pid = swco_process_start(p);
    ck_assert_int_eq(swco_process_fd(p), -EBADF);
    double t0 = now_s();
    ck_assert_int_eq(swco_process_wait(p, 0.05), -ETIMEDOUT);
    ck_assert(now_s() - t0 >= 0.045);
    /* The child renamed itself. */
    char path[64], comm[64] = {0};
    snprintf(path, sizeof path, "/proc/%d/comm", pid);
    for (int i = 0; i < 2000 * slow() && strcmp(comm, "swco-sleeper\n") != 0; i++) {
        FILE *f = fopen(path, "r");
        ck_assert_ptr_nonnull(f);
        if (!fgets(comm, sizeof comm, f))
            comm[0] = 0;
        fclose(f);
        usleep(5000);
    }
    ck_assert_str_eq(comm, "swco-sleeper\n");
    ck_assert_int_eq(swco_process_kill(pid, 0), 0);
    ck_assert_int_eq(swco_process_kill(pid, SIGTERM), 0);
    ck_assert_int_eq(swco_process_wait(p, -1), 0);
    ck_assert_int_eq(swco_process_exit_signal(p), SIGTERM);
    ck_assert_int_eq(swco_process_exit_code(p), 128 + SIGTERM);
    ck_assert_int_eq(swco_process_kill(pid, 0), -ESRCH);
    swco_process_free(p);
}
END_TEST

static void queue_child(swco_process_t *p, void *arg)
{
    long sum = 0;
    char buf[32];
    for (int i = 0; i < 3; i++) {
        long n = swco_process_pop(p, buf, sizeof buf - 1, 5);
        if (n <= 0)
            exit(1);
        buf[n] = 0;
        sum += atol(buf);
    }
    snprintf(buf, sizeof buf, "sum=%ld", sum);
    swco_process_push(p, buf, strlen(buf));
}

START_TEST(process_message_queue)
{
    swco_process_t *p = swco_process_new(queue_child, NULL, NULL, SWCO_PROCESS_IPC_NONE, 0);
    ck_assert_int_eq(swco_process_push(p, "x", 1), -ENOTCONN);
    ck_assert_int_eq(swco_process_use_queue(p, 0), 0);
    ck_assert_int_eq(swco_process_use_queue(p, 0), -EBUSY);
    static char big[SWCO_PROCESS_MSG_MAX + 1];
    ck_assert_int_eq(swco_process_push(p, big, sizeof big), -EMSGSIZE);
    ck_assert_int_gt(swco_process_start(p), 0);
    ck_assert_int_eq(swco_process_push(p, "10", 2), 2);
    ck_assert_int_eq(swco_process_push(p, "20", 2), 2);
    ck_assert_int_eq(swco_process_wait(p, 0.05), -ETIMEDOUT);
    ck_assert_int_eq(swco_process_push(p, "12", 2), 2);
    ck_assert_int_eq(swco_process_wait(p, 5), 0);
    ck_assert_int_eq(swco_process_exit_code(p), 0);
    char buf[32] = {0};
    ck_assert_int_eq(swco_process_pop(p, buf, sizeof buf, 1), 6);
    ck_assert_str_eq(buf, "sum=42");
    ck_assert_int_eq(swco_process_pop(p, buf, sizeof buf, 0.02), -ETIMEDOUT);
    ck_assert_int_eq(swco_process_queue_remove(p), 0);
    ck_assert_int_eq(swco_process_pop(p, buf, sizeof buf, 0.02), -ENOTCONN);
    swco_process_free(p);
}
END_TEST

static void rand_child(swco_process_t *p, void *arg)
{
    int v = rand();
    swco_process_write(p, &v, sizeof v, 1);
}

START_TEST(process_child_reseeds)
{
    int v[2];
    for (int i = 0; i < 2; i++) {
        srand(1);
        swco_process_t *p = swco_process_new(rand_child, NULL, NULL, SWCO_PROCESS_IPC_STREAM, 0);
        swco_process_start(p);
        ck_assert_int_eq(swco_process_read(p, &v[i], sizeof v[i], 5), sizeof v[i]);
        swco_process_wait(p, 5);
        swco_process_free(p);
    }
    srand(1);
    int parent = rand();
    ck_assert_int_ne(v[0], v[1]);
    ck_assert_int_ne(v[0], parent);
}
END_TEST

static void daemon_child(swco_process_t *p, void *arg)
{
    if (swco_process_daemon(1, 1) != 0)
        exit(1);
    int info[2] = {(int)getpid(), (int)getsid(0)};
    swco_process_write(p, info, sizeof info, 1);
}

START_TEST(process_daemon)
{
    swco_process_t *p = swco_process_new(daemon_child, NULL, NULL, SWCO_PROCESS_IPC_STREAM, 0);
    int pid = swco_process_start(p);
    int info[2];
    ck_assert_int_eq(swco_process_read(p, info, sizeof info, 5), sizeof info);
    ck_assert_int_ne(info[0], pid);  /* a new process ... */
    ck_assert_int_eq(info[1], info[0]); /* ... leading its own session */
    ck_assert_int_eq(swco_process_wait(p, 5), 0);
    ck_assert_int_eq(swco_process_exit_code(p), 0);
    swco_process_free(p);
}
END_TEST

static int freed;
static void count_free(void *arg) { freed++; }
static void nothing(swco_process_t *p, void *arg) {}

START_TEST(process_bad_input)
{
    ck_assert_ptr_null(swco_process_new(NULL, NULL, NULL, 0, 0));
    ck_assert_int_eq(swco_last_error(), -EINVAL);
    ck_assert_ptr_null(swco_process_new(nothing, NULL, NULL, SWCO_PROCESS_IPC_NONE, 1));
    ck_assert_ptr_null(swco_process_new(nothing, NULL, NULL, 5, 0));
    freed = 0;
    swco_process_t *p = swco_process_new(nothing, NULL, count_free, SWCO_PROCESS_IPC_NONE, 0);
    ck_assert_int_eq(swco_process_write(p, "x", 1, 1), -ENOTCONN);
    char c;
    ck_assert_int_eq(swco_process_read(p, &c, 1, 1), -ENOTCONN);
    ck_assert_int_eq(swco_process_wait(p, 1), -EINVAL); /* not started */
    ck_assert_int_eq(swco_process_pid(p), 0);
    ck_assert_int_eq(swco_process_set_name(""), -EINVAL);
    ck_assert_int_eq(swco_process_kill(-99999999, 0), -ESRCH);
    swco_process_free(p);
    ck_assert_int_eq(freed, 1);
}
END_TEST

static void on_usr1(int signo, void *arg)
{
    out("signal %d\n", signo);
    swco_event_signal(SIGUSR1, NULL, NULL, NULL);
}
static void raise_usr1(void *arg)
{
    ck_assert_int_eq(swco_event_signal(SIGUSR1, on_usr1, NULL, NULL), 0);
    swco_process_kill(getpid(), SIGUSR1);
}

START_TEST(process_signal_handler)
{
    out_reset();
    ck_assert_int_eq(swco_run(raise_usr1, NULL), 0);
    char want[32];
    snprintf(want, sizeof want, "signal %d\n", SIGUSR1);
    ck_assert_str_eq(out_buf, want);
}
END_TEST

/* ---- issue 11: no -1 values */

static void exit_five(swco_process_t *proc, void *arg) { (void)proc, (void)arg; exit(5); }

START_TEST(process_values_before_reap)
{
    swco_process_t *p = swco_process_new(exit_five, NULL, NULL, SWCO_PROCESS_IPC_NONE, 0);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(swco_process_exit_code(p), -EAGAIN); /* not started */
    ck_assert_int_eq(swco_process_fd(p), -EBADF);          /* no channel */
    ck_assert_int_gt(swco_process_start(p), 0);
    /* Whether or not it has exited yet, it is not reaped before wait. */
    ck_assert_int_eq(swco_process_exit_code(p), -EAGAIN);
    ck_assert_int_eq(swco_process_exit_signal(p), 0);
    ck_assert_int_eq(swco_process_wait(p, 10 * slow()), 0);
    ck_assert_int_eq(swco_process_exit_code(p), 5);
    ck_assert_int_eq(swco_process_exit_code(NULL), -EINVAL);
    swco_process_free(p);

    swco_process_t *q = swco_process_new(exit_five, NULL, NULL, SWCO_PROCESS_IPC_STREAM, 0);
    ck_assert_ptr_nonnull(q);
    ck_assert_int_gt(swco_process_start(q), 0);
    ck_assert_int_ge(swco_process_fd(q), 0);
    ck_assert_int_eq(swco_process_close(q), 0);
    ck_assert_int_eq(swco_process_fd(q), -EBADF); /* closed */
    ck_assert_int_eq(swco_process_wait(q, 10 * slow()), 0);
    swco_process_free(q);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("process");
    TCase *tc = tcase_create("process");
    tcase_add_test(tc, process_stream_echo);
    tcase_add_test(tc, process_redirect_stdio);
    tcase_add_test(tc, process_exec);
    tcase_add_test(tc, process_dgram_keeps_boundaries);
    tcase_add_test(tc, process_coroutine_read_and_wait_yield);
    tcase_add_test(tc, process_kill_and_wait);
    tcase_add_test(tc, process_message_queue);
    tcase_add_test(tc, process_child_reseeds);
    tcase_add_test(tc, process_daemon);
    tcase_add_test(tc, process_bad_input);
    tcase_add_test(tc, process_signal_handler);
    tcase_add_test(tc, process_values_before_reap);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
