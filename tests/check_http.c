/* The HTTP/1.1 server (swco/http.h) seen from real peers on loopback:
 * curl, python3's http.client and raw sockets.  Each server runs in a
 * forked child (swco_server_start() returns only when it stops); the test
 * talks to it as a client would and stops it with SIGTERM.  Order and
 * concurrency are shown by events (what arrives, in which order, and
 * EOF), never by a stopwatch; time limits are safety nets scaled by
 * SWCO_TEST_SLOW, and the server's own timeouts under test are scaled the
 * same way. */
#include "testutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ------------------------------------------------------------- helpers */

static int have_peer(const char *name)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", name);
    if (system(cmd) == 0)
        return 1;
    const char *ci = getenv("CI");
    ck_assert_msg(!(ci && strcmp(ci, "true") == 0), "%s is not installed (CI)", name);
    fprintf(stderr, "check_http: %s is not installed; skipping\n", name);
    return 0;
}

/* Run argv; its stdout into out (NUL-ended).  Its exit status, -1 past
 * the time limit. */
static int run_cmd(char *const argv[], char *out, size_t out_cap)
{
    int outp[2];
    ck_assert_int_eq(pipe2(outp, O_CLOEXEC), 0);
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDONLY);
        dup2(devnull, 0);
        dup2(outp[1], 1);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(outp[1]);
    size_t len = 0;
    double deadline = now_s() + 60 * slow();
    int timed_out = 0;
    for (;;) {
        struct pollfd p = {outp[0], POLLIN, 0};
        int left = (int)((deadline - now_s()) * 1000);
        if (left <= 0 || poll(&p, 1, left) <= 0) {
            timed_out = 1;
            break;
        }
        ssize_t n = read(outp[0], out + len, out_cap - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
        if (len == out_cap - 1)
            break;
    }
    out[len] = 0;
    close(outp[0]);
    if (timed_out)
        kill(pid, SIGKILL);
    int st;
    waitpid(pid, &st, 0);
    return timed_out ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int python(const char *script, const char *a1, char *out, size_t cap)
{
    char *argv[] = {"python3", "-c", (char *)script, (char *)(a1 ? a1 : ""), NULL};
    return run_cmd(argv, out, cap);
}

/* A server in a forked child.  `ready` gets a byte from each worker start;
 * `gone` reaches EOF when the child has exited. */
typedef struct child {
    pid_t pid;
    int ready, gone;
    int port;
    char ports[16];
} child_t;

static int ready_w = -1;

static void note_worker_start(swco_server_t *srv, int worker_id, void *arg)
{
    char c = (char)('0' + worker_id);
    if (write(ready_w, &c, 1) != 1)
        abort();
}

static child_t start_child(swco_server_t *srv)
{
    int r[2], g[2];
    ck_assert_int_eq(pipe2(r, O_CLOEXEC), 0);
    ck_assert_int_eq(pipe2(g, O_CLOEXEC), 0);
    ready_w = r[1];
    ck_assert_int_eq(swco_server_on_worker_start(srv, note_worker_start, NULL, NULL), 0);
    child_t c;
    memset(&c, 0, sizeof c);
    c.port = swco_server_listener_port(srv, 0);
    snprintf(c.ports, sizeof c.ports, "%d", c.port);
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(r[0]);
        close(g[0]);
        /* not Check's handler (it signals the test's whole process group)
         * when a SIGTERM comes as the server is leaving by itself */
        signal(SIGTERM, SIG_DFL);
        int rc = swco_server_start(srv);
        if (rc < 0)
            fprintf(stderr, "start: %s\n", swco_strerror(rc));
        swco_server_free(srv);
        fflush(NULL);
        _exit(rc == 0 ? 0 : 3);
    }
    close(r[1]);
    close(g[1]);
    ready_w = -1;
    swco_server_free(srv);
    c.pid = pid;
    c.ready = r[0];
    c.gone = g[0];
    struct pollfd p = {c.ready, POLLIN, 0};
    ck_assert_msg(poll(&p, 1, (int)(30000 * slow())) == 1, "server did not start");
    char b;
    ck_assert_msg(read(c.ready, &b, 1) == 1, "server exited before it started");
    return c;
}

/* SIGTERM (sig 0: none, it stops by itself) and the child's exit status. */
static int stop_child_sig(child_t *c, int sig)
{
    if (sig)
        kill(c->pid, sig);
    struct pollfd p = {c->gone, POLLIN, 0};
    if (poll(&p, 1, (int)(30000 * slow())) != 1) {
        kill(c->pid, SIGKILL);
        waitpid(c->pid, NULL, 0);
        ck_abort_msg("server did not stop");
    }
    int st;
    waitpid(c->pid, &st, 0);
    close(c->ready);
    close(c->gone);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int stop_child(child_t *c) { return stop_child_sig(c, SIGTERM); }

static int connect_to(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static void send_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        ck_assert_msg(n > 0, "send: %s", strerror(errno));
        p += n;
        len -= (size_t)n;
    }
}

