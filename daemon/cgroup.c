/* cgroup: see cgroup.h. */
#include <dirent.h>
#include <limits.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/errbuf.h"
#include "common/macro.h"
#include "daemon/cgroup.h"
#include "daemon/pidref.h"

#define CGROUP_PROCS_PASSES 16  /* re-reads of cgroup.procs while processes fork */
#define CGROUP_PROCS_MAX 65536  /* pids signalled per pass */
#define PROC_PIDS_MAX (1U << 22)

/* Where cgroup2 is mounted: the first "cgroup2" line of /proc/self/mountinfo. */
static int cgroup2_mount(char *buf, size_t len) {
        _cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
        char line[4096];

        if (!f)
                return -errno;
        while (fgets(line, sizeof line, f)) {
                char mnt[PATH_MAX], fstype[64];
                const char *dash = strstr(line, " - ");

                if (!dash || sscanf(dash, " - %63s", fstype) != 1 || !streq(fstype, "cgroup2"))
                        continue;
                if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1)
                        continue;
                if (strlen(mnt) >= len)
                        return -ENAMETOOLONG;
                strcpy(buf, mnt);
                return 0;
        }
        return -ENOENT;
}

/* Our own cgroup in the v2 hierarchy: the "0::" line of /proc/self/cgroup. */
static int cgroup2_self(char *buf, size_t len) {
        _cleanup_fclose_ FILE *f = fopen("/proc/self/cgroup", "re");
        char line[4096];

        if (!f)
                return -errno;
        while (fgets(line, sizeof line, f))
                if (strncmp(line, "0::", 3) == 0) {
                        line[strcspn(line, "\n")] = 0;
                        if (strlen(line + 3) >= len)
                                return -ENAMETOOLONG;
                        strcpy(buf, line + 3);
                        return 0;
                }
        return -ENOENT;
}

static int write_file(const char *path, const char *text) {
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
        size_t n = strlen(text);

        if (fd < 0)
                return -errno;
        if (write(fd, text, n) != (ssize_t) n)
                return -errno;
        return 0;
}

int cgroup_create(const char *root, const char *name, char **ret_path) {
        char *path;

        if (strchr(name, '/') || streq(name, ".") || streq(name, ".."))
                return -EINVAL;
        if (asprintf(&path, "%s/%s", root, name) < 0)
                return -ENOMEM;
        if (mkdir(path, 0755) < 0 && errno != EEXIST) {
                int r = -errno;
                free(path);
                return r;
        }
        *ret_path = path;
        return 0;
}

