/* Placeholder until its owner lands it: see lib/server/server_int.h for
 * what this file owns.  Every function fails with -ENOSYS. */
#include "server/server_int.h"

int swco__srv_manager_run(swco_server_t *srv) { return -ENOSYS; }
int swco__srv_activated_fd(const char *host, int port, int family, int stream) { return -ENOENT; }
