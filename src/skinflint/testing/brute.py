"""A brute force of MODEL.md's planning problem that also knows how robust each plan is.

Every worker count of every configuration of every module (dedicated workers only), checked with
the cycle rule, then every combination of the modules' options over the DAG's paths. Of the
plans of least cost (relative tolerance 1e-9) it reports the least peak busy fraction (max over
modules of max d / T_m, T_m = 1000 sum n b / r_m), and of those the least longest path of worst
latencies plus hops: the exact planner's tie-break (docs/planner.md), from the rules alone.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from skinflint import model
from skinflint.spec.types import Spec

EPS = 1e-9
TIE = 1e-9


@dataclass(frozen=True)
class Best:
    """The brute force's answer: least cost, then least peak, then least longest path (ms)."""

    cost: float
    peak: float
    longest_ms: float


def module_options(configs: list[model.Config], rate: float, u: float) -> np.ndarray:
    """Rows (worst latency W, cost, peak) of every feasible worker count, reduced to those no
    other row beats in all three (W, cost, peak). A least-cost cover is minimal, so no config
    needs more than ceil(r max d / (1000 u b)) workers."""
    max_d = max(c.latency_ms for c in configs)
    bound = [math.ceil(rate * max_d / (1000 * u) / c.batch_size) for c in configs]
    n = np.array(list(itertools.product(*(range(k + 1) for k in bound))), dtype=float)
    b = np.array([c.batch_size for c in configs], dtype=float)
    d = np.array([c.latency_ms for c in configs])
    w = np.array([c.worst_latency_ms for c in configs])
    price = np.array([c.price_per_hour for c in configs])
    units = n @ b
    used = n > 0
    slowest = np.where(used, d, 0.0).max(axis=1)
    ok = (units > 0) & (slowest <= u * 1000.0 * np.maximum(units, 1) / rate * (1 + EPS))
    rows = np.column_stack([np.where(used, w, -np.inf).max(axis=1), n @ price,
                            slowest * rate / (1000.0 * np.maximum(units, 1))])[ok]
    rows = rows[np.lexsort((rows[:, 2], rows[:, 1], rows[:, 0]))]
    kept: list[np.ndarray] = []
    for r in rows:  # by W, then cost, then peak: only an earlier row can dominate
        if not kept or not np.any(np.all(np.array(kept)[:, 1:] <= r[1:] + 1e-12, axis=1)):
            kept.append(r)
    return np.array(kept)


def brute_force(spec: Spec, u: float) -> Best | None:
    """The best plan by (cost, peak, longest path), or None if none meets the SLO."""
    app = spec.app
    names = [m.name for m in app.modules]
    opts = [module_options(model.module_configs(spec, n, app.module_rate(n)), app.module_rate(n), u) for n in names]
    grids = np.meshgrid(*(np.arange(len(o)) for o in opts), indexing="ij")
    pick = [g.ravel() for g in grids]
    lat = {n: opts[k][pick[k], 0] for k, n in enumerate(names)}
    longest = np.max([sum(lat[m] + app.hop_ms for m in p) for p in app.paths()], axis=0)
    ok = longest <= app.slo_ms * (1 + EPS)
    if not ok.any():
        return None
    cost = sum(opts[k][pick[k], 1] for k in range(len(names)))[ok]
    peak = np.max([opts[k][pick[k], 2] for k in range(len(names))], axis=0)[ok]
    longest = longest[ok]
    least = cost.min()
    tied = cost <= least + TIE * max(1.0, least)
    low = peak[tied].min()
    tied &= peak <= low + TIE
    return Best(float(least), float(low), float(longest[tied].min()))
