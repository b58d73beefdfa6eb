/* parse-util: the value syntaxes of systemd's unit files, see parse-util.h. Pure. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/parse-util.h"

#define WHITESPACE " \t\n\r"
#define DIGITS "0123456789"

static bool is_digit(char c) {
        return c >= '0' && c <= '9';
}

int parse_boolean(const char *s, bool *ret) {
        static const char *const yes[] = { "1", "yes", "y", "true", "t", "on" };
        static const char *const no[] = { "0", "no", "n", "false", "f", "off" };

        for (size_t i = 0; i < ELEMENTSOF(yes); i++)
                if (strcasecmp(s, yes[i]) == 0) {
                        *ret = true;
                        return 0;
                }
        for (size_t i = 0; i < ELEMENTSOF(no); i++)
                if (strcasecmp(s, no[i]) == 0) {
                        *ret = false;
                        return 0;
                }
        return -EINVAL;
}

/* Reads a run of decimal digits into *ret. Returns the number of digits read (0 when there is
 * none), or -ERANGE on overflow. */
static int read_digits(const char **p, uint64_t *ret) {
        const char *s = *p;
        uint64_t v = 0;
        int n = 0;

        for (; is_digit(*s); s++, n++) {
                unsigned d = (unsigned) (*s - '0');
                if (v > (UINT64_MAX - d) / 10)
                        return -ERANGE;
                v = v * 10 + d;
        }
        *p = s;
        *ret = v;
        return n;
}

int parse_uint64(const char *s, uint64_t *ret) {
        const char *p = s;
        uint64_t v;
        int n;

        n = read_digits(&p, &v);
        if (n < 0)
                return n;
        if (n == 0 || *p != '\0')
                return -EINVAL;
        *ret = v;
        return 0;
}

int parse_unsigned(const char *s, unsigned *ret) {
        uint64_t v;
        int r;

        r = parse_uint64(s, &v);
        if (r < 0)
                return r;
        if (v > UINT_MAX)
                return -ERANGE;
        *ret = (unsigned) v;
        return 0;
}

int parse_mode(const char *s, mode_t *ret) {
        unsigned long v = 0;

        if (*s == '\0')
                return -EINVAL;
        for (const char *p = s; *p; p++) {
                if (*p < '0' || *p > '7')
                        return -EINVAL;
                v = v * 8 + (unsigned long) (*p - '0');
                if (v > 07777)
                        return -ERANGE;
        }
        *ret = (mode_t) v;
        return 0;
}

typedef struct Multiplier {
        const char *suffix;
        uint64_t factor;
} Multiplier;

/* Order matters: the first prefix that matches wins, so longer spellings come first
 * ("msec" before "ms" before "m", "months" before "min"... as systemd's table). */
static const Multiplier time_units[] = {
        { "seconds", USEC_PER_SEC },
        { "second", USEC_PER_SEC },
        { "sec", USEC_PER_SEC },
        { "s", USEC_PER_SEC },
        { "minutes", USEC_PER_MINUTE },
        { "minute", USEC_PER_MINUTE },
        { "min", USEC_PER_MINUTE },
        { "months", 2629800ULL * USEC_PER_SEC },
        { "month", 2629800ULL * USEC_PER_SEC },
        { "M", 2629800ULL * USEC_PER_SEC },
        { "msec", USEC_PER_MSEC },
        { "ms", USEC_PER_MSEC },
        { "m", USEC_PER_MINUTE },
        { "hours", USEC_PER_HOUR },
        { "hour", USEC_PER_HOUR },
        { "hr", USEC_PER_HOUR },
        { "h", USEC_PER_HOUR },
        { "days", USEC_PER_DAY },
        { "day", USEC_PER_DAY },
        { "d", USEC_PER_DAY },
        { "weeks", 7ULL * USEC_PER_DAY },
        { "week", 7ULL * USEC_PER_DAY },
        { "w", 7ULL * USEC_PER_DAY },
        { "years", 31557600ULL * USEC_PER_SEC },
        { "year", 31557600ULL * USEC_PER_SEC },
        { "y", 31557600ULL * USEC_PER_SEC },
        { "usec", 1 },
        { "us", 1 },
        { "\xc2\xb5s", 1 }, /* µs, MICRO SIGN */
        { "\xce\xbcs", 1 }, /* μs, GREEK SMALL LETTER MU */
};

