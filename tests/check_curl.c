/* swco_curl_perform against a coroutine HTTP server in a child process and
 * an openssl s_server for HTTPS. */
#include "testutil.h"
#include "httpd.h"

#include <sys/stat.h>

#include <nghttp2/nghttp2.h>
#include <swco/curl.h>
#include <swco/socket.h>

static int port;
static char url_base[64];

static void server_up(void)
{
    port = httpd_start();
    ck_assert_int_gt(port, 0);
    snprintf(url_base, sizeof url_base, "http://127.0.0.1:%d", port);
}

static void server_down(void) { httpd_stop(); }

static void suite_setup(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    server_up();
}

static void suite_teardown(void)
{
    server_down();
    curl_global_cleanup();
}

/* The response body, collected by the write callback. */
typedef struct body {
    char *data;
    size_t len;
    long cid;         /* coroutine the transfer was started in */
    int wrong_stack;  /* a callback ran elsewhere */
} body_t;

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
    body_t *b = arg;
    if (swco_coroutine_id() != b->cid)
        b->wrong_stack = 1;
    char *d = realloc(b->data, b->len + size * n + 1);
    if (!d)
        return 0;
    memcpy(d + b->len, p, size * n);
    b->data = d;
    b->len += size * n;
    d[b->len] = 0;
    return size * n;
}

static CURL *easy_for(const char *path, body_t *b)
{
    char url[256];
    snprintf(url, sizeof url, "%s%s", url_base, path);
    CURL *e = curl_easy_init();
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, b);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    b->cid = swco_coroutine_id();
    return e;
}

