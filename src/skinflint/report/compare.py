"""Planners side by side on one spec: cost, ratio to the optimum, gap to the bound, time, simulation.

`compare_rows` runs each planner through `plan_spec` (so every plan is verified) and returns one
row per planner; `compare_table` and `CompareRow.to_dict` render them.

Two worlds. Under MODEL.md's worst case (`options.traffic` None or uniform with target 1) every
planner plans as it always did and the simulated columns come from `simulate_plan` (uniform
arrivals at the offered rate, `skinflint.sim.simulate`). Under a random traffic every planner
gets the same traffic and target: `plan_spec` gives each its own smallest headroom on the fine
grid that reaches the target on the same seeds (planners/attain.py; the default planner adds its
per-module slack, inferline searches against the traffic itself), costs are compared there, and
`attain_plan` measures each plan on seeds no planner used.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable

from rich.table import Table

from skinflint.api import plan_spec
from skinflint.errors import InfeasibleError, PlanInvalidError, SkinflintError
from skinflint.plan import Plan
from skinflint.planners import PlanOptions, available
from skinflint.spec.types import Spec
from skinflint.traffic import Traffic

REFERENCE = "optimal"
DASH = "—"
FRESH_SEEDS_FROM = 10_000
"""A check's seeds start here past the planner's own (planners.attain.plan_seeds uses 1..64)."""


@dataclass(frozen=True)
class SimSummary:
    """What the simulator measured for a plan: p99 and worst end-to-end latency (ms), and the
    share of requests within the SLO."""

    p99_ms: float
    worst_ms: float
    slo_attainment: float


def simulate_plan(plan: Plan, spec: Spec, duration_s: float = 30.0, arrivals: str = "uniform",
                  seed: int = 0) -> SimSummary:
    """Simulate `plan` for `duration_s` under `arrivals` at its offered rate (deterministic seed);
    every plan of every planner runs (round-robin shares on shared workers on the event engine)."""
    import numpy as np

    from skinflint.sim import simulate

    result = simulate(plan, spec, arrivals, duration_s, np.random.default_rng(seed))
    lat = result.latency_ms
    return SimSummary(float(np.percentile(lat, 99)) if lat.size else math.nan,
                      float(lat.max()) if lat.size else math.nan, result.slo_attainment)


def fresh_seeds(seed: int, count: int) -> tuple[int, ...]:
    """`count` seeds that no search with planner seed `seed` draws."""
    return tuple(1_000_003 * seed + FRESH_SEEDS_FROM + k for k in range(1, count + 1))


def attain_plan(plan: Plan, spec: Spec, traffic: Traffic, seed: int = 0) -> float:
    """The plan's attainment under `traffic` on fresh seeds, sampled as the planners' oracle is."""
    from skinflint.planners.attain import sampling
    from skinflint.sim.attainment import Oracle

    count, per_seed = sampling(traffic, spec.app.rate, spec.sources.get("app"))
    return Oracle(spec, traffic, fresh_seeds(seed, count), per_seed).measure(plan).attained


def worst_case(options: PlanOptions) -> bool:
    """The comparison runs in MODEL.md's worst case (no traffic, or uniform at target 1)."""
    return not options.searches


@dataclass(frozen=True)
class CompareRow:
    """One planner's outcome: its plan (None when it found none) and what is measured against it."""

    planner: str
    plan: Plan | None
    message: str = ""
    ratio_to_optimal: float | None = None
    sim: SimSummary | None = None
    attained: float | None = None    # under a random traffic: on fresh seeds (attain_plan)

    @property
    def headroom(self) -> str:
        """The headroom the plan needed: the grid's, `+ slack` where modules got more of their own
        (the default planner), `own search` for a planner that searches against the traffic."""
        p = self.plan
        if p is None:
            return DASH
        if p.check is not None and p.check.attained is not None and p.planner == "inferline":
            return "own search"
        extra = any(m.utilization is not None for m in p.modules)
        return f"{p.headroom:g}" + (" + slack" if extra else "")

    @property
    def status(self) -> str:
        return "ok" if self.plan is not None else "infeasible"

    def to_dict(self) -> dict[str, Any]:
        p, s = self.plan, self.sim
        return {"planner": self.planner, "status": self.status, "message": self.message or None,
                "cost_per_hour": p.cost_per_hour if p else None,
                "ratio_to_optimal": self.ratio_to_optimal,
                "lower_bound_per_hour": p.lower_bound_per_hour if p else None,
                "gap_to_lower_bound": p.gap if p else None,
                "planning_ms": p.planning_ms if p else None,
                "workers": (sum(m.workers for m in p.modules) + len(p.shared_workers)) if p else None,
                "sim_p99_ms": s.p99_ms if s else None, "sim_worst_ms": s.worst_ms if s else None,
                "slo_attainment": s.slo_attainment if s else None,
                "headroom": p.headroom if p else None, "attained": self.attained,
                "planned_attained": p.check.attained if p and p.check else None}


