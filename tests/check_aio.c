/* The AIO thread pool: jobs run off the loop thread, many at once, and a
 * job that outlives its timeout is dropped without touching freed memory. */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

typedef struct {
    pthread_t thread;
    double sleep_s;
    int started, ran;
    int gate; /* > 0: first wait for a byte on this fd (the test's go) */
} job_t;

static void job_fn(void *arg)
{
    job_t *j = arg;
    j->started = 1;
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
    ck_assert_int_eq(swco_aio_run(job_fn, &j, NULL, -1), 0);
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
    ck_assert_int_eq(swco_aio_run(job_fn, &j, NULL, 1), 0);
    ck_assert(pthread_equal(j.thread, pthread_self()));
    ck_assert_int_eq(swco_aio_run(NULL, NULL, NULL, 1), -EINVAL);
}
END_TEST

static int done_count;

static void sleeper(void *arg)
{
    (void)arg;
    job_t j = {.sleep_s = 0.2};
    ck_assert_int_eq(swco_aio_run(job_fn, &j, NULL, 0), 0);
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
    ck_assert_int_eq(swco_aio_run(barrier_job, &reached, NULL, 0), 0);
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
    /* Never freed while the job runs: it finished, or (dropped before a
     * thread took it, as on a loaded machine) never started. */
    ck_assert_int_eq(j->ran, j->started);
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
    ck_assert_int_eq(swco_aio_run(job_fn, j, free_job, 0.05), -ETIMEDOUT);
    ck_assert_int_le(freed, 1); /* 1 only if it was dropped unstarted */
    ck_assert_int_eq(write(go[1], "g", 1), 1);
    /* The coroutine can go on and use the pool again. */
    job_t k = {.sleep_s = 0};
    ck_assert_int_eq(swco_aio_run(job_fn, &k, NULL, 1), 0);
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
    ck_assert_int_eq(swco_aio_run(job_fn, j, free_job, -1), -ECANCELED);
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

/* Jobs that time out before a thread takes them are dropped: they never
 * run, their arg is freed at once, and a later job does not wait behind
 * them.  Two threads are held on a pipe so the queued jobs cannot start. */
enum { DROP_N = 50 };
static int hold_started[2], hold_release[2];
static int dropped_ran, dropped_freed, drop_timeouts;
static swco_channel_t *drop_done;

static void hold_fn(void *arg)
{
    (void)arg;
    char c = 's';
    ck_assert_int_eq(write(hold_started[1], &c, 1), 1);
    ck_assert_int_eq(read(hold_release[0], &c, 1), 1);
}

static void holder(void *arg)
{
    (void)arg;
    ck_assert_int_eq(swco_aio_run(hold_fn, NULL, NULL, 0), 0);
}

static void counted_fn(void *arg)
{
    (void)arg;
    __atomic_add_fetch(&dropped_ran, 1, __ATOMIC_SEQ_CST);
}

static void counted_free(void *arg)
{
    free(arg);
    dropped_freed++;
}

static void gives_up(void *arg)
{
    (void)arg;
    int rc = swco_aio_run(counted_fn, malloc(16), counted_free, 0.02);
    ck_assert_int_eq(rc, -ETIMEDOUT);
    drop_timeouts++;
    ck_assert_int_eq(swco_channel_push(drop_done, NULL, -1), 0);
}

static void after_fn(void *arg)
{
    *(int *)arg = __atomic_load_n(&dropped_ran, __ATOMIC_SEQ_CST) + 1;
}

static void drop_main(void *arg)
{
    (void)arg;
    ck_assert_int_eq(swco_aio_set_max_threads(2), 0);
    swco_coroutine_create(holder, NULL);
    swco_coroutine_create(holder, NULL);
    /* Both pool threads are now busy: wait for them to say so. */
    for (int got = 0; got < 2;) {
        char c;
        if (read(hold_started[0], &c, 1) == 1)
            got++;
        else
            ck_assert_int_gt(swco_event_wait_fd(hold_started[0], SWCO_EVENT_READ, 10 * slow()), 0);
    }
    drop_done = swco_channel_new(DROP_N);
    for (int i = 0; i < DROP_N; i++)
        ck_assert_int_gt(swco_coroutine_create(gives_up, NULL), 0);
    for (int i = 0; i < DROP_N; i++) {
        void *v;
        ck_assert_int_eq(swco_channel_pop(drop_done, &v, 10 * slow()), 0);
    }
    swco_channel_free(drop_done);
    ck_assert_int_eq(drop_timeouts, DROP_N);
    ck_assert_int_eq(swco_aio_pending(), 2); /* only the two holders */
    ck_assert_int_eq(dropped_freed, DROP_N); /* freed at once, not later */
    char two[2] = {'r', 'r'};
    ck_assert_int_eq(write(hold_release[1], two, 2), 2);
    int seen = 0;
    ck_assert_int_eq(swco_aio_run(after_fn, &seen, NULL, 10 * slow()), 0);
    ck_assert_int_eq(seen, 1); /* no dropped job ran before it */
}

START_TEST(timed_out_jobs_never_run)
{
    ck_assert_int_eq(pipe2(hold_started, O_NONBLOCK), 0);
    ck_assert_int_eq(pipe(hold_release), 0);
    ck_assert_int_eq(swco_run(drop_main, NULL), 0);
    /* swco_run waited for every job it still owned: none was a dropped one. */
    ck_assert_int_eq(dropped_ran, 0);
    ck_assert_int_eq(dropped_freed, DROP_N);
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
    tcase_add_test(tc, timed_out_jobs_never_run);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
