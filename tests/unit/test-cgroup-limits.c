/* cgroup-limits and cgroup_apply_limits(): systemd's value syntax, the files and values they
 * become, and the writes into a directory laid out like a cgroup2 hierarchy. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/macro.h"
#include "daemon/cgroup-limits.h"
#include "daemon/cgroup.h"
#include "tests/unit/test-util.h"

START_TEST(test_parse) {
        CGroupLimit l;
        uint64_t v;

        ck_assert_int_eq(cgroup_limit_parse("64M", 1, &l), 0);
        ck_assert_int_eq(l.kind, CGROUP_LIMIT_VALUE);
        ck_assert_uint_eq(l.value, 64 << 20);
        ck_assert_int_eq(cgroup_limit_parse("infinity", 1, &l), 0);
        ck_assert_int_eq(l.kind, CGROUP_LIMIT_INFINITY);
        ck_assert_int_eq(cgroup_limit_parse("12.5%", 0, &l), 0);
        ck_assert_int_eq(l.kind, CGROUP_LIMIT_PERCENT);
        ck_assert_uint_eq(l.value, 1250);
        ck_assert_int_eq(cgroup_limit_parse("100%", 0, &l), 0);
        ck_assert_uint_eq(l.value, 10000);
        ck_assert_int_eq(cgroup_limit_parse("4096", 0, &l), 0);
        ck_assert_uint_eq(l.value, 4096);
        /* tasks take no size suffix; no percentage above 100 or with 3 decimals */
        ck_assert_int_eq(cgroup_limit_parse("4K", 0, &l), -EINVAL);
        ck_assert_int_eq(cgroup_limit_parse("101%", 1, &l), -EINVAL);
        ck_assert_int_eq(cgroup_limit_parse("1.234%", 1, &l), -EINVAL);
        ck_assert_int_eq(cgroup_limit_parse("%", 1, &l), -EINVAL);
        ck_assert_int_eq(cgroup_limit_parse("-1", 1, &l), -EINVAL);

        ck_assert_int_eq(cgroup_cpu_quota_parse("20%", &v), 0);
        ck_assert_uint_eq(v, 200000);
        ck_assert_int_eq(cgroup_cpu_quota_parse("250%", &v), 0);
        ck_assert_uint_eq(v, 2500000);
        ck_assert_int_eq(cgroup_cpu_quota_parse("0%", &v), -EINVAL);
        ck_assert_int_eq(cgroup_cpu_quota_parse("20", &v), -EINVAL);

        ck_assert_int_eq(cgroup_weight_parse("1", &v), 0);
        ck_assert_int_eq(cgroup_weight_parse("10000", &v), 0);
        ck_assert_uint_eq(v, 10000);
        ck_assert_int_eq(cgroup_weight_parse("0", &v), -EINVAL);
        ck_assert_int_eq(cgroup_weight_parse("10001", &v), -EINVAL);
}
END_TEST

START_TEST(test_writes) {
        CGroupLimits l = {
                .tasks_max = { CGROUP_LIMIT_PERCENT, 5000 },
                .memory_max = { CGROUP_LIMIT_VALUE, 64 << 20 },
                .memory_high = { CGROUP_LIMIT_INFINITY, 0 },
                .cpu_quota_per_sec_usec = 200000,
                .cpu_weight = 50,
                .io_weight = 300,
        };
        CGroupWrite w[CGROUP_WRITES_MAX];
        CGroupLimits none = {};

        ck_assert(!cgroup_limits_any(&none));
        ck_assert_uint_eq(cgroup_limits_writes(&none, 1, 1, w), 0);
        ck_assert(cgroup_limits_any(&l));
        ck_assert_uint_eq(cgroup_limits_writes(&l, 1 << 30, 4194304, w), 6);
        ck_assert_str_eq(w[0].file, "pids.max");
        ck_assert_str_eq(w[0].value, "2097152");
        ck_assert_str_eq(w[1].file, "memory.max");
        ck_assert_str_eq(w[1].value, "67108864");
        ck_assert_str_eq(w[2].file, "memory.high");
        ck_assert_str_eq(w[2].value, "max");
        ck_assert_str_eq(w[3].file, "cpu.max");
        ck_assert_str_eq(w[3].value, "20000 100000");
        ck_assert_str_eq(w[4].file, "cpu.weight");
        ck_assert_str_eq(w[4].value, "50");
        ck_assert_str_eq(w[5].file, "io.weight");
        ck_assert_str_eq(w[5].value, "default 300");
        ck_assert_str_eq(w[5].controller, "io");
        /* a tiny quota is raised to the kernel's minimum; a percentage of a huge total does
         * not overflow */
        l = (CGroupLimits) { .cpu_quota_per_sec_usec = 100,
                             .memory_max = { CGROUP_LIMIT_PERCENT, 10000 } };
        ck_assert_uint_eq(cgroup_limits_writes(&l, UINT64_MAX, 1, w), 2);
        ck_assert_str_eq(w[0].value, "18446744073709551615");
        ck_assert_str_eq(w[1].value, "1000 100000");
}
END_TEST

