"""One module's dispatcher: the simulator's clock-free policy object, driven by a real clock.

Items arrive with their module index (request order, as in the simulator); the policy answers
with batches to start on idle workers; each batch is stacked once and submitted to its worker;
when the worker's future completes the policy hears `worker_done` and the outputs go back to
the router. A policy timer (`wake_at`, deadline-aware early close) is served by `Timers`.
Every policy call happens under one lock, so the policy sees the same sequential calls the
simulator makes; the batches it starts are submitted after the lock is released.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future
from typing import Callable, Sequence

import numpy as np

from skinflint.dispatch import DispatchPolicy, Launch
from skinflint.runtime.timers import Timers
from skinflint.runtime.workers import BatchWorker, Outputs

Deliver = Callable[[list[int], "Outputs | None", "BaseException | None", float, float, int], None]
"""deliver(items, outputs, error, start_ms, end_ms, worker): a batch of `items` ended on `worker`."""


class ModuleDispatcher:
    """Dispatch one module's items to its workers with `policy` (one of skinflint.dispatch)."""

    def __init__(self, name: str, policy: DispatchPolicy, workers: Sequence[BatchWorker],
                 clock: Callable[[], float], timers: Timers, deliver: Deliver) -> None:
        self.name = name
        self.policy = policy
        self.workers = list(workers)
        self.clock = clock
        self.timers = timers
        self.deliver = deliver
        self._lock = threading.Lock()
        self._payload: dict[int, np.ndarray] = {}
        self._wake: float | None = None
        self.pending = 0            # items arrived and not yet delivered
        self.cost_s = 0.0           # time spent in dispatch code (policy, bookkeeping, stacking)
        self.submit_s = 0.0         # time spent handing batches to workers (the backend's cost)
        self.calls = 0

    def backlog(self) -> int:
        """Items waiting for a busy worker (the policy's DispatchPolicy.backlog)."""
        with self._lock:
            return self.policy.backlog()

    # -- what the router calls ------------------------------------------------------------------
    def arrive_run(self, start: int, payloads: Sequence[np.ndarray], deadline_ms: float) -> None:
        """Items start .. start + len(payloads) - 1 (one request's) arrived, due by `deadline_ms`."""
        if not payloads:
            return
        t0 = time.perf_counter()
        with self._lock:
            for k, p in enumerate(payloads):
                self._payload[start + k] = p
            self.pending += len(payloads)
            now = self.clock()
            out = self.policy.arrive_run(start, start + len(payloads), now, deadline_ms)
            jobs = self._take(out, now)
        self._submit(jobs, t0)

    def skip(self, start: int, stop: int) -> None:
        """Items start .. stop - 1 will never arrive (their request failed upstream)."""
        t0 = time.perf_counter()
        with self._lock:
            now = self.clock()
            out: list[Launch] = []
            for index in range(start, stop):
                out.extend(self.policy.skip(index, now))
            jobs = self._take(out, now)
        self._submit(jobs, t0)

    def drain(self) -> None:
        """No more items will come: start what is left."""
        with self._lock:
            now = self.clock()
            jobs = self._take(self.policy.end_of_stream(now), now)
        self._submit(jobs, time.perf_counter())

    # -- inside -----------------------------------------------------------------------------------
    def _take(self, launches: Sequence[Launch], now: float) -> list[tuple[int, list[int], np.ndarray, float]]:
        jobs = []
        for w, items in launches:
            batch = np.stack([self._payload.pop(i) for i in items])
            jobs.append((w, list(items), batch, now))
        self._arm(now)
        return jobs

    def _arm(self, now: float) -> None:
        at = self.policy.wake_at(now)
        if at is None or at == float("inf") or (self._wake is not None and self._wake <= at):
            return
        self._wake = at
        self.timers.schedule(at, self._tick)

    def _tick(self) -> None:
        t0 = time.perf_counter()
        with self._lock:
            self._wake = None
            now = self.clock()
            jobs = self._take(self.policy.tick(now), now)
        self._submit(jobs, t0)

    def _submit(self, jobs: list[tuple[int, list[int], np.ndarray, float]], t0: float) -> None:
        t1 = time.perf_counter()
        for w, items, batch, now in jobs:
            fut = self.workers[w].submit(batch)
            fut.add_done_callback(lambda f, w=w, items=items, now=now: self._done(w, items, f, now))
        t2 = time.perf_counter()
        self.cost_s += t1 - t0
        self.submit_s += t2 - t1
        self.calls += 1

    def _done(self, w: int, items: list[int], fut: Future, start_ms: float) -> None:
        t0 = time.perf_counter()
        error = fut.exception()
        outputs = None if error is not None else fut.result()
        with self._lock:
            now = self.clock()
            self.pending -= len(items)
            jobs = self._take(self.policy.worker_done(w, now), now)
        self._submit(jobs, t0)
        self.deliver(items, outputs, error, start_ms, now, w)
