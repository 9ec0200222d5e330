/* The socket-mode message reader of the process pool: a 4-byte big-endian
 * length, then that many bytes.  Bytes arrive in any split; the reader
 * never asks for more than the message still needs (whatever the client
 * sends after it is left unread), and grows its buffer with the bytes
 * that actually arrived, so an announced length costs no memory until the
 * client sends the data.  It needs nothing of the rest of the library
 * but, in libswco, internal.h's allocation wrappers (lib/core/alloc.c). */
#include "internal.h"
#include "process/pool_msg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* First body allocation: most messages fit, large ones grow by doubling. */
#define FIRST_CAP 4096

void swco__pool_msg_init(swco__pool_msg_t *m, size_t max)
{
    memset(m, 0, sizeof *m);
    m->max = max;
}

void swco__pool_msg_free(swco__pool_msg_t *m)
{
    free(m->buf);
    m->buf = NULL;
    m->got = m->cap = 0;
}

void *swco__pool_msg_space(swco__pool_msg_t *m, size_t *room)
{
    if (m->hdr_got < 4) {
        *room = 4 - m->hdr_got;
        return m->hdr + m->hdr_got;
    }
    if (m->got >= m->len || m->len > m->max) {
        *room = 0;
        return NULL;
    }
    if (m->got == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : FIRST_CAP;
        if (cap > m->len || cap < m->cap)
            cap = m->len;
        char *b = realloc(m->buf, cap);
        if (!b) {
            *room = 0;
            return NULL;
        }
        m->buf = b;
        m->cap = cap;
    }
    *room = m->cap - m->got;
    return m->buf + m->got;
}

int swco__pool_msg_commit(swco__pool_msg_t *m, size_t n)
{
    if (m->hdr_got < 4) {
        if (n > 4 - m->hdr_got)
            return -EINVAL;
        m->hdr_got += n;
        if (m->hdr_got < 4)
            return 0;
        m->len = (size_t)m->hdr[0] << 24 | (size_t)m->hdr[1] << 16 | (size_t)m->hdr[2] << 8 |
                 (size_t)m->hdr[3];
        if (m->len > m->max)
            return -EMSGSIZE;
    } else {
        if (n > m->cap - m->got || n > m->len - m->got)
            return -EINVAL;
        m->got += n;
    }
    if (m->got < m->len)
        return 0;
    if (!m->buf) {
        /* An empty message still hands the callback a valid pointer. */
        m->buf = malloc(1);
        if (!m->buf)
            return -ENOMEM;
        m->cap = 1;
    }
    return 1;
}

int swco__pool_msg_feed(swco__pool_msg_t *m, const void *data, size_t n, size_t *used)
{
    size_t u = 0;
    int rc = 0;
    while (u < n) {
        size_t room;
        if (m->hdr_got == 4 && m->len > m->max) {
            rc = -EMSGSIZE;
            break;
        }
        if (m->hdr_got == 4 && m->got >= m->len && m->buf) {
            rc = 1;
            break;
        }
        void *dst = swco__pool_msg_space(m, &room);
        if (!dst) {
            rc = -ENOMEM;
            break;
        }
        size_t k = n - u < room ? n - u : room;
        memcpy(dst, (const char *)data + u, k);
        u += k;
        rc = swco__pool_msg_commit(m, k);
        if (rc != 0)
            break;
    }
    *used = u;
    return rc;
}
