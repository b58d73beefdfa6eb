/* proc-recover: see proc-recover.h. Every process is held by a pidfd from the moment it is
 * checked (start time, or INVOCATION_ID=) until it is gone, so that a signal never reaches a
 * process that got a dead one's pid; the wait is a poll() on those pidfds. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/macro.h"
#include "common/proc-util.h"
#include "common/time-util.h"
#include "daemon/cgroup.h"
#include "daemon/pidref.h"
#include "daemon/proc-record.h"
#include "daemon/proc-recover.h"

/* Distinct runs (INVOCATION_ID=) looked for in /proc: one pass over /proc each. */
#define RECOVER_INVOCATIONS_MAX 64u
/* Without pidfds (Linux before 5.3), how often the wait looks at /proc. */
#define RECOVER_POLL_MSEC 20

typedef struct Target {
        const ProcRecord *record; /* borrowed from the file: its unit, how it was found */
        PidRef ref;               /* owned; its fd is -1 without pidfd support (pidref.h) */
        bool by_record;           /* its own line (else: a process of the same run) */
        bool gone;
} Target;

typedef struct Recovery {
        ProcFile file;
        Target *targets;
        size_t n, allocated;
} Recovery;

static void recovery_done(Recovery *rc) {
        for (size_t i = 0; i < rc->n; i++)
                pidref_done(&rc->targets[i].ref);
        free(rc->targets);
        proc_file_done(&rc->file);
}

/* Whether pid is still the process t names: the start time written down, or its run's id. */
static bool target_matches(const Target *t) {
        unsigned long long st;

        if (t->by_record)
                return proc_read_starttime(t->ref.pid, &st) >= 0 &&
                       st == t->record->starttime;
        return invocation_has(t->ref.pid, t->record->invocation);
}

/* Takes pid as a target when it is what record says: a pidfd first, then the check, so the
 * pidfd is of the process checked. Returns 0 (taken or not) or -ENOMEM. */
static int recovery_add(Recovery *rc, const ProcRecord *record, pid_t pid, bool by_record) {
        Target t = { .record = record, .ref = PIDREF_NULL, .by_record = by_record };

        if (pid <= 1 || pid == getpid() || rc->n >= PROC_RECOVER_MAX)
                return 0;
        for (size_t i = 0; i < rc->n; i++)
                if (rc->targets[i].ref.pid == pid)
                        return 0;
        /* Without pidfds (said once) it is checked by pid and start time only. */
        if (pidref_open(&t.ref, pid) < 0)
                return 0; /* gone */
        if (!target_matches(&t)) {
                pidref_done(&t.ref);
                return 0;
        }
        if (ARRAY_RESERVE(rc->targets, rc->allocated, rc->n + 1) < 0) {
                pidref_done(&t.ref);
                return -ENOMEM;
        }
        rc->targets[rc->n++] = t;
        return 0;
}

/* The processes of each run the file names, found by INVOCATION_ID=: also those that left
 * the process group, and a main process that MAINPID= named. */
static int recovery_add_runs(Recovery *rc) {
        const ProcRecord *runs[RECOVER_INVOCATIONS_MAX];
        size_t n_runs = 0;

        for (size_t i = 0; i < rc->file.n && n_runs < RECOVER_INVOCATIONS_MAX; i++) {
                const ProcRecord *r = &rc->file.records[i];
                bool seen = !r->invocation[0];

                for (size_t k = 0; k < n_runs && !seen; k++)
                        seen = streq(runs[k]->invocation, r->invocation);
                if (!seen)
                        runs[n_runs++] = r;
        }
        for (size_t k = 0; k < n_runs; k++) {
                pid_t pids[256];
                int n = invocation_pids(runs[k]->invocation, pids, ELEMENTSOF(pids));

                for (int i = 0; i < MIN(n, (int) ELEMENTSOF(pids)); i++)
                        if (recovery_add(rc, runs[k], pids[i], false) < 0)
                                return -ENOMEM;
        }
        return 0;
}

/* The record's cgroup when it is one the dead berthd made: RUNTIME/processes is ours, but a
 * cgroup is only killed whole when it is berth-NS-OWNER/UNIT. */
