"""Admission control in the runtime: the one rule of skinflint.admission, which the simulator
applies too, fed with the dispatchers' backlogs (DispatchPolicy.backlog) and the time a request
already waited at the edge; and the margin the runtime measures for itself (`MeasuredSlack`)."""

from __future__ import annotations

from collections import deque

import numpy as np

from skinflint.admission import RATIO_SAMPLES, Admission, Decision, Stage, default_max_in_flight

__all__ = ["RATIO_SAMPLES", "Admission", "Decision", "MeasuredSlack", "Stage", "default_max_in_flight"]


class MeasuredSlack:
    """The admission margin the runtime measures for itself (`serve --admit-slack auto`).

    The rule admits while its estimate is within slack x SLO; on a real machine the estimate
    errs (contended cores, late timer wake-ups, batches slower than measured so far), so under
    overload, where the queue grows until the estimate reaches the bound, the requests admitted
    at the bound are late about half the time. Of admitted requests whose estimate was near the
    bound (at least `near` x ceiling x SLO), the last `window` ratios latency / estimate are kept;
    the slack is `ceiling` over their 99.5th percentile, within [floor, ceiling], updated every
    `every` samples. On an exact profile the ratio is ~1 and the slack stays the ceiling (the
    simulator's rule, which never observes)."""

    def __init__(self, slo_ms: float, ceiling: float = 1.0, window: int = 1000, every: int = 5,
                 floor: float = 0.5, near: float = 0.5, quantile: float = 99.5) -> None:
        self.slo_ms, self.ceiling, self.floor, self.every, self.quantile = slo_ms, ceiling, floor, every, quantile
        self.near_ms = near * ceiling * slo_ms
        self.ratios: deque[float] = deque(maxlen=window)
        self._seen = 0

    def observe(self, estimate_ms: float, latency_ms: float) -> float | None:
        """An admitted request estimated at `estimate_ms` took `latency_ms`: the new slack, or None
        (not near the bound, or not time to update)."""
        if not estimate_ms >= self.near_ms:
            return None
        self.ratios.append(latency_ms / estimate_ms)
        self._seen += 1
        if self._seen % self.every:
            return None
        q = float(np.percentile(np.fromiter(self.ratios, float, len(self.ratios)), self.quantile))
        return min(self.ceiling, max(self.floor, self.ceiling / max(q, 1e-9)))
