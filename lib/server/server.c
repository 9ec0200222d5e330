/* The server object: listeners (bound and listening from the moment they
 * are created), callbacks, and the public calls, which reach the
 * connections through the running mode's ops (srv->impl->ops).  start
 * checks what the listeners need, builds the TLS contexts and the shared
 * state, and hands over to the mode. */
#include "server/server_int.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

double swco__wall_time(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------ callbacks */

int swco__srv_cb_set(swco__srv_cb_t *slot, void *fn, void *arg, swco_free_fn arg_free)
{
    swco__srv_cb_t old = *slot;
    slot->fn = fn;
    slot->arg = fn ? arg : NULL;
    slot->arg_free = fn ? arg_free : NULL;
    if (old.arg_free)
        old.arg_free(old.arg);
    return 0;
}

static void cb_clear(swco__srv_cb_t *slot) { swco__srv_cb_set(slot, NULL, NULL, NULL); }

static int set_cb(swco_server_t *srv, int which, void *fn, void *arg, swco_free_fn arg_free)
{
    if (!srv)
        return swco__fail(-EINVAL);
    if (srv->running)
        return swco__fail(-EBUSY);
    return swco__srv_cb_set(&srv->cb[which], fn, arg, arg_free);
}

static int set_lcb(swco_server_t *srv, int listener, swco__srv_cb_t *(*slot)(swco__listener_t *),
                   void *fn, void *arg, swco_free_fn arg_free)
{
    if (!srv || listener < 0 || listener >= srv->nlisteners)
        return swco__fail(-EINVAL);
    if (srv->running)
        return swco__fail(-EBUSY);
    return swco__srv_cb_set(slot(srv->listeners[listener]), fn, arg, arg_free);
}

#define ON(name, which, type)                                                                   \
    int swco_server_on_##name(swco_server_t *srv, type fn, void *arg, swco_free_fn arg_free)    \
    {                                                                                           \
        return set_cb(srv, which, (void *)fn, arg, arg_free);                                   \
    }
ON(start, SWCO__CB_START, swco_server_fn)
ON(shutdown, SWCO__CB_SHUTDOWN, swco_server_fn)
ON(manager_start, SWCO__CB_MANAGER_START, swco_server_fn)
ON(manager_stop, SWCO__CB_MANAGER_STOP, swco_server_fn)
ON(worker_start, SWCO__CB_WORKER_START, swco_server_worker_fn)
ON(worker_stop, SWCO__CB_WORKER_STOP, swco_server_worker_fn)
ON(worker_exit, SWCO__CB_WORKER_EXIT, swco_server_worker_fn)
ON(worker_error, SWCO__CB_WORKER_ERROR, swco_server_worker_error_fn)
ON(connect, SWCO__CB_CONNECT, swco_server_conn_fn)
ON(receive, SWCO__CB_RECEIVE, swco_server_receive_fn)
ON(packet, SWCO__CB_PACKET, swco_server_packet_fn)
ON(close, SWCO__CB_CLOSE, swco_server_conn_fn)
ON(task, SWCO__CB_TASK, swco_server_task_fn)
ON(finish, SWCO__CB_FINISH, swco_server_finish_fn)
ON(pipe_message, SWCO__CB_PIPE_MESSAGE, swco_server_message_fn)
ON(buffer_full, SWCO__CB_BUFFER_FULL, swco_server_conn_fn)
ON(buffer_empty, SWCO__CB_BUFFER_EMPTY, swco_server_conn_fn)
#undef ON

int swco_server_set_dispatch(swco_server_t *srv, swco_server_dispatch_fn fn, void *arg,
                             swco_free_fn arg_free)
{
    return set_cb(srv, SWCO__CB_DISPATCH, (void *)fn, arg, arg_free);
}

static swco__srv_cb_t *slot_connect(swco__listener_t *l) { return &l->cb_connect; }
static swco__srv_cb_t *slot_receive(swco__listener_t *l) { return &l->cb_receive; }
static swco__srv_cb_t *slot_packet(swco__listener_t *l) { return &l->cb_packet; }
static swco__srv_cb_t *slot_close(swco__listener_t *l) { return &l->cb_close; }

int swco_server_listener_on_connect(swco_server_t *srv, int listener, swco_server_conn_fn fn,
                                    void *arg, swco_free_fn arg_free)
{
    return set_lcb(srv, listener, slot_connect, (void *)fn, arg, arg_free);
}

int swco_server_listener_on_receive(swco_server_t *srv, int listener, swco_server_receive_fn fn,
                                    void *arg, swco_free_fn arg_free)
{
    return set_lcb(srv, listener, slot_receive, (void *)fn, arg, arg_free);
}

int swco_server_listener_on_packet(swco_server_t *srv, int listener, swco_server_packet_fn fn,
                                   void *arg, swco_free_fn arg_free)
{
    return set_lcb(srv, listener, slot_packet, (void *)fn, arg, arg_free);
}

int swco_server_listener_on_close(swco_server_t *srv, int listener, swco_server_conn_fn fn,
                                  void *arg, swco_free_fn arg_free)
{
    return set_lcb(srv, listener, slot_close, (void *)fn, arg, arg_free);
}

/* ------------------------------------------------------------ listeners */

static int sock_kind(int sock_type, int *family, int *stream)
{
    int ssl = sock_type & SWCO_SOCK_SSL;
    switch (sock_type & ~SWCO_SOCK_SSL) {
    case SWCO_SOCK_TCP: *family = AF_INET; *stream = 1; break;
    case SWCO_SOCK_TCP6: *family = AF_INET6; *stream = 1; break;
    case SWCO_SOCK_UDP: *family = AF_INET; *stream = 0; break;
    case SWCO_SOCK_UDP6: *family = AF_INET6; *stream = 0; break;
    case SWCO_SOCK_UNIX_STREAM: *family = AF_UNIX; *stream = 1; break;
    case SWCO_SOCK_UNIX_DGRAM: *family = AF_UNIX; *stream = 0; break;
    default: return -EINVAL;
    }
    if (ssl && !*stream)
        return -EINVAL; /* no DTLS */
    return 0;
}

/* The sockaddr of l (host and port as given, "" / NULL: any address,
 * "localhost": loopback). */
static int listener_addr(const swco__listener_t *l, struct sockaddr_storage *ss, socklen_t *len)
{
    memset(ss, 0, sizeof *ss);
    if (l->family == AF_UNIX) {
        struct sockaddr_un *un = (struct sockaddr_un *)ss;
        size_t n = strlen(l->host);
        if (n == 0 || n >= sizeof un->sun_path)
            return -EINVAL;
        un->sun_family = AF_UNIX;
        memcpy(un->sun_path, l->host, n);
        if (un->sun_path[0] == '@') /* abstract namespace */
            un->sun_path[0] = 0;
        *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (l->host[0] != '@'));
        return 0;
    }
    const char *host = l->host;
    if (!host[0])
        host = l->family == AF_INET ? "0.0.0.0" : "::";
    else if (strcmp(host, "localhost") == 0)
        host = l->family == AF_INET ? "127.0.0.1" : "::1";
    swco__addr_t a;
    if (swco__addr_numeric(&a, host, l->port, l->family) < 0)
        return -EINVAL;
    memcpy(ss, &a.ss, a.len);
    *len = a.len;
    return 0;
}

