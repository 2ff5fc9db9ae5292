"""Admission on the fast path: the runtime's rule (skinflint.admission) applied exactly, by a
fixed point over runs that skip the refused requests.

The rule decides request i from the state at its arrival — every module's backlog (items of
batches closed before it and launched after it) and the requests in flight — which depends on
the decisions for earlier requests only. A refused request's items are skipped at its arrival,
before any later item can be ready, so a run without them is the run with them refused. So:
run with a guess R of the refused set, decide every request on that run, and if the decisions
are R, the run is exact. Otherwise the decisions agree with the truth up to the first request
they change (everything before it was decided on a correct past), so adopting them makes the
exactly known prefix grow by at least one request each round; a few rounds settle a plan with
few refusals, which is every plan worth keeping. Decisions at an instant where another event
happens too depend on the order of simultaneous events: the check evaluates both orders and
gives up (the caller runs the event engine) if they differ. A request is decided when it reaches
its entry modules (arrival + hop_ms), as the event engine decides it.
"""

from __future__ import annotations

from dataclasses import replace
from functools import reduce
from typing import Callable, Sequence

import numba
import numpy as np

from skinflint.admission import Admission
from skinflint.sim.draws import Draws
from skinflint.sim.trace import REFUSED, Trace

Batches = list[tuple[np.ndarray, ...]]
"""Per module, each batch's (close, launch) times; or (queued, taken, None): one item each, both
sorted, where what waits is counted per item, not per batch of the trace (sim.central)."""
Run = Callable[[Draws], tuple[Trace, Batches]]
MAX_ROUNDS = 40
HOPELESS_ROUNDS, HOPELESS_FACTOR = 3, 4
"""After this many rounds, a run whose latest decisions still refuse this many times the budget is
given up as hopeless (its exactly known refusals grow by few a round in a congested run)."""


@numba.njit(cache=True, nogil=True)
def _backlogs(t, closed, launched, size):  # pragma: no cover  (compiled; tested through decisions)
    """Items in batches closed and not yet launched at each time of t (ascending), events at t
    counted after the decision (first array) and before it (second). Only batches that waited
    for their worker (launched after they closed) ever count; one merge over those, sorted by
    close and by launch time."""
    waited = np.flatnonzero(launched > closed)
    c_at, l_at, sizes = closed[waited], launched[waited], size[waited]
    by_close = np.argsort(c_at, kind="mergesort")
    by_launch = np.argsort(l_at, kind="mergesort")
    n = waited.size
    after = np.zeros(t.size, np.int64)
    before = np.zeros(t.size, np.int64)
    if n == 0:
        return after, before
    c_lt = c_le = l_lt = l_le = 0
    n_c_lt = n_c_le = n_l_lt = n_l_le = 0
    for k in range(t.size):
        x = t[k]
        while c_lt < n and c_at[by_close[c_lt]] < x:
            n_c_lt += sizes[by_close[c_lt]]
            c_lt += 1
        while c_le < n and c_at[by_close[c_le]] <= x:
            n_c_le += sizes[by_close[c_le]]
            c_le += 1
        while l_lt < n and l_at[by_launch[l_lt]] < x:
            n_l_lt += sizes[by_launch[l_lt]]
            l_lt += 1
        while l_le < n and l_at[by_launch[l_le]] <= x:
            n_l_le += sizes[by_launch[l_le]]
            l_le += 1
        after[k] = n_c_lt - n_l_lt
        before[k] = n_c_le - n_l_le
    return after, before


@numba.njit(cache=True, nogil=True)
def _own_batches(at, closed, launched, size, item_request, firsts):  # pragma: no cover  (compiled)
    """Per request r of the run: items of batches that close at its decision time at[r] and hold
    an item of r, net of those that also launch then. Its own item made them, after its decision,
    so they are not yet in the backlog it sees, whichever order simultaneous events take."""
    out = np.zeros(at.size, np.int64)
    s = 0
    for q in range(size.size):
        e = s + size[q]
        if launched[q] == closed[q]:   # never in a backlog
            s = e
            continue
        lo, hi = item_request[s], item_request[e - 1]
        r = np.searchsorted(at[lo:hi + 1], closed[q]) + lo
        while r <= hi and at[r] == closed[q]:
            if firsts[r + 1] > firsts[r]:
                out[r] += size[q]
            r += 1
        s = e
    return out


def _sorted_backlog_at(t: np.ndarray, queued: np.ndarray, taken: np.ndarray, strict: bool) -> np.ndarray:
    """_backlog_at for one-item entries with both times sorted: queued by t less taken by t."""
    side = "left" if strict else "right"
    return np.searchsorted(queued, t, side) - np.searchsorted(taken, t, side)


def _estimates(admission: Admission, backlog: list[np.ndarray]) -> np.ndarray | float:
    """admission.estimate_ms for every request at once (slowdown 1, as in simulation); one
    number where no backlog ever forms (the estimate is then the same for everyone)."""
    backlog = [b if b.any() else 0.0 for b in backlog]
    finish: list = []
    for k, s in enumerate(admission.stages):
        start = (reduce(np.maximum, [finish[p] for p in s.parents]) if s.parents else 0.0) + admission.hop_ms
        finish.append(start + 1000.0 * backlog[k] / s.throughput + s.slowest_ms)
    return reduce(np.maximum, [finish[k] for k, s in enumerate(admission.stages) if s.is_exit])


def _refused(admission: Admission, backlog: list[np.ndarray], in_flight: np.ndarray) -> np.ndarray:
    """The rule's refusals given each request's backlogs and requests in flight."""
    return (in_flight >= admission.max_in_flight) | (_estimates(admission, backlog) > admission.slo_ms)


