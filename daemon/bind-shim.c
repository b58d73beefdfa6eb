/* bind-shim: berthd's side of BindShim=yes (bind-shim.h). */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "common/env-util.h"
#include "common/log.h"
#include "common/macro.h"
#include "daemon/bind-shim.h"
#include "daemon/exec-check.h"

#define SHIM_FILE "libberth-bind.so"

int bind_shim_library(char **ret_path) {
        char self[PATH_MAX], *slash, *p = NULL;
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);

        if (n > 0) {
                self[n] = '\0';
                slash = strrchr(self, '/');
                if (slash) {
                        *slash = '\0';
                        if (asprintf(&p, "%s/%s", self, SHIM_FILE) < 0)
                                return -ENOMEM;
                        if (access(p, R_OK) == 0) {
                                *ret_path = p;
                                return 0;
                        }
                        free(p);
                }
        }
        if (access(BERTH_BIND_SHIM_PATH, R_OK) < 0)
                return -ENOENT;
        p = strdup(BERTH_BIND_SHIM_PATH);
        if (!p)
                return -ENOMEM;
        *ret_path = p;
        return 0;
}

char *bind_shim_preload_entry(char *const *env, const char *lib) {
        const char *old = env_get(env, "LD_PRELOAD");
        char *entry;

        if (asprintf(&entry, "LD_PRELOAD=%s%s%s", lib, old && *old ? ":" : "",
                     old ? old : "") < 0)
                return NULL;
        return entry;
}

/* Whether an ELF file has a PT_INTERP program header (it is dynamically linked). Returns 1,
 * 0 (no: static), or -ENOEXEC when it is not ELF (a script), or another negative errno. */
static int elf_has_interp(int fd) {
        unsigned char ident[EI_NIDENT];
        uint64_t phoff;
        size_t phentsize, phnum;
        bool is64;

        if (pread(fd, ident, sizeof ident, 0) != (ssize_t) sizeof ident ||
            memcmp(ident, ELFMAG, SELFMAG) != 0)
                return -ENOEXEC;
        is64 = ident[EI_CLASS] == ELFCLASS64;
        if (is64) {
                Elf64_Ehdr eh;
                if (pread(fd, &eh, sizeof eh, 0) != (ssize_t) sizeof eh)
                        return -ENOEXEC;
                phoff = eh.e_phoff, phentsize = eh.e_phentsize, phnum = eh.e_phnum;
        } else {
                Elf32_Ehdr eh;
                if (pread(fd, &eh, sizeof eh, 0) != (ssize_t) sizeof eh)
                        return -ENOEXEC;
                phoff = eh.e_phoff, phentsize = eh.e_phentsize, phnum = eh.e_phnum;
        }
        /* Read in the machine's own byte order: a foreign ELF would not run here anyway. */
        if (phentsize < (is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr)) || phnum > 4096)
                return -ENOEXEC;
        for (size_t i = 0; i < phnum; i++) {
                uint32_t type;
                if (pread(fd, &type, sizeof type, (off_t) (phoff + i * phentsize)) !=
                    (ssize_t) sizeof type)
                        return -ENOEXEC;
                if (type == PT_INTERP)
                        return 1;
        }
        return 0;
}

int bind_shim_check_binary(const char *path, char *why, size_t why_size) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        struct stat st;
        int r;

        if (fd < 0 || fstat(fd, &st) < 0)
                return -errno;
        if (st.st_mode & (S_ISUID | S_ISGID)) {
                snprintf(why, why_size, "is set%sid: the dynamic linker ignores LD_PRELOAD for it",
                         st.st_mode & S_ISUID ? "u" : "g");
                return 1;
        }
        r = elf_has_interp(fd);
        if (r == 0) {
                snprintf(why, why_size, "is statically linked: no LD_PRELOAD reaches it");
                return 1;
        }
        return r == -ENOEXEC ? 0 : r < 0 ? r : 0;
}

void bind_shim_check_units(Unit *const *units, size_t n) {
        for (size_t i = 0; i < n; i++) {
                const Unit *u = units[i];
                const ServiceConfig *c = &u->service;
                _cleanup_free_ char *path = NULL;
                char why[128];
                int r;

                if (u->type != UNIT_SERVICE || !service_config_extra(c)->bind_shim ||
                    c->n_exec_start == 0)
                        continue;
                /* The PATH the service will have, not the default. */
                r = exec_check_find(c->exec_start[0].path, exec_check_search_path(c), &path);
                if (r == -ENOMEM)
                        return (void) log_oom();
                if (r < 0)
                        continue; /* not found: exec-check said so */
                r = bind_shim_check_binary(path, why, sizeof why);
                if (r > 0)
                        log_warning("%s:%u: BindShim=yes, but '%s' %s; it binds its own "
                                    "sockets, ignoring", strempty(c->exec_start[0].origin.file),
                                    c->exec_start[0].origin.line, path, why);
        }
}
