/* Coroutine sockets over loopback: echo on every family and type, many
 * clients at once, packet framing, every timeout rule, and bad input. */
#include "testutil.h"

#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

/* ------------------------------------------------------------- helpers */

static swco_socket_t *listener(int domain, const char *host, int *port)
{
    swco_socket_t *ls = swco_socket_new(domain, SOCK_STREAM, 0);
    ck_assert_ptr_nonnull(ls);
    if (domain == AF_UNIX)
        unlink(host);
    ck_assert_int_eq(swco_socket_bind(ls, host, 0), 0);
    ck_assert_int_eq(swco_socket_listen(ls, 1024), 0);
    if (port)
        ck_assert_int_eq(swco_socket_getsockname(ls, NULL, 0, port), 0);
    return ls;
}

static void echo_conn(void *arg)
{
    swco_socket_t *c = arg;
    char buf[4096];
    long n;
    while ((n = swco_socket_recv(c, buf, sizeof buf, -1)) > 0)
        if (swco_socket_send_all(c, buf, (size_t)n, -1) < 0)
            break;
    swco_socket_free(c);
}

typedef struct {
    swco_socket_t *ls;
    int conns;
} server_t;

static void echo_server(void *arg)
{
    server_t *sv = arg;
    for (int i = 0; i < sv->conns; i++) {
        swco_socket_t *c = swco_socket_accept(sv->ls, -1);
        ck_assert_ptr_nonnull(c);
        swco_coroutine_create(echo_conn, c);
    }
    swco_socket_free(sv->ls);
}

static char unix_path[108];

static const char *tmp_path(const char *tag)
{
    snprintf(unix_path, sizeof unix_path, "/tmp/swco-test-%d-%s.sock", (int)getpid(), tag);
    return unix_path;
}

/* ------------------------------------------------------------ stream echo */

typedef struct {
    int domain;
    const char *host;
} fam_t;

static void stream_echo(void *arg)
{
    fam_t *f = arg;
    int port = 0;
    char host[108];
    snprintf(host, sizeof host, "%s", f->host);
    server_t sv = {listener(f->domain, host, &port), 1};
    swco_coroutine_create(echo_server, &sv);

    swco_socket_t *c = swco_socket_new(f->domain, SOCK_STREAM, 0);
    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(swco_socket_connect(c, host, port, 1), 0);
    if (f->domain != AF_UNIX) {
        char addr[64];
        int pport = 0;
        ck_assert_int_eq(swco_socket_getpeername(c, addr, sizeof addr, &pport), 0);
        ck_assert_str_eq(addr, host);
        ck_assert_int_eq(pport, port);
        ck_assert_int_eq(swco_socket_set_nodelay(c, 1), 0);
        ck_assert_int_eq(swco_socket_set_keepalive(c, 1, 30, 5, 3), 0);
        ck_assert_int_eq(swco_socket_set_reuseaddr(c, 1), 0);
        ck_assert_int_eq(swco_socket_set_reuseport(c, 1), 0);
    }
    ck_assert_int_eq(swco_socket_set_buffer_size(c, 65536, 65536), 0);
    for (int i = 0; i < 10; i++) {
        char msg[32], back[32];
        int n = snprintf(msg, sizeof msg, "hello %d", i);
        ck_assert_int_eq(swco_socket_send_all(c, msg, (size_t)n, 1), n);
        ck_assert_int_eq(swco_socket_recv_all(c, back, (size_t)n, 1), n);
        ck_assert(memcmp(msg, back, (size_t)n) == 0);
    }
    /* peek sees bytes without taking them */
    ck_assert_int_eq(swco_socket_send_all(c, "peek", 4, 1), 4);
    swco_sleep(0.05);
    char pk[8] = {0};
    ck_assert_int_eq(swco_socket_peek(c, pk, sizeof pk), 4);
    ck_assert_int_eq(swco_socket_recv_all(c, pk, 4, 1), 4);
    ck_assert_int_eq(memcmp(pk, "peek", 4), 0);
    ck_assert_int_eq(swco_socket_peek(c, pk, sizeof pk), -EAGAIN);
    /* half close: the server sees EOF and closes too */
    ck_assert_int_eq(swco_socket_shutdown(c, SHUT_WR), 0);
    ck_assert_int_eq(swco_socket_recv(c, pk, sizeof pk, 1), 0);
    ck_assert_int_eq(swco_socket_close(c), 0);
    ck_assert_int_eq(swco_socket_close(c), SWCO_ECLOSED);
    ck_assert_int_eq(swco_socket_send(c, "x", 1, 1), SWCO_ECLOSED);
    swco_socket_free(c);
    if (f->domain == AF_UNIX)
        unlink(host);
}

START_TEST(tcp_echo_v4)
{
    fam_t f = {AF_INET, "127.0.0.1"};
    ck_assert_int_eq(swco_run(stream_echo, &f), 0);
}
END_TEST

START_TEST(tcp_echo_v6)
{
    fam_t f = {AF_INET6, "::1"};
    ck_assert_int_eq(swco_run(stream_echo, &f), 0);
}
END_TEST

START_TEST(unix_stream_echo)
{
    fam_t f = {AF_UNIX, tmp_path("stream")};
    ck_assert_int_eq(swco_run(stream_echo, &f), 0);
}
END_TEST

/* ----------------------------------------------------------- datagrams */

