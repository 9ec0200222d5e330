/* libcurl transfers that yield the calling coroutine.
 *
 * Design: a private multi handle per transfer, driven on the owning
 * coroutine's stack.  swco_curl_perform() adds the easy handle to a multi
 * handle of its own and loops on the coroutine: it calls
 * curl_multi_socket_action() for every fd event and timer expiry, then
 * suspends until the reactor reports the next one.  The reactor callbacks
 * (fd events, the multi's timer) only record what happened and resume the
 * coroutine; they never call into libcurl.  So every libcurl callback of the
 * transfer (write, header, read, progress, debug) runs on the owning
 * coroutine's stack, and a callback may itself wait on coroutine I/O: while
 * it does, events for the transfer's sockets are parked (their interest
 * switched off, so a level-triggered backend does not spin) and replayed when
 * the callback returns.  The other shape, one CURLM per thread with each
 * callback switched into its coroutine, would have the reactor's stack
 * inside libcurl while the coroutine runs the callback; a callback that
 * waits would then have to unwind through libcurl, which it cannot.
 *
 * Connection reuse: a multi handle owns the connection cache, so the multi
 * handles outlive their transfers.  Idle ones are pooled per thread, and a
 * transfer takes back the multi its easy handle used last when it is idle:
 * a second swco_curl_perform() on the same handle reuses the connection
 * exactly as curl_easy_perform() does with the multi it keeps in the easy
 * handle.  swco_curl_cleanup() closes the pool.
 *
 * An easy handle in a transfer is in a multi handle; curl_multi_add_handle()
 * refuses it a second time (CURLM_ADDED_ALREADY), which is how a perform on
 * a handle that another coroutine is using fails cleanly. */
#include "internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <swco/curl.h>

typedef struct xfer xfer_t;

/* A pooled multi handle. */
typedef struct cmulti {
    CURLM *multi;
    const CURL *last_easy; /* compared only, never dereferenced */
    xfer_t *x;             /* the transfer using it, NULL when idle */
    int hashed;            /* in the pool's hash under last_easy */
    swco__list_t socks;    /* csock_t.link: every socket libcurl told us of */
    swco__list_t spare;    /* csock_t.link: freed ones, for reuse */
    swco__list_t link;     /* idle pool */
} cmulti_t;

/* One socket libcurl watches, kept as libcurl's socketp. */
typedef struct csock {
    cmulti_t *m;
    int fd;
    int want;       /* SWCO_EVENT_* libcurl asked for */
    int registered; /* with the reactor */
    int paused;     /* interest switched off while events are parked */
    int pending;    /* CURL_CSELECT_* parked for the coroutine */
    swco__list_t link;  /* cmulti_t.socks */
    swco__list_t plink; /* xfer_t.pending, when pending */
} csock_t;

struct xfer {
    swco__waiter_t w;
    cmulti_t *m;
    int waiting;        /* suspended in the perform loop (not in a callback) */
    int timer_due;
    int spins;          /* timers acted on at once since the last suspend */
    long timer;         /* reactor timer id, 0 if none */
    swco__list_t pending;
};

/* The thread's idle multi handles: a list, most recently used last, and an
 * open-addressing hash (linear probing) from the easy handle that used a
 * multi last to that multi, so a transfer finds its own in O(1) however
 * many idle ones there are (a scan of the list cost more than the rest of
 * swco_curl_perform once a few dozen were idle). */
#define POOL_MAX 256
#define POOL_HASH 512 /* a power of two, at least 2 * POOL_MAX */
typedef struct pool {
    swco__list_t idle;
    int len;
    cmulti_t *slot[POOL_HASH];
} pool_t;
static SWCO__TLS pool_t *tls_pool;

/* ----------------------------------------------------- reactor side */

static void xfer_kick(xfer_t *x)
{
    if (x->waiting) {
        x->waiting = 0;
        swco__co_wake(&x->w, 0);
    }
}

