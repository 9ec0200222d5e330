/* swco_http_client: a small HTTP client per base URL over swco_curl_perform.
 *
 * One libcurl easy handle per client, kept for the client's life: libcurl
 * keeps the cookie engine (the in-memory jar, enabled with an empty
 * COOKIEFILE) and the options in it.  The connections live in a CURLSH of
 * the client's own that shares the connection cache (and DNS and TLS
 * sessions): whatever multi handle swco_curl_perform() drives the transfer
 * with, the next request finds the open connection there, so keep-alive
 * does not depend on which pooled multi the transfer got.
 *
 * Per-request state (body, form fields, multipart parts) is built into the
 * handle at request time and dropped after it; the options that a request
 * may change (method, body, headers) are reset before every request, since
 * the handle is reused.  The response headers of the final response are
 * kept as one block and split into name/value strings once the transfer is
 * done. */
#include "internal.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <swco/curl.h>
#include <swco/http_client.h>

typedef struct hbuf {
    char *data;
    size_t len, cap;
    int failed;
} hbuf_t;

typedef struct pair {
    char *name;
    char *value;
} pair_t;

typedef struct plist {
    pair_t *v;
    size_t n, cap;
} plist_t;

/* A multipart part: a file on disk (path) or bytes in memory. */
typedef struct part {
    char *name, *path, *filename, *type;
    char *data;
    size_t len;
    int is_file, is_field;
} part_t;

struct swco_http_client {
    CURL *easy;
    CURLSH *share;
    char *base;
    int busy;
    /* options */
    long timeout_ms, connect_ms;
    int keep_alive, verify_peer, verify_host;
    long follow;
    char *cafile, *cert, *key, *keypass, *user_agent, *accept_encoding;
    plist_t headers; /* sent with every request, in order */
    plist_t cookies; /* set by the program */
    /* the next request */
    char *body;
    size_t body_len;
    int has_body;
    char *body_type;
    plist_t fields;
    part_t *parts;
    size_t nparts, capparts;
    /* the last response */
    long status;
    int curl_code;
    hbuf_t out, head;
    char *hstore;
    char **hname, **hvalue;
    int hcount;
    char *url;
    char errmsg[CURL_ERROR_SIZE];
    char *cookie_tmp;
    /* download */
    int dl_fd, dl_errno;
};

/* ----------------------------------------------------------- helpers */

static int buf_add(hbuf_t *b, const char *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d) {
            b->failed = 1;
            return -1;
        }
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

static void plist_clear(plist_t *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].name);
        free(l->v[i].value);
    }
    free(l->v);
    memset(l, 0, sizeof *l);
}

static void plist_remove(plist_t *l, const char *name)
{
    size_t j = 0;
    for (size_t i = 0; i < l->n; i++) {
        if (strcasecmp(l->v[i].name, name) == 0) {
            free(l->v[i].name);
            free(l->v[i].value);
        } else {
            l->v[j++] = l->v[i];
        }
    }
    l->n = j;
}

static int plist_add(plist_t *l, const char *name, const char *value)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        pair_t *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return -ENOMEM;
        l->v = v;
        l->cap = cap;
    }
    char *n = strdup(name), *val = strdup(value);
    if (!n || !val) {
        free(n);
        free(val);
        return -ENOMEM;
    }
    l->v[l->n].name = n;
    l->v[l->n].value = val;
    l->n++;
    return 0;
}

static int dup_opt(char **slot, const char *value)
{
    char *d = NULL;
    if (value && *value && !(d = strdup(value)))
        return -ENOMEM;
    free(*slot);
    *slot = d;
    return 0;
}

static int parse_bool(const char *v, int *out)
{
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0)
            return *out = 1, 0;
        if (strcasecmp(v, no[i]) == 0)
            return *out = 0, 0;
    }
    return SWCO_EOPTVALUE;
}

static int parse_seconds(const char *v, double *out)
{
    char *end;
    double d = strtod(v, &end);
    if (end == v || *end || d != d)
        return SWCO_EOPTVALUE;
    *out = d;
    return 0;
}

static long to_ms(double s)
{
    if (!(s > 0))
        return 0;
    if (s > 1e9)
        return 0; /* beyond any real limit: none */
    return swco__seconds_to_ms(s);
}

static int is_http_url(const char *u)
{
    return strncasecmp(u, "http://", 7) == 0 || strncasecmp(u, "https://", 8) == 0;
}