/* A Unix socket file at path that nobody listens on any more. */
static int unix_path_stale(const struct sockaddr_un *un, socklen_t len, int type)
{
    struct stat st;
    if (lstat(un->sun_path, &st) < 0 || !S_ISSOCK(st.st_mode))
        return 0;
    int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    int stale = connect(fd, (const struct sockaddr *)un, len) < 0 && errno == ECONNREFUSED;
    close(fd);
    return stale;
}

static int open_socket(const swco_server_t *srv, const swco__listener_t *l, int reuseport,
                       int *unlinked_path)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int rc = listener_addr(l, &ss, &len);
    if (rc < 0)
        return rc;
    int type = l->stream ? SOCK_STREAM : SOCK_DGRAM;
    int fd = socket(l->family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -errno;
    int one = 1;
    if (l->family != AF_UNIX) {
        if (l->stream)
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) {
            rc = -errno;
            close(fd);
            return rc;
        }
    }
    if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
        rc = -errno;
        struct sockaddr_un *un = (struct sockaddr_un *)&ss;
        if (rc == -EADDRINUSE && l->family == AF_UNIX && un->sun_path[0] &&
            unix_path_stale(un, len, type)) {
            /* A socket file left by a process that is gone: take it over. */
            unlink(un->sun_path);
            rc = bind(fd, (struct sockaddr *)&ss, len) < 0 ? -errno : 0;
        }
        if (rc < 0) {
            close(fd);
            return rc;
        }
    }
    if (unlinked_path)
        *unlinked_path = l->family == AF_UNIX && l->host[0] != '@';
    if (l->stream && listen(fd, srv ? srv->opt.backlog : 511) < 0) {
        rc = -errno;
        close(fd);
        return rc;
    }
    return fd;
}

