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
 *
 * swco_select_wait() waits on several pushes and pops at once (Go's
 * select): see "select" below.
 */
#ifndef SWCO_CHANNEL_H
#define SWCO_CHANNEL_H

#include <swco/export.h>
#include <swco/types.h>

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

/* ---------------------------------------------------------------- select
 *
 * A select waits on several channel operations at once and completes
 * exactly one of them, as Go's select statement: build it with
 * swco_select_add_pop() and swco_select_add_push() (each returns the case's
 * index, 0, 1, 2, ... in the order added), then call swco_select_wait()
 * (with a timeout) or swco_select_try() (Go's "default": never waits).
 * Both return the index of the case that completed.
 *
 * - A pop case is ready when its channel has a buffered value, a waiting
 *   pusher, or is closed; it completes by taking the value (read it with
 *   swco_select_value()), or, on a closed and drained channel, with no
 *   value and swco_select_closed() == 1.
 * - A push case is ready when its channel has room or a waiting popper, or
 *   is closed; it completes when the value is buffered or taken, so on an
 *   unbuffered channel only when a popper takes it.  A push case on a closed
 *   channel makes wait/try return SWCO_ECLOSED (Go panics there) and
 *   swco_select_index() names it; its value was not taken.
 * - Fairness: when several cases are ready, each is chosen with the same
 *   probability.  A select never completes two cases, and never meets
 *   itself (a push and a pop case on one channel do not pair up).
 * - While it waits, the select counts once per case in the channels'
 *   swco_channel_consumers()/swco_channel_producers(); a waiting pusher or
 *   popper that arrives is served in turn with the others (FIFO).  When the
 *   call returns, no case is left waiting on any channel.
 * - Who runs next is as for push and pop (top of this header).
 *
 * The channels must be the calling thread's (else -EPERM) and must outlive
 * the cases on them: a channel freed while a select waits on it wakes the
 * select as swco_channel_close() does; call swco_select_reset() (or free the
 * select) before waiting again.  A select object is used by one coroutine
 * at a time (-EBUSY for a second caller while a wait or try runs) and may be
 * reused for as many waits as wanted; the cases stay until reset.
 */

typedef struct swco_select swco_select_t;

/**
 * swco_select_new - create an empty channel select
 *
 * Returns a select with no cases, or NULL with swco_last_error() set to
 * -ENOMEM.  Free it with swco_select_free().
 */
SWCO_API swco_select_t *swco_select_new(void);

/**
 * swco_select_free - free a channel select
 *
 * Frees sel and its cases; the channels and the values of push cases are
 * left alone.  NULL is ignored.  While a wait or try on sel runs (a
 * coroutine woken by it calls this), it does nothing and sets
 * swco_last_error() to -EBUSY.
 */
SWCO_API void swco_select_free(swco_select_t *sel);

/**
 * swco_select_add_pop - add a case that pops from a channel
 *
 * Returns the case's index (>= 0, one more than the previous case's),
 * -EINVAL for sel or chan NULL, -EBUSY while a wait or try on sel runs, or
 * -ENOMEM.  A channel may appear in several cases.
 */
SWCO_API int swco_select_add_pop(swco_select_t *sel, swco_channel_t *chan);

/**
 * swco_select_add_push - add a case that pushes value to a channel
 *
 * Returns the case's index (>= 0, one more than the previous case's),
 * -EINVAL for sel or chan NULL, -EBUSY while a wait or try on sel runs, or
 * -ENOMEM.  value is pushed only if this case is the one that completes; the
 * select never frees it.
 */
SWCO_API int swco_select_add_push(swco_select_t *sel, swco_channel_t *chan, void *value);

/**
 * swco_select_wait - complete one case, waiting up to timeout seconds
 *
 * When cases are ready, completes one chosen at random among them at once;
 * else waits until one completes, up to timeout seconds (< 0 or 0: for ever,
 * as the channel calls).  A pop case completes with a value
 * (swco_select_value()) or on a closed, drained channel without one
 * (swco_select_closed() == 1); a push case when its value is buffered or
 * taken.  When it returns, no case is left waiting on any channel; the
 * rules in full are in the "select" section of <swco/channel.h>.  Returns
 * the index of the completed case, or
 * -ETIMEDOUT, SWCO_ECLOSED (a push case's channel is closed; see
 * swco_select_index()), -ECANCELED (the coroutine was cancelled),
 * SWCO_ENOTCO (it would have to wait outside a coroutine), -EPERM (a case's
 * channel belongs to another thread; nothing done), -EBUSY (sel is in use
 * by another wait or try), -EINVAL (sel NULL or without cases), or an error
 * of the timer.  On an error no case completed and no channel changed.
 */
SWCO_API int swco_select_wait(swco_select_t *sel, double timeout);

/**
 * swco_select_try - complete one ready case without waiting
 *
 * Go's "default" clause: as swco_select_wait() when a case is ready (chosen
 * at random among the ready ones), else returns -EAGAIN at once.  Never
 * waits, so it works outside a coroutine too.  Returns the index of the
 * completed case, -EAGAIN, SWCO_ECLOSED, -EPERM, -EBUSY or -EINVAL.
 */
SWCO_API int swco_select_try(swco_select_t *sel);

/**
 * swco_select_value - value taken by the last completed pop case
 *
 * After swco_select_wait() or swco_select_try() returned the index of a pop
 * case, the value it popped (NULL when its channel was closed and drained:
 * see swco_select_closed()).  NULL after any other result, after
 * swco_select_reset(), and for sel NULL.
 */
SWCO_API void *swco_select_value(const swco_select_t *sel);

/**
 * swco_select_closed - whether the last call ended on a closed channel
 *
 * Returns 1 when the last swco_select_wait() or swco_select_try() ended on
 * a case whose channel was closed (a pop case completed without a value, or
 * SWCO_ECLOSED for a push case), 0 otherwise, -EINVAL for NULL.
 */
SWCO_API int swco_select_closed(const swco_select_t *sel);

/**
 * swco_select_index - the case the last call ended on
 *
 * Returns the index that the last swco_select_wait() or swco_select_try()
 * returned, or for SWCO_ECLOSED the push case whose channel is closed;
 * -ENOENT when the last call ended on no case (a timeout, -EAGAIN, ...) or
 * none was made since creation or swco_select_reset(); -EINVAL for NULL.
 */
SWCO_API int swco_select_index(const swco_select_t *sel);

/**
 * swco_select_count - number of cases
 *
 * Returns the number of cases added since creation or the last
 * swco_select_reset(), or -EINVAL for NULL.
 */
SWCO_API int swco_select_count(const swco_select_t *sel);

/**
 * swco_select_reset - remove every case
 *
 * Empties sel for reuse with new cases (the memory is kept) and forgets the
 * last result.  Returns 0, -EBUSY while a wait or try on sel runs, or
 * -EINVAL for NULL.
 */
SWCO_API int swco_select_reset(swco_select_t *sel);

SWCO_END_DECLS

#endif /* SWCO_CHANNEL_H */
