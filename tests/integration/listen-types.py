"""Every Listen type of systemd.socket(5), with the real berthd: a unit with ListenStream=,
ListenFIFO=, ListenMessageQueue=, ListenSpecial= (and, as root, ListenNetlink=) hands its
service one fd per line, in the order of the lines, each of the right kind; data in a FIFO, a
message in a queue and (as root) a netlink message each start a socket-activated service;
Symlinks= links to the unix socket path; and RemoveOnStop=yes removes the socket file, the
FIFO, the symlink and the queue when berthd stops."""
import ctypes
import errno
import json
import os
import shutil
import signal
import socket
import struct
import tempfile
import uuid

import harness

# Reports what the service was handed: LISTEN_* and, for each fd from 3 on, what it is. Then it
# stays up (the stop at the end of the test ends it).
DUMP = r"""
import ctypes, fcntl, json, os, socket, stat, sys, time
libc = ctypes.CDLL(None, use_errno=True)
attr = (ctypes.c_long * 8)()
fds = []
for fd in range(3, 3 + int(os.environ.get("LISTEN_FDS", "0"))):
    st = os.fstat(fd)
    e = {"fd": fd, "target": os.readlink("/proc/self/fd/%d" % fd),
         "access": fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE,
         "mqueue": libc.mq_getattr(fd, attr) == 0}
    if stat.S_ISSOCK(st.st_mode):
        s = socket.socket(fileno=os.dup(fd))
        e.update(kind="socket", family=int(s.family), type=int(s.type))
        s.close()
    elif stat.S_ISFIFO(st.st_mode):
        e["kind"] = "fifo"
    elif stat.S_ISREG(st.st_mode):
        e["kind"] = "file"
    else:
        e["kind"] = "other"
    fds.append(e)
report = {"pid": os.environ.get("LISTEN_PID"), "fds": os.environ.get("LISTEN_FDS"),
          "names": os.environ.get("LISTEN_FDNAMES"), "entries": fds}
with open(sys.argv[1] + ".tmp", "w") as f:
    json.dump(report, f)
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(3600)
"""

# Started by what arrives: says which of its fds are readable, reads it all, and exits, so
# that the next arrival starts it again.
TRIGGERED = r"""
import ctypes, os, select, socket, stat, sys
libc = ctypes.CDLL(None, use_errno=True)
fds = list(range(3, 3 + int(os.environ["LISTEN_FDS"])))
ready, _, _ = select.select(fds, [], [], 0)
names = []
for fd in ready:
    st = os.fstat(fd)
    attr = (ctypes.c_long * 8)()
    if stat.S_ISFIFO(st.st_mode):
        names.append("fifo:" + os.read(fd, 4096).decode())
    elif libc.mq_getattr(fd, attr) == 0:
        buf = ctypes.create_string_buffer(attr[2])
        n = libc.mq_receive(fd, buf, attr[2], None)
        names.append("mqueue:" + buf.raw[:n].decode())
    else:
        s = socket.socket(fileno=os.dup(fd))
        names.append("netlink:%d" % len(s.recv(65536)))
        s.close()
with open(sys.argv[1], "a") as f:
    f.write(" ".join(names) + "\n")
"""

libc = ctypes.CDLL(None, use_errno=True)


def mq_open(name, flags):
    """mq_open() through libc: the fd, or -errno. (The mode and the attributes are read only
    with O_CREAT; NULL attributes are the kernel's defaults.)"""
    fd = libc.mq_open(name.encode(), flags, 0o600, None)
    return fd if fd >= 0 else -ctypes.get_errno()


def mq_exists(name):
    fd = mq_open(name, os.O_RDONLY | os.O_CLOEXEC)
    if fd >= 0:
        os.close(fd)
        return True
    if fd == -errno.ENOENT:
        return False
    raise OSError(-fd, "mq_open(%s)" % name)


def mq_send(name, data):
    fd = mq_open(name, os.O_WRONLY | os.O_CLOEXEC)
    if fd < 0:
        raise OSError(-fd, "mq_open(%s)" % name)
    try:
        if libc.mq_send(fd, data, len(data), 0) < 0:
            raise OSError(ctypes.get_errno(), "mq_send(%s)" % name)
    finally:
        os.close(fd)


def mqueue_supported():
    name = "/berth-it-probe-%s" % uuid.uuid4().hex[:8]
    fd = mq_open(name, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC)
    if fd < 0:
        return False
    os.close(fd)
    libc.mq_unlink(name.encode())
    return True


