/* libswco: TLS on coroutine sockets (OpenSSL).
 *
 * A swco_ssl_ctx_t holds the configuration shared by many connections:
 * certificate and key, trusted CAs, peer verification, ALPN, protocol
 * versions and, on clients, session reuse.  swco_socket_enable_ssl() puts
 * a socket under a context: a client socket then handshakes inside
 * swco_socket_connect(), a listening socket hands the context to every
 * accepted socket, which handshakes on its first read or write (or in
 * swco_ssl_handshake()).  Handshake, reads and writes yield like plain
 * socket calls and follow the same timeouts.
 *
 * Client contexts verify the server by default, like curl and Python's
 * default context: the certificate chain against the system's CA store (or
 * the CAs of swco_ssl_ctx_set_ca()) and the host name (the name given to
 * swco_socket_enable_ssl(), else the connect host).  To talk to a server
 * with a self-signed certificate, trust its CA with swco_ssl_ctx_set_ca();
 * to skip the checks, opt out explicitly with
 * swco_ssl_ctx_set_verify_peer(ctx, 0) (nothing checked) or
 * swco_ssl_ctx_set_check_hostname(ctx, 0) (the chain only).
 *
 * TLS writes never raise SIGPIPE: a peer that hangs up makes them fail
 * with -EPIPE or -ECONNRESET, as on plain sockets.
 */
#ifndef SWCO_SSL_H
#define SWCO_SSL_H

#include <swco/export.h>
#include <swco/socket.h>

SWCO_BEGIN_DECLS

typedef struct swco_ssl_ctx swco_ssl_ctx_t;

/* Protocol versions for swco_ssl_ctx_set_protocols(). */
enum swco_tls_version {
    SWCO_TLS_ANY = 0,
    SWCO_TLS1_2 = 12,
    SWCO_TLS1_3 = 13
};

/* Bits of swco_ssl_ctx_get_verify(). */
enum swco_ssl_verify {
    SWCO_SSL_VERIFY_PEER = 1, /* the peer's certificate chain is checked */
    SWCO_SSL_VERIFY_HOST = 2  /* clients: and the server's host name */
};

/**
 * swco_ssl_ctx_new - create a TLS context for clients (server 0) or servers
 *
 * Defaults: TLS 1.2 and 1.3, no ALPN.  A client context verifies the
 * server's certificate chain (system CA store) and host name, and reuses
 * sessions; a server context does not ask for client certificates.
 * Returns the context, or NULL with swco_last_error() set to SWCO_ESSL or
 * -ENOMEM.
 */
SWCO_API swco_ssl_ctx_t *swco_ssl_ctx_new(int server);

/**
 * swco_ssl_ctx_free - drop the caller's reference to a context
 *
 * Sockets using the context keep it alive until they are freed.
 */
SWCO_API void swco_ssl_ctx_free(swco_ssl_ctx_t *ctx);

/**
 * swco_ssl_ctx_set_cert_file - load a PEM certificate chain and its private key
 *
 * key_file NULL means the key is in cert_file.  Returns 0, -ENOENT (or
 * another -errno) when a file cannot be read, SWCO_ESSL when its contents
 * are not a valid certificate or key, or the key does not match.
 */
SWCO_API int swco_ssl_ctx_set_cert_file(swco_ssl_ctx_t *ctx, const char *cert_file,
                                        const char *key_file);

/**
 * swco_ssl_ctx_set_ca - trust the CAs in a PEM file and/or a hashed directory
 *
 * Either may be NULL, not both.  A client context that made no such call
 * before its first connection verifies against the system's default CA
 * store.  Forgets the cached sessions.  Returns 0, -EINVAL, -errno for an
 * unreadable path, SWCO_ESSL.
 */
SWCO_API int swco_ssl_ctx_set_ca(swco_ssl_ctx_t *ctx, const char *ca_file, const char *ca_path);

/**
 * swco_ssl_ctx_set_verify_peer - require and verify the peer's certificate
 *
 * On a client (on by default) this checks the server's chain and, unless
 * swco_ssl_ctx_set_check_hostname(ctx, 0), its host name (the name given to
 * swco_socket_enable_ssl(), or the connect host); on = 0 is the explicit
 * opt-out that accepts any server.  On a server (off by default) it
 * requires a client certificate.  A failed check makes the handshake return
 * SWCO_ESSLVERIFY.  Forgets the cached sessions.  Returns 0 or -EINVAL.
 */
SWCO_API int swco_ssl_ctx_set_verify_peer(swco_ssl_ctx_t *ctx, int on);

/**
 * swco_ssl_ctx_set_check_hostname - check the server's name (clients)
 *
 * On by default; it applies while the peer is verified.  With it, a
 * connection must have a name to check: connecting over a Unix socket
 * without a host_name in swco_socket_enable_ssl() fails with -EINVAL.
 * Off, only the chain is checked (any name the CA vouched for passes).
 * Forgets the cached sessions.  Returns 0, or -EINVAL (a server context).
 */
