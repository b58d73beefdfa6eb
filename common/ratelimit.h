/* ratelimit: at most burst events per interval (as systemd's LogRateLimitIntervalSec= and
 * LogRateLimitBurst= count them), with the number held back told once the next interval
 * begins, so a flood costs a few lines and a summary. Pure: the caller passes the time. */
#pragma once

#include <stdbool.h>

#include "common/macro.h"

typedef struct RateLimit {
        usec_t interval; /* 0: no limit */
        unsigned burst;  /* 0: no limit */
        usec_t begin;    /* the current interval's start */
        unsigned num;    /* events in it */
        unsigned suppressed; /* held back in it, not yet told */
} RateLimit;

/* Whether one more event at now passes. When it begins a new interval and the last one held
 * events back, *ret_suppressed gets how many (to say so first), else 0. */
bool ratelimit_below(RateLimit *rl, usec_t now, unsigned *ret_suppressed);
/* The same for n events at once (bytes read, say): they pass while the interval has room
 * left, even if not for all n. */
bool ratelimit_below_n(RateLimit *rl, usec_t now, unsigned n, unsigned *ret_suppressed);
/* Whether the next event at now would be held back. */
bool ratelimit_exhausted(const RateLimit *rl, usec_t now);
/* When the current interval ends. */
usec_t ratelimit_end(const RateLimit *rl);
/* How many were held back and not yet told; resets the count (to say so at the end). */
unsigned ratelimit_take_suppressed(RateLimit *rl);
