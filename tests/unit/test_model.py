"""MODEL.md's formulas on hand-computed numbers."""

from __future__ import annotations

import math

import pytest

from skinflint import model
from skinflint.spec.profiles import effective_times


def test_worst_latency_batch_aware() -> None:
    # b = 8 at 300 req/s: 7 gaps of 1000/300 ms = 23.33 ms to fill, + 10 ms to run
    assert math.isclose(model.worst_latency_ms(8, 10.0, 300.0), 7 * 1000 / 300 + 10.0)


def test_worst_latency_round_robin_scales_with_workers() -> None:
    # 4 workers share 400 req/s: each sees 100 req/s, a batch of 5 fills in 4 x 10 ms = 40 ms
    assert math.isclose(model.worst_latency_rr_ms(5, 12.0, 400.0, 4), 40.0 + 12.0)


def test_throughput_and_cycle() -> None:
    assert math.isclose(model.throughput(16, 20.0), 800.0)              # 1000 * 16 / 20
    assert math.isclose(model.cycle_ms(3 * 16, 600.0), 80.0)            # 1000 * 48 / 600


def test_cover_needed_rounds_up_and_tolerates_noise() -> None:
    assert model.cover_needed(20.0, 1000.0, 1.0) == 20                 # 1000 * 20 / 1000 exactly
    assert model.cover_needed(20.000000000001, 1000.0, 1.0) == 20      # float noise is not a 21st request
    assert model.cover_needed(21.0, 1000.0, 0.5) == 42                 # u = 0.5 doubles the need


def test_shared_worst_latency_adds_one_cycle() -> None:
    assert math.isclose(model.shared_worst_latency_ms(4, 10.0, 100.0, 50.0), 30.0 + 50.0 + 10.0)


def test_round_robin_share_lag_is_g_minus_one_gaps() -> None:
    assert model.rr_share_lag_ms(1, 300.0) == 0.0                               # one share: uniform
    assert math.isclose(model.rr_share_lag_ms(2, 300.0), 1000 / 300)             # 2 shares: one gap
    assert math.isclose(model.rr_share_lag_ms(3, 50.0), 2 * 1000 / 50)           # 3 shares: two gaps
    assert math.isclose(model.shared_worst_latency_rr_ms(8.0, 40.0, 20.0), 68.0)  # T_s + d + lags


def test_effective_times_pad_to_faster_larger_batch() -> None:
    eff, exe = effective_times([1, 2, 4, 8], [4.25, 4.32, 4.26, 5.57])
    assert eff == [4.25, 4.26, 4.26, 5.57]     # batch 2 runs padded to 4 (4.26 < 4.32)
    assert exe == [1, 4, 4, 8]


def test_longest_path_with_hops() -> None:
    from skinflint.spec.types import Module

    mods = [Module("a", "x"), Module("b", "x", ("a",)), Module("c", "x", ("a",)), Module("d", "x", ("b", "c"))]
    lat = {"a": 10.0, "b": 5.0, "c": 20.0, "d": 1.0}
    assert model.longest_path_ms(mods, lat, 2.0) == 10 + 20 + 1 + 3 * 2.0   # a -> c -> d


def test_longest_before_and_after_a_module() -> None:
    from skinflint.spec.types import Module

    mods = [Module("a", "x"), Module("b", "x", ("a",)), Module("c", "x", ("a",)), Module("d", "x", ("b", "c"))]
    lat = {"a": 10.0, "b": 5.0, "c": 20.0, "d": 1.0}
    # before d: a -> c = (10 + 2) + (20 + 2) = 34; before b and c: a = 12; a is an entry
    assert model.longest_before(mods, lat, 2.0) == {"a": 0.0, "b": 12.0, "c": 12.0, "d": 34.0}
    # after a: c -> d = (20 + 2) + (1 + 2) = 25; after b and c: d = 3; d is an exit
    assert model.longest_after(mods, lat, 2.0) == {"a": 25.0, "b": 3.0, "c": 3.0, "d": 0.0}
    # through b: 12 + (5 + 2) + 3 = 22, through every other module the path a -> c -> d = 37
    assert model.path_through_ms(mods, lat, 2.0) == {"a": 37.0, "b": 22.0, "c": 37.0, "d": 37.0}


def test_module_lags_use_the_factor_as_written_and_the_apps_rate() -> None:
    from skinflint.spec.types import App, Module

    app = App("t", 10.0, 500.0, (Module("det", "x"), Module("cls", "y", ("det",), 2.5), Module("half", "z", ("det",), 0.5)))
    lags = model.module_lags(app, True)
    # 2.5 = 5/2: 1000 (1 - 1/5) / 10 = 80 ms (MODEL.md's example); factors 1 and 1/2 have p = 1: no lag
    assert lags == {"det": 0.0, "cls": pytest.approx(80.0), "half": 0.0}
    assert model.module_lags(app, True, app_rate=20.0)["cls"] == pytest.approx(40.0)  # a plan's own rate
    assert model.module_lags(app, False) == {"det": 0.0, "cls": 0.0, "half": 0.0}


def test_worker_worst_ms_picks_the_formula_of_how_the_worker_is_fed() -> None:
    ba, rr = model.BATCH_AWARE, model.ROUND_ROBIN
    # batch-aware, b = 5 at 100 req/s: 4 gaps of 10 ms + d = 12, + a 3 ms lag
    assert model.worker_worst_ms(ba, 5, 12.0, 100.0, lag_ms=3.0) == pytest.approx(40.0 + 12.0 + 3.0)
    # ... on a shared worker of cycle 30 ms: one cycle more
    assert model.worker_worst_ms(ba, 5, 12.0, 100.0, shared_cycle_ms=30.0) == pytest.approx(40.0 + 30.0 + 12.0)
    # round-robin, a 50 req/s share over 2 workers: 1000 x 4 x 2 / 50 = 160, + d; 3 shares add 2 gaps at 100 req/s
    assert model.worker_worst_ms(rr, 5, 12.0, 100.0, share_rate=50.0, workers=2, shares=3) == \
        pytest.approx(160.0 + 12.0 + 20.0)
    # a round-robin share on a shared worker: T_s + d, + the share lag of 2 shares (one gap of 10 ms)
    assert model.worker_worst_ms(rr, 5, 12.0, 100.0, shares=2, shared_cycle_ms=30.0) == pytest.approx(30 + 12 + 10)
    # a pool of 3 merged streams at 300 req/s: 1000 (5 + 3 - 2) / 300 = 20, + d, + the member's own lag
    assert model.worker_worst_ms(ba, 5, 12.0, 300.0, pool_members=3) == pytest.approx(20.0 + 12.0)
    assert model.worker_worst_ms(ba, 5, 12.0, 300.0, pool_members=3, lag_ms=9.0) == pytest.approx(20.0 + 12.0 + 9.0)
