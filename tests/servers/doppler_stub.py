#!/usr/bin/env python3
"""Local stand-in for Doppler's HTTP API (stdlib only), for secretrun's tests.

Usage:
    python3 doppler_stub.py --data FILE [--port 0]

Binds 127.0.0.1:PORT (0 = a free port), then prints exactly one line
`listening on 127.0.0.1:PORT` to stdout (flushed). Every request re-reads
FILE, so a test can change secrets or faults between calls. One line per
request goes to stderr: method, path (no query string), status. Tokens and
secret values are never logged.

Data file schema (JSON):

{
  "tokens": {
    "<token>": {
      "project": "p",              # required unless "configs" is given
      "config": "dev",             # required unless "configs" is given
      "environment": "dev",        # optional; default: config name up to the
                                   #   first "_" (Doppler's dev / dev_x naming)
      "secrets": {"NAME": "value"},
      "type": "service",           # optional: "service" (default) or
                                   #   "personal"; see "Token types" below
      "configs": {"p": {"dev": {"NAME": "value"}}},
                                   # optional, personal tokens only: more
                                   #   project -> config -> secrets it can read
      "forbidden": false,          # optional; true -> every call is a 403
      "access": "read"             # optional, service tokens only: "read"
                                   #   (default) or "read/write"; see "Writes"
    }
  },
  "faults": {
    "<fault id>": {
      "status": 429,               # optional: answer with this status and a
                                   #   Doppler error body instead of serving
      "retry_after": 1,            # optional: Retry-After header (seconds)
      "message": "text",           # optional: the error body's message
      "delay_ms": 300,             # optional: sleep this long first
      "truncate": true,            # optional: serve the normal response but
                                   #   cut its body in half. true = valid HTTP
                                   #   with Content-Length of the cut body
                                   #   (client sees broken JSON);
                                   #   "connection" = full Content-Length is
                                   #   announced, then the connection is
                                   #   closed mid-body (client sees EOF)
      "count": 2,                  # optional: the fault hits only the first
                                   #   `count` matching requests, then normal
                                   #   service resumes. Omitted = every request
      "path": "/v3/configs/config/secrets/download",
                                   # optional: only requests whose path equals
                                   #   this (query string ignored)
      "token": "<token>"           # optional: only requests with this token
    }
  }
}

Write the file atomically (write a temp file, then rename it over FILE): a
request that reads a half-written file gets a 500. The stub's own writes (see
"Writes") do the same, under a lock, so FILE always holds the current state.

Faults: the counter of each fault lives in this process and is keyed by the
fault id, so a test re-arms a fault by using a new id (or POST /__stub/reset).
Faults are considered in sorted id order on every request to a /v3/ path:
every matching active fault counts the request as one of its hits; their
delays add up; the first one with a "status" decides the status; "truncate"
applies to responses that are not a fault status. The count is consumed when
the request arrives, even if it is not authorised.

Token types: a service token reads its one project/config; project=/config=
query parameters may be omitted or empty (the Doppler CLI sends them empty),
and if given they must name that project/config (else 403). A personal token
must name project= and config= (else 400) and reads any config listed in its
"project"/"config"/"secrets" or "configs"; any other is a 404.

Endpoints (shapes as in Doppler's API reference / OpenAPI document):
  GET /v3/configs/config/secrets/download?format=json[&project=&config=]
      [&secrets=A,B]  -> flat {"NAME": "value"} incl. DOPPLER_PROJECT,
      DOPPLER_CONFIG, DOPPLER_ENVIRONMENT; format env / env-no-quotes / docker
      give text. ETag on every 200, If-None-Match that matches -> 304, no body.
  GET /v3/configs/config/secrets        -> {"secrets": {NAME: {"raw", "computed",
      "note", "rawVisibility", "computedVisibility"}}}
  GET /v3/configs/config/secrets/names  -> {"names": [...]}
  GET /v3/configs/config/secret?name=X  -> {"name": X, "value": {"raw",
      "computed", "note"}}
  GET /v3/configs/config                -> {"config": {...}, "success": true}
  GET /v3/me                            -> token info
  POST /v3/configs/config/secrets      (update; "Writes" below)
  POST /v3/configs/config/secrets/upload (upload a file; "Writes" below)
Auth: "Authorization: Bearer TOKEN" or HTTP basic auth with TOKEN as user name.

Writes. Doppler service tokens have an access level, "read" or "read/write";
personal tokens can write. A write with a read-only service token is a 403
(WRITE_DENIED below); a "forbidden" token is a 403 as for reads. project= and
config= come from the query string (the Doppler CLI sends them there, empty,
for a service token) or from the body (the API reference puts them there); the
same rules as for reads apply. The write is stored in FILE: under the token's
"secrets", or for a personal token under the config it names ("configs" or
its own "project"/"config"). Other tokens of the same config in FILE are not
updated. Every write changes the download's body and so its ETag: a client
revalidating with If-None-Match after a write gets a 200, never a 304.
  POST /v3/configs/config/secrets, a JSON body with exactly one of
    {"secrets": {"NAME": "value", "GONE": null}}   set each name; null deletes
    {"change_requests": [{"name": "NAME", "originalName": null | "OLD",
      "value": "v" | null, "shouldDelete": false, "visibility": "masked",
      "originalValue": "expected"}]}
        originalName != name renames OLD; value null keeps the old value;
        shouldDelete removes originalName (or name); originalValue, when
        given, must equal the stored value (else 400, nothing written);
        visibility must be masked/unmasked/restricted (not stored).
    `doppler secrets set` sends the change_requests form (name, originalName
    null, value, and visibility with --visibility).
  POST /v3/configs/config/secrets/upload, body {"file": "<text>"}: the text
    is a JSON object of string values, or else dotenv lines (NAME=value,
    "double quoted" with \\n \\" \\\\ escapes, 'single quoted' literal, an
    optional "export ", # comments). Every name in it is set; others stay.
    `doppler secrets upload FILE` sends the file's bytes as is, .env or .json.
  Both answer 200 {"secrets": {NAME: {"raw", "computed", "note"}}, "success":
  true} (the reference's shape) with every secret of the config after the
  write, DOPPLER_* included; the CLI shows only the names it set for `set`,
  everything for `upload`. Nothing is written when anything in the request
  is refused:
    400 invalid JSON / not an object / both or neither of secrets and
        change_requests / a value that is not a string (or null) / an
        upload file that is neither
    400 a name that is not [A-Za-z_][A-Za-z0-9_]* (BAD_NAME) or is one of
        the DOPPLER_* names Doppler manages (RESERVED_NAME)
    403 read-only service token (WRITE_DENIED)
  Error texts are this stub's own wording in Doppler's error shape; the real
  service's exact texts were not available to compare against.
Errors: {"messages": ["..."], "success": false} with 400/401/403/404/405 or
the fault status.

Test helpers (not Doppler's API; never faulted):
  GET  /__stub/stats  -> {"requests": N, "by_path": {path: N},
                          "fault_hits": {id: N}}
  POST /__stub/reset  -> clears the counters above, {"success": true}
"""

