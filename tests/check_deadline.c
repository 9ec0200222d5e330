/* Deadlines: the library's one timeout rule (seconds to an absolute
 * monotonic deadline, lib/core/deadline.h) at its edges, and the calls that
 * wait on it (fds, process channels, futexes, locks) given those edges. */
#include "testutil.h"

#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/deadline.h"

#define BILLION 1000000000LL

/* d is now + ns: between before + ns and after + ns. */
static void assert_after(swco__deadline_t d, int64_t before, int64_t after, int64_t ns)
{
    ck_assert_int_ge(d, before + ns);
    ck_assert_int_le(d, after + ns);
}

START_TEST(no_limit_for_zero_negative_nan_and_infinity)
{
    const double none[] = {0.0, -0.0, -1.0, -1e-300, -1e300, -INFINITY, NAN, -NAN, INFINITY};
    for (size_t i = 0; i < sizeof none / sizeof none[0]; i++) {
        ck_assert_int_eq(swco__deadline_from_timeout(none[i]), SWCO__DEADLINE_NONE);
    }
    swco__deadline_t d = SWCO__DEADLINE_NONE;
    ck_assert_int_eq(swco__deadline_passed(d), 0);
    ck_assert_int_eq(swco__deadline_left_ns(d), -1);
    ck_assert_int_eq(swco__deadline_left_ms(d), -1);
    ck_assert_int_eq(swco__deadline_poll_ms(d), -1);
    ck_assert(swco__deadline_left_seconds(d) == -1.0);
}
END_TEST

START_TEST(huge_timeouts_clamp_without_overflow)
{
    /* Finite ones above SWCO__TIMEOUT_MAX (1e9 s): 1e18 ns ahead. */
    const double huge[] = {1e9, 1e9 + 1, 1e18, 1e300, DBL_MAX};
    for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
        int64_t before = swco__clock_ns();
        swco__deadline_t d = swco__deadline_from_timeout(huge[i]);
        int64_t after = swco__clock_ns();
        assert_after(d, before, after, 1000000000LL * BILLION);
        ck_assert_int_lt(d, SWCO__DEADLINE_NONE);
        ck_assert_int_eq(swco__deadline_passed(d), 0);
        /* What is left fits each consumer's type. */
        long long ms = swco__deadline_left_ms(d);
        ck_assert_int_gt(ms, 1000000000LL * 1000 - 60000);
        ck_assert_int_le(ms, 1000000000LL * 1000);
        ck_assert_int_eq(swco__deadline_poll_ms(d), INT_MAX);
        ck_assert(swco__deadline_left_seconds(d) > 1e9 - 60);
    }
}
END_TEST

START_TEST(tiny_timeouts_round_up_to_one_ns)
{
    const double tiny[] = {5e-324, DBL_MIN, 1e-300, 1e-12, 1e-10};
    for (size_t i = 0; i < sizeof tiny / sizeof tiny[0]; i++) {
        int64_t before = swco__clock_ns();
        swco__deadline_t d = swco__deadline_from_timeout(tiny[i]);
        int64_t after = swco__clock_ns();
        assert_after(d, before, after, 1);
    }
    int64_t before = swco__clock_ns();
    swco__deadline_t d = swco__deadline_from_timeout(1.5);
    int64_t after = swco__clock_ns();
    assert_after(d, before, after, 3 * BILLION / 2);
    before = swco__clock_ns();
    d = swco__deadline_from_timeout(0.0000015); /* 1500 ns */
    after = swco__clock_ns();
    assert_after(d, before, after, 1500);
}
END_TEST

START_TEST(passed_deadlines)
{
    const swco__deadline_t past[] = {0, 1, swco__clock_ns() - 1, swco__clock_ns()};
    for (size_t i = 0; i < sizeof past / sizeof past[0]; i++) {
        ck_assert_int_eq(swco__deadline_passed(past[i]), 1);
        ck_assert_int_eq(swco__deadline_left_ns(past[i]), 0);
        ck_assert_int_eq(swco__deadline_left_ms(past[i]), 0);
        ck_assert_int_eq(swco__deadline_poll_ms(past[i]), 0);
        /* Never the 0 that a public timeout reads as "no limit". */
        ck_assert(swco__deadline_left_seconds(past[i]) > 0);
        ck_assert(swco__deadline_left_seconds(past[i]) <= 1e-9);
    }
}
END_TEST

