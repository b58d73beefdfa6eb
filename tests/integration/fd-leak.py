"""No fd leaks: berthd's own fd count is the same before and after 1000 service starts."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

# Fails until it has run $TARGET times in total, then accepts the waiting connection (so the
# socket is quiet again) and succeeds.
SCRIPT = """#!/bin/sh
n=$(cat "$COUNT" 2>/dev/null || echo 0)
n=$((n + 1))
echo $n > "$COUNT"
[ "$n" -ge "$(cat "$TARGET")" ] || exit 1
exec /usr/bin/python3 -c 'import socket; socket.socket(fileno=3).accept()[0].close()'
"""


class FdLeak(harness.TestCase):
    def test_1000_starts(self):
        p = harness.free_port()
        script = os.path.join(self.dir, "svc")
        count = os.path.join(self.dir, "count")
        target = os.path.join(self.dir, "target")
        with open(script, "w") as f:
            f.write(SCRIPT)
        os.chmod(script, 0o755)
        self.units({
            "churn.socket": f"[Socket]\nListenStream=127.0.0.1:{p}\n",
            "churn.service": f"""
                [Unit]
                StartLimitIntervalSec=0
                [Service]
                ExecStart={script}
                Restart=on-failure
                RestartSec=0
                Environment=COUNT={count} TARGET={target}
                StandardOutput=null
                """,
        })
        b = self.berthd()

        def run_until(n, ends):
            with open(target, "w") as f:
                f.write(str(n))
            harness.connect("127.0.0.1", p).close()
            b.wait_log_count(r"churn\.service: running -> dead|churn\.service: stop-sigterm -> "
                             r"dead", ends, timeout=300)
            self.assertEqual(int(open(count).read()), n)

        run_until(10, 1)
        before = b.fd_count()
        run_until(1010, 2)
        # The last run's pidfd is closed just after its "-> dead" line: wait for the count to
        # come back (a leak never does).
        try:
            harness.wait_for(lambda: b.fd_count() == before, timeout=10,
                             what="berthd's fd count back to %d" % before)
        finally:
            print(f"berthd fds: {before} after 10 starts, {b.fd_count()} after 1010")
        self.assertEqual(b.stop(), 0)


if __name__ == "__main__":
    harness.main()
