"""berthd --check warns when a command's program cannot be found or run: an absolute path that
is missing, not a file or not executable, or a bare name not in the PATH the service will
get (its Environment=PATH=, else berthd's). Each warning names file:line and the key; the exit
status stays 0 and the summary counts the warnings. The "-" prefix makes it an info line (the
program is skipped at start, as in systemd); "@", "+", "!" and ":" change nothing; specifiers
are expanded before the look-up."""
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def check(unit_dir, path=None):
    env = dict(os.environ)
    if path is not None:
        env["PATH"] = path
    return subprocess.run([harness.BERTHD, "--check", "--units", unit_dir],
                          capture_output=True, text=True, timeout=30, env=env)


class CheckExec(harness.TestCase):
    def setUp(self):
        super().setUp()
        self.bin = tempfile.mkdtemp(prefix="check-exec-bin-")
        self.addCleanup(__import__("shutil").rmtree, self.bin, True)
        for name, mode in (("prog", 0o755), ("noexec", 0o644)):
            p = os.path.join(self.bin, name)
            with open(p, "w") as f:
                f.write("#!/bin/sh\nexit 0\n")
            os.chmod(p, mode)
        os.mkdir(os.path.join(self.bin, "adir"))

    def warnings(self, r):
        return [line for line in r.stderr.splitlines() if "ignoring" in line]

    def test_missing_programs_warn(self):
        b = self.bin
        d = self.units({
            "a.service": f"""
                [Service]
                ExecStartPre=/bin/true
                ExecStart=no-such-program-berth --flag
                ExecStop={b}/missing
                """,
            "b.service": f"""
                [Service]
                ExecStart={b}/noexec
                ExecReload={b}/adir
                ExecStopPost=/bin/true
                """,
            "c.service": f"""
                [Service]
                ExecCondition=+{b}/prog
                ExecStart=@{b}/prog shown-name
                ExecStartPost=!!prog
                Environment=PATH={b}
                """,
            "d.socket": """
                [Socket]
                ListenStream=127.0.0.1:22001
                ExecStartPre=no-such-hook-berth
                """,
            "d.service": "[Service]\nExecStart=/bin/sleep 1000\n",
            "e.service": f"""
                [Service]
                ExecStartPre=-{b}/missing-optional
                ExecStart=-:%N-is-missing
                """,
        })
        r = check(d)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        w = self.warnings(r)
        expected = [
            (r"a\.service:3: ExecStart=: 'no-such-program-berth' is not found in PATH "
             r"\([^)]*/usr/bin[^)]*\), so a\.service cannot start"),
            rf"a\.service:4: ExecStop=: '{re.escape(b)}/missing': No such file or directory",
            rf"b\.service:2: ExecStart=: '{re.escape(b)}/noexec' is not executable",
            rf"b\.service:3: ExecReload=: '{re.escape(b)}/adir' is not a regular file",
            r"d\.socket:3: ExecStartPre=: 'no-such-hook-berth' is not found in PATH",
        ]
        for rx in expected:
            self.assertEqual(sum(1 for line in w if re.search(rx, line)), 1,
                             "%r in:\n%s" % (rx, r.stderr))
        self.assertEqual(len(w), len(expected), r.stderr)
        # c.service: found through its own PATH, with every prefix; e.service: "-" is info.
        self.assertNotIn("c.service", "\n".join(w))
        self.assertRegex(r.stderr, rf"e\.service:2: ExecStartPre=: '{re.escape(b)}/"
                                   r"missing-optional': .*'-' prefix makes e\.service skip it")
        # The specifier %N was expanded before the look-up.
        self.assertRegex(r.stderr, r"e\.service:3: ExecStart=: 'e-is-missing' is not found")
        self.assertRegex(r.stdout, r"OK: .*, 0 errors, 5 warnings")

    def test_path_of_berthd(self):
        """A bare name is looked up in berthd's own PATH: found there, no warning."""
        d = self.units({"p.service": "[Service]\nExecStart=prog\n"})
        r = check(d)
        self.assertEqual(len(self.warnings(r)), 1, r.stderr)
        r = check(d, path=self.bin + ":/usr/bin:/bin")
        self.assertEqual(r.returncode, 0)
        self.assertEqual(self.warnings(r), [], r.stderr)
        self.assertRegex(r.stdout, r"0 errors, 0 warnings")

    def test_errors_still_fail(self):
        d = self.units({"x.socket": "[Socket]\nListenStream=::1:8080\n",
                        "x.service": "[Service]\nExecStart=missing-berth-x\n"})
        r = check(d)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"FAILED: .*, 1 warning")


if __name__ == "__main__":
    harness.main()
