"""What every planner takes and the one small interface it implements."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Protocol

from skinflint.errors import InfeasibleError, SpecError
from skinflint.model import Config, module_configs
from skinflint.plan import Plan
from skinflint.spec.types import Spec


@dataclass(frozen=True)
class PlanOptions:
    """Planner options: utilization cap u in (0, 1], headroom >= 0 (plan for rate x (1 + h)),
    an optional hardware subset, whether residuals may share workers (node merging), and whether
    worst latencies add the fan-out lag (conservative for requests whose items arrive together)."""

    utilization: float = 1.0
    headroom: float = 0.0
    hardware: tuple[str, ...] | None = None
    sharing: bool = True
    fanout_lag: bool = False
    pools: bool = False   # modules of one app that run the same model may share a pool (fleets: always)

    def __post_init__(self) -> None:
        if not (math.isfinite(self.utilization) and 0 < self.utilization <= 1):
            raise SpecError("command line", "--utilization", f"must be in (0, 1] (got {self.utilization})",
                            "pass e.g. 0.9 to keep 10 % of every worker idle")
        if not (math.isfinite(self.headroom) and self.headroom >= 0):
            raise SpecError("command line", "--headroom", f"must be >= 0 (got {self.headroom})",
                            "pass e.g. 0.1 to plan for 10 % more than the rate")


class Planner(Protocol):
    """A planner turns a spec into a verified plan (or raises InfeasibleError)."""

    name: str
    description: str

    def plan(self, spec: Spec, options: PlanOptions) -> Plan: ...


def planned_spec(spec: Spec, options: PlanOptions) -> Spec:
    """The spec a planner works on: rate scaled by the headroom, catalog cut to the subset."""
    app = replace(spec.app, rate=spec.app.rate * (1.0 + options.headroom))
    hw = spec.hardware if options.hardware is None else {k: v for k, v in spec.hardware.items()
                                                         if k in options.hardware}
    return replace(spec, app=app, hardware=hw)


def configs_by_module(spec: Spec, fanout_lag: bool = False) -> dict[str, list[Config]]:
    """Each module's configurations at its rate r_m (spec already scaled by planned_spec)."""
    return {m.name: module_configs(spec, m.name, spec.app.module_rate(m.name), fanout_lag=fanout_lag)
            for m in spec.app.modules}


def smallest_feasible_slo(spec: Spec, configs: dict[str, list[Config]]) -> float:
    """Longest path of each module's least worst latency plus hops: below it nothing fits."""
    from skinflint.model import longest_path_ms

    least = {m: min(c.worst_latency_ms for c in cs) for m, cs in configs.items()}
    return longest_path_ms(spec.app.modules, least, spec.app.hop_ms)


def require_feasible(spec: Spec, configs: dict[str, list[Config]]) -> None:
    """Raise InfeasibleError (exit 3) when even the fastest configs miss the SLO."""
    from skinflint.model import leq

    for m, cs in configs.items():
        if not cs:
            raise SpecError(spec.sources.get("app", "app"), f"module {m!r}",
                            "no profiled configuration on the selected hardware", "widen --hardware")
    need = smallest_feasible_slo(spec, configs)
    if not leq(need, spec.app.slo_ms):
        raise InfeasibleError(spec.app.name, spec.app.slo_ms, need)
