/* libswco_hook: unmodified blocking calls yield inside coroutines when the
 * hooks are on, and are plain libc everywhere else.  Real blocking client
 * libraries (hiredis, libpq, libcurl's easy API) run from many coroutines
 * at once against servers the tests start. */
#include "testutil.h"
#include "httpd.h"

#include <hiredis.h>
#include <libpq-fe.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <swco/curl.h>
#include <swco/hook.h>


/* Coroutine bodies. */
#define CO_FN(name) static void name(void *arg)

static void setup(void) { swco_hook_enable(SWCO_HOOK_ALL); }
static void teardown(void) { swco_hook_disable(); }

/* --------------------------------------------------------------- sleep */

static int slept, sleeping, sleepers, serial;

/* serial: a sleep ended before every sleeper had begun (they did not all
 * sleep at the same time) */
CO_FN(sleeper)
{
    sleeping++;
    if (arg)
        usleep(100000);
    else
        ck_assert_uint_eq(sleep(1), 0);
    if (sleeping < sleepers)
        serial = 1;
    slept++;
}

CO_FN(spawn_sleepers)
{
    int n = *(int *)arg;
    sleeping = serial = 0;
    sleepers = n;
    for (int i = 0; i < n; i++)
        swco_coroutine_create(sleeper, n < 10 ? (void *)1 : NULL);
}

START_TEST(sleep_1000_coroutines)
{
    int n = 1000;
    slept = 0;
    double t0 = now_s();
    ck_assert_int_eq(swco_run(spawn_sleepers, &n), 0);
    double dt = now_s() - t0;
    ck_assert_int_eq(slept, 1000);
    fprintf(stderr, "sleep: 1000 x sleep(1) in %.3f s\n", dt);
    ck_assert_msg(dt > 0.95, "1000 x sleep(1) took %.3f s", dt);
    ck_assert_msg(!serial, "the 1000 sleeps did not overlap");
}
END_TEST

START_TEST(disabled_is_plain_libc)
{
    swco_hook_disable();
    ck_assert_int_eq(swco_hook_get_flags(), 0);
    int n = 3;
    slept = 0;
    double t0 = now_s();
    ck_assert_int_eq(swco_run(spawn_sleepers, &n), 0);
    double dt = now_s() - t0;
    ck_assert_int_eq(slept, 3);
    ck_assert_msg(dt > 0.29, "3 x usleep(0.1 s) unhooked took %.3f s", dt);
    ck_assert(serial);
    /* Hooks on, SLEEP off: still the sum. */
    swco_hook_enable(SWCO_HOOK_ALL & ~SWCO_HOOK_SLEEP);
    t0 = now_s();
    ck_assert_int_eq(swco_run(spawn_sleepers, &n), 0);
    ck_assert_double_gt(now_s() - t0, 0.29);
    ck_assert(serial);
    /* Hooks on: concurrent. */
    swco_hook_enable(SWCO_HOOK_SLEEP);
    ck_assert_int_eq(swco_run(spawn_sleepers, &n), 0);
    ck_assert_int_eq(slept, 9);
    ck_assert(!serial);
    ck_assert_int_eq(swco_hook_enable(0x1000), -EINVAL);
}
END_TEST

static void *thread_sleep(void *arg)
{
    double t0 = now_s();
    struct timespec ts = {0, 50000000};
    nanosleep(&ts, NULL); /* another thread, no coroutine: plain */
    *(double *)arg = now_s() - t0;
    return NULL;
}

START_TEST(outside_coroutines_plain)
{
    double t0 = now_s();
    usleep(50000);
    ck_assert_double_ge(now_s() - t0, 0.049);
    double dt = 0;
    pthread_t t;
    pthread_create(&t, NULL, thread_sleep, &dt);
    pthread_join(t, NULL);
    ck_assert_double_ge(dt, 0.049);
}
END_TEST

/* ------------------------------------------------------------ sockets */

static int sp[2];
static int ticks;
static char got[64];

CO_FN(ticker)
{
    for (int i = 0; i < 5; i++) {
        swco_sleep(0.01);
        ticks++;
    }
}

/* writes once the ticker is done: the reader must let it run first */
CO_FN(late_writer)
{
    while (ticks < 5)
        swco_sleep(0.005);
    ck_assert_int_eq(write(sp[1], "ping", 4), 4);
}

