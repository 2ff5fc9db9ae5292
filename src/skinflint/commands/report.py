"""`skinflint report APP.yaml [-o report.html]`: one self-contained HTML page, computed by
skinflint.report.build and rendered by skinflint.report.page."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from skinflint.cli import app
from skinflint.errors import SpecError
from skinflint.planners import PlanOptions
from skinflint.spec.loader import load_spec


@app.command("report")
def report_command(
    app_file: Path = typer.Argument(..., help="Application YAML (FORMATS.md)."),
    output: Path = typer.Option(Path("report.html"), "-o", "--output", help="Where to write the HTML page."),
    curve: Optional[Path] = typer.Option(None, "--curve", help="Day curve CSV time_s,rate (default: the bundled "
                                         "two-peak city day scaled to the app's rate)."),
    headroom: float = typer.Option(0.0, "--headroom", help="Plan for rate x (1 + headroom)."),
    seed: int = typer.Option(1, "--seed", help="Seed of the simulations."),
) -> None:
    """Write the plan, its cost, savings, sweeps, latency CDFs and a day's cost as one HTML page."""
    try:
        from skinflint.daynight import DayCurve
        from skinflint.report.build import build_report
        from skinflint.report.page import render_report
    except ImportError as e:  # matplotlib is the `plots` extra
        raise SpecError("report", "matplotlib", f"cannot import: {e}", "pip install 'skinflint[plots]'") from None
    spec = load_spec(app_file)
    page = render_report(build_report(spec, PlanOptions(headroom=headroom), DayCurve.from_csv(curve) if curve else None,
                                      seed))
    try:
        output.write_text(page)
    except OSError as e:
        raise SpecError(output, "", f"cannot write: {e.strerror}", "choose a writable path") from None
    print(f"wrote {output} ({len(page) / 1024:.0f} KiB)")
