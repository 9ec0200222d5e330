#include "testutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static swco_table_t *info;      /* "w<id>" -> pid of the worker that started */
static swco_atomic_t *starts, *stops, *handled;
static swco_atomic64_t *sum;

static void shared_setup(void)
{
    info = swco_table_new(64);
    swco_table_column(info, "pid", SWCO_TABLE_INT, 0);
    ck_assert_int_eq(swco_table_create(info), 0);
    starts = swco_atomic_new(0);
    stops = swco_atomic_new(0);
    handled = swco_atomic_new(0);
    sum = swco_atomic64_new(0);
}

static void shared_teardown(void)
{
    swco_table_free(info);
    swco_atomic_free(starts);
    swco_atomic_free(stops);
    swco_atomic_free(handled);
    swco_atomic64_free(sum);
}

static int64_t started_pid(int id)
{
    char key[16];
    int64_t v = 0;
    snprintf(key, sizeof key, "w%d", id);
    swco_table_get_int(info, key, "pid", &v);
    return v;
}

static void record_start(swco_pool_t *pool, int id, void *arg)
{
    char key[16];
    snprintf(key, sizeof key, "w%d", id);
    swco_table_set_int(info, key, "pid", getpid());
    swco_atomic_add(starts, 1);
}

static void record_stop(swco_pool_t *pool, int id, void *arg) { swco_atomic_add(stops, 1); }

static void idle_worker(swco_pool_t *pool, int id, void *arg)
{
    record_start(pool, id, arg);
    while (!swco_pool_is_stopping(pool))
        usleep(5000);
}

/* Run the manager in a child; returns its pid once every worker started. */
static pid_t start_manager(swco_pool_t *pool, int workers)
{
    pid_t m = fork();
    ck_assert_int_ge(m, 0);
    if (m == 0)
        _exit(swco_pool_start(pool) == 0 ? 0 : 1);
    double t0 = now_s();
    while (swco_atomic_get(starts) < (uint32_t)workers && now_s() - t0 < 30 * slow())
        usleep(1000);
    ck_assert_uint_ge(swco_atomic_get(starts), (uint32_t)workers);
    ck_assert_int_eq(swco_pool_manager_pid(pool), m);
    return m;
}

static int reap(pid_t pid)
{
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void wait_count(swco_atomic_t *a, uint32_t want, double limit)
{
    double t0 = now_s();
    limit += 30 * slow(); /* a safety net only: the count is the event */
    while (swco_atomic_get(a) < want && now_s() - t0 < limit)
        usleep(1000);
    ck_assert_uint_eq(swco_atomic_get(a), want);
}

START_TEST(pool_restarts_killed_worker_same_id)
{
    shared_setup();
    swco_pool_t *pool = swco_pool_new(3, SWCO_POOL_IPC_NONE, 0);
    ck_assert_ptr_nonnull(pool);
    swco_pool_on_worker_start(pool, idle_worker, NULL, NULL);
    swco_pool_on_worker_stop(pool, record_stop, NULL, NULL);
    pid_t m = start_manager(pool, 3);
    for (int id = 0; id < 3; id++) {
        double t0 = now_s();
        while (started_pid(id) != swco_pool_worker_pid(pool, id) && now_s() - t0 < 30 * slow())
            usleep(1000);
        ck_assert_int_eq(started_pid(id), swco_pool_worker_pid(pool, id));
    }
    int64_t old = started_pid(1);
    double t0 = now_s();
    ck_assert_int_eq(swco_process_kill((int)old, SIGKILL), 0);
    while ((started_pid(1) == old || started_pid(1) == 0) && now_s() - t0 < 30 * slow())
        usleep(200);
    double took = now_s() - t0;
    /* at once, not after a restart delay (generous for a loaded machine) */
    ck_assert_msg(took < 2.0 * slow(), "replacement took %.3f s", took);
    ck_assert_int_ne(started_pid(1), old);
    ck_assert_int_eq(swco_pool_worker_pid(pool, 1), started_pid(1));
    wait_count(starts, 4, 1); /* counted just after the pid was recorded */
    ck_assert_uint_eq(swco_atomic_get(stops), 0); /* a crash runs no stop callback */

    ck_assert_int_eq(swco_pool_shutdown(pool), 0);
    ck_assert_int_eq(reap(m), 0);
    ck_assert_uint_eq(swco_atomic_get(stops), 3);
    ck_assert_int_eq(swco_pool_manager_pid(pool), 0);
    ck_assert_int_eq(swco_pool_worker_pid(pool, 0), 0);
    ck_assert_int_eq(swco_pool_shutdown(pool), -ESRCH);
    swco_pool_free(pool);
    shared_teardown();
}
END_TEST

/* ------------------------------------------------------------ socket mode */

static void echo_message(swco_pool_t *pool, int id, const void *data, size_t len, void *arg)
{
    char buf[128];
    if (len == 4 && memcmp(data, "slow", 4) == 0) {
        /* inside the message until the worker was told to stop */
        swco_atomic64_set(sum, 1);
        for (double t0 = now_s(); !swco_pool_is_stopping(pool) && now_s() - t0 < 30 * slow();)
            usleep(1000);
    }
    int n = snprintf(buf, sizeof buf, "ok:%.*s", (int)len, (const char *)data);
    swco_atomic_add(handled, 1);
    swco_pool_reply(pool, buf, (size_t)n);
}

static int connect_to(int port, const char *path)
{
    int fd;
    if (path) {
        struct sockaddr_un sun = {.sun_family = AF_UNIX};
        strcpy(sun.sun_path, path);
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        ck_assert_int_eq(connect(fd, (struct sockaddr *)&sun, sizeof sun), 0);
    } else {
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        fd = socket(AF_INET, SOCK_STREAM, 0);
        ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    }
    return fd;
}

static void send_frame(int fd, const char *msg)
{
    uint32_t be = htonl((uint32_t)strlen(msg));
    ck_assert_int_eq(write(fd, &be, 4), 4);
    ck_assert_int_eq(write(fd, msg, strlen(msg)), (ssize_t)strlen(msg));
}

static void read_all(int fd, void *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, (char *)buf + got, len - got);
        ck_assert_int_gt(n, 0);
        got += (size_t)n;
    }
}

