/* specifier: systemd's "%" specifiers in unit files (systemd.unit(5), "SPECIFIERS"), expanded
 * at load time in the keys systemd expands them in. What a unit's name gives (%n %N %p %P %i
 * %I %j %J %f) comes from the unit; the directories from the mode berthd runs in (system or
 * user); the rest from the machine (%H %l %m %b %v %a %o %w %B %W), read when first asked for.
 * An unknown specifier is an error, as in systemd. No sd-event; no logging. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

typedef struct SpecifierEnv {
        bool user_mode;
        /* NULL: the roots of RuntimeDirectory= and its siblings (exec_dir_root()): the
         * system mode's /run, /var/lib, /var/cache, /var/log, /etc, or in user mode, as
         * systemd 252, $XDG_RUNTIME_DIR, $XDG_CONFIG_HOME, $XDG_CACHE_HOME,
         * $XDG_CONFIG_HOME/log, $XDG_CONFIG_HOME (with the XDG defaults). */
        const char *runtime_dir, *state_dir, *cache_dir, *logs_dir, *config_dir;
} SpecifierEnv;

/* The environment the loader expands with (default: system mode). Not copied. */
void specifier_set_env(const SpecifierEnv *env);
const SpecifierEnv *specifier_get_env(void);

/* Expands the specifiers of text for the unit named unit ("web@one.socket"). Returns 0 and
 * *ret (malloc'ed), -EBADMSG with a reason in why (an unknown specifier, a '%' at the end, a
 * value that cannot be found), or -ENOMEM. */
int specifier_expand(const char *text, const char *unit, char **ret, char *why, size_t whylen);

/* Whether text holds a '%' at all (nothing to expand otherwise). */
static inline bool specifier_any(const char *text) {
        for (; *text; text++)
                if (*text == '%')
                        return true;
        return false;
}

/* systemd's unit name unescaping: "-" is "/", "\xNN" is that byte ("foo-bar" -> "foo/bar").
 * Returns a malloc'ed string or NULL (out of memory, or a "\x" that is not two hex digits). */
char *unit_name_unescape(const char *s, size_t n);
