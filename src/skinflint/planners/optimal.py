"""`optimal`: the exact planner (skinflint's default).

  variables    per module m: budget L_m and integer workers n_c per config c
  objective    min  sum_m sum_c n_c * price(c)
  constraints  W_m(c) <= L_m for every used c                 (batch-aware worst latency)
               max d <= u * 1000 * sum n_c b_c / r_m           (cycle fits the slowest batch)
               sum over every path of (L_m + hop) <= slo        (end-to-end objective)

Solved exactly: per-module cost frontiers over the candidate budgets (solve/frontier.py, integer
covers from solve/cover.py), then an exact split of the SLO over the DAG (solve/split.py). The fluid
lower bound is the same split over the fluid frontiers (solve/bounds.py).
"""

from __future__ import annotations

from skinflint.plan import Plan
from skinflint.planners.base import PlanOptions
from skinflint.planners.solve.assemble import module_plan, shared_workers
from skinflint.planners.solve.bounds import budget_caps, configs_by_module, plan_bound, require_feasible
from skinflint.planners.solve.frontier import as_arrays, cached_frontier
from skinflint.planners.solve.pools import with_pools
from skinflint.planners.solve.sharing import Bin, with_shared_workers
from skinflint.planners.solve.split import split_slo
from skinflint.spec.types import Spec


class OptimalPlanner:
    """Exact least-cost plan under batch-aware dispatch (MODEL.md), any DAG; residuals may share
    workers (exact for up to three modules, greedy beyond, see solve/sharing.py)."""

    name = "optimal"
    description = "exact: integer covers with several configs per module, exact SLO split over the DAG"

    def plan(self, spec: Spec, options: PlanOptions) -> Plan:
        configs = configs_by_module(spec, options.fanout_lag)
        require_feasible(spec, configs)
        caps = budget_caps(spec, configs)
        u = options.utilizations(configs)
        frontiers = {m: list(cached_frontier(tuple(cs), spec.app.module_rate(m), u[m], caps[m])) for m, cs in configs.items()}
        notes: tuple[str, ...] = ()
        bins: tuple[Bin, ...] = ()
        if options.sharing:
            solution = with_shared_workers(spec, configs, caps, frontiers, u)
            points, bins = solution.points, solution.bins
            if not solution.exact:
                notes = ("shared workers chosen greedily (instance too large to prove); "
                         "the gap to the lower bound bounds what is left",)
        else:
            result = split_slo(spec.app, {m: as_arrays(f) for m, f in frontiers.items()}, spec.app.slo_ms,
                               spec.app.hop_ms)
            assert result is not None, "feasible by require_feasible, so a split must exist"
            points = {m: frontiers[m][i] for m, i in result[1].items()}
        modules = tuple(module_plan(spec, m.name, points[m.name], utilization=u[m.name]
                                    if u[m.name] != options.utilization else None) for m in spec.app.modules)
        plan = Plan(spec.app.name, self.name, spec.app.rate, spec.app.slo_ms, modules, spec.app.hop_ms,
                    shared_workers(bins), lower_bound_per_hour=plan_bound(spec, configs, u, options.bound), utilization=options.utilization,
                    headroom=options.headroom, notes=notes, fanout_lag=options.fanout_lag)
        if options.pools:
            plan = with_pools(plan, spec, options)
        return plan


__all__ = ["OptimalPlanner"]
