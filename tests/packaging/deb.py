"""The Debian package from end to end, as CI accepts it (issue 16): packaging/build-deb builds
berth_*.deb from this tree, lintian reports no error, apt-get installs it on this machine, the
installed berthd checks the installed (empty) units directory and the tree's units/, runs a
unit of the test's and answers the installed berthctl, systemd-analyze verifies the installed
berthd.service files, and a purge leaves nothing of the package behind. Needs root; skipped
when a berth package is installed already (the test never touches one it did not install).

The install starts no berthd: deb-systemd-invoke starts one only where systemd is PID 1, and
there the test puts a policy-rc.d that forbids it (unless one is there already)."""
import fcntl
import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "integration"))
import harness  # noqa: E402

PORTS = range(21000, 21100)  # this test's share of berth's test ports
APT_LOCK_TIMEOUT = 300       # seconds apt-get waits for another apt or dpkg to finish
# Held from the install to the purge: two runs of this test at once (two builds, two
# checkouts) would install and purge the one package under each other.
TEST_LOCK = "/run/lock/berth-deb-test.lock"
TEST_LOCK_TIMEOUT = 900
TOOLS = {  # program: the Debian package that has it
    "dpkg-buildpackage": "dpkg-dev",
    "dh": "debhelper",
    "fakeroot": "fakeroot",
    "lintian": "lintian",
    "apt-get": "apt",
    "meson": "meson",
}
SERVER = """\
# Answers each connection on the sockets berthd hands over (LISTEN_FDS) with one line.
import os, socket
assert int(os.environ["LISTEN_PID"]) == os.getpid()
s = socket.socket(fileno=3)
while True:
    c, _ = s.accept()
    c.sendall(b"berth-deb-ok\\n")
    c.close()
"""


def run(args, timeout=600, check=True, **kw):
    """Runs args, echoes its output (meson keeps it for a failure) and returns it."""
    print("+ " + " ".join(args), flush=True)
    p = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=timeout, **kw)
    out = p.stdout + p.stderr
    if out.strip():
        print(textwrap.indent(out.rstrip("\n"), "  "), flush=True)
    if check and p.returncode != 0:
        raise AssertionError("%s exited %d:\n%s" % (" ".join(args), p.returncode, out))
    return p


def installed(package):
    p = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package], capture_output=True,
                       text=True)
    return p.returncode == 0 and p.stdout.strip() != "" and \
        not p.stdout.strip().endswith("not-installed")


def free_port():
    """A port of PORTS that nothing listens on, on loopback in either family."""
    for port in PORTS:
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                s.bind(("127.0.0.1", port))
            with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s6:
                s6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                s6.bind(("::1", port))
        except OSError:
            continue
        return port
    raise AssertionError("no free port in %d..%d" % (PORTS[0], PORTS[-1]))


def berthd_processes():
    """pids whose program is the installed /usr/sbin/berthd."""
    pids = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.readlink("/proc/%s/exe" % pid).startswith("/usr/sbin/berthd"):
                pids.append(int(pid))
        except OSError:
            pass
    return pids


