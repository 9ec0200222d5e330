/* TLS over coroutine sockets with OpenSSL: non-blocking SSL_* calls whose
 * WANT_READ / WANT_WRITE become swco_event_wait_fd() waits in socket.c. */
#include "io/io_int.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <arpa/inet.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define SESSION_CACHE_MAX 64

typedef struct cached_session {
    struct cached_session *next;
    char *key;
    SSL_SESSION *sess;
} cached_session_t;

struct swco_ssl_ctx {
    SSL_CTX *ctx;
    int refs;
    int server;
    int verify;       /* check the peer's chain (clients: on by default) */
    int check_host;   /* clients: check the name too (on by default) */
    int ca_set;       /* swco_ssl_ctx_set_ca() called: no system store */
    int ca_default;   /* the system store is loaded */
    int reuse;
    unsigned char *alpn; /* wire format */
    unsigned alpn_len;
    cached_session_t *sessions;
    int nsessions;
};

/* Log and clear OpenSSL's error queue; return code. */
static int ssl_error(int code, const char *what)
{
    unsigned long e;
    char buf[256];
    while ((e = ERR_get_error()) != 0) {
        ERR_error_string_n(e, buf, sizeof buf);
        swco__log(SWCO_LOG_DEBUG, "tls: %s: %s", what, buf);
    }
    return code;
}

/* ------------------------------------------------------------- contexts */

static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned inlen, void *arg)
{
    (void)ssl;
    swco_ssl_ctx_t *c = arg;
    if (!swco__alpn_select(c->alpn, c->alpn_len, in, inlen, out, outlen))
        return SSL_TLSEXT_ERR_NOACK;
    return SSL_TLSEXT_ERR_OK;
}

