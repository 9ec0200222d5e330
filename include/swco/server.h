/* libswco: TCP, UDP and Unix-socket servers.
 *
 * A server listens on one address (and more with swco_server_add_listener),
 * runs worker processes (or threads) that each drive a libswco event loop,
 * and calls the program's callbacks for connections, received data, UDP
 * packets and tasks.  Three modes:
 *
 *   SWCO_SERVER_BASE     every worker process accepts and owns the
 *                        connections it accepted (one process when
 *                        worker_num is 1 and there are no task workers);
 *   SWCO_SERVER_PROCESS  a master process's reactor threads own the
 *                        connections and pass their data to worker
 *                        processes by dispatch_mode; any worker may send to
 *                        any connection;
 *   SWCO_SERVER_THREAD   worker_num threads in one process, each with its
 *                        own loop and SO_REUSEPORT socket.
 *
 * A manager process starts the workers and task workers, restarts those
 * that die (same worker id), reloads them one at a time on SIGUSR1 (task
 * workers only: SIGUSR2) and stops them gracefully on SIGTERM.
 *
 * Connections are named by a "fd": a positive long long that stays unique
 * while the server runs (a closed connection's number never names a later
 * one), not the kernel's descriptor.  Callbacks that get data get it for
 * the duration of the call; keep a copy to use it later.
 *
 * Options use Swoole's names and are set as text (swco_server_set): numbers
 * in decimal, sizes in bytes, times in seconds ("0.5"), booleans as
 * 1/0/true/false/yes/no/on/off.  An unknown name gives SWCO_EOPTION, a value
 * that does not parse or is out of range SWCO_EOPTVALUE, an option set
 * after start that only start reads -EBUSY.
 */
#ifndef SWCO_SERVER_H
#define SWCO_SERVER_H

#include <stddef.h>

#include <swco/export.h>
#include <swco/types.h>

SWCO_BEGIN_DECLS

typedef struct swco_server swco_server_t;

/* Modes (swco_server_new's mode). */
enum swco_server_mode {
    SWCO_SERVER_BASE = 1,
    SWCO_SERVER_PROCESS = 2,
    SWCO_SERVER_THREAD = 3
};

/* Socket types (swco_server_new's and swco_server_add_listener's
 * sock_type); SWCO_SOCK_SSL may be or-ed into a stream type. */
enum swco_server_sock_type {
    SWCO_SOCK_TCP = 1,
    SWCO_SOCK_UDP = 2,
    SWCO_SOCK_TCP6 = 3,
    SWCO_SOCK_UDP6 = 4,
    SWCO_SOCK_UNIX_STREAM = 5,
    SWCO_SOCK_UNIX_DGRAM = 6,
    SWCO_SOCK_SSL = 512
};

/* dispatch_mode values (PROCESS mode: which worker gets a connection's
 * events). */
enum swco_server_dispatch_mode {
    SWCO_DISPATCH_ROUND_ROBIN = 1, /* each event to the next worker */
    SWCO_DISPATCH_FD_MOD = 2,      /* a connection always to the same worker */
    SWCO_DISPATCH_IDLE_WORKER = 3, /* to a worker with nothing in progress */
    SWCO_DISPATCH_IP_MOD = 4,      /* by the client's address */
    SWCO_DISPATCH_UID_MOD = 5      /* by the uid swco_server_bind() gave, else fd mod */
};

/* Events a dispatch callback is asked about. */
enum swco_server_event {
    SWCO_SERVER_EV_CONNECT = 1,
    SWCO_SERVER_EV_RECEIVE = 2,
    SWCO_SERVER_EV_CLOSE = 3
};

/* ------------------------------------------------------------ callbacks */

/* start (master), shutdown (master), manager start / stop (manager). */
typedef void (*swco_server_fn)(swco_server_t *srv, void *arg);
/* worker start / stop / exit, in the worker (or task worker) itself. */
typedef void (*swco_server_worker_fn)(swco_server_t *srv, int worker_id, void *arg);
/* In the manager: a worker ended abnormally (exit_code != 0 or signo). */
typedef void (*swco_server_worker_error_fn)(swco_server_t *srv, int worker_id, int pid,
                                            int exit_code, int signo, void *arg);