/* One request, one reply. */
static void request(int port, const char *path, const char *msg, char *reply, size_t cap)
{
    int fd = connect_to(port, path);
    send_frame(fd, msg);
    uint32_t be;
    read_all(fd, &be, 4);
    uint32_t len = ntohl(be);
    ck_assert_uint_lt(len, cap);
    read_all(fd, reply, len);
    reply[len] = 0;
    close(fd);
}

START_TEST(pool_socket_reload_loses_nothing)
{
    shared_setup();
    swco_pool_t *pool = swco_pool_new(2, SWCO_POOL_IPC_SOCKET, 0);
    ck_assert_int_eq(swco_pool_port(pool), -ENOTCONN);
    ck_assert_int_eq(swco_pool_listen(pool, "127.0.0.1", 0, 128), 0);
    int port = swco_pool_port(pool);
    ck_assert_int_gt(port, 0);
    swco_pool_on_worker_start(pool, record_start, NULL, NULL);
    swco_pool_on_worker_stop(pool, record_stop, NULL, NULL);
    swco_pool_on_message(pool, echo_message, NULL, NULL);
    pid_t m = start_manager(pool, 2);
    enum { N = 400 };
    char msg[32], want[40], reply[64];
    for (int i = 0; i < N; i++) {
        if (i == 50)
            ck_assert_int_eq(swco_pool_reload(pool), 0);
        if (i == 250) {
            wait_count(starts, 4, 5); /* first reload done while messages flowed */
            ck_assert_int_eq(swco_pool_reload(pool), 0);
        }
        snprintf(msg, sizeof msg, "m%d", i);
        snprintf(want, sizeof want, "ok:m%d", i);
        request(port, NULL, msg, reply, sizeof reply);
        ck_assert_str_eq(reply, want);
    }
    wait_count(starts, 6, 5);
    ck_assert_uint_eq(swco_atomic_get(handled), N);
    ck_assert_uint_eq(swco_atomic_get(stops), 4);
    ck_assert_int_eq(swco_pool_shutdown(pool), 0);
    ck_assert_int_eq(reap(m), 0);
    ck_assert_uint_eq(swco_atomic_get(stops), 6);
    swco_pool_free(pool);
    shared_teardown();
}
END_TEST

START_TEST(pool_sigterm_finishes_current_message)
{
    shared_setup();
    char path[64];
    snprintf(path, sizeof path, "/tmp/swco-pool-%d.sock", (int)getpid());
    swco_pool_t *pool = swco_pool_new(1, SWCO_POOL_IPC_SOCKET, 0);
    ck_assert_int_eq(swco_pool_listen_unix(pool, path, 16), 0);
    swco_pool_on_worker_start(pool, record_start, NULL, NULL);
    swco_pool_on_message(pool, echo_message, NULL, NULL);
    pid_t m = start_manager(pool, 1);
    char reply[64];
    request(0, path, "fast", reply, sizeof reply);
    ck_assert_str_eq(reply, "ok:fast");
    int fd = connect_to(0, path);
    send_frame(fd, "slow");
    /* the worker is inside the slow message now */
    for (double t0 = now_s(); swco_atomic64_get(sum) != 1 && now_s() - t0 < 30 * slow();)
        usleep(1000);
    ck_assert(swco_atomic64_get(sum) == 1);
    ck_assert_int_eq(kill(m, SIGTERM), 0);
    uint32_t be;
    read_all(fd, &be, 4);
    ck_assert_uint_eq(ntohl(be), 7);
    read_all(fd, reply, 7);
    ck_assert(memcmp(reply, "ok:slow", 7) == 0);
    close(fd);
    ck_assert_int_eq(reap(m), 0);
    ck_assert_uint_eq(swco_atomic_get(handled), 2);
    swco_pool_free(pool);
    ck_assert_int_eq(access(path, F_OK), -1); /* the socket file is removed */
    shared_teardown();
}
END_TEST

