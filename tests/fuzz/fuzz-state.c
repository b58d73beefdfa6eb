/* Fuzzes the daemon-reexec state parser (daemon/state.c) with any bytes. What it accepts must
 * write back, with the state writer, to a text that parses to the same sections and fields
 * (the format round-trips any byte string but NUL); what it refuses must come with a one-line,
 * printable reason. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"
#include "daemon/state.h"
#include "tests/fuzz/fuzz-util.h"

static void check_error(const char *err) {
        CHECK(strncmp(err, "line ", 5) == 0);
        for (const char *p = err; *p; p++)
                CHECK((unsigned char) *p >= 0x20 && *p != 0x7f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        StateDoc doc = {}, again = {};
        char err[256], *text = NULL;
        size_t len = 0;
        FILE *f;
        int r;

        if (size > 1024 * 1024)
                return 0;
        r = state_parse((const char *) data, size, &doc, err, sizeof err);
        if (r < 0) {
                CHECK(r == -EINVAL || r == -EPROTONOSUPPORT || r == -ENOMEM);
                if (r != -ENOMEM)
                        check_error(err);
                return 0;
        }
        CHECK(doc.version >= 1 && doc.version <= STATE_VERSION);

        f = open_memstream(&text, &len);
        CHECK(f);
        state_write_header(f);
        for (size_t i = 0; i < doc.n_sections; i++) {
                const StateSection *s = &doc.sections[i];

                state_write_section(f, s->kind, s->name);
                for (size_t j = 0; j < s->n_fields; j++)
                        state_write_str(f, s->fields[j].key, s->fields[j].value);
        }
        state_write_end(f);
        CHECK(fclose(f) == 0);

        CHECK(state_parse(text, len, &again, err, sizeof err) == 0);
        CHECK(again.n_sections == doc.n_sections);
        for (size_t i = 0; i < doc.n_sections; i++) {
                const StateSection *a = &doc.sections[i], *b = &again.sections[i];

                CHECK(streq(a->kind, b->kind) && streq(a->name, b->name));
                CHECK(a->n_fields == b->n_fields);
                for (size_t j = 0; j < a->n_fields; j++) {
                        CHECK(streq(a->fields[j].key, b->fields[j].key));
                        CHECK(streq(a->fields[j].value, b->fields[j].value));
                        CHECK(state_get(b, b->fields[j].key) != NULL);
                }
        }
        state_doc_done(&again);
        state_doc_done(&doc);
        free(text);
        return 0;
}