static void body_free(body_t *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

/* -------------------------------------------------------------- basic */

static void get_hello(void *arg)
{
    body_t b = {0};
    CURL *e = easy_for("/hello", &b);
    ck_assert_int_eq(swco_curl_perform(e), CURLE_OK);
    long code = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
    ck_assert_int_eq(code, 200);
    ck_assert_str_eq(b.data, "hello");
    ck_assert_int_eq(b.wrong_stack, 0);
    curl_easy_cleanup(e);
    body_free(&b);
}

START_TEST(get_in_coroutine)
{
    ck_assert_int_eq(swco_run(get_hello, NULL), 0);
    swco_curl_cleanup();
}
END_TEST

START_TEST(get_outside_coroutine)
{
    get_hello(NULL); /* plain curl_easy_perform */
}
END_TEST

/* ---------------------------------------------------- concurrency */

static int done_ok;

static void get_delay(void *arg)
{
    body_t b = {0};
    CURL *e = easy_for((const char *)arg, &b);
    if (swco_curl_perform(e) == CURLE_OK && b.len == 4 && !b.wrong_stack)
        done_ok++;
    curl_easy_cleanup(e);
    body_free(&b);
}

/* The server answers /gate/200 only once 200 such requests are in at the
 * same time ("alone" after 60 s otherwise, which get_delay does not count):
 * all transfers succeed only if they ran 200 (or all n < 200) at a time. */
static void spawn_n(void *arg)
{
    int n = *(int *)arg;
    static char path[32];
    snprintf(path, sizeof path, "/gate/%d", n < 200 ? n : 200);
    for (int i = 0; i < n; i++)
        ck_assert_int_gt(swco_coroutine_create(get_delay, path), 0);
}

START_TEST(concurrent_200)
{
    int n = 200;
    done_ok = 0;
    double t0 = now_s();
    ck_assert_int_eq(swco_run(spawn_n, &n), 0);
    double dt = now_s() - t0;
    ck_assert_int_eq(done_ok, n);
    fprintf(stderr, "curl: 200 GETs meeting at a barrier in %.3f s\n", dt);
    swco_curl_cleanup();
}
END_TEST

START_TEST(concurrent_1000)
{
    int n = 1000;
    done_ok = 0;
    double t0 = now_s();
    ck_assert_int_eq(swco_run(spawn_n, &n), 0);
    double dt = now_s() - t0;
    ck_assert_int_eq(done_ok, n);
    fprintf(stderr, "curl: 1000 GETs meeting 200 at a time in %.3f s\n", dt);
    swco_curl_cleanup();
}
END_TEST

/* ------------------------------------ write callback doing coroutine I/O */

typedef struct pipe_sink {
    int wfd;
    long cid;
    size_t written;
    int waits;
    int wrong_stack;
} pipe_sink_t;

static size_t to_pipe(char *p, size_t size, size_t n, void *arg)
{
    pipe_sink_t *s = arg;
    if (swco_coroutine_id() != s->cid)
        s->wrong_stack = 1;
    size_t len = size * n, off = 0;
    while (off < len) {
        ssize_t w = write(s->wfd, p + off, len - off);
        if (w > 0) {
            off += (size_t)w;
            continue;
        }
        if (w < 0 && errno == EAGAIN) {
            s->waits++;
            if (swco_event_wait_fd(s->wfd, SWCO_EVENT_WRITE, 5) < 0)
                return 0;
            continue;
        }
        return 0;
    }
    s->written += len;
    return len;
}

typedef struct pipe_reader {
    int rfd;
    size_t got;
    int bad;
} pipe_reader_t;

static void read_pipe(void *arg)
{
    pipe_reader_t *r = arg;
    char buf[1024];
    for (;;) {
        ssize_t n = read(r->rfd, buf, sizeof buf);
        if (n > 0) {
            for (ssize_t i = 0; i < n; i++)
                if (buf[i] != (char)('a' + (r->got + (size_t)i) % 26))
                    r->bad = 1;
            r->got += (size_t)n;
            swco_sleep(0.0005); /* slower than the network: the pipe fills up */
            continue;
        }
        if (n == 0)
            break;
        if (errno != EAGAIN || swco_event_wait_fd(r->rfd, SWCO_EVENT_READ, 30 * slow()) < 0)
            break;
    }
    swco_event_del(r->rfd);
}

static void pipe_main(void *arg)
{
    int fds[2];
    ck_assert_int_eq(pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
    fcntl(fds[1], F_SETPIPE_SZ, 4096);
    pipe_reader_t r = {.rfd = fds[0]};
    swco_coroutine_create(read_pipe, &r);
    pipe_sink_t s = {.wfd = fds[1], .cid = swco_coroutine_id()};
    body_t unused = {0};
    CURL *e = easy_for("/big/300000", &unused);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, to_pipe);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &s);
    ck_assert_int_eq(swco_curl_perform(e), CURLE_OK);
    swco_event_del(fds[1]);
    close(fds[1]);
    curl_easy_cleanup(e);
    ck_assert_int_eq(s.written, 300000);
    ck_assert_int_gt(s.waits, 0);
    ck_assert_int_eq(s.wrong_stack, 0);
    /* let the reader drain */
    while (r.got < 300000 && swco_sleep(0.01) == 0)
        ;
    ck_assert_int_eq(r.got, 300000);
    ck_assert_int_eq(r.bad, 0);
    close(fds[0]);
}

START_TEST(write_callback_to_pipe)
{
    ck_assert_int_eq(swco_run(pipe_main, NULL), 0);
    swco_curl_cleanup();
}
END_TEST


/* The write callback sends each chunk over a coroutine TCP socket to a
 * reader that is slower than the network, so the sends wait. */
typedef struct sock_sink {
    swco_socket_t *s;
    long cid;
    size_t written;
    int wrong_stack;
} sock_sink_t;

static size_t to_socket(char *p, size_t size, size_t n, void *arg)
{
    sock_sink_t *k = arg;
    if (swco_coroutine_id() != k->cid)
        k->wrong_stack = 1;
    long w = swco_socket_send_all(k->s, p, size * n, 5);
    if (w != (long)(size * n))
        return 0;
    k->written += size * n;
    return size * n;
}

typedef struct sock_reader {
    swco_socket_t *listener;
    size_t got;
    int bad;
} sock_reader_t;

static void read_socket(void *arg)
{
    sock_reader_t *r = arg;
    swco_socket_t *c = swco_socket_accept(r->listener, 30 * slow());
    ck_assert_ptr_nonnull(c);
    char buf[2048];
    long n;
    while ((n = swco_socket_recv(c, buf, sizeof buf, 30 * slow())) > 0) {
        for (long i = 0; i < n; i++)
            if (buf[i] != (char)('a' + (r->got + (size_t)i) % 26))
                r->bad = 1;
        r->got += (size_t)n;
        swco_sleep(0.0005);
    }
    swco_socket_free(c);
}

