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

Ties: frontier points may carry a peak utilisation (robustness.py). Among splits of equal cost
(within TIE) the least peak (max over modules) wins, then the least longest path (the largest
margin to the SLO). So a point no cheaper but with a lower peak is kept, costs are compared
with TIE, and without peaks the fronts are those of the cost alone.
"""

from __future__ import annotations

import os
import sys
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator, Mapping, Sequence

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

from skinflint.model import longest_after, longest_path_ms
from skinflint.spec.types import App

TOL = 1e-9
TIE = 1e-9   # relative: costs (and peaks) closer than this are equal


Frontier = tuple[np.ndarray, np.ndarray] | tuple[np.ndarray, np.ndarray, np.ndarray]  # lat, cost[, peak]


@dataclass
class _Front:
    """A Pareto set of (latency, cost, peak) with a way back to each module's chosen point."""

    lat: np.ndarray
    cost: np.ndarray
    peak: np.ndarray
    pick: Callable[[int], dict[str, int]]


def _leaf(name: str, lat: np.ndarray, cost: np.ndarray, peak: np.ndarray | None = None) -> _Front:
    return _Front(lat, cost, np.zeros(cost.size) if peak is None else peak, lambda i: {name: int(i)})


def _identity() -> _Front:
    return _Front(np.zeros(1), np.zeros(1), np.zeros(1), lambda i: {})


def best_index(cost: np.ndarray, peak: np.ndarray, lat: np.ndarray) -> int:
    """The least cost; among costs within TIE of it the least peak, then the least latency."""
    least = cost.min()
    tied = np.flatnonzero(cost <= least + TIE * max(1.0, abs(least)))
    low = peak[tied].min()
    tied = tied[peak[tied] <= low + TIE * max(1.0, abs(low))]
    return int(tied[np.argmin(lat[tied])])


def _pareto(lat: np.ndarray, cost: np.ndarray, peak: np.ndarray) -> np.ndarray:
    """Indices kept of points sorted by (lat, cost, peak): a point goes if an earlier one is
    cheaper beyond TIE, or tied in cost (TIE) and no busier. The kept costs fall in levels of
    tied costs; within a level the peak must fall (a prefix minimum per level: level k is
    offset by -4k, peaks lie in [0, 2))."""
    prev = np.minimum.accumulate(cost)
    before = np.concatenate(([np.inf], prev[:-1]))
    tol = TIE * np.maximum(1.0, np.abs(before[1:]))
    new = np.concatenate(([True], cost[1:] < before[1:] - tol))
    tied = np.concatenate(([False], ~new[1:] & (cost[1:] <= before[1:] + tol)))
    alive = new | tied
    level = np.cumsum(new)
    shifted = np.where(alive, np.minimum(peak, 1.9) - 4.0 * level, np.inf)
    low = np.concatenate(([np.inf], np.minimum.accumulate(shifted)[:-1]))
    keep = new | (tied & (shifted < low - TIE))
    return np.flatnonzero(keep)


def _combine(a: _Front, b: _Front, series: bool, cap: float) -> _Front:
    lat = (a.lat[:, None] + b.lat[None, :]) if series else np.maximum(a.lat[:, None], b.lat[None, :])
    cost = a.cost[:, None] + b.cost[None, :]
    peak = np.maximum(a.peak[:, None], b.peak[None, :])
    ia, ib = np.indices(lat.shape)
    lat, cost, peak, ia, ib = lat.ravel(), cost.ravel(), peak.ravel(), ia.ravel(), ib.ravel()
    ok = np.flatnonzero(lat <= cap + TOL * max(1.0, cap))
    ok = ok[np.lexsort((peak[ok], cost[ok], lat[ok]))]
    if ok.size:
        ok = ok[_pareto(lat[ok], cost[ok], peak[ok])]
    lat, cost, peak, ia, ib = lat[ok], cost[ok], peak[ok], ia[ok], ib[ok]
    pa, pb = a.pick, b.pick
    return _Front(lat, cost, peak, lambda i: pa(ia[i]) | pb(ib[i]))


