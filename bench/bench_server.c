/* Server benchmarks: examples/tcp_echo_server beside its peers, same run.
 *
 * 1. TCP echo throughput: 100 client connections, each sending a message
 *    and waiting for its echo before the next (8 bytes, then 1 KiB), for
 *    tcp_echo_server in BASE mode with 1 and 2 workers, PROCESS and THREAD
 *    mode, and for a Go net echo server (bench/peers/echo.go, built with
 *    the go on PATH) at GOMAXPROCS 1 and 2.  Prints requests per second
 *    and the ratio to Go at the same worker count.
 *
 * 2. Idle connections: 10,000 connections that send nothing are held open
 *    while 100 others echo 8-byte messages.  Prints the active ones' p99
 *    round trip without and with the idle ones (taken in turn, twice,
 *    keeping the lower p99 of each), and the server's user-space memory per idle connection (the
 *    growth of Pss and RSS summed over all its processes, divided by the
 *    idle count), beside the same figures for nginx's stream module
 *    proxying to the echo server (started here on loopback with its own
 *    config and prefix in a temporary directory, stopped by its PID) and
 *    for the Go server.
 *
 * The client runs in its own process (one thread, epoll).  The open-file
 * limit is raised to its hard limit; a peer that needs more descriptors
 * than that (nginx holds two per proxied connection) gets fewer idle
 * connections and the line says how many.  The whole run is bounded (an
 * alarm stops everything after BENCH_LIMIT seconds).
 *
 * Environment: SWCO_BENCH_ECHO (path of tcp_echo_server, default
 * ./examples/tcp_echo_server), SWCO_BENCH_SECONDS (per measurement,
 * default 1), SWCO_BENCH_IDLE (idle connections, default 10000),
 * SWCO_BENCH_ONLY (echo or idle: that part alone). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
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
#define BENCH_LIMIT 170 /* seconds, the whole run */
#define ACTIVE 100
#define ROUNDS 3 /* turns per throughput figure, latency: 2 */
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
    fprintf(stderr, "bench_server: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

/* ------------------------------------------------------------ processes */

/* Everything this run started, so the alarm can stop it. */
static pid_t spawned[MAX_SPAWNED];

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
    static const char msg[] = "bench_server: time limit reached, stopping\n";
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

/* Stop a server by its PID: SIGTERM, then SIGKILL after 10 s.  Returns
 * its exit status (128 + signal when a signal ended it). */
static int stop_server(server_t *s)
{
    if (s->pid <= 0)
        return -1;
    kill(s->pid, SIGTERM);
    int st = wait_for(s->pid, 10);
    if (st < 0) {
        fprintf(stderr, "bench_server: %s did not stop on SIGTERM, killed\n", s->name);
        kill(s->pid, SIGKILL);
        waitpid(s->pid, &st, 0);
    }
    untrack(s->pid);
    s->pid = 0;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Run argv (with env NAME=VALUE strings put first) and read its first
 * line, "listening on PORT".  0, or -1 when it did not say so in 30 s. */
static int start_server(server_t *s, const char *name, char *const argv[], char *const env[])
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0)
        die("pipe: %s", strerror(errno));
    pid_t pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        dup2(p[1], 1);
        for (int i = 0; env && env[i]; i++)
            putenv(env[i]);
        execvp(argv[0], argv);
        fprintf(stderr, "bench_server: %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(p[1]);
    track(pid);
    s->name = name;
    s->pid = pid;
    s->port = 0;
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
        fprintf(stderr, "bench_server: %s did not start (said \"%s\")\n", name, line);
        stop_server(s);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------ memory and fds */

/* pid and every process descended from it. */
static int proc_tree(pid_t root, pid_t *out, int max)
{
    int n = 0;
    out[n++] = root;
    /* parents before children is not guaranteed: sweep until stable */
    for (int changed = 1; changed && n < max;) {
        changed = 0;
        DIR *d = opendir("/proc");
        if (!d)
            break;
        struct dirent *e;
        while ((e = readdir(d)) && n < max) {
            pid_t pid = (pid_t)atoi(e->d_name);
            if (pid <= 0)
                continue;
            int known = 0;
            for (int i = 0; i < n; i++)
                known |= out[i] == pid;
            if (known)
                continue;
            char path[64], buf[512];
            snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
            FILE *f = fopen(path, "r");
            if (!f)
                continue;
            size_t len = fread(buf, 1, sizeof buf - 1, f);
            fclose(f);
            buf[len] = 0;
            char *rp = strrchr(buf, ')');
            int ppid = 0;
            char state;
            if (!rp || sscanf(rp + 1, " %c %d", &state, &ppid) != 2)
                continue;
            for (int i = 0; i < n; i++)
                if (out[i] == ppid) {
                    out[n++] = pid;
                    changed = 1;
                    break;
                }
        }
        closedir(d);
    }
    return n;
}

/* Sum of a smaps_rollup field (kB) over the tree under root. */
static long long tree_mem_kb(pid_t root, const char *field)
{
    pid_t pids[256];
    int n = proc_tree(root, pids, 256);
    long long sum = 0;
    size_t flen = strlen(field);
    for (int i = 0; i < n; i++) {
        char path[64], line[256];
        snprintf(path, sizeof path, "/proc/%d/smaps_rollup", (int)pids[i]);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        while (fgets(line, sizeof line, f))
            if (strncmp(line, field, flen) == 0 && line[flen] == ':') {
                sum += atoll(line + flen + 1);
                break;
            }
        fclose(f);
    }
    return sum;
}

static long tree_fds(pid_t root)
{
    pid_t pids[256];
    int n = proc_tree(root, pids, 256);
    long count = 0;
    for (int i = 0; i < n; i++) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/fd", (int)pids[i]);
        DIR *d = opendir(path);
        if (!d)
            continue;
        struct dirent *e;
        while ((e = readdir(d)))
            if (e->d_name[0] != '.')
                count++;
        closedir(d);
    }
    return count;
}

/* Wait (up to secs) until the processes under root hold at least want
 * descriptors: the server has accepted what the client connected. */
static int wait_fds(pid_t root, long want, double secs)
{
    double end = now() + secs;
    for (;;) {
        if (tree_fds(root) >= want)
            return 0;
        if (now() > end)
            return -1;
        poll(NULL, 0, 20);
    }
}

/* --------------------------------------------------------------- client */

/* Open n connections to 127.0.0.1:port, at most batch at a time in
 * flight.  Returns how many opened (fds[0..ret)). */
static int connect_many(int port, int *fds, int n, int nodelay)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    int done = 0;
    const int batch = 256;
    while (done < n) {
        int k = n - done < batch ? n - done : batch, pending = 0;
        for (int i = 0; i < k; i++) {
            int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            if (fd < 0)
                goto out;
            if (nodelay)
                setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){1}, sizeof(int));
            /* closed with RST: no TIME_WAIT left behind for the next peer */
            struct linger lg = {.l_onoff = 1, .l_linger = 0};
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
            if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0 && errno != EINPROGRESS) {
                close(fd);
                goto out;
            }
            fds[done + i] = fd;
            struct epoll_event ev = {.events = EPOLLOUT, .data.u32 = (uint32_t)i};
            epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
            pending++;
        }
        double end = now() + 20;
        while (pending > 0 && now() < end) {
            struct epoll_event evs[256];
            int m = epoll_wait(ep, evs, 256, 1000);
            for (int j = 0; j < m; j++) {
                int fd = fds[done + (int)evs[j].data.u32], err = 0;
                socklen_t len = sizeof err;
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
                epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
                if (err) {
                    fprintf(stderr, "bench_server: connect: %s\n", strerror(err));
                    goto out;
                }
                pending--;
            }
        }
        if (pending)
            goto out;
        done += k;
    }
