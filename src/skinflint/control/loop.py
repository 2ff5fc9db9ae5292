"""The control loop's pieces shared by the simulated day (skinflint.daynight) and the live
runtime (skinflint.runtime.live): the loop's settings, the plans by target rate, a switch, and
`choose`, the one decision step both run (ask the policy, plan its answer, keep or switch).
Time is a parameter (seconds, any origin)."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

from skinflint.api import plan_spec
from skinflint.control.estimator import RateEstimate
from skinflint.control.policies import ControlPolicy
from skinflint.control.transition import Transition
from skinflint.errors import InfeasibleError
from skinflint.plan import Plan
from skinflint.planners import PlanOptions
from skinflint.spec.types import Spec


@dataclass(frozen=True)
class LoopSettings:
    """Loop timing: decision tick, start-up delay of new workers, estimator half-life and window."""

    tick_s: float = 1.0
    startup_s: float = 30.0
    half_life_s: float = 60.0
    window_s: float = 10.0
    only_cheaper_down: bool = True   # on a lower target, switch only to a plan that costs less


class PlanCache:
    """Plans by target rate from one planner on one spec (targets sit on a grid, so they repeat)."""

    def __init__(self, spec: Spec, planner: str = "optimal", options: PlanOptions | None = None) -> None:
        """Plan `spec` with `planner` and `options` at whatever rate is asked."""
        self.spec, self.planner, self.options = spec, planner, options or PlanOptions()
        self._plans: dict[float, Plan] = {}
        self.planning_s = 0.0

    def __call__(self, rate: float) -> Plan:
        """The verified plan at `rate` (planned once per distinct rate)."""
        if rate not in self._plans:
            start = time.perf_counter()
            spec = replace(self.spec, app=replace(self.spec.app, rate=float(rate)))
            self._plans[rate] = plan_spec(spec, planner=self.planner, options=self.options)
            self.planning_s += time.perf_counter() - start
        return self._plans[rate]

    def __len__(self) -> int:
        return len(self._plans)


@dataclass(frozen=True)
class Switch:
    """A plan change: decided at `decided_s`, live from `live_s` (new workers started in between)."""

    decided_s: float
    live_s: float
    target: float
    plan: Plan
    steps: Transition


@dataclass(frozen=True)
class Choice:
    """A decision to re-plan: the new target rate and its plan (None: the planner could not meet it)."""

    target: float
    plan: Plan | None


def choose(policy: ControlPolicy, now: float, estimate: RateEstimate, target: float, live: Plan,
           plans: PlanCache, only_cheaper_down: bool = True) -> Choice | None:
    """Ask `policy` at `now` and plan its answer; None keeps the `live` plan (no new target, or a
    lower target whose plan is no cheaper). Shared by the simulated day and the live runtime."""
    wanted = policy.decide(now, estimate, target)
    if wanted is None or wanted == target:
        return None
    try:
        plan = plans(wanted)
    except InfeasibleError:
        return Choice(wanted, None)
    if only_cheaper_down and wanted < target and plan.cost_per_hour >= live.cost_per_hour:
        return None   # the live plan is no dearer and carries more: keep it
    return Choice(wanted, plan)
