"""sim.fidelity against numbers worked out by hand: one module, one worker of b = 2 and
d(2) = 10 ms, 100 req/s uniform (a request every 10 ms), so W = 1000 (b - 1) / r + d = 20 ms."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import skinflint
from skinflint.plan import Group, ModulePlan, Plan
from skinflint.sim import UniformJitter, item_excess_ms, promise_violations, simulate
from skinflint.sim.fidelity import longest_cycle_ms, settling_requests
from skinflint.spec.profiles import build_profiles
from skinflint.spec.types import App, Hardware, Module, Spec


@pytest.fixture(scope="module")
def case() -> tuple[Plan, Spec]:
    spec = Spec(App("case", 100.0, 22.0, (Module("M", "m"),)), {"h": Hardware("h", 1.0)},
                build_profiles([(Path("p.csv"), "x", ("m", "h", 2, 10.0))]))
    plan = Plan("case", "hand", 100.0, 22.0, (ModulePlan("M", "m", 100.0, 20.0, 20.0,
                                                         (Group("h", 2, 1, 10.0, 1.0, 20.0),)),))
    assert skinflint.verify(plan, spec) == []
    return plan, spec


def test_item_excess_is_finish_less_arrival_less_the_promise(case):
    plan, spec = case
    result = simulate(plan, spec, np.arange(200) * 10.0, 2.0, np.random.default_rng(0), engine="event")
    # batch [2k, 2k+1] closes when item 2k+1 arrives (20k + 10), runs 10 ms: done at 20k + 20;
    # item 2k waited 20 ms (= W, excess 0), item 2k+1 10 ms (excess -10)
    np.testing.assert_array_equal(item_excess_ms(result)["M"], np.tile([0.0, -10.0], 100))
    assert promise_violations(result) == []


def test_late_items_and_requests_are_counted_with_the_worst_excess(case):
    plan, spec = case
    result = simulate(plan, spec, np.arange(200) * 10.0, 2.0, np.random.default_rng(0), engine="event",
                      jitter=UniformJitter(1.5, 1.5))
    # every batch takes 15 ms: item 2k waits 25 ms (5 over W = 20, 3 over the 22 ms SLO),
    # item 2k+1 15 ms; the worker is free again at 20k + 25, before the next batch closes at 20k + 30
    np.testing.assert_array_equal(item_excess_ms(result)["M"], np.tile([5.0, -5.0], 100))
    assert promise_violations(result) == ["module 'M': 100 items finished after their promise, worst by 5.000000 ms",
                                          "100 requests over slo_ms 22, worst by 3.000000 ms"]


def test_settling_covers_six_cycles_and_the_slo(case):
    plan, _ = case
    assert longest_cycle_ms(plan) == 20.0            # 1000 x (1 worker x b = 2) / 100 req/s
    assert settling_requests(plan) == 300             # the floor: (6 x 20 + 22) x 100 / 1000 = 14.2
    assert settling_requests(plan, least=0) == 14
    assert settling_requests(plan, least=0, cycles=60) == 122   # (60 x 20 + 22) x 100 / 1000 = 122.2
