"""`skinflint profiles ...`, `profile`, `zoo` and the zoo example end to end through the CLI.

Bad input must exit 2 with exactly one line on stderr.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from skinflint import cli

ROOT = Path(__file__).resolve().parents[2]
ZOO_APP = ROOT / "examples" / "zoo" / "app.yaml"
HAS_ORT = importlib.util.find_spec("onnxruntime") is not None and importlib.util.find_spec("onnx") is not None


@pytest.fixture
def run(monkeypatch, capsys):
    """Run the CLI in-process; returns (exit code, stdout, stderr)."""
    # only the command modules present on this branch (another branch may list one not merged yet)
    present = tuple(c for c in cli.COMMANDS if importlib.util.find_spec(f"skinflint.commands.{c}"))
    monkeypatch.setattr(cli, "COMMANDS", present)
    monkeypatch.setenv("COLUMNS", "250")  # rich tables wide enough not to fold names

    def invoke(*args: str) -> tuple[int, str, str]:
        code = cli.main([str(a) for a in args])
        out = capsys.readouterr()
        return code, out.out, out.err

    return invoke


def assert_one_line_error(result: tuple[int, str, str], *fragments: str) -> None:
    code, _, err = result
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and lines[0].startswith("skinflint: error: "), err
    for f in fragments:
        assert f in lines[0]


def test_profiles_list_and_show_the_catalog(run):
    code, out, _ = run("profiles", "list", "--match", "triton", "--hardware", "catalog:aws")
    assert code == 0 and "resnet50_v1.5|triton-onnxrt-trt|FP16" in out and "A40*" in out and "g4dn.xlarge" in out
    code, out, _ = run("profiles", "show", "triton-onnxrt", "--hardware", "catalog:aws")
    assert code == 0 and "on T4: $0.5260/h" in out and "no price in this catalog" in out
    assert "[table: Inference performance" in out  # the source, printed verbatim


@pytest.mark.parametrize("args, fragments", [
    (("profiles", "list", "--profiles", "catalog:nope"), ("unknown catalog 'catalog:nope'", "catalog:public")),
    (("profiles", "list", "--hardware", "catalog:gcp"), ("--hardware", "unknown catalog")),
    (("profiles", "show", "resnet50"), ("matches 14 models",)),
    (("profiles", "show", "nosuchmodel"), ("no model 'nosuchmodel'",)),
    (("profiles", "show", "x", "--profiles", "missing.csv"), ("profiles file not found",)),
    (("profiles", "plot"), ("no model to plot",)),
    (("profiles", "combine", "missing.csv", "-o", "out.csv"), ("profiles file not found",)),
    (("profile", "missing.onnx", "--hardware", "h"), ("ONNX model file not found",)),
    (("profile", "m.onnx", "--hardware", "h", "--batch-sizes", "1,x"), ("--batch-sizes",)),
    (("profile", "m.onnx", "--hardware", "h", "--batch-sizes", "0,2"), ("must be positive",)),
    (("profile", "m.onnx"), ("--hardware",)),
    (("zoo", "build", "out", "--models", "vgg"), ("unknown zoo model 'vgg'", "resnet18")),
])
def test_bad_input_exits_2_with_one_line(run, tmp_path, monkeypatch, args, fragments):
    monkeypatch.chdir(tmp_path)
    assert_one_line_error(run(*args), *fragments)


@pytest.mark.skipif(not HAS_ORT, reason="needs the profile extra (onnx, onnxruntime)")
def test_zoo_build_profile_combine_and_plot_through_the_cli(run, tmp_path):
    assert run("zoo", "build", tmp_path / "zoo", "--models", "tiny_cnn")[0] == 0
    model = tmp_path / "zoo" / "tiny_cnn.onnx"
    fast = ("--time-cap-s", "0.1", "--min-runs", "3", "--warmup-runs", "1", "--provider", "cpu", "--threads", "1")
    for i in (1, 2):
        code, out, _ = run("profile", model, "--hardware", "ci", "--batch-sizes", "1,2", "-o", tmp_path / f"r{i}.csv",
                           *fast)
        assert code == 0 and "tiny_cnn on ci" in out
    code, out, _ = run("profiles", "combine", tmp_path / "r1.csv", tmp_path / "r2.csv", "-o", tmp_path / "c.csv")
    assert code == 0 and "2 rows from 2 runs" in out
    from skinflint.commands.profiles import run_ranges

    ranges = run_ranges([tmp_path / "c.csv", tmp_path / "r1.csv"])  # a single run has no range: skipped
    assert sorted(ranges) == [("tiny_cnn", "ci", 1), ("tiny_cnn", "ci", 2)] and all(lo <= hi for lo, hi in ranges.values())
    code, out, _ = run("profiles", "show", "tiny", "--profiles", tmp_path / "c.csv", "--hardware", "catalog:aws")
    assert code == 0 and "tiny_cnn on ci: no price" in out
    import onnxruntime

    if "CUDAExecutionProvider" not in onnxruntime.get_available_providers():
        assert_one_line_error(run("profile", model, "--hardware", "ci", "--provider", "cuda", *fast[:-4]),
                              "--provider", "cuda")
    pytest.importorskip("matplotlib")
    code, out, _ = run("profiles", "plot", "tiny_cnn", "--profiles", tmp_path / "c.csv", "-o", tmp_path / "p.png")
    assert code == 0 and (tmp_path / "p.png").read_bytes()[:4] == b"\x89PNG"


def test_zoo_example_plans_end_to_end(run):
    code, out, err = run("plan", ZOO_APP, "--format", "json")
    assert code == 0, err
    plan = json.loads(out)
    assert [m["name"] for m in plan["modules"]] == ["detect", "vehicle_type", "color"]
    assert plan["cost_per_hour"] > 0 and all(g["hardware"] == "epyc-2core" for m in plan["modules"] for g in m["groups"])


def test_zoo_example_plot(run, tmp_path):
    pytest.importorskip("matplotlib")
    code, out, err = run("profiles", "plot", "--app", ZOO_APP, "-o", tmp_path / "zoo.png")
    assert code == 0 and (tmp_path / "zoo.png").stat().st_size > 10_000, err
