"""Admission control: refuse at once a request that cannot meet its deadline.

A request's estimated latency is the longest entry-to-exit path of, per module, the wait for
the items already queued there (`pending / throughput`) plus MODEL.md's worst latency `W` of the
module and the hop, plus the time the request already waited before it reached the runtime
(at the HTTP edge). A request is admitted iff the estimate is within the SLO and fewer than
`max_in_flight` requests are in the runtime (the bounded queue). A refused request is told when
to retry: the seconds by which the estimate overshoots, at least one.

Profiles drift (MODEL.md): the runtime reports each batch's real time (`observe`), and the
estimate scales each module's wait and W by its measured slowdown (an exponential average of
real / profiled batch time, from 1), so a machine slower than its profile admits less.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Sequence

from skinflint.model import longest_path_ms
from skinflint.topology import SimModel


RATIO_SAMPLES = 10_000   # the last real/profiled batch-time ratios kept per module


@dataclass(frozen=True)
class Decision:
    """Admit or refuse; why, the estimate and the Retry-After seconds of a refusal."""

    admit: bool
    estimate_ms: float
    reason: str = ""
    retry_after_s: int = 0


class Admission:
    """The admission rule for one compiled application (`slack` scales the SLO it admits to)."""

    def __init__(self, sm: SimModel, max_in_flight: int, slack: float = 1.0) -> None:
        self.sm = sm
        self.max_in_flight = max_in_flight
        self.slack = slack
        # items/s a module's workers complete at full batches: sum 1000 b / d(b)
        self.throughput = [sum(1000.0 * w.worker.batch_size / w.worker.full_ms for w in m.workers)
                           for m in sm.modules]
        self.dag = sm.dag
        self.slowdown = [1.0] * len(sm.modules)
        self.ratios: list[deque[float]] = [deque(maxlen=RATIO_SAMPLES) for _ in sm.modules]

    def observe(self, module: int, worker: int, size: int, real_ms: float, weight: float = 0.1) -> None:
        """A batch of `size` took `real_ms` on `worker` of `module`: update its slowdown."""
        profiled = self.sm.modules[module].workers[worker].worker.times_ms[size - 1]
        self.ratios[module].append(real_ms / profiled)
        ratio = min(10.0, max(0.5, real_ms / profiled))
        self.slowdown[module] += weight * (ratio - self.slowdown[module])

    def estimate_ms(self, pending: Sequence[int]) -> float:
        """Longest path of (queue wait + W) x slowdown + hop for a request arriving now."""
        latency = {m.name: (1000.0 * pending[k] / self.throughput[k] + m.worst_latency_ms) * self.slowdown[k]
                   for k, m in enumerate(self.sm.modules)}
        return longest_path_ms(self.dag, latency, self.sm.hop_ms)

    def decide(self, pending: Sequence[int], in_flight: int, waited_ms: float = 0.0) -> Decision:
        """Admit the next request, which has already waited `waited_ms`, or say why not."""
        est = self.estimate_ms(pending) + max(0.0, waited_ms)
        if in_flight >= self.max_in_flight:
            return Decision(False, est, f"queue full ({in_flight} requests in flight)", 1)
        limit = self.sm.slo_ms * self.slack
        if est > limit:
            return Decision(False, est, f"estimated latency {est:.0f} ms exceeds the SLO {self.sm.slo_ms:g} ms",
                            max(1, math.ceil((est - limit) / 1000.0)))
        return Decision(True, est)
