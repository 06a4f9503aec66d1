#!/usr/bin/env python3
"""A fault-injecting HTTP proxy (stdlib only) for secretrun's fault tests.

It sits in front of a real test server (OpenBao, moto, the Doppler stand-in) and
forwards every request to it, unless a fault armed in its data file says
otherwise. A forwarded request keeps its method, path, query, body and headers
(Host included: AWS SigV4 signs it, and moto checks the signature), except the
hop-by-hop ones.

Usage:
    python3 fault_proxy.py --data FILE [--port 0]

Binds 127.0.0.1:PORT (0 = a free one), then prints exactly one line
`listening on 127.0.0.1:PORT` to stdout (flushed), as the stubs in this
directory do. FILE is re-read on every request (and every 50 ms by the accept
loop), so a test arms and clears faults by rewriting it (atomically: write a
temp file, rename it over FILE). One line per request goes to stderr: method,
path (no query string), status. Tokens, bodies and values are never logged.

Data file schema (JSON):

{
  "upstream": "http://127.0.0.1:8200",   # required: where requests go
  "tls": {"cert": "server.pem",          # optional, read at start only: serve
          "key": "server.key"},          #   HTTPS with this certificate
  "backlog": 128,                        # optional, read at start only
  "down": false,                         # true: close the listening socket, so
                                         #   connections are refused (ECONNREFUSED)
                                         #   until it is false again (same port)
  "faults": {
    "<id>": {
      "status": 503,           # answer this status with a Vault-style error
                               #   body {"errors": ["..."]} instead of forwarding
      "retry_after": 1,        # with "status": a Retry-After header (seconds)
      "body": "{...}",         # with "status": this text as the body instead
                               #   (e.g. an AWS JSON-protocol error)
      "headers": {"x-amzn-ErrorType": "ThrottlingException"},
                               # with "status": these headers too (a
                               #   "Content-Type" here replaces application/json)
      "delay_ms": 3000,        # sleep this long before anything else
      "truncate": true,        # forward, then cut the answer's body in half
                               #   (Content-Length of the cut body: broken JSON)
      "invalid_json": true,    # forward, then replace a 2xx answer's body
                               #   with text that is not JSON
      "count": 2,              # only the first `count` matching requests
      "share": 0.25,           # only this share of the matching requests,
                               #   spread evenly (the 4th, 8th, ... for 0.25)
      "per_call": 2,           # at most this many hits per AWS SDK call
                               #   (amz-sdk-invocation-id), so a call's later
                               #   attempts pass whatever slot they land on
      "path": "/v1/secret/"    # only requests whose path starts with this
    }
  }
}

Faults are considered in sorted id order; every matching active fault counts
the request as a hit (counted when the request arrives; counters live in this
process, keyed by id, so re-arm with a new id); delays add up; the first with
"status" decides the status. The counters are written to FILE + ".stats"
after every request and every answer:
  {"requests": N, "fault_hits": {id: N},
   "by_status": {"200": N, "429": N, ...},   # answers sent, forwarded or not
   "per_100ms": {"<tenth of a second since the first request>": N},
                                             # arrivals, to see a storm
   "retry_waits": [{"status": 429, "retry_after": 1, "waited_ms": 1234}]}
                                             # AWS SDK requests only (they carry
                                             #   amz-sdk-invocation-id, the same on
                                             #   every attempt of one call): after an
                                             #   armed status answer with Retry-After,
                                             #   how long until that call's next attempt
"""

import argparse
import http.client
import json
import os
import select
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit

# Not forwarded either way. The Host header is NOT among them: it is forwarded unchanged (as
# are the body and every other header), because AWS SigV4 signs it; moto, checking signatures,
# answers SignatureDoesNotMatch (HTTP 403) when the proxy puts the upstream's host:port there.
# Content-Length is recomputed by http.client from the (unchanged) body.
HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
    "trailers", "transfer-encoding", "upgrade", "content-length",
}
# send_response() adds its own Server and Date.
DROPPED_FROM_ANSWERS = HOP_BY_HOP | {"server", "date", "host"}
NOT_JSON = b"<html><body>502 Bad Gateway (not JSON)</body></html>\n"


