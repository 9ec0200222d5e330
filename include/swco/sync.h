/* libswco: WaitGroup, mutex and condition variable for coroutines of one
 * thread.  Waiting yields the coroutine; nothing blocks the thread. */
#ifndef SWCO_SYNC_H
#define SWCO_SYNC_H

#include <swco/export.h>

SWCO_BEGIN_DECLS

typedef struct swco_waitgroup swco_waitgroup_t;
typedef struct swco_mutex swco_mutex_t;
typedef struct swco_cond swco_cond_t;

/**
 * swco_waitgroup_new - create a WaitGroup with a count of 0
 *
 * Returns it, or NULL with swco_last_error() set to -ENOMEM.
 */
SWCO_API swco_waitgroup_t *swco_waitgroup_new(void);

/**
 * swco_waitgroup_free - free a WaitGroup
 *
 * Waiters still blocked in swco_waitgroup_wait() wake with SWCO_ECLOSED.
 * NULL is ignored.
 */
SWCO_API void swco_waitgroup_free(swco_waitgroup_t *wg);

/**
 * swco_waitgroup_add - add delta (may be negative) to the count
 *
 * When the count reaches 0 every waiter wakes.  Returns 0, -EINVAL for NULL,
 * or -ERANGE when the count would go below 0 (the count is left unchanged).
 */
SWCO_API int swco_waitgroup_add(swco_waitgroup_t *wg, long delta);

/**
 * swco_waitgroup_done - subtract one from the count
 *
 * Same as swco_waitgroup_add(wg, -1).
 */
SWCO_API int swco_waitgroup_done(swco_waitgroup_t *wg);

/**
 * swco_waitgroup_wait - wait until the count is 0
 *
 * Returns 0 at once when the count is 0; otherwise waits up to timeout
 * seconds (<= 0: for ever).  Returns 0, -ETIMEDOUT, -ECANCELED, SWCO_ECLOSED
 * (freed while waiting), SWCO_ENOTCO when it would wait outside a coroutine,
 * -EINVAL for NULL.
 */
SWCO_API int swco_waitgroup_wait(swco_waitgroup_t *wg, double timeout);

/**
 * swco_waitgroup_count - the current count
 *
 * Returns it, or -EINVAL for NULL.
 */
SWCO_API long swco_waitgroup_count(const swco_waitgroup_t *wg);

/**
 * swco_mutex_new - create a coroutine mutex
 *
 * Locking a held mutex yields the coroutine until it is unlocked; waiters
 * get it in arrival order.  Returns it, or NULL with -ENOMEM.
 */
SWCO_API swco_mutex_t *swco_mutex_new(void);

/**
 * swco_mutex_free - free a coroutine mutex
 *
 * Waiters wake with SWCO_ECLOSED.  NULL is ignored.
 */
SWCO_API void swco_mutex_free(swco_mutex_t *mutex);

/**
 * swco_mutex_lock - lock, waiting up to timeout seconds (<= 0: for ever)
 *
 * Returns 0, -ETIMEDOUT, -ECANCELED, SWCO_ECLOSED, -EDEADLK when the
 * calling coroutine holds it already, SWCO_ENOTCO outside a coroutine, or
 * -EINVAL for NULL.
 */
SWCO_API int swco_mutex_lock(swco_mutex_t *mutex, double timeout);

/**
 * swco_mutex_trylock - lock without waiting
 *
 * Returns 0, -EBUSY when held, SWCO_ENOTCO outside a coroutine, -EINVAL.
 */
SWCO_API int swco_mutex_trylock(swco_mutex_t *mutex);

/**
 * swco_mutex_unlock - unlock and hand the mutex to the first waiter
 *
 * Returns 0, -EPERM when the calling coroutine does not hold it, -EINVAL.
 */
SWCO_API int swco_mutex_unlock(swco_mutex_t *mutex);

/**
 * swco_cond_new - create a condition variable for coroutines
 *
 * Returns it, or NULL with -ENOMEM.
 */
SWCO_API swco_cond_t *swco_cond_new(void);

/**
 * swco_cond_free - free a condition variable
 *
 * Waiters wake with SWCO_ECLOSED.  NULL is ignored.
 */
SWCO_API void swco_cond_free(swco_cond_t *cond);

/**
 * swco_cond_wait - release mutex, wait for a signal, lock mutex again
 *
 * The caller must hold mutex.  Waits up to timeout seconds (<= 0: for ever)
 * and holds mutex again when it returns, unless the coroutine was cancelled
 * (-ECANCELED) while another coroutine held it.  Returns 0, -ETIMEDOUT,
 * -ECANCELED, SWCO_ECLOSED, -EPERM (mutex not held), SWCO_ENOTCO, -EINVAL.
 */
SWCO_API int swco_cond_wait(swco_cond_t *cond, swco_mutex_t *mutex, double timeout);

/**
 * swco_cond_signal - wake the longest waiting coroutine
 *
 * Returns 0 or -EINVAL.
 */
SWCO_API int swco_cond_signal(swco_cond_t *cond);

/**
 * swco_cond_broadcast - wake every waiting coroutine
 *
 * Returns 0 or -EINVAL.
 */
SWCO_API int swco_cond_broadcast(swco_cond_t *cond);

SWCO_END_DECLS

#endif /* SWCO_SYNC_H */
