/* WaitGroup, coroutine mutex and condition variable. */
#include "testutil.h"

#include <errno.h>

static swco_waitgroup_t *wg;
static int wg_started;

static void wg_worker(void *arg)
{
    wg_started++;
    swco_sleep((double)(long)arg / 100.0);
    ck_assert_int_eq(wg_started, 3); /* all slept at once: the longest, not the sum */
    out("w%ld;", (long)arg);
    swco_waitgroup_done(wg);
}

static void wg_main(void *arg)
{
    wg = swco_waitgroup_new();
    wg_started = 0;
    ck_assert_int_eq(swco_waitgroup_wait(wg, -1), 0); /* count 0: at once */
    for (long i = 3; i >= 1; i--) {
        ck_assert_int_eq(swco_waitgroup_add(wg, 1), 0);
        swco_coroutine_create(wg_worker, (void *)i);
    }
    ck_assert_int_eq(swco_waitgroup_count(wg), 3);
    ck_assert_int_eq(swco_waitgroup_wait(wg, 0.005), -ETIMEDOUT);
    ck_assert_int_eq(swco_waitgroup_wait(wg, -1), 0);
    out("all;");
    ck_assert_int_eq(swco_waitgroup_count(wg), 0);
    ck_assert_int_eq(swco_waitgroup_done(wg), -ERANGE);
    ck_assert_int_eq(swco_waitgroup_count(wg), 0);
    swco_waitgroup_free(wg);
}

START_TEST(waitgroup)
{
    out_reset();
    ck_assert_int_eq(swco_run(wg_main, NULL), 0);
    /* all three, then "all;" (the workers' own order is their timers', which
     * a preemption between their starts may change) */
    ck_assert_uint_eq(strlen(out_buf), strlen("w1;w2;w3;all;"));
    for (int i = 1; i <= 3; i++) {
        char w[8];
        snprintf(w, sizeof w, "w%d;", i);
        ck_assert_ptr_nonnull(strstr(out_buf, w));
        ck_assert(strstr(out_buf, w) < strstr(out_buf, "all;"));
    }
}
END_TEST

static int freed_rc;
static void wg_orphan(void *arg) { freed_rc = swco_waitgroup_wait(arg, -1); }

START_TEST(waitgroup_free_wakes_waiters)
{
    swco_waitgroup_t *w = swco_waitgroup_new();
    swco_waitgroup_add(w, 1);
    swco_coroutine_create(wg_orphan, w);
    swco_waitgroup_free(w);
    ck_assert_int_eq(freed_rc, SWCO_ECLOSED);
    ck_assert_int_eq(swco_event_wait(), 0);
}
END_TEST

static swco_mutex_t *mu;
static int in_section, max_in_section;

static void critical(void *arg)
{
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(swco_mutex_lock(mu, -1), 0);
        in_section++;
        if (in_section > max_in_section)
            max_in_section = in_section;
        swco_sleep(0.002); /* yields while holding it */
        in_section--;
        out("%ld", (long)arg);
        ck_assert_int_eq(swco_mutex_unlock(mu), 0);
    }
}

START_TEST(mutex_excludes)
{
    out_reset();
    mu = swco_mutex_new();
    in_section = max_in_section = 0;
    for (long i = 1; i <= 3; i++)
        swco_coroutine_create(critical, (void *)i);
    ck_assert_int_eq(swco_event_wait(), 0);
    ck_assert_int_eq(max_in_section, 1);
    ck_assert_str_eq(out_buf, "123123123"); /* waiters are served in arrival order */
    swco_mutex_free(mu);
}
END_TEST

static void mutex_errors(void *arg)
{
    ck_assert_int_eq(swco_mutex_unlock(mu), -EPERM);
    ck_assert_int_eq(swco_mutex_trylock(mu), 0);
    ck_assert_int_eq(swco_mutex_lock(mu, -1), -EDEADLK);
    ck_assert_int_eq(swco_mutex_trylock(mu), -EBUSY);
    ck_assert_int_eq(swco_mutex_unlock(mu), 0);
}

static void holder(void *arg)
{
    swco_mutex_lock(mu, -1);
    swco_sleep(0.1);
    swco_mutex_unlock(mu);
}

