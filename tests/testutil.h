/* Helpers shared by the Check suites. */
#ifndef SWCO_TESTUTIL_H
#define SWCO_TESTUTIL_H

#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <swco.h>

/* What a program would print, collected so a test can compare it. */
static char out_buf[8192];
static size_t out_len;

__attribute__((unused, format(printf, 1, 2))) static void out(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out_buf + out_len, sizeof out_buf - out_len, fmt, ap);
    va_end(ap);
    if (n > 0)
        out_len += (size_t)n;
    if (out_len >= sizeof out_buf)
        out_len = sizeof out_buf - 1;
}

__attribute__((unused)) static void out_reset(void)
{
    out_len = 0;
    out_buf[0] = 0;
}

__attribute__((unused)) static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* How much slower than native this run is allowed to be: time limits in
 * tests are multiplied by it (SWCO_TEST_SLOW=20 under valgrind). */
__attribute__((unused)) static double slow(void)
{
    const char *v = getenv("SWCO_TEST_SLOW");
    double f = v ? atof(v) : 1.0;
    return f >= 1.0 ? f : 1.0;
}

/* Check's per-test time limit is a safety net too: scale it by slow()
 * (through CK_TIMEOUT_MULTIPLIER, read when the test cases are created in
 * main, hence before main) unless the caller set a multiplier. */
__attribute__((constructor, unused)) static void scale_check_timeouts(void)
{
    char v[32];
    if (getenv("CK_TIMEOUT_MULTIPLIER"))
        return;
    snprintf(v, sizeof v, "%g", slow());
    setenv("CK_TIMEOUT_MULTIPLIER", v, 1);
}

/* Run one suite with Check; exit status for the test harness. */
__attribute__((unused)) static int run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