def _series_parallel(app: App, fronts: dict[str, _Front], cap: float) -> _Front | None:
    """Reduce the two-terminal graph by series and parallel steps; None if it is not SP."""
    edges: dict[int, tuple[str, str, _Front]] = {}
    out_e: dict[str, set[int]] = defaultdict(set)
    in_e: dict[str, set[int]] = defaultdict(set)

    def add(u: str, v: str, f: _Front) -> None:
        k = max(edges, default=-1) + 1
        edges[k] = (u, v, f)
        out_e[u].add(k)
        in_e[v].add(k)

    def remove(k: int) -> tuple[str, str, _Front]:
        u, v, f = edges.pop(k)
        out_e[u].discard(k)
        in_e[v].discard(k)
        return u, v, f

    for m in app.modules:
        add(f"{m.name}:in", f"{m.name}:out", fronts[m.name])
        for p in m.parents:
            add(f"{p}:out", f"{m.name}:in", _identity())
        if not m.parents:
            add("source", f"{m.name}:in", _identity())
    for name in app.exits:
        add(f"{name}:out", "sink", _identity())

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
                    add(u, v, _combine(f1, f2, series=False, cap=cap))
                    ks.append(max(edges))
                    changed = True
        for x in list(in_e):
            if x in ("source", "sink") or len(in_e[x]) != 1 or len(out_e[x]) != 1:
                continue
            u, _, f1 = remove(next(iter(in_e[x])))
            _, w, f2 = remove(next(iter(out_e[x])))
            add(u, w, _combine(f1, f2, series=True, cap=cap))
            changed = True
    if len(edges) == 1:
        u, v, f = next(iter(edges.values()))
        if (u, v) == ("source", "sink"):
            return f
    return None


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


def _milp(app: App, fronts: dict[str, _Front], slo: float, ties: bool = True) -> tuple[float, dict[str, int]] | None:
    """`milp_split` for one app, one node per module (fronts already include the hop); with
    `ties`, more programs break a cost tie (_TieProgram)."""
    names = [m.name for m in app.modules]
    got = milp_split([(app, slo, 0.0)], {(0, n): k for k, n in enumerate(names)},
                     [fronts[n].lat for n in names], [fronts[n].cost for n in names])
    if got is None:
        return None
    picks = dict(zip(names, got[1]))
    if ties and any(fronts[n].cost.size > 1 for n in names):
        picks = _TieProgram(app, fronts, slo).solve(got[0], picks)
    return float(sum(fronts[n].cost[i] for n, i in picks.items())), picks


