/* lib/http internals: the contracts between the HTTP files.  Not installed.
 *
 *   h1.c        the HTTP/1 protocol (swco__http1_proto): llhttp glue, one
 *               connection's state, limits and smuggling refusals,
 *               keep-alive, pipelining, 100-continue, timeouts, the request
 *               coroutine, the body source, HTTP/1 output (head, chunked,
 *               trailers), upgrades to WebSocket;
 *   request.c   request accessors (method .. headers, GET, COOKIE lists,
 *               swco_http_request_read), swco_http_server_new,
 *               swco_http_on_request;
 *   response.c  response objects: status, headers, cookies, trailers,
 *               write, end, sendfile, redirect, detach, create; the Date
 *               cache; drives an output backend (h1.c now, HTTP/2 later);
 *   form.c      percent-decoding, query strings, urlencoded bodies,
 *               Cookie headers;
 *   multipart.c multipart/form-data, parsed as it arrives, files spooled
 *               to upload_tmp_dir; the body accessors (body, POST, files);
 *   static.c    document_root: files, MIME types, ranges, validators;
 *   compress.c  gzip / deflate / br encoders and Accept-Encoding;
 *   llhttp_*.c  llhttp's own sources (from the system), compiled in.
 *
 * Everything here runs on one worker's loop; a request's functions run in
 * its handler coroutine unless said otherwise.
 */
#ifndef SWCO_HTTP_INT_H
#define SWCO_HTTP_INT_H

#include "server/server_int.h"

#include <swco/http.h>

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------- buffers */

/* A growable byte buffer. */
typedef struct swco__hbuf {
    char *p;
    size_t len, cap;
} swco__hbuf_t;

/* Room for n more bytes: 0 or -ENOMEM. */
int swco__hbuf_reserve(swco__hbuf_t *b, size_t n);
int swco__hbuf_add(swco__hbuf_t *b, const void *data, size_t n);
int swco__hbuf_adds(swco__hbuf_t *b, const char *s);
void swco__hbuf_free(swco__hbuf_t *b);

/* An arena: many small allocations freed together (a request's strings). */
typedef struct swco__arena {
    struct swco__arena_blk *head;
} swco__arena_t;

void *swco__arena_alloc(swco__arena_t *a, size_t n);
/* A NUL-terminated copy of s[0..n). */
char *swco__arena_strndup(swco__arena_t *a, const char *s, size_t n);
void swco__arena_free(swco__arena_t *a);

/* --------------------------------------------------------- field lists */

/* One name/value pair; both NUL-terminated (the value may also hold NULs:
 * value_len counts them). */
typedef struct swco__kv {
    const char *name;
    const char *value;
    size_t name_len, value_len;
} swco__kv_t;

typedef struct swco__kvlist {
    swco__kv_t *v;
    size_t n, cap;
} swco__kvlist_t;

/* Append a pair (strings are NOT copied: arena them first).  0 or -ENOMEM. */
int swco__kv_add(swco__kvlist_t *l, const char *name, size_t name_len, const char *value,
                 size_t value_len);
/* The first pair named name (case-insensitive when icase), or NULL. */
const swco__kv_t *swco__kv_find(const swco__kvlist_t *l, const char *name, int icase);
/* Remove every pair named name (icase); how many. */
size_t swco__kv_remove(swco__kvlist_t *l, const char *name, int icase);
void swco__kv_free(swco__kvlist_t *l);
/* util.c (h1): swco__kv_add for a list whose array lives in arena a (never
 * swco__kv_free it: the arena owns it).  A request's lists[HEADER] and a
 * response's headers and trailers are such lists. */
int swco__kv_add_arena(swco__arena_t *a, swco__kvlist_t *l, const char *name, size_t name_len,
                       const char *value, size_t value_len);

/* ------------------------------------------------------------- request */

/* Where a request's body comes from (h1.c now, HTTP/2 later).  read:
 * up to len decoded body bytes, waiting up to timeout seconds; bytes, 0
 * at the end, or a negative code (-ETIMEDOUT, -EMSGSIZE, SWCO_ENOCONN,
 * -EPROTO for a malformed chunked body).  Sends 100 Continue itself when
 * the client waits for it. */
typedef struct swco__http_body_src {
    long (*read)(void *ctx, void *buf, size_t len, double timeout);
} swco__http_body_src_t;

/* Uploaded file (multipart.c). */
typedef struct swco__http_file {
    const char *field, *name, *type; /* arena strings */
    long long size;
    char *tmp_path;          /* malloc'd; NULL when in memory; unlinked at the end */
    char *data;              /* in memory: malloc'd, size bytes (+ NUL) */
    int error;
} swco__http_file_t;

