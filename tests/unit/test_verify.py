"""`verify` accepts the planner's plans and rejects each kind of broken plan."""

from __future__ import annotations

import warnings
from dataclasses import replace

import pytest

import skinflint
from skinflint.errors import PlanInvalidError
from skinflint.plan import ROUND_ROBIN, Group, SharedSlot, SharedWorker, plan_from_dict
from skinflint.spec.loader import load_spec
from skinflint.verify import check, verify


@pytest.fixture
def planned(tiny_dir):  # noqa: ANN001, ANN201
    spec = load_spec(tiny_dir / "app.yaml")
    return spec, skinflint.plan(spec)


def _edit_group(plan, module: int, **changes):  # noqa: ANN001, ANN202
    mods = list(plan.modules)
    g = replace(mods[module].groups[0], **changes)
    mods[module] = replace(mods[module], groups=(g,) + mods[module].groups[1:])
    return replace(plan, modules=tuple(mods))


def test_planner_output_verifies_and_round_trips(planned) -> None:  # noqa: ANN001
    spec, plan = planned
    assert verify(plan, spec) == []
    again = plan_from_dict(plan.to_dict())
    assert verify(again, spec) == [] and again.cost_per_hour == plan.cost_per_hour


def test_too_few_workers_breaks_the_cycle(planned) -> None:  # noqa: ANN001
    spec, plan = planned
    g = plan.modules[0].groups[0]
    if g.workers > 1 or len(plan.modules[0].groups) > 1:
        bad = _edit_group(plan, 0, workers=max(1, g.workers - 1)) if g.workers > 1 else replace(
            plan, modules=(replace(plan.modules[0], groups=plan.modules[0].groups[:1]),) + plan.modules[1:])
    else:  # one worker: double the module's rate instead
        bad = replace(plan, rate=plan.rate * 4, modules=tuple(replace(m, rate=m.rate * 4) for m in plan.modules))
        spec = replace(spec, app=replace(spec.app, rate=spec.app.rate * 4))
    assert any("cycle" in v or "worst latency" in v for v in verify(bad, spec))


def test_budget_overrun_and_path_overrun(planned) -> None:  # noqa: ANN001
    spec, plan = planned
    tight = replace(plan, modules=(replace(plan.modules[0], budget_ms=plan.modules[0].worst_latency_ms / 2),)
                    + plan.modules[1:])
    assert any("budget" in v for v in verify(tight, spec))
    long = replace(plan, modules=(replace(plan.modules[0], budget_ms=spec.app.slo_ms),) + plan.modules[1:])
    assert any("longest path" in v for v in verify(long, spec))


def test_wrong_latency_price_and_unprofiled_batch(planned) -> None:  # noqa: ANN001
    spec, plan = planned
    assert any("latency_ms" in v for v in verify(_edit_group(plan, 0, latency_ms=0.001), spec))
    assert any("price" in v for v in verify(_edit_group(plan, 0, price_per_hour=0.01), spec))
    assert any("no profile" in v for v in verify(_edit_group(plan, 0, batch_size=3), spec))
    assert any("not in the catalog" in v for v in verify(_edit_group(plan, 0, hardware="TPU"), spec))


def test_missing_module_and_check_raises(planned) -> None:  # noqa: ANN001
    spec, plan = planned
    bad = replace(plan, modules=plan.modules[:1])
    with pytest.raises(PlanInvalidError):
        check(bad, spec)


def test_round_robin_rules(planned) -> None:  # noqa: ANN001
    spec, plan = planned
    mp = plan.modules[1]
    g = mp.groups[0]
    rr = replace(mp, dispatch=ROUND_ROBIN, groups=(replace(g, share_rate=mp.rate),), budget_ms=1e6, worst_latency_ms=1e6)
    ok = replace(plan, modules=(plan.modules[0], rr), slo_ms=spec.app.slo_ms)
    problems = verify(ok, spec)
    assert not any("round-robin" in p or "req/s" in p for p in problems)
    half = replace(rr, groups=(replace(g, share_rate=mp.rate / 2),))
    assert any("sum to" in p for p in verify(replace(plan, modules=(plan.modules[0], half)), spec))


def test_shared_worker_rules(planned) -> None:  # noqa: ANN001
    spec, plan = planned
    slot = SharedSlot("b", 1, spec.profiles.get("cls", "T4").effective(1))
    too_short = SharedWorker("T4", slot.latency_ms / 2, 0.5, (slot,))
    problems = verify(replace(plan, shared_workers=(too_short,)), spec)
    assert any("slot times" in p for p in problems)


def test_plan_json_has_formats_fields(planned) -> None:  # noqa: ANN001
    _, plan = planned
    d = plan.to_dict()
    for key in ("app", "planner", "rate", "slo_ms", "cost_per_hour", "lower_bound_per_hour", "planning_ms", "modules"):
        assert key in d
    for key in ("name", "model", "rate", "dispatch", "budget_ms", "worst_latency_ms", "cost_per_hour", "groups"):
        assert key in d["modules"][0]
    assert set(d["modules"][0]["groups"][0]) >= {"hardware", "batch_size", "workers"}


def test_bundled_app_plans_and_verifies() -> None:
    from skinflint.demo import bundled_app

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        spec = load_spec(bundled_app())
    for name in ("optimal", "naive", "even-split-single", "even-split"):
        assert verify(skinflint.plan(spec, planner=name), spec) == []
