/* Every public constructor under a failing allocator: with the library's
 * Nth allocation (malloc, calloc, realloc, strdup, strndup or mmap, made
 * by any of its threads) failing, for N = 1, 2, ... until the constructor
 * no longer reaches an Nth allocation, each call either succeeds anyway or
 * returns NULL (or a negative code) with swco_last_error() == -ENOMEM, and
 * crashes nothing.  Leaks are caught by LeakSanitizer in the ASan build
 * (each test runs in its own forked child, checked when it exits) and by
 * make check-valgrind.  SWCO_ALLOC_VERBOSE=1 prints how many allocations
 * each constructor makes.
 *
 * The failures come from lib/core/alloc.c's swco__alloc_fail_nth(), which
 * the shared library hides: this suite links libswco_core.la statically. */
#include "testutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

/* From lib/internal.h (the test does not include the library's internals). */
void swco__alloc_fail_nth(long n);
long swco__alloc_injected(void);

/* No constructor needs more allocations than this; reaching it means the
 * loop never ends (an allocation retried forever, say). */
#define MAX_ALLOCS 2000

typedef void *(*make_fn)(void *ctx);
typedef void (*drop_fn)(void *obj);

/* The lowest free descriptor: a failed constructor must not leave one open. */
static int lowest_free_fd(void)
{
    int fd = dup(0);
    ck_assert_int_ge(fd, 0);
    close(fd);
    return fd;
}

/* Call make(ctx) with the nth allocation failing, n = 1, 2, ... until a
 * call makes fewer than n allocations.  A call whose injected failure it
 * survived returns an object (dropped at once); otherwise it must return
 * NULL with -ENOMEM.  Returns how many allocations a successful call makes. */
static long fail_each(const char *what, make_fn make, drop_fn drop, void *ctx)
{
    /* Once without failures first: per-thread state the library creates on
     * first use (loop, scheduler, thread pool) then exists, so the fd check
     * below sees only what the constructor itself opens. */
    void *obj = make(ctx);
    ck_assert_msg(obj != NULL, "%s: fails without an injected failure (%d)", what,
                  swco_last_error());
    drop(obj);
    int fd0 = lowest_free_fd();
    long failed = 0;
    for (long n = 1; n <= MAX_ALLOCS; n++) {
        swco_set_last_error(0);
        swco__alloc_fail_nth(n);
        obj = make(ctx);
        long injected = swco__alloc_injected();
        swco__alloc_fail_nth(0);
        if (obj != NULL) {
            drop(obj);
            if (injected == 0) {
                ck_assert_msg(failed > 0, "%s: no allocation failed to test", what);
                if (getenv("SWCO_ALLOC_VERBOSE"))
                    fprintf(stderr, "%s: %ld allocations, %ld failures tested\n", what, n - 1,
                            failed);
                return n - 1;
            }
            continue; /* it did without that allocation */
        }
        failed++;
        ck_assert_msg(injected == 1, "%s: returned NULL with no allocation failed (n=%ld, %d)",
                      what, n, swco_last_error());
        ck_assert_msg(swco_last_error() == -ENOMEM,
                      "%s: allocation %ld failed, last error %d (%s), want -ENOMEM", what, n,
                      swco_last_error(), swco_err_name(swco_last_error()));
        ck_assert_msg(lowest_free_fd() == fd0, "%s: allocation %ld failed and a descriptor leaked",
                      what, n);
    }
    ck_abort_msg("%s: still allocating after %d allocations", what, MAX_ALLOCS);
    return -1;
}

/* -------------------------------------------------- objects of one thread */

static void *make_channel(void *ctx)
{
    return swco_channel_new(4);
}
static void *make_channel_ex(void *ctx)
{
    return swco_channel_new_ex(4, free);
}
static void drop_channel(void *obj)
{
    swco_channel_free(obj);
}
static void *make_waitgroup(void *ctx)
{
    return swco_waitgroup_new();
}
static void drop_waitgroup(void *obj)
{
    swco_waitgroup_free(obj);
}
static void *make_mutex(void *ctx)
{
    return swco_mutex_new();
}
static void drop_mutex(void *obj)
{
    swco_mutex_free(obj);
}
static void *make_cond(void *ctx)
{
    return swco_cond_new();
}
static void drop_cond(void *obj)
{
    swco_cond_free(obj);
}