static int fail_msg(swco_http_client_t *c, int code, const char *msg)
{
    if (c)
        snprintf(c->errmsg, sizeof c->errmsg, "%s", msg);
    return swco__fail(code);
}

#define CHECK_IDLE(c)                                                                          \
    do {                                                                                       \
        if (!(c))                                                                              \
            return swco__fail(-EINVAL);                                                        \
        if ((c)->busy)                                                                         \
            return fail_msg((c), -EBUSY, "the client is in a request");                       \
    } while (0)

/* ------------------------------------------------------ new and free */

static int share_new(swco_http_client_t *c)
{
    c->share = curl_share_init();
    if (!c->share)
        return -ENOMEM;
    curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    curl_easy_setopt(c->easy, CURLOPT_SHARE, c->share);
    return 0;
}

static void share_free(swco_http_client_t *c)
{
    if (c->share) {
        curl_easy_setopt(c->easy, CURLOPT_SHARE, NULL);
        curl_share_cleanup(c->share);
        c->share = NULL;
    }
}

swco_http_client_t *swco_http_client_new(const char *base_url)
{
    if (base_url && *base_url && !is_http_url(base_url)) {
        swco__fail(-EINVAL);
        return NULL;
    }
    swco_http_client_t *c = calloc(1, sizeof *c);
    if (!c) {
        swco__fail(-ENOMEM);
        return NULL;
    }
    c->keep_alive = c->verify_peer = c->verify_host = 1;
    c->dl_fd = -1;
    c->base = strdup(base_url ? base_url : "");
    c->url = strdup("");
    c->easy = curl_easy_init();
    if (!c->base || !c->url || !c->easy || share_new(c) < 0) {
        swco_http_client_free(c);
        swco__fail(-ENOMEM);
        return NULL;
    }
    curl_easy_setopt(c->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c->easy, CURLOPT_COOKIEFILE, ""); /* the in-memory jar */
    curl_easy_setopt(c->easy, CURLOPT_ERRORBUFFER, c->errmsg);
#if LIBCURL_VERSION_NUM >= 0x075500 /* 7.85 */
    curl_easy_setopt(c->easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c->easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(c->easy, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
    curl_easy_setopt(c->easy, CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    return c;
}

static void parts_clear(swco_http_client_t *c)
{
    for (size_t i = 0; i < c->nparts; i++) {
        part_t *p = &c->parts[i];
        free(p->name);
        free(p->path);
        free(p->filename);
        free(p->type);
        free(p->data);
    }
    free(c->parts);
    c->parts = NULL;
    c->nparts = c->capparts = 0;
}

static void request_parts_clear(swco_http_client_t *c)
{
    free(c->body);
    c->body = NULL;
    c->body_len = 0;
    c->has_body = 0;
    free(c->body_type);
    c->body_type = NULL;
    plist_clear(&c->fields);
    parts_clear(c);
}

static void response_clear(swco_http_client_t *c)
{
    c->status = 0;
    c->out.len = 0;
    if (c->out.data)
        c->out.data[0] = 0;
    c->out.failed = 0;
    c->head.len = 0;
    c->head.failed = 0;
    free(c->hstore);
    free(c->hname);
    free(c->hvalue);
    c->hstore = NULL;
    c->hname = c->hvalue = NULL;
    c->hcount = 0;
}

void swco_http_client_free(swco_http_client_t *c)
{
    if (!c)
        return;
    if (c->easy) {
        share_free(c);
        curl_easy_cleanup(c->easy);
    }
    request_parts_clear(c);
    response_clear(c);
    free(c->out.data);
    free(c->head.data);
    plist_clear(&c->headers);
    plist_clear(&c->cookies);
    free(c->base);
    free(c->url);
    free(c->cafile);
    free(c->cert);
    free(c->key);
    free(c->keypass);
    free(c->user_agent);
    free(c->accept_encoding);
    free(c->cookie_tmp);
    free(c);
}

/* ------------------------------------------------------------ options */

int swco_http_client_set(swco_http_client_t *c, const char *name, const char *value)
{
    CHECK_IDLE(c);
    if (!name || !value)
        return swco__fail(-EINVAL);
    double d;
    int b, rc;
    if (strcmp(name, "timeout") == 0 || strcmp(name, "connect_timeout") == 0) {
        if ((rc = parse_seconds(value, &d)) < 0)
            return swco__fail(rc);
        *(name[0] == 't' ? &c->timeout_ms : &c->connect_ms) = to_ms(d);
        return 0;
    }
    if (strcmp(name, "keep_alive") == 0 || strcmp(name, "ssl_verify_peer") == 0 ||
        strcmp(name, "ssl_verify_host") == 0) {
        if ((rc = parse_bool(value, &b)) < 0)
            return swco__fail(rc);
        *(name[0] == 'k' ? &c->keep_alive
                         : name[11] == 'p' ? &c->verify_peer : &c->verify_host) = b;
        return 0;
    }
    if (strcmp(name, "follow_redirects") == 0) {
        char *end;
        long n = strtol(value, &end, 10);
        if (end == value || *end || n < 0 || n > 1000) {
            if (parse_bool(value, &b) < 0)
                return swco__fail(SWCO_EOPTVALUE);
            n = b ? 20 : 0;
        }
        c->follow = n;
        return 0;
    }
    char **slot = strcmp(name, "ssl_cafile") == 0         ? &c->cafile
                  : strcmp(name, "ssl_cert_file") == 0    ? &c->cert
                  : strcmp(name, "ssl_key_file") == 0     ? &c->key
                  : strcmp(name, "ssl_key_password") == 0 ? &c->keypass
                                                          : NULL;
    if (slot) {
        if (strchr(value, '\n') || strchr(value, '\r'))
            return swco__fail(SWCO_EOPTVALUE);
        return dup_opt(slot, value) < 0 ? swco__fail(-ENOMEM) : 0;
    }
    if (strcmp(name, "user_agent") == 0 || strcmp(name, "accept_encoding") == 0) {
        if (strpbrk(value, "\r\n"))
            return swco__fail(SWCO_EOPTVALUE);
        char *d = strdup(value); /* "" is a value here, not "unset" */
        if (!d)
            return swco__fail(-ENOMEM);
        slot = name[0] == 'u' ? &c->user_agent : &c->accept_encoding;
        free(*slot);
        *slot = d;
        return 0;
    }
    return swco__fail(SWCO_EOPTION);
}

int swco_http_client_set_timeout(swco_http_client_t *c, double connect_timeout, double timeout)
{
    CHECK_IDLE(c);
    c->connect_ms = to_ms(connect_timeout);
    c->timeout_ms = to_ms(timeout);
    return 0;
}

static int header_ok(const char *name, const char *value)
{
    if (!name || !*name || strpbrk(name, ":\r\n \t"))
        return 0;
    return !value || !strpbrk(value, "\r\n");
}

int swco_http_client_set_header(swco_http_client_t *c, const char *name, const char *value)
{
    CHECK_IDLE(c);
    if (!header_ok(name, value))
        return swco__fail(-EINVAL);
    plist_remove(&c->headers, name);
    if (value && plist_add(&c->headers, name, value) < 0)
        return swco__fail(-ENOMEM);
    return 0;
}

int swco_http_client_add_header(swco_http_client_t *c, const char *name, const char *value)
{
    CHECK_IDLE(c);
    if (!header_ok(name, value) || !value)
        return swco__fail(-EINVAL);
    return plist_add(&c->headers, name, value) < 0 ? swco__fail(-ENOMEM) : 0;
}

int swco_http_client_clear_headers(swco_http_client_t *c)
{
    CHECK_IDLE(c);
    plist_clear(&c->headers);
    return 0;
}

/* ------------------------------------------------------------ cookies */

int swco_http_client_set_cookie(swco_http_client_t *c, const char *name, const char *value)
{
    CHECK_IDLE(c);
    if (!name || !*name || strpbrk(name, "=;, \t\r\n") || (value && strpbrk(value, ";, \t\r\n")))
        return swco__fail(-EINVAL);
    for (size_t i = 0; i < c->cookies.n; i++) /* case matters for cookies */
        if (strcmp(c->cookies.v[i].name, name) == 0) {
            free(c->cookies.v[i].name);
            free(c->cookies.v[i].value);
            c->cookies.v[i] = c->cookies.v[--c->cookies.n];
            break;
        }
    if (value && plist_add(&c->cookies, name, value) < 0)
        return swco__fail(-ENOMEM);
    return 0;
}

const char *swco_http_client_cookie(swco_http_client_t *c, const char *name)
{
    if (!c || !name) {
        swco__fail(-EINVAL);
        return NULL;
    }
    for (size_t i = 0; i < c->cookies.n; i++)
        if (strcmp(c->cookies.v[i].name, name) == 0)
            return c->cookies.v[i].value;
    struct curl_slist *list = NULL;
    const char *found = NULL;
    if (curl_easy_getinfo(c->easy, CURLINFO_COOKIELIST, &list) == CURLE_OK) {
        /* Netscape lines: domain, subdomains, path, secure, expiry, name, value */
        for (struct curl_slist *l = list; l; l = l->next) {
            const char *p = l->data;
            for (int tab = 0; p && tab < 5; tab++) {
                p = strchr(p, '\t');
                if (p)
                    p++;
            }
            const char *v = p ? strchr(p, '\t') : NULL;
            if (!v || (size_t)(v - p) != strlen(name) || memcmp(p, name, (size_t)(v - p)) != 0)
                continue;
            char *d = strdup(v + 1);
            if (d) {
                free(c->cookie_tmp);
                c->cookie_tmp = d;
                found = d; /* the last one: the most recently set */
            }
        }
        curl_slist_free_all(list);
    }
    if (!found)
        swco__fail(-ENOENT);
    return found;
}

int swco_http_client_clear_cookies(swco_http_client_t *c)
{
    CHECK_IDLE(c);
    plist_clear(&c->cookies);
    curl_easy_setopt(c->easy, CURLOPT_COOKIELIST, "ALL");
    return 0;
}

/* ------------------------------------------------------------- bodies */

int swco_http_client_add_form_field(swco_http_client_t *c, const char *name, const char *value)
{
    CHECK_IDLE(c);
    if (!name || !value)
        return swco__fail(-EINVAL);
    return plist_add(&c->fields, name, value) < 0 ? swco__fail(-ENOMEM) : 0;
}

static part_t *part_new(swco_http_client_t *c)
{
    if (c->nparts == c->capparts) {
        size_t cap = c->capparts ? c->capparts * 2 : 4;
        part_t *v = realloc(c->parts, cap * sizeof *v);
        if (!v)
            return NULL;
        c->parts = v;
        c->capparts = cap;
    }
    part_t *p = &c->parts[c->nparts++];
    memset(p, 0, sizeof *p);
    return p;
}

static char *dup_or_null(const char *s, int *oom)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *oom = 1;
    return d;
}

int swco_http_client_add_file(swco_http_client_t *c, const char *name, const char *path,
                              const char *filename, const char *content_type)
{
    CHECK_IDLE(c);
    if (!name || !path || !*path)
        return swco__fail(-EINVAL);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return swco__fail(-errno);
    struct stat st;
    int err = fstat(fd, &st) < 0 ? -errno : S_ISDIR(st.st_mode) ? -EISDIR : 0;
    close(fd);
    if (err)
        return swco__fail(err);
    if (!filename) {
        const char *slash = strrchr(path, '/');
        filename = slash ? slash + 1 : path;
    }
    part_t *p = part_new(c);
    if (!p)
        return swco__fail(-ENOMEM);
    int oom = 0;
    p->is_file = 1;
    p->name = dup_or_null(name, &oom);
    p->path = dup_or_null(path, &oom);
    p->filename = dup_or_null(filename, &oom);
    p->type = dup_or_null(content_type, &oom);
    return oom ? swco__fail(-ENOMEM) : 0;
}

int swco_http_client_add_data(swco_http_client_t *c, const char *name, const void *data,
                              size_t len, const char *filename, const char *content_type)
{
    CHECK_IDLE(c);
    if (!name || (!data && len))
        return swco__fail(-EINVAL);
    part_t *p = part_new(c);
    if (!p)
        return swco__fail(-ENOMEM);
    int oom = 0;
    p->name = dup_or_null(name, &oom);
    p->filename = dup_or_null(filename, &oom);
    p->type = dup_or_null(content_type ? content_type : "application/octet-stream", &oom);
    p->data = malloc(len ? len : 1);
    if (!p->data)
        oom = 1;
    else if (len)
        memcpy(p->data, data, len);
    p->len = len;
    return oom ? swco__fail(-ENOMEM) : 0;
}

int swco_http_client_set_body(swco_http_client_t *c, const void *data, size_t len,
                              const char *content_type)
{
    CHECK_IDLE(c);
    if (!data && len)
        return swco__fail(-EINVAL);
    if (content_type && strpbrk(content_type, "\r\n"))
        return swco__fail(-EINVAL);
    request_parts_clear(c);
    c->body = malloc(len ? len : 1);
    if (!c->body || (content_type && !(c->body_type = strdup(content_type)))) {
        request_parts_clear(c);
        return swco__fail(-ENOMEM);
    }
    if (len)
        memcpy(c->body, data, len);
    c->body_len = len;
    c->has_body = 1;
    return 0;
}

/* ------------------------------------------------------ the transfer */

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    swco_http_client_t *c = arg;
    size_t len = size * n;
    if (c->dl_fd >= 0) {
        size_t done = 0;
        while (done < len) {
            ssize_t w = write(c->dl_fd, p + done, len - done);
            if (w < 0) {
                if (errno == EINTR)
                    continue;
                c->dl_errno = errno;
                return 0;
            }
            done += (size_t)w;
        }
        return len;
    }
    return buf_add(&c->out, p, len) < 0 ? 0 : len;
}

static int status_line(const char *p, size_t len)
{
    return len >= 5 && memcmp(p, "HTTP/", 5) == 0;
}

/* The final response's header block only: a status line (after a redirect
 * or a 100 Continue) starts it again. */
static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
    swco_http_client_t *c = arg;
    size_t len = size * n;
    if (status_line(p, len)) {
        c->head.len = 0;
        c->out.len = 0; /* a redirect's body is not the answer's */
    }
    return buf_add(&c->head, p, len) < 0 ? 0 : len;
}

