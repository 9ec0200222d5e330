/* libswco: timers on the per-thread loop (a min-heap). */
#ifndef SWCO_TIMER_H
#define SWCO_TIMER_H

#include <swco/export.h>
#include <swco/coroutine.h>

SWCO_BEGIN_DECLS

/* Flags for swco_timer_add(). */
enum swco_timer_flag {
    SWCO_TIMER_TICK = 1,         /* repeat every ms until cleared */
    SWCO_TIMER_NO_COROUTINE = 2  /* run fn on the loop's stack, not in a new coroutine */
};

/* Timer callback: the timer's id and the arg given when it was added. */
typedef void (*swco_timer_fn)(long timer_id, void *arg);

/**
 * swco_timer_after - call fn once after ms milliseconds
 *
 * fn(id, arg) runs in a new coroutine of the calling thread, so it may sleep
 * or wait.  Returns the timer id (> 0, never reused in the process), or
 * -EINVAL for fn NULL or ms outside 1..2^40, SWCO_ECOLIMIT is reported later
 * to the log if no coroutine can be created when it fires.
 */
SWCO_API long swco_timer_after(long ms, swco_timer_fn fn, void *arg);

/**
 * swco_timer_tick - call fn every ms milliseconds until cleared
 *
 * The schedule does not drift: a callback that takes 5 ms of a 10 ms period
 * does not move the next call.  A callback (or a busy loop) that overruns
 * one or more periods makes those calls be dropped, and the next call happens
 * at the next point of the original schedule.  Returns the timer id or
 * -EINVAL, as swco_timer_after().
 */
SWCO_API long swco_timer_tick(long ms, swco_timer_fn fn, void *arg);

/**
 * swco_timer_add - add a timer with flags and an arg destructor
 *
 * flags is a mask of SWCO_TIMER_TICK and SWCO_TIMER_NO_COROUTINE.
 * arg_free(arg), when not NULL, is called once the timer is done: after a
 * one-shot timer's callback, or when the timer is cleared.  Returns the id or
 * -EINVAL.
 */
SWCO_API long swco_timer_add(long ms, int flags, swco_timer_fn fn, void *arg,
                             swco_free_fn arg_free);

/**
 * swco_timer_clear - stop a timer
 *
 * Clearing a timer whose callback is running stops its later runs.  Returns
 * 0, or SWCO_ENOTIMER when id is not an active timer of this thread.
 */
SWCO_API int swco_timer_clear(long timer_id);

/**
 * swco_timer_exists - whether a timer is active in this thread
 *
 * Returns 1 or 0.
 */
SWCO_API int swco_timer_exists(long timer_id);

/**
 * swco_timer_count - number of active timers in this thread
 *
 * Counts timers added through this header, not the library's internal ones
 * (socket and channel timeouts, sleeps).
 */
SWCO_API long swco_timer_count(void);

SWCO_END_DECLS

#endif /* SWCO_TIMER_H */