START_TEST(test_sync_objects)
{
    fail_each("swco_channel_new", make_channel, drop_channel, NULL);
    fail_each("swco_channel_new_ex", make_channel_ex, drop_channel, NULL);
    fail_each("swco_waitgroup_new", make_waitgroup, drop_waitgroup, NULL);
    fail_each("swco_mutex_new", make_mutex, drop_mutex, NULL);
    fail_each("swco_cond_new", make_cond, drop_cond, NULL);
}
END_TEST

/* ------------------------------------------------------------- coroutines */

/* The coroutines stay suspended until the test ends: a coroutine that
 * ended would hand its stack to the next one, which then allocates nothing. */
static long live[2 * MAX_ALLOCS + 8];
static int nlive, co_ran;
static void co_body(void *arg)
{
    co_ran++;
    swco_coroutine_yield();
}

static void *keep(long cid)
{
    if (cid < 0) {
        ck_assert_int_eq(cid, swco_last_error());
        return NULL;
    }
    ck_assert_int_lt(nlive, (int)(sizeof live / sizeof live[0]));
    live[nlive++] = cid;
    return (void *)cid;
}

static void resume_all(void)
{
    for (int i = 0; i < nlive; i++)
        ck_assert_int_eq(swco_coroutine_resume(live[i]), 0);
    nlive = 0;
}

/* swco_coroutine_create returns a cid: wrap it so a failure reads as NULL. */
static void *make_coroutine(void *ctx)
{
    return keep(swco_coroutine_create(co_body, NULL));
}
static void drop_coroutine(void *obj) {}

/* A failed create does not call arg_free: arg is still the caller's. */
static void *make_coroutine_ex(void *ctx)
{
    char *arg = strdup("owned by the coroutine");
    long cid = swco_coroutine_create_ex(co_body, arg, free, 0);
    if (cid < 0)
        free(arg);
    return keep(cid);
}

static void coroutines_main(void *arg)
{
    fail_each("swco_coroutine_create", make_coroutine, drop_coroutine, NULL);
    fail_each("swco_coroutine_create_ex", make_coroutine_ex, drop_coroutine, NULL);
    resume_all();
}

START_TEST(test_coroutine_create)
{
    /* Outside a coroutine first: the first coroutine brings up the scheduler. */
    fail_each("swco_coroutine_create (thread)", make_coroutine, drop_coroutine, NULL);
    resume_all();
    ck_assert_int_eq(swco_run(coroutines_main, NULL), 0);
    ck_assert_int_gt(co_ran, 0);
}
END_TEST

/* ------------------------------------------------------------ shared memory */

static void *make_atomic(void *ctx)
{
    return swco_atomic_new(7);
}
static void drop_atomic(void *obj)
{
    swco_atomic_free(obj);
}
static void *make_atomic64(void *ctx)
{
    return swco_atomic64_new(7);
}
static void drop_atomic64(void *obj)
{
    swco_atomic64_free(obj);
}
static void *make_lock(void *ctx)
{
    return swco_lock_new(*(int *)ctx, 1);
}
static void drop_lock(void *obj)
{
    swco_lock_free(obj);
}

START_TEST(test_shm_objects)
{
    fail_each("swco_atomic_new", make_atomic, drop_atomic, NULL);
    fail_each("swco_atomic64_new", make_atomic64, drop_atomic64, NULL);
    int types[] = {SWCO_LOCK_MUTEX, SWCO_LOCK_RWLOCK, SWCO_LOCK_SPINLOCK, SWCO_LOCK_SEM};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        fail_each("swco_lock_new", make_lock, drop_lock, &types[i]);
}
END_TEST

/* A table defined and created: swco_table_new, swco_table_column and
 * swco_table_create (its mmap) each may fail. */
