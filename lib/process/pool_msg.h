/* The process pool's socket-mode message reader (see pool_msg.c). */
#ifndef SWCO_POOL_MSG_H
#define SWCO_POOL_MSG_H

#include <stddef.h>

typedef struct swco__pool_msg {
    unsigned char hdr[4];
    size_t hdr_got; /* header bytes read, 0..4 */
    size_t len;     /* announced body length, once the header is in */
    size_t max;     /* largest body accepted */
    char *buf;      /* body so far (malloc'd) */
    size_t got, cap;
} swco__pool_msg_t;

/* An empty reader for bodies up to max bytes. */
void swco__pool_msg_init(swco__pool_msg_t *m, size_t max);
/* Release the body buffer. */
void swco__pool_msg_free(swco__pool_msg_t *m);
/* Where the next bytes go and how many the message still takes there
 * (*room > 0).  NULL with *room 0 when the message is complete (or the
 * announced length is too large), NULL on out of memory. */
void *swco__pool_msg_space(swco__pool_msg_t *m, size_t *room);
/* n bytes were written at the last space.  Returns 1 when the message is
 * complete (body: buf, len), 0 when more is needed, -EMSGSIZE when the
 * announced length exceeds max, -ENOMEM, -EINVAL when n exceeds the room. */
int swco__pool_msg_commit(swco__pool_msg_t *m, size_t n);
/* Copy in up to n bytes of data; *used is how many were taken (none past
 * the end of the message).  Returns as commit. */
int swco__pool_msg_feed(swco__pool_msg_t *m, const void *data, size_t n, size_t *used);

#endif
