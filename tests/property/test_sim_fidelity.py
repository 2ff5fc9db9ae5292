"""Fidelity: under uniform arrivals at the planned rate, the cyclic batch-aware dispatcher keeps
every promise of every plan the planner makes (MODEL.md), on random small applications."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import skinflint
from skinflint.planners import PlanOptions
from skinflint.sim import promise_violations, simulate
from tests.strategies import specs


def sim_duration_s(plan) -> float:
    """Long enough for every module to go round its cycle several times (>= 300 requests)."""
    longest_cycle_ms = max(sum(g.workers * g.batch_size for g in m.groups) * 1000.0 / m.rate for m in plan.modules)
    return max(300.0 / plan.rate, 6 * longest_cycle_ms / 1000.0 + plan.slo_ms / 1000.0)


@settings(max_examples=220, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=specs(), utilization=st.sampled_from((1.0, 1.0, 0.9)), phase=st.floats(0.0, 0.999))
def test_cyclic_dispatch_keeps_every_promise(spec, utilization, phase):
    # requests' items reach a fan-out module together, so the plan must count the fan-out lag
    try:
        plan = skinflint.plan_spec(spec, options=PlanOptions(utilization=utilization, fanout_lag=True))
    except skinflint.InfeasibleError:
        return  # the drawn SLO fits MODEL.md's W but not W + lag
    gap = 1000.0 / plan.rate
    duration = sim_duration_s(plan)
    arrivals = phase * gap + np.arange(int(duration * plan.rate)) * gap
    result = simulate(plan, spec, arrivals, duration, np.random.default_rng(0), engine="event")
    assert result.completed == result.requests
    assert promise_violations(result) == []
