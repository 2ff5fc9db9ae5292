"""The HTTP API in process (FastAPI's test client, no socket): results, the token, the body
limit, no pickle, reasons for malformed requests, 503 + Retry-After on refusal, plan, metrics;
and the open-loop load generator's accounting."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("fastapi", reason="the serve extra is not installed")
from fastapi.testclient import TestClient  # noqa: E402

from skinflint.runtime import Runtime, make_backend  # noqa: E402
from skinflint.runtime.loadgen import npy_bytes, run_load  # noqa: E402
from skinflint.runtime.metrics import PrometheusMetrics  # noqa: E402
from skinflint.runtime.server import make_app  # noqa: E402
from tests.runtime.apps import planned, write_app  # noqa: E402

TOKEN = {"authorization": "Bearer t0ken"}
NPY = {"content-type": "application/x-npy"}


@pytest.fixture
def client(tmp_path: Path):
    plan, spec = planned(write_app(tmp_path, adapter="frame"), sharing=False)
    rt = Runtime(plan, spec, make_backend("embedded", runner="sleep", item_shape=(3, 32, 32)), max_in_flight=50,
                 metrics=PrometheusMetrics())
    with TestClient(make_app(rt, token="t0ken", max_body=100_000)) as c:
        c.runtime = rt
        yield c
    rt.close()


def frame() -> np.ndarray:
    return np.random.default_rng(0).random((3, 32, 32), dtype=np.float32)


def test_npy_and_json_bodies_get_results(client):
    r = client.post("/v1/apps/tiny/infer", content=npy_bytes(frame()), headers=TOKEN | NPY)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["hops"] == 2 and len(body["outputs"]["classify"]) == 2
    r = client.post("/v1/apps/tiny/infer?outputs=full", json={"tensor": frame().tolist()}, headers=TOKEN)
    assert r.status_code == 200
    assert np.asarray(r.json()["outputs"]["classify"][0]["output"]).shape == (3, 32, 32)


@pytest.mark.parametrize("headers, body, status, reason", [
    ({}, b"", 401, "bearer token"),
    ({"authorization": "Bearer wrong"}, b"", 401, "bearer token"),
    (TOKEN | NPY, b"x" * 100_001, 413, "limit"),
    (TOKEN | {"content-type": "text/plain"}, b"hello", 415, "Content-Type"),
    (TOKEN | NPY, b"not npy", 422, "npy"),
    (TOKEN | {"content-type": "application/json"}, b"{", 422, "not JSON"),
    (TOKEN | {"content-type": "application/json"}, b'{"tensor": [[1], [1, 2]]}', 422, "rectangular"),
    (TOKEN | {"content-type": "application/json"}, b'{"tensor": [1, 2]}', 422, "3 non-empty axes"),
])
def test_bad_requests_get_a_4xx_with_a_reason(client, headers, body, status, reason):
    r = client.post("/v1/apps/tiny/infer", content=body, headers=headers)
    assert r.status_code == status and reason in r.json()["error"]


def test_a_pickled_object_array_is_refused_not_unpickled(client):
    buf = io.BytesIO()
    np.save(buf, np.array([{"evil": 1}], dtype=object), allow_pickle=True)
    r = client.post("/v1/apps/tiny/infer", content=buf.getvalue(), headers=TOKEN | NPY)
    assert r.status_code == 422 and "pickle" in r.json()["error"]


def test_unknown_app_is_404(client):
    assert client.post("/v1/apps/nope/infer", content=npy_bytes(frame()), headers=TOKEN | NPY).status_code == 404


def test_refusal_is_503_with_retry_after(client):
    client.runtime.admission.max_in_flight = 0      # the bounded queue is full
    r = client.post("/v1/apps/tiny/infer", content=npy_bytes(frame()), headers=TOKEN | NPY)
    assert r.status_code == 503 and int(r.headers["retry-after"]) >= 1 and "queue full" in r.json()["error"]


def test_health_plan_and_metrics(client):
    assert client.get("/healthz").json()["status"] == "ok"           # no token needed for liveness
    client.post("/v1/apps/tiny/infer", content=npy_bytes(frame()), headers=TOKEN | NPY)
    plan = client.get("/v1/plan", headers=TOKEN).json()
    assert plan["input_shape"] == [3, 32, 32] and plan["plan"]["app"] == "tiny"
    text = client.get("/metrics", headers=TOKEN).text
    for series in ('skinflint_requests_total{outcome="admitted"} 1.0', "skinflint_request_latency_seconds_bucket",
                   'skinflint_module_latency_seconds_count{module="classify"} 1.0',
                   'skinflint_batch_size_count{module="detect"}', 'skinflint_queue_depth{module="detect"}',
                   'skinflint_worker_busy_seconds_total{module="detect"}'):
        assert series in text


def test_load_generator_counts_every_request_once():
    statuses = iter([200, 503, 200, 422, 500, 0] * 2)

    async def send():
        return next(statuses), 10.0
    times = np.arange(12, dtype=float)   # 12 sends 1 ms apart
    report = asyncio.run(run_load(send, times, slo_ms=5.0, duration_s=1.0)).as_dict()
    assert report["outcomes"] == {"ok": 4, "refused": 2, "rejected": 2, "failed": 2, "error": 2}
    assert report["lost"] == 0 and report["on_time"] == 0        # 10 ms > 5 ms SLO
