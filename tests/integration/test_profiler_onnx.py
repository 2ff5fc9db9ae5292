"""The profiler on real ONNX Runtime sessions of tiny models, and the zoo: built, checked, run.

These tests read what was measured, never how fast: they check structure and invariants only.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from onnx import TensorProto, helper  # noqa: E402

from skinflint.errors import SpecError  # noqa: E402
from skinflint.profiling import MeasureOptions, ProfileOptions, Profiler, profile_model, write_profile  # noqa: E402
from skinflint.profiling.zoo import DEFAULT, ZOO, build_zoo  # noqa: E402
from skinflint.spec.profiles import load_profiles  # noqa: E402

FAST = MeasureOptions(warmup_runs=2, warmup_s=0.0, min_runs=5, check_every=5, time_cap_s=0.2, max_runs=200)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return build_zoo(tmp_path_factory.mktemp("zoo"), ["tiny_cnn"])[0]


class Recorder:
    """A Progress hook that records what it is told."""

    def __init__(self) -> None:
        self.events: list[tuple] = []

    def start(self, batch_size):  # noqa: ANN001, ANN201
        self.events.append(("start", batch_size))

    def sample(self, batch_size, n, median_ms, elapsed_s):  # noqa: ANN001, ANN201
        self.events.append(("sample", batch_size, n))

    def done(self, point):  # noqa: ANN001, ANN201
        self.events.append(("done", point.batch_size, point.n))


def test_profile_tiny_model_measures_every_batch_size(tiny, tmp_path):
    progress = Recorder()
    options = ProfileOptions(batch_sizes=(4, 1, 2), provider="cpu", threads=1, measure=FAST)
    points = profile_model(tiny, hardware="ci-cpu", options=options, rng=np.random.default_rng(1), progress=progress)
    assert [p.batch_size for p in points] == [1, 2, 4]
    for p in points:
        assert (p.model, p.hardware, p.provider, p.threads) == ("tiny_cnn", "ci-cpu", "CPU", "1/1")
        assert 0 < p.latency_ms <= p.p95_ms <= p.p99_ms and p.n >= FAST.min_cap_runs
        assert set(p.flags) <= {"noisy", "unstable", "non-monotone", "contended"}
        assert p.others_cpu_pct is None or 0.0 <= p.others_cpu_pct <= 1.0
        assert ("unstable" in p.flags) == (not p.converged)
        assert "onnxruntime" in p.source and "intra=1" in p.source
    assert [e[:2] for e in progress.events if e[0] != "sample"] == [
        ("start", 1), ("done", 1), ("start", 2), ("done", 2), ("start", 4), ("done", 4)]
    samples = [e for e in progress.events if e[0] == "sample" and e[1] == 1]
    assert [e[2] for e in samples] == list(range(1, points[0].n + 1))
    out = write_profile(points, tmp_path / "profiles.csv")
    curve = load_profiles([out]).get("tiny_cnn", "ci-cpu")
    assert curve.batch_sizes == (1, 2, 4)


def test_profiler_checks_inputs_before_measuring(tmp_path):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    model = helper.make_model(helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "fixed", [x], [y]),
                              opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path = tmp_path / "fixed.onnx"
    onnx.save_model(model, path)
    with pytest.raises(SpecError, match="fixed batch axis of 1"):
        Profiler(path, hardware="h", options=ProfileOptions(batch_sizes=(1, 2), provider="cpu", measure=FAST))
    assert len(profile_model(path, hardware="h", options=ProfileOptions(batch_sizes=(1,), measure=FAST))) == 1


@pytest.mark.parametrize("kwargs, match", [
    (dict(hardware=" "), "empty hardware name"),
    (dict(hardware="h", options=ProfileOptions(provider="tpu")), "unknown execution provider"),
])
def test_bad_profiler_arguments_are_spec_errors(tiny, kwargs, match):
    with pytest.raises(SpecError, match=match):
        Profiler(tiny, **kwargs)


def test_batch_sizes_are_validated():
    with pytest.raises(SpecError, match="listed twice"):
        ProfileOptions(batch_sizes=(1, 1))
    with pytest.raises(SpecError, match="positive integers"):
        ProfileOptions(batch_sizes=(0, 2))


def test_zoo_models_are_valid_with_a_dynamic_batch_axis_and_run(tmp_path):
    paths = build_zoo(tmp_path, DEFAULT, rng=np.random.default_rng(0))
    assert [p.stem for p in paths] == list(DEFAULT)
    rng = np.random.default_rng(0)
    for path in paths:
        entry = ZOO[path.stem]
        model = onnx.load(path)
        onnx.checker.check_model(model)
        dims = model.graph.input[0].type.tensor_type.shape.dim
        assert dims[0].dim_param == "batch"
        assert [d.dim_value for d in dims[1:]] == [3, entry.input_size, entry.input_size]
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        for batch in (1, 2):
            x = rng.standard_normal((batch, 3, entry.input_size, entry.input_size)).astype(np.float32)
            outputs = session.run(None, {"images": x})
            assert all(o.shape[0] == batch and np.isfinite(o).all() for o in outputs)
        if entry.task == "detection":
            boxes, scores = outputs
            assert boxes.shape[2] == 4 and scores.shape[1] == boxes.shape[1] == 6 * (20 * 20 + 10 * 10 + 25 + 9 + 4 + 1)
            assert np.allclose(scores.sum(axis=2), 1.0, atol=1e-4)  # softmax over the 91 classes
        else:
            assert outputs[0].shape == (2, 1000)


def test_zoo_weights_come_from_the_injected_generator(tmp_path):
    a = build_zoo(tmp_path / "a", ["tiny_cnn"], rng=np.random.default_rng(3))[0].read_bytes()
    b = build_zoo(tmp_path / "b", ["tiny_cnn"], rng=np.random.default_rng(3))[0].read_bytes()
    c = build_zoo(tmp_path / "c", ["tiny_cnn"], rng=np.random.default_rng(4))[0].read_bytes()
    assert a == b and a != c
