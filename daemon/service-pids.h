/* service-pids: the real ops' hold on the processes a service names (service-exec.c puts
 * these in service_ops_default). See service-pids.c. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "daemon/pidref.h"
#include "daemon/service.h"

/* Room in Service.pidfds: main, control, replaced, failed, the leaders of their three process
 * groups, and one just spawned that the state machine has not named yet. */
#define SERVICE_PIDFDS_MAX 8

/* Holds ref as the pidfd of ref->pid (consumed in every case; nothing is held for a ref
 * without a pidfd). Returns 0, or -ENOSPC or -ENOMEM (then ref was closed). */
int service_pids_add(Service *s, PidRef *ref);
/* What is held for pid, or NULL. */
const PidRef *service_pids_find(const Service *s, pid_t pid);
/* Closes every pidfd held (the service is freed). */
void service_pids_clear(Service *s);

/* ServiceOps.kill, .track, .release, .is_current and .pgid_of. */
void service_pids_kill(Service *s, pid_t pid, int sig);
int service_pids_track(Service *s, pid_t pid);
void service_pids_release(Service *s);
bool service_pids_is_current(Service *s, pid_t pid);
pid_t service_pids_pgid_of(Service *s, pid_t pid);

/* Holds pid, a process of the service (in its cgroup, or with its INVOCATION_ID=), as one
 * look at them right after its pidfd was opened says. Returns 0, -ESRCH when it is gone or
 * not the service's, or a negative errno. */
int service_pids_adopt_member(Service *s, pid_t pid);