def planner_names(requested: Iterable[str] | None = None) -> list[str]:
    """The reference planner first, then the requested ones (default: every registered planner)."""
    names = list(requested) if requested is not None else list(available())
    return [REFERENCE] + [n for n in dict.fromkeys(names) if n != REFERENCE]


def compare_rows(spec: Spec, planners: Iterable[str] | None = None, options: PlanOptions | None = None,
                 simulate: bool = True) -> list[CompareRow]:
    """Run the reference and each planner on `spec`. Raises InfeasibleError when even the
    reference finds no plan; a baseline that finds none gets a row saying why."""
    options = options or PlanOptions()
    rows: list[CompareRow] = []
    reference: float | None = None
    for name in planner_names(planners):
        try:
            plan = plan_spec(spec, planner=name, options=options)
        except PlanInvalidError:
            raise  # a planner that breaks the model is a bug, never a row
        except InfeasibleError as e:
            if name == REFERENCE:
                raise
            rows.append(CompareRow(name, None, f"no plan: needs slo_ms >= {e.min_slo_ms:.1f}"))
            continue
        except SkinflintError as e:
            if name == REFERENCE:
                raise
            rows.append(CompareRow(name, None, f"no plan: {e}"))
            continue
        if name == REFERENCE:
            reference = plan.cost_per_hour
        rows.append(_row(name, plan, reference, spec, options, simulate))
    return rows


def _row(name: str, plan: Plan, reference: float | None, spec: Spec, options: PlanOptions,
         simulate: bool) -> CompareRow:
    """A planner's row: uniform simulation in the worst case, attainment on fresh seeds otherwise."""
    ratio = plan.cost_per_hour / reference if reference else None
    if not simulate:
        return CompareRow(name, plan, "", ratio)
    if worst_case(options):
        return CompareRow(name, plan, "", ratio, simulate_plan(plan, spec))
    assert options.traffic is not None
    return CompareRow(name, plan, "", ratio, attained=attain_plan(plan, spec, options.traffic, options.seed))


def _num(value: float | None, fmt: str) -> str:
    return DASH if value is None or (isinstance(value, float) and math.isnan(value)) else format(value, fmt)


def compare_table(rows: list[CompareRow], title: str = "", traffic: bool = False) -> Table:
    """The worst-case table (`worst_case_table`), or under a random traffic: planner | $/h |
    x skinflint | headroom | attained (fresh seeds) | planning ms."""
    if not traffic:
        return worst_case_table(rows, title)
    t = Table(title=title or None, title_justify="left")
    t.add_column("planner", no_wrap=True)
    for col in ("$/h", "× skinflint", "headroom", "attained", "plan ms"):
        t.add_column(col, justify="right")
    for r in rows:
        if r.plan is None:
            t.add_row(r.planner, r.message, DASH, DASH, DASH, DASH)
            continue
        t.add_row(r.planner, f"{r.plan.cost_per_hour:.3f}", _num(r.ratio_to_optimal, ".3f"), r.headroom,
                  _num(None if r.attained is None else 100 * r.attained, ".3f") + ("%" if r.attained is not None else ""),
                  f"{r.plan.planning_ms:.0f}")
    return t


def worst_case_table(rows: list[CompareRow], title: str = "") -> Table:
    """planner | $/h | x optimum | x bound | planning ms | sim p99 ms | sim worst ms | SLO attainment
    ('—' where a planner found no plan or no simulator is available)."""
    t = Table(title=title or None, title_justify="left")
    t.add_column("planner", no_wrap=True)
    for col in ("$/h", "× opt", "× bound", "plan ms", "sim p99 ms", "sim worst ms", "in SLO"):
        t.add_column(col, justify="right")
    for r in rows:
        if r.plan is None:
            t.add_row(r.planner, r.message, DASH, DASH, DASH, DASH, DASH, DASH)
            continue
        s = r.sim
        t.add_row(r.planner, f"{r.plan.cost_per_hour:.3f}", _num(r.ratio_to_optimal, ".3f"), _num(r.plan.gap, ".3f"),
                  f"{r.plan.planning_ms:.1f}", _num(s.p99_ms if s else None, ".1f"),
                  _num(s.worst_ms if s else None, ".1f"), _num(s.slo_attainment if s else None, ".2%"))
    return t
