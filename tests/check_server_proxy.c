/* PROXY protocol header parser (lib/server/proxy.c): whole headers of both
 * versions give the client's address and their exact length, every prefix
 * of one asks for more, and malformed ones are refused as soon as their
 * first wrong byte arrives.  End to end, a listener with
 * open_proxy_protocol shows each header's source address in
 * swco_server_get_client_info in every mode, and one without it passes the
 * header on as data.  The parser is internal: this suite links
 * libswco_core.la. */
#include "testutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "server/server_int.h"

/* parse a string (not its NUL) */
static long parse_str(const char *s, swco__proxy_hdr_t *h)
{
    return swco__proxy_parse(s, strlen(s), h);
}

/* Every strict prefix of buf[0..hdr_len) asks for more bytes. */
static void assert_prefixes_need_more(const char *buf, size_t hdr_len)
{
    for (size_t k = 0; k < hdr_len; k++) {
        swco__proxy_hdr_t h;
        memset(&h, 0xa5, sizeof h);
        long r = swco__proxy_parse(buf, k, &h);
        ck_assert_msg(r == 0, "prefix of %zu/%zu bytes gave %ld", k, hdr_len, r);
        /* out is left alone until a whole header is there */
        ck_assert_int_eq(((unsigned char *)&h)[0], 0xa5);
    }
}

/* buf is refused once its first n bytes are in, not before. */
static void assert_refused_at(const char *buf, size_t len, size_t n)
{
    for (size_t k = 0; k < n; k++)
        ck_assert_msg(swco__proxy_parse(buf, k, NULL) == 0, "refused early at %zu (of %zu)", k,
                      n);
    for (size_t k = n; k <= len; k++)
        ck_assert_msg(swco__proxy_parse(buf, k, NULL) == -EPROTO, "%zu bytes gave %ld", k,
                      swco__proxy_parse(buf, k, NULL));
}

static void assert_addr(const swco__addr_t *a, int family, const char *text, int port)
{
    ck_assert_int_eq(a->family, family);
    ck_assert_int_eq(a->ss.ss_family, family);
    ck_assert_str_eq(a->text, text);
    ck_assert_int_eq(a->port, port);
}

START_TEST(test_v1_tcp4)
{
    const char *s = "PROXY TCP4 192.168.0.1 10.0.0.1 56324 443\r\nGET / HTTP/1.1\r\n";
    size_t hlen = strlen("PROXY TCP4 192.168.0.1 10.0.0.1 56324 443\r\n");
    swco__proxy_hdr_t h;
    ck_assert_int_eq(parse_str(s, &h), (long)hlen);
    ck_assert_int_eq(h.local, 0);
    assert_addr(&h.src, AF_INET, "192.168.0.1", 56324);
    assert_addr(&h.dst, AF_INET, "10.0.0.1", 443);
    ck_assert_int_eq(h.src.len, sizeof(struct sockaddr_in));
    const struct sockaddr_in *in = (const struct sockaddr_in *)&h.src.ss;
    ck_assert_int_eq(ntohs(in->sin_port), 56324);
    ck_assert_int_eq(ntohl(in->sin_addr.s_addr), 0xc0a80001u);
    assert_prefixes_need_more(s, hlen);
    /* the header alone, and with out NULL */
    ck_assert_int_eq(swco__proxy_parse(s, hlen, NULL), (long)hlen);
    /* ports at their edges */
    ck_assert_int_eq(parse_str("PROXY TCP4 0.0.0.0 255.255.255.255 0 65535\r\n", &h), 44);
    assert_addr(&h.src, AF_INET, "0.0.0.0", 0);
    assert_addr(&h.dst, AF_INET, "255.255.255.255", 65535);
}
END_TEST

