/* libswco: HTTP/1.1 servers.
 *
 * HTTP is a protocol on a server's listener (swco/server.h): set
 * open_http_protocol on it (swco_http_server_new does that for the main
 * listener) and register a request handler.  Every mode serves HTTP: the
 * parsing runs in the worker that receives the connection's bytes.
 *
 * The handler runs in a coroutine of its own as soon as a request's
 * headers are in, with a request and a response object that live until it
 * returns.  The body is read on demand: swco_http_request_read streams it;
 * the body, form-field and uploaded-file accessors wait for the rest of it
 * (a small body that came with the headers is there already).  When the
 * handler returns, a response it did not end is ended (status as set,
 * default 200, empty body) unless it was detached, and the body left
 * unread is discarded; the next request of a keep-alive connection is
 * served only then, so pipelined responses go out in order.
 *
 * Listener options (swco_server_set / swco_server_listener_set), with
 * Swoole's names where Swoole has one:
 *   open_http_protocol        serve HTTP/1.x on the listener
 *   open_websocket_protocol   also upgrade to WebSocket (swco/websocket.h)
 *   package_max_length        largest request body (413 past it)
 *   http_parse_post, http_parse_cookie, http_parse_files   (default on)
 *   http_compression (on), http_compression_level (1), compression_min_length (20)
 *   http_max_uri_length (8192: 414), http_max_header_size (32768: 431)
 *   http_header_timeout (30 s), http_body_timeout (60 s: 408 on either),
 *   http_keepalive_timeout (60 s idle before a keep-alive connection closes)
 *   upload_tmp_dir (/tmp), upload_max_filesize (0: package_max_length),
 *   http_upload_memory_max (0: every uploaded file goes to a temp file)
 *   document_root, enable_static_handler, static_handler_locations,
 *   http_index_files
 * A request the server cannot take is answered with its status (400, 408,
 * 413, 414, 431, 501, 505) and the connection closed; the handler never
 * sees it.
 *
 * Strings the accessors return belong to the request and stay valid until
 * the handler returns.
 */
#ifndef SWCO_HTTP_H
#define SWCO_HTTP_H

#include <stddef.h>

#include <swco/export.h>
#include <swco/server.h>
#include <swco/types.h>

SWCO_BEGIN_DECLS

typedef struct swco_http_request swco_http_request_t;
typedef struct swco_http_response swco_http_response_t;

/* A request handler.  Runs in its own coroutine; req and resp are valid
 * until it returns. */
typedef void (*swco_http_handler_fn)(swco_server_t *srv, swco_http_request_t *req,
                                     swco_http_response_t *resp, void *arg);

/* The lists a request carries (swco_http_request_param's kind). */
enum swco_http_param_kind {
    SWCO_HTTP_HEADER = 0, /* header fields, names as sent, repeats kept */
    SWCO_HTTP_GET = 1,    /* query string fields, percent-decoded */
    SWCO_HTTP_POST = 2,   /* form fields (urlencoded or multipart) */
    SWCO_HTTP_COOKIE = 3  /* Cookie header pairs */
};

/* Cookie flags (swco_http_response_cookie). */
enum swco_http_cookie_flag {
    SWCO_HTTP_COOKIE_SECURE = 1,
    SWCO_HTTP_COOKIE_HTTPONLY = 2,
    SWCO_HTTP_COOKIE_PARTITIONED = 4,
    SWCO_HTTP_COOKIE_RAW = 8 /* value sent as given, not percent-encoded */
};

/* ------------------------------------------------------------------ server */

/**
 * swco_http_server_new - create a server that speaks HTTP on its main listener
 *
 * swco_server_new with open_http_protocol set on the main listener.  NULL
 * with the last error set on failure.
 */
SWCO_API swco_server_t *swco_http_server_new(const char *host, int port, int mode, int sock_type);

/**
 * swco_http_on_request - set the request handler of every HTTP listener
 *
 * The request handler of every HTTP listener that has none of its own.
 * 0 or a negative code (-EBUSY once started).
 */
