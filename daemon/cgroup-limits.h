/* cgroup-limits: the resource keys of systemd.resource-control(5) that berth applies to a
 * service's cgroup (v2), parsed and turned into the files to write: TasksMax= (pids.max),
 * MemoryMax= (memory.max), MemoryHigh= (memory.high), CPUQuota= (cpu.max), CPUWeight=
 * (cpu.weight) and IOWeight= (io.weight). Pure: cgroup.c writes the files. */
#pragma once

#include <stddef.h>
#include <stdint.h>

typedef enum CGroupLimitKind {
        CGROUP_LIMIT_UNSET,
        CGROUP_LIMIT_VALUE,    /* value: bytes or tasks */
        CGROUP_LIMIT_PERCENT,  /* value: hundredths of a percent (0..10000) of the total */
        CGROUP_LIMIT_INFINITY,
} CGroupLimitKind;

typedef struct CGroupLimit {
        CGroupLimitKind kind;
        uint64_t value;
} CGroupLimit;

typedef struct CGroupLimits {
        CGroupLimit tasks_max, memory_max, memory_high;
        uint64_t cpu_quota_per_sec_usec; /* CPUQuota=; 0: unset */
        uint64_t cpu_weight, io_weight;  /* 1..10000; 0: unset */
} CGroupLimits;

#define CGROUP_WEIGHT_MAX 10000
#define CGROUP_CPU_PERIOD_USEC 100000  /* cpu.max's period, systemd's default */
#define CGROUP_CPU_QUOTA_MIN_USEC 1000 /* the kernel refuses less */

/* "N" (with K, M, G, T... suffixes, 1024-based, when bytes), "N%" or "N.NN%" (at most 100%),
 * or "infinity". Returns 0 or -EINVAL. */
int cgroup_limit_parse(const char *s, int bytes, CGroupLimit *ret);
/* "N%" or "N.NN%", above 0 (may exceed 100%: more than one CPU): CPU time per second. */
int cgroup_cpu_quota_parse(const char *s, uint64_t *ret_usec_per_sec);
/* 1..10000. */
int cgroup_weight_parse(const char *s, uint64_t *ret);

/* Whether any key is set. */
int cgroup_limits_any(const CGroupLimits *l);

typedef struct CGroupWrite {
        const char *key;        /* "MemoryMax", for messages */
        const char *controller; /* "memory" */
        const char *file;       /* "memory.max" */
        char value[64];         /* "67108864", "max", "20000 100000", "default 100" */
} CGroupWrite;

#define CGROUP_WRITES_MAX 6

/* The files to write for l, in a fixed order. Percentages are of total_memory (bytes) and
 * tasks_total (the system's task limit). Returns how many (at most CGROUP_WRITES_MAX). */
size_t cgroup_limits_writes(const CGroupLimits *l, uint64_t total_memory, uint64_t tasks_total,
                            CGroupWrite ret[CGROUP_WRITES_MAX]);
