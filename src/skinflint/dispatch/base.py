"""What every dispatch policy is told and what it answers: clock-free, integer-indexed.

A policy serves one module. Its caller (the simulator, later the runtime) tells it, each time
with the current time `now` in ms, that an item arrived, that a worker finished, that a timer it
asked for fired, or that the stream ended; the policy answers with the batches to start now.
It never reads a clock and never sleeps, so a simulated clock and a real one drive it alike.

Items are the module's integer indices 0, 1, 2, ... in request order (the caller numbers them);
a policy that needs request order (the cyclic one) restores it from the indices.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol, Sequence, runtime_checkable

Launch = tuple[int, list[int]]
"""A decision: start this batch of item indices on worker `launch[0]` now."""

NOTHING: tuple[Launch, ...] = ()


@dataclass(frozen=True)
class Worker:
    """What a policy knows of one worker: its batch size, the time of a batch of k items
    (`times_ms[k - 1]`, effective and padded, MODEL.md), the wait for its slot when it is a shared
    worker (one shared cycle, else 0), and its group in the module plan. `collect_offset_ms`: set
    for a round-robin share on a shared worker, which collects its own items and runs them at each
    slot start, offset + k * slot_wait_ms (None: the worker batches as its policy says)."""

    batch_size: int
    times_ms: tuple[float, ...]
    slot_wait_ms: float = 0.0
    group: int = 0
    collect_offset_ms: float | None = None

    def __post_init__(self) -> None:
        if self.batch_size < 1 or len(self.times_ms) != self.batch_size:
            raise ValueError(f"worker needs batch_size >= 1 and one time per size (got {self.batch_size}, "
                             f"{len(self.times_ms)} times)")

    @property
    def full_ms(self) -> float:
        """Time of a full batch: d(h, b)."""
        return self.times_ms[-1]


RUNTIME_CLOSE_MARGIN_MS = 5.0
"""The margin the runtime closes early with (a real clock's timers fire late by a little), and so
the simulator when it simulates a plan as the runtime serves it (sim.attainment)."""


@dataclass(frozen=True)
class EarlyClose:
    """Deadline-aware early close: send a partial batch to an idle worker once its oldest item
    could otherwise no longer make its deadline — at `deadline - (slot wait + full batch time) -
    margin_ms` — while the partial batch can still make it. A batch that cannot is left to fill
    (cutting it small would only cost throughput when it matters most, overload), but only until
    its oldest item's deadline: then it leaves with what it has, late anyway, so that no request
    waits for items that may never come (at low load a batch may never fill)."""

    margin_ms: float = 0.0

    def close_at(self, oldest_deadline: float, worker: Worker) -> float:
        """Latest time a batch whose oldest item has this deadline may leave for `worker`."""
        return oldest_deadline - worker.slot_wait_ms - worker.full_ms - self.margin_ms

    def can_make(self, now: float, oldest_deadline: float, worker: Worker, size: int) -> bool:
        """Would a batch of `size` leaving now for `worker` still end by the deadline?"""
        return now + worker.slot_wait_ms + worker.times_ms[size - 1] <= oldest_deadline

    def due(self, now: float, oldest_deadline: float, worker: Worker, size: int) -> bool:
        """Close now: the close time has come and closing still helps, or the deadline has passed."""
        return now >= self.close_at(oldest_deadline, worker) and (
            self.can_make(now, oldest_deadline, worker, size) or now >= oldest_deadline)

    def next_time(self, now: float, oldest_deadline: float, worker: Worker, size: int) -> float | None:
        """When to look again (>= now): the close time, now if closing still helps, else the
        deadline (never None: every partial batch leaves by its deadline at the latest)."""
        at = self.close_at(oldest_deadline, worker)
        if now < at:
            return at
        return now if self.can_make(now, oldest_deadline, worker, size) else max(now, oldest_deadline)


class DispatchPolicy(Protocol):
    """One module's dispatcher. Every method takes the current time and returns the batches to
    start now, each on an idle worker (a policy never gives a busy worker a batch)."""

    name: str

    def arrive(self, index: int, now: float, deadline: float) -> Sequence[Launch]:
        """Item `index` arrived; it should be done by `deadline` (ms, same clock as `now`)."""
        ...

    def arrive_run(self, start: int, stop: int, now: float, deadline: float) -> Sequence[Launch]:
        """Items start .. stop - 1 (one request's) arrived together, all due by `deadline`."""
        ...

    def skip(self, index: int, now: float) -> Sequence[Launch]:
        """Item `index` will never arrive (its request was dropped upstream)."""
        ...

    def worker_done(self, worker: int, now: float) -> Sequence[Launch]:
        """Worker `worker` finished its batch and is idle."""
        ...

    def end_of_stream(self, now: float) -> Sequence[Launch]:
        """No item will arrive any more: send what is left."""
        ...

    def wake_at(self, now: float) -> float | None:
        """When (>= now) the policy wants `tick` to be called next (None: no timer wanted)."""
        ...

    def tick(self, now: float) -> Sequence[Launch]:
        """A timer asked for with `wake_at` fired."""
        ...

    def backlog(self) -> int:
        """Items that wait for a busy worker (in batches closed, or for workers, that are busy):
        the queue admission reads (skinflint.admission), not the batch still being collected."""
        ...


@runtime_checkable
class OpenBatch(Protocol):
    """Optional, for a policy that fills one open batch in index order (the cyclic one). A caller
    that sees the open batch can never fill — the index it waits for belongs to a request that
    needs an item inside it (a pool that feeds itself) — closes it with `close_open`."""

    def waits_for(self) -> int | None:
        """The index the open batch waits for next (None: no open batch)."""
        ...

    def is_queued(self, index: int) -> bool:
        """Item `index` is in a closed batch waiting for its busy worker (it runs without more arrivals)."""
        ...

    def close_open(self, now: float) -> Sequence[Launch]:
        """Close the open, partial batch now."""
        ...


@runtime_checkable
class InOrder(Protocol):
    """Optional, for a policy whose every batch lists its items in increasing index order: a
    batch whose first and last items are (size - 1) apart is then a run of consecutive items
    (callers use it to handle a run as a whole)."""

    in_order: bool


class PolicyBase:
    """Shared default: a run of items arrives as its items one by one."""

    def arrive(self, index: int, now: float, deadline: float) -> Sequence[Launch]:  # pragma: no cover
        raise NotImplementedError

    def arrive_run(self, start: int, stop: int, now: float, deadline: float) -> Sequence[Launch]:
        """Items start .. stop - 1 arrived together, all due by `deadline`."""
        out: list[Launch] = []
        for index in range(start, stop):
            out.extend(self.arrive(index, now, deadline))
        return out


def next_slot(now: float, offset_ms: float, cycle_ms: float) -> float:
    """The first start of a shared worker's slot (offset + k * cycle, k >= 0) at or after `now`."""
    k = math.ceil((now - offset_ms) / cycle_ms - 1e-9)
    return offset_ms + max(k, 0) * cycle_ms


def check_workers(workers: Sequence[Worker]) -> list[Worker]:
    """The workers as a list; a module needs at least one."""
    out = list(workers)
    if not out:
        raise ValueError("a dispatch policy needs at least one worker")
    return out


INF = math.inf