static const Multiplier size_units[] = {
        { "E", 1ULL << 60 }, { "e", 1ULL << 60 },
        { "P", 1ULL << 50 }, { "p", 1ULL << 50 },
        { "T", 1ULL << 40 }, { "t", 1ULL << 40 },
        { "G", 1ULL << 30 }, { "g", 1ULL << 30 },
        { "M", 1ULL << 20 }, { "m", 1ULL << 20 },
        { "K", 1ULL << 10 }, { "k", 1ULL << 10 },
        { "B", 1 },          { "b", 1 },
};

/* Sums components "NUMBER[.FRACTION] [UNIT]" separated by optional blanks, as systemd's
 * parse_time() and parse_size() do. A component without a unit uses default_factor. */
static int parse_components(const char *s, const Multiplier *units, size_t n_units,
                            uint64_t default_factor, uint64_t *ret) {
        const char *p = s;
        uint64_t sum = 0;
        bool any = false;

        for (;;) {
                uint64_t whole = 0, factor = default_factor, k;
                const char *frac = NULL, *u;
                size_t n_frac = 0;
                int n;

                p += strspn(p, WHITESPACE);
                if (*p == '\0')
                        break;
                if (*p == '-')
                        return -ERANGE;

                n = read_digits(&p, &whole);
                if (n < 0)
                        return n;
                if (*p == '.') {
                        p++;
                        if (!is_digit(*p))
                                return -EINVAL; /* "3.", "3.s", "3. 1" */
                        frac = p;
                        n_frac = strspn(p, DIGITS);
                        p += n_frac;
                } else if (n == 0)
                        return -EINVAL;

                u = p + strspn(p, WHITESPACE);
                for (size_t i = 0; i < n_units; i++) {
                        const char *e = startswith(u, units[i].suffix);
                        if (e) {
                                factor = units[i].factor;
                                p = e;
                                break;
                        }
                }
                /* Without a unit, the number must end at a blank or the end: refuses "5x"
                 * and "12.34.56". After a unit anything may follow ("1min30s"); the next
                 * round refuses what is not a number. */
                if (p <= u && *p != '\0' && !strchr(WHITESPACE, *p))
                        return -EINVAL;

                if (whole != 0 && factor > UINT64_MAX / whole)
                        return -ERANGE;
                k = whole * factor;
                if (frac) {
                        /* frac * factor / 10^digits, exactly, without overflow: at most 9
                         * digits count (finer ones are below any unit's resolution that
                         * matters), so factor % 10^9 * frac < 2^60. */
                        uint64_t f = 0, pow = 1, add;
                        for (size_t i = 0; i < n_frac && i < 9; i++) {
                                f = f * 10 + (uint64_t) (frac[i] - '0');
                                pow *= 10;
                        }
                        add = factor / pow * f + factor % pow * f / pow;
                        if (k > UINT64_MAX - add)
                                return -ERANGE;
                        k += add;
                }
                if (sum > UINT64_MAX - k)
                        return -ERANGE;
                sum += k;
                any = true;
        }
        if (!any)
                return -EINVAL;
        *ret = sum;
        return 0;
}

int parse_sec(const char *s, usec_t *ret) {
        const char *p = s + strspn(s, WHITESPACE);
        size_t n = strlen(p);
        usec_t v;
        int r;

        while (n > 0 && strchr(WHITESPACE, p[n - 1]))
                n--;
        if (n == strlen("infinity") && strncmp(p, "infinity", n) == 0) {
                *ret = USEC_INFINITY;
                return 0;
        }
        r = parse_components(s, time_units, ELEMENTSOF(time_units), USEC_PER_SEC, &v);
        if (r < 0)
                return r;
        if (v == USEC_INFINITY)
                return -ERANGE; /* only "infinity" means infinity */
        *ret = v;
        return 0;
}

