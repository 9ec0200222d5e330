/* The server's engine on its own (lib/server/engine.c, conn.c): a
 * swco_server_t built by hand, listening sockets made here, one engine
 * run inside swco_run() with hooks that record what happened, and
 * coroutine sockets as the peers.  Everything waits on events (a channel
 * the hooks signal), never on a clock; limits are safety nets scaled by
 * SWCO_TEST_SLOW. */
#include "testutil.h"

#include "server/server_int.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

/* ------------------------------------------------------------- fixture */

#define MAXL 4
#define LOG_MAX (1 << 20)

typedef struct {
    swco_server_t srv;
    swco__srv_shm_t shm;
    swco__conn_table_t table;
    swco__listener_t lst[MAXL];
    swco__listener_t *lptr[MAXL];
    swco__engine_t *e;
    swco_channel_t *evq;     /* a token per hook call: "look again" */
    /* what the hooks saw */
    int connects, closes, packets, receives, fulls, empties;
    long long ids[64];       /* connection ids in connect order */
    int close_order[64];     /* index into ids of each close */
    char log[LOG_MAX];       /* receives, each followed by '|' */
    size_t log_len;
    char pkt_addr[108];
    int pkt_port;
    int pkt_listener;
    /* what the hooks do */
    int echo;                /* receive: send the data back */
    int pause_on_connect;
    int close_on_receive;    /* receive: close the connection (reset when 2) */
} fixture_t;

static fixture_t T;

static void push_token(void *arg)
{
    (void)arg;
    swco_channel_push(T.evq, (void *)1, 0);
}

/* Wake the test's waits on the loop's next turn: after the hook and the
 * engine code around it have returned. */
static void signal_ev(void) { swco_event_defer(push_token, NULL, NULL); }

