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
#include <stdarg.h>
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
    swco__proc_shared_t *ps = swco__proc_shared_new(1, 0, 1, sockbuf, &err);
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

/* Once the workers' ends are closed in the master, its own ends are moved
 * down: the next descriptors are consecutive, so fd mod alternates. */
START_TEST(test_ipc_compact_leaves_no_holes)
{
    int err;
    swco__proc_shared_t *ps = swco__proc_shared_new(2, 1, 2, 64 * 1024, &err);
    ck_assert_ptr_nonnull(ps);
    swco__proc_shared_close(ps, 0);
    swco__proc_shared_compact(ps);
    int fds[6];
    for (int i = 0; i < 6; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM, 0);
        ck_assert_int_ge(fds[i], 0);
        if (i)
            ck_assert_int_eq(fds[i], fds[i - 1] + 1);
    }
    for (int i = 0; i < 10; i++) { /* ev: 2 workers x 2; rq: 3 senders x 2 */
        int *p = i < 4 ? &ps->ev_m[i] : &ps->rq_m[i - 4];
        ck_assert_int_lt(*p, fds[0]);
        ck_assert_int_ge(fcntl(*p, F_GETFD), 0); /* still open */
        ck_assert(fcntl(*p, F_GETFL) & O_NONBLOCK);
    }
    for (int i = 0; i < 6; i++)
        close(fds[i]);
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
    f->ps = swco__proc_shared_new(workers, 0, 1, 64 * 1024, &err);
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
    /* Equally busy: the worker that read an event last wins (the other
     * one's handler may be stuck), whatever the round robin position. */
    f.shm->workers[0].busy = 1;
    f.shm->workers[1].busy = 1;
    f.shm->workers[2].busy = 1;
    f.ps->cnt->w[1].taken = 3;
    for (int i = 0; i < 6; i++) {
        ck_assert_int_eq(swco__proc_pick(&f.srv, f.ps, &c, 9, SWCO_SERVER_EV_RECEIVE, "x", 1), 1);
        f.ps->cnt->w[1].dispatched = f.ps->cnt->w[1].taken; /* read at once */
    }
    f.ps->cnt->w[2].taken++;
    f.ps->cnt->w[2].dispatched = f.ps->cnt->w[2].taken;
    ck_assert_int_eq(swco__proc_pick(&f.srv, f.ps, &c, 9, SWCO_SERVER_EV_RECEIVE, "x", 1), 2);
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

/* ====================================================== a real server */

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <pthread.h>

/* What the server child does, set before it forks (workers inherit it). */
typedef struct srv_cfg {
    int workers;
    int reactors;
    int dispatch_mode;
    int dispatch_cb;        /* route by the line's first byte */
    int enable_coroutine;
    const char *socket_buffer_size;
    int block_first_data;   /* enable_coroutine 0: the first D line blocks the worker */
    int task_workers;
    int note_close;         /* the dispatch callback notes close events */
} srv_cfg_t;

static srv_cfg_t cfg;
static int ev_w = -1;       /* server -> test: event lines */
static int rel_r = -1;      /* test -> server: one byte releases one blocked handler */
static int blocked_once;

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...)
{
    char b[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b, sizeof b, fmt, ap);
    va_end(ap);
    if (n > 0 && write(ev_w, b, (size_t)n) != n)
        _exit(3);
}