/* ----------------------------------------------------- message queue mode */

static void add_message(swco_pool_t *pool, int id, const void *data, size_t len, void *arg)
{
    char buf[32];
    memcpy(buf, data, len < 31 ? len : 31);
    buf[len < 31 ? len : 31] = 0;
    swco_atomic64_add(sum, atol(buf));
    swco_atomic_add(handled, 1);
}

START_TEST(pool_message_queue)
{
    shared_setup();
    swco_pool_t *pool = swco_pool_new(2, SWCO_POOL_IPC_MSGQUEUE, 0);
    ck_assert_ptr_nonnull(pool);
    swco_pool_on_worker_start(pool, record_start, NULL, NULL);
    swco_pool_on_message(pool, add_message, NULL, NULL);
    /* Messages pushed before the workers exist wait in the queue. */
    char buf[16];
    for (int i = 1; i <= 20; i++) {
        snprintf(buf, sizeof buf, "%d", i);
        ck_assert_int_eq(swco_pool_push(pool, buf, strlen(buf)), (long)strlen(buf));
    }
    pid_t m = start_manager(pool, 2);
    for (int i = 21; i <= 300; i++) {
        if (i == 100)
            ck_assert_int_eq(swco_pool_reload(pool), 0);
        snprintf(buf, sizeof buf, "%d", i);
        ck_assert_int_eq(swco_pool_push(pool, buf, strlen(buf)), (long)strlen(buf));
    }
    wait_count(handled, 300, 5);
    ck_assert(swco_atomic64_get(sum) == 300 * 301 / 2);
    wait_count(starts, 4, 5);
    ck_assert_int_eq(swco_pool_shutdown(pool), 0);
    ck_assert_int_eq(reap(m), 0);
    swco_pool_free(pool);
    shared_teardown();
}
END_TEST

/* ------------------------------------------------------- unix socket mode */

static void tagged_reply(swco_pool_t *pool, int id, const void *data, size_t len, void *arg)
{
    char buf[64];
    int n = snprintf(buf, sizeof buf, "w%d:%.*s", id, (int)len, (const char *)data);
    swco_atomic_add(handled, 1);
    swco_pool_reply(pool, buf, (size_t)n);
}

START_TEST(pool_unixsock_reload_loses_nothing)
{
    shared_setup();
    swco_pool_t *pool = swco_pool_new(2, SWCO_POOL_IPC_UNIXSOCK, 0);
    ck_assert_ptr_nonnull(pool);
    swco_pool_on_worker_start(pool, record_start, NULL, NULL);
    swco_pool_on_message(pool, tagged_reply, NULL, NULL);
    /* Sent before the workers exist: waits in the socket. */
    ck_assert_int_eq(swco_pool_send(pool, 1, "early", 5), 5);
    pid_t m = start_manager(pool, 2);
    char reply[64], want[64], msg[32];
    ck_assert_int_eq(swco_pool_recv(pool, 1, reply, sizeof reply - 1, 5), 8);
    ck_assert(memcmp(reply, "w1:early", 8) == 0);
    enum { N = 300 };
    for (int i = 0; i < N; i++) {
        int id = i % 2;
        if (i == 40)
            ck_assert_int_eq(swco_pool_reload(pool), 0);
        snprintf(msg, sizeof msg, "m%d", i);
        ck_assert_int_eq(swco_pool_send(pool, id, msg, strlen(msg)), (long)strlen(msg));
        long n = swco_pool_recv(pool, id, reply, sizeof reply - 1, 5);
        ck_assert_int_gt(n, 0);
        reply[n] = 0;
        snprintf(want, sizeof want, "w%d:%s", id, msg);
        ck_assert_str_eq(reply, want);
    }
    ck_assert_int_eq(swco_pool_recv(pool, 0, reply, sizeof reply, 0.02), -ETIMEDOUT);
    wait_count(starts, 4, 5);
    ck_assert_uint_eq(swco_atomic_get(handled), N + 1);
    ck_assert_int_eq(swco_pool_send(pool, 2, "x", 1), -EINVAL);
    ck_assert_int_eq(swco_pool_shutdown(pool), 0);
    ck_assert_int_eq(reap(m), 0);
    swco_pool_free(pool);
    shared_teardown();
}
END_TEST

/* ------------------------------------------------------ coroutine workers */

static int napping, apart;

static void co_nap(void *arg)
{
    napping++;
    swco_sleep(0.05);
    if (napping < 3)
        apart = 1; /* a nap ended before all had begun */
    swco_atomic_add(handled, 1);
}

static void co_main(void *arg)
{
    for (int i = 0; i < 3; i++)
        swco_coroutine_create(co_nap, NULL);
}

