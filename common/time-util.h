/* time-util: the clocks, in microseconds as systemd counts them (usec_t, USEC_PER_SEC and
 * friends are in macro.h). Pure: no logging, no sd-event. */
#pragma once

#include <time.h>

#include "common/macro.h"

/* A timespec in usec: USEC_INFINITY when it is negative or does not fit. */
usec_t timespec_load(const struct timespec *ts);

/* The time now on clock (CLOCK_MONOTONIC for intervals, CLOCK_REALTIME for what a person reads),
 * in usec. */
usec_t time_now(clockid_t clock);
