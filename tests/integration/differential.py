"""berth against systemd 252, field by field (issue 11). berth-probe reports what it was handed
(fds and flags, environment, ids, cwd, umask, limits, signal state); probe_report.fields() turns
a report into comparable fields.

Where systemd-socket-activate can express a case, the same probe runs under it and the two
reports are compared: fds, LISTEN_*, the Environment= variables, ids. Everything else a
systemd service sees comes from systemd as PID 1, which cannot run here: those values are pinned
below, each with the systemd source file and function it comes from. tests/compat/run runs the
same probe under a real systemd in a container and prints the differences."""
import os
import re
import resource
import shutil
import tempfile
import unittest

import harness
from probe_report import Ssa, diff, fields, probe_path, wait_report

# What systemd as PID 1 puts in a service's environment beyond what the unit and the socket
# say, each a name only (the values belong to the run or the machine):
# src/core/execute.c build_environment(): INVOCATION_ID, SYSTEMD_EXEC_PID, JOURNAL_STREAM (when
# stdout or stderr is the journal), WATCHDOG_*; src/core/service.c service_spawn(): NOTIFY_SOCKET,
# MAINPID (control processes); src/core/manager.c manager_default_environment(): PATH, and the
# locale (LANG, LC_*) from /etc/locale.conf. berth passes PATH, LANG and TZ from berthd.
SYSTEMD_ADDS = {"INVOCATION_ID", "SYSTEMD_EXEC_PID", "JOURNAL_STREAM", "WATCHDOG_PID",
                "WATCHDOG_USEC", "NOTIFY_SOCKET", "MAINPID", "PATH", "LANG", "TZ"}

# systemd's default soft RLIMIT_NOFILE for services, and its default hard one:
# src/core/main.c reset_arguments() / fallback_rlimit_nofile(): DefaultLimitNOFILE=1024:524288
# (HIGH_RLIMIT_NOFILE), so that select() users keep working while others may raise it.
SYSTEMD_NOFILE_SOFT = 1024
SYSTEMD_NOFILE_HARD = 512 * 1024


def nr_open():
    with open("/proc/sys/fs/nr_open") as f:
        return int(f.read())


def closest_nofile(want, hard):
    """What src/basic/rlimit-util.c setrlimit_closest() ends with for RLIMIT_NOFILE want (a
    number or "infinity"), in a process whose hard limit is hard: setrlimit() itself when it is
    allowed (CAP_SYS_RESOURCE, up to fs.nr_open), else the value clamped to hard. Under systemd
    hard is PID 1's own, which src/core/main.c bump_rlimit_nofile() raised to fs.nr_open;
    berthd's stands for it here, since berthd is who is raising it."""
    top = nr_open() if can_raise_nofile() else hard
    return top if want == "infinity" else min(want, top)


def can_raise_nofile():
    with open("/proc/self/status") as f:
        cap_eff = int(re.search(r"^CapEff:\s*([0-9a-f]+)", f.read(), re.M).group(1), 16)
    return bool(cap_eff & (1 << 24))  # CAP_SYS_RESOURCE


