/* pidref and service-pids: a pid held by its pidfd says "gone" once its process is reaped,
 * whatever has the number since; a group is signalled only while its leader is unreaped; a
 * service holds pidfds only for the pids it names; spawn hands over the child's pidfd; and
 * BERTH_PIDFD=0 falls back to plain pids. */
#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/pidref.h"
#include "daemon/service-pids.h"
#include "daemon/spawn.h"
#include "tests/unit/test-util.h"

/* A child that waits for a signal (in its own process group when own_group). */
static pid_t fork_pause(bool own_group) {
        sigset_t block, saved;
        pid_t pid;

        /* check's handlers (its SIGTERM one kills the test's group) are not the child's: held
         * off until it put back the defaults. */
        sigemptyset(&block);
        sigaddset(&block, SIGTERM);
        sigaddset(&block, SIGINT);
        ck_assert_int_eq(sigprocmask(SIG_BLOCK, &block, &saved), 0);
        pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                (void) signal(SIGTERM, SIG_DFL);
                (void) signal(SIGINT, SIG_DFL);
                (void) sigprocmask(SIG_SETMASK, &saved, NULL);
                if (own_group)
                        (void) setpgid(0, 0);
                for (;;)
                        pause();
        }
        ck_assert_int_eq(sigprocmask(SIG_SETMASK, &saved, NULL), 0);
        if (own_group)
                (void) setpgid(pid, pid); /* either of us may be first */
        return pid;
}

/* Waits until pid is a zombie (exited, not reaped), without reaping it. */
static void wait_zombie(pid_t pid) {
        siginfo_t si = {};

        ck_assert_int_eq(waitid(P_PID, pid, &si, WEXITED | WNOWAIT), 0);
        ck_assert_int_eq(si.si_pid, pid);
}

static int reap(pid_t pid) {
        int status;

        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        return status;
}

static bool fd_is_open(int fd) {
        return fcntl(fd, F_GETFD) >= 0;
}

