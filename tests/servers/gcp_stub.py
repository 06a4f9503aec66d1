#!/usr/bin/env python3
"""Local stand-in for Google Cloud Secret Manager, Google's OAuth 2.0 token
endpoint and the GCE metadata server (stdlib Python), for secretrun's tests.

GCP ships no Secret Manager emulator, so this serves the documented REST
shapes instead (Secret Manager REST reference v1, Google's OAuth 2.0 for
service accounts, the Compute Engine metadata server); check_gcp_stub.sh
checks it against Google's own gcloud CLI where one is installed.

Usage:
    python3 gcp_stub.py --data FILE [--port 0]

Binds 127.0.0.1:PORT (0 = a free port), then prints exactly one line
`listening on 127.0.0.1:PORT` to stdout (flushed). Every request re-reads
FILE, so a test can change secrets, credentials or faults between calls.
One line per request goes to stderr: method, path (no query string), status,
and for an error its status name or OAuth error. Tokens, keys, assertions and
secret values are never logged.

Data file schema (JSON):

{
  "projects": {
    "<project id>": {
      "number": "123456789",        # optional; names in answers use it, as
                                    #   GCP does; paths accept id or number
      "secrets": {
        "<secret id>": {
          "labels": {"env": "prod"},             # optional
          "versions": {                          # "1", "2", ...; latest =
            "1": {"data": "text"},               #   the highest number
            "2": {"data_b64": "AAEC", "state": "DISABLED"}
          },                                     # state: ENABLED (default),
                                                 #   DISABLED, DESTROYED
          "aliases": {"prod": 1}                 # optional version aliases
        }
      }
    }
  },
  "tokens": {                        # access tokens the API accepts
    "<access token>": {"projects": ["<project id>"]}
                                     # a token may read these projects; any
                                     #   other answers 403
  },
  "service_accounts": {              # keys the token endpoint accepts
    "<client_email>": {
      "public_key": "-----BEGIN PUBLIC KEY-----...",
      "key_id": "abc",               # optional; the JWT's kid must match
      "token": "<access token>"      # what a good assertion is exchanged for
    }
  },
  "refresh_tokens": {                # authorized_user (gcloud ADC) grants
    "<refresh token>": {"client_id": "...", "client_secret": "...",
                        "token": "<access token>"}
  },
  "metadata": {"token": "<access token>", "project_id": "p", "email": "..."},
                                     # optional; without it the metadata
                                     #   paths answer 404
  "max_page_size": 2,                # optional: a list page holds at most
                                     #   this many secrets (default 2)
  "faults": {
    "<fault id>": {
      "status": 429,                 # optional: answer with this status and
                                     #   Google's error body instead
      "retry_after": 1,              # optional: Retry-After header (seconds)
      "delay_ms": 300,               # optional: sleep this long first
      "corrupt_crc": true,           # optional: access answers carry a wrong
                                     #   dataCrc32c
      "count": 2,                    # optional: only the first `count`
                                     #   matching requests; omitted = all
      "token": "<access token>",     # optional: only requests with this
                                     #   bearer token
      "secret": "<secret id>",       # optional: only requests for this
                                     #   secret (access and get)
      "path": "/token"               # optional: only this exact path
    }
  }
}

Write the file atomically (temp file, then rename): a request that reads a
half-written file gets a 500.

Faults apply to every path but /__stub/ (the token endpoint and the metadata
server included), in sorted id order: each matching active fault counts the
request as a hit; delays add up; the first with a "status" decides it. A
fault's count is consumed when the request arrives.

Secret Manager (https://secretmanager.googleapis.com/v1/...):
  GET /v1/projects/P/secrets/S/versions/V:access
      -> {"name": "projects/NUM/secrets/S/versions/N",
          "payload": {"data": "<base64>", "dataCrc32c": "<int64 as string>"}}
      V: a number, "latest" (the highest number, whatever its state) or an
      alias. DISABLED/DESTROYED -> 400 FAILED_PRECONDITION; no such secret,
      or no versions -> 404 NOT_FOUND.
  GET /v1/projects/P/secrets[?pageSize=&pageToken=&filter=]
      -> {"secrets": [{"name", "replication", "createTime", "labels",
          "etag"}], "nextPageToken": "...", "totalSize": N}; as proto3 JSON,
      empty fields are left out (no secrets -> {}). Pages hold at most
      max_page_size secrets; names sorted. filter: terms joined by AND, each
      name:TEXT (the name contains TEXT), labels.K=V, labels.K:V, labels.K:*
      (K has any value); values may be double-quoted. Anything else -> 400.
  GET /v1/projects/P/secrets/S       -> the secret
  GET /v1/projects/P/secrets/S/versions -> {"versions": [...], "totalSize"}
  POST /v1/projects/P/secrets?secretId=S  {"replication": {...}, "labels"?}
      -> the new secret (no versions yet); 409 ALREADY_EXISTS if it exists.
  POST /v1/projects/P/secrets/S:addVersion
      {"payload": {"data": "<base64>", "dataCrc32c": "<int64>"?}}
      -> {"name": ".../versions/N", "createTime", "state": "ENABLED",
          "replicationStatus", "etag", "clientSpecifiedPayloadChecksum"}; a
      dataCrc32c that does not match the data -> 400 INVALID_ARGUMENT.
      Both write the data file (atomically, under the stub's lock).
  Auth: "Authorization: Bearer TOKEN". Missing or unknown -> 401
  UNAUTHENTICATED; a project the token may not read -> 403 PERMISSION_DENIED.
  Errors: {"error": {"code": N, "message": "...", "status": "..."}}.

OAuth 2.0 token endpoint:
  POST /token (application/x-www-form-urlencoded)
    grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=JWT
      The JWT (RS256) must be signed by the service account's key (checked
      with `cryptography` when importable, else `openssl dgst -verify`),
      iss = a known client_email, aud = this endpoint's URL
      (http://HOST/token) or https://oauth2.googleapis.com/token, scope
      present, iat/exp valid, exp - iat <= 3600.
    grant_type=refresh_token&client_id=&client_secret=&refresh_token=
    -> {"access_token", "expires_in": 3599, "token_type": "Bearer"}
    Refusals as Google's: 400 {"error": "invalid_grant",
    "error_description": ...}, 401 {"error": "invalid_client", ...}.

GCE metadata server (GCE_METADATA_HOST=127.0.0.1:PORT):
  GET /computeMetadata/v1/instance/service-accounts/default/token
      -> {"access_token", "expires_in", "token_type": "Bearer"}
  GET /computeMetadata/v1/instance/service-accounts/default/[?recursive=true]
      -> {"aliases": ["default"], "email", "scopes"}
      ("default" or the account's email, as on GCE)
  GET /computeMetadata/v1/project/project-id -> text
  Both need "Metadata-Flavor: Google" (else 403) and answer with it.

Test helpers (never faulted):
  GET  /__stub/stats -> {"requests": N, "by_path": {path: N},
                         "token_requests": {client_email | client_id |
                         "metadata": N}, "fault_hits": {id: N}}
  POST /__stub/reset -> clears those counters
"""