START_TEST(time_left_rounds_up)
{
    swco__deadline_t d = swco__deadline_from_timeout(1.0);
    long long ms = swco__deadline_left_ms(d);
    int ms2 = swco__deadline_poll_ms(d);
    int64_t ns = swco__deadline_left_ns(d); /* read last: no more than then */
    ck_assert_int_ge(ms, 1);
    ck_assert_int_le(ms, 1000);
    ck_assert_int_ge((long long)ms2 * 1000000, ns);
    ck_assert_int_ge(ms * 1000000, ns);
    double s = swco__deadline_left_seconds(d);
    ck_assert(s > 0 && s <= 1.0);
    /* A deadline 1 ns ahead is at most 1 ms away, never 0 before it passes. */
    d = swco__clock_ns() + 1;
    ms = swco__deadline_left_ms(d);
    ck_assert(ms == 1 || (ms == 0 && swco__deadline_passed(d)));
}
END_TEST

START_TEST(timespec_split)
{
    struct timespec ts = swco__deadline_timespec(1234567890123456789LL);
    ck_assert_int_eq(ts.tv_sec, 1234567890);
    ck_assert_int_eq(ts.tv_nsec, 123456789);
    ts = swco__deadline_timespec(999999999);
    ck_assert_int_eq(ts.tv_sec, 0);
    ck_assert_int_eq(ts.tv_nsec, 999999999);
}
END_TEST

/* ------------------------------------------------- the calls that wait */

static int sp[2];
static int wait_rc[8];
static swco_channel_t *done;
static const double wait_timeouts[] = {-1.0, 0.0, NAN, -INFINITY, INFINITY, 1e300, 1e9};
#define NWAITS (int)(sizeof wait_timeouts / sizeof wait_timeouts[0])

static void reader(void *arg)
{
    int i = (int)(intptr_t)arg;
    wait_rc[i] = swco_event_wait_fd(sp[0], SWCO_EVENT_READ, wait_timeouts[i]);
    swco_channel_push(done, arg, -1);
}

static void edges_main(void *arg)
{
    (void)arg;
    /* Each reader in turn is parked in its wait (creating it runs it until
     * it suspends); only the write ends it: none of these times out. */
    for (int i = 0; i < NWAITS; i++) {
        wait_rc[i] = 12345;
        ck_assert_int_gt(swco_coroutine_create(reader, (void *)(intptr_t)i), 0);
        ck_assert_int_eq(wait_rc[i], 12345);
        ck_assert_int_eq(write(sp[1], "x", 1), 1);
        void *who;
        ck_assert_int_eq(swco_channel_pop(done, &who, -1), 0);
        ck_assert_int_eq((int)(intptr_t)who, i);
        ck_assert_int_eq(wait_rc[i], SWCO_EVENT_READ);
        char c;
        ck_assert_int_eq(read(sp[0], &c, 1), 1);
    }
    /* The smallest positive timeout is a limit, not "no limit". */
    ck_assert_int_eq(swco_event_wait_fd(sp[0], SWCO_EVENT_READ, 5e-324), -ETIMEDOUT);
    ck_assert_int_eq(swco_event_wait_fd(sp[0], SWCO_EVENT_READ, 0.001), -ETIMEDOUT);
}

START_TEST(wait_fd_timeout_edges)
{
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sp), 0);
    done = swco_channel_new(1);
    ck_assert_ptr_nonnull(done);
    ck_assert_int_eq(swco_run(edges_main, NULL), 0);
    swco_channel_free(done);
    close(sp[0]);
    close(sp[1]);
}
END_TEST

START_TEST(atomic_wait_timeout_edges)
{
    swco_atomic_t *a = swco_atomic_new(0);
    ck_assert_ptr_nonnull(a);
    const double edges[] = {1e300, INFINITY, NAN, -1, 0, 1e9};
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) {
        swco_atomic_set(a, 1);
        ck_assert_int_eq(swco_atomic_wait(a, edges[i]), 0);
        ck_assert_int_eq(swco_atomic_get(a), 0);
    }
    ck_assert_int_eq(swco_atomic_wait(a, 5e-324), -ETIMEDOUT);
    ck_assert_int_eq(swco_atomic_wait(a, 0.01), -ETIMEDOUT);
    swco_atomic_free(a);
}
END_TEST

