"""What the vendor-SDK checks of the stand-ins share (check_azure_stub_sdk.py,
check_gcp_stub_sdk.py): starting a stand-in, running the built secretrun on the
same data, and counting results. Stdlib only; imported, never run.

Each check drives a stand-in with the vendor's official Python SDK, then runs
secretrun against the same data and fails on any difference between what the
two read. Nothing secret is printed: a mismatch names the secret, never a
value.
"""

import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


class Check:
    """Counts passed and failed assertions; prints only failures and one summary line."""

    def __init__(self, name):
        self.name = name
        self.passed = 0
        self.failed = 0

    def ok(self, condition, what):
        if condition:
            self.passed += 1
        else:
            self.failed += 1
            sys.stderr.write("%s: FAIL: %s\n" % (self.name, what))
        return condition

    def equal(self, got, want, what):
        """`what` names the compared thing; values are never shown (they are secrets)."""
        return self.ok(got == want, what)

    def finish(self):
        print("%s: %d passed, %d failed" % (self.name, self.passed, self.failed))
        sys.exit(1 if self.failed or not self.passed else 0)


def write_json(path, obj):
    temp = path + ".tmp"
    with open(temp, "w", encoding="utf-8") as f:
        json.dump(obj, f)
    os.replace(temp, path)


class Stub:
    """A stand-in from this directory on 127.0.0.1, stopped on exit of the `with` block."""

    def __init__(self, script, data_path, *args):
        self.process = subprocess.Popen(
            [sys.executable, os.path.join(HERE, script), "--data", data_path, "--port", "0",
             *args],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.process.stdout.readline().strip()
        prefix = "listening on 127.0.0.1:"
        if not line.startswith(prefix):
            self.close()
            raise RuntimeError("%s did not start (printed %r)" % (script, line))
        self.port = int(line[len(prefix):])

    def close(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def secretrun_binary():
    binary = os.environ.get("SECRETRUN_BIN") or os.path.join(REPO, "target", "debug",
                                                             "secretrun")
    if not os.access(binary, os.X_OK):
        raise RuntimeError("no secretrun binary at %s (cargo build, or set SECRETRUN_BIN)"
                           % binary)
    return binary


def secretrun_env(sources, env):
    """Runs `secretrun -s SOURCE... -- env -0` with only `env` (plus PATH) and returns
    (exit status, the variables secretrun gave the child beyond `env` as {name: bytes},
    stderr)."""
    args = [secretrun_binary()]
    for source in sources:
        args += ["-s", source]
    args += ["--", "env", "-0"]
    child_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/nonexistent"}
    child_env.update(env)
    run = subprocess.run(args, env=child_env, capture_output=True, timeout=60,
                         stdin=subprocess.DEVNULL)
    seen = {}
    for item in run.stdout.split(b"\0"):
        if item:
            name, _, value = item.partition(b"=")
            name = name.decode("utf-8", "replace")
            if child_env.get(name, "").encode("utf-8") != value:
                seen[name] = value
    return run.returncode, seen, run.stderr.decode("utf-8", "replace")


def env_name(key):
    """secretrun's naming of a secret id (src/providers/naming.rs): upper-cased, anything but
    [A-Za-z0-9_] turned into `_`."""
    return "".join(c.upper() if c.isascii() and c.isalnum() else "_" for c in key)
