/* libswco: channels between coroutines of one thread.
 *
 * A channel carries pointers.  With capacity > 0 it buffers that many; with
 * capacity 0 it is an unbuffered rendezvous: push returns once a popper has
 * taken the value.  Waiting pushers and poppers are served first come, first
 * served.  Timeouts are seconds: < 0 or 0 wait for ever, > 0 the limit.
 *
 * Who runs next when a call ends another coroutine's wait:
 * - capacity > 0 (Swoole's channels): the woken coroutine runs at once; the
 *   caller continues when it waits, yields or ends.
 * - capacity 0 (Go's unbuffered channels): the caller's push or pop completes
 *   and the caller goes on; the coroutine whose wait it ended runs as soon as
 *   the caller waits or yields (before the caller's own origin), or at the
 *   event loop's next turn if the caller ends first.  Called outside any
 *   coroutine, it runs at once.
 * - swco_channel_close(): every woken waiter runs at once.
 *
 * A channel belongs to the thread that created it.  Push, pop and close
 * from any other thread (whether or not it runs its own swco_run()) fail
 * with -EPERM and change nothing; to pass values between threads, give each
 * thread its own channel and wake the other side with an fd (a pipe or
 * eventfd it waits on with swco_event_wait_fd()).  The read-only calls
 * (length, capacity, ...) may be made from any thread.
 */
#ifndef SWCO_CHANNEL_H
#define SWCO_CHANNEL_H

#include <swco/export.h>
#include <swco/coroutine.h>

SWCO_BEGIN_DECLS

typedef struct swco_channel swco_channel_t;

/**
 * swco_channel_new - create a channel
 *
 * Returns a channel that buffers up to capacity values (0: unbuffered), or
 * NULL with swco_last_error() set to -EINVAL (negative capacity) or -ENOMEM.
 */
SWCO_API swco_channel_t *swco_channel_new(long capacity);

/**
 * swco_channel_new_ex - create a channel that owns what it holds
 *
 * As swco_channel_new(); item_free(value), when not NULL, is called for each
 * value still buffered when the channel is freed.
 */
SWCO_API swco_channel_t *swco_channel_new_ex(long capacity, swco_free_fn item_free);

/**
 * swco_channel_free - close and free a channel
 *
 * Closes the channel first (waking every waiter with SWCO_ECLOSED), releases
 * buffered values with the item_free given at creation, then frees it.  NULL
 * is ignored.  From a thread other than the creator's it frees the channel
 * only when no coroutine waits on it; otherwise it does nothing and sets
 * swco_last_error() to -EPERM.
 */
SWCO_API void swco_channel_free(swco_channel_t *chan);

/**
 * swco_channel_push - send a value
 *
 * Stores value, handing it straight to a waiting popper when there is one
 * (see the top of this header for which of the two runs first).
 * When the channel is full (always, when unbuffered and nobody pops) the
 * coroutine waits up to timeout seconds.  Returns 0, -ETIMEDOUT,
 * SWCO_ECLOSED (closed before or while waiting; the value was not taken),
 * -ECANCELED, SWCO_ENOTCO when it would have to wait outside a coroutine,
 * -EPERM from a thread other than the channel's, or -EINVAL for chan NULL.
 */
SWCO_API int swco_channel_push(swco_channel_t *chan, void *value, double timeout);

/**
 * swco_channel_pop - receive a value
 *
 * Takes the oldest value into *value, waiting up to timeout seconds when the
 * channel is empty; on an unbuffered channel it takes the value of the
 * oldest waiting pusher, whose push then returns 0.  A closed channel still gives its buffered values, then
 * SWCO_ECLOSED.  Returns 0, -ETIMEDOUT, SWCO_ECLOSED, -ECANCELED, SWCO_ENOTCO,
 * -EPERM (from a thread other than the channel's) or -EINVAL (chan or value
 * NULL).  *value is untouched on failure.
 */
SWCO_API int swco_channel_pop(swco_channel_t *chan, void **value, double timeout);

/**
 * swco_channel_close - close a channel
 *
 * Every waiting pusher and popper wakes with SWCO_ECLOSED; later pushes fail
 * with SWCO_ECLOSED, later pops drain the buffer and then fail.  Returns 0,
 * SWCO_ECLOSED when already closed, -EPERM from a thread other than the
 * channel's, -EINVAL for NULL.
 */
SWCO_API int swco_channel_close(swco_channel_t *chan);

/**
 * swco_channel_is_closed - whether swco_channel_close() was called
 *
 * Returns 1, 0, or -EINVAL for NULL.
 */
SWCO_API int swco_channel_is_closed(const swco_channel_t *chan);

/**
 * swco_channel_length - number of buffered values
 *
 * Returns the count, or -EINVAL for NULL.
 */
SWCO_API long swco_channel_length(const swco_channel_t *chan);

/**
 * swco_channel_capacity - capacity given at creation
 *
 * Returns it, or -EINVAL for NULL.
 */
SWCO_API long swco_channel_capacity(const swco_channel_t *chan);

/**
 * swco_channel_producers - number of coroutines waiting to push
 *
 * Returns it, or -EINVAL for NULL.
 */
SWCO_API long swco_channel_producers(const swco_channel_t *chan);

/**
 * swco_channel_consumers - number of coroutines waiting to pop
 *
 * Returns it, or -EINVAL for NULL.
 */
SWCO_API long swco_channel_consumers(const swco_channel_t *chan);

SWCO_END_DECLS

#endif /* SWCO_CHANNEL_H */
