"""`build_report(spec, ...)`: everything the HTML report shows, computed and rendered.

The plan, its cost by module and hardware, $/h, $/month (730 h) and $ per million requests,
savings against every baseline planner (report.compare.compare_rows), cost against rate and
against SLO, latency CDFs from the simulator, and the $/h of the re-planning loop over a day.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import replace
from importlib import resources
from pathlib import Path

import numpy as np

from skinflint.api import plan_spec
from skinflint.control import RateGrid
from skinflint.daynight import DayCurve, PlanCache, default_contenders, run_loop
from skinflint.daynight.loop import counts_per_tick
from skinflint.errors import InfeasibleError
from skinflint.plan import Plan
from skinflint.planners import PlanOptions
from skinflint.report import html, plots
from skinflint.report.compare import compare_rows
from skinflint.sim import simulate
from skinflint.spec.types import Spec

HOURS_PER_MONTH = 730.0


def default_curve() -> Path:
    """The bundled two-peak city day (time_s,rate)."""
    return Path(str(resources.files("skinflint") / "data" / "curves" / "city_day.csv"))


def cost_by(plan: Plan) -> tuple[dict[str, float], dict[str, float]]:
    """$/h by module and by hardware (shared workers as their own 'shared' entry by module)."""
    by_module: dict[str, float] = defaultdict(float)
    by_hw: dict[str, float] = defaultdict(float)
    for m in plan.modules:
        for g in m.groups:
            by_module[m.name] += g.cost_per_hour
            by_hw[g.hardware] += g.cost_per_hour
    for s in plan.shared_workers:
        by_module["(shared)"] += s.price_per_hour
        by_hw[s.hardware] += s.price_per_hour
    return dict(by_module), dict(by_hw)


def _at(spec: Spec, rate: float | None = None, slo_ms: float | None = None) -> Spec:
    return replace(spec, app=replace(spec.app, rate=rate or spec.app.rate, slo_ms=slo_ms or spec.app.slo_ms))


def _sweep(spec: Spec, options: PlanOptions, values: np.ndarray, field: str) -> tuple[list[float], list[float]]:
    xs, ys = [], []
    for v in values:
        try:
            p = plan_spec(_at(spec, **{field: float(v)}), options=options)
        except InfeasibleError:
            continue
        xs.append(float(v))
        ys.append(p.cost_per_hour)
    return xs, ys


def plan_section(plan: Plan) -> str:
    """The plan as a table (one row per group, then the shared workers)."""
    rows = [(m.name, m.model.split("|")[0], f"{g.workers} × {g.hardware} b={g.batch_size}", f"{m.budget_ms:.1f}",
             f"{g.worst_latency_ms:.1f}", f"{g.cost_per_hour:.3f}") for m in plan.modules for g in m.groups]
    rows += [("(shared)", ", ".join(f"{s.module} b={s.batch_size}" for s in sw.slots), f"1 × {sw.hardware}",
              f"cycle {sw.cycle_ms:.1f}", "", f"{sw.price_per_hour:.3f}") for sw in plan.shared_workers]
    return html.table(("module", "model", "workers", "budget ms", "worst ms", "$/h"), rows)


def build_report(spec: Spec, options: PlanOptions | None = None, curve: DayCurve | None = None,
                 seed: int = 1, sim_s: float = 20.0) -> str:
    """The report page for `spec` as one self-contained HTML string."""
    options = options or PlanOptions()
    rng = np.random.default_rng(seed)
    app = spec.app
    rows = compare_rows(spec, None, options, simulate=False)
    plan = rows[0].plan
    assert plan is not None   # compare_rows raises when the reference finds no plan
    per_million = plan.cost_per_hour / (app.rate * 3600.0) * 1e6
    by_module, by_hw = cost_by(plan)
    headline = html.kpis([("$/h", f"{plan.cost_per_hour:.2f}"),
                          ("$/month (730 h)", f"{plan.cost_per_hour * HOURS_PER_MONTH:,.0f}"),
                          ("$ per million requests", f"{per_million:.3f}"),
                          ("× fluid lower bound", f"{plan.gap:.3f}"),
                          ("workers", str(sum(m.workers for m in plan.modules) + len(plan.shared_workers)))])
    savings = [(r.planner, f"{r.plan.cost_per_hour:.3f}" if r.plan else r.message,
                f"{100 * (1 - plan.cost_per_hour / r.plan.cost_per_hour):.1f} %" if r.plan else "—",
                f"{r.plan.cost_per_hour * HOURS_PER_MONTH - plan.cost_per_hour * HOURS_PER_MONTH:,.0f}"
                if r.plan else "—") for r in rows]
    cost_fig = html.image(plots.bars(list(by_module), list(by_module.values()), "$/h by module", "$/h"), "by module") + \
        html.image(plots.bars(list(by_hw), list(by_hw.values()), "$/h by hardware", "$/h"), "by hardware")
    rate_x, rate_y = _sweep(spec, options, app.rate * np.array([0.1, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0]), "rate")
    slo_x, slo_y = _sweep(spec, options, app.slo_ms * np.array([0.4, 0.5, 0.6, 0.75, 1.0, 1.5, 2.0, 3.0]), "slo_ms")
    sweeps = html.image(plots.lines({"optimal": (rate_x, rate_y)}, "cost against rate", "req/s", "$/h",
                                    vline=app.rate, vlabel="app rate"), "cost against rate") + \
        html.image(plots.lines({"optimal": (slo_x, slo_y)}, "cost against SLO", "SLO (ms)", "$/h",
                               vline=app.slo_ms, vlabel="app SLO"), "cost against SLO")
    samples, attain = {}, []
    for label, p, arrivals in [("optimal, uniform", plan, "uniform"), ("optimal, Poisson", plan, "poisson")] + \
            [(f"{r.planner}, Poisson", r.plan, "poisson") for r in rows[1:] if r.planner in ("nexus", "harpagon")
             and r.plan is not None]:
        res = simulate(p, spec, arrivals, sim_s, rng, early_close=arrivals != "uniform")
        samples[label] = res.latency_ms
        attain.append((label, f"{100 * res.slo_attainment:.2f} %", f"{np.percentile(res.latency_ms, 99):.1f}"))
    day_html = _day_section(spec, options, curve or DayCurve.from_csv(default_curve(), peak=app.rate), rng)
    sections = [
        ("Plan", headline + plan_section(plan)),
        ("Cost by module and hardware", f'<div class="grid">{cost_fig}</div>'),
        ("Savings against each baseline", html.table(("planner", "$/h", "skinflint saves", "$/month more"), savings)),
        ("Cost against rate and against SLO", f'<div class="grid">{sweeps}</div>'),
        ("Latency from simulation", html.image(plots.cdfs(samples, app.slo_ms, f"{sim_s:g} s simulated"), "CDF")
         + html.table(("run", "within SLO", "p99 ms"), attain)),
        ("Cost over a day", day_html),
    ]
    return html.page(f"skinflint report: {app.name} at {app.rate:g} req/s, SLO {app.slo_ms:g} ms", sections,
                     "Made by skinflint report. Poisson runs use deadline-aware early close; "
                     + prices_note(spec))


def prices_note(spec: Spec) -> str:
    """Where the prices come from: a bundled catalog, or the user's own hardware file."""
    source = str(spec.sources.get("hardware", ""))
    if source.startswith("catalog:"):
        return f"prices are {source}'s on-demand $/h."
    return f"prices are the $/h of {Path(source).name or 'the hardware file'}."


