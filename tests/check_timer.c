/* Timers: after, tick, clear, coroutine mode, arg_free, tick correction. */
#include "testutil.h"

#include <errno.h>
#include <math.h>
#include <unistd.h>

static void after_cb(long id, void *arg)
{
    long *seen = arg;
    seen[0] = id;
    seen[1] = swco_coroutine_id();
    ck_assert_int_eq(swco_timer_exists(id), 0); /* a one-shot is done once it runs */
    ck_assert_int_eq(swco_sleep(0.01), 0);      /* may wait: it is a coroutine */
    seen[2] = 1;
}

START_TEST(after_runs_once_in_a_coroutine)
{
    long seen[3] = {0, 0, 0};
    double t0 = now_s();
    long id = swco_timer_after(0.03, after_cb, seen, NULL);
    ck_assert_int_gt(id, 0);
    ck_assert_int_eq(swco_timer_exists(id), 1);
    ck_assert_int_eq(swco_timer_count(), 1);
    ck_assert_int_eq(swco_event_wait(), 0);
    double elapsed = now_s() - t0;
    ck_assert_double_ge(elapsed, 0.03);
    ck_assert_double_lt(elapsed, 5 * slow()); /* generous: 30 ms, not 30 s */
    ck_assert_int_eq(seen[0], id);
    ck_assert_int_gt(seen[1], 0);
    ck_assert_int_eq(seen[2], 1);
    ck_assert_int_eq(swco_timer_count(), 0);
}
END_TEST

static void plain_cb(long id, void *arg) { *(long *)arg = swco_coroutine_id(); }

START_TEST(no_coroutine_mode)
{
    long cid = 0;
    swco_timer_add(0.005, SWCO_TIMER_NO_COROUTINE, plain_cb, &cid, NULL);
    ck_assert_int_eq(swco_event_wait(), 0);
    ck_assert_int_eq(cid, 0);
}
END_TEST

static void tick_cb(long id, void *arg)
{
    int *n = arg;
    if (++*n == 5)
        ck_assert_int_eq(swco_timer_clear(id), 0);
}

START_TEST(tick_until_cleared)
{
    int n = 0;
    double t0 = now_s();
    long id = swco_timer_tick(0.01, tick_cb, &n, NULL);
    ck_assert_int_gt(id, 0);
    ck_assert_int_eq(swco_event_wait(), 0);
    ck_assert_int_eq(n, 5);
    ck_assert_double_ge(now_s() - t0, 0.05);
    ck_assert_int_eq(swco_timer_clear(id), SWCO_ENOTIMER);
    long id2 = swco_timer_tick(0.01, tick_cb, &n, NULL);
    ck_assert_int_gt(id2, id); /* ids are never reused */
    ck_assert_int_eq(swco_timer_clear(id2), 0);
    ck_assert_int_eq(swco_event_wait(), 0);
}
END_TEST

/* Swoole's timer correction: a 50 ms tick whose first callback runs for a
 * while.  The next call is at the first point of the original schedule
 * after that callback ended: on time when it took less than a period,
 * dropping the points it overran otherwise.  Checked against the measured
 * end of the callback, so a loaded machine cannot make it flaky: "not
 * early" by the clock, "not a point later" by the order of probe timers
 * a quarter period after the expected points (due timers run in time order,
 * however late the loop is). */
static double fired[8], ended[8], added, added_after;
static int nfired;
static double block_first, period_s;
static int probe_saw[2], nprobes;

static void probe(long id, void *arg) { probe_saw[nprobes++] = nfired; }

