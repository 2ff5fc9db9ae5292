"""Where every request and item sits: the event engine's static data, laid out once.

All apps' requests are put in one order, by entry release time (arrival + the app's hop; ties by
app, then by index within the app). Module m numbers its items request by request: request i's
items are `firsts[m][i] .. firsts[m][i + 1] - 1`, from the per-request item counts it is given
(`counts[m]`, in its app's request order; requests of other apps bring none). A pool's server
index x is item `pool_item[p][x]` of module `pool_module[p][x]`, merged in promise-release order
(sim.composite); `to_pool[m][j]` goes back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from skinflint.sim.composite import Composite, pool_order


@dataclass(frozen=True)
class Layout:
    """Requests (arrival, entry release, app, index within the app), per module its items'
    offsets and requests, per pool its merged order, and per server the items it will see."""

    arrival: np.ndarray
    release: np.ndarray
    app: np.ndarray
    local: np.ndarray
    firsts: tuple[np.ndarray, ...]
    item_request: tuple[np.ndarray, ...]
    pool_module: tuple[np.ndarray, ...]
    pool_item: tuple[np.ndarray, ...]
    to_pool: tuple[np.ndarray | None, ...]
    expected: tuple[int, ...]

    @property
    def n_requests(self) -> int:
        """Requests of every app."""
        return int(self.arrival.size)

    def dense(self, m: int) -> bool:
        """Every request, of every app, brings at least one item to module m (a run of
        consecutive requests is then a run of consecutive items, each request's inside it)."""
        return bool(np.all(np.diff(self.firsts[m]) > 0))

    def unit(self, m: int) -> bool:
        """Every request brings exactly one item to module m: item i is request i's."""
        return bool(np.array_equal(self.firsts[m], np.arange(self.n_requests + 1)))


def run_indices(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The indices of runs starts[r] .. starts[r] + lengths[r] - 1, run after run."""
    offset = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
    return offset + np.arange(int(lengths.sum()), dtype=np.int64)


def _requests(cm: Composite, arrivals: Sequence[np.ndarray]) -> tuple[np.ndarray, ...]:
    """(arrival, release, app, index within its app) of every request, in release order."""
    app = np.concatenate([np.full(len(a), k, dtype=np.int64) for k, a in enumerate(arrivals)])
    local = np.concatenate([np.arange(len(a), dtype=np.int64) for a in arrivals])
    arrival = np.concatenate([np.asarray(a, dtype=float) for a in arrivals])
    release = arrival + np.array([m.hop_ms for m in cm.apps])[app]
    order = np.lexsort((local, app, release))
    return arrival[order], release[order], app[order], local[order]


def check_counts(cm: Composite, arrivals: Sequence[np.ndarray], counts: Sequence[np.ndarray]) -> None:
    """One count array per module, one non-negative integer per request of its app."""
    if len(counts) != len(cm.modules):
        raise ValueError(f"need item counts for each of the {len(cm.modules)} modules (got {len(counts)})")
    for k, c in enumerate(counts):
        n = len(arrivals[cm.app_of[k]])
        c = np.asarray(c)
        if c.shape != (n,) or (n and (c.dtype.kind not in "iu" or c.min() < 0)):
            raise ValueError(f"module {cm.modules[k].name!r}: need {n} non-negative integer item counts "
                             f"(got shape {c.shape}, dtype {c.dtype})")


def lay_out(cm: Composite, arrivals: Sequence[np.ndarray], counts: Sequence[np.ndarray]) -> Layout:
    """The layout of apps `cm` under `arrivals[a]` (app a's sorted times, ms), module m bringing
    `counts[m][i]` items per request i of its app."""
    check_counts(cm, arrivals, counts)
    arrival, release, app, local = _requests(cm, arrivals)
    n = arrival.size
    firsts, item_request = [], []
    for k in range(len(cm.modules)):
        per_request = np.zeros(n, dtype=np.int64)
        per_request[app == cm.app_of[k]] = counts[k]
        first = np.concatenate(([0], np.cumsum(per_request)))
        firsts.append(first)
        item_request.append(np.repeat(np.arange(n, dtype=np.int64), per_request))
    to_pool: list[np.ndarray | None] = [None] * len(cm.modules)
    pool_module, pool_item = [], []
    for pool in cm.pools:
        keys = [arrival[item_request[k]] + cm.modules[k].promise_offset_ms for k in pool.members]
        member, item, inverse = pool_order(keys)
        pool_module.append(np.array(pool.members, dtype=np.int64)[member])
        pool_item.append(item)
        for k, inv in zip(pool.members, inverse):
            to_pool[k] = inv
    expected = [int(f[-1]) for f in firsts] + [int(p.size) for p in pool_item]
    return Layout(arrival, release, app, local, tuple(firsts), tuple(item_request), tuple(pool_module),
                  tuple(pool_item), tuple(to_pool), tuple(expected))