int swco__srv_dest_addr(int family, const char *addr, int port, struct sockaddr_storage *ss,
                        socklen_t *len)
{
    if (!addr || !ss || !len)
        return -EINVAL;
    memset(ss, 0, sizeof *ss);
    if (family == AF_UNIX) {
        struct sockaddr_un *un = (struct sockaddr_un *)ss;
        size_t n = strlen(addr);
        if (n == 0 || n >= sizeof un->sun_path)
            return -EINVAL;
        un->sun_family = AF_UNIX;
        memcpy(un->sun_path, addr, n);
        if (un->sun_path[0] == '@')
            un->sun_path[0] = 0;
        *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (addr[0] != '@'));
        return 0;
    }
    swco__addr_t a;
    if (swco__addr_numeric(&a, addr, port, family) != 0)
        return -EINVAL;
    memcpy(ss, &a.ss, a.len);
    *len = a.len;
    return 0;
}

int swco__srv_listener_socket(const swco_server_t *srv, const swco__listener_t *l, int reuseport)
{
    return open_socket(srv, l, reuseport, NULL);
}

static void listener_free(swco_server_t *srv, swco__listener_t *l)
{
    if (!l)
        return;
    if (l->fd >= 0)
        close(l->fd);
    if (l->unlink_path && l->family == AF_UNIX && srv->master_pid == getpid())
        unlink(l->host);
    if (l->ssl_ctx)
        swco_ssl_ctx_free(l->ssl_ctx);
    cb_clear(&l->cb_connect);
    cb_clear(&l->cb_receive);
    cb_clear(&l->cb_packet);
    cb_clear(&l->cb_close);
    cb_clear(&l->cb_request);
    swco__srv_opts_free(NULL, &l->opt);
    free(l);
}

static int listener_add(swco_server_t *srv, const char *host, int port, int sock_type)
{
    int family, stream;
    if (sock_kind(sock_type, &family, &stream) < 0)
        return -EINVAL;
    if (family == AF_UNIX ? (!host || !host[0]) : (port < 0 || port > 65535))
        return -EINVAL;
    if (host && strlen(host) >= sizeof ((swco__listener_t *)0)->host)
        return -EINVAL;
    if (srv->nlisteners >= 255)
        return -ENOSPC; /* a connection names its listener in one byte */
    swco__listener_t **ls = realloc(srv->listeners, sizeof *ls * (size_t)(srv->nlisteners + 1));
    if (!ls)
        return -ENOMEM;
    srv->listeners = ls;
    swco__listener_t *l = calloc(1, sizeof *l);
    if (!l)
        return -ENOMEM;
    l->index = srv->nlisteners;
    l->sock_type = sock_type;
    l->family = family;
    l->stream = stream;
    snprintf(l->host, sizeof l->host, "%s", host ? host : "");
    l->port = family == AF_UNIX ? 0 : port;
    l->fd = -1;
    swco__lopts_copy(&l->opt, &srv->lopt);
    if (!!srv->lopt.ssl_cert_file != !!l->opt.ssl_cert_file ||
        !!srv->lopt.ssl_key_file != !!l->opt.ssl_key_file ||
        !!srv->lopt.ssl_ca_file != !!l->opt.ssl_ca_file ||
        !!srv->lopt.ssl_ciphers != !!l->opt.ssl_ciphers) {
        listener_free(srv, l);
        return -ENOMEM;
    }
    int fd = swco__srv_activated_fd(l->host, l->port, family, stream);
    if (fd >= 0) {
        l->activated = 1;
    } else {
        /* THREAD mode: the other threads' sockets join this one's
         * SO_REUSEPORT group. */
        fd = open_socket(srv, l, srv->mode == SWCO_SERVER_THREAD, &l->unlink_path);
        if (fd < 0) {
            listener_free(srv, l);
            return fd;
        }
    }
    l->fd = fd;
    if (family != AF_UNIX) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
            l->port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                              : ((struct sockaddr_in6 *)&ss)->sin6_port);
    }
    srv->listeners[srv->nlisteners++] = l;
    return l->index;
}