static void write_text(const char *dir, const char *name, const char *text) {
        char path[512];
        FILE *f;

        snprintf(path, sizeof path, "%s/%s", dir, name);
        f = fopen(path, "we");
        ck_assert_ptr_nonnull(f);
        fputs(text, f);
        fclose(f);
}

static void read_text(const char *dir, const char *name, char *buf, size_t len) {
        char path[512];
        FILE *f;
        size_t n;

        snprintf(path, sizeof path, "%s/%s", dir, name);
        f = fopen(path, "re");
        ck_assert_ptr_nonnull(f);
        n = fread(buf, 1, len - 1, f);
        buf[n] = 0;
        fclose(f);
}

typedef struct Told {
        unsigned n;
        char why[4][512];
        const char *key[4];
} Told;

static void told(void *userdata, const CGroupWrite *w, const char *why) {
        Told *t = userdata;

        ck_assert_uint_lt(t->n, 4);
        t->key[t->n] = w->key;
        snprintf(t->why[t->n++], 512, "%s", why);
}

/* own/ (memory available, pids not) > berth-1/ > web.service/, as plain files. */
START_TEST(test_apply) {
        char top[] = "/tmp/test-cgroup-limits-XXXXXX", root[128], svc[192], buf[256];
        CGroupLimits l = { .memory_max = { CGROUP_LIMIT_VALUE, 1 << 20 },
                           .tasks_max = { CGROUP_LIMIT_VALUE, 10 } };
        CGroupWrite w[CGROUP_WRITES_MAX];
        Told t = {};
        size_t n;

        ck_assert_ptr_nonnull(mkdtemp(top));
        snprintf(root, sizeof root, "%s/berth-1", top);
        snprintf(svc, sizeof svc, "%s/web.service", root);
        ck_assert_int_eq(mkdir(root, 0755), 0);
        ck_assert_int_eq(mkdir(svc, 0755), 0);
        write_text(top, "cgroup.controllers", "cpu memory io\n");
        write_text(top, "cgroup.subtree_control", "");
        write_text(root, "cgroup.controllers", "memory\n");
        write_text(root, "cgroup.subtree_control", "");
        write_text(svc, "memory.max", "");
        write_text(svc, "pids.max", "");

        n = cgroup_limits_writes(&l, 1, 1, w);
        ck_assert_int_eq(cgroup_apply_limits(root, svc, w, n, told, &t), 1);
        read_text(svc, "memory.max", buf, sizeof buf);
        ck_assert_str_eq(buf, "1048576");
        read_text(top, "cgroup.subtree_control", buf, sizeof buf);
        ck_assert_str_eq(buf, "+memory");
        read_text(root, "cgroup.subtree_control", buf, sizeof buf);
        ck_assert_str_eq(buf, "+memory");
        read_text(svc, "pids.max", buf, sizeof buf);
        ck_assert_str_eq(buf, "");
        ck_assert_uint_eq(t.n, 1);
        ck_assert_str_eq(t.key[0], "TasksMax");
        ck_assert_ptr_nonnull(strstr(t.why[0], "the pids controller is not available in"));
        snprintf(buf, sizeof buf, "rm -rf '%s'", top);
        ck_assert_int_eq(system(buf), 0);
}
END_TEST

static Suite *suite(void) {
        Suite *s = suite_create("cgroup-limits");
        TCase *tc = tcase_create("cgroup-limits");

        tcase_add_test(tc, test_parse);
        tcase_add_test(tc, test_writes);
        tcase_add_test(tc, test_apply);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return test_run_suite(suite());
}
