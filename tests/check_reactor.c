/* The event loop: fd events, defers, cycle, signals, phase order, fd waits,
 * exit, backends.  Every test runs on epoll and on poll. */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static const int backends[] = {SWCO_BACKEND_EPOLL, SWCO_BACKEND_POLL};

static void use_backend(int i)
{
    ck_assert_int_eq(swco_event_set_backend(backends[i]), 0);
    ck_assert_int_eq(swco_event_get_backend(), backends[i]);
}

static int pipefd[2];

static void write_later(long id, void *arg) { ck_assert_int_eq(write(pipefd[1], "two", 3), 3); }

/* "two" is written only once "one" was read (a timer set at the start could
 * fire first on a late loop: timers run before fd events in a turn). */
static void on_readable(int fd, int events, void *arg)
{
    char buf[16];
    ssize_t n = read(fd, buf, sizeof buf);
    ck_assert_int_gt(n, 0);
    ck_assert(events & SWCO_EVENT_READ);
    out("read %.*s;", (int)n, buf);
    if (++*(int *)arg == 1)
        swco_timer_add(0.02, SWCO_TIMER_NO_COROUTINE, write_later, NULL, NULL);
    else
        swco_event_del(fd);
}

START_TEST(fd_events)
{
    use_backend(_i);
    out_reset();
    ck_assert_int_eq(pipe2(pipefd, O_NONBLOCK), 0);
    int calls = 0;
    ck_assert_int_eq(swco_event_add(pipefd[0], SWCO_EVENT_READ, on_readable, &calls, NULL), 0);
    ck_assert_int_eq(swco_event_isset(pipefd[0]), SWCO_EVENT_READ);
    ck_assert_int_eq(swco_event_add(pipefd[0], SWCO_EVENT_READ, on_readable, &calls, NULL), -EEXIST);
    ck_assert_int_eq(write(pipefd[1], "one", 3), 3);
    ck_assert_int_eq(swco_event_wait(), 0); /* returns once the fd is deleted */
    ck_assert_str_eq(out_buf, "read one;read two;");
    ck_assert_int_eq(swco_event_isset(pipefd[0]), -ENOENT);
    close(pipefd[0]);
    close(pipefd[1]);
}
END_TEST

static void cb_noop(int fd, int events, void *arg) {}

START_TEST(fd_bad_arguments)
{
    use_backend(_i);
    ck_assert_int_eq(swco_event_add(-1, SWCO_EVENT_READ, cb_noop, NULL, NULL), -EBADF);
    ck_assert_int_eq(swco_event_add(0, SWCO_EVENT_READ, NULL, NULL, NULL), -EINVAL);
    ck_assert_int_eq(swco_event_add(0, 0, cb_noop, NULL, NULL), -EINVAL);
    ck_assert_int_eq(swco_event_modify(1000, SWCO_EVENT_READ), -ENOENT);
    ck_assert_int_eq(swco_event_del(1000), -ENOENT);
    ck_assert_int_eq(swco_event_defer(NULL, NULL, NULL), -EINVAL);
    ck_assert_int_eq(swco_event_signal(SIGKILL, NULL, NULL, NULL), -EINVAL);
    ck_assert_int_eq(swco_event_signal(0, NULL, NULL, NULL), -EINVAL);
    ck_assert_int_eq(swco_event_set_backend(7), -EINVAL);
    ck_assert_int_eq(swco_event_cycle(NULL, NULL, NULL), 0); /* creates the loop */
    ck_assert_int_eq(swco_event_set_backend(SWCO_BACKEND_EPOLL), SWCO_ECOSTATE);
    if (backends[_i] == SWCO_BACKEND_EPOLL) /* epoll refuses a regular file */
        ck_assert_int_eq(swco_event_add(open("/dev/null", O_RDONLY), SWCO_EVENT_READ, cb_noop, NULL, NULL), -EPERM);
    ck_assert_int_eq(swco_event_wait(), 0);
}
END_TEST

static void deferred(void *arg)
{
    out("%s;", (const char *)arg);
    if (strcmp(arg, "1") == 0)
        swco_event_defer(deferred, "3 (next turn)", NULL);
}

static int turns;
static void count_turn(void *arg) { turns++; }

