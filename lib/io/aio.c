/* The AIO thread pool: a process-wide queue of jobs served by threads that
 * start on demand and exit when idle.  A finished job is posted back to the
 * loop of the thread that queued it, which wakes the waiting coroutine or,
 * when that coroutine gave up (timeout, cancel), frees the job's arg. */
#include "internal.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

typedef struct job {
    struct job *next;
    struct job **pprev;     /* the link pointing at this job while queued */
    int queued;             /* in the queue, not started (under pool.lock) */
    swco_fn fn;
    void *arg;
    swco_free_fn arg_free;
    swco__reactor_t *r;
    swco__waiter_t *waiter; /* touched only on r's thread; NULL once abandoned */
} job_t;

static struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;   /* work queued, or settings changed */
    pthread_cond_t exited; /* a thread exited */
    job_t *head, **tail;
    int nthreads, nidle, nqueued, pending;
    int max_threads;
    long idle_ms;
    int stopping;          /* process exit: idle threads leave */
    pthread_t *dead;       /* exited threads not yet joined */
    int ndead, dead_cap;
} pool = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .cond = PTHREAD_COND_INITIALIZER,
    .exited = PTHREAD_COND_INITIALIZER,
    .tail = &pool.head,
    .max_threads = 64,
    .idle_ms = 1000,
};

static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

/* Threads do not survive fork: the child starts with an empty pool. */
static void pool_atfork_child(void)
{
    pthread_mutex_init(&pool.lock, NULL);
    pthread_cond_init(&pool.cond, NULL);
    pthread_cond_init(&pool.exited, NULL);
    pool.head = NULL;
    pool.tail = &pool.head;
    pool.nthreads = pool.nidle = pool.nqueued = pool.pending = 0;
    pool.ndead = 0;
}

/* Join threads that have exited.  Called with the lock held; they no
 * longer need it. */
static void reap_dead(void)
{
    for (int i = 0; i < pool.ndead; i++)
        pthread_join(pool.dead[i], NULL);
    pool.ndead = 0;
}

/* At exit, let idle threads finish so their thread-local state (libc's
 * resolver, ...) is released, and join them.  Busy ones get a moment. */
static void pool_atexit(void)
{
    pthread_mutex_lock(&pool.lock);
    pool.stopping = 1;
    pthread_cond_broadcast(&pool.cond);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 200 * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    while (pool.nthreads > 0)
        if (pthread_cond_timedwait(&pool.exited, &pool.lock, &ts) == ETIMEDOUT)
            break;
    reap_dead();
    free(pool.dead);
    pool.dead = NULL;
    pool.dead_cap = 0;
    pthread_mutex_unlock(&pool.lock);
}

static void pool_atfork_setup(void)
{
    pthread_atfork(NULL, NULL, pool_atfork_child);
    atexit(pool_atexit);
}

/* On the owner's loop: hand the result to the waiter, or drop it. */
static void job_done(void *p)
{
    job_t *job = p;
    swco__reactor_unref(job->r);
    swco__waiter_t *w = job->waiter;
    if (w) {
        free(job);
        swco__co_wake(w, 0);
        return;
    }
    if (job->arg_free)
        job->arg_free(job->arg);
    free(job);
}

/* Take job out of the queue.  Called with the lock held. */
static void queue_unlink(job_t *job)
{
    *job->pprev = job->next;
    if (job->next)
        job->next->pprev = job->pprev;
    else
        pool.tail = job->pprev;
    job->queued = 0;
    pool.nqueued--;
}

static void *worker(void *unused)
{
    (void)unused;
    pthread_mutex_lock(&pool.lock);
    for (;;) {
        while (!pool.head && pool.nthreads <= pool.max_threads && !pool.stopping) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += pool.idle_ms / 1000;
            ts.tv_nsec += (pool.idle_ms % 1000) * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pool.nidle++;
            int rc = pthread_cond_timedwait(&pool.cond, &pool.lock, &ts);
            pool.nidle--;
            if (rc == ETIMEDOUT && !pool.head)
                goto out;
        }
        if (pool.nthreads > pool.max_threads || (pool.stopping && !pool.head))
            goto out;
        job_t *job = pool.head;
        queue_unlink(job);
        pthread_mutex_unlock(&pool.lock);

        job->fn(job->arg);
        pthread_mutex_lock(&pool.lock);
        pool.pending--;
        pthread_mutex_unlock(&pool.lock);
        while (swco__reactor_post(job->r, job_done, job) != 0)
            usleep(1000); /* out of memory: the owner must still hear of it */
        pthread_mutex_lock(&pool.lock);
    }
