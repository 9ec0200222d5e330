/* Channel select: one waiter for the coroutine, one queue entry per case.
 *
 * Each case puts a qwaiter (w.data: the select) on its channel's queue, where a
 * pusher or popper serves it as any other waiter.  Whoever takes a case off
 * its queue (push, pop, close) calls waitq_claim(): the case is marked as the
 * one that fired, the other cases leave their queues at once, and the
 * select's own waiter is the one woken.  So a select completes one case
 * only, and a returned select leaves nothing on any queue.  A timeout or a
 * cancel takes every case off through the select waiter's cancel hook.
 *
 * The cases live in an array of the select object: it must not move while
 * they are queued, hence -EBUSY for add and reset during a wait. */
#include "sync/chan.h"

#include <stdlib.h>

typedef struct sel_case {
    swco_channel_t *chan;
    int push;
    void *value;            /* to push */
    qwaiter_t qw;           /* queued on chan while the select waits */
} sel_case_t;

struct swco_select {
    sel_case_t *cases;
    int n, cap;
    int busy;               /* a wait or try runs */
    int fired;              /* case the last call ended on, -1 none */
    int closed;             /* ... on a closed channel */
    void *value;            /* what the fired pop case took */
    swco__waiter_t w;       /* the coroutine's wait */
};

/* xorshift64*: a fair pick among ready cases needs no more. */
static SWCO__TLS uint64_t rng_state;

static unsigned rand_below(unsigned n)
{
    uint64_t x = rng_state;
    if (SWCO__UNLIKELY(x == 0))
        x = (swco__now_ns() ^ (uint64_t)(uintptr_t)&rng_state) | 1;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return (unsigned)(((x * 0x2545F4914F6CDD1DULL) >> 32) % n);
}

static int case_linked(const sel_case_t *c) { return c->qw.w.link.next != &c->qw.w.link; }

/* Take every queued case but except off its queue. */
static void unlink_cases(swco_select_t *sel, const qwaiter_t *except)
{
    for (int i = 0; i < sel->n; i++) {
        sel_case_t *c = &sel->cases[i];
        if (&c->qw != except && case_linked(c))
            waitq_unlink(&c->qw.w);
    }
}

swco__waiter_t *swco__select_claim(qwaiter_t *qw)
{
    swco_select_t *sel = qw->w.data;
    sel->fired = (int)(SWCO__CONTAINER(qw, sel_case_t, qw) - sel->cases);
    unlink_cases(sel, qw);
    return &sel->w;
}

/* The select waiter's cancel hook (timeout, swco_coroutine_cancel). */
static void select_cancel(swco__waiter_t *w)
{
    unlink_cases(SWCO__CONTAINER(w, swco_select_t, w), NULL);
}

swco_select_t *swco_select_new(void)
{
    swco_select_t *sel = calloc(1, sizeof *sel);
    if (!sel) {
        swco__fail(-ENOMEM);
        return NULL;
    }
    sel->fired = -1;
    return sel;
}

void swco_select_free(swco_select_t *sel)
{
    if (!sel)
        return;
    if (sel->busy) {
        swco__fail(-EBUSY);
        return;
    }
    free(sel->cases);
    free(sel);
}

static int add_case(swco_select_t *sel, swco_channel_t *chan, int push, void *value)
{
    if (!sel || !chan)
        return swco__fail(-EINVAL);
    if (sel->busy)
        return swco__fail(-EBUSY);
    if (sel->n == sel->cap) {
        if (sel->cap >= (1 << 24))
            return swco__fail(-ENOMEM);
        int cap = sel->cap ? sel->cap * 2 : 4;
        sel_case_t *cases = realloc(sel->cases, sizeof *cases * (size_t)cap);
        if (!cases)
            return swco__fail(-ENOMEM);
        sel->cases = cases;
        sel->cap = cap;
    }
    sel_case_t *c = &sel->cases[sel->n];
    *c = (sel_case_t){.chan = chan, .push = push, .value = value};
    swco__list_init(&c->qw.w.link);
    return sel->n++;
}

int swco_select_add_pop(swco_select_t *sel, swco_channel_t *chan) { return add_case(sel, chan, 0, NULL); }

