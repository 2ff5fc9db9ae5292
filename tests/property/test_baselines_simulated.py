"""Every plan of every registered planner is confirmed in simulation: under uniform arrivals at the
planned rate (random phase), no item finishes after its module's promised worst latency and no
request after the SLO (`sim.promise_violations`), on random small applications: the baseline
instances (shapes single .. diamond, SLOs 0.8-5 x the sum of 2 d(1)) and tests.strategies.specs
(fan-out factors up to 3, joins, several entries, SLOs 1-3 x the least feasible).

Fan-out: a request's items reach a module together, not spread over the uniform stream that W
assumes, so every plan here is made with `fanout_lag=True` (`model.fanout_lag_ms`; zero for
modules whose rate factor is 1/q, so plans without fan-out are the default ones). An instance
that fits MODEL.md's W but not W + lag is skipped like any infeasible one.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from skinflint.errors import InfeasibleError
from skinflint.planners import PlanOptions, available, get_planner
from skinflint.sim import promise_violations, simulate
from skinflint.sim.fidelity import settling_requests
from skinflint.verify import verify

from tests.strategies import specs

from .baseline_instances import SHAPES, random_instance

instances = st.builds(
    lambda seed, shape, n_hw, rate, factor, hop, monotone: random_instance(
        np.random.default_rng(seed), shape, n_hw, rate=rate, slo_factor=factor, hop_ms=hop, monotone=monotone),
    st.integers(0, 2**32 - 1), st.sampled_from(SHAPES), st.integers(1, 3),
    st.sampled_from([3.0, 20.0, 150.0, 900.0]), st.floats(0.8, 5.0), st.sampled_from([0.0, 1.5]),
    st.booleans())


@settings(max_examples=230, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(instances, specs()), st.sampled_from([1.0, 1.0, 0.85]), st.floats(0.0, 0.999))
def test_every_plan_of_every_planner_keeps_its_promises_in_simulation(spec, u, phase):
    planned = 0
    for name in available():
        if getattr(get_planner(name), "plans_for_traffic", False):
            continue   # inferline promises no worst latency: its tail is simulated (tests/unit/test_inferline.py)
        try:
            plan = get_planner(name).plan(spec, PlanOptions(utilization=u, fanout_lag=True))
        except InfeasibleError:
            event(f"{name} infeasible")
            continue
        planned += 1
        assert verify(plan, spec) == [], name
        gap = 1000.0 / plan.rate
        n = settling_requests(plan)  # every worker goes round its cycle several times
        result = simulate(plan, spec, phase * gap + np.arange(n) * gap, n * gap / 1000.0, np.random.default_rng(0))
        assert result.completed == result.requests, name
        assert promise_violations(result) == [], name
        event(f"{name} confirmed" + (" (round-robin shared slots)" if any(
            s.share_rate is not None for sw in plan.shared_workers for s in sw.slots) else ""))
    assume(planned > 0)   # an instance no planner can meet tests nothing: draw another (230 examples that
    #                       plan: as many as the 300 drawn before, a quarter of which no planner met)
