/* HTTP benchmarks: examples/http_hello beside its peers, same run.
 *
 * 1. Keep-alive requests: wrk -t2 -c100 -d5s on "/" (200, "Hello,
 *    World!") for http_hello in BASE mode with 1 and 2 workers, and for
 *    nginx (bench/peers/nginx-http.conf: `return 200`) and h2o
 *    (bench/peers/h2o.conf: an mruby handler) with 1 and 2 worker
 *    processes / threads, each started on loopback here with its config
 *    in a temporary directory and stopped by its PID.  Prints requests per
 *    second and http_hello's ratio to each peer at the same worker count.
 *
 * 2. One connection per request: ab -n 20000 -c 100 (no keep-alive),
 *    1 worker each.
 *
 * 3. WebSocket echo: 100 connections, each sending a 32-byte text message
 *    and waiting for its echo before the next, against http_hello's /ws
 *    and against Node's `ws` (bench/peers/ws-echo.js; `ws` is installed
 *    into the temporary directory with npm: without npm or the registry
 *    that line is skipped).  Prints messages per second and the ratio.
 *
 * A peer that is not installed is skipped with a line that says so.  wrk
 * and ab run on the same machine as the servers (2 cores here: the
 * figures are for comparing, not absolute).  The whole run is bounded (an
 * alarm stops everything after BENCH_LIMIT seconds).
 *
 * Each figure is the best of SWCO_BENCH_ROUNDS turns (default 2), the
 * servers taking their turns in alternation.
 *
 * Environment: SWCO_BENCH_HELLO (path of http_hello, default
 * ./examples/http_hello), SWCO_BENCH_SECONDS (wrk's duration and the
 * WebSocket run's, default 5), SWCO_BENCH_ROUNDS, SWCO_BENCH_ONLY (wrk,
 * ab or ws: that part alone). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef BENCH_PEERS_DIR
#define BENCH_PEERS_DIR "bench/peers"
#endif
#define BENCH_LIMIT 600 /* seconds, the whole run */
#define WS_CONNS 100
#define WS_MSG 32
#define MAX_SPAWNED 16

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "bench_http: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

/* ------------------------------------------------------------ processes */

static pid_t spawned[MAX_SPAWNED];
static char tmpdir[] = "/tmp/bench_http.XXXXXX";

static void track(pid_t pid)
{
    for (int i = 0; i < MAX_SPAWNED; i++)
        if (!spawned[i]) {
            spawned[i] = pid;
            return;
        }
}

static void untrack(pid_t pid)
{
    for (int i = 0; i < MAX_SPAWNED; i++)
        if (spawned[i] == pid)
            spawned[i] = 0;
}

static void on_alarm(int sig)
{
    (void)sig;
    static const char msg[] = "bench_http: time limit reached, stopping\n";
    if (write(2, msg, sizeof msg - 1) < 0) {
        /* nothing to do */
    }
    for (int i = 0; i < MAX_SPAWNED; i++)
        if (spawned[i] > 0)
            kill(spawned[i], SIGKILL);
    _exit(1);
}

typedef struct server {
    const char *name;
    pid_t pid;
    int port;
} server_t;

/* Wait up to secs for pid to end; its wait status, or -1 (still there). */
static int wait_for(pid_t pid, double secs)
{
    int fd = (int)syscall(SYS_pidfd_open, pid, 0);
    int status;
    if (fd >= 0) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        poll(&p, 1, (int)(secs * 1000));
        close(fd);
        if (waitpid(pid, &status, WNOHANG) == pid)
            return status;
        return -1;
    }
    double end = now() + secs;
    while (now() < end) {
        if (waitpid(pid, &status, WNOHANG) == pid)
            return status;
        poll(NULL, 0, 10);
    }
    return -1;
}

