"""`skinflint serve` and `skinflint load` as a user runs them, on loopback: every request sent
is answered (none lost); bad options exit 2 with one line."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.runtime.apps import write_app, write_models
from tests.runtime.edge import start_cli, stop_cli

pytest.importorskip("httptools", reason="the serve extra is not installed")
CLI = [str(Path(sys.executable).parent / "skinflint")]


def test_serve_then_load_answers_every_request(tmp_path: Path):
    app = write_app(tmp_path)
    write_models(tmp_path / "models")
    (tmp_path / "token").write_text("tk\n")
    server, url = start_cli([str(app), "--token-file", str(tmp_path / "token")])
    try:
        out = subprocess.run(CLI + ["load", url, "--rate", "40", "--duration", "1", "--arrivals", "uniform",
                                    "--token-file", str(tmp_path / "token"), "--format", "json"],
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        report = json.loads(out.stdout)
        assert report["sent"] == 40 and report["lost"] == 0
        assert sum(report["outcomes"].values()) == 40
        assert "counts" not in httpx.get(f"{url}/healthz", timeout=5).json()          # no counters there
        counts = httpx.get(f"{url}/v1/stats", headers={"authorization": "Bearer tk"}, timeout=5).json()["counts"]
        assert counts["admitted"] + counts["refused"] == 40
    finally:
        code, _ = stop_cli(server)
    assert code == 0


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_mid_load_drains_flushes_and_exits_0(tmp_path: Path, sig):
    app = write_app(tmp_path, adapter="frame")
    batches, metrics = tmp_path / "batches.csv", tmp_path / "metrics.txt"
    server, url = start_cli([str(app), "--runner", "sleep", "--record-batches", str(batches),
                             "--metrics-file", str(metrics)])
    load = subprocess.Popen(CLI + ["load", url, "--rate", "100", "--duration", "6", "--format", "json",
                                   "--timeout", "5"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for _ in range(300):                  # mid-load: once 50 requests are in (bounded: 30 s)
        if httpx.get(f"{url}/v1/stats", timeout=5).json()["counts"]["admitted"] >= 50:
            break
        time.sleep(0.1)
    code, err = stop_cli(server, sig)
    out, load_err = load.communicate(timeout=60)
    assert load.returncode == 0, load_err
    report = json.loads(out)
    assert code == 0, err
    last = err.strip().splitlines()[-1]
    assert "0 left in flight" in last and "0 failed" in last, last
    admitted = int(re.search(r"(\d+) admitted", last).group(1))
    assert admitted >= 50 and f"{admitted} completed" in last           # every admitted request answered
    rows = len(batches.read_text().splitlines()) - 1                    # the header, then one row a batch
    run = sum(float(v) for k, v in re.findall(r'skinflint_batch_size_count\{module="(\w+)"\} (\S+)',
                                                metrics.read_text()))
    assert rows == run > 0 and f"{rows} batches logged" in last
    assert report["lost"] == 0 and report["outcomes"].get("ok", 0) >= admitted - 5


def test_a_port_in_use_is_exit_4_with_one_line(tmp_path: Path):
    app = write_app(tmp_path, adapter="frame")
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        out = subprocess.run(CLI + ["serve", str(app), "--runner", "sleep", "--port", str(port)],
                             capture_output=True, text=True, timeout=120)
    assert out.returncode == 4
    assert out.stderr.strip() == f"skinflint: error: 127.0.0.1:{port} is already in use: stop what holds it or " \
                                 "pass another --port"


def test_token_sources(tmp_path: Path):
    app = write_app(tmp_path, adapter="frame")
    server, url = start_cli([str(app), "--runner", "sleep", "--token", "visible"])
    try:
        ok = httpx.get(f"{url}/v1/plan", headers={"authorization": "bearer visible"}, timeout=5).status_code
    finally:
        _, err = stop_cli(server)
    assert ok == 200 and "--token shows in ps" in err
    env = dict(os.environ, SKINFLINT_TOKEN="fromenv")
    server, url = start_cli([str(app), "--runner", "sleep"], env=env)
    try:
        codes = [httpx.get(f"{url}/v1/plan", headers=h, timeout=5).status_code
                 for h in ({}, {"authorization": "Bearer fromenv"})]
    finally:
        _, err = stop_cli(server)
    assert codes == [401, 200] and "shows in ps" not in err


@pytest.mark.parametrize("args, field", [
    (["serve", "APP", "--port", "0"], "--port"),
    (["serve", "APP", "--backend", "nope"], "--backend"),
    (["load", "http://127.0.0.1:9", "--rate", "5", "--duration", "1", "--timeout", "1"], "URL"),
    (["serve", "APP", "--token-file", "/nonexistent/token"], "--token-file"),
    (["serve", "APP", "--request-timeout", "0"], "--max-*/--*-timeout"),
    (["load", "http://127.0.0.1:9", "--rate", "5", "--protocol", "v1", "--frames", "2"], "--frames"),
])
def test_bad_options_exit_2_with_one_line(tmp_path: Path, args, field):
    app = write_app(tmp_path)
    write_models(tmp_path / "models")
    out = subprocess.run(CLI + [a.replace("APP", str(app)) for a in args], capture_output=True, text=True, timeout=120)
    assert out.returncode == 2, out.stderr
    assert field in out.stderr and "Traceback" not in out.stderr
