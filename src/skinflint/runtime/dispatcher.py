"""One server's dispatcher (a module's, or a pool's): the simulator's clock-free policy object,
driven by a real clock.

Items arrive with their server index (request order, as in the simulator); the policy answers
with batches to start on idle workers; each batch is stacked once and submitted to its worker;
when the worker's future completes the policy hears `worker_done` and the outputs go back to
the router. A policy timer (`wake_at`: deadline-aware early close, slot starts) is served by
`Timers` and ticks the policy at the time it asked for. Every policy call happens under one
lock, so the policy sees the same sequential calls the simulator makes; the batches it starts
are submitted after the lock is released.

Every launched batch ends in `deliver`: a batch that cannot be stacked (items of different
shapes) or handed to its worker (the backend refused it) is delivered at once with the error,
so its requests fail with a reason instead of waiting forever.

**Pipelining.** A worker may take `pipeline_depth` batches at once (a Ray actor: 2, so the
next batch is already at the actor while one runs and the Ray hop overlaps compute). The
policy is then told the worker is free `pipeline_lead_ms` before its batch is expected to end
(the profiled time), not when the result is back; a batch so started waits behind the running
one for about that lead. With depth 1 (threads) the policy hears `worker_done` with the result.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future
from typing import Callable, Sequence

import numpy as np

from skinflint.dispatch import DispatchPolicy, Launch, Worker
from skinflint.runtime.timers import Timers
from skinflint.runtime.workers import BatchWorker, Outputs

Deliver = Callable[[list[int], "Outputs | None", "BaseException | None", float, float, int], None]
"""deliver(items, outputs, error, start_ms, end_ms, worker): a batch of `items` ended on `worker`."""

Job = tuple[int, list[int], "np.ndarray | BaseException", float]


class ModuleDispatcher:
    """Dispatch one server's items to its workers with `policy` (one of skinflint.dispatch).
    `profile`: the policy's view of each worker (for the pipelining lead), when pipelining."""

    def __init__(self, name: str, policy: DispatchPolicy, workers: Sequence[BatchWorker],
                 clock: Callable[[], float], timers: Timers, deliver: Deliver,
                 profile: Sequence[Worker] | None = None) -> None:
        self.name = name
        self.policy = policy
        self.workers = list(workers)
        self.clock = clock
        self.timers = timers
        self.deliver = deliver
        self._lock = threading.Lock()
        self._payload: dict[int, np.ndarray] = {}
        self._wake: float | None = None
        self._depth = [max(1, int(getattr(w, "pipeline_depth", 1))) for w in self.workers]
        self._lead = [float(getattr(w, "pipeline_lead_ms", 0.0)) for w in self.workers]
        self._profile = list(profile) if profile is not None else None
        self._running = [0] * len(self.workers)       # batches handed to each worker, not yet back
        self._told_free = [True] * len(self.workers)  # the policy believes the worker is idle
        self._epoch = [0] * len(self.workers)          # invalidates early-free timers of older batches
        self._last_end = [float("-inf")] * len(self.workers)   # when the worker's last batch came back
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
        """Items start .. start + len(payloads) - 1 (consecutive, one request's) arrived, due by `deadline_ms`."""
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

    def arrive(self, index: int, payload: np.ndarray, deadline_ms: float) -> None:
        """Item `index` arrived alone (a pool's items come one by one, in their pool order)."""
        t0 = time.perf_counter()
        with self._lock:
            self._payload[index] = payload
            self.pending += 1
            now = self.clock()
            jobs = self._take(self.policy.arrive(index, now, deadline_ms), now)
        self._submit(jobs, t0)

    def skip(self, start: int, stop: int) -> None:
        """Items start .. stop - 1 will never arrive (their request failed upstream)."""
        self.skip_many(range(start, stop))

    def skip_many(self, indices: Sequence[int]) -> None:
        """These items will never arrive."""
        t0 = time.perf_counter()
        with self._lock:
            now = self.clock()
            out: list[Launch] = []
            for index in indices:
                out.extend(self.policy.skip(index, now))
            jobs = self._take(out, now)
        self._submit(jobs, t0)

    def close_open_if(self, stalled: Callable[[int, Sequence[int]], bool]) -> None:
        """Close the open batch now if `stalled(waited_index, open_items)` says it waits on itself
        (a pool that feeds itself; policies with `waits_for`/`close_open`, the cyclic one)."""
        waits_for = getattr(self.policy, "waits_for", None)
        if waits_for is None:
            return
        t0 = time.perf_counter()
        with self._lock:
            x = waits_for()
            if x is None or not stalled(x, list(self.policy.open)):
                return
            now = self.clock()
            jobs = self._take(self.policy.close_open(now), now)
        self._submit(jobs, t0)

    def drain(self) -> None:
        """No more items will come: start what is left."""
        with self._lock:
            now = self.clock()
            jobs = self._take(self.policy.end_of_stream(now), now)
        self._submit(jobs, time.perf_counter())

    # -- inside -----------------------------------------------------------------------------------
    def _take(self, launches: Sequence[Launch], now: float) -> list[Job]:
        """The launches as jobs (lock held): payloads stacked, pipelined workers told free early."""
        jobs: list[Job] = []
        queue = list(launches)
        while queue:
            w, items = queue.pop(0)
            try:
                batch: np.ndarray | BaseException = np.stack([self._payload.pop(i) for i in items])
            except Exception as e:  # noqa: BLE001 - items that cannot form a batch fail their requests
                batch = e
            self._running[w] += 1
            self._told_free[w] = False
            self._epoch[w] += 1
            jobs.append((w, list(items), batch, now))
            if self._depth[w] > 1 and self._running[w] < self._depth[w]:
                queue += self._free_early(w, len(items), now)
        self._arm(now)
        return jobs

    def _free_early(self, w: int, size: int, now: float) -> list[Launch]:
        """Tell the policy that pipelined worker w is free `lead` before its batch should end."""
        expected = self._profile[w].times_ms[min(size, self._profile[w].batch_size) - 1] if self._profile else 0.0
        at = now + expected - self._lead[w]
        if at <= now:
            self._told_free[w] = True
            return list(self.policy.worker_done(w, now))
        epoch = self._epoch[w]
        self.timers.schedule(at, lambda t, w=w, epoch=epoch: self._early_tick(w, epoch))
        return []

    def _early_tick(self, w: int, epoch: int) -> None:
        t0 = time.perf_counter()
        with self._lock:
            if epoch != self._epoch[w] or self._told_free[w] or self._running[w] >= self._depth[w]:
                return
            now = self.clock()
            self._told_free[w] = True
            jobs = self._take(self.policy.worker_done(w, now), now)
        self._submit(jobs, t0)

    def _arm(self, now: float) -> None:
        at = self.policy.wake_at(now)
        if at is None or at == float("inf") or (self._wake is not None and self._wake <= at):
            return
        self._wake = at
        self.timers.schedule(at, self._tick)

    def _tick(self, at: float) -> None:
        t0 = time.perf_counter()
        with self._lock:
            self._wake = None
            now = self.clock()
            jobs = self._take(self.policy.tick(min(at, now)), now)
        self._submit(jobs, t0)

    def _submit(self, jobs: list[Job], t0: float) -> None:
        t1 = time.perf_counter()
        for w, items, batch, now in jobs:
            if isinstance(batch, BaseException):
                fut: Future = Future()
                fut.set_exception(batch)
            else:
                try:
                    fut = self.workers[w].submit(batch)
                except Exception as e:  # noqa: BLE001 - the backend refused it: its requests fail
                    fut = Future()
                    fut.set_exception(e)
            fut.add_done_callback(lambda f, w=w, items=items, now=now: self._done(w, items, f, now))
        t2 = time.perf_counter()
        self.cost_s += t1 - t0
        self.submit_s += t2 - t1
        self.calls += 1

    def _done(self, w: int, items: list[int], fut: Future, start_ms: float) -> None:
        t0 = time.perf_counter()
        error = fut.exception()
        outputs = None if error is not None else fut.result()
        try:
            with self._lock:
                now = self.clock()
                # a pipelined batch waited behind the one before it: its time runs from that one's end
                start_ms = max(start_ms, self._last_end[w]) if self._depth[w] > 1 else start_ms
                self._last_end[w] = now
                self.pending -= len(items)
                self._running[w] -= 1
                launches: Sequence[Launch] = ()
                if not self._told_free[w] and self._running[w] < self._depth[w]:
                    self._told_free[w] = True
                    launches = self.policy.worker_done(w, now)
                jobs = self._take(launches, now)
            self._submit(jobs, t0)
        finally:
            self.deliver(items, outputs, error, start_ms, self.clock(), w)
