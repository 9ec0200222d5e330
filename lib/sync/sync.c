/* WaitGroup, coroutine mutex and condition variable. */
#include "internal.h"
#include "sync/waitq.h"

#include <stdlib.h>

struct swco_waitgroup {
    long count;
    waitq_t waiters;
};

struct swco_mutex {
    swco__co_t *owner;
    waitq_t waiters;
};

struct swco_cond {
    waitq_t waiters;
};

/* ------------------------------------------------------------ WaitGroup */

swco_waitgroup_t *swco_waitgroup_new(void)
{
    swco_waitgroup_t *wg = calloc(1, sizeof *wg);
    if (!wg) {
        swco__fail(-ENOMEM);
        return NULL;
    }
    waitq_init(&wg->waiters);
    return wg;
}

void swco_waitgroup_free(swco_waitgroup_t *wg)
{
    if (!wg)
        return;
    waitq_wake_all(&wg->waiters, SWCO_ECLOSED);
    free(wg);
}

int swco_waitgroup_add(swco_waitgroup_t *wg, long delta)
{
    if (!wg)
        return swco__fail(-EINVAL);
    if (delta < 0 ? wg->count + delta < 0 : wg->count > (1L << 62) - delta)
        return swco__fail(-ERANGE);
    wg->count += delta;
    if (wg->count == 0)
        waitq_wake_all(&wg->waiters, 0);
    return 0;
}

int swco_waitgroup_done(swco_waitgroup_t *wg) { return swco_waitgroup_add(wg, -1); }

int swco_waitgroup_wait(swco_waitgroup_t *wg, double timeout)
{
    if (!wg)
        return swco__fail(-EINVAL);
    if (wg->count == 0)
        return 0;
    qwaiter_t self = {.value = NULL};
    int rc = waitq_wait(&wg->waiters, &self, "waitgroup", timeout);
    return rc ? swco__fail(rc) : 0;
}

long swco_waitgroup_count(const swco_waitgroup_t *wg) { return wg ? wg->count : swco__fail(-EINVAL); }

/* ---------------------------------------------------------------- mutex */

swco_mutex_t *swco_mutex_new(void)
{
    swco_mutex_t *m = calloc(1, sizeof *m);
    if (!m) {
        swco__fail(-ENOMEM);
        return NULL;
    }
    waitq_init(&m->waiters);
    return m;
}

void swco_mutex_free(swco_mutex_t *m)
{
    if (!m)
        return;
    waitq_wake_all(&m->waiters, SWCO_ECLOSED);
    free(m);
}

int swco_mutex_lock(swco_mutex_t *m, double timeout)
{
    if (!m)
        return swco__fail(-EINVAL);
    swco__co_t *self = swco__co_current();
    if (!self)
        return swco__fail(SWCO_ENOTCO);
    if (!m->owner) {
        m->owner = self;
        return 0;
    }
    if (m->owner == self)
        return swco__fail(-EDEADLK);
    qwaiter_t w = {.value = NULL};
    int rc = waitq_wait(&m->waiters, &w, "mutex", timeout);
    return rc ? swco__fail(rc) : 0; /* on success unlock handed it to us */
}

int swco_mutex_trylock(swco_mutex_t *m)
{
    if (!m)
        return swco__fail(-EINVAL);
    swco__co_t *self = swco__co_current();
    if (!self)
        return swco__fail(SWCO_ENOTCO);
    if (m->owner)
        return swco__fail(-EBUSY);
    m->owner = self;
    return 0;
}

int swco_mutex_unlock(swco_mutex_t *m)
{
    if (!m)
        return swco__fail(-EINVAL);
    if (!m->owner || m->owner != swco__co_current())
        return swco__fail(-EPERM);
    qwaiter_t *next = waitq_pop(&m->waiters);
    m->owner = next ? next->w.co : NULL;
    if (next)
        swco__co_wake(&next->w, 0);
    return 0;
}

/* ----------------------------------------------------- condition variable */

swco_cond_t *swco_cond_new(void)
{
    swco_cond_t *c = calloc(1, sizeof *c);
    if (!c) {
        swco__fail(-ENOMEM);
        return NULL;
    }
    waitq_init(&c->waiters);
    return c;
}

void swco_cond_free(swco_cond_t *c)
{
    if (!c)
        return;
    waitq_wake_all(&c->waiters, SWCO_ECLOSED);
    free(c);
}

int swco_cond_wait(swco_cond_t *c, swco_mutex_t *m, double timeout)
{
    if (!c || !m)
        return swco__fail(-EINVAL);
    swco__co_t *self = swco__co_current();
    if (!self)
        return swco__fail(SWCO_ENOTCO);
    if (m->owner != self)
        return swco__fail(-EPERM);
    qwaiter_t w = {.value = NULL};
    swco_mutex_unlock(m);
    int rc = waitq_wait(&c->waiters, &w, "condition", timeout);
    /* Take the mutex back, whatever ended the wait. */
    int lrc = 0;
    if (!m->owner) {
        m->owner = self;
    } else {
        qwaiter_t mw = {.value = NULL};
        lrc = waitq_wait(&m->waiters, &mw, "mutex", -1);
    }
    if (rc == 0)
        rc = lrc;
    return rc ? swco__fail(rc) : 0;
}

int swco_cond_signal(swco_cond_t *c)
{
    if (!c)
        return swco__fail(-EINVAL);
    qwaiter_t *w = waitq_pop(&c->waiters);
    if (w)
        swco__co_wake(&w->w, 0);
    return 0;
}

int swco_cond_broadcast(swco_cond_t *c)
{
    if (!c)
        return swco__fail(-EINVAL);
    waitq_wake_all(&c->waiters, 0);
    return 0;
}
