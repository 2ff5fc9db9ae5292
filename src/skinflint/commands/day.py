"""`skinflint day APP.yaml --curve CURVE.csv`: the re-planning loop over a day, against static
peak provisioning and Nexus-style epochs (skinflint.daynight)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import numpy as np
import typer

from skinflint.cli import app
from skinflint.control import RateGrid
from skinflint.daynight import DayCurve, LoopSettings, PlanCache, compare_day, default_contenders, parse_bursts
from skinflint.errors import SpecError
from skinflint.planners import PlanOptions
from skinflint.report.console import make_console
from skinflint.report.day_table import day_markdown, day_table, span
from skinflint.spec.bounds import MAX_DAY_REQUESTS, check_requests
from skinflint.spec.loader import load_spec


@app.command("day")
def day_command(
    app_file: Path = typer.Argument(..., help="Application YAML (FORMATS.md)."),
    curve_file: Path = typer.Option(..., "--curve", help="CSV time_s,rate: the day's rate (req/s), from time 0."),
    bursts: Optional[str] = typer.Option(None, "--bursts", help="Random bursts: count=N,factor=F,duration_s=S."),
    peak: Optional[float] = typer.Option(None, "--peak", help="Rescale the curve so that its peak is this rate."),
    headroom: float = typer.Option(0.15, "--headroom", help="Burst headroom of the loop and of static peak."),
    startup_s: float = typer.Option(30.0, "--startup-s", help="Seconds for new workers to start before a switch."),
    epoch_s: float = typer.Option(30.0, "--epoch-s", help="Epoch of the Nexus-style baseline."),
    grid_step: float = typer.Option(0.025, "--grid-step", help="Targets are rounded up to steps of this share."),
    planner: str = typer.Option("optimal", "--planner", help="The planner every policy re-plans with."),
    early_close: bool = typer.Option(True, "--early-close/--no-early-close", help="Deadline-aware early close."),
    seed: int = typer.Option(1, "--seed", help="Seed of the arrivals and bursts."),
    fmt: str = typer.Option("table", "--format", help="table, json or markdown."),
    max_requests: int = typer.Option(MAX_DAY_REQUESTS, "--max-requests", help="Refuse curves of more requests."),
) -> None:
    """Simulate a day of re-planning on a rate curve: $ for the day, SLO attainment, plan changes."""
    if fmt not in ("table", "json", "markdown"):
        raise SpecError("command line", "--format", f"unknown format {fmt!r}", "use table, json or markdown")
    for name, value in (("--headroom", headroom), ("--startup-s", startup_s)):
        if not value >= 0:
            raise SpecError("command line", name, f"must be >= 0 (got {value})", "pass a non-negative number")
    for name, value in (("--epoch-s", epoch_s), ("--grid-step", grid_step)):
        if not value > 0:
            raise SpecError("command line", name, f"must be > 0 (got {value})", "pass a positive number")
    spec = load_spec(app_file)
    rng = np.random.default_rng(seed)
    curve = DayCurve.from_csv(curve_file, peak=peak)
    base_peak = max(curve.rates)
    spec_bursts = parse_bursts(bursts)
    curve = curve.with_bursts(spec_bursts.windows(curve.length_s, rng), spec_bursts.factor)
    check_requests(float(np.trapezoid(curve.rates, curve.times_s)), max_requests, curve_file, "rate")
    grid = RateGrid(1.0, grid_step)
    plans = PlanCache(spec, planner, PlanOptions())
    contenders = default_contenders(LoopSettings(startup_s=startup_s), grid, epoch_s, headroom)
    results = compare_day(spec, curve, rng, plans, contenders, early_close=early_close)
    meta = {"app": spec.app.name, "slo_ms": spec.app.slo_ms, "curve": str(curve_file), "length_s": curve.length_s,
            "peak_rate": max(curve.rates), "curve_peak_rate": base_peak, "bursts": vars(spec_bursts), "startup_s": startup_s,
            "headroom": headroom, "planner": planner, "early_close": early_close, "seed": seed,
            "plans_made": len(plans), "planning_s": plans.planning_s}
    if fmt == "json":
        print(json.dumps(meta | {"results": [r.to_dict() for r in results]}, indent=2, default=float))
        return
    if fmt == "markdown":
        print(day_markdown(results, curve.length_s))
        return
    bursts_text = f" ({max(curve.rates):.1f} in bursts)" if max(curve.rates) > base_peak * (1 + 1e-9) else ""
    make_console().print(day_table(results, f"{spec.app.name} over {span(curve.length_s)} of {curve_file.name}: "
                                            f"peak {base_peak:g} req/s{bursts_text}, SLO {spec.app.slo_ms:g} ms",
                                   curve.length_s))