/* SIGTERM, then SIGKILL after 10 s; the exit status (128 + signal). */
static int stop_server(server_t *s)
{
    if (s->pid <= 0)
        return -1;
    kill(s->pid, SIGTERM);
    int st = wait_for(s->pid, 10);
    if (st < 0) {
        fprintf(stderr, "bench_http: %s did not stop on SIGTERM, killed\n", s->name);
        kill(s->pid, SIGKILL);
        waitpid(s->pid, &st, 0);
    }
    untrack(s->pid);
    s->pid = 0;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Start argv with out_fd as its stdout (and its stderr too when quiet). */
static pid_t spawn(char *const argv[], char *const env[], int out_fd, int quiet)
{
    pid_t pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        if (out_fd >= 0)
            dup2(out_fd, 1);
        if (out_fd >= 0 && quiet)
            dup2(out_fd, 2);
        int null = open("/dev/null", O_RDONLY);
        if (null >= 0)
            dup2(null, 0);
        for (int i = 0; env && env[i]; i++)
            putenv(env[i]);
        execvp(argv[0], argv);
        fprintf(stderr, "bench_http: %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    track(pid);
    return pid;
}

/* Run argv and read its first line, "listening on PORT".  0, or -1 when
 * it did not say so in 30 s. */
static int start_announcing(server_t *s, const char *name, char *const argv[], char *const env[])
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0)
        die("pipe: %s", strerror(errno));
    s->name = name;
    s->pid = spawn(argv, env, p[1], 0);
    s->port = 0;
    close(p[1]);
    char line[128];
    size_t got = 0;
    double end = now() + 30;
    while (got < sizeof line - 1 && !memchr(line, '\n', got)) {
        struct pollfd pf = {.fd = p[0], .events = POLLIN};
        int left = (int)((end - now()) * 1000);
        if (left <= 0 || poll(&pf, 1, left) <= 0)
            break;
        ssize_t n = read(p[0], line + got, sizeof line - 1 - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(p[0]);
    line[got] = 0;
    if (sscanf(line, "listening on %d", &s->port) != 1 || s->port <= 0) {
        fprintf(stderr, "bench_http: %s did not start (said \"%s\")\n", name, line);
        stop_server(s);
        return -1;
    }
    return 0;
}

static int connect_port(int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Run argv (a server that says nothing) and wait until port answers a
 * GET with a complete response.  0 or -1. */
static int start_quiet(server_t *s, const char *name, int port, char *const argv[])
{
    int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
    s->name = name;
    s->pid = spawn(argv, NULL, null, 1); /* its own log says what went wrong */
    s->port = port;
    close(null);
    double end = now() + 30;
    while (now() < end) {
        if (waitpid(s->pid, NULL, WNOHANG) == s->pid) {
            untrack(s->pid);
            s->pid = 0;
            fprintf(stderr, "bench_http: %s exited at start\n", name);
            return -1;
        }
        int fd = connect_port(port);
        if (fd >= 0) {
            static const char req[] = "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
            char buf[1024];
            size_t got = 0;
            ssize_t n = write(fd, req, sizeof req - 1);
            while (n > 0 && got < sizeof buf - 1 && (n = read(fd, buf + got, sizeof buf - 1 - got)) > 0)
                got += (size_t)n;
            close(fd);
            buf[got] = 0;
            if (strstr(buf, "Hello, World!"))
                return 0;
        }
        poll(NULL, 0, 50);
    }
    fprintf(stderr, "bench_http: %s did not answer on port %d\n", name, port);
    stop_server(s);
    return -1;
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) != 0)
        die("bind: %s", strerror(errno));
    close(fd);
    return ntohs(sa.sin_port);
}

static int have(const char *prog)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", prog);
    return system(cmd) == 0;
}

/* --------------------------------------------------------------- peers */