int cgroup_recreate(const char *root, const char *path) {
        if (mkdir(root, 0755) < 0 && errno != EEXIST)
                return -errno;
        if (mkdir(path, 0755) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

int cgroup_remove(const char *path) {
        return rmdir(path) < 0 ? -errno : 0;
}

/* A child moves itself into the probe cgroup: what spawn will do for every service. */
static int cgroup_probe_move(const char *probe) {
        _cleanup_free_ char *procs = NULL;
        int status;
        pid_t pid;

        if (asprintf(&procs, "%s/cgroup.procs", probe) < 0)
                return -ENOMEM;
        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0)
                _exit(write_file(procs, "0") < 0 ? 1 : 0);
        if (waitpid(pid, &status, 0) < 0)
                return -errno;
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EACCES;
}

/* The prefix of this berthd's cgroup directory: "berth-" and the inode of its pid namespace,
 * then "-". A pid means something only in its namespace: a berthd that is PID 1 of a
 * container must not take the host's berthds for gone, nor they it. */
static void cgroup_name_prefix(char *buf, size_t size) {
        struct stat st;

        if (stat("/proc/self/ns/pid", &st) < 0)
                st.st_ino = 0;
        snprintf(buf, size, "berth-%llu-", (unsigned long long) st.st_ino);
}

/* Removes what berthds of this pid namespace that are gone left under root: berth-NS-PID
 * directories whose PID does not exist, with their (empty) service cgroups. A service's
 * processes may still have been dying when such a berthd exited; by now they are gone.
 * Bounded; errors are ignored (a directory that is not empty stays). */
static void cgroup_remove_stale(const char *root) {
        DIR *d = opendir(root);
        struct dirent *de;
        unsigned n = 0;
        char prefix[48];

        if (!d)
                return;
        cgroup_name_prefix(prefix, sizeof prefix);
        while ((de = readdir(d)) && n++ < 4096) {
                _cleanup_free_ char *dir = NULL;
                char *end;
                long pid;
                DIR *sub;

                if (strncmp(de->d_name, prefix, strlen(prefix)) != 0)
                        continue;
                pid = strtol(de->d_name + strlen(prefix), &end, 10);
                if (*end || pid <= 0 || pid == getpid() || kill((pid_t) pid, 0) == 0 ||
                    errno != ESRCH)
                        continue;
                if (asprintf(&dir, "%s/%s", root, de->d_name) < 0)
                        break;
                sub = opendir(dir);
                for (struct dirent *se; sub && (se = readdir(sub));) {
                        _cleanup_free_ char *svc = NULL;
                        if (se->d_type == DT_DIR && se->d_name[0] != '.' &&
                            asprintf(&svc, "%s/%s", dir, se->d_name) >= 0)
                                (void) rmdir(svc);
                }
                if (sub)
                        closedir(sub);
                (void) rmdir(dir);
        }
        closedir(d);
}

int cgroup_setup(char **ret_root, char *err, size_t errlen) {
        char mnt[PATH_MAX], self[PATH_MAX], name[64];
        _cleanup_free_ char *root = NULL, *probe = NULL;
        char *mine = NULL;
        int r;

        r = cgroup2_mount(mnt, sizeof mnt);
        if (r < 0)
                return errbuf_set(err, errlen, r, "no cgroup2 hierarchy is mounted");
        r = cgroup2_self(self, sizeof self);
        if (r < 0)
                return errbuf_set(err, errlen, r, "berthd's own cgroup2 path is unknown");
        if (asprintf(&root, "%s%s", mnt, streq(self, "/") ? "" : self) < 0)
                return -ENOMEM;
        snprintf(name, sizeof name, "berth-probe-%d", (int) getpid());
        r = cgroup_create(root, name, &probe);
        if (r < 0)
                return errbuf_set(err, errlen, r, "cannot create a cgroup under %s: %m", root);
        r = cgroup_probe_move(probe);
        (void) cgroup_remove(probe);
        if (r < 0)
                return errbuf_set(err, errlen, r, "cannot move a process into a cgroup under %s",
                                  root);
        cgroup_remove_stale(root);
        /* One directory per berthd: two of them (system and --user, or tests side by side)
         * must never share, let alone kill, a service's cgroup. */
        cgroup_name_prefix(name, sizeof name);
        snprintf(name + strlen(name), sizeof name - strlen(name), "%d", (int) getpid());
        r = cgroup_create(root, name, &mine);
        if (r < 0)
                return errbuf_set(err, errlen, r, "cannot create a cgroup under %s: %m", root);
        *ret_root = mine;
        return 0;
}

/* Whether the word is one of the blank-separated words in the file dir/name. */
static bool file_has_word(const char *dir, const char *name, const char *word) {
        _cleanup_free_ char *path = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        char w[64];

        if (asprintf(&path, "%s/%s", dir, name) < 0)
                return false;
        f = fopen(path, "re");
        if (!f)
                return false;
        while (fscanf(f, "%63s", w) == 1)
                if (streq(w, word))
                        return true;
        return false;
}

/* Enables controller for the children of dir, if it is not already. */
static int cgroup_enable(const char *dir, const char *controller, char *why, size_t len) {
        _cleanup_free_ char *file = NULL;
        char text[64];
        int r;

        if (file_has_word(dir, "cgroup.subtree_control", controller))
                return 0;
        if (!file_has_word(dir, "cgroup.controllers", controller))
                return errbuf_set(why, len, -EOPNOTSUPP, "the %s controller is not available in "
                                  "%s (cgroup.controllers: it is bound to cgroup v1 or not "
                                  "delegated to berthd)", controller, dir);
        if (asprintf(&file, "%s/cgroup.subtree_control", dir) < 0)
                return -ENOMEM;
        snprintf(text, sizeof text, "+%s", controller);
        r = write_file(file, text);
        if (r < 0)
                return errbuf_set(why, len, r, "cannot enable the %s controller in %s%s: %m",
                                  controller, dir,
                                  r == -EBUSY ? " (it holds processes itself, berthd among them)"
                                              : "");
        return 0;
}

int cgroup_apply_limits(const char *root, const char *path, const CGroupWrite *w, size_t n,
                        CGroupReportFunc report, void *userdata) {
        _cleanup_free_ char *parent = strdup(root);
        int applied = 0;

        if (!parent)
                return -ENOMEM;
        *strrchr(parent, '/') = 0; /* root is never "/": it is berth-PID under a mount */
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *file = NULL;
                char why[512];
                int r;

                r = cgroup_enable(parent, w[i].controller, why, sizeof why);
                if (r >= 0)
                        r = cgroup_enable(root, w[i].controller, why, sizeof why);
                if (r >= 0) {
                        if (asprintf(&file, "%s/%s", path, w[i].file) < 0)
                                return -ENOMEM;
                        r = write_file(file, w[i].value);
                        if (r < 0)
                                errbuf_set(why, sizeof why, r, "cannot write '%s' to %s: %m",
                                           w[i].value, file);
                }
                if (r < 0)
                        report(userdata, &w[i], why);
                else
                        applied++;
        }
        return applied;
}

