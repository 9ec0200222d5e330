/* A TCP echo server on libswco's server: every byte a client sends comes
 * back to it, until SIGTERM stops the server gracefully.
 *
 *   tcp_echo_server [--mode base|process|thread] [--workers N] [--port P]
 *                   [--host ADDR] [--ssl CERT KEY] [--set NAME=VALUE]...
 *
 * --port 0 (the default) binds a free port.  The first line printed is
 * "listening on PORT", so a script can start the server and read where to
 * connect.  --set passes any server option by its Swoole name (for example
 * --set enable_coroutine=0 or --set open_proxy_protocol=1).  The exit status
 * is 0 after a graceful stop, 1 when the server could not start, 2 for a
 * bad command line.
 *
 * The benchmarks (bench/bench_server.c) and tests/check-tcp-echo-server.sh
 * run this program. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <swco.h>

static void on_receive(swco_server_t *srv, long long fd, int reactor_id, const void *data,
                       size_t len, void *arg)
{
    (void)reactor_id;
    (void)arg;
    long n = swco_server_send(srv, fd, data, len);
    if (n < 0 && n != SWCO_ENOCONN) /* a client that reads nothing: let it go */
        swco_server_close(srv, fd, 1);
}

static int set(swco_server_t *srv, const char *name, const char *value)
{
    int err = swco_server_set(srv, name, value);
    if (err)
        fprintf(stderr, "%s=%s: %s\n", name, value, swco_strerror(err));
    return err;
}

static int usage(const char *prog)
{
    fprintf(stderr,
            "usage: %s [--mode base|process|thread] [--workers N] [--port P] [--host ADDR]\n"
            "          [--ssl CERT KEY] [--set NAME=VALUE]...\n",
            prog);
    return 2;
}

/* A command line's option settings, applied once the server exists. */
#define MAX_SETS 32

int main(int argc, char **argv)
{
    int mode = SWCO_SERVER_BASE, port = 0;
    const char *host = "127.0.0.1", *workers = NULL, *cert = NULL, *key = NULL;
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
        } else if (strcmp(a, "--ssl") == 0 && more >= 2) {
            cert = argv[++i];
            key = argv[++i];
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

    int type = strchr(host, ':') ? SWCO_SOCK_TCP6 : SWCO_SOCK_TCP;
    if (cert)
        type |= SWCO_SOCK_SSL;
    rc = 1;
    swco_server_t *srv = swco_server_new(host, port, mode, type);
    if (!srv) {
        fprintf(stderr, "%s:%d: %s\n", host, port, swco_strerror(swco_last_error()));
        goto out;
    }
    int err = 0;
    if (workers)
        err = set(srv, "worker_num", workers);
    if (!err && cert)
        err = set(srv, "ssl_cert_file", cert);
    if (!err && cert)
        err = set(srv, "ssl_key_file", key);
    /* A client that reads slowly holds its echo back instead of losing it. */
    if (!err)
        err = set(srv, "send_yield", "1");
    for (size_t i = 0; i < nsets && !err; i++)
        err = set(srv, names[i], values[i]);
    if (!err)
        err = swco_server_on_receive(srv, on_receive, NULL, NULL);
    if (err) {
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
    for (size_t i = 0; i < nsets; i++)
        free(pairs[i]);
    return rc;

bad:
    for (size_t i = 0; i < nsets; i++)
        free(pairs[i]);
    return usage(argv[0]);
}
