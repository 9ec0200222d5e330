/* Placeholder until its owner lands it: see lib/server/server_int.h for
 * what this file owns.  Every function fails with -ENOSYS. */
#include "server/server_int.h"

swco__engine_t *swco__engine_new(swco_server_t *srv, swco__conn_table_t *conns, int reactor_id,
                                 const swco__engine_hooks_t *hooks, void *ud) { return NULL; }
int swco__engine_listen(swco__engine_t *e, swco__listener_t *l, int fd) { return -ENOSYS; }
void swco__engine_stop_accepting(swco__engine_t *e) {}
long swco__engine_count(const swco__engine_t *e) { return 0; }
void swco__engine_close_all(swco__engine_t *e, int reset) {}
void swco__engine_free(swco__engine_t *e) {}
long swco__engine_send(swco__engine_t *e, swco__conn_t *c, const void *data, size_t len, int flags) { return -ENOSYS; }
long long swco__engine_sendfile(swco__engine_t *e, swco__conn_t *c, const char *path, long long offset, long long length) { return -ENOSYS; }
int swco__engine_close(swco__engine_t *e, swco__conn_t *c, int reset) { return -ENOSYS; }
int swco__engine_pause(swco__engine_t *e, swco__conn_t *c, int pause) { return -ENOSYS; }
long swco__engine_sendto(swco__engine_t *e, swco__listener_t *l, const char *addr, int port, const void *data, size_t len) { return -ENOSYS; }
long swco__engine_heartbeat(swco__engine_t *e, int close_them, long long *fds, long max) { return -ENOSYS; }
