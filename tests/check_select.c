/* Channel select: ready cases, waits woken by push/pop/close, timeouts,
 * the non-blocking try, fairness, unbuffered rendezvous, one channel in two
 * cases, cancel, other threads, freeing a channel under a waiting select,
 * and that a returned select leaves no case queued. */
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

static swco_channel_t *a, *b, *c;
static swco_select_t *sel;

/* What the selecting coroutine saw. */
static int sel_rc;
static void *sel_val;
static int sel_closed;

static void selector(void *arg)
{
    double timeout = arg ? *(double *)arg : -1;
    out("select;");
    sel_rc = swco_select_wait(sel, timeout);
    sel_val = swco_select_value(sel);
    sel_closed = swco_select_closed(sel);
    out("selected %d;", sel_rc);
}

static void reset_seen(void)
{
    out_reset();
    sel_rc = 12345;
    sel_val = (void *)1;
    sel_closed = -1;
}

/* No case of sel left on a queue of a, b or c. */
static void assert_nothing_queued(void)
{
    swco_channel_t *chans[] = {a, b, c};
    for (int i = 0; i < 3; i++) {
        if (!chans[i])
            continue;
        ck_assert_int_eq(swco_channel_consumers(chans[i]), 0);
        ck_assert_int_eq(swco_channel_producers(chans[i]), 0);
    }
}

static void free_all(void)
{
    swco_select_free(sel);
    swco_channel_free(a);
    swco_channel_free(b);
    swco_channel_free(c);
    sel = NULL;
    a = b = c = NULL;
}

START_TEST(ready_case_among_several)
{
    /* pop a, pop b, push c: only b has a value and c is full. */
    a = swco_channel_new(1);
    b = swco_channel_new(1);
    c = swco_channel_new(1);
    ck_assert_int_eq(swco_channel_push(b, "bee", 0), 0);
    ck_assert_int_eq(swco_channel_push(c, "full", 0), 0);
    sel = swco_select_new();
    ck_assert_ptr_nonnull(sel);
    ck_assert_int_eq(swco_select_add_pop(sel, a), 0);
    ck_assert_int_eq(swco_select_add_pop(sel, b), 1);
    ck_assert_int_eq(swco_select_add_push(sel, c, "sea"), 2);
    ck_assert_int_eq(swco_select_count(sel), 3);
    ck_assert_int_eq(swco_select_index(sel), -ENOENT);

    /* Outside any coroutine: a ready case needs no wait. */
    ck_assert_int_eq(swco_select_wait(sel, -1), 1);
    ck_assert_str_eq(swco_select_value(sel), "bee");
    ck_assert_int_eq(swco_select_closed(sel), 0);
    ck_assert_int_eq(swco_select_index(sel), 1);
    ck_assert_int_eq(swco_channel_length(b), 0);
    ck_assert_int_eq(swco_channel_length(c), 1); /* the push case did not run */

    /* Now only the push case can go: c gets room. */
    void *v;
    ck_assert_int_eq(swco_channel_pop(c, &v, 0), 0);
    ck_assert_int_eq(swco_select_try(sel), 2);
    ck_assert_ptr_null(swco_select_value(sel));
    ck_assert_int_eq(swco_channel_pop(c, &v, 0), 0);
    ck_assert_str_eq(v, "sea");

    /* Nothing ready, outside a coroutine: it cannot wait. */
    ck_assert_int_eq(swco_channel_push(c, "full", 0), 0);
    ck_assert_int_eq(swco_select_wait(sel, 1), SWCO_ENOTCO);
    ck_assert_int_eq(swco_last_error(), SWCO_ENOTCO);
    ck_assert_int_eq(swco_select_index(sel), -ENOENT);
    assert_nothing_queued();
    free_all();
}
END_TEST

static void try_in_coroutine(void *arg)
{
    /* try never waits, in a coroutine either. */
    ck_assert_int_eq(swco_select_try(sel), -EAGAIN);
    ck_assert_int_eq(swco_last_error(), -EAGAIN);
    assert_nothing_queued();
    out("tried;");
}

