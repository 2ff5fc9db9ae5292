"""Hold a simulation to the plan's promise (MODEL.md under uniform arrivals at the planned rate).

An item of module m that ran on a worker of config c is promised by
    request arrival + O_m + W_m(c),
where O_m is the longest path of the parents' promises plus hops (`SimModule.promise_offset_ms`)
and W_m(c) includes the module's fan-out lag (`model.fanout_lag_ms`); every request is promised
by arrival + slo_ms. An item of a pooled module is promised its pool's worst latency for the group
of the worker that ran it, `model.pool_worst_latency_ms(b, d, R, k)`, after its parents' promises.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from skinflint.plan import BATCH_AWARE, Plan
from skinflint.sim.result import SimResult

TOL_MS = 1e-6


def item_excess_ms(result: SimResult) -> dict[str, np.ndarray]:
    """Per module, how far each item that ran finished past its promise (<= 0: kept)."""
    out = {}
    arrival = result.trace.arrival_ms
    for m, mt in zip(result.model.modules, result.trace.modules):
        ran = mt.ran
        promise = np.array([w.promise_ms for w in m.workers])[mt.item_worker[ran]]
        bound = m.promise_offset_ms + promise
        out[m.name] = mt.done_ms[ran] - arrival[mt.item_request[ran]] - bound
    return out


def fleet_promise_violations(results: Sequence[SimResult]) -> list[str]:
    """`promise_violations` of every app of a fleet run, each line prefixed with its app."""
    return [f"{r.plan.app}: {v}" for r in results for v in promise_violations(r)]


def promise_violations(result: SimResult) -> list[str]:
    """One line per module whose items broke their promise, and one if requests broke the SLO."""
    out = []
    for name, excess in item_excess_ms(result).items():
        tol = TOL_MS + 1e-12 * result.span_ms
        bad = excess > tol
        if bad.any():
            pool = result.model.modules[result.model.index(name)].pool
            where = f"module {name!r}" + (f" (pool {pool!r})" if pool else "")
            out.append(f"{where}: {int(bad.sum())} items finished after their promise, "
                       f"worst by {float(excess.max()):.6f} ms")
    slo = result.model.slo_ms
    over = result.latency_ms - slo
    if over.size and over.max() > TOL_MS:
        out.append(f"{int((over > TOL_MS).sum())} requests over slo_ms {slo:g}, worst by {float(over.max()):.6f} ms")
    return out


def longest_cycle_ms(plan: Plan) -> float:
    """The longest time any worker of `plan` waits between batches under uniform arrivals:
    batch-aware module cycles (1000 sum n b / r_m), round-robin workers' own streams
    (1000 b n / r_g) and shared cycles."""
    cycles = [sw.cycle_ms for sw in plan.shared_workers]
    for m in plan.modules:
        if m.groups and m.dispatch == BATCH_AWARE:
            cycles.append(1000.0 * sum(g.workers * g.batch_size for g in m.groups) / m.rate)
        cycles += [1000.0 * g.batch_size * g.workers / g.share_rate for g in m.groups if g.share_rate]
    return max(cycles, default=0.0)


def settling_requests(plan: Plan, least: int = 300, cycles: int = 6) -> int:
    """Uniform requests enough for every worker to go round its cycle `cycles` times and the last
    request to finish within the SLO (at least `least`)."""
    return int(max(least, (cycles * longest_cycle_ms(plan) + plan.slo_ms) * plan.rate / 1000.0))
