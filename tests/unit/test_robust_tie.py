"""The bundled app's worst-case plan is the robust one of its equal-cost plans (issue 11):
two plans cost $6.838/h; the detector on 8 x T4 at batch 8 is 91.6 % busy where at batch 4 it is
99.1 % busy (and attains 64.7 % under Poisson where the other attains 100 %)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

import skinflint
from skinflint.planners.solve.robustness import plan_margin, plan_peak

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("sharing", [True, False])
def test_bundled_app_plans_the_less_busy_detector(sharing: bool) -> None:
    spec = skinflint.load_spec(ROOT / "examples/traffic/app.yaml")
    plan = skinflint.plan(spec, traffic="uniform", sharing=sharing)
    assert math.isclose(plan.cost_per_hour, 6.838, abs_tol=1e-9)
    detect = plan.module("detect")
    assert [(g.workers, g.hardware, g.batch_size) for g in detect.groups] == [(8, "T4", 8)]
    assert plan_peak(plan) == pytest.approx(0.9164, abs=1e-3)
    assert plan_margin(plan, spec.app) >= 0


def test_peak_of_a_plan_by_hand() -> None:
    spec = skinflint.load_spec(ROOT / "examples/traffic/app.yaml")
    plan = skinflint.plan(spec, traffic="uniform")
    for m in plan.modules:  # max d / T_m with T_m = 1000 sum n b / r
        units = sum(g.workers * g.batch_size for g in m.groups)
        assert max(g.latency_ms for g in m.groups) * m.rate / (1000 * units) <= plan_peak(plan) + 1e-12
