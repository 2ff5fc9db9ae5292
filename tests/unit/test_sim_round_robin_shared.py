"""Round-robin in the simulator: shares on shared workers (collect, run at each slot start),
turns dealt in request order, and the traffic app's Nexus plan that broke its SLO before."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from skinflint.api import plan_spec
from skinflint.dispatch import Worker, make_policy
from skinflint.planners import PlanOptions
from skinflint.report.compare import simulate_plan
from skinflint.sim import promise_violations, simulate
from skinflint.spec.loader import load_spec

from .baseline_specs import make_spec

CURVE = {1: 5.0, 2: 6.0, 4: 8.0, 8: 12.0, 16: 20.0}
TRAFFIC = Path(__file__).resolve().parents[2] / "examples" / "traffic" / "app.yaml"


def merged():  # noqa: ANN201
    """Nexus's plan with a (100 req/s) and b (50 req/s) on one shared worker: T_s = 40 ms,
    a @ 4 (8 ms) at offset 0, b @ 2 (6 ms) at offset 8."""
    spec = make_spec({("A", "G"): CURVE}, {"G": 1.0}, [("a", "A", (), 1.0), ("b", "A", (), 0.5)],
                     rate=100, slo_ms=50)
    return spec, plan_spec(spec, planner="nexus")


def test_a_round_robin_slot_runs_what_it_collected_at_each_slot_start():
    spec, plan = merged()
    (sw,) = plan.shared_workers
    assert sw.cycle_ms == 40.0 and [s.share_rate for s in sw.slots] == [100.0, 50.0]
    result = simulate(plan, spec, np.arange(1000) * 10.0, 10.0, np.random.default_rng(0))
    assert result.completed == result.requests and promise_violations(result) == []
    for mt, offset, b, d in zip(result.trace.modules, (0.0, 8.0), (4, 2), (8.0, 6.0)):
        starts = mt.batch_start_ms
        assert np.allclose((starts - offset) % 40.0, 0.0)           # only at its slot starts
        assert mt.batch_size.max() <= b
        assert (mt.done_ms - mt.ready_ms).max() <= 40.0 + d + 1e-9  # W = T_s + d
    # a: arrivals at 0, 10, 20, 30 ms; the one at 0 runs at once (slot at 0), the others wait
    # for the slot at 40: 30 + 8 = 38 ms, the worst
    a = result.trace.modules[0]
    assert (a.done_ms - a.ready_ms).max() == 38.0


def test_compare_simulates_plans_with_round_robin_slots():
    spec, plan = merged()
    summary = simulate_plan(plan, spec, duration_s=5.0)
    assert summary is not None and summary.slo_attainment == 1.0 and summary.worst_ms <= 50.0


def test_round_robin_turns_are_dealt_in_request_order():
    # two workers of batch 2: items 0, 2 are worker 0's, 1, 3 worker 1's, whatever order they come in
    p = make_policy("round-robin", [Worker(2, (1.0, 1.0)), Worker(2, (1.0, 1.0))])
    assert list(p.arrive(1, 0.0, 9.0)) == []
    assert list(p.arrive(2, 0.0, 9.0)) == []
    assert list(p.arrive(3, 0.0, 9.0)) == [(1, [1, 3])]   # arrival order would have given worker 0 [1, 3]
    assert list(p.arrive(0, 1.0, 9.0)) == [(0, [0, 2])]


def test_weighted_shares_follow_their_ideal_times():
    # shares 3 : 1: group 1's k-th item ideally at (k + 1/2) 4 = 2, 6, 10, ...; group 0's at 2/3, 2, 10/3
    p = make_policy("round-robin", [Worker(1, (0.1,), group=0), Worker(1, (0.1,), group=1)], group_rates=[3.0, 1.0])
    dealt = []
    for i in range(8):
        (launch,) = p.arrive(i, float(i), 99.0)
        dealt.append(launch[0])
        p.worker_done(launch[0], float(i))
    assert dealt == [0, 0, 1, 0, 0, 0, 1, 0]


def test_the_traffic_apps_nexus_plan_keeps_its_promises():
    # Before request-order dealing: 609 ms worst, 79 % within the 500 ms SLO (docs/baselines.md)
    spec = load_spec(TRAFFIC)
    plan = plan_spec(spec, planner="nexus")
    result = simulate(plan, spec, "uniform", 10.0, np.random.default_rng(0))
    assert result.latency_ms.max() <= 500.0 and result.slo_attainment == 1.0
    # its classifiers' items arrive 2.5 per frame together: with the fan-out lag in the plan (the
    # default) every promise holds; without it they overshoot W by up to 1000 (1 - 1/5) / 300 = 2.67 ms
    assert promise_violations(result) == []
    plan = plan_spec(spec, planner="nexus", options=PlanOptions(fanout_lag=False))
    assert promise_violations(simulate(plan, spec, "uniform", 10.0, np.random.default_rng(0))) != []
