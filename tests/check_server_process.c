/* PROCESS mode servers (lib/server/process.c, process_ipc.c).
 *
 * The first cases test the pieces between the master and the workers on
 * their own: messages chunked over SEQPACKET sockets, queued when a socket
 * is full, reassembled, broken sequences dropped, and the choice of worker
 * by dispatch_mode.  The others run a real PROCESS mode server in a forked
 * child and talk to it from loopback peers (python3, nc, socat). */
#include "testutil.h"

#include "server/process_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* ============================================================ IPC units */

static swco__proc_shared_t *pair_of_sockets(size_t sockbuf)
{
    int err = 0;
    swco__proc_shared_t *ps = swco__proc_shared_new(1, 1, sockbuf, &err);
    ck_assert_msg(ps != NULL, "proc_shared_new: %d", err);
    ck_assert_int_eq(err, 0);
    return ps;
}

/* Read every packet waiting on fd into r; the messages it completes are
 * appended to got (payloads) and their headers to hdrs.  Returns how many
 * completed. */
typedef struct got {
    char *buf;
    size_t len, cap;
    swco__pmsg_hdr_t hdrs[64];
    size_t lens[64];
    int n;
} got_t;

static int drain(int fd, swco__reasm_t *r, got_t *g, size_t rbuf_size)
{
    char *pkt = malloc(rbuf_size);
    int done = 0;
    for (;;) {
        ssize_t n = recv(fd, pkt, rbuf_size, MSG_DONTWAIT | MSG_TRUNC);
        if (n < 0) {
            ck_assert_int_eq(errno, EAGAIN);
            break;
        }
        ck_assert_int_le((size_t)n, rbuf_size); /* a packet always fits one chunk */
        swco__pmsg_hdr_t h;
        const char *data;
        size_t len;
        if (swco__reasm_feed(r, pkt, (size_t)n, &h, &data, &len)) {
            if (g->len + len > g->cap) {
                g->cap = (g->len + len) * 2;
                g->buf = realloc(g->buf, g->cap);
            }
            memcpy(g->buf + g->len, data, len);
            g->len += len;
            if (g->n < 64) {
                g->hdrs[g->n] = h;
                g->lens[g->n] = len;
            }
            g->n++;
            done++;
        }
    }
    free(pkt);
    return done;
}

START_TEST(test_ipc_small_message)
{
    swco__proc_shared_t *ps = pair_of_sockets(256 * 1024);
    swco__outbox_t o;
    swco__outbox_init(&o, ps->ev_m[0], ps->chunk);
    swco__pmsg_hdr_t h;
    memset(&h, 0, sizeof h);
    h.type = SWCO__PM_RECEIVE;
    h.reactor = 3;
    h.listener = 2;
    h.conn = 0x123456789LL;
    ck_assert_int_eq(swco__outbox_send(&o, &h, "hello", 5), 0);
    ck_assert_ptr_null(o.head); /* went straight out */
    swco__reasm_t r;
    memset(&r, 0, sizeof r);
    got_t g;
    memset(&g, 0, sizeof g);
    ck_assert_int_eq(drain(ps->ev_w[0], &r, &g, sizeof h + ps->chunk), 1);
    ck_assert_uint_eq(g.len, 5);
    ck_assert(memcmp(g.buf, "hello", 5) == 0);
    ck_assert_int_eq(g.hdrs[0].type, SWCO__PM_RECEIVE);
    ck_assert_int_eq(g.hdrs[0].reactor, 3);
    ck_assert_int_eq(g.hdrs[0].listener, 2);
    ck_assert(g.hdrs[0].conn == 0x123456789LL);
    /* An empty payload is a message too. */
    h.type = SWCO__PM_CLOSE;
    ck_assert_int_eq(swco__outbox_send(&o, &h, NULL, 0), 0);
    ck_assert_int_eq(drain(ps->ev_w[0], &r, &g, sizeof h + ps->chunk), 1);
    ck_assert_int_eq(g.hdrs[1].type, SWCO__PM_CLOSE);
    ck_assert_uint_eq(g.lens[1], 0);
    free(g.buf);
    swco__reasm_free(&r);
    swco__proc_shared_free(ps);
}
END_TEST