int parse_size(const char *s, uint64_t *ret) {
        return parse_components(s, size_units, ELEMENTSOF(size_units), 1, ret);
}

static const char *const signal_names[] = {
        [SIGHUP] = "HUP",       [SIGINT] = "INT",       [SIGQUIT] = "QUIT",
        [SIGILL] = "ILL",       [SIGTRAP] = "TRAP",     [SIGABRT] = "ABRT",
        [SIGBUS] = "BUS",       [SIGFPE] = "FPE",       [SIGKILL] = "KILL",
        [SIGUSR1] = "USR1",     [SIGSEGV] = "SEGV",     [SIGUSR2] = "USR2",
        [SIGPIPE] = "PIPE",     [SIGALRM] = "ALRM",     [SIGTERM] = "TERM",
        [SIGSTKFLT] = "STKFLT", [SIGCHLD] = "CHLD",     [SIGCONT] = "CONT",
        [SIGSTOP] = "STOP",     [SIGTSTP] = "TSTP",     [SIGTTIN] = "TTIN",
        [SIGTTOU] = "TTOU",     [SIGURG] = "URG",       [SIGXCPU] = "XCPU",
        [SIGXFSZ] = "XFSZ",     [SIGVTALRM] = "VTALRM", [SIGPROF] = "PROF",
        [SIGWINCH] = "WINCH",   [SIGIO] = "IO",         [SIGPWR] = "PWR",
        [SIGSYS] = "SYS",
};

static const char *const signal_full_names[] = {
        [SIGHUP] = "SIGHUP",       [SIGINT] = "SIGINT",       [SIGQUIT] = "SIGQUIT",
        [SIGILL] = "SIGILL",       [SIGTRAP] = "SIGTRAP",     [SIGABRT] = "SIGABRT",
        [SIGBUS] = "SIGBUS",       [SIGFPE] = "SIGFPE",       [SIGKILL] = "SIGKILL",
        [SIGUSR1] = "SIGUSR1",     [SIGSEGV] = "SIGSEGV",     [SIGUSR2] = "SIGUSR2",
        [SIGPIPE] = "SIGPIPE",     [SIGALRM] = "SIGALRM",     [SIGTERM] = "SIGTERM",
        [SIGSTKFLT] = "SIGSTKFLT", [SIGCHLD] = "SIGCHLD",     [SIGCONT] = "SIGCONT",
        [SIGSTOP] = "SIGSTOP",     [SIGTSTP] = "SIGTSTP",     [SIGTTIN] = "SIGTTIN",
        [SIGTTOU] = "SIGTTOU",     [SIGURG] = "SIGURG",       [SIGXCPU] = "SIGXCPU",
        [SIGXFSZ] = "SIGXFSZ",     [SIGVTALRM] = "SIGVTALRM", [SIGPROF] = "SIGPROF",
        [SIGWINCH] = "SIGWINCH",   [SIGIO] = "SIGIO",         [SIGPWR] = "SIGPWR",
        [SIGSYS] = "SIGSYS",
};

const char *signal_to_string(int sig) {
        if (sig <= 0 || (size_t) sig >= ELEMENTSOF(signal_full_names))
                return NULL;
        return signal_full_names[sig];
}

/* "+N" / "-N" after RTMIN / RTMAX: returns the offset or -EINVAL. */
static int parse_rt_offset(const char *s, char sign) {
        unsigned v;

        if (*s == '\0')
                return 0;
        if (*s != sign)
                return -EINVAL;
        if (parse_unsigned(s + 1, &v) < 0 || v > (unsigned) (SIGRTMAX - SIGRTMIN))
                return -EINVAL;
        return (int) v;
}

