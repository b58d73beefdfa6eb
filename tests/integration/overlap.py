"""Overlapping units: the later one (lexical order) fails with a message naming both units,
files, lines and addresses; the earlier one runs."""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


class Overlap(harness.TestCase):
    def test_dual_stack_wildcard_and_v4(self):
        p = harness.free_port()
        q = harness.free_port()
        self.units({
            "a-web.socket": f"[Socket]\nListenStream=[::]:{p}\n",
            "a-web.service": "[Service]\nExecStart=/bin/true\n",
            "b-admin.socket": f"# admin\n[Socket]\nListenStream=127.0.0.1:{q}\n"
                              f"ListenStream=127.0.0.1:{p}\n",
            "b-admin.service": "[Service]\nExecStart=/bin/true\n",
        })
        a = os.path.join(self.dir, "a-web.socket")
        bpath = os.path.join(self.dir, "b-admin.socket")
        r = harness.run_check(self.dir)
        self.assertNotEqual(r.returncode, 0)
        msg = re.escape(bpath) + r":4: ListenStream=127\.0\.0\.1:%d in b-admin\.socket overlaps " \
              r"ListenStream=\[::\]:%d in a-web\.socket \(%s:2\): .*dual-stack.*Fix: " % (
                  p, p, re.escape(a))
        self.assertRegex(r.stderr, msg)
        self.assertIn("BindIPv6Only=ipv6-only", r.stderr)

        b = self.berthd()
        b.wait_log(msg)
        self.assertTrue(harness.ss_has(["-ltn"], f"*:{p}"))
        # the failed unit binds nothing, not even its non-conflicting socket
        self.assertFalse(harness.ss_has(["-ltn"], f"127.0.0.1:{q}"))
        self.assertEqual(b.stop(), 0)

    def test_v6only_and_v4_coexist(self):
        p = harness.free_port()
        self.units({
            "a.socket": f"[Socket]\nListenStream=[::]:{p}\nBindIPv6Only=ipv6-only\n",
            "a.service": "[Service]\nExecStart=/bin/true\n",
            "b.socket": f"[Socket]\nListenStream=0.0.0.0:{p}\n",
            "b.service": "[Service]\nExecStart=/bin/true\n",
        })
        r = harness.run_check(self.dir)
        self.assertEqual(r.returncode, 0, r.stderr)
        b = self.berthd()
        self.assertTrue(harness.ss_has(["-ltn"], f"[::]:{p}"))
        self.assertTrue(harness.ss_has(["-ltn"], f"0.0.0.0:{p}"))
        self.assertEqual(b.stop(), 0)


if __name__ == "__main__":
    harness.main()
