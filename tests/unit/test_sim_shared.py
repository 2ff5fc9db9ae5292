"""Shared workers (MODEL.md, node merging): a plan that co-locates two residuals on one worker
with a duty cycle is simulated, keeps its promise, and both executors agree on it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from skinflint.plan import Group, ModulePlan, Plan, SharedSlot, SharedWorker
from skinflint.sim import promise_violations, simulate
from skinflint.spec.profiles import build_profiles
from skinflint.spec.types import App, Hardware, Module, Spec
from skinflint.verify import verify
from tests.property.test_sim_paths_agree import assert_same


@pytest.fixture
def shared_case() -> tuple[Plan, Spec]:
    rows = [(Path("p.csv"), "x", row) for row in (("a", "T", 2, 12.0), ("a", "T", 4, 20.0),
                                                   ("b", "T", 2, 10.0), ("b", "T", 4, 15.0))]
    spec = Spec(App("shared", 100.0, 104.0, (Module("A", "a"), Module("B", "b", ("A",))), 1.0),
                {"T": Hardware("T", 0.5)}, build_profiles(rows))
    # A: 1 x T @ 4 (W = 30 + 20 = 50) plus a shared slot @ 2 (W = 10 + T_s 30 + 12 = 52)
    # B: 1 x T @ 4 (W = 30 + 15 = 45) plus a shared slot @ 2 (W = 10 + 30 + 10 = 50)
    # shared cycle 30 >= 12 + 10; module cycles 1000 * (4 + 2) / 100 = 60 >= 30; path 52 + 1 + 50 + 1 = 104
    plan = Plan("shared", "hand", 100.0, 104.0, (
        ModulePlan("A", "a", 100.0, 52.0, 52.0, (Group("T", 4, 1, 20.0, 0.5, 50.0),)),
        ModulePlan("B", "b", 100.0, 50.0, 50.0, (Group("T", 4, 1, 15.0, 0.5, 45.0),))), 1.0,
        (SharedWorker("T", 30.0, 0.5, (SharedSlot("A", 2, 12.0), SharedSlot("B", 2, 10.0))),))
    assert verify(plan, spec) == []
    return plan, spec


def test_shared_worker_keeps_the_promise_under_uniform_arrivals(shared_case):
    plan, spec = shared_case
    for phase in (0.0, 3.3, 9.99):
        result = simulate(plan, spec, phase + np.arange(3000) * 10.0, 30.0, np.random.default_rng(0), engine="event")
        assert promise_violations(result) == []
        shared = [w for w in result.worker_stats() if w["module"] == "(shared)"]
        assert len(shared) == 1 and shared[0]["batch_size"] == {"A": 2, "B": 2}
        # one of every three batches of each module goes to the shared slot (sizes 4, 2 per cycle)
        assert shared[0]["batches"] == pytest.approx(2 * 3000 / 6, abs=2)


def test_shared_worker_runs_in_its_slots(shared_case):
    plan, spec = shared_case
    result = simulate(plan, spec, "poisson", 20.0, np.random.default_rng(3), engine="event")
    for name, offset in (("A", 0.0), ("B", 12.0)):
        m = result.model.modules[result.model.index(name)]
        k = next(i for i, w in enumerate(m.workers) if w.shared >= 0)
        mt = result.trace.modules[result.model.index(name)]
        starts = mt.batch_start_ms[mt.batch_worker == k]
        assert starts.size > 100
        np.testing.assert_allclose((starts - offset) / 30.0, np.round((starts - offset) / 30.0), atol=1e-9)


def test_both_paths_agree_with_shared_workers(shared_case):
    plan, spec = shared_case
    runs = [simulate(plan, spec, "poisson", 20.0, np.random.default_rng(5), engine=e) for e in ("vector", "event")]
    assert_same(*runs)
