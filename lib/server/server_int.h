/* lib/server internals: the contracts between the server's files.  Not
 * installed.
 *
 *   server.c    the object, callbacks, listeners (bind, socket activation),
 *   options.c   option names -> the fields below,
 *   stats.c     stats and Prometheus text,
 *   deliver.c   events -> user callbacks (in coroutines), worker runtime,
 *   base.c      BASE and THREAD modes,
 *   conn.c      the connection table,
 *   engine.c    one loop's listeners and connections: accept, read, frame,
 *               write, output buffers, TLS, UDP, heartbeat, PROXY header,
 *   process.c   PROCESS mode: master, reactor threads, worker IPC, dispatch,
 *   manager.c   manager: fork, watch, restart, reload, shutdown,
 *   task.c      task workers, tasks, pipe messages,
 *   proxy.c     PROXY protocol v1/v2 parser.
 */
#ifndef SWCO_SERVER_INT_H
#define SWCO_SERVER_INT_H

#include "internal.h"
#include "io/io_int.h"

#include <swco/server.h>
#include <swco/ssl.h>

#include <sys/types.h>

/* ------------------------------------------------------------ callbacks */

typedef struct swco__srv_cb {
    void *fn; /* the swco_server_*_fn it was registered as */
    void *arg;
    swco_free_fn arg_free;
} swco__srv_cb_t;

enum {
    SWCO__CB_START,
    SWCO__CB_SHUTDOWN,
    SWCO__CB_MANAGER_START,
    SWCO__CB_MANAGER_STOP,
    SWCO__CB_WORKER_START,
    SWCO__CB_WORKER_STOP,
    SWCO__CB_WORKER_EXIT,
    SWCO__CB_WORKER_ERROR,
    SWCO__CB_CONNECT,
    SWCO__CB_RECEIVE,
    SWCO__CB_PACKET,
    SWCO__CB_CLOSE,
    SWCO__CB_TASK,
    SWCO__CB_FINISH,
    SWCO__CB_PIPE_MESSAGE,
    SWCO__CB_BUFFER_FULL,
    SWCO__CB_BUFFER_EMPTY,
    SWCO__CB_DISPATCH,
    SWCO__CB_REQUEST,        /* swco_http_handler_fn (lib/http) */
    SWCO__CB_WS_HANDSHAKE,   /* lib/websocket's callbacks */
    SWCO__CB_WS_OPEN,
    SWCO__CB_WS_MESSAGE,
    SWCO__CB_WS_CLOSE,
    SWCO__CB_COUNT
};

/* --------------------------------------------------------------- options */

/* A listener's HTTP and WebSocket options (lib/http, lib/websocket read
 * them; options.c parses them). */
typedef struct swco__http_lopts {
    int enabled;                /* open_http_protocol */
    int websocket;              /* open_websocket_protocol (implies enabled) */
    int parse_post, parse_cookie, parse_files; /* http_parse_*: default 1 */
    int compression;            /* http_compression: default 1 */
    int compression_level;      /* http_compression_level 1..9: default 1 */
    size_t compression_min_length; /* compression_min_length: default 20 */
    size_t max_uri_length;      /* http_max_uri_length: default 8192 (414) */
    size_t max_header_size;     /* http_max_header_size: default 32768 (431) */
    double header_timeout;      /* http_header_timeout: default 30 (408) */
    double body_timeout;        /* http_body_timeout: default 60 (408) */
    double keepalive_timeout;   /* http_keepalive_timeout: default 60, <= 0 never */
    char *upload_tmp_dir;       /* upload_tmp_dir: NULL = "/tmp" */
    size_t upload_max_filesize; /* upload_max_filesize: 0 = package_max_length */
    size_t upload_memory_max;   /* http_upload_memory_max: default 0 (all to disk) */
    char *document_root;        /* document_root */
    int static_handler;         /* enable_static_handler */
    char *static_locations;     /* static_handler_locations: "/a,/b" (NULL: all) */
    char *index_files;          /* http_index_files: "index.html,index.htm" */
    /* WebSocket */
    size_t ws_max_frame_size;   /* websocket_max_frame_size: default 2 MiB */
    int ws_compression;         /* websocket_compression: default 0 */
    int ws_close_frame;         /* open_websocket_close_frame: close frames to on_message */
    int ws_ping_frame;          /* open_websocket_ping_frame: pings to on_message (no auto pong) */
    int ws_pong_frame;          /* open_websocket_pong_frame: pongs to on_message */
} swco__http_lopts_t;

