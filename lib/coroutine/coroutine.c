/* The scheduler: coroutine create/resume/yield, waits, cancel, defer, local
 * storage, stats, binding hooks, and the guard-page overflow report.
 *
 * Each thread has one scheduler (swco__tls_sched).  A coroutine's control block
 * sits at the top of its own stack mapping, so creating one from the stack
 * pool costs no malloc and an idle coroutine touches as few pages as
 * possible.  Every switch into a coroutine goes through swco__co_resume(), which
 * records who to return to (origin) and frees a coroutine that ended; every
 * switch out goes back to that origin (Swoole's order), unless the run queue
 * holds a coroutine that a rendezvous made runnable: that one goes first and
 * inherits the origin (Go's order, for unbuffered channels only). */
#include "internal.h"

#include <execinfo.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#ifdef SWCO_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

#define STACK_MIN (16 * 1024)
#define STACK_MAX ((size_t)1 << 30)
#define GUARD_DEFAULT (64 * 1024)
#define GUARD_MAX ((size_t)1 << 30)

const char swco__wait_yield[] = "yield";

SWCO__TLS swco__sched_t *swco__tls_sched;

/* max_coroutine is per process and exact: process_live counts the
 * coroutines alive in every thread, one compare-and-swap per create and one
 * subtract per end.  (Permits cached per thread saved those two atomics but
 * let an idle thread hoard up to 128 of them, refusing creates elsewhere
 * while the process was below the limit.)  Each thread's line of the
 * counter is touched only by its creates and ends; cids, which need no
 * exactness, are still taken in batches. */
static long process_live;           /* atomic: coroutines alive in the process */
static long next_cid = 1;           /* atomic */
#define CID_BATCH 1024              /* cids a thread takes at a time */
static long max_coroutine = 100000;
static size_t default_stack_size = SWCO_DEFAULT_STACK_SIZE;
static size_t default_guard_size = GUARD_DEFAULT;
swco_coroutine_hook_fn swco__hook_fn;
void *swco__hook_arg;
static swco_free_fn hook_arg_free; /* releases swco__hook_arg when replaced */

/* Count one more coroutine in the process, or -1 at the limit. */
static inline int live_take(void)
{
    long cur = __atomic_load_n(&process_live, __ATOMIC_RELAXED);
    do {
        if (cur >= __atomic_load_n(&max_coroutine, __ATOMIC_RELAXED))
            return -1;
    } while (!__atomic_compare_exchange_n(&process_live, &cur, cur + 1, 1, __ATOMIC_RELAXED,
                                          __ATOMIC_RELAXED));
    return 0;
}

static void guard_install(swco__sched_t *s);
static void guard_release(swco__sched_t *s);

/* ------------------------------------------------------------ scheduler */

/* In a child after fork(): the parent's coroutines stay behind in the
 * parent.  The child runs on whatever stack fork() was called from, and
 * its next swco_run() or create starts a fresh scheduler there. */
static swco__sched_t *forgotten; /* kept reachable, never used again */

static void sched_forget_after_fork(void)
{
    if (swco__tls_sched) {
        swco__tls_sched->forgotten_next = forgotten;
        forgotten = swco__tls_sched;
    }
    swco__tls_sched = NULL;
    __atomic_store_n(&process_live, 0, __ATOMIC_RELAXED);
}

static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static void atfork_register(void) { pthread_atfork(NULL, NULL, sched_forget_after_fork); }

static swco__sched_t *sched_get(void)
{
    swco__sched_t *s = swco__tls_sched;
    if (SWCO__LIKELY(s != NULL))
        return s;
    pthread_once(&atfork_once, atfork_register);
    s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->nbuckets = 1024;
    s->buckets = calloc(s->nbuckets, sizeof *s->buckets);
    if (!s->buckets) {
        free(s);
        return NULL;
    }
    swco__list_init(&s->all);
    s->main.cid = 0;
    s->main.pcid = 0;
    s->main.state = SWCO__CO_RUNNING;
    s->current = &s->main;
#ifdef SWCO_ASAN
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        void *addr;
        size_t size;
        pthread_attr_getstack(&attr, &addr, &size);
        s->main_bottom = addr;
        s->main_size = size;
        pthread_attr_destroy(&attr);
    }