/* Copy bench/peers/NAME to path with each key replaced by its value. */
static int fill_template(const char *name, const char *path, const char *const *keys,
                         const char *const *vals, size_t nkeys)
{
    char src[512];
    snprintf(src, sizeof src, "%s/%s", BENCH_PEERS_DIR, name);
    FILE *in = fopen(src, "r"), *out = fopen(path, "w");
    if (!in || !out) {
        if (in)
            fclose(in);
        if (out)
            fclose(out);
        return -1;
    }
    char line[1024];
    while (fgets(line, sizeof line, in)) {
        char outl[2048];
        size_t o = 0;
        for (const char *s = line; *s && o < sizeof outl - 1;) {
            int hit = 0;
            for (size_t k = 0; k < nkeys; k++) {
                size_t kl = strlen(keys[k]);
                if (strncmp(s, keys[k], kl) == 0) {
                    o += (size_t)snprintf(outl + o, sizeof outl - o, "%s", vals[k]);
                    if (o >= sizeof outl)
                        o = sizeof outl - 1;
                    s += kl;
                    hit = 1;
                    break;
                }
            }
            if (!hit)
                outl[o++] = *s++;
        }
        outl[o] = 0;
        fputs(outl, out);
    }
    fclose(in);
    return fclose(out) == 0 ? 0 : -1;
}

static const char *hello_path;

static int start_hello(server_t *s, int workers)
{
    char w[16];
    snprintf(w, sizeof w, "%d", workers);
    char *argv[] = {(char *)hello_path, "--mode", "base", "--workers", w, NULL};
    return start_announcing(s, "http_hello", argv, NULL);
}

static int start_nginx(server_t *s, int workers)
{
    if (!have("nginx"))
        return -1;
    char conf[512], prefix[300], port_s[16], w[16];
    int port = free_port();
    snprintf(port_s, sizeof port_s, "%d", port);
    snprintf(w, sizeof w, "%d", workers);
    snprintf(prefix, sizeof prefix, "%s/nginx", tmpdir);
    mkdir(prefix, 0755);
    snprintf(conf, sizeof conf, "%s/nginx.conf", prefix);
    const char *keys[] = {"@WORKERS@", "@PREFIX@", "@PORT@"};
    const char *vals[] = {w, prefix, port_s};
    if (fill_template("nginx-http.conf", conf, keys, vals, 3) != 0)
        die("cannot write %s", conf);
    char errlog[512];
    snprintf(errlog, sizeof errlog, "%s/error.log", prefix);
    char *argv[] = {"nginx", "-p", prefix, "-c", conf, "-e", errlog, NULL};
    return start_quiet(s, "nginx", port, argv);
}

static int start_h2o(server_t *s, int workers)
{
    if (!have("h2o"))
        return -1;
    char conf[512], port_s[16], w[16];
    int port = free_port();
    snprintf(port_s, sizeof port_s, "%d", port);
    snprintf(w, sizeof w, "%d", workers);
    snprintf(conf, sizeof conf, "%s/h2o.conf", tmpdir);
    const char *keys[] = {"@USER@", "@WORKERS@", "@PREFIX@", "@PORT@"};
    const char *vals[] = {geteuid() == 0 ? "user: nobody" : "", w, tmpdir, port_s};
    if (fill_template("h2o.conf", conf, keys, vals, 4) != 0)
        die("cannot write %s", conf);
    char *argv[] = {"h2o", "-c", conf, NULL};
    return start_quiet(s, "h2o", port, argv);
}

/* ------------------------------------------------------------ wrk, ab */

typedef struct load {
    double rps;
    int ok;
    char note[160];
} load_t;

/* Run a shell command, returning what it printed (malloc'd) or NULL. */
static char *capture(const char *cmd)
{
    FILE *f = popen(cmd, "r");
    if (!f)
        return NULL;
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - 1 - len, f)) > 0) {
        len += n;
        if (len == cap - 1) {
            char *p = realloc(buf, cap *= 2);
            if (!p) {
                free(buf);
                buf = NULL;
            }
            buf = p;
        }
    }
    int st = pclose(f);
    if (buf)
        buf[len] = 0;
    if (st != 0 && buf) {
        fprintf(stderr, "bench_http: `%s` failed:\n%s\n", cmd, buf);
        free(buf);
        return NULL;
    }
    return buf;
}

static double secs_run = 5;

