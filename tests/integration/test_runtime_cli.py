"""`skinflint serve` and `skinflint load` as a user runs them, on loopback: every request sent
is answered (none lost); bad options exit 2 with one line."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.runtime.apps import write_app, write_models

pytest.importorskip("fastapi", reason="the serve extra is not installed")
CLI = [str(Path(sys.executable).parent / "skinflint")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_then_load_answers_every_request(tmp_path: Path):
    app = write_app(tmp_path)
    write_models(tmp_path / "models")
    port = free_port()
    server = subprocess.Popen(CLI + ["serve", str(app), "--port", str(port), "--token", "tk"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(300):                      # bounded: at most ~30 s for the server to come up
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            pytest.fail(f"server did not start: {server.stderr.read() if server.poll() is not None else ''}")
        out = subprocess.run(CLI + ["load", url, "--rate", "40", "--duration", "1", "--arrivals", "uniform",
                                    "--token", "tk", "--format", "json"], capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        report = json.loads(out.stdout)
        assert report["sent"] == 40 and report["lost"] == 0
        assert sum(report["outcomes"].values()) == 40
        counts = httpx.get(f"{url}/healthz", timeout=5).json()["counts"]
        assert counts["admitted"] + counts["refused"] == 40
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.parametrize("args, field", [
    (["serve", "APP", "--port", "0"], "--port"),
    (["serve", "APP", "--backend", "nope"], "--backend"),
    (["load", "http://127.0.0.1:9", "--rate", "5", "--duration", "1", "--timeout", "1"], "URL"),
])
def test_bad_options_exit_2_with_one_line(tmp_path: Path, args, field):
    app = write_app(tmp_path)
    write_models(tmp_path / "models")
    out = subprocess.run(CLI + [a.replace("APP", str(app)) for a in args], capture_output=True, text=True, timeout=120)
    assert out.returncode == 2, out.stderr
    assert field in out.stderr and "Traceback" not in out.stderr