START_TEST(lock_timeout_edges)
{
    int kinds[] = {SWCO_LOCK_MUTEX, SWCO_LOCK_RWLOCK, SWCO_LOCK_SPINLOCK, SWCO_LOCK_SEM};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        swco_lock_t *l = swco_lock_new(kinds[k], 1);
        ck_assert_ptr_nonnull(l);
        const double edges[] = {1e300, INFINITY, NAN, -1, 0};
        for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) {
            ck_assert_int_eq(swco_lock_timedlock(l, edges[i]), 0);
            ck_assert_int_eq(swco_lock_unlock(l), 0);
        }
        swco_lock_free(l);
    }
    /* A semaphore at 0 is busy for everyone: tiny and short limits expire. */
    swco_lock_t *sem = swco_lock_new(SWCO_LOCK_SEM, 0);
    ck_assert_ptr_nonnull(sem);
    ck_assert_int_eq(swco_lock_timedlock(sem, 5e-324), -ETIMEDOUT);
    ck_assert_int_eq(swco_lock_timedlock(sem, 0.01), -ETIMEDOUT);
    swco_lock_free(sem);
}
END_TEST

/* The child waits for one byte, echoes it and exits. */
static void echo_child(swco_process_t *p, void *arg)
{
    (void)arg;
    char c;
    long n = swco_process_read(p, &c, 1, 60 * slow());
    if (n == 1)
        swco_process_write(p, &c, 1, 60 * slow());
    _exit(n == 1 ? 0 : 1);
}

static swco_process_t *proc;
static long proc_rc;

static void proc_main(void *arg)
{
    (void)arg;
    int fd = swco_process_fd(proc);
    char c;
    /* In a coroutine: the wait is on the loop, and the fd is not left
     * registered there, so the user may watch it afterwards. */
    ck_assert_int_eq(swco_process_read(proc, &c, 1, 0.01), -ETIMEDOUT);
    ck_assert_int_eq(swco_event_isset(fd), -ENOENT);
    ck_assert_int_eq(swco_process_write(proc, "k", 1, 1e300), 1);
    proc_rc = swco_process_read(proc, &c, 1, INFINITY);
    ck_assert_int_eq(c, 'k');
    ck_assert_int_eq(swco_event_isset(fd), -ENOENT);
}

START_TEST(process_waits_in_and_out_of_coroutines)
{
    proc = swco_process_new(echo_child, NULL, NULL, SWCO_PROCESS_IPC_STREAM, 0);
    ck_assert_ptr_nonnull(proc);
    ck_assert_int_gt(swco_process_start(proc), 0);
    char c;
    /* Outside a coroutine the thread blocks until the deadline. */
    ck_assert_int_eq(swco_process_read(proc, &c, 1, 0.01), -ETIMEDOUT);
    ck_assert_int_eq(swco_process_read(proc, &c, 1, 5e-324), -ETIMEDOUT);
    ck_assert_int_eq(swco_run(proc_main, NULL), 0);
    ck_assert_int_eq(proc_rc, 1);
    ck_assert_int_eq(swco_process_wait(proc, NAN), 0);
    ck_assert_int_eq(swco_process_exit_code(proc), 0);
    swco_process_free(proc);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("deadline");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, no_limit_for_zero_negative_nan_and_infinity);
    tcase_add_test(tc, huge_timeouts_clamp_without_overflow);
    tcase_add_test(tc, tiny_timeouts_round_up_to_one_ns);
    tcase_add_test(tc, passed_deadlines);
    tcase_add_test(tc, time_left_rounds_up);
    tcase_add_test(tc, timespec_split);
    tcase_add_test(tc, wait_fd_timeout_edges);
    tcase_add_test(tc, atomic_wait_timeout_edges);
    tcase_add_test(tc, lock_timeout_edges);
    tcase_add_test(tc, process_waits_in_and_out_of_coroutines);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