static void sock_event(int fd, int events, void *arg)
{
    csock_t *s = arg;
    xfer_t *x = s->m->x;
    if (!x) { /* no transfer: nothing should watch it any more */
        swco_event_del(fd);
        s->registered = 0;
        return;
    }
    int mask = 0;
    if (events & SWCO_EVENT_READ)
        mask |= CURL_CSELECT_IN;
    if (events & SWCO_EVENT_WRITE)
        mask |= CURL_CSELECT_OUT;
    if (events & SWCO_EVENT_ERROR)
        mask |= CURL_CSELECT_ERR;
    if (!s->pending)
        swco__list_push(&x->pending, &s->plink);
    s->pending |= mask;
    if (x->waiting) {
        xfer_kick(x);
    } else if (!s->paused && s->registered) {
        /* The coroutine is busy in a callback: park the fd until it is back. */
        swco_event_modify(fd, 0);
        s->paused = 1;
    }
}

static void timer_fire(long id, void *arg)
{
    xfer_t *x = arg;
    x->timer = 0;
    x->timer_due = 1;
    xfer_kick(x);
}

/* ------------------------------------------------- libcurl callbacks */

static void sock_unregister(csock_t *s)
{
    if (s->registered)
        swco_event_del(s->fd);
    s->registered = 0;
    s->paused = 0;
}

static void sock_unpend(csock_t *s)
{
    if (s->pending) {
        swco__list_unlink(&s->plink);
        s->pending = 0;
    }
}

static int sock_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    cmulti_t *m = userp;
    csock_t *s = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (s) {
            sock_unregister(s);
            sock_unpend(s);
            swco__list_unlink(&s->link);
            curl_multi_assign(m->multi, fd, NULL);
            swco__list_push(&m->spare, &s->link); /* the next one reuses it */
        }
        return 0;
    }
    if (!s) {
        if (!swco__list_empty(&m->spare)) {
            s = SWCO__CONTAINER(m->spare.prev, csock_t, link);
            swco__list_unlink(&s->link);
            memset(s, 0, sizeof *s);
        } else if (!(s = calloc(1, sizeof *s))) {
            return -1;
        }
        s->m = m;
        s->fd = fd;
        swco__list_init(&s->plink);
        swco__list_push(&m->socks, &s->link);
        curl_multi_assign(m->multi, fd, s);
    }
    s->want = (what & CURL_POLL_IN ? SWCO_EVENT_READ : 0) |
              (what & CURL_POLL_OUT ? SWCO_EVENT_WRITE : 0);
    if (!m->x)
        return 0;
    if (!s->want) { /* CURL_POLL_NONE: known, not watched (yet) */
        sock_unregister(s);
        return 0;
    }
    if (!s->registered) {
        int rc = swco_event_add(fd, s->want, sock_event, s, NULL);
        if (rc == -EEXIST) {
            /* A stale registration of a closed fd that had this number. */
            swco_event_del(fd);
            rc = swco_event_add(fd, s->want, sock_event, s, NULL);
        }
        if (rc != 0)
            return -1;
        s->registered = 1;
        s->paused = 0;
    } else if (!s->paused) {
        if (swco_event_modify(fd, s->want) != 0)
            return -1;
    }
    return 0;
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    cmulti_t *m = userp;
    xfer_t *x = m->x;
    if (!x)
        return 0;
    if (x->timer) {
        swco__timer_del(x->timer);
        x->timer = 0;
    }
    x->timer_due = 0;
    if (timeout_ms == 0 && x->spins < 16) {
        /* Due now: the perform loop acts on it as soon as this callback has
         * returned, before it suspends (libcurl forbids acting from inside
         * the callback).  A reactor timer would cost a loop turn. */
        x->timer_due = 1;
        x->spins++;
    } else if (timeout_ms > 0) {
        long id = swco__timer_add(timeout_ms, timer_fire, x);
        if (id < 0)
            return -1;
        x->timer = id;
    }
    return 0;
}

/* ------------------------------------------------------------- pool */

static pool_t *pool_get(void)
{
    if (!tls_pool) {
        tls_pool = calloc(1, sizeof *tls_pool);
        if (tls_pool)
            swco__list_init(&tls_pool->idle);
    }
    return tls_pool;
}

static size_t pool_hash(const CURL *easy)
{
    uint64_t k = (uint64_t)(uintptr_t)easy >> 4;
    return (size_t)((k * 0x9E3779B97F4A7C15ull) >> 55) & (POOL_HASH - 1);
}

