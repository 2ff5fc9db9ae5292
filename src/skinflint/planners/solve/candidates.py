"""Candidate shared workers for the sharing search (solve/sharing.py), best gain bound first.

The search takes bins in the order of listing every bin whose gain bound (each slot's gain in a
cycle of its own batch alone, `Member.gain`) beats the round's threshold, walked depth first
(hardware, size, group, each member's slots best first, cut where the bound no longer beats
it), then sorting by gain bound less price. It takes the first few only, so `ranked_bins` finds
them lazily: a best-first walk over partial bins whose priority bounds their bins' keys — each
slot's gain in a cycle of at least its batch plus the least batch times the bin's other members
can add — and whose ties fall back on the listing order, so that it yields the same bins in the
same order.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass
from typing import Iterator, Mapping

from skinflint.model import Config, leq
from skinflint.planners.solve.frontier import FrontierPoint
from skinflint.spec.types import Spec

Option = tuple[float, float, int, Config]  # (sharp gain bound, listed gain bound, rank in the listing, config)


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
class Member:
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


def member(rate: float, configs: list[Config], cap: float, cheapest: float) -> Member | None:
    eligible = [x for x in configs if leq(x.worst_latency_ms, cap)]
    if not eligible:
        return None
    return Member(rate, cheapest, min(x.price_per_hour / x.batch_size for x in eligible),
                  min(x.price_per_hour for x in eligible), min(x.latency_ms for x in eligible))


def _listed(members: dict[str, Member | None], configs: dict[str, list[Config]], caps: dict[str, float],
            u: Mapping[str, float], hw: str) -> dict[str, tuple[float, list[tuple[float, Config]]]]:
    """Per module, the listing's best gain bound on `hw` and its slot configs with their gain
    bounds, best first — less those that miss their cap even in a cycle of their own batch."""
    out = {}
    for m, mem in members.items():
        if mem is None:
            continue
        opts = sorted(((mem.gain(c, c.latency_ms, u[m]), c) for c in configs[m]
                       if c.hardware == hw and leq(c.worst_latency_ms, caps[m])), key=lambda t: -t[0])
        fit = [(g, c) for g, c in opts if leq(c.worst_latency_ms + c.latency_ms, caps[m])]
        if fit:
            out[m] = (opts[0][0], fit)
    return out


def _sharp(members: dict[str, Member | None], listed: dict[str, tuple[float, list[tuple[float, Config]]]],
           caps: dict[str, float], u: Mapping[str, float], size: int) -> dict[str, list[Option]]:
    """Per module, its options in bins of `size` on this hardware, best sharp bound first: gain
    and cap taken in a cycle of the slot's batch plus the size - 1 least batch times of the others."""
    least = {m: min(c.latency_ms for _, c in opts) for m, (_, opts) in listed.items()}
    out = {}
    for m, (_, opts) in listed.items():
        others = sorted(t for x, t in least.items() if x != m)[:size - 1]
        add = sum(others) * (1 - 1e-9)  # a shade less than those batch times
        mem = members[m]
        sharp = [(mem.gain(c, c.latency_ms + add, u[m]), g, rank, c) for rank, (g, c) in enumerate(opts)  # type: ignore[union-attr]
                 if leq(c.worst_latency_ms + c.latency_ms + add, caps[m])]
        if sharp:
            out[m] = sorted(sharp, key=lambda t: -t[0])
    return out


_ROOT = object()  # a heap entry's mark: a group not built yet


def _above(key: float) -> float:
    """A little above `key`: a bound stays above the keys it bounds, summed in another order."""
    return key + 1e-9 * max(1.0, abs(key))


