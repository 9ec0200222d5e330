/* Deadlines: the one form a timeout takes inside the library.
 *
 * A public call takes its timeout as seconds (a double) and turns it into a
 * deadline once, on entry, with swco__deadline_from_timeout(); everything
 * below it (loops that retry, waits on fds, futexes, locks) passes the
 * deadline on and asks how much of it is left.  A deadline is an absolute
 * CLOCK_MONOTONIC time in nanoseconds; SWCO__DEADLINE_NONE, the largest
 * value, means "no limit", so "now >= deadline" is simply never true for it.
 *
 * Self-contained and all inline: libswco_hook, which sees only the public
 * symbols of libswco, and the unit tests use it too. */
#ifndef SWCO_DEADLINE_H
#define SWCO_DEADLINE_H

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <time.h>

typedef int64_t swco__deadline_t;

/* No limit: wait for ever. */
#define SWCO__DEADLINE_NONE INT64_MAX

/* The longest finite timeout honoured, in seconds (about 31.7 years).  A
 * longer one is clamped to it: a huge timeout is a long wait, never an
 * overflowed deadline.  (lock.h documents this bound.) */
#define SWCO__TIMEOUT_MAX 1e9

/* The monotonic clock in nanoseconds. */
static inline int64_t swco__clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* A timeout in seconds, as every public call documents it, to a deadline:
 * seconds > 0 ends that long from now (rounded up to whole nanoseconds, so
 * at least 1 ns; at most SWCO__TIMEOUT_MAX); seconds <= 0, NaN and
 * +infinity mean no limit.  (A call where 0 means something else, like a
 * socket's "use the socket's setting", settles that before converting.) */
static inline swco__deadline_t swco__deadline_from_timeout(double seconds)
{
    if (!(seconds > 0) || seconds == (double)INFINITY)
        return SWCO__DEADLINE_NONE;
    if (seconds > SWCO__TIMEOUT_MAX)
        seconds = SWCO__TIMEOUT_MAX;
    double ns = seconds * 1e9; /* <= 1e18: fits int64_t */
    int64_t n = (int64_t)ns;
    if ((double)n < ns)
        n++;
    if (n < 1)
        n = 1;
    return swco__clock_ns() + n;
}

/* 1 once deadline has passed (never for SWCO__DEADLINE_NONE). */
static inline int swco__deadline_passed(swco__deadline_t deadline)
{
    return deadline != SWCO__DEADLINE_NONE && swco__clock_ns() >= deadline;
}

/* Nanoseconds left: -1 for no limit, 0 once passed. */
static inline int64_t swco__deadline_left_ns(swco__deadline_t deadline)
{
    if (deadline == SWCO__DEADLINE_NONE)
        return -1;
    int64_t left = deadline - swco__clock_ns();
    return left > 0 ? left : 0;
}

/* Milliseconds left, rounded up so that a wait of that long does not end
 * before the deadline: -1 for no limit, 0 once passed. */
static inline long long swco__deadline_left_ms(swco__deadline_t deadline)
{
    int64_t ns = swco__deadline_left_ns(deadline);
    return ns < 0 ? -1 : (long long)((ns + 999999) / 1000000);
}

/* The timeout argument of poll() or epoll_wait() for deadline: -1 for no
 * limit, 0 once passed, else the milliseconds left (rounded up) capped at
 * INT_MAX.  A capped wait ends early: re-check the deadline after it. */
static inline int swco__deadline_poll_ms(swco__deadline_t deadline)
{
    long long ms = swco__deadline_left_ms(deadline);
    return ms > INT_MAX ? INT_MAX : (int)ms;
}

/* Seconds left, for a public call that takes a timeout: -1 (no limit) for
 * SWCO__DEADLINE_NONE, else > 0 - a passed deadline gives 1e-9, never the
 * 0 that would mean "no limit" there.  Check swco__deadline_passed() first
 * to time out without waiting at all. */
static inline double swco__deadline_left_seconds(swco__deadline_t deadline)
{
    int64_t ns = swco__deadline_left_ns(deadline);
    if (ns < 0)
        return -1;
    return ns > 0 ? (double)ns / 1e9 : 1e-9;
}

/* The deadline as a CLOCK_MONOTONIC timespec (for pthread_*_clocklock,
 * FUTEX_WAIT_BITSET, sem_clockwait); not for SWCO__DEADLINE_NONE. */
static inline struct timespec swco__deadline_timespec(swco__deadline_t deadline)
{
    struct timespec ts;
    ts.tv_sec = (time_t)(deadline / 1000000000);
    ts.tv_nsec = (long)(deadline % 1000000000);
    return ts;
}

#endif /* SWCO_DEADLINE_H */