import argparse
import base64
import binascii
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
METADATA_PREFIX = "/computeMetadata/v1/"
DEFAULT_MAX_PAGE_SIZE = 2
CREATE_TIME = "2024-01-01T00:00:00.000000Z"


# ---- CRC32C (Castagnoli), table-driven, as Secret Manager computes it -----

def _crc32c_table():
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


CRC32C_TABLE = _crc32c_table()


def crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc = CRC32C_TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


assert crc32c(b"123456789") == 0xE3069283  # the standard check value


# ---- RS256 -----------------------------------------------------------------

def verify_rs256(public_pem, signing_input, signature):
    """True when `signature` is an RSASSA-PKCS1-v1_5 SHA-256 signature of
    `signing_input` by the key in `public_pem`."""
    try:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import padding
    except ImportError:
        return verify_with_openssl(public_pem, signing_input, signature)
    try:
        key = serialization.load_pem_public_key(public_pem.encode("ascii"))
        key.verify(signature, signing_input, padding.PKCS1v15(), hashes.SHA256())
        return True
    except (InvalidSignature, ValueError, TypeError):
        return False


def verify_with_openssl(public_pem, signing_input, signature):
    with tempfile.TemporaryDirectory() as d:
        key_path = os.path.join(d, "key.pem")
        sig_path = os.path.join(d, "sig.bin")
        with open(key_path, "w", encoding="ascii") as f:
            f.write(public_pem)
        with open(sig_path, "wb") as f:
            f.write(signature)
        result = subprocess.run(
            ["openssl", "dgst", "-sha256", "-verify", key_path, "-signature", sig_path],
            input=signing_input, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            check=False)
        return result.returncode == 0


