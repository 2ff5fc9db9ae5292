"""Shared model pools and fleet planning against a brute force, and pool rules in verify.

Two applications with one module each, running the same model: served apart (each module its
own least-cost workers) or by one pool at the combined rate R, whose groups need, for k = 2
merged streams, max d <= u 1000 (N - 1) / R and W = 1000 (b + k - 2) / R + d within both SLOs
less their hop (docs/pools.md). The brute force enumerates every worker count of every config.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import replace

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skinflint import model
from skinflint.planners import PlanOptions
from skinflint.planners.fleet import plan_fleet
from skinflint.spec.types import App, Module, Spec
from skinflint.testing.instances import random_spec
from skinflint.verify import verify_fleet

EPS = 1e-9


def least_cost(configs, rate: float, u: float, budget: float, k: int = 1) -> float:  # noqa: ANN001
    """Least cost of workers whose worst latency fits `budget` (pool rules for k streams)."""
    best = math.inf
    bound = [math.ceil(rate * max(c.latency_ms for c in configs) / (1000 * u) / c.batch_size) + k for c in configs]
    for ns in itertools.product(*(range(b + 1) for b in bound)):
        used = [c for c, n in zip(configs, ns) if n]
        if not used:
            continue
        total = sum(n * c.batch_size for c, n in zip(configs, ns))
        if max(c.latency_ms for c in used) > u * 1000.0 * (total - k + 1) / rate * (1 + EPS):
            continue
        if max(1000.0 * (c.batch_size + k - 2) / rate + c.latency_ms for c in used) > budget * (1 + EPS):
            continue
        best = min(best, sum(n * c.price_per_hour for c, n in zip(configs, ns)))
    return best


@st.composite
def fleets(draw):  # noqa: ANN001, ANN201
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    sizes = sorted(draw(st.sets(st.sampled_from([1, 2, 4, 8]), min_size=1, max_size=2)))
    base = random_spec(rng, 1, draw(st.integers(1, 2)), sizes, rate=1.0, slo_ms=1.0, base_ms=(3.0, 20.0))
    specs = []
    for name in ("a", "b"):
        rate = draw(st.sampled_from([5.0, 20.0, 60.0]))
        app = App(name, rate, 1.0, (Module("m", "model0"),), draw(st.sampled_from([0.0, 1.0])))
        specs.append(Spec(app, base.hardware, base.profiles))
    least = max(min(c.worst_latency_ms for c in model.module_configs(s, "m", s.app.rate)) + s.app.hop_ms
                for s in specs)
    specs = [replace(s, app=replace(s.app, slo_ms=least * draw(st.sampled_from([1.0, 1.5, 3.0, 8.0]))))
             for s in specs]
    return specs, draw(st.sampled_from([1.0, 0.8]))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fleets())
def test_fleet_equals_brute_force(case) -> None:  # noqa: ANN001
    specs, u = case
    apart = sum(least_cost(model.module_configs(s, "m", s.app.rate), s.app.rate, u, s.app.slo_ms - s.app.hop_ms)
                for s in specs)
    rate = sum(s.app.rate for s in specs)
    pooled = least_cost(model.module_configs(specs[0], "m", rate), rate, u,
                        min(s.app.slo_ms - s.app.hop_ms for s in specs), k=2)
    fleet = plan_fleet(specs, PlanOptions(utilization=u))
    assert verify_fleet(fleet, specs) == []
    assert math.isclose(fleet.separate_cost_per_hour, apart, rel_tol=1e-9)
    assert math.isclose(fleet.cost_per_hour, min(apart, pooled), rel_tol=1e-9), (fleet.cost_per_hour, apart, pooled)
    assert bool(fleet.pools) == (pooled < apart * (1 - 1e-12))


def test_fleet_example_saves_and_verifies() -> None:
    import warnings

    from skinflint.spec.loader import load_spec
    from tests.conftest import ROOT

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        specs = [load_spec(ROOT / "examples" / "fleet" / f"{n}.yaml") for n in ("traffic", "parking", "entrance")]
    fleet = plan_fleet(specs)
    assert verify_fleet(fleet, specs) == []
    assert fleet.pools and fleet.cost_per_hour < fleet.separate_cost_per_hour
    # mutations the pool rules must catch
    pool = fleet.pools[0]
    fewer = replace(pool, groups=(replace(pool.groups[0], workers=1),) + pool.groups[1:])
    assert any("cycle" in v for v in verify_fleet(replace(fleet, pools=(fewer,) + fleet.pools[1:]), specs))
    wrong_rate = replace(pool, rate=pool.rate / 2)
    assert any("rate" in v for v in verify_fleet(replace(fleet, pools=(wrong_rate,) + fleet.pools[1:]), specs))
    member = fleet.apps[0].modules[0]
    tight = replace(member, budget_ms=member.worst_latency_ms / 3)
    app0 = replace(fleet.apps[0], modules=(tight,) + fleet.apps[0].modules[1:])
    assert any("budget" in v for v in verify_fleet(replace(fleet, apps=(app0,) + fleet.apps[1:]), specs))