swco_ssl_ctx_t *swco_ssl_ctx_new(int server)
{
    swco_ssl_ctx_t *c = calloc(1, sizeof *c);
    if (!c) {
        swco__fail(-ENOMEM);
        return NULL;
    }
    c->ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    if (!c->ctx) {
        free(c);
        swco__fail(ssl_error(SWCO_ESSL, "SSL_CTX_new"));
        return NULL;
    }
    c->refs = 1;
    c->server = server != 0;
    c->reuse = !server;
    /* Clients verify the server's chain and name unless told not to; a
     * server asks for client certificates only when told to. */
    c->verify = !server;
    c->check_host = !server;
    SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
    SSL_CTX_set_mode(c->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_verify(c->ctx, server ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, NULL);
    if (server)
        SSL_CTX_set_alpn_select_cb(c->ctx, alpn_select, c);
    else
        SSL_CTX_set_session_cache_mode(c->ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL);
    return c;
}

void swco__ssl_ctx_ref(swco_ssl_ctx_t *c) { c->refs++; }

/* Forget every cached session: a session verified under other settings
 * must not be resumed, as resumption skips the certificate check. */
static void sessions_flush(swco_ssl_ctx_t *c)
{
    for (cached_session_t *e = c->sessions, *n; e; e = n) {
        n = e->next;
        SSL_SESSION_free(e->sess);
        free(e->key);
        free(e);
    }
    c->sessions = NULL;
    c->nsessions = 0;
}

void swco__ssl_ctx_unref(swco_ssl_ctx_t *c)
{
    if (!c || --c->refs > 0)
        return;
    sessions_flush(c);
    SSL_CTX_free(c->ctx);
    free(c->alpn);
    free(c);
}

void swco_ssl_ctx_free(swco_ssl_ctx_t *c) { swco__ssl_ctx_unref(c); }

static int readable(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return -errno;
    if (access(path, R_OK) != 0)
        return -errno;
    return 0;
}

int swco_ssl_ctx_set_cert_file(swco_ssl_ctx_t *c, const char *cert, const char *key)
{
    if (!c || !cert)
        return swco__fail(-EINVAL);
    if (!key)
        key = cert;
    int rc = readable(cert);
    if (rc == 0)
        rc = readable(key);
    if (rc)
        return swco__fail(rc);
    if (SSL_CTX_use_certificate_chain_file(c->ctx, cert) != 1)
        return swco__fail(ssl_error(SWCO_ESSL, cert));
    if (SSL_CTX_use_PrivateKey_file(c->ctx, key, SSL_FILETYPE_PEM) != 1)
        return swco__fail(ssl_error(SWCO_ESSL, key));
    if (SSL_CTX_check_private_key(c->ctx) != 1)
        return swco__fail(ssl_error(SWCO_ESSL, "key does not match certificate"));
    sessions_flush(c); /* sessions made with another client identity */
    return 0;
}

int swco_ssl_ctx_set_ca(swco_ssl_ctx_t *c, const char *ca_file, const char *ca_path)
{
    if (!c || (!ca_file && !ca_path))
        return swco__fail(-EINVAL);
    int rc = ca_file ? readable(ca_file) : 0;
    if (rc == 0 && ca_path)
        rc = readable(ca_path);
    if (rc)
        return swco__fail(rc);
    if (SSL_CTX_load_verify_locations(c->ctx, ca_file, ca_path) != 1)
        return swco__fail(ssl_error(SWCO_ESSL, "CA"));
    c->ca_set = 1; /* CAs given: no need for the default store */
    sessions_flush(c);
    return 0;
}

int swco_ssl_ctx_set_verify_peer(swco_ssl_ctx_t *c, int on)
{
    if (!c)
        return swco__fail(-EINVAL);
    c->verify = on != 0;
    int mode = SSL_VERIFY_NONE;
    if (on) {
        mode = SSL_VERIFY_PEER;
        if (c->server)
            mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    }
    SSL_CTX_set_verify(c->ctx, mode, NULL);
    sessions_flush(c);
    return 0;
}

int swco_ssl_ctx_set_check_hostname(swco_ssl_ctx_t *c, int on)
{
    if (!c || c->server)
        return swco__fail(-EINVAL);
    c->check_host = on != 0;
    sessions_flush(c);
    return 0;
}

int swco_ssl_ctx_get_verify(const swco_ssl_ctx_t *c)
{
    if (!c)
        return swco__fail(-EINVAL);
    return (c->verify ? SWCO_SSL_VERIFY_PEER : 0) |
           (c->verify && c->check_host ? SWCO_SSL_VERIFY_HOST : 0);
}

int swco_ssl_ctx_set_alpn(swco_ssl_ctx_t *c, const char *protocols)
{
    if (!c)
        return swco__fail(-EINVAL);
    size_t n = protocols ? strlen(protocols) : 0;
    unsigned char *w = NULL;
    long len = 0;
    if (n > 0) {
        if (n >= UINT_MAX || !(w = malloc(n + 1)))
            return swco__fail(n >= UINT_MAX ? -EINVAL : -ENOMEM);
        if ((len = swco__alpn_wire(protocols, n, w)) < 0) {
            free(w); /* the old list stays */
            return swco__fail((int)len);
        }
    }
    free(c->alpn);
    c->alpn = NULL;
    c->alpn_len = 0;
    if (n == 0)
        return c->server ? 0 : (SSL_CTX_set_alpn_protos(c->ctx, NULL, 0), 0);
    c->alpn = w;
    c->alpn_len = (unsigned)len;
    if (!c->server && SSL_CTX_set_alpn_protos(c->ctx, w, (unsigned)len) != 0)
        return swco__fail(ssl_error(SWCO_ESSL, "ALPN"));
    return 0;
}

static int version_of(int v)
{
    return v == SWCO_TLS1_2 ? TLS1_2_VERSION : v == SWCO_TLS1_3 ? TLS1_3_VERSION : v == 0 ? 0 : -1;
}

int swco_ssl_ctx_set_protocols(swco_ssl_ctx_t *c, int min_version, int max_version)
{
    int lo = version_of(min_version), hi = version_of(max_version);
    if (!c || lo < 0 || hi < 0 || (lo && hi && lo > hi))
        return swco__fail(-EINVAL);
    if (SSL_CTX_set_min_proto_version(c->ctx, lo ? lo : TLS1_2_VERSION) != 1 ||
        SSL_CTX_set_max_proto_version(c->ctx, hi) != 1)
        return swco__fail(ssl_error(SWCO_ESSL, "protocol versions"));
    return 0;
}

int swco_ssl_ctx_set_ciphers(swco_ssl_ctx_t *c, const char *ciphers)
{
    if (!c || !ciphers)
        return swco__fail(-EINVAL);
    if (SSL_CTX_set_cipher_list(c->ctx, ciphers) != 1)
        return swco__fail(ssl_error(SWCO_ESSL, "ciphers"));
    return 0;
}

int swco_ssl_ctx_set_session_reuse(swco_ssl_ctx_t *c, int on)
{
    if (!c)
        return swco__fail(-EINVAL);
    c->reuse = on != 0;
    return 0;
}

/* --------------------------------------------------------- session cache */

static cached_session_t **session_find(swco_ssl_ctx_t *c, const char *key)
{
    cached_session_t **pe = &c->sessions;
    for (; *pe; pe = &(*pe)->next)
        if (strcmp((*pe)->key, key) == 0)
            break;
    return pe;
}

static void session_save(swco_socket_t *s)
{
    swco_ssl_ctx_t *c = s->ssl_ctx;
    if (s->ssl_server || !c->reuse || !s->ssl_key || !s->ssl_ready)
        return;
    SSL_SESSION *sess = SSL_get1_session(s->ssl);
    if (!sess)
        return;
    if (!SSL_SESSION_is_resumable(sess)) {
        SSL_SESSION_free(sess);
        return;
    }
    cached_session_t **pe = session_find(c, s->ssl_key), *e = *pe;
    if (e) {
        SSL_SESSION_free(e->sess);
        e->sess = sess;
        return;
    }
    e = calloc(1, sizeof *e);
    if (!e || !(e->key = strdup(s->ssl_key))) {
        free(e);
        SSL_SESSION_free(sess);
        return;
    }
    e->sess = sess;
    e->next = c->sessions;
    c->sessions = e;
    if (++c->nsessions > SESSION_CACHE_MAX) { /* drop the oldest */
        cached_session_t **last = &c->sessions;
        while ((*last)->next)
            last = &(*last)->next;
        SSL_SESSION_free((*last)->sess);
        free((*last)->key);
        free(*last);
        *last = NULL;
        c->nsessions--;
    }
}

/* ---------------------------------------------------------- connections */

int swco_socket_enable_ssl(swco_socket_t *s, swco_ssl_ctx_t *c, const char *host_name)
{
    if (!s || !c || s->type != SOCK_STREAM)
        return swco__fail(-EINVAL);
    if (s->fd < 0)
        return swco__fail(SWCO_ECLOSED);
    if (s->ssl_ctx)
        return swco__fail(SWCO_ECOSTATE);
    if (host_name && !(s->ssl_host = strdup(host_name)))
        return swco__fail(-ENOMEM);
    s->ssl_ctx = c;
    s->ssl_server = c->server;
    swco__ssl_ctx_ref(c);
    return 0;
}

static int is_ip(const char *h)
{
    unsigned char b[16];
    return inet_pton(AF_INET, h, b) == 1 || inet_pton(AF_INET6, h, b) == 1;
}

/* A BIO on the socket's fd that writes with send(MSG_NOSIGNAL): OpenSSL's
 * socket BIO uses write(), which raises SIGPIPE when the peer has gone, and
 * a server must not die because a client hung up. */
static BIO_METHOD *nosig_method;
static pthread_once_t nosig_once = PTHREAD_ONCE_INIT;

static int nosig_fd(BIO *b) { return (int)(intptr_t)BIO_get_data(b); }

static int nosig_write(BIO *b, const char *buf, int len)
{
    BIO_clear_retry_flags(b);
    ssize_t n = send(nosig_fd(b), buf, (size_t)len, MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        BIO_set_retry_write(b);
    return (int)n;
}

static int nosig_read(BIO *b, char *buf, int len)
{
    BIO_clear_retry_flags(b);
    ssize_t n = recv(nosig_fd(b), buf, (size_t)len, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        BIO_set_retry_read(b);
    else if (n == 0)
        BIO_set_flags(b, BIO_FLAGS_IN_EOF); /* OpenSSL asks with BIO_eof() */
    return (int)n;
}

static int nosig_puts(BIO *b, const char *str) { return nosig_write(b, str, (int)strlen(str)); }

static long nosig_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)num;
    switch (cmd) {
    case BIO_C_GET_FD:
        if (ptr)
            *(int *)ptr = nosig_fd(b);
        return nosig_fd(b);
    case BIO_CTRL_EOF:
        return BIO_test_flags(b, BIO_FLAGS_IN_EOF) != 0;
    case BIO_CTRL_FLUSH:
    case BIO_CTRL_DUP:
        return 1;
    default:
        return 0;
    }
}

static int nosig_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

static void nosig_init(void)
{
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK | BIO_TYPE_DESCRIPTOR,
                                 "swco socket");
    if (!m)
        return;
    if (!BIO_meth_set_write(m, nosig_write) || !BIO_meth_set_read(m, nosig_read) ||
        !BIO_meth_set_puts(m, nosig_puts) || !BIO_meth_set_ctrl(m, nosig_ctrl) ||
        !BIO_meth_set_create(m, nosig_create)) {
        BIO_meth_free(m);
        return;
    }
    nosig_method = m;
}

