"""`skinflint simulate` end to end: tables, JSON, a given plan, the CDF plot, and one-line errors."""

from __future__ import annotations

import json

import pytest

from skinflint import cli

APP = "examples/traffic/app.yaml"


@pytest.fixture
def run(monkeypatch, capsys):
    # only the commands this branch provides (COMMANDS also names `demo`, added elsewhere)
    monkeypatch.setattr(cli, "COMMANDS", tuple(c for c in cli.COMMANDS if c in ("plan", "simulate")))
    monkeypatch.setenv("COLUMNS", "160")

    def go(*args: str) -> tuple[int, str, str]:
        code = cli.main(list(args))
        out, err = capsys.readouterr()
        return code, out, err
    return go


def test_simulate_prints_tables(run):
    code, out, _ = run("simulate", APP, "--duration", "5", "--arrivals", "uniform")
    assert code == 0
    assert "SLO" in out and "vehicle_type" in out and "cost $" in out


def test_simulate_json_with_a_given_plan_and_a_cdf(run, tmp_path):
    code, plan_json, _ = run("plan", APP, "--format", "json", "--headroom", "0.1")
    assert code == 0
    (tmp_path / "plan.json").write_text(plan_json, encoding="utf-8")
    png = tmp_path / "cdf.png"
    code, out, _ = run("simulate", APP, "--plan", str(tmp_path / "plan.json"), "--arrivals", "bursty:ratio=2,burst_s=0.5",
                       "--duration", "5", "--seed", "3", "--format", "json", "--cdf", str(png), "--early-close")
    assert code == 0
    d = json.loads(out)
    assert d["requests"] == d["on_time"] + d["late"] + sum(d["dropped"].values())
    assert d["early_close"] is True and d["engine"] == "event"
    assert png.stat().st_size > 10_000 and png.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("args,needle", [
    (("--arrivals", "gamma"), "unknown arrival process 'gamma'"),
    (("--arrivals", "bursty:ratio"), "cannot read 'ratio'"),
    (("--arrivals", "bursty:wobble=2"), "takes no parameter 'wobble'"),
    (("--dispatch", "lifo"), "unknown dispatch policy 'lifo'"),
    (("--jitter", "gauss"), "--jitter"),
    (("--format", "xml"), "unknown format"),
    (("--duration", "-1"), "--duration"),
])
def test_bad_options_exit_2_with_one_line(run, args, needle):
    code, _, err = run("simulate", APP, *args)
    assert code == 2
    assert needle in err and "Traceback" not in err and err.count("error:") == 1


def test_bad_plan_file_exit_2(run, tmp_path):
    bad = tmp_path / "plan.json"
    bad.write_text("{not json", encoding="utf-8")
    code, _, err = run("simulate", APP, "--plan", str(bad))
    assert code == 2 and "plan.json" in err


FLEET = [f"examples/fleet/{n}.yaml" for n in ("traffic", "parking", "entrance")]


def test_simulate_a_fleet_prints_one_table_per_app_and_the_fleet(run):
    code, out, _ = run("simulate", *FLEET, "--duration", "5", "--arrivals", "uniform")
    assert code == 0
    assert "fleet: 3 apps, 3 shared pools" in out and "cyclic (pool1:" in out
    for app in ("traffic", "parking", "entrance"):
        assert f"{app}: " in out


def test_simulate_a_fleet_as_json_and_bad_fleet_options(run):
    code, out, _ = run("simulate", *FLEET, "--duration", "3", "--arrivals", "uniform", "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert [a["app"] for a in doc["fleet"]] == ["traffic", "parking", "entrance"] and doc["pools"]
    assert all(a["requests"] == a["completed"] for a in doc["fleet"])
    code, _, err = run("simulate", *FLEET[:2], "--rate", "10")
    assert code == 2 and "--rate" in err