START_TEST(defers_in_order)
{
    use_backend(_i);
    out_reset();
    turns = 0;
    swco_event_cycle(count_turn, NULL, NULL);
    swco_event_defer(deferred, "1", NULL);
    swco_event_defer(deferred, "2", NULL);
    ck_assert_int_eq(swco_event_wait(), 0);
    ck_assert_str_eq(out_buf, "1;2;3 (next turn);");
    ck_assert_int_eq(turns, 2);
}
END_TEST

/* One turn runs signals, defers, timers, fd events, cycle: in that order. */
static void p_signal(int signo, void *arg)
{
    out("signal;");
    swco_event_signal(SIGUSR1, NULL, NULL, NULL);
}
static void p_defer(void *arg) { out("defer;"); }
static void p_timer(long id, void *arg) { out("timer;"); }
static void p_io(int fd, int events, void *arg)
{
    out("io;");
    swco_event_del(fd);
}
static void p_cycle(void *arg)
{
    out("cycle;");
    swco_event_cycle(NULL, NULL, NULL);
}

START_TEST(phase_order)
{
    use_backend(_i);
    out_reset();
    ck_assert_int_eq(pipe2(pipefd, O_NONBLOCK), 0);
    ck_assert_int_eq(write(pipefd[1], "x", 1), 1);
    ck_assert_int_eq(swco_event_add(pipefd[0], SWCO_EVENT_READ, p_io, NULL, NULL), 0);
    swco_event_cycle(p_cycle, NULL, NULL);
    ck_assert_int_gt(swco_timer_add(0.001, SWCO_TIMER_NO_COROUTINE, p_timer, NULL, NULL), 0);
    swco_event_defer(p_defer, NULL, NULL);
    ck_assert_int_eq(swco_event_signal(SIGUSR1, p_signal, NULL, NULL), 0);
    ck_assert_int_eq(raise(SIGUSR1), 0); /* blocked: delivered through the loop */
    swco_sleep(0.005);                   /* the timer is due by the first turn */
    ck_assert_int_eq(swco_event_wait(), 0);
    ck_assert_str_eq(out_buf, "signal;defer;timer;io;cycle;");
    close(pipefd[0]);
    close(pipefd[1]);
}
END_TEST

static void on_term(int signo, void *arg)
{
    out("got %d;", signo);
    swco_event_signal(SIGTERM, NULL, NULL, NULL);
}

static void send_term(long id, void *arg) { kill(getpid(), SIGTERM); }

START_TEST(signal_from_outside)
{
    use_backend(_i);
    out_reset();
    ck_assert_int_eq(swco_event_signal(SIGTERM, on_term, NULL, NULL), 0);
    swco_timer_add(0.01, SWCO_TIMER_NO_COROUTINE, send_term, NULL, NULL);
    ck_assert_int_eq(swco_event_wait(), 0); /* the handler keeps the loop alive */
    char expect[32];
    snprintf(expect, sizeof expect, "got %d;", SIGTERM);
    ck_assert_str_eq(out_buf, expect);
}
END_TEST

static void ticker(long id, void *arg)
{
    if (++*(int *)arg == 3)
        swco_event_exit();
}

START_TEST(exit_loop)
{
    use_backend(_i);
    int ticks = 0;
    long id = swco_timer_add(0.005, SWCO_TIMER_TICK | SWCO_TIMER_NO_COROUTINE, ticker, &ticks, NULL);
    ck_assert_int_eq(swco_event_wait(), 0);
    ck_assert_int_eq(ticks, 3);
    ck_assert_int_eq(swco_timer_exists(id), 1);
    ck_assert_int_eq(swco_timer_clear(id), 0);
    ck_assert_int_eq(swco_event_wait(), 0);
    ck_assert_int_eq(ticks, 3);
    double a = swco_event_now();
    swco_sleep(0.01);
    /* the loop's clock counts whole ms: compare ms, not the doubles */
    ck_assert_int_ge(llround((swco_event_now() - a) * 1000), 10);
}
END_TEST

/* swco_event_wait_fd over a socket pair. */
static int sp[2];
static int second_rc, timeout_rc, cancel_rc;

