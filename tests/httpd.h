/* A tiny HTTP/1.1 server (and HTTP proxy) for the curl tests and bench:
 * coroutines on swco_event_wait_fd in a forked child, on 127.0.0.1 and a free port.
 *
 *   GET /hello          "hello"
 *   GET /delay/<ms>     "late" after ms milliseconds
 *   GET /gate/<n>       "late" once n such requests are in the server at
 *                       the same time (a barrier; the next n meet again),
 *                       "alone" if they did not all come within 60 s
 *   GET /big/<bytes>    that many bytes of 'a'..'z' repeated
 *   GET /redirect       302 to /hello
 *   GET /conn           the server's connection number (counts accepts)
 *   GET /proxied        how many absolute-form (proxy) requests it answered
 *   POST /echo          the request body, and X-Test's value in X-Echo
 *
 * httpd_start() returns the port, httpd_stop() kills the child by PID. */
#ifndef SWCO_TEST_HTTPD_H
#define SWCO_TEST_HTTPD_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <swco.h>

static int httpd_lfd = -1;
static long httpd_accepts;
static long httpd_proxied;

static int httpd_read_some(int fd, char *buf, size_t cap)
{
    for (;;) {
        ssize_t n = recv(fd, buf, cap, 0);
        if (n >= 0)
            return (int)n;
        if (errno != EAGAIN && errno != EINTR)
            return -1;
        if (swco_event_wait_fd(fd, SWCO_EVENT_READ, -1) < 0)
            return -1;
    }
}

static int httpd_write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EINTR)
            return -1;
        if (swco_event_wait_fd(fd, SWCO_EVENT_WRITE, -1) < 0)
            return -1;
    }
    return 0;
}

static int httpd_reply(int fd, int status, const char *extra, const char *body, size_t blen)
{
    char head[512];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Length: %zu\r\nContent-Type: text/plain\r\n%s\r\n",
                     status, status == 200 ? "OK" : status == 302 ? "Found" : "Not Found", blen,
                     extra ? extra : "");
    if (httpd_write_all(fd, head, (size_t)n) < 0)
        return -1;
    return blen ? httpd_write_all(fd, body, blen) : 0;
}

static swco_waitgroup_t *httpd_gate;
static long httpd_gate_left;

/* A barrier of n requests: 1 when all n were in at once.  Each round has
 * its own wait group (a test server: the old ones are not freed). */
static int httpd_gate_wait(long n)
{
    if (httpd_gate_left <= 0) {
        httpd_gate = swco_waitgroup_new();
        httpd_gate_left = n;
        swco_waitgroup_add(httpd_gate, n);
    }
    swco_waitgroup_t *wg = httpd_gate;
    httpd_gate_left--;
    swco_waitgroup_done(wg);
    return swco_waitgroup_wait(wg, 60) == 0;
}