static void reply(swco_server_t *srv, long long fd, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void reply(swco_server_t *srv, long long fd, const char *fmt, ...)
{
    char b[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b, sizeof b, fmt, ap);
    va_end(ap);
    swco_server_send(srv, fd, b, (size_t)n);
}

/* Wait for one release byte: in a coroutine through the loop, else by
 * blocking the whole worker (a slow worker). */
static void wait_release(void)
{
    char c;
    for (;;) {
        if (swco_coroutine_id() > 0)
            swco_event_wait_fd(rel_r, SWCO_EVENT_READ, -1);
        else {
            struct pollfd p = {rel_r, POLLIN, 0};
            poll(&p, 1, -1);
        }
        if (read(rel_r, &c, 1) == 1)
            return;
    }
}

/* A reply sent on the loop's next turn, after the handler returned: when
 * the client has it the worker is idle again (for idle worker mode). */
typedef struct later {
    swco_server_t *srv;
    long long fd;
    char text[300];
} later_t;

static void send_later(void *arg)
{
    later_t *l = arg;
    swco_server_send(l->srv, l->fd, l->text, strlen(l->text));
}

static void on_receive(swco_server_t *srv, long long fd, int reactor_id, const void *data,
                       size_t len, void *arg)
{
    (void)reactor_id;
    (void)arg;
    int wid = swco_server_worker_id(srv);
    const char *d = data;
    if (len && d[len - 1] == '\n')
        len--;
    if (len && d[0] == 'D') { /* data line: echoed as it is */
        if (cfg.block_first_data && !blocked_once) {
            blocked_once = 1;
            note("blocked %d\n", wid);
            wait_release();
        }
        char *copy = malloc(len + 1);
        memcpy(copy, d, len);
        copy[len] = '\n';
        long rc = swco_server_send(srv, fd, copy, len + 1);
        if (rc != (long)len + 1)
            note("send failed %ld\n", rc);
        free(copy);
        return;
    }
    char buf[256];
    size_t n = len < sizeof buf - 1 ? len : sizeof buf - 1;
    memcpy(buf, d, n);
    buf[n] = 0;
    /* A leading I only routes (dispatch callback) */
    const char *line = buf[0] == 'I' ? buf + 1 : buf;
    if (strncmp(line, "echo ", 5) == 0 || (line[0] >= '0' && line[0] <= '9')) {
        reply(srv, fd, "%d %s\n", wid, line);
    } else if (strncmp(line, "later ", 6) == 0) {
        later_t *l = malloc(sizeof *l);
        l->srv = srv;
        l->fd = fd;
        snprintf(l->text, sizeof l->text, "%d %s\n", wid, line);
        swco_event_defer(send_later, l, free);
    } else if (strcmp(line, "viatask") == 0) {
        char id[32];
        int n = snprintf(id, sizeof id, "%lld", fd);
        long t = swco_server_task(srv, id, (size_t)n, -1);
        if (t < 0)
            reply(srv, fd, "%d task failed %ld\n", wid, t);
    } else if (strcmp(line, "pid") == 0) {
        reply(srv, fd, "%d %d\n", wid, (int)getpid());
    } else if (strncmp(line, "bind ", 5) == 0) {
        int rc = swco_server_bind(srv, fd, atoll(line + 5));
        reply(srv, fd, "%d bound %d\n", wid, rc);
    } else if (strcmp(line, "block") == 0) {
        note("blocked %d\n", wid);
        wait_release();
        reply(srv, fd, "%d released\n", wid);
    } else if (strncmp(line, "bcast ", 6) == 0) {
        long long fds[64];
        long k = swco_server_connections(srv, 0, fds, 64), sent = 0;
        for (long i = 0; i < k; i++)
            if (fds[i] != fd && swco_server_send(srv, fds[i], line + 6, strlen(line + 6)) > 0 &&
                swco_server_send(srv, fds[i], "\n", 1) == 1)
                sent++;
        reply(srv, fd, "%d sent %ld\n", wid, sent);
    } else if (strncmp(line, "info ", 5) == 0) {
        swco_server_client_info_t info;
        memset(&info, 0, sizeof info);
        info.size = sizeof info;
        int rc = swco_server_get_client_info(srv, atoll(line + 5), &info);
        reply(srv, fd, "%d info %d paused=%d worker=%d\n", wid, rc, info.paused, info.worker_id);
    } else if (strcmp(line, "whoami") == 0) {
        reply(srv, fd, "%d %lld\n", wid, fd);
    } else if (strncmp(line, "big ", 4) == 0) {
        size_t want = (size_t)atol(line + 4);
        char *b = malloc(want + 1);
        for (size_t i = 0; i < want; i++)
            b[i] = (char)('a' + i % 26);
        b[want] = '\n';
        long rc = swco_server_send(srv, fd, b, want + 1);
        free(b);
        if (rc < 0)
            reply(srv, fd, "%d big failed %ld\n", wid, rc);
    } else if (strcmp(line, "waitsend") == 0) {
        long rc = swco_server_sendwait(srv, fd, "waited\n", 7);
        reply(srv, fd, "%d sendwait %ld\n", wid, rc);
    } else {
        reply(srv, fd, "%d ? %s\n", wid, line);
    }
}

/* Noted on the loop's next turn: once the start callback has returned,
 * so the worker no longer counts as busy with it. */
static void note_start(void *arg)
{
    note("start %d %d\n", (int)(intptr_t)arg, (int)getpid());
}

/* In a task worker: the task is a connection id; it gets a line from
 * here (a task worker sends to connections too). */
static void on_task(swco_server_t *srv, long task_id, int src_worker_id, const void *data,
                    size_t len, void *arg)
{
    (void)arg;
    char id[32];
    snprintf(id, sizeof id, "%.*s", (int)len, (const char *)data);
    char b[64];
    int n = snprintf(b, sizeof b, "%d from task worker for %d\n", swco_server_worker_id(srv),
                     src_worker_id);
    long rc = swco_server_send(srv, atoll(id), b, (size_t)n);
    if (rc != n)
        note("task send failed %ld\n", rc);
    swco_server_finish(srv, task_id, "ok", 2);
}

static void on_finish(swco_server_t *srv, long task_id, const void *data, size_t len, void *arg)
{
    (void)srv;
    (void)task_id;
    (void)data;
    (void)len;
    (void)arg;
}

static void on_worker_start(swco_server_t *srv, int worker_id, void *arg)
{
    (void)srv;
    (void)arg;
    swco_event_defer(note_start, (void *)(intptr_t)worker_id, NULL);
}



static int exit_noted;
static void on_worker_exit(swco_server_t *srv, int worker_id, void *arg)
{
    (void)srv;
    (void)arg;
    if (!exit_noted++)
        note("exiting %d\n", worker_id);
}

static void on_shutdown(swco_server_t *srv, void *arg)
{
    (void)srv;
    (void)arg;
    note("shutdown\n");
}

static int by_first_byte(swco_server_t *srv, long long fd, int event, const void *data,
                         size_t len, void *arg)
{
    (void)srv;
    (void)fd;
    (void)arg;
    const char *d = data;
    if (event == SWCO_SERVER_EV_CLOSE && cfg.note_close)
        note("dispatch close\n"); /* in the master: it saw the close (or EOF) */
    if (event != SWCO_SERVER_EV_RECEIVE || len == 0)
        return 0;
    if (d[0] == 'I')
        return 1;
    if (d[0] >= '0' && d[0] <= '9')
        return d[0] - '0';
    return 0;
}

typedef struct server {
    pid_t pid;
    int port;
    int ev_r;     /* event lines from the server */
    int rel_w;    /* release bytes to it */
    char evbuf[4096];
    size_t evlen;
} server_t;

static void set(swco_server_t *srv, const char *name, const char *value)
{
    int rc = swco_server_set(srv, name, value);
    if (rc != 0) {
        fprintf(stderr, "set %s=%s: %s\n", name, value, swco_strerror(rc));
        _exit(4);
    }
}

static void start_server(server_t *sv, const srv_cfg_t *c)
{
    int evp[2], relp[2], portp[2];
    ck_assert_int_eq(pipe(evp), 0);
    ck_assert_int_eq(pipe(relp), 0);
    ck_assert_int_eq(pipe(portp), 0);
    memset(sv, 0, sizeof *sv);
    sv->pid = fork();
    ck_assert_int_ge(sv->pid, 0);
    if (sv->pid == 0) {
        cfg = *c;
        ev_w = evp[1];
        rel_r = relp[0];
        fcntl(rel_r, F_SETFL, O_NONBLOCK);
        close(evp[0]);
        close(relp[1]);
        close(portp[0]);
        swco_server_t *srv = swco_server_new("127.0.0.1", 0, SWCO_SERVER_PROCESS, SWCO_SOCK_TCP);
        if (!srv)
            _exit(5);
        char v[32];
        snprintf(v, sizeof v, "%d", cfg.workers);
        set(srv, "worker_num", v);
        snprintf(v, sizeof v, "%d", cfg.reactors ? cfg.reactors : 2);
        set(srv, "reactor_num", v);
        snprintf(v, sizeof v, "%d", cfg.dispatch_mode ? cfg.dispatch_mode : 2);
        set(srv, "dispatch_mode", v);
        set(srv, "open_eof_split", "1");
        set(srv, "package_eof", "\n");
        set(srv, "package_max_length", "33554432");
        set(srv, "buffer_output_size", "67108864");
        if (cfg.socket_buffer_size)
            set(srv, "socket_buffer_size", cfg.socket_buffer_size);
        if (!cfg.enable_coroutine)
            set(srv, "enable_coroutine", "0");
        snprintf(v, sizeof v, "%g", 30 * slow());
        set(srv, "max_wait_time", v);
        swco_server_on_receive(srv, on_receive, NULL, NULL);
        swco_server_on_worker_start(srv, on_worker_start, NULL, NULL);
        swco_server_on_worker_exit(srv, on_worker_exit, NULL, NULL);
        swco_server_on_shutdown(srv, on_shutdown, NULL, NULL);
        if (cfg.dispatch_cb)
            swco_server_set_dispatch(srv, by_first_byte, NULL, NULL);
        if (cfg.task_workers) {
            snprintf(v, sizeof v, "%d", cfg.task_workers);
            set(srv, "task_worker_num", v);
            swco_server_on_task(srv, on_task, NULL, NULL);
            swco_server_on_finish(srv, on_finish, NULL, NULL);
        }
        int port = swco_server_listener_port(srv, 0);
        if (write(portp[1], &port, sizeof port) != sizeof port)
            _exit(6);
        close(portp[1]);
        int rc = swco_server_start(srv);
        swco_server_free(srv);
        _exit(rc == 0 ? 0 : 7);
    }
    close(evp[1]);
    close(relp[0]);
    close(portp[1]);
    ck_assert_int_eq(read(portp[0], &sv->port, sizeof sv->port), (long)sizeof sv->port);
    close(portp[0]);
    sv->ev_r = evp[0];
    sv->rel_w = relp[1];
    ck_assert_int_gt(sv->port, 0);
}

/* The next event line from the server (a safety limit, not a clock). */
static void next_event(server_t *sv, char *out, size_t cap)
{
    for (;;) {
        char *nl = memchr(sv->evbuf, '\n', sv->evlen);
        if (nl) {
            size_t n = (size_t)(nl - sv->evbuf);
            ck_assert_uint_lt(n, cap);
            memcpy(out, sv->evbuf, n);
            out[n] = 0;
            memmove(sv->evbuf, nl + 1, sv->evlen - n - 1);
            sv->evlen -= n + 1;
            return;
        }
        struct pollfd p = {sv->ev_r, POLLIN, 0};
        ck_assert_msg(poll(&p, 1, (int)(20000 * slow())) == 1, "no event from the server");
        ssize_t n = read(sv->ev_r, sv->evbuf + sv->evlen, sizeof sv->evbuf - sv->evlen);
        ck_assert_msg(n > 0, "server event pipe closed");
        sv->evlen += (size_t)n;
    }
}

/* Wait for an event line starting with prefix, skipping others. */
static void expect_event(server_t *sv, const char *prefix, char *out, size_t cap)
{
    for (;;) {
        next_event(sv, out, cap);
        if (strncmp(out, prefix, strlen(prefix)) == 0)
            return;
    }
}

static void stop_server(server_t *sv)
{
    kill(sv->pid, SIGTERM);
    int st;
    ck_assert_int_eq(waitpid(sv->pid, &st, 0), sv->pid);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "server exit status %d", st);
    close(sv->ev_r);
    close(sv->rel_w);
}