/* ------------------------------------------------------------ lifecycle */

swco_server_t *swco_server_new(const char *host, int port, int mode, int sock_type)
{
    const swco__srv_mode_t *impl;
    switch (mode) {
    case SWCO_SERVER_BASE: impl = &swco__srv_mode_base; break;
    case SWCO_SERVER_PROCESS: impl = &swco__srv_mode_process; break;
    case SWCO_SERVER_THREAD: impl = &swco__srv_mode_thread; break;
    default: swco__fail(-EINVAL); return NULL;
    }
    swco_server_t *srv = calloc(1, sizeof *srv);
    if (!srv) {
        swco__fail(-ENOMEM);
        return NULL;
    }
    srv->mode = mode;
    srv->impl = impl;
    srv->master_pid = getpid();
    swco__srv_opts_default(&srv->opt, &srv->lopt);
    int rc = listener_add(srv, host, port, sock_type);
    if (rc < 0) {
        swco_server_free(srv);
        swco__fail(rc);
        return NULL;
    }
    return srv;
}

static void release_state(swco_server_t *srv)
{
    if (srv->conns.slots)
        swco__conn_table_free(&srv->conns);
    if (srv->shm) {
        munmap(srv->shm, srv->shm_size);
        srv->shm = NULL;
        srv->shm_size = 0;
    }
}

void swco_server_free(swco_server_t *srv)
{
    if (!srv)
        return;
    if (srv->running) {
        swco__log(SWCO_LOG_ERROR, "swco_server_free: the server is running; not freed");
        return;
    }
    swco__srv_ipc_free(srv);
    for (int i = 0; i < srv->nlisteners; i++)
        listener_free(srv, srv->listeners[i]);
    free(srv->listeners);
    for (int i = 0; i < SWCO__CB_COUNT; i++)
        cb_clear(&srv->cb[i]);
    swco__srv_opts_free(&srv->opt, &srv->lopt);
    release_state(srv);
    free(srv);
}

int swco_server_add_listener(swco_server_t *srv, const char *host, int port, int sock_type)
{
    if (!srv)
        return swco__fail(-EINVAL);
    if (srv->running)
        return swco__fail(-EBUSY);
    return swco__srv_ret(listener_add(srv, host, port, sock_type));
}

int swco_server_listener_port(const swco_server_t *srv, int listener)
{
    if (!srv || listener < 0 || listener >= srv->nlisteners)
        return swco__fail(-EINVAL);
    return srv->listeners[listener]->port;
}

int swco_server_listener_count(const swco_server_t *srv)
{
    return srv ? srv->nlisteners : swco__fail(-EINVAL);
}

/* ----------------------------------------------------------------- start */

static int build_ssl(swco__listener_t *l)
{
    if (!(l->sock_type & SWCO_SOCK_SSL))
        return 0;
    if (!l->opt.ssl_cert_file || !l->opt.ssl_key_file) {
        swco__log(SWCO_LOG_ERROR, "server: TLS listener %d needs ssl_cert_file and ssl_key_file",
                  l->index);
        return -EINVAL;
    }
    swco_ssl_ctx_t *ctx = swco_ssl_ctx_new(1);
    if (!ctx)
        return swco_last_error();
    int rc = swco_ssl_ctx_set_cert_file(ctx, l->opt.ssl_cert_file, l->opt.ssl_key_file);
    if (rc == 0 && l->opt.ssl_ca_file)
        rc = swco_ssl_ctx_set_ca(ctx, l->opt.ssl_ca_file, NULL);
    if (rc == 0 && l->opt.ssl_verify_peer)
        rc = swco_ssl_ctx_set_verify_peer(ctx, 1);
    if (rc == 0 && l->opt.ssl_ciphers)
        rc = swco_ssl_ctx_set_ciphers(ctx, l->opt.ssl_ciphers);
    if (rc == 0 && (l->opt.ssl_min_proto || l->opt.ssl_max_proto))
        rc = swco_ssl_ctx_set_protocols(ctx, l->opt.ssl_min_proto, l->opt.ssl_max_proto);
    if (rc < 0) {
        swco_ssl_ctx_free(ctx);
        return rc;
    }
    if (l->ssl_ctx)
        swco_ssl_ctx_free(l->ssl_ctx);
    l->ssl_ctx = ctx;
    return 0;
}

