/* Coroutines: create/yield/resume order, ids, cancel, defer, local
 * storage, stats, limits, hooks, guard pages, deadlock, bad arguments. */
#include "testutil.h"

#include <errno.h>
#include <fenv.h>
#include <signal.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

static long yielded_cid;

static void yielder(void *arg)
{
    out("A");
    yielded_cid = swco_coroutine_id();
    ck_assert_int_eq(swco_coroutine_yield(), 0);
    out("C");
}

static void resume_main(void *arg)
{
    long cid = swco_coroutine_create(yielder, NULL);
    ck_assert_int_gt(cid, 0);
    ck_assert_int_eq(cid, yielded_cid);
    out("B");
    ck_assert_str_eq(swco_coroutine_wait_reason(cid), "yield");
    ck_assert_int_eq(swco_coroutine_resume(cid), 0);
    out("D");
    ck_assert_int_eq(swco_coroutine_exists(cid), 0);
}

START_TEST(yield_and_resume)
{
    out_reset();
    ck_assert_int_eq(swco_run(resume_main, NULL), 0);
    ck_assert_str_eq(out_buf, "ABCD");
}
END_TEST

static long child_seen_parent, child_cid;

static void child(void *arg)
{
    child_cid = swco_coroutine_id();
    child_seen_parent = swco_coroutine_parent_id();
    swco_sleep(0.01);
}

static void parent(void *arg)
{
    long me = swco_coroutine_id();
    ck_assert_int_gt(me, 0);
    ck_assert_int_eq(swco_coroutine_parent_id(), -1);
    long c = swco_coroutine_create(child, NULL);
    ck_assert_int_eq(c, child_cid);
    ck_assert_int_gt(c, me);
    ck_assert_int_eq(child_seen_parent, me);
    ck_assert_int_eq(swco_coroutine_get_pcid(c), me);
    ck_assert_int_eq(swco_coroutine_exists(c), 1);
    ck_assert_str_eq(swco_coroutine_wait_reason(c), "sleep");
    ck_assert_str_eq(swco_coroutine_wait_reason(me), "running");
    long ids[8];
    ck_assert_int_eq(swco_coroutine_list(ids, 8), 2);
    ck_assert(ids[0] == me || ids[1] == me);
    ck_assert(ids[0] == c || ids[1] == c);
    ck_assert_int_eq(swco_coroutine_count(), 2);
    swco_coroutine_stats_t st;
    ck_assert_int_eq(swco_coroutine_stats(&st), 0);
    ck_assert_int_eq(st.live, 2);
    ck_assert_int_ge(st.peak, 2);
    ck_assert_uint_ge(st.created, 2);
    ck_assert_uint_ge(st.stack_bytes, 2 * st.stack_size);
}

START_TEST(ids_and_introspection)
{
    ck_assert_int_eq(swco_coroutine_id(), -1);
    ck_assert_int_eq(swco_coroutine_parent_id(), -1);
    ck_assert_int_eq(swco_run(parent, NULL), 0);
    ck_assert_int_eq(swco_coroutine_exists(child_cid), 0);
    ck_assert_int_eq(swco_coroutine_get_pcid(child_cid), SWCO_ENOCO);
    ck_assert_ptr_null(swco_coroutine_wait_reason(child_cid));
    ck_assert_int_eq(swco_coroutine_count(), 0);
}
END_TEST

static void say(void *arg) { out("%s", (const char *)arg); }
static int local_key_a, local_key_b;
static void local_free(void *v) { out("[free %s]", (const char *)v); }

static void locals_co(void *arg)
{
    ck_assert_ptr_null(swco_coroutine_get_local(&local_key_a));
    ck_assert_int_eq(swco_coroutine_set_local(&local_key_a, "one", local_free), 0);
    ck_assert_int_eq(swco_coroutine_set_local(&local_key_b, "two", NULL), 0);
    ck_assert_int_eq(swco_coroutine_set_local(&local_key_a, "uno", local_free), 0); /* frees "one" */
    swco_defer(say, "(defer)");
    swco_sleep(0.01);
    ck_assert_str_eq(swco_coroutine_get_local(&local_key_a), "uno");
    ck_assert_str_eq(swco_coroutine_get_local(&local_key_b), "two");
    ck_assert_int_eq(swco_coroutine_set_local(NULL, "x", NULL), -EINVAL);
}

