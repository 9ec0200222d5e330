/* swco_http_client against a python3 http.server peer (HTTP/1.1, keep-alive,
 * threaded) started by the test on loopback, and the same peer over TLS
 * with a test CA, a server certificate and a client certificate made with
 * openssl.  GET /gate/<k>[/<name>] answers "together" once k requests of
 * that path are in the peer at the same time. */
#include "testutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>
#include <swco/curl.h>
#include <swco/http_client.h>

/* The peer.  argv: [certfile keyfile cafile] for TLS.  Prints its port. */
static const char *peer_py =
    "import sys, ssl, threading, http.server, email, email.policy, urllib.parse, time, gzip\n"
    "conns = 0\n"
    "lock = threading.Lock()\n"
    "gates = {}\n"
    "class H(http.server.BaseHTTPRequestHandler):\n"
    "    protocol_version = 'HTTP/1.1'\n"
    "    def log_message(self, *a): pass\n"
    "    def setup(self):\n"
    "        global conns\n"
    "        with lock:\n"
    "            conns += 1\n"
    "            self.connno = conns\n"
    "        super().setup()\n"
    "    def reply(self, status, data, extra=()):\n"
    "        self.send_response(status)\n"
    "        for k, v in extra: self.send_header(k, v)\n"
    "        self.send_header('Content-Length', str(len(data)))\n"
    "        self.end_headers()\n"
    "        if self.command != 'HEAD': self.wfile.write(data)\n"
    "    def form(self, body):\n"
    "        ct = self.headers.get('Content-Type', '')\n"
    "        out = []\n"
    "        if ct.startswith('multipart/form-data'):\n"
    "            m = email.message_from_bytes(b'Content-Type: ' + ct.encode() + b'\\r\\n\\r\\n' + body,\n"
    "                                         policy=email.policy.HTTP)\n"
    "            for p in m.iter_parts():\n"
    "                d = p.get_payload(decode=True)\n"
    "                n = p.get_param('name', header='content-disposition')\n"
    "                fn = p.get_filename()\n"
    "                if fn is None:\n"
    "                    out.append('field %s=%s' % (n, d.decode('latin-1')))\n"
    "                else:\n"
    "                    out.append('file %s %s %s %d %d' % (n, fn, p.get_content_type(), len(d), sum(d)))\n"
    "        else:\n"
    "            out = ['field %s=%s' % kv for kv in\n"
    "                   urllib.parse.parse_qsl(body.decode(), keep_blank_values=True)]\n"
    "        return ('%s\\n' % ct.split(';')[0] + ''.join(l + '\\n' for l in out)).encode()\n"
    "    def any(self):\n"
    "        u = urllib.parse.urlsplit(self.path)\n"
    "        p = u.path\n"
    "        n = int(self.headers.get('Content-Length') or 0)\n"
    "        body = self.rfile.read(n) if n else b''\n"
    "        if p == '/hello': return self.reply(200, b'hello')\n"
    "        if p == '/echo':\n"
    "            out = '%s %s\\n' % (self.command, self.path)\n"
    "            out += ''.join('%s: %s\\n' % (k.lower(), v) for k, v in self.headers.items())\n"
    "            return self.reply(200, out.encode('latin-1') + b'\\n' + body)\n"
    "        if p == '/conn':\n"
    "            return self.reply(200, ('%d %d' % (self.connno, conns)).encode())\n"
    "        if p == '/setcookie':\n"
    "            q = urllib.parse.parse_qsl(u.query)\n"
    "            return self.reply(200, b'set', [('Set-Cookie', '%s=%s; Path=/' % kv) for kv in q])\n"
    "        if p == '/repeat':\n"
    "            return self.reply(200, b'r', [('X-Rep', 'one'), ('x-rep', 'two'), ('X-Other', '  spaced  ')])\n"
    "        if p == '/redirect': return self.reply(302, b'', [('Location', '/hello')])\n"
    "        if p.startswith('/status/'): return self.reply(int(p[8:]), b'status')\n"
    "        if p.startswith('/big/'):\n"
    "            k = int(p[5:])\n"
    "            return self.reply(200, (b'abcdefghijklmnopqrstuvwxyz' * (k // 26 + 1))[:k])\n"
    "        if p == '/gzip':\n"
    "            if 'gzip' not in self.headers.get('Accept-Encoding', ''): return self.reply(200, b'plain')\n"
    "            return self.reply(200, gzip.compress(b'hello gzip'), [('Content-Encoding', 'gzip')])\n"
    "        if p.startswith('/gate/'):\n"
    "            k = int(p[6:].split('/')[0])\n"
    "            with lock:\n"
    "                b = gates.get(p)\n"
    "                if b is None: b = gates[p] = threading.Barrier(k)\n"
    "            try:\n"
    "                b.wait(timeout=60)\n"
    "                r = b'together'\n"
    "            except threading.BrokenBarrierError:\n"
    "                r = b'alone'\n"
    "            return self.reply(200, r)\n"
    "        if p == '/stall':\n"
    "            time.sleep(120)\n"
    "            return self.reply(200, b'late')\n"
    "        if p == '/form': return self.reply(200, self.form(body))\n"
    "        if p == '/whoami':\n"
    "            c = self.connection.getpeercert() if hasattr(self.connection, 'getpeercert') else None\n"
    "            cn = dict(x[0] for x in c['subject'])['commonName'] if c else 'none'\n"
    "            return self.reply(200, cn.encode())\n"
    "        return self.reply(404, b'not found')\n"
    "    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = any\n"
    "class S(http.server.ThreadingHTTPServer):\n"
    "    daemon_threads = True\n"
    "    request_queue_size = 256\n"
    "s = S(('127.0.0.1', 0), H)\n"
    "if len(sys.argv) > 3:\n"
    "    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\n"
    "    ctx.load_cert_chain(sys.argv[1], sys.argv[2])\n"
    "    ctx.verify_mode = ssl.CERT_OPTIONAL\n"
    "    ctx.load_verify_locations(sys.argv[3])\n"
    "    s.socket = ctx.wrap_socket(s.socket, server_side=True)\n"
    "print(s.server_address[1], flush=True)\n"
    "s.serve_forever()\n";