static void send_str(int fd, const char *s) { send_all(fd, s, strlen(s)); }

/* Read into buf (NUL-ended) until EOF (return 1), or until stop returns
 * true on what is there (return 0); -1 past the time limit. */
static int read_until(int fd, char *buf, size_t cap, size_t *len,
                      int (*stop)(const char *buf, size_t len, const void *arg), const void *arg)
{
    double deadline = now_s() + 30 * slow();
    for (;;) {
        buf[*len] = 0;
        if (stop && stop(buf, *len, arg))
            return 0;
        int left = (int)((deadline - now_s()) * 1000);
        struct pollfd p = {fd, POLLIN, 0};
        if (left <= 0 || poll(&p, 1, left) != 1)
            return -1;
        ssize_t n = read(fd, buf + *len, cap - 1 - *len);
        if (n < 0 && errno == ECONNRESET)
            n = 0;
        ck_assert_int_ge(n, 0);
        if (n == 0)
            return 1;
        *len += (size_t)n;
        ck_assert_msg(*len < cap - 1, "reply too long");
    }
}

static int has_text(const char *buf, size_t len, const void *arg)
{
    (void)len;
    return strstr(buf, arg) != NULL;
}

/* Complete responses with Content-Length bodies in buf: how many. */
static int count_responses(const char *buf, size_t len)
{
    int n = 0;
    const char *p = buf, *end = buf + len;
    for (;;) {
        const char *he = strstr(p, "\r\n\r\n");
        if (!he)
            return n;
        const char *cl = strcasestr(p, "\r\nContent-Length: ");
        long body = cl && cl < he ? atol(cl + 18) : 0;
        if (he + 4 + body > end)
            return n;
        n++;
        p = he + 4 + body;
        if (p >= end)
            return n;
    }
}

static int has_responses(const char *buf, size_t len, const void *arg)
{
    return count_responses(buf, len) >= *(const int *)arg;
}

/* Send req on a new connection, read n responses (or to EOF when n is
 * 0) into buf.  Returns 1 when the server closed, else 0. */
static int exchange(int port, const char *req, int n, char *buf, size_t cap)
{
    int fd = connect_to(port);
    send_str(fd, req);
    size_t len = 0;
    int rc = read_until(fd, buf, cap, &len, n ? has_responses : NULL, &n);
    ck_assert_msg(rc >= 0, "no reply to %.60s (got %s)", req, buf);
    if (rc == 0) {
        /* see whether it closes: only what was asked is read */
        close(fd);
        return 0;
    }
    close(fd);
    return 1;
}

/* ------------------------------------------------------ the test server */

typedef struct detach_job {
    swco_server_t *srv;
    long long fd;
} detach_job_t;

static void finish_detached(void *arg)
{
    detach_job_t *j = arg;
    swco_sleep(0.01); /* the handler has returned by now or not: either works */
    swco_http_response_t *r = swco_http_response_create(j->srv, j->fd);
    if (r) {
        swco_http_response_header(r, "X-Detached", "1");
        swco_http_response_end(r, "detached", 8);
        swco_http_response_free(r);
    }
    free(j);
}

