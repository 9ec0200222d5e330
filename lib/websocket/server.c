/* placeholder: WebSocket server (see lib/http/http_int.h, swco/websocket.h) */
#include "http/http_int.h"

static void *ws_open(swco_server_t *srv, long long fd, int listener)
{
    (void)srv, (void)fd, (void)listener;
    return NULL;
}
static void ws_receive(void *cs, const char *data, size_t len) { (void)cs, (void)data, (void)len; }
static void ws_close(void *cs) { (void)cs; }

const swco__srv_proto_t swco__ws_proto = {"websocket", ws_open, ws_receive, ws_close, NULL};

void *swco__ws_server_accept(swco_http_request_t *req, swco_http_response_t *resp)
{
    (void)req, (void)resp;
    return NULL;
}
