"""The fast path for central-queue plans (InferLine's dispatch, dispatch.central_queue): module by
module in topological order, a short recurrence over each module's items in arrival order,
compiled with numba. It gives the event engine's trace where no two of a module's arrivals
overflow a batch at one instant in an order the engine breaks differently
(tests/property/test_sim_central.py); the oracle uses it for every all-central-queue plan.

For a module's items in arrival order (stable by index), workers' free times `free`, and the
time of the last decision `now`:
  * the next batch starts at s = max(ready of the first queued item, earliest free, now): the
    policy decides at the instant an item arrives or a worker frees, after every other event then;
  * it goes to the lowest-numbered worker free at s and takes every queued item ready by s, at
    most b;
  * it runs d(k) x exp(mu_w + sigma_w z) (the jitter draw of its first item).
Admission counts each waiting item as backlog from its arrival to its batch's start (one
entry per item that waited, sim.admit_check.Batches).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from skinflint.dispatch.base import EarlyClose
from skinflint.model import CENTRAL_QUEUE
from skinflint.sim.closing import exits_done, module_items, request_done
from skinflint.sim.draws import Draws
from skinflint.sim.trace import COMPLETED, ModuleTrace, Trace
from skinflint.topology import SimModel


def supports_central(sm: SimModel) -> bool:
    """Every module is a central queue on dedicated workers (no pools, no shared slots)."""
    return all(m.dispatch == CENTRAL_QUEUE and not m.pool and all(w.shared < 0 for w in m.workers)
               for m in sm.modules)


@numba.njit(cache=True, nogil=True)
def queue_batches(ready, order, sizes, table, normals, mu, sigma):  # pragma: no cover  (compiled)
    """Each batch's (worker, start, duration, size) and each item's batch, items taken in `order`
    (their arrival order); see the module docstring."""
    n_items = ready.size
    n_workers = sizes.size
    out_w = np.empty(n_items, np.int64)
    out_start = np.empty(n_items)
    out_dur = np.empty(n_items)
    out_size = np.empty(n_items, np.int64)
    item_batch = np.empty(n_items, np.int64)
    free = np.full(n_workers, -np.inf)
    now = -np.inf
    i = 0
    q = 0
    while i < n_items:
        first = order[i]
        earliest = free.min()
        s = max(ready[first], earliest, now)
        w = 0
        while free[w] > s:
            w += 1
        k = 0
        while i + k < n_items and k < sizes[w] and ready[order[i + k]] <= s:
            item_batch[order[i + k]] = q
            k += 1
        dur = table[w, k - 1]
        if normals.size:
            dur *= math.exp(mu[w] + sigma[w] * normals[first])
        free[w] = s + dur
        now = s
        out_w[q] = w
        out_start[q] = s
        out_dur[q] = dur
        out_size[q] = k
        q += 1
        i += k
    return out_w[:q], out_start[:q], out_dur[:q], out_size[:q], item_batch


def _tables(workers) -> tuple[np.ndarray, np.ndarray]:  # noqa: ANN001  (SimWorker tuple)
    ws = [w.worker for w in workers]
    width = max(w.batch_size for w in ws)
    table = np.array([w.times_ms + (math.nan,) * (width - w.batch_size) for w in ws])
    return np.array([w.batch_size for w in ws], dtype=np.int64), table


def run_central(sm: SimModel, draws: Draws, jitter: list[tuple[np.ndarray, np.ndarray]] | None,
                close: EarlyClose | None = None) -> tuple[Trace, list[tuple[np.ndarray, ...]]]:
    """Simulate `draws` on an all-central-queue `sm` (early close is moot: no batch waits). Also
    returns, per module, (arrival, batch start, None) of the items that waited, both sorted: what
    admission's backlog counts."""
    arrival = draws.arrival_ms
    done_at: list[np.ndarray] = []
    traces: list[ModuleTrace] = []
    backlog: list[tuple[np.ndarray, ...]] = []
    empty = np.zeros(0)
    for k, m in enumerate(sm.modules):
        release, item_req, ready = module_items(sm, k, draws, done_at)
        order = np.argsort(ready, kind="stable")
        sizes, table = _tables(m.workers)
        normals = draws.normals[k] if jitter is not None and draws.normals[k] is not None else empty
        mu, sigma = jitter[k] if jitter is not None else (empty, empty)
        worker, start, dur, size, item_batch = queue_batches(ready, order, sizes, table, normals, mu, sigma)
        end = (start + dur)[item_batch] if item_batch.size else empty
        done_at.append(request_done(item_req, release, end, np.ones(end.size, np.int64)))   # one item per entry
        begun = (start[item_batch] if item_batch.size else empty)[order]   # nondecreasing, as ready[order]
        waited = begun > ready[order]     # an item taken at once is never backlog
        backlog.append((ready[order][waited], begun[waited], None))
        traces.append(ModuleTrace(m.name, item_req, ready, item_batch, worker, start, dur, size))
    return Trace(arrival, exits_done(sm, done_at), np.full(arrival.size, COMPLETED, dtype=np.int8),
                 tuple(traces)), backlog


__all__ = ["queue_batches", "run_central", "supports_central"]
