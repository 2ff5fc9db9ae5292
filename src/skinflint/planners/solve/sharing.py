"""Shared workers (node merging) for the exact planner: residuals of several modules
co-located on one worker with a duty cycle, chosen jointly with the budgets and the dedicated
groups (MODEL.md, "Shared workers").

A *bin* is one shared worker of hardware h serving k >= 2 modules, module m with a slot of
batch b_m; its cycle is the least allowed, T_s = sum d_m(h, b_m) (rule 1). Given a bin, each
member's least cost at every budget is a frontier over its dedicated groups with the slot
counted in its cover (frontier.py), and the SLO split over the DAG stays exact (split.py).

Search: a bin can only win if the members' slots take enough off their dedicated costs to pay
for the worker. Each slot's gain is bounded from above (what the member costs at its cheapest,
less the fluid cost of the cover it still needs beyond the slot), bins are listed best bound
first, and a bin whose bound cannot beat the best plan so far is never solved. A bin of one
module is never useful (a dedicated worker of the same config covers as much with no slot
wait), so with at most three modules at most one bin exists and the search is exhaustive: the
result is exact over plans that give each module at most one slot. Larger instances add bins
greedily — pairs only, the most promising few per round — and say they are not proven exact.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Iterable, Mapping

from skinflint.model import Config
from skinflint.planners.solve.candidates import Bin, ranked_bins
from skinflint.planners.solve.bin_bounds import cost_within, frontier_gain, may_win, rooms
from skinflint.planners.solve.floors import SlotFloors
from skinflint.planners.solve.frontier import FrontierPoint, Slot, as_arrays, module_frontier
from skinflint.planners.solve.split import split_slo
from skinflint.spec.types import Spec

EXACT_MAX_MODULES = 3
MAX_BIN = 3            # members per shared worker searched
GREEDY_TRIPLES_MAX_MODULES = 6  # beyond this, the greedy rounds try pairs only
# Beyond EXACT_MAX_MODULES the greedy rounds solve at most this many bins each (best bound first),
# with bins of up to MAX_BIN members while the app is small, pairs only beyond.
MAX_SOLVED = {6: 40}   # modules <= 6: 40 bins a round
MAX_SOLVED_LARGE = 8


@dataclass(frozen=True)
class SharedSolution:
    """The chosen frontier point per module (with slots) and the bins; `exact` if proven."""

    cost_per_hour: float
    points: dict[str, FrontierPoint]
    bins: tuple[Bin, ...]
    exact: bool


def _max_solved(modules: int) -> int:
    return MAX_SOLVED[6] if modules <= 6 else MAX_SOLVED_LARGE


def _solve(spec: Spec, fronts: dict[str, list[FrontierPoint]], extra: float) -> tuple[float, dict[str, int]] | None:
    result = split_slo(spec.app, {m: as_arrays(f) for m, f in fronts.items()}, spec.app.slo_ms, spec.app.hop_ms)
    return None if result is None else (result[0] + extra, result[1])


class _Trials:
    """A bin's frontiers with its slots, for one search: each member's slot frontier and the
    floor of its cost are remembered by (module, slot config, shared cycle)."""

    def __init__(self, spec: Spec, configs: dict[str, list[Config]], caps: dict[str, float],
                 utilization: Mapping[str, float]) -> None:
        self.spec, self.configs, self.caps, self.u = spec, configs, caps, utilization
        self.floors: dict[str, SlotFloors] = {}
        self.fronts: dict[tuple[str, Config, float], list[FrontierPoint]] = {}

    def _floor(self, m: str, c: Config, t_s: float) -> float:
        if m not in self.floors:
            self.floors[m] = SlotFloors(self.configs[m], self.spec.app.module_rate(m), self.u[m], self.caps[m])
        return self.floors[m].cheapest(Slot(c, t_s))

    def _front(self, m: str, c: Config, t_s: float) -> list[FrontierPoint]:
        key = (m, c, t_s)
        if key not in self.fronts:
            self.fronts[key] = module_frontier(self.configs[m], self.spec.app.module_rate(m), self.u[m],
                                               self.caps[m], Slot(c, t_s))
        return self.fronts[key]

    def trial(self, b: Bin, fronts: dict[str, list[FrontierPoint]], paid: float, start: float,
              best: float) -> dict[str, list[FrontierPoint]] | None:
        """The frontiers with bin `b` added to `fronts` (the round's, whose plan cost `start`),
        or None where a bound shows it cannot beat `best` (solve/bin_bounds.py)."""
        t_s, members, extra = b.cycle_ms, dict(b.slots), paid + b.price_per_hour
        room = rooms(self.spec, {m: members[m].worst_latency_ms + t_s if m in members else f[0].budget_ms
                                 for m, f in fronts.items()})
        if room is None:
            return None
        # each member's exact cheapest cost with its slot, at its largest budget
        if not may_win(extra + sum(self._floor(m, members[m], t_s) for m in members) + sum(
                cost_within(f, room[m]) for m, f in fronts.items() if m not in members), best):
            return None
        trial = dict(fronts)
        for m, c in b.slots:
            trial[m] = self._front(m, c, t_s)
            if not trial[m]:
                return None
        room = rooms(self.spec, {m: f[0].budget_ms for m, f in trial.items()})
        if room is None or not may_win(extra + sum(cost_within(f, room[m]) for m, f in trial.items()), best):
            return None
        gain = sum(frontier_gain(fronts[m], trial[m]) for m in members)
        return trial if may_win(start + b.price_per_hour - gain, best) else None


def with_shared_workers(spec: Spec, configs: dict[str, list[Config]], caps: dict[str, float],
                        base: dict[str, list[FrontierPoint]], utilization: Mapping[str, float]) -> SharedSolution:
    """Least-cost plan allowing shared workers, starting from the dedicated frontiers `base`
    (`utilization`: each module's cap u_m)."""
    fronts = dict(base)
    bins: list[Bin] = []
    solved = _solve(spec, fronts, 0.0)
    assert solved is not None, "the dedicated plan is feasible"
    best_cost, best_pick = solved
    small = len(configs) <= EXACT_MAX_MODULES
    exact = True
    trials = _Trials(spec, configs, caps, utilization)
    while True:
        taken = {m for b in bins for m, _ in b.slots}
        paid = sum(x.price_per_hour for x in bins)
        cheapest = sum(f[-1].cost_per_hour for f in fronts.values())
        # a bin can win only if paid + price + cheapest - gain < best_cost
        candidates: Iterable[tuple[float, Bin]] = ranked_bins(
            spec, configs, caps, fronts, taken, cheapest + paid - best_cost, utilization,
            MAX_BIN if len(configs) <= GREEDY_TRIPLES_MAX_MODULES else 2)
        if not small:
            exact = False
            candidates = itertools.islice(candidates, _max_solved(len(configs)))
        start, round_best = best_cost, None
        for gain, b in candidates:
            if paid + b.price_per_hour + cheapest - gain >= best_cost * (1 - 1e-12) - 1e-12:
                break  # sorted by bound: no later bin can win either
            trial = trials.trial(b, fronts, paid, start, best_cost)
            if trial is None:
                continue
            got = _solve(spec, trial, paid + b.price_per_hour)
            if got and got[0] < best_cost * (1 - 1e-12) - 1e-12:
                best_cost, best_pick, round_best = got[0], got[1], (b, trial)
        if round_best is None:
            break
        bins.append(round_best[0])
        fronts = round_best[1]
        if small:
            break  # at most one bin exists (see the module docstring)
    points = {m: fronts[m][best_pick[m]] for m in fronts}
    return SharedSolution(best_cost, points, tuple(bins), exact)
