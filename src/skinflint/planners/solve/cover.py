"""Least-cost integer cover: min sum(n_i * p_i) s.t. sum(n_i * b_i) >= need, n_i >= 0 integers.

Exact. Two facts keep it small:
  * exchange: let e be the item of least price per unit (p/b). Any b_e other items contain a
    non-empty subset whose sizes sum to a multiple k*b_e (pigeonhole on prefix sums); swapping it
    for k copies of e keeps the cover and does not raise the cost. So some optimum uses fewer
    than b_e other items, their sizes summing below b_e * b_max, and at least
    floor((need - b_e * b_max) / b_e) copies of e can be fixed up front.
  * each remaining item is one unbounded-knapsack pass over 0..need, vectorised per residue
    class mod b as a running minimum (g[r + j b] - j p is what the pass minimises).
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

Item = tuple[int, float]  # (batch size b, price p)


def _prune(items: Sequence[Item]) -> list[tuple[int, Item]]:
    """Drop items another item dominates (at least as large and at most as dear; first of equals kept)."""

    def dominates(j: int, i: int) -> bool:
        (bj, pj), (bi, pi) = items[j], items[i]
        return bj >= bi and pj <= pi and ((bj, pj) != (bi, pi) or j < i)

    return [(i, it) for i, it in enumerate(items) if not any(dominates(j, i) for j in range(len(items)) if j != i)]


def _pass(g: np.ndarray, b: int, p: float) -> np.ndarray:
    """One unbounded item over a covering table g[x] = least cost to cover at least x (g[0] = 0)."""
    size = g.shape[0]
    rows = -(-size // b)
    a = np.full(rows * b, np.inf)
    a[:size] = g
    a = a.reshape(rows, b)
    j = (np.arange(rows) * p)[:, None]
    best = np.minimum.accumulate(a - j, axis=0) + j          # k copies on top of g[x - k b]
    if b > 1:                                              # or j + 1 copies covering x outright
        np.minimum(best[:, 1:], j + p, out=best[:, 1:])
    return best.reshape(-1)[:size]


def _split_forced(items: list[Item], need: int) -> tuple[int, int, int]:
    """(index of the most cost-efficient item e, copies of e fixed by the exchange argument, rest)."""
    e = min(range(len(items)), key=lambda i: (items[i][1] / items[i][0], -items[i][0]))
    b_e = items[e][0]
    b_max = max(b for b, _ in items)
    forced = max(0, (need - b_e * b_max) // b_e)
    return e, forced, need - forced * b_e


def min_cover_cost(items: Sequence[Item], need: int) -> float:
    """Least cost of an integer cover of `need` units (inf if there are no items)."""
    if need <= 0:
        return 0.0
    kept = [it for _, it in _prune(items)]
    if not kept:
        return math.inf
    if len(kept) == 1:
        b, p = kept[0]
        return math.ceil(need / b) * p
    e, forced, rest = _split_forced(kept, need)
    b_e, p_e = kept[e]
    if len(kept) == 2:  # one other item, used fewer than b_e times: enumerate it
        b_o, p_o = kept[1 - e]
        n_o = np.arange(min(b_e - 1, -(-rest // b_o)) + 1)
        left = np.maximum(0, rest - n_o * b_o)
        return forced * p_e + float(np.min(n_o * p_o + (-(-left // b_e)) * p_e))
    g = np.full(rest + 1, np.inf)
    g[0] = 0.0
    for b, p in kept:
        g = _pass(g, b, p)
    return forced * p_e + float(g[rest])


def min_cover(items: Sequence[Item], need: int) -> tuple[float, list[int]]:
    """Least cost and the count of each item (in the order given) of an integer cover of `need`."""
    counts = [0] * len(items)
    if need <= 0:
        return 0.0, counts
    kept = _prune(items)
    if not kept:
        return math.inf, counts
    its = [it for _, it in kept]
    e, forced, rest = _split_forced(its, need)
    tables = [np.full(rest + 1, np.inf)]
    tables[0][0] = 0.0
    for b, p in its:
        tables.append(_pass(tables[-1], b, p))
    cost = forced * its[e][1] + float(tables[-1][rest])
    counts[kept[e][0]] += forced
    x = rest
    for t in range(len(its) - 1, -1, -1):  # walk back through the passes
        b, p = its[t]
        target = tables[t + 1][x]
        for k in range(0, -(-x // b) + 1):
            if tables[t][max(0, x - k * b)] + k * p <= target + 1e-9 * max(1.0, target):
                counts[kept[t][0]] += k
                x = max(0, x - k * b)
                break
    return cost, counts
