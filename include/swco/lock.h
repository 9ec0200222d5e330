/* libswco: locks in shared memory, usable across fork().
 *
 * One type, four kinds: a robust process-shared mutex, a read-write lock,
 * a spinlock and a counting semaphore.  Every kind has lock, trylock and a
 * timed lock; swco_lock_co_lock() is the coroutine-aware lock that yields
 * the coroutine while the lock is busy instead of blocking the thread.
 * Only the mutex survives a holder that dies: a read-write lock, spinlock
 * or semaphore held by a dead process stays held (use the timed calls).
 *
 * A mutex, read-write lock or spinlock belongs to the thread that took it
 * (every coroutine of that thread may release it): an unlock from any other
 * thread or process is refused with -EPERM and leaves the lock as it was.
 * A semaphore has no owner: any thread or process may post it.  A thread
 * may hold read locks on up to 32 read-write locks at once.  Timeouts above
 * about 31 years (1e9 seconds) are clamped to it, so a huge timeout is a
 * long wait; an infinite one waits for ever.
 */
#ifndef SWCO_LOCK_H
#define SWCO_LOCK_H

#include <swco/export.h>

SWCO_BEGIN_DECLS

typedef struct swco_lock swco_lock_t;

/* Lock kinds for swco_lock_new(). */
enum swco_lock_kind {
    SWCO_LOCK_MUTEX = 0,    /* robust: a dead holder hands over -EOWNERDEAD */
    SWCO_LOCK_RWLOCK = 1,   /* many readers or one writer */
    SWCO_LOCK_SPINLOCK = 2, /* busy-waits; for very short sections */
    SWCO_LOCK_SEM = 3       /* counting semaphore; lock = wait, unlock = post */
};

/**
 * swco_lock_new - create a lock in shared memory
 *
 * type is one of SWCO_LOCK_MUTEX, SWCO_LOCK_RWLOCK, SWCO_LOCK_SPINLOCK,
 * SWCO_LOCK_SEM; value is the initial count of a semaphore (ignored by the
 * other kinds).  Create it before fork() to share it with the children.
 * Returns it, or NULL with swco_last_error() set to -EINVAL or -ENOMEM.
 */
SWCO_API swco_lock_t *swco_lock_new(int type, unsigned value);

/**
 * swco_lock_free - destroy the lock and release this process's mapping
 *
 * Call it once no process uses the lock any more.  NULL is ignored.
 */
SWCO_API void swco_lock_free(swco_lock_t *lock);

/**
 * swco_lock_get_type - the kind the lock was created with
 *
 * Returns a SWCO_LOCK_* value, or -EINVAL for NULL.
 */
SWCO_API int swco_lock_get_type(const swco_lock_t *lock);

/**
 * swco_lock_lock - take the lock (write lock for a read-write lock)
 *
 * Blocks the thread until it is free.  Returns 0; -EOWNERDEAD when the
 * previous holder of a mutex died holding it (the caller now holds it and
 * the lock is usable again; the data it guards may be half updated);
 * -EDEADLK when this thread already holds the mutex, the write lock of a
 * read-write lock or the spinlock; -EINVAL for NULL.
 */
SWCO_API int swco_lock_lock(swco_lock_t *lock);

/**
 * swco_lock_trylock - take the lock if it is free at once
 *
 * Returns 0, -EBUSY when it is held, by this thread too (-EAGAIN for a
 * semaphore at 0 is reported as -EBUSY too), -EOWNERDEAD as
 * swco_lock_lock(), -EINVAL.
 */
SWCO_API int swco_lock_trylock(swco_lock_t *lock);

/**
 * swco_lock_timedlock - take the lock, waiting up to timeout seconds
 *
 * timeout < 0 or 0 waits for ever; a timeout above 1e9 seconds waits that
 * long.  Returns 0, -ETIMEDOUT, -EOWNERDEAD and -EDEADLK as
 * swco_lock_lock(), -EINVAL.
 */
SWCO_API int swco_lock_timedlock(swco_lock_t *lock, double timeout);

/**
 * swco_lock_unlock - release the lock (or post the semaphore)
 *
 * Releases the write lock or one read lock this thread holds.  Returns 0;
 * -EPERM when this thread does not hold the mutex, read-write lock or
 * spinlock (the lock is left as it was); -EOVERFLOW when a semaphore is at
 * its maximum; -EINVAL.  A semaphore has no owner: any thread or process
 * may post it.
 */
SWCO_API int swco_lock_unlock(swco_lock_t *lock);

/**
 * swco_lock_lock_read - take a read lock
 *
 * For a read-write lock many readers may hold it together; for the other
 * kinds it is the same as swco_lock_lock().  Release with
 * swco_lock_unlock() in the same thread.  A thread may take it again
 * (each needs its unlock).  Returns as swco_lock_lock(), plus -EAGAIN when
 * this thread already holds read locks on 32 other read-write locks.
 */
SWCO_API int swco_lock_lock_read(swco_lock_t *lock);

/**
 * swco_lock_trylock_read - take a read lock if possible at once
 *
 * Returns as swco_lock_trylock().
 */
SWCO_API int swco_lock_trylock_read(swco_lock_t *lock);

/**
 * swco_lock_timedlock_read - take a read lock, waiting up to timeout seconds
 *
 * Returns as swco_lock_timedlock().
 */
SWCO_API int swco_lock_timedlock_read(swco_lock_t *lock, double timeout);

/**
 * swco_lock_co_lock - take the lock, yielding the coroutine while it is busy
 *
 * Inside a coroutine the thread keeps running other coroutines while the
 * lock is busy.  Coroutines of one thread get the lock in the order they
 * asked for it: an unlock in the same thread hands it to the oldest waiter
 * at once, and that oldest waiter also retries with short sleeps (0.1 ms
 * growing to 10 ms) for releases by other threads and processes.  Outside
 * a coroutine it is swco_lock_timedlock().  Locks belong to the thread, so
 * coroutines of one thread exclude each other only through this call and
 * a coroutine that locks twice waits until its timeout.  timeout as
 * there.  Returns 0,
 * -ETIMEDOUT, -ECANCELED when the coroutine is cancelled, -EOWNERDEAD,
 * -EINVAL.
 */
SWCO_API int swco_lock_co_lock(swco_lock_t *lock, double timeout);

/**
 * swco_lock_co_lock_read - read lock that yields the coroutine while busy
 *
 * As swco_lock_co_lock(), taking a read lock.
 */
SWCO_API int swco_lock_co_lock_read(swco_lock_t *lock, double timeout);

SWCO_END_DECLS

#endif /* SWCO_LOCK_H */
