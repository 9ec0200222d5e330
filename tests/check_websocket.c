/* WebSocket: the frame codec and permessage-deflate (internals, reached
 * through libswco_core.la), the coroutine client against python3-websockets'
 * server, and the server against python3-websockets' client and our own.
 * Peers run on loopback; synchronisation is by pipes and replies, never
 * sleeps; the time limits are safety nets scaled by SWCO_TEST_SLOW. */
#include "testutil.h"
#include "websocket/ws_int.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* ------------------------------------------------------------ helpers */

/* What the reader handed over, in order. */
typedef struct got {
    int n;
    int op[16];
    char *data[16];
    size_t len[16];
} got_t;

static int collect(void *arg, int opcode, swco__hbuf_t *buf)
{
    got_t *g = arg;
    ck_assert_int_lt(g->n, 16);
    g->op[g->n] = opcode;
    g->data[g->n] = malloc(buf->len + 1);
    memcpy(g->data[g->n], buf->p, buf->len + 1);
    g->len[g->n] = buf->len;
    g->n++;
    return 0;
}

static void got_free(got_t *g)
{
    for (int i = 0; i < g->n; i++)
        free(g->data[i]);
    g->n = 0;
}

/* Append a frame (masked as a client's when masked). */
static void frame(swco__hbuf_t *b, int op, int more, const void *data, size_t len, int masked)
{
    ck_assert_int_eq(swco__ws_frame_build(b, op, more, 0, data, len, masked), 0);
}

/* Feed all of b to a fresh server-side reader, one byte at a time when
 * bytewise; the feed's result. */
static int feed_all(swco__ws_reader_t *r, const swco__hbuf_t *b, int bytewise, got_t *g)
{
    if (!bytewise)
        return swco__ws_reader_feed(r, b->p, b->len, collect, g);
    for (size_t i = 0; i < b->len; i++) {
        int rc = swco__ws_reader_feed(r, b->p + i, 1, collect, g);
        if (rc)
            return rc;
    }
    return 0;
}

/* A python3 with the websockets module (Debian's python3-websockets), or
 * NULL (skip; a failure under CI=true). */
static const char *python_ws(void)
{
    static const char *cands[] = {"python3", "/usr/bin/python3"};
    for (size_t i = 0; i < 2; i++) {
        char cmd[256];
        snprintf(cmd, sizeof cmd, "%s -c 'import websockets' >/dev/null 2>&1", cands[i]);
        if (system(cmd) == 0)
            return cands[i];
    }
    const char *ci = getenv("CI");
    ck_assert_msg(!(ci && strcmp(ci, "true") == 0), "python3-websockets is not installed (CI)");
    fprintf(stderr, "check_websocket: python3-websockets is not installed; skipping\n");
    return NULL;
}

/* A background peer: its pid and its stdout. */
typedef struct peer {
    pid_t pid;
    int out;
} peer_t;

static peer_t spawn(char *const argv[])
{
    int p[2];
    ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        dup2(p[1], 1);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(p[1]);
    return (peer_t){pid, p[0]};
}

/* Read one line of the peer's stdout (within the time limit). */
static int read_line(peer_t *pr, char *buf, size_t cap)
{
    size_t n = 0;
    double deadline = now_s() + 30 * slow();
    while (n + 1 < cap) {
        struct pollfd p = {pr->out, POLLIN, 0};
        int left = (int)((deadline - now_s()) * 1000);
        if (left <= 0 || poll(&p, 1, left) != 1)
            return -1;
        char c;
        if (read(pr->out, &c, 1) != 1)
            return -1;
        if (c == '\n')
            break;
        buf[n++] = c;
    }
    buf[n] = 0;
    return (int)n;
}