SWCO_API int swco_ssl_ctx_set_check_hostname(swco_ssl_ctx_t *ctx, int on);

/**
 * swco_ssl_ctx_get_verify - the checks in force: SWCO_SSL_VERIFY_* bits
 *
 * Returns the bits (0: none), or -EINVAL.
 */
SWCO_API int swco_ssl_ctx_get_verify(const swco_ssl_ctx_t *ctx);

/**
 * swco_ssl_ctx_set_alpn - set the ALPN protocol list, comma-separated
 *
 * E.g. "h2,http/1.1", most preferred first.  A client offers them; a server
 * picks the first of its own list that the client offers.  NULL or ""
 * clears it.  Returns 0, -EINVAL (an empty name or one longer than 255
 * bytes; the previous list stays), SWCO_ESSL.
 */
SWCO_API int swco_ssl_ctx_set_alpn(swco_ssl_ctx_t *ctx, const char *protocols);

/**
 * swco_ssl_ctx_set_protocols - limit the TLS versions (SWCO_TLS1_2, SWCO_TLS1_3)
 *
 * SWCO_TLS_ANY leaves that bound open.  Returns 0, -EINVAL or SWCO_ESSL.
 */
SWCO_API int swco_ssl_ctx_set_protocols(swco_ssl_ctx_t *ctx, int min_version, int max_version);

/**
 * swco_ssl_ctx_set_ciphers - set the TLS 1.2 cipher list (OpenSSL syntax)
 *
 * Returns 0 or SWCO_ESSL.
 */
SWCO_API int swco_ssl_ctx_set_ciphers(swco_ssl_ctx_t *ctx, const char *ciphers);

/**
 * swco_ssl_ctx_set_session_reuse - resume earlier sessions (clients)
 *
 * When on (the default), a client context remembers the last session per
 * host, port, verified name and verification settings, and offers it on
 * the next connection with the same four: a session is never resumed for
 * another name, since resumption skips the certificate.  Returns 0.
 */
SWCO_API int swco_ssl_ctx_set_session_reuse(swco_ssl_ctx_t *ctx, int on);

/**
 * swco_socket_enable_ssl - run TLS on a stream socket
 *
 * Call before swco_socket_connect() on a client (host_name, when not NULL,
 * is sent as SNI and checked against the certificate instead of the connect
 * host; see swco_ssl_ctx_set_verify_peer()) or before accepting on a
 * listening socket (host_name is ignored).
 * The socket holds a reference on ctx.  Returns 0, -EINVAL (not a stream
 * socket), SWCO_ECLOSED, or SWCO_ECOSTATE when TLS is already on.  The
 * context's kind decides the socket's role: swco_socket_connect() refuses
 * a server context and swco_socket_listen() a client one, with -EINVAL.
 */
SWCO_API int swco_socket_enable_ssl(swco_socket_t *s, swco_ssl_ctx_t *ctx, const char *host_name);

/**
 * swco_ssl_handshake - complete the TLS handshake now
 *
 * Mostly for accepted sockets, which otherwise handshake on first use.
 * Returns 0 (also when already done), -ETIMEDOUT, SWCO_ESSL,
 * SWCO_ESSLVERIFY, -ECONNRESET, -EINVAL when the socket has no TLS.
 */
SWCO_API int swco_ssl_handshake(swco_socket_t *s, double timeout);

/**
 * swco_ssl_get_alpn - the protocol ALPN selected, or NULL
 *
 * The string belongs to the socket.
 */
SWCO_API const char *swco_ssl_get_alpn(swco_socket_t *s);

/**
 * swco_ssl_get_version - the negotiated version ("TLSv1.3"), or NULL
 */
SWCO_API const char *swco_ssl_get_version(swco_socket_t *s);

/**
 * swco_ssl_get_server_name - the SNI host name the client sent, or NULL
 *
 * On a server socket after the handshake; on a client, the name it sent.
 */
SWCO_API const char *swco_ssl_get_server_name(swco_socket_t *s);

/**
 * swco_ssl_session_reused - whether the handshake resumed a session
 *
 * Returns 1, 0, or -EINVAL when the socket has no TLS connection.
 */
SWCO_API int swco_ssl_session_reused(swco_socket_t *s);

/**
 * swco_ssl_get_peer_subject - the peer certificate's subject, one line
 *
 * Copies it into buf (len bytes, NUL-terminated).  Returns 0, -ENOENT when
 * the peer sent no certificate, -EINVAL.
 */
SWCO_API int swco_ssl_get_peer_subject(swco_socket_t *s, char *buf, size_t len);

SWCO_END_DECLS

#endif /* SWCO_SSL_H */