static void timed_locker(void *arg)
{
    double t0 = now_s();
    ck_assert_int_eq(swco_mutex_lock(mu, 0.02), -ETIMEDOUT);
    ck_assert_double_ge(now_s() - t0, 0.018);
    ck_assert_int_eq(swco_mutex_lock(mu, 30 * slow()), 0);
    swco_mutex_unlock(mu);
}

START_TEST(mutex_errors_and_timeout)
{
    mu = swco_mutex_new();
    ck_assert_int_eq(swco_mutex_lock(mu, -1), SWCO_ENOTCO);
    ck_assert_int_eq(swco_run(mutex_errors, NULL), 0);
    swco_coroutine_create(holder, NULL);
    swco_coroutine_create(timed_locker, NULL);
    ck_assert_int_eq(swco_event_wait(), 0);
    swco_mutex_free(mu);
}
END_TEST

static swco_cond_t *cv;
static int ready;

static void cond_waiter(void *arg)
{
    swco_mutex_lock(mu, -1);
    while (!ready)
        ck_assert_int_eq(swco_cond_wait(cv, mu, -1), 0);
    out("woke %ld;", (long)arg);
    swco_mutex_unlock(mu);
}

static void cond_main(void *arg)
{
    swco_coroutine_create(cond_waiter, (void *)1L);
    swco_coroutine_create(cond_waiter, (void *)2L);
    swco_sleep(0.01);
    swco_mutex_lock(mu, -1);
    ready = 1;
    swco_cond_broadcast(cv);
    out("broadcast;");
    swco_mutex_unlock(mu);
    swco_mutex_lock(mu, -1);
    ck_assert_int_eq(swco_cond_wait(cv, mu, 0.01), -ETIMEDOUT);
    ck_assert_int_eq(swco_mutex_unlock(mu), 0); /* held again after the timeout */
    ck_assert_int_eq(swco_cond_wait(cv, mu, 0.01), -EPERM);
}

START_TEST(condition_variable)
{
    out_reset();
    mu = swco_mutex_new();
    cv = swco_cond_new();
    ready = 0;
    ck_assert_int_eq(swco_run(cond_main, NULL), 0);
    ck_assert_str_eq(out_buf, "broadcast;woke 1;woke 2;");
    swco_cond_free(cv);
    swco_mutex_free(mu);
}
END_TEST

START_TEST(bad_arguments)
{
    ck_assert_int_eq(swco_waitgroup_add(NULL, 1), -EINVAL);
    ck_assert_int_eq(swco_waitgroup_done(NULL), -EINVAL);
    ck_assert_int_eq(swco_waitgroup_wait(NULL, 1), -EINVAL);
    ck_assert_int_eq(swco_waitgroup_count(NULL), -EINVAL);
    ck_assert_int_eq(swco_mutex_lock(NULL, 1), -EINVAL);
    ck_assert_int_eq(swco_mutex_trylock(NULL), -EINVAL);
    ck_assert_int_eq(swco_mutex_unlock(NULL), -EINVAL);
    ck_assert_int_eq(swco_cond_wait(NULL, NULL, 1), -EINVAL);
    ck_assert_int_eq(swco_cond_signal(NULL), -EINVAL);
    ck_assert_int_eq(swco_cond_broadcast(NULL), -EINVAL);
    swco_waitgroup_t *w = swco_waitgroup_new();
    ck_assert_int_eq(swco_waitgroup_add(w, -1), -ERANGE);
    ck_assert_int_eq(swco_waitgroup_add(w, 2), 0);
    ck_assert_int_eq(swco_waitgroup_wait(w, 1), SWCO_ENOTCO);
    swco_waitgroup_free(w);
    swco_waitgroup_free(NULL);
    swco_mutex_free(NULL);
    swco_cond_free(NULL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sync");
    TCase *tc = tcase_create("sync");
    tcase_add_test(tc, waitgroup);
    tcase_add_test(tc, waitgroup_free_wakes_waiters);
    tcase_add_test(tc, mutex_excludes);
    tcase_add_test(tc, mutex_errors_and_timeout);
    tcase_add_test(tc, condition_variable);
    tcase_add_test(tc, bad_arguments);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
