/* Helpers shared by the check tests. */
#pragma once

#include <check.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Moves the calling test process (check forks one per test) into a new, empty network
 * namespace, so that a name lookup that falls through to DNS cannot send a packet off this
 * machine. Returns false, after printing why, when that is not possible (not root); the
 * caller then skips the part of the test that could reach the network. */
static inline bool test_isolate_network(const char *test) {
        if (geteuid() != 0 || unshare(CLONE_NEWNET) < 0) {
                printf("SKIP: %s: needs root for a private network namespace (no DNS traffic "
                       "may leave the machine)\n", test);
                return false;
        }
        return true;
}

/* Runs every test of s, each in its own forked process, and returns what main() exits with. */
static inline int test_run_suite(Suite *s) {
        SRunner *sr = srunner_create(s);
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
