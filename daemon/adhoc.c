/* adhoc: synthesizes text, not Unit structs, so that the ad-hoc units go through exactly the
 * parser and the checks of unit files: what works on the command line works in a file, and an
 * error names the same key. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>

#include "common/macro.h"
#include "daemon/adhoc.h"
#include "daemon/unit-file.h"

#define ADHOC_NAME_MAX 200

int adhoc_unit_name(const char *command, char **ret) {
        const char *slash = strrchr(command, '/');
        char *name;

        name = strndup(slash ? slash + 1 : command, ADHOC_NAME_MAX);
        if (!name)
                return -ENOMEM;
        if (!name[0]) {
                free(name);
                return -EINVAL;
        }
        for (char *p = name; *p; p++)
                if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-", *p))
                        *p = '_';
        *ret = name;
        return 0;
}

int adhoc_service_name(const AdhocArgs *a, char **ret) {
        _cleanup_free_ char *base = NULL;
        int r = adhoc_unit_name(a->command[0], &base);

        if (r < 0)
                return r;
        if (asprintf(ret, "%s%s.service", base, a->accept ? "@" : "") < 0)
                return -ENOMEM;
        return 0;
}

/* Writes s as one double-quoted word of systemd's syntax. In ExecStart= a '$' is doubled, and
 * '%' everywhere (berth expands specifiers), so the command runs exactly as typed. */
static void put_quoted(FILE *f, const char *s, bool exec_line) {
        fputc('"', f);
        for (; *s; s++)
                switch (*s) {
                case '\\':
                        fputs("\\\\", f);
                        break;
                case '"':
                        fputs("\\\"", f);
                        break;
                case '\n':
                        fputs("\\n", f);
                        break;
                case '$':
                        fputs(exec_line ? "$$" : "$", f);
                        break;
                case '%':
                        fputs("%%", f); /* a specifier otherwise: CMD runs as typed */
                        break;
                default:
                        fputc(*s, f);
                }
        fputc('"', f);
}

static void write_socket(FILE *f, const AdhocArgs *a) {
        const char *key = a->socktype == SOCK_DGRAM     ? "ListenDatagram" :
                          a->socktype == SOCK_SEQPACKET ? "ListenSequentialPacket" :
                                                          "ListenStream";

        fputs("[Socket]\n", f);
        for (size_t i = 0; i < a->n_listen; i++)
                fprintf(f, "%s=%s\n", key, a->listen[i]);
        if (a->accept)
                fputs("Accept=yes\n", f);
        if (a->fdname)
                fprintf(f, "FileDescriptorName=%s\n", a->fdname);
}

static void write_service(FILE *f, const AdhocArgs *a) {
        fputs(a->accept ? "[Service]\nExecStart=" : "[Service]\nRestart=on-failure\nExecStart=",
              f);
        for (char *const *arg = a->command; *arg; arg++) {
                if (arg != a->command)
                        fputc(' ', f);
                put_quoted(f, *arg, /* exec_line= */ true);
        }
        fputc('\n', f);
        for (size_t i = 0; i < a->n_setenv; i++) {
                fputs("Environment=", f);
                put_quoted(f, a->setenv[i], /* exec_line= */ false);
                fputc('\n', f);
        }
        if (a->inetd)
                fputs("StandardInput=socket\n", f);
        if (!a->accept)
                fputs("[Install]\nWantedBy=multi-user.target\n", f);
}

/* What write() writes, as a malloc'ed string in *ret. */
static int write_text(void (*write)(FILE *f, const AdhocArgs *a), const AdhocArgs *a,
                      char **ret) {
        char *text = NULL;
        size_t len = 0;
        FILE *f;

        f = open_memstream(&text, &len);
        if (!f)
                return -ENOMEM;
        write(f, a);
        if (fclose(f) != 0) {
                free(text);
                return -ENOMEM;
        }
        *ret = text;
        return 0;
}

int adhoc_socket_text(const AdhocArgs *a, char **ret) {
        return write_text(write_socket, a, ret);
}

int adhoc_service_text(const AdhocArgs *a, char **ret) {
        return write_text(write_service, a, ret);
}

/* An address or a name written into a unit line as it is must be one line, or it would add
 * lines of its own. Returns true when s is fine, else reports it. */
static bool one_line(const char *s, const char *option, UnitDiagFunc diag, void *userdata) {
        if (!strpbrk(s, "\n\r"))
                return true;
        unit_diagf(diag, userdata, LOG_ERR, ADHOC_PATH, 0,
                   "Invalid %s value: it contains a line break", option);
        return false;
}

int adhoc_units(const AdhocArgs *a, UnitDiagFunc diag, void *userdata, Unit ***ret,
                size_t *ret_n) {
        _cleanup_free_ char *base = NULL, *sock_name = NULL, *svc_name = NULL;
        _cleanup_free_ char *sock_text = NULL, *svc_text = NULL;
        _cleanup_free_ Unit **units = NULL;
        const char *path[] = { ADHOC_PATH };
        bool valid = true;
        int r;

        for (size_t i = 0; i < a->n_listen; i++)
                valid = one_line(a->listen[i], "-l", diag, userdata) && valid;
        if (a->fdname)
                valid = one_line(a->fdname, "--fdname", diag, userdata) && valid;
        if (!valid)
                return UNIT_FILE_E_INVALID;

        r = adhoc_unit_name(a->command[0], &base);
        if (r < 0)
                return r;
        if (asprintf(&sock_name, "%s.socket", base) < 0) {
                sock_name = NULL;
                return -ENOMEM;
        }
        r = adhoc_service_name(a, &svc_name);
        if (r < 0)
                return r;
        r = adhoc_socket_text(a, &sock_text);
        if (r < 0)
                return r;
        r = adhoc_service_text(a, &svc_text);
        if (r < 0)
                return r;

        units = calloc(2, sizeof(Unit *));
        if (!units)
                return -ENOMEM;
        /* Sorted by name: NAME.service < NAME.socket < NAME@.service. */
        size_t svc = a->accept ? 1 : 0;
        r = unit_file_load_strings(svc_name, path, (const char *const[]) { svc_text }, 1, diag,
                                   userdata, &units[svc]);
        if (r == 0)
                r = unit_file_load_strings(sock_name, path, (const char *const[]) { sock_text },
                                           1, diag, userdata, &units[1 - svc]);
        if (r != 0) {
                unit_free(units[svc]);
                return r;
        }
        *ret = TAKE_PTR(units);
        *ret_n = 2;
        return 0;
}