CO_FN(blocking_read_main)
{
    ticks = 0;
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
    swco_coroutine_create(ticker, NULL);
    swco_coroutine_create(late_writer, NULL);
    memset(got, 0, sizeof got);
    ssize_t n = read(sp[0], got, sizeof got); /* blocking fd: yields */
    ck_assert_int_eq(n, 4);
    ck_assert_str_eq(got, "ping");
    ck_assert_int_eq(ticks, 5); /* others ran while it waited */
    /* still blocking for the caller */
    ck_assert_int_eq(fcntl(sp[0], F_GETFL) & O_NONBLOCK, 0);

    /* SO_RCVTIMEO is the wait limit; expiry gives EAGAIN. */
    struct timeval tv = {0, 100000};
    setsockopt(sp[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    double t0 = now_s();
    errno = 0;
    ck_assert_int_eq(recv(sp[0], got, sizeof got, 0), -1);
    ck_assert_int_eq(errno, EAGAIN);
    ck_assert_double_ge(now_s() - t0, 0.09);

    /* O_NONBLOCK set by the caller: EAGAIN at once (without a receive
     * timeout, a read that waited would wait for ever). */
    tv.tv_usec = 0;
    setsockopt(sp[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    fcntl(sp[0], F_SETFL, O_NONBLOCK);
    ck_assert_int_eq(read(sp[0], got, sizeof got), -1);
    ck_assert_int_eq(errno, EAGAIN);
    close(sp[0]);
    close(sp[1]);
}

START_TEST(blocking_read_yields)
{
    ck_assert_int_eq(swco_run(blocking_read_main, NULL), 0);
}
END_TEST

START_TEST(unix_flag_off_blocks)
{
    swco_hook_enable(SWCO_HOOK_ALL & ~SWCO_HOOK_UNIX);
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
    struct timeval tv = {0, 100000};
    setsockopt(sp[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ticks = 0;
    swco_coroutine_create(ticker, NULL);
    /* the thread blocks 0.1 s in the kernel: the ticker cannot run */
    ck_assert_int_eq(read(sp[0], got, sizeof got), -1);
    ck_assert_int_eq(ticks, 0);
    ck_assert_int_eq(swco_event_wait(), 0);
    ck_assert_int_eq(ticks, 5);
    close(sp[0]);
    close(sp[1]);
}
END_TEST

/* A blocking TCP echo between coroutines of one thread: only possible when
 * accept, connect, read and write yield. */
static int lport;
static int lfd;

CO_FN(echo_server)
{
    int c = accept(lfd, NULL, NULL);
    ck_assert_int_ge(c, 0);
    char buf[70000];
    size_t total = 0;
    for (;;) {
        ssize_t n = read(c, buf, sizeof buf);
        if (n <= 0)
            break;
        ck_assert_int_eq(write(c, buf, (size_t)n), n);
        total += (size_t)n;
    }
    close(c);
}

/* writer coroutine so that the main one can read concurrently */
struct wr {
    int fd;
    struct iovec *v;
};

CO_FN(writer)
{
    struct wr *x = arg;
    ck_assert_int_eq(writev(x->fd, x->v, 2), (ssize_t)(1 << 20));
    shutdown(x->fd, SHUT_WR);
}

CO_FN(tcp_main)
{
    lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ck_assert_int_eq(bind(lfd, (struct sockaddr *)&a, sizeof a), 0);
    ck_assert_int_eq(listen(lfd, 16), 0);
    socklen_t len = sizeof a;
    getsockname(lfd, (struct sockaddr *)&a, &len);
    lport = ntohs(a.sin_port);
    swco_coroutine_create(echo_server, NULL); /* waits in accept */
    int c = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_eq(connect(c, (struct sockaddr *)&a, sizeof a), 0);
    /* a big write: the echo fills both directions, so it must interleave */
    static char big[1 << 20], back[1 << 20];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)(i * 7);
    struct iovec v[2] = {{big, 1000}, {big + 1000, sizeof big - 1000}};
    struct wr w = {c, v};
    swco_coroutine_create(writer, &w);
    size_t have = 0;
    while (have < sizeof back) {
        struct msghdr m = {0};
        struct iovec iv = {back + have, sizeof back - have};
        m.msg_iov = &iv;
        m.msg_iovlen = 1;
        ssize_t n = recvmsg(c, &m, 0);
        ck_assert_int_gt(n, 0);
        have += (size_t)n;
    }
    ck_assert_int_eq(memcmp(big, back, sizeof big), 0);
    ck_assert_int_eq(read(c, back, 10), 0);
    close(c);
    close(lfd);
}

START_TEST(tcp_echo_in_one_thread)
{
    ck_assert_int_eq(swco_run(tcp_main, NULL), 0);
}
END_TEST

CO_FN(udp_peer)
{
    int u = *(int *)arg;
    char buf[64];
    struct sockaddr_in from;
    socklen_t flen = sizeof from;
    ssize_t n = recvfrom(u, buf, sizeof buf, 0, (struct sockaddr *)&from, &flen);
    ck_assert_int_eq(n, 5);
    ck_assert_int_eq(sendto(u, buf, (size_t)n, 0, (struct sockaddr *)&from, flen), 5);
}

CO_FN(udp_main)
{
    int s1 = socket(AF_INET, SOCK_DGRAM, 0), s2 = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(s1, (struct sockaddr *)&a, sizeof a);
    socklen_t len = sizeof a;
    getsockname(s1, (struct sockaddr *)&a, &len);
    swco_coroutine_create(udp_peer, &s1); /* waits in recvfrom */
    ck_assert_int_eq(sendto(s2, "hello", 5, 0, (struct sockaddr *)&a, len), 5);
    char buf[16] = {0};
    ck_assert_int_eq(recv(s2, buf, sizeof buf, 0), 5);
    ck_assert_str_eq(buf, "hello");
    close(s1);
    close(s2);
}

START_TEST(udp_roundtrip)
{
    ck_assert_int_eq(swco_run(udp_main, NULL), 0);
}
END_TEST

CO_FN(poll_main)
{
    int a[2], b[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, a);
    socketpair(AF_UNIX, SOCK_STREAM, 0, b);
    ticks = 0;
    swco_coroutine_create(ticker, NULL);
    struct pollfd p[2] = {{a[0], POLLIN, 0}, {b[0], POLLIN, 0}};
    double t0 = now_s();
    ck_assert_int_eq(poll(p, 2, 100), 0); /* timeout, yielding */
    ck_assert_double_ge(now_s() - t0, 0.09);
    ck_assert_int_ge(ticks, 1); /* the ticker (due first) ran meanwhile */
    sp[1] = b[1];
    swco_coroutine_create(late_writer, NULL);
    ck_assert_int_eq(poll(p, 2, (int)(30000 * slow())), 1);
    ck_assert_int_eq(p[0].revents, 0);
    ck_assert_int_eq(p[1].revents, POLLIN);
    struct pollfd one = {a[0], POLLIN, 0};
    ck_assert_int_eq(poll(&one, 1, 50), 0);
    close(a[0]);
    close(a[1]);
    close(b[0]);
    close(b[1]);
}

START_TEST(poll_yields)
{
    ck_assert_int_eq(swco_run(poll_main, NULL), 0);
}
END_TEST

static int resolved;

CO_FN(resolver)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    int rc = getaddrinfo("localhost", "80", &hints, &res);
    if (rc == 0 && res) {
        resolved++;
        freeaddrinfo(res);
    }
}

CO_FN(dns_main)
{
    for (int i = 0; i < 20; i++)
        swco_coroutine_create(resolver, NULL);
}

START_TEST(getaddrinfo_in_coroutines)
{
    resolved = 0;
    ck_assert_int_eq(swco_run(dns_main, NULL), 0);
    ck_assert_int_eq(resolved, 20);
}
END_TEST


/* -------------------------------------------------------------- files */

static int fast_ticks;

CO_FN(fast_ticker)
{
    while (*(int *)arg) {
        swco_sleep(0.001);
        fast_ticks++;
    }
}

/* Write and read back 32 MB in 1 MB calls; returns the ticks another
 * coroutine made meanwhile. */
CO_FN(file_main)
{
    int *ticks_seen = arg;
    char path[] = "/tmp/swco-hook-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    unlink(path);
    static char chunk[1 << 20], back[1 << 20];
    for (size_t i = 0; i < sizeof chunk; i++)
        chunk[i] = (char)(i * 31);
    int run = 1;
    fast_ticks = 0;
    swco_coroutine_create(fast_ticker, &run);
    int t0 = fast_ticks;
    for (int i = 0; i < 32; i++) {
        struct iovec v[2] = {{chunk, 100}, {chunk + 100, sizeof chunk - 100}};
        ck_assert_int_eq(i % 2 ? writev(fd, v, 2) : write(fd, chunk, sizeof chunk), sizeof chunk);
    }
    ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
    for (int i = 0; i < 32; i++) {
        ck_assert_int_eq(read(fd, back, sizeof back), sizeof back);
        ck_assert_int_eq(memcmp(chunk, back, sizeof back), 0);
    }
    *ticks_seen = fast_ticks - t0;
    run = 0;
    close(fd);
    swco_sleep(0.005);
}

START_TEST(file_io_on_helper_thread)
{
    int with_file = -1, without_file = -1;
    ck_assert_int_eq(swco_run(file_main, &with_file), 0);
    swco_hook_enable(SWCO_HOOK_ALL & ~SWCO_HOOK_FILE);
    ck_assert_int_eq(swco_run(file_main, &without_file), 0);
    ck_assert_int_eq(without_file, 0); /* plain calls: nobody else ran */
    ck_assert_msg(with_file > 0, "no other coroutine ran during hooked file I/O");
}
END_TEST

/* ---------------------------------------------------- real peers */

static pid_t spawn(char *const argv[], int quiet)
{
    pid_t pid = fork();
    if (pid == 0) {
        if (quiet) {
            int dn = open("/dev/null", O_WRONLY);
            dup2(dn, 1);
            dup2(dn, 2);
        }
        execvp(argv[0], argv);
        _exit(127);
    }
    return pid;
}

static int run(char *const argv[])
{
    pid_t pid = spawn(argv, 1);
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int can_connect(int port)
{
    int c = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int ok = connect(c, (struct sockaddr *)&a, sizeof a) == 0;
    close(c);
    return ok;
}

static int free_port(void)
{
    int p;
    int fd = tcp_listen_any(&p);
    close(fd);
    return p;
}

static int redis_port;
static int redis_ok, redis_in;

CO_FN(redis_client)
{
    long i = (long)arg;
    redisContext *c = redisConnect("127.0.0.1", redis_port);
    if (!c || c->err) {
        fprintf(stderr, "redis connect: %s\n", c ? c->errstr : "?");
        if (c)
            redisFree(c);
        return;
    }
    /* BLPOP blocks on the server until redis_gate pushes, which it does
     * once all 100 are in: they overlap only if each client's blocking read
     * yields (else the first waits out its 60 s and gets nil). */
    redis_in++;
    redisReply *r = redisCommand(c, "BLPOP swco:gate:%d 60", (int)getpid());
    if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2)
        redis_ok++;
    if (r)
        freeReplyObject(r);
    r = redisCommand(c, "SET swco:k%ld v%ld", i, i);
    if (!r || r->type != REDIS_REPLY_STATUS)
        redis_ok -= 1000;
    if (r)
        freeReplyObject(r);
    redisFree(c);
}

CO_FN(redis_gate)
{
    while (redis_in < 100)
        swco_sleep(0.01);
    redisContext *c = redisConnect("127.0.0.1", redis_port);
    ck_assert(c && !c->err);
    const char *argv[102] = {"RPUSH"};
    char key[64];
    snprintf(key, sizeof key, "swco:gate:%d", (int)getpid());
    argv[1] = key;
    for (int i = 0; i < 100; i++)
        argv[2 + i] = "x";
    redisReply *r = redisCommandArgv(c, 102, argv, NULL);
    ck_assert(r && r->type == REDIS_REPLY_INTEGER);
    freeReplyObject(r);
    redisFree(c);
}

CO_FN(redis_main)
{
    redis_in = 0;
    swco_coroutine_create(redis_gate, NULL);
    for (long i = 0; i < 100; i++)
        swco_coroutine_create(redis_client, (void *)i);
}

START_TEST(hiredis_100_coroutines)
{
    redis_port = free_port();
    char port[16];
    snprintf(port, sizeof port, "%d", redis_port);
    char *argv[] = {"redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "",
                    "--appendonly", "no", "--dir", "/tmp", NULL};
    pid_t pid = spawn(argv, 1);
    int up = 0;
    for (int i = 0; i < 1500 * slow() && !up; i++) { /* 30 s and more */
        if (waitpid(pid, NULL, WNOHANG) == pid)
            break;
        up = can_connect(redis_port);
        if (!up)
            usleep(20000);
    }
    if (!up) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        ck_abort_msg("redis-server did not start (is it installed?)");
    }
    redis_ok = 0;
    double t0 = now_s();
    int rc = swco_run(redis_main, NULL);
    double dt = now_s() - t0;
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    ck_assert_int_eq(rc, 0);
    ck_assert_int_eq(redis_ok, 100);
    fprintf(stderr, "hiredis: 100 x BLPOP meeting at a push in %.3f s\n", dt);
}
END_TEST

/* PostgreSQL: initdb + pg_ctl under the postgres user when run as root. */
static char pg_dir[64];
static int pg_port;
static pid_t pg_pid;

static int pg_cmd(char *const argv[])
{
    if (geteuid() != 0)
        return run(argv);
    char *full[32] = {"runuser", "-u", "postgres", "--"};
    int i = 0;
    while (argv[i] && i < 27) {
        full[4 + i] = argv[i];
        i++;
    }
    full[4 + i] = NULL;
    return run(full);
}

static void pg_start(void)
{
    snprintf(pg_dir, sizeof pg_dir, "/tmp/swco-pg-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(pg_dir));
    if (geteuid() == 0) {
        struct passwd *pw = getpwnam("postgres");
        ck_assert_msg(pw != NULL, "no postgres user (is postgresql installed?)");
        ck_assert_int_eq(chown(pg_dir, pw->pw_uid, pw->pw_gid), 0);
    }
    char data[128], log[128], opts[256], bin[64] = "initdb", ctl[64] = "pg_ctl";
    /* Debian keeps them out of PATH */
    struct stat st;
    if (stat("/usr/lib/postgresql/15/bin/initdb", &st) == 0) {
        snprintf(bin, sizeof bin, "/usr/lib/postgresql/15/bin/initdb");
        snprintf(ctl, sizeof ctl, "/usr/lib/postgresql/15/bin/pg_ctl");
    }
    snprintf(data, sizeof data, "%s/data", pg_dir);
    snprintf(log, sizeof log, "%s/log", pg_dir);
    pg_port = free_port();
    snprintf(opts, sizeof opts,
             "-p %d -k %s -c listen_addresses=127.0.0.1 -c max_connections=150 -c fsync=off "
             "-c shared_buffers=16MB",
             pg_port, pg_dir);
    char *init[] = {bin, "-D", data, "-A", "trust", "-U", "postgres", "--no-sync", NULL};
    ck_assert_msg(pg_cmd(init) == 0, "initdb failed (is postgresql installed?)");
    char *start[] = {ctl, "-D", data, "-l", log, "-o", opts, "-w", "start", NULL};
    ck_assert_msg(pg_cmd(start) == 0, "pg_ctl start failed");
    char pidfile[160];
    snprintf(pidfile, sizeof pidfile, "%s/postmaster.pid", data);
    FILE *f = fopen(pidfile, "r");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fscanf(f, "%d", &pg_pid), 1);
    fclose(f);
}

static void pg_stop(void)
{
    if (pg_pid > 0) {
        kill(pg_pid, SIGQUIT); /* immediate shutdown of the postmaster we started */
        for (int i = 0; i < 500 && kill(pg_pid, 0) == 0; i++)
            usleep(10000);
        pg_pid = 0;
    }
    char *rm[] = {"rm", "-rf", pg_dir, NULL};
    run(rm);
}

static int pg_ok;
static PGconn *pg_conns[100];

CO_FN(pg_connect)
{
    long i = (long)arg;
    char conninfo[128];
    snprintf(conninfo, sizeof conninfo, "host=127.0.0.1 port=%d user=postgres dbname=postgres",
             pg_port);
    pg_conns[i] = PQconnectdb(conninfo);
    if (PQstatus(pg_conns[i]) != CONNECTION_OK)
        fprintf(stderr, "pg connect: %s", PQerrorMessage(pg_conns[i]));
}

/* Each query waits for an advisory lock the test holds on another
 * connection (pg_holder) until all 100 are waiting for it: they overlap
 * only if each PQexec yields. */
static PGconn *pg_holder;

CO_FN(pg_gate)
{
    for (double t0 = now_s(); now_s() - t0 < 25 * slow();) {
        PGresult *r = PQexec(pg_holder, "SELECT count(*) FROM pg_locks WHERE "
                                        "locktype = 'advisory' AND NOT granted");
        int waiting = PQresultStatus(r) == PGRES_TUPLES_OK ? atoi(PQgetvalue(r, 0, 0)) : -1;
        PQclear(r);
        if (waiting == 100)
            break;
        swco_sleep(0.01);
    }
    PQclear(PQexec(pg_holder, "SELECT pg_advisory_unlock(4242)"));
}

CO_FN(pg_query)
{
    long i = (long)arg;
    PGresult *r = PQexec(pg_conns[i], "SELECT pg_advisory_lock_shared(4242), 42");
    if (PQresultStatus(r) == PGRES_TUPLES_OK && strcmp(PQgetvalue(r, 0, 1), "42") == 0)
        pg_ok++;
    else
        fprintf(stderr, "pg query: %s", PQerrorMessage(pg_conns[i]));
    PQclear(r);
}

CO_FN(pg_spawn)
{
    for (long i = 0; i < 100; i++)
        swco_coroutine_create((swco_fn)arg, (void *)i);
}

CO_FN(pg_gated_spawn)
{
    swco_coroutine_create(pg_gate, NULL);
    pg_spawn(arg);
}

START_TEST(libpq_100_coroutines)
{
    pg_start();
    ck_assert_int_eq(swco_run(pg_spawn, pg_connect), 0);
    char conninfo[128];
    snprintf(conninfo, sizeof conninfo, "host=127.0.0.1 port=%d user=postgres dbname=postgres",
             pg_port);
    pg_holder = PQconnectdb(conninfo); /* outside a coroutine: plain */
    ck_assert_int_eq(PQstatus(pg_holder), CONNECTION_OK);
    PQclear(PQexec(pg_holder, "SELECT pg_advisory_lock(4242)"));
    pg_ok = 0;
    double t0 = now_s();
    ck_assert_int_eq(swco_run(pg_gated_spawn, pg_query), 0);
    double dt = now_s() - t0;
    PQfinish(pg_holder);
    for (int i = 0; i < 100; i++)
        PQfinish(pg_conns[i]);
    pg_stop();
    ck_assert_int_eq(pg_ok, 100);
    fprintf(stderr, "libpq: 100 queries meeting at a lock in %.3f s\n", dt);
}
END_TEST

/* curl_easy_perform, unmodified, from 50 coroutines. */
static char url[64];
static int curl_ok;

static size_t sink(char *p, size_t s, size_t n, void *arg)
{
    *(int *)arg = s * n == 4 && memcmp(p, "late", 4) == 0; /* not "alone" */
    return s * n;
}

CO_FN(easy_get)
{
    CURL *e = curl_easy_init();
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, sink);
    int late = 0;
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &late);
    if (curl_easy_perform(e) == CURLE_OK && late)
        curl_ok++;
    curl_easy_cleanup(e);
}

CO_FN(curl_main)
{
    for (int i = 0; i < 50; i++)
        swco_coroutine_create(easy_get, NULL);
}

START_TEST(curl_easy_perform_hooked)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int port = httpd_start();
    ck_assert_int_gt(port, 0);
    /* answered only once all 50 are in the server at the same time */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/gate/50", port);
    curl_ok = 0;
    double t0 = now_s();
    ck_assert_int_eq(swco_run(curl_main, NULL), 0);
    double dt = now_s() - t0;
    swco_curl_cleanup();
    httpd_stop();
    curl_global_cleanup();
    ck_assert_int_eq(curl_ok, 50);
    fprintf(stderr, "curl_easy_perform: 50 transfers meeting at a barrier in %.3f s\n", dt);
}
END_TEST

