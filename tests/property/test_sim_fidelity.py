"""Fidelity: under uniform arrivals at the planned rate, the cyclic batch-aware dispatcher keeps
every promise of every plan the planner makes (MODEL.md), on random small applications. How
long to run and what counts as a broken promise are sim.fidelity's (held to hand-worked numbers
in tests/unit/test_fidelity.py)."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

import skinflint
from skinflint.planners import PlanOptions
from skinflint.sim import promise_violations, simulate
from skinflint.sim.fidelity import settling_requests
from tests.strategies import specs


@settings(max_examples=160, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=specs(), utilization=st.sampled_from((1.0, 1.0, 0.9)), phase=st.floats(0.0, 0.999))
def test_cyclic_dispatch_keeps_every_promise(spec, utilization, phase):
    # requests' items reach a fan-out module together, so the plan must count the fan-out lag
    try:
        plan = skinflint.plan_spec(spec, options=PlanOptions(utilization=utilization, fanout_lag=True))
    except skinflint.InfeasibleError:
        event("infeasible: the drawn SLO fits MODEL.md's W but not W + the fan-out lag")
        assume(False)   # draw another (160 planned examples: as many as the 220 drawn before)
    event("planned")
    gap = 1000.0 / plan.rate
    n = settling_requests(plan)   # every worker goes round its cycle several times
    arrivals = phase * gap + np.arange(n) * gap
    result = simulate(plan, spec, arrivals, n * gap / 1000.0, np.random.default_rng(0), engine="event")
    assert result.requests == n and result.completed == n
    assert promise_violations(result) == []