class Differential(harness.TestCase):
    def setUp(self):
        super().setUp()
        self.probe = probe_path()
        if not self.probe:
            self.fail("berth-probe is not built: set BERTH_PROBE, or build tests/probe")
        self.out = tempfile.mkdtemp(prefix="berth-diff-")
        os.chmod(self.out, 0o1777)  # a User= probe writes its report here too
        self.addCleanup(shutil.rmtree, self.out, True)

    def run_berth(self, service_extra="", socket_extra="", name="web", files=None,
                  after_start=None):
        """Runs NAME.socket (127.0.0.1, a free port) and NAME.service (the probe with
        service_extra in [Service]) under berthd, calls after_start(berthd), triggers the
        service with a connection and returns (fields of its report, the report, berthd)."""
        port = harness.free_port()
        report = os.path.join(self.out, name + ".json")
        units = {
            f"{name}.socket": f"[Socket]\nListenStream=127.0.0.1:{port}\n{socket_extra}",
            f"{name}.service": f"[Service]\nExecStart={self.probe} --as {name}\n"
                               f"Environment=PROBE_OUT={report} PROBE_SERVE=1\n{service_extra}",
        }
        units.update(files or {})
        self.units(units)
        b = self.berthd()
        self.addCleanup(b.stop)
        if after_start:
            after_start(b)
        harness.connect("127.0.0.1", port).close()
        r = wait_report(report, alive=lambda: b.proc.poll() is None, describe=b.log)
        return fields(r, [port]), r, b

    def assertFields(self, got, expected):
        """Each expected field has its value (None: absent), all differences in one failure."""
        bad = [(k, v, got.get(k)) for k, v in sorted(expected.items()) if got.get(k) != v]
        self.assertEqual(bad, [], "(field, systemd, berth) that differ")

    # -- against systemd-socket-activate ------------------------------------------------------

    def test_handoff_and_environment_match_systemd_socket_activate(self):
        if not Ssa.available():
            self.skipTest("systemd-socket-activate is not installed (Debian: systemd)")
        got, r, b = self.run_berth("Environment=\"GREETING=hello world\" EMPTY=\n")
        self.assertEqual(b.stop(), 0)

        port = harness.free_port()
        report = os.path.join(self.out, "ssa.json")
        # Without FileDescriptorName=, systemd names a socket's fds after the socket unit:
        # src/core/socket.c socket_fdname() returns UNIT(s)->id. systemd-socket-activate has no
        # unit, so it is told the name.
        ssa = Ssa([self.probe, "--as", "web"], [f"127.0.0.1:{port}"],
                  setenv=[f"PROBE_OUT={report}", "PROBE_SERVE=1", "GREETING=hello world",
                          "EMPTY="],
                  fdnames=["web.socket"])
        self.addCleanup(ssa.stop)
        ssa.connect_once(port)
        ref = fields(wait_report(report, alive=ssa.alive, describe=ssa.describe), [port])
        ssa.stop()

        self.maxDiff = None
        # stdio is the caller's under systemd-socket-activate: the pinned tests cover it
        self.assertEqual(diff(ref, got, only=["fd.", "sd_listen_fds", "id.uid", "id.euid",
                                              "id.gid", "id.egid", "env."],
                              ignore=["env." + n for n in SYSTEMD_ADDS]), [],
                         "(field, systemd-socket-activate, berth) that differ")
        self.assertEqual(got["fds"], "0 1 2 3")
        self.assertEqual(got["env.LISTEN_FDNAMES"], "web.socket")
        extra = {k[4:] for k in got if k.startswith("env.")} - {k[4:] for k in ref
                                                                 if k.startswith("env.")}
        self.assertLessEqual(extra, SYSTEMD_ADDS,
                             "berth sets variables systemd does not set for this unit")

    # -- pinned: systemd as PID 1 -------------------------------------------------------------

    def test_execution_defaults(self):
        got, r, _ = self.run_berth()
        self.assertNotEqual(os.getcwd(), "/")
        self.assertFields(got, {
            # src/core/execute.c apply_working_directory(): without WorkingDirectory=, "/"
            "cwd": "/",
            # src/core/execute.c exec_context_init(): UMask= defaults to 0022
            "umask": "0022",
            # src/core/execute.c exec_child(): reset_signal_mask() and default_signals(), then
            # ignore_signals(SIGPIPE) for IgnoreSIGPIPE=yes, the default (exec_context_init())
            "signals.blocked": "(none)",
            "signals.changed": "SIGPIPE=ignore",
            # src/core/execute.c setup_output(): StandardError=inherit, the default
            # (DefaultStandardError= in src/core/main.c), dups stdout onto fd 2
            "stderr": "same as stdout",
            # src/core/execute.c build_environment(): an id per start, as 32 hex digits
            "env.INVOCATION_ID": "<32 hex digits>",
            # src/core/socket.c socket_fdname(): the socket unit's full name
            "env.LISTEN_FDNAMES": "web.socket",
            "env.LISTEN_PID": "<the probe's pid>",
            # no User=: build_environment() sets neither of these
            "env.USER": None,
            "env.HOME": None,
        })

    def test_stdin_is_dev_null_read_only(self):
        got, _, _ = self.run_berth()
        # src/core/execute.c setup_input(): EXEC_INPUT_NULL is open_null_as(O_RDONLY, 0)
        self.assertEqual(got["stdin"], "/dev/null r")

    def test_systemd_exec_pid(self):
        got, _, _ = self.run_berth()
        # src/core/execute.c build_environment(): SYSTEMD_EXEC_PID= the pid that execs
        self.assertEqual(got.get("env.SYSTEMD_EXEC_PID"), "<the probe's pid>")

    def test_no_notify_socket_without_notify_access(self):
        got, _, _ = self.run_berth()
        # src/core/service.c service_spawn() passes NOTIFY_SOCKET only when
        # service_exec_needs_notify_socket(): Type=notify or NotifyAccess= other than none;
        # Type=simple defaults to NotifyAccess=none (service_add_extras())
        self.assertEqual(got.get("env.NOTIFY_SOCKET"), None)

    def test_notify_socket_with_type_notify(self):
        got, _, _ = self.run_berth("Type=notify\nEnvironment=PROBE_NOTIFY=1\n")
        # the same function: Type=notify gets NotifyAccess=main and the socket
        self.assertEqual(got.get("env.NOTIFY_SOCKET"), "<set>")

    def test_user_sets_login_environment_and_ids(self):
        if not harness.is_root():
            self.skipTest("needs root for User=nobody")
        import grp
        import pwd
        nobody = pwd.getpwnam("nobody")
        groups = sorted({nobody.pw_gid} | {g.gr_gid for g in grp.getgrall()
                                           if "nobody" in g.gr_mem})
        got, _, _ = self.run_berth("User=nobody\n")
        self.assertFields(got, {
            # src/core/execute.c build_environment(): USER and LOGNAME of the user that
            # get_fixed_user() looked up for User=
            "env.USER": "nobody",
            "env.LOGNAME": "nobody",
            # src/core/execute.c exec_child(): enforce_groups() with the user's primary group,
            # enforce_user(); get_supplementary_groups() is initgroups()'s list
            "id.uid": str(nobody.pw_uid),
            "id.euid": str(nobody.pw_uid),
            "id.gid": str(nobody.pw_gid),
            "id.egid": str(nobody.pw_gid),
            "id.groups": " ".join(str(g) for g in groups),
        })

    def test_user_nobody_has_no_home_or_shell(self):
        if not harness.is_root():
            self.skipTest("needs root for User=nobody")
        got, _, _ = self.run_berth("User=nobody\n")
        # src/core/execute.c get_fixed_user() asks get_user_creds() (src/basic/user-util.c)
        # for USER_CREDS_CLEAN: no home that is "/" or not absolute, no nologin shell, and
        # synthesize_user_creds() gives nobody neither. build_environment() then sets no
        # HOME and no SHELL. (Seen under Debian 12's systemd: tests/compat/run.)
        self.assertFields(got, {"env.HOME": None, "env.SHELL": None})

    def test_standard_error_inherit_is_stdout(self):
        log = os.path.join(self.out, "out.log")
        got, r, _ = self.run_berth(f"StandardOutput=file:{log}\nStandardError=inherit\n")
        # src/core/execute.c setup_output(): inherit on fd 2 is a dup of fd 1
        self.assertEqual(got["stderr"], "same as stdout")
        self.assertEqual(r["fds"][2]["target"], log)

    # -- pinned: LimitNOFILE= -----------------------------------------------------------------

    def nofile(self, got):
        return [int(x) if x != "infinity" else x for x in got["rlimit.NOFILE"].split(":")]

    def test_nofile_default_soft_1024(self):
        got, _, _ = self.run_berth()
        self.assertEqual(self.nofile(got)[0], SYSTEMD_NOFILE_SOFT)

    # Without CAP_SYS_RESOURCE, systemd's hard limit is clamped to the one berthd has.
    def test_nofile_default_hard(self):
        got, _, b = self.run_berth()
        hard = resource.prlimit(b.proc.pid, resource.RLIMIT_NOFILE)[1]
        self.assertEqual(self.nofile(got)[1], closest_nofile(SYSTEMD_NOFILE_HARD, hard))

    def test_nofile_infinity_is_clamped(self):
        got, _, b = self.run_berth("LimitNOFILE=infinity\n")
        # setrlimit(infinity) fails with EPERM (above fs.nr_open, or without
        # CAP_SYS_RESOURCE); src/core/execute.c exec_child() calls setrlimit_closest_all(),
        # which sets the closest allowed value; the start never fails for it
        hard = resource.prlimit(b.proc.pid, resource.RLIMIT_NOFILE)[1]
        want = closest_nofile("infinity", hard)
        self.assertEqual(self.nofile(got), [want, want])

    def test_nofile_above_berthd_hard_limit(self):
        def lower(b):
            # berthd's children inherit this; lowering needs no privilege
            resource.prlimit(b.proc.pid, resource.RLIMIT_NOFILE, (1024, 4096))
        got, _, b = self.run_berth("LimitNOFILE=8192\n", after_start=lower)
        # as in test_nofile_infinity_is_clamped: raised where allowed, else clamped
        want = closest_nofile(8192, 4096)
        self.assertEqual(self.nofile(got), [want, want])

    # -- pinned: what systemd ignores with a warning ------------------------------------------

    def test_environment_invalid_word_ignored(self):
        # src/core/load-fragment.c config_parse_environ(): a word that is not a valid
        # assignment is logged ("Invalid environment assignment, ignoring") and skipped; the
        # rest of the line applies and the unit loads
        got, _, b = self.run_berth("Environment=GOOD=1 ;notcomment 1BAD=2 ALSO=2\n")
        self.assertFields(got, {"env.GOOD": "1", "env.ALSO": "2", "env.1BAD": None})
        b.wait_log(r"web\.service:\d+.*notcomment")

    def test_environment_file_bad_lines_skipped(self):
        envfile = os.path.join(self.out, "env")
        with open(envfile, "w") as f:
            f.write("GOOD=1\nBAD LINE\n1BAD=1\nALSO=2\n")
        # src/basic/env-file.c load_env_file_pairs() and merge_env_file_push(): an assignment
        # whose name is not valid is logged and skipped; the start goes on
        got, _, b = self.run_berth(f"EnvironmentFile={envfile}\n")
        self.assertFields(got, {"env.GOOD": "1", "env.ALSO": "2", "env.1BAD": None})
        self.assertTrue(re.search(r"env:\d+", b.log()), "a warning names the file and line")


if __name__ == "__main__":
    harness.main()