SWCO_API int swco_http_on_request(swco_server_t *srv, swco_http_handler_fn fn, void *arg,
                                  swco_free_fn arg_free);

/**
 * swco_http_listener_on_request - set the request handler of one listener
 *
 * The request handler of one listener (0 is the main one).
 */
SWCO_API int swco_http_listener_on_request(swco_server_t *srv, int listener,
                                           swco_http_handler_fn fn, void *arg,
                                           swco_free_fn arg_free);

/* ----------------------------------------------------------------- request */

/**
 * swco_http_request_method - the request method
 *
 * The method as sent ("GET").
 */
SWCO_API const char *swco_http_request_method(const swco_http_request_t *req);

/**
 * swco_http_request_uri - the request target as sent
 *
 * The request target as sent ("/a/b?x=1").
 */
SWCO_API const char *swco_http_request_uri(const swco_http_request_t *req);

/**
 * swco_http_request_path - the percent-decoded path of the request target
 *
 * The target's path, percent-decoded ("/a/b").
 */
SWCO_API const char *swco_http_request_path(const swco_http_request_t *req);

/**
 * swco_http_request_query_string - the query string of the request target
 *
 * The target's query string, undecoded, without '?' ("" when none).
 */
SWCO_API const char *swco_http_request_query_string(const swco_http_request_t *req);

/**
 * swco_http_request_version - the request's HTTP version
 *
 * The protocol version: 10 (HTTP/1.0), 11 (HTTP/1.1), 20 (HTTP/2).
 */
SWCO_API int swco_http_request_version(const swco_http_request_t *req);

/**
 * swco_http_request_fd - the connection a request came on
 *
 * The connection the request came on (a swco_server_* "fd").
 */
SWCO_API long long swco_http_request_fd(const swco_http_request_t *req);

/**
 * swco_http_request_listener - the listener a request came on
 *
 * The listener it came on.
 */
SWCO_API int swco_http_request_listener(const swco_http_request_t *req);

/**
 * swco_http_request_remote_addr - the client's address
 *
 * The client's address and port (after a PROXY header, the one it gave).
 */
SWCO_API const char *swco_http_request_remote_addr(const swco_http_request_t *req);

/**
 * swco_http_request_remote_port - the client's port
 *
 * The client's address and port (after a PROXY header, the one it gave).
 */
SWCO_API int swco_http_request_remote_port(const swco_http_request_t *req);

/**
 * swco_http_request_param - the first value of a header, query, form or cookie field
 *
 * The first value of a field of list kind (enum swco_http_param_kind);
 * header names compare case-insensitively, the others exactly.  NULL when
 * there is none.  POST waits for the body.
 */
SWCO_API const char *swco_http_request_param(swco_http_request_t *req, int kind,
                                             const char *name);

/**
 * swco_http_request_param_count - the number of fields of one kind
 *
 * The number of fields of a kind (POST waits for the body), and the name,
 * value and value length (values may hold NUL bytes) of field i.
 */
SWCO_API size_t swco_http_request_param_count(swco_http_request_t *req, int kind);

/**
 * swco_http_request_param_name - the name of field i of one kind
 *
 * The number of fields of a kind (POST waits for the body), and the name,
 * value and value length (values may hold NUL bytes) of field i.
 */
SWCO_API const char *swco_http_request_param_name(swco_http_request_t *req, int kind, size_t i);

/**
 * swco_http_request_param_value - the value of field i of one kind
 *
 * The number of fields of a kind (POST waits for the body), and the name,
 * value and value length (values may hold NUL bytes) of field i.
 */
SWCO_API const char *swco_http_request_param_value(swco_http_request_t *req, int kind, size_t i);

/**
 * swco_http_request_param_value_len - the length of the value of field i of one kind
 *
 * The number of fields of a kind (POST waits for the body), and the name,
 * value and value length (values may hold NUL bytes) of field i.
 */
