#!/usr/bin/env bash
# Proves that tests/servers/gcp_stub.py speaks Google's APIs: Google's own gcloud
# CLI (and the google-auth library gcloud bundles) is pointed at the stub on
# 127.0.0.1 and must read exactly the stub's data, verify its checksums, follow
# its pages, and get tokens from its OAuth endpoint and metadata server.
#
# gcloud is not installable from the registries the tests use (it comes from
# Google's own apt repository), so without it this check says so and exits 0:
# the stub is then only as good as its reading of the REST reference.
# GCLOUD_BIN picks the binary (default: gcloud on PATH).
# Quiet on success apart from one closing "N passed, N failed" line; exits
# non-zero on any mismatch. Never contacts anything but 127.0.0.1.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
python=${PYTHON:-python3}
gcloud_bin=${GCLOUD_BIN:-$(command -v gcloud || true)}
if [[ -z $gcloud_bin || ! -x $gcloud_bin ]]; then
  echo "check_gcp_stub: skipped: no gcloud (GCLOUD_BIN or gcloud on PATH)"
  exit 0
fi
sdk_root=$(cd "$(dirname "$(readlink -f "$gcloud_bin")")/.." && pwd -P)

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
  echo "check_gcp_stub: FAIL: $*" >&2
}

# ---- keys and data -------------------------------------------------------
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/key.pem" 2>/dev/null
openssl pkey -in "$tmp/key.pem" -pubout -out "$tmp/key.pub.pem"

# Values chosen to trip up quoting and encodings: newlines, quotes, unicode,
# bytes that are not UTF-8.
"$python" - "$tmp" <<'EOF'
import json, sys
tmp = sys.argv[1]
public = open(tmp + "/key.pub.pem").read()
secrets = {
    "plain": {"versions": {"1": {"data": "old"}, "2": {"data": "hello"}},
              "labels": {"env": "prod", "team": "a"}, "aliases": {"stable": 1}},
    "multiline": {"versions": {"1": {"data": "line1\nline2\n\t\"quoted\" päss ✓"}},
                  "labels": {"env": "prod"}},
    "binary": {"versions": {"1": {"data_b64": "AP8BgH8K"}}, "labels": {"env": "dev"}},
    "disabled": {"versions": {"1": {"data": "x"}, "2": {"data": "y", "state": "DISABLED"}}},
    "app-db": {"versions": {"1": {"data": "db"}}},
    "app-api": {"versions": {"1": {"data": "api"}}},
}
data = {
    "projects": {"proj-a": {"number": "123456789", "secrets": secrets}},
    "tokens": {"tok-reader": {"projects": ["proj-a"]}, "tok-outsider": {"projects": []},
               "tok-sa": {"projects": ["proj-a"]}, "tok-user": {"projects": ["proj-a"]},
               "tok-metadata": {"projects": ["proj-a"]}},
    "service_accounts": {"sa@proj-a.iam.gserviceaccount.com":
                         {"public_key": public, "key_id": "kid1", "token": "tok-sa"}},
    "refresh_tokens": {"1//refresh-check": {"client_id": "cid", "client_secret": "csecret",
                                            "token": "tok-user"}},
    "metadata": {"token": "tok-metadata", "project_id": "proj-a",
                 "email": "vm@proj-a.iam.gserviceaccount.com"},
    "max_page_size": 2,
    "faults": {},
}
json.dump(data, open(tmp + "/data.json", "w"))
EOF

