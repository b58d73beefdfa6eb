"""On-demand start: the service's process does not exist before the first connection, and
that connection is answered. Output reaches the log line by line as unit[pid]: line."""
import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

SERVER = r"""
import os, socket
print("started", os.getpid(), flush=True)
s = socket.socket(fileno=3)
while True:
    c, _ = s.accept()
    c.recv(1024)
    c.sendall(b"HTTP/1.0 200 OK\r\n\r\nhello %d\n" % os.getpid())
    c.close()
"""


class OnDemand(harness.TestCase):
    def test_first_connection_starts_the_service(self):
        p = harness.free_port()
        script = os.path.join(self.dir, "server.py")
        with open(script, "w") as f:
            f.write(SERVER)
        self.units({
            "web.socket": f"[Socket]\nListenStream=127.0.0.1:{p}\n",
            "web.service": f"[Service]\nExecStart=/usr/bin/python3 {script}\n",
        })
        b = self.berthd()
        # Nothing runs yet: no process with our script on its command line.
        self.assertEqual(self.processes_running(script), [])
        self.assertEqual(b.count_log(r"web\.service: dead -> running"), 0)

        c = harness.connect("127.0.0.1", p)
        c.sendall(b"GET / HTTP/1.0\r\n\r\n")
        reply = c.recv(4096)
        c.close()
        self.assertIn(b"200 OK", reply)
        m = b.wait_log(r"web\.service\[(\d+)\]: started (\d+)")
        self.assertEqual(m.group(1), m.group(2), "the log prefix names the service's pid")
        self.assertEqual(self.processes_running(script), [int(m.group(2))])
        self.assertEqual(b.stop(), 0)
        harness.wait_for(lambda: not self.processes_running(script), what="the service to go")

    def test_semicolon_in_exec_start(self):
        self.units({"semi.service": '[Service]\nExecStart=/bin/sh -c "echo a ; echo b"\n'})
        b = self.berthd()
        b.wait_log(r"semi\.service\[\d+\]: a$")
        b.wait_log(r"semi\.service\[\d+\]: b$")
        self.assertEqual(b.stop(), 0)

    def processes_running(self, needle):
        found = []
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if needle.encode() in f.read() and harness.pid_alive(int(pid)):
                        found.append(int(pid))
            except OSError:
                pass
        return found


if __name__ == "__main__":
    harness.main()