static load_t run_wrk(int port)
{
    load_t r = {0};
    char cmd[256];
    snprintf(cmd, sizeof cmd, "wrk -t2 -c100 -d%gs http://127.0.0.1:%d/ 2>&1", secs_run, port);
    char *out = capture(cmd);
    if (!out)
        return r;
    char *p = strstr(out, "Requests/sec:");
    if (p && sscanf(p, "Requests/sec: %lf", &r.rps) == 1 && r.rps > 0)
        r.ok = 1;
    if ((p = strstr(out, "Socket errors")) || (p = strstr(out, "Non-2xx"))) {
        char *e = strchr(p, '\n');
        snprintf(r.note, sizeof r.note, " (%.*s)", e ? (int)(e - p) : 60, p);
    }
    free(out);
    return r;
}

static load_t run_ab(int port)
{
    load_t r = {0};
    char cmd[256];
    snprintf(cmd, sizeof cmd, "ab -q -n 20000 -c 100 http://127.0.0.1:%d/ 2>&1", port);
    char *out = capture(cmd);
    if (!out)
        return r;
    char *p = strstr(out, "Requests per second:");
    if (p && sscanf(p, "Requests per second: %lf", &r.rps) == 1 && r.rps > 0)
        r.ok = 1;
    long failed = 0;
    if ((p = strstr(out, "Failed requests:")) && sscanf(p, "Failed requests: %ld", &failed) == 1 &&
        failed)
        snprintf(r.note, sizeof r.note, " (%ld failed)", failed);
    free(out);
    return r;
}

typedef int (*starter_fn)(server_t *s, int workers);
typedef load_t (*load_fn)(int port);

static load_t measure(const char *name, starter_fn start, int workers, load_fn load)
{
    server_t s = {0};
    load_t r = {0};
    if (start(&s, workers) != 0) {
        snprintf(r.note, sizeof r.note, "%s: not run", name);
        return r;
    }
    r = load(s.port);
    int st = stop_server(&s);
    if (start == start_hello && st != 0)
        fprintf(stderr, "bench_http: http_hello exit status %d after SIGTERM\n", st);
    return r;
}

/* Turns taken in alternation (ours, then each peer, again), keeping each
 * one's best: load from elsewhere on the machine then spoils a turn, not
 * a figure. */
static int rounds = 2;

static void keep_best(load_t *best, load_t r)
{
    if (!best->ok || (r.ok && r.rps > best->rps))
        *best = r;
}

static void print_line(const char *what, load_t ours, const char *const *peer_names,
                       const load_t *peers, int npeers, const char *unit)
{
    if (ours.ok)
        printf("%-37s swco %7.0f %s%s", what, ours.rps, unit, ours.note);
    else
        printf("%-37s swco: failed%s", what, ours.note[0] ? "" : " (no figure)");
    for (int i = 0; i < npeers; i++) {
        if (!peers[i].ok)
            printf(" | %s: skipped", peer_names[i]);
        else if (ours.ok)
            printf(" | %s %7.0f (swco/%s %.2fx)%s", peer_names[i], peers[i].rps, peer_names[i],
                   ours.rps / peers[i].rps, peers[i].note);
        else
            printf(" | %s %7.0f%s", peer_names[i], peers[i].rps, peers[i].note);
    }
    printf("\n");
    fflush(stdout);
}

/* ------------------------------------------------------------ WebSocket */

typedef struct wsconn {
    int fd;
    size_t got;
} wsconn_t;

/* The handshake of one client: 0 when the server answered 101. */
static int ws_handshake(int fd, int port)
{
    char req[512];
    int n = snprintf(req, sizeof req,
                     "GET /ws HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\n\r\n",
                     port);
    if (write(fd, req, (size_t)n) != n)
        return -1;
    char buf[2048];
    size_t got = 0;
    while (got < sizeof buf - 1) {
        ssize_t k = read(fd, buf + got, 1); /* byte by byte: no frame bytes taken */
        if (k <= 0)
            return -1;
        got += (size_t)k;
        buf[got] = 0;
        if (got >= 4 && memcmp(buf + got - 4, "\r\n\r\n", 4) == 0)
            break;
    }
    return strncmp(buf, "HTTP/1.1 101", 12) == 0 ? 0 : -1;
}