/* ---------------------------------------------------- one thread pool */

static int hold_pipe[2];
static char pooled_buf[16];
static long pooled_n;
static int pending_while_queued, threads_while_queued;

/* Keeps the AIO pool's one thread busy until the test writes a byte. */
static void hold_pool_thread(void *arg)
{
    (void)arg;
    char c;
    ck_assert_int_eq(read(hold_pipe[0], &c, 1), 1);
}

CO_FN(pool_holder) { ck_assert_int_eq(swco_aio_run(hold_pool_thread, NULL, NULL, -1), 0); }

CO_FN(pooled_reader) { pooled_n = read(*(int *)arg, pooled_buf, sizeof pooled_buf); }

CO_FN(one_pool_main)
{
    swco_coroutine_create(pool_holder, NULL);
    swco_coroutine_create(pooled_reader, arg);
    /* Both wait: the hooked read is a job of the same pool, queued behind
     * the one its single thread is running. */
    pending_while_queued = swco_aio_pending();
    threads_while_queued = swco_aio_thread_count();
    ck_assert_int_eq(pooled_n, -2);
    ck_assert_int_eq(write(hold_pipe[1], "x", 1), 1);
}

/* An unlinked file holding "pooled" for pooled_reader, and hold_pipe for
 * pool_holder; returns the file's fd. */
