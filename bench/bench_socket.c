/* Socket benchmarks over loopback, one thread:
 *   - TCP echo round trips per second between two coroutines (8 bytes);
 *   - 1 KiB ping-pong over 100 connections, round trips per second.
 * bench/peers/socket.go measures the same with Go (GOMAXPROCS=1). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <swco.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t msg_size;
static int nconns, port;
static double duration = 1.0, t_end;
static long total_trips;
static swco_socket_t *ls;

static void echo_conn(void *arg)
{
    swco_socket_t *c = arg;
    char buf[4096];
    long n;
    while ((n = swco_socket_recv(c, buf, sizeof buf, -1)) > 0)
        if (swco_socket_send_all(c, buf, (size_t)n, -1) < 0)
            break;
    swco_socket_free(c);
}

static void server(void *arg)
{
    (void)arg;
    for (int i = 0; i < nconns; i++) {
        swco_socket_t *c = swco_socket_accept(ls, -1);
        if (!c)
            break;
        swco_socket_set_nodelay(c, 1);
        swco_coroutine_create(echo_conn, c);
    }
    swco_socket_free(ls);
}

static void client(void *arg)
{
    (void)arg;
    swco_socket_t *c = swco_socket_new(AF_INET, SOCK_STREAM, 0);
    if (swco_socket_connect(c, "127.0.0.1", port, 5) != 0) {
        fprintf(stderr, "connect: %s\n", swco_strerror(swco_last_error()));
        exit(1);
    }
    swco_socket_set_nodelay(c, 1);
    char buf[1024];
    memset(buf, 'x', sizeof buf);
    long trips = 0;
    while (now() < t_end) {
        for (int i = 0; i < 100; i++) {
            if (swco_socket_send_all(c, buf, msg_size, -1) < 0 ||
                swco_socket_recv_all(c, buf, msg_size, -1) != (long)msg_size) {
                fprintf(stderr, "echo failed\n");
                exit(1);
            }
            trips++;
        }
    }
    total_trips += trips;
    swco_socket_free(c);
}

static void run(void *arg)
{
    (void)arg;
    ls = swco_socket_new(AF_INET, SOCK_STREAM, 0);
    swco_socket_bind(ls, "127.0.0.1", 0);
    swco_socket_listen(ls, 1024);
    swco_socket_getsockname(ls, NULL, 0, &port);
    swco_coroutine_create(server, NULL);
    t_end = now() + duration;
    for (int i = 0; i < nconns; i++)
        swco_coroutine_create(client, NULL);
}

static double measure(int conns, size_t size)
{
    nconns = conns;
    msg_size = size;
    total_trips = 0;
    double t0 = now();
    swco_run(run, NULL);
    return (double)total_trips / (now() - t0);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        duration = atof(argv[1]);
    printf("libswco %s socket benchmark (one thread, loopback)\n", swco_version_string());
    printf("tcp echo round trips, 1 conn, 8 B   : %10.0f /s\n", measure(1, 8));
    printf("ping-pong 1 KiB, 100 conns          : %10.0f /s\n", measure(100, 1024));
    return 0;
}