static void handler(swco_server_t *srv, swco_http_request_t *req, swco_http_response_t *resp,
                    void *arg)
{
    (void)arg;
    const char *path = swco_http_request_path(req);
    char out[2048];
    int n;
    if (!strcmp(path, "/fd")) {
        n = snprintf(out, sizeof out, "fd=%lld path=%s", swco_http_request_fd(req), path);
    } else if (!strcmp(path, "/echo")) {
        char buf[16384];
        long r;
        unsigned long long total = 0, sum = 0;
        while ((r = swco_http_request_read(req, buf, sizeof buf, 0)) > 0) {
            total += (unsigned long long)r;
            for (long i = 0; i < r; i++)
                sum = sum * 31 + (unsigned char)buf[i];
        }
        n = snprintf(out, sizeof out, "len=%llu sum=%llu rc=%ld cl=%lld", total, sum, r,
                     swco_http_request_content_length(req));
    } else if (!strcmp(path, "/info")) {
        const char *h = swco_http_request_param(req, SWCO_HTTP_HEADER, "x-test");
        const char *a = swco_http_request_param(req, SWCO_HTTP_GET, "a");
        const char *b = swco_http_request_param(req, SWCO_HTTP_GET, "b");
        const char *ck = swco_http_request_param(req, SWCO_HTTP_COOKIE, "c1");
        n = snprintf(out, sizeof out,
                     "method=%s uri=%s path=%s query=%s a=%s b=%s x-test=%s c1=%s v=%d "
                     "addr=%s port=%d headers=%zu",
                     swco_http_request_method(req), swco_http_request_uri(req), path,
                     swco_http_request_query_string(req), a ? a : "-", b ? b : "-",
                     h ? h : "-", ck ? ck : "-", swco_http_request_version(req),
                     swco_http_request_remote_addr(req), swco_http_request_remote_port(req) > 0,
                     swco_http_request_param_count(req, SWCO_HTTP_HEADER));
    } else if (!strcmp(path, "/stream")) {
        swco_http_response_header(resp, "Content-Type", "text/plain");
        swco_http_response_trailer(resp, "X-Checksum", "abc123");
        swco_http_response_write(resp, "part1,", 6);
        swco_http_response_write(resp, "part2,", 6);
        swco_http_response_end(resp, "end", 3);
        return;
    } else if (!strcmp(path, "/cookie")) {
        int rc = swco_http_response_cookie(resp, "sid", "a b;c", 784111777, 3600, "/p",
                                           "example.com", "Lax",
                                           SWCO_HTTP_COOKIE_SECURE | SWCO_HTTP_COOKIE_HTTPONLY);
        int rc2 = swco_http_response_cookie(resp, "raw", "x=y", 0, -1, NULL, NULL, NULL,
                                            SWCO_HTTP_COOKIE_RAW | SWCO_HTTP_COOKIE_PARTITIONED);
        int rc3 = swco_http_response_cookie(resp, "bad", "v", 0, -1, NULL, NULL, "Sometimes", 0);
        int rc4 = swco_http_response_cookie(resp, "b d", "v", 0, -1, NULL, NULL, NULL, 0);
        n = snprintf(out, sizeof out, "%d %d %d %d", rc, rc2, rc3, rc4);
    } else if (!strcmp(path, "/inject")) {
        int r1 = swco_http_response_header(resp, "X-A", "1\r\nX-Evil: 1");
        int r2 = swco_http_response_header(resp, "X-B\r\nX-Evil", "1");
        int r3 = swco_http_response_header(resp, "X-C", "ok");
        int r4 = swco_http_response_status(resp, 42, NULL);
        n = snprintf(out, sizeof out, "%d %d %d %d", r1, r2, r3, r4);
    } else if (!strcmp(path, "/yield")) {
        swco_sleep(0.02);
        n = snprintf(out, sizeof out, "yielded");
    } else if (!strcmp(path, "/detach")) {
        detach_job_t *j = malloc(sizeof *j);
        j->srv = srv;
        j->fd = swco_http_request_fd(req);
        ck_assert_int_eq(swco_http_response_detach(resp), 0);
        swco_coroutine_create(finish_detached, j);
        return;
    } else if (!strcmp(path, "/status")) {
        swco_http_response_status(resp, 418, NULL);
        n = snprintf(out, sizeof out, "teapot");
    } else if (!strcmp(path, "/redirect")) {
        swco_http_response_redirect(resp, "/elsewhere", 0);
        return;
    } else if (!strcmp(path, "/noend")) {
        swco_http_response_status(resp, 204, NULL);
        return; /* ended for it */
    } else if (!strcmp(path, "/shutdown")) {
        n = snprintf(out, sizeof out, "bye %d", swco_server_shutdown(srv));
    } else if (!strcmp(path, "/unread")) {
        n = snprintf(out, sizeof out, "unread");
    } else {
        swco_http_response_header(resp, "Content-Type", "text/plain");
        swco_http_response_end(resp, "Hello, World!", 13);
        return;
    }
    swco_http_response_end(resp, out, (size_t)n);
}

static swco_server_t *http_server(void)
{
    swco_server_t *srv = swco_http_server_new("127.0.0.1", 0, SWCO_SERVER_BASE, SWCO_SOCK_TCP);
    ck_assert_ptr_nonnull(srv);
    ck_assert_int_eq(swco_server_set(srv, "worker_num", "1"), 0);
    ck_assert_int_eq(swco_http_on_request(srv, handler, NULL, NULL), 0);
    return srv;
}

static void set_ok(swco_server_t *srv, const char *name, const char *value)
{
    ck_assert_msg(swco_server_set(srv, name, value) == 0, "set %s=%s", name, value);
}

static void set_seconds(swco_server_t *srv, const char *name, double s)
{
    char v[32];
    snprintf(v, sizeof v, "%g", s * slow());
    set_ok(srv, name, v);
}

/* ------------------------------------------------------------------ tests */

