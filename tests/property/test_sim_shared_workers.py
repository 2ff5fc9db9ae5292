"""Shared workers (MODEL.md, "Shared workers") in simulation: on random applications whose
default plan co-locates residuals on shared workers, uniform arrivals at the planned rate (any
phase) keep every item's promise — a shared slot's W = 1000 (b - 1) / r + T_s + d — and the SLO."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

import skinflint
from skinflint.planners import PlanOptions
from skinflint.sim import promise_violations, simulate
from skinflint.sim.fidelity import settling_requests
from tests.strategies import specs


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(spec=specs(max_modules=4, fanout=False), utilization=st.sampled_from((1.0, 0.9)), phase=st.floats(0.0, 0.999),
       engine=st.sampled_from(("event", "vector")))
def test_shared_workers_keep_every_promise(spec, utilization, phase, engine) -> None:  # noqa: ANN001
    plan = skinflint.plan_spec(spec, options=PlanOptions(utilization=utilization))
    assume(plan.shared_workers and not plan.pools)
    event(f"shared workers: {len(plan.shared_workers)}, slots: {sum(len(s.slots) for s in plan.shared_workers)}")
    gap = 1000.0 / plan.rate
    n = settling_requests(plan)   # six of every cycle, shared ones included, and the SLO
    arrivals = phase * gap + np.arange(n) * gap
    result = simulate(plan, spec, arrivals, n * gap / 1000.0, np.random.default_rng(0), engine=engine)
    assert result.completed == result.requests
    assert any(w["module"] == "(shared)" and w["batches"] > 0 for w in result.worker_stats())
    assert promise_violations(result) == []