static void locals_other(void *arg)
{
    /* Locals are per coroutine. */
    ck_assert_ptr_null(swco_coroutine_get_local(&local_key_a));
}

START_TEST(locals_and_defer)
{
    out_reset();
    swco_coroutine_create(locals_co, NULL);
    swco_coroutine_create(locals_other, NULL);
    ck_assert_int_eq(swco_event_wait(), 0);
    ck_assert_str_eq(out_buf, "[free one](defer)[free uno]");
}
END_TEST

static int arg_freed;
static void count_free(void *arg) { arg_freed += *(int *)arg; }
static void noop(void *arg) {}

START_TEST(create_ex_arg_free_and_stack)
{
    static int one = 1;
    arg_freed = 0;
    long cid = swco_coroutine_create_ex(noop, &one, count_free, 64 * 1024);
    ck_assert_int_gt(cid, 0);
    ck_assert_int_eq(arg_freed, 1);
    ck_assert_int_eq(swco_coroutine_create_ex(NULL, &one, count_free, 0), -EINVAL);
    ck_assert_int_eq(arg_freed, 1);
    ck_assert_int_eq(swco_coroutine_create_ex(noop, NULL, NULL, (size_t)4 << 30), -EINVAL);
    ck_assert_int_eq(swco_event_wait(), 0);
}
END_TEST

static int cancel_rc, after_cancel_rc;

static void sleeper(void *arg)
{
    cancel_rc = swco_sleep(60);
    ck_assert_int_eq(swco_coroutine_is_cancelled(), 1);
    after_cancel_rc = swco_sleep(0.01); /* every later wait fails too */
}

static void canceller(void *arg)
{
    long cid = swco_coroutine_create(sleeper, NULL);
    ck_assert_int_eq(swco_coroutine_is_cancelled(), 0);
    ck_assert_int_eq(swco_coroutine_cancel(swco_coroutine_id()), SWCO_ECOSTATE);
    ck_assert_int_eq(swco_coroutine_resume(cid), SWCO_ECOSTATE); /* sleeping, not yielded */
    ck_assert_int_eq(swco_coroutine_cancel(cid), 0);
    ck_assert_int_eq(swco_coroutine_exists(cid), 0);
}

START_TEST(cancel)
{
    double t0 = now_s();
    ck_assert_int_eq(swco_run(canceller, NULL), 0);
    ck_assert_double_lt(now_s() - t0, 10.0 * slow()); /* not the 60 s sleep */
    ck_assert_int_eq(cancel_rc, -ECANCELED);
    ck_assert_int_eq(after_cancel_rc, -ECANCELED);
    ck_assert_int_eq(swco_coroutine_cancel(123456789), SWCO_ENOCO);
    ck_assert_int_eq(swco_coroutine_resume(123456789), SWCO_ENOCO);
    ck_assert_int_eq(swco_coroutine_resume(-5), SWCO_ENOCO);
}
END_TEST

static void yield_forever(void *arg) { swco_coroutine_yield(); }

START_TEST(max_coroutine)
{
    ck_assert_int_eq(swco_coroutine_get_max(), 100000);
    ck_assert_int_eq(swco_coroutine_set_max(0), -EINVAL);
    ck_assert_int_eq(swco_coroutine_set_max(10), 0);
    long ids[10];
    for (int i = 0; i < 10; i++)
        ck_assert_int_gt(ids[i] = swco_coroutine_create(yield_forever, NULL), 0);
    ck_assert_int_eq(swco_coroutine_create(yield_forever, NULL), SWCO_ECOLIMIT);
    ck_assert_int_eq(swco_last_error(), SWCO_ECOLIMIT);
    ck_assert_int_eq(swco_coroutine_resume(ids[0]), 0); /* one ends: room for one */
    ck_assert_int_gt(swco_coroutine_create(noop, NULL), 0);
    for (int i = 1; i < 10; i++)
        ck_assert_int_eq(swco_coroutine_resume(ids[i]), 0);
    ck_assert_int_eq(swco_coroutine_count(), 0);
    /* Lowered while coroutines are alive: exact still. */
    ck_assert_int_eq(swco_coroutine_set_max(100000), 0);
    for (int i = 0; i < 10; i++)
        ck_assert_int_gt(ids[i] = swco_coroutine_create(yield_forever, NULL), 0);
    ck_assert_int_eq(swco_coroutine_set_max(12), 0);
    ck_assert_int_gt(swco_coroutine_create(noop, NULL), 0);
    long extra[2];
    for (int i = 0; i < 2; i++)
        ck_assert_int_gt(extra[i] = swco_coroutine_create(yield_forever, NULL), 0);
    ck_assert_int_eq(swco_coroutine_create(yield_forever, NULL), SWCO_ECOLIMIT);
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(swco_coroutine_resume(ids[i]), 0);
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(swco_coroutine_resume(extra[i]), 0);
    ck_assert_int_eq(swco_coroutine_count(), 0);
    swco_coroutine_set_max(100000);
}
END_TEST