START_TEST(test_v1_tcp6)
{
    const char *s = "PROXY TCP6 2001:db8::1 ::1 40000 8080\r\nhello";
    size_t hlen = strlen(s) - 5;
    swco__proxy_hdr_t h;
    ck_assert_int_eq(parse_str(s, &h), (long)hlen);
    ck_assert_int_eq(h.local, 0);
    assert_addr(&h.src, AF_INET6, "2001:db8::1", 40000);
    assert_addr(&h.dst, AF_INET6, "::1", 8080);
    ck_assert_int_eq(h.src.len, sizeof(struct sockaddr_in6));
    assert_prefixes_need_more(s, hlen);
    /* full-length and v4-mapped forms */
    const char *full = "PROXY TCP6 FFFF:ffff:ffff:ffff:ffff:ffff:ffff:fffe "
                       "::ffff:10.1.2.3 65535 1\r\n";
    ck_assert_int_eq(parse_str(full, &h), (long)strlen(full));
    assert_addr(&h.src, AF_INET6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", 65535);
    assert_addr(&h.dst, AF_INET6, "::ffff:10.1.2.3", 1);
}
END_TEST

START_TEST(test_v1_unknown)
{
    swco__proxy_hdr_t h;
    memset(&h, 0x5a, sizeof h);
    ck_assert_int_eq(parse_str("PROXY UNKNOWN\r\nxyz", &h), 15);
    ck_assert_int_eq(h.local, 1);
    /* whatever follows UNKNOWN on its line is ignored */
    const char *s = "PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n";
    ck_assert_int_eq(parse_str(s, &h), (long)strlen(s));
    ck_assert_int_eq(h.local, 1);
    assert_prefixes_need_more(s, strlen(s));

    /* the longest line is 107 bytes, CRLF included */
    char line[200];
    memcpy(line, "PROXY UNKNOWN ", 14);
    memset(line + 14, 'x', 91);
    memcpy(line + 105, "\r\n", 2);
    ck_assert_int_eq(swco__proxy_parse(line, 107, &h), 107);
    memset(line + 14, 'x', 92);
    memcpy(line + 106, "\r\n", 2);
    /* 108: refused as soon as the 107th byte is not the LF */
    assert_refused_at(line, 108, 107);
    memset(line + 14, 'x', 150);
    assert_refused_at(line, 164, 107);
}
END_TEST

START_TEST(test_v1_bad)
{
    /* each: a malformed header, and how many bytes of it are needed to know */
    static const struct {
        const char *s;
        size_t at;
    } bad[] = {
        {"GET / HTTP/1.1\r\n", 1},
        {"proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n", 1},
        {"PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n", 7},
        {"PROXYTCP4 1.2.3.4 5.6.7.8 1 2\r\n", 6},
        {"PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n", 10},
        {"PROXY TCP4\r\n", 11},
        {"PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", 29},
        {"PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n", 31},
        {"PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n", 20},
        {"PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n", 31},
        {"PROXY TCP4 1.2.3.4 5.6.7.8 1 65536\r\n", 35},
        {"PROXY TCP4 1.2.3.4 5.6.7.8 1 123456\r\n", 35},
        {"PROXY TCP4 1.2.3.4 5.6.7.8 0443 1\r\n", 29},
        {"PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n", 28},
        {"PROXY TCP4 1.2.3.x 5.6.7.8 1 2\r\n", 18},
        {"PROXY TCP4 256.2.3.4 5.6.7.8 1 2\r\n", 21},
        {"PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n", 17},
        {"PROXY TCP4 ::1 5.6.7.8 1 2\r\n", 12},
        {"PROXY TCP6 1.2.3.4 ::1 1 2\r\n", 19},
        {"PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n", 19},
        {"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", 31},
        {"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX\n", 32},
        {"PROXY TCP4 1.2.3.4\r5.6.7.8 1 2\r\n", 19},
        {"PROXY UNKNOWN\n", 14},
        {"PROXY UNKNOWNX\r\n", 14},
        {"PROXY \r\n", 7},
        {"\r\n\r\n\r", 5},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        swco__proxy_hdr_t h;
        memset(&h, 0x33, sizeof h);
        ck_assert_msg(parse_str(bad[i].s, &h) == -EPROTO, "accepted: %s", bad[i].s);
        ck_assert_int_eq(((unsigned char *)&h)[0], 0x33);
        const char *s = bad[i].s;
        for (size_t k = 0; k < bad[i].at; k++)
            ck_assert_msg(swco__proxy_parse(s, k, NULL) == 0, "%s: refused at %zu, not %zu", s,
                          k, bad[i].at);
        ck_assert_msg(swco__proxy_parse(s, bad[i].at, NULL) == -EPROTO,
                      "%s: not refused at %zu", s, bad[i].at);
    }
}
END_TEST

/* ------------------------------------------------------------------ v2 */

static const unsigned char sig[12] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
                                      0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};