#endif
    guard_install(s);
    swco__tls_sched = s;
    return s;
}

void swco__sched_release(void)
{
    swco__sched_t *s = swco__tls_sched;
    if (!s || s->live > 0 || s->current != &s->main)
        return;
    for (int i = 0; i < s->npool; i++)
        swco__stack_free(&s->pool[i]);
    if (swco__hook_fn && s->main.hook_slot)
        swco__hook_fn(SWCO_COROUTINE_END, 0, &s->main.hook_slot, swco__hook_arg);
    guard_release(s);
    free(s->buckets);
    free(s);
    swco__tls_sched = NULL;
}

static void table_insert(swco__sched_t *s, swco__co_t *co)
{
    if ((size_t)s->live > s->nbuckets) {
        size_t n = s->nbuckets * 2;
        swco__co_t **b = calloc(n, sizeof *b);
        if (b) { /* if not, chains just get longer */
            for (size_t i = 0; i < s->nbuckets; i++) {
                swco__co_t *c = s->buckets[i], *next;
                for (; c; c = next) {
                    next = c->hnext;
                    size_t h = (size_t)c->cid & (n - 1);
                    c->hnext = b[h];
                    b[h] = c;
                }
            }
            free(s->buckets);
            s->buckets = b;
            s->nbuckets = n;
        }
    }
    size_t h = (size_t)co->cid & (s->nbuckets - 1);
    co->hnext = s->buckets[h];
    s->buckets[h] = co;
}

static void table_remove(swco__sched_t *s, swco__co_t *co)
{
    swco__co_t **pp = &s->buckets[(size_t)co->cid & (s->nbuckets - 1)];
    while (*pp && *pp != co)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = co->hnext;
}

static swco__co_t *lookup(long cid)
{
    swco__sched_t *s = swco__tls_sched;
    if (!s || cid <= 0)
        return NULL;
    swco__co_t *co = s->buckets[(size_t)cid & (s->nbuckets - 1)];
    while (co && co->cid != cid)
        co = co->hnext;
    return co;
}

/* --------------------------------------------------------------- switch */

void swco__co_free(swco__sched_t *s, swco__co_t *co)
{
    swco__stack_t st = co->stack;
    int pooled = co->pooled;
    table_remove(s, co);
    swco__list_unlink(&co->link);
    s->live--;
    __atomic_sub_fetch(&process_live, 1, __ATOMIC_RELAXED);
    size_t usable = (size_t)((char *)st.hi - (char *)st.lo);
    size_t guard = (size_t)((char *)st.lo - (char *)st.base);
    if (pooled && s->npool < SWCO__STACK_POOL_MAX && usable == s->pool_usable &&
        guard == s->pool_guard) {
        s->pool[s->npool++] = st;
    } else {
        s->stack_bytes -= st.size;
        swco__stack_free(&st);
    }
}

/* Entered only to report where we wait: unwind our own stack, go back to
 * the asker, and stay suspended until really resumed. */
__attribute__((noinline)) void swco__co_answer_backtrace(swco__sched_t *s, swco__co_t *co)
{
    while (s->bt && s->bt->target == co) {
        swco__bt_request_t *req = s->bt;
        req->n = backtrace(req->frames, req->max);
        s->bt = NULL;
        co->state = SWCO__CO_SUSPENDED;
        swco__switch_to(s, co, co->origin);
    }
}

static void run_defers_and_locals(swco__co_t *co)
{
    /* Defers may add defers or locals; take them one at a time. */
    for (;;) {
        swco__defer_entry_t *d = co->defers;
        if (d) {
            co->defers = d->next;
            d->fn(d->arg);
            if (d->arg_free)
                d->arg_free(d->arg);
            free(d);
            continue;
        }
        swco__local_entry_t *l = co->locals;
        if (l) {
            co->locals = l->next;
            if (l->value_free)
                l->value_free(l->value);
            free(l);
            continue;
        }
        break;
    }
}

