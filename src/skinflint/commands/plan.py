"""`skinflint plan APP.yaml`: the cheapest plan that meets the SLO."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from skinflint.api import plan as make_plan
from skinflint.api import plan_fleet_files
from skinflint.cli import app
from skinflint.errors import SpecError
from skinflint.report.tables import print_fleet, print_plan


def parse_hardware(value: Optional[str]) -> Optional[list[str]]:
    """`--hardware T4,A10G` as a list (None = the whole catalog)."""
    if value is None:
        return None
    names = [v.strip() for v in value.split(",")]
    if not all(names):
        raise SpecError("command line", "--hardware", f"empty name in {value!r}", "write e.g. --hardware T4,A10G")
    return names


@app.command("plan")
def plan_command(
    app_files: list[Path] = typer.Argument(..., help="Application YAML (FORMATS.md); several plan a fleet together."),
    rate: Optional[float] = typer.Option(None, "--rate", help="Override the app's rate (req/s)."),
    slo_ms: Optional[float] = typer.Option(None, "--slo-ms", help="Override the app's SLO (ms)."),
    planner: str = typer.Option("optimal", "--planner", help="Planner name (default: the exact one)."),
    utilization: float = typer.Option(1.0, "--utilization", help="Utilization cap u in (0, 1]."),
    headroom: float = typer.Option(0.0, "--headroom", help="Plan for rate x (1 + headroom)."),
    hardware: Optional[str] = typer.Option(None, "--hardware", help="Comma-separated hardware subset."),
    sharing: bool = typer.Option(True, "--sharing/--no-sharing", help="Residuals may share workers "
                                 "(--no-sharing: dedicated workers only)."),
    pools: bool = typer.Option(False, "--pools/--no-pools", help="Modules running the same model may share one pool."),
    fanout_lag: bool = typer.Option(True, "--fanout-lag", hidden=True,
                                    help="No-op: W includes the fan-out lag by default (fanout: spread on a module opts out)."),
    fmt: str = typer.Option("table", "--format", help="table or json."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Also write the plan JSON here."),
) -> None:
    """Plan APP.yaml: per-module budgets and workers, $/h, and the gap to the lower bound."""
    if fmt not in ("table", "json"):
        raise SpecError("command line", "--format", f"unknown format {fmt!r}", "use table or json")
    if len(app_files) > 1:
        fleet = plan_fleet_files(app_files, rate=rate, slo_ms=slo_ms, planner=planner, utilization=utilization,
                                 headroom=headroom, hardware=parse_hardware(hardware), sharing=sharing)
        if output is not None:
            output.write_text(fleet.to_json() + "\n", encoding="utf-8")
        print(fleet.to_json()) if fmt == "json" else print_fleet(fleet)
        return
    result = make_plan(app_files[0], planner=planner, rate=rate, slo_ms=slo_ms, utilization=utilization,
                       headroom=headroom, hardware=parse_hardware(hardware), sharing=sharing,
                       fanout_lag=fanout_lag, pools=pools)
    if output is not None:
        output.write_text(result.to_json() + "\n", encoding="utf-8")
    if fmt == "json":
        print(result.to_json())
    else:
        print_plan(result)
