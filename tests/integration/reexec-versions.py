"""daemon-reexec between two builds (issue 14): this berthd executes an older one (a build of
OLD_COMMIT, the first commit whose daemon-reexec keeps everything, made from the repository's
history into the build directory once) with `--binary`, and that one executes this one again,
under load. Both directions keep every socket and every process: no request fails, pids and
status stay, the fd store keeps its connection. Skips, saying so, without git history."""
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fdstore  # noqa: E402
import harness  # noqa: E402

OLD_COMMIT = "0ec3de391c505f91d974113b925a159c66a3c423"
ROUNDS = 3  # old, then new again, each round

KEEP = fdstore.SERVICE.replace('"web.socket"', '"keep.socket"')


def build_old(source, commit, into):
    """berthd of commit, built once into `into` (reused while it exists)."""
    exe = os.path.join(into, "build", "berthd")
    if os.access(exe, os.X_OK):
        return exe
    tmp = into + ".tmp"
    shutil.rmtree(tmp, True)
    os.makedirs(tmp)
    archive = subprocess.run(["git", "-C", source, "archive", "--format=tar", commit],
                             capture_output=True, timeout=120, check=True)
    subprocess.run(["tar", "-x", "-C", tmp], input=archive.stdout, check=True, timeout=120)
    subprocess.run(["meson", "setup", os.path.join(tmp, "build"), tmp], check=True,
                   capture_output=True, timeout=300)
    subprocess.run(["ninja", "-C", os.path.join(tmp, "build"), "berthd"], check=True,
                   capture_output=True, timeout=600)
    shutil.rmtree(into, True)
    os.rename(tmp, into)
    return exe


class ReexecVersions(harness.TestCase):
    def old_berthd(self):
        source = os.environ.get("BERTH_SOURCE_ROOT", "")
        if not shutil.which("git") or subprocess.run(
                ["git", "-C", source or "/nonexistent", "rev-parse", "--git-dir"],
                capture_output=True).returncode != 0:
            self.skipTest("no git checkout at BERTH_SOURCE_ROOT (%r) to build the old berthd "
                          "from" % source)
        full = subprocess.run(["git", "-C", source, "rev-parse", "--verify", "--quiet",
                               OLD_COMMIT[:7] + "^{commit}"], capture_output=True, text=True)
        if full.returncode != 0:
            self.skipTest("commit %s is not in this clone's history (a shallow clone?)"
                          % OLD_COMMIT[:7])
        into = os.path.join(os.path.dirname(os.path.abspath(harness.BERTHD)),
                            "old-berthd-" + OLD_COMMIT[:7])
        return build_old(source, full.stdout.strip(), into)

    def status(self, b):
        r = self.berthctl(b, "status", "--json", "-n", "200")
        self.assertIn(r.returncode, (0, 3), r.stderr)
        return {u["name"]: u for u in json.loads(r.stdout)}

    def test_old_and_back(self):
        old = self.old_berthd()
        new = os.path.realpath(harness.BERTHD)
        script = os.path.join(self.dir, "keep.py")
        with open(script, "w") as f:
            f.write(KEEP)
        wport, kport = harness.free_port(), harness.free_port()
        d = self.units({
            "web.socket": "[Socket]\nListenStream=127.0.0.1:%d\n" % wport,
            "web.service": "[Service]\nType=notify\nExecStart=%s\n"
                           % self.executable("BENCH_SERVER"),
            "keep.socket": "[Socket]\nListenStream=127.0.0.1:%d\n" % kport,
            "keep.service": "[Service]\nExecStart=/usr/bin/python3 %s\n"
                            "FileDescriptorStoreMax=4\nRestart=always\nRestartSec=0\n" % script,
        }, subdir="u")
        b = self.berthd(d)
        load = self.load(wport)
        b.wait_log(r"web\.service: start -> running")
        c = harness.connect("127.0.0.1", kport, timeout=20)
        f = c.makefile("rb")
        self.assertTrue(f.readline().startswith(b"hello from "))
        b.wait_log(r"keep\.service\[\d+\]: stored")
        before = self.status(b)

        n = 0
        for _ in range(ROUNDS):
            for binary in (old, new):
                r = self.berthctl(b, "daemon-reexec", "--binary", binary)
                self.assertEqual(r.returncode, 0, "to %s: %s" % (binary, r.stdout + r.stderr))
                n += 1
                b.wait_log_count(r"daemon-reexec: state read", n)
                self.assertEqual(os.path.realpath("/proc/%d/exe" % b.proc.pid), binary)
                self.assertEqual(self.status(b), before)
        res = load.stop()
        print("load: %s" % res)
        self.assertGreater(res["ok"], 0, res)
        for k in harness.LOAD_FAILURES:
            self.assertEqual(res[k], 0, "%s: %s" % (k, res))
        # The stored connection, through every build: the next process resumes it.
        os.kill(before["keep.service"]["main_pid"], 15)
        self.assertTrue(f.readline().startswith(b"resumed by "))
        c.sendall(b"still here\n")
        self.assertEqual(f.readline(), b"echo still here\n")
        f.close()
        c.close()
        self.assertEqual(b.stop(), 0)


if __name__ == "__main__":
    harness.main()
