"""Would admission have refused anyone? Answered from a run without admission.

A run in which admission refuses nobody is the same run with or without it: the fast paths
simulate without admission and ask this module whether the rule (skinflint.admission) would
have admitted every request, given the state the run shows at each arrival — the backlog of
every module (items of batches closed before the arrival and launched after it) and the
requests in flight. Decisions at an instant where another event happens too depend on the order
of simultaneous events; the check evaluates both orders and calls a run exact only if every
request is admitted either way (a batch of an entry module that closes at an arrival is closed
by that arrival, after its decision). Otherwise the caller runs the event engine, which applies the
rule request by request.
"""

from __future__ import annotations

import numpy as np

from skinflint.admission import Admission
from skinflint.sim.trace import Trace


def _backlog_at(t: np.ndarray, closed: np.ndarray, launched: np.ndarray, size: np.ndarray,
                strict: bool) -> np.ndarray:
    """Items in batches closed and not yet launched at each time of t: events at t count as
    after the decision (`strict`) or before it."""
    side = "left" if strict else "right"
    by_close = np.argsort(closed, kind="stable")
    by_launch = np.argsort(launched, kind="stable")
    closed_items = np.concatenate(([0], np.cumsum(size[by_close])))
    launched_items = np.concatenate(([0], np.cumsum(size[by_launch])))
    return (closed_items[np.searchsorted(closed[by_close], t, side=side)]
            - launched_items[np.searchsorted(launched[by_launch], t, side=side)])


def _estimates(admission: Admission, backlog: list[np.ndarray]) -> np.ndarray:
    """admission.estimate_ms for every request at once (slowdown 1, as in simulation)."""
    finish: list[np.ndarray] = []
    for k, s in enumerate(admission.stages):
        start = (np.maximum.reduce([finish[p] for p in s.parents]) if s.parents else 0.0) + admission.hop_ms
        finish.append(start + 1000.0 * backlog[k] / s.throughput + s.slowest_ms)
    return np.maximum.reduce([finish[k] for k, s in enumerate(admission.stages) if s.is_exit])


def refused_anyone(admission: Admission, trace: Trace, batches: list[tuple[np.ndarray, np.ndarray]]) -> bool:
    """True if, in either order of simultaneous events, the rule would refuse some request of the
    run; False means the run is exactly what it would be with admission applied."""
    t = trace.arrival_ms
    if t.size == 0:
        return False
    done = np.sort(np.where(np.isnan(trace.done_ms), np.inf, trace.done_ms))
    earlier = np.arange(t.size)    # requests before each one, all admitted if nobody was refused
    for strict in (True, False):
        finished = np.searchsorted(done, t, side="left" if strict else "right")
        if np.any(earlier - finished >= admission.max_in_flight):
            return True
        # an entry module's batch closing at an arrival is closed by it, after its decision
        backlog = [_backlog_at(t, closed, launched, mt.batch_size, strict or not s.parents)
                   for (closed, launched), mt, s in zip(batches, trace.modules, admission.stages)]
        if np.any(_estimates(admission, backlog) > admission.slo_ms):
            return True
    return False
