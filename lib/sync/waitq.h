/* Private to lib/sync/: a FIFO of waiting coroutines with a count. */
#ifndef SWCO_WAITQ_H
#define SWCO_WAITQ_H

#include "internal.h"

typedef struct waitq {
    swco__list_t head;
    long n;
} waitq_t;

/* A wait on one queue: the generic waiter plus what the queue needs.  A
 * channel select puts one qwaiter per case on the cases' queues, with w.data
 * pointing to the select (struct swco_select); its coroutine waits on the
 * select's own waiter, which waitq_claim() returns.  Other waits leave
 * w.data NULL.  (w.data rather than a field of its own: at 80 bytes the
 * zeroing of a waiter on the stack stays a few stores, not a rep stos.) */
typedef struct qwaiter {
    swco__waiter_t w;
    waitq_t *q;             /* NULL once waitq_take() detached it */
    void *value;
} qwaiter_t;

/* For a select's case qw, taken off its queue: mark it as the case that
 * fired, take the select's other cases off their queues and return the
 * waiter to wake (lib/sync/select.c). */
swco__waiter_t *swco__select_claim(qwaiter_t *qw);

/* The waiter to wake for qw, once qw is off its queue: qw's own, or its
 * select's (whose other cases leave their queues: only one case fires). */
static inline swco__waiter_t *waitq_claim(qwaiter_t *qw)
{
    return SWCO__UNLIKELY(qw->w.data != NULL) ? swco__select_claim(qw) : &qw->w;
}

static inline void waitq_init(waitq_t *q)
{
    swco__list_init(&q->head);
    q->n = 0;
}

static inline void waitq_unlink(swco__waiter_t *w)
{
    qwaiter_t *qw = SWCO__CONTAINER(w, qwaiter_t, w);
    swco__list_unlink(&w->link);
    if (qw->q)
        qw->q->n--;
}

/* Oldest waiter, unlinked, or NULL. */
static inline qwaiter_t *waitq_pop(waitq_t *q)
{
    if (swco__list_empty(&q->head))
        return NULL;
    swco__waiter_t *w = SWCO__CONTAINER(q->head.next, swco__waiter_t, link);
    waitq_unlink(w);
    return SWCO__CONTAINER(w, qwaiter_t, w);
}

/* End w's wait (from waitq_claim()) without a switch, for a rendezvous
 * (Go's order): from a coroutine, w's coroutine joins the run queue and runs
 * when the caller next waits or yields; the thread's own context cannot
 * wait, so there it runs at once, as swco__co_wake() does. */
static inline void waitq_handoff(swco__waiter_t *w)
{
    swco__sched_t *s = swco__tls_sched;
    if (s->current == &s->main) {
        swco__co_wake(w, 0);
        return;
    }
    if (w->timer) { /* the wait is over: its timeout must not fire */
        swco__timer_del(w->timer);
        w->timer = 0;
    }
    swco__co_ready(s, w, 0);
}

/* Wait on q (FIFO) up to timeout seconds.  Always inline, as swco__wait. */
static inline __attribute__((always_inline)) int waitq_wait(waitq_t *q, qwaiter_t *qw, const char *what, double timeout)
{
    int rc = swco__co_can_wait();
    if (rc != 0)
        return rc;
    qw->w.what = what;
    qw->w.cancel = waitq_unlink;
    qw->q = q;
    swco__list_push(&q->head, &qw->w.link);
    q->n++;
    rc = swco__wait(&qw->w, timeout);
    if (qw->w.link.next != &qw->w.link)
        waitq_unlink(&qw->w); /* the wait failed before it began */
    return rc;
}

/* Move every waiter of q to the local list *to (initialised here).  A
 * moved waiter no longer counts in q: cancelling it (or its select taking
 * it off) only unlinks it, q may be gone by then. */
static inline void waitq_take(waitq_t *q, swco__list_t *to)
{
    swco__list_init(to);
    while (!swco__list_empty(&q->head)) {
        swco__list_t *l = q->head.next;
        swco__list_unlink(l);
        swco__list_push(to, l);
        SWCO__CONTAINER(l, qwaiter_t, w.link)->q = NULL;
    }
    q->n = 0;
}

/* Wake every waiter of a detached list with result.  Woken coroutines run
 * at once and may free the object the list came from: touch nothing else. */
static inline void waitq_wake_list(swco__list_t *list, int result)
{
    while (!swco__list_empty(list)) {
        swco__waiter_t *w = SWCO__CONTAINER(list->next, swco__waiter_t, link);
        swco__list_unlink(&w->link);
        swco__co_wake(waitq_claim(SWCO__CONTAINER(w, qwaiter_t, w)), result);
    }
}

/* Wake every waiter of q with result. */
static inline void waitq_wake_all(waitq_t *q, int result)
{
    swco__list_t local;
    waitq_take(q, &local);
    waitq_wake_list(&local, result);
}

#endif