class _TieProgram:
    """The split's tie-break as integer programs: binaries x per point, finish times f, the peak
    z >= peak . x per module and the longest path s >= f at the exits. First the least z with
    cost <= the least cost (1 + TIE), then the least s with z <= that peak too. Each answer is
    kept only if it really is that cheap (and busy) and fits (HiGHS has tolerances of its own)."""

    def __init__(self, app: App, fronts: dict[str, _Front], slo: float) -> None:
        self.app, self.fronts, self.slo = app, fronts, slo
        self.names = [m.name for m in app.modules]
        sizes = [fronts[n].cost.size for n in self.names]
        self.offset = dict(zip(self.names, np.cumsum([0] + sizes)[:-1].tolist()))
        self.n_x = sum(sizes)
        self.f = {n: self.n_x + i for i, n in enumerate(self.names)}
        self.z, self.s = self.n_x + len(self.names), self.n_x + len(self.names) + 1
        self.nv = self.s + 1
        self.rows: list[np.ndarray] = []
        self.lo: list[float] = []
        self.hi: list[float] = []
        for n in self.names:
            self._row([(self._x(n), 1.0)], 1.0, 1.0)
            self._row([(self._x(n), -fronts[n].peak), (self.z, 1.0)], 0.0, np.inf)
            for p in app.module(n).parents or (None,):
                self._row([(self._x(n), -fronts[n].lat), (self.f[n], 1.0)] + ([(self.f[p], -1.0)] if p else []),
                          0.0, np.inf)
            if n in app.exits:
                self._row([(self.s, 1.0), (self.f[n], -1.0)], 0.0, np.inf)

    def _x(self, n: str) -> slice:
        return slice(self.offset[n], self.offset[n] + self.fronts[n].cost.size)

    def _row(self, entries: list[tuple[int | slice, float | np.ndarray]], low: float, high: float) -> None:
        r = np.zeros(self.nv)
        for k, v in entries:
            r[k] = v
        self.rows.append(r), self.lo.append(low), self.hi.append(high)

    def _keys(self, picks: dict[str, int]) -> tuple[float, float, float]:
        lat = {n: float(self.fronts[n].lat[i]) for n, i in picks.items()}
        return (float(sum(self.fronts[n].cost[i] for n, i in picks.items())),
                max(float(self.fronts[n].peak[i]) for n, i in picks.items()), longest_path_ms(self.app.modules, lat, 0.0))

    def _least(self, var: int, caps: list[tuple[int, float]]) -> dict[str, int] | None:
        """Least `var` with the cost row (column -1) and z (self.z) capped as given."""
        rows, hi = list(self.rows), list(self.hi)
        for col, cap in caps:
            r = np.zeros(self.nv)
            if col < 0:
                r[:self.n_x] = np.concatenate([self.fronts[n].cost for n in self.names])
            else:
                r[col] = 1.0
            rows.append(r), hi.append(cap)
        c = np.zeros(self.nv)
        c[var] = 1.0
        ub = np.full(self.nv, np.inf)
        ub[:self.n_x], ub[self.s] = 1.0, self.slo + TOL * max(1.0, self.slo)
        integrality = np.zeros(self.nv)
        integrality[:self.n_x] = 1
        with _quiet_stdout():
            res = milp(c, constraints=LinearConstraint(np.array(rows), self.lo + [-np.inf] * len(caps), hi),
                       integrality=integrality, bounds=Bounds(np.zeros(self.nv), ub), options={"mip_rel_gap": 0.0})
        if res.x is None:
            return None
        return {n: int(np.argmax(res.x[self._x(n)])) for n in self.names}

    def solve(self, least: float, picks: dict[str, int]) -> dict[str, int]:
        cost_cap = least + TIE * max(1.0, abs(least))
        busy = any(np.ptp(self.fronts[n].peak) > 0 for n in self.names)
        for var in (self.z, self.s) if busy else (self.s,):
            peak_cap = self._keys(picks)[1] + TIE
            got = self._least(var, [(-1, cost_cap)] + ([(self.z, peak_cap)] if var == self.s else []))
            if got is None:
                continue
            cost, peak, longest = self._keys(got)
            best = self._keys(picks)
            if cost <= cost_cap and longest <= self.slo + TOL * max(1.0, self.slo) and (
                    peak < best[1] - TIE or (peak <= best[1] + TIE and longest < best[2])):
                picks = got
        return picks


def _dominated(finish: np.ndarray, cost: np.ndarray, peak: np.ndarray) -> np.ndarray:
    """Mask of states some other state dominates: no later finish anywhere, and cheaper beyond
    TIE or no dearer (TIE) and no busier."""
    order = np.lexsort((finish.sum(axis=1), peak, cost))
    f, c, pk = finish[order], cost[order], peak[order]
    # j dominates i iff f_j <= f_i everywhere and (c_j < c_i - tol, or c_j <= c_i + tol and
    # pk_j <= pk_i); ties broken by sorted position.
    le_f = np.all(f[:, None, :] <= f[None, :, :] + TOL * np.maximum(1.0, np.abs(f[None, :, :])), axis=2)
    tol = TIE * np.maximum(1.0, np.abs(c[None, :]))
    lt_c = c[:, None] < c[None, :] - tol
    le_c = (c[:, None] <= c[None, :] + tol) & (pk[:, None] <= pk[None, :])
    earlier = np.arange(c.size)[:, None] < np.arange(c.size)[None, :]
    dom_sorted = np.any(le_f & earlier & (lt_c | le_c), axis=0)
    out = np.empty_like(dom_sorted)
    out[order] = dom_sorted
    return out