static void socket_sink_main(void *arg)
{
    swco_socket_t *l = swco_socket_new(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_eq(swco_socket_bind(l, "127.0.0.1", 0), 0);
    ck_assert_int_eq(swco_socket_listen(l, 4), 0);
    char addr[64];
    int port = 0;
    ck_assert_int_eq(swco_socket_getsockname(l, addr, sizeof addr, &port), 0);
    sock_reader_t r = {.listener = l};
    swco_coroutine_create(read_socket, &r);
    sock_sink_t k = {.s = swco_socket_new(AF_INET, SOCK_STREAM, 0), .cid = swco_coroutine_id()};
    swco_socket_set_buffer_size(k.s, 4096, 4096);
    ck_assert_int_eq(swco_socket_connect(k.s, "127.0.0.1", port, 5), 0);
    body_t unused = {0};
    CURL *e = easy_for("/big/300000", &unused);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, to_socket);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &k);
    ck_assert_int_eq(swco_curl_perform(e), CURLE_OK);
    curl_easy_cleanup(e);
    ck_assert_int_eq(k.written, 300000);
    ck_assert_int_eq(k.wrong_stack, 0);
    swco_socket_free(k.s); /* the reader sees the end */
    while (r.got < 300000 && swco_sleep(0.01) == 0)
        ;
    ck_assert_int_eq(r.got, 300000);
    ck_assert_int_eq(r.bad, 0);
    swco_socket_free(l);
}

START_TEST(write_callback_to_socket)
{
    ck_assert_int_eq(swco_run(socket_sink_main, NULL), 0);
    swco_curl_cleanup();
}
END_TEST

/* While one transfer's write callback waits, others keep going. */
static void slow_sink_main(void *arg)
{
    int n = 20;
    done_ok = 0;
    swco_coroutine_create(pipe_main, NULL);
    spawn_n(&n);
}

START_TEST(callback_wait_does_not_block_others)
{
    ck_assert_int_eq(swco_run(slow_sink_main, NULL), 0);
    ck_assert_int_eq(done_ok, 20);
    swco_curl_cleanup();
}
END_TEST

/* -------------------------------------------------- reuse, errors */

static void reuse_main(void *arg)
{
    body_t b = {0};
    CURL *e = easy_for("/conn", &b);
    long nconn = -1;
    ck_assert_int_eq(swco_curl_perform(e), CURLE_OK);
    curl_easy_getinfo(e, CURLINFO_NUM_CONNECTS, &nconn);
    ck_assert_int_eq(nconn, 1);
    char first[32];
    snprintf(first, sizeof first, "%s", b.data);
    body_free(&b);
    b.cid = swco_coroutine_id();
    ck_assert_int_eq(swco_curl_perform(e), CURLE_OK);
    curl_easy_getinfo(e, CURLINFO_NUM_CONNECTS, &nconn);
    ck_assert_int_eq(nconn, 0);
    ck_assert_str_eq(b.data, first); /* the same server connection */
    curl_easy_cleanup(e);
    body_free(&b);
}

START_TEST(connection_reused)
{
    ck_assert_int_eq(swco_run(reuse_main, NULL), 0);
    swco_curl_cleanup();
}
END_TEST

static void timeout_main(void *arg)
{
    body_t b = {0};
    CURL *e = easy_for("/delay/60000", &b);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 200L);
    double t0 = now_s();
    ck_assert_int_eq(swco_curl_perform(e), CURLE_OPERATION_TIMEDOUT); /* not the 60 s answer */
    double dt = now_s() - t0;
    ck_assert_msg(dt > 0.15 && dt < 30 * slow(), "timeout after %.3f s", dt);
    curl_easy_cleanup(e);
    body_free(&b);
}

START_TEST(timeout)
{
    ck_assert_int_eq(swco_run(timeout_main, NULL), 0);
    swco_curl_cleanup();
}
END_TEST

static void refused_main(void *arg)
{
    int p;
    int fd = tcp_listen_any(&p);
    ck_assert_int_ge(fd, 0);
    close(fd); /* nothing listens on p now */
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", p);
    CURL *e = curl_easy_init();
    curl_easy_setopt(e, CURLOPT_URL, url);
    ck_assert_int_eq(swco_curl_perform(e), CURLE_COULDNT_CONNECT);
    curl_easy_cleanup(e);
}

