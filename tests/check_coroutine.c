/* Coroutines: create/yield/resume order, ids, cancel, defer, local
 * storage, stats, limits, hooks, guard pages, deadlock, bad arguments. */
#include "testutil.h"

#include <errno.h>
#include <alloca.h>
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
    child_seen_parent = swco_coroutine_parent_id(0);
    swco_sleep(0.01);
}

static void parent(void *arg)
{
    long me = swco_coroutine_id();
    ck_assert_int_gt(me, 0);
    ck_assert_int_eq(swco_coroutine_parent_id(0), 0);
    ck_assert_int_eq(swco_coroutine_parent_id(me), 0);
    long c = swco_coroutine_create(child, NULL);
    ck_assert_int_eq(c, child_cid);
    ck_assert_int_gt(c, me);
    ck_assert_int_eq(child_seen_parent, me);
    ck_assert_int_eq(swco_coroutine_parent_id(c), me);
    ck_assert_int_eq(swco_coroutine_exists(c), 1);
    ck_assert_str_eq(swco_coroutine_wait_reason(c), "sleep");
    ck_assert_str_eq(swco_coroutine_wait_reason(me), "running");
    long ids[8];
    ck_assert_int_eq(swco_coroutine_list(ids, 8), 2);
    ck_assert(ids[0] == me || ids[1] == me);
    ck_assert(ids[0] == c || ids[1] == c);
    ck_assert_int_eq(swco_coroutine_count(), 2);
    swco_coroutine_stats_t st = {.size = sizeof st};
    ck_assert_int_eq(swco_coroutine_stats(&st), 0);
    ck_assert_int_eq(st.live, 2);
    ck_assert_int_ge(st.peak, 2);
    ck_assert_uint_ge(st.created, 2);
    ck_assert_uint_ge(st.stack_bytes, 2 * st.stack_size);
}

START_TEST(ids_and_introspection)
{
    ck_assert_int_eq(swco_coroutine_id(), 0);
    ck_assert_int_eq(swco_coroutine_parent_id(0), 0);
    ck_assert_int_eq(swco_run(parent, NULL), 0);
    ck_assert_int_eq(swco_coroutine_exists(child_cid), 0);
    ck_assert_int_eq(swco_coroutine_parent_id(child_cid), SWCO_ENOCO);
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
    swco_defer(say, "(defer)", NULL);
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
    ck_assert_int_eq(swco_coroutine_set_hook(hook, NULL, NULL), 0);
    swco_coroutine_create(hooked, NULL);
    swco_coroutine_create(hooked, NULL);
    ck_assert_int_eq(swco_coroutine_set_hook(hook, NULL, NULL), SWCO_ECOSTATE);
    ck_assert_int_eq(swco_event_wait(), 0);
    ck_assert_int_eq(hook_counts[SWCO_COROUTINE_CREATE], 2);
    ck_assert_int_eq(hook_counts[SWCO_COROUTINE_END], 2);
    /* Each coroutine is entered twice (start, after sleep) and left twice. */
    ck_assert_int_eq(hook_counts[SWCO_COROUTINE_SWITCH_IN], 8);
    ck_assert_int_eq(hook_counts[SWCO_COROUTINE_SWITCH_OUT], 8);
    ck_assert(hook_slots_ok);
    ck_assert_int_eq(swco_coroutine_set_hook(NULL, NULL, NULL), 0);
}
END_TEST

