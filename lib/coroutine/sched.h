/* The scheduler's state and its switch path, shared by lib/ so that the
 * waits of channels, locks, sockets and timers switch inline.
 *
 * Every function call level between a context switch and the code that
 * continues after it costs a mispredicted return on each switch (the
 * return-stack predictor holds the other stack's calls), so suspend and
 * wake are always_inline into the public calls that wait.  Not installed. */
#ifndef SWCO_SCHED_H
#define SWCO_SCHED_H

#ifdef SWCO_ASAN
#include <sanitizer/common_interface_defs.h>
#endif

/* Stacks kept for reuse per thread: enough for a few hundred coroutines
 * coming and going (a server's requests) without an mmap each.  A pooled
 * stack keeps the pages its last coroutine touched. */
#define SWCO__STACK_POOL_MAX 256

enum { SWCO__CO_READY, SWCO__CO_RUNNING, SWCO__CO_SUSPENDED, SWCO__CO_DEAD };

typedef struct swco__defer_entry {
    struct swco__defer_entry *next;
    swco_fn fn;
    void *arg;
    swco_free_fn arg_free;
} swco__defer_entry_t;

typedef struct swco__local_entry {
    struct swco__local_entry *next;
    const void *key;
    void *value;
    swco_free_fn value_free;
} swco__local_entry_t;

struct swco__co {
    void *ctx;               /* saved stack pointer while not running */
    swco__co_t *origin;      /* where a yield goes back to */
    swco__waiter_t *waiter;  /* current wait, NULL when not waiting */
    long cid;
    long pcid;
    int state;
    int cancelled;
    swco_fn fn;
    void *arg;
    swco_free_fn arg_free;
    swco__defer_entry_t *defers;
    swco__local_entry_t *locals;
    void *hook_slot;
    swco__co_t *hnext;       /* cid hash chain */
    swco__co_t *rnext;       /* run queue (sched.ready_head) */
    swco__list_t link;       /* all live coroutines of the thread */
    swco__stack_t stack;
    int pooled;              /* stack has the default sizes and may be reused */
};

/* A backtrace request: the target fills it on its own stack. */
typedef struct swco__bt_request {
    swco__co_t *target;
    void **frames;
    int max;
    int n;
} swco__bt_request_t;

typedef struct swco__sched {
    swco__co_t *current;     /* running context: a coroutine or &main */
    swco__co_t main;         /* the thread's own context (cid 0, no stack) */
    swco__co_t *ready_head;  /* run queue: woken by a handoff, not yet run */
    swco__co_t *ready_tail;
    swco__co_t *zombie;      /* a coroutine that ended, freed by the next resume to return */
    swco__co_t **buckets;
    size_t nbuckets;         /* power of two */
    swco__list_t all;
    long live, peak;
    long cid_next, cid_end;  /* cids reserved by this thread */
    unsigned long long created;
    size_t stack_bytes;
    swco__stack_t pool[SWCO__STACK_POOL_MAX];
    int npool;
    size_t pool_usable;      /* usable size of the pooled stacks */
    size_t pool_guard;       /* guard size of the pooled stacks */
    void *altstack;
    swco__bt_request_t *bt;  /* pending swco_coroutine_backtrace() */
    struct swco__sched *forgotten_next; /* chain of schedulers a forked child left behind */
#ifdef SWCO_ASAN
    const void *main_bottom;
    size_t main_size;
#endif
} swco__sched_t;

extern SWCO__TLS swco__sched_t *swco__tls_sched;
extern swco_coroutine_hook_fn swco__hook_fn;
extern void *swco__hook_arg;

/* Release a dead coroutine's stack and slot. */
void swco__co_free(swco__sched_t *s, swco__co_t *co);
/* A suspended coroutine asked for its backtrace answers it. */
void swco__co_answer_backtrace(swco__sched_t *s, swco__co_t *co);

/* Leave from (NULL: the thread's context) for to.  Returns when something
 * switches back to from. */
