"""verify's rule for a round-robin share on a shared worker (docs/baselines.md): each slot takes
`share_rate` req/s, runs once per cycle T_s, holds every arrival of a cycle, and W = T_s + d."""

from __future__ import annotations

from dataclasses import replace

import pytest
from .baseline_specs import make_spec

from skinflint.api import plan_spec
from skinflint.plan import BATCH_AWARE, plan_from_dict
from skinflint.verify import verify

CURVE = {1: 5.0, 2: 6.0, 4: 8.0, 8: 12.0, 16: 20.0}


@pytest.fixture
def merged():  # noqa: ANN201
    """Nexus's plan with a and b on one shared worker: T_s = 40, a @ 4 (100 req/s), b @ 2 (50 req/s)."""
    spec = make_spec({("A", "G"): CURVE}, {"G": 1.0}, [("a", "A", (), 1.0), ("b", "A", (), 0.5)],
                     rate=100, slo_ms=50)
    return spec, plan_spec(spec, planner="nexus")


def _with_slots(plan, cycle_ms=None, **changes):  # noqa: ANN001, ANN202
    (sw,) = plan.shared_workers
    slots = tuple(replace(s, **changes.get(s.module, {})) for s in sw.slots)
    return replace(plan, shared_workers=(replace(sw, slots=slots, cycle_ms=cycle_ms or sw.cycle_ms),))


def test_the_merged_plan_verifies_and_survives_json(merged):
    spec, plan = merged
    assert verify(plan, spec) == []
    again = plan_from_dict(plan.to_dict())
    assert [s.share_rate for s in again.shared_workers[0].slots] == [s.share_rate for s in plan.shared_workers[0].slots]
    assert verify(again, spec) == []


def test_json_writes_share_rate_and_still_reads_the_old_rate_key(merged):
    spec, plan = merged
    d = plan.to_dict()
    slots = d["shared_workers"][0]["slots"]
    assert [s["share_rate"] for s in slots] == [100.0, 50.0] and not any("rate" in s for s in slots)
    for s in slots:            # a plan file written before `share_rate`: the share was called `rate`
        s["rate"] = s.pop("share_rate")
    for m in d["modules"]:
        for g in m["groups"]:
            g["rate"] = g.pop("share_rate")
    old = plan_from_dict(d)
    assert old.to_dict() == plan.to_dict() and verify(old, spec) == []


def test_a_slot_needs_its_rate_share(merged):
    spec, plan = merged
    assert any("needs a positive rate share" in v for v in verify(_with_slots(plan, a={"share_rate": None}), spec))


def test_the_shares_must_add_up_to_the_module_rate(merged):
    spec, plan = merged
    assert any("sum to" in v for v in verify(_with_slots(plan, b={"share_rate": 40.0}), spec))


def test_a_cycle_whose_arrivals_overflow_the_batch_is_rejected(merged):
    spec, plan = merged
    # 41 ms x 100 req/s = 4.1 requests > batch 4; and W = 41 + 8 = 49 still fits the 50 ms budget
    problems = verify(_with_slots(plan, cycle_ms=41.0), spec)
    assert any("requests per cycle > batch 4" in v for v in problems)


def test_worst_latency_is_cycle_plus_batch_time(merged):
    spec, plan = merged
    # batch 8 holds 43 x 100 / 1000 = 4.3 requests, but W = 43 + 12 = 55 ms > 50 ms
    problems = verify(_with_slots(plan, cycle_ms=43.0, a={"batch_size": 8, "latency_ms": 12.0}), spec)
    assert any("shared slot worst latency 55.0000 ms > budget 50.0000 ms" in v for v in problems)


def test_the_utilization_cap_bounds_the_occupancy(merged):
    spec, plan = merged
    # slot times 8 + 6 = 14 ms > u x T_s = 0.3 x 40 = 12 ms
    assert any("slot times sum to 14.0000 ms > 12.0000 ms" in v for v in verify(replace(plan, utilization=0.3), spec))


def test_batch_aware_modules_take_no_rate_share(merged):
    spec, plan = merged
    modules = tuple(replace(m, dispatch=BATCH_AWARE) for m in plan.modules)
    assert any("takes no rate share" in v for v in verify(replace(plan, modules=modules), spec))
