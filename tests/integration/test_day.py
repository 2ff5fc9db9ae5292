"""The day loop in simulation: no request lost in a switch, cost integrates $/h, the policies differ."""

from __future__ import annotations

import json

import numpy as np
import pytest

from skinflint.cli import main
from skinflint.control import RateGrid, make_policy
from skinflint.daynight import DayCurve, LoopSettings, PlanCache, compare_day, run_loop, simulate_day
from skinflint.daynight.loop import counts_per_tick
from skinflint.spec.loader import load_spec

# 30 simulated minutes: night at 20 req/s, a ramp to 120 req/s, a plateau, back down
CURVE = "time_s,rate\n0,20\n300,20\n600,120\n1200,120\n1500,20\n1800,20\n"


@pytest.fixture
def day(tiny_dir):
    (tiny_dir / "curve.csv").write_text(CURVE)
    return load_spec(tiny_dir / "app.yaml"), DayCurve.from_csv(tiny_dir / "curve.csv"), tiny_dir


def test_switches_start_before_they_drain_and_lose_no_request(day):
    spec, curve, _ = day
    plans = PlanCache(spec)
    results = compare_day(spec, curve, np.random.default_rng(2), plans)
    assert len(plans) > 1                                       # the cache passed in is the one used
    assert [r.name.split()[0] for r in results] == ["skinflint", "static", "nexus", "nexus"]
    for r in results:
        assert r.dropped == 0                                   # no request is lost, in a switch or elsewhere
        assert r.requests == results[0].requests                # the same arrivals for every policy
    loop, static, epochs = results[0], results[1], results[2]
    assert static.plan_changes == 0 and loop.plan_changes > 0
    assert epochs.plan_changes > loop.plan_changes               # no hysteresis: it follows every epoch's noise
    assert loop.cost_usd < static.cost_usd                      # the night is cheaper than the peak
    # a steep ramp (+100 req/s in 5 min) against 30 s start-ups: the headroom carries most of it
    assert loop.slo_attainment > max(0.97, epochs.slo_attainment)


def test_cost_integrates_each_plans_rate_over_its_time_plus_startup_overlap(day):
    spec, curve, _ = day
    plans = PlanCache(spec)
    settings = LoopSettings(startup_s=45.0)
    times = curve.arrival_times_ms(np.random.default_rng(3))
    counts = counts_per_tick(times, curve.length_s, settings.tick_s)
    schedule = run_loop(make_policy("hysteresis", grid=RateGrid(1.0, 0.05)), counts, plans, settings, 20.0)
    real = [s for s in schedule.switches if not s.steps.is_noop]
    assert real and all(s.live_s - s.decided_s == 45.0 for s in real)
    # no decision while a switch is under way
    assert all(b.decided_s >= a.live_s for a, b in zip(schedule.switches, schedule.switches[1:]))
    live, startup = schedule.cost_usd(curve.length_s)
    by_hand = sum(p.cost_per_hour * (b - a) for a, b, p in schedule.segments(curve.length_s)) / 3600.0
    assert live == pytest.approx(by_hand)
    assert startup == pytest.approx(sum(s.steps.start_cost_per_hour * 45.0 for s in real) / 3600.0)
    result = simulate_day(spec, schedule, times, curve.length_s, np.random.default_rng(4), "loop")
    assert result.cost_usd >= live + startup                    # + the drained workers' tails
    assert result.switch_overlap_usd - startup < 0.01 * live     # tails last one batch or so


def test_static_costs_the_peak_plan_for_the_whole_day(day):
    spec, curve, _ = day
    plans = PlanCache(spec)
    grid = RateGrid(1.0, 0.05)
    counts = counts_per_tick(curve.arrival_times_ms(np.random.default_rng(5)), curve.length_s, 1.0)
    schedule = run_loop(make_policy("static", rate=120, grid=grid), counts, plans, LoopSettings(), 20.0)
    assert not schedule.switches
    assert schedule.cost_usd(curve.length_s) == (pytest.approx(plans(grid.up(120)).cost_per_hour * 0.5), 0.0)


def test_bursts_raise_the_rate_inside_their_windows_only(day):
    _, curve, _ = day
    burst = curve.with_bursts(np.array([[700.0, 800.0]]), 3.0)
    t = np.array([650.0, 700.0, 750.0, 799.0, 800.0, 900.0])
    base = np.interp(t, curve.times_s, curve.rates)
    got = np.interp(t, burst.times_s, burst.rates)
    assert got == pytest.approx(base * np.array([1, 3, 3, 3, 1, 1]), rel=1e-4)


def test_day_command_json_and_bad_input(day, capsys):
    _, _, d = day
    assert main(["day", str(d / "app.yaml"), "--curve", str(d / "curve.csv"), "--bursts", "count=2,factor=2",
                 "--no-early-close", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["results"]) == 4 and out["bursts"]["count"] == 2
    assert main(["day", str(d / "app.yaml"), "--curve", str(d / "curve.csv"), "--peak", "40", "--format",
                 "markdown"]) == 0
    table = capsys.readouterr().out
    assert table.startswith("| policy |") and table.count("\n") == 6 and "static peak" in table
    assert main(["day", str(d / "app.yaml"), "--curve", str(d / "curve.csv"), "--bursts", "often=3"]) == 2
    (d / "bad.csv").write_text("time_s,rate\n5,10\n")
    assert main(["day", str(d / "app.yaml"), "--curve", str(d / "bad.csv")]) == 2
    assert "time 0" in capsys.readouterr().err
