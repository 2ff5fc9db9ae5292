"""The edge's bounds against `skinflint serve` (a subprocess, the sleep runner): 1,000 idle
connections do not stop valid requests — with room for them, and under `ulimit -n 512`, where
the server keeps its connections below the limit and closes the longest-idle ones to make room
(without a traceback); a slow sender gets 408 and one log line; an idle keep-alive socket is
closed. About 10 s."""

from __future__ import annotations

import resource
import socket
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("httptools", reason="the serve extra is not installed")
import httpx  # noqa: E402

from skinflint.runtime.loadgen import npy_bytes  # noqa: E402
from tests.runtime.apps import write_app  # noqa: E402
from tests.runtime.edge import exchange, start_cli, stop_cli  # noqa: E402

IDLE = 1000
NPY = {"content-type": "application/x-npy"}


def nofile(limit: int):
    def set_limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))
    return set_limit


def valid_requests(url: str, n: int) -> list[int]:
    body = npy_bytes(np.zeros((3, 8, 8), np.float32))
    out = []
    for _ in range(n):        # each on a new connection: the kind an idle flood would starve
        with httpx.Client(base_url=url, timeout=10) as c:
            out.append(c.post("/v1/apps/tiny/infer", content=body, headers=NPY).status_code)
    return out


@pytest.mark.parametrize("ulimit", [None, 512])
def test_a_thousand_idle_connections_do_not_stop_valid_requests(tmp_path: Path, ulimit):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < IDLE + 200:
        pytest.skip(f"this process may open {soft} files, the test needs {IDLE + 200}")
    app = write_app(tmp_path, adapter="frame")
    proc, url = start_cli([str(app), "--runner", "sleep", "--idle-timeout", "60"],
                          preexec=nofile(ulimit) if ulimit else None)
    port = int(url.rsplit(":", 1)[1])
    idle = []
    try:
        for _ in range(IDLE):
            idle.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        time.sleep(0.5)                               # let the server accept them all
        statuses = valid_requests(url, 20)
    finally:
        for s in idle:
            s.close()
        code, err = stop_cli(proc)
    assert statuses == [200] * 20
    assert code == 0 and "Traceback" not in err and "Too many open files" not in err
    if ulimit:                                         # 512 - 256 descriptors kept back: 256 connections
        assert "at most 256 connections" in err and len(err.splitlines()) < 10


def test_slow_senders_get_408_and_idle_sockets_are_closed(tmp_path: Path):
    app = write_app(tmp_path, adapter="frame")
    proc, url = start_cli([str(app), "--runner", "sleep", "--request-timeout", "0.5", "--idle-timeout", "0.5"])
    port = int(url.rsplit(":", 1)[1])
    try:
        t0 = time.monotonic()
        status, _ = exchange(port, b"POST /v1/apps/tiny/infer HTTP/1.1\r\ncontent-length: 100\r\n\r\nabc")
        slow_s = time.monotonic() - t0
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            t0 = time.monotonic()
            closed = s.recv(1) == b""                  # the server ends the idle connection
            idle_s = time.monotonic() - t0
        assert valid_requests(url, 1) == [200]
    finally:
        code, err = stop_cli(proc)
    assert status == 408 and 0.4 < slow_s < 5
    assert closed and 0.4 < idle_s < 5
    assert err.count("too slow") == 1 and code == 0
