"""Real servers, unmodified, serve HTTP on sockets that berthd binds and holds (SPEC §4): a
Python service on python3-systemd's systemd.daemon.listen_fds_with_names(), lighttpd with
server.systemd-socket-activation, and gunicorn, which reads LISTEN_FDS by itself. Each runs from
the example units in units/, copied with only the port changed to a free one. The same commands
under systemd-socket-activate are the control: when a server fails there too, the host is at
fault, not berthd."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

UNITS = os.path.join(harness.SOURCE_ROOT, "units")
SSA = "/usr/bin/systemd-socket-activate"

# name: (the files the unit runs, copied into a directory on PATH; the port in units/;
#        the command; the package that provides the server; how to tell it is there)
SERVERS = {
    "hello-python": (["hello-python.py"], 8081, "hello-python.py", "python3-systemd",
                     ["/usr/bin/python3", "-c", "import systemd.daemon"]),
    "lighttpd": (["berth-lighttpd", "lighttpd.conf", "www/index.html"], 8082, "berth-lighttpd",
                 "lighttpd", ["/usr/sbin/lighttpd", "-v"]),
    "gunicorn": (["berth-gunicorn", "gunicorn-app.py"], 8083, "berth-gunicorn", "gunicorn",
                 ["/usr/bin/gunicorn", "--version"]),
}
# What a server logs once it is fully up. gunicorn must have booted both workers before it is
# stopped: a worker still booting when SIGTERM arrives ignores it (it still has the master's
# handler), and the master then waits graceful_timeout (30 s) for it.
UP = {
    "gunicorn": (r"Booting worker with pid", 2),
}
EXPECT = {
    "hello-python": r"hello from berth \(python\): socket 'hello-python', pid \d+",
    "lighttpd": r"hello from berth \(lighttpd\)",
    "gunicorn": r"hello from berth \(gunicorn\): worker pid \d+, master pid \d+",
}


def installed(check):
    try:
        return subprocess.run(check, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def get(url, timeout=harness.DEFAULT_TIMEOUT):
    """GET url, retrying only while nothing listens yet (the activator is starting)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as r:
                return r.status, r.read().decode()
        except urllib.error.URLError as e:
            if not isinstance(e.reason, ConnectionRefusedError) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def ppid_of(pid):
    with open("/proc/%d/stat" % pid) as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def descends_from(pid, ancestor):
    while pid > 1:
        try:
            pid = ppid_of(pid)
        except OSError:
            return False
        if pid == ancestor:
            return True
    return False


def holders(port):
    """{pid: command} of every process that holds a TCP listener on port."""
    found = {}
    for line in harness.ss("-ltnp").splitlines():
        fields = line.split()
        if len(fields) >= 4 and fields[3].endswith(":%d" % port):
            for comm, pid in re.findall(r'\("([^"]*)",pid=(\d+),', line):
                found[int(pid)] = comm
    return found


