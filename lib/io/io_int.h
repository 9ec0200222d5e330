/* Internals shared by the lib/io files.  Not installed. */
#ifndef SWCO_IO_INT_H
#define SWCO_IO_INT_H

#include "internal.h"

#include <sys/socket.h>

/* One resolved address. */
typedef struct swco__addr {
    struct sockaddr_storage ss;
    socklen_t len;
    int family;
    int port;
    char text[46];
} swco__addr_t;

struct swco_addrinfo {
    size_t n;
    swco__addr_t *addrs;
};

/* Fill a from a numeric host (v4 or v6, for family or AF_UNSPEC) and port:
 * 0, or -EINVAL when host is not numeric. */
int swco__addr_numeric(swco__addr_t *a, const char *host, int port, int family);
/* Fill text and port from a sockaddr. */
void swco__addr_describe(swco__addr_t *a);

/* Packet framing: a pure parser over a byte buffer. */
enum { SWCO__FRAME_NONE, SWCO__FRAME_EOF, SWCO__FRAME_LENGTH };

typedef struct swco__framing {
    int mode;
    char eof[8];
    size_t eof_len;
    int len_size;       /* 1, 2 or 4 */
    int big_endian;
    size_t len_offset;  /* where the length field starts */
    size_t body_offset; /* packet size = body_offset + length value */
    size_t max_len;     /* package_max_length */
} swco__framing_t;

/* Size of the first complete packet in buf[0..len): > 0; 0 when more
 * bytes are needed; SWCO_EPKGTOOBIG or -EPROTO.  *scanned (EOF mode,
 * may be NULL) remembers how far a previous call searched. */
long swco__framing_check(const swco__framing_t *f, const char *buf, size_t len, size_t *scanned);

/* ---------------------------------------------------------------- socket */

typedef struct swco_ssl_ctx swco_ssl_ctx_t;

/* A coroutine inside a name lookup for a socket (connect, sendto, bind):
 * it waits on the AIO pool, not on the fd, so close wakes it from here. */
typedef struct swco__sock_lookup {
    struct swco__sock_lookup *next;
    swco__co_t *co;
    unsigned gen;          /* s->lookup_gen when the lookup began */
    int woken;
} swco__sock_lookup_t;

struct swco_socket {
    int fd;
    int domain, type;
    int reading, writing;  /* a coroutine is in a read / write call */
    /* Calls in progress that may wait or wake other coroutines (each holds
     * the object: a woken coroutine may call swco_socket_free() while the
     * waker still uses it), and whether swco_socket_free() was called:
     * the memory goes when the last call leaves. */
    int calls;
    int freed;
    swco__sock_lookup_t *lookups;
    unsigned lookup_gen;   /* bumped by each wake of the lookups */
    double timeout[3];     /* connect, read, write; 0: the global default */
    swco__framing_t frame;
    char *rbuf;            /* bytes read ahead: rbuf[roff .. roff+rlen) */
    size_t roff, rlen, rcap;
    size_t scanned;        /* framing search state */
    size_t pkt_len;        /* packet handed out, consumed at the next read */
    /* TLS (ssl.c) */
    void *ssl;             /* SSL * */
    swco_ssl_ctx_t *ssl_ctx;
    char *ssl_host;        /* SNI and verified name */
    char *ssl_key;         /* session cache key: host:port */
    char ssl_alpn[256];
    int ssl_server;
    int ssl_ready;         /* handshake done */
};

/* Hold s across a call that may wait or wake others; release it after the
 * last use of s.  swco__sock_release() returns 1 when it released the
 * memory (a deferred swco_socket_free()). */
void swco__sock_hold(swco_socket_t *s);
int swco__sock_release(swco_socket_t *s);

/* Wait for fd readiness until deadline: 0 or a negative code. */
int swco__sock_wait(swco_socket_t *s, int events, swco__deadline_t deadline);

/* TLS hooks used by socket.c.  want is SWCO_EVENT_READ/WRITE on -EAGAIN. */
int swco__ssl_attach(swco_socket_t *s, swco_ssl_ctx_t *ctx, int server);
int swco__ssl_handshake(swco_socket_t *s, swco__deadline_t deadline);
long swco__ssl_read(swco_socket_t *s, void *buf, size_t len, int *want);
long swco__ssl_write(swco_socket_t *s, const void *buf, size_t len, int *want);
/* Non-blocking SSL_peek: bytes, 0 at EOF, -EAGAIN. */
long swco__ssl_peek(swco_socket_t *s, void *buf, size_t len);
void swco__ssl_detach(swco_socket_t *s);
void swco__ssl_ctx_ref(swco_ssl_ctx_t *ctx);
void swco__ssl_ctx_unref(swco_ssl_ctx_t *ctx);

/* ALPN lists (alpn.c).  swco__alpn_wire turns the comma-separated list
 * (list, n) into wire format in out (n + 1 bytes): its length, 0 for an
 * empty list, -EINVAL for an empty or over-255-byte name.
 * swco__alpn_wire_valid: whether (list, n) is a non-empty, well-formed wire
 * list.  swco__alpn_select: the first of ours that peer offers, pointed to
 * inside peer; 0 when none or either list is malformed. */
long swco__alpn_wire(const char *list, size_t n, unsigned char *out);
int swco__alpn_wire_valid(const unsigned char *list, size_t n);
int swco__alpn_select(const unsigned char *ours, size_t ours_len, const unsigned char *peer,
                      size_t peer_len, const unsigned char **sel, unsigned char *sel_len);

#endif /* SWCO_IO_INT_H */
