"""InferLine's dispatch (Crankshaw et al., SoCC'20): one queue per module in arrival order; an
idle worker takes up to its batch size of what is queued, at once — it never waits for a batch
to fill. The plan's `central-queue` kind (docs/baselines.md, "inferline").

It is the adaptive policy's queue made work-conserving. Every decision is deferred to a timer at
the same instant (`wake_at(now)`), which the simulator runs after every completion and release
at that instant and the runtime runs at once: items that arrive together (a request's crops, a
parent batch's requests) are queued together before an idle worker takes them, as a real queue
that receives them in one message would. No worst-case bound: its tail latency is simulated.
"""

from __future__ import annotations

from typing import Sequence

from skinflint.dispatch.adaptive import AdaptivePolicy
from skinflint.dispatch.base import NOTHING, Launch


class CentralQueuePolicy(AdaptivePolicy):
    """Work-conserving central queue: an idle worker takes min(queued, b) items (early close is moot)."""

    name = "central-queue"
    eager = True
    needs_timers = True   # every decision is a timer (the simulator runs timers only where asked)

    def arrive(self, index: int, now: float, deadline: float) -> Sequence[Launch]:
        """Queue the item; the idle workers take it at this instant's timer."""
        self.queue.append((index, deadline))
        return NOTHING

    def worker_done(self, worker: int, now: float) -> Sequence[Launch]:
        """The worker is idle again; it takes what is queued at this instant's timer."""
        self.idle[worker] = True
        return NOTHING

    def wake_at(self, now: float) -> float | None:
        """Now, while items wait and a worker is idle."""
        return now if self.queue and any(self.idle) else None