def wait_gone(pid, timeout=harness.DEFAULT_TIMEOUT):
    """True once pid has exited (a zombie counts: its parent reaps it)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with open("/proc/%d/stat" % pid) as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return True
        except OSError:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


class RealServers(harness.TestCase):
    def start_berthd(self, **kw):
        """berthd, stopped with SIGTERM at cleanup even when the test fails, so it stops its
        services (the harness's close() kills berthd alone and would orphan them)."""
        b = self.berthd(**kw)
        self.addCleanup(b.stop)
        return b

    def stage(self, name):
        """Copies what NAME's unit runs into a fresh bin directory, with its port moved to a
        free one; returns (bin dir, port, the .socket text, the .service text)."""
        files, old_port, _, package, check = SERVERS[name]
        if not installed(check):
            self.skipTest("%s is not installed: apt-get install --no-install-recommends %s" % (
                package, package))
        port = harness.free_port()
        bindir = tempfile.mkdtemp(prefix="berth-bin-")
        self.addCleanup(shutil.rmtree, bindir, True)
        for f in files:
            dst = os.path.join(bindir, f)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copy2(os.path.join(UNITS, f), dst)
        conf = os.path.join(bindir, "lighttpd.conf")
        if os.path.exists(conf):
            with open(conf) as f:
                text = f.read()
            new = re.sub(r"(?m)^server\.port = %d$" % old_port, "server.port = %d" % port, text)
            self.assertNotEqual(new, text, "lighttpd.conf must set server.port = %d" % old_port)
            with open(conf, "w") as f:
                f.write(new)
        with open(os.path.join(UNITS, name + ".socket")) as f:
            sock = f.read()
        with open(os.path.join(UNITS, name + ".service")) as f:
            svc = f.read()
        new = sock.replace(":%d\n" % old_port, ":%d\n" % port)
        self.assertNotEqual(new, sock, "%s.socket must listen on port %d" % (name, old_port))
        return bindir, port, new, svc

    def check_answers(self, name, port, hosts):
        for host in hosts:
            status, body = get("http://%s:%d/" % (host, port))
            self.assertEqual(status, 200)
            self.assertRegex(body, EXPECT[name])

    def run_berthd(self, name):
        bindir, port, sock, svc = self.stage(name)
        self.units({name + ".socket": sock, name + ".service": svc})
        env = {"PATH": bindir + ":" + os.environ.get("PATH", "/usr/bin:/bin")}
        b = self.start_berthd(env=env)
        hosts = ["127.0.0.1"] + (["[::1]"] if "[::1]" in sock else [])
        self.check_answers(name, port, hosts)
        b.wait_log(r"%s\.service: .*-> running" % re.escape(name))
        if name in UP:
            b.wait_log_count(UP[name][0], UP[name][1])
        # berthd holds the sockets and the server shares them: it bound none of its own, and
        # every other holder descends from berthd
        listeners = [l for l in harness.ss("-ltn").splitlines()
                     if l.split()[3].endswith(":%d" % port)]
        self.assertEqual(len(listeners), len(hosts), "\n".join(listeners))
        held = holders(port)
        self.assertIn(b.proc.pid, held, "berthd must hold its sockets: %r" % held)
        served = [pid for pid in held if pid != b.proc.pid]
        self.assertTrue(served, "no server process shares berthd's socket: %r" % held)
        for pid in served:
            self.assertTrue(descends_from(pid, b.proc.pid),
                            "%s (pid %d) is not berthd's descendant" % (held[pid], pid))
        self.assertEqual(b.stop(), 0)
        for pid in served:
            self.assertTrue(wait_gone(pid), "%s (pid %d) outlived berthd's stop" % (
                held[pid], pid))

    def run_control(self, name):
        if not os.access(SSA, os.X_OK):
            self.skipTest("systemd-socket-activate is not installed")
        bindir, port, sock, _ = self.stage(name)
        listen = re.findall(r"(?m)^ListenStream=(\S+)$", sock)
        fdname = re.search(r"(?m)^FileDescriptorName=(\S+)$", sock)
        args = [SSA] + ["-l" + a for a in listen]
        if fdname:
            args.append("--fdname=" + ":".join([fdname.group(1)] * len(listen)))
        log = tempfile.TemporaryFile(mode="w+")
        self.addCleanup(log.close)
        proc = subprocess.Popen(args + [os.path.join(bindir, SERVERS[name][2])],
                                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)

        def stop():
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(harness.DEFAULT_TIMEOUT)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        self.addCleanup(stop)
        hosts = ["127.0.0.1"] + (["[::1]"] if "[::1]" in sock else [])
        try:
            self.check_answers(name, port, hosts)
        except Exception:
            log.seek(0)
            print("systemd-socket-activate log:\n" + log.read(), file=sys.stderr)
            raise
        stop()

    def test_python_systemd_control(self):
        self.run_control("hello-python")

    def test_python_systemd(self):
        self.run_berthd("hello-python")

    def test_lighttpd_control(self):
        self.run_control("lighttpd")

    def test_lighttpd(self):
        self.run_berthd("lighttpd")

    def test_gunicorn_control(self):
        self.run_control("gunicorn")

    def test_gunicorn(self):
        self.run_berthd("gunicorn")


if __name__ == "__main__":
    harness.main()
