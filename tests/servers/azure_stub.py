#!/usr/bin/env python3
"""Local stand-in for Azure Key Vault and the Azure token endpoints (stdlib only),
for secretrun's tests. Azure has no installable emulator, so this serves the
documented REST shapes: Key Vault's secrets API (api-version 7.4), Entra ID's
OAuth 2.0 v2 token endpoint, and the App Service and IMDS managed identity
endpoints.

Usage:
    python3 azure_stub.py --data FILE [--port 0] [--tls-cert PEM --tls-key PEM]

Binds 127.0.0.1:PORT (0 = a free port), then prints exactly one line
`listening on 127.0.0.1:PORT` to stdout (flushed). Every request re-reads
FILE, so a test can add vaults, identities or faults between calls. One line
per request goes to stderr: method, path (no query string), status. Tokens,
client secrets, assertions and secret values are never logged. With
--tls-cert/--tls-key it serves https instead (the Azure SDKs send bearer tokens
over https only, and take only an https authority); two stubs on one data file
serve the same vaults over http and https.

A vault is served under a path: the vault "kv1" is http://127.0.0.1:PORT/kv1,
its secrets at /kv1/secrets/NAME, so that one stub serves many vaults. A real
vault is https://kv1.vault.azure.net with /secrets at the root, and the Azure
SDKs insist on that shape in ids: "root_vault" names a vault served at the
root as well (http://127.0.0.1:PORT/secrets/NAME), for such clients.

Data file schema (JSON):

{
  "page_size": 2,                  # optional, default 2: secrets per list page
                                   #   (fewer if the client sends maxresults)
  "root_vault": "<vault>",         # optional: also serve this vault at /secrets
  "tenants": {
    "<tenant id>": {
      "clients": {                 # Entra ID applications of the tenant
        "<client id>": {
          "secret": "<client secret>",        # accepted client_secret
          "assertion": "<federated token>",   # accepted client_assertion
                                              #   (workload identity)
          "access_token": "<token>"           # what a good request gets
        }
      }
    }
  },
  "app_service": {                 # App Service managed identities
    "<X-IDENTITY-HEADER value>": {
      "id": "<name for the stats>",
      "access_token": "<token>",
      "client_id": "<id>"          # optional: a user-assigned identity; a
                                   #   request's client_id must then match
    }
  },
  "imds": {                        # IMDS managed identities:
    "<client id, or \"system\">": "<token>"  # "system" = system-assigned
  },
  "access_tokens": {               # the tokens the vaults accept
    "<token>": {"vaults": ["<vault>", ...]}   # which vaults it may read; any
                                              #   other vault answers 403
  },
  "vaults": {
    "<vault>": {
      "tenant": "<tenant id>",     # named in the 401 challenge
      "challenge": "resource",     # optional: "resource" (default) or "scope"
                                   #   decides the challenge's parameters
      "secrets": {
        "<name>": {                # names are case-insensitive, as Key Vault's
          "value": "<text>",
          "enabled": true,         # optional, default true
          "version": "<id>",       # optional: the current version's id
                                   #   (default: 32 hex digits from the name)
          "content_type": "<text>",  # optional: contentType
          "versions": {            # optional: older versions
            "<id>": {"value": "<text>", "enabled": true}
          }
        }
      }
    }
  },
  "faults": {
    "<fault id>": {
      "status": 429,               # optional: answer this status instead
      "retry_after": 1,            # optional: Retry-After header (seconds)
      "message": "text",           # optional: the error body's message
      "delay_ms": 300,             # optional: sleep this long first
      "count": 2,                  # optional: hit only the first `count`
                                   #   matching requests. Omitted = every one
      "vault": "<vault>",          # optional: only requests to this vault
      "client": "<client id>",     # optional: only token endpoint requests
                                   #   of this client
      "authenticated": true        # optional: only requests that carry a
                                   #   bearer token (not the challenge request)
    }
  }
}

Write the file atomically (a temp file renamed over FILE): a request that
reads a half-written file gets a 500. PUT (set secret) writes it the same way.

Endpoints (shapes as in the Key Vault REST reference, api-version 7.4, and
the Microsoft identity platform / managed identity documentation):

  GET  /{vault}/secrets?api-version=7.4[&maxresults=N][&$skiptoken=T]
       -> {"value": [{"id": ".../secrets/NAME", "attributes": {"enabled",
          "created", "updated", "recoveryLevel", "recoverableDays"},
          "contentType"?}], "nextLink": URL or null}, sorted by name
  GET  /{vault}/secrets/{name}[/{version}]?api-version=7.4
       -> {"value", "id": ".../secrets/NAME/VERSION", "attributes",
          "contentType"?}
  GET  /{vault}/secrets/{name}/versions?api-version=7.4[&maxresults=N][&$skiptoken=T]
       -> {"value": [{"id": ".../secrets/NAME/VERSION", "attributes"}],
          "nextLink"}: the current version first, then the older ones by id
  PUT  /{vault}/secrets/{name}?api-version=7.4  {"value", "contentType"?,
          "attributes": {"enabled"}?}
       -> the new version's bundle, as GET; a new random version id becomes
          current and the old current version joins "versions". Missing
          "value" -> 400 BadParameter.
  Key Vault errors: {"error": {"code", "message"[, "innererror": {"code"}]}}
       no api-version            -> 400 MissingApiVersionParameter
       no or unknown bearer      -> 401 Unauthorized, with
           WWW-Authenticate: Bearer authorization="https://login.microsoftonline.com/{tenant}",
                             resource="https://vault.azure.net"
           (or scope="https://vault.azure.net/.default" with "challenge": "scope")
       token without the vault   -> 403 Forbidden (innererror ForbiddenByRbac)
       disabled secret (get)     -> 403 Forbidden (innererror SecretDisabled)
       missing secret or version -> 404 SecretNotFound

  GET  /{tenant}/v2.0/.well-known/openid-configuration
       -> {"token_endpoint": "<scheme>://<Host>/{tenant}/oauth2/v2.0/token",
          "authorization_endpoint", "issuer", ...} (what MSAL reads before
          its first token request); unknown tenant 400 invalid_tenant.
  POST /{tenant}/oauth2/v2.0/token   (application/x-www-form-urlencoded)
       grant_type=client_credentials&client_id=..&scope=https://vault.azure.net/.default
       and client_secret=.. or client_assertion_type=urn:ietf:params:oauth:
       client-assertion-type:jwt-bearer&client_assertion=..
       -> {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
           "access_token": ".."}
       errors {"error", "error_description": "AADSTS…", "error_codes", …}:
       unknown tenant 400 invalid_request, unknown client 400
       unauthorized_client, wrong secret 401 invalid_client, wrong assertion
       400 invalid_grant, bad scope 400 invalid_scope.

  GET  /msi/token?api-version=2019-08-01&resource=R[&client_id=C]
       (App Service; header X-IDENTITY-HEADER)
       -> {"access_token", "expires_on", "resource", "token_type", "client_id"}
       errors {"statusCode", "message"}: unknown header 401, other 400.

  GET  /metadata/identity/oauth2/token?api-version=2018-02-01&resource=R[&client_id=C]
       (IMDS; header Metadata: true)
       -> {"access_token", "client_id", "expires_in", "expires_on",
           "ext_expires_in", "not_before", "resource", "token_type"}
       errors {"error", "error_description"}: no Metadata header 400
       ("Required metadata header not specified"), unknown identity 400.

Test helpers (not Azure's API; never faulted):
  GET  /__stub/stats -> {"requests": N,
                         "token_requests": {"<client id>" | "app-service:<id>"
                                            | "imds:<client id or system>": N},
                         "vault_requests": {"<vault>": [{"method", "path",
                                            "bearer": bool, "status"}, ...]},
                         "fault_hits": {"<fault id>": N}}
  POST /__stub/reset -> clears the counters above, {"success": true}
"""

