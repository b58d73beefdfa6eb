/* time-util: see time-util.h. */
#include <time.h>

#include "common/time-util.h"

usec_t timespec_load(const struct timespec *ts) {
        if (ts->tv_sec < 0 || ts->tv_nsec < 0)
                return USEC_INFINITY;
        if ((uint64_t) ts->tv_sec > (UINT64_MAX - (uint64_t) ts->tv_nsec / 1000) / USEC_PER_SEC)
                return USEC_INFINITY;
        return (usec_t) ts->tv_sec * USEC_PER_SEC + (usec_t) ts->tv_nsec / 1000;
}

usec_t time_now(clockid_t clock) {
        struct timespec ts;

        /* Only an invalid clock id fails, and berth names its clocks by constant. */
        if (clock_gettime(clock, &ts) < 0)
                return 0;
        return timespec_load(&ts);
}