static void fd_reader(void *arg)
{
    char c;
    while (read(sp[0], &c, 1) < 0) {
        ck_assert_int_eq(errno, EAGAIN);
        int rc = swco_event_wait_fd(sp[0], SWCO_EVENT_READ, 30 * slow());
        ck_assert_int_gt(rc, 0);
        ck_assert(rc & SWCO_EVENT_READ);
    }
    out("reader got %c;", c);
}

static void fd_second_reader(void *arg) { second_rc = swco_event_wait_fd(sp[0], SWCO_EVENT_READ, 1.0); }

static void fd_writer(void *arg)
{
    swco_sleep(0.02);
    out("writer;");
    ck_assert_int_eq(write(sp[1], "z", 1), 1);
}

static void fd_canceled(void *arg) { cancel_rc = swco_event_wait_fd(sp[0], SWCO_EVENT_READ, 5.0); }

static void fd_main(void *arg)
{
    swco_coroutine_create(fd_reader, NULL);
    swco_coroutine_create(fd_second_reader, NULL);
    ck_assert_int_eq(second_rc, -EBUSY);
    swco_coroutine_create(fd_writer, NULL);
    /* once the reader took the byte, nothing is left to read */
    for (double t0 = now_s(); !strstr(out_buf, "reader got") && now_s() - t0 < 30 * slow();)
        swco_sleep(0.005);
    double t0 = now_s();
    timeout_rc = swco_event_wait_fd(sp[0], SWCO_EVENT_READ, 0.05);
    ck_assert_double_ge(now_s() - t0, 0.045);
    int w = swco_event_wait_fd(sp[1], SWCO_EVENT_WRITE, 1.0);
    ck_assert(w & SWCO_EVENT_WRITE);
    ck_assert_int_eq(swco_event_add(sp[0], SWCO_EVENT_READ, cb_noop, NULL, NULL), -EEXIST);
    swco_coroutine_create(fd_canceled, NULL);
    ck_assert_int_eq(swco_event_del(sp[0]), 0); /* the waiter is cancelled */
    ck_assert_int_eq(cancel_rc, -ECANCELED);
    swco_event_del(sp[1]);
}

START_TEST(wait_fd)
{
    use_backend(_i);
    out_reset();
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sp), 0);
    ck_assert_int_eq(swco_event_wait_fd(sp[0], SWCO_EVENT_READ, 1), SWCO_ENOTCO);
    double t0 = now_s();
    ck_assert_int_eq(swco_run(fd_main, NULL), 0);
    ck_assert_double_lt(now_s() - t0, 4.0 * slow()); /* not the cancelled 5 s wait */
    ck_assert_str_eq(out_buf, "writer;reader got z;");
    ck_assert_int_eq(timeout_rc, -ETIMEDOUT);
    close(sp[0]);
    close(sp[1]);
}
END_TEST

static void bad_wait(void *arg)
{
    ck_assert_int_eq(swco_event_wait_fd(-1, SWCO_EVENT_READ, 1), -EBADF);
    ck_assert_int_eq(swco_event_wait_fd(0, SWCO_EVENT_READ | SWCO_EVENT_WRITE, 1), -EINVAL);
    ck_assert_int_eq(swco_event_wait_fd(0, 0, 1), -EINVAL);
}

START_TEST(wait_fd_bad_arguments)
{
    use_backend(_i);
    ck_assert_int_eq(swco_run(bad_wait, NULL), 0);
}
END_TEST

/* A child forked inside a coroutine gets a fresh loop; the parent's timers
 * and coroutines stay with the parent. */
static void child_sleeper(void *arg)
{
    *(int *)arg = swco_sleep(0.01) == 0 && swco_timer_count() == 0 ? 7 : 1;
}

static void parent_tick(long id, void *arg) { (*(int *)arg)++; }
static void parent_sleeper(void *arg) { *(int *)arg = swco_sleep(0.05) == 0; }