import argparse
import base64
import hashlib
import json
import os
import ssl
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, urlsplit

API_VERSION = "7.4"
VAULT_RESOURCE = "https://vault.azure.net"
AUTHORITY = "https://login.microsoftonline.com"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
CREATED = 1700000000


class State:
    def __init__(self, data_path):
        self.data_path = data_path
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.requests = 0
        self.token_requests = {}
        self.vault_requests = {}
        self.fault_hits = {}

    def load(self):
        with open(self.data_path, "r", encoding="utf-8") as f:
            data = json.load(f)
        if not isinstance(data, dict):
            raise ValueError("data file must hold a JSON object")
        return data

    def count_token(self, key):
        with self.lock:
            self.token_requests[key] = self.token_requests.get(key, 0) + 1


class Answer(Exception):
    """A complete JSON answer, raised from anywhere in a handler."""

    def __init__(self, status, body, headers=None):
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


def kv_error(status, code, message, inner=None, headers=None):
    error = {"code": code, "message": message}
    if inner:
        error["innererror"] = {"code": inner}
    return Answer(status, {"error": error}, headers)


def aad_error(status, error, code, description):
    return Answer(status, {
        "error": error,
        "error_description": "AADSTS%d: %s\r\nTrace ID: 00000000-0000-0000-0000-000000000000\r\n"
                             "Correlation ID: 00000000-0000-0000-0000-000000000000\r\n"
                             "Timestamp: 2024-01-01 00:00:00Z" % (code, description),
        "error_codes": [code],
        "timestamp": "2024-01-01 00:00:00Z",
        "trace_id": "00000000-0000-0000-0000-000000000000",
        "correlation_id": "00000000-0000-0000-0000-000000000000",
    })


