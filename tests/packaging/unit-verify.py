"""systemd-analyze verify on both berthd.service files that meson builds (packaging/systemd):
the system unit, and the --user one with the user manager's rules. Their ExecStart= and
ExecReload= name where berthd and berthctl get installed, which verify wants to exist: the
test verifies copies that name the built programs instead, and lets verify find the
Documentation= pages among the built man pages (MANPATH). Needs no systemd as PID 1."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "integration"))
import harness  # noqa: E402

BUILD_ROOT = os.environ.get("BERTH_BUILD_ROOT", "")


class UnitVerify(unittest.TestCase):
    def setUp(self):
        if not shutil.which("systemd-analyze"):
            self.skipTest("systemd-analyze is not installed (Debian package systemd)")
        if not BUILD_ROOT or not os.path.isdir(BUILD_ROOT):
            self.skipTest("BERTH_BUILD_ROOT does not name the build directory: run through "
                          "meson test")
        self.tmp = tempfile.mkdtemp(prefix="berth-verify-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.man = self.man_tree()

    def man_tree(self):
        """MANPATH with the built man pages, or None when scdoc built none."""
        top = os.path.join(self.tmp, "man")
        found = False
        for page in ("berthd.8", "berthctl.1", "berth.socket.5", "berth.service.5"):
            src = os.path.join(BUILD_ROOT, "man", page)
            if os.path.exists(src):
                d = os.path.join(top, "man" + page.rsplit(".", 1)[1])
                os.makedirs(d, exist_ok=True)
                shutil.copy(src, d)
                found = True
        return top if found else None

    def copy_unit(self, rel, subdir):
        """The built unit at BUILD_ROOT/rel, its programs replaced by the built ones."""
        src = os.path.join(BUILD_ROOT, rel)
        if not os.path.exists(src):
            self.skipTest("%s was not built (-Dsystemd...unitdir=no?)" % src)
        with open(src) as f:
            text = f.read()
        berthd = harness.BERTHD
        berthctl = os.environ.get("BERTHCTL", "")
        self.assertTrue(os.access(berthd, os.X_OK) and os.access(berthctl, os.X_OK),
                        "BERTHD and BERTHCTL must name the built programs")
        # Each command line names berthd or berthctl by its install path.
        text, n_start = re.subn(r"^ExecStart=/\S*/berthd\b", "ExecStart=" + berthd, text,
                                flags=re.M)
        text, n_reload = re.subn(r"^ExecReload=/\S*/berthctl\b", "ExecReload=" + berthctl,
                                 text, flags=re.M)
        self.assertEqual((n_start, n_reload), (1, 1), "ExecStart=/ExecReload= in " + src)
        d = os.path.join(self.tmp, subdir)
        os.makedirs(d, exist_ok=True)
        dst = os.path.join(d, "berthd.service")
        with open(dst, "w") as f:
            f.write(text)
        return dst, text

    def verify(self, path, *extra, env=None):
        e = dict(os.environ)
        e.update(env or {})
        args = ["systemd-analyze", *extra, "verify"]
        if self.man:
            e["MANPATH"] = self.man
        else:
            args.append("--man=no")
        p = subprocess.run(args + [path], capture_output=True, text=True, env=e, timeout=60)
        out = (p.stdout + p.stderr).strip()
        print("systemd-analyze %s verify %s: exit %d\n%s" % (" ".join(extra), path,
                                                             p.returncode, out))
        self.assertEqual(p.returncode, 0, out)
        # A warning (an unknown key, a bad value ignored) exits 0 too: none may name our unit.
        self.assertNotIn("berthd", out)

    def test_system_unit(self):
        path, text = self.copy_unit(os.path.join("packaging", "berthd.service"), "system")
        for line in ("Type=notify", "KillMode=process", "WantedBy=multi-user.target"):
            self.assertIn(line + "\n", text)
        self.verify(path)

    def test_user_unit(self):
        path, text = self.copy_unit(os.path.join("packaging", "systemd", "user",
                                                 "berthd.service"), "user")
        self.assertRegex(text, r"(?m)^ExecStart=\S+ --user$")
        self.assertRegex(text, r"(?m)^ExecReload=\S+ --user daemon-reload$")
        # The user manager's rules; it wants a runtime directory of its own.
        run = os.path.join(self.tmp, "xdg-runtime")
        os.makedirs(run, mode=0o700)
        self.verify(path, "--user", env={"XDG_RUNTIME_DIR": run})


if __name__ == "__main__":
    harness.main()