static bool record_cgroup_ok(const ProcFile *f, const ProcRecord *r) {
        char parent[PATH_MAX], suffix[32];
        const char *base, *pbase;
        struct stat st;
        size_t len;

        if (!r->cgroup || strlen(r->cgroup) >= sizeof parent)
                return false;
        strcpy(parent, r->cgroup);
        base = strrchr(parent, '/');
        if (!base || !streq(base + 1, r->unit))
                return false;
        parent[base - parent] = '\0';
        pbase = strrchr(parent, '/');
        snprintf(suffix, sizeof suffix, "-%d", (int) f->owner);
        len = pbase ? strlen(pbase + 1) : 0;
        if (!pbase || strncmp(pbase + 1, "berth-", 6) != 0 || len <= strlen(suffix) ||
            !streq(pbase + 1 + len - strlen(suffix), suffix))
                return false;
        return stat(r->cgroup, &st) >= 0 && S_ISDIR(st.st_mode);
}

/* The unit's KillSignal= (hard: SIGKILL) to every target that is left, its process group, and
 * the cgroups of the dead berthd's services. */
static void recovery_signal(Recovery *rc, ProcRecoverLookup lookup, void *userdata, bool hard) {
        for (size_t i = 0; i < rc->n; i++) {
                Target *t = &rc->targets[i];
                ProcRecoverStop stop = { SIGTERM, PROC_RECOVER_TERM_MAX_USEC };
                int sig;

                if (t->gone)
                        continue;
                if (lookup)
                        lookup(t->record->unit, &stop, userdata);
                sig = hard ? SIGKILL : stop.kill_signal;
                if ((t->ref.fd < 0 && !target_matches(t)) || pidref_kill(&t->ref, sig) < 0)
                        continue; /* ESRCH: it exited meanwhile */
                /* Its group too, while it leads it (a live leader keeps the group's id). */
                if (getpgid(t->ref.pid) == t->ref.pid)
                        (void) pidref_kill_group(&t->ref, t->ref.pid, sig);
        }
        for (size_t i = 0; i < rc->file.n; i++) {
                const ProcRecord *r = &rc->file.records[i];
                ProcRecoverStop stop = { SIGTERM, PROC_RECOVER_TERM_MAX_USEC };

                if (!record_cgroup_ok(&rc->file, r))
                        continue;
                if (lookup)
                        lookup(r->unit, &stop, userdata);
                (void) cgroup_kill(r->cgroup, hard ? SIGKILL : stop.kill_signal);
        }
}

/* Waits until every target is gone or the deadline (CLOCK_MONOTONIC) passed. Returns how many
 * are left. */
static size_t recovery_wait(Recovery *rc, usec_t deadline) {
        for (;;) {
                struct pollfd fds[PROC_RECOVER_MAX];
                size_t idx[PROC_RECOVER_MAX], n = 0, left = 0;
                usec_t now = time_now(CLOCK_MONOTONIC);
                int ms;

                for (size_t i = 0; i < rc->n; i++) {
                        Target *t = &rc->targets[i];
                        if (t->gone)
                                continue;
                        if (t->ref.fd < 0 && !target_matches(t)) {
                                t->gone = true;
                                continue;
                        }
                        left++;
                        if (t->ref.fd >= 0) {
                                fds[n] = (struct pollfd) { .fd = t->ref.fd, .events = POLLIN };
                                idx[n++] = i;
                        }
                }
                if (left == 0 || now >= deadline)
                        return left;
                ms = (int) MIN((deadline - now + USEC_PER_MSEC - 1) / USEC_PER_MSEC,
                               (usec_t) INT_MAX);
                if (n < left)
                        ms = MIN(ms, RECOVER_POLL_MSEC);
                if (poll(fds, n, ms) < 0 && errno != EINTR) {
                        log_warning_errno(errno, "poll() failed: %m, ignoring");
                        return left;
                }
                for (size_t k = 0; k < n; k++)
                        if (fds[k].revents)
                                rc->targets[idx[k]].gone = true;
        }
}

static int read_file(const char *path, char **ret, size_t *ret_len) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        _cleanup_free_ char *buf = NULL;
        struct stat st;
        size_t len = 0;

        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        if ((unsigned long long) st.st_size > PROC_RECORD_FILE_MAX)
                return -EFBIG;
        buf = malloc((size_t) st.st_size + 1);
        if (!buf)
                return -ENOMEM;
        while (len < (size_t) st.st_size) {
                ssize_t k = read(fd, buf + len, (size_t) st.st_size - len);
                if (k < 0)
                        return -errno;
                if (k == 0)
                        break;
                len += (size_t) k;
        }
        *ret = TAKE_PTR(buf);
        *ret_len = len;
        return 0;
}