static void co_worker(swco_pool_t *pool, int id, void *arg)
{
    swco_run(co_main, NULL);
    swco_atomic64_set(sum, !apart ? 1 : -1); /* three naps ran together */
    record_start(pool, id, arg);
    while (!swco_pool_is_stopping(pool))
        usleep(5000);
}

START_TEST(pool_worker_runs_coroutines)
{
    shared_setup();
    swco_pool_t *pool = swco_pool_new(1, SWCO_POOL_IPC_NONE, 0);
    swco_pool_on_worker_start(pool, co_worker, NULL, NULL);
    pid_t m = start_manager(pool, 1);
    ck_assert_uint_eq(swco_atomic_get(handled), 3);
    ck_assert(swco_atomic64_get(sum) == 1);
    ck_assert_int_eq(swco_pool_shutdown(pool), 0);
    ck_assert_int_eq(reap(m), 0);
    swco_pool_free(pool);
    shared_teardown();
}
END_TEST

static int freed;
static void count_free(void *arg) { freed++; }
static void stubborn(swco_pool_t *pool, int id, void *arg)
{
    record_start(pool, id, arg);
    for (;;)
        pause();
}

START_TEST(pool_stubborn_worker_killed_after_max_wait)
{
    shared_setup();
    swco_pool_t *pool = swco_pool_new(1, SWCO_POOL_IPC_NONE, 0);
    swco_pool_on_worker_start(pool, stubborn, NULL, NULL);
    ck_assert_int_eq(swco_pool_set_max_wait(pool, 0.2), 0);
    pid_t m = start_manager(pool, 1);
    double t0 = now_s();
    swco_pool_shutdown(pool);
    ck_assert_int_eq(reap(m), 0);
    ck_assert(now_s() - t0 >= 0.15);
    ck_assert(now_s() - t0 < 10 * slow()); /* killed, not waited for */
    swco_pool_free(pool);
    shared_teardown();
}
END_TEST

START_TEST(pool_throttles_worker_that_keeps_exiting)
{
    shared_setup();
    swco_pool_t *pool = swco_pool_new(1, SWCO_POOL_IPC_NONE, 0);
    swco_pool_on_worker_start(pool, record_start, NULL, NULL); /* returns at once */
    swco_pool_on_worker_stop(pool, record_stop, NULL, NULL);
    pid_t m = start_manager(pool, 1);
    usleep(1000000);
    uint32_t n = swco_atomic_get(starts);
    /* Restarted again and again, but with a growing delay, not a fork storm:
     * 5 at once, then 50, 100, 200, 400 ms apart.  A loaded machine only
     * restarts fewer in the second, so the at-least waits for the count. */
    ck_assert_uint_le(n, 12);
    for (double t0 = now_s(); swco_atomic_get(starts) < 6 && now_s() - t0 < 30 * slow();)
        usleep(1000);
    n = swco_atomic_get(starts);
    ck_assert_uint_ge(n, 6);
    ck_assert_uint_ge(swco_atomic_get(stops), n - 1);
    ck_assert_int_eq(swco_pool_shutdown(pool), 0);
    ck_assert_int_eq(reap(m), 0);
    swco_pool_free(pool);
    shared_teardown();
}
END_TEST

START_TEST(pool_bad_input)
{
    ck_assert_ptr_null(swco_pool_new(0, SWCO_POOL_IPC_NONE, 0));
    ck_assert_int_eq(swco_last_error(), -EINVAL);
    ck_assert_ptr_null(swco_pool_new(2, 7, 0));
    swco_pool_t *pool = swco_pool_new(2, SWCO_POOL_IPC_NONE, 0);
    ck_assert_int_eq(swco_pool_listen(pool, "127.0.0.1", 0, 8), -EINVAL);
    ck_assert_int_eq(swco_pool_push(pool, "x", 1), -EINVAL);
    ck_assert_int_eq(swco_pool_reply(pool, "x", 1), -EINVAL);
    ck_assert_int_eq(swco_pool_worker_id(pool), SWCO_ENOTWORKER);
    ck_assert_int_eq(swco_pool_worker_pid(pool, 2), -EINVAL);
    ck_assert_int_eq(swco_pool_is_stopping(pool), 0);
    ck_assert_int_eq(swco_pool_reload(pool), -ESRCH);
    ck_assert_int_eq(swco_pool_set_max_wait(pool, 0), -EINVAL);
    freed = 0;
    swco_pool_on_worker_start(pool, idle_worker, NULL, count_free);
    swco_pool_on_worker_start(pool, idle_worker, NULL, count_free); /* replaces: frees the first */
    ck_assert_int_eq(freed, 1);
    swco_pool_free(pool);
    ck_assert_int_eq(freed, 2);

    pool = swco_pool_new(1, SWCO_POOL_IPC_SOCKET, 0);
    ck_assert_int_eq(swco_pool_listen(pool, "not-an-address", 0, 8), -EINVAL);
    swco_pool_on_message(pool, echo_message, NULL, NULL);
    ck_assert_int_eq(swco_pool_start(pool), -EINVAL); /* not listening */
    swco_pool_free(pool);
    pool = swco_pool_new(1, SWCO_POOL_IPC_MSGQUEUE, 0);
    ck_assert_int_eq(swco_pool_start(pool), -EINVAL); /* no message callback */
    ck_assert_int_eq(swco_pool_push(pool, "", 0), -EINVAL);
    swco_pool_free(pool);
}
END_TEST

