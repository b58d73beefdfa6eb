/* state: the daemon-reexec state format (state.h). */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"
#include "common/parse-util.h"
#include "daemon/state.h"

static int fail(char *err, size_t errlen, int r, unsigned line, const char *what) {
        if (err && errlen > 0)
                snprintf(err, errlen, "line %u: %s", line, what);
        return r;
}

static bool key_valid(const char *k) {
        if (!*k)
                return false;
        for (; *k; k++)
                if (!((*k >= 'a' && *k <= 'z') || (*k >= '0' && *k <= '9') || *k == '-'))
                        return false;
        return true;
}

/* Unescapes v in place. */
static int unescape(char *v) {
        char *o = v;

        for (const char *p = v; *p; p++) {
                if (*p != '\\') {
                        *o++ = *p;
                        continue;
                }
                int h, l;
                if (p[1] != 'x' || (h = unhex(p[2])) < 0 || (l = unhex(p[3])) < 0 ||
                    (h == 0 && l == 0))
                        return -EINVAL;
                *o++ = (char) (h * 16 + l);
                p += 3;
        }
        *o = '\0';
        return 0;
}

static int add_section(StateDoc *d, const char *kind, const char *name, unsigned line) {
        StateSection *n = reallocarray(d->sections, d->n_sections + 1, sizeof *n);

        if (!n)
                return -ENOMEM;
        d->sections = n;
        n[d->n_sections++] = (StateSection) { .kind = kind, .name = name, .line = line };
        return 0;
}

static int add_field(StateSection *s, const char *key, const char *value, unsigned line) {
        if (s->n_fields == s->n_alloc) {
                size_t want = s->n_alloc ? s->n_alloc * 2 : 8;
                StateField *n = reallocarray(s->fields, want, sizeof *n);

                if (!n)
                        return -ENOMEM;
                s->fields = n;
                s->n_alloc = want;
        }
        s->fields[s->n_fields++] = (StateField) { .key = key, .value = value, .line = line };
        return 0;
}

int state_parse(const char *text, size_t len, StateDoc *doc, char *err, size_t errlen) {
        StateDoc d = {};
        unsigned line = 0;
        bool ended = false;
        char *p;
        int r;

        if (len > STATE_SIZE_MAX)
                return fail(err, errlen, -EINVAL, 0, "the state is too large");
        if (memchr(text, '\0', len))
                return fail(err, errlen, -EINVAL, 0, "the state holds a NUL byte");
        d.buf = malloc(len + 1);
        if (!d.buf)
                return -ENOMEM;
        memcpy(d.buf, text, len);
        d.buf[len] = '\0';

        p = d.buf;
        while (*p) {
                char *eol = strchr(p, '\n'), *l = p, *sp;

                line++;
                if (!eol) {
                        r = fail(err, errlen, -EINVAL, line, "the last line has no newline");
                        goto bad;
                }
                *eol = '\0';
                p = eol + 1;
                if (ended) {
                        r = fail(err, errlen, -EINVAL, line, "text after @end");
                        goto bad;
                }
                if (line == 1) {
                        size_t m = strlen(STATE_MAGIC);

                        if (strncmp(l, STATE_MAGIC " ", m + 1) != 0 ||
                            parse_unsigned(l + m + 1, &d.version) < 0 || d.version == 0) {
                                r = fail(err, errlen, -EINVAL, line,
                                         "not a berth state (no '" STATE_MAGIC " VERSION' line)");
                                goto bad;
                        }
                        if (d.version > STATE_VERSION) {
                                char what[128];

                                snprintf(what, sizeof what, "state version %u was written by a "
                                         "newer berthd; this one reads up to %u", d.version,
                                         STATE_VERSION);
                                r = fail(err, errlen, -EPROTONOSUPPORT, line, what);
                                goto bad;
                        }
                        continue;
                }
                sp = strchr(l, ' ');
                if (sp)
                        *sp = '\0';
                if (l[0] == '@') {
                        if (streq(l, "@end") && !sp) {
                                ended = true;
                                continue;
                        }
                        /* "end" is the terminator's, never a section's kind. */
                        if (!key_valid(l + 1) || streq(l + 1, "end") ||
                            (sp && unescape(sp + 1) < 0)) {
                                r = fail(err, errlen, -EINVAL, line, "bad section line");
                                goto bad;
                        }
                        r = add_section(&d, l + 1, sp ? sp + 1 : "", line);
                        if (r < 0)
                                goto bad;
                        continue;
                }
                if (!key_valid(l) || (sp && unescape(sp + 1) < 0)) {
                        r = fail(err, errlen, -EINVAL, line, "bad field line");
                        goto bad;
                }
                if (d.n_sections == 0) {
                        r = fail(err, errlen, -EINVAL, line, "a field before any section");
                        goto bad;
                }
                r = add_field(&d.sections[d.n_sections - 1], l, sp ? sp + 1 : "", line);
                if (r < 0)
                        goto bad;
        }
        if (line == 0) {
                r = fail(err, errlen, -EINVAL, 0, "the state is empty");
                goto bad;
        }
        if (!ended) {
                r = fail(err, errlen, -EINVAL, line, "no @end: the state was cut short");
                goto bad;
        }
        *doc = d;
        return 0;
bad:
        state_doc_done(&d);
        return r;
}

