"""A KServe v2 client that users already have — Triton's `tritonclient.http`, nothing else —
drives `skinflint serve` (a subprocess, the sleep runner: `output` echoes the input): health,
metadata, inference with JSON and binary tensors, several frames, an 8-bit HWC image, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

httpclient = pytest.importorskip("tritonclient.http", reason="tritonclient[http] (the dev extra) is not installed")
from tritonclient.utils import InferenceServerException  # noqa: E402

from tests.runtime.apps import write_app  # noqa: E402
from tests.runtime.edge import start_cli, stop_cli  # noqa: E402

AUTH = {"Authorization": "Bearer tc"}


@pytest.fixture(scope="module")
def triton(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("tc")
    app = write_app(tmp, adapter="frame")
    (tmp / "token").write_text("tc\n")
    proc, url = start_cli([str(app), "--runner", "sleep", "--token-file", str(tmp / "token")])
    client = httpclient.InferenceServerClient(url.removeprefix("http://"), connection_timeout=10, network_timeout=10)
    yield client
    client.close()
    code, err = stop_cli(proc)
    assert code == 0, err


def infer(client, frames: np.ndarray, binary: bool, datatype: str = "FP32"):
    inp = httpclient.InferInput("frame", list(frames.shape), datatype)
    inp.set_data_from_numpy(frames, binary_data=binary)
    outputs = [httpclient.InferRequestedOutput(n, binary_data=binary) for n in ("classify/output", "classify/items")]
    return client.infer("tiny", [inp], outputs=outputs, headers=AUTH)


def test_health_and_metadata(triton):
    assert triton.is_server_live() and triton.is_server_ready()
    assert triton.is_model_ready("tiny", headers=AUTH)
    meta = triton.get_model_metadata("tiny", headers=AUTH)
    assert meta["inputs"] == [{"name": "frame", "datatype": "FP32", "shape": [-1, 3, 8, 8]}]
    assert {o["name"] for o in meta["outputs"]} == {"classify/output", "classify/items"}
    assert "binary_tensor_data" in triton.get_server_metadata(headers=AUTH)["extensions"]


@pytest.mark.parametrize("binary", [False, True])
def test_inference_with_json_and_binary_tensors(triton, binary):
    frames = np.random.default_rng(0).random((3, 3, 8, 8), dtype=np.float32)      # three frames
    result = infer(triton, frames, binary)
    np.testing.assert_array_equal(result.as_numpy("classify/items"), [2, 2, 2])  # rate_factor 2
    out = result.as_numpy("classify/output")
    assert out.shape == (6, 3, 8, 8)
    np.testing.assert_allclose(out[::2], frames, rtol=1e-6)      # each frame's first item echoes it


def test_an_hwc_uint8_image(triton):
    image = np.random.default_rng(1).integers(0, 256, (1, 8, 8, 3), dtype=np.uint8)
    out = infer(triton, image, True, "UINT8").as_numpy("classify/output")
    np.testing.assert_array_equal(out[0], image[0].transpose(2, 0, 1).astype(np.float32) / np.float32(255))


def test_errors_reach_the_client_with_their_reason(triton):
    with pytest.raises(InferenceServerException, match="float32 .CHW."):
        infer(triton, np.zeros((1, 3, 8, 9), np.float32), True)
    with pytest.raises(InferenceServerException, match="bearer token"):
        triton.get_model_metadata("tiny")
    assert not triton.is_model_ready("nope", headers=AUTH)
