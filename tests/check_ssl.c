/* TLS over loopback with certificates made at test time by the openssl
 * command: verification success and failure, host names, ALPN, session
 * reuse, bad files, and real peers (openssl s_client, curl). */
#include "testutil.h"

#include <errno.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>
#include <swco/curl.h>

static char dir[64];
static char ca[128], srv_cert[128], srv_key[128], cli_cert[128], cli_key[128], junk[128];

static void make_certs(void)
{
    snprintf(dir, sizeof dir, "/tmp/swco-ssl-XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        exit(EXIT_FAILURE);
    }
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "(cd %s && "
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
             "-keyout ca.key -out ca.pem -days 2 -subj /CN=swco-test-ca && "
             "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
             "-keyout srv.key -out srv.csr -subj /CN=localhost && "
             "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\nbasicConstraints=CA:FALSE\\n' "
             "> srv.ext && "
             "openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
             "-out srv.pem -days 2 -extfile srv.ext && "
             "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
             "-keyout cli.key -out cli.csr -subj /CN=swco-client && "
             "openssl x509 -req -in cli.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
             "-out cli.pem -days 2 && echo 'not a certificate' > junk.pem)",
             dir);
    strcat(cmd, " >/dev/null 2>&1");
    if (system(cmd) != 0) {
        fprintf(stderr, "cannot make test certificates with openssl\n");
        exit(77);
    }
    snprintf(ca, sizeof ca, "%s/ca.pem", dir);
    snprintf(srv_cert, sizeof srv_cert, "%s/srv.pem", dir);
    snprintf(srv_key, sizeof srv_key, "%s/srv.key", dir);
    snprintf(cli_cert, sizeof cli_cert, "%s/cli.pem", dir);
    snprintf(cli_key, sizeof cli_key, "%s/cli.key", dir);
    snprintf(junk, sizeof junk, "%s/junk.pem", dir);
}

/* ------------------------------------------------------------- a server */

typedef struct {
    swco_ssl_ctx_t *ctx;
    swco_socket_t *ls;
    int port;
    int conns;
    int handshake_rc[8];
    char alpn[8][32];
    char sni[8][64];
    int served;
    int finished; /* connections served to the end */
} server_t;

static server_t srv;

/* Wait until the server has accepted n connections and finished all it
 * accepted (instead of a nap); a generous limit. */
static void wait_finished(int n)
{
    for (double t0 = now_s(); !(srv.served >= n && srv.finished >= srv.served) &&
                              now_s() - t0 < 30 * slow();)
        swco_sleep(0.005);
    ck_assert_int_ge(srv.served, n);
    ck_assert_int_ge(srv.finished, srv.served);
}

static void serve_conn(void *arg)
{
    swco_socket_t *c = arg;
    int i = srv.served++;
    int rc = swco_ssl_handshake(c, 5);
    srv.handshake_rc[i] = rc;
    if (rc == 0) {
        const char *a = swco_ssl_get_alpn(c);
        snprintf(srv.alpn[i], sizeof srv.alpn[i], "%s", a ? a : "");
        const char *sni = swco_ssl_get_server_name(c);
        snprintf(srv.sni[i], sizeof srv.sni[i], "%s", sni ? sni : "");
        swco_socket_set_package_eof(c, "\n", 1);
        const char *p;
        long n;
        while ((n = swco_socket_recv_packet(c, &p, 5)) > 0) {
            if (n >= 4 && memcmp(p, "GET ", 4) == 0) {
                /* an HTTP request from curl: skip the headers, answer */
                while ((n = swco_socket_recv_packet(c, &p, 5)) > 0 && !(n <= 2 && p[0] == '\r'))
                    ;
                const char *resp = "HTTP/1.1 200 OK\r\nContent-Length: 12\r\n"
                                   "Connection: close\r\n\r\nhello, curl\n";
                swco_socket_send_all(c, resp, strlen(resp), 5);
                break;
            }
            char out[256];
            int m = snprintf(out, sizeof out, "pong:%.*s", (int)n, p);
            if (swco_socket_send_all(c, out, (size_t)m, 5) < 0)
                break;
            if (n >= 4 && memcmp(p, "quit", 4) == 0)
                break;
        }
    }
    swco_socket_free(c);
    srv.finished++;
}

