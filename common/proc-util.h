/* proc-util: what /proc says about other processes and about the kernel's settings. Pure: no
 * logging, no sd-event. */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* Room for a command name: the kernel's TASK_COMM_LEN, 15 characters and the NUL. */
#define PROC_COMM_MAX 16

/* Reads /proc/PID/comm, the command name of process pid, into buf (size bytes; PROC_COMM_MAX
 * holds any), without its newline and cut to fit. Returns 0, or a negative errno (-ENOENT: no
 * such process, or no /proc; -EINVAL: pid <= 0 or no room), with buf set to "" whenever it has
 * room. The name may be empty: a process can set it so. */
int proc_read_comm(pid_t pid, char *buf, size_t size);

/* Reads a file that holds one decimal integer and a newline, as /proc/sys does
 * ("/proc/sys/net/core/somaxconn"). Returns 0 with the value in *ret, -EINVAL when the first
 * line is not an int, or the negative errno of open() or read(). */
int proc_read_int(const char *path, int *ret);

/* The start time of a process (field 22 of /proc/PID/stat, in clock ticks since boot): with the
 * pid, it names one process for good, since a pid is reused but never at the same start time.
 * proc_parse_starttime() reads it from the text of a stat file (the command name in parentheses
 * may hold spaces and parentheses: the fields are counted after its last ')'). Return 0, or
 * -EINVAL for text that is not a stat line; proc_read_starttime() also the negative errno of
 * the read (-ENOENT: no such process). */
int proc_parse_starttime(const char *stat, unsigned long long *ret);
int proc_read_starttime(pid_t pid, unsigned long long *ret);
