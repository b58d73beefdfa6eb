"""Debian 12's own socket units (tests/data/debian-units/, gathered from the archive by
tests/debian-units/regenerate), as a new user would try them: each socket unit alone in a
directory with its service (and their drop-ins) loads under `berthd --check` with no error,
templates show in the plan as templates; all system units in one directory fail only on the
real overlaps between packages, each reported naming both units; the user units load with
--user.

A few do not load yet, each for a reason named here: syslog.socket has no service in Debian
(systemd's syslog.socket is for whatever syslog daemon is installed)."""
import os
import re
import shutil
import subprocess
import tempfile

import harness

CORPUS = os.path.join(harness.SOURCE_ROOT, "tests", "data", "debian-units")

# unit: the error it must fail with, and why that is expected.
EXPECTED_FAILURES = {
    "syslog.socket": ("its service syslog.service does not exist",
                      "Debian ships no syslog.service beside it"),
}

# The overlaps between packages, all units in one directory: (port, the two units).
OVERLAPS = [
    (119, {"inn.socket", "leafnode.socket"}),
    (53, {"rbldnsd.socket", "dnss.socket"}),
    (80, {"tangd.socket", "micro-httpd.socket"}),
    (22, {"tinysshd.socket", "ssh.socket"}),
    # sane-utils' saned and scanbd's scanbm both serve the SANE network port (once saned
    # loads: its StandardOutput=append: works since issue 11's output files)
    (6566, {"saned.socket", "scanbm.socket"}),
]


def service_of(path):
    """The service a socket unit file activates, as systemd names it."""
    svc, accept = None, False
    with open(path, errors="replace") as f:
        for line in f:
            m = re.match(r"\s*Service\s*=\s*(\S+)", line)
            if m:
                svc = re.sub(r"@%i\.", "@.", m.group(1))
            if re.match(r"\s*Accept\s*=\s*(yes|true|1|on)\s*$", line, re.I):
                accept = True
    name = os.path.basename(path)[:-len(".socket")]
    return svc or name + ("@.service" if accept else ".service")


def socket_units(user=False):
    """(package directory, socket file name) of every system (or user) socket unit."""
    for pkg in sorted(os.listdir(CORPUS)):
        d = os.path.join(CORPUS, pkg, "user") if user else os.path.join(CORPUS, pkg)
        if os.path.isdir(d):
            for f in sorted(os.listdir(d)):
                if f.endswith(".socket"):
                    yield d, f


def copy_unit(src, name, dst):
    for extra in (name, name + ".d"):
        p = os.path.join(src, extra)
        if os.path.isdir(p):
            shutil.copytree(p, os.path.join(dst, extra), dirs_exist_ok=True)
        elif os.path.isfile(p):
            shutil.copy(p, dst)


def check(directory, user=False, env=None):
    args = [harness.BERTHD, "--check", "--units", directory] + (["--user"] if user else [])
    return subprocess.run(args, capture_output=True, text=True, env=env,
                          timeout=harness.DEFAULT_TIMEOUT)


class DebianUnits(harness.TestCase):
    def setUp(self):
        super().setUp()
        if not os.path.isdir(CORPUS):
            self.fail("no corpus at %s: run tests/debian-units/regenerate" % CORPUS)

    def test_each_alone(self):
        n, loaded, templates = 0, 0, 0
        problems = []
        for d, f in socket_units():
            n += 1
            t = tempfile.mkdtemp(prefix="berth-debian-", dir=self.dir)
            copy_unit(d, f, t)
            copy_unit(d, service_of(os.path.join(d, f)), t)
            p = check(t)
            out = p.stdout + p.stderr
            if f in EXPECTED_FAILURES:
                want, why = EXPECTED_FAILURES[f]
                if p.returncode == 0 or want not in out:
                    problems.append("%s: expected to fail with '%s' (%s), got:\n%s"
                                    % (f, want, why, out))
                continue
            if p.returncode != 0:
                problems.append("%s: does not load:\n%s" % (f, out))
                continue
            loaded += 1
            if "@." in f:
                templates += 1
                if "%s: template;" % f not in p.stdout:
                    problems.append("%s: not shown as a template:\n%s" % (f, p.stdout))
        print("debian-units: %d of %d socket units load alone, %d templates; %d expected "
              "failures" % (loaded, n, templates, len(EXPECTED_FAILURES)))
        self.assertEqual(problems, [], "\n\n".join(problems))
        self.assertGreaterEqual(n, 110)
        self.assertGreaterEqual(templates, 5)

    def test_all_together(self):
        t = os.path.join(self.dir, "all")
        os.makedirs(t)
        for pkg in sorted(os.listdir(CORPUS)):
            d = os.path.join(CORPUS, pkg)
            if not os.path.isdir(d):
                continue
            for f in os.listdir(d):
                if f != "user":
                    copy_unit(d, f, t)
        p = check(t)
        out = p.stdout + p.stderr
        self.assertEqual(p.returncode, 1, out[-3000:])
        overlaps = [l for l in out.splitlines() if " overlaps " in l]
        for port, units in OVERLAPS:
            found = [l for l in overlaps if all(u in l for u in units) and
                     re.search(r":%d\b" % port, l)]
            self.assertEqual(len(found), 1, "the overlap on %d between %s:\n%s"
                             % (port, " and ".join(sorted(units)), "\n".join(overlaps)))
        self.assertEqual(len(overlaps), len(OVERLAPS), "\n".join(overlaps))
        # nothing else fails but syslog.socket, which has no service in Debian
        m = re.search(r"^FAILED: .*, (\d+) errors?, ", p.stdout, re.M)
        self.assertIsNotNone(m, p.stdout[-2000:])
        self.assertEqual(int(m.group(1)), len(OVERLAPS) + 1, out[-4000:])
        self.assertIn("syslog.socket: its service syslog.service does not exist", out)

    def test_user_units(self):
        runtime = os.path.join(self.dir, "xdg-runtime")
        os.makedirs(runtime)
        env = dict(os.environ, XDG_RUNTIME_DIR=runtime, HOME=self.dir)
        problems, n = [], 0
        for d, f in socket_units(user=True):
            n += 1
            t = tempfile.mkdtemp(prefix="berth-debian-user-", dir=self.dir)
            copy_unit(d, f, t)
            copy_unit(d, service_of(os.path.join(d, f)), t)
            p = check(t, user=True, env=env)
            if p.returncode != 0:
                problems.append("%s: does not load with --user:\n%s" % (f, p.stdout + p.stderr))
            elif ("%t" in open(os.path.join(d, f)).read() and "@." not in f and
                  "skipped, not bound" not in p.stdout and runtime not in p.stdout):
                problems.append("%s: %%t is not %s:\n%s" % (f, runtime, p.stdout))
        self.assertEqual(problems, [], "\n\n".join(problems))
        self.assertGreaterEqual(n, 15)


if __name__ == "__main__":
    harness.main()
