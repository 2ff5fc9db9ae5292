"""`nexus`: Nexus (Shen et al., SOSP'19) and its released scheduler (uwsampl/nexus), on MODEL.md.

  dispatch     per-request weighted round-robin; each group's rate share is in Group.share_rate
  query split  the SLO split over the DAG on a grid of `segments` steps, least total fractional
               workers  sum_m r_m / theta_max(L_m)  with theta_max(L) = max{theta(b) : 2 d(b) <= L}
               (the paper's query analysis; `ComplexQuery::DynamicProgramming`); what the
               split leaves goes to the exits, as the DP's leaves take the rest of the budget
  per session  saturated batch B = largest b with 2 d(b) <= L           (`GetMaxBatch`)
               floor(r / theta(B)) saturated workers at B
               residual w = r - n theta(B) on one worker with the largest b <= B such that
               1000 (b - 1) / w + d(b) <= L, duty min(L - d(b), 1000 b / w)  (`ComputeBatchSize`)
  merging      residuals of different modules share workers (solve/squishy.py)
  hardware     Nexus assumes one GPU type: plan once per type that profiles every module, keep
               the cheapest plan

Where the paper and the code leave a case open, docs/baselines.md says what we chose.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from skinflint import model
from skinflint.errors import InfeasibleError, SpecError
from skinflint.model import RTOL, leq, longest_path_ms, path_through_ms
from skinflint.plan import ROUND_ROBIN, Group, ModulePlan, Plan, SharedSlot, SharedWorker
from skinflint.planners.base import PlanOptions
from skinflint.planners.solve.bounds import configs_by_module, plan_bound
from skinflint.planners.solve.split import split_slo
from skinflint.planners.solve.squishy import Node, Residual, squishy_bin_packing
from skinflint.spec.types import App, ProfileCurve, Spec

SEGMENTS = 100  # SLO grid of the query analysis (the paper's time-budget steps)


def max_throughput_costs(curve: ProfileCurve, rate: float, price: float, budgets: np.ndarray,
                         utilization: float) -> np.ndarray:
    """Fractional cost r / (u theta_max(L)) * price at each budget L (inf where no b has 2 d(b) <= L)."""
    d = np.asarray(curve.effective_ms, dtype=float)
    theta = 1000.0 * np.asarray(curve.batch_sizes, dtype=float) / d
    best = np.maximum.accumulate(theta)                         # 2 d(b) <= L holds for a prefix of b
    k = np.searchsorted(2.0 * d, budgets * (1.0 + RTOL), side="right")
    with np.errstate(divide="ignore"):
        return np.where(k > 0, rate * price / (utilization * best[np.maximum(k, 1) - 1]), np.inf)


def query_analysis(spec: Spec, curves: dict[str, ProfileCurve], price: float, utilization: float,
                   segments: int = SEGMENTS, lags: dict[str, float] | None = None) -> dict[str, float] | None:
    """Per-module budgets on the grid k * slo / segments minimising the fractional cost; None if none
    fits. `lags`: what each module's worst latency adds to the 2 d rule (fan-out lag), if planned."""
    app = spec.app
    budgets = app.slo_ms / segments * np.arange(1, segments + 1)
    fronts = {}
    for m in app.modules:
        lag = (lags or {}).get(m.name, 0.0)
        cost = max_throughput_costs(curves[m.name], app.module_rate(m.name), price, budgets - lag, utilization)
        keep = np.isfinite(cost)
        lat, cost = budgets[keep], cost[keep]
        if lat.size:  # Pareto points: cost strictly falling as the budget grows
            prev = np.minimum.accumulate(cost)
            drop = np.concatenate(([True], cost[1:] < prev[:-1] * (1 - 1e-12)))
            lat, cost = lat[drop], cost[drop]
        fronts[m.name] = (lat, cost)
    result = split_slo(app, fronts, app.slo_ms, app.hop_ms)
    if result is None:
        return None
    _, pick = result
    return give_slack_to_exits(app, {name: float(fronts[name][0][i]) for name, i in pick.items()})


def give_slack_to_exits(app: App, budgets: dict[str, float]) -> dict[str, float]:
    """The DP's leaves take whatever budget their parents leave: walking back from the exits,
    each module's budget grows by the slack of the paths through it."""
    budgets = dict(budgets)
    for m in reversed(app.modules):
        through = path_through_ms(app.modules, budgets, app.hop_ms)[m.name]
        budgets[m.name] += max(0.0, app.slo_ms - through)
    return budgets


@dataclass(frozen=True)
class Session:
    """One module's Nexus schedule: whole-worker groups plus at most one residual load."""

    groups: tuple[Group, ...]
    residual: Residual | None


def _group(curve: ProfileCurve, price: float, batch: int, workers: int, rate: float) -> Group:
    d = curve.effective(batch)
    return Group(curve.hardware, batch, workers, d, price,
                 model.worst_latency_rr_ms(batch, d, rate, workers), curve.exec_batch_size(batch), rate)


