"""Shared model pools (docs/sharing-and-pools.md), for one application (`with_pools`) or a fleet (planners/fleet.py).

Modules that run the same model — in one application or in several — may be served by one
pool: the members' streams merged, combined rate R = sum r_m, and the pool's worst latency
(`model.pool_worst_latency_ms`) within every member's budget. A pool is a planning *node*
whose one budget counts on every path through any of its members; the budgets of all nodes are
chosen together by one integer program over every application's paths (each app its own SLO).

Which modules to pool is searched exhaustively over the set partitions of each model's users
(up to four users of a model; beyond, all-or-nothing), and always against planning every app
alone with the default planner (shared workers included), so a fleet never costs more than the
apps planned one by one.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from typing import Iterator

import numpy as np

from skinflint.model import Config, module_lags, pool_worst_latency_ms
from skinflint.plan import ModulePlan, Plan, Pool
from skinflint.planners.base import PlanOptions
from skinflint.planners.solve.assemble import groups, module_plan
from skinflint.planners.solve.bounds import budget_caps, configs_by_module, plan_bound
from skinflint.planners.solve.frontier import FrontierPoint, module_frontier
from skinflint.planners.solve.split import milp_split
from skinflint.spec.types import Spec

MAX_COMBINATIONS = 64
Member = tuple[int, str]  # (app index, module name)


@dataclass(frozen=True)
class PlanNode:
    """A planning node: one module, or a pool of several (k members)."""

    members: tuple[Member, ...]
    frontier: list[FrontierPoint]


def _partitions(items: list[Member]) -> Iterator[list[list[Member]]]:
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for part in _partitions(rest):
        for i in range(len(part)):
            yield part[:i] + [[first] + part[i]] + part[i + 1:]
        yield [[first]] + part


def _poolable(specs: list[Spec]) -> dict[str, list[Member]]:
    """Models used by two or more modules whose profiles and prices agree wherever both exist."""
    users: dict[str, list[Member]] = {}
    for i, s in enumerate(specs):
        for m in s.app.modules:
            users.setdefault(m.model, []).append((i, m.name))
    out = {}
    for model_name, members in users.items():
        if len(members) < 2:
            continue
        curves = [{c.hardware: (c.batch_sizes, c.effective_ms, specs[i].price(c.hardware))
                   for c in specs[i].profiles.for_model(model_name) if c.hardware in specs[i].hardware}
                  for i, _ in members]
        common = set.intersection(*(set(c) for c in curves))
        if common and all(c[h] == curves[0][h] for c in curves for h in common):
            out[model_name] = members
    return out


def _member_lags(specs: list[Spec], members: tuple[Member, ...], counted: bool) -> list[float]:
    """Each member's fan-out lag (its own app's rate and factor)."""
    return [module_lags(specs[i].app, counted)[name] for i, name in members]


def _pool_configs(specs: list[Spec], members: tuple[Member, ...], rate: float, lag_ms: float) -> list[Config]:
    """The pool's configs at its combined rate; W = the pool's worst latency plus the largest
    member lag, so the one budget of the node fits every member's W (verify adds each own lag)."""
    i0 = members[0][0]
    shared_hw = set.intersection(*(set(specs[i].hardware) for i, _ in members))
    model_name = specs[i0].app.module(members[0][1]).model
    out = []
    for curve in specs[i0].profiles.for_model(model_name):
        if curve.hardware in shared_hw:
            for b, d, e in zip(curve.batch_sizes, curve.effective_ms, curve.exec_batch_sizes):
                out.append(Config(curve.hardware, b, d, e, specs[i0].price(curve.hardware),
                                  pool_worst_latency_ms(b, d, rate, len(members)) + lag_ms))
    return out


def _split(specs: list[Spec], nodes: list[PlanNode]) -> tuple[float, list[int]] | None:
    """The joint split over every app's paths (split.milp_split), each app with its SLO and hop."""
    node_of = {mem: k for k, n in enumerate(nodes) for mem in n.members}
    return milp_split([(s.app, s.app.slo_ms, s.app.hop_ms) for s in specs], node_of,
                      [np.array([p.budget_ms for p in n.frontier]) for n in nodes],
                      [np.array([p.cost_per_hour for p in n.frontier]) for n in nodes])


