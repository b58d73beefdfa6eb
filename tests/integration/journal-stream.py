"""Logging for the journal (SPEC §7, berthd(8) ENVIRONMENT): when JOURNAL_STREAM names
berthd's stderr (DEVICE:INODE, as systemd sets it for a service whose output is the journal),
every line berthd writes starts with a priority prefix, <6> info, <4> warning, <3> error,
and a service's output lines keep their "unit[pid]: " after it. When JOURNAL_STREAM names
another file, or is malformed, no line has a prefix. stderr is a stream socket, as the
journal's is."""
import os
import re
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

PORT = 22010
TIMEOUT = 20


class JournalStream(harness.TestCase):
    def setUp(self):
        super().setUp()
        self.units({
            # A warning at load: an unknown key.
            "talk.socket": f"""
                [Socket]
                ListenStream=127.0.0.1:{PORT}
                NoSuchKey=1
                """,
            # Prints on stdout and on stderr at start, then serves.
            "talk.service": """
                [Service]
                ExecStart=/bin/sh -c 'echo to stdout; echo to stderr >&2; exec sleep 1000'
                [Install]
                WantedBy=multi-user.target
                """,
            # An error at load: an invalid value; the others run.
            "bad.socket": """
                [Socket]
                ListenStream=::1:8080
                """,
            "bad.service": "[Service]\nExecStart=/bin/true\n",
        })

    def run_berthd(self, journal_stream):
        """berthd with stdout and stderr on a stream socket; journal_stream(fd) gives the
        JOURNAL_STREAM value for the socket berthd gets. Returns berthd's lines up to the
        service's two lines and its stop, once it stopped."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        tmp = tempfile.mkdtemp(prefix="journal-stream-")
        self.addCleanup(shutil.rmtree, tmp, True)
        notify_path = os.path.join(tmp, "notify")
        notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        notify.bind(notify_path)
        env = dict(os.environ, NOTIFY_SOCKET=notify_path,
                   JOURNAL_STREAM=journal_stream(theirs.fileno()))
        proc = subprocess.Popen([harness.BERTHD, "--units", self.dir, "--runtime-dir",
                                 os.path.join(tmp, "run")], stdin=subprocess.DEVNULL,
                                stdout=theirs.fileno(), stderr=theirs.fileno(), env=env)
        self.addCleanup(harness.end_process, proc)
        theirs.close()
        buf = b""
        deadline = time.monotonic() + TIMEOUT
        try:
            # Until the service's two lines arrived, then a clean stop and the rest.
            while buf.count(b"talk.service[") < 2 or proc.poll() is None:
                if buf.count(b"talk.service[") >= 2 and proc.returncode is None:
                    proc.terminate()
                    proc.wait(TIMEOUT)
                    continue
                remaining = deadline - time.monotonic()
                self.assertGreater(remaining, 0, "berthd's log so far:\n" + buf.decode())
                r, _, _ = select.select([ours], [], [], min(remaining, 0.5))
                if r:
                    chunk = ours.recv(65536)
                    if not chunk:
                        break
                    buf += chunk
            while True:  # what berthd wrote before it exited
                r, _, _ = select.select([ours], [], [], 0)
                chunk = ours.recv(65536) if r else b""
                if not chunk:
                    break
                buf += chunk
        finally:
            ours.close()
            notify.close()
        self.assertEqual(proc.wait(TIMEOUT), 0)
        text = buf.decode()
        sys.stderr.write(text)
        return text.splitlines()

    def find(self, lines, pattern):
        found = [line for line in lines if re.search(pattern, line)]
        self.assertEqual(len(found), 1, "%r in:\n%s" % (pattern, "\n".join(lines)))
        return found[0]

    def test_prefixes_when_stderr_is_the_stream(self):
        lines = self.run_berthd(lambda fd: "%d:%d" % (os.fstat(fd).st_dev, os.fstat(fd).st_ino))
        for line in lines:
            self.assertRegex(line, r"^<[0-7]>\S", "a line without a priority prefix")
        self.assertRegex(self.find(lines, r"talk\.socket: listening on 127\.0\.0\.1:%d" % PORT),
                         r"^<6>talk\.socket: ")
        self.assertRegex(self.find(lines, r"NoSuchKey"), r"^<4>\S*talk\.socket:3: ")
        self.assertRegex(self.find(lines, r"ambiguous IPv6 address"), r"^<3>\S*bad\.socket:2: ")
        self.assertRegex(self.find(lines, r"berthd is ready"), r"^<6>berthd is ready")
        # The service's lines: info, with its unit and pid after the prefix.
        out = self.find(lines, r"to stdout")
        err = self.find(lines, r"to stderr")
        self.assertRegex(out, r"^<6>talk\.service\[\d+\]: to stdout$")
        self.assertRegex(err, r"^<6>talk\.service\[\d+\]: to stderr$")
        self.assertEqual(re.search(r"\[(\d+)\]", out).group(1),
                         re.search(r"\[(\d+)\]", err).group(1))

    def test_no_prefixes_when_it_names_another_file(self):
        for value in (lambda fd: "%d:%d" % (os.fstat(fd).st_dev, os.fstat(fd).st_ino + 1),
                      lambda fd: "%d:%d" % (os.stat("/dev/null").st_dev,
                                            os.stat("/dev/null").st_ino),
                      lambda fd: "garbage"):
            lines = self.run_berthd(value)
            self.assertTrue(lines)
            for line in lines:
                self.assertNotRegex(line, r"^<\d>", "a prefix without the journal")
            self.assertRegex(self.find(lines, r"to stdout"), r"^talk\.service\[\d+\]: to stdout$")
            self.assertRegex(self.find(lines, r"NoSuchKey"), r"^\S*talk\.socket:3: ")


if __name__ == "__main__":
    harness.main()
