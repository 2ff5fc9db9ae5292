"""One thread that calls functions at given times (ms on the runtime's clock): the policies'
`wake_at` timers (deadline-aware early close)."""

from __future__ import annotations

import heapq
import itertools
import threading
from typing import Callable


class Timers:
    """A heap of (time, sequence, function); `schedule` wakes the thread when the head changes."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self._heap: list = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._loop, name="timers", daemon=True)
        self._thread.start()

    def schedule(self, at_ms: float, fn: Callable[[], None]) -> None:
        """Call `fn()` at `at_ms` (at once if that has passed)."""
        with self._cond:
            heapq.heappush(self._heap, (at_ms, next(self._seq), fn))
            self._cond.notify()

    def close(self) -> None:
        """Stop; pending timers are dropped."""
        with self._cond:
            self._stopped = True
            self._cond.notify()
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
                _, _, fn = heapq.heappop(self._heap)
            fn()