static void httpd_conn(void *arg)
{
    int fd = (int)(long)arg;
    long connno = ++httpd_accepts;
    char buf[65536];
    size_t have = 0;
    for (;;) {
        char *end;
        while (!(end = memmem(buf, have, "\r\n\r\n", 4))) {
            if (have == sizeof buf)
                goto out;
            int n = httpd_read_some(fd, buf + have, sizeof buf - have);
            if (n <= 0)
                goto out;
            have += (size_t)n;
        }
        size_t hlen = (size_t)(end - buf) + 4;
        char method[8] = "", path[256] = "";
        sscanf(buf, "%7s %255s", method, path);
        if (strncmp(path, "http://", 7) == 0) { /* absolute form: we are the proxy */
            char *slash = strchr(path + 7, '/');
            memmove(path, slash ? slash : "/", strlen(slash ? slash : "/") + 1);
            httpd_proxied++;
        }
        size_t clen = 0;
        char xtest[128] = "";
        for (char *l = strstr(buf, "\r\n"); l && l < end; l = strstr(l + 2, "\r\n")) {
            if (strncasecmp(l + 2, "Content-Length:", 15) == 0)
                clen = strtoul(l + 17, NULL, 10);
            if (strncasecmp(l + 2, "X-Test:", 7) == 0)
                sscanf(l + 9, "%127[^\r]", xtest);
        }
        char *body = NULL;
        if (clen) {
            body = malloc(clen);
            size_t got = have - hlen < clen ? have - hlen : clen;
            memcpy(body, buf + hlen, got);
            while (got < clen) {
                int n = httpd_read_some(fd, body + got, clen - got);
                if (n <= 0) {
                    free(body);
                    goto out;
                }
                got += (size_t)n;
            }
            size_t used = hlen + (have - hlen < clen ? have - hlen : clen);
            memmove(buf, buf + used, have - used);
            have -= used;
        } else {
            memmove(buf, buf + hlen, have - hlen);
            have -= hlen;
        }
        int rc;
        if (strcmp(path, "/hello") == 0) {
            rc = httpd_reply(fd, 200, NULL, "hello", 5);
        } else if (strncmp(path, "/delay/", 7) == 0) {
            swco_sleep(atoi(path + 7) / 1000.0);
            rc = httpd_reply(fd, 200, NULL, "late", 4);
        } else if (strncmp(path, "/gate/", 6) == 0) {
            if (httpd_gate_wait(atol(path + 6)))
                rc = httpd_reply(fd, 200, NULL, "late", 4);
            else
                rc = httpd_reply(fd, 200, NULL, "alone", 5);
        } else if (strncmp(path, "/big/", 5) == 0) {
            size_t n = strtoul(path + 5, NULL, 10);
            char *b = malloc(n + 1);
            for (size_t i = 0; i < n; i++)
                b[i] = (char)('a' + i % 26);
            rc = httpd_reply(fd, 200, NULL, b, n);
            free(b);
        } else if (strcmp(path, "/redirect") == 0) {
            rc = httpd_reply(fd, 302, "Location: /hello\r\n", NULL, 0);
        } else if (strcmp(path, "/conn") == 0) {
            char s[32];
            int n = snprintf(s, sizeof s, "%ld", connno);
            rc = httpd_reply(fd, 200, NULL, s, (size_t)n);
        } else if (strcmp(path, "/proxied") == 0) {
            char s[32];
            int n = snprintf(s, sizeof s, "%ld", httpd_proxied);
            rc = httpd_reply(fd, 200, NULL, s, (size_t)n);
        } else if (strcmp(path, "/echo") == 0) {
            char extra[160];
            snprintf(extra, sizeof extra, "X-Echo: %s\r\n", xtest);
            rc = httpd_reply(fd, 200, extra, body, clen);
        } else {
            rc = httpd_reply(fd, 404, NULL, NULL, 0);
        }
        free(body);
        if (rc < 0)
            break;
    }
out:
    swco_event_del(fd);
    close(fd);
}

static void httpd_main(void *arg)
{
    int lfd = httpd_lfd;
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            swco_coroutine_create(httpd_conn, (void *)(long)fd);
            continue;
        }
        if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED) {
            swco_event_wait_fd(lfd, SWCO_EVENT_READ, -1);
            continue;
        }
        if (errno == EMFILE || errno == ENFILE) {
            swco_sleep(0.01);
            continue;
        }
        _exit(3);
    }
}

/* Bind 127.0.0.1:0 and return the listening fd; *port gets the port. */
__attribute__((unused)) static int tcp_listen_any(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 4096) != 0)
        return -1;
    socklen_t len = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &len);
    *port = ntohs(a.sin_port);
    return fd;
}

static pid_t httpd_pid;

__attribute__((unused)) static int httpd_start(void)
{
    int port;
    int fd = tcp_listen_any(&port);
    if (fd < 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        httpd_lfd = fd;
        swco_run(httpd_main, NULL);
        _exit(0);
    }
    close(fd);
    httpd_pid = pid;
    return port;
}

__attribute__((unused)) static void httpd_stop(void)
{
    if (httpd_pid > 0) {
        kill(httpd_pid, SIGKILL);
        waitpid(httpd_pid, NULL, 0);
        httpd_pid = 0;
    }
}

#endif
