/* Channels: a ring buffer plus FIFO queues of waiting pushers and poppers.
 * A value is handed straight to a waiting popper when there is one, and a
 * waiting pusher's value moves into the buffer as soon as there is room, so
 * arrival order is kept.
 *
 * Who runs next: with a buffer (Swoole's channels) the woken side runs at
 * once and the waker continues when it yields.  Unbuffered, a push and a pop
 * meet as in Go: the side that arrives second completes and goes on, and the
 * waiting side runs when that caller next waits or yields.  A ping-pong costs two
 * switches per round trip instead of four.
 *
 * A channel belongs to the thread that created it: its waiters are that
 * thread's coroutines, which only that thread's scheduler may switch to.
 * A push, pop or close from any other thread would wake or park them on
 * the wrong scheduler (or none), so it fails with -EPERM instead. */
#include "sync/chan.h"

#include <stdlib.h>

SWCO__TLS char swco__chan_thread_mark;

static inline int foreign(const swco_channel_t *ch) { return chan_foreign(ch); }

swco_channel_t *swco_channel_new_ex(long capacity, swco_free_fn item_free)
{
    if (capacity < 0 || capacity > (1L << 40)) {
        swco__fail(-EINVAL);
        return NULL;
    }
    swco_channel_t *ch = calloc(1, sizeof *ch);
    long slots = capacity ? capacity : 1;
    if (ch)
        ch->ring = malloc(sizeof(void *) * (size_t)slots);
    if (!ch || !ch->ring) {
        free(ch);
        swco__fail(-ENOMEM);
        return NULL;
    }
    ch->capacity = capacity;
    ch->item_free = item_free;
    ch->owner = &swco__chan_thread_mark;
    waitq_init(&ch->producers);
    waitq_init(&ch->consumers);
    return ch;
}

swco_channel_t *swco_channel_new(long capacity) { return swco_channel_new_ex(capacity, NULL); }

int swco_channel_push(swco_channel_t *ch, void *value, double timeout)
{
    if (!ch)
        return swco__fail(-EINVAL);
    if (SWCO__UNLIKELY(foreign(ch)))
        return swco__fail(-EPERM);
    int rc = chan_try_push(ch, value);
    if (rc != -EAGAIN)
        return rc ? swco__fail(rc) : 0;
    qwaiter_t self = {.value = value};
    rc = waitq_wait(&ch->producers, &self, "channel push", timeout);
    return rc ? swco__fail(rc) : 0;
}

int swco_channel_pop(swco_channel_t *ch, void **value, double timeout)
{
    if (!ch || !value)
        return swco__fail(-EINVAL);
    if (SWCO__UNLIKELY(foreign(ch)))
        return swco__fail(-EPERM);
    int rc = chan_try_pop(ch, value);
    if (rc != -EAGAIN)
        return rc ? swco__fail(rc) : 0;
    qwaiter_t self = {.value = NULL};
    rc = waitq_wait(&ch->consumers, &self, "channel pop", timeout);
    if (rc)
        return swco__fail(rc);
    *value = self.value;
    return 0;
}

int swco_channel_close(swco_channel_t *ch)
{
    if (!ch)
        return swco__fail(-EINVAL);
    if (foreign(ch))
        return swco__fail(-EPERM);
    if (ch->closed)
        return swco__fail(SWCO_ECLOSED);
    ch->closed = 1;
    /* Detach both queues first: a woken coroutine may free the channel. */
    swco__list_t consumers, producers;
    waitq_take(&ch->consumers, &consumers);
    waitq_take(&ch->producers, &producers);
    waitq_wake_list(&consumers, SWCO_ECLOSED);
    waitq_wake_list(&producers, SWCO_ECLOSED);
    return 0;
}

void swco_channel_free(swco_channel_t *ch)
{
    if (!ch)
        return;
    if (foreign(ch)) {
        /* Another thread may free it once nobody waits: there is no one to
         * wake.  Waiters of the owner's would be left on freed memory. */
        if (ch->producers.n > 0 || ch->consumers.n > 0) {
            swco__fail(-EPERM);
            return;
        }
        ch->closed = 1;
    }
    if (!ch->closed)
        swco_channel_close(ch);
    while (ch->len > 0) {
        void *v = chan_ring_take(ch);
        if (ch->item_free)
            ch->item_free(v);
    }
    free(ch->ring);
    free(ch);
}

int swco_channel_is_closed(const swco_channel_t *ch) { return ch ? ch->closed : swco__fail(-EINVAL); }
long swco_channel_length(const swco_channel_t *ch) { return ch ? ch->len : swco__fail(-EINVAL); }
long swco_channel_capacity(const swco_channel_t *ch) { return ch ? ch->capacity : swco__fail(-EINVAL); }
long swco_channel_producers(const swco_channel_t *ch) { return ch ? ch->producers.n : swco__fail(-EINVAL); }
long swco_channel_consumers(const swco_channel_t *ch) { return ch ? ch->consumers.n : swco__fail(-EINVAL); }
