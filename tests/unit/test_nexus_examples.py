"""Nexus on small examples worked out by hand (the arithmetic is in the comments)."""

from __future__ import annotations

import pytest
from .baseline_specs import make_spec

from skinflint.api import plan_spec
from skinflint.plan import ROUND_ROBIN
from skinflint.planners import PlanOptions
from skinflint.planners.nexus import NexusPlanner, query_analysis, schedule_session
from skinflint.verify import check

CURVE = {1: 10.0, 2: 12.0, 4: 16.0, 8: 24.0, 16: 40.0}


def test_saturated_workers_plus_one_residual_worker():
    spec = make_spec({("M", "G"): CURVE}, {"G": 1.0}, [("m", "M", (), 1.0)], rate=700, slo_ms=50)
    plan = plan_spec(spec, planner="nexus")
    (mp,) = plan.modules
    assert mp.dispatch == ROUND_ROBIN and mp.budget_ms == pytest.approx(50)  # one session gets the whole SLO
    sat, res = mp.groups
    # B = largest b with 2 d(b) <= 50: d(8) = 24 -> 48 <= 50, d(16) = 40 -> 80 > 50, so B = 8,
    # theta(8) = 8000 / 24 = 333.3 req/s and floor(700 / 333.3) = 2 saturated workers.
    assert (sat.batch_size, sat.workers) == (8, 2)
    assert sat.share_rate == pytest.approx(2 * 8000 / 24)
    # residual w = 700 - 666.7 = 33.3 req/s; 1000 (b - 1) / w + d(b): b = 2 -> 30 + 12 = 42 <= 50,
    # b = 4 -> 90 + 16 = 106 > 50, so the residual worker runs batch 2 with W = 42 ms.
    assert (res.batch_size, res.workers) == (2, 1)
    assert res.share_rate == pytest.approx(700 - 2 * 8000 / 24)
    # its worst latency adds one gap of the module's stream, 1000 / 700 ms: two round-robin shares
    # (model.rr_share_lag_ms); 42 + 1.43 <= 50 still
    assert res.worst_latency_ms == pytest.approx(42 + 1000 / 700)
    assert plan.cost_per_hour == pytest.approx(3.0)  # 2 + 1 workers at $1
    assert not plan.shared_workers


def test_residuals_of_two_modules_share_one_duty_cycled_worker():
    curve = {1: 5.0, 2: 6.0, 4: 8.0, 8: 12.0, 16: 20.0}
    spec = make_spec({("A", "G"): curve}, {"G": 1.0}, [("a", "A", (), 1.0), ("b", "A", (), 0.5)],
                     rate=100, slo_ms=50)
    plan = plan_spec(spec, planner="nexus")
    # a: 100 req/s. B = 16 (2 x 20 <= 50), theta = 800, floor(100 / 800) = 0 -> all residual, w = 100;
    #    b = 4 (30 + 8 = 38 <= 50; b = 8: 70 + 12 > 50); duty = min(50 - 8, 1000 * 4 / 100) = 40 ms.
    # b: 50 req/s, b = 2 (20 + 6 = 26; b = 4: 60 + 8 > 50); duty = min(50 - 6, 1000 * 2 / 50) = 40 ms.
    # merged: duty = min(40, 40) = 40; batches ceil(40 * 100 / 1000) = 4 (8 ms) and
    # ceil(40 * 50 / 1000) = 2 (6 ms); 8 + 6 = 14 <= 40: one worker holds both.
    (sw,) = plan.shared_workers
    assert sw.cycle_ms == pytest.approx(40)
    assert {(s.module, s.batch_size, s.share_rate) for s in sw.slots} == {("a", 4, 100.0), ("b", 2, 50.0)}
    assert all(not mp.groups for mp in plan.modules)
    # worst latency on the shared worker: duty + d = 40 + 8 = 48 and 40 + 6 = 46
    assert plan.module("a").worst_latency_ms == pytest.approx(48)
    assert plan.module("b").worst_latency_ms == pytest.approx(46)
    assert plan.cost_per_hour == pytest.approx(1.0)
    # without merging each residual keeps its own worker; the exact planner without sharing needs 2
    # too, and with shared workers (the default) it matches Nexus's one worker
    alone = NexusPlanner(merge=False).plan(spec, PlanOptions())
    assert check(alone, spec).cost_per_hour == pytest.approx(2.0)
    dedicated = PlanOptions(sharing=False, pools=False)  # both modules run model A: a pool would merge them
    assert plan_spec(spec, planner="optimal", options=dedicated).cost_per_hour == pytest.approx(2.0)
    assert plan_spec(spec, planner="optimal").cost_per_hour == pytest.approx(1.0)