def _day_section(spec: Spec, options: PlanOptions, curve: DayCurve, rng: np.random.Generator) -> str:
    """$/h over the day for each re-planning policy (the loop only; `skinflint day` adds latency)."""
    plans = PlanCache(spec, "optimal", options)
    times = curve.arrival_times_ms(rng)
    series, rows = {}, []
    for name, make, settings in default_contenders(grid=RateGrid(1.0, 0.05)):
        counts = counts_per_tick(times, curve.length_s, settings.tick_s)
        first = counts[: max(1, int(round(60.0 / settings.tick_s)))]
        schedule = run_loop(make(curve), counts, plans, settings, float(first.sum()) / (first.size * settings.tick_s))
        live, startup = schedule.cost_usd(curve.length_s)
        tl = schedule.timeline(curve.length_s) + [(curve.length_s, schedule.timeline(curve.length_s)[-1][1])]
        series[name] = ([t / 3600.0 for t, _ in tl], [c for _, c in tl])
        rows.append((name, f"{live + startup:.2f}", str(schedule.changes)))
    rate_h = [t / 3600.0 for t in curve.times_s]
    fig = plots.lines(series, f"$/h over the day ({math.ceil(curve.length_s / 3600)} h of {Path(curve.source).name})",
                      "hour", "$/h", step=True)
    rate_fig = plots.lines({"offered rate": (rate_h, list(curve.rates))}, "the day's rate", "hour", "req/s")
    return (f'<div class="grid">{html.image(fig, "cost over the day")}{html.image(rate_fig, "rate")}</div>'
            + html.table(("policy", "$ for the day", "plan changes"), rows)
            + '<p class="note">The loop alone (no latency simulation; drain tails not counted); targets on a 5 % '
              "grid. `skinflint day` simulates every request and reports SLO attainment.</p>")
