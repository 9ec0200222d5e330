/* Timers: a min-heap ordered by (due time, id) plus an id hash for clear.
 *
 * Timers live in chunks that never move; an id carries its timer's slot in
 * its low bits (and a process-wide sequence number above, so ids are never
 * reused), so finding a timer by id is one array access.
 *
 * Clearing is O(1): the timer's slot forgets its id and the timer is freed
 * at once; its heap entry goes dead, to be dropped when it reaches the top,
 * or all at once when dead entries are more than half the heap.  The
 * common pattern (arm a timeout, clear it when the I/O completes) so never
 * sifts on clear.  Whether an entry is alive is read from a dense array of
 * the slots' ids, not from the timers, and free slots are a dense stack:
 * with many timers the timers themselves are cache misses, and neither
 * allocation nor compaction waits on one.
 *
 * A tick timer is put back after its callback returns (or, in coroutine
 * mode, first yields), at the next point of its original schedule that is
 * still in the future: points the callback overran are dropped, as the
 * seed's timer-correction paragraph describes. */
#include "reactor_int.h"

#include <stdlib.h>
#include <string.h>

#define MS_MAX ((long)1 << 40)
#define SLOT_BITS 24
#define SLOT_MASK ((1L << SLOT_BITS) - 1)
#define CHUNK 1024

/* 48 bytes: its due time lives in its heap entry, its slot in its id. */
struct swco__timer {
    long id;
    long interval;
    swco_timer_fn fn;
    void *arg;
    swco_free_fn arg_free;
    int refs;                     /* +1 while active, +1 per running callback */
    unsigned char flags;
    unsigned char internal;
    unsigned char active;         /* neither cleared nor finished */
    unsigned char in_heap;
};
#if __SIZEOF_POINTER__ == 8
_Static_assert(sizeof(struct swco__timer) == 48, "a timer is 48 bytes on LP64");
#endif

static long next_timer_seq = 1; /* atomic: ids are never reused in the process */
#define SEQ_BATCH 4096            /* sequence numbers a loop takes at a time */

/* Is the heap entry's timer still the active one of its slot? */
static inline int ent_alive(const swco__reactor_t *r, const struct swco__heap_ent *e)
{
    return r->tids[e->id & SLOT_MASK] == e->id;
}

/* ------------------------------------------------------------------ heap */

typedef struct swco__heap_ent heap_ent_t;

static inline int earlier(const heap_ent_t *a, const heap_ent_t *b)
{
    return a->when < b->when || (a->when == b->when && a->id < b->id);
}

static void sift_up(swco__reactor_t *r, size_t i)
{
    heap_ent_t e = r->heap[i];
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!earlier(&e, &r->heap[p]))
            break;
        r->heap[i] = r->heap[p];
        i = p;
    }
    r->heap[i] = e;
}

static void sift_down(swco__reactor_t *r, size_t i)
{
    heap_ent_t e = r->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= r->nheap)
            break;
        if (c + 1 < r->nheap && earlier(&r->heap[c + 1], &r->heap[c]))
            c++;
        if (!earlier(&r->heap[c], &e))
            break;
        r->heap[i] = r->heap[c];
        i = c;
    }
    r->heap[i] = e;
}

static inline swco__timer_t *timer_at(swco__reactor_t *r, size_t slot);

static int heap_push(swco__reactor_t *r, swco__timer_t *t, long long when)
{
    if (r->nheap == r->heap_cap) {
        size_t n = r->heap_cap ? r->heap_cap * 2 : 64;
        heap_ent_t *h = realloc(r->heap, sizeof *h * n);
        if (!h)
            return -ENOMEM;
        r->heap = h;
        r->heap_cap = n;
    }
    size_t i = r->nheap++;
    r->heap[i] = (heap_ent_t){when, t->id};
    t->in_heap = 1;
    sift_up(r, i);
    return 0;
}

/* Remove the top entry: its timer (and *when), or NULL when it was dead. */
static swco__timer_t *heap_pop(swco__reactor_t *r, long long *when)
{
    struct swco__heap_ent top = r->heap[0];
    *when = top.when;
    r->heap[0] = r->heap[--r->nheap];
    if (r->nheap > 0)
        sift_down(r, 0);
    if (!ent_alive(r, &top)) {
        r->heap_dead--;
        return NULL;
    }
    swco__timer_t *t = timer_at(r, (size_t)(top.id & SLOT_MASK));
    t->in_heap = 0;
    return t;
}

/* Drop every dead entry and rebuild the heap: O(n). */
static void heap_compact(swco__reactor_t *r)
{
    size_t k = 0;
    for (size_t i = 0; i < r->nheap; i++)
        if (ent_alive(r, &r->heap[i]))
            r->heap[k++] = r->heap[i];
    r->nheap = k;
    r->heap_dead = 0;
    for (size_t i = k / 2; i-- > 0;)
        sift_down(r, i);
}

/* ------------------------------------------------------------- slots */

