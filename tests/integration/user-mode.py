"""User mode, as an unprivileged user (nobody, through setpriv): `berthd --user` reads its
units from $XDG_CONFIG_HOME/berth/units (else ~/.config/berth/units) and keeps its state in
$XDG_RUNTIME_DIR/berth; `berthctl --user` finds it there, starts, restarts and stops its
service, which runs as that user and answers on its port; a home directory that does not
exist does not keep a service from starting (as in systemd's user manager). Needs root to
change user; skipped otherwise."""
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

USER = "nobody"
PORT = 22040
TIMEOUT = 30

WEB_PY = r"""
import os, socket, sys
print("web up as uid %d in %s" % (os.getuid(), os.getcwd()), flush=True)
s = socket.socket(fileno=3)
while True:
    c, _ = s.accept()
    c.sendall(b"hello from %d\n" % os.getpid())
    c.close()
"""


class UserMode(harness.TestCase):
    def setUp(self):
        super().setUp()
        if os.geteuid() != 0:
            self.skipTest("needs root to run berthd as another user")
        if not shutil.which("setpriv"):
            self.skipTest("needs setpriv (util-linux)")
        self.pw = pwd.getpwnam(USER)
        # Everything the user runs or reads lives under top (0755, root's): copies of berthd
        # and berthctl (the build tree may be out of the user's reach), the user's own
        # config and runtime directories.
        self.top = tempfile.mkdtemp(prefix="berth-user-")
        self.addCleanup(shutil.rmtree, self.top, True)
        os.chmod(self.top, 0o755)
        self.bin = {}
        for var, name in (("BERTHD", "berthd"), ("BERTHCTL", "berthctl")):
            exe = os.path.join(self.top, name)
            shutil.copy(self.executable(var) if var == "BERTHCTL" else harness.BERTHD, exe)
            os.chmod(exe, 0o755)
            self.bin[name] = exe
        self.config = os.path.join(self.top, "config")
        self.xdg = os.path.join(self.top, "xdg-run")
        units = os.path.join(self.config, "berth", "units")
        web = os.path.join(self.top, "web.py")
        with open(web, "w") as f:
            f.write(WEB_PY)
        os.chmod(web, 0o644)
        harness.write_units(units, {
            "web.socket": "[Socket]\nListenStream=127.0.0.1:%d\n" % PORT,
            "web.service": "[Service]\nExecStart=/usr/bin/python3 -u %s\n" % web,
        })
        os.mkdir(self.xdg, 0o700)
        for d in (self.config, self.xdg):
            for root, dirs, files in os.walk(d):
                for x in [root] + [os.path.join(root, y) for y in dirs + files]:
                    os.chown(x, self.pw.pw_uid, self.pw.pw_gid)

    def as_user(self, *cmd, env=None):
        """cmd as the user, with a clean environment: the XDG variables, a HOME that does not
        exist (nobody's), PATH; env adds or removes (None) variables."""
        e = {"PATH": "/usr/bin:/bin", "HOME": self.pw.pw_dir, "XDG_CONFIG_HOME": self.config,
             "XDG_RUNTIME_DIR": self.xdg}
        for k, v in (env or {}).items():
            if v is None:
                e.pop(k, None)
            else:
                e[k] = v
        return ["setpriv", "--reuid", str(self.pw.pw_uid), "--regid", str(self.pw.pw_gid),
                "--clear-groups", "--", "env", "-i"] + ["%s=%s" % kv for kv in e.items()] + \
            list(cmd)

    def ctl(self, *args, env=None):
        p = subprocess.run(self.as_user(self.bin["berthctl"], *args, env=env),
                           capture_output=True, text=True, timeout=TIMEOUT, cwd="/")
        sys.stderr.write("$ berthctl %s -> %d\n%s%s" % (" ".join(args), p.returncode, p.stdout,
                                                        p.stderr))
        return p

    def test_user_mode(self):
        self.assertFalse(os.path.exists(self.pw.pw_dir), "the test wants a home that is not")
        # --check finds the user's units.
        p = subprocess.run(self.as_user(self.bin["berthd"], "--user", "--check"),
                           capture_output=True, text=True, timeout=TIMEOUT, cwd="/")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("%s/berth/units/web.socket" % self.config, p.stdout)
        self.assertRegex(p.stdout, r"OK: 2 units .*1 socket to bind, 0 errors")

        log = open(os.path.join(self.top, "berthd.log"), "w+")
        self.addCleanup(log.close)
        proc = subprocess.Popen(self.as_user(self.bin["berthd"], "--user"), stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                cwd=self.top)
        self.addCleanup(harness.end_process, proc)

        def read_log():
            with open(log.name) as f:
                return f.read()
        harness.wait_for(lambda: "berthd is ready" in read_log() or proc.poll() is not None,
                         timeout=TIMEOUT, what="berthd --user to be ready")
        self.assertIsNone(proc.poll(), read_log())

        # Its state is in $XDG_RUNTIME_DIR/berth, the user's.
        run = os.path.join(self.xdg, "berth")
        st = os.stat(run)
        self.assertEqual(st.st_uid, self.pw.pw_uid)
        self.assertTrue(os.path.exists(os.path.join(run, "control")))

        p = self.ctl("--user", "list-units")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("web.socket", p.stdout)
        self.assertIn("web.service", p.stdout)

        # The first connection starts the service, as the user, in / (no home).
        with harness.connect("127.0.0.1", PORT, timeout=TIMEOUT) as c:
            reply = c.recv(100)
        self.assertRegex(reply, rb"^hello from \d+\n$")
        pid = int(reply.split()[2])
        with open("/proc/%d/status" % pid) as f:
            uids = [line.split()[1:] for line in f if line.startswith("Uid:")][0]
        self.assertEqual(set(uids), {str(self.pw.pw_uid)})
        harness.wait_for(lambda: "web.service[%d]: web up as uid %d in /\n" % (
            pid, self.pw.pw_uid) in read_log(), timeout=TIMEOUT,
            what="the service's first line, in berthd's log")

        p = self.ctl("--user", "status", "web")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("Main PID: %d" % pid, p.stdout)
        p = self.ctl("--user", "restart", "web")
        self.assertEqual(p.returncode, 0, p.stderr)
        with harness.connect("127.0.0.1", PORT, timeout=TIMEOUT) as c:
            reply = c.recv(100)
        self.assertNotEqual(int(reply.split()[2]), pid)
        self.assertFalse(harness.pid_alive(pid))
        p = self.ctl("--user", "stop", "web")
        self.assertEqual(p.returncode, 0, p.stderr)
        p = self.ctl("--user", "status", "web")
        self.assertEqual(p.returncode, 3, p.stderr)

        # Without $XDG_RUNTIME_DIR, berthctl --user says what it needs.
        p = self.ctl("--user", "list-units", env={"XDG_RUNTIME_DIR": None})
        self.assertEqual(p.returncode, 1)
        self.assertIn("XDG_RUNTIME_DIR", p.stderr)

        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(TIMEOUT), 0, read_log())
        self.assertNotIn("Permission denied", "\n".join(
            line for line in read_log().splitlines() if "cgroup" not in line))

    def test_home_config(self):
        """Without $XDG_CONFIG_HOME, the units are in ~/.config/berth/units."""
        home = os.path.join(self.top, "home")
        os.makedirs(os.path.join(home, ".config"))
        shutil.copytree(os.path.join(self.config, "berth"), os.path.join(home, ".config",
                                                                         "berth"))
        for root, dirs, files in os.walk(home):
            for x in [root] + [os.path.join(root, y) for y in dirs + files]:
                os.chown(x, self.pw.pw_uid, self.pw.pw_gid)
        p = subprocess.run(self.as_user(self.bin["berthd"], "--user", "--check",
                                        env={"XDG_CONFIG_HOME": None, "HOME": home}),
                           capture_output=True, text=True, timeout=TIMEOUT, cwd="/")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("%s/.config/berth/units/web.socket" % home, p.stdout)


if __name__ == "__main__":
    harness.main()
