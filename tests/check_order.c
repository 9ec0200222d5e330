/* The seed's scheduling examples (section 3.12.6) and its defer example,
 * reproduced in C.  go() at the top of a PHP script is
 * swco_coroutine_create() outside any coroutine; the script's end is
 * swco_event_wait().  Coroutine numbers are printed relative to the first
 * one each test creates, as PHP's co::getcid() would number them. */
#include "testutil.h"

static long base_cid;

static long num(void) { return swco_coroutine_id() - base_cid + 1; }

static void start_numbering(void) { base_cid = 0; }

static long create(swco_fn fn, void *arg)
{
    long cid = swco_coroutine_create(fn, arg);
    if (base_cid == 0)
        base_cid = cid;
    return cid;
}

/* A coroutine that prints start, optionally sleeps, prints end. */
static void simple(void *arg)
{
    if (base_cid == 0)
        base_cid = swco_coroutine_id();
    double sleep_s = *(double *)arg;
    out("coro %ld start\n", num());
    if (sleep_s > 0) {
        swco_sleep(sleep_s);
        out("coro %ld end\n", num());
    }
}

START_TEST(no_io)
{
    out_reset();
    start_numbering();
    double none = 0;
    out("main start\n");
    create(simple, &none);
    out("end\n");
    ck_assert_int_eq(swco_event_wait(), 0);
    ck_assert_str_eq(out_buf, "main start\ncoro 1 start\nend\n");
}
END_TEST

START_TEST(io_wait)
{
    out_reset();
    start_numbering();
    double s = 0.1;
    out("main start\n");
    create(simple, &s);
    out("end\n");
    ck_assert_int_eq(swco_event_wait(), 0);
    ck_assert_str_eq(out_buf, "main start\ncoro 1 start\nend\ncoro 1 end\n");
}
END_TEST

START_TEST(parallel)
{
    out_reset();
    start_numbering();
    double s = 0.1;
    out("main start\n");
    create(simple, &s);
    out("main flag\n");
    create(simple, &s);
    out("end\n");
    ck_assert_int_eq(swco_event_wait(), 0);
    ck_assert_str_eq(out_buf, "main start\ncoro 1 start\nmain flag\ncoro 2 start\nend\n"
                              "coro 1 end\ncoro 2 end\n");
}
END_TEST

/* Nested: the outer sleeps outer_s, the inner inner_s. */
static double outer_s, inner_s;

static void inner(void *arg)
{
    out("coro %ld start\n", num());
    swco_sleep(inner_s);
    out("coro %ld end\n", num());
}

static void outer(void *arg)
{
    if (base_cid == 0)
        base_cid = swco_coroutine_id();
    out("coro %ld start\n", num());
    swco_coroutine_create(inner, NULL);
    out("coro %ld do not wait children coroutine\n", num());
    swco_sleep(outer_s);
    out("coro %ld end\n", num());
}

START_TEST(nested_inner_first)
{
    out_reset();
    start_numbering();
    outer_s = 0.2;
    inner_s = 0.1;
    out("main start\n");
    create(outer, NULL);
    out("end\n");
    ck_assert_int_eq(swco_event_wait(), 0);
    ck_assert_str_eq(out_buf, "main start\ncoro 1 start\ncoro 2 start\n"
                              "coro 1 do not wait children coroutine\nend\n"
                              "coro 2 end\ncoro 1 end\n");
}
END_TEST

START_TEST(nested_outer_first)
{
    out_reset();
    start_numbering();
    outer_s = 0.1;
    inner_s = 0.2;
    out("main start\n");
    create(outer, NULL);
    out("end\n");
    ck_assert_int_eq(swco_event_wait(), 0);
    ck_assert_str_eq(out_buf, "main start\ncoro 1 start\ncoro 2 start\n"
                              "coro 1 do not wait children coroutine\nend\n"
                              "coro 1 end\ncoro 2 end\n");
}
END_TEST

static void say(void *arg) { out("%s", (const char *)arg); }

static void defer_co(void *arg)
{
    out("a");
    swco_defer(say, "~a", NULL);
    out("b");
    swco_defer(say, "~b", NULL);
    swco_sleep(0.05);
    out("c");
}

START_TEST(defer_order)
{
    out_reset();
    ck_assert_int_eq(swco_run(defer_co, NULL), 0);
    ck_assert_str_eq(out_buf, "abc~b~a");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("order");
    TCase *tc = tcase_create("seed 3.12.6");
    tcase_add_test(tc, no_io);
    tcase_add_test(tc, io_wait);
    tcase_add_test(tc, parallel);
    tcase_add_test(tc, nested_inner_first);
    tcase_add_test(tc, nested_outer_first);
    tcase_add_test(tc, defer_order);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
