/* libswco: WebSocket servers and clients (RFC 6455, RFC 7692).
 *
 * Server side, WebSocket is an upgrade of HTTP (swco/http.h): a listener
 * with open_websocket_protocol serves plain HTTP requests to its request
 * handler and switches a GET with "Upgrade: websocket" to WebSocket.  The
 * handshake callback may refuse it or add headers; then, each in a
 * coroutine and in order for one connection: open once, message for
 * every complete message (fragments joined, text checked to be UTF-8),
 * close once when the connection ends.  Pings are answered by the server
 * itself (unless open_websocket_ping_frame hands them to the message
 * callback), the close handshake too.  Messages go out with
 * swco_ws_push(), from any worker in PROCESS and THREAD mode.
 *
 * Listener options (swco_server_set / swco_server_listener_set):
 *   open_websocket_protocol     upgrade GET /... Upgrade: websocket
 *   websocket_max_frame_size    largest frame and message (2 MiB): past
 *                               it the connection closes with 1009
 *   websocket_compression       permessage-deflate (off): negotiated with
 *                               the client's server_/client_no_context_takeover
 *                               and server_/client_max_window_bits
 *   open_websocket_close_frame  close frames also reach on_message
 *   open_websocket_ping_frame   pings reach on_message, no automatic pong
 *   open_websocket_pong_frame   pongs reach on_message
 *
 * The client (swco_ws_client_*) is a coroutine client for ws:// and
 * wss:// URLs over swco sockets; its calls must run in a coroutine.
 *
 * Errors are negative codes (swco/error.h): -EINVAL for bad arguments,
 * SWCO_ENOCONN for a connection that is gone or not a WebSocket,
 * -EPROTO for a peer that broke the protocol.
 */
#ifndef SWCO_WEBSOCKET_H
#define SWCO_WEBSOCKET_H

#include <stddef.h>

#include <swco/export.h>
#include <swco/http.h>
#include <swco/server.h>
#include <swco/types.h>

SWCO_BEGIN_DECLS

/* Frame opcodes (RFC 6455 section 5.2). */
enum swco_ws_opcode {
    SWCO_WS_CONTINUATION = 0,
    SWCO_WS_TEXT = 1,
    SWCO_WS_BINARY = 2,
    SWCO_WS_CLOSE = 8,
    SWCO_WS_PING = 9,
    SWCO_WS_PONG = 10
};

/* Close codes (RFC 6455 section 7.4.1). */
enum swco_ws_close_code {
    SWCO_WS_CLOSE_NORMAL = 1000,
    SWCO_WS_CLOSE_GOING_AWAY = 1001,
    SWCO_WS_CLOSE_PROTOCOL_ERROR = 1002,
    SWCO_WS_CLOSE_UNSUPPORTED = 1003,
    SWCO_WS_CLOSE_NO_STATUS = 1005,       /* received: close frame without code */
    SWCO_WS_CLOSE_ABNORMAL = 1006,        /* received: no close frame at all */
    SWCO_WS_CLOSE_INVALID_PAYLOAD = 1007, /* text that is not UTF-8 */
    SWCO_WS_CLOSE_POLICY = 1008,
    SWCO_WS_CLOSE_TOO_BIG = 1009,         /* past websocket_max_frame_size */
    SWCO_WS_CLOSE_EXTENSION = 1010,
    SWCO_WS_CLOSE_SERVER_ERROR = 1011
};

/* Flags of swco_ws_push() and swco_ws_client_send(). */
enum swco_ws_flag {
    SWCO_WS_FLAG_MORE = 1,       /* a fragment: more of the message follows */
    SWCO_WS_FLAG_NO_COMPRESS = 2 /* never compress this message */
};

/* ----------------------------------------------------------------- server */

