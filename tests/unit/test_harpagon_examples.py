"""Harpagon's heuristics on small examples worked out by hand (the arithmetic is in the comments)."""

from __future__ import annotations

import pytest
from .baseline_specs import make_spec

from skinflint.api import plan_spec
from skinflint.model import module_configs
from skinflint.plan import BATCH_AWARE
from skinflint.planners import PlanOptions
from skinflint.planners.harpagon import HarpagonPlanner, ModuleChoice, reassign_latency, schedule_module
from skinflint.verify import check

TWO_TYPES = {("M", "A"): {1: 5.0, 8: 20.0, 16: 40.0}, ("M", "B"): {1: 2.0, 8: 5.0, 16: 9.0}}
PRICES = {"A": 1.0, "B": 3.0}


def _configs(rate: float):  # noqa: ANN202
    spec = make_spec(TWO_TYPES, PRICES, [("m", "M", (), 1.0)], rate=rate, slo_ms=60)
    return module_configs(spec, "m", rate)


def test_main_config_by_throughput_per_dollar_then_the_residual_optimizer():
    # rate 4000: W = (b - 1) / 4 + d; all six configs fit 60 ms. Throughput per dollar:
    # A1 200, A8 400, A16 400, B1 166.7, B8 533.3, B16 592.6 -> main B16 (1777.8 req/s), n_main = 2.
    # Residual: cycle need ceil(4000 * max(9, d_c) / 1000) minus the main's 2 x 16 = 32:
    # A1 36-32 -> 4 x $1 = $4; A8 80-32 -> 6; A16 160-32 -> 8; B1 4 x $3; B8 36-32 -> 1 x $3; B16 1 x $3.
    # B8 and B16 tie at $6 + $3; B8 comes first.
    choice = schedule_module(_configs(4000), 4000, 1.0, 60)
    assert (choice.main.hardware, choice.main.batch_size, choice.n_main) == ("B", 16, 2)
    assert (choice.residual.hardware, choice.residual.batch_size, choice.n_residual) == ("B", 8, 1)
    assert choice.cost_per_hour == pytest.approx(9.0)


def test_below_one_main_worker_the_residual_optimizer_alone_picks_the_config():
    # rate 1000: floor(1000 / 1777.8) = 0 main workers. Fewest workers per config: A1 ceil(5 / 1) = 5 ($5),
    # A8 ceil(20 / 8) = 3 ($3), A16 3 ($3), B1 2 ($6), B8 1 ($3), B16 1 ($3): a $3 tie, broken by the
    # lowest worst latency, W(B8) = 7 + 5 = 12 ms < W(B16) = 15 + 9 = 24 ms < W(A8) = 27 ms.
    choice = schedule_module(_configs(1000), 1000, 1.0, 60)
    assert choice.n_main == 0 and (choice.residual.hardware, choice.residual.batch_size) == ("B", 8)
    assert choice.n_residual == 1 and choice.worst_latency_ms == pytest.approx(12)


def test_greedy_split_gives_each_slice_to_the_steepest_cost_drop():
    curves = {("P", "G"): {1: 10.0, 2: 12.0, 4: 16.0}, ("Q", "G"): {1: 5.0, 2: 6.0, 4: 8.0}}
    spec = make_spec(curves, {"G": 1.0}, [("p", "P", (), 1.0), ("q", "Q", ("p",), 1.0)], rate=1000, slo_ms=28)
    plan = plan_spec(spec, planner="harpagon")
    # At 1000 req/s W = (b - 1) + d. p: budgets 10 / 13 / 19 cost $10 / $6 / $4; q: 5 / 7 / 11 cost $5 / $3 / $2.
    # From (10, 5), slack 13: p->13 saves 4 in 3 ms (1.33/ms) > q->7 (1.0) > p->19 (0.67) > q->11 (0.5).
    # Then (13, 5): q->7 (1.0). Then (13, 7), slack 8: p->19 (2 in 6 ms) beats q->11 (1 in 4 ms).
    # Then (19, 7), slack 2: q->11 needs 4 ms. Result p = 19 ms ($4), q = 7 ms ($3).
    assert {m.name: m.budget_ms for m in plan.modules} == pytest.approx({"p": 19.0, "q": 7.0})
    assert plan.cost_per_hour == pytest.approx(7.0)
    assert all(m.dispatch == BATCH_AWARE for m in plan.modules)