static long pool_find(pool_t *p, const CURL *easy)
{
    for (size_t i = pool_hash(easy);; i = (i + 1) & (POOL_HASH - 1)) {
        if (!p->slot[i])
            return -1;
        if (p->slot[i]->last_easy == easy)
            return (long)i;
    }
}

/* Remove slot i, shifting back the entries of its probe run. */
static void pool_unhash(pool_t *p, size_t i)
{
    p->slot[i]->hashed = 0;
    p->slot[i] = NULL;
    for (size_t j = (i + 1) & (POOL_HASH - 1); p->slot[j]; j = (j + 1) & (POOL_HASH - 1)) {
        size_t h = pool_hash(p->slot[j]->last_easy);
        /* j's entry may move to i if its home is not in (i, j] */
        if (((j - h) & (POOL_HASH - 1)) >= ((j - i) & (POOL_HASH - 1))) {
            p->slot[i] = p->slot[j];
            p->slot[j] = NULL;
            i = j;
        }
    }
}

static void pool_rehash_put(pool_t *p, cmulti_t *m)
{
    size_t i = pool_hash(m->last_easy);
    for (; p->slot[i]; i = (i + 1) & (POOL_HASH - 1))
        if (p->slot[i]->last_easy == m->last_easy) {
            p->slot[i]->hashed = 0; /* an older multi of that easy: list only */
            break;
        }
    p->slot[i] = m;
    m->hashed = 1;
}

