"""`harpagon`: the Harpagon paper's heuristics (Zhao et al., INFOCOM 2025) as MODEL.md reconstructs them.

  dispatch       batch-aware (MODEL.md): W_m(c) = 1000 (b - 1) / r_m + d(h, b)
  main config    best throughput per dollar theta / price among configs with W <= L_m;
                 n_main = floor(r_m / (u theta)) workers of it
  residual       the residual optimizer: one more config c (any with W <= L_m) and the fewest
                 workers of it that close the cycle rule  max d <= u * 1000 * sum n b / r_m
                 (the residual worker takes the stream the main workers leave in each cycle;
                 a batch short of a profiled size runs padded, MODEL.md's effective time)
  split          greedy by latency-cost efficiency: every module starts at its least budget,
                 the next slice of latency goes to the module whose cost falls most per ms
                 (over its candidate budgets that fit the slack of every path through it)
  reassigner     a module whose groups use less than its budget hands the rest back, and the
                 greedy spends it on the others; repeated until nothing changes
  node merging   residual workers of different modules on shared workers (solve/merging.py)

The paper's text is not public in full; docs/baselines.md lists each reading we had to guess.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from skinflint.model import (RTOL, Config, cover_needed, leq, longest_path_ms, module_lags, path_through_ms,
                             worker_worst_ms)
from skinflint.plan import BATCH_AWARE, ModulePlan, Plan, SharedWorker
from skinflint.planners.base import PlanOptions
from skinflint.planners.solve.assemble import group
from skinflint.planners.solve.bounds import budget_caps, configs_by_module, plan_bound, require_feasible
from skinflint.planners.solve.merging import merge_residuals
from skinflint.spec.types import App, Spec


@dataclass(frozen=True)
class ModuleChoice:
    """One module under budget L: n_main workers of the main config plus n_residual of the residual."""

    budget_ms: float
    main: Config
    n_main: int
    residual: Config
    n_residual: int

    @property
    def cost_per_hour(self) -> float:
        """Price of the main and residual workers."""
        return self.n_main * self.main.price_per_hour + self.n_residual * self.residual.price_per_hour

    @property
    def worst_latency_ms(self) -> float:
        """Largest W among the configs that have workers: the budget the module really uses."""
        used = ([self.main] if self.n_main else []) + ([self.residual] if self.n_residual else [])
        return max(c.worst_latency_ms for c in used)

    def groups(self) -> list[tuple[Config, int]]:
        """(config, workers) pairs, the residual folded into the main group when it is the same config."""
        if self.residual == self.main:
            return [(self.main, self.n_main + self.n_residual)]
        return [(c, n) for c, n in ((self.main, self.n_main), (self.residual, self.n_residual)) if n]


def schedule_module(configs: list[Config], rate: float, utilization: float, budget_ms: float) -> ModuleChoice | None:
    """Harpagon's module scheduler: main config by throughput per dollar, then the residual optimizer."""
    eligible = [c for c in configs if leq(c.worst_latency_ms, budget_ms)]
    if not eligible:
        return None
    main = max(eligible, key=lambda c: (c.throughput / c.price_per_hour, -c.worst_latency_ms, c.batch_size))
    n_main = math.floor(rate / (utilization * main.throughput) + RTOL)
    best: tuple[tuple[float, float, int], ModuleChoice] | None = None
    for c in eligible:
        slowest = max(main.latency_ms if n_main else 0.0, c.latency_ms)
        rest = cover_needed(slowest, rate, utilization) - n_main * main.batch_size
        n = max(0, math.ceil(rest / c.batch_size))
        choice = ModuleChoice(budget_ms, main, n_main, c, n)
        if not choice.n_main + choice.n_residual:
            continue
        key = (choice.cost_per_hour, choice.worst_latency_ms, n)
        if best is None or key < best[0]:
            best = (key, choice)
    return best[1] if best else None


def cost_curves(spec: Spec, configs: dict[str, list[Config]], utilization: float) -> dict[str, list[ModuleChoice]]:
    """Each module's schedule at each candidate budget (its configs' W values up to the budget cap)."""
    caps = budget_caps(spec, configs)
    out = {}
    for m, cs in configs.items():
        rate = spec.app.module_rate(m)
        budgets = sorted({c.worst_latency_ms for c in cs if leq(c.worst_latency_ms, caps[m])})
        out[m] = [ch for L in budgets if (ch := schedule_module(cs, rate, utilization, L)) is not None]
    return out


