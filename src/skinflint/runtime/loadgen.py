"""Open-loop load: requests sent at the times of one of the simulator's arrival processes,
never waiting for earlier answers; every request ends as ok (on time or late), refused (503),
rejected (other 4xx), failed (5xx) or error (no answer: connection, timeout).

`run_load(send, times_ms, slo_ms)` drives any async `send() -> (status, latency_ms)`;
`http_sender(url, ...)` is the HTTP one used by `skinflint load`.
"""

from __future__ import annotations

import asyncio
import io
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

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
    start = time.perf_counter()
    lag = 0.0
    tasks = []
    for t in times_ms:
        delay = t / 1000.0 - (time.perf_counter() - start)
        if delay > 0:
            await asyncio.sleep(delay)
        lag = max(lag, 1000.0 * (time.perf_counter() - start) - t)
        tasks.append(asyncio.create_task(send()))
    answers = await asyncio.gather(*tasks)
    outcomes: dict[str, int] = {}
    latencies = []
    for status, latency in answers:
        kind = classify(status)
        outcomes[kind] = outcomes.get(kind, 0) + 1
        if kind == "ok":
            latencies.append(latency)
    return LoadReport(len(times_ms), slo_ms, duration_s, outcomes, np.asarray(latencies, dtype=float), lag)


def npy_bytes(tensor: np.ndarray) -> bytes:
    """The tensor as .npy bytes (no pickle)."""
    buf = io.BytesIO()
    np.save(buf, tensor, allow_pickle=False)
    return buf.getvalue()


def http_sender(client: Any, url: str, app: str, body: bytes, token: str | None, timeout_s: float) -> Send:
    """An async send() posting `body` (npy) to URL/v1/apps/APP/infer with httpx's `client`."""
    headers = {"content-type": "application/x-npy"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    target = f"{url.rstrip('/')}/v1/apps/{app}/infer"

    async def send() -> tuple[int, float]:
        t0 = time.perf_counter()
        try:
            r = await client.post(target, content=body, headers=headers, timeout=timeout_s)
            return r.status_code, 1000.0 * (time.perf_counter() - t0)
        except Exception:  # noqa: BLE001 - no answer at all is its own outcome
            return 0, 1000.0 * (time.perf_counter() - t0)
    return send
