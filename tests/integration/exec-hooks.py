"""ExecCondition=, ExecStartPost=, ExecStopPost= and the command prefixes (systemd.service(5)):
the hooks run in systemd's order (condition, pre, main, post once the main process is ready;
stop-post after it stopped, also after a crash), get $MAINPID while there is a main process,
and ExecStopPost= $SERVICE_RESULT, $EXIT_CODE and $EXIT_STATUS;
the service counts as started only after ExecStartPost= succeeded, and its failure stops it;
ExecCondition= exiting 1..254 skips the start without a failure, 255 fails it. "+" runs a
command with berthd's credentials instead of User=, "!" too, "!!" has no effect (as systemd on
a kernel with ambient capabilities), ":" passes $VAR as written."""
import os
import pwd

import harness

# The main process: says it started, then READY=1, then serves until stopped.
MAIN = r"""
import os, sys, socket, time
from systemd import daemon
with open(sys.argv[1], "a") as f:
    f.write("main %d\n" % os.getpid())
daemon.notify("READY=1")
s = socket.socket(fileno=3)
while True:
    c, _ = s.accept()
    c.sendall(b"hello\n")
    c.close()
"""


def lines(path):
    try:
        with open(path) as f:
            return f.read().split("\n")[:-1]
    except FileNotFoundError:
        return []


class ExecHooks(harness.TestCase):
    def test_order_and_condition(self):
        port = harness.free_port()
        log = os.path.join(self.dir, "log")
        flag = os.path.join(self.dir, "flag")
        main = os.path.join(self.dir, "main.py")
        with open(main, "w") as f:
            f.write(MAIN)

        def hook(word):
            return "/bin/sh -c 'echo %s $$MAINPID >> %s'" % (word, log)
        d = self.units({
            "web.socket": "[Socket]\nListenStream=127.0.0.1:%d\n" % port,
            "web.service": "[Service]\nType=notify\n"
                           "ExecCondition=/bin/sh -c 'echo condition >> %s; test -e %s'\n"
                           "ExecStartPre=%s\nExecStart=/usr/bin/python3 %s %s\n"
                           "ExecStartPost=%s\nExecStopPost=%s\n"
                           % (log, flag, hook("pre"), main, log, hook("post"),
                              "/bin/sh -c 'echo stoppost $$SERVICE_RESULT $$EXIT_CODE "
                              "$$EXIT_STATUS >> %s'" % log),
            "fail255.service": "[Service]\nExecCondition=/bin/sh -c 'exit 255'\n"
                               "ExecStart=/bin/sleep 600\n",
            "postfail.service": "[Service]\nExecStart=/bin/sleep 600\n"
                                "ExecStartPost=/bin/false\n",
        })
        b = self.berthd(d)
        b.wait_log(r"fail255\.service: condition -> failed \(result: exit-code\)")
        b.wait_log(r"postfail\.service: start-post -> stop-sigterm")
        b.wait_log(r"postfail\.service: stop-sigterm -> failed \(result: exit-code\)")
        self.assertEqual(b.count_log(r"postfail\.service: \S+ -> running"), 0)

        # No flag: the condition skips the start, not a failure; stop-post still runs.
        with harness.connect("127.0.0.1", port):
            b.wait_log(r"web\.service: skipped, not started: ExecCondition= exited with "
                       r"status 1")
            b.wait_log(r"web\.service: stop-post -> dead \(result: exec-condition\)")
        self.assertEqual(lines(log), ["condition", "stoppost exec-condition"])
        # The skip stops the watch: a client does not run the check again.
        with harness.connect("127.0.0.1", port):
            pass
        st = self.berthctl(b, "status", "web.service")
        self.assertRegex(st.stdout, r"(?m)^ *Active: inactive \(dead\)", st.stdout)
        self.assertEqual(b.count_log(r"web\.service: dead -> condition"), 1)

        # With the flag, an operator's start runs them all, in order; restart returns once
        # ExecStartPost= has run.
        open(flag, "w").close()
        os.unlink(log)
        r = self.berthctl(b, "restart", "web.service")
        self.assertEqual(r.returncode, 0, r.stderr)
        got = lines(log)
        self.assertEqual(len(got), 4, got)
        pid = int(got[2].split()[1])
        self.assertEqual(got, ["condition", "pre", "main %d" % pid, "post %d" % pid])
        b.wait_log(r"web\.service: start-post -> running \(pid %d\)" % pid)
        with harness.connect("127.0.0.1", port) as c:
            c.settimeout(harness.DEFAULT_TIMEOUT)
            self.assertEqual(c.recv(16), b"hello\n")

        # A crash: stop-post runs (no main pid any more), then the service is failed.
        os.kill(pid, 9)
        b.wait_log(r"web\.service: stop-post -> failed \(result: signal\)")
        self.assertEqual(lines(log)[4:], ["stoppost signal killed KILL"])
        self.assertEqual(b.stop(), 0)

    def test_prefixes(self):
        if not harness.is_root():
            self.skipTest("User= needs root")
        nobody = pwd.getpwnam("nobody").pw_uid
        out = os.path.join(self.dir, "out")

        def uid(prefix, tag):
            return "%s/bin/sh -c 'echo %s $$(id -u) >> %s'" % (prefix, tag, out)
        os.chmod(self.dir, 0o777)
        d = self.units({
            "p.service": "[Service]\nType=oneshot\nUser=nobody\nEnvironment=X=expanded\n"
                         "ExecStartPre=%s\nExecStartPre=%s\nExecStartPre=%s\n"
                         "ExecStartPre=%s\nExecStartPre=%s\n"
                         "ExecStart=:/bin/echo colon $X\nExecStart=/bin/echo plain $X\n"
                         % (uid("", "user"), uid("+", "plus"), uid("!", "excl"),
                            uid("!!", "excl2"), uid("-+", "dashplus")),
        }, subdir="u")
        b = self.berthd(d)
        b.wait_log(r"p\.service: \S+ -> dead$")
        self.assertEqual(lines(out), ["user %d" % nobody, "plus 0", "excl 0",
                                      "excl2 %d" % nobody, "dashplus 0"])
        b.wait_log(r"p\.service\[\d+\]: colon \$X$")
        b.wait_log(r"p\.service\[\d+\]: plain expanded$")
        self.assertEqual(b.stop(), 0)


if __name__ == "__main__":
    harness.main()
