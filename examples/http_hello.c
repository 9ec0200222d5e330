/* An HTTP/1.1 "Hello, World!" server on libswco's HTTP server: every
 * request is answered with 200 and the 13-byte body "Hello, World!", and
 * /ws upgrades to a WebSocket that echoes every message, until SIGTERM
 * stops the server gracefully.
 *
 *   http_hello [--mode base|process|thread] [--workers N] [--port P]
 *              [--host ADDR] [--page FILE] [--set NAME=VALUE]...
 *
 * --port 0 (the default) binds a free port.  The first line printed is
 * "listening on PORT", so a script can start the server and read where to
 * connect.  --page FILE serves FILE as text/html at "/" (the Chromium test
 * loads its page from there; every other path still says hello).  --set
 * passes any server or HTTP option by its Swoole name (for example --set
 * http_compression=0).  The exit status is 0 after a graceful stop, 1 when
 * the server could not start, 2 for a bad command line.
 *
 * The benchmarks (bench/bench_http.c) and tests/check-http-hello.sh run
 * this program. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <swco.h>
#include <swco/http.h>
#include <swco/websocket.h>

static const char hello[] = "Hello, World!";

/* The page served at "/" with --page, read once at start. */
static char *page;
static size_t page_len;

static void on_request(swco_server_t *srv, swco_http_request_t *req,
                       swco_http_response_t *resp, void *arg)
{
    (void)srv;
    (void)arg;
    /* A body is read and dropped (as nginx's `return` does), so that an
     * upload of any size ends in a response on an open keep-alive
     * connection instead of a close with the body left unread. */
    if (swco_http_request_content_length(req) != 0) {
        char buf[16384];
        while (swco_http_request_read(req, buf, sizeof buf, 0) > 0) {
        }
    }
    if (page && strcmp(swco_http_request_path(req), "/") == 0) {
        swco_http_response_header(resp, "Content-Type", "text/html; charset=utf-8");
        swco_http_response_end(resp, page, page_len);
        return;
    }
    swco_http_response_header(resp, "Content-Type", "text/plain");
    swco_http_response_end(resp, hello, sizeof hello - 1);
}

static int set(swco_server_t *srv, const char *name, const char *value)
{
    int err = swco_server_set(srv, name, value);
    if (err)
        fprintf(stderr, "%s=%s: %s\n", name, value, swco_strerror(err));
    return err;
}

/* Only /ws upgrades; any other path asked to upgrade gets 404. */
static int on_handshake(swco_server_t *srv, swco_http_request_t *req, swco_http_response_t *resp,
                        void *arg)
{
    (void)srv;
    (void)resp;
    (void)arg;
    return strcmp(swco_http_request_path(req), "/ws") == 0 ? 0 : 404;
}

/* Every message goes back as it came, text or binary. */
static void on_message(swco_server_t *srv, long long fd, int opcode, const char *data, size_t len,
                       void *arg)
{
    (void)arg;
    int err = swco_ws_push(srv, fd, data, len, opcode, 0);
    if (err && err != SWCO_ENOCONN) /* a client that reads nothing: let it go */
        swco_ws_disconnect(srv, fd, SWCO_WS_CLOSE_SERVER_ERROR, NULL);
}

/* /ws on the same listener, permessage-deflate offered to clients that
 * ask (browsers do). */
static int websocket_setup(swco_server_t *srv)
{
    int err = set(srv, "open_websocket_protocol", "1");
    if (!err)
        err = set(srv, "websocket_compression", "1");
    if (!err)
        err = swco_ws_on_handshake(srv, on_handshake, NULL, NULL);
    if (!err)
        err = swco_ws_on_message(srv, on_message, NULL, NULL);
    return err;
}