/* --------------------------------------------- slow clients in socket mode */

/* A client-side safety limit on reads, so a starved test fails instead of
 * hanging. */
static void recv_limit(int fd, double seconds)
{
    struct timeval tv = {(time_t)seconds, (suseconds_t)((seconds - (time_t)seconds) * 1e6)};
    ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
}

/* Whether the server has closed fd (EOF or reset), without waiting. */
static int closed_by_peer(int fd)
{
    char c;
    ssize_t n = recv(fd, &c, 1, MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

static void request_limited(int port, const char *msg, char *reply, size_t cap)
{
    int fd = connect_to(port, NULL);
    recv_limit(fd, 5 * slow());
    send_frame(fd, msg);
    uint32_t be;
    ck_assert_int_eq(recv(fd, &be, 4, MSG_WAITALL), 4);
    uint32_t len = ntohl(be);
    ck_assert_uint_lt(len, cap);
    ck_assert_int_eq(recv(fd, reply, len, MSG_WAITALL), (ssize_t)len);
    reply[len] = 0;
    close(fd);
}

/* Two clients that connect and send nothing must not starve a 2-worker
 * pool: the third client is answered while both still hold their
 * connections open (the server has not closed them). */
START_TEST(pool_silent_clients_do_not_pin_workers)
{
    shared_setup();
    swco_pool_t *pool = swco_pool_new(2, SWCO_POOL_IPC_SOCKET, 0);
    ck_assert_int_eq(swco_pool_listen(pool, "127.0.0.1", 0, 128), 0);
    ck_assert_int_eq(swco_pool_set_message_timeout(pool, 60 * slow()), 0);
    int port = swco_pool_port(pool);
    swco_pool_on_worker_start(pool, record_start, NULL, NULL);
    swco_pool_on_message(pool, echo_message, NULL, NULL);
    pid_t m = start_manager(pool, 2);
    int silent[2];
    for (int i = 0; i < 2; i++)
        silent[i] = connect_to(port, NULL);
    char reply[64];
    request_limited(port, "real", reply, sizeof reply);
    ck_assert_str_eq(reply, "ok:real");
    /* Served while the silent ones were still there, not after a worker
     * gave up on one of them. */
    for (int i = 0; i < 2; i++)
        ck_assert_msg(!closed_by_peer(silent[i]), "silent client %d was dropped first", i);
    /* A silent client that finally speaks is served too. */
    send_frame(silent[0], "late");
    recv_limit(silent[0], 5 * slow());
    uint32_t be;
    ck_assert_int_eq(recv(silent[0], &be, 4, MSG_WAITALL), 4);
    ck_assert_uint_eq(ntohl(be), 7);
    ck_assert_int_eq(recv(silent[0], reply, 7, MSG_WAITALL), 7);
    ck_assert(memcmp(reply, "ok:late", 7) == 0);
    close(silent[0]);
    close(silent[1]);
    ck_assert_int_eq(swco_pool_shutdown(pool), 0);
    ck_assert_int_eq(reap(m), 0);
    ck_assert_uint_eq(swco_atomic_get(handled), 2);
    swco_pool_free(pool);
    shared_teardown();
}
END_TEST

/* A client that trickles its message one byte at a time holds no worker:
 * with a single worker, other clients are served while it trickles (in a
 * thread of its own); and it is cut off once the whole-message deadline
 * passes, though every byte came well within any per-read timeout. */
typedef struct trickle {
    int fd;
    double t0, cut_at, give_up;
    int cut;
} trickle_t;

static void *trickler(void *arg)
{
    trickle_t *t = arg;
    while (now_s() - t->t0 < t->give_up) {
        if (send(t->fd, "x", 1, MSG_NOSIGNAL) < 0 || closed_by_peer(t->fd)) {
            t->cut_at = now_s() - t->t0;
            t->cut = 1;
            break;
        }
        usleep(20000); /* the client's pace: a byte every 20 ms */
    }
    return NULL;
}

START_TEST(pool_trickling_client_cut_at_deadline)
{
    shared_setup();
    swco_pool_t *pool = swco_pool_new(1, SWCO_POOL_IPC_SOCKET, 0);
    ck_assert_int_eq(swco_pool_listen(pool, "127.0.0.1", 0, 128), 0);
    double limit = 1.0 * slow();
    ck_assert_int_eq(swco_pool_set_message_timeout(pool, limit), 0);
    int port = swco_pool_port(pool);
    swco_pool_on_worker_start(pool, record_start, NULL, NULL);
    swco_pool_on_message(pool, echo_message, NULL, NULL);
    pid_t m = start_manager(pool, 1);

    trickle_t t = {.t0 = now_s(), .give_up = 8 * slow()};
    t.fd = connect_to(port, NULL);
    uint32_t be = htonl(1000000); /* a message it will never finish */
    ck_assert_int_eq(write(t.fd, &be, 4), 4);
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, trickler, &t), 0);
    char reply[64];
    for (int i = 0; i < 3; i++) {
        request_limited(port, "real", reply, sizeof reply);
        ck_assert_str_eq(reply, "ok:real");
    }
    pthread_join(th, NULL);
    close(t.fd);
    ck_assert_msg(t.cut, "a trickling client was never cut off");
    ck_assert_msg(t.cut_at >= limit * 0.9, "cut after %.3f s, before the %.3f s deadline",
                  t.cut_at, limit);
    /* The pool goes on serving. */
    request_limited(port, "after", reply, sizeof reply);
    ck_assert_str_eq(reply, "ok:after");
    ck_assert_int_eq(swco_pool_shutdown(pool), 0);
    ck_assert_int_eq(reap(m), 0);
    ck_assert_uint_eq(swco_atomic_get(handled), 4); /* never the trickler's */
    swco_pool_free(pool);
    shared_teardown();
}
END_TEST