/* A v2 header: signature, ver_cmd, fam, body of blen bytes. */
static size_t v2(unsigned char *out, int ver_cmd, int fam, const void *body, size_t blen)
{
    memcpy(out, sig, 12);
    out[12] = (unsigned char)ver_cmd;
    out[13] = (unsigned char)fam;
    out[14] = (unsigned char)(blen >> 8);
    out[15] = (unsigned char)blen;
    if (blen)
        memcpy(out + 16, body, blen);
    return 16 + blen;
}

START_TEST(test_v2_inet)
{
    unsigned char body[12 + 7], buf[64];
    memcpy(body, (unsigned char[]){203, 0, 113, 7}, 4);   /* src */
    memcpy(body + 4, (unsigned char[]){10, 0, 0, 2}, 4);  /* dst */
    memcpy(body + 8, (unsigned char[]){0xd8, 0x2a}, 2);   /* 55338 */
    memcpy(body + 10, (unsigned char[]){0x00, 0x50}, 2);  /* 80 */
    /* one ALPN TLV (type 1, "h2") and one NOOP TLV with no value */
    memcpy(body + 12, (unsigned char[]){0x01, 0x00, 0x02, 'h', '2', 0x04, 0x00}, 5);
    size_t n = v2(buf, 0x21, 0x11, body, 12); /* no TLV */
    memcpy(buf + n, "data", 4);
    swco__proxy_hdr_t h;
    ck_assert_int_eq(swco__proxy_parse((char *)buf, n + 4, &h), 28);
    ck_assert_int_eq(h.local, 0);
    assert_addr(&h.src, AF_INET, "203.0.113.7", 55338);
    assert_addr(&h.dst, AF_INET, "10.0.0.2", 80);
    assert_prefixes_need_more((char *)buf, n);

    /* TLVs are part of the header and skipped */
    unsigned char tlv[12 + 8];
    memcpy(tlv, body, 12);
    memcpy(tlv + 12, (unsigned char[]){0x01, 0x00, 0x02, 'h', '2', 0x04, 0x00, 0x00}, 8);
    n = v2(buf, 0x21, 0x12, tlv, sizeof tlv); /* UDP over IPv4 */
    memcpy(buf + n, "data", 4);
    ck_assert_int_eq(swco__proxy_parse((char *)buf, n + 4, &h), 36);
    assert_addr(&h.src, AF_INET, "203.0.113.7", 55338);
    assert_prefixes_need_more((char *)buf, n);
}
END_TEST

START_TEST(test_v2_inet6_unix)
{
    unsigned char body[216], buf[256];
    memset(body, 0, sizeof body);
    inet_pton(AF_INET6, "2001:db8::42", body);
    inet_pton(AF_INET6, "fd00::1", body + 16);
    body[32] = 0x1f, body[33] = 0x90; /* 8080 */
    body[34] = 0x01, body[35] = 0xbb; /* 443 */
    size_t n = v2(buf, 0x21, 0x21, body, 36);
    swco__proxy_hdr_t h;
    ck_assert_int_eq(swco__proxy_parse((char *)buf, n, &h), 52);
    assert_addr(&h.src, AF_INET6, "2001:db8::42", 8080);
    assert_addr(&h.dst, AF_INET6, "fd00::1", 443);
    assert_prefixes_need_more((char *)buf, n);

    memset(body, 0, sizeof body);
    strcpy((char *)body, "/run/client.sock");
    memset(body + 108, 'p', 108); /* a path with no NUL at all */
    n = v2(buf, 0x21, 0x31, body, 216);
    ck_assert_int_eq(swco__proxy_parse((char *)buf, n, &h), 232);
    ck_assert_int_eq(h.local, 0);
    ck_assert_int_eq(h.src.family, AF_UNIX);
    ck_assert_str_eq(h.src.text, "/run/client.sock");
    ck_assert_int_eq(h.src.port, 0);
    const struct sockaddr_un *un = (const struct sockaddr_un *)&h.src.ss;
    ck_assert_str_eq(un->sun_path, "/run/client.sock");
    ck_assert_int_eq(h.dst.family, AF_UNIX);
    ck_assert_uint_eq(strlen(h.dst.text), sizeof h.dst.text - 1);
    un = (const struct sockaddr_un *)&h.dst.ss;
    ck_assert_uint_eq(strlen(un->sun_path), sizeof un->sun_path - 1);
}
END_TEST