void state_doc_done(StateDoc *doc) {
        for (size_t i = 0; i < doc->n_sections; i++)
                free(doc->sections[i].fields);
        free(doc->sections);
        free(doc->buf);
        *doc = (StateDoc) {};
}

const char *state_get(const StateSection *sec, const char *key) {
        for (size_t i = 0; i < sec->n_fields; i++)
                if (streq(sec->fields[i].key, key))
                        return sec->fields[i].value;
        return NULL;
}

int state_value_int(const char *v, int *ret) {
        char *end;
        long x;

        errno = 0;
        x = strtol(v, &end, 10);
        if (!*v || *end || errno || x < INT32_MIN || x > INT32_MAX)
                return -EINVAL;
        *ret = (int) x;
        return 0;
}

int state_value_uint(const char *v, unsigned *ret) {
        return parse_unsigned(v, ret) < 0 ? -EINVAL : 0;
}

int state_value_u64(const char *v, uint64_t *ret) {
        return parse_uint64(v, ret) < 0 ? -EINVAL : 0;
}

int state_value_bool(const char *v, bool *ret) {
        if (streq(v, "1") || streq(v, "0")) {
                *ret = v[0] == '1';
                return 0;
        }
        return -EINVAL;
}

int state_value_split(const char *v, char *word, size_t wordlen, const char **ret_rest) {
        const char *sp = strchr(v, ' ');
        size_t n = sp ? (size_t) (sp - v) : strlen(v);

        if (n == 0 || n >= wordlen)
                return -EINVAL;
        memcpy(word, v, n);
        word[n] = '\0';
        *ret_rest = sp ? sp + 1 : "";
        return 0;
}

int state_fds_add(int **fds, size_t *n, int fd) {
        int *a = reallocarray(*fds, *n + 1, sizeof *a);

        if (!a)
                return -ENOMEM;
        a[(*n)++] = fd;
        *fds = a;
        return 0;
}


void state_write_header(FILE *f) {
        fprintf(f, STATE_MAGIC " %u\n", STATE_VERSION);
}

static void write_escaped(FILE *f, const char *v, size_t len) {
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char) v[i];

                if (c < 0x20 || c == 0x7f || c == '\\')
                        fprintf(f, "\\x%02x", c);
                else
                        fputc(c, f);
        }
}

void state_write_section(FILE *f, const char *kind, const char *name) {
        fprintf(f, "@%s", kind);
        if (name && *name) {
                fputc(' ', f);
                write_escaped(f, name, strlen(name));
        }
        fputc('\n', f);
}

void state_write_mem(FILE *f, const char *key, const char *value, size_t len) {
        fputs(key, f);
        fputc(' ', f);
        write_escaped(f, value, len);
        fputc('\n', f);
}

void state_write_str(FILE *f, const char *key, const char *value) {
        state_write_mem(f, key, value, strlen(value));
}

void state_writef(FILE *f, const char *key, const char *format, ...) {
        char v[256];
        va_list ap;
        int n;

        va_start(ap, format);
        n = vsnprintf(v, sizeof v, format, ap);
        va_end(ap);
        assert(n >= 0 && (size_t) n < sizeof v);
        state_write_mem(f, key, v, (size_t) n);
}

void state_write_end(FILE *f) {
        fputs("@end\n", f);
}
