/* Process-shared locks: robust mutex, rwlock, spinlock, semaphore. */
#include "shm_int.h"

#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Who holds a lock.  A mutex knows its owner (robust, error-checking).  A
 * writer of a read-write lock and the holder of a spinlock write their
 * thread id into the shared owner word, so an unlock from any other thread
 * or process is refused with -EPERM and changes nothing.  Readers are
 * counted per thread in a small thread-local table (tls_reads): the
 * thread's own record says whether it may release a read lock.  Thread ids
 * are unique across the processes of one pid namespace, which is where a
 * lock in anonymous shared memory is shared.  A semaphore has no owner:
 * any thread or process may post it. */
struct swco_lock {
    int type;
    pid_t creator;
    pid_t owner; /* thread id of the writer / spinlock holder, 0 when none */
    union {
        pthread_mutex_t mutex;
        pthread_rwlock_t rwlock;
        pthread_spinlock_t spin;
        sem_t sem;
    } u;
};

typedef struct read_rec read_rec_t;
static read_rec_t *read_rec(const swco_lock_t *l, int create);
static void read_rec_drop(read_rec_t *r);

swco_lock_t *swco_lock_new(int type, unsigned value)
{
    if (type < SWCO_LOCK_MUTEX || type > SWCO_LOCK_SEM) {
        swco__fail(-EINVAL);
        return NULL;
    }
    swco_lock_t *l = swco__shm_alloc(sizeof *l);
    if (!l) {
        swco__fail(-ENOMEM);
        return NULL;
    }
    l->type = type;
    l->creator = swco__pid();
    int rc = 0;
    switch (type) {
    case SWCO_LOCK_MUTEX: {
        pthread_mutexattr_t a;
        pthread_mutexattr_init(&a);
        pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
        pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
        pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
        rc = pthread_mutex_init(&l->u.mutex, &a);
        pthread_mutexattr_destroy(&a);
        break;
    }
    case SWCO_LOCK_RWLOCK: {
        pthread_rwlockattr_t a;
        pthread_rwlockattr_init(&a);
        pthread_rwlockattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
        rc = pthread_rwlock_init(&l->u.rwlock, &a);
        pthread_rwlockattr_destroy(&a);
        break;
    }
    case SWCO_LOCK_SPINLOCK:
        rc = pthread_spin_init(&l->u.spin, PTHREAD_PROCESS_SHARED);
        break;
    default:
        rc = sem_init(&l->u.sem, 1, value) < 0 ? errno : 0;
        break;
    }
    if (rc) {
        swco__shm_free(l, sizeof *l);
        swco__fail(-rc);
        return NULL;
    }
    return l;
}

void swco_lock_free(swco_lock_t *l)
{
    if (!l)
        return;
    /* A later lock at the same address must not inherit our records. */
    read_rec_t *rr = read_rec(l, 0);
    if (rr)
        read_rec_drop(rr);
    if (l->creator == swco__pid()) {
        switch (l->type) {
        case SWCO_LOCK_MUTEX: pthread_mutex_destroy(&l->u.mutex); break;
        case SWCO_LOCK_RWLOCK: pthread_rwlock_destroy(&l->u.rwlock); break;
        case SWCO_LOCK_SPINLOCK: pthread_spin_destroy(&l->u.spin); break;
        default: sem_destroy(&l->u.sem); break;
        }
    }
    swco__shm_free(l, sizeof *l);
}

static void wake_oldest(const swco_lock_t *l);
static SWCO__TLS swco__list_t *tls_lock_waits;

/* This thread's id, refreshed in a forked child (whose only thread has a
 * new id while it inherits the parent thread's thread-local storage). */
static SWCO__TLS pid_t tls_tid, tls_tid_pid;

static pid_t my_tid(void)
{
    pid_t pid = swco__pid();
    if (SWCO__UNLIKELY(tls_tid_pid != pid)) {
        tls_tid = (pid_t)syscall(SYS_gettid);
        tls_tid_pid = pid;
    }
    return tls_tid;
}