/* A masked client text frame of WS_MSG bytes. */
static size_t ws_frame(unsigned char *f)
{
    static const unsigned char mask[4] = {0x12, 0x34, 0x56, 0x78};
    f[0] = 0x81;
    f[1] = 0x80 | WS_MSG;
    memcpy(f + 2, mask, 4);
    for (int i = 0; i < WS_MSG; i++)
        f[6 + i] = (unsigned char)('a' + i % 26) ^ mask[i % 4];
    return 6 + WS_MSG;
}

/* In a child: WS_CONNS connections echo messages for secs; messages per
 * second back through a pipe (0: failed). */
static load_t ws_echo_rate(int port)
{
    load_t r = {0};
    int p[2];
    if (pipe(p) != 0)
        die("pipe: %s", strerror(errno));
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        double rate = 0;
        wsconn_t cs[WS_CONNS];
        int ep = epoll_create1(0), n = 0;
        unsigned char frame[64];
        size_t flen = ws_frame(frame);
        const size_t echo_len = 2 + WS_MSG; /* unmasked server frame */
        for (; n < WS_CONNS; n++) {
            cs[n].fd = connect_port(port);
            if (cs[n].fd < 0 || ws_handshake(cs[n].fd, port) != 0) {
                fprintf(stderr, "bench_http: WebSocket handshake %d failed\n", n);
                goto done;
            }
            setsockopt(cs[n].fd, IPPROTO_TCP, TCP_NODELAY, &(int){1}, sizeof(int));
            fcntl(cs[n].fd, F_SETFL, O_NONBLOCK);
            struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)n};
            epoll_ctl(ep, EPOLL_CTL_ADD, cs[n].fd, &ev);
        }
        double t0 = now(), t_start = t0 + 0.3, t_end = t_start + secs_run;
        long trips = 0;
        int outstanding = 0;
        for (int i = 0; i < n; i++) {
            cs[i].got = 0;
            if (write(cs[i].fd, frame, flen) != (ssize_t)flen)
                goto done;
            outstanding++;
        }
        double t = now();
        while (outstanding > 0 && t < t_end + 10) {
            struct epoll_event evs[256];
            int m = epoll_wait(ep, evs, 256, 1000);
            t = now();
            for (int j = 0; j < m; j++) {
                wsconn_t *c = &cs[evs[j].data.u32];
                char buf[4096];
                ssize_t k = read(c->fd, buf, sizeof buf);
                if (k <= 0) {
                    if (k < 0 && errno == EAGAIN)
                        continue;
                    fprintf(stderr, "bench_http: the WebSocket server closed a connection\n");
                    goto done;
                }
                c->got += (size_t)k;
                if (c->got < echo_len)
                    continue;
                outstanding--;
                c->got = 0;
                if (t >= t_start && t <= t_end)
                    trips++;
                if (t < t_end) {
                    if (write(c->fd, frame, flen) != (ssize_t)flen)
                        goto done;
                    outstanding++;
                }
            }
        }
        if (outstanding == 0)
            rate = (double)trips / secs_run;
    done:
        for (int i = 0; i < n; i++)
            close(cs[i].fd);
        if (write(p[1], &rate, sizeof rate) != sizeof rate)
            _exit(1);
        _exit(0);
    }
    close(p[1]);
    track(pid);
    double rate = 0;
    if (read(p[0], &rate, sizeof rate) != sizeof rate)
        rate = 0;
    close(p[0]);
    waitpid(pid, NULL, 0);
    untrack(pid);
    r.rps = rate;
    r.ok = rate > 0;
    return r;
}

