/* ratelimit: see ratelimit.h. */
#include "common/ratelimit.h"

static bool ratelimit_in_interval(const RateLimit *rl, usec_t now) {
        return rl->begin != 0 && now >= rl->begin && now - rl->begin < rl->interval;
}

bool ratelimit_below_n(RateLimit *rl, usec_t now, unsigned n, unsigned *ret_suppressed) {
        *ret_suppressed = 0;
        if (rl->interval == 0 || rl->burst == 0)
                return true;
        if (!ratelimit_in_interval(rl, now)) {
                *ret_suppressed = ratelimit_take_suppressed(rl);
                rl->begin = now;
                rl->num = 0;
        }
        if (rl->num < rl->burst) {
                rl->num = n > rl->burst - rl->num ? rl->burst : rl->num + n;
                return true;
        }
        if (rl->suppressed < UINT32_MAX)
                rl->suppressed++;
        return false;
}

bool ratelimit_below(RateLimit *rl, usec_t now, unsigned *ret_suppressed) {
        return ratelimit_below_n(rl, now, 1, ret_suppressed);
}

bool ratelimit_exhausted(const RateLimit *rl, usec_t now) {
        return rl->interval != 0 && rl->burst != 0 && ratelimit_in_interval(rl, now) &&
               rl->num >= rl->burst;
}

usec_t ratelimit_end(const RateLimit *rl) {
        return rl->begin + rl->interval;
}

unsigned ratelimit_take_suppressed(RateLimit *rl) {
        unsigned n = rl->suppressed;

        rl->suppressed = 0;
        return n;
}
