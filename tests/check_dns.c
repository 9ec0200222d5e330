/* Name resolution through the AIO pool: local names, numeric addresses,
 * names that never resolve, the cache.  No external DNS is needed. */
#include "testutil.h"

#include <errno.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

static void lookups(void *arg)
{
    (void)arg;
    swco_addrinfo_t *ai = swco_dns_getaddrinfo("localhost", "8080", AF_INET, SOCK_STREAM, 5);
    ck_assert_ptr_nonnull(ai);
    ck_assert_uint_ge(swco_addrinfo_count(ai), 1);
    ck_assert_str_eq(swco_addrinfo_address(ai, 0), "127.0.0.1");
    ck_assert_int_eq(swco_addrinfo_family(ai, 0), AF_INET);
    ck_assert_int_eq(swco_addrinfo_port(ai, 0), 8080);
    ck_assert_ptr_null(swco_addrinfo_address(ai, 99));
    ck_assert_int_eq(swco_addrinfo_port(ai, 99), -EINVAL);
    swco_addrinfo_free(ai);

    ai = swco_dns_getaddrinfo("::1", "443", AF_UNSPEC, 0, 1);
    ck_assert_ptr_nonnull(ai);
    ck_assert_uint_eq(swco_addrinfo_count(ai), 1);
    ck_assert_str_eq(swco_addrinfo_address(ai, 0), "::1");
    ck_assert_int_eq(swco_addrinfo_family(ai, 0), AF_INET6);
    swco_addrinfo_free(ai);

    char out[64];
    ck_assert_int_eq(swco_dns_gethostbyname("localhost", AF_INET, out, sizeof out, 5), 0);
    ck_assert_str_eq(out, "127.0.0.1");
    ck_assert_int_eq(swco_dns_gethostbyname("127.0.0.1", 0, out, 4, 5), -ENOSPC);

    ck_assert_ptr_null(swco_dns_getaddrinfo("unknown-host.invalid", NULL, 0, 0, 5));
    ck_assert_int_eq(swco_last_error(), SWCO_EDNS);
    ck_assert_int_eq(swco_dns_gethostbyname("unknown-host.invalid", 0, out, sizeof out, 5), SWCO_EDNS);
    ck_assert_ptr_null(swco_dns_getaddrinfo(NULL, NULL, 0, 0, 1));
    ck_assert_int_eq(swco_last_error(), -EINVAL);
    ck_assert_ptr_null(swco_dns_getaddrinfo("localhost", NULL, 12345, 0, 1));
    ck_assert_int_eq(swco_last_error(), -EINVAL);
}

START_TEST(resolve)
{
    ck_assert_int_eq(swco_run(lookups, NULL), 0);
}
END_TEST

START_TEST(resolve_outside_coroutine)
{
    char out[64];
    ck_assert_int_eq(swco_dns_gethostbyname("localhost", AF_INET, out, sizeof out, 5), 0);
    ck_assert_str_eq(out, "127.0.0.1");
}
END_TEST

static int resolved;

static void resolver(void *arg)
{
    (void)arg;
    char out[64];
    if (swco_dns_gethostbyname("localhost", AF_INET, out, sizeof out, 5) == 0)
        resolved++;
}

static void many(void *arg)
{
    (void)arg;
    for (int i = 0; i < 50; i++)
        swco_coroutine_create(resolver, NULL);
}

START_TEST(concurrent)
{
    resolved = 0;
    ck_assert_int_eq(swco_run(many, NULL), 0);
    ck_assert_int_eq(resolved, 50);
}
END_TEST

static void cached(void *arg)
{
    (void)arg;
    ck_assert_int_eq(swco_dns_cache_set(-1, 0), -EINVAL);
    ck_assert_int_eq(swco_dns_cache_set(60, 4), 0);
    for (int i = 0; i < 10; i++) {
        char name[32];
        snprintf(name, sizeof name, "%s", i % 2 ? "localhost" : "ip6-localhost");
        swco_addrinfo_t *ai = swco_dns_getaddrinfo(name, NULL, 0, SOCK_STREAM, 5);
        if (ai)
            swco_addrinfo_free(ai);
    }
    /* a cached answer needs no pool: it returns without yielding */
    swco_addrinfo_t *ai = swco_dns_getaddrinfo("localhost", NULL, 0, SOCK_STREAM, 5);
    ck_assert_ptr_nonnull(ai);
    int before = swco_aio_pending();
    ck_assert_int_eq(before, 0);
    swco_addrinfo_free(ai);
    swco_dns_cache_clear();
    ck_assert_int_eq(swco_dns_cache_set(0, 0), 0);
}

START_TEST(cache)
{
    ck_assert_int_eq(swco_run(cached, NULL), 0);
}
END_TEST

/* Out of descriptors a lookup cannot even read /etc/hosts: that is
 * -EMFILE, not "the name does not resolve" (issue 10, 15). */
static void lookup_at_fd_limit(void *arg)
{
    (void)arg;
    swco_dns_cache_set(0, 0);
    swco_addrinfo_t *ai = swco_dns_getaddrinfo("localhost", NULL, AF_INET, SOCK_STREAM, 5 * slow());
    ck_assert_ptr_nonnull(ai); /* the pool and the loop exist now */
    swco_addrinfo_free(ai);
    struct rlimit old;
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
    struct rlimit low = {64, old.rlim_max};
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
    int fds[64], n = 0;
    while (n < 64 && (fds[n] = dup(0)) >= 0)
        n++;
    ck_assert_int_lt(n, 64);
    ai = swco_dns_getaddrinfo("localhost", NULL, AF_INET, SOCK_STREAM, 5 * slow());
    int err = swco_last_error();
    while (n > 0)
        close(fds[--n]);
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
    ck_assert_ptr_null(ai);
    ck_assert_int_eq(err, -EMFILE);
}

START_TEST(emfile_is_not_edns)
{
    ck_assert_int_eq(swco_run(lookup_at_fd_limit, NULL), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dns");
    TCase *tc = tcase_create("resolve");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, resolve);
    tcase_add_test(tc, resolve_outside_coroutine);
    tcase_add_test(tc, concurrent);
    tcase_add_test(tc, cache);
    tcase_add_test(tc, emfile_is_not_edns);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
