"""Batch-aware dispatch as MODEL.md states it: cut the stream into runs of consecutive items,
one batch per worker, handed to the workers in a fixed cyclic order.

Worker k of the cycle gets one batch of b_k every T = 1000 * sum(b) / r ms, so under uniform
arrivals it is free again (d_k <= T) and no item waits longer than W = 1000 (b - 1) / r + d.

Runs are cut in *index* order, not arrival order: an item that overtakes an earlier one (its
request left a fast upstream worker before the earlier one left a slow one) waits in a small
reorder buffer. Cutting in arrival order breaks the end-to-end bound downstream of mixed
configurations (docs/simulator.md gives the case).
"""

from __future__ import annotations

from collections import deque
from typing import Sequence

from skinflint.dispatch.base import (EarlyClose, INF, InOrder, Launch, NOTHING, OpenBatch, PolicyBase, Worker,
                                    check_workers)

_SKIPPED = None


class CyclicPolicy(PolicyBase, OpenBatch, InOrder):
    """Fixed cyclic batch-aware dispatch, in index order, with optional deadline-aware early close;
    declares `OpenBatch` (a caller may close its open batch) and `InOrder`."""

    name = "cyclic"
    in_order = True   # batches are cut from the stream in index order

    def __init__(self, workers: Sequence[Worker], early_close: EarlyClose | None = None) -> None:
        self.workers = check_workers(workers)
        self.sizes = [w.batch_size for w in self.workers]
        self.early_close = early_close
        self.turn = 0                      # the worker the open batch is for
        self.open: list[int] = []          # consecutive indices of the open batch
        self.oldest_deadline = INF
        self.next_index = 0                # the index the open batch waits for
        self.ahead: dict[int, float | None] = {}   # overtaking arrivals (None = skipped)
        self.queued: list[deque[list[int]]] = [deque() for _ in self.workers]
        self.busy = [False] * len(self.workers)
        self.ended = False
        self._out: list[Launch] = []

    # -- the protocol ---------------------------------------------------------------------------
    def arrive(self, index: int, now: float, deadline: float) -> Sequence[Launch]:
        """Add the item; close the open batch when it is full."""
        if index != self.next_index:
            self.ahead[index] = deadline
            return NOTHING
        self._take(index, deadline)
        if self.ahead:
            self._drain_ahead()
        return self._flush()

    def arrive_run(self, start: int, stop: int, now: float, deadline: float) -> Sequence[Launch]:
        """Add a run of items at once (one request's), cutting batches where they fill."""
        if start != self.next_index:
            for index in range(start, stop):
                self.ahead[index] = deadline
            return NOTHING
        open_ = self.open
        room = self.sizes[self.turn] - len(open_)
        if stop - start < room and not self.ahead:  # the open batch stays open
            if not open_:
                self.oldest_deadline = deadline
            if stop - start == 1:
                open_.append(start)
            else:
                open_.extend(range(start, stop))
            self.next_index = stop
            return NOTHING
        if stop - start == room == 1 and not self.ahead:  # one item fills it (`_cut`'s case, without the call)
            open_.append(start)
            self.next_index = stop
            self._close()
            return self._flush()
        self._cut(start, stop, deadline)
        self.next_index = stop
        if self.ahead:
            self._drain_ahead()
        return self._flush()

    def skip(self, index: int, now: float) -> Sequence[Launch]:
        """Pass over an index that will never come."""
        if index != self.next_index:
            self.ahead[index] = _SKIPPED
            return NOTHING
        self.next_index += 1
        self._drain_ahead()
        return self._flush()

    def worker_done(self, worker: int, now: float) -> Sequence[Launch]:
        """Start the worker's next closed batch, if one waits."""
        queue = self.queued[worker]
        if queue:  # (`_out` is empty between calls: every call that fills it flushes it)
            self.busy[worker] = True
            return [(worker, queue.popleft())]
        self.busy[worker] = False
        return NOTHING

    def end_of_stream(self, now: float) -> Sequence[Launch]:
        """Close the last, partial batch."""
        self.ended = True
        if self.open:
            self._close()
        return self._flush()

    def close_open(self, now: float) -> Sequence[Launch]:
        """Close the open, partial batch now: for a caller that sees it can never fill because
        the item it waits for depends on an item inside it (a pool that feeds itself)."""
        if self.open:
            self._close()
        return self._flush()

    def waits_for(self) -> int | None:
        """The index the open batch waits for (None: no open batch)."""
        return self.next_index if self.open else None

    def is_queued(self, index: int) -> bool:
        """Item `index` is in a closed batch waiting for its busy worker."""
        return any(index in batch for queue in self.queued for batch in queue)

    def wake_at(self, now: float) -> float | None:
        """With early close: when the open batch should leave for its (idle) worker."""
        if self.early_close is None or not self.open or self.busy[self.turn]:
            return None
        return self.early_close.next_time(now, self.oldest_deadline, self.workers[self.turn], len(self.open))

    def backlog(self) -> int:
        """Items of closed batches waiting for their busy worker."""
        return sum(len(batch) for queue in self.queued for batch in queue)

    def tick(self, now: float) -> Sequence[Launch]:
        """Close the open batch early if that is due and still helps."""
        if (self.early_close is not None and self.open and not self.busy[self.turn]
                and self.early_close.due(now, self.oldest_deadline, self.workers[self.turn], len(self.open))):
            self._close()
        return self._flush()

    # -- internals ------------------------------------------------------------------------------
    def _take(self, index: int, deadline: float) -> None:
        if not self.open:
            self.oldest_deadline = deadline
        self.open.append(index)
        self.next_index = index + 1
        if len(self.open) == self.sizes[self.turn]:
            self._close()

    def _drain_ahead(self) -> None:
        ahead = self.ahead
        while self.next_index in ahead:
            deadline = ahead.pop(self.next_index)
            if deadline is _SKIPPED:
                self.next_index += 1
            else:
                self._take(self.next_index, deadline)

    def _cut(self, start: int, stop: int, deadline: float) -> None:
        """Items start .. stop - 1 join the open batch, closing it each time it fills (as `_close`,
        inline: this runs for most batches)."""
        sizes, busy, out, open_, turn = self.sizes, self.busy, self._out, self.open, self.turn
        while start < stop:
            if not open_:
                self.oldest_deadline = deadline
            take = sizes[turn] - len(open_)
            if stop - start < take:
                open_.extend(range(start, stop))
                break
            open_.extend(range(start, start + take))
            start += take
            if busy[turn]:
                self.queued[turn].append(open_)
            else:
                busy[turn] = True
                out.append((turn, open_))
            open_, self.oldest_deadline = [], INF
            turn = (turn + 1) % len(sizes)
        self.open, self.turn = open_, turn

    def _close(self) -> None:
        batch, self.open, self.oldest_deadline = self.open, [], INF
        worker = self.turn
        self.turn = (worker + 1) % len(self.sizes)
        if self.busy[worker]:
            self.queued[worker].append(batch)
        else:
            self.busy[worker] = True
            self._out.append((worker, batch))

    def _flush(self) -> Sequence[Launch]:
        if not self._out:
            return NOTHING
        out, self._out = self._out, []
        return out
