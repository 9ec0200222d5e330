/* libswco internals shared across lib/ files: the per-thread context and the
 * swco__* calls each layer offers the layers below it.  Not installed. */
#ifndef SWCO_INTERNAL_H
#define SWCO_INTERNAL_H

#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include <swco.h>

#include "core/deadline.h"

#define SWCO__LIKELY(x) __builtin_expect(!!(x), 1)
#define SWCO__UNLIKELY(x) __builtin_expect(!!(x), 0)
/* Thread-locals of the library: initial-exec, so reaching them costs no
 * __tls_get_addr call on the switch path (a few pointers of static TLS). */
#define SWCO__TLS __thread __attribute__((tls_model("initial-exec")))
#define SWCO__CONTAINER(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

/* ------------------------------------------------------------------ base */

/* Set the thread's last error and return code, for one-line error exits. */
int swco__fail(int code);
/* Log a formatted line at level (no trailing newline needed). */
void swco__log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Monotonic clock in milliseconds and nanoseconds. */
long long swco__now_ms(void);
uint64_t swco__now_ns(void);
/* Seconds (the public timeout convention) to whole milliseconds, >= 1. */
long swco__seconds_to_ms(double seconds);

/* Structs a caller passes with a leading size_t size: the size of the first
 * version (up to and including its last field), and the copy of a filled
 * struct into the caller's, never past the caller's size. */
#define SWCO__STRUCT_V1_SIZE(type, last) (offsetof(type, last) + sizeof(((type *)0)->last))
#include <string.h>
static inline void swco__struct_fill(void *out, const void *full, size_t full_size)
{
    size_t have = *(const size_t *)out;
    size_t n = have < full_size ? have : full_size;
    /* The size field itself stays as the caller set it. */
    if (n > sizeof(size_t))
        memcpy((char *)out + sizeof(size_t), (const char *)full + sizeof(size_t),
               n - sizeof(size_t));
}

/* Intrusive doubly linked list. */
typedef struct swco__list {
    struct swco__list *prev, *next;
} swco__list_t;

static inline void swco__list_init(swco__list_t *l) { l->prev = l->next = l; }
static inline int swco__list_empty(const swco__list_t *l) { return l->next == l; }
static inline void swco__list_push(swco__list_t *head, swco__list_t *n)
{
    n->prev = head->prev;
    n->next = head;
    head->prev->next = n;
    head->prev = n;
}
static inline void swco__list_unlink(swco__list_t *n)
{
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->prev = n->next = n;
}

/* --------------------------------------------------------------- context */

/* A machine context is just the saved stack pointer of a suspended stack. */
typedef struct swco__stack {
    void *base;      /* start of the mapping (the guard) */
    size_t size;     /* whole mapping, guard included */
    void *lo, *hi;   /* usable stack: [lo, hi) */
    unsigned vg_id;  /* valgrind stack registration */
} swco__stack_t;

/* Map usable bytes of stack above a PROT_NONE guard of guard bytes (both
 * rounded up to pages, the guard to one page at least). */
int swco__stack_alloc(swco__stack_t *st, size_t usable, size_t guard);
void swco__stack_free(swco__stack_t *st);
/* Prepare ctx so that the first switch to it calls entry(arg) on st. */
void swco__ctx_make(void **ctx, swco__stack_t *st, void (*entry)(void *));
/* Save the running context in *from and switch to to, passing arg to it;
 * returns the arg of the switch that comes back. */
void *swco__ctx_switch(void **from, void *to, void *arg);

/* ------------------------------------------------------------- scheduler */

typedef struct swco__co swco__co_t;
typedef struct swco__waiter swco__waiter_t;

/* A coroutine's wait.  The waiting side lives on the waiter's stack. */
struct swco__waiter {
    swco__co_t *co;
    const char *what;                  /* "sleep", "channel pop", ... */
    void (*cancel)(swco__waiter_t *w); /* unlink from whatever holds w; may be NULL */
    void *data;                        /* for the owner of the wait */
    swco__list_t link;                 /* for wait queues */
    long timer;                        /* internal timeout timer, 0 if none */
    int result;
};

extern const char swco__wait_yield[];  /* what of a swco_coroutine_yield() wait */