/* Several MiB through a socket of a few hundred KiB: chunks, the queue
 * while the socket is full, and the reader reassembling the whole. */
START_TEST(test_ipc_large_message_chunked)
{
    swco__proc_shared_t *ps = pair_of_sockets(128 * 1024);
    size_t big = 5 * 1024 * 1024 + 123;
    char *payload = malloc(big);
    for (size_t i = 0; i < big; i++)
        payload[i] = (char)(i * 7 + i / 4096);
    swco__outbox_t o;
    swco__outbox_init(&o, ps->ev_m[0], ps->chunk);
    swco__pmsg_hdr_t h;
    memset(&h, 0, sizeof h);
    h.type = SWCO__PM_RECEIVE;
    ck_assert_int_eq(swco__outbox_send(&o, &h, payload, big), 0);
    ck_assert_ptr_nonnull(o.head); /* the socket could not take it all */
    ck_assert_uint_gt(o.packets, 1);
    /* A second message queues behind the first, whole. */
    ck_assert_int_eq(swco__outbox_send(&o, &h, "after", 5), 0);
    swco__reasm_t r;
    memset(&r, 0, sizeof r);
    got_t g;
    memset(&g, 0, sizeof g);
    int rounds = 0;
    while (g.n < 2) {
        drain(ps->ev_w[0], &r, &g, sizeof h + ps->chunk);
        int rc = swco__outbox_flush(&o);
        ck_assert_int_ge(rc, 0);
        ck_assert_int_lt(++rounds, 100000);
    }
    ck_assert_int_eq(g.n, 2);
    ck_assert_uint_eq(g.lens[0], big);
    ck_assert_uint_eq(g.lens[1], 5);
    ck_assert(memcmp(g.buf, payload, big) == 0);
    ck_assert(memcmp(g.buf + big, "after", 5) == 0);
    ck_assert_uint_eq(o.bytes, 0);
    ck_assert_int_eq(r.dropped, 0);
    free(payload);
    free(g.buf);
    swco__reasm_free(&r);
    swco__proc_shared_free(ps);
}
END_TEST

/* A writer that died half way through a message (its chunks stop) must not
 * spoil the next writer's messages; stray and mismatched chunks are
 * dropped. */
static size_t raw_packet(char *out, uint8_t type, uint8_t flags, uint32_t seq, uint64_t total,
                         const char *data, size_t len)
{
    swco__pmsg_hdr_t h;
    memset(&h, 0, sizeof h);
    h.type = type;
    h.flags = flags;
    h.seq = seq;
    h.total = total;
    memcpy(out, &h, sizeof h);
    memcpy(out + sizeof h, data, len);
    return sizeof h + len;
}