def default_version(name):
    return hashlib.sha256(name.lower().encode("utf-8")).hexdigest()[:32]


def attributes(entry):
    return {"enabled": bool(entry.get("enabled", True)), "created": CREATED,
            "updated": CREATED, "recoveryLevel": "Recoverable+Purgeable",
            "recoverableDays": 90}


def find_secret(vault, name):
    """(stored name, entry) for a case-insensitive name, or (None, None)."""
    for stored, entry in (vault.get("secrets") or {}).items():
        if stored.lower() == name.lower():
            return stored, entry
    return None, None


def same_resource(value):
    return (value or "").rstrip("/") == VAULT_RESOURCE


class Handler(BaseHTTPRequestHandler):
    server_version = "azure-stub"
    protocol_version = "HTTP/1.1"

    def version_string(self):
        return self.server_version

    # ---- plumbing -------------------------------------------------------

    def log_message(self, fmt, *args):  # silence http.server's own log
        pass

    def send_json(self, status, obj, headers=None):
        body = json.dumps(obj, separators=(",", ":")).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()
        path = urlsplit(self.path).path
        sys.stderr.write("azure-stub: %s %s %d\n" % (self.command, path, status))
        sys.stderr.flush()
        return status

    def do_GET(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    def do_PUT(self):
        self.dispatch()

    def do_DELETE(self):
        self.dispatch()

    def bearer(self):
        scheme, _, rest = (self.headers.get("Authorization") or "").strip().partition(" ")
        if scheme.lower() == "bearer" and rest.strip():
            return rest.strip()
        return None

    # ---- dispatch -------------------------------------------------------

    def dispatch(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        self.body = raw
        url = urlsplit(self.path)
        path = url.path.rstrip("/") or "/"
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        form = {}
        if self.command == "POST":
            form = {k: v[-1] for k, v in
                    parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True).items()}
        state = self.server.state

        if path.startswith("/__stub/"):
            return self.stub_control(path)

        try:
            data = state.load()
        except (OSError, ValueError) as e:
            sys.stderr.write("azure-stub: cannot read data file: %s\n" % e)
            return self.send_json(500, {"error": {"code": "StubData", "message": "unreadable"}})

        parts = [p for p in path.split("/") if p]
        kind, vault = self.classify(parts)
        at_root = kind == "vault" and vault is None
        if at_root:
            vault = data.get("root_vault") or ""
        with state.lock:
            state.requests += 1
        try:
            self.apply_faults(data, kind, vault, form)
            if kind == "token":
                status = self.token_endpoint(data, parts[0], form)
            elif kind == "openid":
                status = self.openid_configuration(data, parts[0])
            elif kind == "app_service":
                status = self.app_service(data, query)
            elif kind == "imds":
                status = self.imds(data, query)
            elif kind == "vault":
                status = self.vault_api(data, vault, parts if at_root else parts[1:], query,
                                        at_root)
            else:
                raise Answer(404, {"error": {"code": "NotFound", "message": "No such endpoint"}})
        except Answer as a:
            status = self.send_json(a.status, a.body, a.headers)
        if kind == "vault":
            with state.lock:
                state.vault_requests.setdefault(vault, []).append(
                    {"method": self.command, "path": path, "bearer": self.bearer() is not None,
                     "status": status})

    def classify(self, parts):
        """(endpoint kind, vault name or None) for a path."""
        if self.command == "POST" and len(parts) == 4 and parts[1:] == ["oauth2", "v2.0", "token"]:
            return "token", None
        if self.command == "GET" and len(parts) == 4 \
                and parts[1:] == ["v2.0", ".well-known", "openid-configuration"]:
            return "openid", None
        if parts == ["msi", "token"]:
            return "app_service", None
        if parts == ["metadata", "identity", "oauth2", "token"]:
            return "imds", None
        if len(parts) >= 2 and parts[1] == "secrets":
            return "vault", parts[0]
        if parts and parts[0] == "secrets":
            return "vault", None  # the root vault
        return None, None

    def apply_faults(self, data, kind, vault, form):
        state = self.server.state
        faults = data.get("faults") or {}
        delay_ms = 0
        chosen = None
        with state.lock:
            for fid in sorted(faults):
                f = faults[fid]
                if not isinstance(f, dict):
                    continue
                if "vault" in f and (kind != "vault" or f["vault"] != vault):
                    continue
                if "client" in f and (kind != "token" or f["client"] != form.get("client_id")):
                    continue
                if f.get("authenticated") and self.bearer() is None:
                    continue
                hits = state.fault_hits.get(fid, 0)
                if "count" in f and hits >= int(f["count"]):
                    continue
                state.fault_hits[fid] = hits + 1
                delay_ms += int(f.get("delay_ms", 0))
                if chosen is None and "status" in f:
                    chosen = f
        if delay_ms:
            time.sleep(delay_ms / 1000.0)
        if chosen is None:
            return
        status = int(chosen["status"])
        headers = {}
        if "retry_after" in chosen:
            headers["Retry-After"] = str(chosen["retry_after"])
        message = chosen.get("message") or self.responses.get(status, ("Error",))[0]
        if kind == "vault":
            code = "Throttled" if status == 429 else "ServiceUnavailable"
            raise kv_error(status, code, message, headers=headers)
        raise Answer(status, {"error": "temporarily_unavailable", "error_description": message},
                     headers)

    def stub_control(self, path):
        state = self.server.state
        if path == "/__stub/stats" and self.command == "GET":
            with state.lock:
                obj = {"requests": state.requests,
                       "token_requests": dict(state.token_requests),
                       "vault_requests": {k: list(v) for k, v in state.vault_requests.items()},
                       "fault_hits": dict(state.fault_hits)}
            return self.send_json(200, obj)
        if path == "/__stub/reset" and self.command == "POST":
            with state.lock:
                state.reset()
            return self.send_json(200, {"success": True})
        return self.send_json(404, {"error": {"code": "NotFound", "message": "Not found"}})

    # ---- Entra ID token endpoint ----------------------------------------

    def base_url(self):
        # A TLS stub sets `scheme` on the server.
        return "%s://%s" % (getattr(self.server, "scheme", "http"),
                            self.headers.get("Host") or "127.0.0.1")

    def openid_configuration(self, data, tenant_id):
        if not isinstance((data.get("tenants") or {}).get(tenant_id), dict):
            raise aad_error(400, "invalid_tenant", 90002, "Tenant '%s' not found." % tenant_id)
        base = "%s/%s" % (self.base_url(), tenant_id)
        return self.send_json(200, {
            "token_endpoint": base + "/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt",
                                                      "client_secret_basic"],
            "authorization_endpoint": base + "/oauth2/v2.0/authorize",
            "device_authorization_endpoint": base + "/oauth2/v2.0/devicecode",
            "issuer": base + "/v2.0",
            "jwks_uri": base + "/discovery/v2.0/keys",
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "tenant_region_scope": "EU",
        })

    def token_endpoint(self, data, tenant_id, form):
        tenant = (data.get("tenants") or {}).get(tenant_id)
        if not isinstance(tenant, dict):
            raise aad_error(400, "invalid_request", 90002,
                            "Tenant '%s' not found." % tenant_id)
        client_id = form.get("client_id") or ""
        self.server.state.count_token(client_id)
        if form.get("grant_type") != "client_credentials":
            raise aad_error(400, "unsupported_grant_type", 70003,
                            "The app requested an unsupported grant type.")
        scope = form.get("scope") or ""
        if not (scope.endswith("/.default") and same_resource(scope[:-len("/.default")])):
            raise aad_error(400, "invalid_scope", 70011,
                            "The provided value for the input parameter 'scope' is not valid.")
        client = (tenant.get("clients") or {}).get(client_id)
        if not isinstance(client, dict):
            raise aad_error(400, "unauthorized_client", 700016,
                            "Application with identifier '%s' was not found in the directory "
                            "'%s'." % (client_id, tenant_id))
        if "client_secret" in form:
            if "secret" not in client or form["client_secret"] != client["secret"]:
                raise aad_error(401, "invalid_client", 7000215,
                                "Invalid client secret provided. Ensure the secret being sent "
                                "in the request is the client secret value, not the client "
                                "secret ID, for a secret added to app '%s'." % client_id)
        elif "client_assertion" in form:
            if form.get("client_assertion_type") != JWT_BEARER:
                raise aad_error(400, "invalid_request", 900023,
                                "Specified client_assertion_type is not supported.")
            if "assertion" not in client or form["client_assertion"] != client["assertion"]:
                raise aad_error(400, "invalid_grant", 70021,
                                "No matching federated identity record found for presented "
                                "assertion.")
        else:
            raise aad_error(401, "invalid_client", 7000216,
                            "'client_assertion', 'client_secret' or 'request' is required for "
                            "the 'client_credentials' grant type.")
        return self.send_json(200, {"token_type": "Bearer", "expires_in": 3599,
                                    "ext_expires_in": 3599,
                                    "access_token": client["access_token"]})

    # ---- managed identity -----------------------------------------------

    def app_service(self, data, query):
        def refuse(status, message):
            return Answer(status, {"statusCode": status, "message": message})

        if self.command != "GET":
            raise refuse(405, "Method not allowed")
        entry = (data.get("app_service") or {}).get(self.headers.get("X-IDENTITY-HEADER") or "")
        if not isinstance(entry, dict):
            raise refuse(401, "Unauthorized request: the X-IDENTITY-HEADER is missing or wrong.")
        self.server.state.count_token("app-service:%s" % entry.get("id", ""))
        if query.get("api-version") != "2019-08-01":
            raise refuse(400, "Invalid or missing api-version.")
        if not same_resource(query.get("resource")):
            raise refuse(400, "The resource is not supported by this stub.")
        wanted = query.get("client_id")
        if wanted and wanted != entry.get("client_id"):
            raise refuse(400, "No managed identity found for specified ClientId/ResourceId/"
                              "PrincipalId.")
        return self.send_json(200, {"access_token": entry["access_token"],
                                    "expires_on": str(int(time.time()) + 3600),
                                    "resource": query["resource"], "token_type": "Bearer",
                                    "client_id": entry.get("client_id") or "system-assigned"})

    def imds(self, data, query):
        def refuse(description):
            return Answer(400, {"error": "invalid_request", "error_description": description})

        if self.command != "GET":
            raise Answer(405, {"error": "invalid_request", "error_description": "Bad method"})
        if (self.headers.get("Metadata") or "").lower() != "true":
            raise refuse("Required metadata header not specified")
        identity = query.get("client_id") or "system"
        self.server.state.count_token("imds:%s" % identity)
        if query.get("api-version") != "2018-02-01":
            raise refuse("Required query variable 'api-version' is missing or unsupported")
        if not same_resource(query.get("resource")):
            raise refuse("Resource not supported by this stub")
        token = (data.get("imds") or {}).get(identity)
        if not token:
            raise refuse("Identity not found")
        now = int(time.time())
        return self.send_json(200, {"access_token": token,
                                    "client_id": query.get("client_id") or "system-assigned",
                                    "expires_in": "86399", "expires_on": str(now + 86399),
                                    "ext_expires_in": "86399", "not_before": str(now),
                                    "resource": query["resource"], "token_type": "Bearer"})

    # ---- Key Vault ------------------------------------------------------

    def vault_api(self, data, vault_name, rest, query, at_root):
        vault = (data.get("vaults") or {}).get(vault_name)
        if not isinstance(vault, dict):
            raise kv_error(404, "VaultNotFound", "No vault '%s' in this stub." % vault_name)
        if not query.get("api-version"):
            raise kv_error(400, "MissingApiVersionParameter",
                           "The api-version query parameter (?api-version=) is required for "
                           "all requests.")
        self.authorize(data, vault_name, vault)
        base = self.base_url()
        if not at_root:
            base += "/" + quote(vault_name)
        if self.command == "PUT" and len(rest) == 2:
            return self.set_secret(vault_name, base, rest[1])
        if self.command != "GET":
            raise kv_error(405, "BadParameter", "Only GET and PUT are served by this stub.")
        if rest == ["secrets"]:
            return self.list_secrets(data, vault, base, query)
        if len(rest) == 3 and rest[2] == "versions":
            return self.list_versions(data, vault, base, rest[1], query)
        if len(rest) in (2, 3):
            return self.get_secret(vault, base, rest[1], rest[2] if len(rest) == 3 else None)
        raise kv_error(404, "NotFound", "No such operation.")

    def authorize(self, data, vault_name, vault):
        token = self.bearer()
        known = (data.get("access_tokens") or {}).get(token) if token else None
        if not isinstance(known, dict):
            authority = "%s/%s" % (AUTHORITY, vault.get("tenant", "common"))
            if vault.get("challenge") == "scope":
                challenge = 'Bearer authorization="%s", scope="%s/.default"' % (
                    authority, VAULT_RESOURCE)
            else:
                challenge = 'Bearer authorization="%s", resource="%s"' % (
                    authority, VAULT_RESOURCE)
            message = ("AKV10000: Request is missing a Bearer or PoP token." if token is None
                       else "AKV10032: Invalid issuer.")
            raise kv_error(401, "Unauthorized", message,
                           headers={"WWW-Authenticate": challenge})
        if vault_name not in (known.get("vaults") or []):
            raise kv_error(403, "Forbidden",
                           "Caller is not authorized to perform action on resource. Vault: %s"
                           % vault_name, inner="ForbiddenByRbac")

    def list_secrets(self, data, vault, base, query):
        secrets = sorted((vault.get("secrets") or {}).items(), key=lambda kv: kv[0].lower())
        items = []
        for name, entry in secrets:
            item = {"id": "%s/secrets/%s" % (base, name), "attributes": attributes(entry)}
            if entry.get("content_type"):
                item["contentType"] = entry["content_type"]
            items.append(item)
        return self.send_page(data, items, "%s/secrets" % base, query)

    def list_versions(self, data, vault, base, name, query):
        stored, entry = find_secret(vault, name)
        if entry is None:
            raise kv_error(404, "SecretNotFound", "A secret with (name/id) %s was not found in "
                                                  "this key vault." % name)
        prefix = "%s/secrets/%s/" % (base, stored)
        items = [{"id": prefix + (entry.get("version") or default_version(stored)),
                  "attributes": attributes(entry)}]
        for version_id, older in sorted((entry.get("versions") or {}).items()):
            items.append({"id": prefix + version_id, "attributes": attributes(older)})
        return self.send_page(data, items, prefix + "versions", query)

    def send_page(self, data, items, url, query):
        """One page of a Key Vault listing, with the nextLink to the rest."""
        size = int(data.get("page_size", 2))
        if query.get("maxresults"):
            size = max(1, min(size, int(query["maxresults"])))
        start = 0
        token = query.get("$skiptoken")
        if token:
            try:
                start = int(base64.urlsafe_b64decode(token.encode("ascii")).decode("ascii"))
            except (ValueError, UnicodeDecodeError):
                raise kv_error(400, "BadParameter", "Invalid skip token.")
        next_link = None
        if start + size < len(items):
            skip = base64.urlsafe_b64encode(str(start + size).encode("ascii")).decode("ascii")
            next_link = "%s?api-version=%s&$skiptoken=%s&maxresults=%d" % (
                url, API_VERSION, skip, size)
        return self.send_json(200, {"value": items[start:start + size], "nextLink": next_link})

    def set_secret(self, vault_name, base, name):
        try:
            request = json.loads(self.body or b"{}")
        except ValueError:
            request = None
        if not isinstance(request, dict) or not isinstance(request.get("value"), str):
            raise kv_error(400, "BadParameter", "The request body must hold a string 'value'.")
        state = self.server.state
        with state.lock:
            data = state.load()
            secrets = data["vaults"][vault_name].setdefault("secrets", {})
            stored, entry = find_secret(data["vaults"][vault_name], name)
            if entry is None:
                stored, entry = name, {}
                secrets[stored] = entry
            else:
                older = {"value": entry.get("value", ""), "enabled": entry.get("enabled", True)}
                current = entry.get("version") or default_version(stored)
                entry.setdefault("versions", {})[current] = older
            entry["value"] = request["value"]
            entry["version"] = uuid.uuid4().hex
            entry["enabled"] = bool((request.get("attributes") or {}).get("enabled", True))
            if request.get("contentType"):
                entry["content_type"] = request["contentType"]
            else:
                entry.pop("content_type", None)
            directory = os.path.dirname(os.path.abspath(state.data_path))
            fd, temp = tempfile.mkstemp(dir=directory, prefix=".azure-stub-")
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(data, f)
            os.replace(temp, state.data_path)
        bundle = {"value": entry["value"],
                  "id": "%s/secrets/%s/%s" % (base, stored, entry["version"]),
                  "attributes": attributes(entry)}
        if entry.get("content_type"):
            bundle["contentType"] = entry["content_type"]
        return self.send_json(200, bundle)

    def get_secret(self, vault, base, name, version):
        stored, entry = find_secret(vault, name)
        missing = name if version is None else "%s/%s" % (name, version)
        not_found = kv_error(404, "SecretNotFound",
                             "A secret with (name/id) %s was not found in this key vault. If "
                             "you recently deleted this secret you may be able to recover it "
                             "using the correct recovery command. For help resolving this "
                             "issue, please see https://go.microsoft.com/fwlink/?linkid=2125182"
                             % missing)
        if entry is None:
            raise not_found
        current = entry.get("version") or default_version(stored)
        if version is None or version.lower() == current.lower():
            chosen, chosen_version = entry, current
        else:
            older = {k.lower(): (k, v) for k, v in (entry.get("versions") or {}).items()}
            if version.lower() not in older:
                raise not_found
            chosen_version, chosen = older[version.lower()]
        if not chosen.get("enabled", True):
            raise kv_error(403, "Forbidden", "Operation get is not allowed on a disabled secret.",
                           inner="SecretDisabled")
        bundle = {"value": chosen.get("value", ""),
                  "id": "%s/secrets/%s/%s" % (base, stored, chosen_version),
                  "attributes": attributes(chosen)}
        if entry.get("content_type"):
            bundle["contentType"] = entry["content_type"]
        return self.send_json(200, bundle)


def main():
    ap = argparse.ArgumentParser(description="Local Azure Key Vault and token endpoint stub")
    ap.add_argument("--data", required=True, help="JSON data file, re-read on every request")
    ap.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0 = a free one)")
    ap.add_argument("--tls-cert", help="serve https with this PEM certificate (chain)")
    ap.add_argument("--tls-key", help="the PEM private key of --tls-cert")
    args = ap.parse_args()
    if bool(args.tls_cert) != bool(args.tls_key):
        ap.error("--tls-cert and --tls-key go together")
    state = State(args.data)
    state.load()  # fail fast on a missing or malformed file
    httpd = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    httpd.daemon_threads = True
    httpd.state = state
    if args.tls_cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
        httpd.scheme = "https"
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
