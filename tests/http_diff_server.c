/* The HTTP server of tests/check-http-diff.sh: answers every request it
 * accepts with 200 and the body "METHOD TARGET BODYLEN" (the method and
 * target as parsed, the body's decoded length as read), so the test can
 * compare what it parsed with what nginx parsed from the same bytes.
 *
 *   http_diff_server [PORT]   prints "listening on PORT" and serves until
 *                             SIGTERM (BASE mode, one worker). */
#include <stdio.h>
#include <stdlib.h>

#include <swco.h>

static void on_request(swco_server_t *srv, swco_http_request_t *req,
                       swco_http_response_t *resp, void *arg)
{
    (void)srv, (void)arg;
    char buf[16384];
    long long total = 0;
    long n;
    while ((n = swco_http_request_read(req, buf, sizeof buf, 0)) > 0)
        total += n;
    if (n < 0) {
        /* the body could not be read: the server answers that itself
         * (408, 413, 400); nothing to add */
        return;
    }
    char out[8192 + 64];
    int len = snprintf(out, sizeof out, "%s %s %lld", swco_http_request_method(req),
                       swco_http_request_uri(req), total);
    if (len > (int)sizeof out - 1)
        len = (int)sizeof out - 1;
    swco_http_response_header(resp, "Content-Type", "text/plain");
    swco_http_response_end(resp, out, (size_t)len);
}

int main(int argc, char **argv)
{
    int port = argc > 1 ? atoi(argv[1]) : 0;
    swco_server_t *srv = swco_http_server_new("127.0.0.1", port, SWCO_SERVER_BASE, SWCO_SOCK_TCP);
    if (!srv) {
        fprintf(stderr, "http_diff_server: %s\n", swco_strerror(swco_last_error()));
        return 1;
    }
    swco_server_set(srv, "worker_num", "1");
    swco_server_set(srv, "http_compression", "0");
    swco_http_on_request(srv, on_request, NULL, NULL);
    printf("listening on %d\n", swco_server_listener_port(srv, 0));
    fflush(stdout);
    int rc = swco_server_start(srv);
    swco_server_free(srv);
    return rc == 0 ? 0 : 1;
}