START_TEST(test_ipc_broken_sequences_dropped)
{
    swco__reasm_t r;
    memset(&r, 0, sizeof r);
    char pkt[256];
    swco__pmsg_hdr_t h;
    const char *data;
    size_t len, n;
    /* First chunk of a 12-byte message, then its writer is gone; the next
     * writer starts a new message: the old one is dropped. */
    n = raw_packet(pkt, SWCO__PM_RECEIVE, SWCO__PMF_FIRST, 7, 12, "abcd", 4);
    ck_assert_int_eq(swco__reasm_feed(&r, pkt, n, &h, &data, &len), 0);
    n = raw_packet(pkt, SWCO__PM_RECEIVE, SWCO__PMF_FIRST, 1, 6, "xyz", 3);
    ck_assert_int_eq(swco__reasm_feed(&r, pkt, n, &h, &data, &len), 0);
    ck_assert_int_eq(r.dropped, 1);
    n = raw_packet(pkt, SWCO__PM_RECEIVE, SWCO__PMF_LAST, 1, 6, "uvw", 3);
    ck_assert_int_eq(swco__reasm_feed(&r, pkt, n, &h, &data, &len), 1);
    ck_assert_uint_eq(len, 6);
    ck_assert(memcmp(data, "xyzuvw", 6) == 0);
    /* The rest of a message whose start was never seen (read by a worker
     * that died): dropped, the next whole message comes through. */
    n = raw_packet(pkt, SWCO__PM_RECEIVE, SWCO__PMF_LAST, 9, 8, "tail", 4);
    ck_assert_int_eq(swco__reasm_feed(&r, pkt, n, &h, &data, &len), 0);
    n = raw_packet(pkt, SWCO__PM_CLOSE, SWCO__PMF_FIRST | SWCO__PMF_LAST, 10, 0, "", 0);
    ck_assert_int_eq(swco__reasm_feed(&r, pkt, n, &h, &data, &len), 1);
    ck_assert_int_eq(h.type, SWCO__PM_CLOSE);
    /* A chunk of another sequence in the middle ends the message. */
    n = raw_packet(pkt, SWCO__PM_RECEIVE, SWCO__PMF_FIRST, 11, 9, "123", 3);
    ck_assert_int_eq(swco__reasm_feed(&r, pkt, n, &h, &data, &len), 0);
    n = raw_packet(pkt, SWCO__PM_RECEIVE, 0, 12, 9, "456", 3);
    ck_assert_int_eq(swco__reasm_feed(&r, pkt, n, &h, &data, &len), 0);
    n = raw_packet(pkt, SWCO__PM_RECEIVE, SWCO__PMF_LAST, 11, 9, "789", 3);
    ck_assert_int_eq(swco__reasm_feed(&r, pkt, n, &h, &data, &len), 0);
    /* More bytes than the message said, a packet shorter than a header, a
     * single packet whose length disagrees with its total. */
    n = raw_packet(pkt, SWCO__PM_RECEIVE, SWCO__PMF_FIRST, 13, 4, "12", 2);
    ck_assert_int_eq(swco__reasm_feed(&r, pkt, n, &h, &data, &len), 0);
    n = raw_packet(pkt, SWCO__PM_RECEIVE, SWCO__PMF_LAST, 13, 4, "345", 3);
    ck_assert_int_eq(swco__reasm_feed(&r, pkt, n, &h, &data, &len), 0);
    ck_assert_int_eq(swco__reasm_feed(&r, pkt, 5, &h, &data, &len), 0);
    n = raw_packet(pkt, SWCO__PM_RECEIVE, SWCO__PMF_FIRST | SWCO__PMF_LAST, 14, 5, "12", 2);
    ck_assert_int_eq(swco__reasm_feed(&r, pkt, n, &h, &data, &len), 0);
    /* And still a good message after all that. */
    n = raw_packet(pkt, SWCO__PM_SEND, SWCO__PMF_FIRST | SWCO__PMF_LAST, 15, 2, "ok", 2);
    ck_assert_int_eq(swco__reasm_feed(&r, pkt, n, &h, &data, &len), 1);
    ck_assert(memcmp(data, "ok", 2) == 0);
    ck_assert_int_ge(r.dropped, 6);
    swco__reasm_free(&r);
}
END_TEST

/* A real writer process killed in the middle of a chunked message: the
 * socket's next writer (same socket, as a respawned worker) is read
 * correctly. */
