/* PROCESS mode's pieces shared by lib/server/process*.c.  Not installed.
 *
 * The master's reactor threads and the event workers talk over AF_UNIX
 * SOCK_SEQPACKET socketpairs made before the manager forks, two per
 * (worker, reactor thread):
 *
 *   ev   master -> worker: connect, receive, close, buffer, packet events
 *        of the connections that reactor thread owns;
 *   rq   worker -> master: send, sendfile, close, pause requests for the
 *        connections that reactor thread owns; master -> worker: replies
 *        to the requests that asked for one (sendwait, send_yield).
 *
 * Events travel apart from replies so that a worker that stops (reload,
 * max_request, shutdown) can leave the events it has not read to the next
 * worker with its id while still reading the replies its last handlers
 * wait for.  Each socket has one writer per direction, so the packets of a
 * message are consecutive on it.
 *
 * A message is a header and its payload; a payload larger than one packet
 * goes in chunks, each a packet with the header (FIRST on the first, LAST
 * on the last, the same seq on all).  SEQPACKET keeps packets whole; the
 * reassembler drops a message whose chunks do not follow each other (a
 * writer that died half way), so what comes next is read correctly.
 */
#ifndef SWCO_SERVER_PROCESS_INT_H
#define SWCO_SERVER_PROCESS_INT_H

#include "server/server_int.h"

/* Message types. */
enum {
    /* master -> worker, on ev */
    SWCO__PM_CONNECT = 1,
    SWCO__PM_RECEIVE = 2,
    SWCO__PM_CLOSE = 3,
    SWCO__PM_BUFFER = 4,  /* arg: 1 full, 0 empty */
    SWCO__PM_PACKET = 5,  /* conn: sender's port; payload: address, NUL, data */
    /* worker -> master, on rq */
    SWCO__PM_SEND = 16,     /* arg: SWCO__SEND_* flags; req != 0 wants a reply */
    SWCO__PM_SENDFILE = 17, /* payload: int64 offset, int64 length, path */
    SWCO__PM_CLOSE_REQ = 18,/* arg: reset */
    SWCO__PM_PAUSE = 19,    /* arg: 1 pause, 0 resume */
    SWCO__PM_CLOSE_ACK = 20,/* the CLOSE event with SWCO__PMC_ACK was handled */
    /* master -> worker, on rq */
    SWCO__PM_REPLY = 32     /* req: the request; conn: its result */
};

/* arg of SWCO__PM_CLOSE.  A client's EOF (it shut its side) does not
 * close the connection at once: the master stops reading it and sends a
 * close event with ACK, after the data, to the worker close events go to
 * and (SILENT: no close callback, only the ack) to every other worker that
 * got data of it; it closes the connection once each one acknowledged, so
 * what the workers sent before handling that close reaches the client. */
enum { SWCO__PMC_ACK = 1, SWCO__PMC_SILENT = 2 };

/* Header flags. */
enum { SWCO__PMF_FIRST = 1, SWCO__PMF_LAST = 2 };

typedef struct swco__pmsg_hdr {
    uint8_t type;       /* SWCO__PM_* */
    uint8_t flags;      /* SWCO__PMF_* */
    uint16_t reactor;   /* reactor thread of the connection */
    int16_t listener;
    int16_t arg;        /* per type, see above */
    uint32_t seq;       /* message number on its socket: every chunk has it */
    uint32_t worker;    /* the worker a request comes from */
    int64_t conn;       /* connection id (public fd) */
    uint64_t req;       /* request id a reply answers; 0: no reply wanted */
    uint64_t total;     /* payload bytes of the whole message */
} swco__pmsg_hdr_t;

/* Packets queued on one socket, written as it takes them. */
typedef struct swco__pbuf {
    struct swco__pbuf *next;
    size_t len;
    char data[];
} swco__pbuf_t;

typedef struct swco__outbox {
    int fd;
    size_t chunk;        /* most payload bytes in one packet */
    uint32_t seq;        /* last message number used */
    swco__pbuf_t *head, *tail;
    size_t bytes;        /* bytes queued */
    long packets;        /* packets queued */
} swco__outbox_t;

void swco__outbox_init(swco__outbox_t *o, int fd, size_t chunk);
/* Send a message: h's type, reactor, listener, arg, worker, conn and req are
 * the caller's; seq, flags and total are filled here.  Packets go straight
 * to the socket while it takes them and nothing is queued; the rest is
 * copied to the queue (write them with swco__outbox_flush when the socket
 * is writable).  Returns 0, -ENOMEM, or the socket's -errno (the peer is
 * gone: nothing queued).  A message is queued whole or not at all. */