/* Options a listener may have its own of (server-wide values are the
 * default each listener starts from). */
typedef struct swco__lopts {
    swco__framing_t frame;   /* open_eof_check/split, open_length_check, package_* */
    int eof_split;           /* open_eof_split: one receive per packet */
    int nodelay;             /* open_tcp_nodelay */
    int keepalive, keepidle, keepinterval, keepcount; /* open_tcp_keepalive, tcp_keep* */
    double heartbeat_idle_time; /* <= 0: off */
    int proxy_protocol;      /* open_proxy_protocol */
    /* TLS (used when the listener's type has SWCO_SOCK_SSL) */
    char *ssl_cert_file, *ssl_key_file, *ssl_ca_file, *ssl_ciphers;
    int ssl_verify_peer, ssl_min_proto, ssl_max_proto; /* protocols as swco_ssl_ctx_set_protocols */
    swco__http_lopts_t http;
} swco__lopts_t;

/* Server-wide options (options.c parses, everyone reads). */
typedef struct swco__srv_opts {
    int worker_num;             /* default: number of CPUs */
    int reactor_num;            /* PROCESS mode reactor threads; default CPUs */
    int task_worker_num;
    int task_enable_coroutine;
    long max_connection;        /* default min(RLIMIT_NOFILE, 100000) */
    int backlog;                /* default 511 */
    int dispatch_mode;          /* SWCO_DISPATCH_*, default FD_MOD */
    double heartbeat_check_interval; /* <= 0 off */
    double heartbeat_idle_time;      /* default 2 * interval */
    size_t buffer_output_size;  /* per connection, default 2 MiB */
    size_t socket_buffer_size;  /* PROCESS mode IPC buffering, default 2 MiB */
    int send_yield;
    int enable_coroutine;       /* default 1 */
    long max_coroutine;
    long max_request;           /* 0: never recycle */
    double max_wait_time;       /* default 3 s */
    int reload_async;           /* default 1 */
    int daemonize;
    char *pid_file, *log_file;
    int enable_reuse_port;      /* BASE: a SO_REUSEPORT socket per worker */
} swco__srv_opts_t;

/* --------------------------------------------------------- shared state */

/* One worker's figures, in shared memory (updated with __atomic ops). */
typedef struct swco__srv_wshm {
    int32_t pid;
    int32_t busy;            /* requests or tasks in progress */
    int32_t is_task;
    int32_t stopping;
    double start_time;
    int64_t request_count, total_requests, connection_num, coroutine_num;
} swco__srv_wshm_t;

/* Server-wide state every process of the server sees (MAP_SHARED,
 * allocated by start before any fork; plain memory in THREAD mode is
 * the same). */
typedef struct swco__srv_shm {
    int32_t master_pid, manager_pid;
    int32_t shutting_down;
    int32_t tasking_num;
    double start_time;
    int64_t connection_num, accept_count, close_count, request_count;
    int64_t recv_bytes, send_bytes, task_count, worker_restarts;
    swco__srv_wshm_t workers[]; /* worker_num + task_worker_num */
} swco__srv_shm_t;

/* ------------------------------------------------------ connection table */

enum { SWCO__CONN_FREE = 0, SWCO__CONN_OPEN = 1, SWCO__CONN_CLOSING = 2 };