def saturated_batch(curve: ProfileCurve, budget_ms: float, utilization: float) -> int | None:
    """Largest profiled b with 2 d(b) <= L whose saturated round-robin worker also meets L."""
    best = None
    for b, d in zip(curve.batch_sizes, curve.effective_ms):
        sat_rate = utilization * model.throughput(b, d)
        if leq(2 * d, budget_ms) and leq(model.worst_latency_rr_ms(b, d, sat_rate, 1), budget_ms):
            best = b
    return best


def residual_load(name: str, curve: ProfileCurve, rate: float, budget_ms: float, largest: int,
                  utilization: float) -> Residual | None:
    """The residual's batch (largest b <= B with 1000 (b-1)/w + d(b) <= L) and duty; None if that
    worker cannot keep up with w."""
    batch = None
    for b, d in zip(curve.batch_sizes, curve.effective_ms):
        if b <= largest and leq(model.worst_latency_ms(b, d, rate), budget_ms):
            batch = b
    if batch is None:
        return None
    d = curve.effective(batch)
    duty = min(budget_ms - d, 1000.0 * batch / rate)
    if duty <= 0 or not leq(d, utilization * duty):
        return None
    return Residual(name, rate, batch, duty, curve)


def schedule_session(name: str, curve: ProfileCurve, price: float, rate: float, budget_ms: float,
                     utilization: float) -> Session | None:
    """Saturated workers at B plus the residual (or None when the budget admits no batch)."""
    big = saturated_batch(curve, budget_ms, utilization)
    if big is None:
        return None
    per_worker = utilization * model.throughput(big, curve.effective(big))
    n = math.floor(rate / per_worker + RTOL)
    residual_rate = rate - n * per_worker
    if residual_rate <= RTOL * rate:
        return Session((_group(curve, price, big, n, rate),), None)
    saturated = (_group(curve, price, big, n, n * per_worker),) if n else ()
    res = residual_load(name, curve, residual_rate, budget_ms, big, utilization)
    if res is not None:
        return Session(saturated, res)
    return spread(curve, price, rate, budget_ms, big, n + 1, utilization)


def spread(curve: ProfileCurve, price: float, rate: float, budget_ms: float, largest: int, first: int,
           utilization: float) -> Session | None:
    """Where the residual cannot keep up alone (Nexus's scheduler would report NOT_ENOUGH_BACKENDS),
    the whole rate spread evenly over the fewest workers (from `first` on) that carry it at some
    batch b <= B within the budget, the largest such b."""
    smallest = curve.batch_sizes[0]
    most = first + math.ceil(rate / (utilization * model.throughput(smallest, curve.effective(smallest))))
    for k in range(first, most + 1):
        for b in sorted((b for b in curve.batch_sizes if b <= largest), reverse=True):
            d = curve.effective(b)
            if leq(rate / k, utilization * model.throughput(b, d)) and \
                    leq(model.worst_latency_rr_ms(b, d, rate, k), budget_ms):
                return Session((_group(curve, price, b, k, rate),), None)
    return None


def schedule_with_lag(name: str, curve: ProfileCurve, price: float, rate: float, budget_ms: float,
                      utilization: float, lag_ms: float) -> Session | None:
    """`schedule_session` under the budget less the lags a worst latency adds: the fan-out lag,
    and one gap of the stream where the session keeps two round-robin shares (saturated workers
    and a residual; `model.rr_share_lag_ms`). `NexusPlanner._module_plan` adds them to W. Where
    the residual only fits without the share lag, the whole rate is spread as in choice 3."""
    s = schedule_session(name, curve, price, rate, budget_ms - lag_ms, utilization)
    if s is None or len(s.groups) + (s.residual is not None) == 1:
        return s
    tighter = schedule_session(name, curve, price, rate, budget_ms - lag_ms - model.rr_share_lag_ms(2, rate),
                               utilization)
    if tighter is not None:
        return tighter
    # the residual no longer fits beside the saturated workers: one share, spread (choice 3)
    big = saturated_batch(curve, budget_ms - lag_ms, utilization)
    return spread(curve, price, rate, budget_ms - lag_ms, big, sum(g.workers for g in s.groups) + 1, utilization)


def _node_parts(node: Node, price: float) -> tuple[list[tuple[str, Group]], SharedWorker | None]:
    """A lone residual becomes a one-worker round-robin group; merged residuals a shared worker."""
    if len(node.residuals) == 1:
        r = node.residuals[0]
        return [(r.module, _group(r.curve, price, r.batch_size, 1, r.rate))], None
    slots = tuple(SharedSlot(r.module, b, d, r.curve.exec_batch_size(b), r.rate)
                  for r, b, d in zip(node.residuals, node.batch_sizes, node.latencies_ms))
    return [], SharedWorker(node.residuals[0].curve.hardware, node.duty_ms, price, slots)