static void co_entry(void *arg)
{
    swco__co_t *co = arg;
#ifdef SWCO_ASAN
    __sanitizer_finish_switch_fiber(NULL, NULL, NULL);
#endif
    co->fn(co->arg);
    run_defers_and_locals(co);
    if (co->arg_free)
        co->arg_free(co->arg);
    if (swco__hook_fn)
        swco__hook_fn(SWCO_COROUTINE_END, co->cid, &co->hook_slot, swco__hook_arg);
    swco__sched_t *s = swco__tls_sched;
    co->state = SWCO__CO_DEAD;
    s->zombie = co; /* freed off this stack, by the resume it returns to */
    swco__switch_to(s, co, co->origin);
    abort(); /* a dead coroutine is never switched to */
}

static int stack_get(swco__sched_t *s, swco__stack_t *st, size_t size, int *pooled)
{
    size_t guard = default_guard_size;
    if (size == default_stack_size) {
        if (s->pool_usable != size || s->pool_guard != guard) {
            /* a default changed: drop the old pool */
            for (int i = 0; i < s->npool; i++) {
                s->stack_bytes -= s->pool[i].size;
                swco__stack_free(&s->pool[i]);
            }
            s->npool = 0;
            s->pool_usable = size;
            s->pool_guard = guard;
        }
        *pooled = 1;
        if (s->npool > 0) {
            *st = s->pool[--s->npool];
            goto done;
        }
    } else {
        *pooled = 0;
    }
    int rc = swco__stack_alloc(st, size, guard);
    if (rc != 0)
        return rc;
    s->stack_bytes += st->size;
done:
#ifdef SWCO_ASAN
    /* A reused stack, or memory mapped where an old one was, still carries
     * the poison of frames that never returned. */
    ASAN_UNPOISON_MEMORY_REGION(st->lo, (size_t)((char *)st->hi - (char *)st->lo));
#endif
    return 0;
}

long swco_coroutine_create_ex(swco_fn fn, void *arg, swco_free_fn arg_free, size_t stack_size)
{
    if (!fn)
        return swco__fail(-EINVAL);
    if (stack_size == 0)
        stack_size = default_stack_size;
    else if (stack_size < STACK_MIN)
        stack_size = STACK_MIN;
    else if (stack_size > STACK_MAX)
        return swco__fail(-EINVAL);
    swco__sched_t *s = sched_get();
    if (!s)
        return swco__fail(-ENOMEM);
    if (live_take() != 0)
        return swco__fail(SWCO_ECOLIMIT);
    swco__stack_t st;
    int pooled;
    if (stack_get(s, &st, stack_size, &pooled) != 0) {
        __atomic_sub_fetch(&process_live, 1, __ATOMIC_RELAXED);
        return swco__fail(-ENOMEM);
    }
    /* The control block lives at the top of the stack. */
    swco__co_t *co = (swco__co_t *)(((uintptr_t)st.hi - sizeof(swco__co_t)) & ~(uintptr_t)63);
    if (s->cid_next == s->cid_end) {
        s->cid_next = __atomic_fetch_add(&next_cid, CID_BATCH, __ATOMIC_RELAXED);
        s->cid_end = s->cid_next + CID_BATCH;
    }
    /* Every field set one by one: a zero fill of the block first would be
     * a rep stos, slower than the stores.  (link and ctx are set below.) */
    co->origin = NULL;
    co->waiter = NULL;
    co->cid = s->cid_next++;
    co->pcid = s->current->cid;
    co->state = SWCO__CO_READY;
    co->cancelled = 0;
    co->fn = fn;
    co->arg = arg;
    co->arg_free = arg_free;
    co->defers = NULL;
    co->locals = NULL;
    co->hook_slot = NULL;
    co->hnext = NULL;
    co->stack = st;
    co->pooled = pooled;
    swco__stack_t usable = st;
    usable.hi = co;
    swco__ctx_make(&co->ctx, &usable, co_entry);
    s->live++;
    if (s->live > s->peak)
        s->peak = s->live;
    s->created++;
    table_insert(s, co);
    swco__list_push(&s->all, &co->link);
    if (swco__hook_fn)
        swco__hook_fn(SWCO_COROUTINE_CREATE, co->cid, &co->hook_slot, swco__hook_arg);
    long cid = co->cid; /* co may be gone when swco__co_resume returns */
    swco__co_resume(s, co);
    return cid;
}