set_faults() {  # $1 = JSON object for "faults"
  "$python" - "$tmp/data.json" "$1" <<'EOF'
import json, os, sys
path, faults = sys.argv[1], json.loads(sys.argv[2])
d = json.load(open(path))
d["faults"] = faults
json.dump(d, open(path + ".new", "w"))
os.replace(path + ".new", path)
EOF
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
"$python" "$here/gcp_stub.py" --data "$tmp/data.json" --port 0 \
  >"$tmp/stub.out" 2>"$tmp/stub.err" &
stub_pid=$!
port=
for _ in $(seq 100); do
  if read -r line 2>/dev/null <"$tmp/stub.out" && [[ $line =~ ^listening\ on\ 127\.0\.0\.1:([0-9]+)$ ]]; then
    port=${BASH_REMATCH[1]}
    break
  fi
  kill -0 "$stub_pid" 2>/dev/null || break
  sleep 0.05
done
if [[ -z $port ]]; then
  cat "$tmp/stub.err" >&2
  echo "check_gcp_stub: stub did not report its port" >&2
  exit 1
fi

# ---- gcloud, isolated from the user's config and the internet -----------
printf 'tok-reader' >"$tmp/tok-reader"
printf 'tok-outsider' >"$tmp/tok-outsider"
printf 'tok-unknown' >"$tmp/tok-unknown"
gcloud() {
  # CLOUDSDK_CONFIG: a fresh config dir. The endpoint override must end in
  # '/'. HTTPS_PROXY/HTTP_PROXY at a dead local port (NO_PROXY for the stub)
  # make any request that is not for the stub fail at once.
  env -i PATH="$PATH" HOME="$tmp/home" CLOUDSDK_CONFIG="$tmp/gcloud-config" \
    CLOUDSDK_CORE_DISABLE_PROMPTS=1 CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK=1 \
    CLOUDSDK_CORE_DISABLE_USAGE_REPORTING=1 \
    CLOUDSDK_API_ENDPOINT_OVERRIDES_SECRETMANAGER="http://127.0.0.1:$port/" \
    HTTPS_PROXY=http://127.0.0.1:9 HTTP_PROXY=http://127.0.0.1:9 NO_PROXY=127.0.0.1 \
    "$gcloud_bin" "$@"
}
access() {  # $1 = version, $2 = secret, $3 = token file; raw bytes to $tmp/out
  gcloud secrets versions access "$1" --secret="$2" --project=proj-a \
    --access-token-file="$3" --out-file="$tmp/out"
}
same_bytes() {  # $1 = secret, $2 = version number; compares $tmp/out with the data
  "$python" - "$tmp/data.json" "$1" "$2" "$tmp/out" <<'EOF'
import base64, json, sys
d, sid, n, out = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3], sys.argv[4]
v = d["projects"]["proj-a"]["secrets"][sid]["versions"][n]
want = base64.b64decode(v["data_b64"]) if "data_b64" in v else v["data"].encode()
sys.exit(0 if open(out, "rb").read() == want else 1)
EOF
}

# 1. access latest / a number / an alias, byte for byte (gcloud verifies the
#    CRC32C the stub sends).
for case in "latest plain 2" "1 plain 1" "stable plain 1" "latest multiline 1" "latest binary 1"; do
  read -r version secret n <<<"$case"
  if access "$version" "$secret" "$tmp/tok-reader" 2>"$tmp/err"; then
    same_bytes "$secret" "$n" && ok || fail "access $version $secret: bytes differ"
  else
    fail "access $version $secret: $(cat "$tmp/err")"
  fi
done

# 2. Listing across pages (six secrets, two a page), and a label filter, which
#    gcloud sends to the server as `filter=labels.env=prod`.
want='app-api app-db binary disabled multiline plain'
got=$(gcloud secrets list --project=proj-a --access-token-file="$tmp/tok-reader" \
  --format='value(name)' 2>"$tmp/err" | xargs -n1 basename | sort | xargs) || true
[[ $got == "$want" ]] && ok || fail "list: got [$got], want [$want]: $(cat "$tmp/err")"
got=$(gcloud secrets list --project=proj-a --access-token-file="$tmp/tok-reader" \
  --filter='labels.env=prod' --format='value(name)' 2>"$tmp/err" | xargs -n1 basename | sort | xargs) || true
[[ $got == "multiline plain" ]] && ok || fail "label filter: got [$got]: $(cat "$tmp/err")"
got=$(gcloud secrets list --project=proj-a --access-token-file="$tmp/tok-reader" \
  --filter='name:app-' --format='value(name)' 2>"$tmp/err" | xargs -n1 basename | sort | xargs) || true