static char *trim(char *p, char *end)
{
    while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
        end--;
    *end = 0;
    return p;
}

/* Split the header block into names and values (one copy, NUL-ended). */
static int headers_parse(swco_http_client_t *c)
{
    if (!c->head.len)
        return 0;
    c->hstore = malloc(c->head.len + 1);
    size_t maxn = 1;
    for (size_t i = 0; i < c->head.len; i++)
        maxn += c->head.data[i] == '\n';
    c->hname = malloc(maxn * sizeof *c->hname);
    c->hvalue = malloc(maxn * sizeof *c->hvalue);
    if (!c->hstore || !c->hname || !c->hvalue)
        return -ENOMEM;
    memcpy(c->hstore, c->head.data, c->head.len + 1);
    char *p = c->hstore, *end = c->hstore + c->head.len;
    while (p < end) {
        char *eol = memchr(p, '\n', (size_t)(end - p));
        char *stop = eol ? eol : end;
        char *next = eol ? eol + 1 : end;
        if ((*p == ' ' || *p == '\t') && c->hcount > 0) {
            /* obs-fold: join to the previous value with one space */
            while (p < stop && (*p == ' ' || *p == '\t'))
                p++;
            char *more = trim(p, stop);
            char *prev = c->hvalue[c->hcount - 1];
            size_t pl = strlen(prev), ml = strlen(more);
            /* the previous value ends before this line: move it up */
            memmove(more - pl - 1, prev, pl);
            more[-1] = ' ';
            c->hvalue[c->hcount - 1] = more - pl - 1;
            (void)ml;
        } else {
            char *colon = memchr(p, ':', (size_t)(stop - p));
            if (colon && colon > p && !status_line(p, (size_t)(stop - p))) {
                *colon = 0;
                char *v = colon + 1;
                while (v < stop && (*v == ' ' || *v == '\t'))
                    v++;
                c->hname[c->hcount] = trim(p, colon);
                c->hvalue[c->hcount] = trim(v, stop);
                c->hcount++;
            }
        }
        p = next;
    }
    return 0;
}

