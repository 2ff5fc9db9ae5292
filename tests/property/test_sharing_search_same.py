"""The sharing search's shortcuts (issue 11's speed work) change nothing it returns.

Each shortcut is checked against the plain computation it replaces, on random instances:
  * SlotFloors' tables against `cheapest_cost` solved directly, slot by slot (same float);
  * `ranked_bins`' best-first walk against listing every bin depth first and sorting (same bins,
    same order, ties included);
  * the bin bounds (reach, rooms, frontier gain) against a search that solves every bin the
    floor bound lets through (same cost, same shared workers, same frontier points).
"""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skinflint.model import leq
from skinflint.planners.base import PlanOptions
from skinflint.planners.solve import sharing
from skinflint.planners.solve.bounds import budget_caps, configs_by_module, smallest_feasible_slo
from skinflint.planners.solve.candidates import Bin, member, ranked_bins
from skinflint.planners.solve.floors import SlotFloors
from skinflint.planners.solve.frontier import Slot, cached_frontier, cheapest_cost, module_frontier
from skinflint.testing.instances import random_spec

BATCHES = [1, 2, 4, 8, 16, 32, 64, 128]
SLOW = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def specs(draw, modules: tuple[int, int] = (2, 6)):  # noqa: ANN001, ANN201
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n = draw(st.integers(*modules))
    spec = random_spec(rng, n, draw(st.integers(1, 4)), BATCHES, rate=draw(st.sampled_from([50.0, 200.0, 1000.0, 3000.0])),
                       slo_ms=1e9, base_ms=(2, 30), p_edge=draw(st.sampled_from([0.2, 0.4, 0.7])))
    least = smallest_feasible_slo(spec, configs_by_module(spec))
    return replace(spec, app=replace(spec.app, slo_ms=least * draw(st.floats(1.05, 5.0))))


def _setup(spec):  # noqa: ANN001, ANN202
    configs = configs_by_module(spec)
    caps = budget_caps(spec, configs)
    u = PlanOptions().utilizations(configs)
    fronts = {m: list(cached_frontier(tuple(cs), spec.app.module_rate(m), u[m], caps[m])) for m, cs in configs.items()}
    return configs, caps, u, fronts


@SLOW
@given(specs(), st.data())
def test_slot_floors_are_cheapest_cost(spec, data) -> None:  # noqa: ANN001
    configs, caps, u, _ = _setup(spec)
    for m, cs in configs.items():
        rate = spec.app.module_rate(m)
        floors = SlotFloors(cs, rate, u[m], caps[m])
        for _ in range(8):
            c = data.draw(st.sampled_from(cs))
            cycle = c.latency_ms + data.draw(st.sampled_from([0.0, 1.0, 5.0, 30.0, 120.0]))
            assert floors.cheapest(Slot(c, cycle)) == cheapest_cost(cs, rate, u[m], caps[m], Slot(c, cycle))


def _listing(spec, configs, caps, fronts, threshold, u, max_bin):  # noqa: ANN001, ANN202
    """The bins as the search listed them before: every group depth first, then a stable sort."""
    members = {m: member(spec.app.module_rate(m), configs[m], caps[m], fronts[m][-1].cost_per_hour) for m in configs}
    out = []
    for hw in spec.hardware:
        price = spec.price(hw)
        gains = {m: sorted(((members[m].gain(c, c.latency_ms, u[m]), c) for c in configs[m]
                            if c.hardware == hw and leq(c.worst_latency_ms, caps[m])), key=lambda t: -t[0])
                 for m in configs if members[m] is not None}
        gains = {m: g for m, g in gains.items() if g}
        for size in range(2, max_bin + 1):
            for group in itertools.combinations(list(gains), size):
                rest = [sum(gains[m][0][0] for m in group[i:]) for i in range(size + 1)]
                if rest[0] <= threshold + price:
                    continue

                def walk(i, acc, chosen, t_s):  # noqa: ANN001, ANN202
                    if any(not leq(c.worst_latency_ms + t_s, caps[m]) for m, c in zip(group, chosen)):
                        return
                    if i == size:
                        gain = sum(members[m].gain(c, t_s, u[m]) for m, c in zip(group, chosen))
                        if gain > threshold + price:
                            out.append((gain, Bin(hw, price, tuple(zip(group, chosen)))))
                        return
                    for g, c in gains[group[i]]:
                        if acc + g + rest[i + 1] <= threshold + price:
                            break
                        walk(i + 1, acc + g, chosen + (c,), t_s + c.latency_ms)

                walk(0, 0.0, (), 0.0)
    out.sort(key=lambda t: -(t[0] - t[1].price_per_hour))
    return out


@SLOW
@given(specs(), st.sampled_from([2, 3]), st.floats(-3.0, 1.0))
def test_ranked_bins_are_the_sorted_listing(spec, max_bin, shift) -> None:  # noqa: ANN001
    configs, caps, u, fronts = _setup(spec)
    cheapest = sum(f[-1].cost_per_hour for f in fronts.values())
    threshold = shift * cheapest / 10
    expected = _listing(spec, configs, caps, fronts, threshold, u, max_bin)
    got = list(ranked_bins(spec, configs, caps, fronts, set(), threshold, u, max_bin))
    assert got == expected


def _floor_only(self, b, fronts, paid, start, best):  # noqa: ANN001, ANN202
    """The bin filter before the bin bounds: the members' floors at their caps, nothing else."""
    members = dict(b.slots)
    bound = paid + b.price_per_hour + sum(self._floor(m, members[m], b.cycle_ms) if m in members else f[-1].cost_per_hour
                                          for m, f in fronts.items())
    if bound >= best * (1 - 1e-12) - 1e-12:
        return None
    trial = dict(fronts)
    for m, c in b.slots:
        trial[m] = module_frontier(self.configs[m], self.spec.app.module_rate(m), self.u[m], self.caps[m], Slot(c, b.cycle_ms))
        if not trial[m]:
            return None
    return trial


@SLOW
@given(specs((3, 6)))
def test_bin_bounds_keep_the_search(spec) -> None:  # noqa: ANN001
    configs, caps, u, fronts = _setup(spec)
    got = sharing.with_shared_workers(spec, configs, caps, fronts, u)
    plain = sharing._Trials.trial
    try:
        sharing._Trials.trial = _floor_only
        expected = sharing.with_shared_workers(spec, configs, caps, fronts, u)
    finally:
        sharing._Trials.trial = plain
    assert got.bins == expected.bins
    assert got.points == expected.points
    assert got.cost_per_hour == expected.cost_per_hour