START_TEST(try_does_not_wait)
{
    out_reset();
    a = swco_channel_new(0);
    b = swco_channel_new(2);
    sel = swco_select_new();
    ck_assert_int_eq(swco_select_add_pop(sel, a), 0);
    ck_assert_int_eq(swco_select_add_pop(sel, b), 1);
    ck_assert_int_eq(swco_select_try(sel), -EAGAIN);
    ck_assert_int_eq(swco_select_index(sel), -ENOENT);
    swco_coroutine_create(try_in_coroutine, NULL);
    ck_assert_str_eq(out_buf, "tried;");
    ck_assert_int_eq(swco_coroutine_count(), 0);
    ck_assert_int_eq(swco_channel_push(b, "x", 0), 0);
    ck_assert_int_eq(swco_select_try(sel), 1);
    ck_assert_str_eq(swco_select_value(sel), "x");
    ck_assert_int_eq(swco_select_try(sel), -EAGAIN);
    ck_assert_ptr_null(swco_select_value(sel)); /* forgotten by the new call */
    free_all();
}
END_TEST

static void select_times_out(void *arg)
{
    double t0 = now_s();
    ck_assert_int_eq(swco_select_wait(sel, 0.05), -ETIMEDOUT);
    ck_assert_double_ge(now_s() - t0, 0.045);
    ck_assert_int_eq(swco_last_error(), -ETIMEDOUT);
    ck_assert_int_eq(swco_select_index(sel), -ENOENT);
    assert_nothing_queued();
    /* The channels and the select still work. */
    ck_assert_int_eq(swco_channel_push(a, "later", 0), 0);
    ck_assert_int_eq(swco_select_wait(sel, 0.05), 0);
    ck_assert_str_eq(swco_select_value(sel), "later");
}

START_TEST(timeout)
{
    a = swco_channel_new(1);
    b = swco_channel_new(0);
    sel = swco_select_new();
    ck_assert_int_eq(swco_select_add_pop(sel, a), 0);
    ck_assert_int_eq(swco_select_add_push(sel, b, "never taken"), 1);
    ck_assert_int_eq(swco_run(select_times_out, NULL), 0);
    assert_nothing_queued();
    free_all();
}
END_TEST

START_TEST(fair_among_ready_cases)
{
    /* Two always-ready pop cases: each must win a fair share.  For a fair
     * coin, fewer than 200 of 1000 has a probability below 1e-80. */
    a = swco_channel_new(1);
    b = swco_channel_new(1);
    c = swco_channel_new(1);
    sel = swco_select_new();
    ck_assert_int_eq(swco_select_add_pop(sel, a), 0);
    ck_assert_int_eq(swco_select_add_pop(sel, b), 1);
    int wins[3] = {0, 0, 0};
    swco_channel_t *chans[] = {a, b, c};
    ck_assert_int_eq(swco_channel_push(a, "a", 0), 0);
    ck_assert_int_eq(swco_channel_push(b, "b", 0), 0);
    for (int i = 0; i < 1000; i++) {
        int k = swco_select_try(sel);
        ck_assert(k == 0 || k == 1);
        wins[k]++;
        ck_assert_int_eq(swco_channel_push(chans[k], k ? "b" : "a", 0), 0); /* ready again */
    }
    ck_assert_int_ge(wins[0], 200);
    ck_assert_int_ge(wins[1], 200);

    /* Three cases, one a push (c has room): each at least 20% of 1000
     * times (expected 333, sd 15: 200 is 9 sd away). */
    ck_assert_int_eq(swco_select_add_push(sel, c, "c"), 2);
    wins[0] = wins[1] = wins[2] = 0;
    for (int i = 0; i < 1000; i++) {
        int k = swco_select_wait(sel, -1);
        ck_assert(k >= 0 && k <= 2);
        wins[k]++;
        void *v;
        if (k == 2)
            ck_assert_int_eq(swco_channel_pop(c, &v, 0), 0); /* room again */
        else
            ck_assert_int_eq(swco_channel_push(chans[k], "v", 0), 0);
    }
    for (int k = 0; k < 3; k++)
        ck_assert_int_ge(wins[k], 200);
    free_all();
}
END_TEST

static void pusher(void *arg) { ck_assert_int_eq(swco_channel_push(b, arg, -1), 0); }

