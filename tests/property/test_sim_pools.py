"""Shared model pools in simulation: under uniform arrivals (each app its own rate and a random
phase), every item keeps its promise — a pooled item the pool's worst latency
`model.pool_worst_latency_ms(b, d, R, k)` after its parents' promises — and every request its
app's SLO, on random small fleets planned by `plan_fleet` and on single apps that run a model
twice, planned by the default planner (which pools them where that is cheaper)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import skinflint
from skinflint.planners import PlanOptions
from skinflint.planners.solve.bounds import configs_by_module, smallest_feasible_slo
from skinflint.planners.fleet import plan_fleet
from skinflint.sim import item_excess_ms, promise_violations, simulate, simulate_fleet
from skinflint.sim.fidelity import TOL_MS
from skinflint.spec.types import App, Module, Spec
from skinflint.testing.instances import random_spec
from skinflint.verify import verify_fleet

MODELS = ("model0", "model1")


@st.composite
def small_apps(draw, name: str, base: Spec, max_modules: int = 2, repeat: bool = False) -> Spec:  # noqa: ANN001
    """1..max_modules modules (a chain, or side by side) running models of `base`, some the same
    (with `repeat`, at least two modules, the first two running the same model)."""
    n = draw(st.integers(2 if repeat else 1, max_modules))
    modules: list[Module] = []
    for k in range(n):
        parents = (f"m{k - 1}",) if k and draw(st.booleans()) else ()
        model = modules[0].model if repeat and k == 1 else draw(st.sampled_from(MODELS))
        modules.append(Module(f"m{k}", model, parents))
    rate = draw(st.sampled_from((2.0, 5.0, 5.0, 20.0, 60.0, 150.0)))
    hop = draw(st.sampled_from((0.0, 1.0)))
    spec = Spec(App(name, rate, 1.0, tuple(modules), hop), base.hardware, base.profiles)
    least = smallest_feasible_slo(spec, configs_by_module(spec))
    slo = round(least * draw(st.sampled_from((1.0, 1.3, 2.0, 4.0))), 3) + 0.001
    return replace(spec, app=replace(spec.app, slo_ms=slo))


@st.composite
def bases(draw) -> Spec:  # noqa: ANN001
    """Hardware and profiles of two models (random curves, sometimes non-monotone)."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    sizes = sorted(draw(st.sets(st.sampled_from([1, 2, 4, 8, 16]), min_size=1, max_size=3)))
    return random_spec(rng, len(MODELS), draw(st.integers(1, 2)), sizes, rate=1.0, slo_ms=1.0, base_ms=(3.0, 25.0))


def uniform(rate: float, phase: float, duration_s: float) -> np.ndarray:
    """Uniform arrivals at `rate` starting at phase (a fraction of one gap)."""
    gap = 1000.0 / rate
    return phase * gap + np.arange(int(duration_s * rate)) * gap


def duration_for(plans, pools) -> float:  # noqa: ANN001
    """Long enough for every module and pool to go round its cycle several times (>= 300 requests)."""
    cycles = [sum(g.workers * g.batch_size for g in m.groups) * 1000.0 / m.rate
              for p in plans for m in p.modules if m.groups]
    cycles += [sum(g.workers * g.batch_size for g in q.groups) * 1000.0 / q.rate
               for q in list(pools) + [q for p in plans for q in p.pools]]
    cycles += [s.cycle_ms for p in plans for s in p.shared_workers]
    steady_s = max(300.0 / min(p.rate for p in plans), 6 * max(cycles, default=0.0) / 1000.0)
    return steady_s + 2 * margin_for(plans, pools) / 1000.0