/* Wait until cond holds, looking again after each hook call. */
#define WAIT_FOR(cond)                                                                         \
    do {                                                                                       \
        while (!(cond)) {                                                                      \
            void *v_;                                                                          \
            int rc_ = swco_channel_pop(T.evq, &v_, 10 * slow());                               \
            ck_assert_msg(rc_ == 0, "timed out waiting for %s", #cond);                       \
        }                                                                                      \
    } while (0)

static int id_index(long long id)
{
    for (int i = 0; i < T.connects && i < 64; i++)
        if (T.ids[i] == id)
            return i;
    return -1;
}

static void h_connect(void *ud, swco__engine_t *e, swco__conn_t *c)
{
    (void)ud;
    if (T.connects < 64)
        T.ids[T.connects] = swco__conn_id(&T.table, c);
    T.connects++;
    if (T.pause_on_connect)
        swco__engine_pause(e, c, 1);
    signal_ev();
}

static void h_receive(void *ud, swco__engine_t *e, swco__conn_t *c, const char *data, size_t len)
{
    (void)ud;
    T.receives++;
    if (T.log_len + len + 1 < LOG_MAX) {
        memcpy(T.log + T.log_len, data, len);
        T.log_len += len;
        T.log[T.log_len++] = '|';
        T.log[T.log_len] = 0;
    }
    if (T.echo)
        ck_assert_int_eq(swco__engine_send(e, c, data, len, 0), (long)len);
    if (T.close_on_receive)
        swco__engine_close(e, c, T.close_on_receive == 2);
    signal_ev();
}

static void h_close(void *ud, swco__engine_t *e, swco__conn_t *c)
{
    (void)ud;
    (void)e;
    ck_assert_int_eq(c->state, SWCO__CONN_CLOSING);
    if (T.closes < 64)
        T.close_order[T.closes] = id_index(swco__conn_id(&T.table, c));
    T.closes++;
    signal_ev();
}

static void h_packet(void *ud, swco__engine_t *e, swco__listener_t *l, const char *data, size_t len,
                     const swco__addr_t *from)
{
    (void)ud;
    T.packets++;
    snprintf(T.pkt_addr, sizeof T.pkt_addr, "%s", from->text);
    T.pkt_port = from->port;
    T.pkt_listener = l->index;
    if (T.echo)
        ck_assert_int_eq(swco__engine_sendto(e, l, from->text, from->port, data, len), (long)len);
    signal_ev();
}

static void h_buffer(void *ud, swco__engine_t *e, swco__conn_t *c, int full)
{
    (void)ud;
    (void)e;
    (void)c;
    if (full)
        T.fulls++;
    else
        T.empties++;
    signal_ev();
}

static const swco__engine_hooks_t hooks = {h_connect, h_receive, h_close, h_packet, h_buffer};

/* A server object as start would leave it, without options.c: zeroed,
 * the fields the engine reads set directly. */
static void fixture_init(void)
{
    memset(&T, 0, sizeof T);
    T.srv.mode = SWCO_SERVER_BASE;
    T.srv.opt.max_connection = 0;
    T.srv.opt.buffer_output_size = 2 << 20;
    T.srv.listeners = T.lptr;
    T.srv.shm = &T.shm;
    ck_assert_int_eq(swco__conn_table_init(&T.table, 65536, 0, 0), 0);
}

/* Make listener idx: type is a SWCO_SOCK_* value; Unix ones bind path. */
static swco__listener_t *add_listener(int type, const char *path)
{
    int idx = T.srv.nlisteners++;
    swco__listener_t *l = &T.lst[idx];
    T.lptr[idx] = l;
    memset(l, 0, sizeof *l);
    l->index = idx;
    l->sock_type = type;
    int base = type & ~SWCO_SOCK_SSL;
    l->stream = base == SWCO_SOCK_TCP || base == SWCO_SOCK_UNIX_STREAM;
    l->family = base == SWCO_SOCK_UNIX_STREAM || base == SWCO_SOCK_UNIX_DGRAM ? AF_UNIX : AF_INET;
    int fd = socket(l->family, (l->stream ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(fd, 0);
    if (l->family == AF_UNIX) {
        struct sockaddr_un un = {.sun_family = AF_UNIX};
        snprintf(un.sun_path, sizeof un.sun_path, "%s", path);
        unlink(path);
        ck_assert_int_eq(bind(fd, (struct sockaddr *)&un, sizeof un), 0);
        snprintf(l->host, sizeof l->host, "%s", path);
    } else {
        struct sockaddr_in in = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        ck_assert_int_eq(bind(fd, (struct sockaddr *)&in, sizeof in), 0);
        socklen_t sl = sizeof in;
        getsockname(fd, (struct sockaddr *)&in, &sl);
        l->port = ntohs(in.sin_port);
        snprintf(l->host, sizeof l->host, "127.0.0.1");
    }
    if (l->stream)
        ck_assert_int_eq(listen(fd, 511), 0);
    l->fd = fd;
    return l;
}

static void engine_start(void)
{
    T.evq = swco_channel_new(1 << 16);
    ck_assert_ptr_nonnull(T.evq);
    T.e = swco__engine_new(&T.srv, &T.table, 0, &hooks, NULL);
    ck_assert_ptr_nonnull(T.e);
    for (int i = 0; i < T.srv.nlisteners; i++)
        ck_assert_int_eq(swco__engine_listen(T.e, &T.lst[i], T.lst[i].fd), 0);
}

static void engine_stop(void)
{
    swco__engine_free(T.e);
    T.e = NULL;
    for (int i = 0; i < T.srv.nlisteners; i++) {
        close(T.lst[i].fd);
        if (T.lst[i].family == AF_UNIX)
            unlink(T.lst[i].host);
    }
    swco_channel_free(T.evq);
}

static void fixture_done(void) { swco__conn_table_free(&T.table); }

static swco_socket_t *tcp_client(int port)
{
    swco_socket_t *s = swco_socket_new(AF_INET, SOCK_STREAM, 0);
    ck_assert_ptr_nonnull(s);
    ck_assert_int_eq(swco_socket_connect(s, "127.0.0.1", port, 5 * slow()), 0);
    return s;
}

static void expect_recv(swco_socket_t *s, const char *want)
{
    size_t n = strlen(want);
    char buf[4096];
    ck_assert_uint_lt(n, sizeof buf);
    ck_assert_int_eq(swco_socket_recv_all(s, buf, n, 10 * slow()), (long)n);
    buf[n] = 0;
    ck_assert_str_eq(buf, want);
}

/* The peer closed on us: EOF or a reset. */
static void expect_closed(swco_socket_t *s)
{
    char buf[256];
    long n;
    while ((n = swco_socket_recv(s, buf, sizeof buf, 10 * slow())) > 0)
        ;
    ck_assert_msg(n == 0 || n == -ECONNRESET, "recv gave %ld", n);
}

static void run(swco_fn body)
{
    fixture_init();
    ck_assert_int_eq(swco_run(body, NULL), 0);
    fixture_done();
}

/* ---------------------------------------------------------------- tests */

static void echo_body(void *arg)
{
    (void)arg;
    swco__listener_t *l = add_listener(SWCO_SOCK_TCP, NULL);
    engine_start();
    T.echo = 1;
    swco_socket_t *c[3];
    for (int i = 0; i < 3; i++)
        c[i] = tcp_client(l->port);
    WAIT_FOR(T.connects == 3);
    ck_assert_int_eq(swco__engine_count(T.e), 3);
    for (int i = 0; i < 3; i++) {
        char msg[32];
        snprintf(msg, sizeof msg, "hello %d", i);
        ck_assert_int_eq(swco_socket_send_all(c[i], msg, strlen(msg), 5), (long)strlen(msg));
        expect_recv(c[i], msg);
    }
    /* what the table says of client 1 */
    swco__conn_t *sc = swco__conn_lookup(&T.table, T.ids[1]);
    ck_assert_ptr_nonnull(sc);
    swco_server_client_info_t info = {.size = sizeof info};
    swco__conn_describe(&T.srv, sc, &info);
    char caddr[64];
    int cport = 0;
    ck_assert_int_eq(swco_socket_getsockname(c[1], caddr, sizeof caddr, &cport), 0);
    ck_assert_str_eq(info.addr, "127.0.0.1");
    ck_assert_int_eq(info.port, cport);
    ck_assert_int_eq(info.server_port, l->port);
    ck_assert_int_eq(info.sock_type, SWCO_SOCK_TCP);
    ck_assert_int_eq(info.recv_bytes, 7);
    ck_assert_int_eq(info.send_bytes, 7);
    ck_assert_int_eq(info.send_queued, 0);
    ck_assert(info.connect_time > 1e9 && info.last_recv_time >= info.connect_time);
    /* a caller with an older, shorter struct gets only what it has room for */
    struct { size_t size; int listener; int sock_type; int guard; } small;
    memset(&small, 0x55, sizeof small);
    small.size = SWCO__STRUCT_V1_SIZE(swco_server_client_info_t, sock_type);
    swco__conn_describe(&T.srv, sc, (swco_server_client_info_t *)&small);
    ck_assert_int_eq(small.sock_type, SWCO_SOCK_TCP);
    ck_assert_int_eq(small.guard, 0x55555555);
    /* clients leave: one close hook each, in that order */
    for (int i = 0; i < 3; i++) {
        swco_socket_free(c[i]);
        WAIT_FOR(T.closes == i + 1);
        ck_assert_int_eq(T.close_order[i], i);
    }
    ck_assert_int_eq(swco__engine_count(T.e), 0);
    ck_assert_int_eq(swco__engine_buffers(T.e), 0);
    ck_assert_int_eq(T.shm.accept_count, 3);
    ck_assert_int_eq(T.shm.close_count, 3);
    ck_assert_int_eq(T.shm.connection_num, 0);
    ck_assert_int_eq(T.shm.recv_bytes, 21);
    ck_assert_int_eq(T.shm.send_bytes, 21);
    engine_stop();
    ck_assert_int_eq(T.closes, 3); /* none twice */
}

START_TEST(echo) { run(echo_body); }
END_TEST

static void eof_split_body(void *arg)
{
    (void)arg;
    swco__listener_t *l = add_listener(SWCO_SOCK_TCP, NULL);
    l->opt.frame.mode = SWCO__FRAME_EOF;
    memcpy(l->opt.frame.eof, "\r\n", 2);
    l->opt.frame.eof_len = 2;
    l->opt.eof_split = 1;
    engine_start();
    swco_socket_t *c = tcp_client(l->port);
    /* two packets and the start of a third in one write */
    ck_assert_int_eq(swco_socket_send_all(c, "a\r\nbb\r\ncc", 9, 5), 9);
    WAIT_FOR(T.receives == 2);
    ck_assert_str_eq(T.log, "a\r\n|bb\r\n|");
    ck_assert_int_eq(swco__engine_buffers(T.e), 1); /* the part of "cc..." */
    /* the delimiter itself split across writes */
    ck_assert_int_eq(swco_socket_send_all(c, "c\r", 2, 5), 2);
    swco_socket_t *c2 = tcp_client(l->port); /* a round trip: "c\r" was read by now */
    ck_assert_int_eq(swco_socket_send_all(c2, "x\r\n", 3, 5), 3);
    WAIT_FOR(T.receives == 3);
    ck_assert_str_eq(T.log, "a\r\n|bb\r\n|x\r\n|");
    ck_assert_int_eq(swco_socket_send_all(c, "\n", 1, 5), 1);
    WAIT_FOR(T.receives == 4);
    ck_assert_str_eq(T.log, "a\r\n|bb\r\n|x\r\n|ccc\r\n|");
    ck_assert_int_eq(swco__engine_buffers(T.e), 0); /* drained: freed */
    swco_socket_free(c);
    swco_socket_free(c2);
    WAIT_FOR(T.closes == 2);
    engine_stop();
}

START_TEST(eof_split) { run(eof_split_body); }
END_TEST

static void eof_check_body(void *arg)
{
    (void)arg;
    swco__listener_t *l = add_listener(SWCO_SOCK_TCP, NULL);
    l->opt.frame.mode = SWCO__FRAME_EOF;
    memcpy(l->opt.frame.eof, "##", 2);
    l->opt.frame.eof_len = 2;
    l->opt.frame.max_len = 64;
    engine_start();
    swco_socket_t *c = tcp_client(l->port);
    /* without split: what ends with the delimiter comes in one receive */
    ck_assert_int_eq(swco_socket_send_all(c, "x##y##z", 7, 5), 7);
    WAIT_FOR(T.receives == 1);
    ck_assert_str_eq(T.log, "x##y##|");
    ck_assert_int_eq(swco_socket_send_all(c, "##", 2, 5), 2);
    WAIT_FOR(T.receives == 2);
    ck_assert_str_eq(T.log, "x##y##|z##|");
    /* past package_max_length without a delimiter: closed */
    char big[100];
    memset(big, 'q', sizeof big);
    ck_assert_int_eq(swco_socket_send_all(c, big, sizeof big, 5), (long)sizeof big);
    expect_closed(c);
    WAIT_FOR(T.closes == 1);
    ck_assert_int_eq(T.receives, 2);
    ck_assert_int_eq(swco__engine_buffers(T.e), 0);
    swco_socket_free(c);
    engine_stop();
}

START_TEST(eof_check) { run(eof_check_body); }
END_TEST

static void length_body(void *arg)
{
    (void)arg;
    swco__listener_t *l = add_listener(SWCO_SOCK_TCP, NULL);
    /* 2-byte big-endian body length after a 1-byte type: "T" len body */
    l->opt.frame.mode = SWCO__FRAME_LENGTH;
    l->opt.frame.len_size = 2;
    l->opt.frame.big_endian = 1;
    l->opt.frame.len_offset = 1;
    l->opt.frame.body_offset = 3;
    l->opt.frame.max_len = 1000;
    engine_start();
    swco_socket_t *c = tcp_client(l->port);
    const char one[] = "A\0\3abcB\0\0C\0\5hel";
    ck_assert_int_eq(swco_socket_send_all(c, one, sizeof one - 1, 5), (long)sizeof one - 1);
    WAIT_FOR(T.receives == 2);
    ck_assert_int_eq(T.log_len, 6 + 1 + 3 + 1);
    ck_assert_mem_eq(T.log, "A\0\3abc|B\0\0|", 11);
    ck_assert_int_eq(swco__engine_buffers(T.e), 1);
    /* the rest one byte at a time, then a packet whose header is split */
    ck_assert_int_eq(swco_socket_send_all(c, "l", 1, 5), 1);
    ck_assert_int_eq(swco_socket_send_all(c, "o", 1, 5), 1);
    ck_assert_int_eq(swco_socket_send_all(c, "D\0", 2, 5), 2);
    ck_assert_int_eq(swco_socket_send_all(c, "\1!", 2, 5), 2);
    WAIT_FOR(T.receives == 4);
    ck_assert_mem_eq(T.log + 11, "C\0\5hello|D\0\1!|", 15);
    ck_assert_int_eq(swco__engine_buffers(T.e), 0);
    /* a length past package_max_length: closed, nothing delivered */
    ck_assert_int_eq(swco_socket_send_all(c, "E\xff\xff", 3, 5), 3);
    expect_closed(c);
    WAIT_FOR(T.closes == 1);
    ck_assert_int_eq(T.receives, 4);
    swco_socket_free(c);
    engine_stop();
}

START_TEST(length_framing) { run(length_body); }
END_TEST

static void udp_body(void *arg)
{
    (void)arg;
    swco__listener_t *l = add_listener(SWCO_SOCK_UDP, NULL);
    engine_start();
    T.echo = 1;
    swco_socket_t *s = swco_socket_new(AF_INET, SOCK_DGRAM, 0);
    ck_assert_int_eq(swco_socket_bind(s, "127.0.0.1", 0), 0);
    int myport = 0;
    char addr[64];
    swco_socket_getsockname(s, addr, sizeof addr, &myport);
    ck_assert_int_eq(swco_socket_sendto(s, "127.0.0.1", l->port, "ping", 4, 5), 4);
    char buf[64];
    int from_port = 0;
    ck_assert_int_eq(swco_socket_recvfrom(s, buf, sizeof buf, addr, sizeof addr, &from_port, 5 * slow()),
                     4);
    ck_assert_mem_eq(buf, "ping", 4);
    ck_assert_int_eq(from_port, l->port);
    ck_assert_int_eq(T.packets, 1);
    ck_assert_str_eq(T.pkt_addr, "127.0.0.1");
    ck_assert_int_eq(T.pkt_port, myport);
    /* sendto errors */
    ck_assert_int_eq(swco__engine_sendto(T.e, l, "not an address", 1, "x", 1), -EINVAL);
    ck_assert_int_eq(T.shm.recv_bytes, 4);
    ck_assert_int_eq(T.shm.send_bytes, 4);
    swco_socket_free(s);
    engine_stop();
}

START_TEST(udp) { run(udp_body); }
END_TEST

static char sock_dir[64];

static void make_sock_dir(void)
{
    snprintf(sock_dir, sizeof sock_dir, "/tmp/swco-eng-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(sock_dir));
}

static void unix_body(void *arg)
{
    (void)arg;
    make_sock_dir();
    char dpath[108], spath[108], cpath[108];
    snprintf(dpath, sizeof dpath, "%s/dgram", sock_dir);
    snprintf(spath, sizeof spath, "%s/stream", sock_dir);
    snprintf(cpath, sizeof cpath, "%s/client", sock_dir);
    swco__listener_t *ld = add_listener(SWCO_SOCK_UNIX_DGRAM, dpath);
    swco__listener_t *ls = add_listener(SWCO_SOCK_UNIX_STREAM, spath);
    engine_start();
    T.echo = 1;
    /* datagrams: the sender's path comes with the packet; answer to it */
    swco_socket_t *d = swco_socket_new(AF_UNIX, SOCK_DGRAM, 0);
    ck_assert_int_eq(swco_socket_bind(d, cpath, 0), 0);
    ck_assert_int_eq(swco_socket_sendto(d, dpath, 0, "dgram!", 6, 5), 6);
    char buf[64], from[108];
    ck_assert_int_eq(swco_socket_recvfrom(d, buf, sizeof buf, from, sizeof from, NULL, 5 * slow()), 6);
    ck_assert_mem_eq(buf, "dgram!", 6);
    ck_assert_str_eq(from, dpath);
    ck_assert_str_eq(T.pkt_addr, cpath);
    ck_assert_int_eq(T.pkt_port, 0);
    ck_assert_int_eq(T.pkt_listener, ld->index);
    ck_assert_int_eq(swco__engine_sendto(T.e, ld, cpath, 0, "again", 5), 5);
    ck_assert_int_eq(swco_socket_recvfrom(d, buf, sizeof buf, NULL, 0, NULL, 5 * slow()), 5);
    ck_assert_mem_eq(buf, "again", 5);
    swco_socket_free(d);
    /* a stream: echo */
    swco_socket_t *s = swco_socket_new(AF_UNIX, SOCK_STREAM, 0);
    ck_assert_int_eq(swco_socket_connect(s, spath, 0, 5), 0);
    ck_assert_int_eq(swco_socket_send_all(s, "unix", 4, 5), 4);
    expect_recv(s, "unix");
    swco_server_client_info_t info = {.size = sizeof info};
    swco__conn_describe(&T.srv, swco__conn_lookup(&T.table, T.ids[0]), &info);
    ck_assert_int_eq(info.listener, ls->index);
    ck_assert_int_eq(info.port, 0);
    swco_socket_free(s);
    WAIT_FOR(T.closes == 1);
    engine_stop();
    unlink(cpath);
    rmdir(sock_dir);
}

START_TEST(unix_sockets) { run(unix_body); }
END_TEST

static void max_conn_body(void *arg)
{
    (void)arg;
    swco__listener_t *l = add_listener(SWCO_SOCK_TCP, NULL);
    T.srv.opt.max_connection = 2;
    engine_start();
    T.echo = 1;
    swco_socket_t *a = tcp_client(l->port), *b = tcp_client(l->port);
    WAIT_FOR(T.connects == 2);
    /* the third is accepted by the kernel and closed by the server at once */
    swco_socket_t *c = tcp_client(l->port);
    expect_closed(c);
    swco_socket_free(c);
    ck_assert_int_eq(T.connects, 2);
    ck_assert_int_eq(T.closes, 0); /* never announced: no close hook either */
    ck_assert_int_eq(T.shm.accept_count, 2);
    /* one leaves: room for a new one */
    swco_socket_free(a);
    WAIT_FOR(T.closes == 1);
    swco_socket_t *d = tcp_client(l->port);
    WAIT_FOR(T.connects == 3);
    ck_assert_int_eq(swco_socket_send_all(d, "ok", 2, 5), 2);
    expect_recv(d, "ok");
    swco_socket_free(b);
    swco_socket_free(d);
    WAIT_FOR(T.closes == 3);
    engine_stop();
}

START_TEST(max_connection) { run(max_conn_body); }
END_TEST

static void stale_body(void *arg)
{
    (void)arg;
    swco__listener_t *l = add_listener(SWCO_SOCK_TCP, NULL);
    engine_start();
    swco_socket_t *a = tcp_client(l->port);
    WAIT_FOR(T.connects == 1);
    long long id = T.ids[0];
    swco__conn_t *c = swco__conn_lookup(&T.table, id);
    ck_assert_ptr_nonnull(c);
    int kfd = c->fd;
    ck_assert_int_eq(id & 0xffffff, kfd);
    ck_assert_int_eq(swco__conn_id_owner(id), 0);
    /* an id of another owner, or with another generation, names nothing */
    ck_assert_ptr_null(swco__conn_lookup(&T.table, swco__conn_make_id(1, c->gen, kfd)));
    ck_assert_ptr_null(swco__conn_lookup(&T.table, swco__conn_make_id(0, c->gen + 1, kfd)));
    ck_assert_ptr_null(swco__conn_lookup(&T.table, 0));
    ck_assert_ptr_null(swco__conn_lookup(&T.table, -5));
    ck_assert_int_eq(swco__engine_close(T.e, c, 0), 0);
    ck_assert_int_eq(T.closes, 1); /* nothing queued: closed at once */
    ck_assert_ptr_null(swco__conn_lookup(&T.table, id));
    ck_assert_int_eq(swco__engine_close(T.e, c, 0), SWCO_ENOCONN);
    ck_assert_int_eq(swco__engine_send(T.e, c, "x", 1, 0), SWCO_ENOCONN);
    expect_closed(a);
    swco_socket_free(a);
    /* the next connection gets the same kernel fd, and a new id */
    swco_socket_t *b = tcp_client(l->port);
    WAIT_FOR(T.connects == 2);
    swco__conn_t *c2 = swco__conn_lookup(&T.table, T.ids[1]);
    ck_assert_ptr_nonnull(c2);
    ck_assert_int_eq(c2->fd, kfd);
    ck_assert(T.ids[1] != id);
    ck_assert_ptr_null(swco__conn_lookup(&T.table, id));
    ck_assert_int_eq(swco__engine_send(T.e, c2, "new", 3, 0), 3);
    expect_recv(b, "new");
    swco_socket_free(b);
    WAIT_FOR(T.closes == 2);
    engine_stop();
}

START_TEST(stale_id) { run(stale_body); }
END_TEST

/* ----------------------------------------------------------------- main */

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    Suite *s = suite_create("server_engine");
    TCase *tc = tcase_create("engine");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, echo);
    tcase_add_test(tc, eof_split);
    tcase_add_test(tc, eof_check);
    tcase_add_test(tc, length_framing);
    tcase_add_test(tc, udp);
    tcase_add_test(tc, unix_sockets);
    tcase_add_test(tc, max_connection);
    tcase_add_test(tc, stale_id);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