START_TEST(woken_by_push)
{
    reset_seen();
    a = swco_channel_new(1);
    b = swco_channel_new(1);
    sel = swco_select_new();
    swco_select_add_pop(sel, a);
    swco_select_add_pop(sel, b);
    long cid = swco_coroutine_create(selector, NULL);
    ck_assert_str_eq(out_buf, "select;");
    ck_assert_str_eq(swco_coroutine_wait_reason(cid), "select");
    /* Waiting, the select counts once on each channel. */
    ck_assert_int_eq(swco_channel_consumers(a), 1);
    ck_assert_int_eq(swco_channel_consumers(b), 1);
    /* Buffered: the woken select runs at once (Swoole's order). */
    swco_coroutine_create(pusher, "hello");
    ck_assert_str_eq(out_buf, "select;selected 1;");
    ck_assert_str_eq(sel_val, "hello");
    ck_assert_int_eq(sel_closed, 0);
    ck_assert_int_eq(swco_channel_length(b), 0);
    assert_nothing_queued();
    ck_assert_int_eq(swco_event_wait(), 0);
    free_all();
}
END_TEST

static void popper(void *arg)
{
    void *v = NULL;
    ck_assert_int_eq(swco_channel_pop((swco_channel_t *)arg, &v, -1), 0);
    out("popped %s;", (char *)v);
}

START_TEST(woken_by_pop)
{
    /* A push case on a full buffered channel: a pop makes room and the
     * case's value moves into the buffer. */
    reset_seen();
    a = swco_channel_new(1);
    b = swco_channel_new(1);
    ck_assert_int_eq(swco_channel_push(b, "old", 0), 0);
    sel = swco_select_new();
    swco_select_add_pop(sel, a);
    swco_select_add_push(sel, b, "new");
    swco_coroutine_create(selector, NULL);
    ck_assert_int_eq(swco_channel_producers(b), 1);
    ck_assert_int_eq(swco_channel_consumers(a), 1);
    swco_coroutine_create(popper, b);
    ck_assert_str_eq(out_buf, "select;selected 1;popped old;");
    ck_assert_ptr_null(sel_val);
    assert_nothing_queued();
    void *v;
    ck_assert_int_eq(swco_channel_pop(b, &v, 0), 0);
    ck_assert_str_eq(v, "new");
    ck_assert_int_eq(swco_event_wait(), 0);
    free_all();
}
END_TEST

START_TEST(woken_by_close)
{
    /* A pop case on a closed channel completes, with no value (Go). */
    reset_seen();
    a = swco_channel_new(0);
    b = swco_channel_new(3);
    sel = swco_select_new();
    swco_select_add_pop(sel, a);
    swco_select_add_pop(sel, b);
    swco_coroutine_create(selector, NULL);
    ck_assert_int_eq(swco_channel_close(b), 0);
    ck_assert_str_eq(out_buf, "select;selected 1;");
    ck_assert_ptr_null(sel_val);
    ck_assert_int_eq(sel_closed, 1);
    assert_nothing_queued();
    /* Closed and drained stays ready. */
    ck_assert_int_eq(swco_select_try(sel), 1);
    ck_assert_int_eq(swco_select_closed(sel), 1);

    /* A push case on a closed channel: SWCO_ECLOSED, and index names it. */
    ck_assert_int_eq(swco_select_reset(sel), 0);
    ck_assert_int_eq(swco_select_count(sel), 0);
    ck_assert_int_eq(swco_select_index(sel), -ENOENT);
    swco_select_add_pop(sel, a);
    swco_select_add_push(sel, b, "x");
    ck_assert_int_eq(swco_select_try(sel), SWCO_ECLOSED);
    ck_assert_int_eq(swco_select_index(sel), 1);
    ck_assert_int_eq(swco_select_closed(sel), 1);

    /* ... also when the close comes while it waits. */
    swco_channel_free(b);
    b = swco_channel_new(0);
    ck_assert_int_eq(swco_select_reset(sel), 0);
    swco_select_add_pop(sel, a);
    swco_select_add_push(sel, b, "x");
    reset_seen();
    swco_coroutine_create(selector, NULL);
    ck_assert_int_eq(swco_channel_producers(b), 1);
    ck_assert_int_eq(swco_channel_close(b), 0);
    ck_assert_str_eq(out_buf, "select;selected -4001;"); /* SWCO_ECLOSED */
    ck_assert_int_eq(sel_rc, SWCO_ECLOSED);
    ck_assert_int_eq(sel_closed, 1);
    ck_assert_int_eq(swco_select_index(sel), 1);
    assert_nothing_queued();
    ck_assert_int_eq(swco_event_wait(), 0);
    free_all();
}
END_TEST