static int deadlock_pop_rc;
static void deadlock_co(void *arg)
{
    swco_channel_t *ch = swco_channel_new(1);
    void *v;
    swco_defer(say, "[defer ran]", NULL);
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

/* What a forked child wrote to the pipe (its stderr) until it ended, as a
 * string in buf, and its wait status. */
static int child_output(pid_t pid, int pipefd[2], char *buf, size_t cap)
{
    close(pipefd[1]);
    size_t n = 0;
    ssize_t r;
    while (n < cap - 1 && (r = read(pipefd[0], buf + n, cap - 1 - n)) > 0)
        n += (size_t)r;
    buf[n] = 0;
    close(pipefd[0]);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    return status;
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
    char buf[4096];
    int status = child_output(pid, pipefd, buf, sizeof buf);
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
    ck_assert_int_eq(swco_defer(say, "x", NULL), SWCO_ENOTCO);
    ck_assert_int_eq(swco_coroutine_set_local(&local_key_a, NULL, NULL), SWCO_ENOTCO);
    ck_assert_ptr_null(swco_coroutine_get_local(&local_key_a));
    ck_assert_int_eq(swco_coroutine_list(NULL, 3), -EINVAL);
    ck_assert_int_eq(swco_coroutine_list(NULL, 0), 0);
    long ids[1];
    ck_assert_int_eq(swco_coroutine_list(ids, -1), -EINVAL);
    ck_assert_int_eq(swco_coroutine_stats(NULL), -EINVAL);
    ck_assert_int_eq(swco_coroutine_set_stack_size(100), -EINVAL);
    ck_assert_int_eq(swco_coroutine_set_stack_size((size_t)2 << 30), -EINVAL);
    size_t stack = swco_coroutine_get_stack_size();
    ck_assert_int_eq(swco_coroutine_set_stack_size(100000), 0);
    ck_assert_uint_eq(swco_coroutine_get_stack_size() % 4096, 0);
    ck_assert_uint_ge(swco_coroutine_get_stack_size(), 100000);
    /* Under CK_FORK=no later tests run in this process: a 100 KB default
     * made default_stack_is_usable's 128 KiB frame overflow (unseen, over
     * a one-page guard, before the guard grew). */
    ck_assert_int_eq(swco_coroutine_set_stack_size(stack), 0);
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
static unsigned fp_child_cw;
#endif
static int fp_child_first, fp_child_later;
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

/* ------------------------------------------------ frames larger than a page
 *
 * A coroutine (the "overflower") fills its 1 MiB stack to within a few KiB
 * and then makes one more frame; a second coroutine of the same size,
 * created just after it and so mapped just below it, keeps a canary array
 * at the top of its stack.  The frame must stop at the overflower's guard
 * with SIGSEGV; before, its first write went over the one-page guard into
 * the neighbour's canary and nothing was said.  The child exits 3 when the
 * canary was overwritten and 2 when the frame went through without a fault
 * and without touching it. */
#define BIG_STACK (1024 * 1024)
#define CANARY_LEN (192 * 1024)
static int canary_ok = -1;

static void canary_keeper(void *arg)
{
    volatile char canary[CANARY_LEN];
    for (size_t i = 0; i < CANARY_LEN; i++)
        canary[i] = (char)0x5a;
    swco_coroutine_yield();
    int ok = 1;
    for (size_t i = 0; i < CANARY_LEN; i++)
        ok &= canary[i] == (char)0x5a;
    canary_ok = ok;
}

/* Leaves about 6 KiB of the stack free below the caller's frame. */
#define FILL_STACK()                                                                               \
    do {                                                                                           \
        volatile char *fill_ = alloca(BIG_STACK - 8192);                                           \
        fill_[0] = 0;                                                                              \
    } while (0)

static void big_alloca(void *arg)
{
    swco_coroutine_yield();
    FILL_STACK();
    volatile char *p = alloca((size_t)arg);
    p[0] = 1; /* the lowest byte of the frame */
    p[(size_t)arg - 1] = 1;
}

/* A frame between a page and the guard size, from code built without
 * stack-clash protection (older libraries, users who skip the flag): its
 * pages are not probed, and its lowest byte is written first. */
#if defined(__GNUC__) && !defined(__clang__)
#define NO_STACK_CLASH __attribute__((noinline, optimize("no-stack-clash-protection")))
#define HAVE_NO_STACK_CLASH 1
#endif
#ifdef HAVE_NO_STACK_CLASH
static NO_STACK_CLASH void unprobed_frame(void)
{
    volatile char buf[32 * 1024];
    buf[0] = 1;
    buf[sizeof buf - 1] = 1;
}
#endif

static void big_array(void *arg)
{
    swco_coroutine_yield();
    FILL_STACK();
#ifdef HAVE_NO_STACK_CLASH
    unprobed_frame();
#endif
}

static void overflow_next_to_neighbour(swco_fn overflower, size_t frame)
{
    int pipefd[2];
    ck_assert_int_eq(pipe(pipefd), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        dup2(pipefd[1], STDERR_FILENO);
        long a = swco_coroutine_create_ex(overflower, (void *)frame, NULL, BIG_STACK);
        long b = swco_coroutine_create_ex(canary_keeper, NULL, NULL, BIG_STACK);
        if (a <= 0 || b <= 0)
            _exit(4);
        swco_coroutine_resume(a); /* the big frame */
        swco_coroutine_resume(b); /* checks its canary */
        _exit(canary_ok == 1 ? 2 : 3);
    }
    char buf[4096];
    int status = child_output(pid, pipefd, buf, sizeof buf);
    ck_assert_msg(!WIFEXITED(status) || WEXITSTATUS(status) != 3,
                  "a %zu-byte frame silently overwrote the neighbouring coroutine's stack", frame);
    ck_assert_msg(!WIFEXITED(status) || WEXITSTATUS(status) != 2,
                  "a %zu-byte frame went past the guard without a fault", frame);
    ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV, "child status %#x", status);
    ck_assert_msg(strstr(buf, "overflowed its stack of 1048576 bytes") != NULL, "stderr: %s", buf);
}

/* Built with -fstack-clash-protection (as the tests are when the compiler
 * has it), an alloca larger than the guard is probed page by page and
 * stops at the guard. */
START_TEST(large_alloca_stops_at_the_guard)
{
    ck_assert_int_ge(swco_coroutine_get_guard_size(), 64 * 1024);
    overflow_next_to_neighbour(big_alloca, 128 * 1024);
}
END_TEST

/* Without probes, a 32 KiB frame on a full stack still lands in the 64 KiB
 * default guard. */
START_TEST(unprobed_frame_lands_in_the_guard)
{
#ifdef HAVE_NO_STACK_CLASH
    overflow_next_to_neighbour(big_array, 32 * 1024);
#endif
}
END_TEST

static long rss_pages(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, rss = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &size, &rss) != 2)
            rss = 0;
        fclose(f);
    }
    return rss;
}

