"""Per-request round-robin (Nexus and most serving systems): items go to the workers one at a
time in turn, and each worker batches what it alone receives.

Groups get their `rate` share of the stream by smooth weighted round-robin (each pick goes to
the group furthest behind its share, so a group's items are spread evenly); inside a group the
workers take turns. A worker of a group with share r_g over n_g workers sees r_g / n_g and fills
a batch of b in 1000 (b - 1) n_g / r_g ms: MODEL.md's W_rr = 1000 (b - 1) n / r + d.
"""

from __future__ import annotations

from collections import deque
from typing import Sequence

from skinflint.dispatch.base import EarlyClose, Launch, NOTHING, PolicyBase, Worker, check_workers


class RoundRobinPolicy(PolicyBase):
    """Weighted round-robin over groups, round-robin inside each, worker-local batching."""

    name = "round-robin"

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
        self.total = sum(weights)
        self.credit = [0.0] * len(weights)
        self.turn = [0] * len(weights)
        self.local: list[deque[tuple[int, float]]] = [deque() for _ in self.workers]
        self.idle = [True] * len(self.workers)
        self.ended = False

    def _next_worker(self) -> int:
        credit = self.credit
        for g, w in enumerate(self.weights):
            credit[g] += w
        g = max(range(len(credit)), key=credit.__getitem__)
        credit[g] -= self.total
        members = self.members[g]
        k = members[self.turn[g]]
        self.turn[g] = (self.turn[g] + 1) % len(members)
        return k

    def arrive(self, index: int, now: float, deadline: float) -> Sequence[Launch]:
        """Hand the item to the next worker in turn; start its batch when full and it is idle."""
        k = self._next_worker()
        self.local[k].append((index, deadline))
        if self.idle[k] and len(self.local[k]) >= self.workers[k].batch_size:
            return [self._start(k)]
        return NOTHING

    def skip(self, index: int, now: float) -> Sequence[Launch]:
        """Nothing waits for a skipped index."""
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
        """With early close: the earliest time an idle worker's local batch should leave."""
        if self.early_close is None:
            return None
        times = [self.early_close.next_time(now, q[0][1], self.workers[k], min(len(q), self.workers[k].batch_size))
                 for k, q in enumerate(self.local) if q and self.idle[k]]
        times = [t for t in times if t is not None]
        return min(times) if times else None

    def tick(self, now: float) -> Sequence[Launch]:
        """Start every idle worker whose local batch is due."""
        out = [self._start(k) for k in range(len(self.workers)) if self.idle[k] and self._ready(k, now)]
        return out or NOTHING

    def _ready(self, k: int, now: float) -> bool:
        queue = self.local[k]
        if not queue:
            return False
        if len(queue) >= self.workers[k].batch_size or self.ended:
            return True
        return self.early_close is not None and self.early_close.due(
            now, queue[0][1], self.workers[k], min(len(queue), self.workers[k].batch_size))

    def _start(self, k: int) -> Launch:
        queue = self.local[k]
        take = min(len(queue), self.workers[k].batch_size)
        self.idle[k] = False
        return (k, [queue.popleft()[0] for _ in range(take)])