SWCO_API size_t swco_http_request_param_value_len(swco_http_request_t *req, int kind, size_t i);

/**
 * swco_http_request_content_length - the announced length of the request body
 *
 * The body's length as announced: Content-Length, -1 when chunked (or
 * unknown), 0 when none.
 */
SWCO_API long long swco_http_request_content_length(const swco_http_request_t *req);

/**
 * swco_http_request_read - read the next part of the request body
 *
 * Read up to len bytes of the body (decoded from chunked) into buf,
 * waiting for them up to timeout seconds (0: http_body_timeout).  Sends
 * "100 Continue" first when the client expects it.  Returns the bytes
 * read, 0 at the end of the body, or a negative code (-ETIMEDOUT,
 * -EMSGSIZE past package_max_length, SWCO_ENOCONN when the client went
 * away).  A body read this way is not kept: the body, POST and file
 * accessors then see only what was not read.
 */
SWCO_API long swco_http_request_read(swco_http_request_t *req, void *buf, size_t len,
                                     double timeout);

/**
 * swco_http_request_body - the whole request body
 *
 * The whole body (what swco_http_request_read did not take), waiting for
 * it; its length in *len.  NULL when there is none, or on error (the last
 * error says which).  A multipart body's files are not in it when they
 * were parsed out (http_parse_files).
 */
SWCO_API const char *swco_http_request_body(swco_http_request_t *req, size_t *len);

/**
 * swco_http_request_file_count - the number of uploaded files
 *
 * Uploaded files (multipart/form-data parts with a filename), waiting for
 * the body.  For file i: the form field, the client's file name, the
 * Content-Type it gave, the size, the temp file holding it (NULL when it is
 * in memory: see http_upload_memory_max), its content when in memory
 * (NULL otherwise), and its error: 0, or UPLOAD_ERR-like negative codes
 * (-EFBIG past upload_max_filesize, -EIO when it could not be written).
 * Temp files are removed when the handler returns unless moved away.
 */
SWCO_API size_t swco_http_request_file_count(swco_http_request_t *req);

/**
 * swco_http_request_file_field - the form field of uploaded file i
 *
 * Uploaded files (multipart/form-data parts with a filename), waiting for
 * the body.  For file i: the form field, the client's file name, the
 * Content-Type it gave, the size, the temp file holding it (NULL when it is
 * in memory: see http_upload_memory_max), its content when in memory
 * (NULL otherwise), and its error: 0, or UPLOAD_ERR-like negative codes
 * (-EFBIG past upload_max_filesize, -EIO when it could not be written).
 * Temp files are removed when the handler returns unless moved away.
 */
SWCO_API const char *swco_http_request_file_field(swco_http_request_t *req, size_t i);

/**
 * swco_http_request_file_name - the client's name of uploaded file i
 *
 * Uploaded files (multipart/form-data parts with a filename), waiting for
 * the body.  For file i: the form field, the client's file name, the
 * Content-Type it gave, the size, the temp file holding it (NULL when it is
 * in memory: see http_upload_memory_max), its content when in memory
 * (NULL otherwise), and its error: 0, or UPLOAD_ERR-like negative codes
 * (-EFBIG past upload_max_filesize, -EIO when it could not be written).
 * Temp files are removed when the handler returns unless moved away.
 */
SWCO_API const char *swco_http_request_file_name(swco_http_request_t *req, size_t i);

/**
 * swco_http_request_file_type - the Content-Type of uploaded file i
 *
 * Uploaded files (multipart/form-data parts with a filename), waiting for
 * the body.  For file i: the form field, the client's file name, the
 * Content-Type it gave, the size, the temp file holding it (NULL when it is
 * in memory: see http_upload_memory_max), its content when in memory
 * (NULL otherwise), and its error: 0, or UPLOAD_ERR-like negative codes
 * (-EFBIG past upload_max_filesize, -EIO when it could not be written).
 * Temp files are removed when the handler returns unless moved away.
 */
SWCO_API const char *swco_http_request_file_type(swco_http_request_t *req, size_t i);