static void dgram_server(void *arg)
{
    swco_socket_t *s = arg;
    char buf[2048], addr[108];
    int port;
    for (int i = 0; i < 5; i++) {
        long n = swco_socket_recvfrom(s, buf, sizeof buf, addr, sizeof addr, &port, 2);
        ck_assert_int_gt(n, 0);
        ck_assert_int_eq(swco_socket_sendto(s, addr, port, buf, (size_t)n, 1), n);
    }
}

static void dgram_echo(void *arg)
{
    fam_t *f = arg;
    char srv_path[108] = "", cli_path[108] = "";
    swco_socket_t *s = swco_socket_new(f->domain, SOCK_DGRAM, 0);
    swco_socket_t *c = swco_socket_new(f->domain, SOCK_DGRAM, 0);
    ck_assert_ptr_nonnull(s);
    ck_assert_ptr_nonnull(c);
    int port = 0;
    const char *host = f->host;
    if (f->domain == AF_UNIX) {
        snprintf(srv_path, sizeof srv_path, "%s", tmp_path("dgs"));
        snprintf(cli_path, sizeof cli_path, "%s", tmp_path("dgc"));
        unlink(srv_path);
        unlink(cli_path);
        ck_assert_int_eq(swco_socket_bind(s, srv_path, 0), 0);
        ck_assert_int_eq(swco_socket_bind(c, cli_path, 0), 0);
        host = srv_path;
    } else {
        ck_assert_int_eq(swco_socket_bind(s, host, 0), 0);
        ck_assert_int_eq(swco_socket_getsockname(s, NULL, 0, &port), 0);
    }
    swco_coroutine_create(dgram_server, s);
    for (int i = 0; i < 5; i++) {
        char msg[32], back[64], from[108];
        int n = snprintf(msg, sizeof msg, "datagram %d", i), fport = -1;
        ck_assert_int_eq(swco_socket_sendto(c, host, port, msg, (size_t)n, 1), n);
        ck_assert_int_eq(swco_socket_recvfrom(c, back, sizeof back, from, sizeof from, &fport, 2), n);
        ck_assert(memcmp(msg, back, (size_t)n) == 0);
        ck_assert_str_eq(from, host);
        ck_assert_int_eq(fport, port);
    }
    /* a connected datagram socket uses plain send/recv */
    if (f->domain != AF_UNIX) {
        swco_socket_t *cc = swco_socket_new(f->domain, SOCK_DGRAM, 0);
        ck_assert_int_eq(swco_socket_connect(cc, host, port, 1), 0);
        swco_socket_t *tmp = swco_socket_new(f->domain, SOCK_DGRAM, 0);
        ck_assert_int_eq(swco_socket_bind(tmp, host, 0), 0);
        int tport;
        char back[16];
        swco_socket_getsockname(tmp, NULL, 0, &tport);
        swco_socket_free(cc);
        cc = swco_socket_new(f->domain, SOCK_DGRAM, 0);
        ck_assert_int_eq(swco_socket_connect(cc, host, tport, 1), 0);
        ck_assert_int_eq(swco_socket_send(cc, "dg", 2, 1), 2);
        char from[64];
        int fport;
        ck_assert_int_eq(swco_socket_recvfrom(tmp, back, sizeof back, from, sizeof from, &fport, 1), 2);
        ck_assert_int_eq(swco_socket_sendto(tmp, from, fport, "gd", 2, 1), 2);
        ck_assert_int_eq(swco_socket_recv(cc, back, sizeof back, 1), 2);
        ck_assert(memcmp(back, "gd", 2) == 0);
        swco_socket_free(cc);
        swco_socket_free(tmp);
    }
    swco_socket_free(s);
    swco_socket_free(c);
    if (*srv_path) {
        unlink(srv_path);
        unlink(cli_path);
    }
}

START_TEST(udp_echo_v4)
{
    fam_t f = {AF_INET, "127.0.0.1"};
    ck_assert_int_eq(swco_run(dgram_echo, &f), 0);
}
END_TEST

START_TEST(udp_echo_v6)
{
    fam_t f = {AF_INET6, "::1"};
    ck_assert_int_eq(swco_run(dgram_echo, &f), 0);
}
END_TEST

START_TEST(unix_dgram_echo)
{
    fam_t f = {AF_UNIX, NULL};
    ck_assert_int_eq(swco_run(dgram_echo, &f), 0);
}
END_TEST

/* ------------------------------------------------------ many connections */

#define NCLIENTS 1000
static int many_port, many_ok;

static void many_client(void *arg)
{
    (void)arg;
    swco_socket_t *c = swco_socket_new(AF_INET, SOCK_STREAM, 0);
    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(swco_socket_connect(c, "127.0.0.1", many_port, 30 * slow()), 0);
    char msg[64], back[64];
    memset(msg, 'a' + (int)(swco_coroutine_id() % 26), sizeof msg);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(swco_socket_send_all(c, msg, sizeof msg, 30 * slow()), (long)sizeof msg);
        ck_assert_int_eq(swco_socket_recv_all(c, back, sizeof back, 30 * slow()), (long)sizeof back);
        ck_assert(memcmp(msg, back, sizeof msg) == 0);
    }
    swco_socket_free(c);
    many_ok++;
}

static void many_main(void *arg)
{
    (void)arg;
    static server_t sv;
    sv = (server_t){listener(AF_INET, "127.0.0.1", &many_port), NCLIENTS};
    swco_coroutine_create(echo_server, &sv);
    for (int i = 0; i < NCLIENTS; i++)
        ck_assert_int_gt(swco_coroutine_create(many_client, NULL), 0);
}

