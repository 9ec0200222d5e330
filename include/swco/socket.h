/* libswco: coroutine sockets.
 *
 * A swco_socket_t wraps a non-blocking socket (TCP, UDP, Unix stream or
 * datagram; IPv4 or IPv6).  Calls that would block suspend the calling
 * coroutine on the thread's loop, so they must be made from a coroutine.
 * Timeouts follow Swoole's rules: a global default for each kind (connect
 * 1 s, read and write never), a per-socket value, and a per-call argument;
 * for all three, < 0 means never, 0 keeps the next level's value and > 0 is
 * the limit in seconds.  A call that times out returns -ETIMEDOUT and the
 * socket stays usable.  One coroutine reads and one writes a socket at a
 * time: a second concurrent reader (or writer) gets -EBUSY.
 *
 * Packet framing (EOF-delimited or length-header) makes
 * swco_socket_recv_packet() return exactly one packet.
 */
#ifndef SWCO_SOCKET_H
#define SWCO_SOCKET_H

#include <stddef.h>

#include <swco/export.h>

SWCO_BEGIN_DECLS

typedef struct swco_socket swco_socket_t;

/* Timeout kinds; may be or-ed together when setting. */
enum swco_timeout_kind {
    SWCO_TIMEOUT_CONNECT = 1,
    SWCO_TIMEOUT_READ = 2,
    SWCO_TIMEOUT_WRITE = 4,
    SWCO_TIMEOUT_RW = 6,
    SWCO_TIMEOUT_ALL = 7
};

/**
 * swco_socket_new - create a coroutine socket
 *
 * domain is AF_INET, AF_INET6 or AF_UNIX; type SOCK_STREAM or SOCK_DGRAM;
 * protocol usually 0.  The socket is non-blocking and close-on-exec.
 * Returns the socket, or NULL with swco_last_error() set (-errno from
 * socket(2), -ENOMEM).
 */
SWCO_API swco_socket_t *swco_socket_new(int domain, int type, int protocol);

/**
 * swco_socket_new_fd - wrap an existing socket descriptor
 *
 * Takes ownership of fd (it becomes non-blocking and is closed by
 * swco_socket_close() or swco_socket_free()).  Returns the socket, or NULL
 * with swco_last_error() set to -EBADF (fd is not a socket) or -ENOMEM.
 */
SWCO_API swco_socket_t *swco_socket_new_fd(int fd);

/**
 * swco_socket_free - close a socket (if still open) and release it
 *
 * Coroutines waiting on the socket (on the fd, or in connect's or
 * sendto's name lookup) wake with -ECANCELED before this returns; they
 * must not use the socket afterwards.  A call on s that is still running
 * (typically the one whose close woke the coroutine that frees s, such as
 * swco_socket_recv_packet() refusing a packet) keeps the memory until it
 * returns.
 */
SWCO_API void swco_socket_free(swco_socket_t *s);

/**
 * swco_socket_fd - the socket's descriptor
 *
 * Returns the fd, SWCO_ECLOSED once the socket is closed, -EINVAL for NULL.
 */
SWCO_API int swco_socket_fd(const swco_socket_t *s);

/**
 * swco_socket_connect - connect to a host and port, or a Unix socket path
 *
 * host is a numeric address or a name, resolved on the AIO pool; for
 * AF_UNIX it is the socket's path and port is ignored.  timeout covers the
 * name lookup, the connect and, on a TLS socket, the handshake; closing,
 * cancelling or freeing the socket ends the lookup too.  Returns 0,
 * -ECONNREFUSED, -ETIMEDOUT, SWCO_EDNS, -ECANCELED, SWCO_ESSL,
 * SWCO_ESSLVERIFY, -EINVAL (host NULL, "" or "*", or TLS enabled with a
 * server context), -EMFILE (no descriptor left for the lookup), or another
 * -errno.
 */
SWCO_API int swco_socket_connect(swco_socket_t *s, const char *host, int port, double timeout);

/**
 * swco_socket_bind - bind to a local address and port, or a Unix path
 *
 * host NULL, "" or "*" means any address of the socket's family; port 0
 * lets the kernel choose (read it back with swco_socket_getsockname()).
 * Returns 0 or -errno (-EADDRINUSE, -EINVAL, ...).
 */
SWCO_API int swco_socket_bind(swco_socket_t *s, const char *host, int port);

/**
 * swco_socket_listen - start listening (backlog <= 0 picks 512)
 *
 * Returns 0, -EINVAL when TLS is enabled with a client context, or -errno.
 */
SWCO_API int swco_socket_listen(swco_socket_t *s, int backlog);

/**
 * swco_socket_accept - wait for and accept a connection
 *
 * The new socket inherits the listener's timeouts, framing and TLS
 * context (a TLS server socket handshakes on its first read or write, or
 * with swco_ssl_handshake()).  Uses the read timeout.  Returns the socket,
 * or NULL with swco_last_error() set to -ETIMEDOUT, -ECANCELED,
 * -EBUSY, -EMFILE, ...
 */