START_TEST(pool_message_timeout_bad_input)
{
    swco_pool_t *pool = swco_pool_new(1, SWCO_POOL_IPC_SOCKET, 0);
    ck_assert_int_eq(swco_pool_set_message_timeout(NULL, 1), -EINVAL);
    ck_assert_int_eq(swco_pool_set_message_timeout(pool, 0), -EINVAL);
    ck_assert_int_eq(swco_pool_set_message_timeout(pool, -1), -EINVAL);
    ck_assert_int_eq(swco_pool_set_message_timeout(pool, 0.0 / 0.0), -EINVAL);
    ck_assert_int_eq(swco_pool_set_message_timeout(pool, 1e300), -EINVAL);
    ck_assert_int_eq(swco_pool_set_message_timeout(pool, 2.5), 0);
    swco_pool_free(pool);
}
END_TEST

/* ------------------------------------------------- workers on the event loop */

/* How many times pid has gone to sleep (its voluntary context switches,
 * from /proc): a process that polls with a timeout sleeps once per tick. */
static long sleeps_of(int pid)
{
    char path[64], line[128];
    long v = -1;
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "voluntary_ctxt_switches: %ld", &v) == 1)
            break;
    fclose(f);
    return v;
}

/* Wait (a safety net only) until pid is asleep: its state is S. */
static void wait_asleep(int pid)
{
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    for (double t0 = now_s(); now_s() - t0 < 30 * slow(); usleep(1000)) {
        FILE *f = fopen(path, "r");
        ck_assert_ptr_nonnull(f);
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = 0;
        char *end = strrchr(buf, ')'); /* "pid (comm) S ..." */
        if (end && end[1] == ' ' && end[2] == 'S')
            return;
    }
    ck_abort_msg("process %d never went to sleep", pid);
}

static swco_atomic64_t *stop_sleeps[2]; /* each worker's sleeps at its stop callback */

static void record_stop_sleeps(swco_pool_t *pool, int id, void *arg)
{
    /* lock-free: a lock two stopping workers contend for could sleep */
    swco_atomic64_set(stop_sleeps[id], sleeps_of(getpid()));
    swco_atomic_add(stops, 1);
}

/* An idle pool sleeps in its event loops: across an idle window the
 * manager and the workers never wake (the old loops woke every 100 ms and
 * every second).  Then a shutdown wakes each idle worker once, straight into
 * its stop callback: it sleeps nowhere on the way (no tick, no reminder from
 * the manager is waited for). */