static int check_listeners(swco_server_t *srv)
{
    for (int i = 0; i < srv->nlisteners; i++) {
        swco__listener_t *l = srv->listeners[i];
        l->proto = swco__srv_proto_for(l);
        if (l->proto && !l->cb_request.fn && !srv->cb[SWCO__CB_REQUEST].fn &&
            !l->opt.http.static_handler && !l->opt.http.websocket) {
            swco__log(SWCO_LOG_ERROR, "server: HTTP listener %d has no request handler", i);
            return -EINVAL;
        }
        if (l->stream && !l->proto && !l->cb_receive.fn && !srv->cb[SWCO__CB_RECEIVE].fn) {
            swco__log(SWCO_LOG_ERROR, "server: listener %d (stream) has no receive callback", i);
            return -EINVAL;
        }
        if (!l->stream && !l->cb_packet.fn && !srv->cb[SWCO__CB_PACKET].fn) {
            swco__log(SWCO_LOG_ERROR, "server: listener %d (datagram) has no packet callback", i);
            return -EINVAL;
        }
        int rc = build_ssl(l);
        if (rc < 0)
            return rc;
        /* heartbeat_check_interval alone: idle after twice the interval. */
        if (srv->opt.heartbeat_check_interval > 0 && l->opt.heartbeat_idle_time <= 0)
            l->opt.heartbeat_idle_time = srv->opt.heartbeat_idle_time > 0
                                             ? srv->opt.heartbeat_idle_time
                                             : 2 * srv->opt.heartbeat_check_interval;
        /* the backlog as set now (listen() again only changes it) */
        if (l->stream && !l->activated)
            listen(l->fd, srv->opt.backlog);
        if (l->stream && l->family != AF_UNIX && srv->mode == SWCO_SERVER_BASE &&
            srv->opt.enable_reuse_port && !l->activated) {
            /* Each BASE worker gets a socket of its own: this one must be
             * in the SO_REUSEPORT group from its bind on. */
            int fd = open_socket(srv, l, 1, NULL);
            if (fd == -EADDRINUSE) {
                int old = l->fd;
                l->fd = -1;
                close(old);
                fd = open_socket(srv, l, 1, NULL);
            }
            if (fd < 0)
                return fd;
            if (l->fd >= 0)
                close(l->fd);
            l->fd = fd;
        }
    }
    return 0;
}

static int alloc_state(swco_server_t *srv)
{
    release_state(srv);
    int n = srv->opt.worker_num + srv->opt.task_worker_num;
    size_t size = sizeof(swco__srv_shm_t) + (size_t)n * sizeof(swco__srv_wshm_t);
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return -ENOMEM;
    srv->shm = p;
    srv->shm_size = size;
    srv->shm->master_pid = (int32_t)getpid();
    srv->shm->start_time = swco__wall_time();
    for (int i = 0; i < n; i++)
        srv->shm->workers[i].is_task = i >= srv->opt.worker_num;
    /* A slot per kernel fd a connection may get: the kernel hands out the
     * lowest free number, so max_connection plus room for the program's
     * other descriptors, and never more than the process may open (the
     * slots are what connections() and heartbeat scan). */
    struct rlimit rl;
    size_t cap = (size_t)srv->opt.max_connection + 4096;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        (size_t)rl.rlim_cur < cap)
        cap = (size_t)rl.rlim_cur;
    if (cap > SWCO__CONN_FD_MAX)
        cap = SWCO__CONN_FD_MAX;
    return swco__conn_table_init(&srv->conns, cap, srv->mode == SWCO_SERVER_PROCESS, 0);
}

static int daemonize(swco_server_t *srv)
{
    pid_t pid = fork();
    if (pid < 0)
        return -errno;
    if (pid > 0)
        _exit(0);
    setsid();
    pid = fork();
    if (pid < 0)
        return -errno;
    if (pid > 0)
        _exit(0);
    int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (fd >= 0) {
        dup2(fd, 0);
        if (!srv->opt.log_file) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        close(fd);
    }
    return 0;
}