START_TEST(test_api_errors)
{
    ck_assert_int_eq(swco_http_on_request(NULL, handler, NULL, NULL), -EINVAL);
    swco_server_t *srv = http_server();
    ck_assert_int_eq(swco_http_listener_on_request(srv, 1, handler, NULL, NULL), -EINVAL);
    ck_assert_int_eq(swco_http_listener_on_request(srv, 0, handler, NULL, NULL), 0);
    ck_assert_ptr_null(swco_http_response_create(srv, 12345));
    ck_assert_ptr_null(swco_http_request_method(NULL));
    swco_server_free(srv);
    /* an HTTP listener without a handler cannot start */
    srv = swco_http_server_new("127.0.0.1", 0, SWCO_SERVER_BASE, SWCO_SOCK_TCP);
    ck_assert_ptr_nonnull(srv);
    ck_assert_int_eq(swco_server_start(srv), -EINVAL);
    swco_server_free(srv);
}
END_TEST

START_TEST(test_curl_keepalive)
{
    if (!have_peer("curl"))
        return;
    child_t c = start_child(http_server());
    char u1[64], u2[64], out[4096];
    snprintf(u1, sizeof u1, "http://127.0.0.1:%d/fd", c.port);
    snprintf(u2, sizeof u2, "http://127.0.0.1:%d/fd?x", c.port);
    char *argv[] = {"curl", "-sS", u1, "-w", "\\n", u2, NULL};
    ck_assert_int_eq(run_cmd(argv, out, sizeof out), 0);
    /* both answers from one connection */
    long long fd1 = -1, fd2 = -2;
    ck_assert_int_eq(sscanf(out, "fd=%lld path=/fd\nfd=%lld path=/fd", &fd1, &fd2), 2);
    ck_assert_int_eq(fd1, fd2);
    /* the plain hello */
    snprintf(u1, sizeof u1, "http://127.0.0.1:%d/", c.port);
    char *argv2[] = {"curl", "-sS", "-i", u1, NULL};
    ck_assert_int_eq(run_cmd(argv2, out, sizeof out), 0);
    ck_assert_msg(strstr(out, "HTTP/1.1 200 OK\r\n") == out, "%s", out);
    ck_assert_ptr_nonnull(strstr(out, "\r\nContent-Length: 13\r\n"));
    ck_assert_ptr_nonnull(strstr(out, "\r\nContent-Type: text/plain\r\n"));
    ck_assert_ptr_nonnull(strstr(out, "\r\nDate: "));
    ck_assert_ptr_nonnull(strstr(out, " GMT\r\n"));
    ck_assert_ptr_nonnull(strstr(out, "\r\n\r\nHello, World!"));
    ck_assert_int_eq(stop_child(&c), 0);
}
END_TEST