static int map_curl(swco_http_client_t *c, CURLcode rc, int cancelled)
{
    switch (rc) {
    case CURLE_OK:
        return 0;
    case CURLE_ABORTED_BY_CALLBACK:
        return cancelled ? -ECANCELED : SWCO_ECURL;
    case CURLE_OPERATION_TIMEDOUT:
        return -ETIMEDOUT;
    case CURLE_COULDNT_CONNECT:
        return -ECONNREFUSED;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return SWCO_EDNS;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
        return SWCO_ESSLVERIFY;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CLIENTCERT:
        return SWCO_ESSL;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
        return -EINVAL;
    case CURLE_OUT_OF_MEMORY:
        return -ENOMEM;
    case CURLE_WRITE_ERROR:
        if (c->dl_errno || c->dl_fd >= 0)
            return -EIO;
        return c->out.failed || c->head.failed ? -ENOMEM : SWCO_ECURL;
    case CURLE_READ_ERROR:
        return -EIO;
    case CURLE_FAILED_INIT:
        return swco_last_error() == -EBUSY ? -EBUSY : SWCO_ECURL;
    default:
        return SWCO_ECURL;
    }
}

static int method_ok(const char *m)
{
    if (!m || !*m)
        return 0;
    for (const char *p = m; *p; p++)
        if (*p <= ' ' || *p >= 127 || strchr("()<>@,;:\\\"/[]?={}", *p))
            return 0;
    return 1;
}