/* The handshake callback: runs in the upgrade request's coroutine before
 * the 101 answer.  It may add headers to resp (Set-Cookie,
 * Sec-WebSocket-Protocol: one of the client's subprotocols) and returns 0
 * to accept, or an HTTP status (400..599) to refuse with (a body it
 * ended resp with goes along; a resp it ended itself is a refusal too). */
typedef int (*swco_ws_handshake_fn)(swco_server_t *srv, swco_http_request_t *req,
                                    swco_http_response_t *resp, void *arg);
/* A connection became a WebSocket (the 101 is out).  req is the upgrade
 * request, valid during the call. */
typedef void (*swco_ws_open_fn)(swco_server_t *srv, long long fd, swco_http_request_t *req,
                                void *arg);
/* A whole message (SWCO_WS_TEXT or SWCO_WS_BINARY; the control frames
 * the open_websocket_*_frame options ask for).  data (len bytes, NUL
 * after them) is valid during the call. */
typedef void (*swco_ws_message_fn)(swco_server_t *srv, long long fd, int opcode, const char *data,
                                   size_t len, void *arg);
/* The connection ended: the peer's close code (SWCO_WS_CLOSE_NO_STATUS
 * when its close frame had none, SWCO_WS_CLOSE_ABNORMAL when there was no
 * close frame; the code the server sent when it closed first) and
 * reason ("" when none). */
typedef void (*swco_ws_close_fn)(swco_server_t *srv, long long fd, int code, const char *reason,
                                 void *arg);

/**
 * swco_ws_server_new - create a server that serves HTTP and WebSocket
 *
 * swco_server_new() with open_http_protocol and open_websocket_protocol
 * set on the main listener.  Returns NULL with swco_last_error() set on
 * failure.
 */
SWCO_API swco_server_t *swco_ws_server_new(const char *host, int port, int mode, int sock_type);

/**
 * swco_ws_on_handshake - decide on upgrade requests
 *
 * Without one, every valid upgrade request is accepted.  arg_free (may be
 * NULL) is called once with arg when the server is freed or the callback
 * replaced; fn NULL clears.  Returns 0, or -EBUSY after start.
 */
SWCO_API int swco_ws_on_handshake(swco_server_t *srv, swco_ws_handshake_fn fn, void *arg,
                                  swco_free_fn arg_free);

/**
 * swco_ws_on_open - a connection became a WebSocket
 *
 * Runs in the upgrade request's coroutine, before any message of the
 * connection is handed over.  Same rules as swco_ws_on_handshake().
 */
SWCO_API int swco_ws_on_open(swco_server_t *srv, swco_ws_open_fn fn, void *arg,
                             swco_free_fn arg_free);

/**
 * swco_ws_on_message - a message arrived
 *
 * Runs in a coroutine; the next message of the same connection waits until
 * it returns (messages are handled in order), other connections do not.
 * Same rules as swco_ws_on_handshake().
 */
SWCO_API int swco_ws_on_message(swco_server_t *srv, swco_ws_message_fn fn, void *arg,
                                swco_free_fn arg_free);

/**
 * swco_ws_on_close - a WebSocket connection ended
 *
 * Runs once per connection that was opened, in a coroutine, after its
 * last message callback returned.  Same rules as swco_ws_on_handshake().
 */
SWCO_API int swco_ws_on_close(swco_server_t *srv, swco_ws_close_fn fn, void *arg,
                              swco_free_fn arg_free);

/**
 * swco_ws_push - send a message (or a fragment) to a WebSocket connection
 *
 * opcode is SWCO_WS_TEXT, SWCO_WS_BINARY, SWCO_WS_CONTINUATION (the next
 * fragment of a message sent with SWCO_WS_FLAG_MORE), SWCO_WS_PING or
 * SWCO_WS_PONG.  A whole text or binary message is compressed when the
 * connection negotiated permessage-deflate, unless
 * SWCO_WS_FLAG_NO_COMPRESS (the worker that serves the connection
 * compresses; others send it as it is).  Works from any worker in PROCESS
 * and THREAD mode, from the serving worker in BASE mode.  Returns 0,
 * SWCO_ENOCONN (no such WebSocket connection), SWCO_ENOTLOCAL, -EINVAL,
 * or swco_server_send()'s codes.
 */