/* One connection, at slot == its kernel fd.  In PROCESS mode the table is
 * shared memory written by the master's reactor threads (workers read it
 * and write uid); `io` is the owning engine's private state and means
 * nothing in another process. */
typedef struct swco__conn {
    uint32_t gen;            /* bumped at each open of this slot */
    uint8_t state;           /* SWCO__CONN_* */
    uint8_t listener;
    uint8_t paused, ssl;
    uint8_t ws;              /* lib/websocket: 1 WebSocket open, 2 closing (any
                              * worker reads it: push, is_established) */
    int16_t reactor_id;      /* engine that owns it */
    int16_t worker_id;       /* owner (BASE) or last worker dispatched to */
    int32_t fd;
    int32_t port;
    int64_t uid;
    double connect_time, last_recv_time, last_send_time; /* wall clock */
    int64_t recv_bytes, send_bytes, send_queued;
    char addr[46];
    void *io;
} swco__conn_t;

typedef struct swco__conn_table {
    size_t cap;              /* slots: fds 0 .. cap-1 */
    swco__conn_t *slots;
    int shared;              /* slots are MAP_SHARED */
    int owner;               /* BASE: the worker id the ids carry; else 0 */
} swco__conn_table_t;

/* A connection's public id: (owner+1) << 48 | (gen & 0xffffff) << 24 | fd. */
#define SWCO__CONN_FD_MAX (1 << 24)
static inline long long swco__conn_make_id(int owner, uint32_t gen, int fd)
{
    return ((long long)(owner + 1) << 48) | ((long long)(gen & 0xffffffu) << 24) | fd;
}
static inline int swco__conn_id_owner(long long id) { return (int)(id >> 48) - 1; }

/* conn.c */
int swco__conn_table_init(swco__conn_table_t *t, size_t cap, int shared, int owner);
void swco__conn_table_free(swco__conn_table_t *t);
/* Claim slot fd (state OPEN, gen bumped, figures zeroed); NULL when fd >= cap. */
swco__conn_t *swco__conn_open(swco__conn_table_t *t, int fd);
/* The OPEN connection id names, or NULL (stale, closed, other owner). */
swco__conn_t *swco__conn_lookup(const swco__conn_table_t *t, long long id);
long long swco__conn_id(const swco__conn_table_t *t, const swco__conn_t *c);
/* Mark the slot free (the fd is closed by then). */
void swco__conn_release(swco__conn_table_t *t, swco__conn_t *c);
/* Fill a public client info from c. */
void swco__conn_describe(const swco_server_t *srv, const swco__conn_t *c,
                         swco_server_client_info_t *info);

/* ------------------------------------------------------------ listeners */

typedef struct swco__listener {
    int index;               /* 0 main, 1.. add_listener */
    int sock_type;           /* SWCO_SOCK_*, SSL bit included */
    int family;              /* AF_INET, AF_INET6, AF_UNIX */
    int stream;              /* SOCK_STREAM (1) or SOCK_DGRAM (0) */
    char host[108];
    int port;                /* as bound (real port when 0 was asked) */
    int fd;                  /* bound socket, listening when stream */
    int activated;           /* fd came from LISTEN_FDS */
    swco__lopts_t opt;
    swco_ssl_ctx_t *ssl_ctx; /* built by start when SSL */
    /* overrides of the server's callbacks; fn NULL: use the server's */
    swco__srv_cb_t cb_connect, cb_receive, cb_packet, cb_close;
    /* options.c: a bit per listener option (group) set on this listener
     * itself; server-wide sets leave those alone */
    uint64_t opt_own;
    /* server.c: the Unix socket path this process created (unlinked by
     * free in the master) */
    int unlink_path;
    /* protocol.c: the codec serving the listener's connections in the
     * workers (set by start from the options), NULL: plain receive
     * callbacks; and the HTTP request handler (fn NULL: the server's) */
    const struct swco__srv_proto *proto;
    swco__srv_cb_t cb_request;
} swco__listener_t;

/* ------------------------------------------------------------ protocols */

