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

/* ------------------------------------------------------------------ main */

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    Suite *s = suite_create("server");
    TCase *tc = tcase_create("server");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_new_errors);
    tcase_add_test(tc, test_unix_paths);
    tcase_add_test(tc, test_options);
    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_callbacks_and_start_errors);
    tcase_add_test(tc, test_base_echo);
    tcase_add_test(tc, test_base_client_info);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
