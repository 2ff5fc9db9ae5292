"""The `plan` and `demo` commands end to end: table, JSON as FORMATS.md, exit 3, overrides."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from skinflint.cli import main


def test_plan_json_matches_formats(tiny_dir: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["plan", str(tiny_dir / "app.yaml"), "--format", "json", "--traffic", "uniform"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["app"] == "tiny" and d["planner"] == "optimal" and d["rate"] == 100.0 and d["slo_ms"] == 300.0
    # MODEL.md's worst case: proven, not simulated
    assert d["traffic"] == {"arrivals": "uniform", "fanout": "together", "jitter": "none"} and d["target"] == 1.0
    assert d["attained"] is None and d["seeds"] == [] and d["requests"] == 0
    assert d["cost_per_hour"] == pytest.approx(sum(m["cost_per_hour"] for m in d["modules"]))
    assert 0 < d["lower_bound_per_hour"] <= d["cost_per_hour"]
    assert [m["name"] for m in d["modules"]] == ["a", "b"]
    assert d["modules"][1]["rate"] == 200.0                      # rate 100 x rate_factor 2
    g = d["modules"][0]["groups"][0]
    assert {"hardware", "batch_size", "workers"} <= set(g)


def test_plan_for_the_default_traffic_records_what_its_check_measured(tiny_dir: Path,
                                                                      capsys: pytest.CaptureFixture) -> None:
    assert main(["plan", str(tiny_dir / "app.yaml"), "--format", "json"]) == 0
    d = json.loads(capsys.readouterr().out)
    # FORMATS.md: Poisson arrivals, fan-out together, profile jitter, target 0.999 by default
    assert d["traffic"] == {"arrivals": "poisson", "fanout": "together", "jitter": "profile"} and d["target"] == 0.999
    assert d["attained"] >= 0.999 and len(d["seeds"]) == 8 and d["requests"] > 0
    assert d["offered_rate"] == pytest.approx(100.0) and d["rate"] == pytest.approx(100.0 * (1 + d["headroom"]))
    refs = d["references"]
    assert refs["single_headroom_per_hour"] >= d["cost_per_hour"] >= refs["uniform_optimum_per_hour"]


def test_plan_overrides_and_headroom(tiny_dir: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["plan", str(tiny_dir / "app.yaml"), "--format", "json", "--rate", "50", "--slo-ms", "400",
                 "--headroom", "0.2", "--utilization", "0.9", "--hardware", "T4"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["rate"] == pytest.approx(60.0) and d["offered_rate"] == pytest.approx(50.0)   # 50 x 1.2
    assert d["slo_ms"] == 400.0 and d["utilization"] == 0.9
    assert {g["hardware"] for m in d["modules"] for g in m["groups"]} == {"T4"}


def test_plan_table(tiny_dir: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["plan", str(tiny_dir / "app.yaml")]) == 0
    out = capsys.readouterr().out
    assert "lower bound" in out and "$/h" in out and ("T4" in out or "A10G" in out)


def test_infeasible_exits_3_with_smallest_slo(tiny_dir: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["plan", str(tiny_dir / "app.yaml"), "--slo-ms", "1"]) == 3
    err = capsys.readouterr().err
    assert "smallest SLO that can be met is" in err and len(err.strip().splitlines()) == 1
    # det on A10G at batch 1: 20 x 0.5 x 1.5 = 15 ms; cls on A10G at batch 1: 5 x 0.5 x 1.5 = 3.75 ms,
    # + its fan-out lag (factor 2 at 100 req/s): 1000 (1 - 1/2) / 100 = 5 ms
    assert "23.750 ms" in err


def test_output_file(tiny_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    assert main(["plan", str(tiny_dir / "app.yaml"), "-o", str(out)]) == 0
    assert json.loads(out.read_text())["app"] == "tiny"


def test_installed_entry_point_runs_demo() -> None:
    exe = Path(sys.executable).with_name("skinflint")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "skinflint"]
    res = subprocess.run(cmd + ["demo"], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert "skinflint" in res.stdout and "usual way" in res.stdout


def test_python_api_returns_plan(tiny_dir: Path) -> None:
    import skinflint

    plan = skinflint.plan(tiny_dir / "app.yaml", rate=80)
    assert isinstance(plan, skinflint.Plan) and plan.offered_rate == pytest.approx(80)
    assert plan.check is not None and plan.check.attained >= 0.999
    assert skinflint.verify(plan, skinflint.load_spec(tiny_dir / "app.yaml", rate=80)) == []
