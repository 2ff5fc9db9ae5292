"""The CLI reads well (issue 15): --version, plain help and usage, one error prefix, tables never
cut at 80 columns, warnings once and only for the hardware used, a hint on low attainment."""

from __future__ import annotations

import re

import warnings
from pathlib import Path

import pytest
from rich.cells import cell_len

from skinflint.cli import main
from skinflint.spec import profiles
from skinflint.spec.loader import load_spec
from tests.integration import malformed

ROOT = Path(__file__).resolve().parents[2]
TRAFFIC = str(ROOT / "examples/traffic/app.yaml")


def _run(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture()
def tiny(tmp_path: Path) -> Path:
    for name, text in (("app.yaml", malformed.APP), ("hardware.yaml", malformed.HARDWARE),
                       ("profiles.csv", malformed.PROFILES), ("curve.csv", "time_s,rate\n0,5\n60,10\n120,5\n")):
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def test_version(capsys: pytest.CaptureFixture) -> None:
    from skinflint import __version__

    assert _run(capsys, "--version") == (0, f"skinflint {__version__}\n", "")


@pytest.mark.parametrize("command,usage", [("plan", "Usage: skinflint plan [OPTIONS] APP_FILES..."),
                                           ("day", "Usage: skinflint day [OPTIONS] APP_FILE")])
def test_help_is_plain_and_never_cut(capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch,
                                     command: str, usage: str) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    code, out, _ = _run(capsys, command, "--help")
    assert code == 0 and out.startswith(usage + "\n")
    assert "<bool>" not in out and "{" not in out and "…" not in out
    assert max(cell_len(line) for line in out.splitlines()) <= 80


def test_flags_come_in_pairs(capsys: pytest.CaptureFixture) -> None:
    _, out, _ = _run(capsys, "plan", "--help")
    assert "--sharing / --no-sharing" in out and "--pools / --no-pools" in out


@pytest.mark.parametrize("argv,start", [
    (["plan", TRAFFIC, "--bogus"], "skinflint: error: command line: No such option: --bogus (fix: see "),
    (["plan", TRAFFIC, "--rate", "x"], "skinflint: error: command line: --rate: 'x' is not a number"),
    (["plan", TRAFFIC, "--planner", "x"], "skinflint: error: command line: --planner: unknown planner 'x'"),
    (["plan", TRAFFIC, "--utilization", "0"], "skinflint: error: command line: --utilization: 0 is below"),
    (["simulate", TRAFFIC, "--arrivals", "replay"], "skinflint: error: command line: --arrivals: replay needs file="),
])
def test_one_error_prefix(capsys: pytest.CaptureFixture, argv: list[str], start: str) -> None:
    code, _, err = _run(capsys, *argv)
    errors = [ln for ln in err.splitlines() if not ln.startswith("skinflint: warning:")]
    assert code == 2 and len(errors) == 1 and errors[0].startswith(start), errors


def _assert_not_cut(out: str) -> None:
    """No ellipsis, and no table wider than 80 (free text may run on: the terminal wraps it)."""
    assert "…" not in out
    assert all(cell_len(line.rstrip()) <= 80 for line in out.splitlines() if set(line) & set("│┃━─"))


@pytest.mark.parametrize("argv", [["simulate", TRAFFIC], ["plan", TRAFFIC], ["profiles", "list", "--match", "resnet"],
                                  ["compare", "{tiny}/app.yaml"], ["simulate", "--arrivals", "uniform", TRAFFIC]])
def test_tables_never_cut_at_80_columns(capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch,
                                        tiny: Path, argv: list[str]) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    code, out, err = _run(capsys, *(a.replace("{tiny}", str(tiny)) for a in argv))
    assert code == 0, err
    _assert_not_cut(out)
    if argv[:2] == ["simulate", TRAFFIC]:   # whole, where the old table showed `6.8…` and `11,9…`
        assert "18,112" in out and re.search(r"\(\$\d+\.\d{3}/h\)", out), out


def test_day_at_80_columns_names_its_span_and_peak(capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch,
                                                   tiny: Path) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    code, out, err = _run(capsys, "day", str(tiny / "app.yaml"), "--curve", str(tiny / "curve.csv"),
                          "--peak", "20", "--bursts", "count=1,factor=1.5,duration_s=30", "--startup-s", "5")
    assert code == 0, err
    _assert_not_cut(out)
    # a 2-minute curve is not "$ / day"; the peak is the rescaled one (20), bursts shown apart (x 1.5 = 30)
    assert "$ for 2 min" in out and "$ / day" not in out
    assert "peak 20 req/s (30.0 in bursts)" in out


def test_simulate_hints_at_headroom_when_attainment_is_low(capsys: pytest.CaptureFixture, tmp_path: Path) -> None:
    worst_case = tmp_path / "plan.json"      # MODEL.md's plan for uniform arrivals at 300 req/s
    _run(capsys, "plan", TRAFFIC, "--traffic", "uniform", "-o", str(worst_case))
    # bursts at 1.5 x the rate exceed the worst-case plan's capacity
    _, bursts, _ = _run(capsys, "simulate", TRAFFIC, "--plan", str(worst_case), "--arrivals", "mmpp:ratio=1.5,share=0.2")
    assert "hint: " in bursts and "--headroom 0.15" in bursts and "--target" in bursts
    _, uniform, _ = _run(capsys, "simulate", TRAFFIC, "--plan", str(worst_case))   # the traffic it was made for
    assert "hint: " not in uniform


def test_profile_warnings_once_and_only_for_the_hardware_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(profiles, "_WARNED", set())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        load_spec(TRAFFIC, hardware=["T4", "A100-40GB"])  # the V100 curves are not used
        load_spec(TRAFFIC)
        load_spec(TRAFFIC)
    said = [str(w.message) for w in caught if w.category is profiles.ProfileWarning]
    # the bundled app has 3 padded curves: 1 on A100 (first load), 2 on V100 (second); none twice
    assert len(said) == 3 and len(set(said)) == 3
    assert "A100-40GB" in said[0] and all("V100" in s for s in said[1:])
