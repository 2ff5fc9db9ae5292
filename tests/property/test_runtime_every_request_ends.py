"""Every admitted request ends, whatever the plan and the load: random small plans — shared
workers, pools within one app, fleets with pools across apps, fan-out — served for real with
the sleep runner (workers sleep the profiled time) at 5 % to 200 % of the planned rate. Once the
traffic stops, per app `admitted == completed + failed` (none failed: the sleep runner cannot),
every answer came within the HTTP server's 504 bound (10 x SLO, at least 1 s), nothing is in
flight and no item waits at any dispatcher.

Real time, so it is kept small: profiles of 1-6 ms, at most ~1.2 s of arrivals per example, a
few examples per run (SKINFLINT_RUNTIME_EXAMPLES=N runs more, e.g. when hunting a stall).
"""

from __future__ import annotations

import os
import time
from dataclasses import replace

import numpy as np
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import skinflint
from skinflint.planners import PlanOptions
from skinflint.planners.fleet import plan_fleet
from skinflint.planners.solve.bounds import configs_by_module, smallest_feasible_slo
from skinflint.runtime import FleetRuntime, Runtime, make_backend
from skinflint.runtime.drive import submit_at
from skinflint.spec.types import App, Module, Spec
from skinflint.testing.instances import random_spec

EXAMPLES = int(os.environ.get("SKINFLINT_RUNTIME_EXAMPLES", "5"))
FRACTIONS = (0.05, 0.2, 0.5, 1.0, 2.0)
ITEM = (2,)


def app_spec(name: str, base: Spec, draw, repeat: bool) -> Spec:  # noqa: ANN001
    """1-3 modules over `base`'s models and hardware: a chain or a fork, fan-out factors as drawn,
    with `repeat` two modules running one model (a pool candidate); SLO 1-3x the least feasible."""
    n = draw(st.integers(2 if repeat else 1, 3))
    models = sorted({m.model for m in base.app.modules})
    modules = []
    for k in range(n):
        parents = (f"m{draw(st.integers(0, k - 1))}",) if k and draw(st.booleans()) else ()
        model = modules[0].model if repeat and k == 1 else draw(st.sampled_from(models))
        factor = draw(st.sampled_from((1.0, 1.0, 0.5, 2.0, 2.5))) if parents else 1.0
        modules.append(Module(f"m{k}", model, parents, factor))
    rate = draw(st.sampled_from((20.0, 60.0, 150.0)))
    spec = Spec(App(name, rate, 1.0, tuple(modules), 0.0), base.hardware, base.profiles)
    least = smallest_feasible_slo(spec, configs_by_module(spec))
    return replace(spec, app=replace(spec.app, slo_ms=round(least * draw(st.sampled_from((1.0, 1.5, 3.0))), 3) + 0.01))


@st.composite
def served(draw):  # noqa: ANN001
    """(kind, plans, specs, fleet or None): a plan of one app (sharing on), one with pools, or a fleet."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    sizes = sorted(draw(st.sets(st.sampled_from([1, 2, 4, 8]), min_size=1, max_size=3)))
    base = random_spec(rng, 2, draw(st.integers(1, 2)), sizes, rate=1.0, slo_ms=1.0, base_ms=(1.0, 6.0))
    kind = draw(st.sampled_from(("shared", "pools", "fleet")))
    if kind == "fleet":
        specs = [app_spec(name, base, draw, repeat=False) for name in "ab"]
        fleet = plan_fleet(specs, PlanOptions())
        return kind, list(fleet.apps), specs, fleet
    spec = app_spec("one", base, draw, repeat=kind == "pools")
    plan = skinflint.plan_spec(spec, options=PlanOptions(pools=kind == "pools"))
    return kind, [plan], [spec], None


def arrivals(faces: list[Runtime], fraction: float, rng: np.random.Generator) -> list[np.ndarray]:
    """Poisson arrival times per app at `fraction` of its offered rate (~1.2 s, at most 60 requests)."""
    out = []
    for rt in faces:
        rate = fraction * rt.plan.offered_rate
        out.append(np.cumsum(rng.exponential(1000.0 / rate, int(min(60, max(3, rate * 1.2))))))
    return out


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=served(), fraction=st.sampled_from(FRACTIONS), seed=st.integers(0, 2**16))
def test_every_admitted_request_ends(case, fraction, seed) -> None:  # noqa: ANN001
    kind, plans, specs, fleet = case
    shared = sum(len(p.shared_workers) for p in plans)
    pools = len(fleet.pools) if fleet else sum(len(p.pools) for p in plans)
    event(f"{kind}: shared workers {bool(shared)}, pools {bool(pools)}, {fraction:.0%} of planned")
    backend = make_backend("embedded", runner="sleep", item_shape=ITEM)
    if fleet is None:
        runtime = Runtime(plans[0], specs[0], backend)
        faces = [runtime]
    else:
        runtime = FleetRuntime(fleet, specs, backend)
        faces = [runtime.apps[p.app] for p in fleet.apps]
    try:
        _, futures = submit_at(faces, arrivals(faces, fraction, np.random.default_rng(seed)), np.zeros(ITEM, np.float32))
        for rt, futs in zip(faces, futures):
            bound_s = max(1.0, 10 * rt.sm.slo_ms / 1000.0)         # the server's 504 bound
            end = time.perf_counter() + bound_s
            for f in futs:
                f.result(timeout=max(0.01, end - time.perf_counter()))   # a TimeoutError here is a 504
        for rt in faces:
            c = rt.counts
            assert c["admitted"] == c["completed"] + c["failed"] and c["failed"] == 0, (kind, c)
            assert rt.in_flight == 0
            assert rt.pending() == [0] * len(rt.sm.modules), rt.pending()
    finally:
        runtime.close()
