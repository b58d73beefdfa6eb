/* specifier: see specifier.h. */
#include <errno.h>
#include <pwd.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "common/macro.h"
#include "common/parse-util.h"
#include "daemon/exec-dirs.h"
#include "daemon/specifier.h"

static const SpecifierEnv *current_env;

void specifier_set_env(const SpecifierEnv *env) {
        current_env = env;
}

const SpecifierEnv *specifier_get_env(void) {
        static const SpecifierEnv system_env = {};
        return current_env ?: &system_env;
}

char *unit_name_unescape(const char *s, size_t n) {
        char *out = malloc(n + 1), *o = out;

        if (!out)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                if (s[i] == '-')
                        *o++ = '/';
                else if (s[i] == '\\' && i + 3 < n && s[i + 1] == 'x' &&
                         unhex(s[i + 2]) >= 0 && unhex(s[i + 3]) >= 0) {
                        *o++ = (char) (unhex(s[i + 2]) << 4 | unhex(s[i + 3]));
                        i += 3;
                } else if (s[i] == '\\') {
                        free(out);
                        return NULL;
                } else
                        *o++ = s[i];
        }
        *o = 0;
        return out;
}

/* The parts of a unit name: prefix (before '@' or the type suffix), instance (between '@' and
 * the suffix; empty for a template or a plain name), and the name without its suffix. */
typedef struct NameParts {
        const char *name;
        size_t prefix_len, instance_off, instance_len, stem_len;
        bool has_at;
} NameParts;

static void name_parts(const char *name, NameParts *p) {
        const char *dot = strrchr(name, '.'), *at;

        *p = (NameParts) { .name = name };
        p->stem_len = dot ? (size_t) (dot - name) : strlen(name);
        at = memchr(name, '@', p->stem_len);
        p->has_at = at != NULL;
        p->prefix_len = at ? (size_t) (at - name) : p->stem_len;
        if (at) {
                p->instance_off = (size_t) (at - name) + 1;
                p->instance_len = p->stem_len - p->instance_off;
        }
}

/* Reads the first line of a file into buf. */
static int read_line(const char *path, char *buf, size_t len) {
        FILE *f = fopen(path, "re");
        int r = 0;

        if (!f)
                return -errno;
        if (!fgets(buf, (int) len, f))
                r = -ENODATA;
        fclose(f);
        buf[strcspn(buf, "\n")] = 0;
        return r;
}

/* A field of /etc/os-release (or /usr/lib/os-release), unquoted; "" when absent. */
static void os_release(const char *key, char *buf, size_t len) {
        static const char *const paths[] = { "/etc/os-release", "/usr/lib/os-release" };
        size_t klen = strlen(key);
        char line[512];

        buf[0] = 0;
        for (size_t i = 0; i < ELEMENTSOF(paths); i++) {
                FILE *f = fopen(paths[i], "re");
                if (!f)
                        continue;
                while (fgets(line, sizeof line, f)) {
                        char *v;
                        size_t n;

                        if (strncmp(line, key, klen) != 0 || line[klen] != '=')
                                continue;
                        v = line + klen + 1;
                        v[strcspn(v, "\n")] = 0;
                        n = strlen(v);
                        if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
                                v[n - 1] = 0;
                                v++;
                        }
                        snprintf(buf, len, "%s", v);
                        break;
                }
                fclose(f);
                return;
        }
}

static const char *getenv_value(const char *name) {
        return getenv(name);
}

