/* proc-state: see proc-state.h. The start time of a process is read from /proc once: the last
 * file's records, sorted by pid, give it for the processes already written. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/macro.h"
#include "common/proc-util.h"
#include "common/time-util.h"
#include "daemon/proc-state.h"

struct ProcState {
        sd_event_source *write_source; /* the deferred write: a one-shot timer, idle priority */
        char *path, *tmp_path;
        ProcFile last;                 /* what the file says, sorted by pid */
        ProcFile next;                 /* being collected */
        ProcStateCollect collect;
        void *userdata;
        usec_t last_write;
        bool dirty;
        int last_error;                /* said once until a write succeeds */
};

static int record_compare(const void *a, const void *b) {
        const ProcRecord *x = a, *y = b;
        return (x->pid > y->pid) - (x->pid < y->pid);
}

void proc_state_add(ProcState *p, const char *unit, pid_t pid, ProcRole role,
                    const char *invocation, const char *cgroup) {
        ProcRecord key = { .pid = pid }, *old;
        unsigned long long st;
        int r;

        if (pid <= 0)
                return;
        old = p->last.n ? bsearch(&key, p->last.records, p->last.n, sizeof key, record_compare)
                        : NULL;
        /* The same pid of the same unit and run: the same process (it is not reaped yet). */
        if (old && streq(old->unit, unit) && streq(old->invocation, invocation ?: ""))
                st = old->starttime;
        else if (proc_read_starttime(pid, &st) < 0)
                return;
        r = proc_file_add(&p->next, unit, pid, st, role, invocation, cgroup);
        if (r == -ENOMEM)
                log_oom();
}

int proc_state_flush(ProcState *p) {
        _cleanup_fclose_ FILE *f = NULL;
        unsigned long long self;
        int fd, r;
        size_t n;

        p->dirty = false;
        p->last_write = time_now(CLOCK_MONOTONIC);
        proc_file_done(&p->next);
        if (proc_read_starttime(getpid(), &self) < 0)
                self = 0;
        p->next.owner = getpid();
        p->next.owner_starttime = self;
        if (p->collect)
                p->collect(p, p->userdata);

        fd = open(p->tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0) {
                r = -errno;
                goto fail;
        }
        f = fdopen(fd, "w");
        if (!f) {
                r = -errno;
                safe_close(fd);
                goto fail;
        }
        r = proc_file_write(&p->next, f);
        if (r >= 0 && fclose(TAKE_PTR(f)) != 0)
                r = -errno;
        if (r >= 0 && rename(p->tmp_path, p->path) < 0)
                r = -errno;
        if (r < 0)
                goto fail;
        p->last_error = 0;
        proc_file_done(&p->last);
        p->last = p->next;
        p->next = (ProcFile) {};
        if (p->last.n > 1)
                qsort(p->last.records, p->last.n, sizeof(ProcRecord), record_compare);
        return (int) p->last.n;
fail:
        (void) unlink(p->tmp_path);
        n = p->next.n;
        proc_file_done(&p->next);
        if (r != p->last_error)
                log_warning_errno(r, "Failed to write '%s' (%zu processes): %m; a berthd that "
                                  "follows this one cannot find them, ignoring", p->path, n);
        p->last_error = r;
        return r;
}

static int proc_state_on_event(sd_event_source *es, uint64_t usec, void *userdata) {
        (void) proc_state_flush(userdata);
        return 0;
}

void proc_state_changed(ProcState *p) {
        if (!p || p->dirty)
                return;
        p->dirty = true;
        /* Spaced: a burst of starts and exits (Accept=yes under load) is one write. */
        (void) sd_event_source_set_time(p->write_source,
                                        p->last_write + PROC_STATE_SPACING_USEC);
        (void) sd_event_source_set_enabled(p->write_source, SD_EVENT_ONESHOT);
}

int proc_state_new(ProcState **ret, sd_event *e, const char *runtime_dir,
                   ProcStateCollect collect, void *userdata) {
        _cleanup_(proc_state_freep) ProcState *p = calloc(1, sizeof(ProcState));
        int r;

        if (!p)
                return log_oom();
        p->collect = collect;
        p->userdata = userdata;
        if (asprintf(&p->path, "%s/processes", runtime_dir) < 0) {
                p->path = NULL;
                return log_oom();
        }
        if (asprintf(&p->tmp_path, "%s/.processes.tmp", runtime_dir) < 0) {
                p->tmp_path = NULL;
                return log_oom();
        }
        r = sd_event_add_time(e, &p->write_source, CLOCK_MONOTONIC, 0, USEC_PER_MSEC,
                              proc_state_on_event, p);
        if (r < 0)
                return log_error_errno(r, "Failed to add the event source of '%s': %m", p->path);
        (void) sd_event_source_set_enabled(p->write_source, SD_EVENT_OFF);
        (void) sd_event_source_set_priority(p->write_source, SD_EVENT_PRIORITY_IDLE);
        (void) proc_state_flush(p);
        *ret = TAKE_PTR(p);
        return 0;
}

ProcState *proc_state_free(ProcState *p) {
        if (!p)
                return NULL;
        if (p->write_source && proc_state_flush(p) == 0)
                (void) unlink(p->path);
        sd_event_source_disable_unref(p->write_source);
        proc_file_done(&p->last);
        proc_file_done(&p->next);
        free(p->path);
        free(p->tmp_path);
        free(p);
        return NULL;
}