out:
    pool.nthreads--;
    if (pool.ndead == pool.dead_cap) {
        int n = pool.dead_cap ? pool.dead_cap * 2 : 16;
        pthread_t *d = realloc(pool.dead, sizeof *d * (size_t)n);
        if (d) {
            pool.dead = d;
            pool.dead_cap = n;
        }
    }
    if (pool.ndead < pool.dead_cap)
        pool.dead[pool.ndead++] = pthread_self();
    else
        pthread_detach(pthread_self());
    pthread_cond_broadcast(&pool.exited);
    pthread_mutex_unlock(&pool.lock);
    return NULL;
}

/* Queue job; start a thread when no idle one can take it. */
static int pool_submit(job_t *job)
{
    pthread_once(&atfork_once, pool_atfork_setup);
    pthread_mutex_lock(&pool.lock);
    job->next = NULL;
    job->pprev = pool.tail;
    *pool.tail = job;
    pool.tail = &job->next;
    job->queued = 1;
    pool.nqueued++;
    pool.pending++;
    reap_dead();
    if (pool.nidle < pool.nqueued && pool.nthreads < pool.max_threads) {
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, 256 * 1024);
        /* The worker starts with every signal blocked (a new thread
         * inherits its creator's mask): a process signal must go to a loop
         * thread, where swco_event_signal() reads it, not kill us from here. */
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        int rc = pthread_create(&t, &attr, worker, NULL);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        pthread_attr_destroy(&attr);
        if (rc == 0) {
            pool.nthreads++;
        } else if (pool.nthreads == 0) {
            /* Nobody would ever run it: take it back. */
            queue_unlink(job);
            pool.pending--;
            pthread_mutex_unlock(&pool.lock);
            return -EAGAIN;
        }
    }
    pthread_cond_signal(&pool.cond);
    pthread_mutex_unlock(&pool.lock);
    return 0;
}

static void job_wait_cancel(swco__waiter_t *w)
{
    job_t *job = w->data;
    job->waiter = NULL;
}

int swco_aio_run(swco_fn fn, void *arg, swco_free_fn arg_free, double timeout)
{
    if (!fn)
        return swco__fail(-EINVAL);
    if (!swco__co_current()) {
        fn(arg);
        return 0;
    }
    int rc = 0;
    swco__reactor_t *r = NULL;
    job_t *job = NULL;
    if (swco_coroutine_is_cancelled()) {
        rc = -ECANCELED;
    } else if (!(r = swco__reactor_get()) || !(job = calloc(1, sizeof *job))) {
        rc = -ENOMEM;
    }
    if (rc == 0) {
        job->fn = fn;
        job->arg = arg;
        job->arg_free = arg_free;
        job->r = r;
        swco__reactor_ref(r);
        rc = pool_submit(job);
        if (rc != 0) {
            swco__reactor_unref(r);
            free(job);
        }
    }
    if (rc != 0) {
        if (arg_free)
            arg_free(arg);
        return swco__fail(rc);
    }
    swco__waiter_t w = {.what = "aio", .cancel = job_wait_cancel, .data = job};
    job->waiter = &w;
    rc = swco__wait(&w, timeout);
    if (rc != 0) {
        /* Not finished (job_done wakes with 0 and frees the job).  A job
         * no thread has taken yet is dropped: it must not run for a caller
         * that gave up, nor delay the jobs queued after it.  One already
         * running is abandoned: its completion frees arg. */
        pthread_mutex_lock(&pool.lock);
        int dropped = job->queued;
        if (dropped) {
            queue_unlink(job);
            pool.pending--;
        }
        pthread_mutex_unlock(&pool.lock);
        if (dropped) {
            swco__reactor_unref(job->r);
            if (job->arg_free)
                job->arg_free(job->arg);
            free(job);
        } else {
            job->waiter = NULL;
        }
        return swco__fail(rc);
    }
    return 0;
}

int swco_aio_set_max_threads(int n)
{
    if (n < 1)
        return swco__fail(-EINVAL);
    pthread_mutex_lock(&pool.lock);
    pool.max_threads = n;
    pthread_cond_broadcast(&pool.cond);
    pthread_mutex_unlock(&pool.lock);
    return 0;
}

int swco_aio_get_max_threads(void)
{
    pthread_mutex_lock(&pool.lock);
    int n = pool.max_threads;
    pthread_mutex_unlock(&pool.lock);
    return n;
}

int swco_aio_set_idle_timeout(double seconds)
{
    if (!(seconds > 0) || seconds > 1e6)
        return swco__fail(-EINVAL);
    pthread_mutex_lock(&pool.lock);
    pool.idle_ms = swco__seconds_to_ms(seconds);
    pthread_mutex_unlock(&pool.lock);
    return 0;
}

int swco_aio_thread_count(void)
{
    pthread_mutex_lock(&pool.lock);
    int n = pool.nthreads;
    pthread_mutex_unlock(&pool.lock);
    return n;
}

int swco_aio_pending(void)
{
    pthread_mutex_lock(&pool.lock);
    int n = pool.pending;
    pthread_mutex_unlock(&pool.lock);
    return n;
}
