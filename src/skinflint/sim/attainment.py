"""What a plan attains under a traffic: the oracle of the traffic-aware planner and of the checks.

    oracle = Oracle(spec, traffic, seeds=(1, 2, 3, 4), requests=50_000)
    measured = oracle.measure(plan)        # measured.attained, measured.per_seed, ...

The oracle draws every seed's randomness once (sim.draws) and runs each plan it is asked about on
those same draws (common random numbers), exactly as the runtime serves it: batch-aware modules
with deadline-aware early close, admission applied. The fast path (sim.closing) runs a plan
without admission and keeps the run when admission would have refused nobody
(sim.admit_check); otherwise, and for round-robin plans, shared workers under jitter or pools,
the event engine runs it with the rule applied request by request. Central-queue plans
(InferLine's) have a fast path of their own (sim.central), with admission applied the same way.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from skinflint.admission import Admission
from skinflint.dispatch import EarlyClose
from skinflint.dispatch.base import RUNTIME_CLOSE_MARGIN_MS
from skinflint.plan import Plan
from skinflint.sim.admit_check import run_with_admission
from skinflint.sim.central import run_central, supports_central
from skinflint.sim.closing import run_closing, supports_closing
from skinflint.sim.draws import Draws, draw
from skinflint.sim.jitter_model import worker_jitter
from skinflint.sim.traffic_run import arrival_times, run_event_engine
from skinflint.sim.result import SimResult
from skinflint.sim.trace import COMPLETED, REFUSED, Trace
from skinflint.spec.types import Spec
from skinflint.topology import SimModel, compile_model
from skinflint.traffic import Traffic

RUNTIME_EARLY_CLOSE = EarlyClose(RUNTIME_CLOSE_MARGIN_MS)
"""What the embedded runtime applies to every module (runtime.core); the Ray backend closes with a
larger margin of its own (its hop per batch)."""


@dataclass(frozen=True)
class Measured:
    """A plan's attainment pooled over the oracle's seeds, per seed, and how it was run."""

    attained: float
    per_seed: tuple[float, ...]
    requests: int
    refused: int
    engine: str
    complete: bool = True     # every seed ran (False: stopped at a seed below the floor)

    def reaches(self, target: float) -> bool:
        """Attained at least `target` (pooled over every seed's requests)."""
        return self.attained >= target - 1e-12

    def pooled_with(self, other: "Measured") -> "Measured":
        """This measure and `other` (on other seeds) as one."""
        requests = self.requests + other.requests
        attained = (self.attained * self.requests + other.attained * other.requests) / requests
        engine = "+".join(sorted(set(self.engine.split("+")) | set(other.engine.split("+"))))
        return Measured(attained, self.per_seed + other.per_seed, requests, self.refused + other.refused, engine,
                        self.complete and other.complete)


def on_time_mask(trace: Trace, slo_ms: float) -> np.ndarray:
    """Requests completed within the SLO (refused and unfinished ones are misses)."""
    latency = trace.done_ms - trace.arrival_ms
    ok = trace.fate == COMPLETED
    return ok & (latency <= slo_ms + 1e-9 * max(1.0, slo_ms))


@dataclass(frozen=True)
class Served:
    """A plan as the runtime serves it: compiled, its workers' jitter under the traffic, the
    admission rule, and whether the fast path runs it."""

    plan: Plan
    model: SimModel
    jitter: list[tuple[np.ndarray, np.ndarray]] | None
    admission: Admission
    fast: bool

    @classmethod
    def of(cls, plan: Plan, spec: Spec, traffic: Traffic, rate: float | None = None) -> "Served":
        sm = compile_model(plan, spec)
        jitter = worker_jitter(sm, spec, traffic)
        return cls(plan, sm, jitter, Admission.for_model(sm, plan.offered_rate if rate is None else rate),
                   supports_closing(sm, jitter is not None) or supports_central(sm))

    def run(self, draws: Draws, miss_budget: int | None = None) -> tuple[Trace | None, int, str]:
        """(trace, refused, engine) of one seed's draws; the trace is None when more than
        `miss_budget` requests were certainly refused (the run stopped there)."""
        got = None
        if self.fast:
            runner = run_central if supports_central(self.model) else run_closing
            got = run_with_admission(lambda d: runner(self.model, d, self.jitter, RUNTIME_EARLY_CLOSE),
                                     self.admission, draws, miss_budget)
        if got is None:
            trace = run_event_engine(self.plan, self.model, draws, self.jitter, self.admission, RUNTIME_EARLY_CLOSE)
            return trace, int(np.count_nonzero(trace.fate == REFUSED)), "event"
        return got[0], got[2], "closing"


class Oracle:
    """Attainment of plans for one spec under one traffic, on pre-drawn seeds."""

    def __init__(self, spec: Spec, traffic: Traffic, seeds: Sequence[int], requests: int) -> None:
        self.spec, self.traffic = spec, traffic
        self.seeds = tuple(int(s) for s in seeds)
        self.draws = [traffic_draws(spec, traffic, spec.app.rate, requests, np.random.default_rng(s))
                      for s in self.seeds]

    @property
    def requests(self) -> int:
        """Requests simulated per plan, all seeds together."""
        return sum(d.requests for d in self.draws)

    def seed_floor(self) -> float:
        """No seed may attain less: target - (1 - target) / 2, MODEL.md's check with fresh seeds."""
        return self.traffic.target - (1.0 - self.traffic.target) / 2

    def measure(self, plan: Plan, stop_early: bool = False) -> Measured:
        """The plan's attainment, seed after seed; with `stop_early`, none after the first seed
        below seed_floor or once the misses so far keep the pooled attainment below the target
        (the plan cannot be accepted either way; Measured.complete is then False)."""
        served = Served.of(plan, self.spec, self.traffic)
        on_time, runs, refused, engines = [], [], 0, set()
        floor = self.seed_floor()
        pooled_misses = (1.0 - self.traffic.target) * self.requests + 1e-6   # more and the pool misses the target
        for d in self.draws:
            budget = math.floor((1.0 - floor) * d.requests)   # more misses and the seed is below the floor
            trace, seed_refused, engine = served.run(d, budget)
            ok_count = d.requests - seed_refused if trace is None else int(on_time_mask(trace, plan.slo_ms).sum())
            on_time.append(ok_count)
            runs.append(d.requests)
            refused += seed_refused
            engines.add(engine)
            if stop_early and (ok_count < floor * d.requests or sum(runs) - sum(on_time) > pooled_misses):
                break
        total = sum(runs)
        return Measured(sum(on_time) / total if total else math.nan, tuple(k / n for k, n in zip(on_time, runs)),
                        total, refused, "+".join(sorted(engines)), len(runs) == len(self.draws))


def traffic_draws(spec: Spec, traffic: Traffic, rate: float, requests: int, rng: np.random.Generator,
                  duration_s: float | None = None) -> Draws:
    """One seed's draws for the app under the traffic at `rate`: its first `requests` arrivals, or
    those within `duration_s` seconds."""
    times = arrival_times(traffic, rate, requests, rng, spec.sources.get("app"), duration_s)
    return draw(spec.app, traffic, times, rate, rng, jitter=traffic.jitter != "none")


def simulate_traffic(plan: Plan, spec: Spec, traffic: Traffic, duration_s: float, rng: np.random.Generator,
                     rate: float | None = None) -> SimResult:
    """Simulate `plan` under `traffic` for `duration_s` seconds exactly as the runtime serves it
    (every module's plan policy, deadline-aware early close, the runtime's admission rule)."""
    rate = plan.offered_rate if rate is None else rate
    served = Served.of(plan, spec, traffic, rate)
    start = time.perf_counter()
    trace, _, engine = served.run(traffic_draws(spec, traffic, rate, 0, rng, duration_s))
    assert trace is not None, "no miss budget: every run completes"
    names = {m.name: m.dispatch for m in served.model.modules}
    return SimResult(plan, served.model, trace, float(duration_s), engine, names, True, time.perf_counter() - start)


__all__ = ["Measured", "Oracle", "RUNTIME_EARLY_CLOSE", "Served", "on_time_mask", "simulate_traffic", "traffic_draws"]