static BIO *nosig_bio(int fd)
{
    pthread_once(&nosig_once, nosig_init);
    BIO *b = nosig_method ? BIO_new(nosig_method) : NULL;
    if (b)
        BIO_set_data(b, (void *)(intptr_t)fd);
    return b;
}

/* The cache key of a client connection: the connect address, the name the
 * certificate must match and the verification in force.  A session made
 * for one name is never offered for another (resumption skips the
 * certificate, so it would skip the host-name check too). */
static char *session_key(swco_socket_t *s, swco_ssl_ctx_t *c)
{
    const char *addr = s->ssl_key, *name = s->ssl_host ? s->ssl_host : "";
    size_t n = strlen(addr) + strlen(name) + 8;
    char *k = malloc(n);
    if (k)
        snprintf(k, n, "%s\n%s\n%d%d", addr, name, c->verify, c->verify && c->check_host);
    return k;
}

int swco__ssl_attach(swco_socket_t *s, swco_ssl_ctx_t *c, int server)
{
    const char *h = s->ssl_host;
    if (!server && c->verify && c->check_host && !h)
        return -EINVAL; /* no name to check: refuse rather than check less */
    SSL *ssl = SSL_new(c->ctx);
    if (!ssl)
        return ssl_error(SWCO_ESSL, "SSL_new");
    BIO *bio = nosig_bio(s->fd);
    if (!bio) {
        SSL_free(ssl);
        return ssl_error(SWCO_ESSL, "BIO_new");
    }
    SSL_set_bio(ssl, bio, bio);
    if (server) {
        SSL_set_accept_state(ssl);
    } else {
        SSL_set_connect_state(ssl);
        if (h && !is_ip(h))
            SSL_set_tlsext_host_name(ssl, h);
        if (c->verify && !c->ca_set && !c->ca_default) {
            SSL_CTX_set_default_verify_paths(c->ctx); /* the system's CAs */
            c->ca_default = 1;
        }
        if (h && c->verify && c->check_host) {
            X509_VERIFY_PARAM *vp = SSL_get0_param(ssl);
            int ok = is_ip(h) ? X509_VERIFY_PARAM_set1_ip_asc(vp, h)
                              : X509_VERIFY_PARAM_set1_host(vp, h, 0);
            if (ok != 1) {
                SSL_free(ssl);
                return ssl_error(SWCO_ESSL, "host name");
            }
        }
        if (s->ssl_key) {
            char *k = session_key(s, c);
            free(s->ssl_key);
            s->ssl_key = k;
        }
        if (c->reuse && s->ssl_key) {
            cached_session_t *e = *session_find(c, s->ssl_key);
            if (e)
                SSL_set_session(ssl, e->sess);
        }
    }
    s->ssl = ssl;
    s->ssl_ready = 0;
    s->ssl_alpn[0] = 0;
    return 0;
}

