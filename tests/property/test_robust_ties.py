"""The exact planner's tie-break against brute force: of the plans of least cost, the least busy
(lowest peak busy fraction), then the one with the largest margin to the SLO (docs/planner.md).

The brute force (skinflint.testing.brute) enumerates every worker count and every combination
of the modules' options; the split methods are checked on random fronts with few distinct
costs, so that ties are the rule. Dropping the peaks from the frontiers (as_arrays) makes the
first test fail on the bundled app's kind of tie (same workers, larger batch)."""

from __future__ import annotations

import itertools
import math
from dataclasses import replace

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skinflint.api import plan_spec
from skinflint.errors import InfeasibleError
from skinflint.planners import PlanOptions
from skinflint.planners.solve import split
from skinflint.planners.solve.bounds import configs_by_module, smallest_feasible_slo
from skinflint.planners.solve.robustness import plan_margin, plan_peak
from skinflint.spec.types import App, Module
from skinflint.testing.brute import brute_force
from skinflint.testing.instances import random_dag, random_spec
from skinflint.verify import verify


@st.composite
def instances(draw):  # noqa: ANN001, ANN201
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n_modules = draw(st.integers(1, 4))
    n_hw = draw(st.integers(1, 2))
    sizes = sorted(draw(st.sets(st.sampled_from([1, 2, 4, 8]), min_size=1, max_size=3 if n_modules < 4 else 2)))
    spec = random_spec(rng, n_modules, n_hw, sizes, rate=draw(st.sampled_from([5.0, 10.0, 20.0])), slo_ms=1.0,
                       hop_ms=draw(st.sampled_from([0.0, 1.5])), base_ms=(2.0, 25.0),
                       p_edge=draw(st.sampled_from([0.3, 0.6, 0.9])))
    least = smallest_feasible_slo(spec, configs_by_module(spec))
    spec = replace(spec, app=replace(spec.app, slo_ms=least * draw(st.sampled_from([1.0, 1.3, 2.0, 4.0]))))
    return spec, draw(st.sampled_from([1.0, 0.8]))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_cheapest_then_least_busy_then_widest_margin(case) -> None:  # noqa: ANN001
    spec, u = case
    expected = brute_force(spec, u)
    try:
        plan = plan_spec(spec, options=PlanOptions(utilization=u, sharing=False))
    except InfeasibleError:
        assert expected is None
        return
    assert verify(plan, spec) == []
    assert math.isclose(plan.cost_per_hour, expected.cost, rel_tol=1e-9, abs_tol=1e-9)
    assert math.isclose(plan_peak(plan), expected.peak, rel_tol=1e-9, abs_tol=1e-9), (plan_peak(plan), expected)
    assert math.isclose(plan_margin(plan, spec.app), spec.app.slo_ms - expected.longest_ms, abs_tol=1e-6)


@st.composite
def tied_fronts(draw):  # noqa: ANN001, ANN201
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n = draw(st.integers(1, 5))
    parents = random_dag(rng, n, draw(st.sampled_from([0.3, 0.6, 0.9])))
    app = App("x", 1.0, 1.0, tuple(Module(f"m{i}", "x", parents[i]) for i in range(n)))
    fronts = {}
    for i in range(n):
        k = int(rng.integers(1, 6))
        lat = np.sort(rng.choice(np.arange(1, 30), size=k, replace=False)).astype(float)
        cost = np.sort(rng.choice([1.0, 2.0, 3.0], size=k))[::-1].copy()  # few costs: ties everywhere
        fronts[f"m{i}"] = (lat, cost, rng.choice([0.5, 0.7, 0.9, 1.0], size=k))
    return app, fronts, float(draw(st.integers(1, 90))), draw(st.sampled_from([0.0, 1.0]))


def brute_split(app: App, fronts, slo: float, hop: float) -> tuple[float, float, float] | None:  # noqa: ANN001
    names = [m.name for m in app.modules]
    best = None
    for combo in itertools.product(*(range(fronts[n][0].size) for n in names)):
        longest = max(sum(fronts[m][0][combo[names.index(m)]] + hop for m in p) for p in app.paths())
        if longest <= slo + 1e-9:
            key = (sum(fronts[n][1][i] for n, i in zip(names, combo)),
                   max(fronts[n][2][i] for n, i in zip(names, combo)), longest)
            best = key if best is None or key < best else best
    return best


@settings(max_examples=300, deadline=None)
@given(tied_fronts())
def test_split_methods_break_ties_as_brute_force(case) -> None:  # noqa: ANN001
    app, fronts, slo, hop = case
    expected = brute_split(app, fronts, slo, hop)
    leaves = {m: split._leaf(m, f[0] + hop, f[1], f[2]) for m, f in fronts.items()}
    got = [split.split_slo(app, fronts, slo, hop), split._live_cut_dp(app, leaves, slo), split._milp(app, leaves, slo)]
    if expected is None:
        assert all(g is None for g in got)
        return
    for result in got:
        _, pick = result
        key = (sum(fronts[m][1][i] for m, i in pick.items()), max(fronts[m][2][i] for m, i in pick.items()),
               max(sum(fronts[m][0][pick[m]] + hop for m in p) for p in app.paths()))
        assert math.isclose(key[0], expected[0]) and math.isclose(key[1], expected[1]), (key, expected)
        assert key[2] <= expected[2] + 1e-9, (key, expected)
