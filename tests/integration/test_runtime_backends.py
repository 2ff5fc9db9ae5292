"""The runtime end to end on both backends (embedded threads; Ray actors on a local 2-CPU cluster
started here), with the tiny ONNX detector -> crops -> classifier app: results equal the models
run by hand, fan-out and hops as planned, a killed worker loses nothing, a failing request ends
with a reason without stalling the rest, and every admitted request ends exactly once."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from skinflint.runtime import Refused, RequestFailed, Runtime, make_backend
from skinflint.runtime import adapters
from skinflint.runtime.workers import OnnxRunner
from tests.runtime.apps import planned, write_app, write_models

WAIT_S = 60.0
BACKENDS = ["embedded", "ray"]


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_models(tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="module")
def ray_cluster():
    """A local Ray cluster with 2 CPUs and 2 units of the app's hardware `cpu`, for this module."""
    ray = pytest.importorskip("ray", reason="the ray extra is not installed")  # CI installs it (Makefile EXTRAS)
    ray.init(address="local", num_cpus=2, resources={"cpu": 2}, include_dashboard=False, log_to_driver=False,
             object_store_memory=100 * 1024**2)
    yield ray
    ray.shutdown()


@pytest.fixture(params=BACKENDS)
def runtime(request: pytest.FixtureRequest, models: Path, tmp_path: Path):
    """A runtime of the tiny app (no shared workers: one detector and one classifier worker)."""
    if request.param == "ray":
        request.getfixturevalue("ray_cluster")
    plan, spec = planned(write_app(tmp_path), sharing=False)
    rt = Runtime(plan, spec, make_backend(request.param, models_dir=models))
    yield rt
    rt.close()


def frames(n: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.random((3, 32, 32), dtype=np.float32) for _ in range(n)]


def run_all(rt: Runtime, items: list[np.ndarray]) -> list:
    """Submit in waves of 4 (within what admission lets in), waiting for each wave."""
    out = []
    for k in range(0, len(items), 4):
        futs = [rt.submit(f) for f in items[k:k + 4]]
        out += [f.result(timeout=WAIT_S) for f in futs]
    return out


def test_results_equal_the_models_run_by_hand(runtime: Runtime, models: Path):
    det, cls = OnnxRunner(str(models / "tiny_det.onnx")), OnnxRunner(str(models / "tiny_cnn.onnx"))
    inputs = frames(8)
    results = run_all(runtime, inputs)
    for frame, res in zip(inputs, results):
        d = {k: v[0] for k, v in det(frame[None]).items()}
        crops = adapters.crops(frame, {"detect": [d]}, 2, (3, 32, 32))   # rate_factor 2: two crops a frame
        expected = cls(np.stack(crops))["logits"]
        got = np.stack([o["logits"] for o in res.outputs["classify"]])
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
        assert res.hops == 2
        assert res.modules["detect"][1] <= res.modules["classify"][0] <= res.modules["classify"][1]
    assert runtime.counts["admitted"] == runtime.counts["completed"] == 8


def test_a_worker_killed_mid_run_loses_no_request(runtime: Runtime):
    futs = [runtime.submit(f) for f in frames(3, seed=1)]
    runtime.kill_worker("detect")
    runtime.kill_worker("classify")
    futs += [runtime.submit(f) for f in frames(3, seed=2)]
    results = [f.result(timeout=WAIT_S) for f in futs]
    assert len(results) == 6 and all(len(r.outputs["classify"]) == 2 for r in results)
    assert runtime.counts["completed"] == 6 and runtime.counts["failed"] == 0 and runtime.in_flight == 0
    if runtime.backend.name == "embedded":   # both workers died once and were rebuilt (Ray restarts its actors)
        assert [ws[0].restarts for ws in runtime.workers] == [1, 1]


def test_a_failing_request_ends_with_its_reason_and_the_rest_go_on(runtime: Runtime, monkeypatch):
    real = runtime._adapters[1]

    def picky(frame, parents, count, shape):
        if frame[0, 0, 0] < 0:
            raise ValueError("negative pixel")
        return real(frame, parents, count, shape)
    runtime._adapters[1] = picky
    good = frames(3, seed=3)
    bad = good[1].copy()
    bad[0, 0, 0] = -1.0
    futs = [runtime.submit(f) for f in (good[0], bad, good[2])]
    first = futs[0].result(timeout=WAIT_S)          # the request before the bad one completes in full
    assert len(first.outputs["classify"]) == 2 and first.latency_ms > 0
    assert first.on_time == (first.latency_ms <= runtime.sm.slo_ms)   # on time means within the SLO
    with pytest.raises(RequestFailed, match="negative pixel"):
        futs[1].result(timeout=WAIT_S)
    assert len(futs[2].result(timeout=WAIT_S).outputs["classify"]) == 2   # the skipped indices did not stall it
    c = runtime.counts
    assert (c["admitted"], c["completed"], c["failed"], runtime.in_flight) == (3, 2, 1, 0)


@pytest.mark.parametrize("bad, reason", [
    (np.zeros((32, 32), np.float32), r"entry model's shape \[3, 32, 32\]"),
    (np.zeros((1, 1, 1_000_000), np.float32), r"entry model's shape"),    # refused before any resize (issue 14)
    (np.full((3, 32, 32), np.nan, np.float32), "NaN"),
    (np.array([["a"]], dtype=object), "numeric"),
])
def test_malformed_tensors_are_refused_with_a_reason(runtime: Runtime, bad, reason):
    with pytest.raises(ValueError, match=reason):
        runtime.submit(bad)
    assert runtime.counts["admitted"] == 0


def test_overload_every_request_is_answered_or_refused_none_lost(models: Path, tmp_path: Path):
    # sleep runner, 20 ms a frame at the detector: a burst of 100 frames cannot all meet a 100 ms SLO
    plan, spec = planned(write_app(tmp_path, rate=20, slo_ms=100, det_ms=20, cls_ms=5, adapter="frame"),
                         sharing=False)
    rt = Runtime(plan, spec, make_backend("embedded", runner="sleep", item_shape=(3, 32, 32)))
    futs, refused = [], []
    for f in frames(100, seed=4):
        try:
            futs.append(rt.submit(f))
        except Refused as r:
            refused.append(r.decision)
    done = [f.result(timeout=WAIT_S) for f in futs]
    rt.close()
    assert refused and futs, "a burst beyond capacity is partly admitted, partly refused"
    assert all(d.retry_after_s >= 1 and "exceeds the SLO" in d.reason for d in refused)
    assert len(done) + len(refused) == 100
    c = rt.counts
    assert c["admitted"] == c["completed"] == len(futs) and c["refused"] == len(refused)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_shared_worker_runs_both_modules_models(request: pytest.FixtureRequest, backend: str, models: Path,
                                                  tmp_path: Path):
    # at 20 req/s both modules' residuals fit one shared worker: the plan has no group at all
    if backend == "ray":
        request.getfixturevalue("ray_cluster")
    plan, spec = planned(write_app(tmp_path, rate=20))
    assert plan.shared_workers and not any(m.groups for m in plan.modules)
    rt = Runtime(plan, spec, make_backend(backend, models_dir=models))
    assert rt.workers[0][0].host is rt.workers[1][0].host     # one worker behind both dispatchers
    results = run_all(rt, frames(4, seed=5))
    rt.close()
    # the classifier's items ran the classifier (logits), not the detector: each model on its runner
    assert all(len(r.outputs["classify"]) == 2 and r.outputs["classify"][0]["logits"].shape == (10,)
               for r in results)
    assert rt.counts["completed"] == 4
