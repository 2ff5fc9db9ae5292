"""`Runtime`: a plan served for real — one dispatcher per module, DAG routing, joins, hops.

A request is admitted (or refused at once, skinflint.runtime.admission), numbered, and its
tensor handed to the entry modules. A module's items for request i are its indices
C(i) .. C(i+1) - 1 with C(i) = ceil(i * rate_factor) (the simulator's numbering), made by the
module's adapter from the frame and its parents' outputs once every parent is done (a join).
The request is answered when every exit module is done, or failed with a reason when a batch
of it fails; its indices downstream are then skipped so no policy waits for them. Every
admitted request ends exactly once: `admitted == completed + failed + in_flight`.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from skinflint.dispatch import EarlyClose, make_policy
from skinflint.plan import Plan
from skinflint.runtime.adapters import get_adapter
from skinflint.runtime.admission import Admission, Decision
from skinflint.runtime.backends import Backend
from skinflint.runtime.dispatcher import ModuleDispatcher
from skinflint.runtime.metrics import NullMetrics
from skinflint.runtime.timers import Timers
from skinflint.fanout import as_fraction
from skinflint.topology import compile_model
from skinflint.spec.types import Spec


class Refused(Exception):
    """Admission control refused the request (answer 503 with Retry-After)."""

    def __init__(self, decision: Decision) -> None:
        super().__init__(decision.reason)
        self.decision = decision


class RequestFailed(Exception):
    """An admitted request could not be completed (a batch of it failed); the reason says why."""


@dataclass
class Result:
    """A completed request: exit modules' outputs per item, its latency and its path's times."""

    request: int
    latency_ms: float
    on_time: bool
    outputs: dict[str, list[dict[str, np.ndarray]]]
    modules: dict[str, tuple[float, float]]   # module -> (items ready, last batch done), ms after arrival
    hops: int


@dataclass(eq=False)
class _Request:
    seq: int
    arrival_ms: float
    frame: np.ndarray
    future: Future
    left: list[int]                       # items not yet done per module
    joins: list[int]                      # parents not yet done per module
    released: list[bool]
    outputs: list[list[Any]]
    ready_ms: list[float]
    done_ms: list[float]
    exits_left: int
    failed: bool = False
    hops: list[int] = field(default_factory=list)


class Runtime:
    """Serve `plan` for `spec` on `backend` (workers) with each module's plan policy."""

    def __init__(self, plan: Plan, spec: Spec, backend: Backend, *, early_close: EarlyClose | None = EarlyClose(),
                 max_in_flight: int | None = None, metrics: Any = None, clock: Callable[[], float] | None = None,
                 batch_log: Any = None, admission_slack: float = 1.0) -> None:
        """`batch_log`: a runtime.batchlog.BatchLog to record every completed batch's latency (calibration);
        `admission_slack`: admit while the estimate is within this fraction of the SLO;
        `max_in_flight`: the bounded queue (default: admission.default_max_in_flight, as the simulator)."""
        self.plan, self.spec, self.backend = plan, spec, backend
        self.batch_log = batch_log
        self.sm = compile_model(plan, spec)
        start = time.perf_counter()
        self.clock = clock or (lambda: 1000.0 * (time.perf_counter() - start))
        self.metrics = metrics or NullMetrics()
        self.admission = Admission.for_model(self.sm, plan.offered_rate, max_in_flight, admission_slack)
        self.timers = Timers(self.clock)
        self._lock = threading.Lock()
        self._owner: list[dict[int, tuple[_Request, int]]] = [{} for _ in self.sm.modules]
        self._fractions = [as_fraction(m.rate_factor) for m in self.sm.modules]
        self._adapters = [get_adapter(m.adapter) for m in spec.app.modules]
        self._seq = 0
        self.in_flight = 0
        self.counts = {"admitted": 0, "refused": 0, "completed": 0, "on_time": 0, "late": 0, "failed": 0}
        self.workers, self.dispatchers, self.shapes = [], [], []
        shared: dict[int, Any] = {}
        needs: dict[str, int] = {}
        for m in self.sm.modules:
            for w in m.workers:
                if w.shared < 0:
                    needs[w.hardware] = needs.get(w.hardware, 0) + 1
        for hw in self.sm.shared_hardware:
            needs[hw] = needs.get(hw, 0) + 1
        backend.start(needs)
        shared_models: dict[int, dict[str, tuple[float, ...]]] = {}
        for m, am in zip(self.sm.modules, spec.app.modules):
            for w in m.workers:
                if w.shared >= 0:
                    known = shared_models.setdefault(w.shared, {}).get(am.model, ())
                    shared_models[w.shared][am.model] = max(known, w.worker.times_ms, key=len)
        for s_idx, models in shared_models.items():
            shared[s_idx] = backend.worker(models, self.sm.shared_hardware[s_idx], f"shared{s_idx}")
        for k, (m, am) in enumerate(zip(self.sm.modules, spec.app.modules)):
            ws = []
            for j, w in enumerate(m.workers):
                if w.shared >= 0:
                    ws.append(shared[w.shared].view(am.model))
                else:
                    ws.append(backend.worker({am.model: w.worker.times_ms}, w.hardware, f"{m.name}/{j}"))
            self.workers.append(ws)
            self.shapes.append(tuple(backend.input_shape(am.model)))
            policy = make_policy(m.dispatch, [w.worker for w in m.workers], early_close=early_close,
                                 group_rates=m.group_rates)
            self.dispatchers.append(ModuleDispatcher(m.name, policy, ws, self.clock, self.timers,
                                                     lambda *a, k=k: self._deliver(k, *a)))
        self.entry_shape = self.shapes[next(k for k, m in enumerate(self.sm.modules) if not m.parents)]
        self.metrics.bind(self)

    # -- public -----------------------------------------------------------------------------------
    def pending(self) -> list[int]:
        """Items waiting or running per module."""
        return [d.pending for d in self.dispatchers]

    def backlog(self) -> list[int]:
        """Items waiting for a busy worker per module (what admission reads)."""
        return [d.backlog() for d in self.dispatchers]

    def submit(self, frame: np.ndarray, arrival_ms: float | None = None) -> Future:
        """Admit `frame` (or raise Refused at once); the future holds a Result or a RequestFailed.
        `arrival_ms` (this runtime's clock; default now): when the request reached the server —
        admission counts the time it already waited, and its deadlines run from then."""
        frame = self.check_frame(frame)
        fut: Future = Future()
        with self._lock:
            now = self.clock()
            arrival = now if arrival_ms is None else min(float(arrival_ms), now)
            decision = self.admission.decide(self.backlog(), self.in_flight, waited_ms=now - arrival)
            if not decision.admit:
                self.counts["refused"] += 1
                self.metrics.refused()
                raise Refused(decision)
            n = len(self.sm.modules)
            req = _Request(self._seq, arrival, frame, fut, [0] * n, [len(m.parents) for m in self.sm.modules],
                           [False] * n, [None] * n, [float("nan")] * n, [float("nan")] * n,
                           sum(m.is_exit for m in self.sm.modules), hops=[0] * n)
            self._seq += 1
            self.in_flight += 1
            self.counts["admitted"] += 1
            self.metrics.admitted()
            actions = [self._release(req, k, now) for k, m in enumerate(self.sm.modules) if not m.parents]
        for act in actions:
            act()
        return fut

    def check_frame(self, frame: Any) -> np.ndarray:
        """The request tensor as float32 of exactly the entry model's input shape, finite;
        ValueError says why not. The shape and dtype are checked before anything is copied."""
        arr = np.asarray(frame)
        if arr.dtype.kind not in "biuf":
            raise ValueError(f"the tensor must be numeric (got dtype {arr.dtype})")
        if arr.shape != tuple(self.entry_shape):
            raise ValueError(f"the tensor must have the entry model's shape {list(self.entry_shape)} "
                             f"(got shape {list(arr.shape)})")
        arr = arr.astype(np.float32, copy=False)
        if not np.all(np.isfinite(arr)):
            raise ValueError("the tensor has NaN or infinite values")
        return arr

    def kill_worker(self, module: str, index: int = 0) -> None:
        """Kill one worker of `module` mid-run (failure tests): it restarts and retries its batch."""
        self.workers[self.sm.index(module)][index].kill()

    def close(self) -> None:
        """Stop timers and workers; requests still in flight fail with a reason."""
        self.timers.close()
        seen = set()
        for ws in self.workers:
            for w in ws:
                host = getattr(w, "host", w)   # a shared worker's views share one host
                if id(host) not in seen:
                    seen.add(id(host))
                    host.close()
        self.backend.close()
        with self._lock:
            reqs = {id(r): r for owner in self._owner for r, _ in owner.values()}
        for r in reqs.values():
            self._fail(r, "the runtime stopped")

    # -- routing ----------------------------------------------------------------------------------
    def _items(self, k: int, seq: int) -> tuple[int, int]:
        p, q = self._fractions[k]
        return -((-seq * p) // q), -((-(seq + 1) * p) // q)

    def _release(self, req: _Request, k: int, now: float) -> Callable[[], None]:
        """Hand request `req`'s items to module k (router lock held); returns the call to make after."""
        start, stop = self._items(k, req.seq)
        req.released[k] = True
        m = self.sm.modules[k]
        if req.failed:
            return lambda: self.dispatchers[k].skip(start, stop)
        req.left[k] = stop - start
        req.ready_ms[k] = now
        req.hops[k] = 1 + max((req.hops[p] for p in m.parents), default=0)
        if stop == start:
            return lambda: self._module_done(req, k)
        parents = {self.sm.modules[p].name: req.outputs[p] for p in m.parents}
        req.outputs[k] = [None] * (stop - start)
        for j in range(start, stop):
            self._owner[k][j] = (req, j - start)
        deadline = req.arrival_ms + m.deadline_ms

        def go() -> None:
            try:
                items = self._adapters[k](req.frame, parents, stop - start, self.shapes[k])
            except Exception as e:  # noqa: BLE001 - a bad frame fails its request, with the reason
                with self._lock:
                    for j in range(start, stop):
                        self._owner[k].pop(j, None)
                self.dispatchers[k].skip(start, stop)
                self._fail(req, f"module {m.name}: adapter failed: {e}")
                return
            self.dispatchers[k].arrive_run(start, items, deadline)
        return go

    def _deliver(self, k: int, items: list[int], outputs: Any, error: BaseException | None,
                 start_ms: float, end_ms: float, worker: int) -> None:
        self.metrics.batch(self.sm.modules[k].name, len(items), start_ms, end_ms)
        if self.batch_log is not None and error is None:
            self.batch_log.record(self.spec.app.modules[k].model, self.sm.modules[k].workers[worker].hardware,
                                  len(items), end_ms - start_ms)
        finished = []
        with self._lock:
            if error is None:
                self.admission.observe(k, end_ms - start_ms,
                                       self.sm.modules[k].workers[worker].worker.times_ms[len(items) - 1])
            for j, index in enumerate(items):
                req, pos = self._owner[k].pop(index)
                if error is None and not req.failed:
                    req.outputs[k][pos] = {name: v[j] for name, v in outputs.items()}
                req.left[k] -= 1
                if req.left[k] == 0 and req not in finished:
                    finished.append(req)
        for req in finished:
            if error is not None:
                self._fail(req, f"module {self.sm.modules[k].name}: {type(error).__name__}: {error}")
            self._module_done(req, k)

    def _module_done(self, req: _Request, k: int) -> None:
        m = self.sm.modules[k]
        actions = []
        with self._lock:
            now = self.clock()
            req.done_ms[k] = now
            self.metrics.module(m.name, now - req.ready_ms[k])
            for c in m.children:
                req.joins[c] -= 1
                if req.joins[c] == 0 and not req.released[c]:
                    actions.append(self._release(req, c, now))
            if m.is_exit:
                req.exits_left -= 1
            complete = req.exits_left == 0 and not req.failed
        for act in actions:
            act()
        if complete:
            self._complete(req)

    def _complete(self, req: _Request) -> None:
        with self._lock:
            now = self.clock()
            latency = now - req.arrival_ms
            on_time = latency <= self.sm.slo_ms
            self.in_flight -= 1
            self.counts["completed"] += 1
            self.counts["on_time" if on_time else "late"] += 1
        self.metrics.finished(latency, on_time)
        names = [m.name for m in self.sm.modules]
        outputs = {names[k]: req.outputs[k] for k, m in enumerate(self.sm.modules) if m.is_exit}
        times = {names[k]: (req.ready_ms[k] - req.arrival_ms, req.done_ms[k] - req.arrival_ms)
                 for k in range(len(names))}
        if not req.future.cancelled():
            req.future.set_result(Result(req.seq, latency, on_time, outputs, times, max(req.hops)))

    def _fail(self, req: _Request, reason: str) -> None:
        """End `req` with a reason (once); its modules not yet released skip its items."""
        actions = []
        with self._lock:
            if req.failed:
                return
            req.failed = True
            self.in_flight -= 1
            self.counts["failed"] += 1
            now = self.clock()
            for k in range(len(self.sm.modules)):
                if not req.released[k] and self.sm.modules[k].parents:
                    actions.append(self._release(req, k, now))
        self.metrics.failed()
        for act in actions:
            act()
        if not req.future.done():  # (a caller may have cancelled its wait)
            req.future.set_exception(RequestFailed(reason))