long swco_coroutine_create(swco_fn fn, void *arg)
{
    return swco_coroutine_create_ex(fn, arg, NULL, 0);
}

/* ----------------------------------------------------------------- waits */

swco__co_t *swco__co_current(void)
{
    swco__sched_t *s = swco__tls_sched;
    return s && s->current != &s->main ? s->current : NULL;
}

long swco__co_cid(const swco__co_t *co) { return co ? co->cid : 0; }

long swco__co_live(void)
{
    swco__sched_t *s = swco__tls_sched;
    return s ? s->live : 0;
}

const swco__waiter_t *swco__co_waiter(const swco__co_t *co) { return co->waiter; }

void swco__co_foreach(void (*fn)(swco__co_t *co, void *arg), void *arg)
{
    swco__sched_t *s = swco__tls_sched;
    if (!s)
        return;
    for (swco__list_t *l = s->all.next; l != &s->all; l = l->next)
        fn(SWCO__CONTAINER(l, swco__co_t, link), arg);
}

static void cancel_co(swco__co_t *co)
{
    co->cancelled = 1;
    swco__waiter_t *w = co->waiter;
    if (w) {
        if (w->cancel)
            w->cancel(w);
        swco__co_wake(w, -ECANCELED);
    }
}

void swco__co_cancel_all(void)
{
    swco__sched_t *s = swco__tls_sched;
    if (!s)
        return;
    /* Waking one may end or create others: collect ids first. */
    long n = s->live, k = 0;
    long *ids = malloc(sizeof(long) * (size_t)(n ? n : 1));
    if (!ids)
        return;
    for (swco__list_t *l = s->all.next; l != &s->all && k < n; l = l->next)
        ids[k++] = SWCO__CONTAINER(l, swco__co_t, link)->cid;
    for (long i = 0; i < k; i++) {
        swco__co_t *co = lookup(ids[i]);
        if (co && co != s->current)
            cancel_co(co);
    }
    free(ids);
}

void swco__co_run_ready(void)
{
    swco__sched_t *s = swco__tls_sched;
    if (!s || s->current != &s->main)
        return;
    while (s->ready_head) {
        swco__co_t *co = s->ready_head;
        s->ready_head = co->rnext;
        swco__co_resume(s, co);
    }
}

/* ------------------------------------------------------------ public API */

int swco_coroutine_yield(void)
{
    swco__waiter_t w = {.what = swco__wait_yield};
    int rc = swco__co_suspend(&w);
    return rc < 0 ? swco__fail(rc) : 0;
}

int swco_coroutine_resume(long cid)
{
    swco__co_t *co = lookup(cid);
    if (!co)
        return swco__fail(SWCO_ENOCO);
    if (!co->waiter || co->waiter->what != swco__wait_yield)
        return swco__fail(SWCO_ECOSTATE);
    swco__co_wake(co->waiter, 0);
    return 0;
}

int swco_coroutine_cancel(long cid)
{
    swco__co_t *co = lookup(cid);
    if (!co)
        return swco__fail(SWCO_ENOCO);
    if (co == swco__tls_sched->current)
        return swco__fail(SWCO_ECOSTATE);
    cancel_co(co);
    return 0;
}

int swco_coroutine_is_cancelled(void)
{
    swco__co_t *co = swco__co_current();
    return co ? co->cancelled : 0;
}

