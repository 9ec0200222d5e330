/* Placeholder until its owner lands it: see lib/server/server_int.h for
 * what this file owns.  Every function fails with -ENOSYS. */
#include "server/server_int.h"

long swco__proxy_parse(const char *buf, size_t len, swco__proxy_hdr_t *out) { return -EPROTO; }