/* Reads the file into rc->file. Returns 1 when there is something to look at, 0 when not. */
static int recovery_read(Recovery *rc, const char *path) {
        _cleanup_free_ char *text = NULL;
        char err[256];
        size_t len = 0;
        int r;

        r = read_file(path, &text, &len);
        if (r == -ENOENT)
                return 0;
        if (r < 0) {
                log_warning_errno(r, "Failed to read '%s': %m, ignoring", path);
                return 0;
        }
        r = proc_file_parse(&rc->file, text, len, err, sizeof err);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0) {
                log_warning("'%s' is not a list of processes berthd can read: %s, ignoring",
                            path, err);
                return 0;
        }
        return 1;
}

int proc_recover(const char *runtime_dir, bool even_own, ProcRecoverLookup lookup,
                 void *userdata) {
        _cleanup_free_ char *path = NULL;
        Recovery rc = {};
        unsigned long long st, self;
        usec_t timeout = 0;
        const char *who = "a berthd that died";
        size_t left;
        int r;

        if (asprintf(&path, "%s/processes", runtime_dir) < 0)
                return log_oom();
        r = recovery_read(&rc, path);
        if (r <= 0)
                goto finish;
        if (proc_read_starttime(rc.file.owner, &st) >= 0 && st == rc.file.owner_starttime) {
                bool own = rc.file.owner == getpid() &&
                           proc_read_starttime(getpid(), &self) >= 0 && self == st;

                /* Our own, from before a daemon-reexec: they carry on, unless the state that
                 * follows them was lost. */
                if (own && even_own) {
                        who = "this berthd before a daemon-reexec that lost its state";
                        goto stop;
                }
                if (own)
                        r = 0;
                else
                        r = log_error_errno(EBUSY, "Another berthd (pid %d) runs with the runtime "
                                            "directory '%s'; stop it or choose another "
                                            "--runtime-dir", (int) rc.file.owner, runtime_dir);
                goto finish;
        }
stop:
        for (size_t i = 0; i < rc.file.n; i++)
                if (recovery_add(&rc, &rc.file.records[i], rc.file.records[i].pid, true) < 0) {
                        r = log_oom();
                        goto finish;
                }
        if (recovery_add_runs(&rc) < 0) {
                r = log_oom();
                goto finish;
        }
        for (size_t i = 0; i < rc.n; i++) {
                const Target *t = &rc.targets[i];
                ProcRecoverStop stop = { SIGTERM, PROC_RECOVER_TERM_MAX_USEC };

                if (lookup)
                        lookup(t->record->unit, &stop, userdata);
                timeout = MAX(timeout, MIN(stop.timeout, PROC_RECOVER_TERM_MAX_USEC));
                log_warning("Found %s's %s process %d left by %s (pid %d); stopping it",
                            t->record->unit,
                            t->by_record ? proc_role_to_string(t->record->role) : "other",
                            (int) t->ref.pid, who, (int) rc.file.owner);
        }
        r = (int) rc.n;
        if (rc.n == 0)
                goto finish;

        recovery_signal(&rc, lookup, userdata, false);
        left = recovery_wait(&rc, time_now(CLOCK_MONOTONIC) + timeout);
        if (left > 0) {
                log_warning("%zu process%s left by the berthd that died still run%s after %llums; "
                            "sending SIGKILL", left, left == 1 ? "" : "es", left == 1 ? "s" : "",
                            (unsigned long long) (timeout / USEC_PER_MSEC));
                recovery_signal(&rc, lookup, userdata, true);
                left = recovery_wait(&rc, time_now(CLOCK_MONOTONIC) + PROC_RECOVER_KILL_MAX_USEC);
        }
        if (left > 0)
                log_warning("%zu process%s left by the berthd that died did not go; their ports "
                            "are bound once they do", left, left == 1 ? "" : "es");
        log_info("Stopped %zu process%s %s (pid %d) left running.", rc.n - left,
                 rc.n - left == 1 ? "" : "es", who, (int) rc.file.owner);
finish:
        recovery_done(&rc);
        return r;
}
