/* libswco: timers on the per-thread loop (a min-heap). */
#ifndef SWCO_TIMER_H
#define SWCO_TIMER_H

#include <swco/export.h>
#include <swco/types.h>

SWCO_BEGIN_DECLS

/* Flags for swco_timer_add(). */
enum swco_timer_flag {
    SWCO_TIMER_TICK = 1,         /* repeat every period until cleared */
    SWCO_TIMER_NO_COROUTINE = 2  /* run fn on the loop's stack, not in a new coroutine */
};

/* Timer callback: the timer's id and the arg given when it was added. */
typedef void (*swco_timer_fn)(long timer_id, void *arg);

/**
 * swco_timer_after - call fn once after some seconds
 *
 * fn(id, arg) runs in a new coroutine of the calling thread, so it may sleep
 * or wait.  seconds may be fractional; the loop's resolution is 1 ms and 0
 * means the next turn of the loop.  arg_free(arg), when not NULL, is called
 * once the timer is done: after its callback has returned, or when it is
 * cleared before it fires (or is still pending when the thread's loop is
 * released).  When the call fails it is not called and arg stays the
 * caller's.  Returns the timer id (> 0, never reused in the process), or
 * -EINVAL for fn NULL or seconds negative, not finite or above 2^40 ms.
 * SWCO_ECOLIMIT is reported later to the log if no coroutine can be created
 * when it fires.
 */
SWCO_API long swco_timer_after(double seconds, swco_timer_fn fn, void *arg, swco_free_fn arg_free);

/**
 * swco_timer_tick - call fn every so many seconds until cleared
 *
 * The schedule does not drift: a callback that takes 5 ms of a 10 ms period
 * does not move the next call.  A callback (or a busy loop) that overruns
 * one or more periods makes those calls be dropped, and the next call happens
 * at the next point of the original schedule.  A period below the loop's
 * 1 ms resolution (0 included) is 1 ms.  arg_free(arg), when not NULL, is
 * called once the timer is cleared and its last callback has returned.
 * Returns the timer id or -EINVAL, as swco_timer_after().
 */
SWCO_API long swco_timer_tick(double seconds, swco_timer_fn fn, void *arg, swco_free_fn arg_free);

/**
 * swco_timer_add - add a timer with flags
 *
 * flags is a mask of SWCO_TIMER_TICK and SWCO_TIMER_NO_COROUTINE; the rest
 * is as swco_timer_after() (one-shot) and swco_timer_tick() (SWCO_TIMER_TICK).
 * Returns the id or -EINVAL.
 */
SWCO_API long swco_timer_add(double seconds, int flags, swco_timer_fn fn, void *arg,
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
