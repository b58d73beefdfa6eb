"""berthctl against the real berthd: every verb and option. status exit codes (0 active, 3
inactive, 4 unknown) and its text; --json of status, list-units and list-sockets field by
field; list-sockets' QUEUED against ss; start, stop, restart, reload (ExecReload= and
ReloadSignal=); daemon-reload; cat; check; logs and logs -f; fds; colour on a tty only; the
message when berthd is not running; and an unprivileged user who may look but not touch."""
import json
import os
import pty
import pwd
import re
import select
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import textwrap
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

BERTHCTL = os.environ.get("BERTHCTL") or (
    os.path.join(os.path.dirname(harness.BERTHD), "berthctl") if harness.BERTHD else "")
TIMEOUT = 20


def read(path):
    with open(path) as f:
        return f.read()


def label(name):
    """A status line's label as systemctl aligns it, with the space after it."""
    return name.rjust(12) + " "

WEB_PY = r"""
import signal, socket, sys
signal.signal(signal.SIGUSR2, lambda *a: print("got SIGUSR2", flush=True))
print("hello from web", flush=True)
for i in range(1, 4):
    print("line %d" % i, flush=True)
s = socket.socket(fileno=3)
while True:
    c, _ = s.accept()
    print("connection", flush=True)
    c.sendall(b"hi\n")
    c.close()
"""

# Run by `berthctl fds`: checks the LISTEN_FDS layout, then serves one connection on each fd.
FDS_PY = r"""
import os, socket, sys
n = int(os.environ["LISTEN_FDS"])
assert n == 2, n
assert os.environ["LISTEN_FDNAMES"] == "pair:pair", os.environ["LISTEN_FDNAMES"]
assert int(os.environ["LISTEN_PID"]) == os.getpid(), (os.environ["LISTEN_PID"], os.getpid())
ports = []
for fd in (3, 4):
    s = socket.socket(fileno=fd)
    assert s.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN) == 1
    ports.append(s.getsockname()[1])
    s.detach()
# Nothing but 0, 1, 2 and the sockets (python's own fds are CLOEXEC or its own).
print("ports %d %d" % tuple(ports), flush=True)
for fd in (3, 4):
    s = socket.socket(fileno=fd)
    c, _ = s.accept()
    c.sendall(b"fds-ok %d\n" % fd)
    c.close()
    s.detach()
"""


