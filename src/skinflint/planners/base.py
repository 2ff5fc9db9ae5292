"""What every planner takes and the one small interface it implements."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Iterable, Protocol

from skinflint.errors import SpecError
from skinflint.plan import Plan
from skinflint.spec.types import Spec
from skinflint.traffic import Traffic


@dataclass(frozen=True)
class PlanOptions:
    """Planner options: utilization cap u in (0, 1], headroom >= 0 (plan for rate x (1 + h)),
    an optional hardware subset, whether residuals may share workers (node merging), and whether
    worst latencies add the fan-out lag (conservative for requests whose items arrive together)."""

    utilization: float = 1.0
    headroom: float = 0.0
    hardware: tuple[str, ...] | None = None
    sharing: bool = True
    fanout_lag: bool = True    # MODEL.md: W includes the fan-out lag (per module: fanout together)
    pools: bool = False   # modules of one app that run the same model may share a pool (fleets: always)
    module_headroom: tuple[tuple[str, float], ...] = ()   # (module, h_m >= headroom): the traffic-aware search
    traffic: Traffic | None = None   # plan for this traffic and its target (None: MODEL.md's worst case)
    seed: int = 0                    # of the traffic-aware search's simulations
    bound: bool = True               # the plan carries MODEL.md's fluid lower bound (the search asks only its answer)

    @property
    def searches(self) -> bool:
        """The plan must attain a target under random traffic (planners/attain.py), not just
        keep MODEL.md's worst-case promise."""
        return self.traffic is not None and not (self.traffic.is_worst_case and self.traffic.target == 1)

    def utilization_of(self, module: str) -> float:
        """u_m = u (1 + h) / (1 + h_m): module m's cycle rule keeps capacity for the offered rate
        x (1 + h_m) while every W stays at the planned rate x (1 + h) (h_m = h: just u)."""
        h_m = dict(self.module_headroom).get(module, self.headroom)
        if h_m <= self.headroom:
            return self.utilization
        return self.utilization * (1.0 + self.headroom) / (1.0 + h_m)

    def utilizations(self, modules: Iterable[str]) -> dict[str, float]:
        """utilization_of for each module."""
        return {m: self.utilization_of(m) for m in modules}

    def __post_init__(self) -> None:
        if not (math.isfinite(self.utilization) and 0 < self.utilization <= 1):
            raise SpecError("command line", "--utilization", f"must be in (0, 1] (got {self.utilization})",
                            "pass e.g. 0.9 to keep 10 % of every worker idle")
        if any(not (math.isfinite(h) and h >= 0) for _, h in self.module_headroom):
            raise SpecError("options", "module_headroom", "every module's headroom must be >= 0",
                            "pass e.g. (('detect', 0.2),)")
        if not (math.isfinite(self.headroom) and self.headroom >= 0):
            raise SpecError("command line", "--headroom", f"must be >= 0 (got {self.headroom})",
                            "pass e.g. 0.1 to plan for 10 % more than the rate")


class Planner(Protocol):
    """A planner turns a planned spec into a plan (or raises InfeasibleError).

    `spec` is already what `planned_spec` makes of the user's spec (rate x (1 + headroom), the
    hardware subset): the API applies it once (api.plan_spec), then verifies the plan against
    the same planned spec. A planner records `options.headroom` in the plan and never rescales."""

    name: str
    description: str

    def plan(self, spec: Spec, options: PlanOptions) -> Plan: ...


def planned_spec(spec: Spec, options: PlanOptions) -> Spec:
    """The spec a planner works on: rate scaled by the headroom, catalog cut to the subset
    (applied once, by the API; the plan's offered_rate divides the headroom back out)."""
    app = replace(spec.app, rate=spec.app.rate * (1.0 + options.headroom))
    hw = spec.hardware if options.hardware is None else {k: v for k, v in spec.hardware.items()
                                                         if k in options.hardware}
    return replace(spec, app=app, hardware=hw)