START_TEST(test_ipc_writer_killed_mid_message)
{
    swco__proc_shared_t *ps = pair_of_sockets(128 * 1024);
    int go[2];
    ck_assert_int_eq(pipe(go), 0);
    pid_t pid = fork();
    if (pid == 0) {
        swco__outbox_t o;
        swco__outbox_init(&o, ps->rq_w[0], ps->chunk);
        swco__pmsg_hdr_t h;
        memset(&h, 0, sizeof h);
        h.type = SWCO__PM_SEND;
        size_t big = 4 * 1024 * 1024;
        char *p = calloc(1, big);
        swco__outbox_send(&o, &h, p, big); /* the socket takes a part */
        char c = 1;
        if (write(go[1], &c, 1) != 1)
            _exit(2);
        for (;;)
            pause(); /* killed here, the rest never sent */
    }
    char c;
    ck_assert_int_eq(read(go[0], &c, 1), 1);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    /* The next writer on the same socket. */
    swco__outbox_t o;
    swco__outbox_init(&o, ps->rq_w[0], ps->chunk);
    o.seq = 0; /* a fresh incarnation numbers from the start again */
    swco__pmsg_hdr_t h;
    memset(&h, 0, sizeof h);
    h.type = SWCO__PM_SEND;
    swco__reasm_t r;
    memset(&r, 0, sizeof r);
    got_t g;
    memset(&g, 0, sizeof g);
    size_t msg = 200 * 1024;
    char *p = malloc(msg);
    memset(p, 'n', msg);
    ck_assert_int_eq(swco__outbox_send(&o, &h, p, msg), 0);
    int rounds = 0;
    while (g.n < 1) {
        drain(ps->rq_m[0], &r, &g, sizeof h + ps->chunk);
        ck_assert_int_ge(swco__outbox_flush(&o), 0);
        ck_assert_int_lt(++rounds, 100000);
    }
    ck_assert_int_eq(g.n, 1);
    ck_assert_uint_eq(g.lens[0], msg);
    ck_assert(memcmp(g.buf, p, msg) == 0);
    ck_assert_int_eq(r.dropped, 1);
    free(p);
    free(g.buf);
    swco__reasm_free(&r);
    close(go[0]);
    close(go[1]);
    swco__proc_shared_free(ps);
}
END_TEST

/* A peer that is gone: the writer gets an error, not SIGPIPE. */
START_TEST(test_ipc_peer_gone)
{
    swco__proc_shared_t *ps = pair_of_sockets(64 * 1024);
    swco__proc_shared_close(ps, 0);
    swco__outbox_t o;
    swco__outbox_init(&o, ps->ev_m[0], ps->chunk);
    swco__pmsg_hdr_t h;
    memset(&h, 0, sizeof h);
    h.type = SWCO__PM_RECEIVE;
    int rc = swco__outbox_send(&o, &h, "x", 1);
    ck_assert_msg(rc == -EPIPE || rc == -ECONNRESET, "rc %d", rc);
    ck_assert_ptr_null(o.head);
    swco__proc_shared_free(ps);
}
END_TEST

/* ------------------------------------------------------------ dispatch */

typedef struct fake_srv {
    swco_server_t srv;
    swco__srv_shm_t *shm;
    swco__proc_shared_t *ps;
} fake_srv_t;

static void fake_init(fake_srv_t *f, int workers, int mode)
{
    memset(f, 0, sizeof *f);
    int err;
    f->ps = swco__proc_shared_new(workers, 1, 64 * 1024, &err);
    ck_assert_ptr_nonnull(f->ps);
    f->shm = calloc(1, sizeof(swco__srv_shm_t) + (size_t)workers * sizeof(swco__srv_wshm_t));
    f->srv.shm = f->shm;
    f->srv.mode = SWCO_SERVER_PROCESS;
    f->srv.opt.worker_num = workers;
    f->srv.opt.dispatch_mode = mode;
}

static void fake_free(fake_srv_t *f)
{
    swco__proc_shared_free(f->ps);
    free(f->shm);
}

static swco__conn_t conn_at(int fd, const char *addr, int port, long long uid)
{
    swco__conn_t c;
    memset(&c, 0, sizeof c);
    c.fd = fd;
    c.state = SWCO__CONN_OPEN;
    c.gen = 1;
    snprintf(c.addr, sizeof c.addr, "%s", addr);
    c.port = port;
    c.uid = uid;
    c.worker_id = -1;
    return c;
}