def test_the_latency_reassigner_hands_back_what_a_module_does_not_use():
    (c,) = [c for c in _configs(1000) if (c.hardware, c.batch_size) == ("B", 8)]
    state = {"m": (ModuleChoice(60.0, c, 0, c, 1), 60.0)}
    assert reassign_latency(state)["m"][1] == pytest.approx(12.0)  # W(B8) = 7 + 5 ms


def test_residual_workers_of_two_modules_merge_onto_one_shared_worker():
    curve = {1: 5.0, 2: 6.0, 4: 8.0}
    spec = make_spec({("A", "G"): curve}, {"G": 1.0}, [("a", "A", (), 1.0), ("b", "A", (), 0.5)],
                     rate=100, slo_ms=50)
    plan = plan_spec(spec, planner="harpagon")
    # Each module needs one worker at b = 1 (100 and 50 req/s, d = 5 ms): $1 + $1 without merging.
    # Merged: T_s = 5 + 5 = 10 ms <= module cycles 1000 * 1 / 100 = 10 and 1000 * 1 / 50 = 20 ms;
    # W = 1000 * 0 / r + 10 + 5 = 15 ms on both, within the 50 ms SLO: one worker.
    (sw,) = plan.shared_workers
    assert sw.cycle_ms == pytest.approx(10) and {s.module for s in sw.slots} == {"a", "b"}
    assert plan.cost_per_hour == pytest.approx(1.0)
    assert {m.name: m.worst_latency_ms for m in plan.modules} == pytest.approx({"a": 15.0, "b": 15.0})
    unmerged = HarpagonPlanner("harpagon-no-merge", merge=False).plan(spec, PlanOptions())
    assert check(unmerged, spec).cost_per_hour == pytest.approx(2.0)


def test_no_merge_when_the_shared_cycle_would_break_a_budget():
    curve = {1: 5.0, 2: 6.0, 4: 8.0}
    spec = make_spec({("A", "G"): curve}, {"G": 1.0}, [("a", "A", (), 1.0), ("b", "A", (), 0.5)],
                     rate=100, slo_ms=14)
    # W on the shared worker would be 15 ms > 14 ms
    assert not plan_spec(spec, planner="harpagon").shared_workers


def test_merging_grows_a_slot_batch_until_its_module_cycle_fits_the_shared_cycle():
    curves = {("C", "G"): {1: 50.0}, ("A", "G"): {1: 10.0, 2: 12.0}, ("B", "G"): {1: 5.0, 2: 6.0}}
    spec = make_spec(curves, {"G": 1.0}, [("c", "C", (), 0.4), ("a", "A", (), 1.0), ("b", "B", (), 1.0)],
                     rate=25, slo_ms=200)
    plan = plan_spec(spec, planner="harpagon")
    # One worker at b = 1 each (10, 25, 25 req/s). Merged, by descending batch time c, a, b:
    # T_s = 50 + 10 + 5 = 65 ms > the cycles of a and b at b = 1 (1000 * 1 / 25 = 40 ms), so both
    # grow to b = 2: T_s = 50 + 12 + 6 = 68 <= 80 ms (1000 * 2 / 25) and <= 100 ms for c (1000 / 10).
    # W: c 0 + 68 + 50 = 118, a 40 + 68 + 12 = 120, b 40 + 68 + 6 = 114 ms; c's factor 0.4 = 2/5
    # adds its fan-out lag 1000 (1 - 1/2) / 25 = 20 ms: 138 ms. All within 200 ms.
    (sw,) = plan.shared_workers
    assert sw.cycle_ms == pytest.approx(68)
    assert {(s.module, s.batch_size) for s in sw.slots} == {("c", 1), ("a", 2), ("b", 2)}
    assert {m.name: m.worst_latency_ms for m in plan.modules} == pytest.approx({"c": 138, "a": 120, "b": 114})
    assert plan.cost_per_hour == pytest.approx(1.0)  # the exact planner without merging: 3 workers