START_TEST(test_open_alive_reaped) {
        PidRef ref = PIDREF_NULL;
        pid_t pid = fork_pause(false);

        ck_assert(pidref_supported());
        ck_assert_int_eq(pidref_open(&ref, pid), 0);
        ck_assert_int_eq(ref.pid, pid);
        ck_assert_int_ge(ref.fd, 0);
        ck_assert_int_eq(fcntl(ref.fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
        ck_assert_int_eq(pidref_alive(&ref), 1);
        ck_assert_int_eq(pidref_kill(&ref, 0), 0);

        /* A zombie still holds its number: still alive for us. */
        ck_assert_int_eq(pidref_kill(&ref, SIGTERM), 0);
        wait_zombie(pid);
        ck_assert_int_eq(pidref_alive(&ref), 1);

        /* Reaped: gone, and stays gone whatever gets the number. */
        ck_assert_int_eq(WTERMSIG(reap(pid)), SIGTERM);
        ck_assert_int_eq(pidref_alive(&ref), 0);
        ck_assert_int_eq(pidref_kill(&ref, SIGTERM), -ESRCH);

        int fd = ref.fd;
        pidref_done(&ref);
        ck_assert(!fd_is_open(fd));
        ck_assert_int_eq(ref.pid, 0);
        ck_assert_int_eq(ref.fd, -1);
        pidref_done(&ref); /* twice is fine */
}
END_TEST

START_TEST(test_open_errors) {
        PidRef ref = PIDREF_NULL;
        pid_t pid = fork_pause(false);

        ck_assert_int_eq(pidref_open(&ref, 0), -EINVAL);
        ck_assert_int_eq(pidref_open(&ref, -1), -EINVAL);
        ck_assert_int_eq(kill(pid, SIGKILL), 0);
        (void) reap(pid);
        /* No process has it now (nothing forks here in between). */
        ck_assert_int_eq(pidref_open(&ref, pid), -ESRCH);
        ck_assert_int_eq(ref.fd, -1);
        ck_assert_int_eq(pidref_kill(&ref, 0), -ESRCH); /* PIDREF_NULL */
        ck_assert_int_eq(pidref_alive(&ref), 0);
}
END_TEST

START_TEST(test_kill_group) {
        PidRef leader = PIDREF_NULL, other = PIDREF_NULL;
        pid_t g = fork_pause(true), stranger = fork_pause(false);

        ck_assert_int_eq(getpgid(g), g);
        ck_assert_int_eq(pidref_open(&leader, g), 0);
        ck_assert_int_eq(pidref_open(&other, stranger), 0);

        /* No leader, or a pidfd of another process: nothing is sent. */
        ck_assert_int_eq(pidref_kill_group(NULL, g, SIGTERM), -ESRCH);
        ck_assert_int_eq(pidref_kill_group(&other, g, SIGTERM), -ESRCH);
        ck_assert_int_eq(pidref_kill_group(&leader, 0, SIGTERM), -EINVAL);
        ck_assert_int_eq(pidref_alive(&leader), 1);

        ck_assert_int_eq(pidref_kill_group(&leader, g, SIGTERM), 0);
        wait_zombie(g);
        /* Unreaped: the number is still its own, and so is the group id. */
        ck_assert_int_eq(pidref_kill_group(&leader, g, 0), 0);
        (void) reap(g);
        ck_assert_int_eq(pidref_kill_group(&leader, g, SIGTERM), -ESRCH);

        ck_assert_int_eq(pidref_alive(&other), 1); /* never touched */
        ck_assert_int_eq(kill(stranger, SIGKILL), 0);
        (void) reap(stranger);
        pidref_done(&leader);
        pidref_done(&other);
}
END_TEST

START_TEST(test_fallback) {
        PidRef ref = PIDREF_NULL;
        pid_t pid, g;

        ck_assert_int_eq(setenv("BERTH_PIDFD", "0", 1), 0);
        ck_assert(!pidref_supported());
        pid = fork_pause(false);
        ck_assert_int_eq(pidref_open(&ref, pid), 0);
        ck_assert_int_eq(ref.pid, pid);
        ck_assert_int_eq(ref.fd, -1);
        ck_assert_int_eq(pidref_alive(&ref), 1);
        ck_assert_int_eq(pidref_kill(&ref, SIGKILL), 0);
        (void) reap(pid);
        ck_assert_int_eq(pidref_alive(&ref), 0);
        pidref_done(&ref);

        /* Groups by number, as before pidfds. */
        g = fork_pause(true);
        ck_assert_int_eq(pidref_kill_group(NULL, g, SIGKILL), 0);
        ck_assert_int_eq(WTERMSIG(reap(g)), SIGKILL);
}
END_TEST

/* A service as the state machine leaves it: only the fields service-pids reads. */
static Unit test_unit = { .name = (char *) "test.service" };

START_TEST(test_service_holds_named_only) {
        ServiceRun run = service_run_idle;
        Service s = { .unit = &test_unit, .run = &run };
        pid_t main_pid = fork_pause(true), control = fork_pause(true);
        PidRef ref;
        int main_fd;

        ck_assert_int_eq(pidref_open(&ref, main_pid), 0);
        main_fd = ref.fd;
        ck_assert_int_eq(service_pids_add(&s, &ref), 0);
        ck_assert_int_eq(ref.fd, -1); /* taken */
        s.run->main_pid = s.run->pgid = main_pid;
        ck_assert_int_eq(service_pids_track(&s, control), 0);
        s.run->control_pid = control;
        ck_assert_ptr_nonnull(service_pids_find(&s, main_pid));
        ck_assert_ptr_nonnull(service_pids_find(&s, control));
        ck_assert(service_pids_is_current(&s, main_pid));
        ck_assert_int_eq(service_pids_pgid_of(&s, main_pid), main_pid);

        /* The control process exits and is forgotten: its pidfd goes, the main one stays. */
        ck_assert_int_eq(kill(control, SIGKILL), 0);
        (void) reap(control);
        s.run->control_pid = 0;
        service_pids_release(&s);
        ck_assert_ptr_null(service_pids_find(&s, control));
        ck_assert_ptr_nonnull(service_pids_find(&s, main_pid));

        /* A pid it does not hold is never signalled, even though it is a live process. */
        pid_t untracked = fork_pause(false);
        service_pids_kill(&s, untracked, SIGKILL);
        ck_assert_int_eq(kill(untracked, 0), 0);
        ck_assert_int_eq(kill(untracked, SIGKILL), 0);
        (void) reap(untracked);

        /* The main process is reaped: not current any more, group kill sends nothing. */
        service_pids_kill(&s, -main_pid, SIGTERM);
        wait_zombie(main_pid);
        ck_assert(service_pids_is_current(&s, main_pid)); /* the zombie is the one named */
        (void) reap(main_pid);
        ck_assert(!service_pids_is_current(&s, main_pid));
        ck_assert_int_eq(service_pids_pgid_of(&s, main_pid), -ESRCH);

        /* Nothing named: no table, no fd. */
        s.run->main_pid = 0;
        service_pids_release(&s);
        ck_assert_ptr_null(s.run->pidfds);
        ck_assert(!fd_is_open(main_fd));
}
END_TEST

START_TEST(test_service_table_full) {
        ServiceRun run = service_run_idle;
        Service s = { .unit = &test_unit, .run = &run };
        pid_t pids[SERVICE_PIDFDS_MAX + 1];

        for (size_t i = 0; i < ELEMENTSOF(pids); i++)
                pids[i] = fork_pause(false);
        /* Seven are named (main, control, replaced, failed, and three group leaders): the
         * table holds them and one more, just spawned. */
        for (size_t i = 0; i < SERVICE_PIDFDS_MAX; i++) {
                ck_assert_int_eq(service_pids_track(&s, pids[i]), 0);
                s.run->main_pid = pids[0];
                s.run->control_pid = pids[1];
                s.run->old_main_pid = pids[2];
                s.run->failed_pid = pids[3];
                s.run->pgid = pids[4];
                s.run->old_pgid = pids[5];
                s.run->failed_pgid = pids[6];
        }
        /* The eighth is not named yet: the next add drops it and takes its slot. */
        ck_assert_int_eq(service_pids_track(&s, pids[SERVICE_PIDFDS_MAX]), 0);
        ck_assert_ptr_null(service_pids_find(&s, pids[SERVICE_PIDFDS_MAX - 1]));
        ck_assert_ptr_nonnull(service_pids_find(&s, pids[SERVICE_PIDFDS_MAX]));
        service_pids_clear(&s);
        ck_assert_ptr_null(s.run->pidfds);
        for (size_t i = 0; i < ELEMENTSOF(pids); i++) {
                ck_assert_int_eq(kill(pids[i], SIGKILL), 0);
                (void) reap(pids[i]);
        }
}
END_TEST

START_TEST(test_spawn_gives_pidfd) {
        const char *argv[] = { "/bin/sh", "-c", "exit 7", NULL };
        const char *env[] = { NULL };
        char err[SPAWN_ERROR_MAX];
        SpawnParams p = {
                .path = "/bin/sh",
                .argv = (char *const *) argv,
                .envp = (char *const *) env,
                .stdin_fd = -1,
                .stdout_fd = -1,
                .stderr_fd = -1,
                .log_name = "pidfd.service",
        };
        PidRef ref;
        pid_t pid;
        int pidfd = -1;

        ck_assert_int_eq(spawn_process_pidfd(&p, &pid, &pidfd, err, sizeof err), 0);
        ck_assert_int_ge(pidfd, 0);
        ck_assert_int_eq(fcntl(pidfd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
        ref = (PidRef) { .pid = pid, .fd = pidfd };
        wait_zombie(pid);
        ck_assert_int_eq(pidref_alive(&ref), 1);
        ck_assert_int_eq(WEXITSTATUS(reap(pid)), 7);
        ck_assert_int_eq(pidref_alive(&ref), 0);
        pidref_done(&ref);

        /* A failed exec leaves nothing open. */
        argv[0] = p.path = "/nonexistent/binary";
        pidfd = -1;
        ck_assert_int_eq(spawn_process_pidfd(&p, &pid, &pidfd, err, sizeof err), -ENOENT);
        ck_assert_int_eq(pidfd, -1);
}
END_TEST

static Suite *pidref_suite(void) {
        Suite *s = suite_create("pidref");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_open_alive_reaped);
        tcase_add_test(tc, test_open_errors);
        tcase_add_test(tc, test_kill_group);
        tcase_add_test(tc, test_fallback);
        tcase_add_test(tc, test_service_holds_named_only);
        tcase_add_test(tc, test_service_table_full);
        tcase_add_test(tc, test_spawn_gives_pidfd);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return test_run_suite(pidref_suite());
}