START_TEST(thousand_clients)
{
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < 4 * NCLIENTS) {
        rl.rlim_cur = rl.rlim_max < 4 * NCLIENTS ? rl.rlim_max : 4 * NCLIENTS;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    many_ok = 0;
    double t0 = now_s();
    ck_assert_int_eq(swco_run(many_main, NULL), 0);
    ck_assert_int_eq(many_ok, NCLIENTS);
    ck_assert_msg(now_s() - t0 < 60 * slow(), "took %.2f s", now_s() - t0);
}
END_TEST

/* -------------------------------------------------------------- framing */

typedef struct {
    swco_socket_t *peer; /* the writing side */
    const char *chunks[8];
    size_t lens[8];
    int done;
} writer_t;

/* Write each chunk as its own send, with a pause so reads see them apart. */
static void slow_writer(void *arg)
{
    writer_t *w = arg;
    for (int i = 0; i < 8 && w->chunks[i]; i++) {
        ck_assert_int_eq(swco_socket_send_all(w->peer, w->chunks[i], w->lens[i], 1), (long)w->lens[i]);
        swco_sleep(0.02);
    }
    w->done = 1;
}

/* w lives on the reader's stack: keep it until the writer is through. */
static void writer_join(writer_t *w)
{
    while (!w->done)
        swco_sleep(0.01);
}

