"""Open-loop load: requests sent at the times of one of the simulator's arrival processes,
never waiting for earlier answers; every request ends as ok (on time or late), refused (503),
rejected (other 4xx), failed (5xx) or error (no answer: connection, timeout).

`run_load(send, times_ms, slo_ms)` drives any async `send() -> (status, runtime_ms)` and times
each answer from the request's scheduled send time (so a late sender cannot hide queueing);
`runtime_ms` is the time the server says its runtime took (NaN if it does not say), so the time
the HTTP edge added is `latency - runtime`. `HttpClient` is a lean keep-alive HTTP/1.1 client
(prebuilt request bytes, httptools' response parser) so the generator is not the bottleneck.
"""

from __future__ import annotations

import asyncio
import io
import json
import math
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

import httptools
import numpy as np

from skinflint.stats import percentiles

Send = Callable[[], Awaitable[tuple[int, float]]]


@dataclass
class LoadReport:
    """What an open-loop run measured (latencies of answered requests only)."""

    sent: int
    slo_ms: float
    duration_s: float
    outcomes: dict[str, int] = field(default_factory=dict)
    latency_ms: np.ndarray = field(default_factory=lambda: np.zeros(0))
    lag_ms: float = 0.0          # worst lateness of a send against its scheduled time
    edge_ms: np.ndarray = field(default_factory=lambda: np.zeros(0))       # latency - runtime, ok answers
    refused_ms: np.ndarray = field(default_factory=lambda: np.zeros(0))    # time to each 503

    @property
    def on_time(self) -> int:
        """Answered 200 within the SLO."""
        return int(np.count_nonzero(self.latency_ms <= self.slo_ms))

    def as_dict(self) -> dict[str, Any]:
        """Counts, SLO attainment (of all sent, and of admitted) and latency percentiles."""
        ok = int(self.latency_ms.size)
        return {"sent": self.sent, "offered_rate": self.sent / self.duration_s if self.duration_s else 0.0,
                "outcomes": self.outcomes, "on_time": self.on_time,
                "slo_attainment": self.on_time / self.sent if self.sent else float("nan"),
                "admitted_on_time": self.on_time / ok if ok else float("nan"),
                "latency_ms": percentiles(self.latency_ms), "max_send_lag_ms": self.lag_ms,
                "edge_ms": percentiles(self.edge_ms), "refused_ms": percentiles(self.refused_ms),
                "lost": self.sent - sum(self.outcomes.values())}


def classify(status: int) -> str:
    """The outcome of an HTTP status (0: no answer)."""
    if status == 200:
        return "ok"
    if status == 503:
        return "refused"
    if 400 <= status < 500:
        return "rejected"
    return "failed" if status >= 500 else "error"


async def run_load(send: Send, times_ms: np.ndarray, slo_ms: float, duration_s: float) -> LoadReport:
    """Send one request at each of `times_ms` (from now) and wait for all answers."""
    loop = asyncio.get_running_loop()
    start = time.perf_counter()
    lag = 0.0
    tasks = []

    async def timed(due_s: float) -> tuple[int, float, float]:
        status, runtime_ms = await send()
        return status, 1000.0 * (time.perf_counter() - due_s), runtime_ms
    for t in times_ms:
        due = start + t / 1000.0
        delay = due - time.perf_counter()
        if delay > 0.0005:
            await asyncio.sleep(delay)
        lag = max(lag, 1000.0 * (time.perf_counter() - due))
        tasks.append(loop.create_task(timed(due)))
    answers = await asyncio.gather(*tasks)
    outcomes: dict[str, int] = {}
    latencies, edge, refused = [], [], []
    for status, latency, runtime_ms in answers:
        kind = classify(status)
        outcomes[kind] = outcomes.get(kind, 0) + 1
        if kind == "ok":
            latencies.append(latency)
            if not math.isnan(runtime_ms):
                edge.append(latency - runtime_ms)
        elif kind == "refused":
            refused.append(latency)
    return LoadReport(len(times_ms), slo_ms, duration_s, outcomes, np.asarray(latencies, dtype=float), lag,
                      np.asarray(edge, dtype=float), np.asarray(refused, dtype=float))


def npy_bytes(tensor: np.ndarray) -> bytes:
    """The tensor as .npy bytes (no pickle)."""
    buf = io.BytesIO()
    np.save(buf, tensor, allow_pickle=False)
    return buf.getvalue()


