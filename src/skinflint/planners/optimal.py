"""`optimal`: the exact planner (skinflint's default).

  variables    per module m: budget L_m and integer workers n_c per config c
  objective    min  sum_m sum_c n_c * price(c)
  constraints  W_m(c) <= L_m for every used c                 (batch-aware worst latency)
               max d <= u * 1000 * sum n_c b_c / r_m           (cycle fits the slowest batch)
               sum over every path of (L_m + hop) <= slo        (end-to-end objective)

Solved exactly: per-module cost frontiers over the candidate budgets (frontier.py, integer
covers from cover.py), then an exact split of the SLO over the DAG (split.py). The fluid lower
bound is the same split over the fluid frontiers.
"""

from __future__ import annotations

import math

from skinflint.model import Config, longest_path_ms
from skinflint.plan import BATCH_AWARE, Group, ModulePlan, Plan, SharedSlot, SharedWorker
from skinflint.planners import register
from skinflint.planners.base import PlanOptions, configs_by_module, planned_spec, require_feasible
from skinflint.planners.frontier import FrontierPoint, as_arrays, fluid_frontier, module_frontier
from skinflint.planners.sharing import Bin, with_shared_workers
from skinflint.planners.split import split_slo
from skinflint.spec.types import Spec


def budget_caps(spec: Spec, configs: dict[str, list[Config]]) -> dict[str, float]:
    """Largest budget each module could ever get: the SLO less the least latencies of the other
    modules (plus hops) on its longest path through it."""
    app = spec.app
    least = {m: min(c.worst_latency_ms for c in cs) + app.hop_ms for m, cs in configs.items()}
    before: dict[str, float] = {}
    for m in app.modules:  # longest path ending just before m
        before[m.name] = max((before[p] + least[p] for p in m.parents), default=0.0)
    after: dict[str, float] = {}
    for m in reversed(app.modules):  # longest path starting just after m
        after[m.name] = max((after[k] + least[k] for k in app.children(m.name)), default=0.0)
    return {m.name: app.slo_ms - app.hop_ms - before[m.name] - after[m.name] for m in app.modules}


def lower_bound(spec: Spec, configs: dict[str, list[Config]], utilization: float) -> float:
    """MODEL.md's fluid lower bound for the application (least sum over feasible budgets)."""
    caps = budget_caps(spec, configs)
    fronts = {m: as_arrays(fluid_frontier(cs, spec.app.module_rate(m), utilization, caps[m]))
              for m, cs in configs.items()}
    result = split_slo(spec.app, fronts, spec.app.slo_ms, spec.app.hop_ms)
    return result[0] if result else math.inf


def module_plan(spec: Spec, name: str, point: FrontierPoint, dispatch: str = BATCH_AWARE) -> ModulePlan:
    """Turn a frontier point into a module plan with its dedicated groups (a slot on a shared
    worker, if any, counts in its worst latency; the worker itself is listed by the plan)."""
    m = spec.app.module(name)
    rate = spec.app.module_rate(name)
    groups = tuple(Group(c.hardware, c.batch_size, n, c.latency_ms, c.price_per_hour, c.worst_latency_ms,
                         c.exec_batch_size) for c, n in point.groups())
    worst = max([g.worst_latency_ms for g in groups] + ([point.slot.worst_latency_ms(rate)] if point.slot else []))
    return ModulePlan(name, m.model, rate, point.budget_ms, worst, groups, dispatch)


def shared_workers(bins: tuple[Bin, ...]) -> tuple[SharedWorker, ...]:
    """The plan's shared workers, cycle T_s = sum of the slots' batch times."""
    return tuple(SharedWorker(b.hardware, b.cycle_ms, b.price_per_hour,
                              tuple(SharedSlot(m, c.batch_size, c.latency_ms, c.exec_batch_size) for m, c in b.slots))
                 for b in bins)


class OptimalPlanner:
    """Exact least-cost plan under batch-aware dispatch (MODEL.md), any DAG; residuals may share
    workers (exact for up to three modules, greedy beyond, see sharing.py)."""

    name = "optimal"
    description = "exact: integer covers with several configs per module, exact SLO split over the DAG"

    def plan(self, spec: Spec, options: PlanOptions) -> Plan:
        original, spec = spec, planned_spec(spec, options)
        configs = configs_by_module(spec, options.fanout_lag)
        require_feasible(spec, configs)
        caps = budget_caps(spec, configs)
        u = options.utilization
        frontiers = {m: module_frontier(cs, spec.app.module_rate(m), u, caps[m]) for m, cs in configs.items()}
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
        modules = tuple(module_plan(spec, m.name, points[m.name]) for m in spec.app.modules)
        plan = Plan(spec.app.name, self.name, spec.app.rate, spec.app.slo_ms, modules, spec.app.hop_ms,
                    shared_workers(bins), lower_bound_per_hour=lower_bound(spec, configs, u), utilization=u,
                    headroom=options.headroom, notes=notes, fanout_lag=options.fanout_lag)
        if options.pools:
            from skinflint.planners.fleet import with_pools  # fleet builds on this planner

            plan = with_pools(plan, original, options)
        return plan


register(OptimalPlanner())

__all__ = ["OptimalPlanner", "budget_caps", "longest_path_ms", "lower_bound", "module_plan"]