/* connect, close, buffer full / empty of the connection fd. */
typedef void (*swco_server_conn_fn)(swco_server_t *srv, long long fd, int reactor_id, void *arg);
/* Data from the connection fd: one packet when the listener frames. */
typedef void (*swco_server_receive_fn)(swco_server_t *srv, long long fd, int reactor_id,
                                       const void *data, size_t len, void *arg);
/* A datagram from addr:port (a path and port 0 for Unix datagrams). */
typedef void (*swco_server_packet_fn)(swco_server_t *srv, const void *data, size_t len,
                                      const char *addr, int port, int listener, void *arg);
/* In a task worker: a task; reply with swco_server_finish(). */
typedef void (*swco_server_task_fn)(swco_server_t *srv, long task_id, int src_worker_id,
                                    const void *data, size_t len, void *arg);
/* In the worker that sent task task_id with swco_server_task(): its result. */
typedef void (*swco_server_finish_fn)(swco_server_t *srv, long task_id, const void *data,
                                      size_t len, void *arg);
/* A message from another worker (swco_server_send_message). */
typedef void (*swco_server_message_fn)(swco_server_t *srv, int src_worker_id, const void *data,
                                       size_t len, void *arg);
/* PROCESS mode: choose the worker (0 .. worker_num-1) for an event; a
 * value out of range falls back to fd mod. */
typedef int (*swco_server_dispatch_fn)(swco_server_t *srv, long long fd, int event,
                                       const void *data, size_t len, void *arg);

/* ---------------------------------------------------------------- results */

/* What swco_server_get_client_info() tells of a connection. */
typedef struct swco_server_client_info {
    size_t size;             /* set by the caller: sizeof(swco_server_client_info_t) */
    int listener;            /* 0 for the main address, else add_listener's index */
    int sock_type;           /* the listener's SWCO_SOCK_* (SSL bit included) */
    int reactor_id;          /* reactor thread (PROCESS) or worker that owns it */
    int worker_id;           /* worker that got its last event (PROCESS), else owner */
    char addr[64];           /* client address (PROXY protocol's source when used) */
    int port;                /* client port (0 for Unix sockets) */
    int server_port;         /* the listener's port */
    double connect_time;     /* wall clock, seconds since the epoch */
    double last_recv_time;   /* wall clock of the last bytes received; 0 none */
    double last_send_time;   /* wall clock of the last bytes sent; 0 none */
    long long uid;           /* swco_server_bind()'s uid, 0 when unbound */
    long long recv_bytes;    /* bytes received so far */
    long long send_bytes;    /* bytes written to the socket so far */
    long long send_queued;   /* bytes waiting in the output buffer */
    int paused;              /* swco_server_pause() in effect */
    int ssl;                 /* TLS established */
} swco_server_client_info_t;

/* Server-wide figures (swco_server_stats). */
typedef struct swco_server_stats {
    size_t size;              /* set by the caller: sizeof(swco_server_stats_t) */
    double start_time;        /* wall clock when start began */
    long long connection_num; /* open connections now */
    long long accept_count;   /* connections accepted */
    long long close_count;    /* connections closed */
    long long request_count;  /* receive/packet callbacks run, all workers */
    long long recv_bytes;     /* bytes received from clients */
    long long send_bytes;     /* bytes sent to clients */
    int worker_num;           /* event workers */
    int idle_worker_num;      /* event workers with nothing in progress */
    int task_worker_num;      /* task workers */
    int tasking_num;          /* tasks queued or running */
    long long task_count;     /* tasks finished */
    long long worker_restarts;/* workers the manager started again */
} swco_server_stats_t;

/* One worker's figures (swco_server_worker_stats). */
typedef struct swco_server_worker_stats {
    size_t size;             /* set by the caller */
    int worker_id;
    int pid;                 /* 0 when not running */
    int is_task_worker;
    int busy;                /* a request or task in progress */
    double start_time;       /* wall clock of this incarnation's start */
    long long request_count; /* requests (or tasks) handled by this incarnation */
    long long total_requests;/* by every incarnation of this worker id */
    long long connection_num;/* connections it owns (BASE, THREAD) */
    long long coroutine_num; /* coroutines running in it */
} swco_server_worker_stats_t;

