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
from typing import Mapping
from dataclasses import dataclass

from skinflint.model import Config, leq
from skinflint.planners.solve.frontier import FrontierPoint, Slot, as_arrays, cheapest_cost, module_frontier
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
class Bin:
    """One shared worker: its hardware, price and each member's slot config."""

    hardware: str
    price_per_hour: float
    slots: tuple[tuple[str, Config], ...]

    @property
    def cycle_ms(self) -> float:
        return sum(c.latency_ms for _, c in self.slots)


@dataclass(frozen=True)
class SharedSolution:
    """The chosen frontier point per module (with slots) and the bins; `exact` if proven."""

    cost_per_hour: float
    points: dict[str, FrontierPoint]
    bins: tuple[Bin, ...]
    exact: bool


@dataclass(frozen=True)
class _Member:
    """What bounds a module's saving from a slot: its cheapest dedicated cost, the best price per
    unit, the cheapest worker and the fastest batch among the configs that fit its largest budget."""

    rate: float
    cheapest: float
    rho: float
    cheapest_worker: float
    d_min: float

    def gain(self, c: Config, cycle_ms: float, u: float) -> float:
        """At most how much a slot of config c in a shared cycle of `cycle_ms` takes off the
        module's cheapest dedicated cost: the dedicated part still needs
        sum n b >= max(r max(d_c, d_min) / (1000 u), r T_s / 1000) - b_c (rules 1-2), at no better
        than the best price per unit, and at least one worker if anything is still needed."""
        rest = max(self.rate * max(c.latency_ms, self.d_min) / (1000.0 * u), self.rate * cycle_ms / 1000.0)
        rest -= c.batch_size
        return self.cheapest - (max(self.rho * rest, self.cheapest_worker) if rest > 0 else 0.0)


def _member(rate: float, configs: list[Config], cap: float, cheapest: float) -> _Member | None:
    eligible = [x for x in configs if leq(x.worst_latency_ms, cap)]
    if not eligible:
        return None
    return _Member(rate, cheapest, min(x.price_per_hour / x.batch_size for x in eligible),
                   min(x.price_per_hour for x in eligible), min(x.latency_ms for x in eligible))


def _candidate_bins(spec: Spec, configs: dict[str, list[Config]], caps: dict[str, float],
                    fronts: dict[str, list[FrontierPoint]], taken: set[str], threshold: float,
                    u: Mapping[str, float], max_bin: int) -> list[tuple[float, Bin]]:
    """(gain bound, bin) for every bin of 2..MAX_BIN free modules on one hardware type whose
    gain bound exceeds `threshold` + its price and whose slots fit their modules' largest budgets."""
    free = [m for m in configs if m not in taken]
    members = {m: _member(spec.app.module_rate(m), configs[m], caps[m], fronts[m][-1].cost_per_hour) for m in free}
    out: list[tuple[float, Bin]] = []
    for hw in spec.hardware:
        price = spec.price(hw)
        gains: dict[str, list[tuple[float, Config]]] = {}
        for m in free:
            if members[m] is None:
                continue
            opts = [(members[m].gain(c, c.latency_ms, u[m]), c) for c in configs[m]  # T_s >= d_c alone
                    if c.hardware == hw and leq(c.worst_latency_ms, caps[m])]
            if opts:
                gains[m] = sorted(opts, key=lambda t: -t[0])
        for size in range(2, max_bin + 1):
            for group in itertools.combinations(list(gains), size):
                if sum(gains[m][0][0] for m in group) > threshold + price:
                    _walk_bins(spec, hw, price, group, gains, members, caps, threshold + price, u, out)
    return out


def _walk_bins(spec: Spec, hw: str, price: float, group: tuple[str, ...],
               gains: dict[str, list[tuple[float, Config]]], members: dict[str, "_Member | None"],
               caps: dict[str, float], need: float, u: Mapping[str, float], out: list[tuple[float, Bin]]) -> None:
    """Depth-first over the members' slot configs, best gain first, cut by the gain bound; each
    complete bin is kept if its slots fit the caps and its gain, bounded again with the bin's
    own cycle T_s, still exceeds `need`."""
    rest = [sum(gains[m][0][0] for m in group[i:]) for i in range(len(group) + 1)]

    def walk(i: int, acc: float, chosen: tuple[Config, ...], t_s: float) -> None:
        # T_s only grows as members are added: a slot that already misses its cap stays missed
        if any(not leq(c.worst_latency_ms + t_s, caps[m]) for m, c in zip(group, chosen)):  # rule 3
            return
        if i == len(group):
            gain = sum(members[m].gain(c, t_s, u[m]) for m, c in zip(group, chosen))  # type: ignore[union-attr]
            if gain > need:
                out.append((gain, Bin(hw, price, tuple(zip(group, chosen)))))
            return
        for g, c in gains[group[i]]:
            if acc + g + rest[i + 1] <= need:
                break
            walk(i + 1, acc + g, chosen + (c,), t_s + c.latency_ms)

    walk(0, 0.0, (), 0.0)


def _solve(spec: Spec, fronts: dict[str, list[FrontierPoint]], extra: float) -> tuple[float, dict[str, int]] | None:
    result = split_slo(spec.app, {m: as_arrays(f) for m, f in fronts.items()}, spec.app.slo_ms, spec.app.hop_ms)
    return None if result is None else (result[0] + extra, result[1])


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
    cache: dict[tuple[str, Config, float], list[FrontierPoint]] = {}
    floor: dict[tuple[str, Config, float], float] = {}
    while True:
        taken = {m for b in bins for m, _ in b.slots}
        paid = sum(x.price_per_hour for x in bins)
        cheapest = sum(f[-1].cost_per_hour for f in fronts.values())
        # a bin can win only if paid + price + cheapest - gain < best_cost
        candidates = _candidate_bins(spec, configs, caps, fronts, taken, cheapest + paid - best_cost, utilization,
                                     MAX_BIN if len(configs) <= GREEDY_TRIPLES_MAX_MODULES else 2)
        candidates.sort(key=lambda t: -(t[0] - t[1].price_per_hour))
        if not small:
            exact = False
            candidates = candidates[:MAX_SOLVED[6] if len(configs) <= 6 else MAX_SOLVED_LARGE]
        round_best = None
        for gain, b in candidates:
            if paid + b.price_per_hour + cheapest - gain >= best_cost * (1 - 1e-12) - 1e-12:
                break  # sorted by bound: no later bin can win either
            # sharper bound: each member's exact cheapest cost with its slot, at its largest budget
            for m, c in b.slots:
                key = (m, c, b.cycle_ms)
                if key not in floor:
                    floor[key] = cheapest_cost(configs[m], spec.app.module_rate(m), utilization[m], caps[m],
                                               Slot(c, b.cycle_ms))
            members = dict(b.slots)
            bound = paid + b.price_per_hour + sum(
                floor[(m, members[m], b.cycle_ms)] if m in members else f[-1].cost_per_hour for m, f in fronts.items())
            if bound >= best_cost * (1 - 1e-12) - 1e-12:
                continue
            trial = dict(fronts)
            for m, c in b.slots:
                key = (m, c, b.cycle_ms)
                if key not in cache:
                    cache[key] = module_frontier(configs[m], spec.app.module_rate(m), utilization[m], caps[m],
                                                 Slot(c, b.cycle_ms))
                trial[m] = cache[key]
            if any(not f for f in trial.values()):
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