static inline swco__timer_t *timer_at(swco__reactor_t *r, size_t slot)
{
    return &r->tchunks[slot / CHUNK][slot % CHUNK];
}

/* One more chunk of timers; the per-slot arrays grow by doubling. */
static int timers_grow(swco__reactor_t *r)
{
    size_t n = r->ntchunks + 1;
    if (n * CHUNK > (size_t)SLOT_MASK)
        return -ENOMEM;
    if (n > r->tchunks_cap) {
        size_t cap = r->tchunks_cap ? r->tchunks_cap * 2 : 4;
        swco__timer_t **c = realloc(r->tchunks, sizeof *c * cap);
        if (!c)
            return -ENOMEM;
        r->tchunks = c;
        long *ids = realloc(r->tids, sizeof *ids * cap * CHUNK);
        if (!ids)
            return -ENOMEM;
        r->tids = ids;
        int *fr = realloc(r->tfree, sizeof *fr * cap * CHUNK);
        if (!fr)
            return -ENOMEM;
        r->tfree = fr;
        r->tchunks_cap = cap;
    }
    swco__timer_t **c = r->tchunks;
    long *ids = r->tids;
    swco__timer_t *chunk = calloc(CHUNK, sizeof *chunk);
    if (!chunk)
        return -ENOMEM;
    size_t base = r->ntchunks * CHUNK;
    memset(ids + base, 0, sizeof *ids * CHUNK);
    for (size_t i = 0; i < CHUNK; i++)
        r->tfree[r->ntfree++] = (int)(base + CHUNK - 1 - i); /* lowest slot on top */
    c[r->ntchunks++] = chunk;
    return 0;
}

/* A free slot, or -1. */
static long timer_alloc(swco__reactor_t *r)
{
    if (!r->ntfree && timers_grow(r) != 0)
        return -1;
    return r->tfree[--r->ntfree];
}

static void timer_release(swco__reactor_t *r, swco__timer_t *t)
{
    r->tfree[r->ntfree++] = (int)(t->id & SLOT_MASK);
    t->id = 0;
}

static swco__timer_t *timer_find(swco__reactor_t *r, long id)
{
    if (!r || id <= 0)
        return NULL;
    size_t slot = (size_t)(id & SLOT_MASK);
    if (slot >= r->ntchunks * CHUNK || r->tids[slot] != id)
        return NULL;
    return timer_at(r, slot);
}

/* --------------------------------------------------------- life of one */

static void timer_unref(void *arg)
{
    swco__timer_t *t = arg;
    if (--t->refs > 0)
        return;
    swco_free_fn arg_free = t->arg_free;
    void *targ = t->arg;
    timer_release(swco__reactor_peek(), t);
    if (arg_free)
        arg_free(targ);
}

/* Take t out of the active set; its memory goes with the last ref. */
static void timer_deactivate(swco__reactor_t *r, swco__timer_t *t)
{
    if (!t->active)
        return;
    t->active = 0;
    r->tids[t->id & SLOT_MASK] = 0;
    r->ntimers--;
    if (!t->internal)
        r->npublic--;
    int dead_entry = t->in_heap;
    t->in_heap = 0;
    timer_unref(t);
    if (dead_entry && ++r->heap_dead > 64 && r->heap_dead * 2 > r->nheap)
        heap_compact(r);
}

static long timer_add(long ms, int flags, int internal, swco_timer_fn fn, void *arg,
                      swco_free_fn arg_free)
{
    swco__reactor_t *r = swco__reactor_get();
    if (!r)
        return -ENOMEM;
    long slot = timer_alloc(r);
    if (slot < 0)
        return -ENOMEM;
    swco__timer_t *t = timer_at(r, (size_t)slot);
    if (r->seq_next == r->seq_end) {
        r->seq_next = __atomic_fetch_add(&next_timer_seq, SEQ_BATCH, __ATOMIC_RELAXED);
        r->seq_end = r->seq_next + SEQ_BATCH;
    }
    t->id = (r->seq_next++ << SLOT_BITS) | slot;
    /* Round the start up to the next whole millisecond, so a timer never
     * fires before ms have fully passed. */
    uint64_t ns = swco__now_ns();
    long long when = (long long)((ns + 999999u) / 1000000u) + ms;
    t->interval = (flags & SWCO_TIMER_TICK) ? ms : 0;
    t->flags = (unsigned char)flags;
    t->internal = (unsigned char)internal;
    t->fn = fn;
    t->arg = arg;
    t->arg_free = arg_free;
    t->in_heap = 0;
    if (heap_push(r, t, when) != 0) {
        timer_release(r, t);
        return -ENOMEM;
    }
    t->active = 1;
    t->refs = 1; /* active */
    r->tids[slot] = t->id;
    r->ntimers++;
    if (!internal)
        r->npublic++;
    return t->id;
}

/* -------------------------------------------------------------- firing */

static void timer_co_main(void *arg)
{
    swco__timer_t *t = arg;
    t->fn(t->id, t->arg);
}