class NexusPlanner:
    """Nexus: round-robin, 2 d(b) <= L, saturated + residual workers, squishy bin packing."""

    name = "nexus"
    description = "Nexus (SOSP'19): round-robin, 2d rule, saturated + residual workers, squishy bin packing"

    def __init__(self, segments: int = SEGMENTS, merge: bool = True) -> None:
        self.segments = segments
        self.merge = merge

    def plan(self, spec: Spec, options: PlanOptions) -> Plan:
        u = options.utilization
        bound = plan_bound(spec, configs_by_module(spec, options.fanout_lag), u, options.bound)
        lags = model.module_lags(spec.app, options.fanout_lag)
        plans, least_slo = [], math.inf
        for h in sorted(spec.hardware):
            curves = {m.name: c for m in spec.app.modules
                      for c in spec.profiles.for_model(m.model) if c.hardware == h}
            if len(curves) < len(spec.app.modules):
                continue
            least_slo = min(least_slo, longest_path_ms(
                spec.app.modules, {m: 2 * c.effective_ms[0] for m, c in curves.items()}, spec.app.hop_ms))
            p = self.plan_on(replace(spec, hardware={h: spec.hardware[h]}), curves, u, lags)
            if p is not None:
                plans.append(p)
        if not plans:
            if math.isinf(least_slo):
                raise SpecError(spec.sources.get("app", "app"), "hardware",
                                "nexus plans one hardware type per run and no type profiles every module",
                                "profile every model on one hardware type, or use another planner")
            raise InfeasibleError(f"{spec.app.name} (nexus)", spec.app.slo_ms, least_slo)
        best = min(plans, key=lambda p: (p.cost_per_hour, p.notes))
        return replace(best, lower_bound_per_hour=bound, utilization=u, headroom=options.headroom,
                       fanout_lag=options.fanout_lag)

    def plan_on(self, spec: Spec, curves: dict[str, ProfileCurve], u: float,
                lags: dict[str, float] | None = None) -> Plan | None:
        """Nexus on one hardware type (the spec's catalog holds only that type); None if infeasible.
        `lags`: each module's fan-out lag where the plan is to include it (PlanOptions.fanout_lag)."""
        (h, hw), = spec.hardware.items()
        lags = lags or {}
        budgets = query_analysis(spec, curves, hw.price_per_hour, u, self.segments, lags)
        if budgets is None:
            return None
        app = spec.app
        groups: dict[str, list[Group]] = {m.name: [] for m in app.modules}
        residuals = []
        for m in app.modules:
            s = schedule_with_lag(m.name, curves[m.name], hw.price_per_hour, app.module_rate(m.name),
                                  budgets[m.name], u, lags.get(m.name, 0.0))
            if s is None:
                return None
            groups[m.name] += s.groups
            if s.residual is not None:
                residuals.append(s.residual)
        nodes = squishy_bin_packing(residuals, u) if self.merge else [
            Node((r,), r.max_duty_ms, (r.batch_size,), (r.curve.effective(r.batch_size),)) for r in residuals]
        shared = []
        for node in nodes:
            lone, sw = _node_parts(node, hw.price_per_hour)
            for name, g in lone:
                groups[name].append(g)
            if sw is not None:
                shared.append(sw)
        modules = tuple(self._module_plan(spec, m.name, budgets[m.name], groups[m.name], shared, lags.get(m.name, 0.0))
                        for m in app.modules)
        step = app.slo_ms / self.segments
        return Plan(app.name, self.name, app.rate, app.slo_ms, modules, app.hop_ms, tuple(shared), utilization=u,
                    notes=(f"nexus: one hardware type per run; cheapest is {h}",
                           f"nexus: query analysis on a {step:.3f} ms grid ({self.segments} steps)"))

    @staticmethod
    def _module_plan(spec: Spec, name: str, budget: float, groups: list[Group],
                     shared: list[SharedWorker], lag_ms: float = 0.0) -> ModulePlan:
        slots = [(sw, s) for sw in shared for s in sw.slots if s.module == name]
        rate, shares = spec.app.module_rate(name), len(groups) + len(slots)
        groups = [replace(g, worst_latency_ms=model.worker_worst_ms(
            ROUND_ROBIN, g.batch_size, g.latency_ms, rate, share_rate=g.share_rate, workers=g.workers, shares=shares,
            lag_ms=lag_ms)) for g in groups]
        worst = [g.worst_latency_ms for g in groups]
        worst += [model.worker_worst_ms(ROUND_ROBIN, s.batch_size, s.latency_ms, rate, shares=shares,
                                        shared_cycle_ms=sw.cycle_ms, lag_ms=lag_ms) for sw, s in slots]
        mod = spec.app.module(name)
        return ModulePlan(name, mod.model, rate, budget, max(worst), tuple(groups), ROUND_ROBIN)


__all__ = ["NexusPlanner", "query_analysis", "residual_load", "saturated_batch", "schedule_session"]