/* ----------------------------------------------------------- lifecycle */

/**
 * swco_server_new - create a server bound to host:port
 *
 * mode is a SWCO_SERVER_* value and sock_type a SWCO_SOCK_* value (| SSL).
 * For Unix sockets host is the path and port 0.  Port 0 binds a free port
 * (read it with swco_server_listener_port()).  The socket is bound and
 * listening when this returns, except when systemd socket activation
 * (LISTEN_FDS / LISTEN_PID) passed a socket bound to the same address,
 * which is used instead.  Returns NULL with swco_last_error() set
 * (-EINVAL for a bad mode, type or address, -EADDRINUSE, ...).
 */
SWCO_API swco_server_t *swco_server_new(const char *host, int port, int mode, int sock_type);

/**
 * swco_server_free - release a server that is not running
 *
 * Closes its sockets and frees it, calling every registered arg_free.
 * NULL is ignored.  Call it after swco_server_start() returned (or instead
 * of starting).
 */
SWCO_API void swco_server_free(swco_server_t *srv);

/**
 * swco_server_add_listener - listen on one more address
 *
 * Same rules as swco_server_new().  Returns the listener's index (>= 1; the
 * main address is listener 0), or a negative code.  Only before start.
 */
SWCO_API int swco_server_add_listener(swco_server_t *srv, const char *host, int port,
                                      int sock_type);

/**
 * swco_server_listener_port - the port a listener is bound to
 *
 * Returns the port (the real one when 0 was asked), 0 for Unix sockets, or
 * -EINVAL for an unknown listener.
 */
SWCO_API int swco_server_listener_port(const swco_server_t *srv, int listener);

/**
 * swco_server_listener_count - how many listeners the server has
 *
 * Returns 1 + the number of swco_server_add_listener() calls that worked.
 */
SWCO_API int swco_server_listener_count(const swco_server_t *srv);

/**
 * swco_server_set - set a server option by name
 *
 * name is one of Swoole's option names (worker_num, dispatch_mode,
 * package_eof, heartbeat_check_interval, ssl_cert_file, ...: the list is in
 * doc/server.md); value is its text.  Listener options set here become the
 * default of every listener.  Returns 0, SWCO_EOPTION for an unknown name,
 * SWCO_EOPTVALUE for a bad value, -EBUSY when the option cannot change
 * while the server runs.
 */
SWCO_API int swco_server_set(swco_server_t *srv, const char *name, const char *value);

/**
 * swco_server_set_list - set several options from parallel name/value arrays
 *
 * Applies names[i] = values[i] in order, stopping at the first that fails;
 * returns 0 or that option's code, and stores its index in *bad_index when
 * bad_index is not NULL (n when all were applied).
 */
SWCO_API int swco_server_set_list(swco_server_t *srv, const char *const *names,
                                  const char *const *values, size_t n, size_t *bad_index);

/**
 * swco_server_get_option - read an option's value as text
 *
 * Writes the value (as swco_server_set would accept it) to out.  Returns
 * its length, SWCO_EOPTION for an unknown name, or -ERANGE when out_len is
 * too small (nothing usable is written then).
 */
SWCO_API long swco_server_get_option(const swco_server_t *srv, const char *name, char *out,
                                     size_t out_len);

/**
 * swco_server_listener_set - set an option of one listener
 *
 * Framing (open_eof_check, open_eof_split, package_eof, open_length_check,
 * package_length_type, package_length_offset, package_body_offset,
 * package_max_length), TCP (open_tcp_nodelay, open_tcp_keepalive,
 * tcp_keepidle, tcp_keepinterval, tcp_keepcount), heartbeat_idle_time,
 * open_proxy_protocol and the ssl_* options apply per listener.  Same codes
 * as swco_server_set(), and -EINVAL for an unknown listener.
 */
SWCO_API int swco_server_listener_set(swco_server_t *srv, int listener, const char *name,
                                      const char *value);

