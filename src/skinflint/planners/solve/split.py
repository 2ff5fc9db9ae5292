"""Exact split of the end-to-end SLO into per-module budgets over any DAG.

Each module offers a frontier of (budget, cost) points; choose one point per module so that
every entry-to-exit path has sum(budget + hop) <= slo and the total cost is least.

Three exact methods, fastest first:
  1. series-parallel DAGs (chains, forks, joins, diamonds, several entries and exits hung off a
     virtual source and sink): compose Pareto frontiers — in series latencies add, in parallel
     the larger one counts, costs always add, dominated points are dropped;
  2. any DAG: a dynamic program in topological order whose state is the finish times of the
     modules that still have unplanned children (the "live" cut) plus the cost; a state that is
     no earlier anywhere and no cheaper than another is dropped (the future depends only on the
     live finish times, monotonically);
  3. should that state space grow too large: an integer program (HiGHS via scipy.optimize.milp)
     with one binary per frontier point and a finish-time variable per module.
"""

from __future__ import annotations

import os
import sys
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Iterator, Mapping, Sequence

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

from skinflint.model import longest_after
from skinflint.spec.types import App, Module

TOL = 1e-9


@dataclass
class _Front:
    """A Pareto set of (latency, cost) with a way back to each module's chosen point."""

    lat: np.ndarray
    cost: np.ndarray
    pick: Callable[[int], dict[str, int]]


def _leaf(name: str, lat: np.ndarray, cost: np.ndarray) -> _Front:
    return _Front(lat, cost, lambda i: {name: int(i)})


def _identity() -> _Front:
    return _Front(np.zeros(1), np.zeros(1), lambda i: {})


def _combine(a: _Front, b: _Front, series: bool, cap: float) -> _Front:
    lat = (a.lat[:, None] + b.lat[None, :]) if series else np.maximum(a.lat[:, None], b.lat[None, :])
    cost = a.cost[:, None] + b.cost[None, :]
    ia, ib = np.indices(lat.shape)
    lat, cost, ia, ib = lat.ravel(), cost.ravel(), ia.ravel(), ib.ravel()
    ok = lat <= cap + TOL * max(1.0, cap)
    lat, cost, ia, ib = lat[ok], cost[ok], ia[ok], ib[ok]
    order = np.lexsort((cost, lat))
    lat, cost, ia, ib = lat[order], cost[order], ia[order], ib[order]
    if lat.size:
        prev = np.minimum.accumulate(cost)
        keep = np.concatenate(([True], cost[1:] < prev[:-1] - TOL * np.maximum(1.0, prev[:-1])))
        lat, cost, ia, ib = lat[keep], cost[keep], ia[keep], ib[keep]
    pa, pb = a.pick, b.pick
    return _Front(lat, cost, lambda i: pa(ia[i]) | pb(ib[i]))


Step = tuple  # ("leaf", module) | ("identity",) | ("combine", i, j, series): i, j earlier steps


def _sp_schedule(app: App) -> tuple[Step, ...] | None:
    """The series and parallel steps that reduce the two-terminal graph, in order (the last step
    is the whole graph), or None if it is not series-parallel. Depends on the graph alone, so
    it is found once per shape (`_schedule_of`) and replayed over each call's frontiers."""
    steps: list[Step] = []
    edges: dict[int, tuple[str, str, int]] = {}
    out_e: dict[str, set[int]] = defaultdict(set)
    in_e: dict[str, set[int]] = defaultdict(set)

    def add(u: str, v: str, step: Step) -> None:
        steps.append(step)
        k = max(edges, default=-1) + 1
        edges[k] = (u, v, len(steps) - 1)
        out_e[u].add(k)
        in_e[v].add(k)

    def remove(k: int) -> tuple[str, str, int]:
        u, v, f = edges.pop(k)
        out_e[u].discard(k)
        in_e[v].discard(k)
        return u, v, f

    for m in app.modules:
        add(f"{m.name}:in", f"{m.name}:out", ("leaf", m.name))
        for p in m.parents:
            add(f"{p}:out", f"{m.name}:in", ("identity",))
        if not m.parents:
            add("source", f"{m.name}:in", ("identity",))
    for name in app.exits:
        add(f"{name}:out", "sink", ("identity",))

    changed = True
    while changed and len(edges) > 1:
        changed = False
        for u in list(out_e):
            by_v: dict[str, list[int]] = defaultdict(list)
            for k in out_e[u]:
                by_v[edges[k][1]].append(k)
            for v, ks in by_v.items():
                while len(ks) > 1:
                    _, _, f1 = remove(ks.pop())
                    _, _, f2 = remove(ks.pop())
                    add(u, v, ("combine", f1, f2, False))
                    ks.append(max(edges))
                    changed = True
        for x in list(in_e):
            if x in ("source", "sink") or len(in_e[x]) != 1 or len(out_e[x]) != 1:
                continue
            u, _, f1 = remove(next(iter(in_e[x])))
            _, w, f2 = remove(next(iter(out_e[x])))
            add(u, w, ("combine", f1, f2, True))
            changed = True
    if len(edges) == 1:
        u, v, f = next(iter(edges.values()))
        if (u, v) == ("source", "sink"):
            return tuple(steps[:f + 1])
    return None