def runtime_ms(headers: dict[bytes, bytes], body: bytes) -> float:
    """The runtime's time from `Server-Timing: runtime;dur=MS`, else a JSON body's latency_ms; NaN."""
    timing = headers.get(b"server-timing")
    if timing is not None:
        for part in timing.split(b","):
            name, _, rest = part.strip().partition(b";")
            if name == b"runtime" and rest.startswith(b"dur="):
                return float(rest[4:])
    try:
        return float(json.loads(body)["latency_ms"])
    except (ValueError, KeyError, TypeError):
        return float("nan")


class _Conn(asyncio.Protocol):
    """One client connection, one request at a time."""

    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.transport: Any = None
        self.waiter: asyncio.Future | None = None
        self.headers: dict[bytes, bytes] = {}
        self.body = bytearray()
        self.closed = False

    def connection_made(self, transport: Any) -> None:  # noqa: D102
        self.transport = transport

    def data_received(self, data: bytes) -> None:  # noqa: D102
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as e:
            self._end(ConnectionError(f"bad response: {e}"))
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:  # noqa: D102
        self.closed = True
        self._end(ConnectionError("connection closed"))

    def on_header(self, name: bytes, value: bytes) -> None:  # noqa: D102
        self.headers[name.lower()] = value

    def on_body(self, body: bytes) -> None:  # noqa: D102
        self.body += body

    def on_message_complete(self) -> None:  # noqa: D102
        out = (self.parser.get_status_code(), self.headers, bytes(self.body))
        self.headers, self.body = {}, bytearray()
        if not self.parser.should_keep_alive():
            self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(out)

    def _end(self, exc: Exception) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc)


class HttpClient:
    """Keep-alive HTTP/1.1 connections to one server, at most `max_connections` open; a request
    waits for a free one beyond that."""

    def __init__(self, host: str, port: int, max_connections: int = 2048) -> None:
        self.host, self.port = host, port
        self._idle: list[_Conn] = []
        self._slots = asyncio.Semaphore(max_connections)

    def request_bytes(self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None) -> bytes:
        """A request, ready to write."""
        lines = [f"{method} {path} HTTP/1.1", f"host: {self.host}:{self.port}", f"content-length: {len(body)}"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body

    async def send(self, raw: bytes, timeout_s: float) -> tuple[int, dict[bytes, bytes], bytes]:
        """Write `raw` on a free connection; (status, headers with lower-case names, body)."""
        async with self._slots:
            for attempt in (0, 1):      # a reused connection the server just closed: once more on a new one
                conn, reused = (self._idle.pop(), True) if self._idle else (await self._open(), False)
                conn.waiter = asyncio.get_running_loop().create_future()
                conn.transport.write(raw)
                try:
                    out = await asyncio.wait_for(conn.waiter, timeout_s)
                except ConnectionError:
                    if reused and attempt == 0:
                        continue
                    raise
                except BaseException:
                    conn.transport.close()
                    raise
                if not conn.closed:
                    self._idle.append(conn)
                return out
        raise ConnectionError("unreachable")

    async def _open(self) -> _Conn:
        _, conn = await asyncio.get_running_loop().create_connection(_Conn, self.host, self.port)
        return conn

    def close(self) -> None:
        """Close the idle connections."""
        for conn in self._idle:
            conn.transport.close()
        self._idle.clear()


def http_sender(client: HttpClient, raw: bytes, timeout_s: float) -> Send:
    """An async send() writing the prepared request `raw`: (status, runtime ms) — status 0 when
    there was no answer."""
    async def send() -> tuple[int, float]:
        try:
            status, headers, body = await client.send(raw, timeout_s)
        except Exception:  # noqa: BLE001 - no answer at all is its own outcome
            return 0, float("nan")
        return status, runtime_ms(headers, body) if status == 200 else float("nan")
    return send


def infer_request(client: HttpClient, protocol: str, app: str, frame: np.ndarray, token: str | None,
                  frames: int = 1) -> bytes:
    """One inference request for `frame`: `v1` (.npy to /v1/apps/APP/infer) or `v2` (KServe v2,
    binary tensor extension, binary outputs) with `frames` copies of it."""
    auth = {"authorization": f"Bearer {token}"} if token else {}
    if protocol == "v1":
        return client.request_bytes("POST", f"/v1/apps/{app}/infer", npy_bytes(frame),
                                    {"content-type": "application/x-npy", **auth})
    frame = np.broadcast_to(frame, (frames, *frame.shape))
    head = json.dumps({"inputs": [{"name": "frame", "datatype": "FP32", "shape": list(frame.shape),
                                   "parameters": {"binary_data_size": frame.nbytes}}],
                       "parameters": {"binary_data_output": True}}).encode()
    return client.request_bytes("POST", f"/v2/models/{app}/infer", head + frame.astype("<f4").tobytes(),
                                {"content-type": "application/octet-stream",
                                 "inference-header-content-length": str(len(head)), **auth})
