"""The central-queue fast path (sim.central, InferLine's dispatch) with the admission fixed point
gives the event engine's trace (dispatch.central_queue) exactly: same fates, completions, item
times and workers. Random apps (fan-out, joins, several entries), random central-queue plans
(hardware, batch and replicas per module, from just enough capacity to twice that), loads from
a third of the planned rate to overload, Poisson fan-out counts and per-worker jitter. Arrival
kinds with simultaneous arrivals (uniform) are left out: where more items arrive at one instant
than a batch holds, the engine queues them in event order and the fast path in index order."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from skinflint.admission import Admission
from skinflint.dispatch import EarlyClose
from skinflint.planners import PlanOptions
from skinflint.planners.inferline import Stage, least_replicas, to_plan
from skinflint.sim import make_arrivals
from skinflint.sim.admit_check import run_with_admission
from skinflint.sim.central import run_central, supports_central
from skinflint.sim.draws import draw
from skinflint.sim.traffic_run import run_event_engine
from skinflint.topology import compile_model
from skinflint.traffic import Traffic
from tests.property.test_sim_closing import _Run
from tests.property.test_sim_paths_agree import assert_same
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
    return spec, plan


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=central_plans(), kind=st.sampled_from(("poisson", "bursty")), jitter=st.booleans(),
       fanout=st.sampled_from(("together", "poisson")), load=st.sampled_from((0.3, 0.9, 1.0, 1.4)),
       limit=st.sampled_from((None, 5)), seed=st.integers(0, 2**32 - 1))
def test_central_fast_path_with_admission_equals_the_event_engine(case, kind, jitter, fanout, load, limit, seed):
    spec, plan = case
    assert plan is not None
    sm = compile_model(plan, spec)
    assert supports_central(sm)
    rng = np.random.default_rng(seed)
    times = make_arrivals(kind, rate=plan.rate * load).times_ms(600.0 / plan.rate, rng)
    draws = draw(spec.app, Traffic(kind, fanout), times, plan.rate * load, rng, jitter)
    params = [(np.full(len(m.workers), -0.005), np.linspace(0.05, 0.15, len(m.workers))) for m in sm.modules]
    params = params if jitter else None
    close = EarlyClose(5.0)
    admission = Admission.for_model(sm, plan.rate * load, limit)
    got = run_with_admission(lambda d: run_central(sm, d, params, close), admission, draws)
    if got is None:
        event("fast path gave up (simultaneous events decide)")
        return
    trace, _, refused = got
    event(f"refused: {'some' if refused else 'none'}")
    expected = run_event_engine(plan, sm, draws, params, admission, close)
    assert_same(_Run(trace), _Run(expected))
