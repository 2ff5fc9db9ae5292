"""`build_report(spec, ...)`: everything the HTML report shows, computed — the plan, every
baseline planner's plan (report.compare.compare_rows), cost against rate and against SLO,
latency samples from the simulator, and the $/h of the re-planning loop over a day — into a
`Report` that report.page renders."""

from __future__ import annotations

from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

import numpy as np

from skinflint.api import plan_spec
from skinflint.control import RateGrid
from skinflint.control.loop import PlanCache
from skinflint.daynight import DayCurve, default_contenders, run_loop
from skinflint.daynight.loop import counts_per_tick
from skinflint.errors import InfeasibleError
from skinflint.plan import Plan
from skinflint.planners import PlanOptions
from skinflint.report.compare import CompareRow, compare_rows
from skinflint.sim import simulate
from skinflint.spec.types import Spec

RATE_FACTORS = (0.1, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0)     # the sweep's rates, x the app's
SLO_FACTORS = (0.4, 0.5, 0.6, 0.75, 1.0, 1.5, 2.0, 3.0)       # the sweep's SLOs, x the app's


def default_curve() -> Path:
    """The bundled two-peak city day (time_s,rate)."""
    return Path(str(resources.files("skinflint") / "data" / "curves" / "city_day.csv"))


@dataclass(frozen=True)
class LatencyRun:
    """One simulated run: its label, the latencies of its completed requests, its SLO attainment."""

    label: str
    latency_ms: np.ndarray
    slo_attainment: float


@dataclass(frozen=True)
class DayPolicy:
    """One re-planning policy over the day: its $/h as steps (hours, $/h), $ for the day
    (live plans and start-ups) and plan changes."""

    name: str
    hours: list[float]
    cost_per_hour: list[float]
    dollars: float
    changes: int


@dataclass(frozen=True)
class DayReport:
    """The day's curve (its file's name, length, rate by hour) and each policy over it."""

    source: str
    length_s: float
    rate_hours: list[float]
    rates: list[float]
    policies: list[DayPolicy]


@dataclass(frozen=True)
class Report:
    """What the report shows for `spec`: `rows[0]` is the reference planner's (the plan), the
    others the baselines'; sweeps as (values, $/h) of the feasible points."""

    spec: Spec
    rows: list[CompareRow]
    rate_sweep: tuple[list[float], list[float]]
    slo_sweep: tuple[list[float], list[float]]
    sim_s: float
    latency: list[LatencyRun]
    day: DayReport

    @property
    def plan(self) -> Plan:
        """The reference planner's plan."""
        assert self.rows[0].plan is not None   # compare_rows raises when the reference finds no plan
        return self.rows[0].plan


def _at(spec: Spec, rate: float | None = None, slo_ms: float | None = None) -> Spec:
    return replace(spec, app=replace(spec.app, rate=rate or spec.app.rate, slo_ms=slo_ms or spec.app.slo_ms))


def _sweep(spec: Spec, options: PlanOptions, values: np.ndarray, field: str) -> tuple[list[float], list[float]]:
    """($/h of the plan) at each value of `field` where a plan exists."""
    xs, ys = [], []
    for v in values:
        try:
            p = plan_spec(_at(spec, **{field: float(v)}), options=options)
        except InfeasibleError:
            continue
        xs.append(float(v))
        ys.append(p.cost_per_hour)
    return xs, ys


def _latency(spec: Spec, rows: list[CompareRow], sim_s: float, rng: np.random.Generator) -> list[LatencyRun]:
    """The plan under uniform and Poisson arrivals, and the Nexus and Harpagon plans under Poisson
    (Poisson runs with deadline-aware early close)."""
    plan = rows[0].plan
    runs = [("optimal, uniform", plan, "uniform"), ("optimal, Poisson", plan, "poisson")]
    runs += [(f"{r.planner}, Poisson", r.plan, "poisson") for r in rows[1:]
             if r.planner in ("nexus", "harpagon") and r.plan is not None]
    out = []
    for label, p, arrivals in runs:
        res = simulate(p, spec, arrivals, sim_s, rng, early_close=arrivals != "uniform")
        out.append(LatencyRun(label, res.latency_ms, res.slo_attainment))
    return out


def _day(spec: Spec, options: PlanOptions, curve: DayCurve, rng: np.random.Generator) -> DayReport:
    """$/h over the day for each re-planning policy (the loop only; `skinflint day` adds latency)."""
    plans = PlanCache(spec, "optimal", options)
    times = curve.arrival_times_ms(rng)
    policies = []
    for name, make, settings in default_contenders(grid=RateGrid(1.0, 0.05)):
        counts = counts_per_tick(times, curve.length_s, settings.tick_s)
        first = counts[: max(1, int(round(60.0 / settings.tick_s)))]
        schedule = run_loop(make(curve), counts, plans, settings, float(first.sum()) / (first.size * settings.tick_s))
        live, startup = schedule.cost_usd(curve.length_s)
        tl = schedule.timeline(curve.length_s) + [(curve.length_s, schedule.timeline(curve.length_s)[-1][1])]
        policies.append(DayPolicy(name, [t / 3600.0 for t, _ in tl], [c for _, c in tl], live + startup,
                                  schedule.changes))
    return DayReport(Path(curve.source).name, curve.length_s, [t / 3600.0 for t in curve.times_s],
                     list(curve.rates), policies)


def build_report(spec: Spec, options: PlanOptions | None = None, curve: DayCurve | None = None,
                 seed: int = 1, sim_s: float = 20.0) -> Report:
    """Compute the report for `spec` (randomness from `seed`: the simulations, then the day)."""
    options = options or PlanOptions()
    rng = np.random.default_rng(seed)
    app = spec.app
    rows = compare_rows(spec, None, options, simulate=False)
    rate_sweep = _sweep(spec, options, app.rate * np.array(RATE_FACTORS), "rate")
    slo_sweep = _sweep(spec, options, app.slo_ms * np.array(SLO_FACTORS), "slo_ms")
    latency = _latency(spec, rows, sim_s, rng)
    day = _day(spec, options, curve or DayCurve.from_csv(default_curve(), peak=app.rate), rng)
    return Report(spec, rows, rate_sweep, slo_sweep, sim_s, latency, day)
