/* libswco: a coroutine HTTP client over libcurl.
 *
 * A swco_http_client_t is made for one base URL ("http://host:port" or
 * "https://host/api") and keeps what a browser tab keeps for a site: its
 * options (timeouts, TLS, redirects), headers sent with every request,
 * cookies (the ones set by the program and, in an in-memory jar, the ones
 * the server sets), and an open connection, reused by the next request
 * (keep-alive).  A request names a path relative to the base URL (or a
 * whole http/https URL) and runs through swco_curl_perform(): in a
 * coroutine only the calling coroutine waits, so many clients make
 * requests at once in one thread; outside a coroutine the thread blocks.
 *
 * A request's body is given to it (swco_http_client_post/put), or built
 * beforehand with swco_http_client_set_body (raw bytes), form fields
 * (application/x-www-form-urlencoded) or, when a file or an in-memory file
 * is added, a multipart/form-data body.  Those parts are used by the next
 * request and then dropped; options, headers and cookies stay.
 *
 * After a request the client holds its response until the next one: the
 * status, the header lines (case-insensitive lookup, repeats kept, in
 * order), the body and the URL it came from.  One request at a time per
 * client: a second one from another coroutine meanwhile fails with -EBUSY.
 *
 * Errors are negative codes, also left in swco_last_error(), with a
 * message from swco_http_client_error_message():  -EINVAL (bad argument,
 * malformed URL, unsupported scheme), -ETIMEDOUT (connect or total timeout),
 * -ECONNREFUSED (could not connect), SWCO_EDNS (host not resolved),
 * SWCO_ESSLVERIFY (peer certificate or host name rejected), SWCO_ESSL (other
 * TLS failures), -ECANCELED (the coroutine was cancelled), -EIO (download
 * file could not be written), -ENOMEM, SWCO_ECURL (any other libcurl
 * failure: swco_http_client_curl_code() tells which).  An HTTP status of
 * 404 or 500 is a response, not an error.
 */
#ifndef SWCO_HTTP_CLIENT_H
#define SWCO_HTTP_CLIENT_H

#include <stddef.h>

#include <swco/export.h>

SWCO_BEGIN_DECLS

typedef struct swco_http_client swco_http_client_t;

/**
 * swco_http_client_new - create an HTTP client for a base URL
 *
 * base_url is "http://" or "https://" followed by a host (and optionally a
 * port and a path prefix), for instance "http://127.0.0.1:8080" or
 * "https://example.org/api/"; request paths are appended to it.  NULL or ""
 * makes a client without a base, whose requests name whole URLs.  Defaults:
 * keep-alive on, no timeout, redirects not followed, TLS peer and host
 * verified against the system's CA store.  Returns the client, or NULL with
 * swco_last_error() set to -EINVAL (not an http or https URL) or -ENOMEM.
 */
SWCO_API swco_http_client_t *swco_http_client_new(const char *base_url);

/**
 * swco_http_client_free - close a client's connection and release it
 *
 * Frees the client, its cookie jar and its last response.  The client must
 * not be in a request (free it from the coroutine that used it, after the
 * request returned).  NULL is ignored.
 */
SWCO_API void swco_http_client_free(swco_http_client_t *c);

/**
 * swco_http_client_set - set a client option by name, as text
 *
 * Names (Swoole's where it has one):
 *   timeout            total time of a request in seconds ("2.5"); 0 or
 *                      negative: no limit
 *   connect_timeout    time to connect (TCP and TLS) in seconds; 0 or
 *                      negative: libcurl's default (300 s)
 *   keep_alive         reuse the connection for the next request (default
 *                      on); off closes it after every response
 *   follow_redirects   how many redirects to follow (default 0: none); only
 *                      to http and https URLs
 *   ssl_verify_peer    check the server's certificate chain (default on)
 *   ssl_verify_host    check that the certificate names the host (default on)
 *   ssl_cafile         a PEM file of CA certificates to trust instead of the
 *                      system's
 *   ssl_cert_file      a PEM client certificate (for mutual TLS)
 *   ssl_key_file       its private key (PEM)
 *   ssl_key_password   the private key's passphrase
 *   user_agent         the User-Agent header ("" sends none)
 *   accept_encoding    "" asks for every encoding libcurl can decode and
 *                      decodes the body; "identity" or a list such as "gzip"
 *                      asks for those (default: no Accept-Encoding sent)
 * Booleans are 1/0/true/false/yes/no/on/off.  Options apply to the next
 * request.  Returns 0, SWCO_EOPTION for an unknown name, SWCO_EOPTVALUE for a
 * value that does not parse, -EINVAL for NULL arguments, -EBUSY during a
 * request.
 */