static int pooled_file(void)
{
    char path[] = "/tmp/swco-hook-pool-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    unlink(path);
    ck_assert_int_eq(write(fd, "pooled", 6), 6);
    ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
    ck_assert_int_eq(pipe(hold_pipe), 0);
    return fd;
}

START_TEST(blocking_calls_use_the_aio_pool)
{
    int fd = pooled_file();
    int max = swco_aio_get_max_threads();
    ck_assert_int_eq(swco_aio_set_max_threads(1), 0);
    pooled_n = -2;
    ck_assert_int_eq(swco_run(one_pool_main, &fd), 0);
    ck_assert_int_eq(swco_aio_set_max_threads(max), 0);
    ck_assert_int_eq(pending_while_queued, 2);
    ck_assert_int_eq(threads_while_queued, 1);
    ck_assert_int_eq(pooled_n, 6);
    ck_assert(memcmp(pooled_buf, "pooled", 6) == 0);
    close(hold_pipe[0]);
    close(hold_pipe[1]);
    close(fd);
}
END_TEST

/* Cancelled while queued behind a busy pool: a file call still completes
 * (made directly, since its job never ran), a lookup gives up with EINTR. */
static int gai_rc, gai_errno;

CO_FN(queued_lookup)
{
    struct addrinfo *res = NULL;
    gai_rc = getaddrinfo("localhost", "80", NULL, &res);
    gai_errno = errno;
    if (gai_rc == 0)
        freeaddrinfo(res);
}