static cmulti_t *multi_new(void)
{
    cmulti_t *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->multi = curl_multi_init();
    if (!m->multi) {
        free(m);
        return NULL;
    }
    swco__list_init(&m->socks);
    swco__list_init(&m->spare);
    swco__list_init(&m->link);
    curl_multi_setopt(m->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
    curl_multi_setopt(m->multi, CURLMOPT_SOCKETDATA, m);
    curl_multi_setopt(m->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(m->multi, CURLMOPT_TIMERDATA, m);
    return m;
}

static void multi_free(cmulti_t *m)
{
    curl_multi_cleanup(m->multi); /* may call sock_cb(REMOVE) */
    while (!swco__list_empty(&m->socks)) {
        csock_t *s = SWCO__CONTAINER(m->socks.next, csock_t, link);
        sock_unregister(s);
        swco__list_unlink(&s->link);
        free(s);
    }
    while (!swco__list_empty(&m->spare)) {
        swco__list_t *l = m->spare.next;
        swco__list_unlink(l);
        free(SWCO__CONTAINER(l, csock_t, link));
    }
    free(m);
}

static cmulti_t *multi_take(const CURL *easy)
{
    pool_t *p = pool_get();
    if (!p)
        return NULL;
    cmulti_t *m = NULL;
    long i = pool_find(p, easy);
    if (i >= 0) {
        m = p->slot[i];
    } else if (!swco__list_empty(&p->idle)) {
        m = SWCO__CONTAINER(p->idle.prev, cmulti_t, link); /* the most recently used */
        if (m->hashed)
            i = pool_find(p, m->last_easy);
    }
    if (!m)
        return multi_new();
    if (i >= 0)
        pool_unhash(p, (size_t)i);
    swco__list_unlink(&m->link);
    p->len--;
    return m;
}

static void multi_give_back(cmulti_t *m, const CURL *easy)
{
    m->last_easy = easy;
    m->x = NULL;
    /* Sockets of cached connections are not watched between transfers. */
    for (swco__list_t *l = m->socks.next; l != &m->socks; l = l->next)
        sock_unregister(SWCO__CONTAINER(l, csock_t, link));
    pool_t *p = pool_get();
    if (!p || p->len >= POOL_MAX) {
        multi_free(m);
        return;
    }
    swco__list_push(&p->idle, &m->link);
    p->len++;
    if (easy)
        pool_rehash_put(p, m);
}

int swco_curl_cleanup(void)
{
    pool_t *p = tls_pool;
    if (!p)
        return 0;
    tls_pool = NULL;
    while (!swco__list_empty(&p->idle)) {
        swco__list_t *l = p->idle.next;
        swco__list_unlink(l);
        multi_free(SWCO__CONTAINER(l, cmulti_t, link));
    }
    free(p);
    return 0;
}

/* ---------------------------------------------------------- perform */

static void xfer_cancel(swco__waiter_t *w)
{
    xfer_t *x = SWCO__CONTAINER(w, xfer_t, w);
    x->waiting = 0;
}

/* Run every parked event and a due timer through libcurl. */
static int xfer_drive(xfer_t *x)
{
    int running;
    CURLMcode mc = CURLM_OK;
    if (x->timer_due) {
        x->timer_due = 0;
        mc = curl_multi_socket_action(x->m->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    }
    while (mc == CURLM_OK && !swco__list_empty(&x->pending)) {
        csock_t *s = SWCO__CONTAINER(x->pending.next, csock_t, plink);
        int fd = s->fd, mask = s->pending;
        sock_unpend(s);
        if (s->paused) {
            s->paused = 0;
            if (s->registered)
                swco_event_modify(fd, s->want);
        }
        mc = curl_multi_socket_action(x->m->multi, fd, mask, &running);
    }
    return mc;
}

static int xfer_done(xfer_t *x, CURL *easy, CURLcode *result)
{
    int left;
    CURLMsg *msg;
    while ((msg = curl_multi_info_read(x->m->multi, &left)) != NULL)
        if (msg->msg == CURLMSG_DONE && msg->easy_handle == easy) {
            *result = msg->data.result;
            return 1;
        }
    return 0;
}

CURLcode swco_curl_perform(CURL *easy)
{
    if (!easy)
        return CURLE_BAD_FUNCTION_ARGUMENT;
    if (!swco__co_current())
        return curl_easy_perform(easy);
    if (!swco__reactor_get()) {
        swco__fail(-ENOMEM);
        return CURLE_OUT_OF_MEMORY;
    }
    cmulti_t *m = multi_take(easy);
    if (!m) {
        swco__fail(-ENOMEM);
        return CURLE_OUT_OF_MEMORY;
    }
    xfer_t x = {.m = m};
    x.w.what = "curl";
    x.w.cancel = xfer_cancel;
    swco__list_init(&x.pending);
    m->x = &x;
    /* Sockets of pooled connections are watched again for this transfer. */
    for (swco__list_t *l = m->socks.next; l != &m->socks; l = l->next) {
        csock_t *s = SWCO__CONTAINER(l, csock_t, link);
        if (s->want && swco_event_add(s->fd, s->want, sock_event, s, NULL) == 0)
            s->registered = 1;
    }

    CURLcode result = CURLE_OK;
    CURLMcode mc = curl_multi_add_handle(m->multi, easy);
    if (mc != CURLM_OK) {
        result = mc == CURLM_OUT_OF_MEMORY ? CURLE_OUT_OF_MEMORY : CURLE_FAILED_INIT;
        swco__fail(mc == CURLM_ADDED_ALREADY ? -EBUSY : SWCO_ECURL);
        if (x.timer)
            swco__timer_del(x.timer);
        multi_give_back(m, NULL);
        return result;
    }
    for (;;) {
        mc = xfer_drive(&x);
        if (mc != CURLM_OK) {
            swco__log(SWCO_LOG_ERROR, "curl: %s", curl_multi_strerror(mc));
            swco__fail(SWCO_ECURL);
            result = mc == CURLM_OUT_OF_MEMORY ? CURLE_OUT_OF_MEMORY : CURLE_FAILED_INIT;
            break;
        }
        if (xfer_done(&x, easy, &result))
            break;
        if (x.timer_due || !swco__list_empty(&x.pending))
            continue;
        x.waiting = 1;
        x.spins = 0;
        int rc = swco__co_suspend(&x.w);
        x.waiting = 0;
        if (rc == -ECANCELED) {
            swco__fail(-ECANCELED);
            result = CURLE_ABORTED_BY_CALLBACK;
            break;
        }
    }
    curl_multi_remove_handle(m->multi, easy);
    while (!swco__list_empty(&x.pending))
        sock_unpend(SWCO__CONTAINER(x.pending.next, csock_t, plink));
    if (x.timer)
        swco__timer_del(x.timer);
    x.timer = 0;
    multi_give_back(m, easy);
    return result;
}
