/* libswco: atomic counters in shared memory.
 *
 * Both kinds live in an anonymous shared mapping, so a counter created
 * before fork() is the same counter in every child.  The 32-bit unsigned
 * counter also offers wait/wakeup through a futex on that memory.
 */
#ifndef SWCO_ATOMIC_H
#define SWCO_ATOMIC_H

#include <stdint.h>

#include <swco/export.h>

SWCO_BEGIN_DECLS

typedef struct swco_atomic swco_atomic_t;
typedef struct swco_atomic64 swco_atomic64_t;

/**
 * swco_atomic_new - create a shared 32-bit unsigned counter
 *
 * The counter starts at value and is shared with every process forked
 * after this call.  Returns it, or NULL with swco_last_error() set
 * (-ENOMEM).
 */
SWCO_API swco_atomic_t *swco_atomic_new(uint32_t value);

/**
 * swco_atomic_free - release this process's mapping of a counter
 *
 * Other processes keep their own mapping.  NULL is ignored.
 */
SWCO_API void swco_atomic_free(swco_atomic_t *a);

/**
 * swco_atomic_add - add n and return the new value
 *
 * Wraps modulo 2^32.  a must not be NULL.
 */
SWCO_API uint32_t swco_atomic_add(swco_atomic_t *a, uint32_t n);

/**
 * swco_atomic_sub - subtract n and return the new value
 *
 * Wraps modulo 2^32.  a must not be NULL.
 */
SWCO_API uint32_t swco_atomic_sub(swco_atomic_t *a, uint32_t n);

/**
 * swco_atomic_get - read the current value
 *
 * a must not be NULL.
 */
SWCO_API uint32_t swco_atomic_get(swco_atomic_t *a);

/**
 * swco_atomic_set - store value
 *
 * Does not wake waiters; use swco_atomic_wakeup() for that.  a must not
 * be NULL.
 */
SWCO_API void swco_atomic_set(swco_atomic_t *a, uint32_t value);

/**
 * swco_atomic_cmpset - store value if the counter equals cmp
 *
 * Returns 1 when it stored value, 0 when the counter held something else,
 * -EINVAL for NULL.
 */
SWCO_API int swco_atomic_cmpset(swco_atomic_t *a, uint32_t cmp, uint32_t value);

/**
 * swco_atomic_wait - wait until another process calls swco_atomic_wakeup()
 *
 * The counter is used as a flag, as in Swoole: when it is 1 the call
 * resets it to 0 and returns at once; while it is 0 the calling thread
 * sleeps on a futex for up to timeout seconds (< 0 or 0: for ever).
 * This blocks the thread, also inside a coroutine.  Returns 0 when woken,
 * -ETIMEDOUT, -EINTR when a signal interrupted the wait, -EINVAL for NULL.
 */
SWCO_API int swco_atomic_wait(swco_atomic_t *a, double timeout);

/**
 * swco_atomic_wakeup - wake up to n waiters of swco_atomic_wait()
 *
 * Sets the counter from 0 to 1 and wakes up to n (>= 1) threads or
 * processes sleeping on it.  Returns how many were woken (0 when the
 * counter was not 0 or nobody slept), or -EINVAL.
 */
SWCO_API int swco_atomic_wakeup(swco_atomic_t *a, int n);

/**
 * swco_atomic64_new - create a shared 64-bit signed counter
 *
 * Returns it, or NULL with swco_last_error() set (-ENOMEM).  It has no
 * wait/wakeup.
 */
SWCO_API swco_atomic64_t *swco_atomic64_new(int64_t value);

/**
 * swco_atomic64_free - release this process's mapping of a 64-bit counter
 *
 * NULL is ignored.
 */
SWCO_API void swco_atomic64_free(swco_atomic64_t *a);

/**
 * swco_atomic64_add - add n and return the new value
 *
 * a must not be NULL.
 */
SWCO_API int64_t swco_atomic64_add(swco_atomic64_t *a, int64_t n);

/**
 * swco_atomic64_sub - subtract n and return the new value
 *
 * a must not be NULL.
 */
SWCO_API int64_t swco_atomic64_sub(swco_atomic64_t *a, int64_t n);

/**
 * swco_atomic64_get - read the current value
 *
 * a must not be NULL.
 */
SWCO_API int64_t swco_atomic64_get(swco_atomic64_t *a);

/**
 * swco_atomic64_set - store value
 *
 * a must not be NULL.
 */
SWCO_API void swco_atomic64_set(swco_atomic64_t *a, int64_t value);

/**
 * swco_atomic64_cmpset - store value if the counter equals cmp
 *
 * Returns 1 when it stored value, 0 otherwise, -EINVAL for NULL.
 */
SWCO_API int swco_atomic64_cmpset(swco_atomic64_t *a, int64_t cmp, int64_t value);

SWCO_END_DECLS

#endif /* SWCO_ATOMIC_H */
