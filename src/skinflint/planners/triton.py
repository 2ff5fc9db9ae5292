"""`triton`: the plan a Triton user gets who keeps Triton's own dynamic batcher (docs/baselines.md).

  deployment   one Triton server per worker (one GPU, `instance_group [{count: 1}]`), several
               servers behind a per-request round-robin load balancer; one model configuration
               per model in the model repository, so one (hardware, batch) per module
  batching     each server's dynamic batcher forms its own batches from the rate r_m / n it sees:
               MODEL.md's round-robin, W_rr = 1000 (b - 1) n / r_m + d(h, b) (+ fan-out lag)
  workers      n = ceil(r_m / (u theta(h, b))), the fewest that keep up (more only raise W_rr)
  no padding   Triton batches requests, it does not pad a batch to a faster profiled size: only
               configurations run at their own measured size are used
  queue delay  preferred_batch_size [b], max_queue_delay = budget - d: the batch closes when full
               or when its oldest request would miss the module's budget (deploy/triton.py)
  split        the exact split over DAGs (solve/split.py) of each module's (W_rr, cost) frontier: the
               SLO split skinflint would give this deployment, generous to Triton, whose Model
               Analyzer does not split an ensemble's objective at all

What it gives up against `optimal`: batch-aware dispatch (a batch fills from the whole stream in
1000 (b - 1) / r_m, not n times that), several configurations per module, shared workers.
"""

from __future__ import annotations

import math

import numpy as np

from dataclasses import replace

from skinflint import model
from skinflint.errors import InfeasibleError
from skinflint.model import Config, longest_path_ms
from skinflint.plan import ROUND_ROBIN, Group, ModulePlan, Plan
from skinflint.planners.base import PlanOptions
from skinflint.planners.solve.assemble import group
from skinflint.planners.solve.bounds import configs_by_module, plan_bound, require_feasible
from skinflint.planners.solve.split import split_slo
from skinflint.spec.types import Spec


def triton_group(c: Config, rate: float, u: float, lag_ms: float) -> Group:
    """The fewest servers of config c that keep up with `rate`, and their round-robin W."""
    n = model.workers_to_carry(rate, c.throughput, u)
    w = model.worker_worst_ms(ROUND_ROBIN, c.batch_size, c.latency_ms, rate, share_rate=rate, workers=n, lag_ms=lag_ms)
    return replace(group(c, n), worst_latency_ms=w, exec_batch_size=None, share_rate=rate)


def frontier(groups: list[Group]) -> list[Group]:
    """Pareto points: by worst latency, each strictly cheaper than every faster one."""
    out: list[Group] = []
    for g in sorted(groups, key=lambda g: (g.worst_latency_ms, g.cost_per_hour)):
        if not out or g.cost_per_hour < out[-1].cost_per_hour * (1 - 1e-12):
            out.append(g)
    return out


class TritonPlanner:
    """Triton's per-server dynamic batching behind round-robin, one config per module, exact split."""

    name = "triton"
    description = "Triton's dynamic batcher per server behind round-robin (W_rr), one config per module, exact split"

    def plan(self, spec: Spec, options: PlanOptions) -> Plan:
        configs = configs_by_module(spec, options.fanout_lag)
        require_feasible(spec, configs)
        app, u = spec.app, options.utilization
        lags = model.module_lags(app, options.fanout_lag)
        fronts: dict[str, list[Group]] = {}
        for m in app.modules:
            unpadded = [c for c in configs[m.name] if c.exec_batch_size == c.batch_size]
            fronts[m.name] = frontier([triton_group(c, app.module_rate(m.name), u, lags[m.name]) for c in unpadded])
        arrays = {name: (np.array([g.worst_latency_ms for g in gs]), np.array([g.cost_per_hour for g in gs]))
                  for name, gs in fronts.items()}
        result = split_slo(app, arrays, app.slo_ms, app.hop_ms)
        if result is None:
            least = {name: gs[0].worst_latency_ms for name, gs in fronts.items() if gs}
            need = longest_path_ms(app.modules, least, app.hop_ms) if len(least) == len(fronts) else math.inf
            raise InfeasibleError(f"{app.name} ({self.name})", app.slo_ms, need)
        _, pick = result
        modules = []
        for m in app.modules:
            g = fronts[m.name][pick[m.name]]
            modules.append(ModulePlan(m.name, m.model, app.module_rate(m.name), g.worst_latency_ms,
                                      g.worst_latency_ms, (g,), ROUND_ROBIN))
        return Plan(app.name, self.name, app.rate, app.slo_ms, tuple(modules), app.hop_ms,
                    lower_bound_per_hour=plan_bound(spec, configs, u, options.bound), utilization=u, headroom=options.headroom,
                    fanout_lag=options.fanout_lag)