long swco_coroutine_id(void)
{
    swco__sched_t *s = swco__tls_sched;
    return s ? s->current->cid : 0;
}

long swco_coroutine_parent_id(long cid)
{
    if (cid == 0) {
        swco__co_t *co = swco__co_current();
        return co ? co->pcid : 0;
    }
    swco__co_t *co = lookup(cid);
    return co ? co->pcid : swco__fail(SWCO_ENOCO);
}

int swco_coroutine_exists(long cid) { return lookup(cid) != NULL; }

const char *swco_coroutine_wait_reason(long cid)
{
    swco__co_t *co = lookup(cid);
    if (!co)
        return NULL;
    if (co->waiter)
        return co->waiter->what;
    return co == swco__tls_sched->current ? "running" : "runnable";
}

long swco_coroutine_backtrace(long cid, void **frames, long max)
{
    if (!frames || max <= 0 || max > 4096)
        return swco__fail(-EINVAL);
    swco__sched_t *s = swco__tls_sched;
    if (cid == swco_coroutine_id() && cid > 0)
        return backtrace(frames, (int)max);
    swco__co_t *co = lookup(cid);
    if (!co)
        return swco__fail(SWCO_ENOCO);
    if (!co->waiter) /* it is switched away in a resume of its own: no wait frame */
        return swco__fail(SWCO_ECOSTATE);
    swco__bt_request_t req = {.target = co, .frames = frames, .max = (int)max, .n = 0};
    swco__co_t *self = s->current;
    s->bt = &req;
    co->origin = self;
    self->state = SWCO__CO_SUSPENDED;
    swco__switch_to(s, self, co);
    self->state = SWCO__CO_RUNNING;
    return req.n;
}

int swco_coroutine_print_backtrace(long cid, int fd)
{
    void *frames[64];
    long n = swco_coroutine_backtrace(cid, frames, 64);
    if (n < 0)
        return (int)n;
    backtrace_symbols_fd(frames, (int)n, fd);
    return (int)n;
}

int swco_defer(swco_fn fn, void *arg, swco_free_fn arg_free)
{
    swco__co_t *co = swco__co_current();
    if (!co)
        return swco__fail(SWCO_ENOTCO);
    if (!fn)
        return swco__fail(-EINVAL);
    swco__defer_entry_t *d = malloc(sizeof *d);
    if (!d)
        return swco__fail(-ENOMEM);
    d->fn = fn;
    d->arg = arg;
    d->arg_free = arg_free;
    d->next = co->defers;
    co->defers = d;
    return 0;
}

int swco_coroutine_set_local(const void *key, void *value, swco_free_fn value_free)
{
    swco__co_t *co = swco__co_current();
    if (!co)
        return swco__fail(SWCO_ENOTCO);
    if (!key)
        return swco__fail(-EINVAL);
    for (swco__local_entry_t *l = co->locals; l; l = l->next) {
        if (l->key == key) {
            void *old = l->value;
            swco_free_fn old_free = l->value_free;
            l->value = value;
            l->value_free = value_free;
            if (old_free && old != value)
                old_free(old);
            return 0;
        }
    }
    swco__local_entry_t *l = malloc(sizeof *l);
    if (!l)
        return swco__fail(-ENOMEM);
    l->key = key;
    l->value = value;
    l->value_free = value_free;
    l->next = co->locals;
    co->locals = l;
    return 0;
}

void *swco_coroutine_get_local(const void *key)
{
    swco__co_t *co = swco__co_current();
    if (!co)
        return NULL;
    for (swco__local_entry_t *l = co->locals; l; l = l->next)
        if (l->key == key)
            return l->value;
    return NULL;
}

