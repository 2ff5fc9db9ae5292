"""How robust a plan is, the exact planner's tie-break among plans of equal cost (docs/planner.md).

Under batch-aware dispatch a module's workers each run one batch per cycle
T_m = 1000 (sum n b) / r_m (a shared slot counts as one more worker), so a worker of batch time
d is busy d / T_m of the time and the module's peak is max d / T_m (at most u by the cycle
rule). A shared worker runs one batch of each member per member cycle: busy sum d_m / T_m. A
plan's peak is the largest of these; its margin is the SLO less the longest path of the
modules' worst latencies and hops. Of two plans of equal cost the one with the lower peak is
more robust (random arrivals and slower batches have more idle time to eat into), then the one
with the larger margin.
"""

from __future__ import annotations

import math

from skinflint.model import cycle_ms, longest_path_ms
from skinflint.plan import Plan
from skinflint.spec.types import App


def busy_fraction(slowest_ms: float, units: float, rate: float) -> float:
    """d / T_m: the share of a cycle of `units` batch slots at `rate` that a batch of
    `slowest_ms` fills (inf for an empty cycle)."""
    return slowest_ms / cycle_ms(units, rate) if units > 0 else math.inf


def _module_units(plan: Plan) -> dict[str, float]:
    """sum n b per module, its shared slots included."""
    units = {m.name: float(sum(g.workers * g.batch_size for g in m.groups)) for m in plan.modules}
    for w in plan.shared_workers:
        for s in w.slots:
            units[s.module] += s.batch_size
    return units


def plan_peak(plan: Plan) -> float:
    """The largest planned busy fraction of any worker: per module max d / T_m (its shared slots
    included), per shared worker sum d_m / T_m; pooled modules: their pool's workers."""
    units = _module_units(plan)
    slowest = {m.name: max((g.latency_ms for g in m.groups), default=0.0) for m in plan.modules}
    for w in plan.shared_workers:
        for s in w.slots:
            slowest[s.module] = max(slowest[s.module], s.latency_ms)
    peaks = [busy_fraction(slowest[m.name], units[m.name], m.rate) for m in plan.modules
             if m.pool is None and units[m.name] > 0]
    rates = {m.name: m.rate for m in plan.modules}
    peaks += [sum(busy_fraction(s.latency_ms, units[s.module], rates[s.module]) for s in w.slots)
              for w in plan.shared_workers]
    for pool in plan.pools:  # k merged streams: N units span 1000 (N - k + 1) / R (sharing-and-pools.md)
        n = sum(g.workers * g.batch_size for g in pool.groups) - len(pool.members) + 1
        peaks.append(busy_fraction(max(g.latency_ms for g in pool.groups), n, pool.rate))
    return max(peaks, default=0.0)


def plan_margin(plan: Plan, app: App) -> float:
    """SLO less the longest path of the modules' worst latencies plus hops."""
    worst = {m.name: m.worst_latency_ms for m in plan.modules}
    return plan.slo_ms - longest_path_ms(app.modules, worst, plan.hop_ms)
