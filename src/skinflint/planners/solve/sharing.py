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

import heapq
import itertools
from typing import Iterable, Iterator, Mapping
from dataclasses import dataclass

from skinflint.model import Config, leq
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


def _slot_gains(members: dict[str, "_Member | None"], configs: dict[str, list[Config]], caps: dict[str, float],
                u: Mapping[str, float], hw: str) -> dict[str, list[tuple[float, Config]]]:
    """Per module, its slot configs on `hw` with their gain bounds (T_s >= d_c alone), best
    first; a config that misses its cap even in a cycle of its own batch alone is left out."""
    gains: dict[str, list[tuple[float, Config]]] = {}
    for m, member in members.items():
        if member is None:
            continue
        opts = [(member.gain(c, c.latency_ms, u[m]), c) for c in configs[m]
                if c.hardware == hw and leq(c.worst_latency_ms, caps[m]) and leq(c.worst_latency_ms + c.latency_ms, caps[m])]
        if opts:
            gains[m] = sorted(opts, key=lambda t: -t[0])
    return gains


def _above(key: float) -> float:
    """A little above `key`: a node's bound stays above its bins' keys summed in another order."""
    return key + 1e-9 * max(1.0, abs(key))


@dataclass(frozen=True)
class _Group:
    """Modules that might share one worker of `hw`: their slot options best first
    (`_slot_gains`), per member on the sum of the best gains and of the least batch times still
    to come, and `need`, the gain a bin must exceed (the round's threshold plus the price)."""

    hw: str
    price: float
    modules: tuple[str, ...]
    gains: dict[str, list[tuple[float, Config]]]
    rest: tuple[float, ...]
    least_rest_ms: tuple[float, ...]
    need: float

    def advance(self, node: tuple, k: int, members: dict[str, "_Member | None"], caps: dict[str, float],
                u: Mapping[str, float]) -> list[tuple]:
        """Heap entries for a cursor at option k of `node`'s next member: its first option from k
        on that fits the caps, and a cursor at the option after it. Options are cut by the gain
        bound as a depth-first walk would cut them; an option's entry is a partial bin (priority:
        its key bound, the chosen slots' gains taken at the least cycle still possible) while
        members remain, else a complete bin whose gain, bounded again with its own cycle T_s,
        exceeds `need` (priority: its key). Entries are ordered by priority, then listing order."""
        order, i, acc, chosen, t_s = node
        options, last = self.gains[self.modules[i]], i + 1 == len(self.modules)
        ahead = self.least_rest_ms[i + 1] * (1 - 1e-9)  # a shade less than the batch times to come
        for k in range(k, len(options)):
            g, c = options[k]
            bound = acc + g + self.rest[i + 1]
            if bound <= self.need:
                return []  # gains are sorted: no later option does better
            picks, cycle = chosen + (c,), t_s + c.latency_ms
            # T_s only grows as members are added: a slot that already misses its cap stays missed
            if any(not leq(x.worst_latency_ms + cycle + ahead, caps[m]) for m, x in zip(self.modules, picks)):  # rule 3
                continue
            out = self._cursor(node, k + 1)
            if not last:
                sharp = sum(members[m].gain(x, cycle + ahead, u[m]) for m, x in zip(self.modules, picks))  # type: ignore[union-attr]
                key = min(bound, sharp + self.rest[i + 1]) - self.price
                out.append((-_above(key), order + (k, 0), self, ((order + (k,), i + 1, acc + g, picks, cycle), 0)))
                return out
            gain = sum(members[m].gain(x, cycle, u[m]) for m, x in zip(self.modules, picks))  # type: ignore[union-attr]
            if gain > self.need:
                out.append((-(gain - self.price), order + (k,), None, (gain, Bin(self.hw, self.price, tuple(zip(self.modules, picks))))))
            return out
        return []

    def _cursor(self, node: tuple, k: int) -> list[tuple]:
        """The heap entry of a cursor at option k of `node`'s next member (none past the cut)."""
        order, i, acc, _, _ = node
        options = self.gains[self.modules[i]]
        if k == len(options) or acc + options[k][0] + self.rest[i + 1] <= self.need:
            return []
        return [(-_above(acc + options[k][0] + self.rest[i + 1] - self.price), order + (k,), self, (node, k))]


def _ranked_bins(spec: Spec, configs: dict[str, list[Config]], caps: dict[str, float],
                 fronts: dict[str, list[FrontierPoint]], taken: set[str], threshold: float,
                 u: Mapping[str, float], max_bin: int) -> Iterator[tuple[float, Bin]]:
    """(gain bound, bin) for every bin of 2..MAX_BIN free modules on one hardware type whose
    gain bound exceeds `threshold` + its price and whose slots fit their modules' largest budgets,
    best (gain bound less price) first, equal keys in listing order (hardware, size, group,
    slots best first): found lazily, best first, so that a search taking the first few lists no more."""
    free = [m for m in configs if m not in taken]
    members = {m: _member(spec.app.module_rate(m), configs[m], caps[m], fronts[m][-1].cost_per_hour) for m in free}
    heap: list[tuple] = []
    for h, hw in enumerate(spec.hardware):
        price = spec.price(hw)
        gains = _slot_gains(members, configs, caps, u, hw)
        for size in range(2, max_bin + 1):
            for g, group in enumerate(itertools.combinations(list(gains), size)):
                rest = tuple(sum(gains[m][0][0] for m in group[i:]) for i in range(size + 1))
                if rest[0] > threshold + price:
                    least = tuple(sum(min(c.latency_ms for _, c in gains[m]) for m in group[i:]) for i in range(size + 1))
                    root = _Group(hw, price, group, gains, rest, least, threshold + price)
                    heap.append((-_above(rest[0] - price), (h, size, g, 0), root, (((h, size, g), 0, 0.0, (), 0.0), 0)))
    heapq.heapify(heap)
    while heap:
        _, _, group, payload = heapq.heappop(heap)
        if group is None:
            yield payload
            continue
        for entry in group.advance(*payload, members, caps, u):
            heapq.heappush(heap, entry)


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
        candidates: Iterable[tuple[float, Bin]] = _ranked_bins(
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
