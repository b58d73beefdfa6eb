/* cgroup: one cgroup (v2) per service, so that stopping a service stops every process it
 * started, also those that left its session and process group (setsid(), double forks). berthd
 * uses a writable cgroup2 hierarchy when it finds one: its own cgroup there (root, or a
 * subtree systemd delegated with Delegate=yes) gets a child per service. Without one, a
 * service's processes are found by the INVOCATION_ID= in their environment instead, which
 * every process of one run of a service inherits. No logging. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "daemon/cgroup-limits.h"

/* Finds berthd's own cgroup in a writable cgroup2 hierarchy, checks that a process can be
 * moved into a child cgroup there (a child process tries), and creates berth-PID in it for
 * this berthd's services. Returns 0 and that directory (the caller frees, and removes with
 * cgroup_remove() when its services are gone), or a negative errno with why not in err. */
int cgroup_setup(char **ret_root, char *err, size_t errlen);

/* Creates (or reuses) root/NAME. Returns 0 and its path (the caller frees), or a negative
 * errno. */
int cgroup_create(const char *root, const char *name, char **ret_path);
/* Removes an empty service cgroup. Returns 0 or a negative errno (-EBUSY: not empty). */
int cgroup_remove(const char *path);
/* Makes root and the service cgroup path under it again, after someone removed them. Returns
 * 0 or a negative errno. */
int cgroup_recreate(const char *root, const char *path);

/* Applies the resource limits in w (cgroup-limits.h) to the service cgroup at path, a child
 * of root (from cgroup_setup()): enables each controller for root's children first, in root's
 * parent and in root, where it is available. Each write that cannot be done is told through
 * report, with why; the others are done all the same. Returns how many were applied. */
typedef void (*CGroupReportFunc)(void *userdata, const CGroupWrite *w, const char *why);
int cgroup_apply_limits(const char *root, const char *path, const CGroupWrite *w, size_t n,
                        CGroupReportFunc report, void *userdata);
/* What percentages of cgroup-limits.h are of: the machine's memory in bytes, and its task
 * limit (the smaller of kernel.pid_max and kernel.threads-max). */
uint64_t cgroup_memory_total(void);
uint64_t cgroup_tasks_total(void);

/* Sends sig to every process in the cgroup at path: cgroup.kill for SIGKILL where the kernel
 * has it, else each pid in cgroup.procs (bounded passes). Returns how many were signalled (1
 * for cgroup.kill), or a negative errno. */
int cgroup_kill(const char *path, int sig);

/* Sends sig to every process whose environment holds INVOCATION_ID=id, except berthd itself
 * (bounded by the pids in /proc). Returns how many were signalled, or a negative errno. */
int invocation_kill(const char *id, int sig);
/* Whether the environment of process pid holds INVOCATION_ID=id. */
bool invocation_has(pid_t pid, const char *id);

/* The processes of a service: in its cgroup, or with its INVOCATION_ID=. The first max go to
 * pids; returns how many there are in all, or a negative errno. */
int cgroup_pids(const char *path, pid_t *pids, size_t max);
int invocation_pids(const char *id, pid_t *pids, size_t max);