class ListenTypes(harness.TestCase):
    def setUp(self):
        super().setUp()
        if not mqueue_supported():
            self.skipTest("this kernel has no POSIX message queues")
        self.run_dir = tempfile.mkdtemp(prefix="berth-it-run-")
        self.addCleanup(shutil.rmtree, self.run_dir, True)
        self.queues = []

        def unlink_queues():
            for q in self.queues:
                libc.mq_unlink(q.encode())
        self.addCleanup(unlink_queues)

    def queue(self):
        """A message queue name unique to this run; unlinked at cleanup if still there."""
        q = "/berth-it-%d-%s" % (os.getpid(), uuid.uuid4().hex[:8])
        self.queues.append(q)
        return q

    def script(self, name, text):
        path = os.path.join(self.run_dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_fds_follow_the_lines(self):
        port = harness.free_port()
        run = os.path.join(self.run_dir, "run")  # made by berthd, with DirectoryMode=
        fifo, sock, alias = run + "/lt.fifo", run + "/link.sock", run + "/alias/link"
        special = os.path.join(self.run_dir, "special")
        with open(special, "w") as f:
            f.write("a file that exists\n")
        queue = self.queue()
        out = os.path.join(self.run_dir, "report.json")
        netlink = "ListenNetlink=kobject-uevent 1\n" if harness.is_root() else ""
        dump = self.script("dump.py", DUMP)
        self.units({
            "lt.socket": "[Socket]\n"
                         "ListenStream=127.0.0.1:%d\n"
                         "ListenFIFO=%s\n"
                         "ListenMessageQueue=%s\n"
                         "ListenSpecial=%s\n"
                         "%s"
                         "SocketMode=0620\n"
                         "RemoveOnStop=yes\n" % (port, fifo, queue, special, netlink),
            "lt.service": "[Service]\nExecStart=/usr/bin/python3 %s %s\n" % (dump, out),
            # Symlinks= needs the unit's one unix socket path (or FIFO) to link to.
            "link.socket": "[Socket]\nListenStream=%s\nSymlinks=%s\nRemoveOnStop=yes\n" % (
                sock, alias),
            "link.service": "[Service]\nExecStart=/bin/sleep 600\n",
        })
        p = harness.run_check(self.dir)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("open FIFO %s (mode 0620); RemoveOnStop=yes" % fifo, p.stdout)
        self.assertIn("open message queue %s (mode 0620)" % queue, p.stdout)
        self.assertIn("open special file %s, read-only" % special, p.stdout)
        self.assertIn("RemoveOnStop=yes, symlink %s" % alias, p.stdout)
        if netlink:
            self.assertIn("bind netlink kobject-uevent, group 1", p.stdout)

        b = self.berthd()
        self.assertEqual(os.readlink(alias), sock)
        self.assertTrue(mq_exists(queue))
        self.assertEqual(os.stat(fifo).st_mode & 0o7777, 0o620)
        # A regular file cannot be polled: berthd says so, and the other fds still start it.
        b.wait_log(r"lt\.socket: %s cannot be watched" % special)
        harness.connect("127.0.0.1", port).close()
        harness.wait_for(lambda: os.path.exists(out), what="the service's report")
        with open(out) as f:
            report = json.load(f)

        entries = report["entries"]
        n = 5 if netlink else 4
        self.assertEqual(report["fds"], str(n))
        self.assertEqual(report["names"], ":".join(["lt.socket"] * n))
        self.assertEqual(len(entries), n, entries)
        # fd 3: the TCP listener, the first line
        self.assertEqual((entries[0]["kind"], entries[0]["family"], entries[0]["type"]),
                         ("socket", socket.AF_INET, socket.SOCK_STREAM))
        # fd 4: the FIFO, read-write so that it never sees end-of-file
        self.assertEqual((entries[1]["kind"], entries[1]["target"], entries[1]["access"]),
                         ("fifo", fifo, os.O_RDWR))
        # fd 5: the message queue (a file of the mqueue file system), read-only as in systemd
        self.assertTrue(entries[2]["mqueue"], entries[2])
        self.assertEqual((entries[2]["kind"], entries[2]["target"], entries[2]["access"]),
                         ("file", queue, os.O_RDONLY))
        # fd 6: the special file, read-only without Writable=yes
        self.assertEqual((entries[3]["kind"], entries[3]["target"], entries[3]["access"]),
                         ("file", special, os.O_RDONLY))
        self.assertFalse(entries[3]["mqueue"])
        if netlink:
            # fd 7: the netlink socket
            self.assertEqual((entries[4]["kind"], entries[4]["family"], entries[4]["type"]),
                             ("socket", socket.AF_NETLINK, socket.SOCK_RAW))

        r = self.berthctl(b, "list-sockets")
        self.assertEqual(r.returncode, 0, r.stderr)
        for name, proto in ((fifo, "fifo"), (queue, "mqueue"), (special, "special")):
            self.assertRegex(r.stdout, r"%s\s+%s\s" % (name, proto))

        # RemoveOnStop=yes: what the sockets made goes with berthd; the special file stays.
        self.assertEqual(b.stop(), 0)
        for path in (fifo, sock, alias):
            self.assertFalse(os.path.lexists(path), path)
        self.assertFalse(mq_exists(queue), "the message queue is removed")
        self.assertTrue(os.path.exists(special))
        self.assertIn("lt.socket: removed message queue %s (RemoveOnStop=yes)" % queue, b.log())

    def test_reload_keeps_or_removes(self):
        fifo = os.path.join(self.run_dir, "kept.fifo")
        gone = os.path.join(self.run_dir, "gone.fifo")
        queue = self.queue()
        text = "[Socket]\nListenFIFO=%s\nListenMessageQueue=%s\n%sRemoveOnStop=yes\n"
        self.units({
            "r.socket": text % (fifo, queue, "ListenFIFO=%s\n" % gone),
            "r.service": "[Service]\nExecStart=/bin/sleep 600\n",
        })
        b = self.berthd()

        def held():
            """berthd's fds: what each one is (readlink), to its number."""
            d = "/proc/%d/fd" % b.proc.pid
            out = {}
            for n in os.listdir(d):
                try:
                    out[os.readlink(os.path.join(d, n))] = int(n)
                except OSError:
                    pass
            return out

        before = held()
        self.assertIn(fifo, before)
        self.assertIn(queue, before)

        def reload():
            n = b.count_log(r"daemon-reload: done")
            b.proc.send_signal(signal.SIGHUP)
            b.wait_log_count(r"daemon-reload: done", n + 1)

        # Unchanged entries keep their fds; the entry a reload drops is closed, and with
        # RemoveOnStop=yes its FIFO goes, as when systemd stops a socket.
        self.units({"r.socket": text % (fifo, queue, "")})
        reload()
        after = held()
        self.assertEqual(after[fifo], before[fifo], "the FIFO keeps its fd")
        self.assertEqual(after[queue], before[queue], "the message queue keeps its fd")
        self.assertNotIn(gone, after)
        self.assertFalse(os.path.lexists(gone), "the dropped FIFO is removed")
        self.assertTrue(os.path.exists(fifo))
        self.assertTrue(mq_exists(queue))
        self.assertEqual(b.stop(), 0)
        self.assertFalse(os.path.lexists(fifo))
        self.assertFalse(mq_exists(queue))

    def test_data_starts_the_service(self):
        fifo = os.path.join(self.run_dir, "trig.fifo")
        queue = self.queue()
        out = os.path.join(self.run_dir, "starts")
        # As root, a netlink socket too: NETLINK_USERSOCK (2), group 1, where the test can
        # send a multicast message itself.
        netlink = "ListenNetlink=2 1\n" if harness.is_root() else ""
        script = self.script("triggered.py", TRIGGERED)
        self.units({
            "trig.socket": "[Socket]\nListenFIFO=%s\nListenMessageQueue=%s\n%s" % (
                fifo, queue, netlink),
            "trig.service": "[Service]\nExecStart=/usr/bin/python3 %s %s\n" % (script, out),
        })
        b = self.berthd()
        self.assertFalse(os.path.exists(out), "nothing started before data came")

        def starts():
            if not os.path.exists(out):
                return []
            with open(out) as f:
                return f.read().splitlines()

        # Data in the FIFO starts the service, which reads it.
        w = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        os.write(w, b"hello")
        os.close(w)
        harness.wait_for(lambda: len(starts()) == 1, what="a start by the FIFO")
        self.assertEqual(starts()[0], "fifo:hello")
        b.wait_log(r"trig\.service: a client is waiting on %s, starting" % fifo)
        b.wait_log_count(r"trig\.service: running -> dead", 1)

        # A message in the queue starts it again.
        mq_send(queue, b"queued")
        harness.wait_for(lambda: len(starts()) == 2, what="a start by the message queue")
        self.assertEqual(starts()[1], "mqueue:queued")
        b.wait_log(r"trig\.service: a client is waiting on %s, starting" % queue)
        b.wait_log_count(r"trig\.service: running -> dead", 2)

        if netlink:
            s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 2)
            self.addCleanup(s.close)
            s.bind((0, 0))
            header = struct.pack("=LHHLL", 16, 0x10, 0, 1, 0)  # an empty netlink message
            try:
                s.sendto(header, (0, 1))  # to group 1; the unicast half to the kernel fails
            except ConnectionRefusedError:
                pass
            harness.wait_for(lambda: len(starts()) == 3, what="a start by netlink")
            self.assertEqual(starts()[2], "netlink:16")
            b.wait_log(r"trig\.service: a client is waiting on 2 1, starting")
        self.assertEqual(b.stop(), 0)
        # Without RemoveOnStop=, the FIFO and the queue stay, as in systemd.
        self.assertTrue(os.path.exists(fifo))
        self.assertTrue(mq_exists(queue))


if __name__ == "__main__":
    harness.main()
