/* condition: see condition.h. The rules are systemd.unit(5)'s "Conditions and Asserts". */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <glob.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "common/macro.h"
#include "common/parse-util.h"
#include "daemon/condition.h"

extern char **environ;

static const char *const condition_names[_CONDITION_TYPE_MAX] = {
        [CONDITION_PATH_EXISTS] = "PathExists",
        [CONDITION_PATH_EXISTS_GLOB] = "PathExistsGlob",
        [CONDITION_PATH_IS_DIRECTORY] = "PathIsDirectory",
        [CONDITION_PATH_IS_SYMBOLIC_LINK] = "PathIsSymbolicLink",
        [CONDITION_PATH_IS_MOUNT_POINT] = "PathIsMountPoint",
        [CONDITION_PATH_IS_READ_WRITE] = "PathIsReadWrite",
        [CONDITION_DIRECTORY_NOT_EMPTY] = "DirectoryNotEmpty",
        [CONDITION_FILE_NOT_EMPTY] = "FileNotEmpty",
        [CONDITION_FILE_IS_EXECUTABLE] = "FileIsExecutable",
        [CONDITION_VIRTUALIZATION] = "Virtualization",
        [CONDITION_HOST] = "Host",
        [CONDITION_KERNEL_COMMAND_LINE] = "KernelCommandLine",
        [CONDITION_USER] = "User",
        [CONDITION_GROUP] = "Group",
        [CONDITION_ENVIRONMENT] = "Environment",
        [CONDITION_SECURITY] = "Security",
        [CONDITION_CAPABILITY] = "Capability",
        [CONDITION_CONTROL_GROUP_CONTROLLER] = "ControlGroupController",
};

ConditionType condition_type_from_string(const char *s) {
        for (int i = 0; i < _CONDITION_TYPE_MAX; i++)
                if (streq(condition_names[i], s))
                        return (ConditionType) i;
        return _CONDITION_TYPE_INVALID;
}

const char *condition_type_to_string(ConditionType t) {
        return t >= 0 && t < _CONDITION_TYPE_MAX ? condition_names[t] : NULL;
}

/* Reads a small file whole into buf ("" when missing). */
static void read_small(const char *path, char *buf, size_t len) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n = fd >= 0 ? read(fd, buf, len - 1) : -1;

        buf[n > 0 ? n : 0] = 0;
        if (fd >= 0)
                close(fd);
}

/* "container" name, "vm" name, or "" (none found). Containers first: a container in a VM is
 * a container, as systemd-detect-virt says. */
static void detect_virt(char *kind, size_t klen, char *name, size_t nlen) {
        char buf[8192];
        const char *p;

        kind[0] = name[0] = 0;
        read_small("/run/systemd/container", buf, sizeof buf);
        if (!buf[0]) {
                /* PID 1's environment: container=docker, podman, lxc, systemd-nspawn... */
                int fd = open("/proc/1/environ", O_RDONLY | O_CLOEXEC);
                ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
                if (fd >= 0)
                        close(fd);
                buf[n > 0 ? n : 0] = 0;
                for (p = buf; n > 0 && p < buf + n; p += strlen(p) + 1)
                        if (startswith(p, "container=")) {
                                snprintf(buf, sizeof buf, "%s", p + strlen("container="));
                                break;
                        }
                if (!(n > 0 && p < buf + n))
                        buf[0] = 0;
        }
        if (!buf[0] && access("/.dockerenv", F_OK) == 0)
                snprintf(buf, sizeof buf, "docker");
        if (buf[0]) {
                buf[strcspn(buf, "\n")] = 0;
                snprintf(kind, klen, "container");
                snprintf(name, nlen, "%s", buf);
                return;
        }
        read_small("/sys/class/dmi/id/sys_vendor", buf, sizeof buf);
        static const struct { const char *vendor, *name; } vendors[] = {
                { "QEMU", "qemu" }, { "VMware", "vmware" }, { "innotek", "oracle" },
                { "Oracle", "oracle" }, { "Xen", "xen" }, { "Bochs", "bochs" },
                { "Parallels", "parallels" }, { "Microsoft", "microsoft" },
                { "Amazon EC2", "amazon" }, { "Google", "google" },
        };
        for (size_t i = 0; i < ELEMENTSOF(vendors); i++)
                if (startswith(buf, vendors[i].vendor)) {
                        snprintf(kind, klen, "vm");
                        snprintf(name, nlen, "%s", vendors[i].name);
                        return;
                }
        read_small("/proc/cpuinfo", buf, sizeof buf);
        if (strstr(buf, " hypervisor")) {
                snprintf(kind, klen, "vm");
                snprintf(name, nlen, "vm-other");
        }
}