/* Read locks this thread holds, one record per read-write lock.  Records
 * of another pid were inherited through fork() and mean nothing. */
#define READS_MAX 32
struct read_rec {
    const swco_lock_t *lock;
    unsigned count;
};
/* Not initial-exec like the library's few TLS pointers: 512 bytes would
 * eat the static TLS that a dlopen()ed libswco (Python) may use. */
static __thread read_rec_t tls_reads[READS_MAX];
static __thread unsigned tls_nreads;
static __thread pid_t tls_reads_pid;

static read_rec_t *read_rec(const swco_lock_t *l, int create)
{
    pid_t pid = swco__pid();
    if (SWCO__UNLIKELY(tls_reads_pid != pid)) {
        tls_nreads = 0;
        tls_reads_pid = pid;
    }
    for (unsigned i = 0; i < tls_nreads; i++)
        if (tls_reads[i].lock == l)
            return &tls_reads[i];
    if (!create || tls_nreads == READS_MAX)
        return NULL;
    read_rec_t *r = &tls_reads[tls_nreads++];
    r->lock = l;
    r->count = 0;
    return r;
}

static void read_rec_drop(read_rec_t *r)
{
    *r = tls_reads[--tls_nreads];
}

int swco_lock_get_type(const swco_lock_t *l) { return l ? l->type : swco__fail(-EINVAL); }

/* Map a pthread result; a mutex whose holder died is made consistent. */
static int mutex_result(swco_lock_t *l, int rc)
{
    if (rc == EOWNERDEAD) {
        pthread_mutex_consistent(&l->u.mutex);
        return swco__fail(-EOWNERDEAD);
    }
    return rc ? swco__fail(-rc) : 0;
}

/* Timeouts above SWCO__TIMEOUT_MAX (about 31 years) are clamped to it by
 * swco__deadline_from_timeout(): a huge timeout is a long wait, never an
 * overflowed deadline. */

static int spin_timed(swco_lock_t *l, swco__deadline_t deadline)
{
    for (unsigned i = 0;; i++) {
        if (pthread_spin_trylock(&l->u.spin) == 0)
            return 0;
        if ((i & 63) == 63) {
            if (swco__deadline_passed(deadline))
                return swco__fail(-ETIMEDOUT);
            sched_yield();
        }
    }
}

/* read: 1 for a shared (read) lock; try: do not wait; else wait until
 * deadline (SWCO__DEADLINE_NONE: for ever). */
static int do_lock(swco_lock_t *l, int read, int try, swco__deadline_t deadline)
{
    if (!l)
        return swco__fail(-EINVAL);
    int timed = !try && deadline != SWCO__DEADLINE_NONE;
    struct timespec ts;
    if (timed)
        ts = swco__deadline_timespec(deadline);
    int rc;
    switch (l->type) {
    case SWCO_LOCK_MUTEX:
        rc = try ? pthread_mutex_trylock(&l->u.mutex)
             : timed ? pthread_mutex_clocklock(&l->u.mutex, CLOCK_MONOTONIC, &ts)
                     : pthread_mutex_lock(&l->u.mutex);
        /* An error-checking mutex says EDEADLK when this thread holds it;
         * for a trylock that is just "busy", as documented. */
        if (try && rc == EDEADLK)
            rc = EBUSY;
        return mutex_result(l, rc);
    case SWCO_LOCK_RWLOCK: {
        read_rec_t *rr = NULL;
        if (read) {
            rr = read_rec(l, 1);
            if (!rr)
                return swco__fail(-EAGAIN);
            rc = try ? pthread_rwlock_tryrdlock(&l->u.rwlock)
                 : timed ? pthread_rwlock_clockrdlock(&l->u.rwlock, CLOCK_MONOTONIC, &ts)
                         : pthread_rwlock_rdlock(&l->u.rwlock);
        } else {
            if (!try && __atomic_load_n(&l->owner, __ATOMIC_RELAXED) == my_tid())
                return swco__fail(-EDEADLK);
            rc = try ? pthread_rwlock_trywrlock(&l->u.rwlock)
                 : timed ? pthread_rwlock_clockwrlock(&l->u.rwlock, CLOCK_MONOTONIC, &ts)
                         : pthread_rwlock_wrlock(&l->u.rwlock);
        }
        if (rc) {
            if (rr && rr->count == 0)
                read_rec_drop(rr);
            return swco__fail(-rc);
        }
        if (rr)
            rr->count++;
        else
            __atomic_store_n(&l->owner, my_tid(), __ATOMIC_RELAXED);
        return 0;
    }
    case SWCO_LOCK_SPINLOCK:
        if (try) {
            rc = pthread_spin_trylock(&l->u.spin);
            if (rc)
                return swco__fail(-EBUSY);
        } else {
            /* Spinning on a lock this thread holds would never end. */
            if (__atomic_load_n(&l->owner, __ATOMIC_RELAXED) == my_tid())
                return swco__fail(-EDEADLK);
            rc = spin_timed(l, deadline);
            if (rc)
                return rc;
        }
        __atomic_store_n(&l->owner, my_tid(), __ATOMIC_RELAXED);
        return 0;
    default:
        do {
            rc = try ? sem_trywait(&l->u.sem)
                 : timed ? sem_clockwait(&l->u.sem, CLOCK_MONOTONIC, &ts)
                         : sem_wait(&l->u.sem);
        } while (rc < 0 && errno == EINTR);
        if (rc < 0)
            return swco__fail(errno == EAGAIN ? -EBUSY : -errno);
        return 0;
    }
}

