/* Fuzzes the parser of RUNTIME/processes (daemon/proc-record.c) with the file's bytes as read.
 * Whatever it accepts must keep the promises of proc-record.h: at most PROC_RECORD_MAX records,
 * each with a valid unit name, a pid > 0, a known role; written back, it must parse to the same
 * records and write the same text again. Whatever it refuses comes with an empty record list and
 * a one-line message. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"
#include "daemon/proc-record.h"
#include "tests/fuzz/fuzz-util.h"

static void check_same(const ProcFile *a, const ProcFile *b) {
        CHECK(a->owner == b->owner && a->owner_starttime == b->owner_starttime);
        CHECK(a->n == b->n);
        for (size_t i = 0; i < a->n; i++) {
                const ProcRecord *x = &a->records[i], *y = &b->records[i];
                CHECK(streq(x->unit, y->unit) && x->pid == y->pid && x->role == y->role);
                CHECK(x->starttime == y->starttime && streq(x->invocation, y->invocation));
                CHECK((!x->cgroup && !y->cgroup) || (x->cgroup && y->cgroup &&
                                                     streq(x->cgroup, y->cgroup)));
        }
}

static char *write_text(const ProcFile *f, size_t *ret_len) {
        char *out = NULL;
        FILE *mem = open_memstream(&out, ret_len);

        CHECK(mem);
        CHECK(proc_file_write(f, mem) == 0);
        fclose(mem);
        return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        ProcFile f = {}, g = {};
        char err[256] = "", *text, *again;
        size_t len, len2;
        int r;

        r = proc_file_parse(&f, (const char *) data, size, err, sizeof err);
        if (r < 0) {
                CHECK(IN_SET(r, -EBADMSG, -EPROTONOSUPPORT, -EFBIG, -ENOMEM));
                CHECK(f.n == 0 && !f.records);
                CHECK(r == -ENOMEM || (err[0] && !strchr(err, '\n')));
                return 0;
        }
        CHECK(f.owner > 0 && f.n <= PROC_RECORD_MAX);
        for (size_t i = 0; i < f.n; i++) {
                const ProcRecord *p = &f.records[i];
                CHECK(p->unit[0] && strlen(p->unit) < PROC_RECORD_UNIT_MAX && !strchr(p->unit, ' '));
                CHECK(p->pid > 0 && proc_role_to_string(p->role));
                CHECK(!p->cgroup || p->cgroup[0] == '/');
        }
        text = write_text(&f, &len);
        CHECK(proc_file_parse(&g, text, len, err, sizeof err) == 0);
        check_same(&f, &g);
        again = write_text(&g, &len2);
        CHECK(len == len2 && memcmp(text, again, len) == 0);
        free(text);
        free(again);
        proc_file_done(&f);
        proc_file_done(&g);
        return 0;
}