/* A client connection with a line reader. */
typedef struct client {
    int fd;
    char buf[8192];
    size_t len;
} client_t;

static void client_open(client_t *c, int port)
{
    memset(c, 0, sizeof *c);
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(c->fd, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(c->fd, (struct sockaddr *)&a, sizeof a), 0);
    struct timeval tv = {(time_t)(20 * slow()), 0};
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static void client_send(client_t *c, const char *s, size_t n)
{
    while (n) {
        ssize_t w = write(c->fd, s, n);
        ck_assert_int_gt(w, 0);
        s += w;
        n -= (size_t)w;
    }
}

/* One line (without '\n') into out; returns its length, -1 at EOF. */
static long client_line(client_t *c, char *out, size_t cap)
{
    for (;;) {
        char *nl = memchr(c->buf, '\n', c->len);
        if (nl) {
            size_t n = (size_t)(nl - c->buf);
            ck_assert_uint_lt(n, cap);
            memcpy(out, c->buf, n);
            out[n] = 0;
            memmove(c->buf, nl + 1, c->len - n - 1);
            c->len -= n + 1;
            return (long)n;
        }
        ck_assert_uint_lt(c->len, sizeof c->buf);
        ssize_t r = read(c->fd, c->buf + c->len, sizeof c->buf - c->len);
        ck_assert_msg(r >= 0, "client read: %s", strerror(errno));
        if (r == 0)
            return -1;
        c->len += (size_t)r;
    }
}

/* Send a request line, read the reply; returns the worker id it names. */
static int ask(client_t *c, const char *req, char *rep, size_t cap)
{
    char line[300];
    snprintf(line, sizeof line, "%s\n", req);
    client_send(c, line, strlen(line));
    char tmp[512];
    if (!rep) {
        rep = tmp;
        cap = sizeof tmp;
    }
    ck_assert_int_ge(client_line(c, rep, cap), 0);
    return atoi(rep);
}

static int have(const char *prog)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", prog);
    if (system(cmd) == 0)
        return 1;
    if (getenv("CI") && strcmp(getenv("CI"), "true") == 0)
        ck_abort_msg("%s is needed by this test (CI=true)", prog);
    fprintf(stderr, "skipped: %s is not installed\n", prog);
    return 0;
}

/* A peer program run by sh, its stdin and stdout ours. */
typedef struct peer {
    pid_t pid;
    int in;
    client_t out;
} peer_t;

static void peer_open(peer_t *p, const char *cmd)
{
    int in[2], out[2];
    ck_assert_int_eq(pipe(in), 0);
    ck_assert_int_eq(pipe(out), 0);
    memset(p, 0, sizeof *p);
    p->pid = fork();
    ck_assert_int_ge(p->pid, 0);
    if (p->pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[0]);
        close(in[1]);
        close(out[0]);
        close(out[1]);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    p->in = in[1];
    p->out.fd = out[0];
}