def _live_cut_dp(app: App, fronts: dict[str, _Front], slo: float,
                 max_states: int = 600) -> tuple[float, dict[str, int]] | None | bool:
    """Exact DP over the live cut; False if the state space outgrows `max_states`. Column 0 of
    the finish times is the latest exit so far (the longest path: the tie-break's margin)."""
    names = [m.name for m in app.modules]
    least = {n: float(fronts[n].lat.min()) for n in names}
    suffix = longest_after(app.modules, least, 0.0)  # least latency still to come after m on any path
    remaining_children = {n: len(app.children(n)) for n in names}
    live: list[str] = ["<exits>"]
    finish = np.zeros((1, 1))
    cost, peak = np.zeros(1), np.zeros(1)
    picks = np.zeros((1, 0), dtype=np.int64)
    cap = slo + TOL * max(1.0, slo)
    for m in app.modules:
        f = fronts[m.name]
        start = finish[:, [live.index(p) for p in m.parents]].max(axis=1) if m.parents else np.zeros(cost.size)
        s_idx, k_idx = np.divmod(np.arange(cost.size * f.lat.size), f.lat.size)
        new_f = start[s_idx] + f.lat[k_idx]
        ok = new_f + suffix[m.name] <= cap
        s_idx, k_idx, new_f = s_idx[ok], k_idx[ok], new_f[ok]
        finish = np.column_stack([finish[s_idx], new_f])
        cost, peak = cost[s_idx] + f.cost[k_idx], np.maximum(peak[s_idx], f.peak[k_idx])
        picks = np.column_stack([picks[s_idx], k_idx])
        live.append(m.name)
        for p in m.parents:
            remaining_children[p] -= 1
        if not app.children(m.name):
            finish[:, 0] = np.maximum(finish[:, 0], new_f)
        keep_cols = [i for i, n in enumerate(live) if i == 0 or remaining_children[n] > 0]
        live = [live[i] for i in keep_cols]
        finish = finish[:, keep_cols]
        if cost.size == 0:
            return None
        if cost.size > 1:
            if cost.size > max_states:
                return False
            keep = ~_dominated(finish, cost, peak)
            finish, cost, peak, picks = finish[keep], cost[keep], peak[keep], picks[keep]
    best = best_index(cost, peak, finish[:, 0])
    return float(cost[best]), {n: int(picks[best, i]) for i, n in enumerate(names)}


def _as_front(name: str, frontier: Frontier, hop_ms: float) -> _Front:
    return _leaf(name, frontier[0] + hop_ms, frontier[1], frontier[2] if len(frontier) > 2 else None)  # type: ignore[misc]


def split_slo(app: App, frontiers: dict[str, Frontier], slo_ms: float,
              hop_ms: float = 0.0) -> tuple[float, dict[str, int]] | None:
    """Least total cost and the chosen frontier index per module, or None if nothing fits; a
    frontier (lat, cost, peak) breaks cost ties by the least peak, then the least longest path."""
    if any(f[0].size == 0 for f in frontiers.values()):
        return None
    fronts = {m: _as_front(m, f, hop_ms) for m, f in frontiers.items()}
    sp = _series_parallel(app, fronts, slo_ms)
    if sp is not None:
        if sp.lat.size == 0:
            return None
        i = best_index(sp.cost, sp.peak, sp.lat)
        return float(sp.cost[i]), sp.pick(i)
    result = _live_cut_dp(app, fronts, slo_ms)
    if result is not False:
        return result
    return _milp(app, fronts, slo_ms, ties=any(len(f) > 2 for f in frontiers.values()))
