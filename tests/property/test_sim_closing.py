"""The early-close fast path (sim.closing) and its admission fixed point (sim.admit_check) give
the event engine's trace exactly: same fates, same completions, same item times and workers.

The event engine runs every module's policy with the runtime's early close and the runtime's
admission rule request by request (sim.admission.RuntimeRule); the fast path runs a recurrence
per batch and settles admission by runs that skip the refused requests. Random plans (shared
workers included, without jitter there), loads from a third of the planned rate to overload,
Poisson fan-out counts and per-worker lognormal jitter.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import skinflint
from skinflint.admission import Admission
from skinflint.dispatch import EarlyClose
from skinflint.planners import PlanOptions
from skinflint.sim import make_arrivals
from skinflint.sim.admit_check import run_with_admission
from skinflint.sim.closing import run_closing, supports_closing
from skinflint.sim.draws import draw
from skinflint.sim.traffic_run import run_event_engine
from skinflint.topology import compile_model
from skinflint.traffic import Traffic
from tests.property.test_sim_paths_agree import assert_same
from tests.strategies import specs


class _Run:
    def __init__(self, trace) -> None:  # noqa: ANN001
        self.trace = trace


def random_run(spec, plan, sm, kind, fanout, jitter, load, limit, seed):  # noqa: ANN001, ANN201
    """About 600 requests' draws at `load` x the planned rate, per-worker jitter parameters (or
    None) and the runtime's admission rule with at most `limit` in flight."""
    rng = np.random.default_rng(seed)
    times = make_arrivals(kind, rate=plan.rate * load).times_ms(600.0 / plan.rate, rng)
    draws = draw(spec.app, Traffic(kind, fanout), times, plan.rate * load, rng, jitter)
    params = [(np.full(len(m.workers), -0.005), np.linspace(0.05, 0.15, len(m.workers))) for m in sm.modules]
    return draws, params if jitter else None, Admission.for_model(sm, plan.rate * load, limit)


def assert_fast_path_is_the_engine(runner, plan, sm, draws, params, admission, close) -> None:  # noqa: ANN001
    """`runner` under admission's fixed point gives the event engine's trace (or gives up on ties)."""
    got = run_with_admission(lambda d: runner(sm, d, params, close), admission, draws)
    if got is None:
        event("fast path gave up (simultaneous events decide)")
        return
    trace, _, refused = got
    event(f"refused: {'some' if refused else 'none'}")
    expected = run_event_engine(plan, sm, draws, params, admission, close)
    assert_same(_Run(trace), _Run(expected))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=specs(), kind=st.sampled_from(("uniform", "poisson", "bursty")), jitter=st.booleans(),
       fanout=st.sampled_from(("together", "poisson")), load=st.sampled_from((0.3, 0.9, 1.0, 1.4)),
       margin=st.sampled_from((0.0, 1.0)), limit=st.sampled_from((None, 5)), seed=st.integers(0, 2**32 - 1))
def test_fast_path_with_admission_equals_the_event_engine(spec, kind, jitter, fanout, load, margin, limit, seed):
    plan = skinflint.plan_spec(spec, options=PlanOptions(sharing=not jitter))
    sm = compile_model(plan, spec)
    assert supports_closing(sm, jitter)
    draws, params, admission = random_run(spec, plan, sm, kind, fanout, jitter, load, limit, seed)
    close = EarlyClose(margin)
    assert_fast_path_is_the_engine(run_closing, plan, sm, draws, params, admission, close)
