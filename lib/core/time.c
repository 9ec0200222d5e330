/* Clocks and the seconds-to-milliseconds rule of relative waits (a
 * deadline is lib/core/deadline.h). */
#include "internal.h"

#include <math.h>
#include <time.h>

uint64_t swco__now_ns(void) { return (uint64_t)swco__clock_ns(); }

long long swco__now_ms(void) { return (long long)(swco__now_ns() / 1000000u); }

long swco__seconds_to_ms(double seconds)
{
    /* Millisecond resolution, never rounding a positive wait down to 0. */
    if (!(seconds > 0))
        return 0;
    if (seconds > SWCO__TIMEOUT_MAX)
        return (long)(SWCO__TIMEOUT_MAX * 1000);
    /* Less than a nanosecond over a whole ms is the double's rounding
     * (0.07 * 1000 is 70.00000000000001), not a longer wait. */
    long ms = (long)ceil(seconds * 1000.0 - 1e-6);
    return ms < 1 ? 1 : ms;
}