def decisions(admission: Admission, arrival: np.ndarray, admitted: np.ndarray, trace: Trace,
              batches: Batches, firsts: Sequence[np.ndarray]) -> np.ndarray | None:
    """Whom the rule refuses, every request of `arrival` decided on the run `trace` of the
    `admitted` ones (their indices; `firsts`: the run's items per module, Draws.firsts); None if
    the order of simultaneous events matters (events at a decision's instant counted after it,
    then before it)."""
    done = np.sort(np.where(np.isnan(trace.done_ms), np.inf, trace.done_ms))
    earlier = np.searchsorted(admitted, np.arange(arrival.size), side="left")   # admitted requests before each
    at = arrival + admission.hop_ms    # decided when it reaches its entry modules, as the engine does
    after, before = [], []
    for b, mt, s, f in zip(batches, trace.modules, admission.stages, firsts):
        if len(b) != 2:   # a central queue's single items: sorted queue and take times
            after.append(_sorted_backlog_at(at, b[0], b[1], True))
            before.append(_sorted_backlog_at(at, b[0], b[1], not s.parents))
            continue
        closed, launched = b
        strict, loose = _backlogs(at, closed, launched, mt.batch_size)
        after.append(strict)
        if not s.parents:   # an entry module's batch closing at an arrival is closed by it, after its decision
            before.append(strict)
        else:               # so is one its item reaches at once (after modules it brings no item to)
            loose[admitted] -= _own_batches(at[admitted], closed, launched, mt.batch_size, mt.item_request, f)
            before.append(loose)
    in_after = earlier - np.searchsorted(done, at, side="left")
    in_before = earlier - np.searchsorted(done, at, side="right")
    refused = _refused(admission, after, in_after)
    if np.array_equal(in_after, in_before) and all(np.array_equal(x, y) for x, y in zip(after, before)):
        return refused   # no simultaneous event counts: both orders decide alike
    return refused if np.array_equal(refused, _refused(admission, before, in_before)) else None


def without(draws: Draws, refused: np.ndarray) -> Draws:
    """The draws of the requests not refused (their items, offsets and jitter draws kept)."""
    keep = ~refused
    firsts, offsets, normals, skipped = [], [], [], []
    for f, o, z in zip(draws.firsts, draws.offsets_ms, draws.normals):
        counts = np.diff(f)
        gone = refused & (counts > 0)
        skipped.append(float(draws.arrival_ms[gone].max()) if gone.any() else -np.inf)
        items = np.repeat(keep, counts)
        firsts.append(np.concatenate(([0], np.cumsum(counts[keep]))))
        offsets.append(None if o is None else o[items])
        normals.append(None if z is None else z[items])
    return Draws(draws.arrival_ms[keep], tuple(firsts), tuple(offsets), tuple(normals), tuple(skipped))


def widen(trace: Trace, admitted: np.ndarray, draws: Draws) -> Trace:
    """The run of the `admitted` requests as a trace of every request of `draws`, the others
    refused: their items never ran (batch -1) and never arrived (ready NaN), as the engine has it."""
    arrival = draws.arrival_ms
    n = arrival.size
    done = np.full(n, np.nan)
    done[admitted] = trace.done_ms
    fate = np.full(n, REFUSED, dtype=np.int8)
    fate[admitted] = trace.fate
    kept = np.zeros(n, dtype=bool)
    kept[admitted] = True
    modules = []
    for mt, firsts in zip(trace.modules, draws.firsts):
        counts = np.diff(firsts)
        item_request = np.repeat(np.arange(n, dtype=np.int64), counts)
        mine = kept[item_request]
        ready = np.full(item_request.size, np.nan)
        ready[mine] = mt.ready_ms
        item_batch = np.full(item_request.size, -1, dtype=np.int64)
        item_batch[mine] = mt.item_batch
        modules.append(replace(mt, item_request=item_request, ready_ms=ready, _item_batch=item_batch))
    return Trace(arrival, done, fate, tuple(modules))


def run_with_admission(run: Run, admission: Admission, draws: Draws, miss_budget: int | None = None
                       ) -> tuple[Trace, Batches, int] | tuple[None, None, int] | None:
    """(trace of every request, batches, refused) of the run with the rule applied; (None, None,
    refusals) as soon as more than `miss_budget` requests are certainly refused (the plan cannot
    reach its target, or after HOPELESS_ROUNDS rounds still refuse HOPELESS_FACTOR times more:
    such a plan is rejected without its refusals settled exactly); None when the fixed point is
    not reached or ties decide (the caller then runs the event engine)."""
    arrival = draws.arrival_ms
    refused = np.zeros(arrival.size, dtype=bool)
    for rounds in range(1, MAX_ROUNDS + 1):
        admitted = np.flatnonzero(~refused)
        ran = without(draws, refused) if refused.any() else draws
        trace, batches = run(ran)
        decided = decisions(admission, arrival, admitted, trace, batches, ran.firsts)
        if decided is None:
            return None
        differ = decided != refused
        if not differ.any():
            return (widen(trace, admitted, draws) if refused.any() else trace), batches, int(refused.sum())
        certain = int(decided[: int(np.argmax(differ)) + 1].sum())
        if miss_budget is not None and (certain > miss_budget or (
                rounds >= HOPELESS_ROUNDS and decided.sum() > HOPELESS_FACTOR * max(miss_budget, 1))):
            return None, None, max(certain, int(decided.sum()))
        refused = decided
    return None


__all__ = ["decisions", "run_with_admission", "widen", "without"]