/**
 * swco_server_start - run the server
 *
 * Starts the manager, the workers and the task workers, and returns when
 * the server has shut down (SIGTERM, swco_server_shutdown()): 0, or a
 * negative code when it could not start (no receive/packet callback,
 * -EBUSY when already running, a TLS listener without certificate, ...).
 * Call it outside any coroutine, from the process's main thread.
 */
SWCO_API int swco_server_start(swco_server_t *srv);

/**
 * swco_server_shutdown - stop the whole server gracefully
 *
 * From any worker, task worker, the manager or the master: stop accepting,
 * let the workers finish what is in progress (up to max_wait_time), close
 * the connections and make swco_server_start() return.  Returns 0.
 */
SWCO_API int swco_server_shutdown(swco_server_t *srv);

/**
 * swco_server_reload - restart the workers one at a time
 *
 * only_task_workers non-zero restarts the task workers only (as SIGUSR2);
 * zero restarts all (as SIGUSR1).  Each is replaced only after it finished
 * its work (reload_async) so no accepted request is lost.  Returns 0.
 */
SWCO_API int swco_server_reload(swco_server_t *srv, int only_task_workers);

/**
 * swco_server_stop - stop one worker
 *
 * worker_id -1 is the calling worker.  The worker finishes its work and
 * exits; the manager starts it again.  Returns 0 or -EINVAL.
 */
SWCO_API int swco_server_stop(swco_server_t *srv, int worker_id);

/**
 * swco_server_hot_restart - hand the listening sockets to a new program
 *
 * In the master: runs argv (argv[0] a path) with the listening sockets
 * passed as systemd socket activation does (LISTEN_FDS, LISTEN_PID,
 * LISTEN_FDNAMES); once the new program's server has started, this server
 * shuts down gracefully.  No connection attempt is refused in between.
 * Returns 0 when the new program was started, else a negative code.
 */
SWCO_API int swco_server_hot_restart(swco_server_t *srv, char *const argv[]);

/* ------------------------------------------------------------ callbacks */

/**
 * swco_server_on_start - master started (all sockets listening)
 *
 * Every swco_server_on_* setter takes (fn, arg, arg_free): arg_free (may be
 * NULL) is called once with arg when the server is freed or the callback
 * replaced.  fn NULL clears.  Returns 0, or -EBUSY after start.
 */
SWCO_API int swco_server_on_start(swco_server_t *srv, swco_server_fn fn, void *arg,
                                  swco_free_fn arg_free);
/**
 * swco_server_on_shutdown - the master is about to return from start
 *
 * Same rules as swco_server_on_start(): arg_free (may be NULL) is called
 * once with arg when the server is freed or the callback replaced; fn
 * NULL clears.  Returns 0, or -EBUSY after start.
 */
SWCO_API int swco_server_on_shutdown(swco_server_t *srv, swco_server_fn fn, void *arg,
                                     swco_free_fn arg_free);
/**
 * swco_server_on_manager_start - in the manager, before it starts workers
 *
 * Same rules as swco_server_on_start(): arg_free (may be NULL) is called
 * once with arg when the server is freed or the callback replaced; fn
 * NULL clears.  Returns 0, or -EBUSY after start.
 */
SWCO_API int swco_server_on_manager_start(swco_server_t *srv, swco_server_fn fn, void *arg,
                                          swco_free_fn arg_free);
/**
 * swco_server_on_manager_stop - in the manager, after its workers stopped
 *
 * Same rules as swco_server_on_start(): arg_free (may be NULL) is called
 * once with arg when the server is freed or the callback replaced; fn
 * NULL clears.  Returns 0, or -EBUSY after start.
 */
SWCO_API int swco_server_on_manager_stop(swco_server_t *srv, swco_server_fn fn, void *arg,
                                         swco_free_fn arg_free);
/**
 * swco_server_on_worker_start - in a worker or task worker, on its loop
 *
 * Same rules as swco_server_on_start(): arg_free (may be NULL) is called
 * once with arg when the server is freed or the callback replaced; fn
 * NULL clears.  Returns 0, or -EBUSY after start.
 */
SWCO_API int swco_server_on_worker_start(swco_server_t *srv, swco_server_worker_fn fn,
                                         void *arg, swco_free_fn arg_free);
