/* Private to lib/reactor/: the loop's structure and the backend interface. */
#ifndef SWCO_REACTOR_INT_H
#define SWCO_REACTOR_INT_H

#include "internal.h"

#include <pthread.h>
#include <signal.h>

typedef struct fd_slot {
    swco_event_fn fn;
    void *arg;
    swco_free_fn arg_free; /* called with arg when the registration ends */
    int events;       /* interest: SWCO_EVENT_READ | SWCO_EVENT_WRITE */
    int registered;
    int noref;
    int in_backend;   /* known to the backend (interest not empty) */
    unsigned gen;     /* bumped on each add, so stale ready events are dropped */
    /* swco_event_wait_fd() mode: coroutines wait on the fd instead of a callback.
     * epoll watches both directions edge-triggered; an edge nobody waits
     * for is remembered in ready for the next wait. */
    int waitmode;
    int ready;
    swco__waiter_t *rd, *wr;
} fd_slot_t;

#define SWCO__FD_CHUNK_BITS 10
#define SWCO__FD_CHUNK (1 << SWCO__FD_CHUNK_BITS)

/* fd's slot if its chunk exists (registered or not), else NULL. */
fd_slot_t *swco__fd_slot(swco__reactor_t *r, int fd);
/* fd's slot if fd is registered in r (r may be NULL), else NULL. */
fd_slot_t *swco__fd_find(swco__reactor_t *r, int fd);

typedef struct ready_event {
    int fd;
    int events;
    unsigned gen;
} ready_event_t;

typedef struct backend_ops {
    const char *name;
    int edge;         /* supports SWCO__EVENT_EDGE */
    int (*init)(swco__reactor_t *r);
    void (*destroy)(swco__reactor_t *r);
    int (*add)(swco__reactor_t *r, int fd, int events);
    int (*modify)(swco__reactor_t *r, int fd, int events);
    int (*del)(swco__reactor_t *r, int fd);
    /* Wait up to timeout_ms (-1: for ever) and fill r->ready/r->nready. */
    int (*poll)(swco__reactor_t *r, int timeout_ms);
} backend_ops_t;

typedef struct swco__timer swco__timer_t;

struct swco__heap_ent {
    long long when;
    long id; /* its low bits are the timer's slot */
};

typedef struct defer_call {
    swco_fn fn;
    void *arg;
    swco_free_fn arg_free;
} defer_call_t;

typedef struct posted_call {
    struct posted_call *next;
    swco_fn fn;
    void *arg;
} posted_call_t;

struct swco__reactor {
    const backend_ops_t *ops;
    int backend;
    int bfd;                 /* epoll fd */
    void *bdata;             /* poll: pollfd array */
    size_t bcap;

    /* fd registry: a two-level table, so a high fd costs one chunk of
     * SWCO__FD_CHUNK slots, not every slot below it */
    fd_slot_t **fdchunks;
    size_t nfdchunks;        /* entries of fdchunks (NULL: not allocated) */
    int maxfd;               /* highest registered fd, -1 if none */
    long nref_fds;           /* registered fds that keep the loop alive */
    long refs;               /* swco__reactor_ref() */

    ready_event_t *ready;
    int nready, ready_cap;

    defer_call_t *defers;    /* current batch: runs this turn */
    size_t ndefers, defers_cap;

    swco_fn cycle_fn;
    void *cycle_arg;
    swco_free_fn cycle_free;

    /* timers: min-heap on (when, id), keys kept inline so sifting does not
     * touch the timers themselves, and an id hash */
    struct swco__heap_ent *heap;
    size_t nheap, heap_cap;
    size_t heap_dead;        /* entries of cleared timers, dropped lazily */
    swco__timer_t **tchunks;  /* timers live in fixed chunks, found by slot */
    size_t ntchunks, tchunks_cap;
    long *tids;              /* per slot: the id of its active timer, else 0 */
    int *tfree;              /* free slots, a stack (the last freed first) */
    size_t ntfree;
    long seq_next, seq_end;  /* timer id sequence numbers reserved by this loop */
    long ntimers;            /* active timers, internal ones included */
    long npublic;            /* active timers added through timer.h */

    long long now;           /* cached monotonic ms, updated each turn */
    int running;
    int stop;

    /* cross-thread wakeup */
    int efd;
    pthread_mutex_t post_lock;
    posted_call_t *posted, **posted_tail;

    /* signals */
    int sfd;
    sigset_t sigmask;
    int nsignals;
    int signal_pending;
    struct { swco_signal_fn fn; void *arg; swco_free_fn arg_free; } sig[65];

    swco__reactor_t *forgotten_next; /* chain of loops a forked child left behind */
};

/* The thread's loop, NULL until swco__reactor_get() makes it. */
extern SWCO__TLS swco__reactor_t *swco__tls_reactor;

extern const backend_ops_t swco__epoll_ops;
extern const backend_ops_t swco__poll_ops;

/* Internal interest bit: edge-triggered (epoll only). */
#define SWCO__EVENT_EDGE 0x100

/* fdreg.c: backends report each ready fd while polling */
int swco__reactor_ready(swco__reactor_t *r, int fd, int events);

/* post.c: the eventfd's callback, runs the calls other threads posted */
void swco__reactor_wakeup_read(int fd, int events, void *arg);
/* signal.c: call the handlers of the signals the signalfd has */
void swco__signals_run(swco__reactor_t *r);

/* timer.c */
void swco__timers_run(swco__reactor_t *r);
long long swco__timers_next(swco__reactor_t *r); /* ms until next, -1 none */
void swco__timers_destroy(swco__reactor_t *r);

#endif
