/* cgroup-limits: see cgroup-limits.h. The rules are systemd.resource-control(5)'s. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/macro.h"
#include "common/parse-util.h"
#include "daemon/cgroup-limits.h"

/* "N%" or "N.N%" / "N.NN%": hundredths of a percent, at most max. */
static int parse_percent_hundredths(const char *s, uint64_t max, uint64_t *ret) {
        uint64_t whole = 0, frac = 0;
        unsigned n_whole = 0, n_frac = 0;
        const char *p = s;

        for (; *p >= '0' && *p <= '9'; p++, n_whole++) {
                if (whole > UINT64_MAX / 10 / 100 - 1)
                        return -ERANGE;
                whole = whole * 10 + (uint64_t) (*p - '0');
        }
        if (n_whole == 0)
                return -EINVAL;
        if (*p == '.') {
                for (p++; *p >= '0' && *p <= '9'; p++, n_frac++) {
                        if (n_frac >= 2)
                                return -EINVAL;
                        frac = frac * 10 + (uint64_t) (*p - '0');
                }
                if (n_frac == 0)
                        return -EINVAL;
                if (n_frac == 1)
                        frac *= 10;
        }
        if (!streq(p, "%"))
                return -EINVAL;
        if (whole * 100 + frac > max)
                return -ERANGE;
        *ret = whole * 100 + frac;
        return 0;
}

int cgroup_limit_parse(const char *s, int bytes, CGroupLimit *ret) {
        uint64_t v;

        if (streq(s, "infinity")) {
                *ret = (CGroupLimit) { CGROUP_LIMIT_INFINITY, 0 };
                return 0;
        }
        if (strchr(s, '%')) {
                if (parse_percent_hundredths(s, 10000, &v) < 0)
                        return -EINVAL;
                *ret = (CGroupLimit) { CGROUP_LIMIT_PERCENT, v };
                return 0;
        }
        if ((bytes ? parse_size(s, &v) : parse_uint64(s, &v)) < 0)
                return -EINVAL;
        *ret = (CGroupLimit) { CGROUP_LIMIT_VALUE, v };
        return 0;
}

int cgroup_cpu_quota_parse(const char *s, uint64_t *ret_usec_per_sec) {
        uint64_t v;

        /* hundredths of a percent of a second are 100 us */
        if (parse_percent_hundredths(s, UINT64_MAX / 100, &v) < 0 || v == 0)
                return -EINVAL;
        *ret_usec_per_sec = v * 100;
        return 0;
}

int cgroup_weight_parse(const char *s, uint64_t *ret) {
        uint64_t v;

        if (parse_uint64(s, &v) < 0 || v < 1 || v > CGROUP_WEIGHT_MAX)
                return -EINVAL;
        *ret = v;
        return 0;
}

int cgroup_limits_any(const CGroupLimits *l) {
        return l->tasks_max.kind != CGROUP_LIMIT_UNSET ||
               l->memory_max.kind != CGROUP_LIMIT_UNSET ||
               l->memory_high.kind != CGROUP_LIMIT_UNSET || l->cpu_quota_per_sec_usec > 0 ||
               l->cpu_weight > 0 || l->io_weight > 0;
}

/* The value of a limit file: a number, or "max". */
static void limit_format(const CGroupLimit *l, uint64_t total, char *buf, size_t len) {
        uint64_t v;

        switch (l->kind) {
        case CGROUP_LIMIT_VALUE:
                v = l->value;
                break;
        case CGROUP_LIMIT_PERCENT:
                /* total / 10000 * value, without overflow for any total */
                v = total / 10000 * l->value + total % 10000 * l->value / 10000;
                break;
        case CGROUP_LIMIT_INFINITY:
        case CGROUP_LIMIT_UNSET:
        default:
                snprintf(buf, len, "max");
                return;
        }
        snprintf(buf, len, "%" PRIu64, v);
}

static CGroupWrite *add(CGroupWrite *w, size_t *n, const char *key, const char *controller,
                        const char *file) {
        w[*n] = (CGroupWrite) { .key = key, .controller = controller, .file = file };
        return &w[(*n)++];
}

size_t cgroup_limits_writes(const CGroupLimits *l, uint64_t total_memory, uint64_t tasks_total,
                            CGroupWrite ret[CGROUP_WRITES_MAX]) {
        CGroupWrite *w;
        size_t n = 0;

        if (l->tasks_max.kind != CGROUP_LIMIT_UNSET) {
                w = add(ret, &n, "TasksMax", "pids", "pids.max");
                limit_format(&l->tasks_max, tasks_total, w->value, sizeof w->value);
        }
        if (l->memory_max.kind != CGROUP_LIMIT_UNSET) {
                w = add(ret, &n, "MemoryMax", "memory", "memory.max");
                limit_format(&l->memory_max, total_memory, w->value, sizeof w->value);
        }
        if (l->memory_high.kind != CGROUP_LIMIT_UNSET) {
                w = add(ret, &n, "MemoryHigh", "memory", "memory.high");
                limit_format(&l->memory_high, total_memory, w->value, sizeof w->value);
        }
        if (l->cpu_quota_per_sec_usec > 0) {
                /* per period: the period divides a second */
                uint64_t q = l->cpu_quota_per_sec_usec / (USEC_PER_SEC / CGROUP_CPU_PERIOD_USEC);

                w = add(ret, &n, "CPUQuota", "cpu", "cpu.max");
                snprintf(w->value, sizeof w->value, "%" PRIu64 " %u",
                         q < CGROUP_CPU_QUOTA_MIN_USEC ? CGROUP_CPU_QUOTA_MIN_USEC : q,
                         CGROUP_CPU_PERIOD_USEC);
        }
        if (l->cpu_weight > 0) {
                w = add(ret, &n, "CPUWeight", "cpu", "cpu.weight");
                snprintf(w->value, sizeof w->value, "%" PRIu64, l->cpu_weight);
        }
        if (l->io_weight > 0) {
                w = add(ret, &n, "IOWeight", "io", "io.weight");
                snprintf(w->value, sizeof w->value, "default %" PRIu64, l->io_weight);
        }
        return n;
}