/* Past the kernel's mapping limit creation fails cleanly, and every
 * coroutine made before still runs to its end. */
START_TEST(out_of_stacks_is_a_clean_error)
{
    enum { N = 40000 };
    static long ids[N];
    /* valgrind tracks far fewer mappings than the kernel allows: there the
     * test makes 5,000 and checks they all run, without reaching the limit. */
    long n = getenv("SWCO_TEST_VALGRIND") ? 5000 : N;
    ck_assert_int_eq(swco_coroutine_set_max(N + 1), 0);
    long made = 0, rc = 0;
    for (long i = 0; i < n; i++) {
        rc = swco_coroutine_create(yield_forever, NULL);
        if (rc < 0)
            break;
        ids[made++] = rc;
    }
    if (rc < 0) { /* vm.max_map_count reached (65530 by default) */
        ck_assert_int_eq(rc, -ENOMEM);
        ck_assert_int_eq(swco_last_error(), -ENOMEM);
    }
    ck_assert_int_gt(made, n < N ? n - 1 : 10000);
    ck_assert_int_eq(swco_coroutine_count(), made);
    for (long i = 0; i < made; i++)
        ck_assert_int_eq(swco_coroutine_resume(ids[i]), 0);
    ck_assert_int_eq(swco_coroutine_count(), 0);
    ck_assert_int_gt(swco_coroutine_create(noop, NULL), 0); /* usable again */
}
END_TEST

#define MANY 10000
static int many_started, many_done;

static void many_sleeper(void *arg)
{
    long i = (long)arg;
    many_started++;
    ck_assert_int_eq(swco_sleep(0.2 + 0.3 * (double)(i % 100) / 100.0), 0);
    /* every sleep began before any ended: they ran at the same time */
    ck_assert_int_eq(many_started, MANY);
    many_done++;
}

START_TEST(ten_thousand_sleepers)
{
    many_started = many_done = 0;
    double t0 = now_s();
    for (long i = 0; i < MANY; i++)
        ck_assert_int_gt(swco_coroutine_create(many_sleeper, (void *)i), 0);
    ck_assert_int_eq(swco_coroutine_count(), MANY);
    ck_assert_int_eq(swco_event_wait(), 0);
    double elapsed = now_s() - t0;
    ck_assert_int_eq(many_done, MANY);
    /* The longest sleep is 0.497 s; the sum would be over an hour. */
    ck_assert_double_ge(elapsed, 0.49);
}
END_TEST

static long hook_counts[4];
static int hook_slots_ok = 1;
static void hook(int event, long cid, void **slot, void *arg)
{
    hook_counts[event]++;
    if (event == SWCO_COROUTINE_CREATE)
        *slot = (void *)cid;
    else if (cid > 0 && *slot != (void *)cid)
        hook_slots_ok = 0; /* the slot follows its coroutine */
}

static void hooked(void *arg) { swco_sleep(0.01); }

