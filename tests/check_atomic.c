#include "testutil.h"

#include <errno.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* Wait for pid and return its exit status (or 128 + signal). */
static int reap(pid_t pid)
{
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

START_TEST(atomic_swoole_sample)
{
    swco_atomic_t *a = swco_atomic_new(123);
    ck_assert_ptr_nonnull(a);
    ck_assert_uint_eq(swco_atomic_add(a, 12), 135);
    ck_assert_uint_eq(swco_atomic_sub(a, 11), 124);
    ck_assert_int_eq(swco_atomic_cmpset(a, 122, 999), 0);
    ck_assert_int_eq(swco_atomic_cmpset(a, 124, 999), 1);
    ck_assert_uint_eq(swco_atomic_get(a), 999);
    swco_atomic_set(a, 0);
    ck_assert_uint_eq(swco_atomic_sub(a, 1), 0xffffffffu);
    ck_assert_int_eq(swco_atomic_cmpset(NULL, 0, 1), -EINVAL);
    swco_atomic_free(a);
}
END_TEST

START_TEST(atomic_four_processes_exact)
{
    swco_atomic_t *a = swco_atomic_new(0);
    swco_atomic64_t *b = swco_atomic64_new(-5);
    pid_t pids[4];
    for (int p = 0; p < 4; p++) {
        pids[p] = fork();
        ck_assert_int_ge(pids[p], 0);
        if (pids[p] == 0) {
            for (int i = 0; i < 250000; i++) {
                swco_atomic_add(a, 3);
                swco_atomic_sub(a, 1);
                swco_atomic64_add(b, 1000000);
            }
            _exit(0);
        }
    }
    for (int p = 0; p < 4; p++)
        ck_assert_int_eq(reap(pids[p]), 0);
    ck_assert_uint_eq(swco_atomic_get(a), 4u * 250000u * 2u);
    ck_assert(swco_atomic64_get(b) == -5 + 4LL * 250000 * 1000000);
    swco_atomic_free(a);
    swco_atomic64_free(b);
}
END_TEST

START_TEST(atomic64_ops)
{
    swco_atomic64_t *b = swco_atomic64_new(INT64_MAX - 1);
    ck_assert(swco_atomic64_add(b, 1) == INT64_MAX);
    ck_assert(swco_atomic64_sub(b, INT64_MAX) == 0);
    ck_assert(swco_atomic64_sub(b, 7) == -7);
    ck_assert_int_eq(swco_atomic64_cmpset(b, -6, 1), 0);
    ck_assert_int_eq(swco_atomic64_cmpset(b, -7, 1), 1);
    swco_atomic64_set(b, -42);
    ck_assert(swco_atomic64_get(b) == -42);
    swco_atomic64_free(b);
}
END_TEST

START_TEST(atomic_wait_timeout)
{
    swco_atomic_t *a = swco_atomic_new(0);
    double t0 = now_s();
    ck_assert_int_eq(swco_atomic_wait(a, 0.05), -ETIMEDOUT);
    ck_assert(now_s() - t0 >= 0.045);
    /* A wakeup with nobody waiting leaves the flag set: the next wait returns at once. */
    ck_assert_int_eq(swco_atomic_wakeup(a, 1), 0);
    ck_assert_uint_eq(swco_atomic_get(a), 1);
    ck_assert_int_eq(swco_atomic_wait(a, 1), 0);
    ck_assert_uint_eq(swco_atomic_get(a), 0);
    ck_assert_int_eq(swco_atomic_wakeup(a, 0), -EINVAL);
    swco_atomic_free(a);
}
END_TEST

/* Whether process pid is blocked in a futex call (its current system call,
 * from /proc), so that a wakeup is sure to find it waiting. */
static int in_futex(pid_t pid)
{
    char path[64];
    long nr = -1;
    snprintf(path, sizeof path, "/proc/%d/syscall", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    if (fscanf(f, "%ld", &nr) != 1)
        nr = -1;
    fclose(f);
    return nr == SYS_futex;
}

START_TEST(atomic_wait_wakeup_across_processes)
{
    swco_atomic_t *flag = swco_atomic_new(0);
    swco_atomic_t *ready = swco_atomic_new(0);
    pid_t pids[2];
    for (int p = 0; p < 2; p++) {
        pids[p] = fork();
        if (pids[p] == 0) {
            swco_atomic_add(ready, 1);
            int rc = swco_atomic_wait(flag, 60 * slow());
            _exit(rc == 0 ? 0 : 1);
        }
    }
    while (swco_atomic_get(ready) < 2)
        usleep(1000);
    /* both children wait in the futex (a generous limit, not a nap) */
    double t0 = now_s();
    while (!(in_futex(pids[0]) && in_futex(pids[1])) && now_s() - t0 < 30 * slow())
        usleep(1000);
    ck_assert(in_futex(pids[0]) && in_futex(pids[1]));
    ck_assert_int_eq(waitpid(pids[0], NULL, WNOHANG), 0);
    int woken = swco_atomic_wakeup(flag, 1);
    ck_assert_int_eq(woken, 1);
    /* One child consumed the flag; wake the other. */
    t0 = now_s();
    while (swco_atomic_get(flag) != 0 && now_s() - t0 < 30 * slow())
        usleep(1000);
    ck_assert_int_eq(swco_atomic_wakeup(flag, 1), 1);
    ck_assert_int_eq(reap(pids[0]), 0);
    ck_assert_int_eq(reap(pids[1]), 0);
    swco_atomic_free(flag);
    swco_atomic_free(ready);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("atomic");
    TCase *tc = tcase_create("atomic");
    tcase_add_test(tc, atomic_swoole_sample);
    tcase_add_test(tc, atomic_four_processes_exact);
    tcase_add_test(tc, atomic64_ops);
    tcase_add_test(tc, atomic_wait_timeout);
    tcase_add_test(tc, atomic_wait_wakeup_across_processes);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