SWCO_API int swco_ws_push(swco_server_t *srv, long long fd, const void *data, size_t len,
                          int opcode, int flags);

/**
 * swco_ws_broadcast - push a message to every WebSocket connection
 *
 * Every WebSocket connection of the server in PROCESS and THREAD mode, of
 * the calling worker in BASE mode, except exclude_fd (0: none).  Returns
 * the number of connections it was sent to, or -EINVAL.
 */
SWCO_API long swco_ws_broadcast(swco_server_t *srv, const void *data, size_t len, int opcode,
                                long long exclude_fd);

/**
 * swco_ws_disconnect - close a WebSocket connection with a code and reason
 *
 * Sends a close frame (code 0: 1000; reason NULL: none, at most 123
 * bytes) and closes the connection once it is written.  The close
 * callback gets code and reason.  Returns 0, SWCO_ENOCONN, -EINVAL (a
 * code that may not be sent).
 */
SWCO_API int swco_ws_disconnect(swco_server_t *srv, long long fd, int code, const char *reason);

/**
 * swco_ws_is_established - whether fd is an open WebSocket connection
 *
 * Returns 1 after the handshake and until a close frame was sent or
 * received, else 0.
 */
SWCO_API int swco_ws_is_established(swco_server_t *srv, long long fd);

/* ----------------------------------------------------------------- client */

typedef struct swco_ws_client swco_ws_client_t;

/**
 * swco_ws_client_new - create a WebSocket client
 *
 * Returns the client, or NULL with swco_last_error() set (-ENOMEM).
 */
SWCO_API swco_ws_client_t *swco_ws_client_new(void);

/**
 * swco_ws_client_free - close (without close handshake) and free a client
 *
 * NULL is ignored.
 */
SWCO_API void swco_ws_client_free(swco_ws_client_t *c);

/**
 * swco_ws_client_set - set a client option by name, before connect
 *
 * compression (0/1, default 0: offer permessage-deflate),
 * client_no_context_takeover, server_no_context_takeover (0/1: ask for
 * them), client_max_window_bits, server_max_window_bits (8..15: ask for
 * them), max_frame_size (bytes, default 2 MiB: larger frames and messages
 * fail with 1009), subprotocols ("chat, superchat": offered in
 * Sec-WebSocket-Protocol), origin, ssl_verify_peer (0/1, default 1),
 * ssl_ca_file, ssl_host_name.  Returns 0, SWCO_EOPTION for an unknown
 * name, SWCO_EOPTVALUE for a bad value.
 */
SWCO_API int swco_ws_client_set(swco_ws_client_t *c, const char *name, const char *value);

/**
 * swco_ws_client_add_header - add a header to the upgrade request
 *
 * Names and values with CR, LF or NUL are refused.  Returns 0, -EINVAL or
 * -ENOMEM.
 */
SWCO_API int swco_ws_client_add_header(swco_ws_client_t *c, const char *name, const char *value);

/**
 * swco_ws_client_connect - connect to a ws:// or wss:// URL and handshake
 *
 * In a coroutine.  url is ws://host[:port][/path] or wss://...; timeout
 * (seconds, <= 0: 10) covers connect, TLS and handshake.  Returns 0, -EINVAL
 * for a bad URL, -EPROTO when the server answered something other than a
 * valid 101 (swco_ws_client_status() tells the status), or the socket's
 * codes (-ECONNREFUSED, -ETIMEDOUT, SWCO_ESSL, ...).
 */
SWCO_API int swco_ws_client_connect(swco_ws_client_t *c, const char *url, double timeout);

