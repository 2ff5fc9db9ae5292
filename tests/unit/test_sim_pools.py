"""Pools in the simulator, case by case: the start-up transient that the pool bound does not
cover (exact figures), a pool that feeds itself never stalls, pool workers counted once, errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from skinflint.errors import SpecError
from skinflint.planners.fleet import plan_fleet
from skinflint.sim import LogNormal, item_excess_ms, simulate, simulate_fleet
from skinflint.spec.profiles import build_profiles
from skinflint.spec.types import App, Hardware, Module, Spec


def fleet_case(chain: bool) -> tuple[list[Spec], object]:
    """App a (20 req/s) runs model1 twice, app b (150 req/s) runs model0 then model1; the planner
    pools all three model1 modules: k = 3, R = 190, 3 x h0 @ 8."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        profiles = build_profiles([("p", "x", ("model0", "h0", 8, 30.899)), ("p", "x", ("model1", "h0", 8, 109.404))])
    hw = {"h0": Hardware("h0", 2.442)}
    a = Spec(App("a", 20.0, 1841.617, (Module("m0", "model1"), Module("m1", "model1", ("m0",) if chain else ())),
                 1.0), hw, profiles)
    b = Spec(App("b", 150.0, 471.274, (Module("m0", "model0"), Module("m1", "model1", ("m0",))), 1.0), hw, profiles)
    fleet = plan_fleet([a, b])
    (pool,) = fleet.pools
    assert pool.members == ("a/m0", "a/m1", "b/m1") and pool.rate == 190.0
    # W = 1000 (b + k - 2) / R + d = 1000 * 9 / 190 + 109.404 = 47.368421 + 109.404
    assert pool.worst_latency_ms == pytest.approx(156.772421, abs=1e-6)
    return [a, b], fleet


def uniform_arrivals(duration_s: float) -> list[np.ndarray]:
    return [np.arange(int(duration_s * 20)) * 50.0, np.arange(int(duration_s * 150)) * 1000.0 / 150]


def test_start_up_transient_is_the_only_broken_promise():
    # At t = 1 ms only app a's two streams reach the pool: b's items come after b/m0's promise.
    # b/m0 is one worker of b = 8, d = 30.899 at 150 req/s (W = 1000 * 7 / 150 + 30.899 =
    # 77.565667): its first batch closes when b's request 7 is released (46.666667 + 1 hop), runs
    # 30.899 ms and reaches the pool after the 1 ms hop, at 79.565667 = O_b, b/m1's promise offset.
    # In promise-release order (keys a_i + 1 and 79.565667 + 6.666667 j) the pool's first batch
    # of 8 is a0/m0, a0/m1, a1/m0, a1/m1, b0..b3 (b3's key 99.565667 < a2's 101): it fills from a
    # thinner stream than R = 190 and closes at 79.565667, when b0..b3 arrive; done at + 109.404.
    # a0's promise is 0 + 1 (hop) + W = 157.772421, so it is late by
    #     79.565667 + 109.404 - 157.772421 = 1000 * 7 / 150 + 30.899 + 1 - 1000 * 9 / 190 = 31.197246 ms
    # (a0/m1 too: same batch). From then on all three streams are present and every item keeps
    # the bound.
    specs, fleet = fleet_case(chain=False)
    results = simulate_fleet(fleet, specs, uniform_arrivals(10.0), 10.0, np.random.default_rng(0))
    assert all(r.completed == r.requests for r in results)
    late = {}
    for r in results:
        for (name, excess), mt in zip(item_excess_ms(r).items(), r.trace.modules):
            for i, e in zip(mt.item_request[mt.ran], excess):
                if e > 1e-6:
                    late[(r.plan.app, name, int(i))] = e
    assert set(late) == {("a", "m0", 0), ("a", "m1", 0)}
    assert late[("a", "m0", 0)] == pytest.approx(31.197246, abs=1e-5)
    assert all(r.latency_ms.max() <= r.model.slo_ms for r in results)


@pytest.mark.parametrize("arrivals", ["uniform", "poisson"])
def test_a_pool_that_feeds_itself_never_stalls(arrivals):
    # a/m1 runs after a/m0 in the same pool: at start-up the open batch holds a/m0's items while
    # the next item in order is a/m1's of the same request; the engine closes it early
    specs, fleet = fleet_case(chain=True)
    results = simulate_fleet(fleet, specs, arrivals, 20.0, np.random.default_rng(1))
    assert all(r.completed == r.requests > 0 for r in results)
    if arrivals == "uniform":  # past start-up, every item keeps its promise
        steady = [(r, r.trace.arrival_ms > 1000.0) for r in results]
        for r, keep in steady:
            for (name, excess), mt in zip(item_excess_ms(r).items(), r.trace.modules):
                assert np.all(excess[keep[mt.item_request[mt.ran]]] <= 1e-6), (r.plan.app, name)


def test_pool_workers_are_counted_once_and_batches_mix_members():
    specs, fleet = fleet_case(chain=False)
    results = simulate_fleet(fleet, specs, uniform_arrivals(5.0), 5.0, np.random.default_rng(0))
    for r in results:
        rows = [w for w in r.worker_stats() if w["module"].startswith("(pool")]
        assert len(rows) == 3  # 3 x h0 @ 8, once, though app a has two members
        mt = r.trace.modules[-1]
        assert sum(w["batches"] for w in rows) == mt.batch_size.size
    items = sum(int(mt.ran.sum()) for r in results for mt, m in zip(r.trace.modules, r.model.modules) if m.pool)
    assert items == results[0].trace.modules[0].batch_size.sum()  # every pool item ran in a pool batch


def test_errors_name_the_option():
    specs, fleet = fleet_case(chain=False)
    with pytest.raises(SpecError, match="one spec and one arrival"):
        simulate_fleet(fleet, specs[:1], ["uniform", "uniform"], 1.0, np.random.default_rng(0))
    with pytest.raises(SpecError, match="pool"):  # an app of a fleet needs the fleet's pools
        simulate(fleet.apps[0], specs[0], "uniform", 1.0, np.random.default_rng(0))


def test_admission_control_and_jitter_keep_every_request_accounted_for():
    specs, fleet = fleet_case(chain=True)
    results = simulate_fleet(fleet, specs, "poisson", 10.0, np.random.default_rng(2), max_in_flight=3,
                             jitter=LogNormal(0.2), early_close=True)
    for r in results:
        assert r.requests == r.on_time + r.late + sum(r.dropped.values()) > 0
    assert any(r.dropped for r in results)  # 3 in flight per app is too few for b at 150 req/s