static int open_log(swco_server_t *srv)
{
    if (!srv->opt.log_file)
        return 0;
    int fd = open(srv->opt.log_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    fflush(stdout);
    fflush(stderr);
    dup2(fd, 1);
    dup2(fd, 2);
    close(fd);
    return 0;
}

static int write_pid_file(swco_server_t *srv)
{
    if (!srv->opt.pid_file)
        return 0;
    FILE *f = fopen(srv->opt.pid_file, "we");
    if (!f)
        return -errno;
    fprintf(f, "%d\n", (int)getpid());
    return fclose(f) == 0 ? 0 : -EIO;
}

static void call_server_cb(swco_server_t *srv, int which)
{
    swco__srv_cb_t *cb = &srv->cb[which];
    if (cb->fn)
        ((swco_server_fn)cb->fn)(srv, cb->arg);
}

int swco_server_start(swco_server_t *srv)
{
    if (!srv)
        return swco__fail(-EINVAL);
    if (srv->running)
        return swco__fail(-EBUSY);
    if (swco__co_current())
        return swco__fail(SWCO_ECOSTATE);
    int rc = check_listeners(srv);
    if (rc < 0)
        return swco__fail(rc);
    if (srv->opt.max_coroutine != swco_coroutine_get_max())
        swco_coroutine_set_max(srv->opt.max_coroutine);
    if (srv->opt.daemonize && (rc = daemonize(srv)) < 0)
        return swco__fail(rc);
    if ((rc = open_log(srv)) < 0 || (rc = write_pid_file(srv)) < 0)
        return swco__fail(rc);
    srv->master_pid = getpid();
    if ((rc = alloc_state(srv)) < 0) {
        release_state(srv);
        return swco__fail(rc);
    }
    if ((rc = swco__srv_ipc_prepare(srv)) < 0) {
        release_state(srv);
        return swco__fail(rc);
    }
    srv->running = 1;
    call_server_cb(srv, SWCO__CB_START);
    rc = srv->impl->start(srv);
    /* A worker or manager process the mode forked never gets here: it
     * exits.  This is the master. */
    call_server_cb(srv, SWCO__CB_SHUTDOWN);
    srv->running = 0;
    swco__srv_ipc_free(srv);
    if (srv->opt.pid_file)
        unlink(srv->opt.pid_file);
    return rc < 0 ? swco__fail(rc) : 0;
}

/* ----------------------------------------------------- stop and reload */

static int manager_pid(const swco_server_t *srv)
{
    return srv->shm ? __atomic_load_n(&srv->shm->manager_pid, __ATOMIC_ACQUIRE) : 0;
}

int swco_server_shutdown(swco_server_t *srv)
{
    if (!srv)
        return swco__fail(-EINVAL);
    if (!srv->shm || !srv->running)
        return 0; /* not running */
    __atomic_store_n(&srv->shm->shutting_down, 1, __ATOMIC_RELEASE);
    if (srv->mode == SWCO_SERVER_PROCESS) {
        if (srv->shm->master_pid > 0)
            kill(srv->shm->master_pid, SIGTERM);
        return 0;
    }
    int mpid = manager_pid(srv);
    if (mpid > 0) {
        kill(mpid, SIGTERM);
        return 0;
    }
    return swco__srv_ret(swco__srv_local_stop(srv, -1));
}

int swco_server_reload(swco_server_t *srv, int only_task_workers)
{
    if (!srv)
        return swco__fail(-EINVAL);
    int mpid = manager_pid(srv);
    if (mpid > 0)
        kill(mpid, only_task_workers ? SIGUSR2 : SIGUSR1);
    /* Without manager (one BASE worker, THREAD) nobody could start a
     * worker again: there is nothing to reload. */
    return 0;
}

int swco_server_stop(swco_server_t *srv, int worker_id)
{
    if (!srv)
        return swco__fail(-EINVAL);
    swco__srv_self_t *me = swco__srv_me();
    int n = srv->opt.worker_num + srv->opt.task_worker_num;
    if (worker_id == -1) {
        if (me->role != SWCO__ROLE_WORKER && me->role != SWCO__ROLE_TASK)
            return swco__fail(-EINVAL);
        worker_id = me->worker_id;
    }
    if (worker_id < 0 || worker_id >= n || !srv->shm)
        return swco__fail(-EINVAL);
    if (srv->mode == SWCO_SERVER_THREAD || manager_pid(srv) <= 0) {
        if (worker_id == me->worker_id && me->role == SWCO__ROLE_WORKER) {
            swco__srv_worker_stop(srv);
            return 0;
        }
        return swco__srv_ret(swco__srv_local_stop(srv, worker_id));
    }
    int pid = __atomic_load_n(&srv->shm->workers[worker_id].pid, __ATOMIC_ACQUIRE);
    if (pid > 0 && pid == getpid() && me->role == SWCO__ROLE_WORKER) {
        swco__srv_worker_stop(srv);
        return 0;
    }
    if (pid > 0)
        kill(pid, SIGTERM);
    return 0;
}

/* --------------------------------------------------------- I/O by ops */

static const swco__srv_ops_t *ops_of(const swco_server_t *srv)
{
    return srv && srv->impl ? srv->impl->ops : NULL;
}

long swco_server_send(swco_server_t *srv, long long fd, const void *data, size_t len)
{
    const swco__srv_ops_t *ops = ops_of(srv);
    if (!ops || (!data && len))
        return swco__fail(-EINVAL);
    if (!ops->send || !srv->running)
        return swco__fail(SWCO_ENOCONN);
    long rc = ops->send(srv, fd, data, len, 0);
    return rc < 0 ? swco__fail((int)rc) : rc;
}

long swco_server_sendwait(swco_server_t *srv, long long fd, const void *data, size_t len)
{
    const swco__srv_ops_t *ops = ops_of(srv);
    if (!ops || (!data && len))
        return swco__fail(-EINVAL);
    if (!ops->send || !srv->running)
        return swco__fail(SWCO_ENOCONN);
    long rc = ops->send(srv, fd, data, len, SWCO__SEND_WAIT);
    return rc < 0 ? swco__fail((int)rc) : rc;
}

long long swco_server_sendfile(swco_server_t *srv, long long fd, const char *path,
                               long long offset, long long length)
{
    const swco__srv_ops_t *ops = ops_of(srv);
    if (!ops || !path || offset < 0 || length < 0)
        return swco__fail(-EINVAL);
    if (!ops->sendfile || !srv->running)
        return swco__fail(SWCO_ENOCONN);
    long long rc = ops->sendfile(srv, fd, path, offset, length);
    return rc < 0 ? swco__fail((int)rc) : rc;
}

long swco_server_sendto(swco_server_t *srv, const char *addr, int port, const void *data,
                        size_t len, int listener)
{
    const swco__srv_ops_t *ops = ops_of(srv);
    if (!ops || !addr || (!data && len) || listener < -1 || listener >= srv->nlisteners)
        return swco__fail(-EINVAL);
    if (!ops->sendto || !srv->running)
        return swco__fail(-ENOTCONN);
    long rc = ops->sendto(srv, listener, addr, port, data, len);
    return rc < 0 ? swco__fail((int)rc) : rc;
}

int swco_server_close(swco_server_t *srv, long long fd, int reset)
{
    const swco__srv_ops_t *ops = ops_of(srv);
    if (!ops)
        return swco__fail(-EINVAL);
    if (!ops->close || !srv->running)
        return swco__fail(SWCO_ENOCONN);
    return swco__srv_ret(ops->close(srv, fd, reset));
}

int swco_server_pause(swco_server_t *srv, long long fd)
{
    const swco__srv_ops_t *ops = ops_of(srv);
    if (!ops)
        return swco__fail(-EINVAL);
    if (!ops->pause || !srv->running)
        return swco__fail(SWCO_ENOCONN);
    return swco__srv_ret(ops->pause(srv, fd, 1));
}

int swco_server_resume(swco_server_t *srv, long long fd)
{
    const swco__srv_ops_t *ops = ops_of(srv);
    if (!ops)
        return swco__fail(-EINVAL);
    if (!ops->pause || !srv->running)
        return swco__fail(SWCO_ENOCONN);
    return swco__srv_ret(ops->pause(srv, fd, 0));
}

long swco_server_heartbeat(swco_server_t *srv, int close_them, long long *fds, long max)
{
    const swco__srv_ops_t *ops = ops_of(srv);
    if (!ops || max < 0 || (max > 0 && !fds))
        return swco__fail(-EINVAL);
    if (!ops->heartbeat || !srv->running)
        return 0;
    long rc = ops->heartbeat(srv, close_them, fds, max);
    return rc < 0 ? swco__fail((int)rc) : rc;
}

/* ------------------------------------------------- connection table */

/* The connection fd names, or NULL with *err: SWCO_ENOTLOCAL when, in
 * BASE mode, it names one of another worker. */
static swco__conn_t *find_conn(const swco_server_t *srv, long long fd, int *err)
{
    *err = SWCO_ENOCONN;
    if (!srv || !srv->conns.slots || fd <= 0)
        return NULL;
    if (srv->mode == SWCO_SERVER_BASE) {
        int owner = swco__conn_id_owner(fd);
        if (owner != srv->conns.owner) {
            if (owner >= 0 && owner < srv->opt.worker_num)
                *err = SWCO_ENOTLOCAL;
            return NULL;
        }
    }
    return swco__conn_lookup(&srv->conns, fd);
}

int swco_server_exists(const swco_server_t *srv, long long fd)
{
    int err;
    return find_conn(srv, fd, &err) != NULL;
}

int swco_server_get_client_info(const swco_server_t *srv, long long fd,
                                swco_server_client_info_t *info)
{
    if (!srv || !info || info->size < sizeof(size_t))
        return swco__fail(-EINVAL);
    int err;
    swco__conn_t *c = find_conn(srv, fd, &err);
    if (!c)
        return swco__fail(err);
    swco__conn_describe(srv, c, info);
    return 0;
}

int swco_server_bind(swco_server_t *srv, long long fd, long long uid)
{
    if (!srv || uid <= 0)
        return swco__fail(-EINVAL);
    int err;
    swco__conn_t *c = find_conn(srv, fd, &err);
    if (!c)
        return swco__fail(err);
    __atomic_store_n(&c->uid, (int64_t)uid, __ATOMIC_RELEASE);
    return 0;
}

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? -1 : x > y;
}

