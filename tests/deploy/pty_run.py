#!/usr/bin/env python3
"""Runs a command on a new pseudo-terminal of ROWSxCOLS, as an interactive user would (CI has no
TTY), and prints what the terminal showed; exits with the command's status.

usage: pty_run.py ROWS COLS [--interrupt-after TEXT] [--resize-after TEXT] -- COMMAND...
With --interrupt-after, types Ctrl-C (the terminal makes it SIGINT) once TEXT has been shown;
with --resize-after, resizes the terminal to 40x120 (as a window resize does) once TEXT has.
"""
import fcntl
import os
import select
import struct
import sys
import termios
import time


def main():
    args = sys.argv[1:]
    rows, cols = int(args[0]), int(args[1])
    interrupt_after = resize_after = None
    rest = args[2:]
    while rest[0] != "--":
        if rest[0] == "--interrupt-after":
            interrupt_after = rest[1].encode()
        elif rest[0] == "--resize-after":
            resize_after = rest[1].encode()
        else:
            sys.exit(__doc__)
        rest = rest[2:]
    command = rest[1:]
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    pid = os.fork()
    if pid == 0:
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
        for fd in (0, 1, 2):
            os.dup2(slave, fd)
        os.close(master)
        os.execvp(command[0], command)
    os.close(slave)
    shown = b""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                data = os.read(master, 4096)
            except OSError:  # EIO: every holder of the terminal closed it
                break
            if not data:
                break
            shown += data
            if interrupt_after is not None and interrupt_after in shown:
                interrupt_after = None
                time.sleep(0.3)
                os.write(master, b"\x03")
            if resize_after is not None and resize_after in shown:
                resize_after = None
                fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    else:
        os.kill(pid, 9)
    _, status = os.waitpid(pid, 0)
    sys.stdout.write(shown.decode(errors="replace").replace("\r", ""))
    sys.exit(os.waitstatus_to_exitcode(status) & 0xFF)


main()
