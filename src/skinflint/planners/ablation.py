"""The usual way, and the levers one at a time (for the demo and side-by-side comparisons).

  naive               per-request round-robin, one config per module (cheapest per request,
                      price / θ, under the 2·d rule, checked exactly with W_rr), SLO split evenly
                      along the longest path
  even-split-single   batch-aware dispatch, still one config per module, even split     (lever 1)
  even-split          batch-aware dispatch, several configs per module, even split      (levers 1+2)
  optimal             all three levers (optimal.py)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from skinflint import model
from skinflint.errors import InfeasibleError
from skinflint.model import Config, cover_needed, leq
from skinflint.plan import BATCH_AWARE, ROUND_ROBIN, ModulePlan, Plan
from skinflint.planners.base import PlanOptions
from skinflint.planners.solve.assemble import group, module_plan
from skinflint.planners.solve.bounds import configs_by_module, plan_bound, require_feasible
from skinflint.planners.solve.frontier import module_frontier
from skinflint.spec.types import App, Spec


def modules_on_longest_path(app: App) -> int:
    """How many modules the longest entry-to-exit path has."""
    return round(model.longest_path_ms(app.modules, {m.name: 1.0 for m in app.modules}, 0.0))


def even_budgets(app: App) -> dict[str, float]:
    """The SLO less the hops, split evenly over the modules of the longest path (by count)."""
    k = modules_on_longest_path(app)
    share = (app.slo_ms - k * app.hop_ms) / k
    return {m.name: share for m in app.modules}


def single_config_ba(configs: list[Config], rate: float, u: float, budget: float) -> tuple[Config, int] | None:
    """Cheapest single config under batch-aware dispatch: n = ceil(r d / (1000 u b))."""
    best = None
    for c in configs:
        if leq(c.worst_latency_ms, budget):
            n = math.ceil(cover_needed(c.latency_ms, rate, u) / c.batch_size)
            if best is None or n * c.price_per_hour < best[1] * best[0].price_per_hour - 1e-12:
                best = (c, n)
    return best


def single_config_rr(configs: list[Config], rate: float, u: float, budget: float,
                     lag_ms: float = 0.0) -> tuple[Config, int] | None:
    """The usual pick under round-robin: among configs with 2·d <= L (and W_rr <= L with
    n = ceil(r / (u θ)) workers), the cheapest per request, price / θ; ties go to the cheaper total."""
    best = None
    for c in configs:
        if not leq(2 * c.latency_ms, budget):
            continue
        n = model.workers_to_carry(rate, c.throughput, u)
        if not leq(model.worst_latency_rr_ms(c.batch_size, c.latency_ms, rate, n, lag_ms), budget):
            continue
        key = (c.cost_per_request, n * c.price_per_hour)
        if best is None or key < best[0]:
            best = (key, c, n)
    return None if best is None else best[1:]


@dataclass(frozen=True)
class EvenSplitPlanner:
    """Budgets split evenly; each module planned alone under its budget."""

    name: str
    description: str
    dispatch: str
    several_configs: bool

    def plan(self, spec: Spec, options: PlanOptions) -> Plan:
        configs = configs_by_module(spec, options.fanout_lag)
        require_feasible(spec, configs)
        budgets = even_budgets(spec.app)
        lags = model.module_lags(spec.app, options.fanout_lag)
        u = options.utilization
        modules = []
        for m in spec.app.modules:
            mp = self._module(spec, m.name, configs[m.name], u, budgets[m.name], lags[m.name])
            if mp is None:
                raise InfeasibleError(f"{spec.app.name} ({self.name})", spec.app.slo_ms,
                                      self._least_slo(spec, configs, u, lags))
            modules.append(mp)
        return Plan(spec.app.name, self.name, spec.app.rate, spec.app.slo_ms, tuple(modules), spec.app.hop_ms,
                    lower_bound_per_hour=plan_bound(spec, configs, u, options.bound), utilization=u, headroom=options.headroom,
                    fanout_lag=options.fanout_lag)

    def _least_slo(self, spec: Spec, configs: dict[str, list[Config]], u: float, lags: dict[str, float]) -> float:
        """Smallest SLO whose even share fits every module under this planner's rules."""
        k = modules_on_longest_path(spec.app)
        least = 0.0
        for m in spec.app.modules:
            rate = spec.app.module_rate(m.name)
            if self.dispatch == ROUND_ROBIN:
                need = min(max(2 * c.latency_ms, model.worst_latency_rr_ms(
                    c.batch_size, c.latency_ms, rate, model.workers_to_carry(rate, c.throughput, u), lags[m.name])) for c in configs[m.name])
            else:
                need = min(c.worst_latency_ms for c in configs[m.name])
            least = max(least, need)
        return k * (least + spec.app.hop_ms)

    def _module(self, spec: Spec, name: str, configs: list[Config], u: float, budget: float,
                lag_ms: float) -> ModulePlan | None:
        """The module under its even budget, or None when no config fits it."""
        mod, rate = spec.app.module(name), spec.app.module_rate(name)
        if self.several_configs:
            front = module_frontier(configs, rate, u, budget)
            if not front:
                return None
            mp = module_plan(spec, name, front[-1])
            return ModulePlan(mp.name, mp.model, mp.rate, budget, mp.worst_latency_ms, mp.groups, BATCH_AWARE)
        if self.dispatch == ROUND_ROBIN:
            pick = single_config_rr(configs, rate, u, budget, lag_ms)
            if pick is None:
                return None
            c, n = pick
            w = model.worker_worst_ms(ROUND_ROBIN, c.batch_size, c.latency_ms, rate, share_rate=rate, workers=n,
                                      lag_ms=lag_ms)
            rr = replace(group(c, n), worst_latency_ms=w, share_rate=rate)
            return ModulePlan(name, mod.model, rate, budget, w, (rr,), ROUND_ROBIN)
        pick = single_config_ba(configs, rate, u, budget)
        if pick is None:
            return None
        c, n = pick
        return ModulePlan(name, mod.model, rate, budget, c.worst_latency_ms, (group(c, n),), BATCH_AWARE)


EVEN_SPLIT_PLANNERS = (
    EvenSplitPlanner("naive", "the usual way: round-robin, one config per module, SLO split evenly",
                     ROUND_ROBIN, False),
    EvenSplitPlanner("even-split-single", "batch-aware, one config per module, SLO split evenly",
                     BATCH_AWARE, False),
    EvenSplitPlanner("even-split", "batch-aware, several configs per module, SLO split evenly",
                     BATCH_AWARE, True),
)
