/* proc-record: see proc-record.h. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "common/errbuf.h"
#include "common/macro.h"
#include "daemon/proc-record.h"

static const char *const role_names[_PROC_ROLE_MAX] = {
        [PROC_ROLE_MAIN] = "main",
        [PROC_ROLE_CONTROL] = "control",
};

const char *proc_role_to_string(ProcRole r) {
        return r >= 0 && r < _PROC_ROLE_MAX ? role_names[r] : NULL;
}

ProcRole proc_role_from_string(const char *s) {
        for (int i = 0; s && i < _PROC_ROLE_MAX; i++)
                if (streq(s, role_names[i]))
                        return (ProcRole) i;
        return _PROC_ROLE_INVALID;
}

void proc_file_done(ProcFile *f) {
        for (size_t i = 0; i < f->n; i++) {
                free(f->records[i].unit);
                free(f->records[i].cgroup);
        }
        free(f->records);
        *f = (ProcFile) {};
}

/* A unit name as a unit file may have: printable, no blank, no slash, not empty. */
static bool unit_ok(const char *s) {
        size_t n = s ? strlen(s) : 0;

        if (n == 0 || n >= PROC_RECORD_UNIT_MAX || streq(s, "-"))
                return false;
        for (const char *p = s; *p; p++)
                if ((unsigned char) *p <= ' ' || *p == 0x7f || *p == '/')
                        return false;
        return true;
}

static bool invocation_ok(const char *s) {
        size_t n = strlen(s);

        return n > 0 && n <= PROC_RECORD_INVOCATION_MAX &&
               strspn(s, "0123456789abcdef") == n;
}

/* An absolute path on one line, that "-" cannot be mistaken for. */
static bool cgroup_ok(const char *s) {
        if (s[0] != '/' || strlen(s) >= PATH_MAX)
                return false;
        for (const char *p = s; *p; p++)
                if ((unsigned char) *p < ' ' || *p == 0x7f)
                        return false;
        return true;
}

int proc_file_add(ProcFile *f, const char *unit, pid_t pid, unsigned long long starttime,
                  ProcRole role, const char *invocation, const char *cgroup) {
        ProcRecord r = { .pid = pid, .starttime = starttime, .role = role };

        if (!unit_ok(unit) || pid <= 0 || !proc_role_to_string(role) ||
            (invocation && invocation[0] && !invocation_ok(invocation)) ||
            (cgroup && cgroup[0] && !cgroup_ok(cgroup)))
                return -EINVAL;
        if (f->n >= PROC_RECORD_MAX)
                return -E2BIG;
        if (ARRAY_RESERVE(f->records, f->allocated, f->n + 1) < 0)
                return -ENOMEM;
        r.unit = strdup(unit);
        r.cgroup = cgroup && cgroup[0] ? strdup(cgroup) : NULL;
        if (!r.unit || (cgroup && cgroup[0] && !r.cgroup)) {
                free(r.unit);
                free(r.cgroup);
                return -ENOMEM;
        }
        if (invocation)
                strcpy(r.invocation, invocation);
        f->records[f->n++] = r;
        return 0;
}

/* The next blank-separated word of *p (moved past it), cut out in place; NULL at the end. */
static char *next_word(char **p) {
        char *w = *p + strspn(*p, " ");

        if (*w == '\0')
                return NULL;
        *p = w + strcspn(w, " ");
        if (**p)
                *(*p)++ = '\0';
        return w;
}

/* A decimal number without sign, within max. */
static bool parse_ull(const char *s, unsigned long long max, unsigned long long *ret) {
        unsigned long long v;
        char *end;

        if (!s || *s < '0' || *s > '9')
                return false;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno != 0 || *end || v > max)
                return false;
        *ret = v;
        return true;
}

/* "process UNIT PID STARTTIME ROLE INVOCATION CGROUP", after its first word (in rest). */
static int parse_process(ProcFile *f, char *rest) {
        char *unit = next_word(&rest), *pid = next_word(&rest), *start = next_word(&rest),
             *role = next_word(&rest), *inv = next_word(&rest), *cgroup;
        unsigned long long p, st;
        ProcRole ro;

        if (!inv)
                return -EBADMSG;
        cgroup = rest + strspn(rest, " ");
        if (!parse_ull(pid, INT_MAX, &p) || !parse_ull(start, ULLONG_MAX, &st))
                return -EBADMSG;
        ro = proc_role_from_string(role);
        if (ro < 0 || streq(cgroup, "") || (!streq(inv, "-") && !invocation_ok(inv)))
                return -EBADMSG;
        return proc_file_add(f, unit, (pid_t) p, st, ro, streq(inv, "-") ? NULL : inv,
                             streq(cgroup, "-") ? NULL : cgroup);
}