State = dict[str, tuple[ModuleChoice, float]]  # module -> (its schedule, its budget)


def greedy_split(app: App, curves: dict[str, list[ModuleChoice]], state: State) -> State:
    """Hand out latency greedily: each step moves the one module whose cost falls most per ms of
    added budget to that candidate budget, among the moves that keep every path within the SLO."""
    state = dict(state)
    while True:
        through = path_through_ms(app.modules, {m: budget for m, (_, budget) in state.items()}, app.hop_ms)
        best: tuple[float, float, str, ModuleChoice] | None = None
        for m, (here, budget) in state.items():
            slack = app.slo_ms - through[m]
            for there in curves[m]:
                delta = there.budget_ms - budget
                if delta <= 0:
                    continue
                if not leq(delta, slack):
                    break
                gain = here.cost_per_hour - there.cost_per_hour
                if gain <= 1e-12 * max(1.0, here.cost_per_hour):
                    continue
                if best is None or (gain / delta, -delta) > best[:2]:
                    best = (gain / delta, -delta, m, there)
        if best is None:
            return state
        state[best[2]] = (best[3], best[3].budget_ms)


def reassign_latency(state: State) -> State:
    """The latency reassigner: each module keeps only the budget its groups use (their largest
    W); the rest returns to the pool the greedy hands out."""
    return {m: (choice, min(budget, choice.worst_latency_ms)) for m, (choice, budget) in state.items()}


def split_budgets(app: App, curves: dict[str, list[ModuleChoice]]) -> State:
    """Start every module at its least budget; greedy split and latency reassigner, alternated
    until neither changes anything."""
    state = reassign_latency({m: (cs[0], cs[0].budget_ms) for m, cs in curves.items()})
    while True:
        moved = reassign_latency(greedy_split(app, curves, state))
        if moved == state:
            return state
        state = moved


class HarpagonPlanner:
    """Harpagon's heuristics: main + residual config, greedy split, latency reassigner, node merging."""

    description = "Harpagon (INFOCOM'25) heuristics: main+residual configs, greedy split, reassigner, merging"

    def __init__(self, name: str = "harpagon", merge: bool = True) -> None:
        self.name = name
        self.merge = merge

    def plan(self, spec: Spec, options: PlanOptions) -> Plan:
        configs = configs_by_module(spec, options.fanout_lag)
        require_feasible(spec, configs)
        lags = module_lags(spec.app, options.fanout_lag)
        u = options.utilization
        app = spec.app
        state = split_budgets(app, cost_curves(spec, configs, u))
        choices = {m: choice for m, (choice, _) in state.items()}
        budgets = {m: budget for m, (_, budget) in state.items()}
        assert leq(longest_path_ms(app.modules, budgets, app.hop_ms), app.slo_ms), "the greedy keeps every path"
        groups = {m: ch.groups() for m, ch in choices.items()}
        shared = []
        if self.merge:
            shared, budgets, groups = merge_residuals(spec, choices, budgets, groups, configs, u, lags)
        modules = tuple(self._module_plan(spec, m.name, budgets[m.name], groups[m.name], shared, lags[m.name])
                        for m in app.modules)
        return Plan(app.name, self.name, app.rate, app.slo_ms, modules, app.hop_ms, tuple(shared),
                    lower_bound_per_hour=plan_bound(spec, configs, u, options.bound), utilization=u, headroom=options.headroom,
                    fanout_lag=options.fanout_lag)

    @staticmethod
    def _module_plan(spec: Spec, name: str, budget: float, groups: list[tuple[Config, int]],
                     shared: list[SharedWorker], lag_ms: float = 0.0) -> ModulePlan:
        rate = spec.app.module_rate(name)
        gs = tuple(group(c, n) for c, n in groups if n)
        worst = [g.worst_latency_ms for g in gs]
        worst += [worker_worst_ms(BATCH_AWARE, s.batch_size, s.latency_ms, rate, shared_cycle_ms=sw.cycle_ms,
                                  lag_ms=lag_ms) for sw in shared for s in sw.slots if s.module == name]
        return ModulePlan(name, spec.app.module(name).model, rate, budget, max(worst), gs, BATCH_AWARE)


__all__ = ["HarpagonPlanner", "ModuleChoice", "State", "cost_curves", "greedy_split", "reassign_latency",
           "schedule_module", "split_budgets"]