@dataclass(frozen=True)
class _Group:
    """Modules that might share one worker of `hw`: per member its options (`_sharp`) and the
    least rank from each option on, per member on the sums of the listing's best bounds
    (`listed_rest`, the listing's cut), of the best sharp bounds and of the least batch times
    still to come, and `need`, the gain a bin must exceed (the round's threshold plus the price)."""

    hw: str
    price: float
    modules: tuple[str, ...]
    options: tuple[list[Option], ...]
    least_rank: tuple[tuple[int, ...], ...]
    listed_rest: tuple[float, ...]
    sharp_rest: tuple[float, ...]
    least_rest_ms: tuple[float, ...]
    need: float

    def advance(self, node: tuple, k: int, members: dict[str, Member | None], caps: dict[str, float],
                u: Mapping[str, float]) -> list[tuple]:
        """Heap entries for a cursor at option k of `node`'s next member: its first option from k
        on that the listing would walk and that fits the caps, and a cursor at the option after
        it. An option's entry is a partial bin while members remain (priority: its key bound),
        else a complete bin whose gain, bounded again with its own cycle T_s, exceeds `need`
        (priority: its key). Entries are ordered by priority, then place in the listing."""
        order, i, listed, sharp_acc, chosen, t_s = node
        options, last = self.options[i], i + 1 == len(self.modules)
        ahead = self.least_rest_ms[i + 1] * (1 - 1e-9)  # a shade less than the batch times to come
        for k in range(k, len(options)):
            sharp, g, rank, c = options[k]
            bound = sharp_acc + sharp + self.sharp_rest[i + 1]
            if _above(bound) <= self.need:
                return []  # sorted by sharp bound: no later option can pass
            if listed + g + self.listed_rest[i + 1] <= self.need:
                continue  # the listing cuts it
            picks, cycle = chosen + (c,), t_s + c.latency_ms
            # T_s only grows as members are added: a slot that already misses its cap stays missed
            if any(not leq(x.worst_latency_ms + cycle + ahead, caps[m]) for m, x in zip(self.modules, picks)):  # rule 3
                continue
            out = self._cursor(node, k + 1)
            if not last:
                at_least = sum(members[m].gain(x, cycle + ahead, u[m]) for m, x in zip(self.modules, picks))  # type: ignore[union-attr]
                key = min(bound, at_least + self.sharp_rest[i + 1]) - self.price
                child = (order + (rank,), i + 1, listed + g, sharp_acc + sharp, picks, cycle)
                out.append((-_above(key), order + (rank, 0), self, (child, 0)))
                return out
            gain = sum(members[m].gain(x, cycle, u[m]) for m, x in zip(self.modules, picks))  # type: ignore[union-attr]
            if gain > self.need:
                out.append((-(gain - self.price), order + (rank,), None,
                            (gain, Bin(self.hw, self.price, tuple(zip(self.modules, picks))))))
            return out
        return []

    def _cursor(self, node: tuple, k: int) -> list[tuple]:
        """The heap entry of a cursor at option k of `node`'s next member (none past the cut)."""
        order, i, _, sharp_acc, _, _ = node
        options = self.options[i]
        if k == len(options):
            return []
        bound = sharp_acc + options[k][0] + self.sharp_rest[i + 1]
        if _above(bound) <= self.need:
            return []
        return [(-_above(bound - self.price), order + (self.least_rank[i][k],), self, (node, k))]


def _group(hw: str, price: float, modules: tuple[str, ...], tops: dict[str, float],
           options: dict[str, list[Option]], need: float) -> _Group:
    least_rank = tuple(tuple(itertools.accumulate(reversed([o[2] for o in options[m]]), min))[::-1] for m in modules)
    return _Group(hw, price, modules, tuple(options[m] for m in modules), least_rank,
                  tuple(sum(tops[m] for m in modules[i:]) for i in range(len(modules) + 1)),
                  tuple(sum(options[m][0][0] for m in modules[i:]) for i in range(len(modules) + 1)),
                  tuple(sum(min(o[3].latency_ms for o in options[m]) for m in modules[i:]) for i in range(len(modules) + 1)),
                  need)


def ranked_bins(spec: Spec, configs: dict[str, list[Config]], caps: dict[str, float],
                fronts: dict[str, list[FrontierPoint]], taken: set[str], threshold: float,
                u: Mapping[str, float], max_bin: int) -> Iterator[tuple[float, Bin]]:
    """(gain bound, bin) for every bin of 2..max_bin free modules on one hardware type whose
    gain bound exceeds `threshold` + its price and whose slots fit their modules' largest
    budgets, best (gain bound less price) first, equal keys in listing order, found lazily."""
    members = {m: member(spec.app.module_rate(m), configs[m], caps[m], fronts[m][-1].cost_per_hour)
               for m in configs if m not in taken}
    heap: list[tuple] = []
    for h, hw in enumerate(spec.hardware):
        price, listed = spec.price(hw), _listed(members, configs, caps, u, hw)
        tops = {m: top for m, (top, _) in listed.items()}
        for size in range(2, max_bin + 1):
            sharp = _sharp(members, listed, caps, u, size)
            for g, modules in enumerate(itertools.combinations(list(listed), size)):
                if sum(tops[m] for m in modules) <= threshold + price or any(m not in sharp for m in modules):
                    continue
                bound = sum(sharp[m][0][0] for m in modules)
                if _above(bound) > threshold + price:  # the group is built once the walk reaches it
                    heap.append((-_above(bound - price), (h, size, g), _ROOT, (hw, price, modules, tops, sharp)))
    heapq.heapify(heap)
    while heap:
        _, order, group, payload = heapq.heappop(heap)
        if group is None:
            yield payload
            continue
        if group is _ROOT:
            hw, price, modules, tops, sharp = payload
            entries = _group(hw, price, modules, tops, sharp, threshold + price)._cursor((order, 0, 0.0, 0.0, (), 0.0), 0)
        else:
            entries = group.advance(*payload, members, caps, u)
        for entry in entries:
            heapq.heappush(heap, entry)
