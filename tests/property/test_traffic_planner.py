"""The traffic-aware planner (planners/attain.py) on random small applications: its plan attains
the target on the seeds it states (re-simulated here, the same figure again) — accepted on the
search's half of them and on the confirming half alike — never costs more than MODEL.md's single-headroom reference it reports, passes
verify, and is the same plan when asked twice."""

from __future__ import annotations

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from skinflint.api import plan_spec
from skinflint.errors import SkinflintError
from skinflint.planners import PlanOptions
from skinflint.planners.attain import accepts
from skinflint.sim.attainment import Oracle
from skinflint.traffic import Traffic
from skinflint.verify import verify
from tests.strategies import specs

TRAFFICS = (Traffic("poisson", target=0.99), Traffic("mmpp:ratio=1.5,share=0.2", target=0.99),
            Traffic("poisson", "poisson", "lognormal:0.1", 0.99))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=specs(max_modules=3), traffic=st.sampled_from(TRAFFICS), sharing=st.booleans())
def test_the_plan_attains_its_target_on_its_seeds_and_never_costs_more_than_its_reference(spec, traffic, sharing):
    options = PlanOptions(traffic=traffic, sharing=sharing)
    try:
        plan = plan_spec(spec, options=options)
    except SkinflintError:
        event("no plan attains the target")
        return
    check = plan.check
    assert check is not None and check.traffic == traffic
    assert check.attained >= traffic.target
    assert plan.cost_per_hour <= check.single_headroom_per_hour * (1 + 1e-9)
    assert verify(plan, spec_at(spec, plan)) == []
    half, per_seed = len(check.seeds) // 2, check.requests // len(check.seeds)
    search, confirm = (Oracle(spec, traffic, part, per_seed).measure(plan)
                       for part in (check.seeds[:half], check.seeds[half:]))
    assert accepts(search, traffic.target) and accepts(confirm, traffic.target)     # both sets accept it
    again = search.pooled_with(confirm)
    assert again.requests == check.requests and abs(again.attained - check.attained) < 1e-12   # reproducible
    assert _same_but_time(plan, plan_spec(spec, options=options))                   # deterministic for a seed


def spec_at(spec, plan):  # noqa: ANN001, ANN201 - the planned spec verify checks against
    from dataclasses import replace

    return replace(spec, app=replace(spec.app, rate=plan.rate))


def _same_but_time(a, b) -> bool:  # noqa: ANN001
    da, db = a.to_dict(), b.to_dict()
    da.pop("planning_ms"), db.pop("planning_ms")
    return da == db


def test_an_answer_the_confirming_seeds_reject_falls_back_along_the_accepted_path(monkeypatch):
    """confirmed_per_module keeps the last plan on the search's path that the other seeds accept too
    (here the middle one), and the start when none of the cheaper ones is."""
    from skinflint.planners.attain import Search
    from skinflint.sim.attainment import Measured

    path = [(f"plan-{k}", Measured(0.9995, (0.9995,), 100, 0, "closing")) for k in range(3)]
    monkeypatch.setattr(Search, "per_module", lambda self, start, plan, measured: path)
    accepted = {"plan-1"}
    monkeypatch.setattr(Search, "confirmed", lambda self, plan, m: m if plan in accepted else None)
    search = Search.__new__(Search)
    assert search.confirmed_per_module(0.1, *path[0])[0] == "plan-1"
    accepted.clear()
    assert search.confirmed_per_module(0.1, *path[0])[0] == "plan-0"
