"""Every baseline's plans pass verify on many small random instances, and the exact planner is
never costlier than the baselines it provably dominates (naive, Harpagon without merging)."""

from __future__ import annotations

import numpy as np
from .baseline_instances import SHAPES, random_instance
from hypothesis import given, settings
from hypothesis import strategies as st

from skinflint.errors import InfeasibleError
from skinflint.planners import PlanOptions, get_planner
from skinflint.planners.harpagon import HarpagonPlanner
from skinflint.planners.nexus import NexusPlanner
from skinflint.verify import verify

BASELINES = {"nexus": get_planner("nexus"), "harpagon": get_planner("harpagon"), "naive": get_planner("naive"),
             "nexus-no-merge": NexusPlanner(merge=False),
             "harpagon-no-merge": HarpagonPlanner("harpagon-no-merge", merge=False)}
TOL = 1e-9

instances = st.builds(
    lambda seed, shape, n_hw, rate, factor, hop, monotone: random_instance(
        np.random.default_rng(seed), shape, n_hw, rate=rate, slo_factor=factor, hop_ms=hop, monotone=monotone),
    st.integers(0, 2**32 - 1), st.sampled_from(SHAPES), st.integers(1, 3),
    st.sampled_from([3.0, 20.0, 150.0, 900.0, 4000.0]), st.floats(0.8, 5.0), st.sampled_from([0.0, 1.5]),
    st.booleans())


def _plan(planner, spec, u):  # noqa: ANN001, ANN202
    try:
        return planner.plan(spec, PlanOptions(utilization=u))
    except InfeasibleError:
        return None


@settings(max_examples=300, deadline=None)
@given(instances, st.sampled_from([1.0, 1.0, 0.85]))
def test_every_baseline_plan_is_valid_and_the_exact_plan_is_no_dearer(spec, u):
    optimal = _plan(get_planner("optimal"), spec, u)
    plans = {name: _plan(p, spec, u) for name, p in BASELINES.items()}
    for name, plan in plans.items():
        if plan is not None:
            assert verify(plan, spec) == [], name
    if optimal is None:  # nothing meets the SLO, so no baseline may claim a plan
        assert all(p is None for p in plans.values())
        return
    assert plans["harpagon"] is not None  # Harpagon is feasible wherever the exact planner is
    for name in ("naive", "harpagon-no-merge"):
        if plans[name] is not None:
            assert optimal.cost_per_hour <= plans[name].cost_per_hour * (1 + TOL), name
    # the latency reassigner: without merging, every Harpagon budget is what its groups use
    for m in plans["harpagon-no-merge"].modules:
        assert abs(m.budget_ms - m.worst_latency_ms) <= TOL * max(1.0, m.budget_ms)
    # merging only ever removes workers
    for merged, alone in (("nexus", "nexus-no-merge"), ("harpagon", "harpagon-no-merge")):
        if plans[merged] is not None:
            assert plans[merged].cost_per_hour <= plans[alone].cost_per_hour * (1 + TOL)
