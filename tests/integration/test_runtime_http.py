"""The HTTP edge on loopback (the edge in a thread, the sleep runner, whose `output` echoes its
input): results on both APIs, every status with its reason, RFC media types and auth scheme,
the image layout, bounds checked before allocation, health without counters, and the open-loop
load generator's accounting."""

from __future__ import annotations

import asyncio
import io
import json
import re
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("httptools", reason="the serve extra is not installed")
import httpx  # noqa: E402

from skinflint.runtime import Runtime, make_backend  # noqa: E402
from skinflint.runtime.edge import v1  # noqa: E402
from skinflint.runtime.edge.app import EdgeApp  # noqa: E402
from skinflint.runtime.edge.http import Limits  # noqa: E402
from skinflint.runtime.loadgen import npy_bytes, run_load  # noqa: E402
from skinflint.runtime.metrics import PrometheusMetrics  # noqa: E402
from tests.runtime.apps import planned, write_app  # noqa: E402
from tests.runtime.edge import ThreadServer, exchange  # noqa: E402

TOKEN = {"authorization": "Bearer t0ken"}
NPY = {"content-type": "application/x-npy"}
JSON = {"content-type": "application/json"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    plan, spec = planned(write_app(tmp_path_factory.mktemp("app"), adapter="frame"), sharing=False)
    rt = Runtime(plan, spec, make_backend("embedded", runner="sleep", item_shape=(3, 32, 32)), max_in_flight=50,
                 metrics=PrometheusMetrics())
    app = EdgeApp(rt, token="t0ken", max_frames=4)
    with ThreadServer(app, Limits(max_body=200_000)) as srv, httpx.Client(base_url=srv.url, timeout=10) as c:
        c.runtime, c.port = rt, srv.port
        yield c
    rt.close()


def frame(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((3, 32, 32), dtype=np.float32)


def test_npy_and_json_bodies_get_results(server):
    r = server.post("/v1/apps/tiny/infer", content=npy_bytes(frame()), headers=TOKEN | NPY)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["hops"] == 2 and len(body["outputs"]["classify"]) == 2
    assert "runtime;dur=" in r.headers["server-timing"]
    r = server.post("/v1/apps/tiny/infer?outputs=full", json={"tensor": frame().tolist()}, headers=TOKEN)
    assert r.status_code == 200
    np.testing.assert_allclose(r.json()["outputs"]["classify"][0]["output"], frame(), rtol=1e-6)


def test_kserve_v2_json_and_binary_tensors(server):
    two = np.stack([frame(1), frame(2)])
    doc = {"inputs": [{"name": "frame", "datatype": "FP32", "shape": [2, 3, 32, 32], "data": two.ravel().tolist()}]}
    out = server.post("/v2/models/tiny/infer", json=doc, headers=TOKEN).json()
    by_name = {o["name"]: o for o in out["outputs"]}
    assert by_name["classify/items"]["data"] == [2, 2]             # rate_factor 2: two items a frame
    echoed = np.asarray(by_name["classify/output"]["data"], np.float32).reshape(by_name["classify/output"]["shape"])
    np.testing.assert_array_equal(echoed[[0, 2]], two)             # items in frame order
    head = json.dumps({"inputs": [{"name": "frame", "datatype": "FP32", "shape": [1, 3, 32, 32],
                                   "parameters": {"binary_data_size": 3 * 32 * 32 * 4}}],
                       "outputs": [{"name": "classify/output", "parameters": {"binary_data": True}}]}).encode()
    r = server.post("/v2/models/tiny/versions/1/infer", content=head + frame(3).tobytes(),
                    headers=TOKEN | {"inference-header-content-length": str(len(head))})
    n = int(r.headers["inference-header-content-length"])
    meta = json.loads(r.content[:n])
    assert [o["name"] for o in meta["outputs"]] == ["classify/output"]
    blob = np.frombuffer(r.content[n:], np.float32).reshape(meta["outputs"][0]["shape"])
    np.testing.assert_array_equal(blob[0], frame(3))


def test_an_hwc_uint8_image_is_converted_to_chw_over_255(server):
    image = np.random.default_rng(4).integers(0, 256, (32, 32, 3), dtype=np.uint8)   # as PIL/OpenCV give it
    r = server.post("/v1/apps/tiny/infer?outputs=full", content=npy_bytes(image), headers=TOKEN | NPY)
    got = np.asarray(r.json()["outputs"]["classify"][0]["output"], np.float32)
    np.testing.assert_array_equal(got, image.transpose(2, 0, 1).astype(np.float32) / np.float32(255))


def test_media_types_and_the_auth_scheme_follow_the_rfcs(server):
    body = npy_bytes(frame())
    ok = [{"content-type": "Application/X-NPY"}, {"content-type": "application/x-npy; charset=binary"},
          {"authorization": "bearer t0ken"}, {"authorization": "BEARER   t0ken"}]
    for extra in ok:
        headers = TOKEN | NPY | extra
        assert server.post("/v1/apps/tiny/infer", content=body, headers=headers).status_code == 200, extra
    assert server.post("/v1/apps/tiny/infer", content=body,
                       headers=TOKEN | {"content-type": "application/x-npyfoo"}).status_code == 415
    assert server.post("/v1/apps/tiny/infer", content=body,
                       headers=NPY | {"authorization": "Basic t0ken"}).status_code == 401


DEEP = b'{"tensor": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"


@pytest.mark.parametrize("headers, body, status, reason", [
    ({}, b"", 401, "bearer token"),
    ({"authorization": "Bearer wrong"}, b"", 401, "bearer token"),
    (TOKEN | NPY, b"x" * 200_001, 413, "limit"),
    (TOKEN | {"content-type": "text/plain"}, b"hello", 415, "Content-Type"),
    (TOKEN | NPY | {"content-encoding": "gzip"}, b"x", 415, "Content-Encoding"),
    (TOKEN | NPY, b"not npy", 422, "npy"),
    (TOKEN | JSON, b"{", 422, "not JSON"),
    (TOKEN | JSON, b"\xff\xfe", 422, "UTF-8"),
    (TOKEN | JSON, b'{"tensor": [[1], [1, 2]]}', 422, "rectangular"),
    (TOKEN | JSON, b'{"tensor": [1, 2]}', 422, "[3, 32, 32] float32 (CHW)"),
    (TOKEN | JSON, b'{"tensor": [' + b"9" * 400 + b"]}", 422, "400 digits"),
    (TOKEN | JSON, b'{"tensor": [NaN]}', 422, "not a number"),
    (TOKEN | JSON, DEEP[:90_000] + b"]" * 10, 422, "too deep"),
    (TOKEN | JSON, json.dumps({"tensor": [[["1"] * 32] * 32] * 3}).encode(), 422, "got str"),
    (TOKEN | JSON, json.dumps({"tensor": [[[True] * 32] * 32] * 3}).encode(), 422, "got bool"),
    (TOKEN | JSON, json.dumps({"tensor": [[[1e39] * 32] * 32] * 3}).encode(), 422, "not finite"),
])
def test_bad_requests_get_a_4xx_with_a_reason(server, headers, body, status, reason):
    r = server.post("/v1/apps/tiny/infer", content=body, headers=headers)
    assert r.status_code == status and reason in r.json()["error"], r.text


@pytest.mark.parametrize("doc, reason", [
    ({"inputs": []}, "one tensor"),
    ({"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 3, 32, 32], "data": []}]}, "unknown input"),
    ({"inputs": [{"name": "frame", "datatype": "FP32", "shape": [5, 3, 32, 32], "data": []}]}, "1 to 4"),
    ({"inputs": [{"name": "frame", "datatype": "FP64", "shape": [1, 3, 32, 32], "data": []}]}, "float32 (CHW)"),
    ({"inputs": [{"name": "frame", "datatype": "FP32", "shape": [1, 3, 32, 32], "data": [1.0]}]}, "needs 3072"),
    ({"inputs": [{"name": "frame", "datatype": "FP32", "shape": [1, 3, 32, "32"], "data": []}]}, "integers"),
    ({"inputs": [{"name": "frame", "datatype": "FP32", "shape": [1, 3, 32, 32],
                  "parameters": {"binary_data_size": 5}}]}, "binary_data_size"),
    ({"inputs": [{"name": "frame", "datatype": "FP32", "shape": [1, 3, 32, 32], "data": [0.0] * 3072}],
      "outputs": [{"name": "nope"}]}, "unknown output"),
])
def test_bad_kserve_requests_get_422_with_a_reason(server, doc, reason):
    r = server.post("/v2/models/tiny/infer", json=doc, headers=TOKEN)
    assert r.status_code == 422 and reason in r.json()["error"], r.text


def test_a_wide_tensor_is_refused_from_its_first_bytes(server):
    wide = npy_bytes(np.zeros((1, 1, 40_000), np.float32))         # 160 kB: within the body cap, a wrong shape
    head = (f"POST /v1/apps/tiny/infer HTTP/1.1\r\nauthorization: Bearer t0ken\r\ncontent-type: application/x-npy\r\n"
            f"content-length: {len(wide)}\r\n\r\n").encode()
    status, body = exchange(server.port, head + wide[:200])         # the header only; the data never comes
    assert status == 422 and "float32 (CHW)" in json.loads(body)["error"]


def test_a_wide_tensor_is_refused_from_its_header_without_allocating():
    wide = npy_bytes(np.zeros((1, 1, 1_000_000), np.float32))      # the 4 MB body of issue 14
    tracemalloc.start()
    with pytest.raises(ValueError, match="float32 .CHW."):
        v1.decode_frame(wide, "application/x-npy", (3, 32, 32))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 64 * 1024         # only the header was read (the data alone is 4 MB)


def test_a_pickled_object_array_is_refused_not_unpickled(server):
    buf = io.BytesIO()
    np.save(buf, np.array([{"evil": 1}], dtype=object), allow_pickle=True)
    r = server.post("/v1/apps/tiny/infer", content=buf.getvalue(), headers=TOKEN | NPY)
    assert r.status_code == 422 and "pickle" in r.json()["error"]


def test_unknown_app_route_method_and_version(server):
    assert server.post("/v1/apps/nope/infer", content=b"", headers=TOKEN | NPY).status_code == 404
    assert server.get("/v2/models/nope", headers=TOKEN).status_code == 404
    assert server.get("/v2/models/tiny/versions/2", headers=TOKEN).status_code == 404
    r = server.get("/v1/apps/tiny/infer", headers=TOKEN)
    assert r.status_code == 405 and r.headers["allow"] == "POST"
    assert server.get("/nowhere").status_code == 404


def test_refusal_is_503_with_retry_after(server):
    server.runtime.admission.max_in_flight = 0      # the bounded queue is full
    try:
        r = server.post("/v1/apps/tiny/infer", content=npy_bytes(frame()), headers=TOKEN | NPY)
    finally:
        server.runtime.admission.max_in_flight = 50
    assert r.status_code == 503 and int(r.headers["retry-after"]) >= 1 and "queue full" in r.json()["error"]


def test_health_without_counters_plan_stats_metrics(server):
    health = server.get("/healthz").json()                               # no token needed for liveness
    assert health == {"status": "ok", "app": "tiny"}
    assert server.get("/v2/health/live").status_code == server.get("/v2/health/ready").status_code == 200
    assert server.get("/v2", headers=TOKEN).json()["extensions"] == ["binary_tensor_data"]
    meta = server.get("/v2/models/tiny", headers=TOKEN).json()
    assert meta["inputs"] == [{"name": "frame", "datatype": "FP32", "shape": [-1, 3, 32, 32]}]
    assert server.get("/v1/plan", headers=TOKEN).json()["input_shape"] == [3, 32, 32]
    assert server.get("/v1/stats").status_code == 401
    counts = server.get("/v1/stats", headers=TOKEN).json()["counts"]
    assert counts["admitted"] == counts["completed"] > 0
    text = server.get("/metrics", headers=TOKEN).text
    for series in ('skinflint_requests_total{outcome="admitted"}', "skinflint_request_latency_seconds_bucket",
                   'skinflint_batch_size_count{module="detect"}', 'skinflint_queue_depth{module="detect"}'):
        assert series in text


@pytest.mark.parametrize("raw, status", [
    (b"GARBAGE\r\n\r\n", 400),
    (b"GET /healthz HTTP/1.1\r\nx: " + b"a" * 40_000 + b"\r\n\r\n", 431),
    (b"POST /v1/apps/tiny/infer HTTP/1.1\r\ncontent-length: 999999999\r\n\r\n", 413),
    (b"POST /v1/apps/tiny/infer HTTP/1.1\r\nexpect: 200-ok\r\ncontent-length: 1\r\n\r\nx", 417),
    (b"POST /v1/apps/tiny/infer HTTP/1.1\r\nauthorization: Bearer t0ken\r\ncontent-type: application/json\r\n"
     b"transfer-encoding: chunked\r\n\r\n" + (b"ffff\r\n" + b"x" * 65535 + b"\r\n") * 4 + b"0\r\n\r\n", 413),
])
def test_what_no_client_library_sends(server, raw, status):
    assert exchange(server.port, raw)[0] == status


def test_pipelined_requests_are_answered_in_order(server):
    one = b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n"
    bad = b"GET /nowhere HTTP/1.1\r\nhost: x\r\n\r\n"
    import socket
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        s.sendall(one + bad + one)
        data = b""
        while data.count(b"HTTP/1.1 ") < 3:
            data += s.recv(65536)
    assert re.findall(rb"HTTP/1.1 (\d{3})", data) == [b"200", b"404", b"200"]


def test_load_generator_counts_every_request_once():
    statuses = iter([200, 503, 200, 422, 500, 0] * 2)

    async def send():
        return next(statuses), 0.0               # the runtime took no time: all latency is the edge's
    times = np.arange(12, dtype=float)           # 12 sends 1 ms apart
    report = asyncio.run(run_load(send, times, slo_ms=-1.0, duration_s=1.0)).as_dict()
    assert report["outcomes"] == {"ok": 4, "refused": 2, "rejected": 2, "failed": 2, "error": 2}
    assert report["lost"] == 0 and report["on_time"] == 0        # any latency > a -1 ms SLO
    assert report["edge_ms"]["p50"] == pytest.approx(report["latency_ms"]["p50"])