static int test_virtualization(const char *param, char *why, size_t whylen) {
        char kind[32], name[64];
        bool b;

        detect_virt(kind, sizeof kind, name, sizeof name);
        snprintf(why, whylen, "%s%s%s", kind[0] ? kind : "no virtualization", kind[0] ? ": " : "",
                 name);
        if (parse_boolean(param, &b) >= 0)
                return b == (kind[0] != 0);
        if (streq(param, "vm") || streq(param, "container"))
                return streq(kind, param);
        if (streq(param, "private-users"))
                return 0;
        return streq(name, param);
}

/* Each word of /proc/cmdline; param "word" matches the word or "word=...", "k=v" the word. */
static int test_kernel_command_line(const char *param, char *why, size_t whylen) {
        char buf[4096];
        size_t plen = strlen(param);
        bool has_eq = strchr(param, '=') != NULL;

        read_small("/proc/cmdline", buf, sizeof buf);
        for (char *save = NULL, *w = strtok_r(buf, " \n", &save); w;
             w = strtok_r(NULL, " \n", &save))
                if (has_eq ? streq(w, param)
                           : (streq(w, param) || (strncmp(w, param, plen) == 0 && w[plen] == '=')))
                        return 1;
        snprintf(why, whylen, "not on the kernel command line");
        return 0;
}

