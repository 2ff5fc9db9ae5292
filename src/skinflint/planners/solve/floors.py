"""A module's least cost with a shared slot at its largest budget, for many slots at once.

The shared-worker search (solve/sharing.py) bounds each candidate bin by its members' cheapest
costs with their slots (`frontier.cheapest_cost`), thousands of times per plan. At one budget the
eligible configurations, and so each slowest batch time D's cover items, do not depend on the
slot: only the cover need does, max(r D / (1000 u), r T_s / 1000) - b (frontier._dedicated_need),
and only through b, d and that integer. So the items per D are found once per module and each
(D, need) cover is solved once; the answer is `cheapest_cost`'s, step for step.
"""

from __future__ import annotations

import math

from skinflint.model import Config, cover_needed, leq, pool_cover_needed
from skinflint.planners.solve.frontier import Slot, eligible_items, cover_cost


class SlotFloors:
    """`cheapest_cost(configs, rate, utilization, budget_ms, slot)` for any slot, remembered."""

    def __init__(self, configs: list[Config], rate: float, utilization: float, budget_ms: float) -> None:
        self.rate, self.u, self.budget_ms = rate, utilization, budget_ms
        self.per_hw: dict[str, list[Config]] = {}
        for c in sorted(configs, key=lambda c: c.batch_size):
            if leq(c.worst_latency_ms, budget_ms):
                self.per_hw.setdefault(c.hardware, []).append(c)
        self.ds = sorted({c.latency_ms for cs in self.per_hw.values() for c in cs})
        self._items: dict[float, tuple[tuple[tuple[int, float], ...], float]] = {}
        self._answers: dict[tuple[int, float, int], float] = {}

    def _items_at(self, d: float) -> tuple[tuple[tuple[int, float], ...], float]:
        """The cover items (b, price) at slowest batch time d and their best price per unit."""
        if d not in self._items:
            items = eligible_items(self.per_hw, d)
            rho = min(c.price_per_hour / c.batch_size for c in items) if items else math.inf
            self._items[d] = (tuple((c.batch_size, c.price_per_hour) for c in items), rho)
        return self._items[d]

    def cheapest(self, slot: Slot) -> float:
        """The least cost with `slot` (inf if none fits the budget)."""
        if not leq(slot.worst_latency_ms(self.rate), self.budget_ms):
            return math.inf
        c = slot.config
        key = (c.batch_size, c.latency_ms, cover_needed(slot.cycle_ms, self.rate, 1.0))
        if key not in self._answers:
            self._answers[key] = self._solve(*key)
        return self._answers[key]

    def _solve(self, batch: int, floor_d: float, cycle_need: int) -> float:
        """frontier._best_cover over D >= floor_d with the slot's need, from the tables."""
        candidates = []
        for d in sorted(set(self.ds) | {floor_d}):
            if d < floor_d:
                continue
            items, rho = self._items_at(d)
            need = max(pool_cover_needed(d, self.rate, self.u, 1), cycle_need) - batch
            if need <= 0:
                candidates.append((0.0, d, (), need))
            elif items:
                candidates.append((need * rho, d, items, need))
        candidates.sort(key=lambda t: (t[0], t[1]))
        best = math.inf
        for bound, _, items, need in candidates:
            if bound >= best * (1 - 1e-12) - 1e-12:
                break
            cost = cover_cost(items, need) if need > 0 else 0.0
            if cost < best * (1 - 1e-12) - 1e-12:
                best = cost
        return best