/**
 * swco_http_request_file_size - the size of uploaded file i
 *
 * Uploaded files (multipart/form-data parts with a filename), waiting for
 * the body.  For file i: the form field, the client's file name, the
 * Content-Type it gave, the size, the temp file holding it (NULL when it is
 * in memory: see http_upload_memory_max), its content when in memory
 * (NULL otherwise), and its error: 0, or UPLOAD_ERR-like negative codes
 * (-EFBIG past upload_max_filesize, -EIO when it could not be written).
 * Temp files are removed when the handler returns unless moved away.
 */
SWCO_API long long swco_http_request_file_size(swco_http_request_t *req, size_t i);

/**
 * swco_http_request_file_tmp_path - the temp file holding uploaded file i
 *
 * Uploaded files (multipart/form-data parts with a filename), waiting for
 * the body.  For file i: the form field, the client's file name, the
 * Content-Type it gave, the size, the temp file holding it (NULL when it is
 * in memory: see http_upload_memory_max), its content when in memory
 * (NULL otherwise), and its error: 0, or UPLOAD_ERR-like negative codes
 * (-EFBIG past upload_max_filesize, -EIO when it could not be written).
 * Temp files are removed when the handler returns unless moved away.
 */
SWCO_API const char *swco_http_request_file_tmp_path(swco_http_request_t *req, size_t i);

/**
 * swco_http_request_file_data - the content of uploaded file i kept in memory
 *
 * Uploaded files (multipart/form-data parts with a filename), waiting for
 * the body.  For file i: the form field, the client's file name, the
 * Content-Type it gave, the size, the temp file holding it (NULL when it is
 * in memory: see http_upload_memory_max), its content when in memory
 * (NULL otherwise), and its error: 0, or UPLOAD_ERR-like negative codes
 * (-EFBIG past upload_max_filesize, -EIO when it could not be written).
 * Temp files are removed when the handler returns unless moved away.
 */
SWCO_API const char *swco_http_request_file_data(swco_http_request_t *req, size_t i);

/**
 * swco_http_request_file_error - the error of uploaded file i
 *
 * Uploaded files (multipart/form-data parts with a filename), waiting for
 * the body.  For file i: the form field, the client's file name, the
 * Content-Type it gave, the size, the temp file holding it (NULL when it is
 * in memory: see http_upload_memory_max), its content when in memory
 * (NULL otherwise), and its error: 0, or UPLOAD_ERR-like negative codes
 * (-EFBIG past upload_max_filesize, -EIO when it could not be written).
 * Temp files are removed when the handler returns unless moved away.
 */
SWCO_API int swco_http_request_file_error(swco_http_request_t *req, size_t i);

/**
 * swco_http_request_raw_header - the request line and headers as received
 *
 * The request as it came on the wire: request line and headers (not the
 * body), for logging.
 */
SWCO_API const char *swco_http_request_raw_header(const swco_http_request_t *req, size_t *len);

/* ---------------------------------------------------------------- response */

/**
 * swco_http_response_status - set the response status
 *
 * Set the status code (100..999) and reason (NULL: the standard one).
 * -EINVAL for a bad code, -EALREADY once the headers went out.
 */
SWCO_API int swco_http_response_status(swco_http_response_t *resp, int code,
                                       const char *reason);

/**
 * swco_http_response_header - set a response header
 *
 * Set a header, replacing fields of that name (value NULL removes them).
 * Names and values with CR, LF or NUL are refused (-EINVAL): no response
 * splitting.  -EALREADY once the headers went out.
 */
SWCO_API int swco_http_response_header(swco_http_response_t *resp, const char *name,
                                       const char *value);

/**
 * swco_http_response_add_header - add a response header field
 *
 * Add a header field, keeping others of that name.
 */
SWCO_API int swco_http_response_add_header(swco_http_response_t *resp, const char *name,
                                           const char *value);