/* The guard is configurable, and a wide one is address space only: idle
 * coroutines cost the same memory with a 1 MiB guard. */
START_TEST(guard_size_option)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    ck_assert_uint_eq(swco_coroutine_get_guard_size(), 64 * 1024);
    ck_assert_int_eq(swco_coroutine_set_guard_size(0), -EINVAL);
    ck_assert_int_eq(swco_last_error(), -EINVAL);
    ck_assert_int_eq(swco_coroutine_set_guard_size(page - 1), -EINVAL);
    ck_assert_int_eq(swco_coroutine_set_guard_size(((size_t)1 << 30) + 1), -EINVAL);
    ck_assert_int_eq(swco_coroutine_set_guard_size(page + 1), 0);
    ck_assert_uint_eq(swco_coroutine_get_guard_size(), 2 * page); /* whole pages */
    ck_assert_int_eq(swco_coroutine_set_guard_size(1 << 20), 0);
    ck_assert_uint_eq(swco_coroutine_get_guard_size(), 1 << 20);

    /* Idle coroutines with a one-page guard, then with a 1 MiB one: the
     * same memory (a sanitizer's shadow of each stack included). */
    enum { N = 2000 };
    static long ids[N];
    long grown[2];
    for (int round = 0; round < 2; round++) {
        ck_assert_int_eq(swco_coroutine_set_guard_size(round == 0 ? page : 1 << 20), 0);
        ck_assert_int_gt(swco_coroutine_create(noop, NULL), 0); /* drops stacks pooled before */
        long before = rss_pages();
        for (int i = 0; i < N; i++)
            ck_assert_int_gt(ids[i] = swco_coroutine_create(yield_forever, NULL), 0);
        grown[round] = rss_pages() - before;
        swco_coroutine_stats_t st = {.size = sizeof st};
        ck_assert_int_eq(swco_coroutine_stats(&st), 0);
        ck_assert_uint_ge(st.stack_bytes, (size_t)N * (st.stack_size + (round ? 1 << 20 : page)));
        for (int i = 0; i < N; i++)
            ck_assert_int_eq(swco_coroutine_resume(ids[i]), 0);
    }
    /* Under qemu-user the resident set is the emulator's, which backs
     * guest mappings its own way: the native run makes this comparison. */
    if (getenv("SWCO_TEST_EMULATED"))
        printf("guard_size_option: memory not compared under emulation (%ld and %ld pages)\n",
               grown[1], grown[0]);
    else
        ck_assert_msg(grown[1] < grown[0] + N / 4,
                      "%ld pages for %d idle coroutines, %ld with a one-page guard", grown[1], N,
                      grown[0]);
    ck_assert_int_eq(swco_coroutine_set_guard_size(64 * 1024), 0);
}
END_TEST

