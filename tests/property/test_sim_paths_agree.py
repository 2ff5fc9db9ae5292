"""The vectorised fast path and the event-driven engine give the same trace on the same inputs."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import skinflint
from skinflint.planners import PlanOptions
from skinflint.sim import LogNormal, make_arrivals, simulate
from tests.strategies import specs


def assert_same(a, b) -> None:
    """Same fates and completions, and per item the same arrival, worker, start and end."""
    np.testing.assert_array_equal(a.trace.fate, b.trace.fate)
    np.testing.assert_allclose(a.trace.done_ms, b.trace.done_ms, rtol=0, atol=1e-6)
    for ma, mb in zip(a.trace.modules, b.trace.modules):
        np.testing.assert_array_equal(ma.item_request, mb.item_request)
        np.testing.assert_allclose(ma.ready_ms, mb.ready_ms, rtol=0, atol=1e-6)
        np.testing.assert_array_equal(ma.item_worker, mb.item_worker)
        np.testing.assert_allclose(ma.start_ms, mb.start_ms, rtol=0, atol=1e-6)
        np.testing.assert_allclose(ma.done_ms, mb.done_ms, rtol=0, atol=1e-6)
        assert sorted(ma.batch_size.tolist()) == sorted(mb.batch_size.tolist())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=specs(), kind=st.sampled_from(("uniform", "poisson", "bursty")), jitter=st.booleans(),
       seed=st.integers(0, 2**32 - 1))
def test_vector_path_equals_event_path(spec, kind, jitter, seed):
    # the vectorised path runs shared workers only without jitter (a jittered slot can overrun)
    plan = skinflint.plan_spec(spec, options=PlanOptions(sharing=not jitter))
    arrivals = make_arrivals(kind, rate=plan.rate)
    duration = 600.0 / plan.rate  # about 600 requests
    runs = [simulate(plan, spec, arrivals, duration, np.random.default_rng(seed), engine=engine,
                     jitter=LogNormal(0.1) if jitter else None) for engine in ("vector", "event")]
    assert [r.engine for r in runs] == ["vector", "event"]
    assert runs[0].requests > 0
    assert_same(*runs)