import argparse
import base64
import binascii
import hashlib
import json
import os
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

META_VARS = ("DOPPLER_CONFIG", "DOPPLER_ENVIRONMENT", "DOPPLER_PROJECT")
VISIBILITIES = ("masked", "unmasked", "restricted")
NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
WRITE_DENIED = "This service token has read access only; writing secrets needs a read/write token"
BAD_NAME = "Invalid secret name: %s (use letters, digits and underscores, not starting with a digit)"
RESERVED_NAME = "Secret name is reserved by Doppler: %s"
TEXT_FORMATS = ("env", "env-no-quotes", "docker")


class State:
    def __init__(self, data_path):
        self.data_path = data_path
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.requests = 0
        self.by_path = {}
        self.fault_hits = {}

    def load(self):
        with open(self.data_path, "r", encoding="utf-8") as f:
            data = json.load(f)
        if not isinstance(data, dict):
            raise ValueError("data file must hold a JSON object")
        return data

    def save(self, data):
        """Replaces the data file atomically (temp file + rename)."""
        tmp = "%s.stub-%d.tmp" % (self.data_path, os.getpid())
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2, ensure_ascii=False)
        os.replace(tmp, self.data_path)


class ApiError(Exception):
    def __init__(self, status, message, headers=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def environment_of(config, entry):
    env = entry.get("environment")
    return env if env else config.split("_", 1)[0]


def quote_env(value):
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return '"' + escaped + '"'


def unquote_env(raw):
    """One dotenv value as Doppler's upload reads it: quoted or bare."""
    raw = raw.strip()
    if len(raw) >= 2 and raw[0] == raw[-1] == "'":
        return raw[1:-1]
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        out, chars = [], iter(raw[1:-1])
        for c in chars:
            if c == "\\":
                nxt = next(chars, "")
                out.append({"n": "\n", "t": "\t", "r": "\r"}.get(nxt, nxt))
            else:
                out.append(c)
        return "".join(out)
    value = raw.split(" #", 1)[0]
    return value.rstrip()


def parse_upload(text):
    """The secrets in an uploaded file: a JSON object, else dotenv lines."""
    try:
        obj = json.loads(text)
    except ValueError:
        obj = None
    if obj is not None:
        if not isinstance(obj, dict):
            raise ApiError(400, "Unable to parse file: expected a JSON object")
        return obj
    secrets = {}
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("export "):
            stripped = stripped[len("export "):].lstrip()
        name, eq, raw = stripped.partition("=")
        if not eq:
            raise ApiError(400, "Unable to parse file: line %d is not NAME=value" % number)
        secrets[name.strip()] = unquote_env(raw)
    return secrets


def etag_matches(header, etag):
    if header is None:
        return False
    if header.strip() == "*":
        return True
    want = etag.strip('"')
    for part in header.split(","):
        part = part.strip()
        if part.startswith("W/"):
            part = part[2:]
        if part.strip('"') == want:
            return True
    return False


class Handler(BaseHTTPRequestHandler):
    server_version = "doppler-stub"

    def version_string(self):
        return self.server_version
    protocol_version = "HTTP/1.1"

    # ---- plumbing -------------------------------------------------------

    def log_message(self, fmt, *args):  # silence http.server's own log
        pass

    def log_line(self, status):
        path = urlsplit(self.path).path
        sys.stderr.write("doppler-stub: %s %s %d\n" % (self.command, path, status))
        sys.stderr.flush()

    def send(self, status, body=b"", content_type="application/json; charset=utf-8",
             headers=None, truncate=False):
        headers = dict(headers or {})
        close_early = False
        announced = len(body)
        if truncate and body:
            cut = body[: len(body) // 2]
            if truncate == "connection":
                close_early = True
            else:
                announced = len(cut)
            body = cut
        self.send_response(status)
        if status != 304:
            self.send_header("Content-Type", content_type)
        for k, v in headers.items():
            self.send_header(k, v)
        if status != 304:
            self.send_header("Content-Length", str(announced))
        if close_early:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if status != 304 and self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()
        self.log_line(status)

    def send_json(self, status, obj, headers=None, truncate=False):
        body = json.dumps(obj, separators=(",", ":")).encode("utf-8")
        self.send(status, body, headers=headers, truncate=truncate)

    def send_error_body(self, status, message, headers=None):
        self.send_json(status, {"messages": [message], "success": False}, headers=headers)

    # ---- dispatch -------------------------------------------------------

    def do_GET(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    def do_PUT(self):
        self.dispatch()

    def do_DELETE(self):
        self.dispatch()

    def dispatch(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        path = url.path.rstrip("/") or "/"
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        state = self.server.state

        if path.startswith("/__stub/"):
            return self.stub_control(path)

        try:
            data = state.load()
        except (OSError, ValueError) as e:
            sys.stderr.write("doppler-stub: cannot read data file: %s\n" % e)
            return self.send_error_body(500, "stub data file unreadable")

        token = self.token()
        faults = data.get("faults") or {}
        delay_ms = 0
        fault_status = None
        truncate = False
        with state.lock:
            state.requests += 1
            state.by_path[path] = state.by_path.get(path, 0) + 1
            for fid in sorted(faults):
                f = faults[fid]
                if not isinstance(f, dict):
                    continue
                if "path" in f and f["path"].rstrip("/") != path:
                    continue
                if "token" in f and f["token"] != token:
                    continue
                hits = state.fault_hits.get(fid, 0)
                if "count" in f and hits >= int(f["count"]):
                    continue
                state.fault_hits[fid] = hits + 1
                delay_ms += int(f.get("delay_ms", 0))
                if fault_status is None and "status" in f:
                    fault_status = f
                if f.get("truncate"):
                    truncate = f["truncate"]
        if delay_ms:
            time.sleep(delay_ms / 1000.0)
        if fault_status is not None:
            status = int(fault_status["status"])
            headers = {}
            if "retry_after" in fault_status:
                headers["Retry-After"] = str(fault_status["retry_after"])
            msg = fault_status.get("message") or self.responses.get(status, ("Error",))[0]
            return self.send_error_body(status, msg, headers=headers)

        try:
            read_routes = {
                "/v3/configs/config/secrets/download": self.download,
                "/v3/configs/config/secrets": self.list_secrets,
                "/v3/configs/config/secrets/names": self.secret_names,
                "/v3/configs/config/secret": self.one_secret,
                "/v3/configs/config": self.config_info,
                "/v3/me": self.me,
            }
            write_routes = {
                "/v3/configs/config/secrets": self.update_secrets,
                "/v3/configs/config/secrets/upload": self.upload_secrets,
            }
            routes = {"GET": read_routes, "POST": write_routes}.get(self.command, {})
            route = routes.get(path)
            if route is None:
                known = path in read_routes or path in write_routes
                raise ApiError(405 if known else 404, "Method not allowed" if known else "Not found")
            entry = self.auth(data, token)
            if self.command == "POST":
                return self.write(token, query, body, route)
            route(entry, token, query, truncate)
        except ApiError as e:
            self.send_error_body(e.status, e.message, headers=e.headers)

    def stub_control(self, path):
        state = self.server.state
        if path == "/__stub/stats" and self.command == "GET":
            with state.lock:
                obj = {"requests": state.requests, "by_path": dict(state.by_path),
                       "fault_hits": dict(state.fault_hits)}
            return self.send_json(200, obj)
        if path == "/__stub/reset" and self.command == "POST":
            with state.lock:
                state.reset()
            return self.send_json(200, {"success": True})
        return self.send_error_body(404, "Not found")

    # ---- auth and lookup ------------------------------------------------

    def token(self):
        h = self.headers.get("Authorization") or ""
        scheme, _, rest = h.strip().partition(" ")
        if scheme.lower() == "bearer":
            return rest.strip() or None
        if scheme.lower() == "basic":
            try:
                user = base64.b64decode(rest.strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                return None
            return user.split(":", 1)[0] or None
        return None

    def auth(self, data, token):
        tokens = data.get("tokens") or {}
        entry = tokens.get(token) if token else None
        if not isinstance(entry, dict):
            raise ApiError(401, "Invalid Auth token")
        if entry.get("forbidden"):
            raise ApiError(403, "You do not have access to this resource")
        return entry

    def resolve(self, entry, query):
        """Returns (project, config, environment, secrets dict)."""
        want_p = query.get("project") or ""
        want_c = query.get("config") or ""
        if entry.get("type", "service") == "personal":
            if not want_p:
                raise ApiError(400, "You must specify a project")
            if not want_c:
                raise ApiError(400, "You must specify a config")
            configs = {}
            if "project" in entry and "config" in entry:
                configs.setdefault(entry["project"], {})[entry["config"]] = entry.get("secrets") or {}
            for p, cs in (entry.get("configs") or {}).items():
                for c, s in cs.items():
                    configs.setdefault(p, {})[c] = s or {}
            if want_p not in configs:
                raise ApiError(404, "Could not find requested project")
            if want_c not in configs[want_p]:
                raise ApiError(404, "Could not find requested config")
            env = entry.get("environment") if want_c == entry.get("config") else None
            env = env or want_c.split("_", 1)[0]
            return want_p, want_c, env, configs[want_p][want_c]
        p, c = entry.get("project"), entry.get("config")
        if (want_p and want_p != p) or (want_c and want_c != c):
            raise ApiError(403, "This token does not have access to the requested config")
        return p, c, environment_of(c, entry), entry.get("secrets") or {}

    def full_secrets(self, entry, query):
        p, c, env, secrets = self.resolve(entry, query)
        out = {str(k): str(v) for k, v in secrets.items()}
        out["DOPPLER_PROJECT"] = p
        out["DOPPLER_CONFIG"] = c
        out["DOPPLER_ENVIRONMENT"] = env
        only = query.get("secrets")
        if only:
            names = [n.strip() for n in only.split(",") if n.strip()]
            out = {n: out[n] for n in names if n in out}
        return p, c, env, dict(sorted(out.items()))

    # ---- endpoints ------------------------------------------------------

    def download(self, entry, token, query, truncate):
        fmt = query.get("format") or "json"
        if query.get("name_transformer"):
            raise ApiError(400, "name_transformer is not supported by this stub")
        _, _, _, secrets = self.full_secrets(entry, query)
        if fmt == "json":
            body = json.dumps(secrets).encode("utf-8")
            ctype = "application/json; charset=utf-8"
        elif fmt in TEXT_FORMATS:
            lines = []
            for k, v in secrets.items():
                if fmt == "env":
                    lines.append("%s=%s" % (k, quote_env(v)))
                else:
                    lines.append("%s=%s" % (k, v))
            body = ("\n".join(lines) + "\n").encode("utf-8")
            ctype = "text/plain; charset=utf-8"
        else:
            raise ApiError(400, "Invalid format: %s" % fmt)
        etag = '"%s"' % hashlib.sha256(body).hexdigest()
        if etag_matches(self.headers.get("If-None-Match"), etag):
            return self.send(304, headers={"ETag": etag})
        self.send(200, body, content_type=ctype, headers={"ETag": etag}, truncate=truncate)

    def list_secrets(self, entry, token, query, truncate):
        _, _, _, secrets = self.full_secrets(entry, query)
        if query.get("include_managed_secrets", "true").lower() == "false":
            secrets = {k: v for k, v in secrets.items() if k not in META_VARS}
        obj = {"secrets": {k: {"raw": v, "computed": v, "note": "",
                               "rawVisibility": "masked", "computedVisibility": "masked"}
                           for k, v in secrets.items()},
               "success": True}
        self.send_json(200, obj, truncate=truncate)

    def secret_names(self, entry, token, query, truncate):
        _, _, _, secrets = self.full_secrets(entry, query)
        if query.get("include_managed_secrets", "true").lower() == "false":
            secrets = {k: v for k, v in secrets.items() if k not in META_VARS}
        self.send_json(200, {"names": list(secrets), "success": True}, truncate=truncate)

    def one_secret(self, entry, token, query, truncate):
        name = query.get("name") or ""
        _, _, _, secrets = self.full_secrets(entry, {k: v for k, v in query.items() if k != "secrets"})
        if name not in secrets:
            raise ApiError(404, "Could not find requested secret")
        v = secrets[name]
        self.send_json(200, {"name": name, "value": {"raw": v, "computed": v, "note": ""},
                             "success": True}, truncate=truncate)

    def config_info(self, entry, token, query, truncate):
        p, c, env, _ = self.resolve(entry, query)
        obj = {"config": {"name": c, "root": "_" not in c, "locked": False,
                          "initial_fetch_at": None, "last_fetch_at": None,
                          "created_at": "2024-01-01T00:00:00.000Z",
                          "environment": env, "project": p},
               "success": True}
        self.send_json(200, obj, truncate=truncate)

    def me(self, entry, token, query, truncate):
        personal = entry.get("type", "service") == "personal"
        digest = hashlib.sha256(token.encode("utf-8")).hexdigest()
        obj = {"slug": digest[:32], "name": "doppler-stub",
               "created_at": "2024-01-01T00:00:00.000Z", "last_seen_at": None,
               "type": "personal" if personal else "service",
               "token_preview": (token[:5] + "..." + token[-6:]) if len(token) > 14 else "...",
               "workplace": {"slug": "stubworkplace", "name": "Doppler Stub"},
               "success": True}
        self.send_json(200, obj, truncate=truncate)

    # ---- writes ---------------------------------------------------------

    def write(self, token, query, body, changes_of):
        """Applies one write under the lock: re-reads FILE, checks the token,
        computes the new secrets with `changes_of(body, old secrets)`, saves."""
        try:
            request = json.loads(body.decode("utf-8") or "null")
        except (UnicodeDecodeError, ValueError):
            raise ApiError(400, "Request body must be valid JSON")
        if not isinstance(request, dict):
            raise ApiError(400, "Request body must be a JSON object")
        where = dict(query)
        for key in ("project", "config"):
            if not where.get(key) and isinstance(request.get(key), str):
                where[key] = request[key]
        state = self.server.state
        with state.lock:
            data = state.load()
            entry = self.auth(data, token)
            personal = entry.get("type", "service") == "personal"
            if not personal and entry.get("access", "read") != "read/write":
                raise ApiError(403, WRITE_DENIED)
            project, config, _, old = self.resolve(entry, where)
            new = changes_of(request, {str(k): str(v) for k, v in old.items()})
            self.store(entry, project, config, new)
            state.save(data)
        out = dict(new, DOPPLER_PROJECT=project, DOPPLER_CONFIG=config,
                   DOPPLER_ENVIRONMENT=self.resolve(entry, where)[2])
        self.send_json(200, {"secrets": {k: {"raw": v, "computed": v, "note": ""}
                                         for k, v in sorted(out.items())},
                             "success": True})

    @staticmethod
    def store(entry, project, config, secrets):
        if entry.get("project") == project and entry.get("config") == config:
            entry["secrets"] = secrets
        else:  # a personal token's other config
            entry["configs"][project][config] = secrets

    @staticmethod
    def checked_name(name):
        if not isinstance(name, str) or not NAME_RE.match(name):
            raise ApiError(400, BAD_NAME % json.dumps(name, ensure_ascii=False))
        if name in META_VARS:
            raise ApiError(400, RESERVED_NAME % name)
        return name

    def update_secrets(self, request, old):
        has_map, has_changes = "secrets" in request, "change_requests" in request
        if has_map == has_changes:
            raise ApiError(400, "Either secrets or change_requests is required (not both)")
        new = dict(old)
        if has_map:
            secrets = request["secrets"]
            if not isinstance(secrets, dict):
                raise ApiError(400, "secrets must be an object")
            for name, value in secrets.items():
                self.checked_name(name)
                if value is None:
                    new.pop(name, None)
                elif isinstance(value, str):
                    new[name] = value
                else:
                    raise ApiError(400, "The value of %s must be a string or null" % name)
            return new
        changes = request["change_requests"]
        if not isinstance(changes, list) or not changes:
            raise ApiError(400, "change_requests must be a non-empty array")
        for change in changes:
            if not isinstance(change, dict):
                raise ApiError(400, "Each change request must be an object")
            name = self.checked_name(change.get("name"))
            original = change.get("originalName")
            if original is not None:
                self.checked_name(original)
            value = change.get("value")
            if value is not None and not isinstance(value, str):
                raise ApiError(400, "The value of %s must be a string or null" % name)
            visibility = change.get("visibility")
            if visibility is not None and visibility not in VISIBILITIES:
                raise ApiError(400, "visibility must be one of masked, unmasked, restricted")
            current = original if original is not None else name
            if "originalValue" in change and change["originalValue"] != old.get(current):
                raise ApiError(400, "The value of %s does not match originalValue" % current)
            if change.get("shouldDelete"):
                new.pop(current, None)
                continue
            kept = new.pop(current, None) if original is not None else new.get(name)
            if value is None and kept is None:
                raise ApiError(400, "A value is required for the new secret %s" % name)
            new[name] = value if value is not None else kept
        return new

    def upload_secrets(self, request, old):
        text = request.get("file")
        if not isinstance(text, str):
            raise ApiError(400, "file must be a string")
        new = dict(old)
        for name, value in parse_upload(text).items():
            self.checked_name(name)
            if not isinstance(value, str):
                raise ApiError(400, "The value of %s must be a string" % name)
            new[name] = value
        return new


def main():
    ap = argparse.ArgumentParser(description="Local Doppler API stub for tests")
    ap.add_argument("--data", required=True, help="JSON data file, re-read on every request")
    ap.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0 = a free one)")
    args = ap.parse_args()
    state = State(args.data)
    state.load()  # fail fast on a missing or malformed file
    httpd = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
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
