"""The fast path for cyclic batch-aware dispatch WITH deadline-aware early close — how the runtime
serves every batch-aware plan, and so what the traffic-aware planner simulates in its loop.

The runtime closes a partial batch when its oldest item would otherwise miss its deadline
(dispatch.EarlyClose), so batch boundaries depend on time and the vectorised path (sim.vector)
no longer applies. The cyclic policy's decisions still follow a short recurrence per batch, which
`close_batches` runs batch by batch (compiled with numba), module by module in topological order.
It gives the event engine's trace exactly (tests/property/test_sim_closing.py).

For the batch that starts at item S, for worker w of batch size b (the cycle's turn):
  * items join in index order, item j at R_j = max(ready_0..j) (the policy's reorder buffer);
  * full at F = R_{S+b-1} (end of stream: R of the last item, with what is there);
  * the early-close timer fires at tau = max(close_at(D_S, w), free_w, R_S), D_S the oldest
    item's deadline and free_w the end of w's previous batch (the policy closes early only for
    an idle worker); at tau the batch holds n(tau) = #{j >= S : R_j <= tau} items (releases at
    tau come before timers at tau) and closes iff tau < F and tau + wait_w + d_w(n) <= D_S
    (EarlyClose.can_make; once false it stays false, as time and size only grow), else at
    max(D_S, tau) with what it holds then, if that comes before F (late anyway);
  * it starts at max(close, free_w) on a dedicated worker, at the next slot of a shared one, and
    runs d_w(size) x exp(mu_w + sigma_w z_S) (the jitter draw of its first item).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from skinflint.dispatch.base import EarlyClose
from skinflint.sim.draws import Draws
from skinflint.topology import SimModel, SimModule
from skinflint.sim.trace import COMPLETED, UNFINISHED, ModuleTrace, Trace

SLOT_EPS = 1e-9   # as dispatch.base.next_slot


def supports_closing(sm: SimModel, jitter: bool) -> bool:
    """The recurrence holds for cyclic dispatch without pools; shared slots only without jitter
    (slots then never overrun, so no slot is pushed back by another module's batch) and only
    while the slots' full batch times fit their cycle."""
    if any(m.pool or m.dispatch != "cyclic" for m in sm.modules):
        return False
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


@numba.njit(cache=True, nogil=True)
def _joined_by(joined, t, lo, hi):  # pragma: no cover  (compiled)
    """How many of joined[lo:hi] (ascending) are <= t: bisect_right(joined, t, lo, hi) - lo."""
    start = lo
    while lo < hi:
        mid = (lo + hi) // 2
        if joined[mid] <= t:
            lo = mid + 1
        else:
            hi = mid
    return lo - start


@numba.njit(cache=True, nogil=True)
def close_batches(joined, due, normals, sizes, table, waits, close_before, mu, sigma, slot_offset,
                  slot_cycle, stream_end):  # pragma: no cover  (compiled)
    """Each batch's (worker, start, duration, size, close time, launch time); see the module
    docstring (launch: when the policy hands it to its worker, >= close; a shared worker's slot
    starts later).
    `slot_cycle[w] > 0` marks a shared worker's slot; `normals` is empty without jitter; the
    stream ends (its last, partial batch leaves) when its last item joins, or at `stream_end` if
    later (when the last item a refused request would have brought is skipped)."""
    n_items = joined.size
    n_workers = sizes.size
    out_w = np.empty(n_items, np.int64)
    out_start = np.empty(n_items)
    out_dur = np.empty(n_items)
    out_size = np.empty(n_items, np.int64)
    out_close = np.empty(n_items)
    out_launch = np.empty(n_items)
    free = np.full(n_workers, -np.inf)
    s = 0
    turn = 0
    q = 0
    while s < n_items:
        w = turn
        last = min(s + sizes[w], n_items) - 1
        closed = joined[last] if s + sizes[w] <= n_items else max(joined[last], stream_end)
        size = last - s + 1
        oldest = due[s]
        tau = max(oldest - close_before[w], free[w], joined[s])
        if tau < closed:
            k = _joined_by(joined, tau, s, last + 1)
            if tau + waits[w] + table[w, k - 1] <= oldest:
                size = k
                closed = tau
            elif max(oldest, tau) < closed:   # too late to make it: leaves at the deadline
                closed = max(oldest, tau)
                size = _joined_by(joined, closed, s, last + 1)
        launch = max(closed, free[w])
        start = launch
        if slot_cycle[w] > 0:
            turns = math.ceil((start - slot_offset[w]) / slot_cycle[w] - SLOT_EPS)
            start = slot_offset[w] + max(turns, 0) * slot_cycle[w]
        dur = table[w, size - 1]
        if normals.size:
            dur *= math.exp(mu[w] + sigma[w] * normals[s])
        free[w] = start + dur
        out_w[q] = w
        out_start[q] = start
        out_dur[q] = dur
        out_size[q] = size
        out_close[q] = closed
        out_launch[q] = launch
        q += 1
        s += size
        turn = (turn + 1) % n_workers
    return out_w[:q], out_start[:q], out_dur[:q], out_size[:q], out_close[:q], out_launch[:q]


def _worker_arrays(m: SimModule, close: EarlyClose) -> tuple[np.ndarray, ...]:
    """The module's workers in cycle order as the kernel's arrays."""
    ws = [w.worker for w in m.workers]
    width = max(w.batch_size for w in ws)
    table = np.array([w.times_ms + (math.nan,) * (width - w.batch_size) for w in ws])
    sizes = np.array([w.batch_size for w in ws], dtype=np.int64)
    waits = np.array([w.slot_wait_ms for w in ws])
    close_before = waits + table[np.arange(len(ws)), sizes - 1] + close.margin_ms
    offset = np.array([w.offset_ms if w.shared >= 0 else 0.0 for w in m.workers])
    cycle = np.array([w.cycle_ms if w.shared >= 0 else 0.0 for w in m.workers])
    return sizes, table, waits, close_before, offset, cycle


def module_release(sm: SimModel, k: int, arrival: np.ndarray, done_at: list[np.ndarray]) -> np.ndarray:
    """When each request reaches module k: arrival + hop at an entry, else when its last parent
    is done, + hop."""
    m = sm.modules[k]
    if m.parents:
        return np.maximum.reduce([done_at[p] for p in m.parents]) + sm.hop_ms
    return arrival + sm.hop_ms if sm.hop_ms else arrival


def module_items(sm: SimModel, k: int, draws: Draws, done_at: list[np.ndarray]) -> tuple[np.ndarray, ...]:
    """Module k's (release per request, request per item, ready time per item): items reach it
    when their request is released there, plus their offset where items are spread."""
    release = module_release(sm, k, draws.arrival_ms, done_at)
    item_req = np.repeat(np.arange(draws.arrival_ms.size, dtype=np.int64), np.diff(draws.firsts[k]))
    ready = release[item_req]
    if draws.offsets_ms[k] is not None:
        ready = ready + draws.offsets_ms[k]
    return release, item_req, ready


def exits_done(sm: SimModel, done_at: list[np.ndarray]) -> np.ndarray:
    """When each request is done at every exit module."""
    exits = [done_at[k] for k, m in enumerate(sm.modules) if m.is_exit]
    return np.maximum.reduce(exits) if len(exits) > 1 else exits[0]


@numba.njit(cache=True, nogil=True)
def request_done(item_request, release, end, size):  # pragma: no cover  (compiled)
    """When each request is done at a module: the last end of its items' batches (taken in
    index order: `end`, `size` per batch), or its release if it has none there (a batch ends
    after every item in it was released, so the max with the release changes nothing else)."""
    done = release.copy()
    j = 0
    for q in range(size.size):
        for _ in range(size[q]):
            r = item_request[j]
            if end[q] > done[r]:
                done[r] = end[q]
            j += 1
    return done


def run_closing(sm: SimModel, draws: Draws, jitter: list[tuple[np.ndarray, np.ndarray]] | None,
                close: EarlyClose, stop_ms: float = math.inf) -> tuple[Trace, list[tuple[np.ndarray, np.ndarray]]]:
    """Simulate `draws` on `sm` with cyclic dispatch and early close everywhere. `jitter[k]`:
    module k's per-worker (mu, sigma) of the batch-time factor exp(mu + sigma z). Also returns
    each module's batch (close, launch) times, what admission's backlog is counted from."""
    arrival = draws.arrival_ms
    n = arrival.size
    done_at: list[np.ndarray] = []
    traces: list[ModuleTrace] = []
    closes: list[tuple[np.ndarray, np.ndarray]] = []
    empty = np.zeros(0)
    for k, m in enumerate(sm.modules):
        release, item_req, ready = module_items(sm, k, draws, done_at)
        firsts = draws.firsts[k]
        joined = np.maximum.accumulate(ready) if ready.size else ready
        due = arrival[item_req] + m.deadline_ms
        sizes, table, waits, close_before, offset, cycle = _worker_arrays(m, close)
        normals = draws.normals[k] if jitter is not None and draws.normals[k] is not None else empty
        mu, sigma = jitter[k] if jitter is not None else (empty, empty)
        worker, start, dur, size, closed, launch = close_batches(joined, due, normals, sizes, table, waits,
                                                                 close_before, mu, sigma, offset, cycle,
                                                                 draws.skipped_ms[k] + sm.hop_ms
                                                                 if draws.skipped_ms else -math.inf)
        done_at.append(request_done(item_req, release, start + dur, size))
        closes.append((closed, launch))
        traces.append(ModuleTrace(m.name, item_req, ready, None, worker, start, dur, size))
    done = exits_done(sm, done_at)
    fate = np.full(n, COMPLETED, dtype=np.int8)
    if math.isfinite(stop_ms):
        late = done > stop_ms
        fate[late] = UNFINISHED
        done = np.where(late, np.nan, done)
    return Trace(arrival, done, fate, tuple(traces)), closes