static void *make_table(void *ctx)
{
    swco_table_t *t = swco_table_new(64);
    if (!t)
        return NULL;
    if (swco_table_column(t, "id", SWCO_TABLE_INT, 0) != 0 ||
        swco_table_column(t, "name", SWCO_TABLE_STRING, 32) != 0 || swco_table_create(t) != 0) {
        int err = swco_last_error();
        swco_table_free(t);
        swco_set_last_error(err);
        return NULL;
    }
    return t;
}
static void drop_table(void *obj)
{
    swco_table_free(obj);
}

static void *make_row(void *ctx)
{
    return swco_table_row_new(ctx);
}
static void drop_row(void *obj)
{
    swco_table_row_free(obj);
}
static void *make_iter(void *ctx)
{
    return swco_table_iter_new(ctx);
}
static void drop_iter(void *obj)
{
    swco_table_iter_free(obj);
}

START_TEST(test_table)
{
    fail_each("swco_table_new+column+create", make_table, drop_table, NULL);
    swco_table_t *t = make_table(NULL);
    ck_assert_ptr_nonnull(t);
    fail_each("swco_table_row_new", make_row, drop_row, t);
    fail_each("swco_table_iter_new", make_iter, drop_iter, t);
    swco_table_free(t);
}
END_TEST

/* -------------------------------------------------------------- processes */

static void child_body(swco_process_t *proc, void *arg) {}

static void *make_process(void *ctx)
{
    char *arg = strdup("owned by the process object");
    swco_process_t *p = swco_process_new(child_body, arg, free, *(int *)ctx, 0);
    if (!p)
        free(arg); /* a failed new does not call arg_free */
    return p;
}
static void drop_process(void *obj)
{
    swco_process_free(obj);
}

static void *make_pool(void *ctx)
{
    return swco_pool_new(2, *(int *)ctx, 0);
}
static void drop_pool(void *obj)
{
    swco_pool_free(obj);
}

START_TEST(test_process_pool)
{
    int ipcs[] = {SWCO_PROCESS_IPC_NONE, SWCO_PROCESS_IPC_STREAM, SWCO_PROCESS_IPC_DGRAM};
    for (size_t i = 0; i < sizeof ipcs / sizeof ipcs[0]; i++)
        fail_each("swco_process_new", make_process, drop_process, &ipcs[i]);
    int pipcs[] = {SWCO_POOL_IPC_NONE, SWCO_POOL_IPC_MSGQUEUE, SWCO_POOL_IPC_SOCKET,
                   SWCO_POOL_IPC_UNIXSOCK};
    for (size_t i = 0; i < sizeof pipcs / sizeof pipcs[0]; i++)
        fail_each("swco_pool_new", make_pool, drop_pool, &pipcs[i]);
}
END_TEST

/* ---------------------------------------------------------- sockets, TLS */

static void *make_socket(void *ctx)
{
    return swco_socket_new(AF_INET, SOCK_STREAM, 0);
}
static void *make_socket_udp(void *ctx)
{
    return swco_socket_new(AF_INET6, SOCK_DGRAM, 0);
}
static void drop_socket(void *obj)
{
    swco_socket_free(obj);
}

/* swco_socket_new_fd takes the fd: on failure it is the caller's still. */
static void *make_socket_fd(void *ctx)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    swco_socket_t *s = swco_socket_new_fd(fd);
    if (!s)
        close(fd);
    return s;
}

static void *make_ssl_ctx(void *ctx)
{
    return swco_ssl_ctx_new(*(int *)ctx);
}
static void drop_ssl_ctx(void *obj)
{
    swco_ssl_ctx_free(obj);
}

static void *make_addrinfo(void *ctx)
{
    return swco_dns_getaddrinfo("localhost", "80", AF_UNSPEC, SOCK_STREAM, 5 * slow());
}
static void drop_addrinfo(void *obj)
{
    swco_addrinfo_free(obj);
}

static void sockets_main(void *arg)
{
    fail_each("swco_socket_new", make_socket, drop_socket, NULL);
    fail_each("swco_socket_new (udp6)", make_socket_udp, drop_socket, NULL);
    fail_each("swco_socket_new_fd", make_socket_fd, drop_socket, NULL);
    int server = 1, client = 0;
    fail_each("swco_ssl_ctx_new (server)", make_ssl_ctx, drop_ssl_ctx, &server);
    fail_each("swco_ssl_ctx_new (client)", make_ssl_ctx, drop_ssl_ctx, &client);
    fail_each("swco_dns_getaddrinfo", make_addrinfo, drop_addrinfo, NULL);
}

