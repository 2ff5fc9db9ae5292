"""The central-queue fast path (sim.central, InferLine's dispatch) with the admission fixed point
gives the event engine's trace (dispatch.central_queue) exactly: same fates, completions, item
times and workers. Random apps (fan-out, joins, several entries), random central-queue plans
(hardware, batch and replicas per module, from just enough capacity to twice that), loads from
a third of the planned rate to overload, Poisson fan-out counts and per-worker jitter. Arrival
kinds with simultaneous arrivals (uniform) are left out: where more items arrive at one instant
than a batch holds, the engine queues them in event order and the fast path in index order."""

from __future__ import annotations

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from skinflint.dispatch import EarlyClose
from skinflint.planners import PlanOptions
from skinflint.planners.inferline import Stage, least_replicas, to_plan
from skinflint.sim.central import run_central, supports_central
from skinflint.topology import compile_model
from tests.property.test_sim_closing import assert_fast_path_is_the_engine, random_run
from tests.strategies import specs


@st.composite
def central_plans(draw_):  # noqa: ANN001, ANN201
    """A spec and a central-queue plan of it whose batch times fit the SLO (else rejected)."""
    spec = draw_(specs())
    stages = []
    for m in spec.app.modules:
        curves = [c for c in spec.profiles.for_model(m.model) if c.hardware in spec.hardware]
        curve = draw_(st.sampled_from(curves))
        b = draw_(st.sampled_from(curve.batch_sizes))
        least = least_replicas(spec, m.name, curve.hardware, b, 1.0)
        stages.append(Stage(curve.hardware, b, draw_(st.integers(least, 2 * least))))
    plan = to_plan(spec, tuple(stages), PlanOptions())
    if plan is None:   # batch times alone miss the SLO: stretch the SLO so that the plan exists
        from dataclasses import replace
        spec = replace(spec, app=replace(spec.app, slo_ms=spec.app.slo_ms * 50))
        plan = to_plan(spec, tuple(stages), PlanOptions())
    assume(plan is not None)   # rarely even 50 x the SLO is too little (replicas' queueing): another case
    return spec, plan


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=central_plans(), kind=st.sampled_from(("poisson", "bursty")), jitter=st.booleans(),
       fanout=st.sampled_from(("together", "poisson")), load=st.sampled_from((0.3, 0.9, 1.0, 1.4)),
       limit=st.sampled_from((None, 5)), seed=st.integers(0, 2**32 - 1))
def test_central_fast_path_with_admission_equals_the_event_engine(case, kind, jitter, fanout, load, limit, seed):
    spec, plan = case
    sm = compile_model(plan, spec)
    assert supports_central(sm)
    draws, params, admission = random_run(spec, plan, sm, kind, fanout, jitter, load, limit, seed)
    close = EarlyClose(5.0)
    assert_fast_path_is_the_engine(run_central, plan, sm, draws, params, admission, close)