long swco_server_connections(const swco_server_t *srv, long long start_fd, long long *fds,
                             long max)
{
    if (!srv || max < 0 || (max > 0 && !fds))
        return swco__fail(-EINVAL);
    if (!srv->conns.slots || max == 0)
        return 0;
    /* Ids order by generation before fd: collect those past start_fd and
     * keep the smallest max of them. */
    size_t cap = 0, n = 0;
    long long *all = NULL;
    for (size_t i = 0; i < srv->conns.cap; i++) {
        const swco__conn_t *c = &srv->conns.slots[i];
        if (__atomic_load_n(&c->state, __ATOMIC_ACQUIRE) != SWCO__CONN_OPEN)
            continue;
        long long id = swco__conn_id(&srv->conns, c);
        if (id <= start_fd)
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 256;
            long long *p = realloc(all, ncap * sizeof *p);
            if (!p) {
                free(all);
                return swco__fail(-ENOMEM);
            }
            all = p;
            cap = ncap;
        }
        all[n++] = id;
    }
    if (n > 1)
        qsort(all, n, sizeof *all, cmp_ll);
    long out = n < (size_t)max ? (long)n : max;
    if (out > 0)
        memcpy(fds, all, (size_t)out * sizeof *fds);
    free(all);
    return out;
}