SWCO_API int swco_http_client_set(swco_http_client_t *c, const char *name, const char *value);

/**
 * swco_http_client_set_timeout - set the connect and total timeouts
 *
 * Seconds, as the rest of the library: connect_timeout bounds connecting
 * (TCP and TLS handshake), timeout the whole request.  0 or negative: no
 * limit (for connect_timeout, libcurl's default).  A request over time fails
 * with -ETIMEDOUT.  Returns 0, -EINVAL for NULL, -EBUSY during a request.
 */
SWCO_API int swco_http_client_set_timeout(swco_http_client_t *c, double connect_timeout,
                                          double timeout);

/**
 * swco_http_client_set_header - set a header sent with every request
 *
 * Replaces every header of that name (any case) the client had; value NULL
 * removes it; "" sends the header with an empty value.  A header set here
 * overrides the one libcurl would send (Host, User-Agent, Content-Type,
 * Accept...).  Returns 0, -EINVAL for a NULL or empty name or a name or
 * value with CR, LF (or, in the name, ':' or blanks), -ENOMEM, -EBUSY
 * during a request.
 */
SWCO_API int swco_http_client_set_header(swco_http_client_t *c, const char *name,
                                         const char *value);

/**
 * swco_http_client_add_header - add a header line, keeping ones of that name
 *
 * Like swco_http_client_set_header() but appends: the request carries every
 * value in the order added (repeated headers).  Returns 0 or the same
 * errors.
 */
SWCO_API int swco_http_client_add_header(swco_http_client_t *c, const char *name,
                                         const char *value);

/**
 * swco_http_client_clear_headers - forget every header the program set
 *
 * Returns 0, -EINVAL for NULL, -EBUSY during a request.
 */
SWCO_API int swco_http_client_clear_headers(swco_http_client_t *c);

/**
 * swco_http_client_set_cookie - set a cookie sent with every request
 *
 * The cookie goes with the jar's cookies in one Cookie header.  value NULL
 * removes it.  Returns 0, -EINVAL for a NULL or empty name or characters a
 * cookie cannot carry (';', ',', blanks, CR, LF, '=' in the name), -ENOMEM,
 * -EBUSY during a request.
 */
SWCO_API int swco_http_client_set_cookie(swco_http_client_t *c, const char *name,
                                         const char *value);

/**
 * swco_http_client_cookie - a cookie from the client's jar
 *
 * The jar keeps, in memory and per client, the cookies servers set
 * (Set-Cookie) and sends them back on later requests that match their
 * domain and path, as a browser does.  Returns the value of the cookie
 * named name (set by a server or by swco_http_client_set_cookie), valid
 * until the next call on the client, or NULL when there is none (errno-like
 * code in swco_last_error(): -ENOENT, -EINVAL).
 */
SWCO_API const char *swco_http_client_cookie(swco_http_client_t *c, const char *name);

/**
 * swco_http_client_clear_cookies - empty the cookie jar
 *
 * Forgets the cookies servers set and those set by the program.  Returns 0,
 * -EINVAL for NULL, -EBUSY during a request.
 */
SWCO_API int swco_http_client_clear_cookies(swco_http_client_t *c);