class State:
    def __init__(self, data_path):
        self.data_path = data_path
        self.lock = threading.Lock()
        self.requests = 0
        self.fault_hits = {}
        self.fault_seen = {}
        self.call_hits = {}
        self.by_status = {}
        self.per_100ms = {}
        self.first = None
        # AWS SDK call id -> (monotonic time, status, Retry-After) of its last armed refusal.
        self.refused_calls = {}
        self.retry_waits = []

    def load(self):
        with open(self.data_path, "r", encoding="utf-8") as f:
            data = json.load(f)
        if not isinstance(data, dict) or "upstream" not in data:
            raise ValueError("data file must hold an object with 'upstream'")
        return data

    def write_stats(self):
        # Under the lock: a thread that took its copy earlier must not rename it over a newer one.
        with self.lock:
            stats = {"requests": self.requests, "fault_hits": dict(self.fault_hits),
                     "by_status": dict(self.by_status), "per_100ms": dict(self.per_100ms),
                     "retry_waits": list(self.retry_waits)}
            temp = "%s.stats.tmp" % self.data_path
            with open(temp, "w", encoding="utf-8") as f:
                json.dump(stats, f)
            os.replace(temp, self.data_path + ".stats")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fault-proxy"

    def version_string(self):
        return self.server_version

    def log_message(self, fmt, *args):
        pass

    def log_line(self, status):
        path = urlsplit(self.path).path
        sys.stderr.write("fault-proxy: %s %s %d\n" % (self.command, path, status))
        sys.stderr.flush()

    def do_GET(self):
        self.forward()

    do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_LIST = do_GET

    def reply(self, status, body, headers):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()
        self.log_line(status)
        state = self.server.state
        with state.lock:
            state.by_status[str(status)] = state.by_status.get(str(status), 0) + 1
        state.write_stats()

    def forward(self):
        state = self.server.state
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        path = urlsplit(self.path).path
        try:
            data = state.load()
        except (OSError, ValueError) as e:
            sys.stderr.write("fault-proxy: cannot read data file: %s\n" % e)
            return self.reply(500, b'{"errors":["proxy data file unreadable"]}',
                              [("Content-Type", "application/json")])

        delay_ms, status_fault, truncate, invalid = 0, None, False, False
        call = self.headers.get("amz-sdk-invocation-id")
        with state.lock:
            state.requests += 1
            now = time.monotonic()
            refused = state.refused_calls.pop(call, None) if call else None
            if refused is not None:
                at, status, retry_after = refused
                state.retry_waits.append({"status": status, "retry_after": retry_after,
                                          "waited_ms": int((now - at) * 1000)})
            if state.first is None:
                state.first = now
            tenth = str(int((now - state.first) * 10))
            state.per_100ms[tenth] = state.per_100ms.get(tenth, 0) + 1
            for fid in sorted(data.get("faults") or {}):
                f = data["faults"][fid]
                if not isinstance(f, dict):
                    continue
                if "path" in f and not path.startswith(f["path"]):
                    continue
                hits = state.fault_hits.get(fid, 0)
                if "count" in f and hits >= int(f["count"]):
                    continue
                if "per_call" in f and call and \
                        state.call_hits.get((fid, call), 0) >= int(f["per_call"]):
                    continue
                if "share" in f:
                    seen = state.fault_seen.get(fid, 0)
                    state.fault_seen[fid] = seen + 1
                    share = float(f["share"])
                    if int((seen + 1) * share) == int(seen * share):
                        continue
                state.fault_hits[fid] = hits + 1
                if call:
                    state.call_hits[(fid, call)] = state.call_hits.get((fid, call), 0) + 1
                delay_ms += int(f.get("delay_ms", 0))
                if status_fault is None and "status" in f:
                    status_fault = f
                truncate = truncate or bool(f.get("truncate"))
                invalid = invalid or bool(f.get("invalid_json"))
        state.write_stats()
        if delay_ms:
            time.sleep(delay_ms / 1000.0)
        if status_fault is not None:
            status = int(status_fault["status"])
            extra = list((status_fault.get("headers") or {}).items())
            headers = [(k, str(v)) for k, v in extra]
            if not any(k.lower() == "content-type" for k, _ in headers):
                headers.insert(0, ("Content-Type", "application/json"))
            if "retry_after" in status_fault:
                headers.append(("Retry-After", str(status_fault["retry_after"])))
                if call:
                    # Just before the answer leaves: the call cannot try again any sooner.
                    with state.lock:
                        state.refused_calls[call] = (time.monotonic(), status,
                                                     status_fault["retry_after"])
            if "body" in status_fault:
                message = str(status_fault["body"])
            else:
                message = json.dumps({"errors": ["injected by fault_proxy: HTTP %d" % status]})
            return self.reply(status, message.encode("utf-8"), headers)

        upstream = urlsplit(data["upstream"])
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        try:
            conn = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=60)
            conn.request(self.command, self.path, body=body, headers=headers)
            answer = conn.getresponse()
            payload = answer.read()
            answer_headers = [(k, v) for k, v in answer.getheaders()
                              if k.lower() not in DROPPED_FROM_ANSWERS]
            status = answer.status
            conn.close()
        except OSError as e:
            sys.stderr.write("fault-proxy: upstream failed: %s\n" % e)
            return self.reply(502, b'{"errors":["upstream unreachable"]}',
                              [("Content-Type", "application/json")])
        if invalid and 200 <= status < 300:
            payload = NOT_JSON
        if truncate and payload:
            payload = payload[: len(payload) // 2]
        self.reply(status, payload, answer_headers)


class Server:
    """Just what BaseHTTPRequestHandler needs of a server."""

    def __init__(self, state):
        self.state = state


def handle(conn, address, server, tls):
    try:
        if tls is not None:
            conn.settimeout(30)
            conn = tls.wrap_socket(conn, server_side=True)
        conn.settimeout(60)
        Handler(conn, address, server)
    except (OSError, ssl.SSLError):
        pass  # a client that gave up, or refused our certificate: its own error says so
    finally:
        try:
            conn.close()
        except OSError:
            pass


def bind(port, backlog):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(backlog)
    return sock


def main():
    ap = argparse.ArgumentParser(description="Fault-injecting HTTP proxy for tests")
    ap.add_argument("--data", required=True, help="JSON data file, re-read on every request")
    ap.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0 = a free one)")
    args = ap.parse_args()
    state = State(args.data)
    data = state.load()  # fail fast on a missing or malformed file
    tls = None
    if data.get("tls"):
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(data["tls"]["cert"], data["tls"]["key"])
    backlog = int(data.get("backlog", 128))
    listener = bind(args.port, backlog)
    port = listener.getsockname()[1]
    sys.stdout.write("listening on 127.0.0.1:%d\n" % port)
    sys.stdout.flush()
    server = Server(state)
    down = False
    while True:
        try:
            down = bool(state.load().get("down"))
        except (OSError, ValueError):
            pass  # keep the last state while the file is being replaced
        if down and listener is not None:
            listener.close()
            listener = None
        elif not down and listener is None:
            listener = bind(port, backlog)
        if listener is None:
            time.sleep(0.05)
            continue
        ready, _, _ = select.select([listener], [], [], 0.05)
        if ready:
            try:
                conn, address = listener.accept()
            except OSError:
                continue
            threading.Thread(target=handle, args=(conn, address, server, tls),
                             daemon=True).start()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