/* base + path, with exactly one '/' where they meet. */
static char *join_url(const swco_http_client_t *c, const char *path)
{
    if (!path)
        path = "";
    if (is_http_url(path) || !*c->base)
        return strdup(path);
    size_t bl = strlen(c->base);
    int bslash = bl && c->base[bl - 1] == '/', pslash = *path == '/';
    if (!*path)
        return strdup(c->base);
    if (bslash && pslash)
        path++;
    size_t n = bl + strlen(path) + 2;
    char *u = malloc(n);
    if (u)
        snprintf(u, n, "%s%s%s", c->base, !bslash && !pslash && *path != '?' ? "/" : "", path);
    return u;
}

static struct curl_slist *slist_add(struct curl_slist *l, const char *line, int *oom)
{
    struct curl_slist *m = curl_slist_append(l, line);
    if (!m)
        *oom = 1;
    return m ? m : l;
}

static struct curl_slist *slist_pair(struct curl_slist *l, const char *name, const char *value,
                                     int *oom)
{
    size_t n = strlen(name) + strlen(value) + 3;
    char *line = malloc(n);
    if (!line) {
        *oom = 1;
        return l;
    }
    /* "name;" is how libcurl sends a header with an empty value */
    snprintf(line, n, *value ? "%s: %s" : "%s;", name, value);
    l = slist_add(l, line, oom);
    free(line);
    return l;
}

