/* The pure parts of daemon-reload: which version of each unit applies (new, updated, kept
 * after an error, removed), which kernel socket each new spec keeps (same, changed options,
 * new, gone), and how a failure finds the message that explains it. Nothing is bound. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>

#include "common/macro.h"
#include "daemon/bind-plan.h"
#include "daemon/listener.h"
#include "daemon/reload.h"
#include "daemon/unit-file.h"
#include "tests/unit/test-util.h"

static Unit *unit(const char *name, const char *text) {
        char path[128];
        const char *p = path;
        Unit *u = NULL;

        snprintf(path, sizeof path, "/units/%s", name);
        ck_assert_int_eq(unit_file_load_strings(name, &p, &text, 1, NULL, NULL, &u), 0);
        return u;
}

static const char *const svc = "[Service]\nExecStart=/bin/true\n";

/* ---- unit_name_of_path ---- */

static const struct {
        const char *path, *unit;
} name_rows[] = {
        { "/etc/berth/units/web.socket", "web.socket" },
        { "/etc/berth/units/web.service", "web.service" },
        { "units/web.socket.d/10-port.conf", "web.socket" },
        { "/u/echo@.service.d/x.conf", "echo@.service" },
        { "web.service", "web.service" },
        { "/etc/berth/units", NULL },
        { "/etc/berth/units/README", NULL },
        { "/u/web.conf.d/x.conf", NULL },
        { "/x.d/y.conf", NULL },
        { NULL, NULL },
};

START_TEST(test_unit_name_of_path) {
        char buf[64];
        bool ok = unit_name_of_path(name_rows[_i].path, buf, sizeof buf);

        ck_assert_msg(ok == (name_rows[_i].unit != NULL), "%s", strna(name_rows[_i].path));
        if (ok)
                ck_assert_str_eq(buf, name_rows[_i].unit);
}
END_TEST

/* ---- the unit diff ---- */

START_TEST(test_diff_units) {
        Unit *old[] = { unit("a.service", svc), unit("b.service", svc), unit("gone.service", svc) };
        Unit *loaded[] = { unit("a.service", svc), unit("new.service", svc) };
        UnitFileEntry entries[] = {
                { .name = (char *) "a.service" },
                { .name = (char *) "b.service" }, /* on disk, but its new version failed */
                { .name = (char *) "bad.service" }, /* failed, and never loaded before */
                { .name = (char *) "new.service" },
        };
        UnitFileList list = { .entries = entries, .n_entries = ELEMENTSOF(entries) };
        _cleanup_free_ ReloadUnit *d = NULL;
        size_t n = 0;

        ck_assert_int_eq(reload_diff_units(old, ELEMENTSOF(old), loaded, ELEMENTSOF(loaded), &list,
                                           &d, &n),
                         0);
        ck_assert_uint_eq(n, 4);
        ck_assert_str_eq(d[0].name, "a.service");
        ck_assert_int_eq(d[0].change, RELOAD_UNIT_UPDATED);
        ck_assert_ptr_eq(d[0].unit, loaded[0]);
        ck_assert_ptr_eq(d[0].old, old[0]);
        ck_assert_str_eq(d[1].name, "b.service");
        ck_assert_int_eq(d[1].change, RELOAD_UNIT_KEPT);
        ck_assert_ptr_eq(d[1].unit, old[1]);
        ck_assert_str_eq(d[2].name, "new.service");
        ck_assert_int_eq(d[2].change, RELOAD_UNIT_NEW);
        ck_assert_ptr_null(d[2].old);
        ck_assert_str_eq(d[3].name, "gone.service");
        ck_assert_int_eq(d[3].change, RELOAD_UNIT_REMOVED);
        ck_assert_ptr_null(d[3].unit);

        /* A new version that fails the whole-set check falls back to the old one, once. */
        ck_assert(reload_unit_fall_back(&d[0]));
        ck_assert_ptr_eq(d[0].unit, old[0]);
        ck_assert_int_eq(d[0].change, RELOAD_UNIT_KEPT);
        ck_assert(!reload_unit_fall_back(&d[0]));
        ck_assert(!reload_unit_fall_back(&d[2])); /* nothing to fall back to */

        for (size_t i = 0; i < ELEMENTSOF(old); i++)
                unit_free(old[i]);
        for (size_t i = 0; i < ELEMENTSOF(loaded); i++)
                unit_free(loaded[i]);
}
END_TEST

/* ---- the socket diff ---- */

static void plan_add(BindPlan *plan, Unit *u) {
        HostInfo host = { .ipv6 = true, .bindv6only = 0 };
        ck_assert_int_eq(bind_plan_add_unit(plan, u, &host, NULL, NULL), 0);
}

