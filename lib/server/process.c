/* Placeholder until its owner lands it: see lib/server/server_int.h for
 * what this file owns.  Every function fails with -ENOSYS. */
#include "server/server_int.h"

static int process_start(swco_server_t *srv) { return -ENOSYS; }
static int process_worker_body(swco_server_t *srv, int worker_id) { return -ENOSYS; }
static void process_stop_accepting(swco_server_t *srv) {}
static const swco__srv_ops_t process_ops;
const swco__srv_mode_t swco__srv_mode_process = {process_start, process_worker_body, process_stop_accepting, &process_ops};