START_TEST(unbuffered_push_case_waits_for_a_popper)
{
    reset_seen();
    a = swco_channel_new(0);
    b = swco_channel_new(0);
    sel = swco_select_new();
    swco_select_add_push(sel, a, "to a");
    swco_select_add_push(sel, b, "to b");
    /* No popper: nothing is ready. */
    ck_assert_int_eq(swco_select_try(sel), -EAGAIN);
    swco_coroutine_create(selector, NULL);
    ck_assert_int_eq(swco_channel_producers(a), 1);
    ck_assert_int_eq(swco_channel_producers(b), 1);
    ck_assert_int_eq(swco_channel_length(a), 0);
    /* The popper takes the value and goes on (Go's order); the select
     * completes with it and runs when the popper ends. */
    swco_coroutine_create(popper, b);
    ck_assert_str_eq(out_buf, "select;popped to b;");
    assert_nothing_queued();
    ck_assert_int_eq(swco_event_wait(), 0);
    ck_assert_str_eq(out_buf, "select;popped to b;selected 1;");
    free_all();
}
END_TEST

static void unbuffered_pusher(void *arg)
{
    out("push;");
    ck_assert_int_eq(swco_channel_push(a, arg, -1), 0);
    out("pushed;");
}

START_TEST(pop_case_takes_a_waiting_pushers_value)
{
    out_reset();
    a = swco_channel_new(0);
    b = swco_channel_new(0);
    sel = swco_select_new();
    swco_select_add_pop(sel, b);
    swco_select_add_pop(sel, a);
    swco_coroutine_create(unbuffered_pusher, "handed");
    ck_assert_int_eq(swco_channel_producers(a), 1);
    ck_assert_int_eq(swco_select_try(sel), 1);
    ck_assert_str_eq(swco_select_value(sel), "handed");
    /* Outside a coroutine the pusher runs at once. */
    ck_assert_str_eq(out_buf, "push;pushed;");
    assert_nothing_queued();
    ck_assert_int_eq(swco_event_wait(), 0);
    free_all();
}
END_TEST

static void pop_a_then_sleep(void *arg)
{
    void *v;
    ck_assert_int_eq(swco_channel_pop(a, &v, -1), 0);
    out("popped %s;", (char *)v);
    /* The select was handed its completion: its timeout must not fire
     * while it waits in the run queue, nor later. */
    block_thread(0.05);
    out("popper ends;");
}

static void select_then_sleep(void *arg)
{
    double t = 0.02;
    selector(&t);
    ck_assert_int_eq(swco_sleep(0.05), 0);
    out("slept;");
}

START_TEST(rendezvous_stops_the_timeout)
{
    reset_seen();
    a = swco_channel_new(0);
    sel = swco_select_new();
    swco_select_add_push(sel, a, "v");
    swco_coroutine_create(select_then_sleep, NULL);
    swco_coroutine_create(pop_a_then_sleep, NULL);
    ck_assert_int_eq(swco_event_wait(), 0);
    ck_assert_str_eq(out_buf, "select;popped v;popper ends;selected 0;slept;");
    free_all();
}
END_TEST

