"""Live re-planning on the embedded runtime (sleep runner: workers sleep the profiled time) and
the batch log that `skinflint calibrate` reads.

The stepped-load test runs ~11 s of real time: 10 -> 40 -> 10 req/s with test-sized policy
parameters (2 s dwell, 2 s below the band before stepping down, 0.5 s ticks, 1 s half-life)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

import skinflint
from skinflint.calibration import read_measurements
from skinflint.cli import main
from skinflint.commands.serve import live_runtime
from skinflint.control import make_policy
from skinflint.control.transition import transition, worker_counts
from skinflint.runtime import Refused, Runtime, make_backend
from skinflint.runtime.batchlog import COLUMNS, BatchLog
from skinflint.runtime.live import (LiveRuntime, drive, make_runtime_factory, policy_settings,
                                    stepped_times_ms)
from skinflint.spec.loader import load_spec

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "live-replan"
FRAME = np.zeros((3, 8, 8), dtype=np.float32)
POLICY = "hysteresis:headroom=0.15,dwell_s=2,down_after_s=2,band=0.1,down_step=1"
UP_AT, DOWN_AT, END = 2.0, 6.0, 11.0


@pytest.fixture
def app(tmp_path: Path) -> Path:
    for name in ("app.yaml", "profiles.csv", "hardware.yaml"):
        shutil.copy(EXAMPLE / name, tmp_path / name)
    return tmp_path / "app.yaml"


def test_stepped_load_replans_up_at_once_down_after_the_dwell_and_loses_no_request(app: Path, tmp_path: Path):
    spec = load_spec(app)
    log = BatchLog(tmp_path / "batches.csv")
    live = live_runtime(spec, POLICY, {"runner": "sleep"}, {"batch_log": log},
                        policy_settings(tick_s=0.5, half_life_s=1.0, window_s=1.0))
    try:
        first = live.live.plan
        out = drive(live, stepped_times_ms([(10, UP_AT), (40, DOWN_AT - UP_AT), (10, END - DOWN_AT)]), FRAME)
    finally:
        live.close()
        log.close()
    changes = [s for s in live.switches if not s.steps.is_noop]
    costs = [first.cost_per_hour] + [s.plan.cost_per_hour for s in changes]
    # up fast: within two ticks of the step, to a dearer plan that starts workers
    up = changes[0]
    assert UP_AT <= up.decided_s <= UP_AT + 1.0 and up.plan.cost_per_hour > first.cost_per_hour
    assert up.steps.start
    assert max(costs) > first.cost_per_hour
    # down slowly: only after the load fell, after the delay and the dwell, to a cheaper plan
    downs = [(a, b) for a, b in zip(changes, changes[1:]) if b.plan.cost_per_hour < a.plan.cost_per_hour]
    assert downs, [(s.decided_s, s.plan.cost_per_hour) for s in changes]
    for before, down in downs:
        assert down.decided_s >= DOWN_AT + 2.0 and down.decided_s - before.decided_s >= 2.0
        assert down.steps.drain
    assert live.live.plan.cost_per_hour < max(costs)
    # zero lost: every request answered, refused with a reason or failed with a reason
    assert out["lost"] == 0
    assert out["sent"] == out["refused"] + out["on_time"] + out["late"] + out["failed"]
    assert out["failed"] == 0 and all(out["reasons"])
    counts = live.counts
    assert counts["admitted"] == counts["completed"] + counts["failed"] and live.in_flight == 0
    assert counts["admitted"] + counts["refused"] == out["sent"]
    assert all(r.in_flight == 0 for r in live.runtimes)
    # SLO: the admitted are on time; refusals only while the 10 req/s plan met 40 req/s
    assert out["on_time"] >= 0.95 * (out["on_time"] + out["late"])
    assert out["on_time"] >= 0.85 * out["sent"]
    # the batches it ran are a file calibrate reads, for both models
    measured = read_measurements(tmp_path / "batches.csv")
    assert {m for m, _, _ in measured} == {"detector", "classifier"}
    assert main(["calibrate", str(tmp_path / "batches.csv"), "--profiles", str(app.parent / "profiles.csv"),
                 "--format", "json"]) == 0


def test_a_switch_with_requests_in_flight_drains_the_old_plan_and_answers_each_once(app: Path):
    spec = load_spec(app)
    make = make_runtime_factory(spec, lambda: make_backend("embedded", runner="sleep"))
    policy = make_policy("hysteresis", dwell_s=0, down_after_s=0)
    now = [100.0]   # an injected clock (s): the switch's times are read from it
    live = LiveRuntime(spec, policy, make, settings=policy_settings(tick_s=3600.0, half_life_s=1.0, window_s=1.0),
                       clock=lambda: now[0])
    try:
        old = live.live
        futures, refused = [], 0
        for _ in range(60):                        # 60 offered in the first second: 60 req/s
            try:
                futures.append(live.submit(FRAME))
            except Refused as e:
                refused += 1
                assert str(e)
        now[0] = 101.25
        switch = live.step(1.0)
        assert switch is not None and not switch.steps.is_noop and live.live is not old
        assert (switch.decided_s, switch.live_s) == (1.0, 1.25)   # live once started: 101.25 - 100 s
        assert live.live.plan.cost_per_hour > old.plan.cost_per_hour
        after = [live.submit(FRAME) for _ in range(5)]
        results = [f.result(timeout=30) for f in futures + after]
    finally:
        live.close()
    assert len({r.request for r in results[:len(futures)]}) == len(futures)   # one answer per request
    assert old.counts["admitted"] == len(futures) and old.counts["completed"] == len(futures)
    assert live.live.counts["admitted"] == 5 and live.counts["refused"] == refused
    assert old.in_flight == 0


def test_workers_common_to_both_plans_are_handed_over_not_started_twice(app: Path):
    spec = load_spec(app)
    make = make_runtime_factory(spec, lambda: make_backend("embedded", runner="sleep"))
    low, high = skinflint.plan(spec, rate=20, traffic="uniform"), skinflint.plan(spec, rate=40, traffic="uniform")
    steps = transition(low, high)        # 20 req/s: one detector, one classifier; 40: two detectors, one classifier
    kept, started = sum(n for _, n in steps.keep), sum(n for _, n in steps.start)
    assert (kept, started) == (2, 1)
    old = make(low)
    new = make(high)
    try:
        assert make.handover.reused == kept and make.handover.started == sum(worker_counts(low).values()) + started
        shared = {id(w) for ws in old.workers for w in ws} & {id(w) for ws in new.workers for w in ws}
        assert len(shared) == kept
        futs = [old.submit(FRAME), new.submit(FRAME)]      # the old one still drains on them meanwhile
        assert all(f.result(timeout=10).outputs for f in futs)
        old.close()                                        # releases, does not close, what the new one took
        assert new.submit(FRAME).result(timeout=10).outputs["classify"]
    finally:
        new.close()
        make.close()


def test_recorded_batches_recover_an_injected_drift(app: Path, tmp_path: Path):
    """Workers 20 % slower than the profile: the recorded file calibrates back to ~+20 %."""
    drifted = tmp_path / "drifted"
    drifted.mkdir()
    for name in ("app.yaml", "hardware.yaml"):
        shutil.copy(app.parent / name, drifted / name)
    lines = (app.parent / "profiles.csv").read_text().splitlines()
    rows = [line.split(",") for line in lines[1:]]
    (drifted / "profiles.csv").write_text("\n".join([lines[0]] + [",".join([m, h, b, f"{float(ms) * 1.2:g}", *rest])
                                                                  for m, h, b, ms, *rest in rows]) + "\n")
    spec = load_spec(drifted / "app.yaml")
    plan = skinflint.plan(load_spec(app), rate=20)   # planned on the old profile, run at the drifted speed
    log = BatchLog(tmp_path / "m.csv")
    rt = Runtime(plan, spec, make_backend("embedded", runner="sleep"), batch_log=log)
    try:
        out = drive(rt, stepped_times_ms([(20, 1.5)]), FRAME)
    finally:
        rt.close()
        log.close()
    assert out["lost"] == 0 and log.rows > 0
    header = (tmp_path / "m.csv").read_text().splitlines()[0]
    assert tuple(header.split(",")) == COLUMNS
    assert main(["calibrate", str(tmp_path / "m.csv"), "--profiles", str(app.parent / "profiles.csv"),
                 "--min-samples", "5", "--format", "json", "-o", str(tmp_path / "new.csv")]) == 0
    report = load_report(tmp_path)
    assert 0.18 <= report <= 0.30   # +20 % and a few ms of thread hand-over per batch


def load_report(tmp_path: Path) -> float:
    """The median drift of the measured rows of new.csv against the example's profile."""
    import csv
    old = {}
    for line in (EXAMPLE / "profiles.csv").read_text().splitlines()[1:]:
        m, h, b, ms, *_ = line.split(",")
        old[(m, h, b)] = float(ms)
    with (tmp_path / "new.csv").open() as f:
        rows = [r for r in csv.DictReader(f) if r["source"] == "measured"]
    assert rows
    return float(np.median([float(r["latency_ms"]) / old[(r["model"], r["hardware"], r["batch_size"])]
                            for r in rows])) - 1.0


@pytest.mark.parametrize("args, field", [
    (["--replan", "nope"], "--replan"),
    (["--replan", "hysteresis:dwell_s"], "--replan"),
    (["--replan", "hysteresis", "--plan", "plan.json"], "--replan"),
    (["--replan", "hysteresis:bogus=1"], "bogus"),
])
def test_bad_replan_options_exit_2_with_one_line(app: Path, capsys, args, field):
    assert main(["serve", str(app), "--runner", "sleep", "--port", "8999", *args]) == 2
    err = capsys.readouterr().err
    assert field in err and "Traceback" not in err