static int test_path(const Condition *c, char *why, size_t whylen) {
        const char *p = c->param;
        struct stat st, parent;
        struct statvfs vfs;
        glob_t g;
        int r;

        switch ((int) c->type) { /* the paths; test_one() has the others */
        case CONDITION_PATH_EXISTS:
                r = access(p, F_OK) == 0;
                snprintf(why, whylen, r ? "it exists" : "no such file");
                return r;
        case CONDITION_PATH_EXISTS_GLOB:
                r = glob(p, GLOB_NOSORT, NULL, &g) == 0 && g.gl_pathc > 0;
                globfree(&g);
                snprintf(why, whylen, r ? "a path matches" : "no path matches");
                return r;
        case CONDITION_PATH_IS_DIRECTORY:
                r = stat(p, &st) == 0 && S_ISDIR(st.st_mode);
                snprintf(why, whylen, r ? "a directory" : "not a directory");
                return r;
        case CONDITION_PATH_IS_SYMBOLIC_LINK:
                r = lstat(p, &st) == 0 && S_ISLNK(st.st_mode);
                snprintf(why, whylen, r ? "a symbolic link" : "not a symbolic link");
                return r;
        case CONDITION_PATH_IS_MOUNT_POINT: {
                char up[4096];
                snprintf(up, sizeof up, "%s/..", p);
                r = stat(p, &st) == 0 && stat(up, &parent) == 0 &&
                    (st.st_dev != parent.st_dev || st.st_ino == parent.st_ino);
                snprintf(why, whylen, r ? "a mount point" : "not a mount point");
                return r;
        }
        case CONDITION_PATH_IS_READ_WRITE:
                r = statvfs(p, &vfs) == 0 && !(vfs.f_flag & ST_RDONLY);
                snprintf(why, whylen, r ? "on a read-write file system" :
                                          "missing, or on a read-only file system");
                return r;
        case CONDITION_DIRECTORY_NOT_EMPTY: {
                DIR *d = opendir(p);
                struct dirent *de;
                r = 0;
                while (d && (de = readdir(d)))
                        if (de->d_name[0] != '.') {
                                r = 1;
                                break;
                        }
                if (d)
                        closedir(d);
                snprintf(why, whylen, r ? "not empty" : "missing or empty");
                return r;
        }
        case CONDITION_FILE_NOT_EMPTY:
                r = stat(p, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;
                snprintf(why, whylen, r ? "not empty" : "missing, empty or not a file");
                return r;
        case CONDITION_FILE_IS_EXECUTABLE:
                r = stat(p, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111);
                snprintf(why, whylen, r ? "executable" : "missing or not executable");
                return r;
        default:
                return -EINVAL;
        }
}

/* The capability's number, by name ("CAP_NET_ADMIN"), or -1. */
static int capability_from_name(const char *s) {
        static const char *const caps[] = {
                "chown", "dac_override", "dac_read_search", "fowner", "fsetid", "kill",
                "setgid", "setuid", "setpcap", "linux_immutable", "net_bind_service",
                "net_broadcast", "net_admin", "net_raw", "ipc_lock", "ipc_owner", "sys_module",
                "sys_rawio", "sys_chroot", "sys_ptrace", "sys_pacct", "sys_admin", "sys_boot",
                "sys_nice", "sys_resource", "sys_time", "sys_tty_config", "mknod", "lease",
                "audit_write", "audit_control", "setfcap", "mac_override", "mac_admin",
                "syslog", "wake_alarm", "block_suspend", "audit_read", "perfmon", "bpf",
                "checkpoint_restore",
        };
        if (strncasecmp(s, "cap_", 4) != 0)
                return -1;
        for (size_t i = 0; i < ELEMENTSOF(caps); i++)
                if (strcasecmp(s + 4, caps[i]) == 0)
                        return (int) i;
        return -1;
}

static int test_capability(const char *param, char *why, size_t whylen) {
        char buf[4096], *line;
        int cap = capability_from_name(param);
        unsigned long long bounding = 0;

        if (cap < 0) {
                snprintf(why, whylen, "no such capability");
                return 0;
        }
        read_small("/proc/self/status", buf, sizeof buf);
        line = strstr(buf, "CapBnd:");
        if (line)
                bounding = strtoull(line + strlen("CapBnd:"), NULL, 16);
        snprintf(why, whylen, "%s berthd's bounding set", (bounding >> cap) & 1 ? "in" :
                                                                               "not in");
        return (int) ((bounding >> cap) & 1);
}

static int test_security(const char *param, char *why, size_t whylen) {
        static const struct { const char *name, *path; } modules[] = {
                { "selinux", "/sys/fs/selinux" },
                { "apparmor", "/sys/kernel/security/apparmor" },
                { "smack", "/sys/fs/smackfs" },
                { "ima", "/sys/kernel/security/ima" },
                { "tomoyo", "/sys/kernel/security/tomoyo" },
                { "audit", "/proc/self/loginuid" },
        };
        for (size_t i = 0; i < ELEMENTSOF(modules); i++)
                if (streq(param, modules[i].name)) {
                        int r = access(modules[i].path, F_OK) == 0;
                        snprintf(why, whylen, r ? "enabled" : "not enabled");
                        return r;
                }
        snprintf(why, whylen, "not known to berth");
        return 0;
}

static int test_controller(const char *param, char *why, size_t whylen) {
        char buf[1024];

        read_small("/sys/fs/cgroup/cgroup.controllers", buf, sizeof buf);
        if (!buf[0])
                read_small("/sys/fs/cgroup/unified/cgroup.controllers", buf, sizeof buf);
        if (streq(param, "v2") || streq(param, "v1")) {
                bool v2 = access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0;
                snprintf(why, whylen, v2 ? "cgroup v2" : "cgroup v1 or hybrid");
                return streq(param, "v2") == v2;
        }
        for (char *save = NULL, *w = strtok_r(buf, " \n", &save); w;
             w = strtok_r(NULL, " \n", &save))
                if (streq(w, param))
                        return 1;
        snprintf(why, whylen, "not a cgroup2 controller here");
        return 0;
}

static int test_one(const Condition *c, char *why, size_t whylen) {
        char buf[256];

        switch ((int) c->type) { /* the paths fall to test_path() */
        case CONDITION_VIRTUALIZATION:
                return test_virtualization(c->param, why, whylen);
        case CONDITION_HOST:
                if (gethostname(buf, sizeof buf) < 0)
                        buf[0] = 0;
                buf[sizeof buf - 1] = 0;
                if (fnmatch(c->param, buf, FNM_CASEFOLD) == 0)
                        return 1;
                read_small("/etc/machine-id", buf, sizeof buf);
                buf[strcspn(buf, "\n")] = 0;
                snprintf(why, whylen, "neither the host name nor the machine id");
                return streq(buf, c->param);
        case CONDITION_KERNEL_COMMAND_LINE:
                return test_kernel_command_line(c->param, why, whylen);
        case CONDITION_USER: {
                struct passwd *pw = getpwuid(getuid());
                unsigned id;
                snprintf(why, whylen, "berthd runs as uid %u", (unsigned) getuid());
                if (streq(c->param, "@system"))
                        return getuid() < 1000;
                if (parse_unsigned(c->param, &id) >= 0)
                        return id == getuid();
                return pw && streq(pw->pw_name, c->param);
        }
        case CONDITION_GROUP: {
                struct group *gr = getgrnam(c->param);
                unsigned id;
                gid_t g = gr ? gr->gr_gid : (gid_t) -1, groups[256];
                int n = getgroups(ELEMENTSOF(groups), groups);
                snprintf(why, whylen, "berthd runs as gid %u", (unsigned) getgid());
                if (!gr && parse_unsigned(c->param, &id) >= 0)
                        g = id;
                if (g == getgid() || g == getegid())
                        return 1;
                for (int i = 0; i < n; i++)
                        if (groups[i] == g)
                                return 1;
                return 0;
        }
        case CONDITION_ENVIRONMENT: {
                bool has_eq = strchr(c->param, '=') != NULL;
                size_t plen = strlen(c->param);
                snprintf(why, whylen, "not in berthd's environment");
                for (char **e = environ; e && *e; e++)
                        if (has_eq ? streq(*e, c->param)
                                   : strncmp(*e, c->param, plen) == 0 && (*e)[plen] == '=')
                                return 1;
                return 0;
        }
        case CONDITION_SECURITY:
                return test_security(c->param, why, whylen);
        case CONDITION_CAPABILITY:
                return test_capability(c->param, why, whylen);
        case CONDITION_CONTROL_GROUP_CONTROLLER:
                return test_controller(c->param, why, whylen);
        default:
                return test_path(c, why, whylen);
        }
}

int condition_test(const Condition *c, char *why, size_t whylen) {
        int r;

        why[0] = 0;
        r = test_one(c, why, whylen);
        if (r < 0)
                return r;
        return c->negate ? !r : r;
}

int conditions_test(const Condition *list, size_t n, char *why, size_t whylen) {
        bool any_trigger[2] = { false, false }, trigger_met[2] = { false, false };
        char first_trigger[2][512] = { "", "" };

        for (size_t i = 0; i < n; i++) {
                const Condition *c = &list[i];
                int a = c->assertion;
                char found[256];
                int r = condition_test(c, found, sizeof found);

                if (r < 0)
                        r = 0;
                if (c->trigger) {
                        any_trigger[a] = true;
                        trigger_met[a] = trigger_met[a] || r;
                        if (!first_trigger[a][0])
                                snprintf(first_trigger[a], sizeof first_trigger[a],
                                         "none of the '|' %s holds, for one %s%s=|%s%s (%s)",
                                         a ? "assertions" : "conditions",
                                         a ? "Assert" : "Condition",
                                         condition_type_to_string(c->type),
                                         c->negate ? "!" : "", c->param, found);
                        continue;
                }
                if (!r) {
                        snprintf(why, whylen, "%s%s=%s%s is not met (%s)",
                                 a ? "Assert" : "Condition", condition_type_to_string(c->type),
                                 c->negate ? "!" : "", c->param, found);
                        return a ? -EBADMSG : 0;
                }
        }
        for (int a = 1; a >= 0; a--)
                if (any_trigger[a] && !trigger_met[a]) {
                        snprintf(why, whylen, "%s", first_trigger[a]);
                        return a ? -EBADMSG : 0;
                }
        why[0] = 0;
        return 1;
}

void condition_list_free(Condition **list, size_t *n) {
        for (size_t i = 0; i < *n; i++)
                free((*list)[i].param);
        free(*list);
        *list = NULL;
        *n = 0;
}
