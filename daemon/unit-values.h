/* unit-values: parsers for the kinds of value a unit key takes (see unit-values.c). Each is a
 * ParseFunc (unit-load.h): it reads value, reports an invalid one through the load context and
 * then leaves the field alone, and returns 0, or a negative errno on allocation failure. An
 * empty value resets the field at data to its default (lists: empties it). Internal to the
 * unit-file modules. */
#pragma once

#include "daemon/unit-load.h"

/* ConfigItem.arg of value_sec(). */
enum {
        SEC_ANY,
        SEC_ZERO_IS_INFINITY, /* timeouts: 0 and infinity both mean none */
        SEC_INFINITY_IS_ZERO, /* WatchdogSec=: infinity means off */
        SEC_FINITE,           /* socket options that take seconds */
};

/* ConfigItem.arg of value_enum(): which enum the field holds. */
enum {
        ENUM_BIND_IPV6_ONLY,
        ENUM_SERVICE_TYPE,
        ENUM_RESTART,
        ENUM_KILL_MODE,
        ENUM_NOTIFY_ACCESS,
        ENUM_HANDOVER,
        ENUM_STD_INPUT,
        ENUM_STD_OUTPUT,
};

/* ConfigItem.arg of value_cgroup(): which kind of resource value. */
enum {
        CGROUP_VALUE_BYTES,   /* CGroupLimit: bytes, percent of memory, infinity */
        CGROUP_VALUE_TASKS,   /* CGroupLimit: a count, percent of the system's, infinity */
        CGROUP_VALUE_QUOTA,   /* uint64_t: CPUQuota= percent */
        CGROUP_VALUE_WEIGHT,  /* uint64_t: 1..10000 */
};

/* ConfigItem.arg of value_word_list(): what each word must be. */
enum {
        WORDS_GROUPS,
        WORDS_SOCKETS,
        WORDS_UNITS,
        WORDS_PATHS,   /* absolute paths, simplified */
};

/* char *: a copy of value, or NULL for "". */
int value_string(LoadContext *c, const ConfigItem *it, const char *value, unsigned line,
                 void *data);
/* bool: as parse_boolean() reads it (yes, no, true, false, on, off, 1, 0, ...). */
int value_bool(LoadContext *c, const ConfigItem *it, const char *value, unsigned line, void *data);
/* usec_t: a time span; arg is a SEC_* mode. */
int value_sec(LoadContext *c, const ConfigItem *it, const char *value, unsigned line, void *data);
/* unsigned; arg is the minimum (0 or 1). */
int value_unsigned(LoadContext *c, const ConfigItem *it, const char *value, unsigned line,
                   void *data);
/* unsigned, 0 to FD_STORE_MAX_MAX: no process can hold more fds than fs.nr_open's default
 * allows. (The fd store budget bounds what the stores hold together at run time.) */
#define FD_STORE_MAX_MAX (1U << 20)
int value_fd_store_max(LoadContext *c, const ConfigItem *it, const char *value, unsigned line,
                       void *data);
/* int, 0 to INT_MAX. */
int value_backlog(LoadContext *c, const ConfigItem *it, const char *value, unsigned line,
                  void *data);
/* uint64_t: bytes, 1 to 2G, with an optional K, M or G suffix. */
int value_buffer_size(LoadContext *c, const ConfigItem *it, const char *value, unsigned line,
                      void *data);
/* A resource-control value (cgroup-limits.h); arg is a CGROUP_VALUE_* kind. */
int value_cgroup(LoadContext *c, const ConfigItem *it, const char *value, unsigned line,
                 void *data);
/* mode_t: octal; arg is the largest mode allowed. */
int value_mode(LoadContext *c, const ConfigItem *it, const char *value, unsigned line, void *data);
/* int: a signal by name or number. */
int value_signal(LoadContext *c, const ConfigItem *it, const char *value, unsigned line,
                 void *data);
/* An enum field (int-sized); arg is an ENUM_* index. A systemd value berth lacks is reported as
 * such. */
/* SuccessExitStatus= and friends: data is an ExitStatusSet; words add to it, empty resets. */
int value_exit_status(LoadContext *c, const ConfigItem *it, const char *value, unsigned line,
                      void *data);
int value_enum(LoadContext *c, const ConfigItem *it, const char *value, unsigned line, void *data);
/* char *: FileDescriptorName=, up to 255 printable ASCII characters without ':'. */
int value_fdname(LoadContext *c, const ConfigItem *it, const char *value, unsigned line,
                 void *data);
/* char *: a user or group name, or a numeric id. */
int value_user(LoadContext *c, const ConfigItem *it, const char *value, unsigned line, void *data);
/* char *: a network interface name. */
int value_ifname(LoadContext *c, const ConfigItem *it, const char *value, unsigned line,
                 void *data);
/* char **: blank-separated words appended to the list, all or none; arg is a WORDS_* check. */
int value_word_list(LoadContext *c, const ConfigItem *it, const char *value, unsigned line,
                    void *data);
/* char **: VAR=value words; a later assignment of a variable replaces the earlier one in place.
 * A bad word leaves the list untouched. */
int value_environment(LoadContext *c, const ConfigItem *it, const char *value, unsigned line,
                      void *data);