static int peer_ask(peer_t *p, const char *req, char *rep, size_t cap)
{
    char line[300];
    int n = snprintf(line, sizeof line, "%s\n", req);
    ck_assert_int_eq(write(p->in, line, (size_t)n), n);
    struct pollfd pf = {p->out.fd, POLLIN, 0};
    if (!memchr(p->out.buf, '\n', p->out.len))
        ck_assert_msg(poll(&pf, 1, (int)(20000 * slow())) == 1, "no answer through the peer");
    ck_assert_int_ge(client_line(&p->out, rep, cap), 0);
    return atoi(rep);
}

static void peer_close(peer_t *p)
{
    close(p->in);
    kill(p->pid, SIGTERM);
    waitpid(p->pid, NULL, 0);
    close(p->out.fd);
}

/* -------------------------------------------------------------- echo */

START_TEST(test_echo_two_workers_peers)
{
    server_t sv;
    srv_cfg_t c = {.workers = 2, .enable_coroutine = 1};
    start_server(&sv, &c);
    char ev[256];
    expect_event(&sv, "start", ev, sizeof ev);
    expect_event(&sv, "start", ev, sizeof ev);
    /* Four connections at once: fd mod spreads them over both workers,
     * each keeps its worker. */
    client_t cl[4];
    int seen[2] = {0, 0};
    for (int i = 0; i < 4; i++)
        client_open(&cl[i], sv.port);
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 4; i++) {
            char req[64], rep[128];
            snprintf(req, sizeof req, "echo c%d r%d", i, round);
            int w = ask(&cl[i], req, rep, sizeof rep);
            ck_assert_int_ge(w, 0);
            ck_assert_int_le(w, 1);
            ck_assert_str_eq(strchr(rep, ' ') + 1, req);
            seen[w]++;
        }
    }
    ck_assert_int_gt(seen[0], 0);
    ck_assert_int_gt(seen[1], 0);
    for (int i = 0; i < 4; i++)
        close(cl[i].fd);
    /* Real peers: nc, socat and python3 send lines and print what comes
     * back; each answers on the same connection (one worker: fd mod). */
    const char *peers[][2] = {
        {"socat", "exec socat - TCP:127.0.0.1:%d"},
        {"nc", "exec nc 127.0.0.1 %d"},
        {"python3", "exec python3 -u -c 'import socket,sys\n"
                    "s=socket.create_connection((\"127.0.0.1\",%d))\n"
                    "f=s.makefile(\"rb\")\n"
                    "for l in sys.stdin.buffer:\n"
                    "  s.sendall(l); sys.stdout.write(f.readline().decode())'"},
    };
    for (size_t i = 0; i < sizeof peers / sizeof peers[0]; i++) {
        if (!have(peers[i][0]))
            continue;
        char cmd[512];
        snprintf(cmd, sizeof cmd, peers[i][1], sv.port);
        peer_t pr;
        peer_open(&pr, cmd);
        int pw = -1;
        for (int k = 0; k < 3; k++) {
            char req[64], rep[128];
            snprintf(req, sizeof req, "echo from %s %d", peers[i][0], k);
            int w = peer_ask(&pr, req, rep, sizeof rep);
            ck_assert_msg(strcmp(strchr(rep, ' ') + 1, req) == 0, "%s got [%s]", peers[i][0], rep);
            if (k)
                ck_assert_int_eq(w, pw);
            pw = w;
        }
        peer_close(&pr);
    }
    stop_server(&sv);
}
END_TEST

/* ----------------------------------------------------------- dispatch */

static void two_workers_up(server_t *sv, int pids[2])
{
    char ev[256];
    for (int i = 0; i < 2; i++) {
        expect_event(sv, "start", ev, sizeof ev);
        int id = -1, pid = 0;
        ck_assert_int_eq(sscanf(ev, "start %d %d", &id, &pid), 2);
        ck_assert(id == 0 || id == 1);
        if (pids)
            pids[id] = pid;
    }
}

START_TEST(test_dispatch_round_robin_server)
{
    server_t sv;
    srv_cfg_t c = {.workers = 2, .enable_coroutine = 1,
                   .dispatch_mode = SWCO_DISPATCH_ROUND_ROBIN};
    start_server(&sv, &c);
    client_t cl;
    client_open(&cl, sv.port);
    /* One connection's requests alternate between the workers. */
    int prev = ask(&cl, "echo 0", NULL, 0);
    for (int i = 1; i < 10; i++) {
        char req[32];
        snprintf(req, sizeof req, "echo %d", i);
        int w = ask(&cl, req, NULL, 0);
        ck_assert_int_eq(w, 1 - prev);
        prev = w;
    }
    close(cl.fd);
    stop_server(&sv);
}
END_TEST

START_TEST(test_dispatch_fd_ip_uid_server)
{
    for (int mode = SWCO_DISPATCH_FD_MOD; mode <= SWCO_DISPATCH_UID_MOD; mode++) {
        if (mode == SWCO_DISPATCH_IDLE_WORKER)
            continue;
        server_t sv;
        srv_cfg_t c = {.workers = 2, .enable_coroutine = 1, .dispatch_mode = mode};
        start_server(&sv, &c);
        client_t cl[4];
        int first[4], seen[2] = {0, 0};
        for (int i = 0; i < 4; i++) {
            client_open(&cl[i], sv.port);
            char rep[128];
            first[i] = ask(&cl[i], "whoami", rep, sizeof rep);
            seen[first[i]]++;
            /* the id's low bits are the server's descriptor */
            int kfd = (int)(atoll(strchr(rep, ' ') + 1) & 0xffffff);
            if (mode != SWCO_DISPATCH_IP_MOD)
                ck_assert_int_eq(first[i], kfd % 2);
        }
        /* Each connection stays with its worker. */
        for (int round = 0; round < 4; round++)
            for (int i = 0; i < 4; i++)
                ck_assert_int_eq(ask(&cl[i], "echo again", NULL, 0), first[i]);
        if (mode == SWCO_DISPATCH_IP_MOD) /* one client address: one worker */
            ck_assert(seen[0] == 4 || seen[1] == 4);
        else /* consecutive fds: both workers */
            ck_assert(seen[0] > 0 && seen[1] > 0);
        if (mode == SWCO_DISPATCH_UID_MOD) {
            /* bound: by uid, whatever the fd */
            char rep[128];
            for (int i = 0; i < 4; i++) {
                ask(&cl[i], i % 2 ? "bind 7" : "bind 10", rep, sizeof rep);
                ck_assert_msg(strstr(rep, "bound 0") != NULL, "%s", rep);
            }
            for (int i = 0; i < 4; i++)
                ck_assert_int_eq(ask(&cl[i], "echo uid", NULL, 0), i % 2 ? 7 % 2 : 10 % 2);
        }
        for (int i = 0; i < 4; i++)
            close(cl[i].fd);
        stop_server(&sv);
    }
}
END_TEST