START_TEST(pool_idle_pool_sleeps_until_an_event)
{
    shared_setup();
    for (int i = 0; i < 2; i++)
        stop_sleeps[i] = swco_atomic64_new(-1);
    swco_pool_t *pool = swco_pool_new(2, SWCO_POOL_IPC_UNIXSOCK, 0);
    swco_pool_on_worker_start(pool, record_start, NULL, NULL);
    swco_pool_on_worker_stop(pool, record_stop_sleeps, NULL, NULL);
    swco_pool_on_message(pool, tagged_reply, NULL, NULL);
    pid_t m = start_manager(pool, 2);
    char reply[64];
    for (int id = 0; id < 2; id++) {
        ck_assert_int_eq(swco_pool_send(pool, id, "hi", 2), 2);
        ck_assert_int_eq(swco_pool_recv(pool, id, reply, sizeof reply, 10 * slow()), 5);
    }
    int pids[3] = {m, swco_pool_worker_pid(pool, 0), swco_pool_worker_pid(pool, 1)};
    long before[3], after[3];
    for (int i = 0; i < 3; i++) {
        wait_asleep(pids[i]);
        before[i] = sleeps_of(pids[i]);
        ck_assert_int_ge(before[i], 0);
    }
    /* The idle window: longer than the manager's old 1 s tick. */
    ck_assert_int_eq(swco_pool_recv(pool, 0, reply, sizeof reply, 1.5), -ETIMEDOUT);
    for (int i = 0; i < 3; i++) {
        after[i] = sleeps_of(pids[i]);
        ck_assert_msg(after[i] == before[i], "%s woke %ld times while idle",
                      i ? "a worker" : "the manager", after[i] - before[i]);
    }
    ck_assert_int_eq(swco_pool_shutdown(pool), 0);
    ck_assert_int_eq(reap(m), 0);
    ck_assert_uint_eq(swco_atomic_get(stops), 2);
    for (int id = 0; id < 2; id++)
        ck_assert_msg(swco_atomic64_get(stop_sleeps[id]) == after[1 + id],
                      "worker %d slept %ld times between the stop and its callback", id,
                      (long)(swco_atomic64_get(stop_sleeps[id]) - after[1 + id]));
    swco_pool_free(pool);
    for (int i = 0; i < 2; i++)
        swco_atomic64_free(stop_sleeps[i]);
    shared_teardown();
}
END_TEST

/* A coroutine a message callback started goes on while the worker waits
 * for its next message: the worker turns its event loop between messages.
 * (Before, the worker polled its socket and the coroutine never resumed.) */
static void co_after_message(void *arg)
{
    swco_sleep(0.001);
    swco_atomic_add(handled, 1);
}

static void start_coroutine(swco_pool_t *pool, int id, const void *data, size_t len, void *arg)
{
    ck_assert_int_gt(swco_coroutine_create(co_after_message, NULL), 0);
    swco_pool_reply(pool, "started", 7);
}

START_TEST(pool_worker_loop_runs_callback_coroutines)
{
    shared_setup();
    swco_pool_t *pool = swco_pool_new(1, SWCO_POOL_IPC_UNIXSOCK, 0);
    swco_pool_on_worker_start(pool, record_start, NULL, NULL);
    swco_pool_on_message(pool, start_coroutine, NULL, NULL);
    pid_t m = start_manager(pool, 1);
    char reply[16];
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(swco_pool_send(pool, 0, "go", 2), 2);
        ck_assert_int_eq(swco_pool_recv(pool, 0, reply, sizeof reply, 10 * slow()), 7);
    }
    /* No further message comes: the worker is idle in its loop. */
    wait_count(handled, 3, 1);
    ck_assert_int_eq(swco_pool_shutdown(pool), 0);
    ck_assert_int_eq(reap(m), 0);
    swco_pool_free(pool);
    shared_teardown();
}
END_TEST

/* A message sent to an idle worker wakes it at once: the worker goes from
 * asleep to its callback without sleeping in between. */
static swco_atomic64_t *cb_sleeps;

static void record_cb_sleeps(swco_pool_t *pool, int id, const void *data, size_t len, void *arg)
{
    swco_atomic64_set(cb_sleeps, sleeps_of(getpid()));
    swco_pool_reply(pool, data, len);
}

START_TEST(pool_message_wakes_idle_worker_at_once)
{
    shared_setup();
    cb_sleeps = swco_atomic64_new(-1);
    swco_pool_t *pool = swco_pool_new(1, SWCO_POOL_IPC_UNIXSOCK, 0);
    swco_pool_on_worker_start(pool, record_start, NULL, NULL);
    swco_pool_on_message(pool, record_cb_sleeps, NULL, NULL);
    pid_t m = start_manager(pool, 1);
    int w = swco_pool_worker_pid(pool, 0);
    char reply[16];
    for (int i = 0; i < 5; i++) {
        wait_asleep(w);
        long before = sleeps_of(w);
        ck_assert_int_eq(swco_pool_send(pool, 0, "x", 1), 1);
        ck_assert_int_eq(swco_pool_recv(pool, 0, reply, sizeof reply, 10 * slow()), 1);
        ck_assert_msg(swco_atomic64_get(cb_sleeps) == before,
                      "the worker slept %ld more times before its callback",
                      (long)(swco_atomic64_get(cb_sleeps) - before));
    }
    ck_assert_int_eq(swco_pool_shutdown(pool), 0);
    ck_assert_int_eq(reap(m), 0);
    swco_pool_free(pool);
    swco_atomic64_free(cb_sleeps);
    shared_teardown();
}
END_TEST

/* A message callback may run its own loop with swco_run() while the next
 * message arrives: the worker's own registrations neither stop that loop
 * nor keep it alive, and the next message is still handled after it. */
static swco_atomic_t *inside, *second_sent;

static void co_wait_second(void *arg)
{
    /* runs on the callback's own loop until the second message is sent */
    swco_atomic_set(inside, 1);
    for (double t0 = now_s(); !swco_atomic_get(second_sent) && now_s() - t0 < 30 * slow();)
        swco_sleep(0.001);
    swco_sleep(0.005); /* a few more turns with it waiting in the socket */
    swco_atomic_add(handled, 1);
}