int swco_lock_lock(swco_lock_t *l) { return do_lock(l, 0, 0, SWCO__DEADLINE_NONE); }
int swco_lock_trylock(swco_lock_t *l) { return do_lock(l, 0, 1, SWCO__DEADLINE_NONE); }
int swco_lock_lock_read(swco_lock_t *l) { return do_lock(l, 1, 0, SWCO__DEADLINE_NONE); }
int swco_lock_trylock_read(swco_lock_t *l) { return do_lock(l, 1, 1, SWCO__DEADLINE_NONE); }

int swco_lock_timedlock(swco_lock_t *l, double timeout)
{
    return do_lock(l, 0, 0, swco__deadline_from_timeout(timeout));
}

int swco_lock_timedlock_read(swco_lock_t *l, double timeout)
{
    return do_lock(l, 1, 0, swco__deadline_from_timeout(timeout));
}

int swco_lock_unlock(swco_lock_t *l)
{
    if (!l)
        return swco__fail(-EINVAL);
    int rc;
    switch (l->type) {
    case SWCO_LOCK_MUTEX: rc = pthread_mutex_unlock(&l->u.mutex); break;
    case SWCO_LOCK_RWLOCK:
        /* pthread would take a stranger's unlock for a reader leaving and
         * corrupt the lock: release only what this thread holds. */
        if (__atomic_load_n(&l->owner, __ATOMIC_RELAXED) == my_tid()) {
            __atomic_store_n(&l->owner, 0, __ATOMIC_RELAXED);
        } else {
            read_rec_t *rr = read_rec(l, 0);
            if (!rr)
                return swco__fail(-EPERM);
            if (--rr->count == 0)
                read_rec_drop(rr);
        }
        rc = pthread_rwlock_unlock(&l->u.rwlock);
        break;
    case SWCO_LOCK_SPINLOCK:
        if (__atomic_load_n(&l->owner, __ATOMIC_RELAXED) != my_tid())
            return swco__fail(-EPERM);
        __atomic_store_n(&l->owner, 0, __ATOMIC_RELAXED);
        rc = pthread_spin_unlock(&l->u.spin);
        break;
    default: rc = sem_post(&l->u.sem) < 0 ? errno : 0; break;
    }
    if (rc)
        return swco__fail(-rc);
    if (tls_lock_waits)
        wake_oldest(l);
    return 0;
}