/* The running coroutine, or NULL in the thread's own context. */
swco__co_t *swco__co_current(void);
long swco__co_cid(const swco__co_t *co);
/* Number of live coroutines in this thread and a walk over them. */
long swco__co_live(void);
void swco__co_foreach(void (*fn)(swco__co_t *co, void *arg), void *arg);
const swco__waiter_t *swco__co_waiter(const swco__co_t *co);
void swco__co_cancel_all(void);
/* Release the thread's scheduler once no coroutine is left. */
void swco__sched_release(void);
/* swco__co_suspend() and swco__co_wake(), inline. */
#include "coroutine/sched.h"

/* --------------------------------------------------------------- reactor */

typedef struct swco__reactor swco__reactor_t;

/* The thread's loop, created on first use (NULL only when out of memory). */
swco__reactor_t *swco__reactor_get(void);
swco__reactor_t *swco__reactor_peek(void);
/* Keep the loop alive for work it cannot see (thread-pool jobs). */
void swco__reactor_ref(swco__reactor_t *r);
void swco__reactor_unref(swco__reactor_t *r);
/* Thread-safe: post fn(arg) to r's thread and wake its loop.  -ENOMEM. */
int swco__reactor_post(swco__reactor_t *r, swco_fn fn, void *arg);
/* Internal timers: never run in a coroutine, not counted by
 * swco_timer_count().  Return the id or a negative code. */
/* Wake the coroutines waiting in swco_event_wait_fd() on fd with -ECANCELED,
 * keeping fd registered: a woken coroutine may wait on it again at once. */
void swco__fd_cancel_waits(int fd);
long swco__timer_add(long ms, swco_timer_fn fn, void *arg);
int swco__timer_del(long id);
/* The timeout of swco__wait(): w->cancel, then wake with -ETIMEDOUT. */
void swco__wait_timeout(long id, void *w);
/* Suspend on w for up to ms milliseconds (< 0: no limit): a timeout wakes
 * the coroutine with -ETIMEDOUT after w->cancel unlinked it.  Inline: see
 * coroutine/sched.h for why. */
static inline __attribute__((always_inline)) int swco__wait_ms(swco__waiter_t *w, long long ms)
{
    w->timer = 0;
    if (ms >= 0) {
        long id = swco__timer_add((long)ms, swco__wait_timeout, w);
        if (id < 0)
            return (int)id;
        w->timer = id;
    }
    int rc = swco__co_suspend(w);
    if (w->timer) {
        swco__timer_del(w->timer);
        w->timer = 0;
    }
    return rc;
}
/* Suspend on w with a timeout in seconds (<= 0, NaN, +infinity: none; a
 * positive one waits at least 1 ms, the loop's resolution). */
static inline __attribute__((always_inline)) int swco__wait(swco__waiter_t *w, double timeout)
{
    int limited = timeout > 0 && timeout != (double)INFINITY;
    return swco__wait_ms(w, limited ? swco__seconds_to_ms(timeout) : -1);
}
/* Suspend on w until deadline: -ETIMEDOUT at once when it has passed. */
static inline int swco__wait_until(swco__waiter_t *w, swco__deadline_t deadline)
{
    long long ms = swco__deadline_left_ms(deadline);
    if (ms == 0)
        return -ETIMEDOUT;
    return swco__wait_ms(w, ms);
}
/* The library's one wait on an fd: until fd is ready for events
 * (SWCO_EVENT_READ or SWCO_EVENT_WRITE) or deadline passes.  In a coroutine
 * it suspends on the loop (swco_event_wait_fd()'s rules: edge memory, one
 * waiter per direction, swco_event_del() cancels); the fd stays registered
 * in the loop until swco_event_del(), unless events has SWCO__WAIT_ONCE: the
 * wait leaves the loop as it found it when no other coroutine waits on fd.
 * Outside a coroutine it returns SWCO_ENOTCO, unless events has
 * SWCO__WAIT_BLOCK: then it blocks the thread in poll().  Returns the
 * events seen (> 0, SWCO_EVENT_ERROR added on hang-up or error; a wait may
 * return early), -ETIMEDOUT, -ECANCELED, -EBUSY, -EEXIST (fd added with
 * swco_event_add()), -EBADF, -EINVAL, -ENOMEM.  Does not set the thread's
 * last error. */
#define SWCO__WAIT_BLOCK 0x1000
#define SWCO__WAIT_ONCE 0x2000
int swco__wait_fd_until(int fd, int events, swco__deadline_t deadline);
/* Run the loop until nothing is left; shared by swco_run and swco_event_wait. */
int swco__loop_run(void);
/* 1 while this thread's loop runs (swco_run, swco_event_wait). */
int swco__loop_running(void);

#endif /* SWCO_INTERNAL_H */