/* Node's ws, installed into tmpdir/node with npm. */
static int start_node_ws(server_t *s, int workers)
{
    (void)workers;
    static int installed = -1;
    char dir[300];
    snprintf(dir, sizeof dir, "%s/node", tmpdir);
    if (installed < 0) {
        installed = 0;
        if (!have("node") || !have("npm")) {
            printf("Node ws: node or npm not installed, skipped (nodejs npm)\n");
            return -1;
        }
        char cmd[1024];
        snprintf(cmd, sizeof cmd,
                 "timeout 180 npm install --silent --no-audit --no-fund --fetch-retries=1 "
                 "--prefix '%s' ws >'%s/npm.log' 2>&1",
                 dir, tmpdir);
        if (system(cmd) != 0) {
            printf("Node ws: `npm install ws` failed (registry not reachable?), skipped\n");
            return -1;
        }
        installed = 1;
    }
    if (!installed)
        return -1;
    char script[512], node_path[400];
    snprintf(script, sizeof script, "%s/ws-echo.js", BENCH_PEERS_DIR);
    snprintf(node_path, sizeof node_path, "NODE_PATH=%s/node_modules", dir);
    char *argv[] = {"node", script, NULL};
    char *env[] = {node_path, NULL};
    return start_announcing(s, "node ws", argv, env);
}

/* ----------------------------------------------------------------- main */

static int wanted(const char *part)
{
    const char *only = getenv("SWCO_BENCH_ONLY");
    return !only || !*only || strcmp(only, part) == 0;
}

int main(void)
{
    signal(SIGALRM, on_alarm);
    signal(SIGPIPE, SIG_IGN);
    alarm(BENCH_LIMIT);
    setvbuf(stdout, NULL, _IOLBF, 0);
    hello_path = getenv("SWCO_BENCH_HELLO");
    if (!hello_path || !*hello_path)
        hello_path = "./examples/http_hello";
    const char *e = getenv("SWCO_BENCH_SECONDS");
    if (e && atof(e) > 0)
        secs_run = atof(e);
    e = getenv("SWCO_BENCH_ROUNDS");
    if (e && atoi(e) > 0)
        rounds = atoi(e);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (!mkdtemp(tmpdir))
        die("mkdtemp: %s", strerror(errno));
    chmod(tmpdir, 0755);

    const char *names[] = {"nginx", "h2o"};
    if (wanted("wrk")) {
        if (!have("wrk")) {
            printf("wrk: not installed, keep-alive figures skipped (wrk)\n");
        } else {
            for (int w = 1; w <= 2; w++) {
                load_t ours = {0}, peers[2];
                memset(peers, 0, sizeof peers);
                for (int turn = 0; turn < rounds; turn++) {
                    keep_best(&ours, measure("http_hello", start_hello, w, run_wrk));
                    keep_best(&peers[0], measure("nginx", start_nginx, w, run_wrk));
                    keep_best(&peers[1], measure("h2o", start_h2o, w, run_wrk));
                }
                char what[96];
                snprintf(what, sizeof what, "wrk -t2 -c100 -d%gs, %d worker%s:", secs_run, w,
                         w > 1 ? "s" : "");
                print_line(what, ours, names, peers, 2, "req/s");
            }
        }
    }
    if (wanted("ab")) {
        if (!have("ab")) {
            printf("ab: not installed, figures skipped (apache2-utils)\n");
        } else {
            load_t ours = {0}, peers[2];
            memset(peers, 0, sizeof peers);
            for (int turn = 0; turn < rounds; turn++) {
                keep_best(&ours, measure("http_hello", start_hello, 1, run_ab));
                keep_best(&peers[0], measure("nginx", start_nginx, 1, run_ab));
                keep_best(&peers[1], measure("h2o", start_h2o, 1, run_ab));
            }
            print_line("ab -n 20000 -c 100 (no keep-alive):", ours, names, peers, 2, "req/s");
        }
    }
    if (wanted("ws")) {
        load_t ours = {0}, node = {0};
        for (int turn = 0; turn < rounds; turn++) {
            keep_best(&ours, measure("http_hello", start_hello, 1, ws_echo_rate));
            keep_best(&node, measure("node ws", start_node_ws, 1, ws_echo_rate));
        }
        const char *nn[] = {"node-ws"};
        char what[96];
        snprintf(what, sizeof what, "WebSocket echo, %d conns, %d B:", WS_CONNS, WS_MSG);
        print_line(what, ours, nn, &node, 1, "msg/s");
    }

    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_http: could not remove %s\n", tmpdir);
    return 0;
}
