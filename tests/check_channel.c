/* Channels: buffered and unbuffered transfer, order, timeouts, close, stats,
 * ownership of buffered values, bad arguments. */
#include "testutil.h"

#include <time.h>
#include <errno.h>
#include <pthread.h>

/* Keep the thread busy (off the loop) for at least seconds: nanosleep
 * never returns early, so a shorter timeout is past due afterwards on any
 * machine, however loaded.  Nothing is measured. */
static void block_thread(double seconds)
{
    struct timespec ts = {(time_t)seconds, (long)((seconds - (time_t)seconds) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static swco_channel_t *ch;

static void producer(void *arg)
{
    long n = (long)arg;
    for (long i = 1; i <= n; i++)
        ck_assert_int_eq(swco_channel_push(ch, (void *)i, -1), 0);
    out("producer done;");
}

static void consume_all(void *arg)
{
    long n = (long)arg, sum = 0;
    for (long i = 1; i <= n; i++) {
        void *v = NULL;
        ck_assert_int_eq(swco_channel_pop(ch, &v, -1), 0);
        ck_assert_int_eq((long)v, i); /* FIFO */
        sum += (long)v;
    }
    out("sum %ld;", sum);
}

START_TEST(buffered_fifo)
{
    out_reset();
    ch = swco_channel_new(3);
    ck_assert_int_eq(swco_channel_capacity(ch), 3);
    swco_coroutine_create(producer, (void *)10L);
    /* The producer filled the buffer and waits for room. */
    ck_assert_int_eq(swco_channel_length(ch), 3);
    ck_assert_int_eq(swco_channel_producers(ch), 1);
    swco_coroutine_create(consume_all, (void *)10L);
    ck_assert_int_eq(swco_event_wait(), 0);
    ck_assert_str_eq(out_buf, "producer done;sum 55;");
    ck_assert_int_eq(swco_channel_length(ch), 0);
    swco_channel_free(ch);
}
END_TEST

static void rendezvous_push(void *arg)
{
    out("push start;");
    ck_assert_int_eq(swco_channel_push(ch, arg, -1), 0);
    out("push returned;");
}

static void rendezvous_pop(void *arg)
{
    void *v;
    out("pop start;");
    ck_assert_int_eq(swco_channel_pop(ch, &v, -1), 0);
    out("popped %s;", (char *)v);
}

START_TEST(unbuffered_rendezvous)
{
    out_reset();
    ch = swco_channel_new(0);
    long pusher = swco_coroutine_create(rendezvous_push, "hello");
    /* Nothing buffered: the pusher waits for a popper. */
    ck_assert_int_eq(swco_channel_length(ch), 0);
    ck_assert_int_eq(swco_channel_producers(ch), 1);
    swco_coroutine_create(rendezvous_pop, NULL);
    /* Go's order: the pop that arrived second completes and goes on; the
     * pusher runs once the popper is done, at the loop's next turn. */
    ck_assert_str_eq(out_buf, "push start;pop start;popped hello;");
    ck_assert_str_eq(swco_coroutine_wait_reason(pusher), "runnable");
    ck_assert_int_eq(swco_event_wait(), 0);
    ck_assert_str_eq(out_buf, "push start;pop start;popped hello;push returned;");
    swco_channel_free(ch);
}
END_TEST

static void rendezvous_push_then_wait(void *arg)
{
    out("push start;");
    ck_assert_int_eq(swco_channel_push(ch, arg, -1), 0);
    out("push returned;");
    swco_sleep(0.001); /* the popper runs here, before this sleep ends */
    out("pusher slept;");
}

START_TEST(unbuffered_popper_first)
{
    out_reset();
    ch = swco_channel_new(0);
    swco_coroutine_create(rendezvous_pop, NULL);
    ck_assert_int_eq(swco_channel_consumers(ch), 1);
    swco_coroutine_create(rendezvous_push_then_wait, "hi");
    /* The pusher's wait handed control to the popper, which ended; the
     * create returned when that chain reached a wait of its own. */
    ck_assert_str_eq(out_buf, "pop start;push start;push returned;popped hi;");
    ck_assert_int_eq(swco_event_wait(), 0);
    ck_assert_str_eq(out_buf, "pop start;push start;push returned;popped hi;pusher slept;");
    ck_assert_int_eq(swco_coroutine_count(), 0);
    swco_channel_free(ch);
}
END_TEST

static void push_outside(void *arg)
{
    void *v;
    ck_assert_int_eq(swco_channel_pop(ch, &v, -1), 0);
    out("popped %s;", (char *)v);
}

START_TEST(unbuffered_push_outside_a_coroutine)
{
    /* The thread's own context cannot wait, so the popper runs at once. */
    out_reset();
    ch = swco_channel_new(0);
    swco_coroutine_create(push_outside, NULL);
    ck_assert_int_eq(swco_channel_push(ch, "now", -1), 0);
    ck_assert_str_eq(out_buf, "popped now;");
    ck_assert_int_eq(swco_channel_push(ch, "nobody", -1), SWCO_ENOTCO);
    ck_assert_int_eq(swco_event_wait(), 0);
    swco_channel_free(ch);
}
END_TEST

static int handed_rc;
static void pop_with_timeout(void *arg)
{
    void *v = NULL;
    handed_rc = swco_channel_pop(ch, &v, 0.02);
    out("pop %d %s;", handed_rc, v ? (char *)v : "-");
}

static void push_then_spin(void *arg)
{
    ck_assert_int_eq(swco_channel_push(ch, "late", -1), 0);
    /* The popper now waits in the run queue, past its 20 ms timeout. */
    block_thread(0.05);
    out("pusher ends;");
}

START_TEST(unbuffered_handoff_stops_the_timeout)
{
    out_reset();
    handed_rc = 1;
    ch = swco_channel_new(0);
    swco_coroutine_create(pop_with_timeout, NULL);
    swco_coroutine_create(push_then_spin, NULL);
    ck_assert_int_eq(swco_event_wait(), 0);
    ck_assert_int_eq(handed_rc, 0); /* the value, not -ETIMEDOUT */
    ck_assert_str_eq(out_buf, "pusher ends;pop 0 late;");
    ck_assert_int_eq(swco_channel_consumers(ch), 0);
    swco_channel_free(ch);
}
END_TEST

static long popper_cid;
static void push_then_cancel(void *arg)
{
    ck_assert_int_eq(swco_channel_push(ch, "kept", -1), 0);
    ck_assert_int_eq(swco_coroutine_cancel(popper_cid), 0);
}

static void pop_twice(void *arg)
{
    void *v = NULL;
    ck_assert_int_eq(swco_channel_pop(ch, &v, -1), 0); /* it had the value */
    out("got %s;", (char *)v);
    ck_assert_int_eq(swco_channel_pop(ch, &v, -1), -ECANCELED);
    out("then cancelled;");
}

START_TEST(unbuffered_cancel_after_handoff)
{
    out_reset();
    ch = swco_channel_new(0);
    popper_cid = swco_coroutine_create(pop_twice, NULL);
    swco_coroutine_create(push_then_cancel, NULL);
    ck_assert_int_eq(swco_event_wait(), 0);
    ck_assert_str_eq(out_buf, "got kept;then cancelled;");
    ck_assert_int_eq(swco_coroutine_count(), 0);
    swco_channel_free(ch);
}
END_TEST

static void push_then_yield(void *arg)
{
    ck_assert_int_eq(swco_channel_push(ch, "x", -1), 0);
    ck_assert_int_eq(swco_coroutine_yield(), 0); /* the popper runs first */
    out("pusher resumed;");
}

START_TEST(unbuffered_handoff_on_yield)
{
    out_reset();
    ch = swco_channel_new(0);
    swco_coroutine_create(push_outside, NULL); /* pops and prints */
    long pusher = swco_coroutine_create(push_then_yield, NULL);
    /* The yield went to the popper, which ended back here. */
    ck_assert_str_eq(out_buf, "popped x;");
    ck_assert_int_eq(swco_coroutine_count(), 1);
    ck_assert_str_eq(swco_coroutine_wait_reason(pusher), "yield");
    ck_assert_int_eq(swco_coroutine_resume(pusher), 0);
    ck_assert_str_eq(out_buf, "popped x;pusher resumed;");
    ck_assert_int_eq(swco_coroutine_count(), 0);
    swco_channel_free(ch);
}
END_TEST

/* Three coroutines in a ring of unbuffered channels: each hands over by
 * waiting, and the last ones to end were entered through the run queue, so
 * they are freed by a resume that did not start them. */
static swco_channel_t *ring[3];
static void ring_member(void *arg)
{
    long me = (long)arg;
    for (int i = 0; i < 100; i++) {
        void *v;
        if (me == 0 && i == 0)
            ck_assert_int_eq(swco_channel_push(ring[1], (void *)1L, -1), 0);
        ck_assert_int_eq(swco_channel_pop(ring[me], &v, -1), 0);
        if (me == 0 && i == 99)
            break;
        ck_assert_int_eq(swco_channel_push(ring[(me + 1) % 3], (void *)((long)v + 1), -1), 0);
    }
    out("%ld;", me);
}

START_TEST(unbuffered_ring)
{
    out_reset();
    for (int i = 0; i < 3; i++)
        ring[i] = swco_channel_new(0);
    swco_coroutine_create(ring_member, (void *)1L);
    swco_coroutine_create(ring_member, (void *)2L);
    swco_coroutine_create(ring_member, (void *)0L);
    ck_assert_int_eq(swco_event_wait(), 0);
    ck_assert_int_eq(swco_coroutine_count(), 0);
    /* Member 0 pushed first, so 1 gets its hundredth value first and ends
     * (back to this context, inside the create of member 0, where member 0
     * started the chain), then 2 and 0 from the loop's run queue. */
    ck_assert_str_eq(out_buf, "1;2;0;");
    for (int i = 0; i < 3; i++)
        swco_channel_free(ring[i]);
}
END_TEST

static void timeouts(void *arg)
{
    void *v;
    double t0 = now_s();
    ck_assert_int_eq(swco_channel_pop(ch, &v, 0.05), -ETIMEDOUT);
    ck_assert_double_ge(now_s() - t0, 0.045);
    ck_assert_int_eq(swco_last_error(), -ETIMEDOUT);
    ck_assert_int_eq(swco_channel_consumers(ch), 0); /* the waiter left the queue */
    ck_assert_int_eq(swco_channel_push(ch, "a", 0.05), 0);
    t0 = now_s();
    ck_assert_int_eq(swco_channel_push(ch, "b", 0.05), -ETIMEDOUT); /* full */
    ck_assert_double_ge(now_s() - t0, 0.045);
    ck_assert_int_eq(swco_channel_producers(ch), 0);
    /* The channel still works after a timeout. */
    ck_assert_int_eq(swco_channel_pop(ch, &v, 0.05), 0);
    ck_assert_str_eq(v, "a");
}

START_TEST(timeouts_leave_channel_usable)
{
    ch = swco_channel_new(1);
    ck_assert_int_eq(swco_run(timeouts, NULL), 0);
    swco_channel_free(ch);
}
END_TEST

static int rc_pushers[3], rc_poppers[3];

static void blocked_pusher(void *arg) { *(int *)arg = swco_channel_push(ch, "x", -1); }
static void blocked_popper(void *arg)
{
    void *v = (void *)1;
    *(int *)arg = swco_channel_pop(ch, &v, -1);
    ck_assert_ptr_eq(v, (void *)1); /* untouched on failure */
}

START_TEST(close_wakes_poppers)
{
    ch = swco_channel_new(2);
    for (int i = 0; i < 3; i++)
        swco_coroutine_create(blocked_popper, &rc_poppers[i]);
    ck_assert_int_eq(swco_channel_consumers(ch), 3);
    ck_assert_int_eq(swco_channel_close(ch), 0);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(rc_poppers[i], SWCO_ECLOSED);
    ck_assert_int_eq(swco_channel_consumers(ch), 0);
    ck_assert_int_eq(swco_channel_is_closed(ch), 1);
    ck_assert_int_eq(swco_channel_close(ch), SWCO_ECLOSED);
    ck_assert_int_eq(swco_event_wait(), 0);
    swco_channel_free(ch);
}
END_TEST

static void drain_after_close(void *arg)
{
    void *v;
    ck_assert_int_eq(swco_channel_pop(ch, &v, -1), 0);
    ck_assert_str_eq(v, "x");
    ck_assert_int_eq(swco_channel_pop(ch, &v, -1), 0);
    ck_assert_int_eq(swco_channel_pop(ch, &v, -1), SWCO_ECLOSED);
    ck_assert_int_eq(swco_channel_push(ch, "late", -1), SWCO_ECLOSED);
}

START_TEST(close_wakes_pushers)
{
    ch = swco_channel_new(2);
    for (int i = 0; i < 3; i++)
        swco_coroutine_create(blocked_pusher, &rc_pushers[i]);
    /* Two fit in the buffer, the third waits. */
    ck_assert_int_eq(rc_pushers[0], 0);
    ck_assert_int_eq(rc_pushers[1], 0);
    ck_assert_int_eq(swco_channel_producers(ch), 1);
    ck_assert_int_eq(swco_channel_close(ch), 0);
    ck_assert_int_eq(rc_pushers[2], SWCO_ECLOSED);
    ck_assert_int_eq(swco_channel_producers(ch), 0);
    /* Buffered values survive the close. */
    ck_assert_int_eq(swco_run(drain_after_close, NULL), 0);
    swco_channel_free(ch);
}
END_TEST

/* A popper that frees the channel once it is closed: close must not touch
 * the channel after waking it (run under valgrind/ASan to see). */
static void pop_then_free(void *arg)
{
    swco_channel_t *c = arg;
    void *v;
    ck_assert_int_eq(swco_channel_pop(c, &v, -1), SWCO_ECLOSED);
    swco_channel_free(c);
    out("freed;");
}

START_TEST(woken_popper_may_free_the_channel)
{
    out_reset();
    swco_channel_t *c = swco_channel_new(1);
    swco_coroutine_create(pop_then_free, c);
    ck_assert_int_eq(swco_channel_close(c), 0);
    out("close returned;");
    ck_assert_int_eq(swco_event_wait(), 0);
    ck_assert_str_eq(out_buf, "freed;close returned;");
}
END_TEST

static int item_frees;
static void item_free(void *v) { item_frees += (int)(long)v; }

START_TEST(free_releases_buffered_values)
{
    item_frees = 0;
    swco_channel_t *c = swco_channel_new_ex(4, item_free);
    ck_assert_int_eq(swco_channel_push(c, (void *)1L, -1), 0); /* no wait: fine outside */
    ck_assert_int_eq(swco_channel_push(c, (void *)2L, -1), 0);
    swco_channel_free(c);
    ck_assert_int_eq(item_frees, 3);
    swco_channel_free(NULL);
}
END_TEST

START_TEST(waiting_outside_a_coroutine)
{
    swco_channel_t *c = swco_channel_new(1);
    void *v;
    ck_assert_int_eq(swco_channel_pop(c, &v, 1), SWCO_ENOTCO);
    ck_assert_int_eq(swco_channel_push(c, NULL, 1), 0);
    ck_assert_int_eq(swco_channel_push(c, NULL, 1), SWCO_ENOTCO);
    ck_assert_int_eq(swco_channel_pop(c, &v, 1), 0);
    ck_assert_ptr_null(v);
    swco_channel_free(c);
}
END_TEST

START_TEST(bad_arguments)
{
    ck_assert_ptr_null(swco_channel_new(-1));
    ck_assert_int_eq(swco_last_error(), -EINVAL);
    void *v;
    ck_assert_int_eq(swco_channel_push(NULL, NULL, 1), -EINVAL);
    ck_assert_int_eq(swco_channel_pop(NULL, &v, 1), -EINVAL);
    swco_channel_t *c = swco_channel_new(1);
    ck_assert_int_eq(swco_channel_pop(c, NULL, 1), -EINVAL);
    swco_channel_free(c);
    ck_assert_int_eq(swco_channel_close(NULL), -EINVAL);
    ck_assert_int_eq(swco_channel_is_closed(NULL), -EINVAL);
    ck_assert_int_eq(swco_channel_length(NULL), -EINVAL);
    ck_assert_int_eq(swco_channel_capacity(NULL), -EINVAL);
    ck_assert_int_eq(swco_channel_producers(NULL), -EINVAL);
    ck_assert_int_eq(swco_channel_consumers(NULL), -EINVAL);
}
END_TEST

/* Ping-pong between two coroutines over two unbuffered channels. */
static swco_channel_t *ping, *pong;
static void ponger(void *arg)
{
    void *v;
    while (swco_channel_pop(ping, &v, -1) == 0)
        swco_channel_push(pong, (void *)((long)v + 1), -1);
}

static void pinger(void *arg)
{
    swco_coroutine_create(ponger, NULL);
    long v = 0;
    for (int i = 0; i < 10000; i++) {
        swco_channel_push(ping, (void *)v, -1);
        void *r;
        swco_channel_pop(pong, &r, -1);
        v = (long)r;
    }
    *(long *)arg = v;
    swco_channel_close(ping);
}

START_TEST(ping_pong)
{
    ping = swco_channel_new(0);
    pong = swco_channel_new(0);
    long v = 0;
    ck_assert_int_eq(swco_run(pinger, &v), 0);
    ck_assert_int_eq(v, 10000);
    swco_channel_free(ping);
    swco_channel_free(pong);
}
END_TEST

/* ------------------------------------------------------- other threads
 *
 * A channel belongs to the thread that made it.  Another thread, with or
 * without a loop of its own, gets -EPERM from push, pop and close, and the
 * owner's waiting coroutines are untouched: they still get the owner's
 * values.  Before, a push from a plain thread dereferenced NULL, and one
 * from a thread running swco_run() resumed the owner's coroutine there. */
static swco_channel_t *xu, *xb; /* unbuffered and buffered, each with a waiting popper */
static long xgot[2];

static void x_popper(void *arg)
{
    swco_channel_t *c = arg == NULL ? xu : xb;
    void *v = NULL;
    ck_assert_int_eq(swco_channel_pop(c, &v, -1), 0);
    xgot[arg == NULL ? 0 : 1] = (long)v;
}

/* Every operation a foreign thread may try; counts the -EPERM answers. */
static int foreign_ops(void)
{
    int n = 0;
    void *v = (void *)99;
    n += swco_channel_push(xu, (void *)7, 0) == -EPERM;
    n += swco_last_error() == -EPERM;
    n += swco_channel_push(xb, (void *)7, 0) == -EPERM;
    n += swco_channel_push(xb, (void *)7, 0.01) == -EPERM;
    n += swco_channel_pop(xu, &v, 0) == -EPERM;
    n += swco_channel_pop(xb, &v, 0.01) == -EPERM;
    n += v == (void *)99;
    n += swco_channel_close(xu) == -EPERM;
    n += swco_channel_close(xb) == -EPERM;
    /* A coroutine waits on it: freeing from here is refused. */
    swco_channel_free(xb);
    n += swco_last_error() == -EPERM;
    /* Read-only calls are fine from anywhere. */
    n += swco_channel_consumers(xu) == 1 && swco_channel_consumers(xb) == 1;
    n += swco_channel_is_closed(xu) == 0 && swco_channel_length(xb) == 0;
    return n;
}
#define FOREIGN_OPS 12

static void *plain_thread(void *arg)
{
    *(int *)arg = foreign_ops();
    return NULL;
}

static void loop_thread_main(void *arg) { *(int *)arg = foreign_ops(); }

static void *loop_thread(void *arg)
{
    int *res = arg;
    res[1] = swco_run(loop_thread_main, res);
    return NULL;
}

static swco_channel_t *xidle;

static void *free_idle_thread(void *arg)
{
    swco_channel_free(xidle); /* nobody waits on it: allowed */
    return NULL;
}

static void owner_main(void *arg)
{
    xu = swco_channel_new(0);
    xb = swco_channel_new(4);
    xidle = swco_channel_new_ex(4, free);
    ck_assert_int_eq(swco_channel_push(xidle, malloc(16), 0), 0);
    swco_coroutine_create(x_popper, NULL);
    swco_coroutine_create(x_popper, (void *)1);
    ck_assert_int_eq(swco_channel_consumers(xu), 1);
    ck_assert_int_eq(swco_channel_consumers(xb), 1);

    pthread_t t;
    int plain = 0, loop[2] = {0, -1};
    ck_assert_int_eq(pthread_create(&t, NULL, plain_thread, &plain), 0);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    ck_assert_int_eq(plain, FOREIGN_OPS);
    ck_assert_int_eq(pthread_create(&t, NULL, loop_thread, loop), 0);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    ck_assert_int_eq(loop[0], FOREIGN_OPS);
    ck_assert_int_eq(loop[1], 0);
    ck_assert_int_eq(pthread_create(&t, NULL, free_idle_thread, NULL), 0);
    ck_assert_int_eq(pthread_join(t, NULL), 0);

    /* Nothing changed: the poppers still wait and take the owner's values. */
    ck_assert_int_eq(xgot[0] + xgot[1], 0);
    ck_assert_int_eq(swco_channel_is_closed(xu), 0);
    ck_assert_int_eq(swco_channel_push(xu, (void *)1, -1), 0);
    ck_assert_int_eq(swco_channel_push(xb, (void *)2, -1), 0);
    ck_assert_int_eq(swco_sleep(0), 0); /* let the unbuffered popper run */
    ck_assert_int_eq(xgot[0], 1);
    ck_assert_int_eq(xgot[1], 2);
    swco_channel_free(xu);
    swco_channel_free(xb);
}

START_TEST(other_threads_get_eperm)
{
    ck_assert_int_eq(swco_run(owner_main, NULL), 0);
}
END_TEST

/* close() wakes its waiters one by one from a list it took off the channel:
 * a woken coroutine that cancels a later one must not touch the channel's
 * counts (the channel may be gone by then). */
static long close_victim;
static int close_rcs[3];
static void popper_cancels_victim(void *arg)
{
    void *v;
    close_rcs[0] = swco_channel_pop(ch, &v, -1);
    ck_assert_int_eq(swco_coroutine_cancel(close_victim), 0);
}

static void popper_rc(void *arg)
{
    void *v;
    *(int *)arg = swco_channel_pop(ch, &v, -1);
}

START_TEST(close_waiter_cancels_another)
{
    ch = swco_channel_new(0);
    swco_coroutine_create(popper_cancels_victim, NULL);
    swco_coroutine_create(popper_rc, &close_rcs[1]);
    close_victim = swco_coroutine_create(popper_rc, &close_rcs[2]);
    ck_assert_int_eq(swco_channel_consumers(ch), 3);
    ck_assert_int_eq(swco_channel_close(ch), 0);
    ck_assert_int_eq(close_rcs[0], SWCO_ECLOSED);
    ck_assert_int_eq(close_rcs[1], SWCO_ECLOSED);
    ck_assert_int_eq(close_rcs[2], -ECANCELED); /* cancelled before its turn */
    ck_assert_int_eq(swco_channel_consumers(ch), 0);
    ck_assert_int_eq(swco_coroutine_count(), 0);
    swco_channel_free(ch);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("channel");
    TCase *tc = tcase_create("channel");
    tcase_add_test(tc, buffered_fifo);
    tcase_add_test(tc, unbuffered_rendezvous);
    tcase_add_test(tc, unbuffered_popper_first);
    tcase_add_test(tc, unbuffered_push_outside_a_coroutine);
    tcase_add_test(tc, unbuffered_handoff_stops_the_timeout);
    tcase_add_test(tc, unbuffered_cancel_after_handoff);
    tcase_add_test(tc, unbuffered_handoff_on_yield);
    tcase_add_test(tc, unbuffered_ring);
    tcase_add_test(tc, timeouts_leave_channel_usable);
    tcase_add_test(tc, close_wakes_poppers);
    tcase_add_test(tc, close_wakes_pushers);
    tcase_add_test(tc, woken_popper_may_free_the_channel);
    tcase_add_test(tc, free_releases_buffered_values);
    tcase_add_test(tc, waiting_outside_a_coroutine);
    tcase_add_test(tc, bad_arguments);
    tcase_add_test(tc, ping_pong);
    tcase_add_test(tc, other_threads_get_eperm);
    tcase_add_test(tc, close_waiter_cancels_another);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
