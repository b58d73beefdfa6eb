#!/usr/bin/python3
"""hello-python: the example HTTP service in Python. It binds nothing: it takes its listening
sockets from berthd (or systemd) through python3-systemd's systemd.daemon, and serves each one
with the standard library's http.server, one thread per socket.

Run from /usr/bin/python3: Debian's python3-systemd is built for that interpreter only."""
import http.server
import os
import signal
import socket
import sys
import threading

from systemd import daemon


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = ("hello from berth (python): socket '%s', pid %d\n" % (
            self.server.fdname, os.getpid())).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        # one line per request on stderr, which berthd logs as "unit[pid]: ..."
        sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))


class InheritedServer(http.server.ThreadingHTTPServer):
    """An HTTP server on a socket it was handed: no bind, no listen."""

    def __init__(self, fd, fdname):
        sock = socket.socket(fileno=fd)
        self.address_family = sock.family
        self.fdname = fdname
        super().__init__(sock.getsockname()[:2], Handler, bind_and_activate=False)
        self.socket.close()  # the one the base class made; serve the inherited one
        self.socket = sock
        self.server_address = sock.getsockname()


def main():
    # A stop is not a failure: exit 0 on SIGTERM, as systemd also counts it clean.
    signal.signal(signal.SIGTERM, lambda signo, frame: sys.exit(0))
    fds = daemon.listen_fds_with_names()  # {fd: name}; also checks LISTEN_PID
    if not fds:
        sys.stderr.write("hello-python: no sockets passed (LISTEN_FDS): run me from berthd "
                         "or systemd-socket-activate\n")
        return 1
    servers = [InheritedServer(fd, name) for fd, name in sorted(fds.items())]
    sys.stderr.write("hello-python: serving on %s\n" % ", ".join(
        "%s (%s)" % (s.fdname, s.server_address[0]) for s in servers))
    sys.stderr.flush()
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in servers[1:]]
    for t in threads:
        t.start()
    try:
        servers[0].serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
