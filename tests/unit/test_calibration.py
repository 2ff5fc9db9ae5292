"""Calibration recovers an injected latency drift, and re-planning on it changes the plan."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from skinflint.api import plan
from skinflint.calibration import calibrate, old_profile, profile_csv, read_measurements
from skinflint.cli import main
from skinflint.errors import SpecError
from skinflint.spec.loader import load_spec
from skinflint.verify import verify

DRIFT = 0.20
TOLERANCE = 0.03   # |recovered / injected - 1| per configuration: 5 % log-normal noise, 101 runs -> the
                   # median has sd ~ 1.25 x 5 % / sqrt(101) ~ 0.6 %, so 3 % is ~5 sd


def write_measurements(path, table, models, rng, drift=DRIFT, runs=101, sigma=0.05, sizes=None):
    """One row per simulated batch run: the old latency x (1 + drift) x log-normal noise (median 1)."""
    lines = ["model,hardware,batch_size,latency_ms"]
    for (model, hw, b), ms in table.items():
        if model in models and (sizes is None or b in sizes):
            for x in ms * (1 + drift) * rng.lognormal(0.0, sigma, runs):
                lines.append(f"{model},{hw},{b},{x:.4f}")
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture
def traffic(traffic_dir):
    warnings.simplefilter("ignore")
    return traffic_dir, old_profile(traffic_dir / "profiles.csv")


def test_injected_drift_is_recovered_per_configuration(traffic, tmp_path):
    d, table = traffic
    detector = next(k[0] for k in table if k[0].startswith("ssd"))
    write_measurements(tmp_path / "m.csv", table, {detector}, np.random.default_rng(3))
    rows = calibrate(table, read_measurements(tmp_path / "m.csv"))
    measured = [r for r in rows if r.source == "measured"]
    assert len(measured) == sum(1 for k in table if k[0] == detector)
    for r in measured:
        assert abs((1 + r.drift) / (1 + DRIFT) - 1) <= TOLERANCE, r
    assert all(r.drift == 0 for r in rows if r.model != detector)


def test_unmeasured_batch_sizes_are_scaled_by_their_pair_drift_or_kept(traffic, tmp_path):
    d, table = traffic
    detector = next(k[0] for k in table if k[0].startswith("ssd"))
    write_measurements(tmp_path / "m.csv", table, {detector}, np.random.default_rng(4), sizes={1, 2})
    measured = read_measurements(tmp_path / "m.csv")
    scaled = [r for r in calibrate(table, measured) if r.source == "scaled"]
    assert scaled and all(abs((1 + r.drift) / (1 + DRIFT) - 1) <= TOLERANCE for r in scaled)
    kept = calibrate(table, measured, scale_unmeasured=False)
    assert not [r for r in kept if r.source == "scaled"]


def test_too_few_runs_keep_the_old_value_and_statistics_are_named(traffic, tmp_path):
    d, table = traffic
    key = next(iter(table))
    rows = calibrate(table, {key: np.array([2 * table[key]] * 3)}, min_samples=5)
    assert next(r for r in rows if (r.model, r.hardware, r.batch_size) == key).new_ms == table[key]
    p90 = calibrate(table, {key: np.arange(1.0, 11.0)}, statistic="p90")
    assert next(r for r in p90 if (r.model, r.hardware, r.batch_size) == key).new_ms == 9.0   # 9 of 10 runs <= 9
    with pytest.raises(SpecError, match="median"):
        calibrate(table, {}, statistic="mean")


def test_replanning_on_the_calibrated_profile_changes_the_plan(traffic, tmp_path):
    d, table = traffic
    models = {k[0] for k in table}
    write_measurements(tmp_path / "m.csv", table, models, np.random.default_rng(5))
    before = plan(d / "app.yaml")
    (d / "profiles.csv").write_text(profile_csv(calibrate(table, read_measurements(tmp_path / "m.csv"))))
    drifted = load_spec(d / "app.yaml")
    after = plan(drifted)
    # every batch is ~20 % slower: the old plan breaks its promise, the new one costs more
    assert verify(before, drifted)
    assert not verify(after, drifted)
    assert after.cost_per_hour > before.cost_per_hour
    # and it costs what planning on the exact drift costs, within the noise
    exact = "\n".join(["model,hardware,batch_size,latency_ms"] +
                      [f"{m},{h},{b},{ms * (1 + DRIFT):.6g}" for (m, h, b), ms in table.items()])
    (d / "profiles.csv").write_text(exact + "\n")
    assert after.cost_per_hour == pytest.approx(plan(d / "app.yaml").cost_per_hour, rel=0.05)


def test_calibrate_command_writes_the_profile_and_reports_drift(traffic, tmp_path, capsys):
    d, table = traffic
    write_measurements(tmp_path / "m.csv", table, {next(iter(table))[0]}, np.random.default_rng(6))
    out = tmp_path / "new.csv"
    assert main(["calibrate", str(tmp_path / "m.csv"), "--profiles", str(d / "profiles.csv"), "-o", str(out),
                 "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert abs(report["summary"]["median_drift"] - DRIFT) <= TOLERANCE * (1 + DRIFT)
    assert len(old_profile(out)) == len(table)
    assert main(["calibrate", str(tmp_path / "m.csv"), "--profiles", str(d / "profiles.csv")]) == 0
    assert "drift" in capsys.readouterr().out
    (tmp_path / "bad.csv").write_text("model,hardware,batch_size\nx,T4,1\n")
    assert main(["calibrate", str(tmp_path / "bad.csv"), "--profiles", str(d / "profiles.csv")]) == 2
