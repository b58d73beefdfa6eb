/* Logging to stderr. When JOURNAL_STREAM names our stderr, lines carry <N> priority prefixes
 * so the journal keeps the level. Pure modules (address, unit-file, bind-plan) never log. */
#pragma once

#include <syslog.h>

#include "common/macro.h"

void log_set_max_level(int level);
int log_get_max_level(void);
/* Re-reads JOURNAL_STREAM. Called once from main(); tests may call it again. */
void log_open(void);

/* Logs at level; error is a negative or positive errno that %m expands, or 0.
 * Returns -abs(error), so callers can write `return log_error_errno(r, ...)`. */
int log_internal(int level, int error, const char *fmt, ...) _printf_(3, 4);

#define log_full_errno(level, error, ...) log_internal(level, error, __VA_ARGS__)
#define log_debug(...) log_internal(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...) log_internal(LOG_INFO, 0, __VA_ARGS__)
#define log_notice(...) log_internal(LOG_NOTICE, 0, __VA_ARGS__)
#define log_warning(...) log_internal(LOG_WARNING, 0, __VA_ARGS__)
#define log_error(...) log_internal(LOG_ERR, 0, __VA_ARGS__)
#define log_debug_errno(e, ...) log_internal(LOG_DEBUG, e, __VA_ARGS__)
#define log_info_errno(e, ...) log_internal(LOG_INFO, e, __VA_ARGS__)
#define log_warning_errno(e, ...) log_internal(LOG_WARNING, e, __VA_ARGS__)
#define log_error_errno(e, ...) log_internal(LOG_ERR, e, __VA_ARGS__)
#define log_oom() log_internal(LOG_ERR, ENOMEM, "Out of memory.")