void swco__ssl_detach(swco_socket_t *s)
{
    SSL *ssl = s->ssl;
    if (!ssl)
        return;
    if (s->ssl_ready) {
        session_save(s);
        SSL_shutdown(ssl); /* one non-blocking close_notify, best effort */
    }
    SSL_free(ssl);
    ERR_clear_error();
    s->ssl = NULL;
    s->ssl_ready = 0;
}

/* Map a failed SSL_* call: -EAGAIN with *want, 0 for a clean EOF, or an
 * error code. */
static long ssl_result(swco_socket_t *s, int ret, int *want, const char *what)
{
    int err = SSL_get_error(s->ssl, ret);
    switch (err) {
    case SSL_ERROR_WANT_READ:
        *want = SWCO_EVENT_READ;
        return -EAGAIN;
    case SSL_ERROR_WANT_WRITE:
        *want = SWCO_EVENT_WRITE;
        return -EAGAIN;
    case SSL_ERROR_ZERO_RETURN:
        return 0;
    case SSL_ERROR_SYSCALL:
        if (ERR_peek_error() == 0)
            return errno ? -errno : 0; /* EOF without close_notify: plain EOF */
        return ssl_error(SWCO_ESSL, what);
    default:
        if (!s->ssl_ready && !s->ssl_server && s->ssl_ctx->verify &&
            SSL_get_verify_result(s->ssl) != X509_V_OK) {
            swco__log(SWCO_LOG_DEBUG, "tls: verify: %s",
                      X509_verify_cert_error_string(SSL_get_verify_result(s->ssl)));
            return ssl_error(SWCO_ESSLVERIFY, what);
        }
        return ssl_error(SWCO_ESSL, what);
    }
}

