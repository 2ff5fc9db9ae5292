"""`naive` picks what most teams run: the cheapest config per request that meets the 2·d rule."""

from __future__ import annotations

import pytest
from .baseline_specs import make_spec

from skinflint.api import plan_spec
from skinflint.plan import ROUND_ROBIN


def test_cheapest_per_request_even_when_a_cheaper_total_exists():
    curves = {("M", "G"): {1: 20.0}, ("M", "H"): {1: 5.0, 8: 10.0}}
    spec = make_spec(curves, {"G": 1.0, "H": 3.0}, [("m", "M", (), 1.0)], rate=10, slo_ms=100)
    plan = plan_spec(spec, planner="naive")
    (g,) = plan.module("m").groups
    # $/h per req/s: G@1 1 / 50 = 0.02, H@1 3 / 200 = 0.015, H@8 3 / 800 = 0.00375 -- but H@8 on one
    # worker at 10 req/s waits 1000 * 7 / 10 = 700 ms for its batch (W_rr = 710 > 100), so H@1 it is.
    assert (g.hardware, g.batch_size, g.workers) == ("H", 1, 1) and plan.module("m").dispatch == ROUND_ROBIN
    assert plan.cost_per_hour == pytest.approx(3.0)
    assert plan_spec(spec, planner="optimal").cost_per_hour == pytest.approx(1.0)  # one G worker does it


def test_budget_is_the_slo_split_evenly_along_the_longest_path():
    curves = {("M", "G"): {1: 2.0, 2: 3.0}}
    modules = [("a", "M", (), 1.0), ("b", "M", ("a",), 1.0), ("c", "M", ("a",), 1.0), ("d", "M", ("b",), 1.0)]
    plan = plan_spec(make_spec(curves, {"G": 1.0}, modules, rate=100, slo_ms=64, hop_ms=1), planner="naive")
    # longest path a -> b -> d has 3 modules: (64 - 3 x 1 ms hop) / 3 = 20.33 ms each, c included
    assert {m.name: m.budget_ms for m in plan.modules} == pytest.approx({k: 61 / 3 for k in "abcd"})