START_TEST(test_curl_chunked_upload)
{
    if (!have_peer("curl"))
        return;
    swco_server_t *srv = http_server();
    set_ok(srv, "package_max_length", "8000000");
    child_t c = start_child(srv);
    char path[] = "/tmp/check_http_upXXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    unsigned long long sum = 0;
    size_t total = 3 * 1000 * 1000 + 7;
    char *data = malloc(total);
    for (size_t i = 0; i < total; i++) {
        data[i] = (char)(i * 7 + i / 1000);
        sum = sum * 31 + (unsigned char)data[i];
    }
    ck_assert_int_eq(write(fd, data, total), (ssize_t)total);
    close(fd);
    free(data);
    char url[64], at[64], out[1024], want[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/echo", c.port);
    snprintf(at, sizeof at, "@%s", path);
    snprintf(want, sizeof want, "len=%zu sum=%llu rc=0 cl=-1", total, sum);
    char *argv[] = {"curl", "-sS", "-H", "Transfer-Encoding: chunked", "--data-binary", at, url,
                    NULL};
    ck_assert_int_eq(run_cmd(argv, out, sizeof out), 0);
    ck_assert_str_eq(out, want);
    /* and with a Content-Length */
    snprintf(want, sizeof want, "len=%zu sum=%llu rc=0 cl=%zu", total, sum, total);
    char *argv2[] = {"curl", "-sS", "--data-binary", at, url, NULL};
    ck_assert_int_eq(run_cmd(argv2, out, sizeof out), 0);
    ck_assert_str_eq(out, want);
    /* Expect: 100-continue: curl waits for the 100 (up to 60 s) before the body */
    char *argv3[] = {"curl", "-sS", "--expect100-timeout", "60", "-H", "Expect: 100-continue",
                     "-w", " %{http_code}", "--data-binary", at, url, NULL};
    ck_assert_int_eq(run_cmd(argv3, out, sizeof out), 0);
    strcat(want, " 200");
    ck_assert_str_eq(out, want);
    unlink(path);
    ck_assert_int_eq(stop_child(&c), 0);
}
END_TEST

START_TEST(test_curl_http10_and_head)
{
    if (!have_peer("curl"))
        return;
    child_t c = start_child(http_server());
    char url[64], out[4096];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", c.port);
    char *argv[] = {"curl", "-sS", "-i", "--http1.0", url, NULL};
    ck_assert_int_eq(run_cmd(argv, out, sizeof out), 0);
    ck_assert_msg(strstr(out, "HTTP/1.1 200 OK\r\n") == out, "%s", out);
    ck_assert_ptr_nonnull(strstr(out, "\r\nConnection: close\r\n"));
    ck_assert_ptr_nonnull(strstr(out, "\r\n\r\nHello, World!"));
    /* HEAD: the length a GET would have, no body */
    char *argv2[] = {"curl", "-sS", "-I", url, NULL};
    ck_assert_int_eq(run_cmd(argv2, out, sizeof out), 0);
    ck_assert_msg(strstr(out, "HTTP/1.1 200 OK\r\n") == out, "%s", out);
    ck_assert_ptr_nonnull(strstr(out, "\r\nContent-Length: 13\r\n"));
    ck_assert_ptr_null(strstr(out, "Hello"));
    /* a streamed response: chunked, with its trailer */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/stream", c.port);
    char *argv3[] = {"curl", "-sS", "--raw", "-i", url, NULL};
    ck_assert_int_eq(run_cmd(argv3, out, sizeof out), 0);
    ck_assert_ptr_nonnull(strstr(out, "\r\nTransfer-Encoding: chunked\r\n"));
    ck_assert_ptr_nonnull(strstr(out, "\r\nTrailer: X-Checksum\r\n"));
    ck_assert_msg(strstr(out, "\r\n\r\n6\r\npart1,\r\n6\r\npart2,\r\n3\r\nend\r\n0\r\n"
                              "X-Checksum: abc123\r\n\r\n") != NULL,
                  "%s", out);
    /* HTTP/1.0 and a streamed body: no chunks, the body ends with the connection */
    char *argv4[] = {"curl", "-sS", "--http1.0", url, NULL};
    ck_assert_int_eq(run_cmd(argv4, out, sizeof out), 0);
    ck_assert_str_eq(out, "part1,part2,end");
    ck_assert_int_eq(stop_child(&c), 0);
}
END_TEST

START_TEST(test_python_http_client)
{
    if (!have_peer("python3"))
        return;
    child_t c = start_child(http_server());
    static const char *script =
        "import http.client,sys\n"
        "c=http.client.HTTPConnection('127.0.0.1',int(sys.argv[1]))\n"
        "c.request('GET','/info?a=1&b=x%20y+z',headers={'X-Test':'hello','Cookie':'c1=v1; c2=v2'})\n"
        "r=c.getresponse(); print(r.status, r.read().decode())\n"
        "c.request('POST','/echo',body=b'abc')\n"
        "r=c.getresponse(); print(r.status, r.read().decode())\n"
        "c.request('GET','/cookie')\n"
        "r=c.getresponse(); print(r.read().decode())\n"
        "for v in r.msg.get_all('Set-Cookie'): print(v)\n"
        "c.request('GET','/inject')\n"
        "r=c.getresponse(); print(r.status, r.getheader('X-C'), r.getheader('X-Evil'), r.read().decode())\n"
        "c.request('GET','/status')\n"
        "r=c.getresponse(); print(r.status, r.reason, r.read().decode())\n"
        "c.request('GET','/redirect')\n"
        "r=c.getresponse(); print(r.status, r.getheader('Location'), len(r.read()))\n"
        "c.request('GET','/noend')\n"
        "r=c.getresponse(); print(r.status, len(r.read()))\n"
        "c.request('GET','/detach')\n"
        "r=c.getresponse(); print(r.status, r.getheader('X-Detached'), r.read().decode())\n"
        "c.request('GET','/fd')\n"
        "r=c.getresponse(); print(r.status, r.read().decode()[:3])\n";
    char out[8192];
    ck_assert_int_eq(python(script, c.ports, out, sizeof out), 0);
    const char *want[] = {
        "200 method=GET uri=/info?a=1&b=x%20y+z path=/info query=a=1&b=x%20y+z a=1 b=x y z "
        "x-test=hello c1=v1 v=11 addr=127.0.0.1 port=1 headers=",
        "200 len=3 sum=",
        "\n0 0 -22 -22\n",
        "sid=a%20b%3Bc; Expires=Sun, 06 Nov 1994 08:49:37 GMT; Max-Age=3600; Domain=example.com; "
        "Path=/p; Secure; HttpOnly; SameSite=Lax\n",
        "raw=x=y; Partitioned\n",
        "200 ok None -22 -22 0 -22\n",
        "418 I'm a teapot teapot\n",
        "302 /elsewhere 0\n",
        "204 0\n",
        "200 1 detached\n",
        "200 fd=\n",
    };
    const char *p = out;
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        const char *at = strstr(p, want[i]);
        ck_assert_msg(at != NULL, "missing %s in:\n%s", want[i], out);
        p = at + strlen(want[i]);
    }
    ck_assert_int_eq(stop_child(&c), 0);
}
END_TEST