/**
 * swco_server_on_worker_stop - in a worker that is about to exit normally
 *
 * Same rules as swco_server_on_start(): arg_free (may be NULL) is called
 * once with arg when the server is freed or the callback replaced; fn
 * NULL clears.  Returns 0, or -EBUSY after start.
 */
SWCO_API int swco_server_on_worker_stop(swco_server_t *srv, swco_server_worker_fn fn,
                                        void *arg, swco_free_fn arg_free);
/**
 * swco_server_on_worker_exit - in a stopping worker, while it still has work (reload_async); runs each time its loop turns until it has none
 *
 * Same rules as swco_server_on_start(): arg_free (may be NULL) is called
 * once with arg when the server is freed or the callback replaced; fn
 * NULL clears.  Returns 0, or -EBUSY after start.
 */
SWCO_API int swco_server_on_worker_exit(swco_server_t *srv, swco_server_worker_fn fn,
                                        void *arg, swco_free_fn arg_free);
/**
 * swco_server_on_worker_error - in the manager: a worker died abnormally
 *
 * Same rules as swco_server_on_start(): arg_free (may be NULL) is called
 * once with arg when the server is freed or the callback replaced; fn
 * NULL clears.  Returns 0, or -EBUSY after start.
 */
SWCO_API int swco_server_on_worker_error(swco_server_t *srv, swco_server_worker_error_fn fn,
                                         void *arg, swco_free_fn arg_free);
/**
 * swco_server_on_connect - a connection was accepted
 *
 * Same rules as swco_server_on_start(): arg_free (may be NULL) is called
 * once with arg when the server is freed or the callback replaced; fn
 * NULL clears.  Returns 0, or -EBUSY after start.
 */
SWCO_API int swco_server_on_connect(swco_server_t *srv, swco_server_conn_fn fn, void *arg,
                                    swco_free_fn arg_free);
/**
 * swco_server_on_receive - data arrived on a stream connection
 *
 * Same rules as swco_server_on_start(): arg_free (may be NULL) is called
 * once with arg when the server is freed or the callback replaced; fn
 * NULL clears.  Returns 0, or -EBUSY after start.
 */
SWCO_API int swco_server_on_receive(swco_server_t *srv, swco_server_receive_fn fn, void *arg,
                                    swco_free_fn arg_free);
/**
 * swco_server_on_packet - a datagram arrived on a UDP or Unix datagram listener
 *
 * Same rules as swco_server_on_start(): arg_free (may be NULL) is called
 * once with arg when the server is freed or the callback replaced; fn
 * NULL clears.  Returns 0, or -EBUSY after start.
 */
SWCO_API int swco_server_on_packet(swco_server_t *srv, swco_server_packet_fn fn, void *arg,
                                   swco_free_fn arg_free);
/**
 * swco_server_on_close - a connection closed (either side)
 *
 * Same rules as swco_server_on_start(): arg_free (may be NULL) is called
 * once with arg when the server is freed or the callback replaced; fn
 * NULL clears.  Returns 0, or -EBUSY after start.
 */
SWCO_API int swco_server_on_close(swco_server_t *srv, swco_server_conn_fn fn, void *arg,
                                  swco_free_fn arg_free);
/**
 * swco_server_on_task - in a task worker: run a task
 *
 * Same rules as swco_server_on_start(): arg_free (may be NULL) is called
 * once with arg when the server is freed or the callback replaced; fn
 * NULL clears.  Returns 0, or -EBUSY after start.
 */
SWCO_API int swco_server_on_task(swco_server_t *srv, swco_server_task_fn fn, void *arg,
                                 swco_free_fn arg_free);
/**
 * swco_server_on_finish - a task sent with swco_server_task() finished
 *
 * Same rules as swco_server_on_start(): arg_free (may be NULL) is called
 * once with arg when the server is freed or the callback replaced; fn
 * NULL clears.  Returns 0, or -EBUSY after start.
 */
SWCO_API int swco_server_on_finish(swco_server_t *srv, swco_server_finish_fn fn, void *arg,
                                   swco_free_fn arg_free);