/**
 * swco_http_client_add_form_field - add a form field to the next request
 *
 * Fields are sent as an application/x-www-form-urlencoded body (names and
 * values percent-encoded), or as parts of a multipart/form-data body when a
 * file was added too.  The method is POST unless the request names another.
 * Returns 0, -EINVAL (NULL), -ENOMEM, -EBUSY during a request.
 */
SWCO_API int swco_http_client_add_form_field(swco_http_client_t *c, const char *name,
                                             const char *value);

/**
 * swco_http_client_add_file - upload a file with the next request
 *
 * Adds a multipart/form-data part named name with the contents of the file
 * at path, read while the request is sent (not loaded into memory).
 * filename is the name the server sees (NULL: path's last component);
 * content_type the part's type (NULL: guessed by libcurl from the
 * extension, else application/octet-stream).  Returns 0, -errno when path
 * cannot be opened for reading (-ENOENT, -EACCES, -EISDIR), -EINVAL (NULL),
 * -ENOMEM, -EBUSY during a request.
 */
SWCO_API int swco_http_client_add_file(swco_http_client_t *c, const char *name, const char *path,
                                       const char *filename, const char *content_type);

/**
 * swco_http_client_add_data - upload bytes as a file with the next request
 *
 * Like swco_http_client_add_file() with the contents given in memory (len
 * bytes of data, copied).  filename NULL sends a part without a filename;
 * content_type NULL sends application/octet-stream.  Returns 0, -EINVAL,
 * -ENOMEM, -EBUSY during a request.
 */
SWCO_API int swco_http_client_add_data(swco_http_client_t *c, const char *name, const void *data,
                                       size_t len, const char *filename,
                                       const char *content_type);

/**
 * swco_http_client_set_body - set the raw body of the next request
 *
 * len bytes of data (copied) are sent as they are, with content_type as
 * Content-Type (NULL: none given, libcurl sends
 * application/x-www-form-urlencoded for POST).  Replaces form fields and
 * files added so far.  Returns 0, -EINVAL (NULL client, NULL data with
 * len > 0), -ENOMEM, -EBUSY during a request.
 */
SWCO_API int swco_http_client_set_body(swco_http_client_t *c, const void *data, size_t len,
                                       const char *content_type);

/**
 * swco_http_client_request - make a request with any method
 *
 * method is an HTTP method token ("GET", "PATCH", "OPTIONS"...; "HEAD" reads
 * no body); path is appended to the base URL, or is a whole http(s) URL.
 * The body is the one set beforehand (swco_http_client_set_body, form
 * fields, files), if any; a POST without one sends an empty body.  Waits
 * (yielding the coroutine) for the whole response, which the client then
 * holds (swco_http_client_status, _header, _body).  The connection stays
 * open for the next request unless keep_alive is off or the server closes
 * it.  Returns the HTTP status (100-599), or a negative code as the top of
 * this header lists, with the message in swco_http_client_error_message().
 */
SWCO_API int swco_http_client_request(swco_http_client_t *c, const char *method, const char *path);

/**
 * swco_http_client_get - GET path
 *
 * swco_http_client_request(c, "GET", path).  Returns the status or a
 * negative code.
 */
SWCO_API int swco_http_client_get(swco_http_client_t *c, const char *path);

/**
 * swco_http_client_post - POST path with a body
 *
 * data (len bytes) is sent as the body, as with swco_http_client_set_body()
 * without a Content-Type; data NULL sends the body set beforehand (form
 * fields, files, raw body) or an empty one.  Returns the status or a
 * negative code.
 */
SWCO_API int swco_http_client_post(swco_http_client_t *c, const char *path, const void *data,
                                   size_t len);

/**
 * swco_http_client_put - PUT path with a body
 *
 * As swco_http_client_post() with the PUT method.  Returns the status or a
 * negative code.
 */
SWCO_API int swco_http_client_put(swco_http_client_t *c, const char *path, const void *data,
                                  size_t len);

/**
 * swco_http_client_delete - DELETE path
 *
 * swco_http_client_request(c, "DELETE", path).  Returns the status or a
 * negative code.
 */
