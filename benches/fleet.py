#!/usr/bin/env python3
"""A fleet starting at once: N secretrun processes launched as fast as one
Python process can (well within a second for 500), against one server.

Scenarios:
  vault  a real OpenBao server (BAO_BIN) with a rate-limit quota of --quota
         requests per second (OpenBao's own 429s, with its Retry-After headers
         enabled), reached through tests/servers/fault_proxy.py, which only
         counts.
  aws    moto (MOTO_SERVER_BIN) behind fault_proxy.py answering a --share of
         the requests with HTTP 429, Retry-After: 1 and AWS's throttling body
         (x-amzn-ErrorType: ThrottlingException), no SDK call more than twice
         (so that each call's four attempts are enough).

Each process runs `secretrun -s SPEC -- env -0` (exec: the child is the
process secretrun became) with its own stdout/stderr files; all share one
fallback snapshot, primed by one run before the fleet. Measured and checked:
every child's environment (all names, exact values; fresh or served from the
snapshot), exit codes, no secret on stderr, the retries secretrun logged
(and that each waited at least the Retry-After it was told), requests and
answers counted at the proxy (429s, peak per second; for AWS, how long each
SDK call waited after a 429 before its next attempt), the snapshot afterwards
(one file, no temp file, a --fallback-only run reads it whole), each
process's peak RSS (wait4), and when each child started (its output file's
mtime) after the first launch.

Run with the test venv's Python (boto3 seeds moto), after
`eval "$(scripts/setup-test-deps)"`:
  .venv/bin/python benches/fleet.py --secretrun target/release/secretrun \\
      --scenario vault --processes 500 --quota 100 --json out.json
Prints a summary; --json writes every figure. Exit status 0 when the script
ran, whatever the figures (the caller judges them).
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROXY = os.path.join(REPO, "tests", "servers", "fault_proxy.py")
ROOT_TOKEN = "fleet-root-token"
KEYS = 20
THROTTLED_BODY = '{"__type":"ThrottlingException","message":"Rate exceeded"}'


def secret_values():
    # Distinct, recognisable values, long enough that a search on stderr cannot hit by chance.
    return {"FLEET_KEY_%02d" % i: "fleet-value-%02d-%s" % (i, "x" * 24) for i in range(KEYS)}


def venv_bin(name):
    """A program of the test venv this script runs in (scripts/setup-test-deps)."""
    path = os.path.join(os.path.dirname(sys.executable), name)
    if not os.access(path, os.X_OK):
        raise SystemExit("fleet: no %s next to %s: run with the test venv's Python after "
                         "scripts/setup-test-deps" % (name, sys.executable))
    return path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, body=None, headers=None):
    data = None if body is None else json.dumps(body).encode("utf-8")
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return answer.status, answer.read()


class Servers:
    """Every process this script starts, stopped (SIGTERM, then SIGKILL) on close."""

    def __init__(self):
        self.processes = []

    def start(self, args, **kwargs):
        process = subprocess.Popen(args, **kwargs)
        self.processes.append(process)
        return process

    def close(self):
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def start_proxy(servers, work, upstream):
    data = os.path.join(work, "proxy.json")
    write_json(data, {"upstream": upstream, "backlog": 4096, "faults": {}})
    process = servers.start([sys.executable, PROXY, "--data", data, "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = process.stdout.readline().strip()
    port = int(line.rsplit(":", 1)[1])
    return data, "http://127.0.0.1:%d" % port


def write_json(path, obj):
    temp = path + ".tmp"
    with open(temp, "w", encoding="utf-8") as f:
        json.dump(obj, f)
    os.replace(temp, path)


def proxy_stats(data):
    with open(data + ".stats", encoding="utf-8") as f:
        return json.load(f)


def setup_vault(servers, work, args):
    bao = os.environ.get("BAO_BIN") or venv_bin("bao")
    port = free_port()
    url = "http://127.0.0.1:%d" % port
    servers.start([bao, "server", "-dev", "-dev-no-store-token",
                   "-dev-root-token-id=" + ROOT_TOKEN, "-dev-listen-address=127.0.0.1:%d" % port],
                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    auth = {"X-Vault-Token": ROOT_TOKEN}
    for _ in range(200):
        try:
            if http("GET", url + "/v1/sys/health")[0] == 200:
                break
        except OSError:
            time.sleep(0.05)
    else:
        raise SystemExit("fleet: OpenBao did not start")
    http("POST", url + "/v1/secret/data/fleet", {"data": secret_values()}, auth)
    proxy_data, proxy_url = start_proxy(servers, work, url)
    env = {"VAULT_ADDR": proxy_url, "VAULT_TOKEN": ROOT_TOKEN}

    def arm():
        # A global quota (no path): every request counts. Retry-After and the X-Ratelimit-*
        # headers are sent only with enable_rate_limit_response_headers.
        http("POST", url + "/v1/sys/quotas/config", {"enable_rate_limit_response_headers": True},
             auth)
        http("POST", url + "/v1/sys/quotas/rate-limit/fleet",
             {"rate": args.quota, "interval": "1s"}, auth)

    return "vault:secret/fleet", env, proxy_data, arm


def setup_aws(servers, work, args):
    moto = os.environ.get("MOTO_SERVER_BIN") or venv_bin("moto_server")
    process = servers.start([moto, "-H", "127.0.0.1", "-p", "0"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    port = None
    for line in process.stderr:
        found = re.search(r"Running on http://127\.0\.0\.1:(\d+)", line)
        if found:
            port = int(found.group(1))
            break
    if port is None:
        raise SystemExit("fleet: moto_server did not start")
    # Keep draining moto's request log, or it blocks once the pipe is full.
    drain = open(os.path.join(work, "moto.log"), "w", encoding="utf-8")
    servers.start(["cat"], stdin=process.stderr, stdout=drain)
    url = "http://127.0.0.1:%d" % port
    aws = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": "/nonexistent",
           "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent"}
    import boto3  # the test venv's; only the aws scenario needs it

    boto3.client("secretsmanager", endpoint_url=url, region_name="us-east-1",
                 aws_access_key_id="testing", aws_secret_access_key="testing").create_secret(
        Name="fleet/app", SecretString=json.dumps(secret_values()))
    proxy_data, proxy_url = start_proxy(servers, work, url)
    env = dict(aws, AWS_ENDPOINT_URL=proxy_url)

    def arm():
        write_json(proxy_data, {"upstream": url, "backlog": 4096, "faults": {"throttle": {
            "status": 429, "retry_after": 1, "share": args.share, "per_call": 2,
            "body": THROTTLED_BODY,
            "headers": {"x-amzn-ErrorType": "ThrottlingException"}}}})

    return "aws-sm:fleet/app", env, proxy_data, arm


def parse_env(raw):
    env = {}
    for item in raw.split(b"\0"):
        if item:
            name, _, value = item.partition(b"=")
            env[name.decode("utf-8", "replace")] = value.decode("utf-8", "replace")
    return env


def run_fleet(args):
    work = tempfile.mkdtemp(prefix="secretrun-fleet-")
    servers = Servers()
    try:
        setup = setup_vault if args.scenario == "vault" else setup_aws
        spec, source_env, proxy_data, arm = setup(servers, work, args)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": work,
               "XDG_CACHE_HOME": os.path.join(work, "cache")}
        env.update(source_env)
        command = [args.secretrun, "-s", spec, "--", "env", "-0"]
        expected = secret_values()

        prime = subprocess.run(command, env=env, capture_output=True, timeout=120)
        if prime.returncode != 0 or not subset(expected, parse_env(prime.stdout)):
            raise SystemExit("fleet: the priming run failed: %s"
                             % prime.stderr.decode("utf-8", "replace"))
        arm()
        before = proxy_stats(proxy_data)

        outputs = os.path.join(work, "out")
        os.mkdir(outputs)
        launched = []
        started = time.time()
        # posix_spawn: a fork of this (big) Python per process would not launch 500 in a second.
        binary = os.path.abspath(command[0])
        for index in range(args.processes):
            files = [(os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0)]
            for fd, suffix in ((1, "out"), (2, "err")):
                files.append((os.POSIX_SPAWN_OPEN, fd,
                              os.path.join(outputs, "%d.%s" % (index, suffix)),
                              os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
            pid = os.posix_spawn(binary, command, env, file_actions=files)
            launched.append((pid, time.time()))
        launch_spread = launched[-1][1] - started
        results = []
        for pid, _ in launched:
            _, status, usage = os.wait4(pid, 0)
            results.append((os.waitstatus_to_exitcode(status), usage.ru_maxrss))
        wall = time.time() - started
        time.sleep(0.2)  # the proxy writes its stats after each answer
        after = proxy_stats(proxy_data)

        summary = judge(args, outputs, expected, results, launched, started)
        summary.update(scenario=args.scenario, processes=args.processes, spec=spec,
                       quota_per_second=args.quota if args.scenario == "vault" else None,
                       throttled_share=args.share if args.scenario == "aws" else None,
                       launch_spread_s=round(launch_spread, 3), wall_s=round(wall, 2))
        summary.update(requests(before, after, args.processes))
        summary.update(snapshot(command, env, expected))
        return summary
    finally:
        servers.close()
        shutil.rmtree(work, ignore_errors=True)


def subset(expected, seen):
    return all(seen.get(name) == value for name, value in expected.items())


RETRY_LINE = re.compile(r"retrying.*?delay_ms=(\d+)|delay_ms=(\d+).*?retrying")


def judge(args, outputs, expected, results, launched, started):
    complete = fresh = fallback = failed = secret_on_stderr = 0
    retries, short_waits = 0, 0
    starts, peaks = [], []
    problems = []
    for index, (code, maxrss) in enumerate(results):
        out_path = os.path.join(outputs, "%d.out" % index)
        with open(out_path, "rb") as f:
            seen = parse_env(f.read())
        with open(os.path.join(outputs, "%d.err" % index), encoding="utf-8",
                  errors="replace") as f:
            stderr = f.read()
        peaks.append(maxrss / 1024.0)
        if any(value in stderr for value in expected.values()):
            secret_on_stderr += 1
        for line in stderr.splitlines():
            found = RETRY_LINE.search(line)
            if found:
                retries += 1
                delay = int(found.group(1) or found.group(2))
                # Every 429 of the aws scenario says Retry-After: 1.
                if "HTTP 429" in line and args.scenario == "aws" and delay < 1000:
                    short_waits += 1
        if code == 0 and subset(expected, seen):
            complete += 1
            starts.append(os.stat(out_path).st_mtime - started)
            if "last-known-good" in stderr:
                fallback += 1
            else:
                fresh += 1
        else:
            failed += 1
            if len(problems) < 3:
                problems.append("process %d: exit %s: %s" % (index, code, stderr.strip()[-400:]))
    starts.sort()

    def percentile(values, share):
        if not values:
            return None
        return round(values[min(len(values) - 1, int(share * len(values)))], 2)

    return {"complete": complete, "fresh": fresh, "from_snapshot": fallback, "failed": failed,
            "secret_on_stderr": secret_on_stderr, "retries_logged": retries,
            "retries_shorter_than_retry_after": short_waits,
            "child_start_s": {"p50": percentile(starts, 0.5), "p95": percentile(starts, 0.95),
                              "max": percentile(starts, 1.0)},
            "peak_rss_mib": {"max": round(max(peaks), 1),
                             "p50": round(sorted(peaks)[len(peaks) // 2], 1)},
            "problems": problems}


def requests(before, after, processes):
    by_status = {status: count - before["by_status"].get(status, 0)
                 for status, count in after["by_status"].items()}
    by_status = {status: count for status, count in by_status.items() if count}
    buckets = {int(k): v - before["per_100ms"].get(k, 0) for k, v in after["per_100ms"].items()}
    buckets = {k: v for k, v in buckets.items() if v}
    peak = 0
    for start in buckets:
        peak = max(peak, sum(buckets.get(start + i, 0) for i in range(10)))
    total = after["requests"] - before["requests"]
    waits = [wait["waited_ms"]
             for wait in after.get("retry_waits", [])[len(before.get("retry_waits", [])):]]
    return {"requests": total, "requests_per_process": round(total / processes, 2),
            "retry_waits_ms": sorted(waits),
            "answers_by_status": by_status, "peak_requests_per_second": peak,
            "seconds_with_requests": round(len(buckets) / 10.0, 1)}


def snapshot(command, env, expected):
    directory = os.path.join(env["XDG_CACHE_HOME"], "secretrun")
    names = os.listdir(directory)
    offline = subprocess.run([command[0], "--fallback-only"] + command[1:], env=env,
                             capture_output=True, timeout=60)
    return {"snapshot_files": sum(1 for n in names if n.endswith(".snapshot")),
            "snapshot_temp_files": sum(1 for n in names if n.startswith(".snapshot-")),
            "fallback_only_reads_all": offline.returncode == 0
            and subset(expected, parse_env(offline.stdout))}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--secretrun", required=True)
    parser.add_argument("--scenario", choices=["vault", "aws"], required=True)
    parser.add_argument("--processes", type=int, default=500)
    parser.add_argument("--quota", type=int, default=100,
                        help="vault: OpenBao's rate limit, requests per second")
    parser.add_argument("--share", type=float, default=0.25,
                        help="aws: the share of requests answered 429")
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args()
    summary = run_fleet(args)
    text = json.dumps(summary, indent=2, sort_keys=True)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
