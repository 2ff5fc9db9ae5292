"""Arrival processes: counts and means as stated, tails not cut, seeded, registry errors."""

from __future__ import annotations

import numpy as np
import pytest

from skinflint.errors import SpecError
from skinflint.sim import arrival_kinds, make_arrivals, register_arrivals


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def test_registry_names_and_errors():
    assert {"uniform", "poisson", "bursty", "onoff", "varying", "diurnal", "replay"} <= set(arrival_kinds())
    with pytest.raises(SpecError, match="choose one of"):
        make_arrivals("gamma", rate=1)
    with pytest.raises(SpecError, match="takes no parameter 'burst'"):
        make_arrivals("bursty", rate=1, burst=2)
    with pytest.raises(SpecError, match="share x ratio must be <= 1"):
        make_arrivals("bursty", rate=1, ratio=10, share=0.5)
    with pytest.raises(ValueError, match="already registered"):
        register_arrivals("poisson", lambda rate: None)


def test_uniform_is_exactly_periodic():
    t = make_arrivals("uniform", rate=250, phase_ms=1.0).times_ms(2.0, rng())
    assert t.size == 500 and t[0] == 1.0
    np.testing.assert_allclose(np.diff(t), 4.0)


def test_poisson_mean_and_untouched_tail():
    gaps = np.diff(make_arrivals("poisson", rate=1000).times_ms(200.0, rng(1)))
    assert gaps.mean() == pytest.approx(1.0, rel=0.01)
    # P(gap > 8 x mean) = e^-8: about 67 of 200k gaps; a cap at 3x mean (as some simulators do) leaves none
    assert 30 < np.count_nonzero(gaps > 8.0) < 110
    assert gaps.max() > 10.0


@pytest.mark.parametrize("kind,params", [("bursty", {"ratio": 4, "burst_s": 0.5, "share": 0.2}),
                                         ("onoff", {"ratio": 5, "burst_s": 0.2})])
def test_bursty_keeps_the_mean_rate_and_is_burstier_than_poisson(kind, params):
    t = make_arrivals(kind, rate=500, **params).times_ms(400.0, rng(2))
    assert t.size / 400.0 == pytest.approx(500, rel=0.05)
    counts = np.bincount((t // 100).astype(int))          # arrivals per 100 ms window: mean 50
    assert counts.var() / counts.mean() > 5               # Poisson would give about 1


def test_seeded_processes_repeat_and_differ_by_seed():
    p = make_arrivals("bursty", rate=100)
    np.testing.assert_array_equal(p.times_ms(10, rng(7)), p.times_ms(10, rng(7)))
    assert not np.array_equal(p.times_ms(10, rng(7)), p.times_ms(10, rng(8)))


def test_varying_from_csv_follows_the_profile(tmp_path):
    csv = tmp_path / "day.csv"
    csv.write_text("time_s,rate\n0,100\n10,100\n10.001,400\n20,400\n", encoding="utf-8")
    t = make_arrivals("varying", csv=str(csv), mode="uniform", step_s=0.001).times_ms(20.0, rng())
    assert np.count_nonzero(t < 10_000) == pytest.approx(1000, abs=2)
    assert np.count_nonzero(t >= 10_000) == pytest.approx(4000, abs=3)
    scaled = make_arrivals("varying", csv=str(csv), rate=50.0).times_ms(20.0, rng(1))
    assert scaled.size == pytest.approx(1000, rel=0.1)


def test_varying_csv_errors_name_the_line(tmp_path):
    csv = tmp_path / "bad.csv"
    csv.write_text("time_s,rate\n0,10\n0,20\n", encoding="utf-8")
    with pytest.raises(SpecError, match="line 3.time_s"):
        make_arrivals("varying", csv=str(csv))


def test_diurnal_swings_between_day_and_night():
    t = make_arrivals("diurnal", rate=200, amplitude=0.8, period_s=20).times_ms(20.0, rng(3))
    day, night = np.count_nonzero(t < 10_000), np.count_nonzero(t >= 10_000)
    # day: 200 x 10 x (1 + 0.8 x 2 / pi) = 3019 expected, night 981
    assert t.size == pytest.approx(4000, rel=0.05) and day > 2.5 * night


def test_replay_shifts_sorts_and_says_what_it_leaves_out(tmp_path):
    f = tmp_path / "ts.txt"
    f.write_text("# recorded\n10.5\n10.0\n\n11.0\n15.0\n", encoding="utf-8")
    p = make_arrivals("replay", file=str(f))
    with pytest.warns(UserWarning, match="1 of 4 timestamps fall after"):
        t = p.times_ms(2.0, rng())
    np.testing.assert_allclose(t, [0.0, 500.0, 1000.0])
    f.write_text("1\nnoon\n", encoding="utf-8")
    with pytest.raises(SpecError, match="line 2"):
        make_arrivals("replay", file=str(f))
