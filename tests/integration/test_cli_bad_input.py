"""Bad input of every kind: exit 2, one line on stderr naming the file and field, no traceback
(and, below, the seeded generator of tests/integration/malformed.py: every case with its verdict).

Over 200 malformed or garbage inputs are generated from a valid app by mutating one thing at a
time (app, hardware and profile files, and command-line options), plus random garbage text.
"""

from __future__ import annotations

import contextlib
import io
import re
import signal
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skinflint.cli import main
from tests.integration import malformed

APP = {
    "name": "tiny", "profiles": "profiles.csv", "hardware": "hardware.yaml", "rate": 100, "slo_ms": 300,
    "modules": [{"name": "a", "model": "det"}, {"name": "b", "model": "cls", "after": ["a"], "rate_factor": 2}],
}
HW = {"hardware": {"T4": {"price_per_hour": 0.5}, "A10G": {"price_per_hour": 1.0}}}
CSV = malformed.PROFILES  # det on T4 and A10G, cls on T4

BAD_VALUES = [-1, 0, "abc", "300", None, [], {}, float("inf"), float("nan"), True, -0.5]


def _app_mutations() -> list[tuple[str, object]]:
    out: list[tuple[str, object]] = []
    for key in ("name", "profiles", "hardware", "rate", "slo_ms", "modules"):
        out.append((f"app missing {key}", {k: v for k, v in APP.items() if k != key}))
    for key in ("rate", "slo_ms"):
        for v in BAD_VALUES:
            out.append((f"app {key}={v!r}", {**APP, key: v}))
    for v in (-1, "x", None, [], float("nan"), True):
        out.append((f"hop_ms={v!r}", {**APP, "hop_ms": v}))
    for v in BAD_VALUES:
        mods = [dict(m) for m in APP["modules"]]
        mods[1]["rate_factor"] = v
        out.append((f"rate_factor={v!r}", {**APP, "modules": mods}))
    mod_cases = {
        "no modules": [],
        "modules not a list": {"a": 1},
        "module not a mapping": ["a"],
        "unknown parent": [{"name": "a", "model": "det", "after": ["zzz"]}],
        "self parent": [{"name": "a", "model": "det", "after": ["a"]}],
        "cycle": [{"name": "a", "model": "det", "after": ["b"]}, {"name": "b", "model": "cls", "after": ["a"]}],
        "cycle of three": [{"name": "a", "model": "det", "after": ["c"]}, {"name": "b", "model": "cls", "after": ["a"]},
                           {"name": "c", "model": "cls", "after": ["b"]}],
        "duplicate names": [{"name": "a", "model": "det"}, {"name": "a", "model": "cls"}],
        "unknown model": [{"name": "a", "model": "yolo-nope"}],
        "empty name": [{"name": "", "model": "det"}],
        "name not a string": [{"name": 5, "model": "det"}],
        "model missing": [{"name": "a"}],
        "typo field": [{"name": "a", "model": "det", "rate_facter": 2}],
        "after a number": [{"name": "a", "model": "det", "after": 3}],
        "parent twice": [{"name": "a", "model": "det"}, {"name": "b", "model": "cls", "after": ["a", "a"]}],
    }
    for label, mods in mod_cases.items():
        out.append((label, {**APP, "modules": mods}))
    for field in ("name", "model", "after"):
        for v in (None, 5, [], {}, "") if field != "after" else (None, 5, {}, [1], ""):
            mods = [dict(m) for m in APP["modules"]]
            mods[1][field] = v
            out.append((f"module {field}={v!r}", {**APP, "modules": mods}))
    out.append(("unknown top-level field", {**APP, "slo": 3}))
    out.append(("profiles path missing", {**APP, "profiles": "nope.csv"}))
    out.append(("hardware path missing", {**APP, "hardware": "nope.yaml"}))
    out.append(("profiles is a directory", {**APP, "profiles": "."}))
    out.append(("profiles list empty", {**APP, "profiles": []}))
    out.append(("name empty", {**APP, "name": ""}))
    return out


def _hw_mutations() -> list[tuple[str, object]]:
    out: list[tuple[str, object]] = [("hardware empty", {"hardware": {}}), ("hardware list", {"hardware": ["T4"]}),
                                     ("no hardware key", {"gpus": {}}), ("hardware null", {"hardware": None}),
                                     ("T4 missing price", {"hardware": {"T4": {}, "A10G": {"price_per_hour": 1}}}),
                                     ("T4 not mapping", {"hardware": {"T4": 0.5, "A10G": {"price_per_hour": 1}}})]
    for v in BAD_VALUES:
        out.append((f"price={v!r}", {"hardware": {"T4": {"price_per_hour": v}, "A10G": {"price_per_hour": 1.0}}}))
    return out


