"""DynamicUser=yes (issue 11, item 13): never root. Each service gets a uid (and the gid of the
same number) from systemd's dynamic range 61184-65519, picked from a hash of its user name (so
a restart gets the same one while it is free) and locked under /run/berth/dynamic-uid/; two
units get two uids, but share one when they name the same User=, as in systemd; the uid is
given back when the last service using it stops. Its RuntimeDirectory= is
owned by that uid. A dynamic uid with StateDirectory= is refused at start (berth has no mount
namespace to hide /var/lib/private/ behind), naming file:line, while the other units run."""
import json
import fcntl
import os
import shutil
import tempfile
import uuid

import harness

LOCK_DIR = "/run/berth/dynamic-uid"


class DynamicUser(harness.TestCase):
    def report(self, path):
        harness.wait_for(lambda: os.path.exists(path), what="the probe's report %s" % path)
        with open(path) as f:
            return json.load(f)

    def test_dynamic_uids(self):
        if not harness.is_root():
            self.skipTest("needs root: berthd switches the service to another uid")
        probe = self.executable("BERTH_PROBE")
        # The probe writes its report as the dynamic user: a directory anyone may write.
        out = tempfile.mkdtemp(prefix="berth-dyn-")
        self.addCleanup(shutil.rmtree, out, True)
        os.chmod(out, 0o1777)
        rt = "berth-it-" + uuid.uuid4().hex[:10]
        self.addCleanup(shutil.rmtree, "/run/" + rt, True)
        d = self.units({
            "dyn-a.service": "[Service]\nDynamicUser=yes\nRuntimeDirectory=%s\n"
                             "Environment=PROBE_OUT=%s/a-%%%%p.json\nExecStart=%s\n"
                             % (rt, out, probe),
            "dyn-b.service": "[Service]\nDynamicUser=yes\n"
                             "Environment=PROBE_OUT=%s/b-%%%%p.json\nExecStart=%s\n" % (out, probe),
            # The same user name: one uid, shared, as in systemd.
            "dyn-c.service": "[Service]\nDynamicUser=yes\nUser=berthdyn\nExecStart=%s\n" % probe,
            "dyn-d.service": "[Service]\nDynamicUser=yes\nUser=berthdyn\nExecStart=%s\n" % probe,
            "bad.service": "[Service]\nDynamicUser=yes\nStateDirectory=bad\nExecStart=%s\n"
                           % probe,
        })
        b = self.berthd(d)
        # Not started, naming the line: a uid of its own, but no private /var/lib/private/.
        b.wait_log(r"bad\.service:2: bad\.service: DynamicUser=yes with StateDirectory=.* "
                   r"not supported by berth")
        ids = {}
        for n in ("a", "b"):
            m = b.wait_log(r"dyn-%s\.service: DynamicUser=yes: runs as uid (\d+) and gid (\d+) "
                           r"\('dyn-%s'\)" % (n, n))
            pid = int(b.wait_log(r"dyn-%s\.service: dead -> running \(pid (\d+)\)" % n).group(1))
            r = self.report(os.path.join(out, "%s-%d.json" % (n, pid)))
            for k in ("uid", "euid", "gid", "egid"):
                self.assertNotEqual(r[k], 0, (n, k, r))
                self.assertGreaterEqual(r[k], 61184, (n, k))
                self.assertLessEqual(r[k], 65519, (n, k))
            self.assertEqual(r["uid"], r["gid"])
            self.assertEqual(r["uid"], r["euid"])
            self.assertEqual(r["groups"], [r["gid"]])
            self.assertEqual((r["uid"], r["gid"]), (int(m.group(1)), int(m.group(2))))
            self.assertTrue(os.path.exists("%s/%d" % (LOCK_DIR, r["uid"])))
            ids[n] = (r["uid"], pid)
        self.assertNotEqual(ids["a"][0], ids["b"][0])
        self.assertEqual(os.stat("/run/" + rt).st_uid, ids["a"][0])

        shared = int(b.wait_log(r"dyn-[cd]\.service: DynamicUser=yes: runs as uid (\d+) "
                                r"and gid \d+ \('berthdyn'\)").group(1))
        for n in ("c", "d"):
            pid = int(b.wait_log(r"dyn-%s\.service: dead -> running \(pid (\d+)\)" % n).group(1))
            with open("/proc/%d/status" % pid) as f:
                uids = [l.split()[1:] for l in f if l.startswith("Uid:")][0]
            self.assertEqual(uids, [str(shared)] * 4)
        self.assertEqual(b.count_log(r"runs as uid \d+ and gid \d+ \('berthdyn'\)"), 1)
        self.assertNotIn(shared, (ids["a"][0], ids["b"][0]))
        # A daemon-reexec carries the uids, their locks and who shares them (what follows
        # holds through it).
        r = self.berthctl(b, "daemon-reexec")
        self.assertEqual(r.returncode, 0, r.stderr)
        b.wait_log(r"daemon-reexec: state read")
        for uid in (ids["a"][0], ids["b"][0], shared):
            with open("%s/%d" % (LOCK_DIR, uid)) as lock:
                with self.assertRaises(BlockingIOError):
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        r = self.berthctl(b, "stop", "dyn-c.service")
        self.assertEqual(r.returncode, 0, r.stderr)
        b.wait_log(r"dyn-c\.service: \S+ -> dead")
        self.assertTrue(os.path.exists("%s/%d" % (LOCK_DIR, shared)))  # dyn-d still has it
        r = self.berthctl(b, "stop", "dyn-d.service")
        self.assertEqual(r.returncode, 0, r.stderr)
        b.wait_log(r"DynamicUser=: uid %d of 'berthdyn' released" % shared)
        self.assertFalse(os.path.exists("%s/%d" % (LOCK_DIR, shared)))

        # A restart asks for the same name, so it gets the same uid (it was freed and is free).
        r = self.berthctl(b, "restart", "dyn-b.service")
        self.assertEqual(r.returncode, 0, r.stderr)
        b.wait_log_count(r"dyn-b\.service: DynamicUser=yes: runs as uid %d " % ids["b"][0], 2)
        b.wait_log_count(r"dyn-b\.service: [\w-]+ -> running \(pid \d+\)", 2)

        # A stop gives the uid back: its lock goes, and so does its runtime directory.
        r = self.berthctl(b, "stop", "dyn-a.service")
        self.assertEqual(r.returncode, 0, r.stderr)
        b.wait_log(r"DynamicUser=: uid %d of 'dyn-a' released" % ids["a"][0])
        self.assertFalse(os.path.exists("%s/%d" % (LOCK_DIR, ids["a"][0])))
        self.assertFalse(os.path.exists("/run/" + rt))
        self.assertTrue(os.path.exists("%s/%d" % (LOCK_DIR, ids["b"][0])))
        self.assertEqual(b.count_log(r"bad\.service: .*-> running"), 0)
        self.assertEqual(b.stop(), 0)
        self.assertFalse(os.path.exists("%s/%d" % (LOCK_DIR, ids["b"][0])))


if __name__ == "__main__":
    harness.main()