START_TEST(refused)
{
    ck_assert_int_eq(swco_run(refused_main, NULL), 0);
    swco_curl_cleanup();
}
END_TEST

static CURL *shared_easy;
static CURLcode second_rc;
static int second_err, second_calls;

static void second_user(void *arg)
{
    second_rc = swco_curl_perform(shared_easy);
    second_err = swco_last_error();
    second_calls++;
}

static void busy_main(void *arg)
{
    body_t b = {0};
    second_calls = 0;
    shared_easy = easy_for("/delay/100", &b);
    swco_coroutine_create(second_user, NULL); /* runs until it would wait */
    /* no loop turn since: the first transfer cannot have ended */
    second_user(NULL);
    ck_assert_int_eq(second_rc, CURLE_FAILED_INIT);
    ck_assert_int_eq(second_err, -EBUSY);
    /* the first transfer goes on and ends */
    for (double t0 = now_s(); second_calls < 2 && now_s() - t0 < 30 * slow();)
        swco_sleep(0.01);
    ck_assert_int_eq(second_calls, 2);
    ck_assert_int_eq(second_rc, CURLE_OK);
    curl_easy_cleanup(shared_easy);
    ck_assert_str_eq(b.data, "late");
    body_free(&b);
}

START_TEST(handle_busy_in_other_coroutine)
{
    ck_assert_int_eq(swco_run(busy_main, NULL), 0);
    swco_curl_cleanup();
}
END_TEST

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
    body_t *b = arg;
    if (swco_coroutine_id() != b->cid)
        b->wrong_stack = 1;
    if (n * size > 8 && strncasecmp(p, "X-Echo: ", 8) == 0)
        b->len += 1000; /* marks that the header was seen */
    return size * n;
}

static void post_main(void *arg)
{
    body_t b = {0}, h = {0};
    CURL *e = easy_for("/echo", &b);
    h.cid = b.cid;
    struct curl_slist *hdrs = curl_slist_append(NULL, "X-Test: abc");
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, "payload=1");
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &h);
    ck_assert_int_eq(swco_curl_perform(e), CURLE_OK);
    ck_assert_str_eq(b.data, "payload=1");
    ck_assert_int_eq(h.len, 1000);
    ck_assert_int_eq(h.wrong_stack, 0);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(e);
    body_free(&b);

    e = easy_for("/redirect", &b);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
    ck_assert_int_eq(swco_curl_perform(e), CURLE_OK);
    ck_assert_str_eq(b.data, "hello");
    long redirects = 0;
    curl_easy_getinfo(e, CURLINFO_REDIRECT_COUNT, &redirects);
    ck_assert_int_eq(redirects, 1);
    curl_easy_cleanup(e);
    body_free(&b);
}

START_TEST(post_headers_redirect)
{
    ck_assert_int_eq(swco_run(post_main, NULL), 0);
    swco_curl_cleanup();
}
END_TEST


/* ------------------------------------------ proxy, read and progress */

static void proxy_main(void *arg)
{
    body_t b = {0};
    CURL *e = easy_for("/hello", &b);
    /* a host that does not exist: only the proxy (our server) can answer */
    curl_easy_setopt(e, CURLOPT_URL, "http://swco-test.invalid/hello");
    curl_easy_setopt(e, CURLOPT_PROXY, url_base);
    ck_assert_int_eq(swco_curl_perform(e), CURLE_OK);
    ck_assert_str_eq(b.data, "hello");
    curl_easy_cleanup(e);
    body_free(&b);
    e = easy_for("/proxied", &b);
    ck_assert_int_eq(swco_curl_perform(e), CURLE_OK);
    ck_assert_int_ge(atoi(b.data), 1);
    curl_easy_cleanup(e);
    body_free(&b);
}

START_TEST(through_proxy)
{
    ck_assert_int_eq(swco_run(proxy_main, NULL), 0);
    swco_curl_cleanup();
}
END_TEST

typedef struct upload {
    const char *data;
    size_t len, off;
    long cid;
    int wrong_stack;
    int progress_calls;
} upload_t;

