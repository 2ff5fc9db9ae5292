"""The Ray backend against a real two-node cluster started here (tests/runtime/cluster.py: two
`ray start` processes on loopback with different custom resources): token auth detected, each
module's actors placed on the node of its hardware, every request answered; an actor that no
node can host is a one-line error at once; an address where nothing listens is refused at once.

Marked `ray_cluster` (`-m "not ray_cluster"` skips it): about 20-40 s on 2 cores, every wait
bounded, the two processes always terminated."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest

from skinflint.errors import SpecError
from skinflint.runtime import Runtime, make_backend
from skinflint.runtime.backends.ray_backend import probe
from tests.runtime.apps import planned
from tests.runtime.cluster import TwoNodeCluster, free_port

pytestmark = pytest.mark.ray_cluster


def two_node_app(directory: Path, classify_on: str = "nodeB") -> Path:
    """detect (tiny_det) profiled only on nodeA, classify (tiny_cnn) only on `classify_on`."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "hardware.yaml").write_text("hardware:\n  nodeA: {price_per_hour: 0.1}\n  nodeB: {price_per_hour: 0.1}\n"
                                             "  nodeC: {price_per_hour: 0.1}\n")
    rows = ["model,hardware,batch_size,latency_ms", "tiny_det,nodeA,1,2.0", "tiny_det,nodeA,2,3.0",
            f"tiny_cnn,{classify_on},1,1.0", f"tiny_cnn,{classify_on},2,1.5"]
    (directory / "profiles.csv").write_text("\n".join(rows) + "\n")
    (directory / "app.yaml").write_text(
        "name: two\nprofiles: profiles.csv\nhardware: hardware.yaml\nrate: 20\nslo_ms: 200\nmodules:\n"
        "  - {name: detect, model: tiny_det}\n"
        "  - {name: classify, model: tiny_cnn, after: [detect], rate_factor: 2, adapter: frame}\n")
    return directory / "app.yaml"


@pytest.fixture(scope="module")
def cluster():
    ray = pytest.importorskip("ray", reason="the ray extra is not installed")
    if ray.is_initialized():
        ray.shutdown()
    mode = os.environ.pop("RAY_AUTH_MODE", None)       # as a user who exported nothing
    c = TwoNodeCluster()
    try:
        yield c
    finally:
        if ray.is_initialized():
            ray.shutdown()
        c.stop()
        os.environ.pop("RAY_AUTH_MODE", None)
        if mode is not None:
            os.environ["RAY_AUTH_MODE"] = mode


def test_a_plan_is_served_across_two_nodes_each_module_on_its_own(cluster: TwoNodeCluster, tmp_path: Path):
    import ray
    plan, spec = planned(two_node_app(tmp_path), sharing=False)
    assert plan.workers_by_hardware() == {"nodeA": 1, "nodeB": 1}
    backend = make_backend("ray", runner="sleep", item_shape=(2,), address=cluster.address)
    backend.start({})          # connects: the cluster runs token auth and a token is at hand here
    cluster.wait_nodes(ray, 2)
    assert "token" in backend.auth
    rt = Runtime(plan, spec, backend)
    try:
        free = ray.available_resources()
        assert free.get("nodeA", 0) == 0 and free.get("nodeB", 0) == 0   # one actor on each node
        futs = [rt.submit(np.zeros(2, np.float32)) for _ in range(4)]
        assert all(len(f.result(timeout=30).outputs["classify"]) == 2 for f in futs)
        assert rt.counts["completed"] == 4
    finally:
        rt.close()


def test_an_actor_no_node_can_host_is_one_line_at_once(cluster: TwoNodeCluster, tmp_path: Path):
    import ray
    plan, spec = planned(two_node_app(tmp_path, classify_on="nodeC"), sharing=False)
    backend = make_backend("ray", runner="sleep", item_shape=(2,), address=cluster.address)
    if not ray.is_initialized():
        backend.start({})
        cluster.wait_nodes(ray, 2)
    start = time.perf_counter()
    with pytest.raises(SpecError) as e:
        Runtime(plan, spec, backend)
    assert time.perf_counter() - start < 30
    assert "no node can host worker classify/0" in str(e.value) and "'nodeC': 1" in str(e.value)
    assert "\n" not in str(e.value)
    end = time.monotonic() + 20                                 # the detector's actor is released again
    while ray.available_resources().get("nodeA", 0) != 1 and time.monotonic() < end:
        time.sleep(0.2)
    assert ray.available_resources().get("nodeA", 0) == 1


def test_an_address_where_nothing_listens_is_refused_at_once():
    start = time.perf_counter()
    with pytest.raises(SpecError, match=r"no Ray cluster at 127\.0\.0\.1:\d+"):
        probe(f"127.0.0.1:{free_port()}")
    assert time.perf_counter() - start < 5