[[ $got == "app-api app-db" ]] && ok || fail "name filter: got [$got]: $(cat "$tmp/err")"
[[ $(stats 's["by_path"].get("/v1/projects/proj-a/secrets", 0) >= 5') == True ]] && ok \
  || fail "the listing did not page"

# 3. Errors as GCP words them.
expect_error() {  # $1 = what, $2 = grep pattern, rest = access args
  local what=$1 pattern=$2
  shift 2
  if access "$@" 2>"$tmp/err"; then
    fail "$what: gcloud succeeded"
  else
    grep -q -- "$pattern" "$tmp/err" && ok || fail "$what: unexpected error: $(cat "$tmp/err")"
  fi
}
expect_error "disabled version" "FAILED_PRECONDITION.*DISABLED state" latest disabled "$tmp/tok-reader"
expect_error "missing secret" "NOT_FOUND" latest nope "$tmp/tok-reader"
expect_error "unknown token" "UNAUTHENTICATED" latest plain "$tmp/tok-unknown"
expect_error "no permission" "PERMISSION_DENIED" latest plain "$tmp/tok-outsider"

# 4. A corrupted checksum: gcloud refuses the payload.
set_faults '{"crc-1": {"corrupt_crc": true, "count": 1}}'
expect_error "corrupted checksum" "crc32c" latest plain "$tmp/tok-reader"
set_faults '{}'

# 5. A service account key: gcloud signs the JWT, the stub verifies it and
#    issues the account's token, which then reads.
"$python" - "$tmp" "$port" <<'EOF'
import json, sys
tmp, port = sys.argv[1], sys.argv[2]
json.dump({"type": "service_account", "project_id": "proj-a", "private_key_id": "kid1",
           "private_key": open(tmp + "/key.pem").read(),
           "client_email": "sa@proj-a.iam.gserviceaccount.com", "client_id": "1",
           "token_uri": "http://127.0.0.1:%s/token" % port}, open(tmp + "/sa.json", "w"))
EOF
if gcloud auth activate-service-account --key-file="$tmp/sa.json" >/dev/null 2>"$tmp/err" \
  && gcloud secrets versions access 2 --secret=plain --project=proj-a --out-file="$tmp/out" 2>>"$tmp/err"; then
  same_bytes plain 2 && ok || fail "service account: bytes differ"
else
  fail "service account: $(cat "$tmp/err")"
fi
[[ $(stats 's["token_requests"].get("sa@proj-a.iam.gserviceaccount.com", 0) >= 1') == True ]] && ok \
  || fail "no token was issued for the service account"

# 6. Google's auth library (bundled with gcloud): an authorized_user refresh
#    and the metadata server's token.
bundled_python=$(ls "$sdk_root"/platform/bundledpythonunix/bin/python3 2>/dev/null || echo "$python")
if env -i PATH="$PATH" PYTHONPATH="$sdk_root/lib/third_party:$sdk_root/lib" \
  GCE_METADATA_HOST="127.0.0.1:$port" NO_PROXY=127.0.0.1 \
  "$bundled_python" - "$port" >"$tmp/auth.out" 2>"$tmp/err" <<'EOF'
import sys
import google.auth.transport.requests as transport
from google.auth import compute_engine
from google.oauth2 import credentials as user_credentials
port = sys.argv[1]
request = transport.Request()
user = user_credentials.Credentials(
    None, refresh_token="1//refresh-check", client_id="cid", client_secret="csecret",
    token_uri="http://127.0.0.1:%s/token" % port)
user.refresh(request)
gce = compute_engine.Credentials()
gce.refresh(request)
print(user.token == "tok-user", gce.token == "tok-metadata")
EOF
then
  [[ $(cat "$tmp/auth.out") == "True True" ]] && ok || fail "google-auth tokens: $(cat "$tmp/auth.out")"
else
  fail "google-auth: $(cat "$tmp/err")"
fi

# 7. The stub's log never holds a token, a key or a secret value.
if grep -q -e 'tok-' -e 'hello' -e 'päss' -e '1//refresh' -e 'PRIVATE KEY' "$tmp/stub.err"; then
  fail "the stub logged a token, a key or a secret value"
else
  ok
fi

echo "check_gcp_stub: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