int swco__outbox_send(swco__outbox_t *o, const swco__pmsg_hdr_t *h, const void *data,
                      size_t len);
/* Write queued packets until the socket is full: 1 when the queue is
 * empty, 0 when some remain, or -errno (peer gone; the queue is dropped). */
int swco__outbox_flush(swco__outbox_t *o);
void swco__outbox_clear(swco__outbox_t *o);

/* One socket's message in progress. */
typedef struct swco__reasm {
    int active;
    swco__pmsg_hdr_t hdr;
    char *buf;
    size_t len, cap;
    long dropped;        /* messages dropped (broken sequences) */
} swco__reasm_t;

/* Largest message the reassembler accepts (a chunked payload above it is
 * dropped as broken). */
#define SWCO__PMSG_MAX ((uint64_t)1 << 32)

/* Feed one packet pkt[0..n).  Returns 1 when it completed a message: *h,
 * *data and *len describe it (valid until the next feed); 0 when the
 * message needs more packets or the packet was dropped. */
int swco__reasm_feed(swco__reasm_t *r, const char *pkt, size_t n, swco__pmsg_hdr_t *h,
                     const char **data, size_t *len);
void swco__reasm_free(swco__reasm_t *r);

/* Counters every process sees (MAP_SHARED). */
typedef struct swco__proc_counters {
    uint64_t rr;          /* round robin position */
    uint64_t clock;       /* idle worker mode: progress stamps */
    struct {
        uint64_t dispatched; /* receive events sent to the worker */
        uint64_t taken;      /* ... and read by it */
        uint64_t seen;       /* taken when the master last looked */
        uint64_t progress;   /* clock when it last saw taken move */
    } w[];
} swco__proc_counters_t;

/* PROCESS mode's state made in the master before the manager forks
 * (srv->mode_shared). */
typedef struct swco__proc_shared {
    int nworkers, nreactors;
    int nsenders;          /* nworkers + task workers: who may send requests */
    size_t chunk;          /* payload bytes per packet */
    size_t sockbuf;        /* socket_buffer_size */
    /* descriptors, index w * nreactors + r (w < nsenders; ev only for
     * w < nworkers); -1 where closed */
    int *ev_m, *ev_w, *rq_m, *rq_w;
    swco__proc_counters_t *cnt;
    size_t cnt_size;
} swco__proc_shared_t;

/* Make the socketpairs (non-blocking, close-on-exec, buffers sized from
 * sockbuf): ev and rq for each event worker, rq for each of the ntask task
 * workers (they send to connections too).  NULL with the error in *err. */
swco__proc_shared_t *swco__proc_shared_new(int nworkers, int ntask, int nreactors,
                                           size_t sockbuf, int *err);
/* Close the master's (master non-zero) or the workers' ends. */
void swco__proc_shared_close(swco__proc_shared_t *ps, int master);
/* In the master, once the workers' ends are closed: move its own ends
 * down to the lowest free descriptors, so accepted connections get
 * consecutive ones (fd mod spreads them evenly). */
void swco__proc_shared_compact(swco__proc_shared_t *ps);
void swco__proc_shared_free(swco__proc_shared_t *ps);

/* The worker for an event of connection c (id) by the server's dispatch
 * callback or dispatch_mode; records it in c->worker_id.  A dispatch
 * callback's value out of range falls back to fd mod.  A pinned
 * connection's events after its connect go to c->worker_id. */
int swco__proc_pick(swco_server_t *srv, swco__proc_shared_t *ps, swco__conn_t *c, long long id,
                    int event, const char *data, size_t len);
/* Whether connection c is pinned to the worker its connect event went to
 * (c->worker_id): a connection of a listener with a protocol (HTTP,
 * WebSocket) has a stateful codec in that worker, so all its events go
 * there for its whole life, whatever dispatch_mode or the dispatch
 * callback say; its connect and close events always go (the codec's open
 * and close). */
int swco__proc_pinned(const swco_server_t *srv, const swco__conn_t *c);
/* Whether c's connect and close events go to a worker
 * (swco__proc_conn_events, or pinned). */
int swco__proc_conn_events_of(const swco_server_t *srv, const swco__conn_t *c);

/* The worker for a datagram from addr:port. */
int swco__proc_pick_packet(swco_server_t *srv, swco__proc_shared_t *ps, const char *addr,
                           int port);
/* Whether connect and close events go to the workers: not in round robin
 * and idle worker modes without a dispatch callback (a connection's events
 * would reach different workers in any order; Swoole drops them too). */
int swco__proc_conn_events(const swco_server_t *srv);

#endif
