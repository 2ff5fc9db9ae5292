"""The Python API: `skinflint.plan(...)` returns a verified Plan."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Iterable

from skinflint.plan import FleetPlan, Plan, TrafficCheck
from skinflint.planners import PlanOptions, get_planner
from skinflint.planners.base import planned_spec
from skinflint.spec.loader import load_spec, select_hardware, with_overrides
from skinflint.spec.types import Spec
from skinflint.traffic import Traffic
from skinflint.verify import check


def plan(app: str | Path | Spec, *, planner: str = "optimal", rate: float | None = None,
         slo_ms: float | None = None, utilization: float = 1.0, headroom: float = 0.0,
         hardware: Iterable[str] | None = None, sharing: bool = True, fanout_lag: bool = True,
         pools: bool = False, traffic: Traffic | str | None = None, target: float | None = None,
         fanout: str | None = None, jitter: str | None = None, seed: int = 0) -> Plan:
    """Plan an application (a path to APP.yaml, or a loaded Spec) and return the verified plan:
    the cheapest that attains `target` under `traffic` (MODEL.md, "Traffic and attainment"; by
    default the app file's `traffic:`, else Poisson arrivals with target 0.999), or MODEL.md's
    worst-case plan for traffic "uniform". A string names the arrivals; `target`, `fanout` and
    `jitter` override the rest of it.

    Raises SpecError for bad input and InfeasibleError when no plan meets the SLO.
    """
    if isinstance(app, Spec):
        spec = replace(app, app=with_overrides(app.app, rate=rate, slo_ms=slo_ms, source="arguments"))
        if hardware is not None:
            spec = replace(spec, hardware=select_hardware(dict(spec.hardware), hardware, Path("hardware")))
    else:
        spec = load_spec(app, rate=rate, slo_ms=slo_ms, hardware=hardware)
    return plan_spec(spec, planner=planner,
                     options=PlanOptions(utilization=utilization, headroom=headroom, sharing=sharing,
                                         fanout_lag=fanout_lag, pools=pools, seed=seed,
                                         traffic=stated_traffic(spec, traffic, target, fanout, jitter)))


def stated_traffic(spec: Spec, traffic: Traffic | str | None = None, target: float | None = None,
                   fanout: str | None = None, jitter: str | None = None, where: str = "command line") -> Traffic:
    """The traffic to plan for: `traffic` (a Traffic, or its arrivals as text) or the app file's,
    else the default, with `target`, `fanout` and `jitter` over it."""
    base = traffic if isinstance(traffic, Traffic) else (spec.app.traffic or Traffic())
    arrivals = traffic if isinstance(traffic, str) else None
    return Traffic.parse(arrivals, fanout=fanout, jitter=jitter, target=target, base=base, where=where)


def plan_spec(spec: Spec, *, planner: str = "optimal", options: PlanOptions | None = None) -> Plan:
    """Run a registered planner on a loaded spec, verify the plan against MODEL.md, time it.
    The planner and the check both see the planned spec (rate x (1 + headroom), the hardware
    subset): the one place where `planned_spec` is applied to a single app."""
    chosen = get_planner(planner)
    options = options or PlanOptions()
    start = time.perf_counter()
    if getattr(chosen, "plans_for_traffic", False):   # searches against the traffic itself (inferline)
        result = chosen.plan(planned_spec(spec, options), options)
    elif options.searches:
        from skinflint.planners.attain import plan_for_traffic

        result = plan_for_traffic(spec, options, chosen, per_module=planner == "optimal",
                                  uniform_optimum=lambda: _uniform_optimum(spec, options))
    else:
        result = chosen.plan(planned_spec(spec, options), options)
        if options.traffic is not None:
            result = replace(result, check=TrafficCheck(options.traffic))
    elapsed = (time.perf_counter() - start) * 1000.0
    check(result, planned_spec(spec, replace(options, headroom=result.headroom)))
    return result.with_timing(elapsed)


def _uniform_optimum(spec: Spec, options: PlanOptions) -> float | None:
    """The exact worst-case plan's cost at the offered rate (MODEL.md's first reference)."""
    from skinflint.errors import InfeasibleError

    opts = replace(options, traffic=None, module_headroom=(), bound=False)   # its cost only
    try:
        return get_planner("optimal").plan(planned_spec(spec, opts), opts).cost_per_hour
    except InfeasibleError:
        return None


def plan_fleet_files(app_files: Iterable[str | Path], *, planner: str = "optimal", rate: float | None = None,
                     slo_ms: float | None = None, utilization: float = 1.0, headroom: float = 0.0,
                     hardware: Iterable[str] | None = None, sharing: bool = True) -> FleetPlan:
    """Plan several applications together (shared model pools across them), verified."""
    from skinflint.errors import SpecError
    from skinflint.planners.fleet import plan_fleet
    from skinflint.verify import verify_fleet

    if planner != "optimal":
        raise SpecError("command line", "--planner", f"fleet planning uses the optimal planner, not {planner!r}",
                        "drop --planner or plan the apps one by one")
    options = PlanOptions(utilization=utilization, headroom=headroom, sharing=sharing)
    planned = [planned_spec(load_spec(a, rate=rate, slo_ms=slo_ms, hardware=hardware), options) for a in app_files]
    fleet = plan_fleet(planned, options)
    problems = verify_fleet(fleet, planned)
    if problems:
        from skinflint.errors import PlanInvalidError

        raise PlanInvalidError(problems)
    return fleet