def pooled_plans(specs: list[Spec], options: PlanOptions) -> tuple[float, list[PlanNode], list[int]] | None:
    """The cheapest pooling over the partitions of each poolable model's users (dedicated workers)."""
    poolable = _poolable(specs)
    if not poolable:
        return None
    configs = [configs_by_module(s, options.fanout_lag) for s in specs]
    caps = [budget_caps(s, c) for s, c in zip(specs, configs)]
    u = options.utilization
    per_model = []
    for members in poolable.values():
        parts = list(_partitions(members)) if len(members) <= 4 else [[[m] for m in members], [members]]
        per_model.append([p for p in parts])
    combos = list(itertools.product(*per_model))
    if len(combos) > MAX_COMBINATIONS:  # each model alone: all pooled or none
        combos = [tuple(parts if j == k else [[m] for m in members] for j, (parts, members) in
                        enumerate(zip([[members] for members in poolable.values()], poolable.values())))
                  for k in range(len(poolable))]
    single: dict[Member, PlanNode] = {}
    best = None
    for combo in combos:
        blocks = [tuple(b) for parts in combo for b in parts if len(b) > 1]
        if not blocks:
            continue
        pooled = {m for b in blocks for m in b}
        nodes = []
        for b in blocks:
            rate = sum(specs[i].app.module_rate(name) for i, name in b)
            cap = min(caps[i][name] for i, name in b)
            lag = max(_member_lags(specs, b, options.fanout_lag))
            front = module_frontier(_pool_configs(specs, b, rate, lag), rate, u, cap, streams=len(b))
            nodes.append(PlanNode(b, front))
        for i, s in enumerate(specs):
            for m in s.app.modules:
                if (i, m.name) not in pooled:
                    if (i, m.name) not in single:
                        single[(i, m.name)] = PlanNode(((i, m.name),), module_frontier(
                            configs[i][m.name], s.app.module_rate(m.name), u, caps[i][m.name]))
                    nodes.append(single[(i, m.name)])
        if any(not n.frontier for n in nodes):
            continue
        got = _split(specs, nodes)
        if got and (best is None or got[0] < best[0] - 1e-12):
            best = (got[0], nodes, got[1])
    return best


def assemble_pools(specs: list[Spec], nodes: list[PlanNode], picks: list[int], options: PlanOptions,
                   planner: str) -> tuple[list[Plan], list[Pool]]:
    """The app plans and pools of a pooling (`pooled_plans`' nodes and each node's chosen point)."""
    pools: list[Pool] = []
    pool_of: dict[Member, tuple[str, float]] = {}
    for n, i in zip(nodes, picks):
        if len(n.members) < 2:
            continue
        point = n.frontier[i]
        i0, m0 = n.members[0]
        name = f"pool{len(pools) + 1}:{specs[i0].app.module(m0).model.split('|')[0]}"
        rate = sum(specs[a].app.module_rate(m) for a, m in n.members)
        gs = tuple(replace(g, worst_latency_ms=pool_worst_latency_ms(g.batch_size, g.latency_ms, rate, len(n.members)))
                   for g in groups(point))
        worst = max(g.worst_latency_ms for g in gs)
        pools.append(Pool(name, specs[i0].app.module(m0).model,
                          tuple(f"{specs[a].app.name}/{m}" for a, m in n.members), rate, worst, gs))
        for mem, lag in zip(n.members, _member_lags(specs, n.members, options.fanout_lag)):
            pool_of[mem] = (name, point.budget_ms, worst + lag)
    plans = []
    for i, s in enumerate(specs):
        modules = []
        for m in s.app.modules:
            if (i, m.name) in pool_of:
                name, budget, worst = pool_of[(i, m.name)]
                modules.append(ModulePlan(m.name, m.model, s.app.module_rate(m.name), budget, worst, (), pool=name))
            else:
                k = next(j for j, n in enumerate(nodes) if n.members == ((i, m.name),))
                modules.append(module_plan(s, m.name, nodes[k].frontier[picks[k]]))
        configs = configs_by_module(s, options.fanout_lag)
        plans.append(Plan(s.app.name, planner, s.app.rate, s.app.slo_ms, tuple(modules), s.app.hop_ms,
                          lower_bound_per_hour=plan_bound(s, configs, options.utilization, options.bound),
                          utilization=options.utilization, headroom=options.headroom, fanout_lag=options.fanout_lag))
    return plans, pools


def with_pools(plan: Plan, spec: Spec, options: PlanOptions) -> Plan:
    """`plan`, or a cheaper one that pools modules of this app running the same model (`spec`:
    the planned spec that `plan` was made for)."""
    if len({m.model for m in spec.app.modules}) == len(spec.app.modules):
        return plan
    pooled = pooled_plans([spec], options)
    if pooled is None or pooled[0] >= plan.cost_per_hour * (1 - 1e-12) - 1e-12:
        return plan
    (one,), pools = assemble_pools([spec], pooled[1], pooled[2], options, plan.planner)
    return replace(one, pools=tuple(pools))


__all__ = ["pooled_plans", "with_pools"]
