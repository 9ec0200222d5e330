/* The server object, its options, and BASE and THREAD modes, seen from
 * real peers on loopback: python3 socket clients, nc (netcat-openbsd) and
 * socat.  Each server runs in a forked child (swco_server_start() returns
 * only when it stops); the test talks to it as a client would and stops it
 * with SIGTERM.  Synchronisation is by pipes and replies, never sleeps;
 * the time limits are safety nets scaled by SWCO_TEST_SLOW. */
#include "testutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
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
    fprintf(stderr, "check_server: %s is not installed; skipping\n", name);
    return 0;
}

/* Run argv with input on its stdin; its stdout into out (NUL-ended).
 * Returns its exit status (or -1 when it ran past the time limit). */
static int run_cmd(char *const argv[], const char *input, size_t input_len, char *out,
                   size_t out_cap)
{
    int in[2], outp[2];
    ck_assert_int_eq(pipe2(in, O_CLOEXEC), 0);
    ck_assert_int_eq(pipe2(outp, O_CLOEXEC), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(outp[1], 1);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(in[0]);
    close(outp[1]);
    signal(SIGPIPE, SIG_IGN);
    if (input_len && write(in[1], input, input_len) != (ssize_t)input_len)
        ck_abort_msg("cannot feed %s", argv[0]);
    close(in[1]);
    size_t len = 0;
    double deadline = now_s() + 30 * slow();
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

static int python(const char *script, const char *a1, const char *a2, char *out, size_t cap)
{
    char *argv[] = {"python3", "-c", (char *)script, (char *)(a1 ? a1 : ""), (char *)(a2 ? a2 : ""),
                    NULL};
    return run_cmd(argv, NULL, 0, out, cap);
}

/* A command started in the background: its stdout is read by finish_cmd. */
typedef struct bg {
    pid_t pid;
    int out;
} bg_t;

static bg_t spawn_cmd(char *const argv[])
{
    int outp[2];
    ck_assert_int_eq(pipe2(outp, O_CLOEXEC), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        dup2(outp[1], 1);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(outp[1]);
    return (bg_t){pid, outp[0]};
}

static int finish_cmd(bg_t *b, char *out, size_t cap)
{
    size_t len = 0;
    double deadline = now_s() + 30 * slow();
    for (;;) {
        struct pollfd p = {b->out, POLLIN, 0};
        int left = (int)((deadline - now_s()) * 1000);
        if (left <= 0 || poll(&p, 1, left) <= 0) {
            kill(b->pid, SIGKILL);
            break;
        }
        ssize_t n = read(b->out, out + len, cap - 1 - len);
        if (n <= 0 || (len += (size_t)n) == cap - 1)
            break;
    }
    out[len] = 0;
    close(b->out);
    int st;
    waitpid(b->pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Read one byte from fd within the time limit: the byte, or -1. */
static int read_byte(int fd)
{
    struct pollfd p = {fd, POLLIN, 0};
    char b;
    if (poll(&p, 1, (int)(30000 * slow())) != 1 || read(fd, &b, 1) != 1)
        return -1;
    return b;
}

/* A server in a forked child.  `ready` gets a byte from each worker start;
 * `gone` reaches EOF when the child has exited. */
typedef struct child {
    pid_t pid;
    int ready, gone;
} child_t;

static int ready_w = -1; /* the child's end of the ready pipe */

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
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(r[0]);
        close(g[0]);
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
    return (child_t){pid, r[0], g[0]};
}

/* A server built in the child by build(port) (the parent holds no copy
 * of its sockets: enable_reuse_port binds them again at start). */
static child_t start_built_child(swco_server_t *(*build)(int port), int port)
{
    int r[2], g[2];
    ck_assert_int_eq(pipe2(r, O_CLOEXEC), 0);
    ck_assert_int_eq(pipe2(g, O_CLOEXEC), 0);
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(r[0]);
        close(g[0]);
        ready_w = r[1];
        swco_server_t *srv = build(port);
        int rc = srv ? swco_server_on_worker_start(srv, note_worker_start, NULL, NULL) : -1;
        if (rc == 0)
            rc = swco_server_start(srv);
        if (rc < 0)
            fprintf(stderr, "start: %s\n", swco_strerror(rc));
        swco_server_free(srv);
        fflush(NULL);
        _exit(rc == 0 ? 0 : 3);
    }
    close(r[1]);
    close(g[1]);
    return (child_t){pid, r[0], g[0]};
}

/* A port nobody listens on now. */
static int free_port(void)
{
    swco_server_t *srv = swco_server_new("127.0.0.1", 0, SWCO_SERVER_BASE, SWCO_SOCK_TCP);
    ck_assert_ptr_nonnull(srv);
    int port = swco_server_listener_port(srv, 0);
    swco_server_free(srv);
    return port;
}

/* Wait for n worker starts. */
static void wait_ready(child_t *c, int n)
{
    for (int i = 0; i < n; i++) {
        struct pollfd p = {c->ready, POLLIN, 0};
        ck_assert_msg(poll(&p, 1, (int)(30000 * slow())) == 1, "server did not start");
        char b;
        ck_assert_msg(read(c->ready, &b, 1) == 1, "server exited before it started");
    }
}

/* SIGTERM (sig 0: none, it stops by itself) and the child's exit status. */
static int stop_child(child_t *c, int sig)
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

static char portbuf[16];
static const char *port_of(swco_server_t *srv, int listener)
{
    snprintf(portbuf, sizeof portbuf, "%d", swco_server_listener_port(srv, listener));
    return portbuf;
}

/* ----------------------------------------------------- server callbacks */

static void echo(swco_server_t *srv, long long fd, int rid, const void *data, size_t len,
                 void *arg)
{
    swco_server_send(srv, fd, data, len);
}

static long long last_closed; /* in the server: the last connection closed */

static void note_close(swco_server_t *srv, long long fd, int rid, void *arg) { last_closed = fd; }

static void reply(swco_server_t *srv, long long fd, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void reply(swco_server_t *srv, long long fd, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    swco_server_send(srv, fd, buf, (size_t)n);
}

/* Line commands (the listener frames by "\n"). */
static void command(swco_server_t *srv, long long fd, int rid, const void *data, size_t len,
                    void *arg)
{
    char line[256];
    if (len >= sizeof line)
        len = sizeof line - 1;
    memcpy(line, data, len);
    line[len] = 0;
    if (len && line[len - 1] == '\n')
        line[--len] = 0;
    long long a;
    char msg[128];
    if (strcmp(line, "WHO") == 0) {
        reply(srv, fd, "%lld %d\n", fd, swco_server_worker_id(srv));
    } else if (strcmp(line, "INFO") == 0) {
        swco_server_client_info_t ci = {.size = sizeof ci};
        int rc = swco_server_get_client_info(srv, fd, &ci);
        reply(srv, fd, "%d %s %d %d %d %lld %d %d\n", rc, ci.addr, ci.port, ci.listener,
              ci.server_port, ci.uid, ci.connect_time > 1e9, ci.last_recv_time >= ci.connect_time);
    } else if (sscanf(line, "BIND %lld", &a) == 1) {
        reply(srv, fd, "%d\n", swco_server_bind(srv, fd, a));
    } else if (strcmp(line, "CONNS") == 0) {
        /* Page through two at a time; each listed one exists. */
        long long ids[2], from = 0, prev = 0;
        long n, total = 0;
        int ordered = 1, exist = 1, mine = 0;
        while ((n = swco_server_connections(srv, from, ids, 2)) > 0) {
            for (long i = 0; i < n; i++) {
                ordered &= ids[i] > prev;
                exist &= swco_server_exists(srv, ids[i]);
                mine |= ids[i] == fd;
                prev = ids[i];
            }
            total += n;
            from = ids[n - 1];
        }
        reply(srv, fd, "%ld %d %d %d\n", total, ordered, exist, mine);
    } else if (strcmp(line, "STALE") == 0) {
        swco_server_client_info_t ci = {.size = sizeof ci};
        long long bogus = last_closed + (1LL << 40);
        reply(srv, fd, "%lld %ld %d %d %d %d %d %ld\n", last_closed > 0 ? 1LL : 0LL,
              swco_server_send(srv, last_closed, "x", 1), swco_server_exists(srv, last_closed),
              swco_server_get_client_info(srv, last_closed, &ci),
              swco_server_close(srv, last_closed, 0), swco_server_bind(srv, last_closed, 5),
              swco_server_pause(srv, last_closed), swco_server_send(srv, bogus, "x", 1));
    } else if (sscanf(line, "TO %lld %127s", &a, msg) == 2) {
        size_t n = strlen(msg);
        msg[n++] = '\n';
        long rc = swco_server_send(srv, a, msg, n);
        reply(srv, fd, "SENT %ld\n", rc);
    } else if (sscanf(line, "TOW %lld %127s", &a, msg) == 2) {
        size_t n = strlen(msg);
        msg[n++] = '\n';
        long rc = swco_server_sendwait(srv, a, msg, n);
        reply(srv, fd, "SENT %ld\n", rc);
    } else if (strcmp(line, "STATS") == 0) {
        swco_server_stats_t st = {.size = sizeof st};
        swco_server_worker_stats_t ws = {.size = sizeof ws};
        int rc = swco_server_stats(srv, &st);
        int rc2 = swco_server_worker_stats(srv, swco_server_worker_id(srv), &ws);
        reply(srv, fd, "%d %d %lld %lld %lld %lld %d %d %d %lld %d %d\n", rc, rc2,
              st.connection_num, st.accept_count, st.close_count, st.request_count,
              st.worker_num, ws.pid == getpid(), ws.busy, ws.request_count,
              st.start_time > 1e9, swco_server_worker_stats(srv, 99, &ws));
    } else if (strcmp(line, "PROM") == 0) {
        static char text[16384];
        long n = swco_server_stats_prometheus(srv, text, sizeof text);
        char small[8];
        long tiny = swco_server_stats_prometheus(srv, small, sizeof small);
        if (n < 0)
            reply(srv, fd, "ERR %ld\nEND\n", n);
        else {
            swco_server_send(srv, fd, text, (size_t)n);
            reply(srv, fd, "# tiny %ld\nEND\n", tiny);
        }
    } else if (strcmp(line, "SET") == 0) {
        reply(srv, fd, "%d %d %d\n", swco_server_set(srv, "worker_num", "3"),
              swco_server_set(srv, "send_yield", "1"),
              swco_server_on_connect(srv, NULL, NULL, NULL));
    } else if (sscanf(line, "TASK %127s", msg) == 1) {
        char *res = NULL;
        size_t res_len = 0;
        int rc = swco_server_taskwait(srv, msg, strlen(msg), 30, -1, &res, &res_len);
        reply(srv, fd, "%d %.*s %d\n", rc, (int)res_len, res ? res : "", swco_server_is_task_worker(srv));
        free(res);
    } else if (strcmp(line, "PID") == 0) {
        reply(srv, fd, "%d\n", (int)getpid());
    } else if (strcmp(line, "LOG") == 0) {
        fprintf(stderr, "LOGGED by %d\n", (int)getpid());
        reply(srv, fd, "ok\n");
    } else if (strcmp(line, "QUIT") == 0) {
        reply(srv, fd, "BYE\n");
        swco_server_shutdown(srv);
    } else {
        reply(srv, fd, "%s\n", line);
    }
}

static swco_server_t *new_server(int mode, int type, const char *host)
{
    swco_server_t *srv = swco_server_new(host, 0, mode, type);
    ck_assert_msg(srv != NULL, "swco_server_new: %s", swco_strerror(swco_last_error()));
    return srv;
}

static void set_ok(swco_server_t *srv, const char *name, const char *value)
{
    int rc = swco_server_set(srv, name, value);
    ck_assert_msg(rc == 0, "set %s=%s: %s", name, value, swco_strerror(rc));
}

/* A python client: connect to argv[1] (port, or a path for Unix), send
 * each argv[2] line (separated by '|') and print the reply line of each. */
static const char *py_lines =
    "import socket,sys\n"
    "a=sys.argv[1]\n"
    "s=socket.socket(socket.AF_UNIX if a.startswith('/') else socket.AF_INET)\n"
    "s.settimeout(60)\n"
    "s.connect(a if a.startswith('/') else ('127.0.0.1',int(a)))\n"
    "f=s.makefile('rb')\n"
    "for l in sys.argv[2].split('|'):\n"
    "  s.sendall((l+'\\n').encode())\n"
    "  r=f.readline().decode()\n"
    "  if l=='PROM':\n"
    "    while not r.endswith('END\\n'): r+=f.readline().decode()\n"
    "  sys.stdout.write(r)\n";

/* ------------------------------------------------------- object, options */

START_TEST(test_new_errors)
{
    ck_assert_ptr_null(swco_server_new("127.0.0.1", 0, 0, SWCO_SOCK_TCP));
    ck_assert_int_eq(swco_last_error(), -EINVAL);
    ck_assert_ptr_null(swco_server_new("127.0.0.1", 0, SWCO_SERVER_BASE, 99));
    ck_assert_int_eq(swco_last_error(), -EINVAL);
    ck_assert_ptr_null(swco_server_new("127.0.0.1", 0, SWCO_SERVER_BASE,
                                       SWCO_SOCK_UDP | SWCO_SOCK_SSL));
    ck_assert_int_eq(swco_last_error(), -EINVAL);
    ck_assert_ptr_null(swco_server_new("not-an-address", 0, SWCO_SERVER_BASE, SWCO_SOCK_TCP));
    ck_assert_int_eq(swco_last_error(), -EINVAL);
    ck_assert_ptr_null(swco_server_new("127.0.0.1", 70000, SWCO_SERVER_BASE, SWCO_SOCK_TCP));
    ck_assert_int_eq(swco_last_error(), -EINVAL);
    char longpath[200];
    memset(longpath, 'a', sizeof longpath - 1);
    longpath[0] = '/';
    longpath[sizeof longpath - 1] = 0;
    ck_assert_ptr_null(swco_server_new(longpath, 0, SWCO_SERVER_BASE, SWCO_SOCK_UNIX_STREAM));
    ck_assert_int_eq(swco_last_error(), -EINVAL);

    /* port 0: a real port; taking it again is refused */
    swco_server_t *a = new_server(SWCO_SERVER_BASE, SWCO_SOCK_TCP, "127.0.0.1");
    int port = swco_server_listener_port(a, 0);
    ck_assert_int_gt(port, 0);
    ck_assert_int_eq(swco_server_listener_count(a), 1);
    ck_assert_int_eq(swco_server_listener_port(a, 1), -EINVAL);
    ck_assert_int_eq(swco_server_listener_port(a, -1), -EINVAL);
    ck_assert_ptr_null(swco_server_new("127.0.0.1", port, SWCO_SERVER_BASE, SWCO_SOCK_TCP));
    ck_assert_int_eq(swco_last_error(), -EADDRINUSE);
    ck_assert_int_eq(swco_server_add_listener(a, "127.0.0.1", port, SWCO_SOCK_TCP), -EADDRINUSE);
    ck_assert_int_eq(swco_server_add_listener(a, "::1", 0, SWCO_SOCK_TCP6), 1);
    ck_assert_int_gt(swco_server_listener_port(a, 1), 0);
    ck_assert_int_eq(swco_server_add_listener(a, "127.0.0.1", 0, SWCO_SOCK_UDP), 2);
    ck_assert_int_eq(swco_server_add_listener(a, "127.0.0.1", 0, 42), -EINVAL);
    ck_assert_int_eq(swco_server_listener_count(a), 3);
    swco_server_free(a);
    swco_server_free(NULL);
}
END_TEST

START_TEST(test_unix_paths)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/swco-srv-%d.sock", (int)getpid());
    unlink(path);
    /* A stale socket file (its owner closed without unlinking) is taken over. */
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    strcpy(un.sun_path, path);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&un, sizeof un), 0);
    close(fd);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    swco_server_t *srv = swco_server_new(path, 0, SWCO_SERVER_BASE, SWCO_SOCK_UNIX_STREAM);
    ck_assert_ptr_nonnull(srv);
    ck_assert_int_eq(swco_server_listener_port(srv, 0), 0);
    /* A live one is not. */
    ck_assert_ptr_null(swco_server_new(path, 0, SWCO_SERVER_BASE, SWCO_SOCK_UNIX_STREAM));
    ck_assert_int_eq(swco_last_error(), -EADDRINUSE);
    /* Nor is a file that is not a socket. */
    char plain[80];
    snprintf(plain, sizeof plain, "%s.txt", path);
    int pf = open(plain, O_CREAT | O_WRONLY, 0600);
    close(pf);
    ck_assert_ptr_null(swco_server_new(plain, 0, SWCO_SERVER_BASE, SWCO_SOCK_UNIX_DGRAM));
    ck_assert_int_eq(swco_last_error(), -EADDRINUSE);
    ck_assert_int_eq(stat(plain, &st), 0);
    unlink(plain);
    /* free removes the socket file it made */
    swco_server_free(srv);
    ck_assert_int_eq(stat(path, &st), -1);
}
END_TEST

START_TEST(test_options)
{
    swco_server_t *srv = new_server(SWCO_SERVER_BASE, SWCO_SOCK_TCP, "127.0.0.1");
    char out[64];
    /* unknown names, bad values */
    ck_assert_int_eq(swco_server_set(srv, "no_such_option", "1"), SWCO_EOPTION);
    ck_assert_int_eq(swco_last_error(), SWCO_EOPTION);
    ck_assert_int_eq(swco_server_set(srv, NULL, "1"), SWCO_EOPTION);
    ck_assert_int_eq(swco_server_get_option(srv, "no_such_option", out, sizeof out), SWCO_EOPTION);
    static const char *const bad[][2] = {
        {"worker_num", "abc"}, {"worker_num", "0"}, {"worker_num", "-1"}, {"worker_num", "2x"},
        {"worker_num", ""}, {"worker_num", " 2"}, {"dispatch_mode", "9"},
        {"dispatch_mode", "0"}, {"package_length_type", "x"}, {"package_length_type", "NN"},
        {"package_eof", ""}, {"package_eof", "123456789"}, {"open_tcp_nodelay", "maybe"},
        {"max_wait_time", "nan"}, {"max_wait_time", "-1"}, {"heartbeat_check_interval", "inf"},
        {"ssl_protocols", "TLSv1.0"}, {"ssl_protocols", ""}, {"buffer_output_size", "0"},
        {"buffer_output_size", "12Q"}, {"max_connection", "99999999999"},
        {"package_length_offset", "70000"}, {"worker_num", NULL}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(swco_server_set(srv, bad[i][0], bad[i][1]) == SWCO_EOPTVALUE,
                      "%s=%s accepted", bad[i][0], bad[i][1] ? bad[i][1] : "(null)");
    /* a bad value changes nothing */
    ck_assert_int_eq(swco_server_get_option(srv, "dispatch_mode", out, sizeof out), 1);
    ck_assert_str_eq(out, "2");

    /* round trips: what get gives back, set accepts and gives back again */
    static const char *const good[][3] = {
        {"worker_num", "3", "3"},
        {"reactor_num", "2", "2"},
        {"task_worker_num", "0", "0"},
        {"task_enable_coroutine", "yes", "1"},
        {"max_connection", "1000", "1000"},
        {"backlog", "128", "128"},
        {"dispatch_mode", "3", "3"},
        {"heartbeat_check_interval", "0.5", "0.5"},
        {"heartbeat_idle_time", "1.25", "1.25"},
        {"buffer_output_size", "4M", "4194304"},
        {"socket_buffer_size", "65536", "65536"},
        {"send_yield", "on", "1"},
        {"enable_coroutine", "false", "0"},
        {"max_coroutine", "5000", "5000"},
        {"max_request", "100", "100"},
        {"max_wait_time", "0.1", "0.1"},
        {"reload_async", "OFF", "0"},
        {"daemonize", "0", "0"},
        {"pid_file", "/tmp/x.pid", "/tmp/x.pid"},
        {"log_file", "", ""},
        {"enable_reuse_port", "true", "1"},
        {"open_eof_check", "1", "1"},
        {"open_eof_split", "1", "1"},
        {"package_eof", "\r\n", "\r\n"},
        {"open_length_check", "true", "1"},
        {"package_length_type", "n", "n"},
        {"package_length_type", "V", "V"},
        {"package_length_type", "C", "C"},
        {"package_length_offset", "2", "2"},
        {"package_body_offset", "6", "6"},
        {"package_max_length", "1K", "1024"},
        {"open_tcp_nodelay", "0", "0"},
        {"open_tcp_keepalive", "1", "1"},
        {"tcp_keepidle", "7", "7"},
        {"tcp_keepinterval", "3", "3"},
        {"tcp_keepcount", "4", "4"},
        {"open_proxy_protocol", "1", "1"},
        {"ssl_cert_file", "/tmp/c.pem", "/tmp/c.pem"},
        {"ssl_key_file", "/tmp/k.pem", "/tmp/k.pem"},
        {"ssl_ca_file", "/tmp/ca.pem", "/tmp/ca.pem"},
        {"ssl_verify_peer", "1", "1"},
        {"ssl_ciphers", "HIGH:!aNULL", "HIGH:!aNULL"},
        {"ssl_protocols", "TLSv1.3", "TLSv1.3"},
        {"ssl_protocols", "TLSv1.2 | TLSv1.3", "TLSv1.2,TLSv1.3"},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        set_ok(srv, good[i][0], good[i][1]);
        long n = swco_server_get_option(srv, good[i][0], out, sizeof out);
        ck_assert_msg(n == (long)strlen(good[i][2]) && strcmp(out, good[i][2]) == 0,
                      "%s: got '%s' (%ld), want '%s'", good[i][0], out, n, good[i][2]);
        char again[64];
        set_ok(srv, good[i][0], out);
        swco_server_get_option(srv, good[i][0], again, sizeof again);
        ck_assert_str_eq(again, out);
    }
    /* open_length_check took over the framing from the EOF switches */
    swco_server_get_option(srv, "open_eof_check", out, sizeof out);
    ck_assert_str_eq(out, "0");
    /* out too small: -ERANGE */
    ck_assert_int_eq(swco_server_get_option(srv, "ssl_ciphers", out, 4), -ERANGE);
    ck_assert_int_eq(swco_server_get_option(srv, "ssl_ciphers", out, 12), 11);

    /* listener options: per listener; server-only names are unknown there */
    ck_assert_int_eq(swco_server_listener_set(srv, 0, "package_eof", "#"), 0);
    ck_assert_int_eq(swco_server_listener_set(srv, 0, "worker_num", "2"), SWCO_EOPTION);
    ck_assert_int_eq(swco_server_listener_set(srv, 5, "package_eof", "#"), -EINVAL);
    ck_assert_int_eq(swco_server_listener_set(srv, -1, "package_eof", "#"), -EINVAL);
    ck_assert_int_eq(swco_server_listener_set(srv, 0, "open_tcp_nodelay", "x"), SWCO_EOPTVALUE);
    /* the listener's own setting did not change the server-wide default */
    swco_server_get_option(srv, "package_eof", out, sizeof out);
    ck_assert_str_eq(out, "\r\n");

    /* set_list: in order, stops at the first bad one */
    const char *names[] = {"worker_num", "max_request", "bogus", "backlog"};
    const char *values[] = {"4", "7", "1", "9"};
    size_t bad_index = 99;
    ck_assert_int_eq(swco_server_set_list(srv, names, values, 4, &bad_index), SWCO_EOPTION);
    ck_assert_uint_eq(bad_index, 2);
    swco_server_get_option(srv, "max_request", out, sizeof out);
    ck_assert_str_eq(out, "7");
    swco_server_get_option(srv, "backlog", out, sizeof out);
    ck_assert_str_eq(out, "128");
    values[2] = "x";
    names[2] = "max_wait_time";
    ck_assert_int_eq(swco_server_set_list(srv, names, values, 4, &bad_index), SWCO_EOPTVALUE);
    ck_assert_uint_eq(bad_index, 2);
    values[2] = "2";
    ck_assert_int_eq(swco_server_set_list(srv, names, values, 4, &bad_index), 0);
    ck_assert_uint_eq(bad_index, 4);
    ck_assert_int_eq(swco_server_set_list(srv, names, values, 0, NULL), 0);
    ck_assert_int_eq(swco_server_set_list(srv, NULL, values, 1, NULL), -EINVAL);
    swco_server_free(srv);
}
END_TEST

START_TEST(test_defaults)
{
    swco_server_t *srv = new_server(SWCO_SERVER_BASE, SWCO_SOCK_TCP, "127.0.0.1");
    static const char *const want[][2] = {
        {"dispatch_mode", "2"},        {"enable_coroutine", "1"},   {"max_wait_time", "3"},
        {"reload_async", "1"},         {"task_worker_num", "0"},    {"max_request", "0"},
        {"backlog", "511"},            {"buffer_output_size", "2097152"},
        {"package_max_length", "2097152"}, {"package_length_type", "N"},
        {"package_body_offset", "4"},  {"package_eof", "\r\n\r\n"}, {"open_eof_check", "0"},
        {"open_length_check", "0"},    {"ssl_protocols", "TLSv1.2,TLSv1.3"},
        {"daemonize", "0"},            {"pid_file", ""}};
    char out[64];
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        ck_assert_int_ge(swco_server_get_option(srv, want[i][0], out, sizeof out), 0);
        ck_assert_msg(strcmp(out, want[i][1]) == 0, "%s = '%s'", want[i][0], out);
    }
    ck_assert_int_ge(swco_server_get_option(srv, "worker_num", out, sizeof out), 1);
    ck_assert_int_ge(atoi(out), 1);
    swco_server_free(srv);
}
END_TEST

static int freed;
static void count_free(void *arg) { freed += *(int *)arg; }

START_TEST(test_callbacks_and_start_errors)
{
    static int one = 1, ten = 10, hundred = 100;
    freed = 0;
    swco_server_t *srv = new_server(SWCO_SERVER_BASE, SWCO_SOCK_TCP, "127.0.0.1");
    /* no receive callback for a stream listener */
    ck_assert_int_eq(swco_server_start(srv), -EINVAL);
    ck_assert_int_eq(swco_server_on_receive(srv, echo, &one, count_free), 0);
    /* replacing calls the old arg_free once */
    ck_assert_int_eq(swco_server_on_receive(srv, echo, &ten, count_free), 0);
    ck_assert_int_eq(freed, 1);
    ck_assert_int_eq(swco_server_listener_on_receive(srv, 0, echo, &hundred, count_free), 0);
    ck_assert_int_eq(swco_server_listener_on_receive(srv, 3, echo, NULL, NULL), -EINVAL);
    /* a datagram listener needs a packet callback */
    ck_assert_int_eq(swco_server_add_listener(srv, "127.0.0.1", 0, SWCO_SOCK_UDP), 1);
    ck_assert_int_eq(swco_server_start(srv), -EINVAL);
    /* a TLS listener needs a certificate and key */
    ck_assert_int_eq(swco_server_on_packet(srv, NULL, NULL, NULL), 0);
    ck_assert_int_eq(swco_server_listener_on_packet(srv, 1, (swco_server_packet_fn)NULL, NULL,
                                                    NULL), 0);
    swco_server_t *tls = new_server(SWCO_SERVER_BASE, SWCO_SOCK_TCP | SWCO_SOCK_SSL, "127.0.0.1");
    ck_assert_int_eq(swco_server_on_receive(tls, echo, NULL, NULL), 0);
    ck_assert_int_eq(swco_server_start(tls), -EINVAL);
    set_ok(tls, "ssl_cert_file", "/nonexistent/cert.pem");
    set_ok(tls, "ssl_key_file", "/nonexistent/key.pem");
    ck_assert_int_lt(swco_server_start(tls), 0);
    swco_server_free(tls);
    /* not in a worker: no worker id; no pids before start */
    ck_assert_int_eq(swco_server_worker_id(srv), SWCO_ENOTWORKER);
    ck_assert_int_eq(swco_server_is_task_worker(srv), 0);
    ck_assert_int_eq(swco_server_manager_pid(srv), 0);
    ck_assert_int_eq(swco_server_master_pid(srv), getpid());
    ck_assert_int_eq(swco_server_worker_pid(srv, -1), -EINVAL);
    /* calls on connections of a server that does not run */
    ck_assert_int_eq(swco_server_send(srv, 1, "x", 1), SWCO_ENOCONN);
    ck_assert_int_eq(swco_server_exists(srv, 1), 0);
    ck_assert_int_eq(swco_server_close(srv, 1, 0), SWCO_ENOCONN);
    swco_server_stats_t st = {.size = sizeof st};
    ck_assert_int_eq(swco_server_stats(srv, &st), 0);
    ck_assert_int_eq(st.connection_num, 0);
    st.size = 0;
    ck_assert_int_eq(swco_server_stats(srv, &st), -EINVAL);
    swco_server_free(srv);
    ck_assert_int_eq(freed, 111);
}
END_TEST

/* ------------------------------------------------------------ BASE mode */

START_TEST(test_base_echo)
{
    if (!have_peer("python3") || !have_peer("nc") || !have_peer("socat"))
        return;
    swco_server_t *srv = new_server(SWCO_SERVER_BASE, SWCO_SOCK_TCP, "127.0.0.1");
    set_ok(srv, "worker_num", "1");
    ck_assert_int_eq(swco_server_on_receive(srv, echo, NULL, NULL), 0);
    child_t c = start_child(srv);
    const char *port = port_of(srv, 0);
    char out[4096];
    /* nc: -N shuts the socket down at the end of its input */
    char *nc[] = {"nc", "-N", "127.0.0.1", (char *)port, NULL};
    ck_assert_int_eq(run_cmd(nc, "hello from nc\n", 14, out, sizeof out), 0);
    ck_assert_str_eq(out, "hello from nc\n");
    char target[64];
    snprintf(target, sizeof target, "TCP:127.0.0.1:%s", port);
    char *socat[] = {"socat", "-t", "30", "-", target, NULL};
    ck_assert_int_eq(run_cmd(socat, "via socat\n", 10, out, sizeof out), 0);
    ck_assert_str_eq(out, "via socat\n");
    ck_assert_int_eq(python(py_lines, port, "one|two|three", out, sizeof out), 0);
    ck_assert_str_eq(out, "one\ntwo\nthree\n");
    /* a bigger payload, in pieces */
    static const char *big =
        "import socket,sys\n"
        "s=socket.create_connection(('127.0.0.1',int(sys.argv[1])))\n"
        "d=bytes(range(256))*4096\n"
        "s.sendall(d)\n"
        "s.shutdown(socket.SHUT_WR)\n"
        "r=b''\n"
        "while len(r)<len(d):\n"
        "  b=s.recv(65536)\n"
        "  if not b: break\n"
        "  r+=b\n"
        "print('same' if r==d else 'differ %d'%len(r))\n";
    ck_assert_int_eq(python(big, port, NULL, out, sizeof out), 0);
    ck_assert_str_eq(out, "same\n");
    ck_assert_int_eq(stop_child(&c, SIGTERM), 0);
    swco_server_free(srv);
}
END_TEST

static swco_server_t *command_server(int mode, int workers)
{
    swco_server_t *srv = new_server(mode, SWCO_SOCK_TCP, "127.0.0.1");
    char n[16];
    snprintf(n, sizeof n, "%d", workers);
    set_ok(srv, "worker_num", n);
    set_ok(srv, "open_eof_split", "1");
    set_ok(srv, "package_eof", "\n");
    ck_assert_int_eq(swco_server_on_receive(srv, command, NULL, NULL), 0);
    ck_assert_int_eq(swco_server_on_close(srv, note_close, NULL, NULL), 0);
    return srv;
}

START_TEST(test_base_client_info)
{
    if (!have_peer("python3"))
        return;
    swco_server_t *srv = command_server(SWCO_SERVER_BASE, 1);
    child_t c = start_child(srv);
    wait_ready(&c, 1);
    const char *port = port_of(srv, 0);
    static const char *script =
        "import socket,sys\n"
        "def conn():\n"
        "  s=socket.create_connection(('127.0.0.1',int(sys.argv[1])),timeout=60)\n"
        "  return s,s.makefile('rb')\n"
        "def ask(c,l):\n"
        "  c[0].sendall((l+'\\n').encode()); return c[1].readline().decode().strip()\n"
        "def close(c):\n"
        "  c[0].shutdown(socket.SHUT_WR); c[0].recv(16); c[0].close()\n"
        "a=conn(); b=conn()\n"
        "me=a[0].getsockname()[1]\n"
        "info=ask(a,'INFO').split()\n"
        "print('info', info[0], info[1], int(info[2])==me, info[3], info[4]==sys.argv[1], info[5], info[6], info[7])\n"
        "print('bind', ask(a,'BIND 42'), ask(a,'BIND 0'))\n"
        "print('uid', ask(a,'INFO').split()[5])\n"
        "print('conns', ask(a,'CONNS'))\n"
        "close(b)\n"
        "print('who', len(ask(a,'WHO').split()))\n"
        "c2=conn(); ask(c2,'WHO'); close(c2)\n"
        "print('conns', ask(a,'CONNS'))\n"
        "print('stale', ask(a,'STALE'))\n"
        "print('set', ask(a,'SET'))\n";
    char out[4096];
    ck_assert_int_eq(python(script, port, NULL, out, sizeof out), 0);
    char want[1024];
    snprintf(want, sizeof want,
             "info 0 127.0.0.1 True 0 True 0 1 1\n"
             "bind 0 %d\n"
             "uid 42\n"
             "conns 2 1 1 1\n"
             "who 2\n"
             "conns 1 1 1 1\n"
             "stale 1 %d 0 %d %d %d %d %d\n"
             "set %d 0 %d\n",
             -EINVAL, SWCO_ENOCONN, SWCO_ENOCONN, SWCO_ENOCONN, SWCO_ENOCONN, SWCO_ENOCONN,
             SWCO_ENOCONN, -EBUSY, -EBUSY);
    ck_assert_str_eq(out, want);
    ck_assert_int_eq(stop_child(&c, SIGTERM), 0);
    swco_server_free(srv);
}
END_TEST


/* ---------------------------------------------------------- THREAD mode */

START_TEST(test_thread_echo)
{
    if (!have_peer("python3") || !have_peer("nc"))
        return;
    swco_server_t *srv = command_server(SWCO_SERVER_THREAD, 2);
    child_t c = start_child(srv);
    wait_ready(&c, 2);
    const char *port = port_of(srv, 0);
    /* 32 connections: both threads get some; each is echoed; a thread
     * sends to a connection of the other (send and sendwait), and lists
     * every connection of the server. */
    static const char *script =
        "import socket,sys\n"
        "def conn():\n"
        "  s=socket.create_connection(('127.0.0.1',int(sys.argv[1])),timeout=60)\n"
        "  return s,s.makefile('rb')\n"
        "def ask(c,l):\n"
        "  c[0].sendall((l+'\\n').encode()); return c[1].readline().decode().strip()\n"
        "cs=[conn() for i in range(32)]\n"
        "who=[ask(c,'WHO').split() for c in cs]\n"
        "print('workers', sorted(set(w[1] for w in who)))\n"
        "print('echo', all(ask(c,'ping%d'%i)=='ping%d'%i for i,c in enumerate(cs)))\n"
        "a=[i for i,w in enumerate(who) if w[1]=='0'][0]\n"
        "b=[i for i,w in enumerate(who) if w[1]=='1'][0]\n"
        "print('to', ask(cs[b],'TO %s hi'%who[a][0]), cs[a][1].readline().decode().strip())\n"
        "print('tow', ask(cs[b],'TOW %s there'%who[a][0]), cs[a][1].readline().decode().strip())\n"
        "print('back', ask(cs[a],'TO %s yo'%who[b][0]), cs[b][1].readline().decode().strip())\n"
        "print('conns', ask(cs[a],'CONNS'))\n"
        "cs[b][0].shutdown(socket.SHUT_WR); cs[b][0].recv(16); cs[b][0].close()\n"
        "print('stale', ask(cs[a],'TO %s late'%who[b][0]))\n";
    char out[4096];
    ck_assert_int_eq(python(script, port, NULL, out, sizeof out), 0);
    char want[512];
    snprintf(want, sizeof want,
             "workers ['0', '1']\necho True\nto SENT 3 hi\ntow SENT 6 there\nback SENT 3 yo\n"
             "conns 32 1 1 1\nstale SENT %d\n", SWCO_ENOCONN);
    ck_assert_str_eq(out, want);
    /* nc against the same server */
    char *nc[] = {"nc", "-N", "127.0.0.1", (char *)port, NULL};
    ck_assert_int_eq(run_cmd(nc, "thread\n", 7, out, sizeof out), 0);
    ck_assert_str_eq(out, "thread\n");
    ck_assert_int_eq(stop_child(&c, SIGTERM), 0);
    swco_server_free(srv);
}
END_TEST

/* Shutdown from a handler stops every thread and makes start return. */
START_TEST(test_thread_shutdown)
{
    if (!have_peer("python3"))
        return;
    swco_server_t *srv = command_server(SWCO_SERVER_THREAD, 3);
    child_t c = start_child(srv);
    wait_ready(&c, 3);
    char out[256];
    ck_assert_int_eq(python(py_lines, port_of(srv, 0), "x|QUIT", out, sizeof out), 0);
    ck_assert_str_eq(out, "x\nBYE\n");
    ck_assert_int_eq(stop_child(&c, 0), 0);
    swco_server_free(srv);
}
END_TEST

/* ------------------------------------------------------------- datagrams */

static void udp_reply(swco_server_t *srv, const void *data, size_t len, const char *addr, int port,
                      int listener, void *arg)
{
    char buf[512];
    int n = snprintf(buf, sizeof buf, "%s %d %d %.*s", addr, port, listener, (int)len,
                     (const char *)data);
    swco_server_sendto(srv, addr, port, buf, (size_t)n, listener);
}

START_TEST(test_udp_packet)
{
    if (!have_peer("python3"))
        return;
    swco_server_t *srv = new_server(SWCO_SERVER_BASE, SWCO_SOCK_UDP, "127.0.0.1");
    set_ok(srv, "worker_num", "1");
    ck_assert_int_eq(swco_server_add_listener(srv, "::1", 0, SWCO_SOCK_UDP6), 1);
    ck_assert_int_eq(swco_server_on_packet(srv, udp_reply, NULL, NULL), 0);
    child_t c = start_child(srv);
    static const char *script =
        "import socket,sys\n"
        "for fam,host,port in ((socket.AF_INET,'127.0.0.1',sys.argv[1]),(socket.AF_INET6,'::1',sys.argv[2])):\n"
        "  s=socket.socket(fam,socket.SOCK_DGRAM); s.settimeout(60)\n"
        "  s.bind((host,0))\n"
        "  for m in (b'hello',b'again'):\n"
        "    s.sendto(m,(host,int(port)))\n"
        "    r,src=s.recvfrom(1000)\n"
        "    a,p,l,d=r.decode().split(' ',3)\n"
        "    print(a==host, int(p)==s.getsockname()[1], l, d, src[1]==int(port))\n";
    char p1[16], p2[16], out[1024];
    snprintf(p1, sizeof p1, "%d", swco_server_listener_port(srv, 0));
    snprintf(p2, sizeof p2, "%d", swco_server_listener_port(srv, 1));
    ck_assert_int_eq(python(script, p1, p2, out, sizeof out), 0);
    ck_assert_str_eq(out, "True True 0 hello True\nTrue True 0 again True\n"
                          "True True 1 hello True\nTrue True 1 again True\n");
    ck_assert_int_eq(stop_child(&c, SIGTERM), 0);
    swco_server_free(srv);
}
END_TEST

START_TEST(test_unix_stream_and_dgram)
{
    if (!have_peer("python3") || !have_peer("socat") || !have_peer("nc"))
        return;
    char spath[64], dpath[64], cpath[64];
    snprintf(spath, sizeof spath, "/tmp/swco-srv-s-%d.sock", (int)getpid());
    snprintf(dpath, sizeof dpath, "/tmp/swco-srv-d-%d.sock", (int)getpid());
    snprintf(cpath, sizeof cpath, "/tmp/swco-srv-c-%d.sock", (int)getpid());
    unlink(cpath);
    swco_server_t *srv = swco_server_new(spath, 0, SWCO_SERVER_BASE, SWCO_SOCK_UNIX_STREAM);
    ck_assert_ptr_nonnull(srv);
    set_ok(srv, "worker_num", "1");
    ck_assert_int_eq(swco_server_add_listener(srv, dpath, 0, SWCO_SOCK_UNIX_DGRAM), 1);
    ck_assert_int_eq(swco_server_on_receive(srv, echo, NULL, NULL), 0);
    ck_assert_int_eq(swco_server_on_packet(srv, udp_reply, NULL, NULL), 0);
    child_t c = start_child(srv);
    char out[1024];
    ck_assert_int_eq(python(py_lines, spath, "unix|stream", out, sizeof out), 0);
    ck_assert_str_eq(out, "unix\nstream\n");
    char target[96];
    snprintf(target, sizeof target, "UNIX-CONNECT:%s", spath);
    char *socat[] = {"socat", "-t", "30", "-", target, NULL};
    ck_assert_int_eq(run_cmd(socat, "socat unix\n", 11, out, sizeof out), 0);
    ck_assert_str_eq(out, "socat unix\n");
    char *nc[] = {"nc", "-N", "-U", spath, NULL};
    ck_assert_int_eq(run_cmd(nc, "nc unix\n", 8, out, sizeof out), 0);
    ck_assert_str_eq(out, "nc unix\n");
    static const char *script =
        "import socket,sys\n"
        "s=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM); s.settimeout(60)\n"
        "s.bind(sys.argv[2])\n"
        "s.sendto(b'datagram',sys.argv[1])\n"
        "r=s.recv(1000).decode()\n"
        "print(r==sys.argv[2]+' 0 1 datagram')\n";
    ck_assert_int_eq(python(script, dpath, cpath, out, sizeof out), 0);
    ck_assert_str_eq(out, "True\n");
    unlink(cpath);
    ck_assert_int_eq(stop_child(&c, SIGTERM), 0);
    swco_server_free(srv);
    struct stat st;
    ck_assert_int_eq(stat(spath, &st), -1);
    ck_assert_int_eq(stat(dpath, &st), -1);
}
END_TEST

/* --------------------------------------------------- framing per listener */

static void show_packet(swco_server_t *srv, long long fd, int rid, const void *data, size_t len,
                        void *arg)
{
    swco_server_client_info_t ci = {.size = sizeof ci};
    swco_server_get_client_info(srv, fd, &ci);
    reply(srv, fd, "<%s%d:%zu>", (const char *)arg, ci.listener, len);
}

START_TEST(test_framing_per_listener)
{
    if (!have_peer("python3"))
        return;
    swco_server_t *srv = new_server(SWCO_SERVER_BASE, SWCO_SOCK_TCP, "127.0.0.1");
    set_ok(srv, "worker_num", "1");
    ck_assert_int_eq(swco_server_add_listener(srv, "127.0.0.1", 0, SWCO_SOCK_TCP), 1);
    ck_assert_int_eq(swco_server_add_listener(srv, "127.0.0.1", 0, SWCO_SOCK_TCP), 2);
    /* listener 1 frames by a length header, its own choice ... */
    ck_assert_int_eq(swco_server_listener_set(srv, 1, "open_length_check", "1"), 0);
    ck_assert_int_eq(swco_server_listener_set(srv, 1, "package_length_type", "n"), 0);
    ck_assert_int_eq(swco_server_listener_set(srv, 1, "package_body_offset", "2"), 0);
    /* ... which the server-wide EOF framing set afterwards leaves alone;
     * listener 2 turns framing off for itself */
    set_ok(srv, "open_eof_split", "1");
    set_ok(srv, "package_eof", "\r\n");
    ck_assert_int_eq(swco_server_listener_set(srv, 2, "open_eof_check", "0"), 0);
    ck_assert_int_eq(swco_server_on_receive(srv, show_packet, "s", NULL), 0);
    ck_assert_int_eq(swco_server_listener_on_receive(srv, 1, show_packet, "L", NULL), 0);
    child_t c = start_child(srv);
    wait_ready(&c, 1);
    static const char *script =
        "import socket,sys,struct\n"
        "def run(port, parts, want):\n"
        "  s=socket.create_connection(('127.0.0.1',int(port)),timeout=60)\n"
        "  for p in parts: s.sendall(p)\n"
        "  r=b''\n"
        "  while len(r)<len(want):\n"
        "    b=s.recv(1000)\n"
        "    if not b: break\n"
        "    r+=b\n"
        "  print(r.decode())\n"
        "  s.close()\n"
        "p=sys.argv[1].split(',')\n"
        "run(p[0], [b'a\\r\\nbb\\r\\nccc', b'c\\r\\n'], '<s0:3><s0:4><s0:6>')\n"
        "run(p[1], [struct.pack('>H',3)+b'xyz'+struct.pack('>H',1)+b'q'+struct.pack('>H',4)+b'ab', b'cd'], '<L1:5><L1:3><L1:6>')\n"
        "run(p[2], [b'raw\\r\\n'], '<s2:5>')\n";
    char ports[64], out[1024];
    snprintf(ports, sizeof ports, "%d,%d,%d", swco_server_listener_port(srv, 0),
             swco_server_listener_port(srv, 1), swco_server_listener_port(srv, 2));
    ck_assert_int_eq(python(script, ports, NULL, out, sizeof out), 0);
    ck_assert_str_eq(out, "<s0:3><s0:4><s0:6>\n<L1:5><L1:3><L1:6>\n<s2:5>\n");
    ck_assert_int_eq(stop_child(&c, SIGTERM), 0);
    swco_server_free(srv);
}
END_TEST

/* ------------------------------------------------------------------ stats */

START_TEST(test_stats_prometheus)
{
    if (!have_peer("python3"))
        return;
    swco_server_t *srv = command_server(SWCO_SERVER_BASE, 1);
    child_t c = start_child(srv);
    wait_ready(&c, 1);
    /* Two connections, three requests before STATS (the fourth); the
     * exposition must parse: HELP and TYPE before each family's samples,
     * counters named *_total, labels quoted, values numbers. */
    static const char *script =
        "import socket,sys,re\n"
        "def conn():\n"
        "  s=socket.create_connection(('127.0.0.1',int(sys.argv[1])),timeout=60)\n"
        "  return s,s.makefile('rb')\n"
        "def ask(c,l):\n"
        "  c[0].sendall((l+'\\n').encode()); return c[1].readline().decode().strip()\n"
        "a=conn(); b=conn()\n"
        "ask(a,'x'); ask(b,'y'); ask(a,'z')\n"
        "print('stats', ask(a,'STATS'))\n"
        "a[0].sendall(b'PROM\\n')\n"
        "text=''\n"
        "while True:\n"
        "  l=a[1].readline().decode()\n"
        "  if l=='END\\n' or not l: break\n"
        "  text+=l\n"
        "types={}; helps=set(); samples={}; ok=True\n"
        "for l in text.splitlines():\n"
        "  if l.startswith('# HELP '): helps.add(l.split()[2]); continue\n"
        "  if l.startswith('# TYPE '):\n"
        "    n,t=l.split()[2:4]; ok&=t in ('counter','gauge') and n not in types; types[n]=t; continue\n"
        "  if l.startswith('#'): continue\n"
        "  m=re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{([a-zA-Z_][a-zA-Z0-9_]*=\"[^\"]*\")(,[a-zA-Z_][a-zA-Z0-9_]*=\"[^\"]*\")*\\})? (\\S+)$', l)\n"
        "  if not m: print('bad line', l); ok=False; continue\n"
        "  float(m.group(5))\n"
        "  ok&=m.group(1) in types and m.group(1) in helps\n"
        "  samples[m.group(1)+(m.group(2) or '')]=float(m.group(5))\n"
        "ok&=all(n.endswith('_total')==(t=='counter') for n,t in types.items())\n"
        "print('parsed', ok, len(types)>=10)\n"
        "print('conns', samples['swco_server_connections'], samples['swco_server_accepted_connections_total'])\n"
        "print('requests', samples['swco_server_requests_total'], samples['swco_server_worker_requests_total{worker=\"0\",type=\"event\"}'])\n"
        "print('tiny', text.splitlines()[-1])\n";
    char out[4096], want[512];
    ck_assert_int_eq(python(script, port_of(srv, 0), NULL, out, sizeof out), 0);
    snprintf(want, sizeof want,
             "stats 0 0 2 2 0 4 1 1 1 4 1 %d\nparsed True True\nconns 2.0 2.0\n"
             "requests 5.0 5.0\ntiny # tiny %d\n",
             -EINVAL, -ERANGE);
    ck_assert_str_eq(out, want);
    ck_assert_int_eq(stop_child(&c, SIGTERM), 0);
    swco_server_free(srv);
}
END_TEST

/* ------------------------------------------------------------------ main */

/* ------------------------------------------- BASE with several workers */

static void upper_task(swco_server_t *srv, long task_id, int src, const void *data, size_t len,
                       void *arg)
{
    char buf[256];
    if (len > sizeof buf - 8)
        len = sizeof buf - 8;
    for (size_t i = 0; i < len; i++)
        buf[i] = (char)(((const char *)data)[i] & ~0x20);
    int n = (int)len + snprintf(buf + len, 8, "/%d", swco_server_is_task_worker(srv));
    swco_server_finish(srv, task_id, buf, (size_t)n);
}

/* Two worker processes under the manager, each with its own SO_REUSEPORT
 * socket: both get connections, each lists only its own, a connection of
 * the other worker is SWCO_ENOTLOCAL; a task worker answers taskwait. */
static swco_server_t *build_workers(int port)
{
    swco_server_t *srv = swco_server_new("127.0.0.1", port, SWCO_SERVER_BASE, SWCO_SOCK_TCP);
    if (!srv)
        return NULL;
    const char *names[] = {"worker_num", "open_eof_split", "package_eof", "enable_reuse_port",
                           "task_worker_num"};
    const char *values[] = {"2", "1", "\n", "1", "1"};
    if (swco_server_set_list(srv, names, values, 5, NULL) < 0 ||
        swco_server_on_receive(srv, command, NULL, NULL) < 0 ||
        swco_server_on_task(srv, upper_task, NULL, NULL) < 0) {
        swco_server_free(srv);
        return NULL;
    }
    return srv;
}

START_TEST(test_base_workers)
{
    if (!have_peer("python3"))
        return;
    int port = free_port();
    child_t c = start_built_child(build_workers, port);
    wait_ready(&c, 3);
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%d", port);
    static const char *script =
        "import socket,sys\n"
        "def conn():\n"
        "  s=socket.create_connection(('127.0.0.1',int(sys.argv[1])),timeout=60)\n"
        "  return s,s.makefile('rb')\n"
        "def ask(c,l):\n"
        "  c[0].sendall((l+'\\n').encode()); return c[1].readline().decode().strip()\n"
        "cs=[conn() for i in range(32)]\n"
        "who=[ask(c,'WHO').split() for c in cs]\n"
        "print('workers', sorted(set(w[1] for w in who)))\n"
        "print('unique', len(set(w[0] for w in who)))\n"
        "a=[i for i,w in enumerate(who) if w[1]=='0'][0]\n"
        "b=[i for i,w in enumerate(who) if w[1]=='1'][0]\n"
        "print('other', ask(cs[b],'TO %s hi'%who[a][0]))\n"
        "n0=sum(1 for w in who if w[1]=='0')\n"
        "print('conns', ask(cs[a],'CONNS').split()[0]==str(n0))\n"
        "print('task', ask(cs[a],'TASK abc'), '|', ask(cs[b],'TASK xyz'))\n";
    char out[4096], want[512];
    ck_assert_int_eq(python(script, portstr, NULL, out, sizeof out), 0);
    snprintf(want, sizeof want,
             "workers ['0', '1']\nunique 32\nother SENT %d\nconns True\n"
             "task 0 ABC/1 0 | 0 XYZ/1 0\n", SWCO_ENOTLOCAL);
    ck_assert_str_eq(out, want);
    ck_assert_int_eq(stop_child(&c, SIGTERM), 0);
}
END_TEST

/* THREAD mode with a task worker thread; shutdown stops it too. */
START_TEST(test_thread_task)
{
    if (!have_peer("python3"))
        return;
    swco_server_t *srv = command_server(SWCO_SERVER_THREAD, 2);
    set_ok(srv, "task_worker_num", "1");
    ck_assert_int_eq(swco_server_on_task(srv, upper_task, NULL, NULL), 0);
    child_t c = start_child(srv);
    wait_ready(&c, 3);
    char out[256];
    ck_assert_int_eq(python(py_lines, port_of(srv, 0), "TASK hey|QUIT", out, sizeof out), 0);
    ck_assert_str_eq(out, "0 HEY/1 0\nBYE\n");
    ck_assert_int_eq(stop_child(&c, 0), 0);
    swco_server_free(srv);
}
END_TEST

/* ------------------------------------------------------ graceful stop */

static int events_w = -1;  /* server -> test: what happened, a byte each */
static int gate_r = -1;    /* test -> server: let the slow handler finish */

static void note(char c)
{
    if (write(events_w, &c, 1) != 1)
        abort();
}

/* A handler still working when SIGTERM comes: it finishes (waiting on the
 * gate pipe in its coroutine) and its reply reaches the client. */
static void slow_handler(swco_server_t *srv, long long fd, int rid, const void *data, size_t len,
                         void *arg)
{
    note('S');
    int ev = swco_event_wait_fd(gate_r, SWCO_EVENT_READ, -1);
    char b = 0;
    if (ev > 0 && read(gate_r, &b, 1) != 1)
        b = '?';
    char msg[32];
    int n = snprintf(msg, sizeof msg, "done %c\n", b ? b : '-');
    swco_server_send(srv, fd, msg, (size_t)n);
    swco_event_del(gate_r);
}

static void note_exit(swco_server_t *srv, int worker_id, void *arg)
{
    static int once;
    if (!once++)
        note('X');
}

static void note_stop(swco_server_t *srv, int worker_id, void *arg) { note('T'); }

static void run_graceful(int release_gate, const char *max_wait, const char *want_reply)
{
    if (!have_peer("python3"))
        return;
    int ev[2], gate[2];
    ck_assert_int_eq(pipe2(ev, O_CLOEXEC), 0);
    ck_assert_int_eq(pipe2(gate, O_CLOEXEC | O_NONBLOCK), 0);
    events_w = ev[1];
    gate_r = gate[0];
    swco_server_t *srv = new_server(SWCO_SERVER_BASE, SWCO_SOCK_TCP, "127.0.0.1");
    set_ok(srv, "worker_num", "1");
    set_ok(srv, "max_wait_time", max_wait);
    ck_assert_int_eq(swco_server_on_receive(srv, slow_handler, NULL, NULL), 0);
    ck_assert_int_eq(swco_server_on_worker_exit(srv, note_exit, NULL, NULL), 0);
    ck_assert_int_eq(swco_server_on_worker_stop(srv, note_stop, NULL, NULL), 0);
    child_t c = start_child(srv);
    close(ev[1]);
    close(gate[0]);
    wait_ready(&c, 1);
    static const char *script =
        "import socket,sys\n"
        "s=socket.create_connection(('127.0.0.1',int(sys.argv[1])),timeout=60)\n"
        "s.sendall(b'go')\n"
        "r=b''\n"
        "while True:\n"
        "  b=s.recv(100)\n"
        "  if not b: break\n"
        "  r+=b\n"
        "sys.stdout.write(r.decode() or 'closed\\n')\n";
    char *argv[] = {"python3", "-c", (char *)script, (char *)port_of(srv, 0), NULL};
    bg_t client = spawn_cmd(argv);
    ck_assert_int_eq(read_byte(ev[0]), 'S'); /* the handler runs */
    kill(c.pid, SIGTERM);
    ck_assert_int_eq(read_byte(ev[0]), 'X'); /* stopping, with work in progress */
    if (release_gate)
        ck_assert_int_eq(write(gate[1], "g", 1), 1);
    ck_assert_int_eq(read_byte(ev[0]), 'T'); /* worker stop after that */
    char out[256];
    ck_assert_int_eq(finish_cmd(&client, out, sizeof out), 0);
    ck_assert_str_eq(out, want_reply);
    ck_assert_int_eq(stop_child(&c, 0), 0);
    close(ev[0]);
    close(gate[1]);
    swco_server_free(srv);
}

START_TEST(test_graceful_stop_finishes_work)
{
    /* The handler outlives SIGTERM and its answer is delivered. */
    run_graceful(1, "60", "done g\n");
}
END_TEST

START_TEST(test_graceful_stop_gives_up)
{
    /* A handler that never ends: the worker stops after max_wait_time and
     * closes the connection. */
    run_graceful(0, "0.2", "closed\n");
}
END_TEST

/* ------------------------------------------------------------------- TLS */

static char tls_dir[64];

static int make_tls_files(void)
{
    snprintf(tls_dir, sizeof tls_dir, "/tmp/swco-srvtls-XXXXXX");
    if (!mkdtemp(tls_dir))
        return -1;
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "(cd %s && "
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
             "-keyout ca.key -out ca.pem -days 2 -subj /CN=swco-test-ca && "
             "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
             "-keyout srv.key -out srv.csr -subj /CN=localhost && "
             "openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
             "-out srv.pem -days 2 && "
             "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
             "-keyout cli.key -out cli.csr -subj /CN=swco-client && "
             "openssl x509 -req -in cli.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
             "-out cli.pem -days 2) >/dev/null 2>&1",
             tls_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void tls_echo(swco_server_t *srv, long long fd, int rid, const void *data, size_t len,
                     void *arg)
{
    swco_server_client_info_t ci = {.size = sizeof ci};
    swco_server_get_client_info(srv, fd, &ci);
    reply(srv, fd, "tls=%d %.*s", ci.ssl, (int)len, (const char *)data);
    if (len >= 3 && memcmp(data, "bye", 3) == 0)
        swco_server_close(srv, fd, 0);
}

/* A TLS listener built from the ssl_* options (server-wide for listener
 * 0, its own for listener 2, which also verifies client certificates)
 * beside a plain one; python's ssl module and openssl s_client as peers. */
START_TEST(test_tls_listeners)
{
    if (!have_peer("python3") || !have_peer("openssl"))
        return;
    ck_assert_msg(make_tls_files() == 0, "cannot make certificates with openssl");
    char cert[128], key[128], ca[128];
    snprintf(cert, sizeof cert, "%s/srv.pem", tls_dir);
    snprintf(key, sizeof key, "%s/srv.key", tls_dir);
    snprintf(ca, sizeof ca, "%s/ca.pem", tls_dir);
    swco_server_t *srv =
        new_server(SWCO_SERVER_BASE, SWCO_SOCK_TCP | SWCO_SOCK_SSL, "127.0.0.1");
    set_ok(srv, "worker_num", "1");
    set_ok(srv, "ssl_cert_file", cert);
    set_ok(srv, "ssl_key_file", key);
    set_ok(srv, "ssl_protocols", "TLSv1.3");
    ck_assert_int_eq(swco_server_add_listener(srv, "127.0.0.1", 0, SWCO_SOCK_TCP), 1);
    ck_assert_int_eq(swco_server_add_listener(srv, "127.0.0.1", 0,
                                              SWCO_SOCK_TCP | SWCO_SOCK_SSL), 2);
    ck_assert_int_eq(swco_server_listener_set(srv, 2, "ssl_verify_peer", "1"), 0);
    ck_assert_int_eq(swco_server_listener_set(srv, 2, "ssl_ca_file", ca), 0);
    ck_assert_int_eq(swco_server_listener_set(srv, 2, "ssl_protocols", "TLSv1.2,TLSv1.3"), 0);
    ck_assert_int_eq(swco_server_on_receive(srv, tls_echo, NULL, NULL), 0);
    child_t c = start_child(srv);
    wait_ready(&c, 1);
    static const char *script =
        "import socket,ssl,sys\n"
        "p=[int(x) for x in sys.argv[1].split(',')]; d=sys.argv[2]\n"
        "def ctx(maxv=None, cert=False):\n"
        "  c=ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT); c.check_hostname=False; c.verify_mode=ssl.CERT_REQUIRED\n"
        "  c.load_verify_locations(d+'/ca.pem')\n"
        "  if maxv: c.maximum_version=maxv\n"
        "  if cert: c.load_cert_chain(d+'/cli.pem', d+'/cli.key')\n"
        "  return c\n"
        "def talk(port, c, msg):\n"
        "  try:\n"
        "    s=socket.create_connection(('127.0.0.1',port),timeout=60)\n"
        "    if c: s=c.wrap_socket(s)\n"
        "    v=s.version() if c else 'plain'\n"
        "    s.sendall(msg); r=s.recv(100).decode()\n"
        "    return v+' '+r\n"
        "  except (ssl.SSLError, ConnectionError, OSError) as e:\n"
        "    return 'refused'\n"
        "print(talk(p[0], ctx(), b'hello'))\n"
        "print(talk(p[0], ctx(ssl.TLSVersion.TLSv1_2), b'old'))\n"
        "print(talk(p[1], None, b'plain'))\n"
        "print(talk(p[2], ctx(ssl.TLSVersion.TLSv1_2, True), b'client cert'))\n"
        "print(talk(p[2], ctx(), b'no cert'))\n";
    char ports[64], out[1024];
    snprintf(ports, sizeof ports, "%d,%d,%d", swco_server_listener_port(srv, 0),
             swco_server_listener_port(srv, 1), swco_server_listener_port(srv, 2));
    ck_assert_int_eq(python(script, ports, tls_dir, out, sizeof out), 0);
    ck_assert_str_eq(out, "TLSv1.3 tls=1 hello\nrefused\nplain tls=0 plain\n"
                          "TLSv1.2 tls=1 client cert\nrefused\n");
    /* openssl s_client: the server closes after "bye", s_client exits */
    char target[64];
    snprintf(target, sizeof target, "127.0.0.1:%d", swco_server_listener_port(srv, 0));
    char *sc[] = {"openssl", "s_client", "-quiet", "-connect", target, "-CAfile", ca, NULL};
    char sca[128];
    snprintf(sca, sizeof sca, "%s", ca);
    sc[6] = sca;
    ck_assert_int_eq(run_cmd(sc, "bye\n", 4, out, sizeof out), 0);
    ck_assert_str_eq(out, "tls=1 bye\n");
    ck_assert_int_eq(stop_child(&c, SIGTERM), 0);
    swco_server_free(srv);
    char rm[128];
    snprintf(rm, sizeof rm, "rm -rf %s", tls_dir);
    ck_assert_int_eq(system(rm), 0);
}
END_TEST

/* ------------------------------------------- max_request, pid and log */

/* max_request 2 under the manager: the worker exits after two requests
 * and comes back (a new pid, the same id); no request is lost. */
START_TEST(test_max_request_recycles)
{
    if (!have_peer("python3"))
        return;
    swco_server_t *srv = command_server(SWCO_SERVER_BASE, 1);
    set_ok(srv, "task_worker_num", "1"); /* so there is a manager */
    set_ok(srv, "max_request", "2");
    ck_assert_int_eq(swco_server_on_task(srv, upper_task, NULL, NULL), 0);
    child_t c = start_child(srv);
    wait_ready(&c, 2);
    static const char *script =
        "import socket,sys\n"
        "pids=[]\n"
        "for i in range(6):\n"
        "  s=socket.create_connection(('127.0.0.1',int(sys.argv[1])),timeout=60)\n"
        "  s.sendall(b'PID\\n'); pids.append(s.makefile('rb').readline().decode().strip()); s.close()\n"
        "print(len(pids), all(pids), pids[0]==pids[1], pids[2]==pids[3], pids[4]==pids[5], len(set(pids)))\n";
    char out[256];
    ck_assert_int_eq(python(script, port_of(srv, 0), NULL, out, sizeof out), 0);
    ck_assert_str_eq(out, "6 True True True True 3\n");
    ck_assert_int_eq(stop_child(&c, SIGTERM), 0);
    swco_server_free(srv);
}
END_TEST

START_TEST(test_pid_and_log_file)
{
    if (!have_peer("python3"))
        return;
    char pidf[64], logf[64];
    snprintf(pidf, sizeof pidf, "/tmp/swco-srv-%d.pid", (int)getpid());
    snprintf(logf, sizeof logf, "/tmp/swco-srv-%d.log", (int)getpid());
    unlink(pidf);
    unlink(logf);
    swco_server_t *srv = command_server(SWCO_SERVER_BASE, 1);
    set_ok(srv, "pid_file", pidf);
    set_ok(srv, "log_file", logf);
    child_t c = start_child(srv);
    wait_ready(&c, 1);
    char out[256];
    ck_assert_int_eq(python(py_lines, port_of(srv, 0), "LOG", out, sizeof out), 0);
    ck_assert_str_eq(out, "ok\n");
    FILE *f = fopen(pidf, "r");
    ck_assert_ptr_nonnull(f);
    int pid = 0;
    ck_assert_int_eq(fscanf(f, "%d", &pid), 1);
    fclose(f);
    ck_assert_int_eq(pid, c.pid);
    ck_assert_int_eq(stop_child(&c, SIGTERM), 0);
    struct stat st;
    ck_assert_int_eq(stat(pidf, &st), -1); /* removed when it stopped */
    char want[64], line[128] = "";
    snprintf(want, sizeof want, "LOGGED by %d\n", pid);
    f = fopen(logf, "r");
    ck_assert_ptr_nonnull(f);
    int found = 0;
    while (fgets(line, sizeof line, f))
        found |= strcmp(line, want) == 0;
    fclose(f);
    ck_assert_msg(found, "the log file lacks '%s'", want);
    unlink(logf);
    swco_server_free(srv);
}
END_TEST

/* ------------------------------------------------ enable_coroutine */

static void greet(swco_server_t *srv, long long fd, int rid, void *arg)
{
    reply(srv, fd, "hello %s %d\n", (const char *)arg, swco_coroutine_id() > 0);
}

static void where(swco_server_t *srv, long long fd, int rid, const void *data, size_t len,
                  void *arg)
{
    reply(srv, fd, "in coroutine %d\n", swco_coroutine_id() > 0);
}

static void closed_note(swco_server_t *srv, long long fd, int rid, void *arg) { note('C'); }

/* Callbacks run in a coroutine each by default, from the loop with
 * enable_coroutine off; a listener's connect callback overrides the
 * server's; close runs once per connection. */
static void run_coroutine_case(const char *enable, const char *want)
{
    if (!have_peer("python3"))
        return;
    int ev[2];
    ck_assert_int_eq(pipe2(ev, O_CLOEXEC), 0);
    events_w = ev[1];
    swco_server_t *srv = new_server(SWCO_SERVER_BASE, SWCO_SOCK_TCP, "127.0.0.1");
    set_ok(srv, "worker_num", "1");
    set_ok(srv, "enable_coroutine", enable);
    ck_assert_int_eq(swco_server_add_listener(srv, "127.0.0.1", 0, SWCO_SOCK_TCP), 1);
    ck_assert_int_eq(swco_server_on_connect(srv, greet, "server", NULL), 0);
    ck_assert_int_eq(swco_server_listener_on_connect(srv, 1, greet, "listener", NULL), 0);
    ck_assert_int_eq(swco_server_on_receive(srv, where, NULL, NULL), 0);
    ck_assert_int_eq(swco_server_on_close(srv, closed_note, NULL, NULL), 0);
    child_t c = start_child(srv);
    close(ev[1]);
    static const char *script =
        "import socket,sys\n"
        "for p in sys.argv[1].split(','):\n"
        "  s=socket.create_connection(('127.0.0.1',int(p)),timeout=60); f=s.makefile('rb')\n"
        "  g=f.readline().decode(); s.sendall(b'x'); sys.stdout.write(g+f.readline().decode())\n"
        "  s.close()\n";
    char ports[32], out[512];
    snprintf(ports, sizeof ports, "%d,%d", swco_server_listener_port(srv, 0),
             swco_server_listener_port(srv, 1));
    ck_assert_int_eq(python(script, ports, NULL, out, sizeof out), 0);
    ck_assert_str_eq(out, want);
    ck_assert_int_eq(read_byte(ev[0]), 'C');
    ck_assert_int_eq(read_byte(ev[0]), 'C');
    ck_assert_int_eq(stop_child(&c, SIGTERM), 0);
    close(ev[0]);
    swco_server_free(srv);
}

START_TEST(test_callbacks_in_coroutines)
{
    run_coroutine_case("1", "hello server 1\nin coroutine 1\nhello listener 1\nin coroutine 1\n");
}
END_TEST

START_TEST(test_callbacks_without_coroutines)
{
    run_coroutine_case("0", "hello server 0\nin coroutine 0\nhello listener 0\nin coroutine 0\n");
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
    Suite *s = suite_create("server");
    TCase *tc = tcase(s, "object");
    tcase_add_test(tc, test_new_errors);
    tcase_add_test(tc, test_unix_paths);
    tcase_add_test(tc, test_options);
    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_callbacks_and_start_errors);
    tc = tcase(s, "base");
    tcase_add_test(tc, test_base_echo);
    tcase_add_test(tc, test_base_client_info);
    tc = tcase(s, "thread");
    tcase_add_test(tc, test_thread_echo);
    tcase_add_test(tc, test_thread_shutdown);
    tc = tcase(s, "datagram");
    tcase_add_test(tc, test_udp_packet);
    tcase_add_test(tc, test_unix_stream_and_dgram);
    tc = tcase(s, "framing");
    tcase_add_test(tc, test_framing_per_listener);
    tc = tcase(s, "stats");
    tcase_add_test(tc, test_stats_prometheus);
    tc = tcase(s, "workers");
    tcase_add_test(tc, test_base_workers);
    tcase_add_test(tc, test_thread_task);
    tc = tcase(s, "graceful");
    tcase_add_test(tc, test_graceful_stop_finishes_work);
    tcase_add_test(tc, test_graceful_stop_gives_up);
    tc = tcase(s, "tls");
    tcase_add_test(tc, test_tls_listeners);
    tc = tcase(s, "lifecycle");
    tcase_add_test(tc, test_max_request_recycles);
    tcase_add_test(tc, test_pid_and_log_file);
    tcase_add_test(tc, test_callbacks_in_coroutines);
    tcase_add_test(tc, test_callbacks_without_coroutines);
    return run_suite(s);
}