/* ------------------------------------------- max_coroutine across threads
 *
 * A thread that once ran many coroutines and now idles in its loop holds
 * none of the limit: another thread can have every one of them, and the
 * limit still holds exactly for both together. */
enum { XMAX = 1000, XIDLE = 200 };
static int idle_pipe[2], go_pipe[2]; /* "now idle", "you may end" */

static void idle_thread_main(void *arg)
{
    static long ids[XIDLE];
    for (int i = 0; i < XIDLE; i++)
        ck_assert_int_gt(ids[i] = swco_coroutine_create(yield_forever, NULL), 0);
    for (int i = 0; i < XIDLE; i++)
        ck_assert_int_eq(swco_coroutine_resume(ids[i]), 0);
    char c = 'r';
    ck_assert_int_eq(write(idle_pipe[1], &c, 1), 1); /* now idle */
    /* Idle in the loop until the other thread is done. */
    ck_assert_int_eq(swco_event_wait_fd(go_pipe[0], SWCO_EVENT_READ, -1), SWCO_EVENT_READ);
}

static void *idle_thread(void *arg)
{
    *(int *)arg = swco_run(idle_thread_main, NULL);
    return NULL;
}

/* Two threads race to the limit: together they get exactly XMAX. */
static pthread_barrier_t race_start, race_end;
static long race_made[2];

static void limit_taker_main(void *arg)
{
    int k = (int)(long)arg;
    static long got[2][XMAX];
    long made = 0;
    pthread_barrier_wait(&race_start);
    for (;;) {
        long cid = swco_coroutine_create(yield_forever, NULL);
        if (cid < 0) {
            ck_assert_int_eq(cid, SWCO_ECOLIMIT);
            break;
        }
        ck_assert_int_lt(made, XMAX);
        got[k][made++] = cid;
    }
    race_made[k] = made;
    pthread_barrier_wait(&race_end); /* both refused, nothing ended yet */
    for (long i = 0; i < made; i++)
        ck_assert_int_eq(swco_coroutine_resume(got[k][i]), 0);
}

static void *limit_taker(void *arg)
{
    ck_assert_int_eq(swco_run(limit_taker_main, arg), 0);
    return NULL;
}

