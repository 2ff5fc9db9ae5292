"""The event engine's item state: per module, each item's request, how many of a request's items
are not done yet, how many parents a request still waits for at a join, and when items arrived.

A module whose every request brings exactly one item (a *unit* module: item i is request i's)
needs no tables: ranges stand in for them. Arrival times are logged as runs (first item, end,
time) and spread out once at the end, unless `live` asks for each item's time as it happens (the
stall guard reads them).
"""

from __future__ import annotations

import math
from array import array
from typing import Sequence

import numpy as np

from skinflint.sim.composite import Composite
from skinflint.sim.layout import Layout, run_indices

Requests = Sequence[int]
"""Request indices in increasing order (a list, a tuple, or a range for a run)."""

Links = list[tuple[int, "list[int] | None"]]
"""A module's children in order, each with its parents-left counts if it is a join (else None)."""


class Items:
    """Item state of every module of `cm` laid out as `layout`."""

    def __init__(self, cm: Composite, layout: Layout, live: bool = False) -> None:
        n, mods, n_mod = layout.n_requests, cm.modules, len(cm.modules)
        self.n_items = [int(f[-1]) for f in layout.firsts]
        self.dense = [layout.dense(k) for k in range(n_mod)]
        self.unit = [layout.unit(k) for k in range(n_mod)]
        self.first = [range(n + 1) if self.unit[k] else f.tolist() for k, f in enumerate(layout.firsts)]
        self.request = [range(n) if self.unit[k] else r.tolist() for k, r in enumerate(layout.item_request)]
        self.left = [[1] * n if self.unit[k] else np.diff(f).tolist() for k, f in enumerate(layout.firsts)]
        self.parents = [cm.parents(k) for k in range(n_mod)]
        self.children = [cm.children(k) for k in range(n_mod)]
        self.join_left = [[len(m.parents)] * n if m.parents else None for m in mods]
        self.links: list[Links] = [[(c, self.join_left[c] if len(self.parents[c]) > 1 else None)
                                    for c in sorted(self.children[k])] for k in range(n_mod)]
        self.ready_log = [(array("q"), array("q"), array("d")) for _ in mods]
        self.ready = [[math.nan] * k for k in self.n_items] if live else None

    def finished_run(self, m: int, a: int, b: int) -> Requests:
        """Items a .. b - 1 of module m are done: the requests this finishes (a range when every
        request has an item at m)."""
        item_request, first, left = self.request[m], self.first[m], self.left[m]
        r0, r1 = item_request[a], item_request[b - 1]
        if r0 == r1:
            left[r0] -= b - a
            return (r0,) if left[r0] == 0 else ()
        left[r0] -= first[r0 + 1] - a
        left[r1] -= b - first[r1]
        lo = r0 if left[r0] == 0 else r0 + 1
        hi = r1 + 1 if left[r1] == 0 else r1
        if self.dense[m]:  # every request between r0 and r1 had all its items here
            return range(lo, hi)
        return [r for r in range(lo, hi) if r in (r0, r1) or first[r] != first[r + 1]]

    def finished_items(self, m: int, items: Sequence[int]) -> list[int]:
        """Items of module m (in any order) are done: the requests this finishes, in order."""
        item_request, left = self.request[m], self.left[m]
        out = []
        for j in items:
            i = item_request[j]
            left[i] -= 1
            if left[i] == 0:
                out.append(i)
        out.sort()
        return out

    @staticmethod
    def ready_children(links: Links, reqs: Requests) -> list[tuple[int, Requests]]:
        """Requests `reqs` are done at a module with these `links`: (child, its requests that now
        have every parent done), children in order."""
        out = []
        for c, join_left in links:
            if join_left is None:
                out.append((c, reqs))
                continue
            ready = []
            for i in reqs:
                left = join_left[i] - 1
                join_left[i] = left
                if not left:
                    ready.append(i)
            if ready:
                out.append((c, ready))
        return out

    def mark_ready(self, m: int, a: int, b: int, t: float) -> None:
        """Items a .. b - 1 of module m arrived at t."""
        if self.ready is None:
            starts, ends, times = self.ready_log[m]
            starts.append(a)
            ends.append(b)
            times.append(t)
        else:
            self.ready[m][a:b] = [t] * (b - a)

    def ready_ms(self, m: int) -> np.ndarray:
        """When each item of module m arrived (NaN: never), from what `mark_ready` was told."""
        if self.ready is not None:
            return np.array(self.ready[m], dtype=float)
        starts, ends = (np.frombuffer(x, dtype=np.int64) for x in self.ready_log[m][:2])
        ready = np.full(self.n_items[m], math.nan)
        ready[run_indices(starts, ends - starts)] = np.repeat(np.frombuffer(self.ready_log[m][2]), ends - starts)
        return ready
