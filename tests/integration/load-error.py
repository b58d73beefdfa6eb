"""A unit that fails to load keeps the reason, from its file and line, and says it where a
user looks: `berthctl status` (Error:), --json (load_error), list-units, and the refusal of
an action on it. Three kinds: an invalid value (the unit never loads), a socket whose port
another unit already takes (fails the whole-set check), and a socket option the kernel refuses
(fails to bind; a port held by another process is retried instead, bind-retry.py). The other
units load and run."""
import json
import os
import subprocess
import sys

import harness

BERTHCTL = os.environ.get("BERTHCTL", "")


class LoadError(harness.TestCase):
    def ctl(self, b, *args):
        p = subprocess.run([BERTHCTL, "--runtime-dir", b.runtime_dir] + list(args),
                           capture_output=True, text=True, timeout=harness.DEFAULT_TIMEOUT)
        sys.stderr.write("$ berthctl %s -> %d\n%s%s" % (" ".join(args), p.returncode, p.stdout,
                                                         p.stderr))
        return p

    def test_reasons(self):
        if not BERTHCTL or not os.access(BERTHCTL, os.X_OK):
            self.fail("BERTHCTL is not set to an executable berthctl")
        port, other = harness.free_port(), harness.free_port()
        svc = "[Service]\nExecStart=/bin/sleep 60\n"
        d = self.units({
            "bad.service": "[Service]\nExecStart=/bin/true\nRestart=sometimes\n",
            "a.socket": f"[Socket]\nListenStream=127.0.0.1:{port}\n", "a.service": svc,
            "b.socket": f"[Socket]\nListenStream=127.0.0.1:{port}\n", "b.service": svc,
            "nodev.socket": f"[Socket]\nListenStream=127.0.0.1:{other}\n"
                            "BindToDevice=nosuchdev0\n", "nodev.service": svc,
        })
        b = self.berthd(d)

        # The invalid value: file and line, key and value.
        p = self.ctl(b, "status", "bad.service")
        self.assertNotEqual(p.returncode, 0)
        self.assertRegex(p.stdout, r"(?m)^ *Loaded: failed")
        self.assertRegex(p.stdout, r"(?m)^ *Error: %s:3: .*Restart=.*sometimes" %
                         os.path.join(d, "bad.service"))
        # The overlap: the later unit, with the earlier one named.
        st = json.loads(self.ctl(b, "--json", "status", "b.socket").stdout)[0]
        self.assertEqual(st["load_state"], "failed")
        self.assertIn(os.path.join(d, "b.socket") + ":2:", st["load_error"])
        self.assertIn("a.socket", st["load_error"])
        # The option the kernel refuses: which one.
        st = json.loads(self.ctl(b, "--json", "status", "nodev.socket").stdout)[0]
        self.assertIn(os.path.join(d, "nodev.socket") + ":2:", st["load_error"])
        self.assertIn("BindToDevice=nosuchdev0", st["load_error"])
        # An action on it says why, not "see the log".
        p = self.ctl(b, "start", "bad.service")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("bad.service:3:", p.stderr)
        # list-units shows each as failed; the good unit loads and listens.
        p = self.ctl(b, "list-units")
        for name in ("bad.service", "b.socket", "nodev.socket"):
            self.assertRegex(p.stdout, r"(?m)^%s +failed " % name.replace(".", r"\."))
        self.assertRegex(p.stdout, r"(?m)^a\.socket +loaded +active +listening")
        self.assertEqual(b.stop(), 0)


if __name__ == "__main__":
    harness.main()
