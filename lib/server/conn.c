/* Placeholder until its owner lands it: see lib/server/server_int.h for
 * what this file owns.  Every function fails with -ENOSYS. */
#include "server/server_int.h"

int swco__conn_table_init(swco__conn_table_t *t, size_t cap, int shared, int owner) { return -ENOSYS; }
void swco__conn_table_free(swco__conn_table_t *t) {}
swco__conn_t *swco__conn_open(swco__conn_table_t *t, int fd) { return NULL; }
swco__conn_t *swco__conn_lookup(const swco__conn_table_t *t, long long id) { return NULL; }
long long swco__conn_id(const swco__conn_table_t *t, const swco__conn_t *c) { return -ENOSYS; }
void swco__conn_release(swco__conn_table_t *t, swco__conn_t *c) {}
void swco__conn_describe(const swco_server_t *srv, const swco__conn_t *c, swco_server_client_info_t *info) {}