static void busy_tick(long id, void *arg)
{
    int n = nfired++;
    fired[n] = now_s();
    if (n == 0) {
        /* the callback itself takes this long, and ends in the middle of a
         * period (where the library starts it is known to within
         * added..added_after), away from the points it is judged by */
        double base = (added + added_after) / 2;
        double end = fired[0] + block_first;
        end = base + (ceil((end - base - period_s / 2) / period_s) + 0.5) * period_s;
        while (now_s() < end)
            ; /* spin: a nap would overshoot on a loaded machine */
    }
    ended[n] = now_s();
    if (n == 0) {
        double k = floor((ended[0] - added) / period_s) + 1;
        double mid = added + k * period_s + period_s / 4 - now_s();
        long ms = (long)ceil(mid * 1000);
        nprobes = 0;
        swco_timer_add((ms) / 1000.0, SWCO_TIMER_NO_COROUTINE, probe, NULL, NULL);
        swco_timer_add((ms + (long)(period_s * 1000)) / 1000.0, SWCO_TIMER_NO_COROUTINE, probe, NULL, NULL);
    }
    if (nfired == 3)
        swco_timer_clear(id);
}

/* 1 when the calls kept the schedule; else 0 with why.  A preemption at the
 * wrong moment (between the test's clock and the library's) can shift the
 * library's view of a point by a few ms, so each test tries up to 10 runs:
 * a timer that drifts or drops the wrong points fails every one. */
static char why[256];
static int check_schedule(double period)
{
    ck_assert_int_eq(nfired, 3);
    /* The schedule is added + k * period; the first call is at k = 1 (or
     * later, on a loaded machine), the second at the first point after the
     * first call's callback ended. */
    ck_assert_double_ge(fired[0], added + period - 0.001);
    double k = floor((ended[0] - added) / period) + 1;
    double expect1 = added + k * period;
    ck_assert_int_eq(nprobes, 2);
    if (!(fired[1] >= expect1 - 0.003 && probe_saw[0] == 2)) {
        snprintf(why, sizeof why,
                 "second call at %.3f s%s; first at %.3f s, its callback ended at %.3f s; "
                 "expected %.3f s", fired[1] - added,
                 probe_saw[0] == 2 ? "" : " (after the next point)", fired[0] - added,
                 ended[0] - added, expect1 - added);
        return 0;
    }
    double expect2 = expect1 + period;
    if (!(fired[2] >= expect2 - 0.003 && probe_saw[1] == 3)) {
        snprintf(why, sizeof why, "third call at %.3f s%s; expected %.3f s", fired[2] - added,
                 probe_saw[1] == 3 ? "" : " (after the next point)", expect2 - added);
        return 0;
    }
    return 1;
}

START_TEST(tick_does_not_drift)
{
    int ok = 0;
    for (int attempt = 0; attempt < 10 && !ok; attempt++) {
        nfired = 0;
        block_first = 0.025; /* half a period: the schedule must not move */
        period_s = 0.05;
        added = now_s();
        swco_timer_add(0.05, SWCO_TIMER_TICK | SWCO_TIMER_NO_COROUTINE, busy_tick, NULL, NULL);
        added_after = now_s();
        ck_assert_int_eq(swco_event_wait(), 0);
        ok = check_schedule(0.05);
    }
    ck_assert_msg(ok, "%s (and in 9 more runs)", why);
}
END_TEST

START_TEST(tick_drops_overrun_points)
{
    int ok = 0;
    for (int attempt = 0; attempt < 10 && !ok; attempt++) {
        nfired = 0;
        block_first = 0.075; /* runs past the 100 ms point: it is dropped */
        period_s = 0.05;
        added = now_s();
        swco_timer_add(0.05, SWCO_TIMER_TICK | SWCO_TIMER_NO_COROUTINE, busy_tick, NULL, NULL);
        added_after = now_s();
        ck_assert_int_eq(swco_event_wait(), 0);
        ck_assert_double_ge(ended[0] - fired[0], 0.075);
        ok = check_schedule(0.05); /* 50 -> (100 dropped) -> 150 -> 200 */
    }
    ck_assert_msg(ok, "%s (and in 9 more runs)", why);
    ck_assert_double_ge(fired[1] - added, 0.147);
}
END_TEST

static int freed;
static void arg_free(void *arg) { freed++; }
static void nothing(long id, void *arg) {}

