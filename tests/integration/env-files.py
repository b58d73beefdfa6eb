"""EnvironmentFile= and Environment= as systemd 252 reads them (issue 11, items 4, 5 and 15a):
lines of an environment file that systemd skips (shell's "export X=1", a line without '=', an
invalid name) are skipped with one warning each naming the file and line, and the service
starts with the good variables; an invalid Environment= word is skipped with a warning naming
file:line, and the unit and its socket load and run; an ExecStart= word with an escape systemd
does not know ("e\\ f") keeps it as written, as one word."""
import os

import harness

ENV_FILE = """\
# an environment file written for a shell
GOOD=1
export EXPORTED=2
BAD LINE
1BAD=3
  SPACED = "quoted value"
A B=4
=5
LAST=ok
"""

SHOW = ("/bin/sh -c 'echo env GOOD=$GOOD EXPORTED=$EXPORTED SPACED=$SPACED LAST=$LAST "
        "X=$X Y=$Y Z=$Z; for a; do echo \"arg [$a]\"; done' sh e\\ f \\d+ '\\;'")


class EnvFiles(harness.TestCase):
    def test_bad_lines_skipped(self):
        env_file = os.path.join(self.dir, "app.env")
        with open(env_file, "w") as f:
            f.write(ENV_FILE)
        port = harness.free_port()
        d = self.units({
            "app.socket": "[Socket]\nListenStream=127.0.0.1:%d\n" % port,
            "app.service": "[Service]\nEnvironmentFile=%s\n"
                           "Environment=X=1 ;notcomment =x 1A=2 NOEQ Y=2\n"
                           "Environment=Z=3 'open\n"
                           "ExecStart=%s\n" % (env_file, SHOW),
        })
        b = self.berthd(d)
        # the unit loaded with warnings naming file:line, and its socket listens
        unit = os.path.join(d, "app.service")
        for word in (";notcomment", "=x", "1A=2", "NOEQ"):
            b.wait_log(r"%s:3: .*'%s'.*, ignoring$" % (unit, word))
        b.wait_log(r"%s:4: Invalid quoting .*'open'" % unit)
        b.wait_log(r"%s:5: Unknown escape sequence in ExecStart= word 'e\\ f'" % unit)
        s = harness.connect("127.0.0.1", port)
        self.addCleanup(s.close)
        m = b.wait_log(r"app\.service\[\d+\]: env (.*)$")
        fields = dict(kv.split("=", 1) for kv in m.group(1).split(" ") if "=" in kv)
        self.assertEqual(fields["GOOD"], "1")
        self.assertEqual(fields["EXPORTED"], "")
        self.assertEqual(fields["SPACED"], "quoted")  # $SPACED splits in sh's echo
        self.assertEqual(fields["LAST"], "ok")
        self.assertEqual((fields["X"], fields["Y"], fields["Z"]), ("1", "2", "3"))
        # e\ f is one word with its backslash, as in systemd; so is \d+; '\;' is \;
        b.wait_log_count(r"app\.service\[\d+\]: arg ", 3)
        args = [l.split("arg ", 1)[1] for l in b.log().split("\n")
                if "app.service[" in l and "]: arg " in l]
        self.assertEqual(args, ["[e\\ f]", "[\\d+]", "[\\;]"])
        # one warning per bad line of the file, each naming it and its line
        for line in (3, 4, 5, 7, 8):
            self.assertEqual(b.count_log(r"app\.service: %s:%d: .*ignoring$" % (env_file, line)),
                             1, "line %d" % line)
        self.assertEqual(b.count_log(r"app\.service: %s:\d+: " % env_file), 5)
        self.assertEqual(b.count_log(r"app\.service: .*-> failed"), 0)
        self.assertEqual(b.stop(), 0)

    def test_optional_file_that_fails(self):
        """EnvironmentFile=-: as systemd, a file that cannot be loaded (here: not UTF-8) is
        skipped; without '-', the start fails."""
        env_file = os.path.join(self.dir, "latin1.env")
        with open(env_file, "wb") as f:
            f.write(b"NAME=caf\xe9\n")
        d = self.units({
            "opt.service": "[Service]\nType=oneshot\nEnvironmentFile=-%s\n"
                           "ExecStart=/bin/sh -c 'echo opt-ran'\n" % env_file,
            "req.service": "[Service]\nType=oneshot\nEnvironmentFile=%s\n"
                           "ExecStart=/bin/sh -c 'echo req-ran'\n" % env_file,
        })
        b = self.berthd(d)
        b.wait_log(r"opt\.service\[\d+\]: opt-ran")
        b.wait_log(r"opt\.service: .*not valid UTF-8, ignoring EnvironmentFile=-")
        b.wait_log(r"req\.service: %s:1: the value of NAME is not valid UTF-8" % env_file)
        self.assertEqual(b.count_log(r"req-ran"), 0)
        self.assertEqual(b.stop(), 0)


if __name__ == "__main__":
    harness.main()
