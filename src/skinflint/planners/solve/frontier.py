"""A module's exact cost frontier: least cost of a feasible module plan at every candidate budget.

For budget L and slowest batch time D, MODEL.md's module problem is an integer cover
    min sum(n * price)  s.t.  sum(n * b) >= r * D / (1000 u),  over configs with W <= L, d <= D.
Within one hardware type all workers cost the same, so only the largest eligible batch of each
type matters (a larger batch covers more for the same price). The cost only changes where L
crosses some config's W, so the candidate budgets are the W values. Walking them upward, the
item sets for D below the newly eligible config's d are unchanged, so only larger D are solved,
in order of their fluid lower bound, stopping as soon as the bound cannot beat the best so far.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from itertools import groupby

import numpy as np

from skinflint.model import RTOL, Config, cover_needed, leq, pool_cover_needed
from skinflint.planners.solve.cover import min_cover, min_cover_cost


@dataclass(frozen=True)
class Slot:
    """A module's slot on a shared worker (MODEL.md, "Shared workers"): one batch of
    `config.batch_size` per shared cycle of `cycle_ms`, on the worker's hardware."""

    config: Config
    cycle_ms: float

    def worst_latency_ms(self, rate: float) -> float:
        """W = 1000 (b - 1) / r + T_s + d (rule 3): the config's own W plus one shared cycle."""
        return self.config.worst_latency_ms + self.cycle_ms


@dataclass(frozen=True)
class FrontierPoint:
    """Least cost `cost_per_hour` at budget `budget_ms`, reached with these items and cover need
    (and, for a module with a shared slot, that slot; its worker's price is not in the cost)."""

    budget_ms: float
    cost_per_hour: float
    items: tuple[Config, ...] = ()
    need: int = 0
    slot: Slot | None = None

    def groups(self) -> list[tuple[Config, int]]:
        """The (config, workers) pairs of the least-cost dedicated cover (workers > 0)."""
        if self.need <= 0:
            return []
        _, counts = min_cover([(c.batch_size, c.price_per_hour) for c in self.items], self.need)
        return [(c, n) for c, n in zip(self.items, counts) if n > 0]


@lru_cache(maxsize=1 << 15)
def cover_cost(items: tuple[tuple[int, float], ...], need: int) -> float:
    """`min_cover_cost`, remembered: the shared-worker search asks the same covers of one module
    for many slots (the same items at a slowest batch time, the same need)."""
    return min_cover_cost(items, need)


def eligible_items(per_hw: dict[str, list[Config]], slowest_ms: float) -> list[Config]:
    """Per hardware, the largest eligible batch whose time fits the slowest batch time D."""
    limit = slowest_ms + RTOL * max(1.0, slowest_ms)
    out = []
    for configs in per_hw.values():
        best = None
        for c in configs:  # ascending batch size, non-decreasing d
            if c.latency_ms > limit:
                break
            best = c
        if best is not None:
            out.append(best)
    return out


def _dedicated_need(slowest_ms: float, rate: float, utilization: float, slot: Slot | None,
                    streams: int = 1) -> int:
    """sum(n b) the dedicated workers must reach (a pool's `streams` merged streams need more:
    model.pool_cover_needed). A slot joins the module's cycle as one more worker of batch b_s
    (rule 2), so it counts towards the cover, and the module cycle T_m = 1000 (sum n b + b_s) / r
    must be at least the shared cycle T_s."""
    need = pool_cover_needed(slowest_ms, rate, utilization, streams)
    if slot is None:
        return need
    need = max(need, cover_needed(slot.cycle_ms, rate, 1.0))
    return need - slot.config.batch_size


def _best_cover(per_hw: dict[str, list[Config]], d_min: float, rate: float, utilization: float,
                slot: Slot | None, best: float, streams: int = 1) -> tuple[float, list[Config], int] | None:
    """Cheapest cover over slowest batch times D >= d_min (and >= the slot's d) with the eligible
    configs, if cheaper than `best`: tried in order of their fluid bound, stopping when the
    bound cannot beat the best so far."""
    floor_d = slot.config.latency_ms if slot else 0.0
    eligible_d = {c.latency_ms for cs in per_hw.values() for c in cs} | ({floor_d} if slot else set())
    candidates = []
    for d in sorted(x for x in eligible_d if x >= d_min and x >= floor_d):
        items = eligible_items(per_hw, d)
        need = _dedicated_need(d, rate, utilization, slot, streams)
        if need <= 0:
            candidates.append((0.0, d, [], need))
        elif items:
            candidates.append((need * min(c.price_per_hour / c.batch_size for c in items), d, items, need))
    candidates.sort(key=lambda t: (t[0], t[1]))
    found = None
    for bound, _, items, need in candidates:
        if bound >= best * (1 - 1e-12) - 1e-12:
            break
        cost = cover_cost(tuple((c.batch_size, c.price_per_hour) for c in items), need) if need > 0 else 0.0
        if cost < best * (1 - 1e-12) - 1e-12:
            best, found = cost, (cost, items, need)
    return found


