/* Private to lib/sync/: a channel's state and the steps of push and pop
 * that never wait, shared by channel.c and select.c (a select case is a
 * push or pop that waits on several channels at once). */
#ifndef SWCO_CHAN_H
#define SWCO_CHAN_H

#include "internal.h"
#include "sync/waitq.h"

struct swco_channel {
    long capacity;
    long head, len;
    void **ring;            /* max(capacity, 1) slots */
    int closed;
    swco_free_fn item_free;
    waitq_t producers;      /* qwaiter.value: the value to push */
    waitq_t consumers;      /* qwaiter.value: receives the value */
    const void *owner;      /* &swco__chan_thread_mark of the creating thread */
};

/* Its address differs in every live thread: one instruction to name the
 * caller, where pthread_self() would be a call. */
extern SWCO__TLS char swco__chan_thread_mark;

static inline int chan_foreign(const swco_channel_t *ch) { return ch->owner != &swco__chan_thread_mark; }

static inline void chan_ring_put(swco_channel_t *ch, void *v)
{
    ch->ring[(ch->head + ch->len) % ch->capacity] = v;
    ch->len++;
}

static inline void *chan_ring_take(swco_channel_t *ch)
{
    void *v = ch->ring[ch->head];
    ch->head = (ch->head + 1) % ch->capacity;
    ch->len--;
    return v;
}

/* Whether chan_try_push()/chan_try_pop() would end without -EAGAIN. */
static inline int chan_push_ready(const swco_channel_t *ch)
{
    return ch->closed || ch->consumers.n > 0 || ch->len < ch->capacity;
}

static inline int chan_pop_ready(const swco_channel_t *ch)
{
    return ch->len > 0 || ch->producers.n > 0 || ch->closed;
}

/* Push without waiting: 0, SWCO_ECLOSED, or -EAGAIN when it would wait.  A
 * waiting popper gets value (see channel.h for who runs first). */
static inline __attribute__((always_inline)) int chan_try_push(swco_channel_t *ch, void *value)
{
    if (ch->closed)
        return SWCO_ECLOSED;
    qwaiter_t *c = waitq_pop(&ch->consumers);
    if (c) {
        c->value = value;
        if (ch->capacity == 0)
            waitq_handoff(waitq_claim(c));
        else
            swco__co_wake(waitq_claim(c), 0);
        return 0;
    }
    if (ch->len < ch->capacity) {
        chan_ring_put(ch, value);
        return 0;
    }
    return -EAGAIN;
}

/* Pop without waiting into *value: 0, SWCO_ECLOSED (closed and drained), or
 * -EAGAIN when it would wait.  A waiting pusher's value moves into the room
 * made (buffered) or straight into *value (unbuffered). */
static inline __attribute__((always_inline)) int chan_try_pop(swco_channel_t *ch, void **value)
{
    if (ch->len > 0) {
        *value = chan_ring_take(ch);
        qwaiter_t *p = waitq_pop(&ch->producers);
        if (p) {
            chan_ring_put(ch, p->value);
            swco__co_wake(waitq_claim(p), 0);
        }
        return 0;
    }
    qwaiter_t *p = waitq_pop(&ch->producers); /* unbuffered: take from the pusher */
    if (p) {
        *value = p->value;
        waitq_handoff(waitq_claim(p));
        return 0;
    }
    return ch->closed ? SWCO_ECLOSED : -EAGAIN;
}

#endif