static int parse_line(ProcFile *f, char *line, unsigned lineno, bool *seen_owner) {
        char *rest = line, *word = next_word(&rest);

        if (lineno == 1) {
                unsigned long long v;
                char *version = next_word(&rest);

                if (!word || !streq(word, PROC_RECORD_MAGIC) || !parse_ull(version, UINT_MAX, &v) ||
                    next_word(&rest) || v == 0)
                        return -EBADMSG;
                return v > PROC_RECORD_VERSION ? -EPROTONOSUPPORT : 0;
        }
        if (!word)
                return 0; /* an empty line */
        if (streq(word, "berthd")) {
                char *pid = next_word(&rest), *start = next_word(&rest);
                unsigned long long p, st;

                if (*seen_owner || !parse_ull(pid, INT_MAX, &p) || p == 0 ||
                    !parse_ull(start, ULLONG_MAX, &st) || next_word(&rest))
                        return -EBADMSG;
                f->owner = (pid_t) p;
                f->owner_starttime = st;
                *seen_owner = true;
                return 0;
        }
        if (streq(word, "process")) {
                int r = parse_process(f, rest);
                return r == -EINVAL ? -EBADMSG : r == -E2BIG ? -EFBIG : r;
        }
        return 0; /* a line a newer berthd wrote: skipped */
}

int proc_file_parse(ProcFile *f, const char *text, size_t len, char *err, size_t errlen) {
        _cleanup_free_ char *copy = NULL;
        bool seen_owner = false;
        unsigned lineno = 0;
        char *p;
        int r = 0;

        if (len > PROC_RECORD_FILE_MAX)
                return errbuf_set(err, errlen, -EFBIG, "longer than %u bytes",
                                  PROC_RECORD_FILE_MAX);
        if (memchr(text, '\0', len))
                return errbuf_set(err, errlen, -EBADMSG, "it holds a NUL byte");
        copy = strndup(text, len);
        if (!copy)
                return -ENOMEM;
        p = copy;
        while (*p || lineno == 0) {
                char *line = p, *nl = strchr(p, '\n');

                if (nl) {
                        *nl = '\0';
                        p = nl + 1;
                } else
                        p += strlen(p);
                lineno++;
                r = parse_line(f, line, lineno, &seen_owner);
                if (r < 0)
                        break;
        }
        if (r >= 0 && !seen_owner)
                r = errbuf_set(err, errlen, -EBADMSG, "no \"berthd PID STARTTIME\" line");
        else if (r == -EBADMSG)
                errbuf_set(err, errlen, r, "line %u is not valid%s", lineno,
                           lineno == 1 ? " (not \"" PROC_RECORD_MAGIC " VERSION\")" : "");
        else if (r == -EPROTONOSUPPORT)
                errbuf_set(err, errlen, r, "a newer version than %u", PROC_RECORD_VERSION);
        else if (r == -EFBIG)
                errbuf_set(err, errlen, r, "more than %u processes", PROC_RECORD_MAX);
        if (r < 0)
                proc_file_done(f);
        return r < 0 ? r : 0;
}

int proc_file_write(const ProcFile *f, FILE *out) {
        fprintf(out, PROC_RECORD_MAGIC " %u\nberthd %d %llu\n", PROC_RECORD_VERSION,
                (int) f->owner, f->owner_starttime);
        for (size_t i = 0; i < f->n; i++) {
                const ProcRecord *r = &f->records[i];
                fprintf(out, "process %s %d %llu %s %s %s\n", r->unit, (int) r->pid, r->starttime,
                        proc_role_to_string(r->role), r->invocation[0] ? r->invocation : "-",
                        r->cgroup ?: "-");
        }
        return fflush(out) == 0 && !ferror(out) ? 0 : -EIO;
}
