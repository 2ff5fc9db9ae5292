"""What a simulation leaves behind: every request's fate and every item's and batch's times.

Both executors (the event-driven engine and the vectorised fast path) fill the same `Trace`,
which is how the test compares them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

COMPLETED = 0
REFUSED = 1       # admission control: too many requests in flight
UNFINISHED = 2    # still in flight when the simulation stopped

DROP_REASONS = {REFUSED: "refused at admission (its estimate exceeded the SLO, or the bounded queue was full)",
                UNFINISHED: "unfinished: still in flight when the simulation stopped (drain_s)"}


@dataclass
class ModuleTrace:
    """One module: each item's request and arrival time (`ready_ms`, NaN if its request was
    dropped first) and batch number (-1: never ran); each batch's worker, start, duration, size.
    `item_batch` may be given as None when batches took consecutive items in index order (the
    fast path); it is then derived from the batch sizes when first read."""

    name: str
    item_request: np.ndarray
    ready_ms: np.ndarray
    _item_batch: np.ndarray | None
    batch_worker: np.ndarray
    batch_start_ms: np.ndarray
    batch_ms: np.ndarray
    batch_size: np.ndarray

    @property
    def item_batch(self) -> np.ndarray:
        """Batch number of each item (-1: never ran)."""
        if self._item_batch is None:
            self._item_batch = np.repeat(np.arange(self.batch_size.size, dtype=np.int64), self.batch_size)
        return self._item_batch

    @property
    def ran(self) -> np.ndarray:
        """Mask of the items that ran."""
        return self.item_batch >= 0

    @property
    def start_ms(self) -> np.ndarray:
        """Start of each item's batch (NaN if it never ran)."""
        return _per_item(self.batch_start_ms, self.item_batch)

    @property
    def done_ms(self) -> np.ndarray:
        """End of each item's batch (NaN if it never ran)."""
        return _per_item(self.batch_start_ms + self.batch_ms, self.item_batch)

    @property
    def item_worker(self) -> np.ndarray:
        """Worker of each item (-1 if it never ran)."""
        out = np.full(self.item_batch.shape, -1, dtype=np.int64)
        ran = self.ran
        out[ran] = self.batch_worker[self.item_batch[ran]]
        return out


def _per_item(per_batch: np.ndarray, item_batch: np.ndarray) -> np.ndarray:
    out = np.full(item_batch.shape, np.nan)
    ran = item_batch >= 0
    out[ran] = per_batch[item_batch[ran]]
    return out


@dataclass
class Trace:
    """Every request's arrival, completion (NaN if dropped) and fate (COMPLETED or a drop code)."""

    arrival_ms: np.ndarray
    done_ms: np.ndarray
    fate: np.ndarray
    modules: tuple[ModuleTrace, ...]

    @property
    def latency_ms(self) -> np.ndarray:
        """End-to-end latency of each completed request (in request order)."""
        ok = self.fate == COMPLETED
        return self.done_ms[ok] - self.arrival_ms[ok]