START_TEST(test_v2_local_unspec)
{
    unsigned char buf[64], junk[5] = {9, 9, 9, 9, 9};
    swco__proxy_hdr_t h;
    /* LOCAL (a balancer's health check): the socket's own addresses */
    size_t n = v2(buf, 0x20, 0x00, NULL, 0);
    ck_assert_int_eq(swco__proxy_parse((char *)buf, n, &h), 16);
    ck_assert_int_eq(h.local, 1);
    /* LOCAL's block is discarded whatever it holds */
    n = v2(buf, 0x20, 0xff, junk, sizeof junk);
    ck_assert_int_eq(swco__proxy_parse((char *)buf, n, &h), 21);
    ck_assert_int_eq(h.local, 1);
    /* PROXY with AF_UNSPEC: no address to use either */
    n = v2(buf, 0x21, 0x00, NULL, 0);
    ck_assert_int_eq(swco__proxy_parse((char *)buf, n, &h), 16);
    ck_assert_int_eq(h.local, 1);
}
END_TEST

START_TEST(test_v2_bad)
{
    unsigned char body[40] = {0}, buf[128];
    size_t n;
    /* a wrong signature byte: refused at that byte */
    n = v2(buf, 0x21, 0x11, body, 12);
    buf[7] = 'q';
    assert_refused_at((char *)buf, n, 8);
    /* version 1 in the binary form, and version 3 */
    n = v2(buf, 0x11, 0x11, body, 12);
    assert_refused_at((char *)buf, n, 13);
    n = v2(buf, 0x31, 0x11, body, 12);
    assert_refused_at((char *)buf, n, 13);
    /* commands other than LOCAL and PROXY */
    n = v2(buf, 0x22, 0x11, body, 12);
    assert_refused_at((char *)buf, n, 13);
    /* family 4, transport 3 */
    n = v2(buf, 0x21, 0x41, body, 12);
    assert_refused_at((char *)buf, n, 14);
    n = v2(buf, 0x21, 0x13, body, 12);
    assert_refused_at((char *)buf, n, 14);
    /* a length shorter than the family's addresses */
    n = v2(buf, 0x21, 0x11, body, 11);
    assert_refused_at((char *)buf, n, 16);
    n = v2(buf, 0x21, 0x21, body, 35);
    assert_refused_at((char *)buf, n, 16);
    /* a TLV running past the end, and a piece too short for a TLV */
    memcpy(body + 12, (unsigned char[]){0x01, 0x00, 0x05, 'h', '2'}, 5);
    n = v2(buf, 0x21, 0x11, body, 17);
    assert_refused_at((char *)buf, n, n);
    n = v2(buf, 0x21, 0x11, body, 14);
    assert_refused_at((char *)buf, n, n);
}
END_TEST

START_TEST(test_v2_big_body)
{
    /* the length field is 16 bits: the largest header needs 65551 bytes */
    size_t body_len = 65535;
    unsigned char *buf = malloc(16 + body_len + 1);
    ck_assert_ptr_nonnull(buf);
    unsigned char *body = calloc(1, body_len);
    ck_assert_ptr_nonnull(body);
    body[0] = 127, body[3] = 1, body[4] = 127, body[7] = 2;
    /* one TLV filling the rest: 65535 - 12 - 3 bytes of value */
    size_t vlen = body_len - 15;
    body[12] = 0xee, body[13] = (unsigned char)(vlen >> 8), body[14] = (unsigned char)vlen;
    size_t n = v2(buf, 0x21, 0x11, body, body_len);
    swco__proxy_hdr_t h;
    ck_assert_int_eq(swco__proxy_parse((char *)buf, n - 1, &h), 0);
    ck_assert_int_eq(swco__proxy_parse((char *)buf, n, &h), 65551);
    assert_addr(&h.src, AF_INET, "127.0.0.1", 0);
    free(body);
    free(buf);
}
END_TEST

START_TEST(test_empty_and_null)
{
    swco__proxy_hdr_t h;
    ck_assert_int_eq(swco__proxy_parse("", 0, &h), 0);
    ck_assert_int_eq(swco__proxy_parse(NULL, 0, &h), 0);
    ck_assert_int_eq(swco__proxy_parse(NULL, 5, &h), -EPROTO);
}
END_TEST

