"""The vectorised fast path for cyclic batch-aware dispatch without early close.

With a fixed cyclic order, batch q is items [S_q, S_q + b) of the module (index order), its fill
time is the latest arrival among items 0 .. S_q + b - 1, and worker w's start times are a running maximum:
    s_k = max(fill_k, s_{k-1} + dur_{k-1})   =>   s = cummax(fill - D) + D,  D = prefix sum of dur,
and for a shared worker's slot, s_k = max(next_slot(fill_k), s_{k-1} + T_s). Modules are done
in topological order, each in a handful of numpy passes. Same inputs, same Trace as the engine.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from skinflint.topology import SimModel, SimModule
from skinflint.sim.trace import COMPLETED, UNFINISHED, ModuleTrace, Trace


def supports(sm: SimModel, jitter: bool) -> bool:
    """The fast path applies when shared workers' slots cannot overrun (no jitter, slots fit)."""
    if not sm.shared_hardware:
        return True
    if jitter:
        return False
    total: dict[int, float] = {}
    for m in sm.modules:
        for w in m.workers:
            if w.shared >= 0:
                total[w.shared] = total.get(w.shared, 0.0) + w.worker.full_ms
                if total[w.shared] > w.cycle_ms * (1 + 1e-9):
                    return False
    return True


def next_slots(t: np.ndarray, offset_ms: float, cycle_ms: float) -> np.ndarray:
    """Vectorised `engine.next_slot`."""
    k = np.maximum(np.ceil((t - offset_ms) / cycle_ms - 1e-9), 0.0)
    return offset_ms + k * cycle_ms


def _batches(m: SimModule, n_items: int) -> tuple[np.ndarray, np.ndarray]:
    """(first item, worker) of each batch: workers take runs of their batch size in cycle order."""
    sizes = np.array([w.worker.batch_size for w in m.workers], dtype=np.int64)
    if np.all(sizes == sizes[0]):
        starts = np.arange(0, n_items, int(sizes[0]), dtype=np.int64)
        return starts, np.arange(starts.size, dtype=np.int64) % sizes.size
    offsets = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    cycles = -(-n_items // int(sizes.sum()))
    starts = (np.arange(cycles, dtype=np.int64)[:, None] * int(sizes.sum()) + offsets[None, :]).ravel()
    starts = starts[starts < n_items]
    return starts, np.arange(starts.size, dtype=np.int64) % sizes.size


def _run_module(m: SimModule, ready: np.ndarray, jitter: np.ndarray | None) -> tuple[np.ndarray, ...]:
    """(worker, start, duration, size) of each batch of one module's items (index order)."""
    n_items = ready.size
    if n_items == 0:
        empty = np.zeros(0)
        return empty.astype(np.int64), empty, empty, empty.astype(np.int64)
    starts, worker = _batches(m, n_items)
    size = np.empty_like(starts)
    size[:-1] = np.diff(starts)
    size[-1] = n_items - starts[-1]
    # a run leaves when it and every earlier item have arrived (runs are cut in index order);
    # the partial last run leaves at the end of the stream, i.e. also after every item arrived
    fill = np.maximum.accumulate(np.maximum.reduceat(ready, starts))
    width = max(w.worker.batch_size for w in m.workers)
    table = np.array([w.worker.times_ms + (math.nan,) * (width - w.worker.batch_size) for w in m.workers])
    dur = table[worker, size - 1]
    if jitter is not None:
        dur = dur * jitter[starts]  # keyed by the batch's first item, as in the engine
    start = np.empty_like(fill)
    n_workers = len(m.workers)
    for k, w in enumerate(m.workers):
        f, d = fill[k::n_workers], dur[k::n_workers]
        if w.shared < 0:
            before = np.concatenate(([0.0], np.cumsum(d)[:-1]))
            start[k::n_workers] = np.maximum.accumulate(f - before) + before
        else:
            turns = np.arange(f.size) * w.cycle_ms
            start[k::n_workers] = np.maximum.accumulate(next_slots(f, w.offset_ms, w.cycle_ms) - turns) + turns
    return worker, start, dur, size


def run_vector(sm: SimModel, arrival_ms: np.ndarray, jitter: list[np.ndarray | None],
               counts: Sequence[np.ndarray], stop_ms: float = math.inf) -> Trace:
    """Simulate every request of `arrival_ms` (sorted, ms) with cyclic dispatch everywhere,
    module k bringing `counts[k][i]` items per request i."""
    arrival = np.asarray(arrival_ms, dtype=float)
    n = arrival.size
    requests = np.arange(n, dtype=np.int64)
    done_at: list[np.ndarray] = []
    traces = []
    for k, m in enumerate(sm.modules):
        if m.parents:
            release = np.maximum.reduce([done_at[p] for p in m.parents]) + sm.hop_ms
        else:
            release = arrival + sm.hop_ms if sm.hop_ms else arrival
        per_request = np.asarray(counts[k], dtype=np.int64)
        if per_request.shape != (n,):
            raise ValueError(f"module {m.name!r}: need {n} item counts (got shape {per_request.shape})")
        if n == 0 or per_request.min() == 1 == per_request.max():
            firsts, item_req, ready = None, requests, release
        else:
            firsts = np.concatenate(([0], np.cumsum(per_request)))
            item_req = np.repeat(requests, per_request)
            ready = release[item_req]
        worker, start, dur, size = _run_module(m, ready, jitter[k])
        item_done = np.repeat(start + dur, size)
        if firsts is None:
            done = item_done
        else:
            done = release.copy()
            some = per_request > 0
            if item_done.size:
                done[some] = np.maximum.reduceat(item_done, firsts[:-1][some])
        done_at.append(done)
        traces.append(ModuleTrace(m.name, item_req, ready, None, worker, start, dur, size))
    exits = [done_at[k] for k, m in enumerate(sm.modules) if m.is_exit]
    done = np.maximum.reduce(exits) if len(exits) > 1 else exits[0]
    fate = np.full(n, COMPLETED, dtype=np.int8)
    if math.isfinite(stop_ms):
        late = done > stop_ms
        fate[late] = UNFINISHED
        done = np.where(late, np.nan, done)
    return Trace(arrival, done, fate, tuple(traces))
