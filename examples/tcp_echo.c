/* A coroutine TCP echo server and a client in one thread.
 *
 *   server: accept on 127.0.0.1 (port chosen by the kernel), one coroutine
 *           per connection, lines framed by "\n";
 *   client: connect, send three lines, read the echoes.
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <swco.h>

static int port;

static void handle(void *arg)
{
    swco_socket_t *c = arg;
    const char *line;
    long n;
    swco_socket_set_package_eof(c, "\n", 1);
    while ((n = swco_socket_recv_packet(c, &line, 5)) > 0)
        swco_socket_send_all(c, line, (size_t)n, 5);
    swco_socket_free(c);
}

static void server(void *arg)
{
    swco_socket_t *ls = arg;
    swco_socket_t *c = swco_socket_accept(ls, 5);
    if (c)
        swco_coroutine_create(handle, c);
    swco_socket_free(ls);
}

static void client(void *arg)
{
    (void)arg;
    swco_socket_t *s = swco_socket_new(AF_INET, SOCK_STREAM, 0);
    if (swco_socket_connect(s, "127.0.0.1", port, 0) != 0) {
        fprintf(stderr, "connect: %s\n", swco_strerror(swco_last_error()));
        swco_socket_free(s);
        return;
    }
    const char *msg = "one\ntwo\nthree\n";
    swco_socket_send_all(s, msg, strlen(msg), 0);
    char buf[64] = {0};
    long n = swco_socket_recv_all(s, buf, strlen(msg), 1);
    printf("echoed %ld bytes: %s", n, buf);
    swco_socket_free(s);
}

static void run(void *arg)
{
    (void)arg;
    swco_socket_t *ls = swco_socket_new(AF_INET, SOCK_STREAM, 0);
    if (!ls || swco_socket_bind(ls, "127.0.0.1", 0) != 0 || swco_socket_listen(ls, 0) != 0 ||
        swco_socket_getsockname(ls, NULL, 0, &port) != 0) {
        fprintf(stderr, "listen: %s\n", swco_strerror(swco_last_error()));
        swco_socket_free(ls);
        return;
    }
    swco_coroutine_create(server, ls);
    swco_coroutine_create(client, NULL);
}

int main(void)
{
    return swco_run(run, NULL) == 0 ? 0 : 1;
}
