"""Adaptive batch-aware dispatch for real traffic: one queue in arrival order; whenever workers
are idle, the idle worker with the largest batch that the queue can already fill takes it.

Under uniform arrivals this is MODEL.md's greedy rule, which does *not* guarantee W (it can hand
a small-batch worker a run the cycle meant for a large one); under bursts it drains a backlog
with whatever is free instead of waiting for a worker's turn. Measured against the cyclic policy
in docs/simulator.md.
"""

from __future__ import annotations

from collections import deque
from typing import Sequence

from skinflint.dispatch.base import EarlyClose, Launch, NOTHING, PolicyBase, Worker, check_workers


class AdaptivePolicy(PolicyBase):
    """Greedy largest-fitting-batch dispatch over idle workers, with optional early close."""

    name = "adaptive"
    eager = False   # True: an idle worker never waits for a full batch (dispatch.central_queue)

    def __init__(self, workers: Sequence[Worker], early_close: EarlyClose | None = None) -> None:
        self.workers = check_workers(workers)
        self.early_close = early_close
        # idle workers, best first: largest batch, then fastest full batch, then index
        self._rank = sorted(range(len(self.workers)),
                            key=lambda k: (-self.workers[k].batch_size, self.workers[k].full_ms, k))
        self.idle = [True] * len(self.workers)
        self.queue: deque[tuple[int, float]] = deque()   # (index, deadline), arrival order
        self.ended = False

    def arrive(self, index: int, now: float, deadline: float) -> Sequence[Launch]:
        """Queue the item; start whatever batches idle workers can take."""
        self.queue.append((index, deadline))
        return self._dispatch(now)

    def skip(self, index: int, now: float) -> Sequence[Launch]:
        """Nothing waits for a skipped index in arrival order."""
        return NOTHING

    def worker_done(self, worker: int, now: float) -> Sequence[Launch]:
        """The worker is idle again."""
        self.idle[worker] = True
        return self._dispatch(now)

    def end_of_stream(self, now: float) -> Sequence[Launch]:
        """Send what is left, partial batches included."""
        self.ended = True
        return self._dispatch(now)

    def wake_at(self, now: float) -> float | None:
        """With early close: when the oldest queued item should leave on the best idle worker."""
        if self.early_close is None or not self.queue:
            return None
        best = self._best_idle()
        if best is None:
            return None
        size = min(len(self.queue), self.workers[best].batch_size)
        return self.early_close.next_time(now, self.queue[0][1], self.workers[best], size)

    def backlog(self) -> int:
        """The queue while every worker is busy (with one idle it is the batch being collected)."""
        return 0 if any(self.idle) else len(self.queue)

    def tick(self, now: float) -> Sequence[Launch]:
        """A timer fired: early-close if due."""
        return self._dispatch(now)

    def _best_idle(self) -> int | None:
        for k in self._rank:
            if self.idle[k]:
                return k
        return None

    def _dispatch(self, now: float) -> Sequence[Launch]:
        out: list[Launch] = []
        queue, idle, workers = self.queue, self.idle, self.workers
        while queue:
            size = len(queue)
            pick = next((k for k in self._rank if idle[k] and workers[k].batch_size <= size), None)
            if pick is None:
                best = self._best_idle()
                if best is None:
                    break
                due = self.early_close is not None and self.early_close.due(
                    now, queue[0][1], workers[best], min(size, workers[best].batch_size))
                if not (self.ended or due or self.eager):
                    break
                pick = best
            take = min(size, workers[pick].batch_size)
            out.append((pick, [queue.popleft()[0] for _ in range(take)]))
            idle[pick] = False
        return out or NOTHING
