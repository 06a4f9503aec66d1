#!/usr/bin/python3
# The "app" the systemd example units start (installed as /usr/local/bin/app in the test
# container): prints a digest of DB_PASSWORD (never the value), reports READY=1 itself when
# systemd gave it a notify socket (after a pause, so the test can see "activating"), and exits
# 0 on SIGTERM.
import hashlib
import os
import signal
import socket
import stat
import sys
import time


def log(message):
    print("app[%d]: %s" % (os.getpid(), message), flush=True)


def stop(signum, frame):
    log("got SIGTERM, stopping")
    sys.exit(0)


signal.signal(signal.SIGTERM, stop)
value = os.environb.get(b"DB_PASSWORD")
if value is None:
    log("DB_PASSWORD missing")
    sys.exit(3)
log("DB_PASSWORD sha256=" + hashlib.sha256(value).hexdigest())
# A careless app: printed on purpose when stdout is a pipe, which is secretrun's --mask-output
# redactor (the journal's stream is a socket): the value must reach the journal masked.
if stat.S_ISFIFO(os.fstat(1).st_mode):
    log("connecting with password " + value.decode())
notify = os.environ.get("NOTIFY_SOCKET")
if notify:
    time.sleep(3)
    address = "\0" + notify[1:] if notify.startswith("@") else notify
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.sendto(b"READY=1", address)
    log("sent READY=1")
while True:
    time.sleep(60)
