/* Temporary: weak stand-ins for what server.c and deliver.c (helper
 * "base") define, so that manager.c and task.c link before those land.
 * The real definitions override these; delete this file once they are on
 * main. */
#include "server/server_int.h"

#define WEAK __attribute__((weak))

WEAK SWCO__TLS swco__srv_self_t *swco__srv_self;
static swco__srv_self_t stub_master = {.role = SWCO__ROLE_MASTER, .worker_id = -1};
WEAK swco__srv_self_t *swco__srv_me(void) { return swco__srv_self ? swco__srv_self : &stub_master; }
WEAK double swco__wall_time(void) { return (double)swco__now_ms() / 1e3; }
WEAK int swco__srv_worker_run(swco_server_t *srv, int worker_id) { return 1; }
WEAK void swco__srv_worker_stop(swco_server_t *srv) {}
WEAK int swco_server_shutdown(swco_server_t *srv) { return -ENOSYS; }