def b64url_decode(text):
    text = text + "=" * (-len(text) % 4)
    return base64.urlsafe_b64decode(text.encode("ascii"))


# ---- state -----------------------------------------------------------------

class State:
    def __init__(self, data_path):
        self.data_path = data_path
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.requests = 0
        self.by_path = {}
        self.token_requests = {}
        self.fault_hits = {}

    def load(self):
        with open(self.data_path, "r", encoding="utf-8") as f:
            data = json.load(f)
        if not isinstance(data, dict):
            raise ValueError("data file must hold a JSON object")
        return data

    def count_token_request(self, who):
        with self.lock:
            self.token_requests[who] = self.token_requests.get(who, 0) + 1


class ApiError(Exception):
    """A Google API error: {"error": {"code", "message", "status"}}."""

    def __init__(self, code, status, message, headers=None):
        super().__init__(message)
        self.code = code
        self.status = status
        self.message = message
        self.headers = headers or {}


class OAuthError(Exception):
    """An OAuth 2.0 error: {"error", "error_description"}."""

    def __init__(self, code, error, description):
        super().__init__(description)
        self.code = code
        self.error = error
        self.description = description


STATUS_NAMES = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
                404: "NOT_FOUND", 409: "ALREADY_EXISTS", 429: "RESOURCE_EXHAUSTED",
                500: "INTERNAL", 502: "UNAVAILABLE", 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED"}


# ---- filter (List-operation filtering, the subset documented for secrets) --

def unquote_value(text):
    text = text.strip()
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        return text[1:-1]
    return text


def parse_filter(text):
    """Returns predicates over (full name, labels); raises ApiError on a term
    this stub does not know."""
    predicates = []
    for term in [t.strip() for t in text.split(" AND ")] if text.strip() else []:
        if term.startswith("name:"):
            needle = unquote_value(term[len("name:"):])
            predicates.append(lambda name, labels, n=needle: n in name)
            continue
        if term.startswith("labels."):
            rest = term[len("labels."):]
            if "=" in rest:
                key, value = rest.split("=", 1)
                exact = True
            elif ":" in rest:
                key, value = rest.split(":", 1)
                exact = False
            else:
                raise ApiError(400, "INVALID_ARGUMENT", "Invalid filter: %s" % term)
            key, value = key.strip(), unquote_value(value)
            if not exact and value == "*":
                predicates.append(lambda name, labels, k=key: k in labels)
            else:
                predicates.append(lambda name, labels, k=key, v=value: labels.get(k) == v)
            continue
        raise ApiError(400, "INVALID_ARGUMENT", "Invalid filter: %s" % term)
    return predicates