START_TEST(arg_free_runs_once)
{
    freed = 0;
    swco_timer_add(0.001, 0, nothing, NULL, arg_free);
    long tick = swco_timer_add(0.001, SWCO_TIMER_TICK, nothing, NULL, arg_free);
    long later = swco_timer_add(100.0, 0, nothing, NULL, arg_free);
    swco_sleep(0.01);
    swco_timer_clear(tick);
    ck_assert_int_eq(swco_timer_clear(later), 0);
    ck_assert_int_eq(swco_timer_clear(later), SWCO_ENOTIMER);
    ck_assert_int_eq(swco_event_wait(), 0);
    ck_assert_int_eq(freed, 3);
}
END_TEST

START_TEST(many_timers)
{
    enum { N = 100000 };
    static long ids[N];
    for (int i = 0; i < N; i++)
        ck_assert_int_gt(ids[i] = swco_timer_after((1000 + i) / 1000.0, nothing, NULL, NULL), 0);
    ck_assert_int_eq(swco_timer_count(), N);
    for (int i = N - 1; i >= 0; i -= 2)
        ck_assert_int_eq(swco_timer_clear(ids[i]), 0);
    for (int i = 0; i < N; i += 2)
        ck_assert_int_eq(swco_timer_clear(ids[i]), 0);
    ck_assert_int_eq(swco_timer_count(), 0);
    ck_assert_int_eq(swco_event_wait(), 0);
}
END_TEST

START_TEST(bad_arguments)
{
    ck_assert_int_eq(swco_timer_after(-0.005, nothing, NULL, NULL), -EINVAL);
    ck_assert_int_eq(swco_timer_after(0.01, NULL, NULL, NULL), -EINVAL);
    ck_assert_int_eq(swco_timer_tick(-1.0, nothing, NULL, NULL), -EINVAL);
    ck_assert_int_eq(swco_timer_after(0.0 / 0.0, nothing, NULL, NULL), -EINVAL);
    ck_assert_int_eq(swco_timer_after(1.0 / 0.0, nothing, NULL, NULL), -EINVAL);
    ck_assert_int_eq(swco_timer_after(2e9, nothing, NULL, NULL), -EINVAL);
    ck_assert_int_eq(swco_timer_add(0.01, 64, nothing, NULL, NULL), -EINVAL);
    ck_assert_int_eq(swco_timer_clear(0), SWCO_ENOTIMER);
    ck_assert_int_eq(swco_timer_clear(-1), SWCO_ENOTIMER);
    ck_assert_int_eq(swco_timer_exists(987654), 0);
    ck_assert_int_eq(swco_timer_count(), 0);
}
END_TEST

static long internal_id;
static void sleeping(void *arg) { *(int *)arg = swco_sleep(0.05); }

START_TEST(internal_timers_are_not_public)
{
    /* A sleep's timer is the library's: not counted, not clearable. */
    int rc = 1;
    swco_coroutine_create(sleeping, &rc);
    ck_assert_int_eq(swco_timer_count(), 0);
    long probe = swco_timer_after(0.001, nothing, NULL, NULL);
    internal_id = probe - 1; /* the sleep's timer came just before */
    ck_assert_int_eq(swco_timer_exists(internal_id), 0);
    ck_assert_int_eq(swco_timer_clear(internal_id), SWCO_ENOTIMER);
    ck_assert_int_eq(swco_event_wait(), 0);
    ck_assert_int_eq(rc, 0);
}
END_TEST

/* Run before each test: the tick schedule tests compare their own clock
 * reading with the schedule, which starts at the library's reading inside
 * swco_timer_add; the first timer of a thread also creates its reactor,
 * which can take tens of milliseconds (45 ms under qemu) between the two.
 * With the reactor made beforehand, the readings are microseconds apart. */
static void warm_idle(long id, void *arg) {}
static void start_reactor(void)
{
    ck_assert_int_eq(swco_timer_clear(swco_timer_after(1.0, warm_idle, NULL, NULL)), 0);
}

