/* Placeholder until its owner lands it: see lib/server/server_int.h for
 * what this file owns.  Every function fails with -ENOSYS. */
#include "server/server_int.h"

int swco__srv_ipc_prepare(swco_server_t *srv) { return 0; }
int swco__srv_ipc_attach(swco_server_t *srv, int worker_id) { return 0; }
void swco__srv_ipc_free(swco_server_t *srv) {}
int swco__srv_task_worker_run(swco_server_t *srv, int worker_id) { return 1; }
