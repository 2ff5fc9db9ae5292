"""`skinflint compare APP.yaml`: every planner on the same app, side by side."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from skinflint.cli import app
from skinflint.commands.plan import parse_hardware
from skinflint.errors import SpecError
from skinflint.planners import PlanOptions, available
from skinflint.api import stated_traffic
from skinflint.report.compare import compare_rows, compare_table, worst_case
from skinflint.report.tables import make_console, plan_summary
from skinflint.spec.loader import load_spec


def parse_planners(value: Optional[str]) -> Optional[list[str]]:
    """`--planners nexus,harpagon` as a list checked against the registry (None = all of them)."""
    if value is None:
        return None
    names = [v.strip() for v in value.split(",")]
    known = available()
    unknown = [n for n in names if n not in known]
    if not all(names) or unknown:
        raise SpecError("command line", "--planners", f"unknown planner(s) {', '.join(map(repr, unknown or ['']))}",
                        f"choose from: {', '.join(known)}")
    return names


@app.command("compare")
def compare_command(
    app_file: Path = typer.Argument(..., help="Application YAML (FORMATS.md)."),
    planners: Optional[str] = typer.Option(None, "--planners", help="Comma-separated planners (default: all)."),
    rate: Optional[float] = typer.Option(None, "--rate", help="Override the app's rate (req/s)."),
    slo_ms: Optional[float] = typer.Option(None, "--slo-ms", help="Override the app's SLO (ms)."),
    utilization: float = typer.Option(1.0, "--utilization", help="Utilization cap u in (0, 1]."),
    headroom: float = typer.Option(0.0, "--headroom", help="Plan for rate x (1 + headroom)."),
    hardware: Optional[str] = typer.Option(None, "--hardware", help="Comma-separated hardware subset."),
    fanout_lag: bool = typer.Option(True, "--fanout-lag", hidden=True,
                                    help="No-op: W includes the fan-out lag by default (fanout: spread on a module opts out)."),
    traffic: Optional[str] = typer.Option(None, "--traffic", help="Arrivals every planner plans for: uniform "
                                          "(MODEL.md's worst case, target 1), poisson, mmpp:..., cameras:..., "
                                          "replay:file=F (default: the app file's traffic, else poisson)."),
    target: Optional[float] = typer.Option(None, "--target", help="Fraction of requests within the SLO "
                                           "(default 0.999; 1 with --traffic uniform)."),
    fanout: Optional[str] = typer.Option(None, "--fanout", help="together, poisson or spread (default together)."),
    jitter: Optional[str] = typer.Option(None, "--jitter", help="Batch-time jitter: profile, lognormal:CV or none."),
    seed: int = typer.Option(0, "--seed", help="Seed of the searches' simulations (the check uses others)."),
    fmt: str = typer.Option("table", "--format", help="table or json."),
) -> None:
    """Every planner on APP.yaml side by side, at equal attainment: each gets the same traffic and
    target and its own smallest headroom that reaches it; $/h, x skinflint, the headroom, what the
    plan attains on fresh seeds, planning time. --traffic uniform: MODEL.md's worst case, each
    plan simulated under uniform arrivals (p99, worst, in SLO)."""
    if fmt not in ("table", "json"):
        raise SpecError("command line", "--format", f"unknown format {fmt!r}", "use table or json")
    names = parse_planners(planners)
    spec = load_spec(app_file, rate=rate, slo_ms=slo_ms, hardware=parse_hardware(hardware))
    stated = stated_traffic(spec, traffic, target, fanout, jitter)
    options = PlanOptions(utilization=utilization, headroom=headroom, fanout_lag=fanout_lag, traffic=stated, seed=seed)
    rows = compare_rows(spec, names, options)
    if fmt == "json":
        print(json.dumps({"app": spec.app.name, "rate": spec.app.rate, "slo_ms": spec.app.slo_ms,
                          "utilization": utilization, "headroom": headroom, "fanout_lag": fanout_lag,
                          "traffic": stated.to_dict(), "target": stated.target, "seed": seed,
                          "rows": [r.to_dict() for r in rows]}, indent=2))
        return
    console = make_console()
    title = f"{spec.app.name}: {spec.app.rate:g} req/s, SLO {spec.app.slo_ms:g} ms, {stated.describe()}"
    console.print(compare_table(rows, title, traffic=not worst_case(options)))
    console.print(plan_summary(rows[0].plan).replace("total", f"{rows[0].planner}: total", 1))
    if not worst_case(options):
        console.print("attained: on seeds no planner used; headroom: the smallest on the grid that reaches the "
                      "target (+ slack: per-module headroom on top; own search: the planner searches the traffic)")
