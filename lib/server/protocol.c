/* Codecs on listeners: which protocol a listener's connections speak, and
 * each worker's table of connection states under their protocol.
 *
 * The table is the calling worker's (a thread-local: a THREAD-mode worker
 * is a thread), indexed by the connection's kernel descriptor (the low 24
 * bits of its id) and checked against the whole id, so an event of a
 * closed connection never reaches the state of a later one on the same
 * descriptor. */
#include "server/server_int.h"

#include <stdlib.h>

typedef struct slot {
    long long id;            /* 0: free */
    const swco__srv_proto_t *proto;
    void *cs;
} slot_t;

typedef struct ptab {
    slot_t *slots;
    size_t cap;
    long live;
} ptab_t;

static SWCO__TLS ptab_t tab;

static size_t kfd_of(long long id) { return (size_t)(id & (SWCO__CONN_FD_MAX - 1)); }

static slot_t *find(long long id)
{
    size_t k = kfd_of(id);
    if (id <= 0 || k >= tab.cap || tab.slots[k].id != id)
        return NULL;
    return &tab.slots[k];
}

static slot_t *claim(long long id)
{
    size_t k = kfd_of(id);
    if (id <= 0)
        return NULL;
    if (k >= tab.cap) {
        size_t cap = tab.cap ? tab.cap : 64;
        while (cap <= k)
            cap *= 2;
        slot_t *s = realloc(tab.slots, cap * sizeof *s);
        if (!s)
            return NULL;
        memset(s + tab.cap, 0, (cap - tab.cap) * sizeof *s);
        tab.slots = s;
        tab.cap = cap;
    }
    return &tab.slots[k];
}

static void drop(slot_t *s)
{
    s->id = 0;
    s->proto = NULL;
    s->cs = NULL;
    if (--tab.live == 0) {
        free(tab.slots);
        tab.slots = NULL;
        tab.cap = 0;
    }
}

const swco__srv_proto_t *swco__srv_proto_for(const swco__listener_t *l)
{
    if (!l || !l->stream)
        return NULL;
    if (l->opt.http.enabled || l->opt.http.websocket)
        return &swco__http1_proto;
    return NULL;
}

void *swco__srv_proto_state(long long fd, const swco__srv_proto_t *p)
{
    slot_t *s = find(fd);
    return s && (!p || s->proto == p) ? s->cs : NULL;
}

int swco__srv_proto_switch(long long fd, const swco__srv_proto_t *p, void *cs)
{
    slot_t *s = find(fd);
    if (!s || !p || !cs)
        return SWCO_ENOCONN;
    s->proto = p;
    s->cs = cs;
    return 0;
}

void swco__srv_proto_each(const swco__srv_proto_t *p, int (*fn)(long long fd, void *cs, void *arg),
                          void *arg)
{
    for (size_t k = 0; k < tab.cap; k++) {
        slot_t *s = &tab.slots[k];
        if (s->id && (!p || s->proto == p) && fn(s->id, s->cs, arg))
            return;
    }
}

/* deliver.c's side: 1 when the event was the protocol's. */

int swco__srv_proto_open(swco_server_t *srv, const swco__listener_t *l, long long fd)
{
    if (!l || !l->proto)
        return 0;
    slot_t *s = claim(fd);
    if (s && s->id && s->id != fd) {
        /* The connection that had this descriptor before: its close is
         * still on its way from another reactor thread (PROCESS mode).
         * Close its state now; that late close then finds no match. */
        const swco__srv_proto_t *p = s->proto;
        void *old = s->cs;
        s->id = 0;
        s->proto = NULL;
        s->cs = NULL;
        tab.live--;
        p->close(old);
    }
    void *cs = s ? l->proto->open(srv, fd, l->index) : NULL;
    if (!cs) {
        swco_server_close(srv, fd, 1);
        return 1;
    }
    if (!s->id)
        tab.live++;
    s->id = fd;
    s->proto = l->proto;
    s->cs = cs;
    return 1;
}

int swco__srv_proto_receive(swco_server_t *srv, const swco__listener_t *l, long long fd,
                            const char *data, size_t len)
{
    if (!l || !l->proto)
        return 0;
    slot_t *s = find(fd);
    if (!s) {
        /* its connect went elsewhere (or was refused): open it now */
        swco__srv_proto_open(srv, l, fd);
        if (!(s = find(fd)))
            return 1;
    }
    s->proto->receive(s->cs, data, len);
    return 1;
}

void swco__srv_proto_close(long long fd)
{
    slot_t *s = find(fd);
    if (!s)
        return;
    const swco__srv_proto_t *p = s->proto;
    void *cs = s->cs;
    drop(s);
    p->close(cs);
}

void swco__srv_proto_buffer(long long fd, int full)
{
    slot_t *s = find(fd);
    if (s && s->proto->buffer)
        s->proto->buffer(s->cs, full);
}
