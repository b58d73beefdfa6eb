"""StandardOutput=/StandardError= file:, append: and truncate: (systemd.exec(5)): the service's
output goes to the file, written from its start, appended, or after emptying it; both to the
same file share one open file; StandardError=inherit goes wherever standard output goes;
tty writes the terminal TTYPath= names, without making it the controlling terminal."""
import os
import select
import time

import harness

SCRIPT = "/bin/sh -c 'echo out-$$; echo err-$$ >&2'"


class OutputFiles(harness.TestCase):
    def run_once(self, b, name):
        before = b.count_log(r"%s\.service: \S+ -> dead" % name)
        r = self.berthctl(b, "start", name)
        self.assertEqual(r.returncode, 0, r.stderr)
        b.wait_log_count(r"%s\.service: \S+ -> dead" % name, before + 1)

    def test_files(self):
        path = lambda n: os.path.join(self.dir, n)
        with open(path("trunc.log"), "w") as f:
            f.write("old line that goes\n")
        with open(path("file.log"), "w") as f:
            f.write("0123456789" * 10 + "\n")
        unit = "[Service]\nType=oneshot\nExecStart=%s\n" % SCRIPT
        d = self.units({
            "app.service": unit + "StandardOutput=append:%s\nStandardError=inherit\n"
                           % path("app.log"),
            "both.service": unit + "StandardOutput=append:%s\nStandardError=append:%s\n"
                            % (path("both.log"), path("both.log")),
            "trunc.service": unit + "StandardOutput=truncate:%s\n" % path("trunc.log"),
            "file.service": unit + "StandardOutput=file:%s\nStandardError=null\n"
                            % path("file.log"),
        })
        b = self.berthd(d)
        for n in ("app", "both", "trunc", "file"):
            b.wait_log(r"%s\.service: \S+ -> dead" % n)
        self.run_once(b, "app")
        with open(path("app.log")) as f:
            lines = f.read().split()
        # two runs appended, each with its stderr after its stdout (inherit: the same file)
        self.assertEqual(len(lines), 4, lines)
        self.assertEqual([l.split("-")[0] for l in lines], ["out", "err", "out", "err"])
        with open(path("both.log")) as f:
            self.assertEqual([l.split("-")[0] for l in f.read().split()], ["out", "err"])
        with open(path("trunc.log")) as f:
            text = f.read()
        self.assertNotIn("old line", text)
        self.assertEqual([l.split("-")[0] for l in text.split()], ["out"])
        with open(path("file.log")) as f:
            text = f.read()
        # written from the start, over what was there, not truncated
        self.assertTrue(text.startswith("out-"), text)
        self.assertIn("0123456789", text)
        # in the log only trunc's standard error, which it left at journal
        self.assertEqual(b.count_log(r"\[\d+\]: (out|err)-"), 1)
        self.assertEqual(b.count_log(r"trunc\.service\[\d+\]: err-"), 1)
        self.assertEqual(b.stop(), 0)

    def test_tty(self):
        master, slave = os.openpty()
        self.addCleanup(os.close, master)
        self.addCleanup(os.close, slave)
        tty = os.ttyname(slave)
        # field 7 of /proc/PID/stat is the controlling terminal's device number, 0 for none
        d = self.units({"t.service": "[Service]\nType=oneshot\nStandardOutput=tty\n"
                                     "StandardError=tty\nTTYPath=%s\nExecStart=/bin/sh -c "
                                     "'echo out-tty ctty=$(cut -d\" \" -f7 /proc/$$$$/stat); "
                                     "echo err-tty >&2'\n" % tty})
        b = self.berthd(d)
        b.wait_log(r"t\.service: \S+ -> dead")
        text, deadline = b"", time.monotonic() + harness.DEFAULT_TIMEOUT
        while b"err-tty" not in text and time.monotonic() < deadline:
            if select.select([master], [], [], 1.0)[0]:
                text += os.read(master, 4096)
        self.assertIn(b"out-tty ctty=0", text)
        self.assertIn(b"err-tty", text)
        self.assertEqual(b.count_log(r"t\.service\[\d+\]"), 0)
        p = harness.run_check(self.units({"r.service": "[Service]\nExecStart=/bin/true\n"
                                                       "TTYPath=tty1\n"}, subdir="rel"))
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("r.service:3: Invalid value for TTYPath=: 'tty1'", p.stdout + p.stderr)
        self.assertEqual(b.stop(), 0)

    def test_bad_path(self):
        d = self.units({"x.service": "[Service]\nExecStart=/bin/true\n"
                                     "StandardOutput=append:relative.log\n"})
        p = harness.run_check(d)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("x.service:3: Invalid value for StandardOutput=: 'append:relative.log' "
                      "(expected an absolute path after the colon)", p.stdout + p.stderr)


if __name__ == "__main__":
    harness.main()