START_TEST(max_coroutine_is_exact_across_threads)
{
    ck_assert_int_eq(swco_coroutine_set_max(XMAX), 0);
    ck_assert_int_eq(pipe(idle_pipe), 0);
    ck_assert_int_eq(pipe(go_pipe), 0);
    pthread_t th;
    int rc = -1;
    ck_assert_int_eq(pthread_create(&th, NULL, idle_thread, &rc), 0);
    char c;
    ck_assert_int_eq(read(idle_pipe[0], &c, 1), 1);
    /* The other thread has one coroutine, waiting: the rest are ours. */
    static long ids[XMAX - 1];
    for (int i = 0; i < XMAX - 1; i++) {
        long cid = swco_coroutine_create(yield_forever, NULL);
        ck_assert_msg(cid > 0, "create %d of %d refused (%ld) while the process had only %d",
                      i + 1, XMAX - 1, cid, i + 1);
        ids[i] = cid;
    }
    ck_assert_int_eq(swco_coroutine_create(yield_forever, NULL), SWCO_ECOLIMIT);
    ck_assert_int_eq(write(go_pipe[1], "x", 1), 1);
    ck_assert_int_eq(pthread_join(th, NULL), 0);
    ck_assert_int_eq(rc, 0);
    for (int i = 0; i < XMAX - 1; i++)
        ck_assert_int_eq(swco_coroutine_resume(ids[i]), 0);
    for (int i = 0; i < 2; i++) {
        close(idle_pipe[i]);
        close(go_pipe[i]);
    }

    pthread_t t[2];
    pthread_barrier_init(&race_start, NULL, 2);
    pthread_barrier_init(&race_end, NULL, 2);
    for (long k = 0; k < 2; k++)
        ck_assert_int_eq(pthread_create(&t[k], NULL, limit_taker, (void *)k), 0);
    for (int k = 0; k < 2; k++)
        ck_assert_int_eq(pthread_join(t[k], NULL), 0);
    ck_assert_int_eq(race_made[0] + race_made[1], XMAX - 2); /* and the two loops' own */
    pthread_barrier_destroy(&race_start);
    pthread_barrier_destroy(&race_end);
    swco_coroutine_set_max(100000);
}
END_TEST
#if defined(__aarch64__)
/* AAPCS64's callee-saved registers (x19-x28 and d8-d15; x29, x30 and sp
 * are the switch's own frame) keep each coroutine's values across a switch
 * away and back, while the other side holds other values in them.  They
 * are set and read in assembly around the call that switches, so no
 * choice of the compiler can hide a lost register. */
#define REGS_LOAD(v)                                                                    \
    "mov x19, #" v "+19\n\tmov x20, #" v "+20\n\tmov x21, #" v "+21\n\t"                 \
    "mov x22, #" v "+22\n\tmov x23, #" v "+23\n\tmov x24, #" v "+24\n\t"                 \
    "mov x25, #" v "+25\n\tmov x26, #" v "+26\n\tmov x27, #" v "+27\n\t"                 \
    "mov x28, #" v "+28\n\t"                                                             \
    "mov x9, #" v "+8\n\tfmov d8, x9\n\tmov x9, #" v "+9\n\tfmov d9, x9\n\t"              \
    "mov x9, #" v "+10\n\tfmov d10, x9\n\tmov x9, #" v "+11\n\tfmov d11, x9\n\t"          \
    "mov x9, #" v "+12\n\tfmov d12, x9\n\tmov x9, #" v "+13\n\tfmov d13, x9\n\t"          \
    "mov x9, #" v "+14\n\tfmov d14, x9\n\tmov x9, #" v "+15\n\tfmov d15, x9\n\t"
#define REGS_STORE /* to the 18 words at x9 */                                          \
    "stp x19, x20, [x9]\n\tstp x21, x22, [x9, #16]\n\tstp x23, x24, [x9, #32]\n\t"       \
    "stp x25, x26, [x9, #48]\n\tstp x27, x28, [x9, #64]\n\t"                             \
    "stp d8, d9, [x9, #80]\n\tstp d10, d11, [x9, #96]\n\tstp d12, d13, [x9, #112]\n\t"   \
    "stp d14, d15, [x9, #128]\n\t"