static int has_header(const swco_http_client_t *c, const char *name)
{
    for (size_t i = 0; i < c->headers.n; i++)
        if (strcasecmp(c->headers.v[i].name, name) == 0)
            return 1;
    return 0;
}

/* application/x-www-form-urlencoded from the fields. */
static char *form_encode(swco_http_client_t *c, size_t *len)
{
    hbuf_t b = {0};
    buf_add(&b, "", 0);
    for (size_t i = 0; i < c->fields.n; i++) {
        char *n = curl_easy_escape(c->easy, c->fields.v[i].name, 0);
        char *v = curl_easy_escape(c->easy, c->fields.v[i].value, 0);
        if (n && v) {
            if (i)
                buf_add(&b, "&", 1);
            buf_add(&b, n, strlen(n));
            buf_add(&b, "=", 1);
            buf_add(&b, v, strlen(v));
        } else {
            b.failed = 1;
        }
        curl_free(n);
        curl_free(v);
    }
    if (b.failed) {
        free(b.data);
        return NULL;
    }
    *len = b.len;
    return b.data;
}

static curl_mime *mime_build(swco_http_client_t *c)
{
    curl_mime *m = curl_mime_init(c->easy);
    if (!m)
        return NULL;
    int bad = 0;
    for (size_t i = 0; !bad && i < c->fields.n; i++) {
        curl_mimepart *p = curl_mime_addpart(m);
        bad = !p || curl_mime_name(p, c->fields.v[i].name) != CURLE_OK ||
              curl_mime_data(p, c->fields.v[i].value, CURL_ZERO_TERMINATED) != CURLE_OK;
    }
    for (size_t i = 0; !bad && i < c->nparts; i++) {
        part_t *pt = &c->parts[i];
        curl_mimepart *p = curl_mime_addpart(m);
        bad = !p || curl_mime_name(p, pt->name) != CURLE_OK;
        if (!bad && pt->is_file)
            bad = curl_mime_filedata(p, pt->path) != CURLE_OK;
        else if (!bad)
            bad = curl_mime_data(p, pt->data, pt->len) != CURLE_OK;
        if (!bad)
            bad = curl_mime_filename(p, pt->filename) != CURLE_OK;
        if (!bad && pt->type)
            bad = curl_mime_type(p, pt->type) != CURLE_OK;
    }
    if (bad) {
        curl_mime_free(m);
        return NULL;
    }
    return m;
}

/* The options a request may set, back to a GET without a body. */
static void easy_reset_request(CURL *e)
{
    curl_easy_setopt(e, CURLOPT_MIMEPOST, NULL);
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, NULL);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(e, CURLOPT_COOKIE, NULL);
}