static size_t read_cb(char *buf, size_t size, size_t n, void *arg)
{
    upload_t *u = arg;
    if (swco_coroutine_id() != u->cid)
        u->wrong_stack = 1;
    swco_sleep(0.001); /* a read callback may wait on coroutine I/O */
    size_t k = u->len - u->off < size * n ? u->len - u->off : size * n;
    if (k > 7)
        k = 7; /* several calls */
    memcpy(buf, u->data + u->off, k);
    u->off += k;
    return k;
}

static int progress_cb(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    upload_t *u = arg;
    if (swco_coroutine_id() != u->cid)
        u->wrong_stack = 1;
    u->progress_calls++;
    return 0;
}

static void upload_main(void *arg)
{
    body_t b = {0};
    CURL *e = easy_for("/echo", &b);
    upload_t u = {.data = "a body sent by a read callback", .cid = swco_coroutine_id()};
    u.len = strlen(u.data);
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)u.len);
    curl_easy_setopt(e, CURLOPT_READFUNCTION, read_cb);
    curl_easy_setopt(e, CURLOPT_READDATA, &u);
    curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, progress_cb);
    curl_easy_setopt(e, CURLOPT_XFERINFODATA, &u);
    ck_assert_int_eq(swco_curl_perform(e), CURLE_OK);
    ck_assert_str_eq(b.data, u.data);
    ck_assert_int_eq(u.wrong_stack, 0);
    ck_assert_int_gt(u.progress_calls, 0);
    curl_easy_cleanup(e);
    body_free(&b);
}

static void upload_many(void *arg)
{
    for (int i = 0; i < 10; i++)
        swco_coroutine_create(upload_main, NULL);
}

START_TEST(read_and_progress_callbacks)
{
    ck_assert_int_eq(swco_run(upload_many, NULL), 0);
    swco_curl_cleanup();
}
END_TEST

/* ---------------------------------------------------------- cancel */

static CURLcode cancel_rc;
static int cancel_err;

static void cancelled_get(void *arg)
{
    body_t b = {0};
    CURL *e = easy_for("/delay/60000", &b);
    cancel_rc = swco_curl_perform(e);
    cancel_err = swco_last_error();
    curl_easy_cleanup(e);
    body_free(&b);
}

static void cancel_main(void *arg)
{
    long cid = swco_coroutine_create(cancelled_get, NULL);
    swco_sleep(0.05);
    ck_assert_int_eq(swco_coroutine_cancel(cid), 0);
}

START_TEST(cancelled_transfer)
{
    double t0 = now_s();
    ck_assert_int_eq(swco_run(cancel_main, NULL), 0);
    ck_assert_double_lt(now_s() - t0, 30 * slow()); /* not the 60 s answer */
    ck_assert_int_eq(cancel_rc, CURLE_ABORTED_BY_CALLBACK);
    ck_assert_int_eq(cancel_err, -ECANCELED);
    swco_curl_cleanup();
}
END_TEST


/* ------------------------------------------------------------ HTTP/2 */

/* A cleartext HTTP/2 server (prior knowledge) on nghttp2, one coroutine per
 * connection, in a forked child.  Every stream gets "h2 <path>". */
typedef struct h2conn {
    int fd;
    nghttp2_session *s;
} h2conn_t;

typedef struct h2stream {
    char body[300];
    size_t len, off;
} h2stream_t;

static ssize_t h2_body(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len,
                       uint32_t *flags, nghttp2_data_source *src, void *arg)
{
    h2stream_t *st = src->ptr;
    size_t k = st->len - st->off < len ? st->len - st->off : len;
    memcpy(buf, st->body + st->off, k);
    st->off += k;
    if (st->off == st->len)
        *flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)k;
}

static int h2_begin(nghttp2_session *s, const nghttp2_frame *f, void *arg)
{
    if (f->hd.type == NGHTTP2_HEADERS && f->headers.cat == NGHTTP2_HCAT_REQUEST)
        nghttp2_session_set_stream_user_data(s, f->hd.stream_id, calloc(1, sizeof(h2stream_t)));
    return 0;
}

static int h2_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name, size_t nl,
                     const uint8_t *value, size_t vl, uint8_t flags, void *arg)
{
    h2stream_t *st = nghttp2_session_get_stream_user_data(s, f->hd.stream_id);
    if (st && nl == 5 && memcmp(name, ":path", 5) == 0)
        st->len = (size_t)snprintf(st->body, sizeof st->body, "h2 %.*s", (int)vl, value);
    return 0;
}