START_TEST(test_dispatch_idle_worker_server)
{
    server_t sv;
    srv_cfg_t c = {.workers = 2, .enable_coroutine = 1,
                   .dispatch_mode = SWCO_DISPATCH_IDLE_WORKER};
    start_server(&sv, &c);
    two_workers_up(&sv, NULL);
    client_t busy, other;
    client_open(&busy, sv.port);
    client_open(&other, sv.port);
    client_send(&busy, "block\n", 6);
    char ev[256];
    expect_event(&sv, "blocked", ev, sizeof ev);
    int bw = atoi(ev + 8);
    /* While one worker has a handler in progress every request goes to
     * the other (round robin would send half of them to the busy one).
     * Each reply is sent after its handler returned, so the other worker
     * is idle again when the next request comes. */
    for (int i = 0; i < 20; i++)
        ck_assert_int_eq(ask(&other, "later idle", NULL, 0), 1 - bw);
    ck_assert_int_eq(write(sv.rel_w, "x", 1), 1);
    char rep[128];
    ck_assert_int_ge(client_line(&busy, rep, sizeof rep), 0);
    ck_assert_int_eq(atoi(rep), bw);
    ck_assert_msg(strstr(rep, "released") != NULL, "%s", rep);
    close(busy.fd);
    close(other.fd);
    stop_server(&sv);
}
END_TEST

START_TEST(test_dispatch_callback_server)
{
    server_t sv;
    srv_cfg_t c = {.workers = 3, .enable_coroutine = 1, .dispatch_cb = 1,
                   .dispatch_mode = SWCO_DISPATCH_ROUND_ROBIN};
    start_server(&sv, &c);
    client_t cl;
    client_open(&cl, sv.port);
    const char *reqs[] = {"2 a", "0 b", "1 c", "2 d", "9 out of range"};
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(ask(&cl, reqs[i], NULL, 0), reqs[i][0] - '0');
    char rep[128];
    int w = ask(&cl, reqs[4], rep, sizeof rep);
    ck_assert_int_ge(w, 0); /* fd mod: some worker, still answered */
    ck_assert_int_le(w, 2);
    close(cl.fd);
    stop_server(&sv);
}
END_TEST

/* ------------------------------------------- send from another worker */

START_TEST(test_broadcast_from_other_worker)
{
    server_t sv;
    srv_cfg_t c = {.workers = 2, .enable_coroutine = 1};
    start_server(&sv, &c);
    client_t cl[5];
    int w[5];
    for (int i = 0; i < 5; i++) {
        client_open(&cl[i], sv.port);
        w[i] = ask(&cl[i], "echo hi", NULL, 0);
    }
    /* Connection 0's worker sends to all: the connections of the other
     * worker (and those of other reactor threads) get it too. */
    char rep[128];
    ask(&cl[0], "bcast hello all", rep, sizeof rep);
    ck_assert_msg(strstr(rep, "sent 4") != NULL, "%s", rep);
    int others = 0;
    for (int i = 1; i < 5; i++) {
        ck_assert_int_ge(client_line(&cl[i], rep, sizeof rep), 0);
        ck_assert_str_eq(rep, "hello all");
        if (w[i] != w[0])
            others++;
    }
    ck_assert_int_gt(others, 0);
    /* sendwait goes through too and says when it is written. */
    ask(&cl[1], "waitsend", rep, sizeof rep);
    ck_assert_str_eq(rep, "waited");
    ck_assert_int_ge(client_line(&cl[1], rep, sizeof rep), 0);
    ck_assert_msg(strstr(rep, "sendwait 7") != NULL, "%s", rep);
    for (int i = 0; i < 5; i++)
        close(cl[i].fd);
    stop_server(&sv);
}
END_TEST

/* --------------------------------------------------------- large data */

typedef struct pump {
    int fd;
    const char *data;
    size_t len;
} pump_t;

