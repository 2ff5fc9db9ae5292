"""`skinflint compare`: one row per planner, the optimum first, JSON and table, bad options exit 2;
under a random traffic every planner at the same target (its own headroom), under `--traffic
uniform` MODEL.md's worst case with the uniform simulation's columns."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import skinflint.cli as cli
import skinflint.report.compare as compare
from skinflint.report.compare import SimSummary


@pytest.fixture
def app_file(tmp_path: Path) -> Path:
    """Detector then classifier at 40 req/s on two hardware types (monotone profiles)."""
    (tmp_path / "hardware.yaml").write_text("hardware:\n  T4: {price_per_hour: 0.5}\n  A10G: {price_per_hour: 1.0}\n")
    rows = ["model,hardware,batch_size,latency_ms"]
    for model, base in (("det", 20.0), ("cls", 5.0)):
        for hw, speed in (("T4", 1.0), ("A10G", 0.5)):
            rows += [f"{model},{hw},{b},{base * speed * (1 + 0.5 * b):.3f}" for b in (1, 2, 4, 8)]
    (tmp_path / "profiles.csv").write_text("\n".join(rows) + "\n")
    (tmp_path / "app.yaml").write_text(
        "name: tiny\nprofiles: profiles.csv\nhardware: hardware.yaml\nrate: 40\nslo_ms: 300\n"
        "modules:\n  - name: a\n    model: det\n  - name: b\n    model: cls\n    after: [a]\n    rate_factor: 2\n")
    return tmp_path / "app.yaml"


@pytest.fixture
def run(monkeypatch, capsys):  # noqa: ANN001, ANN201
    """main(argv) with this branch's commands; returns (exit code, stdout, stderr)."""
    monkeypatch.setattr(cli, "COMMANDS", tuple(c for c in cli.COMMANDS if c in ("plan", "compare")))

    def go(*argv: str) -> tuple[int, str, str]:
        code = cli.main(list(argv))
        out = capsys.readouterr()
        return code, out.out, out.err

    return go


def test_json_has_the_optimum_first_and_every_planner(run, app_file):
    code, out, _ = run("compare", str(app_file), "--traffic", "uniform", "--format", "json")
    assert code == 0
    doc = json.loads(out)
    rows = {r["planner"]: r for r in doc["rows"]}
    assert doc["rows"][0]["planner"] == "optimal" and rows["optimal"]["ratio_to_optimal"] == 1.0
    assert {"nexus", "harpagon", "naive"} <= set(rows)
    for r in doc["rows"]:
        if r["status"] == "ok":
            assert r["ratio_to_optimal"] == pytest.approx(r["cost_per_hour"] / rows["optimal"]["cost_per_hour"])
            assert r["gap_to_lower_bound"] >= 1 - 1e-9
        else:
            assert r["message"].startswith("no plan")


def test_simulated_columns_come_from_the_simulator_hook(run, app_file, monkeypatch):
    monkeypatch.setattr(compare, "simulate_plan", lambda plan, spec: SimSummary(123.4, 150.0, 0.995))
    code, out, _ = run("compare", str(app_file), "--traffic", "uniform", "--planners", "naive", "--format", "json")
    assert code == 0
    rows = json.loads(out)["rows"]
    assert [r["planner"] for r in rows] == ["optimal", "naive"]
    assert rows[1]["sim_p99_ms"] == 123.4 and rows[1]["slo_attainment"] == 0.995
    code, out, _ = run("compare", str(app_file), "--traffic", "uniform", "--planners", "naive")
    assert "123.4" in out and "99.50%" in out


def test_without_a_simulator_the_columns_show_a_dash(run, app_file, monkeypatch):
    monkeypatch.setattr(compare, "simulate_plan", lambda plan, spec: None)
    code, out, _ = run("compare", str(app_file), "--traffic", "uniform", "--planners", "nexus,harpagon")
    assert code == 0
    assert "nexus" in out and "harpagon" in out and "—" in out


def test_unknown_planner_is_a_one_line_error(run, app_file):
    code, out, err = run("compare", str(app_file), "--planners", "nexus,bogus")
    assert code == 2 and out == ""
    assert "--planners" in err and "'bogus'" in err and "harpagon" in err


def test_an_unmeetable_slo_exits_3(run, app_file):
    code, _, err = run("compare", str(app_file), "--slo-ms", "1")
    assert code == 3 and "smallest SLO" in err


def test_under_poisson_every_planner_reaches_the_target_at_its_own_headroom(run, app_file):
    code, out, _ = run("compare", str(app_file), "--target", "0.99", "--planners", "inferline,triton",
                       "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["traffic"]["arrivals"] == "poisson" and doc["target"] == 0.99
    rows = {r["planner"]: r for r in doc["rows"]}
    assert list(rows) == ["optimal", "inferline", "triton"]
    for r in rows.values():
        assert r["planned_attained"] >= 0.99 and r["attained"] >= 0.99 - 0.005   # MODEL.md's check, fresh seeds
        assert r["headroom"] is not None and r["sim_p99_ms"] is None
    assert rows["inferline"]["headroom"] == 0.0
    code, out, _ = run("compare", str(app_file), "--target", "0.99", "--planners", "triton")
    assert code == 0 and "× skinflint" in out and "attained" in out and "headroom" in out


def test_uniform_plans_of_inferline_are_simulated_to_the_end(run, app_file):
    code, out, _ = run("compare", str(app_file), "--traffic", "uniform", "--planners", "inferline", "--format", "json")
    assert code == 0
    row = json.loads(out)["rows"][1]
    assert row["planner"] == "inferline" and row["slo_attainment"] == 1.0 and row["sim_worst_ms"] <= 300