/* A codec on a listener (protocol.c).  Runs in the worker that receives
 * the connection's events, on its loop, NOT in a coroutine: it parses,
 * and starts coroutines for the requests it finds (bracketed by
 * swco__srv_work_begin / _end).  It never owns the socket: it answers
 * through swco_server_send / sendfile / close / pause. */
typedef struct swco__srv_proto {
    const char *name;
    /* A connection opened: its state, or NULL to refuse it (closed). */
    void *(*open)(swco_server_t *srv, long long fd, int listener);
    /* Bytes it received (valid during the call). */
    void (*receive)(void *cs, const char *data, size_t len);
    /* It closed (the kernel socket is gone): release cs once no request
     * of it runs any more. */
    void (*close)(void *cs);
    /* Its output passed the high mark (full 1) or drained (0); may be NULL. */
    void (*buffer)(void *cs, int full);
} swco__srv_proto_t;

/* The protocols (lib/http/h1.c, lib/websocket/server.c). */
extern const swco__srv_proto_t swco__http1_proto;
extern const swco__srv_proto_t swco__ws_proto;

/* protocol.c: the protocol a listener's options ask for (NULL: none). */
const swco__srv_proto_t *swco__srv_proto_for(const swco__listener_t *l);
/* protocol.c: the calling worker's state of connection fd under protocol
 * p (NULL: none, or another protocol). */
void *swco__srv_proto_state(long long fd, const swco__srv_proto_t *p);
/* protocol.c: hand connection fd to protocol p with state cs (an upgrade:
 * HTTP to WebSocket or HTTP/2).  The old protocol's close is NOT called:
 * it released its state itself.  0 or SWCO_ENOCONN. */
int swco__srv_proto_switch(long long fd, const swco__srv_proto_t *p, void *cs);
/* protocol.c: calls every live connection state of protocol p in the
 * calling worker (broadcast, shutdown); fn returns nonzero to stop. */
void swco__srv_proto_each(const swco__srv_proto_t *p, int (*fn)(long long fd, void *cs, void *arg),
                          void *arg);
/* protocol.c, for deliver.c: route a connection's events to its
 * protocol; open/receive return 1 when the listener has one (the event
 * was the protocol's). */
int swco__srv_proto_open(swco_server_t *srv, const swco__listener_t *l, long long fd);
int swco__srv_proto_receive(swco_server_t *srv, const swco__listener_t *l, long long fd,
                            const char *data, size_t len);
void swco__srv_proto_close(long long fd);
void swco__srv_proto_buffer(long long fd, int full);
/* deliver.c: a protocol's request began / ended in the calling worker:
 * counts the request, busy and in-flight work (graceful stop waits for
 * it), max_request. */
void swco__srv_work_begin(swco_server_t *srv);
void swco__srv_work_end(swco_server_t *srv);
/* deliver.c: whether the calling worker is stopping gracefully (answer
 * with Connection: close, close idle connections). */
int swco__srv_stopping(void);

/* --------------------------------------------------------------- engine */

/* One event loop's connections: the BASE/THREAD worker's, or a PROCESS
 * reactor thread's.  Every call below runs on the engine's own loop
 * thread (inside swco_run). */
typedef struct swco__engine swco__engine_t;

typedef struct swco__engine_hooks {
    /* accepted (after TLS handshake and PROXY header) */
    void (*connect)(void *ud, swco__engine_t *e, swco__conn_t *c);
    /* one packet (framed listener) or the bytes one read gave; data is
     * valid during the call only */
    void (*receive)(void *ud, swco__engine_t *e, swco__conn_t *c, const char *data, size_t len);
    /* closed (fd already closed; c is CLOSING and readable until return,
     * then released) */
    void (*close)(void *ud, swco__engine_t *e, swco__conn_t *c);
    /* a datagram on a datagram listener */
    void (*packet)(void *ud, swco__engine_t *e, swco__listener_t *l, const char *data,
                   size_t len, const swco__addr_t *from);
    /* output buffer passed its high mark (full=1) or drained (full=0) */
    void (*buffer)(void *ud, swco__engine_t *e, swco__conn_t *c, int full);
} swco__engine_hooks_t;