static int h2_frame(nghttp2_session *s, const nghttp2_frame *f, void *arg)
{
    if ((f->hd.type == NGHTTP2_HEADERS || f->hd.type == NGHTTP2_DATA) &&
        (f->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
        h2stream_t *st = nghttp2_session_get_stream_user_data(s, f->hd.stream_id);
        if (!st)
            return 0;
        nghttp2_nv hdr[] = {{(uint8_t *)":status", (uint8_t *)"200", 7, 3, NGHTTP2_NV_FLAG_NONE}};
        nghttp2_data_provider dp = {.source.ptr = st, .read_callback = h2_body};
        nghttp2_submit_response(s, f->hd.stream_id, hdr, 1, &dp);
    }
    return 0;
}

static int h2_close(nghttp2_session *s, int32_t id, uint32_t err, void *arg)
{
    free(nghttp2_session_get_stream_user_data(s, id));
    return 0;
}

static void h2_conn(void *arg)
{
    int fd = (int)(long)arg;
    nghttp2_session_callbacks *cb;
    nghttp2_session_callbacks_new(&cb);
    nghttp2_session_callbacks_set_on_begin_headers_callback(cb, h2_begin);
    nghttp2_session_callbacks_set_on_header_callback(cb, h2_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, h2_frame);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, h2_close);
    nghttp2_session *s;
    nghttp2_session_server_new(&s, cb, NULL);
    nghttp2_session_callbacks_del(cb);
    nghttp2_submit_settings(s, NGHTTP2_FLAG_NONE, NULL, 0);
    uint8_t buf[16384];
    while (nghttp2_session_want_read(s) || nghttp2_session_want_write(s)) {
        const uint8_t *out;
        ssize_t n;
        while ((n = nghttp2_session_mem_send(s, &out)) > 0)
            if (httpd_write_all(fd, (const char *)out, (size_t)n) < 0)
                goto done;
        int r = httpd_read_some(fd, (char *)buf, sizeof buf);
        if (r <= 0 || nghttp2_session_mem_recv(s, buf, (size_t)r) < 0)
            break;
    }
done:
    nghttp2_session_del(s);
    swco_event_del(fd);
    close(fd);
}

static int h2_lfd;

static void h2_main(void *arg)
{
    for (;;) {
        int fd = accept4(h2_lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0)
            swco_coroutine_create(h2_conn, (void *)(long)fd);
        else if (swco_event_wait_fd(h2_lfd, SWCO_EVENT_READ, -1) < 0)
            _exit(3);
    }
}

static int h2_ok;
static int h2_port;

static void h2_get(void *arg)
{
    body_t b = {.cid = swco_coroutine_id()};
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/two", h2_port);
    CURL *e = curl_easy_init();
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &b);
    /* One transfer per connection: libcurl 7.88 cannot reuse a prior-knowledge
     * HTTP/2 connection (curl issue 10634, fixed in 8.0), with or without
     * swco. */
    curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
    CURLcode rc = swco_curl_perform(e);
    long ver = 0;
    curl_easy_getinfo(e, CURLINFO_HTTP_VERSION, &ver);
    if (rc == CURLE_OK && ver == CURL_HTTP_VERSION_2_0 && b.data && strcmp(b.data, "h2 /two") == 0 &&
        !b.wrong_stack)
        h2_ok++;
    else
        fprintf(stderr, "h2: %s version %ld body %s\n", curl_easy_strerror(rc), ver,
                b.data ? b.data : "-");
    free(b.data);
    curl_easy_cleanup(e);
}

static void h2_clients(void *arg)
{
    for (int i = 0; i < 5; i++)
        swco_coroutine_create(h2_get, NULL);
}

START_TEST(http2_prior_knowledge)
{
    h2_lfd = tcp_listen_any(&h2_port);
    ck_assert_int_ge(h2_lfd, 0);
    pid_t pid = fork();
    if (pid == 0) {
        swco_run(h2_main, NULL);
        _exit(0);
    }
    close(h2_lfd);
    h2_ok = 0;
    int rc = swco_run(h2_clients, NULL);
    swco_curl_cleanup();
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    ck_assert_int_eq(rc, 0);
    ck_assert_int_eq(h2_ok, 5);
}
END_TEST

/* --------------------------------------------------------------- HTTPS */

