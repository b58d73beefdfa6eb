/* ratelimit: see ratelimit.h. */
#include "common/ratelimit.h"

bool ratelimit_below(RateLimit *rl, usec_t now, unsigned *ret_suppressed) {
        *ret_suppressed = 0;
        if (rl->interval == 0 || rl->burst == 0)
                return true;
        if (rl->begin == 0 || now < rl->begin || now - rl->begin >= rl->interval) {
                *ret_suppressed = ratelimit_take_suppressed(rl);
                rl->begin = now;
                rl->num = 0;
        }
        if (rl->num < rl->burst) {
                rl->num++;
                return true;
        }
        if (rl->suppressed < UINT32_MAX)
                rl->suppressed++;
        return false;
}

unsigned ratelimit_take_suppressed(RateLimit *rl) {
        unsigned n = rl->suppressed;

        rl->suppressed = 0;
        return n;
}