/* Read the rest of the peer's output and wait for it: its exit status. */
static int finish(peer_t *pr, char *buf, size_t cap)
{
    size_t n = 0;
    double deadline = now_s() + 60 * slow();
    for (;;) {
        struct pollfd p = {pr->out, POLLIN, 0};
        int left = (int)((deadline - now_s()) * 1000);
        if (left <= 0 || poll(&p, 1, left) != 1) {
            kill(pr->pid, SIGKILL);
            break;
        }
        ssize_t r = read(pr->out, buf + n, cap - 1 - n);
        if (r <= 0 || (n += (size_t)r) == cap - 1)
            break;
    }
    buf[n] = 0;
    close(pr->out);
    int st;
    waitpid(pr->pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void stop_peer(peer_t *pr)
{
    char buf[4096];
    kill(pr->pid, SIGTERM);
    finish(pr, buf, sizeof buf);
}

/* ------------------------------------------------------ codec: unit */

START_TEST(accept_key_rfc)
{
    char out[32];
    /* RFC 6455 section 1.3's example */
    ck_assert_int_eq(swco__ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", 24, out), 0);
    ck_assert_str_eq(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}
END_TEST

START_TEST(frame_roundtrip_lengths)
{
    static const size_t lens[] = {0, 1, 125, 126, 127, 65535, 65536, 70000};
    for (int masked = 0; masked < 2; masked++) {
        for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
            size_t n = lens[k];
            char *data = malloc(n + 1);
            for (size_t i = 0; i < n; i++)
                data[i] = (char)('a' + i % 26);
            swco__hbuf_t b = {0};
            frame(&b, SWCO_WS_TEXT, 0, data, n, masked);
            size_t hl = (n < 126 ? 2 : n <= 65535 ? 4 : 10) + (masked ? 4 : 0);
            ck_assert_uint_eq(b.len, hl + n);
            swco__ws_reader_t r;
            swco__ws_reader_init(&r, masked, 0, NULL);
            got_t g = {0};
            ck_assert_int_eq(feed_all(&r, &b, n < 1000, &g), 0);
            ck_assert_int_eq(g.n, 1);
            ck_assert_int_eq(g.op[0], SWCO_WS_TEXT);
            ck_assert_uint_eq(g.len[0], n);
            ck_assert(memcmp(g.data[0], data, n) == 0);
            got_free(&g);
            swco__ws_reader_free(&r);
            swco__hbuf_free(&b);
            free(data);
        }
    }
}
END_TEST

START_TEST(fragments_with_ping_between)
{
    swco__hbuf_t b = {0};
    frame(&b, SWCO_WS_TEXT, 1, "Hel", 3, 1);
    frame(&b, SWCO_WS_PING, 0, "p1", 2, 1);
    frame(&b, SWCO_WS_CONTINUATION, 1, "lo, ", 4, 1);
    frame(&b, SWCO_WS_PONG, 0, "", 0, 1);
    frame(&b, SWCO_WS_CONTINUATION, 0, "world", 5, 1);
    frame(&b, SWCO_WS_BINARY, 0, "\0\1", 2, 1);
    for (int bytewise = 0; bytewise < 2; bytewise++) {
        swco__ws_reader_t r;
        swco__ws_reader_init(&r, 1, 0, NULL);
        got_t g = {0};
        ck_assert_int_eq(feed_all(&r, &b, bytewise, &g), 0);
        ck_assert_int_eq(g.n, 4);
        ck_assert_int_eq(g.op[0], SWCO_WS_PING);
        ck_assert_str_eq(g.data[0], "p1");
        ck_assert_int_eq(g.op[1], SWCO_WS_PONG);
        ck_assert_int_eq(g.op[2], SWCO_WS_TEXT);
        ck_assert_str_eq(g.data[2], "Hello, world");
        ck_assert_int_eq(g.op[3], SWCO_WS_BINARY);
        ck_assert_uint_eq(g.len[3], 2);
        got_free(&g);
        swco__ws_reader_free(&r);
    }
    swco__hbuf_free(&b);
}
END_TEST

/* Feed raw bytes to a server-side reader (max 1000 bytes): its verdict. */
static int verdict(const void *raw, size_t n, int server)
{
    swco__ws_reader_t r;
    swco__ws_reader_init(&r, server, 1000, NULL);
    got_t g = {0};
    int rc = swco__ws_reader_feed(&r, raw, n, collect, &g);
    /* a failed reader stays failed */
    if (rc >= 1000)
        ck_assert_int_eq(swco__ws_reader_feed(&r, "\x81\x80", 2, collect, &g), rc);
    got_free(&g);
    swco__ws_reader_free(&r);
    return rc;
}

static int verdict_frames(void (*build)(swco__hbuf_t *))
{
    swco__hbuf_t b = {0};
    build(&b);
    int rc = verdict(b.p, b.len, 1);
    swco__hbuf_free(&b);
    return rc;
}

static void b_unmasked(swco__hbuf_t *b) { frame(b, SWCO_WS_TEXT, 0, "x", 1, 0); }
static void b_cont_first(swco__hbuf_t *b) { frame(b, SWCO_WS_CONTINUATION, 0, "x", 1, 1); }
static void b_text_in_text(swco__hbuf_t *b)
{
    frame(b, SWCO_WS_TEXT, 1, "x", 1, 1);
    frame(b, SWCO_WS_TEXT, 0, "y", 1, 1);
}
static void b_ping_fragmented(swco__hbuf_t *b) { frame(b, SWCO_WS_PING, 1, "x", 1, 1); }
static void b_big_ping(swco__hbuf_t *b)
{
    char x[126] = {0};
    /* build by hand: frame_build would make it, the reader must refuse it */
    frame(b, SWCO_WS_BINARY, 0, x, 126, 1);
    b->p[0] = (char)0x89;
}
static void b_opcode3(swco__hbuf_t *b)
{
    frame(b, SWCO_WS_TEXT, 0, "x", 1, 1);
    b->p[0] = (char)0x83;
}
static void b_rsv1_plain(swco__hbuf_t *b)
{
    frame(b, SWCO_WS_TEXT, 0, "x", 1, 1);
    b->p[0] |= 0x40;
}
static void b_rsv2(swco__hbuf_t *b)
{
    frame(b, SWCO_WS_TEXT, 0, "x", 1, 1);
    b->p[0] |= 0x20;
}
static void b_bad_utf8(swco__hbuf_t *b) { frame(b, SWCO_WS_TEXT, 0, "a\xc0\x80", 3, 1); }
static void b_surrogate(swco__hbuf_t *b) { frame(b, SWCO_WS_TEXT, 0, "\xed\xa0\x80", 3, 1); }
static void b_past_max(swco__hbuf_t *b) { frame(b, SWCO_WS_TEXT, 0, "\xf4\x90\x80\x80", 4, 1); }
static void b_cut_utf8(swco__hbuf_t *b) { frame(b, SWCO_WS_TEXT, 0, "a\xe2\x82", 3, 1); }
static void b_utf8_split_ok(swco__hbuf_t *b)
{
    /* U+20AC split over two fragments with a ping between: fine */
    frame(b, SWCO_WS_TEXT, 1, "\xe2\x82", 2, 1);
    frame(b, SWCO_WS_PING, 0, "", 0, 1);
    frame(b, SWCO_WS_CONTINUATION, 0, "\xac", 1, 1);
}
static void b_too_big(swco__hbuf_t *b)
{
    char x[1001] = {0};
    frame(b, SWCO_WS_BINARY, 0, x, 1001, 1);
}
static void b_too_big_fragments(swco__hbuf_t *b)
{
    char x[600] = {0};
    frame(b, SWCO_WS_BINARY, 1, x, 600, 1);
    frame(b, SWCO_WS_CONTINUATION, 0, x, 600, 1);
}
static void b_close_1byte(swco__hbuf_t *b) { frame(b, SWCO_WS_CLOSE, 0, "\x03", 1, 1); }
static void b_close_1005(swco__hbuf_t *b) { frame(b, SWCO_WS_CLOSE, 0, "\x03\xed", 2, 1); }
static void b_close_bad_reason(swco__hbuf_t *b) { frame(b, SWCO_WS_CLOSE, 0, "\x03\xe8\xff", 3, 1); }
static void b_close_ok(swco__hbuf_t *b) { frame(b, SWCO_WS_CLOSE, 0, "\x0f\xa1ok", 4, 1); }

START_TEST(reader_refusals)
{
    ck_assert_int_eq(verdict_frames(b_unmasked), SWCO_WS_CLOSE_PROTOCOL_ERROR);
    ck_assert_int_eq(verdict_frames(b_cont_first), SWCO_WS_CLOSE_PROTOCOL_ERROR);
    ck_assert_int_eq(verdict_frames(b_text_in_text), SWCO_WS_CLOSE_PROTOCOL_ERROR);
    ck_assert_int_eq(verdict_frames(b_ping_fragmented), SWCO_WS_CLOSE_PROTOCOL_ERROR);
    ck_assert_int_eq(verdict_frames(b_big_ping), SWCO_WS_CLOSE_PROTOCOL_ERROR);
    ck_assert_int_eq(verdict_frames(b_opcode3), SWCO_WS_CLOSE_PROTOCOL_ERROR);
    ck_assert_int_eq(verdict_frames(b_rsv1_plain), SWCO_WS_CLOSE_PROTOCOL_ERROR);
    ck_assert_int_eq(verdict_frames(b_rsv2), SWCO_WS_CLOSE_PROTOCOL_ERROR);
    ck_assert_int_eq(verdict_frames(b_bad_utf8), SWCO_WS_CLOSE_INVALID_PAYLOAD);
    ck_assert_int_eq(verdict_frames(b_surrogate), SWCO_WS_CLOSE_INVALID_PAYLOAD);
    ck_assert_int_eq(verdict_frames(b_past_max), SWCO_WS_CLOSE_INVALID_PAYLOAD);
    ck_assert_int_eq(verdict_frames(b_cut_utf8), SWCO_WS_CLOSE_INVALID_PAYLOAD);
    ck_assert_int_eq(verdict_frames(b_utf8_split_ok), 0);
    ck_assert_int_eq(verdict_frames(b_too_big), SWCO_WS_CLOSE_TOO_BIG);
    ck_assert_int_eq(verdict_frames(b_too_big_fragments), SWCO_WS_CLOSE_TOO_BIG);
    ck_assert_int_eq(verdict_frames(b_close_1byte), SWCO_WS_CLOSE_PROTOCOL_ERROR);
    ck_assert_int_eq(verdict_frames(b_close_1005), SWCO_WS_CLOSE_PROTOCOL_ERROR);
    ck_assert_int_eq(verdict_frames(b_close_bad_reason), SWCO_WS_CLOSE_INVALID_PAYLOAD);
    ck_assert_int_eq(verdict_frames(b_close_ok), 0);
    /* a client refuses masked frames */
    swco__hbuf_t b = {0};
    frame(&b, SWCO_WS_TEXT, 0, "x", 1, 1);
    ck_assert_int_eq(verdict(b.p, b.len, 0), SWCO_WS_CLOSE_PROTOCOL_ERROR);
    swco__hbuf_free(&b);
    /* 64-bit length with the top bit set */
    static const uint8_t huge[] = {0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4};
    ck_assert_int_eq(verdict(huge, sizeof huge, 1), SWCO_WS_CLOSE_PROTOCOL_ERROR);
}
END_TEST

START_TEST(utf8_fails_fast_across_fragments)
{
    /* The bad byte is in the first fragment: refused before the rest. */
    swco__hbuf_t b = {0};
    frame(&b, SWCO_WS_TEXT, 1, "ok\xff", 3, 1);
    ck_assert_int_eq(verdict(b.p, b.len, 1), SWCO_WS_CLOSE_INVALID_PAYLOAD);
    swco__hbuf_free(&b);
    uint32_t st = 0;
    ck_assert_int_eq(swco__ws_utf8(&st, (const uint8_t *)"\xf0\x9f", 2), 1);
    ck_assert_int_eq(swco__ws_utf8(&st, (const uint8_t *)"\x98\x80 plain ascii text", 19), 0);
    st = 0;
    ck_assert_int_eq(swco__ws_utf8(&st, (const uint8_t *)"\xe0\x80\x80", 3), -1);
}
END_TEST

/* ---------------------------------------------------- permessage-deflate */

START_TEST(deflate_rfc7692_examples)
{
    /* Section 7.2.3.1: "Hello" compressed, no context takeover */
    static const uint8_t hello[] = {0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00};
    swco__ws_zip_t in;
    swco__ws_zip_init(&in, 1, 15, 0, 0);
    swco__hbuf_t out = {0};
    ck_assert_int_eq(swco__ws_inflate(&in, hello, sizeof hello, &out, 0), 0);
    ck_assert_str_eq(out.p, "Hello");
    /* 7.2.3.2: the same again with the shared window (context takeover) */
    static const uint8_t again[] = {0xf2, 0x00, 0x11, 0x00, 0x00};
    out.len = 0;
    ck_assert_int_eq(swco__ws_inflate(&in, again, sizeof again, &out, 0), 0);
    ck_assert_str_eq(out.p, "Hello");
    /* 7.2.3.3: a stored block */
    static const uint8_t stored[] = {0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00};
    out.len = 0;
    ck_assert_int_eq(swco__ws_inflate(&in, stored, sizeof stored, &out, 0), 0);
    ck_assert_str_eq(out.p, "Hello");
    /* corrupt data, and a limit */
    out.len = 0;
    ck_assert_int_eq(swco__ws_inflate(&in, "\xff\xff\xff", 3, &out, 0), -EPROTO);
    swco__ws_zip_free(&in);
    swco__ws_zip_init(&in, 1, 15, 1, 0);
    out.len = 0;
    ck_assert_int_eq(swco__ws_inflate(&in, hello, sizeof hello, &out, 3), -EMSGSIZE);
    swco__ws_zip_free(&in);
    swco__hbuf_free(&out);
}
END_TEST

START_TEST(deflate_context_takeover)
{
    const char *msg = "a message that repeats, a message that repeats, and again";
    size_t n = strlen(msg);
    for (int no_takeover = 0; no_takeover < 2; no_takeover++) {
        swco__ws_zip_t tx, rx;
        swco__ws_zip_init(&tx, 0, 15, no_takeover, 6);
        swco__ws_zip_init(&rx, 1, 15, no_takeover, 0);
        swco__hbuf_t z1 = {0}, z2 = {0}, plain = {0};
        ck_assert_int_eq(swco__ws_deflate(&tx, msg, n, &z1), 0);
        ck_assert_int_eq(swco__ws_deflate(&tx, msg, n, &z2), 0);
        /* no tail left on the wire */
        ck_assert(z1.len < 4 || memcmp(z1.p + z1.len - 4, "\0\0\xff\xff", 4) != 0);
        if (no_takeover)
            ck_assert(z1.len == z2.len && memcmp(z1.p, z2.p, z1.len) == 0);
        else
            ck_assert_uint_lt(z2.len, z1.len); /* the second refers to the first */
        ck_assert_int_eq(swco__ws_inflate(&rx, z1.p, z1.len, &plain, 0), 0);
        ck_assert_int_eq(swco__ws_inflate(&rx, z2.p, z2.len, &plain, 0), 0);
        ck_assert_uint_eq(plain.len, 2 * n);
        ck_assert(memcmp(plain.p, msg, n) == 0 && memcmp(plain.p + n, msg, n) == 0);
        /* an empty message */
        z1.len = 0;
        plain.len = 0;
        ck_assert_int_eq(swco__ws_deflate(&tx, "", 0, &z1), 0);
        ck_assert_int_eq(swco__ws_inflate(&rx, z1.p, z1.len, &plain, 0), 0);
        ck_assert_uint_eq(plain.len, 0);
        swco__hbuf_free(&z1);
        swco__hbuf_free(&z2);
        swco__hbuf_free(&plain);
        swco__ws_zip_free(&tx);
        swco__ws_zip_free(&rx);
    }
    /* a deflater held to 8 bits cannot be honoured by zlib: not usable */
    swco__ws_zip_t z8;
    swco__ws_zip_init(&z8, 0, 8, 0, 1);
    ck_assert(!swco__ws_zip_usable(&z8));
}
END_TEST

START_TEST(deflate_negotiation)
{
    swco__ws_pmd_t m;
    swco__hbuf_t a = {0};
    /* Chromium's and python-websockets' offer */
    ck_assert_int_eq(swco__ws_pmd_negotiate("permessage-deflate; client_max_window_bits", &m, &a), 1);
    ck_assert_str_eq(a.p, "permessage-deflate");
    ck_assert_int_eq(m.server_no_context_takeover, 0);
    a.len = 0;
    ck_assert_int_eq(swco__ws_pmd_negotiate("permessage-deflate; server_no_context_takeover; "
                                            "client_no_context_takeover; server_max_window_bits=10",
                                            &m, &a),
                     1);
    ck_assert_str_eq(a.p, "permessage-deflate; server_no_context_takeover; "
                          "client_no_context_takeover; server_max_window_bits=10");
    ck_assert_int_eq(m.server_max_window_bits, 10);
    /* a bad first offer falls back to the next one */
    a.len = 0;
    ck_assert_int_eq(swco__ws_pmd_negotiate("permessage-deflate; server_max_window_bits=20, "
                                            "x-other, permessage-deflate; client_no_context_takeover",
                                            &m, &a),
                     1);
    ck_assert_str_eq(a.p, "permessage-deflate; client_no_context_takeover");
    a.len = 0;
    ck_assert_int_eq(swco__ws_pmd_negotiate("permessage-deflate; foo=1", &m, &a), 0);
    ck_assert_int_eq(swco__ws_pmd_negotiate("permessage-deflate; server_no_context_takeover; "
                                            "server_no_context_takeover",
                                            &m, &a),
                     0);
    ck_assert_int_eq(swco__ws_pmd_negotiate("x-webkit-deflate-frame", &m, &a), 0);
    ck_assert_int_eq(swco__ws_pmd_negotiate(NULL, &m, &a), 0);
    /* the client's check of an answer */
    swco__ws_pmd_t off = {1, 0, 0, 0, 0}, got;
    ck_assert_int_eq(swco__ws_pmd_check("permessage-deflate; server_max_window_bits=12", &off, &got), 0);
    ck_assert_int_eq(got.server_max_window_bits, 12);
    ck_assert_int_eq(swco__ws_pmd_check("permessage-deflate; bogus", &off, &got), -EPROTO);
    ck_assert_int_eq(swco__ws_pmd_check("x-other", &off, &got), -EPROTO);
    off.server_no_context_takeover = 1;
    ck_assert_int_eq(swco__ws_pmd_check("permessage-deflate", &off, &got), -EPROTO);
    ck_assert_int_eq(swco__ws_pmd_check(NULL, &off, &got), 0);
    ck_assert_int_eq(got.on, 0);
    swco__hbuf_free(&a);
}
END_TEST

START_TEST(reader_compressed_messages)
{
    swco__ws_zip_t tx, rx;
    swco__ws_zip_init(&tx, 0, 15, 0, 1);
    swco__ws_zip_init(&rx, 1, 15, 0, 0);
    swco__hbuf_t z = {0}, b = {0};
    ck_assert_int_eq(swco__ws_deflate(&tx, "h\xc3\xa9llo", 6, &z), 0);
    /* compressed text split in two fragments (RSV1 on the first only) */
    size_t half = z.len / 2;
    ck_assert_int_eq(swco__ws_frame_build(&b, SWCO_WS_TEXT, 1, 1, z.p, half, 1), 0);
    frame(&b, SWCO_WS_PING, 0, "", 0, 1);
    frame(&b, SWCO_WS_CONTINUATION, 0, z.p + half, z.len - half, 1);
    swco__ws_reader_t r;
    swco__ws_reader_init(&r, 1, 0, &rx);
    got_t g = {0};
    ck_assert_int_eq(feed_all(&r, &b, 1, &g), 0);
    ck_assert_int_eq(g.n, 2);
    ck_assert_int_eq(g.op[1], SWCO_WS_TEXT);
    ck_assert_str_eq(g.data[1], "h\xc3\xa9llo");
    got_free(&g);
    /* compressed invalid UTF-8 -> 1007 */
    z.len = b.len = 0;
    ck_assert_int_eq(swco__ws_deflate(&tx, "\xff", 1, &z), 0);
    ck_assert_int_eq(swco__ws_frame_build(&b, SWCO_WS_TEXT, 0, 1, z.p, z.len, 1), 0);
    ck_assert_int_eq(feed_all(&r, &b, 0, &g), SWCO_WS_CLOSE_INVALID_PAYLOAD);
    swco__ws_reader_free(&r);
    swco__hbuf_free(&z);
    swco__hbuf_free(&b);
    swco__ws_zip_free(&tx);
    swco__ws_zip_free(&rx);
}
END_TEST

/* ---------------------------------------- client vs python3-websockets */

/* python3-websockets echo server: prints its port, echoes; "close:CODE"
 * closes with CODE and reason "bye"; "ping" makes it ping us first;
 * "ext" answers with the extension header it agreed; "path" the path. */
static const char *py_server =
    "import asyncio, sys, websockets\n"
    "from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory\n"
    "mode = sys.argv[1]\n"
    "async def handler(ws, path):\n"
    "    async for m in ws:\n"
    "        if isinstance(m, str) and m.startswith('close:'):\n"
    "            await ws.close(int(m[6:]), 'bye'); return\n"
    "        if m == 'ping':\n"
    "            await ws.ping(b'srv')\n"
    "        if m == 'ext':\n"
    "            await ws.send(ws.response_headers.get('Sec-WebSocket-Extensions', '')); continue\n"
    "        if m == 'path':\n"
    "            await ws.send(path + ' ' + (ws.subprotocol or '-')); continue\n"
    "        await ws.send(m)\n"
    "async def main():\n"
    "    kw = dict(max_size=None, subprotocols=['chat', 'superchat'])\n"
    "    if mode == 'plain': kw['compression'] = None\n"
    "    if mode == 'nct':\n"
    "        kw['compression'] = None\n"
    "        kw['extensions'] = [ServerPerMessageDeflateFactory(server_no_context_takeover=True,\n"
    "            client_no_context_takeover=True, server_max_window_bits=10)]\n"
    "    async with websockets.serve(handler, '127.0.0.1', 0, **kw) as srv:\n"
    "        print(srv.sockets[0].getsockname()[1], flush=True)\n"
    "        await asyncio.Future()\n"
    "asyncio.run(main())\n";

typedef struct cl_case {
    int port;
    int compress;
    const char *expect_ext; /* what the server says it agreed, "" none */
    int ok;
} cl_case_t;

static void client_body(void *arg)
{
    cl_case_t *k = arg;
    swco_ws_client_t *c = swco_ws_client_new();
    ck_assert_ptr_nonnull(c);
    char url[128];
    snprintf(url, sizeof url, "ws://127.0.0.1:%d/some/path?q=1", k->port);
    if (k->compress)
        ck_assert_int_eq(swco_ws_client_set(c, "compression", "1"), 0);
    ck_assert_int_eq(swco_ws_client_set(c, "subprotocols", "superchat, other"), 0);
    ck_assert_int_eq(swco_ws_client_set(c, "nonsense", "1"), SWCO_EOPTION);
    ck_assert_int_eq(swco_ws_client_connect(c, url, 10 * slow()), 0);
    ck_assert_int_eq(swco_ws_client_status(c), 101);
    ck_assert_str_eq(swco_ws_client_subprotocol(c), "superchat");
    ck_assert_int_eq(swco_ws_client_compression(c), k->compress);
    size_t len;
    /* what the server agreed */
    ck_assert_int_eq(swco_ws_client_send(c, "ext", 3, SWCO_WS_TEXT, 0, 0), 0);
    ck_assert_int_eq(swco_ws_client_recv(c, 10 * slow()), SWCO_WS_TEXT);
    ck_assert_str_eq(swco_ws_client_data(c, &len), k->expect_ext);
    ck_assert_int_eq(swco_ws_client_send(c, "path", 4, SWCO_WS_TEXT, 0, 0), 0);
    ck_assert_int_eq(swco_ws_client_recv(c, 10 * slow()), SWCO_WS_TEXT);
    ck_assert_str_eq(swco_ws_client_data(c, NULL), "/some/path?q=1 superchat");
    /* text and binary, small and large, repeated (context takeover) */
    size_t big = 1 << 20;
    char *buf = malloc(big);
    for (size_t i = 0; i < big; i++)
        buf[i] = (char)(i * 7 % 251);
    for (int round = 0; round < 3; round++) {
        ck_assert_int_eq(swco_ws_client_send(c, "héllo wörld", strlen("héllo wörld"), SWCO_WS_TEXT, 0, 0), 0);
        ck_assert_int_eq(swco_ws_client_recv(c, 10 * slow()), SWCO_WS_TEXT);
        ck_assert_str_eq(swco_ws_client_data(c, &len), "héllo wörld");
        ck_assert_int_eq(swco_ws_client_send(c, buf, big, SWCO_WS_BINARY, 0, 0), 0);
        ck_assert_int_eq(swco_ws_client_recv(c, 30 * slow()), SWCO_WS_BINARY);
        const char *d = swco_ws_client_data(c, &len);
        ck_assert_uint_eq(len, big);
        ck_assert(memcmp(d, buf, big) == 0);
    }
    free(buf);
    /* a fragmented message with a ping between its fragments */
    ck_assert_int_eq(swco_ws_client_send(c, "frag", 4, SWCO_WS_TEXT, SWCO_WS_FLAG_MORE, 0), 0);
    ck_assert_int_eq(swco_ws_client_ping(c, "pp", 2), 0);
    ck_assert_int_eq(swco_ws_client_send(c, "mented", 6, SWCO_WS_CONTINUATION, 0, 0), 0);
    ck_assert_int_eq(swco_ws_client_recv(c, 10 * slow()), SWCO_WS_PONG);
    ck_assert_str_eq(swco_ws_client_data(c, NULL), "pp");
    ck_assert_int_eq(swco_ws_client_recv(c, 10 * slow()), SWCO_WS_TEXT);
    ck_assert_str_eq(swco_ws_client_data(c, NULL), "fragmented");
    /* the server pings us: answered, not returned */
    ck_assert_int_eq(swco_ws_client_send(c, "ping", 4, SWCO_WS_TEXT, 0, 0), 0);
    ck_assert_int_eq(swco_ws_client_recv(c, 10 * slow()), SWCO_WS_TEXT);
    ck_assert_str_eq(swco_ws_client_data(c, NULL), "ping");
    /* a timeout leaves the client usable */
    ck_assert_int_eq(swco_ws_client_recv(c, 0.05), -ETIMEDOUT);
    /* the server closes with a code and reason */
    ck_assert_int_eq(swco_ws_client_send(c, "close:4001", 10, SWCO_WS_TEXT, 0, 0), 0);
    ck_assert_int_eq(swco_ws_client_recv(c, 10 * slow()), SWCO_WS_CLOSE);
    ck_assert_int_eq(swco_ws_client_close_code(c), 4001);
    ck_assert_str_eq(swco_ws_client_close_reason(c), "bye");
    ck_assert_int_eq(swco_ws_client_recv(c, 1), SWCO_ECLOSED);
    ck_assert_int_eq(swco_ws_client_send(c, "x", 1, SWCO_WS_TEXT, 0, 0), SWCO_ECLOSED);
    /* a second connection closed by us */
    ck_assert_int_eq(swco_ws_client_connect(c, url, 10 * slow()), 0);
    ck_assert_int_eq(swco_ws_client_send(c, "again", 5, SWCO_WS_TEXT, 0, 0), 0);
    ck_assert_int_eq(swco_ws_client_recv(c, 10 * slow()), SWCO_WS_TEXT);
    ck_assert_int_eq(swco_ws_client_close(c, 1000, "done", 10 * slow()), 0);
    ck_assert_int_eq(swco_ws_client_close_code(c), 1000);
    swco_ws_client_free(c);
    k->ok = 1;
}

static void client_vs_python(const char *mode, int compress, const char *expect_ext)
{
    const char *py = python_ws();
    if (!py)
        return;
    char *argv[] = {(char *)py, "-c", (char *)py_server, (char *)mode, NULL};
    peer_t pr = spawn(argv);
    char line[64];
    ck_assert_int_gt(read_line(&pr, line, sizeof line), 0);
    cl_case_t k = {atoi(line), compress, expect_ext, 0};
    ck_assert_int_gt(k.port, 0);
    ck_assert_int_eq(swco_run(client_body, &k), 0);
    ck_assert(k.ok);
    stop_peer(&pr);
}

START_TEST(client_python_plain) { client_vs_python("plain", 0, ""); }
END_TEST

START_TEST(client_python_deflate)
{
    client_vs_python("deflate", 1, "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12");
}
END_TEST

START_TEST(client_python_deflate_no_context_takeover)
{
    client_vs_python("nct", 1,
                     "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
                     "server_max_window_bits=10");
}
END_TEST

START_TEST(client_python_deflate_not_offered)
{
    /* the server would compress, the client does not offer it */
    client_vs_python("deflate", 0, "");
}
END_TEST

static void client_errors_body(void *arg)
{
    int *ok = arg;
    swco_ws_client_t *c = swco_ws_client_new();
    ck_assert_int_eq(swco_ws_client_connect(c, "http://127.0.0.1/", 1), -EINVAL);
    ck_assert_int_eq(swco_ws_client_connect(c, "ws://", 1), -EINVAL);
    ck_assert_int_eq(swco_ws_client_connect(c, "ws://127.0.0.1:99999/", 1), -EINVAL);
    ck_assert_int_eq(swco_ws_client_add_header(c, "X-A", "b\r\nEvil: 1"), -EINVAL);
    ck_assert_int_eq(swco_ws_client_set(c, "server_max_window_bits", "7"), SWCO_EOPTVALUE);
    /* nobody listens on port 1 */
    ck_assert_int_eq(swco_ws_client_connect(c, "ws://127.0.0.1:1/", 5 * slow()), -ECONNREFUSED);
    ck_assert_int_eq(swco_ws_client_send(c, "x", 1, SWCO_WS_TEXT, 0, 0), SWCO_ECLOSED);
    swco_ws_client_free(c);
    *ok = 1;
}

START_TEST(client_bad_arguments)
{
    int ok = 0;
    ck_assert_int_eq(swco_run(client_errors_body, &ok), 0);
    ck_assert(ok);
}
END_TEST

/* ------------------------------------------------------------ server */

/* A server in a forked child; its callbacks write what they see to the
 * events pipe (ev_w), one line each: "open PATH", "close CODE REASON". */
typedef struct child {
    pid_t pid;
    int ready, events;
} child_t;

static int ready_w = -1, ev_w = -1;

static void ev_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void ev_line(const char *fmt, ...)
{
    char b[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b, sizeof b - 1, fmt, ap);
    va_end(ap);
    b[n++] = '\n';
    if (write(ev_w, b, (size_t)n) != n)
        abort();
}

static void note_worker_start(swco_server_t *srv, int worker_id, void *arg)
{
    char c = (char)('0' + worker_id);
    if (write(ready_w, &c, 1) != 1)
        abort();
}

static void on_http(swco_server_t *srv, swco_http_request_t *req, swco_http_response_t *resp,
                    void *arg)
{
    swco_http_response_header(resp, "Content-Type", "text/plain");
    swco_http_response_end(resp, "plain http\n", 11);
}

static int on_handshake(swco_server_t *srv, swco_http_request_t *req, swco_http_response_t *resp,
                        void *arg)
{
    if (!strcmp(swco_http_request_path(req), "/refuse"))
        return 403;
    const char *protos = swco_http_request_param(req, SWCO_HTTP_HEADER, "Sec-WebSocket-Protocol");
    if (protos && strstr(protos, "chat"))
        swco_http_response_header(resp, "Sec-WebSocket-Protocol", "chat");
    swco_http_response_header(resp, "X-Handshake", "yes");
    return 0;
}

static void on_open(swco_server_t *srv, long long fd, swco_http_request_t *req, void *arg)
{
    ev_line("open %s", swco_http_request_path(req));
}

static void push_text(swco_server_t *srv, long long fd, const char *s)
{
    swco_ws_push(srv, fd, s, strlen(s), SWCO_WS_TEXT, 0);
}

/* Echo, and commands: "bye:CODE" disconnects with CODE; "whoami" answers
 * the worker id; "other:X" has another worker push X; "bcast:X"
 * broadcasts X; "est" answers is_established. */
static void on_message(swco_server_t *srv, long long fd, int opcode, const char *data, size_t len,
                       void *arg)
{
    char b[256];
    if (opcode == SWCO_WS_TEXT && !strncmp(data, "bye:", 4)) {
        ck_assert_int_eq(swco_ws_disconnect(srv, fd, atoi(data + 4), "server bye"), 0);
        /* gone for pushes at once */
        ck_assert_int_eq(swco_ws_is_established(srv, fd), 0);
        ck_assert_int_eq(swco_ws_push(srv, fd, "x", 1, SWCO_WS_TEXT, 0), SWCO_ENOCONN);
        return;
    }
    if (opcode == SWCO_WS_TEXT && !strcmp(data, "whoami")) {
        snprintf(b, sizeof b, "w%d", swco_server_worker_id(srv));
        push_text(srv, fd, b);
        return;
    }
    if (opcode == SWCO_WS_TEXT && !strncmp(data, "other:", 6)) {
        int me = swco_server_worker_id(srv);
        snprintf(b, sizeof b, "%lld %s", fd, data + 6);
        ck_assert_int_eq(swco_server_send_message(srv, (me + 1) % 2, b, strlen(b)), 0);
        return;
    }
    if (opcode == SWCO_WS_TEXT && !strncmp(data, "bcast:", 6)) {
        long n = swco_ws_broadcast(srv, data + 6, len - 6, SWCO_WS_TEXT, 0);
        snprintf(b, sizeof b, "sent to %ld", n);
        push_text(srv, fd, b);
        return;
    }
    if (opcode == SWCO_WS_TEXT && !strcmp(data, "est")) {
        snprintf(b, sizeof b, "est %d %d", swco_ws_is_established(srv, fd),
                 swco_ws_is_established(srv, fd + 1));
        push_text(srv, fd, b);
        return;
    }
    ck_assert_int_eq(swco_ws_push(srv, fd, data, len, opcode, 0), 0);
}

/* Another worker's push (PROCESS mode): "FD TEXT" -> TEXT from wN. */
static void on_pipe(swco_server_t *srv, int src, const void *data, size_t len, void *arg)
{
    char b[256];
    long long fd = strtoll(data, NULL, 10);
    const char *text = strchr(data, ' ') + 1;
    snprintf(b, sizeof b, "%.*s from w%d", (int)(len - (size_t)(text - (const char *)data)), text,
             swco_server_worker_id(srv));
    ck_assert_int_eq(swco_ws_is_established(srv, fd), 1);
    push_text(srv, fd, b);
}

static void on_close(swco_server_t *srv, long long fd, int code, const char *reason, void *arg)
{
    ev_line("close %d %s", code, reason);
}

typedef struct srvcfg {
    int mode, workers, ssl;
    const char *compression;  /* websocket_compression */
    const char *max_frame;    /* websocket_max_frame_size */
} srvcfg_t;

static char tls_dir[64];

static int make_tls_files(void)
{
    snprintf(tls_dir, sizeof tls_dir, "/tmp/swco-wstls-XXXXXX");
    if (!mkdtemp(tls_dir))
        return -1;
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "(cd %s && "
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
             "-keyout ca.key -out ca.pem -days 2 -subj /CN=swco-test-ca && "
             "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
             "-keyout srv.key -out srv.csr -subj /CN=localhost && "
             "openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
             "-out srv.pem -days 2) >/dev/null 2>&1",
             tls_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void rm_tls_files(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tls_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tls_dir);
}

/* Start a WebSocket server as cfg says; its port in *port. */
static child_t start_server(const srvcfg_t *cfg, int *port)
{
    swco_server_t *srv = swco_ws_server_new("127.0.0.1", 0, cfg->mode,
                                            SWCO_SOCK_TCP | (cfg->ssl ? SWCO_SOCK_SSL : 0));
    ck_assert_ptr_nonnull(srv);
    *port = swco_server_listener_port(srv, 0);
    char n[16];
    snprintf(n, sizeof n, "%d", cfg->workers);
    ck_assert_int_eq(swco_server_set(srv, "worker_num", n), 0);
    if (cfg->mode == SWCO_SERVER_PROCESS)
        ck_assert_int_eq(swco_server_set(srv, "reactor_num", "1"), 0);
    if (cfg->compression)
        ck_assert_int_eq(swco_server_set(srv, "websocket_compression", cfg->compression), 0);
    if (cfg->max_frame)
        ck_assert_int_eq(swco_server_set(srv, "websocket_max_frame_size", cfg->max_frame), 0);
    if (cfg->ssl) {
        char p[128];
        snprintf(p, sizeof p, "%s/srv.pem", tls_dir);
        ck_assert_int_eq(swco_server_set(srv, "ssl_cert_file", p), 0);
        snprintf(p, sizeof p, "%s/srv.key", tls_dir);
        ck_assert_int_eq(swco_server_set(srv, "ssl_key_file", p), 0);
    }
    ck_assert_int_eq(swco_http_on_request(srv, on_http, NULL, NULL), 0);
    ck_assert_int_eq(swco_ws_on_handshake(srv, on_handshake, NULL, NULL), 0);
    ck_assert_int_eq(swco_ws_on_open(srv, on_open, NULL, NULL), 0);
    ck_assert_int_eq(swco_ws_on_message(srv, on_message, NULL, NULL), 0);
    ck_assert_int_eq(swco_ws_on_close(srv, on_close, NULL, NULL), 0);
    ck_assert_int_eq(swco_server_on_pipe_message(srv, on_pipe, NULL, NULL), 0);
    ck_assert_int_eq(swco_server_on_worker_start(srv, note_worker_start, NULL, NULL), 0);
    int r[2], e[2];
    ck_assert_int_eq(pipe2(r, O_CLOEXEC), 0);
    ck_assert_int_eq(pipe2(e, O_CLOEXEC), 0);
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(r[0]);
        close(e[0]);
        ready_w = r[1];
        ev_w = e[1];
        int rc = swco_server_start(srv);
        if (rc < 0)
            fprintf(stderr, "start: %s\n", swco_strerror(rc));
        swco_server_free(srv);
        fflush(NULL);
        _exit(rc == 0 ? 0 : 3);
    }
    close(r[1]);
    close(e[1]);
    swco_server_free(srv);
    child_t c = {pid, r[0], e[0]};
    for (int i = 0; i < cfg->workers; i++) {
        struct pollfd p = {c.ready, POLLIN, 0};
        ck_assert_msg(poll(&p, 1, (int)(30000 * slow())) == 1, "server did not start");
        char b;
        ck_assert_msg(read(c.ready, &b, 1) == 1, "server exited before it started");
    }
    return c;
}

static void stop_server(child_t *c)
{
    kill(c->pid, SIGTERM);
    int st;
    double deadline = now_s() + 30 * slow();
    while (waitpid(c->pid, &st, WNOHANG) == 0) {
        if (now_s() > deadline) {
            kill(c->pid, SIGKILL);
            waitpid(c->pid, &st, 0);
            ck_abort_msg("server did not stop");
        }
        struct pollfd p = {c->ready, POLLIN, 0};
        poll(&p, 1, 50); /* EOF once it exited */
        char b;
        if (p.revents && read(c->ready, &b, 1) <= 0) {
            waitpid(c->pid, &st, 0);
            break;
        }
    }
    close(c->ready);
    close(c->events);
}

/* The next event line of the server (within the time limit). */
static void next_event(child_t *c, char *buf, size_t cap)
{
    peer_t p = {c->pid, c->events};
    ck_assert_msg(read_line(&p, buf, cap) >= 0, "no event from the server");
}

/* python3-websockets client: echo in every size, fragments with a ping
 * between them, the server's close code, our close code, a refusal. */
static const char *py_client =
    "import asyncio, sys, websockets\n"
    "from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory\n"
    "port, mode = sys.argv[1], sys.argv[2]\n"
    "url = 'ws://127.0.0.1:%s/echo' % port\n"
    "kw = dict(max_size=None)\n"
    "if mode == 'plain': kw['compression'] = None\n"
    "if mode == 'nct':\n"
    "    kw['compression'] = None\n"
    "    kw['extensions'] = [ClientPerMessageDeflateFactory(client_no_context_takeover=True,\n"
    "        server_no_context_takeover=True, server_max_window_bits=10, client_max_window_bits=11)]\n"
    "async def main():\n"
    "    async with websockets.connect(url, subprotocols=['chat'], **kw) as ws:\n"
    "        print('ext', ws.response_headers.get('Sec-WebSocket-Extensions', '-'))\n"
    "        print('proto', ws.subprotocol, ws.response_headers.get('X-Handshake'))\n"
    "        for i in range(3):\n"
    "            t = 'h\\u00e9llo ' * (1 + 300 * i)\n"
    "            await ws.send(t); assert await ws.recv() == t\n"
    "            b = bytes(range(256)) * (1 + 100 * i)\n"
    "            await ws.send(b); assert await ws.recv() == b\n"
    "        print('echo ok')\n"
    "        async def frags():\n"
    "            yield 'frag'\n"
    "            await ws.ping(b'mid')\n"
    "            yield 'men'\n"
    "            yield 'ted'\n"
    "        await ws.send(frags())\n"
    "        print('frag', await ws.recv())\n"
    "        pong = await ws.ping(b'x')\n"
    "        await asyncio.wait_for(pong, 10)\n"
    "        print('pong ok')\n"
    "        await ws.send('est'); print(await ws.recv())\n"
    "        await ws.send('bye:4002')\n"
    "        try: await ws.recv()\n"
    "        except websockets.ConnectionClosed as e: print('closed', e.code, e.reason)\n"
    "    async with websockets.connect(url, **kw) as ws:\n"
    "        await ws.send('x'); await ws.recv()\n"
    "        await ws.close(4003, 'client bye')\n"
    "        print('we closed', ws.close_code)\n"
    "    try:\n"
    "        async with websockets.connect('ws://127.0.0.1:%s/refuse' % port, **kw) as ws: pass\n"
    "    except websockets.InvalidStatusCode as e: print('refused', e.status_code)\n"
    "asyncio.run(main())\n";

static void server_vs_python(const char *compression, const char *mode, const char *expect_ext)
{
    const char *py = python_ws();
    if (!py)
        return;
    srvcfg_t cfg = {SWCO_SERVER_BASE, 1, 0, compression, NULL};
    int port;
    child_t c = start_server(&cfg, &port);
    char ps[16], out[8192], ev[256];
    snprintf(ps, sizeof ps, "%d", port);
    char *argv[] = {(char *)py, "-c", (char *)py_client, ps, (char *)mode, NULL};
    peer_t pr = spawn(argv);
    int st = finish(&pr, out, sizeof out);
    char expect[1024];
    snprintf(expect, sizeof expect,
             "ext %s\nproto chat yes\necho ok\nfrag fragmented\npong ok\nest 1 0\n"
             "closed 4002 server bye\nwe closed 4003\nrefused 403\n",
             expect_ext);
    ck_assert_msg(st == 0, "python client failed (%d): %s", st, out);
    ck_assert_str_eq(out, expect);
    /* what the server saw: two opens and their closes */
    next_event(&c, ev, sizeof ev);
    ck_assert_str_eq(ev, "open /echo");
    next_event(&c, ev, sizeof ev);
    ck_assert_str_eq(ev, "close 4002 server bye");
    next_event(&c, ev, sizeof ev);
    ck_assert_str_eq(ev, "open /echo");
    next_event(&c, ev, sizeof ev);
    ck_assert_str_eq(ev, "close 4003 client bye");
    stop_server(&c);
}

START_TEST(server_python_plain) { server_vs_python(NULL, "plain", "-"); }
END_TEST

START_TEST(server_python_deflate)
{
    /* python offers "permessage-deflate; client_max_window_bits" */
    server_vs_python("1", "deflate", "permessage-deflate");
}
END_TEST

START_TEST(server_python_deflate_no_context_takeover)
{
    server_vs_python("1", "nct",
                     "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
                     "server_max_window_bits=10");
}
END_TEST

START_TEST(server_python_compression_off)
{
    /* python offers deflate, the server does not take it */
    server_vs_python("0", "deflate", "-");
}
END_TEST

/* A raw client (python sockets): the frames the test asks for, then the
 * frames the server answers, printed "OPCODE PAYLOAD" / "close CODE". */
static const char *py_raw =
    "import socket, sys, os, base64, struct\n"
    "port, case = int(sys.argv[1]), sys.argv[2]\n"
    "s = socket.create_connection(('127.0.0.1', port))\n"
    "key = base64.b64encode(os.urandom(16)).decode()\n"
    "s.sendall(('GET /raw HTTP/1.1\\r\\nHost: x\\r\\nUpgrade: websocket\\r\\n'\n"
    "    'Connection: Upgrade\\r\\nSec-WebSocket-Key: %s\\r\\nSec-WebSocket-Version: 13\\r\\n\\r\\n'\n"
    "    % key).encode())\n"
    "buf = b''\n"
    "while b'\\r\\n\\r\\n' not in buf: buf += s.recv(4096)\n"
    "head, buf = buf.split(b'\\r\\n\\r\\n', 1)\n"
    "print(head.split(b'\\r\\n')[0].decode())\n"
    "def fr(op, data, fin=True, mask=True):\n"
    "    n = len(data); b0 = (0x80 if fin else 0) | op; m = 0x80 if mask else 0\n"
    "    h = bytes([b0, m | n]) if n < 126 else (bytes([b0, m | 126]) + struct.pack('>H', n) if n < 65536\n"
    "        else bytes([b0, m | 127]) + struct.pack('>Q', n))\n"
    "    if not mask: return h + data\n"
    "    k = os.urandom(4)\n"
    "    return h + k + bytes(c ^ k[i % 4] for i, c in enumerate(data))\n"
    "def need(n):\n"
    "    global buf\n"
    "    while len(buf) < n:\n"
    "        d = s.recv(65536)\n"
    "        if not d: raise EOFError\n"
    "        buf += d\n"
    "    r, buf = buf[:n], buf[n:]\n"
    "    return r\n"
    "def frame():\n"
    "    h = need(2); n = h[1] & 127\n"
    "    if n == 126: n = struct.unpack('>H', need(2))[0]\n"
    "    elif n == 127: n = struct.unpack('>Q', need(8))[0]\n"
    "    return h[0] & 15, need(n)\n"
    "if case == 'utf8': s.sendall(fr(1, b'ok', fin=False) + fr(0, b'\\xc0\\x80'))\n"
    "if case == 'big': s.sendall(fr(2, b'x' * 70000))\n"
    "if case == 'unmasked': s.sendall(fr(1, b'x', mask=False))\n"
    "if case == 'frag': s.sendall(fr(1, b'frag', fin=False) + fr(9, b'mid') + fr(0, b'mented')\n"
    "    + fr(8, b''))\n"
    "if case == 'pipelined': s.sendall(b''.join(fr(1, b'm%d' % i) for i in range(50)) + fr(8, b'\\x03\\xe8'))\n"
    "try:\n"
    "    while True:\n"
    "        op, p = frame()\n"
    "        if op == 8: print('close', struct.unpack('>H', p[:2])[0] if len(p) >= 2 else '-'); break\n"
    "        print(op, p.decode())\n"
    "    print('eof' if s.recv(1) == b'' else 'more')\n"
    "except EOFError: print('eof before close')\n";

static void raw_case(const char *py, int port, const char *which, const char *expect)
{
    char ps[16], out[8192];
    snprintf(ps, sizeof ps, "%d", port);
    char *argv[] = {(char *)py, "-c", (char *)py_raw, ps, (char *)which, NULL};
    peer_t pr = spawn(argv);
    int st = finish(&pr, out, sizeof out);
    ck_assert_msg(st == 0, "raw client failed (%d): %s", st, out);
    ck_assert_str_eq(out, expect);
}

START_TEST(server_protocol_errors)
{
    const char *py = python_ws();
    if (!py)
        return;
    srvcfg_t cfg = {SWCO_SERVER_BASE, 1, 0, NULL, "65536"};
    int port;
    child_t c = start_server(&cfg, &port);
    char ev[256];
    raw_case(py, port, "utf8", "HTTP/1.1 101 Switching Protocols\nclose 1007\neof\n");
    raw_case(py, port, "big", "HTTP/1.1 101 Switching Protocols\nclose 1009\neof\n");
    raw_case(py, port, "unmasked", "HTTP/1.1 101 Switching Protocols\nclose 1002\neof\n");
    raw_case(py, port, "frag",
             "HTTP/1.1 101 Switching Protocols\n10 mid\n1 fragmented\nclose 1000\neof\n");
    /* 50 messages in one read, then a close: all answered, in order */
    char expect[2048] = "HTTP/1.1 101 Switching Protocols\n";
    for (int i = 0; i < 50; i++)
        snprintf(expect + strlen(expect), sizeof expect - strlen(expect), "1 m%d\n", i);
    strcat(expect, "close 1000\neof\n");
    raw_case(py, port, "pipelined", expect);
    static const char *closes[] = {"close 1007 ", "close 1009 ", "close 1002 ", "close 1005 ",
                                   "close 1000 "};
    for (int i = 0; i < 5; i++) {
        next_event(&c, ev, sizeof ev);
        ck_assert_str_eq(ev, "open /raw");
        next_event(&c, ev, sizeof ev);
        ck_assert_str_eq(ev, closes[i]);
    }
    stop_server(&c);
}
END_TEST

/* Our client against our server: echo with compression, another worker's
 * push (PROCESS), broadcast, plain HTTP on the same listener, close codes
 * both ways and a dropped connection. */
typedef struct own {
    int port, ssl, workers;
    int ok;
} own_t;

static swco_ws_client_t *own_connect(own_t *o, const char *path, int compress)
{
    swco_ws_client_t *c = swco_ws_client_new();
    ck_assert_ptr_nonnull(c);
    char url[128], ca[128];
    snprintf(url, sizeof url, "%s://127.0.0.1:%d%s", o->ssl ? "wss" : "ws", o->port, path);
    if (o->ssl) {
        snprintf(ca, sizeof ca, "%s/ca.pem", tls_dir);
        ck_assert_int_eq(swco_ws_client_set(c, "ssl_ca_file", ca), 0);
        ck_assert_int_eq(swco_ws_client_set(c, "ssl_host_name", "localhost"), 0);
    }
    ck_assert_int_eq(swco_ws_client_set(c, "compression", compress ? "1" : "0"), 0);
    ck_assert_int_eq(swco_ws_client_set(c, "subprotocols", "chat"), 0);
    ck_assert_int_eq(swco_ws_client_add_header(c, "X-Test", "1"), 0);
    int rc = swco_ws_client_connect(c, url, 10 * slow());
    ck_assert_msg(rc == 0, "connect %s: %s", url, swco_strerror(rc));
    ck_assert_str_eq(swco_ws_client_subprotocol(c), "chat");
    ck_assert_str_eq(swco_ws_client_header(c, "x-handshake"), "yes");
    ck_assert_int_eq(swco_ws_client_compression(c), compress);
    return c;
}

static const char *own_roundtrip(swco_ws_client_t *c, const char *s)
{
    ck_assert_int_eq(swco_ws_client_send(c, s, strlen(s), SWCO_WS_TEXT, 0, 0), 0);
    int op = swco_ws_client_recv(c, 10 * slow());
    ck_assert_msg(op == SWCO_WS_TEXT, "recv: %d", op);
    return swco_ws_client_data(c, NULL);
}

static void own_body(void *arg)
{
    own_t *o = arg;
    swco_ws_client_t *c1 = own_connect(o, "/a", 1);
    /* echo: sizes across the frame length forms, text and binary */
    char *buf = malloc(300000);
    for (int i = 0; i < 300000; i++)
        buf[i] = (char)('a' + i % 23);
    static const size_t sizes[] = {0, 1, 125, 126, 4096, 65535, 65536, 300000};
    for (int round = 0; round < 2; round++) {
        for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
            int op = k % 2 ? SWCO_WS_BINARY : SWCO_WS_TEXT;
            ck_assert_int_eq(swco_ws_client_send(c1, buf, sizes[k], op, 0, 0), 0);
            int got = swco_ws_client_recv(c1, 10 * slow());
            ck_assert_msg(got == op, "size %zu: got %d (close %d)", sizes[k], got,
                          swco_ws_client_close_code(c1));
            size_t len;
            const char *d = swco_ws_client_data(c1, &len);
            ck_assert_uint_eq(len, sizes[k]);
            ck_assert(memcmp(d, buf, len) == 0);
        }
    }
    free(buf);
    /* a ping is answered by the server itself */
    ck_assert_int_eq(swco_ws_client_ping(c1, "hi", 2), 0);
    ck_assert_int_eq(swco_ws_client_recv(c1, 10 * slow()), SWCO_WS_PONG);
    ck_assert_str_eq(swco_ws_client_data(c1, NULL), "hi");
    char me[16];
    snprintf(me, sizeof me, "%s", own_roundtrip(c1, "whoami"));
    if (o->workers > 1) {
        /* another worker pushes to c1's connection */
        const char *got = own_roundtrip(c1, "other:hello");
        char other[64];
        snprintf(other, sizeof other, "hello from w%d", me[1] == '0' ? 1 : 0);
        ck_assert_str_eq(got, other);
    }
    /* broadcast reaches every WebSocket connection (all workers') */
    swco_ws_client_t *c2 = own_connect(o, "/b", 0);
    swco_ws_client_t *c3 = own_connect(o, "/c", 1);
    ck_assert_str_eq(own_roundtrip(c2, "x"), "x"); /* c2 is open on the server */
    ck_assert_str_eq(own_roundtrip(c3, "y"), "y");
    ck_assert_str_eq(own_roundtrip(c1, "bcast:news"), "news");
    ck_assert_int_eq(swco_ws_client_recv(c1, 10 * slow()), SWCO_WS_TEXT);
    ck_assert_str_eq(swco_ws_client_data(c1, NULL), "sent to 3");
    ck_assert_int_eq(swco_ws_client_recv(c2, 10 * slow()), SWCO_WS_TEXT);
    ck_assert_str_eq(swco_ws_client_data(c2, NULL), "news");
    ck_assert_int_eq(swco_ws_client_recv(c3, 10 * slow()), SWCO_WS_TEXT);
    ck_assert_str_eq(swco_ws_client_data(c3, NULL), "news");
    /* plain HTTP on the same listener */
    if (!o->ssl) {
        swco_socket_t *s = swco_socket_new(AF_INET, SOCK_STREAM, 0);
        ck_assert_int_eq(swco_socket_connect(s, "127.0.0.1", o->port, 10 * slow()), 0);
        const char *rq = "GET /plain HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
        ck_assert_int_eq(swco_socket_send_all(s, rq, strlen(rq), 10 * slow()), (long)strlen(rq));
        char resp[2048];
        size_t n = 0;
        long r;
        while ((r = swco_socket_recv(s, resp + n, sizeof resp - 1 - n, 10 * slow())) > 0)
            n += (size_t)r;
        resp[n] = 0;
        ck_assert_msg(strncmp(resp, "HTTP/1.1 200", 12) == 0, "%s", resp);
        ck_assert_ptr_nonnull(strstr(resp, "\r\n\r\nplain http\n"));
        swco_socket_free(s);
    }
    /* closes: ours, the server's, and a connection that just drops */
    ck_assert_int_eq(swco_ws_client_close(c2, 4005, "c2 done", 10 * slow()), 0);
    ck_assert_int_eq(swco_ws_client_close_code(c2), 4005);
    ck_assert_int_eq(swco_ws_client_send(c1, "bye:4010", 8, SWCO_WS_TEXT, 0, 0), 0);
    ck_assert_int_eq(swco_ws_client_recv(c1, 10 * slow()), SWCO_WS_CLOSE);
    ck_assert_int_eq(swco_ws_client_close_code(c1), 4010);
    ck_assert_str_eq(swco_ws_client_close_reason(c1), "server bye");
    swco_ws_client_free(c3);
    swco_ws_client_free(c2);
    swco_ws_client_free(c1);
    o->ok = 1;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void own_client_case(int mode, int workers, int ssl)
{
    if (ssl)
        ck_assert_msg(make_tls_files() == 0, "cannot make certificates with openssl");
    srvcfg_t cfg = {mode, workers, ssl, "1", NULL};
    int port;
    child_t c = start_server(&cfg, &port);
    own_t o = {port, ssl, workers, 0};
    ck_assert_int_eq(swco_run(own_body, &o), 0);
    ck_assert(o.ok);
    /* three opens, three closes (any order across connections) */
    char ev[6][256];
    char *evp[6];
    for (int i = 0; i < 6; i++) {
        next_event(&c, ev[i], sizeof ev[i]);
        evp[i] = ev[i];
    }
    qsort(evp, 6, sizeof evp[0], cmp_str);
    ck_assert_str_eq(evp[0], "close 1006 ");
    ck_assert_str_eq(evp[1], "close 4005 c2 done");
    ck_assert_str_eq(evp[2], "close 4010 server bye");
    ck_assert_str_eq(evp[3], "open /a");
    ck_assert_str_eq(evp[4], "open /b");
    ck_assert_str_eq(evp[5], "open /c");
    stop_server(&c);
    if (ssl)
        rm_tls_files();
}

START_TEST(server_own_client_base) { own_client_case(SWCO_SERVER_BASE, 1, 0); }
END_TEST

START_TEST(server_own_client_tls) { own_client_case(SWCO_SERVER_BASE, 1, 1); }
END_TEST

START_TEST(server_own_client_process) { own_client_case(SWCO_SERVER_PROCESS, 2, 0); }
END_TEST

START_TEST(server_own_client_thread) { own_client_case(SWCO_SERVER_THREAD, 2, 0); }
END_TEST

/* Empty messages between others: zlib emits nothing for a flush right
 * after a flush, so an empty message must be sent as 0x00, and an empty
 * payload (what some deflaters send) read as an empty message. */
START_TEST(deflate_empty_messages)
{
    swco__ws_zip_t tx, rx;
    swco__ws_zip_init(&tx, 0, 15, 0, 1);
    swco__ws_zip_init(&rx, 1, 15, 0, 0);
    static const char *msgs[] = {"", "a", "abc", "", "", "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", ""};
    for (size_t i = 0; i < sizeof msgs / sizeof msgs[0]; i++) {
        swco__hbuf_t z = {0}, o = {0};
        ck_assert_int_eq(swco__ws_deflate(&tx, msgs[i], strlen(msgs[i]), &z), 0);
        ck_assert_uint_gt(z.len, 0);
        ck_assert_int_eq(swco__ws_inflate(&rx, z.p, z.len, &o, 0), 0);
        ck_assert_uint_eq(o.len, strlen(msgs[i]));
        ck_assert(o.len == 0 || memcmp(o.p, msgs[i], o.len) == 0);
        /* an empty payload in between changes nothing */
        o.len = 0;
        ck_assert_int_eq(swco__ws_inflate(&rx, "", 0, &o, 0), 0);
        ck_assert_uint_eq(o.len, 0);
        swco__hbuf_free(&z);
        swco__hbuf_free(&o);
    }
    swco__ws_zip_free(&tx);
    swco__ws_zip_free(&rx);
}
END_TEST

/* Upgrade requests the server refuses, each with its status; the worker
 * goes on serving. */
typedef struct refuse_case {
    int port;
    int ok;
} refuse_case_t;

static void raw_status(int port, const char *rq, const char *expect)
{
    swco_socket_t *s = swco_socket_new(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_eq(swco_socket_connect(s, "127.0.0.1", port, 10 * slow()), 0);
    ck_assert_int_eq(swco_socket_send_all(s, rq, strlen(rq), 10 * slow()), (long)strlen(rq));
    char resp[2048];
    size_t n = 0;
    long r;
    while (!memmem(resp, n, "\r\n\r\n", 4) &&
           (r = swco_socket_recv(s, resp + n, sizeof resp - 1 - n, 10 * slow())) > 0)
        n += (size_t)r;
    resp[n] = 0;
    ck_assert_msg(strstr(resp, expect) == resp, "%s: got %s", expect, resp);
    swco_socket_free(s);
}

static void refuse_body(void *arg)
{
    refuse_case_t *k = arg;
    const char *key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
    char rq[1024];
    snprintf(rq, sizeof rq,
             "GET /x HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n%s"
             "Sec-WebSocket-Version: 8\r\n\r\n",
             key);
    raw_status(k->port, rq, "HTTP/1.1 426");
    snprintf(rq, sizeof rq,
             "GET /x HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n\r\n");
    raw_status(k->port, rq, "HTTP/1.1 400");
    snprintf(rq, sizeof rq,
             "GET /x HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: keep-alive\r\n%s"
             "Sec-WebSocket-Version: 13\r\n\r\n",
             key);
    raw_status(k->port, rq, "HTTP/1.1 400");
    snprintf(rq, sizeof rq,
             "GET /refuse HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n%s"
             "Sec-WebSocket-Version: 13\r\n\r\n",
             key);
    raw_status(k->port, rq, "HTTP/1.1 403");
    /* and a good one: RFC 6455's example key and answer */
    snprintf(rq, sizeof rq,
             "GET /ok HTTP/1.1\r\nHost: a\r\nUpgrade: WebSocket\r\nConnection: keep-alive, Upgrade\r\n%s"
             "Sec-WebSocket-Version: 13\r\n\r\n",
             key);
    raw_status(k->port, rq, "HTTP/1.1 101 Switching Protocols\r\n");
    k->ok = 1;
}

START_TEST(server_handshake_refusals)
{
    srvcfg_t cfg = {SWCO_SERVER_BASE, 1, 0, NULL, NULL};
    int port;
    child_t c = start_server(&cfg, &port);
    refuse_case_t k = {port, 0};
    ck_assert_int_eq(swco_run(refuse_body, &k), 0);
    ck_assert(k.ok);
    char ev[256];
    next_event(&c, ev, sizeof ev);
    ck_assert_str_eq(ev, "open /ok"); /* only the good one opened */
    stop_server(&c);
}
END_TEST

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    Suite *s = suite_create("websocket");
    TCase *tc = tcase_create("codec");
    tcase_add_test(tc, accept_key_rfc);
    tcase_add_test(tc, frame_roundtrip_lengths);
    tcase_add_test(tc, fragments_with_ping_between);
    tcase_add_test(tc, reader_refusals);
    tcase_add_test(tc, utf8_fails_fast_across_fragments);
    tcase_add_test(tc, deflate_rfc7692_examples);
    tcase_add_test(tc, deflate_context_takeover);
    tcase_add_test(tc, deflate_negotiation);
    tcase_add_test(tc, reader_compressed_messages);
    suite_add_tcase(s, tc);
    tc = tcase_create("client");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, client_python_plain);
    tcase_add_test(tc, client_python_deflate);
    tcase_add_test(tc, client_python_deflate_no_context_takeover);
    tcase_add_test(tc, client_python_deflate_not_offered);
    tcase_add_test(tc, client_bad_arguments);
    suite_add_tcase(s, tc);
    tc = tcase_create("server");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, server_python_plain);
    tcase_add_test(tc, server_python_deflate);
    tcase_add_test(tc, server_python_deflate_no_context_takeover);
    tcase_add_test(tc, server_python_compression_off);
    tcase_add_test(tc, server_protocol_errors);
    tcase_add_test(tc, server_own_client_base);
    tcase_add_test(tc, server_own_client_tls);
    tcase_add_test(tc, server_own_client_process);
    tcase_add_test(tc, server_own_client_thread);
    tcase_add_test(tc, deflate_empty_messages);
    tcase_add_test(tc, server_handshake_refusals);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