int parse_signal(const char *s, int *ret) {
        const char *name = startswith(s, "SIG") ?: s;
        const char *e;
        unsigned v;
        int k;

        if (parse_unsigned(s, &v) >= 0) {
                if (v < 1 || v > (unsigned) SIGRTMAX)
                        return -ERANGE;
                *ret = (int) v;
                return 0;
        }
        for (size_t i = 1; i < ELEMENTSOF(signal_names); i++)
                if (signal_names[i] && streq(name, signal_names[i])) {
                        *ret = (int) i;
                        return 0;
                }
        /* Aliases glibc knows too. */
        if (streq(name, "IOT")) {
                *ret = SIGABRT;
                return 0;
        }
        if (streq(name, "POLL")) {
                *ret = SIGIO;
                return 0;
        }
        if ((e = startswith(name, "RTMIN"))) {
                k = parse_rt_offset(e, '+');
                if (k < 0)
                        return k;
                *ret = SIGRTMIN + k;
                return 0;
        }
        if ((e = startswith(name, "RTMAX"))) {
                k = parse_rt_offset(e, '-');
                if (k < 0)
                        return k;
                *ret = SIGRTMAX - k;
                return 0;
        }
        return -EINVAL;
}

int parse_rlimit(const char *s, uint64_t *ret_soft, uint64_t *ret_hard) {
        const char *colon = strchr(s, ':');
        uint64_t soft, hard;
        int r;

        if (colon) {
                _cleanup_free_ char *a = strndup(s, (size_t) (colon - s));
                if (!a)
                        return -ENOMEM;
                if (streq(a, "infinity"))
                        soft = UINT64_MAX;
                else if ((r = parse_uint64(a, &soft)) < 0)
                        return r;
                if (streq(colon + 1, "infinity"))
                        hard = UINT64_MAX;
                else if ((r = parse_uint64(colon + 1, &hard)) < 0)
                        return r;
                if (soft > hard)
                        return -EINVAL;
        } else {
                if (streq(s, "infinity"))
                        soft = UINT64_MAX;
                else if ((r = parse_uint64(s, &soft)) < 0)
                        return r;
                hard = soft;
        }
        *ret_soft = soft;
        *ret_hard = hard;
        return 0;
}

int unhex(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -EINVAL;
}

/* Writes the UTF-8 form of c (valid, non-zero) to out; returns its length. */
static size_t utf8_encode(uint32_t c, char *out) {
        if (c < 0x80) {
                out[0] = (char) c;
                return 1;
        }
        if (c < 0x800) {
                out[0] = (char) (0xc0 | (c >> 6));
                out[1] = (char) (0x80 | (c & 0x3f));
                return 2;
        }
        if (c < 0x10000) {
                out[0] = (char) (0xe0 | (c >> 12));
                out[1] = (char) (0x80 | ((c >> 6) & 0x3f));
                out[2] = (char) (0x80 | (c & 0x3f));
                return 3;
        }
        out[0] = (char) (0xf0 | (c >> 18));
        out[1] = (char) (0x80 | ((c >> 12) & 0x3f));
        out[2] = (char) (0x80 | ((c >> 6) & 0x3f));
        out[3] = (char) (0x80 | (c & 0x3f));
        return 4;
}

/* Decodes the escape after a backslash at *p (which points past the backslash) into out (room
 * for 4 bytes). Returns the number of bytes written and advances *p, or -EINVAL. */
