/* HTTP responses, whatever carries them: status, headers, cookies,
 * trailers, the body (whole, streamed or from a file), redirects, detached
 * responses; the cached Date header and the reason phrases.  The bytes go
 * out through an output backend (swco__http_out_t): h1.c writes HTTP/1,
 * HTTP/2 will write frames.  Compression is compress.c's, chosen here when
 * the headers go out. */
#include "http/http_int.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------ reasons */

const char *swco__http_reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 102: return "Processing";
    case 103: return "Early Hints";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 203: return "Non-Authoritative Information";
    case 204: return "No Content";
    case 205: return "Reset Content";
    case 206: return "Partial Content";
    case 207: return "Multi-Status";
    case 300: return "Multiple Choices";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 402: return "Payment Required";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 407: return "Proxy Authentication Required";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 418: return "I'm a teapot";
    case 421: return "Misdirected Request";
    case 422: return "Unprocessable Content";
    case 425: return "Too Early";
    case 426: return "Upgrade Required";
    case 428: return "Precondition Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 451: return "Unavailable For Legal Reasons";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    case 507: return "Insufficient Storage";
    case 511: return "Network Authentication Required";
    default: return "";
    }
}

/* ---------------------------------------------------------------- dates */

static const char wday[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char mon[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT", 29 bytes) into out[30]. */
static void imf_date(time_t t, char out[30])
{
    struct tm tm;
    if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 > 9999 || tm.tm_year + 1900 < 0) {
        memcpy(out, "Thu, 01 Jan 1970 00:00:00 GMT", 30);
        return;
    }
    snprintf(out, 30, "%s, %02d %s %04d %02d:%02d:%02d GMT", wday[tm.tm_wday], tm.tm_mday,
             mon[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* Per thread (a THREAD-mode worker is a thread): formatted once a second. */
static SWCO__TLS struct {
    time_t at;
    size_t len;
    char text[48];
} date_cache;

const char *swco__http_date_header(size_t *len)
{
    time_t now = time(NULL);
    if (now != date_cache.at || !date_cache.len) {
        char d[30];
        imf_date(now, d);
        date_cache.len = (size_t)snprintf(date_cache.text, sizeof date_cache.text,
                                          "Date: %s\r\n", d);
        date_cache.at = now;
    }
    if (len)
        *len = date_cache.len;
    return date_cache.text;
}

/* -------------------------------------------------------------- helpers */

static swco__arena_t *arena_of(swco_http_response_t *r)
{
    /* a request's response keeps its strings with the request's (one
     * arena block per request); a created one has its own */
    return r->req ? &r->req->arena : &r->arena;
}

/* RFC 9110 token characters. */
static int is_tchar(unsigned char ch)
{
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))
        return 1;
    return ch && strchr("!#$%&'*+-.^_`|~", ch) != NULL;
}

static int valid_name(const char *name)
{
    if (!name || !*name)
        return 0;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (!is_tchar(*p))
            return 0;
    return 1;
}

/* A field value: no CR, LF (no response splitting), nor other controls
 * but tab. */
static int valid_value(const char *v)
{
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
            return 0;
    return 1;
}

static int add_field(swco_http_response_t *r, swco__kvlist_t *l, const char *name,
                     const char *value)
{
    swco__arena_t *a = arena_of(r);
    size_t nl = strlen(name), vl = strlen(value);
    char *n = swco__arena_strndup(a, name, nl);
    char *v = swco__arena_strndup(a, value, vl);
    if (!n || !v)
        return -ENOMEM;
    return swco__kv_add_arena(a, l, n, nl, v, vl);
}

static int check_open(const swco_http_response_t *r)
{
    if (!r)
        return -EINVAL;
    if (r->head_sent || r->ended)
        return -EALREADY;
    return 0;
}

/* ---------------------------------------------------------- life cycle */

int swco__http_response_init(swco_http_response_t *r, swco_http_request_t *req,
                             const swco__http_out_t *out, void *backend)
{
    memset(r, 0, sizeof *r);
    r->srv = req ? req->srv : NULL;
    r->fd = req ? req->fd : 0;
    r->req = req;
    r->out = out;
    r->backend = backend;
    r->status = 200;
    r->compress = -1;
    r->keep_alive = req ? req->keep_alive : 1;
    return 0;
}

static int finish(swco_http_response_t *r, int rc)
{
    r->ended = 1;
    if (r->encoder) {
        swco__http_enc_free(r->encoder);
        r->encoder = NULL;
    }
    r->out->finish(r);
    return rc;
}

void swco__http_response_clear(swco_http_response_t *r)
{
    if (!r->ended && !r->detached)
        swco_http_response_end(r, NULL, 0);
    free(r->reason);
    r->reason = NULL;
    if (r->encoder)
        swco__http_enc_free(r->encoder);
    r->encoder = NULL;
    /* headers and trailers live in the arena */
    memset(&r->headers, 0, sizeof r->headers);
    memset(&r->trailers, 0, sizeof r->trailers);
    swco__arena_free(&r->arena);
}

/* ---------------------------------------------------------- public API */

int swco_http_response_status(swco_http_response_t *resp, int code, const char *reason)
{
    int rc = check_open(resp);
    if (rc < 0)
        return swco__srv_ret(rc);
    if (code < 100 || code > 999 || (reason && !valid_value(reason)))
        return swco__srv_ret(-EINVAL);
    char *copy = NULL;
    if (reason && !(copy = strdup(reason)))
        return swco__srv_ret(-ENOMEM);
    free(resp->reason);
    resp->reason = copy;
    resp->status = code;
    return 0;
}

int swco_http_response_header(swco_http_response_t *resp, const char *name, const char *value)
{
    int rc = check_open(resp);
    if (rc < 0)
        return swco__srv_ret(rc);
    if (!valid_name(name) || (value && !valid_value(value)))
        return swco__srv_ret(-EINVAL);
    swco__kv_remove(&resp->headers, name, 1);
    return value ? swco__srv_ret(add_field(resp, &resp->headers, name, value)) : 0;
}

int swco_http_response_add_header(swco_http_response_t *resp, const char *name,
                                  const char *value)
{
    int rc = check_open(resp);
    if (rc < 0)
        return swco__srv_ret(rc);
    if (!valid_name(name) || !value || !valid_value(value))
        return swco__srv_ret(-EINVAL);
    return swco__srv_ret(add_field(resp, &resp->headers, name, value));
}

int swco_http_response_trailer(swco_http_response_t *resp, const char *name, const char *value)
{
    if (!resp || !valid_name(name) || !value || !valid_value(value))
        return swco__srv_ret(-EINVAL);
    if (resp->ended)
        return swco__srv_ret(-EALREADY);
    return swco__srv_ret(add_field(resp, &resp->trailers, name, value));
}

/* cookie-octet of RFC 6265: no controls, space, DQUOTE, comma, semicolon
 * or backslash. */
static int valid_cookie_value(const char *v)
{
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f || *p == '"' || *p == ',' || *p == ';' || *p == '\\')
            return 0;
    return 1;
}

/* Domain and Path: any characters but controls and ';'. */
static int valid_attr(const char *v)
{
    if (!*v)
        return 0;
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if (*p < 0x20 || *p == 0x7f || *p == ';')
            return 0;
    return 1;
}

int swco_http_response_cookie(swco_http_response_t *resp, const char *name, const char *value,
                              double expires, long max_age, const char *path,
                              const char *domain, const char *samesite, int flags)
{
    int rc = check_open(resp);
    if (rc < 0)
        return swco__srv_ret(rc);
    if (!valid_name(name) || (path && !valid_attr(path)) || (domain && !valid_attr(domain)) ||
        (flags & ~(SWCO_HTTP_COOKIE_SECURE | SWCO_HTTP_COOKIE_HTTPONLY |
                   SWCO_HTTP_COOKIE_PARTITIONED | SWCO_HTTP_COOKIE_RAW)) ||
        (value && (flags & SWCO_HTTP_COOKIE_RAW) && !valid_cookie_value(value)) ||
        expires != expires)
        return swco__srv_ret(-EINVAL);
    const char *ss = NULL;
    if (samesite) {
        if (!strcasecmp(samesite, "Strict"))
            ss = "Strict";
        else if (!strcasecmp(samesite, "Lax"))
            ss = "Lax";
        else if (!strcasecmp(samesite, "None"))
            ss = "None";
        else
            return swco__srv_ret(-EINVAL);
    }
    swco__hbuf_t b = {0};
    rc = swco__hbuf_adds(&b, name);
    if (rc == 0)
        rc = swco__hbuf_adds(&b, "=");
    if (rc == 0 && (!value || !*value)) {
        /* no value: delete the cookie */
        rc = swco__hbuf_adds(&b, "deleted; Expires=Thu, 01 Jan 1970 00:00:01 GMT; Max-Age=0");
        expires = 0;
        max_age = -1;
    } else if (rc == 0) {
        rc = flags & SWCO_HTTP_COOKIE_RAW ? swco__hbuf_adds(&b, value) : swco__http_encode_cookie(&b, value);
    }
    char tmp[64];
    if (rc == 0 && expires != 0) {
        char d[30];
        double e = expires < -1e15 ? -1e15 : expires > 1e15 ? 1e15 : expires;
        imf_date((time_t)e, d);
        snprintf(tmp, sizeof tmp, "; Expires=%s", d);
        rc = swco__hbuf_adds(&b, tmp);
    }
    if (rc == 0 && max_age >= 0) {
        snprintf(tmp, sizeof tmp, "; Max-Age=%ld", max_age);
        rc = swco__hbuf_adds(&b, tmp);
    }
    if (rc == 0 && domain) {
        rc = swco__hbuf_adds(&b, "; Domain=");
        if (rc == 0)
            rc = swco__hbuf_adds(&b, domain);
    }
    if (rc == 0 && path) {
        rc = swco__hbuf_adds(&b, "; Path=");
        if (rc == 0)
            rc = swco__hbuf_adds(&b, path);
    }
    if (rc == 0 && (flags & SWCO_HTTP_COOKIE_SECURE))
        rc = swco__hbuf_adds(&b, "; Secure");
    if (rc == 0 && (flags & SWCO_HTTP_COOKIE_HTTPONLY))
        rc = swco__hbuf_adds(&b, "; HttpOnly");
    if (rc == 0 && ss) {
        rc = swco__hbuf_adds(&b, "; SameSite=");
        if (rc == 0)
            rc = swco__hbuf_adds(&b, ss);
    }
    if (rc == 0 && (flags & SWCO_HTTP_COOKIE_PARTITIONED))
        rc = swco__hbuf_adds(&b, "; Partitioned");
    if (rc == 0)
        rc = add_field(resp, &resp->headers, "Set-Cookie", b.p);
    swco__hbuf_free(&b);
    return swco__srv_ret(rc);
}

/* Whether the body of this response may be compressed, and the encoder
 * when so (Content-Encoding and Vary added).  length -1: streamed. */
static void pick_encoding(swco_http_response_t *r, long long length)
{
    swco_http_request_t *req = r->req;
    if (r->compress == 0 || !req || !req->opt)
        return;
    if (req->head || r->status < 200 || r->status == 204 || r->status == 304 ||
        r->status == 206 || swco__kv_find(&r->headers, "Content-Encoding", 1))
        return;
    swco__http_lopts_t o = *req->opt;
    if (r->compress == 1)
        o.compression = 1;
    if (!o.compression)
        return;
    const swco__kv_t *ae = swco__kv_find(&req->lists[SWCO_HTTP_HEADER], "Accept-Encoding", 1);
    const swco__kv_t *ct = swco__kv_find(&r->headers, "Content-Type", 1);
    int enc = swco__http_pick_encoding(ae ? ae->value : NULL, ct ? ct->value : NULL, length, &o);
    if (enc == SWCO__ENC_NONE)
        return;
    swco__http_enc_t *e = swco__http_enc_new(enc, o.compression_level);
    const char *name = swco__http_encoding_name(enc);
    if (!e || !name)
        return;
    if (add_field(r, &r->headers, "Content-Encoding", name) < 0 ||
        add_field(r, &r->headers, "Vary", "Accept-Encoding") < 0) {
        swco__http_enc_free(e);
        return;
    }
    r->enc = enc;
    r->encoder = e;
}

long swco_http_response_write(swco_http_response_t *resp, const void *data, size_t len)
{
    if (!resp || (!data && len))
        return swco__srv_ret(-EINVAL);
    if (resp->ended)
        return swco__srv_ret(-EALREADY);
    if (len > LONG_MAX)
        return swco__srv_ret(-EINVAL);
    int rc;
    if (!resp->head_sent) {
        pick_encoding(resp, -1);
        resp->head_sent = 1;
        rc = resp->out->head(resp, -1, NULL, 0);
        if (rc < 0)
            return swco__srv_ret(rc);
    }
    if (!len)
        return 0;
    long n;
    if (resp->encoder) {
        swco__hbuf_t b = {0};
        rc = swco__http_enc_put(resp->encoder, data, len, 0, &b);
        n = rc < 0 ? rc : b.len ? resp->out->body(resp, b.p, b.len, 0) : 0;
        swco__hbuf_free(&b);
        if (n >= 0)
            n = (long)len;
    } else {
        n = resp->out->body(resp, data, len, 0);
    }
    return n < 0 ? swco__srv_ret((int)n) : n;
}

int swco_http_response_end(swco_http_response_t *resp, const void *data, size_t len)
{
    if (!resp || (!data && len))
        return swco__srv_ret(-EINVAL);
    if (resp->ended)
        return swco__srv_ret(-EALREADY);
    int rc = 0;
    swco__hbuf_t b = {0};
    if (!resp->head_sent) {
        pick_encoding(resp, (long long)len);
        if (resp->encoder) {
            rc = swco__http_enc_put(resp->encoder, data, len, 1, &b);
            if (rc < 0) {
                /* send it as it is */
                swco__kv_remove(&resp->headers, "Content-Encoding", 1);
                swco__http_enc_free(resp->encoder);
                resp->encoder = NULL;
                rc = 0;
            } else {
                data = b.p ? b.p : "";
                len = b.len;
            }
        }
        resp->head_sent = 1;
        rc = resp->out->head(resp, (long long)len, data, len);
    } else if (resp->encoder) {
        rc = swco__http_enc_put(resp->encoder, data, len, 1, &b);
        if (rc == 0)
            rc = (int)resp->out->body(resp, b.p, b.len, 1);
    } else {
        long n = resp->out->body(resp, data, len, 1);
        rc = n < 0 ? (int)n : 0;
    }
    swco__hbuf_free(&b);
    finish(resp, rc);
    return rc < 0 ? swco__srv_ret(rc) : 0;
}

int swco_http_response_sendfile(swco_http_response_t *resp, const char *path, long long offset,
                                long long length)
{
    if (!resp || !path || offset < 0 || length < 0)
        return swco__srv_ret(-EINVAL);
    if (resp->ended || resp->head_sent)
        return swco__srv_ret(-EALREADY);
    struct stat st;
    if (stat(path, &st) < 0)
        return swco__srv_ret(-errno);
    if (!S_ISREG(st.st_mode))
        return swco__srv_ret(S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL);
    if (access(path, R_OK) < 0)
        return swco__srv_ret(-errno);
    if (offset > st.st_size || (length && length > st.st_size - offset))
        return swco__srv_ret(-EINVAL);
    if (!length)
        length = st.st_size - offset;
    if (!swco__kv_find(&resp->headers, "Content-Type", 1)) {
        const char *mt = swco__http_mime_type(path);
        int rc = add_field(resp, &resp->headers, "Content-Type", mt);
        if (rc < 0)
            return swco__srv_ret(rc);
    }
    resp->head_sent = 1;
    int rc = resp->out->head(resp, length, NULL, 0);
    if (rc == 0 && length > 0)
        rc = resp->out->sendfile(resp, path, offset, length);
    finish(resp, rc);
    return rc < 0 ? swco__srv_ret(rc) : 0;
}

int swco_http_response_redirect(swco_http_response_t *resp, const char *location, int status)
{
    if (!resp || !location || !*location || !valid_value(location))
        return swco__srv_ret(-EINVAL);
    if (status == 0)
        status = 302;
    if (status < 300 || status > 399)
        return swco__srv_ret(-EINVAL);
    int rc = swco_http_response_status(resp, status, NULL);
    if (rc == 0)
        rc = swco_http_response_header(resp, "Location", location);
    if (rc == 0)
        rc = swco_http_response_end(resp, NULL, 0);
    return rc;
}

int swco_http_response_is_writable(const swco_http_response_t *resp)
{
    if (!resp || resp->ended)
        return 0;
    return resp->srv ? swco_server_exists(resp->srv, resp->fd) : 1;
}

int swco_http_response_detach(swco_http_response_t *resp)
{
    if (!resp)
        return swco__srv_ret(-EINVAL);
    if (resp->ended || resp->detached || resp->created)
        return swco__srv_ret(-EALREADY);
    resp->detached = 1;
    return 0;
}

swco_http_response_t *swco_http_response_create(swco_server_t *srv, long long fd)
{
    if (!srv) {
        swco__fail(-EINVAL);
        return NULL;
    }
    return swco__http1_response_create(srv, fd);
}

void swco_http_response_free(swco_http_response_t *resp)
{
    if (!resp || !resp->created)
        return;
    swco__http_response_clear(resp);
    free(resp);
}

long long swco_http_response_fd(const swco_http_response_t *resp)
{
    return resp ? resp->fd : swco__srv_ret(-EINVAL);
}

int swco_http_response_set_compression(swco_http_response_t *resp, int on)
{
    int rc = check_open(resp);
    if (rc < 0)
        return swco__srv_ret(rc);
    resp->compress = on ? 1 : 0;
    return 0;
}