static void *pump_main(void *arg)
{
    pump_t *p = arg;
    size_t off = 0;
    while (off < p->len) {
        ssize_t n = write(p->fd, p->data + off, p->len - off);
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    return (void *)(uintptr_t)off;
}

/* Read exactly n bytes. */
static void read_exact(client_t *c, char *out, size_t n)
{
    size_t got = c->len < n ? c->len : n;
    memcpy(out, c->buf, got);
    memmove(c->buf, c->buf + got, c->len - got);
    c->len -= got;
    while (got < n) {
        ssize_t r = read(c->fd, out + got, n - got);
        ck_assert_msg(r > 0, "read: %zd after %zu of %zu", r, got, n);
        got += (size_t)r;
    }
}

static char *data_lines(size_t total, size_t line, size_t *out_len)
{
    char *d = malloc(total);
    size_t off = 0, k = 0;
    while (off < total) {
        size_t n = total - off < line ? total - off : line;
        d[off] = 'D';
        for (size_t i = 1; i + 1 < n; i++)
            d[off + i] = (char)('a' + (k + i) % 26);
        d[off + n - 1] = '\n';
        off += n;
        k++;
    }
    *out_len = total;
    return d;
}

START_TEST(test_large_messages_both_ways)
{
    server_t sv;
    srv_cfg_t c = {.workers = 2, .enable_coroutine = 1, .socket_buffer_size = "262144"};
    start_server(&sv, &c);
    client_t cl;
    client_open(&cl, sv.port);
    /* server -> client: 6 MiB from one send in the worker */
    size_t big = 6 * 1024 * 1024;
    char req[64];
    snprintf(req, sizeof req, "big %zu\n", big);
    client_send(&cl, req, strlen(req));
    char *got = malloc(big + 1);
    read_exact(&cl, got, big + 1);
    for (size_t i = 0; i < big; i++)
        if (got[i] != (char)('a' + i % 26))
            ck_abort_msg("byte %zu differs", i);
    ck_assert_int_eq(got[big], '\n');
    free(got);
    /* client -> server -> client: one 8 MiB line, echoed whole. */
    size_t len;
    char *d = data_lines(8 * 1024 * 1024, 8 * 1024 * 1024, &len);
    pump_t p = {cl.fd, d, len};
    pthread_t t;
    pthread_create(&t, NULL, pump_main, &p);
    char *back = malloc(len);
    read_exact(&cl, back, len);
    void *sent;
    pthread_join(t, &sent);
    ck_assert_uint_eq((uintptr_t)sent, len);
    ck_assert(memcmp(back, d, len) == 0);
    free(back);
    free(d);
    close(cl.fd);
    stop_server(&sv);
}
END_TEST

/* A worker that stops reading: the master buffers, then pauses the
 * connection (the client's writes stall) instead of growing; once the
 * worker goes on, every byte comes back in order. */
START_TEST(test_slow_worker_backpressure)
{
    server_t sv;
    srv_cfg_t c = {.workers = 2, .enable_coroutine = 0, .dispatch_cb = 1,
                   .socket_buffer_size = "131072", .block_first_data = 1};
    start_server(&sv, &c);
    client_t data, ctl;
    client_open(&data, sv.port);
    client_open(&ctl, sv.port);
    char rep[128];
    /* the data connection's id, from a worker that is not blocked */
    ask(&data, "Iwhoami", rep, sizeof rep);
    ck_assert_int_eq(atoi(rep), 1);
    long long id = atoll(strchr(rep, ' ') + 1);
    ck_assert(id > 0);
    size_t len;
    char *d = data_lines(24 * 1024 * 1024, 4096, &len);
    char ev[256];
    pump_t p = {data.fd, d, len};
    pthread_t t;
    pthread_create(&t, NULL, pump_main, &p);
    expect_event(&sv, "blocked", ev, sizeof ev);
    ck_assert_str_eq(ev, "blocked 0");
    /* Worker 0 reads nothing now: ask worker 1 until the master paused
     * the data connection (each question is a round trip, no clock). */
    int paused = 0;
    char q[64];
    snprintf(q, sizeof q, "Iinfo %lld", id);
    for (int round = 0; round < 1000000 && !paused; round++) {
        ask(&ctl, q, rep, sizeof rep);
        ck_assert_msg(strstr(rep, "info 0 ") != NULL, "%s", rep);
        paused = strstr(rep, "paused=1") != NULL;
    }
    ck_assert_msg(paused, "the data connection was never paused");
    ck_assert_int_eq(write(sv.rel_w, "x", 1), 1);
    char *back = malloc(len);
    read_exact(&data, back, len);
    void *sent;
    pthread_join(t, &sent);
    ck_assert_uint_eq((uintptr_t)sent, len);
    ck_assert(memcmp(back, d, len) == 0);
    free(back);
    free(d);
    close(data.fd);
    close(ctl.fd);
    stop_server(&sv);
}
END_TEST

/* ------------------------------------------------- a worker killed */

START_TEST(test_worker_killed_respawned)
{
    server_t sv;
    srv_cfg_t c = {.workers = 2, .enable_coroutine = 1};
    start_server(&sv, &c);
    int pids[2];
    two_workers_up(&sv, pids);
    /* connections on both workers */
    client_t cl[6];
    int w[6], on0 = -1, on1 = -1;
    for (int i = 0; i < 6; i++) {
        client_open(&cl[i], sv.port);
        char rep[128];
        w[i] = ask(&cl[i], "pid", rep, sizeof rep);
        ck_assert_int_eq(atoi(strchr(rep, ' ') + 1), pids[w[i]]);
        if (w[i] == 0 && on0 < 0)
            on0 = i;
        if (w[i] == 1 && on1 < 0)
            on1 = i;
    }
    ck_assert(on0 >= 0 && on1 >= 0);
    ck_assert_int_eq(kill(pids[0], SIGKILL), 0);
    /* The other worker's connections keep echoing meanwhile. */
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(ask(&cl[on1], "echo still here", NULL, 0), 1);
    char ev[256];
    int id = -1, pid = 0;
    do {
        expect_event(&sv, "start", ev, sizeof ev);
        ck_assert_int_eq(sscanf(ev, "start %d %d", &id, &pid), 2);
    } while (id != 0);
    ck_assert_int_ne(pid, pids[0]);
    /* Worker 0's connections stayed open in the master: the new worker
     * with the same id answers them. */
    char rep[128];
    ck_assert_int_eq(ask(&cl[on0], "pid", rep, sizeof rep), 0);
    ck_assert_int_eq(atoi(strchr(rep, ' ') + 1), pid);
    for (int i = 0; i < 6; i++)
        ck_assert_int_eq(ask(&cl[i], "echo after", NULL, 0), w[i]);
    for (int i = 0; i < 6; i++)
        close(cl[i].fd);
    stop_server(&sv);
}
END_TEST

/* ------------------------------------------------- graceful shutdown */

START_TEST(test_graceful_shutdown_finishes_inflight)
{
    server_t sv;
    srv_cfg_t c = {.workers = 2, .enable_coroutine = 1};
    start_server(&sv, &c);
    two_workers_up(&sv, NULL);
    client_t cl;
    client_open(&cl, sv.port);
    client_send(&cl, "block\n", 6);
    char ev[256];
    expect_event(&sv, "blocked", ev, sizeof ev);
    ck_assert_int_eq(kill(sv.pid, SIGTERM), 0);
    /* The worker is stopping with the handler still running ... */
    expect_event(&sv, "exiting", ev, sizeof ev);
    ck_assert_int_eq(write(sv.rel_w, "x", 1), 1);
    /* ... which finishes: its reply reaches the client, then the server
     * closes the connection and exits cleanly. */
    char rep[128];
    ck_assert_int_ge(client_line(&cl, rep, sizeof rep), 0);
    ck_assert_msg(strstr(rep, "released") != NULL, "%s", rep);
    ck_assert_int_eq(client_line(&cl, rep, sizeof rep), -1);
    int st;
    ck_assert_int_eq(waitpid(sv.pid, &st, 0), sv.pid);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "server exit status %d", st);
    expect_event(&sv, "shutdown", ev, sizeof ev);
    close(cl.fd);
    close(sv.ev_r);
    close(sv.rel_w);
}
END_TEST

/* ------------------------------------------ reload under a request stream */

