/* proc-record: the text of RUNTIME/processes, the file that names every service process a
 * berthd started, so that the next berthd on the same runtime directory can stop the ones
 * left behind when this one is killed outright (proc-recover.h). Pure: no logging, no
 * sd-event, so that it is easy to test and fuzz.
 *
 *     berth-processes 1
 *     berthd 812 120345
 *     process web.service 1301 120990 main 3f0c...e1 /sys/fs/cgroup/berth-4026531836-812/web.service
 *     process echo@3.service 1402 121002 control - -
 *
 * The first line names the format and its version. "berthd PID STARTTIME" names the berthd
 * that wrote the file; each "process" line one process it started: unit, pid, start time
 * (field 22 of /proc/PID/stat), role, the run's INVOCATION_ID= ("-": none) and, as the rest
 * of the line, its cgroup's directory ("-": none). A pid names a process only together with
 * its start time, since pids are reused. A line with another first word is skipped (a newer
 * berthd may add some); a version above PROC_RECORD_VERSION is refused as a whole. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#define PROC_RECORD_MAGIC "berth-processes"
#define PROC_RECORD_VERSION 1u
/* A file longer than this, or with more process lines, is refused: it is not ours. */
#define PROC_RECORD_FILE_MAX (16u * 1024u * 1024u)
#define PROC_RECORD_MAX 65536u
#define PROC_RECORD_UNIT_MAX 256u
#define PROC_RECORD_INVOCATION_MAX 32u /* hex digits of an sd_id128 */

typedef enum ProcRole {
        PROC_ROLE_MAIN,    /* a main process: the one serving, or one being replaced */
        PROC_ROLE_CONTROL, /* ExecStartPre=, ExecReload=, ExecStop=, ... */
        _PROC_ROLE_MAX,
        _PROC_ROLE_INVALID = -22, /* -EINVAL */
} ProcRole;

const char *proc_role_to_string(ProcRole r);
ProcRole proc_role_from_string(const char *s);

typedef struct ProcRecord {
        char *unit;                                     /* owned */
        pid_t pid;
        unsigned long long starttime;
        ProcRole role;
        char invocation[PROC_RECORD_INVOCATION_MAX + 1]; /* "" when none */
        char *cgroup;                                   /* owned, or NULL */
} ProcRecord;

typedef struct ProcFile {
        pid_t owner;                        /* the berthd that wrote it, 0 when unknown */
        unsigned long long owner_starttime;
        ProcRecord *records;                /* owned */
        size_t n, allocated;
} ProcFile;

void proc_file_done(ProcFile *f);

/* Appends a record (copies of the strings). unit: a unit name, as unit files allow; invocation
 * and cgroup may be NULL or "". Returns 0, -EINVAL for a value that does not fit the format (a
 * unit name with a blank, a pid <= 0, a cgroup that is not an absolute path on one line, ...),
 * -E2BIG past PROC_RECORD_MAX, or -ENOMEM. */
int proc_file_add(ProcFile *f, const char *unit, pid_t pid, unsigned long long starttime,
                  ProcRole role, const char *invocation, const char *cgroup);

/* Parses the text of a file (len bytes, need not be NUL-terminated) into f, which must be
 * empty (zeroed). Returns 0; -EBADMSG for text that is not such a file (a bad first line, a
 * bad berthd or process line, no berthd line), with the line and why in err; -EPROTONOSUPPORT
 * for a newer version; -EFBIG past PROC_RECORD_FILE_MAX or PROC_RECORD_MAX; -ENOMEM. f is
 * left empty on failure. */
int proc_file_parse(ProcFile *f, const char *text, size_t len, char *err, size_t errlen);

/* Writes f in the format above. Returns 0, or -EIO when the stream failed. */
int proc_file_write(const ProcFile *f, FILE *out);
