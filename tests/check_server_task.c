/* The server's manager and task workers, through the public API: a BASE
 * mode server (worker_num >= 2, task workers) runs in a forked child and
 * clients talk to it on loopback (these tests' own sockets, and a python3
 * client for the streams of requests).  Server processes report what
 * happens in them (worker starts, errors, messages) as lines on a pipe the
 * test reads, so every step waits for the event it needs. */
#include "testutil.h"

#include <swco/server.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* ------------------------------------------------------------- events */

static int ev_pipe[2] = {-1, -1};  /* server processes -> test */
static int rel_pipe[2] = {-1, -1}; /* test -> server: "go on" */

/* In a server process: report one line. */
__attribute__((format(printf, 1, 2))) static void ev(const char *fmt, ...)
{
    char b[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b, sizeof b - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if (n > (int)sizeof b - 2)
        n = (int)sizeof b - 2;
    b[n++] = '\n';
    ssize_t w = write(ev_pipe[1], b, (size_t)n);
    (void)w;
}

#define EV_MAX 4096
static char *ev_line[EV_MAX];
static int ev_used[EV_MAX];
static int ev_count;
static char ev_part[4096];
static size_t ev_partlen;

static double limit(void)
{
    return 20 * slow();
}

/* Read what the pipe has (waiting up to seconds for something). */
static int ev_read(double seconds)
{
    struct pollfd p = {.fd = ev_pipe[0], .events = POLLIN};
    if (poll(&p, 1, (int)(seconds * 1000)) <= 0)
        return 0;
    char b[4096];
    ssize_t n = read(ev_pipe[0], b, sizeof b);
    if (n <= 0)
        return 0;
    for (ssize_t i = 0; i < n; i++) {
        if (b[i] != '\n') {
            if (ev_partlen < sizeof ev_part - 1)
                ev_part[ev_partlen++] = b[i];
            continue;
        }
        ev_part[ev_partlen] = 0;
        if (ev_count < EV_MAX)
            ev_line[ev_count++] = strdup(ev_part);
        ev_partlen = 0;
    }
    return 1;
}

/* The first event not taken yet that starts with prefix, taken; NULL
 * after the time limit. */
static const char *ev_try(const char *prefix, double seconds)
{
    double end = now_s() + seconds;
    int from = 0;
    for (;;) {
        for (int i = from; i < ev_count; i++)
            if (!ev_used[i] && strncmp(ev_line[i], prefix, strlen(prefix)) == 0) {
                ev_used[i] = 1;
                return ev_line[i];
            }
        from = ev_count;
        double left = end - now_s();
        if (left <= 0)
            return NULL;
        ev_read(left);
    }
}

static const char *ev_wait(const char *prefix)
{
    const char *l = ev_try(prefix, limit());
    ck_assert_msg(l != NULL, "no \"%s\" event in %.0f s", prefix, limit());
    return l;
}

/* Whether an event starting with prefix came (without waiting). */
static int ev_seen(const char *prefix)
{
    while (ev_read(0))
        ;
    for (int i = 0; i < ev_count; i++)
        if (strncmp(ev_line[i], prefix, strlen(prefix)) == 0)
            return 1;
    return 0;
}

/* --------------------------------------------------------- the server */

typedef struct cfg {
    int workers, tasks;
    int task_co; /* task_enable_coroutine */
    int no_co;   /* enable_coroutine off */
    int max_request;
    double max_wait;
    int activated_port; /* > 0: bind this port (LISTEN_FDS test) */
    int activated_fd;   /* >= 0: pass it as fd 3 with LISTEN_FDS=1 */
    int hot_workers;    /* worker_num of the program a hot restart runs */
} cfg_t;

static cfg_t cfg;
static pid_t server_pid;
static int server_port;
static swco_server_t *the_srv; /* in the server processes */

/* ---- in the task workers */

static long held_cid; /* a "hold" task waiting for "release" */

static void on_task(swco_server_t *srv, long task_id, int src, const void *data, size_t len,
                    void *arg)
{
    int me = swco_server_worker_id(srv);
    if (len == 4 && memcmp(data, "hold", 4) == 0) {
        /* Give the result only once told to: after the waiter gave up. */
        held_cid = swco_coroutine_id();
        ev("held %d", me);
        swco_coroutine_yield();
        held_cid = 0;
        int rc = swco_server_finish(srv, task_id, "late", 4);
        ev("late %d %d", me, rc);
        return;
    }
    if (len == 8 && memcmp(data, "nofinish", 8) == 0)
        return;
    if (len == 5 && memcmp(data, "where", 5) == 0) {
        const char *w = swco_coroutine_id() > 0 ? "co" : "loop";
        swco_server_finish(srv, task_id, w, strlen(w));
        return;
    }
    if (len > 4096) {
        /* Big: answer with every byte + 1, as big. */
        char *r = malloc(len);
        for (size_t i = 0; i < len; i++)
            r[i] = (char)(((const unsigned char *)data)[i] + 1);
        swco_server_finish(srv, task_id, r, len);
        free(r);
        return;
    }
    char b[256];
    int n = snprintf(b, sizeof b, "T%d/%d:%.*s", me, swco_server_is_task_worker(srv), (int)len,
                     (const char *)data);
    swco_server_finish(srv, task_id, b, (size_t)n);
}

/* ---- in the event workers */

/* Which connection waits for which task's finish callback. */
#define TASK_FDS 64
static long long task_fd[TASK_FDS];

static void reply(swco_server_t *srv, long long fd, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void reply(swco_server_t *srv, long long fd, const char *fmt, ...)
{
    char b[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b, sizeof b - 1, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof b - 2)
        n = (int)sizeof b - 2;
    b[n++] = '\n';
    swco_server_send(srv, fd, b, (size_t)n);
}

static void on_finish(swco_server_t *srv, long task_id, const void *data, size_t len, void *arg)
{
    long long fd = task_fd[task_id % TASK_FDS];
    if (fd)
        reply(srv, fd, "fin %ld %.*s", task_id, (int)len, (const char *)data);
}

static void on_message(swco_server_t *srv, int src, const void *data, size_t len, void *arg)
{
    int me = swco_server_worker_id(srv);
    ev("pm %d %d %.*s", me, src, (int)len, (const char *)data);
    if (len == 7 && memcmp(data, "release", 7) == 0 && held_cid > 0)
        swco_coroutine_resume(held_cid);
}

static void worker_start(swco_server_t *srv, int id, void *arg)
{
    ev("ws %d %d %d", id, (int)getpid(), swco_server_is_task_worker(srv));
}

static int exit_reported;
static void worker_exit(swco_server_t *srv, int id, void *arg)
{
    if (!exit_reported++)
        ev("wx %d", id);
}

static void worker_error(swco_server_t *srv, int id, int pid, int code, int signo, void *arg)
{
    ev("we %d %d %d %d", id, pid, code, signo);
}

static void manager_start(swco_server_t *srv, void *arg)
{
    ev("ms %d", (int)getpid());
}

static char hot_argv_port[16], hot_argv_fd[16], hot_argv_workers[16], hot_self[4096];

static void on_receive(swco_server_t *srv, long long fd, int reactor, const void *data, size_t len,
                       void *arg)
{
    char cmd[256];
    size_t n = len < sizeof cmd - 1 ? len : sizeof cmd - 1;
    memcpy(cmd, data, n);
    while (n > 0 && (cmd[n - 1] == '\n' || cmd[n - 1] == '\r'))
        n--;
    cmd[n] = 0;
    if (n == 0)
        return;
    int me = swco_server_worker_id(srv);
    char *out = NULL;
    size_t olen = 0;
    if (strcmp(cmd, "who") == 0) {
        reply(srv, fd, "id %d pid %d", me, (int)getpid());
    } else if (strncmp(cmd, "req ", 4) == 0) {
        reply(srv, fd, "ok %s %d", cmd + 4, (int)getpid());
    } else if (strncmp(cmd, "task ", 5) == 0) {
        long id = swco_server_task(srv, cmd + 5, strlen(cmd + 5), -1);
        if (id >= 0)
            task_fd[id % TASK_FDS] = fd;
        else
            reply(srv, fd, "task error %ld", id);
    } else if (strncmp(cmd, "wait ", 5) == 0) {
        double timeout = atof(cmd + 5);
        char *arg = strchr(cmd + 5, ' ');
        arg = arg ? arg + 1 : (char *)"";
        int rc = swco_server_taskwait(srv, arg, strlen(arg), timeout, -1, &out, &olen);
        reply(srv, fd, "got %d %.*s", rc, rc == 0 ? (int)olen : 0, rc == 0 ? out : "");
        free(out);
    } else if (strncmp(cmd, "co ", 3) == 0) {
        int k = atoi(cmd + 3);
        long ids[32];
        char b[1024] = "co";
        for (int i = 0; i < k && i < 32; i++) {
            char d[16];
            int dl = snprintf(d, sizeof d, "n%d", i);
            ids[i] = swco_server_task_start(srv, d, (size_t)dl, -1);
        }
        for (int i = 0; i < k && i < 32; i++) {
            int rc = swco_server_task_result(srv, ids[i], limit(), &out, &olen);
            size_t bl = strlen(b);
            if (rc == 0)
                snprintf(b + bl, sizeof b - bl, " %ld=%.*s", ids[i], (int)olen, out);
            else
                snprintf(b + bl, sizeof b - bl, " %ld=error%d", ids[i], rc);
            free(out);
            out = NULL;
        }
        int again = k > 0 ? swco_server_task_result(srv, ids[0], 1, &out, &olen) : 0;
        reply(srv, fd, "%s again %d", b, again);
    } else if (strncmp(cmd, "big ", 4) == 0) {
        size_t sz = (size_t)atol(cmd + 4);
        unsigned char *d = malloc(sz);
        for (size_t i = 0; i < sz; i++)
            d[i] = (unsigned char)(i * 131 + (i >> 16));
        int rc = swco_server_taskwait(srv, d, sz, limit(), -1, &out, &olen);
        int same = rc == 0 && olen == sz;
        for (size_t i = 0; same && i < sz; i++)
            same = (unsigned char)out[i] == (unsigned char)(d[i] + 1);
        reply(srv, fd, "big %d %zu %d", rc, olen, same);
        free(d);
        free(out);
    } else if (strcmp(cmd, "msg") == 0) {
        int other = 1 - me;
        int a = swco_server_send_message(srv, other, "hi", 2);
        int b = swco_server_send_message(srv, cfg.workers, "to task", 7);
        reply(srv, fd, "sent %d %d %d", me, a, b);
    } else if (strcmp(cmd, "release") == 0) {
        for (int t = 0; t < cfg.tasks; t++)
            swco_server_send_message(srv, cfg.workers + t, "release", 7);
        reply(srv, fd, "released");
    } else if (strcmp(cmd, "pids") == 0) {
        char b[512] = "pids";
        for (int i = 0; i < cfg.workers + cfg.tasks; i++) {
            size_t bl = strlen(b);
            snprintf(b + bl, sizeof b - bl, " %d", swco_server_worker_pid(srv, i));
        }
        reply(srv, fd, "%s", b);
    } else if (strcmp(cmd, "slow") == 0) {
        /* In flight until the test says so. */
        ev("inflight %d", me);
        int rc = swco_event_wait_fd(rel_pipe[0], SWCO_EVENT_READ, limit());
        reply(srv, fd, "slow done %d", rc);
    } else if (strcmp(cmd, "bad") == 0) {
        int a = (int)swco_server_task(srv, "x", 1, 99);
        int b = (int)swco_server_task(srv, "x", 1, -2);
        int c = swco_server_send_message(srv, me, "x", 1);
        int d = swco_server_send_message(srv, 99, "x", 1);
        int e = swco_server_finish(srv, 0, "x", 1);
        int f = swco_server_task_result(srv, 12345, 1, &out, &olen);
        int g = swco_server_taskwait(srv, "x", 1, 1, -1, NULL, &olen);
        reply(srv, fd, "bad %d %d %d %d %d %d %d", a, b, c, d, e, f, g);
    } else if (strcmp(cmd, "stats") == 0) {
        swco_server_stats_t st;
        memset(&st, 0, sizeof st);
        st.size = sizeof st;
        int rc = swco_server_stats(srv, &st);
        reply(srv, fd, "stats %d %d %lld %lld", rc, st.tasking_num, st.task_count,
              st.worker_restarts);
    } else if (strcmp(cmd, "where") == 0) {
        reply(srv, fd, "where %s", swco_coroutine_id() > 0 ? "co" : "loop");
    } else if (strcmp(cmd, "env") == 0) {
        reply(srv, fd, "env %s %s", getenv("LISTEN_FDS") ? "set" : "unset",
              getenv("LISTEN_PID") ? "set" : "unset");
    } else if (strcmp(cmd, "hotbad") == 0) {
        char *bad[] = {"/nonexistent/program", NULL};
        char *none[] = {NULL};
        reply(srv, fd, "hotbad %d %d %d", swco_server_hot_restart(srv, bad),
              swco_server_hot_restart(srv, none), swco_server_hot_restart(NULL, bad));
    } else if (strcmp(cmd, "hot") == 0) {
        char *argv[] = {hot_self,    "--hot-child",    hot_argv_port,
                        hot_argv_fd, hot_argv_workers, NULL};
        int rc = swco_server_hot_restart(srv, argv);
        reply(srv, fd, "hot %d", rc);
    } else {
        reply(srv, fd, "unknown %s", cmd);
    }
}

static void set_opt(swco_server_t *srv, const char *name, long v)
{
    char b[32];
    snprintf(b, sizeof b, "%ld", v);
    int rc = swco_server_set(srv, name, b);
    if (rc)
        ev("option %s failed %d", name, rc);
}

/* In the server process: run it, never return. */
static void __attribute__((noreturn)) server_main(void)
{
    /* The test's end (a failed assertion included) ends the server. */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    close(ev_pipe[0]);
    if (cfg.activated_fd >= 0) {
        /* What systemd does: the socket at fd 3, the variables set. */
        ev_pipe[1] = fcntl(ev_pipe[1], F_DUPFD, 10);
        rel_pipe[0] = fcntl(rel_pipe[0], F_DUPFD, 10);
        int fd = fcntl(cfg.activated_fd, F_DUPFD, 10);
        dup2(fd, 3);
        close(fd);
        char pid[32];
        snprintf(pid, sizeof pid, "%d", (int)getpid());
        setenv("LISTEN_PID", pid, 1);
        setenv("LISTEN_FDS", "1", 1);
        setenv("LISTEN_FDNAMES", "main", 1);
    }
    swco_server_t *srv =
        swco_server_new("127.0.0.1", cfg.activated_port, SWCO_SERVER_BASE, SWCO_SOCK_TCP);
    if (!srv) {
        ev("port -1 %d", swco_last_error());
        _exit(1);
    }
    the_srv = srv;
    set_opt(srv, "worker_num", cfg.workers);
    set_opt(srv, "task_worker_num", cfg.tasks);
    set_opt(srv, "task_enable_coroutine", cfg.task_co);
    if (cfg.no_co)
        set_opt(srv, "enable_coroutine", 0);
    if (cfg.max_request)
        set_opt(srv, "max_request", cfg.max_request);
    if (cfg.max_wait > 0) {
        char b[32];
        snprintf(b, sizeof b, "%g", cfg.max_wait);
        swco_server_set(srv, "max_wait_time", b);
    }
    swco_server_on_receive(srv, on_receive, NULL, NULL);
    swco_server_on_task(srv, on_task, NULL, NULL);
    swco_server_on_finish(srv, on_finish, NULL, NULL);
    swco_server_on_pipe_message(srv, on_message, NULL, NULL);
    swco_server_on_worker_start(srv, worker_start, NULL, NULL);
    swco_server_on_worker_exit(srv, worker_exit, NULL, NULL);
    swco_server_on_worker_error(srv, worker_error, NULL, NULL);
    swco_server_on_manager_start(srv, manager_start, NULL, NULL);
    int port = swco_server_listener_port(srv, 0);
    snprintf(hot_argv_port, sizeof hot_argv_port, "%d", port);
    snprintf(hot_argv_fd, sizeof hot_argv_fd, "%d", ev_pipe[1]);
    snprintf(hot_argv_workers, sizeof hot_argv_workers, "%d",
             cfg.hot_workers ? cfg.hot_workers : 2);
    ev("port %d", port);
    int rc = swco_server_start(srv);
    ev("exit %d %d", rc, (int)getpid());
    swco_server_free(srv);
    _exit(0);
}

static void start_server(void)
{
    ck_assert_int_eq(pipe(ev_pipe), 0);
    ck_assert_int_eq(pipe(rel_pipe), 0);
    fcntl(rel_pipe[0], F_SETFL, O_NONBLOCK);
    ssize_t sz = readlink("/proc/self/exe", hot_self, sizeof hot_self - 1);
    ck_assert(sz > 0);
    hot_self[sz] = 0;
    server_pid = fork();
    ck_assert_int_ge(server_pid, 0);
    if (server_pid == 0)
        server_main();
    close(ev_pipe[1]);
    const char *l = ev_wait("port ");
    server_port = atoi(l + 5);
    ck_assert_msg(server_port > 0, "server: %s", l);
    /* Every worker up (and task worker). */
    for (int i = 0; i < cfg.workers + cfg.tasks; i++)
        ev_wait("ws ");
}

/* SIGTERM, then the server's start returns 0 and its process exits. */
static void stop_server(void)
{
    ck_assert_int_eq(kill(server_pid, SIGTERM), 0);
    const char *l = ev_wait("exit ");
    ck_assert_msg(strncmp(l, "exit 0 ", 7) == 0, "%s", l);
    int st;
    ck_assert_int_eq(waitpid(server_pid, &st, 0), server_pid);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    ck_assert_msg(!ev_seen("option "), "an option was refused");
}

/* -------------------------------------------------------- the clients */

static int client_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(fd, 0);
    struct timeval tv = {(time_t)limit(), 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_msg(connect(fd, (struct sockaddr *)&a, sizeof a) == 0, "connect: %s",
                  strerror(errno));
    return fd;
}

/* Send a command line and read one reply line (into a static buffer). */
static const char *ask(int fd, const char *cmd)
{
    static char b[8192];
    char line[256];
    int n = snprintf(line, sizeof line, "%s\n", cmd);
    ck_assert_int_eq(send(fd, line, (size_t)n, MSG_NOSIGNAL), n);
    size_t got = 0;
    while (got < sizeof b - 1) {
        ssize_t r = recv(fd, b + got, 1, 0);
        ck_assert_msg(r == 1, "no reply to \"%s\" (%s)", cmd, r < 0 ? strerror(errno) : "closed");
        if (b[got] == '\n')
            break;
        got++;
    }
    b[got] = 0;
    return b;
}

/* One request on its own connection. */
static const char *ask_once(const char *cmd)
{
    int fd = client_connect(server_port);
    const char *r = ask(fd, cmd);
    close(fd);
    return r;
}

/* A python3 client that keeps nthreads connections' worth of requests
 * going (each request on a new connection) until its stdin closes, then
 * prints "done sent N ok N fail N tags pid=count...". */
static const char stream_py[] =
    "import socket, sys, threading\n"
    "port = int(sys.argv[1]); n = int(sys.argv[2]); limit = float(sys.argv[3])\n"
    "lock = threading.Lock(); st = {'sent': 0, 'ok': 0, 'fail': 0}; tags = {}\n"
    "stop = threading.Event(); first = threading.Event()\n"
    "def run(t):\n"
    "    i = 0\n"
    "    while not stop.is_set():\n"
    "        i += 1\n"
    "        msg = 'req %d-%d\\n' % (t, i)\n"
    "        try:\n"
    "            s = socket.create_connection(('127.0.0.1', port), timeout=limit)\n"
    "        except Exception as e:\n"
    "            with lock:\n"
    "                st['fail'] += 1\n"
    "            print('fail connect %r' % (e,), flush=True)\n"
    "            continue\n"
    "        with lock:\n"
    "            st['sent'] += 1\n"
    "        try:\n"
    "            s.sendall(msg.encode())\n"
    "            buf = b''\n"
    "            while not buf.endswith(b'\\n'):\n"
    "                d = s.recv(4096)\n"
    "                if not d:\n"
    "                    break\n"
    "                buf += d\n"
    "            rep = buf.decode()\n"
    "            if rep.startswith('ok %d-%d ' % (t, i)):\n"
    "                tag = rep.split()[2]\n"
    "                with lock:\n"
    "                    st['ok'] += 1\n"
    "                    tags[tag] = tags.get(tag, 0) + 1\n"
    "                first.set()\n"
    "            else:\n"
    "                with lock:\n"
    "                    st['fail'] += 1\n"
    "                print('fail reply %r to %r' % (rep, msg), flush=True)\n"
    "        except Exception as e:\n"
    "            with lock:\n"
    "                st['fail'] += 1\n"
    "            print('fail %r' % (e,), flush=True)\n"
    "        finally:\n"
    "            s.close()\n"
    "ths = [threading.Thread(target=run, args=(t,)) for t in range(n)]\n"
    "for th in ths:\n"
    "    th.start()\n"
    "first.wait(limit)\n"
    "print('ready', flush=True)\n"
    "sys.stdin.read()\n"
    "stop.set()\n"
    "for th in ths:\n"
    "    th.join()\n"
    "print('done sent %d ok %d fail %d tags %s' % (st['sent'], st['ok'], st['fail'],\n"
    "      ' '.join('%s=%d' % kv for kv in sorted(tags.items()))), flush=True)\n";

typedef struct stream {
    pid_t pid;
    int in, out;
    char buf[65536];
    size_t len;
} stream_t;

static int have(const char *tool)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", tool);
    if (system(cmd) == 0)
        return 1;
    const char *ci = getenv("CI");
    ck_assert_msg(!(ci && strcmp(ci, "true") == 0), "%s is missing (CI)", tool);
    fprintf(stderr, "check_server_task: %s not installed: test skipped\n", tool);
    return 0;
}

/* Read the client's output up to a line starting with prefix. */
static const char *stream_line(stream_t *s, const char *prefix)
{
    double end = now_s() + limit();
    for (;;) {
        s->buf[s->len] = 0;
        char *p = s->buf;
        while (p && *p) {
            if (strncmp(p, prefix, strlen(prefix)) == 0 && strchr(p, '\n'))
                return p;
            p = strchr(p, '\n');
            if (p)
                p++;
        }
        double left = end - now_s();
        ck_assert_msg(left > 0, "client never said \"%s\": %s", prefix, s->buf);
        struct pollfd pf = {.fd = s->out, .events = POLLIN};
        if (poll(&pf, 1, (int)(left * 1000)) <= 0)
            continue;
        ssize_t n = read(s->out, s->buf + s->len, sizeof s->buf - 1 - s->len);
        ck_assert_msg(n > 0, "client ended: %s", s->buf);
        s->len += (size_t)n;
    }
}

static void stream_start(stream_t *s, int port, int nthreads)
{
    int in[2], out[2];
    /* close-on-exec: the client must not hold its own stdin open */
    ck_assert_int_eq(pipe2(in, O_CLOEXEC), 0);
    ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
    memset(s, 0, sizeof *s);
    s->pid = fork();
    ck_assert_int_ge(s->pid, 0);
    if (s->pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        char p[16], n[16], l[32];
        snprintf(p, sizeof p, "%d", port);
        snprintf(n, sizeof n, "%d", nthreads);
        snprintf(l, sizeof l, "%g", limit() / 2); /* it reports before we give up */
        execlp("python3", "python3", "-c", stream_py, p, n, l, (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    s->in = in[1];
    s->out = out[0];
    stream_line(s, "ready");
}

/* Stop the client; its counts.  tags gets the "pid=count" list. */
static void stream_stop(stream_t *s, long *sent, long *ok, long *fail, char *tags, size_t cap)
{
    close(s->in);
    const char *l = stream_line(s, "done ");
    int pos = 0;
    ck_assert_int_eq(sscanf(l, "done sent %ld ok %ld fail %ld tags %n", sent, ok, fail, &pos), 3);
    const char *e = strchr(l, '\n');
    size_t n = (size_t)(e - (l + pos));
    if (n >= cap)
        n = cap - 1;
    memcpy(tags, l + pos, n);
    tags[n] = 0;
    int st;
    waitpid(s->pid, &st, 0);
    if (*fail)
        fprintf(stderr, "client output:\n%s\n", s->buf);
}

/* The pid the latest "ws <id> ..." event named (consuming those events). */
static int ws_pid[64];
static void ws_collect(void)
{
    while (ev_read(0))
        ;
    for (int i = 0; i < ev_count; i++) {
        int id, pid, t;
        if (sscanf(ev_line[i], "ws %d %d %d", &id, &pid, &t) == 3 && id >= 0 && id < 64)
            ws_pid[id] = pid;
    }
}

/* Wait until worker id started again with a pid other than old. */
static int wait_restarted(int id, int old)
{
    double end = now_s() + limit();
    for (;;) {
        ws_collect();
        if (ws_pid[id] && ws_pid[id] != old)
            return ws_pid[id];
        ck_assert_msg(now_s() < end, "worker %d was not restarted", id);
        ev_read(end - now_s());
    }
}

/* ------------------------------------------------------------- tests */

static void base_cfg(int workers, int tasks)
{
    memset(&cfg, 0, sizeof cfg);
    cfg.workers = workers;
    cfg.tasks = tasks;
    cfg.task_co = 1;
    cfg.activated_fd = -1;
}

START_TEST(task_runs_in_task_worker_and_finish_reaches_sender)
{
    base_cfg(2, 2);
    start_server();
    int fd = client_connect(server_port);
    const char *r = ask(fd, "task hello");
    long id;
    int tw, is_task;
    char data[64];
    ck_assert_msg(sscanf(r, "fin %ld T%d/%d:%63s", &id, &tw, &is_task, data) == 4, "%s", r);
    ck_assert_int_ge(id, 0);
    ck_assert(tw == 2 || tw == 3);
    ck_assert_int_eq(is_task, 1);
    ck_assert_str_eq(data, "hello");
    /* Task ids go up per sender. */
    r = ask(fd, "task again");
    long id2;
    ck_assert_int_eq(sscanf(r, "fin %ld", &id2), 1);
    ck_assert_int_gt(id2, id);
    /* Both done, none left; counted in the shared figures. */
    ck_assert_str_eq(ask(fd, "stats"), "stats 0 0 2 0");
    close(fd);
    stop_server();
}
END_TEST

START_TEST(taskwait_round_trip_and_timeout)
{
    base_cfg(2, 1);
    start_server();
    int fd = client_connect(server_port);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "wait %g ping", limit());
    ck_assert_str_eq(ask(fd, cmd), "got 0 T2/1:ping");
    /* No result ever comes: the timeout ends the wait. */
    ck_assert_str_eq(ask(fd, "wait 0.2 nofinish"), "got -110 ");
    /* A result that comes after its waiter gave up is dropped... */
    ck_assert_str_eq(ask(fd, "wait 0.2 hold"), "got -110 ");
    ev_wait("held 2");
    ck_assert_str_eq(ask(fd, "release"), "released");
    ck_assert_str_eq(ev_wait("late 2"), "late 2 0");
    /* ... and does not reach the next wait. */
    ck_assert_str_eq(ask(fd, cmd), "got 0 T2/1:ping");
    close(fd);
    stop_server();
}
END_TEST

START_TEST(task_start_and_task_result_collect_each)
{
    base_cfg(2, 2);
    start_server();
    int fd = client_connect(server_port);
    const char *r = ask(fd, "co 8");
    /* "co 0=T?/1:n0 1=T?/1:n1 ... again -2" */
    const char *p = r + 2;
    for (int i = 0; i < 8; i++) {
        long id;
        int tw, n, used;
        ck_assert_msg(sscanf(p, " %ld=T%d/1:n%d%n", &id, &tw, &n, &used) == 3, "%s", r);
        ck_assert_int_eq(n, i);
        ck_assert(tw == 2 || tw == 3);
        p += used;
    }
    ck_assert_str_eq(p, " again -2");
    close(fd);
    stop_server();
}
END_TEST

START_TEST(task_data_larger_than_a_mebibyte)
{
    base_cfg(2, 1);
    start_server();
    int fd = client_connect(server_port);
    ck_assert_str_eq(ask(fd, "big 3145728"), "big 0 3145728 1");
    ck_assert_str_eq(ask(fd, "big 100000"), "big 0 100000 1");
    close(fd);
    stop_server();
}
END_TEST

START_TEST(send_message_to_worker_and_task_worker)
{
    base_cfg(2, 1);
    start_server();
    int fd = client_connect(server_port);
    const char *r = ask(fd, "msg");
    int me, a, b;
    ck_assert_int_eq(sscanf(r, "sent %d %d %d", &me, &a, &b), 3);
    ck_assert_int_eq(a, 0);
    ck_assert_int_eq(b, 0);
    char want[64];
    snprintf(want, sizeof want, "pm %d %d hi", 1 - me, me);
    ck_assert_str_eq(ev_wait(want), want);
    snprintf(want, sizeof want, "pm 2 %d to task", me);
    ck_assert_str_eq(ev_wait(want), want);
    close(fd);
    stop_server();
}
END_TEST

START_TEST(killed_worker_restarts_with_same_id)
{
    base_cfg(2, 1);
    start_server();
    ws_collect();
    int fd = client_connect(server_port);
    const char *r = ask(fd, "who");
    int me, mypid;
    ck_assert_int_eq(sscanf(r, "id %d pid %d", &me, &mypid), 2);
    int other = 1 - me, victim = ws_pid[other];
    ck_assert_int_gt(victim, 0);
    ck_assert_int_eq(kill(victim, SIGKILL), 0);
    char want[64];
    snprintf(want, sizeof want, "we %d %d 0 9", other, victim);
    ev_wait(want);
    int fresh = wait_restarted(other, victim);
    /* The connection of the other worker kept working all along. */
    snprintf(want, sizeof want, "id %d pid %d", me, mypid);
    ck_assert_str_eq(ask(fd, "who"), want);
    int p[3];
    ck_assert_int_eq(sscanf(ask(fd, "pids"), "pids %d %d %d", &p[0], &p[1], &p[2]), 3);
    ck_assert_int_eq(p[me], mypid);
    ck_assert_int_eq(p[other], fresh);
    int rc, tasking;
    long long count, restarts;
    ck_assert_int_eq(
        sscanf(ask(fd, "stats"), "stats %d %d %lld %lld", &rc, &tasking, &count, &restarts), 4);
    ck_assert_int_eq(restarts, 1);
    close(fd);
    stop_server();
}
END_TEST

START_TEST(reload_restarts_every_worker_losing_no_request)
{
    if (!have("python3"))
        return;
    base_cfg(2, 1);
    start_server();
    ws_collect();
    int old[3] = {ws_pid[0], ws_pid[1], ws_pid[2]};
    stream_t s;
    stream_start(&s, server_port, 4);
    ck_assert_int_eq(kill(server_pid, SIGUSR1), 0);
    for (int i = 0; i < 3; i++)
        wait_restarted(i, old[i]);
    /* The new workers answer too. */
    for (int i = 0; i < 4; i++) {
        int id, pid;
        ck_assert_int_eq(sscanf(ask_once("who"), "id %d pid %d", &id, &pid), 2);
        ck_assert_int_eq(pid, ws_pid[id]);
    }
    long sent, ok, fail;
    char tags[4096];
    stream_stop(&s, &sent, &ok, &fail, tags, sizeof tags);
    ck_assert_int_eq(fail, 0);
    ck_assert_int_eq(ok, sent);
    ck_assert_int_gt(ok, 0);
    ck_assert_msg(!ev_seen("we "), "a worker ended abnormally");
    stop_server();
}
END_TEST

START_TEST(sigusr2_reloads_only_task_workers)
{
    base_cfg(2, 2);
    start_server();
    ws_collect();
    int old[4] = {ws_pid[0], ws_pid[1], ws_pid[2], ws_pid[3]};
    ck_assert_int_eq(kill(server_pid, SIGUSR2), 0);
    int n2 = wait_restarted(2, old[2]);
    int n3 = wait_restarted(3, old[3]);
    int p[4];
    ck_assert_int_eq(sscanf(ask_once("pids"), "pids %d %d %d %d", &p[0], &p[1], &p[2], &p[3]), 4);
    ck_assert_int_eq(p[0], old[0]);
    ck_assert_int_eq(p[1], old[1]);
    ck_assert_int_eq(p[2], n2);
    ck_assert_int_eq(p[3], n3);
    long id;
    int tw;
    ck_assert_int_eq(sscanf(ask_once("task after"), "fin %ld T%d/1:after", &id, &tw), 2);
    ck_assert_msg(!ev_seen("we "), "a worker ended abnormally");
    stop_server();
}
END_TEST

START_TEST(max_request_recycles_workers_losing_no_request)
{
    if (!have("python3"))
        return;
    base_cfg(2, 0);
    cfg.max_request = 3;
    start_server();
    ws_collect();
    int old0 = ws_pid[0], old1 = ws_pid[1];
    stream_t s;
    stream_start(&s, server_port, 3);
    wait_restarted(0, old0);
    wait_restarted(1, old1);
    long sent, ok, fail;
    char tags[4096];
    stream_stop(&s, &sent, &ok, &fail, tags, sizeof tags);
    ck_assert_int_eq(fail, 0);
    ck_assert_int_eq(ok, sent);
    /* Answered by more than the two first processes. */
    int pids = 0;
    for (const char *t = tags; (t = strchr(t, '=')) != NULL; t++)
        pids++;
    ck_assert_msg(pids >= 3, "answered by %d processes: %s", pids, tags);
    ck_assert_msg(!ev_seen("we "), "a recycled worker counted as an error");
    stop_server();
}
END_TEST

START_TEST(shutdown_finishes_in_flight_handler)
{
    base_cfg(2, 1);
    cfg.max_wait = 30 * slow();
    start_server();
    int fd = client_connect(server_port);
    ck_assert_int_eq(send(fd, "slow\n", 5, MSG_NOSIGNAL), 5);
    ev_wait("inflight ");
    ck_assert_int_eq(kill(server_pid, SIGTERM), 0);
    /* The worker is stopping and its handler still runs. */
    ev_wait("wx ");
    ck_assert_int_eq(write(rel_pipe[1], "g", 1), 1);
    char b[64];
    ssize_t n = recv(fd, b, sizeof b - 1, MSG_WAITALL);
    ck_assert_int_gt(n, 0);
    b[n] = 0;
    ck_assert_str_eq(b, "slow done 1\n");
    close(fd);
    const char *l = ev_wait("exit ");
    ck_assert_msg(strncmp(l, "exit 0 ", 7) == 0, "%s", l);
    int st;
    ck_assert_int_eq(waitpid(server_pid, &st, 0), server_pid);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}
END_TEST

START_TEST(socket_activation_uses_the_passed_socket)
{
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(ls, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    ck_assert_int_eq(bind(ls, (struct sockaddr *)&a, sizeof a), 0);
    ck_assert_int_eq(listen(ls, 64), 0);
    ck_assert_int_eq(getsockname(ls, (struct sockaddr *)&a, &al), 0);
    int port = ntohs(a.sin_port);
    base_cfg(2, 0);
    cfg.activated_port = port;
    cfg.activated_fd = ls;
    start_server();
    /* It could not have bound port itself: ls listens there. */
    ck_assert_int_eq(server_port, port);
    close(ls);
    int id, pid;
    ck_assert_int_eq(sscanf(ask_once("who"), "id %d pid %d", &id, &pid), 2);
    ck_assert_str_eq(ask_once("env"), "env unset unset");
    stop_server();
}
END_TEST

START_TEST(task_calls_refuse_bad_input)
{
    ck_assert_int_eq(swco_server_task(NULL, "x", 1, -1), -EINVAL);
    ck_assert_int_eq(swco_server_send_message(NULL, 0, "x", 1), -EINVAL);
    ck_assert_int_eq(swco_server_finish(NULL, 0, "x", 1), -EINVAL);
    base_cfg(2, 1);
    start_server();
    /* dst out of range twice, message to itself, to no one, finish
     * outside a task worker, an unknown task id, nowhere to put a result */
    ck_assert_str_eq(ask_once("bad"), "bad -22 -22 -22 -22 -22 -2 -22");
    ck_assert_str_eq(ask_once("hotbad"), "hotbad -2 -22 -22");
    stop_server();
    base_cfg(2, 0);
    start_server();
    ck_assert_str_eq(ask_once("task x"), "task error -38");
    stop_server();
}
END_TEST

/* ---- hot restart: this program run again as the new server */

static void hot_manager_start(swco_server_t *srv, void *arg)
{
    ev("hs %d %s", (int)getpid(), getenv("LISTEN_FDS") ? "set" : "unset");
}

/* Without manager (one worker): the same news from the server's start. */
static void hot_start(swco_server_t *srv, void *arg)
{
    if (cfg.workers == 1)
        hot_manager_start(srv, arg);
}

static int hot_child_main(int argc, char **argv)
{
    if (argc < 5)
        return 2;
    ev_pipe[1] = atoi(argv[3]);
    int port = atoi(argv[2]);
    /* Never outlive a test that failed half way. */
    alarm((unsigned)(120 * slow()));
    base_cfg(atoi(argv[4]), 0);
    swco_server_t *srv = swco_server_new("127.0.0.1", port, SWCO_SERVER_BASE, SWCO_SOCK_TCP);
    if (!srv) {
        ev("hs -1 %d", swco_last_error());
        return 1;
    }
    set_opt(srv, "worker_num", cfg.workers);
    swco_server_on_receive(srv, on_receive, NULL, NULL);
    swco_server_on_manager_start(srv, hot_manager_start, NULL, NULL);
    swco_server_on_start(srv, hot_start, NULL, NULL);
    int rc = swco_server_start(srv);
    ev("hexit %d", rc);
    swco_server_free(srv);
    return 0;
}

START_TEST(hot_restart_hands_over_without_refusing)
{
    if (!have("python3"))
        return;
    base_cfg(2, 0);
    start_server();
    ws_collect();
    int old[2] = {ws_pid[0], ws_pid[1]};
    stream_t s;
    stream_start(&s, server_port, 4);
    ck_assert_str_eq(ask_once("hot"), "hot 0");
    const char *l = ev_wait("hs ");
    int newpid;
    char env[16];
    ck_assert_msg(sscanf(l, "hs %d %15s", &newpid, env) == 2 && newpid > 0, "%s", l);
    ck_assert_str_eq(env, "unset");
    /* The old server shuts down by itself once the new one started. */
    l = ev_wait("exit ");
    ck_assert_msg(strncmp(l, "exit 0 ", 7) == 0, "%s", l);
    int st;
    ck_assert_int_eq(waitpid(server_pid, &st, 0), server_pid);
    /* Now the new one answers, on the same port. */
    int id, pid;
    ck_assert_int_eq(sscanf(ask_once("who"), "id %d pid %d", &id, &pid), 2);
    ck_assert(pid != old[0] && pid != old[1] && pid != newpid);
    long sent, ok, fail;
    char tags[4096];
    stream_stop(&s, &sent, &ok, &fail, tags, sizeof tags);
    ck_assert_int_eq(fail, 0);
    ck_assert_int_eq(ok, sent);
    ck_assert_int_eq(kill(newpid, SIGTERM), 0);
    ck_assert_str_eq(ev_wait("hexit "), "hexit 0");
}
END_TEST

START_TEST(task_worker_runs_tasks_in_coroutines_or_from_its_loop)
{
    base_cfg(2, 1);
    start_server();
    char cmd[64];
    snprintf(cmd, sizeof cmd, "wait %g where", limit());
    ck_assert_str_eq(ask_once(cmd), "got 0 co");
    stop_server();
    base_cfg(2, 1);
    cfg.task_co = 0;
    start_server();
    ck_assert_str_eq(ask_once(cmd), "got 0 loop");
    stop_server();
}
END_TEST

START_TEST(taskwait_blocks_outside_coroutines)
{
    base_cfg(2, 1);
    cfg.no_co = 1;
    cfg.task_co = 0;
    start_server();
    int fd = client_connect(server_port);
    ck_assert_str_eq(ask(fd, "where"), "where loop");
    char cmd[64];
    snprintf(cmd, sizeof cmd, "wait %g ping", limit());
    ck_assert_str_eq(ask(fd, cmd), "got 0 T2/1:ping");
    ck_assert_str_eq(ask(fd, "wait 0.2 nofinish"), "got -110 ");
    /* A message that came while the worker was blocked still arrives. */
    int fd2 = client_connect(server_port);
    const char *r = ask(fd2, "msg");
    int me, a, b;
    ck_assert_int_eq(sscanf(r, "sent %d %d %d", &me, &a, &b), 3);
    char want[64];
    snprintf(want, sizeof want, "pm %d %d hi", 1 - me, me);
    ck_assert_str_eq(ev_wait(want), want);
    ck_assert_str_eq(ask(fd, cmd), "got 0 T2/1:ping");
    close(fd2);
    close(fd);
    stop_server();
}
END_TEST

START_TEST(hot_restart_to_a_server_without_manager)
{
    base_cfg(2, 0);
    cfg.hot_workers = 1;
    start_server();
    ck_assert_str_eq(ask_once("hot"), "hot 0");
    const char *l = ev_wait("hs ");
    int newpid;
    ck_assert_int_eq(sscanf(l, "hs %d", &newpid), 1);
    /* The old one goes once the new one's only worker serves. */
    l = ev_wait("exit ");
    ck_assert_msg(strncmp(l, "exit 0 ", 7) == 0, "%s", l);
    int st;
    ck_assert_int_eq(waitpid(server_pid, &st, 0), server_pid);
    int id, pid;
    ck_assert_int_eq(sscanf(ask_once("who"), "id %d pid %d", &id, &pid), 2);
    ck_assert_int_eq(pid, newpid);
    ck_assert_int_eq(kill(newpid, SIGTERM), 0);
    ck_assert_str_eq(ev_wait("hexit "), "hexit 0");
}
END_TEST

/* One test case per test, so CK_RUN_CASE picks one. */
static void add(Suite *s, const char *name, const TTest *t)
{
    TCase *tc = tcase_create(name);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, t);
    suite_add_tcase(s, tc);
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "--hot-child") == 0)
        return hot_child_main(argc, argv);
    Suite *s = suite_create("server_task");
#define ADD(t) add(s, #t, t)
    ADD(task_runs_in_task_worker_and_finish_reaches_sender);
    ADD(taskwait_round_trip_and_timeout);
    ADD(task_start_and_task_result_collect_each);
    ADD(task_data_larger_than_a_mebibyte);
    ADD(send_message_to_worker_and_task_worker);
    ADD(killed_worker_restarts_with_same_id);
    ADD(reload_restarts_every_worker_losing_no_request);
    ADD(sigusr2_reloads_only_task_workers);
    ADD(max_request_recycles_workers_losing_no_request);
    ADD(shutdown_finishes_in_flight_handler);
    ADD(socket_activation_uses_the_passed_socket);
    ADD(task_calls_refuse_bad_input);
    ADD(hot_restart_hands_over_without_refusing);
    ADD(task_worker_runs_tasks_in_coroutines_or_from_its_loop);
    ADD(taskwait_blocks_outside_coroutines);
    ADD(hot_restart_to_a_server_without_manager);
    return run_suite(s);
}