class Handler(BaseHTTPRequestHandler):
    server_version = "gcp-stub"
    protocol_version = "HTTP/1.1"

    def version_string(self):
        return self.server_version

    # ---- plumbing -------------------------------------------------------

    def log_message(self, fmt, *args):  # silence http.server's own log
        pass

    def log_line(self, status, detail=""):
        path = urlsplit(self.path).path
        suffix = " " + detail if detail else ""
        sys.stderr.write("gcp-stub: %s %s %d%s\n" % (self.command, path, status, suffix))
        sys.stderr.flush()

    def send(self, status, body, content_type="application/json; charset=UTF-8", headers=None,
             detail=""):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()
        self.log_line(status, detail)

    def send_json(self, status, obj, headers=None, detail=""):
        body = json.dumps(obj, indent=2).encode("utf-8")
        self.send(status, body, headers=headers, detail=detail)

    def send_api_error(self, e):
        body = {"error": {"code": e.code, "message": e.message, "status": e.status}}
        headers = dict(e.headers)
        if e.code == 401:
            headers.setdefault("WWW-Authenticate", 'Bearer realm="https://accounts.google.com/"')
        self.send_json(e.code, body, headers=headers, detail=e.status)

    def send_oauth_error(self, e):
        # The error code and description name no credential, so the log may say why.
        self.send_json(e.code, {"error": e.error, "error_description": e.description},
                       detail="%s: %s" % (e.error, e.description))

    # ---- dispatch -------------------------------------------------------

    def do_GET(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    def dispatch(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        path = url.path
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        state = self.server.state

        if path.startswith("/__stub/"):
            return self.stub_control(path)

        try:
            data = state.load()
        except (OSError, ValueError) as e:
            sys.stderr.write("gcp-stub: cannot read data file: %s\n" % e)
            return self.send_api_error(ApiError(500, "INTERNAL", "stub data file unreadable"))

        token = self.bearer()
        secret = self.secret_in_path(path)
        fault = self.apply_faults(data, path, token, secret)
        if fault.get("status") is not None:
            status = int(fault["status"])
            headers = {}
            if "retry_after" in fault:
                headers["Retry-After"] = str(fault["retry_after"])
            message = self.responses.get(status, ("Error",))[0]
            return self.send_api_error(
                ApiError(status, STATUS_NAMES.get(status, "UNKNOWN"), message, headers))

        try:
            if path == "/token":
                if self.command != "POST":
                    raise ApiError(405, "METHOD_NOT_ALLOWED", "Method not allowed")
                return self.token_endpoint(data, body)
            if path.startswith(METADATA_PREFIX):
                return self.metadata(data, path[len(METADATA_PREFIX):])
            if path.startswith("/v1/"):
                if self.command == "POST":
                    return self.secret_manager_write(data, path[len("/v1/"):], query, token,
                                                     body)
                if self.command != "GET":
                    raise ApiError(405, "METHOD_NOT_ALLOWED", "Method not allowed")
                return self.secret_manager(data, path[len("/v1/"):], query, token, fault)
            raise ApiError(404, "NOT_FOUND", "Not found")
        except ApiError as e:
            self.send_api_error(e)
        except OAuthError as e:
            self.send_oauth_error(e)

    def apply_faults(self, data, path, token, secret):
        """Counts hits, sleeps the delays; returns the merged effect."""
        state = self.server.state
        faults = data.get("faults") or {}
        effect = {}
        delay_ms = 0
        with state.lock:
            state.requests += 1
            state.by_path[path] = state.by_path.get(path, 0) + 1
            for fid in sorted(faults):
                f = faults[fid]
                if not isinstance(f, dict):
                    continue
                if "path" in f and f["path"] != path:
                    continue
                if "token" in f and f["token"] != token:
                    continue
                if "secret" in f and f["secret"] != secret:
                    continue
                hits = state.fault_hits.get(fid, 0)
                if "count" in f and hits >= int(f["count"]):
                    continue
                state.fault_hits[fid] = hits + 1
                delay_ms += int(f.get("delay_ms", 0))
                if effect.get("status") is None and "status" in f:
                    effect["status"] = f["status"]
                    if "retry_after" in f:
                        effect["retry_after"] = f["retry_after"]
                if f.get("corrupt_crc"):
                    effect["corrupt_crc"] = True
        if delay_ms:
            time.sleep(delay_ms / 1000.0)
        return effect

    def stub_control(self, path):
        state = self.server.state
        if path == "/__stub/stats" and self.command == "GET":
            with state.lock:
                obj = {"requests": state.requests, "by_path": dict(state.by_path),
                       "token_requests": dict(state.token_requests),
                       "fault_hits": dict(state.fault_hits)}
            return self.send_json(200, obj)
        if path == "/__stub/reset" and self.command == "POST":
            with state.lock:
                state.reset()
            return self.send_json(200, {})
        return self.send_api_error(ApiError(404, "NOT_FOUND", "Not found"))

    def bearer(self):
        scheme, _, rest = (self.headers.get("Authorization") or "").strip().partition(" ")
        if scheme.lower() == "bearer":
            return rest.strip() or None
        return None

    @staticmethod
    def secret_in_path(path):
        parts = path.split("/")
        # /v1/projects/P/secrets/S[/versions/V[:access]]
        if len(parts) >= 6 and parts[1:3] == ["v1", "projects"] and parts[4] == "secrets":
            return unquote(parts[5])
        return None

    # ---- OAuth 2.0 token endpoint ----------------------------------------

    def token_endpoint(self, data, body):
        form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace"),
                                               keep_blank_values=True).items()}
        grant = form.get("grant_type")
        if grant == JWT_GRANT:
            email, token = self.jwt_grant(data, form.get("assertion") or "")
            self.server.state.count_token_request(email)
        elif grant == "refresh_token":
            client_id, token = self.refresh_grant(data, form)
            self.server.state.count_token_request(client_id)
        else:
            raise OAuthError(400, "unsupported_grant_type", "Invalid grant_type: %s" % grant)
        self.send_json(200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"})

    def jwt_grant(self, data, assertion):
        parts = assertion.split(".")
        if len(parts) != 3:
            raise OAuthError(400, "invalid_request", "Invalid JWT: expected three segments.")
        try:
            header = json.loads(b64url_decode(parts[0]))
            claims = json.loads(b64url_decode(parts[1]))
            signature = b64url_decode(parts[2])
        except (ValueError, binascii.Error):
            raise OAuthError(400, "invalid_grant", "Invalid JWT: not base64url JSON.")
        if header.get("alg") != "RS256":
            raise OAuthError(400, "invalid_grant", "Invalid JWT: alg must be RS256.")
        account = (data.get("service_accounts") or {}).get(claims.get("iss"))
        if not isinstance(account, dict):
            raise OAuthError(400, "invalid_grant", "Invalid grant: account not found")
        if account.get("key_id") and header.get("kid") != account["key_id"]:
            raise OAuthError(400, "invalid_grant", "Invalid JWT Signature.")
        signing_input = (parts[0] + "." + parts[1]).encode("ascii")
        if not verify_rs256(account.get("public_key") or "", signing_input, signature):
            raise OAuthError(400, "invalid_grant", "Invalid JWT Signature.")
        # Google's own endpoint takes its canonical URL as the audience (which Google's Python
        # library always sends); this endpoint also takes its own URL (the key file's token_uri,
        # which other clients send).
        expected_aud = "http://%s/token" % (self.headers.get("Host") or "")
        if claims.get("aud") not in (expected_aud, GOOGLE_TOKEN_URI):
            raise OAuthError(400, "invalid_grant",
                             "Invalid JWT: Failed audience check. The right audience is %s"
                             % expected_aud)
        if not claims.get("scope"):
            raise OAuthError(400, "invalid_scope",
                             "Invalid OAuth scope or ID token audience provided.")
        iat, exp = claims.get("iat"), claims.get("exp")
        now = time.time()
        if not isinstance(iat, int) or not isinstance(exp, int) or exp - iat > 3600 \
                or iat > now + 300 or exp < now - 300:
            raise OAuthError(400, "invalid_grant",
                             "Invalid JWT: Token must be a short-lived token (60 minutes) and in "
                             "a reasonable timeframe. Check your iat and exp values in the JWT "
                             "claim.")
        return claims["iss"], account.get("token") or ""

    def refresh_grant(self, data, form):
        entry = (data.get("refresh_tokens") or {}).get(form.get("refresh_token") or "")
        if not isinstance(entry, dict):
            raise OAuthError(400, "invalid_grant", "Token has been expired or revoked.")
        if form.get("client_id") != entry.get("client_id") \
                or form.get("client_secret") != entry.get("client_secret"):
            raise OAuthError(401, "invalid_client", "The OAuth client was not found.")
        return entry["client_id"], entry.get("token") or ""

    # ---- metadata server -------------------------------------------------

    def metadata(self, data, rest):
        flavor = {"Metadata-Flavor": "Google"}
        meta = data.get("metadata")
        if self.headers.get("Metadata-Flavor") != "Google":
            body = b"Missing required header: Metadata-Flavor\n"
            return self.send(403, body, content_type="text/html; charset=UTF-8", headers=flavor)
        if not isinstance(meta, dict):
            return self.send(404, b"Not Found\n", content_type="text/html; charset=UTF-8",
                             headers=flavor)
        email = meta.get("email") or "default@stub.iam.gserviceaccount.com"
        # The metadata server knows the VM's account by its alias and by its email.
        for alias in ("default", email):
            prefix = "instance/service-accounts/%s/" % alias
            if rest.startswith(prefix) or rest == prefix[:-1]:
                rest = "instance/service-accounts/default/" + rest[len(prefix):]
        if rest == "instance/service-accounts/default/token":
            self.server.state.count_token_request("metadata")
            body = json.dumps({"access_token": meta.get("token") or "", "expires_in": 3599,
                               "token_type": "Bearer"}).encode("utf-8")
            return self.send(200, body, headers=flavor)
        if rest == "instance/service-accounts/default/":
            # What Google's client libraries ask before the token (?recursive=true).
            body = json.dumps({"aliases": ["default"], "email": email,
                               "scopes": ["https://www.googleapis.com/auth/cloud-platform"]})
            return self.send(200, body.encode("utf-8"), headers=flavor)
        if rest == "project/project-id" and meta.get("project_id"):
            return self.send(200, meta["project_id"].encode("utf-8"),
                             content_type="application/text", headers=flavor)
        return self.send(404, b"Not Found\n", content_type="text/html; charset=UTF-8",
                         headers=flavor)

    # ---- Secret Manager --------------------------------------------------

    def authorize(self, data, token, project_key, permission, resource):
        """Returns the project's (id, entry) or raises 401/403."""
        if not token or not isinstance((data.get("tokens") or {}).get(token), dict):
            raise ApiError(401, "UNAUTHENTICATED",
                           "Request had invalid authentication credentials. Expected OAuth 2 "
                           "access token, login cookie or other valid authentication credential. "
                           "See https://developers.google.com/identity/sign-in/web/"
                           "devconsole-project.")
        projects = data.get("projects") or {}
        project_id = None
        for pid, entry in projects.items():
            if project_key in (pid, str(entry.get("number", ""))):
                project_id = pid
        allowed = data["tokens"][token].get("projects") or []
        if project_id is None or project_id not in allowed:
            raise ApiError(403, "PERMISSION_DENIED",
                           "Permission '%s' denied for resource '%s' (or it may not exist)."
                           % (permission, resource))
        return project_id, projects[project_id]

    def secret_manager(self, data, rest, query, token, fault):
        parts = [unquote(p) for p in rest.split("/")]
        if len(parts) < 3 or parts[0] != "projects" or parts[2] != "secrets":
            raise ApiError(404, "NOT_FOUND", "Not found")
        project_key = parts[1]
        if len(parts) == 3:
            project_id, project = self.authorize(data, token, project_key,
                                                 "secretmanager.secrets.list",
                                                 "projects/%s" % project_key)
            return self.list_secrets(data, project_id, project, query)
        secret_id = parts[3]
        if len(parts) == 4:
            resource = "projects/%s/secrets/%s" % (project_key, secret_id)
            project_id, project = self.authorize(data, token, project_key,
                                                 "secretmanager.secrets.get", resource)
            return self.send_json(200, self.secret_json(project_id, project, secret_id,
                                                         self.secret(project, secret_id)))
        if len(parts) == 5 and parts[4] == "versions":
            resource = "projects/%s/secrets/%s" % (project_key, secret_id)
            project_id, project = self.authorize(data, token, project_key,
                                                 "secretmanager.versions.list", resource)
            return self.list_versions(project_id, project, secret_id)
        if len(parts) == 6 and parts[4] == "versions" and parts[5].endswith(":access"):
            version = parts[5][: -len(":access")]
            resource = "projects/%s/secrets/%s/versions/%s" % (project_key, secret_id, version)
            project_id, project = self.authorize(data, token, project_key,
                                                 "secretmanager.versions.access", resource)
            return self.access(project_id, project, secret_id, version, fault)
        raise ApiError(404, "NOT_FOUND", "Not found")

    def secret_manager_write(self, data, rest, query, token, body):
        parts = [unquote(p) for p in rest.split("/")]
        if len(parts) < 3 or parts[0] != "projects" or not parts[2].startswith("secrets"):
            raise ApiError(404, "NOT_FOUND", "Not found")
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            raise ApiError(400, "INVALID_ARGUMENT", "Invalid JSON payload received.")
        if len(parts) == 3 and parts[2] == "secrets":
            secret_id = query.get("secretId") or ""
            project_id, _ = self.authorize(data, token, parts[1], "secretmanager.secrets.create",
                                           "projects/%s" % parts[1])
            return self.create_secret(project_id, secret_id, request)
        if len(parts) == 4 and parts[3].endswith(":addVersion"):
            secret_id = parts[3][: -len(":addVersion")]
            project_id, _ = self.authorize(data, token, parts[1], "secretmanager.versions.add",
                                           "projects/%s/secrets/%s" % (parts[1], secret_id))
            return self.add_version(project_id, secret_id, request)
        raise ApiError(404, "NOT_FOUND", "Not found")

    def change_data(self, change):
        """Applies `change` to a fresh copy of the data file and writes it back atomically;
        returns what `change` returned."""
        state = self.server.state
        with state.lock:
            data = state.load()
            result = change(data)
            directory = os.path.dirname(os.path.abspath(state.data_path))
            fd, temp = tempfile.mkstemp(dir=directory, prefix=".gcp-stub-")
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(data, f)
            os.replace(temp, state.data_path)
        return result

    def create_secret(self, project_id, secret_id, request):
        if not secret_id:
            raise ApiError(400, "INVALID_ARGUMENT", "Missing secretId.")

        def create(data):
            project = data["projects"][project_id]
            secrets = project.setdefault("secrets", {})
            if secret_id in secrets:
                raise ApiError(409, "ALREADY_EXISTS", "Secret [projects/%s/secrets/%s] already "
                               "exists." % (self.number(project_id, project), secret_id))
            secrets[secret_id] = {"versions": {}}
            if request.get("labels"):
                secrets[secret_id]["labels"] = request["labels"]
            return self.secret_json(project_id, project, secret_id, secrets[secret_id])

        self.send_json(200, self.change_data(create))

    def add_version(self, project_id, secret_id, request):
        payload = request.get("payload") or {}
        try:
            content = base64.b64decode(payload.get("data") or "", validate=True)
        except (ValueError, binascii.Error):
            raise ApiError(400, "INVALID_ARGUMENT", "Invalid value at 'payload.data'.")
        checked = "dataCrc32c" in payload
        if checked and str(payload["dataCrc32c"]) != str(crc32c(content)):
            raise ApiError(400, "INVALID_ARGUMENT", "Checksum mismatch: the data does not "
                                                   "match payload.dataCrc32c.")

        def add(data):
            project = data["projects"][project_id]
            secret = self.secret(project, secret_id)
            n = max(self.versions_of(secret), default=0) + 1
            secret.setdefault("versions", {})[str(n)] = {
                "data_b64": base64.b64encode(content).decode("ascii")}
            return {"name": "projects/%s/secrets/%s/versions/%d"
                            % (self.number(project_id, project), secret_id, n),
                    "createTime": CREATE_TIME, "state": "ENABLED",
                    "replicationStatus": {"automatic": {}}, "etag": "\"%d\"" % n,
                    "clientSpecifiedPayloadChecksum": checked}

        self.send_json(200, self.change_data(add))

    @staticmethod
    def number(project_id, project):
        return str(project.get("number") or project_id)

    def secret(self, project, secret_id):
        secret = (project.get("secrets") or {}).get(secret_id)
        if not isinstance(secret, dict):
            raise ApiError(404, "NOT_FOUND", "Secret [projects/%s/secrets/%s] not found."
                           % (project.get("number") or "0", secret_id))
        return secret

    def secret_json(self, project_id, project, secret_id, secret):
        obj = {"name": "projects/%s/secrets/%s" % (self.number(project_id, project), secret_id),
               "replication": {"automatic": {}},
               "createTime": CREATE_TIME,
               "etag": "\"%x\"" % (crc32c(secret_id.encode("utf-8")))}
        if secret.get("labels"):
            obj["labels"] = secret["labels"]
        if secret.get("aliases"):
            obj["versionAliases"] = {k: str(v) for k, v in secret["aliases"].items()}
        return obj

    def list_secrets(self, data, project_id, project, query):
        predicates = parse_filter(query.get("filter") or "")
        number = self.number(project_id, project)
        matching = []
        for secret_id in sorted(project.get("secrets") or {}):
            secret = project["secrets"][secret_id]
            name = "projects/%s/secrets/%s" % (number, secret_id)
            labels = secret.get("labels") or {}
            if all(p(name, labels) for p in predicates):
                matching.append((secret_id, secret))
        try:
            size = int(query.get("pageSize") or 0)
        except ValueError:
            raise ApiError(400, "INVALID_ARGUMENT", "Invalid pageSize")
        max_size = int(data.get("max_page_size") or DEFAULT_MAX_PAGE_SIZE)
        size = max_size if size <= 0 else min(size, max_size)
        start = 0
        if query.get("pageToken"):
            try:
                start = int(b64url_decode(query["pageToken"]).decode("ascii").split(":", 1)[1])
            except (ValueError, IndexError, binascii.Error, UnicodeDecodeError):
                raise ApiError(400, "INVALID_ARGUMENT", "Invalid page token.")
        page = matching[start:start + size]
        obj = {}
        if page:
            obj["secrets"] = [self.secret_json(project_id, project, sid, s) for sid, s in page]
        if start + size < len(matching):
            token = base64.urlsafe_b64encode(("offset:%d" % (start + size)).encode("ascii"))
            obj["nextPageToken"] = token.decode("ascii").rstrip("=")
        if matching:
            obj["totalSize"] = len(matching)
        self.send_json(200, obj)

    @staticmethod
    def versions_of(secret):
        out = {}
        for k, v in (secret.get("versions") or {}).items():
            try:
                out[int(k)] = v if isinstance(v, dict) else {}
            except ValueError:
                continue
        return out

    def list_versions(self, project_id, project, secret_id):
        secret = self.secret(project, secret_id)
        number = self.number(project_id, project)
        versions = self.versions_of(secret)
        out = []
        for n in sorted(versions, reverse=True):
            out.append({"name": "projects/%s/secrets/%s/versions/%d" % (number, secret_id, n),
                        "createTime": CREATE_TIME,
                        "state": versions[n].get("state", "ENABLED"),
                        "replicationStatus": {"automatic": {}},
                        "etag": "\"%d\"" % n})
        obj = {}
        if out:
            obj = {"versions": out, "totalSize": len(out)}
        self.send_json(200, obj)

    def access(self, project_id, project, secret_id, version, fault):
        number = self.number(project_id, project)
        secret = (project.get("secrets") or {}).get(secret_id)
        versions = self.versions_of(secret) if isinstance(secret, dict) else {}
        if not versions:
            raise ApiError(404, "NOT_FOUND", "Secret [projects/%s/secrets/%s] not found or has "
                                             "no versions." % (number, secret_id))
        if version == "latest":
            n = max(versions)
        elif version.isdigit():
            n = int(version)
        elif version in (secret.get("aliases") or {}):
            n = int(secret["aliases"][version])
        else:
            raise ApiError(404, "NOT_FOUND", "Secret Version [projects/%s/secrets/%s/versions/%s] "
                                             "not found." % (number, secret_id, version))
        name = "projects/%s/secrets/%s/versions/%d" % (number, secret_id, n)
        if n not in versions:
            raise ApiError(404, "NOT_FOUND", "Secret Version [%s] not found." % name)
        entry = versions[n]
        state = entry.get("state", "ENABLED")
        if state != "ENABLED":
            raise ApiError(400, "FAILED_PRECONDITION",
                           "Secret Version [%s] is in %s state." % (name, state))
        if "data_b64" in entry:
            payload = base64.b64decode(entry["data_b64"])
        else:
            payload = (entry.get("data") or "").encode("utf-8")
        checksum = crc32c(payload)
        if fault.get("corrupt_crc"):
            checksum ^= 0x1
        self.send_json(200, {"name": name,
                             "payload": {"data": base64.b64encode(payload).decode("ascii"),
                                         "dataCrc32c": str(checksum)}})


def main():
    ap = argparse.ArgumentParser(description="Local GCP Secret Manager / OAuth / metadata stub")
    ap.add_argument("--data", required=True, help="JSON data file, re-read on every request")
    ap.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0 = a free one)")
    args = ap.parse_args()
    state = State(args.data)
    state.load()  # fail fast on a missing or malformed file
    httpd = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    httpd.daemon_threads = True
    httpd.state = state
    sys.stdout.write("listening on 127.0.0.1:%d\n" % httpd.server_address[1])
    sys.stdout.flush()
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()


if __name__ == "__main__":
    main()
