"""What every planner starts from: each module's configurations, the largest budget each module
could get, the least SLO any plan can meet, and MODEL.md's fluid lower bound."""

from __future__ import annotations

import math
from typing import Mapping

from skinflint.errors import InfeasibleError, SpecError
from skinflint.model import Config, leq, longest_after, longest_before, longest_path_ms, module_configs
from skinflint.planners.solve.frontier import as_arrays, fluid_frontier
from skinflint.planners.solve.split import split_slo
from skinflint.spec.types import Spec


def configs_by_module(spec: Spec, fanout_lag: bool = True) -> dict[str, list[Config]]:
    """Each module's configurations at its rate r_m (the spec is the planned one, api.plan_spec)."""
    return {m.name: module_configs(spec, m.name, spec.app.module_rate(m.name), fanout_lag=fanout_lag)
            for m in spec.app.modules}


def smallest_feasible_slo(spec: Spec, configs: dict[str, list[Config]]) -> float:
    """Longest path of each module's least worst latency plus hops: below it nothing fits."""
    least = {m: min(c.worst_latency_ms for c in cs) for m, cs in configs.items()}
    return longest_path_ms(spec.app.modules, least, spec.app.hop_ms)


def require_feasible(spec: Spec, configs: dict[str, list[Config]]) -> None:
    """Raise InfeasibleError (exit 3) when even the fastest configs miss the SLO."""
    for m, cs in configs.items():
        if not cs:
            raise SpecError(spec.sources.get("app", "app"), f"module {m!r}",
                            "no profiled configuration on the selected hardware", "widen --hardware")
    need = smallest_feasible_slo(spec, configs)
    if not leq(need, spec.app.slo_ms):
        raise InfeasibleError(spec.app.name, spec.app.slo_ms, need)


def budget_caps(spec: Spec, configs: dict[str, list[Config]]) -> dict[str, float]:
    """Largest budget each module could ever get: the SLO less the least latencies of the other
    modules (plus hops) on its longest path through it."""
    app = spec.app
    least = {m: min(c.worst_latency_ms for c in cs) for m, cs in configs.items()}
    before = longest_before(app.modules, least, app.hop_ms)
    after = longest_after(app.modules, least, app.hop_ms)
    return {m.name: app.slo_ms - app.hop_ms - before[m.name] - after[m.name] for m in app.modules}


def plan_bound(spec: Spec, configs: dict[str, list[Config]], utilization: float | Mapping[str, float],
               wanted: bool = True) -> float:
    """The lower bound a plan records: `lower_bound`, or 0 (none) where it is not `wanted` (the
    traffic-aware search's candidates: only the plan it returns carries one)."""
    return lower_bound(spec, configs, utilization) if wanted else 0.0


def lower_bound(spec: Spec, configs: dict[str, list[Config]], utilization: float | Mapping[str, float]) -> float:
    """MODEL.md's fluid lower bound for the application (least sum over feasible budgets), with
    one utilization cap or one per module."""
    caps = budget_caps(spec, configs)
    u = utilization if isinstance(utilization, Mapping) else {m: utilization for m in configs}
    fronts = {m: as_arrays(fluid_frontier(cs, spec.app.module_rate(m), u[m], caps[m]))
              for m, cs in configs.items()}
    result = split_slo(spec.app, fronts, spec.app.slo_ms, spec.app.hop_ms)
    return result[0] if result else math.inf
