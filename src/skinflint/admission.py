"""Admission: refuse at once a request that cannot meet its deadline — one rule, applied by the
runtime to real requests and by the simulator to simulated ones (so the planner's attainment
counts exactly the refusals the runtime will make; a refusal is a miss, MODEL.md).

A request arriving now, `age_ms` after it reached the edge, is estimated to finish after the
longest entry-to-exit path of, per module,

    (backlog_m / throughput_m + d_m) x slowdown_m + hop,

backlog_m the items in batches that are closed but wait for a busy worker (the queue, not the
batch still being collected: deadline-aware early close bounds that wait), throughput_m what the
module's workers complete per second at full batches, d_m its slowest full batch. It is admitted
iff `age_ms` + the estimate is within the SLO and fewer than `max_in_flight` requests are in the
system. Under load this refuses only what a queue already makes late; under overload the queue
grows until the estimate reaches the SLO and the rest is refused at once.

Profiles drift (MODEL.md): the runtime reports each batch's real time (`observe`), and the
estimate scales each module's terms by its measured slowdown (an exponential average of real /
profiled batch time, from 1), so a machine slower than its profile admits less. The simulator
never observes, so its slowdown stays 1: the runtime on an exact profile decides as it does.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Sequence

RATIO_SAMPLES = 10_000   # the last real/profiled batch-time ratios kept per module


@dataclass(frozen=True)
class Stage:
    """What admission knows of one module: its parents (indices, topological order), whether it
    is an exit, its throughput at full batches (items/s) and its slowest full batch (ms)."""

    parents: tuple[int, ...]
    is_exit: bool
    throughput: float
    slowest_ms: float


@dataclass(frozen=True)
class Decision:
    """Admit or refuse; why, the estimate and the Retry-After seconds of a refusal."""

    admit: bool
    estimate_ms: float
    reason: str = ""
    retry_after_s: int = 0


def default_max_in_flight(rate: float, slo_ms: float) -> int:
    """Twice what Little's law puts in flight when every request takes the whole SLO, at least
    64: a bound that never binds on a plan that holds, and keeps memory bounded when one fails."""
    return max(64, math.ceil(2.0 * rate * slo_ms / 1000.0))


class Admission:
    """The admission rule for one application's stages (topological order)."""

    def __init__(self, stages: Sequence[Stage], slo_ms: float, hop_ms: float, max_in_flight: int) -> None:
        self.stages = tuple(stages)
        self.slo_ms = slo_ms
        self.hop_ms = hop_ms
        self.max_in_flight = max_in_flight
        self.slowdown = [1.0] * len(self.stages)
        self.ratios: list[deque[float]] = [deque(maxlen=RATIO_SAMPLES) for _ in self.stages]

    @classmethod
    def for_model(cls, sm, max_in_flight: int | None = None) -> "Admission":
        """The rule for a compiled application (topology: modules with workers, slo, hop, rate)."""
        stages = [Stage(m.parents, m.is_exit,
                        sum(1000.0 * w.worker.batch_size / w.worker.full_ms for w in m.workers),
                        max(w.worker.full_ms for w in m.workers)) for m in sm.modules]
        limit = max_in_flight if max_in_flight is not None else default_max_in_flight(sm.rate, sm.slo_ms)
        return cls(stages, sm.slo_ms, sm.hop_ms, limit)

    def observe(self, module: int, real_ms: float, profiled_ms: float, weight: float = 0.1) -> None:
        """A batch profiled at `profiled_ms` took `real_ms`: update the module's slowdown."""
        self.ratios[module].append(real_ms / profiled_ms)
        ratio = min(10.0, max(0.5, real_ms / profiled_ms))
        self.slowdown[module] += weight * (ratio - self.slowdown[module])

    def estimate_ms(self, backlog: Sequence[int]) -> float:
        """Longest path of (backlog / throughput + slowest batch) x slowdown + hop."""
        finish: list[float] = []
        for k, s in enumerate(self.stages):
            start = max((finish[p] for p in s.parents), default=0.0) + self.hop_ms
            finish.append(start + (1000.0 * backlog[k] / s.throughput + s.slowest_ms) * self.slowdown[k])
        return max(finish[k] for k, s in enumerate(self.stages) if s.is_exit)

    def decide(self, backlog: Sequence[int], in_flight: int, age_ms: float = 0.0) -> Decision:
        """Admit the next request, `age_ms` old already, or say why not."""
        est = age_ms + self.estimate_ms(backlog)
        if in_flight >= self.max_in_flight:
            return Decision(False, est, f"queue full ({in_flight} requests in flight)", 1)
        if est > self.slo_ms:
            return Decision(False, est, f"estimated latency {est:.0f} ms exceeds the SLO {self.slo_ms:g} ms",
                            max(1, math.ceil((est - self.slo_ms) / 1000.0)))
        return Decision(True, est)