def test_query_analysis_minimises_fractional_workers_and_leaves_the_rest_to_the_exit():
    curves = {("X", "G"): {1: 10.0, 4: 20.0}, ("Y", "G"): {1: 10.0, 4: 40.0}}
    spec = make_spec(curves, {"G": 1.0}, [("x", "X", (), 1.0), ("y", "Y", ("x",), 1.0)], rate=100, slo_ms=100)
    budgets = query_analysis(spec, {m: spec.profiles.get(m.upper(), "G") for m in ("x", "y")}, 1.0, 1.0, 100)
    # 1 ms grid. x: theta_max = 100/s (b = 1) from L = 20, 200/s (b = 4) from L = 40: 1.0 or 0.5 workers.
    # y: theta_max = 100/s from L = 20 on (b = 4 gives 4000 / 40 = 100 too): 1.0 worker.
    # least sum: x = 40, y = 20 (1.5 workers); the 40 ms left go to the exit y -> 60.
    assert budgets == pytest.approx({"x": 40.0, "y": 60.0})


def test_a_residual_that_cannot_keep_up_alone_is_spread_over_more_workers():
    curve = {1: 12.0, 2: 14.0, 4: 20.0, 8: 30.0}
    spec = make_spec({("F", "G"): curve}, {"G": 1.0}, [("f", "F", (), 1.0)], rate=210, slo_ms=60)
    s = schedule_session("f", spec.profiles.get("F", "G"), 1.0, 210, 60, 1.0)
    # B = 8 (2 x 30 <= 60), theta(8) = 266.7 > 210: no saturated worker, w = 210. Largest b with
    # 1000 (b - 1) / 210 + d(b) <= 60 is 4 (14.3 + 20; b = 8: 33.3 + 30 > 60), but theta(4) = 200 < 210.
    # One worker cannot do it at any b; two at 105 req/s each: b = 4 gives 1000 * 3 * 2 / 210 + 20 = 48.6.
    (g,) = s.groups
    assert s.residual is None and (g.batch_size, g.workers, g.share_rate) == (4, 2, 210)
    assert g.worst_latency_ms == pytest.approx(1000 * 3 * 2 / 210 + 20)


def test_one_hardware_type_per_run_keeps_the_cheapest():
    curves = {("P", "cheap_for_p"): {1: 5.0, 8: 10.0}, ("Q", "cheap_for_p"): {1: 50.0, 8: 100.0},
              ("P", "cheap_for_q"): {1: 50.0, 8: 100.0}, ("Q", "cheap_for_q"): {1: 5.0, 8: 10.0}}
    spec = make_spec(curves, {"cheap_for_p": 1.0, "cheap_for_q": 1.1},
                     [("p", "P", (), 1.0), ("q", "Q", ("p",), 1.0)], rate=1000, slo_ms=400)
    plan = plan_spec(spec, planner="nexus")
    hardware = {g.hardware for mp in plan.modules for g in mp.groups} | {s.hardware for s in plan.shared_workers}
    assert len(hardware) == 1  # never mixed, though mixing would be cheaper
    per_type = []
    for h in ("cheap_for_p", "cheap_for_q"):
        per_type.append(plan_spec(spec, planner="nexus", options=PlanOptions(hardware=(h,))).cost_per_hour)
    assert plan.cost_per_hour == pytest.approx(min(per_type))
    assert plan.cost_per_hour > plan_spec(spec, planner="optimal").cost_per_hour
