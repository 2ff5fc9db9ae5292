"""The `inferline` baseline (InferLine's Planner on the simulator, central-queue dispatch): its plans
verify, are deterministic for a seed, and attain their target on seeds the planner never used;
the greedy only ever takes actions that save money from a feasible start."""

from __future__ import annotations

import pytest

import skinflint
from skinflint.errors import InfeasibleError
from skinflint.model import CENTRAL_QUEUE
from skinflint.planners import PlanOptions, available
from skinflint.planners.attain import sampling
from skinflint.planners.inferline import Estimator, Search
from skinflint.sim.attainment import Oracle
from skinflint.traffic import Traffic
from skinflint.verify import verify

from .baseline_specs import make_spec

CURVES = {("det", "fast"): {1: 4.0, 2: 6.0, 4: 10.0, 8: 18.0}, ("det", "slow"): {1: 9.0, 2: 14.0, 4: 24.0, 8: 44.0},
          ("cls", "fast"): {1: 2.0, 2: 3.0, 4: 5.0, 8: 9.0}, ("cls", "slow"): {1: 5.0, 2: 7.0, 4: 12.0, 8: 21.0}}
PRICES = {"fast": 3.0, "slow": 1.0}
APPS = {
    "single": ([("d", "det", (), 1.0)], 120.0, 80.0),
    "chain": ([("d", "det", (), 1.0), ("c", "cls", ("d",), 1.0)], 200.0, 100.0),
    "fanout": ([("d", "det", (), 1.0), ("c", "cls", ("d",), 2.5)], 60.0, 120.0),
}
TRAFFIC = Traffic("poisson", target=0.99)


def _spec(name: str):  # noqa: ANN202
    modules, rate, slo = APPS[name]
    return make_spec({k: v for k, v in CURVES.items() if k[0] in {m[1] for m in modules}}, PRICES, modules, rate, slo,
                     hop_ms=1.0)


def test_inferline_is_registered() -> None:
    assert "inferline" in available()


@pytest.mark.parametrize("name", sorted(APPS))
def test_plans_verify_attain_on_fresh_seeds_and_are_deterministic(name: str) -> None:
    spec = _spec(name)
    plan = skinflint.plan(spec, planner="inferline", traffic=TRAFFIC, seed=3)
    assert verify(plan, spec) == []
    assert all(m.dispatch == CENTRAL_QUEUE and len(m.groups) == 1 for m in plan.modules)
    assert plan.check is not None and plan.check.attained >= TRAFFIC.target
    again = skinflint.plan(spec, planner="inferline", traffic=TRAFFIC, seed=3)
    assert again.to_dict() | {"planning_ms": 0} == plan.to_dict() | {"planning_ms": 0}
    count, per_seed = sampling(TRAFFIC, spec.app.rate)
    fresh = Oracle(spec, TRAFFIC, tuple(range(900, 900 + count)), per_seed).measure(plan)
    assert min(fresh.per_seed) >= TRAFFIC.target - (1 - TRAFFIC.target) / 2


def test_greedy_saves_from_a_feasible_start() -> None:
    spec = _spec("chain")
    options = PlanOptions(traffic=TRAFFIC)
    est = Estimator(spec, options, TRAFFIC)
    search = Search(spec, options, est)
    start = search.initial()
    assert est.feasible(start)
    assert [s.hardware for s in start] == ["fast", "fast"] and [s.batch for s in start] == [1, 1]
    end = search.minimise(start)
    assert est.feasible(end)
    assert sum(s.replicas * PRICES[s.hardware] for s in end) <= sum(s.replicas * PRICES[s.hardware] for s in start)


def test_worst_case_plan_keeps_every_request_within_the_slo() -> None:
    spec = _spec("chain")
    plan = skinflint.plan(spec, planner="inferline", traffic="uniform")
    assert verify(plan, spec) == [] and plan.check is not None and plan.check.attained == 1.0


def test_service_times_beyond_the_slo_are_infeasible() -> None:
    spec = _spec("chain")
    with pytest.raises(InfeasibleError):
        skinflint.plan(spec, planner="inferline", traffic=TRAFFIC, slo_ms=5.0)
