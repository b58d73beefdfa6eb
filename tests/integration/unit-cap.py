"""More units than the old cap of 16,384 load (SPEC §8 needs 10,000 listeners; the cap is now
131,072, and past it each unit beyond is refused by name, tests/unit/test-unit-dir.c). With
16,384 templates and one socket unit with its service, `berthd --check` says OK for all of
them and berthd binds the socket and serves on it."""
import os

import harness

# Loading 16,386 units takes seconds under the sanitizers: a bound on the wait, not a target.
LOAD_TIMEOUT = 120

TEMPLATES = 16384


class UnitCap(harness.TestCase):
    def test_more_than_16384_units(self):
        units = {"web.socket": "[Socket]\nListenStream=127.0.0.1:%d\n" % self.port,
                 "web.service": "[Service]\nExecStart=/bin/sleep 600\n"}
        d = self.units(units)
        for i in range(TEMPLATES):
            with open(os.path.join(d, "t%05d@.service" % i), "w") as f:
                f.write("[Service]\nExecStart=/bin/true %d\n" % i)
        p = harness.run_check(d, timeout=LOAD_TIMEOUT)
        self.assertEqual(p.returncode, 0, p.stdout[-2000:] + p.stderr[-2000:])
        self.assertIn("OK: %d units (1 socket, %d service)" % (TEMPLATES + 2, TEMPLATES + 1),
                      p.stdout)

        b = self.berthd(d, timeout=LOAD_TIMEOUT)
        b.wait_log(r"web\.socket: listening on 127\.0\.0\.1:%d" % self.port)
        harness.connect("127.0.0.1", self.port).close()
        b.wait_log(r"web\.service: a client is waiting")
        self.assertEqual(b.stop(), 0)

    def setUp(self):
        super().setUp()
        self.port = harness.free_port()


if __name__ == "__main__":
    harness.main()