/* A number from a /proc/sys file, or 0. */
static uint64_t read_sysctl(const char *path) {
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        unsigned long long v;

        return f && fscanf(f, "%llu", &v) == 1 ? (uint64_t) v : 0;
}

uint64_t cgroup_memory_total(void) {
        long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);

        return pages > 0 && size > 0 ? (uint64_t) pages * (uint64_t) size : 0;
}

uint64_t cgroup_tasks_total(void) {
        uint64_t pid_max = read_sysctl("/proc/sys/kernel/pid_max");
        uint64_t threads = read_sysctl("/proc/sys/kernel/threads-max");

        if (pid_max == 0 || (threads > 0 && threads < pid_max))
                return threads;
        return pid_max;
}

/* Whether process pid is in the cgroup at path, as /proc/PID/cgroup says: its cgroup2 line
 * ends with path's last two components (berth-NS-PID/unit.service, which only this berthd
 * makes), so that it holds in a cgroup namespace too, where that line is relative. */
static bool proc_in_cgroup(pid_t pid, const char *path) {
        char file[64], line[PATH_MAX + 8];
        const char *tail = path + strlen(path);
        _cleanup_fclose_ FILE *f = NULL;
        int slashes = 0;

        while (tail > path)
                if (*--tail == '/' && ++slashes == 2)
                        break;
        snprintf(file, sizeof file, "/proc/%d/cgroup", (int) pid);
        f = fopen(file, "re");
        if (!f)
                return false;
        while (fgets(line, sizeof line, f)) {
                const char *cg = line + 3;
                size_t n, k = strlen(tail);

                if (strncmp(line, "0::", 3) != 0)
                        continue;
                n = strcspn(cg, "\n");
                return n >= k && strncmp(cg + n - k, tail, k) == 0;
        }
        return false;
}

/* Signals each pid listed in file (one per line) that is, by its pidfd, still the process of
 * path's cgroup that was listed: a pid that exited and was reused since is not. Returns how
 * many. */
static int kill_listed(const char *file, const char *path, int sig) {
        _cleanup_fclose_ FILE *f = fopen(file, "re");
        unsigned n = 0, seen = 0;
        int pid;

        if (!f)
                return -errno;
        while (seen++ < CGROUP_PROCS_MAX && fscanf(f, "%d", &pid) == 1) {
                PidRef ref;

                if (pid <= 0 || pid == getpid() || pidref_open(&ref, pid) < 0)
                        continue;
                if (proc_in_cgroup(pid, path) && pidref_alive(&ref) && pidref_kill(&ref, sig) >= 0)
                        n++;
                pidref_done(&ref);
        }
        return (int) n;
}

