"""The servers' side of the event engine: each server's policy, workers, batches and timers.

A server is a module's own dispatcher or a pool's (sim.composite). `launch` starts the batches a
policy decides on (a shared worker at its module's next slot, after the batch before it if that
overran), records them and pushes their completions; `received` counts a server's items in and
ends its stream at the last; `rearm` keeps one timer per server where its policy asks for one.
"""

from __future__ import annotations

import itertools
from array import array
from math import exp
from heapq import heappush
from typing import Iterator, Sequence

import numpy as np

from skinflint.dispatch import DispatchPolicy, Launch
from skinflint.dispatch.base import InOrder, next_slot
from skinflint.sim.composite import Composite
from skinflint.sim.events import DONE, TIMER
from skinflint.sim.layout import Layout, run_indices


class Servers:
    """Every server of `cm`: `policies[s]`, `jitter[s]` (batch-time factors by the server's item
    index); batches pushed as DONE events on `heap`, numbered by `seq`, their items a `range`
    when they are a run of consecutive items."""

    def __init__(self, cm: Composite, layout: Layout, policies: Sequence[DispatchPolicy],
                 jitter: Sequence[np.ndarray | None], heap: list, seq: Iterator[int], live: bool = False) -> None:
        """`live`: keep each item's batch up to date while running (`item_batch`, for the stall
        guard); else it is worked out once at the end, from the batches."""
        n_srv, self.n_mod, self.layout = cm.n_servers, len(cm.modules), layout
        self.policies = list(policies)
        self.heap, self.seq = heap, seq
        self.pool_module = [p.tolist() for p in layout.pool_module]
        self.pool_item = [p.tolist() for p in layout.pool_item]
        self.to_pool = [None if t is None else t.tolist() for t in layout.to_pool]
        self.expected = list(layout.expected)
        self.received = [0] * n_srv
        workers = [cm.server_workers(s) for s in range(n_srv)]
        self.times = [[w.worker.times_ms for w in ws] for ws in workers]
        sbase = cm.shared_base()
        self.slots = [[(sbase[cm.app_of[s]] + w.shared, w.offset_ms, w.cycle_ms) if w.shared >= 0 else None
                       for w in ws] for s, ws in enumerate(workers)]
        self.booked: list[list[tuple[float, float]]] = [[] for a in cm.apps for _ in a.shared_hardware]
        # a factor per item, or (normal per item, mu per worker, sigma per worker): exp(mu + sigma z)
        self.jitter = [None if j is None else (tuple(x.tolist() for x in j) if isinstance(j, tuple) else j.tolist())
                       for j in jitter]
        self.timer_at: list[float | None] = [None] * n_srv
        # per batch: worker, start, duration, size, first item if it is a run of items (else -1)
        self.batches: list[tuple[array, ...]] = [(array("q"), array("d"), array("d"), array("q"), array("q"))
                                                 for _ in range(n_srv)]
        self.scattered: list[list[tuple[int, list[int]]]] = [[] for _ in range(n_srv)]  # (batch, items) not runs
        self.item_batch = [[-1] * int(f[-1]) for f in layout.firsts] if live else None
        # what `launch` reads, per server: its slots are None when it has no shared worker
        in_order = [isinstance(p, InOrder) and p.in_order for p in self.policies]
        self._launch_state = [(self.times[s], self.slots[s] if any(self.slots[s]) else None, self.jitter[s],
                               in_order[s], *(b.append for b in self.batches[s]), self.scattered[s])
                              for s in range(n_srv)]
        # plain: no jitter, no shared worker, batches in index order, item batches worked out at the end
        self.plain = [self._launch_state[s][1] is None and jitter[s] is None and in_order[s] and not live
                      for s in range(n_srv)]

    def launch(self, s: int, out: Sequence[Launch], now: float) -> None:
        """Start the policy's batches `out` on server s at `now`."""
        if not self.plain[s]:
            self._launch_any(s, out, now)
            return
        times, _, _, _, add_worker, add_start, add_ms, add_size, add_first, scattered = self._launch_state[s]
        heap, seq = self.heap, self.seq
        for w, items in out:  # (`_launch_any` without the cases a plain server does not have)
            k, a = len(items), items[0]
            dur = times[w][k - 1]
            add_worker(w)
            add_start(now)
            add_ms(dur)
            add_size(k)
            if items[-1] - a + 1 == k:
                add_first(a)
                items = range(a, a + k)  # a run of consecutive items
            else:
                add_first(-1)
                scattered.append((len(self.batches[s][0]) - 1, items))
            heappush(heap, (now + dur, DONE, next(seq), s, w, items))

    def _launch_any(self, s: int, out: Sequence[Launch], now: float) -> None:
        """`launch` on any server: jitter, shared slots, live item batches, batches in any order."""
        times, slots, jitter, in_order, add_worker, add_start, add_ms, add_size, add_first, scattered = \
            self._launch_state[s]
        heap, seq = self.heap, self.seq
        for w, items in out:
            k, a = len(items), items[0]
            dur = times[w][k - 1]
            if jitter is not None:  # keyed by the batch's first item: the same draw on every path
                dur *= jitter[a] if not isinstance(jitter, tuple) else exp(jitter[1][w] + jitter[2][w] * jitter[0][a])
            start = now if slots is None or slots[w] is None else self._slot_start(slots[w], now, dur)
            if self.item_batch is not None:
                self._live_items(s, items, len(self.batches[s][0]))
            add_worker(w)
            add_start(start)
            add_ms(dur)
            add_size(k)
            if not in_order:
                a = min(items)   # (distinct items: a span of k is a run)
            if (items[-1] if in_order else max(items)) - a + 1 == k:
                add_first(a)
                items = range(a, a + k)  # a run of consecutive items
            else:
                add_first(-1)
                scattered.append((len(self.batches[s][0]) - 1, items))
            heappush(heap, (start + dur, DONE, next(seq), s, w, items))

    def _live_items(self, s: int, items: Sequence[int], q: int) -> None:
        """Server s's items went into its batch q."""
        for x in items:
            m, j = self.module_item(s, x)
            self.item_batch[m][j] = q

    def _slot_start(self, slot: tuple[int, float, float], now: float, dur: float) -> float:
        """A shared worker's start: its module's next slot, after the batch before it if that overran."""
        shared, offset, cycle = slot
        start = next_slot(now, offset, cycle)
        booked = self.booked[shared]
        booked[:] = [(b0, b1) for b0, b1 in booked if b1 > now - cycle]
        start = max([start] + [b1 for b0, b1 in booked if b0 < start])
        booked.append((start, start + dur))
        return start

    def received_items(self, s: int, count: int, now: float) -> None:
        """`count` more of server s's items arrived or were skipped; after the last, end its stream."""
        self.received[s] += count
        if count and self.received[s] == self.expected[s]:
            self.end_stream(s, now)

    def end_stream(self, s: int, now: float) -> None:
        """Every item of server s has arrived or been skipped: its policy sends what is left."""
        self.launch(s, self.policies[s].end_of_stream(now), now)

    def rearm(self, s: int, now: float) -> None:
        """Push a timer for server s if its policy asks for a new one."""
        at = self.policies[s].wake_at(now)
        if at is not None and at != self.timer_at[s]:
            self.timer_at[s] = at
            heappush(self.heap, (max(at, now), TIMER, next(self.seq), s, at, None))

    def on_timer(self, s: int, at: float, now: float) -> None:
        """A timer of server s fired (ignored if its policy has asked for another since)."""
        if at != self.timer_at[s]:
            return
        self.timer_at[s] = None
        out = self.policies[s].tick(now)
        if out:
            self.launch(s, out, now)
        self.rearm(s, now)

    def module_item(self, s: int, x: int) -> tuple[int, int]:
        """Server s's item x as (module, item of the module)."""
        if s < self.n_mod:
            return s, x
        return self.pool_module[s - self.n_mod][x], self.pool_item[s - self.n_mod][x]

    def server_item(self, m: int, j: int) -> int:
        """Module m's item j as its server's item."""
        return j if self.to_pool[m] is None else self.to_pool[m][j]

    def batch_arrays(self, s: int) -> tuple[np.ndarray, ...]:
        """Server s's batches: (worker, start, duration, size) arrays, in launch order."""
        return tuple(np.frombuffer(b, dtype=np.int64 if b.typecode == "q" else float).copy()
                     for b in self.batches[s][:4])

    def item_batch_arrays(self) -> list[np.ndarray]:
        """Per module, the batch (of its server) each item ran in, -1 if it never ran."""
        if self.item_batch is not None:
            return [np.array(ib, dtype=np.int64) for ib in self.item_batch]
        out = [self._server_item_batch(s) for s in range(self.n_mod)]
        for p, (modules, items) in enumerate(zip(self.layout.pool_module, self.layout.pool_item)):
            per_item = self._server_item_batch(self.n_mod + p)
            for k in np.unique(modules):
                mine = modules == k
                out[k][items[mine]] = per_item[mine]
        return out

    def _server_item_batch(self, s: int) -> np.ndarray:
        """The batch of each of server s's items (its index space), -1 if it never ran."""
        _, _, _, b_size, b_first = self.batches[s]
        out = np.full(self.expected[s], -1, dtype=np.int64)
        size, first = np.frombuffer(b_size, dtype=np.int64), np.frombuffer(b_first, dtype=np.int64)
        run = np.flatnonzero(first >= 0)
        if run.size:  # batch q holds first[q] .. first[q] + size[q] - 1
            out[run_indices(first[run], size[run])] = np.repeat(run, size[run])
        if self.scattered[s]:
            batch = np.repeat([q for q, _ in self.scattered[s]], [len(x) for _, x in self.scattered[s]])
            out[np.fromiter(itertools.chain.from_iterable(x for _, x in self.scattered[s]), np.int64,
                            batch.size)] = batch
        return out


def counter() -> Iterator[int]:
    """Event sequence numbers 1, 2, 3, ..."""
    return itertools.count(1)