START_TEST(test_sockets)
{
    ck_assert_int_eq(swco_run(sockets_main, NULL), 0);
}
END_TEST

/* Accept: each attempt has a client connection of its own waiting, made
 * before the failure is armed so that only swco_socket_accept is tested.
 * A failed accept must leave no descriptor open: the connection it took
 * is closed, or was never taken (and waits in the backlog for a later
 * accept). */
static void accept_main(void *arg)
{
    swco_socket_t *l = swco_socket_new(AF_INET, SOCK_STREAM, 0);
    ck_assert_ptr_nonnull(l);
    ck_assert_int_eq(swco_socket_bind(l, "127.0.0.1", 0), 0);
    ck_assert_int_eq(swco_socket_listen(l, 64), 0);
    char host[64];
    int port = 0;
    ck_assert_int_eq(swco_socket_getsockname(l, host, sizeof host, &port), 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    int fd0 = -1;
    long failed = 0;
    for (long n = 0; n <= MAX_ALLOCS; n++) { /* n = 0: once without failure */
        int c = socket(AF_INET, SOCK_STREAM, 0);
        ck_assert_int_ge(c, 0);
        ck_assert_int_eq(connect(c, (struct sockaddr *)&addr, sizeof addr), 0);
        if (fd0 < 0)
            fd0 = lowest_free_fd();
        swco_set_last_error(0);
        swco__alloc_fail_nth(n);
        swco_socket_t *s = swco_socket_accept(l, 5 * slow());
        long injected = swco__alloc_injected();
        swco__alloc_fail_nth(0);
        if (s) {
            swco_socket_free(s);
            close(c);
            if (n > 0 && injected == 0)
                break;
            continue;
        }
        failed++;
        ck_assert_msg(injected == 1, "swco_socket_accept: NULL with no allocation failed (%d)",
                      swco_last_error());
        ck_assert_int_eq(swco_last_error(), -ENOMEM);
        ck_assert_int_eq(lowest_free_fd(), fd0);
        close(c);
    }
    ck_assert_int_gt(failed, 0);
    swco_socket_free(l);
}

START_TEST(test_socket_accept)
{
    ck_assert_int_eq(swco_run(accept_main, NULL), 0);
}
END_TEST

/* A cold start: swco_run brings up the thread's scheduler and loop, and
 * tears them down when it returns, so every attempt below starts from
 * nothing.  Whatever allocation fails, swco_run returns 0 (the failure hit
 * a call that reported it to its caller) or -ENOMEM, and nothing crashes
 * or leaks. */
static void noop(void *arg) {}
static void cold_main(void *arg)
{
    swco_channel_t *ch = swco_channel_new(1);
    if (ch) {
        swco_channel_push(ch, (void *)1, 0);
        swco_channel_free(ch);
    }
    swco_coroutine_create(noop, NULL);
    swco_sleep(0.001); /* a timer on the loop */
    swco_socket_t *sk = swco_socket_new(AF_INET, SOCK_DGRAM, 0);
    if (sk)
        swco_socket_free(sk);
}

START_TEST(test_run_cold)
{
    long failed = 0;
    for (long n = 1; n <= MAX_ALLOCS; n++) {
        swco__alloc_fail_nth(n);
        int rc = swco_run(cold_main, NULL);
        long injected = swco__alloc_injected();
        swco__alloc_fail_nth(0);
        ck_assert_msg(rc == 0 || (rc == -ENOMEM && injected == 1),
                      "swco_run: allocation %ld failed, returned %d (%s)", n, rc,
                      swco_err_name(rc));
        if (rc != 0)
            failed++;
        if (injected == 0) {
            ck_assert_int_eq(rc, 0);
            break;
        }
    }
    ck_assert_int_gt(failed, 0);
}
END_TEST

/* Registrations that keep an arg: with an allocation failing, the call
 * returns -ENOMEM and leaves arg the caller's (arg_free not called);
 * otherwise arg_free runs exactly once, when the registration is done.
 * Every arg is freed exactly once either way: the counts prove it. */
static int freed_by_library, freed_by_caller, made;
static void count_free(void *arg)
{
    freed_by_library++;
    free(arg);
}
static void timer_fn(long id, void *arg) {}
static void defer_fn(void *arg) {}

typedef long (*register_fn)(void *arg);
static long reg_timer_after(void *arg)
{
    return swco_timer_after(60, timer_fn, arg, count_free);
}
static long reg_timer_tick(void *arg)
{
    return swco_timer_tick(60, timer_fn, arg, count_free);
}
static long reg_event_defer(void *arg)
{
    return swco_event_defer(defer_fn, arg, count_free);
}
static long reg_defer(void *arg)
{
    return swco_defer(defer_fn, arg, count_free);
}

static void register_each(const char *what, register_fn reg, int is_timer)
{
    for (long n = 1; n <= MAX_ALLOCS; n++) {
        void *arg = malloc(16);
        made++;
        int before = freed_by_library;
        swco__alloc_fail_nth(n);
        long rc = reg(arg);
        long injected = swco__alloc_injected();
        swco__alloc_fail_nth(0);
        if (rc < 0) {
            ck_assert_msg(rc == -ENOMEM && injected == 1, "%s: allocation %ld failed, returned %ld",
                          what, n, rc);
            ck_assert_msg(freed_by_library == before, "%s: failed, yet arg_free ran", what);
            freed_by_caller++;
            free(arg);
            continue;
        }
        if (is_timer)
            ck_assert_int_eq(swco_timer_clear(rc), 0); /* arg_free runs now */
        if (injected == 0)
            return;
    }
    ck_abort_msg("%s: still allocating after %d allocations", what, MAX_ALLOCS);
}

static void registrations_main(void *arg)
{
    register_each("swco_timer_after", reg_timer_after, 1);
    register_each("swco_timer_tick", reg_timer_tick, 1);
    register_each("swco_event_defer", reg_event_defer, 0);
    register_each("swco_defer", reg_defer, 0);
}

START_TEST(test_registrations)
{
    ck_assert_int_eq(swco_run(registrations_main, NULL), 0);
    /* The deferred calls have run by now: every arg was freed once. */
    ck_assert_int_gt(freed_by_caller, 0);
    ck_assert_int_eq(freed_by_library + freed_by_caller, made);
}
END_TEST

/* A select with many cases: swco_select_new, then swco_select_add_pop and
 * swco_select_add_push growing its case list, any of which may fail. */
static swco_channel_t *sel_chan;
static void *make_select(void *ctx)
{
    swco_select_t *sel = swco_select_new();
    if (!sel)
        return NULL;
    for (int i = 0; i < 40; i++) {
        int rc = i % 2 ? swco_select_add_push(sel, sel_chan, (void *)1L)
                       : swco_select_add_pop(sel, sel_chan);
        if (rc < 0) {
            ck_assert_int_eq(rc, swco_last_error());
            swco_select_free(sel);
            swco_set_last_error(rc);
            return NULL;
        }
        ck_assert_int_eq(rc, i);
    }
    ck_assert_int_ge(swco_select_try(sel), 0); /* the channel has room: a push fires */
    return sel;
}
static void drop_select(void *obj)
{
    swco_select_free(obj);
}

static void select_main(void *arg)
{
    sel_chan = swco_channel_new(1000);
    ck_assert_ptr_nonnull(sel_chan);
    fail_each("swco_select_new+add", make_select, drop_select, NULL);
    swco_channel_free(sel_chan);
}

START_TEST(test_select)
{
    ck_assert_int_eq(swco_run(select_main, NULL), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("alloc");
    TCase *tc = tcase_create("fail each allocation");
    tcase_add_test(tc, test_sync_objects);
    tcase_add_test(tc, test_coroutine_create);
    tcase_add_test(tc, test_shm_objects);
    tcase_add_test(tc, test_table);
    tcase_add_test(tc, test_process_pool);
    tcase_add_test(tc, test_sockets);
    tcase_add_test(tc, test_socket_accept);
    tcase_add_test(tc, test_run_cold);
    tcase_add_test(tc, test_registrations);
    tcase_add_test(tc, test_select);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
