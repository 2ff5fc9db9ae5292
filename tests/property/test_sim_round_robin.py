"""Round-robin: under uniform arrivals the simulated worst latency of each group matches MODEL.md's
W_rr = 1000 (b - 1) n / r_g + d within one inter-arrival gap of the module's stream, and with
several shares never exceeds W_rr + (G - 1) gaps (`model.rr_share_lag_ms`, what verify adds)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import skinflint
from skinflint import model
from skinflint.errors import InfeasibleError
from skinflint.plan import ROUND_ROBIN, Group, ModulePlan, Plan
from skinflint.planners import PlanOptions
from skinflint.sim import simulate
from skinflint.spec.profiles import build_profiles
from skinflint.spec.types import App, Hardware, Module, Spec
from tests.strategies import specs


def group_worst_ms(result) -> dict[int, float]:
    """Worst time at the module of the items each group served."""
    m, mt = result.model.modules[0], result.trace.modules[0]
    group = np.array([w.worker.group for w in m.workers])[mt.item_worker]
    latency = mt.done_ms - mt.ready_ms
    return {int(g): float(latency[group == g].max()) for g in np.unique(group)}


@settings(max_examples=60, deadline=None)
@given(spec=specs(max_modules=1, fanout=False))
def test_naive_round_robin_plans_reach_w_rr(spec):
    spec = replace(spec, app=replace(spec.app, slo_ms=4 * spec.app.slo_ms))  # room for the 2·d rule
    try:
        plan = skinflint.plan_spec(spec, planner="naive", options=PlanOptions())
    except InfeasibleError:
        assume(False)
    (g,) = plan.modules[0].groups
    gap = 1000.0 / plan.rate
    n = max(400, 6 * g.batch_size * g.workers)
    result = simulate(plan, spec, np.arange(n) * gap, n * gap / 1000.0, np.random.default_rng(0))
    w_rr = model.worst_latency_rr_ms(g.batch_size, g.latency_ms, g.share_rate, g.workers)
    assert abs(group_worst_ms(result)[0] - w_rr) <= gap + 1e-9


@settings(max_examples=80, deadline=None)
@given(rate=st.floats(10.0, 1000.0), share=st.floats(0.2, 0.8),
       groups=st.lists(st.tuples(st.sampled_from((1, 2, 4, 8)), st.integers(1, 4), st.floats(0.2, 0.95)),
                       min_size=2, max_size=2))
def test_weighted_round_robin_groups_reach_their_w_rr(rate, share, groups):
    rates = (rate * share, rate * (1 - share))
    rows, plan_groups = [], []
    for k, ((b, n, busy), r_g) in enumerate(zip(groups, rates)):
        d = busy * 1000.0 * b * n / r_g  # each worker busy `busy` of the time
        rows.append((Path("p.csv"), f"g{k}", ("m", f"h{k}", b, d)))
        plan_groups.append(Group(f"h{k}", b, n, d, 1.0,
                                 model.worst_latency_rr_ms(b, d, r_g, n, model.rr_share_lag_ms(2, rate)), share_rate=r_g))
    worst = max(g.worst_latency_ms for g in plan_groups)
    spec = Spec(App("rr", rate, worst, (Module("m", "m"),)), {"h0": Hardware("h0", 1.0), "h1": Hardware("h1", 1.0)},
                build_profiles(rows))
    plan = Plan("rr", "hand", rate, worst, (ModulePlan("m", "m", rate, worst, worst, tuple(plan_groups), ROUND_ROBIN),))
    assert skinflint.verify(plan, spec) == []
    gap = 1000.0 / rate
    n_req = int(max(600, 12 * max(b * n / s for (b, n, _), s in zip(groups, (share, 1 - share)))))
    result = simulate(plan, spec, np.arange(n_req) * gap, n_req * gap / 1000.0, np.random.default_rng(0))
    seen = group_worst_ms(result)
    for k, g in enumerate(plan_groups):
        w_rr = model.worst_latency_rr_ms(g.batch_size, g.latency_ms, g.share_rate, g.workers)  # without the share lag
        # reached within one gap; never above W_rr + one gap (two shares), the promise verify checks
        assert w_rr - gap - 1e-9 <= seen[k] <= g.worst_latency_ms + 1e-9, (k, seen[k], w_rr, gap)