#define REGS_CLOBBERS                                                                   \
    "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13", "x14",  \
    "x15", "x16", "x17", "x18", "x19", "x20", "x21", "x22", "x23", "x24", "x25", "x26", \
    "x27", "x28", "x30", "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9",    \
    "v10", "v11", "v12", "v13", "v14", "v15", "v16", "v17", "v18", "v19", "v20", "v21", \
    "v22", "v23", "v24", "v25", "v26", "v27", "v28", "v29", "v30", "v31", "memory", "cc"

static unsigned long regs_main_got[18], regs_child_got[18];

static void regs_check(const unsigned long *got, unsigned long base, const char *who)
{
    for (int i = 0; i < 10; i++) /* x19..x28 */
        ck_assert_msg(got[i] == base + 19 + (unsigned long)i, "%s: x%d = %#lx", who, 19 + i, got[i]);
    for (int i = 0; i < 8; i++) { /* d8..d15, as bits */
        unsigned long want = base + 8 + (unsigned long)i;
        ck_assert_msg(got[10 + i] == want, "%s: d%d = %#lx", who, 8 + i, got[10 + i]);
    }
}

static void regs_child(void *arg)
{
    register unsigned long x0 __asm__("x0") = 0;
    register unsigned long *x1 __asm__("x1") = regs_child_got;
    __asm__ volatile("str x1, [sp, #-16]!\n\t" REGS_LOAD("0x7700")
                     "bl swco_coroutine_yield\n\t"
                     "ldr x9, [sp], #16\n\t" REGS_STORE
                     : "+r"(x0), "+r"(x1)
                     :
                     : REGS_CLOBBERS);
}

static void regs_main(void *arg)
{
    long cid = swco_coroutine_create(regs_child, NULL);
    ck_assert_int_gt(cid, 0);
    register long x0 __asm__("x0") = cid; /* no call from here to the asm */
    register unsigned long *x1 __asm__("x1") = regs_main_got;
    __asm__ volatile("str x1, [sp, #-16]!\n\t" REGS_LOAD("0x1100")
                     "bl swco_coroutine_resume\n\t" /* the child runs to its end */
                     "ldr x9, [sp], #16\n\t" REGS_STORE
                     : "+r"(x0), "+r"(x1)
                     :
                     : REGS_CLOBBERS);
}

START_TEST(callee_saved_registers_survive_switches)
{
    ck_assert_int_eq(swco_run(regs_main, NULL), 0);
    regs_check(regs_main_got, 0x1100, "resumer");
    regs_check(regs_child_got, 0x7700, "coroutine");
}
END_TEST
#endif

/* ---- issue 11: ids without -1, arg_free, struct size */

static long seen_parent_of_self, seen_parent_of_unknown;
static void parent_probe(void *arg)
{
    (void)arg;
    seen_parent_of_self = swco_coroutine_parent_id(0);
    seen_parent_of_unknown = swco_coroutine_parent_id(swco_coroutine_id() + 1000);
}

START_TEST(ids_are_never_negative_values)
{
    /* Outside a coroutine "none" is 0, not an error code. */
    ck_assert_int_eq(swco_coroutine_id(), 0);
    ck_assert_int_eq(swco_coroutine_parent_id(0), 0);
    ck_assert_int_eq(swco_coroutine_parent_id(12345), SWCO_ENOCO);
    ck_assert_int_eq(swco_coroutine_parent_id(-3), SWCO_ENOCO);
    ck_assert_int_eq(swco_run(parent_probe, NULL), 0);
    ck_assert_int_eq(seen_parent_of_self, 0); /* created outside a coroutine */
    ck_assert_int_eq(seen_parent_of_unknown, SWCO_ENOCO);
}
END_TEST

/* Each arg_free call appends its arg's tag, so a test sees which args were
 * released, in what order and how often. */
