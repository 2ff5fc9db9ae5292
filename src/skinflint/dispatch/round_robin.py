"""Per-request round-robin (Nexus and most serving systems): items go to the workers one at a
time in turn, and each worker batches what it alone receives.

Groups get their `rate` share of the stream in the order of their ideal pick times: group g's
k-th pick ideally falls at item (k + 1/2) R / r_g (R the total rate), and each item goes to the
group whose next ideal time is earliest, so group g's k-th item is within G - 1 items (G groups)
of that ideal uniform sequence; inside a group the workers take turns. A worker of a group with
share r_g over n_g workers sees r_g / n_g and fills a batch of b in 1000 (b - 1) n_g / r_g ms:
MODEL.md's W_rr = 1000 (b - 1) n / r + d, plus at most (G - 1) gaps of the module's stream where
G > 1 (`model.rr_share_lag_ms`; a smooth weighted round-robin has the same kind of deviation).

Turns are dealt in *index* (request) order, and a worker's batch is its next b items in that
order: an item that overtakes an earlier one of the same worker waits for it (a reorder buffer,
as in the cyclic policy). Dealing in arrival order lets items of requests that left a fast
upstream batch overtake those of a slow one and breaks the end-to-end bound downstream of a
round-robin module (docs/baselines.md, "nexus on the traffic app").

A round-robin share on a shared worker (`Worker.collect_offset_ms` set) does not wait for a full
batch: at each start of its slot (offset + k * cycle) it runs what it has collected, up to b —
Nexus's duty cycle, the `W = T_s + d` rule of verify. It asks for a timer at its next slot.
"""

from __future__ import annotations

from collections import deque
from typing import Sequence

from skinflint.dispatch.base import EarlyClose, InOrder, Launch, NOTHING, PolicyBase, Worker, check_workers, next_slot

_SKIPPED = None
_EPS = 1e-9


class RoundRobinPolicy(PolicyBase, InOrder):
    """Weighted round-robin over groups, round-robin inside each, worker-local batching in index
    order (declares `InOrder`)."""

    name = "round-robin"
    in_order = True   # a worker's batch is its next items in index order

    def __init__(self, workers: Sequence[Worker], early_close: EarlyClose | None = None,
                 group_rates: Sequence[float] | None = None) -> None:
        self.workers = check_workers(workers)
        self.early_close = early_close
        groups = sorted({w.group for w in self.workers})
        self.members = [[k for k, w in enumerate(self.workers) if w.group == g] for g in groups]
        if group_rates is None:  # no shares given: by capacity n * b / d
            weights = [sum(self.workers[k].batch_size / self.workers[k].full_ms for k in m) for m in self.members]
        else:
            weights = [float(group_rates[g]) for g in groups]
        if any(w <= 0 for w in weights):
            raise ValueError(f"round-robin group weights must be positive (got {weights})")
        self.weights = weights
        self.picks = [0] * len(weights)
        self.turn = [0] * len(weights)
        self.dealt = 0                                    # indices < dealt have a worker
        self.owner: dict[int, int] = {}                   # dealt, not yet run: index -> worker
        self.turns: list[deque[int]] = [deque() for _ in self.workers]   # each worker's indices, in order
        self.here: dict[int, float] = {}                  # arrived, not yet run: index -> deadline
        self.idle = [True] * len(self.workers)
        self.ended = False

    # -- dealing turns --------------------------------------------------------------------------
    def _next_worker(self) -> int:
        picks, weights = self.picks, self.weights
        g = min(range(len(weights)), key=lambda h: (picks[h] + 0.5) / weights[h])
        picks[g] += 1
        members = self.members[g]
        k = members[self.turn[g]]
        self.turn[g] = (self.turn[g] + 1) % len(members)
        return k

    def _deal_through(self, index: int) -> None:
        while self.dealt <= index:
            k = self._next_worker()
            self.owner[self.dealt] = k
            self.turns[k].append(self.dealt)
            self.dealt += 1

    def _present(self, k: int) -> int:
        """How many of worker k's next items (at most b) have arrived, in order."""
        turns, here, b = self.turns[k], self.here, self.workers[k].batch_size
        count = 0
        for index in turns:
            if count == b or index not in here:
                break
            count += 1
        return count

    # -- the protocol ---------------------------------------------------------------------------
    def arrive(self, index: int, now: float, deadline: float) -> Sequence[Launch]:
        """Hand the item to its worker; start that worker's batch when full and it is idle."""
        self._deal_through(index)
        self.here[index] = deadline
        k = self.owner[index]
        if self.idle[k] and self._ready(k, now):
            return [self._start(k)]
        return NOTHING

    def skip(self, index: int, now: float) -> Sequence[Launch]:
        """Take a skipped index out of its worker's turns (the items after it no longer wait)."""
        self._deal_through(index)
        k = self.owner.pop(index)
        self.turns[k].remove(index)
        if self.idle[k] and self._ready(k, now):
            return [self._start(k)]
        return NOTHING

    def worker_done(self, worker: int, now: float) -> Sequence[Launch]:
        """Start the worker's next batch if it is full (or due, or the stream ended)."""
        self.idle[worker] = True
        if self._ready(worker, now):
            return [self._start(worker)]
        return NOTHING

    def end_of_stream(self, now: float) -> Sequence[Launch]:
        """Idle workers send their partial batches; busy ones will when they finish."""
        self.ended = True
        return self.tick(now)

    def wake_at(self, now: float) -> float | None:
        """The next slot of an idle shared worker holding items; with early close, also the
        earliest time an idle worker's local batch should leave."""
        times = []
        for k, w in enumerate(self.workers):
            if not self.idle[k] or not self._present(k):
                continue
            if w.collect_offset_ms is not None:
                times.append(next_slot(now, w.collect_offset_ms, w.slot_wait_ms))
            elif self.early_close is not None:
                head = self.here[self.turns[k][0]]
                times.append(self.early_close.next_time(now, head, w, self._present(k)))
        times = [t for t in times if t is not None]
        return min(times) if times else None

    def tick(self, now: float) -> Sequence[Launch]:
        """Start every idle worker whose local batch is due."""
        out = [self._start(k) for k in range(len(self.workers)) if self.idle[k] and self._ready(k, now)]
        return out or NOTHING

    # -- internals ------------------------------------------------------------------------------
    def _ready(self, k: int, now: float) -> bool:
        present = self._present(k)
        if not present:
            return False
        w = self.workers[k]
        if w.collect_offset_ms is not None:  # runs what it has at each of its slot starts
            return next_slot(now, w.collect_offset_ms, w.slot_wait_ms) <= now + _EPS * max(1.0, abs(now))
        if present >= w.batch_size or (self.ended and present == len(self.turns[k])):
            return True
        return self.early_close is not None and self.early_close.due(
            now, self.here[self.turns[k][0]], w, present)

    def _start(self, k: int) -> Launch:
        take = self._present(k)
        turns = self.turns[k]
        batch = [turns.popleft() for _ in range(take)]
        for index in batch:
            del self.here[index]
            del self.owner[index]
        self.idle[k] = False
        return (k, batch)