static void run_own_loop(swco_pool_t *pool, int id, const void *data, size_t len, void *arg)
{
    int rc = 0;
    if (len == 5 && memcmp(data, "first", 5) == 0)
        rc = swco_run(co_wait_second, NULL);
    swco_pool_reply(pool, rc == 0 ? "ok" : "no", 2);
}

START_TEST(pool_callback_runs_own_loop_while_messages_arrive)
{
    shared_setup();
    inside = swco_atomic_new(0);
    second_sent = swco_atomic_new(0);
    swco_pool_t *pool = swco_pool_new(1, SWCO_POOL_IPC_UNIXSOCK, 0);
    swco_pool_on_worker_start(pool, record_start, NULL, NULL);
    swco_pool_on_message(pool, run_own_loop, NULL, NULL);
    pid_t m = start_manager(pool, 1);
    ck_assert_int_eq(swco_pool_send(pool, 0, "first", 5), 5);
    for (double t0 = now_s(); !swco_atomic_get(inside) && now_s() - t0 < 30 * slow();)
        usleep(1000);
    ck_assert_int_eq(swco_pool_send(pool, 0, "second", 6), 6);
    swco_atomic_set(second_sent, 1);
    char reply[8];
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(swco_pool_recv(pool, 0, reply, sizeof reply, 10 * slow()), 2);
        ck_assert(memcmp(reply, "ok", 2) == 0);
    }
    ck_assert_uint_eq(swco_atomic_get(handled), 1);
    /* and again, with the loop the callback released gone */
    ck_assert_int_eq(swco_pool_send(pool, 0, "third", 5), 5);
    ck_assert_int_eq(swco_pool_recv(pool, 0, reply, sizeof reply, 10 * slow()), 2);
    ck_assert_int_eq(swco_pool_shutdown(pool), 0);
    ck_assert_int_eq(reap(m), 0);
    swco_pool_free(pool);
    swco_atomic_free(inside);
    swco_atomic_free(second_sent);
    shared_teardown();
}
END_TEST

/* ---- issue 11: worker id only in a worker */

static void id_worker(swco_pool_t *pool, int id, void *arg)
{
    /* handled = the id the worker reads + 1, sum = the callback's id + 1 */
    swco_atomic_set(handled, (uint32_t)(swco_pool_worker_id(pool) + 1));
    swco_atomic64_set(sum, id + 1);
    idle_worker(pool, id, arg);
}

START_TEST(pool_worker_id_only_in_workers)
{
    shared_setup();
    swco_pool_t *pool = swco_pool_new(1, SWCO_POOL_IPC_NONE, 0);
    ck_assert_ptr_nonnull(pool);
    swco_pool_on_worker_start(pool, id_worker, NULL, NULL);
    ck_assert_int_eq(swco_pool_worker_id(pool), SWCO_ENOTWORKER); /* not started */
    pid_t m = fork();
    ck_assert_int_ge(m, 0);
    if (m == 0) {
        int rc = swco_pool_start(pool);
        /* Back in the manager after the workers exited: not a worker. */
        _exit(rc == 0 && swco_pool_worker_id(pool) == SWCO_ENOTWORKER ? 0 : 1);
    }
    wait_count(starts, 1, 0);
    ck_assert_uint_eq(swco_atomic_get(handled), 1); /* worker 0 */
    ck_assert(swco_atomic64_get(sum) == 1);
    ck_assert_int_eq(swco_pool_shutdown(pool), 0);
    ck_assert_int_eq(reap(m), 0);
    swco_pool_free(pool);
    shared_teardown();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pool");
    TCase *tc = tcase_create("pool");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, pool_restarts_killed_worker_same_id);
    tcase_add_test(tc, pool_socket_reload_loses_nothing);
    tcase_add_test(tc, pool_sigterm_finishes_current_message);
    tcase_add_test(tc, pool_message_queue);
    tcase_add_test(tc, pool_unixsock_reload_loses_nothing);
    tcase_add_test(tc, pool_worker_runs_coroutines);
    tcase_add_test(tc, pool_stubborn_worker_killed_after_max_wait);
    tcase_add_test(tc, pool_throttles_worker_that_keeps_exiting);
    tcase_add_test(tc, pool_bad_input);
    tcase_add_test(tc, pool_silent_clients_do_not_pin_workers);
    tcase_add_test(tc, pool_trickling_client_cut_at_deadline);
    tcase_add_test(tc, pool_message_timeout_bad_input);
    tcase_add_test(tc, pool_idle_pool_sleeps_until_an_event);
    tcase_add_test(tc, pool_worker_loop_runs_callback_coroutines);
    tcase_add_test(tc, pool_message_wakes_idle_worker_at_once);
    tcase_add_test(tc, pool_callback_runs_own_loop_while_messages_arrive);
    tcase_add_test(tc, pool_worker_id_only_in_workers);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