static void fork_main(void *arg)
{
    static int ticks, slept;
    long tick = swco_timer_tick(0.005, parent_tick, &ticks, NULL);
    swco_coroutine_create(parent_sleeper, &slept);
    pid_t pid = fork();
    if (pid == 0) {
        int code = 1;
        if (swco_coroutine_id() == 0 && swco_coroutine_count() == 0 &&
            swco_timer_exists(tick) == 0)
            swco_run(child_sleeper, &code); /* a loop of its own */
        _exit(code);
    }
    ck_assert_int_gt(pid, 0);
    /* the parent's loop goes on: its ticks and sleeper (no fixed nap) */
    for (double t0 = now_s(); (ticks < 5 || !slept) && now_s() - t0 < 30 * slow();)
        swco_sleep(0.005);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 7, "child status %d", status);
    ck_assert_int_ge(ticks, 5); /* the parent's loop went on meanwhile */
    ck_assert_int_eq(slept, 1);
    swco_timer_clear(tick);
}

START_TEST(fork_gives_the_child_a_fresh_loop)
{
    use_backend(_i);
    ck_assert_int_eq(swco_run(fork_main, NULL), 0);
}
END_TEST

/* ------------------------------------------- huge fd numbers (issue 10, 7) */

static void never_called(int fd, int events, void *arg) { ck_abort_msg("callback on fd %d", fd); }

/* Resident memory of the process in KiB. */
static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    ck_assert_ptr_nonnull(f);
    char line[256];
    long kib = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld", &kib) == 1)
            break;
    fclose(f);
    return kib;
}

static void huge_fds(void *arg)
{
    (void)arg;
    struct rlimit rl;
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
    int limit = rl.rlim_cur > (rlim_t)INT_MAX ? INT_MAX : (int)rl.rlim_cur;
    /* Above the limit: -EBADF at once (the slot array's doubling used to
     * overflow and spin for ever). */
    const int bad[] = {INT_MAX, INT_MAX - 1, 1 << 30, limit};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (bad[i] < limit)
            continue;
        /* valgrind keeps its own fds just above the limit it reports */
        if (bad[i] == limit && getenv("SWCO_TEST_VALGRIND"))
            continue;
        ck_assert_int_eq(swco_event_wait_fd(bad[i], SWCO_EVENT_READ, 1), -EBADF);
        ck_assert_int_eq(swco_event_add(bad[i], SWCO_EVENT_READ, never_called, NULL, NULL), -EBADF);
    }

    /* The highest fd the limit allows (raised to 2^20 where permitted)
     * costs one chunk of slots, not a slot for every fd below it. */
    struct rlimit big = {1 << 20, 1 << 20};
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max > big.rlim_max)
        big.rlim_max = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &big) != 0) {
        big.rlim_cur = rl.rlim_max == RLIM_INFINITY ? (1 << 20) : rl.rlim_max;
        big.rlim_max = rl.rlim_max;
        ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &big), 0);
    }
    int high = (int)(big.rlim_cur > (1u << 20) ? (1u << 20) : big.rlim_cur) - 1;
    int p[2];
    ck_assert_int_eq(pipe2(p, O_NONBLOCK), 0);
    ck_assert_int_eq(dup2(p[0], high), high);
    long before = rss_kib();
    ck_assert_int_eq(write(p[1], "x", 1), 1);
    ck_assert_int_eq(swco_event_wait_fd(high, SWCO_EVENT_READ, 5 * slow()), SWCO_EVENT_READ);
    long grown = rss_kib() - before;
    ck_assert_int_eq(swco_event_del(high), 0);
    close(high);
    close(p[0]);
    close(p[1]);
    if (high >= 1 << 18) /* a slot per fd would be over 16 MiB here */
        ck_assert_msg(grown < 4096, "fd %d grew RSS by %ld KiB", high, grown);
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
}

START_TEST(huge_fd_numbers)
{
    use_backend(_i);
    ck_assert_int_eq(swco_run(huge_fds, NULL), 0);
}
END_TEST

/* ---- issue 11: arg_free on every registration that keeps an arg */

static char freed_tags[64];
static void tag_free(void *arg) { strcat(freed_tags, (const char *)arg); }
static void noop_fn(void *arg) { (void)arg; }
static void noop_sig(int signo, void *arg) { (void)signo, (void)arg; }
static void noop_io(int fd, int events, void *arg) { (void)fd, (void)events, (void)arg; }
static void defer_logs(void *arg) { strcat(freed_tags, "run;"); (void)arg; }

