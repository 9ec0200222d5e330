/* placeholder: see http_int.h for what this file owns */
#include "http/http_int.h"

static void *h1_open(swco_server_t *srv, long long fd, int listener)
{
    (void)srv, (void)fd, (void)listener;
    return NULL;
}
static void h1_receive(void *cs, const char *data, size_t len) { (void)cs, (void)data, (void)len; }
static void h1_close(void *cs) { (void)cs; }

const swco__srv_proto_t swco__http1_proto = {"http/1.1", h1_open, h1_receive, h1_close, NULL};

const swco__srv_cb_t *swco__http_handler(const swco_server_t *srv, int listener)
{
    const swco__listener_t *l =
        listener >= 0 && listener < srv->nlisteners ? srv->listeners[listener] : NULL;
    if (l && l->cb_request.fn)
        return &l->cb_request;
    return srv->cb[SWCO__CB_REQUEST].fn ? &srv->cb[SWCO__CB_REQUEST] : NULL;
}
