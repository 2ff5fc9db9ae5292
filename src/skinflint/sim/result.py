"""`SimResult`: what a simulation measured, computed from its Trace on demand.

Every request ends in exactly one of: completed on time, completed late, or dropped with a
reason (`requests == on_time + late + sum(dropped.values())`, checked by the tests).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from skinflint.plan import Plan
from skinflint.sim.trace import COMPLETED, DROP_REASONS, Trace
from skinflint.stats import percentiles
from skinflint.topology import SimModel


@dataclass
class SimResult:
    """A simulation's plan, model, trace and settings, with its metrics as properties."""

    plan: Plan
    model: SimModel
    trace: Trace
    duration_s: float
    engine: str
    dispatch: dict[str, str]
    early_close: bool
    wall_s: float = 0.0
    notes: tuple[str, ...] = field(default=())

    # -- requests -------------------------------------------------------------------------------
    @property
    def requests(self) -> int:
        """Requests that arrived."""
        return int(self.trace.arrival_ms.size)

    @cached_property
    def latency_ms(self) -> np.ndarray:
        """End-to-end latency of every completed request."""
        return self.trace.latency_ms

    @cached_property
    def on_time(self) -> int:
        """Completed within the SLO."""
        slo = self.model.slo_ms
        return int(np.count_nonzero(self.latency_ms <= slo + 1e-9 * max(1.0, slo)))

    @property
    def completed(self) -> int:
        """Requests that completed, on time or late."""
        return int(self.latency_ms.size)

    @property
    def late(self) -> int:
        """Completed after the SLO."""
        return self.completed - self.on_time

    @cached_property
    def dropped(self) -> dict[str, int]:
        """Requests that never completed, by reason."""
        codes, counts = np.unique(self.trace.fate[self.trace.fate != COMPLETED], return_counts=True)
        return {DROP_REASONS[int(c)]: int(n) for c, n in zip(codes, counts)}

    @property
    def slo_attainment(self) -> float:
        """Share of all requests (dropped ones count as misses) completed within the SLO."""
        return self.on_time / self.requests if self.requests else float("nan")

    @property
    def span_ms(self) -> float:
        """Simulated time: the arrival window, or longer if the last request finished later."""
        done = self.trace.done_ms
        last = float(np.nanmax(done)) if np.any(~np.isnan(done)) else 0.0
        return max(1000.0 * self.duration_s, last)

    # -- modules and workers --------------------------------------------------------------------
    def module_stats(self) -> list[dict[str, Any]]:
        """Per module: items, time at the module (arrival to batch end) percentiles, batch sizes
        (a pooled module: its pool's batches, which may hold other members' items too)."""
        out = []
        for m, mt in zip(self.model.modules, self.trace.modules):
            ran = mt.ran
            sojourn = mt.done_ms[ran] - mt.ready_ms[ran]
            sizes, counts = np.unique(mt.batch_size, return_counts=True)
            out.append({"name": m.name, "dispatch": self.dispatch.get(m.name, m.dispatch), "pool": m.pool,
                        "items": int(ran.size),
                        "ran": int(ran.sum()), "planned_worst_ms": m.worst_latency_ms,
                        "latency_ms": percentiles(sojourn),
                        "batches": int(mt.batch_size.size),
                        "mean_batch": float(mt.batch_size.mean()) if mt.batch_size.size else float("nan"),
                        "batch_histogram": {int(s): int(c) for s, c in zip(sizes, counts)}})
        return out

    def worker_stats(self) -> list[dict[str, Any]]:
        """Per worker (a shared worker or a pool's worker once, over all its modules): batches,
        busy ms, utilisation. A pool's workers are listed with every app that uses the pool."""
        span = self.span_ms
        rows: list[dict[str, Any]] = []
        shared_rows: dict[int, dict[str, Any]] = {}
        pools_seen: set[str] = set()
        for m, mt in zip(self.model.modules, self.trace.modules):
            if m.pool is not None:  # a pool's workers once; its batches may hold several members' items
                if m.pool not in pools_seen:
                    pools_seen.add(m.pool)
                    rows += self._pool_rows(m, mt)
                continue
            busy = np.bincount(mt.batch_worker, weights=mt.batch_ms, minlength=len(m.workers))
            batches = np.bincount(mt.batch_worker, minlength=len(m.workers))
            for k, w in enumerate(m.workers):
                if w.shared >= 0:
                    row = shared_rows.setdefault(w.shared, {"module": "(shared)", "hardware": w.hardware,
                                                            "batch_size": {}, "batches": 0, "busy_ms": 0.0})
                    row["batch_size"][m.name] = w.worker.batch_size
                else:
                    row = {"module": m.name, "hardware": w.hardware, "batch_size": w.worker.batch_size,
                           "batches": 0, "busy_ms": 0.0}
                    rows.append(row)
                row["batches"] += int(batches[k])
                row["busy_ms"] += float(busy[k])
        rows += [shared_rows[k] for k in sorted(shared_rows)]
        for row in rows:
            row["utilisation"] = row["busy_ms"] / span if span > 0 else float("nan")
        return rows

    def _pool_rows(self, m: Any, mt: Any) -> list[dict[str, Any]]:
        busy = np.bincount(mt.batch_worker, weights=mt.batch_ms, minlength=len(m.workers))
        batches = np.bincount(mt.batch_worker, minlength=len(m.workers))
        return [{"module": f"(pool {m.pool})", "hardware": w.hardware, "batch_size": w.worker.batch_size,
                 "batches": int(batches[k]), "busy_ms": float(busy[k])} for k, w in enumerate(m.workers)]

    # -- cost -----------------------------------------------------------------------------------
    @property
    def cost_usd(self) -> float:
        """What the plan's workers cost over the simulated span."""
        return self.model.cost_per_hour * self.span_ms / 3.6e6

    def to_dict(self) -> dict[str, Any]:
        """Everything as JSON-ready values."""
        return {
            "app": self.plan.app, "planner": self.plan.planner, "engine": self.engine,
            "dispatch": self.dispatch, "early_close": self.early_close, "duration_s": self.duration_s,
            "slo_ms": self.model.slo_ms, "requests": self.requests, "completed": self.completed,
            "on_time": self.on_time, "late": self.late, "dropped": self.dropped,
            "slo_attainment": self.slo_attainment, "latency_ms": percentiles(self.latency_ms),
            "cost_per_hour": self.model.cost_per_hour, "cost_usd": self.cost_usd,
            "cost_per_million_requests": self.cost_usd / self.requests * 1e6 if self.requests else float("nan"),
            "span_s": self.span_ms / 1000.0, "wall_s": self.wall_s,
            "modules": self.module_stats(), "workers": self.worker_stats(), "notes": list(self.notes),
        }
