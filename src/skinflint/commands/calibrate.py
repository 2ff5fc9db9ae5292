"""`skinflint calibrate MEASURED.csv --profiles OLD.csv [-o NEW.csv]`: measured batch latencies
to an updated profile, with the drift per configuration (skinflint.calibration)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from skinflint.calibration import calibrate, drift_summary, old_profile, profile_csv, read_measurements
from skinflint.cli import app
from skinflint.errors import SpecError


@app.command("calibrate")
def calibrate_command(
    measured: Path = typer.Argument(..., help="CSV model,hardware,batch_size,latency_ms: one row per batch run."),
    profiles: Path = typer.Option(..., "--profiles", help="The profile CSV (or YAML) the plan was made with."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="Write the new profile CSV here."),
    statistic: str = typer.Option("median", "--statistic", help="median, p90 or p99 of each configuration's runs."),
    min_samples: int = typer.Option(5, "--min-samples", help="Fewer runs than this keep the old value."),
    scale_unmeasured: bool = typer.Option(True, "--scale-unmeasured/--keep-unmeasured",
                                          help="Scale unmeasured batch sizes by their pair's median drift."),
    fmt: str = typer.Option("table", "--format", help="table or json."),
) -> None:
    """Update a profile from measured batch latencies; show the drift against the old one."""
    if fmt not in ("table", "json"):
        raise SpecError("command line", "--format", f"unknown format {fmt!r}", "use table or json")
    rows = calibrate(old_profile(profiles), read_measurements(measured), statistic, min_samples, scale_unmeasured)
    if output is not None:
        try:
            output.write_text(profile_csv(rows))
        except OSError as e:
            raise SpecError(output, "", f"cannot write: {e.strerror}", "choose a writable path") from None
    if fmt == "json":
        print(json.dumps({"statistic": statistic, "summary": drift_summary(rows),
                          "rows": [r.to_dict() for r in rows]}, indent=2))
        return
    from skinflint.report.console import make_console
    from rich.table import Table

    table = Table(title=f"calibration of {profiles.name} from {measured.name} ({statistic} per configuration)")
    for c in ("model", "hardware", "batch", "old ms", "new ms", "drift", "runs", "source"):
        table.add_column(c, justify="left" if c in ("model", "hardware", "source") else "right")
    for r in rows:
        if r.source == "kept" and not r.samples:
            continue
        table.add_row(r.model, r.hardware, str(r.batch_size), "—" if r.old_ms is None else f"{r.old_ms:.3f}",
                      f"{r.new_ms:.3f}", "—" if r.drift is None else f"{100 * r.drift:+.1f} %", str(r.samples),
                      r.source)
    console = make_console()
    console.print(table)
    s = drift_summary(rows)
    console.print(f"{', '.join(f'{n} {k}' for k, n in s['by_source'].items())}; median drift of measured "
                  f"configurations {100 * s['median_drift']:+.1f} %" + (f"; wrote {output}" if output else ""))