enum {
    SWCO__BODY_UNREAD = 0,   /* nothing consumed */
    SWCO__BODY_STREAMED,     /* swco_http_request_read took some */
    SWCO__BODY_LOADED,       /* multipart.c consumed and parsed it all */
    SWCO__BODY_FAILED        /* loading it failed: body_error */
};

struct swco_http_request {
    swco_server_t *srv;
    long long fd;
    int listener;
    int version;             /* 10, 11, 20 */
    const swco__http_lopts_t *opt; /* the listener's options */
    const char *method, *uri, *path, *query; /* arena strings; path decoded */
    int method_id;           /* llhttp_method_t (HTTP_GET ..) */
    swco__kvlist_t lists[4]; /* enum swco_http_param_kind; GET, POST, COOKIE lazily */
    unsigned parsed;         /* 1 << kind: lists[kind] is filled */
    long long content_length; /* -1 chunked / unknown */
    int chunked, expect_continue, keep_alive, head;
    int upgrade;             /* Upgrade/Connection: upgrade asked */
    char remote_addr[46];
    int remote_port;
    const char *raw_header;
    size_t raw_header_len;
    swco__arena_t arena;
    /* body */
    const swco__http_body_src_t *src;
    void *src_ctx;
    int body_state;          /* SWCO__BODY_* */
    int body_error;
    swco__hbuf_t body;       /* what the body accessors return */
    swco__http_file_t *files;
    size_t nfiles;
    void *backend;           /* h1.c's (or HTTP/2's) per-request state */
};

/* form.c: decode %XX (and '+' as space when plus) from s[0..n) into the
 * arena; the decoded length in *out_len.  NULL on -ENOMEM. */
char *swco__http_decode(swco__arena_t *a, const char *s, size_t n, int plus, size_t *out_len);
/* form.c: parse "a=1&b=2" into l (decoded, '+' as space). 0 or -ENOMEM. */
int swco__http_parse_query(swco__arena_t *a, swco__kvlist_t *l, const char *s, size_t n);
/* form.c: parse a Cookie header ("a=1; b=2") into l.  0 or -ENOMEM. */
int swco__http_parse_cookies(swco__arena_t *a, swco__kvlist_t *l, const char *s, size_t n);
/* form.c: percent-encode a cookie value into b. */
int swco__http_encode_cookie(swco__hbuf_t *b, const char *s);

/* multipart.c: read the rest of the body through req->src and parse it by
 * its Content-Type (urlencoded into lists[POST], multipart into POST and
 * files, else kept in req->body), honouring package_max_length,
 * upload_max_filesize, upload_memory_max, upload_tmp_dir and the parse_*
 * options.  Once per request (later calls return the first result).
 * 0 or a negative code. */
int swco__http_body_load(swco_http_request_t *req);
/* multipart.c: remove temp files, free files and the body (the request
 * is ending). */
void swco__http_body_free(swco_http_request_t *req);

/* request.c: fill lists[kind] when not yet (GET, COOKIE from headers,
 * POST via swco__http_body_load).  0 or a negative code. */
int swco__http_request_parse(swco_http_request_t *req, int kind);
/* request.c: free everything a request holds (not the struct). */
void swco__http_request_clear(swco_http_request_t *req);

/* ------------------------------------------------------------ response */

/* A response's output backend: h1.c writes HTTP/1 (later: HTTP/2 frames).
 * head: status line and headers (r->status, r->headers) with the framing
 * chosen by response.c: body_len >= 0 a Content-Length body of that many
 * bytes (and end when the whole body follows in `data`), -1 a streamed
 * body (chunked / until close).  body: bytes of the body (already
 * compressed), last = 1 ends the body (trailers go after it).  Each waits
 * while the connection's output is full.  sendfile: len bytes of fd's
 * file from off as the rest of the body.  finish: the response ended (h1:
 * next request, or close).  Negative codes: SWCO_ENOCONN, -EPIPE. */
typedef struct swco__http_out {
    int (*head)(swco_http_response_t *r, long long body_len, const void *data, size_t len);
    long (*body)(swco_http_response_t *r, const void *data, size_t len, int last);
    int (*sendfile)(swco_http_response_t *r, const char *path, long long off, long long len);
    void (*finish)(swco_http_response_t *r);
} swco__http_out_t;