static void easy_options(swco_http_client_t *c)
{
    CURL *e = c->easy;
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, c->timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, c->connect_ms);
    curl_easy_setopt(e, CURLOPT_FORBID_REUSE, c->keep_alive ? 0L : 1L);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, c->follow > 0 ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, c->follow);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, c->verify_peer ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, c->verify_host ? 2L : 0L);
    curl_easy_setopt(e, CURLOPT_CAINFO, c->cafile);
    curl_easy_setopt(e, CURLOPT_SSLCERT, c->cert);
    curl_easy_setopt(e, CURLOPT_SSLKEY, c->key);
    curl_easy_setopt(e, CURLOPT_KEYPASSWD, c->keypass);
    curl_easy_setopt(e, CURLOPT_USERAGENT, c->user_agent && *c->user_agent ? c->user_agent : NULL);
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, c->accept_encoding);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, c);
}

/* Set up and run one request; the response (or the error) is left in c. */
static int do_request(swco_http_client_t *c, const char *method, const char *path)
{
    CHECK_IDLE(c);
    c->errmsg[0] = 0;
    if (!method_ok(method)) {
        request_parts_clear(c);
        return fail_msg(c, -EINVAL, "invalid HTTP method");
    }
    int head = strcmp(method, "HEAD") == 0;
    int mime = c->nparts > 0;
    int has_body = c->has_body || c->fields.n > 0 || mime;
    if (head && has_body) {
        request_parts_clear(c);
        return fail_msg(c, -EINVAL, "a HEAD request has no body");
    }
    response_clear(c);
    c->curl_code = 0;
    free(c->url);
    c->url = strdup("");
    char *url = join_url(c, path);
    int oom = !url || !c->url;
    struct curl_slist *lines = NULL;
    curl_mime *mm = NULL;
    char *cookie = NULL;
    CURL *e = c->easy;
    easy_reset_request(e);
    easy_options(c);
    for (size_t i = 0; i < c->headers.n; i++)
        lines = slist_pair(lines, c->headers.v[i].name, c->headers.v[i].value, &oom);
    if (!has_header(c, "Expect")) /* no 100-continue round trip */
        lines = slist_add(lines, "Expect:", &oom);
    if (c->user_agent && !*c->user_agent && !has_header(c, "User-Agent"))
        lines = slist_add(lines, "User-Agent:", &oom);
    if (mime) {
        mm = mime_build(c);
        oom |= !mm;
        curl_easy_setopt(e, CURLOPT_MIMEPOST, mm);
    } else if (has_body) {
        if (!c->has_body) {
            size_t len = 0;
            char *enc = form_encode(c, &len);
            free(c->body);
            c->body = enc;
            c->body_len = len;
            oom |= !enc;
            if (!has_header(c, "Content-Type"))
                lines = slist_add(lines, "Content-Type: application/x-www-form-urlencoded", &oom);
        } else if (c->body_type && !has_header(c, "Content-Type")) {
            lines = slist_pair(lines, "Content-Type", c->body_type, &oom);
        }
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)c->body_len);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, c->body ? c->body : "");
    } else if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, "");
    }
    if (head)
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    else if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0)
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    else if (strcmp(method, "GET") == 0 && has_body)
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "GET");
    if (c->cookies.n) {
        hbuf_t b = {0};
        for (size_t i = 0; i < c->cookies.n; i++) {
            if (i)
                buf_add(&b, "; ", 2);
            buf_add(&b, c->cookies.v[i].name, strlen(c->cookies.v[i].name));
            buf_add(&b, "=", 1);
            buf_add(&b, c->cookies.v[i].value, strlen(c->cookies.v[i].value));
        }
        cookie = b.data;
        oom |= b.failed;
        curl_easy_setopt(e, CURLOPT_COOKIE, cookie);
    }
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, lines);
    curl_easy_setopt(e, CURLOPT_URL, url);

    int rc;
    if (oom) {
        rc = fail_msg(c, -ENOMEM, "out of memory");
    } else {
        c->busy = 1;
        CURLcode cc = swco_curl_perform(e);
        int cancelled = cc == CURLE_ABORTED_BY_CALLBACK && swco_last_error() == -ECANCELED;
        c->busy = 0;
        c->curl_code = (int)cc;
        rc = map_curl(c, cc, cancelled);
        if (rc == 0 && (c->out.failed || c->head.failed))
            rc = -ENOMEM;
        char *eff = NULL;
        curl_easy_getinfo(e, CURLINFO_EFFECTIVE_URL, &eff);
        if (eff) {
            char *d = strdup(eff);
            if (d) {
                free(c->url);
                c->url = d;
            }
        }
        if (rc == 0) {
            curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &c->status);
            if (headers_parse(c) < 0)
                rc = -ENOMEM;
        }
        if (rc < 0) {
            if (!c->errmsg[0])
                snprintf(c->errmsg, sizeof c->errmsg, "%s",
                         rc == SWCO_ECURL || cc != CURLE_OK ? curl_easy_strerror(cc)
                                                            : swco_strerror(rc));
            response_clear(c);
            swco__fail(rc);
        } else {
            rc = (int)c->status;
        }
    }
    /* Nothing of this request stays in the handle. */
    easy_reset_request(e);
    curl_mime_free(mm);
    curl_slist_free_all(lines);
    free(cookie);
    free(url);
    request_parts_clear(c);
    return rc;
}

