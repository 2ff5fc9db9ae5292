"""One scenario through both executors: the same plan and the same arrival times through the
simulator and through the real runtime (`Runtime`: router, joins, admission, dispatchers and the
same policy objects), whose workers here run in virtual time — a fake backend completes each
batch exactly its profiled time after it was submitted, on a clock the test advances — so each
request's completion must agree exactly.

What the virtual time leaves out, and why: real batch times (the sleep and ONNX runners' threads
add jitter: tests/integration/test_runtime_backends.py runs those), deadline-aware early close
(its timers wait on a real-time thread) and shared workers (a real shared worker runs what it is
handed in order, the simulator books its slots); the app has no hop, which the runtime does not
delay (it is the network's)."""

from __future__ import annotations

import heapq
import itertools
import warnings
from concurrent.futures import Future
from pathlib import Path

import numpy as np
import pytest

import skinflint
from skinflint.fanout import first_items
from skinflint.planners import PlanOptions
from skinflint.runtime import Runtime
from skinflint.sim import make_arrivals, simulate
from skinflint.spec.profiles import build_profiles
from skinflint.spec.types import App, Hardware, Module, Spec

ITEM_SHAPE = (4,)


class VirtualTime:
    """The test's clock (ms) and the batches the fake workers hold, by completion time."""

    def __init__(self) -> None:
        self.now = 0.0
        self.running: list[tuple[float, int, Future, np.ndarray]] = []
        self._seq = itertools.count()

    def clock(self) -> float:
        return self.now

    def submit(self, batch: np.ndarray, times_ms: tuple[float, ...]) -> Future:
        fut: Future = Future()
        heapq.heappush(self.running, (self.now + times_ms[len(batch) - 1], next(self._seq), fut, batch))
        return fut

    def complete_next(self) -> None:
        """Advance to the earliest batch's end and complete it (the runtime reacts in this call)."""
        self.now, _, fut, batch = heapq.heappop(self.running)
        fut.set_result({"output": batch})


class VirtualWorker:
    """A worker that takes exactly its profiled time per batch, in virtual time."""

    def __init__(self, vt: VirtualTime, times_ms: tuple[float, ...]) -> None:
        self.vt, self.times_ms = vt, times_ms

    def submit(self, batch: np.ndarray) -> Future:
        return self.vt.submit(batch, self.times_ms)

    def kill(self) -> None:  # pragma: no cover - not used here
        raise NotImplementedError

    def close(self) -> None:
        pass


class VirtualBackend:
    """The `Backend` protocol over virtual workers (no shared workers)."""

    name = "virtual"

    def __init__(self, vt: VirtualTime) -> None:
        self.vt = vt

    def start(self, needs: dict[str, int]) -> None:
        pass

    def worker(self, models: dict[str, tuple[float, ...]], hardware: str, label: str) -> VirtualWorker:
        (times,) = models.values()
        return VirtualWorker(self.vt, times)

    def input_shape(self, model: str) -> tuple[int, ...]:
        return ITEM_SHAPE

    def close(self) -> None:
        pass


@pytest.fixture(scope="module")
def diamond() -> tuple[skinflint.Plan, Spec]:
    """detect -> {classify (x2.5: 2 or 3 crops a request), color} -> report (a join), 600 req/s."""
    rows = [(Path("p.csv"), f"{m}/{b}", (m, "h", b, base * (1 + 0.5 * (b - 1))))
            for m, base in (("det", 4.0), ("cls", 2.0), ("col", 1.5), ("rep", 1.0)) for b in (1, 2, 4, 8)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        profiles = build_profiles(rows)
    app = App("diamond", 600.0, 120.0, (Module("detect", "det"), Module("classify", "cls", ("detect",), 2.5),
                                         Module("color", "col", ("detect",)),
                                         Module("report", "rep", ("classify", "color"))))
    spec = Spec(app, {"h": Hardware("h", 1.0)}, profiles)
    return skinflint.plan_spec(spec, options=PlanOptions(sharing=False)), spec


def end_streams(rt: Runtime, n_requests: int) -> None:
    """Drain each dispatcher right after its last item arrives, as the simulator ends a module's
    stream (a live runtime never knows its last request; LiveRuntime drains an old plan so)."""
    for k, d in enumerate(rt.dispatchers):
        total = int(first_items(n_requests, rt.spec.app.modules[k].rate_factor)[-1])   # items of n requests
        arrive_run, received = d.arrive_run, [0]

        def counted(start, payloads, deadline_ms, arrive_run=arrive_run, d=d, total=total, received=received):
            arrive_run(start, payloads, deadline_ms)
            received[0] += len(payloads)
            if received[0] == total:
                d.drain()
        d.arrive_run = counted


def run_runtime(plan: skinflint.Plan, spec: Spec, times_ms: np.ndarray) -> list:
    """Submit one request at each time (virtual), completing batches in time order between; the
    results in request order."""
    vt = VirtualTime()
    rt = Runtime(plan, spec, VirtualBackend(vt), early_close=None, max_in_flight=10**6, clock=vt.clock)
    end_streams(rt, times_ms.size)
    frame = np.zeros(ITEM_SHAPE, dtype=np.float32)
    futures = []
    try:
        for t in times_ms:
            while vt.running and vt.running[0][0] <= t:   # completions first at equal times, as simulated
                vt.complete_next()
            vt.now = float(t)
            futures.append(rt.submit(frame))
        while vt.running:
            vt.complete_next()
        assert all(f.done() for f in futures)
        return [f.result() for f in futures]
    finally:
        rt.close()


@pytest.mark.parametrize("kind", ["uniform", "poisson"])
def test_simulator_and_runtime_complete_every_request_at_the_same_time(diamond, kind):
    plan, spec = diamond
    assert not plan.shared_workers and sum(m.workers for m in plan.modules) > 4
    times = make_arrivals(kind, rate=plan.rate).times_ms(3.0, np.random.default_rng(5))
    sim = simulate(plan, spec, times, 3.0, np.random.default_rng(0), engine="event")
    results = run_runtime(plan, spec, times)
    assert [r.request for r in results] == list(range(times.size)) and sim.completed == times.size
    np.testing.assert_array_equal([r.latency_ms for r in results], sim.trace.latency_ms)
    # and per module (every request has items at each): when they were handed to it, when the last was done
    for mt in sim.trace.modules:
        assert np.all(np.bincount(mt.item_request, minlength=times.size) > 0)
        ready, done = np.full(times.size, np.nan), np.full(times.size, -np.inf)
        ready[mt.item_request] = mt.ready_ms
        np.maximum.at(done, mt.item_request, mt.done_ms)
        np.testing.assert_array_equal([r.modules[mt.name][0] for r in results], ready - times)
        np.testing.assert_array_equal([r.modules[mt.name][1] for r in results], done - times)