/* Coroutines of one thread waiting in swco_lock_co_lock(), oldest first,
 * whatever lock they wait for.  Only the oldest waiter of a lock polls it
 * (another thread or process may release it); the others sleep until they
 * are the oldest, and an unlock in this thread hands over at once.  This
 * keeps the coroutines of a thread in arrival order. */
typedef struct lock_wait {
    swco__waiter_t w;
    swco_lock_t *lock;
    swco__list_t link;
    int suspended;
} lock_wait_t;

static SWCO__TLS swco__list_t tls_lock_waits_head;
static SWCO__TLS pid_t tls_lock_waits_pid;

static swco__list_t *lock_waits(void)
{
    /* A forked child starts with none: the parent's waiters are not its. */
    if (!tls_lock_waits || tls_lock_waits_pid != swco__pid()) {
        swco__list_init(&tls_lock_waits_head);
        tls_lock_waits = &tls_lock_waits_head;
        tls_lock_waits_pid = swco__pid();
    }
    return tls_lock_waits;
}

static lock_wait_t *oldest_waiter(const swco_lock_t *l)
{
    swco__list_t *head = lock_waits();
    for (swco__list_t *n = head->next; n != head; n = n->next) {
        lock_wait_t *lw = SWCO__CONTAINER(n, lock_wait_t, link);
        if (lw->lock == l)
            return lw;
    }
    return NULL;
}

static void wake_oldest(const swco_lock_t *l)
{
    lock_wait_t *lw = oldest_waiter(l);
    if (lw && lw->suspended) {
        lw->suspended = 0;
        swco__co_wake(&lw->w, 0);
    }
}

static int co_lock(swco_lock_t *l, int read, double timeout)
{
    if (!l)
        return swco__fail(-EINVAL);
    swco__deadline_t deadline = swco__deadline_from_timeout(timeout);
    if (!swco__co_current())
        return do_lock(l, read, 0, deadline);
    int rc;
    if (!oldest_waiter(l)) {
        rc = do_lock(l, read, 1, SWCO__DEADLINE_NONE);
        /* Another coroutine of this thread may hold it: that is busy too. */
        if (rc != -EBUSY && rc != -EDEADLK)
            return rc;
    }
    rc = swco__co_can_wait();
    if (rc < 0)
        return swco__fail(rc);
    int64_t pause_ns = 100000;
    lock_wait_t lw = {.lock = l};
    lw.w.co = swco__co_current();
    lw.w.what = "lock";
    swco__list_push(lock_waits(), &lw.link);
    for (;;) {
        int oldest = oldest_waiter(l) == &lw;
        if (oldest) {
            rc = do_lock(l, read, 1, SWCO__DEADLINE_NONE);
            if (rc != -EBUSY && rc != -EDEADLK)
                break;
        }
        if (swco__deadline_passed(deadline)) {
            rc = swco__fail(-ETIMEDOUT);
            break;
        }
        /* The oldest polls with a growing pause; the others wait their turn. */
        swco__deadline_t until = deadline;
        if (oldest) {
            swco__deadline_t next_poll = swco__clock_ns() + pause_ns;
            if (next_poll < until)
                until = next_poll;
        }
        lw.suspended = 1;
        rc = swco__wait_until(&lw.w, until);
        lw.suspended = 0;
        if (rc == -ETIMEDOUT)
            rc = 0;
        if (rc < 0) {
            swco__fail(rc);
            break;
        }
        if (oldest && pause_ns < 10000000)
            pause_ns *= 2;
    }
    int was_oldest = oldest_waiter(l) == &lw;
    swco__list_unlink(&lw.link);
    /* The next in line takes over polling; readers and semaphore takers
     * may share the lock, so they try at once too. */
    int got = rc == 0 || rc == -EOWNERDEAD;
    if (was_oldest && (!got || read || l->type == SWCO_LOCK_SEM))
        wake_oldest(l);
    return rc;
}

int swco_lock_co_lock(swco_lock_t *l, double timeout) { return co_lock(l, 0, timeout); }
int swco_lock_co_lock_read(swco_lock_t *l, double timeout) { return co_lock(l, 1, timeout); }
