"""A two-node Ray cluster on this machine for the tests: two `ray start --block` processes on
loopback (a head and a worker), each with one CPU and its own custom resource, token auth on
(the token of ~/.ray/auth_token, which Ray makes when there is none), in a short temp dir of their own; stopped by terminating those two processes (their node processes go with
them: nothing else on the machine is touched, no `ray stop`)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RAY = Path(sys.executable).with_name("ray")


def free_port() -> int:
    """A TCP port nothing listens on right now (loopback)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TwoNodeCluster:
    """`address` of a head with resource {head: 1} and a worker with {worker: 1}, one CPU each."""

    def __init__(self, head: str = "nodeA", worker: str = "nodeB", timeout_s: float = 60.0) -> None:
        self.dir = tempfile.mkdtemp(prefix="rt", dir="/tmp")   # unix socket paths must stay short
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        common = ["--block", "--node-ip-address", "127.0.0.1", "--num-cpus", "1", "--disable-usage-stats"]
        self.procs: list[subprocess.Popen] = []
        self.log = Path(self.dir) / "start.log"
        env = os.environ | {"RAY_AUTH_MODE": "token"}   # token auth, as a cluster of `ray start` runs it
        with self.log.open("w") as log:
            self.procs.append(subprocess.Popen(
                [str(RAY), "start", "--head", "--port", str(self.port), "--temp-dir", self.dir,
                 "--include-dashboard", "false", "--resources", f'{{"{head}": 1}}', *common],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=env))
            self._wait_port(timeout_s)
            self.procs.append(subprocess.Popen(
                [str(RAY), "start", "--address", self.address, "--resources", f'{{"{worker}": 1}}', *common],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=env))

    def _wait_port(self, timeout_s: float) -> None:
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            if self.procs[0].poll() is not None:
                raise RuntimeError(f"ray start --head exited: {self.log.read_text()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.2)
        raise TimeoutError(f"the Ray head did not listen within {timeout_s:g} s")

    def wait_nodes(self, ray: object, n: int = 2, timeout_s: float = 60.0) -> None:
        """Wait (connected) until `n` nodes are alive."""
        end = time.monotonic() + timeout_s
        while sum(node["Alive"] for node in ray.nodes()) < n:  # type: ignore[attr-defined]
            if time.monotonic() > end:
                raise TimeoutError(f"{n} Ray nodes were not up within {timeout_s:g} s")
            time.sleep(0.2)

    def stop(self, grace_s: float = 3.0) -> None:
        """End both nodes: SIGTERM to each `ray start --block` process group, SIGKILL to the group
        after `grace_s` (a graceful stop takes ~30 s, the tests need nothing of it); then remove
        the temp dir. Only these two process groups are signalled."""
        for p in reversed(self.procs):
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        end = time.monotonic() + grace_s
        for p in reversed(self.procs):
            try:
                p.wait(timeout=max(0.1, end - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)