static int read_page(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return -1;
    }
    size_t cap = 0;
    for (;;) {
        if (page_len == cap) {
            char *p = realloc(page, cap = cap ? cap * 2 : 65536);
            if (!p) {
                fclose(f);
                return -1;
            }
            page = p;
        }
        size_t n = fread(page + page_len, 1, cap - page_len, f);
        if (n == 0)
            break;
        page_len += n;
    }
    int err = ferror(f);
    fclose(f);
    if (err)
        fprintf(stderr, "%s: read error\n", path);
    return err ? -1 : 0;
}

static int usage(const char *prog)
{
    fprintf(stderr,
            "usage: %s [--mode base|process|thread] [--workers N] [--port P] [--host ADDR]\n"
            "          [--page FILE] [--set NAME=VALUE]...\n",
            prog);
    return 2;
}

#define MAX_SETS 32

int main(int argc, char **argv)
{
    int mode = SWCO_SERVER_BASE, port = 0;
    const char *host = "127.0.0.1", *workers = NULL, *page_path = NULL;
    const char *names[MAX_SETS], *values[MAX_SETS];
    char *pairs[MAX_SETS];
    size_t nsets = 0;
    int rc = 2;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int more = argc - i - 1;
        if (strcmp(a, "--mode") == 0 && more >= 1) {
            const char *m = argv[++i];
            if (strcmp(m, "base") == 0)
                mode = SWCO_SERVER_BASE;
            else if (strcmp(m, "process") == 0)
                mode = SWCO_SERVER_PROCESS;
            else if (strcmp(m, "thread") == 0)
                mode = SWCO_SERVER_THREAD;
            else
                goto bad;
        } else if (strcmp(a, "--workers") == 0 && more >= 1) {
            workers = argv[++i];
        } else if (strcmp(a, "--port") == 0 && more >= 1) {
            char *end;
            long p = strtol(argv[++i], &end, 10);
            if (*end || end == argv[i] || p < 0 || p > 65535)
                goto bad;
            port = (int)p;
        } else if (strcmp(a, "--host") == 0 && more >= 1) {
            host = argv[++i];
        } else if (strcmp(a, "--page") == 0 && more >= 1) {
            page_path = argv[++i];
        } else if (strcmp(a, "--set") == 0 && more >= 1 && nsets < MAX_SETS) {
            char *eq = strchr(argv[++i], '=');
            if (!eq || eq == argv[i])
                goto bad;
            pairs[nsets] = strdup(argv[i]);
            if (!pairs[nsets])
                goto bad;
            pairs[nsets][eq - argv[i]] = 0;
            names[nsets] = pairs[nsets];
            values[nsets] = pairs[nsets] + (eq - argv[i]) + 1;
            nsets++;
        } else {
            goto bad;
        }
    }

    rc = 1;
    if (page_path && read_page(page_path) != 0)
        goto out;
    int type = strchr(host, ':') ? SWCO_SOCK_TCP6 : SWCO_SOCK_TCP;
    swco_server_t *srv = swco_http_server_new(host, port, mode, type);
    if (!srv) {
        fprintf(stderr, "%s:%d: %s\n", host, port, swco_strerror(swco_last_error()));
        goto out;
    }
    int err = 0;
    if (workers)
        err = set(srv, "worker_num", workers);
    if (!err)
        err = websocket_setup(srv);
    for (size_t i = 0; i < nsets && !err; i++)
        err = set(srv, names[i], values[i]);
    if (!err)
        err = swco_http_on_request(srv, on_request, NULL, NULL);
    if (err) {
        if (err < 0)
            fprintf(stderr, "setup: %s\n", swco_strerror(err));
        swco_server_free(srv);
        goto out;
    }

    printf("listening on %d\n", swco_server_listener_port(srv, 0));
    fflush(stdout);
    err = swco_server_start(srv);
    if (err)
        fprintf(stderr, "start: %s\n", swco_strerror(err));
    swco_server_free(srv);
    rc = err ? 1 : 0;
out:
    free(page);
    for (size_t i = 0; i < nsets; i++)
        free(pairs[i]);
    return rc;

bad:
    for (size_t i = 0; i < nsets; i++)
        free(pairs[i]);
    return usage(argv[0]);
}