START_TEST(same_channel_in_two_cases)
{
    /* Two pop cases on one channel: one value completes one of them. */
    reset_seen();
    a = swco_channel_new(2);
    sel = swco_select_new();
    swco_select_add_pop(sel, a);
    swco_select_add_pop(sel, a);
    swco_coroutine_create(selector, NULL);
    ck_assert_int_eq(swco_channel_consumers(a), 2);
    ck_assert_int_eq(swco_channel_push(a, "one", 0), 0);
    ck_assert_int_eq(sel_rc, 0); /* FIFO: the first case queued */
    ck_assert_str_eq(sel_val, "one");
    ck_assert_int_eq(swco_channel_consumers(a), 0);
    ck_assert_int_eq(swco_channel_push(a, "two", 0), 0); /* buffered: nobody took it */
    ck_assert_int_eq(swco_channel_length(a), 1);

    /* A push and a pop case on one unbuffered channel never meet. */
    swco_channel_free(a);
    a = swco_channel_new(0);
    ck_assert_int_eq(swco_select_reset(sel), 0);
    swco_select_add_pop(sel, a);
    swco_select_add_push(sel, a, "mine");
    ck_assert_int_eq(swco_select_try(sel), -EAGAIN);
    reset_seen();
    swco_coroutine_create(selector, NULL);
    ck_assert_int_eq(swco_channel_consumers(a), 1);
    ck_assert_int_eq(swco_channel_producers(a), 1);
    ck_assert_int_eq(sel_rc, 12345); /* still waiting */
    swco_coroutine_create(popper, a);
    ck_assert_str_eq(out_buf, "select;popped mine;");
    assert_nothing_queued();
    ck_assert_int_eq(swco_event_wait(), 0);
    ck_assert_str_eq(out_buf, "select;popped mine;selected 1;");

    /* Both cases of one channel woken by one close: one completes. */
    reset_seen();
    swco_coroutine_create(selector, NULL);
    ck_assert_int_eq(swco_channel_close(a), 0);
    ck_assert_str_eq(out_buf, "select;selected 0;");
    ck_assert_int_eq(sel_closed, 1);
    assert_nothing_queued();
    ck_assert_int_eq(swco_event_wait(), 0);
    free_all();
}
END_TEST

START_TEST(cancel_a_waiting_select)
{
    reset_seen();
    a = swco_channel_new(0);
    b = swco_channel_new(1);
    ck_assert_int_eq(swco_channel_push(b, "full", 0), 0);
    sel = swco_select_new();
    swco_select_add_pop(sel, a);
    swco_select_add_push(sel, b, "x");
    long cid = swco_coroutine_create(selector, NULL);
    ck_assert_int_eq(swco_channel_consumers(a), 1);
    ck_assert_int_eq(swco_channel_producers(b), 1);
    ck_assert_int_eq(swco_coroutine_cancel(cid), 0);
    ck_assert_int_eq(sel_rc, -ECANCELED);
    ck_assert_int_eq(swco_select_index(sel), -ENOENT);
    assert_nothing_queued();
    ck_assert_int_eq(swco_channel_length(b), 1);
    ck_assert_int_eq(swco_event_wait(), 0);
    free_all();
}
END_TEST

static int foreign_rc[4];
static void *foreign_thread(void *arg)
{
    foreign_rc[0] = swco_select_try(sel);
    foreign_rc[1] = swco_select_wait(sel, 1);
    /* A select of its own on the other thread's channel fails the same. */
    swco_select_t *mine = swco_select_new();
    swco_select_add_push(mine, a, "x");
    foreign_rc[2] = swco_select_try(mine);
    foreign_rc[3] = swco_select_index(mine);
    swco_select_free(mine);
    return NULL;
}

START_TEST(other_threads_channel_gets_eperm)
{
    a = swco_channel_new(1);
    b = swco_channel_new(1);
    ck_assert_int_eq(swco_channel_push(a, "stays", 0), 0);
    sel = swco_select_new();
    swco_select_add_pop(sel, b);
    swco_select_add_pop(sel, a);
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, foreign_thread, NULL), 0);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    ck_assert_int_eq(foreign_rc[0], -EPERM);
    ck_assert_int_eq(foreign_rc[1], -EPERM);
    ck_assert_int_eq(foreign_rc[2], -EPERM);
    ck_assert_int_eq(foreign_rc[3], -ENOENT);
    /* Nothing changed. */
    ck_assert_int_eq(swco_channel_length(a), 1);
    ck_assert_int_eq(swco_select_try(sel), 1);
    ck_assert_str_eq(swco_select_value(sel), "stays");
    free_all();
}
END_TEST

START_TEST(free_a_channel_under_a_waiting_select)
{
    reset_seen();
    a = swco_channel_new(0);
    b = swco_channel_new(0);
    sel = swco_select_new();
    swco_select_add_pop(sel, a);
    swco_select_add_push(sel, b, "x");
    swco_select_add_pop(sel, b);
    swco_coroutine_create(selector, NULL);
    ck_assert_int_eq(swco_channel_consumers(b), 1);
    ck_assert_int_eq(swco_channel_producers(b), 1);
    /* Freeing b closes it first: the select wakes on one of b's cases
     * (close wakes poppers first: the pop case, 2) and leaves a's queue. */
    swco_channel_free(b);
    b = NULL;
    ck_assert_str_eq(out_buf, "select;selected 2;");
    ck_assert_int_eq(sel_closed, 1);
    ck_assert_int_eq(swco_channel_consumers(a), 0);
    /* The select must not wait on the freed channel again: reset it. */
    ck_assert_int_eq(swco_select_reset(sel), 0);
    swco_select_add_pop(sel, a);
    ck_assert_int_eq(swco_select_try(sel), -EAGAIN);
    ck_assert_int_eq(swco_event_wait(), 0);
    free_all();
}
END_TEST