/* Run t's callback; the caller took a reference for the run. */
static void fire(swco__reactor_t *r, swco__timer_t *t)
{
    if (t->flags & SWCO_TIMER_NO_COROUTINE) {
        t->fn(t->id, t->arg);
        timer_unref(t);
        return;
    }
    long cid = swco_coroutine_create_ex(timer_co_main, t, timer_unref, 0);
    if (cid < 0) {
        swco__log(SWCO_LOG_ERROR, "timer %ld: cannot start its coroutine: %s", t->id,
                  swco_strerror((int)cid));
        timer_unref(t);
    }
}

void swco__timers_run(swco__reactor_t *r)
{
    while (r->nheap > 0 && r->heap[0].when <= r->now) {
        long long when;
        swco__timer_t *t = heap_pop(r, &when);
        if (!t)
            continue; /* cleared */
        t->refs++; /* held across the callback */
        if (!t->interval) {
            timer_deactivate(r, t);
            fire(r, t);
            continue;
        }
        t->refs++; /* and across the reschedule below */
        fire(r, t);
        if (t->active) {
            long long now = swco__now_ms();
            long long next = when + t->interval;
            if (next <= now) /* overran: drop the missed points */
                next += ((now - next) / t->interval + 1) * t->interval;
            if (heap_push(r, t, next) != 0) {
                swco__log(SWCO_LOG_ERROR, "timer %ld: out of memory, stopped", t->id);
                timer_deactivate(r, t);
            }
        }
        timer_unref(t);
    }
}

long long swco__timers_next(swco__reactor_t *r)
{
    long long when;
    while (r->nheap > 0 && !ent_alive(r, &r->heap[0]))
        heap_pop(r, &when);
    if (r->nheap == 0)
        return -1;
    long long d = r->heap[0].when - swco__now_ms();
    return d < 0 ? 0 : d;
}

void swco__timers_destroy(swco__reactor_t *r)
{
    long long when;
    while (r->nheap > 0) {
        swco__timer_t *t = heap_pop(r, &when);
        if (t)
            timer_deactivate(r, t);
    }
    free(r->heap);
    for (size_t i = 0; i < r->ntchunks; i++)
        free(r->tchunks[i]);
    free(r->tchunks);
    free(r->tids);
    free(r->tfree);
    r->heap = NULL;
    r->tchunks = NULL;
    r->tids = NULL;
    r->tfree = NULL;
    r->nheap = r->heap_cap = r->ntchunks = r->tchunks_cap = r->ntfree = 0;
}

/* ------------------------------------------------------------ interface */

long swco__timer_add(long ms, swco_timer_fn fn, void *arg)
{
    if (ms < 0)
        ms = 0;
    return timer_add(ms, SWCO_TIMER_NO_COROUTINE, 1, fn, arg, NULL);
}

int swco__timer_del(long id)
{
    swco__reactor_t *r = swco__reactor_peek();
    swco__timer_t *t = timer_find(r, id);
    if (!t)
        return -ENOENT;
    timer_deactivate(r, t);
    return 0;
}

long swco_timer_add(double seconds, int flags, swco_timer_fn fn, void *arg,
                    swco_free_fn arg_free)
{
    /* !(seconds >= 0) also catches NaN; the upper bound catches +inf. */
    if (!fn || !(seconds >= 0) || seconds * 1000.0 > (double)MS_MAX ||
        (flags & ~(SWCO_TIMER_TICK | SWCO_TIMER_NO_COROUTINE)))
        return swco__fail(-EINVAL);
    /* Millisecond resolution, never firing early: 0.0004 s is 1 ms.  A tick
     * needs a period of at least one turn's resolution. */
    long ms = seconds > 0 ? swco__seconds_to_ms(seconds) : 0;
    if (ms < 1 && (flags & SWCO_TIMER_TICK))
        ms = 1;
    long id = timer_add(ms, flags, 0, fn, arg, arg_free);
    return id < 0 ? swco__fail((int)id) : id;
}

long swco_timer_after(double seconds, swco_timer_fn fn, void *arg, swco_free_fn arg_free)
{
    return swco_timer_add(seconds, 0, fn, arg, arg_free);
}

long swco_timer_tick(double seconds, swco_timer_fn fn, void *arg, swco_free_fn arg_free)
{
    return swco_timer_add(seconds, SWCO_TIMER_TICK, fn, arg, arg_free);
}

int swco_timer_clear(long timer_id)
{
    swco__reactor_t *r = swco__reactor_peek();
    swco__timer_t *t = timer_find(r, timer_id);
    if (!t || t->internal)
        return swco__fail(SWCO_ENOTIMER);
    timer_deactivate(r, t);
    return 0;
}

int swco_timer_exists(long timer_id)
{
    swco__timer_t *t = timer_find(swco__reactor_peek(), timer_id);
    return t && !t->internal;
}

long swco_timer_count(void)
{
    swco__reactor_t *r = swco__reactor_peek();
    return r ? r->npublic : 0;
}