START_TEST(binding_hooks)
{
    ck_assert_int_eq(swco_coroutine_set_hook(hook, NULL), 0);
    swco_coroutine_create(hooked, NULL);
    swco_coroutine_create(hooked, NULL);
    ck_assert_int_eq(swco_coroutine_set_hook(hook, NULL), SWCO_ECOSTATE);
    ck_assert_int_eq(swco_event_wait(), 0);
    ck_assert_int_eq(hook_counts[SWCO_COROUTINE_CREATE], 2);
    ck_assert_int_eq(hook_counts[SWCO_COROUTINE_END], 2);
    /* Each coroutine is entered twice (start, after sleep) and left twice. */
    ck_assert_int_eq(hook_counts[SWCO_COROUTINE_SWITCH_IN], 8);
    ck_assert_int_eq(hook_counts[SWCO_COROUTINE_SWITCH_OUT], 8);
    ck_assert(hook_slots_ok);
    ck_assert_int_eq(swco_coroutine_set_hook(NULL, NULL), 0);
}
END_TEST

static int deadlock_pop_rc;
static void deadlock_co(void *arg)
{
    swco_channel_t *ch = swco_channel_new(1);
    void *v;
    swco_defer(say, "[defer ran]");
    deadlock_pop_rc = swco_channel_pop(ch, &v, -1);
    swco_channel_free(ch);
}

static void log_to_out(int level, const char *msg, void *arg) { out("%s\n", msg); }

START_TEST(deadlock_reported)
{
    out_reset();
    swco_log_set_handler(log_to_out, NULL, NULL);
    double t0 = now_s();
    int rc = swco_run(deadlock_co, NULL);
    swco_log_set_handler(NULL, NULL, NULL);
    ck_assert_int_eq(rc, SWCO_EDEADLOCK);
    ck_assert_double_lt(now_s() - t0, 10.0 * slow());
    ck_assert_int_eq(deadlock_pop_rc, -ECANCELED);
    ck_assert_ptr_nonnull(strstr(out_buf, "waits on channel pop"));
    ck_assert_ptr_nonnull(strstr(out_buf, "[defer ran]"));
    ck_assert_int_eq(swco_coroutine_count(), 0);
}
END_TEST

/* Recursion the compiler cannot fold away: each level keeps 1 KiB live. */
static int (*volatile recurse_fn)(int);
static int recurse(int depth)
{
    volatile char pad[1024];
    pad[0] = (char)depth;
    return recurse_fn(depth + 1) + pad[0];
}

static void overflow_co(void *arg)
{
    recurse_fn = recurse;
    recurse(0);
}

START_TEST(guard_page_overflow)
{
    int pipefd[2];
    ck_assert_int_eq(pipe(pipefd), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        dup2(pipefd[1], STDERR_FILENO);
        swco_coroutine_create_ex(overflow_co, NULL, NULL, 32 * 1024);
        _exit(0); /* not reached */
    }
    close(pipefd[1]);
    char buf[4096] = {0};
    size_t n = 0;
    ssize_t r;
    while ((r = read(pipefd[0], buf + n, sizeof buf - 1 - n)) > 0)
        n += (size_t)r;
    close(pipefd[0]);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV, "child status %d", status);
    ck_assert_msg(strstr(buf, "overflowed its stack of 32768 bytes") != NULL, "stderr: %s", buf);
}
END_TEST

static void nested_run(void *arg)
{
    ck_assert_int_eq(swco_run(noop, NULL), SWCO_ECOSTATE);
    ck_assert_int_eq(swco_event_wait(), SWCO_ECOSTATE);
}

START_TEST(bad_arguments)
{
    ck_assert_int_eq(swco_coroutine_create(NULL, NULL), -EINVAL);
    ck_assert_int_eq(swco_run(NULL, NULL), -EINVAL);
    ck_assert_int_eq(swco_coroutine_yield(), SWCO_ENOTCO);
    ck_assert_int_eq(swco_defer(say, "x"), SWCO_ENOTCO);
    ck_assert_int_eq(swco_coroutine_set_local(&local_key_a, NULL, NULL), SWCO_ENOTCO);
    ck_assert_ptr_null(swco_coroutine_get_local(&local_key_a));
    ck_assert_int_eq(swco_coroutine_list(NULL, 3), -EINVAL);
    ck_assert_int_eq(swco_coroutine_list(NULL, 0), 0);
    long ids[1];
    ck_assert_int_eq(swco_coroutine_list(ids, -1), -EINVAL);
    ck_assert_int_eq(swco_coroutine_stats(NULL), -EINVAL);
    ck_assert_int_eq(swco_coroutine_set_stack_size(100), -EINVAL);
    ck_assert_int_eq(swco_coroutine_set_stack_size((size_t)2 << 30), -EINVAL);
    ck_assert_int_eq(swco_coroutine_set_stack_size(100000), 0);
    ck_assert_uint_eq(swco_coroutine_get_stack_size() % 4096, 0);
    ck_assert_uint_ge(swco_coroutine_get_stack_size(), 100000);
    ck_assert_int_eq(swco_sleep(-1), -EINVAL);
    ck_assert_int_eq(swco_run(nested_run, NULL), 0);
}
END_TEST