out:
    close(ep);
    return done;
}

typedef struct samples {
    double *v;
    size_t n, cap;
} samples_t;

static void sample_add(samples_t *s, double x)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 65536;
        s->v = realloc(s->v, s->cap * sizeof *s->v);
        if (!s->v)
            die("out of memory");
    }
    s->v[s->n++] = x;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double percentile(samples_t *s, double p)
{
    if (!s->n)
        return 0;
    qsort(s->v, s->n, sizeof *s->v, cmp_double);
    size_t i = (size_t)(p * (double)(s->n - 1) + 0.5);
    return s->v[i];
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

typedef struct result {
    double rps, p50, p99;
    long trips;
    int ok;
} result_t;

typedef struct conn {
    int fd;
    size_t got;
    double sent_at;
} conn_t;

static int send_msg(conn_t *c, const char *msg, size_t size)
{
    size_t off = 0;
    while (off < size) {
        ssize_t n = write(c->fd, msg + off, size - off);
        if (n > 0) {
            off += (size_t)n;
        } else if (n < 0 && errno == EAGAIN) {
            struct pollfd p = {.fd = c->fd, .events = POLLOUT};
            poll(&p, 1, 1000);
        } else {
            return -1;
        }
    }
    c->got = 0;
    c->sent_at = now();
    return 0;
}

/* Ping-pong size-byte messages over the n connections for warm + secs
 * seconds (counting the last secs), then let the last echoes come back. */
static result_t pingpong(const int *fds, int n, size_t size, double warm, double secs,
                         int latency)
{
    result_t r = {0};
    static char msg[65536], buf[65536];
    memset(msg, 'x', size);
    conn_t *cs = calloc((size_t)n, sizeof *cs);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    samples_t lat = {0};
    double t0 = now(), t_start = t0 + warm, t_end = t_start + secs;
    int outstanding = 0;
    for (int i = 0; i < n; i++) {
        cs[i].fd = fds[i];
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev);
        if (send_msg(&cs[i], msg, size) != 0)
            goto out;
        outstanding++;
    }
    double t = now(), drain_end = t_end + 10;
    while (outstanding > 0 && t < drain_end) {
        struct epoll_event evs[256];
        int m = epoll_wait(ep, evs, 256, 1000);
        t = now();
        for (int j = 0; j < m; j++) {
            conn_t *c = &cs[evs[j].data.u32];
            ssize_t k = read(c->fd, buf, sizeof buf);
            if (k <= 0) {
                if (k < 0 && errno == EAGAIN)
                    continue;
                fprintf(stderr, "bench_server: the server closed a connection\n");
                goto out;
            }
            c->got += (size_t)k;
            if (c->got < size)
                continue;
            outstanding--;
            if (c->sent_at >= t_start && t <= t_end) {
                r.trips++;
                if (latency)
                    sample_add(&lat, t - c->sent_at);
            }
            if (t < t_end) {
                if (send_msg(c, msg, size) != 0)
                    goto out;
                outstanding++;
            }
        }
    }
    r.ok = outstanding == 0 && r.trips > 0;
    r.rps = (double)r.trips / secs;
    if (latency) {
        r.p50 = percentile(&lat, 0.50);
        r.p99 = percentile(&lat, 0.99);
    }
out:
    for (int i = 0; i < n; i++)
        epoll_ctl(ep, EPOLL_CTL_DEL, fds[i], NULL);
    close(ep);
    free(cs);
    free(lat.v);
    return r;
}