START_TEST(test_diff_sockets) {
        Unit *o_keep = unit("keep.socket", "[Socket]\nListenStream=127.0.0.1:7001\n");
        Unit *o_opts = unit("opts.socket", "[Socket]\nListenStream=127.0.0.1:7002\nBacklog=10\n");
        Unit *o_move = unit("move.socket", "[Socket]\nListenStream=127.0.0.1:7003\n");
        Unit *o_gone = unit("gone.socket", "[Socket]\nListenStream=127.0.0.1:7004\n");
        Unit *n_keep = unit("keep.socket", "[Socket]\nListenStream=127.0.0.1:7001\n");
        Unit *n_opts = unit("opts.socket", "[Socket]\nListenStream=127.0.0.1:7002\nBacklog=20\n");
        Unit *n_move = unit("move.socket", "[Socket]\nListenStream=127.0.0.1:7005\n");
        Unit *n_new = unit("new.socket", "[Socket]\nListenStream=[::1]:7001\n");
        BindPlan old_plan = {}, plan = {};
        Listener *old[4] = {};
        _cleanup_free_ ReloadSocketAction *actions = NULL;
        _cleanup_free_ ssize_t *index = NULL;

        plan_add(&old_plan, o_keep);
        plan_add(&old_plan, o_opts);
        plan_add(&old_plan, o_move);
        plan_add(&old_plan, o_gone);
        ck_assert_uint_eq(old_plan.n_specs, 4);
        for (size_t i = 0; i < 4; i++)
                ck_assert_int_eq(listener_new(&old[i], &old_plan.specs[i]), 0);
        plan_add(&plan, n_keep);
        plan_add(&plan, n_opts);
        plan_add(&plan, n_move);
        plan_add(&plan, n_new);

        ck_assert_int_eq(reload_diff_sockets(old, 4, &plan, &actions, &index), 0);
        ck_assert_int_eq(actions[0], RELOAD_SOCKET_KEEP);   /* same unit, address, options */
        ck_assert_int_eq(index[0], 0);
        ck_assert_int_eq(actions[1], RELOAD_SOCKET_REBIND); /* Backlog= changed */
        ck_assert_int_eq(index[1], 1);
        ck_assert_int_eq(actions[2], RELOAD_SOCKET_BIND);   /* a new address */
        ck_assert_int_eq(index[2], -1);
        ck_assert_int_eq(actions[3], RELOAD_SOCKET_BIND);   /* a new unit on a port in use */
        ck_assert_int_eq(index[3], -1);
        /* gone.socket (old[3]) and the old move.socket address (old[2]) are taken by nobody. */
        for (size_t j = 0; j < plan.n_specs; j++)
                ck_assert(index[j] != 2 && index[j] != 3);

        for (size_t i = 0; i < 4; i++)
                listener_free(old[i]);
        bind_plan_done(&old_plan);
        bind_plan_done(&plan);
        Unit *all[] = { o_keep, o_opts, o_move, o_gone, n_keep, n_opts, n_move, n_new };
        for (size_t i = 0; i < ELEMENTSOF(all); i++)
                unit_free(all[i]);
}
END_TEST

/* Every listen type keeps its fd across a reload when its entry is unchanged; another path,
 * name, family or group is another thing to open; other options reopen the same one. */