/**
 * swco_server_on_pipe_message - a message from swco_server_send_message()
 *
 * Same rules as swco_server_on_start(): arg_free (may be NULL) is called
 * once with arg when the server is freed or the callback replaced; fn
 * NULL clears.  Returns 0, or -EBUSY after start.
 */
SWCO_API int swco_server_on_pipe_message(swco_server_t *srv, swco_server_message_fn fn,
                                         void *arg, swco_free_fn arg_free);
/**
 * swco_server_on_buffer_full - a connection's output buffer passed its high mark
 *
 * Same rules as swco_server_on_start(): arg_free (may be NULL) is called
 * once with arg when the server is freed or the callback replaced; fn
 * NULL clears.  Returns 0, or -EBUSY after start.
 */
SWCO_API int swco_server_on_buffer_full(swco_server_t *srv, swco_server_conn_fn fn, void *arg,
                                        swco_free_fn arg_free);
/**
 * swco_server_on_buffer_empty - that output buffer drained below its low mark
 *
 * Same rules as swco_server_on_start(): arg_free (may be NULL) is called
 * once with arg when the server is freed or the callback replaced; fn
 * NULL clears.  Returns 0, or -EBUSY after start.
 */
SWCO_API int swco_server_on_buffer_empty(swco_server_t *srv, swco_server_conn_fn fn, void *arg,
                                         swco_free_fn arg_free);
/**
 * swco_server_set_dispatch - PROCESS mode: choose workers with fn
 *
 * Same rules as swco_server_on_start(): arg_free (may be NULL) is called
 * once with arg when the server is freed or the callback replaced; fn
 * NULL clears.  Returns 0, or -EBUSY after start.
 */
SWCO_API int swco_server_set_dispatch(swco_server_t *srv, swco_server_dispatch_fn fn, void *arg,
                                      swco_free_fn arg_free);

/**
 * swco_server_listener_on_connect - connect callback of one listener
 *
 * The listener_on_* setters override the server-wide callback for that
 * listener's connections or packets.  Returns 0, -EINVAL for an unknown
 * listener, -EBUSY after start.
 */
SWCO_API int swco_server_listener_on_connect(swco_server_t *srv, int listener,
                                             swco_server_conn_fn fn, void *arg,
                                             swco_free_fn arg_free);
/**
 * swco_server_listener_on_receive - receive callback of one listener
 *
 * Same rules as swco_server_listener_on_connect(): overrides the
 * server-wide callback for this listener.  Returns 0, -EINVAL for an
 * unknown listener, -EBUSY after start.
 */
SWCO_API int swco_server_listener_on_receive(swco_server_t *srv, int listener,
                                             swco_server_receive_fn fn, void *arg,
                                             swco_free_fn arg_free);
/**
 * swco_server_listener_on_packet - packet callback of one listener
 *
 * Same rules as swco_server_listener_on_connect(): overrides the
 * server-wide callback for this listener.  Returns 0, -EINVAL for an
 * unknown listener, -EBUSY after start.
 */
SWCO_API int swco_server_listener_on_packet(swco_server_t *srv, int listener,
                                            swco_server_packet_fn fn, void *arg,
                                            swco_free_fn arg_free);
/**
 * swco_server_listener_on_close - close callback of one listener
 *
 * Same rules as swco_server_listener_on_connect(): overrides the
 * server-wide callback for this listener.  Returns 0, -EINVAL for an
 * unknown listener, -EBUSY after start.
 */
SWCO_API int swco_server_listener_on_close(swco_server_t *srv, int listener,
                                           swco_server_conn_fn fn, void *arg,
                                           swco_free_fn arg_free);

/* ---------------------------------------------------- in a worker: I/O */

/**
 * swco_server_send - send data to a connection
 *
 * Queues data on the connection's output buffer (it is written as the
 * socket accepts it).  When the buffer would pass buffer_output_size:
 * with send_yield on and inside a coroutine, waits until it drained enough;
 * otherwise returns -ENOBUFS and queues nothing.  Returns len, SWCO_ENOCONN
 * when fd names no open connection, SWCO_ENOTLOCAL (BASE mode) when another
 * worker owns it.
 */
SWCO_API long swco_server_send(swco_server_t *srv, long long fd, const void *data, size_t len);