int swco_coroutine_stats(swco_coroutine_stats_t *out)
{
    if (!out || out->size < SWCO__STRUCT_V1_SIZE(swco_coroutine_stats_t, pooled_stacks))
        return swco__fail(-EINVAL);
    swco__sched_t *s = swco__tls_sched;
    swco_coroutine_stats_t st;
    memset(&st, 0, sizeof st);
    st.max = swco_coroutine_get_max();
    st.stack_size = default_stack_size;
    if (s) {
        st.live = s->live;
        st.peak = s->peak;
        st.created = s->created;
        st.stack_bytes = s->stack_bytes;
        st.pooled_stacks = s->npool;
    }
    swco__struct_fill(out, &st, sizeof st);
    return 0;
}

long swco_coroutine_count(void) { return swco__co_live(); }

long swco_coroutine_list(long *cids, long max)
{
    if (max < 0 || (max > 0 && !cids))
        return swco__fail(-EINVAL);
    swco__sched_t *s = swco__tls_sched;
    if (!s)
        return 0;
    long k = 0;
    for (swco__list_t *l = s->all.next; l != &s->all && k < max; l = l->next)
        cids[k++] = SWCO__CONTAINER(l, swco__co_t, link)->cid;
    return s->live;
}

int swco_coroutine_set_max(long max)
{
    if (max < 1)
        return swco__fail(-EINVAL);
    __atomic_store_n(&max_coroutine, max, __ATOMIC_RELAXED);
    return 0;
}

long swco_coroutine_get_max(void) { return __atomic_load_n(&max_coroutine, __ATOMIC_RELAXED); }

int swco_coroutine_set_stack_size(size_t bytes)
{
    if (bytes < STACK_MIN || bytes > STACK_MAX)
        return swco__fail(-EINVAL);
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    default_stack_size = (bytes + page - 1) & ~(page - 1);
    return 0;
}

size_t swco_coroutine_get_stack_size(void) { return default_stack_size; }

int swco_coroutine_set_guard_size(size_t bytes)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    if (bytes < page || bytes > GUARD_MAX)
        return swco__fail(-EINVAL);
    default_guard_size = (bytes + page - 1) & ~(page - 1);
    return 0;
}

size_t swco_coroutine_get_guard_size(void) { return default_guard_size; }

int swco_coroutine_set_hook(swco_coroutine_hook_fn fn, void *arg, swco_free_fn arg_free)
{
    if (__atomic_load_n(&process_live, __ATOMIC_RELAXED) > 0)
        return swco__fail(SWCO_ECOSTATE);
    void *old_arg = swco__hook_arg;
    swco_free_fn old_free = hook_arg_free;
    swco__hook_fn = fn;
    swco__hook_arg = fn ? arg : NULL;
    hook_arg_free = fn ? arg_free : NULL;
    if (old_free)
        old_free(old_arg);
    return 0;
}

/* ------------------------------------------------ guard-page overflow */

static struct sigaction old_segv;
static pthread_once_t guard_once = PTHREAD_ONCE_INIT;

static size_t fmt_ulong(char *p, unsigned long v)
{
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        p[i] = tmp[n - 1 - i];
    return n;
}

static void guard_handler(int sig, siginfo_t *si, void *uc)
{
    swco__sched_t *s = swco__tls_sched;
    swco__co_t *co = s && s->current != &s->main ? s->current : NULL;
    char *addr = si->si_addr;
    /* An overflow touches the guard, or, with a frame larger than the
     * guard, leaves the stack pointer below the stack altogether. */
    char *sp = NULL;
#if defined(__x86_64__)
    sp = (char *)((ucontext_t *)uc)->uc_mcontext.gregs[REG_RSP];
#elif defined(__aarch64__)
    sp = (char *)((ucontext_t *)uc)->uc_mcontext.sp;
#endif
    if (co && ((addr >= (char *)co->stack.base && addr < (char *)co->stack.lo) ||
               (sp && sp < (char *)co->stack.lo && sp >= (char *)co->stack.base - (1 << 20)))) {
        char msg[160];
        size_t n = 0;
        const char *a = "swco: coroutine ";
        const char *b = " overflowed its stack of ";
        const char *c = " bytes (guard page hit); aborting\n";
        memcpy(msg + n, a, strlen(a)); n += strlen(a);
        n += fmt_ulong(msg + n, (unsigned long)co->cid);
        memcpy(msg + n, b, strlen(b)); n += strlen(b);
        n += fmt_ulong(msg + n, (unsigned long)((char *)co->stack.hi - (char *)co->stack.lo));
        memcpy(msg + n, c, strlen(c)); n += strlen(c);
        ssize_t w = write(STDERR_FILENO, msg, n);
        (void)w;
        signal(SIGSEGV, SIG_DFL); /* the faulting access repeats and kills us */
        return;
    }
    if (old_segv.sa_flags & SA_SIGINFO) {
        if (old_segv.sa_sigaction) {
            old_segv.sa_sigaction(sig, si, uc);
            return;
        }
    } else if (old_segv.sa_handler != SIG_DFL && old_segv.sa_handler != SIG_IGN) {
        old_segv.sa_handler(sig);
        return;
    }
    signal(SIGSEGV, SIG_DFL);
}