/* An event line if one is waiting, without blocking: 1, else 0. */
static int poll_event(server_t *sv, char *out, size_t cap)
{
    if (!memchr(sv->evbuf, '\n', sv->evlen)) {
        struct pollfd p = {sv->ev_r, POLLIN, 0};
        if (poll(&p, 1, 0) != 1)
            return 0;
    }
    next_event(sv, out, cap);
    return 1;
}

START_TEST(test_reload_loses_no_request)
{
    server_t sv;
    srv_cfg_t c = {.workers = 2, .enable_coroutine = 1};
    start_server(&sv, &c);
    int pids[2];
    two_workers_up(&sv, pids);
    client_t cl[4];
    for (int i = 0; i < 4; i++)
        client_open(&cl[i], sv.port);
    /* SIGUSR1 to the master: passed to the manager, which replaces the
     * workers one at a time while the requests keep coming; each is
     * answered (ask fails the test otherwise). */
    ck_assert_int_eq(kill(sv.pid, SIGUSR1), 0);
    int restarted = 0, after = 0;
    long n = 0;
    while (after < 40) {
        for (int i = 0; i < 4; i++) {
            char req[64], rep[128];
            snprintf(req, sizeof req, "echo %ld", n++);
            ask(&cl[i], req, rep, sizeof rep);
            ck_assert_str_eq(strchr(rep, ' ') + 1, req);
        }
        char ev[256];
        while (poll_event(&sv, ev, sizeof ev)) {
            int id, pid;
            if (sscanf(ev, "start %d %d", &id, &pid) == 2) {
                ck_assert_int_ne(pid, pids[id]);
                restarted++;
            }
        }
        if (restarted >= 2)
            after++;
        ck_assert_msg(n < 4000000, "the workers were not reloaded");
    }
    for (int i = 0; i < 4; i++)
        close(cl[i].fd);
    stop_server(&sv);
}
END_TEST

/* ------------------------------------------------------------------ UDP */

static void on_packet(swco_server_t *srv, const void *data, size_t len, const char *addr,
                      int port, int listener, void *arg)
{
    (void)arg;
    char b[300];
    int n = snprintf(b, sizeof b, "%d %.*s", swco_server_worker_id(srv), (int)len,
                     (const char *)data);
    swco_server_sendto(srv, addr, port, b, (size_t)n, listener);
}

START_TEST(test_udp_packets_through_workers)
{
    int portp[2];
    ck_assert_int_eq(pipe(portp), 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(portp[0]);
        swco_server_t *srv = swco_server_new("127.0.0.1", 0, SWCO_SERVER_PROCESS, SWCO_SOCK_UDP);
        if (!srv)
            _exit(5);
        set(srv, "worker_num", "2");
        set(srv, "reactor_num", "2");
        swco_server_on_packet(srv, on_packet, NULL, NULL);
        int port = swco_server_listener_port(srv, 0);
        if (write(portp[1], &port, sizeof port) != sizeof port)
            _exit(6);
        int rc = swco_server_start(srv);
        swco_server_free(srv);
        _exit(rc == 0 ? 0 : 7);
    }
    close(portp[1]);
    int port;
    ck_assert_int_eq(read(portp[0], &port, sizeof port), (long)sizeof port);
    close(portp[0]);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    struct timeval tv = {(time_t)(20 * slow()), 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    int w0 = -1;
    for (int i = 0; i < 5; i++) {
        char req[32], rep[64];
        int n = snprintf(req, sizeof req, "ping %d", i);
        ck_assert_int_eq(send(fd, req, (size_t)n, 0), n);
        ssize_t r = recv(fd, rep, sizeof rep - 1, 0);
        ck_assert_int_gt(r, 0);
        rep[r] = 0;
        ck_assert_str_eq(strchr(rep, ' ') + 1, req);
        /* one sender's datagrams go to one worker */
        if (i)
            ck_assert_int_eq(atoi(rep), w0);
        w0 = atoi(rep);
    }
    close(fd);
    kill(pid, SIGTERM);
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "server exit status %d", st);
}
END_TEST

/* ------------------------------------------- a task worker sends too */

START_TEST(test_task_worker_sends_to_connection)
{
    server_t sv;
    srv_cfg_t c = {.workers = 2, .enable_coroutine = 1, .task_workers = 1};
    start_server(&sv, &c);
    client_t cl;
    client_open(&cl, sv.port);
    int w = ask(&cl, "echo hi", NULL, 0);
    char rep[128];
    for (int i = 0; i < 3; i++) {
        client_send(&cl, "viatask\n", 8);
        ck_assert_int_ge(client_line(&cl, rep, sizeof rep), 0);
        int tw, src;
        ck_assert_msg(sscanf(rep, "%d from task worker for %d", &tw, &src) == 2, "%s", rep);
        ck_assert_int_eq(tw, 2); /* task workers follow the event workers */
        ck_assert_int_eq(src, w);
    }
    close(cl.fd);
    stop_server(&sv);
}
END_TEST

/* ---------------------------------------------------------- half-close */

/* A client that shuts its side right after its request still gets the
 * reply, even when the master reads the EOF while the worker is still
 * busy with the request: the master keeps the connection until the
 * worker handled the close, and closes it after writing the reply. */
START_TEST(test_half_close_gets_reply)
{
    if (!have("python3"))
        return;
    server_t sv;
    srv_cfg_t c = {.workers = 2, .dispatch_cb = 1, .block_first_data = 1, .note_close = 1};
    start_server(&sv, &c);
    two_workers_up(&sv, NULL);
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "exec python3 -u -c 'import socket\n"
             "s=socket.create_connection((\"127.0.0.1\",%d))\n"
             "s.sendall(b\"Dhalf closed\\n\"); s.shutdown(socket.SHUT_WR)\n"
             "print(\"shut\")\n"
             "got=b\"\"\n"
             "while True:\n"
             "  d=s.recv(4096)\n"
             "  if not d: break\n"
             "  got+=d\n"
             "print(\"got\", repr(got))'",
             sv.port);
    peer_t pr;
    peer_open(&pr, cmd);
    char ev[256], line[256];
    struct pollfd pf = {pr.out.fd, POLLIN, 0};
    ck_assert_int_eq(poll(&pf, 1, (int)(20000 * slow())), 1);
    ck_assert_int_ge(client_line(&pr.out, line, sizeof line), 0);
    ck_assert_str_eq(line, "shut");
    /* the worker holds the request (enable_coroutine 0: the whole worker
     * waits) while the master reads the EOF and dispatches the close, in
     * either order ... */
    int blocked = 0, closed = 0;
    while (!blocked || !closed) {
        next_event(&sv, ev, sizeof ev);
        if (strcmp(ev, "blocked 0") == 0)
            blocked++;
        else if (strcmp(ev, "dispatch close") == 0)
            closed++;
    }
    ck_assert_int_eq(blocked, 1);
    ck_assert_int_eq(closed, 1);
    /* ... then answers: the reply comes, then the server's close */
    ck_assert_int_eq(write(sv.rel_w, "x", 1), 1);
    ck_assert_int_eq(poll(&pf, 1, (int)(20000 * slow())), 1);
    ck_assert_int_ge(client_line(&pr.out, line, sizeof line), 0);
    ck_assert_str_eq(line, "got b'Dhalf closed\\n'");
    peer_close(&pr);
    stop_server(&sv);
}
END_TEST

