"""gunicorn-app: a WSGI hello for the gunicorn example unit. gunicorn takes its listening
sockets from berthd (or systemd) through LISTEN_FDS by itself (gunicorn/systemd.py): neither
this app nor gunicorn's command line names an address."""
import os


def app(environ, start_response):
    body = ("hello from berth (gunicorn): worker pid %d, master pid %d\n" % (
        os.getpid(), os.getppid())).encode()
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body)))])
    return [body]