/* ---- issue 11: seconds as double, arg_free on every path */

static void order_cb(long id, void *arg) { (void)id; out("%s;", (const char *)arg); }

START_TEST(fractional_seconds)
{
    out_reset();
    /* Added latest first: they fire by due time, 0 on the next turn. */
    ck_assert_int_gt(swco_timer_add(0.0035, SWCO_TIMER_NO_COROUTINE, order_cb, "3.5ms", NULL), 0);
    ck_assert_int_gt(swco_timer_add(0.0015, SWCO_TIMER_NO_COROUTINE, order_cb, "1.5ms", NULL), 0);
    ck_assert_int_gt(swco_timer_add(0.0, SWCO_TIMER_NO_COROUTINE, order_cb, "0", NULL), 0);
    double before = swco_event_now();
    ck_assert_int_eq(swco_event_wait(), 0);
    ck_assert_str_eq(out_buf, "0;1.5ms;3.5ms;");
    /* The loop's time is seconds: at least 3.5 ms have passed. */
    ck_assert_int_ge(llround((swco_event_now() - before) * 1000), 4); /* 3.5 ms, rounded up to the loop's whole ms */
    ck_assert_double_lt(swco_event_now() - before, 60.0 * slow());
}
END_TEST

static int zero_ticks;
static void zero_tick(long id, void *arg)
{
    (void)arg;
    if (++zero_ticks == 3)
        swco_timer_clear(id);
}

START_TEST(tick_of_zero_is_one_ms)
{
    /* A 0 s period cannot spin the loop: it is the 1 ms resolution. */
    zero_ticks = 0;
    long id = swco_timer_tick(0.0, zero_tick, NULL, NULL);
    ck_assert_int_gt(id, 0);
    double before = swco_event_now();
    ck_assert_int_eq(swco_event_wait(), 0);
    ck_assert_int_eq(zero_ticks, 3);
    ck_assert_int_ge(llround((swco_event_now() - before) * 1000), 2); /* whole ms: compare ms, not doubles */
}
END_TEST

static char freed_tags[64];
static void tag_free(void *arg) { strcat(freed_tags, (const char *)arg); }

START_TEST(arg_free_paths)
{
    freed_tags[0] = 0;
    long fired = swco_timer_add(0.001, SWCO_TIMER_NO_COROUTINE, nothing, "f", tag_free);
    long cleared = swco_timer_after(100.0, nothing, "c", tag_free);
    ck_assert_int_gt(fired, 0);
    ck_assert_int_gt(cleared, 0);
    ck_assert_int_eq(swco_timer_after(-1.0, nothing, "x", tag_free), -EINVAL); /* not taken */
    ck_assert_int_eq(swco_timer_clear(cleared), 0);
    ck_assert_str_eq(freed_tags, "c"); /* at the clear, not later */
    ck_assert_int_eq(swco_timer_clear(cleared), SWCO_ENOTIMER);
    ck_assert_int_eq(swco_event_wait(), 0);
    ck_assert_str_eq(freed_tags, "cf"); /* after its only call */
}
END_TEST

int main(void)
{
    Suite *s = suite_create("timer");
    TCase *tc = tcase_create("timer");
    tcase_add_test(tc, after_runs_once_in_a_coroutine);
    tcase_add_test(tc, no_coroutine_mode);
    tcase_add_test(tc, tick_until_cleared);
    tcase_add_test(tc, tick_does_not_drift);
    tcase_add_test(tc, tick_drops_overrun_points);
    tcase_add_test(tc, arg_free_runs_once);
    tcase_add_test(tc, many_timers);
    tcase_add_test(tc, bad_arguments);
    tcase_add_test(tc, internal_timers_are_not_public);
    tcase_add_test(tc, fractional_seconds);
    tcase_add_test(tc, tick_of_zero_is_one_ms);
    tcase_add_test(tc, arg_free_paths);
    tcase_add_checked_fixture(tc, start_reactor, NULL);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