START_TEST(test_diff_listen_types) {
        static const struct {
                const char *old, *new;
                ReloadSocketAction action;
        } rows[] = {
                { "ListenFIFO=/run/a\n", "ListenFIFO=/run/a\n", RELOAD_SOCKET_KEEP },
                { "ListenFIFO=/run/a\n", "ListenFIFO=/run//a\n", RELOAD_SOCKET_KEEP },
                { "ListenFIFO=/run/a\n", "ListenFIFO=/run/b\n", RELOAD_SOCKET_BIND },
                { "ListenFIFO=/run/a\n", "ListenFIFO=/run/a\nSocketMode=0600\n",
                  RELOAD_SOCKET_REBIND },
                { "ListenFIFO=/run/a\n", "ListenFIFO=/run/a\nSymlinks=/run/l\n",
                  RELOAD_SOCKET_REBIND },
                { "ListenFIFO=/run/a\n", "ListenSpecial=/run/a\n", RELOAD_SOCKET_BIND },
                { "ListenSpecial=/dev/kmsg\n", "ListenSpecial=/dev/kmsg\n", RELOAD_SOCKET_KEEP },
                { "ListenSpecial=/dev/kmsg\n", "ListenSpecial=/dev/kmsg\nWritable=yes\n",
                  RELOAD_SOCKET_REBIND },
                { "ListenMessageQueue=/q\n", "ListenMessageQueue=/q\n", RELOAD_SOCKET_KEEP },
                { "ListenMessageQueue=/q\n", "ListenMessageQueue=/r\n", RELOAD_SOCKET_BIND },
                { "ListenMessageQueue=/q\n", "ListenMessageQueue=/q\n"
                  "MessageQueueMaxMessages=4\nMessageQueueMessageSize=16\n",
                  RELOAD_SOCKET_REBIND },
                { "ListenNetlink=kobject-uevent 1\n", "ListenNetlink=15 1\n",
                  RELOAD_SOCKET_KEEP },
                { "ListenNetlink=kobject-uevent 1\n", "ListenNetlink=kobject-uevent 2\n",
                  RELOAD_SOCKET_BIND },
                { "ListenNetlink=kobject-uevent 1\n", "ListenNetlink=audit 1\n",
                  RELOAD_SOCKET_BIND },
                { "ListenNetlink=route\n", "ListenNetlink=route\nReceiveBuffer=1M\n",
                  RELOAD_SOCKET_REBIND },
        };

        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                _cleanup_free_ char *ot = NULL, *nt = NULL;
                _cleanup_free_ ReloadSocketAction *actions = NULL;
                _cleanup_free_ ssize_t *index = NULL;
                BindPlan old_plan = {}, plan = {};
                Listener *old = NULL;
                Unit *o, *n;

                ck_assert_int_ge(asprintf(&ot, "[Socket]\n%s", rows[i].old), 0);
                ck_assert_int_ge(asprintf(&nt, "[Socket]\n%s", rows[i].new), 0);
                o = unit("x.socket", ot);
                n = unit("x.socket", nt);
                plan_add(&old_plan, o);
                plan_add(&plan, n);
                ck_assert_int_eq(listener_new(&old, &old_plan.specs[0]), 0);
                ck_assert_int_eq(reload_diff_sockets(&old, 1, &plan, &actions, &index), 0);
                ck_assert_msg(actions[0] == rows[i].action, "row %zu (%s -> %s): %s", i,
                              rows[i].old, rows[i].new,
                              reload_socket_action_to_string(actions[0]));
                ck_assert_int_eq(index[0], rows[i].action == RELOAD_SOCKET_BIND ? -1 : 0);
                listener_free(old);
                bind_plan_done(&old_plan);
                bind_plan_done(&plan);
                unit_free(o);
                unit_free(n);
        }
}
END_TEST

/* ---- failures and their messages ---- */

START_TEST(test_failures_explained) {
        LoadDiag d = { .log_prefix = "test: " };
        UnitFailures f = {};
        Unit *ok = unit("ok.service", svc);
        Unit *units[] = { ok };

        load_diag_on_diag(LOG_ERR, "/u/bad.service", 3, "ExecStart= is empty", &d);
        load_diag_on_diag(LOG_ERR, "/u/web.socket.d/10.conf", 2, "bad port", &d);
        load_diag_on_diag(LOG_WARNING, "/u/ok.service", 4, "unknown key, ignoring", &d);
        load_diag_on_diag(LOG_ERR, "/u/ok.service", 9, "reported but loaded", &d);
        ck_assert_uint_eq(d.n_errors, 3);
        ck_assert_uint_eq(d.n_warnings, 1);

        /* web.socket loaded but failed a later check; bad.service never loaded. */
        ck_assert_int_eq(unit_failures_add(&f, "web.socket", NULL), 0);
        ck_assert_int_eq(unit_failures_add(&f, "lonely.socket", NULL), 0);
        ck_assert_int_eq(load_diag_explain(&d, units, 1, &f), 0);
        ck_assert_uint_eq(f.n, 3);
        ck_assert_str_eq(unit_failures_find(&f, "web.socket")->message,
                         "/u/web.socket.d/10.conf:2: bad port");
        ck_assert_str_eq(unit_failures_find(&f, "bad.service")->message,
                         "/u/bad.service:3: ExecStart= is empty");
        ck_assert_str_eq(unit_failures_find(&f, "lonely.socket")->message,
                         "lonely.socket failed to load; see berthd's log");
        ck_assert_ptr_null(unit_failures_find(&f, "ok.service"));

        /* A second add keeps the first message. */
        ck_assert_int_eq(unit_failures_add(&f, "bad.service", "other"), 0);
        ck_assert_str_eq(unit_failures_find(&f, "bad.service")->message,
                         "/u/bad.service:3: ExecStart= is empty");
        unit_failures_done(&f);
        load_diag_done(&d);
        unit_free(ok);
}
END_TEST

static Suite *suite(void) {
        Suite *s = suite_create("reload");
        TCase *tc = tcase_create("diff");

        tcase_add_loop_test(tc, test_unit_name_of_path, 0, ELEMENTSOF(name_rows));
        tcase_add_test(tc, test_diff_units);
        tcase_add_test(tc, test_diff_sockets);
        tcase_add_test(tc, test_diff_listen_types);
        tcase_add_test(tc, test_failures_explained);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return test_run_suite(suite());
}