/* compress.c */
enum { SWCO__ENC_NONE = 0, SWCO__ENC_GZIP, SWCO__ENC_DEFLATE, SWCO__ENC_BR };
typedef struct swco__http_enc swco__http_enc_t;
/* The encoding to use for a response of that Content-Type (NULL: unknown)
 * and length (-1 streamed) to a request with that Accept-Encoding (NULL:
 * none), under the listener's options; SWCO__ENC_NONE when none. */
int swco__http_pick_encoding(const char *accept_encoding, const char *content_type,
                             long long length, const swco__http_lopts_t *o);
const char *swco__http_encoding_name(int enc); /* "gzip", "deflate", "br" */
swco__http_enc_t *swco__http_enc_new(int enc, int level);
/* Compress in[0..n) appending to out; last flushes and ends the stream.
 * 0 or a negative code. */
int swco__http_enc_put(swco__http_enc_t *e, const void *in, size_t n, int last, swco__hbuf_t *out);
void swco__http_enc_free(swco__http_enc_t *e);

struct swco_http_response {
    swco_server_t *srv;
    long long fd;
    swco_http_request_t *req; /* NULL once the request ended (detached) */
    const swco__http_out_t *out;
    void *backend;           /* the backend's per-response state */
    int status;
    char *reason;            /* malloc'd or NULL */
    swco__kvlist_t headers, trailers;
    swco__arena_t arena;     /* header and trailer strings */
    int compress;            /* -1 auto, 0 off, 1 on */
    int enc;                 /* SWCO__ENC_* chosen at head */
    swco__http_enc_t *encoder;
    int head_sent, ended, detached, created;
    int keep_alive;          /* h1: the connection stays open after it */
};

/* response.c: a response for req written through out. */
int swco__http_response_init(swco_http_response_t *r, swco_http_request_t *req,
                             const swco__http_out_t *out, void *backend);
/* response.c: end it if not ended (status as set, empty body) and free
 * what it holds (not the struct). */
void swco__http_response_clear(swco_http_response_t *r);
/* response.c: "Date: ...\r\n" for now, formatted once a second. */
const char *swco__http_date_header(size_t *len);
/* response.c: the standard reason phrase of a status ("OK"), or "". */
const char *swco__http_reason(int status);

/* ------------------------------------------------------- h1.c, others */

/* static.c: serve req from document_root when enable_static_handler and
 * the path is under static_handler_locations: 1 when it answered (resp
 * ended: file, 304, 206, 416, 403 for traversal, 404 when the location
 * is static-only), 0 when it is not a static file (the handler runs). */
int swco__http_static_serve(swco_http_request_t *req, swco_http_response_t *resp);
/* static.c: the MIME type of a file name ("text/html"), never NULL
 * ("application/octet-stream"). */
const char *swco__http_mime_type(const char *path);

/* lib/websocket/server.c: answer a WebSocket upgrade request in its
 * request coroutine (handshake callback, 101 through resp): the new
 * connection state to switch the connection to (swco__ws_proto), or NULL
 * when refused (a response was sent).  h1.c then switches the connection
 * (swco__srv_proto_switch) and hands it the bytes that followed the
 * request (swco__ws_proto.receive). */
void *swco__ws_server_accept(swco_http_request_t *req, swco_http_response_t *resp);

/* h1.c: the handler for a request on listener (its own or the server's),
 * NULL when none. */
const swco__srv_cb_t *swco__http_handler(const swco_server_t *srv, int listener);

/* h1.c: swco_http_response_create for an HTTP/1 connection (response.c
 * calls it; HTTP/2 will add its own).  NULL with the last error set. */
swco_http_response_t *swco__http1_response_create(swco_server_t *srv, long long fd);

/* h1.c, for tests and the fuzz target: one HTTP/1 connection without a
 * server or sockets.  Bytes fed to it are parsed as a connection's input;
 * every request runs fn (srv NULL) in a coroutine as a real one would, and
 * what the server would send is collected.  o: the listener options
 * (NULL: defaults); max_body: package_max_length. */
typedef struct swco__http1_sim swco__http1_sim_t;
swco__http1_sim_t *swco__http1_sim_new(const swco__http_lopts_t *o, size_t max_body,
                                       swco_http_handler_fn fn, void *arg);
/* Feed bytes: 0, or 1 once the server closed the connection. */
int swco__http1_sim_feed(swco__http1_sim_t *s, const char *data, size_t len);
/* Everything sent so far (NUL-terminated). */
const char *swco__http1_sim_output(const swco__http1_sim_t *s, size_t *len);
/* The peer closes: requests still running see SWCO_ENOCONN and end. */
void swco__http1_sim_free(swco__http1_sim_t *s);

#endif
