"""What every planner takes and the one small interface it implements."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Protocol

from skinflint.errors import SpecError
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
    fanout_lag: bool = True    # MODEL.md: W includes the fan-out lag (per module: fanout together)
    pools: bool = False   # modules of one app that run the same model may share a pool (fleets: always)

    def __post_init__(self) -> None:
        if not (math.isfinite(self.utilization) and 0 < self.utilization <= 1):
            raise SpecError("command line", "--utilization", f"must be in (0, 1] (got {self.utilization})",
                            "pass e.g. 0.9 to keep 10 % of every worker idle")
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
