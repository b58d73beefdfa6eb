"""The README's "A short tour", run as written. The tour's ```console blocks are read from
README.md: each "$ " line is a command, the lines under it its output. The commands run in
order, each in bash, in a directory that looks like a built clone (units/ and build/ of this
tree), with the environment a terminal would keep (export carries over; the block after the
daemon is a second terminal with a fresh one). The block marked <!-- tour: daemon --> runs in
the background, waited for through NOTIFY_SOCKET, and is stopped with SIGINT (Ctrl-C) at the
end. Every command must exit 0, and the lines the README shows must match the real output's
first lines (and, after a "..." line, its last lines) in shape: numbers, weekdays and ages may
differ, the clone's path is shown as /home/me/berth, and spacing is not compared.

The tour uses the ports 8080-8083 it names: the test runs in a network namespace of its own
(unshare -n, lo up) and a mount namespace where the tour's runtime directory is a private
tmpfs, so it clashes with no other test and no berthd of the machine. Needs root."""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

SOURCE = os.environ.get("BERTH_SOURCE_ROOT") or os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
README = os.path.join(SOURCE, "README.md")
SHOWN_CLONE = "/home/me/berth"
INNER = "BERTH_README_TOUR_INNER"
TIMEOUT = 60


class Command:
    def __init__(self, text, daemon):
        self.text = text
        self.daemon = daemon
        self.head = []  # expected first lines of the output
        self.tail = []  # expected last lines, after a "..." line
        self.cut = False


def tour_commands(readme_text):
    """The tour's commands in order, each with the output the README shows."""
    m = re.search(r"^## A short tour\n(.*?)(?=^## )", readme_text, re.M | re.S)
    if not m:
        raise AssertionError("README.md has no '## A short tour' section")
    section = m.group(1)
    commands = []
    for b in re.finditer(r"(<!-- tour: daemon[^>]*-->\n)?```console\n(.*?)^```", section,
                         re.M | re.S):
        daemon = bool(b.group(1))
        for line in b.group(2).splitlines():
            if line.startswith("$ "):
                commands.append(Command(line[2:], daemon))
            elif not commands:
                raise AssertionError("output before any command in the tour: %r" % line)
            elif line.strip() == "...":
                commands[-1].cut = True
            elif commands[-1].cut:
                commands[-1].tail.append(line)
            else:
                commands[-1].head.append(line)
    return commands


def shape(line, clone):
    """A line with what differs between runs made equal: the clone's path, pids, dates and
    ages, and spacing. Counts, addresses and states are compared as they are."""
    line = line.replace(clone, SHOWN_CLONE)
    line = re.sub(r"(?i)\b(pid:?\s+)\d+", r"\1N", line)
    line = re.sub(r"\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\b", "DATE",
                  line)
    line = re.sub(r"\d+ ?(ms|us|s|min|h|d)( \d+ ?(ms|us|s|min|h))* ago", "AGE ago", line)
    return " ".join(line.split())


def read(path):
    with open(path) as f:
        return f.read()


