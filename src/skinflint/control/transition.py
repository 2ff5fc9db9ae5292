"""A live switch between two plans: which workers to start, keep and drain, in that order.

New workers are started and warmed up first; traffic moves to the new plan only when they are
ready; then the workers the new plan does not need stop taking work, finish what they hold
(drain) and are released. No request is dropped: every request is served by the plan that was
live when it arrived.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from skinflint.plan import Plan

WorkerKey = tuple[str, ...]
"""A worker's identity for a switch: ("module", name, hardware, batch) or ("shared", hardware, slots...)."""


def worker_counts(plan: Plan) -> Counter[WorkerKey]:
    """How many workers of each kind the plan runs (a shared worker by its hardware and slots)."""
    counts: Counter[WorkerKey] = Counter()
    for m in plan.modules:
        for g in m.groups:
            counts[("module", m.name, g.hardware, str(g.batch_size))] += g.workers
    for s in plan.shared_workers:
        slots = tuple(f"{x.module}:{x.batch_size}" for x in s.slots)
        counts[("shared", s.hardware, f"{s.cycle_ms:g}", *slots)] += 1
    return counts


@dataclass(frozen=True)
class Transition:
    """Steps from `old` to `new`: 1. start `start` and wait until ready; 2. route new requests to
    the new plan (`keep` serve on); 3. drain and release `drain`."""

    start: tuple[tuple[WorkerKey, int], ...]
    keep: tuple[tuple[WorkerKey, int], ...]
    drain: tuple[tuple[WorkerKey, int], ...]
    start_cost_per_hour: float
    drain_cost_per_hour: float

    @property
    def is_noop(self) -> bool:
        """True when the two plans run the same workers."""
        return not self.start and not self.drain

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready steps, in order."""
        def rows(part: tuple[tuple[WorkerKey, int], ...]) -> list[dict[str, Any]]:
            return [{"worker": "/".join(k), "count": n} for k, n in part]
        return {"start": rows(self.start), "keep": rows(self.keep), "drain": rows(self.drain),
                "start_cost_per_hour": self.start_cost_per_hour, "drain_cost_per_hour": self.drain_cost_per_hour}


def _prices(plan: Plan) -> dict[WorkerKey, float]:
    out = {}
    for m in plan.modules:
        for g in m.groups:
            out[("module", m.name, g.hardware, str(g.batch_size))] = g.price_per_hour
    for s in plan.shared_workers:
        out[("shared", s.hardware, f"{s.cycle_ms:g}", *(f"{x.module}:{x.batch_size}" for x in s.slots))] = \
            s.price_per_hour
    return out


def transition(old: Plan | None, new: Plan) -> Transition:
    """The steps that take a live `old` plan (None: nothing running) to `new` without dropping a request."""
    before = worker_counts(old) if old is not None else Counter()
    after = worker_counts(new)
    prices = (_prices(old) if old is not None else {}) | _prices(new)
    start = sorted((after - before).items())
    drain = sorted((before - after).items())
    keep = sorted((before & after).items())
    return Transition(tuple(start), tuple(keep), tuple(drain),
                      sum(prices[k] * n for k, n in start), sum(prices[k] * n for k, n in drain))
