"""The clock-free estimator, the re-planning policies and plan transitions."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings, strategies as st

from skinflint.api import plan
from skinflint.control import RateEstimate, RateEstimator, RateGrid, make_policy, policy_names, transition
from skinflint.control.policies import register_policy
from skinflint.errors import SpecError


def est(now: float, ewma: float, peak: float | None = None, mean: float | None = None) -> RateEstimate:
    return RateEstimate(now, ewma, ewma if mean is None else mean, ewma if peak is None else peak)


def test_ewma_converges_to_a_steady_rate_and_halves_in_one_half_life():
    e = RateEstimator(half_life_s=10, window_s=5, initial_rate=0.0)
    e.observe(10.0, 1000)              # 100 req/s over one half-life: ewma = 0.5 * 100
    assert e.estimate(10.0).ewma == pytest.approx(50.0)
    for k in range(2, 40):
        e.observe(10.0 * k, 1000)
    assert e.estimate(390.0).ewma == pytest.approx(100.0, rel=1e-6)


def test_ewma_does_not_depend_on_how_often_it_is_fed():
    a, b = RateEstimator(30, 10), RateEstimator(30, 10)
    for k in range(1, 101):
        a.observe(float(k), 50)        # 50 req/s, fed every second
    for k in range(1, 11):
        b.observe(10.0 * k, 500)       # the same, fed every 10 s
    assert a.estimate(100.0).ewma == pytest.approx(b.estimate(100.0).ewma, rel=1e-9)


def test_window_max_sees_a_short_burst_the_ewma_smooths():
    e = RateEstimator(half_life_s=60, window_s=10, initial_rate=100.0)
    for k in range(1, 10):
        e.observe(float(k), 100)
    e.observe(10.0, 400)               # one second at 400 req/s
    r = e.estimate(10.0)
    assert r.window_max == pytest.approx(400.0)
    assert r.window_mean == pytest.approx((9 * 100 + 400) / 10)
    assert r.ewma < 110                # 1 s of a 60 s half-life: weight 1 - 2^(-1/60) ~ 1.1 %
    for k in range(11, 21):
        e.observe(float(k), 100)
    assert e.estimate(20.0).window_max == pytest.approx(100.0)   # the burst left the window


def test_time_going_back_is_refused():
    e = RateEstimator()
    e.observe(5.0, 1)
    with pytest.raises(ValueError):
        e.observe(4.0, 1)


@given(st.floats(0.01, 1e5), st.floats(0.005, 0.5))
def test_grid_rounds_up_by_at_most_one_step(rate, step):
    g = RateGrid(1.0, step)
    up = g.up(rate)
    assert up >= rate - 1e-6 * rate
    assert up <= max(1.0, rate) * (1 + step) * (1 + 1e-6)


def test_hysteresis_scales_up_at_once_and_down_only_after_delay_dwell_and_by_a_step():
    p = make_policy("hysteresis", headroom=0.0, dwell_s=100, down_after_s=50, band=0.1, down_step=0.5,
                    grid=RateGrid(1.0, 0.01))
    cur = p.decide(0, est(0, 100), None)
    assert cur == pytest.approx(100, rel=0.01)
    assert p.decide(1, est(1, 95), cur) is None            # within the band
    up = p.decide(2, est(2, 100, peak=150), cur)           # a burst in the window: up now
    assert up == pytest.approx(150, rel=0.01)
    assert all(p.decide(t, est(t, 20), up) is None for t in range(3, 102))   # dwell since t=2 runs to 102
    down = p.decide(102, est(102, 20), up)
    assert down == pytest.approx(up * 0.5, rel=0.011)                       # one step, not straight to 20
    assert p.decide(103, est(103, 20), down) is None                        # dwell again


def test_hysteresis_low_spell_must_be_continuous():
    p = make_policy("hysteresis", headroom=0.0, dwell_s=0, down_after_s=30, grid=RateGrid(1.0, 0.01))
    cur = p.decide(0, est(0, 100), None)
    assert p.decide(10, est(10, 50), cur) is None
    assert p.decide(20, est(20, 100), cur) is None          # back up: the spell restarts
    assert p.decide(45, est(45, 50), cur) is None           # a new spell begins at 45
    assert p.decide(75, est(75, 50), cur) is not None       # 30 s below


def test_headroom_scales_the_ewma():
    p = make_policy("hysteresis", headroom=0.2, grid=RateGrid(1.0, 0.001))
    assert p.decide(0, est(0, 100, peak=0), None) == pytest.approx(120, rel=0.002)


def test_epoch_replans_on_the_last_epoch_mean_every_epoch_only():
    p = make_policy("epoch", epoch_s=30, grid=RateGrid(1.0, 0.001))
    cur = p.decide(0, est(0, 100), None)
    assert p.decide(10, est(10, 100, mean=200), cur) is None          # mid-epoch
    new = p.decide(30, est(30, 100, mean=200, peak=900), cur)         # boundary: the mean, no peak, no headroom
    assert new == pytest.approx(200, rel=0.002)
    assert p.decide(45, est(45, 100, mean=50), new) is None
    assert p.decide(60, est(60, 100, mean=50), new) == pytest.approx(50, rel=0.002)


def test_static_plans_once():
    p = make_policy("static", rate=300, grid=RateGrid(1.0, 0.001))
    first = p.decide(0, est(0, 10), None)
    assert first == pytest.approx(300, rel=0.002)
    assert p.decide(5, est(5, 1000), first) is None


def test_registry_lists_names_and_refuses_unknowns_and_duplicates():
    assert {"static", "epoch", "hysteresis"} <= set(policy_names())
    with pytest.raises(SpecError, match="hysteresis"):
        make_policy("nope")
    with pytest.raises(SpecError, match="its parameters"):
        make_policy("epoch", dwell_s=3)
    with pytest.raises(SpecError):
        make_policy("hysteresis", band=2.0)
    with pytest.raises(ValueError):
        register_policy("epoch", lambda: None)


def test_transition_starts_what_is_new_and_drains_what_is_gone(traffic_dir):
    small = plan(traffic_dir / "app.yaml", rate=60, sharing=False)
    big = plan(traffic_dir / "app.yaml", rate=300, sharing=False)
    up = transition(small, big)
    down = transition(big, small)
    assert up.start == down.drain and up.drain == down.start and up.keep == down.keep
    started = sum(n for _, n in up.start) - sum(n for _, n in up.drain)
    assert started == sum(m.workers for m in big.modules) - sum(m.workers for m in small.modules)
    # cost of the worker sets adds up: old + started - drained = new
    assert small.cost_per_hour + up.start_cost_per_hour - up.drain_cost_per_hour == pytest.approx(big.cost_per_hour)
    assert transition(big, big).is_noop
    first = transition(None, small)
    assert not first.drain and first.start_cost_per_hour == pytest.approx(small.cost_per_hour)
