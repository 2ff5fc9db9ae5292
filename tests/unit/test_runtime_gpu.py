"""GPUs on a machine without one: the catalog's `execution` field, the ONNX Runtime providers a
worker opens (a fake onnxruntime records them), one worker per device pinned by id, padding to
the warmed batch sizes through IO binding, and what a Ray actor asks for."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from skinflint.errors import SpecError
from skinflint.profiling import session
from skinflint.runtime.backends.embedded import EmbeddedBackend
from skinflint.runtime.backends.ray_backend import actor_options, placeable
from skinflint.spec.catalog import hardware_catalog
from skinflint.spec.hardware import load_hardware
from skinflint.spec.types import Execution, Hardware
from tests.runtime.apps import planned, write_app, write_models

TRT, CUDA, CPU = "TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"


def test_the_catalog_says_how_a_type_executes(tmp_path: Path):
    f = tmp_path / "hw.yaml"
    f.write_text("hardware:\n  T4: {price_per_hour: 0.5, execution: {provider: cuda, accelerator: T4}}\n"
                 "  half: {price_per_hour: 0.3, execution: {provider: tensorrt, gpus: 0.5}}\n"
                 "  cpu1: {price_per_hour: 0.1}\n")
    hw = load_hardware(f)
    assert hw["T4"].execution == Execution("cuda", 1.0, "T4")        # gpus default to one per worker
    assert hw["half"].execution == Execution("tensorrt", 0.5, None)
    assert not hw["cpu1"].execution.on_gpu
    public = {n: h.to_hardware().execution for n, h in hardware_catalog("catalog:public").items()}
    assert public["T4"] == Execution("cuda", 1.0, "T4") and public["g4dn.2xlarge"].accelerator == "T4"
    assert public["H100 x8"].gpus == 8.0 and public["A100-40GB"].accelerator == "A100"
    assert public["c5.4xlarge"].provider == "cpu"


@pytest.mark.parametrize("entry, field, words", [
    ("{provider: cpu, gpus: 1}", "hardware.T4.execution", "a cpu worker holds no GPU"),
    ("{provider: cuda, gpus: 0}", "hardware.T4.execution", "needs a GPU"),
    ("{provider: rocm}", "hardware.T4.execution.provider", "'cpu', 'cuda' or 'tensorrt'"),
    ("{provider: cuda, gpu: 1}", "hardware.T4.execution.gpu", "Extra inputs"),
])
def test_a_bad_execution_is_one_line_naming_the_field(tmp_path: Path, entry: str, field: str, words: str):
    f = tmp_path / "hw.yaml"
    f.write_text(f"hardware:\n  T4: {{price_per_hour: 0.5, execution: {entry}}}\n")
    with pytest.raises(SpecError) as e:
        load_hardware(f)
    assert f"{field}:" in str(e.value) and words in str(e.value) and "\n" not in str(e.value)


def test_providers_are_pinned_and_trt_falls_back_to_cuda_then_cpu():
    assert session.session_providers(CPU) == [CPU]
    assert session.session_providers(CUDA, 1) == [(CUDA, {"device_id": 1}), CPU]
    trt = session.session_providers(TRT, 0)
    assert [p if isinstance(p, str) else p[0] for p in trt] == [TRT, CUDA, CPU]
    assert trt[0][1]["device_id"] == 0 and trt[0][1]["trt_engine_cache_enable"] is True


class FakeBinding:
    def __init__(self, s: "FakeSession") -> None:
        self.s, self.x = s, None

    def bind_cpu_input(self, name: str, x: np.ndarray) -> None:
        self.x = x

    def bind_output(self, name: str, device: str) -> None:
        assert device == "cpu"

    def copy_outputs_to_cpu(self) -> list[np.ndarray]:
        return [2 * self.x]


class FakeSession:
    """Records the providers it was opened with and the batch shapes it ran."""

    opened: list = []

    def __init__(self, path: str, options: object, providers: list) -> None:
        self.providers, self.shapes, self.plain = providers, [], 0
        FakeSession.opened.append(self)

    def get_providers(self) -> list[str]:
        return [p if isinstance(p, str) else p[0] for p in self.providers]

    def get_inputs(self) -> list:
        return [type("I", (), {"name": "x", "shape": ["b", 3, 32, 32], "type": "tensor(float)"})()]

    def get_outputs(self) -> list:
        return [type("O", (), {"name": "y"})()]

    def io_binding(self) -> FakeBinding:
        return FakeBinding(self)

    def run_with_iobinding(self, binding: FakeBinding) -> None:
        self.shapes.append(binding.x.shape[0])

    def run(self, names: list, feeds: dict) -> list:
        self.plain += 1
        self.shapes.append(feeds["x"].shape[0])
        return [2 * feeds["x"]]


class FakeOrt:
    class SessionOptions:
        pass

    class ExecutionMode:
        ORT_SEQUENTIAL = 0

    class GraphOptimizationLevel:
        ORT_ENABLE_ALL = 99

    InferenceSession = FakeSession
    __version__ = "fake"

    @staticmethod
    def get_available_providers() -> list[str]:
        return [TRT, CUDA, CPU]


@pytest.fixture
def fake_ort(monkeypatch: pytest.MonkeyPatch):
    FakeSession.opened = []
    monkeypatch.setattr(session, "ort", lambda: FakeOrt)
    return FakeSession


def gpu_app(tmp_path: Path, rate: float, provider: str = "cuda") -> tuple:
    app = write_app(tmp_path, rate=rate, adapter="frame")
    (tmp_path / "hardware.yaml").write_text(
        f"hardware:\n  cpu: {{price_per_hour: 0.1, execution: {{provider: {provider}, accelerator: T4}}}}\n")
    return planned(app, sharing=False)


def test_one_worker_per_device_pinned_warmed_and_padded(tmp_path: Path, fake_ort):
    from skinflint.runtime import Runtime
    plan, spec = gpu_app(tmp_path, rate=100)
    models = write_models(tmp_path / "models")
    assert plan.workers_by_hardware() == {"cpu": 2}          # one detector, one classifier worker
    backend = EmbeddedBackend(models_dir=models, devices=[0, 1])
    rt = Runtime(plan, spec, backend)
    try:
        placed = sorted(backend.placements.values())
        assert placed == [("cuda", 0), ("cuda", 1)]
        sessions = [s for s in fake_ort.opened if s.get_providers()[0] == CUDA]
        assert sorted(s.providers[0][1]["device_id"] for s in sessions) == [0, 1]
        assert all(s.shapes for s in sessions), "every worker warmed up before serving"
    finally:
        rt.close()


def test_a_gpu_runner_warms_every_size_and_pads_a_partial_batch(tmp_path: Path, fake_ort):
    from skinflint.runtime.workers import OnnxRunner
    path = write_models(tmp_path / "models") / "tiny_cnn.onnx"
    runner = OnnxRunner(str(path), "tensorrt", device_id=1, batch_sizes=(1, 4, 8))
    runner.warm_up((3, 32, 32))
    s = fake_ort.opened[-1]
    assert s.providers[0][0] == TRT and s.providers[0][1]["device_id"] == 1
    assert s.shapes == [1, 4, 8]                             # each size TensorRT builds an engine for
    out = runner(np.ones((3, 3, 32, 32), np.float32))
    assert s.shapes[-1] == 4 and out["y"].shape == (3, 3, 32, 32)   # ran padded to 4, three rows back
    np.testing.assert_array_equal(out["y"], 2.0)


def test_a_plan_needing_more_gpus_than_the_machine_has_is_one_line(tmp_path: Path, fake_ort):
    from skinflint.runtime import Runtime
    plan, spec = gpu_app(tmp_path, rate=100)
    backend = EmbeddedBackend(models_dir=write_models(tmp_path / "models"), devices=[0])
    with pytest.raises(SpecError, match="needs 2 GPUs on this machine .2 GPU workers. and it has 1"):
        Runtime(plan, spec, backend)


def test_a_ray_actor_asks_for_its_gpus_and_accelerator():
    known = ("T4", "A100")
    assert actor_options("cpu1") == {"num_cpus": 1, "resources": {"cpu1": 1}}
    assert actor_options("T4", Execution("cuda", 1.0, "T4"), known) == {
        "num_cpus": 1, "resources": {"T4": 1}, "num_gpus": 1.0, "accelerator_type": "T4"}
    half = actor_options("T4-half", Execution("cuda", 0.5, "T4"), known)
    assert half["num_gpus"] == 0.5                       # Ray packs two such actors on one device
    assert "accelerator_type" not in actor_options("X", Execution("cuda", 1.0, "RTX-9000"), known)
    assert "num_gpus" not in actor_options("T4", Execution("cuda", 1.0, "T4"), known, runner="sleep")


def test_placeable_needs_one_node_with_every_resource():
    class Ray:
        @staticmethod
        def nodes() -> list:
            return [{"Alive": True, "Resources": {"CPU": 2, "cpu1": 2}},
                    {"Alive": True, "Resources": {"CPU": 4, "GPU": 1, "T4": 1, "accelerator_type:T4": 1}},
                    {"Alive": False, "Resources": {"CPU": 8, "GPU": 8, "A100": 8}}]
    t4 = actor_options("T4", Execution("cuda", 1.0, "T4"), ("T4",))
    assert placeable(Ray, t4) and placeable(Ray, actor_options("cpu1"))
    assert not placeable(Ray, actor_options("A100", Execution("cuda", 1.0, "A100"), ("A100",)))  # only a dead node
    assert not placeable(Ray, {"num_cpus": 1, "resources": {"cpu1": 1}, "num_gpus": 1})  # GPU and cpu1 on no one node
    assert Hardware("x", 1.0).execution.provider == "cpu"


def test_profile_measures_on_the_providers_and_path_the_runtime_serves_on(tmp_path: Path, fake_ort):
    from skinflint.profiling.measure import MeasureOptions
    from skinflint.profiling.profiler import ProfileOptions, Profiler
    path = write_models(tmp_path / "models") / "tiny_cnn.onnx"
    fast = MeasureOptions(warmup_runs=1, warmup_s=0.0, min_runs=2, max_runs=4, time_cap_s=0.05, min_cap_runs=1)
    points = Profiler(path, hardware="T4", options=ProfileOptions(batch_sizes=(1, 2), provider="cuda", device_id=1,
                                                                   measure=fast)).run()
    s = fake_ort.opened[-1]
    assert s.providers == session.session_providers(CUDA, 1)       # the same list a runtime worker opens
    assert set(s.shapes) == {1, 2} and s.plain == 0      # every timed run went through IO binding
    assert [p.provider for p in points] == ["CUDA", "CUDA"]