def _csv_mutations() -> list[tuple[str, str]]:
    header, *rows = CSV.splitlines()
    out = [("empty csv", ""), ("header only", header + "\n"), ("missing column", "model,hardware,batch_size\ndet,T4,1\n"),
           ("duplicate row", CSV + "det,T4,1,21\n"), ("unknown hardware", CSV + "det,TPUv9,1,3\n"),
           ("extra value", CSV + "det,T4,2,30,9,9\n"), ("short row", CSV + "det,T4\n"),
           ("empty model", CSV + ",T4,2,30\n"), ("empty hardware", CSV + "det,,2,30\n"),
           ("bad quoting", CSV + 'det,"T4,2,30\n'), ("binary", "\x00\x01\x02garbage"),
           ("whitespace only", "   \n\n"), ("semicolons", CSV.replace(",", ";")), ("latency with unit", CSV + "det,T4,2,5ms\n"),
           ("batch as float text", CSV + "det,T4,1.0,30\n"), ("model not in profiles", CSV.replace("cls", "clz"))]
    for v in ("abc", "-3", "0", "nan", "inf", "", "1e999", "-inf"):
        out.append((f"latency={v!r}", CSV + f"det,T4,2,{v}\n"))
    for v in ("2.5", "0", "-1", "x", "", "1e3"):
        out.append((f"batch={v!r}", CSV + f"det,T4,{v},30\n"))
    return out


PROFILE_YAML_ROWS = [{"model": "det", "hardware": "T4", "batch_size": 1, "latency_ms": 20},
                     {"model": "cls", "hardware": "T4", "batch_size": 1, "latency_ms": 5}]


def _profile_yaml_mutations() -> list[tuple[str, object]]:
    out: list[tuple[str, object]] = [("no profiles key", {"rows": PROFILE_YAML_ROWS}), ("profiles empty", {"profiles": []}),
                                     ("profiles mapping", {"profiles": {"det": 1}}),
                                     ("duplicate yaml row", {"profiles": PROFILE_YAML_ROWS + PROFILE_YAML_ROWS[:1]})]
    for field, values in (("latency_ms", (-1, 0, "5", None, float("nan"))), ("batch_size", (0, -2, 2.5, "4", None)),
                          ("model", (None, 3, "")), ("hardware", (None, "TPU"))):
        for v in values:
            rows = [dict(r) for r in PROFILE_YAML_ROWS]
            rows[0][field] = v
            out.append((f"yaml {field}={v!r}", {"profiles": rows}))
    return out


RAW_YAML = [("yaml syntax", "name: [unclosed\n"), ("yaml tabs", "name: x\n\t- y\n"), ("yaml list", "- a\n- b\n"),
            ("yaml scalar", "just a string\n"), ("yaml empty", ""), ("yaml binary", "\x00\x00\x00"),
            ("yaml bad indent", "name: x\n  rate: 3\n modules: []\n"), ("yaml duplicate colon", "a: b: c\n"),
            ("latin-1 bytes", None)]

OPTION_CASES = [["--rate", v] for v in ("-1", "0", "nan", "inf", "abc", "")] + \
    [["--slo-ms", v] for v in ("-1", "0", "nan", "x")] + \
    [["--utilization", v] for v in ("0", "1.5", "-1", "nan", "y")] + \
    [["--headroom", v] for v in ("-0.1", "nan", "inf", "z")] + \
    [["--hardware", v] for v in ("TPU", "", ",", "T4,,A10G")] + \
    [["--planner", "nope"], ["--format", "xml"], ["--bogus"], ["--rate"], ["--rate", "-inf"], ["--slo-ms", "inf"],
     ["--slo-ms", ""], ["--utilization", "inf"], ["--headroom", ""], ["--hardware", "t4"], ["--format", ""]]


def _write(d: Path, app: object = APP, hw: object = HW, csv: str = CSV) -> Path:
    (d / "app.yaml").write_text(app if isinstance(app, str) else yaml.safe_dump(app), encoding="utf-8")
    (d / "hardware.yaml").write_text(hw if isinstance(hw, str) else yaml.safe_dump(hw), encoding="utf-8")
    (d / "profiles.csv").write_text(csv, encoding="utf-8")
    return d / "app.yaml"


