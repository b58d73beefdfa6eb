"""daemon-reexec (issue 14): berthd executes itself again and keeps everything. Under a running
load (4 clients, closed loop), 10 `berthctl daemon-reexec` in a row, with a service that serves
the load, one that was never started, one that backs off (over its start limit), one in the
middle of an overlap handover, and one holding a client's TCP connection in its fd store:
no request fails, every process keeps its pid, the status of every unit (restarts, STATUS=,
log lines) is the same before and after, the handover completes, and the stored connection
goes on with its conversation. A reexec to a binary that is missing or that is not berthd
fails, says why, and leaves berthd as it was."""
import json
import re
import os
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fdstore  # noqa: E402
import harness  # noqa: E402

REEXECS = 10

# fdstore.py's service (it stores a client's connection, and resumes it in its next process),
# on keep.socket, saying STATUS= too.
FDSTORE = fdstore.SERVICE.replace('"web.socket"', '"keep.socket"').replace(
    "names = ", 'daemon.notify("STATUS=holding a conversation")\nnames = ', 1)

# Status fields that move by themselves (time), left out of the comparison.
VOLATILE = {"uptime", "since", "active_since", "active_enter_timestamp"}


def stable(units):
    out = {}
    for u in units:
        out[u.get("name") or u.get("unit") or json.dumps(u, sort_keys=True)] = {
            k: v for k, v in u.items() if k not in VOLATILE}
    return out


