"""One batch at a time, in the order the driver numbered them, inside a Ray actor.

A worker actor may run with a few threads (`max_concurrency`, ray_backend.ACTOR_THREADS) so that
while one batch runs its model the next batch's task is already received; its tasks may then
start out of order. The model must still run one batch at a time and in order, so each call
carries the driver's sequence number and waits for its turn here. With one thread (today's
default) Ray runs a caller's tasks in submission order, and the numbers matter only after a
restart, when in-flight batches come again.

- A call runs when no other is running, no lower number is waiting, and every lower number has
  run (or is older than the first this actor saw: a restarted actor gets its in-flight batches again, maybe out of order,
  and must not wait for numbers that ran before the restart).
- A call never waits for a missing number longer than `wait_s`: after that it runs as soon as the
  model is free (one at a time always holds; the order is given up, not liveness).
"""

from __future__ import annotations

import contextlib
import threading
from typing import Iterator

WAIT_S = 1.0          # a lower number in transit arrives within ms; a longer wait only stalls the model


class Turns:
    """Admits calls numbered 0, 1, 2, ... one at a time, lowest first."""

    def __init__(self, first: int | None = 0, wait_s: float = WAIT_S) -> None:
        """`first`: the number the driver starts at; None for an actor Ray restarted (its first
        call sets it)."""
        self.wait_s = wait_s
        self._cond = threading.Condition()
        self._next = first          # the lowest number that has not run yet
        self._busy = False
        self._waiting: set[int] = set()

    @contextlib.contextmanager
    def turn(self, seq: int) -> Iterator[None]:
        """Hold the model for call `seq`: wait for its turn, run, let the next one in."""
        with self._cond:
            if self._next is None:
                self._next = seq
            self._waiting.add(seq)
            self._cond.wait_for(lambda: self._free(seq) and seq <= self._next, timeout=self.wait_s)
            self._cond.wait_for(lambda: self._free(seq))
            self._waiting.discard(seq)
            self._busy = True
        try:
            yield
        finally:
            with self._cond:
                self._busy = False
                self._next = max(self._next, seq + 1)
                self._cond.notify_all()

    def _free(self, seq: int) -> bool:
        """The model is idle and no lower number is waiting for it (lock held)."""
        return not self._busy and seq == min(self._waiting)
