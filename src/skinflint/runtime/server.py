"""`serve`: a runtime behind the HTTP edge (skinflint.runtime.edge) until SIGTERM or SIGINT.

The socket is bound first (`listen`: a port in use is `AddressError`, exit 4, before any worker
starts). Either signal drains: the listener closes, /v2/health/ready turns 503, new requests on
open connections are refused 503, partial batches close at once, and requests already in the
runtime are answered — for at most `drain_s` (default: the longest wait for a result, 10 x SLO)
— then the runtime closes and `serve` returns its counts (the command then flushes the batch log
and metrics and exits 0). A second signal cuts the drain short.

Routes: skinflint.runtime.edge.app. Limits: skinflint.runtime.edge.http.Limits; the open-files
limit is raised to its hard limit and `max_connections` kept below it (`fit_connections`).
"""

from __future__ import annotations

import asyncio
import errno
import logging
import resource
import signal
import socket
import threading
import time
from typing import Any

from skinflint.errors import AddressError
from skinflint.runtime.edge.app import EdgeApp
from skinflint.runtime.edge.fleet import FleetApp
from skinflint.runtime.edge.http import Limits, Server

log = logging.getLogger("skinflint.edge")
BACKLOG = 4096
FD_RESERVE = 256          # descriptors kept for everything but client connections (models, logs, Ray)


def listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port; AddressError (one line) when it cannot be had."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as e:
        raise AddressError(f"cannot resolve --host {host!r}: {e.strerror}") from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(BACKLOG)
    except OSError as e:
        sock.close()
        if e.errno == errno.EADDRINUSE:
            raise AddressError(f"{host}:{port} is already in use: stop what holds it or pass another --port") from None
        raise AddressError(f"cannot listen on {host}:{port}: {e.strerror}") from None
    sock.setblocking(False)
    return sock


def fit_connections(limits: Limits) -> Limits:
    """`limits` with max_connections within the open-files limit (raised to its hard limit first)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = limits.max_connections + FD_RESERVE
    if soft != resource.RLIM_INFINITY and soft < want:
        target = want if hard == resource.RLIM_INFINITY else min(want, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    room = limits.max_connections if soft == resource.RLIM_INFINITY else max(16, soft - FD_RESERVE)
    if room < limits.max_connections:
        log.warning("open-files limit %d: at most %d connections (raise `ulimit -n` for more)", soft, room)
        return Limits(**{**limits.__dict__, "max_connections": room})
    return limits


def new_loop() -> asyncio.AbstractEventLoop:
    """uvloop's event loop where installed (the serve extra), else asyncio's; repeated loop errors
    (e.g. out of file descriptors on accept) are logged once per 10 s as one line."""
    try:
        import uvloop
        loop = uvloop.new_event_loop()
    except ImportError:
        loop = asyncio.new_event_loop()
    last: dict[Any, float] = {}

    def quiet(loop: Any, context: dict) -> None:
        exc = context.get("exception")
        key = (context.get("message"), type(exc))
        now = time.monotonic()
        if now - last.get(key, -1e9) >= 10.0:
            last[key] = now
            log.warning("%s%s", context.get("message"), f": {exc}" if exc else "")
    loop.set_exception_handler(quiet)
    return loop


async def run_edge(app: EdgeApp, sock: socket.socket, limits: Limits, stop: asyncio.Event,
                   drain_s: float | None = None, started: threading.Event | None = None) -> Server:
    """Serve `app` on `sock` until `stop` is set, then drain (module docstring); the edge's Server."""
    loop = asyncio.get_running_loop()
    edge = Server(app, limits)
    listener = await loop.create_server(edge.protocol, sock=sock, backlog=BACKLOG)
    if started is not None:
        started.set()
    await stop.wait()
    stop.clear()
    app.ready = False
    listener.close()
    edge.drain()
    runtime = app.runtime
    deadline = loop.time() + (app.wait_s if drain_s is None else drain_s)
    while (edge.active or runtime.in_flight) and loop.time() < deadline and not stop.is_set():
        for d in runtime.dispatchers:
            d.drain()
        await asyncio.sleep(0.005)
    await asyncio.sleep(0)              # let the last answers be written
    for conn in list(edge._all):
        conn.abort()
    return edge


def serve(runtime: Any, *, sock: socket.socket, token: str | None = None, limits: Limits = Limits(),
          max_frames: int = 64, timeout_s: float | None = None, drain_s: float | None = None) -> dict[str, Any]:
    """Serve `runtime` on the bound `sock` until SIGTERM or SIGINT, drain, close the runtime; the
    final counts (with `drained_s`, the drain's seconds, and `in_flight` left)."""
    limits = fit_connections(limits)
    make = FleetApp if hasattr(runtime, "fleet") else EdgeApp     # a FleetRuntime: one EdgeApp per app
    app = make(runtime, token=token, max_frames=max_frames, timeout_s=timeout_s)
    loop = new_loop()
    stop = asyncio.Event()
    stopped_at: list[float] = []

    def on_signal() -> None:
        stopped_at.append(time.perf_counter())
        stop.set()
    try:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, on_signal)
        loop.run_until_complete(run_edge(app, sock, limits, stop, drain_s))
        drained = time.perf_counter() - stopped_at[0] if stopped_at else 0.0
        left = runtime.in_flight
    finally:
        app.close()
        runtime.close()
        loop.close()
        sock.close()
    return {**dict(runtime.counts), "in_flight": left, "drained_s": drained}