SWCO_API int swco_http_client_delete(swco_http_client_t *c, const char *path);

/**
 * swco_http_client_download - GET path into a file
 *
 * The response body is written to file (created with mode 0644, or
 * truncated) as it arrives instead of being kept in memory, so large
 * downloads take constant memory; the client's body is then empty.  The
 * file is written whatever the status (check it).  Returns the status, or
 * a negative code: -errno when file cannot be created, -EIO when writing it
 * fails, or a request error.
 */
SWCO_API int swco_http_client_download(swco_http_client_t *c, const char *path,
                                       const char *file);

/**
 * swco_http_client_status - the last response's HTTP status
 *
 * Returns the status code of the last response (after redirects followed,
 * the final one), 0 when the last request got none (it failed), -EINVAL for
 * NULL.
 */
SWCO_API int swco_http_client_status(const swco_http_client_t *c);

/**
 * swco_http_client_body - the last response's body
 *
 * Sets *data to the body bytes (owned by the client, NUL-terminated for
 * convenience, valid until the next request or free) and returns their
 * length: 0 for an empty body, a HEAD request or a download.  Returns
 * -EINVAL for NULL arguments.
 */
SWCO_API long swco_http_client_body(const swco_http_client_t *c, const char **data);

/**
 * swco_http_client_header - a header value of the last response
 *
 * name is compared without regard to case; index picks among repeated
 * headers of that name (0 the first, as sent).  Only the final response's
 * headers count (not a redirect's, nor a 100 Continue).  Returns the value
 * (blanks around it removed; owned by the client, valid until the next
 * request), or NULL when there is no such header (swco_last_error()
 * -ENOENT) or for bad arguments (-EINVAL).
 */
SWCO_API const char *swco_http_client_header(const swco_http_client_t *c, const char *name,
                                             int index);

/**
 * swco_http_client_header_count - how many header lines the last response had
 *
 * Returns the count (repeats counted) or -EINVAL for NULL.
 */
SWCO_API int swco_http_client_header_count(const swco_http_client_t *c);

/**
 * swco_http_client_header_name - the name of the i-th response header line
 *
 * In the order the server sent them, as spelled by it.  Returns the name,
 * or NULL (swco_last_error() -ERANGE) when i is out of range.
 */
SWCO_API const char *swco_http_client_header_name(const swco_http_client_t *c, int i);

/**
 * swco_http_client_header_value - the value of the i-th response header line
 *
 * Returns the value, or NULL (swco_last_error() -ERANGE) when i is out of
 * range.
 */
SWCO_API const char *swco_http_client_header_value(const swco_http_client_t *c, int i);

/**
 * swco_http_client_effective_url - the URL the last response came from
 *
 * The request's whole URL, or where redirects led.  Returns it (owned by
 * the client) or "" before any request; NULL for NULL.
 */
SWCO_API const char *swco_http_client_effective_url(const swco_http_client_t *c);

/**
 * swco_http_client_error_message - what went wrong in the last request
 *
 * Returns libcurl's detailed message for the last failed request (or for
 * a bad argument, a short description), "" when it succeeded; owned by the
 * client.  NULL for NULL.
 */
SWCO_API const char *swco_http_client_error_message(const swco_http_client_t *c);

/**
 * swco_http_client_curl_code - libcurl's result for the last request
 *
 * Returns the CURLcode of the last request (0, CURLE_OK, when it got a
 * response; 7 when it could not connect, 28 on a timeout...), or -EINVAL
 * for NULL.
 */
SWCO_API int swco_http_client_curl_code(const swco_http_client_t *c);

/**
 * swco_http_client_close - close the client's open connection
 *
 * The next request connects again.  Cookies, headers and options stay.
 * Returns 0, -EINVAL for NULL, -EBUSY during a request.
 */
SWCO_API int swco_http_client_close(swco_http_client_t *c);

SWCO_END_DECLS

#endif /* SWCO_HTTP_CLIENT_H */