class Berthctl(harness.TestCase):
    def setUp(self):
        super().setUp()
        if not BERTHCTL or not os.access(BERTHCTL, os.X_OK):
            self.fail("BERTHCTL is not set to an executable berthctl")
        self.scripts = tempfile.mkdtemp(prefix="berthctl-scripts-")
        self.addCleanup(shutil.rmtree, self.scripts, True)

    # ---- helpers ----

    def script(self, name, text):
        path = os.path.join(self.scripts, name)
        with open(path, "w") as f:
            f.write(textwrap.dedent(text))
        os.chmod(path, 0o755)
        return path

    def ctl(self, b, *args, runtime_dir=None, env=None, user=None, exe=None, **kw):
        """Runs berthctl against berthd b; returns the CompletedProcess (text)."""
        cmd = [exe or BERTHCTL]
        if b is not None or runtime_dir:
            cmd += ["--runtime-dir", runtime_dir or b.runtime_dir]
        cmd += list(args)
        if user:
            cmd = ["runuser", "-u", user, "--"] + cmd
        e = dict(os.environ)
        e.pop("NO_COLOR", None)
        if env:
            e.update(env)
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, env=e,
                           cwd="/", **kw)
        sys.stderr.write("$ %s -> %d\n%s%s" % (" ".join(cmd), p.returncode, p.stdout,
                                                  p.stderr))
        return p

    def status_json(self, b, *units):
        p = self.ctl(b, "--json", "status", *units)
        self.assertIn(p.returncode, (0, 3), p.stderr)
        return json.loads(p.stdout)

    def unit(self, b, name):
        return self.status_json(b, name)[0]

    def wait_state(self, b, name, state, timeout=TIMEOUT):
        return harness.wait_for(
            lambda: (lambda u: u if u["state"] == state else None)(self.unit(b, name)),
            timeout=timeout, what="%s to be %s" % (name, state), interval=0.1)

    def web_units(self, extra=None):
        """web.socket + web.service (python, started at once, logs on SIGUSR2), lazy.socket +
        lazy.service (socket-activated, never triggered), api.socket (Service=apiserver),
        hold.socket + hold.service (runs, never accepts). Returns the ports."""
        ports = {k: harness.free_port() for k in ("web", "lazy", "api", "hold")}
        web = self.script("web.py", WEB_PY)
        self.reload_file = os.path.join(self.scripts, "reloaded")
        units = {
            "web.socket": f"""
                [Socket]
                ListenStream=127.0.0.1:{ports['web']}
                FileDescriptorName=webname
                """,
            "web.service": f"""
                [Unit]
                Description=The web "test" service
                [Service]
                ExecStart=/usr/bin/python3 -u {web}
                ReloadSignal=SIGUSR2
                [Install]
                WantedBy=multi-user.target
                """,
            "web.service.d/10-env.conf": """
                [Service]
                Environment=A=1
                """,
            "web.service.d/20-more.conf": """
                [Service]
                Environment=B=2
                """,
            "lazy.socket": f"""
                [Socket]
                ListenStream=127.0.0.1:{ports['lazy']}
                """,
            "lazy.service": """
                [Unit]
                Description=Never triggered
                [Service]
                ExecStart=/bin/sleep 1000
                """,
            "api.socket": f"""
                [Socket]
                ListenStream=127.0.0.1:{ports['api']}
                Service=apiserver.service
                """,
            "apiserver.service": f"""
                [Service]
                ExecStart=/bin/sleep 1000
                ExecReload=/bin/sh -c 'echo reloaded >> {self.reload_file}'
                """,
            "hold.socket": f"""
                [Socket]
                ListenStream=127.0.0.1:{ports['hold']}
                Backlog=16
                """,
            "hold.service": """
                [Service]
                ExecStart=/bin/sleep 1000
                [Install]
                WantedBy=multi-user.target
                """,
        }
        units.update(extra or {})
        self.units(units)
        return ports

    def web_berthd(self, **kw):
        ports = self.web_units()
        b = self.berthd(**kw)
        m = b.wait_log(r"web\.service\[(\d+)\]: line 3")
        return b, ports, int(m.group(1))

    # ---- not running ----

    def assert_not_running(self, p, control, origin):
        """p failed as berthctl does when no berthd answers at control, origin naming what
        chose that path; the message says how to point berthctl elsewhere."""
        self.assertEqual(p.returncode, 1)
        self.assertEqual(p.stdout, "")
        lines = p.stderr.strip().splitlines()
        self.assertEqual(lines[0], "berthd is not running: no control socket at %s (%s)." % (
            control, origin))
        for way in ("--runtime-dir DIR", "export BERTH_RUNTIME_DIR=DIR", "--user"):
            self.assertIn(way, lines[1])
        self.assertEqual(len(lines), 2, lines)

    def test_not_running(self):
        d = tempfile.mkdtemp(prefix="berthctl-empty-")
        self.addCleanup(shutil.rmtree, d, True)
        for verb in (["status"], ["list-units"], ["list-sockets"], ["stop", "x"],
                     ["logs", "x"], ["daemon-reload"], []):
            p = self.ctl(None, *verb, runtime_dir=d)
            self.assert_not_running(p, d + "/control", "from --runtime-dir")
        # A stale socket that nobody listens on: refused, same message.
        s = socket.socket(socket.AF_UNIX)
        s.bind(os.path.join(d, "control"))
        s.close()
        p = self.ctl(None, "status", runtime_dir=d)
        self.assert_not_running(p, d + "/control", "from --runtime-dir")

    def test_wait_ready_invalid(self):
        """--wait-ready takes whole seconds above 0; anything else is refused at once, with
        the right spelling, before berthctl looks for berthd."""
        for bad in ("0", "x", "-1", "1.5"):
            p = self.ctl(None, "status", "--wait-ready=" + bad, "web", runtime_dir="/nonexistent")
            self.assertEqual(p.returncode, 1, (bad, p.stderr))
            self.assertEqual(p.stdout, "")
            self.assertIn("Invalid --wait-ready '%s': give seconds, such as --wait-ready=30."
                          % bad, p.stderr)
            self.assertNotIn("not running", p.stderr)

    def test_runtime_dir_from_environment(self):
        """BERTH_RUNTIME_DIR names the runtime directory for berthd and berthctl alike; it
        beats --user, and --runtime-dir beats it."""
        top = tempfile.mkdtemp(prefix="berthctl-rt-")
        self.addCleanup(shutil.rmtree, top, True)
        run, empty, xdg = (os.path.join(top, x) for x in ("run", "empty", "xdg"))
        os.mkdir(empty)
        os.mkdir(xdg)
        self.web_units()
        b = self.berthd(runtime_dir=run, runtime_dir_option=False,
                        env={"BERTH_RUNTIME_DIR": run})
        self.assertTrue(stat.S_ISSOCK(os.stat(os.path.join(run, "control")).st_mode))
        env = {"BERTH_RUNTIME_DIR": run}
        p = self.ctl(None, "list-units", env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("web.service", p.stdout)
        p = self.ctl(None, "--user", "list-units", env=dict(env, XDG_RUNTIME_DIR=xdg))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("web.service", p.stdout)
        p = self.ctl(None, "list-units", runtime_dir=empty, env=env)
        self.assert_not_running(p, empty + "/control", "from --runtime-dir")
        p = self.ctl(None, "list-units", env={"BERTH_RUNTIME_DIR": empty})
        self.assert_not_running(p, empty + "/control", "from $BERTH_RUNTIME_DIR")
        e = {"XDG_RUNTIME_DIR": xdg, "BERTH_RUNTIME_DIR": ""}
        p = self.ctl(None, "--user", "list-units", env=e)
        self.assert_not_running(p, xdg + "/berth/control", "--user: $XDG_RUNTIME_DIR/berth")
        if not os.path.exists("/run/berth/control"):
            p = self.ctl(None, "list-units", env={"BERTH_RUNTIME_DIR": ""})
            self.assert_not_running(p, "/run/berth/control", "the system berthd's default")
        # Services do not inherit it.
        pid = self.wait_state(b, "web.service", "running")["main_pid"]
        with open("/proc/%d/environ" % pid, "rb") as f:
            self.assertNotIn(b"BERTH_RUNTIME_DIR=", f.read())
        b.close()

    # ---- status ----

    def test_status_exit_codes(self):
        b, ports, pid = self.web_berthd()
        cases = [
            (["web.service"], 0),
            (["web"], 0),             # NAME.service
            (["web.socket"], 0),      # listening
            (["lazy.service"], 3),    # dead: never triggered
            (["lazy"], 3),
            (["lazy.socket"], 0),
            (["api"], 0),             # no api.service: api.socket
            (["apiserver"], 3),
            (["nosuch.service"], 4),
            (["nosuch"], 4),
            (["web", "lazy"], 3),
            (["web", "nosuch", "lazy"], 4),
        ]
        for units, code in cases:
            p = self.ctl(b, "status", *units)
            self.assertEqual(p.returncode, code, units)
        p = self.ctl(b, "status", "nosuch")
        self.assertIn("Unit nosuch.service could not be found.", p.stderr)
        p = self.ctl(b, "status", "nosuch.socket")
        self.assertIn("Unit nosuch.socket could not be found.", p.stderr)
        # Without units: the overview, exit 0 even with inactive units.
        p = self.ctl(b, "status")
        self.assertEqual(p.returncode, 0)
        self.assertRegex(p.stdout, r"(?m)^UNIT +LOAD +ACTIVE +STATE")
        self.assertRegex(p.stdout, r"(?m)^lazy\.service +loaded +inactive +dead ")

    def test_status_text(self):
        b, ports, pid = self.web_berthd()
        p = self.ctl(b, "status", "web")
        self.assertEqual(p.returncode, 0, p.stderr)
        out = p.stdout
        self.assertNotIn("\x1b", out, "no colour when stdout is not a tty")
        lines = out.splitlines()
        self.assertRegex(lines[0], r'^(\*|●) web\.service - The web "test" service$')
        path = os.path.join(self.dir, "web.service")
        self.assertIn(label("Loaded:") + "loaded (%s)" % path, lines)
        self.assertIn(label("Drop-In:") + "%s" % os.path.join(self.dir, "web.service.d"), lines)
        self.assertRegex(out, r"(?m)^ +(`-|└─)10-env\.conf, 20-more\.conf$")
        self.assertRegex(out, r"(?m)^     Active: active \(running\) since \w{3} "
                              r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S+; (\d+(ms|us|s) ago|now)$")
        self.assertRegex(out, r"(?m)^   Main PID: %d( \(python3\))?$" % pid)
        self.assertIn(label("Restarts:") + "0", lines)
        self.assertIn(label("Listen:") + "127.0.0.1:%d" % ports["web"], lines)
        # The last 10 log lines after a blank line, as unit[pid]: line.
        blank = lines.index("")
        self.assertEqual(lines[blank + 1:], [
            "web.service[%d]: hello from web" % pid,
            "web.service[%d]: line 1" % pid,
            "web.service[%d]: line 2" % pid,
            "web.service[%d]: line 3" % pid,
        ])
        for line in lines:
            self.assertEqual(line, line.rstrip(), "no trailing spaces")

        # -n: the last N lines.
        p = self.ctl(b, "status", "-n", "2", "web.service")
        self.assertEqual(p.stdout.splitlines()[-3:], [
            "", "web.service[%d]: line 2" % pid, "web.service[%d]: line 3" % pid])
        p = self.ctl(b, "-n", "0", "status", "web.service")
        self.assertNotIn("line 3", p.stdout)

        # A socket: its service and addresses; a dead service: no Main PID.
        p = self.ctl(b, "status", "web.socket")
        self.assertEqual(p.returncode, 0)
        self.assertIn(label("Active:") + "active (listening)", p.stdout)
        self.assertIn(label("Triggers:") + "web.service", p.stdout.splitlines())
        self.assertIn(label("Listen:") + "127.0.0.1:%d" % ports["web"], p.stdout.splitlines())
        p = self.ctl(b, "status", "lazy.service")
        self.assertEqual(p.returncode, 3)
        self.assertIn(label("Active:") + "inactive (dead)", p.stdout)
        self.assertNotIn("Main PID", p.stdout)

        # Several units: blank line between them.
        p = self.ctl(b, "status", "web.socket", "api.socket")
        self.assertRegex(p.stdout, r"\n\n(\*|●) api\.socket")

    def test_status_json(self):
        before = time.time_ns() // 1000
        b, ports, pid = self.web_berthd()
        after = time.time_ns() // 1000
        p = self.ctl(b, "--json", "status", "web.service", "lazy.service", "api.socket")
        self.assertEqual(p.returncode, 3)  # lazy.service is dead
        data = json.loads(p.stdout)
        self.assertEqual(len(data), 3)
        web, lazy, api = data
        keys = {"name", "type", "load_state", "state", "result", "main_pid", "control_pid",
                "since", "restarts", "last_exit", "description", "fragment_path",
                "drop_in_paths", "listen", "service", "status_text", "load_error", "logs"}
        for u in data:
            self.assertTrue(keys <= set(u), keys - set(u))
        self.assertEqual(web["name"], "web.service")
        self.assertEqual(web["type"], "service")
        self.assertEqual(web["load_state"], "loaded")
        self.assertEqual(web["state"], "running")
        self.assertEqual(web["main_pid"], pid)
        self.assertEqual(web["control_pid"], 0)
        self.assertIsInstance(web["since"], int)
        # When it started, in realtime microseconds: after berthd started, before it served.
        self.assertLessEqual(before, web["since"])
        self.assertLessEqual(web["since"], after)
        self.assertEqual(web["restarts"], 0)
        self.assertEqual(web["last_exit"], "")
        self.assertEqual(web["description"], 'The web "test" service')
        self.assertEqual(web["fragment_path"], os.path.join(self.dir, "web.service"))
        self.assertEqual(web["drop_in_paths"], [
            os.path.join(self.dir, "web.service.d", "10-env.conf"),
            os.path.join(self.dir, "web.service.d", "20-more.conf")])
        self.assertEqual(web["listen"], ["127.0.0.1:%d" % ports["web"]])
        self.assertEqual(web["load_error"], "")
        self.assertEqual([e["line"] for e in web["logs"]],
                         ["hello from web", "line 1", "line 2", "line 3"])
        self.assertEqual({e["pid"] for e in web["logs"]}, {pid})
        seqs = [e["seq"] for e in web["logs"]]
        self.assertEqual(seqs, sorted(seqs))

        self.assertEqual(lazy["state"], "dead")
        self.assertEqual(lazy["main_pid"], 0)
        self.assertEqual(lazy["since"], 0)
        self.assertEqual(lazy["logs"], [])
        self.assertEqual(lazy["description"], "Never triggered")

        self.assertEqual(api["type"], "socket")
        self.assertEqual(api["state"], "listening")
        self.assertEqual(api["service"], "apiserver.service")
        self.assertEqual(api["listen"], ["127.0.0.1:%d" % ports["api"]])

        # An unknown unit: exit 4, a message, and the others still as valid JSON.
        p = self.ctl(b, "--json", "status", "nosuch", "web")
        self.assertEqual(p.returncode, 4)
        self.assertEqual([u["name"] for u in json.loads(p.stdout)], ["web.service"])
        self.assertIn("Unit nosuch.service could not be found.", p.stderr)

        # Without units: every unit.
        p = self.ctl(b, "status", "--json")
        self.assertEqual(p.returncode, 0)
        names = [u["name"] for u in json.loads(p.stdout)]
        for n in ("web.socket", "web.service", "lazy.socket", "lazy.service", "api.socket",
                  "apiserver.service", "hold.socket", "hold.service"):
            self.assertIn(n, names)

    # ---- list-units ----

    def test_list_units(self):
        b, ports, pid = self.web_berthd()
        p = self.ctl(b, "list-units", "--json")
        self.assertEqual(p.returncode, 0, p.stderr)
        units = {u["name"]: u for u in json.loads(p.stdout)}
        fields = ["name", "type", "load_state", "state", "main_pid", "since", "restarts",
                  "last_exit", "description"]
        for u in units.values():
            self.assertEqual(list(u), fields)
        web = units["web.service"]
        self.assertEqual(web["type"], "service")
        self.assertEqual(web["load_state"], "loaded")
        self.assertEqual(web["state"], "running")
        self.assertEqual(web["main_pid"], pid)
        self.assertEqual(web["restarts"], 0)
        self.assertEqual(web["last_exit"], "")
        self.assertEqual(web["description"], 'The web "test" service')
        self.assertEqual(web["since"], self.unit(b, "web.service")["since"])
        self.assertEqual(units["lazy.service"]["state"], "dead")
        self.assertEqual(units["lazy.service"]["main_pid"], 0)
        self.assertEqual(units["web.socket"]["type"], "socket")
        self.assertEqual(units["web.socket"]["state"], "listening")

        # Text: header, aligned columns, footer, no trailing spaces.
        p = self.ctl(b, "list-units")
        self.assertEqual(p.returncode, 0)
        lines = p.stdout.splitlines()
        self.assertRegex(lines[0], r"^UNIT +LOAD +ACTIVE +STATE +PID +RESTARTS +LAST-EXIT "
                                   r"+DESCRIPTION$")
        self.assertEqual(lines[-1], "%d units listed." % len(units))
        self.assertEqual(lines[-2], "")
        rows = lines[1:-2]
        self.assertEqual(len(rows), len(units))
        self.assert_aligned(lines[:-2], ["UNIT", "LOAD", "ACTIVE", "STATE", "LAST-EXIT",
                                         "DESCRIPTION"])
        row = next(r for r in rows if r.startswith("web.service "))
        self.assertRegex(row, r"^web\.service +loaded +active +running +%d +0 +- +The web "
                              r"\"test\" service$" % pid)
        # --plain (--no-legend): rows only, for scripts and completion.
        for opt in ("--plain", "--no-legend"):
            p = self.ctl(b, opt, "list-units")
            plain = p.stdout.splitlines()
            self.assertEqual([r.split() for r in plain], [r.split() for r in rows])
            self.assert_aligned(plain, [])

    def assert_aligned(self, lines, left_columns):
        """Every row's left-aligned cells start where their header does; no trailing
        spaces."""
        header = lines[0]
        starts = [header.index(c) for c in left_columns]
        for line in lines:
            self.assertEqual(line, line.rstrip(), "trailing spaces in %r" % line)
            for s in starts:
                if s < len(line):
                    self.assertTrue(s == 0 or line[s - 2:s] == "  ",
                                    "misaligned at %d: %r" % (s, line))
                    self.assertNotEqual(line[s], " ", "misaligned at %d: %r" % (s, line))

    # ---- list-sockets ----

    def test_list_sockets_queued(self):
        b, ports, pid = self.web_berthd()
        hold_pid = self.wait_state(b, "hold.service", "running")["main_pid"]
        # hold.service runs and never accepts: five connections wait in the accept queue.
        conns = [harness.connect("127.0.0.1", ports["hold"]) for _ in range(5)]
        self.addCleanup(lambda: [c.close() for c in conns])

        def ss_recvq():
            for line in harness.ss("-ltn", "sport", "= :%d" % ports["hold"]).splitlines():
                f = line.split()
                return int(f[1]), int(f[2])
            return None
        harness.wait_for(lambda: ss_recvq() == (5, 16), what="5 queued connections in ss")

        p = self.ctl(b, "list-sockets", "--json")
        self.assertEqual(p.returncode, 0, p.stderr)
        socks = json.loads(p.stdout)
        fields = ["unit", "address", "protocol", "stack", "reach", "backlog", "queued",
                  "service", "service_state", "filter"]
        for s in socks:
            self.assertEqual(list(s), fields)
        hold = [s for s in socks if s["unit"] == "hold.socket"]
        self.assertEqual(len(hold), 1)
        hold = hold[0]
        self.assertEqual(hold["address"], "127.0.0.1:%d" % ports["hold"])
        self.assertEqual(hold["protocol"], "TCP")
        self.assertEqual(hold["stack"], "ipv4")
        self.assertEqual(hold["reach"], "loopback only")
        self.assertEqual(hold["backlog"], 16)
        self.assertEqual(hold["queued"], 5)
        self.assertEqual((hold["queued"], hold["backlog"]), ss_recvq())
        self.assertEqual(hold["service"], "hold.service")
        self.assertEqual(hold["service_state"], "running")
        web = next(s for s in socks if s["unit"] == "web.socket")
        self.assertEqual(web["queued"], 0)
        lazy = next(s for s in socks if s["unit"] == "lazy.socket")
        self.assertEqual(lazy["service_state"], "dead")
        api = next(s for s in socks if s["unit"] == "api.socket")
        self.assertEqual(api["service"], "apiserver.service")
        self.assertEqual(self.unit(b, "hold.service")["main_pid"], hold_pid)

        p = self.ctl(b, "list-sockets")
        self.assertEqual(p.returncode, 0)
        lines = p.stdout.splitlines()
        self.assertRegex(lines[0], r"^ADDRESS +PROTO +STACK +REACH +FILTER +BACKLOG +QUEUED "
                                   r"+UNIT "
                                   r"+SERVICE +STATE$")
        self.assertEqual(lines[-1], "%d sockets listed." % len(socks))
        self.assert_aligned(lines[:-2], ["ADDRESS", "PROTO", "STACK", "REACH", "FILTER", "UNIT",
                                         "SERVICE", "STATE"])
        row = next(r for r in lines if r.startswith("127.0.0.1:%d " % ports["hold"]))
        self.assertRegex(row, r"^127\.0\.0\.1:%d +TCP +ipv4 +loopback only +- +16 +5 +"
                              r"hold\.socket +hold\.service +running$" % ports["hold"])
        # Numbers are right-aligned: they end where their header ends.
        end = lines[0].index("QUEUED") + len("QUEUED")
        self.assertEqual(row[end - 1], "5")

    # ---- start, stop, restart, reload ----

    def test_start_stop_restart(self):
        b, ports, pid = self.web_berthd()
        p = self.ctl(b, "stop", "web")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.wait_state(b, "web.service", "dead")
        harness.wait_for(lambda: not harness.pid_alive(pid), what="the old process to go")
        self.assertEqual(self.ctl(b, "status", "web").returncode, 3)
        # The socket stays bound.
        self.assertTrue(harness.ss_has(["-ltn"], "127.0.0.1:%d" % ports["web"]))

        p = self.ctl(b, "start", "web.service")
        self.assertEqual(p.returncode, 0, p.stderr)
        pid2 = self.wait_state(b, "web.service", "running")["main_pid"]
        self.assertNotEqual(pid2, pid)
        self.assertEqual(self.ctl(b, "status", "web").returncode, 0)

        p = self.ctl(b, "restart", "web.socket")  # a socket acts on its service
        self.assertEqual(p.returncode, 0, p.stderr)
        pid3 = harness.wait_for(
            lambda: (lambda u: u["main_pid"] if u["state"] == "running" and
                     u["main_pid"] not in (0, pid2) else None)(self.unit(b, "web.service")),
            what="a new main pid after restart")
        self.assertFalse(harness.pid_alive(pid2))
        with harness.connect("127.0.0.1", ports["web"]) as c:
            self.assertEqual(c.recv(16), b"hi\n")
        b.wait_log(r"web\.service\[%d\]: connection" % pid3)

        # A socket-activated service that waits for its first connection starts at once.
        p = self.ctl(b, "start", "lazy")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.wait_state(b, "lazy.service", "running")

        # Several units; an unknown one: 4 and the message; the others are still done.
        p = self.ctl(b, "stop", "lazy.service", "nosuch.service")
        self.assertEqual(p.returncode, 4)
        self.assertIn("Unit nosuch.service could not be found.", p.stderr)
        self.wait_state(b, "lazy.service", "dead")
        for verb in ("start", "restart", "reload"):
            p = self.ctl(b, verb, "nosuch")
            self.assertEqual(p.returncode, 4, verb)
            self.assertIn("Unit nosuch.service could not be found.", p.stderr)
        p = self.ctl(b, "stop")
        self.assertEqual(p.returncode, 1)
        self.assertIn("Usage: berthctl stop UNIT...", p.stderr)

    def test_reload(self):
        b, ports, pid = self.web_berthd()
        # ReloadSignal=SIGUSR2 to the main process.
        p = self.ctl(b, "reload", "web")
        self.assertEqual(p.returncode, 0, p.stderr)
        b.wait_log(r"web\.service\[%d\]: got SIGUSR2" % pid)
        self.assertEqual(self.unit(b, "web.service")["main_pid"], pid)

        # ExecReload= through the socket's name: the command runs.
        self.assertEqual(self.ctl(b, "start", "api").returncode, 0)
        self.wait_state(b, "apiserver.service", "running")
        p = self.ctl(b, "reload", "api.socket")
        self.assertEqual(p.returncode, 0, p.stderr)
        harness.wait_for(lambda: os.path.exists(self.reload_file) and
                         read(self.reload_file) == "reloaded\n",
                         what="ExecReload= to write its file")

        # Reloading a service that does not run is an error, with berthd's message.
        p = self.ctl(b, "reload", "lazy.service")
        self.assertEqual(p.returncode, 1)
        self.assertRegex(p.stderr, r"^Failed to reload lazy\.service: .+")

    def test_daemon_reload(self):
        b, ports, pid = self.web_berthd()
        port = harness.free_port()
        self.units({"extra.socket": f"""
            [Socket]
            ListenStream=127.0.0.1:{port}
            """, "extra.service": """
            [Service]
            ExecStart=/bin/sleep 1000
            """})
        p = self.ctl(b, "daemon-reload")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.unit(b, "extra.socket")["state"], "listening")
        self.assertEqual(self.unit(b, "web.service")["main_pid"], pid)

        # An error: exit 1, the file:line, and the unit keeps its old configuration.
        with open(os.path.join(self.dir, "extra.socket"), "a") as f:
            f.write("Backlog=lots\n")
        p = self.ctl(b, "daemon-reload")
        self.assertEqual(p.returncode, 1)
        self.assertIn("%s:3" % os.path.join(self.dir, "extra.socket"), p.stderr)
        self.assertIn("Backlog", p.stderr)
        self.assertEqual(self.unit(b, "extra.socket")["state"], "listening")
        self.assertTrue(harness.ss_has(["-ltn"], "127.0.0.1:%d" % port))

    # ---- cat ----

    def test_cat(self):
        b, ports, pid = self.web_berthd()
        p = self.ctl(b, "cat", "web")
        self.assertEqual(p.returncode, 0, p.stderr)
        files = [os.path.join(self.dir, "web.service"),
                 os.path.join(self.dir, "web.service.d", "10-env.conf"),
                 os.path.join(self.dir, "web.service.d", "20-more.conf")]
        expected = "\n".join("# %s\n%s" % (f, read(f)) for f in files)
        self.assertEqual(p.stdout, expected)
        p = self.ctl(b, "cat", "web.socket", "lazy.service")
        self.assertEqual(p.stdout, "# {0}\n{1}\n# {2}\n{3}".format(
            os.path.join(self.dir, "web.socket"),
            read(os.path.join(self.dir, "web.socket")),
            os.path.join(self.dir, "lazy.service"),
            read(os.path.join(self.dir, "lazy.service"))))
        p = self.ctl(b, "cat", "nosuch")
        self.assertEqual(p.returncode, 4)

    # ---- check ----

    def test_check(self):
        good = self.units({"ok.socket": """
            [Socket]
            ListenStream=127.0.0.1:%d
            """ % harness.free_port(), "ok.service": """
            [Service]
            ExecStart=/bin/true
            """}, subdir="good")
        p = self.ctl(None, "check", good)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("OK:", p.stdout)
        self.assertIn("ok.socket -> ok.service", p.stdout)

        bad = self.units({"bad.socket": """
            [Socket]
            ListenStream=127.0.0.1:%d
            Backlog=lots
            """ % harness.free_port()}, subdir="bad")
        p = self.ctl(None, "check", bad)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("%s:3" % os.path.join(bad, "bad.socket"), p.stdout + p.stderr)
        # berthctl check runs berthd --check: the same output and exit code.
        direct = harness.run_check(bad)
        self.assertEqual((p.returncode, p.stdout, p.stderr),
                         (direct.returncode, direct.stdout, direct.stderr))

    # ---- logs ----

    def test_logs(self):
        b, ports, pid = self.web_berthd()
        p = self.ctl(b, "logs", "web")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.splitlines(), [
            "web.service[%d]: hello from web" % pid, "web.service[%d]: line 1" % pid,
            "web.service[%d]: line 2" % pid, "web.service[%d]: line 3" % pid])
        p = self.ctl(b, "logs", "-n", "1", "web.socket")  # a socket: its service's
        self.assertEqual(p.stdout, "web.service[%d]: line 3\n" % pid)
        p = self.ctl(b, "logs", "-n", "0", "web")
        self.assertEqual((p.returncode, p.stdout), (0, ""))
        p = self.ctl(b, "logs", "lazy")
        self.assertEqual((p.returncode, p.stdout), (0, ""))
        p = self.ctl(b, "logs", "nosuch")
        self.assertEqual(p.returncode, 4)

    def read_line(self, proc, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        buf = b""
        while not buf.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no line from berthctl logs -f within %ds" % timeout)
            r, _, _ = select.select([proc.stdout], [], [], left)
            if r:
                ch = os.read(proc.stdout.fileno(), 1)
                if not ch:
                    raise AssertionError("berthctl logs -f ended: %r" % buf)
                buf += ch
        return buf.decode().rstrip("\n")

    def logs_follow(self, b, *args):
        proc = subprocess.Popen([BERTHCTL, "--runtime-dir", b.runtime_dir, "logs", "-f",
                                 *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.addCleanup(self.reap, proc)
        return proc

    @staticmethod
    def reap(proc):
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        for f in (proc.stdout, proc.stderr):
            if f:
                f.close()

    def test_logs_follow(self):
        b, ports, pid = self.web_berthd()
        proc = self.logs_follow(b, "-n", "2", "web")
        self.assertEqual(self.read_line(proc), "web.service[%d]: line 2" % pid)
        self.assertEqual(self.read_line(proc), "web.service[%d]: line 3" % pid)
        # New lines arrive as the service writes them.
        for _ in range(2):
            with harness.connect("127.0.0.1", ports["web"]) as c:
                c.recv(16)
            self.assertEqual(self.read_line(proc), "web.service[%d]: connection" % pid)
        proc.send_signal(signal.SIGINT)
        self.assertEqual(proc.wait(TIMEOUT), 0)

        proc = self.logs_follow(b, "web.service")
        self.assertEqual(self.read_line(proc), "web.service[%d]: hello from web" % pid)
        proc.terminate()
        self.assertEqual(proc.wait(TIMEOUT), 0)

        # berthd goes away: exit 1.
        proc = self.logs_follow(b, "web")
        self.read_line(proc)
        self.assertEqual(b.stop(), 0)
        self.assertEqual(proc.wait(TIMEOUT), 1)
        self.assertIn(b"berthd went away", proc.stderr.read())

    # ---- fds ----

    def test_fds(self):
        pa, pb = harness.free_port(), harness.free_port()
        self.web_units({
            "pair.socket": f"""
                [Socket]
                ListenStream=127.0.0.1:{pa}
                ListenStream=127.0.0.1:{pb}
                FileDescriptorName=pair
                """,
            # Runs and never accepts: the connections below are for berthctl fds's CMD.
            "pair.service": """
                [Service]
                ExecStart=/bin/sleep 1000
                [Install]
                WantedBy=multi-user.target
                """})
        b = self.berthd()
        self.wait_state(b, "pair.service", "running")
        script = self.script("fds.py", FDS_PY)
        proc = subprocess.Popen([BERTHCTL, "--runtime-dir", b.runtime_dir, "fds", "pair",
                                 "--", "/usr/bin/python3", "-u", script],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(self.reap, proc)
        for port, fd in ((pa, 3), (pb, 4)):
            with harness.connect("127.0.0.1", port) as c:
                c.settimeout(TIMEOUT)
                self.assertEqual(c.recv(64), b"fds-ok %d\n" % fd)
        out, err = proc.communicate(timeout=TIMEOUT)
        self.assertEqual(proc.returncode, 0, err)
        self.assertEqual(out, "ports %d %d\n" % (pa, pb))
        # berthd keeps its sockets.
        self.assertTrue(harness.ss_has(["-ltn"], "127.0.0.1:%d" % pa))
        self.assertEqual(self.unit(b, "pair.socket")["state"], "listening")

        # CMD that cannot run: 127 and a message.
        p = self.ctl(b, "fds", "pair.socket", "--", "/nonexistent/cmd")
        self.assertEqual(p.returncode, 127)
        self.assertIn("/nonexistent/cmd", p.stderr)
        # Usage errors and unknown sockets.
        self.assertEqual(self.ctl(b, "fds", "pair.socket").returncode, 1)
        p = self.ctl(b, "fds", "nosuch", "--", "/bin/true")
        self.assertEqual(p.returncode, 4)
        self.assertIn("Unit nosuch.socket could not be found.", p.stderr)

    # ---- options ----

    def test_options(self):
        p = self.ctl(None, "--version")
        self.assertEqual(p.returncode, 0)
        self.assertRegex(p.stdout, r"^berthctl \d+\.\d+")
        p = self.ctl(None, "--help")
        self.assertEqual(p.returncode, 0)
        for verb in ("status", "list-units", "list-sockets", "start", "stop", "restart",
                     "reload", "daemon-reload", "daemon-reexec", "cat", "check", "logs",
                     "fds", "--runtime-dir", "--user", "--json", "--no-color"):
            self.assertIn(verb, p.stdout)
        p = self.ctl(None, "frobnicate")
        self.assertEqual(p.returncode, 1)
        self.assertIn("Unknown command verb 'frobnicate'", p.stderr)
        p = self.ctl(None, "--runtime-dir", self.dir, "daemon-reexec")
        self.assertEqual(p.returncode, 1)
        self.assertIn("berthd is not running", p.stderr)
        p = self.ctl(None, "--bogus")
        self.assertEqual(p.returncode, 1)
        p = self.ctl(None, "-n", "x", "status")
        self.assertEqual(p.returncode, 1)
        self.assertIn("Invalid number of lines", p.stderr)

    def test_user_mode(self):
        xdg = tempfile.mkdtemp(prefix="berthctl-xdg-")
        self.addCleanup(shutil.rmtree, xdg, True)
        self.web_units()
        b = self.berthd(runtime_dir=os.path.join(xdg, "berth"))
        p = self.ctl(None, "--user", "list-units", env={"XDG_RUNTIME_DIR": xdg})
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("web.service", p.stdout)
        e = dict(os.environ)
        e.pop("XDG_RUNTIME_DIR", None)
        p = subprocess.run([BERTHCTL, "--user", "status"], capture_output=True, text=True,
                           env=e, timeout=TIMEOUT)
        self.assertEqual(p.returncode, 1)
        self.assertIn("XDG_RUNTIME_DIR", p.stderr)
        # check's default directory in user mode.
        cfg = tempfile.mkdtemp(prefix="berthctl-cfg-")
        self.addCleanup(shutil.rmtree, cfg, True)
        harness.write_units(os.path.join(cfg, "berth", "units"), {"u.service": """
            [Service]
            ExecStart=/bin/true
            """})
        p = self.ctl(None, "--user", "check", env={"XDG_CONFIG_HOME": cfg})
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("OK:", p.stdout)
        b.close()

    def run_pty(self, b, *args, env=None):
        """Runs berthctl with stdout on a pty; returns its output."""
        master, slave = pty.openpty()
        e = dict(os.environ)
        e.pop("NO_COLOR", None)
        e["TERM"] = "xterm"
        if env:
            e.update(env)
        proc = subprocess.Popen([BERTHCTL, "--runtime-dir", b.runtime_dir, *args],
                                stdout=slave, stderr=subprocess.DEVNULL, env=e)
        os.close(slave)
        out = b""
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            r, _, _ = select.select([master], [], [], 0.5)
            if r:
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
            elif proc.poll() is not None:
                break
        os.close(master)
        proc.wait(TIMEOUT)
        return out.decode()

    def test_color(self):
        b, ports, pid = self.web_berthd()
        out = self.run_pty(b, "status", "web")
        self.assertIn("\x1b[", out, "colour on a tty")
        self.assertIn("active (running)", out)
        self.assertNotIn("\x1b[", self.run_pty(b, "--no-color", "status", "web"))
        self.assertNotIn("\x1b[", self.run_pty(b, "status", "web", env={"NO_COLOR": "1"}))
        self.assertNotIn("\x1b[", self.run_pty(b, "list-units", env={"TERM": "dumb"}))
        self.assertIn("\x1b[", self.run_pty(b, "list-units"))
        self.assertNotIn("\x1b[", self.run_pty(b, "--json", "list-units"))

    # ---- an unprivileged user ----

    def test_unprivileged(self):
        if not harness.is_root():
            self.skipTest("needs root to run berthctl as another user")
        if not shutil.which("runuser"):
            self.skipTest("runuser is not installed")
        try:
            pwd.getpwnam("nobody")
        except KeyError:
            self.skipTest("no user nobody")
        # Reachable by nobody: the runtime directory and a copy of berthctl.
        top, exe = self.berthctl_for_others()
        ports = self.web_units()
        # cat hands out a unit file only to a caller who could read it (units may hold
        # secrets in Environment=): make this one readable.
        os.chmod(self.dir, 0o755)
        b = self.berthd(runtime_dir=os.path.join(top, "run"))
        pid = int(b.wait_log(r"web\.service\[(\d+)\]: line 3").group(1))
        self.assertEqual(stat.S_IMODE(os.stat(os.path.join(top, "run", "control")).st_mode),
                         0o666)

        def as_nobody(*args):
            return self.ctl(b, *args, user="nobody", exe=exe)

        p = as_nobody("status", "web")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("Main PID: %d" % pid, p.stdout)
        p = as_nobody("list-sockets")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("127.0.0.1:%d" % ports["web"], p.stdout)
        self.assertEqual(as_nobody("list-units", "--json").returncode, 0)
        self.assertEqual(as_nobody("cat", "web").returncode, 0)
        # A service's output is not for every user (tests/integration/logs-access.py).
        p = as_nobody("logs", "web")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("permission denied", p.stderr)

        for args in (["stop", "web"], ["restart", "web.service"], ["start", "lazy"],
                     ["reload", "web"], ["daemon-reload"],
                     ["fds", "web.socket", "--", "/bin/true"]):
            p = as_nobody(*args)
            self.assertNotEqual(p.returncode, 0, args)
            self.assertIn("permission denied", p.stderr, args)
        b.wait_log(r"(?i)refused|permission denied")
        # Nothing changed.
        web = self.unit(b, "web.service")
        self.assertEqual((web["state"], web["main_pid"], web["restarts"]), ("running", pid, 0))
        self.assertEqual(self.unit(b, "lazy.service")["state"], "dead")
        self.assertTrue(harness.pid_alive(pid))
        self.assertEqual(b.count_log(r"got SIGUSR2"), 0)


if __name__ == "__main__":
    harness.main()