class ReadmeTour(harness.TestCase):
    def setUp(self):
        super().setUp()
        if os.environ.get(INNER) != "1":
            self.skipTest("runs only inside the namespaces that main() makes")
        missing = [p for p in ("curl", "gunicorn") if not shutil.which(p)]
        missing += [p for p in ("/usr/sbin/lighttpd",) if not os.access(p, os.X_OK)]
        if missing:
            self.skipTest("the example units need %s (./dev.sh run installs them)" %
                          ", ".join(missing))
        # A clone as ./dev.sh run leaves it: units/ of this tree, build/ the build under test.
        self.clone = tempfile.mkdtemp(prefix="berth-clone-")
        self.addCleanup(shutil.rmtree, self.clone, True)
        os.symlink(os.path.join(SOURCE, "units"), os.path.join(self.clone, "units"))
        os.symlink(os.path.dirname(os.path.abspath(harness.BERTHD)),
                   os.path.join(self.clone, "build"))

    def check_output(self, cmd, out):
        lines = out.splitlines()
        what = "the output of '%s':\n%s" % (cmd.text, out)
        self.assertGreaterEqual(len(lines), len(cmd.head) + len(cmd.tail), what)
        for want, got in zip(cmd.head, lines):
            self.assertEqual(shape(want, self.clone), shape(got, self.clone), what)
        if cmd.tail:
            for want, got in zip(cmd.tail, lines[-len(cmd.tail):]):
                self.assertEqual(shape(want, self.clone), shape(got, self.clone), what)

    def run_shell(self, cmd, env):
        """Runs one command line in bash as a terminal would; returns (output, new env)."""
        envfile = os.path.join(self.dir, "env")
        script = cmd.text + '\nrc=$?\nenv -0 > "$BERTH_TOUR_ENVFILE"\nexit $rc\n'
        p = subprocess.run(["bash", "-c", script], cwd=self.clone, timeout=TIMEOUT,
                           env=dict(env, BERTH_TOUR_ENVFILE=envfile), capture_output=True,
                           text=True, stdin=subprocess.DEVNULL)
        sys.stderr.write("$ %s -> %d\n%s%s" % (cmd.text, p.returncode, p.stdout, p.stderr))
        self.assertEqual(p.returncode, 0, "'%s' failed:\n%s%s" % (cmd.text, p.stdout, p.stderr))
        with open(envfile) as f:
            new = dict(kv.split("=", 1) for kv in f.read().split("\0") if "=" in kv)
        new.pop("BERTH_TOUR_ENVFILE", None)
        return p.stdout, new

    def start_daemon(self, cmd, env):
        """Starts the daemon's command in the background; returns (Popen, its log path) once
        it sent READY=1."""
        notify_path = os.path.join(self.dir, "notify")
        notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        notify.bind(notify_path)
        self.addCleanup(notify.close)
        log = os.path.join(self.dir, "berthd.log")
        with open(log, "w") as f:
            proc = subprocess.Popen(["bash", "-c", "exec " + cmd.text], cwd=self.clone,
                                    env=dict(env, NOTIFY_SOCKET=notify_path), stdout=f,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.addCleanup(harness.end_process, proc)
        notify.settimeout(TIMEOUT)
        while True:
            try:
                msg = notify.recv(4096).decode()
            except socket.timeout:
                raise AssertionError("'%s' sent no READY=1 within %ds:\n%s" % (
                    cmd.text, TIMEOUT, read(log)))
            if "READY=1" in msg.split("\n"):
                break
        harness.wait_for(lambda: "berthd is ready" in read(log), what="its ready line")
        return proc, log

    def test_tour(self):
        with open(README) as f:
            commands = tour_commands(f.read())
        self.assertTrue(any(c.daemon for c in commands), "the tour runs no berthd")
        self.assertGreaterEqual(len(commands), 6, [c.text for c in commands])
        base = {k: v for k, v in os.environ.items() if not k.startswith("BERTH")}
        base.pop("NOTIFY_SOCKET", None)
        env = dict(base)
        daemon = log = None
        for cmd in commands:
            if cmd.daemon:
                self.assertIsNone(daemon, "one daemon in the tour")
                daemon, log = self.start_daemon(cmd, env)
                # Its output up to the ready line, as the first terminal shows it then.
                text = read(log)
                self.check_output(cmd, text[:text.index("\n", text.index("berthd is ready"))])
                env = dict(base)  # the second terminal
                continue
            out, env = self.run_shell(cmd, env)
            self.check_output(cmd, out)
        self.assertIsNotNone(daemon)
        # Ctrl-C in the first terminal stops berthd and every service.
        daemon.send_signal(signal.SIGINT)
        self.assertEqual(daemon.wait(TIMEOUT), 0)
        text = read(log)
        sys.stderr.write(text)
        # The examples run clean: gunicorn's notifications draw no NotifyAccess= complaint.
        self.assertNotIn("NotifyAccess", text)
        self.assertNotRegex(text, r"(?m)^\S+\.service: .*(failed|cannot)")


def main():
    """Outside: re-runs this file in a network and a mount namespace of its own (skips
    without root). Inside: loopback up, the tour's runtime directory a private tmpfs."""
    if os.environ.get(INNER) == "1":
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
        with open(README) as f:
            m = re.search(r"BERTH_RUNTIME_DIR=(/\S+)", f.read())
        if m:
            os.makedirs(m.group(1), exist_ok=True)
            subprocess.run(["mount", "-t", "tmpfs", "tmpfs", m.group(1)], check=True)
        harness.main()
        return
    if os.geteuid() != 0:
        print("SKIP: the tour needs root for its network and mount namespaces")
        sys.exit(77)
    if not shutil.which("unshare") or not shutil.which("ip"):
        print("SKIP: needs unshare (util-linux) and ip (iproute2)")
        sys.exit(77)
    p = subprocess.run(["unshare", "-n", "-m", "--propagation", "private", sys.executable,
                        os.path.abspath(__file__)] + sys.argv[1:],
                       env=dict(os.environ, **{INNER: "1"}))
    sys.exit(p.returncode)


if __name__ == "__main__":
    unittest.TestCase.maxDiff = None
    main()
