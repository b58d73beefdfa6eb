/* state: the text format berthd hands its state across a daemon-reexec in (a memfd), pure and
 * free of sd-event so that it is easy to test and fuzz.
 *
 *     berth-state 1
 *     @manager
 *     notify-fd 5
 *     @service web.service
 *     state running
 *     main-pid 1234
 *     log 7 1234 listening on 127.0.0.1:8080
 *     @end
 *
 * The first line names the format and its version. A line "@KIND NAME" begins a section; the
 * lines after it, "KEY VALUE", are its fields, in order, and a key may repeat (one line per
 * log line, per stored fd). Keys are [a-z0-9-]; a value is the rest of the line, with every
 * byte below 0x20, 0x7f and the backslash written as \xHH, so any byte string fits on one line.
 * "@end" is the last line: a state without it was cut short and is refused.
 *
 * Compatibility: a reader takes every version up to its own; a field it does not know is
 * skipped with a warning (state_unknown()); a version above its own is refused as a whole. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define STATE_MAGIC "berth-state"
#define STATE_VERSION 1u
/* A state bigger than this is refused (it would be thousands of services' logs). */
#define STATE_SIZE_MAX (256u * 1024u * 1024u)

typedef struct StateField {
        const char *key, *value; /* into the document's buffer; value is unescaped */
        unsigned line;
} StateField;

typedef struct StateSection {
        const char *kind, *name; /* "service", "web.service"; name may be "" */
        unsigned line;
        StateField *fields;
        size_t n_fields, n_alloc;
} StateSection;

typedef struct StateDoc {
        unsigned version;
        char *buf;               /* owned: the text, cut into keys and values */
        StateSection *sections;  /* owned */
        size_t n_sections;
} StateDoc;

/* Parses a whole state. Returns 0, or -EINVAL / -EPROTONOSUPPORT (a newer version) with a
 * one-line reason ("line 3: ...") in err; -ENOMEM. doc is filled only on success. */
int state_parse(const char *text, size_t len, StateDoc *doc, char *err, size_t errlen);
void state_doc_done(StateDoc *doc);

/* The first field of sec named key, or NULL. */
const char *state_get(const StateSection *sec, const char *key);

/* Field values. Each returns 0 or -EINVAL. */
int state_value_int(const char *v, int *ret);
int state_value_uint(const char *v, unsigned *ret);
int state_value_u64(const char *v, uint64_t *ret);
int state_value_bool(const char *v, bool *ret);
/* "WORD REST": the first word in a buffer of its own, and the rest (after one space). */
int state_value_split(const char *v, char *word, size_t wordlen, const char **ret_rest);

/* Appends fd to the array *fds of *n (the fds a state names, to keep or to look through).
 * Returns 0 or -ENOMEM. */
int state_fds_add(int **fds, size_t *n, int fd);

/* Writing: each call appends a line to f; errors stay in ferror(f). */
void state_write_header(FILE *f);
void state_write_section(FILE *f, const char *kind, const char *name);
void state_write_str(FILE *f, const char *key, const char *value);
void state_write_mem(FILE *f, const char *key, const char *value, size_t len);
/* A short value (a number, a word: under 256 bytes) made with printf's format. */
void state_writef(FILE *f, const char *key, const char *format, ...)
        __attribute__((format(printf, 3, 4)));
void state_write_end(FILE *f);