START_TEST(test_pipelining_in_order)
{
    child_t c = start_child(http_server());
    char buf[8192];
    /* three requests in one write; the first handler waits a little, the
     * answers still come in order */
    exchange(c.port,
             "GET /yield HTTP/1.1\r\nHost: a\r\n\r\n"
             "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"
             "GET /fd HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
             0, buf, sizeof buf);
    ck_assert_int_eq(count_responses(buf, strlen(buf)), 3);
    const char *a = strstr(buf, "yielded"), *b = strstr(buf, "len=5 "),
               *d = strstr(buf, "fd=");
    ck_assert_msg(a && b && d && a < b && b < d, "out of order:\n%s", buf);
    ck_assert_ptr_nonnull(strstr(buf, "Connection: close\r\n"));
    /* a detached request holds the next one back until it is answered */
    exchange(c.port,
             "GET /detach HTTP/1.1\r\nHost: a\r\n\r\n"
             "GET /fd HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
             0, buf, sizeof buf);
    a = strstr(buf, "detached");
    b = strstr(buf, "fd=");
    ck_assert_msg(a && b && a < b, "out of order:\n%s", buf);
    /* a body the handler did not read is skipped, the next request served */
    int two = 2;
    int fd = connect_to(c.port);
    send_str(fd, "POST /unread HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n01234");
    size_t len = 0;
    int one = 1;
    ck_assert_int_eq(read_until(fd, buf, sizeof buf, &len, has_responses, &one), 0);
    send_str(fd, "56789GET /fd HTTP/1.1\r\nHost: a\r\n\r\n");
    ck_assert_int_eq(read_until(fd, buf, sizeof buf, &len, has_responses, &two), 0);
    ck_assert_ptr_nonnull(strstr(buf, "fd="));
    close(fd);
    ck_assert_int_eq(stop_child(&c), 0);
}
END_TEST

START_TEST(test_expect_continue_raw)
{
    child_t c = start_child(http_server());
    int fd = connect_to(c.port);
    char buf[4096];
    size_t len = 0;
    send_str(fd, "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n"
                 "Expect: 100-continue\r\n\r\n");
    /* the 100 comes before any body byte was sent */
    ck_assert_int_eq(read_until(fd, buf, sizeof buf, &len, has_text, "\r\n\r\n"), 0);
    ck_assert_str_eq(buf, "HTTP/1.1 100 Continue\r\n\r\n");
    send_str(fd, "body");
    int one = 1;
    len = 0;
    ck_assert_int_eq(read_until(fd, buf, sizeof buf, &len, has_responses, &one), 0);
    ck_assert_msg(strstr(buf, "HTTP/1.1 200 OK\r\n") == buf, "%s", buf);
    ck_assert_ptr_nonnull(strstr(buf, "len=4 "));
    close(fd);
    /* a handler that does not read: no 100, an answer, and the connection closes */
    fd = connect_to(c.port);
    send_str(fd, "POST /unread HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n"
                 "Expect: 100-continue\r\n\r\n");
    len = 0;
    ck_assert_int_eq(read_until(fd, buf, sizeof buf, &len, NULL, NULL), 1);
    ck_assert_msg(strstr(buf, "HTTP/1.1 200 OK\r\n") == buf, "%s", buf);
    ck_assert_ptr_nonnull(strstr(buf, "unread"));
    close(fd);
    ck_assert_int_eq(stop_child(&c), 0);
}
END_TEST

/* Each bad request: its status line, Connection: close, the connection
 * closed, and the worker still serving. */
