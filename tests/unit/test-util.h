/* Helpers shared by the check tests. */
#pragma once

#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
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
