"""Shared workers: the default planner against a brute force that includes shared workers.

For two or three modules at most one shared worker can serve two or more modules, so the brute
force enumerates: no shared worker, or one on each hardware type with a slot config for each
member; then every dedicated worker count of every module, checked with MODEL.md's rules
(cycle with the slot as one more worker, T_s <= T_m, slot W = 1000 (b-1)/r + T_s + d + the fan-out
lag 1000 (1 - 1/p) / rate, which the configs' own W carry too), and every
feasible combination of the resulting budgets over the DAG's paths.
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


def module_options(configs, rate: float, u: float, slot: tuple[model.Config, float] | None,  # noqa: ANN001, ANN201
                   lag: float = 0.0):
    """Pareto list of (least budget needed, dedicated cost) over all worker counts."""
    bound = [math.ceil(rate * max(c.latency_ms for c in configs) / (1000 * u) / c.batch_size) + 1 for c in configs]
    best: dict[float, float] = {}
    for ns in itertools.product(*(range(k + 1) for k in bound)):
        used = [c for c, n in zip(configs, ns) if n]
        total = sum(n * c.batch_size for c, n in zip(configs, ns)) + (slot[0].batch_size if slot else 0)
        if total == 0:
            continue
        cycle = 1000.0 * total / rate
        slowest = max([c.latency_ms for c in used] + ([slot[0].latency_ms] if slot else []))
        if slowest > u * cycle * (1 + EPS):
            continue
        worst = [c.worst_latency_ms for c in used]
        if slot:
            c, t_s = slot
            if t_s > cycle * (1 + EPS):
                continue
            worst.append(1000.0 * (c.batch_size - 1) / rate + t_s + c.latency_ms + lag)  # + the fan-out lag
        need, cost = max(worst), sum(n * c.price_per_hour for c, n in zip(configs, ns))
        best[need] = min(best.get(need, math.inf), cost)
    return sorted(best.items())


def brute_force(spec, u: float) -> float:  # noqa: ANN001
    app = spec.app
    cfg = {m.name: model.module_configs(spec, m.name, app.module_rate(m.name)) for m in app.modules}
    structures: list[dict[str, tuple[model.Config, float]] | None] = [None]
    names = [m.name for m in app.modules]
    for hw in spec.hardware:
        for size in range(2, len(names) + 1):
            for members in itertools.combinations(names, size):
                for combo in itertools.product(*([c for c in cfg[m] if c.hardware == hw] for m in members)):
                    t_s = sum(c.latency_ms for c in combo)
                    structures.append({m: (c, t_s) for m, c in zip(members, combo)} | {"__hw__": hw})
    best = math.inf
    for s in structures:
        extra = spec.price(s["__hw__"]) if s else 0.0
        opts = {m: module_options(cfg[m], app.module_rate(m), u, s.get(m) if s else None,
                                  model.fanout_lag_ms(app.module(m).rate_factor, app.rate)) for m in names}
        for combo in itertools.product(*(opts[m] for m in names)):
            budget = {m: o[0] for m, o in zip(names, combo)}
            if max(sum(budget[m] + app.hop_ms for m in p) for p in app.paths()) <= app.slo_ms * (1 + EPS):
                best = min(best, extra + sum(o[1] for o in combo))
    return best


@st.composite
def instances(draw):  # noqa: ANN001, ANN201
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n_modules = draw(st.integers(2, 3))
    n_hw = draw(st.integers(1, 2))
    sizes = sorted(draw(st.sets(st.sampled_from([1, 2, 4]), min_size=1, max_size=2)))
    rate = draw(st.sampled_from([2.0, 5.0, 10.0, 20.0]))
    u = draw(st.sampled_from([1.0, 0.8]))
    spec = random_spec(rng, n_modules, n_hw, sizes, rate=rate, slo_ms=1.0, hop_ms=draw(st.sampled_from([0.0, 1.0])),
                       base_ms=(2.0, 30.0), p_edge=draw(st.sampled_from([0.3, 0.9])))
    return spec, u, draw(st.sampled_from([1.0, 1.3, 2.0, 4.0, 10.0]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_sharing_equals_brute_force(case) -> None:  # noqa: ANN001
    spec, u, slack = case
    from skinflint.planners.solve.bounds import configs_by_module, smallest_feasible_slo

    spec = replace(spec, app=replace(spec.app, slo_ms=smallest_feasible_slo(spec, configs_by_module(spec)) * slack))
    expected = brute_force(spec, u)
    try:
        plan = plan_spec(spec, options=PlanOptions(utilization=u))
    except InfeasibleError:
        assert expected == math.inf
        return
    assert verify(plan, spec) == []
    dedicated = plan_spec(spec, options=PlanOptions(utilization=u, sharing=False))
    assert plan.cost_per_hour <= dedicated.cost_per_hour * (1 + EPS)
    assert math.isclose(plan.cost_per_hour, expected, rel_tol=1e-9, abs_tol=1e-9), (plan.cost_per_hour, expected)