@lru_cache(maxsize=1024)
def _schedule_of(shape: tuple[tuple[str, tuple[str, ...]], ...]) -> tuple[Step, ...] | None:
    """`_sp_schedule` of the graph whose modules (in order) have these names and parents."""
    return _sp_schedule(App("shape", 1.0, 1.0, tuple(Module(n, n, parents=ps) for n, ps in shape)))


def _series_parallel(app: App, fronts: dict[str, _Front], cap: float) -> _Front | None:
    """Reduce the two-terminal graph by series and parallel steps; None if it is not SP."""
    steps = _schedule_of(tuple((m.name, tuple(m.parents)) for m in app.modules))
    if steps is None:
        return None
    done: list[_Front] = []
    for step in steps:
        if step[0] == "leaf":
            done.append(fronts[step[1]])
        elif step[0] == "identity":
            done.append(_identity())
        else:
            done.append(_combine(done[step[1]], done[step[2]], series=step[3], cap=cap))
    return done[-1]


@contextmanager
def _quiet_stdout() -> Iterator[None]:
    """Send file descriptor 1 to /dev/null for the duration (C libraries write there directly)."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def milp_split(apps: Sequence[tuple[App, float, float]], node_of: Mapping[tuple[int, str], int],
               lat: Sequence[np.ndarray], cost: Sequence[np.ndarray]) -> tuple[float, list[int]] | None:
    """One integer program over the paths of several apps, each given as (app, slo, hop):

      min sum cost_k . x_k  s.t.  one point per node k (x_k binary, sums to 1);
      per app and module m served by node k = node_of[(app index, m)]:
          f_m >= f_p + lat_k . x_k + hop for every parent p (f_m >= lat_k . x_k + hop at entries);
          f_m <= slo at the app's exits.
    A node may serve modules of several apps (a pool). Returns the cost and each node's point."""
    offset, n_x = [], 0
    for c_k in cost:
        offset.append(n_x)
        n_x += c_k.size
    fvar = {key: n_x + i for i, key in enumerate((i, m.name) for i, (app, _, _) in enumerate(apps)
                                                  for m in app.modules)}
    nv = n_x + len(fvar)
    c = np.zeros(nv)
    rows, lo, hi = [], [], []
    for k, c_k in enumerate(cost):
        c[offset[k]:offset[k] + c_k.size] = c_k
        row = np.zeros(nv)
        row[offset[k]:offset[k] + c_k.size] = 1.0
        rows.append(row), lo.append(1.0), hi.append(1.0)
    ub = np.ones(nv)
    ub[n_x:] = np.inf
    for i, (app, slo, hop) in enumerate(apps):
        for m in app.modules:
            k = node_of[(i, m.name)]
            for p in m.parents or (None,):
                row = np.zeros(nv)
                row[fvar[(i, m.name)]] = 1.0
                row[offset[k]:offset[k] + lat[k].size] = -(lat[k] + hop)
                if p is not None:
                    row[fvar[(i, p)]] = -1.0
                rows.append(row), lo.append(0.0), hi.append(np.inf)
        for e in app.exits:
            ub[fvar[(i, e)]] = slo + TOL * max(1.0, slo)
    integrality = np.zeros(nv)
    integrality[:n_x] = 1
    with _quiet_stdout():  # HiGHS can print solver notes straight to fd 1, which would corrupt JSON output
        res = milp(c, constraints=LinearConstraint(np.array(rows), lo, hi), integrality=integrality,
                   bounds=Bounds(np.zeros(nv), ub), options={"mip_rel_gap": 0.0})
    if res.x is None:
        return None
    picks = [int(np.argmax(res.x[offset[k]:offset[k] + c_k.size])) for k, c_k in enumerate(cost)]
    return float(sum(c_k[i] for c_k, i in zip(cost, picks))), picks


