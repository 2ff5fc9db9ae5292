"""Several simulated applications run as one: their modules side by side, and the *servers* that
execute them — each unpooled module its own server, each pool one server for all its members.

A pool's dispatcher sees one merged stream. It cuts runs in *promise-release order*: the item of
member m of request i (arriving at a_i) is ordered by a_i + O_m, the latest time it is released
if the parents keep their promises (`SimModule.promise_offset_ms`, hops included); ties by member,
then by item. Each member's items are then in request order, as for a module, and under uniform
arrivals (any phase per app) the keys are k merged uniform streams — the case
`model.pool_worst_latency_ms` bounds. An item released earlier only waits for the items ordered
before it (the cyclic policy's reorder buffer), so released-by-promise is the worst case.

A pool can feed itself (a model twice on one path; or pools upstream of each other in different
apps). Its open batch could then wait for an item that depends on an item inside it — never
under the bound's premise (a batch spans less than a member's promise offset), but it can happen
where the merged stream is thinner, as at start-up. The engine then closes the open batch early
(sim.stall).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np

from skinflint.errors import SpecError
from skinflint.topology import SimModel, SimModule, SimWorker


@dataclass(frozen=True)
class SimPool:
    """One pool as simulated: its workers and its members (indices into `Composite.modules`)."""

    name: str
    workers: tuple[SimWorker, ...]
    members: tuple[int, ...]


@dataclass(frozen=True)
class Composite:
    """Apps side by side. `modules` holds every app's modules, app by app (app k's start at
    `base[k]`); `server[m]` is module m's server: m itself, or len(modules) + its pool's index."""

    apps: tuple[SimModel, ...]
    modules: tuple[SimModule, ...]
    app_of: tuple[int, ...]
    base: tuple[int, ...]
    pools: tuple[SimPool, ...]
    server: tuple[int, ...]
    looped: tuple[int, ...] = ()   # pool servers on a cycle of servers (see sim.stall)

    def parents(self, m: int) -> tuple[int, ...]:
        """Module m's parents (indices into `modules`)."""
        return tuple(self.base[self.app_of[m]] + p for p in self.modules[m].parents)

    def children(self, m: int) -> tuple[int, ...]:
        """Module m's children (indices into `modules`)."""
        return tuple(self.base[self.app_of[m]] + c for c in self.modules[m].children)

    def server_workers(self, s: int) -> tuple[SimWorker, ...]:
        """The workers of server s."""
        return self.modules[s].workers if s < len(self.modules) else self.pools[s - len(self.modules)].workers

    @property
    def n_servers(self) -> int:
        """Modules plus pools (a pooled module's own server slot stays unused)."""
        return len(self.modules) + len(self.pools)

    def shared_base(self) -> list[int]:
        """Offset of each app's shared-worker indices in one list over the fleet."""
        out, total = [], 0
        for a in self.apps:
            out.append(total)
            total += len(a.shared_hardware)
        return out


def compose(apps: Sequence[SimModel]) -> Composite:
    """Put compiled apps side by side and gather each pool's members (same name, same workers)."""
    modules, app_of, base = [], [], []
    for k, a in enumerate(apps):
        base.append(len(modules))
        modules += a.modules
        app_of += [k] * len(a.modules)
    keys: list[tuple[str, str]] = []  # (scope, name): an app's own pools are its alone
    for m in modules:
        if m.pool is not None and (m.pool_scope, m.pool) not in keys:
            keys.append((m.pool_scope, m.pool))
    pools = []
    server = list(range(len(modules)))
    for p, (scope, name) in enumerate(keys):
        members = tuple(k for k, m in enumerate(modules) if (m.pool_scope, m.pool) == (scope, name))
        workers = modules[members[0]].workers
        same = [(w.worker, w.hardware, w.pool) for w in workers]   # promises differ by each member's lag
        if any([(w.worker, w.hardware, w.pool) for w in modules[k].workers] != same for k in members):
            raise SpecError("plan", f"pool {name!r}", "its members see different workers",
                            "simulate the apps with the profiles and catalog the fleet was planned with")
        pools.append(SimPool(name, workers, members))
        for k in members:
            server[k] = len(modules) + p
    cm = Composite(tuple(apps), tuple(modules), tuple(app_of), tuple(base), tuple(pools), tuple(server))
    return replace(cm, looped=_looped(cm))


def _looped(cm: Composite) -> tuple[int, ...]:
    """Pool servers that feed themselves: on a cycle of the graph of servers (a model twice on
    one path, or two pools each upstream of the other in different apps)."""
    edges: dict[int, set[int]] = {}
    for m in range(len(cm.modules)):
        for c in cm.children(m):
            edges.setdefault(cm.server[m], set()).add(cm.server[c])
    out = []
    for p in range(len(cm.pools)):
        s = len(cm.modules) + p
        seen, stack = set(), list(edges.get(s, ()))
        while stack:
            x = stack.pop()
            if x == s:
                out.append(s)
                break
            if x not in seen:
                seen.add(x)
                stack += edges.get(x, ())
    return tuple(out)


def pool_order(keys: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Merge members' items by key (ties: member, then item). Returns, per pool index, its member
    position and item, and per member, the pool index of each of its items."""
    member = np.concatenate([np.full(k.size, p, dtype=np.int64) for p, k in enumerate(keys)])
    item = np.concatenate([np.arange(k.size, dtype=np.int64) for k in keys])
    order = np.lexsort((item, member, np.concatenate(keys)))
    pool_member, pool_item = member[order], item[order]
    to_pool = [np.empty(k.size, dtype=np.int64) for k in keys]
    for p in range(len(keys)):
        mask = pool_member == p
        to_pool[p][pool_item[mask]] = np.flatnonzero(mask)
    return pool_member, pool_item, to_pool