static char freed_log[64];
static void tag_free(void *arg) { strcat(freed_log, (const char *)arg); }
static void defer_body(void *arg) { strcat(freed_log, "run:"); strcat(freed_log, arg); strcat(freed_log, ";"); }

static void defers_with_free(void *arg)
{
    (void)arg;
    ck_assert_int_eq(swco_defer(defer_body, "a", tag_free), 0);
    ck_assert_int_eq(swco_defer(defer_body, "b", tag_free), 0);
    ck_assert_int_eq(swco_defer(NULL, "x", tag_free), -EINVAL); /* failed: not freed */
    ck_assert_str_eq(freed_log, "");
}

START_TEST(defer_frees_its_arg_after_running)
{
    freed_log[0] = 0;
    ck_assert_int_eq(swco_defer(defer_body, "o", tag_free), SWCO_ENOTCO);
    ck_assert_int_eq(swco_run(defers_with_free, NULL), 0);
    /* LIFO, each freed right after its own call, once. */
    ck_assert_str_eq(freed_log, "run:b;brun:a;a");
}
END_TEST

static void hook_a(int event, long cid, void **slot, void *arg) { (void)event, (void)cid, (void)slot, (void)arg; }

START_TEST(replaced_hook_frees_its_arg)
{
    freed_log[0] = 0;
    ck_assert_int_eq(swco_coroutine_set_hook(hook_a, "1", tag_free), 0);
    ck_assert_str_eq(freed_log, "");
    ck_assert_int_eq(swco_coroutine_set_hook(hook_a, "2", tag_free), 0);
    ck_assert_str_eq(freed_log, "1");
    /* A failing call takes nothing and keeps the installed hook. */
    swco_coroutine_create(hooked, NULL);
    ck_assert_int_eq(swco_coroutine_set_hook(hook_a, "3", tag_free), SWCO_ECOSTATE);
    ck_assert_int_eq(swco_event_wait(), 0);
    ck_assert_str_eq(freed_log, "1");
    ck_assert_int_eq(swco_coroutine_set_hook(NULL, NULL, NULL), 0);
    ck_assert_str_eq(freed_log, "12");
}
END_TEST

START_TEST(stats_respects_the_callers_size)
{
    union {
        swco_coroutine_stats_t st;
        unsigned char bytes[sizeof(swco_coroutine_stats_t) + 32];
    } buf;
    memset(&buf, 0xAA, sizeof buf);
    buf.st.size = sizeof buf.st - 1; /* older than the first version */
    ck_assert_int_eq(swco_coroutine_stats(&buf.st), -EINVAL);
    for (size_t i = sizeof(size_t); i < sizeof buf; i++)
        ck_assert_uint_eq(buf.bytes[i], 0xAA);
    buf.st.size = sizeof buf.st;
    ck_assert_int_eq(swco_coroutine_stats(&buf.st), 0);
    ck_assert_uint_eq(buf.st.size, sizeof buf.st);
    ck_assert_int_eq(buf.st.max, swco_coroutine_get_max());
    ck_assert_uint_eq(buf.st.stack_size, swco_coroutine_get_stack_size());
    for (size_t i = sizeof buf.st; i < sizeof buf; i++)
        ck_assert_uint_eq(buf.bytes[i], 0xAA); /* nothing past size */
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
    tcase_add_test(tc, large_alloca_stops_at_the_guard);
    tcase_add_test(tc, unprobed_frame_lands_in_the_guard);
    tcase_add_test(tc, guard_size_option);
    tcase_add_test(tc, max_coroutine_is_exact_across_threads);
#if defined(__aarch64__)
    tcase_add_test(tc, callee_saved_registers_survive_switches);
#endif
    tcase_add_test(tc, ids_are_never_negative_values);
    tcase_add_test(tc, defer_frees_its_arg_after_running);
    tcase_add_test(tc, replaced_hook_frees_its_arg);
    tcase_add_test(tc, stats_respects_the_callers_size);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