/* One specifier's value into buf (len bytes). Returns 0, or a negative errno with why. */
static int specifier_value(char c, const NameParts *np, char *buf, size_t len, char *why,
                           size_t whylen) {
        const SpecifierEnv *env = specifier_get_env();
        struct utsname u;
        _cleanup_free_ char *tmp = NULL;
        int r;

        switch (c) {
        case 'n':
                snprintf(buf, len, "%s", np->name);
                return 0;
        case 'N':
                snprintf(buf, len, "%.*s", (int) np->stem_len, np->name);
                return 0;
        case 'p':
                snprintf(buf, len, "%.*s", (int) np->prefix_len, np->name);
                return 0;
        case 'i':
                snprintf(buf, len, "%.*s", (int) np->instance_len, np->name + np->instance_off);
                return 0;
        case 'j': case 'J': case 'P': case 'I': case 'f': {
                const char *s = np->name;
                size_t n = np->prefix_len;

                if (c == 'I' || (c == 'f' && np->instance_len > 0)) {
                        s = np->name + np->instance_off;
                        n = np->instance_len;
                } else if (c == 'j' || c == 'J') {
                        const char *dash = NULL;
                        for (size_t i = 0; i < n; i++)
                                if (s[i] == '-')
                                        dash = s + i;
                        if (dash) {
                                n -= (size_t) (dash + 1 - s);
                                s = dash + 1;
                        }
                }
                if (c == 'j') {
                        snprintf(buf, len, "%.*s", (int) n, s);
                        return 0;
                }
                tmp = unit_name_unescape(s, n);
                if (!tmp) {
                        snprintf(why, whylen, "'%.*s' is not a valid escaped name", (int) n, s);
                        return -EBADMSG;
                }
                snprintf(buf, len, "%s%s", c == 'f' && tmp[0] != '/' ? "/" : "", tmp);
                return 0;
        }
        case 't': case 'S': case 'C': case 'L': case 'E': {
                /* The roots RuntimeDirectory= and its siblings go under (exec-dirs.h), so
                 * that %S/foo is $STATE_DIRECTORY of StateDirectory=foo. */
                ExecDirType t = c == 't' ? EXEC_DIR_RUNTIME : c == 'S' ? EXEC_DIR_STATE :
                                c == 'C' ? EXEC_DIR_CACHE : c == 'L' ? EXEC_DIR_LOGS :
                                EXEC_DIR_CONFIGURATION;
                const char *set[] = { env->runtime_dir, env->state_dir, env->cache_dir,
                                      env->logs_dir, env->config_dir };

                if (set[t]) {
                        snprintf(buf, len, "%s", set[t]);
                        return 0;
                }
                r = exec_dir_root(t, env->user_mode, getenv_value, &tmp);
                if (r == -ENXIO) {
                        snprintf(why, whylen, "%%%c: %s is not set", c,
                                 c == 't' ? "$XDG_RUNTIME_DIR" : "$HOME");
                        return -EBADMSG;
                }
                if (r < 0)
                        return r;
                snprintf(buf, len, "%s", tmp);
                return 0;
        }
        case 'T': case 'V': {
                const char *t = getenv("TMPDIR");
                snprintf(buf, len, "%s", t && t[0] == '/' ? t : c == 'T' ? "/tmp" : "/var/tmp");
                return 0;
        }
        case 'h': case 's': case 'u': case 'U': {
                uid_t uid = getuid();
                struct passwd *pw = getpwuid(uid);

                if (c == 'U') {
                        snprintf(buf, len, "%u", (unsigned) uid);
                        return 0;
                }
                if (c == 'h' && getenv("HOME") && getenv("HOME")[0] == '/' && uid != 0) {
                        snprintf(buf, len, "%s", getenv("HOME"));
                        return 0;
                }
                if (!pw) {
                        if (c == 'u') {
                                snprintf(buf, len, "%u", (unsigned) uid);
                                return 0;
                        }
                        snprintf(why, whylen, "%%%c: uid %u has no passwd entry", c,
                                 (unsigned) uid);
                        return -EBADMSG;
                }
                snprintf(buf, len, "%s", c == 'u' ? pw->pw_name : c == 'h' ? pw->pw_dir :
                                         pw->pw_shell);
                return 0;
        }
        case 'g': case 'G': {
                gid_t gid = getgid();
                struct group *gr = c == 'g' ? getgrgid(gid) : NULL;

                if (gr)
                        snprintf(buf, len, "%s", gr->gr_name);
                else
                        snprintf(buf, len, "%u", (unsigned) gid);
                return 0;
        }
        case 'H': case 'l':
                if (gethostname(buf, len) < 0) {
                        snprintf(why, whylen, "%%%c: cannot get the host name", c);
                        return -EBADMSG;
                }
                buf[len - 1] = 0;
                if (c == 'l')
                        buf[strcspn(buf, ".")] = 0;
                return 0;
        case 'm': case 'b':
                if (read_line(c == 'm' ? "/etc/machine-id" : "/proc/sys/kernel/random/boot_id",
                              buf, len) < 0) {
                        snprintf(why, whylen, "%%%c: cannot read the %s id", c,
                                 c == 'm' ? "machine" : "boot");
                        return -EBADMSG;
                }
                if (c == 'b') { /* the boot id without its dashes, as systemd prints it */
                        char *o = buf;
                        for (const char *p = buf; *p; p++)
                                if (*p != '-')
                                        *o++ = *p;
                        *o = 0;
                }
                return 0;
        case 'v': case 'a':
                if (uname(&u) < 0) {
                        snprintf(why, whylen, "%%%c: uname() failed", c);
                        return -EBADMSG;
                }
                snprintf(buf, len, "%s", c == 'v' ? u.release : u.machine);
                return 0;
        case 'o': case 'w': case 'B': case 'W': case 'A': case 'M':
                os_release(c == 'o' ? "ID" : c == 'w' ? "VERSION_ID" : c == 'B' ? "BUILD_ID" :
                           c == 'W' ? "VARIANT_ID" : c == 'A' ? "IMAGE_VERSION" : "IMAGE_ID",
                           buf, len);
                return 0;
        default:
                /* The byte after '%' as it is when printable, else escaped: a message stays one
                 * line of text. */
                if ((unsigned char) c > 0x20 && (unsigned char) c < 0x7f)
                        snprintf(why, whylen, "unknown specifier '%%%c' (write %%%% for a '%%')",
                                 c);
                else
                        snprintf(why, whylen, "unknown specifier '%%\\x%02x' (write %%%% for a "
                                 "'%%')", (unsigned) (unsigned char) c);
                return -EBADMSG;
        }
}

int specifier_expand(const char *text, const char *unit, char **ret, char *why, size_t whylen) {
        char *out = NULL;
        size_t size = 0;
        FILE *f;
        NameParts np;
        int r = 0;

        name_parts(unit, &np);
        f = open_memstream(&out, &size);
        if (!f)
                return -ENOMEM;
        for (const char *p = text; *p; p++) {
                char value[4096];

                if (*p != '%') {
                        fputc(*p, f);
                        continue;
                }
                p++;
                if (*p == '%') {
                        fputc('%', f);
                        continue;
                }
                if (*p == '\0') {
                        snprintf(why, whylen, "a '%%' at the end (write %%%% for a '%%')");
                        r = -EBADMSG;
                        break;
                }
                r = specifier_value(*p, &np, value, sizeof value, why, whylen);
                if (r < 0)
                        break;
                fputs(value, f);
        }
        if (fclose(f) != 0 && r >= 0)
                r = -ENOMEM;
        if (r < 0) {
                free(out);
                return r;
        }
        *ret = out;
        return 0;
}