static void server_loop(void *arg)
{
    (void)arg;
    for (int i = 0; i < srv.conns; i++) {
        swco_socket_t *c = swco_socket_accept(srv.ls, 10);
        if (!c)
            break;
        swco_coroutine_create(serve_conn, c);
    }
    swco_socket_free(srv.ls);
    swco_ssl_ctx_free(srv.ctx);
}

static void start_server(int conns, const char *alpn, int verify_clients)
{
    memset(&srv, 0, sizeof srv);
    srv.ctx = swco_ssl_ctx_new(1);
    ck_assert_ptr_nonnull(srv.ctx);
    ck_assert_int_eq(swco_ssl_ctx_set_cert_file(srv.ctx, srv_cert, srv_key), 0);
    if (alpn)
        ck_assert_int_eq(swco_ssl_ctx_set_alpn(srv.ctx, alpn), 0);
    if (verify_clients) {
        ck_assert_int_eq(swco_ssl_ctx_set_ca(srv.ctx, ca, NULL), 0);
        ck_assert_int_eq(swco_ssl_ctx_set_verify_peer(srv.ctx, 1), 0);
    }
    srv.ls = swco_socket_new(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_eq(swco_socket_bind(srv.ls, "127.0.0.1", 0), 0);
    ck_assert_int_eq(swco_socket_listen(srv.ls, 128), 0);
    ck_assert_int_eq(swco_socket_getsockname(srv.ls, NULL, 0, &srv.port), 0);
    ck_assert_int_eq(swco_socket_enable_ssl(srv.ls, srv.ctx, NULL), 0);
    srv.conns = conns;
    swco_coroutine_create(server_loop, NULL);
}

/* verify: trust the test CA (clients verify by default); 0 opts out. */
static swco_ssl_ctx_t *client_ctx(int verify, const char *alpn)
{
    swco_ssl_ctx_t *ctx = swco_ssl_ctx_new(0);
    ck_assert_ptr_nonnull(ctx);
    if (verify) {
        ck_assert_int_eq(swco_ssl_ctx_set_ca(ctx, ca, NULL), 0);
        ck_assert_int_eq(swco_ssl_ctx_set_verify_peer(ctx, 1), 0); /* the default */
    } else
        ck_assert_int_eq(swco_ssl_ctx_set_verify_peer(ctx, 0), 0);
    if (alpn)
        ck_assert_int_eq(swco_ssl_ctx_set_alpn(ctx, alpn), 0);
    return ctx;
}

/* Connect, ping, check the pong; returns the connect result. */
static int ping(swco_ssl_ctx_t *ctx, const char *host, const char *verify_name, swco_socket_t **keep)
{
    swco_socket_t *c = swco_socket_new(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_eq(swco_socket_enable_ssl(c, ctx, verify_name), 0);
    int rc = swco_socket_connect(c, host, srv.port, 5);
    if (rc == 0) {
        ck_assert_int_eq(swco_socket_send_all(c, "hello\n", 6, 5), 6);
        char buf[32] = {0};
        ck_assert_int_eq(swco_socket_recv_all(c, buf, 11, 5), 11);
        ck_assert_str_eq(buf, "pong:hello\n");
    }
    if (keep && rc == 0)
        *keep = c;
    else
        swco_socket_free(c);
    return rc;
}

/* ----------------------------------------------------------------- tests */

static void verify_ok(void *arg)
{
    (void)arg;
    start_server(2, "h2,http/1.1", 0);
    swco_ssl_ctx_t *ctx = client_ctx(1, "http/1.1,h2");
    swco_socket_t *c = NULL;
    ck_assert_int_eq(ping(ctx, "localhost", NULL, &c), 0);
    ck_assert_str_eq(swco_ssl_get_alpn(c), "h2"); /* the server's preference */
    ck_assert_str_eq(swco_ssl_get_version(c), "TLSv1.3");
    char subject[256];
    ck_assert_int_eq(swco_ssl_get_peer_subject(c, subject, sizeof subject), 0);
    ck_assert_ptr_nonnull(strstr(subject, "CN=localhost"));
    /* sendfile and peek through TLS: the server echoes each line */
    char path[128];
    snprintf(path, sizeof path, "%s/lines.txt", dir);
    FILE *fp = fopen(path, "w");
    fputs("a\nb\n", fp);
    fclose(fp);
    ck_assert_int_eq(swco_socket_sendfile(c, path, 0, 0, 5), 4);
    char got[16] = {0};
    ck_assert_int_eq(swco_socket_recv_all(c, got, 7, 5), 7);
    ck_assert_str_eq(got, "pong:a\n");
    for (double t0 = now_s(); swco_socket_peek(c, got, 4) < 4 && now_s() - t0 < 30 * slow();)
        swco_sleep(0.005); /* "pong:b" on its way */
    ck_assert_int_eq(swco_socket_peek(c, got, 4), 4);
    ck_assert_int_eq(swco_socket_recv_all(c, got, 7, 5), 7);
    ck_assert(memcmp(got, "pong:b\n", 7) == 0);
    swco_socket_free(c);
    /* by IP address: the certificate has IP:127.0.0.1 */
    ck_assert_int_eq(ping(ctx, "127.0.0.1", NULL, NULL), 0);
    swco_ssl_ctx_free(ctx);
    wait_finished(1);
    ck_assert_int_eq(srv.handshake_rc[0], 0);
    ck_assert_str_eq(srv.alpn[0], "h2");
    ck_assert_str_eq(srv.sni[0], "localhost");
    ck_assert_str_eq(srv.sni[1], ""); /* no SNI for an IP address */
}

START_TEST(verify_success_alpn)
{
    ck_assert_int_eq(swco_run(verify_ok, NULL), 0);
}
END_TEST

static void verify_bad(void *arg)
{
    (void)arg;
    start_server(3, NULL, 0);
    /* no CA given: the system store does not know our CA */
    swco_ssl_ctx_t *ctx = swco_ssl_ctx_new(0);
    ck_assert_int_eq(swco_ssl_ctx_set_verify_peer(ctx, 1), 0);
    ck_assert_int_eq(ping(ctx, "localhost", NULL, NULL), SWCO_ESSLVERIFY);
    swco_ssl_ctx_free(ctx);
    /* the right CA, the wrong name */
    ctx = client_ctx(1, NULL);
    ck_assert_int_eq(ping(ctx, "127.0.0.1", "wrong.example", NULL), SWCO_ESSLVERIFY);
    /* without verification the same connection works */
    swco_ssl_ctx_t *lax = client_ctx(0, NULL);
    ck_assert_int_eq(ping(lax, "127.0.0.1", "wrong.example", NULL), 0);
    swco_ssl_ctx_free(lax);
    swco_ssl_ctx_free(ctx);
}

START_TEST(verify_failure_and_wrong_host)
{
    ck_assert_int_eq(swco_run(verify_bad, NULL), 0);
}
END_TEST

static void reuse(void *arg)
{
    int tls12 = *(int *)arg;
    start_server(3, NULL, 0);
    swco_ssl_ctx_t *ctx = client_ctx(1, NULL);
    if (tls12)
        ck_assert_int_eq(swco_ssl_ctx_set_protocols(ctx, SWCO_TLS1_2, SWCO_TLS1_2), 0);
    swco_socket_t *c;
    ck_assert_int_eq(ping(ctx, "localhost", NULL, &c), 0);
    ck_assert_int_eq(swco_ssl_session_reused(c), 0);
    ck_assert_str_eq(swco_ssl_get_version(c), tls12 ? "TLSv1.2" : "TLSv1.3");
    swco_socket_free(c);
    ck_assert_int_eq(ping(ctx, "localhost", NULL, &c), 0);
    ck_assert_int_eq(swco_ssl_session_reused(c), 1);
    swco_socket_free(c);
    /* reuse off: a full handshake */
    ck_assert_int_eq(swco_ssl_ctx_set_session_reuse(ctx, 0), 0);
    ck_assert_int_eq(ping(ctx, "localhost", NULL, &c), 0);
    ck_assert_int_eq(swco_ssl_session_reused(c), 0);
    swco_socket_free(c);
    swco_ssl_ctx_free(ctx);
}

START_TEST(session_reuse_tls13)
{
    int tls12 = 0;
    ck_assert_int_eq(swco_run(reuse, &tls12), 0);
}
END_TEST

START_TEST(session_reuse_tls12)
{
    int tls12 = 1;
    ck_assert_int_eq(swco_run(reuse, &tls12), 0);
}
END_TEST

static void mutual(void *arg)
{
    (void)arg;
    start_server(2, NULL, 1);
    swco_ssl_ctx_t *ctx = client_ctx(1, NULL);
    ck_assert_int_eq(swco_ssl_ctx_set_cert_file(ctx, cli_cert, cli_key), 0);
    ck_assert_int_eq(ping(ctx, "localhost", NULL, NULL), 0);
    swco_ssl_ctx_free(ctx);
    /* no client certificate: the server refuses */
    ctx = client_ctx(1, NULL);
    swco_socket_t *c = swco_socket_new(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_eq(swco_socket_enable_ssl(c, ctx, NULL), 0);
    int rc = swco_socket_connect(c, "localhost", srv.port, 5);
    if (rc == 0) { /* TLS 1.3: the refusal arrives with the first read */
        swco_socket_send_all(c, "hello\n", 6, 5);
        char buf[16];
        rc = (int)swco_socket_recv(c, buf, sizeof buf, 5);
    }
    ck_assert_msg(rc == SWCO_ESSL || rc == -ECONNRESET || rc == 0, "rc %d", rc);
    swco_socket_free(c);
    swco_ssl_ctx_free(ctx);
    wait_finished(2);
    ck_assert_int_eq(srv.handshake_rc[0], 0);
    ck_assert_int_ne(srv.handshake_rc[1], 0);
}

START_TEST(client_certificates)
{
    ck_assert_int_eq(swco_run(mutual, NULL), 0);
}
END_TEST

START_TEST(bad_files)
{
    swco_ssl_ctx_t *ctx = swco_ssl_ctx_new(1);
    ck_assert_int_eq(swco_ssl_ctx_set_cert_file(ctx, "/nonexistent/cert.pem", NULL), -ENOENT);
    ck_assert_int_eq(swco_ssl_ctx_set_cert_file(ctx, srv_cert, "/nonexistent/key.pem"), -ENOENT);
    ck_assert_int_eq(swco_ssl_ctx_set_cert_file(ctx, junk, srv_key), SWCO_ESSL);
    ck_assert_int_eq(swco_ssl_ctx_set_cert_file(ctx, srv_cert, cli_key), SWCO_ESSL); /* mismatch */
    ck_assert_int_eq(swco_ssl_ctx_set_ca(ctx, "/nonexistent/ca.pem", NULL), -ENOENT);
    ck_assert_int_eq(swco_ssl_ctx_set_alpn(ctx, "h2,,x"), -EINVAL);
    ck_assert_int_eq(swco_ssl_ctx_set_protocols(ctx, SWCO_TLS1_3, SWCO_TLS1_2), -EINVAL);
    ck_assert_int_eq(swco_ssl_ctx_set_ciphers(ctx, "NO-SUCH-CIPHER"), SWCO_ESSL);
    ck_assert_int_eq(swco_ssl_ctx_set_cert_file(ctx, srv_cert, srv_key), 0);
    swco_socket_t *u = swco_socket_new(AF_INET, SOCK_DGRAM, 0);
    ck_assert_int_eq(swco_socket_enable_ssl(u, ctx, NULL), -EINVAL);
    swco_socket_free(u);
    swco_socket_t *s = swco_socket_new(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_eq(swco_socket_enable_ssl(s, ctx, NULL), 0);
    ck_assert_int_eq(swco_socket_enable_ssl(s, ctx, NULL), SWCO_ECOSTATE);
    ck_assert_int_eq(swco_ssl_handshake(s, 1), -EINVAL); /* not connected */
    /* A server context makes a TLS server: connect refuses it rather than
     * go on in plaintext; a client context cannot listen. */
    ck_assert_int_eq(swco_socket_connect(s, "127.0.0.1", 9, 1), -EINVAL);
    swco_socket_free(s);
    swco_ssl_ctx_t *cli = swco_ssl_ctx_new(0);
    s = swco_socket_new(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_eq(swco_socket_bind(s, "127.0.0.1", 0), 0);
    ck_assert_int_eq(swco_socket_enable_ssl(s, cli, NULL), 0);
    ck_assert_int_eq(swco_socket_listen(s, 8), -EINVAL);
    ck_assert_int_eq(swco_socket_close(s), 0);
    ck_assert_int_eq(swco_socket_enable_ssl(s, ctx, NULL), SWCO_ECLOSED);
    swco_socket_free(s);
    swco_ssl_ctx_free(cli);
    swco_ssl_ctx_free(ctx);
}
END_TEST

/* A plain-TCP client against the TLS server: the handshake fails cleanly. */
static void plain_client(void *arg)
{
    (void)arg;
    start_server(1, NULL, 0);
    swco_socket_t *c = swco_socket_new(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_eq(swco_socket_connect(c, "127.0.0.1", srv.port, 1), 0);
    ck_assert_int_eq(swco_socket_send_all(c, "GET / HTTP/1.0\r\n\r\n", 18, 1), 18);
    char buf[64];
    swco_socket_recv(c, buf, sizeof buf, 2);
    swco_socket_free(c);
    wait_finished(1);
    ck_assert_int_eq(srv.handshake_rc[0], SWCO_ESSL);
}

START_TEST(plain_peer)
{
    ck_assert_int_eq(swco_run(plain_client, NULL), 0);
}
END_TEST

/* --------------------------------------------------------- real peers */

static char peer_out[4096];
static int peer_status;

static void run_peer(void *arg)
{
    const char *fmt = arg;
    char cmd[1024], *out = NULL;
    snprintf(cmd, sizeof cmd, fmt, srv.port, ca);
    int rc = swco_exec_run(cmd, &out, NULL, &peer_status, 10);
    ck_assert_int_eq(rc, 0);
    snprintf(peer_out, sizeof peer_out, "%s", out);
    free(out);
}

static void with_peer(void *arg)
{
    start_server(1, "http/1.1", 0);
    swco_coroutine_create(run_peer, arg);
}

START_TEST(openssl_s_client)
{
    const char *fmt = "printf 'hello\\nquit\\n' | openssl s_client -quiet -ign_eof "
                      "-connect 127.0.0.1:%d -CAfile %s -verify_return_error "
                      "-servername localhost -verify_hostname localhost 2>/dev/null";
    ck_assert_int_eq(swco_run(with_peer, (void *)fmt), 0);
    ck_assert_str_eq(peer_out, "pong:hello\npong:quit\n");
    ck_assert_int_eq(srv.handshake_rc[0], 0);
}
END_TEST

START_TEST(curl_https)
{
    /* curl is a test dependency (tools/install-deps): missing, it fails
     * rather than passing without running */
    ck_assert_msg(system("command -v curl >/dev/null 2>&1") == 0, "curl is not installed");
    const char *fmt = "curl -sS --http1.1 https://localhost:%d/ --cacert %s";
    ck_assert_int_eq(swco_run(with_peer, (void *)fmt), 0);
    ck_assert_int_eq(peer_status, 0);
    ck_assert_str_eq(peer_out, "hello, curl\n");
    ck_assert_str_eq(srv.alpn[0], "http/1.1");
}
END_TEST

/* ------------------------------------------- issue 10: resumption, SIGPIPE */

/* Connect to 127.0.0.1 expecting name; 1 when the handshake resumed, 0
 * when not, or the connect error. */
static int ping_reused(swco_ssl_ctx_t *ctx, const char *name)
{
    swco_socket_t *c = NULL;
    int rc = ping(ctx, "127.0.0.1", name, &c);
    if (rc != 0)
        return rc;
    rc = swco_ssl_session_reused(c);
    swco_socket_free(c); /* the session (and TLS 1.3 ticket) is kept here */
    return rc;
}

/* A session verified for one name is not resumed for another: resumption
 * skips the certificate, and with it the host-name check. */
static void resume_names(void *arg)
{
    int tls12 = *(int *)arg;
    start_server(7, NULL, 0);
    swco_ssl_ctx_t *ctx = client_ctx(1, NULL);
    int v = tls12 ? SWCO_TLS1_2 : SWCO_TLS1_3;
    ck_assert_int_eq(swco_ssl_ctx_set_protocols(ctx, v, v), 0);
    ck_assert_int_eq(ping_reused(ctx, "localhost"), 0);
    /* the pong was read, so under TLS 1.3 the ticket was too: resumable */
    ck_assert_int_eq(ping_reused(ctx, "localhost"), 1);
    /* same address, another name: a full handshake, which fails */
    ck_assert_int_eq(ping_reused(ctx, "wrong.example"), SWCO_ESSLVERIFY);
    ck_assert_int_eq(ping_reused(ctx, "localhost"), 1); /* still there */
    swco_ssl_ctx_free(ctx);
    /* A session made without verification is not resumed once it is on. */
    ctx = client_ctx(0, NULL);
    ck_assert_int_eq(swco_ssl_ctx_set_protocols(ctx, v, v), 0);
    ck_assert_int_eq(ping_reused(ctx, "wrong.example"), 0);
    ck_assert_int_eq(ping_reused(ctx, "wrong.example"), 1);
    ck_assert_int_eq(swco_ssl_ctx_set_ca(ctx, ca, NULL), 0);
    ck_assert_int_eq(swco_ssl_ctx_set_verify_peer(ctx, 1), 0);
    ck_assert_int_eq(ping_reused(ctx, "wrong.example"), SWCO_ESSLVERIFY);
    swco_ssl_ctx_free(ctx);
}

START_TEST(resume_other_name_tls12)
{
    int tls12 = 1;
    ck_assert_int_eq(swco_run(resume_names, &tls12), 0);
}
END_TEST

START_TEST(resume_other_name_tls13)
{
    int tls12 = 0;
    ck_assert_int_eq(swco_run(resume_names, &tls12), 0);
}
END_TEST

/* A TLS server whose SIGPIPE is at its default action, in a child process.
 * For each connection it completes the handshake, reads one byte, answers
 * "k", waits for the parent's word on a pipe that the client has closed,
 * then writes until a write fails: the peer has gone, so with write() the
 * kernel raises SIGPIPE and the child dies with it.  It exits 0 when every
 * TLS connection ended in -EPIPE or -ECONNRESET. */
#define SIGPIPE_TLS_CONNS 2

static int sp_port[2], sp_go[2];

static void sigpipe_server(void *arg)
{
    (void)arg;
    int *bad = arg;
    swco_ssl_ctx_t *ctx = swco_ssl_ctx_new(1);
    if (!ctx || swco_ssl_ctx_set_cert_file(ctx, srv_cert, srv_key) != 0)
        _exit(3);
    swco_socket_t *ls = swco_socket_new(AF_INET, SOCK_STREAM, 0);
    int port = 0;
    if (swco_socket_bind(ls, "127.0.0.1", 0) != 0 || swco_socket_listen(ls, 8) != 0 ||
        swco_socket_getsockname(ls, NULL, 0, &port) != 0 ||
        swco_socket_enable_ssl(ls, ctx, NULL) != 0)
        _exit(3);
    if (write(sp_port[1], &port, sizeof port) != sizeof port)
        _exit(3);
    for (int i = 0; i < SIGPIPE_TLS_CONNS + 1; i++) {
        swco_socket_t *c = swco_socket_accept(ls, 10 * slow());
        if (!c)
            _exit(4);
        long rc = swco_ssl_handshake(c, 10 * slow());
        char b;
        if (i < SIGPIPE_TLS_CONNS) {
            if (rc != 0 || swco_socket_recv(c, &b, 1, 10 * slow()) != 1 ||
                swco_socket_send(c, "k", 1, 10 * slow()) != 1)
                _exit(5);
            if (read(sp_go[0], &b, 1) != 1) /* the client is gone */
                _exit(6);
            /* The first write after the close draws the peer's RST and the
             * next fails; the bound is only a safety net (a full send
             * buffer waits, within the timeout, for the RST). */
            for (int j = 0; j < 1 << 20 && (rc = swco_socket_send(c, "pong", 4, 10 * slow())) > 0;
                 j++)
                ;
            if (rc != -EPIPE && rc != -ECONNRESET)
                (*bad)++;
        } /* else: the one-byte plain client, whose handshake fails */
        swco_socket_free(c);
    }
    swco_socket_free(ls);
    swco_ssl_ctx_free(ctx);
}

/* The clients, in the parent: the first failure's line, 0 when none. */
static int sp_failed;

#define SP_CHECK(cond)                                                                             \
    do {                                                                                           \
        if (!(cond) && !sp_failed)                                                                 \
            sp_failed = __LINE__;                                                                  \
    } while (0)

static void sigpipe_clients(void *arg)
{
    int port = *(int *)arg;
    for (int i = 0; i < SIGPIPE_TLS_CONNS && !sp_failed; i++) {
        swco_ssl_ctx_t *ctx = client_ctx(1, NULL);
        int v = i == 0 ? SWCO_TLS1_3 : SWCO_TLS1_2;
        ck_assert_int_eq(swco_ssl_ctx_set_protocols(ctx, v, v), 0);
        swco_socket_t *c = swco_socket_new(AF_INET, SOCK_STREAM, 0);
        ck_assert_int_eq(swco_socket_enable_ssl(c, ctx, "localhost"), 0);
        SP_CHECK(swco_socket_connect(c, "127.0.0.1", port, 10 * slow()) == 0);
        SP_CHECK(swco_socket_send(c, "x", 1, 10 * slow()) == 1);
        char b = 0;
        SP_CHECK(swco_socket_recv(c, &b, 1, 10 * slow()) == 1); /* the tickets too */
        SP_CHECK(b == 'k');
        swco_socket_free(c); /* nothing unread: close_notify and FIN */
        swco_ssl_ctx_free(ctx);
        SP_CHECK(write(sp_go[1], "g", 1) == 1);
    }
    if (sp_failed)
        return;
    /* connect, send one byte, close */
    swco_socket_t *c = swco_socket_new(AF_INET, SOCK_STREAM, 0);
    SP_CHECK(swco_socket_connect(c, "127.0.0.1", port, 10 * slow()) == 0);
    SP_CHECK(swco_socket_send(c, "\x16", 1, 10 * slow()) == 1);
    swco_socket_free(c);
}

START_TEST(server_survives_sigpipe)
{
    ck_assert_int_eq(pipe(sp_port), 0);
    ck_assert_int_eq(pipe(sp_go), 0);
    pid_t pid = fork();
    ck_assert_int_ne(pid, -1);
    if (pid == 0) {
        signal(SIGPIPE, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        close(sp_go[1]); /* a dead parent ends the wait with EOF */
        int bad = 0;
        int rc = swco_run(sigpipe_server, &bad);
        _exit(rc != 0 ? 7 : bad ? 8 : 0);
    }
    close(sp_go[0]);
    int port = 0;
    ck_assert_int_eq(read(sp_port[0], &port, sizeof port), (ssize_t)sizeof port);
    sp_failed = 0;
    ck_assert_int_eq(swco_run(sigpipe_clients, &port), 0);
    close(sp_go[1]);
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(!WIFSIGNALED(status), "the TLS server died of signal %d (SIGPIPE is %d)",
                  WTERMSIG(status), SIGPIPE);
    ck_assert_int_eq(WEXITSTATUS(status), 0);
    ck_assert_msg(sp_failed == 0, "client check at line %d failed", sp_failed);
    close(sp_port[0]);
    close(sp_port[1]);
}
END_TEST

/* Clients verify by default: a default context refuses the test server
 * (its CA is not in the system store); trusting the CA is enough; the
 * host name is checked without asking; the opt-outs work. */
static void defaults(void *arg)
{
    (void)arg;
    start_server(7, NULL, 0);
    swco_ssl_ctx_t *ctx = swco_ssl_ctx_new(0);
    ck_assert_int_eq(ping(ctx, "localhost", NULL, NULL), SWCO_ESSLVERIFY);
    ck_assert_int_eq(swco_ssl_ctx_get_verify(ctx), SWCO_SSL_VERIFY_PEER | SWCO_SSL_VERIFY_HOST);
    ck_assert_int_eq(swco_ssl_ctx_set_ca(ctx, ca, NULL), 0);
    ck_assert_int_eq(ping(ctx, "localhost", NULL, NULL), 0);
    ck_assert_int_eq(ping(ctx, "127.0.0.1", NULL, NULL), 0);  /* IP SAN */
    ck_assert_int_eq(ping(ctx, "127.0.0.1", "wrong.example", NULL), SWCO_ESSLVERIFY);
    /* chain only: any name the CA vouched for */
    ck_assert_int_eq(swco_ssl_ctx_set_check_hostname(ctx, 0), 0);
    ck_assert_int_eq(swco_ssl_ctx_get_verify(ctx), SWCO_SSL_VERIFY_PEER);
    ck_assert_int_eq(ping(ctx, "127.0.0.1", "wrong.example", NULL), 0);
    ck_assert_int_eq(swco_ssl_ctx_set_check_hostname(ctx, 1), 0);
    ck_assert_int_eq(ping(ctx, "127.0.0.1", "wrong.example", NULL), SWCO_ESSLVERIFY);
    swco_ssl_ctx_free(ctx);
    /* no verification at all, explicitly */
    ctx = swco_ssl_ctx_new(0);
    ck_assert_int_eq(swco_ssl_ctx_set_verify_peer(ctx, 0), 0);
    ck_assert_int_eq(swco_ssl_ctx_get_verify(ctx), 0);
    ck_assert_int_eq(ping(ctx, "127.0.0.1", "wrong.example", NULL), 0);
    swco_ssl_ctx_free(ctx);
    /* servers: no client certificate asked; no host names to check */
    ctx = swco_ssl_ctx_new(1);
    ck_assert_int_eq(swco_ssl_ctx_get_verify(ctx), 0);
    ck_assert_int_eq(swco_ssl_ctx_set_check_hostname(ctx, 1), -EINVAL);
    swco_ssl_ctx_free(ctx);
    ck_assert_int_eq(swco_ssl_ctx_get_verify(NULL), -EINVAL);
    ck_assert_int_eq(swco_ssl_ctx_set_check_hostname(NULL, 0), -EINVAL);
    /* Unix socket: no name to check, so connect refuses */
    ctx = client_ctx(1, NULL);
    char path[128];
    snprintf(path, sizeof path, "%s/tls.sock", dir);
    swco_socket_t *ul = swco_socket_new(AF_UNIX, SOCK_STREAM, 0);
    ck_assert_int_eq(swco_socket_bind(ul, path, 0), 0);
    ck_assert_int_eq(swco_socket_listen(ul, 1), 0);
    swco_socket_t *u = swco_socket_new(AF_UNIX, SOCK_STREAM, 0);
    ck_assert_int_eq(swco_socket_enable_ssl(u, ctx, NULL), 0);
    ck_assert_int_eq(swco_socket_connect(u, path, 0, 5), -EINVAL);
    swco_socket_free(u);
    swco_socket_free(ul);
    unlink(path);
    swco_ssl_ctx_free(ctx);
}

START_TEST(client_verifies_by_default)
{
    ck_assert_int_eq(swco_run(defaults, NULL), 0);
}
END_TEST

/* libcurl through swco_curl_perform verifies by default too. */
static int curl_codes[2];

static size_t discard_body(char *p, size_t size, size_t n, void *u)
{
    (void)p;
    (void)u;
    return size * n;
}

static void curl_get(void *arg)
{
    (void)arg;
    char url[64];
    snprintf(url, sizeof url, "https://localhost:%d/", srv.port);
    for (int i = 0; i < 2; i++) {
        CURL *e = curl_easy_init();
        ck_assert_ptr_nonnull(e);
        curl_easy_setopt(e, CURLOPT_URL, url);
        curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
        if (i == 1)
            curl_easy_setopt(e, CURLOPT_CAINFO, ca);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard_body);
        curl_codes[i] = swco_curl_perform(e);
        curl_easy_cleanup(e);
    }
}

static void with_curl(void *arg)
{
    (void)arg;
    start_server(2, "http/1.1", 0);
    swco_coroutine_create(curl_get, NULL);
}

START_TEST(curl_verifies_by_default)
{
    ck_assert_int_eq(swco_run(with_curl, NULL), 0);
    swco_curl_cleanup();
    ck_assert_int_eq(curl_codes[0], CURLE_PEER_FAILED_VERIFICATION);
    ck_assert_int_eq(curl_codes[1], CURLE_OK);
}
END_TEST

int main(void)
{
    make_certs();
    Suite *s = suite_create("ssl");
    TCase *tc = tcase_create("tls");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, verify_success_alpn);
    tcase_add_test(tc, verify_failure_and_wrong_host);
    tcase_add_test(tc, session_reuse_tls13);
    tcase_add_test(tc, session_reuse_tls12);
    tcase_add_test(tc, client_certificates);
    tcase_add_test(tc, bad_files);
    tcase_add_test(tc, plain_peer);
    tcase_add_test(tc, openssl_s_client);
    tcase_add_test(tc, curl_https);
    tcase_add_test(tc, resume_other_name_tls12);
    tcase_add_test(tc, resume_other_name_tls13);
    tcase_add_test(tc, server_survives_sigpipe);
    tcase_add_test(tc, client_verifies_by_default);
    tcase_add_test(tc, curl_verifies_by_default);
    suite_add_tcase(s, tc);
    int rc = run_suite(s);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        rc = EXIT_FAILURE;
    return rc;
}