static void close_all(int *fds, int n)
{
    for (int i = 0; i < n; i++)
        close(fds[i]);
}

/* In a child process: open ACTIVE connections and ping-pong size-byte
 * messages; the result comes back through a pipe. */
static result_t throughput(int port, size_t size, double secs)
{
    int p[2];
    result_t r = {0};
    if (pipe(p) != 0)
        die("pipe: %s", strerror(errno));
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        int fds[ACTIVE];
        int n = connect_many(port, fds, ACTIVE, 1);
        if (n == ACTIVE)
            r = pingpong(fds, n, size, 0.3, secs, 0);
        close_all(fds, n);
        if (write(p[1], &r, sizeof r) != sizeof r)
            _exit(1);
        _exit(0);
    }
    close(p[1]);
    track(pid);
    if (read(p[0], &r, sizeof r) != sizeof r)
        r.ok = 0;
    close(p[0]);
    waitpid(pid, NULL, 0);
    untrack(pid);
    return r;
}

/* ------------------------------------------------------ the idle figure */

typedef struct idle_result {
    result_t without, with;
    int idle;                     /* idle connections held */
    long long pss0, pss1, rss0, rss1; /* kB, before and after */
    int ok;
} idle_result_t;

/* Steps the client child and the parent take in turn over a socketpair. */
static void step_send(int fd, char c)
{
    if (write(fd, &c, 1) != 1)
        _exit(1);
}

static int step_wait(int fd, double secs)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    char c;
    if (poll(&p, 1, (int)(secs * 1000)) != 1 || read(fd, &c, 1) != 1)
        return -1;
    return c;
}

/* Keep the lower p99 of two turns: a burst of load from elsewhere on the
 * machine then spoils one turn, not the figure. */
static void keep_best(result_t *best, result_t r, int first)
{
    if (first || (r.ok && (!best->ok || r.p99 < best->p99)))
        *best = r;
}