/* flags of swco__engine_send */
enum { SWCO__SEND_YIELD = 1, SWCO__SEND_WAIT = 2 };

swco__engine_t *swco__engine_new(swco_server_t *srv, swco__conn_table_t *conns, int reactor_id,
                                 const swco__engine_hooks_t *hooks, void *ud);
/* Serve l on this loop through fd (a listening stream socket: accept;
 * a datagram socket: recvfrom).  fd stays the caller's. */
int swco__engine_listen(swco__engine_t *e, swco__listener_t *l, int fd);
/* Stop accepting (graceful shutdown); existing connections go on. */
void swco__engine_stop_accepting(swco__engine_t *e);
/* Open connections of this engine. */
long swco__engine_count(const swco__engine_t *e);
/* Close every connection (queued output written first unless reset). */
void swco__engine_close_all(swco__engine_t *e, int reset);
/* Close what is left and free (close hooks run). */
void swco__engine_free(swco__engine_t *e);
long swco__engine_send(swco__engine_t *e, swco__conn_t *c, const void *data, size_t len,
                       int flags);
long long swco__engine_sendfile(swco__engine_t *e, swco__conn_t *c, const char *path,
                                long long offset, long long length);
int swco__engine_close(swco__engine_t *e, swco__conn_t *c, int reset);
int swco__engine_pause(swco__engine_t *e, swco__conn_t *c, int pause);
long swco__engine_sendto(swco__engine_t *e, swco__listener_t *l, const char *addr, int port,
                         const void *data, size_t len);
/* Connections idle (no receive) for more than their listener's
 * heartbeat_idle_time: up to max to fds; closed when close_them.  The
 * engine also runs this every heartbeat_check_interval by itself. */
long swco__engine_heartbeat(swco__engine_t *e, int close_them, long long *fds, long max);
/* Output chunks and partial input packets allocated now (0 once every
 * connection drained: tests check that buffers are released). */
long swco__engine_buffers(const swco__engine_t *e);

/* -------------------------------------------------------------- proxy.c */

typedef struct swco__proxy_hdr {
    int local;               /* LOCAL / UNKNOWN: keep the socket's addresses */
    swco__addr_t src, dst;
} swco__proxy_hdr_t;

/* Parse a PROXY protocol v1 or v2 header at buf[0..len): bytes it takes
 * (> 0), 0 when more are needed, -EPROTO when it is not one. */
long swco__proxy_parse(const char *buf, size_t len, swco__proxy_hdr_t *out);

/* ------------------------------------------------------ workers, modes */

enum { SWCO__ROLE_MASTER, SWCO__ROLE_MANAGER, SWCO__ROLE_WORKER, SWCO__ROLE_TASK };

/* How a worker's public calls reach connections (per mode). */
typedef struct swco__srv_ops {
    long (*send)(swco_server_t *srv, long long fd, const void *data, size_t len, int flags);
    long long (*sendfile)(swco_server_t *srv, long long fd, const char *path, long long offset,
                          long long length);
    int (*close)(swco_server_t *srv, long long fd, int reset);
    int (*pause)(swco_server_t *srv, long long fd, int pause);
    long (*sendto)(swco_server_t *srv, int listener, const char *addr, int port,
                   const void *data, size_t len);
    long (*heartbeat)(swco_server_t *srv, int close_them, long long *fds, long max);
} swco__srv_ops_t;

/* A mode's pieces.  start (master, not in a coroutine) runs the whole
 * server and returns when it stopped; worker_body runs in an event worker
 * (forked process or thread) inside its loop. */