SWCO_API swco_socket_t *swco_socket_accept(swco_socket_t *s, double timeout);

/**
 * swco_socket_send - send some bytes
 *
 * Waits until at least one byte can be sent.  Returns the number of bytes
 * sent (> 0, possibly fewer than len), -ETIMEDOUT, -EPIPE, -ECONNRESET,
 * -ECANCELED, -EBUSY, or another negative code.
 */
SWCO_API long swco_socket_send(swco_socket_t *s, const void *data, size_t len, double timeout);

/**
 * swco_socket_send_all - send exactly len bytes
 *
 * The timeout covers the whole call.  Returns len, or a negative code; on
 * an error some of the bytes may have been sent.
 */
SWCO_API long swco_socket_send_all(swco_socket_t *s, const void *data, size_t len, double timeout);

/**
 * swco_socket_recv - receive some bytes
 *
 * Waits until at least one byte is available.  Returns the number of bytes
 * received (> 0), 0 when the peer closed the connection, -ETIMEDOUT,
 * -ECONNRESET, -ECANCELED, -EBUSY, or another negative code.
 */
SWCO_API long swco_socket_recv(swco_socket_t *s, void *buf, size_t len, double timeout);

/**
 * swco_socket_recv_all - receive exactly len bytes
 *
 * The timeout covers the whole call.  Returns len, fewer when the peer
 * closed the connection first, or a negative code; on an error, bytes
 * already received are kept for the next read.
 */
SWCO_API long swco_socket_recv_all(swco_socket_t *s, void *buf, size_t len, double timeout);

/**
 * swco_socket_peek - look at pending bytes without consuming them
 *
 * Never waits.  Returns the number of bytes copied, 0 at end of stream, or
 * -EAGAIN when nothing is pending.
 */
SWCO_API long swco_socket_peek(swco_socket_t *s, void *buf, size_t len);

/**
 * swco_socket_sendto - send a datagram to host and port (or a Unix path)
 *
 * host may be a name (resolved on the AIO pool; closing, cancelling or
 * freeing the socket ends the lookup with -ECANCELED).  Returns the bytes
 * sent, -EINVAL (host NULL, "" or "*"), or another negative code.
 */
SWCO_API long swco_socket_sendto(swco_socket_t *s, const char *host, int port, const void *data,
                                 size_t len, double timeout);

/**
 * swco_socket_recvfrom - receive a datagram and its sender
 *
 * When addr is not NULL the sender's numeric address (or Unix path) is
 * written there (addr_len bytes, NUL-terminated, truncated if needed), and
 * its port into *port when port is not NULL.  Returns the datagram's length
 * or a negative code.
 */
SWCO_API long swco_socket_recvfrom(swco_socket_t *s, void *buf, size_t len, char *addr,
                                   size_t addr_len, int *port, double timeout);

/**
 * swco_socket_sendfile - send part of a file over a stream socket
 *
 * Sends length bytes (0: up to the end of the file) of the file at path
 * starting at offset, with sendfile(2), or through TLS in chunks on a TLS
 * socket.  Returns the number of bytes sent or a negative code
 * (-ENOENT, -ETIMEDOUT, ...).
 */
SWCO_API long swco_socket_sendfile(swco_socket_t *s, const char *path, long long offset,
                                   long long length, double timeout);

/**
 * swco_socket_shutdown - shut down reading (SHUT_RD), writing (SHUT_WR) or both
 *
 * Returns 0 or -errno.
 */
SWCO_API int swco_socket_shutdown(swco_socket_t *s, int how);

/**
 * swco_socket_close - close the socket, waking its waiters
 *
 * Coroutines waiting on the socket (from another coroutine) wake with
 * -ECANCELED; later calls return SWCO_ECLOSED.  The object stays valid
 * until swco_socket_free().  Returns 0, or SWCO_ECLOSED when already
 * closed.
 */
SWCO_API int swco_socket_close(swco_socket_t *s);

/**
 * swco_socket_cancel - wake the coroutines waiting on the socket
 *
 * Their calls return -ECANCELED; the socket stays open.  Returns 0 or
 * SWCO_ECLOSED.
 */
SWCO_API int swco_socket_cancel(swco_socket_t *s);

/**
 * swco_socket_getsockname - the local address and port
 *
 * Writes the numeric address (or Unix path) into addr (addr_len bytes,
 * may be NULL) and the port into *port (may be NULL).  Returns 0 or -errno.
 */
SWCO_API int swco_socket_getsockname(swco_socket_t *s, char *addr, size_t addr_len, int *port);

/**
 * swco_socket_getpeername - the peer's address and port
 *
 * As swco_socket_getsockname() for the remote end.  Returns 0 or -errno
 * (-ENOTCONN).
 */
