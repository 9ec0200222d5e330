/* The library's own threads (the AIO pool, which the hook uses too): a
 * process signal handled with swco_event_signal() reaches the loop, never
 * one of them. */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <swco/hook.h>

static int job_pipe[2];
static swco_channel_t *handled;
static long nhandled;

/* Runs on an AIO pool thread until the test lets it go. */
static void blocked_job(void *arg)
{
    char c;
    ssize_t r = read(job_pipe[0], &c, 1);
    (void)r;
}

static void aio_waiter(void *arg) { ck_assert_int_eq(swco_aio_run(blocked_job, NULL, NULL, 0), 0); }

static void on_term(int signo, void *arg)
{
    ck_assert_int_eq(signo, SIGTERM);
    nhandled++;
    ck_assert_int_eq(swco_channel_push(handled, (void *)1, 0), 0);
}

static int thread_count(void)
{
    DIR *d = opendir("/proc/self/task");
    int n = 0;
    if (!d)
        return -1;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

enum { ROUNDS = 50 };

static void term_main(void *arg)
{
    /* A hooked regular file read in a coroutine: on an AIO pool thread. */
    char path[] = "/tmp/swco-sigthreads-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    unlink(path);
    ck_assert_int_eq(write(fd, "abc", 3), 3);
    char buf[3];
    ck_assert_int_eq(pread(fd, buf, 3, 0), 3);
    ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
    ck_assert_int_eq(read(fd, buf, 3), 3); /* on a pool thread */
    close(fd);
    /* An AIO pool thread, busy with a job all along. */
    ck_assert_int_eq(pipe(job_pipe), 0);
    swco_coroutine_create(aio_waiter, NULL);
    ck_assert_int_ge(swco_aio_thread_count(), 1);
    ck_assert_int_ge(thread_count(), 2); /* this one and the pool's (one pool) */

    /* Only now the handler: the helpers were made before SIGTERM was
     * blocked in this thread, so they did not inherit that. */
    handled = swco_channel_new(1);
    ck_assert_int_eq(swco_event_signal(SIGTERM, on_term, NULL, NULL), 0);
    for (int i = 0; i < ROUNDS; i++) {
        ck_assert_int_eq(kill(getpid(), SIGTERM), 0);
        void *v;
        ck_assert_int_eq(swco_channel_pop(handled, &v, 10 * slow()), 0);
    }
    ck_assert_int_eq(nhandled, ROUNDS);
    ck_assert_int_eq(swco_event_signal(SIGTERM, NULL, NULL, NULL), 0);
    ck_assert_int_eq(write(job_pipe[1], "x", 1), 1); /* the AIO job ends */
    swco_channel_free(handled);
}

START_TEST(sigterm_reaches_swco_signal_past_helper_threads)
{
    ck_assert_int_eq(swco_hook_enable(SWCO_HOOK_FILE), 0);
    ck_assert_int_eq(swco_run(term_main, NULL), 0);
    ck_assert_int_eq(nhandled, ROUNDS); /* and the process is alive */
    swco_hook_disable();
    close(job_pipe[0]);
    close(job_pipe[1]);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("helper_threads");
    TCase *tc = tcase_create("helper_threads");
    tcase_add_test(tc, sigterm_reaches_swco_signal_past_helper_threads);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