typedef struct swco__srv_mode {
    int (*start)(swco_server_t *srv);
    int (*worker_body)(swco_server_t *srv, int worker_id);
    void (*worker_stop_accepting)(swco_server_t *srv); /* graceful stop began */
    const swco__srv_ops_t *ops;
} swco__srv_mode_t;

extern const swco__srv_mode_t swco__srv_mode_base;    /* base.c */
extern const swco__srv_mode_t swco__srv_mode_thread;  /* base.c */
extern const swco__srv_mode_t swco__srv_mode_process; /* process.c */

/* What a process (THREAD mode: a thread) is in the server. */
typedef struct swco__srv_self {
    int role;                /* SWCO__ROLE_* */
    int worker_id;           /* -1 master / manager */
    swco__engine_t *engine;  /* BASE / THREAD worker's engine */
    void *mode_state;        /* the mode's per-worker state */
    void *task_state;        /* task.c's per-worker state */
    int stopping;            /* graceful stop in progress */
} swco__srv_self_t;

struct swco_server {
    int mode;
    const swco__srv_mode_t *impl;
    int running;             /* start in progress (in this process) */
    pid_t master_pid;
    swco__srv_cb_t cb[SWCO__CB_COUNT];
    swco__listener_t **listeners;
    int nlisteners;
    swco__srv_opts_t opt;
    swco__lopts_t lopt;      /* defaults for listeners (server-wide set) */
    swco__srv_shm_t *shm;    /* from start on */
    size_t shm_size;
    swco__conn_table_t conns;
    void *mode_shared;       /* the mode's state made before forks (IPC sockets) */
    void *task_shared;       /* task.c's state made before forks */
    void *manager;           /* manager.c's state */
};

/* The calling thread's role in the (one) running server; the master's by
 * default.  Set by whoever starts a worker, task worker or manager. */
extern SWCO__TLS swco__srv_self_t *swco__srv_self;
/* The calling thread's self, never NULL (a static master record). */
swco__srv_self_t *swco__srv_me(void);

/* manager.c: run the manager in this process: fork worker_num event
 * workers (each calls swco__srv_worker_run) and task_worker_num task
 * workers (swco__srv_task_worker_run), restart them, reload on SIGUSR1 /
 * SIGUSR2, stop on SIGTERM or shutdown; returns when all have exited. */
int swco__srv_manager_run(swco_server_t *srv);
/* A worker (event or task) the manager forks starts with SIGTERM blocked
 * (one sent before it took over is pending): it takes it with
 * swco_event_signal(SIGTERM, ...) on its loop, or unblocks it.  It also
 * gets SIGTERM when the manager dies (PR_SET_PDEATHSIG). */

/* deliver.c: an event worker's whole life (process or thread): sets
 * swco__srv_self, runs a loop, calls worker start, the mode's worker_body,
 * starts task.c's message reader (swco__srv_ipc_attach), serves until
 * stopped (SIGTERM in a process; shutdown/reload/stop/max_request),
 * waits up to max_wait_time for work in progress (calling worker exit),
 * calls worker stop.  Returns the exit code. */
int swco__srv_worker_run(swco_server_t *srv, int worker_id);
/* Ask the calling worker to stop gracefully (from its own loop). */
void swco__srv_worker_stop(swco_server_t *srv);

/* deliver.c: events into user callbacks, in the worker.  Each runs the
 * callback (listener override first) in a new coroutine when
 * enable_coroutine is on, copying data first; counts requests and busy
 * state; counts max_request. */
void swco__srv_deliver_connect(swco_server_t *srv, long long fd, int reactor_id, int listener);
void swco__srv_deliver_receive(swco_server_t *srv, long long fd, int reactor_id, int listener,
                               const char *data, size_t len);
void swco__srv_deliver_close(swco_server_t *srv, long long fd, int reactor_id, int listener);
void swco__srv_deliver_packet(swco_server_t *srv, int listener, const char *data, size_t len,
                              const char *addr, int port);