static int busy_rc[4];
static void meddler(void *arg)
{
    busy_rc[0] = swco_select_add_pop(sel, a);
    busy_rc[1] = swco_select_reset(sel);
    busy_rc[2] = swco_select_wait(sel, 1);
    swco_select_free(sel); /* refused: it is in use */
    busy_rc[3] = swco_last_error();
    ck_assert_int_eq(swco_channel_push(a, "done", 0), 0);
}

START_TEST(in_use_and_bad_arguments)
{
    reset_seen();
    a = swco_channel_new(1);
    sel = swco_select_new();
    ck_assert_int_eq(swco_select_wait(sel, 1), -EINVAL); /* no case */
    ck_assert_int_eq(swco_select_try(sel), -EINVAL);
    ck_assert_int_eq(swco_select_add_pop(sel, NULL), -EINVAL);
    ck_assert_int_eq(swco_select_add_push(sel, NULL, "x"), -EINVAL);
    ck_assert_int_eq(swco_select_add_pop(NULL, a), -EINVAL);
    ck_assert_int_eq(swco_select_add_push(NULL, a, "x"), -EINVAL);
    ck_assert_int_eq(swco_select_wait(NULL, 1), -EINVAL);
    ck_assert_int_eq(swco_select_try(NULL), -EINVAL);
    ck_assert_int_eq(swco_select_reset(NULL), -EINVAL);
    ck_assert_int_eq(swco_select_closed(NULL), -EINVAL);
    ck_assert_int_eq(swco_select_index(NULL), -EINVAL);
    ck_assert_int_eq(swco_select_count(NULL), -EINVAL);
    ck_assert_ptr_null(swco_select_value(NULL));
    swco_select_free(NULL);
    ck_assert_int_eq(swco_select_count(sel), 0);

    /* Many cases: the array grows. */
    for (int i = 0; i < 100; i++)
        ck_assert_int_eq(swco_select_add_pop(sel, a), i);
    ck_assert_int_eq(swco_select_reset(sel), 0);
    ck_assert_int_eq(swco_select_add_pop(sel, a), 0);

    /* While a coroutine waits on sel, others get -EBUSY. */
    swco_coroutine_create(selector, NULL);
    swco_coroutine_create(meddler, NULL);
    ck_assert_int_eq(busy_rc[0], -EBUSY);
    ck_assert_int_eq(busy_rc[1], -EBUSY);
    ck_assert_int_eq(busy_rc[2], -EBUSY);
    ck_assert_int_eq(busy_rc[3], -EBUSY);
    ck_assert_str_eq(out_buf, "select;selected 0;");
    ck_assert_str_eq(sel_val, "done");
    ck_assert_int_eq(swco_select_count(sel), 1);
    ck_assert_int_eq(swco_event_wait(), 0);
    free_all();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("select");
    TCase *tc = tcase_create("select");
    tcase_add_test(tc, ready_case_among_several);
    tcase_add_test(tc, try_does_not_wait);
    tcase_add_test(tc, timeout);
    tcase_add_test(tc, fair_among_ready_cases);
    tcase_add_test(tc, woken_by_push);
    tcase_add_test(tc, woken_by_pop);
    tcase_add_test(tc, woken_by_close);
    tcase_add_test(tc, unbuffered_push_case_waits_for_a_popper);
    tcase_add_test(tc, pop_case_takes_a_waiting_pushers_value);
    tcase_add_test(tc, rendezvous_stops_the_timeout);
    tcase_add_test(tc, same_channel_in_two_cases);
    tcase_add_test(tc, cancel_a_waiting_select);
    tcase_add_test(tc, other_threads_channel_gets_eperm);
    tcase_add_test(tc, free_a_channel_under_a_waiting_select);
    tcase_add_test(tc, in_use_and_bad_arguments);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