/**
 * swco_http_response_cookie - add a Set-Cookie field
 *
 * Add a Set-Cookie field.  expires: Unix time (0: none); max_age < 0:
 * none; path, domain, samesite ("Strict", "Lax", "None") NULL: none;
 * flags: enum swco_http_cookie_flag.  The value is percent-encoded unless
 * SWCO_HTTP_COOKIE_RAW.  -EINVAL for a bad name or attribute.
 */
SWCO_API int swco_http_response_cookie(swco_http_response_t *resp, const char *name,
                                       const char *value, double expires, long max_age,
                                       const char *path, const char *domain,
                                       const char *samesite, int flags);

/**
 * swco_http_response_trailer - add a trailer field
 *
 * Add a trailer field, sent after a chunked body (and announced in a
 * Trailer header).
 */
SWCO_API int swco_http_response_trailer(swco_http_response_t *resp, const char *name,
                                        const char *value);

/**
 * swco_http_response_write - send part of the response body
 *
 * Send part of the body: the headers go first, then the body streams
 * (chunked for HTTP/1.1, until close for HTTP/1.0).  Waits while the
 * connection's output is full.  len bytes or a negative code
 * (SWCO_ENOCONN when the client went away, -EALREADY after end).
 */
SWCO_API long swco_http_response_write(swco_http_response_t *resp, const void *data, size_t len);

/**
 * swco_http_response_end - finish the response
 *
 * Finish the response with data as the (last part of the) body.  Without
 * an earlier write, the body goes with a Content-Length and, when the
 * client accepts it and the options allow, compressed.  0 or a negative
 * code.
 */
SWCO_API int swco_http_response_end(swco_http_response_t *resp, const void *data, size_t len);

/**
 * swco_http_response_sendfile - finish the response with a file
 *
 * Finish the response with length bytes of a file from offset (length 0:
 * to its end), sent with sendfile.  Content-Type from the file name when
 * none was set.  -ENOENT, -EACCES, -EINVAL (range past the end).
 */
SWCO_API int swco_http_response_sendfile(swco_http_response_t *resp, const char *path,
                                         long long offset, long long length);

/**
 * swco_http_response_redirect - finish the response with a redirect
 *
 * Finish with a redirect to location (status 0: 302).
 */
SWCO_API int swco_http_response_redirect(swco_http_response_t *resp, const char *location,
                                         int status);

/**
 * swco_http_response_is_writable - whether the response can still be written
 *
 * Whether the response can still be written (not ended, client there).
 */
SWCO_API int swco_http_response_is_writable(const swco_http_response_t *resp);

/**
 * swco_http_response_detach - detach the response from its handler
 *
 * Detach the response from the handler: returning no longer ends it, and
 * the connection's next request waits until a response made with
 * swco_http_response_create for this connection ends.  0 or -EALREADY.
 */
SWCO_API int swco_http_response_detach(swco_http_response_t *resp);

/**
 * swco_http_response_create - a response for a detached request
 *
 * A response for the detached request of connection fd, usable from any
 * coroutine of the worker that owns the connection; free it with
 * swco_http_response_free after end.  NULL (last error SWCO_ENOCONN) when
 * fd has no detached request.
 */
SWCO_API swco_http_response_t *swco_http_response_create(swco_server_t *srv, long long fd);

/**
 * swco_http_response_free - free a response made by swco_http_response_create
 *
 * Free a response made by swco_http_response_create (ending it first when
 * it was not).
 */
SWCO_API void swco_http_response_free(swco_http_response_t *resp);

/**
 * swco_http_response_fd - the connection of a response
 *
 * The request's connection (a swco_server_* "fd").
 */
SWCO_API long long swco_http_response_fd(const swco_http_response_t *resp);

/**
 * swco_http_response_set_compression - turn compression on or off for one response
 *
 * Turn compression off (0) or on (1) for this response, whatever
 * http_compression says; before the headers go out.
 */
SWCO_API int swco_http_response_set_compression(swco_http_response_t *resp, int on);

SWCO_END_DECLS

#endif