/* ---------------------------------------------------------- who and what */

int swco_server_worker_id(const swco_server_t *srv)
{
    if (!srv)
        return swco__fail(-EINVAL);
    swco__srv_self_t *me = swco__srv_me();
    if (me->role != SWCO__ROLE_WORKER && me->role != SWCO__ROLE_TASK)
        return swco__fail(SWCO_ENOTWORKER);
    return me->worker_id;
}

int swco_server_is_task_worker(const swco_server_t *srv)
{
    return srv && swco__srv_me()->role == SWCO__ROLE_TASK;
}

int swco_server_worker_pid(const swco_server_t *srv, int worker_id)
{
    if (!srv || worker_id < 0 || worker_id >= srv->opt.worker_num + srv->opt.task_worker_num)
        return swco__fail(-EINVAL);
    if (!srv->shm)
        return 0;
    if (srv->mode == SWCO_SERVER_THREAD)
        return srv->shm->master_pid;
    return __atomic_load_n(&srv->shm->workers[worker_id].pid, __ATOMIC_ACQUIRE);
}

int swco_server_master_pid(const swco_server_t *srv)
{
    if (!srv)
        return swco__fail(-EINVAL);
    return srv->shm ? srv->shm->master_pid : srv->master_pid;
}

int swco_server_manager_pid(const swco_server_t *srv)
{
    if (!srv)
        return swco__fail(-EINVAL);
    return manager_pid(srv);
}