START_TEST(sleep_outside_coroutine_blocks)
{
    double t0 = now_s();
    ck_assert_int_eq(swco_sleep(0.05), 0);
    ck_assert_double_ge(now_s() - t0, 0.05);
}
END_TEST

static void deep_stack_user(void *arg)
{
    volatile char big[128 * 1024]; /* half the default stack */
    big[0] = 1;
    big[sizeof big - 1] = 2;
    swco_sleep(0.001);
    *(int *)arg = big[0] + big[sizeof big - 1];
}

START_TEST(default_stack_is_usable)
{
    int r = 0;
    ck_assert_int_eq(swco_run(deep_stack_user, &r), 0);
    ck_assert_int_eq(r, 3);
}
END_TEST

/* Backtraces of a waiting coroutine name the function it waits in. */
static __attribute__((noinline)) void wait_here(void)
{
    swco_coroutine_yield();
    __asm__ volatile(""); /* keep the call from becoming a tail call */
}

static void bt_target(void *arg)
{
    wait_here();
    out("target resumed;");
}

static int in_function(void *addr, void (*fn)(void))
{
    return (char *)addr >= (char *)fn && (char *)addr < (char *)fn + 64;
}

static void bt_main(void *arg)
{
    long cid = swco_coroutine_create(bt_target, NULL);
    void *frames[32];
    long n = swco_coroutine_backtrace(cid, frames, 32);
    ck_assert_int_gt(n, 2);
    int found = 0;
    for (long i = 0; i < n; i++)
        found |= in_function(frames[i], wait_here);
    ck_assert_msg(found, "no frame in wait_here among %ld", n);
    ck_assert_str_eq(swco_coroutine_wait_reason(cid), "yield"); /* still waiting */
    ck_assert_int_gt(swco_coroutine_backtrace(swco_coroutine_id(), frames, 32), 0);
    ck_assert_int_gt(swco_coroutine_print_backtrace(cid, -1), 0); /* bad fd: nothing written */
    out("asked;");
    ck_assert_int_eq(swco_coroutine_resume(cid), 0);
    ck_assert_int_eq(swco_coroutine_backtrace(cid, frames, 32), SWCO_ENOCO);
    ck_assert_int_eq(swco_coroutine_backtrace(cid, NULL, 32), -EINVAL);
    ck_assert_int_eq(swco_coroutine_backtrace(cid, frames, 0), -EINVAL);
}

START_TEST(backtrace_of_a_waiting_coroutine)
{
    out_reset();
    ck_assert_int_eq(swco_run(bt_main, NULL), 0);
    ck_assert_str_eq(out_buf, "asked;target resumed;");
}
END_TEST

/* Several threads, each with its own scheduler and loop. */
typedef struct thread_job {
    long sum;
    long first_cid;
    int rc;
    swco_channel_t *ch;
} thread_job_t;

static void thread_producer(void *arg)
{
    thread_job_t *j = arg;
    for (long i = 1; i <= 100; i++) {
        swco_sleep(0.0005);
        swco_channel_push(j->ch, (void *)i, -1);
    }
    swco_channel_close(j->ch);
}

static void thread_main(void *arg)
{
    thread_job_t *j = arg;
    j->first_cid = swco_coroutine_id();
    j->ch = swco_channel_new(4);
    swco_coroutine_create(thread_producer, j);
    void *v;
    while (swco_channel_pop(j->ch, &v, -1) == 0)
        j->sum += (long)v;
    swco_channel_free(j->ch);
}

static void *thread_body(void *arg)
{
    thread_job_t *j = arg;
    j->rc = swco_run(thread_main, j);
    return NULL;
}

