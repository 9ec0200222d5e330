/* Shell commands with collected output, many at once, with timeouts. */
#include "testutil.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>

static void basic(void *arg)
{
    (void)arg;
    char *out;
    size_t len;
    int status = -1;
    ck_assert_int_eq(swco_exec("echo hello; echo world", &out, &len, &status, 5), 0);
    ck_assert_str_eq(out, "hello\nworld\n");
    ck_assert_uint_eq(len, 12);
    ck_assert_int_eq(status, 0);
    free(out);
    ck_assert_int_eq(swco_exec("exit 3", NULL, NULL, &status, 5), 0);
    ck_assert_int_eq(status, 3);
    ck_assert_int_eq(swco_exec("kill -TERM $$", NULL, NULL, &status, 5), 0);
    ck_assert_int_eq(status, 128 + SIGTERM);
    ck_assert_int_eq(swco_exec("no-such-command-xyz 2>/dev/null", NULL, NULL, &status, 5), 0);
    ck_assert_int_eq(status, 127);
    /* large output */
    ck_assert_int_eq(swco_exec("head -c 1000000 /dev/zero", &out, &len, &status, 5), 0);
    ck_assert_uint_eq(len, 1000000);
    free(out);
    /* timeout kills the child */
    double t0 = now_s();
    ck_assert_int_eq(swco_exec("echo partial; sleep 5", &out, &len, &status, 0.2), -ETIMEDOUT);
    ck_assert(now_s() - t0 < 1 * slow());
    ck_assert_ptr_null(out);
    /* a child that closes stdout but keeps running */
    t0 = now_s();
    ck_assert_int_eq(swco_exec("exec >&-; sleep 5", NULL, NULL, &status, 0.2), -ETIMEDOUT);
    ck_assert(now_s() - t0 < 1 * slow());
    ck_assert_int_eq(swco_exec(NULL, NULL, NULL, NULL, 1), -EINVAL);
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
    ck_assert_int_eq(swco_exec("echo x", &out, NULL, &status, 5), 0);
    ck_assert_str_eq(out, "x\n");
    free(out);
}
END_TEST

#define N 100
static int finished;

static void one(void *arg)
{
    long n = (long)arg;
    char cmd[64], expect[32], *out;
    int status;
    snprintf(cmd, sizeof cmd, "sleep 0.2; echo %ld", n);
    snprintf(expect, sizeof expect, "%ld\n", n);
    ck_assert_int_eq(swco_exec(cmd, &out, NULL, &status, 10), 0);
    ck_assert_str_eq(out, expect);
    ck_assert_int_eq(status, 0);
    free(out);
    finished++;
}

static void hundred(void *arg)
{
    (void)arg;
    for (long i = 0; i < N; i++)
        swco_coroutine_create(one, (void *)i);
}

START_TEST(exec_many)
{
    finished = 0;
    double t0 = now_s();
    ck_assert_int_eq(swco_run(hundred, NULL), 0);
    double dt = now_s() - t0;
    ck_assert_int_eq(finished, N);
    ck_assert_msg(dt < 0.9 * slow(), "100 commands of 0.2 s took %.3f s", dt);
}
END_TEST

START_TEST(exec_without_pidfd)
{
    setenv("SWCO_EXEC_NO_PIDFD", "1", 1);
    finished = 0;
    double t0 = now_s();
    ck_assert_int_eq(swco_run(hundred, NULL), 0);
    ck_assert_int_eq(finished, N);
    ck_assert_msg(now_s() - t0 < 0.9 * slow(), "took %.3f s", now_s() - t0);
    unsetenv("SWCO_EXEC_NO_PIDFD");
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
    suite_add_tcase(s, tc);
    return run_suite(s);
}