static void pair(swco_socket_t **a, swco_socket_t **b)
{
    int port;
    swco_socket_t *ls = listener(AF_INET, "127.0.0.1", &port);
    *a = swco_socket_new(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_eq(swco_socket_connect(*a, "127.0.0.1", port, 1), 0);
    *b = swco_socket_accept(ls, 1);
    ck_assert_ptr_nonnull(*b);
    swco_socket_free(ls);
}

static void eof_framing(void *arg)
{
    (void)arg;
    swco_socket_t *a, *b;
    pair(&a, &b);
    ck_assert_int_eq(swco_socket_set_package_eof(b, "\r\n", 2), 0);
    /* one packet split over three writes, then three merged in one write,
     * then a delimiter split across two writes */
    writer_t w = {a, {"hel", "lo wo", "rld\r\n", "one\r\ntwo\r\nthree\r\n", "split\r", "\nend\r\n"}, {0}, 0};
    for (int i = 0; w.chunks[i]; i++)
        w.lens[i] = strlen(w.chunks[i]);
    swco_coroutine_create(slow_writer, &w);
    const char *expect[] = {"hello world\r\n", "one\r\n", "two\r\n", "three\r\n", "split\r\n", "end\r\n"};
    for (int i = 0; i < 6; i++) {
        const char *p;
        long n = swco_socket_recv_packet(b, &p, 2);
        ck_assert_int_eq(n, (long)strlen(expect[i]));
        ck_assert(memcmp(p, expect[i], (size_t)n) == 0);
    }
    writer_join(&w);
    swco_socket_free(a);
    const char *p;
    ck_assert_int_eq(swco_socket_recv_packet(b, &p, 2), 0); /* EOF */
    swco_socket_free(b);
}

START_TEST(framing_eof)
{
    ck_assert_int_eq(swco_run(eof_framing, NULL), 0);
}
END_TEST

static void length_framing(void *arg)
{
    (void)arg;
    swco_socket_t *a, *b;
    pair(&a, &b);
    /* Swoole's 'N' at offset 0, body at 4: a 4-byte big-endian body length */
    ck_assert_int_eq(swco_socket_set_package_length(b, 4, 1, 0, 4), 0);
    writer_t w = {a, {"\0\0", "\0\5hel", "lo\0\0\0\3abc\0\0\0\1z"}, {0}, 0};
    w.lens[0] = 2;
    w.lens[1] = 5;
    w.lens[2] = 14;
    swco_coroutine_create(slow_writer, &w);
    const char *p;
    ck_assert_int_eq(swco_socket_recv_packet(b, &p, 2), 9);
    ck_assert(memcmp(p + 4, "hello", 5) == 0);
    ck_assert_int_eq(swco_socket_recv_packet(b, &p, 2), 7);
    ck_assert(memcmp(p + 4, "abc", 3) == 0);
    ck_assert_int_eq(swco_socket_recv_packet(b, &p, 2), 5);
    ck_assert_int_eq(p[4], 'z');
    writer_join(&w);

    /* 'v' (2-byte little-endian) after a 2-byte type, length counts the
     * whole packet (body_offset 0) */
    ck_assert_int_eq(swco_socket_set_package_length(b, 2, 0, 2, 0), 0);
    ck_assert_int_eq(swco_socket_send_all(a, "T1\x07\x00xyzT2\x06\x00uv", 13, 1), 13);
    ck_assert_int_eq(swco_socket_recv_packet(b, &p, 2), 7);
    ck_assert(memcmp(p, "T1\x07\x00xyz", 7) == 0);
    ck_assert_int_eq(swco_socket_recv_packet(b, &p, 2), 6);
    ck_assert(memcmp(p, "T2\x06\x00uv", 6) == 0);

    /* a plain recv after framing still gets the bytes in order */
    ck_assert_int_eq(swco_socket_send_all(a, "\x01", 1, 1), 1);
    char c;
    ck_assert_int_eq(swco_socket_recv(b, &c, 1, 1), 1);
    ck_assert_int_eq(c, 1);

    /* oversize: clear error, the connection is closed, no overrun */
    ck_assert_int_eq(swco_socket_set_package_length(b, 4, 1, 0, 4), 0);
    ck_assert_int_eq(swco_socket_set_package_max_length(b, 1024), 0);
    ck_assert_int_eq(swco_socket_send_all(a, "\0\1\0\0", 4, 1), 4);
    ck_assert_int_eq(swco_socket_recv_packet(b, &p, 2), SWCO_EPKGTOOBIG);
    ck_assert_int_eq(swco_socket_fd(b), SWCO_ECLOSED);
    ck_assert_int_eq(swco_socket_recv_packet(b, &p, 2), SWCO_ECLOSED);
    swco_socket_free(a);
    swco_socket_free(b);

    /* EOF mode without a delimiter within package_max_length */
    pair(&a, &b);
    swco_socket_set_package_eof(b, "\n", 1);
    swco_socket_set_package_max_length(b, 100);
    char junk[300];
    memset(junk, 'x', sizeof junk);
    ck_assert_int_eq(swco_socket_send_all(a, junk, sizeof junk, 1), (long)sizeof junk);
    ck_assert_int_eq(swco_socket_recv_packet(b, &p, 2), SWCO_EPKGTOOBIG);
    swco_socket_free(a);
    swco_socket_free(b);
}

START_TEST(framing_length)
{
    ck_assert_int_eq(swco_run(length_framing, NULL), 0);
}
END_TEST

/* -------------------------------------------------------------- timeouts */

/* A listener that never accepts, with its queue full: connects hang. */
static swco_socket_t *full_listener(int *port, swco_socket_t **held, int *nheld)
{
    swco_socket_t *ls = swco_socket_new(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_eq(swco_socket_bind(ls, "127.0.0.1", 0), 0);
    ck_assert_int_eq(listen(swco_socket_fd(ls), 0), 0);
    swco_socket_getsockname(ls, NULL, 0, port);
    *nheld = 0;
    for (int i = 0; i < 16; i++) {
        swco_socket_t *c = swco_socket_new(AF_INET, SOCK_STREAM, 0);
        int rc = swco_socket_connect(c, "127.0.0.1", *port, 0.1);
        if (rc == -ETIMEDOUT) {
            swco_socket_free(c);
            return ls;
        }
        ck_assert_int_eq(rc, 0);
        held[(*nheld)++] = c;
    }
    ck_abort_msg("listen queue never filled");
    return NULL;
}

static double timed_connect(swco_socket_t *c, int port, double timeout, int *rc)
{
    double t0 = now_s();
    *rc = swco_socket_connect(c, "127.0.0.1", port, timeout);
    return now_s() - t0;
}

static void connect_timeouts(void *arg)
{
    (void)arg;
    swco_socket_t *held[16];
    int nheld, port, rc;
    swco_socket_t *ls = full_listener(&port, held, &nheld);
    ck_assert(swco_socket_get_default_timeout(SWCO_TIMEOUT_CONNECT) == 1.0);
    ck_assert(swco_socket_get_default_timeout(SWCO_TIMEOUT_READ) == INFINITY); /* never */
    ck_assert(swco_socket_get_default_timeout(SWCO_TIMEOUT_WRITE) == INFINITY);

    /* Each timeout below is told from the one it overrides by making that
     * one 30 s: the upper bounds are generous, and a loaded machine cannot
     * make the wrong one look right. */
    /* per call */
    ck_assert_int_eq(swco_socket_set_default_timeout(SWCO_TIMEOUT_CONNECT, 30), 0);
    swco_socket_t *c = swco_socket_new(AF_INET, SOCK_STREAM, 0);
    double dt = timed_connect(c, port, 0.15, &rc);
    ck_assert_int_eq(rc, -ETIMEDOUT);
    ck_assert_msg(dt > 0.12 && dt < 10 * slow(), "%.3f", dt);
    swco_socket_free(c);
    ck_assert_int_eq(swco_socket_set_default_timeout(SWCO_TIMEOUT_CONNECT, 1), 0);

    /* the default: 1 s */
    c = swco_socket_new(AF_INET, SOCK_STREAM, 0);
    dt = timed_connect(c, port, 0, &rc);
    ck_assert_int_eq(rc, -ETIMEDOUT);
    ck_assert_msg(dt > 0.9 && dt < 10 * slow(), "%.3f", dt);
    swco_socket_free(c);

    /* global, changed; 0 keeps it */
    ck_assert_int_eq(swco_socket_set_default_timeout(SWCO_TIMEOUT_CONNECT, 30), 0);
    ck_assert_int_eq(swco_socket_set_default_timeout(SWCO_TIMEOUT_CONNECT, 0.3), 0);
    ck_assert_int_eq(swco_socket_set_default_timeout(SWCO_TIMEOUT_CONNECT, 0), 0);
    ck_assert(swco_socket_get_default_timeout(SWCO_TIMEOUT_CONNECT) == 0.3);
    c = swco_socket_new(AF_INET, SOCK_STREAM, 0);
    dt = timed_connect(c, port, 0, &rc);
    ck_assert_int_eq(rc, -ETIMEDOUT);
    ck_assert_msg(dt > 0.25 && dt < 10 * slow(), "%.3f", dt);
    swco_socket_free(c);

    /* per socket beats global; per call beats both */
    ck_assert_int_eq(swco_socket_set_default_timeout(SWCO_TIMEOUT_CONNECT, 30), 0);
    c = swco_socket_new(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_eq(swco_socket_set_timeout(c, SWCO_TIMEOUT_CONNECT, 0.1), 0);
    ck_assert(swco_socket_get_timeout(c, SWCO_TIMEOUT_CONNECT) == 0.1);
    dt = timed_connect(c, port, 0, &rc);
    ck_assert_int_eq(rc, -ETIMEDOUT);
    ck_assert_msg(dt > 0.08 && dt < 10 * slow(), "%.3f", dt);
    swco_socket_free(c);
    c = swco_socket_new(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_eq(swco_socket_set_timeout(c, SWCO_TIMEOUT_CONNECT, 30), 0);
    dt = timed_connect(c, port, 0.05, &rc);
    ck_assert_int_eq(rc, -ETIMEDOUT);
    ck_assert_msg(dt < 10 * slow(), "%.3f", dt);
    swco_socket_free(c);
    ck_assert_int_eq(swco_socket_set_default_timeout(SWCO_TIMEOUT_CONNECT, 1), 0);
    ck_assert_int_eq(swco_socket_set_default_timeout(8, 1), -EINVAL);

    for (int i = 0; i < nheld; i++)
        swco_socket_free(held[i]);
    swco_socket_free(ls);
}

START_TEST(timeout_connect)
{
    ck_assert_int_eq(swco_run(connect_timeouts, NULL), 0);
}
END_TEST

static void late_sender(void *arg)
{
    swco_socket_t *a = arg;
    swco_sleep(0.4);
    ck_assert_int_eq(swco_socket_send_all(a, "late", 4, 1), 4);
}

static void rw_timeouts(void *arg)
{
    (void)arg;
    swco_socket_t *a, *b;
    pair(&a, &b);
    char buf[16];
    /* per call: times out, and the socket stays usable */
    double t0 = now_s();
    ck_assert_int_eq(swco_socket_recv(b, buf, sizeof buf, 0.1), -ETIMEDOUT);
    ck_assert(now_s() - t0 < 10 * slow()); /* the alternative: never */
    ck_assert_int_eq(swco_socket_send_all(a, "ok", 2, 1), 2);
    ck_assert_int_eq(swco_socket_recv(b, buf, sizeof buf, 1), 2);

    /* per socket */
    ck_assert_int_eq(swco_socket_set_timeout(b, SWCO_TIMEOUT_READ, 0.1), 0);
    t0 = now_s();
    ck_assert_int_eq(swco_socket_recv_all(b, buf, 4, 0), -ETIMEDOUT);
    ck_assert(now_s() - t0 < 10 * slow()); /* the alternative: never */
    /* recv_all keeps what it already got when it times out */
    ck_assert_int_eq(swco_socket_send_all(a, "ab", 2, 1), 2);
    ck_assert_int_eq(swco_socket_recv_all(b, buf, 4, 0.1), -ETIMEDOUT);
    ck_assert_int_eq(swco_socket_send_all(a, "cd", 2, 1), 2);
    ck_assert_int_eq(swco_socket_recv_all(b, buf, 4, 1), 4);
    ck_assert(memcmp(buf, "abcd", 4) == 0);

    /* global read default: never; -1 per call overrides the socket's 0.1 */
    swco_coroutine_create(late_sender, a);
    t0 = now_s();
    ck_assert_int_eq(swco_socket_recv_all(b, buf, 4, -1), 4);
    ck_assert(now_s() - t0 > 0.35);

    /* a global read default applies to a socket without its own */
    ck_assert_int_eq(swco_socket_set_default_timeout(SWCO_TIMEOUT_RW, 0.1), 0);
    t0 = now_s();
    ck_assert_int_eq(swco_socket_recv(a, buf, 4, 0), -ETIMEDOUT);
    ck_assert(now_s() - t0 < 10 * slow()); /* the alternative: never */

    /* write timeout: fill the peer's buffers */
    ck_assert_int_eq(swco_socket_set_buffer_size(a, 0, 4096), 0);
    static char big[1 << 20];
    t0 = now_s();
    long n = swco_socket_send_all(a, big, sizeof big, 0.2);
    ck_assert_int_eq(n, -ETIMEDOUT);
    ck_assert(now_s() - t0 < 10 * slow()); /* the alternative: never */
    ck_assert_int_eq(swco_socket_set_default_timeout(SWCO_TIMEOUT_RW, -1), 0);
    swco_socket_free(a);
    swco_socket_free(b);
}

START_TEST(timeout_read_write)
{
    ck_assert_int_eq(swco_run(rw_timeouts, NULL), 0);
}
END_TEST

/* ------------------------------------------------- concurrency and cancel */

static swco_socket_t *shared;
static int second_rc;

static void second_reader(void *arg)
{
    (void)arg;
    char buf[4];
    second_rc = (int)swco_socket_recv(shared, buf, sizeof buf, 30);
}

static void canceller(void *arg)
{
    (void)arg;
    swco_sleep(0.05);
    swco_socket_cancel(shared);
}

static void closer(void *arg)
{
    (void)arg;
    swco_sleep(0.05);
    swco_socket_close(shared);
}

static void busy_and_cancel(void *arg)
{
    (void)arg;
    swco_socket_t *a, *b;
    pair(&a, &b);
    shared = b;
    swco_coroutine_create(canceller, NULL);
    char buf[4];
    /* the first reader waits; a second one is refused */
    long cid = swco_coroutine_create(second_reader, NULL);
    (void)cid;
    double t0 = now_s();
    second_rc = 1;
    long rc = swco_socket_recv(b, buf, sizeof buf, 2);
    /* second_reader ran first (it waits), so we are the second here */
    ck_assert_int_eq(rc, -EBUSY);
    while (second_rc == 1 && now_s() - t0 < 60 * slow())
        swco_sleep(0.005);
    ck_assert_int_eq(second_rc, -ECANCELED);
    ck_assert(now_s() - t0 < 10 * slow()); /* not its 30 s timeout */
    /* still usable after a cancel */
    ck_assert_int_eq(swco_socket_send_all(a, "x", 1, 1), 1);
    ck_assert_int_eq(swco_socket_recv(b, buf, 1, 1), 1);
    /* close from another coroutine wakes the reader */
    swco_coroutine_create(closer, NULL);
    ck_assert_int_eq(swco_socket_recv(b, buf, sizeof buf, 30 * slow()), -ECANCELED);
    swco_socket_free(a);
    swco_socket_free(b);
}

START_TEST(busy_cancel_close)
{
    ck_assert_int_eq(swco_run(busy_and_cancel, NULL), 0);
}
END_TEST

/* A reader woken by a cancel waits again at once, inside the cancel call;
 * that new wait must hold and see the data sent after the cancel. */
static long rewait_rc[2];
static double rewait_t;
static void rewaiting_reader(void *arg)
{
    (void)arg;
    char buf[4];
    rewait_rc[0] = swco_socket_recv(shared, buf, sizeof buf, 30);
    double t0 = now_s();
    rewait_rc[1] = swco_socket_recv(shared, buf, sizeof buf, 30);
    rewait_t = now_s() - t0;
}

static void cancel_then_send(void *arg)
{
    (void)arg;
    swco_socket_t *a, *b;
    pair(&a, &b);
    shared = b;
    swco_coroutine_create(rewaiting_reader, NULL);
    ck_assert_int_eq(swco_socket_cancel(b), 0);
    ck_assert_int_eq(rewait_rc[0], -ECANCELED);
    swco_sleep(0.02);
    ck_assert_int_eq(swco_socket_send_all(a, "y", 1, 1), 1);
    for (double t0 = now_s(); rewait_rc[1] == 0 && now_s() - t0 < 60 * slow();)
        swco_sleep(0.005);
    ck_assert_int_eq(rewait_rc[1], 1); /* not -ETIMEDOUT after 30 s */
    ck_assert(rewait_t < 10 * slow());
    swco_socket_free(a);
    swco_socket_free(b);
}

START_TEST(wait_again_inside_cancel)
{
    rewait_rc[0] = rewait_rc[1] = 0;
    ck_assert_int_eq(swco_run(cancel_then_send, NULL), 0);
}
END_TEST

/* ------------------------------------------------------------ bad input */

static void bad_input(void *arg)
{
    (void)arg;
    swco_socket_t *c = swco_socket_new(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_eq(swco_socket_connect(c, "no-such-host.invalid", 80, 5), SWCO_EDNS);
    /* a refused port: bind one, close it, connect */
    int port;
    swco_socket_t *ls = listener(AF_INET, "127.0.0.1", &port);
    swco_socket_free(ls);
    ck_assert_int_eq(swco_socket_connect(c, "127.0.0.1", port, 1), -ECONNREFUSED);
    swco_socket_free(c);

    /* closed peer mid-read */
    swco_socket_t *a, *b;
    pair(&a, &b);
    ck_assert_int_eq(swco_socket_send_all(a, "abc", 3, 1), 3);
    swco_socket_free(a);
    char buf[16];
    ck_assert_int_eq(swco_socket_recv_all(b, buf, 10, 1), 3);
    ck_assert_int_eq(swco_socket_recv(b, buf, sizeof buf, 1), 0);
    long n = swco_socket_send(b, "x", 1, 1);
    if (n > 0) /* the first send may still be accepted */
        n = (swco_sleep(0.05), swco_socket_send(b, "x", 1, 1));
    ck_assert(n == -EPIPE || n == -ECONNRESET);
    swco_socket_free(b);

    ck_assert_ptr_null(swco_socket_new(12345, SOCK_STREAM, 0));
    ck_assert_int_eq(swco_last_error(), -EAFNOSUPPORT);
    ck_assert_ptr_null(swco_socket_new_fd(-1));
    c = swco_socket_new(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_eq(swco_socket_bind(c, "127.0.0.1", 70000), -EINVAL);
    ck_assert_int_eq(swco_socket_set_package_length(c, 3, 1, 0, 0), -EINVAL);
    ck_assert_int_eq(swco_socket_set_package_eof(c, "123456789", 9), -EINVAL);
    ck_assert_int_eq(swco_socket_sendfile(c, "/nonexistent/file", 0, 0, 1), -ENOENT);
    swco_socket_free(c);
}

START_TEST(bad_inputs)
{
    ck_assert_int_eq(swco_run(bad_input, NULL), 0);
}
END_TEST

/* --------------------------------------------------- names and sendfile */

static void by_name(void *arg)
{
    (void)arg;
    int port;
    swco_socket_t *ls = listener(AF_INET, "127.0.0.1", &port);
    swco_socket_t *c = swco_socket_new(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_eq(swco_socket_connect(c, "localhost", port, 2), 0);
    swco_socket_t *s = swco_socket_accept(ls, 1);
    ck_assert_ptr_nonnull(s);
    char path[64];
    snprintf(path, sizeof path, "/tmp/swco-sendfile-%d", (int)getpid());
    FILE *f = fopen(path, "w");
    for (int i = 0; i < 10000; i++)
        fprintf(f, "%09d\n", i);
    fclose(f);
    ck_assert_int_eq(swco_socket_sendfile(s, path, 0, 0, 2), 100000);
    ck_assert_int_eq(swco_socket_sendfile(s, path, 10, 10, 2), 10);
    static char got[100010];
    ck_assert_int_eq(swco_socket_recv_all(c, got, sizeof got, 2), (long)sizeof got);
    ck_assert(memcmp(got, "000000000\n000000001\n", 20) == 0);
    ck_assert(memcmp(got + 100000, "000000001\n", 10) == 0);
    unlink(path);
    swco_socket_free(c);
    swco_socket_free(s);
    swco_socket_free(ls);
}

START_TEST(connect_by_name_and_sendfile)
{
    ck_assert_int_eq(swco_run(by_name, NULL), 0);
}
END_TEST

/* ------------------------------------- a wake that frees (issue 10, 3) */

/* A writer blocked on a full socket; when its call fails it frees the
 * socket, as a connection's owner does. */
typedef struct {
    swco_socket_t *s;
    long rc;
    int done;
} owner_t;

static void freeing_writer(void *arg)
{
    owner_t *o = arg;
    static char big[4 << 20];
    o->rc = swco_socket_send_all(o->s, big, sizeof big, -1);
    swco_socket_free(o->s);
    o->done = 1;
}

static void freeing_reader(void *arg)
{
    owner_t *o = arg;
    char buf[16];
    o->rc = swco_socket_recv(o->s, buf, sizeof buf, -1);
    swco_socket_free(o->s);
    o->done = 1;
}

static void blocked_writer(void *arg)
{
    owner_t *o = arg;
    static char big[4 << 20];
    o->rc = swco_socket_send_all(o->s, big, sizeof big, -1);
    o->done = 1;
}

/* The peer announces a packet over package_max_length: recv_packet closes
 * the socket, which wakes the blocked writer, which frees the socket while
 * recv_packet is still inside its call. */
static void oversized_packet_freed_by_writer(void *arg)
{
    (void)arg;
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    swco_socket_t *s = swco_socket_new_fd(sv[0]);
    ck_assert_ptr_nonnull(s);
    ck_assert_int_eq(swco_socket_set_package_length(s, 4, 1, 0, 4), 0);
    ck_assert_int_eq(swco_socket_set_package_max_length(s, 1024), 0);
    owner_t w = {s, 0, 0};
    swco_coroutine_create(freeing_writer, &w); /* runs until the buffer is full */
    ck_assert_int_eq(w.done, 0);
    const unsigned char hdr[4] = {0, 0x10, 0, 0}; /* 1 MiB follows */
    ck_assert_int_eq(write(sv[1], hdr, sizeof hdr), 4);
    const char *data = "unset";
    ck_assert_int_eq(swco_socket_recv_packet(s, &data, 5 * slow()), SWCO_EPKGTOOBIG);
    ck_assert_ptr_null(data);
    ck_assert_int_eq(w.done, 1);
    ck_assert_int_eq(w.rc, -ECANCELED);
    close(sv[1]);
}

START_TEST(recv_packet_close_wakes_freeing_writer)
{
    ck_assert_int_eq(swco_run(oversized_packet_freed_by_writer, NULL), 0);
}
END_TEST

/* A third coroutine closes the socket: the reader wakes first and frees
 * it; the writer, woken next, must not touch the freed object. */
static void close_wakes_freeing_reader(void *arg)
{
    (void)arg;
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    swco_socket_t *s = swco_socket_new_fd(sv[0]);
    ck_assert_ptr_nonnull(s);
    owner_t r = {s, 0, 0}, w = {s, 0, 0};
    swco_coroutine_create(freeing_reader, &r);
    swco_coroutine_create(blocked_writer, &w);
    ck_assert_int_eq(r.done + w.done, 0);
    ck_assert_int_eq(swco_socket_close(s), 0);
    ck_assert_int_eq(r.done, 1);
    ck_assert_int_eq(r.rc, -ECANCELED);
    ck_assert_int_eq(w.done, 1);
    ck_assert_int_eq(w.rc, -ECANCELED);
    close(sv[1]);
}

START_TEST(close_wakes_reader_that_frees)
{
    ck_assert_int_eq(swco_run(close_wakes_freeing_reader, NULL), 0);
}
END_TEST

/* ------------------------------ free during a name lookup (issue 10, 4) */

typedef struct {
    swco_socket_t *s;
    int port;
    int udp;
    long rc;
    int done;
} lookup_t;

static void connect_by_name(void *arg)
{
    lookup_t *l = arg;
    if (l->udp)
        l->rc = swco_socket_sendto(l->s, "localhost", l->port, "x", 1, 5 * slow());
    else
        l->rc = swco_socket_connect(l->s, "localhost", l->port, 5 * slow());
    l->done = 1;
}

/* The lookup runs on the AIO pool and its answer comes back through the
 * loop, which does not turn before free: the caller is still inside the
 * lookup when the socket goes, and must wake with -ECANCELED at once. */
static void free_during_lookup(void *arg)
{
    (void)arg;
    swco_dns_cache_set(0, 0);
    int port;
    swco_socket_t *ls = listener(AF_INET, "127.0.0.1", &port);
    for (int how = 0; how < 4; how++) {
        lookup_t l = {swco_socket_new(AF_INET, how == 2 ? SOCK_DGRAM : SOCK_STREAM, 0), port,
                      how == 2, 0, 0};
        ck_assert_ptr_nonnull(l.s);
        swco_coroutine_create(connect_by_name, &l);
        ck_assert_int_eq(l.done, 0); /* waiting for the lookup */
        if (how == 1) {
            ck_assert_int_eq(swco_socket_close(l.s), 0);
            ck_assert_int_eq(l.done, 1);
            swco_socket_free(l.s);
        } else if (how == 3) { /* cancel: the socket stays usable */
            ck_assert_int_eq(swco_socket_cancel(l.s), 0);
            ck_assert_int_eq(l.done, 1);
            ck_assert_int_eq(swco_socket_connect(l.s, "127.0.0.1", port, 5 * slow()), 0);
            swco_socket_free(l.s);
        } else {
            swco_socket_free(l.s);
            ck_assert_int_eq(l.done, 1);
        }
        ck_assert_int_eq(l.rc, -ECANCELED);
    }
    swco_socket_free(ls);
}

START_TEST(free_during_name_lookup)
{
    ck_assert_int_eq(swco_run(free_during_lookup, NULL), 0);
}
END_TEST

/* An empty host is not an address to connect or send to (issue 10, 15). */
static void empty_host(void *arg)
{
    (void)arg;
    int port;
    swco_socket_t *ls = listener(AF_INET, "127.0.0.1", &port);
    swco_socket_t *c = swco_socket_new(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_eq(swco_socket_connect(c, "", port, 1), -EINVAL);
    ck_assert_int_eq(swco_socket_connect(c, "*", port, 1), -EINVAL);
    swco_socket_free(c);
    swco_socket_t *u = swco_socket_new(AF_INET, SOCK_DGRAM, 0);
    ck_assert_int_eq(swco_socket_sendto(u, "", port, "x", 1, 1), -EINVAL);
    ck_assert_int_eq(swco_socket_bind(u, "", 0), 0); /* any address */
    swco_socket_free(u);
    swco_socket_free(ls);
}

START_TEST(connect_empty_host)
{
    ck_assert_int_eq(swco_run(empty_host, NULL), 0);
}
END_TEST

/* ---- issue 11: no negative value that is not an error */
START_TEST(timeout_getters_never_is_infinity)
{
    swco_socket_t *s = swco_socket_new(AF_INET, SOCK_STREAM, 0);
    ck_assert_ptr_nonnull(s);
    ck_assert_int_eq(swco_socket_set_timeout(s, SWCO_TIMEOUT_READ, -1), 0);
    ck_assert(swco_socket_get_timeout(s, SWCO_TIMEOUT_READ) == INFINITY);
    /* What a getter returns can be given back. */
    ck_assert_int_eq(swco_socket_set_timeout(s, SWCO_TIMEOUT_WRITE, INFINITY), 0);
    ck_assert(swco_socket_get_timeout(s, SWCO_TIMEOUT_WRITE) == INFINITY);
    ck_assert(swco_socket_get_timeout(s, 99) == -EINVAL);
    ck_assert(swco_socket_get_default_timeout(99) == -EINVAL);
    ck_assert(swco_socket_get_timeout(NULL, SWCO_TIMEOUT_READ) == -EINVAL);
    ck_assert_int_ge(swco_socket_fd(s), 0);
    ck_assert_int_eq(swco_socket_close(s), 0);
    ck_assert_int_eq(swco_socket_fd(s), SWCO_ECLOSED);
    ck_assert_int_eq(swco_socket_fd(NULL), -EINVAL);
    swco_socket_free(s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("socket");
    TCase *tc = tcase_create("echo");
    tcase_add_test(tc, tcp_echo_v4);
    tcase_add_test(tc, tcp_echo_v6);
    tcase_add_test(tc, unix_stream_echo);
    tcase_add_test(tc, udp_echo_v4);
    tcase_add_test(tc, udp_echo_v6);
    tcase_add_test(tc, unix_dgram_echo);
    tcase_add_test(tc, thousand_clients);
    suite_add_tcase(s, tc);
    tc = tcase_create("framing");
    tcase_add_test(tc, framing_eof);
    tcase_add_test(tc, framing_length);
    suite_add_tcase(s, tc);
    tc = tcase_create("timeouts");
    tcase_add_test(tc, timeout_connect);
    tcase_add_test(tc, timeout_read_write);
    tcase_add_test(tc, busy_cancel_close);
    tcase_add_test(tc, wait_again_inside_cancel);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, bad_inputs);
    tcase_add_test(tc, connect_by_name_and_sendfile);
    suite_add_tcase(s, tc);
    tc = tcase_create("hardening");
    tcase_add_test(tc, recv_packet_close_wakes_freeing_writer);
    tcase_add_test(tc, close_wakes_reader_that_frees);
    tcase_add_test(tc, free_during_name_lookup);
    tcase_add_test(tc, connect_empty_host);
    tcase_add_test(tc, timeout_getters_never_is_infinity);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
