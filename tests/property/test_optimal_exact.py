"""The exact planner against an independent brute force on many small random instances.

The brute force knows nothing of the planner's shortcuts (largest batch per hardware, the
exchange argument, frontiers, series-parallel reduction): it enumerates every worker count of
every configuration and every combination of candidate budgets, straight from MODEL.md.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import replace

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skinflint import model
from skinflint.api import plan_spec
from skinflint.errors import InfeasibleError
from skinflint.planners import PlanOptions
from skinflint.testing.instances import random_spec
from skinflint.verify import verify

EPS = 1e-9


def brute_module_costs(configs: list[model.Config], rate: float, u: float) -> dict[float, float]:
    """Least cost at every candidate budget (each config's W), by enumerating worker counts."""
    max_d = max(c.latency_ms for c in configs)
    bound = [math.ceil(rate * max_d / (1000 * u) / c.batch_size) + 1 for c in configs]
    out = {}
    for budget in sorted({c.worst_latency_ms for c in configs}):
        eligible = [i for i, c in enumerate(configs) if c.worst_latency_ms <= budget + EPS]
        best = math.inf

        def search(k: int, cost: float, cover: int, slowest: float) -> None:
            nonlocal best
            if cost >= best - 1e-12:
                return
            if k == len(eligible):
                if cover > 0 and slowest <= u * 1000 * cover / rate * (1 + EPS):
                    best = cost
                return
            c = configs[eligible[k]]
            for n in range(bound[eligible[k]] + 1):
                search(k + 1, cost + n * c.price_per_hour, cover + n * c.batch_size,
                       max(slowest, c.latency_ms) if n else slowest)

        search(0, 0.0, 0, 0.0)
        out[budget] = best
    return out


def brute_force(spec, u: float) -> tuple[float, float]:  # noqa: ANN001
    """(least cost, smallest feasible SLO) over all budget combinations and all paths."""
    app = spec.app
    costs = {m.name: brute_module_costs(model.module_configs(spec, m.name, app.module_rate(m.name)),
                                        app.module_rate(m.name), u) for m in app.modules}
    names = [m.name for m in app.modules]
    paths = app.paths()
    best, least_slo = math.inf, math.inf
    for combo in itertools.product(*(sorted(costs[n]) for n in names)):
        budget = dict(zip(names, combo))
        longest = max(sum(budget[m] + app.hop_ms for m in p) for p in paths)
        least_slo = min(least_slo, longest)
        if longest <= app.slo_ms * (1 + EPS):
            best = min(best, sum(costs[n][budget[n]] for n in names))
    return best, least_slo


@st.composite
def instances(draw):  # noqa: ANN001, ANN201
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    n_modules = draw(st.integers(1, 4))
    n_hw = draw(st.integers(1, 4))
    sizes = sorted(draw(st.sets(st.sampled_from([1, 2, 3, 4, 6, 8]), min_size=1, max_size=3 if n_hw < 3 else 2)))
    rate = draw(st.sampled_from([5.0, 20.0, 50.0, 120.0]))
    hop = draw(st.sampled_from([0.0, 0.0, 1.5]))
    u = draw(st.sampled_from([1.0, 1.0, 0.8]))
    spec = random_spec(rng, n_modules, n_hw, sizes, rate=rate, slo_ms=1.0, hop_ms=hop, base_ms=(2.0, 25.0),
                       p_edge=draw(st.sampled_from([0.3, 0.6, 0.9])))
    slack = draw(st.sampled_from([0.8, 1.0, 1.1, 1.5, 3.0]))  # < 1 is infeasible
    return spec, u, slack


@settings(max_examples=320, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_optimal_equals_brute_force(case) -> None:  # noqa: ANN001
    spec, u, slack = case
    _, least_slo = brute_force(replace(spec, app=replace(spec.app, slo_ms=1e12)), u)
    spec = replace(spec, app=replace(spec.app, slo_ms=least_slo * slack))
    expected, _ = brute_force(spec, u)
    try:
        plan = plan_spec(spec, options=PlanOptions(utilization=u, sharing=False, pools=False))
    except InfeasibleError as e:
        assert expected == math.inf, f"planner found no plan but brute force costs {expected}"
        assert math.isclose(e.min_slo_ms, least_slo, rel_tol=1e-9), (e.min_slo_ms, least_slo)
        return
    assert verify(plan, spec) == []
    assert math.isclose(plan.cost_per_hour, expected, rel_tol=1e-9, abs_tol=1e-9), (plan.cost_per_hour, expected)
    assert plan.lower_bound_per_hour <= plan.cost_per_hour * (1 + 1e-9)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_each_lever_never_costs_more(case) -> None:  # noqa: ANN001
    """optimal <= even-split <= even-split-single <= naive wherever each finds a plan."""
    spec, u, slack = case
    _, least_slo = brute_force(replace(spec, app=replace(spec.app, slo_ms=1e12)), u)
    spec = replace(spec, app=replace(spec.app, slo_ms=least_slo * max(slack, 1.0) * 2))
    costs = []
    for name in ("optimal", "even-split", "even-split-single", "naive"):
        try:
            p = plan_spec(spec, planner=name, options=PlanOptions(utilization=u, sharing=False, pools=False))
            assert verify(p, spec) == []
            costs.append(p.cost_per_hour)
        except InfeasibleError:
            costs.append(math.inf)
    assert costs[0] < math.inf
    for cheaper, dearer in zip(costs, costs[1:]):
        assert cheaper <= dearer * (1 + 1e-9)
