/* Error codes, logging and version: what a user reads back. */
#include "testutil.h"

#include <errno.h>
#include <pthread.h>

START_TEST(every_code_is_named)
{
    static const int codes[] = {
#define X(name, value, msg) name,
        SWCO_ERROR_MAP(X)
#undef X
    };
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        ck_assert_int_lt(codes[i], -4000);
        ck_assert_str_ne(swco_strerror(codes[i]), "unknown error");
        ck_assert_str_ne(swco_err_name(codes[i]), "UNKNOWN");
        ck_assert(strncmp(swco_err_name(codes[i]), "SWCO_E", 6) == 0);
    }
    ck_assert_str_eq(swco_err_name(SWCO_ECLOSED), "SWCO_ECLOSED");
    ck_assert_str_eq(swco_err_name(SWCO_EDEADLOCK), "SWCO_EDEADLOCK");
}
END_TEST

START_TEST(errno_codes)
{
    ck_assert_str_eq(swco_err_name(-ETIMEDOUT), "ETIMEDOUT");
    ck_assert_str_eq(swco_err_name(-ECANCELED), "ECANCELED");
    ck_assert_str_eq(swco_err_name(ECONNREFUSED), "ECONNREFUSED");
    ck_assert_str_eq(swco_strerror(-ETIMEDOUT), strerror(ETIMEDOUT));
    ck_assert_str_eq(swco_strerror(0), "success");
    ck_assert_str_eq(swco_err_name(0), "OK");
    ck_assert_str_eq(swco_strerror(-3999), "unknown error");
    ck_assert_str_eq(swco_err_name(-4998), "UNKNOWN");
    ck_assert_str_eq(swco_strerror(-100000), "unknown error");
}
END_TEST

START_TEST(last_error_slot)
{
    swco_set_last_error(0);
    ck_assert_ptr_null(swco_channel_new(-1));
    ck_assert_int_eq(swco_last_error(), -EINVAL);
    swco_set_last_error(-EBUSY);
    ck_assert_int_eq(swco_last_error(), -EBUSY);
}
END_TEST

START_TEST(version)
{
    ck_assert_uint_eq(swco_version(), SWCO_VERSION_HEX);
    ck_assert_str_eq(swco_version_string(), SWCO_VERSION_STRING);
    char buf[32];
    snprintf(buf, sizeof buf, "%d.%d.%d", SWCO_VERSION_MAJOR, SWCO_VERSION_MINOR, SWCO_VERSION_MICRO);
    ck_assert_str_eq(swco_version_string(), buf);
}
END_TEST

static int freed;
static void handler(int level, const char *msg, void *arg) { out("[%d]%s|", level, msg); }
static void handler_free(void *arg) { freed++; }

START_TEST(log_handler_and_level)
{
    out_reset();
    freed = 0;
    swco_log_set_handler(handler, &freed, handler_free);
    ck_assert_int_eq(swco_log_set_level(SWCO_LOG_INFO), 0);
    ck_assert_int_eq(swco_log_get_level(), SWCO_LOG_INFO);
    swco_log_write(SWCO_LOG_DEBUG, "hidden");
    swco_log_write(SWCO_LOG_WARNING, "shown");
    ck_assert_str_eq(out_buf, "[2]shown|");
    ck_assert_int_eq(swco_log_set_level(99), -EINVAL);
    swco_log_set_handler(NULL, NULL, NULL);
    ck_assert_int_eq(freed, 1);
}
END_TEST

/* ---- issue 11: one code per meaning */
static void *last_error_thread(void *arg)
{
    long *seen = arg;
    swco_err_t e = swco_last_error();
    seen[0] = e;
    swco_channel_free(swco_channel_new(-1)); /* fails: -EINVAL */
    seen[1] = swco_last_error();
    return NULL;
}

START_TEST(one_code_per_meaning)
{
    ck_assert_int_eq(SWCO_ENOTWORKER, -4024);
    ck_assert_str_eq(swco_err_name(SWCO_ENOTWORKER), "SWCO_ENOTWORKER");
    ck_assert_str_eq(swco_strerror(SWCO_ENOTWORKER), "not called from a pool worker");
    /* The removed codes' numbers are unknown now; the errno codes name them. */
    ck_assert_str_eq(swco_err_name(-4007), "UNKNOWN");
    ck_assert_str_eq(swco_err_name(-4014), "UNKNOWN");
    ck_assert_str_eq(swco_err_name(-4016), "UNKNOWN");
    ck_assert_str_eq(swco_err_name(-4022), "UNKNOWN");
    ck_assert_str_eq(swco_err_name(-4023), "UNKNOWN");
    ck_assert_str_eq(swco_err_name(-EBUSY), "EBUSY");
    ck_assert_str_eq(swco_err_name(-EPROTO), "EPROTO");
    ck_assert_str_eq(swco_err_name(-EOWNERDEAD), "EOWNERDEAD");
    /* swco_last_error() is data: 0 until a call of the thread fails (a
     * fresh thread: with CK_FORK=no earlier tests ran on this one). */
    pthread_t th;
    long seen[2] = {1, 1};
    ck_assert_int_eq(pthread_create(&th, NULL, last_error_thread, seen), 0);
    ck_assert_int_eq(pthread_join(th, NULL), 0);
    ck_assert_int_eq(seen[0], 0);
    ck_assert_int_eq(seen[1], -EINVAL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("error");
    TCase *tc = tcase_create("error");
    tcase_add_test(tc, every_code_is_named);
    tcase_add_test(tc, errno_codes);
    tcase_add_test(tc, last_error_slot);
    tcase_add_test(tc, version);
    tcase_add_test(tc, log_handler_and_level);
    tcase_add_test(tc, one_code_per_meaning);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
