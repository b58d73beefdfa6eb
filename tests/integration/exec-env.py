"""What a service sees of itself, as systemd gives it (issue 11, items 1-3 and 7): User= sets
$USER, $LOGNAME, $HOME and $SHELL of that user (Environment= may override them); SIGPIPE is
ignored unless IgnoreSIGPIPE=no; without WorkingDirectory= the working directory is /, never
berthd's own."""
import os
import pwd

import harness

SHOW = ("/bin/sh -c 'echo env user=$USER logname=$LOGNAME home=$HOME shell=$SHELL "
        "cwd=$(pwd) sigpipe=$(grep SigIgn /proc/self/status | cut -f2)'")


class ExecEnv(harness.TestCase):
    def test_env_cwd_sigpipe(self):
        if not harness.is_root():
            self.skipTest("needs root for User=nobody")
        nobody = pwd.getpwnam("nobody")
        d = self.units({
            "asuser.service": "[Service]\nType=oneshot\nUser=nobody\nExecStart=%s\n" % SHOW,
            "plain.service": "[Service]\nType=oneshot\nExecStart=%s\n" % SHOW,
            "override.service": "[Service]\nType=oneshot\nUser=nobody\nIgnoreSIGPIPE=no\n"
                                "Environment=HOME=/elsewhere\nExecStart=%s\n" % SHOW,
        })
        self.assertNotEqual(os.getcwd(), "/")
        b = self.berthd(d)
        m = b.wait_log(r"asuser\.service\[\d+\]: env (.*)$")
        fields = dict(kv.split("=", 1) for kv in m.group(1).split())
        self.assertEqual(fields["user"], "nobody")
        self.assertEqual(fields["logname"], "nobody")
        self.assertEqual(fields["home"], nobody.pw_dir)
        self.assertEqual(fields["shell"], nobody.pw_shell)
        self.assertEqual(fields["cwd"], "/")
        # SigIgn is a hex mask; SIGPIPE is signal 13, bit 12
        self.assertTrue(int(fields["sigpipe"], 16) & (1 << 12), fields)
        m = b.wait_log(r"plain\.service\[\d+\]: env (.*)$")
        fields = dict(kv.split("=", 1) for kv in m.group(1).split(" ") if "=" in kv)
        self.assertEqual(fields["user"], "")  # no User=: none set, as in systemd
        self.assertEqual(fields["cwd"], "/")
        m = b.wait_log(r"override\.service\[\d+\]: env (.*)$")
        fields = dict(kv.split("=", 1) for kv in m.group(1).split())
        self.assertEqual(fields["home"], "/elsewhere")
        self.assertFalse(int(fields["sigpipe"], 16) & (1 << 12), fields)
        self.assertEqual(b.stop(), 0)


if __name__ == "__main__":
    harness.main()