def _cases() -> list[tuple[str, dict]]:
    cases = [(f"app: {k}", {"app": v}) for k, v in _app_mutations()]
    cases += [(f"hardware: {k}", {"hw": v}) for k, v in _hw_mutations()]
    cases += [(f"profiles: {k}", {"csv": v}) for k, v in _csv_mutations()]
    cases += [(f"profiles.yaml: {k}", {"profiles_yaml": v}) for k, v in _profile_yaml_mutations()]
    cases += [(f"app raw: {k}", {"app": v}) for k, v in RAW_YAML]
    cases += [(f"hardware raw: {k}", {"hw": v}) for k, v in RAW_YAML]
    cases += [(f"option {' '.join(o)}", {"options": o}) for o in OPTION_CASES]
    cases += [("app path missing", {"app_path": "missing.yaml"}), ("app path is dir", {"app_path": "."})]
    return cases


CASES = _cases()


def test_there_are_at_least_200_cases() -> None:
    assert len(CASES) >= 200


def _run_case(tmp_path: Path, case: dict, capsys: pytest.CaptureFixture) -> tuple[int, str]:
    app_path = _write(tmp_path, case.get("app", APP), case.get("hw", HW), case.get("csv", CSV))
    for key, name in (("app", "app.yaml"), ("hw", "hardware.yaml")):
        if key in case and case[key] is None:  # latin-1 bytes: not UTF-8
            (tmp_path / name).write_bytes("name: caf\xe9\n".encode("latin-1"))
    if "profiles_yaml" in case:
        (tmp_path / "profiles.yaml").write_text(yaml.safe_dump(case["profiles_yaml"]), encoding="utf-8")
        app_path.write_text(yaml.safe_dump({**APP, "profiles": "profiles.yaml"}), encoding="utf-8")
    target = str(tmp_path / case["app_path"]) if "app_path" in case else str(app_path)
    capsys.readouterr()
    code = main(["plan", target, *case.get("options", [])])
    return code, capsys.readouterr().err


@pytest.mark.parametrize("label,case", CASES, ids=[c[0] for c in CASES])
def test_bad_input_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture, label: str,
                                         case: dict) -> None:
    code, err = _run_case(tmp_path, case, capsys)
    lines = [ln for ln in err.splitlines() if ln.strip() and not ln.startswith("skinflint: warning:")]
    assert code == 2, f"{label}: exit {code}, stderr={err!r}"
    assert len(lines) == 1, f"{label}: expected one line, got {lines!r}"
    assert lines[0].startswith("skinflint: error: ") and "Traceback" not in err


def test_error_names_file_field_and_fix(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    mods = [dict(m) for m in APP["modules"]]
    mods[1]["rate_factor"] = -2
    code, err = _run_case(tmp_path, {"app": {**APP, "modules": mods}}, capsys)
    assert code == 2
    assert "app.yaml" in err and "modules[1].rate_factor" in err and "fix:" in err


def test_valid_base_case_plans(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code, err = _run_case(tmp_path, {}, capsys)
    assert code == 0, err


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=200))
def test_random_garbage_app_file(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    d = tmp_path_factory.mktemp("garbage")
    _write(d, app=text)
    import contextlib
    import io

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["plan", str(d / "app.yaml")])
    assert code == 2 and "Traceback" not in err.getvalue()


def test_warnings_are_one_line_while_a_command_runs_and_the_hook_is_put_back(capsys: pytest.CaptureFixture) -> None:
    import warnings

    from skinflint.cli import one_line_warnings

    before = warnings.showwarning
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        with one_line_warnings():
            warnings.warn("profile padded (1->8)", UserWarning, stacklevel=1)
        assert warnings.showwarning is before
    assert capsys.readouterr().err == "skinflint: warning: profile padded (1->8)\n"
    assert main(["plan", "no-such-app.yaml"]) == 2
    assert warnings.showwarning is before   # main leaves the process's hook as it found it


# --- issue 15: the seeded generator (tests/integration/malformed.py), every case with its verdict ---

INTERNAL = re.compile(r"Traceback|\w+Error\(|\.float\b|\.int\b|positional argument|has no attribute|NoneType|<class")
TIME_LIMIT_S = 10


class _CaseTimeout(Exception):
    pass


def _alarm(signum: int, frame: object) -> None:
    raise _CaseTimeout()


