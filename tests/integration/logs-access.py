"""A service's output is for root, berthd's uid, the user it runs as (User=) and group adm, as
the journal decides: another local user gets "permission denied" from `berthctl logs`, sees
`status` without the last lines (and a hint why), and the refusal is logged. Output often holds
secrets; status, list-units and list-sockets stay open to everyone."""
import grp
import os
import pwd
import shutil
import subprocess
import sys

import harness

SECRET = "password=hunter2"


class LogsAccess(harness.TestCase):
    def as_user(self, b, exe, user, groups, *args):
        """berthctl as user (primary group nogroup) with these supplementary groups."""
        cmd = ["setpriv", "--reuid=" + user, "--regid=nogroup",
               "--groups=" + (",".join(groups) if groups else ""), "--"] if groups else \
              ["setpriv", "--reuid=" + user, "--regid=nogroup", "--clear-groups", "--"]
        cmd += [exe, "--runtime-dir", b.runtime_dir] + list(args)
        p = subprocess.run(cmd, capture_output=True, text=True, cwd="/",
                           timeout=harness.DEFAULT_TIMEOUT)
        sys.stderr.write("$ %s -> %d\n%s%s" % (" ".join(cmd), p.returncode, p.stdout, p.stderr))
        return p

    def test_who_reads_output(self):
        if not harness.is_root():
            self.skipTest("needs root to run berthctl as other users")
        if not shutil.which("setpriv"):
            self.skipTest("setpriv (util-linux) is not installed")
        try:
            pwd.getpwnam("nobody")
            grp.getgrnam("nogroup")
            grp.getgrnam("adm")
        except KeyError:
            self.skipTest("needs user nobody and groups nogroup and adm")
        # Reachable by nobody: the runtime directory and a copy of berthctl.
        top, exe = self.berthctl_for_others()
        say = f"[Service]\nExecStart=/bin/sh -c 'echo {SECRET}; exec sleep 600'\n"
        self.units({"secret.service": say,
                    "mine.service": say + "User=nobody\n"})
        b = self.berthd(runtime_dir=os.path.join(top, "run"))
        b.wait_log(r"secret\.service\[\d+\]: " + SECRET)
        b.wait_log(r"mine\.service\[\d+\]: " + SECRET)

        # Another user: refused, told why, and the refusal logged.
        p = self.as_user(b, exe, "nobody", [], "logs", "secret")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("permission denied", p.stderr)
        self.assertNotIn(SECRET, p.stdout + p.stderr)
        b.wait_log(r"Refused GetLogs\('secret(\.service)?'\) from uid %d" %
                   pwd.getpwnam("nobody").pw_uid)
        p = self.as_user(b, exe, "nobody", [], "status", "secret")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertRegex(p.stdout, r"(?m)^ *Main PID: \d+")
        self.assertNotIn(SECRET, p.stdout)
        self.assertIn("Hint: its output is not shown: permission denied", p.stdout)
        p = self.as_user(b, exe, "nobody", [], "--json", "status", "secret")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertNotIn(SECRET, p.stdout)

        # The same user in group adm reads it, as does the unit's own User=, and root.
        p = self.as_user(b, exe, "nobody", ["adm"], "logs", "secret")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(SECRET, p.stdout)
        p = self.as_user(b, exe, "nobody", [], "logs", "mine")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(SECRET, p.stdout)
        p = self.berthctl(b, "logs", "secret")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(SECRET, p.stdout)
        self.assertEqual(b.stop(), 0)


if __name__ == "__main__":
    harness.main()
