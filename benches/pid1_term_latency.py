#!/usr/bin/env python3
"""Latency from SIGTERM to exit when secretrun is PID 1 of a new PID namespace (scripts/bench).

Usage (root, for unshare):
    python3 benches/pid1_term_latency.py --secretrun target/release/secretrun [--runs 20]

Each run starts

    unshare --pid --fork --mount-proc SECRETRUN -- sh -c CHILD

so secretrun is PID 1 (supervise mode, its default there) and CHILD is a shell that traps
TERM and exits 7 (killing its own `sleep` first, so nothing is left to reap). CHILD prints
`ready` once the trap is set. The driver then finds secretrun's PID as seen from outside (the
child of `unshare`), opens a pidfd on it, takes a monotonic timestamp, sends SIGTERM to
secretrun (allowed from the parent namespace), and waits for the pidfd to become readable,
which happens the moment secretrun exits. The exit status is checked through `unshare` (it
exits as its child did): it must be 7.

Reported per run: `exit_ms` (TERM sent -> secretrun exited, from the pidfd) and `parent_ms`
(TERM sent -> `unshare` reaped, i.e. what a container runtime would see). Prints one JSON
object on stdout: {"runs": [...], "timeouts": N, "exit_ms": {...stats}, "parent_ms": {...},
"status": [...]}. A run where secretrun has not exited `--timeout` seconds after the TERM is
recorded as a timeout (and secretrun is killed); after two of those the driver stops.
"""

import argparse
import json
import os
import select
import signal
import statistics
import subprocess
import sys
import time

CHILD = "trap 'kill $pid 2>/dev/null; exit 7' TERM; sleep 1000 & pid=$!; echo ready; wait"


def secretrun_pid(unshare_pid, deadline):
    """The child of `unshare` once it is secretrun (after the exec)."""
    while time.monotonic() < deadline:
        try:
            with open("/proc/%d/task/%d/children" % (unshare_pid, unshare_pid)) as f:
                kids = [int(k) for k in f.read().split()]
        except OSError:
            kids = []
        for kid in kids:
            try:
                with open("/proc/%d/comm" % kid) as f:
                    if f.read().strip() == "secretrun":
                        return kid
            except OSError:
                pass
        time.sleep(0.001)
    raise RuntimeError("secretrun did not appear under unshare")


def one_run(secretrun, timeout):
    proc = subprocess.Popen(
        ["unshare", "--pid", "--fork", "--mount-proc", secretrun, "--", "sh", "-c", CHILD],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + timeout
        line = proc.stdout.readline()
        if line.strip() != b"ready":
            raise RuntimeError("child did not get ready: %r %r" % (line, proc.stderr.read()))
        pid = secretrun_pid(proc.pid, deadline)
        pidfd = os.pidfd_open(pid)
        try:
            time.sleep(0.02)  # let the shell reach `wait`
            start = time.monotonic()
            os.kill(pid, signal.SIGTERM)
            ready, _, _ = select.select([pidfd], [], [], timeout)
            exited = time.monotonic()
            if not ready:
                # Recorded, not fatal: killing PID 1 kills the whole namespace.
                os.kill(pid, signal.SIGKILL)
                proc.wait(timeout=timeout)
                return {"exit_ms": None, "parent_ms": None, "status": "timeout"}
        finally:
            os.close(pidfd)
        status = proc.wait(timeout=timeout)
        reaped = time.monotonic()
        return {
            "exit_ms": (exited - start) * 1000.0,
            "parent_ms": (reaped - start) * 1000.0,
            "status": status,
        }
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def stats(values):
    values = sorted(values)
    return {
        "min": values[0],
        "median": statistics.median(values),
        "mean": statistics.fmean(values),
        "max": values[-1],
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--secretrun", required=True)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--timeout", type=float, default=5.0)
    args = ap.parse_args()
    secretrun = os.path.abspath(args.secretrun)
    one_run(secretrun, args.timeout)  # warm-up, not counted
    runs = []
    for _ in range(args.runs):
        runs.append(one_run(secretrun, args.timeout))
        if sum(1 for r in runs if r["status"] == "timeout") >= 2:
            break  # it will not get better; do not spend the whole budget waiting
    done = [r for r in runs if r["exit_ms"] is not None]
    empty = {"min": float("nan"), "median": float("nan"), "mean": float("nan"), "max": float("nan")}
    json.dump({
        "child": CHILD,
        "runs": runs,
        "timeouts": len(runs) - len(done),
        "exit_ms": stats([r["exit_ms"] for r in done]) if done else empty,
        "parent_ms": stats([r["parent_ms"] for r in done]) if done else empty,
        "status": sorted({str(r["status"]) for r in runs}),
    }, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