class Reexec(harness.TestCase):
    def status(self, b, *units):
        r = self.berthctl(b, "status", "--json", "-n", "200", *units)
        self.assertIn(r.returncode, (0, 3), r.stderr)
        return stable(json.loads(r.stdout))

    def test_reexec_under_load(self):
        server = self.executable("BENCH_SERVER")
        script = os.path.join(self.dir, "keep.py")
        with open(script, "w") as f:
            f.write(FDSTORE)
        wport, iport, kport, hport, eport = (harness.free_port() for _ in range(5))
        d = self.units({
            "web.socket": "[Socket]\nListenStream=127.0.0.1:%d\n" % wport,
            "web.service": "[Service]\nType=notify\nExecStart=%s\n" % server,
            "idle.socket": "[Socket]\nListenStream=127.0.0.1:%d\n" % iport,
            "idle.service": "[Service]\nExecStart=%s\n" % server,
            "crash.service": "[Unit]\nStartLimitBurst=2\nStartLimitIntervalSec=600\n"
                             "[Service]\nExecStart=/bin/sh -c 'echo crashing; exit 3'\n"
                             "Restart=always\nRestartSec=0\n",
            "keep.socket": "[Socket]\nListenStream=127.0.0.1:%d\n" % kport,
            "keep.service": "[Service]\nExecStart=/usr/bin/python3 %s\n"
                            "FileDescriptorStoreMax=4\nRestart=always\nRestartSec=0\n"
                            "NotifyAccess=all\n" % script,
            # An Accept=yes instance holding its connection: cat echoes each line.
            "echo.socket": "[Socket]\nListenStream=127.0.0.1:%d\nAccept=yes\n" % eport,
            "echo@.service": "[Service]\nExecStart=/bin/cat\nStandardInput=socket\n",
            # Only the first process says READY=1: the overlap a restart begins stays in
            # progress (its successor serves, never ready, for TimeoutStartSec=).
            "hand.socket": "[Socket]\nListenStream=127.0.0.1:%d\n" % hport,
            "hand.service": "[Service]\nType=notify\nHandover=overlap\n"
                            "ExecStart=%s --ready-once %s/ready-once\nTimeoutStartSec=120\n"
                            % (server, self.dir),
        }, subdir="u")
        b = self.berthd(d)

        load = self.load(wport)
        b.wait_log(r"web\.service: start -> running")
        c = harness.connect("127.0.0.1", kport, timeout=20)
        f = c.makefile("rb")
        self.assertTrue(f.readline().startswith(b"hello from "))
        b.wait_log(r"keep\.service: stored fd \d+ as 'conn'")
        b.wait_log(r"keep\.service\[\d+\]: stored")
        echo = harness.connect("127.0.0.1", eport, timeout=20)
        echo_f = echo.makefile("rb")
        echo.sendall(b"before\n")
        self.assertEqual(echo_f.readline(), b"before\n")
        echo_name = b.wait_log(r"(echo@\S+\.service): dead -> running").group(1)
        harness.connect("127.0.0.1", hport, timeout=20).close()
        hand_pid = int(b.wait_log(r"hand\.service: start -> running \(pid (\d+)\)").group(1))
        b.wait_log(r"crash\.service: \S+ -> backoff")
        # The overlap: its caller waits for a successor that is never ready (the exec cuts
        # that caller's connection: it is not part of the state).
        restart = subprocess.Popen([self.executable("BERTHCTL"), "--runtime-dir",
                                    b.runtime_dir, "restart", "hand.service"],
                                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        self.addCleanup(restart.kill)
        b.wait_log(r"hand\.service: running -> handover")
        b.wait_log(r"hand\.service\[\d+\]: bench-server: serving, never ready")

        before = self.status(b)
        echo_before = self.status(b, echo_name)
        pids = {n: u.get("main_pid") for n, u in before.items()}
        for i in range(REEXECS):
            r = self.berthctl(b, "daemon-reexec")
            self.assertEqual(r.returncode, 0, "reexec %d: %s" % (i + 1, r.stdout + r.stderr))
            b.wait_log_count(r"daemon-reexec: state read", i + 1)
        after = self.status(b)
        self.assertEqual(echo_before, self.status(b, echo_name))
        self.assertEqual(echo_before[echo_name]["state"], "running")
        # The one backing off may have tried again meanwhile (its back-off is 1 s, then
        # doubles): it is compared by its own rules below.
        crash_before, crash_after = before.pop("crash.service"), after.pop("crash.service")
        self.maxDiff = None
        self.assertEqual(before, after)
        self.assertGreaterEqual(crash_after["restarts"], crash_before["restarts"])
        self.assertEqual(b.count_log(r"crash\.service: \S+ -> failed"), 0)
        self.assertEqual(after["keep.service"]["status_text"], "holding a conversation")
        self.assertGreater(len(after["keep.service"]["logs"]), 0)
        pids.pop("crash.service")
        self.assertEqual(pids, {n: u.get("main_pid") for n, u in after.items()})
        self.assertEqual(b.count_log(r"berthd is ready"), REEXECS + 1)

        res = load.stop()
        print("load: %s" % res)
        self.assertGreater(res["ok"], 0, res)
        for k in harness.LOAD_FAILURES:
            self.assertEqual(res[k], 0, "%s: %s" % (k, res))

        # The instance still has its connection, and berthd still follows it: it sees the end.
        echo.sendall(b"after\n")
        self.assertEqual(echo_f.readline(), b"after\n")
        echo_f.close()
        echo.close()
        b.wait_log(re.escape(echo_name) + r": running -> dead")
        # The never-started service starts on demand, as before.
        self.assertEqual(harness.http_get(iport)[:12], b"HTTP/1.0 200")
        # The stored connection goes on: the next process of keep.service gets it back.
        keep_pid = after["keep.service"]["main_pid"]
        os.kill(keep_pid, signal.SIGTERM)
        self.assertTrue(f.readline().startswith(b"resumed by "))
        c.sendall(b"same conversation\n")
        self.assertEqual(f.readline(), b"echo same conversation\n")
        c.close()
        # The handover is still under way, with both processes: a stop ends both.
        self.assertEqual(after["hand.service"]["state"], "handover")
        self.assertEqual(after["hand.service"]["old_main_pid"], hand_pid)
        self.assertTrue(harness.pid_alive(hand_pid))
        r = self.berthctl(b, "stop", "hand.service")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(b.stop(), 0)

    def test_reexec_refused(self):
        d, port = self.on_demand_units()
        b = self.berthd(d)
        self.assertEqual(harness.http_get(port)[:12], b"HTTP/1.0 200")
        quits = os.path.join(self.dir, "quits")
        with open(quits, "w") as f:
            f.write("#!/bin/sh\nexit 0\n")
        os.chmod(quits, 0o755)
        notexec = os.path.join(self.dir, "notexec")
        with open(notexec, "w") as f:
            f.write("#!/bin/sh\nexit 0\n")
        for binary, why in ((os.path.join(self.dir, "missing"), "No such file"),
                            (notexec, "Permission denied"),
                            (quits, "did not answer as berthd does")):
            r = self.berthctl(b, "daemon-reexec", "--binary", binary)
            self.assertNotEqual(r.returncode, 0, r.stdout)
            self.assertIn(why, r.stderr)
        self.assertEqual(b.count_log(r"daemon-reexec: executing"), 0)
        self.assertEqual(harness.http_get(port)[:12], b"HTTP/1.0 200")
        r = self.berthctl(b, "daemon-reexec")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(harness.http_get(port)[:12], b"HTTP/1.0 200")
        self.assertEqual(b.stop(), 0)

    def wrapper(self, refuse):
        """A "new binary" that is berthd, but cannot read the state (BERTH_STATE_REFUSE)."""
        path = os.path.join(self.dir, "berthd-refuses-" + refuse)
        with open(path, "w") as f:
            f.write('#!/bin/sh\n[ "$1" = --state-version ] && exec %s "$@"\n'
                    'BERTH_STATE_REFUSE=%s exec %s "$@"\n'
                    % (harness.BERTHD, refuse, harness.BERTHD))
        os.chmod(path, 0o755)
        return path

    def on_demand_units(self):
        port = harness.free_port()
        d = self.units({
            "web.socket": "[Socket]\nListenStream=127.0.0.1:%d\n" % port,
            "web.service": "[Service]\nType=notify\nExecStart=%s\n"
                           % self.executable("BENCH_SERVER"),
        }, subdir="u")
        return d, port

    def test_restart_in_flight(self):
        """A `berthctl restart` waiting for a slow start when berthd re-executes: the exec
        cuts its connection, it reconnects, and returns once the service runs."""
        port = harness.free_port()
        d = self.units({
            "slow.socket": "[Socket]\nListenStream=127.0.0.1:%d\n" % port,
            "slow.service": "[Service]\nType=notify\nExecStart=%s\n"
                            "Environment=BENCH_READY_DELAY_MS=1500\n"
                            % self.executable("BENCH_SERVER"),
        }, subdir="u")
        b = self.berthd(d)
        self.assertEqual(harness.http_get(port, timeout=20)[:12], b"HTTP/1.0 200")
        first = int(b.wait_log(r"slow\.service: start -> running \(pid (\d+)\)").group(1))
        restart = subprocess.Popen([self.executable("BERTHCTL"), "--runtime-dir",
                                    b.runtime_dir, "restart", "slow.service"],
                                   stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        self.addCleanup(restart.kill)
        b.wait_log(r"slow\.service: \S+ -> start \(pid (?!%d\))\d+\)" % first)
        r = self.berthctl(b, "daemon-reexec")
        self.assertEqual(r.returncode, 0, r.stderr)
        out, err = restart.communicate(timeout=60)
        self.assertEqual(restart.returncode, 0, out + err)
        st = self.status(b, "slow.service")["slow.service"]
        self.assertEqual(st["state"], "running")
        self.assertNotEqual(st["main_pid"], first)
        self.assertEqual(b.count_log(r"slow\.service: start -> running"), 2)
        self.assertEqual(b.stop(), 0)

    def test_state_refused_previous_binary_takes_it_back(self):
        d, port = self.on_demand_units()
        b = self.berthd(d)
        self.assertEqual(harness.http_get(port)[:12], b"HTTP/1.0 200")
        pid = int(b.wait_log(r"web\.service: start -> running \(pid (\d+)\)").group(1))
        r = self.berthctl(b, "daemon-reexec", "--binary", self.wrapper("1"))
        self.assertNotEqual(r.returncode, 0, r.stdout)
        self.assertIn("could not take its state over", r.stderr)
        b.wait_log(r"daemon-reexec: executing the previous binary again")
        b.wait_log(r"daemon-reexec: the new binary could not take the state over")
        self.assertEqual(harness.http_get(port)[:12], b"HTTP/1.0 200")
        st = self.status(b, "web.service")["web.service"]
        self.assertEqual((st["state"], st["main_pid"]), ("running", pid))
        self.assertTrue(harness.pid_alive(pid))
        # And a reexec that works, after.
        r = self.berthctl(b, "daemon-reexec")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.status(b, "web.service")["web.service"]["main_pid"], pid)
        self.assertEqual(b.stop(), 0)

    def test_state_lost_sockets_kept(self):
        d, port = self.on_demand_units()
        b = self.berthd(d)
        load = self.load(port)
        pid = int(b.wait_log(r"web\.service: start -> running \(pid (\d+)\)").group(1))
        r = self.berthctl(b, "daemon-reexec", "--binary", self.wrapper("all"))
        self.assertNotEqual(r.returncode, 0, r.stdout)
        b.wait_log(r"daemon-reexec: the state is lost")
        b.wait_log(r"Found web\.service's main process %d left by this berthd before a "
                   r"daemon-reexec that lost its state" % pid)
        # The socket was kept: the load's clients wait in its queue, then a new process serves.
        b.wait_log(r"web\.service: dead -> start \(pid (?!%d\))\d+\)" % pid)
        res = load.stop()
        print("load: %s" % res)
        self.assertGreater(res["ok"], 0, res)
        for k in ("refused", "timeout"):
            self.assertEqual(res[k], 0, "%s: %s" % (k, res))
        self.assertFalse(harness.pid_alive(pid))
        self.assertEqual(b.stop(), 0)


if __name__ == "__main__":
    harness.main()