void swco__srv_deliver_buffer(swco_server_t *srv, long long fd, int reactor_id, int full);
/* Work in progress in the calling worker (handler coroutines running). */
long swco__srv_inflight(void);

/* task.c: made in the master before forks (a message socket per worker
 * and task worker); attach the calling worker's reader to its loop; a task
 * worker's life. */
int swco__srv_ipc_prepare(swco_server_t *srv);
int swco__srv_ipc_attach(swco_server_t *srv, int worker_id);
void swco__srv_ipc_free(swco_server_t *srv);
int swco__srv_task_worker_run(swco_server_t *srv, int worker_id);

/* manager.c: systemd socket activation.  A socket passed in LISTEN_FDS
 * (LISTEN_PID == getpid()) bound to host:port with this family and type,
 * claimed so it is handed out once; -ENOENT when there is none. */
int swco__srv_activated_fd(const char *host, int port, int family, int stream);
/* manager.c: tell the program that handed us its sockets
 * (swco_server_hot_restart: the SWCO_READY_FD pipe) that this server has
 * started, so it shuts down.  Once per process; nothing without that
 * variable.  The manager calls it after its workers were forked; a start
 * without manager (BASE with one worker, THREAD) calls it once serving. */
void swco__srv_notify_ready(void);
/* task.c: ask worker_id (event or task worker, process or thread) to stop
 * gracefully, through its message socket (what SIGTERM does to a worker
 * process, for THREAD mode where signals cannot name a thread).  0 or a
 * negative code. */
int swco__srv_ipc_stop(swco_server_t *srv, int worker_id);

/* server.c */
int swco__srv_cb_set(swco__srv_cb_t *slot, void *fn, void *arg, swco_free_fn arg_free);
double swco__wall_time(void);
/* A new socket bound (and listening, for streams) to l's address, with
 * SO_REUSEPORT when reuseport: a THREAD worker's own socket.  Returns the
 * fd or a negative code. */
int swco__srv_listener_socket(const swco_server_t *srv, const swco__listener_t *l, int reuseport);
/* Public calls' return: a negative rc also becomes the last error. */
static inline int swco__srv_ret(int rc) { return rc < 0 ? swco__fail(rc) : rc; }

/* deliver.c: why the last worker_run of this thread failed to serve (the
 * worker body's negative code), 0 when it served. */
extern SWCO__TLS int swco__srv_worker_error;
/* deliver.c: in a stopping worker's stop sequence (its coroutine): wait
 * until a handler ends or a connection closes, or timeout seconds.  0,
 * -ETIMEDOUT, -ECANCELED, -EINVAL elsewhere. */
int swco__srv_wait_change(double timeout);

/* base.c: shutdown / stop of a server without manager (BASE with one
 * worker, THREAD): stop every worker (worker_id -1) or one.  From any
 * thread.  0 or -EINVAL. */
int swco__srv_local_stop(swco_server_t *srv, int worker_id);
/* base.c: a BASE or THREAD worker's last step, in its stop sequence's
 * coroutine: close its connections (queued output written first, up to
 * max_wait_time; their close callbacks run) and free its engine. */
void swco__srv_base_worker_end(swco_server_t *srv);

/* options.c: parse name=value into opt / lopt (server-wide when l is NULL).
 * Returns 0, SWCO_EOPTION, SWCO_EOPTVALUE or -EBUSY. */
int swco__srv_option_set(swco_server_t *srv, swco__listener_t *l, const char *name,
                         const char *value);
void swco__srv_opts_default(swco__srv_opts_t *o, swco__lopts_t *lo);
void swco__srv_opts_free(swco__srv_opts_t *o, swco__lopts_t *lo);
void swco__lopts_copy(swco__lopts_t *dst, const swco__lopts_t *src);
/* An option's value as text (l NULL: the server-wide one): its length,
 * SWCO_EOPTION, -ERANGE. */
long swco__srv_option_get(const swco_server_t *srv, const swco__listener_t *l, const char *name,
                          char *out, size_t out_len);

#endif
