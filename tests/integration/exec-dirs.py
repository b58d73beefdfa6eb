"""RuntimeDirectory=, StateDirectory=, CacheDirectory=, LogsDirectory= and
ConfigurationDirectory= (issue 11, item 10), as systemd 252 makes them: created before
ExecStartPre= under /run, /var/lib, /var/cache, /var/log and /etc (the XDG directories with
--user), the last component owned by User= with *DirectoryMode=, parents root's 0755, the
configuration directory left root's; $RUNTIME_DIRECTORY and friends set (colon-separated);
the runtime ones removed when the service stops, on restarts too unless
RuntimeDirectoryPreserve= says restart or yes; invalid names left out with a warning naming
file:line while the unit runs."""
import os
import pwd
import shutil
import stat
import uuid

import harness

SHOW = ("/bin/sh -c 'echo %s rt=$RUNTIME_DIRECTORY st=$STATE_DIRECTORY ca=$CACHE_DIRECTORY "
        "lo=$LOGS_DIRECTORY co=$CONFIGURATION_DIRECTORY'")
# Says whether the runtime directory holds what a previous run left, then leaves something.
MARK = ("/bin/sh -c 'if [ -e \"$RUNTIME_DIRECTORY/mark\" ]; then echo run found; else echo "
        "run fresh; fi; touch \"$RUNTIME_DIRECTORY/mark\"; exec sleep 600'")


def fields(m):
    return dict(kv.split("=", 1) for kv in m.group(1).split())


def mode_owner(path):
    st = os.stat(path)
    return stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid


class ExecDirs(harness.TestCase):
    def unique(self):
        """A name of this run's own under /run, /var/lib, ... and its removal at cleanup."""
        name = "berth-it-" + uuid.uuid4().hex[:10]
        for root in ("/run", "/var/lib", "/var/cache", "/var/log", "/etc"):
            self.addCleanup(shutil.rmtree, os.path.join(root, name), True)
        return name

    def test_system_mode(self):
        if not harness.is_root():
            self.skipTest("needs root: the directories go under /run, /var/lib, ... and are "
                          "given to User=nobody")
        n = self.unique()
        nobody = pwd.getpwnam("nobody")
        d = self.units({
            "dirs.service": "[Service]\nUser=nobody\n"
                            "RuntimeDirectory=%(n)s %(n)s/sub/deep /%(n)s-abs %(n)s/../x\n"
                            "RuntimeDirectoryMode=0750\n"
                            "StateDirectory=%(n)s\nStateDirectoryMode=0700\n"
                            "CacheDirectory=%(n)s\nLogsDirectory=%(n)s\n"
                            "ConfigurationDirectory=%(n)s\n"
                            "ExecStartPre=%(pre)s\n"
                            "ExecStart=/bin/sh -c '%(main)s; exec sleep 600'\n" % {
                                "n": n, "pre": SHOW % "pre",
                                "main": (SHOW % "main")[len("/bin/sh -c '"):-1]},
        })
        b = self.berthd(d)
        # The bad names are left out, named with file:line, and the unit runs.
        b.wait_log(r"dirs\.service:3: Invalid name '/%s-abs' in RuntimeDirectory=.*ignoring"
                   % n)
        b.wait_log(r"dirs\.service:3: Invalid name '%s/\.\./x' in RuntimeDirectory=" % n)
        pre = fields(b.wait_log(r"dirs\.service\[\d+\]: pre (.*)$"))
        main = fields(b.wait_log(r"dirs\.service\[\d+\]: main (.*)$"))
        self.assertEqual(pre, main)
        self.assertEqual(main["rt"], "/run/%s:/run/%s/sub/deep" % (n, n))
        self.assertEqual(main["st"], "/var/lib/" + n)
        self.assertEqual(main["ca"], "/var/cache/" + n)
        self.assertEqual(main["lo"], "/var/log/" + n)
        self.assertEqual(main["co"], "/etc/" + n)
        ids = (nobody.pw_uid, nobody.pw_gid)
        self.assertEqual(mode_owner("/run/" + n), (0o750,) + ids)
        self.assertEqual(mode_owner("/run/%s/sub/deep" % n), (0o750,) + ids)
        # a parent made on the way is root's 0755 (it is also RuntimeDirectory= here, so
        # check the one that is only a parent)
        self.assertEqual(mode_owner("/run/%s/sub" % n), (0o755, 0, 0))
        self.assertEqual(mode_owner("/var/lib/" + n), (0o700,) + ids)
        self.assertEqual(mode_owner("/var/cache/" + n), (0o755,) + ids)
        self.assertEqual(mode_owner("/var/log/" + n), (0o755,) + ids)
        self.assertEqual(mode_owner("/etc/" + n), (0o755, 0, 0))  # never the service's
        r = self.berthctl(b, "stop", "dirs.service")
        self.assertEqual(r.returncode, 0, r.stderr)
        b.wait_log(r"dirs\.service: .* -> dead")
        self.assertFalse(os.path.exists("/run/" + n))
        for root in ("/var/lib", "/var/cache", "/var/log", "/etc"):
            self.assertTrue(os.path.isdir(os.path.join(root, n)), root)
        self.assertEqual(b.stop(), 0)

    def test_preserve(self):
        if not harness.is_root():
            self.skipTest("needs root: the runtime directories go under /run")
        names = {p: self.unique() for p in ("no", "restart", "yes")}
        d = self.units({
            "keep-%s.service" % p: "[Service]\nRuntimeDirectory=%s\n"
                                   "RuntimeDirectoryPreserve=%s\nExecStart=%s\n" % (n, p, MARK)
            for p, n in names.items()
        })
        b = self.berthd(d)
        for p in names:
            b.wait_log(r"keep-%s\.service\[\d+\]: run fresh" % p)
        for p in names:
            r = self.berthctl(b, "restart", "keep-%s.service" % p)
            self.assertEqual(r.returncode, 0, r.stderr)
        # A restart empties it only with Preserve=no.
        b.wait_log_count(r"keep-no\.service\[\d+\]: run fresh", 2)
        b.wait_log(r"keep-restart\.service\[\d+\]: run found")
        b.wait_log(r"keep-yes\.service\[\d+\]: run found")
        for p in names:
            r = self.berthctl(b, "stop", "keep-%s.service" % p)
            self.assertEqual(r.returncode, 0, r.stderr)
        for p in names:
            b.wait_log(r"keep-%s\.service: .* -> dead" % p)
        # A stop removes it, unless Preserve=yes.
        self.assertFalse(os.path.exists("/run/" + names["no"]))
        self.assertFalse(os.path.exists("/run/" + names["restart"]))
        self.assertTrue(os.path.exists("/run/%s/mark" % names["yes"]))
        self.assertEqual(b.count_log(r"run found"), 2)
        self.assertEqual(b.stop(), 0)

    def test_preserve_on_auto_restart(self):
        """Restart= restarts count as restarts: Preserve=restart keeps the directory, no
        empties it."""
        if not harness.is_root():
            self.skipTest("needs root: the runtime directories go under /run")
        crash = ("/bin/sh -c 'if [ -e \"$RUNTIME_DIRECTORY/mark\" ]; then echo run found; exec "
                 "sleep 600; fi; echo run fresh; touch \"$RUNTIME_DIRECTORY/mark\"; exit 3'")
        names = {p: self.unique() for p in ("no", "restart")}
        d = self.units({
            "crash-%s.service" % p: "[Service]\nRuntimeDirectory=%s\nRestart=on-failure\n"
                                    "RestartSec=0\nRuntimeDirectoryPreserve=%s\nExecStart=%s\n"
                                    % (n, p, crash)
            for p, n in names.items()
        })
        b = self.berthd(d)
        b.wait_log(r"crash-restart\.service\[\d+\]: run found")
        b.wait_log_count(r"crash-no\.service\[\d+\]: run fresh", 2)
        r = self.berthctl(b, "stop", "crash-no.service")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(b.count_log(r"crash-no\.service\[\d+\]: run found"), 0)
        self.assertEqual(b.count_log(r"crash-restart\.service\[\d+\]: run fresh"), 1)
        self.assertEqual(b.stop(), 0)

    def test_user_mode(self):
        """--user: under $XDG_RUNTIME_DIR, and systemd 252's $XDG_CONFIG_HOME for state and
        logs; %S and %t name the same roots."""
        home = self.units({}, "home")
        env = {"HOME": home, "XDG_RUNTIME_DIR": os.path.join(home, "rt"),
               "XDG_CONFIG_HOME": os.path.join(home, "cfg"),
               "XDG_CACHE_HOME": os.path.join(home, "cache")}
        os.makedirs(env["XDG_RUNTIME_DIR"], 0o700)
        d = self.units({
            "u.service": "[Service]\nType=oneshot\nRuntimeDirectory=app\nStateDirectory=app\n"
                         "CacheDirectory=app\nLogsDirectory=app\nConfigurationDirectory=app\n"
                         "ExecStart=%s\nExecStart=/bin/echo spec %%t/app %%S/app %%L/app\n"
                         % (SHOW % "main"),
        }, "units")
        b = self.berthd(d, extra_args=["--user"], env=env)
        main = fields(b.wait_log(r"u\.service\[\d+\]: main (.*)$"))
        self.assertEqual(main["rt"], os.path.join(env["XDG_RUNTIME_DIR"], "app"))
        self.assertEqual(main["st"], os.path.join(env["XDG_CONFIG_HOME"], "app"))
        self.assertEqual(main["ca"], os.path.join(env["XDG_CACHE_HOME"], "app"))
        self.assertEqual(main["lo"], os.path.join(env["XDG_CONFIG_HOME"], "log", "app"))
        self.assertEqual(main["co"], os.path.join(env["XDG_CONFIG_HOME"], "app"))
        spec = b.wait_log(r"u\.service\[\d+\]: spec (.*)$").group(1).split()
        self.assertEqual(spec, [main["rt"], main["st"], main["lo"]])
        b.wait_log(r"u\.service: start -> dead")
        self.assertFalse(os.path.exists(main["rt"]))  # a oneshot's run is over
        for k in ("st", "ca", "lo", "co"):
            self.assertTrue(os.path.isdir(main[k]), main[k])
        self.assertEqual(b.stop(), 0)


if __name__ == "__main__":
    harness.main()