int swco_http_client_request(swco_http_client_t *c, const char *method, const char *path)
{
    return do_request(c, method, path);
}

int swco_http_client_get(swco_http_client_t *c, const char *path)
{
    return do_request(c, "GET", path);
}

static int with_body(swco_http_client_t *c, const char *method, const char *path,
                     const void *data, size_t len)
{
    CHECK_IDLE(c);
    if (data) {
        int rc = swco_http_client_set_body(c, data, len, NULL);
        if (rc < 0)
            return rc;
    }
    return do_request(c, method, path);
}

int swco_http_client_post(swco_http_client_t *c, const char *path, const void *data, size_t len)
{
    return with_body(c, "POST", path, data, len);
}

int swco_http_client_put(swco_http_client_t *c, const char *path, const void *data, size_t len)
{
    return with_body(c, "PUT", path, data, len);
}

int swco_http_client_delete(swco_http_client_t *c, const char *path)
{
    return do_request(c, "DELETE", path);
}

int swco_http_client_download(swco_http_client_t *c, const char *path, const char *file)
{
    CHECK_IDLE(c);
    if (!file || !*file)
        return swco__fail(-EINVAL);
    int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        int err = -errno;
        request_parts_clear(c);
        return fail_msg(c, err, "cannot create the download file");
    }
    c->dl_fd = fd;
    c->dl_errno = 0;
    int rc = do_request(c, "GET", path);
    c->dl_fd = -1;
    if (close(fd) < 0 && rc >= 0)
        rc = fail_msg(c, -EIO, "closing the download file failed");
    return rc;
}

/* ------------------------------------------------------------ results */

int swco_http_client_status(const swco_http_client_t *c)
{
    return c ? (int)c->status : swco__fail(-EINVAL);
}

long swco_http_client_body(const swco_http_client_t *c, const char **data)
{
    if (!c || !data)
        return swco__fail(-EINVAL);
    *data = c->out.data ? c->out.data : "";
    return (long)c->out.len;
}

const char *swco_http_client_header(const swco_http_client_t *c, const char *name, int index)
{
    if (!c || !name || index < 0) {
        swco__fail(-EINVAL);
        return NULL;
    }
    for (int i = 0; i < c->hcount; i++)
        if (strcasecmp(c->hname[i], name) == 0 && index-- == 0)
            return c->hvalue[i];
    swco__fail(-ENOENT);
    return NULL;
}

int swco_http_client_header_count(const swco_http_client_t *c)
{
    return c ? c->hcount : swco__fail(-EINVAL);
}

const char *swco_http_client_header_name(const swco_http_client_t *c, int i)
{
    if (!c || i < 0 || i >= c->hcount) {
        swco__fail(c ? -ERANGE : -EINVAL);
        return NULL;
    }
    return c->hname[i];
}

const char *swco_http_client_header_value(const swco_http_client_t *c, int i)
{
    if (!c || i < 0 || i >= c->hcount) {
        swco__fail(c ? -ERANGE : -EINVAL);
        return NULL;
    }
    return c->hvalue[i];
}

const char *swco_http_client_effective_url(const swco_http_client_t *c)
{
    if (!c) {
        swco__fail(-EINVAL);
        return NULL;
    }
    return c->url ? c->url : "";
}

const char *swco_http_client_error_message(const swco_http_client_t *c)
{
    if (!c) {
        swco__fail(-EINVAL);
        return NULL;
    }
    return c->errmsg;
}

int swco_http_client_curl_code(const swco_http_client_t *c)
{
    return c ? c->curl_code : swco__fail(-EINVAL);
}

int swco_http_client_close(swco_http_client_t *c)
{
    CHECK_IDLE(c);
    share_free(c);
    return share_new(c) < 0 ? swco__fail(-ENOMEM) : 0;
}
