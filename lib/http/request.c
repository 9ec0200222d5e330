/* HTTP requests as the handler sees them: the accessors of swco/http.h's
 * request section, the lists (headers as parsed by the backend; query
 * string and cookies parsed on first use), the streaming body reader, and
 * the server-level calls (swco_http_server_new, the handler slots). */
#include "http/http_int.h"

#include <errno.h>
#include <stdio.h>
#include <strings.h>

/* ----------------------------------------------------------- internals */

int swco__http_request_parse(swco_http_request_t *req, int kind)
{
    if (kind < 0 || kind > SWCO_HTTP_COOKIE)
        return -EINVAL;
    if (req->parsed & (1u << kind))
        return 0;
    int rc = 0;
    if (kind == SWCO_HTTP_GET) {
        rc = swco__http_parse_query(&req->arena, &req->lists[kind], req->query,
                                    strlen(req->query));
    } else if (kind == SWCO_HTTP_COOKIE) {
        if (req->opt && !req->opt->parse_cookie)
            goto done;
        const swco__kvlist_t *h = &req->lists[SWCO_HTTP_HEADER];
        for (size_t i = 0; i < h->n && rc == 0; i++)
            if (h->v[i].name_len == 6 && !strncasecmp(h->v[i].name, "Cookie", 6))
                rc = swco__http_parse_cookies(&req->arena, &req->lists[kind], h->v[i].value,
                                              h->v[i].value_len);
    } else if (kind == SWCO_HTTP_POST) {
        rc = swco__http_body_load(req);
    }
done:
    if (rc == 0)
        req->parsed |= 1u << kind;
    return rc;
}

void swco__http_request_clear(swco_http_request_t *req)
{
    swco__http_body_free(req);
    swco__hbuf_free(&req->body);
    /* lists[HEADER] lives in the arena; the others were malloc'd */
    for (int k = SWCO_HTTP_GET; k <= SWCO_HTTP_COOKIE; k++)
        swco__kv_free(&req->lists[k]);
    memset(&req->lists[SWCO_HTTP_HEADER], 0, sizeof req->lists[SWCO_HTTP_HEADER]);
    req->parsed = 0;
    swco__arena_t a = req->arena;
    req->arena.head = NULL;
    swco__arena_free(&a); /* may hold req itself: last */
}

/* ------------------------------------------------------------- server */

swco_server_t *swco_http_server_new(const char *host, int port, int mode, int sock_type)
{
    swco_server_t *srv = swco_server_new(host, port, mode, sock_type);
    if (!srv)
        return NULL;
    int rc = swco_server_listener_set(srv, 0, "open_http_protocol", "1");
    if (rc < 0) {
        swco_server_free(srv);
        swco__fail(rc);
        return NULL;
    }
    return srv;
}

int swco_http_on_request(swco_server_t *srv, swco_http_handler_fn fn, void *arg,
                         swco_free_fn arg_free)
{
    if (!srv)
        return swco__srv_ret(-EINVAL);
    if (srv->running)
        return swco__srv_ret(-EBUSY);
    return swco__srv_cb_set(&srv->cb[SWCO__CB_REQUEST], (void *)fn, arg, arg_free);
}

int swco_http_listener_on_request(swco_server_t *srv, int listener, swco_http_handler_fn fn,
                                  void *arg, swco_free_fn arg_free)
{
    if (!srv || listener < 0 || listener >= srv->nlisteners)
        return swco__srv_ret(-EINVAL);
    if (srv->running)
        return swco__srv_ret(-EBUSY);
    return swco__srv_cb_set(&srv->listeners[listener]->cb_request, (void *)fn, arg, arg_free);
}

/* ------------------------------------------------------------ request */

const char *swco_http_request_method(const swco_http_request_t *req)
{
    return req ? req->method : NULL;
}

const char *swco_http_request_uri(const swco_http_request_t *req) { return req ? req->uri : NULL; }

const char *swco_http_request_path(const swco_http_request_t *req)
{
    return req ? req->path : NULL;
}

const char *swco_http_request_query_string(const swco_http_request_t *req)
{
    return req ? req->query : NULL;
}

int swco_http_request_version(const swco_http_request_t *req)
{
    return req ? req->version : swco__srv_ret(-EINVAL);
}

long long swco_http_request_fd(const swco_http_request_t *req)
{
    return req ? req->fd : swco__srv_ret(-EINVAL);
}

int swco_http_request_listener(const swco_http_request_t *req)
{
    return req ? req->listener : swco__srv_ret(-EINVAL);
}

const char *swco_http_request_remote_addr(const swco_http_request_t *req)
{
    return req ? req->remote_addr : NULL;
}

int swco_http_request_remote_port(const swco_http_request_t *req)
{
    return req ? req->remote_port : swco__srv_ret(-EINVAL);
}

static const swco__kvlist_t *list_of(swco_http_request_t *req, int kind)
{
    if (!req || kind < 0 || kind > SWCO_HTTP_COOKIE) {
        swco__fail(-EINVAL);
        return NULL;
    }
    int rc = swco__http_request_parse(req, kind);
    if (rc < 0) {
        swco__fail(rc);
        return NULL;
    }
    return &req->lists[kind];
}

const char *swco_http_request_param(swco_http_request_t *req, int kind, const char *name)
{
    const swco__kvlist_t *l = list_of(req, kind);
    if (!l || !name)
        return NULL;
    const swco__kv_t *kv = swco__kv_find(l, name, kind == SWCO_HTTP_HEADER);
    return kv ? kv->value : NULL;
}

size_t swco_http_request_param_count(swco_http_request_t *req, int kind)
{
    const swco__kvlist_t *l = list_of(req, kind);
    return l ? l->n : 0;
}

const char *swco_http_request_param_name(swco_http_request_t *req, int kind, size_t i)
{
    const swco__kvlist_t *l = list_of(req, kind);
    return l && i < l->n ? l->v[i].name : NULL;
}

const char *swco_http_request_param_value(swco_http_request_t *req, int kind, size_t i)
{
    const swco__kvlist_t *l = list_of(req, kind);
    return l && i < l->n ? l->v[i].value : NULL;
}

size_t swco_http_request_param_value_len(swco_http_request_t *req, int kind, size_t i)
{
    const swco__kvlist_t *l = list_of(req, kind);
    return l && i < l->n ? l->v[i].value_len : 0;
}

long long swco_http_request_content_length(const swco_http_request_t *req)
{
    return req ? req->content_length : swco__srv_ret(-EINVAL);
}

long swco_http_request_read(swco_http_request_t *req, void *buf, size_t len, double timeout)
{
    if (!req || (!buf && len) || timeout < 0 || timeout != timeout)
        return swco__srv_ret(-EINVAL);
    if (req->body_state == SWCO__BODY_LOADED || req->body_state == SWCO__BODY_FAILED)
        return 0; /* the body accessors took it */
    if (!req->src || !len)
        return 0;
    long n = req->src->read(req->src_ctx, buf, len, timeout);
    if (n > 0)
        req->body_state = SWCO__BODY_STREAMED;
    return n < 0 ? swco__srv_ret((int)n) : n;
}

const char *swco_http_request_raw_header(const swco_http_request_t *req, size_t *len)
{
    if (!req) {
        swco__fail(-EINVAL);
        return NULL;
    }
    if (len)
        *len = req->raw_header_len;
    return req->raw_header;
}
