"""Multi-frame KServe v2 requests (one HTTP request carrying N frames, each its own request of
the runtime) and the fast 503 (the admission rule asked before the body is read while its last
answer was no), on the edge in a thread with the sleep runner (whose `output` echoes its input)."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

pytest.importorskip("httptools", reason="the serve extra is not installed")
import httpx  # noqa: E402

from skinflint.runtime import Runtime, make_backend  # noqa: E402
from skinflint.runtime.admission import MeasuredSlack  # noqa: E402
from skinflint.runtime.edge import oip  # noqa: E402
from skinflint.runtime.edge.app import EdgeApp  # noqa: E402
from skinflint.runtime.edge.http import Limits  # noqa: E402
from tests.runtime.apps import planned, write_app  # noqa: E402
from tests.runtime.edge import ThreadServer, exchange  # noqa: E402

SHAPE = (3, 32, 32)
FRAME_BYTES = 3 * 32 * 32 * 4


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    plan, spec = planned(write_app(tmp_path_factory.mktemp("app"), adapter="frame"), sharing=False)
    rt = Runtime(plan, spec, make_backend("embedded", runner="sleep", item_shape=SHAPE), max_in_flight=50)
    app = EdgeApp(rt, max_frames=4)
    with ThreadServer(app, Limits(max_body=200_000)) as srv, httpx.Client(base_url=srv.url, timeout=10) as c:
        c.runtime, c.port, c.app = rt, srv.port, app
        yield c
    rt.close()


def binary_request(frames: np.ndarray, shape: list[int] | None = None, size: int | None = None,
                   datatype: str = "FP32") -> tuple[bytes, dict[str, str]]:
    head = json.dumps({"inputs": [{"name": "frame", "datatype": datatype, "shape": shape or list(frames.shape),
                                   "parameters": {"binary_data_size": frames.nbytes if size is None else size}}],
                       "parameters": {"binary_data_output": True}}).encode()
    return head + frames.tobytes(), {"inference-header-content-length": str(len(head)),
                                     "content-type": "application/octet-stream"}


def raw_post(body_head: bytes, headers: dict[str, str], content_length: int) -> bytes:
    lines = ["POST /v2/models/tiny/infer HTTP/1.1", "host: x", f"content-length: {content_length}",
             *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body_head


def test_each_frame_is_its_own_request_and_the_answer_keeps_frame_order(server):
    frames = np.random.default_rng(0).random((4, *SHAPE), dtype=np.float32)
    before = dict(server.runtime.counts)
    body, headers = binary_request(frames)
    r = server.post("/v2/models/tiny/infer", content=body, headers=headers)
    assert r.status_code == 200, r.text
    n = int(r.headers["inference-header-content-length"])
    meta = json.loads(r.content[:n])
    assert server.runtime.counts["admitted"] - before["admitted"] == 4      # the dispatcher saw four requests
    out, offset = {}, n
    for o in meta["outputs"]:
        size = o["parameters"]["binary_data_size"]
        out[o["name"]] = np.frombuffer(r.content[offset:offset + size], oip.DTYPES[o["datatype"]]).reshape(o["shape"])
        offset += size
    assert out["classify/items"].tolist() == [2, 2, 2, 2]                 # rate_factor 2: two items a frame
    np.testing.assert_array_equal(out["classify/output"][::2], frames)    # each frame's first item echoes it


def test_the_same_header_is_parsed_once():
    cache = oip.HeadCache(SHAPE, 4, ["classify/output", "classify/items"])
    body, headers = binary_request(np.zeros((2, *SHAPE), np.float32))
    n = int(headers["inference-header-content-length"])
    first = cache.get(body[:n])
    assert cache.get(body[:n]) is first and first.shape == (2, *SHAPE) and first.nbytes == 2 * FRAME_BYTES


@pytest.mark.parametrize("shape, size, datatype, reason", [
    ([0, *SHAPE], 0, "FP32", "1 to 4"),                                   # no frame
    ([5, *SHAPE], 5 * FRAME_BYTES, "FP32", "1 to 4"),                     # more than --max-frames
    ([2, *SHAPE], FRAME_BYTES, "FP32", "binary_data_size"),               # the size says one frame
    ([2, 3, 32, 31], 2 * 3 * 32 * 31 * 4, "FP32", "float32 (CHW)"),       # a frame of the wrong shape
    ([2, *SHAPE], 2 * FRAME_BYTES // 4, "UINT8", "float32 (CHW)"),        # uint8 in CHW: not an image layout
    ([2, *SHAPE, 1], 2 * FRAME_BYTES, "FP32", "[N, 3, 32, 32]"),          # an extra axis
])
def test_bad_multi_frame_requests_are_refused_from_their_header(server, shape, size, datatype, reason):
    head, headers = binary_request(np.zeros(0, np.float32), shape, size, datatype)
    declared = len(head) + 4 * FRAME_BYTES          # a body of up to four frames is declared; none is sent
    start = time.perf_counter()
    status, body = exchange(server.port, raw_post(head, headers, declared))
    assert status == 422 and reason in json.loads(body)["error"], body
    assert time.perf_counter() - start < 2.0        # answered from the header, the data never came


def test_a_declared_body_that_does_not_match_the_frames_is_422(server):
    frames = np.zeros((2, *SHAPE), np.float32)
    body, headers = binary_request(frames)
    status, answer = exchange(server.port, raw_post(body[:-FRAME_BYTES], headers, len(body) - FRAME_BYTES))
    assert status == 422 and "binary_data_size" in json.loads(answer)["error"]


def test_a_multi_frame_body_over_the_cap_is_413_before_it_is_read(server):
    head, headers = binary_request(np.zeros(0, np.float32), [64, *SHAPE], 64 * FRAME_BYTES)
    status, _ = exchange(server.port, raw_post(head, headers, len(head) + 64 * FRAME_BYTES))
    assert status == 413


def test_hwc_images_in_one_request(server):
    images = np.random.default_rng(2).integers(0, 256, (3, 32, 32, 3), dtype=np.uint8)
    body, headers = binary_request(images, datatype="UINT8")
    r = server.post("/v2/models/tiny/infer", content=body, headers=headers)
    assert r.status_code == 200, r.text


def test_a_refusal_is_answered_before_the_body_is_decoded(server, monkeypatch):
    rt, app = server.runtime, server.app
    body, headers = binary_request(np.zeros((4, *SHAPE), np.float32))
    rt.admission.max_in_flight = 0                  # the bounded queue is full: the rule says no
    try:
        assert server.post("/v2/models/tiny/infer", content=body, headers=headers).status_code == 503
        refused = rt.counts["refused"]
        monkeypatch.setattr(app, "_decode", lambda req: pytest.fail("a refused body was decoded"))
        r = server.post("/v2/models/tiny/infer", content=body, headers=headers)     # the rule still says no
        assert r.status_code == 503 and "queue full" in r.json()["error"] and "retry-after" in r.headers
        assert rt.counts["refused"] == refused + 1  # one refusal, before any frame was submitted
        start = time.perf_counter()                 # a large body is not waited for: the headers only
        status, answer = exchange(server.port, raw_post(b"", headers, 150_000), timeout_s=2.0)
        assert status == 503 and time.perf_counter() - start < 1.0
    finally:
        rt.admission.max_in_flight = 50
        monkeypatch.undo()
    assert server.post("/v2/models/tiny/infer", content=body, headers=headers).status_code == 200


def test_while_admitting_the_edge_does_not_ask_twice(server):
    rt = server.runtime
    assert rt.precheck(rt.clock()) is None          # the last answer was yes: no second decision


def test_measured_slack_stays_at_the_ceiling_on_an_exact_estimate():
    meter = MeasuredSlack(100.0, ceiling=1.0, every=5)
    news = [meter.observe(90.0, 90.0) for _ in range(50)]
    assert {n for n in news if n is not None} == {1.0}


def test_measured_slack_shrinks_by_the_estimate_error_near_the_bound():
    meter = MeasuredSlack(100.0, ceiling=1.0, every=5)
    assert all(meter.observe(10.0, 40.0) is None for _ in range(50))     # far from the bound: not counted
    news = [meter.observe(80.0, 100.0) for _ in range(50)]               # 25 % late at the bound
    assert news[-1] == pytest.approx(0.8)
    assert [meter.observe(80.0, 800.0) for _ in range(1000)][-1] == 0.5    # never below the floor
