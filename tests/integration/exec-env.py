"""What a service sees of itself, as systemd gives it (issue 11, items 1-3, 7 and 14): User=
sets $USER, $LOGNAME, $HOME and $SHELL of that user (Environment= may override them); SIGPIPE
is ignored unless IgnoreSIGPIPE=no; without WorkingDirectory= the working directory is /, never
berthd's own; $NOTIFY_SOCKET only for the processes NotifyAccess= lets notify; every process
has $SYSTEMD_EXEC_PID (its own pid); stdin is /dev/null opened read-only."""
import os
import pwd

import harness

SHOW = ("/bin/sh -c 'echo env user=$USER logname=$LOGNAME home=$HOME shell=$SHELL "
        "cwd=$(pwd) sigpipe=$(grep SigIgn /proc/self/status | cut -f2)'")


class ExecEnv(harness.TestCase):
    def test_env_cwd_sigpipe(self):
        if not harness.is_root():
            self.skipTest("needs root for User=nobody")
        nobody = pwd.getpwnam("nobody")
        d = self.units({
            "asuser.service": "[Service]\nType=oneshot\nUser=nobody\nExecStart=%s\n" % SHOW,
            "plain.service": "[Service]\nType=oneshot\nExecStart=%s\n" % SHOW,
            "override.service": "[Service]\nType=oneshot\nUser=nobody\nIgnoreSIGPIPE=no\n"
                                "Environment=HOME=/elsewhere\nExecStart=%s\n" % SHOW,
        })
        self.assertNotEqual(os.getcwd(), "/")
        b = self.berthd(d)
        m = b.wait_log(r"asuser\.service\[\d+\]: env (.*)$")
        fields = dict(kv.split("=", 1) for kv in m.group(1).split())
        self.assertEqual(fields["user"], "nobody")
        self.assertEqual(fields["logname"], "nobody")
        self.assertEqual(fields["home"], nobody.pw_dir)
        self.assertEqual(fields["shell"], nobody.pw_shell)
        self.assertEqual(fields["cwd"], "/")
        # SigIgn is a hex mask; SIGPIPE is signal 13, bit 12
        self.assertTrue(int(fields["sigpipe"], 16) & (1 << 12), fields)
        m = b.wait_log(r"plain\.service\[\d+\]: env (.*)$")
        fields = dict(kv.split("=", 1) for kv in m.group(1).split(" ") if "=" in kv)
        self.assertEqual(fields["user"], "")  # no User=: none set, as in systemd
        self.assertEqual(fields["cwd"], "/")
        m = b.wait_log(r"override\.service\[\d+\]: env (.*)$")
        fields = dict(kv.split("=", 1) for kv in m.group(1).split())
        self.assertEqual(fields["home"], "/elsewhere")
        self.assertFalse(int(fields["sigpipe"], 16) & (1 << 12), fields)
        self.assertEqual(b.stop(), 0)

    def test_notify_socket_exec_pid_stdin(self):
        # $$$$ (systemd's escape for $$) is the shell berthd exec'd; fdinfo's flags are octal,
        # the access mode in the low two bits (0 = O_RDONLY).
        show = ("/bin/sh -c 'echo %s notify=${NOTIFY_SOCKET:+yes} execpid=$SYSTEMD_EXEC_PID "
                "self=$$$$ stdin=$(readlink /proc/$$$$/fd/0) "
                "stdinflags=$(sed -n \"s/^flags:[[:space:]]*//p\" /proc/$$$$/fdinfo/0)'")
        units = {}
        # name: (NotifyAccess= line, ExecStartPre sees NOTIFY_SOCKET, ExecStart sees it),
        # after systemd's service.c, service_exec_needs_notify_socket().
        cases = {
            "nonotify": ("", False, False),  # Type=simple: NotifyAccess=none by default
            "none": ("NotifyAccess=none\n", False, False),
            "main": ("NotifyAccess=main\n", False, True),
            "exec": ("NotifyAccess=exec\n", True, True),
            "all": ("NotifyAccess=all\n", True, True),
        }
        for name, (line, _, _) in cases.items():
            units["%s.service" % name] = ("[Service]\n%sExecStartPre=%s\nExecStart=%s\n"
                                          % (line, show % "pre", show % "main"))
        b = self.berthd(self.units(units))
        for name, (_, pre, main) in cases.items():
            for role, want in (("pre", pre), ("main", main)):
                m = b.wait_log(r"%s\.service\[(\d+)\]: %s (.*)$" % (name, role))
                fields = dict(kv.split("=", 1) for kv in m.group(2).split(" ") if "=" in kv)
                self.assertEqual(fields["notify"], "yes" if want else "", (name, role, fields))
                self.assertEqual(fields["execpid"], fields["self"], (name, role, fields))
                self.assertEqual(fields["execpid"], m.group(1))
                self.assertEqual(fields["stdin"], "/dev/null")
                self.assertEqual(int(fields["stdinflags"], 8) & 3, os.O_RDONLY, fields)
        self.assertEqual(b.stop(), 0)


if __name__ == "__main__":
    harness.main()