CO_FN(cancel_queued_main)
{
    swco_coroutine_create(pool_holder, NULL);
    long reader = swco_coroutine_create(pooled_reader, arg);
    long lookup = swco_coroutine_create(queued_lookup, NULL);
    ck_assert_int_eq(swco_aio_pending(), 3);
    ck_assert_int_eq(swco_coroutine_cancel(reader), 0);
    ck_assert_int_eq(swco_coroutine_cancel(lookup), 0);
    ck_assert_int_eq(swco_aio_pending(), 1); /* both jobs left the queue */
    ck_assert_int_eq(pooled_n, 6);
    ck_assert_int_eq(gai_rc, EAI_SYSTEM);
    ck_assert_int_eq(gai_errno, EINTR);
    ck_assert_int_eq(write(hold_pipe[1], "x", 1), 1);
}

START_TEST(cancel_while_queued_on_the_aio_pool)
{
    int fd = pooled_file();
    ck_assert_int_eq(swco_aio_set_max_threads(1), 0);
    pooled_n = -2;
    gai_rc = -1;
    ck_assert_int_eq(swco_run(cancel_queued_main, &fd), 0);
    close(hold_pipe[0]);
    close(hold_pipe[1]);
    close(fd);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hook");
    TCase *tc = tcase_create("hook");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, sleep_1000_coroutines);
    tcase_add_test(tc, disabled_is_plain_libc);
    tcase_add_test(tc, outside_coroutines_plain);
    tcase_add_test(tc, blocking_read_yields);
    tcase_add_test(tc, unix_flag_off_blocks);
    tcase_add_test(tc, tcp_echo_in_one_thread);
    tcase_add_test(tc, udp_roundtrip);
    tcase_add_test(tc, poll_yields);
    tcase_add_test(tc, getaddrinfo_in_coroutines);
    tcase_add_test(tc, file_io_on_helper_thread);
    tcase_add_test(tc, hiredis_100_coroutines);
    tcase_add_test(tc, libpq_100_coroutines);
    tcase_add_test(tc, curl_easy_perform_hooked);
    tcase_add_test(tc, blocking_calls_use_the_aio_pool);
    tcase_add_test(tc, cancel_while_queued_on_the_aio_pool);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