def _run_generated(d: Path, case: malformed.Case) -> tuple[int | str, str, float]:
    """Write the case's files into `d`, run the CLI in-process under a time limit."""
    for name, text in (("app.yaml", case.app), ("hardware.yaml", case.hardware), ("profiles.csv", case.profiles),
                       *case.files.items()):
        (d / name).write_text(text, encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    previous = signal.signal(signal.SIGALRM, _alarm)
    start = time.perf_counter()
    signal.alarm(TIME_LIMIT_S)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), contextlib.chdir(d):
            code: int | str = main([case.command, "app.yaml", *case.args])
    except _CaseTimeout:
        code = "timeout"
    except BaseException as e:  # noqa: BLE001 - a crash is what this test looks for
        code, err = "crash", io.StringIO(err.getvalue() + f"Traceback: {e!r}")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    return code, err.getvalue(), time.perf_counter() - start


def _verdict(case: malformed.Case, code: int | str, err: str) -> str | None:
    """What is wrong with the run, or None."""
    errors = [ln for ln in err.splitlines() if ln.strip() and not ln.startswith("skinflint: warning:")]
    if code in ("timeout", "crash") or "Traceback" in err:
        return f"{code}: {err.strip()[-300:]}"
    if case.refuse:
        if code != 2:
            return f"accepted (exit {code}) a wrong input"
        if len(errors) != 1 or not errors[0].startswith("skinflint: error: ") or "(fix: " not in errors[0]:
            return f"not one error line with a fix: {errors!r}"
        if INTERNAL.search(errors[0]):
            return f"internal text in {errors[0]!r}"
        return None
    return None if code in (0, 3) and not errors else f"refused a valid input (exit {code}): {errors!r}"


@pytest.fixture(scope="module")
def tiny_plan(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The valid plan JSON of the generator's app (the base of the plan.json mutations)."""
    import skinflint

    d = tmp_path_factory.mktemp("base")
    for name, text in (("app.yaml", malformed.APP), ("hardware.yaml", malformed.HARDWARE),
                       ("profiles.csv", malformed.PROFILES)):
        (d / name).write_text(text, encoding="utf-8")
    return skinflint.plan(d / "app.yaml").to_dict()


def test_generated_malformed_inputs(tmp_path: Path, tiny_plan: dict) -> None:
    """>= 500 seeded cases: 0 tracebacks, 0 runs over 10 s, 0 wrong inputs accepted, one line each."""
    generated = malformed.cases(tiny_plan, seed=15)
    assert len(generated) >= 500 and len({c.label for c in generated}) == len(generated)
    failures, slowest, refused, start = [], (0.0, ""), 0, time.perf_counter()
    for case in generated:
        code, err, took = _run_generated(tmp_path, case)
        problem = _verdict(case, code, err)
        if took > TIME_LIMIT_S:
            problem = problem or f"took {took:.1f} s"
        if problem:
            failures.append(f"{case.label}: {problem}")
        refused += code == 2
        slowest = max(slowest, (took, case.label))
    print(f"\n{len(generated)} generated cases, {refused} refused, {len(generated) - refused} accepted, "
          f"{time.perf_counter() - start:.1f} s, slowest {slowest[0]:.2f} s ({slowest[1]})")
    assert not failures, f"{len(failures)} of {len(generated)} cases failed:\n" + "\n".join(failures)


ISSUE_CASES = ["app rate: '1111'... (401", "app rate: '1111'... (5001", "app slo_ms: '1111'... (401",
               "app hop_ms: '1111'... (401", "app rate_factor: '1111'... (401", "hardware price: '1111'... (401",
               "app rate: '1.0e+308'", "app rate_factor: '1.0e+308'", "app hop_ms: '1.0e+308'", "app rate: '1e30'", "module key twice", "module repeated", "hardware name twice", "price key twice",
               "echo 'rate: 3000'", "nested 10,000 [", "csv batch_size: '１'", "csv latency_ms: '٤'", "'1_0'",
               "5000 batch sizes", "rate_factor 1e30", "--headroom 15", "--headroom '1e300'", "--no-sharing true",
               "--duration '1e7'", "--rate '1e300'"]


def test_generator_covers_every_case_the_issue_lists(tiny_plan: dict) -> None:
    labels = [c.label for c in malformed.cases(tiny_plan, seed=15) if c.label.startswith("issue: ")]
    missing = [want for want in ISSUE_CASES if not any(want in label for label in labels)]
    assert not missing, missing