class DebPackage(unittest.TestCase):
    def setUp(self):
        if not harness.is_root():
            self.skipTest("needs root: it installs and purges the package with apt-get")
        for tool, package in TOOLS.items():
            if not shutil.which(tool):
                self.skipTest("%s is not installed (Debian package %s; ./dev.sh test installs "
                              "it)" % (tool, package))
        self.tmp = tempfile.mkdtemp(prefix="berth-deb-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        os.chmod(self.tmp, 0o755)  # apt reads the .deb as user _apt

    def apt_get(self, *args):
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        return run(["apt-get", "-o", "DPkg::Lock::Timeout=%d" % APT_LOCK_TIMEOUT, "-y", "-q",
                    *args], env=env, timeout=APT_LOCK_TIMEOUT + 300)

    def forbid_starts(self):
        """Where systemd is PID 1, a policy-rc.d that tells deb-systemd-invoke no."""
        policy = "/usr/sbin/policy-rc.d"
        if not os.path.isdir("/run/systemd/system") or os.path.lexists(policy):
            return
        with open(policy, "w") as f:
            f.write("#!/bin/sh\n# tests/packaging/deb.py: no daemon starts while it installs "
                    "berth\nexit 101\n")
        os.chmod(policy, 0o755)
        self.addCleanup(os.unlink, policy)

    def lock(self):
        """TEST_LOCK, waited for (bounded), released at cleanup."""
        os.makedirs(os.path.dirname(TEST_LOCK), exist_ok=True)
        f = open(TEST_LOCK, "w")
        self.addCleanup(f.close)
        deadline = time.monotonic() + TEST_LOCK_TIMEOUT
        while True:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    self.fail("another run of this test held %s for %d s" % (
                        TEST_LOCK, TEST_LOCK_TIMEOUT))
                time.sleep(0.5)  # another run is between its install and its purge

    def purge(self):
        if installed("berth"):
            self.apt_get("purge", "berth")

    def test_package(self):
        out = os.path.join(self.tmp, "out")
        # The build: no test inside it (nocheck), from a copy of the tracked files.
        run([os.path.join(harness.SOURCE_ROOT, "packaging", "build-deb"), out],
            env=dict(os.environ, DEB_BUILD_OPTIONS="nocheck"), timeout=900)
        debs = glob.glob(os.path.join(out, "berth_*.deb"))
        self.assertEqual(len(debs), 1, os.listdir(out))
        deb = debs[0]

        # lintian: no error; its warnings and notes are printed, not judged.
        changes = glob.glob(os.path.join(out, "berth_*.changes"))
        p = run(["lintian", "--display-info", *(changes or [deb])], check=False, timeout=600)
        errors = [line for line in (p.stdout + p.stderr).splitlines() if line.startswith("E:")]
        self.assertEqual(errors, [])

        # The install: only dependencies already on the machine, no berthd started.
        self.lock()
        if installed("berth"):
            self.skipTest("a berth package is installed on this machine already: this test "
                          "installs and purges its own, and leaves that one alone")
        self.addCleanup(self.purge)
        self.forbid_starts()
        before = berthd_processes()
        self.apt_get("install", "--no-install-recommends", deb)
        self.assertTrue(installed("berth"))
        files = run(["dpkg", "-L", "berth"]).stdout.split()
        for path in ("/usr/sbin/berthd", "/usr/bin/berthctl",
                     "/usr/lib/%s/berth/libberth-bind.so" % self.multiarch(),
                     "/lib/systemd/system/berthd.service", "/usr/lib/systemd/user/berthd.service",
                     "/usr/share/man/man8/berthd.8.gz", "/usr/share/man/man1/berthctl.1.gz",
                     "/usr/share/man/man5/berth.socket.5.gz",
                     "/usr/share/man/man5/berth.service.5.gz",
                     "/usr/share/bash-completion/completions/berthctl",
                     "/usr/share/zsh/vendor-completions/_berthctl",
                     "/usr/share/fish/vendor_completions.d/berthctl.fish",
                     "/etc/berth/units/README"):
            self.assertIn(path, files)
            self.assertTrue(os.path.exists(path), path)
        self.assertEqual(sorted(os.listdir("/etc/berth/units")), ["README"])
        self.assertEqual(berthd_processes(), before, "the install started a berthd")

        # --check: the installed, empty directory, then the tree's examples.
        p = run(["/usr/sbin/berthd", "--check"])
        self.assertRegex(p.stdout, r"(?m)^OK: 0 units\b")
        run(["/usr/sbin/berthd", "--check", "--units", os.path.join(harness.SOURCE_ROOT,
                                                                     "units")])
        run(["/usr/bin/berthctl", "check", "/etc/berth/units"])

        self.run_installed()
        self.verify_units()

        # The purge: every file gone, every directory of berth's own gone, and systemd's
        # enablement symlinks and deb-systemd-helper's records with them.
        self.apt_get("purge", "berth")
        self.assertFalse(installed("berth"))
        left = [f for f in files if os.path.lexists(f) and
                (not os.path.isdir(f) or "berth" in os.path.basename(f))]
        self.assertEqual(left, [])
        self.assertFalse(os.path.lexists("/etc/berth"))
        leftovers = []
        for top in ("/etc/systemd", "/var/lib/systemd/deb-systemd-helper-enabled",
                    "/var/lib/systemd/deb-systemd-user-helper-enabled"):
            for d, dirs, names in os.walk(top):
                leftovers += [os.path.join(d, n) for n in dirs + names if "berthd" in n]
        self.assertEqual(leftovers, [])

    @staticmethod
    def multiarch():
        return subprocess.run(["dpkg-architecture", "-qDEB_HOST_MULTIARCH"],
                              capture_output=True, text=True, check=True).stdout.strip()

    def run_installed(self):
        """The installed berthd on a unit of the test's; the installed berthctl reaches it."""
        units = os.path.join(self.tmp, "units")
        port = free_port()
        server = os.path.join(self.tmp, "answer.py")
        with open(server, "w") as f:
            f.write(SERVER)
        harness.write_units(units, {
            "answer.socket": """
                [Socket]
                ListenStream=127.0.0.1:%d
                """ % port,
            "answer.service": """
                [Service]
                ExecStart=/usr/bin/python3 %s
                """ % server,
        })
        harness.BERTHD = "/usr/sbin/berthd"
        b = harness.Berthd(units, runtime_dir=os.path.join(self.tmp, "run"))
        self.addCleanup(b.close)
        ctl = ["/usr/bin/berthctl", "--runtime-dir", b.runtime_dir, "--no-color"]

        p = run(ctl + ["list-sockets"])
        self.assertRegex(p.stdout, r"127\.0\.0\.1:%d\s+TCP\b.*answer\.socket" % port)
        with harness.connect("127.0.0.1", port) as c:
            self.assertEqual(c.makefile("rb").readline(), b"berth-deb-ok\n")
        p = run(ctl + ["status", "answer.service"])
        self.assertIn("active (running)", p.stdout)
        self.assertEqual(b.stop(), 0)

    def verify_units(self):
        """systemd-analyze verify of the installed units, their programs and pages installed."""
        if not shutil.which("systemd-analyze"):
            print("systemd-analyze is not installed (Debian package systemd): not verified")
            return
        for extra, path, env in (
                ([], "/lib/systemd/system/berthd.service", {}),
                (["--user"], "/usr/lib/systemd/user/berthd.service",
                 {"XDG_RUNTIME_DIR": os.path.join(self.tmp, "xdg")})):
            if env:
                os.makedirs(env["XDG_RUNTIME_DIR"], mode=0o700, exist_ok=True)
            p = run(["systemd-analyze", *extra, "verify", path], check=False,
                    env=dict(os.environ, **env), timeout=120)
            self.assertEqual(p.returncode, 0)
            self.assertNotIn("berthd", p.stdout + p.stderr)


if __name__ == "__main__":
    harness.main()
