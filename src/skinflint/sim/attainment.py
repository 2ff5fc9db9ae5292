"""What a plan attains under a traffic: the oracle of the traffic-aware planner and of the checks.

    oracle = Oracle(spec, traffic, seeds=(1, 2, 3, 4), requests=50_000)
    measured = oracle.measure(plan)        # measured.attained, measured.per_seed, ...

The oracle draws every seed's randomness once (sim.draws) and runs each plan it is asked about on
those same draws (common random numbers), exactly as the runtime serves it: batch-aware modules
with deadline-aware early close, admission applied. The fast path (sim.closing) runs a plan
without admission and keeps the run when admission would have refused nobody
(sim.admit_check); otherwise, and for round-robin plans, shared workers under jitter or pools,
the event engine runs it with the rule applied request by request.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from skinflint.admission import Admission
from skinflint.dispatch import EarlyClose
from skinflint.plan import Plan
from skinflint.sim.admit_check import refused_anyone
from skinflint.sim.closing import run_closing, supports_closing
from skinflint.sim.draws import Draws, draw
from skinflint.sim.jitter_model import worker_jitter
from skinflint.sim.trace import COMPLETED, Trace
from skinflint.spec.types import Spec
from skinflint.topology import SimModel, compile_model
from skinflint.traffic import Traffic

RUNTIME_EARLY_CLOSE = EarlyClose()
"""What the runtime applies to every module (runtime.router): no margin."""


@dataclass(frozen=True)
class Measured:
    """A plan's attainment pooled over the oracle's seeds, per seed, and how it was run;
    `excess_ms` per module: `excess_over_promise`, averaged over every seed's missed requests."""

    attained: float
    per_seed: tuple[float, ...]
    requests: int
    refused: int
    engine: str
    excess_ms: dict[str, float] = field(default_factory=dict)

    def reaches(self, target: float) -> bool:
        """Attained at least `target` (pooled over every seed's requests)."""
        return self.attained >= target - 1e-12


def on_time_mask(trace: Trace, slo_ms: float) -> np.ndarray:
    """Requests completed within the SLO (refused and unfinished ones are misses)."""
    latency = trace.done_ms - trace.arrival_ms
    ok = trace.fate == COMPLETED
    return ok & (latency <= slo_ms + 1e-9 * max(1.0, slo_ms))


def excess_over_promise(sm: SimModel, trace: Trace, missed: np.ndarray) -> list[float]:
    """Per module, the mean over missed requests of how far their items' time at the module
    (ready to batch end) went past the module's planned worst latency W: where the plan's
    promise gave way, which is where more slack helps."""
    out = []
    n_missed = int(missed.sum())
    for m, mt in zip(sm.modules, trace.modules):
        mine = missed[mt.item_request] & mt.ran
        if not n_missed or not mine.any():
            out.append(0.0)
            continue
        over = np.maximum(mt.done_ms[mine] - mt.ready_ms[mine] - m.worst_latency_ms, 0.0)
        per_request = np.zeros(trace.arrival_ms.size)
        np.maximum.at(per_request, mt.item_request[mine], over)
        out.append(float(per_request.sum() / n_missed))
    return out


class Oracle:
    """Attainment of plans for one spec under one traffic, on pre-drawn seeds."""

    def __init__(self, spec: Spec, traffic: Traffic, seeds: Sequence[int], requests: int) -> None:
        from skinflint.sim.traffic_run import arrival_times  # arrival processes live in sim

        self.spec, self.traffic = spec, traffic
        self.seeds = tuple(int(s) for s in seeds)
        self.requests_per_seed = int(requests)
        rate = spec.app.rate
        self.draws: list[Draws] = []
        for seed in self.seeds:
            rng = np.random.default_rng(seed)
            times = arrival_times(traffic, rate, requests, rng, spec.sources.get("app"))
            self.draws.append(draw(spec.app, traffic, times, rate, rng, jitter=traffic.jitter != "none"))
        self._cache: dict[str, Measured] = {}

    @property
    def requests(self) -> int:
        """Requests simulated per plan, all seeds together."""
        return sum(d.requests for d in self.draws)

    def measure(self, plan: Plan) -> Measured:
        """The plan's attainment on every seed (cached by the plan's JSON)."""
        key = plan.to_json(indent=None)
        if key not in self._cache:
            self._cache[key] = self._measure(plan)
        return self._cache[key]

    def _measure(self, plan: Plan) -> Measured:
        sm = compile_model(plan, self.spec)
        jitter = worker_jitter(sm, self.spec, self.traffic)
        admission = Admission.for_model(sm, plan.rate)
        fast = supports_closing(sm, jitter is not None)
        on_time, refused, engines = [], 0, set()
        excess = np.zeros(len(sm.modules))
        for d in self.draws:
            trace = None
            if fast:
                trace, batches = run_closing(sm, d, jitter, RUNTIME_EARLY_CLOSE)
                if refused_anyone(admission, trace, batches):
                    trace = None
                else:
                    engines.add("closing")
            if trace is None:
                from skinflint.sim.traffic_run import run_event_engine

                trace = run_event_engine(plan, self.spec, sm, d, jitter, admission, RUNTIME_EARLY_CLOSE)
                engines.add("event")
                refused += int(np.count_nonzero(trace.fate != COMPLETED))
            ok = on_time_mask(trace, sm.slo_ms)
            on_time.append(int(ok.sum()))
            excess += np.array(excess_over_promise(sm, trace, ~ok)) * int((~ok).sum())
        total = sum(d.requests for d in self.draws)
        misses = max(1, total - sum(on_time))
        return Measured(sum(on_time) / total if total else math.nan,
                        tuple(k / d.requests for k, d in zip(on_time, self.draws)), total, refused,
                        "+".join(sorted(engines)), {m.name: float(x / misses) for m, x in zip(sm.modules, excess)})


__all__ = ["Measured", "Oracle", "RUNTIME_EARLY_CLOSE", "SimModel", "on_time_mask"]