/* ----------------------------------------------------------- end to end */

/* A server whose listener 1 reads PROXY headers (listener 0 does not):
 * each receive is answered with "ADDR PORT LISTENER DATA\n" from
 * get_client_info, so the client sees the address the server believes. */
static void e2e_receive(swco_server_t *srv, long long fd, int reactor_id, const void *data,
                        size_t len, void *arg)
{
    (void)reactor_id;
    (void)arg;
    swco_server_client_info_t info;
    memset(&info, 0, sizeof info);
    info.size = sizeof info;
    char reply[256];
    int n;
    if (swco_server_get_client_info(srv, fd, &info) != 0)
        n = snprintf(reply, sizeof reply, "no info\n");
    else
        n = snprintf(reply, sizeof reply, "%s %d %d %.*s\n", info.addr, info.port,
                     info.listener, (int)(len < 64 ? len : 64), (const char *)data);
    swco_server_send(srv, fd, reply, (size_t)n);
}

typedef struct e2e {
    pid_t pid;
    int port[2]; /* listener 0 (plain), listener 1 (PROXY protocol) */
} e2e_t;

static void e2e_start(e2e_t *e, int mode)
{
    swco_server_t *srv = swco_server_new("127.0.0.1", 0, mode, SWCO_SOCK_TCP);
    ck_assert_ptr_nonnull(srv);
    ck_assert_int_eq(swco_server_set(srv, "worker_num", "1"), 0);
    int l = swco_server_add_listener(srv, "127.0.0.1", 0, SWCO_SOCK_TCP);
    ck_assert_int_eq(l, 1);
    ck_assert_int_eq(swco_server_listener_set(srv, 1, "open_proxy_protocol", "1"), 0);
    ck_assert_int_eq(swco_server_on_receive(srv, e2e_receive, NULL, NULL), 0);
    e->port[0] = swco_server_listener_port(srv, 0);
    e->port[1] = swco_server_listener_port(srv, 1);
    ck_assert_int_gt(e->port[0], 0);
    ck_assert_int_gt(e->port[1], 0);
    e->pid = fork();
    ck_assert_int_ge(e->pid, 0);
    if (e->pid == 0) {
        int rc = swco_server_start(srv);
        swco_server_free(srv);
        _exit(rc == 0 ? 0 : 1);
    }
    swco_server_free(srv); /* the parent's copy of the sockets */
}

static void e2e_stop(e2e_t *e)
{
    ck_assert_int_eq(kill(e->pid, SIGTERM), 0);
    int status;
    ck_assert_int_eq(waitpid(e->pid, &status, 0), e->pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "server status %d", status);
}

static int e2e_connect(int port, int *local_port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    struct timeval tv = {.tv_sec = (time_t)(20 * slow())};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    socklen_t len = sizeof sa;
    getsockname(fd, (struct sockaddr *)&sa, &len);
    if (local_port)
        *local_port = ntohs(sa.sin_port);
    return fd;
}

/* Read one line (the server's answer); "" when the server closed. */
static void e2e_line(int fd, char *out, size_t cap)
{
    size_t n = 0;
    while (n < cap - 1) {
        ssize_t k = recv(fd, out + n, 1, 0);
        if (k < 0 && errno == ECONNRESET)
            k = 0; /* closed with RST: the same to this test */
        ck_assert_msg(k >= 0, "no answer: %s", strerror(errno));
        if (k == 0 || out[n] == '\n') {
            n += (size_t)k;
            break;
        }
        n++;
    }
    out[n] = 0;
}

static void e2e_send(int fd, const void *data, size_t len)
{
    ck_assert_int_eq(send(fd, data, len, MSG_NOSIGNAL), (ssize_t)len);
}

