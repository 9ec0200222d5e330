/* The connection table: one slot per kernel fd, so finding a connection by
 * its id is an index and a compare.  An id carries the slot's generation,
 * bumped at each open, so the id of a closed connection never names the
 * next one that gets the same fd.  The slots are an anonymous mapping:
 * pages no connection touched cost nothing, and MAP_SHARED lets PROCESS
 * mode's workers read what the master's reactor threads write. */
#include "server/server_int.h"

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

int swco__conn_table_init(swco__conn_table_t *t, size_t cap, int shared, int owner)
{
    if (!t || cap == 0 || cap > SWCO__CONN_FD_MAX)
        return -EINVAL;
    size_t bytes = cap * sizeof(swco__conn_t);
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                   (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return -ENOMEM;
    t->cap = cap;
    t->slots = p; /* zero pages: every slot FREE, generation 0 */
    t->shared = shared != 0;
    t->owner = owner;
    return 0;
}

void swco__conn_table_free(swco__conn_table_t *t)
{
    if (!t || !t->slots)
        return;
    munmap(t->slots, t->cap * sizeof(swco__conn_t));
    t->slots = NULL;
    t->cap = 0;
}

swco__conn_t *swco__conn_open(swco__conn_table_t *t, int fd)
{
    if (!t || !t->slots || fd < 0 || (size_t)fd >= t->cap)
        return NULL;
    swco__conn_t *c = &t->slots[fd];
    uint32_t gen = (c->gen + 1) & 0xffffffu;
    if (gen == 0)
        gen = 1; /* generation 0 never names an open connection */
    memset(c, 0, sizeof *c);
    c->gen = gen;
    c->fd = fd;
    c->worker_id = (int16_t)(t->owner > 0 ? t->owner : 0);
    __atomic_store_n(&c->state, SWCO__CONN_OPEN, __ATOMIC_RELEASE);
    return c;
}

swco__conn_t *swco__conn_lookup(const swco__conn_table_t *t, long long id)
{
    if (!t || !t->slots || id <= 0)
        return NULL;
    int fd = (int)(id & (SWCO__CONN_FD_MAX - 1));
    uint32_t gen = (uint32_t)((id >> 24) & 0xffffff);
    if (swco__conn_id_owner(id) != t->owner || (size_t)fd >= t->cap || gen == 0)
        return NULL;
    swco__conn_t *c = &t->slots[fd];
    if (__atomic_load_n(&c->state, __ATOMIC_ACQUIRE) != SWCO__CONN_OPEN || c->gen != gen)
        return NULL;
    return c;
}

long long swco__conn_id(const swco__conn_table_t *t, const swco__conn_t *c)
{
    if (!t || !c)
        return -EINVAL;
    return swco__conn_make_id(t->owner, c->gen, c->fd);
}

void swco__conn_release(swco__conn_table_t *t, swco__conn_t *c)
{
    (void)t;
    if (!c)
        return;
    c->io = NULL;
    __atomic_store_n(&c->state, SWCO__CONN_FREE, __ATOMIC_RELEASE);
}

void swco__conn_describe(const swco_server_t *srv, const swco__conn_t *c,
                         swco_server_client_info_t *info)
{
    if (!c || !info)
        return;
    swco_server_client_info_t full;
    memset(&full, 0, sizeof full);
    full.size = sizeof full;
    full.listener = c->listener;
    if (srv && c->listener < srv->nlisteners && srv->listeners && srv->listeners[c->listener]) {
        const swco__listener_t *l = srv->listeners[c->listener];
        full.sock_type = l->sock_type;
        full.server_port = l->port;
    }
    full.reactor_id = c->reactor_id;
    full.worker_id = c->worker_id;
    size_t n = strnlen(c->addr, sizeof c->addr);
    if (n >= sizeof full.addr)
        n = sizeof full.addr - 1;
    memcpy(full.addr, c->addr, n);
    full.addr[n] = 0;
    full.port = c->port;
    full.connect_time = c->connect_time;
    full.last_recv_time = c->last_recv_time;
    full.last_send_time = c->last_send_time;
    full.uid = c->uid;
    full.recv_bytes = c->recv_bytes;
    full.send_bytes = c->send_bytes;
    full.send_queued = c->send_queued;
    full.paused = c->paused;
    full.ssl = c->ssl;
    swco__struct_fill(info, &full, sizeof full);
}