/**
 * swco_server_sendwait - send and wait until written to the socket
 *
 * In a coroutine: returns len once every byte reached the kernel, or a
 * negative code (SWCO_ENOCONN when the connection closed first).
 */
SWCO_API long swco_server_sendwait(swco_server_t *srv, long long fd, const void *data,
                                   size_t len);

/**
 * swco_server_sendfile - send part of a file to a connection
 *
 * length 0 sends from offset to the end.  The file is read as the socket
 * takes it (sendfile(2) for plain TCP).  Returns the byte count queued, or
 * a negative code (-ENOENT, SWCO_ENOCONN, ...).
 */
SWCO_API long long swco_server_sendfile(swco_server_t *srv, long long fd, const char *path,
                                        long long offset, long long length);

/**
 * swco_server_sendto - send a datagram from a UDP or Unix datagram listener
 *
 * listener -1 picks the first datagram listener of addr's family.  Returns
 * len or a negative code.
 */
SWCO_API long swco_server_sendto(swco_server_t *srv, const char *addr, int port,
                                 const void *data, size_t len, int listener);

/**
 * swco_server_close - close a connection
 *
 * reset non-zero drops unsent output and sends RST; otherwise what is queued
 * is written first.  The close callback runs once.  Returns 0 or
 * SWCO_ENOCONN.
 */
SWCO_API int swco_server_close(swco_server_t *srv, long long fd, int reset);

/**
 * swco_server_exists - whether fd names an open connection
 *
 * Returns 1 or 0.
 */
SWCO_API int swco_server_exists(const swco_server_t *srv, long long fd);

/**
 * swco_server_get_client_info - describe a connection
 *
 * info->size must be set.  Returns 0, SWCO_ENOCONN, or -EINVAL.
 */
SWCO_API int swco_server_get_client_info(const swco_server_t *srv, long long fd,
                                         swco_server_client_info_t *info);

/**
 * swco_server_bind - attach a uid to a connection
 *
 * The uid (> 0) is kept with the connection (dispatch_mode UID_MOD routes
 * by it) and shown by get_client_info.  Binding again replaces it.
 * Returns 0, SWCO_ENOCONN or -EINVAL.
 */
SWCO_API int swco_server_bind(swco_server_t *srv, long long fd, long long uid);

/**
 * swco_server_connections - list open connections, a page at a time
 *
 * Writes up to max fds greater than start_fd (0: from the first), in
 * increasing order, to fds.  Returns the count written; 0 when none is
 * left.  PROCESS and THREAD mode list every connection of the server, BASE
 * mode those of the calling worker.
 */
SWCO_API long swco_server_connections(const swco_server_t *srv, long long start_fd,
                                      long long *fds, long max);

/**
 * swco_server_pause - stop reading from a connection
 *
 * Data the client sends waits in the kernel until swco_server_resume().
 * Returns 0 or SWCO_ENOCONN.
 */
SWCO_API int swco_server_pause(swco_server_t *srv, long long fd);
/**
 * swco_server_resume - read from a paused connection again
 *
 * The counterpart of swco_server_pause().  Returns 0 or SWCO_ENOCONN.
 */
SWCO_API int swco_server_resume(swco_server_t *srv, long long fd);

/**
 * swco_server_heartbeat - find connections idle past heartbeat_idle_time
 *
 * Writes up to max of them to fds (fds may be NULL with max 0) and closes
 * them when close_them is non-zero.  Returns how many were found.
 */
SWCO_API long swco_server_heartbeat(swco_server_t *srv, int close_them, long long *fds,
                                    long max);

/* --------------------------------------------------------------- tasks */

/**
 * swco_server_task - hand data to a task worker
 *
 * dst_worker_id -1 picks an idle task worker.  The result comes to the
 * finish callback of this worker.  Returns the task id (>= 0), -ENOSYS
 * when task_worker_num is 0, -EINVAL for a bad dst_worker_id.
 */
SWCO_API long swco_server_task(swco_server_t *srv, const void *data, size_t len,
                               int dst_worker_id);

