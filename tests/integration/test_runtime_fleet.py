"""Pools and fleets served as planned: one dispatcher and one set of workers per pool, fed by its
members' merged streams; every request of every app answered and counted once; the fleet over
HTTP under /v1/apps/APP/ with per-app plans and an `app` label on every metric."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from skinflint.api import plan_fleet_files
from skinflint.runtime import FleetRuntime, make_backend
from skinflint.runtime.metrics import PrometheusMetrics
from skinflint.spec.loader import load_spec
from tests.runtime.apps import write_fleet

WAIT_S = 30.0


@pytest.fixture
def fleet(tmp_path: Path):
    files = write_fleet(tmp_path)
    plan = plan_fleet_files(files)
    rt = FleetRuntime(plan, [load_spec(f) for f in files], make_backend("embedded", runner="sleep", item_shape=(2,)),
                      metrics=PrometheusMetrics)
    yield rt
    rt.close()


def test_a_pool_is_one_dispatcher_and_one_set_of_workers(fleet: FleetRuntime):
    front, back = fleet.apps["front"], fleet.apps["back"]
    assert fleet.fleet.pools, "the two apps run the same models: the fleet plan pools them"
    for pool in fleet.fleet.pools:
        module = pool.members[0].split("/")[1]
        k = front.sm.index(module)
        assert front.dispatchers[k] is back.dispatchers[k]        # one dispatcher, both members
        assert front.workers[k] is back.workers[k]                # one set of workers
        assert len(front.workers[k]) == sum(g.workers for g in pool.groups)
    # every worker the fleet rents started once: the pools' and the apps' own (groups, shared workers)
    rented = sum(sum(g.workers for g in p.groups) for p in fleet.fleet.pools) + sum(
        n for p in fleet.fleet.apps for n in p.workers_by_hardware().values())
    assert len(fleet.router.hosts) == rented


def test_every_request_of_every_app_is_answered_and_counted_once(fleet: FleetRuntime):
    for face in fleet.apps.values():   # all at once: admission (tested on its own) would refuse some
        face.admission.slack = float("inf")
    frame = np.zeros(2, np.float32)
    futs = {name: [fleet.apps[name].submit(frame) for _ in range(12)] for name in ("front", "back")}
    for name, fs in futs.items():
        results = [f.result(timeout=WAIT_S) for f in fs]
        assert [r.request for r in results] == list(range(12))          # numbered within its app
        assert all(len(r.outputs["classify"]) == 2 for r in results)    # rate_factor 2: two items each
        c = fleet.apps[name].counts
        assert (c["admitted"], c["completed"], c["failed"], fleet.apps[name].in_flight) == (12, 12, 0, 0)
    pool = fleet.router.servers[fleet.router.server_of[(0, 0)]].dispatcher
    assert pool.pending == 0 and fleet.in_flight == 0


def test_the_fleet_over_http(fleet: FleetRuntime):
    pytest.importorskip("httptools", reason="the serve extra is not installed")
    import httpx

    from skinflint.runtime.edge.fleet import FleetApp
    from skinflint.runtime.edge.http import Limits
    from tests.runtime.edge import ThreadServer
    app = FleetApp(fleet)
    with ThreadServer(app, Limits()) as srv, httpx.Client(base_url=srv.url, timeout=10) as c:
        for name in ("front", "back"):
            r = c.post(f"/v1/apps/{name}/infer", json={"tensor": [0.0, 1.0]})
            assert r.status_code == 200, r.text
        assert c.post("/v1/apps/nope/infer", json={"tensor": [0.0, 1.0]}).status_code == 404
        plan = c.get("/v1/plan").json()
        assert set(plan["apps"]) == {"front", "back"} and plan["fleet"]["pools"]
        stats = c.get("/v1/stats").json()
        assert stats["apps"]["front"]["counts"]["completed"] == 1
        text = c.get("/metrics").text
        assert 'skinflint_requests_total{app="front",outcome="admitted"} 1.0' in text
        assert 'skinflint_requests_total{app="back",outcome="admitted"} 1.0' in text
        assert text.count("# TYPE skinflint_requests_total counter") == 1
    app.close()