static void guard_setup_process(void)
{
    if (getenv("SWCO_NO_GUARD_HANDLER"))
        return;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = guard_handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &old_segv);
}

static void guard_install(swco__sched_t *s)
{
    pthread_once(&guard_once, guard_setup_process);
    /* The handler needs a stack of its own: the faulting one is full.  Keep
     * any alternate stack the thread has already (sanitizers set one). */
    stack_t cur;
    if (sigaltstack(NULL, &cur) == 0 && !(cur.ss_flags & SS_DISABLE))
        return;
    size_t size = 64 * 1024;
    void *mem = malloc(size);
    if (!mem)
        return;
    stack_t ss = {.ss_sp = mem, .ss_size = size, .ss_flags = 0};
    if (sigaltstack(&ss, NULL) == 0)
        s->altstack = mem;
    else
        free(mem);
}

static void guard_release(swco__sched_t *s)
{
    if (!s->altstack)
        return;
    stack_t ss = {.ss_sp = NULL, .ss_size = 0, .ss_flags = SS_DISABLE};
    sigaltstack(&ss, NULL);
    free(s->altstack);
    s->altstack = NULL;
}

/* -------------------------------------------------------- run and sleep */

int swco_run(swco_fn fn, void *arg)
{
    if (!fn)
        return swco__fail(-EINVAL);
    if (swco__co_current() || swco__loop_running())
        return swco__fail(SWCO_ECOSTATE);
    long cid = swco_coroutine_create(fn, arg);
    if (cid < 0)
        return (int)cid;
    return swco__loop_run();
}

void swco__wait_timeout(long id, void *arg)
{
    swco__waiter_t *w = arg;
    w->timer = 0;
    if (w->cancel)
        w->cancel(w);
    swco__co_wake(w, -ETIMEDOUT);
}

static void sleep_done(long id, void *arg)
{
    swco__waiter_t *w = arg;
    w->timer = 0;
    swco__co_wake(w, 0);
}

static void sleep_cancel(swco__waiter_t *w)
{
    if (w->timer) {
        swco__timer_del(w->timer);
        w->timer = 0;
    }
}

int swco_sleep(double seconds)
{
    if (!(seconds >= 0) || seconds > 1e9)
        return swco__fail(-EINVAL);
    if (!swco__co_current()) {
        struct timespec ts;
        ts.tv_sec = (time_t)seconds;
        ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
        return 0;
    }
    swco__waiter_t w = {.what = "sleep", .cancel = sleep_cancel};
    if (swco_coroutine_is_cancelled())
        return swco__fail(-ECANCELED);
    /* sleep(0) still yields: the timer is due on the next loop turn. */
    long id = swco__timer_add(seconds == 0 ? 0 : swco__seconds_to_ms(seconds), sleep_done, &w);
    if (id < 0)
        return swco__fail((int)id);
    w.timer = id;
    int rc = swco__co_suspend(&w);
    sleep_cancel(&w);
    return rc < 0 ? swco__fail(rc) : 0;
}