START_TEST(registrations_free_their_arg)
{
    use_backend(_i);
    freed_tags[0] = 0;
    /* cycle: the replaced registration's arg, then the removed one's */
    ck_assert_int_eq(swco_event_cycle(noop_fn, "1", tag_free), 0);
    ck_assert_int_eq(swco_event_cycle(noop_fn, "2", tag_free), 0);
    ck_assert_str_eq(freed_tags, "1");
    ck_assert_int_eq(swco_event_cycle(NULL, NULL, NULL), 0);
    ck_assert_str_eq(freed_tags, "12");

    /* signal handler: replaced, then removed */
    freed_tags[0] = 0;
    ck_assert_int_eq(swco_event_signal(SIGUSR2, noop_sig, "a", tag_free), 0);
    ck_assert_int_eq(swco_event_signal(SIGUSR2, noop_sig, "b", tag_free), 0);
    ck_assert_str_eq(freed_tags, "a");
    ck_assert_int_eq(swco_event_signal(SIGKILL, noop_sig, "k", tag_free), -EINVAL); /* not taken */
    ck_assert_int_eq(swco_event_signal(SIGUSR2, NULL, NULL, NULL), 0);
    ck_assert_str_eq(freed_tags, "ab");

    /* fd: freed by swco_event_del, not by a failed add */
    freed_tags[0] = 0;
    int p[2];
    ck_assert_int_eq(pipe2(p, O_NONBLOCK), 0);
    ck_assert_int_eq(swco_event_add(p[0], SWCO_EVENT_READ, noop_io, "r", tag_free), 0);
    ck_assert_int_eq(swco_event_add(p[0], SWCO_EVENT_READ, noop_io, "e", tag_free), -EEXIST);
    ck_assert_str_eq(freed_tags, "");
    ck_assert_int_eq(swco_event_del(p[0]), 0);
    ck_assert_str_eq(freed_tags, "r");
    ck_assert_int_eq(swco_event_del(p[0]), -ENOENT);
    close(p[0]);
    close(p[1]);

    /* defer: freed right after its call, once */
    freed_tags[0] = 0;
    ck_assert_int_eq(swco_event_defer(defer_logs, "d", tag_free), 0);
    ck_assert_int_eq(swco_event_defer(NULL, "n", tag_free), -EINVAL);
    ck_assert_int_eq(swco_event_wait(), 0);
    ck_assert_str_eq(freed_tags, "run;d");
}
END_TEST

START_TEST(released_loop_frees_what_it_kept)
{
    use_backend(_i);
    freed_tags[0] = 0;
    int p[2];
    ck_assert_int_eq(pipe2(p, O_NONBLOCK), 0);
    /* A NOREF fd and a cycle do not keep the loop alive: the loop is
     * released at the end of the wait with them still set. */
    ck_assert_int_eq(swco_event_add(p[0], SWCO_EVENT_READ | SWCO_EVENT_NOREF, noop_io, "f", tag_free), 0);
    ck_assert_int_eq(swco_event_cycle(noop_fn, "c", tag_free), 0);
    ck_assert_int_eq(swco_event_wait(), 0);
    ck_assert_str_eq(freed_tags, "cf");
    close(p[0]);
    close(p[1]);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("reactor");
    TCase *tc = tcase_create("reactor");
    tcase_add_loop_test(tc, fd_events, 0, 2);
    tcase_add_loop_test(tc, fd_bad_arguments, 0, 2);
    tcase_add_loop_test(tc, defers_in_order, 0, 2);
    tcase_add_loop_test(tc, phase_order, 0, 2);
    tcase_add_loop_test(tc, signal_from_outside, 0, 2);
    tcase_add_loop_test(tc, exit_loop, 0, 2);
    tcase_add_loop_test(tc, wait_fd, 0, 2);
    tcase_add_loop_test(tc, wait_fd_bad_arguments, 0, 2);
    tcase_add_loop_test(tc, fork_gives_the_child_a_fresh_loop, 0, 2);
    tcase_add_loop_test(tc, huge_fd_numbers, 0, 2);
    tcase_add_loop_test(tc, registrations_free_their_arg, 0, 2);
    tcase_add_loop_test(tc, released_loop_frees_what_it_kept, 0, 2);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
