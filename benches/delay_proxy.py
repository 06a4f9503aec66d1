#!/usr/bin/env python3
"""A TCP proxy that adds latency, for secretrun's concurrency benchmark (scripts/bench).

Usage:
    python3 benches/delay_proxy.py --target HOST:PORT [--delay-ms 100] [--connect-delay-ms 0]

Listens on 127.0.0.1 on a free port and prints exactly one line to stdout,
`listening on 127.0.0.1:PORT` (flushed). Every accepted connection gets its own
connection to the target.

How it delays (stdlib asyncio, no dependencies):

- client -> target: every chunk read from the client is forwarded to the target
  `--delay-ms` after it arrived (a per-connection queue stamped on arrival, so
  chunks keep their order and delays do not add up: it is a fixed one-way latency,
  like a long cable, not a bandwidth limit). An HTTP request (headers and body,
  written by the client in one go) therefore reaches the server 100 ms late, and
  every request/response round trip costs 100 ms plus the server's own time,
  whether it is the first request of a connection or a later one on a kept-alive
  connection.
- target -> client: forwarded at once.
- `--connect-delay-ms` (default 0): additionally holds a new connection's first
  bytes this much longer, to model the TCP (and TLS) handshake round trips that a
  new connection costs on a real network and that a reused connection does not.
  The kernel completes the client's connect() at once either way (a proxy in user
  space cannot delay the SYN-ACK), so this is the only way to charge for it.

Log on stderr, one line per event (no payload), each starting with the milliseconds
since the proxy started:
    open N            connection N accepted
    request N         a burst of client bytes after a response (or the first):
                      one HTTP request on connection N (pipelining aside)
    close N           connection N ended
Stop with SIGTERM or SIGINT.
"""

import argparse
import asyncio
import signal
import sys
import time


class Counter:
    def __init__(self):
        self.connections = 0


START = time.monotonic()


def log(text):
    sys.stderr.write("%.1f %s\n" % ((time.monotonic() - START) * 1000.0, text))
    sys.stderr.flush()


async def pump_delayed(reader, writer, delay, first_extra, conn_id, state):
    """client -> target, each chunk released `delay` after it arrived."""
    queue = asyncio.Queue()

    async def release():
        while True:
            due, chunk = await queue.get()
            if chunk is None:
                break
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(chunk)
            await writer.drain()
        try:
            if writer.can_write_eof():
                writer.write_eof()
        except (OSError, RuntimeError):
            pass

    releaser = asyncio.ensure_future(release())
    first = True
    try:
        while True:
            chunk = await reader.read(65536)
            if not chunk:
                break
            now = time.monotonic()
            if state["answered"] or first:
                log("request %d" % conn_id)
                state["answered"] = False
            due = now + delay + (first_extra if first else 0.0)
            first = False
            queue.put_nowait((due, chunk))
    except (ConnectionError, OSError):
        pass
    finally:
        queue.put_nowait((0.0, None))
        try:
            await releaser
        except (ConnectionError, OSError):
            pass


async def pump_direct(reader, writer, state):
    """target -> client, at once."""
    try:
        while True:
            chunk = await reader.read(65536)
            if not chunk:
                break
            state["answered"] = True
            writer.write(chunk)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        try:
            writer.close()
        except (OSError, RuntimeError):
            pass


async def handle(client_reader, client_writer, args, counter):
    counter.connections += 1
    conn_id = counter.connections
    log("open %d" % conn_id)
    try:
        target_reader, target_writer = await asyncio.open_connection(args.host, args.port)
    except OSError as error:
        log("close %d (target unreachable: %s)" % (conn_id, error))
        client_writer.close()
        return
    state = {"answered": False}
    await asyncio.gather(
        pump_delayed(client_reader, target_writer, args.delay_ms / 1000.0,
                     args.connect_delay_ms / 1000.0, conn_id, state),
        pump_direct(target_reader, client_writer, state),
    )
    for writer in (client_writer, target_writer):
        try:
            writer.close()
        except (OSError, RuntimeError):
            pass
    log("close %d" % conn_id)


async def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--target", required=True, help="HOST:PORT to forward to")
    ap.add_argument("--delay-ms", type=float, default=100.0,
                    help="one-way delay of client->target bytes (default 100)")
    ap.add_argument("--connect-delay-ms", type=float, default=0.0,
                    help="extra delay of a new connection's first bytes (default 0)")
    args = ap.parse_args()
    host, _, port = args.target.rpartition(":")
    args.host, args.port = host or "127.0.0.1", int(port)

    counter = Counter()
    server = await asyncio.start_server(
        lambda r, w: handle(r, w, args, counter), "127.0.0.1", 0, backlog=512)
    port = server.sockets[0].getsockname()[1]
    sys.stdout.write("listening on 127.0.0.1:%d\n" % port)
    sys.stdout.flush()

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(main())