/* ------------------------------------------------- protocol listeners */

static int always_last(swco_server_t *srv, long long fd, int event, const void *data, size_t len,
                       void *arg)
{
    (void)fd, (void)event, (void)data, (void)len, (void)arg;
    return srv->opt.worker_num - 1;
}

/* A connection of a listener with a protocol (HTTP, WebSocket: a
 * stateful parser in one worker) keeps the worker its connect went to
 * for every later event, in round robin (1), preemptive (3) and with a
 * dispatch callback; connect and close always go to the workers. */
START_TEST(test_dispatch_protocol_pinned)
{
    int modes[] = {SWCO_DISPATCH_ROUND_ROBIN, SWCO_DISPATCH_IDLE_WORKER, SWCO_DISPATCH_FD_MOD};
    for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
        fake_srv_t f;
        fake_init(&f, 3, modes[m]);
        swco__listener_t plain, http;
        memset(&plain, 0, sizeof plain);
        memset(&http, 0, sizeof http);
        plain.index = 0;
        http.index = 1;
        http.proto = &swco__http1_proto;
        swco__listener_t *ls[2] = {&plain, &http};
        f.srv.listeners = ls;
        f.srv.nlisteners = 2;
        for (int fd = 5; fd < 11; fd++) {
            swco__conn_t c = conn_at(fd, "127.0.0.1", 4000 + fd, 0);
            c.listener = 1;
            long long id = swco__conn_make_id(0, 1, fd);
            ck_assert_int_eq(swco__proc_pinned(&f.srv, &c), 1);
            ck_assert_int_eq(swco__proc_conn_events_of(&f.srv, &c), 1);
            int w = swco__proc_pick(&f.srv, f.ps, &c, id, SWCO_SERVER_EV_CONNECT, NULL, 0);
            ck_assert_int_eq(c.worker_id, w);
            for (int k = 0; k < 7; k++) {
                /* the busy figures idle worker mode reads change meanwhile */
                f.shm->workers[w].busy = k;
                ck_assert_int_eq(
                    swco__proc_pick(&f.srv, f.ps, &c, id, SWCO_SERVER_EV_RECEIVE, "x", 1), w);
            }
            f.shm->workers[w].busy = 0;
            ck_assert_int_eq(swco__proc_pick(&f.srv, f.ps, &c, id, SWCO_SERVER_EV_CLOSE, NULL, 0),
                             w);
        }
        /* a plain listener's connection follows dispatch_mode */
        swco__conn_t c = conn_at(7, "127.0.0.1", 4000, 0);
        ck_assert_int_eq(swco__proc_pinned(&f.srv, &c), 0);
        ck_assert_int_eq(swco__proc_conn_events_of(&f.srv, &c), swco__proc_conn_events(&f.srv));
        if (modes[m] == SWCO_DISPATCH_ROUND_ROBIN) {
            int a = swco__proc_pick(&f.srv, f.ps, &c, 7, SWCO_SERVER_EV_RECEIVE, "x", 1);
            int b = swco__proc_pick(&f.srv, f.ps, &c, 7, SWCO_SERVER_EV_RECEIVE, "x", 1);
            ck_assert_int_ne(a, b);
        }
        /* a dispatch callback chooses the connect's worker only */
        f.srv.cb[SWCO__CB_DISPATCH].fn = (void *)always_last;
        swco__conn_t h = conn_at(9, "127.0.0.1", 4000, 0);
        h.listener = 1;
        ck_assert_int_eq(swco__proc_pick(&f.srv, f.ps, &h, 9, SWCO_SERVER_EV_CONNECT, NULL, 0), 2);
        f.srv.cb[SWCO__CB_DISPATCH].fn = NULL;
        f.srv.opt.dispatch_mode = SWCO_DISPATCH_FD_MOD; /* 9 % 3 = 0 */
        ck_assert_int_eq(swco__proc_pick(&f.srv, f.ps, &h, 9, SWCO_SERVER_EV_RECEIVE, "x", 1), 2);
        fake_free(&f);
    }
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
    tcase_add_test(tc, test_ipc_compact_leaves_no_holes);
    suite_add_tcase(s, tc);
    tc = tcase_create("dispatch");
    tcase_add_test(tc, test_dispatch_fd_mod_and_round_robin);
    tcase_add_test(tc, test_dispatch_ip_and_uid_mod);
    tcase_add_test(tc, test_dispatch_idle_worker);
    tcase_add_test(tc, test_dispatch_callback);
    suite_add_tcase(s, tc);
    tc = tcase_create("server");
    tcase_add_test(tc, test_echo_two_workers_peers);
    tcase_add_test(tc, test_dispatch_round_robin_server);
    tcase_add_test(tc, test_dispatch_fd_ip_uid_server);
    tcase_add_test(tc, test_dispatch_idle_worker_server);
    tcase_add_test(tc, test_dispatch_callback_server);
    tcase_add_test(tc, test_broadcast_from_other_worker);
    tcase_add_test(tc, test_large_messages_both_ways);
    tcase_add_test(tc, test_slow_worker_backpressure);
    tcase_add_test(tc, test_worker_killed_respawned);
    tcase_add_test(tc, test_graceful_shutdown_finishes_inflight);
    tcase_add_test(tc, test_reload_loses_no_request);
    tcase_add_test(tc, test_udp_packets_through_workers);
    tcase_add_test(tc, test_task_worker_sends_to_connection);
    tcase_add_test(tc, test_half_close_gets_reply);
    tcase_add_test(tc, test_dispatch_protocol_pinned);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