static long handshake_step(swco_socket_t *s, int *want)
{
    ERR_clear_error();
    errno = 0;
    int r = SSL_do_handshake(s->ssl);
    if (r == 1) {
        s->ssl_ready = 1;
        const unsigned char *p;
        unsigned n;
        SSL_get0_alpn_selected(s->ssl, &p, &n);
        if (p && n < sizeof s->ssl_alpn) {
            memcpy(s->ssl_alpn, p, n);
            s->ssl_alpn[n] = 0;
        }
        session_save(s);
        return 0;
    }
    long rc = ssl_result(s, r, want, "handshake");
    return rc == 0 ? -ECONNRESET : rc;
}

int swco__ssl_handshake(swco_socket_t *s, swco__deadline_t deadline)
{
    for (;;) {
        if (!s->ssl)
            return s->fd < 0 ? SWCO_ECLOSED : -EINVAL;
        if (s->ssl_ready)
            return 0;
        int want = SWCO_EVENT_READ;
        long rc = handshake_step(s, &want);
        if (rc != -EAGAIN)
            return (int)rc;
        rc = swco__sock_wait(s, want, deadline);
        if (rc)
            return (int)rc;
    }
}

long swco__ssl_read(swco_socket_t *s, void *buf, size_t len, int *want)
{
    if (!s->ssl_ready) {
        long rc = handshake_step(s, want);
        if (rc)
            return rc;
    }
    ERR_clear_error();
    errno = 0;
    int r = SSL_read(s->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
    return r > 0 ? r : ssl_result(s, r, want, "read");
}

long swco__ssl_write(swco_socket_t *s, const void *buf, size_t len, int *want)
{
    if (!s->ssl_ready) {
        long rc = handshake_step(s, want);
        if (rc)
            return rc;
    }
    if (len == 0)
        return 0;
    ERR_clear_error();
    errno = 0;
    int r = SSL_write(s->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
    if (r > 0)
        return r;
    long rc = ssl_result(s, r, want, "write");
    return rc == 0 ? -EPIPE : rc;
}

long swco__ssl_peek(swco_socket_t *s, void *buf, size_t len)
{
    if (!s->ssl_ready || len == 0)
        return -EAGAIN;
    ERR_clear_error();
    errno = 0;
    int r = SSL_peek(s->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
    if (r > 0)
        return r;
    int want;
    return ssl_result(s, r, &want, "peek");
}

/* -------------------------------------------------------------- queries */

int swco_ssl_handshake(swco_socket_t *s, double timeout)
{
    if (!s)
        return swco__fail(-EINVAL);
    if (s->fd < 0)
        return swco__fail(SWCO_ECLOSED);
    if (!s->ssl)
        return swco__fail(-EINVAL);
    if (s->reading || s->writing)
        return swco__fail(-EBUSY);
    /* Held like every socket call that waits: a free during the wait is
     * deferred until this call is done with s. */
    swco__sock_hold(s);
    s->reading = s->writing = 1;
    double t = timeout != 0 ? timeout : swco_socket_get_timeout(s, SWCO_TIMEOUT_READ);
    int rc = swco__ssl_handshake(s, swco__deadline_from_timeout(t));
    s->reading = s->writing = 0;
    swco__sock_release(s);
    return rc ? swco__fail(rc) : 0;
}

const char *swco_ssl_get_alpn(swco_socket_t *s)
{
    return s && s->ssl && s->ssl_ready && s->ssl_alpn[0] ? s->ssl_alpn : NULL;
}

const char *swco_ssl_get_version(swco_socket_t *s)
{
    return s && s->ssl && s->ssl_ready ? SSL_get_version(s->ssl) : NULL;
}

const char *swco_ssl_get_server_name(swco_socket_t *s)
{
    if (!s || !s->ssl || !s->ssl_ready)
        return NULL;
    return SSL_get_servername(s->ssl, TLSEXT_NAMETYPE_host_name);
}

int swco_ssl_session_reused(swco_socket_t *s)
{
    if (!s || !s->ssl || !s->ssl_ready)
        return swco__fail(-EINVAL);
    return SSL_session_reused(s->ssl) ? 1 : 0;
}

int swco_ssl_get_peer_subject(swco_socket_t *s, char *buf, size_t len)
{
    if (!s || !s->ssl || !s->ssl_ready || !buf || len == 0)
        return swco__fail(-EINVAL);
    X509 *x = SSL_get1_peer_certificate(s->ssl);
    if (!x)
        return swco__fail(-ENOENT);
    X509_NAME_oneline(X509_get_subject_name(x), buf, len > INT_MAX ? INT_MAX : (int)len);
    X509_free(x);
    return 0;
}
