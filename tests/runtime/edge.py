"""Helpers for the HTTP edge's tests: the edge in a thread of the test process, `skinflint serve`
as a subprocess, and one raw HTTP exchange over a socket (for what no client library sends)."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable

import httptools
import httpx

from skinflint.runtime.edge.http import Limits
from skinflint.runtime.server import listen, new_loop, run_edge

CLI = [str(Path(sys.executable).parent / "skinflint")]


class ThreadServer:
    """`app` served on a loopback port by the edge, its loop in a thread of its own."""

    def __init__(self, app: Any, limits: Limits = Limits()) -> None:
        self.app, self.limits = app, limits
        self.sock = listen("127.0.0.1", 0)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        self.loop = new_loop()
        self.stop_event = asyncio.Event()
        self.loop.run_until_complete(run_edge(self.app, self.sock, self.limits, self.stop_event, 5.0,
                                              self._started))
        self.loop.close()

    def __enter__(self) -> "ThreadServer":
        self._thread.start()
        assert self._started.wait(30), "the edge did not start"
        return self

    def __exit__(self, *exc: Any) -> None:
        self.loop.call_soon_threadsafe(self.stop_event.set)
        self._thread.join(30)
        self.sock.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_cli(args: list[str], *, env: dict | None = None, preexec: Callable[[], None] | None = None,
              ready_s: float = 60.0) -> tuple[subprocess.Popen, str]:
    """`skinflint serve ARGS --port P` until /v2/health/ready answers 200 (bounded); the process and URL."""
    port = free_port()
    proc = subprocess.Popen(CLI + ["serve", *args, "--port", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, env=env, preexec_fn=preexec)
    url = f"http://127.0.0.1:{port}"
    end = time.monotonic() + ready_s
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise AssertionError(f"serve exited {proc.returncode}: {proc.stderr.read()}")
        try:
            if httpx.get(f"{url}/v2/health/ready", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise AssertionError("serve did not become ready")


def stop_cli(proc: subprocess.Popen, sig: int = 15, timeout_s: float = 30.0) -> tuple[int, str]:
    """Signal `proc`, wait for it (bounded); its exit code and stderr."""
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=timeout_s)
    return proc.returncode, err


class _Reply:
    def __init__(self) -> None:
        self.status, self.body, self.done = 0, bytearray(), False

    def on_body(self, body: bytes) -> None:
        self.body += body

    def on_message_complete(self) -> None:
        self.done = True


def exchange(port: int, raw: bytes, timeout_s: float = 5.0, close_after_send: bool = False) -> tuple[int, bytes]:
    """Send `raw` on a new connection and read one answer: (status, body); status 0 when the
    server closed without answering. TimeoutError when nothing comes within `timeout_s` (a hang)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout_s) as s:
        try:
            s.sendall(raw)
        except (BrokenPipeError, ConnectionResetError):
            pass
        if close_after_send:
            return 0, b""
        reply = _Reply()
        parser = httptools.HttpResponseParser(reply)
        end = time.monotonic() + timeout_s
        while not reply.done:
            s.settimeout(max(0.01, end - time.monotonic()))
            try:
                data = s.recv(65536)
            except ConnectionResetError:
                break
            except socket.timeout:
                raise TimeoutError(f"no answer within {timeout_s} s") from None
            if not data:
                break
            parser.feed_data(data)
        return (parser.get_status_code() if reply.done else 0), bytes(reply.body)
