"""`render_report(report)`: the HTML page of a computed report (report.build.Report).

The plan, its cost by module and hardware, $/h, $/month (730 h) and $ per million requests,
savings against every baseline planner, cost against rate and against SLO, latency CDFs from
the simulator, and the $/h of the re-planning loop over a day. Rendering only: nothing here
plans or simulates.
"""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path

import numpy as np

from skinflint.plan import Plan
from skinflint.report import html, plots
from skinflint.report.build import DayReport, Report
from skinflint.spec.types import Spec

HOURS_PER_MONTH = 730.0


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


def plan_section(plan: Plan) -> str:
    """The plan as a table (one row per group, then the shared workers)."""
    rows = [(m.name, m.model.split("|")[0], f"{g.workers} × {g.hardware} b={g.batch_size}", f"{m.budget_ms:.1f}",
             f"{g.worst_latency_ms:.1f}", f"{g.cost_per_hour:.3f}") for m in plan.modules for g in m.groups]
    rows += [("(shared)", ", ".join(f"{s.module} b={s.batch_size}" for s in sw.slots), f"1 × {sw.hardware}",
              f"cycle {sw.cycle_ms:.1f}", "", f"{sw.price_per_hour:.3f}") for sw in plan.shared_workers]
    return html.table(("module", "model", "workers", "budget ms", "worst ms", "$/h"), rows)


def _headline(report: Report) -> str:
    plan = report.plan
    per_million = plan.cost_per_hour / (report.spec.app.rate * 3600.0) * 1e6
    return html.kpis([("$/h", f"{plan.cost_per_hour:.2f}"),
                      ("$/month (730 h)", f"{plan.cost_per_hour * HOURS_PER_MONTH:,.0f}"),
                      ("$ per million requests", f"{per_million:.3f}"),
                      ("× fluid lower bound", f"{plan.gap:.3f}"),
                      ("workers", str(sum(m.workers for m in plan.modules) + len(plan.shared_workers)))])


def _savings(report: Report) -> str:
    cost = report.plan.cost_per_hour
    rows = [(r.planner, f"{r.plan.cost_per_hour:.3f}" if r.plan else r.message,
             f"{100 * (1 - cost / r.plan.cost_per_hour):.1f} %" if r.plan else "—",
             f"{r.plan.cost_per_hour * HOURS_PER_MONTH - cost * HOURS_PER_MONTH:,.0f}" if r.plan else "—")
            for r in report.rows]
    return html.table(("planner", "$/h", "skinflint saves", "$/month more"), rows)


def _costs(report: Report) -> str:
    by_module, by_hw = cost_by(report.plan)
    return (html.image(plots.bars(list(by_module), list(by_module.values()), "$/h by module", "$/h"), "by module")
            + html.image(plots.bars(list(by_hw), list(by_hw.values()), "$/h by hardware", "$/h"), "by hardware"))


def _sweeps(report: Report) -> str:
    app = report.spec.app
    return (html.image(plots.lines({"optimal": report.rate_sweep}, "cost against rate", "req/s", "$/h",
                                   vline=app.rate, vlabel="app rate"), "cost against rate")
            + html.image(plots.lines({"optimal": report.slo_sweep}, "cost against SLO", "SLO (ms)", "$/h",
                                     vline=app.slo_ms, vlabel="app SLO"), "cost against SLO"))


def _latency(report: Report) -> str:
    samples = {run.label: run.latency_ms for run in report.latency}
    attain = [(run.label, f"{100 * run.slo_attainment:.2f} %", f"{np.percentile(run.latency_ms, 99):.1f}")
              for run in report.latency]
    return (html.image(plots.cdfs(samples, report.spec.app.slo_ms, f"{report.sim_s:g} s simulated"), "CDF")
            + html.table(("run", "within SLO", "p99 ms"), attain))


def _day(day: DayReport) -> str:
    """$/h over the day for each re-planning policy, and the day's rate."""
    series = {p.name: (p.hours, p.cost_per_hour) for p in day.policies}
    rows = [(p.name, f"{p.dollars:.2f}", str(p.changes)) for p in day.policies]
    fig = plots.lines(series, f"$/h over the day ({math.ceil(day.length_s / 3600)} h of {day.source})",
                      "hour", "$/h", step=True)
    rate_fig = plots.lines({"offered rate": (day.rate_hours, day.rates)}, "the day's rate", "hour", "req/s")
    return (f'<div class="grid">{html.image(fig, "cost over the day")}{html.image(rate_fig, "rate")}</div>'
            + html.table(("policy", "$ for the day", "plan changes"), rows)
            + '<p class="note">The loop alone (no latency simulation; drain tails not counted); targets on a 5 % '
              "grid. `skinflint day` simulates every request and reports SLO attainment.</p>")


def render_report(report: Report) -> str:
    """The report page as one self-contained HTML string."""
    app = report.spec.app
    sections = [
        ("Plan", _headline(report) + plan_section(report.plan)),
        ("Cost by module and hardware", f'<div class="grid">{_costs(report)}</div>'),
        ("Savings against each baseline", _savings(report)),
        ("Cost against rate and against SLO", f'<div class="grid">{_sweeps(report)}</div>'),
        ("Latency from simulation", _latency(report)),
        ("Cost over a day", _day(report.day)),
    ]
    return html.page(f"skinflint report: {app.name} at {app.rate:g} req/s, SLO {app.slo_ms:g} ms", sections,
                     "Made by skinflint report. Poisson runs use deadline-aware early close; "
                     + prices_note(report.spec))


def prices_note(spec: Spec) -> str:
    """Where the prices come from: a bundled catalog, or the user's own hardware file."""
    source = str(spec.sources.get("hardware", ""))
    if source.startswith("catalog:"):
        return f"prices are {source}'s on-demand $/h."
    return f"prices are the $/h of {Path(source).name or 'the hardware file'}."
