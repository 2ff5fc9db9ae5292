"""A pool that feeds itself closes its open batch rather than wait on itself forever.

A pool server on a cycle of the graph of servers (`Composite.looped`) can hold an open batch
that waits for an index whose request still needs an item inside that very batch (sim.composite
gives the cases). After every event the guard follows, for each such server, what its open batch
waits for: the index it waits for (`OpenBatch.waits_for`) belongs to a request that is not yet
released at some module; that release waits on the request's items upstream, which are either
launched (they will finish), closed into a batch waiting for its worker (`OpenBatch.is_queued`:
they will run), not yet released (follow their parents), or in some server's open batch (follow
what *that* batch waits for). Reaching the server itself means a stall: close its open batch.
Only policies that declare `OpenBatch` take part; another policy's open state is not followed.
"""

from __future__ import annotations

from typing import Sequence

from skinflint.dispatch.base import OpenBatch
from skinflint.sim.items import Items
from skinflint.sim.servers import Servers


class StallGuard:
    """Closes the open batch of each looped pool server that would wait on itself; reads the
    engine's `items` (live arrival times) and `servers` (live item batches), module m's server
    being `server[m]`."""

    def __init__(self, items: Items, servers: Servers, server: Sequence[int], looped: Sequence[int]) -> None:
        self.items, self.servers, self.server = items, servers, server
        self.open = [isinstance(p, OpenBatch) for p in servers.policies]
        self.looped = [s for s in looped if self.open[s]]

    def unstall(self, now: float) -> None:
        """Close, at `now`, every open batch of a looped server that waits on itself."""
        for s in self.looped:
            while self._waits_on(s, s, {s}):
                self.servers.launch(s, self.servers.policies[s].close_open(now), now)

    def _waits_on(self, s: int, target: int, seen: set[int]) -> bool:
        """Server s's open batch waits, through unreleased items, on target's open batch."""
        if not self.open[s]:
            return False
        x = self.servers.policies[s].waits_for()
        if x is None or x >= self.servers.expected[s]:
            return False
        m, j = self.servers.module_item(s, x)
        return self._blocked(m, self.items.request[m][j], target, seen)

    def _blocked(self, m: int, i: int, target: int, seen: set[int]) -> bool:
        """Request i's release at module m waits on target's open batch."""
        servers, items = self.servers, self.items
        for p in items.parents[m]:
            first = items.first[p]
            for j in range(first[i], first[i + 1]):
                if servers.item_batch[p][j] >= 0:
                    continue  # launched: it will finish
                if items.ready[p][j] != items.ready[p][j]:  # NaN: not released at p yet
                    if self._blocked(p, i, target, seen):
                        return True
                    break
                s, x = self.server[p], servers.server_item(p, j)
                if self.open[s] and servers.policies[s].is_queued(x):
                    continue  # closed, waiting for its worker
                if s == target:
                    return True
                if s not in seen:
                    seen.add(s)
                    if self._waits_on(s, target, seen):
                        return True
            if first[i] == first[i + 1] and self._blocked(p, i, target, seen):
                return True
        return False