/**
 * swco_ws_client_status - the HTTP status the server answered the upgrade with
 *
 * Returns 101 after a successful connect, the refusal's status, or 0.
 */
SWCO_API int swco_ws_client_status(const swco_ws_client_t *c);

/**
 * swco_ws_client_header - a header of the server's upgrade answer
 *
 * Case-insensitive; the first of that name.  NULL when there is none.
 */
SWCO_API const char *swco_ws_client_header(const swco_ws_client_t *c, const char *name);

/**
 * swco_ws_client_subprotocol - the subprotocol the server chose
 *
 * NULL when none.
 */
SWCO_API const char *swco_ws_client_subprotocol(const swco_ws_client_t *c);

/**
 * swco_ws_client_compression - whether permessage-deflate is in use
 *
 * Returns 1 or 0.
 */
SWCO_API int swco_ws_client_compression(const swco_ws_client_t *c);

/**
 * swco_ws_client_send - send a message (or a fragment)
 *
 * In a coroutine.  Same opcodes and flags as swco_ws_push().  Returns 0,
 * SWCO_ECLOSED after a close, -EINVAL, or the socket's codes
 * (-ETIMEDOUT after timeout seconds, <= 0: none).
 */
SWCO_API int swco_ws_client_send(swco_ws_client_t *c, const void *data, size_t len, int opcode,
                                 int flags, double timeout);

/**
 * swco_ws_client_recv - wait for the next message
 *
 * In a coroutine.  Returns its opcode: SWCO_WS_TEXT or SWCO_WS_BINARY (a
 * whole message, fragments joined), SWCO_WS_PONG (the answer to a ping),
 * SWCO_WS_CLOSE (the server closed: swco_ws_client_close_code() says
 * how; the close was answered).  Pings are answered and not returned.
 * The data is read with swco_ws_client_data().  Negative codes:
 * -ETIMEDOUT after timeout seconds (<= 0: none; the client stays
 * usable), SWCO_ECLOSED once closed, -EPROTO when the server broke the
 * protocol (the client sent the matching close), -EMSGSIZE past
 * max_frame_size, SWCO_ENOCONN when the connection dropped.
 */
SWCO_API int swco_ws_client_recv(swco_ws_client_t *c, double timeout);

/**
 * swco_ws_client_data - the data of the message the last recv returned
 *
 * Its length in *len (may be NULL); NUL-terminated.  Valid until the next
 * recv.  NULL before any.
 */
SWCO_API const char *swco_ws_client_data(const swco_ws_client_t *c, size_t *len);

/**
 * swco_ws_client_ping - send a ping
 *
 * In a coroutine.  data (len <= 125) comes back in the pong that
 * swco_ws_client_recv() returns.  Returns 0 or a negative code.
 */
SWCO_API int swco_ws_client_ping(swco_ws_client_t *c, const void *data, size_t len);

/**
 * swco_ws_client_close - close handshake, then close the connection
 *
 * In a coroutine.  Sends a close frame (code 0: 1000, reason may be NULL)
 * and waits up to timeout seconds (<= 0: 5) for the server's, dropping
 * messages that come before it.  Returns 0, or -ETIMEDOUT (closed anyway).
 */
SWCO_API int swco_ws_client_close(swco_ws_client_t *c, int code, const char *reason,
                                  double timeout);

/**
 * swco_ws_client_close_code - the close code the server sent
 *
 * SWCO_WS_CLOSE_NO_STATUS for a close frame without one,
 * SWCO_WS_CLOSE_ABNORMAL when the connection dropped without close frame,
 * 0 while open.
 */
SWCO_API int swco_ws_client_close_code(const swco_ws_client_t *c);

/**
 * swco_ws_client_close_reason - the reason in the server's close frame
 *
 * "" when none.
 */
SWCO_API const char *swco_ws_client_close_reason(const swco_ws_client_t *c);

SWCO_END_DECLS

#endif /* SWCO_WEBSOCKET_H */