SWCO_API int swco_socket_getpeername(swco_socket_t *s, char *addr, size_t addr_len, int *port);

/**
 * swco_socket_set_nodelay - turn Nagle's algorithm off (on != 0) or on
 *
 * Returns 0 or -errno.
 */
SWCO_API int swco_socket_set_nodelay(swco_socket_t *s, int on);

/**
 * swco_socket_set_keepalive - TCP keepalive with its idle, interval, count
 *
 * idle and interval are in seconds, count in probes; 0 keeps the system's
 * value.  Returns 0 or -errno.
 */
SWCO_API int swco_socket_set_keepalive(swco_socket_t *s, int on, int idle, int interval, int count);

/**
 * swco_socket_set_reuseaddr - set SO_REUSEADDR
 *
 * Returns 0 or -errno.
 */
SWCO_API int swco_socket_set_reuseaddr(swco_socket_t *s, int on);

/**
 * swco_socket_set_reuseport - set SO_REUSEPORT
 *
 * Returns 0 or -errno.
 */
SWCO_API int swco_socket_set_reuseport(swco_socket_t *s, int on);

/**
 * swco_socket_set_buffer_size - set the kernel receive and send buffers
 *
 * A size of 0 leaves that buffer alone.  Returns 0 or -errno.
 */
SWCO_API int swco_socket_set_buffer_size(swco_socket_t *s, int recv_size, int send_size);

/**
 * swco_socket_set_timeout - set the socket's timeouts of the given kinds
 *
 * kinds is an or of SWCO_TIMEOUT_CONNECT, SWCO_TIMEOUT_READ and
 * SWCO_TIMEOUT_WRITE.  seconds < 0 (or INFINITY, as the getters return it)
 * means never, 0 leaves the current value, > 0 is the limit.  Returns 0 or
 * -EINVAL.
 */
SWCO_API int swco_socket_set_timeout(swco_socket_t *s, int kinds, double seconds);

/**
 * swco_socket_get_timeout - the timeout in effect for one kind
 *
 * Returns the socket's own value, or the global default when the socket
 * has none, in seconds; INFINITY means never.  Returns -EINVAL (as a
 * double) for s NULL or an unknown kind: a negative result is an error.
 */
SWCO_API double swco_socket_get_timeout(const swco_socket_t *s, int kind);

/**
 * swco_socket_set_default_timeout - set the process-wide default timeouts
 *
 * As swco_socket_set_timeout() for every socket without its own value.
 * The defaults are connect 1 s, read and write never.  Returns 0 or
 * -EINVAL.
 */
SWCO_API int swco_socket_set_default_timeout(int kinds, double seconds);

/**
 * swco_socket_get_default_timeout - a process-wide default timeout
 *
 * Returns the default in seconds, INFINITY for never, or -EINVAL (as a
 * double) for an unknown kind.
 */
SWCO_API double swco_socket_get_default_timeout(int kind);

/**
 * swco_socket_set_package_eof - frame packets by an end-of-packet delimiter
 *
 * eof is 1 to 8 bytes (len); each packet ends with it (included in what
 * swco_socket_recv_packet() returns).  len 0 turns framing off.  Returns 0
 * or -EINVAL.
 */
SWCO_API int swco_socket_set_package_eof(swco_socket_t *s, const char *eof, size_t len);

/**
 * swco_socket_set_package_length - frame packets by a length header
 *
 * The length field is length_size bytes (1, 2 or 4), big-endian when
 * big_endian, starting at length_offset; it counts the bytes after
 * body_offset, so a packet is body_offset + length bytes long.  Returns 0
 * or -EINVAL.
 */
SWCO_API int swco_socket_set_package_length(swco_socket_t *s, int length_size, int big_endian,
                                            size_t length_offset, size_t body_offset);

/**
 * swco_socket_set_package_max_length - the largest packet accepted
 *
 * Default 2 MiB.  A larger packet makes swco_socket_recv_packet() fail
 * with SWCO_EPKGTOOBIG and close the connection.  Returns 0 or -EINVAL.
 */
SWCO_API int swco_socket_set_package_max_length(swco_socket_t *s, size_t max);

/**
 * swco_socket_recv_packet - receive exactly one framed packet
 *
 * Waits for one whole packet as set by swco_socket_set_package_eof() or
 * swco_socket_set_package_length() and points *data at it; the bytes stay
 * valid until the next receive call on s or swco_socket_free().  Without
 * framing it returns whatever is available.  Returns the packet's length, 0
 * when the peer closed the connection (a partial packet is dropped),
 * SWCO_EPKGTOOBIG or -EPROTO (the socket is then closed), -ETIMEDOUT,
 * or another negative code.
 */
SWCO_API long swco_socket_recv_packet(swco_socket_t *s, const char **data, double timeout);

SWCO_END_DECLS

#endif /* SWCO_SOCKET_H */