START_TEST(test_dispatch_fd_mod_and_round_robin)
{
    fake_srv_t f;
    fake_init(&f, 3, SWCO_DISPATCH_FD_MOD);
    for (int fd = 5; fd < 20; fd++) {
        swco__conn_t c = conn_at(fd, "127.0.0.1", 4000 + fd, 0);
        long long id = swco__conn_make_id(0, 1, fd);
        for (int k = 0; k < 3; k++)
            ck_assert_int_eq(swco__proc_pick(&f.srv, f.ps, &c, id, SWCO_SERVER_EV_RECEIVE, "x", 1),
                             fd % 3);
        ck_assert_int_eq(c.worker_id, fd % 3);
    }
    ck_assert_int_eq(swco__proc_conn_events(&f.srv), 1);
    f.srv.opt.dispatch_mode = SWCO_DISPATCH_ROUND_ROBIN;
    ck_assert_int_eq(swco__proc_conn_events(&f.srv), 0);
    swco__conn_t c = conn_at(7, "127.0.0.1", 4000, 0);
    int seen[3] = {0};
    int prev = swco__proc_pick(&f.srv, f.ps, &c, 7, SWCO_SERVER_EV_RECEIVE, "x", 1);
    for (int i = 0; i < 30; i++) {
        int w = swco__proc_pick(&f.srv, f.ps, &c, 7, SWCO_SERVER_EV_RECEIVE, "x", 1);
        ck_assert_int_eq(w, (prev + 1) % 3);
        seen[w]++;
        prev = w;
    }
    ck_assert_int_eq(seen[0], 10);
    ck_assert_int_eq(seen[1], 10);
    ck_assert_int_eq(seen[2], 10);
    fake_free(&f);
}
END_TEST

START_TEST(test_dispatch_ip_and_uid_mod)
{
    fake_srv_t f;
    fake_init(&f, 4, SWCO_DISPATCH_IP_MOD);
    /* One address, any port and fd: one worker; several addresses spread. */
    swco__conn_t a = conn_at(10, "10.0.0.1", 1111, 0), b = conn_at(11, "10.0.0.1", 2222, 0);
    int wa = swco__proc_pick(&f.srv, f.ps, &a, 10, SWCO_SERVER_EV_CONNECT, NULL, 0);
    ck_assert_int_eq(swco__proc_pick(&f.srv, f.ps, &b, 11, SWCO_SERVER_EV_RECEIVE, "x", 1), wa);
    int seen[4] = {0};
    for (int i = 0; i < 64; i++) {
        char ip[32];
        snprintf(ip, sizeof ip, "10.0.%d.%d", i / 8, i % 8 + 1);
        swco__conn_t c = conn_at(20 + i, ip, 5000, 0);
        seen[swco__proc_pick(&f.srv, f.ps, &c, 20 + i, SWCO_SERVER_EV_RECEIVE, "x", 1)]++;
    }
    for (int w = 0; w < 4; w++)
        ck_assert_int_gt(seen[w], 0);
    /* UID_MOD: by uid once bound, fd mod before. */
    f.srv.opt.dispatch_mode = SWCO_DISPATCH_UID_MOD;
    swco__conn_t u = conn_at(13, "10.0.0.1", 1111, 0);
    ck_assert_int_eq(swco__proc_pick(&f.srv, f.ps, &u, 13, SWCO_SERVER_EV_RECEIVE, "x", 1), 13 % 4);
    u.uid = 1002;
    ck_assert_int_eq(swco__proc_pick(&f.srv, f.ps, &u, 13, SWCO_SERVER_EV_RECEIVE, "x", 1), 1002 % 4);
    fake_free(&f);
}
END_TEST