static char tls_dir[64];
static pid_t tls_pid;
static int tls_port;

static int run_cmd(char *const argv[])
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

static void tls_start(void)
{
    snprintf(tls_dir, sizeof tls_dir, "/tmp/swco-tls-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tls_dir));
    char key[128], crt[128], acc[64];
    snprintf(key, sizeof key, "%s/key.pem", tls_dir);
    snprintf(crt, sizeof crt, "%s/cert.pem", tls_dir);
    char *gen[] = {"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                   "-out", crt, "-days", "1", "-subj", "/CN=localhost", "-addext",
                   "subjectAltName=IP:127.0.0.1,DNS:localhost", NULL};
    ck_assert_msg(run_cmd(gen) == 0, "openssl req failed (is openssl installed?)");
    int fd = tcp_listen_any(&tls_port);
    close(fd);
    snprintf(acc, sizeof acc, "127.0.0.1:%d", tls_port);
    tls_pid = fork();
    if (tls_pid == 0) {
        int dn = open("/dev/null", O_WRONLY);
        dup2(dn, 1);
        dup2(dn, 2);
        execlp("openssl", "openssl", "s_server", "-accept", acc, "-cert", crt, "-key", key,
               "-www", "-quiet", (char *)NULL);
        _exit(127);
    }
    /* wait until it accepts (a generous limit: 30 s and more) */
    for (int i = 0; i < 1500 * slow(); i++) {
        int c = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)tls_port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        int ok = connect(c, (struct sockaddr *)&a, sizeof a) == 0;
        close(c);
        if (ok)
            return;
        usleep(20000);
    }
    ck_abort_msg("openssl s_server did not start");
}

static void tls_stop(void)
{
    if (tls_pid > 0) {
        kill(tls_pid, SIGKILL);
        waitpid(tls_pid, NULL, 0);
        tls_pid = 0;
    }
    char path[128];
    snprintf(path, sizeof path, "%s/key.pem", tls_dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/cert.pem", tls_dir);
    unlink(path);
    rmdir(tls_dir);
}

static int https_ok;

static void https_get(void *arg)
{
    body_t b = {.cid = swco_coroutine_id()};
    char url[64], crt[128];
    snprintf(url, sizeof url, "https://127.0.0.1:%d/", tls_port);
    snprintf(crt, sizeof crt, "%s/cert.pem", tls_dir);
    CURL *e = curl_easy_init();
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_CAINFO, crt);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &b);
    CURLcode rc = swco_curl_perform(e);
    long code = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
    if (rc == CURLE_OK && code == 200 && b.data && strstr(b.data, "s_server") && !b.wrong_stack)
        https_ok++;
    else
        fprintf(stderr, "https: %s code %ld\n", curl_easy_strerror(rc), code);
    curl_easy_cleanup(e);
    body_free(&b);
}

static void https_main(void *arg)
{
    for (int i = 0; i < 3; i++)
        swco_coroutine_create(https_get, NULL);
}

START_TEST(https_with_test_ca)
{
    tls_start();
    https_ok = 0;
    ck_assert_int_eq(swco_run(https_main, NULL), 0);
    swco_curl_cleanup();
    tls_stop();
    ck_assert_int_eq(https_ok, 3);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("curl");
    TCase *tc = tcase_create("curl");
    tcase_add_unchecked_fixture(tc, suite_setup, suite_teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, get_in_coroutine);
    tcase_add_test(tc, get_outside_coroutine);
    tcase_add_test(tc, concurrent_200);
    tcase_add_test(tc, write_callback_to_pipe);
    tcase_add_test(tc, write_callback_to_socket);
    tcase_add_test(tc, callback_wait_does_not_block_others);
    tcase_add_test(tc, connection_reused);
    tcase_add_test(tc, timeout);
    tcase_add_test(tc, refused);
    tcase_add_test(tc, handle_busy_in_other_coroutine);
    tcase_add_test(tc, post_headers_redirect);
    tcase_add_test(tc, through_proxy);
    tcase_add_test(tc, read_and_progress_callbacks);
    tcase_add_test(tc, cancelled_transfer);
    tcase_add_test(tc, http2_prior_knowledge);
    tcase_add_test(tc, https_with_test_ca);
    tcase_add_test(tc, concurrent_1000);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
