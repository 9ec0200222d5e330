/* The AIO thread pool: jobs run off the loop thread, many at once, and a
 * job that outlives its timeout is dropped without touching freed memory. */
#include "testutil.h"

#include <errno.h>
#include <pthread.h>
#include <unistd.h>

typedef struct {
    pthread_t thread;
    double sleep_s;
    int ran;
    int gate; /* > 0: first wait for a byte on this fd (the test's go) */
} job_t;

static void job_fn(void *arg)
{
    job_t *j = arg;
    j->thread = pthread_self();
    if (j->sleep_s > 0)
        usleep((useconds_t)(j->sleep_s * 1e6));
    char c;
    if (j->gate > 0)
        ck_assert_int_eq(read(j->gate, &c, 1), 1);
    j->ran = 1;
}

static void one_job(void *arg)
{
    (void)arg;
    job_t j = {.sleep_s = 0};
    ck_assert_int_eq(swco_async(job_fn, &j, NULL, -1), 0);
    ck_assert_int_eq(j.ran, 1);
    ck_assert(!pthread_equal(j.thread, pthread_self()));
}

START_TEST(runs_on_pool)
{
    ck_assert_int_eq(swco_run(one_job, NULL), 0);
}
END_TEST

START_TEST(outside_coroutine)
{
    job_t j = {.sleep_s = 0};
    ck_assert_int_eq(swco_async(job_fn, &j, NULL, 1), 0);
    ck_assert(pthread_equal(j.thread, pthread_self()));
    ck_assert_int_eq(swco_async(NULL, NULL, NULL, 1), -EINVAL);
}
END_TEST

static int done_count;

static void sleeper(void *arg)
{
    (void)arg;
    job_t j = {.sleep_s = 0.2};
    ck_assert_int_eq(swco_async(job_fn, &j, NULL, 0), 0);
    done_count++;
}

/* A barrier all 20 jobs must reach before any goes on: run one at a time
 * the first would wait until its (generous) limit and fail. */
static pthread_mutex_t bar_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t bar_cv = PTHREAD_COND_INITIALIZER;
static int bar_in;

static void barrier_job(void *arg)
{
    int *reached = arg;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += (time_t)(60 * slow());
    pthread_mutex_lock(&bar_mu);
    if (++bar_in == 20)
        pthread_cond_broadcast(&bar_cv);
    while (bar_in < 20 && pthread_cond_timedwait(&bar_cv, &bar_mu, &until) == 0)
        ;
    *reached = bar_in == 20;
    pthread_mutex_unlock(&bar_mu);
}

static void meeting(void *arg)
{
    (void)arg;
    int reached = 0;
    ck_assert_int_eq(swco_async(barrier_job, &reached, NULL, 0), 0);
    ck_assert_msg(reached, "only %d of 20 jobs ran at once", bar_in);
    done_count++;
}

static void many(void *arg)
{
    (void)arg;
    for (int i = 0; i < 20; i++)
        swco_coroutine_create(meeting, NULL);
}

START_TEST(concurrent)
{
    done_count = 0;
    bar_in = 0;
    ck_assert_int_eq(swco_run(many, NULL), 0);
    ck_assert_int_eq(done_count, 20);
    ck_assert_int_le(swco_aio_thread_count(), swco_aio_get_max_threads());
}
END_TEST

static int freed;

static void free_job(void *arg)
{
    job_t *j = arg;
    ck_assert_int_eq(j->ran, 1); /* never freed while the job runs */
    freed++;
    free(j);
}

static void timing_out(void *arg)
{
    (void)arg;
    int go[2];
    ck_assert_int_eq(pipe(go), 0);
    job_t *j = calloc(1, sizeof *j);
    j->gate = go[0]; /* the job cannot end before the timeout */
    ck_assert_int_eq(swco_async(job_fn, j, free_job, 0.05), -ETIMEDOUT);
    ck_assert_int_eq(freed, 0);
    ck_assert_int_eq(write(go[1], "g", 1), 1);
    /* The coroutine can go on and use the pool again. */
    job_t k = {.sleep_s = 0};
    ck_assert_int_eq(swco_async(job_fn, &k, NULL, 1), 0);
}

START_TEST(timeout_drops_late_result)
{
    freed = 0;
    ck_assert_int_eq(swco_run(timing_out, NULL), 0);
    ck_assert_int_eq(freed, 1); /* the loop waited for the late job */
}
END_TEST

static long victim;

static int cancel_go[2];

static void cancelled(void *arg)
{
    (void)arg;
    job_t *j = calloc(1, sizeof *j);
    j->gate = cancel_go[0]; /* the job cannot end before the cancel */
    ck_assert_int_eq(swco_async(job_fn, j, free_job, -1), -ECANCELED);
}

static void canceller(void *arg)
{
    (void)arg;
    ck_assert_int_eq(pipe(cancel_go), 0);
    victim = swco_coroutine_create(cancelled, NULL);
    swco_sleep(0.01);
    ck_assert_int_eq(swco_coroutine_cancel(victim), 0);
    ck_assert_int_eq(write(cancel_go[1], "g", 1), 1);
}

START_TEST(cancel_drops_late_result)
{
    freed = 0;
    ck_assert_int_eq(swco_run(canceller, NULL), 0);
    ck_assert_int_eq(freed, 1);
}
END_TEST

static void limited(void *arg)
{
    (void)arg;
    ck_assert_int_eq(swco_aio_set_max_threads(0), -EINVAL);
    ck_assert_int_eq(swco_aio_set_max_threads(2), 0);
    for (int i = 0; i < 6; i++)
        swco_coroutine_create(sleeper, NULL);
}

START_TEST(max_threads_and_idle_exit)
{
    done_count = 0;
    ck_assert_int_eq(swco_aio_set_idle_timeout(0.05), 0);
    double t0 = now_s();
    ck_assert_int_eq(swco_run(limited, NULL), 0);
    double dt = now_s() - t0;
    ck_assert_int_eq(done_count, 6);
    ck_assert_msg(dt > 0.55, "6 jobs of 0.2 s on 2 threads took only %.3f s", dt);
    ck_assert_int_le(swco_aio_thread_count(), 2);
    /* idle threads leave after 0.05 s: wait for it, with a generous limit */
    for (t0 = now_s(); swco_aio_thread_count() > 0 && now_s() - t0 < 30 * slow();)
        usleep(10000);
    ck_assert_int_eq(swco_aio_thread_count(), 0);
    ck_assert_int_eq(swco_aio_pending(), 0);
    swco_aio_set_max_threads(64);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("aio");
    TCase *tc = tcase_create("pool");
    tcase_add_test(tc, runs_on_pool);
    tcase_add_test(tc, outside_coroutine);
    tcase_add_test(tc, concurrent);
    tcase_add_test(tc, timeout_drops_late_result);
    tcase_add_test(tc, cancel_drops_late_result);
    tcase_add_test(tc, max_threads_and_idle_exit);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