def cheapest_cost(configs: list[Config], rate: float, utilization: float, budget_ms: float,
                  slot: Slot | None = None) -> float:
    """The least cost at one budget (the last point of the frontier up to it), computed directly."""
    if slot and not leq(slot.worst_latency_ms(rate), budget_ms):
        return math.inf
    per_hw: dict[str, list[Config]] = {}
    for c in sorted(configs, key=lambda c: c.batch_size):
        if leq(c.worst_latency_ms, budget_ms):
            per_hw.setdefault(c.hardware, []).append(c)
    found = _best_cover(per_hw, -math.inf, rate, utilization, slot, math.inf)
    return math.inf if found is None else found[0]


def module_frontier(configs: list[Config], rate: float, utilization: float = 1.0,
                    max_budget_ms: float = math.inf, slot: Slot | None = None,
                    streams: int = 1) -> list[FrontierPoint]:
    """Pareto frontier (budget ascending, cost strictly descending) up to `max_budget_ms`.

    With a `slot`, the module also holds that slot on a shared worker: budgets start at the
    slot's worst latency and the slowest batch time is at least the slot's d. A pool serves
    `streams` = k merged streams, whose cycle needs k - 1 more (docs/sharing-and-pools.md)."""
    per_hw: dict[str, list[Config]] = {}
    frontier: list[FrontierPoint] = []
    best = math.inf
    floor_ms = slot.worst_latency_ms(rate) if slot else -math.inf
    ordered = sorted(configs, key=lambda c: (c.worst_latency_ms, c.hardware, c.batch_size))
    steps = [(w, list(g)) for w, g in groupby(ordered, key=lambda c: c.worst_latency_ms)]
    if slot:  # configs below the slot's floor become eligible at the floor, all at once
        below = [c for w, g in steps if w <= floor_ms for c in g]
        steps = [(floor_ms, below)] + [(w, g) for w, g in steps if w > floor_ms]
    first = True
    for budget, new in steps:
        if not leq(budget, max_budget_ms):
            break
        for c in new:
            per_hw.setdefault(c.hardware, []).append(c)
            per_hw[c.hardware].sort(key=lambda x: x.batch_size)
        if not new and not first:
            continue
        d_min = -math.inf if first else min(c.latency_ms for c in new)
        first = False
        found = _best_cover(per_hw, d_min, rate, utilization, slot, best, streams)
        if found is not None:
            best = found[0]
            frontier.append(FrontierPoint(budget, best, tuple(found[1]), found[2], slot))
    return frontier


@lru_cache(maxsize=4096)
def cached_frontier(configs: tuple[Config, ...], rate: float, utilization: float,
                    max_budget_ms: float) -> tuple[FrontierPoint, ...]:
    """`module_frontier` of dedicated workers, remembered by its inputs: the traffic-aware search
    re-plans with one module's headroom changed at a time, so the other modules' frontiers repeat."""
    return tuple(module_frontier(list(configs), rate, utilization, max_budget_ms))


def fluid_frontier(configs: list[Config], rate: float, utilization: float = 1.0,
                   max_budget_ms: float = math.inf) -> list[FrontierPoint]:
    """MODEL.md's fluid lower bound per budget: r * min{price / theta : W <= L} / u, as a frontier."""
    frontier: list[FrontierPoint] = []
    best = math.inf
    for c in sorted(configs, key=lambda c: c.worst_latency_ms):
        if not leq(c.worst_latency_ms, max_budget_ms):
            break
        cost = rate * c.cost_per_request / utilization
        if cost < best * (1 - 1e-12):
            best = cost
            if frontier and frontier[-1].budget_ms == c.worst_latency_ms:
                frontier[-1] = FrontierPoint(c.worst_latency_ms, cost)
            else:
                frontier.append(FrontierPoint(c.worst_latency_ms, cost))
    return frontier


def as_arrays(frontier: list[FrontierPoint]) -> tuple[np.ndarray, np.ndarray]:
    """(budgets, costs) of a frontier as numpy arrays."""
    return (np.array([p.budget_ms for p in frontier], dtype=float),
            np.array([p.cost_per_hour for p in frontier], dtype=float))