START_TEST(threads_run_their_own_loops)
{
    enum { T = 4 };
    pthread_t th[T];
    thread_job_t jobs[T];
    memset(jobs, 0, sizeof jobs);
    for (int i = 0; i < T; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, thread_body, &jobs[i]), 0);
    for (int i = 0; i < T; i++)
        ck_assert_int_eq(pthread_join(th[i], NULL), 0);
    for (int i = 0; i < T; i++) {
        ck_assert_int_eq(jobs[i].rc, 0);
        ck_assert_int_eq(jobs[i].sum, 5050);
        for (int k = 0; k < i; k++) /* ids are unique across the process */
            ck_assert_int_ne(jobs[i].first_cid, jobs[k].first_cid);
        /* A coroutine of another thread is unknown here. */
        ck_assert_int_eq(swco_coroutine_exists(jobs[i].first_cid), 0);
    }
}
END_TEST


/* Each coroutine keeps its own rounding mode (and on x86_64 its own x87
 * precision), and a new one starts with its creator's, as threads do. */
#if defined(__x86_64__)
#include <fpu_control.h>
#endif
static int fp_child_first, fp_child_later;
static unsigned fp_child_cw;
static void fp_child(void *arg)
{
    fp_child_first = fegetround();
    fesetround(FE_UPWARD);
#if defined(__x86_64__)
    fpu_control_t cw;
    _FPU_GETCW(cw);
    cw = (fpu_control_t)((cw & ~_FPU_EXTENDED) | _FPU_SINGLE);
    _FPU_SETCW(cw);
#endif
    volatile double x = 1.0;
    x /= 3.0; /* raises "inexact" in this coroutine */
    swco_coroutine_yield();
    fp_child_later = fegetround();
#if defined(__x86_64__)
    _FPU_GETCW(cw);
    fp_child_cw = cw & _FPU_EXTENDED;
#endif
}
static void fp_main(void *arg)
{
    fesetround(FE_DOWNWARD);
#if defined(__x86_64__)
    fpu_control_t before, after;
    _FPU_GETCW(before);
#endif
    long cid = swco_coroutine_create(fp_child, NULL);
    ck_assert_int_eq(fegetround(), FE_DOWNWARD);
#if defined(__x86_64__)
    _FPU_GETCW(after);
    ck_assert_uint_eq(after, before);
#endif
    ck_assert_int_eq(swco_coroutine_resume(cid), 0);
    ck_assert_int_eq(fegetround(), FE_DOWNWARD);
    fesetround(FE_TONEAREST);
}

START_TEST(fp_environment_per_coroutine)
{
    ck_assert_int_eq(swco_run(fp_main, NULL), 0);
    ck_assert_int_eq(fp_child_first, FE_DOWNWARD);
    ck_assert_int_eq(fp_child_later, FE_UPWARD);
#if defined(__x86_64__)
    /* valgrind does not model the x87 precision control. */
    if (!getenv("SWCO_TEST_VALGRIND"))
        ck_assert_uint_eq(fp_child_cw, _FPU_SINGLE);
#endif
    ck_assert_int_eq(fegetround(), FE_TONEAREST);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("coroutine");
    TCase *tc = tcase_create("coroutine");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, yield_and_resume);
    tcase_add_test(tc, fp_environment_per_coroutine);
    tcase_add_test(tc, ids_and_introspection);
    tcase_add_test(tc, locals_and_defer);
    tcase_add_test(tc, create_ex_arg_free_and_stack);
    tcase_add_test(tc, cancel);
    tcase_add_test(tc, max_coroutine);
    tcase_add_test(tc, ten_thousand_sleepers);
    tcase_add_test(tc, out_of_stacks_is_a_clean_error);
    tcase_add_test(tc, binding_hooks);
    tcase_add_test(tc, deadlock_reported);
    tcase_add_test(tc, guard_page_overflow);
    tcase_add_test(tc, bad_arguments);
    tcase_add_test(tc, sleep_outside_coroutine_blocks);
    tcase_add_test(tc, default_stack_is_usable);
    tcase_add_test(tc, threads_run_their_own_loops);
    tcase_add_test(tc, backtrace_of_a_waiting_coroutine);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
