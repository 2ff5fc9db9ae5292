"""One thread that calls functions at given times (ms on the runtime's clock): the policies'
`wake_at` timers (deadline-aware early close, round-robin slot starts) and the pools' numbering.

A timer's function gets the time it was scheduled for, not the time the thread woke: a real
thread wakes a little late, and a policy asked "is the slot at 40.0 ms due?" at 40.2 ms would
otherwise answer "the next one is" and never run it (a round-robin share on a shared worker), or
find a padded partial batch no longer able to make its deadline. A function that raises is
reported (a warning) and the thread goes on: one failing timer must not stop every other.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import warnings
from typing import Callable


class Timers:
    """A heap of (time, sequence, function); `schedule` wakes the thread when the head changes."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self._heap: list = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._stopped = False
        self.errors = 0
        self._thread = threading.Thread(target=self._loop, name="timers", daemon=True)
        self._thread.start()

    def schedule(self, at_ms: float, fn: Callable[[float], None]) -> None:
        """Call `fn(at_ms)` at `at_ms` (at once if that has passed)."""
        with self._cond:
            heapq.heappush(self._heap, (at_ms, next(self._seq), fn))
            self._cond.notify()

    def close(self) -> None:
        """Stop; pending timers are dropped."""
        with self._cond:
            self._stopped = True
            self._cond.notify()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._stopped:
                    if not self._heap:
                        self._cond.wait()
                        continue
                    wait = (self._heap[0][0] - self.clock()) / 1000.0
                    if wait <= 0:
                        break
                    self._cond.wait(wait)
                if self._stopped:
                    return
                at, _, fn = heapq.heappop(self._heap)
            try:
                fn(at)
            except Exception as e:  # noqa: BLE001 - report it, keep serving the other timers
                self.errors += 1
                warnings.warn(f"a runtime timer failed: {type(e).__name__}: {e}", RuntimeWarning, stacklevel=1)