def steady(results, margin_ms: float) -> list[np.ndarray]:  # noqa: ANN001
    """Per app, the requests that arrived at least `margin_ms` after the first arrival of any app
    and before the last: the bound's premise is k uniform streams *all present*, and a pool's
    members start (and stop) at their promise offsets, so the first and last ~SLO of a finite
    run see a thinner merged stream (docs/simulator.md, "Pools and fleets in simulation")."""
    first = min(float(r.trace.arrival_ms[0]) for r in results)
    last = max(float(r.trace.arrival_ms[-1]) for r in results)
    return [(r.trace.arrival_ms >= first + margin_ms) & (r.trace.arrival_ms <= last - margin_ms) for r in results]


def excess_in(result, keep: np.ndarray) -> dict[str, float]:  # noqa: ANN001
    """Per module, the worst excess over the promise among items of the kept requests."""
    out = {}
    for (name, excess), mt in zip(item_excess_ms(result).items(), result.trace.modules):
        mine = keep[mt.item_request[mt.ran]]
        if mine.any():
            out[name] = float(excess[mine].max())
    return out


def assert_kept(results, margin_ms: float) -> None:  # noqa: ANN001
    """Every request completes; every steady-state item keeps its promise and request its SLO."""
    for r, keep in zip(results, steady(results, margin_ms)):
        assert r.completed == r.requests  # no request vanishes, none is left behind
        assert keep.sum() >= 100
        worst = {k: v for k, v in excess_in(r, keep).items() if v > TOL_MS}
        assert worst == {}, (r.plan.app, worst, [(m.name, m.model, m.pool, m.budget_ms) for m in r.plan.modules])
        latency = r.trace.done_ms[keep] - r.trace.arrival_ms[keep]
        assert float(latency.max()) <= r.model.slo_ms * (1 + 1e-9) + TOL_MS, (r.plan.app, latency.max())


def margin_for(plans, pools) -> float:  # noqa: ANN001
    """Twice the longest SLO plus the longest pool cycle and two gaps: past every start-up."""
    cycles = [sum(g.workers * g.batch_size for g in q.groups) * 1000.0 / q.rate
              for q in list(pools) + [q for p in plans for q in p.pools]]
    return 2 * max(p.slo_ms for p in plans) + max(cycles, default=0.0) + 2000.0 / min(p.rate for p in plans)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), base=bases(), n_apps=st.integers(2, 3), u=st.sampled_from((1.0, 1.0, 0.9)))
def test_fleet_pools_keep_every_promise(data, base, n_apps, u) -> None:  # noqa: ANN001
    specs = [data.draw(small_apps(name, base)) for name in "abc"[:n_apps]]
    fleet = plan_fleet(specs, PlanOptions(utilization=u))
    problems = verify_fleet(fleet, specs)
    assert problems == [], (problems, [s.app for s in specs])
    event(f"pools: {len(fleet.pools)} across apps, {sum(len(p.pools) for p in fleet.apps)} within one")
    duration = duration_for(fleet.apps, fleet.pools)
    phases = data.draw(st.lists(st.floats(0.0, 0.999), min_size=n_apps, max_size=n_apps))
    arrivals = [uniform(p.rate, ph, duration) for p, ph in zip(fleet.apps, phases)]
    results = simulate_fleet(fleet, specs, arrivals, duration, np.random.default_rng(0))
    assert_kept(results, margin_for(fleet.apps, fleet.pools))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), base=bases(), phase=st.floats(0.0, 0.999), u=st.sampled_from((1.0, 0.9)))
def test_pools_within_one_app_keep_every_promise(data, base, phase, u) -> None:  # noqa: ANN001
    spec = data.draw(small_apps("one", base, max_modules=3, repeat=True))
    plan = skinflint.plan_spec(spec, options=PlanOptions(utilization=u, pools=True))
    event(f"pools: {len(plan.pools)}")
    duration = duration_for([plan], plan.pools)
    result = simulate(plan, spec, uniform(plan.rate, phase, duration), duration, np.random.default_rng(0))
    assert result.engine == ("event" if plan.pools else "vector")
    assert_kept([result], margin_for([plan], ()))
    if not plan.pools:
        assert promise_violations(result) == []  # no pool, no start-up effect: the whole run
