"""The demo: the bundled traffic pipeline planned at a few rates and SLOs, lever by lever."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from rich.console import Console
from rich.table import Table

from skinflint.api import plan_spec
from skinflint.errors import InfeasibleError
from skinflint.planners import PlanOptions
from skinflint.report.tables import make_console, print_plan
from skinflint.spec.loader import load_spec, with_overrides
from skinflint.spec.types import Spec

# The usual way first, then one lever added at a time (planners/ablation.py, planners/optimal.py).
LEVERS = (
    ("naive", "usual way"),
    ("even-split-single", "+ batch-aware dispatch"),
    ("even-split", "+ several configs/module"),
    ("optimal", "+ exact split, shared workers = skinflint"),
)
WORKLOADS = ((100, 250), (300, 300), (300, 500), (1000, 300), (3000, 200), (3000, 400))


def bundled_app() -> Path:
    """Path of the bundled traffic-camera example."""
    return Path(str(resources.files("skinflint") / "data" / "examples" / "traffic" / "app.yaml"))


@dataclass(frozen=True)
class LeverRow:
    rate: float
    slo_ms: float
    costs: tuple[float | None, ...]  # $/h per lever, None where that way cannot meet the SLO


def lever_rows(spec: Spec, workloads=WORKLOADS) -> list[LeverRow]:  # noqa: ANN001
    """$/h of each lever on each (rate, SLO) workload."""
    rows = []
    for rate, slo in workloads:
        s = Spec(with_overrides(spec.app, rate=rate, slo_ms=slo, source="demo"), spec.hardware, spec.profiles)
        costs = []
        for name, _ in LEVERS:
            try:
                costs.append(plan_spec(s, planner=name, options=PlanOptions()).cost_per_hour)
            except InfeasibleError:
                costs.append(None)
        rows.append(LeverRow(rate, slo, tuple(costs)))
    return rows


def lever_table(rows: list[LeverRow]) -> Table:
    t = Table(title="What each lever saves ($/h; each column adds one lever to the one before)",
              title_justify="left")
    t.add_column("rate req/s", justify="right")
    t.add_column("SLO ms", justify="right")
    for _, label in LEVERS:
        t.add_column(label, justify="right")
    t.add_column("saving", justify="right")
    for r in rows:
        cells = [f"{c:.3f}" if c is not None else "no plan" for c in r.costs]
        first, last = r.costs[0], r.costs[-1]
        saving = f"{1 - last / first:.0%}" if first and last is not None else "—"
        t.add_row(f"{r.rate:g}", f"{r.slo_ms:g}", *cells, saving)
    return t


def run_demo(app_path: Path | None = None, console: Console | None = None) -> list[LeverRow]:
    """Print the plan of the bundled app and the lever-by-lever comparison; return the rows."""
    console = console or make_console()
    app_path = Path(app_path) if app_path else bundled_app()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the padded-batch notes are shown by `skinflint plan`
        spec = load_spec(app_path)
    console.print(f"[bold]skinflint demo[/bold]: {app_path}")
    if app_path == bundled_app():
        console.print("A traffic-camera pipeline: an SSD detector on every frame, then two classifiers on the "
                      "vehicles it finds (2.5 per frame). Public NVIDIA profiles; AWS on-demand prices.\n")
    print_plan(plan_spec(spec), console)
    console.print()
    rows = lever_rows(spec)
    console.print(lever_table(rows))
    savings = [1 - r.costs[-1] / r.costs[0] for r in rows if r.costs[0] and r.costs[-1] is not None]
    if savings:
        console.print(f"skinflint's plan costs {min(savings):.0%}–{max(savings):.0%} less than the usual way on "
                      "these workloads, every plan verified against MODEL.md.")
    return rows