/**
 * swco_server_taskwait - run a task and wait for its result
 *
 * In a coroutine the call yields; elsewhere it blocks the worker.  On
 * success stores a malloc'd copy of the result in *out (free() it) and its
 * length in *out_len and returns 0; -ETIMEDOUT after timeout seconds (< 0:
 * no limit), -ENOSYS without task workers.
 */
SWCO_API int swco_server_taskwait(swco_server_t *srv, const void *data, size_t len,
                                  double timeout, int dst_worker_id, char **out,
                                  size_t *out_len);

/**
 * swco_server_task_start - send a task whose result swco_server_task_result() collects
 *
 * As swco_server_task() but the result is kept for task_result instead of
 * going to the finish callback: start several, then collect each (this is
 * Swoole's taskCo).  Returns the task id or a negative code.
 */
SWCO_API long swco_server_task_start(swco_server_t *srv, const void *data, size_t len,
                                     int dst_worker_id);

/**
 * swco_server_task_result - wait for the result of a task_start task
 *
 * Same results as swco_server_taskwait(); the deadline is timeout seconds
 * from this call.  A task id is collected once (then -ENOENT).
 */
SWCO_API int swco_server_task_result(swco_server_t *srv, long task_id, double timeout,
                                     char **out, size_t *out_len);

/**
 * swco_server_finish - in a task worker: give a task its result
 *
 * Sends data to the worker that started task_id (its finish callback, or
 * its taskwait / task_result).  Returns 0, -ENOENT for a task not in
 * progress here, -EINVAL outside a task worker.
 */
SWCO_API int swco_server_finish(swco_server_t *srv, long task_id, const void *data,
                                size_t len);

/**
 * swco_server_send_message - send a message to another worker or task worker
 *
 * Its pipe message callback gets it with this worker's id.  Returns 0 or
 * -EINVAL for a bad id (or the calling worker's own id).
 */
SWCO_API int swco_server_send_message(swco_server_t *srv, int dst_worker_id,
                                      const void *data, size_t len);

/* --------------------------------------------------------- who and what */

/**
 * swco_server_worker_id - the calling worker's id
 *
 * Workers are 0 .. worker_num-1, task workers worker_num ..
 * worker_num+task_worker_num-1.  SWCO_ENOTWORKER in the master or manager.
 */
SWCO_API int swco_server_worker_id(const swco_server_t *srv);

/**
 * swco_server_is_task_worker - whether the caller is a task worker
 *
 * Returns 1 or 0.
 */
SWCO_API int swco_server_is_task_worker(const swco_server_t *srv);

/**
 * swco_server_worker_pid - pid of a worker
 *
 * Returns the pid, 0 while it is being restarted, -EINVAL for an unknown
 * id.  THREAD mode: the process's pid.
 */
SWCO_API int swco_server_worker_pid(const swco_server_t *srv, int worker_id);

/**
 * swco_server_master_pid - pid of the process that called start
 *
 * Returns the pid, or -EINVAL for a NULL server.
 */
SWCO_API int swco_server_master_pid(const swco_server_t *srv);
/**
 * swco_server_manager_pid - pid of the manager (0 when there is none)
 *
 * Returns the pid, or -EINVAL for a NULL server.
 */
SWCO_API int swco_server_manager_pid(const swco_server_t *srv);

/**
 * swco_server_stats - server-wide figures
 *
 * st->size must be set.  Returns 0 or -EINVAL.
 */
SWCO_API int swco_server_stats(const swco_server_t *srv, swco_server_stats_t *st);

/**
 * swco_server_worker_stats - one worker's figures
 *
 * st->size must be set.  Returns 0 or -EINVAL (unknown id).
 */
SWCO_API int swco_server_worker_stats(const swco_server_t *srv, int worker_id,
                                      swco_server_worker_stats_t *st);

/**
 * swco_server_stats_prometheus - the figures in Prometheus text format
 *
 * Writes the text exposition (version 0.0.4: swco_server_* metrics with
 * HELP and TYPE lines, per-worker ones labelled worker="N") and a NUL to
 * out.  Returns its length, or -ERANGE when out_len is too small.
 */
SWCO_API long swco_server_stats_prometheus(const swco_server_t *srv, char *out, size_t out_len);

SWCO_END_DECLS

#endif /* SWCO_SERVER_H */
