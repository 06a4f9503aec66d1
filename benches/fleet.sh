#!/usr/bin/env bash
# benches/fleet.sh: the fleet start of BENCHMARKS.md (the "### Fleet start" subsection at the end
# of "## Reliability", which it rewrites; nothing else in the file changes). Called by
# scripts/bench with the release binary it measured.
#
#   benches/fleet.sh [SECRETRUN_BINARY]    (default: cargo build --release, target/release/secretrun)
#
# Runs benches/fleet.py twice: FLEET_PROCESSES (500) processes launched together against a real
# OpenBao with a rate-limit quota of FLEET_QUOTA (100) requests per second, then against moto
# behind tests/servers/fault_proxy.py answering FLEET_SHARE (0.25) of the requests with 429 and
# Retry-After: 1. Installs its servers with scripts/setup-test-deps. The figures are reported as
# found; the script fails only when it cannot run.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$repo"
processes=${FLEET_PROCESSES:-500}
quota=${FLEET_QUOTA:-100}
share=${FLEET_SHARE:-0.25}

eval "$(scripts/setup-test-deps)"
binary=${1:-}
if [[ -z $binary ]]; then
  cargo build --release --locked >&2
  binary=target/release/secretrun
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/secretrun-fleet.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

echo "fleet: $processes processes against OpenBao, quota $quota/s" >&2
"$TEST_VENV_BIN/python" benches/fleet.py --secretrun "$binary" --scenario vault \
  --processes "$processes" --quota "$quota" --json "$tmp/vault.json" >/dev/null
echo "fleet: $processes processes against moto, $share of the requests answered 429" >&2
"$TEST_VENV_BIN/python" benches/fleet.py --secretrun "$binary" --scenario aws \
  --processes "$processes" --share "$share" --json "$tmp/aws.json" >/dev/null

build="release build"
if readelf -S "$binary" 2>/dev/null | grep -q '\.debug_info'; then build="debug build"; fi
python3 - "$tmp/vault.json" "$tmp/aws.json" BENCHMARKS.md "$(git rev-parse --short HEAD)" \
  "$(nproc)" "$build" <<'EOF'
import json, re, sys, time

vault, aws = (json.load(open(p)) for p in sys.argv[1:3])
path, commit, cores, build = sys.argv[3:7]

def row(name, f):
    status = f["answers_by_status"]
    start = f["child_start_s"]
    return ("| %s | %d | %.2f s | %d (%.2f per process) | %d | %d | %d | %d fresh, %d from the "
            "snapshot, %d failed | %.1f / %.1f / %.1f s | %.1f MiB | %d, %d, %s |" % (
                name, f["processes"], f["launch_spread_s"], f["requests"],
                f["requests_per_process"], status.get("429", 0),
                f["peak_requests_per_second"], f["retries_logged"], f["fresh"],
                f["from_snapshot"], f["failed"], start["p50"] or 0, start["p95"] or 0,
                start["max"] or 0, f["peak_rss_mib"]["max"], f["snapshot_files"],
                f["snapshot_temp_files"], "yes" if f["fallback_only_reads_all"] else "NO"))

section = """### Fleet start

Written by [`benches/fleet.sh`](benches/fleet.sh) (from `scripts/bench`), commit %s, %s, %s
cores shared with other work, %s. [`benches/fleet.py`](benches/fleet.py) launches
every process with `posix_spawn` as fast as it can ("launched in"), each
`secretrun -s SPEC -- env -0` reading 20 secrets, all sharing one fallback snapshot primed by
one run before; requests are counted at
[`tests/servers/fault_proxy.py`](tests/servers/fault_proxy.py) in front of the server. A child
is complete when its environment holds all 20 names with their exact values; "started" is when
its output was written, after the first launch; peak RSS is each process's `ru_maxrss`
(`wait4`), secretrun and the `env` it became. The 50-process version runs in the tests
([`tests/it/fleet.rs`](tests/it/fleet.rs)).

- **OpenBao**: a real server with a global rate-limit quota of %s requests per second
  (`sys/quotas/rate-limit`, `enable_rate_limit_response_headers`: it answers 429 with
  `Retry-After`, in whole seconds to the window's end, so mostly `0`), source `%s`.
- **AWS Secrets Manager**: moto behind the proxy answering every %s request (a share of %s)
  with HTTP 429, `Retry-After: 1` and AWS's `ThrottlingException` body, source `%s`. No SDK
  call is refused more than twice, so its four attempts suffice. The AWS SDK retries these
  itself, waiting out `Retry-After` with jitter through secretrun's retry rule
  (`src/providers/aws/mod.rs`), so secretrun logs no retries there.

| server | processes | launched in | requests at the proxy | 429 answers | peak requests/s | retries logged | children complete | started p50 / p95 / max | peak RSS (max) | snapshot files, temp files, `--fallback-only` reads it |
|---|---:|---:|---:|---:|---:|---:|---|---|---:|---|
%s
%s
""" % (commit, time.strftime("%Y-%m-%d", time.gmtime()), cores, build, vault["quota_per_second"],
       vault["spec"], {0.25: "fourth", 0.5: "second"}.get(aws["throttled_share"], "n-th"),
       aws["throttled_share"], aws["spec"], row("OpenBao, quota %s/s" % vault["quota_per_second"],
                                                vault),
       row("moto, %s answered 429" % aws["throttled_share"], aws))

text = open(path, encoding="utf-8").read()
if "## Reliability" not in text:
    text = text.rstrip("\n") + "\n\n## Reliability\n"
# The subsection runs to the next heading of its level or above, or the end of the file.
pattern = re.compile(r"^### Fleet start\n.*?(?=^##? |^### |\Z)", re.S | re.M)
if pattern.search(text):
    text = pattern.sub(lambda _: section + "\n", text, count=1).rstrip("\n") + "\n"
else:
    text = text.rstrip("\n") + "\n\n" + section
open(path, "w", encoding="utf-8").write(text)
EOF
echo "fleet: BENCHMARKS.md (### Fleet start) written" >&2
