"""Debian's own units, run as shipped (issue 10's acceptance), each served through berth's
socket: uuidd (uuid-runtime), cups (cups-daemon) in a private network namespace, the
template uwsgi-app@.socket (uwsgi-core) instantiated with `berthctl start`, and mpd's user
unit under `berthd --user`, where %t is $XDG_RUNTIME_DIR (a drop-in moves its TCP port 6600
to a free loopback port, and hands mpd the environment systemd's user manager would). The unit files
come from tests/data/debian-units/ untouched; the programs from Debian's packages, which the
README's test command installs."""
import os
import shutil
import socket
import subprocess

import harness

CORPUS = os.path.join(harness.SOURCE_ROOT, "tests", "data", "debian-units")


def have(path):
    return os.access(path, os.X_OK)


def served(path):
    """Whether something listens on the unix socket at path (a file left behind is not)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        try:
            s.connect(path)
            return True
        except OSError:
            return False


class RealUnits(harness.TestCase):
    def copy(self, pkg, *names, sub=""):
        d = self.units({})
        for n in names:
            shutil.copy(os.path.join(CORPUS, pkg, sub, n), d)
        return d

    def test_uuidd(self):
        if not harness.is_root():
            self.skipTest("needs root: uuidd.service has User=uuidd")
        if not have("/usr/sbin/uuidd"):
            self.skipTest("uuidd is not installed (Debian package uuid-runtime)")
        if served("/run/uuidd/request"):
            self.skipTest("a uuidd already serves /run/uuidd/request here")
        d = self.copy("uuid-runtime", "uuidd.socket", "uuidd.service")
        b = self.berthd(d)
        b.wait_log(r"uuidd\.socket: listening on /run/uuidd/request")
        p = subprocess.run(["/usr/sbin/uuidd", "-r"], capture_output=True, text=True,
                           timeout=harness.DEFAULT_TIMEOUT)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertRegex(p.stdout.strip(), r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-")
        pid = int(b.wait_log(r"uuidd\.service: dead -> running \(pid (\d+)\)").group(1))
        self.assertEqual(b.count_log(r"uuidd\.service: a client is waiting"), 1)
        with open("/proc/%d/status" % pid) as f:
            uid = [l.split()[1] for l in f if l.startswith("Uid:")][0]
        import pwd
        self.assertEqual(int(uid), pwd.getpwnam("uuidd").pw_uid)
        self.assertEqual(b.stop(), 0)

    def test_cups_in_a_network_namespace(self):
        """Debian 12's cups.socket has only the unix socket (cupsd itself closes a TCP
        socket its cupsd.conf does not name, so a drop-in adding one is of no use); cupsd
        runs in a network namespace of its own, where its own Listen localhost:631 is
        private."""
        if not harness.is_root():
            self.skipTest("needs root for a network namespace and cupsd")
        if not have("/usr/sbin/cupsd"):
            self.skipTest("cupsd is not installed (Debian package cups-daemon)")
        if served("/run/cups/cups.sock"):
            self.skipTest("a cupsd already serves /run/cups/cups.sock here")
        d = self.copy("cups-daemon", "cups.socket", "cups.service")
        # berthd, and so cupsd, in a network namespace of their own with loopback up.
        b = self.berthd_in_netns(d)
        b.wait_log(r"cups\.socket: listening on /run/cups/cups\.sock")
        # Its [Install] WantedBy=multi-user.target: started with berthd, once, not on demand.
        b.wait_log(r"cups\.service: dead -> start")
        p = subprocess.run(["nsenter", "-t", str(b.proc.pid), "-n", "curl", "-s", "-D", "-",
                            "-o", "/dev/null", "--unix-socket", "/run/cups/cups.sock",
                            "http://localhost/"], capture_output=True, text=True, timeout=60)
        self.assertRegex(p.stdout, r"^HTTP/1\.1 \d{3} ", p.stderr)
        self.assertIn("Server: CUPS/", p.stdout)
        b.wait_log(r"cups\.service: READY=1 from pid \d+")
        self.assertEqual(b.count_log(r"cups\.service: dead -> start"), 1)
        self.assertEqual(b.stop(), 0)

    def test_uwsgi_template_instance(self):
        """uwsgi-app@.socket, a template, instantiated with `berthctl start`: uwsgi takes the
        socket from LISTEN_FDS and answers HTTP on it. Its service asks for DynamicUser=
        with User=www-%i, an existing user then (as in systemd), so the test makes that user,
        and the app's ini file the unit names, and removes both after, with the
        StateDirectory=uwsgi/%i berth makes."""
        if not harness.is_root():
            self.skipTest("needs root: the instance runs as www-berthtest, its socket is "
                          "www-data's")
        if not have("/usr/bin/uwsgi"):
            self.skipTest("uwsgi is not installed (Debian package uwsgi-core)")
        sock = "/var/run/uwsgi/berthtest.socket"
        if served(sock):
            self.skipTest("something already serves %s" % sock)
        if subprocess.run(["id", "www-berthtest"], capture_output=True).returncode != 0:
            subprocess.run(["useradd", "-r", "-M", "-s", "/usr/sbin/nologin", "-g", "www-data",
                            "www-berthtest"], check=True)
            self.addCleanup(subprocess.run, ["userdel", "www-berthtest"])
        if not os.path.exists("/var/lib/uwsgi/berthtest"):
            self.addCleanup(shutil.rmtree, "/var/lib/uwsgi/berthtest", True)
        ini = "/etc/uwsgi/apps-available/berthtest.ini"
        os.makedirs(os.path.dirname(ini), exist_ok=True)
        with open(ini, "w") as f:
            f.write("[uwsgi]\nprotocol = http\nroute = .* return:200\n")
        self.addCleanup(os.unlink, ini)
        d = self.copy("uwsgi-core", "uwsgi-app@.socket", "uwsgi-app@.service")
        # A runtime directory www-berthtest can reach: uwsgi sends READY=1 to NOTIFY_SOCKET.
        top, _ = self.berthctl_for_others()
        b = self.berthd(d, runtime_dir=os.path.join(top, "run"))
        r = self.berthctl(b, "start", "uwsgi-app@berthtest.socket")
        self.assertEqual(r.returncode, 0, r.stderr)
        b.wait_log(r"uwsgi-app@berthtest\.socket: listening on %s" % sock)
        self.assertEqual(b.count_log(r"uwsgi-app@berthtest\.service: dead -> "), 0)
        p = subprocess.run(["curl", "-s", "-m", "20", "-o", "/dev/null", "-w", "%{http_code}",
                            "--unix-socket", sock, "http://localhost/"], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(p.stdout, "200", p.stderr)
        b.wait_log(r"uwsgi-app@berthtest\.service: READY=1 from pid \d+")
        self.assertEqual(b.count_log(r"uwsgi-app@berthtest\.service: dead -> start"), 1)
        self.assertEqual(b.stop(), 0)

    def test_mpd_user_unit(self):
        if not have("/usr/bin/mpd"):
            self.skipTest("mpd is not installed (Debian package mpd)")
        port = harness.free_port()
        runtime = os.path.join(self.dir, "xdg-runtime")
        config = os.path.join(self.dir, "config")
        music = os.path.join(self.dir, "music")
        for p in (runtime, os.path.join(config, "mpd"), music):
            os.makedirs(p)
        with open(os.path.join(config, "mpd", "mpd.conf"), "w") as f:
            f.write('music_directory "%s"\ndb_file "%s/db"\nstate_file "%s/state"\n'
                    'audio_output {\n type "null"\n name "null"\n}\n'
                    % (music, self.dir, self.dir))
        d = self.copy("mpd", "mpd.socket", "mpd.service", sub="user")
        os.makedirs(os.path.join(d, "mpd.socket.d"))
        with open(os.path.join(d, "mpd.socket.d", "test-port.conf"), "w") as f:
            f.write("[Socket]\nListenStream=\nListenStream=%%t/mpd/socket\n"
                    "ListenStream=127.0.0.1:%d\n" % port)
        # What systemd's user manager hands its services (berth does not yet: issue 11).
        os.makedirs(os.path.join(d, "mpd.service.d"))
        with open(os.path.join(d, "mpd.service.d", "test-env.conf"), "w") as f:
            f.write("[Service]\nEnvironment=HOME=%s XDG_CONFIG_HOME=%s XDG_RUNTIME_DIR=%s\n"
                    % (self.dir, config, runtime))
        env = {"XDG_RUNTIME_DIR": runtime, "XDG_CONFIG_HOME": config, "HOME": self.dir}
        b = self.berthd(d, extra_args=["--user"], env=env)
        path = os.path.join(runtime, "mpd", "socket")
        b.wait_log(r"mpd\.socket: listening on %s" % path)
        for family, addr in ((socket.AF_UNIX, path), (socket.AF_INET, ("127.0.0.1", port))):
            with socket.socket(family, socket.SOCK_STREAM) as s:
                s.settimeout(harness.DEFAULT_TIMEOUT)
                s.connect(addr)
                self.assertTrue(s.recv(64).startswith(b"OK MPD "))
        b.wait_log(r"mpd\.service: READY=1 from pid \d+")
        self.assertEqual(b.count_log(r"mpd\.service: dead -> start"), 1)
        self.assertEqual(b.stop(), 0)


if __name__ == "__main__":
    harness.main()