static pid_t peer_pid, tls_pid;
static int peer_port, tls_port;
static char base[64], tls_base[64];
static char tmpdir[64];

static int peer_start(pid_t *pid, char *const extra[])
{
    int p[2];
    if (pipe(p) != 0)
        return -1;
    *pid = fork();
    if (*pid == 0) {
        dup2(p[1], 1);
        close(p[0]);
        char *argv[8] = {"python3", "-c", (char *)peer_py};
        for (int i = 0; extra && extra[i] && i < 4; i++)
            argv[3 + i] = extra[i];
        execvp("python3", argv);
        _exit(127);
    }
    close(p[1]);
    char buf[32] = "";
    size_t have = 0;
    while (have < sizeof buf - 1) {
        ssize_t n = read(p[0], buf + have, sizeof buf - 1 - have);
        if (n <= 0)
            break;
        have += (size_t)n;
        if (memchr(buf, '\n', have))
            break;
    }
    close(p[0]);
    return atoi(buf);
}

static void peer_stop(pid_t *pid)
{
    if (*pid > 0) {
        kill(*pid, SIGKILL);
        waitpid(*pid, NULL, 0);
        *pid = 0;
    }
}

static int run_quiet(char *const argv[])
{
    pid_t pid = fork();
    if (pid == 0) {
        int dn = open("/dev/null", O_WRONLY);
        dup2(dn, 1);
        dup2(dn, 2);
        execvp(argv[0], argv);
        _exit(127);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *tpath(const char *name)
{
    static char bufs[8][160];
    static int k;
    char *b = bufs[k++ % 8];
    snprintf(b, 160, "%s/%s", tmpdir, name);
    return b;
}

/* A CA, a server certificate for "wrong.example" only (so host checks
 * fail on 127.0.0.1) and a client certificate "client1" whose key has a
 * passphrase. */
static void make_certs(void)
{
    char *ca[] = {"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                  tpath("ca.key"), "-out", tpath("ca.pem"), "-days", "1", "-subj",
                  "/CN=swco test CA", NULL};
    ck_assert_msg(run_quiet(ca) == 0, "openssl req failed (is openssl installed?)");
    FILE *f = fopen(tpath("ext.cnf"), "w");
    fprintf(f, "subjectAltName=DNS:wrong.example\n");
    fclose(f);
    char *sreq[] = {"openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout",
                    tpath("srv.key"), "-out", tpath("srv.csr"), "-subj", "/CN=wrong.example", NULL};
    ck_assert_int_eq(run_quiet(sreq), 0);
    char *ssign[] = {"openssl", "x509", "-req", "-in", tpath("srv.csr"), "-CA", tpath("ca.pem"),
                     "-CAkey", tpath("ca.key"), "-CAcreateserial", "-out", tpath("srv.pem"),
                     "-days", "1", "-extfile", tpath("ext.cnf"), NULL};
    ck_assert_int_eq(run_quiet(ssign), 0);
    char *creq[] = {"openssl", "req", "-newkey", "rsa:2048", "-passout", "pass:sesame",
                    "-keyout", tpath("cli.key"), "-out", tpath("cli.csr"), "-subj", "/CN=client1",
                    NULL};
    ck_assert_int_eq(run_quiet(creq), 0);
    char *csign[] = {"openssl", "x509", "-req", "-in", tpath("cli.csr"), "-CA", tpath("ca.pem"),
                     "-CAkey", tpath("ca.key"), "-CAcreateserial", "-out", tpath("cli.pem"),
                     "-days", "1", NULL};
    ck_assert_int_eq(run_quiet(csign), 0);
}

static void suite_setup(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    snprintf(tmpdir, sizeof tmpdir, "/tmp/swco-hc-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    peer_port = peer_start(&peer_pid, NULL);
    ck_assert_int_gt(peer_port, 0);
    snprintf(base, sizeof base, "http://127.0.0.1:%d", peer_port);
    make_certs();
    char *tls_args[] = {tpath("srv.pem"), tpath("srv.key"), tpath("ca.pem"), NULL};
    tls_port = peer_start(&tls_pid, tls_args);
    ck_assert_int_gt(tls_port, 0);
    snprintf(tls_base, sizeof tls_base, "https://127.0.0.1:%d", tls_port);
}

static void suite_teardown(void)
{
    peer_stop(&peer_pid);
    peer_stop(&tls_pid);
    char *rm[] = {"rm", "-rf", tmpdir, NULL};
    run_quiet(rm);
    curl_global_cleanup();
}

static const char *body_of(swco_http_client_t *c)
{
    const char *d = NULL;
    ck_assert_int_ge(swco_http_client_body(c, &d), 0);
    return d;
}

/* Run fn in a coroutine of a fresh loop. */
static void in_co(swco_fn fn)
{
    ck_assert_int_eq(swco_run(fn, NULL), 0);
    swco_curl_cleanup();
}

/* ------------------------------------------------------------- basics */

static void co_get(void *arg)
{
    swco_http_client_t *c = swco_http_client_new(base);
    ck_assert_ptr_nonnull(c);
    ck_assert_str_eq(swco_http_client_effective_url(c), "");
    ck_assert_int_eq(swco_http_client_get(c, "/hello"), 200);
    ck_assert_int_eq(swco_http_client_status(c), 200);
    ck_assert_str_eq(body_of(c), "hello");
    const char *d;
    ck_assert_int_eq(swco_http_client_body(c, &d), 5);
    ck_assert_str_eq(swco_http_client_header(c, "content-length", 0), "5");
    char want[128];
    snprintf(want, sizeof want, "%s/hello", base);
    ck_assert_str_eq(swco_http_client_effective_url(c), want);
    ck_assert_int_eq(swco_http_client_curl_code(c), 0);
    ck_assert_str_eq(swco_http_client_error_message(c), "");
    /* a status is an answer, not an error */
    ck_assert_int_eq(swco_http_client_get(c, "status/503"), 503);
    ck_assert_str_eq(body_of(c), "status");
    ck_assert_int_eq(swco_http_client_get(c, "/missing"), 404);
    /* a whole URL instead of a path */
    ck_assert_int_eq(swco_http_client_get(c, want), 200);
    swco_http_client_free(c);
    /* a client without a base */
    c = swco_http_client_new(NULL);
    ck_assert_int_eq(swco_http_client_get(c, want), 200);
    ck_assert_str_eq(body_of(c), "hello");
    swco_http_client_free(c);
}

START_TEST(get_status_body_url)
{
    in_co(co_get);
}
END_TEST

START_TEST(outside_a_coroutine)
{
    swco_http_client_t *c = swco_http_client_new(base);
    ck_assert_int_eq(swco_http_client_get(c, "/hello"), 200); /* curl_easy_perform */
    ck_assert_str_eq(body_of(c), "hello");
    swco_http_client_free(c);
}
END_TEST

/* --------------------------------------------- methods, bodies, headers */

static void co_methods(void *arg)
{
    swco_http_client_t *c = swco_http_client_new(base);
    ck_assert_int_eq(swco_http_client_post(c, "/echo", "a=1&b", 5), 200);
    ck_assert_ptr_nonnull(strstr(body_of(c), "POST /echo\n"));
    ck_assert_ptr_nonnull(strstr(body_of(c), "\n\na=1&b"));
    ck_assert_ptr_null(strstr(body_of(c), "expect:")); /* no 100-continue wait */
    char big[200000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)('A' + i % 23);
    ck_assert_int_eq(swco_http_client_put(c, "/echo", big, sizeof big), 200);
    const char *d;
    long n = swco_http_client_body(c, &d);
    ck_assert_ptr_nonnull(strstr(d, "PUT /echo\n"));
    ck_assert_int_gt(n, (long)sizeof big);
    ck_assert_int_eq(memcmp(d + n - sizeof big, big, sizeof big), 0);
    ck_assert_int_eq(swco_http_client_delete(c, "/echo"), 200);
    ck_assert_ptr_nonnull(strstr(body_of(c), "DELETE /echo\n"));
    ck_assert_int_eq(swco_http_client_request(c, "PATCH", "/echo?x=1"), 200);
    ck_assert_ptr_nonnull(strstr(body_of(c), "PATCH /echo?x=1\n"));
    ck_assert_int_eq(swco_http_client_post(c, "/echo", NULL, 0), 200); /* empty POST */
    ck_assert_ptr_nonnull(strstr(body_of(c), "content-length: 0\n"));
    ck_assert_int_eq(swco_http_client_request(c, "HEAD", "/hello"), 200);
    ck_assert_int_eq(swco_http_client_body(c, &d), 0);
    ck_assert_str_eq(swco_http_client_header(c, "Content-Length", 0), "5");
    /* a raw body with its type, then a GET has none again */
    ck_assert_int_eq(swco_http_client_set_body(c, "{\"k\":1}", 7, "application/json"), 0);
    ck_assert_int_eq(swco_http_client_request(c, "POST", "/echo"), 200);
    ck_assert_ptr_nonnull(strstr(body_of(c), "content-type: application/json\n"));
    ck_assert_ptr_nonnull(strstr(body_of(c), "\n\n{\"k\":1}"));
    ck_assert_int_eq(swco_http_client_get(c, "/echo"), 200);
    ck_assert_ptr_nonnull(strstr(body_of(c), "GET /echo\n"));
    ck_assert_ptr_null(strstr(body_of(c), "content-type"));
    ck_assert_ptr_null(strstr(body_of(c), "content-length"));

    /* request headers: set, replaced, repeated, empty, removed */
    ck_assert_int_eq(swco_http_client_set_header(c, "X-One", "1"), 0);
    ck_assert_int_eq(swco_http_client_set_header(c, "x-one", "uno"), 0);
    ck_assert_int_eq(swco_http_client_add_header(c, "X-Rep", "a"), 0);
    ck_assert_int_eq(swco_http_client_add_header(c, "X-Rep", "b"), 0);
    ck_assert_int_eq(swco_http_client_set_header(c, "X-Empty", ""), 0);
    ck_assert_int_eq(swco_http_client_set(c, "user_agent", "swco-test/1"), 0);
    ck_assert_int_eq(swco_http_client_get(c, "/echo"), 200);
    const char *b = body_of(c);
    ck_assert_ptr_nonnull(strstr(b, "x-one: uno\n"));
    ck_assert_ptr_null(strstr(b, "x-one: 1\n"));
    ck_assert_ptr_nonnull(strstr(b, "x-rep: a\nx-rep: b\n"));
    ck_assert_ptr_nonnull(strstr(b, "x-empty: \n"));
    ck_assert_ptr_nonnull(strstr(b, "user-agent: swco-test/1\n"));
    ck_assert_int_eq(swco_http_client_get(c, "/echo"), 200); /* headers stay */
    ck_assert_ptr_nonnull(strstr(body_of(c), "x-one: uno\n"));
    ck_assert_int_eq(swco_http_client_set_header(c, "X-One", NULL), 0);
    ck_assert_int_eq(swco_http_client_get(c, "/echo"), 200);
    ck_assert_ptr_null(strstr(body_of(c), "x-one"));
    ck_assert_ptr_nonnull(strstr(body_of(c), "x-rep: a\n"));
    ck_assert_int_eq(swco_http_client_clear_headers(c), 0);
    ck_assert_int_eq(swco_http_client_get(c, "/echo"), 200);
    ck_assert_ptr_null(strstr(body_of(c), "x-rep"));
    /* bad headers and methods */
    ck_assert_int_eq(swco_http_client_set_header(c, "X-A", "a\r\nInjected: 1"), -EINVAL);
    ck_assert_int_eq(swco_http_client_set_header(c, "Bad Name", "x"), -EINVAL);
    ck_assert_int_eq(swco_http_client_set_header(c, "", "x"), -EINVAL);
    ck_assert_int_eq(swco_http_client_add_header(c, "X-A", NULL), -EINVAL);
    ck_assert_int_eq(swco_http_client_request(c, "GE T", "/echo"), -EINVAL);
    ck_assert_int_eq(swco_last_error(), -EINVAL);
    ck_assert_int_eq(swco_http_client_set_body(c, "x", 1, NULL), 0);
    ck_assert_int_eq(swco_http_client_request(c, "HEAD", "/echo"), -EINVAL);
    ck_assert_str_ne(swco_http_client_error_message(c), "");
    swco_http_client_free(c);
}

START_TEST(methods_bodies_request_headers)
{
    in_co(co_methods);
}
END_TEST

static void co_resp_headers(void *arg)
{
    swco_http_client_t *c = swco_http_client_new(base);
    ck_assert_int_eq(swco_http_client_get(c, "/repeat"), 200);
    ck_assert_str_eq(swco_http_client_header(c, "x-rep", 0), "one");
    ck_assert_str_eq(swco_http_client_header(c, "X-REP", 1), "two");
    ck_assert_ptr_null(swco_http_client_header(c, "X-Rep", 2));
    ck_assert_int_eq(swco_last_error(), -ENOENT);
    ck_assert_ptr_null(swco_http_client_header(c, "X-Absent", 0));
    ck_assert_str_eq(swco_http_client_header(c, "x-other", 0), "spaced");
    int n = swco_http_client_header_count(c), reps = 0;
    ck_assert_int_ge(n, 5);
    for (int i = 0; i < n; i++)
        if (strcasecmp(swco_http_client_header_name(c, i), "x-rep") == 0)
            reps++;
    ck_assert_int_eq(reps, 2);
    ck_assert_str_eq(swco_http_client_header_name(c, 0), "Server");
    ck_assert_ptr_null(swco_http_client_header_name(c, n));
    ck_assert_int_eq(swco_last_error(), -ERANGE);
    ck_assert_ptr_null(swco_http_client_header_value(c, -1));
    /* redirects: not followed by default; followed, the final headers only */
    ck_assert_int_eq(swco_http_client_get(c, "/redirect"), 302);
    ck_assert_str_eq(swco_http_client_header(c, "location", 0), "/hello");
    ck_assert_int_eq(swco_http_client_set(c, "follow_redirects", "5"), 0);
    ck_assert_int_eq(swco_http_client_get(c, "/redirect"), 200);
    ck_assert_str_eq(body_of(c), "hello");
    ck_assert_ptr_null(swco_http_client_header(c, "location", 0));
    char want[128];
    snprintf(want, sizeof want, "%s/hello", base);
    ck_assert_str_eq(swco_http_client_effective_url(c), want);
    /* accept_encoding "": asks for gzip and decodes it */
    ck_assert_int_eq(swco_http_client_get(c, "/gzip"), 200);
    ck_assert_str_eq(body_of(c), "plain");
    ck_assert_int_eq(swco_http_client_set(c, "accept_encoding", ""), 0);
    ck_assert_int_eq(swco_http_client_get(c, "/gzip"), 200);
    ck_assert_str_eq(body_of(c), "hello gzip");
    swco_http_client_free(c);
}

START_TEST(response_headers_redirects_encoding)
{
    in_co(co_resp_headers);
}
END_TEST

/* ------------------------------------------------------------ cookies */

static void co_cookies(void *arg)
{
    swco_http_client_t *c = swco_http_client_new(base);
    ck_assert_ptr_null(swco_http_client_cookie(c, "a"));
    ck_assert_int_eq(swco_http_client_get(c, "/setcookie?a=1&b=two"), 200);
    ck_assert_str_eq(swco_http_client_cookie(c, "a"), "1");
    ck_assert_str_eq(swco_http_client_cookie(c, "b"), "two");
    ck_assert_int_eq(swco_http_client_set_cookie(c, "mine", "x"), 0);
    ck_assert_int_eq(swco_http_client_get(c, "/echo"), 200);
    const char *b = body_of(c);
    const char *line = strstr(b, "cookie: ");
    ck_assert_ptr_nonnull(line);
    char cookie[256];
    sscanf(line, "cookie: %255[^\n]", cookie);
    ck_assert_ptr_nonnull(strstr(cookie, "a=1"));
    ck_assert_ptr_nonnull(strstr(cookie, "b=two"));
    ck_assert_ptr_nonnull(strstr(cookie, "mine=x"));
    /* a cookie set again replaces the jar's value */
    ck_assert_int_eq(swco_http_client_get(c, "/setcookie?a=3"), 200);
    ck_assert_str_eq(swco_http_client_cookie(c, "a"), "3");
    ck_assert_str_eq(swco_http_client_cookie(c, "mine"), "x");
    /* jars are per client */
    swco_http_client_t *other = swco_http_client_new(base);
    ck_assert_int_eq(swco_http_client_get(other, "/echo"), 200);
    ck_assert_ptr_null(strstr(body_of(other), "cookie:"));
    swco_http_client_free(other);
    ck_assert_int_eq(swco_http_client_set_cookie(c, "bad;name", "x"), -EINVAL);
    ck_assert_int_eq(swco_http_client_set_cookie(c, "n", "a b"), -EINVAL);
    ck_assert_int_eq(swco_http_client_clear_cookies(c), 0);
    ck_assert_ptr_null(swco_http_client_cookie(c, "a"));
    ck_assert_int_eq(swco_http_client_get(c, "/echo"), 200);
    ck_assert_ptr_null(strstr(body_of(c), "cookie:"));
    swco_http_client_free(c);
}

START_TEST(cookie_jar)
{
    in_co(co_cookies);
}
END_TEST

/* ----------------------------------------------- forms, files, download */

static void co_forms(void *arg)
{
    swco_http_client_t *c = swco_http_client_new(base);
    ck_assert_int_eq(swco_http_client_add_form_field(c, "name", "J Doe & co"), 0);
    ck_assert_int_eq(swco_http_client_add_form_field(c, "empty", ""), 0);
    ck_assert_int_eq(swco_http_client_post(c, "/form", NULL, 0), 200);
    ck_assert_str_eq(body_of(c),
                     "application/x-www-form-urlencoded\nfield name=J Doe & co\nfield empty=\n");
    /* the fields went with that request only */
    ck_assert_int_eq(swco_http_client_post(c, "/form", NULL, 0), 200);
    ck_assert_str_eq(body_of(c), "application/x-www-form-urlencoded\n");

    /* multipart: a field, a file from disk, bytes from memory */
    FILE *f = fopen(tpath("up.txt"), "w");
    long sum = 0;
    for (int i = 0; i < 100000; i++) {
        fputc('a' + i % 26, f);
        sum += 'a' + i % 26;
    }
    fclose(f);
    unsigned char bin[256];
    long binsum = 0;
    for (int i = 0; i < 256; i++)
        binsum += bin[i] = (unsigned char)i;
    ck_assert_int_eq(swco_http_client_add_form_field(c, "title", "report"), 0);
    ck_assert_int_eq(swco_http_client_add_file(c, "doc", tpath("up.txt"), NULL, "text/plain"), 0);
    ck_assert_int_eq(swco_http_client_add_data(c, "blob", bin, sizeof bin, "b.bin", NULL), 0);
    ck_assert_int_eq(swco_http_client_request(c, "PUT", "/form"), 200);
    char want[512];
    snprintf(want, sizeof want,
             "multipart/form-data\nfield title=report\nfile doc up.txt text/plain 100000 %ld\n"
             "file blob b.bin application/octet-stream 256 %ld\n",
             sum, binsum);
    ck_assert_str_eq(body_of(c), want);
    /* files that cannot be read */
    ck_assert_int_eq(swco_http_client_add_file(c, "x", tpath("absent"), NULL, NULL), -ENOENT);
    ck_assert_int_eq(swco_http_client_add_file(c, "x", tmpdir, NULL, NULL), -EISDIR);
    ck_assert_int_eq(swco_http_client_add_data(c, "x", NULL, 3, NULL, NULL), -EINVAL);
    swco_http_client_free(c);
}

START_TEST(forms_and_file_uploads)
{
    in_co(co_forms);
}
END_TEST

static void co_download(void *arg)
{
    swco_http_client_t *c = swco_http_client_new(base);
    ck_assert_int_eq(swco_http_client_download(c, "/big/3000000", tpath("dl.bin")), 200);
    const char *d;
    ck_assert_int_eq(swco_http_client_body(c, &d), 0);
    struct stat st;
    ck_assert_int_eq(stat(tpath("dl.bin"), &st), 0);
    ck_assert_int_eq(st.st_size, 3000000);
    FILE *f = fopen(tpath("dl.bin"), "r");
    int bad = 0;
    for (int i = 0, ch; (ch = fgetc(f)) != EOF; i++)
        bad |= ch != 'a' + i % 26;
    fclose(f);
    ck_assert_int_eq(bad, 0);
    /* truncated on the next download */
    ck_assert_int_eq(swco_http_client_download(c, "/hello", tpath("dl.bin")), 200);
    ck_assert_int_eq(stat(tpath("dl.bin"), &st), 0);
    ck_assert_int_eq(st.st_size, 5);
    ck_assert_int_eq(swco_http_client_download(c, "/hello", tpath("no/such/dir")), -ENOENT);
    /* the client keeps bodies in memory again afterwards */
    ck_assert_int_eq(swco_http_client_get(c, "/hello"), 200);
    ck_assert_str_eq(body_of(c), "hello");
    swco_http_client_free(c);
}

START_TEST(download_to_file)
{
    in_co(co_download);
}
END_TEST

/* ----------------------------------------------------------- keep-alive */

static void conn_of(swco_http_client_t *c, long *connno, long *total)
{
    ck_assert_int_eq(swco_http_client_get(c, "/conn"), 200);
    ck_assert_int_eq(sscanf(body_of(c), "%ld %ld", connno, total), 2);
}

static void co_keepalive(void *arg)
{
    swco_http_client_t *c = swco_http_client_new(base);
    swco_http_client_t *c2 = swco_http_client_new(base);
    long a, t0, b, t1, x, tx;
    conn_of(c, &a, &t0);
    conn_of(c2, &x, &tx); /* another client: a connection of its own */
    ck_assert_int_ne(x, a);
    for (int i = 0; i < 5; i++) {
        /* requests on other clients in between do not take c's connection */
        conn_of(c2, &x, &tx);
        ck_assert_int_eq(swco_http_client_post(c, "/echo", "x", 1), 200);
        conn_of(c, &b, &t1);
        ck_assert_int_eq(b, a);
    }
    /* the server accepted one connection per client, no more */
    ck_assert_int_eq(t1, t0 + 1);
    /* close: the next request connects again */
    ck_assert_int_eq(swco_http_client_close(c), 0);
    conn_of(c, &b, &t1);
    ck_assert_int_gt(b, a);
    /* keep_alive off: a connection per request */
    ck_assert_int_eq(swco_http_client_set(c, "keep_alive", "off"), 0);
    conn_of(c, &a, &t0);
    conn_of(c, &b, &t1);
    ck_assert_int_gt(b, a);
    swco_http_client_free(c);
    swco_http_client_free(c2);
}

START_TEST(keep_alive_reuses_the_connection)
{
    in_co(co_keepalive);
}
END_TEST

/* --------------------------------------------------------- concurrency */

#define NCLIENTS 20
static int together, busy_seen;
static swco_waitgroup_t *cwg;

static void one_client(void *arg)
{
    swco_http_client_t *c = arg;
    char path[32];
    snprintf(path, sizeof path, "/gate/%d", NCLIENTS);
    if (swco_http_client_get(c, path) == 200 && strcmp(body_of(c), "together") == 0)
        together++;
    swco_waitgroup_done(cwg);
}

/* NCLIENTS clients in flight at once: the server answers /gate/N only
 * when N requests are in it together. */
static void co_concurrent(void *arg)
{
    swco_http_client_t *cs[NCLIENTS];
    cwg = swco_waitgroup_new();
    for (int i = 0; i < NCLIENTS; i++) {
        cs[i] = swco_http_client_new(base);
        ck_assert_int_eq(swco_http_client_set_timeout(cs[i], 10 * slow(), 60 * slow()), 0);
    }
    together = 0;
    swco_waitgroup_add(cwg, NCLIENTS);
    for (int i = 0; i < NCLIENTS; i++)
        swco_coroutine_create(one_client, cs[i]);
    /* while cs[0] is in its request, a second request on it is refused */
    busy_seen = swco_http_client_get(cs[0], "/hello") == -EBUSY &&
                swco_http_client_set(cs[0], "timeout", "1") == -EBUSY;
    ck_assert_int_eq(swco_waitgroup_wait(cwg, 120 * slow()), 0);
    swco_waitgroup_free(cwg);
    for (int i = 0; i < NCLIENTS; i++)
        swco_http_client_free(cs[i]);
}

START_TEST(many_clients_at_once)
{
    in_co(co_concurrent);
    ck_assert_int_eq(together, NCLIENTS);
    ck_assert_int_eq(busy_seen, 1);
}
END_TEST

/* ------------------------------------------------------ timeouts, errors */

static void co_timeouts(void *arg)
{
    swco_http_client_t *c = swco_http_client_new(base);
    ck_assert_int_eq(swco_http_client_set_timeout(c, 0, 0.3), 0);
    double t0 = now_s();
    ck_assert_int_eq(swco_http_client_get(c, "/stall"), -ETIMEDOUT);
    ck_assert_double_lt(now_s() - t0, 20 * slow()); /* /stall answers after 120 s */
    ck_assert_int_eq(swco_last_error(), -ETIMEDOUT);
    ck_assert_int_eq(swco_http_client_curl_code(c), CURLE_OPERATION_TIMEDOUT);
    ck_assert_str_ne(swco_http_client_error_message(c), "");
    ck_assert_int_eq(swco_http_client_status(c), 0);
    /* the same as a text option; the client works on afterwards */
    ck_assert_int_eq(swco_http_client_set(c, "timeout", "0.2"), 0);
    ck_assert_int_eq(swco_http_client_get(c, "/stall"), -ETIMEDOUT);
    ck_assert_int_eq(swco_http_client_set(c, "timeout", "0"), 0);
    ck_assert_int_eq(swco_http_client_get(c, "/hello"), 200);
    swco_http_client_free(c);

    /* connect timeout: a listener whose accept queue is full drops SYNs */
    int port;
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ck_assert_int_eq(bind(lfd, (struct sockaddr *)&a, sizeof a), 0);
    ck_assert_int_eq(listen(lfd, 0), 0);
    socklen_t len = sizeof a;
    getsockname(lfd, (struct sockaddr *)&a, &len);
    port = ntohs(a.sin_port);
    int fill[4];
    for (int i = 0; i < 4; i++) {
        fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        connect(fill[i], (struct sockaddr *)&a, sizeof a);
    }
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    c = swco_http_client_new(url);
    ck_assert_int_eq(swco_http_client_set(c, "connect_timeout", "0.3"), 0);
    ck_assert_int_eq(swco_http_client_get(c, "/"), -ETIMEDOUT);
    ck_assert_int_eq(swco_http_client_curl_code(c), CURLE_OPERATION_TIMEDOUT);
    swco_http_client_free(c);
    for (int i = 0; i < 4; i++)
        close(fill[i]);
    close(lfd);
}

START_TEST(timeouts)
{
    in_co(co_timeouts);
}
END_TEST

static void co_errors(void *arg)
{
    /* refused: a port bound but not listening */
    int port;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(fd, (struct sockaddr *)&a, sizeof a);
    socklen_t len = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &len);
    port = ntohs(a.sin_port);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    swco_http_client_t *c = swco_http_client_new(url);
    ck_assert_int_eq(swco_http_client_get(c, "/"), -ECONNREFUSED);
    ck_assert_int_eq(swco_http_client_curl_code(c), CURLE_COULDNT_CONNECT);
    ck_assert_ptr_nonnull(strstr(swco_http_client_error_message(c), "127.0.0.1"));
    /* other schemes and malformed URLs */
    ck_assert_int_eq(swco_http_client_get(c, "http://[::1"), -EINVAL);
    ck_assert_int_eq(swco_http_client_curl_code(c), CURLE_URL_MALFORMAT);
    swco_http_client_free(c);
    close(fd);
    c = swco_http_client_new(NULL);
    ck_assert_int_eq(swco_http_client_get(c, "file:///etc/passwd"), -EINVAL);
    ck_assert_int_eq(swco_http_client_curl_code(c), CURLE_UNSUPPORTED_PROTOCOL);
    swco_http_client_free(c);
    ck_assert_ptr_null(swco_http_client_new("ftp://127.0.0.1/"));
    ck_assert_int_eq(swco_last_error(), -EINVAL);
    /* options */
    c = swco_http_client_new(base);
    ck_assert_int_eq(swco_http_client_set(c, "no_such_option", "1"), SWCO_EOPTION);
    ck_assert_int_eq(swco_http_client_set(c, "keep_alive", "maybe"), SWCO_EOPTVALUE);
    ck_assert_int_eq(swco_http_client_set(c, "timeout", "soon"), SWCO_EOPTVALUE);
    ck_assert_int_eq(swco_http_client_set(c, "follow_redirects", "-3"), SWCO_EOPTVALUE);
    ck_assert_int_eq(swco_http_client_set(c, NULL, "1"), -EINVAL);
    ck_assert_int_eq(swco_http_client_set(c, "follow_redirects", "yes"), 0);
    swco_http_client_free(c);
    /* NULL clients */
    ck_assert_int_eq(swco_http_client_get(NULL, "/"), -EINVAL);
    ck_assert_int_eq(swco_http_client_status(NULL), -EINVAL);
    ck_assert_ptr_null(swco_http_client_header(NULL, "x", 0));
    swco_http_client_free(NULL);
}

START_TEST(errors)
{
    in_co(co_errors);
}
END_TEST

/* ------------------------------------------------------------------ TLS */

static void co_tls(void *arg)
{
    swco_http_client_t *c = swco_http_client_new(tls_base);
    ck_assert_int_eq(swco_http_client_set_timeout(c, 10 * slow(), 30 * slow()), 0);
    /* the test CA is not in the system store */
    ck_assert_int_eq(swco_http_client_get(c, "/whoami"), SWCO_ESSLVERIFY);
    /* trusted, but the certificate names wrong.example, not 127.0.0.1 */
    ck_assert_int_eq(swco_http_client_set(c, "ssl_cafile", tpath("ca.pem")), 0);
    ck_assert_int_eq(swco_http_client_get(c, "/whoami"), SWCO_ESSLVERIFY);
    ck_assert_int_eq(swco_http_client_set(c, "ssl_verify_host", "0"), 0);
    ck_assert_int_eq(swco_http_client_get(c, "/whoami"), 200);
    ck_assert_str_eq(body_of(c), "none");
    /* a client certificate with a passphrase-protected key */
    ck_assert_int_eq(swco_http_client_set(c, "ssl_cert_file", tpath("cli.pem")), 0);
    ck_assert_int_eq(swco_http_client_set(c, "ssl_key_file", tpath("cli.key")), 0);
    ck_assert_int_eq(swco_http_client_set(c, "ssl_key_password", "wrong"), 0);
    ck_assert_int_eq(swco_http_client_close(c), 0);
    ck_assert_int_eq(swco_http_client_get(c, "/whoami"), SWCO_ESSL);
    ck_assert_int_eq(swco_http_client_set(c, "ssl_key_password", "sesame"), 0);
    ck_assert_int_eq(swco_http_client_get(c, "/whoami"), 200);
    ck_assert_str_eq(body_of(c), "client1");
    swco_http_client_free(c);
    /* no verification at all */
    c = swco_http_client_new(tls_base);
    ck_assert_int_eq(swco_http_client_set(c, "ssl_verify_peer", "off"), 0);
    ck_assert_int_eq(swco_http_client_set(c, "ssl_verify_host", "off"), 0);
    ck_assert_int_eq(swco_http_client_get(c, "/hello"), 200);
    ck_assert_str_eq(body_of(c), "hello");
    swco_http_client_free(c);
}

START_TEST(tls_options)
{
    in_co(co_tls);
}
END_TEST

/* ------------------------------------------- a connection between multis */

static swco_http_client_t *sh_c, *sh_d, *sh_e, *sh_k;
static swco_channel_t *sh_done;
static int sh_c_rc, sh_d_rc;

static void sh_run_d(void *arg)
{
    sh_d_rc = swco_http_client_get(sh_d, "/gate/2/d");
    swco_channel_push(sh_done, (void *)1, -1);
}

static void sh_run_c(void *arg)
{
    sh_c_rc = swco_http_client_get(sh_c, "/gate/2/c");
    swco_channel_push(sh_done, (void *)2, -1);
}

static void sh_run(void *arg)
{
    swco_http_client_t *cl = arg;
    char path[32];
    snprintf(path, sizeof path, "/gate/2/%s", cl == sh_e ? "d" : "c");
    swco_http_client_get(cl, path);
}

/* c's connection lives in c's share; d takes the multi c used last (c's
 * socket still recorded in it) while c's next request runs on another
 * multi over the same connection.  When d's transfer ends first, its
 * multi must not take the socket's registration away from c's transfer:
 * c would never see its answer and run into its timeout. */
static void co_shared(void *arg)
{
    sh_c = swco_http_client_new(base);
    sh_d = swco_http_client_new(base);
    sh_e = swco_http_client_new(base);
    sh_k = swco_http_client_new(base);
    sh_done = swco_channel_new(4);
    ck_assert_int_eq(swco_http_client_set_timeout(sh_c, 10 * slow(), 20 * slow()), 0);
    ck_assert_int_eq(swco_http_client_get(sh_c, "/hello"), 200);
    swco_coroutine_create(sh_run_d, NULL); /* takes the multi c used */
    swco_coroutine_create(sh_run_c, NULL);
    swco_coroutine_create(sh_run, sh_e); /* lets d through */
    void *who = NULL;
    ck_assert_int_eq(swco_channel_pop(sh_done, &who, 60 * slow()), 0);
    ck_assert_ptr_eq(who, (void *)1);
    ck_assert_int_eq(sh_d_rc, 200);
    swco_coroutine_create(sh_run, sh_k); /* now lets c through */
    ck_assert_int_eq(swco_channel_pop(sh_done, &who, 60 * slow()), 0);
    ck_assert_ptr_eq(who, (void *)2);
    ck_assert_int_eq(sh_c_rc, 200);
    ck_assert_str_eq(body_of(sh_c), "together");
    swco_channel_free(sh_done);
    swco_http_client_free(sh_c);
    swco_http_client_free(sh_d);
    swco_http_client_free(sh_e);
    swco_http_client_free(sh_k);
}

START_TEST(shared_connection_between_multis)
{
    in_co(co_shared);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("http_client");
    TCase *tc = tcase_create("http_client");
    tcase_add_unchecked_fixture(tc, suite_setup, suite_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, get_status_body_url);
    tcase_add_test(tc, outside_a_coroutine);
    tcase_add_test(tc, methods_bodies_request_headers);
    tcase_add_test(tc, response_headers_redirects_encoding);
    tcase_add_test(tc, cookie_jar);
    tcase_add_test(tc, forms_and_file_uploads);
    tcase_add_test(tc, download_to_file);
    tcase_add_test(tc, keep_alive_reuses_the_connection);
    tcase_add_test(tc, many_clients_at_once);
    tcase_add_test(tc, timeouts);
    tcase_add_test(tc, errors);
    tcase_add_test(tc, tls_options);
    tcase_add_test(tc, shared_connection_between_multis);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
