/* notify's attribution: which sender NotifyAccess= lets through, as a table of (access, role),
 * and what happens to a message nobody may send. No socket, no event loop. */
#include <check.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/macro.h"
#include "daemon/notify-parse.h"
#include "daemon/notify.h"
#include "tests/unit/test-util.h"

typedef struct Row {
        NotifyAccess access;
        NotifyRole role;
        bool allowed;
} Row;

static const Row rows[] = {
        { NOTIFY_ACCESS_NONE, NOTIFY_ROLE_MAIN, false },
        { NOTIFY_ACCESS_NONE, NOTIFY_ROLE_CONTROL, false },
        { NOTIFY_ACCESS_NONE, NOTIFY_ROLE_OLD_MAIN, false },
        { NOTIFY_ACCESS_NONE, NOTIFY_ROLE_FAILED, false },
        { NOTIFY_ACCESS_NONE, NOTIFY_ROLE_OTHER, false },
        { NOTIFY_ACCESS_MAIN, NOTIFY_ROLE_MAIN, true },
        { NOTIFY_ACCESS_MAIN, NOTIFY_ROLE_CONTROL, false },
        /* it was the main process; its messages are kept from moving the state */
        { NOTIFY_ACCESS_MAIN, NOTIFY_ROLE_OLD_MAIN, true },
        { NOTIFY_ACCESS_MAIN, NOTIFY_ROLE_FAILED, false },
        { NOTIFY_ACCESS_MAIN, NOTIFY_ROLE_OTHER, false },
        { NOTIFY_ACCESS_EXEC, NOTIFY_ROLE_MAIN, true },
        { NOTIFY_ACCESS_EXEC, NOTIFY_ROLE_CONTROL, true },
        { NOTIFY_ACCESS_EXEC, NOTIFY_ROLE_OLD_MAIN, true },
        { NOTIFY_ACCESS_EXEC, NOTIFY_ROLE_FAILED, true },
        { NOTIFY_ACCESS_EXEC, NOTIFY_ROLE_OTHER, false },
        { NOTIFY_ACCESS_ALL, NOTIFY_ROLE_MAIN, true },
        { NOTIFY_ACCESS_ALL, NOTIFY_ROLE_CONTROL, true },
        { NOTIFY_ACCESS_ALL, NOTIFY_ROLE_OLD_MAIN, true },
        { NOTIFY_ACCESS_ALL, NOTIFY_ROLE_FAILED, true },
        { NOTIFY_ACCESS_ALL, NOTIFY_ROLE_OTHER, true },
};

START_TEST(test_access) {
        const Row *r = &rows[_i];

        ck_assert_msg(notify_access_allows(r->access, r->role) == r->allowed,
                      "NotifyAccess=%s, %s: expected %s", notify_access_to_string(r->access),
                      notify_role_to_string(r->role), r->allowed ? "allowed" : "refused");
}
END_TEST

START_TEST(test_every_pair_covered) {
        ck_assert_uint_eq(ELEMENTSOF(rows), (size_t) (_NOTIFY_ACCESS_MAX * _NOTIFY_ROLE_MAX));
        for (NotifyAccess a = 0; a < _NOTIFY_ACCESS_MAX; a++)
                for (NotifyRole r = 0; r < _NOTIFY_ROLE_MAX; r++) {
                        bool found = false;
                        for (size_t i = 0; i < ELEMENTSOF(rows) && !found; i++)
                                found = rows[i].access == a && rows[i].role == r;
                        ck_assert_msg(found, "no row for %s x %s", notify_access_to_string(a),
                                      notify_role_to_string(r));
                }
}
END_TEST

static Service *find_nobody(pid_t pid, NotifyRole *ret_role, void *userdata) {
        (*(unsigned *) userdata)++;
        return NULL;
}

/* A message from a process of no service is dropped, counted, and its fds closed. */
START_TEST(test_unattributed_message_is_dropped) {
        unsigned asked = 0;
        Notify n = { .fd = -1, .find = find_nobody, .userdata = &asked };
        NotifyMessage m;
        char err[128];
        int p[2];

        ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
        ck_assert_int_ge(notify_parse("READY=1\nFDSTORE=1", 17, &m, err, sizeof err), 0);
        notify_dispatch(&n, 4242, &m, p, 2);
        notify_message_done(&m);
        ck_assert_uint_eq(asked, 1);
        ck_assert_uint_eq(n.n_dropped, 1);
        ck_assert_int_eq(fcntl(p[0], F_GETFD), -1);
        ck_assert_int_eq(fcntl(p[1], F_GETFD), -1);
}
END_TEST

static Suite *suite(void) {
        Suite *s = suite_create("notify");
        TCase *tc = tcase_create("attribution");

        tcase_add_loop_test(tc, test_access, 0, ELEMENTSOF(rows));
        tcase_add_test(tc, test_every_pair_covered);
        tcase_add_test(tc, test_unattributed_message_is_dropped);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return test_run_suite(suite());
}