int cgroup_kill(const char *path, int sig) {
        _cleanup_free_ char *file = NULL;
        int total = 0;

        if (sig == SIGKILL) {
                if (asprintf(&file, "%s/cgroup.kill", path) < 0)
                        return -ENOMEM;
                if (write_file(file, "1") >= 0)
                        return 1;
                free(file);
                file = NULL;
        }
        if (asprintf(&file, "%s/cgroup.procs", path) < 0)
                return -ENOMEM;
        /* A process may fork while we read: read again until a pass finds nothing new. */
        for (unsigned pass = 0; pass < (sig == SIGKILL ? CGROUP_PROCS_PASSES : 1); pass++) {
                int n = kill_listed(file, path, sig);
                if (n < 0)
                        return n;
                if (n == 0)
                        break;
                total += n;
        }
        return total;
}

/* Whether /proc/PID/environ holds the string want ("INVOCATION_ID=..."). */
static bool environ_has(int pid, const char *want) {
        char path[64], buf[64 * 1024];
        _cleanup_close_ int fd = -1;
        ssize_t n;

        snprintf(path, sizeof path, "/proc/%d/environ", pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return false;
        n = read(fd, buf, sizeof buf - 1);
        if (n <= 0)
                return false;
        buf[n] = 0;
        for (char *p = buf; p < buf + n; p += strlen(p) + 1)
                if (streq(p, want))
                        return true;
        return false;
}

/* Calls fn for every process whose environment holds INVOCATION_ID=id, except berthd
 * (bounded by the pids in /proc), with a pidfd opened before its environment was read and
 * checked unreaped after: the process that holds it. Returns how many fn counted, or a
 * negative errno. */
static int invocation_foreach(const char *id, int (*fn)(const PidRef *ref, void *userdata),
                              void *userdata) {
        _cleanup_free_ char *want = NULL;
        DIR *d;
        struct dirent *de;
        unsigned seen = 0;
        int n = 0;

        if (asprintf(&want, "INVOCATION_ID=%s", id) < 0)
                return -ENOMEM;
        d = opendir("/proc");
        if (!d)
                return -errno;
        while ((de = readdir(d)) && seen++ < PROC_PIDS_MAX) {
                int pid = atoi(de->d_name);
                PidRef ref;

                /* The environment first, cheaply; then again, with the process held. */
                if (pid <= 0 || pid == getpid() || !environ_has(pid, want) ||
                    pidref_open(&ref, pid) < 0)
                        continue;
                if (environ_has(pid, want) && pidref_alive(&ref))
                        n += fn(&ref, userdata);
                pidref_done(&ref);
        }
        closedir(d);
        return n;
}

static int kill_one(const PidRef *ref, void *userdata) {
        return pidref_kill(ref, *(int *) userdata) >= 0;
}

bool invocation_has(pid_t pid, const char *id) {
        char want[128];

        snprintf(want, sizeof want, "INVOCATION_ID=%s", id);
        return environ_has(pid, want);
}

int invocation_kill(const char *id, int sig) {
        return invocation_foreach(id, kill_one, &sig);
}

typedef struct PidList {
        pid_t *pids;
        size_t n, max;
} PidList;

static int list_one(const PidRef *ref, void *userdata) {
        PidList *l = userdata;

        if (l->n < l->max)
                l->pids[l->n] = ref->pid;
        l->n++;
        return 1;
}

int invocation_pids(const char *id, pid_t *pids, size_t max) {
        PidList l = { pids, 0, max };
        int r = invocation_foreach(id, list_one, &l);
        return r < 0 ? r : (int) l.n;
}

int cgroup_pids(const char *path, pid_t *pids, size_t max) {
        _cleanup_free_ char *file = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        size_t n = 0;
        int pid;

        if (asprintf(&file, "%s/cgroup.procs", path) < 0)
                return -ENOMEM;
        f = fopen(file, "re");
        if (!f)
                return -errno;
        while (n < CGROUP_PROCS_MAX && fscanf(f, "%d", &pid) == 1) {
                if (n < max)
                        pids[n] = pid;
                n++;
        }
        return (int) n;
}