START_TEST(test_dispatch_idle_worker)
{
    fake_srv_t f;
    fake_init(&f, 3, SWCO_DISPATCH_IDLE_WORKER);
    swco__conn_t c = conn_at(9, "127.0.0.1", 1234, 0);
    /* Workers 0 and 2 busy with a handler, worker 1 has two events queued
     * unread: 0 and 2 have 1 each, so never 1. */
    f.shm->workers[0].busy = 1;
    f.shm->workers[2].busy = 1;
    f.ps->cnt->w[1].dispatched = 2;
    int seen[3] = {0};
    for (int i = 0; i < 12; i++)
        seen[swco__proc_pick(&f.srv, f.ps, &c, 9, SWCO_SERVER_EV_RECEIVE, "x", 1)]++;
    ck_assert_int_eq(seen[1], 0);
    ck_assert_int_gt(seen[0], 0);
    ck_assert_int_gt(seen[2], 0);
    /* Worker 1 read its events and worker 0 is free: the idle one wins. */
    f.ps->cnt->w[1].taken = 2;
    f.shm->workers[0].busy = 0;
    f.shm->workers[2].busy = 3;
    f.ps->cnt->w[1].dispatched = 3; /* one unread */
    for (int i = 0; i < 6; i++)
        ck_assert_int_eq(swco__proc_pick(&f.srv, f.ps, &c, 9, SWCO_SERVER_EV_RECEIVE, "x", 1), 0);
    fake_free(&f);
}
END_TEST

static int pick_by_first_byte(swco_server_t *srv, long long fd, int event, const void *data,
                              size_t len, void *arg)
{
    (void)srv;
    (void)fd;
    (*(int *)arg)++;
    if (event != SWCO_SERVER_EV_RECEIVE || len == 0)
        return 1;
    return ((const char *)data)[0] - '0';
}

START_TEST(test_dispatch_callback)
{
    fake_srv_t f;
    fake_init(&f, 3, SWCO_DISPATCH_ROUND_ROBIN);
    int calls = 0;
    f.srv.cb[SWCO__CB_DISPATCH].fn = (void *)pick_by_first_byte;
    f.srv.cb[SWCO__CB_DISPATCH].arg = &calls;
    ck_assert_int_eq(swco__proc_conn_events(&f.srv), 1);
    swco__conn_t c = conn_at(8, "127.0.0.1", 1234, 0);
    ck_assert_int_eq(swco__proc_pick(&f.srv, f.ps, &c, 8, SWCO_SERVER_EV_CONNECT, NULL, 0), 1);
    ck_assert_int_eq(swco__proc_pick(&f.srv, f.ps, &c, 8, SWCO_SERVER_EV_RECEIVE, "2x", 2), 2);
    ck_assert_int_eq(c.worker_id, 2);
    ck_assert_int_eq(swco__proc_pick(&f.srv, f.ps, &c, 8, SWCO_SERVER_EV_RECEIVE, "0x", 2), 0);
    /* Out of range: fd mod. */
    ck_assert_int_eq(swco__proc_pick(&f.srv, f.ps, &c, 8, SWCO_SERVER_EV_RECEIVE, "9x", 2), 8 % 3);
    ck_assert_int_eq(swco__proc_pick(&f.srv, f.ps, &c, 8, SWCO_SERVER_EV_RECEIVE, "/x", 2), 8 % 3);
    ck_assert_int_eq(calls, 5);
    fake_free(&f);
}
END_TEST

/* ================================================================= main */

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    Suite *s = suite_create("server_process");
    TCase *tc = tcase_create("ipc");
    tcase_add_test(tc, test_ipc_small_message);
    tcase_add_test(tc, test_ipc_large_message_chunked);
    tcase_add_test(tc, test_ipc_broken_sequences_dropped);
    tcase_add_test(tc, test_ipc_writer_killed_mid_message);
    tcase_add_test(tc, test_ipc_peer_gone);
    suite_add_tcase(s, tc);
    tc = tcase_create("dispatch");
    tcase_add_test(tc, test_dispatch_fd_mod_and_round_robin);
    tcase_add_test(tc, test_dispatch_ip_and_uid_mod);
    tcase_add_test(tc, test_dispatch_idle_worker);
    tcase_add_test(tc, test_dispatch_callback);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