def _milp(app: App, fronts: dict[str, _Front], slo: float) -> tuple[float, dict[str, int]] | None:
    """`milp_split` for one app, one node per module (fronts already include the hop)."""
    names = [m.name for m in app.modules]
    got = milp_split([(app, slo, 0.0)], {(0, n): k for k, n in enumerate(names)},
                     [fronts[n].lat for n in names], [fronts[n].cost for n in names])
    return None if got is None else (got[0], dict(zip(names, got[1])))


def _dominated(finish: np.ndarray, cost: np.ndarray) -> np.ndarray:
    """Mask of states some other state dominates (no later finish anywhere, no higher cost)."""
    order = np.lexsort((finish.sum(axis=1), cost))
    f, c = finish[order], cost[order]
    # j dominates i iff c_j <= c_i and f_j <= f_i everywhere; ties broken by sorted position.
    le_f = np.all(f[:, None, :] <= f[None, :, :] + TOL * np.maximum(1.0, np.abs(f[None, :, :])), axis=2)
    le_c = c[:, None] <= c[None, :] + TOL * np.maximum(1.0, np.abs(c[None, :]))
    earlier = np.arange(c.size)[:, None] < np.arange(c.size)[None, :]
    dom_sorted = np.any(le_f & le_c & earlier, axis=0)
    out = np.empty_like(dom_sorted)
    out[order] = dom_sorted
    return out


def _live_cut_dp(app: App, fronts: dict[str, _Front], slo: float,
                 max_states: int = 600) -> tuple[float, dict[str, int]] | None | bool:
    """Exact DP over the live cut; False if the state space outgrows `max_states`."""
    names = [m.name for m in app.modules]
    least = {n: float(fronts[n].lat.min()) for n in names}
    suffix = longest_after(app.modules, least, 0.0)  # least latency still to come after m on any path
    remaining_children = {n: len(app.children(n)) for n in names}
    live: list[str] = []
    finish = np.zeros((1, 0))
    cost = np.zeros(1)
    picks = np.zeros((1, 0), dtype=np.int64)
    cap = slo + TOL * max(1.0, slo)
    for col, m in enumerate(app.modules):
        f = fronts[m.name]
        start = finish[:, [live.index(p) for p in m.parents]].max(axis=1) if m.parents else np.zeros(cost.size)
        s_idx, k_idx = np.divmod(np.arange(cost.size * f.lat.size), f.lat.size)
        new_f = start[s_idx] + f.lat[k_idx]
        ok = new_f + suffix[m.name] <= cap
        s_idx, k_idx, new_f = s_idx[ok], k_idx[ok], new_f[ok]
        finish = np.column_stack([finish[s_idx], new_f])
        cost = cost[s_idx] + f.cost[k_idx]
        picks = np.column_stack([picks[s_idx], k_idx])
        live.append(m.name)
        for p in m.parents:
            remaining_children[p] -= 1
        keep_cols = [i for i, n in enumerate(live) if remaining_children[n] > 0]
        live = [live[i] for i in keep_cols]
        finish = finish[:, keep_cols]
        if cost.size == 0:
            return None
        if finish.shape[1] and cost.size > 1:
            if cost.size > max_states:
                return False
            keep = ~_dominated(finish, cost)
            finish, cost, picks = finish[keep], cost[keep], picks[keep]
        elif cost.size > 1:
            best = int(np.argmin(cost))
            finish, cost, picks = finish[[best]], cost[[best]], picks[[best]]
    best = int(np.argmin(cost))
    return float(cost[best]), {n: int(picks[best, i]) for i, n in enumerate(names)}


def split_slo(app: App, frontiers: dict[str, tuple[np.ndarray, np.ndarray]], slo_ms: float,
              hop_ms: float = 0.0) -> tuple[float, dict[str, int]] | None:
    """Least total cost and the chosen frontier index per module, or None if nothing fits."""
    if any(lat.size == 0 for lat, _ in frontiers.values()):
        return None
    fronts = {m: _leaf(m, lat + hop_ms, cost) for m, (lat, cost) in frontiers.items()}
    sp = _series_parallel(app, fronts, slo_ms)
    if sp is not None:
        if sp.lat.size == 0:
            return None
        i = int(np.argmin(sp.cost))
        return float(sp.cost[i]), sp.pick(i)
    result = _live_cut_dp(app, fronts, slo_ms)
    if result is not False:
        return result
    return _milp(app, fronts, slo_ms)
