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
from itertools import groupby

import numpy as np

from skinflint.model import Config, cover_needed, leq
from skinflint.planners.cover import min_cover, min_cover_cost


@dataclass(frozen=True)
class FrontierPoint:
    """Least cost `cost_per_hour` at budget `budget_ms`, reached with these items and cover need."""

    budget_ms: float
    cost_per_hour: float
    items: tuple[Config, ...] = ()
    need: int = 0

    def groups(self) -> list[tuple[Config, int]]:
        """The (config, workers) pairs of the least-cost cover (workers > 0)."""
        _, counts = min_cover([(c.batch_size, c.price_per_hour) for c in self.items], self.need)
        return [(c, n) for c, n in zip(self.items, counts) if n > 0]


def _eligible_items(per_hw: dict[str, list[Config]], slowest_ms: float) -> list[Config]:
    """Per hardware, the largest eligible batch whose time fits the slowest batch time D."""
    out = []
    for configs in per_hw.values():
        best = None
        for c in configs:  # ascending batch size, non-decreasing d
            if leq(c.latency_ms, slowest_ms):
                best = c
        if best is not None:
            out.append(best)
    return out


def module_frontier(configs: list[Config], rate: float, utilization: float = 1.0,
                    max_budget_ms: float = math.inf) -> list[FrontierPoint]:
    """Pareto frontier (budget ascending, cost strictly descending) up to `max_budget_ms`."""
    per_hw: dict[str, list[Config]] = {}
    frontier: list[FrontierPoint] = []
    best = math.inf
    ordered = sorted(configs, key=lambda c: (c.worst_latency_ms, c.hardware, c.batch_size))
    for budget, new in groupby(ordered, key=lambda c: c.worst_latency_ms):
        if not leq(budget, max_budget_ms):
            break
        new = list(new)
        for c in new:
            per_hw.setdefault(c.hardware, []).append(c)
            per_hw[c.hardware].sort(key=lambda x: x.batch_size)
        d_min = min(c.latency_ms for c in new)
        slowest = sorted({c.latency_ms for cs in per_hw.values() for c in cs if c.latency_ms >= d_min})
        candidates = []
        for d in slowest:
            items = _eligible_items(per_hw, d)
            need = cover_needed(d, rate, utilization)
            bound = need * min(c.price_per_hour / c.batch_size for c in items)
            candidates.append((bound, d, items, need))
        candidates.sort(key=lambda t: (t[0], t[1]))
        improved = None
        for bound, d, items, need in candidates:
            if bound >= best * (1 - 1e-12) - 1e-12:
                break
            cost = min_cover_cost([(c.batch_size, c.price_per_hour) for c in items], need)
            if cost < best * (1 - 1e-12) - 1e-12:
                best, improved = cost, (items, need)
        if improved is not None:
            frontier.append(FrontierPoint(budget, best, tuple(improved[0]), improved[1]))
    return frontier


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