int swco_select_add_push(swco_select_t *sel, swco_channel_t *chan, void *value)
{
    return add_case(sel, chan, 1, value);
}

/* A ready case, each with the same chance (reservoir sampling), or -1. */
static int pick_ready(const swco_select_t *sel)
{
    int chosen = -1;
    unsigned ready = 0;
    for (int i = 0; i < sel->n; i++) {
        const sel_case_t *c = &sel->cases[i];
        if (c->push ? chan_push_ready(c->chan) : chan_pop_ready(c->chan))
            if (rand_below(++ready) == 0)
                chosen = i;
    }
    return chosen;
}

/* Complete ready case i.  A woken coroutine may run before this returns. */
static int run_case(swco_select_t *sel, int i)
{
    sel_case_t *c = &sel->cases[i];
    sel->fired = i;
    if (c->push) {
        int rc = chan_try_push(c->chan, c->value);
        if (rc == SWCO_ECLOSED)
            sel->closed = 1;
        return rc ? swco__fail(rc) : i;
    }
    void *v = NULL;
    int rc = chan_try_pop(c->chan, &v);
    if (rc == SWCO_ECLOSED)
        sel->closed = 1;
    else if (rc == 0)
        sel->value = v;
    else /* not ready after all: cannot happen, nothing ran in between */
        return swco__fail(rc);
    return i;
}

/* Queue every case and wait for one to fire. */
static int wait_cases(swco_select_t *sel, double timeout)
{
    int rc = swco__co_can_wait();
    if (rc != 0)
        return swco__fail(rc);
    for (int i = 0; i < sel->n; i++) {
        sel_case_t *c = &sel->cases[i];
        waitq_t *q = c->push ? &c->chan->producers : &c->chan->consumers;
        c->qw.q = q;
        c->qw.w.data = sel;
        c->qw.value = c->push ? c->value : NULL;
        swco__list_push(&q->head, &c->qw.w.link);
        q->n++;
    }
    sel->w = (swco__waiter_t){.what = "select", .cancel = select_cancel};
    swco__list_init(&sel->w.link);
    rc = swco__wait(&sel->w, timeout);
    unlink_cases(sel, NULL); /* the wait failed before it began */
    if (sel->fired < 0)
        return swco__fail(rc);
    sel_case_t *c = &sel->cases[sel->fired];
    if (rc == SWCO_ECLOSED)
        sel->closed = 1;
    if (c->push)
        return rc ? swco__fail(rc) : sel->fired;
    if (rc == 0)
        sel->value = c->qw.value;
    return sel->fired;
}

static int select_run(swco_select_t *sel, double timeout, int block)
{
    if (!sel || sel->n == 0)
        return swco__fail(-EINVAL);
    if (sel->busy)
        return swco__fail(-EBUSY);
    for (int i = 0; i < sel->n; i++)
        if (chan_foreign(sel->cases[i].chan))
            return swco__fail(-EPERM);
    sel->fired = -1;
    sel->closed = 0;
    sel->value = NULL;
    int i = pick_ready(sel);
    if (i < 0 && !block)
        return swco__fail(-EAGAIN);
    sel->busy = 1;
    int rc = i >= 0 ? run_case(sel, i) : wait_cases(sel, timeout);
    sel->busy = 0;
    return rc;
}

int swco_select_wait(swco_select_t *sel, double timeout) { return select_run(sel, timeout, 1); }
int swco_select_try(swco_select_t *sel) { return select_run(sel, 0, 0); }

void *swco_select_value(const swco_select_t *sel) { return sel ? sel->value : NULL; }
int swco_select_closed(const swco_select_t *sel) { return sel ? sel->closed : swco__fail(-EINVAL); }
int swco_select_count(const swco_select_t *sel) { return sel ? sel->n : swco__fail(-EINVAL); }

int swco_select_index(const swco_select_t *sel)
{
    if (!sel)
        return swco__fail(-EINVAL);
    return sel->fired >= 0 ? sel->fired : swco__fail(-ENOENT);
}

int swco_select_reset(swco_select_t *sel)
{
    if (!sel)
        return swco__fail(-EINVAL);
    if (sel->busy)
        return swco__fail(-EBUSY);
    sel->n = 0;
    sel->fired = -1;
    sel->closed = 0;
    sel->value = NULL;
    return 0;
}