static const struct refusal {
    const char *req;
    const char *status;
} refusals[] = {
    {"GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", "400"},                /* obs-fold */
    {"GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", "400"},                   /* bare CR */
    {"GET / HTTP/1.1\nHost: a\r\n\r\n", "400"},                                /* bare LF */
    {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
     "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "400"},                    /* CL + TE */
    {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", "400"},
    {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc", "400"},
    {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\nabc", "400"},
    {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\nabc", "400"},
    {"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "400"},
    {"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
     "ffffffffffffffffffff\r\n", "400"},
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", "400"},
    {"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "400"},
    {"GET / HTTP/1.1\r\nHost: a\r\nX : a\r\n\r\n", "400"},
    {"GET / HTTP/1.1\r\n\r\n", "400"}, /* no Host */
    {"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", "400"},
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", "501"},
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", "501"},
    {"GET / HTTP/1.2\r\nHost: a\r\n\r\n", "505"},
    {"GET / HTTP/2.0\r\nHost: a\r\n\r\n", "505"},
    {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1000001\r\n\r\n", "413"},
};

START_TEST(test_refusals)
{
    swco_server_t *srv = http_server();
    set_ok(srv, "package_max_length", "1000000");
    set_ok(srv, "http_max_uri_length", "256");
    set_ok(srv, "http_max_header_size", "1024");
    child_t c = start_child(srv);
    char buf[8192];
    for (size_t i = 0; i < sizeof refusals / sizeof *refusals + 3; i++) {
        char big[4096];
        const char *req, *status;
        if (i < sizeof refusals / sizeof *refusals) {
            req = refusals[i].req;
            status = refusals[i].status;
        } else if (i == sizeof refusals / sizeof *refusals) {
            /* URI past http_max_uri_length */
            snprintf(big, sizeof big, "GET /%0300d HTTP/1.1\r\nHost: a\r\n\r\n", 0);
            req = big;
            status = "414";
        } else if (i == sizeof refusals / sizeof *refusals + 1) {
            /* headers past http_max_header_size */
            int n = snprintf(big, sizeof big, "GET / HTTP/1.1\r\nHost: a\r\n");
            for (int k = 0; k < 30; k++)
                n += snprintf(big + n, sizeof big - (size_t)n, "X-%d: %040d\r\n", k, k);
            snprintf(big + n, sizeof big - (size_t)n, "\r\n");
            req = big;
            status = "431";
        } else {
            /* a chunked body past package_max_length: half a MiB of chunk
             * data, then more */
            snprintf(big, sizeof big,
                     "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
            int fd = connect_to(c.port);
            send_str(fd, big);
            char *chunk = calloc(1, 0x80000);
            send_all(fd, "80000\r\n", 7);
            send_all(fd, chunk, 0x80000);
            send_all(fd, "\r\n80000\r\n", 9);
            for (int k = 0; k < 8; k++)
                if (send(fd, chunk, 0x10000, MSG_NOSIGNAL) < 0)
                    break; /* refused and closed already */
            free(chunk);
            size_t len = 0;
            ck_assert_int_eq(read_until(fd, buf, sizeof buf, &len, NULL, NULL), 1);
            ck_assert_msg(strncmp(buf, "HTTP/1.1 413 ", 13) == 0, "chunked past the limit: %s",
                          buf);
            close(fd);
            continue;
        }
        int closed = exchange(c.port, req, 0, buf, sizeof buf);
        char want[32];
        snprintf(want, sizeof want, "HTTP/1.1 %s ", status);
        ck_assert_msg(strncmp(buf, want, strlen(want)) == 0, "case %zu: want %s, got %s", i,
                      status, buf);
        ck_assert_msg(closed, "case %zu: not closed", i);
        ck_assert_msg(strstr(buf, "\r\nConnection: close\r\n") != NULL, "case %zu: %s", i, buf);
        /* the worker is unharmed */
        int one = 1;
        exchange(c.port, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", one, buf, sizeof buf);
        ck_assert_msg(strstr(buf, "Hello, World!") != NULL, "after case %zu: %s", i, buf);
    }
    ck_assert_int_eq(stop_child(&c), 0);
}
END_TEST

START_TEST(test_timeouts)
{
    swco_server_t *srv = http_server();
    set_seconds(srv, "http_header_timeout", 0.3);
    set_seconds(srv, "http_body_timeout", 0.3);
    set_seconds(srv, "http_keepalive_timeout", 0.3);
    child_t c = start_child(srv);
    char buf[4096];
    size_t len = 0;
    /* a head that never ends: 408 */
    int fd = connect_to(c.port);
    send_str(fd, "GET / HTTP/1.1\r\nHost: a\r\n");
    ck_assert_int_eq(read_until(fd, buf, sizeof buf, &len, NULL, NULL), 1);
    ck_assert_msg(strncmp(buf, "HTTP/1.1 408 ", 13) == 0, "%s", buf);
    close(fd);
    /* a body that stops coming while the handler reads: 408 */
    fd = connect_to(c.port);
    send_str(fd, "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc");
    len = 0;
    ck_assert_int_eq(read_until(fd, buf, sizeof buf, &len, NULL, NULL), 1);
    ck_assert_msg(strncmp(buf, "HTTP/1.1 408 ", 13) == 0, "%s", buf);
    close(fd);
    /* idle after a response: closed without a word */
    fd = connect_to(c.port);
    send_str(fd, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    len = 0;
    ck_assert_int_eq(read_until(fd, buf, sizeof buf, &len, NULL, NULL), 1);
    ck_assert_int_eq(count_responses(buf, len), 1);
    ck_assert_ptr_nonnull(strstr(buf, "Hello, World!"));
    close(fd);
    /* a connection that never sends: closed too */
    fd = connect_to(c.port);
    len = 0;
    ck_assert_int_eq(read_until(fd, buf, sizeof buf, &len, NULL, NULL), 1);
    ck_assert_uint_eq(len, 0);
    close(fd);
    ck_assert_int_eq(stop_child(&c), 0);
}
END_TEST

/* THREAD and PROCESS modes with two workers: keep-alive, pipelining and a
 * chunked upload reach the worker that owns the connection. */
static void run_mode(int mode)
{
    swco_server_t *srv = swco_http_server_new("127.0.0.1", 0, mode, SWCO_SOCK_TCP);
    ck_assert_ptr_nonnull(srv);
    set_ok(srv, "worker_num", "2");
    ck_assert_int_eq(swco_http_on_request(srv, handler, NULL, NULL), 0);
    child_t c = start_child(srv);
    /* the other worker's start too */
    struct pollfd p = {c.ready, POLLIN, 0};
    ck_assert_msg(poll(&p, 1, (int)(30000 * slow())) == 1, "second worker did not start");
    char b;
    ck_assert_int_eq(read(c.ready, &b, 1), 1);
    char buf[8192];
    for (int round = 0; round < 4; round++) {
        exchange(c.port,
                 "GET /yield HTTP/1.1\r\nHost: a\r\n\r\n"
                 "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
                 "GET /fd HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
                 0, buf, sizeof buf);
        const char *a = strstr(buf, "yielded"), *e = strstr(buf, "len=5 "),
                   *d = strstr(buf, "fd=");
        ck_assert_msg(a && e && d && a < e && e < d, "mode %d: %s", mode, buf);
    }
    if (have_peer("curl")) {
        char u1[64], u2[64], out[4096];
        snprintf(u1, sizeof u1, "http://127.0.0.1:%d/fd", c.port);
        snprintf(u2, sizeof u2, "http://127.0.0.1:%d/fd?x", c.port);
        char *argv[] = {"curl", "-sS", u1, "-w", "\\n", u2, NULL};
        ck_assert_int_eq(run_cmd(argv, out, sizeof out), 0);
        long long fd1 = -1, fd2 = -2;
        ck_assert_int_eq(sscanf(out, "fd=%lld path=/fd\nfd=%lld path=/fd", &fd1, &fd2), 2);
        ck_assert_int_eq(fd1, fd2);
    }
    ck_assert_int_eq(stop_child(&c), 0);
}

START_TEST(test_thread_mode)
{
    run_mode(SWCO_SERVER_THREAD);
}
END_TEST

START_TEST(test_process_mode)
{
    run_mode(SWCO_SERVER_PROCESS);
}
END_TEST

/* A worker that is stopping answers with Connection: close and closes
 * keep-alive connections after the response. */
START_TEST(test_stopping_closes)
{
    child_t c = start_child(http_server());
    char buf[4096];
    int fd = connect_to(c.port);
    send_str(fd, "GET /fd HTTP/1.1\r\nHost: a\r\n\r\n");
    size_t len = 0;
    int one = 1;
    ck_assert_int_eq(read_until(fd, buf, sizeof buf, &len, has_responses, &one), 0);
    ck_assert_ptr_null(strstr(buf, "Connection: close"));
    send_str(fd, "GET /shutdown HTTP/1.1\r\nHost: a\r\n\r\n");
    len = 0;
    ck_assert_int_eq(read_until(fd, buf, sizeof buf, &len, NULL, NULL), 1);
    ck_assert_msg(strstr(buf, "\r\nConnection: close\r\n") != NULL, "%s", buf);
    ck_assert_ptr_nonnull(strstr(buf, "bye 0"));
    close(fd);
    ck_assert_int_eq(stop_child_sig(&c, 0), 0); /* it stops by itself */
}
END_TEST

static TCase *tcase(Suite *s, const char *name)
{
    TCase *tc = tcase_create(name);
    tcase_set_timeout(tc, 120);
    suite_add_tcase(s, tc);
    return tc;
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    Suite *s = suite_create("http");
    TCase *tc = tcase(s, "api");
    tcase_add_test(tc, test_api_errors);
    tc = tcase(s, "peers");
    tcase_add_test(tc, test_curl_keepalive);
    tcase_add_test(tc, test_curl_chunked_upload);
    tcase_add_test(tc, test_curl_http10_and_head);
    tcase_add_test(tc, test_python_http_client);
    tc = tcase(s, "raw");
    tcase_add_test(tc, test_pipelining_in_order);
    tcase_add_test(tc, test_expect_continue_raw);
    tcase_add_test(tc, test_refusals);
    tcase_add_test(tc, test_timeouts);
    tc = tcase(s, "modes");
    tcase_add_test(tc, test_thread_mode);
    tcase_add_test(tc, test_process_mode);
    tc = tcase(s, "stop");
    tcase_add_test(tc, test_stopping_closes);
    return run_suite(s);
}