/* Wait (up to secs) until the processes under root hold at most want
 * descriptors: the server has seen the closes. */
static void wait_fds_below(pid_t root, long want, double secs)
{
    double end = now() + secs;
    while (tree_fds(root) > want && now() < end)
        poll(NULL, 0, 20);
}

/* Against the server whose processes are under root: the active ones'
 * latency, then idle connections opened and the memory they cost, then
 * the latency again with them held. */
static idle_result_t idle_test(pid_t root, int port, int nidle, int fds_per_conn, double secs,
                               int latency)
{
    idle_result_t res = {0};
    int sp[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0)
        die("socketpair: %s", strerror(errno));
    pid_t pid = fork();
    if (pid == 0) {
        /* without, with, without, with: the two figures are taken side by
         * side twice, the idle connections closed and opened in between */
        close(sp[0]);
        int *fds = malloc(sizeof(int) * (size_t)(ACTIVE + nidle));
        result_t without = {0}, with = {0};
        int n = connect_many(port, fds, ACTIVE, 1), idle = 0;
        long base_fds = 0;
        for (int turn = 0; turn < 2; turn++) {
            if (n == ACTIVE && latency)
                keep_best(&without, pingpong(fds, ACTIVE, 8, 0.3, secs, 1), turn == 0);
            if (turn == 0) {
                step_send(sp[1], 'A'); /* active ones open: measure the baseline */
                if (step_wait(sp[1], 60) != 'G')
                    _exit(1);
                base_fds = tree_fds(root);
            }
            idle = connect_many(port, fds + ACTIVE, nidle, 0);
            if (turn == 0) {
                if (write(sp[1], &idle, sizeof idle) != sizeof idle)
                    _exit(1);
                if (step_wait(sp[1], 60) != 'G')
                    _exit(1);
            } else {
                wait_fds(root, base_fds + (long)idle * fds_per_conn, 30);
            }
            if (n == ACTIVE && latency)
                keep_best(&with, pingpong(fds, ACTIVE, 8, 0.3, secs, 1), turn == 0);
            if (turn == 0) {
                close_all(fds + ACTIVE, idle);
                wait_fds_below(root, base_fds, 30);
            }
        }
        if (write(sp[1], &without, sizeof without) != sizeof without ||
            write(sp[1], &with, sizeof with) != sizeof with)
            _exit(1);
        close_all(fds, n + idle);
        _exit(0);
    }
    close(sp[1]);
    track(pid);
    if (step_wait(sp[0], 60) != 'A')
        goto out;
    long fds0 = tree_fds(root);
    res.pss0 = tree_mem_kb(root, "Pss");
    res.rss0 = tree_mem_kb(root, "Rss");
    step_send(sp[0], 'G');
    struct pollfd pf = {.fd = sp[0], .events = POLLIN};
    if (poll(&pf, 1, 60000) != 1 || read(sp[0], &res.idle, sizeof res.idle) != sizeof res.idle)
        goto out;
    if (wait_fds(root, fds0 + (long)res.idle * fds_per_conn, 30) != 0)
        fprintf(stderr, "bench_server: the server holds %ld descriptors, expected %ld\n",
                tree_fds(root), fds0 + (long)res.idle * fds_per_conn);
    res.pss1 = tree_mem_kb(root, "Pss");
    res.rss1 = tree_mem_kb(root, "Rss");
    step_send(sp[0], 'G');
    pf.revents = 0;
    if (poll(&pf, 1, 60000) != 1 || read(sp[0], &res.without, sizeof res.without) !=
                                          sizeof res.without ||
        read(sp[0], &res.with, sizeof res.with) != sizeof res.with)
        goto out;
    res.ok = res.idle == nidle;
out:
    close(sp[0]);
    if (wait_for(pid, 30) < 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
    untrack(pid);
    return res;
}

/* ---------------------------------------------------------------- peers */

static char tmpdir[] = "/tmp/bench_server.XXXXXX";

/* Build echo.go into tmpdir: the binary's path, or NULL (go missing or
 * the build failed: said on stdout). */
static const char *build_go(void)
{
    static char bin[256];
    if (system("command -v go >/dev/null 2>&1") != 0) {
        printf("Go: go not installed, its lines are skipped (golang-go)\n");
        return NULL;
    }
    snprintf(bin, sizeof bin, "%s/echo_go", tmpdir);
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "cp '%s/echo.go' '%s/' && cd '%s' && GOFLAGS=-mod=mod go build -o echo_go echo.go",
             BENCH_PEERS_DIR, tmpdir, tmpdir);
    if (system(cmd) != 0) {
        printf("Go: building bench/peers/echo.go failed, its lines are skipped\n");
        return NULL;
    }
    return bin;
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

static const char *nginx_module(void)
{
    static const char *const paths[] = {"/usr/lib/nginx/modules/ngx_stream_module.so",
                                        "/usr/share/nginx/modules/ngx_stream_module.so",
                                        "/usr/lib64/nginx/modules/ngx_stream_module.so"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
        if (access(paths[i], R_OK) == 0)
            return paths[i];
    return NULL;
}

/* Write bench/peers/nginx-stream.conf with its values filled in. */
static int nginx_config(const char *path, int port, int upstream, long nofile)
{
    char src[512];
    snprintf(src, sizeof src, "%s/nginx-stream.conf", BENCH_PEERS_DIR);
    FILE *in = fopen(src, "r"), *out = fopen(path, "w");
    if (!in || !out) {
        if (in)
            fclose(in);
        if (out)
            fclose(out);
        return -1;
    }
    const char *mod = nginx_module();
    char line[512];
    while (fgets(line, sizeof line, in)) {
        char val[4][300];
        const char *keys[] = {"@LOAD_MODULE@", "@NOFILE@", "@CONNECTIONS@", "@PREFIX@",
                              "@UPSTREAM_PORT@", "@PORT@"};
        snprintf(val[0], sizeof val[0], "%s%s%s", mod ? "load_module " : "", mod ? mod : "",
                 mod ? ";" : "");
        snprintf(val[1], sizeof val[1], "%ld", nofile);
        snprintf(val[2], sizeof val[2], "%ld", nofile - 64);
        char up[16], pt[16];
        snprintf(up, sizeof up, "%d", upstream);
        snprintf(pt, sizeof pt, "%d", port);
        const char *vals[] = {val[0], val[1], val[2], tmpdir, up, pt};
        char outl[1024];
        size_t o = 0;
        for (const char *s = line; *s && o < sizeof outl - 1;) {
            int hit = 0;
            for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
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
    fclose(out);
    return 0;
}

/* Start nginx proxying 127.0.0.1:port to upstream; ready once it accepts. */
static int start_nginx(server_t *s, int upstream, long nofile)
{
    if (system("command -v nginx >/dev/null 2>&1") != 0) {
        printf("nginx: not installed, its line is skipped (nginx, libnginx-mod-stream)\n");
        return -1;
    }
    char conf[256], err[256];
    snprintf(conf, sizeof conf, "%s/nginx.conf", tmpdir);
    snprintf(err, sizeof err, "%s/error.log", tmpdir);
    int port = free_port();
    if (nginx_config(conf, port, upstream, nofile) != 0) {
        printf("nginx: cannot write its config, skipped\n");
        return -1;
    }
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        dup2(null, 0);
        dup2(null, 1);
        execlp("nginx", "nginx", "-p", tmpdir, "-c", conf, "-e", err, (char *)NULL);
        _exit(127);
    }
    track(pid);
    s->name = "nginx";
    s->pid = pid;
    s->port = port;
    double end = now() + 20;
    while (now() < end) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        int up = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
        close(fd);
        if (up)
            return 0;
        if (waitpid(pid, NULL, WNOHANG) == pid) {
            s->pid = 0;
            untrack(pid);
            break;
        }
        poll(NULL, 0, 20);
    }
    char cmd[600];
    snprintf(cmd, sizeof cmd, "tail -5 '%s' >&2", err);
    printf("nginx: did not start (its error log follows on stderr), skipped\n");
    if (system(cmd) != 0) {
        /* nothing more to show */
    }
    stop_server(s);
    return -1;
}

/* ----------------------------------------------------------------- main */

typedef struct row {
    const char *name;
    int workers;
    int go;
    result_t t8[ROUNDS], t1k[ROUNDS]; /* each turn's figures */
    int ran, exit_status;
} row_t;

static const char *echo_path;

/* The echo server; its listen backlog as deep as the kernel allows, for
 * the bursts of connections the idle test makes (nginx connects to it as
 * fast as it accepts). */
static int start_echo(server_t *s, const char *name, const char *mode, int workers)
{
    char w[16];
    snprintf(w, sizeof w, "%d", workers);
    char *argv[] = {(char *)echo_path, "--mode",           (char *)mode, "--workers",
                    w,                 "--set",            "backlog=4096", NULL};
    return start_server(s, name, argv, NULL);
}

static int start_go(server_t *s, const char *bin, int procs)
{
    static char env[32];
    snprintf(env, sizeof env, "GOMAXPROCS=%d", procs);
    char *argv[] = {(char *)bin, NULL};
    char *envv[] = {env, NULL};
    return start_server(s, procs == 1 ? "Go GOMAXPROCS=1" : "Go GOMAXPROCS=2", argv, envv);
}

static void print_idle(const char *name, const idle_result_t *r, int latency)
{
    if (!r->ok && r->idle <= 0) {
        printf("%-30s  failed\n", name);
        return;
    }
    char p99a[32] = "-", p99b[32] = "-", ratio[32] = "-";
    if (latency && r->without.ok && r->with.ok) {
        snprintf(p99a, sizeof p99a, "%.0f us", r->without.p99 * 1e6);
        snprintf(p99b, sizeof p99b, "%.0f us", r->with.p99 * 1e6);
        snprintf(ratio, sizeof ratio, "%.2f", r->with.p99 / r->without.p99);
    }
    double pss = (double)(r->pss1 - r->pss0) * 1024.0 / r->idle;
    double rss = (double)(r->rss1 - r->rss0) * 1024.0 / r->idle;
    printf("%-30s %6d  %11s %11s %6s  %9.0f B %9.0f B\n", name, r->idle, p99a, p99b, ratio, pss,
           rss);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    signal(SIGALRM, on_alarm);
    alarm(BENCH_LIMIT);
    setvbuf(stdout, NULL, _IOLBF, 0);

    echo_path = getenv("SWCO_BENCH_ECHO") ? getenv("SWCO_BENCH_ECHO") : "./examples/tcp_echo_server";
    double secs = getenv("SWCO_BENCH_SECONDS") ? atof(getenv("SWCO_BENCH_SECONDS")) : 1.0;
    if (secs <= 0)
        secs = 1.0;
    int nidle = getenv("SWCO_BENCH_IDLE") ? atoi(getenv("SWCO_BENCH_IDLE")) : 10000;
    if (nidle < 1)
        nidle = 10000;
    const char *only = getenv("SWCO_BENCH_ONLY");
    if (access(echo_path, X_OK) != 0)
        die("%s: not found (make builds it; SWCO_BENCH_ECHO names another)", echo_path);

    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    long nofile = (long)rl.rlim_cur;

    if (!mkdtemp(tmpdir))
        die("mkdtemp: %s", strerror(errno));
    const char *go = build_go();

    /* 1: throughput */
    row_t rows[] = {
        {.name = "tcp_echo_server BASE", .workers = 1},
        {.name = "tcp_echo_server BASE", .workers = 2},
        {.name = "tcp_echo_server PROCESS", .workers = 1},
        {.name = "tcp_echo_server PROCESS", .workers = 2},
        {.name = "tcp_echo_server THREAD", .workers = 1},
        {.name = "tcp_echo_server THREAD", .workers = 2},
        {.name = "Go net", .workers = 1, .go = 1},
        {.name = "Go net", .workers = 2, .go = 1},
    };
    const char *modes[] = {"base", "base", "process", "process", "thread", "thread"};
    size_t nrows = sizeof rows / sizeof rows[0];
    /* Every server runs from the start (an idle one costs nothing) and
     * is measured ROUNDS times, in turns that go through all servers: each
     * figure is the median of its turns, each ratio the median of the
     * ratios to Go within a turn.  Load from elsewhere on this machine
     * comes and goes; servers measured side by side see about the same. */
    printf("TCP echo, %d connections each with one message in flight, median of %d turns "
           "of %.1f s\n",
           ACTIVE, ROUNDS, secs);
    server_t servers[sizeof rows / sizeof rows[0]];
    for (size_t i = 0; i < nrows; i++) {
        if (only && strcmp(only, "echo") != 0)
            break;
        int rc = rows[i].go ? (go ? start_go(&servers[i], go, rows[i].workers) : -1)
                            : start_echo(&servers[i], rows[i].name, modes[i], rows[i].workers);
        rows[i].ran = rc == 0;
    }
    /* Go first, then the servers compared with it at its worker count */
    static const size_t order[] = {6, 0, 2, 4, 7, 1, 3, 5};
    for (int t = 0; t < ROUNDS; t++)
        for (size_t k = 0; k < nrows; k++) {
            size_t i = order[k];
            if (rows[i].ran) {
                rows[i].t8[t] = throughput(servers[i].port, 8, secs);
                rows[i].t1k[t] = throughput(servers[i].port, 1024, secs);
            }
        }
    for (size_t i = 0; i < nrows; i++)
        if (rows[i].ran)
            rows[i].exit_status = stop_server(&servers[i]);
    printf("%-26s %7s  %12s %12s  %10s %10s\n", "server", "workers", "8 B req/s", "1 KiB req/s",
           "8 B vs Go", "1 KiB vs Go");
    for (size_t i = 0; i < nrows; i++) {
        row_t *r = &rows[i];
        if (!r->ran) {
            printf("%-26s %7d  %12s\n", r->name, r->workers, "skipped");
            continue;
        }
        int ok = 1, any = 0;
        for (int t = 0; t < ROUNDS; t++) {
            ok &= r->t8[t].ok && r->t1k[t].ok;
            any |= r->t8[t].ok || r->t1k[t].ok;
        }
        if (!any) {
            printf("%-26s %7d  %12s (exit status %d)\n", r->name, r->workers, "failed",
                   r->exit_status);
            continue;
        }
        const row_t *g = NULL;
        for (size_t j = 0; j < nrows; j++)
            if (rows[j].go && rows[j].ran && rows[j].workers == r->workers)
                g = &rows[j];
        double rps8[ROUNDS], rps1k[ROUNDS], q8[ROUNDS], q1k[ROUNDS];
        for (int t = 0; t < ROUNDS; t++) {
            rps8[t] = r->t8[t].rps;
            rps1k[t] = r->t1k[t].rps;
            q8[t] = g && g->t8[t].rps > 0 ? r->t8[t].rps / g->t8[t].rps : 0;
            q1k[t] = g && g->t1k[t].rps > 0 ? r->t1k[t].rps / g->t1k[t].rps : 0;
        }
        char v8[32] = "-", v1k[32] = "-";
        if (g && !r->go) {
            snprintf(v8, sizeof v8, "%.2fx", median(q8, ROUNDS));
            snprintf(v1k, sizeof v1k, "%.2fx", median(q1k, ROUNDS));
        }
        printf("%-26s %7d  %12.0f %12.0f  %10s %10s%s%s\n", r->name, r->workers,
               median(rps8, ROUNDS), median(rps1k, ROUNDS), v8, v1k, ok ? "" : "  (errors)",
               !r->go && r->exit_status != 0 ? "  (SIGTERM: non-zero exit)" : "");
    }

    /* 2: idle connections */
    if (only && strcmp(only, "idle") != 0)
        goto done;
    int cap = (int)(nofile - 300);
    int n_ours = nidle < cap ? nidle : cap;
    printf("\n%d idle connections held while %d echo 8-byte messages\n", n_ours, ACTIVE);
    printf("%-30s %6s  %11s %11s %6s  %11s %11s\n", "server", "idle", "p99 alone", "p99 idle",
           "ratio", "Pss/idle", "RSS/idle");
    server_t echo;
    if (start_echo(&echo, "tcp_echo_server BASE", "base", 1) == 0) {
        idle_result_t r = idle_test(echo.pid, echo.port, n_ours, 1, secs, 1);
        print_idle("tcp_echo_server BASE 1 worker", &r, 1);
        /* nginx proxies to this echo server: two descriptors per connection */
        int n_nginx = (int)(nofile - 300) / 2;
        if (n_nginx > nidle)
            n_nginx = nidle;
        server_t ngx;
        if (start_nginx(&ngx, echo.port, nofile) == 0) {
            idle_result_t rn = idle_test(ngx.pid, ngx.port, n_nginx, 2, secs, 1);
            print_idle("nginx stream proxy", &rn, 1);
            stop_server(&ngx);
        }
        stop_server(&echo);
    }
    server_t gs;
    if (go && start_go(&gs, go, 1) == 0) {
        idle_result_t r = idle_test(gs.pid, gs.port, n_ours, 1, secs, 1);
        print_idle("Go net GOMAXPROCS=1", &r, 1);
        stop_server(&gs);
    }
    printf("(Pss/RSS: growth of the server's processes' memory with the idle connections\n"
           " open, divided by their number; kernel socket buffers are not counted.)\n");

done:;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) {
        /* leaving a temp dir behind is harmless */
    }
    return 0;
}