static inline __attribute__((always_inline)) void
swco__switch_to(swco__sched_t *s, swco__co_t *from, swco__co_t *to)
{
    if (swco__hook_fn) {
        swco__hook_fn(SWCO_COROUTINE_SWITCH_OUT, from->cid, &from->hook_slot, swco__hook_arg);
        swco__hook_fn(SWCO_COROUTINE_SWITCH_IN, to->cid, &to->hook_slot, swco__hook_arg);
    }
    s->current = to;
    void **from_ctx = &from->ctx;
    void *to_ctx = to->ctx;
#ifdef SWCO_ASAN
    void *fake = NULL;
    int dying = from->state == SWCO__CO_DEAD;
    if (to != &s->main)
        __sanitizer_start_switch_fiber(dying ? NULL : &fake, to->stack.lo,
                                       (size_t)((char *)to->stack.hi - (char *)to->stack.lo));
    else
        __sanitizer_start_switch_fiber(dying ? NULL : &fake, s->main_bottom, s->main_size);
    swco__ctx_switch(from_ctx, to_ctx, to);
    __sanitizer_finish_switch_fiber(fake, NULL, NULL);
#else
    swco__ctx_switch(from_ctx, to_ctx, to);
#endif
}

/* Switch into co; come back when it, or the coroutines it handed over to,
 * yield or end.  A coroutine that ended on the way is freed here: the one
 * that ends need not be co when the run queue passed control along. */
static inline __attribute__((always_inline)) void swco__co_resume(swco__sched_t *s, swco__co_t *co)
{
    swco__co_t *self = s->current;
    co->origin = self;
    co->state = SWCO__CO_RUNNING;
    self->state = SWCO__CO_SUSPENDED;
    swco__switch_to(s, self, co);
    self->state = SWCO__CO_RUNNING;
    if (s->zombie) {
        swco__co_free(s, s->zombie);
        s->zombie = NULL;
    }
}

/* Leave the current coroutine: for the oldest coroutine of the run queue if
 * there is one (it inherits our origin, as Go's scheduler runs the next
 * runnable goroutine), else for our origin. */
static inline __attribute__((always_inline)) void swco__co_yield(swco__sched_t *s)
{
    swco__co_t *co = s->current;
    swco__co_t *to = co->origin;
    swco__co_t *next = s->ready_head;
    if (next) {
        s->ready_head = next->rnext;
        next->origin = to;
        next->state = SWCO__CO_RUNNING;
        to = next;
    }
    co->state = SWCO__CO_SUSPENDED;
    swco__switch_to(s, co, to);
    if (SWCO__UNLIKELY(s->bt != NULL))
        swco__co_answer_backtrace(s, co);
}

/* 0 when the calling context may wait; else SWCO_ENOTCO or -ECANCELED. */
static inline int swco__co_can_wait(void)
{
    swco__sched_t *s = swco__tls_sched;
    if (!s || s->current == &s->main)
        return SWCO_ENOTCO;
    return s->current->cancelled ? -ECANCELED : 0;
}

/* Suspend the current coroutine on w until swco__co_wake(w); returns
 * w->result, or -ECANCELED at once if the coroutine was cancelled. */
static inline __attribute__((always_inline)) int swco__co_suspend(swco__waiter_t *w)
{
    swco__sched_t *s = swco__tls_sched;
    swco__co_t *co = s ? s->current : NULL;
    if (!co || co == &s->main)
        return SWCO_ENOTCO;
    if (co->cancelled)
        return -ECANCELED;
    w->co = co;
    w->result = 0;
    co->waiter = w;
    swco__co_yield(s);
    co->waiter = NULL;
    return w->result;
}

/* Resume w's coroutine with result; the caller continues when it yields. */
static inline __attribute__((always_inline)) void swco__co_wake(swco__waiter_t *w, int result)
{
    swco__co_t *co = w->co;
    w->result = result;
    co->waiter = NULL;
    swco__co_resume(swco__tls_sched, co);
}

/* End w's wait with result without switching: its coroutine joins the run
 * queue and runs when the caller next waits or yields, or at the loop's next
 * turn (Go's order for a rendezvous).  The caller has stopped w's timer. */
static inline void swco__co_ready(swco__sched_t *s, swco__waiter_t *w, int result)
{
    swco__co_t *co = w->co;
    w->result = result;
    co->waiter = NULL;
    co->rnext = NULL;
    if (s->ready_head)
        s->ready_tail->rnext = co;
    else
        s->ready_head = co;
    s->ready_tail = co;
}

/* Run the coroutines of the run queue from the thread's context, each until
 * it and those it hands over to wait again. */
void swco__co_run_ready(void);
/* Whether the run queue holds a coroutine. */
static inline int swco__co_ready_pending(void)
{
    swco__sched_t *s = swco__tls_sched;
    return s && s->ready_head != NULL;
}

#endif /* SWCO_SCHED_H */
