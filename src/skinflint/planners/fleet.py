"""Fleet planning: several applications planned together, pooling models they share
(docs/sharing-and-pools.md; the pools themselves are solve/pools.py).

Always checked against planning every app alone with the exact planner (shared workers
included), so a fleet never costs more than the apps planned one by one.
"""

from __future__ import annotations

import time
from dataclasses import replace

from skinflint.errors import SpecError
from skinflint.plan import FleetPlan
from skinflint.planners.base import PlanOptions
from skinflint.planners.optimal import OptimalPlanner
from skinflint.planners.solve.pools import assemble_pools, pooled_plans
from skinflint.spec.types import Spec


def plan_fleet(specs: list[Spec], options: PlanOptions | None = None) -> FleetPlan:
    """Plan several applications together, pooling models they share where it is cheaper.
    `specs` are the planned ones (`planners.base.planned_spec`; api.plan_fleet_files does it)."""
    options = replace(options or PlanOptions(), pools=True)
    names = [s.app.name for s in specs]
    if len(set(names)) != len(names):
        twice = sorted(n for n in names if names.count(n) > 1)[0]
        raise SpecError("command line", "APP", f"two apps share the name {twice!r}", "give each application a unique name")
    start = time.perf_counter()
    separate = [OptimalPlanner().plan(s, options) for s in specs]  # each raises if its app is infeasible
    separate_cost = sum(p.cost_per_hour for p in separate)
    pooled = pooled_plans(specs, options)
    if pooled is None or pooled[0] >= separate_cost * (1 - 1e-12) - 1e-12:
        return FleetPlan(tuple(separate), (), separate_cost, (time.perf_counter() - start) * 1000)
    plans, pools = assemble_pools(specs, pooled[1], pooled[2], options, "optimal")
    return FleetPlan(tuple(plans), tuple(pools), separate_cost, (time.perf_counter() - start) * 1000)


__all__ = ["plan_fleet"]
