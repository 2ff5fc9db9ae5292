"""MODEL.md's formulas on hand-computed numbers."""

from __future__ import annotations

import math

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