static int unescape_one(const char **p, char *out) {
        const char *s = *p;
        uint32_t c = 0;
        int n;

        switch (*s) {
        case 'a': out[0] = '\a'; n = 1; s++; break;
        case 'b': out[0] = '\b'; n = 1; s++; break;
        case 'f': out[0] = '\f'; n = 1; s++; break;
        case 'n': out[0] = '\n'; n = 1; s++; break;
        case 'r': out[0] = '\r'; n = 1; s++; break;
        case 't': out[0] = '\t'; n = 1; s++; break;
        case 'v': out[0] = '\v'; n = 1; s++; break;
        case 's': out[0] = ' '; n = 1; s++; break;
        case '\\': case '"': case '\'':
                out[0] = *s;
                n = 1;
                s++;
                break;
        case 'x': {
                int a = unhex(s[1]), b = a < 0 ? -EINVAL : unhex(s[2]);
                if (a < 0 || b < 0 || (a | b) == 0)
                        return -EINVAL; /* \x00 would cut the string */
                out[0] = (char) (a << 4 | b);
                n = 1;
                s += 3;
                break;
        }
        case 'u':
        case 'U': {
                int len = *s == 'u' ? 4 : 8;
                for (int i = 1; i <= len; i++) {
                        int d = unhex(s[i]);
                        if (d < 0)
                                return -EINVAL;
                        c = c << 4 | (uint32_t) d;
                }
                if (c == 0 || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
                        return -EINVAL;
                n = (int) utf8_encode(c, out);
                s += len + 1;
                break;
        }
        case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7':
                for (int i = 0; i < 3; i++) {
                        if (s[i] < '0' || s[i] > '7')
                                return -EINVAL;
                        c = c * 8 + (uint32_t) (s[i] - '0');
                }
                if (c == 0 || c > 255)
                        return -EINVAL;
                out[0] = (char) c;
                n = 1;
                s += 3;
                break;
        default:
                return -EINVAL; /* includes the NUL of a trailing backslash */
        }
        *p = s;
        return n;
}

int extract_word(const char **p, char **ret, ExtractFlags flags) {
        const char *s = *p, *start;
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, cap = 0;
        char quote = 0;

        s += strspn(s, WHITESPACE);
        if (*s == '\0') {
                *p = s;
                *ret = NULL;
                return 0;
        }
        start = s;

        for (;;) {
                char tmp[4];
                size_t n = 0;

                if (*s == '\0') {
                        if (quote)
                                return -EINVAL; /* unfinished quote */
                        break;
                }
                if (!quote && strchr(WHITESPACE, *s))
                        break;

                if (*s == '\\' && (flags & EXTRACT_SEPARATOR) && !quote && s == start &&
                    s[1] == ';' && (s[2] == '\0' || strchr(WHITESPACE, s[2]))) {
                        /* A lone "\;" is a literal ';' word (systemd's config_parse_exec()). */
                        tmp[0] = ';';
                        n = 1;
                        s += 2;
                } else if (*s == '\\') {
                        int k;
                        s++;
                        k = unescape_one(&s, tmp);
                        if (k < 0 && !(flags & EXTRACT_UNESCAPE_RELAX))
                                return k;
                        if (k < 0 && *s == '\0' && quote)
                                return k; /* a trailing backslash inside quotes */
                        if (k < 0) {
                                /* Kept as written: the backslash, and what follows it. */
                                tmp[0] = '\\';
                                n = 1;
                                if (*s != '\0')
                                        tmp[n++] = *s++;
                        } else
                                n = (size_t) k;
                } else if (quote && *s == quote) {
                        quote = 0;
                        s++;
                } else if (!quote && (*s == '"' || *s == '\'')) {
                        quote = *s;
                        s++;
                } else {
                        tmp[0] = *s++;
                        n = 1;
                }

                if (len + n + 1 > cap) {
                        size_t ncap = MAX(cap * 2, len + n + 1);
                        char *t;
                        ncap = MAX(ncap, (size_t) 16);
                        t = realloc(buf, ncap);
                        if (!t)
                                return -ENOMEM;
                        buf = t;
                        cap = ncap;
                }
                memcpy(buf + len, tmp, n);
                len += n;
        }

        if ((flags & EXTRACT_SEPARATOR) && s - start == 1 && *start == ';') {
                *p = s;
                *ret = NULL;
                return EXTRACT_WORD_SEPARATOR;
        }

        if (!buf) {
                /* Only quotes, e.g. "": an empty word. */
                buf = malloc(1);
                if (!buf)
                        return -ENOMEM;
        }
        buf[len] = '\0';
        *p = s;
        *ret = TAKE_PTR(buf);
        return 1;
}

bool env_name_is_valid(const char *s) {
        /* ASCII only, whatever the locale says. */
        static const char first[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_";
        static const char rest[] =
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_0123456789";
        size_t n;

        if (!s || s[0] == '\0' || !strchr(first, s[0]))
                return false;
        n = strlen(s);
        return n <= 255 && strspn(s, rest) == n;
}

bool user_group_name_is_valid(const char *s) {
        size_t n;

        if (!s || *s == '\0')
                return false;
        n = strlen(s);
        if (n > 256)
                return false;
        if (strspn(s, DIGITS) == n) {
                uint64_t id;
                /* (uid_t) -1 is "no id", refused as systemd does. */
                return parse_uint64(s, &id) >= 0 && id < UINT32_MAX;
        }
        if (s[0] == '-' || s[0] == '+' || s[0] == '~' || streq(s, ".") || streq(s, ".."))
                return false;
        for (const char *p = s; *p; p++) {
                unsigned char c = (unsigned char) *p;
                if (c < 0x20 || c == 0x7f || c == ':' || c == '/' || c == ',' || c == ' ')
                        return false;
        }
        return true;
}

bool path_is_absolute(const char *s) {
        return s && s[0] == '/';
}

int parse_absolute_path(const char *s, char **ret) {
        _cleanup_free_ char *t = NULL;
        size_t n = 0;

        if (!path_is_absolute(s) || strlen(s) >= PATH_MAX)
                return -EINVAL;
        t = malloc(strlen(s) + 1);
        if (!t)
                return -ENOMEM;
        for (const char *p = s; *p;) {
                size_t k;

                p += strspn(p, "/");
                k = strcspn(p, "/");
                if (k == 0 || (k == 1 && p[0] == '.')) {
                        p += k;
                        continue;
                }
                if (k == 2 && p[0] == '.' && p[1] == '.')
                        return -EINVAL;
                t[n++] = '/';
                memcpy(t + n, p, k);
                n += k;
                p += k;
        }
        if (n == 0)
                return -EINVAL; /* "/": a directory, never a node berth may create */
        t[n] = '\0';
        *ret = TAKE_PTR(t);
        return 0;
}

bool utf8_is_valid(const char *s) {
        const unsigned char *p = (const unsigned char *) s;

        while (*p) {
                uint32_t c;
                int n;

                if (*p < 0x80) {
                        p++;
                        continue;
                }
                if ((*p & 0xe0) == 0xc0) {
                        n = 1;
                        c = *p & 0x1f;
                } else if ((*p & 0xf0) == 0xe0) {
                        n = 2;
                        c = *p & 0x0f;
                } else if ((*p & 0xf8) == 0xf0) {
                        n = 3;
                        c = *p & 0x07;
                } else
                        return false;
                for (int i = 1; i <= n; i++) {
                        if ((p[i] & 0xc0) != 0x80)
                                return false;
                        c = c << 6 | (p[i] & 0x3f);
                }
                if ((n == 1 && c < 0x80) || (n == 2 && c < 0x800) || (n == 3 && c < 0x10000))
                        return false; /* overlong */
                if (c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
                        return false;
                p += n + 1;
        }
        return true;
}

const char *message_quote(const char *s, size_t max, char *buf, size_t size) {
        size_t n = strlen(s), k = 0;
        bool cut = n > max;

        if (size < MESSAGE_QUOTE_SIZE(0))
                return "";
        if (cut) {
                n = max;
                while (n > 0 && ((unsigned char) s[n] & 0xc0) == 0x80)
                        n--;
        }
        /* Stop early if buf is smaller than promised, rather than overflow. */
        for (size_t i = 0; i < n && k + 8 < size; i++) {
                unsigned char c = (unsigned char) s[i];
                if (c == '\n') {
                        buf[k++] = '\\';
                        buf[k++] = 'n';
                } else if (c == '\t') {
                        buf[k++] = '\\';
                        buf[k++] = 't';
                } else if (c < 0x20 || c == 0x7f) {
                        static const char hex[] = "0123456789abcdef";
                        buf[k++] = '\\';
                        buf[k++] = 'x';
                        buf[k++] = hex[c >> 4];
                        buf[k++] = hex[c & 0xf];
                } else
                        buf[k++] = (char) c;
        }
        if (cut)
                for (int i = 0; i < 3; i++)
                        buf[k++] = '.';
        buf[k] = '\0';
        return buf;
}