static void e2e_run(int mode)
{
    e2e_t e;
    e2e_start(&e, mode);
    char line[256], want[256];
    int me;

    /* v1 TCP4 with data in the same segment */
    int fd = e2e_connect(e.port[1], NULL);
    const char *v1 = "PROXY TCP4 203.0.113.9 10.0.0.1 4242 80\r\nping";
    e2e_send(fd, v1, strlen(v1));
    e2e_line(fd, line, sizeof line);
    ck_assert_str_eq(line, "203.0.113.9 4242 1 ping\n");
    /* later data on the connection keeps the header's address */
    e2e_send(fd, "again", 5);
    e2e_line(fd, line, sizeof line);
    ck_assert_str_eq(line, "203.0.113.9 4242 1 again\n");
    close(fd);

    /* v1 TCP6, the header sent in two pieces */
    fd = e2e_connect(e.port[1], NULL);
    const char *v1b = "PROXY TCP6 2001:db8::7 2001:db8::1 5353 443\r\n";
    e2e_send(fd, v1b, 20);
    e2e_send(fd, v1b + 20, strlen(v1b) - 20);
    e2e_send(fd, "six", 3);
    e2e_line(fd, line, sizeof line);
    ck_assert_str_eq(line, "2001:db8::7 5353 1 six\n");
    close(fd);

    /* v2 PROXY over IPv4, with a TLV, then data */
    unsigned char v2buf[64], body[20];
    memcpy(body, (unsigned char[]){198, 51, 100, 23, 127, 0, 0, 1, 0x9c, 0x40, 0x00, 0x50}, 12);
    memcpy(body + 12, (unsigned char[]){0x01, 0x00, 0x02, 'h', '2'}, 5);
    size_t n = v2(v2buf, 0x21, 0x11, body, 17);
    memcpy(v2buf + n, "two", 3);
    fd = e2e_connect(e.port[1], NULL);
    e2e_send(fd, v2buf, n + 3);
    e2e_line(fd, line, sizeof line);
    ck_assert_str_eq(line, "198.51.100.23 40000 1 two\n");
    close(fd);

    /* v2 LOCAL (a balancer's health check): the socket's own address */
    n = v2(v2buf, 0x20, 0x00, NULL, 0);
    memcpy(v2buf + n, "local", 5);
    fd = e2e_connect(e.port[1], &me);
    e2e_send(fd, v2buf, n + 5);
    e2e_line(fd, line, sizeof line);
    snprintf(want, sizeof want, "127.0.0.1 %d 1 local\n", me);
    ck_assert_str_eq(line, want);
    close(fd);

    /* no header: the connection is closed without a receive */
    fd = e2e_connect(e.port[1], NULL);
    e2e_send(fd, "GET / HTTP/1.0\r\n\r\n", 18);
    e2e_line(fd, line, sizeof line);
    ck_assert_str_eq(line, "");
    close(fd);

    /* listener 0 reads no header: it is data like any other */
    fd = e2e_connect(e.port[0], &me);
    e2e_send(fd, "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n", 32);
    e2e_line(fd, line, sizeof line);
    snprintf(want, sizeof want, "127.0.0.1 %d 0 PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n", me);
    ck_assert_str_eq(line, want);
    close(fd);

    e2e_stop(&e);
}

START_TEST(test_e2e_base)
{
    e2e_run(SWCO_SERVER_BASE);
}
END_TEST

START_TEST(test_e2e_thread)
{
    e2e_run(SWCO_SERVER_THREAD);
}
END_TEST

/* Six short connections one after another: the kernel hands the same fd
 * to the next one, possibly on another reactor thread, while the events
 * of the last one may still be on their way to the worker. */
START_TEST(test_e2e_process)
{
    e2e_run(SWCO_SERVER_PROCESS);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("server_proxy");
    TCase *tc = tcase_create("parse");
    tcase_add_test(tc, test_v1_tcp4);
    tcase_add_test(tc, test_v1_tcp6);
    tcase_add_test(tc, test_v1_unknown);
    tcase_add_test(tc, test_v1_bad);
    tcase_add_test(tc, test_v2_inet);
    tcase_add_test(tc, test_v2_inet6_unix);
    tcase_add_test(tc, test_v2_local_unspec);
    tcase_add_test(tc, test_v2_bad);
    tcase_add_test(tc, test_v2_big_body);
    tcase_add_test(tc, test_empty_and_null);
    suite_add_tcase(s, tc);
    TCase *e2e = tcase_create("end to end");
    tcase_add_test(e2e, test_e2e_base);
    tcase_add_test(e2e, test_e2e_thread);
    tcase_add_test(e2e, test_e2e_process);
    suite_add_tcase(s, e2e);
    return run_suite(s);
}
